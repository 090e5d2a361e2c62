/* tools/html_page_json.c: the lesson page's data: chain, steps, flows, tables at each step, stats, as one JSON document (issue 12).
 *
 * The layout is described at the top of tools/page/page.js, which reads it.  JSON text follows
 * RFC 8259; every '<' is written \u003c (see tools/html_page.c for why).
 *
 * Built once, after the replay, from what tools/html_page.c recorded:
 * - each step's summary is decoded again from the bytes kept of its view (common/packet.c);
 * - flows: each view's "flow #N" as the replay loop numbered it (common/flow_number.h), so that
 *   the page's flow 3 is the one a Wireshark filter frame.comment contains "flow #3 |" shows;
 * - tables: the page's recorder document is read back by common/tables_reader.c, each step
 *   gets the latest snapshot at or before its time (table_file_at, as `natlb tables --at`),
 *   printed by table_snapshot_print(), and each event goes to the step that shows it: the first
 *   step at or after its time whose comments are the stage's (within a few steps), else the
 *   first step at or after its time.
 */
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/cursor.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tables_reader.h"
#include "tools/html_page.h"
#include "tools/html_page-t.h"

#define EVENT_LOOKAHEAD_STEPS 8 /* how far past its time an event looks for its stage's step */
#define HTTP_LINE_MAX 100

/* ---- JSON text -------------------------------------------------------------------------------- */

static void json_string_len(GString *out, const char *s, size_t n)
{
	g_string_append_c(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			g_string_append_c(out, '\\');
			g_string_append_c(out, (char)c);
		} else if (c == '\n') {
			g_string_append(out, "\\n");
		} else if (c < 0x20 || c == '<' || c == 0x7f) {
			g_string_append_printf(out, "\\u%04x", c);
		} else {
			g_string_append_c(out, (char)c);
		}
	}
	g_string_append_c(out, '"');
}

static void json_string(GString *out, const char *s)
{
	if (s)
		json_string_len(out, s, strlen(s));
	else
		g_string_append(out, "null");
}

/* ",\"key\":" (the comma only after the first member: first says whether this is it). */
static void json_key(GString *out, bool *first, const char *key)
{
	if (!*first)
		g_string_append_c(out, ',');
	*first = false;
	g_string_append_printf(out, "\"%s\":", key);
}

static void json_key_string(GString *out, bool *first, const char *key, const char *value)
{
	json_key(out, first, key);
	json_string(out, value);
}

static void json_key_int(GString *out, bool *first, const char *key, int64_t value)
{
	json_key(out, first, key);
	g_string_append_printf(out, "%" G_GINT64_FORMAT, value);
}

/* Seconds, with nanoseconds: what `natlb tables --at` reads back exactly. */
static void append_seconds(GString *out, int64_t ns)
{
	uint64_t v = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	g_string_append_printf(out, "\"%s%" G_GUINT64_FORMAT ".%09" G_GUINT64_FORMAT "\"", ns < 0 ? "-" : "",
	                       v / 1000000000u, v % 1000000000u);
}

/* ---- the chain ---------------------------------------------------------------------------------- */

/* The settings a teacher reads first on the drawing; the rest are one click away. */
static bool key_setting(const char *key)
{
	static const char *const keys[] = { "profile", "external", "mapping", "filtering", "map", "routes", "listen",
		                            "targets", "selection", "hash", "address", "default", "preserve-client-ip",
		                            "proxy-protocol-v2", "events", NULL };
	if (g_str_has_prefix(key, "rule.") || g_str_has_prefix(key, "target-group."))
		return true;
	return g_strv_contains(keys, key);
}

