/* tests/test_tcp_stream.c: TCP stream reassembly for the L7 balancer (common/tcp_stream.c; RFC 9293 sections 3.4 and 3.10.7.4).
 *
 * Each table row is a script of segments cut from one text (or from a second text of '#', a copy
 * that differs everywhere) with the event each must give; a recorder stands for the HTTP framer
 * and checks that every callback starts where the last one ended.  What it received, with '~'
 * for each byte reported as a gap, must equal the row's want exactly, and every counter must
 * have the row's value (unnamed ones 0).  Every segment's bytes are an exact-size copy, so ASan
 * sees a read past them.
 */
#include <glib.h>
#include <string.h>

#include "common/tcp_stream.h"

static const char text[] = "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs!";
static const char alt[] = "#####################################################################################";
G_STATIC_ASSERT(sizeof text == sizeof alt);

/* ---- the recorder: what an HTTP framer would see --------------------------------------------- */

struct rec {
	GString *got;     /* data as received, '~' for each gap byte */
	bool fin;
	uint64_t fin_at;
	unsigned mid_stream; /* mid_stream() calls */
	unsigned calls;      /* every callback */
};

static void rec_data(void *ctx, uint64_t offset, const uint8_t *b, uint32_t n)
{
	struct rec *r = ctx;
	g_assert_cmpuint(offset, ==, r->got->len);
	g_assert_cmpuint(n, >, 0);
	g_assert_false(r->fin);
	g_string_append_len(r->got, (const char *)b, n);
	r->calls++;
}

static void rec_gap(void *ctx, uint64_t offset, uint32_t n)
{
	struct rec *r = ctx;
	g_assert_cmpuint(offset, ==, r->got->len);
	g_assert_cmpuint(n, >, 0);
	g_assert_cmpuint(n, <, 4096); /* the rows' gaps are small; a huge one is a wrapped distance */
	g_assert_false(r->fin);
	for (uint32_t i = 0; i < n; i++)
		g_string_append_c(r->got, '~');
	r->calls++;
}

static void rec_fin(void *ctx, uint64_t offset)
{
	struct rec *r = ctx;
	g_assert_false(r->fin);
	g_assert_cmpuint(offset, ==, r->got->len);
	r->fin = true;
	r->fin_at = offset;
	r->calls++;
}

static void rec_mid_stream(void *ctx)
{
	struct rec *r = ctx;
	g_assert_cmpuint(r->calls, ==, 0); /* before anything else */
	r->mid_stream++;
	r->calls++;
}

/* ---- the table ------------------------------------------------------------------------------- */

enum step_kind { STEP_SEGMENT, STEP_SKIP_GAP, STEP_FLUSH };

struct step {
	enum step_kind kind;
	uint32_t at, len;       /* text offset of the first byte (sequence number isn + at), wire length */
	bool cut;               /* only `captured` bytes were captured (snapshot length) */
	uint32_t captured;
	bool fin, alt;          /* alt: the bytes come from the differing copy */
	enum tcp_stream_event want;
	uint64_t want_skipped;  /* STEP_SKIP_GAP, STEP_FLUSH */
};

#define SEG(a, b, ev) { .at = (a), .len = (b) - (a), .want = TCP_STREAM_##ev }
#define SEG_FIN(a, b, ev) { .at = (a), .len = (b) - (a), .fin = true, .want = TCP_STREAM_##ev }
#define SEG_ALT(a, b, ev) { .at = (a), .len = (b) - (a), .alt = true, .want = TCP_STREAM_##ev }
#define SEG_CUT(a, b, n, ev) { .at = (a), .len = (b) - (a), .cut = true, .captured = (n), .want = TCP_STREAM_##ev }
#define SKIP(n) { .kind = STEP_SKIP_GAP, .want_skipped = (n) }
#define FLUSH(n) { .kind = STEP_FLUSH, .want_skipped = (n) }

#define BIG { .max_held_bytes = 65536, .max_held_segments = 64 }

