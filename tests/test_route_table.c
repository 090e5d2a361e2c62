/* tests/test_route_table.c: the route-table stage, prefix lists, and the loop's bypass of stages a route sends traffic around.
 *
 * Follows the Amazon VPC User Guide's route priority (longest prefix; on equal length a CIDR
 * route beats a prefix-list route) and gateway endpoints (S3 traffic leaves untranslated).  The
 * stage is tested on decoded packets directly (its verdict, drop reason, note, bypass answer),
 * then through the replay loop with a static NAT standing in for the NAT gateway, captured on
 * either side, and with a test stage whose bypass spans only one of two later stages.
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "common/checksum.h"
#include "common/input.h"
#include "common/note.h"
#include "common/output.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "common/tables_reader.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "nat/route_table.h"
#include "tools/stage_types.h"

/* natlb's stage types and this file's toy ones. */
static struct stage_registry test_types;

#define T0 G_GINT64_CONSTANT(1767225600000000000)

#define APP      0x0a00010au /* 10.0.1.10, the instance */
#define S3       0x34d814b5u /* 52.216.20.181, in pl-s3 */
#define WEB      0xc6336450u /* 198.51.100.80 */
#define RESOLVER 0x0a000002u /* 10.0.0.2 */
#define EIP_HOST 0xcb00710au /* 203.0.113.10: 10.0.1.10 behind the test's static NAT */

/* app > vpc-rt > vpc > natgw > internet; a static NAT stands in for the NAT gateway (its
 * translation is easy to see: 10.0.1.0/24 <-> 203.0.113.0/24). */
#define SCENARIO(capture, routes, extra)                                                             \
	"[scenario]\nchain = app > vpc-rt > vpc > natgw > internet\ncapture = " capture "\n"         \
	"[link app]\nnetworks = 10.0.1.0/24\n[link vpc]\nnetworks = 10.0.0.0/24\n[link internet]\n"  \
	"[stage vpc-rt]\ntype = route-table\nroutes = " routes "\n"                                  \
	"[stage natgw]\ntype = static-nat\nmap = 10.0.1.0/24 203.0.113.0/24\n"                       \
	"[prefix-list pl-s3]\ndescription = com.amazonaws.us-east-1.s3 (abridged)\n"                 \
	"prefixes = 52.216.0.0/15, 3.5.0.0/19, 54.231.0.0/16\n" extra

#define LESSON_ROUTES "10.0.0.0/16 local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 natgw; 192.0.2.0/24 blackhole"


static struct scenario *load(const char *text)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "rt.ini", text, &err);
	g_assert_no_error(err);
	return sc;
}

/* ---- The stage on one packet ---------------------------------------------------------------- */

struct lookup_case {
	const char *name;
	const char *routes;
	uint32_t dst;
	enum verdict want;
	unsigned want_drop; /* DROP_NONE when forwarded */
	const char *want_note;      /* substring */
	unsigned want_bypass;       /* stages routed around */
};

static const struct lookup_case lookup_cases[] = {
	{ "local-route-beats-the-default", LESSON_ROUTES, RESOLVER, VERDICT_FORWARD, DROP_NONE,
	  "10.0.0.2 matches 10.0.0.0/16: local, stays in the VPC", 0 },
	{ "prefix-list-entry-beats-the-default", LESSON_ROUTES, S3, VERDICT_FORWARD, DROP_NONE,
	  "52.216.20.181 matches pl-s3 (52.216.0.0/15): via gateway endpoint vpce-s3, not translated "
	  "(the source stays 10.0.1.10)", 1 },
	{ "default-route-to-the-next-stage", LESSON_ROUTES, WEB, VERDICT_FORWARD, DROP_NONE,
	  "198.51.100.80 matches 0.0.0.0/0: to natgw", 0 },
	{ "longer-cidr-inside-a-prefix-list-entry-wins", LESSON_ROUTES "; 52.216.20.0/24 natgw", S3, VERDICT_FORWARD, DROP_NONE,
	  "matches 52.216.20.0/24: to natgw", 0 },
	{ "equal-length-cidr-beats-the-prefix-list", "52.216.0.0/15 natgw; pl-s3 endpoint vpce-s3", S3, VERDICT_FORWARD,
	  DROP_NONE, "matches 52.216.0.0/15: to natgw", 0 },
	{ "equal-length-cidr-beats-the-prefix-list-written-after-it", "pl-s3 endpoint vpce-s3; 52.216.0.0/15 natgw", S3,
	  VERDICT_FORWARD, DROP_NONE, "matches 52.216.0.0/15: to natgw", 0 },
	{ "longer-prefix-list-entry-beats-a-shorter-cidr", "pl-s3 vpce-s3; 52.0.0.0/8 blackhole", S3, VERDICT_FORWARD,
	  DROP_NONE, "via gateway endpoint vpce-s3", 1 },
	{ "blackhole-drops-with-its-reason", LESSON_ROUTES, 0xc000020au, VERDICT_DROP, DROP_ROUTE_BLACKHOLE,
	  "DROP (its destination matches a blackhole route): 10.0.1.10 -> 192.0.2.10 matches 192.0.2.0/24", 0 },
	{ "no-route-drops", "10.0.0.0/16 local; pl-s3 endpoint vpce-s3", WEB, VERDICT_DROP, DROP_ROUTE_NO_ROUTE,
	  "DROP (no route matches its destination): 10.0.1.10 -> 198.51.100.80", 0 },
	{ "local-route-to-an-address-no-link-holds-drops", LESSON_ROUTES, 0x0a004d07u, VERDICT_DROP,
	  DROP_ROUTE_LOCAL_NO_HOST, "DROP (its destination is in the local route, but no link of the VPC holds that "
	  "address): 10.0.1.10 -> 10.0.77.7 matches 10.0.0.0/16", 0 },
	{ "host-route-is-the-longest", LESSON_ROUTES "; 198.51.100.80/32 blackhole", WEB, VERDICT_DROP,
	  DROP_ROUTE_BLACKHOLE, "blackhole route): 10.0.1.10 -> 198.51.100.80 matches 198.51.100.80/32", 0 },
};

