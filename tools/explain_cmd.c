/* tools/explain_cmd.c: natlb explain: the journey of one packet of a replay's output, view by view (DESIGN.md, "The command line").
 *
 * Every view natlb writes of one packet carries the same epb_packetid, so the journey of the
 * packet that frame N belongs to is every frame with N's id: the link, the time, what the
 * packet looked like there, and each stage's sentence.  The file is read by
 * common/pcapng_reader.c.  With --tables T.json (the same replay's --tables), each stage's
 * sentence is followed by the table entry it used (common/tables_reader.c): the events the stage
 * wrote while the packet crossed it, or else the entry whose original or reply tuple is the
 * packet as it reached the stage, as the entry's last event left it.  Exit 0; 1 when a file
 * cannot be read or has no frame N; 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "common/output.h"
#include "common/packet.h"
#include "common/pcapng_reader.h"
#include "common/pcapng_writer.h"
#include "common/stage.h"
#include "common/tables_reader.h"
#include "tools/cli.h"

/* What a pass over the file looks for. */
struct explain_pass {
	uint64_t frame;      /* finding: the frame asked for */
	uint64_t id;         /* printing: the packet id whose views are printed */
	bool found;          /* finding: the frame was there */
	int64_t first_ns;    /* the first frame's time: views are shown relative to it */
	uint8_t *buf;        /* a frame for decoding */
	GString *out;
	const struct table_file *tables; /* --tables; NULL without */
	bool have_prev;      /* printing: the view before this one, the packet as it reached the stage */
	int64_t prev_ns;
	struct flow_tuple prev_tuple;
	uint8_t prev_proto;
	char flow[32];       /* finding: the frame's "flow #N", or "" */
};

/* The "flow #N" a comment begins with (common/flow_number.h): its length, or 0. */
static size_t flow_token_len(const char *s, size_t len)
{
	static const char prefix[] = "flow #";
	size_t n = sizeof prefix - 1;
	if (len <= n || memcmp(s, prefix, n) != 0)
		return 0;
	while (n < len && g_ascii_isdigit(s[n]))
		n++;
	size_t sep = sizeof OUTPUT_COMMENT_SEPARATOR - 1;
	return n == len || (len - n >= sep && memcmp(s + n, OUTPUT_COMMENT_SEPARATOR, sep) == 0) ? n : 0;
}

/* The stage that wrote a sentence "<type> <name>: ...", when the tables file knows it. */
static const char *sentence_stage(const struct table_file *tf, const struct pcapng_text *c, char *name, size_t size)
{
	const char *sp = memchr(c->s, ' ', c->len), *colon;
	if (!sp)
		return NULL;
	colon = memchr(sp + 1, ':', c->len - (size_t)(sp + 1 - c->s));
	if (!colon || (size_t)(colon - sp - 1) >= size)
		return NULL;
	memcpy(name, sp + 1, (size_t)(colon - sp - 1));
	name[colon - sp - 1] = '\0';
	return table_file_has_stage(tf, name) ? name : NULL;
}

static bool tuple_is(const struct flow_tuple *t, const struct flow_tuple *u)
{
	return t->src == u->src && t->dst == u->dst && t->sport == u->sport && t->dport == u->dport;
}

/* The table entry stage used for the packet between the previous view (prev_ns) and this one. */
static void print_entry_used(const struct explain_pass *x, const char *stage, int64_t ts_ns)
{
	const struct table_file *tf = x->tables;
	int64_t from = x->have_prev ? x->prev_ns : ts_ns;
	const struct table_file_event *last = NULL;
	bool said = false;

	for (unsigned i = 0; i < tf->n_events; i++) {
		const struct table_file_event *ev = &tf->events[i];
		if (strcmp(ev->stage, stage) != 0 || !ev->has_row || ev->ts_ns > ts_ns)
			continue;
		if (ev->ts_ns >= from) {
			g_string_append_printf(x->out, "      table %s: %s: ", stage, table_event_name(ev->kind));
			table_row_format(&ev->row, ev->ts_ns, x->out);
			g_string_append_c(x->out, '\n');
			said = true;
		} else if (x->have_prev && ev->row.proto == x->prev_proto &&
		           (tuple_is(&ev->row.orig, &x->prev_tuple) || tuple_is(&ev->row.reply, &x->prev_tuple))) {
			last = ev; /* the entry's latest state before the packet came */
		}
	}
	if (said || !last)
		return;
	int64_t rel = last->ts_ns - tf->start_ns;
	g_string_append_printf(x->out, "      table %s: used, as its last event (%s at +%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT
	                       " s) left it: ", stage, table_event_name(last->kind), rel / 1000000000,
	                       rel % 1000000000 / 1000);
	table_row_format(&last->row, ts_ns, x->out);
	g_string_append_c(x->out, '\n');
}

