/* tools/replay.c: natlb replay: captures in, one annotated view per link out (DESIGN.md, "The command line"). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/input.h"
#include "common/output.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/tables.h"
#include "tools/cli.h"

#define PROGRESS_EVERY 65536 /* packets between two looks at the clock */

struct replay_args {
	char *scenario;
	char *output;
	char *filter;
	char *links;
	char *format;
	char *tables;        /* --tables FILE.json */
	char *tables_every;  /* --tables-every SECONDS|change|end */
	gboolean trace;
	gboolean stats;
	gboolean quiet;
	gint64 seed;
	char **inputs;
};

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

static int replay_run(struct replay_args *a)
{
	GError *err = NULL;
	struct scenario *sc = NULL;
	struct input_set *in = NULL;
	struct output *out = NULL;
	struct pipeline *pl = NULL;
	struct table_recorder *tables = NULL;
	struct table_schedule when = { 0 };
	int status = EXIT_RUNTIME;
	enum output_format fmt = OUTPUT_PCAPNG;
	struct input_record rec;
	uint64_t packets = 0;
	gint64 last_us = g_get_monotonic_time();
	bool show_progress = !a->quiet && !a->trace && isatty(STDERR_FILENO);

	if (a->format && strcmp(a->format, "pcap") == 0)
		fmt = OUTPUT_PCAP;
	else if (a->format && strcmp(a->format, "pcapng") != 0) {
		fprintf(stderr, "natlb replay: --format '%s': use pcapng or pcap\n", a->format);
		return EXIT_USAGE;
	}
	if (a->tables_every && !a->tables) {
		fprintf(stderr, "natlb replay: --tables-every needs --tables FILE.json (where the snapshots go)\n");
		return EXIT_USAGE;
	}
	if (a->tables_every && !table_schedule_parse(a->tables_every, &when, &err)) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_clear_error(&err);
		return EXIT_USAGE;
	}
	sc = cli_scenario_load(a->scenario, &err);
	if (!sc) {
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
	struct pipeline_options opt = { .links = a->links, .trace = a->trace, .seed = (uint64_t)a->seed,
	                                .tables = tables };
	pl = pipeline_new(sc, out, &opt, &err);
	if (!pl) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		status = EXIT_USAGE;
		goto out;
	}
	while (input_next(in, &rec) == 1) {
		if (!pipeline_push(pl, &rec, &err)) {
			fprintf(stderr, "%snatlb replay: %s\n", show_progress ? "\n" : "", err->message);
			goto out;
		}
		if (show_progress && ++packets % PROGRESS_EVERY == 0)
			progress_show(in, packets, &last_us);
	}
	if (!pipeline_drain(pl, &err)) {
		fprintf(stderr, "%snatlb replay: %s\n", show_progress ? "\n" : "", err->message);
		goto out;
	}
	if (show_progress && packets >= PROGRESS_EVERY)
		fprintf(stderr, "\r%60s\r", "");
	/* Keep the list of paths: output_close frees them. */
	char **paths = g_strdupv((char **)output_paths(out));
	gboolean closed = output_close(out, &err);
	out = NULL;
	if (!closed) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_strfreev(paths);
		goto out;
	}
	if (tables && !table_recorder_finish(tables, sc, &err)) {
		fprintf(stderr, "natlb replay: %s\n", err->message);
		g_strfreev(paths);
		goto out;
	}
	if (input_warnings(in))
		fprintf(stderr, "natlb replay: warning: %s", input_warnings(in));
	if (a->stats) {
		GString *s = g_string_new(NULL);
		pipeline_stats(pl, s);
		if (input_filtered(in))
			g_string_append_printf(s, "  rejected by the filter: %" G_GUINT64_FORMAT " packets (not replayed)\n",
			                       input_filtered(in));
		fputs(s->str, stdout);
		g_string_free(s, TRUE);
	}
	if (!a->quiet) /* which file a lesson name read: an edited copy on disk, or the one built in */
		fprintf(stderr, "natlb replay: scenario %s\n", sc->source);
	if (!a->quiet)
		for (char **p = paths; *p; p++)
			fprintf(stderr, "natlb replay: wrote %s\n", *p);
	if (!a->quiet && tables)
		fprintf(stderr, "natlb replay: wrote %s (%u snapshots, %u events; natlb tables %s)\n", a->tables,
		        table_recorder_n_snapshots(tables), table_recorder_n_events(tables), a->tables);
	g_strfreev(paths);
	status = EXIT_OK;
out:
	if (out)
		output_abort(out);
	pipeline_free(pl);
	table_recorder_free(tables);
	input_close(in);
	scenario_free(sc);
	g_clear_error(&err);
	return status;
}

int replay_main(int argc, char **argv)
{
	struct replay_args a = { .output = NULL, .seed = 1 };
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
	g_strfreev(a.inputs);
	return status;
}
