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
 * The segment editing itself (inserting, stripping, shifting sequence numbers, with the checksums
 * followed) is common/tcp_segment.c's; the reset is common/answer.c's (RFC 9293 3.10.7.1).
 */
#include <string.h>

#include "common/answer.h"
#include "common/tcp_segment.h"
#include "lb/l4lb.h"

static const uint8_t ppv2_signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

bool l4lb_payload_is_ppv2(const struct packet *p)
{
	return p->payload_off && p->payload_len >= L4LB_PPV2_LEN &&
	       memcmp(p->data + p->payload_off, ppv2_signature, sizeof ppv2_signature) == 0;
}

bool l4lb_ppv2_insert(struct packet *p, const struct l4lb_flow *f)
{
	uint8_t h[L4LB_PPV2_LEN];

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
	return tcp_segment_insert(p, h, sizeof h);
}

bool l4lb_ppv2_strip(struct packet *p)
{
	return l4lb_payload_is_ppv2(p) && tcp_segment_strip(p, L4LB_PPV2_LEN);
}

bool l4lb_send_rst(struct stage *st, struct stage_ctx *ctx, const struct packet *p, const char *why)
{
	char note[256];

	/* From the listener the client connected to, back to the client. */
	g_snprintf(note, sizeof note, "%s %s: TCP RST from the listener to the client: %s", st->ops->type, st->name, why);
	return answer_tcp_rst(ctx, p, DIR_LEFT_TO_RIGHT, note);
}
