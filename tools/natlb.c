/* tools/natlb.c: the natlb command: dispatch to a verb (DESIGN.md, "The command line"). */
#include <stdio.h>
#include <string.h>

#include "common/scenario.h"
#include "tools/cli.h"

/* The one place the version comes from: the Makefile's VERSION. */
#ifndef NATLB_VERSION
#define NATLB_VERSION "unknown"
#endif

struct verb {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "replay", replay_main, "replay captures through a scenario, write annotated views per link" },
	{ "check", check_main, "validate a scenario, print it with every default filled in" },
	{ "scenarios", scenarios_main, "list the bundled lessons" },
	{ "gen", gen_main, "write a lesson capture, built with libnet" },
	{ "tables", tables_main, "print the table snapshots of replay --tables, like conntrack -L" },
	{ "hash", hash_main, "show how an L4 balancer hashes a flow, and where a scenario's l4-lb sends it" },
	{ "route", route_main, "show which rule of a scenario's l7-lb an HTTP request matches, rule by rule" },
	{ "findings", findings_main, "GuardDuty-style findings (port scans, brute force, mining...) from a flow log" },
	{ "policy", policy_main, "show how an IAM endpoint policy decides one S3 request, statement by statement" },
	{ "explain", explain_main, "print every view of the packet a frame of a replay's output belongs to" },
	{ "wireshark-profile", wireshark_profile_main, "write a Wireshark profile: link and comment columns, colours per view" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: natlb VERB [OPTION...]\n\nnatlb replays packet captures through NATs and load balancers and "
	           "writes\nannotated pcapng files for Wireshark.\n\nVerbs:\n");
	for (unsigned i = 0; i < G_N_ELEMENTS(verbs); i++)
		fprintf(f, "  %-17s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\nEach verb has --help; natlb --version prints the version.  A first lesson: make demo\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("natlb %s\n", NATLB_VERSION);
		return EXIT_OK;
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(argv[1], verbs[i].name) == 0) {
			/* The verb sees "natlb VERB" as its program name, for --help. */
			char *prog = g_strdup_printf("natlb %s", verbs[i].name);
			g_set_prgname(prog);
			argv[1] = prog;
			int status = verbs[i].main(argc - 1, argv + 1);
			g_free(prog);
			return status;
		}
	const char *names[G_N_ELEMENTS(verbs)];
	for (unsigned i = 0; i < G_N_ELEMENTS(verbs); i++)
		names[i] = verbs[i].name;
	const char *near = nearest_name(argv[1], names, G_N_ELEMENTS(verbs));
	fprintf(stderr, "natlb: unknown verb '%s'%s%s%s; try natlb --help\n", argv[1], near ? " (did you mean '" : "",
	        near ? near : "", near ? "'?)" : "");
	return EXIT_USAGE;
}
