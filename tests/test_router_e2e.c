/* tests/test_router_e2e.c: the traceroute lesson end to end: natlb gen, natlb replay, and tshark reading each stage's time exceeded (RFC 792), the TTL per hop (RFC 1812 section 5.3.1) and the MACs per link.
 *
 * Scenario traceroute: lan > home (napt) > access > carrier (napt) > internet, captured on lan.  The
 * capture holds four probes, TTL 1 to 4, and the answers from beyond the carrier; the stages answer
 * the first two.
 */
#include <stdbool.h>
#include <stdio.h>

#include "tests/testutil.h"

static char *gen_traceroute(const char *dir)
{
	char *path = g_strdup_printf("%s/traceroute.pcap", dir);
	const char *argv[] = { test_natlb_binary(), "gen", "traceroute", "-o", path, NULL };
	g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	return path;
}

/* natlb replay -q --stats -s SCENARIO -o OUT IN, which must balance and match the capture. */
static void replay(const char *scenario, const char *in, const char *out)
{
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", scenario, "-o", out, in, NULL };
	char *o = NULL, *e = NULL;
	g_assert_cmpint(test_run(argv, &o, &e), ==, 0);
	g_assert_cmpstr(e, ==, "");
	g_assert_nonnull(strstr(o, ": balanced\n"));
	g_assert_null(strstr(o, "differ from the captured packet"));
	g_free(o);
	g_free(e);
}

/* The lesson replayed through scenarios/traceroute.ini, or through a copy that says `routers = no`. */
static char *replayed(const char *dir, bool routers)
{
	char *in = gen_traceroute(dir);
	char *out = g_strdup_printf("%s/%s.pcapng", dir, routers ? "routers" : "translators");
	char *scen = g_strdup("scenarios/traceroute.ini");
	if (!routers) {
		char *text = NULL;
		g_assert_true(g_file_get_contents(scen, &text, NULL, NULL));
		char **parts = g_strsplit(text, "\nrouters = yes\n", 2);
		g_assert_nonnull(parts[1]);
		char *translators = g_strconcat(parts[0], "\nrouters = no\n", parts[1], NULL);
		g_free(scen);
		scen = g_strdup_printf("%s/translators.ini", dir);
		g_assert_true(g_file_set_contents(scen, translators, -1, NULL));
		g_free(translators);
		g_strfreev(parts);
		g_free(text);
	}
	replay(scen, in, out);
	g_free(scen);
	g_free(in);
	return out;
}

static char *tshark(const char *file, const char *filter, const char *const *fields)
{
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	return test_tshark_fields(file, prefs, filter, fields);
}

/* What traceroute prints, hop by hop: the source of each time exceeded the PC receives, then the
 * target's port unreachable.  Hops 1 and 2 are the stages, answering from their inside addresses. */
static void test_one_time_exceeded_per_stage(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *out = replayed(dir, true);
	static const char *const hops[] = { "ip.src", "icmp.type", "icmp.code", "icmp.checksum.status", NULL };
	char *got = tshark(out, "frame.interface_name == \"lan\" && icmp", hops);
	g_assert_cmpstr(got, ==,
	                "192.168.1.1,192.168.1.10|11|0|1\n"   /* hop 1: home, emitted by natlb */
	                "100.64.0.1,192.168.1.10|11|0|1\n"    /* hop 2: carrier, emitted by natlb, through home */
	                "192.0.2.1,192.168.1.10|11|0|1\n"     /* hop 3: captured */
	                "198.51.100.99,192.168.1.10|3|3|1\n"); /* the target: captured */
	g_free(got);
	/* Each stage sent its own, once, onto the link the probe came from. */
	static const char *const who[] = { "frame.interface_name", "frame.comment", NULL };
	got = tshark(out, "icmp.type == 11 && frame.comment contains \"ICMP time exceeded in transit (11/0) from\"", who);
	g_assert_cmpstr(got, ==,
	                "lan|flow #1 | napt home: ICMP time exceeded in transit (11/0) from 192.168.1.1 to 192.168.1.10: the TTL "
	                "of its packet to 198.51.100.99 ran out here (RFC 792)\n"
	                "access|flow #2 | napt carrier: ICMP time exceeded in transit (11/0) from 100.64.0.1 to 100.64.0.7: the "
	                "TTL of its packet to 198.51.100.99 ran out here (RFC 792)\n");
	g_free(got);
	test_rmdir(dir);
	g_free(out);
}

/* Each router takes one off the TTL: the probes sent with 1..4 cross lan, access, internet. */
static void test_ttl_per_link(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *out = replayed(dir, true);
	static const char *const f[] = { "frame.interface_name", "udp.srcport", "ip.ttl", "ip.checksum.status", NULL };
	char *got = tshark(out, "udp && !icmp", f);
	g_assert_cmpstr(got, ==,
	                "lan|45001|1|1\n"
	                "lan|45002|2|1\naccess|45002|1|1\n"
	                "lan|45003|3|1\naccess|45003|2|1\ninternet|45003|1|1\n"
	                "lan|45004|4|1\naccess|45004|3|1\ninternet|45004|2|1\n");
	g_free(got);
	test_rmdir(dir);
	g_free(out);
}

