/* tests/test_gen.c: `natlb gen` writes the lesson captures it promises, the same bytes every time.
 *
 * Follows: the lesson list in tools/gen_lessons.c; libpcap reads the files back, and tshark (when
 * installed) is the independent reader that checks addresses and checksums.
 */

/* Harmless here, needed when this file is compiled with `libnet-config --defines` (its
 * -D_BSD_SOURCE makes glibc warn, fatally under -Werror, unless _DEFAULT_SOURCE is set). */
#define _DEFAULT_SOURCE 1

#include "common/cursor.h"
#include "tests/testutil.h"
#include "tools/bundled.h"
#include "tools/gen.h"

#include <pcap/pcap.h>

#define STATIC_NAT_PACKETS 28

/* ---- helpers ------------------------------------------------------------------------------ */

static int run_gen(const char *const *args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	return gen_main(argc, (char **)args);
}

/* natlb gen ARGS... as a user runs it: its exit status, and its stderr in *err (so that the
 * errors a test provokes are checked instead of printed into prove's report). */
static int run_gen_binary(const char *const *args, char **err)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, (char *)test_natlb_binary());
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	int rc = test_run((const char *const *)argv->pdata, NULL, err);
	g_ptr_array_free(argv, TRUE);
	return rc;
}

static char *build_lesson(const char *dir, const char *lesson, const char *name, const char *const *extra)
{
	char *path = g_build_filename(dir, name, NULL);
	const char *args[16] = { "gen", lesson, "-o", path };
	int n = 4;

	for (; extra && *extra; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	g_assert_cmpint(run_gen(args), ==, 0);
	return path;
}

static pcap_t *open_capture(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);

	if (!p)
		g_error("%s: %s", path, errbuf);
	return p;
}

static char **tshark_lines(const char *const *argv)
{
	char *out = NULL;
	char **lines;

	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	lines = g_strsplit(out, "\n", -1);
	g_free(out);
	return lines;
}

/* ---- every lesson --------------------------------------------------------------------------- */

/* Small enough for a test; the defaults would write a gigabyte. */
static const char *const bench_small[] = { "--packets", "5000", "--flows", "50", NULL };

static void test_builds_identically(gconstpointer data)
{
	const struct gen_lesson *lesson = data;
	const char *const *extra = g_str_has_prefix(lesson->name, "bench") ? bench_small : NULL;
	char *dir = test_tmpdir();
	char *a = build_lesson(dir, lesson->name, "a.pcap", extra);
	char *b = build_lesson(dir, lesson->name, "b.pcap", extra);
	char *bytes_a, *bytes_b, *partial = g_strconcat(a, ".partial", NULL);
	gsize len_a, len_b;

	g_assert_true(g_file_get_contents(a, &bytes_a, &len_a, NULL));
	g_assert_true(g_file_get_contents(b, &bytes_b, &len_b, NULL));
	g_assert_cmpuint(len_a, >, 24); /* more than a pcap file header */
	g_assert_cmpmem(bytes_a, len_a, bytes_b, len_b);
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_free(bytes_a);
	g_free(bytes_b);
	g_free(partial);
	g_free(a);
	g_free(b);
	test_rmdir(dir);
}

/* ---- static-nat ----------------------------------------------------------------------------- */

static void test_static_nat_libpcap(void)
{
	char *dir = test_tmpdir();
	char *path = build_lesson(dir, "static-nat", "s.pcap", NULL);
	pcap_t *p = open_capture(path);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	unsigned count = 0;

	g_assert_cmpint(pcap_datalink(p), ==, DLT_EN10MB);
	while (pcap_next_ex(p, &h, &bytes) == 1) {
		count++;
		if (count == 1) {
			/* 2026-01-01T00:00:00Z, nanoseconds. */
			g_assert_cmpint(h->ts.tv_sec, ==, GEN_START_SEC);
			g_assert_cmpint(h->ts.tv_usec, ==, 0);
		}
		if (count == 24) {
			/* Conversation 10: Ethernet + IPv4 + TCP header recorded, 400 data bytes not. */
			g_assert_cmpuint(h->caplen, ==, 54);
			g_assert_cmpuint(h->len, ==, 454);
		} else {
			g_assert_cmpuint(h->caplen, ==, h->len);
		}
	}
	g_assert_cmpuint(count, ==, STATIC_NAT_PACKETS);
	pcap_close(p);
	g_free(path);
	test_rmdir(dir);
}

