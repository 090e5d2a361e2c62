/* tools/replay.c: natlb replay: captures in, one annotated view per link out (DESIGN.md, "The command line"). */
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/chain.h"
#include "common/flow_log.h"
#include "common/input.h"
#include "common/output.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/tables_writer.h"
#include "tools/cli.h"
#include "tools/html_page.h"

#define PROGRESS_EVERY 65536 /* packets between two looks at the clock */

struct replay_args {
	char *scenario;
	char *output;
	char *filter;
	char *links;
	char *format;
	char *tables;        /* --tables FILE.json */
	char *tables_every;  /* --tables-every SECONDS|change|end */
	char *access_log;    /* --access-log FILE */
	char *flow_log;      /* --flow-log FILE */
	gint flow_log_interval; /* --flow-log-interval 60|600 */
	char *flow_log_format;  /* --flow-log-format '${version} ...' */
	char *html;          /* --html FILE */
	gint html_max_views; /* --html-max-views N */
	gboolean trace;
	gboolean stats;
	gboolean quiet;
	gint64 seed;
	char **inputs;
};

/* A record input.c repaired (its time or length): replayed alone, without the look-ahead, so that
 * the note lands on its views (and on what stages emit in answer to it) and on nothing else. */
static gboolean replay_repaired(struct pipeline *pl, struct output *out, struct html_page *page,
                                const struct input_record *rec, const char *problem, GError **err)
{
	if (!pipeline_drain(pl, err))
		return FALSE;
	output_set_note(out, problem);
	if (page)
		html_page_set_note(page, problem);
	gboolean ok = pipeline_replay(pl, rec, err);
	output_set_note(out, NULL);
	if (page)
		html_page_set_note(page, NULL);
	return ok;
}

/* Each line of input_warnings() on its own line of stderr. */
static void warnings_print(struct input_set *in)
{
	const char *w = input_warnings(in);
	if (!w)
		return;
	char **lines = g_strsplit(w, "\n", -1);
	for (char **l = lines; *l; l++)
		if (**l)
			fprintf(stderr, "natlb replay: warning: %s\n", *l);
	g_strfreev(lines);
}

/* Where the scenario puts addr, in words: "link internet (one of static-nat office's own addresses)" or
 * "link lan (network 10.0.1.0/24)" or "link internet (no link's networks hold it)". */
static void place_of(const struct scenario *sc, uint32_t addr, GString *out)
{
	char buf[19];
	unsigned k = chain_locate(sc, addr);
	g_string_append_printf(out, "link %s", sc->links[k].name);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		for (unsigned side = SIDE_LEFT; st->ops->claims && side <= SIDE_RIGHT; side++)
			if (st->ops->claims(st, addr, (enum side)side)) {
				g_string_append_printf(out, " (one of %s %s's own addresses)", st->ops->type, st->name);
				return;
			}
	}
	const struct link *l = &sc->links[k];
	for (unsigned j = 0; j < l->n_networks; j++)
		if (ip4_prefix_contains(&l->networks[j], addr)) {
			g_string_append_printf(out, " (network %s)", ip4_prefix_to_str(&l->networks[j], buf));
			return;
		}
	g_string_append(out, " (no link's networks hold it)");
}

/* A wrong address plan replays without an error but into nonsense (issue 10): say so once, with
 * counts and the first packet, in words that say what to change.  From counters the loop keeps
 * anyway; the replay still exits 0. */
