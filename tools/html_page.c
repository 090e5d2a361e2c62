/* tools/html_page.c: natlb replay --html: records each view the replay writes and writes the lesson page (issue 12).
 *
 * See tools/html_page.h for what the page holds and its bounds.  The file is the template
 * tools/page/page.html with its three marks replaced: the styles (page.css), the data (the JSON
 * of tools/html_page_json.c) and the script (page.js); the Makefile compiles the three files in
 * (tools/embed_page.sh).  The data goes inside <script type="application/json">, where the HTML
 * standard ends the element at the first "</script": html_page_json() writes every '<' as \u003c,
 * so no text of a capture or a comment can end it early.
 */
#include "tools/html_page.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "common/tables_writer.h"
#include "tools/html_page-t.h"
#include "tools/page_assets.h"

/* ---- recording, through the view sink ------------------------------------------------------------ */

static int page_add_link(void *data, const char *name, const char *description)
{
	struct html_page *pg = data;
	int handle = output_add_link(pg->out, name, description);
	if (handle < 0 || (unsigned)handle >= SCENARIO_MAX_LINKS)
		return handle;
	for (unsigned i = 0; i < pg->sc->n_links; i++)
		if (strcmp(pg->sc->links[i].name, name) == 0) {
			pg->link_of_handle[handle] = i;
			pg->written[i] = true;
		}
	pg->n_handles = MAX(pg->n_handles, (unsigned)handle + 1);
	return handle;
}

static void notes_add(struct html_page *pg, const char *note)
{
	g_string_append_len(pg->notes, note, (gssize)strlen(note) + 1); /* with its '\0' */
}

/* Stop the tables before this input packet: the ones before it are whole (their snapshots taken). */
static void tables_stop(struct html_page *pg, const char *why)
{
	table_recorder_stop(pg->tables);
	pg->tables_until = pg->views->len;
	pg->tables_stop_why = why;
}

/* A view with another packet_id than the last one starts a journey. */
static void journey_begin(struct html_page *pg, const struct view_meta *meta)
{
	if (meta->input != pg->last_input && pg->tables_until == G_MAXUINT) {
		if (pg->views->len >= pg->max_views)
			tables_stop(pg, "the page's last step");
		else if (table_recorder_n_rows(pg->tables) >= HTML_PAGE_MAX_TABLE_ROWS)
			tables_stop(pg, "the page's limit of table rows");
	}
	pg->last_input = meta->input;
	pg->last_packet_id = meta->packet_id;
	if (pg->views->len >= pg->max_views)
		return;
	struct page_journey j = { .input = meta->input, .origin = meta->origin };
	g_array_append_val(pg->journeys, j);
}

static gboolean page_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                           uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
                           const char *const *notes, unsigned n_notes, GError **err)
{
	struct html_page *pg = data;
	if (!output_write(pg->out, link, linktype, ts_ns, bytes, caplen, wirelen, dir, meta->packet_id, meta->flow, notes,
	                  n_notes, err))
		return FALSE;
	pg->views_seen++;
	if (meta->packet_id != pg->last_packet_id)
		journey_begin(pg, meta);
	if (pg->views->len >= pg->max_views || link < 0 || (unsigned)link >= pg->n_handles || !pg->journeys->len)
		return TRUE;
	uint32_t kept = MIN(caplen, HTML_PAGE_VIEW_BYTES);
	struct page_view v = {
		.ts_ns = ts_ns, .wirelen = wirelen, .linktype = linktype, .link = pg->link_of_handle[link], .dir = dir,
		.journey = pg->journeys->len - 1, .flow = meta->flow, .bytes_off = pg->bytes->len, .bytes_len = kept,
		.notes_off = (guint)pg->notes->len, .n_notes = n_notes + (pg->note != NULL),
	};
	g_byte_array_append(pg->bytes, bytes, kept);
	for (unsigned i = 0; i < n_notes; i++)
		notes_add(pg, notes[i]);
	if (pg->note)
		notes_add(pg, pg->note);
	g_array_append_val(pg->views, v);
	return TRUE;
}

struct view_sink html_page_sink(struct html_page *pg)
{
	return (struct view_sink){ .add_link = page_add_link, .write = page_write, .data = pg };
}

/* ---- the file ------------------------------------------------------------------------------------- */

