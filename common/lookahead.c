/* common/lookahead.c: the replay's read-ahead ring and the stage prefetch calls it schedules (see lookahead.h). */
#include <string.h>

#include "common/chain.h"
#include "common/flow_number.h"
#include "common/lookahead.h"
#include "common/packet.h"

#define LOOKAHEAD_RING 16 /* a power of two above LOOKAHEAD_DEPTH */
G_STATIC_ASSERT(LOOKAHEAD_DEPTH < LOOKAHEAD_RING);

struct lookahead {
	const struct scenario *sc;
	const struct flow_numbers *flows;
	struct chain_memo hops;
	struct lookahead_slot ring[LOOKAHEAD_RING];
	uint8_t *bytes;
	uint64_t pushed, taken;    /* ring[pushed % LOOKAHEAD_RING] is the next free slot */
};

struct lookahead *lookahead_new(const struct scenario *sc, const struct flow_numbers *flows)
{
	struct lookahead *la = g_new0(struct lookahead, 1);
	la->sc = sc;
	la->flows = flows;
	/* Only the bytes a packet uses are ever touched, so the ring costs little resident memory. */
	la->bytes = g_malloc((size_t)LOOKAHEAD_RING * PACKET_MAX_FRAME);
	for (unsigned i = 0; i < LOOKAHEAD_RING; i++)
		la->ring[i].bytes = la->bytes + (size_t)i * PACKET_MAX_FRAME;
	return la;
}

void lookahead_free(struct lookahead *la)
{
	if (!la)
		return;
	g_free(la->bytes);
	g_free(la);
}

void packet_load(struct packet *p, const struct input_record *rec, uint8_t *frame, uint32_t capacity)
{
	p->data = frame;
	p->capacity = capacity;
	p->caplen = MIN(rec->caplen, capacity);
	p->wirelen = rec->wirelen;
	p->linktype = rec->linktype;
	p->ts_ns = rec->ts_ns;
	memcpy(p->data, rec->data, p->caplen);
	decode_packet(p);
}

/* The stage a captured packet will meet first, if it goes forward from the capture link; a
 * packet that walks back first (a reply captured past its NAT) gets no prefetch: reverse() looks
 * it up by other keys. */
static void slot_route(struct lookahead *la, struct lookahead_slot *s)
{
	const struct packet *p = &s->pkt;
	s->first = NULL;
	if (p->l3 != L3_IPV4 || p->ip.hdr_len < 20 || p->status == DECODE_INVALID)
		return;
	const struct scenario *sc = la->sc;
	struct chain_hop back = chain_next_hop_memo(&la->hops, sc, sc->capture, p->ip.src);
	if (!back.deliver && back.st)
		return;
	struct chain_hop h = chain_next_hop_memo(&la->hops, sc, sc->capture, p->ip.dst);
	if (!h.deliver && h.st && h.st->ops->prefetch) {
		s->first = h.st;
		s->dir = h.dir;
	}
}

static const struct lookahead_slot *take(struct lookahead *la)
{
	return &la->ring[la->taken++ % LOOKAHEAD_RING];
}

const struct lookahead_slot *lookahead_push(struct lookahead *la, const struct input_record *rec)
{
	struct lookahead_slot *s = &la->ring[la->pushed % LOOKAHEAD_RING];

	s->rec = *rec;
	s->rec.caplen = MIN(rec->caplen, PACKET_MAX_FRAME);
	s->rec.data = s->bytes;
	packet_load(&s->pkt, rec, s->bytes, PACKET_MAX_FRAME);
	slot_route(la, s);
	/* Step s for the packet pushed s gaps ago: each step's loads had a gap's work to arrive. */
	for (unsigned step = 0; step < STAGE_PREFETCH_STEPS; step++) {
		uint64_t back = (uint64_t)step * STAGE_PREFETCH_GAP;
		if (la->pushed < la->taken + back)
			break;
		const struct lookahead_slot *w = &la->ring[(la->pushed - back) % LOOKAHEAD_RING];
		if (w->first)
			w->first->ops->prefetch(w->first, &w->pkt, w->dir, step);
		if (la->flows && step < 2) /* every view's comment starts with its flow number */
			flow_numbers_prefetch(la->flows, &w->pkt, step);
	}
	la->pushed++;
	return la->pushed - la->taken > LOOKAHEAD_DEPTH ? take(la) : NULL;
}

const struct lookahead_slot *lookahead_drain(struct lookahead *la)
{
	return la->taken < la->pushed ? take(la) : NULL;
}
