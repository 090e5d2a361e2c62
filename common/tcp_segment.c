/* common/tcp_segment.c: editing a TCP segment in place with its checksums followed (see tcp_segment.h). */
#include <glib.h>
#include <netinet/tcp.h>
#include <string.h>

#include "common/checksum.h"
#include "common/cursor.h"
#include "common/rewrite.h"
#include "common/tcp_segment.h"

static uint32_t get32(const struct packet *p, uint32_t off)
{
	struct cursor c;
	uint32_t v = 0;
	cur_init(&c, p->data, p->caplen);
	cur_be32_at(&c, off, &v);
	return v;
}

uint32_t tcp_segment_seq(const struct packet *p)
{
	return get32(p, p->ip.l4_off + 4);
}

uint32_t tcp_segment_ack(const struct packet *p)
{
	return get32(p, p->ip.l4_off + 8);
}

uint16_t tcp_segment_window(const struct packet *p)
{
	struct cursor c;
	uint16_t v = 0;
	cur_init(&c, p->data, p->caplen);
	cur_be16_at(&c, p->ip.l4_off + 14, &v);
	return v;
}

uint32_t tcp_segment_payload_len(const struct packet *p)
{
	if (!p->payload_off)
		return 0;
	uint32_t hdr = p->payload_off - p->ip.l4_off;
	uint32_t seg = p->ip.total_len - p->ip.hdr_len;
	return seg > hdr ? seg - hdr : 0;
}

/* Replace n bytes at off (inside the TCP header) and follow every 16-bit word of the segment
 * that changed in the TCP checksum. */
static void tcp_replace(struct packet *p, uint32_t off, const uint8_t *bytes, uint32_t n)
{
	uint32_t rel = off - p->ip.l4_off;
	uint32_t first = off - (rel & 1), end = off + n + ((rel + n) & 1);
	uint16_t before[12], csum;
	unsigned words = (end - first) / 2;

	if (end > p->caplen || words > G_N_ELEMENTS(before))
		return;
	for (unsigned w = 0; w < words; w++)
		pkt_get_be16(p, first + 2 * w, &before[w]);
	memcpy(p->data + off, bytes, n);
	if (!p->ip.has_l4_csum || !pkt_get_be16(p, p->ip.l4_csum_off, &csum))
		return;
	for (unsigned w = 0; w < words; w++) {
		uint16_t after;
		pkt_get_be16(p, first + 2 * w, &after);
		csum = csum_update16(csum, before[w], after);
	}
	pkt_put_be16(p, p->ip.l4_csum_off, csum);
}

static void tcp_put32(struct packet *p, uint32_t off, uint32_t v)
{
	const uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	tcp_replace(p, off, b, 4);
}

void tcp_segment_set_seq(struct packet *p, uint32_t seq)
{
	tcp_put32(p, p->ip.l4_off + 4, seq);
}

void tcp_segment_set_flags(struct packet *p, uint8_t flags)
{
	tcp_replace(p, p->ip.l4_off + 13, &flags, 1);
	p->ip.tcp_flags = flags;
}

void tcp_segment_map_acks(struct packet *p, uint32_t (*map)(uint32_t v, uint32_t base), uint32_t base)
{
	struct cursor c;
	uint32_t hdr_end = p->payload_off;

	if (!p->payload_off)
		return;
	if (p->ip.tcp_flags & TH_ACK) {
		uint32_t ack = tcp_segment_ack(p), mapped = map(ack, base);
		if (mapped != ack)
			tcp_put32(p, p->ip.l4_off + 8, mapped);
	}
	/* Options: kind, length, value; SACK (kind 5) carries pairs of left and right edges. */
	cur_init(&c, p->data, hdr_end);
	if (!cur_skip(&c, p->ip.l4_off + 20))
		return;
	for (;;) {
		uint8_t kind, len;
		if (!cur_u8(&c, &kind) || kind == TCPOPT_EOL)
			return;
		if (kind == TCPOPT_NOP)
			continue;
		if (!cur_u8(&c, &len) || len < 2 || !cur_has(&c, len - 2u))
			return;
		uint32_t value = (uint32_t)c.pos;
		if (kind == TCPOPT_SACK)
			for (uint32_t e = 0; e + 4 <= len - 2u; e += 4) {
				uint32_t edge = get32(p, value + e), mapped = map(edge, base);
				if (mapped != edge)
					tcp_put32(p, value + e, mapped);
			}
		cur_skip(&c, len - 2u);
	}
}

/* The IPv4 total length and the TCP length change by delta bytes inserted (or removed). */
static void resize_segment(struct packet *p, int delta)
{
	uint16_t old_total = p->ip.total_len, new_total = (uint16_t)(old_total + delta);
	uint16_t old_seg = (uint16_t)(old_total - p->ip.hdr_len), new_seg = (uint16_t)(new_total - p->ip.hdr_len);
	uint16_t csum;

	pkt_put_be16(p, p->ip.off + 2, new_total);
	if (pkt_get_be16(p, p->ip.off + 10, &csum))
		pkt_put_be16(p, p->ip.off + 10, csum_update16(csum, old_total, new_total));
	/* The TCP checksum covers the segment's length through the pseudo-header. */
	if (p->ip.has_l4_csum && pkt_get_be16(p, p->ip.l4_csum_off, &csum))
		pkt_put_be16(p, p->ip.l4_csum_off, csum_update16(csum, old_seg, new_seg));
	p->ip.total_len = new_total;
	p->caplen = (uint32_t)((int64_t)p->caplen + delta);
	p->wirelen = (uint32_t)((int64_t)p->wirelen + delta);
	p->payload_len = (uint32_t)((int64_t)p->payload_len + delta);
}

/* Add (or take away) the words of bytes in the TCP checksum, as if they appeared where zeros were. */
static void csum_words(struct packet *p, const uint8_t *bytes, uint32_t n, bool add)
{
	uint16_t csum;
	if (!p->ip.has_l4_csum || !pkt_get_be16(p, p->ip.l4_csum_off, &csum))
		return;
	for (uint32_t i = 0; i + 1 < n; i += 2) {
		uint16_t w = (uint16_t)(bytes[i] << 8 | bytes[i + 1]);
		csum = add ? csum_update16(csum, 0, w) : csum_update16(csum, w, 0);
	}
	pkt_put_be16(p, p->ip.l4_csum_off, csum);
}

bool tcp_segment_insert(struct packet *p, const uint8_t *bytes, uint32_t n)
{
	uint32_t at = p->payload_off;

	if (!at || at > p->caplen || p->caplen + n > p->capacity || (uint32_t)p->ip.total_len + n > 65535 || (n & 1))
		return false;
	memmove(p->data + at + n, p->data + at, p->caplen - at);
	memcpy(p->data + at, bytes, n);
	resize_segment(p, (int)n);
	csum_words(p, bytes, n, true);
	return true;
}

bool tcp_segment_strip(struct packet *p, uint32_t n)
{
	uint32_t at = p->payload_off;

	if (!at || p->payload_len < n || (n & 1))
		return false;
	csum_words(p, p->data + at, n, false);
	memmove(p->data + at, p->data + at + n, p->caplen - at - n);
	resize_segment(p, -(int)n);
	return true;
}
