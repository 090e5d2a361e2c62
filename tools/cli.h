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

int replay_main(int argc, char **argv);
int check_main(int argc, char **argv);
int scenarios_main(int argc, char **argv);
int gen_main(int argc, char **argv);
int tables_main(int argc, char **argv);
int hash_main(int argc, char **argv);

/* A scenario named on the command line: a file if one exists at that path, else a bundled lesson
 * of that name.  NULL means the built-in default lesson. */
struct scenario *cli_scenario_load(const char *name_or_path, GError **err);

#endif
