/* tests/test_hop_queue.c: the replay loop's queue of hops: origination, emission either way, time order, bounds (DESIGN.md "How a packet travels", step 4).
 *
 * The views go to an in-memory sink and the stages are small test types, so each case states
 * exactly which views, in which order, with which comments and times the loop must write; no
 * tshark is needed here (the lesson tests read real output with it).
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/hop_queue.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "tests/testemit.h"
#include "tests/testpkt.h"
#include "tools/stage_types.h"

/* natlb's stage types and this file's toy ones. */
static struct stage_registry test_types;

#define CLIENT  0x0a000005u /* 10.0.0.5, on lan */
#define VIP     0xc6336401u /* 198.51.100.1: the test proxy's address on lan's side */
#define PROXY   0x0a000102u /* 10.0.1.2: its address towards the targets */
#define TARGET  0x0a00010bu /* 10.0.1.11, on app */
#define T0      1000000000  /* capture time of the test packet */

/* ---- an in-memory sink: every view as a line ----------------------------------------------------- */

struct view {
	char *link;
	enum pcapng_direction dir;
	int64_t ts_ns;
	uint32_t src, dst;
	uint64_t packet_id;        /* the journey the view belongs to */
	char *notes;               /* joined with " | " */
};

struct memory_sink {
	GPtrArray *link_names;
	GArray *views;             /* struct view */
};

static int mem_add_link(void *data, const char *name, const char *description)
{
	struct memory_sink *m = data;
	(void)description;
	g_ptr_array_add(m->link_names, g_strdup(name));
	return (int)m->link_names->len - 1;
}

static gboolean mem_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
                          const char *const *notes, unsigned n_notes, GError **err)
{
	struct memory_sink *m = data;
	struct packet p = { .data = (uint8_t *)bytes, .caplen = caplen, .wirelen = wirelen, .linktype = linktype };
	(void)err;
	decode_packet(&p);
	GString *joined = g_string_new(NULL);
	for (unsigned i = 0; i < n_notes; i++)
		g_string_append_printf(joined, "%s%s", i ? " | " : "", notes[i]);
	struct view v = { .link = g_strdup(g_ptr_array_index(m->link_names, link)), .dir = dir, .ts_ns = ts_ns,
	                  .src = p.ip.src, .dst = p.ip.dst, .packet_id = meta->packet_id, .notes = g_string_free(joined, FALSE) };
	g_array_append_val(m->views, v);
	return TRUE;
}

static void view_clear(gpointer data)
{
	struct view *v = data;
	g_free(v->link);
	g_free(v->notes);
}

/* ---- test stages ---------------------------------------------------------------------------------- */

/* What the stages saw, for the checks. */
static struct {
	unsigned process_calls;
	enum packet_origin origin[8];
	enum side capture_side[8];
	unsigned emit_count;       /* "test-flood": how many packets to emit at once */
} seen;

static gboolean ok_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	(void)st; (void)cfg; (void)err;
	return TRUE;
}

static void no_describe(const struct stage *st, GString *out)
{
	(void)st; (void)out;
}

static bool proxy_claims(const struct stage *st, uint32_t addr, enum side side)
{
	(void)st;
	return (side == SIDE_LEFT && addr == VIP) || (side == SIDE_RIGHT && addr == PROXY);
}

/* A UDP datagram src:1000 -> dst:2000 in an Ethernet frame. */
static void frame_udp(uint8_t frame[46], uint32_t src, uint32_t dst)
{
	test_udp_frame(frame, src, dst, 1000, 2000);
}

/* test-proxy: a full proxy in miniature.  A client's request to the VIP is consumed; the proxy
 * sends its own request to the target (right link, away from it, one hop later).  A target's
 * response to the proxy is consumed too.  A response from the VIP captured on the client side is
 * one the proxy originated: reverse() says so, and puts the target's response that caused it
 * ahead of it in the queue (right link, towards the proxy, two hops earlier). */
static enum verdict proxy_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	uint8_t frame[46];
	(void)st;
	if (seen.process_calls < G_N_ELEMENTS(seen.origin)) {
		seen.origin[seen.process_calls] = ctx->origin;
		seen.capture_side[seen.process_calls] = ctx->capture_side;
	}
	seen.process_calls++;
	if (dir == DIR_LEFT_TO_RIGHT && p->ip.dst == VIP) {
		frame_udp(frame, PROXY, TARGET);
		g_assert_true(stage_emit(ctx, SIDE_RIGHT, DIR_LEFT_TO_RIGHT, PIPELINE_HOP_NS, frame, sizeof frame,
		                         "proxy: its own request to the target"));
		g_string_append(ctx->note, "request consumed"); /* after the loop's "test-proxy proxy: " */
		return VERDICT_CONSUMED;
	}
	if (dir == DIR_RIGHT_TO_LEFT && p->ip.dst == PROXY) {
		g_string_append(ctx->note, "target's response consumed");
		return VERDICT_CONSUMED;
	}
	return VERDICT_FORWARD;
}