/* tshark's checksum status: 0 bad, 1 good, 2 unverified, 3 not present (epan/proto.h). */
static const struct {
	const char *what;
	const char *line; /* ip.src ip.dst tcp.srcport udp.srcport icmp.type tcp/udp/ip checksum status */
} static_nat_fields[STATIC_NAT_PACKETS] = {
	{ "1 HTTP SYN", "10.0.0.5\t198.51.100.80\t40001\t\t\t1\t\t1" },
	{ "1 HTTP SYN-ACK", "198.51.100.80\t10.0.0.5\t80\t\t\t1\t\t1" },
	{ "1 HTTP ACK", "10.0.0.5\t198.51.100.80\t40001\t\t\t1\t\t1" },
	{ "1 HTTP GET", "10.0.0.5\t198.51.100.80\t40001\t\t\t1\t\t1" },
	{ "1 HTTP 200", "198.51.100.80\t10.0.0.5\t80\t\t\t1\t\t1" },
	{ "1 HTTP FIN client", "10.0.0.5\t198.51.100.80\t40001\t\t\t1\t\t1" },
	{ "1 HTTP FIN server", "198.51.100.80\t10.0.0.5\t80\t\t\t1\t\t1" },
	{ "1 HTTP last ACK", "10.0.0.5\t198.51.100.80\t40001\t\t\t1\t\t1" },
	{ "2 DNS query", "10.0.1.20\t198.51.100.53\t\t53001\t\t\t1\t1" },
	{ "2 DNS answer", "198.51.100.53\t10.0.1.20\t\t53\t\t\t1\t1" },
	{ "3 ping 1", "10.0.1.21\t198.51.100.1\t\t\t8\t\t\t1" },
	{ "3 pong 1", "198.51.100.1\t10.0.1.21\t\t\t0\t\t\t1" },
	{ "3 ping 2", "10.0.1.21\t198.51.100.1\t\t\t8\t\t\t1" },
	{ "3 pong 2", "198.51.100.1\t10.0.1.21\t\t\t0\t\t\t1" },
	{ "4 inbound SYN", "198.51.100.99\t10.0.0.5\t50000\t\t\t1\t\t1" },
	{ "4 inbound SYN-ACK", "10.0.0.5\t198.51.100.99\t22\t\t\t1\t\t1" },
	{ "5 unmapped SYN", "10.0.0.9\t198.51.100.80\t40100\t\t\t1\t\t1" },
	{ "6 traceroute probe", "10.0.1.20\t198.51.100.7\t\t53002\t\t\t1\t1" },
	/* The quoted UDP header is 8 bytes of a longer datagram: its checksum cannot be verified. */
	{ "6 time exceeded", "198.51.100.254,10.0.1.20\t10.0.1.20,198.51.100.7\t\t53002\t11\t\t2\t1,1" },
	{ "7 UDP checksum 0", "10.0.1.30\t198.51.100.60\t\t5000\t\t\t3\t1" },
	{ "8 wrong TCP checksum", "10.0.0.5\t198.51.100.80\t40002\t\t\t0\t\t1" },
	{ "9 ARP", "\t\t\t\t\t\t\t" },
	{ "9 IPv6 ping", "\t\t\t\t\t\t\t" },
	/* Truncated: tshark cannot verify what it did not see. */
	{ "10 truncated", "10.0.0.5\t198.51.100.80\t40003\t\t\t2\t\t1" },
	{ "11 fragment 1", "10.0.1.40\t198.51.100.70\t\t\t\t\t\t1" },
	{ "11 fragment 2", "10.0.1.40\t198.51.100.70\t\t\t\t\t\t1" },
	/* tshark reassembles and checks the UDP checksum over all 3000 bytes. */
	{ "11 fragment 3", "10.0.1.40\t198.51.100.70\t\t6000\t\t\t1\t1" },
	{ "12 record route", "10.0.0.5\t198.51.100.80\t\t\t8\t\t\t1" },
};

