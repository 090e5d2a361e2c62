/* common/checksum.h: the Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#ifndef NATLB_CHECKSUM_H
#define NATLB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "common/packet-t.h"

/* One's-complement sum of big-endian 16-bit words, added to sum (not folded). */
uint32_t csum_partial(const uint8_t *data, size_t len, uint32_t sum);
/* Fold a 32-bit sum to 16 bits and complement it: the value stored in a checksum field. */
uint16_t csum_fold(uint32_t sum);
/* RFC 1624 eqn. 3: the new checksum when one covered 16-bit word changes from old to new:
 * HC' = ~(~HC + ~m + m').  A checksum that was wrong stays wrong by exactly as much. */
uint16_t csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* Full recomputation (for tests and for the packets a stage builds): the value the checksum field
 * of ip's header, or of its transport header, should hold.  The transport version needs the whole
 * segment captured; returns false when it is not (or for a fragment, a non-TCP/UDP/ICMP packet). */
uint16_t csum_ip4_header(const struct packet *p, const struct ip4_view *ip);
int csum_l4_expected(const struct packet *p, const struct ip4_view *ip, uint16_t *out);

#endif
