/* tests/test_shield_e2e.c: the shield lesson end to end: natlb gen shield-attacks, natlb replay with and without the shield, and tshark as the independent reader.
 *
 * What the lesson claims (scenarios/shield-attacks.ini, scenarios/shield-unprotected.ini), checked
 * on our output with tshark: with the shield, the targets see only the SYNs below syn-threshold
 * and the client that answered its cookie, no DNS answer crosses the shield, the bogon's SYN and
 * the malformed one stop at it; without it, every SYN reaches a target and every DNS answer the balancer.  Every link is
 * replayed alone (--links) so that tshark's TCP analysis sees each link's streams by themselves
 * (the shield translates nothing: the same 4-tuple on two links would look like retransmissions),
 * and must flag nothing on any link with the shield: the shield's SYN-ACKs and handed-on SYNs
 * make clean handshakes.
 */
#include <stdio.h>

#include "tests/testutil.h"

static char *tmp_dir;

static char *capture(void)
{
	char *path = g_strdup_printf("%s/shield-attacks.pcap", tmp_dir);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		const char *argv[] = { test_natlb_binary(), "gen", "shield-attacks", "-o", path, NULL };
		g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	}
	return path;
}

/* natlb replay --stats [--links LINK] of the capture through scenarios/SCENARIO.ini; the output
 * file's path, and the --stats text in *stats when asked. */
static char *replay(const char *scenario, const char *link, char **stats)
{
	char *sc = g_strdup_printf("scenarios/%s.ini", scenario);
	char *out = g_strdup_printf("%s/%s-%s.pcapng", tmp_dir, scenario, link ? link : "all");
	char *in = capture();
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", sc, "-o", out, in,
		               link ? "--links" : NULL, link, NULL };
	char *text = NULL, *err = NULL;
	int rc = test_run(argv, &text, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	if (stats)
		*stats = text;
	else
		g_free(text);
	g_free(err);
	g_free(in);
	g_free(sc);
	return out;
}

static unsigned count(const char *file, const char *filter)
{
	static const char *const fields[] = { "frame.number", NULL };
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	char *dump = test_tshark_fields(file, prefs, filter, fields);
	unsigned n = 0;
	for (const char *p = dump; *p; p++)
		n += *p == '\n';
	g_free(dump);
	return n;
}

#define SYN_ONLY "tcp.flags.syn == 1 && tcp.flags.ack == 0"

static const struct link_case {
	const char *name, *scenario, *link, *filter;
	unsigned want;
} link_cases[] = {
	/* 2 clients before and after, 50 flood SYNs below the threshold, the cookie client's SYN handed on */
	{ "shield/app/syns-below-threshold-and-the-cookie-client", "shield-attacks", "app", SYN_ONLY, 53 },
	{ "shield/app/no-flood-syn-after-cookies-on", "shield-attacks", "app", SYN_ONLY " && frame.time_relative > 1.2 && "
	  "!(tcp.srcport == 40023) && !(tcp.srcport == 40022)", 0 },
	{ "shield/edge/no-dns-answer", "shield-attacks", "edge", "udp", 0 },
	{ "shield/edge/no-bogon-source", "shield-attacks", "edge", "ip.src == 10.1.2.3", 0 },
	{ "shield/edge/no-forged-ack", "shield-attacks", "edge", "ip.src == 198.51.100.66", 0 },
	/* the SYN whose TCP data offset is 4: the loop hands the shield invalid packets too */
	{ "shield/edge/no-malformed-syn", "shield-attacks", "edge", "ip.src == 198.51.100.77", 0 },
	{ "shield/internet/malformed-syn-dropped-by-the-shield", "shield-attacks", "internet",
	  "ip.src == 198.51.100.77 && frame.comment contains \"shield edge-shield: DROP (a malformed packet\"", 1 },
	{ "shield/internet/a-cookie-syn-ack-per-answered-syn", "shield-attacks", "internet",
	  "tcp.flags.syn == 1 && tcp.flags.ack == 1 && frame.comment contains \"cookie SYN-ACK\"", 151 },
	/* a forwarded packet's note is on its view beyond the stage: every link */
	{ "shield/all/three-attacks-start", "shield-attacks", NULL, "frame.comment contains \"ATTACK STARTED\"", 3 },
	{ "shield/all/three-attacks-end", "shield-attacks", NULL, "frame.comment contains \"ATTACK ENDED\"", 3 },
	{ "shield/internet/dns-answers-dropped-as-reflection", "shield-attacks", "internet",
	  "udp.srcport == 53 && frame.comment contains \"DNS reflection\"", 100 },
	/* the same capture without the shield: the whole flood and the bogon reach the targets */
	{ "unprotected/app/every-syn-reaches-a-target", "shield-unprotected", "app", SYN_ONLY, 204 },
	{ "unprotected/internet/every-dns-answer-reaches-the-balancer", "shield-unprotected", "internet",
	  "udp.srcport == 53 && frame.comment contains \"l4-lb shop-nlb: DROP\"", 100 },
};

static void test_link_count(gconstpointer data)
{
	const struct link_case *c = data;
	TEST_NEED_TSHARK();
	char *out = replay(c->scenario, c->link, NULL);
	g_assert_cmpuint(count(out, c->filter), ==, c->want);
	g_free(out);
}