static void test_lookup(gconstpointer data)
{
	const struct lookup_case *c = data;
	char *text = g_strdup_printf(SCENARIO("app", "%s", ""), c->routes);
	struct scenario *sc = load(text);
	struct stage *st = sc->stages[0];
	uint8_t frame[46];
	struct packet p = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame, .linktype = DLT_EN10MB };
	GString *note = g_string_new(NULL);
	struct stage_ctx ctx = { .now_ns = T0, .note = note, .drop = DROP_NONE, .stage = st };
	const char *via = NULL;

	test_udp_frame(frame, APP, c->dst, 41000, 80);
	g_assert_cmpint(decode_packet(&p), ==, DECODE_OK);
	unsigned bypass = st->ops->bypass(st, &p, DIR_LEFT_TO_RIGHT, &via);
	g_assert_cmpuint(bypass, ==, c->want_bypass);
	if (bypass)
		g_assert_cmpstr(via, ==, "gateway endpoint vpce-s3");
	enum verdict v = st->ops->process(st, &p, DIR_LEFT_TO_RIGHT, &ctx);
	g_assert_cmpint(v, ==, c->want);
	g_assert_cmpint(ctx.drop, ==, c->want_drop);
	if (!strstr(note->str, c->want_note))
		g_test_message("note: %s", note->str);
	g_assert_nonnull(strstr(note->str, c->want_note));
	/* "route-table vpc-rt: " is the loop's to write (test_loop_blackhole_counted sees it) */
	g_assert_false(g_str_has_prefix(note->str, "route-table"));
	/* A route table translates nothing. */
	uint8_t again[46];
	test_udp_frame(again, APP, c->dst, 41000, 80);
	g_assert_cmpmem(frame, sizeof frame, again, sizeof again);
	g_string_free(note, TRUE);
	scenario_free(sc);
	g_free(text);
}

/* A reply is routed around the NAT when its source takes an endpoint route, the way its request left. */
static void test_bypass_reply(void)
{
	struct scenario *sc = load(SCENARIO("app", LESSON_ROUTES, ""));
	struct stage *st = sc->stages[0];
	uint8_t frame[46];
	struct packet p = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame, .linktype = DLT_EN10MB };
	const char *via = NULL;

	test_udp_frame(frame, S3, APP, 80, 41000);
	decode_packet(&p);
	g_assert_cmpuint(st->ops->bypass(st, &p, DIR_RIGHT_TO_LEFT, &via), ==, 1);
	g_assert_cmpstr(via, ==, "gateway endpoint vpce-s3");
	test_udp_frame(frame, WEB, APP, 80, 41000);
	decode_packet(&p);
	g_assert_cmpuint(st->ops->bypass(st, &p, DIR_RIGHT_TO_LEFT, &via), ==, 0);
	/* A route table translates nothing: reverse() accepts everything and changes nothing. */
	GString *note = g_string_new(NULL);
	struct stage_ctx ctx = { .now_ns = T0, .note = note };
	g_assert_cmpint(st->ops->reverse(st, &p, DIR_RIGHT_TO_LEFT, &ctx), ==, REVERSE_TRANSLATED);
	g_string_free(note, TRUE);
	scenario_free(sc);
}

/* ---- Through the replay loop ------------------------------------------------------------------ */

struct replayed {
	char *stats;
	char *views; /* tshark: interface|ip.src|ip.dst|comment per line; NULL without tshark */
};

/* The comments here are about the route table's sentences, not the flow: drop the "flow #N | "
 * each one begins with (tests/test_pipeline.c and tests/test_outputs.c test that token). */
static void views_without_flow(char *views)
{
	char *w = views;
	for (const char *r = views; *r;) {
		const char *flow = strstr(r, "|flow #");
		const char *eol = strchr(r, '\n');
		if (flow && (!eol || flow < eol)) {
			const char *after = strstr(flow, " | ");
			g_assert_nonnull(after);
			size_t keep = (size_t)(flow + 1 - r);
			memmove(w, r, keep);
			w += keep;
			r = after + 3;
			continue;
		}
		size_t n = eol ? (size_t)(eol + 1 - r) : strlen(r);
		memmove(w, r, n);
		w += n;
		r += n;
	}
	*w = '\0';
}

