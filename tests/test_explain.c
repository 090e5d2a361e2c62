/* tests/test_explain.c: natlb explain OUT FRAME lists the views of that frame's packet, the same frames tshark finds by frame.packet_id.
 *
 * Follows: tools/explain_cmd.c.  tshark is the independent reader: for each frame asked, the
 * frames explain prints are those tshark selects with frame.packet_id == the frame's id, in
 * order, each with tshark's link name and comments.
 */
#include <stdbool.h>
#include <stdio.h>

#include "tests/testutil.h"

static char *tmp_dir;

static char *lesson_output(const char *scenario, const char *capture)
{
	char *in = g_strdup_printf("%s/%s.pcap", tmp_dir, capture);
	char *out = g_strdup_printf("%s/%s.pcapng", tmp_dir, scenario);
	if (!g_file_test(out, G_FILE_TEST_EXISTS)) {
		const char *gen[] = { test_natlb_binary(), "gen", capture, "-o", in, NULL };
		g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
		const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", scenario, "-o", out, in, NULL };
		g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	}
	g_free(in);
	return out;
}

struct explain_case {
	const char *name;
	const char *scenario, *capture;
	unsigned frame;
	unsigned want_views; /* how many views the journey has, read by hand off the lesson */
};

static const struct explain_case explain_cases[] = {
	/* the DNS reply: derived on internet, then DNAT onto lan, captured there */
	{ "/explain/napt-home/a-reply-derived-then-translated", "napt-home", "napt-home", 4, 2 },
	/* the DNS query: captured on lan, SNAT onto internet */
	{ "/explain/napt-home/a-query-captured-then-translated", "napt-home", "napt-home", 1, 2 },
	/* the balancer's own SYN-ACK to a client: one view, on internet */
	{ "/explain/alb-host-path/the-balancers-syn-ack-alone", "alb-host-path", "alb-shop", 2, 1 },
};

/* The comment lines explain printed under the frame line `line`, after the journey's "flow #N",
 * joined with " | " as natlb joins a view's comment. */
/* Not inlined: GCC 12 -Wdangling-pointer misreads test_run's buffers once this is inlined. */
static G_GNUC_NO_INLINE char *comments_after(const char *text, const char *line, const char *flow)
{
	const char *at = strstr(text, line);
	g_assert_nonnull(at);
	GString *joined = g_string_new(flow);
	const char *p = strchr(at + 1, '\n');
	while (p && strncmp(p, "\n    ", 5) == 0) {
		const char *e = strchr(p + 1, '\n');
		if (joined->len)
			g_string_append(joined, " | ");
		g_string_append_len(joined, p + 5, e ? e - (p + 5) : (gssize)strlen(p + 5));
		p = e;
	}
	return g_string_free(joined, FALSE);
}

/* The journey's "flow #N", named once in explain's first line and first in every view's comment. */
static G_GNUC_NO_INLINE char *journey_flow(const char *text)
{
	unsigned n = 0;
	const char *of_flow = strstr(text, ") of flow #");
	g_assert_nonnull(of_flow);
	g_assert_true(of_flow < strchr(text, '\n'));
	g_assert_cmpint(sscanf(of_flow, ") of flow #%u", &n), ==, 1);
	return g_strdup_printf("flow #%u", n);
}

