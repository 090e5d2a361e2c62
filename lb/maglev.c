/* lb/maglev.c: the Maglev lookup table, Eisenbud et al., NSDI 2016, section 3.4 and Pseudocode 1.
 *
 * Invariants: after a build with at least one weighted backend every one of the M slots holds a
 * backend; with equal weights each backend holds floor(M/N) or ceil(M/N) slots (the paper's
 * balance property: the backends take turns, one slot per turn).  The permutation is never stored
 * (M x N entries): each backend keeps its next position and moves by its skip, mod M.
 */
#include <glib.h>

#include "lb/hash.h"
#include "lb/maglev.h"

/* Seeds of h1 and h2: any two distinct values give two independent-looking hashes. */
#define MAGLEV_SEED_OFFSET 0x4d41474cu /* "MAGL" */
#define MAGLEV_SEED_SKIP   0x45563136u /* "EV16" */

bool maglev_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

struct maglev_table *maglev_table_new(uint32_t size, unsigned max_backends)
{
	if (!maglev_is_prime(size) || size > MAGLEV_MAX_SIZE || max_backends == 0)
		return NULL;
	struct maglev_table *t = g_new0(struct maglev_table, 1);
	t->size = size;
	t->max_backends = max_backends;
	t->entry = g_new(int32_t, size);
	t->next_pos = g_new0(uint32_t, max_backends);
	t->credit = g_new0(uint64_t, max_backends);
	for (uint32_t i = 0; i < size; i++)
		t->entry[i] = MAGLEV_NO_BACKEND;
	return t;
}

void maglev_table_free(struct maglev_table *t)
{
	if (!t)
		return;
	g_free(t->entry);
	g_free(t->next_pos);
	g_free(t->credit);
	g_free(t);
}

void maglev_permutation(const void *name, size_t len, uint32_t size, uint32_t *offset, uint32_t *skip)
{
	*offset = lb_xxh32(name, len, MAGLEV_SEED_OFFSET) % size;
	*skip = lb_xxh32(name, len, MAGLEV_SEED_SKIP) % (size - 1) + 1;
}

uint32_t maglev_table_build(struct maglev_table *t, const struct maglev_backend *b, unsigned n)
{
	const uint32_t m = t->size;
	uint64_t max_weight = 0;
	uint32_t filled = 0;

	g_return_val_if_fail(n <= t->max_backends, 0);
	for (uint32_t j = 0; j < m; j++)
		t->entry[j] = MAGLEV_NO_BACKEND;
	for (unsigned i = 0; i < n; i++) {
		g_return_val_if_fail(b[i].weight == 0 || (b[i].offset < m && b[i].skip >= 1 && b[i].skip < m), 0);
		t->next_pos[i] = b[i].offset; /* permutation[i][0] */
		t->credit[i] = 0;
		if (b[i].weight > max_weight)
			max_weight = b[i].weight;
	}
	t->filled = 0;
	if (max_weight == 0)
		return 0;
	for (;;) {
		for (unsigned i = 0; i < n; i++) {
			if (b[i].weight == 0)
				continue;
			t->credit[i] += b[i].weight;
			while (t->credit[i] >= max_weight) {
				t->credit[i] -= max_weight;
				/* c = permutation[i][next[i]]; skip the slots others took first.  M is
				 * prime and skip < M, so the walk visits every slot before repeating. */
				uint32_t c = t->next_pos[i];
				while (t->entry[c] != MAGLEV_NO_BACKEND) {
					c += b[i].skip;
					if (c >= m)
						c -= m;
				}
				t->entry[c] = (int32_t)i;
				c += b[i].skip;
				t->next_pos[i] = c >= m ? c - m : c;
				if (++filled == m) {
					t->filled = m;
					return m;
				}
			}
		}
	}
}