static void test_static_nat_tshark_fields(void)
{
	char *dir, *path, **lines;

	TEST_NEED_TSHARK();
	dir = test_tmpdir();
	path = build_lesson(dir, "static-nat", "s.pcap", NULL);
	{
		const char *argv[] = { "tshark", "-r", path, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e",
			               "tcp.srcport", "-e", "udp.srcport", "-e", "icmp.type", "-o",
			               "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o",
			               "ip.check_checksum:TRUE", "-e", "tcp.checksum.status", "-e",
			               "udp.checksum.status", "-e", "ip.checksum.status", NULL };
		lines = tshark_lines(argv);
	}
	g_assert_cmpuint(g_strv_length(lines), ==, STATIC_NAT_PACKETS + 1); /* + the empty tail */
	for (unsigned i = 0; i < STATIC_NAT_PACKETS; i++) {
		if (strcmp(lines[i], static_nat_fields[i].line) != 0)
			g_error("frame %u (%s): tshark says \"%s\", expected \"%s\"", i + 1, static_nat_fields[i].what,
			        g_strescape(lines[i], NULL), g_strescape(static_nat_fields[i].line, NULL));
	}
	g_strfreev(lines);

	/* The checksums no field above shows: ICMP (incl. the one after IP options) and ICMPv6. */
	{
		const char *argv[] = { "tshark", "-r", path, "-T", "fields", "-Y", "icmp or icmpv6", "-e",
			               "icmp.checksum.status", "-e", "icmpv6.checksum.status", NULL };
		lines = tshark_lines(argv);
	}
	for (char **l = lines; *l && **l; l++)
		g_assert_cmpstr(g_strstrip(*l), ==, "1");
	g_assert_cmpuint(g_strv_length(lines), ==, 7 + 1); /* 4 echo, time exceeded, ICMPv6, RR */
	g_strfreev(lines);
	g_free(path);
	test_rmdir(dir);
}

static void test_static_nat_tshark_quiet(void)
{
	char *dir, *path, *out = NULL, *err = NULL;

	TEST_NEED_TSHARK();
	dir = test_tmpdir();
	path = build_lesson(dir, "static-nat", "s.pcap", NULL);
	{
		const char *argv[] = { "tshark", "-r", path, NULL };
		g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
	}
	/* tshark warns about running as root (CI containers do); that line is about the machine,
	 * not our file, so it is the one line allowed. */
	char *warn = test_tshark_warnings(err);
	g_assert_cmpstr(warn, ==, "");
	g_free(warn);
	g_assert_nonnull(strstr(out, "Who has 10.0.0.1?"));
	g_free(out);
	g_free(err);
	g_free(path);
	test_rmdir(dir);
}

/* ---- bench ------------------------------------------------------------------------------------ */

/* "proto src:port > dst:port" of an Ethernet/IPv4 frame, read through the cursor. */
static char *flow_key(const u_char *bytes, guint32 caplen)
{
	struct cursor c, ip;
	/* Zeroed: g_assert_true may return (non-fatal assertions), so the compiler wants values. */
	uint16_t ethertype = 0, sport = 0, dport = 0;
	uint8_t vihl = 0, proto = 0;
	uint32_t src = 0, dst = 0;

	cur_init(&c, bytes, caplen);
	g_assert_true(cur_skip(&c, 12) && cur_be16(&c, &ethertype));
	g_assert_cmphex(ethertype, ==, 0x0800);
	ip = c;
	g_assert_true(cur_u8(&ip, &vihl) && cur_skip(&ip, 8) && cur_u8(&ip, &proto) && cur_skip(&ip, 2) &&
	              cur_be32(&ip, &src) && cur_be32(&ip, &dst));
	g_assert_true(cur_skip(&c, (size_t)(vihl & 0x0f) * 4) && cur_be16(&c, &sport) && cur_be16(&c, &dport));
	return g_strdup_printf("%u %08x:%u > %08x:%u", proto, src, sport, dst, dport);
}

