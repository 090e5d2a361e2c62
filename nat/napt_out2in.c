/* nat/napt_out2in.c: the napt stage from outside to inside: DNAT through a session, the filtering behaviour for a new remote, the NAT's own answer to what no session expects, and hairpinning (RFC 4787 sections 5 and 6, REQ-8, REQ-9; RFC 1812 4.3.2.3; Linux nf_conntrack). */
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


/* RFC 4787 section 5: may (raddr, rport) send to the mapping on (eaddr, eport)?  The caller found no
 * session for exactly that pair.  Returns the mapping with the filtering's sentence in why, or
 * NAPT_NONE with the reason and what the reason's own sentence does not say (the mapping the
 * filter looked at), or "" when it says everything. */
uint32_t napt_filter_inbound(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                             uint16_t rport, enum napt_drop *reason, char *why, size_t size)
{
	char r[40], e[40];
	napt_ep_str(proto, raddr, rport, r, sizeof r);
	napt_ep_str(proto, eaddr, eport, e, sizeof e);

	if (nat->cfg.port_overlapping) {
		/* Ports are shared: only the 5-tuple names a session (APDF is enforced at configure time). */
		*reason = DROP_NAPT_NO_MAPPING;
		g_snprintf(why, size, "no session from %s through %s: only replies pass", r, e);
		return NAPT_NONE;
	}
	uint32_t m = napt_mapping_find_ext(nat, proto, eaddr, eport);
	if (m == NAPT_NONE) {
		*reason = DROP_NAPT_NO_MAPPING;
		why[0] = '\0'; /* the reason says it, and the caller names the endpoint */
		return NAPT_NONE;
	}
	switch (nat->cfg.filtering) {
	case NAPT_EI:
		g_snprintf(why, size, "EIF: any remote may use mapping #%u", nat->maps[m].id);
		return m;
	case NAPT_AD: {
		char a[16];
		for (uint32_t s = nat->maps[m].sessions; s != NAPT_NONE; s = nat->sess[s].next_in_mapping)
			if (nat->sess[s].raddr == raddr && nat->sess[s].state != NAPT_ST_IDLE) {
				g_snprintf(why, size, "ADF: %s was contacted through mapping #%u", ip4_to_str(raddr, a), nat->maps[m].id);
				return m;
			}
		*reason = DROP_NAPT_FILTERED_ADF;
		g_snprintf(why, size, "mapping #%u has not contacted %s", nat->maps[m].id, ip4_to_str(raddr, a));
		return NAPT_NONE;
	}
	default:
		*reason = DROP_NAPT_FILTERED_APDF;
		g_snprintf(why, size, "mapping #%u has not contacted %s", nat->maps[m].id, r);
		return NAPT_NONE;
	}
}


enum verdict napt_unsolicited(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx,
                              uint32_t local, const char *why)
{
	uint8_t proto = p->ip.proto, f = p->ip.tcp_flags;
	bool tcp = proto == IPPROTO_TCP, sent = false;
	char r[40], e[40], note[200];

	/* A stack answers neither a RST (RFC 9293 3.10.7.1) nor ICMP here (the kernel answers echo
	 * requests, which natlb does not model). */
	if ((!tcp && proto != IPPROTO_UDP) || (tcp && (f & TH_RST)))
		return VERDICT_DROP;
	napt_ep_str(proto, p->ip.src, p->ip.sport, r, sizeof r);
	napt_ep_str(proto, p->ip.dst, p->ip.dport, e, sizeof e);
	if (tcp) {
		g_snprintf(note, sizeof note, "napt %s: TCP RST from %s to %s: nothing listens on the NAT's own port",
		           nat->name, e, r);
		sent = answer_tcp_rst(ctx, p, DIR_RIGHT_TO_LEFT, note);
		nat->stats.resets_sent += sent;
	} else {
		g_snprintf(note, sizeof note, "napt %s: ICMP destination unreachable 3 (port unreachable) to %s: no socket "
		           "on %s", nat->name, r, e);
		sent = answer_icmp_error(ctx, p, DIR_RIGHT_TO_LEFT, ICMP_UNREACH, ICMP_UNREACH_PORT, p->ip.dst,
		                         ANSWER_ICMP_QUOTE_MAX, note);
		nat->stats.port_unreachables_sent += sent;
	}
	/* Linux: conntrack made an entry for this packet in PREROUTING, and, nothing in the nat table
	 * matching, it goes to the router's own stack untranslated; the entry holds the tuple until it
	 * times out.  conntrack starts no TCP entry on a SYN-ACK (tcp_new() finds it invalid). */
	bool created = false;
	if (nat->cfg.tracking == NAPT_TRACK_CONNTRACK && local == NAPT_NONE &&
	    !(tcp && (f & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))) {
		local = napt_session_open_local(nat, proto, p->ip.dst, p->ip.dport, p->ip.src, p->ip.sport, ctx->now_ns);
		created = local != NAPT_NONE;
	}
	if (local != NAPT_NONE) {
		struct napt_session *s = &nat->sess[local];
		enum napt_timeout tclass = NAPT_TO_UDP_UNREPLIED; /* the ICMP error is RELATED: no reply */
		s->packets[DIR_RIGHT_TO_LEFT]++;
		s->bytes[DIR_RIGHT_TO_LEFT] += p->ip.total_len;
		if (tcp && sent) {
			s->state = NAPT_ST_CLOSE; /* the RST is the entry's reply: SYN_SENT or ESTABLISHED to CLOSE */
			s->flags |= NAPT_SESS_REPLIED;
			tclass = NAPT_TO_TCP_RST;
		} else if (tcp) {
			s->state = (f & TH_SYN) ? NAPT_ST_SYN_SENT : NAPT_ST_ESTABLISHED;
			tclass = (f & TH_SYN) ? NAPT_TO_TCP_SYN : NAPT_TO_TCP_ESTABLISHED;
		}
		napt_timer_arm(nat, local, tclass, ctx->now_ns);
		napt_session_event(st, ctx, local, created ? TABLE_EVENT_CREATED : TABLE_EVENT_REFRESHED,
		                   created ? "a packet for the NAT itself: conntrack's entry holds its tuple" :
		                   "another packet for the NAT itself");
	}
	nat->stats.answered_unsolicited++;
	note_appendf(ctx->note, "inbound %s -> %s is for the NAT itself (no session expects it%s%s), not translated; %s%s%s",
	             r, e, why[0] ? ": " : "", why, tcp ? "TCP RST" : "ICMP 3/3 port unreachable",
	             sent ? " sent back" : " not sent (nowhere to emit)",
	             local != NAPT_NONE ? (created ? "; a local conntrack entry holds the tuple" :
	                                   "; its local conntrack entry refreshed") : "");
	return VERDICT_CONSUMED;
}

