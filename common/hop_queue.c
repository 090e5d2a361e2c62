/* common/hop_queue.c: the replay loop's work queue of hops: a binary heap on (capture time, sequence) over entries allocated once. */
#include <string.h>

#include "common/hop_queue.h"
#include "common/note.h"
#include "common/packet.h"

struct hop_queue {
	struct emitter emitter;    /* first, so that the emitter's address is the queue's */
	struct hop_entry **heap;   /* heap[0] is the earliest; n_heap in use */
	unsigned n_heap;
	struct hop_entry **spare;  /* entries allocated and free; n_spare of them */
	unsigned n_spare;
	unsigned n_allocated;      /* at most HOP_QUEUE_MAX */
	uint64_t next_seq;
	uint64_t overflow;
};

static bool earlier(const struct hop_entry *a, const struct hop_entry *b)
{
	return a->at_ns != b->at_ns ? a->at_ns < b->at_ns : a->seq < b->seq;
}

static bool hop_queue_emit(struct emitter *em, const struct emitted_packet *e);

struct hop_queue *hop_queue_new(void)
{
	struct hop_queue *q = g_new0(struct hop_queue, 1);
	q->emitter.emit = hop_queue_emit;
	q->heap = g_new(struct hop_entry *, HOP_QUEUE_MAX);
	q->spare = g_new(struct hop_entry *, HOP_QUEUE_MAX);
	return q;
}

void hop_queue_free(struct hop_queue *q)
{
	if (!q)
		return;
	struct hop_entry *e;
	while ((e = hop_queue_pop(q)))
		hop_queue_release(q, e);
	for (unsigned i = 0; i < q->n_spare; i++) {
		g_free(q->spare[i]->buf);
		g_string_free(q->spare[i]->note, TRUE);
		g_free(q->spare[i]);
	}
	g_free(q->heap);
	g_free(q->spare);
	g_free(q);
}

struct emitter *hop_queue_emitter(struct hop_queue *q)
{
	return &q->emitter;
}

struct hop_entry *hop_queue_reserve(struct hop_queue *q)
{
	struct hop_entry *e;

	if (q->n_spare) {
		e = q->spare[--q->n_spare];
	} else if (q->n_allocated < HOP_QUEUE_MAX) {
		e = g_new0(struct hop_entry, 1);
		e->note = g_string_sized_new(256);
		q->n_allocated++;
	} else {
		return NULL;
	}
	uint8_t *buf = e->buf;
	uint32_t cap = e->buf_cap;
	GString *note = e->note;
	*e = (struct hop_entry){ .buf = buf, .buf_cap = cap, .note = note };
	g_string_truncate(note, 0);
	return e;
}

uint8_t *hop_entry_buffer(struct hop_entry *e, uint32_t len)
{
	if (len > e->buf_cap) {
		e->buf_cap = MAX(len, 2048u);
		e->buf = g_realloc(e->buf, e->buf_cap);
	}
	return e->buf;
}

void hop_queue_release(struct hop_queue *q, struct hop_entry *e)
{
	q->spare[q->n_spare++] = e;
}

void hop_queue_push(struct hop_queue *q, struct hop_entry *e)
{
	unsigned i = q->n_heap++;

	e->seq = q->next_seq++;
	while (i > 0) {
		unsigned up = (i - 1) / 2;
		if (!earlier(e, q->heap[up]))
			break;
		q->heap[i] = q->heap[up];
		i = up;
	}
	q->heap[i] = e;
}

struct hop_entry *hop_queue_pop(struct hop_queue *q)
{
	if (q->n_heap == 0)
		return NULL;
	struct hop_entry *top = q->heap[0], *last = q->heap[--q->n_heap];
	unsigned i = 0, n = q->n_heap;
	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && earlier(q->heap[c + 1], q->heap[c]))
			c++;
		if (!earlier(q->heap[c], last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (n)
		q->heap[i] = last;
	return top;
}

uint64_t hop_queue_overflow(const struct hop_queue *q)
{
	return q->overflow;
}

/* stage_emit() lands here: copy the frame into an entry on the stage's link and queue it. */
static bool hop_queue_emit(struct emitter *em, const struct emitted_packet *ep)
{
	struct hop_queue *q = (struct hop_queue *)em;
	struct hop_entry *e = ep->len <= PACKET_MAX_FRAME ? hop_queue_reserve(q) : NULL;

	if (!e) {
		q->overflow++;
		return false;
	}
	struct packet *p = &e->pkt;
	p->data = hop_entry_buffer(e, ep->len);
	p->capacity = e->buf_cap;
	memcpy(p->data, ep->bytes, ep->len);
	p->caplen = p->wirelen = ep->len;
	p->linktype = ep->linktype;
	p->ts_ns = ep->at_ns;
	decode_packet(p);
	e->link = ep->side == SIDE_LEFT ? ep->from->index : ep->from->index + 1;
	e->dir = ep->dir;
	e->origin = ORIGIN_EMITTED;
	e->from = ep->from;
	e->at_ns = ep->at_ns;
	if (ep->note)
		note_set(e->note, ep->note, strlen(ep->note));
	hop_queue_push(q, e);
	return true;
}
