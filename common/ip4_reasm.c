/* common/ip4_reasm.c: bounded IPv4 reassembly (RFC 791 section 3.2; ambiguous overlaps discard the datagram, as RFC 5722 section 4 asks of IPv6).
 *
 * Invariants: a slot's units bitmap marks the 8-byte units of payload held; n_units counts them;
 * the payload sits at IP4_REASM_HDR_ROOM in buf, so that the first fragment's header, copied just
 * before it, makes the datagram contiguous.  A poisoned slot holds nothing but its key, so that
 * the rest of a discarded datagram is recognised until its timeout.
 */
#include <glib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/ip4_reasm.h"

#define IP4_REASM_HDR_ROOM 60u                      /* the longest IPv4 header */
#define UNITS ((IP4_REASM_MAX_PAYLOAD + 7u) / 8u)    /* 8-byte units of the longest payload */
#define NS_IN_TIMEOUT_MAX (G_GINT64_CONSTANT(600) * 1000000000)

struct slot {
	bool used, poisoned, have_header;
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	int64_t expires_ns, created_ns;
	uint32_t payload_len;  /* known when the last fragment (MF clear) came; 0 before */
	uint32_t bytes_held;
	unsigned n_units, n_fragments;
	uint8_t hdr_len;
	uint8_t *buf;          /* IP4_REASM_HDR_ROOM + IP4_REASM_MAX_PAYLOAD bytes */
	uint8_t units[(UNITS + 7) / 8];
};

struct ip4_reasm {
	struct ip4_reasm_limits lim;
	struct slot *slots;
	struct ip4_reasm_stats stats;
	int64_t next_expiry_ns; /* no slot expires before it: expire() is O(1) until then */
};

struct ip4_reasm *ip4_reasm_new(const struct ip4_reasm_limits *lim)
{
	if (lim->max_datagrams < 1 || lim->max_datagrams > 1024 || lim->max_fragments < 1 ||
	    lim->max_fragments > 8192 || lim->timeout_ns <= 0 || lim->timeout_ns > NS_IN_TIMEOUT_MAX)
		return NULL;
	struct ip4_reasm *r = g_new0(struct ip4_reasm, 1);
	r->lim = *lim;
	r->slots = g_new0(struct slot, lim->max_datagrams);
	for (unsigned i = 0; i < lim->max_datagrams; i++)
		r->slots[i].buf = g_malloc(IP4_REASM_HDR_ROOM + IP4_REASM_MAX_PAYLOAD);
	r->next_expiry_ns = INT64_MAX;
	return r;
}

void ip4_reasm_free(struct ip4_reasm *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->lim.max_datagrams; i++)
		g_free(r->slots[i].buf);
	g_free(r->slots);
	g_free(r);
}

const struct ip4_reasm_stats *ip4_reasm_stats(const struct ip4_reasm *r)
{
	return &r->stats;
}

unsigned ip4_reasm_incomplete(const struct ip4_reasm *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->lim.max_datagrams; i++)
		n += r->slots[i].used && !r->slots[i].poisoned;
	return n;
}

static bool unit_held(const struct slot *s, uint32_t u)
{
	return s->units[u / 8] & (1u << (u % 8));
}

static void slot_release(struct ip4_reasm *r, struct slot *s, bool lost)
{
	if (lost && !s->poisoned)
		r->stats.fragments_lost += s->n_fragments;
	s->used = false;
}

/* Keep the key, forget the bytes: the datagram's later fragments are discarded as they come. */
static void slot_poison(struct ip4_reasm *r, struct slot *s)
{
	r->stats.fragments_lost += s->n_fragments;
	s->poisoned = true;
	s->n_fragments = s->n_units = s->bytes_held = 0;
}

static struct slot *slot_find(struct ip4_reasm *r, const struct ip4_view *ip)
{
	for (unsigned i = 0; i < r->lim.max_datagrams; i++) {
		struct slot *s = &r->slots[i];
		if (s->used && s->id == ip->id && s->src == ip->src && s->dst == ip->dst && s->proto == ip->proto)
			return s;
	}
	return NULL;
}

/* A free slot, else a poisoned one, else the oldest datagram's (evicted). */
static struct slot *slot_take(struct ip4_reasm *r, const struct ip4_view *ip, int64_t now_ns)
{
	struct slot *pick = NULL;
	for (unsigned i = 0; i < r->lim.max_datagrams && !pick; i++)
		if (!r->slots[i].used)
			pick = &r->slots[i];
	for (unsigned i = 0; i < r->lim.max_datagrams && !pick; i++)
		if (r->slots[i].poisoned)
			pick = &r->slots[i];
	if (!pick) {
		pick = &r->slots[0];
		for (unsigned i = 1; i < r->lim.max_datagrams; i++)
			if (r->slots[i].created_ns < pick->created_ns)
				pick = &r->slots[i];
		r->stats.evicted++;
		slot_release(r, pick, true);
	}
	uint8_t *buf = pick->buf;
	*pick = (struct slot){ .used = true, .proto = ip->proto, .id = ip->id, .src = ip->src, .dst = ip->dst,
		               .created_ns = now_ns, .expires_ns = now_ns + r->lim.timeout_ns, .buf = buf };
	if (pick->expires_ns < r->next_expiry_ns)
		r->next_expiry_ns = pick->expires_ns;
	return pick;
}

