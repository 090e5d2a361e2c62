/* tests/test_replay.c: end to end: natlb gen, natlb replay, and tshark as the independent reader of the output. */
#include <pcap/pcap.h>
#include <stdio.h>

#include "tests/testutil.h"

#define LESSON_SCENARIO "scenarios/static-nat.ini"


static void gen_lesson(const char *dir, const char *lesson, char **path)
{
	*path = g_strdup_printf("%s/%s.pcap", dir, lesson);
	const char *argv[] = { test_natlb_binary(), "gen", lesson, "-o", *path, NULL };
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	if (rc != 0)
		g_printerr("natlb gen: %s", err);
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
}

/* natlb replay with extra arguments; returns exit status, stderr in *err. */
static int replay(const char *const *extra, const char *input, const char *output, char **out, char **err)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, (char *)test_natlb_binary());
	g_ptr_array_add(argv, "replay");
	for (const char *const *e = extra; e && *e; e++)
		g_ptr_array_add(argv, (char *)*e);
	g_ptr_array_add(argv, "-o");
	g_ptr_array_add(argv, (char *)output);
	g_ptr_array_add(argv, (char *)input);
	g_ptr_array_add(argv, NULL);
	int rc = test_run((const char *const *)argv->pdata, out, err);
	g_ptr_array_free(argv, TRUE);
	return rc;
}

static char *tshark_fields(const char *file, const char *const *fields, const char *const *prefs)
{
	return test_tshark_fields(file, prefs, NULL, fields);
}

struct fixture {
	char *dir;
	char *lesson;  /* the static-nat lesson capture */
	char *out;     /* its replay */
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	f->dir = test_tmpdir();
	gen_lesson(f->dir, "static-nat", &f->lesson);
	f->out = g_strdup_printf("%s/out.pcapng", f->dir);
	const char *args[] = { "-q", "-s", LESSON_SCENARIO, NULL };
	char *err = NULL;
	int rc = replay(args, f->lesson, f->out, NULL, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	test_rmdir(f->dir);
	g_free(f->lesson);
	g_free(f->out);
}

/* Every IPv4 header checksum verifies on every link; transport checksums verify except where
 * the capture itself was wrong (it stays wrong on both links) or the UDP checksum is absent. */
static void test_checksums(struct fixture *f, gconstpointer data)
{
	(void)data;
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.number", "frame.interface_name", "ip.checksum.status",
	                                      "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status",
	                                      "tcp.srcport", NULL };
	static const char *const prefs[] = { "ip.check_checksum:TRUE", "tcp.check_checksum:TRUE",
	                                     "udp.check_checksum:TRUE", NULL };
	char *out = tshark_fields(f->out, fields, prefs);
	char **lines = g_strsplit(out, "\n", -1);
	unsigned ip_checked = 0, bad_tcp = 0;
	for (char **l = lines; *l && **l; l++) {
		char **c = g_strsplit(*l, "|", -1);
		g_assert_cmpuint(g_strv_length(c), ==, 7);
		if (*c[2]) { /* ip.checksum.status: 1 = good, one value per IPv4 header */
			char **st = g_strsplit(c[2], ",", -1);
			for (char **s = st; *s; s++)
				g_assert_cmpstr(*s, ==, "1");
			g_strfreev(st);
			ip_checked++;
		}
		if (g_str_equal(c[3], "0")) { /* the lesson's deliberately wrong SYN, port 40002 */
			g_assert_cmpstr(c[6], ==, "40002");
			bad_tcp++;
		} else if (g_str_equal(c[3], "2")) { /* unverifiable: the lesson's snaplen-cut segment */
			g_assert_cmpstr(c[6], ==, "40003");
		} else if (*c[3]) {
			g_assert_cmpstr(c[3], ==, "1");
		}
		if (*c[4]) /* 1 good; 2 unverified (a quoted header); 3 absent (checksum 0) */
			g_assert_true(g_str_equal(c[4], "1") || g_str_equal(c[4], "2") || g_str_equal(c[4], "3"));
		if (*c[5])
			g_assert_cmpstr(c[5], ==, "1");
		g_strfreev(c);
	}
	g_assert_cmpuint(ip_checked, >, 40);
	g_assert_cmpuint(bad_tcp, ==, 2); /* wrong on lan and exactly as wrong on internet */
	g_strfreev(lines);
	g_free(out);
}