static void json_stage(GString *out, const struct stage *st)
{
	bool first = true;
	GString *d = g_string_new(NULL);
	if (st->ops->describe)
		st->ops->describe(st, d);
	char **lines = g_strsplit(d->str, "\n", -1);
	g_string_append_c(out, '{');
	json_key_string(out, &first, "name", st->name);
	json_key_string(out, &first, "type", st->ops->type);
	json_key_string(out, &first, "summary", st->ops->summary);
	for (int pass = 0; pass < 2; pass++) {
		bool first_line = true;
		json_key(out, &first, pass ? "settings" : "key");
		g_string_append_c(out, '[');
		for (char **l = lines; *l; l++) {
			if (!**l || **l == '#')
				continue;
			char *key = g_strndup(*l, strcspn(*l, " ="));
			if (pass || key_setting(key)) {
				g_string_append(out, first_line ? "" : ",");
				json_string(out, *l);
				first_line = false;
			}
			g_free(key);
		}
		g_string_append_c(out, ']');
	}
	g_string_append_c(out, '}');
	g_strfreev(lines);
	g_string_free(d, TRUE);
}

static void json_chain(const struct html_page *pg, GString *out, bool *first)
{
	const struct scenario *sc = pg->sc;
	bool f = true;
	char buf[19];

	json_key(out, first, "scenario");
	g_string_append_c(out, '{');
	json_key_string(out, &f, "source", sc->source);
	json_key_string(out, &f, "description", sc->description);
	json_key_int(out, &f, "capture", sc->capture);
	g_string_append_c(out, '}');
	json_key(out, first, "links");
	g_string_append_c(out, '[');
	for (unsigned i = 0; i < sc->n_links; i++) {
		const struct link *l = &sc->links[i];
		f = true;
		g_string_append(out, i ? ",{" : "{");
		json_key_string(out, &f, "name", l->name);
		json_key_string(out, &f, "description", l->description);
		json_key(out, &f, "networks");
		g_string_append_c(out, '[');
		for (unsigned j = 0; j < l->n_networks; j++) {
			g_string_append(out, j ? "," : "");
			json_string(out, ip4_prefix_to_str(&l->networks[j], buf));
		}
		g_string_append_c(out, ']');
		json_key(out, &f, "written");
		g_string_append(out, pg->written[i] ? "true" : "false");
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	json_key(out, first, "stages");
	g_string_append_c(out, '[');
	for (unsigned i = 0; i < sc->n_stages; i++) {
		g_string_append(out, i ? "," : "");
		json_stage(out, sc->stages[i]);
	}
	g_string_append_c(out, ']');
}

/* ---- what each view shows ------------------------------------------------------------------------ */

/* A view decoded again from the bytes kept of it. */
struct view_summary {
	struct packet p;
	bool ip;                      /* IPv4 with readable addresses */
	uint32_t seq, ack;
	bool has_seq;
	uint16_t ipsum, l4sum;
	bool has_ipsum;
};

static void summarise(const struct html_page *pg, const struct page_view *v, struct view_summary *s)
{
	memset(s, 0, sizeof *s);
	s->p.data = (uint8_t *)pg->bytes->data + v->bytes_off; /* decode_packet() never writes */
	s->p.capacity = v->bytes_len;
	s->p.caplen = v->bytes_len;
	s->p.wirelen = v->wirelen;
	s->p.linktype = v->linktype;
	s->p.ts_ns = v->ts_ns;
	decode_packet(&s->p);
	const struct ip4_view *ip = &s->p.ip;
	s->ip = s->p.l3 == L3_IPV4 && ip->hdr_len >= 20;
	if (!s->ip)
		return;
	struct cursor c;
	cur_init(&c, s->p.data, s->p.caplen);
	s->has_ipsum = cur_be16_at(&c, ip->off + 10, &s->ipsum);
	if (ip->has_l4_csum)
		cur_be16_at(&c, ip->l4_csum_off, &s->l4sum);
	if (ip->proto == IPPROTO_TCP && ip->has_l4)
		s->has_seq = cur_be32_at(&c, ip->l4_off + 4, &s->seq) && cur_be32_at(&c, ip->l4_off + 8, &s->ack);
}

static void tcp_flags(uint8_t flags, GString *out)
{
	static const char *const names[8] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	bool any = false;
	for (unsigned b = 0; b < 8; b++)
		if (flags & (1u << b)) {
			g_string_append_printf(out, "%s%s", any ? ", " : "", names[b]);
			any = true;
		}
}

static const char *proto_name(const struct view_summary *s, char buf[24])
{
	if (s->p.l3 == L3_IPV6)
		return "IPv6";
	if (s->p.l3 == L3_OTHER)
		return s->p.ethertype == 0x0806 ? "ARP" : s->p.llc ? "LLC" : (g_snprintf(buf, 24, "0x%04x", s->p.ethertype), buf);
	if (!s->ip)
		return "?";
	switch (s->p.ip.proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_ICMP: return "ICMP";
	default: g_snprintf(buf, 24, "IPv4 proto %u", s->p.ip.proto); return buf;
	}
}

/* The request or status line of an HTTP/1 message that starts in this payload; NULL. */
static bool http_line(const struct view_summary *s, GString *out)
{
	static const char *const starts[] = { "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ",
		                              "HTTP/1.", NULL };
	const struct packet *p = &s->p;
	if (!s->ip || p->payload_len == 0 || p->payload_off >= p->caplen)
		return false;
	const char *text = (const char *)p->data + p->payload_off;
	size_t n = MIN((size_t)p->payload_len, (size_t)(p->caplen - p->payload_off));
	bool http = false;
	for (const char *const *st = starts; *st && !http; st++)
		http = n >= strlen(*st) && memcmp(text, *st, strlen(*st)) == 0;
	if (!http)
		return false;
	for (size_t i = 0; i < n && i < HTTP_LINE_MAX && text[i] != '\r' && text[i] != '\n'; i++)
		g_string_append_c(out, g_ascii_isprint(text[i]) ? text[i] : '.');
	return true;
}

/* ---- tables and events -------------------------------------------------------------------------- */

/* What each step shows of the tables: snapshot numbers as the page numbers them (only the
 * snapshots some step shows are written), and the events, each given to one step. */
struct page_tables {
	const struct table_file *tf;
	int *snap_of_step;            /* index in tf->snapshots, or -1 */
	int *page_snap;               /* tf snapshot -> the page's number, or -1 when no step shows it */
	unsigned n_page_snaps;
	int *step_of_event;           /* or -1: after the page's last step with tables */
	unsigned *events_from;        /* step i's events are events_of[events_from[i] .. events_from[i + 1]) */
	unsigned *events_of;
};

/* Does one of the view's comments begin with the stage's "<type> <name>: "? */
static bool view_has_stage_note(const struct html_page *pg, const struct page_view *v, const char *prefix)
{
	const char *note = pg->notes->str + v->notes_off;
	for (unsigned i = 0; i < v->n_notes; i++, note += strlen(note) + 1)
		if (strstr(note, prefix))
			return true;
	return false;
}

static const struct stage *stage_named(const struct scenario *sc, const char *name)
{
	for (unsigned i = 0; i < sc->n_stages; i++)
		if (strcmp(sc->stages[i]->name, name) == 0)
			return sc->stages[i];
	return NULL;
}

static void events_place(const struct html_page *pg, struct page_tables *t)
{
	unsigned n = MIN(pg->views->len, pg->tables_until), p = 0;
	for (unsigned e = 0; e < t->tf->n_events; e++) {
		const struct table_file_event *ev = &t->tf->events[e];
		while (p < n && g_array_index(pg->views, struct page_view, p).ts_ns < ev->ts_ns)
			p++;
		t->step_of_event[e] = p < n ? (int)p : -1;
		const struct stage *st = stage_named(pg->sc, ev->stage);
		if (p >= n || !st || ev->kind == TABLE_EVENT_EXPIRED)
			continue;
		char *prefix = g_strdup_printf("%s %s: ", st->ops->type, st->name);
		for (unsigned q = p; q < n && q < p + EVENT_LOOKAHEAD_STEPS; q++)
			if (view_has_stage_note(pg, &g_array_index(pg->views, struct page_view, q), prefix)) {
				t->step_of_event[e] = (int)q;
				break;
			}
		g_free(prefix);
	}
}

static void page_tables_init(const struct html_page *pg, const struct table_file *tf, struct page_tables *t)
{
	unsigned n = pg->views->len;
	t->tf = tf;
	t->snap_of_step = g_new(int, n ? n : 1);
	t->page_snap = g_new(int, tf->n_snapshots ? tf->n_snapshots : 1);
	t->step_of_event = g_new(int, tf->n_events ? tf->n_events : 1);
	for (unsigned i = 0; i < tf->n_snapshots; i++)
		t->page_snap[i] = -1;
	t->n_page_snaps = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct page_view *v = &g_array_index(pg->views, struct page_view, i);
		int64_t at = table_file_rel(tf, v->ts_ns);
		const struct table_snapshot *snap = i < pg->tables_until && at >= 0 ? table_file_at(tf, at) : NULL;
		t->snap_of_step[i] = snap ? (int)(snap - tf->snapshots) : -1;
		if (snap && t->page_snap[snap - tf->snapshots] < 0)
			t->page_snap[snap - tf->snapshots] = (int)t->n_page_snaps++;
	}
	events_place(pg, t);
	t->events_from = g_new0(unsigned, n + 2);
	t->events_of = g_new(unsigned, tf->n_events ? tf->n_events : 1);
	for (unsigned e = 0; e < tf->n_events; e++)
		if (t->step_of_event[e] >= 0)
			t->events_from[t->step_of_event[e] + 2]++;
	for (unsigned i = 2; i < n + 2; i++)
		t->events_from[i] += t->events_from[i - 1];
	for (unsigned e = 0; e < tf->n_events; e++) /* counting sort: each step's events stay in time order */
		if (t->step_of_event[e] >= 0)
			t->events_of[t->events_from[t->step_of_event[e] + 1]++] = e;
}

