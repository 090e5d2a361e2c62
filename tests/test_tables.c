/* tests/test_tables.c: --tables and natlb tables: the recorder, the JSON round trip, --at, conntrack-like lines, the verb's errors.
 *
 * Follows the format described in common/tables_writer.h and the printing in common/tables_reader.h.  A
 * test stage type with a table of its own ("test-table") stands in for NAPT and the balancers,
 * so these tests say exactly what rows and events went in and check what comes out.
 */
#include <json-glib/json-glib.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "common/checksum.h"
#include "common/input.h"
#include "common/note.h"
#include "common/output.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "common/tables_writer.h"
#include "common/tables_reader.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

/* natlb's stage types and this file's toy ones. */
static struct stage_registry test_types;

#define T0 G_GINT64_CONSTANT(1767225600000000000) /* 2026-01-01T00:00:00Z */
#define SEC G_GINT64_CONSTANT(1000000000)

/* ---- A stage with a table --------------------------------------------------------------------
 *
 * Its table is toy.rows; advance() remembers how far the loop advanced it, and every row expires
 * 5 s after that, so a snapshot shows "timeout 5 s" exactly when the loop advanced the stage to
 * the snapshot's time.  process() records a CREATED event for UDP packets to port 1. */
static struct {
	struct table_row rows[4];
	unsigned n_rows;
	int64_t advanced_to;
	bool saw_tables;      /* ctx->tables was set in process() */
	unsigned processed;
} toy;

static gboolean toy_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	(void)st; (void)cfg; (void)err;
	return TRUE;
}

static void toy_describe(const struct stage *st, GString *out)
{
	(void)st;
	g_string_append(out, "# test stage\n");
}

static enum verdict toy_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	(void)dir;
	toy.processed++;
	toy.saw_tables = toy.saw_tables || ctx->tables;
	note_appendf(ctx->note, "toy %s: seen", st->name);
	if (p->ip.has_ports && p->ip.dport == 1) {
		struct table_row row = { .id = toy.processed, .proto = p->ip.proto, .expires_ns = ctx->now_ns + 30 * SEC,
		                         .state = "NEW", .orig = { p->ip.src, p->ip.dst, p->ip.sport, p->ip.dport },
		                         .reply = { p->ip.dst, p->ip.src, p->ip.dport, p->ip.sport },
		                         .flags = "test", .packets = { 1, 0 }, .bytes = { p->wirelen, 0 } };
		stage_table_event(ctx, st, TABLE_EVENT_CREATED, &row, "port 1 asked for it");
	}
	return VERDICT_FORWARD;
}

static void toy_advance(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	(void)st; (void)ctx;
	toy.advanced_to = now_ns;
}

static void toy_table_foreach(const struct stage *st, int64_t now_ns,
                              void (*visit)(const struct table_row *row, void *data), void *data)
{
	(void)st; (void)now_ns;
	for (unsigned i = 0; i < toy.n_rows; i++) {
		struct table_row r = toy.rows[i];
		if (r.expires_ns != INT64_MAX)
			r.expires_ns = toy.advanced_to + 5 * SEC;
		visit(&r, data);
	}
}

static const char *const no_keys[] = { NULL };
static const struct stage_ops toy_ops = {
	.type = "test-table", .summary = "test stage with a table", .keys = no_keys, .configure = toy_configure,
	.describe = toy_describe, .process = toy_process, .advance = toy_advance, .table_foreach = toy_table_foreach,
};

static const char toy_scenario[] =
	"[scenario]\nchain = lan > toy > internet\ncapture = lan\n"
	"[link lan]\nnetworks = 10.0.0.0/24\n[link internet]\n[stage toy]\ntype = test-table\n";

static void toy_reset(void)
{
	memset(&toy, 0, sizeof toy);
	toy.rows[0] = (struct table_row){ .id = 3, .proto = 6, .expires_ns = 0, .state = "ESTABLISHED",
	                                  .orig = { 0x0a000005, 0xc6336450, 40001, 443 },
	                                  .reply = { 0xc6336450, 0xcb00710a, 443, 51000 },
	                                  .flags = "mapping #3 EIM", .packets = { 5, 4 }, .bytes = { 420, 3120 } };
	toy.rows[1] = (struct table_row){ .id = 9, .proto = 17, .expires_ns = INT64_MAX, .state = "",
	                                  .orig = { 0x0a000006, 0x08080808, 53001, 53 },
	                                  .reply = { 0x08080808, 0xcb00710a, 53, 53001 },
	                                  .flags = "", .packets = { 1, 0 }, .bytes = { 60, 0 } };
	toy.n_rows = 2;
}

static struct scenario *toy_load(void)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(&test_types, "toy.ini", toy_scenario, &err);
	g_assert_no_error(err);
	return sc;
}


/* Replay UDP packets from 10.0.0.5 at the given capture times (ns after T0) to the given ports. */
static void replay_toy(struct scenario *sc, struct table_recorder *rec, const int64_t *at, const uint16_t *dport,
                       unsigned n)
{
	GError *err = NULL;
	char *dir = test_tmpdir();
	char *out_path = g_strdup_printf("%s/out.pcapng", dir);
	struct output *out = output_open(OUTPUT_PCAPNG, out_path, "test", &err);
	g_assert_no_error(err);
	struct pipeline_options opt = { .seed = 1, .tables = rec };
	struct pipeline *pl = pipeline_new(sc, out, &opt, &err);
	g_assert_no_error(err);
	for (unsigned i = 0; i < n; i++) {
		uint8_t frame[46];
		test_udp_frame(frame, 0x0a000005, 0xc6336401, 40000, dport[i]);
		struct input_record r = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame,
		                          .ts_ns = T0 + at[i], .linktype = DLT_EN10MB };
		g_assert_true(pipeline_replay(pl, &r, &err));
	}
	if (rec)
		g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_no_error(err);
	g_assert_true(output_close(out, &err));
	pipeline_free(pl);
	test_rmdir(dir);
	g_free(out_path);
}

static struct table_file *parse_text(const char *text)
{
	GError *err = NULL;
	struct table_file *tf = table_file_parse("mem.json", text, strlen(text), &err);
	g_assert_no_error(err);
	g_assert_nonnull(tf);
	return tf;
}

/* ---- --tables-every ------------------------------------------------------------------------ */

static const struct {
	const char *text;
	int64_t every_ns;
	bool on_change;
} good_schedules[] = {
	{ "10", 10 * SEC, false },
	{ "0.5", SEC / 2, false },
	{ "0.001", SEC / 1000, false },
	{ "change", 0, true },
	{ "end", 0, false },
};

static void test_schedule_parses(void)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(good_schedules); i++) {
		struct table_schedule s;
		GError *err = NULL;
		g_assert_true(table_schedule_parse(good_schedules[i].text, &s, &err));
		g_assert_no_error(err);
		g_assert_cmpint(s.every_ns, ==, good_schedules[i].every_ns);
		g_assert_cmpint(s.on_change, ==, good_schedules[i].on_change);
	}
}

static const char *const bad_schedules[] = { "0", "-1", "soon", "10s", "", "nan", "inf", "0.0000001", "1e10" };

