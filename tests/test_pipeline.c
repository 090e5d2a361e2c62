/* tests/test_pipeline.c: the replay loop's contract with stages: emit, drop, consume, derive views, capture in the middle, what stays on its link. */
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
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

/* natlb's stage types and this file's toy ones. */
static struct stage_registry test_types;

#define SERVER  0xc6336401u /* 198.51.100.1 */
#define CLIENT  0x0a000005u /* 10.0.0.5 */

/* A test stage that answers ICMP echo requests to SERVER itself: the reply is emitted back
 * towards the client and the request is consumed, as a balancer answering for its VIP would. */
static bool responder_claims(const struct stage *st, uint32_t addr, enum side side)
{
	(void)st;
	return side == SIDE_LEFT && addr == SERVER;
}

static gboolean responder_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	(void)st; (void)cfg; (void)err;
	return TRUE;
}

static void responder_describe(const struct stage *st, GString *out)
{
	(void)st;
	g_string_append(out, "# answers echo requests to 198.51.100.1\n");
}

static enum verdict responder_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	uint8_t reply[128];
	uint32_t len = p->caplen;

	g_assert_cmpint(dir, ==, DIR_LEFT_TO_RIGHT);
	g_assert_true(p->ip.icmp_query && p->ip.icmp_type == 8);
	g_assert_cmpuint(len, <=, sizeof reply);
	memcpy(reply, p->data, len);
	/* Swap the addresses (and MACs), make it an echo reply, recompute the ICMP checksum. */
	memcpy(reply, p->data + 6, 6);
	memcpy(reply + 6, p->data, 6);
	memcpy(reply + p->ip.off + 12, p->data + p->ip.off + 16, 4);
	memcpy(reply + p->ip.off + 16, p->data + p->ip.off + 12, 4);
	reply[p->ip.l4_off] = 0;
	reply[p->ip.l4_off + 2] = reply[p->ip.l4_off + 3] = 0;
	uint16_t c = csum_fold(csum_partial(reply + p->ip.l4_off, len - p->ip.l4_off, 0));
	reply[p->ip.l4_off + 2] = (uint8_t)(c >> 8);
	reply[p->ip.l4_off + 3] = (uint8_t)c;
	g_assert_true(stage_emit(ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS, reply, len,
	                         "responder: echo reply built by the stage"));
	(void)st;
	g_string_append(ctx->note, "answered the echo request itself"); /* after the loop's "test-responder vip: " */
	return VERDICT_CONSUMED;
}

static const char *const no_keys[] = { NULL };
static const struct stage_ops responder_ops = {
	.type = "test-responder", .summary = "test stage", .keys = no_keys, .configure = responder_configure,
	.describe = responder_describe, .claims = responder_claims, .process = responder_process,
};

/* A test stage that drops every packet it sees, and says nothing. */
static enum verdict dropper_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)st; (void)p; (void)dir;
	/* ctx->drop and the note left alone on purpose: the loop must still count the drop, as
	 * UNSPECIFIED, and say so in the words --stats uses */
	(void)ctx;
	return VERDICT_DROP;
}

static const struct stage_ops dropper_ops = {
	.type = "test-dropper", .summary = "test stage", .keys = no_keys, .configure = responder_configure,
	.describe = responder_describe, .process = dropper_process,
};

/* A test stage with a drop list of its own, which drops every packet through stage_drop(). */
#define foreach_refuser_drop(X) \
	X(TEST_REFUSED, "the test stage refuses every packet") \
	X(TEST_UNUSED, "a second reason, never given")

enum refuser_drop {
	REFUSER_DROP_BEFORE = DROP_STAGE_FIRST - 1,
	foreach_refuser_drop(DROP_ENUM_ENTRY)
	REFUSER_DROP_END
};

static const struct drop_info refuser_drops[] = { foreach_refuser_drop(DROP_INFO_ENTRY) };

static enum verdict refuser_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	char a[16], b[16];
	(void)st; (void)dir;
	return stage_drop(ctx, DROP_TEST_REFUSED, "%s -> %s", ip4_to_str(p->ip.src, a), ip4_to_str(p->ip.dst, b));
}

static const struct stage_ops refuser_ops = {
	.type = "test-refuser", .summary = "test stage", .keys = no_keys, .drops = refuser_drops,
	.n_drops = G_N_ELEMENTS(refuser_drops), .configure = responder_configure, .describe = responder_describe,
	.process = refuser_process,
};

/* A test stage that forwards every packet unchanged and has nothing to say about it. */
static enum verdict silent_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)st; (void)p; (void)dir; (void)ctx;
	return VERDICT_FORWARD;
}

static const struct stage_ops silent_ops = {
	.type = "test-silent", .summary = "test stage", .keys = no_keys, .configure = responder_configure,
	.describe = responder_describe, .process = silent_process,
};