static void plan_warnings(const struct scenario *sc, const struct pipeline *pl)
{
	struct pipeline_plan_report r;
	char a[16], b[16];
	pipeline_plan_report(pl, &r);
	const char *capture = sc->links[sc->capture].name;
	GString *where = g_string_new(NULL);

	/* One warning, the most telling: a plan that loops also leaves packets off the capture link. */
	if (r.routing_loops * 2 > r.packets) {
		const struct pipeline_example *e = &r.first_loop;
		g_string_truncate(where, 0);
		place_of(sc, e->dst, where);
		fprintf(stderr, "natlb replay: warning: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " packets ended as "
		        "ROUTING_LOOP (first: packet %" G_GUINT64_FORMAT ", %s -> %s on %s): the address plan of scenario %s "
		        "puts %s on %s, so packets for it turn back at the stage they just crossed: a host of the capture "
		        "must not be one of a stage's outside addresses or VIPs, nor in another link's networks (natlb "
		        "check -s %s shows the plan)\n",
		        r.routing_loops, r.packets, e->packet, ip4_to_str(e->src, a), ip4_to_str(e->dst, b),
		        sc->links[e->link].name, sc->source, b, where->str, sc->source);
	} else if (r.overderived) {
		const struct pipeline_example *e = &r.first_overderived;
		g_string_truncate(where, 0);
		place_of(sc, e->src, where);
		fprintf(stderr, "natlb replay: warning: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " captured packets were "
		        "worked back through more stages than the chain has (first: packet %" G_GUINT64_FORMAT ", %s -> %s): "
		        "scenario %s puts their source %s on %s, so a host of the capture is inside a stage's translated "
		        "addresses; give the stages addresses the capture does not use\n",
		        r.overderived, r.packets, e->packet, ip4_to_str(e->src, a), ip4_to_str(e->dst, b), sc->source, a,
		        where->str);
	} else if (r.misplaced) {
		const struct pipeline_example *e = &r.first_misplaced;
		GString *to = g_string_new(NULL);
		place_of(sc, e->src, where);
		place_of(sc, e->dst, to);
		fprintf(stderr, "natlb replay: warning: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " captured packets do "
		        "not belong on link %s, where the capture was taken (first: packet %" G_GUINT64_FORMAT ", %s -> %s "
		        "on %s): scenario %s puts %s on %s and %s on %s, and no stage on the way could have passed it "
		        "onto %s; add the capture's hosts to the networks of %s, or set capture to the link they are on\n",
		        r.misplaced, r.packets, capture, e->packet, ip4_to_str(e->src, a), ip4_to_str(e->dst, b),
		        sc->links[e->link].name, sc->source, a, where->str, b, to->str, capture, capture);
		g_string_free(to, TRUE);
	}
	g_string_free(where, TRUE);
}

/* --stats lines about the input itself, after the pipeline's. */
static void input_stats(struct input_set *in, GString *s)
{
	static const char *const what[INPUT_PROBLEM_N] = {
		[INPUT_PROBLEM_TIME_OUT_OF_RANGE] = "timestamp clamped",
		[INPUT_PROBLEM_CAPLEN_OVER_LEN] = "captured length above the original",
	};
	if (input_filtered(in))
		g_string_append_printf(s, "  rejected by the filter: %" G_GUINT64_FORMAT " packets (not replayed)\n",
		                       input_filtered(in));
	for (unsigned p = 0; p < INPUT_PROBLEM_N; p++)
		if (input_problems(in, p))
			g_string_append_printf(s, "  input records repaired (%s): %" G_GUINT64_FORMAT " (replayed, annotated)\n",
			                       what[p], input_problems(in, p));
}

/* The links whose views are written: --links, less names the scenario lacks (pipeline_new()
 * refuses those), or all of them. */
static GPtrArray *written_links(const struct scenario *sc, const char *links)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	char **wanted = links ? g_strsplit(links, ",", -1) : NULL;
	for (char **w = wanted; w && *w; w++)
		g_strstrip(*w);
	for (unsigned i = 0; i < sc->n_links; i++)
		if (!wanted || g_strv_contains((const char *const *)wanted, sc->links[i].name))
			g_ptr_array_add(names, g_strdup(sc->links[i].name));
	g_ptr_array_add(names, NULL);
	g_strfreev(wanted);
	return names;
}

/* Refuse, before anything is opened, to write any output (final or temporary name) over an
 * input or over another output.  The tables' temporary name is made by mkstemp(), which never
 * opens an existing file. */