/* On each link, a router's MAC to the next hop's: the PC and the home router (as captured) on lan,
 * the two stages' own MACs on access, the carrier's and the far hosts' on internet. */
static void test_macs_per_link(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *out = replayed(dir, true);
	static const char *const f[] = { "frame.interface_name", "eth.src", "eth.dst", NULL };
	char *got = tshark(out, NULL, f);
	/* The distinct pairs per link, in first-seen order. */
	GString *pairs = g_string_new(NULL);
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l && **l; l++) {
		char *line = g_strconcat(*l, "\n", NULL);
		if (!strstr(pairs->str, line))
			g_string_append(pairs, line);
		g_free(line);
	}
	g_assert_cmpstr(pairs->str, ==,
	                "lan|02:00:00:00:01:0a|02:00:00:00:01:01\n"     /* PC -> home (the capture's router MAC) */
	                "lan|02:00:00:00:01:01|02:00:00:00:01:0a\n"     /* home -> PC */
	                "access|02:6e:6c:62:00:01|02:6e:6c:62:01:01\n"  /* home -> carrier */
	                "access|02:6e:6c:62:01:01|02:6e:6c:62:00:01\n"  /* carrier -> home */
	                "internet|02:6e:6c:62:01:02|02:00:c6:33:64:63\n" /* carrier -> 198.51.100.99 */
	                "internet|02:00:c0:00:02:01|02:6e:6c:62:01:02\n" /* 192.0.2.1 -> carrier */
	                "internet|02:00:c6:33:64:63|02:6e:6c:62:01:02\n");
	g_string_free(pairs, TRUE);
	g_strfreev(lines);
	g_free(got);
	test_rmdir(dir);
	g_free(out);
}

/* routers = no: what a student saw before: the PC's own MAC on the internet link, TTLs untouched,
 * and a traceroute that starts at hop 3. */
static void test_routers_no(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *out = replayed(dir, false);
	static const char *const f[] = { "frame.interface_name", "eth.src", "ip.ttl", NULL };
	char *got = tshark(out, "udp.srcport == 45001 && !icmp", f);
	g_assert_cmpstr(got, ==, "lan|02:00:00:00:01:0a|1\naccess|02:00:00:00:01:0a|1\ninternet|02:00:00:00:01:0a|1\n");
	g_free(got);
	static const char *const src[] = { "ip.src", NULL };
	got = tshark(out, "frame.interface_name == \"lan\" && icmp.type == 11", src);
	g_assert_cmpstr(got, ==, "192.0.2.1,192.168.1.10\n");
	g_free(got);
	test_rmdir(dir);
	g_free(out);
}

/* A router's own packets leave from its MAC too: the hairpin lesson's packets turned back inside
 * come from the home router's MAC (as the capture shows it) to the other console's. */
static void test_hairpinned_from_the_router_mac(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/hairpin.pcap", dir), *out = g_strdup_printf("%s/hairpin.pcapng", dir);
	const char *argv[] = { test_natlb_binary(), "gen", "napt-hairpin", "-o", in, NULL };
	g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	replay("scenarios/napt-hairpin.ini", in, out);
	static const char *const f[] = { "ip.dst", "eth.src", "eth.dst", "ip.ttl", NULL };
	char *got = tshark(out, "frame.comment contains \"hairpinned\"", f);
	g_assert_cmpstr(got, ==,
	                "192.168.1.10|02:00:00:00:01:01|02:00:00:00:01:0a|63\n"
	                "192.168.1.20|02:00:00:00:01:01|02:00:00:00:01:14|63\n"
	                "192.168.1.10|02:00:00:00:01:01|02:00:00:00:01:0a|63\n");
	g_free(got);
	test_rmdir(dir);
	g_free(in);
	g_free(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/router-e2e/traceroute/one-time-exceeded-per-stage-then-the-captured-hops",
	                test_one_time_exceeded_per_stage);
	g_test_add_func("/router-e2e/traceroute/each-router-takes-one-off-the-ttl", test_ttl_per_link);
	g_test_add_func("/router-e2e/traceroute/tshark-reads-router-and-host-macs-per-link", test_macs_per_link);
	g_test_add_func("/router-e2e/traceroute/routers-no-keeps-the-pc-mac-and-ttl-on-every-link", test_routers_no);
	g_test_add_func("/router-e2e/hairpin/turned-back-inside-from-the-router-mac", test_hairpinned_from_the_router_mac);
	return g_test_run();
}
