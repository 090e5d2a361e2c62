/* common/drop.h: every reason a packet can be dropped, named once (VPP's foreach_*_error habit).
 *
 * One list gives the enum and the sentence; the counter in --stats and the annotation in the
 * output use the same sentence, so what a student reads in Wireshark matches the report.
 * Stages add their reasons here, prefixed with their module.
 */
#ifndef NATLB_DROP_H
#define NATLB_DROP_H

#define foreach_drop_reason                                                             \
	X(ROUTING_LOOP, "it would go back through the stage it came from (a hairpin the stage does not do, or a routing loop)") \
	X(UNSPECIFIED, "the stage did not say why (a bug in the stage)") \
	X(HOP_LIMIT, "it crossed more stages than the chain has (loop guard)")              \
	X(EMIT_OVERFLOW, "a stage emitted more packets at once than the pipeline holds")

enum drop_reason {
#define X(name, text) DROP_##name,
	foreach_drop_reason
#undef X
	DROP_N
};

/* The sentence for a reason, e.g. for "napt home: DROP ... (no free external port)". */
const char *drop_reason_text(enum drop_reason r);
/* Its short name ("ROUTING_LOOP"), for --stats and JSON. */
const char *drop_reason_name(enum drop_reason r);

#endif
