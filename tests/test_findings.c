/* tests/test_findings.c: each GuardDuty finding type just below and at its threshold; the flow-log reader on bad lines.
 *
 * Follows the Amazon GuardDuty User Guide, "GuardDuty EC2 finding types" (names, severities) and
 * the Amazon VPC User Guide, "Flow log records" (the text the reader takes).
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "common/dns_question.h"
#include "common/findings.h"
#include "common/flow_log_reader.h"
#include "tests/testutil.h"

#define HEADER "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
#define T0 1767225600

static void record(GString *s, const char *src, const char *dst, unsigned sport, unsigned dport, unsigned proto,
                   uint64_t packets, uint64_t bytes, int64_t start, int64_t end)
{
	g_string_append_printf(s, "2 123456789010 eni-0aaaaaaaaaaaaaaaa %s %s %u %u %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
	                       " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " ACCEPT OK\n", src, dst, sport, dport, proto,
	                       packets, bytes, start, end);
}

/* Each builder writes a flow log of n of what its finding counts. */
static void build_portscan(GString *s, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		record(s, "10.0.1.10", "198.51.100.7", 40000, (unsigned)(1 + i), 6, 1, 44, T0, T0);
}

static void probes_to(GString *s, uint64_t n, unsigned port)
{
	for (uint64_t i = 0; i < n; i++) {
		char src[16];
		g_snprintf(src, sizeof src, "203.0.113.%u", (unsigned)(1 + i));
		record(s, src, "10.0.1.20", 5000, port, 6, 1, 44, T0 + (int64_t)i, T0 + (int64_t)i);
	}
	/* a long conversation with the port is no probe, whoever holds it */
	record(s, "203.0.113.200", "10.0.1.20", 5001, port, 6, 40, 4000, T0, T0 + 5);
}

static void build_probe(GString *s, uint64_t n)
{
	probes_to(s, n, 80);
}

static void build_probe_elasticsearch(GString *s, uint64_t n)
{
	probes_to(s, n, 9200);
}

static void connections(GString *s, uint64_t n, const char *src, const char *dst, unsigned dport)
{
	for (uint64_t i = 0; i < n; i++)
		record(s, src, dst, (unsigned)(50000 + i), dport, 6, 10, 2000, T0 + (int64_t)i, T0 + (int64_t)i);
}

static void build_ssh_target(GString *s, uint64_t n)
{
	connections(s, n, "203.0.113.9", "10.0.1.20", 22);
}

static void build_ssh_actor(GString *s, uint64_t n)
{
	connections(s, n, "10.0.1.10", "198.51.100.22", 22);
}

static void build_rdp_target(GString *s, uint64_t n)
{
	connections(s, n, "203.0.113.9", "10.0.1.20", 3389);
}

static void build_rdp_actor(GString *s, uint64_t n)
{
	connections(s, n, "10.0.1.10", "198.51.100.22", 3389);
}

static void build_mining(GString *s, uint64_t n)
{
	record(s, "10.0.1.10", "198.51.100.33", 41000, 443, 6, 10, 900, T0, T0); /* not a pool port */
	connections(s, n, "10.0.1.10", "198.51.100.33", 3333);
}

static void build_dos_tcp(GString *s, uint64_t n)
{
	record(s, "10.0.1.10", "198.51.100.44", 40000, 80, 6, n, n * 40, T0, T0 + 1);
}

static void build_dos_udp(GString *s, uint64_t n)
{
	/* two windows of one flow: 2 s, so n packets per second is 2n packets */
	record(s, "10.0.1.10", "198.51.100.44", 40000, 53, 17, n, n * 60, T0, T0 + 1);
	record(s, "10.0.1.10", "198.51.100.44", 40000, 53, 17, n, n * 60, T0 + 1, T0 + 2);
}