/* One view: "frame 2  internet  +0.000001000 s  TCP 203.0.113.7:40000 > ..." then its comments,
 * each stage's followed by the entry it used when there are tables. */
static void print_view(const struct pcapng_record *rec, struct explain_pass *x)
{
	int64_t first_ns = x->first_ns;
	uint8_t *frame = x->buf;
	GString *out = x->out;
	uint32_t caplen = MIN(rec->caplen, PCAPNG_SNAPLEN); /* a longer one is described as cut there */
	struct packet p = { .data = frame, .capacity = caplen, .caplen = caplen, .wirelen = MAX(rec->wirelen, caplen),
		            .linktype = rec->linktype, .ts_ns = rec->ts_ns };
	memcpy(frame, rec->data, caplen); /* decode reads a frame of its own, never the mapped file */
	int64_t rel = rec->ts_ns - first_ns, mag = rel < 0 ? -rel : rel;
	g_string_append_printf(out, "frame %-6" G_GUINT64_FORMAT " %-10.*s %s%" G_GINT64_FORMAT ".%09" G_GINT64_FORMAT " s  ",
	                       rec->frame, (int)rec->if_name.len, rec->if_name.s, rel < 0 ? "-" : "+", mag / 1000000000,
	                       mag % 1000000000);
	decode_packet(&p);
	packet_describe(&p, out);
	g_string_append_c(out, '\n');
	/* One part per line: natlb joins a view's parts into one comment (common/output.h). */
	const size_t sep_len = strlen(OUTPUT_COMMENT_SEPARATOR);
	for (unsigned i = 0; i < rec->n_comments; i++) {
		const char *s = rec->comments[i].s, *end = s + rec->comments[i].len;
		while (s < end) {
			const char *cut = g_strstr_len(s, end - s, OUTPUT_COMMENT_SEPARATOR);
			struct pcapng_text part = { .s = s, .len = (uint16_t)((cut ? cut : end) - s) };
			char name[128];
			const char *stage;
			s = cut ? cut + sep_len : end;
			if (flow_token_len(part.s, part.len) == part.len)
				continue; /* in the journey's first line */
			g_string_append_printf(out, "    %.*s\n", (int)part.len, part.s);
			if (x->tables && (stage = sentence_stage(x->tables, &part, name, sizeof name)))
				print_entry_used(x, stage, rec->ts_ns);
		}
	}
	x->have_prev = p.l3 == L3_IPV4;
	x->prev_ns = rec->ts_ns;
	x->prev_proto = p.ip.proto;
	x->prev_tuple = (struct flow_tuple){ .src = p.ip.src, .dst = p.ip.dst, .sport = p.ip.sport, .dport = p.ip.dport };
}

/* Finding: stop at the frame, note its id; with none, the frame alone is all there is to print. */
static bool find_frame(const struct pcapng_record *rec, struct explain_pass *x)
{
	if (rec->frame != x->frame)
		return true;
	x->found = true;
	x->id = rec->packet_id;
	size_t n = rec->n_comments ? flow_token_len(rec->comments[0].s, rec->comments[0].len) : 0;
	if (n && n < sizeof x->flow)
		g_snprintf(x->flow, sizeof x->flow, "%.*s", (int)n, rec->comments[0].s);
	if (!rec->packet_id)
		print_view(rec, x);
	return false;
}

/* Printing: every view of the packet. */
static bool print_journey(const struct pcapng_record *rec, struct explain_pass *x)
{
	if (rec->packet_id == x->id)
		print_view(rec, x);
	return true;
}

/* Hand each record to visit until it says stop.  FALSE with err when the file is not readable
 * pcapng; a cut file still explains the frames before the cut (a frame past it is missing). */
static gboolean read_frames(const uint8_t *bytes, size_t len, const char *path,
                            bool (*visit)(const struct pcapng_record *, struct explain_pass *), struct explain_pass *x,
                            GError **err)
{
	struct pcapng_reader r;
	struct pcapng_record rec;
	enum pcapng_read_status st;

	pcapng_reader_init(&r, bytes, len, path);
	while ((st = pcapng_reader_next(&r, &rec, err)) == PCAPNG_READ_RECORD) {
		if (rec.frame == 1)
			x->first_ns = rec.ts_ns;
		if (!visit(&rec, x))
			return TRUE;
	}
	if (st == PCAPNG_READ_INVALID || (st == PCAPNG_READ_TRUNCATED && !x->found))
		return FALSE;
	g_clear_error(err);
	return TRUE;
}

