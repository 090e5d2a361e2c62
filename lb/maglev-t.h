/* lb/maglev-t.h: the Maglev lookup table and the permutation of each backend (types only).
 *
 * Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016,
 * section 3.4: each backend i has a preference list over the M slots, permutation[i][j] =
 * (offset + j * skip) mod M; the backends take turns claiming their next preferred free slot
 * until every slot is taken (Pseudocode 1).  M is prime, so every skip in 1..M-1 visits all slots.
 */
#ifndef NATLB_LB_MAGLEV_T_H
#define NATLB_LB_MAGLEV_T_H

#include <stdint.h>

/* The paper's suggestion: a prime well above 100 times the number of backends. */
#define MAGLEV_DEFAULT_SIZE 65537u
#define MAGLEV_MAX_SIZE     16777213u /* the largest prime below 2^24 */
#define MAGLEV_NO_BACKEND   (-1)

/* One backend as the population loop sees it. */
struct maglev_backend {
	uint32_t offset; /* 0 .. M-1: its first preferred slot */
	uint32_t skip;   /* 1 .. M-1: the stride of its preferences */
	uint32_t weight; /* 0: not in the table (down or draining); else turns in proportion to it */
};

/* The table and the scratch the population loop needs, sized once (maglev_table_new). */
struct maglev_table {
	uint32_t size;          /* M, prime */
	unsigned max_backends;
	int32_t *entry;         /* M slots: the backend index, or MAGLEV_NO_BACKEND */
	uint32_t *next_pos;     /* per backend: permutation[i][next[i]], advanced by skip */
	uint64_t *credit;       /* per backend: weight owed, for weighted turns */
	uint32_t filled;        /* slots holding a backend after the last build */
};

#endif
