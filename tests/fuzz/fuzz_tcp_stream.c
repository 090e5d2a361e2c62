/* tests/fuzz/fuzz_tcp_stream.c: libFuzzer harness for TCP stream reassembly (common/tcp_stream.c; RFC 9293 sections 3.4 and 3.10.7.4).
 *
 * Every segment is cut from one pseudo-stream whose byte at stream position p is pattern(p), so
 * the oracle knows each byte without keeping the stream: whatever the order, overlaps, cuts,
 * limits and skips, the consumer must get pattern(base + offset) at every offset it is given
 * data for, every callback starting where the last ended, at most one FIN and nothing after it;
 * the first copy of a byte wins: data only where captured bytes came first, gaps only over holes
 * and cut tails (followed for the first 8 KiB); held bytes and pieces stay within the limits; offset = delivered + gaps; no copy differs, so
 * no conflict may be counted; a segment dropped, empty, held or retransmitted delivers nothing.
 * After the final flush nothing is held.  Each segment's bytes are an exact-size malloc, so ASan
 * sees a read past them.  Any violation abort()s.
 *
 * Input: ISN [4], limits [1] (low 4 bits: max_held_bytes / 64, high 4: max_held_segments),
 * mode [1] (bit 0: picked up mid-stream at the first segment, bit 1: max_ahead 4096), then
 * records [flags][delta, 2 bytes, signed][len][captured]:
 *   flags bit 0 FIN; bit 1 the capture was cut at `captured` bytes; bits 2-3: 0 segment at the
 *   last segment's end + delta, 1 tcp_stream_skip_gap, 2 a segment at a random sequence number
 *   (delta, len, captured), 3 a pure ACK; bit 4 wire length len * 256; bit 5 wire length
 *   len << 23 (past the largest window).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "common/tcp_stream.h"

/* The line of the oracle that failed goes to stderr, beside libFuzzer's artifact. */
static void check_at(int ok, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_tcp_stream.c:%d: invariant violated\n", line);
	abort();
}
#define check(ok) check_at((ok), __LINE__)

static uint8_t pattern(uint32_t p)
{
	return (uint8_t)((p * 2654435761u) >> 24 ^ p);
}

/* The first copy of each of the stream's first WINDOW offsets: none yet, captured bytes, or
 * bytes the capture saw go by without keeping (a cut segment's tail). */
#define WINDOW (1u << 13)
enum first_copy { COPY_NONE, COPY_DATA, COPY_LOST };

struct oracle {
	uint32_t base;     /* stream position of offset 0 */
	uint64_t next;     /* the offset the next callback must start at */
	uint64_t gap_bytes;
	bool fin, mid_stream, any;
	uint8_t first[WINDOW]; /* enum first_copy by offset */
};

/* The first copy wins: data is delivered only where captured bytes came first, and a gap never
 * covers bytes that were captured first (holes and lost tails only). */
static void check_first_copy(const struct oracle *o, uint64_t offset, uint32_t n, enum first_copy want)
{
	for (uint64_t i = offset; i < offset + n && i < WINDOW; i++)
		check(want == COPY_DATA ? o->first[i] == COPY_DATA : o->first[i] != COPY_DATA);
}

/* The offsets [*lo, *hi) of the window that a segment at stream position pos, wire bytes long,
 * covers (it may start before offset 0, modulo 2^32); empty when none. */
static void window_range(const struct oracle *o, uint32_t pos, uint32_t wire, uint32_t *lo, uint32_t *hi)
{
	uint32_t from = pos - o->base;
	uint64_t skip = from < WINDOW ? 0 : (UINT64_C(1) << 32) - from; /* bytes before offset 0 */
	*lo = *hi = 0;
	if (skip >= wire)
		return;
	*lo = (uint32_t)(from + skip);
	if (*lo >= WINDOW) {
		*lo = 0;
		return;
	}
	uint64_t end = (uint64_t)*lo + (wire - skip);
	*hi = end < WINDOW ? (uint32_t)end : WINDOW;
}

/* A segment at stream position pos, wire bytes of which cap were captured, arrives: it is the
 * first copy of the offsets nothing covered yet (offsets passed already stay as they were). */
static void mark_first_copy(struct oracle *o, uint32_t pos, uint32_t cap, uint32_t lo, uint32_t hi)
{
	for (uint32_t at = lo; at < hi; at++) {
		uint32_t i = at - (pos - o->base); /* the byte of the segment at this offset */
		if (at >= o->next && o->first[at] == COPY_NONE)
			o->first[at] = i < cap ? COPY_DATA : COPY_LOST;
	}
}

static void on_data(void *ctx, uint64_t offset, const uint8_t *b, uint32_t n)
{
	struct oracle *o = ctx;
	check(offset == o->next && n > 0 && !o->fin);
	for (uint32_t i = 0; i < n; i++)
		check(b[i] == pattern((uint32_t)(o->base + offset + i)));
	check_first_copy(o, offset, n, COPY_DATA);
	o->next += n;
	o->any = true;
}

static void on_gap(void *ctx, uint64_t offset, uint32_t n)
{
	struct oracle *o = ctx;
	check(offset == o->next && n > 0 && !o->fin);
	check_first_copy(o, offset, n, COPY_LOST);
	o->next += n;
	o->gap_bytes += n;
	o->any = true;
}

static void on_fin(void *ctx, uint64_t offset)
{
	struct oracle *o = ctx;
	check(offset == o->next && !o->fin);
	o->fin = true;
	o->any = true;
}

static void on_mid_stream(void *ctx)
{
	struct oracle *o = ctx;
	check(!o->any && !o->mid_stream);
	o->mid_stream = true;
	o->any = true;
}