static void test_bench_packets_and_flows(void)
{
	char *dir = test_tmpdir();
	const char *const extra[] = { "--packets", "10000", "--flows", "100", NULL };
	char *path = build_lesson(dir, "bench", "b.pcap", extra);
	GHashTable *flows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pcap_t *p = open_capture(path);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	guint64 count = 0, udp = 0, last_ns = 0;

	while (pcap_next_ex(p, &h, &bytes) == 1) {
		guint64 ns = (guint64)h->ts.tv_sec * 1000000000u + (guint64)h->ts.tv_usec;
		char *key = flow_key(bytes, h->caplen);

		if (count > 0)
			g_assert_cmpuint(ns - last_ns, ==, 10000); /* 10 us apart */
		last_ns = ns;
		udp += key[0] == '1' && key[1] == '7';
		g_assert_cmpuint(h->caplen, ==, h->len);
		g_assert_cmpuint(h->len, <=, 14 + 20 + 20 + 1200);
		g_hash_table_add(flows, key);
		count++;
	}
	g_assert_cmpuint(count, ==, 10000);
	g_assert_cmpuint(g_hash_table_size(flows), ==, 100);
	g_assert_cmpuint(udp, ==, 12 * 100); /* 1 in 8: flows 7, 15, ... 95 are UDP, 100 rounds */
	pcap_close(p);
	g_hash_table_destroy(flows);
	g_free(path);
	test_rmdir(dir);
}

/* The bench patches libnet's checksums incrementally (RFC 1624): tshark must agree with all. */
static void test_bench_checksums(void)
{
	char *dir, *path, **lines;
	const char *const extra[] = { "--packets", "3000", "--flows", "300", "--seed", "42", NULL };

	TEST_NEED_TSHARK();
	dir = test_tmpdir();
	path = build_lesson(dir, "bench", "b.pcap", extra);
	{
		const char *argv[] = { "tshark", "-r", path, "-T", "fields", "-o", "tcp.check_checksum:TRUE", "-o",
			               "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-e",
			               "ip.checksum.status", "-e", "tcp.checksum.status", "-e", "udp.checksum.status",
			               NULL };
		lines = tshark_lines(argv);
	}
	g_assert_cmpuint(g_strv_length(lines), ==, 3000 + 1);
	for (unsigned i = 0; i < 3000; i++) {
		/* IP good, and exactly one of TCP or UDP good. */
		if (strcmp(lines[i], "1\t1\t") != 0 && strcmp(lines[i], "1\t\t1") != 0)
			g_error("bench frame %u: checksum status \"%s\"", i + 1, g_strescape(lines[i], NULL));
	}
	g_strfreev(lines);
	g_free(path);
	test_rmdir(dir);
}

static void test_bench_seed_changes_output(void)
{
	char *dir = test_tmpdir();
	const char *const seed1[] = { "--packets", "500", "--flows", "20", "--seed", "1", NULL };
	const char *const seed2[] = { "--packets", "500", "--flows", "20", "--seed", "2", NULL };
	char *a = build_lesson(dir, "bench", "a.pcap", seed1);
	char *b = build_lesson(dir, "bench", "b.pcap", seed2);
	char *bytes_a, *bytes_b;
	gsize len_a, len_b;

	g_assert_true(g_file_get_contents(a, &bytes_a, &len_a, NULL));
	g_assert_true(g_file_get_contents(b, &bytes_b, &len_b, NULL));
	g_assert_true(len_a != len_b || memcmp(bytes_a, bytes_b, len_a) != 0);
	g_free(bytes_a);
	g_free(bytes_b);
	g_free(a);
	g_free(b);
	test_rmdir(dir);
}

/* ---- the command line --------------------------------------------------------------------------- */

/* Usage errors: exit 2 and one line on stderr saying what is wrong. */
static const struct {
	const char *name;
	const char *args[8];
	const char *stderr_pattern;
} usage_cases[] = {
	{ .name = "unknown-lesson",
	  .args = { "gen", "nope", "-o", "x.pcap" },
	  .stderr_pattern = "natlb gen: unknown lesson \"nope\" (lessons: static-nat, *bench; or a scenario of natlb scenarios)\n" },
	{ .name = "missing-lesson", .args = { "gen", "-o", "x.pcap" }, .stderr_pattern = "natlb gen: missing LESSON*static-nat*\n" },
	{ .name = "missing-output", .args = { "gen", "static-nat" }, .stderr_pattern = "natlb gen: missing -o FILE\n" },
	{ .name = "bad-packets",
	  .args = { "gen", "bench", "-o", "x.pcap", "--packets", "lots" },
	  .stderr_pattern = "natlb gen: --packets: *\n" },
	{ .name = "negative-flows",
	  .args = { "gen", "bench", "-o", "x.pcap", "--flows", "-5" },
	  .stderr_pattern = "natlb gen: --flows: *\n" },
	{ .name = "too-many-flows",
	  .args = { "gen", "bench", "-o", "x.pcap", "--flows", "4000000000" },
	  .stderr_pattern = "natlb gen: --flows must be between 1 and *\n" },
	{ .name = "unknown-option",
	  .args = { "gen", "static-nat", "-o", "x.pcap", "--colour" },
	  .stderr_pattern = "natlb gen: *--colour*\n" },
	{ .name = "extra-argument",
	  .args = { "gen", "static-nat", "more", "-o", "x.pcap" },
	  .stderr_pattern = "natlb gen: unexpected argument \"more\"*\n" },
};