static void test_schedule_refuses(void)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_schedules); i++) {
		struct table_schedule s;
		GError *err = NULL;
		g_assert_false(table_schedule_parse(bad_schedules[i], &s, &err));
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, "--tables-every"));
		g_assert_null(strchr(err->message, '\n'));
		g_error_free(err);
	}
}

/* ---- The recorder ---------------------------------------------------------------------------- */

/* Every field of a row and an event survives the trip through JSON and back. */
static void test_round_trip(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	struct table_recorder *rec = table_recorder_new();
	struct stage_ctx ctx = { .now_ns = T0 + 2 * SEC, .tables = rec };
	GError *err = NULL;

	toy.advanced_to = T0 + 2 * SEC;
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_CREATED, &toy.rows[0], "port 40001 preserved");
	ctx.now_ns = T0 + 3 * SEC;
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXHAUSTED, NULL, NULL);
	table_recorder_snapshot(rec, sc, T0 + 3 * SEC, "every 1 s");
	g_assert_cmpuint(table_recorder_n_events(rec), ==, 2);
	g_assert_cmpuint(table_recorder_count(rec, TABLE_EVENT_CREATED), ==, 1);
	g_assert_cmpuint(table_recorder_count(rec, TABLE_EVENT_EXHAUSTED), ==, 1);
	g_assert_cmpuint(table_recorder_count(rec, TABLE_EVENT_EXPIRED), ==, 0);
	toy.advanced_to = T0 + 4 * SEC;
	g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(table_recorder_n_snapshots(rec), ==, 2); /* the one asked for, and "end" */

	struct table_file *tf = parse_text(table_recorder_text(rec));
	g_assert_cmpint(tf->start_ns, ==, T0 + 2 * SEC);
	g_assert_cmpint(tf->end_ns, ==, T0 + 3 * SEC);
	g_assert_cmpstr(tf->schedule, ==, "end");
	g_assert_null(tf->scenario);
	g_assert_cmpuint(tf->n_events, ==, 2);
	const struct table_file_event *e = &tf->events[0];
	g_assert_cmpint(e->ts_ns, ==, T0 + 2 * SEC);
	g_assert_cmpstr(e->stage, ==, "toy");
	g_assert_cmpint(e->kind, ==, TABLE_EVENT_CREATED);
	g_assert_cmpstr(e->why, ==, "port 40001 preserved");
	g_assert_true(e->has_row);
	g_assert_cmpuint(e->row.id, ==, 3);
	g_assert_cmpuint(e->row.proto, ==, 6);
	g_assert_cmpint(e->row.expires_ns, ==, T0 + 2 * SEC); /* toy.rows[0] expires at 0: clamped to the event's time */
	g_assert_cmpstr(e->row.state, ==, "ESTABLISHED");
	g_assert_cmphex(e->row.orig.src, ==, 0x0a000005);
	g_assert_cmphex(e->row.orig.dst, ==, 0xc6336450);
	g_assert_cmpuint(e->row.orig.sport, ==, 40001);
	g_assert_cmpuint(e->row.orig.dport, ==, 443);
	g_assert_cmphex(e->row.reply.dst, ==, 0xcb00710a);
	g_assert_cmpuint(e->row.reply.dport, ==, 51000);
	g_assert_cmpstr(e->row.flags, ==, "mapping #3 EIM");
	g_assert_cmpuint(e->row.packets[0], ==, 5);
	g_assert_cmpuint(e->row.packets[1], ==, 4);
	g_assert_cmpuint(e->row.bytes[0], ==, 420);
	g_assert_cmpuint(e->row.bytes[1], ==, 3120);
	g_assert_cmpint(tf->events[1].kind, ==, TABLE_EVENT_EXHAUSTED);
	g_assert_false(tf->events[1].has_row);
	g_assert_null(tf->events[1].why);

	g_assert_cmpuint(tf->n_snapshots, ==, 2);
	const struct table_snapshot *s = &tf->snapshots[0];
	g_assert_cmpstr(s->why, ==, "every 1 s");
	g_assert_cmpuint(s->n_stages, ==, 1);
	g_assert_cmpstr(s->stages[0].name, ==, "toy");
	g_assert_cmpstr(s->stages[0].type, ==, "test-table");
	g_assert_cmpuint(s->stages[0].n_rows, ==, 2);
	/* Advanced to 2 s, expires 5 s later, snapshot at 3 s: 4 s left. */
	g_assert_cmpint(s->stages[0].rows[0].expires_ns - s->ts_ns, ==, 4 * SEC);
	g_assert_cmpint(s->stages[0].rows[1].expires_ns, ==, INT64_MAX);
	g_assert_cmpstr(s->stages[0].rows[1].state, ==, "");
	g_assert_cmpstr(tf->snapshots[1].why, ==, "end");
	g_assert_cmpint(tf->snapshots[1].ts_ns, ==, T0 + 3 * SEC);
	table_file_free(tf);
	table_recorder_free(rec);
	scenario_free(sc);
}

/* The lesson page's recorder (issue 12): a tee'd one gets the same events and times, and keeps its
 * own schedule; a stopped one records nothing more and takes no final snapshot; rows are counted. */
static void test_tee_stop_and_rows(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	struct table_recorder *rec = table_recorder_new();
	struct table_recorder *page = table_recorder_new_scheduled("page", &(struct table_schedule){ .on_change = true });
	struct stage_ctx ctx = { .now_ns = T0 + 2 * SEC, .tables = rec };
	int64_t due;
	GError *err = NULL;

	table_recorder_tee(rec, page);
	g_assert_false(table_recorder_due(rec, T0 + SEC, &due)); /* the first time seen goes to both */
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_CREATED, &toy.rows[0], "first");
	table_recorder_packet_done(rec, sc, T0 + 2 * SEC);
	g_assert_cmpuint(table_recorder_n_events(rec), ==, 1);
	g_assert_cmpuint(table_recorder_n_events(page), ==, 1);
	g_assert_cmpuint(table_recorder_n_snapshots(rec), ==, 0); /* end only */
	g_assert_cmpuint(table_recorder_n_snapshots(page), ==, 1); /* at the change */
	g_assert_cmpuint(table_recorder_n_rows(page), ==, toy.n_rows);
	g_assert_cmpuint(table_recorder_n_rows(rec), ==, 0);

	table_recorder_stop(page);
	ctx.now_ns = T0 + 3 * SEC;
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &toy.rows[1], "after the stop");
	table_recorder_packet_done(rec, sc, T0 + 3 * SEC);
	g_assert_cmpuint(table_recorder_n_events(rec), ==, 2);
	g_assert_cmpuint(table_recorder_n_events(page), ==, 1);
	g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_true(table_recorder_finish(page, sc, &err));
	g_assert_no_error(err);

	struct table_file *whole = parse_text(table_recorder_text(rec)), *stopped = parse_text(table_recorder_text(page));
	g_assert_cmpint(whole->start_ns, ==, T0 + SEC);
	g_assert_cmpint(stopped->start_ns, ==, T0 + SEC);
	g_assert_cmpuint(whole->n_events, ==, 2);
	g_assert_cmpuint(stopped->n_events, ==, 1);
	g_assert_cmpuint(stopped->n_snapshots, ==, 1);
	g_assert_cmpstr(stopped->snapshots[0].why, ==, "change");
	g_assert_cmpstr(stopped->scenario, ==, "page");
	g_assert_cmpuint(whole->n_snapshots, ==, 1);
	g_assert_cmpstr(whole->snapshots[0].why, ==, "end");
	table_file_free(whole);
	table_file_free(stopped);
	table_recorder_free(page);
	table_recorder_free(rec);
	scenario_free(sc);
}