static void page_tables_clear(struct page_tables *t)
{
	g_free(t->snap_of_step);
	g_free(t->page_snap);
	g_free(t->step_of_event);
	g_free(t->events_from);
	g_free(t->events_of);
}

static void json_tuple(GString *out, const struct flow_tuple *f)
{
	char a[16], b[16];
	g_string_append_printf(out, "[\"%s\",%u,\"%s\",%u]", ip4_to_str(f->src, a), f->sport, ip4_to_str(f->dst, b),
	                       f->dport);
}

/* One snapshot as table_snapshot_print() prints it, a line per member, each row with its id and
 * tuples for the page to find the entry a step used. */
static void json_snapshot(GString *out, const struct table_file *tf, const struct table_snapshot *snap)
{
	GString *text = g_string_new(NULL);
	table_snapshot_print(tf, snap, NULL, text);
	char **lines = g_strsplit(text->str, "\n", -1);
	char **l = lines;
	bool first = true;

	g_string_append_c(out, '{');
	json_key_string(out, &first, "head", *l ? *l++ : "");
	if (snap->n_stages == 0)
		json_key_string(out, &first, "note", *l ? *l++ : "");
	json_key(out, &first, "stages");
	g_string_append_c(out, '[');
	for (unsigned i = 0; i < snap->n_stages; i++) {
		const struct table_file_stage *st = &snap->stages[i];
		bool f = true;
		g_string_append(out, i ? ",{" : "{");
		json_key_string(out, &f, "name", st->name);
		json_key_string(out, &f, "type", st->type);
		json_key_string(out, &f, "head", *l ? *l++ : "");
		json_key(out, &f, "rows");
		g_string_append_c(out, '[');
		for (unsigned r = 0; r < st->n_rows; r++) {
			const struct table_row *row = &st->rows[r];
			bool fr = true;
			g_string_append(out, r ? ",{" : "{");
			json_key_int(out, &fr, "id", (int64_t)MIN(row->id, (uint64_t)G_MAXINT64));
			json_key_string(out, &fr, "text", *l ? *l++ : "");
			json_key(out, &fr, "orig");
			json_tuple(out, &row->orig);
			json_key(out, &fr, "reply");
			json_tuple(out, &row->reply);
			g_string_append_c(out, '}');
		}
		g_string_append(out, "]}");
	}
	g_string_append(out, "]}");
	g_strfreev(lines);
	g_string_free(text, TRUE);
}

