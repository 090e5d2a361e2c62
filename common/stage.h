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

#endif