/* Issue item 5: an entry that expired is stamped when it expired, not when its stage swept it, and
 * the log stays in time order although the sweeps do not visit entries in expiry order (two
 * timeout classes, or two stages, one after the other).  An entry closed before its timeout
 * (expires_ns still ahead) expires at the event's time; equal times keep the order they came in. */
static void test_expired_at_its_time_in_order(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	struct table_recorder *rec = table_recorder_new();
	struct stage_ctx ctx = { .now_ns = T0 + 200 * SEC, .tables = rec };
	struct table_row late = toy.rows[0], early = toy.rows[0], closed = toy.rows[0], fresh = toy.rows[1];
	GError *err = NULL;

	late.id = 1, late.expires_ns = T0 + 150 * SEC;
	early.id = 2, early.expires_ns = T0 + 130 * SEC;
	fresh.id = 3;
	closed.id = 4, closed.expires_ns = T0 + 500 * SEC;
	/* the sweep, in its own order, then the packet at 200 s */
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &late, "idle");
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &early, "idle");
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_CREATED, &fresh, "new");
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &closed, "closed");
	table_recorder_packet_done(rec, sc, ctx.now_ns);
	g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_no_error(err);

	struct table_file *tf = parse_text(table_recorder_text(rec));
	static const struct { uint64_t id; int64_t at; enum table_event kind; } want[] = {
		{ 2, T0 + 130 * SEC, TABLE_EVENT_EXPIRED },
		{ 1, T0 + 150 * SEC, TABLE_EVENT_EXPIRED },
		{ 3, T0 + 200 * SEC, TABLE_EVENT_CREATED },
		{ 4, T0 + 200 * SEC, TABLE_EVENT_EXPIRED },
	};
	g_assert_cmpuint(tf->n_events, ==, G_N_ELEMENTS(want));
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpuint(tf->events[i].row.id, ==, want[i].id);
		g_assert_cmpint(tf->events[i].ts_ns, ==, want[i].at);
		g_assert_cmpint(tf->events[i].kind, ==, want[i].kind);
	}
	g_assert_cmpint(tf->start_ns, ==, T0 + 130 * SEC);
	table_file_free(tf);
	table_recorder_free(rec);
	scenario_free(sc);
}

/* A snapshot written after an event never has an earlier time: an event held across it would
 * break the log's order, so a snapshot first writes what is held. */
static void test_snapshot_after_held_events(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	struct table_recorder *rec = table_recorder_new();
	struct stage_ctx ctx = { .now_ns = T0 + 10 * SEC, .tables = rec };
	struct table_row row = toy.rows[0];
	GError *err = NULL;

	row.expires_ns = T0 + 8 * SEC;
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &row, "idle");
	table_recorder_snapshot(rec, sc, T0 + 10 * SEC, "every 10 s");
	/* an expiry a stage finds only now, from before the snapshot: it cannot go back before it */
	row.expires_ns = T0 + 9 * SEC;
	ctx.now_ns = T0 + 11 * SEC;
	stage_table_event(&ctx, sc->stages[0], TABLE_EVENT_EXPIRED, &row, "idle");
	g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_no_error(err);

	JsonParser *parser = json_parser_new();
	g_assert_true(json_parser_load_from_data(parser, table_recorder_text(rec), -1, &err));
	g_assert_no_error(err);
	JsonArray *records = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "records");
	static const struct { const char *type; int64_t at; } want[] = {
		{ "event", T0 + 8 * SEC }, { "snapshot", T0 + 10 * SEC }, { "event", T0 + 10 * SEC }, { "snapshot", T0 + 10 * SEC },
	};
	g_assert_cmpuint(json_array_get_length(records), ==, G_N_ELEMENTS(want));
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		JsonObject *r = json_array_get_object_element(records, i);
		g_assert_cmpstr(json_object_get_string_member(r, "type"), ==, want[i].type);
		g_assert_cmpint(json_object_get_int_member(r, "ts_ns"), ==, want[i].at);
	}
	g_object_unref(parser);
	table_recorder_free(rec);
	scenario_free(sc);
}

/* The document appears under its name only when finished; abandoned, it leaves nothing. */
static void test_file_atomic(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	char *dir = test_tmpdir();
	char *path = g_strdup_printf("%s/t.json", dir);
	GError *err = NULL;
	struct table_schedule every = { .every_ns = SEC };

	struct table_recorder *rec = table_recorder_open(path, "toy.ini", &every, &err);
	g_assert_no_error(err);
	table_recorder_snapshot(rec, sc, T0, NULL);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_null(table_recorder_text(rec));
	table_recorder_free(rec); /* abandoned */
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_null(g_dir_read_name(d)); /* no temporary left behind */
	g_dir_close(d);

	rec = table_recorder_open(path, "toy.ini", &every, &err);
	g_assert_no_error(err);
	table_recorder_snapshot(rec, sc, T0, NULL);
	g_assert_true(table_recorder_finish(rec, sc, &err));
	g_assert_no_error(err);
	table_recorder_free(rec);
	d = g_dir_open(dir, 0, NULL);
	g_assert_cmpstr(g_dir_read_name(d), ==, "t.json");
	g_assert_null(g_dir_read_name(d));
	g_dir_close(d);
	struct table_file *tf = table_file_load(path, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(tf->scenario, ==, "toy.ini");
	g_assert_cmpstr(tf->schedule, ==, "every 1 s");
	g_assert_cmpstr(tf->snapshots[0].why, ==, "every 1 s");
	table_file_free(tf);
	test_rmdir(dir);
	g_free(path);
	scenario_free(sc);
}

static void test_unwritable(void)
{
	GError *err = NULL;
	struct table_recorder *rec = table_recorder_open("/nonexistent/dir/t.json", NULL, NULL, &err);
	g_assert_null(rec);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, "/nonexistent/dir/t.json"));
	g_error_free(err);
}

/* ---- Through the replay loop ------------------------------------------------------------------ */

/* Packets at 0, 2.5 and 7 s with --tables-every 2: snapshots at 2, 4 and 6 s (the last two in the
 * gap, each with the stage advanced to its own time, not to the next packet's), then "end" at 7 s. */
static void test_every_n_seconds(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	char *dir = test_tmpdir();
	char *path = g_strdup_printf("%s/t.json", dir);
	struct table_schedule every = { .every_ns = 2 * SEC };
	GError *err = NULL;
	struct table_recorder *rec = table_recorder_open(path, "toy.ini", &every, &err);
	g_assert_no_error(err);
	static const int64_t at[] = { 0, 2500000000, 7 * SEC };
	static const uint16_t port[] = { 9, 9, 9 };
	replay_toy(sc, rec, at, port, G_N_ELEMENTS(at));
	g_assert_true(toy.saw_tables);
	table_recorder_free(rec);

	struct table_file *tf = table_file_load(path, &err);
	g_assert_no_error(err);
	static const int64_t want[] = { 2 * SEC, 4 * SEC, 6 * SEC, 7 * SEC };
	g_assert_cmpuint(tf->n_snapshots, ==, G_N_ELEMENTS(want));
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		const struct table_snapshot *s = &tf->snapshots[i];
		g_assert_cmpint(table_file_rel(tf, s->ts_ns), ==, want[i]);
		g_assert_cmpstr(s->why, ==, i + 1 < G_N_ELEMENTS(want) ? "every 2 s" : "end");
		g_assert_cmpint(s->stages[0].rows[0].expires_ns - s->ts_ns, ==, 5 * SEC);
	}
	g_assert_cmpuint(tf->n_events, ==, 0);
	table_file_free(tf);
	test_rmdir(dir);
	g_free(path);
	scenario_free(sc);
}