enum verdict napt_out2in(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t eaddr = p->ip.dst, raddr = p->ip.src;
	uint16_t eport = napt_has_ports(proto) ? p->ip.dport : 0;
	uint16_t rsport = napt_has_ports(proto) ? p->ip.sport : 0;
	uint16_t rport = napt_rport_key(proto, rsport);
	char r[40], e[40], why[128];

	if (!napt_is_external(nat, eaddr)) {
		return stage_drop(ctx, DROP_NAPT_NOT_EXTERNAL, "inbound %s -> %s (inside addresses are not reachable "
		                  "from outside)", napt_ep_str(proto, raddr, rsport, r, sizeof r),
		                  napt_ep_str(proto, eaddr, eport, e, sizeof e));
	}
	uint32_t si = napt_session_find_out(nat, proto, eaddr, eport, raddr, rport);
	why[0] = '\0';
	if (si != NAPT_NONE && (nat->sess[si].flags & NAPT_SESS_LOCAL)) {
		enum verdict v = nat->cfg.answer_unsolicited ? napt_unsolicited(st, nat, p, ctx, si, "") : VERDICT_DROP;
		if (v != VERDICT_DROP)
			return v;
		return stage_drop(ctx, DROP_NAPT_NO_MAPPING, "inbound %s -> %s (for the NAT itself: no mapping)",
		                  napt_ep_str(proto, raddr, rsport, r, sizeof r), napt_ep_str(proto, eaddr, eport, e, sizeof e));
	}
	if (si != NAPT_NONE && nat->sess[si].state == NAPT_ST_IDLE) {
		return stage_drop(ctx, DROP_NAPT_NO_MAPPING, "inbound %s -> %s (the connection of mapping #%u idled out)",
		                  napt_ep_str(proto, raddr, rsport, r, sizeof r), napt_ep_str(proto, eaddr, eport, e, sizeof e),
		                  nat->maps[nat->sess[si].mapping].id);
	}
	if (si == NAPT_NONE) {
		enum napt_drop reason = NAPT_DROP_END;
		uint32_t m = napt_filter_inbound(nat, proto, eaddr, eport, raddr, rport, &reason, why, sizeof why);
		if (m == NAPT_NONE && nat->cfg.answer_unsolicited) {
			/* with overlapping, the filter's sentence only says that no session expects it */
			enum verdict v = napt_unsolicited(st, nat, p, ctx, NAPT_NONE, nat->cfg.port_overlapping ? "" : why);
			if (v != VERDICT_DROP)
				return v;
		}
		if (m == NAPT_NONE) {
			return stage_drop(ctx, reason, "inbound %s -> %s%s%s%s", napt_ep_str(proto, raddr, rsport, r, sizeof r),
			                  napt_ep_str(proto, eaddr, eport, e, sizeof e), why[0] ? " (" : "", why, why[0] ? ")" : "");
		}
		si = nat->free_sess == NAPT_NONE ? NAPT_NONE : napt_session_new(nat, m, raddr, rport, ctx->now_ns);
		if (si == NAPT_NONE) {
			napt_exhausted(st, ctx, nat, p, DROP_NAPT_TABLE_FULL, "table full");
			return VERDICT_DROP; /* napt_exhausted() said why, through stage_drop() */
		}
		nat->sess[si].flags |= NAPT_SESS_INBOUND;
	}
	struct napt_session *s = &nat->sess[si];
	napt_set_destination(p, s->iaddr, s->iport);
	bool first_reply;
	const char *state = napt_session_touch(nat, si, p, DIR_RIGHT_TO_LEFT, ctx->now_ns, &first_reply);
	if (why[0])
		napt_session_event(st, ctx, si, TABLE_EVENT_CREATED, why);
	else
		napt_session_refreshed(st, ctx, si, state, first_reply);
	napt_note_translation(ctx, nat, "DNAT", proto, eaddr, eport, s->iaddr, s->iport, s, why, why[0] ? NULL : state);
	return VERDICT_FORWARD;
}

