/* common/chain.h: where a packet goes next along the chain of links and stages (DESIGN.md "How a packet travels", step 3).
 *
 * Routing is by address: a link holds its networks; a stage answers for the addresses it claims
 * (a NAT's outside addresses, a VIP); anything else lives on the default link (the first link
 * without networks: the internet).  A packet moves towards the link of its destination.  The
 * replay loop and its look-ahead both route through these functions, so they always agree.
 * Packets whose addresses keep them on their link (link-local, multicast, broadcast, loopback)
 * do not travel at all: chain_stays_on_link().
 */
#ifndef NATLB_CHAIN_H
#define NATLB_CHAIN_H

#include "common/scenario-t.h"

/* One step from a link: deliver here, or cross st in dir. */
struct chain_hop {
	bool deliver;              /* the destination is on this link */
	struct stage *st;          /* else the stage to cross ... */
	enum hop_dir dir;          /* ... in this direction */
};

/* The link an address lives on: the side of a stage that claims it, else the link's networks. */
unsigned chain_locate(const struct scenario *sc, uint32_t addr);

/* From link k, where does a packet for addr go next? */
struct chain_hop chain_next_hop(const struct scenario *sc, unsigned k, uint32_t addr);

/* The last answers of chain_next_hop(), which the replay loop asks several times of each packet:
 * its source and destination on the capture link, then its destination on every link it crosses,
 * and the reply's on the way back.  An answer depends on the scenario alone, since a stage's
 * claims() answers from its configuration; so a remembered one is always right.  Zeroed: empty. */
#define CHAIN_MEMO_SLOTS 16 /* a power of two */

struct chain_memo {
	struct {
		uint32_t addr;
		unsigned k;       /* the link, + 1 (0: an empty slot) */
		struct chain_hop hop;
	} slot[CHAIN_MEMO_SLOTS];
};

static inline struct chain_hop chain_next_hop_memo(struct chain_memo *m, const struct scenario *sc, unsigned k,
                                                   uint32_t addr)
{
	unsigned i = ((addr * 0x9e3779b1u) >> 28 ^ k) & (CHAIN_MEMO_SLOTS - 1);
	if (m->slot[i].k == k + 1 && m->slot[i].addr == addr)
		return m->slot[i].hop;
	struct chain_hop h = chain_next_hop(sc, k, addr);
	m->slot[i].addr = addr;
	m->slot[i].k = k + 1;
	m->slot[i].hop = h;
	return h;
}

/* The link a packet reaches when it crosses st in dir. */
static inline unsigned chain_link_after(const struct stage *st, enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? st->index + 1 : st->index;
}

static inline enum hop_dir chain_opposite(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
}

/* Must p stay on link k, where it is?  Routers do not forward a packet to loopback, link-local
 * multicast, the limited broadcast or the directed broadcast of a link's network (RFC 2644: not
 * by default), nor one to or from loopback or a link-local address; other multicast needs a
 * multicast router, which no stage is (common/addr.h, foreach_ip4_scope).  When why is given,
 * appends the sentence for the view: "stays on lan: 224.0.0.251 is link-local multicast
 * (RFC 5771); routers do not forward it".  p must be IPv4 with readable addresses. */
bool chain_stays_on_link(const struct scenario *sc, unsigned k, const struct packet *p, GString *why);

/* Does any stage of the chain route packets around others (stage_ops.bypass)? */
bool chain_has_bypass(const struct scenario *sc);

/* Does a stage to the left of st route p, crossing st in dir, around st?  Returns the stage that
 * routes it around, and the path's name in *via; NULL when st is crossed normally. */
const struct stage *chain_bypassed_by(const struct scenario *sc, const struct packet *p, const struct stage *st,
                                      enum hop_dir dir, const char **via);

#endif