static void test_explain_matches_tshark(gconstpointer data)
{
	const struct explain_case *c = data;
	TEST_NEED_TSHARK();
	char *out = lesson_output(c->scenario, c->capture);
	char frame[16];
	g_snprintf(frame, sizeof frame, "%u", c->frame);
	const char *argv[] = { test_natlb_binary(), "explain", out, frame, NULL };
	char *text = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &text, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");

	/* the id explain names, then tshark's frames of that id */
	unsigned long long id = 0;
	char *head = g_strdup_printf("frame %u is a view of packet %%llu", c->frame);
	g_assert_cmpint(sscanf(text, head, &id), ==, 1);
	char *flow = journey_flow(text);
	char *filter = g_strdup_printf("frame.packet_id == %llu", id);
	static const char *const fields[] = { "frame.number", "frame.interface_name", "frame.comment", NULL };
	char *want = test_tshark_fields(out, NULL, filter, fields);
	char **rows = g_strsplit(want, "\n", -1);
	unsigned n = 0;
	for (char **r = rows; *r && **r; r++, n++) {
		char **f = g_strsplit(*r, "|", 3);
		char *line = g_strdup_printf("\nframe %-6s %-10s ", f[0], f[1]);
		char *joined = comments_after(text, line, flow);
		g_assert_cmpstr(joined, ==, f[2]);
		g_free(joined);
		g_free(line);
		g_strfreev(f);
	}
	g_assert_cmpuint(n, ==, c->want_views);
	/* and explain printed those frames and no others */
	unsigned printed = 0;
	for (const char *p = text; (p = strstr(p, "\nframe ")); p++)
		printed++;
	g_assert_cmpuint(printed, ==, n);
	g_strfreev(rows);
	g_free(flow);
	g_free(want);
	g_free(filter);
	g_free(head);
	g_free(text);
	g_free(err);
	g_free(out);
}

/* --tables: the entry each stage used, under its sentence.  The entry's tuple is checked against
 * the packet as tshark reads it where it reached the stage (the frame before the stage's). */
struct entry_case {
	const char *name;
	const char *scenario, *capture;
	unsigned frame;         /* explained */
	unsigned reached;       /* the frame of that journey that reached the stage */
	const char *want;       /* "table home: refreshed: " or "table home: used, as its last event" */
	const char *tuple;      /* printf format of the tuple's text, filled from tshark's fields of reached */
	const char *fields[5];  /* those fields */
};

static const struct entry_case entry_cases[] = {
	/* the DNS reply refreshes mapping #1 (its first reply) as it crosses the router */
	{ "/explain/tables/napt-home/a-reply-shows-the-mapping-it-refreshed", "napt-home", "napt-home", 4, 3,
	  "table home: refreshed: udp      17 ", "src=%s dst=%s sport=%s dport=%s", { "ip.src", "ip.dst", "udp.srcport",
	  "udp.dstport", NULL } },
	/* the ping after it uses mapping #2 without changing it: its state as the reply left it */
	{ "/explain/tables/napt-home/a-packet-that-changes-nothing-shows-the-entry-it-used", "napt-home", "napt-home", 9, 9,
	  "table home: used, as its last event (refreshed at +1.002999 s) left it: icmp     1 ", "src=%s dst=%s id=%s",
	  { "ip.src", "ip.dst", "icmp.ident", NULL } },
	/* an L4 balancer's flow: the SYN's flow entry */
	{ "/explain/tables/lb-maglev/a-flow-shows-its-entry", "lb-maglev", "lb-spread", 6, 5,
	  "table nlb: used, as its last event (assigned at +0.000000 s) left it: tcp      6 ", "src=%s dst=%s sport=%s dport=%s",
	  { "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", NULL } },
};

/* The line of text that starts with start.  Not inlined: GCC 12 -Wdangling-pointer misreads
 * test_run's buffers once this is. */
static G_GNUC_NO_INLINE char *line_from(const char *text, const char *start)
{
	const char *at = strstr(text, start);
	if (!at)
		g_error("explain printed no '%s':\n%s", start, text);
	const char *eol = strchr(at, '\n');
	return g_strndup(at, eol ? (gsize)(eol - at) : strlen(at));
}