/* Replay packets through a scenario; fills r; the caller checks stage counters on sc. */
static void replay(struct scenario *sc, const uint32_t (*pkts)[2], unsigned n, struct replayed *r)
{
	GError *err = NULL;
	char *dir = test_tmpdir();
	char *out_path = g_strdup_printf("%s/out.pcapng", dir);
	struct output *out = output_open(OUTPUT_PCAPNG, out_path, "test", &err);
	g_assert_no_error(err);
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new(sc, out, &opt, &err);
	g_assert_no_error(err);
	for (unsigned i = 0; i < n; i++) {
		uint8_t frame[46];
		/* From the subnet's side (its private or translated address) to port 80, or back. */
		uint32_t dst = pkts[i][1];
		bool out_bound = !((dst >> 24) == 10 || (dst & 0xffffff00u) == 0xcb007100u);
		test_udp_frame(frame, pkts[i][0], pkts[i][1], out_bound ? 41000 : 80, out_bound ? 80 : 41000);
		struct input_record rec = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame,
		                            .ts_ns = T0 + i * 1000000, .linktype = DLT_EN10MB };
		g_assert_true(pipeline_replay(pl, &rec, &err));
	}
	g_assert_true(pipeline_balanced(pl));
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	r->stats = g_string_free(s, FALSE);
	g_assert_null(strstr(r->stats, "differ from the captured packet"));
	g_assert_true(output_close(out, &err));
	pipeline_free(pl);
	r->views = NULL;
	if (test_have_tshark()) {
		const char *argv[] = { "tshark", "-r", out_path, "-T", "fields", "-E", "separator=|", "-e",
		                       "frame.interface_name", "-e", "ip.src", "-e", "ip.dst", "-e", "frame.comment", NULL };
		g_assert_cmpint(test_run(argv, &r->views, NULL), ==, 0);
		views_without_flow(r->views);
	}
	test_rmdir(dir);
	g_free(out_path);
}

static void replayed_free(struct replayed *r)
{
	g_free(r->stats);
	g_free(r->views);
}

/* The lines of r->views, each cut to its first n fields. */
static char *views_cut(const struct replayed *r, unsigned n)
{
	GString *out = g_string_new(NULL);
	char **lines = g_strsplit(r->views, "\n", -1);
	for (char **l = lines; *l && **l; l++) {
		char **f = g_strsplit(*l, "|", -1);
		for (unsigned i = 0; i < n && f[i]; i++)
			g_string_append_printf(out, "%s%s", i ? "|" : "", f[i]);
		g_string_append_c(out, '\n');
		g_strfreev(f);
	}
	g_strfreev(lines);
	return g_string_free(out, FALSE);
}

/* Captured in the subnet: the S3 request and its reply cross the NAT's links untranslated and
 * the NAT never sees them; the web request and reply are translated as before. */
static void test_loop_capture_in_subnet(void)
{
	struct scenario *sc = load(SCENARIO("app", LESSON_ROUTES, ""));
	static const uint32_t pkts[][2] = { { APP, S3 }, { S3, APP }, { APP, WEB }, { WEB, APP } };
	struct replayed r;
	const struct stage *nat = sc->stages[1];

	replay(sc, pkts, G_N_ELEMENTS(pkts), &r);
	g_assert_cmpuint(nat->counters.bypassed, ==, 2);
	g_assert_cmpuint(nat->counters.in[0] + nat->counters.in[1], ==, 2); /* only the web pair */
	g_assert_cmpuint(nat->counters.reversed, ==, 1);                     /* only the web reply */
	g_assert_cmpuint(sc->stages[0]->counters.in[0], ==, 2);
	g_assert_cmpuint(sc->stages[0]->counters.in[1], ==, 2);
	g_assert_nonnull(strstr(r.stats, "bypassed 2 (routed around this stage by another one"));
	if (r.views) {
		char *got = views_cut(&r, 3);
		g_assert_cmpstr(got, ==,
		                "app|10.0.1.10|52.216.20.181\n"
		                "vpc|10.0.1.10|52.216.20.181\n"
		                "internet|10.0.1.10|52.216.20.181\n" /* the source stays private */
		                "internet|52.216.20.181|10.0.1.10\n" /* the reply, derived, in travel order */
		                "vpc|52.216.20.181|10.0.1.10\n"
		                "app|52.216.20.181|10.0.1.10\n"
		                "app|10.0.1.10|198.51.100.80\n"
		                "vpc|10.0.1.10|198.51.100.80\n"
		                "internet|203.0.113.10|198.51.100.80\n"
		                "internet|198.51.100.80|203.0.113.10\n"
		                "vpc|198.51.100.80|10.0.1.10\n"
		                "app|198.51.100.80|10.0.1.10\n");
		g_free(got);
		g_assert_nonnull(strstr(r.views, "internet|10.0.1.10|52.216.20.181|static-nat natgw: bypassed, not processed: "
		                                 "route-table vpc-rt routes this flow via gateway endpoint vpce-s3\n"));
		g_assert_nonnull(strstr(r.views, "app|52.216.20.181|10.0.1.10|route-table vpc-rt: from 52.216.20.181 (pl-s3 "
		                                 "52.216.0.0/15): came through gateway endpoint vpce-s3, not translated; "
		                                 "delivered to 10.0.1.10 in the subnet | this is the captured packet\n"));
	}
	replayed_free(&r);
	scenario_free(sc);
}