/* Do the held bytes within [from, to) differ from bytes?  Only whole units are held, except the
 * last one of the datagram, which ends at payload_len. */
static bool differs(const struct slot *s, uint32_t from, uint32_t to, const uint8_t *bytes)
{
	for (uint32_t u = from / 8; u * 8 < to; u++) {
		if (!unit_held(s, u))
			continue;
		uint32_t a = MAX(u * 8, from), b = MIN(u * 8 + 8, to);
		if (s->payload_len && b > s->payload_len)
			b = s->payload_len;
		if (a < b && memcmp(s->buf + IP4_REASM_HDR_ROOM + a, bytes + (a - from), b - a) != 0)
			return true;
	}
	return false;
}

/* Copy [from, to) in, marking its units; returns how many were new. */
static unsigned take_bytes(struct slot *s, uint32_t from, uint32_t to, const uint8_t *bytes)
{
	unsigned fresh = 0;
	memcpy(s->buf + IP4_REASM_HDR_ROOM + from, bytes, to - from);
	for (uint32_t u = from / 8; u * 8 < to; u++) {
		if (!unit_held(s, u)) {
			s->units[u / 8] |= (uint8_t)(1u << (u % 8));
			s->bytes_held += MIN(u * 8 + 8, to) - u * 8;
			fresh++;
		}
	}
	s->n_units += fresh;
	return fresh;
}

/* Is every unit of [from, to) held already (and so, once differs() said no, the same)? */
static bool is_copy(const struct slot *s, uint32_t from, uint32_t to)
{
	if (from == 0 && !s->have_header)
		return false;
	for (uint32_t u = from / 8; u * 8 < to; u++)
		if (!unit_held(s, u))
			return false;
	return to > from;
}

/* The first fragment's header over the payload: total length set, MF and offset cleared (DF and
 * the reserved bit stay), the checksum updated for both words. */
static void build_datagram(struct slot *s, struct ip4_reasm_out *out)
{
	uint8_t *h = s->buf + IP4_REASM_HDR_ROOM - s->hdr_len;
	uint16_t old_len = be16_load(h + 2), old_frag = be16_load(h + 6);
	uint16_t new_len = (uint16_t)(s->hdr_len + s->payload_len), new_frag = old_frag & 0xc000;
	uint16_t csum = csum_update16(be16_load(h + 10), old_len, new_len);
	be16_store(h + 2, new_len);
	be16_store(h + 6, new_frag);
	be16_store(h + 10, csum_update16(csum, old_frag, new_frag));
	out->datagram = h;
	out->datagram_len = new_len;
}

static enum ip4_reasm_result discard(struct ip4_reasm *r, struct slot *s, enum ip4_reasm_result why)
{
	slot_poison(r, s);
	r->stats.results[why]++;
	return why;
}

/* Where the fragment's end says the datagram ends, checked against what is held. */
static enum ip4_reasm_result check_end(const struct slot *s, const struct ip4_view *ip, uint32_t from, uint32_t to)
{
	if (to > IP4_REASM_MAX_PAYLOAD || ip->hdr_len + to > 65535u)
		return IP4_REASM_TOO_LONG;
	if (s->payload_len && (to > s->payload_len || (!ip->more_fragments && to != s->payload_len)))
		return IP4_REASM_INCONSISTENT;
	if (!ip->more_fragments && !s->payload_len) {
		/* nothing held may lie past the end this last fragment sets: held units are whole (only
		 * the last fragment may end inside one), so not even the one that `to` falls inside */
		for (uint32_t u = to / 8; u < UNITS; u++)
			if (unit_held(s, u))
				return IP4_REASM_INCONSISTENT;
	}
	(void)from;
	return IP4_REASM_HELD;
}

enum ip4_reasm_result ip4_reasm_add(struct ip4_reasm *r, const struct packet *p, int64_t now_ns,
                                    struct ip4_reasm_out *out)
{
	const struct ip4_view *ip = &p->ip;
	uint32_t len = ip->total_len > ip->hdr_len ? ip->total_len - ip->hdr_len : 0;
	uint32_t from = ip->frag_off * 8u, to = from + len;