static enum reverse_answer proxy_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	uint8_t frame[46];
	(void)st;
	if (dir != DIR_RIGHT_TO_LEFT || p->ip.src != VIP)
		return REVERSE_TRANSLATED;
	frame_udp(frame, TARGET, PROXY);
	g_assert_true(stage_emit(ctx, SIDE_RIGHT, DIR_RIGHT_TO_LEFT, -2 * PIPELINE_HOP_NS, frame, sizeof frame,
	                         "sent on app (derived: the target's response that the proxy answers)"));
	g_string_append(ctx->note, "proxy: its own response to the client");
	return REVERSE_ORIGINATED;
}

static const char *const no_keys[] = { NULL };
static const struct stage_ops proxy_ops = {
	.type = "test-proxy", .summary = "test stage", .keys = no_keys, .configure = ok_configure,
	.describe = no_describe, .claims = proxy_claims, .process = proxy_process, .reverse = proxy_reverse,
};

/* test-flood: emits seen.emit_count copies of each packet towards the right, at offsets that
 * count down, so that the queue must reorder them. */
static enum verdict flood_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)st; (void)dir;
	seen.process_calls++;
	if (ctx->origin == ORIGIN_EMITTED)
		return VERDICT_FORWARD;
	for (unsigned i = 0; i < seen.emit_count; i++) {
		char note[32];
		g_snprintf(note, sizeof note, "copy %u", i);
		stage_emit(ctx, SIDE_RIGHT, DIR_LEFT_TO_RIGHT, (int64_t)(seen.emit_count - i) * PIPELINE_HOP_NS, p->data,
		           p->caplen, note);
	}
	return VERDICT_CONSUMED;
}

static const struct stage_ops flood_ops = {
	.type = "test-flood", .summary = "test stage", .keys = no_keys, .configure = ok_configure,
	.describe = no_describe, .process = flood_process,
};

/* test-pass: forwards everything, recording what the context said. */
static enum verdict pass_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)st; (void)p; (void)dir;
	if (seen.process_calls < G_N_ELEMENTS(seen.origin)) {
		seen.origin[seen.process_calls] = ctx->origin;
		seen.capture_side[seen.process_calls] = ctx->capture_side;
	}
	seen.process_calls++;
	return VERDICT_FORWARD;
}

static const struct stage_ops pass_ops = {
	.type = "test-pass", .summary = "test stage", .keys = no_keys, .configure = ok_configure,
	.describe = no_describe, .process = pass_process,
};

/* test-refuse: forwards everything, but no packet can have come through it backwards. */
static enum reverse_answer refuse_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)st; (void)p; (void)dir;
	g_string_append(ctx->note, "refuses every packet");
	return REVERSE_IMPOSSIBLE;
}

static const struct stage_ops refuse_ops = {
	.type = "test-refuse", .summary = "test stage", .keys = no_keys, .configure = ok_configure,
	.describe = no_describe, .process = pass_process, .reverse = refuse_reverse,
};

/* ---- running one packet --------------------------------------------------------------------------- */

struct run {
	struct memory_sink sink;
	char *stats;
};

static void run_one(struct run *r, const char *scenario_text, uint32_t src, uint32_t dst)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "test.ini", scenario_text, &err);
	g_assert_no_error(err);
	r->sink.link_names = g_ptr_array_new_with_free_func(g_free);
	r->sink.views = g_array_new(FALSE, TRUE, sizeof(struct view));
	g_array_set_clear_func(r->sink.views, view_clear);
	const struct view_sink sink = { .add_link = mem_add_link, .write = mem_write, .data = &r->sink };
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	g_assert_no_error(err);
	uint8_t frame[46];
	frame_udp(frame, src, dst);
	struct input_record rec = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame, .ts_ns = T0,
	                            .linktype = DLT_EN10MB };
	memset(&seen.origin, 0, sizeof seen.origin);
	seen.process_calls = 0;
	g_assert_true(pipeline_replay(pl, &rec, &err));
	g_assert_no_error(err);
	g_assert_true(pipeline_balanced(pl));
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	r->stats = g_string_free(s, FALSE);
	pipeline_free(pl);
	scenario_free(sc);
}