/* Captured beyond the NAT: the S3 reply meets the NAT before the route table, and the request's
 * walk back meets it first too; both are still routed around it. */
static void test_loop_capture_beyond(void)
{
	struct scenario *sc = load(SCENARIO("internet", LESSON_ROUTES, ""));
	static const uint32_t pkts[][2] = { { APP, S3 }, { S3, APP }, { EIP_HOST, WEB }, { WEB, EIP_HOST } };
	struct replayed r;
	const struct stage *nat = sc->stages[1];

	replay(sc, pkts, G_N_ELEMENTS(pkts), &r);
	g_assert_cmpuint(nat->counters.bypassed, ==, 2);
	g_assert_cmpuint(nat->counters.in[0] + nat->counters.in[1], ==, 2);
	g_assert_cmpuint(nat->counters.reversed, ==, 1); /* the web request's walk back */
	if (r.views) {
		char *got = views_cut(&r, 3);
		g_assert_cmpstr(got, ==,
		                "app|10.0.1.10|52.216.20.181\n"
		                "vpc|10.0.1.10|52.216.20.181\n"
		                "internet|10.0.1.10|52.216.20.181\n"
		                "internet|52.216.20.181|10.0.1.10\n"
		                "vpc|52.216.20.181|10.0.1.10\n"
		                "app|52.216.20.181|10.0.1.10\n"
		                "app|10.0.1.10|198.51.100.80\n"
		                "vpc|10.0.1.10|198.51.100.80\n"
		                "internet|203.0.113.10|198.51.100.80\n"
		                "internet|198.51.100.80|203.0.113.10\n"
		                "vpc|198.51.100.80|10.0.1.10\n"
		                "app|198.51.100.80|10.0.1.10\n");
		g_free(got);
	}
	replayed_free(&r);
	scenario_free(sc);
}

/* A blackhole drop is counted under its name, in the stage and in the totals. */
static void test_loop_blackhole_counted(void)
{
	struct scenario *sc = load(SCENARIO("app", LESSON_ROUTES, ""));
	static const uint32_t pkts[][2] = { { APP, 0xc000020au }, { APP, 0xc0000263u } };
	struct replayed r;

	replay(sc, pkts, G_N_ELEMENTS(pkts), &r);
	g_assert_cmpuint(sc->stages[0]->counters.drops[DROP_ROUTE_BLACKHOLE], ==, 2);
	g_assert_cmpuint(sc->stages[0]->counters.dropped, ==, 2);
	g_assert_cmpuint(sc->stages[1]->counters.in[0], ==, 0);
	g_assert_nonnull(strstr(r.stats, "ROUTE_BLACKHOLE"));
	g_assert_nonnull(strstr(r.stats, " 2  its destination matches a blackhole route\n"));
	/* The annotation says it in the words of --stats, after the stage's name. */
	if (r.views)
		g_assert_nonnull(strstr(r.views, "route-table vpc-rt: DROP (its destination matches a blackhole route): "
		                                 "10.0.1.10 -> 192.0.2.10 matches 192.0.2.0/24"));
	g_assert_nonnull(strstr(r.stats, "route 4 192.0.2.0/24 -> blackhole: 2 out"));
	replayed_free(&r);
	scenario_free(sc);
}

/* ---- The loop's bypass, with a test stage ------------------------------------------------------
 *
 * "test-bypass" routes traffic to 198.51.100.0/24 around the ONE stage after it; the chain has
 * two static NATs after it, so the first is bypassed and the second still translates. */
static unsigned tb_bypass(const struct stage *st, const struct packet *p, enum hop_dir dir, const char **via)
{
	(void)st;
	uint32_t far = dir == DIR_LEFT_TO_RIGHT ? p->ip.dst : p->ip.src;
	*via = "the test path";
	return (far & 0xffffff00u) == 0xc6336400u ? 1 : 0;
}

static gboolean tb_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	(void)st; (void)cfg; (void)err;
	return TRUE;
}

static void tb_describe(const struct stage *st, GString *out)
{
	(void)st;
	g_string_append(out, "# test\n");
}

static enum verdict tb_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)p; (void)dir;
	note_appendf(ctx->note, "test-bypass %s: seen", st->name);
	return VERDICT_FORWARD;
}