static void json_tables(GString *out, bool *first, const struct page_tables *t)
{
	const struct table_file *tf = t->tf;
	json_key(out, first, "snapshots");
	g_string_append_c(out, '[');
	for (unsigned k = 0, written = 0; k < tf->n_snapshots; k++)
		if (t->page_snap[k] >= 0) {
			g_string_append(out, written++ ? "," : "");
			json_snapshot(out, tf, &tf->snapshots[k]);
		}
	g_string_append_c(out, ']');

	/* The event lines as `natlb tables --events` prints them: one line per event, in order. */
	GString *text = g_string_new(NULL);
	if (tf->n_events)
		table_file_print_events(tf, NULL, INT64_MAX, text);
	char **lines = g_strsplit(text->str, "\n", -1);
	json_key(out, first, "events");
	g_string_append_c(out, '[');
	for (unsigned e = 0; e < tf->n_events && lines[e]; e++) {
		const struct table_file_event *ev = &tf->events[e];
		bool f = true;
		g_string_append(out, e ? ",{" : "{");
		json_key_int(out, &f, "step", t->step_of_event[e]);
		json_key_string(out, &f, "stage", ev->stage);
		json_key_string(out, &f, "kind", table_event_name(ev->kind));
		json_key_string(out, &f, "why", ev->why);
		if (ev->has_row) {
			json_key_int(out, &f, "id", (int64_t)MIN(ev->row.id, (uint64_t)G_MAXINT64));
			json_key(out, &f, "orig");
			json_tuple(out, &ev->row.orig);
			json_key(out, &f, "reply");
			json_tuple(out, &ev->row.reply);
		}
		json_key_string(out, &f, "text", g_strstrip(lines[e]));
		g_string_append_c(out, '}');
	}
	g_string_append_c(out, ']');
	g_strfreev(lines);
	g_string_free(text, TRUE);
}

