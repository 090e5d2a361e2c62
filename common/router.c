/* common/router.c: the MACs, addresses and ICMP rules of a stage that routes (see router.h; RFC 1812 sections 2.2.7, 4.3.2.7, 5.3.1).
 *
 * Invariant: a stage's or a host's MAC depends only on the scenario and on the captured frames
 * replayed so far, so a replay is deterministic.  The hosts learned on the capture link live in a
 * fixed table (no allocation per packet): a host that finds its slot taken by another replaces it,
 * and is learned again from its next captured frame before that frame is replayed.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/router.h"

#define ROUTER_HOSTS 4096u   /* hosts remembered on the capture link; a power of two */
#define ROUTER_PROBES 4u     /* slots a lookup tries before the host counts as never seen */

struct router_host {
	uint32_t addr;
	bool used;
	uint8_t mac[ROUTER_MAC_LEN];
};

struct router_macs {
	const struct scenario *sc;
	uint8_t stage[SCENARIO_MAX_LINKS - 1][2][ROUTER_MAC_LEN]; /* per stage, per side */
	struct router_host hosts[ROUTER_HOSTS];
};

/* 02:6e:6c:62 ("nlb"): locally administered, unicast (IEEE 802 bits 1 and 0 of the first octet). */
static void default_stage_mac(const struct stage *st, enum side side, uint8_t mac[ROUTER_MAC_LEN])
{
	const uint8_t head[4] = { 0x02, 0x6e, 0x6c, 0x62 };
	memcpy(mac, head, sizeof head);
	mac[4] = (uint8_t)st->index;
	mac[5] = (uint8_t)(side == SIDE_LEFT ? st->index : st->index + 1);
}

struct router_macs *router_macs_new(const struct scenario *sc)
{
	struct router_macs *m = g_new0(struct router_macs, 1);
	m->sc = sc;
	for (unsigned i = 0; i < sc->n_stages; i++) {
		default_stage_mac(sc->stages[i], SIDE_LEFT, m->stage[i][SIDE_LEFT]);
		default_stage_mac(sc->stages[i], SIDE_RIGHT, m->stage[i][SIDE_RIGHT]);
	}
	return m;
}

void router_macs_free(struct router_macs *m)
{
	g_free(m);
}

static unsigned host_slot(uint32_t addr)
{
	return (addr * 2654435761u) >> 20; /* Knuth's multiplicative hash, top 12 bits: ROUTER_HOSTS slots */
}

static void host_learn(struct router_macs *m, uint32_t addr, const uint8_t *mac)
{
	unsigned home = host_slot(addr);
	struct router_host *h = &m->hosts[home];
	for (unsigned i = 0; i < ROUTER_PROBES; i++) {
		struct router_host *t = &m->hosts[(home + i) & (ROUTER_HOSTS - 1)];
		if (!t->used || t->addr == addr) {
			h = t;
			break;
		}
	}
	h->addr = addr;
	h->used = true;
	memcpy(h->mac, mac, ROUTER_MAC_LEN);
}

static const uint8_t *host_find(const struct router_macs *m, uint32_t addr)
{
	unsigned home = host_slot(addr);
	for (unsigned i = 0; i < ROUTER_PROBES; i++) {
		const struct router_host *h = &m->hosts[(home + i) & (ROUTER_HOSTS - 1)];
		if (!h->used)
			return NULL;
		if (h->addr == addr)
			return h->mac;
	}
	return NULL;
}

void router_learn(struct router_macs *m, const struct packet *p, struct chain_hop h, uint32_t addr,
                  const uint8_t mac[ROUTER_MAC_LEN])
{
	if (p->linktype != DLT_EN10MB || p->l3_off < 14 || (mac[0] & 1))
		return; /* no Ethernet addresses; or a group address, which names no one interface */
	if (h.deliver || !h.st)
		host_learn(m, addr, mac);
	else if (h.st->ops->routes)
		memcpy(m->stage[h.st->index][router_side_on(h.st, m->sc->capture)], mac, ROUTER_MAC_LEN);
}

void router_stage_mac(const struct router_macs *m, const struct stage *st, enum side side, uint8_t mac[ROUTER_MAC_LEN])
{
	memcpy(mac, m->stage[st->index][side], ROUTER_MAC_LEN);
}

void router_hop_mac(const struct router_macs *m, struct chain_hop h, unsigned k, uint32_t addr,
                    uint8_t mac[ROUTER_MAC_LEN])
{
	if (!h.deliver && h.st && h.st->ops->routes) {
		router_stage_mac(m, h.st, router_side_on(h.st, k), mac);
		return;
	}
	const uint8_t *seen = k == m->sc->capture ? host_find(m, addr) : NULL;
	if (seen) {
		memcpy(mac, seen, ROUTER_MAC_LEN);
		return;
	}
	mac[0] = 0x02;
	mac[1] = 0x00;
	for (int i = 0; i < 4; i++)
		mac[2 + i] = (uint8_t)(addr >> (24 - 8 * i));
}

bool router_set_macs(struct packet *p, const uint8_t src[ROUTER_MAC_LEN], const uint8_t dst[ROUTER_MAC_LEN])
{
	if (p->linktype != DLT_EN10MB || p->l3_off < 14 || p->caplen < 2 * ROUTER_MAC_LEN)
		return false;
	if (dst)
		memcpy(p->data, dst, ROUTER_MAC_LEN);
	if (src)
		memcpy(p->data + ROUTER_MAC_LEN, src, ROUTER_MAC_LEN);
	return true;
}

void router_set_macs_from(struct packet *p, const uint8_t *frame, uint32_t len)
{
	if (len >= 2 * ROUTER_MAC_LEN)
		router_set_macs(p, frame + ROUTER_MAC_LEN, frame);
}

static uint32_t link_router_address(const struct link *l)
{
	if (!l || l->n_networks == 0)
		return 0;
	const struct ip4_prefix *n = &l->networks[0];
	return n->len < 31 ? n->addr + 1 : n->addr;
}

uint32_t router_address(const struct stage *st, enum side side)
{
	enum side other = side == SIDE_LEFT ? SIDE_RIGHT : SIDE_LEFT;
	const struct link *here = side == SIDE_LEFT ? st->left : st->right;
	const struct link *there = side == SIDE_LEFT ? st->right : st->left;
	uint32_t a = st->ops->interface_address ? st->ops->interface_address(st, side) : 0;

	if (!a)
		a = link_router_address(here);
	if (!a && st->ops->interface_address)
		a = st->ops->interface_address(st, other);
	if (!a)
		a = link_router_address(there);
	return a;
}

bool router_may_answer(const struct packet *p, const char **why)
{
	if (p->ip.icmp_error) {
		*why = "no ICMP error is sent about an ICMP error (RFC 1812 section 4.3.2.7)";
		return false;
	}
	if (p->ip.frag_off != 0) {
		*why = "no ICMP error is sent about a fragment other than the first (RFC 1812 section 4.3.2.7)";
		return false;
	}
	enum ip4_scope s = ip4_scope_of(p->ip.src);
	if (p->ip.src == 0 || s != IP4_SCOPE_GLOBAL) {
		*why = "its source is not one host: no ICMP error is sent (RFC 1812 section 4.3.2.7)";
		return false;
	}
	return true;
}
