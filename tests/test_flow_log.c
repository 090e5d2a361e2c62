/* tests/test_flow_log.c: natlb replay --flow-log: records against tshark's count of each link's views, windows, REJECT, the NAT gateway's addresses, formats.
 *
 * Follows the Amazon VPC User Guide, "Flow log records" and "Flow log record examples" (NAT
 * gateway).  tshark is the independent reader: for every stage interface, the packets and bytes
 * (IPv4 total length) of each flow its egress records count must be what tshark counts of the
 * views on that link, in that direction, that did not travel around the stage.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "common/flow_log.h"
#include "common/scenario.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/cli.h"

#define NATGW_SCENARIO "scenarios/natgw-vs-s3-endpoint.ini"
#define COMPARE_FORMAT                                                                                          \
	"${interface-id} ${flow-direction} ${pkt-srcaddr} ${pkt-dstaddr} ${srcport} ${dstport} ${protocol} "  \
	"${packets} ${bytes} ${action}"

static int run_natlb(const char *const *args, char **out, char **err)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, (char *)test_natlb_binary());
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	int rc = test_run((const char *const *)argv->pdata, out, err);
	g_ptr_array_free(argv, TRUE);
	return rc;
}

static char *gen_natgw(const char *dir)
{
	char *pcap = g_build_filename(dir, "natgw.pcap", NULL);
	const char *args[] = { "gen", "natgw-vs-s3-endpoint", "-o", pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	return pcap;
}

/* The lines of a flow log less its header line. */
static char **records_of(const char *path)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	char *body = strchr(text, '\n');
	g_assert_nonnull(body);
	char **lines = g_strsplit(g_strstrip(body + 1), "\n", -1);
	g_free(text);
	return lines;
}

/* The interface names of a scenario's stages, as the recorder names them. */
static char *eni_of(const char *scenario, const char *stage, enum side side)
{
	GError *err = NULL;
	struct scenario *sc = cli_scenario_load(scenario, &err);
	g_assert_no_error(err);
	struct flow_log_format fmt;
	g_assert_true(flow_log_format_parse(FLOW_LOG_DEFAULT_FORMAT, &fmt, NULL));
	char *dir = test_tmpdir(), *path = g_build_filename(dir, "names.log", NULL);
	struct flow_log *fl = flow_log_open(path, sc, 600, &fmt, &err);
	g_assert_no_error(err);
	const struct stage *st = NULL;
	for (unsigned i = 0; i < sc->n_stages; i++)
		if (strcmp(sc->stages[i]->name, stage) == 0)
			st = sc->stages[i];
	g_assert_nonnull(st);
	char *name = g_strdup(flow_log_interface_name(fl, st, side));
	flow_log_free(fl);
	scenario_free(sc);
	g_free(path);
	test_rmdir(dir);
	return name;
}

/* flow "proto src dst sport dport" -> "packets bytes", summed. */
static void count_add(GHashTable *t, const char *flow, guint64 packets, guint64 bytes)
{
	guint64 *c = g_hash_table_lookup(t, flow);
	if (!c) {
		c = g_new0(guint64, 2);
		g_hash_table_insert(t, g_strdup(flow), c);
	}
	c[0] += packets;
	c[1] += bytes;
}

static GHashTable *counts_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* What tshark counts on link in direction (1 inbound, 2 outbound), less the views routed around a
 * stage; from_stage: only the views a stage passed on (not those sent on the link itself). */
