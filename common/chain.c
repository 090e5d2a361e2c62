/* common/chain.c: where a packet goes next along the chain of links and stages (DESIGN.md "How a packet travels", step 3). */
#include <limits.h>

#include "common/addr.h"
#include "common/chain.h"
#include "common/note.h"
#include "common/packet.h"
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

/* The network of the scenario whose directed broadcast (all host bits set) addr is, and its link
 * in *link; NULL when none.  A /31 or /32 has no broadcast address (RFC 3021).  Any link's: by
 * default a router does not forward a directed broadcast into the network it names either
 * (RFC 2644), so a packet from lan to dmz's broadcast stays on lan. */
static const struct ip4_prefix *directed_broadcast_of(const struct scenario *sc, uint32_t addr, unsigned *link)
{
	for (unsigned i = 0; i < sc->n_broadcasts; i++)
		if (sc->broadcasts[i].addr == addr) {
			*link = sc->broadcasts[i].link;
			return &sc->links[*link].networks[sc->broadcasts[i].network];
		}
	return NULL;
}

bool chain_stays_on_link(const struct scenario *sc, unsigned k, const struct packet *p, GString *why)
{
	/* The destination first: mDNS from a link-local host is about where it goes. */
	enum ip4_scope dst = ip4_scope_of(p->ip.dst);
	const struct ip4_prefix *net = NULL;
	enum ip4_scope scope = dst;
	unsigned net_link = k;
	bool of_source = false;

	if (dst == IP4_SCOPE_GLOBAL) {
		net = directed_broadcast_of(sc, p->ip.dst, &net_link);
		enum ip4_scope src = net ? IP4_SCOPE_GLOBAL : ip4_scope_of(p->ip.src);
		if (!net && (src == IP4_SCOPE_LOOPBACK || src == IP4_SCOPE_LINK_LOCAL)) {
			scope = src;
			of_source = true;
		} else if (!net) {
			return false;
		}
	}
	if (!why)
		return true;
	note_appendf(why, "stays on %s: %s", sc->links[k].name, of_source ? "its source " : "");
	note_append_ip4(why, of_source ? p->ip.src : p->ip.dst);
	if (net) {
		char text[19];
		bool here = net_link == k;
		note_appendf(why, " is the directed broadcast of %s%s%s (RFC 2644); routers do not forward it",
		             ip4_prefix_to_str(net, text), here ? "" : " on ", here ? "" : sc->links[net_link].name);
	} else {
		const struct ip4_scope_info *info = ip4_scope_info(scope);
		note_appendf(why, " is %s (%s); %s", info->what, info->ref, info->effect);
	}
	return true;
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
