/* common/tcp_stream.c: one direction of a TCP connection reassembled into a byte stream (RFC 9293 sections 3.4 and 3.10.7.4; see tcp_stream.h).
 *
 * Positions are handled as distances from next_seq (RCV.NXT), unsigned: every held piece and
 * every segment we take starts less than TCP_STREAM_MAX_WINDOW after it and is shorter than
 * that, so a distance never reaches 2^31 and section 3.4's modulo comparisons reduce to plain
 * ones.  The in-order path calls the consumer with pointers into the segment's own bytes; only
 * a held piece is an allocation, freed when it is delivered.
 *
 * The segment's bytes were validated by decode_packet() (captured_len is what the capture
 * holds); every index into them below is checked against captured_len.
 */
#include <glib.h>
#include <string.h>

#include "common/tcp_stream.h"

/* A held piece: len bytes from seq, or, when lost, len bytes the capture saw go by without
 * keeping them (the tail of a segment cut by the snapshot length), delivered as a gap. */
struct tcp_stream_held {
	struct tcp_stream_held *next;
	uint32_t seq;
	uint32_t len;
	bool lost;
	uint8_t bytes[]; /* len of them, none when lost */
};

static const struct {
	const char *name, *text;
} events[TCP_STREAM_EVENT_N] = {
#define X(name, text) [TCP_STREAM_##name] = { #name, text },
	foreach_tcp_stream_event(X)
#undef X
};

const char *tcp_stream_event_text(enum tcp_stream_event e)
{
	return (unsigned)e < TCP_STREAM_EVENT_N ? events[e].text : "unknown event";
}

const char *tcp_stream_event_name(enum tcp_stream_event e)
{
	return (unsigned)e < TCP_STREAM_EVENT_N ? events[e].name : "UNKNOWN";
}

