/* tests/test_l4lb_e2e.c: the L4 balancer lessons end to end: natlb gen, natlb replay, and tshark as the independent reader.
 *
 * Follows: the lesson scenarios in scenarios/lb-*.ini and their captures (tools/gen_lessons_lb.c);
 * their golden field dumps are cases of tests/golden/TESTLIST (tests/test_golden.c).  tshark also decodes
 * the proxy protocol v2 header (its PROXY dissector, tried as a heuristic before the port's HTTP)
 * and runs its TCP sequence analysis over every view: no expert warning may come out of it.
 */
#include <stdbool.h>
#include <stdio.h>

#include "tests/testutil.h"

/* One replay: a lesson capture through a scenario. */
struct lesson {
	const char *scenario; /* scenarios/NAME.ini */
	const char *capture;  /* natlb gen LESSON */
};

static const struct lesson lessons[] = {
	{ "lb-maglev", "lb-spread" },
	{ "lb-modulo", "lb-spread" },
	{ "lb-rendezvous", "lb-spread" },
	{ "lb-dns", "lb-dns" },
	{ "lb-client-ip-preserved", "lb-client-ip" },
	{ "lb-client-ip-replaced", "lb-client-ip" },
	{ "lb-proxy-protocol", "lb-target-log" },
};

static char *tmp_dir;


static char *capture_path(const char *capture)
{
	char *path = g_strdup_printf("%s/%s.pcap", tmp_dir, capture);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		const char *argv[] = { test_natlb_binary(), "gen", capture, "-o", path, NULL };
		char *err = NULL;
		int rc = test_run(argv, NULL, &err);
		if (rc != 0)
			g_printerr("natlb gen %s: %s", capture, err);
		g_assert_cmpint(rc, ==, 0);
		g_free(err);
	}
	return path;
}

/* natlb replay --stats of a lesson into OUT; returns the --stats text. */
static char *replay(const struct lesson *l, const char *out)
{
	char *scenario = g_strdup_printf("scenarios/%s.ini", l->scenario);
	char *in = capture_path(l->capture);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", scenario, "-o", out, in, NULL };
	char *stats = NULL, *err = NULL;
	int rc = test_run(argv, &stats, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(stats, ": balanced\n"));
	g_assert_null(strstr(stats, "NOT BALANCED"));
	g_assert_null(strstr(stats, "WARNING"));
	g_free(err);
	g_free(in);
	g_free(scenario);
	return stats;
}

static char *replayed(const struct lesson *l, char **stats)
{
	char *out = g_strdup_printf("%s/%s.pcapng", tmp_dir, l->scenario);
	char *s = replay(l, out);
	if (stats)
		*stats = s;
	else
		g_free(s);
	return out;
}

