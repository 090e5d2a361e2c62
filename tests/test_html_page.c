/* tests/test_html_page.c: natlb replay --html: the lesson page's data against tshark and natlb tables, and the page in a real browser (issue 12).
 *
 * The page's data is the JSON document inside it (layout at the top of tools/page/page.js).  For
 * each lesson the replay runs once, with --html and with --tables --tables-every change, and:
 * - tshark reads the -o output: one step per frame, in order, each on the frame's link
 *   (frame.interface_name) with the frame's comments (frame.comment), in full;
 * - natlb tables reads the --tables file: at every step where the page's table changes, the
 *   page's table is what `natlb tables --at` prints at the step's time; the page's events are
 *   the lines of `natlb tables --events`, and each one sits on a step at or after its time;
 * - Debian's chromium (headless, --dump-dom, after the script ran) shows every link and stage,
 *   one row per step, and at #step=N the comments of frame N and the table row that step
 *   changed, highlighted.  Without chromium these tests say they were skipped.
 * The stepping time is measured in the browser (performance.now(), #step=1&bench=K) on a page
 * of HTML_PAGE_DEFAULT_MAX_VIEWS steps.
 */
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "tests/testutil.h"
#include "tools/html_page.h"

#define DATA_OPEN "<script type=\"application/json\" id=\"natlb-data\">\n"
#define COMMENT_SEP "\x1f" /* tshark's aggregator between a frame's comments: natlb writes one, so none appears */

struct lesson {
	const char *name;      /* test path and file names */
	const char *scenario;
	const char *capture;
	const char *max_views; /* --html-max-views, or NULL for the default */
};

static const struct lesson lessons[] = {
	{ .name = "napt-home", .scenario = "napt-home", .capture = "pcaps/napt-home.pcap" },
	{ .name = "lb-maglev", .scenario = "lb-maglev", .capture = "pcaps/lb-spread.pcap" },
	{ .name = "alb-host-path", .scenario = "alb-host-path", .capture = "pcaps/alb-shop.pcap" },
	{ .name = "natgw-vs-s3-endpoint", .scenario = "natgw-vs-s3-endpoint", .capture = "pcaps/natgw-vs-s3-endpoint.pcap" },
	{ .name = "napt-home-first-30-views", .scenario = "napt-home", .capture = "pcaps/napt-home.pcap", .max_views = "30" },
};

static char *tmp_dir;

/* One lesson replayed: its files, the page's data, and tshark's frames. */
struct run {
	char *page, *pcapng, *tables;
	JsonParser *parser;
	JsonObject *data;
	JsonArray *steps;
	char **frame_links;    /* per frame */
	char **frame_comments; /* per frame, joined with COMMENT_SEP */
	char **frame_macs;     /* per frame: "source destination" as tshark reads eth.src and eth.dst */
	unsigned n_frames;
};

static struct run runs[G_N_ELEMENTS(lessons)];

static char *lesson_file(const struct lesson *l, const char *ext)
{
	char *base = g_strdup_printf("%s.%s", l->name, ext);
	char *path = g_build_filename(tmp_dir, base, NULL);
	g_free(base);
	return path;
}

static void tshark_frames(struct run *r)
{
	const char *argv[] = { "tshark", "-r", r->pcapng, "-T", "fields", "-E", "separator=/t", "-E",
		               "aggregator=" COMMENT_SEP, "-e", "frame.interface_name", "-e", "eth.src", "-e", "eth.dst",
		               "-e", "frame.comment", NULL };
	char *out = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
	char **lines = g_strsplit(out, "\n", -1);
	unsigned n = g_strv_length(lines);
	if (n && !*lines[n - 1])
		n--;
	r->frame_links = g_new0(char *, n + 1);
	r->frame_comments = g_new0(char *, n + 1);
	r->frame_macs = g_new0(char *, n + 1);
	for (unsigned i = 0; i < n; i++) {
		char **f = g_strsplit(lines[i], "\t", 4);
		g_assert_cmpuint(g_strv_length(f), ==, 4);
		r->frame_links[i] = g_strdup(f[0]);
		r->frame_macs[i] = g_strdup_printf("%s %s", f[1], f[2]);
		r->frame_comments[i] = g_strdup(f[3]);
		g_strfreev(f);
	}
	r->n_frames = n;
	g_strfreev(lines);
	g_free(out);
	g_free(err);
}

/* The JSON between DATA_OPEN and the next "\n</script>". */
static JsonParser *page_data(const char *page)
{
	char *html = NULL;
	GError *err = NULL;
	g_assert_true(g_file_get_contents(page, &html, NULL, &err));
	const char *from = strstr(html, DATA_OPEN);
	g_assert_nonnull(from);
	from += strlen(DATA_OPEN);
	const char *to = strstr(from, "\n</script>");
	g_assert_nonnull(to);
	JsonParser *parser = json_parser_new();
	json_parser_load_from_data(parser, from, to - from, &err);
	g_assert_no_error(err);
	g_free(html);
	return parser;
}

static struct run *lesson_run(const struct lesson *l)
{
	struct run *r = &runs[l - lessons];
	if (r->page)
		return r;
	r->page = lesson_file(l, "html");
	r->pcapng = lesson_file(l, "pcapng");
	r->tables = lesson_file(l, "json");
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", l->scenario, "--html", r->page, "--tables",
		               r->tables, "--tables-every", "change", "-o", r->pcapng, l->capture,
		               l->max_views ? "--html-max-views" : NULL, l->max_views, NULL };
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	if (rc != 0)
		g_printerr("%s", err);
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
	r->parser = page_data(r->page);
	r->data = json_node_get_object(json_parser_get_root(r->parser));
	g_assert_cmpstr(json_object_get_string_member(r->data, "format"), ==, "natlb-page");
	r->steps = json_object_get_array_member(r->data, "steps");
	tshark_frames(r);
	return r;
}

