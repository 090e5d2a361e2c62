/* tools/html_page.h: natlb replay --html: one self-contained page that steps through a replay view by view (issue 12).
 *
 * The page is one HTML file with its styles, script and data inside (tools/page/: page.html,
 * page.css, page.js, compiled in by the Makefile); it fetches nothing, so it opens from file://
 * offline.  Its data is one JSON document in a <script type="application/json"> element; the
 * layout of that document is described at the top of tools/page/page.js.
 *
 * Step N of the page is frame N of the pcapng output: the page records every view the replay
 * writes, through a view sink in front of the output (html_page_sink), so a replay without
 * --html does not pay for it.  The tables come from the --tables machinery: the page keeps its
 * own table recorder (snapshots at each change), reads it back with common/tables_reader.c and
 * prints each snapshot with table_snapshot_print(), as `natlb tables --at` does.
 *
 * Bounds: the first max_views views become steps (the page says how many were left out); the
 * tables stop at the first input packet after that, or once their snapshots hold
 * HTML_PAGE_MAX_TABLE_ROWS rows (the page says at which step).  Recording a view copies at most
 * HTML_PAGE_VIEW_BYTES of it and its comments onto growing buffers: no allocation of its own.
 *
 * Invariant: the file appears under its name only through html_page_commit(); until then it is
 * PATH.partial, which html_page_free() removes.
 */
#ifndef NATLB_HTML_PAGE_H
#define NATLB_HTML_PAGE_H

#include "common/output.h"
#include "common/pipeline.h"
#include "common/scenario-t.h"

#define HTML_PAGE_DEFAULT_MAX_VIEWS 20000
#define HTML_PAGE_MAX_TABLE_ROWS    10000
#define HTML_PAGE_VIEW_BYTES        320

struct html_page; /* opaque */

/* Opens PATH.partial (fails when it cannot be created).  The page shows sc, which must outlive
 * it, and writes its views on to out. */
struct html_page *html_page_open(const char *path, const struct scenario *sc, struct output *out, unsigned max_views,
                                 GError **err);
/* The sink to give pipeline_new_with_sink(): every view goes to out and onto the page. */
struct view_sink html_page_sink(struct html_page *pg);
/* The recorder whose tables the page shows: the pipeline's tables when --tables is off, else
 * tee the --tables recorder into it (table_recorder_tee). */
struct table_recorder *html_page_tables(struct html_page *pg);
/* One more comment on every view recorded until the next call (output_set_note's, for the page). */
void html_page_set_note(struct html_page *pg, const char *note);
/* After the replay: build the page and write it under its temporary name.  stats is the --stats
 * report, shown on the page. */
gboolean html_page_finish(struct html_page *pg, const char *stats, GError **err);
/* Rename it into place. */
gboolean html_page_commit(struct html_page *pg, GError **err);
/* Remove the committed file again (another output failed to go into place: all outputs or none). */
void html_page_remove(struct html_page *pg);
/* Frees pg; the temporary file goes unless it was committed. */
void html_page_free(struct html_page *pg);

/* The files html_page_open(path) writes, for the check that no output overwrites another. */
void html_page_roles_add(GArray *roles, const char *path);

#endif
