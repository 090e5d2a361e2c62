/* common/drop.h: why a packet was dropped: the loop's own reasons, and how each stage type lists its own (VPP's per-node foreach_*_error lists).
 *
 * A drop reason is a code.  The loop's reasons are the DROP_* below; each stage type lists its
 * own in its -t.h header with an X-macro, numbered from DROP_STAGE_FIRST, and hands the list to
 * the loop in its ops table (stage_ops.drops).  One list gives a reason's code, its short name
 * for --stats and its sentence, so what a student reads in Wireshark matches the report.
 */
#ifndef NATLB_DROP_H
#define NATLB_DROP_H

#define foreach_loop_drop                                                               \
	X(ROUTING_LOOP, "it would go back through the stage it came from (a hairpin the stage does not do, or a routing loop)") \
	X(UNSPECIFIED, "the stage did not say why (a bug in the stage)") \
	X(HOP_LIMIT, "it crossed more stages than the chain has (loop guard)") \
	X(TTL_EXCEEDED, "time to live exceeded in transit")

enum drop_reason {
#define X(name, text) DROP_##name,
	foreach_loop_drop
#undef X
	DROP_N
};

/* The code of a stage type's first reason; a stage type has at most STAGE_MAX_DROPS. */
#define DROP_STAGE_FIRST DROP_N
#define STAGE_MAX_DROPS  32
#define DROP_CODES       (DROP_STAGE_FIRST + STAGE_MAX_DROPS)
/* The two expansions of a stage type's list, foreach_TYPE_drop(X): its enum and its table. */
#define DROP_ENUM_ENTRY(name, text) DROP_##name,
#define DROP_INFO_ENTRY(name, text) { #name, text },

/* No reason given yet (ctx->drop before a stage sets it). */
#define DROP_NONE        0xffffffffu

/* One reason in a list: its short name ("NAPT_NO_PORT") and its sentence. */
struct drop_info {
	const char *name;
	const char *text;
};

/* One of the loop's reasons; NULL for a code that is not one (stage.h's stage_drop_info() knows
 * the stages' reasons too). */
const struct drop_info *loop_drop_info(unsigned code);
/* The sentence of one of the loop's reasons, for its annotations. */
const char *drop_reason_text(enum drop_reason r);

#endif
