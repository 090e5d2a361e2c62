/* common/findings.h: GuardDuty-style findings computed from flow-log records and DNS queries (natlb findings).
 *
 * Follows the Amazon GuardDuty User Guide, "GuardDuty EC2 finding types" (type names, what each
 * means, default severities) and "Severity levels of GuardDuty findings" (Low 1.0-3.9, Medium
 * 4.0-6.9, High 7.0-8.9; shown here as 2, 5 and 8).  GuardDuty does not publish its thresholds:
 * natlb's are settings (findings_setting_*), each with a default and a sentence for --help.
 *
 * Model: a flow seen on several interfaces (each stage a packet crossed) is one flow: records are
 * grouped by the packet's 5-tuple (pkt-srcaddr, pkt-dstaddr, ports, protocol) and a flow counts
 * the packets and bytes of the interface that saw most of it.  The instance (the resource) is the
 * end in private address space (RFC 1918, RFC 6598); a flow between two private or two public
 * addresses is no instance talking to a remote host, and raises nothing.
 */
#ifndef NATLB_FINDINGS_H
#define NATLB_FINDINGS_H

#include <glib.h>
#include <stdint.h>

#include "common/flow_log_reader.h"

#define foreach_finding_type                                                                                   \
	X(PORTSCAN, "Recon:EC2/Portscan", "an instance reaches many ports of one remote host")                 \
	X(PORT_PROBE, "Recon:EC2/PortProbeUnprotectedPort", "remote hosts probe an open port of an instance") \
	X(SSH_BRUTE_FORCE, "UnauthorizedAccess:EC2/SSHBruteForce", "many SSH connections between an instance and one host") \
	X(RDP_BRUTE_FORCE, "UnauthorizedAccess:EC2/RDPBruteForce", "many RDP connections between an instance and one host") \
	X(BITCOIN_TOOL, "CryptoCurrency:EC2/BitcoinTool.B", "an instance talks to a mining pool's port")         \
	X(BITCOIN_TOOL_DNS, "CryptoCurrency:EC2/BitcoinTool.B!DNS", "an instance looks up a mining pool's name")  \
	X(DOS_TCP, "Backdoor:EC2/DenialOfService.Tcp", "an instance floods one host over TCP")                 \
	X(DOS_UDP, "Backdoor:EC2/DenialOfService.Udp", "an instance floods one host over UDP")                 \
	X(TRAFFIC_VOLUME, "Behavior:EC2/TrafficVolumeUnusual", "an instance sends far more to one host than to its others")

enum finding_type {
#define X(name, type, what) FINDING_##name,
	foreach_finding_type
#undef X
	FINDING_TYPE_N
};

const char *finding_type_name(enum finding_type t);

/* The thresholds: name (the option, --NAME), default, and what it means. */
#define foreach_findings_setting                                                                                \
	X(PORTSCAN_PORTS, "portscan-ports", 20, "distinct TCP ports of one remote host an instance reaches")     \
	X(PROBE_SOURCES, "probe-sources", 3, "remote hosts whose short, accepted flows reach one port of an instance") \
	X(PROBE_PACKETS, "probe-packets", 3, "a probe is a flow of at most this many packets")                  \
	X(BRUTEFORCE_CONNECTIONS, "bruteforce-connections", 20, "SSH (22) or RDP (3389) connections between an instance and one host") \
	X(MINING_FLOWS, "mining-flows", 1, "flows from an instance to a mining-pool port (3333, 4444, 5555, 7777, 14444, 45700) of one host") \
	X(MINING_QUERIES, "mining-queries", 1, "DNS queries of an instance for names under a mining pool's domain")  \
	X(DOS_PPS, "dos-pps", 5000, "packets per second from an instance to one host, over the flows' span (at least 1 s)") \
	X(VOLUME_FACTOR, "volume-factor", 10, "bytes to one host, as a multiple of the median over the instance's hosts (3 hosts at least)") \
	X(VOLUME_MIN_BYTES, "volume-min-bytes", 10000000, "and at least this many bytes")

enum findings_setting {
#define X(name, opt, def, what) FINDINGS_SETTING_##name,
	foreach_findings_setting
#undef X
	FINDINGS_SETTING_N
};

struct findings_settings {
	uint64_t v[FINDINGS_SETTING_N];
};

void findings_settings_default(struct findings_settings *s);
const char *findings_setting_name(enum findings_setting s);
const char *findings_setting_what(enum findings_setting s);
uint64_t findings_setting_default(enum findings_setting s);

/* One DNS question seen in a capture. */
struct dns_query {
	uint64_t frame;      /* in the capture, from 1 */
	uint32_t client;     /* the querier */
	int64_t ts;          /* Unix seconds */
	char name[256];      /* dotted, lower case */
};

struct finding {
	enum finding_type type;
	double severity;          /* 2 Low, 5 Medium, 8 High */
	uint32_t resource;        /* the instance */
	const char *role;         /* "actor" or "target" for the brute-force findings; "" otherwise */
	uint32_t remote;          /* the other side; 0 for a DNS finding */
	uint16_t port;            /* the port concerned (probe, brute force, mining); 0 for many */
	char remote_name[256];    /* DNS: the name looked up */
	uint64_t count;           /* ports, probes, connections, flows, queries, packets/s, bytes */
	const char *count_what;   /* "ports", "connections", ... */
	int64_t first_seen, last_seen;
	GArray *lines;            /* guint: flow-log lines (or capture frames, for DNS), ascending */
	bool lines_are_frames;
};

/* Every finding the records and queries raise, ordered by severity (highest first), then type,
 * resource, remote.  queries may be NULL.  Free with findings_free(). */
GPtrArray *findings_compute(const GArray *records, const GArray *queries, const struct findings_settings *s);
void findings_free(GPtrArray *findings);

/* The mining pool domains BitcoinTool.B!DNS looks for (a name is one of them or under one). */
extern const char *const findings_mining_domains[];

#endif
