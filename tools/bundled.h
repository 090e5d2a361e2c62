/* tools/bundled.h: the lesson scenarios compiled into the binary, one per scenarios/NAME.ini. */
#ifndef NATLB_BUNDLED_H
#define NATLB_BUNDLED_H

struct bundled_scenario {
	const char *name;  /* "static-nat" */
	const char *path;  /* "scenarios/static-nat.ini" */
	const char *text;
};

extern const struct bundled_scenario bundled_scenarios[];
extern const unsigned n_bundled_scenarios;

/* The lesson replayed when no -s is given. */
#define BUNDLED_DEFAULT "static-nat"

#endif