static GHashTable *tshark_counts(const char *pcapng, const char *link, int direction, bool from_stage)
{
	char *filter = g_strdup_printf("frame.interface_name == \"%s\" && frame.packet_flags_direction == %d && ip && "
	                               "!(frame.comment contains \"bypassed\")%s", link, direction,
	                               from_stage ? " && !(frame.comment contains \"sent on \") && "
	                                            "!(frame.comment contains \"captured on \")" : "");
	const char *fields[] = { "ip.proto", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
		                 "ip.len", NULL };
	char *out = test_tshark_fields(pcapng, NULL, filter, fields);
	GHashTable *t = counts_new();
	char **lines = g_strsplit(out, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (!**l)
			continue;
		char **f = g_strsplit(*l, "|", -1);
		g_assert_cmpuint(g_strv_length(f), ==, 8);
		const char *sport = *f[3] ? f[3] : *f[5] ? f[5] : "0", *dport = *f[4] ? f[4] : *f[6] ? f[6] : "0";
		char *flow = g_strdup_printf("%s %s %s %s %s", f[0], f[1], f[2], sport, dport);
		count_add(t, flow, 1, g_ascii_strtoull(f[7], NULL, 10));
		g_free(flow);
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(out);
	g_free(filter);
	return t;
}

/* What the records of COMPARE_FORMAT count on one interface in one flow direction. */
static GHashTable *record_counts(char **records, const char *eni, const char *direction)
{
	GHashTable *t = counts_new();
	for (char **r = records; *r; r++) {
		char **f = g_strsplit(*r, " ", -1);
		g_assert_cmpuint(g_strv_length(f), ==, 10);
		if (strcmp(f[0], eni) == 0 && strcmp(f[1], direction) == 0) {
			char *flow = g_strdup_printf("%s %s %s %s %s", f[6], f[2], f[3], f[4], f[5]);
			count_add(t, flow, g_ascii_strtoull(f[7], NULL, 10), g_ascii_strtoull(f[8], NULL, 10));
			g_free(flow);
		}
		g_strfreev(f);
	}
	return t;
}

static void assert_same_counts(GHashTable *want, GHashTable *got, const char *what)
{
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, want);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint64 *g = g_hash_table_lookup(got, k), *w = v;
		if (!g || g[0] != w[0] || g[1] != w[1])
			g_error("%s: flow %s: tshark counts %" G_GUINT64_FORMAT " packets %" G_GUINT64_FORMAT
			        " bytes, the flow log %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, what, (const char *)k, w[0], w[1],
			        g ? g[0] : 0, g ? g[1] : 0);
	}
	g_assert_cmpuint(g_hash_table_size(got), ==, g_hash_table_size(want));
}

