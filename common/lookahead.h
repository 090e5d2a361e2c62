/* common/lookahead.h: reading a few packets ahead of the replay so that stages can prefetch their table entries (VPP's vector prefetch, one packet at a time).
 *
 * With a table of 100,000 flows, the lookup of each packet misses the cache, and a DRAM miss
 * costs as much as the rest of the packet's work.  So the loop reads LOOKAHEAD_DEPTH packets
 * ahead: each is copied and decoded when it is read, and the stage it will meet first gets
 * STAGE_PREFETCH_STEPS calls to load its table entries before the packet's turn comes.  Packets
 * are still replayed one at a time, in order; nothing here changes what is replayed.
 */
#ifndef NATLB_LOOKAHEAD_H
#define NATLB_LOOKAHEAD_H

#include "common/input.h"
#include "common/scenario-t.h"

#define LOOKAHEAD_DEPTH (STAGE_PREFETCH_STEPS * STAGE_PREFETCH_GAP)

/* A packet read ahead, waiting for its turn. */
struct lookahead_slot {
	struct input_record rec;   /* rec.data points at bytes */
	uint8_t *bytes;            /* PACKET_MAX_FRAME, allocated once */
	struct packet pkt;         /* decoded when it was read */
	struct stage *first;       /* the stage it will meet first, to prefetch for; NULL: none */
	enum hop_dir dir;          /* ... crossing it this way */
};

struct lookahead; /* opaque */

struct flow_numbers;

/* flows, when given, is prefetched for too (flow_numbers_prefetch). */
struct lookahead *lookahead_new(const struct scenario *sc, const struct flow_numbers *flows);
void lookahead_free(struct lookahead *la);

/* Copy a captured packet into a slot: a record and its decoded packet, with their bytes in frame. */
void packet_load(struct packet *p, const struct input_record *rec, uint8_t *frame, uint32_t capacity);

/* Queue rec and run the prefetch steps that are due.  Returns the packet whose turn has come
 * (read LOOKAHEAD_DEPTH pushes earlier), or NULL while the look-ahead fills.  The slot stays
 * valid until the next lookahead_push(). */
const struct lookahead_slot *lookahead_push(struct lookahead *la, const struct input_record *rec);
/* After the last packet: the packets still waiting, one per call, then NULL. */
const struct lookahead_slot *lookahead_drain(struct lookahead *la);

#endif
