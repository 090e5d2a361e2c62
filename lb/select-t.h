/* lb/select-t.h: how a balancer maps a flow's hash to a target: the selection methods' ops table (types only).
 *
 * A method is built over the targets in service (weight > 0) and then answers pick(hash) with a
 * target index.  The methods differ in what happens when the set of targets changes: modulo
 * remaps almost every hash, rendezvous only the hashes of the target that left, Maglev close to
 * that while keeping a lookup a single table read.
 */
#ifndef NATLB_LB_SELECT_T_H
#define NATLB_LB_SELECT_T_H

#include <glib.h>
#include <stdint.h>

/* A target as the methods know it: a stable name (Maglev's permutation and rendezvous' scores are
 * derived from it, so they survive reordering) and its configured weight. */
struct lb_select_target {
	const char *name;   /* "10.0.1.12:8080" */
	uint32_t weight;    /* >= 1 */
};

#define LB_SELECT_NONE (-1)

struct lb_select_ops {
	const char *name;    /* "maglev" */
	const char *summary;
	const char *slot_word; /* what pick()'s *slot counts, for reports: "slot", "bucket", "score" */
	/* State for these n targets, sized once; table_size is Maglev's M (prime), the others sample
	 * that many hashes when a report compares two builds.  NULL when table_size does not suit. */
	void *(*create)(const struct lb_select_target *targets, unsigned n, uint32_t table_size);
	/* Rebuild over the targets in service: weights[i] == 0 leaves target i out. */
	void (*build)(void *state, const uint32_t *weights);
	/* The target for a hash, or LB_SELECT_NONE when none is in service; *slot says where the
	 * hash fell (the table slot, the modulo bucket, the winning score). */
	int (*pick)(const void *state, uint32_t hash, uint32_t *slot);
	/* One phrase for an annotation: "maglev slot 40213", "modulo 4 bucket 3". */
	void (*note)(const void *state, uint32_t slot, GString *out);
	void (*destroy)(void *state);
};

#endif