static void test_explain_tables(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct entry_case *c = data;
	char *in = g_strdup_printf("%s/%s.pcap", tmp_dir, c->capture);
	char *out = g_strdup_printf("%s/%s-tables.pcapng", tmp_dir, c->scenario);
	char *tables = g_strdup_printf("%s/%s.json", tmp_dir, c->scenario);
	const char *gen[] = { test_natlb_binary(), "gen", c->capture, "-o", in, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", c->scenario, "--tables", tables, "-o", out, in, NULL };
	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	char *frame = g_strdup_printf("%u", c->frame), *text = NULL, *err = NULL;
	const char *explain[] = { test_natlb_binary(), "explain", "--tables", tables, out, frame, NULL };
	g_assert_cmpint(test_run(explain, &text, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");

	char *filter = g_strdup_printf("frame.number == %u", c->reached);
	char *got = test_tshark_fields(out, NULL, filter, c->fields);
	char **v = g_strsplit(g_strstrip(got), "|", -1);
	g_assert_cmpuint(g_strv_length(v), >=, 3);
	char *tuple = g_strdup_printf(c->tuple, v[0], v[1], v[2], v[3] ? v[3] : "");
	char *line = line_from(text, c->want);
	if (!strstr(line, tuple))
		g_error("the entry '%s' does not hold the packet's tuple '%s'", line, tuple);
	g_free(line);
	g_free(tuple);
	g_strfreev(v);
	g_free(got);
	g_free(filter);
	g_free(text);
	g_free(err);
	g_free(frame);
	g_free(tables);
	g_free(out);
	g_free(in);
}

struct usage_case {
	const char *name;
	const char *file;  /* OUT: the napt-home output; CAPTURE: its classic pcap input */
	const char *frame;
	int want_rc;
	const char *want_err;
};

static const struct usage_case usage_cases[] = {
	{ "/explain/usage/a-frame-that-is-not-a-number", "OUT", "four", 2, "'four' is not a frame number" },
	{ "/explain/usage/frame-zero-is-not-a-frame", "OUT", "0", 2, "'0' is not a frame number" },
	{ "/explain/usage/a-frame-past-the-end", "OUT", "100000", 1, "has no frame 100000" },
	{ "/explain/usage/a-classic-pcap-has-no-packet-ids", "CAPTURE", "1", 1, "is a classic pcap file" },
	{ "/explain/usage/a-missing-file", "MISSING", "1", 1, "No such file" },
	{ "/explain/usage/tables-that-are-not-a-tables-file", "OUT", "1", 1, "not JSON" },
};

static void test_usage(gconstpointer data)
{
	const struct usage_case *c = data;
	char *out = lesson_output("napt-home", "napt-home");
	char *capture = g_strdup_printf("%s/napt-home.pcap", tmp_dir), *missing = g_strdup_printf("%s/nothing", tmp_dir);
	const char *file = g_str_equal(c->file, "OUT") ? out : g_str_equal(c->file, "CAPTURE") ? capture : missing;
	/* the tables case hands the capture itself as T.json */
	bool tables = strstr(c->name, "tables") != NULL;
	const char *argv[] = { test_natlb_binary(), "explain", tables ? "--tables" : file, tables ? capture : c->frame,
		               tables ? file : NULL, tables ? c->frame : NULL, NULL };
	char *err = NULL;
	g_assert_cmpint(test_run(argv, NULL, &err), ==, c->want_rc);
	if (!strstr(err, c->want_err))
		g_error("stderr '%s' lacks '%s'", err, c->want_err);
	g_free(err);
	g_free(missing);
	g_free(capture);
	g_free(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	for (unsigned i = 0; i < G_N_ELEMENTS(explain_cases); i++)
		g_test_add_data_func(explain_cases[i].name, &explain_cases[i], test_explain_matches_tshark);
	for (unsigned i = 0; i < G_N_ELEMENTS(entry_cases); i++)
		g_test_add_data_func(entry_cases[i].name, &entry_cases[i], test_explain_tables);
	for (unsigned i = 0; i < G_N_ELEMENTS(usage_cases); i++)
		g_test_add_data_func(usage_cases[i].name, &usage_cases[i], test_usage);
	int rc = g_test_run();
	test_rmdir(tmp_dir);
	return rc;
}
