/* common/stage.c: the stage API's functions: emitting a packet, naming a drop, looking up a stage type (DESIGN.md "Stage API"). */
#include <string.h>

#include "common/stage.h"

bool stage_emit(struct stage_ctx *ctx, enum side side, enum hop_dir dir, int64_t offset_ns,
                const uint8_t *bytes, uint32_t len, const char *note)
{
	/* A stage driven outside the loop (unit tests, fuzzers) has nowhere to emit. */
	if (!ctx->emitter || !ctx->stage)
		return false;
	struct emitted_packet e = {
		.from = ctx->stage, .side = side, .dir = dir, .at_ns = ctx->now_ns + offset_ns,
		.linktype = ctx->linktype, .bytes = bytes, .len = len, .note = note,
	};
	if (!ctx->emitter->emit(ctx->emitter, &e))
		return false;
	ctx->stage->counters.emitted++;
	return true;
}

const char *hop_dir_name(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? "left-to-right" : "right-to-left";
}

const struct drop_info *stage_drop_info(const struct stage_ops *ops, unsigned code)
{
	if (code < DROP_N)
		return loop_drop_info(code);
	if (code - DROP_STAGE_FIRST < ops->n_drops)
		return &ops->drops[code - DROP_STAGE_FIRST];
	return NULL;
}

const struct stage_ops *stage_registry_find(const struct stage_registry *reg, const char *type)
{
	for (unsigned i = 0; i < reg->n; i++)
		if (strcmp(reg->types[i]->type, type) == 0)
			return reg->types[i];
	return NULL;
}

bool stage_registry_add(struct stage_registry *reg, const struct stage_ops *ops)
{
	if (reg->n == STAGE_TYPES_MAX || stage_registry_find(reg, ops->type))
		return false;
	reg->types[reg->n++] = ops;
	return true;
}