/* An hour's gap with --tables-every 1 does not make 3600 snapshots of the same tables: only the
 * last one due is taken, and it says how many were skipped. */
static void test_gap_is_bounded(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	char *dir = test_tmpdir();
	char *path = g_strdup_printf("%s/t.json", dir);
	struct table_schedule every = { .every_ns = SEC };
	GError *err = NULL;
	struct table_recorder *rec = table_recorder_open(path, NULL, &every, &err);
	g_assert_no_error(err);
	static const int64_t at[] = { 0, 500 * 1000000, 3600 * SEC };
	static const uint16_t port[] = { 9, 9, 9 };
	replay_toy(sc, rec, at, port, G_N_ELEMENTS(at));
	table_recorder_free(rec);
	struct table_file *tf = table_file_load(path, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(tf->n_snapshots, ==, 2);
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[0].ts_ns), ==, 3600 * SEC);
	g_assert_cmpstr(tf->snapshots[0].why, ==, "every 1 s (3599 earlier ones skipped: a gap in the capture)");
	g_assert_cmpint(tf->snapshots[0].stages[0].rows[0].expires_ns - tf->snapshots[0].ts_ns, ==, 5 * SEC);
	g_assert_cmpstr(tf->snapshots[1].why, ==, "end");
	table_file_free(tf);
	test_rmdir(dir);
	g_free(path);
	scenario_free(sc);
}

/* --tables-every change: a snapshot after each packet that recorded an event, and one at the end. */
static void test_on_change(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	char *dir = test_tmpdir();
	char *path = g_strdup_printf("%s/t.json", dir);
	struct table_schedule change = { .on_change = true };
	GError *err = NULL;
	struct table_recorder *rec = table_recorder_open(path, NULL, &change, &err);
	g_assert_no_error(err);
	static const int64_t at[] = { 0, 1 * SEC, 2 * SEC, 3 * SEC };
	static const uint16_t port[] = { 1, 9, 1, 9 }; /* port 1 makes the toy record an event */
	replay_toy(sc, rec, at, port, G_N_ELEMENTS(at));
	g_assert_cmpuint(table_recorder_n_events(rec), ==, 2);
	table_recorder_free(rec);

	struct table_file *tf = table_file_load(path, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(tf->n_snapshots, ==, 3);
	g_assert_cmpstr(tf->snapshots[0].why, ==, "change");
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[0].ts_ns), ==, 0);
	g_assert_cmpstr(tf->snapshots[1].why, ==, "change");
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[1].ts_ns), ==, 2 * SEC);
	g_assert_cmpstr(tf->snapshots[2].why, ==, "end");
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[2].ts_ns), ==, 3 * SEC);
	g_assert_cmpuint(tf->n_events, ==, 2);
	g_assert_cmpuint(tf->events[1].row.orig.dport, ==, 1);
	table_file_free(tf);
	test_rmdir(dir);
	g_free(path);
	scenario_free(sc);
}

/* Without --tables the stages get no recorder: stage_table_event() does nothing. */
static void test_off(void)
{
	toy_reset();
	struct scenario *sc = toy_load();
	static const int64_t at[] = { 0 };
	static const uint16_t port[] = { 1 };
	replay_toy(sc, NULL, at, port, 1);
	g_assert_cmpuint(toy.processed, ==, 1);
	g_assert_false(toy.saw_tables);
	scenario_free(sc);
}

/* ---- Reading back ----------------------------------------------------------------------------- */