static uint32_t dist(const struct tcp_stream *s, uint32_t seq)
{
	return seq - s->next_seq;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static void free_held(struct tcp_stream *s)
{
	while (s->held) {
		struct tcp_stream_held *h = s->held;
		s->held = h->next;
		g_free(h);
	}
	s->counters.held_bytes_now = 0;
	s->counters.held_segments_now = 0;
}

void tcp_stream_init(struct tcp_stream *s, const struct tcp_stream_limits *lim)
{
	memset(s, 0, sizeof *s);
	s->lim = *lim;
	if (s->lim.max_ahead == 0 || s->lim.max_ahead > TCP_STREAM_MAX_WINDOW)
		s->lim.max_ahead = TCP_STREAM_MAX_WINDOW;
}

void tcp_stream_clear(struct tcp_stream *s)
{
	struct tcp_stream_limits lim = s->lim;
	free_held(s);
	tcp_stream_init(s, &lim);
}

void tcp_stream_start(struct tcp_stream *s, uint32_t isn_plus_one)
{
	free_held(s);
	s->started = true;
	s->mid_stream = s->mid_stream_told = false;
	s->fin_known = s->fin_delivered = false;
	s->next_seq = isn_plus_one;
	s->offset = 0;
}

void tcp_stream_pick_up(struct tcp_stream *s, uint32_t seq)
{
	tcp_stream_start(s, seq);
	s->mid_stream = true;
}

bool tcp_stream_started(const struct tcp_stream *s)
{
	return s->started;
}

uint64_t tcp_stream_offset(const struct tcp_stream *s)
{
	return s->offset;
}

uint32_t tcp_stream_next_seq(const struct tcp_stream *s)
{
	return s->next_seq;
}

bool tcp_stream_fin_seen(const struct tcp_stream *s)
{
	return s->fin_delivered;
}

bool tcp_stream_mid_stream(const struct tcp_stream *s)
{
	return s->mid_stream;
}

const struct tcp_stream_counters *tcp_stream_counters(const struct tcp_stream *s)
{
	return &s->counters;
}

/* ---- towards the consumer: every call moves next_seq and offset on together ----------------- */

static void tell_mid_stream(struct tcp_stream *s, const struct tcp_stream_consumer *c)
{
	if (s->mid_stream && !s->mid_stream_told) {
		s->mid_stream_told = true;
		if (c->mid_stream)
			c->mid_stream(c->ctx);
	}
}

static void emit_data(struct tcp_stream *s, const struct tcp_stream_consumer *c, const uint8_t *b, uint32_t n)
{
	if (!n)
		return;
	tell_mid_stream(s, c);
	c->data(c->ctx, s->offset, b, n);
	s->offset += n;
	s->next_seq += n;
	s->counters.delivered_bytes += n;
}

static void emit_gap(struct tcp_stream *s, const struct tcp_stream_consumer *c, uint32_t n)
{
	if (!n)
		return;
	tell_mid_stream(s, c);
	if (c->gap)
		c->gap(c->ctx, s->offset, n);
	s->offset += n;
	s->next_seq += n;
	s->counters.gap_bytes += n;
	s->counters.gaps++;
}

/* The first held piece goes to the consumer and is freed (it starts at next_seq). */
static void deliver_first_held(struct tcp_stream *s, const struct tcp_stream_consumer *c)
{
	struct tcp_stream_held *h = s->held;
	s->held = h->next;
	s->counters.held_segments_now--;
	if (h->lost) {
		emit_gap(s, c, h->len);
	} else {
		s->counters.held_bytes_now -= h->len;
		emit_data(s, c, h->bytes, h->len);
	}
	g_free(h);
}

/* Everything held that is now contiguous, then the FIN if it is next. */
static void drain(struct tcp_stream *s, const struct tcp_stream_consumer *c)
{
	while (s->held && dist(s, s->held->seq) == 0)
		deliver_first_held(s, c);
	if (s->fin_known && !s->fin_delivered && s->fin_seq == s->next_seq) {
		s->fin_delivered = true;
		tell_mid_stream(s, c);
		if (c->fin)
			c->fin(c->ctx, s->offset);
	}
}

/* ---- holding -------------------------------------------------------------------------------- */

/* The bytes of a later copy that differ from the held first copy h, over the distances
 * [from, to) that both cover; seg_rel is the later copy's distance, bytes its captured bytes. */
static uint64_t conflicts(const struct tcp_stream *s, const struct tcp_stream_held *h, uint32_t from, uint32_t to,
                          uint32_t seg_rel, const uint8_t *bytes)
{
	uint32_t hs = dist(s, h->seq);
	uint64_t n = 0;
	if (h->lost)
		return 0;
	for (uint32_t x = from; x < to; x++)
		n += bytes[x - seg_rel] != h->bytes[x - hs];
	return n;
}

/* What holding a segment takes: new pieces and their data bytes; whether it overlaps held ones. */
struct hold_plan {
	uint32_t pieces;
	uint32_t bytes;
	bool overlaps;
};

/* One new piece of distances [from, to) before *link: the captured part as data, the part after
 * cend (the captured end) as lost.  Returns the link after what was added. */
static struct tcp_stream_held **add_piece(struct tcp_stream *s, struct tcp_stream_held **link, uint32_t from, uint32_t to,
                                          uint32_t seg_rel, uint32_t cend, const uint8_t *bytes, bool apply,
                                          struct hold_plan *plan)
{
	uint32_t split = from < cend ? min32(to, cend) : from;
	const struct {
		uint32_t from, to;
		bool lost;
	} parts[2] = { { from, split, false }, { split, to, true } };

	for (unsigned i = 0; i < 2; i++) {
		uint32_t len = parts[i].to - parts[i].from;
		if (!len)
			continue;
		plan->pieces++;
		if (!parts[i].lost)
			plan->bytes += len;
		if (!apply)
			continue;
		struct tcp_stream_held *h = g_malloc(sizeof *h + (parts[i].lost ? 0 : len));
		h->seq = s->next_seq + parts[i].from;
		h->len = len;
		h->lost = parts[i].lost;
		if (!h->lost) {
			memcpy(h->bytes, bytes + (parts[i].from - seg_rel), len);
			s->counters.held_bytes_now += len;
		}
		s->counters.held_segments_now++;
		h->next = *link;
		*link = h;
		link = &h->next;
	}
	return link;
}

/* A segment at distance rel > 0, wire bytes long, the first cap of them captured: find the parts
 * no held piece covers (the first copy wins) and, when apply, hold them and count the
 * conflicting bytes.  Without apply, only says what it would take. */
static struct hold_plan hold_walk(struct tcp_stream *s, uint32_t rel, const uint8_t *bytes, uint32_t cap, uint32_t wire,
                                  bool apply)
{
	struct hold_plan plan = { 0 };
	struct tcp_stream_held **link = &s->held;
	uint32_t p = rel, end = rel + wire, cend = rel + cap;

	while (p < end) {
		struct tcp_stream_held *h = *link;
		if (!h) {
			add_piece(s, link, p, end, rel, cend, bytes, apply, &plan);
			break;
		}
		uint32_t hs = dist(s, h->seq), he = hs + h->len;
		if (he <= p) {
			link = &h->next;
		} else if (hs > p) {
			uint32_t q = min32(hs, end);
			link = add_piece(s, link, p, q, rel, cend, bytes, apply, &plan);
			p = q;
		} else {
			uint32_t q = min32(he, end);
			plan.overlaps = true;
			if (apply && p < cend)
				s->counters.overlap_conflict_bytes += conflicts(s, h, p, min32(q, cend), rel, bytes);
			p = q;
			link = &h->next;
		}
	}
	return plan;
}

/* The FIN ends the stream at fin_seq: held data after it is contradicted by it and goes. */
static void trim_held_after_fin(struct tcp_stream *s)
{
	uint32_t fd = dist(s, s->fin_seq);
	for (struct tcp_stream_held **link = &s->held; *link;) {
		struct tcp_stream_held *h = *link;
		uint32_t hs = dist(s, h->seq);
		if (hs >= fd) {
			*link = h->next;
			s->counters.held_segments_now--;
			if (!h->lost)
				s->counters.held_bytes_now -= h->len;
			g_free(h);
			continue;
		}
		if (hs + h->len > fd) {
			if (!h->lost)
				s->counters.held_bytes_now -= hs + h->len - fd;
			h->len = fd - hs; /* the allocation stays as large; only len is read */
		}
		link = &h->next;
	}
}

/* ---- segments ------------------------------------------------------------------------------- */

/* A segment that reaches next_seq: its first skip bytes were had already.  Its bytes go to the
 * consumer up to each held piece, which goes first (first copy wins), and so on to its end.
 * Returns whether it overlapped held pieces. */
static bool take_in_order(struct tcp_stream *s, const struct tcp_stream_consumer *c, uint32_t skip, const uint8_t *bytes,
                          uint32_t cap, uint32_t wire)
{
	bool overlaps = false;
	uint32_t pos = skip;

	while (pos < wire) {
		struct tcp_stream_held *h = s->held;
		uint32_t n = wire - pos;
		if (h && dist(s, h->seq) == 0) {
			/* the piece starts at next_seq, which is the segment's byte pos */
			uint32_t both_end = min32(h->len, cap > pos ? cap - pos : 0);
			overlaps = true;
			if (both_end && !h->lost)
				for (uint32_t x = 0; x < both_end; x++)
					s->counters.overlap_conflict_bytes += bytes[pos + x] != h->bytes[x];
			pos = h->len < wire - pos ? pos + h->len : wire;
			deliver_first_held(s, c);
			continue;
		}
		if (h)
			n = min32(n, dist(s, h->seq));
		if (pos < cap) {
			uint32_t m = min32(n, cap - pos);
			emit_data(s, c, bytes + pos, m);
			emit_gap(s, c, n - m);
		} else {
			emit_gap(s, c, n);
		}
		pos += n;
	}
	drain(s, c);
	return overlaps;
}

/* A segment at distance rel > 0.  When holding it would go past the limits, the earliest hole is
 * given up (no further than the segment's start) and it is tried again: after a few rounds it
 * fits, or it has become in order. */
static enum tcp_stream_event take_ahead(struct tcp_stream *s, const struct tcp_stream_consumer *c, uint32_t seq,
                                        const uint8_t *bytes, uint32_t cap, uint32_t wire)
{
	bool skipped = false;
	enum tcp_stream_event ev;

	for (;;) {
		int32_t rel = (int32_t)(seq - s->next_seq);
		if (rel <= 0) {
			int64_t end = (int64_t)rel + wire;
			if (end <= 0) {
				/* the skip delivered held pieces covering all of it */
				s->counters.retransmitted_segments++;
				ev = TCP_STREAM_RETRANSMISSION;
			} else if (take_in_order(s, c, 0u - (uint32_t)rel, bytes, cap, wire) || rel < 0) {
				s->counters.overlapping_segments++;
				ev = TCP_STREAM_OVERLAP;
			} else {
				ev = TCP_STREAM_IN_ORDER;
			}
			break;
		}
		struct hold_plan plan = hold_walk(s, (uint32_t)rel, bytes, cap, wire, false);
		if (plan.pieces == 0) {
			hold_walk(s, (uint32_t)rel, bytes, cap, wire, true); /* only counts the conflicts */
			s->counters.retransmitted_segments++;
			ev = TCP_STREAM_RETRANSMISSION;
			break;
		}
		if (s->counters.held_bytes_now + plan.bytes <= s->lim.max_held_bytes &&
		    s->counters.held_segments_now + plan.pieces <= s->lim.max_held_segments) {
			hold_walk(s, (uint32_t)rel, bytes, cap, wire, true);
			s->counters.held_segments++;
			if (plan.overlaps)
				s->counters.overlapping_segments++;
			ev = plan.overlaps ? TCP_STREAM_OVERLAP : TCP_STREAM_HELD;
			break;
		}
		uint32_t hole = s->held ? min32(dist(s, s->held->seq), (uint32_t)rel) : (uint32_t)rel;
		emit_gap(s, c, hole);
		drain(s, c);
		s->counters.auto_skips++;
		skipped = true;
	}
	return skipped ? TCP_STREAM_GAP_SKIPPED : ev;
}

static enum tcp_stream_event dropped(struct tcp_stream *s, enum tcp_stream_event ev)
{
	s->counters.dropped_segments++;
	return ev;
}

enum tcp_stream_event tcp_stream_feed(struct tcp_stream *s, uint32_t seq, const uint8_t *bytes, uint32_t captured_len,
                                      uint32_t wire_len, bool fin, const struct tcp_stream_consumer *c)
{
	uint32_t cap = min32(captured_len, wire_len);
	bool fin_new = false;

	if (wire_len == 0 && !fin)
		return TCP_STREAM_EMPTY;
	if (!s->started)
		return dropped(s, TCP_STREAM_NOT_STARTED);
	if (wire_len > TCP_STREAM_MAX_WINDOW)
		return dropped(s, TCP_STREAM_TOO_LONG);

	int32_t rel = (int32_t)(seq - s->next_seq);
	if (rel > 0 && (uint32_t)rel > s->lim.max_ahead)
		return dropped(s, TCP_STREAM_BEYOND_WINDOW);

	/* The FIN's place is the stream's end, unless bytes after it were delivered already (the
	 * first copy wins there too). */
	if (fin && !s->fin_known && (int64_t)rel + wire_len >= 0) {
		s->fin_known = true;
		s->fin_seq = seq + wire_len;
		fin_new = true;
		trim_held_after_fin(s);
	}
	if (s->fin_known) {
		int64_t fd = dist(s, s->fin_seq);
		if (rel >= fd && wire_len > 0)
			return dropped(s, TCP_STREAM_AFTER_FIN);
		if ((int64_t)rel + wire_len > fd) {
			wire_len = (uint32_t)(fd - rel);
			cap = min32(cap, wire_len);
		}
	}

	int64_t end = (int64_t)rel + wire_len;
	if (end < 0 || (end == 0 && !fin_new)) {
		s->counters.retransmitted_segments++;
		return TCP_STREAM_RETRANSMISSION;
	}
	if (wire_len == 0 || end == 0) {
		/* a FIN whose data, if any, was had already: a new one ends the stream now or waits; a
		 * repeated one (or one contradicting the first) changes nothing */
		if (!fin_new) {
			s->counters.retransmitted_segments++;
			return TCP_STREAM_RETRANSMISSION;
		}
		drain(s, c);
		return s->fin_delivered ? TCP_STREAM_IN_ORDER : TCP_STREAM_HELD;
	}
	return take_ahead(s, c, seq, bytes, cap, wire_len);
}

uint32_t tcp_stream_skip_gap(struct tcp_stream *s, const struct tcp_stream_consumer *c)
{
	uint32_t hole;

	if (!s->started)
		return 0;
	if (s->held)
		hole = dist(s, s->held->seq);
	else if (s->fin_known && !s->fin_delivered)
		hole = dist(s, s->fin_seq);
	else
		return 0;
	emit_gap(s, c, hole);
	drain(s, c);
	return hole;
}

uint64_t tcp_stream_flush(struct tcp_stream *s, const struct tcp_stream_consumer *c)
{
	uint64_t total = 0;
	uint32_t n;

	while ((n = tcp_stream_skip_gap(s, c)) > 0)
		total += n;
	return total;
}