static char *tshark(const char *file, const char *filter, const char *const *fields)
{
	static const char *const prefs[] = { "tcp.try_heuristic_first:TRUE", TEST_TSHARK_CHECKSUMS, NULL };
	return test_tshark_fields(file, prefs, filter, fields);
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;
	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- views on the right links, checksums, TCP analysis ----------------------------------------- */

/* Every view: on the clients' link one end is a listener address and the other a client; on the
 * targets' link one end is a target and the other the client (preserved) or the balancer's own
 * address, 10.0.1.2.  The RSTs the balancer emits count as views of the clients' link. */
static bool is_listener(const char *a)
{
	return g_str_has_prefix(a, "203.0.113.");
}

static bool is_target(const char *a)
{
	return g_str_has_prefix(a, "10.0.") && !g_str_equal(a, "10.0.1.2");
}

static void test_views_on_the_right_links(gconstpointer data)
{
	const struct lesson *l = data;
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.interface_name", "ip.src", "ip.dst", NULL };
	char *out = replayed(l, NULL);
	char *dump = tshark(out, NULL, fields);
	char **lines = g_strsplit(dump, "\n", -1);
	bool replaced = g_str_has_suffix(l->scenario, "replaced") || g_str_equal(l->scenario, "lb-proxy-protocol");
	unsigned internet = 0, vpc = 0;
	for (char **line = lines; *line && **line; line++) {
		char **c = g_strsplit(*line, "|", -1);
		g_assert_cmpuint(g_strv_length(c), ==, 3);
		const char *src = c[1], *dst = c[2];
		if (g_str_equal(c[0], "internet")) {
			internet++;
			g_assert_true(is_listener(src) != is_listener(dst));
			const char *client = is_listener(src) ? dst : src;
			g_assert_false(g_str_has_prefix(client, "10."));
		} else {
			g_assert_cmpstr(c[0], ==, "vpc");
			vpc++;
			g_assert_true(is_target(src) != is_target(dst));
			const char *client = is_target(src) ? dst : src;
			if (replaced)
				g_assert_cmpstr(client, ==, "10.0.1.2");
			else
				g_assert_false(g_str_has_prefix(client, "10.") || is_listener(client));
		}
		g_strfreev(c);
	}
	g_assert_cmpuint(internet, >, 0);
	g_assert_cmpuint(vpc, >, 0);
	g_strfreev(lines);
	g_free(dump);
	g_free(out);
}

/* tshark's own verdict: every checksum right, no TCP expert warning (sequence, ack, retransmission,
 * window ...) on either link, proxy protocol or not. */
static void test_tshark_finds_nothing_wrong(gconstpointer data)
{
	const struct lesson *l = data;
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.number", "frame.interface_name", "_ws.expert.message", NULL };
	char *out = replayed(l, NULL);
	char *bad = tshark(out, "tcp.analysis.flags or _ws.malformed or (ip.checksum.status != 1) or "
	                   "(tcp and tcp.checksum.status != 1) or (udp and udp.checksum.status != 1)", fields);
	g_assert_cmpstr(bad, ==, "");
	g_free(bad);
	g_free(out);
}

/* ---- proxy protocol v2 ----------------------------------------------------------------------- */

static void test_ppv2_decoded(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.interface_name", "ip.src", "ip.dst", "proxy.v2.version",
		                              "proxy.src.ipv4", "proxy.srcport", "proxy.dst.ipv4", "proxy.dstport",
		                              "tcp.len", NULL };
	char *out = replayed(&lessons[6], NULL);
	char *got = tshark(out, "proxy", fields);
	/* one header, on the target's link, naming the client and the listener; from the balancer */
	g_assert_cmpstr(got, ==, "vpc|10.0.1.2|10.0.1.31|2|198.51.100.23|40001|203.0.113.30|80|97\n");
	g_free(got);
	/* the client's request is 69 bytes; the target's view of it 28 more */
	static const char *const lens[] = { "frame.interface_name", "tcp.len", NULL };
	got = tshark(out, "tcp.len > 0 and ip.dst == 10.0.1.31", lens);
	g_assert_cmpstr(got, ==, "vpc|97\nvpc|77\n");
	g_free(got);
	g_free(out);
}

/* ---- the report: modulo moves most flows, Maglev about 1/N ------------------------------------- */

static double percent_after(const char *text, const char *marker)
{
	const char *s = strstr(text, marker);
	g_assert_nonnull(s);
	s = strchr(s + strlen(marker), '(');
	g_assert_nonnull(s);
	return g_ascii_strtod(s + 1, NULL);
}

static void test_report_compares_methods(void)
{
	double remapped[3], lookup[3];
	for (unsigned i = 0; i < 3; i++) {
		char *stats = NULL;
		char *out = replayed(&lessons[i], &stats);
		g_test_message("%s:\n%s", lessons[i].scenario, stats);
		g_assert_nonnull(strstr(stats, "event 5.000 s down 10.0.1.13:8080: targets taking new flows 5 -> 4"));
		g_assert_nonnull(strstr(stats, "live flows 20: "));
		remapped[i] = percent_after(stats, "the hash now picks another target for");
		lookup[i] = percent_after(stats, "lookup: ");
		g_assert_nonnull(strstr(stats, "ideal 1/5 = 20.0%"));
		g_assert_nonnull(strstr(stats, "load over 5 targets: flows max/mean"));
		g_free(stats);
		g_free(out);
	}
	/* maglev, modulo, rendezvous */
	g_assert_cmpfloat(lookup[0], >=, 19.5);
	g_assert_cmpfloat(lookup[0], <=, 25.0);
	g_assert_cmpfloat(lookup[1], >=, 75.0);
	g_assert_cmpfloat(lookup[2], >=, 19.0);
	g_assert_cmpfloat(lookup[2], <=, 21.0);
	g_assert_cmpfloat(remapped[1], >, 60.0);
	g_assert_cmpfloat(remapped[1], >, remapped[0]);
	g_assert_cmpfloat(remapped[1], >, remapped[2]);
}

/* natlb hash -s agrees with the replay about where a flow goes. */
static void test_hash_verb_agrees_with_replay(void)
{
	TEST_NEED_TSHARK();
	const char *argv[] = { test_natlb_binary(), "hash", "-s", "scenarios/lb-maglev.ini", "198.51.100.101:41000",
		               "203.0.113.10:80/tcp", NULL };
	char *text = NULL;
	g_assert_cmpint(test_run(argv, &text, NULL), ==, 0);
	static const char *const fields[] = { "ip.dst", "tcp.dstport", NULL };
	char *out = replayed(&lessons[0], NULL);
	char *got = tshark(out, "frame.interface_name == \"vpc\" and tcp.srcport == 41000 and tcp.flags.syn == 1 "
	                   "and tcp.flags.ack == 0", fields);
	char **c = g_strsplit(g_strstrip(got), "|", -1);
	char *target = g_strdup_printf("-> %s:%s\n", c[0], c[1]);
	g_assert_nonnull(strstr(text, target));
	g_assert_nonnull(strstr(text, "maglev slot "));
	g_free(target);
	g_strfreev(c);
	g_free(got);
	g_free(out);
	g_free(text);
}