/* Ethernet + IPv4 + ICMP echo request src -> dst, checksums right. */
static void build_echo(uint8_t frame[42], uint32_t src, uint32_t dst)
{
	static const uint8_t head[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 5, 0x08, 0x00,             /* Ethernet */
		0x45, 0, 0, 28, 0x12, 0x34, 0, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       /* IPv4 */
		8, 0, 0, 0, 0x12, 0x34, 0, 1,                                     /* ICMP echo */
	};
	memcpy(frame, head, sizeof head);
	for (int i = 0; i < 4; i++) {
		frame[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		frame[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	uint16_t c = csum_fold(csum_partial(frame + 14, 20, 0));
	frame[24] = (uint8_t)(c >> 8);
	frame[25] = (uint8_t)c;
	c = csum_fold(csum_partial(frame + 34, 8, 0));
	frame[36] = (uint8_t)(c >> 8);
	frame[37] = (uint8_t)c;
}

/* Replay one packet through a scenario; returns tshark's "interface|comment" lines. */
static char *replay_one(const char *scenario_text, uint32_t src, uint32_t dst, char **stats)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "test.ini", scenario_text, &err);
	g_assert_no_error(err);
	char *dir = test_tmpdir();
	char *out_path = g_strdup_printf("%s/out.pcapng", dir);
	struct output *out = output_open(OUTPUT_PCAPNG, out_path, "test", &err);
	g_assert_no_error(err);
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new(sc, out, &opt, &err);
	g_assert_no_error(err);
	uint8_t frame[42];
	build_echo(frame, src, dst);
	struct input_record rec = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame,
	                            .ts_ns = 1000000000, .linktype = DLT_EN10MB };
	g_assert_true(pipeline_replay(pl, &rec, &err));
	g_assert_true(pipeline_balanced(pl));
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	*stats = g_string_free(s, FALSE);
	g_assert_true(output_close(out, &err));
	pipeline_free(pl);
	scenario_free(sc);

	char *lines = NULL;
	if (test_have_tshark()) {
		const char *argv[] = { "tshark", "-r", out_path, "-T", "fields", "-E", "separator=|", "-e",
		                       "frame.interface_name", "-e", "ip.src", "-e", "ip.dst", "-e", "frame.comment", NULL };
		g_assert_cmpint(test_run(argv, &lines, NULL), ==, 0);
	}
	test_rmdir(dir);
	g_free(out_path);
	return lines;
}

static void test_emit_and_consume(void)
{
	static const char scen[] = "[scenario]\nchain = lan > vip > servers\n[link lan]\nnetworks = 10.0.0.0/24\n"
	                           "[link servers]\n[stage vip]\ntype = test-responder\n";
	char *stats = NULL;
	char *lines = replay_one(scen, CLIENT, SERVER, &stats);
	g_assert_nonnull(strstr(stats, "consumed 1"));
	g_assert_nonnull(strstr(stats, "emitted by stages 1"));
	if (!lines) {
		g_test_skip("tshark is not installed");
		g_free(stats);
		return;
	}
	/* The request on lan, stopped by the stage; then the stage's reply on lan, towards the client. */
	g_assert_cmpstr(lines, ==,
	                "lan|10.0.0.5|198.51.100.1|flow #1 | captured on lan | test-responder vip: answered the echo request itself\n"
	                "lan|198.51.100.1|10.0.0.5|flow #1 | responder: echo reply built by the stage\n");
	g_free(lines);
	g_free(stats);
}

static void test_drop_writes_the_view_where_it_dropped(void)
{
	static const char scen[] = "[scenario]\nchain = lan > nat > mid > wall > far\n[link lan]\nnetworks = 10.0.0.0/24\n"
	                           "[link mid]\nnetworks = 100.64.0.0/24\n[link far]\n"
	                           "[stage nat]\ntype = static-nat\nmap = 10.0.0.0/24 100.64.0.0/24\n"
	                           "[stage wall]\ntype = test-dropper\n";
	char *stats = NULL;
	char *lines = replay_one(scen, CLIENT, SERVER, &stats);
	g_assert_nonnull(strstr(stats, "1 input = 0 delivered + 1 dropped + 0 consumed"));
	g_assert_nonnull(strstr(stats, "drop UNSPECIFIED"));
	g_assert_null(strstr(stats, "NOT BALANCED"));
	if (!lines) {
		g_test_skip("tshark is not installed");
		g_free(stats);
		return;
	}
	g_assert_cmpstr(lines, ==,
	                "lan|10.0.0.5|198.51.100.1|flow #1 | captured on lan\n"
	                "mid|100.64.0.5|198.51.100.1|flow #1 | static-nat nat: SNAT 10.0.0.5 -> 100.64.0.5 (rule 1) | "
	                "test-dropper wall: DROP (the stage did not say why (a bug in the stage))\n");
	g_free(lines);
	g_free(stats);
}