static const char *const no_keys[] = { NULL };
static const struct stage_ops tb_ops = {
	.type = "test-bypass", .summary = "test", .keys = no_keys, .configure = tb_configure, .describe = tb_describe,
	.process = tb_process, .bypass = tb_bypass,
};

static void test_loop_bypass_spans_only_what_it_says(void)
{
	struct scenario *sc = load("[scenario]\nchain = a > tb > b > nat1 > c > nat2 > d\ncapture = a\n"
	                           "[link a]\nnetworks = 10.0.1.0/24\n[link b]\nnetworks = 10.0.2.0/24\n"
	                           "[link c]\nnetworks = 100.64.0.0/24\n[link d]\n[stage tb]\ntype = test-bypass\n"
	                           "[stage nat1]\ntype = static-nat\nmap = 10.0.1.0/24 100.64.1.0/24\n"
	                           "[stage nat2]\ntype = static-nat\nmap = 10.0.1.0/24 203.0.113.0/24; "
	                           "100.64.1.0/24 192.0.2.0/24\n");
	static const uint32_t pkts[][2] = { { APP, WEB }, { WEB, APP }, { APP, 0x08080808u } };
	struct replayed r;

	replay(sc, pkts, G_N_ELEMENTS(pkts), &r);
	g_assert_cmpuint(sc->stages[1]->counters.bypassed, ==, 2);
	g_assert_cmpuint(sc->stages[1]->counters.in[0], ==, 1); /* only the packet to 8.8.8.8 */
	g_assert_cmpuint(sc->stages[2]->counters.bypassed, ==, 0);
	g_assert_cmpuint(sc->stages[2]->counters.in[0] + sc->stages[2]->counters.in[1], ==, 3);
	if (r.views) {
		char *got = views_cut(&r, 3);
		g_assert_cmpstr(got, ==,
		                "a|10.0.1.10|198.51.100.80\n"
		                "b|10.0.1.10|198.51.100.80\n"
		                "c|10.0.1.10|198.51.100.80\n"      /* nat1 bypassed: untranslated */
		                "d|203.0.113.10|198.51.100.80\n"   /* nat2 still translates */
		                "d|198.51.100.80|203.0.113.10\n"
		                "c|198.51.100.80|10.0.1.10\n"
		                "b|198.51.100.80|10.0.1.10\n"
		                "a|198.51.100.80|10.0.1.10\n"
		                "a|10.0.1.10|8.8.8.8\n"
		                "b|10.0.1.10|8.8.8.8\n"
		                "c|100.64.1.10|8.8.8.8\n"
		                "d|192.0.2.10|8.8.8.8\n");
		g_free(got);
		g_assert_nonnull(strstr(r.views, "|static-nat nat1: bypassed, not processed: test-bypass tb routes this flow "
		                                 "via the test path\n"));
	}
	replayed_free(&r);
	scenario_free(sc);
}

/* ---- Scenario errors: one line, file:line, group, key, and a hint ------------------------------ */

struct error_case {
	const char *name;
	const char *text;
	const char *want; /* substring */
};

#define BASE_HEAD "[scenario]\nchain = app > vpc-rt > vpc > natgw > internet\n" \
	"[link app]\nnetworks = 10.0.1.0/24\n[link vpc]\nnetworks = 10.0.0.0/24\n[link internet]\n" \
	"[stage natgw]\ntype = static-nat\nmap = 10.0.1.0/24 203.0.113.0/24\n"
#define PL_S3 "[prefix-list pl-s3]\nprefixes = 52.216.0.0/15\n"
#define RT(routes) "[stage vpc-rt]\ntype = route-table\nroutes = " routes "\n"

