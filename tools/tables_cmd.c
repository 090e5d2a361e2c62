/* tools/tables_cmd.c: natlb tables: print the snapshots a replay wrote with --tables, like conntrack -L (DESIGN.md, "The command line").
 *
 * The file is read and checked by common/tables_reader.c; this is the command line around it.
 * Exit 0; 1 when the file cannot be read, is not a valid tables file, or holds no snapshot at
 * the time asked; 2 on bad usage.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/scenario.h"
#include "common/tables_reader.h"
#include "tools/cli.h"

/* "12.5" seconds since the start of the capture, into nanoseconds. */
static bool parse_seconds(const char *text, int64_t *ns)
{
	char *end = NULL;
	double v = g_ascii_strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(v) || v < 0 || v > 1e9)
		return false;
	*ns = (int64_t)llround(v * 1e9);
	return true;
}

/* "did you mean" among the file's stage names. */
static void stage_hint(const struct table_file *tf, const char *name, GString *out)
{
	GPtrArray *names = g_ptr_array_new();
	for (unsigned i = 0; i < tf->n_snapshots; i++)
		for (unsigned j = 0; j < tf->snapshots[i].n_stages; j++) {
			const char *n = tf->snapshots[i].stages[j].name;
			bool seen = false;
			for (unsigned k = 0; k < names->len; k++)
				seen = seen || strcmp(names->pdata[k], n) == 0;
			if (!seen)
				g_ptr_array_add(names, (gpointer)n);
		}
	const char *near = nearest_name(name, (const char *const *)names->pdata, names->len);
	g_string_append(out, " (stages with a table:");
	for (unsigned k = 0; k < names->len; k++)
		g_string_append_printf(out, " %s", (const char *)names->pdata[k]);
	if (names->len == 0)
		g_string_append(out, " none");
	g_string_append_c(out, ')');
	if (near)
		g_string_append_printf(out, "; did you mean '%s'?", near);
	g_ptr_array_free(names, TRUE);
}

int tables_main(int argc, char **argv)
{
	char *at = NULL, *stage = NULL;
	gboolean events = FALSE, list = FALSE;
	GOptionEntry entries[] = {
		{ "at", 0, 0, G_OPTION_ARG_STRING, &at,
		  "The latest snapshot at or before this capture time (seconds since the first packet, "
		  "as Wireshark counts them); default: the last one", "SECONDS" },
		{ "stage", 0, 0, G_OPTION_ARG_STRING, &stage, "Only this stage's table", "NAME" },
		{ "events", 0, 0, G_OPTION_ARG_NONE, &events,
		  "Print the event log (created, refreshed, expired, ...) up to --at, like conntrack -E", NULL },
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "List the snapshots: time, why, entries per stage", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *ctx = g_option_context_new("TABLES.json");
	GError *err = NULL;
	struct table_file *tf = NULL;
	int status = EXIT_USAGE;
	int64_t at_ns = INT64_MAX;

	g_option_context_set_summary(ctx, "Print the stages' tables that natlb replay --tables wrote, like conntrack -L:\n"
	                             "protocol, seconds to expiry, state, original and reply tuples with packets and\n"
	                             "bytes per direction, flags.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb tables: %s (natlb tables --help)\n", err->message);
		goto out;
	}
	if (argc != 2) {
		fprintf(stderr, "natlb tables: give one tables file (natlb replay --tables T.json ...; natlb tables T.json)\n");
		goto out;
	}
	if (at && !parse_seconds(at, &at_ns)) {
		fprintf(stderr, "natlb tables: --at '%s': give seconds since the first packet, like 12.5\n", at);
		goto out;
	}
	if (list && events) {
		fprintf(stderr, "natlb tables: --list and --events: choose one\n");
		goto out;
	}
	tf = table_file_load(argv[1], &err);
	if (!tf) {
		fprintf(stderr, "natlb tables: %s\n", err->message);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (stage && !table_file_has_stage(tf, stage)) {
		GString *msg = g_string_new(NULL);
		stage_hint(tf, stage, msg);
		fprintf(stderr, "natlb tables: --stage '%s': no such stage in %s%s\n", stage, argv[1], msg->str);
		g_string_free(msg, TRUE);
		goto out;
	}
	GString *text = g_string_new(NULL);
	if (list) {
		table_file_print_list(tf, text);
	} else if (events) {
		table_file_print_events(tf, stage, at_ns, text);
	} else {
		const struct table_snapshot *snap = table_file_at(tf, at_ns);
		if (!snap) {
			fprintf(stderr, "natlb tables: %s: no snapshot at or before %s s (the first is at %.6f s; "
			        "natlb tables --list %s)\n", argv[1], at, (double)table_file_rel(tf, tf->snapshots[0].ts_ns) / 1e9,
			        argv[1]);
			g_string_free(text, TRUE);
			status = EXIT_RUNTIME;
			goto out;
		}
		table_snapshot_print(tf, snap, stage, text);
	}
	fputs(text->str, stdout);
	g_string_free(text, TRUE);
	status = EXIT_OK;
out:
	table_file_free(tf);
	g_clear_error(&err);
	g_option_context_free(ctx);
	g_free(at);
	g_free(stage);
	return status;
}
