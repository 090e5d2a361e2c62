/* nat/napt_session.c: the napt stage's sessions: their state and timeout class, TCP tracking, table rows and events, and opening them on the mapping the mapping behaviour allows (RFC 4787 sections 4.1 and 4.2, RFC 5382 section 5, RFC 7857 section 3). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "nat/napt.h"

/* nf_conntrack_proto_udp.c: a UDP entry becomes a stream only on a packet more than 2 s after it began. */
#define CONNTRACK_UDP_STREAM_MS 2000

static const char *const state_names[] = {
	[NAPT_ST_NONE] = "",
	[NAPT_ST_SYN_SENT] = "SYN_SENT",
	[NAPT_ST_SYN_RECV] = "SYN_RECV",
	[NAPT_ST_ESTABLISHED] = "ESTABLISHED",
	[NAPT_ST_FIN_WAIT] = "FIN_WAIT",
	[NAPT_ST_TIME_WAIT] = "TIME_WAIT",
	[NAPT_ST_CLOSE] = "CLOSE",
	[NAPT_ST_IDLE] = "IDLE_TIMEOUT",
};

static enum napt_timeout session_class(const struct napt_session *s)
{
	switch (s->proto) {
	case IPPROTO_TCP:
		switch (s->state) {
		case NAPT_ST_ESTABLISHED:
			return NAPT_TO_TCP_ESTABLISHED;
		case NAPT_ST_FIN_WAIT:
			return NAPT_TO_TCP_CLOSING;
		case NAPT_ST_TIME_WAIT:
			return NAPT_TO_TCP_TIME_WAIT;
		case NAPT_ST_CLOSE:
			return NAPT_TO_TCP_RST;
		case NAPT_ST_IDLE:
			return NAPT_TO_IDLE;
		default:
			return NAPT_TO_TCP_SYN;
		}
	case IPPROTO_UDP:
		return (s->flags & NAPT_SESS_STREAM) ? NAPT_TO_UDP : NAPT_TO_UDP_UNREPLIED;
	case IPPROTO_ICMP:
		return NAPT_TO_ICMP;
	default:
		return NAPT_TO_OTHER;
	}
}

/* TCP state from the flags, both directions (RFC 5382 section 5 and RFC 7857 section 2.2: a RST
 * closes, but the state is kept for the RST timeout).  Returns true when the state changed. */
static bool tcp_track(struct napt *nat, struct napt_session *s, uint8_t flags, enum hop_dir dir)
{
	bool out = dir == DIR_LEFT_TO_RIGHT;
	uint8_t before = s->state;

	if (flags & TH_RST) {
		s->state = NAPT_ST_CLOSE;
	} else if ((flags & TH_SYN) && !(flags & TH_ACK)) {
		if (out && s->state != NAPT_ST_SYN_SENT && s->state != NAPT_ST_ESTABLISHED) {
			s->state = NAPT_ST_SYN_SENT; /* a new connection reusing the tuple */
			s->flags &= (uint8_t)~(NAPT_SESS_FIN_IN | NAPT_SESS_FIN_OUT | NAPT_SESS_SYN_IN);
		} else if (!out && s->state == NAPT_ST_NONE) {
			s->state = NAPT_ST_SYN_RECV;
		}
	} else if ((flags & TH_SYN) && (flags & TH_ACK)) {
		if ((s->state == NAPT_ST_SYN_SENT && !out) || (s->state == NAPT_ST_SYN_RECV && out)) {
			s->state = NAPT_ST_ESTABLISHED;
			nat->stats.connections_established++;
		}
	} else if (flags & TH_FIN) {
		s->flags |= out ? NAPT_SESS_FIN_OUT : NAPT_SESS_FIN_IN;
		bool both = (s->flags & NAPT_SESS_FIN_OUT) && (s->flags & NAPT_SESS_FIN_IN);
		if (s->state != NAPT_ST_CLOSE)
			s->state = both ? NAPT_ST_TIME_WAIT : NAPT_ST_FIN_WAIT;
	} else if (s->state == NAPT_ST_NONE) {
		s->state = NAPT_ST_ESTABLISHED; /* picked up mid-stream, as conntrack does by default */
	}
	return s->state != before;
}

/* The capture time in ms, modulo 2^32: enough for a 2 s comparison in serial arithmetic. */
static uint32_t clock_ms(int64_t now_ns)
{
	return (uint32_t)(uint64_t)(now_ns / 1000000);
}