/* RFC 4787 REQ-9: a packet from inside to one of the NAT's own external endpoints is turned back
 * inside, with the external address and port of its sender as source ("External source IP address
 * and port"), and the filtering of the receiving mapping applied as to any inbound packet. */
enum verdict napt_hairpin(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t taddr = p->ip.dst, iaddr = p->ip.src;
	uint16_t tport = napt_has_ports(proto) ? p->ip.dport : 0, iport = napt_has_ports(proto) ? p->ip.sport : 0;
	char i[40], t[40], x[40], y[40], why[128];
	struct napt_open o;
	enum napt_drop reason = NAPT_DROP_END;

	napt_ep_str(proto, iaddr, iport, i, sizeof i);
	napt_ep_str(proto, taddr, tport, t, sizeof t);
	if (!nat->cfg.hairpin) {
		return stage_drop(ctx, DROP_NAPT_HAIRPIN_OFF, "%s -> %s", i, t);
	}
	/* Outbound half: the sender's session towards the external endpoint. */
	uint32_t so = napt_outbound_session(st, ctx, nat, p, taddr, napt_rport_key(proto, tport), &o, &reason);
	if (so == NAPT_NONE)
		return VERDICT_DROP; /* napt_outbound_session() said why, through stage_drop() */
	if (o.how[0])
		napt_session_event(st, ctx, so, TABLE_EVENT_CREATED, o.how);
	uint32_t saddr = nat->sess[so].eaddr;
	uint16_t sport = nat->sess[so].eport;
	napt_session_touch(nat, so, p, DIR_LEFT_TO_RIGHT, ctx->now_ns, NULL);
	/* Inbound half: from the sender's external endpoint to the target mapping. */
	uint32_t si = napt_session_find_out(nat, proto, taddr, tport, saddr, napt_rport_key(proto, sport));
	why[0] = '\0';
	if (si == NAPT_NONE) {
		uint32_t m = napt_filter_inbound(nat, proto, taddr, tport, saddr, napt_rport_key(proto, sport), &reason, why, sizeof why);
		if (m == NAPT_NONE) {
			return stage_drop(ctx, reason, "hairpin %s -> %s, as %s -> %s%s%s%s", i, t,
			                  napt_ep_str(proto, saddr, sport, x, sizeof x), t, why[0] ? " (" : "", why,
			                  why[0] ? ")" : "");
		}
		si = nat->free_sess == NAPT_NONE ? NAPT_NONE : napt_session_new(nat, m, saddr, napt_rport_key(proto, sport), ctx->now_ns);
		if (si == NAPT_NONE) {
			napt_exhausted(st, ctx, nat, p, DROP_NAPT_TABLE_FULL, "table full");
			return VERDICT_DROP; /* napt_exhausted() said why, through stage_drop() */
		}
		nat->sess[si].flags |= NAPT_SESS_INBOUND;
		napt_session_event(st, ctx, si, TABLE_EVENT_CREATED, why);
	}
	const struct napt_session *s = &nat->sess[si];
	napt_set_source(p, saddr, sport);
	napt_set_destination(p, s->iaddr, s->iport);
	napt_session_touch(nat, si, p, DIR_RIGHT_TO_LEFT, ctx->now_ns, NULL);
	nat->stats.hairpinned++;
	napt_ep_str(proto, s->iaddr, s->iport, y, sizeof y);
	napt_ep_str(proto, saddr, sport, x, sizeof x);
	char note[320];
	g_snprintf(note, sizeof note, "napt %s: hairpinned %s -> %s back inside as %s -> %s (mappings #%u and #%u, "
	           "RFC 4787 REQ-9)", nat->name, i, t, x, y, nat->maps[nat->sess[so].mapping].id, nat->maps[s->mapping].id);
	bool sent = stage_emit(ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS, p->data, p->caplen, note);
	note_appendf(ctx->note, "hairpin: %s is this NAT's own %s; turned back inside as %s -> %s%s%s%s",
	                       t, "external endpoint", x, y, o.how[0] ? " (" : "", o.how, o.how[0] ? ")" : "");
	if (!sent)
		g_string_append(ctx->note, " [not emitted: no room in the emit pool]");
	return VERDICT_CONSUMED;
}