	*out = (struct ip4_reasm_out){ 0 };
	ip4_reasm_expire(r, now_ns);
	if ((uint64_t)ip->off + ip->total_len > p->caplen) {
		r->stats.results[IP4_REASM_TRUNCATED]++;
		return IP4_REASM_TRUNCATED;
	}
	if (ip->more_fragments && (len == 0 || len % 8 != 0)) {
		r->stats.results[IP4_REASM_MISALIGNED]++;
		return IP4_REASM_MISALIGNED;
	}
	struct slot *s = slot_find(r, ip);
	if (s && s->poisoned) {
		r->stats.results[IP4_REASM_OF_DISCARDED]++;
		return IP4_REASM_OF_DISCARDED;
	}
	if (!s)
		s = slot_take(r, ip, now_ns);
	enum ip4_reasm_result end = check_end(s, ip, from, to);
	if (end != IP4_REASM_HELD)
		return discard(r, s, end);
	const uint8_t *bytes = p->data + ip->off + ip->hdr_len;
	if (differs(s, from, to, bytes))
		return discard(r, s, IP4_REASM_OVERLAP);
	if (s->n_fragments >= r->lim.max_fragments && !is_copy(s, from, to))
		return discard(r, s, IP4_REASM_TOO_MANY);
	if (!ip->more_fragments)
		s->payload_len = to;
	unsigned fresh = take_bytes(s, from, to, bytes);
	bool new_header = from == 0 && !s->have_header;
	if (fresh == 0 && !new_header && len > 0) {
		r->stats.results[IP4_REASM_DUPLICATE]++;
		out->n_fragments = s->n_fragments, out->bytes_held = s->bytes_held, out->payload_len = s->payload_len;
		return IP4_REASM_DUPLICATE;
	}
	s->n_fragments++;
	if (new_header) {
		s->have_header = true;
		s->hdr_len = (uint8_t)ip->hdr_len;
		memcpy(s->buf + IP4_REASM_HDR_ROOM - ip->hdr_len, p->data + ip->off, ip->hdr_len);
	}
	out->n_fragments = s->n_fragments, out->bytes_held = s->bytes_held, out->payload_len = s->payload_len;
	if (s->payload_len && s->have_header && s->n_units == (s->payload_len + 7) / 8) {
		build_datagram(s, out);
		slot_release(r, s, false);
		r->stats.datagrams++;
		r->stats.results[IP4_REASM_COMPLETE]++;
		return IP4_REASM_COMPLETE;
	}
	r->stats.results[IP4_REASM_HELD]++;
	return IP4_REASM_HELD;
}

unsigned ip4_reasm_expire(struct ip4_reasm *r, int64_t now_ns)
{
	unsigned n = 0;
	int64_t next = INT64_MAX;

	if (now_ns < r->next_expiry_ns)
		return 0;
	for (unsigned i = 0; i < r->lim.max_datagrams; i++) {
		struct slot *s = &r->slots[i];
		if (!s->used)
			continue;
		if (s->expires_ns <= now_ns) {
			n += !s->poisoned;
			r->stats.timed_out += !s->poisoned;
			slot_release(r, s, true);
		} else if (s->expires_ns < next) {
			next = s->expires_ns;
		}
	}
	r->next_expiry_ns = next;
	return n;
}

static const struct {
	const char *name, *text;
} result_words[IP4_REASM_N] = {
	[IP4_REASM_HELD] = { "HELD", "held until its datagram is complete" },
	[IP4_REASM_COMPLETE] = { "COMPLETE", "completes its datagram" },
	[IP4_REASM_DUPLICATE] = { "DUPLICATE", "a copy of bytes already held (a retransmission): nothing new" },
	[IP4_REASM_OVERLAP] = { "OVERLAP", "overlaps bytes already held with other values: the datagram is "
	                                   "ambiguous and discarded (RFC 5722)" },
	[IP4_REASM_INCONSISTENT] = { "INCONSISTENT", "disagrees with the other fragments on where the datagram "
	                                             "ends: it is discarded" },
	[IP4_REASM_TOO_LONG] = { "TOO_LONG", "would make the datagram longer than 65,535 bytes: it is discarded" },
	[IP4_REASM_TOO_MANY] = { "TOO_MANY", "one fragment too many for one datagram: it is discarded" },
	[IP4_REASM_OF_DISCARDED] = { "OF_DISCARDED", "belongs to a datagram discarded already" },
	[IP4_REASM_MISALIGNED] = { "MISALIGNED", "a fragment other than the last whose length is not a multiple "
	                                         "of 8 bytes (RFC 791): not kept" },
	[IP4_REASM_TRUNCATED] = { "TRUNCATED", "cut short by the capture: it cannot be reassembled" },
};

const char *ip4_reasm_result_text(enum ip4_reasm_result res)
{
	return res < IP4_REASM_N ? result_words[res].text : "?";
}

const char *ip4_reasm_result_name(enum ip4_reasm_result res)
{
	return res < IP4_REASM_N ? result_words[res].name : "?";
}
