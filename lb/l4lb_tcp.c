/* lb/l4lb_tcp.c: what the L4 balancer does inside TCP: proxy protocol v2, the sequence shift it causes, and resets.
 *
 * Proxy protocol v2 follows haproxy's "The PROXY protocol" (proxy-protocol.txt), section 2.2: a
 * 12-byte signature, version 2 / command PROXY (0x21), AF_INET + STREAM (0x11), a 12-byte address
 * block (source address, destination address, source port, destination port).  AWS NLB sends it
 * before the first byte of the client's data; the target's TCP stream is then 28 bytes longer
 * than the client's, so from that byte on the client's sequence numbers are shifted up by 28 on
 * the way to the target, and the target's acknowledgements (and SACK edges, RFC 2018) down by 28
 * on the way back.
 *
 * Resets follow RFC 9293 section 3.10.7.1: a RST answers the segment it resets, with the sequence
 * number its acknowledgement asked for, or with an acknowledgement of it when it had none.
 *
 * Checksums: every change is followed incrementally (RFC 1624), word by word, so a checksum that
 * was wrong in the capture stays exactly as wrong.  The inserted header is 28 bytes, an even
 * number, so the words after it keep their alignment.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/checksum.h"
#include "common/cursor.h"
#include "common/note.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "lb/l4lb.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCPOPT_END_ 0
#define TCPOPT_NOP_ 1
#define TCPOPT_SACK_ 5

static const uint8_t ppv2_signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static uint32_t get32(const struct packet *p, uint32_t off)
{
	struct cursor c;
	uint32_t v = 0;
	cur_init(&c, p->data, p->caplen);
	cur_be32_at(&c, off, &v);
	return v;
}

uint32_t l4lb_tcp_seq(const struct packet *p)
{
	return get32(p, p->ip.l4_off + 4);
}

uint32_t l4lb_tcp_ack(const struct packet *p)
{
	return get32(p, p->ip.l4_off + 8);
}

/* The segment's data length on the wire (captured or not); 0 when the header was not captured. */
uint32_t l4lb_tcp_payload_len(const struct packet *p)
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

void l4lb_tcp_set_seq(struct packet *p, uint32_t seq)
{
	tcp_put32(p, p->ip.l4_off + 4, seq);
}

void l4lb_tcp_map_acks(struct packet *p, uint32_t (*map)(uint32_t v, uint32_t base), uint32_t base)
{
	struct cursor c;
	uint32_t hdr_end = p->payload_off;

	if (!p->payload_off)
		return;
	if (p->ip.tcp_flags & TCP_ACK) {
		uint32_t ack = l4lb_tcp_ack(p), mapped = map(ack, base);
		if (mapped != ack)
			tcp_put32(p, p->ip.l4_off + 8, mapped);
	}
	/* Options: kind, length, value; SACK (kind 5) carries pairs of left and right edges. */
	cur_init(&c, p->data, hdr_end);
	if (!cur_skip(&c, p->ip.l4_off + 20))
		return;
	for (;;) {
		uint8_t kind, len;
		if (!cur_u8(&c, &kind) || kind == TCPOPT_END_)
			return;
		if (kind == TCPOPT_NOP_)
			continue;
		if (!cur_u8(&c, &len) || len < 2 || !cur_has(&c, len - 2u))
			return;
		uint32_t value = (uint32_t)c.pos;
		if (kind == TCPOPT_SACK_)
			for (uint32_t e = 0; e + 4 <= len - 2u; e += 4) {
				uint32_t edge = get32(p, value + e), mapped = map(edge, base);
				if (mapped != edge)
					tcp_put32(p, value + e, mapped);
			}
		cur_skip(&c, len - 2u);
	}
}

bool l4lb_payload_is_ppv2(const struct packet *p)
{
	return p->payload_off && p->payload_len >= L4LB_PPV2_LEN &&
	       memcmp(p->data + p->payload_off, ppv2_signature, sizeof ppv2_signature) == 0;
}

/* The IPv4 total length and the TCP length change by delta bytes inserted (or removed) at `at`. */
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