/* A document starting at 0 s with snapshots at 1, 2, 2 (two at one time: the later record wins), 5 s. */
static char *doc_with_snapshots(void)
{
	GString *d = g_string_new("{\"format\":\"natlb-tables\",\"version\":1,\"scenario\":null,\"schedule\":\"every 2 s\","
	                          "\"records\":[");
	static const struct { int64_t at; const char *why; unsigned rows; } snaps[] = {
		{ 1, "a", 0 }, { 2, "b", 1 }, { 2, "c", 2 }, { 5, "d", 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(snaps); i++) {
		g_string_append_printf(d, "%s{\"type\":\"snapshot\",\"ts_ns\":%" G_GINT64_FORMAT ",\"why\":\"%s\","
		                       "\"stages\":[{\"name\":\"nat\",\"type\":\"napt\",\"rows\":[", i ? "," : "",
		                       T0 + snaps[i].at * SEC, snaps[i].why);
		for (unsigned r = 0; r < snaps[i].rows; r++)
			g_string_append_printf(d, "%s{\"id\":%u,\"proto\":17,\"timeout_ns\":null,\"state\":\"\",\"orig\":{\"src\":"
			                       "\"10.0.0.5\",\"sport\":1,\"dst\":\"8.8.8.8\",\"dport\":53},\"reply\":{\"src\":"
			                       "\"8.8.8.8\",\"sport\":53,\"dst\":\"203.0.113.7\",\"dport\":1},\"flags\":\"\","
			                       "\"packets\":[1,1],\"bytes\":[60,90]}", r ? "," : "", r + 1);
		g_string_append(d, "]}]}");
	}
	g_string_append_printf(d, "],\"start_ns\":%" G_GINT64_FORMAT ",\"end_ns\":%" G_GINT64_FORMAT
	                       ",\"events\":0,\"snapshots\":4}", T0, T0 + 5 * SEC);
	return g_string_free(d, FALSE);
}

static void test_at_selection(void)
{
	char *doc = doc_with_snapshots();
	struct table_file *tf = parse_text(doc);
	static const struct { int64_t at_ms; const char *want; } cases[] = {
		{ 1000, "a" }, { 1999, "a" }, { 2000, "c" }, { 4999, "c" }, { 5000, "d" }, { 99000, "d" },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct table_snapshot *s = table_file_at(tf, cases[i].at_ms * 1000000);
		g_assert_nonnull(s);
		g_assert_cmpstr(s->why, ==, cases[i].want);
	}
	g_assert_null(table_file_at(tf, 0));
	g_assert_null(table_file_at(tf, 999999999));
	g_assert_true(table_file_has_stage(tf, "nat"));
	g_assert_false(table_file_has_stage(tf, "na"));
	table_file_free(tf);
	g_free(doc);
}

static const struct {
	const char *name;
	struct table_row row;
	int64_t now_ns;
	const char *want;
} format_cases[] = {
	{ .name = "tcp with state and flags",
	  .row = { .id = 3, .proto = 6, .expires_ns = 349 * SEC + SEC / 2, .state = "ESTABLISHED",
	           .orig = { 0x0a00010a, 0xc6336450, 41002, 80 }, .reply = { 0xc6336450, 0xcb007119, 80, 41002 },
	           .flags = "mapping #1 EIM [ASSURED]", .packets = { 5, 4 }, .bytes = { 387, 437 } },
	  .now_ns = 0,
	  .want = "tcp      6 349 ESTABLISHED src=10.0.1.10 dst=198.51.100.80 sport=41002 dport=80 packets=5 bytes=387 "
	          "src=198.51.100.80 dst=203.0.113.25 sport=80 dport=41002 packets=4 bytes=437 mapping #1 EIM [ASSURED] id=3" },
	{ .name = "udp without a state, expired, no flags",
	  .row = { .id = 12, .proto = 17, .expires_ns = 10 * SEC, .state = "", .orig = { 0x0a000005, 0x08080808, 53001, 53 },
	           .reply = { 0x08080808, 0xcb000707, 53, 1024 }, .flags = "", .packets = { 1, 0 }, .bytes = { 60, 0 } },
	  .now_ns = 20 * SEC,
	  .want = "udp      17 0 src=10.0.0.5 dst=8.8.8.8 sport=53001 dport=53 packets=1 bytes=60 "
	          "src=8.8.8.8 dst=203.0.7.7 sport=53 dport=1024 packets=0 bytes=0 id=12" },
	{ .name = "icmp shows the identifier",
	  .row = { .id = 1, .proto = 1, .expires_ns = 60 * SEC, .state = NULL, .orig = { 0x0a000005, 0x01010101, 0x1234, 0x1234 },
	           .reply = { 0x01010101, 0xcb000707, 0x0400, 0x0400 }, .flags = NULL, .packets = { 2, 2 }, .bytes = { 196, 196 } },
	  .now_ns = 1 * SEC,
	  .want = "icmp     1 59 src=10.0.0.5 dst=1.1.1.1 id=4660 packets=2 bytes=196 src=1.1.1.1 dst=203.0.7.7 id=1024 "
	          "packets=2 bytes=196 id=1" },
	{ .name = "an entry that never expires, of any protocol",
	  .row = { .id = 7, .proto = 0, .expires_ns = INT64_MAX, .state = "", .orig = { 1, 2, 0, 0 }, .reply = { 2, 1, 0, 0 },
	           .flags = "static", .packets = { 0, 0 }, .bytes = { 0, 0 } },
	  .now_ns = 0,
	  .want = "any      0 never src=0.0.0.1 dst=0.0.0.2 sport=0 dport=0 packets=0 bytes=0 src=0.0.0.2 dst=0.0.0.1 "
	          "sport=0 dport=0 packets=0 bytes=0 static id=7" },
};

static void test_format(gconstpointer data)
{
	unsigned i = GPOINTER_TO_UINT(data);
	GString *s = g_string_new(NULL);
	table_row_format(&format_cases[i].row, format_cases[i].now_ns, s);
	g_assert_cmpstr(s->str, ==, format_cases[i].want);
	g_string_free(s, TRUE);
}

/* A snapshot printed: one comment line per stage, one conntrack line per row; --stage filters. */
static void test_print_snapshot(void)
{
	char *doc = doc_with_snapshots();
	struct table_file *tf = parse_text(doc);
	GString *s = g_string_new(NULL);
	table_snapshot_print(tf, table_file_at(tf, 3 * SEC), NULL, s);
	g_assert_cmpstr(s->str, ==,
	                "# tables at 2.000000 s (c)\n"
	                "# nat (napt): 2 entries\n"
	                "udp      17 never src=10.0.0.5 dst=8.8.8.8 sport=1 dport=53 packets=1 bytes=60 src=8.8.8.8 "
	                "dst=203.0.113.7 sport=53 dport=1 packets=1 bytes=90 id=1\n"
	                "udp      17 never src=10.0.0.5 dst=8.8.8.8 sport=1 dport=53 packets=1 bytes=60 src=8.8.8.8 "
	                "dst=203.0.113.7 sport=53 dport=1 packets=1 bytes=90 id=2\n");
	g_string_truncate(s, 0);
	table_snapshot_print(tf, table_file_at(tf, 3 * SEC), "other", s);
	g_assert_cmpstr(s->str, ==, "# tables at 2.000000 s (c)\n");
	g_string_truncate(s, 0);
	table_file_print_list(tf, s);
	g_assert_cmpstr(s->str, ==, "# 4 snapshots (every 2 s), 0 events\n"
	                            "    1.000000 s  a             nat: 0\n"
	                            "    2.000000 s  b             nat: 1\n"
	                            "    2.000000 s  c             nat: 2\n"
	                            "    5.000000 s  d             nat: 0\n");
	g_string_free(s, TRUE);
	table_file_free(tf);
	g_free(doc);
}

/* ---- Invalid files: one line, naming the file and the place ----------------------------------- */

#define HEAD "{\"format\":\"natlb-tables\",\"version\":1,\"scenario\":null,\"schedule\":\"end\",\"records\":["
#define TAIL(ev, sn) "],\"start_ns\":1000,\"end_ns\":2000,\"events\":" #ev ",\"snapshots\":" #sn "}"
#define SNAP(rows) "{\"type\":\"snapshot\",\"ts_ns\":2000,\"why\":\"end\",\"stages\":[{\"name\":\"n\",\"type\":\"napt\",\"rows\":[" rows "]}]}"
#define ROW(proto, orig_src, sport, timeout) \
	"{\"id\":1,\"proto\":" proto ",\"timeout_ns\":" timeout ",\"state\":\"\",\"orig\":{\"src\":\"" orig_src "\"," \
	"\"sport\":" sport ",\"dst\":\"8.8.8.8\",\"dport\":53},\"reply\":{\"src\":\"8.8.8.8\",\"sport\":53,\"dst\":" \
	"\"203.0.113.7\",\"dport\":1},\"flags\":\"\",\"packets\":[1,0],\"bytes\":[60,0]}"
#define GOOD_ROW ROW("17", "10.0.0.5", "1", "5")

static const struct bad_file {
	const char *name;
	const char *text;
	int code;
	const char *want; /* substring of the message */
} bad_files[] = {
	{ "valid-control", HEAD SNAP(GOOD_ROW) TAIL(0, 1), -1, NULL },
	{ "not-json", "hello", TABLES_FILE_ERROR_SYNTAX, "bad.json:" },
	{ "empty", "", TABLES_FILE_ERROR_SYNTAX, "bad.json" },
	{ "an-array", "[1,2]", TABLES_FILE_ERROR_FORMAT, "not a natlb tables file" },
	{ "other-json", "{\"format\":\"har\"}", TABLES_FILE_ERROR_FORMAT, "not a natlb tables file" },
	{ "nested-too-deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  TABLES_FILE_ERROR_SYNTAX, "nested more than" },
	{ "future-version", "{\"format\":\"natlb-tables\",\"version\":2}", TABLES_FILE_ERROR_FORMAT, "version 2" },
	{ "cut-short", HEAD SNAP(GOOD_ROW), TABLES_FILE_ERROR_SYNTAX, "bad.json:" },
	{ "counts-disagree", HEAD SNAP(GOOD_ROW) TAIL(1, 1), TABLES_FILE_ERROR_FORMAT, "cut or edited" },
	{ "no-snapshot", HEAD TAIL(0, 0), TABLES_FILE_ERROR_FORMAT, "no snapshot" },
	{ "proto-too-big", HEAD SNAP(ROW("300", "10.0.0.5", "1", "5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "record 1: stages[0].rows[0].proto: an integer from 0 to 255" },
	{ "port-too-big", HEAD SNAP(ROW("17", "10.0.0.5", "70000", "5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "rows[0].orig.sport: an integer from 0 to 65535" },
	{ "not-an-address", HEAD SNAP(ROW("17", "10.0.0.256", "1", "5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "orig.src: '10.0.0.256' is not an IPv4 address" },
	{ "negative-timeout", HEAD SNAP(ROW("17", "10.0.0.5", "1", "-5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "timeout_ns: an integer from 0" },
	{ "timeout-overflows", HEAD SNAP(ROW("17", "10.0.0.5", "1", "9223372036854775807")) TAIL(0, 1),
	  TABLES_FILE_ERROR_FORMAT, "timeout_ns: an integer from 0" },
	{ "float-proto", HEAD SNAP(ROW("6.5", "10.0.0.5", "1", "5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT, "proto:" },
	{ "string-proto", HEAD SNAP(ROW("\"tcp\"", "10.0.0.5", "1", "5")) TAIL(0, 1), TABLES_FILE_ERROR_FORMAT, "proto:" },
	{ "time-outside-the-file", HEAD "{\"type\":\"snapshot\",\"ts_ns\":5000,\"why\":\"end\",\"stages\":[]}" TAIL(0, 1),
	  TABLES_FILE_ERROR_FORMAT, "record 1: ts_ns: an integer from 1000 to 2000" },
	{ "unknown-record", HEAD "{\"type\":\"note\",\"ts_ns\":1500}," SNAP("") TAIL(1, 1), TABLES_FILE_ERROR_FORMAT,
	  "record 1: type: 'note'" },
	{ "unknown-event", HEAD "{\"type\":\"event\",\"ts_ns\":1500,\"stage\":\"n\",\"event\":\"born\",\"why\":null,"
	  "\"row\":null}," SNAP("") TAIL(1, 1), TABLES_FILE_ERROR_FORMAT, "'born' is not an event" },
	{ "event-row-bad", HEAD "{\"type\":\"event\",\"ts_ns\":1500,\"stage\":\"n\",\"event\":\"created\",\"why\":null,"
	  "\"row\":" ROW("17", "x", "1", "5") "}," SNAP("") TAIL(1, 1), TABLES_FILE_ERROR_FORMAT,
	  "record 1: row.orig.src: 'x' is not an IPv4 address" },
	{ "missing-member", HEAD "{\"type\":\"snapshot\",\"ts_ns\":2000,\"stages\":[]}" TAIL(0, 1),
	  TABLES_FILE_ERROR_FORMAT, "record 1: why: missing" },
	{ "packets-not-a-pair", HEAD SNAP("{\"id\":1,\"proto\":6,\"timeout_ns\":null,\"state\":\"\",\"orig\":{\"src\":\"1.1.1.1\","
	  "\"sport\":1,\"dst\":\"1.1.1.1\",\"dport\":1},\"reply\":{\"src\":\"1.1.1.1\",\"sport\":1,\"dst\":\"1.1.1.1\","
	  "\"dport\":1},\"flags\":\"\",\"packets\":[1],\"bytes\":[1,1]}") TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "packets: two counters" },
	{ "stage-twice", HEAD "{\"type\":\"snapshot\",\"ts_ns\":2000,\"why\":\"end\",\"stages\":[{\"name\":\"n\",\"type\":\"t\","
	  "\"rows\":[]},{\"name\":\"n\",\"type\":\"t\",\"rows\":[]}]}" TAIL(0, 1), TABLES_FILE_ERROR_FORMAT,
	  "stage 'n' appears twice" },
	{ "row-not-an-object", HEAD SNAP("3") TAIL(0, 1), TABLES_FILE_ERROR_FORMAT, "rows[0]: a row is an object" },
	{ "control-characters-in-a-string", HEAD "{\"type\":\"snapshot\",\"ts_ns\":2000,\"why\":\"end\\u001b[2J\","
	  "\"stages\":[]}" TAIL(0, 1), TABLES_FILE_ERROR_FORMAT, "record 1: why: a string without control characters" },
	{ "newline-in-a-quoted-token-stays-one-line", "{\"format\":\"natlb-tables\",\"records':[\n{", TABLES_FILE_ERROR_SYNTAX,
	  "bad.json:1:" },
	{ "newline-in-a-quoted-value-stays-one-line", HEAD "{\"type\":\"snap\\nshot\",\"ts_ns\":1500}," SNAP("") TAIL(1, 1),
	  TABLES_FILE_ERROR_FORMAT, "record 1: type: a string without control characters" },
};

static void test_bad_file(gconstpointer data)
{
	const struct bad_file *c = data;
	GError *err = NULL;
	/* An exact-size heap copy, so that ASan sees a read past the end. */
	size_t len = strlen(c->text);
	char *copy = g_memdup2(c->text, len);
	struct table_file *tf = table_file_parse("bad.json", copy, len, &err);
	if (c->code < 0) {
		g_assert_no_error(err);
		g_assert_nonnull(tf);
	} else {
		g_assert_null(tf);
		g_assert_error(err, TABLES_FILE_ERROR, c->code);
		if (!strstr(err->message, c->want))
			g_test_message("message: %s", err->message);
		g_assert_nonnull(strstr(err->message, c->want));
		g_assert_true(g_str_has_prefix(err->message, "bad.json"));
		g_assert_null(strchr(err->message, '\n'));
		g_error_free(err);
	}
	table_file_free(tf);
	g_free(copy);
}

/* ---- The verb ---------------------------------------------------------------------------------- */

struct verb_case {
	const char *name;
	const char *args[6];   /* after "tables"; "@GOOD" and "@BAD" are substituted */
	int want_status;
	const char *want_out;  /* substring of stdout, or NULL */
	const char *want_err;  /* substring of the one line of stderr, or NULL for an empty stderr */
};

static const struct verb_case verb_cases[] = {
	{ "prints-the-last-snapshot", { "@GOOD" }, 0, "# tables at 5.000000 s (d)\n# nat (napt): 0 entries\n", NULL },
	{ "at-picks-the-latest-at-or-before", { "@GOOD", "--at", "4.5" }, 0, "# tables at 2.000000 s (c)", NULL },
	{ "stage-filters", { "@GOOD", "--at", "2", "--stage", "nat" }, 0, "id=2\n", NULL },
	{ "list", { "@GOOD", "--list" }, 0, "    5.000000 s  d", NULL },
	{ "events-none", { "@GOOD", "--events" }, 0, "# no events\n", NULL },
	{ "missing-file", { "/nonexistent/t.json" }, 1, NULL, "/nonexistent/t.json" },
	{ "invalid-json", { "@BAD" }, 1, NULL, "bad.json:" },
	{ "at-before-the-first-snapshot", { "@GOOD", "--at", "0.5" }, 1, NULL, "no snapshot at or before 0.5 s" },
	{ "at-not-a-number", { "@GOOD", "--at", "soon" }, 2, NULL, "--at 'soon'" },
	{ "at-negative", { "@GOOD", "--at", "-1" }, 2, NULL, "--at '-1'" },
	{ "unknown-stage-hints", { "@GOOD", "--stage", "nap" }, 2, NULL, "did you mean 'nat'?" },
	{ "no-file", { NULL }, 2, NULL, "give one tables file" },
	{ "two-files", { "@GOOD", "@GOOD" }, 2, NULL, "give one tables file" },
	{ "unknown-option", { "@GOOD", "--every" }, 2, NULL, "--every" },
	{ "list-and-events", { "@GOOD", "--list", "--events" }, 2, NULL, "choose one" },
};

static void test_verb(gconstpointer data)
{
	const struct verb_case *c = data;
	char *dir = test_tmpdir();
	char *good = g_strdup_printf("%s/good.json", dir), *bad = g_strdup_printf("%s/bad.json", dir);
	char *doc = doc_with_snapshots();
	g_assert_true(g_file_set_contents(good, doc, -1, NULL));
	g_assert_true(g_file_set_contents(bad, "{\"format\":", -1, NULL));
	const char *argv[10] = { test_natlb_binary(), "tables" };
	unsigned n = 2;
	for (unsigned i = 0; c->args[i]; i++)
		argv[n++] = g_str_equal(c->args[i], "@GOOD") ? good : g_str_equal(c->args[i], "@BAD") ? bad : c->args[i];
	argv[n] = NULL;
	char *out = NULL, *err = NULL;
	int rc = test_run(argv, &out, &err);
	if (rc != c->want_status)
		g_test_message("stdout: %s\nstderr: %s", out, err);
	g_assert_cmpint(rc, ==, c->want_status);
	if (c->want_out)
		g_assert_nonnull(strstr(out, c->want_out));
	if (c->want_err) {
		g_assert_nonnull(strstr(err, c->want_err));
		g_assert_true(g_str_has_suffix(err, "\n"));
		g_assert_true(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
		g_assert_cmpstr(out, ==, "");
	} else {
		g_assert_cmpstr(err, ==, "");
	}
	g_free(out);
	g_free(err);
	g_free(doc);
	test_rmdir(dir);
	g_free(good);
	g_free(bad);
}

/* ---- natlb replay's --tables options: usage errors exit 2, an unwritable file 1; no file is left behind ---- */

struct replay_case {
	const char *name;
	const char *args[6]; /* after "replay"; "@T" is the tables path in the temporary directory */
	int want_status;
	const char *want_err;
};

static const struct replay_case replay_cases[] = {
	{ "every-without-tables", { "--tables-every", "10" }, 2, "--tables-every needs --tables FILE.json" },
	{ "every-not-a-time", { "--tables", "@T", "--tables-every", "soon" }, 2, "--tables-every 'soon'" },
	{ "every-zero", { "--tables", "@T", "--tables-every", "0" }, 2, "--tables-every '0'" },
	{ "unwritable-tables", { "--tables", "/nonexistent/dir/t.json" }, 1, "/nonexistent/dir/t.json" },
};

static void test_replay_verb(gconstpointer data)
{
	const struct replay_case *c = data;
	char *dir = test_tmpdir();
	char *capture = g_strdup_printf("%s/s.pcap", dir), *out = g_strdup_printf("%s/out.pcapng", dir);
	char *tables = g_strdup_printf("%s/t.json", dir);
	const char *gen[] = { test_natlb_binary(), "gen", "static-nat", "-o", capture, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *argv[16] = { test_natlb_binary(), "replay", "-q", "-o", out };
	unsigned n = 5;
	for (unsigned i = 0; c->args[i]; i++)
		argv[n++] = g_str_equal(c->args[i], "@T") ? tables : c->args[i];
	argv[n++] = capture;
	argv[n] = NULL;
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	g_assert_cmpint(rc, ==, c->want_status);
	g_assert_nonnull(strstr(err, c->want_err));
	g_assert_true(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(tables, G_FILE_TEST_EXISTS));
	g_unlink(capture);
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_null(g_dir_read_name(d)); /* no temporary left behind */
	g_dir_close(d);
	g_free(err);
	test_rmdir(dir);
	g_free(capture);
	g_free(out);
	g_free(tables);
}

/* A replay with --tables writes the file and says so; a scenario without a table still gets one snapshot. */
static void test_replay_writes_tables(void)
{
	char *dir = test_tmpdir();
	char *capture = g_strdup_printf("%s/s.pcap", dir), *out = g_strdup_printf("%s/out.pcapng", dir);
	char *tables = g_strdup_printf("%s/t.json", dir);
	const char *gen[] = { test_natlb_binary(), "gen", "static-nat", "-o", capture, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *argv[] = { test_natlb_binary(), "replay", "-s", "static-nat", "--tables", tables, "--tables-every", "4",
	                       "-o", out, capture, NULL };
	char *err = NULL;
	g_assert_cmpint(test_run(argv, NULL, &err), ==, 0);
	g_assert_nonnull(strstr(err, "natlb replay: wrote "));
	g_assert_nonnull(strstr(err, "t.json (3 snapshots, 0 events; natlb tables "));
	GError *gerr = NULL;
	struct table_file *tf = table_file_load(tables, &gerr);
	g_assert_no_error(gerr);
	/* The lesson spans 11 s: snapshots at 4 and 8 s, then the one at the end (11 s). */
	g_assert_cmpuint(tf->n_snapshots, ==, 3);
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[0].ts_ns), ==, 4 * SEC);
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[1].ts_ns), ==, 8 * SEC);
	g_assert_cmpint(table_file_rel(tf, tf->snapshots[2].ts_ns), ==, 11 * SEC);
	g_assert_cmpstr(tf->snapshots[2].why, ==, "end");
	g_assert_cmpuint(tf->snapshots[2].n_stages, ==, 0);
	g_assert_cmpstr(tf->scenario, ==, "scenarios/static-nat.ini" /* the lesson name reads the file on disk */);
	table_file_free(tf);
	g_free(err);
	test_rmdir(dir);
	g_free(capture);
	g_free(out);
	g_free(tables);
}

/* Issue item 5, end to end: lb-dns's six client flows go quiet at 0.0 .. 0.5 s and expire 120 s
 * later; the next packet comes at 200 s.  Whatever the schedule, the EXPIRED events read 120.x s
 * (they read 200 s, or 130 s with --tables-every 10), every record is in time order, and the
 * snapshot at 120 s still holds the flows that expire after it, which the one at 130 s does not. */
static void check_lb_dns_expiry(const char *every)
{
	char *dir = test_tmpdir(), *json = g_strdup_printf("%s/t.json", dir), *out = g_strdup_printf("%s/o.pcapng", dir);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "lb-dns", "--tables", json, "-o", out,
	                         "pcaps/lb-dns.pcap", every ? "--tables-every" : NULL, every, NULL };
	GError *err = NULL;

	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	/* every record, events and snapshots together, in time order */
	JsonParser *parser = json_parser_new();
	g_assert_true(json_parser_load_from_file(parser, json, &err));
	g_assert_no_error(err);
	JsonArray *records = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)), "records");
	for (guint i = 1; i < json_array_get_length(records); i++)
		g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(records, i - 1), "ts_ns"), <=,
		                json_object_get_int_member(json_array_get_object_element(records, i), "ts_ns"));
	g_object_unref(parser);

	struct table_file *tf = table_file_load(json, &err);
	g_assert_no_error(err);
	unsigned n_expired = 0;
	int64_t last_expiry = 0;
	for (unsigned i = 0; i < tf->n_events; i++) {
		const struct table_file_event *e = &tf->events[i];
		if (e->kind != TABLE_EVENT_EXPIRED || e->row.orig.sport < 53001 || e->row.orig.sport > 53006)
			continue;
		n_expired++;
		int64_t rel = table_file_rel(tf, e->ts_ns);
		g_assert_cmpint(rel, >=, 120 * SEC);
		g_assert_cmpint(rel, <, 121 * SEC);
		g_assert_cmpint(e->row.expires_ns, ==, e->ts_ns); /* its timeout is 0 in the event */
		last_expiry = MAX(last_expiry, rel);
	}
	g_assert_cmpuint(n_expired, ==, 6);
	g_assert_cmpint(last_expiry, >, 120 * SEC + SEC / 2); /* 53006's reply came at 0.503 s */
	if (every) {
		const struct table_snapshot *at120 = table_file_at(tf, 120 * SEC), *at130 = table_file_at(tf, 130 * SEC);
		g_assert_nonnull(at120);
		g_assert_cmpint(table_file_rel(tf, at120->ts_ns), ==, 120 * SEC);
		g_assert_cmpint(table_file_rel(tf, at130->ts_ns), ==, 130 * SEC);
		unsigned live120 = 0, live130 = 0;
		for (unsigned r = 0; r < at120->stages[0].n_rows; r++) {
			const struct table_row *row = &at120->stages[0].rows[r];
			if (row->orig.sport >= 53001 && row->orig.sport <= 53006) {
				live120++;
				g_assert_cmpint(row->expires_ns, >, at120->ts_ns);
			}
		}
		for (unsigned r = 0; r < at130->stages[0].n_rows; r++)
			live130 += at130->stages[0].rows[r].orig.sport >= 53001 && at130->stages[0].rows[r].orig.sport <= 53006;
		g_assert_cmpuint(live120, ==, 6); /* the first expires at 120.003 s: all six are live at 120 s */
		g_assert_cmpuint(live130, ==, 0);
	}
	table_file_free(tf);
	test_rmdir(dir);
	g_free(json);
	g_free(out);
}

static void test_lb_dns_expiry_end(void)
{
	check_lb_dns_expiry(NULL);
}

static void test_lb_dns_expiry_every(void)
{
	check_lb_dns_expiry("10");
}

/* napt-home's DNS reply at 0.003 s answers mapping #1: with --tables-every change, the tables at
 * 0.5 s show it [ASSURED] with one reply, as conntrack would (issue 10: it read [UNREPLIED]). */
static void test_on_change_sees_the_first_reply(void)
{
	char *dir = test_tmpdir(), *json = g_strdup_printf("%s/t.json", dir), *out = g_strdup_printf("%s/o.pcapng", dir);
	char *listing = NULL;
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "scenarios/napt-home.ini", "--tables", json,
	                         "--tables-every", "change", "-o", out, "pcaps/napt-home.pcap", NULL };
	const char *tables[] = { test_natlb_binary(), "tables", json, "--at", "0.5", NULL };

	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	g_assert_cmpint(test_run(tables, &listing, NULL), ==, 0);
	g_assert_true(g_str_has_prefix(listing, "# tables at 0.003000 s (change)"));
	char **lines = g_strsplit(listing, "\n", -1);
	const char *m1 = NULL;
	for (char **l = lines; *l && !m1; l++)
		if (strstr(*l, "mapping #1 "))
			m1 = *l;
	g_assert_nonnull(m1);
	g_assert_nonnull(strstr(m1, "sport=53 dport=40000 packets=1 "));
	g_assert_nonnull(strstr(m1, "mapping #1 EIM port-preserved [ASSURED]"));
	g_strfreev(lines);
	g_free(listing);
	g_free(json);
	g_free(out);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	test_types = *natlb_stage_types();
	stage_registry_add(&test_types, &toy_ops);
	g_test_add_func("/tables/every/change/the-first-reply-is-a-change", test_on_change_sees_the_first_reply);
	g_test_add_func("/tables/schedule/parses-seconds-change-and-end", test_schedule_parses);
	g_test_add_func("/tables/schedule/refuses-what-is-not-a-time", test_schedule_refuses);
	g_test_add_func("/tables/recorder/json-round-trip-keeps-every-field", test_round_trip);
	g_test_add_func("/tables/recorder/tee-gets-the-same-events-stop-records-nothing-more", test_tee_stop_and_rows);
	g_test_add_func("/tables/recorder/file-appears-only-when-finished", test_file_atomic);
	g_test_add_func("/tables/recorder/expired-is-stamped-when-it-expired-in-time-order", test_expired_at_its_time_in_order);
	g_test_add_func("/tables/recorder/a-snapshot-writes-the-held-events-first", test_snapshot_after_held_events);
	g_test_add_func("/tables/recorder/unwritable-directory-fails-at-open", test_unwritable);
	g_test_add_func("/tables/replay/every-n-seconds-advances-the-stages-to-each-snapshot", test_every_n_seconds);
	g_test_add_func("/tables/replay/change-snapshots-after-each-packet-that-changed-a-table", test_on_change);
	g_test_add_func("/tables/replay/a-long-gap-takes-only-the-last-snapshot-due", test_gap_is_bounded);
	g_test_add_func("/tables/replay/off-gives-the-stages-no-recorder", test_off);
	g_test_add_func("/tables/read/at-picks-the-latest-snapshot-at-or-before", test_at_selection);
	g_test_add_func("/tables/print/snapshot-list-and-stage-filter", test_print_snapshot);
	for (unsigned i = 0; i < G_N_ELEMENTS(format_cases); i++) {
		char *path = g_strdup_printf("/tables/print/conntrack-line/%s", format_cases[i].name);
		for (char *p = path; *p; p++)
			*p = *p == ' ' || *p == ',' ? '-' : *p;
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_format);
		g_free(path);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_files); i++) {
		char *path = g_strdup_printf("/tables/read/invalid/%s", bad_files[i].name);
		g_test_add_data_func(path, &bad_files[i], test_bad_file);
		g_free(path);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(verb_cases); i++) {
		char *path = g_strdup_printf("/tables/verb/%s", verb_cases[i].name);
		g_test_add_data_func(path, &verb_cases[i], test_verb);
		g_free(path);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(replay_cases); i++) {
		char *path = g_strdup_printf("/tables/replay-verb/%s", replay_cases[i].name);
		g_test_add_data_func(path, &replay_cases[i], test_replay_verb);
		g_free(path);
	}
	g_test_add_func("/tables/replay-verb/writes-the-file-and-says-so", test_replay_writes_tables);
	g_test_add_func("/tables/replay/lb-dns-expires-at-120-s-not-at-the-next-packet", test_lb_dns_expiry_end);
	g_test_add_func("/tables/replay/lb-dns-every-10-s-expires-between-the-snapshots", test_lb_dns_expiry_every);
	return g_test_run();
}