/* stage_drop(): the annotation gives the reason in the words --stats prints for it, after the
 * "<type> <name>: " the loop writes; a stage that says nothing leaves no comment behind. */
static void test_stage_drop_says_what_stats_counts(void)
{
	static const char scen[] = "[scenario]\nchain = lan > quiet > mid > wall > far\n[link lan]\nnetworks = 10.0.0.0/24\n"
	                           "[link mid]\nnetworks = 100.64.0.0/24\n[link far]\n"
	                           "[stage quiet]\ntype = test-silent\n[stage wall]\ntype = test-refuser\n";
	char *stats = NULL;
	char *lines = replay_one(scen, CLIENT, SERVER, &stats);
	g_assert_nonnull(strstr(stats, "1 input = 0 delivered + 1 dropped + 0 consumed"));
	g_assert_nonnull(strstr(stats, "    TEST_REFUSED                  1  the test stage refuses every packet\n"));
	g_assert_nonnull(strstr(stats, "    drop TEST_REFUSED                  1  the test stage refuses every packet\n"));
	g_assert_null(strstr(stats, "TEST_UNUSED"));
	g_assert_null(strstr(stats, "UNSPECIFIED"));
	if (!lines) {
		g_test_skip("tshark is not installed");
		g_free(stats);
		return;
	}
	g_assert_cmpstr(lines, ==,
	                "lan|10.0.0.5|198.51.100.1|flow #1 | captured on lan\n"
	                "mid|10.0.0.5|198.51.100.1|flow #1 | "
	                "test-refuser wall: DROP (the test stage refuses every packet): 10.0.0.5 -> 198.51.100.1\n");
	g_free(lines);
	g_free(stats);
}

/* Outside the loop (a unit test, a fuzzer) stage_drop() still sets the code, and says which. */
static void test_stage_drop_outside_the_loop(void)
{
	GString *note = g_string_new(NULL);
	struct stage st = { .ops = &refuser_ops, .name = (char *)"wall" };
	struct stage_ctx ctx = { .note = note, .drop = DROP_NONE, .stage = &st };

	g_assert_cmpint(stage_drop(&ctx, DROP_TEST_UNUSED, "port %u", 80u), ==, VERDICT_DROP);
	g_assert_cmpuint(ctx.drop, ==, DROP_TEST_UNUSED);
	g_assert_cmpstr(note->str, ==, "DROP (a second reason, never given): port 80");
	g_string_truncate(note, 0);
	g_assert_cmpint(stage_drop(&ctx, DROP_TEST_REFUSED, NULL), ==, VERDICT_DROP);
	g_assert_cmpstr(note->str, ==, "DROP (the test stage refuses every packet)");
	/* a detail longer than the note's room: it grows, nothing is cut */
	g_string_truncate(note, 0);
	char *long_detail = g_strnfill(1000, 'x');
	stage_drop(&ctx, DROP_TEST_REFUSED, "%s", long_detail);
	g_assert_cmpuint(note->len, ==, strlen("DROP (the test stage refuses every packet): ") + 1000);
	g_assert_true(g_str_has_suffix(note->str, long_detail));
	g_free(long_detail);
	/* no stage to name the reason: the code still counts */
	g_string_truncate(note, 0);
	ctx.stage = NULL;
	stage_drop(&ctx, DROP_TEST_REFUSED, "%s", "here");
	g_assert_cmpuint(ctx.drop, ==, DROP_TEST_REFUSED);
	char *want = g_strdup_printf("DROP (drop code %u): here", (unsigned)DROP_TEST_REFUSED);
	g_assert_cmpstr(note->str, ==, want);
	g_free(want);
	g_string_free(note, TRUE);
}

/* Captured on a middle link: the view before it is derived, the views after it replayed. */
static void test_capture_in_the_middle(void)
{
	static const char scen[] = "[scenario]\nchain = lan > inner > mid > outer > internet\ncapture = mid\n"
	                           "[link lan]\nnetworks = 10.0.0.0/24\n[link mid]\nnetworks = 100.64.0.0/24\n"
	                           "[link internet]\n"
	                           "[stage inner]\ntype = static-nat\nmap = 10.0.0.0/24 100.64.0.0/24\n"
	                           "[stage outer]\ntype = static-nat\nmap = 100.64.0.0/24 203.0.113.0/24\n";
	char *stats = NULL;
	char *lines = replay_one(scen, 0x64400005u /* 100.64.0.5 */, SERVER, &stats);
	g_assert_nonnull(strstr(stats, "1 input = 1 delivered + 0 dropped + 0 consumed"));
	if (!lines) {
		g_test_skip("tshark is not installed");
		g_free(stats);
		return;
	}
	g_assert_cmpstr(lines, ==,
	                "lan|10.0.0.5|198.51.100.1|flow #1 | sent on lan (derived: the capture on mid shows it after 1 stage)\n"
	                "mid|100.64.0.5|198.51.100.1|flow #1 | static-nat inner: SNAT 10.0.0.5 -> 100.64.0.5 (rule 1) | "
	                "this is the captured packet\n"
	                "internet|203.0.113.5|198.51.100.1|flow #1 | static-nat outer: SNAT 100.64.0.5 -> 203.0.113.5 (rule 1)\n");
	g_free(lines);
	g_free(stats);
}


