/* common/chain.c: where a packet goes next along the chain of links and stages (DESIGN.md "How a packet travels", step 3). */
#include <limits.h>

#include "common/chain.h"
#include "common/scenario.h"

unsigned chain_locate(const struct scenario *sc, uint32_t addr)
{
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (!st->ops->claims)
			continue;
		if (st->ops->claims(st, addr, SIDE_LEFT))
			return i;
		if (st->ops->claims(st, addr, SIDE_RIGHT))
			return i + 1;
	}
	return scenario_link_of(sc, addr);
}

struct chain_hop chain_next_hop(const struct scenario *sc, unsigned k, uint32_t addr)
{
	struct stage *left = k > 0 ? sc->stages[k - 1] : NULL;
	struct stage *right = k < sc->n_stages ? sc->stages[k] : NULL;

	/* A stage that answers for addr on this link receives the packet. */
	if (left && left->ops->claims && left->ops->claims(left, addr, SIDE_RIGHT))
		return (struct chain_hop){ false, left, DIR_RIGHT_TO_LEFT };
	if (right && right->ops->claims && right->ops->claims(right, addr, SIDE_LEFT))
		return (struct chain_hop){ false, right, DIR_LEFT_TO_RIGHT };
	unsigned j = chain_locate(sc, addr);
	if (j == k)
		return (struct chain_hop){ true, NULL, DIR_LEFT_TO_RIGHT };
	if (j > k)
		return (struct chain_hop){ false, right, DIR_LEFT_TO_RIGHT };
	return (struct chain_hop){ false, left, DIR_RIGHT_TO_LEFT };
}

bool chain_has_bypass(const struct scenario *sc)
{
	for (unsigned i = 0; i < sc->n_stages; i++)
		if (sc->stages[i]->ops->bypass)
			return true;
	return false;
}

/* Only a packet whose left-hand end (its source going right, its destination going left) lies at
 * or left of the routing stage crosses it, so only such a packet can be sent around.  A reply
 * meets the bypassed stages before the one that decides, so the loop asks before every stage. */
const struct stage *chain_bypassed_by(const struct scenario *sc, const struct packet *p, const struct stage *st,
                                      enum hop_dir dir, const char **via)
{
	unsigned near = UINT_MAX; /* the link of the packet's left-hand end, looked up once if needed */

	for (unsigned r = 0; r < st->index; r++) {
		const struct stage *rt = sc->stages[r];
		if (!rt->ops->bypass)
			continue;
		if (near == UINT_MAX)
			near = chain_locate(sc, dir == DIR_LEFT_TO_RIGHT ? p->ip.src : p->ip.dst);
		if (near > r)
			continue;
		unsigned n = rt->ops->bypass(rt, p, dir, via);
		if (n > 0 && st->index <= r + n)
			return rt;
	}
	return NULL;
}