static gboolean check_paths(const struct replay_args *a, const struct scenario *sc, enum output_format fmt,
                            GError **err)
{
	GArray *roles = output_roles_new();
	for (char **in = a->inputs; *in; in++)
		output_roles_add(roles, *in, true, "the input %s", *in);
	GPtrArray *links = written_links(sc, a->links);
	output_roles_add_output(roles, fmt, a->output, (const char *const *)links->pdata);
	g_ptr_array_free(links, TRUE);
	if (a->tables)
		output_roles_add(roles, a->tables, false, "--tables %s", a->tables);
	if (a->access_log) {
		output_roles_add(roles, a->access_log, false, "--access-log %s", a->access_log);
		char *partial = g_strconcat(a->access_log, ".partial", NULL);
		output_roles_add(roles, partial, false, "--access-log's temporary %s", partial);
		g_free(partial);
	}
	if (a->html)
		html_page_roles_add(roles, a->html);
	if (a->flow_log) {
		output_roles_add(roles, a->flow_log, false, "--flow-log %s", a->flow_log);
		char *partial = g_strconcat(a->flow_log, ".partial", NULL);
		output_roles_add(roles, partial, false, "--flow-log's temporary %s", partial);
		g_free(partial);
	}
	gboolean ok = output_roles_check(roles, err);
	g_array_free(roles, TRUE);
	return ok;
}

/* --access-log FILE: written to FILE.partial, renamed with the other outputs. */
struct access_log {
	char *path, *partial;
	FILE *f;
};

static struct access_log *access_log_open(const char *path, GError **err)
{
	struct access_log *log = g_new0(struct access_log, 1);
	log->path = g_strdup(path);
	log->partial = g_strconcat(path, ".partial", NULL);
	log->f = fopen(log->partial, "w");
	if (!log->f) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "--access-log %s: %s", log->partial,
		            g_strerror(errno));
		g_free(log->partial);
		g_free(log->path);
		g_free(log);
		return NULL;
	}
	return log;
}

/* Closed and renamed into place: false (and nothing left) when either fails. */
static gboolean access_log_finish(struct access_log *log, GError **err)
{
	int bad = ferror(log->f);
	if (fclose(log->f) != 0 || bad || g_rename(log->partial, log->path) != 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "--access-log %s: %s", log->path,
		            g_strerror(errno));
		log->f = NULL;
		g_unlink(log->partial);
		return FALSE;
	}
	log->f = NULL;
	return TRUE;
}

/* Gone, whatever state it is in: the temporary file removed unless it was renamed. */
static void access_log_free(struct access_log *log)
{
	if (!log)
		return;
	if (log->f) {
		fclose(log->f);
		g_unlink(log->partial);
	}
	g_free(log->partial);
	g_free(log->path);
	g_free(log);
}

/* All outputs or none: every file is written out under its temporary name first, then they are
 * renamed together.  The tables recorder renames its own file as it finishes, so it goes between
 * the two halves of closing out, and its file is removed again if out's renames fail. */
static gboolean outputs_commit(struct output *out, struct table_recorder *tables, const struct scenario *sc,
                               const char *tables_path, struct access_log *log, struct flow_log *flows,
                               const char *flows_path, struct html_page *page, const char *stats, GError **err)
{
	if (!output_finish(out, err) || (page && !html_page_finish(page, stats, err)) ||
	    (tables && !table_recorder_finish(tables, sc, err)) || (log && !access_log_finish(log, err))) {
		output_abort(out); /* the flow log's temporary goes with flow_log_free() */
		return FALSE;
	}
	if (flows && !flow_log_finish(flows, err)) {
		output_abort(out);
		if (tables)
			g_unlink(tables_path);
		if (log)
			g_unlink(log->path);
		return FALSE;
	}
	if (page && !html_page_commit(page, err)) {
		output_abort(out);
		if (tables)
			g_unlink(tables_path);
		if (log)
			g_unlink(log->path);
		if (flows)
			g_unlink(flows_path);
		return FALSE;
	}
	if (!output_commit(out, err)) {
		if (tables)
			g_unlink(tables_path);
		if (log)
			g_unlink(log->path);
		if (flows)
			g_unlink(flows_path);
		if (page)
			html_page_remove(page);
		return FALSE;
	}
	return TRUE;
}