/* tracking = conntrack, before the packet sets REPLIED: nf_conntrack_udp_packet() sees
 * IPS_SEEN_REPLY only from the packet after the first reply (nf_conntrack_in() sets it once the
 * protocol has handled the reply), and then sets IPS_ASSURED, and extends the timeout to the
 * stream's only when the packet comes more than 2 s after the first one.  TCP: IPS_ASSURED when a
 * packet finds the connection ESTABLISHED and leaves it so (conntrack's SYN_RECV or ESTABLISHED to
 * ESTABLISHED: natlb's ESTABLISHED begins at the SYN-ACK, conntrack's at the ACK after it).  ICMP:
 * never (nf_conntrack_proto_icmp.c sets no ASSURED). */
static void conntrack_track(struct napt_session *s, int64_t now, uint8_t state_before, bool first_packet)
{
	if (s->proto == IPPROTO_UDP) {
		if (first_packet)
			s->stream_at_ms = clock_ms(now) + CONNTRACK_UDP_STREAM_MS;
		if (s->flags & NAPT_SESS_REPLIED) {
			s->flags |= NAPT_SESS_ASSURED;
			if ((int32_t)(clock_ms(now) - s->stream_at_ms) > 0)
				s->flags |= NAPT_SESS_STREAM;
		}
	} else if (s->proto == IPPROTO_TCP) {
		if (state_before == NAPT_ST_ESTABLISHED && s->state == NAPT_ST_ESTABLISHED)
			s->flags |= NAPT_SESS_ASSURED;
	}
}

/* TCP: the end of the inside host's highest segment, which nf_nat compares with a new SYN's before
 * it lets the SYN take over a closing connection's port (nat/napt_ports.c, linux_may_evict). */
static void track_seq_end(struct napt_session *s, const struct packet *p, bool first_packet)
{
	uint8_t f = p->ip.tcp_flags;
	uint32_t end = tcp_segment_seq(p) + tcp_segment_payload_len(p) + ((f & TH_SYN) ? 1 : 0) + ((f & TH_FIN) ? 1 : 0);
	if (first_packet || (f & TH_SYN) || tcp_seq_after(end, s->seq_end))
		s->seq_end = end;
}

/* Count the packet on s, update its state and timer.  Returns the new TCP state's name when the
 * state changed (for the annotation), else NULL. */
const char *napt_session_touch(struct napt *nat, uint32_t si, const struct packet *p, enum hop_dir dir, int64_t now,
                               bool *first_reply)
{
	struct napt_session *s = &nat->sess[si];
	bool changed = false, replied = (s->flags & NAPT_SESS_REPLIED) != 0;
	bool first_packet = s->packets[0] == 0 && s->packets[1] == 0;
	enum napt_timeout before = (enum napt_timeout)s->tclass;
	uint8_t state_before = s->state;

	if (s->proto == IPPROTO_TCP && dir == DIR_LEFT_TO_RIGHT && p->ip.has_l4 && !(s->flags & NAPT_SESS_INBOUND))
		track_seq_end(s, p, first_packet);
	s->packets[dir]++;
	s->bytes[dir] += p->ip.total_len;
	if (s->proto == IPPROTO_TCP && p->ip.has_ports)
		changed = tcp_track(nat, s, p->ip.tcp_flags, dir);
	else if (s->state == NAPT_ST_NONE && s->proto == IPPROTO_TCP)
		s->state = NAPT_ST_ESTABLISHED;
	if (nat->cfg.tracking == NAPT_TRACK_CONNTRACK)
		conntrack_track(s, now, state_before, first_packet);
	if (dir == DIR_RIGHT_TO_LEFT && !(s->flags & NAPT_SESS_INBOUND) && !(s->flags & NAPT_SESS_REPLIED)) {
		s->flags |= NAPT_SESS_REPLIED;
		if (s->proto != IPPROTO_TCP)
			nat->stats.connections_established++;
	}
	if (dir == DIR_LEFT_TO_RIGHT && (s->flags & NAPT_SESS_INBOUND))
		s->flags |= NAPT_SESS_REPLIED;
	if (nat->cfg.tracking == NAPT_TRACK_NATLB && (s->flags & NAPT_SESS_REPLIED))
		s->flags |= NAPT_SESS_STREAM; /* RFC 4787 REQ-5: a reply makes it a conversation */
	if (first_reply)
		*first_reply = !replied && (s->flags & NAPT_SESS_REPLIED);
	enum napt_timeout after = session_class(s);
	/* Outbound packets always refresh (RFC 4787 REQ-6); inbound ones when refresh-inbound is on;
	 * a change of timeout class restarts the timer either way. */
	if (dir == DIR_LEFT_TO_RIGHT || nat->cfg.refresh_inbound || after != before)
		napt_timer_arm(nat, si, after, now);
	return changed ? state_names[s->state] : NULL;
}