static void test_usage(gconstpointer data)
{
	unsigned i = GPOINTER_TO_UINT(data);

	if (g_test_subprocess()) {
		char *dir = test_tmpdir();
		char *cwd = g_get_current_dir();

		/* Run where a stray x.pcap could do no harm, and check none appears. */
		g_assert_cmpint(g_chdir(dir), ==, 0);
		g_assert_cmpint(run_gen(usage_cases[i].args), ==, 2);
		g_assert_false(g_file_test("x.pcap", G_FILE_TEST_EXISTS));
		g_assert_false(g_file_test("x.pcap.partial", G_FILE_TEST_EXISTS));
		g_assert_cmpint(g_chdir(cwd), ==, 0);
		g_free(cwd);
		test_rmdir(dir);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stderr(usage_cases[i].stderr_pattern);
}

static void test_help_lists_lessons(void)
{
	if (g_test_subprocess()) {
		const char *args[] = { "gen", "--help", NULL };
		run_gen(args); /* GOption prints the help and exits 0 */
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*LESSON*--output*--packets*Lessons:*static-nat*bench*");
}

static void test_unwritable_path(void)
{
	char *dir = test_tmpdir();
	char *path = g_build_filename(dir, "no-such-dir", "x.pcap", NULL);
	char *partial = g_strconcat(path, ".partial", NULL);
	const char *args[] = { "gen", "static-nat", "-o", path, NULL };
	GError *err = NULL;
	struct gen_options opt;

	char *msg = NULL;
	g_assert_cmpint(run_gen_binary(args, &msg), ==, 1);
	g_assert_nonnull(strstr(msg, "cannot create"));
	g_assert_nonnull(strstr(msg, "No such file or directory"));
	g_free(msg);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));

	/* The error names the path the user gave. */
	gen_options_init(&opt);
	g_assert_false(gen_lesson_find("static-nat")->build(path, &opt, &err));
	g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_assert_true(g_str_has_prefix(err->message, path));
	g_error_free(err);
	g_free(partial);
	g_free(path);
	test_rmdir(dir);
}

/* Failing at the very end (the rename) must still leave nothing behind. */
static void test_rename_failure_cleans_up(void)
{
	char *dir = test_tmpdir();
	char *path = g_build_filename(dir, "taken", NULL);
	char *partial = g_strconcat(path, ".partial", NULL);
	const char *args[] = { "gen", "static-nat", "-o", path, NULL };

	g_assert_cmpint(g_mkdir(path, 0700), ==, 0); /* a directory where the file should go */
	char *msg = NULL;
	g_assert_cmpint(run_gen_binary(args, &msg), ==, 1);
	g_assert_nonnull(strstr(msg, "cannot rename"));
	g_free(msg);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_DIR));
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_rmdir(path);
	g_free(partial);
	g_free(path);
	test_rmdir(dir);
}

static void test_lesson_table(void)
{
	unsigned n;
	const struct gen_lesson *all = gen_lessons(&n);

	g_assert_cmpuint(n, >=, 2);
	for (unsigned i = 0; i < n; i++) {
		g_assert_true(gen_lesson_find(all[i].name) == &all[i]);
		g_assert_nonnull(all[i].summary);
		g_assert_nonnull(all[i].build);
	}
	g_assert_null(gen_lesson_find("static"));
	g_assert_null(gen_lesson_find(""));
}

