/* tools/cli_scenario.c: finding a scenario by path or by lesson name; the verbs check and scenarios. */
#include <stdio.h>
#include <string.h>

#include "common/scenario.h"
#include "tools/bundled.h"
#include "tools/cli.h"
#include "tools/stage_types.h"

/* The scenarios folder of the checkout this binary was built from (the Makefile passes it), so
 * that an edited lesson is found from any directory. */
#ifndef NATLB_SCENARIOS_DIR
#define NATLB_SCENARIOS_DIR "scenarios"
#endif

const char *const cli_scenario_dirs[] = { "scenarios", NATLB_SCENARIOS_DIR, NULL };

char *cli_scenario_find(const char *name, const char *const *dirs)
{
	for (const char *const *d = dirs; *d; d++) {
		char *file = g_strconcat(name, ".ini", NULL);
		char *path = g_build_filename(*d, file, NULL);
		g_free(file);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			return path;
		g_free(path);
	}
	return NULL;
}

struct scenario *cli_scenario_load_from(const char *name_or_path, const char *const *dirs, GError **err)
{
	if (!name_or_path) /* no -s: the default lesson, the one built in (DESIGN.md, "Vocabulary") */
		return cli_scenario_load_from(BUNDLED_DEFAULT, (const char *const[]){ NULL }, err);
	if (g_file_test(name_or_path, G_FILE_TEST_EXISTS))
		return scenario_load_file(natlb_stage_types(), name_or_path, err);
	/* A lesson name: the file on disk wins over the copy built in, so that an edit counts. */
	char *found = strchr(name_or_path, '/') ? NULL : cli_scenario_find(name_or_path, dirs);
	if (found) {
		struct scenario *sc = scenario_load_file(natlb_stage_types(), found, err);
		g_free(found);
		return sc;
	}
	for (unsigned i = 0; i < n_bundled_scenarios; i++)
		if (strcmp(bundled_scenarios[i].name, name_or_path) == 0) {
			char *source = g_strdup_printf("built-in %s", bundled_scenarios[i].path);
			struct scenario *sc = scenario_load_bytes(natlb_stage_types(), source, bundled_scenarios[i].text,
			                                           strlen(bundled_scenarios[i].text), err);
			g_free(source);
			return sc;
		}
	GString *names = g_string_new(NULL);
	for (unsigned i = 0; i < n_bundled_scenarios; i++)
		g_string_append_printf(names, "%s%s", i ? ", " : "", bundled_scenarios[i].name);
	g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_READ,
	            "%s: no such file, and no bundled lesson of that name (lessons: %s)", name_or_path, names->str);
	g_string_free(names, TRUE);
	return NULL;
}

struct scenario *cli_scenario_load(const char *name_or_path, GError **err)
{
	return cli_scenario_load_from(name_or_path, cli_scenario_dirs, err);
}

gboolean cli_links_check(const struct scenario *sc, const char *links, GError **err)
{
	char **names = links ? g_strsplit(links, ",", -1) : NULL;
	const char *all[SCENARIO_MAX_LINKS];
	gboolean ok = TRUE;

	for (unsigned i = 0; i < sc->n_links; i++)
		all[i] = sc->links[i].name;
	for (char **w = names; w && *w && ok; w++) {
		g_strstrip(*w);
		unsigned i = 0;
		while (i < sc->n_links && strcmp(all[i], *w) != 0)
			i++;
		if (i < sc->n_links)
			continue;
		const char *near = nearest_name(*w, all, sc->n_links);
		GString *valid = g_string_new(NULL);
		for (unsigned j = 0; j < sc->n_links; j++)
			g_string_append_printf(valid, "%s%s", j ? ", " : "", all[j]);
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE, "--links: '%s' is not a link of %s (%s%s%sits links: %s)",
		            *w, sc->source, near ? "did you mean '" : "", near ? near : "", near ? "'? " : "", valid->str);
		g_string_free(valid, TRUE);
		ok = FALSE;
	}
	g_strfreev(names);
	return ok;
}

/* What loaded but is probably a mistake, on stderr before the scenario is used. */
static void cli_scenario_warnings_print(const struct scenario *sc, const char *verb)
{
	const GPtrArray *w = scenario_warnings(sc);
	for (guint i = 0; i < w->len; i++)
		fprintf(stderr, "%s: warning: %s\n", verb, (const char *)g_ptr_array_index(w, i));
}

int check_main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("[SCENARIO]");
	GError *err = NULL;
	int status = EXIT_USAGE;
	char *named = NULL;
	/* -s as natlb replay takes it, so that the command a warning suggests works as written */
	GOptionEntry entries[] = {
		{ "scenario", 's', 0, G_OPTION_ARG_STRING, &named, "The scenario, as natlb replay -s takes it", "SCENARIO" },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	g_option_context_set_summary(ctx, "Validate a scenario and print it back with every default filled in.\n"
	                             "SCENARIO is a file, or a lesson name (see: natlb scenarios), read from ./scenarios/NAME.ini,\n"
	                             "else from the scenarios folder natlb was built from, else from the built-in copy.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb check: %s\n", err->message);
		goto out;
	}
	if (argc != (named ? 1 : 2)) {
		fprintf(stderr, "natlb check: give one scenario (natlb check --help)\n");
		goto out;
	}
	struct scenario *sc = cli_scenario_load(named ? named : argv[1], &err);
	if (!sc) {
		fprintf(stderr, "natlb check: %s\n", err->message);
		goto out;
	}
	GString *text = g_string_new(NULL);
	scenario_describe(sc, text);
	fputs(text->str, stdout);
	cli_scenario_warnings_print(sc, "natlb check");
	g_string_free(text, TRUE);
	scenario_free(sc);
	status = EXIT_OK;
out:
	g_clear_error(&err);
	g_option_context_free(ctx);
	g_free(named);
	return status;
}

int scenarios_main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *err = NULL;

	g_option_context_set_summary(ctx, "List the lessons bundled with natlb: name, file, what it shows.");
	if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 1) {
		fprintf(stderr, "natlb scenarios: %s\n", err ? err->message : "takes no arguments");
		g_clear_error(&err);
		g_option_context_free(ctx);
		return EXIT_USAGE;
	}
	int name_width = 0, path_width = 0; /* columns as wide as their longest entry */
	for (unsigned i = 0; i < n_bundled_scenarios; i++) {
		name_width = MAX(name_width, (int)strlen(bundled_scenarios[i].name));
		path_width = MAX(path_width, (int)strlen(bundled_scenarios[i].path));
	}
	for (unsigned i = 0; i < n_bundled_scenarios; i++) {
		struct scenario *sc = scenario_load_bytes(natlb_stage_types(), bundled_scenarios[i].path, bundled_scenarios[i].text,
		                                             strlen(bundled_scenarios[i].text), &err);
		printf("%-*s  %-*s  %s%s\n", name_width, bundled_scenarios[i].name, path_width, bundled_scenarios[i].path,
		       sc && sc->description ? sc->description : (err ? err->message : ""),
		       strcmp(bundled_scenarios[i].name, BUNDLED_DEFAULT) == 0 ? " [default]" : "");
		g_clear_error(&err);
		scenario_free(sc);
	}
	g_option_context_free(ctx);
	return EXIT_OK;
}