bool l4lb_ppv2_insert(struct packet *p, const struct l4lb_flow *f)
{
	uint8_t h[L4LB_PPV2_LEN];
	uint32_t at = p->payload_off;

	if (!at || at > p->caplen || p->caplen + L4LB_PPV2_LEN > p->capacity ||
	    (uint32_t)p->ip.total_len + L4LB_PPV2_LEN > 65535)
		return false;
	memcpy(h, ppv2_signature, sizeof ppv2_signature);
	h[12] = 0x21; /* version 2, command PROXY */
	h[13] = 0x11; /* AF_INET, STREAM */
	h[14] = 0;
	h[15] = 12;   /* address block length */
	/* what the client sent: its address and port, and the listener it connected to */
	const uint32_t a[2] = { f->client, f->vip };
	for (int i = 0; i < 2; i++) {
		h[16 + 4 * i] = (uint8_t)(a[i] >> 24);
		h[17 + 4 * i] = (uint8_t)(a[i] >> 16);
		h[18 + 4 * i] = (uint8_t)(a[i] >> 8);
		h[19 + 4 * i] = (uint8_t)a[i];
	}
	h[24] = (uint8_t)(f->cport >> 8);
	h[25] = (uint8_t)f->cport;
	h[26] = (uint8_t)(f->vport >> 8);
	h[27] = (uint8_t)f->vport;
	memmove(p->data + at + L4LB_PPV2_LEN, p->data + at, p->caplen - at);
	memcpy(p->data + at, h, sizeof h);
	resize_segment(p, L4LB_PPV2_LEN);
	csum_words(p, h, sizeof h, true);
	p->payload_len += L4LB_PPV2_LEN;
	return true;
}

bool l4lb_ppv2_strip(struct packet *p)
{
	uint8_t h[L4LB_PPV2_LEN];
	uint32_t at = p->payload_off;

	if (!l4lb_payload_is_ppv2(p))
		return false;
	memcpy(h, p->data + at, sizeof h);
	csum_words(p, h, sizeof h, false);
	memmove(p->data + at, p->data + at + L4LB_PPV2_LEN, p->caplen - at - L4LB_PPV2_LEN);
	resize_segment(p, -L4LB_PPV2_LEN);
	p->payload_len -= L4LB_PPV2_LEN;
	return true;
}

bool l4lb_send_rst(struct stage *st, struct stage_ctx *ctx, const struct packet *p, const char *why)
{
	struct l4lb *lb = st->priv;
	libnet_t *l = (libnet_t *)lb->lnet;
	uint8_t frame[128];
	uint8_t *pkt = NULL;
	uint32_t size = 0, seq = 0, ack = 0;
	uint8_t flags = TCP_RST;
	bool ok = false;
	char note[256];

	/* RFC 9293 3.10.7.1: take the sequence number from the segment's acknowledgement, or
	 * acknowledge the segment when it acknowledged nothing. */
	if (p->ip.tcp_flags & TCP_ACK) {
		seq = l4lb_tcp_ack(p);
	} else {
		flags |= TCP_ACK;
		ack = l4lb_tcp_seq(p) + l4lb_tcp_payload_len(p) + ((p->ip.tcp_flags & TCP_SYN) ? 1 : 0) +
		      ((p->ip.tcp_flags & TCP_FIN) ? 1 : 0);
	}
	/* Outside the replay loop (a unit test calling process()) there is nowhere to send it. */
	if (!ctx->emitter || p->l3_off + LIBNET_IPV4_H + LIBNET_TCP_H > sizeof frame)
		return false;
	/* From the listener the client connected to, back to the client. */
	if (libnet_build_tcp(p->ip.dport, p->ip.sport, seq, ack, flags, 0, 0, 0, LIBNET_TCP_H, NULL, 0, l, 0) == -1 ||
	    libnet_build_ipv4(LIBNET_IPV4_H + LIBNET_TCP_H, 0, 0, 0, 64, IPPROTO_TCP, 0, g_htonl(p->ip.dst),
	                      g_htonl(p->ip.src), NULL, 0, l, 0) == -1 ||
	    libnet_pblock_coalesce(l, &pkt, &size) == -1 || size != LIBNET_IPV4_H + LIBNET_TCP_H)
		goto out;
	/* The link header of the segment it answers, turned round. */
	memcpy(frame, p->data, p->l3_off);
	if (p->linktype == DLT_EN10MB && p->l3_off >= 12) {
		memcpy(frame, p->data + 6, 6);
		memcpy(frame + 6, p->data, 6);
	}
	memcpy(frame + p->l3_off, pkt, size);
	g_snprintf(note, sizeof note, "%s %s: TCP RST from the listener to the client: %s", st->ops->type, st->name, why);
	ok = stage_emit(ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS, frame, p->l3_off + size, note);
out:
	if (pkt)
		libnet_adv_free_packet(l, pkt);
	libnet_clear_packet(l);
	return ok;
}