static gboolean files_equal(const char *a, const char *b)
{
	char *da = NULL, *db = NULL;
	gsize la = 0, lb = 0;
	g_assert_true(g_file_get_contents(a, &da, &la, NULL));
	g_assert_true(g_file_get_contents(b, &db, &lb, NULL));
	gboolean eq = la == lb && memcmp(da, db, la) == 0;
	g_free(da);
	g_free(db);
	return eq;
}

static void test_deterministic(struct fixture *f, gconstpointer data)
{
	(void)data;
	char *again = g_strdup_printf("%s/again.pcapng", f->dir);
	const char *args[] = { "-q", "-s", LESSON_SCENARIO, NULL };
	g_assert_cmpint(replay(args, f->lesson, again, NULL, NULL), ==, 0);
	g_assert_true(files_equal(f->out, again));
	g_free(again);
}

/* --links keeps only the far link; -f keeps only what the BPF filter matches. */
static void test_links_and_filter(struct fixture *f, gconstpointer data)
{
	(void)data;
	TEST_NEED_TSHARK();
	char *wan = g_strdup_printf("%s/wan.pcapng", f->dir);
	const char *args[] = { "-q", "-s", LESSON_SCENARIO, "--links", "internet", "-f", "tcp port 80", NULL };
	g_assert_cmpint(replay(args, f->lesson, wan, NULL, NULL), ==, 0);
	static const char *const fields[] = { "frame.interface_name", "tcp.srcport", "tcp.dstport", NULL };
	char *out = tshark_fields(wan, fields, NULL);
	char **lines = g_strsplit(out, "\n", -1);
	unsigned n = 0;
	for (char **l = lines; *l && **l; l++, n++) {
		char **c = g_strsplit(*l, "|", -1);
		g_assert_cmpstr(c[0], ==, "internet");
		g_assert_true(g_str_equal(c[1], "80") || g_str_equal(c[2], "80"));
		g_strfreev(c);
	}
	g_assert_cmpuint(n, >, 5);
	g_strfreev(lines);
	g_free(out);
	g_free(wan);
}

static unsigned pcap_count(const char *path, int *linktype)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	g_assert_nonnull(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned n = 0;
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	*linktype = pcap_datalink(p);
	pcap_close(p);
	return n;
}

/* --format pcap: one classic pcap per link, as many views as the pcapng holds for that link. */
static void test_format_pcap(struct fixture *f, gconstpointer data)
{
	(void)data;
	char *base = g_strdup_printf("%s/views.pcap", f->dir);
	char *lan = g_strdup_printf("%s/views.lan.pcap", f->dir);
	char *inet = g_strdup_printf("%s/views.internet.pcap", f->dir);
	const char *args[] = { "-q", "-s", LESSON_SCENARIO, "--format", "pcap", NULL };
	int lt = 0;
	g_assert_cmpint(replay(args, f->lesson, base, NULL, NULL), ==, 0);
	g_assert_false(g_file_test(base, G_FILE_TEST_EXISTS));
	unsigned n_lan = pcap_count(lan, &lt);
	g_assert_cmpint(lt, ==, DLT_EN10MB);
	unsigned n_in = pcap_count(f->lesson, &lt);
	g_assert_cmpuint(n_lan, ==, n_in); /* every captured packet has its lan view */
	g_assert_cmpuint(pcap_count(inet, &lt), >, 0);
	g_free(base);
	g_free(lan);
	g_free(inet);
}