struct stream_case {
	const char *name;
	struct tcp_stream_limits lim;
	uint32_t isn;          /* sequence number of text[0] */
	bool pickup, no_start;
	struct step steps[12];
	const char *want;      /* what the consumer got, '~' per gap byte */
	uint64_t want_len;     /* when want is NULL: only how much it got */
	bool want_fin;         /* fin() at the end of want */
	struct tcp_stream_counters want_counters; /* delivered_bytes and gap_bytes are checked from want */
	uint32_t want_next_seq_from_isn; /* checked when non-zero: next_seq - isn */
};

static const struct stream_case cases[] = {
	{ .name = "/tcp-stream/in-order/three-segments", .lim = BIG, .isn = 1000,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(10, 25, IN_ORDER), SEG(25, 40, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy ", .want_next_seq_from_isn = 40 },
	{ .name = "/tcp-stream/out-of-order/three-segments-reversed", .lim = BIG, .isn = 1000,
	  .steps = { SEG(25, 40, HELD), SEG(10, 25, HELD), SEG(0, 10, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy ",
	  .want_counters = { .held_segments = 2 } },
	{ .name = "/tcp-stream/out-of-order/interleaved", .lim = BIG, .isn = 77,
	  .steps = { SEG(10, 20, HELD), SEG(30, 40, HELD), SEG(0, 10, IN_ORDER), SEG(20, 30, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy ",
	  .want_counters = { .held_segments = 2 } },
	{ .name = "/tcp-stream/retransmission/exact-copy-of-delivered-bytes", .lim = BIG, .isn = 5,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(0, 10, RETRANSMISSION), SEG(10, 20, IN_ORDER), SEG(5, 10, RETRANSMISSION) },
	  .want = "The quick brown fox ", .want_counters = { .retransmitted_segments = 2 } },
	{ .name = "/tcp-stream/retransmission/exact-copy-of-held-bytes", .lim = BIG, .isn = 5,
	  .steps = { SEG(20, 30, HELD), SEG(20, 30, RETRANSMISSION), SEG(22, 28, RETRANSMISSION), SEG(0, 20, IN_ORDER) },
	  .want = "The quick brown fox jumps over",
	  .want_counters = { .held_segments = 1, .retransmitted_segments = 2 } },
	{ .name = "/tcp-stream/retransmission/differing-copy-of-held-bytes-is-counted", .lim = BIG, .isn = 5,
	  .steps = { SEG(20, 30, HELD), SEG_ALT(24, 28, RETRANSMISSION), SEG(0, 20, IN_ORDER) },
	  .want = "The quick brown fox jumps over",
	  .want_counters = { .held_segments = 1, .retransmitted_segments = 1, .overlap_conflict_bytes = 4 } },
	/* Bytes delivered are gone from the reassembler: only the new part of the copy is taken. */
	{ .name = "/tcp-stream/overlap/starts-before-the-next-byte", .lim = BIG, .isn = 5,
	  .steps = { SEG(0, 10, IN_ORDER), SEG_ALT(5, 20, OVERLAP) },
	  .want = "The quick ##########", .want_counters = { .overlapping_segments = 1 } },
	{ .name = "/tcp-stream/overlap/held-first-copy-wins-on-both-sides", .lim = BIG, .isn = 5,
	  .steps = { SEG(10, 20, HELD), SEG_ALT(5, 25, OVERLAP), SEG(0, 5, IN_ORDER) },
	  .want = "The q#####brown fox #####",
	  .want_counters = { .held_segments = 2, .overlapping_segments = 1, .overlap_conflict_bytes = 10 } },
	{ .name = "/tcp-stream/overlap/in-order-copy-over-a-held-piece", .lim = BIG, .isn = 5,
	  .steps = { SEG(10, 20, HELD), SEG_ALT(0, 30, OVERLAP) },
	  .want = "##########brown fox ##########",
	  .want_counters = { .held_segments = 1, .overlapping_segments = 1, .overlap_conflict_bytes = 10 } },
	{ .name = "/tcp-stream/overlap/one-segment-covers-several-held-ones", .lim = BIG, .isn = 5,
	  .steps = { SEG(10, 15, HELD), SEG(20, 25, HELD), SEG(30, 35, HELD), SEG(5, 40, OVERLAP), SEG(0, 5, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy ",
	  .want_counters = { .held_segments = 4, .overlapping_segments = 1 } },
	{ .name = "/tcp-stream/gap/fin-after-a-hole-then-skip", .lim = BIG, .isn = 9,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(20, 30, HELD), SEG_FIN(30, 35, HELD), SKIP(10), SKIP(0) },
	  .want = "The quick ~~~~~~~~~~jumps over the ", .want_fin = true,
	  .want_counters = { .held_segments = 2, .gaps = 1 } },
	{ .name = "/tcp-stream/gap/lone-fin-after-a-hole-then-skip", .lim = BIG, .isn = 9,
	  .steps = { SEG(0, 10, IN_ORDER), SEG_FIN(20, 20, HELD), SKIP(10) },
	  .want = "The quick ~~~~~~~~~~", .want_fin = true, .want_counters = { .gaps = 1 } },
	{ .name = "/tcp-stream/gap/flush-skips-every-hole", .lim = BIG, .isn = 9,
	  .steps = { SEG(0, 4, IN_ORDER), SEG(10, 16, HELD), SEG(20, 25, HELD), SEG_FIN(30, 35, HELD), FLUSH(15) },
	  .want = "The ~~~~~~brown ~~~~jumps~~~~~ the ", .want_fin = true,
	  .want_counters = { .held_segments = 3, .gaps = 3 } },
	{ .name = "/tcp-stream/hold-limit/bytes-full-skips-the-earliest-hole", .isn = 100,
	  .lim = { .max_held_bytes = 16, .max_held_segments = 8 },
	  .steps = { SEG(0, 5, IN_ORDER), SEG(10, 20, HELD), SEG(25, 35, GAP_SKIPPED), SEG(20, 25, IN_ORDER) },
	  .want = "The q~~~~~brown fox jumps over the ",
	  .want_counters = { .held_segments = 2, .gaps = 1, .auto_skips = 1 } },
	{ .name = "/tcp-stream/hold-limit/pieces-full-skips-the-earliest-hole", .isn = 100,
	  .lim = { .max_held_bytes = 100, .max_held_segments = 2 },
	  .steps = { SEG(0, 5, IN_ORDER), SEG(10, 12, HELD), SEG(14, 16, HELD), SEG(18, 20, GAP_SKIPPED), FLUSH(4) },
	  .want = "The q~~~~~br~~n ~~x ",
	  .want_counters = { .held_segments = 3, .gaps = 3, .auto_skips = 1 } },
	{ .name = "/tcp-stream/hold-limit/segment-larger-than-the-hold", .isn = 100,
	  .lim = { .max_held_bytes = 8, .max_held_segments = 8 },
	  .steps = { SEG(0, 5, IN_ORDER), SEG(10, 30, GAP_SKIPPED) },
	  .want = "The q~~~~~brown fox jumps over", .want_counters = { .gaps = 1, .auto_skips = 1 } },
	/* The segment fills a hole before the held piece: only the bytes before it are given up. */
	{ .name = "/tcp-stream/hold-limit/filler-before-a-full-hold-skips-only-to-itself", .isn = 100,
	  .lim = { .max_held_bytes = 10, .max_held_segments = 8 },
	  .steps = { SEG(0, 5, IN_ORDER), SEG(20, 30, HELD), SEG(8, 12, GAP_SKIPPED), SEG(12, 20, IN_ORDER) },
	  .want = "The q~~~k brown fox jumps over",
	  .want_counters = { .held_segments = 1, .gaps = 1, .auto_skips = 1 } },
	{ .name = "/tcp-stream/wrap-around/in-order-across-2^32", .lim = BIG, .isn = 0xfffffff0u,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(10, 20, IN_ORDER), SEG(20, 40, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy ", .want_next_seq_from_isn = 40 },
	{ .name = "/tcp-stream/wrap-around/held-pieces-either-side-of-2^32", .lim = BIG, .isn = 0xfffffff0u,
	  .steps = { SEG(30, 40, HELD), SEG(12, 20, HELD), SEG(0, 12, IN_ORDER), SEG(20, 30, IN_ORDER),
	             SEG_FIN(40, 44, IN_ORDER) },
	  .want = "The quick brown fox jumps over the lazy dog;", .want_fin = true,
	  .want_counters = { .held_segments = 2 }, .want_next_seq_from_isn = 44 },
	{ .name = "/tcp-stream/wrap-around/retransmission-from-before-2^32", .lim = BIG, .isn = 0xfffffffbu,
	  .steps = { SEG(0, 20, IN_ORDER), SEG(0, 5, RETRANSMISSION), SEG(3, 25, OVERLAP) },
	  .want = "The quick brown fox jumps",
	  .want_counters = { .retransmitted_segments = 1, .overlapping_segments = 1 } },
	{ .name = "/tcp-stream/pickup/mid-stream-starts-at-the-first-segment", .lim = BIG, .isn = 123456, .pickup = true,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(20, 30, HELD), SEG(10, 20, IN_ORDER) },
	  .want = "The quick brown fox jumps over", .want_counters = { .held_segments = 1 } },
	{ .name = "/tcp-stream/truncated/in-order-tail-is-a-gap", .lim = BIG, .isn = 1,
	  .steps = { SEG(0, 10, IN_ORDER), SEG_CUT(10, 30, 5, IN_ORDER), SEG(30, 40, IN_ORDER), SEG(15, 30, RETRANSMISSION) },
	  .want = "The quick brown~~~~~~~~~~~~~~~ the lazy ",
	  .want_counters = { .gaps = 1, .retransmitted_segments = 1 } },
	{ .name = "/tcp-stream/truncated/nothing-captured-is-all-gap", .lim = BIG, .isn = 1,
	  .steps = { SEG_CUT(0, 10, 0, IN_ORDER), SEG(10, 15, IN_ORDER) },
	  .want = "~~~~~~~~~~brown", .want_counters = { .gaps = 1 } },
	/* The lost tail is held as a piece of its own and is the first copy of those bytes. */
	{ .name = "/tcp-stream/truncated/held-tail-is-a-gap-even-when-resent", .lim = BIG, .isn = 1,
	  .steps = { SEG_CUT(10, 30, 5, HELD), SEG(10, 30, RETRANSMISSION), SEG(0, 10, IN_ORDER), SEG(30, 35, IN_ORDER) },
	  .want = "The quick brown~~~~~~~~~~~~~~~ the ",
	  .want_counters = { .held_segments = 1, .retransmitted_segments = 1, .gaps = 1 } },
	{ .name = "/tcp-stream/empty/pure-acks-change-nothing", .lim = BIG, .isn = 1,
	  .steps = { SEG(0, 10, IN_ORDER), SEG(50, 50, EMPTY), SEG(0, 0, EMPTY), SEG(20, 25, HELD), SEG(10, 10, EMPTY),
	             SEG(10, 20, IN_ORDER) },
	  .want = "The quick brown fox jumps", .want_counters = { .held_segments = 1 } },
	{ .name = "/tcp-stream/fin/in-order-ends-the-stream", .lim = BIG, .isn = 1,
	  .steps = { SEG(0, 10, IN_ORDER), SEG_FIN(10, 20, IN_ORDER), SEG(20, 25, AFTER_FIN), SEG_FIN(15, 20, RETRANSMISSION),
	             SEG_FIN(20, 20, RETRANSMISSION), SKIP(0) },
	  .want = "The quick brown fox ", .want_fin = true,
	  .want_counters = { .dropped_segments = 1, .retransmitted_segments = 2 }, .want_next_seq_from_isn = 20 },
	{ .name = "/tcp-stream/fin/lone-fin-in-order", .lim = BIG, .isn = 1,
	  .steps = { SEG(0, 10, IN_ORDER), SEG_FIN(10, 10, IN_ORDER) },
	  .want = "The quick ", .want_fin = true },
	{ .name = "/tcp-stream/fin/held-data-after-the-fin-is-given-up", .lim = BIG, .isn = 1,
	  .steps = { SEG(30, 40, HELD), SEG(15, 25, HELD), SEG_FIN(10, 20, OVERLAP), SEG(0, 10, IN_ORDER), SEG(20, 25, AFTER_FIN) },
	  .want = "The quick brown fox ", .want_fin = true,
	  .want_counters = { .held_segments = 3, .overlapping_segments = 1, .dropped_segments = 1 } },
	{ .name = "/tcp-stream/fin/a-second-fin-elsewhere-is-ignored", .lim = BIG, .isn = 1,
	  .steps = { SEG_FIN(10, 20, HELD), SEG_FIN(5, 15, OVERLAP), SEG(0, 5, IN_ORDER) },
	  .want = "The quick brown fox ", .want_fin = true,
	  .want_counters = { .held_segments = 2, .overlapping_segments = 1 } },
	{ .name = "/tcp-stream/dropped/beyond-the-window", .isn = 1,
	  .lim = { .max_held_bytes = 65536, .max_held_segments = 64, .max_ahead = 1000 },
	  .steps = { SEG(0, 10, IN_ORDER), { .at = 1011, .len = 4, .cut = true, .want = TCP_STREAM_BEYOND_WINDOW },
	             { .at = 1010, .len = 0, .fin = true, .want = TCP_STREAM_HELD }, SKIP(1000) },
	  .want_len = 1010 /* 10 bytes and a 1000-byte gap */, .want_fin = true,
	  .want_counters = { .dropped_segments = 1, .gaps = 1 } },
	{ .name = "/tcp-stream/dropped/not-started", .lim = BIG, .isn = 1, .no_start = true,
	  .steps = { SEG(0, 10, NOT_STARTED), SEG(0, 0, EMPTY), SKIP(0) },
	  .want = "", .want_counters = { .dropped_segments = 1 } },
	{ .name = "/tcp-stream/dropped/longer-than-any-window", .lim = BIG, .isn = 1,
	  .steps = { { .at = 0, .len = TCP_STREAM_MAX_WINDOW + 1, .cut = true, .captured = 0, .want = TCP_STREAM_TOO_LONG },
	             SEG(0, 3, IN_ORDER) },
	  .want = "The", .want_counters = { .dropped_segments = 1 } },
};

static void run_case(gconstpointer data)
{
	const struct stream_case *c = data;
	struct rec r = { .got = g_string_new(NULL) };
	const struct tcp_stream_consumer consumer = {
		.data = rec_data, .gap = rec_gap, .fin = rec_fin, .mid_stream = rec_mid_stream, .ctx = &r,
	};
	struct tcp_stream s;

	tcp_stream_init(&s, &c->lim);
	g_assert_false(tcp_stream_started(&s));
	if (c->pickup)
		tcp_stream_pick_up(&s, c->isn);
	else if (!c->no_start)
		tcp_stream_start(&s, c->isn);
	g_assert_true(tcp_stream_started(&s) == !c->no_start);

	for (unsigned i = 0; i < G_N_ELEMENTS(c->steps); i++) {
		const struct step *st = &c->steps[i];
		if (st->kind == STEP_SKIP_GAP || st->kind == STEP_FLUSH) {
			uint64_t n = st->kind == STEP_FLUSH ? tcp_stream_flush(&s, &consumer) : tcp_stream_skip_gap(&s, &consumer);
			g_assert_cmpuint(n, ==, st->want_skipped);
			continue;
		}
		if (st->len == 0 && !st->fin && st->want != TCP_STREAM_EMPTY)
			break; /* the end of the script */
		uint32_t captured = st->cut ? st->captured : st->len;
		g_assert_true(captured == 0 || st->at + captured < sizeof text);
		uint8_t *bytes = captured ? g_memdup2((st->alt ? alt : text) + st->at, captured) : NULL;
		enum tcp_stream_event ev = tcp_stream_feed(&s, c->isn + st->at, bytes, captured, st->len, st->fin, &consumer);
		if (ev != st->want)
			g_error("step %u (text %u..%u): got %s (%s), want %s", i, st->at, st->at + st->len,
			        tcp_stream_event_name(ev), tcp_stream_event_text(ev), tcp_stream_event_name(st->want));
		g_free(bytes);
		/* offset = delivered + gaps, and it is what the consumer was given */
		g_assert_cmpuint(tcp_stream_offset(&s), ==, r.got->len);
		g_assert_cmpuint(s.counters.held_bytes_now, <=, c->lim.max_held_bytes);
		g_assert_cmpuint(s.counters.held_segments_now, <=, c->lim.max_held_segments);
	}

	if (c->want)
		g_assert_cmpstr(r.got->str, ==, c->want);
	else
		g_assert_cmpuint(r.got->len, ==, c->want_len);
	g_assert_cmpuint(r.mid_stream, ==, c->pickup ? 1 : 0);
	g_assert_true(tcp_stream_mid_stream(&s) == c->pickup);
	g_assert_true(r.fin == c->want_fin);
	g_assert_true(tcp_stream_fin_seen(&s) == c->want_fin);
	if (c->want_fin)
		g_assert_cmpuint(r.fin_at, ==, r.got->len);
	if (c->want_next_seq_from_isn)
		g_assert_cmpuint(tcp_stream_next_seq(&s) - c->isn, ==, c->want_next_seq_from_isn);

	/* Every counter as the row says: data and gap bytes from what was received. */
	const struct tcp_stream_counters *k = tcp_stream_counters(&s), *w = &c->want_counters;
	uint64_t tildes = 0;
	for (gsize i = 0; i < r.got->len; i++)
		tildes += r.got->str[i] == '~';
	g_assert_cmpuint(k->delivered_bytes, ==, r.got->len - tildes);
	g_assert_cmpuint(k->gap_bytes, ==, tildes);
	g_assert_cmpuint(k->gaps, ==, w->gaps);
	g_assert_cmpuint(k->held_bytes_now, ==, w->held_bytes_now);
	g_assert_cmpuint(k->held_segments_now, ==, w->held_segments_now);
	g_assert_cmpuint(k->held_segments, ==, w->held_segments);
	g_assert_cmpuint(k->retransmitted_segments, ==, w->retransmitted_segments);
	g_assert_cmpuint(k->overlapping_segments, ==, w->overlapping_segments);
	g_assert_cmpuint(k->overlap_conflict_bytes, ==, w->overlap_conflict_bytes);
	g_assert_cmpuint(k->dropped_segments, ==, w->dropped_segments);
	g_assert_cmpuint(k->auto_skips, ==, w->auto_skips);

	tcp_stream_clear(&s);
	g_assert_false(tcp_stream_started(&s));
	g_string_free(r.got, TRUE);
}

/* ---- beyond the table ------------------------------------------------------------------------ */

/* A consumer that only checks contiguity and keeps what it got, for the long streams. */
struct sink {
	GByteArray *got;
	uint64_t next, gap_bytes;
};

static void sink_data(void *ctx, uint64_t offset, const uint8_t *b, uint32_t n)
{
	struct sink *k = ctx;
	g_assert_cmpuint(offset, ==, k->next);
	if (k->got)
		g_byte_array_append(k->got, b, n);
	k->next += n;
}

static void sink_gap(void *ctx, uint64_t offset, uint32_t n)
{
	struct sink *k = ctx;
	g_assert_cmpuint(offset, ==, k->next);
	k->next += n;
	k->gap_bytes += n;
}

/* 1000 bytes, one per segment: in order, then shuffled with every byte sent twice. */
static void test_one_byte_per_segment(gconstpointer data)
{
	const bool shuffled = GPOINTER_TO_INT(data);
	const struct tcp_stream_limits lim = { .max_held_bytes = 1000, .max_held_segments = 1000 };
	enum { N = 1000 };
	uint8_t stream[N];
	uint32_t order[2 * N];
	struct sink k = { .got = g_byte_array_new() };
	const struct tcp_stream_consumer c = { .data = sink_data, .gap = sink_gap, .ctx = &k };
	struct tcp_stream s;
	GRand *rand = g_rand_new_with_seed(9293);

	for (unsigned i = 0; i < N; i++)
		stream[i] = (uint8_t)g_rand_int(rand);
	for (unsigned i = 0; i < 2 * N; i++)
		order[i] = i % N;
	if (shuffled)
		for (unsigned i = 2 * N - 1; i > 0; i--) {
			unsigned j = (unsigned)g_rand_int_range(rand, 0, (gint32)i + 1);
			uint32_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	tcp_stream_init(&s, &lim);
	tcp_stream_start(&s, 0xfffffe00u); /* and across 2^32 on the way */
	for (unsigned i = 0; i < (shuffled ? 2 * N : N); i++) {
		uint8_t *b = g_memdup2(&stream[order[i]], 1);
		tcp_stream_feed(&s, 0xfffffe00u + order[i], b, 1, 1, false, &c);
		g_free(b);
		g_assert_cmpuint(s.counters.held_bytes_now, <=, lim.max_held_bytes);
	}
	g_assert_cmpuint(k.got->len, ==, N);
	g_assert_cmpmem(k.got->data, k.got->len, stream, N);
	g_assert_cmpuint(k.gap_bytes, ==, 0);
	g_assert_cmpuint(s.counters.held_bytes_now, ==, 0);
	g_assert_cmpuint(s.counters.retransmitted_segments, ==, shuffled ? N : 0);
	g_assert_cmpuint(s.counters.overlap_conflict_bytes, ==, 0);
	g_assert_cmpuint(tcp_stream_next_seq(&s), ==, 0xfffffe00u + N);
	tcp_stream_clear(&s);
	g_rand_free(rand);
	g_byte_array_free(k.got, TRUE);
}

/* Five gigabytes in order: the offset is 64-bit while the sequence numbers wrap, and nothing is held. */
static void test_more_than_4_gb(void)
{
	enum { SEG = 65535 };
	const uint64_t total = UINT64_C(5) << 30;
	const struct tcp_stream_limits lim = { .max_held_bytes = 65536, .max_held_segments = 64 };
	uint8_t *payload = g_malloc0(SEG);
	struct sink k = { 0 };
	const struct tcp_stream_consumer c = { .data = sink_data, .gap = sink_gap, .ctx = &k };
	struct tcp_stream s;
	const uint32_t isn = 0xfffff000u;
	uint64_t sent = 0;

	tcp_stream_init(&s, &lim);
	tcp_stream_start(&s, isn);
	while (sent < total) {
		uint32_t n = total - sent < SEG ? (uint32_t)(total - sent) : SEG;
		g_assert_cmpint(tcp_stream_feed(&s, (uint32_t)(isn + sent), payload, n, n, false, &c), ==, TCP_STREAM_IN_ORDER);
		sent += n;
	}
	g_assert_cmpint(tcp_stream_feed(&s, (uint32_t)(isn + sent), NULL, 0, 0, true, &c), ==, TCP_STREAM_IN_ORDER);
	g_assert_true(tcp_stream_fin_seen(&s));
	g_assert_cmpuint(tcp_stream_offset(&s), ==, total);
	g_assert_cmpuint(k.next, ==, total);
	g_assert_cmpuint(s.counters.delivered_bytes, ==, total);
	g_assert_cmpuint(tcp_stream_next_seq(&s), ==, (uint32_t)(isn + total));
	g_assert_cmpuint(s.counters.held_segments, ==, 0);
	/* a retransmission from 4 GB back is just old (the sequence space is modulo 2^32) */
	g_assert_cmpint(tcp_stream_feed(&s, (uint32_t)(isn + sent - 100), payload, 100, 100, false, &c), ==,
	                TCP_STREAM_RETRANSMISSION);
	tcp_stream_clear(&s);
	g_free(payload);
}

/* The header says 136 bytes: the struct is embedded per connection, 100,000 of them. */
static void test_size_when_nothing_is_held(void)
{
	g_assert_cmpuint(sizeof(struct tcp_stream), <=, 136);
}

/* A stream holding pieces (and lost tails) frees them: ASan's leak check sees it otherwise. */
static void test_clear_frees_held_pieces(void)
{
	const struct tcp_stream_limits lim = { .max_held_bytes = 100, .max_held_segments = 10 };
	struct sink k = { 0 };
	const struct tcp_stream_consumer c = { .data = sink_data, .ctx = &k };
	struct tcp_stream s;
	uint8_t b[10] = "0123456789";

	tcp_stream_init(&s, &lim);
	tcp_stream_start(&s, 100);
	g_assert_cmpint(tcp_stream_feed(&s, 110, b, 10, 10, false, &c), ==, TCP_STREAM_HELD);
	g_assert_cmpint(tcp_stream_feed(&s, 130, b, 4, 10, false, &c), ==, TCP_STREAM_HELD);
	g_assert_cmpuint(s.counters.held_bytes_now, ==, 14);
	g_assert_cmpuint(s.counters.held_segments_now, ==, 3);
	tcp_stream_clear(&s);
	g_assert_cmpuint(s.counters.held_bytes_now, ==, 0);
	g_assert_null(s.held);
	g_assert_cmpuint(s.lim.max_held_bytes, ==, 100); /* the limits stay */
	g_assert_cmpuint(k.next, ==, 0);
}

static void test_every_event_has_a_name_and_a_sentence(void)
{
	for (int e = 0; e < TCP_STREAM_EVENT_N; e++) {
		g_assert_cmpuint(strlen(tcp_stream_event_text((enum tcp_stream_event)e)), >, 10);
		for (int f = 0; f < e; f++)
			g_assert_cmpstr(tcp_stream_event_name((enum tcp_stream_event)e), !=,
			                tcp_stream_event_name((enum tcp_stream_event)f));
	}
	g_assert_cmpstr(tcp_stream_event_name(TCP_STREAM_GAP_SKIPPED), ==, "GAP_SKIPPED");
	g_assert_cmpstr(tcp_stream_event_text(TCP_STREAM_EVENT_N), ==, "unknown event");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_test_add_data_func(cases[i].name, &cases[i], run_case);
	g_test_add_data_func("/tcp-stream/one-byte-per-segment/1000-in-order", GINT_TO_POINTER(0), test_one_byte_per_segment);
	g_test_add_data_func("/tcp-stream/one-byte-per-segment/1000-shuffled-each-sent-twice", GINT_TO_POINTER(1),
	                     test_one_byte_per_segment);
	g_test_add_func("/tcp-stream/offset/more-than-4-gb-across-several-wraps", test_more_than_4_gb);
	g_test_add_func("/tcp-stream/size/small-enough-to-embed-per-connection", test_size_when_nothing_is_held);
	g_test_add_func("/tcp-stream/clear/frees-held-pieces-and-keeps-the-limits", test_clear_frees_held_pieces);
	g_test_add_func("/tcp-stream/events/each-has-a-name-and-a-sentence", test_every_event_has_a_name_and_a_sentence);
	return g_test_run();
}