struct html_page *html_page_open(const char *path, const struct scenario *sc, struct output *out, unsigned max_views,
                                 GError **err)
{
	struct html_page *pg = g_new0(struct html_page, 1);
	pg->path = g_strdup(path);
	pg->partial = g_strconcat(path, ".partial", NULL);
	pg->f = fopen(pg->partial, "w");
	if (!pg->f) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "--html %s: %s", pg->partial,
		            g_strerror(errno));
		g_free(pg->partial);
		g_free(pg->path);
		g_free(pg);
		return NULL;
	}
	pg->sc = sc;
	pg->out = out;
	pg->max_views = max_views;
	pg->views = g_array_new(FALSE, FALSE, sizeof(struct page_view));
	pg->journeys = g_array_new(FALSE, FALSE, sizeof(struct page_journey));
	pg->bytes = g_byte_array_new();
	pg->notes = g_string_sized_new(4096);
	pg->tables = table_recorder_new_scheduled(sc->source, &(struct table_schedule){ .on_change = true });
	pg->tables_until = G_MAXUINT;
	return pg;
}

struct table_recorder *html_page_tables(struct html_page *pg)
{
	return pg->tables;
}

void html_page_set_note(struct html_page *pg, const char *note)
{
	pg->note = note;
}

/* The template up to the next mark ("@@NAME@@"), then what the mark stands for. */
static void fill_template(FILE *f, const char *css, const char *json, const char *js, const char *title)
{
	const char *t = html_page_html;
	for (;;) {
		const char *mark = strstr(t, "@@");
		const char *end = mark ? strstr(mark + 2, "@@") : NULL;
		if (!mark || !end) {
			fputs(t, f);
			return;
		}
		fwrite(t, 1, (size_t)(mark - t), f);
		size_t n = (size_t)(end - mark - 2);
		if (n == 3 && strncmp(mark + 2, "CSS", n) == 0)
			fputs(css, f);
		else if (n == 4 && strncmp(mark + 2, "DATA", n) == 0)
			fputs(json, f);
		else if (n == 6 && strncmp(mark + 2, "SCRIPT", n) == 0)
			fputs(js, f);
		else if (n == 5 && strncmp(mark + 2, "TITLE", n) == 0)
			fputs(title, f);
		t = end + 2;
	}
}

gboolean html_page_finish(struct html_page *pg, const char *stats, GError **err)
{
	if (!table_recorder_finish(pg->tables, pg->sc, err)) /* a memory recorder: only closes the document */
		return FALSE;
	GString *json = g_string_sized_new(1 << 20);
	if (!html_page_json(pg, table_recorder_text(pg->tables), stats, json, err)) {
		g_string_free(json, TRUE);
		return FALSE;
	}
	char *title = g_markup_escape_text(pg->sc->description ? pg->sc->description : pg->sc->source, -1);
	fill_template(pg->f, html_page_css, json->str, html_page_js, title);
	g_free(title);
	g_string_free(json, TRUE);
	int bad = ferror(pg->f);
	int rc = fclose(pg->f);
	pg->f = NULL;
	if (bad || rc != 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "--html %s: %s", pg->partial,
		            g_strerror(errno ? errno : EIO));
		return FALSE;
	}
	return TRUE;
}

gboolean html_page_commit(struct html_page *pg, GError **err)
{
	if (g_rename(pg->partial, pg->path) != 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "--html %s: %s", pg->path, g_strerror(errno));
		return FALSE;
	}
	pg->committed = true;
	return TRUE;
}

void html_page_remove(struct html_page *pg)
{
	if (pg->committed)
		g_unlink(pg->path);
	pg->committed = false;
}

void html_page_free(struct html_page *pg)
{
	if (!pg)
		return;
	if (pg->f)
		fclose(pg->f);
	if (!pg->committed)
		g_unlink(pg->partial);
	table_recorder_free(pg->tables);
	g_array_free(pg->views, TRUE);
	g_array_free(pg->journeys, TRUE);
	g_byte_array_free(pg->bytes, TRUE);
	g_string_free(pg->notes, TRUE);
	g_free(pg->partial);
	g_free(pg->path);
	g_free(pg);
}

void html_page_roles_add(GArray *roles, const char *path)
{
	char *partial = g_strconcat(path, ".partial", NULL);
	output_roles_add(roles, path, false, "--html %s", path);
	output_roles_add(roles, partial, false, "--html's temporary %s", partial);
	g_free(partial);
}