static void build_volume(GString *s, uint64_t n)
{
	record(s, "10.0.1.10", "198.51.100.1", 40000, 443, 6, 1000, 1000000, T0, T0 + 10);
	record(s, "10.0.1.10", "198.51.100.2", 40001, 443, 6, 1000, 1000000, T0, T0 + 10);
	record(s, "10.0.1.10", "198.51.100.3", 40002, 443, 6, 1000, n, T0, T0 + 10);
}

static const struct threshold_row {
	const char *name;
	enum finding_type type;
	enum findings_setting setting;
	void (*build)(GString *s, uint64_t n);
	double severity;
	const char *role;
	uint64_t count_at; /* the finding's count when n is the threshold; 0: n itself */
} threshold_rows[] = {
	{ "portscan", FINDING_PORTSCAN, FINDINGS_SETTING_PORTSCAN_PORTS, build_portscan, 5.0, "", 0 },
	{ "port-probe", FINDING_PORT_PROBE, FINDINGS_SETTING_PROBE_SOURCES, build_probe, 2.0, "", 0 },
	{ "port-probe-elasticsearch", FINDING_PORT_PROBE, FINDINGS_SETTING_PROBE_SOURCES, build_probe_elasticsearch, 5.0, "", 0 },
	{ "ssh-brute-force-target", FINDING_SSH_BRUTE_FORCE, FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS, build_ssh_target, 2.0,
	  "target", 0 },
	{ "ssh-brute-force-actor", FINDING_SSH_BRUTE_FORCE, FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS, build_ssh_actor, 8.0,
	  "actor", 0 },
	{ "rdp-brute-force-target", FINDING_RDP_BRUTE_FORCE, FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS, build_rdp_target, 2.0,
	  "target", 0 },
	{ "rdp-brute-force-actor", FINDING_RDP_BRUTE_FORCE, FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS, build_rdp_actor, 5.0,
	  "actor", 0 },
	{ "bitcoin-tool", FINDING_BITCOIN_TOOL, FINDINGS_SETTING_MINING_FLOWS, build_mining, 8.0, "", 0 },
	{ "dos-tcp", FINDING_DOS_TCP, FINDINGS_SETTING_DOS_PPS, build_dos_tcp, 8.0, "", 0 },
	{ "dos-udp", FINDING_DOS_UDP, FINDINGS_SETTING_DOS_PPS, build_dos_udp, 8.0, "", 0 },
	{ "traffic-volume", FINDING_TRAFFIC_VOLUME, FINDINGS_SETTING_VOLUME_MIN_BYTES, build_volume, 5.0, "", 0 },
};

static GPtrArray *findings_of_text(const char *text, const GArray *queries)
{
	GArray *records = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
	struct flow_log_read_stats st;
	GError *err = NULL;
	g_assert_true(flow_log_read("t.log", text, strlen(text), records, &st, &err));
	g_assert_no_error(err);
	struct findings_settings s;
	findings_settings_default(&s);
	GPtrArray *f = findings_compute(records, queries, &s);
	g_array_free(records, TRUE);
	return f;
}

static unsigned count_type(const GPtrArray *f, enum finding_type t, const struct finding **last)
{
	unsigned n = 0;
	for (guint i = 0; i < f->len; i++)
		if (((const struct finding *)f->pdata[i])->type == t) {
			n++;
			*last = f->pdata[i];
		}
	return n;
}

static void test_threshold(gconstpointer data)
{
	const struct threshold_row *row = data;
	uint64_t at = findings_setting_default(row->setting);
	for (int above = 0; above <= 1; above++) {
		uint64_t n = above ? at : at - 1;
		GString *text = g_string_new(HEADER);
		row->build(text, n);
		GPtrArray *f = findings_of_text(text->str, NULL);
		const struct finding *fd = NULL;
		unsigned got = count_type(f, row->type, &fd);
		g_test_message("%s with %" G_GUINT64_FORMAT " (threshold %" G_GUINT64_FORMAT "): %u findings", row->name, n,
		               at, got);
		g_assert_cmpuint(got, ==, above ? 1 : 0);
		if (above) {
			g_assert_cmpfloat(fd->severity, ==, row->severity);
			g_assert_cmpstr(fd->role, ==, row->role);
			g_assert_cmpuint(fd->count, ==, row->count_at ? row->count_at : n);
			g_assert_cmpuint(fd->lines->len, >, 0);
			/* the lines named are records of the file: header is line 1 */
			g_assert_cmpuint(g_array_index(fd->lines, guint, 0), >=, 2);
		}
		findings_free(f);
		g_string_free(text, TRUE);
	}
}

