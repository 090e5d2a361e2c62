/* lb/maglev.h: building and reading a Maglev lookup table (Eisenbud et al., NSDI 2016, section 3.4). */
#ifndef NATLB_LB_MAGLEV_H
#define NATLB_LB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>

#include "lb/maglev-t.h"

bool maglev_is_prime(uint32_t n);

/* A table of size M (prime, at most MAGLEV_MAX_SIZE) for up to max_backends; NULL if M is not prime. */
struct maglev_table *maglev_table_new(uint32_t size, unsigned max_backends);
void maglev_table_free(struct maglev_table *t);

/* offset = h1(name) mod M, skip = h2(name) mod (M - 1) + 1, with h1 and h2 xxHash32 under two seeds
 * (the paper leaves the two hash functions open). */
void maglev_permutation(const void *name, size_t len, uint32_t size, uint32_t *offset, uint32_t *skip);

/* Pseudocode 1, with weights: each round a backend earns its weight in credit and claims one slot
 * (its next preferred free one) per max-weight of credit, so with equal weights every backend
 * claims one slot per round, exactly as in the paper, and with unequal weights slots are shared in
 * proportion.  Backends of weight 0 take no slot.  n <= max_backends.  Returns the slots filled:
 * M, or 0 when no backend has a weight (every entry then MAGLEV_NO_BACKEND). */
uint32_t maglev_table_build(struct maglev_table *t, const struct maglev_backend *b, unsigned n);

/* The backend of slot hash mod M (MAGLEV_NO_BACKEND for an empty table); *slot gets the slot. */
static inline int32_t maglev_table_lookup(const struct maglev_table *t, uint32_t hash, uint32_t *slot)
{
	uint32_t s = hash % t->size;
	if (slot)
		*slot = s;
	return t->entry[s];
}

#endif