/* --stats states the balance: input = delivered + dropped + consumed. */
static void test_stats_balance(struct fixture *f, gconstpointer data)
{
	(void)data;
	char *again = g_strdup_printf("%s/stats.pcapng", f->dir);
	const char *args[] = { "-q", "--stats", "-s", LESSON_SCENARIO, NULL };
	char *out = NULL;
	g_assert_cmpint(replay(args, f->lesson, again, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, ": balanced\n"));
	g_assert_null(strstr(out, "NOT BALANCED"));
	g_assert_nonnull(strstr(out, "stage office (static-nat)"));
	g_free(out);
	g_free(again);
}

/* Bad input: one line on stderr naming the problem, the right exit status, and no output file. */
struct bad_case {
	const char *name;
	const char *const args[8];   /* after "replay"; "@LESSON" and "@OUT" are substituted */
	int want_status;
	const char *want_stderr;     /* a substring */
};

static const struct bad_case bad_cases[] = {
	{ .name = "missing-input", .args = { "-o", "@OUT", "/nonexistent/x.pcap" }, .want_status = 1,
	  .want_stderr = "/nonexistent/x.pcap: No such file" },
	{ .name = "not-a-capture", .args = { "-o", "@OUT", "scenarios/static-nat.ini" }, .want_status = 1,
	  .want_stderr = "not a pcap or pcapng capture" },
	{ .name = "unwritable-output", .args = { "-o", "/nonexistent/dir/out.pcapng", "@LESSON" }, .want_status = 1,
	  .want_stderr = "/nonexistent/dir/out.pcapng" },
	{ .name = "unknown-scenario", .args = { "-s", "no-such-lesson", "-o", "@OUT", "@LESSON" }, .want_status = 2,
	  .want_stderr = "no-such-lesson: no such file, and no bundled lesson" },
	{ .name = "bad-filter", .args = { "-f", "tcp port", "-o", "@OUT", "@LESSON" }, .want_status = 2,
	  .want_stderr = "filter 'tcp port'" },
	{ .name = "unknown-link", .args = { "--links", "internett", "-o", "@OUT", "@LESSON" }, .want_status = 2,
	  .want_stderr = "did you mean 'internet'?" },
	{ .name = "unknown-link-far-from-every-name-lists-the-links", .args = { "--links", "lan,inet", "-o", "@OUT", "@LESSON" },
	  .want_status = 2, .want_stderr = "static-nat.ini (its links: lan, internet)\n" },
	{ .name = "bad-format", .args = { "--format", "json", "-o", "@OUT", "@LESSON" }, .want_status = 2,
	  .want_stderr = "--format 'json'" },
	{ .name = "no-input", .args = { "-o", "@OUT" }, .want_status = 2, .want_stderr = "no capture given" },
};

static void test_bad_input(struct fixture *f, gconstpointer data)
{
	const struct bad_case *c = data;
	char *outp = g_strdup_printf("%s/bad.pcapng", f->dir);
	const char *argv[12] = { test_natlb_binary(), "replay" };
	unsigned n = 2;
	for (unsigned i = 0; c->args[i]; i++)
		argv[n++] = g_str_equal(c->args[i], "@LESSON") ? f->lesson : g_str_equal(c->args[i], "@OUT") ? outp : c->args[i];
	argv[n] = NULL;
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	g_assert_cmpint(rc, ==, c->want_status);
	g_assert_nonnull(strstr(err, c->want_stderr));
	unsigned newlines = 0;
	for (const char *e = err; *e; e++)
		newlines += *e == '\n';
	g_assert_cmpuint(newlines, ==, 1); /* one line */
	g_assert_false(g_file_test(outp, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test("/nonexistent/dir/out.pcapng.partial", G_FILE_TEST_EXISTS));
	g_free(err);
	g_free(outp);
}

/* A capture cut in the middle of a record: the packets before it are replayed, with a warning. */
static void test_truncated_capture(struct fixture *f, gconstpointer data)
{
	(void)data;
	char *bytes = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(f->lesson, &bytes, &len, NULL));
	char *cut = g_strdup_printf("%s/cut.pcap", f->dir);
	g_assert_true(g_file_set_contents(cut, bytes, (gssize)(len - 30), NULL));
	char *outp = g_strdup_printf("%s/cut.pcapng", f->dir);
	const char *args[] = { "-s", LESSON_SCENARIO, NULL };
	char *err = NULL;
	g_assert_cmpint(replay(args, cut, outp, NULL, &err), ==, 0);
	g_assert_nonnull(strstr(err, "warning"));
	g_assert_nonnull(strstr(err, "truncated"));
	int lt;
	g_assert_cmpuint(pcap_count(outp, &lt), >, 20);
	g_free(err);
	g_free(outp);
	g_free(cut);
	g_free(bytes);
}

