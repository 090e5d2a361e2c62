/* common/hop_queue.h: the replay loop's one work queue of hops, ordered by (capture time, sequence) (DESIGN.md "How a packet travels", step 4).
 *
 * Each entry is a packet waiting on a link to travel: the captured packet once its walk back has
 * found where it was sent, and every packet a stage emits (an ICMP error, a TCP RST, a hairpinned
 * packet, a released fragment, a proxy's own segments).  The loop pops the earliest entry and
 * carries it to the end of its path; what the stages emit meanwhile waits in the queue.  Equal
 * times keep the order they were pushed in, so a replay is deterministic.
 *
 * Memory: entries are allocated the first time the queue is that deep and reused after; each
 * keeps its frame buffer, which only grows.  HOP_QUEUE_MAX bounds the depth: a stage that emits
 * more at once is told no, and the refusals are counted (--stats prints them).
 */
#ifndef NATLB_HOP_QUEUE_H
#define NATLB_HOP_QUEUE_H

#include <glib.h>

#include "common/stage-t.h"

/* Packets waiting at once; a TCP window's worth of segments a proxy derives from one capture. */
#define HOP_QUEUE_MAX 1024

struct hop_entry {
	struct packet pkt;         /* decoded; pkt.data is buf, or bytes the caller keeps alive */
	unsigned link;             /* the link it is on */
	enum hop_dir dir;          /* its direction of travel, when it leaves a stage (from) */
	enum packet_origin origin; /* ORIGIN_CAPTURED for the captured packet, else ORIGIN_EMITTED */
	const struct stage *from;  /* the stage it leaves (emitted or originated by it); NULL */
	int64_t at_ns;             /* capture time of its view on this link */
	unsigned derived_hops;     /* captured: the stages between here and the capture link */
	unsigned withheld;         /* captured: a drop code when the stage `from` sent something else in its
	                            * place (REVERSE_REPLACED); DROP_NONE */
	GString *note;             /* its first annotation */
	/* owned by the queue */
	uint64_t seq;
	uint8_t *buf;
	uint32_t buf_cap;
};

struct hop_queue; /* opaque; its struct emitter is what ctx->emitter points at */

struct hop_queue *hop_queue_new(void);
void hop_queue_free(struct hop_queue *q);

/* The emitter that stage_emit() pushes onto this queue through. */
struct emitter *hop_queue_emitter(struct hop_queue *q);

/* A free entry to fill (pkt.data NULL, note empty), or NULL when HOP_QUEUE_MAX are in use.  Give
 * it back with hop_queue_push() or hop_queue_release(). */
struct hop_entry *hop_queue_reserve(struct hop_queue *q);
/* An entry's own buffer, at least len bytes. */
uint8_t *hop_entry_buffer(struct hop_entry *e, uint32_t len);
void hop_queue_push(struct hop_queue *q, struct hop_entry *e);
void hop_queue_release(struct hop_queue *q, struct hop_entry *e);

/* The earliest entry, or NULL when the queue is empty; release it when done with it. */
struct hop_entry *hop_queue_pop(struct hop_queue *q);

/* Emitted packets refused because the queue was full, or too large for a frame. */
uint64_t hop_queue_overflow(const struct hop_queue *q);

#endif