/* The four magics of libpcap's format (microseconds or nanoseconds, either byte order). */
static bool is_classic_pcap(const uint8_t *b, size_t len)
{
	static const uint32_t magics[] = { 0xa1b2c3d4u, 0xd4c3b2a1u, 0xa1b23c4du, 0x4d3cb2a1u };
	uint32_t m;
	if (len < 4)
		return false;
	memcpy(&m, b, 4);
	for (unsigned i = 0; i < G_N_ELEMENTS(magics); i++)
		if (m == magics[i])
			return true;
	return false;
}

int explain_main(int argc, char **argv)
{
	char *tables_path = NULL;
	struct table_file *tables = NULL;
	GOptionEntry entries[] = {
		{ "tables", 0, 0, G_OPTION_ARG_FILENAME, &tables_path,
		  "the same replay's --tables file: print the table entry each stage used", "T.json" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("OUT.pcapng FRAME");
	GError *err = NULL;
	GMappedFile *map = NULL;
	GString *out = g_string_new(NULL);
	int status = EXIT_USAGE;
	uint64_t frame = 0;
	bool found = false;

	g_option_context_set_summary(ctx, "Print the journey of the packet that FRAME (numbered as in Wireshark) of a\n"
	                             "natlb replay's output belongs to: every view of it, on every link it crossed, with\n"
	                             "what each stage did.  In Wireshark: filter frame.packet_id == the id printed first.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb explain: %s (natlb explain --help)\n", err->message);
		goto out;
	}
	if (argc != 3) {
		fprintf(stderr, "natlb explain: give the output file and a frame number (natlb explain out/lesson.pcapng 4)\n");
		goto out;
	}
	char *end = NULL;
	frame = g_ascii_strtoull(argv[2], &end, 10);
	if (!*argv[2] || *end || frame == 0) {
		fprintf(stderr, "natlb explain: '%s' is not a frame number (1, 2, 3 ... as Wireshark's No. column)\n", argv[2]);
		goto out;
	}
	status = EXIT_RUNTIME;
	if (tables_path && !(tables = table_file_load(tables_path, &err))) {
		fprintf(stderr, "natlb explain: %s\n", err->message);
		goto out;
	}
	map = g_mapped_file_new(argv[1], FALSE, &err);
	if (!map) {
		fprintf(stderr, "natlb explain: %s\n", err->message);
		goto out;
	}
	const uint8_t *bytes = (const uint8_t *)g_mapped_file_get_contents(map);
	size_t len = g_mapped_file_get_length(map);
	if (is_classic_pcap(bytes, len)) {
		fprintf(stderr, "natlb explain: %s is a classic pcap file, which has no packet ids: explain a natlb replay's "
		        "pcapng output (natlb replay -o OUT.pcapng %s; natlb explain OUT.pcapng %s)\n", argv[1], argv[1], argv[2]);
		goto out;
	}
	struct explain_pass x = { .frame = frame, .buf = g_malloc(PCAPNG_SNAPLEN), .out = g_string_new(NULL),
		                  .tables = tables };
	gboolean ok = read_frames(bytes, len, argv[1], find_frame, &x, &err);
	if (ok && x.found && x.id) {
		g_string_append_printf(out, "frame %" G_GUINT64_FORMAT " is a view of packet %" G_GUINT64_FORMAT
		                       " (frame.packet_id == %" G_GUINT64_FORMAT ")", frame, x.id, x.id);
		if (*x.flow) /* the filter that shows the whole conversation, end to end */
			g_string_append_printf(out, " of %s (frame.comment contains \"%s |\")", x.flow,
			                       x.flow);
		g_string_append(out, "; its journey:\n");
		g_string_truncate(x.out, 0);
		ok = read_frames(bytes, len, argv[1], print_journey, &x, &err);
		g_string_append(out, x.out->str);
	} else if (ok && x.found) {
		g_string_append_printf(out, "frame %" G_GUINT64_FORMAT " has no packet id (a file natlb did not write, or an "
		                       "older natlb): it alone\n%s", frame, x.out->str);
	}
	found = x.found;
	g_string_free(x.out, TRUE);
	g_free(x.buf);
	if (!ok) {
		fprintf(stderr, "natlb explain: %s\n", err->message);
		goto out;
	}
	if (!found) {
		fprintf(stderr, "natlb explain: %s has no frame %" G_GUINT64_FORMAT "\n", argv[1], frame);
		goto out;
	}
	fputs(out->str, stdout);
	status = EXIT_OK;
out:
	if (map)
		g_mapped_file_unref(map);
	if (tables)
		table_file_free(tables);
	g_free(tables_path);
	g_string_free(out, TRUE);
	g_clear_error(&err);
	g_option_context_free(ctx);
	return status;
}