/* tshark's own verdict on every link with the shield: checksums right, no TCP expert warning. */
static void test_tshark_finds_nothing_wrong(gconstpointer data)
{
	TEST_NEED_TSHARK();
	char *out = replay("shield-attacks", data, NULL);
	static const char *const fields[] = { "frame.number", "_ws.expert.message", NULL };
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	char *bad = test_tshark_fields(out, prefs, "tcp.analysis.flags or _ws.malformed or ip.checksum.status != 1 or "
	                               "(tcp and tcp.checksum.status != 1) or (udp and udp.checksum.status != 1)", fields);
	g_assert_cmpstr(bad, ==, "");
	g_free(bad);
	g_free(out);
}

static void test_stats_use_shield_metric_names(void)
{
	char *stats = NULL;
	char *out = replay("shield-attacks", "edge", &stats);
	static const char *const want[] = {
		"DDoSDetected = 0 at the end of the capture", "attacks detected: 3",
		"SYN flood on 203.0.113.10: started 1.200 s, ended 2.000 s",
		"DNS reflection on 203.0.113.10: started 3.000 s, ended 4.000 s",
		"DDoSAttackPacketsPerSecond = 100, DDoSAttackBitsPerSecond = 869600",
		"SHIELD_REFLECT_DNS          100", "SHIELD_COOKIE_INVALID         1", "SHIELD_BOGON_SOURCE           1",
		"good cookies back 1", "SHIELD_MALFORMED              1",
		/* the malformed SYN was dropped, not delivered untranslated */
		"delivered                65   (0 of them untranslated",
		/* one spoofed SYN: counted in the singular */
		"spoofed sources (bogons) on 203.0.113.10: started 5.000 s, ended 6.000 s; 1 packet, 66 bytes",
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		if (!strstr(stats, want[i]))
			g_printerr("missing '%s' in:\n%s", want[i], stats);
		g_assert_nonnull(strstr(stats, want[i]));
	}
	g_free(stats);
	g_free(out);
}

/* A shield right in front of an ALB: its rate-based rule counts the HTTP requests the balancer
 * reads, and the balancer answers those over the limit with 403 (an AWS WAF web ACL's block).  One
 * client sends 12 requests on one keep-alive connection; the limit is 10. */
static const char waf_scenario[] =
	"[scenario]\nchain = internet > guard > edge > alb > app\n[link internet]\n[link edge]\n"
	"[link app]\nnetworks = 10.0.1.0/24\n"
	"[stage guard]\ntype = shield\nprotect = 203.0.113.10\nrate-limit = 10/1m\n"
	"[stage alb]\ntype = l7-lb\nlisten = 203.0.113.10:80\naddress = 10.0.1.2\ndefault = forward web\n"
	"target-group.web = 10.0.1.21:8080\n";

static char *waf_replay(const char *link, char **stats)
{
	char *in = g_strdup_printf("%s/waf.pcap", tmp_dir), *sc = g_strdup_printf("%s/waf.ini", tmp_dir);
	char *out = g_strdup_printf("%s/waf-%s.pcapng", tmp_dir, link);
	const char *gen[] = { test_natlb_binary(), "gen", "bench-l7", "--packets", "12", "--flows", "1", "-o", in, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	g_assert_true(g_file_set_contents(sc, waf_scenario, -1, NULL));
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", sc, "-o", out, "--links", link, in, NULL };
	g_assert_cmpint(test_run(argv, stats, NULL), ==, 0);
	g_free(in);
	g_free(sc);
	return out;
}

static void test_rate_limit_in_front_of_an_alb_answers_403(void)
{
	TEST_NEED_TSHARK();
	char *stats = NULL;
	char *client_side = waf_replay("internet", &stats);
	g_assert_cmpuint(count(client_side, "http.request"), ==, 12);
	g_assert_cmpuint(count(client_side, "http.response.code == 403"), ==, 2);
	g_assert_cmpuint(count(client_side, "http.response.code == 200"), ==, 10);
	g_assert_nonnull(strstr(stats, "AllowedRequests = 10, BlockedRequests = 2"));
	g_assert_nonnull(strstr(stats, "request flood (rate-based rule) on 203.0.113.10"));
	char *target_side = waf_replay("app", NULL);
	g_assert_cmpuint(count(target_side, "http.request"), ==, 10); /* the blocked two never reach it */
	char *edge = waf_replay("edge", NULL);
	g_assert_cmpuint(count(edge, "frame.comment contains \"11 requests from 198.51.100.1 in the last 60 s, limit 10: "
	                       "blocked as by a WAF web ACL, 403 from the balancer\""), ==, 1);
	g_free(stats);
	g_free(client_side);
	g_free(target_side);
	g_free(edge);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	for (unsigned i = 0; i < G_N_ELEMENTS(link_cases); i++) {
		char *p = g_strdup_printf("/shield-e2e/%s", link_cases[i].name);
		g_test_add_data_func(p, &link_cases[i], test_link_count);
		g_free(p);
	}
	static const char *const links[] = { "internet", "edge", "app" };
	for (unsigned i = 0; i < G_N_ELEMENTS(links); i++) {
		char *p = g_strdup_printf("/shield-e2e/shield/%s/tshark-checksums-and-tcp-analysis-clean", links[i]);
		g_test_add_data_func(p, links[i], test_tshark_finds_nothing_wrong);
		g_free(p);
	}
	g_test_add_func("/shield-e2e/stats/shield-metric-names-and-drop-reasons", test_stats_use_shield_metric_names);
	g_test_add_func("/shield-e2e/web-acl/rate-limit-in-front-of-an-alb-answers-403",
	                test_rate_limit_in_front_of_an_alb_answers_403);
	int rc = g_test_run();
	test_rmdir(tmp_dir);
	return rc;
}