static void run_clear(struct run *r)
{
	g_array_unref(r->sink.views);
	g_ptr_array_unref(r->sink.link_names);
	g_free(r->stats);
}

static const struct view *view_at(const struct run *r, unsigned i)
{
	g_assert_cmpuint(i, <, r->sink.views->len);
	return &g_array_index(r->sink.views, struct view, i);
}

static const char proxy_scenario[] = "[scenario]\nchain = lan > proxy > app\n[link lan]\nnetworks = 10.0.0.0/24\n"
                                     "[link app]\nnetworks = 10.0.1.0/24\n[stage proxy]\ntype = test-proxy\n";

/* ---- cases ---------------------------------------------------------------------------------------- */

/* A consumed request and the stage's own request, away from it on its far link, one hop later. */
static void test_emit_away_on_the_far_link(void)
{
	struct run r;
	run_one(&r, proxy_scenario, CLIENT, VIP);
	g_assert_cmpuint(r.sink.views->len, ==, 2);
	const struct view *req = view_at(&r, 0), *own = view_at(&r, 1);
	g_assert_cmpstr(req->link, ==, "lan");
	g_assert_cmpstr(req->notes, ==, "captured on lan | test-proxy proxy: request consumed");
	g_assert_cmpint(req->ts_ns, ==, T0);
	g_assert_cmpstr(own->link, ==, "app");
	g_assert_cmpuint(own->src, ==, PROXY);
	g_assert_cmpuint(own->dst, ==, TARGET);
	g_assert_cmpint(own->dir, ==, PCAPNG_DIR_OUTBOUND);
	g_assert_cmpint(own->ts_ns, ==, T0 + PIPELINE_HOP_NS);
	g_assert_cmpstr(own->notes, ==, "proxy: its own request to the target");
	/* the proxy's own request is a packet of its own, not a view of the client's */
	g_assert_cmpuint(req->packet_id, !=, 0);
	g_assert_cmpuint(own->packet_id, !=, 0);
	g_assert_cmpuint(own->packet_id, !=, req->packet_id);
	g_assert_nonnull(strstr(r.stats, "1 input = 0 delivered + 0 dropped + 1 consumed"));
	g_assert_nonnull(strstr(r.stats, "emitted by stages 1"));
	run_clear(&r);
}

/* A response the proxy sent itself: the walk back stops at the proxy, which first puts the
 * target's response that caused it in the queue, travelling towards the proxy, two hops earlier. */
static void test_originated_response_follows_what_caused_it(void)
{
	struct run r;
	run_one(&r, proxy_scenario, VIP, CLIENT);
	g_assert_cmpuint(r.sink.views->len, ==, 2);
	const struct view *cause = view_at(&r, 0), *resp = view_at(&r, 1);
	g_assert_cmpstr(cause->link, ==, "app");
	g_assert_cmpuint(cause->src, ==, TARGET);
	g_assert_cmpint(cause->dir, ==, PCAPNG_DIR_INBOUND);
	g_assert_cmpint(cause->ts_ns, ==, T0 - 2 * PIPELINE_HOP_NS);
	g_assert_cmpstr(cause->notes, ==, "sent on app (derived: the target's response that the proxy answers) | "
	                "test-proxy proxy: target's response consumed");
	/* The captured response: shown once, as captured, never handed to process(); its view carries
	 * what reverse() said of it. */
	g_assert_cmpstr(resp->link, ==, "lan");
	g_assert_cmpuint(resp->src, ==, VIP);
	g_assert_cmpint(resp->ts_ns, ==, T0);
	g_assert_cmpint(resp->dir, ==, PCAPNG_DIR_INBOUND);
	g_assert_cmpstr(resp->notes, ==, "captured on lan, test-proxy proxy: proxy: its own response to the client");
	g_assert_cmpuint(seen.process_calls, ==, 1); /* only the target's response */
	g_assert_nonnull(strstr(r.stats, "1 input = 1 delivered + 0 dropped + 0 consumed"));
	g_assert_nonnull(strstr(r.stats, "captured packets it sent itself 1"));
	g_assert_nonnull(strstr(r.stats, "in 1 (0 left-to-right, 1 right-to-left) = forwarded 0 + dropped 0 + consumed 1"));
	run_clear(&r);
}