/* SIGINT and SIGTERM stop the replay as they stop tcpdump: the handler only notes the signal,
 * the read loop checks it before each record, and the replay then ends as if the inputs had:
 * whole outputs of what was replayed, renamed into place, no temporary left, and exit 128+N.
 * SA_RESTART: a read from a pipe resumes instead of failing with EINTR. */
static volatile sig_atomic_t stop_signal;

static void stop_signal_note(int sig)
{
	stop_signal = sig;
}

static void stop_signals_catch(struct sigaction old[2])
{
	struct sigaction sa = { .sa_handler = stop_signal_note, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	stop_signal = 0;
	static const int sigs[2] = { SIGINT, SIGTERM };
	for (int i = 0; i < 2; i++) {
		sigaction(sigs[i], NULL, &old[i]);
		/* One the caller ignores stays ignored, as a shell ignores SIGINT for a background job. */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

static void stop_signals_restore(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* A bar on stderr, only when a person is watching a terminal. */
static void progress_show(const struct input_set *in, uint64_t packets, gint64 *last_us)
{
	gint64 now = g_get_monotonic_time();
	if (now - *last_us < 200000)
		return;
	*last_us = now;
	double f = input_progress(in);
	int filled = (int)(f * 30);
	fprintf(stderr, "\r[%-30.*s] %3d%%  %" G_GUINT64_FORMAT " packets", filled,
	        "##############################", (int)(f * 100), packets);
}

/* Every record of the inputs through the pipeline, until they end or a stop signal comes; then
 * *stopped_by is the signal, else 0. */
static gboolean replay_loop(struct input_set *in, struct pipeline *pl, struct output *out, struct html_page *page,
                            bool show_progress, int *stopped_by, GError **err)
{
	struct input_record rec;
	uint64_t packets = 0;
	gint64 last_us = g_get_monotonic_time();

	*stopped_by = 0;
	for (;;) {
		if (stop_signal) { /* checked before each record: the stop takes effect at once */
			*stopped_by = stop_signal;
			break;
		}
		if (input_next(in, &rec) != 1)
			break;
		const char *problem = input_last_problem(in);
		if (!(problem ? replay_repaired(pl, out, page, &rec, problem, err) : pipeline_push(pl, &rec, err)))
			return FALSE;
		if (show_progress && ++packets % PROGRESS_EVERY == 0)
			progress_show(in, packets, &last_us);
	}
	if (!pipeline_drain(pl, err))
		return FALSE;
	if (show_progress && packets >= PROGRESS_EVERY)
		fprintf(stderr, "\r%60s\r", "");
	return TRUE;
}

/* The --stats report (the lesson page shows it too). */
static char *stats_text(struct input_set *in, const struct pipeline *pl, int cut_short_by)
{
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	input_stats(in, s);
	if (cut_short_by)
		g_string_append_printf(s, "  cut short by %s: the inputs were not read to the end\n",
		                       cut_short_by == SIGINT ? "SIGINT" : "SIGTERM");
	return g_string_free(s, FALSE);
}

/* After a replay whose outputs are in place: warnings, the cut-short line, --stats, and the
 * names of the files written. */
static void report_done(const struct replay_args *a, struct input_set *in, const struct pipeline *pl,
                        const struct table_recorder *tables, const struct scenario *sc, const char *const *paths,
                        int cut_short_by)
{
	const char *by = cut_short_by == SIGINT ? "SIGINT" : "SIGTERM";
	warnings_print(in);
	plan_warnings(sc, pl);
	if (cut_short_by)
		fprintf(stderr, "natlb replay: interrupted by %s: the inputs were not read to the end; the output holds "
		        "what was replayed before\n", by);
	if (a->stats) {
		char *s = stats_text(in, pl, cut_short_by);
		fputs(s, stdout);
		g_free(s);
	}
	if (!a->quiet) /* which file a lesson name read: an edited copy on disk, or the one built in */
		fprintf(stderr, "natlb replay: scenario %s\n", sc->source);
	if (!a->quiet)
		for (const char *const *p = paths; *p; p++)
			fprintf(stderr, "natlb replay: wrote %s\n", *p);
	if (!a->quiet && a->html)
		fprintf(stderr, "natlb replay: wrote %s (the lesson page: open it in a browser)\n", a->html);
	if (!a->quiet && tables)
		fprintf(stderr, "natlb replay: wrote %s (%u snapshots, %u events; natlb tables %s)\n", a->tables,
		        table_recorder_n_snapshots(tables), table_recorder_n_events(tables), a->tables);
}

/* --flow-log's companions: an interval AWS offers, a format of its fields, neither without --flow-log. */
static gboolean flow_log_options_check(const struct replay_args *a, struct flow_log_format *fmt)
{
	GError *err = NULL;
	if (!a->flow_log && (a->flow_log_format || a->flow_log_interval != FLOW_LOG_DEFAULT_INTERVAL)) {
		fprintf(stderr, "natlb replay: --flow-log-%s needs --flow-log FILE (where the records go)\n",
		        a->flow_log_format ? "format" : "interval");
		return FALSE;
	}
	if (a->flow_log_interval != 60 && a->flow_log_interval != 600) {
		fprintf(stderr, "natlb replay: --flow-log-interval %d: AWS aggregates over 60 or 600 seconds\n",
		        a->flow_log_interval);
		return FALSE;
	}
	if (!flow_log_format_parse(a->flow_log_format ? a->flow_log_format : FLOW_LOG_DEFAULT_FORMAT, fmt, &err)) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_clear_error(&err);
		return FALSE;
	}
	return TRUE;
}

static int replay_run(struct replay_args *a)
{
	GError *err = NULL;
	struct scenario *sc = NULL;
	struct input_set *in = NULL;
	struct output *out = NULL;
	struct pipeline *pl = NULL;
	struct table_recorder *tables = NULL;
	struct access_log *log = NULL;
	struct flow_log *flows = NULL;
	struct flow_log_format flow_fmt;
	struct html_page *page = NULL;
	struct table_schedule when = { 0 };
	int status = EXIT_RUNTIME;
	enum output_format fmt = OUTPUT_PCAPNG;
	struct sigaction old_actions[2];
	bool show_progress = !a->quiet && !a->trace && isatty(STDERR_FILENO);

	if (a->format && strcmp(a->format, "pcap") == 0)
		fmt = OUTPUT_PCAP;
	else if (a->format && strcmp(a->format, "pcapng") != 0) {
		fprintf(stderr, "natlb replay: --format '%s': use pcapng or pcap\n", a->format);
		return EXIT_USAGE;
	}
	if (a->html && fmt != OUTPUT_PCAPNG) {
		fprintf(stderr, "natlb replay: --html numbers its steps as the frames of one pcapng file: "
		        "leave out --format pcap\n");
		return EXIT_USAGE;
	}
	if (a->html_max_views < 1) {
		fprintf(stderr, "natlb replay: --html-max-views %d: give at least 1\n", a->html_max_views);
		return EXIT_USAGE;
	}
	if (!flow_log_options_check(a, &flow_fmt))
		return EXIT_USAGE;
	if (a->tables_every && !a->tables) {
		fprintf(stderr, "natlb replay: --tables-every needs --tables FILE.json (where the snapshots go)\n");
		return EXIT_USAGE;
	}
	if (a->tables_every && !table_schedule_parse(a->tables_every, &when, &err)) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_clear_error(&err);
		return EXIT_USAGE;
	}
	stop_signals_catch(old_actions);
	sc = cli_scenario_load(a->scenario, &err);
	if (!sc) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = g_error_matches(err, SCENARIO_ERROR, SCENARIO_ERROR_MEMORY) ? EXIT_RUNTIME : EXIT_USAGE;
		goto out;
	}
	const GPtrArray *sw = scenario_warnings(sc);
	for (guint i = 0; i < sw->len; i++)
		fprintf(stderr, "natlb replay: warning: %s\n", (const char *)g_ptr_array_index(sw, i));
	if (!check_paths(a, sc, fmt, &err)) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = EXIT_USAGE;
		goto out;
	}
	if (!cli_links_check(sc, a->links, &err)) { /* before any file is opened: it lists the links */
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = EXIT_USAGE;
		goto out;
	}
	in = input_open(a->inputs, g_strv_length(a->inputs), a->filter, &err);
	if (!in) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = g_str_has_prefix(err->message, "filter ") ? EXIT_USAGE : EXIT_RUNTIME;
		goto out;
	}
	char *joined = g_strjoinv(", ", a->inputs);
	char *shb = g_strdup_printf("natlb replay of %s through %s%s%s", joined, sc->source,
	                            sc->description ? ": " : "", sc->description ? sc->description : "");
	out = output_open(fmt, a->output, shb, &err);
	g_free(shb);
	g_free(joined);
	if (!out) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		goto out;
	}
	if (a->tables && !(tables = table_recorder_open(a->tables, sc->source, &when, &err))) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		goto out;
	}
	if (a->access_log && !(log = access_log_open(a->access_log, &err))) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		goto out;
	}
	if (a->flow_log && !(flows = flow_log_open(a->flow_log, sc, (unsigned)a->flow_log_interval, &flow_fmt, &err))) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		goto out;
	}
	if (a->html && !(page = html_page_open(a->html, sc, out, (unsigned)a->html_max_views, &err))) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		goto out;
	}
	struct pipeline_options opt = { .links = a->links, .trace = a->trace, .seed = (uint64_t)a->seed,
	                                .tables = tables, .access_log = log ? log->f : NULL, .flow_log = flows };
	if (page && tables) /* the page keeps its own tables, at each change, beside --tables' */
		table_recorder_tee(tables, html_page_tables(page));
	else if (page)
		opt.tables = html_page_tables(page);
	if (page) {
		const struct view_sink sink = html_page_sink(page);
		pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	} else {
		pl = pipeline_new(sc, out, &opt, &err);
	}
	if (!pl) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = EXIT_USAGE;
		goto out;
	}
	int cut_short_by = 0;
	if (!replay_loop(in, pl, out, page, show_progress, &cut_short_by, &err)) {
		fprintf(stderr, "%snatlb replay: %s\n", show_progress ? "\n" : "", err->message);
		goto out;
	}
	/* Keep the list of paths: output_commit frees them. */
	char **paths = g_strdupv((char **)output_paths(out));
	char *stats = page ? stats_text(in, pl, cut_short_by) : NULL;
	gboolean committed = outputs_commit(out, tables, sc, a->tables, log, flows, a->flow_log, page, stats, &err);
	g_free(stats);
	out = NULL;
	if (!committed) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_strfreev(paths);
		goto out;
	}
	report_done(a, in, pl, tables, sc, (const char *const *)paths, cut_short_by);
	if (!a->quiet && flows)
		fprintf(stderr, "natlb replay: wrote %s (%" G_GUINT64_FORMAT " flow log records; natlb findings %s)\n",
		        a->flow_log, flow_log_records(flows), a->flow_log);
	if (!a->quiet && flows) {
		GString *ifaces = g_string_new(NULL);
		flow_log_describe_interfaces(flows, ifaces);
		fprintf(stderr, "natlb replay: the flow log's interfaces:\n%s", ifaces->str);
		g_string_free(ifaces, TRUE);
	}
	g_strfreev(paths);
	status = EXIT_OK;
