/* common/flow_number.h: the "flow #N" every view of one connection carries in its comment, on every link (issue 10, "Reading the output in Wireshark").
 *
 * Wireshark's tcp.stream numbers a connection on one interface; a NAT gives the same connection
 * other addresses on the next link, so no field of the packet follows it across links.  The
 * replay loop numbers flows instead: a packet's journey takes the number its first view's
 * addresses, ports and protocol were given before (either way round; an ICMP error counts as the
 * packet it quotes, as RFC 5508 section 4.2 has a NAT translate it), or a new one; then every view
 * of the journey teaches the table its own tuple, so the reply, arriving translated on the other
 * link, finds the number too.  One display filter, frame.comment contains "flow #3 |", then shows
 * the connection end to end.
 *
 * The table is sized once (FLOW_NUMBER_REMEMBERED tuples, memory touched as tuples arrive) and
 * never evicts: a tuple seen again much later is the same flow, as an address plan would say.
 * Once full, a new tuple still gets a new number but is not remembered, so a flood of more than
 * a million flows numbers each of its packets on its own.
 */
#ifndef NATLB_FLOW_NUMBER_H
#define NATLB_FLOW_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/packet-t.h"

#define FLOW_NUMBER_REMEMBERED (1u << 20)

struct flow_numbers; /* opaque */

/* NULL when out of memory. */
struct flow_numbers *flow_numbers_new(uint32_t remembered);
void flow_numbers_free(struct flow_numbers *fn);

/* The number of p's tuple, after one lookup: the one it was given before; else flow (a new
 * number when flow is 0), which the tuple is given from now on.  A packet without an IPv4 tuple,
 * or one that finds the table full, gets flow (or a new number) without being remembered. */
uint32_t flow_number_bind(struct flow_numbers *fn, const struct packet *p, uint32_t flow);
/* Load the slot (step 0), then the entry (step 1), that flow_number_bind() will read for p's
 * tuple: the look-ahead calls it a few packets before p's turn (common/lookahead.h), since a
 * flood of new tuples misses the cache on every lookup. */
void flow_numbers_prefetch(const struct flow_numbers *fn, const struct packet *p, unsigned step);
/* Tuples not remembered because the table was full. */
uint64_t flow_numbers_forgotten(const struct flow_numbers *fn);

#endif