/* ---- What stays on its link ------------------------------------------------------------------
 *
 * Issue item 6: mDNS to 224.0.0.251 went out SNATed, and loopback captures ended as routing
 * loops.  No router forwards link-local multicast, broadcast, loopback or link-local traffic (nor
 * other multicast, without a multicast router): each such packet is written once, on the link it
 * was captured on, with the reason; the stages never see it.  The views go to an in-memory sink,
 * so these run without tshark. */

struct local_sink {
	GPtrArray *links;          /* link names, by handle */
	GString *views;            /* one line per view: "link|notes joined by ' | '" */
	GString *flows;            /* NULL, or one "link:flow " per view */
};

static int local_add_link(void *data, const char *name, const char *description)
{
	struct local_sink *m = data;
	(void)description;
	g_ptr_array_add(m->links, g_strdup(name));
	return (int)m->links->len - 1;
}

static gboolean local_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                            uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
                            const char *const *notes, unsigned n_notes, GError **err)
{
	struct local_sink *m = data;
	(void)linktype; (void)ts_ns; (void)bytes; (void)caplen; (void)wirelen; (void)dir; (void)err;
	if (m->flows)
		g_string_append_printf(m->flows, "%s:%u ", (const char *)g_ptr_array_index(m->links, link), meta->flow);
	g_string_append_printf(m->views, "%s|", (const char *)g_ptr_array_index(m->links, link));
	for (unsigned i = 0; i < n_notes; i++)
		g_string_append_printf(m->views, "%s%s", i ? " | " : "", notes[i]);
	g_string_append_c(m->views, '\n');
	return TRUE;
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const char home_scenario[] =
	"[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = 192.168.1.0/24, 10.9.0.0/30\n[link internet]\n"
	"[stage nat]\ntype = static-nat\nmap = 192.168.1.0/24 203.0.113.0/24\n";

static const char dmz_scenario[] =
	"[scenario]\nchain = lan > nat > dmz\n[link lan]\nnetworks = 192.168.1.0/24\n[link dmz]\nnetworks = 10.0.1.0/24\n"
	"[stage nat]\ntype = static-nat\nmap = 192.168.1.0/24 203.0.113.0/24\n";

static const struct local_case {
	const char *name;
	uint32_t src, dst;
	uint16_t sport, dport;
	bool loopback_link;        /* captured on a BSD loopback interface (DLT_NULL), not Ethernet */
	const char *want;          /* the views, as local_write writes them */
	const char *scenario;      /* NULL: home_scenario */
} local_cases[] = {
	{ .name = "mdns", .src = IP4(192, 168, 1, 10), .dst = IP4(224, 0, 0, 251), .sport = 5353, .dport = 5353,
	  .want = "lan|captured on lan | stays on lan: 224.0.0.251 is link-local multicast (RFC 5771); routers do not "
	  "forward it\n" },
	{ .name = "llmnr", .src = IP4(192, 168, 1, 10), .dst = IP4(224, 0, 0, 252), .sport = 50123, .dport = 5355,
	  .want = "lan|captured on lan | stays on lan: 224.0.0.252 is link-local multicast (RFC 5771); routers do not "
	  "forward it\n" },
	{ .name = "ssdp", .src = IP4(192, 168, 1, 10), .dst = IP4(239, 255, 255, 250), .sport = 50124, .dport = 1900,
	  .want = "lan|captured on lan | stays on lan: 239.255.255.250 is multicast (RFC 5771); a NAT without a "
	  "multicast router "
	  "(an IGMP proxy, RFC 4605) does not forward it\n" },
	{ .name = "ntp-multicast-beyond-the-local-block", .src = IP4(192, 168, 1, 10), .dst = IP4(224, 0, 1, 1),
	  .sport = 123, .dport = 123,
	  .want = "lan|captured on lan | stays on lan: 224.0.1.1 is multicast (RFC 5771); a NAT without a multicast "
	  "router "
	  "(an IGMP proxy, RFC 4605) does not forward it\n" },
	{ .name = "dhcp-discover", .src = 0, .dst = 0xffffffffu, .sport = 68, .dport = 67,
	  .want = "lan|captured on lan | stays on lan: 255.255.255.255 is the limited broadcast (RFC 1812 section "
	  "5.3.5.1); "
	  "routers do not forward it\n" },
	{ .name = "directed-broadcast-of-the-lan", .src = IP4(192, 168, 1, 10), .dst = IP4(192, 168, 1, 255),
	  .sport = 137, .dport = 137,
	  .want = "lan|captured on lan | stays on lan: 192.168.1.255 is the directed broadcast of 192.168.1.0/24 (RFC "
	  "2644); "
	  "routers do not forward it\n" },
	{ .name = "directed-broadcast-of-a-slash-30", .src = IP4(10, 9, 0, 1), .dst = IP4(10, 9, 0, 3),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan | stays on lan: 10.9.0.3 is the directed broadcast of 10.9.0.0/30 (RFC 2644); "
	  "routers do not forward it\n" },
	{ .name = "loopback", .src = IP4(127, 0, 0, 1), .dst = IP4(127, 0, 0, 1), .sport = 40000, .dport = 53,
	  .want = "lan|captured on lan | stays on lan: 127.0.0.1 is loopback (RFC 1122 section 3.2.1.3); it never "
	  "leaves its host\n" },
	{ .name = "loopback-on-a-loopback-capture", .src = IP4(127, 0, 0, 1), .dst = IP4(127, 0, 0, 53),
	  .sport = 40000, .dport = 53, .loopback_link = true,
	  .want = "lan|captured on lan | stays on lan: 127.0.0.53 is loopback (RFC 1122 section 3.2.1.3); it never "
	  "leaves its host\n" },
	{ .name = "link-local-both-ends", .src = IP4(169, 254, 10, 20), .dst = IP4(169, 254, 10, 30),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan | stays on lan: 169.254.10.30 is link-local (RFC 3927 section 2.7); routers do "
	  "not forward it\n" },
	{ .name = "link-local-source-to-the-internet", .src = IP4(169, 254, 10, 20), .dst = IP4(198, 51, 100, 1),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan | stays on lan: its source 169.254.10.20 is link-local (RFC 3927 section 2.7); "
	  "routers do not forward it\n" },
	{ .name = "directed-broadcast-of-another-link", .src = IP4(192, 168, 1, 10), .dst = IP4(10, 0, 1, 255),
	  .sport = 1000, .dport = 2000, .scenario = dmz_scenario,
	  .want = "lan|captured on lan | stays on lan: 10.0.1.255 is the directed broadcast of 10.0.1.0/24 on dmz (RFC "
	  "2644); "
	  "routers do not forward it\n" },
	/* and what still travels: */
	{ .name = "unicast-to-the-internet-is-translated", .src = IP4(192, 168, 1, 10), .dst = IP4(198, 51, 100, 1),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan\ninternet|static-nat nat: SNAT 192.168.1.10 -> 203.0.113.10 (rule 1)\n" },
	{ .name = "a-host-on-the-lan-is-simply-delivered-there", .src = IP4(192, 168, 1, 10), .dst = IP4(192, 168, 1, 254),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan\n" },
	{ .name = "broadcast-of-a-network-elsewhere-is-routed", .src = IP4(192, 168, 1, 10), .dst = IP4(198, 51, 100, 255),
	  .sport = 1000, .dport = 2000,
	  .want = "lan|captured on lan\ninternet|static-nat nat: SNAT 192.168.1.10 -> 203.0.113.10 (rule 1)\n" },
	{ .name = "a-host-of-the-dmz-is-routed", .src = IP4(192, 168, 1, 10), .dst = IP4(10, 0, 1, 254),
	  .sport = 1000, .dport = 2000, .scenario = dmz_scenario,
	  .want = "lan|captured on lan\ndmz|static-nat nat: SNAT 192.168.1.10 -> 203.0.113.10 (rule 1)\n" },
};

static void test_stays_on_link(gconstpointer data)
{
	const struct local_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "test.ini", c->scenario ? c->scenario : home_scenario, &err);
	g_assert_no_error(err);
	struct local_sink m = { g_ptr_array_new_with_free_func(g_free), g_string_new(NULL), NULL };
	const struct view_sink sink = { .add_link = local_add_link, .write = local_write, .data = &m };
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	g_assert_no_error(err);

	uint8_t eth[46], frame[46];
	test_udp_frame(eth, c->src, c->dst, c->sport, c->dport);
	struct input_record rec = { .data = eth, .caplen = sizeof eth, .wirelen = sizeof eth, .ts_ns = 1000000000,
	                            .linktype = DLT_EN10MB };
	if (c->loopback_link) {
		/* DLT_NULL: the address family in host order, then the IPv4 packet */
		const uint32_t af_inet = 2;
		memcpy(frame, &af_inet, 4);
		memcpy(frame + 4, eth + 14, 32);
		rec = (struct input_record){ .data = frame, .caplen = 36, .wirelen = 36, .ts_ns = 1000000000,
		                             .linktype = DLT_NULL };
	}
	g_assert_true(pipeline_replay(pl, &rec, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(m.views->str, ==, c->want);
	g_assert_true(pipeline_balanced(pl));
	GString *stats = g_string_new(NULL);
	pipeline_stats(pl, stats);
	bool stays = strstr(c->want, "stays on") != NULL;
	g_assert_cmpint(strstr(stats->str, "    1 of them stayed on their link (") != NULL, ==, stays);
	g_assert_nonnull(strstr(stats->str, "(0 of them untranslated"));
	/* the stage sees only what crosses it */
	g_assert_nonnull(strstr(stats->str, strchr(c->want, '\n')[1] ? "    in 1 (" : "    in 0 ("));
	g_assert_null(strstr(stats->str, "ROUTING_LOOP"));
	g_string_free(stats, TRUE);
	pipeline_free(pl);
	scenario_free(sc);
	g_ptr_array_unref(m.links);
	g_string_free(m.views, TRUE);
}

/* The same end to end: a capture of a home LAN's chatter replayed through napt-home with natlb
 * replay; only the unicast DNS query leaves, SNATed. */
static void test_stays_on_link_replay(void)
{
	char *dir = test_tmpdir(), *cap = g_strdup_printf("%s/local.pcap", dir), *out = g_strdup_printf("%s/o.pcapng", dir);
	static const struct { uint32_t src, dst; uint16_t sport, dport; } pk[] = {
		{ IP4(192, 168, 1, 10), IP4(224, 0, 0, 251), 5353, 5353 },
		{ IP4(192, 168, 1, 10), IP4(224, 0, 0, 252), 50123, 5355 },
		{ IP4(192, 168, 1, 10), IP4(239, 255, 255, 250), 50124, 1900 },
		{ 0, 0xffffffffu, 68, 67 },
		{ IP4(127, 0, 0, 1), IP4(127, 0, 0, 1), 40000, 53 },
		{ IP4(169, 254, 10, 20), IP4(169, 254, 10, 30), 1000, 2000 },
		{ IP4(192, 168, 1, 10), IP4(198, 51, 100, 53), 40001, 53 },
	};
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, cap);
	g_assert_nonnull(d);
	for (unsigned i = 0; i < G_N_ELEMENTS(pk); i++) {
		uint8_t frame[46];
		test_udp_frame(frame, pk[i].src, pk[i].dst, pk[i].sport, pk[i].dport);
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1767225600 + i }, .caplen = sizeof frame, .len = sizeof frame };
		pcap_dump((u_char *)d, &h, frame);
	}
	pcap_dump_close(d);
	pcap_close(dead);

	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "--trace", "-s", "napt-home", "-o", out,
	                       cap, NULL };
	char *stdout_text = NULL, *trace = NULL;
	g_assert_cmpint(test_run(argv, &stdout_text, &trace), ==, 0);
	/* one view per packet, and one more for the query on the internet */
	char **lines = g_strsplit(trace, "\n", -1);
	unsigned n = 0, stays = 0, internet = 0;
	for (char **l = lines; *l && **l; l++, n++) {
		stays += strstr(*l, " | stays on lan: ") != NULL;
		internet += strstr(*l, " internet ") != NULL;
	}
	g_strfreev(lines);
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(pk) + 1);
	g_assert_cmpuint(stays, ==, G_N_ELEMENTS(pk) - 1);
	g_assert_cmpuint(internet, ==, 1);
	g_assert_nonnull(strstr(trace, "UDP 203.0.113.7:40001 > 198.51.100.53:53 | flow #7 | napt home: SNAT"));
	g_assert_null(strstr(trace, "napt home: SNAT 192.168.1.10:5353"));
	g_assert_null(strstr(trace, "224.0.0.251:5353 | flow #1 | napt"));
	g_assert_nonnull(strstr(stdout_text, "    6 of them stayed on their link ("));
	g_assert_nonnull(strstr(stdout_text, "mappings 1 live (peak 1, 1 created)"));
	g_assert_nonnull(strstr(stdout_text, ": balanced\n"));
	g_free(stdout_text);
	g_free(trace);
	g_free(cap);
	g_free(out);
	test_rmdir(dir);
}

