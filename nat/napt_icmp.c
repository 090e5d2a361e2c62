/* nat/napt_icmp.c: ICMP errors through the napt stage: the outer header and the quoted packet translated together, through the session of the quote (RFC 5508 section 4, REQ-3 to REQ-6). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "common/checksum.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "nat/napt.h"


/* REQ-3: an error whose checksum fails is dropped; one not fully captured cannot be checked. */
static bool icmp_checksum_bad(const struct packet *p)
{
	uint16_t want, got;
	return csum_l4_expected(p, &p->ip, &want) && pkt_get_be16(p, p->ip.l4_csum_off, &got) && want != got;
}

static const char *icmp_error_name(uint8_t type)
{
	switch (type) {
	case 3:
		return "destination unreachable";
	case 4:
		return "source quench";
	case 5:
		return "redirect";
	case 11:
		return "time exceeded";
	case 12:
		return "parameter problem";
	default:
		return "error";
	}
}

const char *napt_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : proto == IPPROTO_ICMP ? "ICMP" : "IP";
}

enum verdict napt_icmp_error(struct stage *st, struct napt *nat, struct packet *p, enum hop_dir dir,
                             struct stage_ctx *ctx)
{
	bool out = dir == DIR_LEFT_TO_RIGHT;
	struct ip4_view *q = &p->inner;
	char a[16], b[16], x[40], y[40];
	const char *what = icmp_error_name(p->ip.icmp_type);

	(void)st;
	/* Well formed, and to be received (RFC 1122 forbids sending it, not receiving it), but it
	 * names no flow of the NAT: say what it is rather than that its quote is short. */
	if (p->has_inner && q->proto == IPPROTO_ICMP && q->icmp_error) {
		return stage_drop(ctx, DROP_NAPT_ICMP_ERROR_ABOUT_ERROR, "ICMP %s %s -> %s quotes ICMP %s",
		                  what, ip4_to_str(p->ip.src, a), ip4_to_str(p->ip.dst, b), icmp_error_name(q->icmp_type));
	}
	if (!p->has_inner || !napt_has_ports(q->proto) || !q->has_ports) {
		return stage_drop(ctx, DROP_NAPT_ICMP_UNTRANSLATABLE, "ICMP %s %s -> %s", what, ip4_to_str(p->ip.src, a),
		                  ip4_to_str(p->ip.dst, b));
	}
	if (icmp_checksum_bad(p)) {
		return stage_drop(ctx, DROP_NAPT_ICMP_BAD_CHECKSUM, "ICMP %s %s -> %s", what, ip4_to_str(p->ip.src, a),
		                  ip4_to_str(p->ip.dst, b));
	}
	if (!out && !napt_is_external(nat, p->ip.dst)) {
		return stage_drop(ctx, DROP_NAPT_NOT_EXTERNAL, "inbound ICMP %s to %s", what, ip4_to_str(p->ip.dst, b));
	}
	/* Inbound, the quote is one of our outbound packets: source external, destination remote.
	 * Outbound, it is a packet the inside host received: source remote, destination inside. */
	uint32_t si = out ? napt_session_find_in(nat, q->proto, q->dst, q->dport, q->src, napt_rport_key(q->proto, q->sport))
	                  : napt_session_find_out(nat, q->proto, q->src, q->sport, q->dst, napt_rport_key(q->proto, q->dport));
	if (si == NAPT_NONE || nat->sess[si].state == NAPT_ST_IDLE) {
		return stage_drop(ctx, DROP_NAPT_ICMP_NO_MAPPING, "%s ICMP %s quoting %s %s -> %s (RFC 5508 %s)",
		                  out ? "outbound" : "inbound", what, napt_proto_name(q->proto),
		                  napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
		                  napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y), out ? "REQ-5" : "REQ-4");
	}
	const struct napt_session *s = &nat->sess[si];
	uint32_t before = out ? p->ip.src : p->ip.dst;
	/* The quoted endpoint that changes: the inside host's, as the outside saw it and as it is inside. */
	napt_ep_str(q->proto, out ? q->dst : q->src, out ? q->dport : q->sport, x, sizeof x);
	napt_ep_str(q->proto, out ? s->eaddr : s->iaddr, out ? s->eport : s->iport, y, sizeof y);
	if (out) {
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, s->eaddr);
		rewrite_ip4_addr(p, q, ENDPOINT_DST, s->eaddr);
		rewrite_ip4_port(p, q, ENDPOINT_DST, s->eport);
	} else {
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, s->iaddr);
		rewrite_ip4_addr(p, q, ENDPOINT_SRC, s->iaddr);
		rewrite_ip4_port(p, q, ENDPOINT_SRC, s->iport);
	}
	nat->stats.icmp_errors_translated++;
	/* No session_touch: an error neither refreshes nor changes a session (RFC 5508 REQ-6). */
	note_appendf(ctx->note, "%s %s -> %s (ICMP %s about mapping #%u; quoted %s %s %s -> %s, "
	                       "RFC 5508 %s)", out ? "SNAT" : "DNAT", ip4_to_str(before, a),
	                       ip4_to_str(out ? s->eaddr : s->iaddr, b), what, nat->maps[s->mapping].id,
	                       napt_proto_name(q->proto), out ? "destination" : "source", x, y, out ? "REQ-5" : "REQ-4");
	return VERDICT_FORWARD;
}

bool napt_icmp_error_reverse(struct napt *nat, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct ip4_view *q = &p->inner;
	char x[40], y[40];

	if (p->has_inner && q->proto == IPPROTO_ICMP && q->icmp_error) {
		g_string_append(ctx->note, "an ICMP error about an ICMP error: no flow maps it");
		return false;
	}
	if (!p->has_inner || !napt_has_ports(q->proto) || !q->has_ports) {
		g_string_append(ctx->note, "the ICMP error's quoted packet is too short to find its flow");
		return false;
	}
	if (dir == DIR_RIGHT_TO_LEFT) { /* captured inside: the quote is the inside host's own packet */
		uint32_t s = napt_session_find_in(nat, q->proto, q->src, q->sport, q->dst, napt_rport_key(q->proto, q->dport));
		if (s == NAPT_NONE) {
			note_appendf(ctx->note, "no mapping for the quoted %s %s -> %s", napt_proto_name(q->proto),
			                       napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
			                       napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y));
			return false;
		}
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, nat->sess[s].eaddr);
		rewrite_ip4_addr(p, q, ENDPOINT_SRC, nat->sess[s].eaddr);
		rewrite_ip4_port(p, q, ENDPOINT_SRC, nat->sess[s].eport);
		return true;
	}
	uint32_t s = napt_session_find_out(nat, q->proto, q->dst, q->dport, q->src, napt_rport_key(q->proto, q->sport));
	if (s == NAPT_NONE) {
		note_appendf(ctx->note, "no mapping for the quoted %s %s -> %s", napt_proto_name(q->proto),
		                       napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
		                       napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y));
		return false;
	}
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, nat->sess[s].iaddr);
	rewrite_ip4_addr(p, q, ENDPOINT_DST, nat->sess[s].iaddr);
	rewrite_ip4_port(p, q, ENDPOINT_DST, nat->sess[s].iport);
	return true;
}
