/* common/byteorder.h: store and load 16- and 32-bit fields in network byte order (RFC 1700, "Data Notations") in a buffer the caller sized.
 *
 * For bytes natlb builds itself (a segment the balancer sends, a reassembled datagram's header):
 * the caller owns the room.  Packet bytes read from a capture go through common/cursor.h instead,
 * which checks every read against the caplen.
 */
#ifndef NATLB_BYTEORDER_H
#define NATLB_BYTEORDER_H

#include <stdint.h>

static inline void be16_store(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void be32_store(uint8_t *b, uint32_t v)
{
	be16_store(b, (uint16_t)(v >> 16));
	be16_store(b + 2, (uint16_t)v);
}

static inline uint16_t be16_load(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

#endif
