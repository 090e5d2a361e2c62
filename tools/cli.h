/* tools/cli.h: the verbs of the natlb command line (DESIGN.md, "The command line"). */
#ifndef NATLB_CLI_H
#define NATLB_CLI_H

#include "common/scenario-t.h"

/* Exit statuses, as DESIGN.md fixes them. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1, /* a file could not be read or written */
	EXIT_USAGE = 2,   /* bad command line or bad scenario */
};

/* "natlb VERB: MESSAGE" on stderr; returns EXIT_USAGE, for `return cli_usage_error(...)`. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int replay_main(int argc, char **argv);
int check_main(int argc, char **argv);
int scenarios_main(int argc, char **argv);
int gen_main(int argc, char **argv);
int tables_main(int argc, char **argv);
int hash_main(int argc, char **argv);
int route_main(int argc, char **argv);
int wireshark_profile_main(int argc, char **argv);
int explain_main(int argc, char **argv);
int findings_main(int argc, char **argv);
int policy_main(int argc, char **argv);

/* A scenario named on the command line: a file if one exists at that path; else, for a lesson
 * name, NAME.ini in the first of cli_scenario_dirs that has it (./scenarios, then the scenarios
 * folder of the checkout natlb was built from); else the copy of that lesson built into the
 * binary.  NULL means the built-in default lesson.  The scenario's source says which was read
 * ("scenarios/napt-hairpin.ini" or "built-in scenarios/napt-hairpin.ini"). */
struct scenario *cli_scenario_load(const char *name_or_path, GError **err);
/* The same, searching dirs (NULL-terminated) for a lesson name: for tests. */
struct scenario *cli_scenario_load_from(const char *name_or_path, const char *const *dirs, GError **err);
/* DIR/NAME.ini for the first of dirs that has it, or NULL (caller frees). */
char *cli_scenario_find(const char *name, const char *const *dirs);
extern const char *const cli_scenario_dirs[];
/* Every name of --links (comma-separated; NULL: all) is a link of sc; else err names the link
 * that is not, the nearest one, and lists them all. */
gboolean cli_links_check(const struct scenario *sc, const char *links, GError **err);

#endif