/* gen is named after captures and natlb scenarios after scenarios: every scenario finds its capture. */
static void test_every_bundled_scenario_names_a_capture(void)
{
	for (unsigned i = 0; i < n_bundled_scenarios; i++)
		if (!gen_lesson_for_scenario(bundled_scenarios[i].name))
			g_error("scenario %s has no capture for natlb gen", bundled_scenarios[i].name);
	g_assert_true(gen_lesson_for_scenario("lb-maglev") == gen_lesson_find("lb-spread"));
	g_assert_true(gen_lesson_for_scenario("napt-home") == gen_lesson_find("napt-home"));
	g_assert_null(gen_lesson_for_scenario("lb-nope"));
}

/* natlb gen lb-maglev writes the lb-spread capture, the same bytes, and says so. */
static void test_scenario_name_writes_its_capture(void)
{
	char *dir = test_tmpdir();
	char *by_scenario = g_build_filename(dir, "a.pcap", NULL), *by_capture = g_build_filename(dir, "b.pcap", NULL);
	const char *args_a[] = { "gen", "lb-maglev", "-o", by_scenario, NULL };
	const char *args_b[] = { "gen", "lb-spread", "-o", by_capture, NULL };
	char *err = NULL, *bytes_a = NULL, *bytes_b = NULL;
	gsize len_a, len_b;

	g_assert_cmpint(run_gen_binary(args_a, &err), ==, 0);
	g_assert_cmpstr(err, ==, "natlb gen: scenario lb-maglev replays the lb-spread capture; writing that\n");
	g_free(err);
	g_assert_cmpint(run_gen_binary(args_b, &err), ==, 0);
	g_assert_cmpstr(err, ==, ""); /* a capture name needs no word */
	g_assert_true(g_file_get_contents(by_scenario, &bytes_a, &len_a, NULL));
	g_assert_true(g_file_get_contents(by_capture, &bytes_b, &len_b, NULL));
	g_assert_cmpmem(bytes_a, len_a, bytes_b, len_b);
	g_free(bytes_a);
	g_free(bytes_b);
	g_free(err);
	g_free(by_scenario);
	g_free(by_capture);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	unsigned n;
	const struct gen_lesson *all;

	g_test_init(&argc, &argv, NULL);
	all = gen_lessons(&n);
	for (unsigned i = 0; i < n; i++) {
		char *name = g_strdup_printf("/gen/%s/builds-identically-twice", all[i].name);
		g_test_add_data_func(name, &all[i], test_builds_identically);
		g_free(name);
	}
	g_test_add_func("/gen/lessons/table-finds-each-by-name", test_lesson_table);
	g_test_add_func("/gen/static-nat/libpcap-reads-28-packets", test_static_nat_libpcap);
	g_test_add_func("/gen/static-nat/tshark-sees-addresses-and-checksums", test_static_nat_tshark_fields);
	g_test_add_func("/gen/static-nat/tshark-reads-without-complaint", test_static_nat_tshark_quiet);
	g_test_add_func("/gen/bench/10000-packets-in-100-flows", test_bench_packets_and_flows);
	g_test_add_func("/gen/bench/tshark-verifies-every-checksum", test_bench_checksums);
	g_test_add_func("/gen/bench/seed-changes-the-output", test_bench_seed_changes_output);
	for (unsigned i = 0; i < G_N_ELEMENTS(usage_cases); i++) {
		char *name = g_strdup_printf("/gen/main/usage/%s-exits-2", usage_cases[i].name);
		g_test_add_data_func(name, GUINT_TO_POINTER(i), test_usage);
		g_free(name);
	}
	g_test_add_func("/gen/main/help-lists-lessons", test_help_lists_lessons);
	g_test_add_func("/gen/scenario-name/every-bundled-scenario-names-a-capture",
	                test_every_bundled_scenario_names_a_capture);
	g_test_add_func("/gen/scenario-name/lb-maglev-writes-the-lb-spread-capture-and-says-so",
	                test_scenario_name_writes_its_capture);
	g_test_add_func("/gen/main/unwritable-path-exits-1-leaves-nothing", test_unwritable_path);
	g_test_add_func("/gen/main/rename-failure-leaves-nothing", test_rename_failure_cleans_up);
	return g_test_run();
}