/* Packets the stage emits at once come out in time order, ties in the order they were emitted. */
static void test_queue_orders_by_time(void)
{
	static const char scen[] = "[scenario]\nchain = lan > flood > far\n[link lan]\nnetworks = 10.0.0.0/24\n"
	                           "[link far]\n[stage flood]\ntype = test-flood\n";
	struct run r;
	seen.emit_count = 3;
	run_one(&r, scen, CLIENT, VIP);
	g_assert_cmpuint(r.sink.views->len, ==, 4);
	g_assert_cmpstr(view_at(&r, 1)->notes, ==, "copy 2");
	g_assert_cmpstr(view_at(&r, 2)->notes, ==, "copy 1");
	g_assert_cmpstr(view_at(&r, 3)->notes, ==, "copy 0");
	for (unsigned i = 1; i < 4; i++) {
		g_assert_cmpstr(view_at(&r, i)->link, ==, "far");
		g_assert_cmpint(view_at(&r, i)->ts_ns, ==, T0 + (int64_t)i * PIPELINE_HOP_NS);
	}
	run_clear(&r);
}

/* More than the queue holds: the excess is refused, counted and reported, nothing else lost. */
static void test_queue_overflow_is_counted(void)
{
	static const char scen[] = "[scenario]\nchain = lan > flood > far\n[link lan]\nnetworks = 10.0.0.0/24\n"
	                           "[link far]\n[stage flood]\ntype = test-flood\n";
	struct run r;
	seen.emit_count = HOP_QUEUE_MAX + 10;
	run_one(&r, scen, CLIENT, VIP);
	g_assert_cmpuint(r.sink.views->len, ==, 1 + HOP_QUEUE_MAX);
	g_assert_nonnull(strstr(r.stats, "WARNING: 10 emitted packets did not fit the queue of hops"));
	g_assert_nonnull(strstr(r.stats, "emitted by stages 1024"));
	run_clear(&r);
}

/* The context tells a stage where the capture is and whether it holds the captured bytes. */
static void test_context_says_capture_side_and_origin(void)
{
	static const char scen[] = "[scenario]\nchain = lan > a > mid > b > far\ncapture = mid\n"
	                           "[link lan]\nnetworks = 10.0.0.0/24\n[link mid]\nnetworks = 100.64.0.0/24\n"
	                           "[link far]\n[stage a]\ntype = test-pass\n[stage b]\ntype = test-pass\n";
	struct run r;
	/* From mid to far: b sees the captured packet, and the capture on its left. */
	run_one(&r, scen, 0x64400005u, VIP);
	g_assert_cmpuint(seen.process_calls, ==, 1);
	g_assert_cmpint(seen.origin[0], ==, ORIGIN_CAPTURED);
	g_assert_cmpint(seen.capture_side[0], ==, SIDE_LEFT);
	run_clear(&r);
	/* From lan to far, captured on mid: a sees it before the capture, b the captured bytes. */
	run_one(&r, scen, CLIENT, VIP);
	g_assert_cmpuint(seen.process_calls, ==, 2);
	g_assert_cmpint(seen.origin[0], ==, ORIGIN_DERIVED);
	g_assert_cmpint(seen.capture_side[0], ==, SIDE_RIGHT);
	g_assert_cmpint(seen.origin[1], ==, ORIGIN_CAPTURED);
	g_assert_cmpint(seen.capture_side[1], ==, SIDE_LEFT);
	g_assert_cmpstr(view_at(&r, 1)->notes, ==, "this is the captured packet");
	run_clear(&r);
}

/* A walk back that stops short leaves the packet on another path: its views elsewhere are not
 * compared with the captured bytes (they were, and read "differs from the captured packet"). */
static void test_capture_check_only_on_the_capture_link(void)
{
	static const char scen[] = "[scenario]\nchain = lan > refuse > mid > pass > far\ncapture = far\n"
	                           "[link lan]\nnetworks = 10.0.0.0/24\n[link mid]\nnetworks = 100.64.0.0/24\n[link far]\n"
	                           "[stage refuse]\ntype = test-refuse\n[stage pass]\ntype = test-pass\n";
	struct run r;
	/* lan to lan, captured on far: the walk back crosses pass, then refuse says no. */
	run_one(&r, scen, CLIENT, CLIENT + 1);
	g_assert_cmpuint(r.sink.views->len, ==, 2);
	g_assert_cmpstr(view_at(&r, 0)->link, ==, "mid");
	g_assert_cmpstr(view_at(&r, 1)->link, ==, "lan");
	g_assert_null(strstr(view_at(&r, 1)->notes, "captured packet"));
	g_assert_nonnull(strstr(view_at(&r, 1)->notes, "test-refuse refuse could not have passed this packet (refuses every packet)"));
	g_assert_null(strstr(r.stats, "differ from the captured packet"));
	run_clear(&r);
}