static JsonObject *step_at(const struct run *r, unsigned i)
{
	return json_array_get_object_element(r->steps, i);
}

/* A step's comment as the pcapng has it: its flow, then its notes, joined with " | ". */
static char *step_comments(JsonObject *step)
{
	JsonArray *notes = json_object_get_array_member(step, "notes");
	GString *s = g_string_new(NULL);
	g_string_printf(s, "flow #%" G_GINT64_FORMAT, json_object_get_int_member(step, "flow"));
	for (guint k = 0; k < json_array_get_length(notes); k++)
		g_string_append_printf(s, " | %s", json_array_get_string_element(notes, k));
	return g_string_free(s, FALSE);
}

static const char *link_name(const struct run *r, gint64 link)
{
	JsonArray *links = json_object_get_array_member(r->data, "links");
	return json_object_get_string_member(json_array_get_object_element(links, (guint)link), "name");
}

/* ---- the page's data ---------------------------------------------------------------------------- */

static void test_one_step_per_frame(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct lesson *l = data;
	struct run *r = lesson_run(l);
	JsonObject *limits = json_object_get_object_member(r->data, "limits");
	unsigned n = json_array_get_length(r->steps);

	g_assert_cmpuint(r->n_frames, >, 0);
	g_assert_cmpint(json_object_get_int_member(limits, "views"), ==, r->n_frames);
	g_assert_cmpuint(n, ==, l->max_views ? MIN(r->n_frames, (unsigned)atoi(l->max_views)) : r->n_frames);
	g_assert_cmpint(json_object_get_int_member(limits, "steps"), ==, n);
	for (unsigned i = 0; i < n; i++) {
		JsonObject *step = step_at(r, i);
		char *comments = step_comments(step);
		g_assert_cmpint(json_object_get_int_member(step, "n"), ==, i + 1);
		g_assert_cmpstr(link_name(r, json_object_get_int_member(step, "link")), ==, r->frame_links[i]);
		g_assert_cmpstr(comments, ==, r->frame_comments[i]);
		g_free(comments);
		/* The page shows the MACs a router wrote, as Wireshark reads them. */
		char *macs = g_strdup_printf("%s %s", json_object_get_string_member_with_default(step, "esrc", ""),
		                             json_object_get_string_member_with_default(step, "edst", ""));
		g_assert_cmpstr(macs, ==, r->frame_macs[i]);
		g_free(macs);
	}
}

/* The text `natlb tables --at` prints, rebuilt from the page's snapshot. */
static char *snapshot_text(JsonObject *snap)
{
	GString *s = g_string_new(json_object_get_string_member(snap, "head"));
	g_string_append_c(s, '\n');
	if (json_object_has_member(snap, "note"))
		g_string_append_printf(s, "%s\n", json_object_get_string_member(snap, "note"));
	JsonArray *stages = json_object_get_array_member(snap, "stages");
	for (guint i = 0; i < json_array_get_length(stages); i++) {
		JsonObject *st = json_array_get_object_element(stages, i);
		JsonArray *rows = json_object_get_array_member(st, "rows");
		g_string_append_printf(s, "%s\n", json_object_get_string_member(st, "head"));
		for (guint k = 0; k < json_array_get_length(rows); k++)
			g_string_append_printf(s, "%s\n",
			                       json_object_get_string_member(json_array_get_object_element(rows, k), "text"));
	}
	return g_string_free(s, FALSE);
}

static void test_tables_at_each_step(gconstpointer data)
{
	TEST_NEED_TSHARK();
	struct run *r = lesson_run(data);
	JsonArray *snaps = json_object_get_array_member(r->data, "snapshots");
	JsonObject *limits = json_object_get_object_member(r->data, "limits");
	unsigned n = json_array_get_length(r->steps), compared = 0;
	gint64 until = json_object_has_member(limits, "tables_until") ? json_object_get_int_member(limits, "tables_until") : n;
	gint64 last = -2;

	g_assert_cmpuint(json_array_get_length(snaps), >, 0);
	for (unsigned i = 0; i < n; i++) {
		JsonObject *step = step_at(r, i);
		gint64 snap = json_object_get_int_member(step, "snap");
		/* Where the page's table changes, and at the last step with tables. */
		if (snap == last && i + 1 != (unsigned)until)
			continue;
		last = snap;
		if (i >= (unsigned)until) {
			g_assert_cmpint(snap, ==, -1);
			break;
		}
		const char *at = json_object_get_string_member(step, "at");
		const char *argv[] = { test_natlb_binary(), "tables", r->tables, "--at", at, NULL };
		char *out = NULL, *err = NULL;
		int rc = test_run(argv, &out, &err);
		if (snap < 0) {
			g_assert_cmpint(rc, ==, 1); /* no snapshot yet at that time */
		} else {
			char *want = snapshot_text(json_array_get_object_element(snaps, (guint)snap));
			g_assert_cmpint(rc, ==, 0);
			g_assert_cmpstr(want, ==, out);
			g_free(want);
			compared++;
		}
		g_free(out);
		g_free(err);
	}
	g_assert_cmpuint(compared, >, 0);
}

