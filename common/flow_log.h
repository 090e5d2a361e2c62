/* common/flow_log.h: VPC Flow Logs written from a replay (natlb replay --flow-log FILE).
 *
 * Follows the Amazon VPC User Guide, "Logging IP traffic using VPC Flow Logs": "Flow log records"
 * (aggregation interval, default format, custom format, available fields and their versions) and
 * "Flow log record examples" (the NAT gateway's records: its own private address as srcaddr or
 * dstaddr, the packet's in pkt-srcaddr and pkt-dstaddr).
 *
 * Model: each link a stage sits on is one network interface of that stage, named eni-0 and 16 hex
 * digits of a hash of "STAGE/left" or "STAGE/right" (deterministic), in the subnet of that link.
 * A packet that crosses a stage makes an ingress record on the interface it arrives on and, when
 * the stage forwards it, an egress record on the other; a drop is REJECT on the ingress interface;
 * a packet a stage emits is egress on the interface it leaves by; a stage the packet is routed
 * around (a NAT gateway behind a gateway endpoint) sees nothing.  A record is one flow
 * (interface, direction, action, protocol, packet addresses and ports) within one aggregation
 * window; windows are aligned to multiples of the interval in capture time.
 *
 * Invariants: no allocation per packet once the flow table has grown to the busiest window (it
 * doubles when half full); records are written at the end of their window, in the order their
 * flows were first seen, and the whole file appears under its name only at flow_log_finish().
 */
#ifndef NATLB_FLOW_LOG_H
#define NATLB_FLOW_LOG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/packet-t.h"
#include "common/scenario-t.h"
#include "common/stage-t.h"

/* The account that owns every interface of a replay: the example account of AWS's documentation. */
#define FLOW_LOG_ACCOUNT_ID "123456789010"
#define FLOW_LOG_DEFAULT_INTERVAL 600 /* seconds: AWS's default maximum aggregation interval */
#define FLOW_LOG_DEFAULT_FORMAT                                                                       \
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} " \
	"${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

/* The fields natlb writes, with the flow log version that introduced each. */
#define foreach_flow_log_field                      \
	X(VERSION, "version", 2)                    \
	X(ACCOUNT_ID, "account-id", 2)              \
	X(INTERFACE_ID, "interface-id", 2)          \
	X(SRCADDR, "srcaddr", 2)                    \
	X(DSTADDR, "dstaddr", 2)                    \
	X(SRCPORT, "srcport", 2)                    \
	X(DSTPORT, "dstport", 2)                    \
	X(PROTOCOL, "protocol", 2)                  \
	X(PACKETS, "packets", 2)                    \
	X(BYTES, "bytes", 2)                        \
	X(START, "start", 2)                        \
	X(END, "end", 2)                            \
	X(ACTION, "action", 2)                      \
	X(LOG_STATUS, "log-status", 2)              \
	X(VPC_ID, "vpc-id", 3)                      \
	X(SUBNET_ID, "subnet-id", 3)                \
	X(INSTANCE_ID, "instance-id", 3)            \
	X(TCP_FLAGS, "tcp-flags", 3)                \
	X(TYPE, "type", 3)                          \
	X(PKT_SRCADDR, "pkt-srcaddr", 3)            \
	X(PKT_DSTADDR, "pkt-dstaddr", 3)            \
	X(PKT_SRC_AWS_SERVICE, "pkt-src-aws-service", 5) \
	X(PKT_DST_AWS_SERVICE, "pkt-dst-aws-service", 5) \
	X(FLOW_DIRECTION, "flow-direction", 5)      \
	X(TRAFFIC_PATH, "traffic-path", 5)

enum flow_log_field {
#define X(name, text, version) FLOW_LOG_FIELD_##name,
	foreach_flow_log_field
#undef X
	FLOW_LOG_FIELD_N
};

const char *flow_log_field_name(enum flow_log_field f);
unsigned flow_log_field_version(enum flow_log_field f);
/* The field named name (without ${}), or FLOW_LOG_FIELD_N. */
enum flow_log_field flow_log_field_lookup(const char *name);

#define FLOW_LOG_MAX_FIELDS 64

/* A --flow-log-format: the fields in order, and the version a record of them carries (the highest
 * version among them, as AWS writes it). */
struct flow_log_format {
	enum flow_log_field fields[FLOW_LOG_MAX_FIELDS];
	unsigned n_fields;
	unsigned version;
};

/* Parse '${version} ${srcaddr} ...'.  FALSE with one sentence naming the offending token. */
gboolean flow_log_format_parse(const char *text, struct flow_log_format *out, GError **err);

/* traffic-path values (egress only), as the field's documentation numbers them. */
enum flow_log_traffic_path {
	FLOW_LOG_PATH_NONE = 0,             /* ingress: "-" */
	FLOW_LOG_PATH_SAME_VPC = 1,         /* through another resource in the same VPC */
	FLOW_LOG_PATH_GATEWAY_ENDPOINT = 7, /* through a gateway VPC endpoint */
	FLOW_LOG_PATH_INTERNET_GATEWAY = 8, /* through an internet gateway */
};

struct flow_log; /* opaque */

/* Opens PATH.partial and writes the header line (the field names, as flow logs delivered to S3
 * begin).  interval_s is 60 or 600. */
struct flow_log *flow_log_open(const char *path, const struct scenario *sc, unsigned interval_s,
                               const struct flow_log_format *fmt, GError **err);

/* One packet on one interface of st: the side it is on, whether it arrives (ingress) or leaves,
 * whether the stage rejected it (dropped), in travel direction dir.  p is IPv4 and decoded.  The
 * hot path: a hash lookup, counters; records of earlier windows are written first. */
void flow_log_packet(struct flow_log *fl, const struct stage *st, enum side side, bool ingress, bool reject,
                     enum hop_dir dir, const struct packet *p, int64_t ts_ns);

/* The interface name of (st, side), for tests and messages: "eni-0..." (static storage of fl). */
const char *flow_log_interface_name(const struct flow_log *fl, const struct stage *st, enum side side);

/* One line per interface, "  eni-0... natgw left (link vpc, 10.0.0.220)", for the replay's report. */
void flow_log_describe_interfaces(const struct flow_log *fl, GString *out);

/* Write out the last window, close, rename PATH.partial to PATH.  FALSE (nothing left) on error. */
gboolean flow_log_finish(struct flow_log *fl, GError **err);
/* Records written so far (after finish: all). */
uint64_t flow_log_records(const struct flow_log *fl);
/* Frees fl; removes the temporary file unless flow_log_finish() renamed it. */
void flow_log_free(struct flow_log *fl);

#endif
