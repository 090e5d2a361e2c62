/* tools/gen.c: the `natlb gen` verb: which lesson capture to write, its options, and the messages (the builders are tools/gen_packets.c). */
/* The Makefile passes libnet-config --defines to tools/gen*.c; see tools/gen_packets.c. */
#define _DEFAULT_SOURCE 1

#include <stdio.h>
#include <string.h>

#include "tools/gen.h"

/* One line on stderr, as DESIGN.md asks of every error. */
static int gen_usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int gen_usage_error(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_printerr("natlb gen: %s\n", msg);
	g_free(msg);
	return 2;
}

/* Scenarios whose capture has another name (each scenario's header says so too); a scenario named
 * like its capture needs no row.  tests/test_gen.c checks that every bundled scenario finds one. */
static const struct {
	const char *scenario, *capture;
} scenario_captures[] = {
	{ "lb-client-ip-preserved", "lb-client-ip" }, { "lb-client-ip-replaced", "lb-client-ip" },
	{ "lb-maglev", "lb-spread" },                 { "lb-modulo", "lb-spread" },
	{ "lb-rendezvous", "lb-spread" },             { "lb-proxy-protocol", "lb-target-log" },
	{ "napt-full-cone", "napt-probes" },          { "napt-restricted-cone", "napt-probes" },
	{ "napt-port-restricted-cone", "napt-probes" }, { "napt-symmetric", "napt-probes" },
	{ "alb-host-path", "alb-shop" },              { "alb-vs-nlb", "alb-shop" },
	{ "nlb-alb", "alb-shop" },                    { "alb-desync-monitor", "alb-smuggling" },
	{ "shield-unprotected", "shield-attacks" },
	{ "alb-desync-defensive", "alb-smuggling" },  { "alb-desync-strictest", "alb-smuggling" },
};

const struct gen_lesson *gen_lesson_for_scenario(const char *scenario)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(scenario_captures); i++)
		if (strcmp(scenario_captures[i].scenario, scenario) == 0)
			return gen_lesson_find(scenario_captures[i].capture);
	return gen_lesson_find(scenario);
}

static char *gen_lesson_names(void)
{
	unsigned n;
	const struct gen_lesson *all = gen_lessons(&n);
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", all[i].name);
	return g_string_free(s, FALSE);
}

static char *gen_lesson_help(void)
{
	unsigned n;
	const struct gen_lesson *all = gen_lessons(&n);
	GString *s = g_string_new("Lessons:\n");
	int width = 0;

	for (unsigned i = 0; i < n; i++)
		width = MAX(width, (int)strlen(all[i].name));
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "  %-*s  %s\n", width, all[i].name, all[i].summary);
	return g_string_free(s, FALSE);
}

/* Strict decimal: GOption's own integers accept negatives and wrap nothing we could check. */
static gboolean gen_parse_count(const char *opt, const char *text, guint64 max, guint64 *out, char **why)
{
	GError *e = NULL;

	if (!text)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, 1, max, out, &e)) {
		*why = g_strdup_printf("%s: %s", opt, e->message);
		g_error_free(e);
		return FALSE;
	}
	return TRUE;
}

int gen_main(int argc, char **argv)
{
	char *output = NULL, *packets = NULL, *flows = NULL, *seed = NULL;
	gboolean list = FALSE;
	GOptionEntry entries[] = {
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "Print the lesson names, one per line, and exit", NULL },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the capture to FILE (pcap, ns timestamps)",
		  "FILE" },
		{ "packets", 0, 0, G_OPTION_ARG_STRING, &packets, "bench: packets to write (default 2000000)", "N" },
		{ "flows", 0, 0, G_OPTION_ARG_STRING, &flows, "bench: distinct flows (default 100000)", "N" },
		{ "seed", 0, 0, G_OPTION_ARG_STRING, &seed, "bench: PRNG seed for sizes and order (default 1)", "N" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *octx = g_option_context_new("LESSON");
	char **args = g_new0(char *, argc + 1);
	char *help = gen_lesson_help();
	char *why = NULL;
	GError *err = NULL;
	struct gen_options opt;
	const struct gen_lesson *lesson = NULL;
	guint64 flows64 = GEN_DEFAULT_FLOWS;
	int status = 0;

	/* Parse a copy: GOption removes what it consumed, and the caller's argv stays intact. */
	for (int i = 0; i < argc; i++)
		args[i] = g_strdup(argv[i]);
	g_option_context_set_summary(octx, "Write a lesson capture built with libnet: natlb gen LESSON -o FILE\n"
	                             "LESSON is a capture below, or a scenario of natlb scenarios (its capture).");
	g_option_context_set_description(octx, help);
	g_option_context_add_main_entries(octx, entries, NULL);
	gen_options_init(&opt);

	if (!g_option_context_parse_strv(octx, &args, &err)) {
		status = gen_usage_error("%s", err->message);
		goto out;
	}
	if (list) {
		unsigned n;
		const struct gen_lesson *all = gen_lessons(&n);
		for (unsigned i = 0; i < n; i++)
			printf("%s\n", all[i].name);
		goto out;
	}
	if (!args[0] || !args[1] || !args[1][0]) {
		char *names = gen_lesson_names();
		status = gen_usage_error("missing LESSON (lessons: %s)", names);
		g_free(names);
		goto out;
	}
	lesson = gen_lesson_find(args[1]);
	if (!lesson && (lesson = gen_lesson_for_scenario(args[1])))
		/* gen is named after captures, natlb scenarios after scenarios: take both, and say which */
		g_printerr("natlb gen: scenario %s replays the %s capture; writing that\n", args[1], lesson->name);
	if (!lesson) {
		char *names = gen_lesson_names();
		status = gen_usage_error("unknown lesson \"%s\" (lessons: %s; or a scenario of natlb scenarios)",
		                         args[1], names);
		g_free(names);
		goto out;
	}
	if (args[2]) {
		status = gen_usage_error("unexpected argument \"%s\" after the lesson", args[2]);
		goto out;
	}
	if (!output) {
		status = gen_usage_error("missing -o FILE");
		goto out;
	}
	if (!gen_parse_count("--packets", packets, G_MAXUINT64, &opt.packets, &why) ||
	    !gen_parse_count("--flows", flows, G_MAXUINT32, &flows64, &why)) {
		status = gen_usage_error("%s", why);
		goto out;
	}
	opt.flows = (guint32)flows64;
	/* The seed may be 0: any value is a seed. */
	if (seed && !g_ascii_string_to_unsigned(seed, 10, 0, G_MAXUINT64, &opt.seed, &err)) {
		status = gen_usage_error("--seed: %s", err->message);
		goto out;
	}

	if (!lesson->build(output, &opt, &err)) {
		/* An option the lesson cannot use is bad usage; anything else failed at run time. */
		status = g_error_matches(err, GEN_ERROR, GEN_ERROR_OPTION) ? 2 : 1;
		g_printerr("natlb gen: %s\n", err->message);
	}
out:
	g_clear_error(&err);
	g_free(why);
	g_free(help);
	g_strfreev(args);
	g_option_context_free(octx);
	g_free(output);
	g_free(packets);
	g_free(flows);
	g_free(seed);
	return status;
}
