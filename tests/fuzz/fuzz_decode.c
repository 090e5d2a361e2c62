/* tests/fuzz/fuzz_decode.c: libFuzzer harness for decode_packet() and the rewrites that trust it.
 *
 * STYLE.md habits 1-3 and 10: whatever the bytes, decoding reads nothing past caplen, and a packet
 * it does not call invalid can be translated in place without writing past caplen (the frame is an
 * exact-size malloc, so ASan sees a single byte too far).  Beyond memory safety, three oracles:
 * the rewrites write nothing before the IPv4 header, a checksum that was right stays right
 * (RFC 1624), and the outer ICMP checksum of an error still sums to zero after its quoted packet
 * is translated (RFC 5508 REQ-4).
 *
 * Input: byte 0 picks the link type (low 3 bits) and how many bytes the wire had beyond the
 * capture (high 5 bits, times 64, so snaplen truncation is explored); the rest is the frame.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/packet.h"
#include "common/rewrite.h"

static const int linktypes[8] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */, DLT_IPV4, DLT_NULL, DLT_LOOP,
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint16_t field16(const struct packet *p, uint32_t off)
{
	check(off + 2 <= p->caplen);
	return (uint16_t)(p->data[off] << 8 | p->data[off + 1]);
}

/* Which checksums of ip are right now (bit 0: IPv4 header, bit 1: transport). */
static unsigned csums_right(const struct packet *p, const struct ip4_view *ip)
{
	unsigned right = 0;
	uint16_t want;

	if (ip->off + ip->hdr_len <= p->caplen && csum_ip4_header(p, ip) == field16(p, ip->off + 10))
		right |= 1;
	if (ip->has_l4_csum && csum_l4_expected(p, ip, &want) &&
	    want == field16(p, ip->l4_csum_off))
		right |= 2;
	return right;
}

/* The outer ICMP message of an error, when all of it was captured: does it sum to zero? */
static int icmp_sums_to_zero(const struct packet *p)
{
	uint32_t len = p->ip.total_len - p->ip.hdr_len;
	if (p->ip.l4_off + len > p->caplen)
		return -1;
	return csum_fold(csum_partial(p->data + p->ip.l4_off, len, 0)) == 0;
}

static void translate(struct packet *p, struct ip4_view *ip, uint32_t salt)
{
	unsigned right = csums_right(p, ip);

	rewrite_ip4_addr(p, ip, ENDPOINT_SRC, 0xcb007105u ^ salt);
	rewrite_ip4_addr(p, ip, ENDPOINT_DST, 0x0a000005u + salt);
	rewrite_ip4_port(p, ip, ENDPOINT_SRC, (uint16_t)(40001 + salt));
	rewrite_ip4_port(p, ip, ENDPOINT_DST, (uint16_t)(80 ^ salt));
	check(ip->src == (0xcb007105u ^ salt) && ip->dst == 0x0a000005u + salt);
	check((csums_right(p, ip) & right) == right);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;

	struct packet p;
	memset(&p, 0, sizeof p);
	p.linktype = linktypes[data[0] & 7];
	p.caplen = (uint32_t)(size - 1);
	p.wirelen = p.caplen + (uint32_t)(data[0] >> 3) * 64;
	p.data = p.caplen ? malloc(p.caplen) : NULL;
	if (p.caplen)
		memcpy(p.data, data + 1, p.caplen);

	enum decode_status st = decode_packet(&p);
	check(st == DECODE_OK || st == DECODE_TRUNCATED || st == DECODE_INVALID);
	check((st == DECODE_OK) == (p.problem == NULL));
	check(p.caplen == 0 || memcmp(p.data, data + 1, p.caplen) == 0); /* a validator never writes */

	GString *d = g_string_new(NULL);
	packet_describe(&p, d);

	/* the replay loop's gate (common/pipeline.c): IPv4 whose header was read, not invalid */
	if (p.l3 == L3_IPV4 && st != DECODE_INVALID && p.ip.hdr_len >= 20) {
		uint32_t l3_off = p.l3_off;
		bool had_inner = p.has_inner;
		int icmp_zero = had_inner ? icmp_sums_to_zero(&p) : -1;

		translate(&p, &p.ip, data[0]);
		if (p.has_inner)
			translate(&p, &p.inner, 7u * data[0]);
		check(memcmp(p.data, data + 1, l3_off) == 0); /* nothing before the IPv4 header */
		if (icmp_zero == 1)
			check(icmp_sums_to_zero(&p) == 1);

		/* the translated frame decodes the same way, with the new addresses */
		struct packet q = p;
		check(decode_packet(&q) == st);
		check(q.ip.src == p.ip.src && q.ip.dst == p.ip.dst && q.has_inner == had_inner);
		g_string_truncate(d, 0);
		packet_describe(&q, d);
	}
	g_string_free(d, TRUE);
	free(p.data);
	return 0;
}