static void test_events_are_natlb_tables_events(gconstpointer data)
{
	TEST_NEED_TSHARK();
	struct run *r = lesson_run(data);
	JsonArray *events = json_object_get_array_member(r->data, "events");
	const char *argv[] = { test_natlb_binary(), "tables", r->tables, "--events", NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	char **lines = g_strsplit(out, "\n", -1);
	unsigned n_lines = g_strv_length(lines) - 1, on_steps = 0;

	if (json_array_get_length(events) == 0)
		g_assert_cmpstr(out, ==, "# no events\n");
	else
		g_assert_cmpuint(json_array_get_length(events), ==, n_lines);
	for (guint e = 0; e < json_array_get_length(events); e++) {
		JsonObject *ev = json_array_get_object_element(events, e);
		g_assert_cmpstr(json_object_get_string_member(ev, "text"), ==, g_strstrip(lines[e]));
		gint64 step = json_object_get_int_member(ev, "step");
		if (step < 0)
			continue;
		/* ... and it is listed on that step. */
		JsonArray *ev_of_step = json_object_get_array_member(step_at(r, (unsigned)step), "ev");
		bool listed = false;
		for (guint k = 0; k < json_array_get_length(ev_of_step); k++)
			listed = listed || json_array_get_int_element(ev_of_step, k) == e;
		g_assert_true(listed);
		on_steps++;
	}
	if (json_array_get_length(events))
		g_assert_cmpuint(on_steps, >, 0);
	g_strfreev(lines);
	g_free(out);
}

static void test_max_views_says_so(void)
{
	TEST_NEED_TSHARK();
	const struct lesson *l = &lessons[G_N_ELEMENTS(lessons) - 1];
	struct run *r = lesson_run(l);
	JsonObject *limits = json_object_get_object_member(r->data, "limits");
	g_assert_cmpuint(r->n_frames, >, 30);
	g_assert_cmpint(json_object_get_int_member(limits, "steps"), ==, 30);
	g_assert_cmpint(json_object_get_int_member(limits, "max_views"), ==, 30);
	g_assert_cmpint(json_object_get_int_member(limits, "tables_until"), <=, 30);
}

/* "SRC:PORT" or "DST:PORT" of a step (field "src" or "dst"); NULL without ports. */
static char *endpoint_of(JsonObject *step, const char *field)
{
	const char *port = strcmp(field, "src") == 0 ? "sp" : "dp";
	if (!json_object_has_member(step, port))
		return NULL;
	return g_strdup_printf("%s:%" G_GINT64_FORMAT, json_object_get_string_member(step, field),
	                       json_object_get_int_member(step, port));
}

/* A ladder draws one flow: every view of a packet is in its flow, and for a full proxy the
 * backend connections a client's requests opened are in that client's flow, and no other
 * client's. */
static void test_flows_join_what_a_ladder_draws(gconstpointer data)
{
	TEST_NEED_TSHARK();
	struct run *r = lesson_run(data);
	unsigned n = json_array_get_length(r->steps), backend_views = 0;
	GHashTable *flow_of_journey = g_hash_table_new(g_int64_hash, g_int64_equal);
	GHashTable *flow_of_client = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	gint64 *journeys = g_new(gint64, n ? n : 1);

	for (unsigned i = 0; i < n; i++) {
		JsonObject *step = step_at(r, i);
		gint64 flow = json_object_get_int_member(step, "flow");
		journeys[i] = json_object_get_int_member(step, "j");
		gpointer seen = g_hash_table_lookup(flow_of_journey, &journeys[i]);
		if (seen)
			g_assert_cmpint(GPOINTER_TO_INT(seen), ==, flow);
		else
			g_hash_table_insert(flow_of_journey, &journeys[i], GINT_TO_POINTER((int)flow));
		/* A client's own packets on the capture link (the internet side of the chain). */
		if (json_object_get_int_member(step, "link") == 0 && json_object_has_member(step, "sp")) {
			bool from_client = json_object_get_int_member(step, "dp") == 80;
			char *client = from_client ? endpoint_of(step, "src") : endpoint_of(step, "dst");
			g_hash_table_insert(flow_of_client, client, GINT_TO_POINTER((int)flow));
		}
	}
	for (unsigned i = 0; i < n; i++) {
		JsonArray *notes = json_object_get_array_member(step_at(r, i), "notes");
		for (guint k = 0; k < json_array_get_length(notes); k++) {
			const char *client = strstr(json_array_get_string_element(notes, k), " for client ");
			if (!client)
				continue;
			char *endpoint = g_strndup(client + strlen(" for client "), strcspn(client + strlen(" for client "), ": "));
			const char *port = client + strlen(" for client ") + strlen(endpoint) + 1;
			char *key = g_strdup_printf("%s:%d", endpoint, atoi(port));
			g_assert_true(g_hash_table_contains(flow_of_client, key));
			g_assert_cmpint(GPOINTER_TO_INT(g_hash_table_lookup(flow_of_client, key)), ==,
			                json_object_get_int_member(step_at(r, i), "flow"));
			backend_views++;
			g_free(key);
			g_free(endpoint);
		}
	}
	if (strcmp(((const struct lesson *)data)->name, "alb-host-path") == 0) {
		g_assert_cmpuint(backend_views, >, 0);
		/* ... and each client is a flow of its own. */
		GHashTable *flows = g_hash_table_new(g_direct_hash, g_direct_equal);
		GHashTableIter it;
		gpointer flow;
		g_hash_table_iter_init(&it, flow_of_client);
		while (g_hash_table_iter_next(&it, NULL, &flow))
			g_hash_table_add(flows, flow);
		g_assert_cmpuint(g_hash_table_size(flows), ==, g_hash_table_size(flow_of_client));
		g_hash_table_destroy(flows);
	}
	g_free(journeys);
	g_hash_table_destroy(flow_of_client);
	g_hash_table_destroy(flow_of_journey);
}

/* Self-contained: outside its data, the page names nothing to load (no src, no link, no url(),
 * no fetch); the one address in it is the SVG namespace, which is a name, not a fetch. */
static void test_page_fetches_nothing(gconstpointer data)
{
	TEST_NEED_TSHARK();
	struct run *r = lesson_run(data);
	char *html = NULL;
	g_assert_true(g_file_get_contents(r->page, &html, NULL, NULL));
	char *from = strstr(html, DATA_OPEN), *to = from ? strstr(from, "\n</script>") : NULL;
	g_assert_nonnull(to);
	memmove(from, to, strlen(to) + 1); /* the data out: what is left is the page's own text */
	static const char *const loads[] = { " src=", "<link", "url(", "@import", "fetch(", "XMLHttpRequest", "<iframe",
		                             "import(", NULL };
	for (const char *const *l = loads; *l; l++)
		g_assert_null(strstr(html, *l));
	unsigned http = 0, namespace = 0;
	for (const char *p = html; (p = strstr(p, "http")); p++)
		http += g_str_has_prefix(p, "http://") || g_str_has_prefix(p, "https://");
	for (const char *p = html; (p = strstr(p, "'http://www.w3.org/2000/svg'")); p++)
		namespace++;
	g_assert_cmpuint(namespace, ==, 1);
	g_assert_cmpuint(http, ==, namespace);
	g_free(html);
}

/* ---- in a browser ------------------------------------------------------------------------------ */

static char *chromium_path(void)
{
	return g_find_program_in_path("chromium");
}

/* The DOM after the page's script ran, at the URL fragment given. */
static char *chromium_dom(const char *page, const char *fragment)
{
	char *chromium = chromium_path();
	char *profile = g_build_filename(tmp_dir, "chromium-profile", NULL);
	char *profile_arg = g_strconcat("--user-data-dir=", profile, NULL);
	char *url = g_strdup_printf("file://%s%s", page, fragment);
	const char *argv[] = { "timeout", "120", chromium, "--no-sandbox", "--headless", "--disable-gpu", profile_arg,
		               "--dump-dom", url, NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	g_free(url);
	g_free(profile_arg);
	g_free(profile);
	g_free(chromium);
	return out;
}

#define NEEDS_CHROMIUM()                                                                            \
	do {                                                                                        \
		char *c_ = chromium_path();                                                         \
		g_free(c_);                                                                         \
		if (!c_) {                                                                          \
			g_test_skip("chromium is not installed (make deps installs it): browser test skipped"); \
			return;                                                                     \
		}                                                                                   \
	} while (0)

/* Text as the DOM serialiser writes it between tags. */
static char *dom_text(const char *s)
{
	GString *out = g_string_new(NULL);
	for (; *s; s++)
		switch (*s) {
		case '&': g_string_append(out, "&amp;"); break;
		case '<': g_string_append(out, "&lt;"); break;
		case '>': g_string_append(out, "&gt;"); break;
		default: g_string_append_c(out, *s);
		}
	return g_string_free(out, FALSE);
}

static unsigned count(const char *hay, const char *needle)
{
	/* The page's script is in the DOM too: count in what it drew, before the first <script>. */
	const char *end = strstr(hay, "<script");
	char *drawn = end ? g_strndup(hay, end - hay) : g_strdup(hay);
	hay = drawn;
	unsigned n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	g_free(drawn);
	return n;
}

/* The first step that created or changed an entry still in its table: where the highlighted row
 * must be; *text is that row's line. */
static unsigned step_with_touched_row(const struct run *r, const char **text)
{
	JsonArray *events = json_object_get_array_member(r->data, "events");
	JsonArray *snaps = json_object_get_array_member(r->data, "snapshots");
	for (unsigned i = 0; i < json_array_get_length(r->steps); i++) {
		JsonObject *step = step_at(r, i);
		JsonArray *ev = json_object_get_array_member(step, "ev");
		gint64 snap = json_object_get_int_member(step, "snap");
		for (guint k = 0; snap >= 0 && k < json_array_get_length(ev); k++) {
			JsonObject *e = json_array_get_object_element(events, (guint)json_array_get_int_element(ev, k));
			if (!json_object_has_member(e, "id"))
				continue;
			JsonArray *stages = json_object_get_array_member(json_array_get_object_element(snaps, (guint)snap), "stages");
			for (guint s = 0; s < json_array_get_length(stages); s++) {
				JsonObject *st = json_array_get_object_element(stages, s);
				JsonArray *rows = json_object_get_array_member(st, "rows");
				if (strcmp(json_object_get_string_member(st, "name"), json_object_get_string_member(e, "stage")))
					continue;
				for (guint w = 0; w < json_array_get_length(rows); w++) {
					JsonObject *row = json_array_get_object_element(rows, w);
					if (json_object_get_int_member(row, "id") == json_object_get_int_member(e, "id")) {
						*text = json_object_get_string_member(row, "text");
						return i;
					}
				}
			}
		}
	}
	return G_MAXUINT;
}

static void test_browser_dom(gconstpointer data)
{
	TEST_NEED_TSHARK();
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(data);
	const char *row_text = NULL;
	unsigned i = step_with_touched_row(r, &row_text);
	g_assert_cmpuint(i, !=, G_MAXUINT);
	char *fragment = g_strdup_printf("#step=%u", i + 1);
	char *dom = chromium_dom(r->page, fragment);

	g_assert_null(strstr(dom, "id=\"script-error\""));
	/* Every link and stage of the chain, drawn. */
	JsonArray *links = json_object_get_array_member(r->data, "links");
	JsonArray *stages = json_object_get_array_member(r->data, "stages");
	g_assert_cmpuint(count(dom, "<g class=\"link"), ==, json_array_get_length(links));
	g_assert_cmpuint(count(dom, "<g class=\"stage"), ==, json_array_get_length(stages));
	for (guint k = 0; k < json_array_get_length(links); k++) {
		char *want = g_strdup_printf("data-name=\"%s\"", link_name(r, k));
		g_assert_nonnull(strstr(dom, want));
		g_free(want);
	}
	for (guint k = 0; k < json_array_get_length(stages); k++) {
		JsonObject *st = json_array_get_object_element(stages, k);
		char *want = g_strdup_printf("data-name=\"%s\"><rect", json_object_get_string_member(st, "name"));
		g_assert_nonnull(strstr(dom, want));
		g_free(want);
	}
	/* One row per step: per frame of the output. */
	g_assert_cmpuint(count(dom, "<div data-i=\""), ==, r->n_frames);
	char *current = g_strdup_printf("<div data-i=\"%u\" class=\"", i);
	const char *row = strstr(dom, current);
	g_assert_nonnull(row);
	char *classes = g_strndup(row + strlen(current), strcspn(row + strlen(current), "\""));
	char **words = g_strsplit(classes, " ", -1);
	g_assert_true(g_strv_contains((const char *const *)words, "current"));
	g_strfreev(words);
	g_free(classes);
	/* Frame N's comments, in full, in the list of sentences. */
	const char *notes = strstr(dom, "<ul class=\"notes\">");
	g_assert_nonnull(notes);
	char *notes_end = g_strndup(notes, strstr(notes, "</ul>") - notes);
	char **comments = g_strsplit(r->frame_comments[i], " | ", -1);
	g_assert_true(g_str_has_prefix(comments[0], "flow #")); /* the page names the flow elsewhere */
	for (char **c = comments + 1; *c && **c; c++) {
		char *want = dom_text(*c);
		char *item = g_strdup_printf(">%s</li>", want);
		g_assert_nonnull(strstr(notes_end, item));
		g_free(item);
		g_free(want);
	}
	/* The entry the step created or changed, highlighted in its table. */
	char *want = dom_text(row_text);
	const char *hl = strstr(dom, "<div class=\"row touched");
	g_assert_nonnull(hl);
	g_assert_true(g_str_has_prefix(strchr(hl, '>') + 1, want));
	g_free(want);
	g_strfreev(comments);
	g_free(notes_end);
	g_free(current);
	g_free(dom);
	g_free(fragment);
}

/* The previous view of step i's packet (the same journey), or G_MAXUINT. */
/* The chart of what each change of targets moved draws the figures --stats prints for it. */
static void test_changes_are_the_stats_figures(gconstpointer data)
{
	struct run *r = lesson_run(data);
	JsonObject *stats = json_object_get_object_member(r->data, "stats");
	JsonArray *stages = json_object_get_array_member(stats, "stages");
	JsonObject *nlb = json_array_get_object_element(stages, 0);
	g_assert_true(json_object_has_member(nlb, "changes"));
	JsonArray *changes = json_object_get_array_member(nlb, "changes");
	g_assert_cmpuint(json_array_get_length(changes), ==, 1);
	JsonObject *c = json_array_get_object_element(changes, 0);

	/* "event 5.000 s down T: ...\n  live flows L: N on T; the hash now picks another target for R
	 *  (..)\n  lookup: C of S slots changed" */
	const char *text = json_object_get_string_member(stats, "text");
	const char *ev = strstr(text, "    event ");
	g_assert_nonnull(ev);
	char kind[16], target[64];
	double at;
	g_assert_cmpint(sscanf(ev, " event %lf s %15s %63s", &at, kind, target), ==, 3);
	g_assert_true(g_str_has_suffix(target, ":")); /* a target is ADDRESS:PORT, then the colon */
	target[strlen(target) - 1] = '\0';
	const char *live = strstr(ev, "live flows "), *picks = strstr(ev, "another target for "),
		   *lookup = strstr(ev, "lookup: ");
	g_assert_true(live && picks && lookup);
	guint64 n_live = g_ascii_strtoull(live + strlen("live flows "), NULL, 10);
	guint64 n_remapped = g_ascii_strtoull(picks + strlen("another target for "), NULL, 10);
	unsigned changed, size;
	g_assert_cmpint(sscanf(lookup, "lookup: %u of %u slots changed", &changed, &size), ==, 2);

	g_assert_cmpfloat_with_epsilon(g_ascii_strtod(json_object_get_string_member(c, "at"), NULL), at, 0.0005);
	g_assert_cmpstr(json_object_get_string_member(c, "kind"), ==, kind);
	g_assert_cmpstr(json_object_get_string_member(c, "target"), ==, target);
	g_assert_cmpint(json_object_get_int_member(c, "live"), ==, (gint64)n_live);
	g_assert_cmpint(json_object_get_int_member(c, "remapped"), ==, (gint64)n_remapped);
	g_assert_cmpint(json_object_get_int_member(c, "changed"), ==, changed);
	g_assert_cmpint(json_object_get_int_member(c, "size"), ==, size);
	g_assert_cmpstr(json_object_get_string_member(c, "unit"), ==, "lookup slots");
	g_assert_cmpint(json_object_get_int_member(c, "ideal_num"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(c, "ideal_den"), ==, 5);
}

/* The page draws that chart: the change, both shares and the least possible one. */
static void test_browser_changes_chart(gconstpointer data)
{
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(data);
	JsonObject *stats = json_object_get_object_member(r->data, "stats");
	JsonObject *nlb = json_array_get_object_element(json_object_get_array_member(stats, "stages"), 0);
	JsonObject *c = json_array_get_object_element(json_object_get_array_member(nlb, "changes"), 0);
	char *dom = chromium_dom(r->page, "");
	char *svg_open = g_strdup_printf("data-stage=\"%s\"", json_object_get_string_member(nlb, "name"));
	g_assert_cmpuint(count(dom, "class=\"bars changes\""), ==, 1);
	g_assert_cmpuint(count(dom, svg_open), ==, 1);
	gint64 changed = json_object_get_int_member(c, "changed"), size = json_object_get_int_member(c, "size");
	char *slots = g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " (%.1f%%)", changed, size,
	                              100.0 * changed / size);
	gint64 remapped = json_object_get_int_member(c, "remapped"), live = json_object_get_int_member(c, "live");
	char *flows = g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " (%.1f%%)", remapped, live,
	                              100.0 * remapped / live);
	char *title = g_strdup_printf(": %s %s<title>", json_object_get_string_member(c, "kind"),
	                              json_object_get_string_member(c, "target"));
	g_assert_cmpuint(count(dom, slots), ==, 1);
	g_assert_cmpuint(count(dom, flows), ==, 1);
	g_assert_cmpuint(count(dom, "least possible 20.0%"), ==, 1);
	g_assert_cmpuint(count(dom, title), >=, 1);
	g_free(title);
	g_free(flows);
	g_free(slots);
	g_free(svg_open);
	g_free(dom);
}

static unsigned previous_view(const struct run *r, unsigned i)
{
	gint64 j = json_object_get_int_member(step_at(r, i), "j");
	for (unsigned k = i; k-- > 0;)
		if (json_object_get_int_member(step_at(r, k), "j") == j)
			return k;
	return G_MAXUINT;
}

/* The first step whose source or destination differs from its packet's previous view (a
 * translation): *field is "Source" or "Destination", *value the new endpoint. */
static unsigned step_with_translation(const struct run *r, const char **field, char **value)
{
	static const char *const fields[2][2] = { { "src", "Source" }, { "dst", "Destination" } };
	for (unsigned i = 0; i < json_array_get_length(r->steps); i++) {
		unsigned p = previous_view(r, i);
		for (unsigned f = 0; p != G_MAXUINT && f < 2; f++) {
			char *now = endpoint_of(step_at(r, i), fields[f][0]), *before = endpoint_of(step_at(r, p), fields[f][0]);
			bool differ = now && before && strcmp(now, before) != 0;
			g_free(before);
			if (differ) {
				*field = fields[f][1];
				*value = now;
				return i;
			}
			g_free(now);
		}
	}
	return G_MAXUINT;
}

static void test_browser_changed_fields(gconstpointer data)
{
	TEST_NEED_TSHARK();
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(data);
	const char *field = NULL;
	char *value = NULL;
	unsigned i = step_with_translation(r, &field, &value);
	g_assert_cmpuint(i, !=, G_MAXUINT);
	char *fragment = g_strdup_printf("#step=%u", i + 1);
	char *dom = chromium_dom(r->page, fragment);
	/* The translated field's row of the summary, marked as changed, with the new value. */
	char *head = g_strdup_printf("<tr><th>%s</th><td class=\"changed\"", field);
	const char *row = strstr(dom, head);
	g_assert_nonnull(row);
	char *cell_end = g_strdup_printf(">%s</td>", value);
	g_assert_true(strstr(row, cell_end) == strchr(row + strlen(head), '>'));
	/* ... and a field the translation kept (the protocol) is not. */
	g_assert_nonnull(strstr(dom, "<tr><th>Protocol</th><td class=\"\">"));
	g_free(cell_end);
	g_free(head);
	g_free(dom);
	g_free(fragment);
	g_free(value);
}

/* How many rows of the steps list carry the class word. */
static unsigned rows_with_class(const char *dom, const char *word)
{
	unsigned n = 0;
	const char *end = strstr(dom, "<script"); /* the page's script holds the row's template */
	for (const char *p = dom; (p = strstr(p, "<div data-i=\"")) && (!end || p < end); p++) {
		const char *cls = strstr(p, "class=\"");
		if (!cls || cls > strchr(p, '>'))
			continue;
		char *value = g_strndup(cls + 7, strcspn(cls + 7, "\""));
		char **words = g_strsplit(value, " ", -1);
		n += g_strv_contains((const char *const *)words, word);
		g_strfreev(words);
		g_free(value);
	}
	return n;
}

/* #words=drop keeps the steps whose comments say DROP (the filter ignores case). */
static void test_browser_words_filter(gconstpointer data)
{
	TEST_NEED_TSHARK();
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(data);
	unsigned want = 0;
	for (unsigned i = 0; i < r->n_frames; i++) {
		char *lower = g_ascii_strdown(r->frame_comments[i], -1);
		want += strstr(lower, "drop") != NULL;
		g_free(lower);
	}
	g_assert_cmpuint(want, >, 0);
	char *dom = chromium_dom(r->page, "#step=1&words=drop");
	unsigned rows = count(dom, "<div data-i=\""), hidden = rows_with_class(dom, "hidden");
	g_assert_cmpuint(rows, ==, r->n_frames);
	g_assert_cmpuint(rows - hidden, ==, want);
	char *says = g_strdup_printf("%u of %u steps match", want, r->n_frames);
	g_assert_nonnull(strstr(dom, says));
	g_free(says);
	g_free(dom);
}

/* What GMarkup saw of the saved ladder: its elements, and the arrows with a data-step. */
struct svg_seen {
	unsigned elements, arrows, styles;
	bool root_is_svg, root_has_ns;
	GHashTable *steps; /* data-step values of the arrows */
};

static void svg_start(GMarkupParseContext *ctx, const char *name, const char **attr_names, const char **attr_values,
                      gpointer data, GError **err)
{
	struct svg_seen *seen = data;
	(void)ctx;
	(void)err;
	if (seen->elements++ == 0) {
		seen->root_is_svg = strcmp(name, "svg") == 0;
		for (unsigned i = 0; attr_names[i]; i++)
			seen->root_has_ns |= strcmp(attr_names[i], "xmlns") == 0 &&
			                     strcmp(attr_values[i], "http://www.w3.org/2000/svg") == 0;
	}
	seen->styles += strcmp(name, "style") == 0;
	for (unsigned i = 0; strcmp(name, "g") == 0 && attr_names[i]; i++)
		if (strcmp(attr_names[i], "data-step") == 0) {
			seen->arrows++;
			g_hash_table_add(seen->steps, g_strdup(attr_values[i]));
		}
}

/* The text between <pre id="ID"> and </pre>, entities undone (the DOM serialiser escapes &, <, >). */
static char *pre_text(const char *dom, const char *id)
{
	char *open = g_strdup_printf("<pre id=\"%s\">", id);
	const char *at = strstr(dom, open);
	g_assert_nonnull(at);
	at += strlen(open);
	const char *end = strstr(at, "</pre>");
	g_assert_nonnull(end);
	GString *out = g_string_new(NULL);
	for (const char *p = at; p < end; p++) {
		if (*p == '&' && g_str_has_prefix(p, "&lt;")) { g_string_append_c(out, '<'); p += 3; }
		else if (*p == '&' && g_str_has_prefix(p, "&gt;")) { g_string_append_c(out, '>'); p += 3; }
		else if (*p == '&' && g_str_has_prefix(p, "&amp;")) { g_string_append_c(out, '&'); p += 4; }
		else g_string_append_c(out, *p);
	}
	g_free(open);
	return g_string_free(out, FALSE);
}

/* The file the ladder's Download SVG button saves is a standalone SVG document: well-formed XML
 * (GMarkup parses it), an <svg> root in the SVG namespace, its styles inside (a file has no page
 * style sheet), and one arrow for each arrow of the ladder on the page. */
static void test_browser_ladder_download_is_an_svg_file(gconstpointer data)
{
	TEST_NEED_TSHARK();
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(data);
	char *dom = chromium_dom(r->page, "#step=3&svg=1");
	g_assert_null(strstr(dom, "id=\"script-error\""));
	char *file = pre_text(dom, "svg-file");
	g_assert_true(g_str_has_prefix(file, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg"));
	struct svg_seen seen = { .steps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL) };
	const GMarkupParser parser = { .start_element = svg_start };
	GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &seen, NULL);
	GError *err = NULL;
	const char *body = strchr(file, '\n') + 1; /* GMarkup does not take the XML declaration */
	if (!g_markup_parse_context_parse(ctx, body, -1, &err) || !g_markup_parse_context_end_parse(ctx, &err))
		g_error("the saved ladder is not well-formed XML: %s", err->message);
	g_assert_true(seen.root_is_svg);
	g_assert_true(seen.root_has_ns);
	g_assert_cmpuint(seen.styles, ==, 1);
	/* the live ladder on the page: the same arrows */
	const char *live = strstr(dom, "id=\"ladder-svg\"");
	g_assert_nonnull(live);
	const char *live_end = strstr(live, "</svg>");
	char *live_svg = g_strndup(live, live_end - live);
	g_assert_cmpuint(seen.arrows, >, 0);
	g_assert_cmpuint(seen.arrows, ==, count(live_svg, "data-step=\""));
	g_assert_true(g_hash_table_contains(seen.steps, "3"));
	g_test_message("saved ladder: %u elements, %u arrows, %u style", seen.elements, seen.arrows, seen.styles);
	g_free(live_svg);
	g_markup_parse_context_free(ctx);
	g_hash_table_unref(seen.steps);
	g_free(file);
	g_free(dom);
}

static void test_browser_says_views_left_out(void)
{
	TEST_NEED_TSHARK();
	NEEDS_CHROMIUM();
	struct run *r = lesson_run(&lessons[G_N_ELEMENTS(lessons) - 1]);
	char *dom = chromium_dom(r->page, "#step=30");
	char *want = g_strdup_printf("The replay wrote %u views; this page keeps the first 30", r->n_frames);
	g_assert_nonnull(strstr(dom, want));
	g_assert_cmpuint(count(dom, "<div data-i=\""), ==, 30);
	g_free(want);
	g_free(dom);
}

/* A page of HTML_PAGE_DEFAULT_MAX_VIEWS steps (the benchmark capture through its NAPT): the page
 * steps 100 times forward from step 9000 and reports its own figures.  How long a step takes is
 * a figure for make bench (tools/bench.sh prints it with its goal), not a test: a loaded machine
 * would fail it. */
/* A connection of 1,000 views: the ladder draws the 400 that hold the current step, so that
 * stepping reaches every view of it, and says which ones it shows. */
static void test_browser_long_flow_ladder_follows_the_step(void)
{
	NEEDS_CHROMIUM();
	char *capture = g_build_filename(tmp_dir, "long-flow.pcap", NULL);
	char *page = g_build_filename(tmp_dir, "long-flow.html", NULL);
	char *out = g_build_filename(tmp_dir, "long-flow.pcapng", NULL);
	const char *gen[] = { test_natlb_binary(), "gen", "bench", "--packets", "500", "--flows", "1", "-o", capture, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "tools/bench-napt.ini", "--html", page, "-o", out,
		                 capture, NULL };
	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	static const struct {
		const char *fragment;
		unsigned arrows;
		const char *hint, *earlier, *later, *first, *last, *current;
	} cases[] = {
		{ "#step=1", 400, "views 1-400 of 1000 here", "<button id=\"ladder-earlier\" disabled=\"\">",
		  "<button id=\"ladder-later\">views 401-800", "data-step=\"1\"", "data-step=\"400\"",
		  "class=\"arrow current\" data-step=\"1\"" },
		{ "#step=900", 200, "views 801-1000 of 1000 here", "<button id=\"ladder-earlier\">\u2190 views 401-800",
		  "<button id=\"ladder-later\" disabled=\"\">", "data-step=\"801\"", "data-step=\"1000\"",
		  "class=\"arrow current\" data-step=\"900\"" },
	};
	for (unsigned k = 0; k < G_N_ELEMENTS(cases); k++) {
		char *dom = chromium_dom(page, cases[k].fragment);
		g_assert_cmpuint(count(dom, "class=\"arrow"), ==, cases[k].arrows);
		g_assert_cmpuint(count(dom, cases[k].hint), ==, 1);
		g_assert_cmpuint(count(dom, cases[k].earlier), ==, 1);
		g_assert_cmpuint(count(dom, cases[k].later), ==, 1);
		g_assert_cmpuint(count(dom, cases[k].first), ==, 1);
		g_assert_cmpuint(count(dom, cases[k].last), ==, 1);
		g_assert_cmpuint(count(dom, cases[k].current), ==, 1);
		g_free(dom);
	}
	g_free(out);
	g_free(page);
	g_free(capture);
}

static void test_browser_stepping_is_quick(void)
{
	NEEDS_CHROMIUM();
	char *capture = g_build_filename(tmp_dir, "bench.pcap", NULL);
	char *page = g_build_filename(tmp_dir, "bench.html", NULL);
	char *out = g_build_filename(tmp_dir, "bench.pcapng", NULL);
	const char *gen[] = { test_natlb_binary(), "gen", "bench", "--packets", "12000", "--flows", "3000", "-o", capture, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "tools/bench-napt.ini", "--html", page, "-o", out,
		                 capture, NULL };
	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	char *dom = chromium_dom(page, "#step=9000&bench=100");
	const char *figures = strstr(dom, "<pre id=\"bench\">");
	g_assert_nonnull(figures);
	unsigned steps = 0, of = 0;
	double max_ms = 0, median_ms = 0;
	g_assert_cmpint(sscanf(figures + strlen("<pre id=\"bench\">"), "steps %u max_ms %lf median_ms %lf of %u", &steps,
	                       &max_ms, &median_ms, &of), ==, 4);
	g_test_message("stepping at %u steps: median %.2f ms, max %.2f ms over %u steps", of, median_ms, max_ms, steps);
	g_assert_cmpuint(of, ==, HTML_PAGE_DEFAULT_MAX_VIEWS);
	g_assert_cmpuint(steps, ==, 100);
	g_assert_cmpfloat(median_ms, >, 0.0);
	g_assert_cmpfloat(max_ms, >=, median_ms);
	g_free(dom);
	g_free(out);
	g_free(page);
	g_free(capture);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	for (unsigned i = 0; i + 1 < G_N_ELEMENTS(lessons); i++) {
		const struct lesson *l = &lessons[i];
		char *p = g_strdup_printf("/html-page/%s/one-step-per-frame-on-its-link-with-its-comments-and-macs", l->name);
		g_test_add_data_func(p, l, test_one_step_per_frame);
		g_free(p);
		p = g_strdup_printf("/html-page/%s/tables-at-each-step-are-natlb-tables-at-its-time", l->name);
		g_test_add_data_func(p, l, test_tables_at_each_step);
		g_free(p);
		p = g_strdup_printf("/html-page/%s/events-are-natlb-tables-events-on-their-steps", l->name);
		g_test_add_data_func(p, l, test_events_are_natlb_tables_events);
		g_free(p);
		p = g_strdup_printf("/html-page/%s/a-flow-holds-every-view-of-its-packets-and-proxy-connections", l->name);
		g_test_add_data_func(p, l, test_flows_join_what_a_ladder_draws);
		g_free(p);
		if (i < 3) {
			p = g_strdup_printf("/html-page/browser/%s/dom-holds-chain-steps-frame-comments-and-highlighted-row",
			                    l->name);
			g_test_add_data_func(p, l, test_browser_dom);
			g_free(p);
			/* A full proxy sends packets of its own: no packet of alb-host-path has two views. */
			if (strcmp(l->name, "alb-host-path") != 0) {
				p = g_strdup_printf("/html-page/browser/%s/a-translated-field-is-marked-changed", l->name);
				g_test_add_data_func(p, l, test_browser_changed_fields);
				g_free(p);
			}
		}
	}
	const struct lesson *capped = &lessons[G_N_ELEMENTS(lessons) - 1];
	g_test_add_data_func("/html-page/max-views/one-step-per-kept-frame", capped, test_one_step_per_frame);
	g_test_add_data_func("/html-page/max-views/tables-stop-where-the-steps-stop", capped, test_tables_at_each_step);
	g_test_add_func("/html-page/max-views/the-data-says-how-many-were-kept", test_max_views_says_so);
	g_test_add_data_func("/html-page/napt-home/the-page-fetches-nothing", &lessons[0], test_page_fetches_nothing);
	g_test_add_data_func("/html-page/lb-maglev/each-target-change-carries-what-stats-says-it-moved", &lessons[1],
	                     test_changes_are_the_stats_figures);
	g_test_add_data_func("/html-page/browser/lb-maglev/a-chart-shows-what-each-target-change-moved", &lessons[1],
	                     test_browser_changes_chart);
	g_test_add_func("/html-page/browser/max-views/the-page-says-views-were-left-out", test_browser_says_views_left_out);
	g_test_add_data_func("/html-page/browser/napt-home/the-ladder-download-is-a-standalone-svg-file", &lessons[0],
	                     test_browser_ladder_download_is_an_svg_file);
	g_test_add_data_func("/html-page/browser/alb-host-path/the-ladder-download-is-a-standalone-svg-file", &lessons[2],
	                     test_browser_ladder_download_is_an_svg_file);
	g_test_add_data_func("/html-page/browser/napt-home/words-filter-keeps-the-steps-that-say-drop", &lessons[0],
	                     test_browser_words_filter);
	g_test_add_func("/html-page/browser/a-long-flow-ladder-shows-the-400-views-around-the-step",
	                test_browser_long_flow_ladder_follows_the_step);
	g_test_add_func("/html-page/browser/stepping-at-20000-steps-reports-its-timing", test_browser_stepping_is_quick);
	int rc = g_test_run();
	for (unsigned i = 0; i < G_N_ELEMENTS(runs); i++)
		if (runs[i].parser) {
			g_object_unref(runs[i].parser);
			g_strfreev(runs[i].frame_links);
			g_strfreev(runs[i].frame_comments);
			g_strfreev(runs[i].frame_macs);
			g_free(runs[i].page);
			g_free(runs[i].pcapng);
			g_free(runs[i].tables);
		}
	char *profile = g_build_filename(tmp_dir, "chromium-profile", NULL);
	char *rm[] = { "rm", "-rf", profile, NULL };
	g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
	g_free(profile);
	test_rmdir(tmp_dir);
	return rc;
}