/* The heap itself: earliest time first; equal times in the order pushed. */
static void test_heap_order_and_ties(void)
{
	static const int64_t at[] = { 5, 3, 3, 1, 5, 3, 0, 9 };
	static const unsigned want[] = { 6, 3, 1, 2, 5, 0, 4, 7 };
	struct hop_queue *q = hop_queue_new();
	struct hop_entry *e;

	for (unsigned i = 0; i < G_N_ELEMENTS(at); i++) {
		e = hop_queue_reserve(q);
		e->at_ns = at[i];
		e->link = i;
		hop_queue_push(q, e);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		e = hop_queue_pop(q);
		g_assert_nonnull(e);
		g_assert_cmpuint(e->link, ==, want[i]);
		hop_queue_release(q, e);
	}
	g_assert_null(hop_queue_pop(q));
	hop_queue_free(q);
}

/* ---- stage_emit through a capturing emitter, without the loop ---------------------------------- */

static void test_stage_emit_fills_in_the_packet(void)
{
	struct test_emitter cap;
	test_emitter_init(&cap);
	struct stage st = { .ops = &proxy_ops, .name = "p", .index = 0 };
	GString *note = g_string_new(NULL);
	struct stage_ctx ctx = { .now_ns = T0, .note = note, .emitter = &cap.em, .stage = &st, .linktype = DLT_EN10MB };
	uint8_t frame[46];

	frame_udp(frame, CLIENT, VIP);
	struct packet p = { .data = frame, .capacity = sizeof frame, .caplen = sizeof frame, .wirelen = sizeof frame,
	                    .linktype = DLT_EN10MB };
	decode_packet(&p);
	g_assert_cmpint(proxy_ops.process(&st, &p, DIR_LEFT_TO_RIGHT, &ctx), ==, VERDICT_CONSUMED);
	g_assert_cmpuint(cap.n, ==, 1);
	g_assert_true(cap.last.from == &st);
	g_assert_cmpint(cap.last.side, ==, SIDE_RIGHT);
	g_assert_cmpint(cap.last.dir, ==, DIR_LEFT_TO_RIGHT);
	g_assert_cmpint(cap.last.at_ns, ==, T0 + PIPELINE_HOP_NS);
	g_assert_cmpint(cap.last.linktype, ==, DLT_EN10MB);
	g_assert_cmpuint(test_get32(cap.bytes, 26), ==, PROXY);
	g_assert_cmpstr(cap.last.note, ==, "proxy: its own request to the target");
	g_assert_cmpuint(st.counters.emitted, ==, 1);
	/* Outside the loop there is nowhere to send: refused, not counted. */
	ctx.emitter = NULL;
	g_assert_false(stage_emit(&ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, 0, frame, sizeof frame, NULL));
	g_assert_cmpuint(st.counters.emitted, ==, 1);
	g_string_free(note, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_types = *natlb_stage_types();
	stage_registry_add(&test_types, &proxy_ops);
	stage_registry_add(&test_types, &flood_ops);
	stage_registry_add(&test_types, &pass_ops);
	stage_registry_add(&test_types, &refuse_ops);
	g_test_add_func("/hops/emit/away-from-the-stage-on-its-far-link", test_emit_away_on_the_far_link);
	g_test_add_func("/hops/reverse/originated-response-follows-the-packet-that-caused-it",
	                test_originated_response_follows_what_caused_it);
	g_test_add_func("/hops/queue/emitted-at-once-written-earliest-first", test_queue_orders_by_time);
	g_test_add_func("/hops/queue/heap-earliest-first-equal-times-in-push-order", test_heap_order_and_ties);
	g_test_add_func("/hops/queue/overflow-refused-counted-and-reported", test_queue_overflow_is_counted);
	g_test_add_func("/hops/context/says-capture-side-and-origin", test_context_says_capture_side_and_origin);
	g_test_add_func("/hops/capture-check/only-where-the-replay-meets-the-capture-link",
	                test_capture_check_only_on_the_capture_link);
	g_test_add_func("/hops/emit/stage-emit-fills-side-direction-time-and-counts", test_stage_emit_fills_in_the_packet);
	return g_test_run();
}
