/* common/tcp_stream.h: one direction of a TCP connection reassembled into a byte stream for the L7 balancer (RFC 9293 sections 3.4 and 3.10.7.4).
 *
 * The L7 balancer is a full proxy: its HTTP framer reads each direction as a stream of bytes,
 * not as segments.  A struct tcp_stream follows one direction's sequence space (section 3.4:
 * every comparison is modulo 2^32, so a stream may wrap) and hands the consumer every byte in
 * order, once, as soon as it is contiguous (section 3.10.7.4, "segment text": data is
 * delivered in sequence; segments ahead of RCV.NXT are held, not dropped).  Only out-of-order
 * data is kept here, and only up to the limits; in-order data goes straight from the
 * segment's bytes to the consumer, without a copy or an allocation.
 *
 * Where copies disagree: the first copy of a byte wins (Wireshark's reassembly and Linux's
 * tcp_data_queue keep what they already hold and trim the newcomer).  A later copy that
 * differs from held bytes is counted in overlap_conflict_bytes, so a capture that shows an
 * evasion attempt says so; bytes already delivered are gone from here (the consumer has them)
 * and cannot be compared.
 *
 * A capture is not a receiver: it may have lost bytes for good.  So:
 * - a segment cut short by the snapshot length (captured_len < wire_len) is taken as far as it
 *   was captured and the rest of it is a gap: bytes that went by but that we do not have.  That
 *   gap is the first copy of those bytes like any other (held as a piece without data when it
 *   is out of order): a later full copy does not fill it in;
 * - when holding a segment would go past max_held_bytes or max_held_segments, the stream gives
 *   up on the earliest hole (automatic gap skipping): the consumer is told gap() with the
 *   number of bytes given up, then gets the held bytes after the hole.  A real receiver would
 *   wait for the retransmission; a replay that lost it never gets it;
 * - tcp_stream_skip_gap() gives up the earliest hole on request (the FIN arrived with a hole
 *   before it and the connection ended, or the caller's timer expired), tcp_stream_flush() all
 *   of them up to the FIN.
 *
 * Invariants: held segments do not overlap each other, lie strictly after the next in-order
 * byte (there is a hole before the first), are sorted by sequence number and total at most
 * max_held_bytes of data in at most max_held_segments entries; offset = delivered_bytes +
 * gap_bytes; the consumer's callbacks see offsets that only grow, each starting where the
 * previous one ended.
 *
 * Types and functions share this header rather than a tcp_stream-t.h: the struct must be
 * visible to be embedded in the L7 stage's connection state, and nothing else goes with it.
 */
#ifndef NATLB_TCP_STREAM_H
#define NATLB_TCP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

/* The largest distance ahead of the next in-order byte a segment may start, and the longest
 * segment: 2^30, RFC 7323's largest window.  It keeps every distance well below 2^31, where
 * section 3.4's comparisons stop meaning "after". */
#define TCP_STREAM_MAX_WINDOW (UINT32_C(1) << 30)

struct tcp_stream_limits {
	uint32_t max_held_bytes;    /* out-of-order data held per stream, e.g. 65536 */
	uint32_t max_held_segments; /* out-of-order pieces held per stream, e.g. 64 */
	uint32_t max_ahead;         /* a segment starting further ahead is dropped; 0 or more than
	                               TCP_STREAM_MAX_WINDOW means TCP_STREAM_MAX_WINDOW */
};

/* What happened to one segment.  X(NAME, sentence): the sentence is what an annotation says. */
#define foreach_tcp_stream_event(X) \
	X(IN_ORDER, "in order: delivered") \
	X(HELD, "out of order: held until the bytes before it arrive") \
	X(RETRANSMISSION, "retransmission: every byte was delivered or held already") \
	X(OVERLAP, "overlaps bytes already received: the first copy wins, only its new bytes are taken") \
	X(GAP_SKIPPED, "the hold was full: the bytes the capture lost before it were given up on") \
	X(BEYOND_WINDOW, "starts too far after the next expected byte: dropped") \
	X(TOO_LONG, "longer than the largest TCP window: dropped") \
	X(AFTER_FIN, "lies after the stream's FIN: dropped") \
	X(EMPTY, "no data and no FIN (a pure ACK): nothing changes") \
	X(NOT_STARTED, "the stream has not started (no SYN seen, not picked up): dropped")

enum tcp_stream_event {
#define X(name, text) TCP_STREAM_##name,
	foreach_tcp_stream_event(X)
#undef X
	TCP_STREAM_EVENT_N
};

struct tcp_stream_counters {
	uint64_t delivered_bytes;        /* bytes passed to data() */
	uint64_t gap_bytes;              /* bytes given up on and reported through gap() */
	uint64_t gaps;                   /* gap() calls */
	uint64_t held_bytes_now;         /* out-of-order data held at this moment */
	uint64_t held_segments_now;      /* out-of-order pieces held at this moment */
	uint64_t held_segments;          /* segments that were held (HELD, or OVERLAP out of order) */
	uint64_t retransmitted_segments; /* RETRANSMISSION */
	uint64_t overlapping_segments;   /* OVERLAP */
	uint64_t overlap_conflict_bytes; /* bytes of a later copy that differ from the held first copy */
	uint64_t dropped_segments;       /* BEYOND_WINDOW, TOO_LONG, AFTER_FIN, NOT_STARTED */
	uint64_t auto_skips;             /* holes given up because the hold was full (GAP_SKIPPED) */
};