/* A conntrack-like row for s; flags are written into buf. */
void napt_session_row(const struct napt *nat, const struct napt_session *s, struct table_row *row, char *buf,
                      size_t size)
{
	const struct napt_mapping *m = &nat->maps[s->mapping];
	bool udp_like = s->proto != IPPROTO_TCP;
	const char *shown;
	if (nat->cfg.tracking == NAPT_TRACK_CONNTRACK) /* as conntrack -L: [UNREPLIED] until a reply, [ASSURED] apart */
		shown = !(s->flags & NAPT_SESS_REPLIED) ? " [UNREPLIED]" : (s->flags & NAPT_SESS_ASSURED) ? " [ASSURED]" : "";
	else
		shown = udp_like ? ((s->flags & NAPT_SESS_REPLIED) ? " [ASSURED]" : " [UNREPLIED]") : "";
	if (s->flags & NAPT_SESS_LOCAL) {
		/* The NAT's own entry: the packet came from the remote to the NAT's address, nothing translated. */
		g_snprintf(buf, size, "local (to the NAT itself, no NAT)%s", shown);
		*row = (struct table_row){
			.id = s->id,
			.proto = s->proto,
			.expires_ns = s->expires_ns,
			.state = state_names[s->state],
			.orig = { .src = s->raddr, .dst = s->eaddr, .sport = s->proto == IPPROTO_ICMP ? s->eport : s->rport,
			          .dport = s->eport },
			.reply = { .src = s->eaddr, .dst = s->raddr, .sport = s->eport,
			           .dport = s->proto == IPPROTO_ICMP ? s->eport : s->rport },
			.flags = buf,
			.packets = { s->packets[1], s->packets[0] },
			.bytes = { s->bytes[1], s->bytes[0] },
		};
		return;
	}
	g_snprintf(buf, size, "mapping #%u %s%s%s%s", m->id, napt_dep_name(nat->cfg.mapping, true, false),
	           (m->flags & NAPT_MAP_PRESERVED) ? " port-preserved" : "",
	           (s->flags & NAPT_SESS_INBOUND) ? " inbound" : "", shown);
	*row = (struct table_row){
		.id = s->id,
		.proto = s->proto,
		.expires_ns = s->expires_ns,
		.state = state_names[s->state],
		.orig = { .src = s->iaddr, .dst = s->raddr, .sport = s->iport, .dport = s->proto == IPPROTO_ICMP ? s->iport : s->rport },
		.reply = { .src = s->raddr, .dst = s->eaddr, .sport = s->proto == IPPROTO_ICMP ? s->eport : s->rport, .dport = s->eport },
		.flags = buf,
		.packets = { s->packets[0], s->packets[1] },
		.bytes = { s->bytes[0], s->bytes[1] },
	};
}

void napt_session_event(struct stage *st, struct stage_ctx *ctx, uint32_t si, enum table_event kind, const char *why)
{
	const struct napt *nat = st->priv;
	struct table_row row;
	char flags[96];
	napt_session_row(nat, &nat->sess[si], &row, flags, sizeof flags);
	stage_table_event(ctx, st, kind, &row, why);
}

/* The external address an inside address is paired with (RFC 4787 REQ-2): a hash, so the pairing
 * needs no memory and is the same in every replay. */
static unsigned paired_index(const struct napt *nat, uint32_t iaddr)
{
	uint64_t h = (uint64_t)iaddr * 0x9e3779b97f4a7c15ull;
	return (unsigned)((h >> 32) % nat->cfg.n_external);
}

/* Who holds port on eaddr, for "51324 in use by mapping #3". */
static uint32_t port_holder(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port, uint32_t raddr,
                            uint16_t rport)
{
	uint32_t m = napt_mapping_find_ext(nat, proto, eaddr, port);
	if (m != NAPT_NONE)
		return nat->maps[m].id;
	uint32_t s = napt_session_find_out(nat, proto, eaddr, port, raddr, rport);
	return s != NAPT_NONE ? nat->maps[nat->sess[s].mapping].id : 0;
}