static const struct error_case error_cases[] = {
	{ "missing-routes", BASE_HEAD PL_S3 "[stage vpc-rt]\ntype = route-table\n",
	  "rt.ini:13: [stage vpc-rt] routes: a route-table stage needs routes" },
	{ "unknown-prefix-list-hints", BASE_HEAD PL_S3 RT("pl-s4 endpoint vpce-s3"),
	  "rt.ini:15: [stage vpc-rt] routes: 'pl-s4 endpoint vpce-s3': 'pl-s4' is neither a prefix nor a "
	  "[prefix-list pl-s4] group (prefix lists: pl-s3); did you mean 'pl-s3'?" },
	{ "unknown-target-hints", BASE_HEAD PL_S3 RT("0.0.0.0/0 natgww"),
	  "unknown target 'natgww' (targets: local, natgw (the next stage), endpoint NAME, blackhole); did you mean 'natgw'?" },
	{ "target-not-the-next-stage", "[scenario]\nchain = app > vpc-rt > vpc > natgw > internet > far > edge\n"
	  "[link app]\nnetworks = 10.0.1.0/24\n[link vpc]\nnetworks = 10.0.0.0/24\n[link internet]\n[link edge]\n"
	  "[stage natgw]\ntype = static-nat\nmap = 10.0.1.0/24 203.0.113.0/24\n[stage far]\ntype = static-nat\n"
	  "map = 10.9.0.0/16 10.8.0.0/16\n" RT("0.0.0.0/0 far"),
	  "'0.0.0.0/0 far': 'far' is a stage, but not the one right after this route table (natgw)" },
	{ "endpoint-without-a-name", BASE_HEAD RT("0.0.0.0/0 endpoint"), "endpoint needs a name" },
	{ "four-words", BASE_HEAD RT("0.0.0.0/0 endpoint vpce-s3 now"), "a route is DESTINATION TARGET" },
	{ "one-word", BASE_HEAD RT("0.0.0.0/0"), "a route is DESTINATION TARGET" },
	{ "host-bits-set", BASE_HEAD RT("10.0.0.1/16 local"), "'10.0.0.1/16' has host bits set; did you mean 10.0.0.0/16?" },
	{ "same-destination-twice", BASE_HEAD RT("0.0.0.0/0 natgw; 10.0.0.0/16 local; 0.0.0.0/0 blackhole"),
	  "destination 0.0.0.0/0 appears in routes 1 and 3" },
	{ "same-prefix-list-twice", BASE_HEAD PL_S3 RT("pl-s3 vpce-a; pl-s3 vpce-b"),
	  "destination pl-s3 appears in routes 1 and 2" },
	{ "prefix-list-without-prefixes", BASE_HEAD "[prefix-list pl-s3]\ndescription = S3\n" RT("pl-s3 vpce-s3"),
	  "rt.ini:11: [prefix-list pl-s3] missing key 'prefixes' (like: prefixes = 52.216.0.0/15, 3.5.0.0/19)" },
	{ "prefix-list-empty-prefixes", BASE_HEAD "[prefix-list pl-s3]\nprefixes = ,\n" RT("pl-s3 vpce-s3"),
	  "rt.ini:12: [prefix-list pl-s3] prefixes: no prefix given" },
	{ "prefix-list-bad-prefix", BASE_HEAD "[prefix-list pl-s3]\nprefixes = 52.216.0.0/15, 3.5.0.0/33\n" RT("pl-s3 vpce-s3"),
	  "rt.ini:12: [prefix-list pl-s3] prefixes: '3.5.0.0/33'" },
	{ "prefix-list-repeats-a-prefix", BASE_HEAD "[prefix-list pl-s3]\nprefixes = 52.216.0.0/15; 52.216.0.0/15\n"
	  RT("pl-s3 vpce-s3"), "[prefix-list pl-s3] prefixes: '52.216.0.0/15' appears twice" },
	{ "prefix-list-unknown-key-hints", BASE_HEAD "[prefix-list pl-s3]\nprefix = 52.216.0.0/15\n" RT("pl-s3 vpce-s3"),
	  "rt.ini:12: [prefix-list pl-s3] prefix: unknown key (did you mean 'prefixes'?)" },
	{ "prefix-list-without-a-name", BASE_HEAD "[prefix-list  ]\nprefixes = 52.216.0.0/15\n" RT("0.0.0.0/0 natgw"),
	  "a prefix list needs a one-word name" },
	{ "misspelt-group-hints-prefix-list", BASE_HEAD "[prefix-lists pl-s3]\nprefixes = 52.216.0.0/15\n"
	  RT("0.0.0.0/0 natgw"), "[prefix-lists pl-s3] unknown group; groups are [scenario], [link NAME], [stage NAME] and "
	  "[prefix-list NAME] (did you mean 'prefix-list'?)" },
	{ "unknown-key-in-the-stage", BASE_HEAD RT("0.0.0.0/0 natgw") "route = 0.0.0.0/0 natgw\n",
	  "[stage vpc-rt] route: unknown key (did you mean 'routes'?)" },
	{ "last-stage-has-no-next", "[scenario]\nchain = app > vpc-rt > vpc\n[link app]\nnetworks = 10.0.1.0/24\n"
	  "[link vpc]\n" RT("0.0.0.0/0 natgw"), "unknown target 'natgw' (targets: local, endpoint NAME, blackhole)" },
};

static void test_scenario_error(gconstpointer data)
{
	const struct error_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "rt.ini", c->text, &err);
	g_assert_null(sc);
	g_assert_nonnull(err);
	if (!strstr(err->message, c->want))
		g_test_message("message: %s", err->message);
	g_assert_nonnull(strstr(err->message, c->want));
	g_assert_true(g_str_has_prefix(err->message, "rt.ini"));
	g_assert_null(strchr(err->message, '\n'));
	g_error_free(err);
	/* And without a GError to fill: still refused. */
	g_assert_null(scenario_load_data(&test_types, "rt.ini", c->text, NULL));
}