/* ---- Look-ahead ----------------------------------------------------------------------------- */

/* Every lesson, as its scenario's header says to replay it. */
static const struct lesson_case {
	const char *scenario, *capture;
} lesson_cases[] = {
	{ "scenarios/static-nat.ini", "pcaps/static-nat.pcap" },
	{ "scenarios/napt-home.ini", "pcaps/napt-home.pcap" },
	{ "scenarios/napt-full-cone.ini", "pcaps/napt-probes.pcap" },
	{ "scenarios/napt-restricted-cone.ini", "pcaps/napt-probes.pcap" },
	{ "scenarios/napt-port-restricted-cone.ini", "pcaps/napt-probes.pcap" },
	{ "scenarios/napt-symmetric.ini", "pcaps/napt-probes.pcap" },
	{ "scenarios/napt-exhaustion.ini", "pcaps/napt-exhaustion.pcap" },
	{ "scenarios/napt-hairpin.ini", "pcaps/napt-hairpin.pcap" },
	{ "scenarios/traceroute.ini", "pcaps/traceroute.pcap" },
	{ "scenarios/natgw-vs-s3-endpoint.ini", "pcaps/natgw-vs-s3-endpoint.pcap" },
	{ "scenarios/lb-maglev.ini", "pcaps/lb-spread.pcap" },
	{ "scenarios/lb-modulo.ini", "pcaps/lb-spread.pcap" },
	{ "scenarios/lb-rendezvous.ini", "pcaps/lb-spread.pcap" },
	{ "scenarios/lb-dns.ini", "pcaps/lb-dns.pcap" },
	{ "scenarios/lb-client-ip-preserved.ini", "pcaps/lb-client-ip.pcap" },
	{ "scenarios/lb-client-ip-replaced.ini", "pcaps/lb-client-ip.pcap" },
	{ "scenarios/lb-proxy-protocol.ini", "pcaps/lb-target-log.pcap" },
};