/* The same inputs give the same bytes. */
static void test_deterministic(gconstpointer data)
{
	const struct lesson *l = data;
	char *a = g_strdup_printf("%s/%s.a.pcapng", tmp_dir, l->scenario);
	char *b = g_strdup_printf("%s/%s.b.pcapng", tmp_dir, l->scenario);
	g_free(replay(l, a));
	g_free(replay(l, b));
	char *da = NULL, *db = NULL;
	gsize la = 0, lb = 0;
	g_assert_true(g_file_get_contents(a, &da, &la, NULL));
	g_assert_true(g_file_get_contents(b, &db, &lb, NULL));
	g_assert_cmpuint(la, >, 1000);
	g_assert_cmpmem(da, la, db, lb);
	g_free(da);
	g_free(db);
	g_free(a);
	g_free(b);
}

/* A capture taken on the targets' side walks back through the balancer to the clients. */
static void test_capture_on_the_target_side(void)
{
	TEST_NEED_TSHARK();
	/* first the vpc views of the preserved-IP lesson, written alone... */
	char *in = capture_path("lb-client-ip");
	char *vpc = g_strdup_printf("%s/vpc-only.pcap", tmp_dir);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", "scenarios/lb-client-ip-preserved.ini",
		               "--links", "vpc", "--format", "pcap", "-o", vpc, in, NULL };
	g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	char *vpc_file = g_strdup_printf("%s/vpc-only.vpc.pcap", tmp_dir);
	/* ... then replayed as if captured there */
	char *text = NULL;
	g_assert_true(g_file_get_contents("scenarios/lb-client-ip-preserved.ini", &text, NULL, NULL));
	char *moved = g_strdup_printf("%s/at-target.ini", tmp_dir);
	GString *s = g_string_new(text);
	g_string_replace(s, "capture = internet", "capture = vpc", 1);
	g_assert_true(g_file_set_contents(moved, s->str, -1, NULL));
	char *out = g_strdup_printf("%s/at-target.pcapng", tmp_dir);
	const char *argv2[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", moved, "-o", out, vpc_file, NULL };
	char *stats = NULL;
	g_assert_cmpint(test_run(argv2, &stats, NULL), ==, 0);
	g_assert_null(strstr(stats, "WARNING"));
	static const char *const fields[] = { "frame.comment", NULL };
	char *comments = tshark(out, "frame.interface_name == \"internet\"", fields);
	g_assert_cmpuint(count_lines(comments), ==, 27);
	g_assert_null(strstr(comments, "differs from the captured packet"));
	g_assert_null(strstr(comments, "could not have passed"));
	g_free(comments);
	g_free(stats);
	g_free(out);
	g_string_free(s, TRUE);
	g_free(moved);
	g_free(text);
	g_free(vpc_file);
	g_free(vpc);
	g_free(in);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	for (unsigned i = 0; i < G_N_ELEMENTS(lessons); i++) {
		char *p = g_strdup_printf("/l4lb-e2e/%s/views-on-the-right-links", lessons[i].scenario);
		g_test_add_data_func(p, &lessons[i], test_views_on_the_right_links);
		g_free(p);
		p = g_strdup_printf("/l4lb-e2e/%s/tshark-checksums-and-tcp-analysis-clean", lessons[i].scenario);
		g_test_add_data_func(p, &lessons[i], test_tshark_finds_nothing_wrong);
		g_free(p);
		p = g_strdup_printf("/l4lb-e2e/%s/two-runs-are-byte-identical", lessons[i].scenario);
		g_test_add_data_func(p, &lessons[i], test_deterministic);
		g_free(p);
	}
	g_test_add_func("/l4lb-e2e/lb-proxy-protocol/tshark-decodes-the-ppv2-header", test_ppv2_decoded);
	g_test_add_func("/l4lb-e2e/lb-spread/report-modulo-moves-most-maglev-about-1-in-n", test_report_compares_methods);
	g_test_add_func("/l4lb-e2e/lb-maglev/natlb-hash-agrees-with-the-replay", test_hash_verb_agrees_with_replay);
	g_test_add_func("/l4lb-e2e/lb-client-ip/capture-on-the-target-side-walks-back", test_capture_on_the_target_side);
	int rc = g_test_run();
	test_rmdir(tmp_dir);
	return rc;
}
