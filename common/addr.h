/* common/addr.h: parsing IPv4 addresses, prefixes and endpoints from scenario text (RFC 4632 notation). */
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

/* "192.0.2.7" (strict dotted quad). */
bool ip4_parse(const char *text, uint32_t *out);
/* "10.0.0.0/8" or a bare address (/32).  Host bits set is an error ("10.0.0.1/8"): the teacher
 * probably meant something else, and saying so beats guessing. */
bool ip4_prefix_parse(const char *text, struct ip4_prefix *out, GError **err);
/* "10.0.0.0/8" into buf (at least 19 bytes). */
const char *ip4_prefix_to_str(const struct ip4_prefix *pfx, char buf[19]);

#endif