static void test_threshold_dns(void)
{
	uint64_t at = findings_setting_default(FINDINGS_SETTING_MINING_QUERIES);
	for (int above = 0; above <= 1; above++) {
		GArray *q = g_array_new(FALSE, FALSE, sizeof(struct dns_query));
		struct dns_query other = { .frame = 1, .client = 0x0a00010a, .ts = T0 };
		g_strlcpy(other.name, "example.com", sizeof other.name);
		g_array_append_val(q, other);
		struct dns_query not_under = other; /* a name that only ends like a pool's */
		g_strlcpy(not_under.name, "notsupportxmr.com", sizeof not_under.name);
		g_array_append_val(q, not_under);
		for (uint64_t i = 0; i < (above ? at : at - 1); i++) {
			struct dns_query pool = { .frame = 2 + i, .client = 0x0a00010a, .ts = T0 + 1 };
			g_strlcpy(pool.name, "pool.supportxmr.com", sizeof pool.name);
			g_array_append_val(q, pool);
		}
		GPtrArray *f = findings_of_text(HEADER, q);
		const struct finding *fd = NULL;
		g_assert_cmpuint(count_type(f, FINDING_BITCOIN_TOOL_DNS, &fd), ==, above ? 1 : 0);
		if (above) {
			g_assert_cmpstr(fd->remote_name, ==, "pool.supportxmr.com");
			g_assert_cmpfloat(fd->severity, ==, 8.0);
			g_assert_true(fd->lines_are_frames);
		}
		findings_free(f);
		g_array_free(q, TRUE);
	}
}

/* A flow seen on three interfaces is one flow: a scan's ports count once whatever the path. */
static void test_one_flow_many_interfaces(void)
{
	GString *text = g_string_new("interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol packets "
	                             "bytes start end action\n");
	for (unsigned i = 0; i < 20; i++) {
		g_string_append_printf(text, "eni-rt 10.0.1.10 198.51.100.7 10.0.1.10 198.51.100.7 40000 %u 6 1 44 %d %d ACCEPT\n",
		                       1 + i, T0, T0);
		/* the NAT gateway's inside interface: dstaddr is its own address, pkt-dstaddr the host */
		g_string_append_printf(text, "eni-nat 10.0.1.10 10.0.0.220 10.0.1.10 198.51.100.7 40000 %u 6 1 44 %d %d ACCEPT\n",
		                       1 + i, T0, T0);
	}
	GPtrArray *f = findings_of_text(text->str, NULL);
	const struct finding *fd = NULL;
	g_assert_cmpuint(count_type(f, FINDING_PORTSCAN, &fd), ==, 1);
	g_assert_cmpuint(fd->count, ==, 20);
	g_assert_cmpuint(fd->lines->len, ==, 40);
	findings_free(f);
	g_string_free(text, TRUE);
}

