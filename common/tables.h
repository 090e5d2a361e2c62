/* common/tables.h: recording stage tables and their events for --tables (DESIGN.md, "Tables and reports"). */
#ifndef NATLB_TABLES_H
#define NATLB_TABLES_H

#include "common/stage-t.h"

struct table_recorder; /* opaque: events so far, snapshots taken */

struct table_recorder *table_recorder_new(void);
void table_recorder_free(struct table_recorder *rec);

/* Append one event (stage_table_event() calls this when --tables is on). */
void table_recorder_add_event(struct table_recorder *rec, int64_t now_ns, const struct stage *st,
                              enum table_event kind, const struct table_row *row, const char *why);
/* How many events were recorded. */
unsigned table_recorder_n_events(const struct table_recorder *rec);

#endif
