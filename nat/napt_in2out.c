/* nat/napt_in2out.c: the napt stage from inside to outside: SNAT through a session, opened when needed, and what it sends back when it cannot (RFC 4787 section 4, RFC 5508 REQ-8, AWS NAT gateway). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <netinet/ip_icmp.h>

#include "common/answer.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "nat/napt.h"


/* A RST to the inside host, as from the remote endpoint, so that its stack drops the connection. */
static bool emit_rst(struct stage_ctx *ctx, struct napt *nat, const struct packet *p, const char *note)
{
	bool ok = answer_tcp_rst(ctx, p, DIR_LEFT_TO_RIGHT, note);
	nat->stats.resets_sent += ok;
	return ok;
}

/* RFC 5508 REQ-8: destination unreachable, code 13 (communication administratively prohibited),
 * from the NAT's inside address, quoting the IP header and first 8 bytes of the packet. */
static bool emit_unreachable(struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                             const char *note)
{
	bool ok = answer_icmp_error(ctx, p, DIR_LEFT_TO_RIGHT, ICMP_UNREACH, ICMP_UNREACH_FILTER_PROHIB,
	                            nat->cfg.inside_address, p->ip.hdr_len + 8, note);
	nat->stats.unreachables_sent += ok;
	return ok;
}

void napt_exhausted(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                    enum napt_drop reason, const char *what)
{
	struct table_row row = { .proto = p->ip.proto, .expires_ns = INT64_MAX, .state = "",
		                 .orig = { p->ip.src, p->ip.dst, p->ip.sport, p->ip.dport }, .flags = what };
	char i[40], r[40], used[160] = "";
	if (reason != DROP_NAPT_TABLE_FULL)
		nat->stats.port_allocation_errors++; /* AWS ErrorPortAllocation: "could not allocate a source port" */
	stage_table_event(ctx, st, TABLE_EVENT_EXHAUSTED, &row, stage_drop_info(st->ops, reason)->text);
	/* What was used up, for the two reasons that are about ports. */
	if (reason == DROP_NAPT_NO_PORT) {
		char e[16];
		g_snprintf(used, sizeof used, " (%s%s ports %u-%u)", ip4_to_str(nat->cfg.external[0], e),
		           nat->cfg.n_external > 1 ? " and the other external addresses," : "", nat->cfg.port_min,
		           nat->cfg.port_max);
	} else if (reason == DROP_NAPT_PER_DESTINATION) {
		char e[16];
		g_snprintf(used, sizeof used, " (%s%s ports %u-%u, %u connections to this destination)",
		           ip4_to_str(nat->cfg.external[0], e),
		           nat->cfg.n_external > 1 ? " and the other external addresses," : "", nat->cfg.port_min,
		           nat->cfg.port_max, nat->cfg.max_per_destination);
	}
	stage_drop(ctx, reason, "%s -> %s%s", napt_ep_str(p->ip.proto, p->ip.src, p->ip.sport, i, sizeof i),
	           napt_ep_str(p->ip.proto, p->ip.dst, p->ip.dport, r, sizeof r), used);
	if (nat->cfg.exhaustion_icmp && p->ip.proto != IPPROTO_ICMP) {
		char note[200];
		g_snprintf(note, sizeof note, "napt %s: ICMP destination unreachable 13 (administratively prohibited) to %s: "
		           "no external port (RFC 5508 REQ-8)", nat->name, i);
		if (emit_unreachable(ctx, nat, p, note))
			g_string_append(ctx->note, "; ICMP 3/13 sent back (RFC 5508 REQ-8)");
	}
}

/* Look up or open the outbound session of p; NAPT_NONE after writing the drop note.  *how gets the
 * open's sentence, empty for a known session. */
uint32_t napt_outbound_session(struct stage *st, struct stage_ctx *ctx, struct napt *nat, struct packet *p,
                               uint32_t raddr, uint16_t rport, struct napt_open *o, enum napt_drop *reason)
{
	uint8_t proto = p->ip.proto;
	uint16_t iport = napt_has_ports(proto) ? p->ip.sport : 0;
	uint32_t s = napt_session_find_in(nat, proto, p->ip.src, iport, raddr, rport);
	bool syn = proto == IPPROTO_TCP && (p->ip.tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;

	o->how[0] = '\0';
	if (s != NAPT_NONE && nat->sess[s].state == NAPT_ST_IDLE) {
		if (!syn) {
			char note[200], i[40], r[40];
			/* AWS: "returns an RST packet to any resources behind the NAT gateway that attempt to
			 * continue the connection (it does not send a FIN packet)". */
			g_snprintf(note, sizeof note, "napt %s: TCP RST to %s as from %s: the connection idled out (%us)", nat->name,
			           napt_ep_str(proto, p->ip.src, iport, i, sizeof i), napt_ep_str(proto, raddr, rport, r, sizeof r),
			           nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED]);
			bool sent = emit_rst(ctx, nat, p, note);
			stage_drop(ctx, DROP_NAPT_IDLE_TIMEOUT, "%s -> %s (connection of mapping #%u, after %u s; %s)", i, r,
			           nat->maps[nat->sess[s].mapping].id, nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED],
			           sent ? "TCP RST sent to the inside host" : "RST not sent");
			*reason = DROP_NAPT_IDLE_TIMEOUT;
			return NAPT_NONE;
		}
		/* A new connection on the same tuple: the remembered one goes. */
		napt_session_event(st, ctx, s, TABLE_EVENT_EVICTED, "a new SYN replaces the connection that idled out");
		napt_session_free(nat, s);
		s = NAPT_NONE;
	}
	if (s != NAPT_NONE)
		return s;
	s = napt_session_open_out(st, ctx, nat, p, raddr, rport, o);
	if (s == NAPT_NONE) {
		*reason = o->reason;
		napt_exhausted(st, ctx, nat, p, o->reason, o->reason == DROP_NAPT_TABLE_FULL ? "table full" : "no port");
		return NAPT_NONE;
	}
	if (proto == IPPROTO_TCP && syn)
		nat->stats.connection_attempts++;
	else if (proto != IPPROTO_TCP)
		nat->stats.connection_attempts++;
	return s;
}

enum verdict napt_in2out(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t raddr = p->ip.dst;
	uint16_t rport = napt_has_ports(proto) ? napt_rport_key(proto, p->ip.dport) : 0;
	struct napt_open o;
	enum napt_drop reason = NAPT_DROP_END;

	if (napt_is_external(nat, raddr))
		return napt_hairpin(st, nat, p, ctx);
	uint32_t si = napt_outbound_session(st, ctx, nat, p, raddr, rport, &o, &reason);
	if (si == NAPT_NONE)
		return VERDICT_DROP; /* napt_outbound_session() said why, through stage_drop() */
	struct napt_session *s = &nat->sess[si];
	uint32_t iaddr = p->ip.src;
	uint16_t iport = napt_has_ports(proto) ? p->ip.sport : 0;
	napt_set_source(p, s->eaddr, s->eport);
	bool first_reply;
	const char *state = napt_session_touch(nat, si, p, DIR_LEFT_TO_RIGHT, ctx->now_ns, &first_reply);
	if (o.how[0])
		napt_session_event(st, ctx, si, TABLE_EVENT_CREATED, o.how);
	else
		napt_session_refreshed(st, ctx, si, state, first_reply);
	napt_note_translation(ctx, nat, "SNAT", proto, iaddr, iport, s->eaddr, s->eport, s, o.how, o.how[0] ? NULL : state);
	return VERDICT_FORWARD;
}