/* ---- steps ------------------------------------------------------------------------------------------ */

static const char *dir_name(enum pcapng_direction dir)
{
	return dir == PCAPNG_DIR_OUTBOUND ? "out" : dir == PCAPNG_DIR_INBOUND ? "in" : "";
}

/* The Ethernet addresses, so that the page shows what a router rewrote (each stage that routes
 * has its own MAC on each link, common/router.h). */
static void json_step_ethernet(GString *out, bool *f, const struct packet *p)
{
	struct cursor c;
	uint8_t mac[6];
	char text[18];

	if (p->linktype != DLT_EN10MB)
		return;
	cur_init(&c, p->data, p->caplen);
	static const char *const keys[2] = { "edst", "esrc" }; /* destination first, as on the wire */
	for (unsigned i = 0; i < 2; i++) {
		for (unsigned b = 0; b < 6; b++)
			if (!cur_u8(&c, &mac[b]))
				return;
		g_snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		json_key_string(out, f, keys[i], text);
	}
}

static void json_step_packet(GString *out, bool *f, const struct view_summary *s, GString *scratch)
{
	char buf[24];
	const struct ip4_view *ip = &s->p.ip;

	json_key_string(out, f, "proto", proto_name(s, buf));
	g_string_truncate(scratch, 0);
	packet_describe(&s->p, scratch);
	json_key_string(out, f, "info", scratch->str);
	json_step_ethernet(out, f, &s->p);
	if (!s->ip)
		return;
	char a[16];
	json_key_string(out, f, "src", ip4_to_str(ip->src, a));
	json_key_string(out, f, "dst", ip4_to_str(ip->dst, a));
	json_key_int(out, f, "ttl", ip->ttl);
	json_key_int(out, f, "ipid", ip->id);
	if (s->has_ipsum) {
		g_snprintf(buf, sizeof buf, "0x%04x", s->ipsum);
		json_key_string(out, f, "ipsum", buf);
	}
	if (ip->has_ports && !ip->icmp_query) {
		json_key_int(out, f, "sp", ip->sport);
		json_key_int(out, f, "dp", ip->dport);
	}
	if (ip->proto == IPPROTO_ICMP && ip->l4_off) {
		json_key_int(out, f, "icmp_type", ip->icmp_type);
		json_key_int(out, f, "icmp_code", ip->icmp_code);
		if (ip->icmp_query && ip->has_ports)
			json_key_int(out, f, "icmp_id", ip->sport);
	}
	if (ip->has_l4_csum) {
		g_snprintf(buf, sizeof buf, "0x%04x", s->l4sum);
		json_key_string(out, f, "l4sum", buf);
	}
	if (ip->proto == IPPROTO_TCP && ip->has_l4) {
		g_string_truncate(scratch, 0);
		tcp_flags(ip->tcp_flags, scratch);
		json_key_string(out, f, "flags", scratch->str);
	}
	if (s->has_seq) {
		json_key_int(out, f, "seq", s->seq);
		json_key_int(out, f, "ack", s->ack);
	}
	g_string_truncate(scratch, 0);
	if (http_line(s, scratch))
		json_key_string(out, f, "http", scratch->str);
}

