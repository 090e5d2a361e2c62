/* lb/l7lb_wire.c: the TCP segments an L7 balancer sends and receives on its target side, built into a reused frame (RFC 791, RFC 9293 section 3.1).
 *
 * A full proxy's backend connections exist only in the simulation: natlb writes every segment
 * of them itself, handshake, request, response, acknowledgements and close, so that Wireshark
 * follows each as an ordinary TCP stream.  These are the hot path of an L7 replay (a segment or
 * two per request and per response), so they are written by hand into one buffer instead of
 * through libnet, whose packet building allocates.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/packet.h"
#include "lb/l7lb.h"

#define IP4_HDR 20
#define TCP_HDR 20
#define TCP_WINDOW 65535

/* A locally administered MAC for an address (02:00 and the four octets), so that every host of
 * the target side has its own and Wireshark's Ethernet columns tell them apart. */
static void mac_of(uint8_t *mac, uint32_t addr)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	be32_store(mac + 2, addr);
}

/* The link header of a target-side frame: Ethernet between the two hosts, or, for another link
 * type, the header of the packet in hand unchanged (its fields name no host natlb could pick). */
static uint32_t link_header(uint8_t *frame, const struct packet *like, uint32_t src, uint32_t dst)
{
	if (like->linktype == DLT_EN10MB) {
		mac_of(frame, dst);
		mac_of(frame + 6, src);
		be16_store(frame + 12, 0x0800);
		return 14;
	}
	uint32_t n = like->ip.off;
	if (n > 64 || n > like->caplen)
		n = 0;
	memcpy(frame, like->data, n);
	return n;
}

uint32_t l7lb_wire_segment(uint8_t *frame, const struct packet *like, const struct l7lb_segment *s)
{
	uint32_t l2 = link_header(frame, like, s->src, s->dst);
	uint8_t *ip = frame + l2, *tcp = ip + IP4_HDR;
	uint16_t total = (uint16_t)(IP4_HDR + TCP_HDR + s->len);

	ip[0] = 0x45;
	ip[1] = 0;
	be16_store(ip + 2, total);
	be16_store(ip + 4, s->ip_id);
	be16_store(ip + 6, 0x4000); /* DF, as Linux sends TCP */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	be16_store(ip + 10, 0);
	be32_store(ip + 12, s->src);
	be32_store(ip + 16, s->dst);
	be16_store(ip + 10, csum_fold(csum_partial(ip, IP4_HDR, 0)));

	be16_store(tcp, s->sport);
	be16_store(tcp + 2, s->dport);
	be32_store(tcp + 4, s->seq);
	be32_store(tcp + 8, (s->flags & TH_ACK) ? s->ack : 0);
	tcp[12] = (TCP_HDR / 4) << 4;
	tcp[13] = s->flags;
	be16_store(tcp + 14, TCP_WINDOW);
	be16_store(tcp + 16, 0);
	be16_store(tcp + 18, 0);
	if (s->len)
		memcpy(tcp + TCP_HDR, s->payload, s->len);

	/* RFC 9293 section 3.1: the checksum covers a pseudo-header of addresses, protocol, length. */
	uint8_t pseudo[12];
	be32_store(pseudo, s->src);
	be32_store(pseudo + 4, s->dst);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	be16_store(pseudo + 10, (uint16_t)(TCP_HDR + s->len));
	uint32_t sum = csum_partial(pseudo, sizeof pseudo, 0);
	be16_store(tcp + 16, csum_fold(csum_partial(tcp, TCP_HDR + s->len, sum)));
	return l2 + total;
}