static void test_reader_good(void)
{
	static const struct {
		const char *name;
		const char *text;
		unsigned records, no_data, ipv6;
	} rows[] = {
		{ "default format without a header", "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 ACCEPT OK\n", 1, 0, 0 },
		{ "a header", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 REJECT OK\n", 1, 0, 0 },
		{ "NODATA and SKIPDATA carry no flow", HEADER "2 1 eni-1 - - - - - - - 10 70 - NODATA\n"
		                                       "2 1 eni-1 - - - - - - - 10 70 - SKIPDATA\n", 0, 2, 0 },
		{ "IPv6 is skipped, as GuardDuty does", HEADER "2 1 eni-1 2001:db8::1 2001:db8::2 1 2 6 1 60 10 11 ACCEPT OK\n",
		  0, 0, 1 },
		{ "CRLF, blank lines, tabs", HEADER "\r\n2\t1 eni-1 10.0.1.1  8.8.8.8 1 53 17 1 60 10 11 ACCEPT OK\r\n\n", 1, 0, 0 },
		{ "a header written as a format", "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} "
		                                  "${start} ${end} ${action}\n10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 ACCEPT\n", 1, 0, 0 },
		{ "pkt-* of '-' fall back to srcaddr", "srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol packets "
		                                       "bytes start end action\n10.0.1.1 8.8.8.8 - - 1 53 17 1 60 10 11 ACCEPT\n",
		  1, 0, 0 },
		{ "empty", "", 0, 0, 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		GArray *records = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
		struct flow_log_read_stats st;
		GError *err = NULL;
		g_test_message("%s", rows[i].name);
		g_assert_true(flow_log_read("t.log", rows[i].text, strlen(rows[i].text), records, &st, &err));
		g_assert_no_error(err);
		g_assert_cmpuint(st.records, ==, rows[i].records);
		g_assert_cmpuint(records->len, ==, rows[i].records);
		g_assert_cmpuint(st.no_data, ==, rows[i].no_data);
		g_assert_cmpuint(st.ipv6, ==, rows[i].ipv6);
		g_array_free(records, TRUE);
	}
}

static void test_reader_bad(void)
{
	static const struct {
		const char *name;
		const char *text;
		const char *says;
	} rows[] = {
		{ "too few fields", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 ACCEPT OK\n",
		  "t.log:2: 13 fields where the format has 14" },
		{ "a bad address", HEADER "2 1 eni-1 10.0.1.300 8.8.8.8 1 53 17 1 60 10 11 ACCEPT OK\n",
		  "t.log:2: srcaddr '10.0.1.300' is not an IPv4 address" },
		{ "a port too high", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 65536 53 17 1 60 10 11 ACCEPT OK\n",
		  "t.log:2: srcport '65536' is not a port" },
		{ "a negative count", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 -1 60 10 11 ACCEPT OK\n",
		  "t.log:2: packets '-1' is not a count" },
		{ "a count beyond 64 bits", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 18446744073709551616 10 11 ACCEPT OK\n",
		  "t.log:2: bytes '18446744073709551616'" },
		{ "end before start", HEADER "\n2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 11 10 ACCEPT OK\n",
		  "t.log:3: end 10 is before start 11" },
		{ "an unknown action", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 DENY OK\n",
		  "t.log:2: action 'DENY' is neither ACCEPT nor REJECT" },
		{ "an unknown log-status", HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 ACCEPT MAYBE\n",
		  "t.log:2: log-status 'MAYBE'" },
		{ "'-' where a value is needed", HEADER "2 1 eni-1 - 8.8.8.8 1 53 17 1 60 10 11 ACCEPT OK\n",
		  "t.log:2: srcaddr '-' is not an IPv4 address" },
		{ "a header naming no field", "version srcaddr colour\n", "t.log:1: header: 'colour' is not a flow log field" },
		{ "a header without what findings need", "srcaddr dstaddr\n", "t.log:1: header: findings need the field srcport" },
		{ "a NUL byte", HEADER "2 1 eni-1 10.0.1.1\0 8.8.8.8\n", "t.log:2: a NUL byte" },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++) {
		GArray *records = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
		struct flow_log_read_stats st;
		GError *err = NULL;
		size_t len = strlen(rows[i].text);
		if (strstr(rows[i].name, "NUL"))
			len = strlen(HEADER) + sizeof "2 1 eni-1 10.0.1.1\0 8.8.8.8\n" - 1;
		g_test_message("%s", rows[i].name);
		g_assert_false(flow_log_read("t.log", rows[i].text, len, records, &st, &err));
		g_assert_nonnull(err);
		g_test_message("  %s", err->message);
		g_assert_true(g_str_has_prefix(err->message, rows[i].says));
		g_assert_cmpuint(records->len, ==, 0);
		g_clear_error(&err);
		g_array_free(records, TRUE);
	}
}

/* The verb: a bad flow log is exit 2 with the line; a bad threshold too. */
static void test_cli_errors(void)
{
	char *dir = test_tmpdir(), *log = g_build_filename(dir, "bad.log", NULL);
	g_assert_true(g_file_set_contents(log, HEADER "2 1 eni-1 10.0.1.1 8.8.8.8 1 53 17 1 60 10 11 ACCEPT OK\nbroken\n", -1,
	                                  NULL));
	const char *bad_file[] = { test_natlb_binary(), "findings", log, NULL };
	const char *bad_option[] = { test_natlb_binary(), "findings", "--portscan-ports", "0", log, NULL };
	char *err = NULL;
	g_assert_cmpint(test_run(bad_file, NULL, &err), ==, 2);
	g_assert_nonnull(strstr(err, "bad.log:3: 1 fields where the format has 14"));
	g_free(err);
	g_assert_cmpint(test_run(bad_option, NULL, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--portscan-ports 0: give at least 1"));
	g_free(err);
	g_free(log);
	test_rmdir(dir);
}

static void test_dns_question(void)
{
	static const uint8_t query[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'P', 'o', 'o', 'l', 3, 'x', 'm',
		                         'r', 0, 0, 1, 0, 1 };
	static const uint8_t response[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, 'x', 'm', 'r', 0, 0, 1, 0, 1 };
	static const uint8_t pointer[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c };
	static const uint8_t cut[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'p', 'o' };
	static const uint8_t odd_byte[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 2, 'a', ' ', 0 };
	char name[DNS_NAME_MAX + 1];
	g_assert_true(dns_question_name(query, sizeof query, name));
	g_assert_cmpstr(name, ==, "pool.xmr");
	g_assert_false(dns_question_name(response, sizeof response, name));
	g_assert_false(dns_question_name(pointer, sizeof pointer, name));
	g_assert_false(dns_question_name(cut, sizeof cut, name));
	g_assert_false(dns_question_name(odd_byte, sizeof odd_byte, name));
	g_assert_false(dns_question_name(query, 11, name));
}

#define LESSON "guardduty-findings"
#define LESSON_GOLDEN "tests/golden/guardduty-findings.findings"

/* Run natlb with args in directory dir; its exit status, stdout in *out. */
static int natlb_in(const char *dir, const char *const *args, char **out)
{
	GPtrArray *argv = g_ptr_array_new();
	char *bin = g_canonicalize_filename(test_natlb_binary(), NULL);
	g_ptr_array_add(argv, bin);
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	int status = -1;
	char *err = NULL;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(dir, (char **)argv->pdata, NULL, 0, NULL, NULL, out, &err, &status, &error));
	g_assert_no_error(error);
	if (err && *err)
		g_test_message("stderr: %s", err);
	g_free(err);
	g_free(bin);
	g_ptr_array_free(argv, TRUE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The lesson end to end: gen, replay --flow-log, findings --dns; the table is the golden read by
 * hand, and every line the JSON names is a record of that flow (the DNS frame checked by tshark). */
static void test_lesson_golden(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir(), *scenario = g_canonicalize_filename("scenarios/" LESSON ".ini", NULL);
	const char *gen[] = { "gen", LESSON, "-o", "lesson.pcap", NULL };
	const char *replay[] = { "replay", "-q", "-s", scenario, "--flow-log", "flows.log", "-o", "out.pcapng", "lesson.pcap",
		                 NULL };
	const char *table[] = { "findings", "--dns", "lesson.pcap", "flows.log", NULL };
	const char *json[] = { "findings", "--json", "--dns", "lesson.pcap", "flows.log", NULL };
	char *out = NULL, *want = NULL, *log_text = NULL, *log = g_build_filename(dir, "flows.log", NULL);
	g_assert_cmpint(natlb_in(dir, gen, NULL), ==, 0);
	g_assert_cmpint(natlb_in(dir, replay, NULL), ==, 0);
	g_assert_cmpint(natlb_in(dir, table, &out), ==, 0);
	g_assert_true(g_file_get_contents(LESSON_GOLDEN, &want, NULL, NULL));
	if (strcmp(out, want) != 0)
		g_file_set_contents("build/" LESSON ".findings.actual", out, -1, NULL);
	g_assert_cmpstr(out, ==, want);
	g_free(out);

	g_assert_cmpint(natlb_in(dir, json, &out), ==, 0);
	g_assert_true(g_file_get_contents(log, &log_text, NULL, NULL));
	char **lines = g_strsplit(log_text, "\n", -1);
	JsonParser *p = json_parser_new();
	g_assert_true(json_parser_load_from_data(p, out, -1, NULL));
	JsonArray *fs = json_object_get_array_member(json_node_get_object(json_parser_get_root(p)), "findings");
	g_assert_cmpuint(json_array_get_length(fs), ==, 4);
	for (guint i = 0; i < json_array_get_length(fs); i++) {
		JsonObject *f = json_array_get_object_element(fs, i);
		JsonObject *remote = json_object_get_object_member(f, "remote");
		if (json_object_has_member(f, "captureFrames")) {
			JsonArray *frames = json_object_get_array_member(f, "captureFrames");
			char *filter = g_strdup_printf("frame.number == %" G_GINT64_FORMAT, json_array_get_int_element(frames, 0));
			const char *fields[] = { "dns.qry.name", NULL };
			char *pcap = g_build_filename(dir, "lesson.pcap", NULL);
			char *name = test_tshark_fields(pcap, NULL, filter, fields);
			g_free(pcap);
			g_assert_cmpstr(g_strstrip(name), ==, json_object_get_string_member(remote, "domain"));
			g_free(name);
			g_free(filter);
			continue;
		}
		JsonArray *ls = json_object_get_array_member(f, "flowLogLines");
		char *addr = g_strdup_printf(" 10.0.1.10 %s ", json_object_get_string_member(remote, "ipAddress"));
		g_assert_cmpuint(json_array_get_length(ls), >, 0);
		for (guint j = 0; j < json_array_get_length(ls); j++) {
			gint64 n = json_array_get_int_element(ls, j);
			g_assert_cmpint(n, >=, 2);
			g_assert_cmpint(n, <=, (gint64)g_strv_length(lines));
			g_assert_nonnull(strstr(lines[n - 1], addr));
		}
		g_free(addr);
	}
	g_object_unref(p);
	g_strfreev(lines);
	g_free(log_text);
	g_free(out);
	g_free(want);
	g_free(log);
	g_free(scenario);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(threshold_rows); i++) {
		char *path = g_strdup_printf("/findings/threshold/%s/below-and-at", threshold_rows[i].name);
		g_test_add_data_func(path, &threshold_rows[i], test_threshold);
		g_free(path);
	}
	g_test_add_func("/findings/threshold/bitcoin-tool-dns/below-and-at", test_threshold_dns);
	g_test_add_func("/findings/flows/one-flow-on-many-interfaces-counts-once", test_one_flow_many_interfaces);
	g_test_add_func("/findings/reader/accepts-what-aws-writes", test_reader_good);
	g_test_add_func("/findings/reader/bad-lines-name-line-and-field", test_reader_bad);
	g_test_add_func("/findings/cli/bad-input-exit-2", test_cli_errors);
	g_test_add_func("/findings/dns/question-name", test_dns_question);
	g_test_add_func("/findings/lesson/guardduty-findings/matches-golden", test_lesson_golden);
	return g_test_run();
}
