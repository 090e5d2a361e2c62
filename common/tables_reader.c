/* common/tables_reader.c: reading a --tables document back and printing it like conntrack -L (natlb tables).
 *
 * Follows the format written by common/tables_writer.c (layout in common/tables_writer.h) and conntrack(8)'s
 * listing format.  json-glib parses; every member the printers use is then checked here for
 * presence, type and range, once.  json-glib's parser is recursive, so the nesting depth is
 * checked first, on the raw bytes: a file of a million '[' must be an error, not a crash.
 */
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "common/addr.h"
#include "common/json_depth.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tables_reader.h"

G_DEFINE_QUARK(natlb-tables-file-error-quark, tables_file_error)

#define TABLES_MAX_DEPTH 32 /* the format needs 6 */

struct parse {
	const char *source;
	GString *where;        /* the place being checked: "record 12: stages[0].rows[3]" */
	struct table_file *tf;
	GError **err;
};

static bool fail(struct parse *ps, const char *member, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool fail(struct parse *ps, const char *member, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* Messages quote the file's own strings: keep them on one line and short. */
	if (strlen(msg) > 240)
		strcpy(msg + 236, "...");
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	const char *sep = ps->where->len && member && ps->where->str[ps->where->len - 1] != ' ' ? "." : "";
	g_set_error(ps->err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_FORMAT, "%s: %s%s%s%s%s", ps->source, ps->where->str,
	            member ? sep : "", member ? member : "", ps->where->len || member ? ": " : "", msg);
	g_free(msg);
	return false;
}

/* Descend into a member or an element for messages; returns the mark to truncate back to. */
static gsize push(struct parse *ps, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gsize push(struct parse *ps, const char *fmt, ...)
{
	gsize mark = ps->where->len;
	va_list ap;
	if (mark && ps->where->str[mark - 1] != ' ' && fmt[0] != '[')
		g_string_append_c(ps->where, '.');
	va_start(ap, fmt);
	g_string_append_vprintf(ps->where, fmt, ap);
	va_end(ap);
	return mark;
}

static JsonNode *member(struct parse *ps, JsonObject *o, const char *name, bool optional)
{
	JsonNode *n = json_object_get_member(o, name);
	if (!n && !optional)
		fail(ps, name, "missing");
	return n;
}

static bool get_int(struct parse *ps, JsonObject *o, const char *name, int64_t min, int64_t max, int64_t *out)
{
	JsonNode *n = member(ps, o, name, false);
	if (!n)
		return false;
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
	    json_node_get_int(n) < min || json_node_get_int(n) > max)
		return fail(ps, name, "an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, min, max);
	*out = json_node_get_int(n);
	return true;
}

/* A string member, kept in the file's string chunk; null allowed when nullable (*out NULL). */
static bool get_string(struct parse *ps, JsonObject *o, const char *name, bool nullable, const char **out)
{
	JsonNode *n = member(ps, o, name, false);
	if (!n)
		return false;
	if (nullable && JSON_NODE_HOLDS_NULL(n)) {
		*out = NULL;
		return true;
	}
	if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
		return fail(ps, name, nullable ? "a string or null" : "a string");
	/* The printers write these to a terminal: no control characters (natlb never writes any). */
	for (const char *c = json_node_get_string(n); *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(ps, name, "a string without control characters");
	*out = g_string_chunk_insert_const(ps->tf->text, json_node_get_string(n));
	return true;
}

static bool get_object(struct parse *ps, JsonObject *o, const char *name, JsonObject **out)
{
	JsonNode *n = member(ps, o, name, false);
	if (!n)
		return false;
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return fail(ps, name, "an object");
	*out = json_node_get_object(n);
	return true;
}

static bool get_array(struct parse *ps, JsonObject *o, const char *name, JsonArray **out)
{
	JsonNode *n = member(ps, o, name, false);
	if (!n)
		return false;
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return fail(ps, name, "an array");
	*out = json_node_get_array(n);
	return true;
}

/* "src"/"dst" dotted quads, "sport"/"dport" 0..65535. */
static bool parse_tuple(struct parse *ps, JsonObject *row, const char *name, struct flow_tuple *t)
{
	JsonObject *o = NULL;
	const char *src = NULL, *dst = NULL;
	int64_t sport, dport;
	bool ok = false;

	if (!get_object(ps, row, name, &o))
		return false;
	gsize mark = push(ps, "%s", name);
	if (get_string(ps, o, "src", false, &src) && get_string(ps, o, "dst", false, &dst) &&
	    get_int(ps, o, "sport", 0, 65535, &sport) && get_int(ps, o, "dport", 0, 65535, &dport)) {
		if (!ip4_parse(src, &t->src))
			fail(ps, "src", "'%s' is not an IPv4 address", src);
		else if (!ip4_parse(dst, &t->dst))
			fail(ps, "dst", "'%s' is not an IPv4 address", dst);
		else {
			t->sport = (uint16_t)sport;
			t->dport = (uint16_t)dport;
			ok = true;
		}
	}
	g_string_truncate(ps->where, mark);
	return ok;
}

static bool parse_pair(struct parse *ps, JsonObject *row, const char *name, uint64_t out[2])
{
	JsonArray *a;
	if (!get_array(ps, row, name, &a))
		return false;
	if (json_array_get_length(a) != 2)
		return fail(ps, name, "two counters, [left-to-right, right-to-left]");
	for (unsigned i = 0; i < 2; i++) {
		JsonNode *n = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 || json_node_get_int(n) < 0)
			return fail(ps, name, "two counters, integers from 0");
		out[i] = (uint64_t)json_node_get_int(n);
	}
	return true;
}

/* One row; its timeout is relative to now_ns and becomes an absolute expiry. */
static bool parse_row(struct parse *ps, JsonNode *node, int64_t now_ns, struct table_row *row)
{
	int64_t id, proto, timeout = 0;
	JsonObject *o;

	*row = (struct table_row){ 0 };
	if (!JSON_NODE_HOLDS_OBJECT(node))
		return fail(ps, NULL, "a row is an object");
	o = json_node_get_object(node);
	if (!get_int(ps, o, "id", 0, G_MAXINT64, &id) || !get_int(ps, o, "proto", 0, 255, &proto))
		return false;
	JsonNode *t = member(ps, o, "timeout_ns", false);
	if (!t)
		return false;
	if (JSON_NODE_HOLDS_NULL(t))
		row->expires_ns = INT64_MAX;
	else if (!get_int(ps, o, "timeout_ns", 0, G_MAXINT64 - now_ns, &timeout))
		return false;
	else
		row->expires_ns = now_ns + timeout;
	row->id = (uint64_t)id;
	row->proto = (uint8_t)proto;
	return get_string(ps, o, "state", false, &row->state) && parse_tuple(ps, o, "orig", &row->orig) &&
	       parse_tuple(ps, o, "reply", &row->reply) && get_string(ps, o, "flags", false, &row->flags) &&
	       parse_pair(ps, o, "packets", row->packets) && parse_pair(ps, o, "bytes", row->bytes);
}

static bool parse_event(struct parse *ps, JsonObject *o, int64_t ts, struct table_file_event *ev)
{
	const char *kind;
	JsonNode *row;

	ev->ts_ns = ts;
	if (!get_string(ps, o, "stage", false, &ev->stage) || !get_string(ps, o, "event", false, &kind) ||
	    !get_string(ps, o, "why", true, &ev->why) || !(row = member(ps, o, "row", false)))
		return false;
	ev->kind = TABLE_EVENT_N;
	for (unsigned k = 0; k < TABLE_EVENT_N; k++)
		if (strcmp(kind, table_event_name(k)) == 0)
			ev->kind = k;
	if (ev->kind == TABLE_EVENT_N)
		return fail(ps, "event", "'%s' is not an event natlb records (created, refreshed, expired, ...)", kind);
	ev->has_row = !JSON_NODE_HOLDS_NULL(row);
	if (!ev->has_row)
		return true;
	gsize mark = push(ps, "row");
	bool ok = parse_row(ps, row, ts, &ev->row);
	g_string_truncate(ps->where, mark);
	return ok;
}

static bool parse_snapshot(struct parse *ps, JsonObject *o, int64_t ts, struct table_snapshot *snap)
{
	JsonArray *stages;

	snap->ts_ns = ts;
	if (!get_string(ps, o, "why", false, &snap->why) || !get_array(ps, o, "stages", &stages))
		return false;
	snap->n_stages = json_array_get_length(stages);
	snap->stages = g_new0(struct table_file_stage, snap->n_stages);
	for (unsigned i = 0; i < snap->n_stages; i++) {
		struct table_file_stage *st = &snap->stages[i];
		JsonNode *n = json_array_get_element(stages, i);
		JsonArray *rows;
		gsize mark = push(ps, "stages[%u]", i);

		if (!JSON_NODE_HOLDS_OBJECT(n))
			return fail(ps, NULL, "an object");
		JsonObject *so = json_node_get_object(n);
		if (!get_string(ps, so, "name", false, &st->name) || !get_string(ps, so, "type", false, &st->type) ||
		    !get_array(ps, so, "rows", &rows))
			return false;
		for (unsigned j = 0; j < i; j++)
			if (strcmp(snap->stages[j].name, st->name) == 0)
				return fail(ps, "name", "stage '%s' appears twice in one snapshot", st->name);
		st->n_rows = json_array_get_length(rows);
		st->rows = g_new0(struct table_row, st->n_rows);
		for (unsigned r = 0; r < st->n_rows; r++) {
			gsize rmark = push(ps, "rows[%u]", r);
			if (!parse_row(ps, json_array_get_element(rows, r), ts, &st->rows[r]))
				return false;
			g_string_truncate(ps->where, rmark);
		}
		g_string_truncate(ps->where, mark);
	}
	return true;
}

static bool parse_document(struct parse *ps, JsonNode *root)
{
	struct table_file *tf = ps->tf;
	JsonObject *doc;
	JsonArray *records;
	const char *format;
	int64_t version, start, end, n_events, n_snapshots;

	if (!JSON_NODE_HOLDS_OBJECT(root))
		return fail(ps, NULL, "not a natlb tables file (written by natlb replay --tables)");
	doc = json_node_get_object(root);
	JsonNode *f = json_object_get_member(doc, "format");
	if (!f || !JSON_NODE_HOLDS_VALUE(f) || json_node_get_value_type(f) != G_TYPE_STRING ||
	    strcmp(json_node_get_string(f), "natlb-tables") != 0)
		return fail(ps, NULL, "not a natlb tables file (written by natlb replay --tables)");
	if (!get_string(ps, doc, "format", false, &format) || !get_int(ps, doc, "version", 0, G_MAXINT64, &version))
		return false;
	if (version != 1)
		return fail(ps, "version", "version %" G_GINT64_FORMAT " is not one this natlb reads (1)", version);
	if (!get_string(ps, doc, "scenario", true, &tf->scenario) ||
	    !get_string(ps, doc, "schedule", false, &tf->schedule) ||
	    !get_int(ps, doc, "start_ns", 0, G_MAXINT64, &start) || !get_int(ps, doc, "end_ns", start, G_MAXINT64, &end) ||
	    !get_int(ps, doc, "events", 0, G_MAXUINT32, &n_events) ||
	    !get_int(ps, doc, "snapshots", 0, G_MAXUINT32, &n_snapshots) || !get_array(ps, doc, "records", &records))
		return false;
	tf->start_ns = start;
	tf->end_ns = end;

	unsigned n = json_array_get_length(records);
	if ((int64_t)n != n_events + n_snapshots)
		return fail(ps, "records", "%u records, but the file says %" G_GINT64_FORMAT " events and %" G_GINT64_FORMAT
		            " snapshots (cut or edited?)", n, n_events, n_snapshots);
	tf->events = g_new0(struct table_file_event, n_events);
	tf->snapshots = g_new0(struct table_snapshot, n_snapshots);
	for (unsigned i = 0; i < n; i++) {
		JsonNode *rn = json_array_get_element(records, i);
		const char *type;
		int64_t ts;

		g_string_printf(ps->where, "record %u: ", i + 1);
		if (!JSON_NODE_HOLDS_OBJECT(rn))
			return fail(ps, NULL, "a record is an object");
		JsonObject *ro = json_node_get_object(rn);
		if (!get_string(ps, ro, "type", false, &type) || !get_int(ps, ro, "ts_ns", start, end, &ts))
			return false;
		if (strcmp(type, "event") == 0) {
			if (tf->n_events == n_events)
				return fail(ps, "type", "more events than the file says (%" G_GINT64_FORMAT ")", n_events);
			if (!parse_event(ps, ro, ts, &tf->events[tf->n_events++]))
				return false;
		} else if (strcmp(type, "snapshot") == 0) {
			if (tf->n_snapshots == n_snapshots)
				return fail(ps, "type", "more snapshots than the file says (%" G_GINT64_FORMAT ")", n_snapshots);
			/* Counted before parsing, so that table_file_free() frees what was allocated. */
			if (!parse_snapshot(ps, ro, ts, &tf->snapshots[tf->n_snapshots++]))
				return false;
		} else {
			return fail(ps, "type", "'%s': a record is an \"event\" or a \"snapshot\"", type);
		}
	}
	g_string_truncate(ps->where, 0);
	if (tf->n_snapshots == 0)
		return fail(ps, "records", "no snapshot (a replay always writes one at the end)");
	return true;
}

struct table_file *table_file_parse(const char *source, const char *data, size_t len, GError **err)
{
	struct table_file *tf = g_new0(struct table_file, 1);
	struct parse ps = { .source = source, .where = g_string_new(NULL), .tf = tf, .err = err };
	JsonParser *parser = NULL;
	GError *jerr = NULL;
	bool ok = false;

	tf->source = g_strdup(source);
	tf->text = g_string_chunk_new(4096);
	if (len > G_MAXSSIZE) {
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_READ, "%s: too large", source);
		goto out;
	}
	if (len == 0) {
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_SYNTAX, "%s: empty file, not JSON", source);
		goto out;
	}
	if (!json_depth_ok(data, len, TABLES_MAX_DEPTH)) {
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_SYNTAX,
		            "%s: not a natlb tables file (arrays or objects nested more than %d deep)", source,
		            TABLES_MAX_DEPTH);
		goto out;
	}
	parser = json_parser_new_immutable();
	if (!json_parser_load_from_data(parser, data, (gssize)len, &jerr)) {
		/* json-glib says "<data>:LINE:COLUMN: Parse error: ..."; name the file instead.  The
		 * message quotes the offending token, which may hold a newline or be huge: one short line. */
		const char *msg = jerr->message;
		if (g_str_has_prefix(msg, "<data>:"))
			msg += strlen("<data>:");
		char *line = g_strndup(msg, 160);
		for (char *c = line; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = ' ';
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_SYNTAX, "%s:%s%s%s", source,
		            msg == jerr->message ? " not JSON: " : "", line, strlen(msg) > 160 ? "..." : "");
		g_free(line);
		g_error_free(jerr);
		goto out;
	}
	JsonNode *root = json_parser_get_root(parser);
	if (!root) {
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_SYNTAX, "%s: empty", source);
		goto out;
	}
	ok = parse_document(&ps, root);
