/* common/answer.c: the packet a stage sends back in answer to one it received (see answer.h). */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/answer.h"
#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/stage.h"
#include "common/tcp_segment.h"

#define ANSWER_MAX_FRAME 1600 /* a RST or an ICMP error quoting a header, behind its link header */

/* p's link header, turned round if asked; UINT32_MAX when it does not fit. */
static uint32_t link_header(const struct packet *p, uint8_t *buf, uint32_t size, bool turn)
{
	uint32_t n = p->ip.off;
	if (n > size || n > p->caplen)
		return UINT32_MAX;
	memcpy(buf, p->data, n);
	if (turn && p->linktype == DLT_EN10MB && n >= 12) {
		memcpy(buf, p->data + 6, 6);
		memcpy(buf + 6, p->data, 6);
	}
	return n;
}

static uint32_t answer_link_header(const struct packet *p, uint8_t *buf, uint32_t size)
{
	return link_header(p, buf, size, true);
}

/* Emit frame (the link header turned round, then the answer's IPv4 packet) back towards the
 * sender of the packet that crossed the stage in dir. */
static bool answer_send(struct stage_ctx *ctx, enum hop_dir dir, const uint8_t *frame, uint32_t len,
                        const char *note)
{
	enum side side = dir == DIR_LEFT_TO_RIGHT ? SIDE_LEFT : SIDE_RIGHT;
	enum hop_dir back = dir == DIR_LEFT_TO_RIGHT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
	return stage_emit(ctx, side, back, PIPELINE_HOP_NS, frame, len, note);
}

bool answer_emit_to(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, uint32_t to,
                    enum side side, enum hop_dir dir, int64_t offset_ns, uint8_t *frame, uint32_t size,
                    const char *note)
{
	uint8_t *ip = NULL;
	uint32_t ip_len = 0;
	bool ok = false;
	uint32_t l2 = link_header(p, frame, size, p->ip.src == to);

	if (l2 != UINT32_MAX && libnet_pblock_coalesce(l, &ip, &ip_len) != -1 && l2 + ip_len <= size) {
		memcpy(frame + l2, ip, ip_len);
		ok = stage_emit(ctx, side, dir, offset_ns, frame, l2 + ip_len, note);
	}
	if (ip)
		libnet_adv_free_packet(l, ip);
	libnet_clear_packet(l);
	return ok;
}

bool answer_emit(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                 const char *note)
{
	uint8_t frame[ANSWER_MAX_FRAME];
	enum side side = dir == DIR_LEFT_TO_RIGHT ? SIDE_LEFT : SIDE_RIGHT;
	enum hop_dir back = dir == DIR_LEFT_TO_RIGHT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
	return answer_emit_to(ctx, l, p, p->ip.src, side, back, PIPELINE_HOP_NS, frame, sizeof frame, note);
}

/* The 20-byte IPv4 header of an answer (RFC 791): no options, ID 0, no fragment flags, TTL 64,
 * as libnet_build_ipv4() made it for these answers before they were built here. */
static void answer_ip4_header(uint8_t *ip, uint16_t total_len, uint8_t proto, uint32_t src, uint32_t dst)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	be16_store(ip + 2, total_len);
	ip[8] = 64;
	ip[9] = proto;
	be32_store(ip + 12, src);
	be32_store(ip + 16, dst);
	be16_store(ip + 10, csum_fold(csum_partial(ip, 20, 0)));
}

/* Built by hand on the stack rather than with libnet, which allocates per packet: a scan of a
 * NAT's address is answered packet by packet. */
bool answer_tcp_rst(struct stage_ctx *ctx, const struct packet *p, enum hop_dir dir, const char *note)
{
	uint8_t frame[ANSWER_MAX_FRAME];
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TH_RST;

	if (!ctx->emitter || !p->ip.has_ports)
		return false;
	uint32_t l2 = answer_link_header(p, frame, sizeof frame);
	if (l2 == UINT32_MAX || l2 + 40 > sizeof frame)
		return false;
	if (p->ip.tcp_flags & TH_ACK) {
		seq = tcp_segment_ack(p);
	} else {
		flags |= TH_ACK;
		ack = tcp_segment_seq(p) + tcp_segment_payload_len(p) + ((p->ip.tcp_flags & TH_SYN) ? 1 : 0) +
		      ((p->ip.tcp_flags & TH_FIN) ? 1 : 0);
	}
	uint8_t *ip = frame + l2, *tcp = ip + 20;
	answer_ip4_header(ip, 40, IPPROTO_TCP, p->ip.dst, p->ip.src);
	memset(tcp, 0, 20);
	be16_store(tcp, p->ip.dport);
	be16_store(tcp + 2, p->ip.sport);
	be32_store(tcp + 4, seq);
	be32_store(tcp + 8, ack);
	tcp[12] = 5 << 4; /* no options */
	tcp[13] = flags;
	/* pseudo-header (RFC 9293 3.1): the addresses, protocol 6, TCP length 20 */
	uint32_t sum = csum_partial(ip + 12, 8, 0) + IPPROTO_TCP + 20;
	be16_store(tcp + 16, csum_fold(csum_partial(tcp, 20, sum)));
	return answer_send(ctx, dir, frame, l2 + 40, note);
}

bool answer_icmp_error(struct stage_ctx *ctx, const struct packet *p, enum hop_dir dir, uint8_t type, uint8_t code,
                       uint32_t from, uint32_t quote, const char *note)
{
	uint8_t frame[ANSWER_MAX_FRAME];
	uint32_t captured = p->caplen - p->ip.off;

	if (!ctx->emitter)
		return false;
	if (quote > captured)
		quote = captured;
	if (quote > p->ip.total_len)
		quote = p->ip.total_len;
	uint32_t l2 = answer_link_header(p, frame, sizeof frame);
	if (l2 == UINT32_MAX || l2 + 28 + quote > sizeof frame)
		return false;
	uint8_t *ip = frame + l2, *icmp = ip + 20;
	answer_ip4_header(ip, (uint16_t)(28 + quote), IPPROTO_ICMP, from, p->ip.src);
	memset(icmp, 0, 8); /* type, code, checksum, 4 bytes unused (RFC 792) */
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + 8, p->data + p->ip.off, quote);
	be16_store(icmp + 2, csum_fold(csum_partial(icmp, 8 + quote, 0)));
	return answer_send(ctx, dir, frame, l2 + 28 + quote, note);
}
