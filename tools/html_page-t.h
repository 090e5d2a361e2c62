/* tools/html_page-t.h: what the lesson page records during a replay (types only; tools/html_page.h has the API).
 *
 * Shared by tools/html_page.c, which records and writes the file, and tools/html_page_json.c,
 * which turns the record into the page's JSON document.
 */
#ifndef NATLB_HTML_PAGE_T_H
#define NATLB_HTML_PAGE_T_H

#include <stdio.h>

#include "common/pcapng_writer.h"
#include "common/scenario-t.h"

/* One view as written: the first HTML_PAGE_VIEW_BYTES of it, its comments. */
struct page_view {
	int64_t ts_ns;
	uint32_t wirelen;
	int linktype;
	unsigned link;                 /* index in the scenario's chain */
	enum pcapng_direction dir;
	unsigned journey;              /* index in html_page.journeys */
	uint32_t flow;                 /* its "flow #N" (view_meta.flow) */
	guint bytes_off, bytes_len;    /* in html_page.bytes */
	guint notes_off;               /* in html_page.notes: n_notes strings, each ending in '\0' */
	unsigned n_notes;
};

/* A packet's trip from its first view to its last: the views of one view_meta.packet_id. */
struct page_journey {
	uint64_t input;                /* the input packet whose replay it belongs to */
	enum packet_origin origin;
};

struct html_page {
	char *path, *partial;
	FILE *f;
	bool committed;
	const struct scenario *sc;
	struct output *out;
	unsigned link_of_handle[SCENARIO_MAX_LINKS]; /* the output's link handle -> scenario link */
	bool written[SCENARIO_MAX_LINKS];            /* the link's views are in the output (--links) */
	unsigned n_handles;
	unsigned max_views;
	uint64_t views_seen;           /* every view the output got, kept or not */
	GArray *views;                 /* struct page_view, at most max_views */
	GArray *journeys;              /* struct page_journey */
	GByteArray *bytes;
	GString *notes;
	const char *note;              /* html_page_set_note() */
	struct table_recorder *tables;
	uint64_t last_input;
	uint64_t last_packet_id;       /* of the last view: a new one starts a journey (ids start at 1) */
	unsigned tables_until;         /* steps from this one on have no tables; G_MAXUINT while they run */
	const char *tables_stop_why;
};

/* The page's JSON document (the layout is at the top of tools/page/page.js), from what pg
 * recorded and its tables document (common/tables_writer.h); stats is the --stats report.
 * FALSE when that document cannot be read back (a bug: the recorder wrote it). */
gboolean html_page_json(const struct html_page *pg, const char *tables, const char *stats, GString *out,
                        GError **err);

#endif