static void json_steps(const struct html_page *pg, GString *out, bool *first, const struct view_summary *sum,
                       const struct page_tables *t)
{
	GString *scratch = g_string_new(NULL);
	unsigned n = pg->views->len;
	int64_t t0 = n ? g_array_index(pg->views, struct page_view, 0).ts_ns : 0;

	json_key(out, first, "steps");
	g_string_append_c(out, '[');
	for (unsigned i = 0; i < n; i++) {
		const struct page_view *v = &g_array_index(pg->views, struct page_view, i);
		const struct page_journey *j = &g_array_index(pg->journeys, struct page_journey, v->journey);
		bool f = true;
		g_string_append(out, i ? ",\n{" : "\n{");
		json_key_int(out, &f, "n", i + 1);
		json_key(out, &f, "t");
		append_seconds(out, v->ts_ns - t0);
		json_key(out, &f, "at");
		append_seconds(out, table_file_rel(t->tf, v->ts_ns));
		json_key_int(out, &f, "link", v->link);
		json_key_string(out, &f, "dir", dir_name(v->dir));
		json_key_int(out, &f, "j", v->journey);
		json_key_string(out, &f, "origin", j->origin == ORIGIN_EMITTED ? "emitted" : "captured");
		json_key_int(out, &f, "input", (int64_t)j->input);
		json_key_int(out, &f, "flow", v->flow);
		json_key_int(out, &f, "len", v->wirelen);
		json_step_packet(out, &f, &sum[i], scratch);
		json_key(out, &f, "notes");
		g_string_append_c(out, '[');
		const char *note = pg->notes->str + v->notes_off;
		for (unsigned k = 0; k < v->n_notes; k++, note += strlen(note) + 1) {
			g_string_append(out, k ? "," : "");
			json_string(out, note);
		}
		g_string_append_c(out, ']');
		json_key_int(out, &f, "snap", t->snap_of_step[i] < 0 ? -1 : t->page_snap[t->snap_of_step[i]]);
		json_key(out, &f, "ev");
		g_string_append_c(out, '[');
		for (unsigned e = t->events_from[i]; e < t->events_from[i + 1]; e++)
			g_string_append_printf(out, "%s%u", e > t->events_from[i] ? "," : "", t->events_of[e]);
		g_string_append(out, "]}");
	}
	g_string_append(out, "\n]");
	g_string_free(scratch, TRUE);
}

/* ---- the summary -------------------------------------------------------------------------------- */

struct json_changes {
	GString *out;
	bool first;
};

/* A balancer's target change, for the chart of what each change moved. */
static void json_change(const struct stage_change *c, void *data)
{
	struct json_changes *jc = data;
	GString *out = jc->out;
	bool f = true;

	g_string_append(out, jc->first ? "{" : ",{");
	jc->first = false;
	json_key(out, &f, "at");
	append_seconds(out, c->at_ns);
	json_key_string(out, &f, "kind", c->kind);
	json_key_string(out, &f, "target", c->target);
	json_key_int(out, &f, "live", (int64_t)MIN(c->live_flows, (uint64_t)G_MAXINT64));
	json_key_int(out, &f, "remapped", (int64_t)MIN(c->remapped, (uint64_t)G_MAXINT64));
	json_key_int(out, &f, "changed", c->lookup_changed);
	json_key_int(out, &f, "size", c->lookup_size);
	json_key_string(out, &f, "unit", c->lookup_unit);
	json_key_int(out, &f, "ideal_num", (int64_t)MIN(c->ideal_num, (uint64_t)G_MAXINT64));
	json_key_int(out, &f, "ideal_den", (int64_t)MIN(c->ideal_den, (uint64_t)G_MAXINT64));
	g_string_append_c(out, '}');
}