out:
	if (out)
		output_abort(out);
	pipeline_free(pl);
	table_recorder_free(tables);
	access_log_free(log);
	flow_log_free(flows);
	html_page_free(page);
	input_close(in);
	scenario_free(sc);
	g_clear_error(&err);
	/* Asked to stop: the shell's status for a process a signal ended, now that nothing is left behind. */
	if (stop_signal && status == EXIT_OK)
		status = 128 + stop_signal;
	stop_signals_restore(old_actions);
	return status;
}

int replay_main(int argc, char **argv)
{
	struct replay_args a = { .output = NULL, .seed = 1, .html_max_views = HTML_PAGE_DEFAULT_MAX_VIEWS,
		                 .flow_log_interval = FLOW_LOG_DEFAULT_INTERVAL };
	GOptionEntry entries[] = {
		{ "scenario", 's', 0, G_OPTION_ARG_STRING, &a.scenario,
		  "Scenario file, or a lesson name: ./scenarios/NAME.ini, else the checkout's, else the built-in copy "
		  "(default: the built-in static-nat)", "SCENARIO" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &a.output,
		  "Output file (default: natlb-out.pcapng); with --format pcap, the base name of one file per link", "FILE" },
		{ "filter", 'f', 0, G_OPTION_ARG_STRING, &a.filter, "Replay only packets matching this BPF filter (tcpdump syntax)", "BPF" },
		{ "links", 0, 0, G_OPTION_ARG_STRING, &a.links, "Write only these links (comma-separated names)", "a,b" },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &a.format, "pcapng (default: one file, comments) or pcap (one file per link)", "FMT" },
		{ "tables", 0, 0, G_OPTION_ARG_FILENAME, &a.tables,
		  "Write the stages' tables (snapshots and an event log) as JSON, for natlb tables", "FILE.json" },
		{ "tables-every", 0, 0, G_OPTION_ARG_STRING, &a.tables_every,
		  "Snapshot every SECONDS of capture time, or at each 'change' (default: at the end only)", "SECONDS|change" },
		{ "access-log", 0, 0, G_OPTION_ARG_FILENAME, &a.access_log,
		  "Write one line per HTTP request of the l7-lb stages, in ALB's access log format", "FILE" },
		{ "flow-log", 0, 0, G_OPTION_ARG_FILENAME, &a.flow_log,
		  "Write VPC Flow Logs: a record per flow per stage interface per window, for natlb findings", "FILE" },
		{ "flow-log-interval", 0, 0, G_OPTION_ARG_INT, &a.flow_log_interval,
		  "The flow log's aggregation window in capture-time seconds: 60 or 600 (default 600)", "60|600" },
		{ "flow-log-format", 0, 0, G_OPTION_ARG_STRING, &a.flow_log_format,
		  "Fields of each record, as AWS's custom format (default: the version 2 fields)", "'${version} ...'" },
		{ "html", 0, 0, G_OPTION_ARG_FILENAME, &a.html,
		  "Write the lesson page: one HTML file that steps through the replay view by view, with the tables "
		  "at each step (opens offline in any browser)", "FILE.html" },
		{ "html-max-views", 0, 0, G_OPTION_ARG_INT, &a.html_max_views,
		  "The page keeps the first N views (default 20000)", "N" },
		{ "trace", 0, 0, G_OPTION_ARG_NONE, &a.trace, "Print every view of every packet on stderr", NULL },
		{ "stats", 0, 0, G_OPTION_ARG_NONE, &a.stats, "Print per-stage counters and the packet balance", NULL },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &a.seed, "Seed for stages that choose at random (default 1)", "N" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &a.quiet, "Print nothing but errors", NULL },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &a.inputs, NULL, "INPUT..." },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new(NULL); /* "INPUT..." comes from G_OPTION_REMAINING */
	GError *err = NULL;
	int status = EXIT_USAGE;

	g_option_context_set_summary(ctx, "Replay captures (pcap or pcapng) through a scenario's NATs and balancers and\n"
	                             "write every packet on every link it crosses, annotated, for Wireshark.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb replay: %s (natlb replay --help)\n", err->message);
		goto out;
	}
	if (!a.inputs || !a.inputs[0]) {
		fprintf(stderr, "natlb replay: no capture given; for a lesson capture: natlb gen static-nat -o lesson.pcap\n");
		goto out;
	}
	if (!a.output)
		a.output = g_strdup("natlb-out.pcapng");
	status = replay_run(&a);
out:
	g_clear_error(&err);
	g_option_context_free(ctx);
	g_free(a.scenario);
	g_free(a.output);
	g_free(a.filter);
	g_free(a.links);
	g_free(a.format);
	g_free(a.tables);
	g_free(a.tables_every);
	g_free(a.access_log);
	g_free(a.flow_log);
	g_free(a.flow_log_format);
	g_free(a.html);
	g_strfreev(a.inputs);
	return status;
}