/* natlb check prints the route table and the prefix lists back; that text loads again, the same. */
static void test_describe_round_trip(void)
{
	struct scenario *sc = load(SCENARIO("app", LESSON_ROUTES, ""));
	GString *a = g_string_new(NULL), *b = g_string_new(NULL);
	scenario_describe(sc, a);
	g_assert_nonnull(strstr(a->str, "routes = 10.0.0.0/16 local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 natgw; "
	                                "192.0.2.0/24 blackhole\n"));
	g_assert_nonnull(strstr(a->str, "\n[prefix-list pl-s3]\ndescription = com.amazonaws.us-east-1.s3 (abridged)\n"
	                                "prefixes = 52.216.0.0/15, 3.5.0.0/19, 54.231.0.0/16\n"));
	/* The match order, longest first. */
	const char *p1 = strstr(a->str, "#   192.0.2.0/24"), *p2 = strstr(a->str, "#   3.5.0.0/19"),
	           *p3 = strstr(a->str, "#   0.0.0.0/0");
	g_assert_true(p1 && p2 && p3 && p1 < p2 && p2 < p3);
	struct scenario *again = load(a->str);
	scenario_describe(again, b);
	/* Only the first line (the source's name) differs. */
	g_assert_cmpstr(strchr(a->str, '\n'), ==, strchr(b->str, '\n'));
	g_assert_cmpuint(again->n_prefix_lists, ==, 1);
	g_assert_cmpuint(again->prefix_lists[0].n_prefixes, ==, 3);
	g_assert_null(scenario_prefix_list(again, "pl-s4"));
	g_assert_nonnull(scenario_prefix_list(again, "pl-s3"));
	g_string_free(a, TRUE);
	g_string_free(b, TRUE);
	scenario_free(again);
	scenario_free(sc);
}


/* ---- The lesson: NAT gateway vs S3 gateway endpoint, end to end with tshark ------------------- */

#define LESSON_SCENARIO "scenarios/natgw-vs-s3-endpoint.ini"


static char *tshark_fields(const char *file, const char *const *fields, bool check_sums)
{
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	return test_tshark_fields(file, check_sums ? prefs : NULL, NULL, fields);
}

struct lesson {
	char *dir, *capture, *out, *tables;
};

/* natlb gen, then natlb replay of scenario (a path) with --tables every change. */
static void lesson_run(struct lesson *l, const char *scenario)
{
	l->dir = test_tmpdir();
	l->capture = g_strdup_printf("%s/lesson.pcap", l->dir);
	l->out = g_strdup_printf("%s/out.pcapng", l->dir);
	l->tables = g_strdup_printf("%s/t.json", l->dir);
	const char *gen[] = { test_natlb_binary(), "gen", "natgw-vs-s3-endpoint", "-o", l->capture, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *rep[] = { test_natlb_binary(), "replay", "-q", "-s", scenario, "--tables", l->tables,
	                      "--tables-every", "change", "-o", l->out, l->capture, NULL };
	char *err = NULL;
	int rc = test_run(rep, NULL, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
}

static void lesson_free(struct lesson *l)
{
	test_rmdir(l->dir);
	g_free(l->capture);
	g_free(l->out);
	g_free(l->tables);
}

/* What the lesson teaches, checked on tshark's reading: beyond the NAT gateway, S3 packets keep the
 * private source and every other packet carries the Elastic IP; the blackholed ping never leaves
 * the subnet; every checksum verifies on every link. */
static void test_lesson_teaches(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.interface_name", "ip.src", "ip.dst", "ip.checksum.status",
	                                      "tcp.checksum.status", "udp.checksum.status", "icmp.checksum.status", NULL };
	struct lesson l;
	lesson_run(&l, LESSON_SCENARIO);
	char *out = tshark_fields(l.out, fields, true);
	char **lines = g_strsplit(out, "\n", -1);
	unsigned s3_out = 0, s3_in = 0, web_out = 0, web_in = 0, ping = 0;
	for (char **ln = lines; *ln && **ln; ln++) {
		char **c = g_strsplit(*ln, "|", -1);
		g_assert_cmpuint(g_strv_length(c), ==, 7);
		for (unsigned i = 3; i < 7; i++)
			g_assert_true(!*c[i] || g_str_equal(c[i], "1"));
		g_assert_cmpstr(c[3], ==, "1");
		if (g_str_equal(c[0], "internet")) {
			s3_out += g_str_equal(c[1], "10.0.1.10") && g_str_equal(c[2], "52.216.20.181");
			s3_in += g_str_equal(c[1], "52.216.20.181") && g_str_equal(c[2], "10.0.1.10");
			web_out += g_str_equal(c[1], "203.0.113.25") && g_str_equal(c[2], "198.51.100.80");
			web_in += g_str_equal(c[1], "198.51.100.80") && g_str_equal(c[2], "203.0.113.25");
			/* Only S3 traffic shows a private address beyond the NAT gateway. */
			if (g_str_has_prefix(c[1], "10.") || g_str_has_prefix(c[2], "10."))
				g_assert_true(g_str_equal(c[1], "52.216.20.181") || g_str_equal(c[2], "52.216.20.181"));
		}
		if (g_str_equal(c[2], "192.0.2.10")) {
			g_assert_cmpstr(c[0], ==, "app");
			ping++;
		}
		g_strfreev(c);
	}
	g_assert_cmpuint(s3_out, ==, 5);
	g_assert_cmpuint(s3_in, ==, 3);
	g_assert_cmpuint(web_out, ==, 5);
	g_assert_cmpuint(web_in, ==, 3);
	g_assert_cmpuint(ping, ==, 1);
	g_strfreev(lines);
	g_free(out);
	lesson_free(&l);
}

/* The NAT gateway's table holds the checkip connection and never the S3 one. */
static void test_lesson_tables(void)
{
	struct lesson l;
	lesson_run(&l, LESSON_SCENARIO);
	const char *argv[] = { test_natlb_binary(), "tables", l.tables, NULL };
	char *out = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(out, "# natgw (napt): 1 entry\ntcp      6 "));
	g_assert_nonnull(strstr(out, "src=10.0.1.10 dst=198.51.100.80 sport=41002 dport=80 packets=5 "));
	g_assert_nonnull(strstr(out, "src=198.51.100.80 dst=203.0.113.25 sport=80 dport="));
	g_assert_null(strstr(out, "52.216.20.181"));
	g_free(out);
	g_free(err);
	const char *ev[] = { test_natlb_binary(), "tables", l.tables, "--events", NULL };
	g_assert_cmpint(test_run(ev, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "[CREATED] natgw: tcp      6 350 SYN_SENT src=10.0.1.10 dst=198.51.100.80"));
	g_assert_null(strstr(out, "52.216.20.181"));
	g_free(out);
	/* Before the checkip connection (it starts at 2 s) the table was empty. */
	GError *gerr = NULL;
	struct table_file *tf = table_file_load(l.tables, &gerr);
	g_assert_no_error(gerr);
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[0].ts_ns), >=, 2 * G_GINT64_CONSTANT(1000000000));
	g_assert_cmpstr(tf->snapshots[0].why, ==, "change");
	table_file_free(tf);
	lesson_free(&l);
}

