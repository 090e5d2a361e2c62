/* common/stage.h: looking up stage types and emitting packets from a stage. */
#ifndef NATLB_STAGE_H
#define NATLB_STAGE_H

#include "common/stage-t.h"

/* The stage types this build knows (common/stage_registry.c). */
const struct stage_ops *stage_type_find(const char *type);
const struct stage_ops *const *stage_types(unsigned *n);

/* Emit a packet from stage st onto the link on its side `side`, travelling away from the stage.
 * The bytes are copied; note (may be NULL) becomes the first annotation of the emitted packet.
 * Returns false when the pipeline's emit pool is full (counted as DROP_EMIT_OVERFLOW). */
bool stage_emit(struct stage_ctx *ctx, struct stage *st, enum side side, int linktype,
                const uint8_t *bytes, uint32_t len, const char *note);

const char *hop_dir_name(enum hop_dir dir);

/* Record that an entry of st's table changed (no-op unless --tables is on).  why is a short
 * sentence ("port 51324 preserved"), may be NULL. */
void stage_table_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind,
                       const struct table_row *row, const char *why);
const char *table_event_name(enum table_event ev);

/* Add a stage type at run time (tests, or a type built outside the registry table). */
void stage_type_register(const struct stage_ops *ops);

#endif