/* Replay a capture one packet at a time (pipeline_replay) or reading ahead (pipeline_push);
 * returns the output file's bytes and the --stats report. */
static GBytes *replay_capture(const struct lesson_case *c, bool ahead, char **stats)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_file(&test_types, c->scenario, &err);
	g_assert_no_error(err);
	char *dir = test_tmpdir();
	char *out_path = g_strdup_printf("%s/out.pcapng", dir);
	char *paths[] = { (char *)c->capture, NULL };
	struct input_set *in = input_open(paths, 1, NULL, &err);
	g_assert_no_error(err);
	struct output *out = output_open(OUTPUT_PCAPNG, out_path, "test", &err);
	g_assert_no_error(err);
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new(sc, out, &opt, &err);
	g_assert_no_error(err);
	struct input_record rec;
	while (input_next(in, &rec) == 1)
		g_assert_true(ahead ? pipeline_push(pl, &rec, &err) : pipeline_replay(pl, &rec, &err));
	g_assert_true(pipeline_drain(pl, &err));
	g_assert_no_error(err);
	g_assert_true(pipeline_balanced(pl));
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	*stats = g_string_free(s, FALSE);
	g_assert_true(output_close(out, &err));
	pipeline_free(pl);
	input_close(in);
	scenario_free(sc);
	char *bytes = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(out_path, &bytes, &len, &err));
	test_rmdir(dir);
	g_free(out_path);
	return g_bytes_new_take(bytes, len);
}