out:
	if (parser)
		g_object_unref(parser);
	g_string_free(ps.where, TRUE);
	if (!ok) {
		table_file_free(tf);
		return NULL;
	}
	return tf;
}

struct table_file *table_file_load(const char *path, GError **err)
{
	char *data = NULL;
	gsize len = 0;
	GError *ferr = NULL;

	if (!g_file_get_contents(path, &data, &len, &ferr)) {
		g_set_error(err, TABLES_FILE_ERROR, TABLES_FILE_ERROR_READ, "%s", ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	struct table_file *tf = table_file_parse(path, data, len, err);
	g_free(data);
	return tf;
}

void table_file_free(struct table_file *tf)
{
	if (!tf)
		return;
	for (unsigned i = 0; i < tf->n_snapshots; i++) {
		for (unsigned j = 0; j < tf->snapshots[i].n_stages; j++)
			g_free(tf->snapshots[i].stages[j].rows);
		g_free(tf->snapshots[i].stages);
	}
	g_free(tf->snapshots);
	g_free(tf->events);
	g_string_chunk_free(tf->text);
	g_free(tf->source);
	g_free(tf);
}

const struct table_snapshot *table_file_at(const struct table_file *tf, int64_t at_ns)
{
	const struct table_snapshot *best = NULL;

	for (unsigned i = 0; i < tf->n_snapshots; i++) {
		const struct table_snapshot *s = &tf->snapshots[i];
		if (table_file_rel(tf, s->ts_ns) <= at_ns && (!best || s->ts_ns >= best->ts_ns))
			best = s;
	}
	return best;
}

bool table_file_has_stage(const struct table_file *tf, const char *name)
{
	for (unsigned i = 0; i < tf->n_snapshots; i++)
		for (unsigned j = 0; j < tf->snapshots[i].n_stages; j++)
			if (strcmp(tf->snapshots[i].stages[j].name, name) == 0)
				return true;
	for (unsigned i = 0; i < tf->n_events; i++)
		if (strcmp(tf->events[i].stage, name) == 0)
			return true;
	return false;
}

/* ---- Printing ---------------------------------------------------------------------------- */

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case 0:
		return "any";
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		return "unknown";
	}
}

