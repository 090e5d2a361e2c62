/* common/addr.h: parsing IPv4 addresses, prefixes and endpoints from scenario text (RFC 4632 notation); the addresses no router forwards (RFC 1122, 1812, 3927, 5771). */
#ifndef NATLB_ADDR_H
#define NATLB_ADDR_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct ip4_prefix {
	uint32_t addr; /* host order, host bits zero */
	uint8_t len;   /* 0..32 */
};

static inline uint32_t ip4_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static inline bool ip4_prefix_contains(const struct ip4_prefix *pfx, uint32_t addr)
{
	return (addr & ip4_prefix_mask(pfx->len)) == pfx->addr;
}

/* Destinations no router forwards (or none that natlb's chains model: a NAT without a multicast
 * router), for the replay loop's "stays on LINK" (common/chain.h).  Each with what the address is,
 * the document that says so, and what follows for a router:
 *   127.0.0.0/8      loopback: "MUST NOT appear outside a host" (RFC 1122 section 3.2.1.3 (g))
 *   169.254.0.0/16   link-local: "a router MUST NOT forward" it, as source or destination (RFC 3927 section 2.7)
 *   255.255.255.255  the limited broadcast: "MUST NOT be forwarded" (RFC 1812 section 5.3.5.1)
 *   224.0.0.0/24     the Local Network Control Block: not forwarded, whatever the TTL (RFC 5771 section 4)
 *   224.0.0.0/4      other multicast: only a multicast router (or an IGMP/MLD proxy, RFC 4605)
 *                    forwards it, and no NAT or balancer stage of natlb is one */
#define foreach_ip4_scope                                                                                   \
	X(GLOBAL, NULL, NULL, NULL)                                                                          \
	X(LOOPBACK, "loopback", "RFC 1122 section 3.2.1.3", "it never leaves its host")                      \
	X(LINK_LOCAL, "link-local", "RFC 3927 section 2.7", "routers do not forward it")                     \
	X(LIMITED_BROADCAST, "the limited broadcast", "RFC 1812 section 5.3.5.1", "routers do not forward it") \
	X(LOCAL_MULTICAST, "link-local multicast", "RFC 5771", "routers do not forward it")                  \
	X(MULTICAST, "multicast", "RFC 5771",                                                                \
	  "a NAT without a multicast router (an IGMP proxy, RFC 4605) does not forward it")

enum ip4_scope {
#define X(name, what, ref, effect) IP4_SCOPE_##name,
	foreach_ip4_scope
#undef X
	IP4_SCOPE_N
};

struct ip4_scope_info {
	const char *what;   /* "link-local multicast" */
	const char *ref;    /* "RFC 5771" */
	const char *effect; /* "routers do not forward it" */
};

/* The scope of a destination address (host order).  A source is checked for IP4_SCOPE_LOOPBACK and
 * IP4_SCOPE_LINK_LOCAL only: a multicast or broadcast source is not an address at all. */
static inline enum ip4_scope ip4_scope_of(uint32_t addr)
{
	if (addr >> 24 == 127)
		return IP4_SCOPE_LOOPBACK;
	if (addr >> 16 == 0xa9fe)
		return IP4_SCOPE_LINK_LOCAL;
	if (addr == 0xffffffffu)
		return IP4_SCOPE_LIMITED_BROADCAST;
	if (addr >> 8 == 0xe00000)
		return IP4_SCOPE_LOCAL_MULTICAST;
	if (addr >> 28 == 0xe)
		return IP4_SCOPE_MULTICAST;
	return IP4_SCOPE_GLOBAL;
}

const struct ip4_scope_info *ip4_scope_info(enum ip4_scope scope);

/* "192.0.2.7" (strict dotted quad). */
bool ip4_parse(const char *text, uint32_t *out);
/* "10.0.0.0/8" or a bare address (/32).  Host bits set is an error ("10.0.0.1/8"): the teacher
 * probably meant something else, and saying so beats guessing. */
bool ip4_prefix_parse(const char *text, struct ip4_prefix *out, GError **err);
/* "10.0.0.0/8" into buf (at least 19 bytes). */
const char *ip4_prefix_to_str(const struct ip4_prefix *pfx, char buf[19]);

#endif