static void json_stats(const struct html_page *pg, GString *out, bool *first, const char *stats)
{
	const struct scenario *sc = pg->sc;
	bool f = true;

	json_key(out, first, "stats");
	g_string_append_c(out, '{');
	json_key_string(out, &f, "text", stats);
	json_key(out, &f, "stages");
	g_string_append_c(out, '[');
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		const struct stage_counters *c = &st->counters;
		bool fs = true, any = false;
		g_string_append(out, i ? ",{" : "{");
		json_key_string(out, &fs, "name", st->name);
		json_key_string(out, &fs, "type", st->ops->type);
		json_key_int(out, &fs, "in", (int64_t)(c->in[0] + c->in[1]));
		json_key_int(out, &fs, "forwarded", (int64_t)c->forwarded);
		json_key_int(out, &fs, "dropped", (int64_t)c->dropped);
		json_key_int(out, &fs, "consumed", (int64_t)c->consumed);
		json_key_int(out, &fs, "emitted", (int64_t)c->emitted);
		json_key_int(out, &fs, "bypassed", (int64_t)c->bypassed);
		json_key(out, &fs, "drops");
		g_string_append_c(out, '[');
		for (unsigned r = 0; r < DROP_CODES; r++) {
			const struct drop_info *why = stage_drop_info(st->ops, r);
			if (!c->drops[r] || !why)
				continue;
			bool fd = true;
			g_string_append(out, any ? ",{" : "{");
			json_key_string(out, &fd, "name", why->name);
			json_key_string(out, &fd, "text", why->text);
			json_key_int(out, &fd, "n", (int64_t)c->drops[r]);
			g_string_append_c(out, '}');
			any = true;
		}
		g_string_append_c(out, ']');
		if (st->ops->changes_foreach) {
			struct json_changes jc = { .out = out, .first = true };
			json_key(out, &fs, "changes");
			g_string_append_c(out, '[');
			st->ops->changes_foreach(st, json_change, &jc);
			g_string_append_c(out, ']');
		}
		g_string_append_c(out, '}');
	}
	g_string_append(out, "]}");
}

static void json_limits(const struct html_page *pg, GString *out, bool *first)
{
	bool f = true;
	json_key(out, first, "limits");
	g_string_append_c(out, '{');
	json_key_int(out, &f, "max_views", pg->max_views);
	json_key_int(out, &f, "views", (int64_t)pg->views_seen);
	json_key_int(out, &f, "steps", pg->views->len);
	json_key_int(out, &f, "max_table_rows", HTML_PAGE_MAX_TABLE_ROWS);
	if (pg->tables_until != G_MAXUINT) {
		json_key_int(out, &f, "tables_until", pg->tables_until);
		json_key_string(out, &f, "tables_stop", pg->tables_stop_why);
	}
	g_string_append_c(out, '}');
}

gboolean html_page_json(const struct html_page *pg, const char *tables, const char *stats, GString *out,
                        GError **err)
{
	struct table_file *tf = table_file_parse("the page's tables", tables, strlen(tables), err);
	if (!tf)
		return FALSE;
	unsigned n = pg->views->len;
	struct view_summary *sum = g_new(struct view_summary, n ? n : 1);
	struct page_tables t;
	bool first = true;

	for (unsigned i = 0; i < n; i++)
		summarise(pg, &g_array_index(pg->views, struct page_view, i), &sum[i]);
	page_tables_init(pg, tf, &t);

	g_string_append_c(out, '{');
	json_key_string(out, &first, "format", "natlb-page");
	json_key_int(out, &first, "version", 1);
	json_chain(pg, out, &first);
	json_limits(pg, out, &first);
	json_steps(pg, out, &first, sum, &t);
	json_tables(out, &first, &t);
	json_stats(pg, out, &first, stats);
	g_string_append(out, "}\n");

	page_tables_clear(&t);
	g_free(sum);
	table_file_free(tf);
	return TRUE;
}
