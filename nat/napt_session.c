/* nat/napt_session.c: the napt stage's sessions: their state and timeout class, TCP tracking, table rows and events, and opening them on the mapping the mapping behaviour allows (RFC 4787 sections 4.1 and 4.2, RFC 5382 section 5, RFC 7857 section 3). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "nat/napt.h"

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
		return (s->flags & NAPT_SESS_REPLIED) ? NAPT_TO_UDP : NAPT_TO_UDP_UNREPLIED;
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

/* Count the packet on s, update its state and timer.  Returns the new TCP state's name when the
 * state changed (for the annotation), else NULL. */
const char *napt_session_touch(struct napt *nat, uint32_t si, const struct packet *p, enum hop_dir dir, int64_t now,
                               bool *first_reply)
{
	struct napt_session *s = &nat->sess[si];
	bool changed = false, replied = (s->flags & NAPT_SESS_REPLIED) != 0;
	enum napt_timeout before = (enum napt_timeout)s->tclass;

	s->packets[dir]++;
	s->bytes[dir] += p->ip.total_len;
	if (s->proto == IPPROTO_TCP && p->ip.has_ports)
		changed = tcp_track(nat, s, p->ip.tcp_flags, dir);
	else if (s->state == NAPT_ST_NONE && s->proto == IPPROTO_TCP)
		s->state = NAPT_ST_ESTABLISHED;
	if (dir == DIR_RIGHT_TO_LEFT && !(s->flags & NAPT_SESS_INBOUND) && !(s->flags & NAPT_SESS_REPLIED)) {
		s->flags |= NAPT_SESS_REPLIED;
		if (s->proto != IPPROTO_TCP)
			nat->stats.connections_established++;
	}
	if (dir == DIR_LEFT_TO_RIGHT && (s->flags & NAPT_SESS_INBOUND))
		s->flags |= NAPT_SESS_REPLIED;
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
	g_snprintf(buf, size, "mapping #%u %s%s%s%s", m->id, napt_dep_name(nat->cfg.mapping, true, false),
	           (m->flags & NAPT_MAP_PRESERVED) ? " port-preserved" : "",
	           (s->flags & NAPT_SESS_INBOUND) ? " inbound" : "",
	           udp_like ? ((s->flags & NAPT_SESS_REPLIED) ? " [ASSURED]" : " [UNREPLIED]") : "");
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
static uint32_t mapping_open(struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                             uint16_t rport, bool indexed, struct napt_open *o)
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
		struct napt_port_req req = { .nat = nat, .proto = proto, .eaddr = eaddr, .iport = ports ? iport : 0,
			                     .raddr = raddr, .rport = rport, .min = ports ? c->port_min : 0,
			                     .max = ports ? c->port_max : 0 };
		uint16_t port = 0;
		const struct napt_port_ops *by = NULL;
		for (unsigned i = 0; i < c->n_alloc && !by; i++)
			if (c->alloc[i]->pick(&req, &port))
				by = c->alloc[i];
		if (!ports && !by && napt_port_free(&req, 0))
			by = c->alloc[0];
		if (!by)
			continue;
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
			g_snprintf(o->how, sizeof o->how, "new mapping #%u, %s, %s chose %u, %s", nat->maps[m].id, why, by->name,
			           port, dep);
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
uint32_t napt_session_open_out(struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                               uint16_t rport, int64_t now, struct napt_open *o)
{
	const struct napt_config *c = &nat->cfg;
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
	m = mapping_open(nat, proto, iaddr, napt_has_ports(proto) ? iport : 0, raddr, rport, indexed, o);
	if (m == NAPT_NONE)
		return NAPT_NONE;
	if (!indexed)
		g_strlcat(o->how, " (the existing mapping's port is taken towards this destination)", sizeof o->how);
	return napt_session_new(nat, m, raddr, rport, now);
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
