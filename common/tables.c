/* common/tables.c: the event log and table snapshots behind --tables (DESIGN.md, "Tables and reports").
 *
 * Only runs when --tables is given: the replay loop does not pay for it otherwise.
 */
#include "common/stage.h"
#include "common/tables.h"

struct table_event_record {
	int64_t ts_ns;
	char *stage;
	enum table_event kind;
	struct table_row row;  /* state and flags copied below */
	char *state, *flags, *why;
};

struct table_recorder {
	GArray *events; /* struct table_event_record */
};

static const char *const table_event_names[TABLE_EVENT_N] = {
#define X(name, text) [TABLE_EVENT_##name] = text,
	foreach_table_event
#undef X
};

const char *table_event_name(enum table_event ev)
{
	return (unsigned)ev < TABLE_EVENT_N ? table_event_names[ev] : "unknown";
}

static void event_record_clear(gpointer p)
{
	struct table_event_record *e = p;
	g_free(e->stage);
	g_free(e->state);
	g_free(e->flags);
	g_free(e->why);
}

struct table_recorder *table_recorder_new(void)
{
	struct table_recorder *rec = g_new0(struct table_recorder, 1);
	rec->events = g_array_new(FALSE, TRUE, sizeof(struct table_event_record));
	g_array_set_clear_func(rec->events, event_record_clear);
	return rec;
}

void table_recorder_free(struct table_recorder *rec)
{
	if (!rec)
		return;
	g_array_free(rec->events, TRUE);
	g_free(rec);
}

void table_recorder_add_event(struct table_recorder *rec, int64_t now_ns, const struct stage *st,
                              enum table_event kind, const struct table_row *row, const char *why)
{
	struct table_event_record e = { .ts_ns = now_ns, .stage = g_strdup(st->name), .kind = kind };
	if (row) {
		e.row = *row;
		e.state = g_strdup(row->state);
		e.flags = g_strdup(row->flags);
	}
	e.row.state = e.row.flags = NULL; /* the copies above own the text */
	e.why = g_strdup(why);
	g_array_append_val(rec->events, e);
}

unsigned table_recorder_n_events(const struct table_recorder *rec)
{
	return rec->events->len;
}

void stage_table_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind,
                       const struct table_row *row, const char *why)
{
	if (ctx->tables)
		table_recorder_add_event(ctx->tables, ctx->now_ns, st, kind, row, why);
}