/* Every stage interface's egress records, and the capture link's ingress ones, against tshark. */
static void test_records_match_tshark(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir(), *pcap = gen_natgw(dir);
	char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
	const char *args[] = { "replay", "-q", "-s", NATGW_SCENARIO, "--flow-log", log, "--flow-log-format", COMPARE_FORMAT,
		               "-o", out, pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	char **records = records_of(log);
	static const struct {
		const char *stage;
		enum side side;
		const char *direction;
		const char *link;
		int tshark_dir;
		bool from_stage;
	} rows[] = {
		{ "vpc-rt", SIDE_LEFT, "ingress", "app", 2, false },   /* every captured packet arrives at the route table */
		{ "vpc-rt", SIDE_LEFT, "egress", "app", 1, true },     /* replies towards the instance */
		{ "vpc-rt", SIDE_RIGHT, "egress", "vpc", 2, true },    /* out of the private subnet, S3 included */
		{ "natgw", SIDE_LEFT, "egress", "vpc", 1, true },      /* replies the NAT gateway translated back */
		{ "natgw", SIDE_RIGHT, "egress", "internet", 2, true }, /* translated to the Elastic IP; S3 not among them */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *eni = eni_of(NATGW_SCENARIO, rows[i].stage, rows[i].side);
		GHashTable *want = tshark_counts(out, rows[i].link, rows[i].tshark_dir, rows[i].from_stage);
		GHashTable *got = record_counts(records, eni, rows[i].direction);
		char *what = g_strdup_printf("%s %s %s", rows[i].stage, rows[i].side == SIDE_LEFT ? "left" : "right",
		                             rows[i].direction);
		g_assert_cmpuint(g_hash_table_size(want), >, 0);
		assert_same_counts(want, got, what);
		g_free(what);
		g_hash_table_unref(want);
		g_hash_table_unref(got);
		g_free(eni);
	}
	g_strfreev(records);
	g_free(out);
	g_free(log);
	g_free(pcap);
	test_rmdir(dir);
}

/* The record of one field list whose fields start with prefix; NULL if none. */
static char *record_starting(char **records, const char *prefix)
{
	for (char **r = records; *r; r++)
		if (g_str_has_prefix(*r, prefix))
			return *r;
	return NULL;
}

/* AWS's "Traffic through a NAT gateway": dstaddr is the gateway's private address on the way in
 * (pkt-dstaddr the host on the internet), srcaddr on the way back (pkt-srcaddr that host). */
static void test_nat_gateway_addresses(void)
{
	char *dir = test_tmpdir(), *pcap = gen_natgw(dir);
	char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
	const char *args[] = { "replay", "-q", "-s", NATGW_SCENARIO, "--flow-log", log, "--flow-log-format",
		               "${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} "
		               "${instance-id} ${traffic-path} ${pkt-dst-aws-service}",
		               "-o", out, pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	char **records = records_of(log);
	char *left = eni_of(NATGW_SCENARIO, "natgw", SIDE_LEFT), *right = eni_of(NATGW_SCENARIO, "natgw", SIDE_RIGHT);
	char *rt_right = eni_of(NATGW_SCENARIO, "vpc-rt", SIDE_RIGHT);
	char *in = g_strdup_printf("%s ingress 10.0.1.10 10.0.0.220 10.0.1.10 198.51.100.80 - - -", left);
	char *back = g_strdup_printf("%s egress 10.0.0.220 10.0.1.10 198.51.100.80 10.0.1.10 - 1 -", left);
	char *internet = g_strdup_printf("%s egress 203.0.113.25 198.51.100.80 203.0.113.25 198.51.100.80 - 8 -", right);
	char *s3 = g_strdup_printf("%s egress 10.0.1.10 52.216.20.181 10.0.1.10 52.216.20.181 - 7 S3", rt_right);
	g_assert_cmpstr(record_starting(records, in), ==, in);
	g_assert_cmpstr(record_starting(records, back), ==, back);
	g_assert_cmpstr(record_starting(records, internet), ==, internet);
	g_assert_cmpstr(record_starting(records, s3), ==, s3);
	/* The S3 flow took the gateway endpoint: the NAT gateway's interfaces never saw it. */
	for (char **r = records; *r; r++)
		if (g_str_has_prefix(*r, left) || g_str_has_prefix(*r, right))
			g_assert_null(strstr(*r, "52.216.20.181"));
	g_free(in);
	g_free(back);
	g_free(internet);
	g_free(s3);
	g_free(left);
	g_free(right);
	g_free(rt_right);
	g_strfreev(records);
	g_free(out);
	g_free(log);
	g_free(pcap);
	test_rmdir(dir);
}

/* The ping into the blackhole route: dropped by the route table, so REJECT where it arrived, and
 * nothing on the far side.  The default format: version 2, the documented account, OK. */
static void test_drop_is_reject(void)
{
	char *dir = test_tmpdir(), *pcap = gen_natgw(dir);
	char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
	const char *args[] = { "replay", "-q", "-s", NATGW_SCENARIO, "--flow-log", log, "-o", out, pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	char *text = NULL;
	g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, "version account-id interface-id srcaddr dstaddr srcport dstport protocol "
	                                     "packets bytes start end action log-status\n"));
	char **records = records_of(log);
	char *eni = eni_of(NATGW_SCENARIO, "vpc-rt", SIDE_LEFT);
	unsigned pings = 0;
	for (char **r = records; *r; r++) {
		char **f = g_strsplit(*r, " ", -1);
		g_assert_cmpuint(g_strv_length(f), ==, 14);
		g_assert_cmpstr(f[0], ==, "2");
		g_assert_cmpstr(f[1], ==, FLOW_LOG_ACCOUNT_ID);
		g_assert_cmpstr(f[13], ==, "OK");
		if (strcmp(f[4], "192.0.2.10") == 0) {
			pings++;
			g_assert_cmpstr(f[2], ==, eni);
			g_assert_cmpstr(f[7], ==, "1");  /* ICMP, ports 0 */
			g_assert_cmpstr(f[5], ==, "0");
			g_assert_cmpstr(f[12], ==, "REJECT");
		} else {
			g_assert_cmpstr(f[12], ==, "ACCEPT");
		}
		g_strfreev(f);
	}
	g_assert_cmpuint(pings, ==, 1);
	g_free(eni);
	g_free(text);
	g_strfreev(records);
	g_free(out);
	g_free(log);
	g_free(pcap);
	test_rmdir(dir);
}

/* A capture of UDP packets 10.0.0.5:1000 -> 198.51.100.1:53 at these offsets (ms) from a time that
 * is a multiple of 600 s. */
static char *udp_capture(const char *dir, const int *ms, unsigned n)
{
	char *path = g_build_filename(dir, "udp.pcap", NULL);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	g_assert_nonnull(d);
	for (unsigned i = 0; i < n; i++) {
		uint8_t frame[46];
		test_udp_frame(frame, 0x0a000005, 0xc6336401, 1000, 53);
		int64_t t_ms = (int64_t)1767225600 * 1000 + ms[i];
		struct pcap_pkthdr h = { .ts = { .tv_sec = (time_t)(t_ms / 1000), .tv_usec = (suseconds_t)(t_ms % 1000 * 1000) },
			                 .caplen = 46, .len = 46 };
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return path;
}

/* A flow across a window boundary is two records under a 60 s interval and one under 600 s; start
 * and end are its first and last packet in each window. */
static void test_window_boundaries(void)
{
	static const int ms[] = { 59500, 59900, 60100, 119999, 120000 };
	static const struct {
		const char *name;
		const char *interval;
		const char *want; /* the office's left-interface ingress records: packets start end */
	} rows[] = {
		{ "60 s", "60", "2 1767225659 1767225659|2 1767225660 1767225719|1 1767225720 1767225720|" },
		{ "600 s", "600", "5 1767225659 1767225720|" },
	};
	char *dir = test_tmpdir(), *pcap = udp_capture(dir, ms, G_N_ELEMENTS(ms));
	char *eni = eni_of("static-nat", "office", SIDE_LEFT);
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
		const char *args[] = { "replay", "-q", "-s", "static-nat", "--flow-log", log, "--flow-log-interval",
			               rows[i].interval, "--flow-log-format",
			               "${interface-id} ${flow-direction} ${packets} ${start} ${end}", "-o", out, pcap, NULL };
		g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
		char **records = records_of(log);
		GString *got = g_string_new(NULL);
		char *prefix = g_strdup_printf("%s ingress ", eni);
		for (char **r = records; *r; r++)
			if (g_str_has_prefix(*r, prefix))
				g_string_append_printf(got, "%s|", *r + strlen(prefix));
		g_test_message("%s: %s", rows[i].name, got->str);
		g_assert_cmpstr(got->str, ==, rows[i].want);
		g_free(prefix);
		g_string_free(got, TRUE);
		g_strfreev(records);
		g_free(out);
		g_free(log);
	}
	g_free(eni);
	g_free(pcap);
	test_rmdir(dir);
}

/* tcp-flags as AWS documents them: FIN 1, SYN 2, RST 4, SYN-ACK 18, OR-ed; the S3 client's side of
 * a whole connection is SYN | FIN = 3, the server's SYN-ACK | FIN = 19.  The version of a custom
 * format is its highest field's. */
static void test_tcp_flags_and_version(void)
{
	char *dir = test_tmpdir(), *pcap = gen_natgw(dir);
	char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
	const char *args[] = { "replay", "-q", "-s", NATGW_SCENARIO, "--flow-log", log, "--flow-log-format",
		               "${version} ${srcport} ${dstport} ${tcp-flags} ${type}", "-o", out, pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	char **records = records_of(log);
	g_assert_nonnull(record_starting(records, "3 41001 80 3 IPv4"));
	g_assert_nonnull(record_starting(records, "3 80 41001 19 IPv4"));
	g_assert_nonnull(record_starting(records, "3 41000 53 0 IPv4"));
	g_strfreev(records);
	g_free(out);
	g_free(log);
	g_free(pcap);
	test_rmdir(dir);
}

/* Port exhaustion: the dropped SYNs are REJECT where they arrived, and the ICMP errors the NAT
 * sends back (RFC 4787 REQ-11's 3/13) are egress records of its inside interface, as many as tshark
 * counts ICMP views on the LAN. */
static void test_emitted_and_rejected(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir(), *pcap = g_build_filename(dir, "ex.pcap", NULL);
	char *out = g_build_filename(dir, "out.pcapng", NULL), *log = g_build_filename(dir, "flows.log", NULL);
	const char *gen[] = { "gen", "napt-exhaustion", "-o", pcap, NULL };
	g_assert_cmpint(run_natlb(gen, NULL, NULL), ==, 0);
	const char *args[] = { "replay", "-q", "-s", "napt-exhaustion", "--flow-log", log, "--flow-log-format",
		               "${interface-id} ${flow-direction} ${srcaddr} ${pkt-dstaddr} ${protocol} ${packets} ${action}",
		               "-o", out, pcap, NULL };
	g_assert_cmpint(run_natlb(args, NULL, NULL), ==, 0);
	char **records = records_of(log);
	char *inside = eni_of("napt-exhaustion", "home", SIDE_LEFT);
	char *icmp_prefix = g_strdup_printf("%s egress 192.168.1.1 ", inside);
	guint64 icmp_packets = 0, rejected = 0;
	for (char **r = records; *r; r++) {
		char **f = g_strsplit(*r, " ", -1);
		if (g_str_has_prefix(*r, icmp_prefix) && strcmp(f[4], "1") == 0)
			icmp_packets += g_ascii_strtoull(f[5], NULL, 10);
		if (strcmp(f[6], "REJECT") == 0) {
			g_assert_cmpstr(f[0], ==, inside);
			g_assert_cmpstr(f[1], ==, "ingress");
			rejected++;
		}
		g_strfreev(f);
	}
	const char *fields[] = { "frame.number", NULL };
	char *icmp_views = test_tshark_fields(out, NULL, "frame.interface_name == \"lan\" && icmp.type == 3 && "
	                                      "ip.src == 192.168.1.1", fields);
	guint64 want = 0;
	for (char *c = icmp_views; *c; c++)
		want += *c == '\n';
	g_assert_cmpuint(want, >, 0);
	g_assert_cmpuint(icmp_packets, ==, want);
	g_assert_cmpuint(rejected, >, 0);
	g_free(icmp_views);
	g_free(icmp_prefix);
	g_free(inside);
	g_strfreev(records);
	g_free(out);
	g_free(log);
	g_free(pcap);
	test_rmdir(dir);
}

/* Bad options: one sentence naming what is wrong, exit 2, no output. */
static void test_bad_options(void)
{
	static const struct {
		const char *name;
		const char *args[6];
		const char *says;
	} rows[] = {
		{ "interval not offered by AWS", { "--flow-log", "{dir}/f.log", "--flow-log-interval", "300" }, "60 or 600" },
		{ "unknown field", { "--flow-log", "{dir}/f.log", "--flow-log-format", "${srcadr}" }, "did you mean ${srcaddr}" },
		{ "field without a value in a replay", { "--flow-log", "{dir}/f.log", "--flow-log-format", "${region}" },
		  "no value for" },
		{ "bare word", { "--flow-log", "{dir}/f.log", "--flow-log-format", "srcaddr dstaddr" }, "write each as ${name}" },
		{ "format without a file", { "--flow-log-format", "${srcaddr}" }, "needs --flow-log FILE" },
		{ "interval without a file", { "--flow-log-interval", "60" }, "needs --flow-log FILE" },
		{ "the flow log over the input", { "--flow-log", "{pcap}" }, "refusing to write over a capture" },
		{ "the flow log over the output", { "--flow-log", "{out}" }, "are the same file" },
	};
	char *dir = test_tmpdir(), *pcap = gen_natgw(dir), *out = g_build_filename(dir, "out.pcapng", NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
		const char *head[] = { test_natlb_binary(), "replay", "-s", NATGW_SCENARIO, "-o", out };
		for (unsigned j = 0; j < G_N_ELEMENTS(head); j++)
			g_ptr_array_add(argv, g_strdup(head[j]));
		for (unsigned j = 0; j < G_N_ELEMENTS(rows[i].args) && rows[i].args[j]; j++) {
			const char *a = rows[i].args[j];
			if (g_str_has_prefix(a, "{dir}"))
				g_ptr_array_add(argv, g_strconcat(dir, a + 5, NULL));
			else if (strcmp(a, "{pcap}") == 0)
				g_ptr_array_add(argv, g_strdup(pcap));
			else if (strcmp(a, "{out}") == 0)
				g_ptr_array_add(argv, g_strdup(out));
			else
				g_ptr_array_add(argv, g_strdup(a));
		}
		g_ptr_array_add(argv, g_strdup(pcap));
		g_ptr_array_add(argv, NULL);
		char *err = NULL;
		int rc = test_run((const char *const *)argv->pdata, NULL, &err);
		g_test_message("%s: %s", rows[i].name, err);
		g_assert_cmpint(rc, ==, 2);
		g_assert_nonnull(strstr(err, rows[i].says));
		g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
		char *f = g_build_filename(dir, "f.log", NULL);
		g_assert_false(g_file_test(f, G_FILE_TEST_EXISTS));
		g_free(f);
		g_free(err);
		g_ptr_array_free(argv, TRUE);
	}
	g_free(out);
	g_free(pcap);
	test_rmdir(dir);
}

/* The format parser on its own: versions and refusals. */
static void test_format_parse(void)
{
	static const struct {
		const char *name;
		const char *text;
		gboolean ok;
		unsigned n, version;
	} rows[] = {
		{ "the default format is version 2", FLOW_LOG_DEFAULT_FORMAT, TRUE, 14, 2 },
		{ "a version 3 field makes it 3", "${srcaddr} ${pkt-srcaddr}", TRUE, 2, 3 },
		{ "a version 5 field makes it 5", "${traffic-path} ${tcp-flags}", TRUE, 2, 5 },
		{ "tabs and runs of spaces separate", "${srcaddr}\t  ${dstaddr}", TRUE, 2, 2 },
		{ "empty", "   ", FALSE, 0, 0 },
		{ "unclosed", "${srcaddr", FALSE, 0, 0 },
		{ "empty name", "${}", FALSE, 0, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct flow_log_format fmt;
		GError *err = NULL;
		gboolean ok = flow_log_format_parse(rows[i].text, &fmt, &err);
		g_test_message("%s", rows[i].name);
		g_assert_cmpint(ok, ==, rows[i].ok);
		if (ok) {
			g_assert_no_error(err);
			g_assert_cmpuint(fmt.n_fields, ==, rows[i].n);
			g_assert_cmpuint(fmt.version, ==, rows[i].version);
		} else {
			g_assert_nonnull(err);
			g_assert_true(g_str_has_prefix(err->message, "--flow-log-format: "));
			g_clear_error(&err);
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/flow-log/records/match-tshark-per-interface", test_records_match_tshark);
	g_test_add_func("/flow-log/nat-gateway/private-address-as-srcaddr-packet-address-as-pkt-srcaddr",
	                test_nat_gateway_addresses);
	g_test_add_func("/flow-log/action/drop-is-reject", test_drop_is_reject);
	g_test_add_func("/flow-log/window/boundaries-split-records", test_window_boundaries);
	g_test_add_func("/flow-log/format/tcp-flags-ored-and-version", test_tcp_flags_and_version);
	g_test_add_func("/flow-log/options/bad-ones-exit-2", test_bad_options);
	g_test_add_func("/flow-log/action/stage-emitted-is-egress-dropped-is-reject", test_emitted_and_rejected);
	g_test_add_func("/flow-log/format/parse", test_format_parse);
	return g_test_run();
}
