/* common/tables_reader.h: reading a --tables document back (format in common/tables_writer.h) and printing it like conntrack -L.
 *
 * The file is untrusted input (a student may hand-edit it, or give natlb the wrong file): it is
 * validated once, here, member by member, and the structs below are then trusted by the
 * printers (STYLE.md habit 3).  Errors are one line naming the file and the place
 * ("T.json: record 12: stages[0].rows[3].proto: an integer from 0 to 255").  The tests/fuzz
 * harness fuzz_tables_json.c runs this parser.
 *
 * Printing follows conntrack(8)'s -L lines: protocol name and number, seconds to expiry, state,
 * the original tuple with its packets and bytes, the reply tuple with its counters, then the
 * stage's flags as it wrote them (where conntrack puts [ASSURED]; a stage that tracks replies
 * writes [UNREPLIED] or [ASSURED] there itself) and the entry's id.  The original direction's counters are the row's left-to-right ones (the
 * direction the first packet of a NAT mapping or a balancer's flow travels).
 */
#ifndef NATLB_TABLES_READER_H
#define NATLB_TABLES_READER_H

#include <glib.h>

#include "common/stage-t.h"

#define TABLES_FILE_ERROR tables_file_error_quark()
GQuark tables_file_error_quark(void);
enum tables_file_error {
	TABLES_FILE_ERROR_READ,   /* the file could not be read */
	TABLES_FILE_ERROR_SYNTAX, /* not JSON */
	TABLES_FILE_ERROR_FORMAT, /* JSON, but not a valid natlb-tables document */
};

struct table_file_stage {
	const char *name, *type;
	struct table_row *rows; /* expires_ns absolute: the snapshot's time + timeout_ns, or INT64_MAX */
	unsigned n_rows;
};

struct table_snapshot {
	int64_t ts_ns;
	const char *why;        /* "end", "every 10 s", "change" */
	struct table_file_stage *stages;
	unsigned n_stages;
};

struct table_file_event {
	int64_t ts_ns;
	const char *stage;
	enum table_event kind;
	const char *why;        /* may be NULL */
	bool has_row;
	struct table_row row;
};

struct table_file {
	char *source;           /* the path, for messages */
	const char *scenario;   /* may be NULL */
	const char *schedule;
	int64_t start_ns, end_ns;
	struct table_snapshot *snapshots; /* in file order, which is time order */
	unsigned n_snapshots;
	struct table_file_event *events;
	unsigned n_events;
	GStringChunk *text;     /* owns every string above */
};

/* Parse a document; source names it in messages.  NULL with err set when it is not valid. */
struct table_file *table_file_parse(const char *source, const char *data, size_t len, GError **err);
struct table_file *table_file_load(const char *path, GError **err);
void table_file_free(struct table_file *tf);

/* Capture time since the start of the file (start_ns). */
static inline int64_t table_file_rel(const struct table_file *tf, int64_t ts_ns)
{
	return ts_ns - tf->start_ns;
}

/* The latest snapshot taken at or before at_ns (nanoseconds since start_ns); NULL when none was. */
const struct table_snapshot *table_file_at(const struct table_file *tf, int64_t at_ns);
/* Does any snapshot or event name this stage? */
bool table_file_has_stage(const struct table_file *tf, const char *name);

/* One row as conntrack -L prints it, seconds to expiry counted from now_ns; no newline. */
void table_row_format(const struct table_row *row, int64_t now_ns, GString *out);
/* A snapshot: a comment line per stage, then one line per row.  stage NULL: every stage. */
void table_snapshot_print(const struct table_file *tf, const struct table_snapshot *snap, const char *stage,
                          GString *out);
/* The event log up to until_ns (since start_ns; INT64_MAX for all), like conntrack -E. */
void table_file_print_events(const struct table_file *tf, const char *stage, int64_t until_ns, GString *out);
/* One line per snapshot: its time, why it was taken, how many entries each stage had. */
void table_file_print_list(const struct table_file *tf, GString *out);

#endif
