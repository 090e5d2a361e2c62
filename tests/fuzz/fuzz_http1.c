/* tests/fuzz/fuzz_http1.c: libFuzzer harness for HTTP/1.1 framing and desync classification (lb/http1.c, lb/desync.c).
 *
 * STYLE.md habit 10.  The same bytes are fed to a request stream and a response stream, in
 * pieces whose sizes the input's first bytes choose, so the framer meets every split of a line,
 * a CRLF, a chunk size.  Beyond memory safety (each piece is an exact-size copy): offsets only
 * move forward (a head starts at or after the previous message's end, its body lies after its
 * head, its end after its body), nothing is reported after an error but a GAP, the head's
 * strings lie inside its raw bytes, the verdict's reason belongs to its tier, and the head buffer
 * never grows beyond max_head.
 *
 * Input: byte 0 flags (bit 0: pick the request stream up mid-stream, bit 1: the response
 * stream, bit 2: small limits, bit 3: a gap after the second piece, bit 4: FIN at the end,
 * bits 5-7: how many responses answer HEAD), bytes 1-4 the piece sizes in turn (1..256), the
 * rest the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/http1.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

struct watch {
	uint64_t last_end;  /* where the previous message ended (or 0) */
	uint64_t head_end;  /* of the message in progress */
	uint64_t body_next; /* the next body byte expected at or after */
	bool in_msg, dead, tunnel, tunnel_next;
	uint32_t max_head;
};

static bool inside(const struct http1_head *h, const char *p, size_t n)
{
	const uint8_t *q = (const uint8_t *)p;
	return !p || (q >= h->raw && q + n <= h->raw + h->raw_len);
}

static void on_head(void *ctx, const struct http1_head *h)
{
	struct watch *w = ctx;
	check(!w->dead && !w->in_msg && !w->tunnel);
	check(h->start >= w->last_end && h->head_end > h->start);
	check(h->raw_len == h->head_end - h->start && h->raw_len <= w->max_head);
	check(inside(h, h->method, h->method_len) && inside(h, h->target, h->target_len));
	check(inside(h, h->path, h->path_len) && inside(h, h->query, h->query_len));
	check(inside(h, h->host, h->host_len) && inside(h, h->reason, h->reason_len));
	for (unsigned i = 0; i < h->n_headers; i++)
		check(inside(h, h->headers[i].name, h->headers[i].name_len) &&
		      inside(h, h->headers[i].value, h->headers[i].value_len));
	check(desync_reason_tier(h->desync.reason) == h->desync.tier);
	for (int m = DESYNC_MODE_MONITOR; m <= DESYNC_MODE_STRICTEST; m++)
		check(desync_action((enum desync_mode)m, h->desync) <= DESYNC_REJECT_400);
	w->tunnel_next = h->tunnel;
	w->in_msg = true;
	w->head_end = w->body_next = h->head_end;
}

static void on_body(void *ctx, uint64_t off, const uint8_t *b, uint32_t n)
{
	struct watch *w = ctx;
	check(!w->dead && (w->in_msg || w->tunnel) && n > 0 && b);
	check(off >= w->body_next);
	w->body_next = off + n;
}

static void on_end(void *ctx, uint64_t end)
{
	struct watch *w = ctx;
	check(!w->dead && w->in_msg && end >= w->head_end && end >= w->body_next);
	w->in_msg = false;
	w->tunnel = w->tunnel_next; /* CONNECT, 101: bodies without heads follow */
	w->last_end = w->body_next = end;
}

static void on_error(void *ctx, uint64_t off, enum http1_error e)
{
	struct watch *w = ctx;
	check(!w->dead && (unsigned)e < HTTP1_ERR_N);
	check(off >= w->last_end);
	if (e == HTTP1_ERR_GAP) {
		w->in_msg = false;
		w->last_end = off;
		return;
	}
	w->dead = true;
}

static void run(int kind, bool midstream, const struct http1_limits *lim, const uint8_t *data, size_t size,
                const uint8_t sizes[4], bool gap, bool eof, unsigned heads)
{
	struct watch w = { .max_head = lim->max_head };
	struct http1_consumer c = { on_head, on_body, on_end, on_error, &w };
	struct http1_stream s;
	uint64_t off = 0;

	if (midstream)
		http1_stream_init_midstream(&s, (enum http1_kind)kind, lim, &c);
	else
		http1_stream_init(&s, (enum http1_kind)kind, lim, &c);
	for (unsigned i = 0; i < 8; i++)
		http1_stream_expect_response(&s, i < heads);
	for (size_t i = 0, piece = 0; i < size; piece++) {
		size_t n = (size_t)sizes[piece & 3] + 1;
		if (n > size - i)
			n = size - i;
		uint8_t *copy = malloc(n);
		memcpy(copy, data + i, n);
		http1_stream_feed(&s, off, copy, (uint32_t)n);
		free(copy);
		check(http1_stream_buffer_size(&s) <= (lim->max_head > lim->max_line + 1 ? lim->max_head : lim->max_line + 1));
		off += n;
		i += n;
		if (gap && piece == 1) {
			http1_stream_gap(&s, off, 3);
			off += 3;
		}
		if (piece == 5)
			http1_stream_trim(&s);
	}
	if (eof)
		http1_stream_eof(&s, off);
	http1_stream_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint8_t flags = data[0];
	struct http1_limits small = { 64, 512, 8 }, alb = http1_limits_alb();
	const struct http1_limits *lim = flags & 4 ? &small : &alb;

	run(HTTP1_REQUESTS, flags & 1, lim, data + 5, size - 5, data + 1, flags & 8, flags & 16, 0);
	run(HTTP1_RESPONSES, flags & 2, lim, data + 5, size - 5, data + 1, flags & 8, flags & 16, flags >> 5);
	return 0;
}