/* The exercise the scenario suggests: without the endpoint route, S3 goes through the NAT gateway. */
static void test_lesson_without_endpoint(void)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(LESSON_SCENARIO, &text, NULL, NULL));
	char **parts = g_strsplit(text, "pl-s3 endpoint vpce-s3; ", -1);
	g_assert_cmpuint(g_strv_length(parts), ==, 2);
	char *edited = g_strjoinv("", parts);
	char *dir = test_tmpdir();
	char *path = g_strdup_printf("%s/no-endpoint.ini", dir);
	g_assert_true(g_file_set_contents(path, edited, -1, NULL));
	struct lesson l;
	lesson_run(&l, path);
	const char *argv[] = { test_natlb_binary(), "tables", l.tables, NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "# natgw (napt): 2 entries\n"));
	g_assert_nonnull(strstr(out, "src=52.216.20.181 dst=203.0.113.25 sport=80"));
	g_free(out);
	if (test_have_tshark()) {
		static const char *const fields[] = { "frame.interface_name", "ip.src", "ip.dst", NULL };
		out = tshark_fields(l.out, fields, false);
		g_assert_null(strstr(out, "internet|10.0.1.10|"));
		g_assert_nonnull(strstr(out, "internet|203.0.113.25|52.216.20.181\n"));
		g_free(out);
	}
	lesson_free(&l);
	test_rmdir(dir);
	g_free(path);
	g_free(edited);
	g_strfreev(parts);
	g_free(text);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_types = *natlb_stage_types();
	stage_registry_add(&test_types, &tb_ops);
	for (unsigned i = 0; i < G_N_ELEMENTS(lookup_cases); i++) {
		char *path = g_strdup_printf("/route-table/lookup/%s", lookup_cases[i].name);
		g_test_add_data_func(path, &lookup_cases[i], test_lookup);
		g_free(path);
	}
	g_test_add_func("/route-table/bypass/reply-from-the-endpoint-goes-around-too", test_bypass_reply);
	g_test_add_func("/route-table/loop/captured-in-the-subnet", test_loop_capture_in_subnet);
	g_test_add_func("/route-table/loop/captured-beyond-the-nat", test_loop_capture_beyond);
	g_test_add_func("/route-table/loop/blackhole-drop-is-counted", test_loop_blackhole_counted);
	g_test_add_func("/pipeline/bypass/spans-only-the-stages-it-says", test_loop_bypass_spans_only_what_it_says);
	for (unsigned i = 0; i < G_N_ELEMENTS(error_cases); i++) {
		char *path = g_strdup_printf("/route-table/scenario-error/%s", error_cases[i].name);
		g_test_add_data_func(path, &error_cases[i], test_scenario_error);
		g_free(path);
	}
	g_test_add_func("/route-table/check/describe-loads-again", test_describe_round_trip);
	g_test_add_func("/lesson/natgw-vs-s3-endpoint/s3-stays-private-the-rest-leaves-as-the-eip", test_lesson_teaches);
	g_test_add_func("/lesson/natgw-vs-s3-endpoint/nat-table-never-sees-s3", test_lesson_tables);
	g_test_add_func("/lesson/natgw-vs-s3-endpoint/without-the-endpoint-s3-takes-the-nat", test_lesson_without_endpoint);
	return g_test_run();
}
