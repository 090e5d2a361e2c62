/* common/rewrite.h: translating addresses, ports and ICMP identifiers of a decoded packet in place. */
#ifndef NATLB_REWRITE_H
#define NATLB_REWRITE_H

#include "common/packet-t.h"

enum ip4_endpoint { ENDPOINT_SRC, ENDPOINT_DST };

/* Replace ip's source or destination address.  ip is &p->ip or &p->inner (the packet an ICMP
 * error quotes).  Every checksum that covers the changed words is updated incrementally
 * (RFC 1624): the IPv4 header checksum, the TCP/UDP checksum through its pseudo-header, and for
 * a quoted packet the outer ICMP checksum too (RFC 5508 REQ-4).  A UDP checksum of zero
 * ("none") stays zero.  Fields that were not captured are left alone. */
void rewrite_ip4_addr(struct packet *p, struct ip4_view *ip, enum ip4_endpoint which, uint32_t addr);

/* Replace a TCP/UDP port, or the identifier of an ICMP query (which serves as both ports). */
void rewrite_ip4_port(struct packet *p, struct ip4_view *ip, enum ip4_endpoint which, uint16_t port);

/* Set the packet's own TTL (not a quoted header's), its header checksum updated incrementally
 * (RFC 1624), as a router decrementing it does (RFC 1812 section 5.3.1). */
void rewrite_ip4_ttl(struct packet *p, uint8_t ttl);

/* Bounds-checked writes for the few places that set a field outright; false past caplen. */
bool pkt_put_be16(struct packet *p, uint32_t off, uint16_t v);
bool pkt_get_be16(const struct packet *p, uint32_t off, uint16_t *v);

#endif