/* Two inputs, one of them pcapng and shifted by 500 us: merged by timestamp, nothing lost. */
static void test_merge_inputs(struct fixture *f, gconstpointer data)
{
	(void)data;
	char *editcap = g_find_program_in_path("editcap");
	if (!editcap) {
		g_test_skip("editcap (wireshark-common) is not installed");
		return;
	}
	char *shifted = g_strdup_printf("%s/shifted.pcapng", f->dir);
	const char *ed[] = { editcap, "-F", "pcapng", "-t", "0.0005", f->lesson, shifted, NULL };
	g_assert_cmpint(test_run(ed, NULL, NULL), ==, 0);
	char *lan = g_strdup_printf("%s/lan.pcap", f->dir);
	char *lan_file = g_strdup_printf("%s/lan.lan.pcap", f->dir);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", LESSON_SCENARIO, "--links", "lan", "--format",
	                       "pcap", "-o", lan, f->lesson, shifted, NULL };
	g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	int lt;
	unsigned n_in = pcap_count(f->lesson, &lt);
	/* The lan views are the captured packets: all of both inputs, in time order. */
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(lan_file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	g_assert_nonnull(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned n = 0;
	gint64 last = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		gint64 ts = (gint64)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
		g_assert_cmpint(ts, >=, last);
		last = ts;
		n++;
	}
	pcap_close(p);
	g_assert_cmpuint(n, ==, 2 * n_in);
	g_free(editcap);
	g_free(shifted);
	g_free(lan);
	g_free(lan_file);
}

/* pcaps/ holds what natlb gen writes today, byte for byte (make pcaps regenerates it). */
static void test_pcaps_up_to_date(void)
{
	const char *list[] = { test_natlb_binary(), "gen", "--list", NULL };
	char *names = NULL;
	g_assert_cmpint(test_run(list, &names, NULL), ==, 0);
	char *dir = test_tmpdir();
	char **lessons = g_strsplit(names, "\n", -1);
	unsigned checked = 0;
	for (char **l = lessons; *l; l++) {
		if (!**l || g_str_has_prefix(*l, "bench"))
			continue;
		char *fresh = NULL, *kept = g_strdup_printf("pcaps/%s.pcap", *l);
		gen_lesson(dir, *l, &fresh);
		if (!g_file_test(kept, G_FILE_TEST_EXISTS) || !files_equal(fresh, kept))
			g_error("%s is missing or out of date: run make pcaps and commit it", kept);
		checked++;
		g_free(fresh);
		g_free(kept);
	}
	g_assert_cmpuint(checked, >=, 1);
	g_strfreev(lessons);
	g_free(names);
	test_rmdir(dir);
}


/* --links L skips the copy a stage would otherwise work on when nobody sees the link it leaves
 * (common/pipeline.c, travel): each link written alone must hold exactly that link's views of a
 * full replay, bytes (md5), times and comments, as tshark reads them. */