/* A new mapping for (proto, iaddr, iport) towards (raddr, rport): an external address by the
 * pooling behaviour, a port by the strategies.  NAPT_NONE with o->reason set when none is free. */
static uint32_t mapping_open(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                             uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr, uint16_t rport, bool indexed,
                             struct napt_open *o)
{
	const struct napt_config *c = &nat->cfg;
	bool ports = napt_has_ports(proto);
	unsigned first = paired_index(nat, iaddr);
	unsigned n_try = c->pooling == NAPT_POOL_PAIRED ? 1 : c->n_external;
	bool per_dest_full = false, any_tried = false;

	for (unsigned k = 0; k < n_try; k++) {
		uint32_t eaddr = c->external[(first + k) % c->n_external];
		if (c->max_per_destination && napt_dest_count(nat, proto, eaddr, raddr, rport) >= c->max_per_destination) {
			per_dest_full = true;
			continue;
		}
		any_tried = true;
		/* iptables' --to-ports needs -p tcp or -p udp: with ports-icmp = no, identifiers keep their own range. */
		bool own_ids = proto == IPPROTO_ICMP && !c->ports_icmp;
		bool syn = proto == IPPROTO_TCP && p->ip.has_l4 && (p->ip.tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN;
		struct napt_port_req req = { .nat = nat, .proto = proto, .eaddr = eaddr, .iport = ports ? iport : 0,
			                     .raddr = raddr, .rport = rport, .min = !ports ? 0 : own_ids ? 0 : c->port_min,
			                     .max = !ports ? 0 : own_ids ? 65535 : c->port_max, .syn = syn,
			                     .seq_end = syn ? tcp_segment_seq(p) + 1 : 0, .evict = NAPT_NONE };
		uint16_t port = 0;
		const struct napt_port_ops *by = NULL;
		for (unsigned i = 0; i < c->n_alloc && !by; i++)
			if (c->alloc[i]->pick(&req, &port))
				by = c->alloc[i];
		if (!ports && !by && napt_port_free(&req, 0))
			by = c->alloc[0];
		if (!by)
			continue;
		char evicted[96] = "";
		if (req.evict != NAPT_NONE) {
			/* nf_nat_used_tuple_harder(): the closing entry goes, and its reply tuple is this one's. */
			const struct napt_session *old = &nat->sess[req.evict];
			char why[160], ie[40];
			g_snprintf(evicted, sizeof evicted, ", taken over from session #%u (%s, %s)", old->id,
			           napt_ep_str(proto, old->iaddr, old->iport, ie, sizeof ie), state_names[old->state]);
			g_snprintf(why, sizeof why, "evicted: a new SYN from %s takes port %u of this %s connection (nf_nat evicts "
			           "a closing entry in its last tries)", napt_ep_str(proto, iaddr, iport, ie, sizeof ie), port,
			           state_names[old->state]);
			napt_session_event(st, ctx, req.evict, TABLE_EVENT_EVICTED, why);
			napt_session_free(nat, req.evict);
		}
		uint8_t flags = (uint8_t)((indexed ? NAPT_MAP_INDEXED : 0) | (ports && port == iport ? NAPT_MAP_PRESERVED : 0));
		uint32_t kr = c->mapping >= NAPT_AD ? raddr : 0;
		uint16_t kp = c->mapping == NAPT_APD ? rport : 0;
		uint32_t m = napt_mapping_new(nat, proto, iaddr, iport, kr, kp, eaddr, port, flags);
		if (m == NAPT_NONE) {
			o->reason = DROP_NAPT_TABLE_FULL;
			return NAPT_NONE;
		}
		const char *dep = napt_dep_name(c->mapping, true, false);
		if (!ports)
			g_snprintf(o->how, sizeof o->how, "new mapping #%u, address only, %s", nat->maps[m].id, dep);
		else if (port == iport)
			g_snprintf(o->how, sizeof o->how, "new mapping #%u, %s preserved, %s", nat->maps[m].id,
			           proto == IPPROTO_ICMP ? "id" : "port", dep);
		else {
			uint32_t holder = port_holder(nat, proto, eaddr, iport, raddr, rport);
			char why[64];
			if (iport < c->port_min || iport > c->port_max)
				g_snprintf(why, sizeof why, "%u outside %u-%u", iport, c->port_min, c->port_max);
			else if (holder)
				g_snprintf(why, sizeof why, "%u in use by mapping #%u", iport, holder);
			else if (c->port_parity && proto != IPPROTO_ICMP)
				g_snprintf(why, sizeof why, "%u not kept", iport);
			else
				g_snprintf(why, sizeof why, "%u not kept", iport);
			g_snprintf(o->how, sizeof o->how, "new mapping #%u, %s, %s chose %u%s, %s", nat->maps[m].id, why, by->name,
			           port, evicted, dep);
		}
		if (ports && port == iport)
			nat->stats.ports_preserved++;
		else if (ports)
			nat->stats.ports_changed++;
		return m;
	}
	o->reason = per_dest_full && !any_tried ? DROP_NAPT_PER_DESTINATION : DROP_NAPT_NO_PORT;
	return NAPT_NONE;
}

/* The session for an outbound packet with no session yet (RFC 4787 section 4.1). */
uint32_t napt_session_open_out(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                               uint32_t raddr, uint16_t rport, struct napt_open *o)
{
	const struct napt_config *c = &nat->cfg;
	uint8_t proto = p->ip.proto;
	uint32_t iaddr = p->ip.src;
	uint16_t iport = napt_has_ports(proto) ? p->ip.sport : 0;
	int64_t now = ctx->now_ns;
	uint32_t kr = c->mapping >= NAPT_AD ? raddr : 0;
	uint16_t kp = c->mapping == NAPT_APD ? rport : 0;
	bool indexed = true;
	char r[40];

	if (nat->free_sess == NAPT_NONE) {
		o->reason = DROP_NAPT_TABLE_FULL;
		return NAPT_NONE;
	}
	uint32_t m = napt_mapping_find_in(nat, proto, iaddr, iport, kr, kp);
	if (m != NAPT_NONE) {
		const struct napt_mapping *map = &nat->maps[m];
		/* With port overlapping another host may already use this external port towards the same
		 * remote endpoint: the reply tuple would clash, so this host needs another port. */
		bool clash = c->port_overlapping &&
		             napt_session_find_out(nat, proto, map->eaddr, map->eport, raddr, rport) != NAPT_NONE;
		bool full = c->max_per_destination &&
		            napt_dest_count(nat, proto, map->eaddr, raddr, rport) >= c->max_per_destination;
		if (!clash && !full) {
			uint32_t s = napt_session_new(nat, m, raddr, rport, now);
			g_snprintf(o->how, sizeof o->how, "mapping #%u reused for %s, %s", map->id,
			           napt_ep_str(proto, raddr, rport, r, sizeof r), napt_dep_name(c->mapping, true, false));
			return s;
		}
		indexed = false; /* the live mapping keeps the key; this one is an extra */
	}
	m = mapping_open(st, ctx, nat, p, proto, iaddr, iport, raddr, rport, indexed, o);
	if (m == NAPT_NONE)
		return NAPT_NONE;
	if (!indexed)
		g_strlcat(o->how, " (the existing mapping's port is taken towards this destination)", sizeof o->how);
	return napt_session_new(nat, m, raddr, rport, now);
}

uint32_t napt_session_open_local(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                                 uint16_t rport, int64_t now_ns)
{
	if (nat->free_sess == NAPT_NONE)
		return NAPT_NONE;
	/* A mapping of the NAT to itself, found by no inside key: it only carries the session. */
	uint32_t m = napt_mapping_new(nat, proto, eaddr, eport, 0, 0, eaddr, eport, 0);
	if (m == NAPT_NONE)
		return NAPT_NONE;
	uint32_t s = napt_session_new(nat, m, raddr, rport, now_ns);
	nat->sess[s].flags |= NAPT_SESS_LOCAL;
	return s;
}

void napt_session_refreshed(struct stage *st, struct stage_ctx *ctx, uint32_t si, const char *state, bool first_reply)
{
	/* A reply changes what the table shows ([UNREPLIED] to [ASSURED], the reply counters), so
	 * --tables-every change must see it as a change. */
	if (state)
		napt_session_event(st, ctx, si, TABLE_EVENT_REFRESHED, state);
	else if (first_reply)
		napt_session_event(st, ctx, si, TABLE_EVENT_REFRESHED, "first reply");
}
