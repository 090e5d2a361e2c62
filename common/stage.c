/* common/stage.c: what every stage calls into the loop with: emitting a packet of its own (DESIGN.md "Stage API"). */
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
