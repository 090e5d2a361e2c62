/* common/flow_log_reader.h: reading VPC Flow Logs back (natlb findings): untrusted text to records, or one error naming the line.
 *
 * Follows the Amazon VPC User Guide, "Flow log records": space-separated fields; the default
 * format is the version 2 fields in their documented order; a custom format names its fields in
 * the header line that flow logs delivered to Amazon S3 begin with (and natlb replay --flow-log
 * writes).  "-" stands for a field with no value; a record whose log-status is NODATA or
 * SKIPDATA carries no flow.  GuardDuty's EC2 findings from flow logs do not cover IPv6
 * ("GuardDuty finding types"), so IPv6 records are skipped and counted.
 *
 * Invariant: a record returned has IPv4 addresses, ports 0..65535, a protocol 0..255 and
 * start <= end; anything else is an error "NAME:LINE: ..." and no records at all.
 */
#ifndef NATLB_FLOW_LOG_READER_H
#define NATLB_FLOW_LOG_READER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define FLOW_RECORD_ID_MAX 48

struct flow_record {
	unsigned line;            /* in the file, from 1 */
	uint32_t src, dst;        /* the packet's addresses: pkt-srcaddr/pkt-dstaddr when given, else srcaddr/dstaddr */
	uint16_t sport, dport;
	uint8_t proto;
	bool reject;
	uint64_t packets, bytes;
	int64_t start, end;       /* Unix seconds */
	char interface_id[FLOW_RECORD_ID_MAX]; /* "-" when the format has none */
};

struct flow_log_read_stats {
	unsigned records;         /* flows returned */
	unsigned no_data;         /* NODATA and SKIPDATA records */
	unsigned ipv6;            /* IPv6 records skipped */
};

/* Parse len bytes of text (need not end in NUL) named name.  Appends struct flow_record to out. */
gboolean flow_log_read(const char *name, const char *text, size_t len, GArray *out, struct flow_log_read_stats *stats,
                       GError **err);

#endif
