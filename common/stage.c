/* common/stage.c: the stage API's functions: emitting a packet, naming a drop, looking up a stage type (DESIGN.md "Stage API"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/note.h"
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

/* note_appendf() for a va_list (note.h has none): formats straight into s's spare room, growing it
 * only when the text does not fit. */
static void note_vappend(GString *s, const char *fmt, va_list ap)
{
	for (;;) {
		gsize room = s->allocated_len - s->len;
		va_list copy;
		va_copy(copy, ap);
		int n = vsnprintf(s->str + s->len, room, fmt, copy);
		va_end(copy);
		if (n < 0)
			return;
		if ((gsize)n < room) {
			s->len += (gsize)n;
			return;
		}
		gsize len = s->len;
		g_string_set_size(s, len + (gsize)n + 1);
		g_string_truncate(s, len);
	}
}

enum verdict stage_drop(struct stage_ctx *ctx, unsigned reason, const char *detail_fmt, ...)
{
	/* A stage driven outside the loop without ctx->stage (fuzzers, benchmarks) still gets its
	 * code recorded; only its sentence is unknown here. */
	const struct drop_info *why = ctx->stage ? stage_drop_info(ctx->stage->ops, reason) : NULL;

	ctx->drop = reason;
	g_string_append(ctx->note, "DROP (");
	if (why) {
		g_string_append(ctx->note, why->text);
	} else {
		g_string_append(ctx->note, "drop code ");
		note_append_uint(ctx->note, reason);
	}
	g_string_append_c(ctx->note, ')');
	if (detail_fmt) {
		va_list ap;
		g_string_append(ctx->note, ": ");
		va_start(ap, detail_fmt);
		note_vappend(ctx->note, detail_fmt, ap);
		va_end(ap);
	}
	return VERDICT_DROP;
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