struct tcp_stream_held; /* one held piece: private to tcp_stream.c */

/* One direction.  88 bytes of counters and 48 of state: 136 bytes on x86-64, however much is
 * held (held pieces are allocations of their own, the rare case). */
struct tcp_stream {
	uint64_t offset;               /* stream offset of next_seq: bytes delivered or given up on */
	uint32_t next_seq;             /* RCV.NXT: the sequence number of the next in-order byte */
	uint32_t fin_seq;              /* the FIN's sequence number, when fin_known */
	struct tcp_stream_held *held;  /* sorted by sequence number, none overlapping */
	struct tcp_stream_limits lim;
	bool started;                  /* tcp_stream_start() or tcp_stream_pick_up() was called */
	bool mid_stream;               /* started by tcp_stream_pick_up() */
	bool mid_stream_told;          /* the consumer's mid_stream() was called */
	bool fin_known;                /* a FIN was seen; fin_seq says where */
	bool fin_delivered;            /* the FIN was reached in order and fin() was called */
	struct tcp_stream_counters counters;
};

/* Who reads the stream.  data is required; gap, fin and mid_stream may be NULL.  A callback
 * must not feed, skip or clear the stream that called it (it is in the middle of delivering).  Offsets count
 * bytes from the stream's start (the SYN's seq + 1, or the pickup point), 64-bit: more than 4 GB
 * is fine, and the sequence numbers may wrap any number of times. */
struct tcp_stream_consumer {
	void (*data)(void *ctx, uint64_t offset, const uint8_t *bytes, uint32_t n);
	void (*gap)(void *ctx, uint64_t offset, uint32_t n);  /* n bytes at offset will never come */
	void (*fin)(void *ctx, uint64_t offset);               /* the stream ends at offset */
	void (*mid_stream)(void *ctx);  /* before anything else, when the stream was picked up mid-way */
	void *ctx;
};

/* A stream not started yet, holding nothing; lim is copied. */
void tcp_stream_init(struct tcp_stream *s, const struct tcp_stream_limits *lim);
/* The stream's first byte is isn_plus_one (the SYN's seq + 1). */
void tcp_stream_start(struct tcp_stream *s, uint32_t isn_plus_one);
/* The SYN was not captured: the stream starts at seq (the first data segment's), and the
 * consumer's mid_stream() is called before its first byte, so an HTTP framer knows to look for
 * a message boundary instead of trusting that a request starts here. */
void tcp_stream_pick_up(struct tcp_stream *s, uint32_t seq);
bool tcp_stream_started(const struct tcp_stream *s);

/* One segment of this direction: the sequence number of its first byte, its captured bytes
 * (captured_len of them), its length on the wire and its FIN flag.  Bytes in order, and the held
 * bytes they make contiguous, are handed to c in order before it returns; a FIN reached in
 * order calls c->fin.  captured_len > wire_len is taken as wire_len.  A FIN's sequence number,
 * once seen, is where the stream ends: a later FIN elsewhere is ignored and data after it is
 * dropped. */
enum tcp_stream_event tcp_stream_feed(struct tcp_stream *s, uint32_t seq, const uint8_t *bytes, uint32_t captured_len,
                                      uint32_t wire_len, bool fin, const struct tcp_stream_consumer *c);

/* Give up on the hole before the first held piece, or before the FIN when nothing is held: c
 * is told gap() with its length, then gets the held bytes (and the FIN) it made contiguous.
 * Returns the bytes given up, 0 when there is no hole. */
uint32_t tcp_stream_skip_gap(struct tcp_stream *s, const struct tcp_stream_consumer *c);
/* Skip every hole, until nothing is held (and the FIN, if one was seen, is delivered): the
 * connection is over.  Returns the bytes given up. */
uint64_t tcp_stream_flush(struct tcp_stream *s, const struct tcp_stream_consumer *c);

/* Bytes delivered or given up on so far: the stream offset of the next byte. */
uint64_t tcp_stream_offset(const struct tcp_stream *s);
/* The sequence number of the next in-order byte: RCV.NXT, except that once the FIN is reached
 * it stays at the FIN's own number (RCV.NXT would count the FIN as one more). */
uint32_t tcp_stream_next_seq(const struct tcp_stream *s);
/* The FIN was reached in order (every byte before it delivered or given up on). */
bool tcp_stream_fin_seen(const struct tcp_stream *s);
bool tcp_stream_mid_stream(const struct tcp_stream *s);
const struct tcp_stream_counters *tcp_stream_counters(const struct tcp_stream *s);
/* Free what is held; the stream is as tcp_stream_init() left it, with the same limits. */
void tcp_stream_clear(struct tcp_stream *s);

const char *tcp_stream_event_text(enum tcp_stream_event e);
/* "IN_ORDER", for --stats and tests. */
const char *tcp_stream_event_name(enum tcp_stream_event e);

#endif