static const struct links_case {
	const char *lesson, *scenario;
	const char *const links[4];
} links_cases[] = {
	{ "static-nat", "scenarios/static-nat.ini", { "lan", "internet", NULL } },
	{ "napt-home", "scenarios/napt-home.ini", { "lan", "internet", NULL } },
	{ "natgw-vs-s3-endpoint", "scenarios/natgw-vs-s3-endpoint.ini", { "app", "vpc", "internet", NULL } },
	{ "lb-target-log", "scenarios/lb-proxy-protocol.ini", { "internet", "vpc", NULL } },
};

static void test_each_link_alone(gconstpointer data)
{
	const struct links_case *c = data;
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir(), *capture = NULL;
	gen_lesson(dir, c->lesson, &capture);
	char *all = g_strdup_printf("%s/all.pcapng", dir);
	const char *args[] = { "-q", "-s", c->scenario, NULL };
	g_assert_cmpint(replay(args, capture, all, NULL, NULL), ==, 0);
	static const char *const prefs[] = { "frame.generate_md5_hash:TRUE", NULL };
	static const char *const fields[] = { "frame.time_epoch", "frame.md5_hash", "frame.comment", NULL };
	for (const char *const *l = c->links; *l; l++) {
		char *one = g_strdup_printf("%s/%s.pcapng", dir, *l);
		const char *one_args[] = { "-q", "-s", c->scenario, "--links", *l, NULL };
		g_assert_cmpint(replay(one_args, capture, one, NULL, NULL), ==, 0);
		char *filter = g_strdup_printf("frame.interface_name == \"%s\"", *l);
		char *want = test_tshark_fields(all, prefs, filter, fields);
		char *got = test_tshark_fields(one, prefs, NULL, fields);
		g_assert_cmpuint(strlen(want), >, 0);
		g_assert_cmpstr(got, ==, want);
		g_free(want);
		g_free(got);
		g_free(filter);
		g_free(one);
	}
	g_free(all);
	g_free(capture);
	test_rmdir(dir);
}

/* Issue 10: a wrong address plan replays (exit 0) but says what is wrong, once, with counts and
 * the first packet.  Rows: the scenario file with one line changed, and what stderr must say. */
struct plan_case {
	const char *name;
	const char *lesson;          /* natlb gen LESSON, replayed through scenarios/LESSON.ini */
	const char *from, *to;       /* the line of scenarios/static-nat.ini replaced */
	const char *want[2];         /* substrings of stderr */
	const char *not_want;        /* a substring stderr must not have; NULL */
};

static const struct plan_case plan_cases[] = {
	/* 25, not the 26: the office router now decrements the TTL, and the ICMP error the
	 * capture shows with TTL 254 cannot have crossed it twice (255, then 256), as this plan would
	 * have it: its walk back stops there instead of ending as a loop. */
	{ .name = "readme-step-7-maps-onto-the-capture-servers", .lesson = "static-nat",
	  .from = "10.0.1.0/24 192.0.2.0/24", .to = "10.0.1.0/24 198.51.100.0/24",
	  .want = { "warning: 25 of 28 packets ended as ROUTING_LOOP (first: packet 1, 203.0.113.5 -> 198.51.100.80 "
	            "on internet)", "puts 198.51.100.80 on link internet (one of static-nat office's own addresses)" } },
	{ .name = "lan-networks-miss-the-capture-hosts", .lesson = "napt-home",
	  .from = "networks = 192.168.1.0/24", .to = "networks = 192.168.2.0/24",
	  .want = { "warning: 16 of 29 captured packets do not belong on link lan, where the capture was taken (first: "
	            "packet 1, 192.168.1.12 -> 198.51.100.53 on lan)", "add the capture's hosts to the networks of lan" } },
	{ .name = "the-static-nat-lesson-as-it-is-says-nothing", .lesson = "static-nat", .from = "", .to = "",
	  .not_want = "warning" },
	{ .name = "the-napt-home-lesson-as-it-is-says-nothing", .lesson = "napt-home", .from = "", .to = "",
	  .not_want = "warning" },
};