/* Reading ahead only prefetches: every lesson's output and report are the same byte for byte. */
static void test_look_ahead_changes_nothing(gconstpointer data)
{
	const struct lesson_case *c = data;
	char *stats_one = NULL, *stats_ahead = NULL;
	GBytes *one = replay_capture(c, false, &stats_one);
	GBytes *ahead = replay_capture(c, true, &stats_ahead);
	g_assert_cmpuint(g_bytes_get_size(one), >, 1000);
	g_assert_cmpstr(stats_ahead, ==, stats_one);
	g_assert_true(g_bytes_equal(one, ahead));
	g_bytes_unref(one);
	g_bytes_unref(ahead);
	g_free(stats_one);
	g_free(stats_ahead);
}

/* ---- Flow numbers ------------------------------------------------------------------------------
 *
 * Issue 10, "Reading the output in Wireshark": every view of one flow carries the same "flow #N"
 * on every link, so that one display filter shows a connection end to end.  A home NAPT: the
 * capture is on lan, the replies are walked back to the internet and translated back in. */

static const char napt_flow_scenario[] =
	"[scenario]\nchain = lan > home > internet\n[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	"[stage home]\ntype = napt\nexternal = 203.0.113.7\n";

struct flow_packet {
	uint32_t src, dst;
	uint16_t sport, dport;
};

