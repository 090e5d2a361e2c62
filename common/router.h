/* common/router.h: what a stage that routes does besides translating: its own MAC on each of its links, the TTL decremented, time exceeded when it runs out (RFC 1812 sections 5.3.1 and 4.3.2; RFC 792; RFC 1624).
 *
 * A stage whose type routes (stage_ops.routes: static-nat, napt, route-table) is a router in the
 * chain, unless the scenario says `routers = no`.  The loop (common/pipeline.c) then, for every
 * packet it forwards:
 *   - checks and decrements the TTL (RFC 1812 section 5.3.1); a packet that arrives with TTL 1 or
 *     0 is dropped there, and the stage sends an ICMP time exceeded in transit (RFC 792, type 11
 *     code 0) back to its source, from its own address on the link the packet came from;
 *   - writes the Ethernet addresses a router writes: its own MAC on the link it forwards onto as
 *     the source, the next hop's as the destination.
 * The walk back from the capture undoes both.
 *
 * Which MAC is whose.  A stage's MAC on a link is 02:6e:6c:62:SS:LL (locally administered,
 * unicast; SS its index in the chain, LL the link's), except on the capture link, where the
 * capture shows the real router's: the loop learns it from each captured frame before replaying
 * that frame (router_macs_learn), so that the replayed view on the capture link is the captured
 * bytes.  A host's MAC is the one the capture showed for its address on the capture link, if the
 * host lives there; a host on another link, which natlb never saw, gets 02:00 and its IPv4
 * address (02:00:c6:33:64:50 for 198.51.100.80).  The next hop of a packet on a link is the
 * stage it crosses next when that stage routes, else the host the packet is for on that link (an
 * l4-lb or l7-lb in front of it is no router: it keeps the link header it gets).  A packet routed
 * around a router (stage_ops.bypass: a gateway endpoint's path around the NAT gateway) keeps its
 * TTL there, and reaches the far link from that router's MAC, which stands in for the other path's
 * last router (on the capture link, the MAC the capture shows).
 *
 * Ethernet only: another link type (Linux SLL, raw IP, loopback) has no destination MAC to
 * write, and keeps its link header; the TTL is handled all the same.
 */
#ifndef NATLB_ROUTER_H
#define NATLB_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/chain.h"
#include "common/scenario-t.h"

#define ROUTER_MAC_LEN 6

/* The MACs the loop writes, and those it learned on the capture link (opaque). */
struct router_macs;

struct router_macs *router_macs_new(const struct scenario *sc);
void router_macs_free(struct router_macs *m);

/* The captured frame p (on the capture link) shows mac for its end at addr, which h leads to from
 * the capture link (chain_next_hop(sc, sc->capture, addr)): remember it as the host's when h
 * delivers there, else as the MAC of the stage h crosses when that stage routes.  The loop calls it
 * with the hops it computes anyway, for the source on the walk back and for the destination before
 * the first stage, so that learning costs no lookup of its own.  Group addresses are not learned. */
void router_learn(struct router_macs *m, const struct packet *p, struct chain_hop h, uint32_t addr,
                  const uint8_t mac[ROUTER_MAC_LEN]);

/* st's MAC on its side `side`. */
void router_stage_mac(const struct router_macs *m, const struct stage *st, enum side side, uint8_t mac[ROUTER_MAC_LEN]);

/* The MAC on link k of the next hop towards addr, h being chain_next_hop(sc, k, addr): the stage
 * h crosses when it routes, else the host at addr. */
void router_hop_mac(const struct router_macs *m, struct chain_hop h, unsigned k, uint32_t addr,
                    uint8_t mac[ROUTER_MAC_LEN]);

/* The side of st that link k is. */
static inline enum side router_side_on(const struct stage *st, unsigned k)
{
	return k == st->index ? SIDE_LEFT : SIDE_RIGHT;
}

/* Write p's Ethernet source and destination (NULL: leave that one); false (nothing written) for
 * another link type. */
bool router_set_macs(struct packet *p, const uint8_t src[ROUTER_MAC_LEN], const uint8_t dst[ROUTER_MAC_LEN]);

/* Write p's Ethernet source and destination as the Ethernet frame `frame` (len bytes) has them. */
void router_set_macs_from(struct packet *p, const uint8_t *frame, uint32_t len);

/* The address st answers from on its side `side` (the source of its time exceeded): the stage's
 * own interface address there (stage_ops.interface_address: a NAT's inside address or its first
 * external one), else the first host of that link's first network (192.168.1.1 for
 * 192.168.1.0/24, as routers and the AWS VPC router are numbered), else its address on the other
 * side (a link without networks: the router is unnumbered there, RFC 1812 section 2.2.7). */
uint32_t router_address(const struct stage *st, enum side side);

/* May a router send an ICMP error about p (RFC 1812 section 4.3.2.7)?  Not about an ICMP error,
 * nor a fragment other than the first, nor a packet whose source is not one host.  When it may
 * not, *why says why, for the drop's note. */
bool router_may_answer(const struct packet *p, const char **why);

#endif