/* text with the first from replaced by to; from must be there. */
static char *replace_once(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	g_assert_nonnull(at);
	return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
}

static void test_plan_warnings(struct fixture *f, gconstpointer data)
{
	const struct plan_case *c = data;
	char *text = NULL, *capture = NULL, *scenario = g_strdup_printf("scenarios/%s.ini", c->lesson);
	g_assert_true(g_file_get_contents(scenario, &text, NULL, NULL));
	gen_lesson(f->dir, c->lesson, &capture);
	char *changed = *c->from ? replace_once(text, c->from, c->to) : g_strdup(text);
	char *ini = g_strdup_printf("%s/plan.ini", f->dir), *outp = g_strdup_printf("%s/plan.pcapng", f->dir);
	g_assert_true(g_file_set_contents(ini, changed, -1, NULL));
	const char *args[] = { "-s", ini, NULL };
	char *err = NULL;

	g_assert_cmpint(replay(args, capture, outp, NULL, &err), ==, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(c->want) && c->want[i]; i++)
		if (!strstr(err, c->want[i]))
			g_error("stderr lacks \"%s\":\n%s", c->want[i], err);
	if (c->not_want && strstr(err, c->not_want))
		g_error("stderr has \"%s\":\n%s", c->not_want, err);
	/* once per replay: one line per kind of problem at most */
	char **lines = g_strsplit(err, "\n", -1);
	for (char **l = lines; *l; l++)
		for (char **m = l + 1; *m; m++)
			g_assert_true(!**l || strcmp(*l, *m) != 0);
	g_strfreev(lines);
	g_free(err);
	g_free(outp);
	g_free(ini);
	g_free(changed);
	g_free(text);
	g_free(capture);
	g_free(scenario);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/replay/static-nat/checksums-verify-or-stay-as-wrong", struct fixture, NULL, fixture_setup,
	           test_checksums, fixture_teardown);
	g_test_add("/replay/static-nat/two-runs-are-byte-identical", struct fixture, NULL, fixture_setup,
	           test_deterministic, fixture_teardown);
	g_test_add("/replay/options/links-and-bpf-filter", struct fixture, NULL, fixture_setup, test_links_and_filter,
	           fixture_teardown);
	g_test_add("/replay/options/format-pcap-writes-one-file-per-link", struct fixture, NULL, fixture_setup,
	           test_format_pcap, fixture_teardown);
	g_test_add("/replay/options/stats-show-the-balance", struct fixture, NULL, fixture_setup, test_stats_balance,
	           fixture_teardown);
	g_test_add("/replay/bad-input/truncated-capture-replays-what-was-read", struct fixture, NULL, fixture_setup,
	           test_truncated_capture, fixture_teardown);
	g_test_add_func("/replay/lessons/pcaps-folder-matches-natlb-gen", test_pcaps_up_to_date);
	for (size_t i = 0; i < G_N_ELEMENTS(links_cases); i++) {
		char *path = g_strdup_printf("/replay/options/each-link-alone-holds-its-views-of-the-full-replay/%s",
		                             links_cases[i].scenario + strlen("scenarios/"));
		g_test_add_data_func(path, &links_cases[i], test_each_link_alone);
		g_free(path);
	}
	g_test_add("/replay/options/two-inputs-merged-by-timestamp", struct fixture, NULL, fixture_setup,
	           test_merge_inputs, fixture_teardown);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		char *path = g_strdup_printf("/replay/bad-input/%s", bad_cases[i].name);
		g_test_add(path, struct fixture, &bad_cases[i], fixture_setup, test_bad_input, fixture_teardown);
		g_free(path);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(plan_cases); i++) {
		char *path = g_strdup_printf("/replay/address-plan/%s", plan_cases[i].name);
		g_test_add(path, struct fixture, &plan_cases[i], fixture_setup, test_plan_warnings, fixture_teardown);
		g_free(path);
	}
	return g_test_run();
}