static void check_state(const struct tcp_stream *s, const struct tcp_stream_limits *lim, const struct oracle *o)
{
	const struct tcp_stream_counters *k = tcp_stream_counters(s);
	check(k->held_bytes_now <= lim->max_held_bytes);
	check(k->held_segments_now <= lim->max_held_segments);
	check(tcp_stream_offset(s) == o->next);
	check(k->delivered_bytes + k->gap_bytes == o->next);
	check(k->gap_bytes == o->gap_bytes);
	check(k->overlap_conflict_bytes == 0);
	check(tcp_stream_fin_seen(s) == o->fin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c;
	uint32_t isn, last_end = 0;
	uint8_t limits, mode;

	cur_init(&c, data, size);
	if (!cur_be32(&c, &isn) || !cur_u8(&c, &limits) || !cur_u8(&c, &mode))
		return 0;

	const struct tcp_stream_limits lim = {
		.max_held_bytes = (limits & 15u) * 64u,
		.max_held_segments = limits >> 4,
		.max_ahead = mode & 2 ? 4096 : 0,
	};
	static struct oracle o;
	memset(&o, 0, sizeof o);
	const struct tcp_stream_consumer consumer = {
		.data = on_data, .gap = on_gap, .fin = on_fin, .mid_stream = on_mid_stream, .ctx = &o,
	};
	struct tcp_stream s;
	bool started = false;

	tcp_stream_init(&s, &lim);
	if (!(mode & 1)) {
		tcp_stream_start(&s, isn);
		started = true;
	}

	uint8_t flags, len, captured;
	uint16_t delta;
	while (cur_u8(&c, &flags) && cur_be16(&c, &delta) && cur_u8(&c, &len) && cur_u8(&c, &captured)) {
		unsigned op = (flags >> 2) & 3;
		if (op == 1) {
			uint64_t before = o.next;
			uint32_t n = tcp_stream_skip_gap(&s, &consumer);
			check(o.next >= before + n);
			check_state(&s, &lim, &o);
			continue;
		}
		uint32_t pos = op == 2 ? (uint32_t)delta << 16 | (uint32_t)len << 8 | captured
		                       : last_end + (uint32_t)(int32_t)(int16_t)delta;
		uint32_t wire = flags & 32 ? (uint32_t)len << 23 : flags & 16 ? (uint32_t)len << 8 : len;
		uint32_t cap = flags & 2 ? (captured < wire ? captured : wire) : wire;
		bool fin = flags & 1;
		if (op == 3)
			wire = cap = 0, fin = false;
		if (cap > 4096) /* a big wire length is for gaps: its captured part stays small */
			cap = 255;
		if (!started && wire > 0) {
			/* mid-stream pickup at the first data segment, as the L7 stage would do it */
			tcp_stream_pick_up(&s, isn + pos);
			o.base = pos;
			started = true;
		}
		uint8_t *bytes = cap ? malloc(cap) : NULL;
		for (uint32_t i = 0; i < cap; i++)
			bytes[i] = pattern(pos + i);

		/* marked before the call, which checks against it; undone when the segment is dropped */
		static uint8_t saved[WINDOW];
		uint32_t lo, hi;
		window_range(&o, pos, wire, &lo, &hi);
		memcpy(saved, o.first + lo, hi - lo);
		if (started)
			mark_first_copy(&o, pos, cap, lo, hi);

		struct tcp_stream_counters before = *tcp_stream_counters(&s);
		uint64_t before_next = o.next;
		bool before_fin = o.fin;
		enum tcp_stream_event ev = tcp_stream_feed(&s, isn + pos, bytes, cap, wire, fin, &consumer);
		free(bytes);

		check((unsigned)ev < TCP_STREAM_EVENT_N);
		check(tcp_stream_event_text(ev) != NULL);
		switch (ev) {
		case TCP_STREAM_EMPTY:
		case TCP_STREAM_NOT_STARTED:
		case TCP_STREAM_BEYOND_WINDOW:
		case TCP_STREAM_TOO_LONG:
		case TCP_STREAM_AFTER_FIN:
			check(o.next == before_next && o.fin == before_fin);
			check(tcp_stream_counters(&s)->held_bytes_now == before.held_bytes_now);
			check(tcp_stream_counters(&s)->dropped_segments == before.dropped_segments + (ev != TCP_STREAM_EMPTY));
			memcpy(o.first + lo, saved, hi - lo);
			break;
		case TCP_STREAM_HELD:
		case TCP_STREAM_RETRANSMISSION:
			check(o.next == before_next && o.fin == before_fin);
			break;
		case TCP_STREAM_IN_ORDER:
			check(o.next > before_next || (o.fin && !before_fin));
			break;
		case TCP_STREAM_GAP_SKIPPED:
			check(o.gap_bytes > before.gap_bytes);
			check(tcp_stream_counters(&s)->auto_skips > before.auto_skips); /* one or more rounds */
			break;
		default:
			break;
		}
		check_state(&s, &lim, &o);
		if (op != 2)
			last_end = pos + wire;
	}

	tcp_stream_flush(&s, &consumer);
	check_state(&s, &lim, &o);
	check(tcp_stream_counters(&s)->held_segments_now == 0 && tcp_stream_counters(&s)->held_bytes_now == 0);
	/* told before its first callback, exactly when it was picked up (unless nothing came) */
	check(!o.mid_stream || tcp_stream_mid_stream(&s));
	check(!tcp_stream_mid_stream(&s) || !o.any || o.mid_stream);
	tcp_stream_clear(&s);
	return 0;
}