static const struct flow_case {
	const char *name;
	struct flow_packet pkts[4];
	unsigned n;
	const char *want;          /* "link:flow " per view, in the order they are written */
} flow_cases[] = {
	{ "/pipeline/flow/a-reply-has-its-requests-flow-on-both-links",
	  { { IP4(192, 168, 1, 10), SERVER, 40000, 53 }, { SERVER, IP4(192, 168, 1, 10), 53, 40000 } }, 2,
	  /* the reply's internet view, derived, has the translated tuple: the request taught it */
	  "lan:1 internet:1 internet:1 lan:1 " },
	{ "/pipeline/flow/two-hosts-behind-one-address-are-two-flows",
	  { { IP4(192, 168, 1, 10), SERVER, 40000, 53 }, { IP4(192, 168, 1, 11), SERVER, 40000, 53 },
	    { SERVER, IP4(192, 168, 1, 11), 53, 40000 } }, 3,
	  "lan:1 internet:1 lan:2 internet:2 internet:2 lan:2 " },
	{ "/pipeline/flow/a-flow-keeps-its-number-after-another-flow",
	  { { IP4(192, 168, 1, 10), SERVER, 40000, 53 }, { IP4(192, 168, 1, 10), SERVER, 40001, 53 },
	    { IP4(192, 168, 1, 10), SERVER, 40000, 53 } }, 3,
	  "lan:1 internet:1 lan:2 internet:2 lan:1 internet:1 " },
	{ "/pipeline/flow/an-unsolicited-packet-from-outside-is-a-flow-of-its-own",
	  { { IP4(192, 168, 1, 10), SERVER, 40000, 53 }, { IP4(198, 51, 100, 9), IP4(192, 168, 1, 10), 4444, 40000 } }, 2,
	  /* walked back to the internet, where the NAT filters it out */
	  "lan:1 internet:1 internet:2 " },
};

static void test_flow_numbers(gconstpointer data)
{
	const struct flow_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "test.ini", napt_flow_scenario, &err);
	g_assert_no_error(err);
	struct local_sink m = { g_ptr_array_new_with_free_func(g_free), g_string_new(NULL), g_string_new(NULL) };
	const struct view_sink sink = { .add_link = local_add_link, .write = local_write, .data = &m };
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	g_assert_no_error(err);
	for (unsigned i = 0; i < c->n; i++) {
		uint8_t frame[46];
		const struct flow_packet *k = &c->pkts[i];
		test_udp_frame(frame, k->src, k->dst, k->sport, k->dport);
		struct input_record rec = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame,
		                            .ts_ns = 1000000000 + (int64_t)i * 1000000, .linktype = DLT_EN10MB };
		g_assert_true(pipeline_replay(pl, &rec, &err));
		g_assert_no_error(err);
	}
	g_test_message("%s", m.views->str);
	g_assert_cmpstr(m.flows->str, ==, c->want);
	pipeline_free(pl);
	scenario_free(sc);
	g_ptr_array_unref(m.links);
	g_string_free(m.views, TRUE);
	g_string_free(m.flows, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_types = *natlb_stage_types();
	stage_registry_add(&test_types, &responder_ops);
	stage_registry_add(&test_types, &dropper_ops);
	stage_registry_add(&test_types, &refuser_ops);
	stage_registry_add(&test_types, &silent_ops);
	for (size_t i = 0; i < G_N_ELEMENTS(flow_cases); i++)
		g_test_add_data_func(flow_cases[i].name, &flow_cases[i], test_flow_numbers);
	g_test_add_func("/pipeline/emit/stage-answers-and-its-packet-travels-back", test_emit_and_consume);
	g_test_add_func("/pipeline/drop/view-written-where-dropped-and-not-after", test_drop_writes_the_view_where_it_dropped);
	g_test_add_func("/pipeline/drop/annotation-says-what-stats-counts", test_stage_drop_says_what_stats_counts);
	g_test_add_func("/pipeline/drop/stage-drop-outside-the-loop", test_stage_drop_outside_the_loop);
	g_test_add_func("/pipeline/derive/capture-on-a-middle-link", test_capture_in_the_middle);
	for (unsigned i = 0; i < G_N_ELEMENTS(local_cases); i++) {
		char *path = g_strdup_printf("/pipeline/stays-on-link/%s", local_cases[i].name);
		g_test_add_data_func(path, &local_cases[i], test_stays_on_link);
		g_free(path);
	}
	g_test_add_func("/pipeline/stays-on-link/natlb-replay-of-a-home-lan-sends-only-unicast-out", test_stays_on_link_replay);
	for (size_t i = 0; i < G_N_ELEMENTS(lesson_cases); i++) {
		char *base = g_path_get_basename(lesson_cases[i].scenario);
		char *path = g_strdup_printf("/pipeline/look-ahead/same-output-as-one-at-a-time/%s", base);
		g_test_add_data_func(path, &lesson_cases[i], test_look_ahead_changes_nothing);
		g_free(path);
		g_free(base);
	}
	return g_test_run();
}
