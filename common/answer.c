/* common/answer.c: the packet a stage sends back in answer to one it received (see answer.h). */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/answer.h"
#include "common/stage.h"
#include "common/tcp_segment.h"

#define ANSWER_MAX_FRAME 1600 /* a RST or an ICMP error quoting a header, behind its link header */

/* p's link header, turned round; UINT32_MAX when it does not fit. */
static uint32_t answer_link_header(const struct packet *p, uint8_t *buf, uint32_t size)
{
	uint32_t n = p->ip.off;
	if (n > size || n > p->caplen)
		return UINT32_MAX;
	memcpy(buf, p->data, n);
	if (p->linktype == DLT_EN10MB && n >= 12) {
		memcpy(buf, p->data + 6, 6);
		memcpy(buf + 6, p->data, 6);
	}
	return n;
}

struct libnet_context *answer_libnet_open(void)
{
	char errbuf[LIBNET_ERRBUF_SIZE];
	return libnet_init(LIBNET_NONE, NULL, errbuf);
}

void answer_libnet_close(struct libnet_context *l)
{
	if (l)
		libnet_destroy(l);
}

bool answer_emit(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                 const char *note)
{
	uint8_t frame[ANSWER_MAX_FRAME];
	uint8_t *ip = NULL;
	uint32_t ip_len = 0;
	bool ok = false;
	uint32_t l2 = answer_link_header(p, frame, sizeof frame);
	enum side side = dir == DIR_LEFT_TO_RIGHT ? SIDE_LEFT : SIDE_RIGHT;
	enum hop_dir back = dir == DIR_LEFT_TO_RIGHT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;

	if (l2 != UINT32_MAX && libnet_pblock_coalesce(l, &ip, &ip_len) != -1 && l2 + ip_len <= sizeof frame) {
		memcpy(frame + l2, ip, ip_len);
		ok = stage_emit(ctx, side, back, PIPELINE_HOP_NS, frame, l2 + ip_len, note);
	}
	if (ip)
		libnet_adv_free_packet(l, ip);
	libnet_clear_packet(l);
	return ok;
}

bool answer_tcp_rst(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                    const char *note)
{
	uint32_t seq = 0, ack = 0;
	uint8_t flags = TH_RST;

	if (!ctx->emitter || !p->ip.has_ports)
		return false;
	if (p->ip.tcp_flags & TH_ACK) {
		seq = tcp_segment_ack(p);
	} else {
		flags |= TH_ACK;
		ack = tcp_segment_seq(p) + tcp_segment_payload_len(p) + ((p->ip.tcp_flags & TH_SYN) ? 1 : 0) +
		      ((p->ip.tcp_flags & TH_FIN) ? 1 : 0);
	}
	if (libnet_build_tcp(p->ip.dport, p->ip.sport, seq, ack, flags, 0, 0, 0, LIBNET_TCP_H, NULL, 0, l, 0) == -1 ||
	    libnet_build_ipv4(LIBNET_IPV4_H + LIBNET_TCP_H, 0, 0, 0, 64, IPPROTO_TCP, 0, g_htonl(p->ip.dst),
	                      g_htonl(p->ip.src), NULL, 0, l, 0) == -1) {
		libnet_clear_packet(l);
		return false;
	}
	return answer_emit(ctx, l, p, dir, note);
}

/* RFC 1812 section 4.3.2.3: an ICMP error "SHOULD contain as much of the original datagram as
 * possible without the length of the ICMP datagram exceeding 576 bytes". */
#define ANSWER_ICMP_MAX 576u

bool answer_time_exceeded(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                          uint32_t from, const char *note)
{
	uint32_t room = ANSWER_ICMP_MAX - LIBNET_IPV4_H - LIBNET_ICMPV4_TIMXCEED_H;
	uint32_t quote = p->ip.total_len < room ? p->ip.total_len : room;

	if (!ctx->emitter)
		return false;
	if (quote > p->caplen - p->ip.off)
		quote = p->caplen - p->ip.off;
	if (libnet_build_icmpv4_timeexceed(ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0, p->data + p->ip.off, quote, l, 0) == -1 ||
	    libnet_build_ipv4(LIBNET_IPV4_H + LIBNET_ICMPV4_TIMXCEED_H + quote, 0, 0, 0, 64, IPPROTO_ICMP, 0, g_htonl(from),
	                      g_htonl(p->ip.src), NULL, 0, l, 0) == -1) {
		libnet_clear_packet(l);
		return false;
	}
	return answer_emit(ctx, l, p, dir, note);
}
