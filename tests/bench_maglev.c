/* tests/bench_maglev.c: times the Maglev table build for 1000 targets at M = 65537 (the paper reports 1.8 ms).
 *
 * Eisenbud et al., NSDI 2016, section 5.3 ("Consistent hashing"): populating a 65537-entry table
 * for 1000 backends.  Not a test (no test_ prefix, make test does not run it); `make bench` calls
 * it.  Prints the median and the best of several builds, and never fails on a slow machine.
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "lb/maglev.h"

#define TARGETS 1000
#define ROUNDS  51

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	const uint32_t m = MAGLEV_DEFAULT_SIZE;
	struct maglev_table *t = maglev_table_new(m, TARGETS);
	struct maglev_backend *b = g_new0(struct maglev_backend, TARGETS);
	double ms[ROUNDS];

	/* Names as a scenario writes targets; the permutations are computed once, as the stage does. */
	for (unsigned i = 0; i < TARGETS; i++) {
		char name[32];
		int len = g_snprintf(name, sizeof name, "10.0.%u.%u:8080", i / 250, 1 + i % 250);
		maglev_permutation(name, (size_t)len, m, &b[i].offset, &b[i].skip);
		b[i].weight = 1;
	}
	maglev_table_build(t, b, TARGETS); /* warm the caches and the page tables */
	for (unsigned r = 0; r < ROUNDS; r++) {
		gint64 start = g_get_monotonic_time();
		uint32_t filled = maglev_table_build(t, b, TARGETS);
		ms[r] = (double)(g_get_monotonic_time() - start) / 1000.0;
		if (filled != m) {
			fprintf(stderr, "bench_maglev: build filled %u of %u slots\n", filled, m);
			return 1;
		}
	}
	qsort(ms, ROUNDS, sizeof ms[0], compare_double);
	printf("maglev table build, %u targets, M = %u: median %.3f ms, best %.3f ms over %u builds "
	       "(the paper: 1.8 ms)\n", TARGETS, m, ms[ROUNDS / 2], ms[0], ROUNDS);
	g_free(b);
	maglev_table_free(t);
	return 0;
}
