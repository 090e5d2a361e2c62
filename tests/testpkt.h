/* tests/testpkt.h: small frames with correct checksums, built by hand for tests (RFC 791, RFC 768). */
#ifndef NATLB_TESTPKT_H
#define NATLB_TESTPKT_H

#include <stdint.h>
#include <string.h>

#include "common/checksum.h"

/* Big-endian fields at an offset, for frames built by hand. */
static inline void test_put16(uint8_t *b, size_t off, uint16_t v)
{
	b[off] = (uint8_t)(v >> 8);
	b[off + 1] = (uint8_t)v;
}

static inline void test_put32(uint8_t *b, size_t off, uint32_t v)
{
	test_put16(b, off, (uint16_t)(v >> 16));
	test_put16(b, off + 2, (uint16_t)v);
}

static inline uint16_t test_get16(const uint8_t *b, size_t off)
{
	return (uint16_t)(b[off] << 8 | b[off + 1]);
}

static inline uint32_t test_get32(const uint8_t *b, size_t off)
{
	return (uint32_t)test_get16(b, off) << 16 | test_get16(b, off + 2);
}

/* Ethernet + IPv4 + UDP src:sport -> dst:dport, 4 data bytes, checksums right. */
static inline void test_udp_frame(uint8_t frame[46], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	static const uint8_t head[] = {
		0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 5, 0x08, 0x00,                      /* Ethernet */
		0x45, 0, 0, 32, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* IPv4 */
		0, 0, 0, 0, 0, 12, 0, 0, 't', 'e', 's', 't',                               /* UDP */
	};
	memcpy(frame, head, sizeof head);
	for (int i = 0; i < 4; i++) {
		frame[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		frame[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	frame[34] = (uint8_t)(sport >> 8);
	frame[35] = (uint8_t)sport;
	frame[36] = (uint8_t)(dport >> 8);
	frame[37] = (uint8_t)dport;
	uint16_t c = csum_fold(csum_partial(frame + 14, 20, 0));
	frame[24] = (uint8_t)(c >> 8);
	frame[25] = (uint8_t)c;
	/* Pseudo-header: addresses, protocol, UDP length; then the header and data. */
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, frame + 26, 8);
	pseudo[9] = 17;
	pseudo[11] = 12;
	c = csum_fold(csum_partial(frame + 34, 12, csum_partial(pseudo, sizeof pseudo, 0)));
	frame[40] = (uint8_t)(c >> 8);
	frame[41] = (uint8_t)c;
}

#endif