static void format_tuple(const struct flow_tuple *t, uint8_t proto, uint64_t packets, uint64_t bytes, GString *out)
{
	char a[16], b[16];
	g_string_append_printf(out, "src=%s dst=%s ", ip4_to_str(t->src, a), ip4_to_str(t->dst, b));
	if (proto == 1)
		g_string_append_printf(out, "id=%u ", t->sport);
	else
		g_string_append_printf(out, "sport=%u dport=%u ", t->sport, t->dport);
	g_string_append_printf(out, "packets=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT, packets, bytes);
}

void table_row_format(const struct table_row *row, int64_t now_ns, GString *out)
{
	g_string_append_printf(out, "%-8s %u ", proto_name(row->proto), row->proto);
	if (row->expires_ns == INT64_MAX)
		g_string_append(out, "never ");
	else
		g_string_append_printf(out, "%" G_GINT64_FORMAT " ", row->expires_ns > now_ns ?
		                       (row->expires_ns - now_ns) / G_GINT64_CONSTANT(1000000000) : 0);
	if (row->state && *row->state)
		g_string_append_printf(out, "%s ", row->state);
	format_tuple(&row->orig, row->proto, row->packets[DIR_LEFT_TO_RIGHT], row->bytes[DIR_LEFT_TO_RIGHT], out);
	g_string_append_c(out, ' ');
	format_tuple(&row->reply, row->proto, row->packets[DIR_RIGHT_TO_LEFT], row->bytes[DIR_RIGHT_TO_LEFT], out);
	/* Where conntrack puts [ASSURED]: the stage's own words, as it wrote them. */
	if (row->flags && *row->flags)
		g_string_append_printf(out, " %s", row->flags);
	g_string_append_printf(out, " id=%" G_GUINT64_FORMAT, row->id);
}

/* Seconds since the start, exactly: "12.500000". */
static void append_rel(GString *out, int64_t rel_ns)
{
	const char *sign = rel_ns < 0 ? "-" : "";
	uint64_t v = rel_ns < 0 ? (uint64_t)0 - (uint64_t)rel_ns : (uint64_t)rel_ns;
	g_string_append_printf(out, "%s%" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT, sign, v / 1000000000u,
	                       (v % 1000000000u) / 1000u);
}

void table_snapshot_print(const struct table_file *tf, const struct table_snapshot *snap, const char *stage,
                          GString *out)
{
	g_string_append(out, "# tables at ");
	append_rel(out, table_file_rel(tf, snap->ts_ns));
	g_string_append_printf(out, " s (%s)%s%s\n", snap->why, tf->scenario ? ", scenario " : "",
	                       tf->scenario ? tf->scenario : "");
	if (snap->n_stages == 0)
		g_string_append(out, "# no stage of this scenario keeps a table\n");
	for (unsigned i = 0; i < snap->n_stages; i++) {
		const struct table_file_stage *st = &snap->stages[i];
		if (stage && strcmp(stage, st->name) != 0)
			continue;
		g_string_append_printf(out, "# %s (%s): %u entr%s\n", st->name, st->type, st->n_rows,
		                       st->n_rows == 1 ? "y" : "ies");
		for (unsigned r = 0; r < st->n_rows; r++) {
			table_row_format(&st->rows[r], snap->ts_ns, out);
			g_string_append_c(out, '\n');
		}
	}
}

void table_file_print_events(const struct table_file *tf, const char *stage, int64_t until_ns, GString *out)
{
	unsigned shown = 0;

	for (unsigned i = 0; i < tf->n_events; i++) {
		const struct table_file_event *ev = &tf->events[i];
		if ((stage && strcmp(stage, ev->stage) != 0) || table_file_rel(tf, ev->ts_ns) > until_ns)
			continue;
		char *kind = g_ascii_strup(table_event_name(ev->kind), -1);
		GString *t = g_string_new(NULL);
		append_rel(t, table_file_rel(tf, ev->ts_ns));
		g_string_append_printf(out, "%12s [%s] %s: ", t->str, kind, ev->stage);
		g_string_free(t, TRUE);
		g_free(kind);
		if (ev->has_row)
			table_row_format(&ev->row, ev->ts_ns, out);
		if (ev->why)
			g_string_append_printf(out, "%s(%s)", ev->has_row ? " " : "", ev->why);
		g_string_append_c(out, '\n');
		shown++;
	}
	if (shown == 0)
		g_string_append(out, "# no events\n");
}

void table_file_print_list(const struct table_file *tf, GString *out)
{
	g_string_append_printf(out, "# %u snapshot%s (%s), %u event%s%s%s\n", tf->n_snapshots,
	                       tf->n_snapshots == 1 ? "" : "s", tf->schedule, tf->n_events, tf->n_events == 1 ? "" : "s",
	                       tf->scenario ? ", scenario " : "", tf->scenario ? tf->scenario : "");
	for (unsigned i = 0; i < tf->n_snapshots; i++) {
		const struct table_snapshot *s = &tf->snapshots[i];
		GString *t = g_string_new(NULL);
		append_rel(t, table_file_rel(tf, s->ts_ns));
		g_string_append_printf(out, "%12s s  %-12s", t->str, s->why);
		g_string_free(t, TRUE);
		for (unsigned j = 0; j < s->n_stages; j++)
			g_string_append_printf(out, "  %s: %u", s->stages[j].name, s->stages[j].n_rows);
		if (s->n_stages == 0)
			g_string_append(out, "  (no stage keeps a table)");
		g_string_append_c(out, '\n');
	}
}
