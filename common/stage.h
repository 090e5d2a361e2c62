/* common/stage.h: looking up stage types and emitting packets from a stage (common/stage.c). */
#ifndef NATLB_STAGE_H
#define NATLB_STAGE_H

#include "common/stage-t.h"

/* The type a scenario's "type = ..." names; NULL when reg has none of that name. */
const struct stage_ops *stage_registry_find(const struct stage_registry *reg, const char *type);
/* Add a type; false when the registry is full or already has one of that name. */
bool stage_registry_add(struct stage_registry *reg, const struct stage_ops *ops);

/* Emit a packet from the stage being called (ctx->stage) onto the link on its side `side`,
 * travelling in dir: away from the stage (an ICMP error, a RST, a proxy's request to a target)
 * or towards it (a target's response that a proxy's captured response needs before it).  Its
 * first view is at ctx->now_ns + offset_ns: PIPELINE_HOP_NS after the packet in hand for what
 * that packet caused; a negative offset, from reverse(), puts it ahead of the captured packet.
 * bytes is a frame of ctx->linktype, copied; note (may be NULL) becomes its first annotation.
 * Returns false outside the replay loop, or when the queue of hops is full (counted, and shown
 * by --stats). */
bool stage_emit(struct stage_ctx *ctx, enum side side, enum hop_dir dir, int64_t offset_ns,
                const uint8_t *bytes, uint32_t len, const char *note);

/* Is dir, starting on side, away from the stage? */
static inline bool stage_side_away(enum side side, enum hop_dir dir)
{
	return (side == SIDE_LEFT) == (dir == DIR_RIGHT_TO_LEFT);
}

const char *hop_dir_name(enum hop_dir dir);

/* The name and sentence of a drop code at a stage of type ops: one of the loop's reasons, or one
 * of the type's own; NULL for a code the type does not have. */
const struct drop_info *stage_drop_info(const struct stage_ops *ops, unsigned code);

/* Drop the packet in hand for reason, a code of the calling stage's list (ctx->stage->ops->drops):
 * sets ctx->drop and appends "DROP (<the reason's sentence>): <detail>" to ctx->note, so that the
 * annotation says what --stats counts, in the same words.  detail_fmt (printf) says what is
 * particular to this packet: its endpoints, the mapping, the setting that decided.  The loop has
 * already written the "<type> <name>: " that begins the sentence.  Returns VERDICT_DROP, for
 * `return stage_drop(...)`.  Allocation-free but for a note longer than any before it. */
enum verdict stage_drop(struct stage_ctx *ctx, unsigned reason, const char *detail_fmt, ...) G_GNUC_PRINTF(3, 4);

/* Record that an entry of st's table changed (no-op unless --tables is on).  why is a short
 * sentence ("port 51324 preserved"), may be NULL. */
void stage_table_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind,
                       const struct table_row *row, const char *why);
const char *table_event_name(enum table_event ev);

#endif
