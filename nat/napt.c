/* nat/napt.c: the napt stage's data path: in2out and out2in translation, filtering, hairpinning and ICMP (RFC 4787, RFC 5382, RFC 5508, RFC 7857; AWS NAT gateway).
 *
 * The stage's left link is the inside: DIR_LEFT_TO_RIGHT is in2out, DIR_RIGHT_TO_LEFT out2in.
 * in2out finds the session of (protocol, inside endpoint, remote endpoint), or opens one: on the
 * mapping the mapping behaviour allows (RFC 4787 section 4.1), else on a new mapping with a port
 * from the allocators (nat/napt_ports.c).  out2in finds the session of (protocol, external endpoint,
 * remote endpoint), or asks the filtering behaviour (RFC 4787 section 5) whether a new remote may
 * use the mapping.  ICMP query identifiers are ports (RFC 5508 REQ-1); an ICMP error is translated
 * through the session of the packet it quotes, outer address and quoted header together (REQ-4,
 * REQ-5), and never refreshes or opens a session (REQ-6).
 *
 * reverse() answers from the tables only and changes nothing: process() does the bookkeeping
 * when the loop replays the packet (common/stage-t.h).
 *
 * Invariant: every verdict comes with one sentence in ctx->note naming the stage, what was done
 * and why; every drop names its reason from common/drop.h.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include <libnet.h>

#include "common/answer.h"
#include "common/checksum.h"
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

/* ---- Small helpers -------------------------------------------------------------------------- */

const char *napt_ep_str(uint8_t proto, uint32_t addr, uint16_t port, char *buf, size_t size)
{
	char a[16];
	ip4_to_str(addr, a);
	if (proto == IPPROTO_ICMP)
		g_snprintf(buf, size, "%s icmp-id %u", a, port);
	else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		g_snprintf(buf, size, "%s:%u", a, port);
	else
		g_snprintf(buf, size, "%s", a);
	return buf;
}

/* napt_ep_str()'s text, into the sentence of every forwarded packet */
static void nb_ep(struct note_buf *nb, uint8_t proto, uint32_t addr, uint16_t port)
{
	note_buf_ip4(nb, addr);
	if (proto == IPPROTO_ICMP) {
		NOTE_BUF_LIT(nb, " icmp-id ");
		note_buf_uint(nb, port);
	} else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		NOTE_BUF_LIT(nb, ":");
		note_buf_uint(nb, port);
	}
}

bool napt_is_external(const struct napt *nat, uint32_t addr)
{
	unsigned lo = 0, hi = nat->cfg.n_external;
	if (addr < nat->ext_min || addr > nat->ext_max)
		return false;
	if (nat->ext_max - nat->ext_min == hi - 1)
		return true; /* one block, as `external = 198.18.0.0/27` gives */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (nat->ext_sorted[mid] == addr)
			return true;
		if (nat->ext_sorted[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP;
}

/* The remote port as the tables key it: an ICMP identifier is the inside host's, not the remote's,
 * so the remote side of an ICMP session has no port. */
static uint16_t rport_key(uint8_t proto, uint16_t port)
{
	return proto == IPPROTO_ICMP ? 0 : port;
}

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
static const char *session_touch(struct napt *nat, uint32_t si, const struct packet *p, enum hop_dir dir, int64_t now)
{
	struct napt_session *s = &nat->sess[si];
	bool changed = false;
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
	enum napt_timeout after = session_class(s);
	/* Outbound packets always refresh (RFC 4787 REQ-6); inbound ones when refresh-inbound is on;
	 * a change of timeout class restarts the timer either way. */
	if (dir == DIR_LEFT_TO_RIGHT || nat->cfg.refresh_inbound || after != before)
		napt_timer_arm(nat, si, after, now);
	return changed ? state_names[s->state] : NULL;
}

/* A conntrack-like row for s; flags are written into buf. */
static void session_row(const struct napt *nat, const struct napt_session *s, struct table_row *row, char *buf,
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

static void session_event(struct stage *st, struct stage_ctx *ctx, uint32_t si, enum table_event kind, const char *why)
{
	const struct napt *nat = st->priv;
	struct table_row row;
	char flags[96];
	session_row(nat, &nat->sess[si], &row, flags, sizeof flags);
	stage_table_event(ctx, st, kind, &row, why);
}

static void napt_clock(struct napt *nat, struct stage_ctx *ctx)
{
	if (!nat->rng_ready) {
		nat->rng = ctx->seed ^ 0x6e6170745f736565ull; /* "napt_see": any seed gives a distinct stream */
		nat->rng_ready = true;
	}
	if (ctx->now_ns > nat->clock_ns)
		nat->clock_ns = ctx->now_ns;
}

static enum verdict drop(struct stage_ctx *ctx, enum napt_drop r)
{
	ctx->drop = r;
	return VERDICT_DROP;
}

/* ---- Emitted packets ----------------------------------------------------------------------- */

static libnet_t *napt_libnet(struct napt *nat)
{
	char errbuf[LIBNET_ERRBUF_SIZE];
	if (!nat->lnet)
		nat->lnet = libnet_init(LIBNET_NONE, NULL, errbuf);
	return nat->lnet;
}

/* A RST to the inside host, as from the remote endpoint, so that its stack drops the connection. */
static bool emit_rst(struct stage_ctx *ctx, struct napt *nat, const struct packet *p, const char *note)
{
	libnet_t *l = napt_libnet(nat);
	bool ok = l && answer_tcp_rst(ctx, l, p, DIR_LEFT_TO_RIGHT, note);
	nat->stats.resets_sent += ok;
	return ok;
}

/* RFC 5508 REQ-8: destination unreachable, code 13 (communication administratively prohibited),
 * from the NAT's inside address, quoting the IP header and first 8 bytes of the packet. */
static bool emit_unreachable(struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                             const char *note)
{
	libnet_t *l = napt_libnet(nat);
	uint32_t quote = p->ip.hdr_len + 8;
	if (!l)
		return false;
	if (quote > p->caplen - p->ip.off)
		quote = p->caplen - p->ip.off;
	if (libnet_build_icmpv4_unreach(ICMP_UNREACH, ICMP_UNREACH_FILTER_PROHIB, 0, p->data + p->ip.off, quote, l, 0) == -1 ||
	    libnet_build_ipv4(LIBNET_IPV4_H + LIBNET_ICMPV4_UNREACH_H + quote, 0, 0, 0, 64, IPPROTO_ICMP, 0,
	                      g_htonl(nat->cfg.inside_address), g_htonl(p->ip.src), NULL, 0, l, 0) == -1) {
		libnet_clear_packet(l);
		return false;
	}
	bool ok = answer_emit(ctx, l, p, DIR_LEFT_TO_RIGHT, note);
	nat->stats.unreachables_sent += ok;
	return ok;
}

/* ---- Opening sessions ----------------------------------------------------------------------- */

/* How a session came to be, for the annotation: "new mapping #3, port preserved, EIM". */
struct napt_open {
	char how[160];
	enum napt_drop reason; /* when none could be opened */
};

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
	bool ports = has_ports(proto);
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
static uint32_t session_open_out(struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
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
	m = mapping_open(nat, proto, iaddr, has_ports(proto) ? iport : 0, raddr, rport, indexed, o);
	if (m == NAPT_NONE)
		return NAPT_NONE;
	if (!indexed)
		g_strlcat(o->how, " (the existing mapping's port is taken towards this destination)", sizeof o->how);
	return napt_session_new(nat, m, raddr, rport, now);
}

/* RFC 4787 section 5: may (raddr, rport) send to the mapping on (eaddr, eport)?  The caller found no
 * session for exactly that pair.  Returns the mapping, or NAPT_NONE with the reason and the
 * sentence for the annotation. */
static uint32_t filter_inbound(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
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
		g_snprintf(why, size, "no mapping for %s", e);
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
		g_snprintf(why, size, "ADF: %s never contacted", ip4_to_str(raddr, a));
		return NAPT_NONE;
	}
	default:
		*reason = DROP_NAPT_FILTERED_APDF;
		g_snprintf(why, size, "APDF: %s never contacted", r);
		return NAPT_NONE;
	}
}

/* ---- in2out and out2in ---------------------------------------------------------------------- */

static void exhausted(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                      enum napt_drop reason, const char *what)
{
	struct table_row row = { .proto = p->ip.proto, .expires_ns = INT64_MAX, .state = "",
		                 .orig = { p->ip.src, p->ip.dst, p->ip.sport, p->ip.dport }, .flags = what };
	char i[40], r[40];
	if (reason != DROP_NAPT_TABLE_FULL)
		nat->stats.port_allocation_errors++; /* AWS ErrorPortAllocation: "could not allocate a source port" */
	stage_table_event(ctx, st, TABLE_EVENT_EXHAUSTED, &row, stage_drop_info(st->ops, reason)->text);
	note_appendf(ctx->note, "napt %s: DROP %s -> %s (%s", nat->name,
	                       napt_ep_str(p->ip.proto, p->ip.src, p->ip.sport, i, sizeof i),
	                       napt_ep_str(p->ip.proto, p->ip.dst, p->ip.dport, r, sizeof r), stage_drop_info(st->ops, reason)->text);
	if (reason == DROP_NAPT_NO_PORT || reason == DROP_NAPT_PER_DESTINATION) {
		char e[16];
		note_appendf(ctx->note, ": %s%s ports %u-%u", ip4_to_str(nat->cfg.external[0], e),
		                       nat->cfg.n_external > 1 ? " and the other external addresses," : "",
		                       nat->cfg.port_min, nat->cfg.port_max);
		if (reason == DROP_NAPT_PER_DESTINATION)
			note_appendf(ctx->note, ", %u connections to this destination", nat->cfg.max_per_destination);
	}
	g_string_append(ctx->note, ")");
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
static uint32_t outbound_session(struct stage *st, struct stage_ctx *ctx, struct napt *nat, struct packet *p,
                                 uint32_t raddr, uint16_t rport, struct napt_open *o, enum napt_drop *reason)
{
	uint8_t proto = p->ip.proto;
	uint16_t iport = has_ports(proto) ? p->ip.sport : 0;
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
			note_appendf(ctx->note, "napt %s: DROP %s -> %s (connection of mapping #%u idled out after %u s; %s)",
			                       nat->name, i, r, nat->maps[nat->sess[s].mapping].id,
			                       nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED],
			                       sent ? "TCP RST sent to the inside host" : "RST not sent");
			*reason = DROP_NAPT_IDLE_TIMEOUT;
			return NAPT_NONE;
		}
		/* A new connection on the same tuple: the remembered one goes. */
		session_event(st, ctx, s, TABLE_EVENT_EVICTED, "a new SYN replaces the connection that idled out");
		napt_session_free(nat, s);
		s = NAPT_NONE;
	}
	if (s != NAPT_NONE)
		return s;
	s = session_open_out(nat, proto, p->ip.src, iport, raddr, rport, ctx->now_ns, o);
	if (s == NAPT_NONE) {
		*reason = o->reason;
		exhausted(st, ctx, nat, p, o->reason, o->reason == DROP_NAPT_TABLE_FULL ? "table full" : "no port");
		return NAPT_NONE;
	}
	if (proto == IPPROTO_TCP && syn)
		nat->stats.connection_attempts++;
	else if (proto != IPPROTO_TCP)
		nat->stats.connection_attempts++;
	return s;
}

static void note_translation(struct stage_ctx *ctx, const struct napt *nat, const char *verb, uint8_t proto,
                             uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2, const struct napt_session *s,
                             const char *how, const char *state)
{
	struct note_buf nb;
	note_buf_init(&nb, ctx->note);
	NOTE_BUF_LIT(&nb, "napt ");
	note_buf_put(&nb, nat->name, nat->name_len);
	NOTE_BUF_LIT(&nb, ": ");
	note_buf_put(&nb, verb, strlen(verb));
	NOTE_BUF_LIT(&nb, " ");
	nb_ep(&nb, proto, a1, p1);
	NOTE_BUF_LIT(&nb, " -> ");
	nb_ep(&nb, proto, a2, p2);
	NOTE_BUF_LIT(&nb, " (");
	if (how && *how) {
		note_buf_put(&nb, how, strlen(how));
	} else {
		NOTE_BUF_LIT(&nb, "mapping #");
		note_buf_uint(&nb, s->map_id);
	}
	if (state) {
		NOTE_BUF_LIT(&nb, ", ");
		note_buf_put(&nb, state, strlen(state));
	}
	NOTE_BUF_LIT(&nb, ")");
	note_buf_flush(&nb);
}

static void set_source(struct packet *p, uint32_t addr, uint16_t port)
{
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, addr);
	if (has_ports(p->ip.proto))
		rewrite_ip4_port(p, &p->ip, ENDPOINT_SRC, port);
}

static void set_destination(struct packet *p, uint32_t addr, uint16_t port)
{
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, addr);
	if (has_ports(p->ip.proto))
		rewrite_ip4_port(p, &p->ip, ENDPOINT_DST, port);
}

static enum verdict hairpin(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx);

static enum verdict in2out(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t raddr = p->ip.dst;
	uint16_t rport = has_ports(proto) ? rport_key(proto, p->ip.dport) : 0;
	struct napt_open o;
	enum napt_drop reason = NAPT_DROP_END;

	if (napt_is_external(nat, raddr))
		return hairpin(st, nat, p, ctx);
	uint32_t si = outbound_session(st, ctx, nat, p, raddr, rport, &o, &reason);
	if (si == NAPT_NONE)
		return drop(ctx, reason);
	struct napt_session *s = &nat->sess[si];
	uint32_t iaddr = p->ip.src;
	uint16_t iport = has_ports(proto) ? p->ip.sport : 0;
	set_source(p, s->eaddr, s->eport);
	const char *state = session_touch(nat, si, p, DIR_LEFT_TO_RIGHT, ctx->now_ns);
	if (o.how[0])
		session_event(st, ctx, si, TABLE_EVENT_CREATED, o.how);
	else if (state)
		session_event(st, ctx, si, TABLE_EVENT_REFRESHED, state);
	note_translation(ctx, nat, "SNAT", proto, iaddr, iport, s->eaddr, s->eport, s, o.how, o.how[0] ? NULL : state);
	return VERDICT_FORWARD;
}

static enum verdict out2in(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t eaddr = p->ip.dst, raddr = p->ip.src;
	uint16_t eport = has_ports(proto) ? p->ip.dport : 0;
	uint16_t rsport = has_ports(proto) ? p->ip.sport : 0;
	uint16_t rport = rport_key(proto, rsport);
	char r[40], e[40], why[128];

	if (!napt_is_external(nat, eaddr)) {
		note_appendf(ctx->note, "napt %s: DROP inbound %s -> %s (not an external address of this NAT: "
		                       "inside addresses are not reachable from outside)", nat->name,
		                       napt_ep_str(proto, raddr, rsport, r, sizeof r), napt_ep_str(proto, eaddr, eport, e, sizeof e));
		return drop(ctx, DROP_NAPT_NOT_EXTERNAL);
	}
	uint32_t si = napt_session_find_out(nat, proto, eaddr, eport, raddr, rport);
	why[0] = '\0';
	if (si != NAPT_NONE && nat->sess[si].state == NAPT_ST_IDLE) {
		note_appendf(ctx->note, "napt %s: DROP inbound %s -> %s (the connection of mapping #%u idled out)",
		                       nat->name, napt_ep_str(proto, raddr, rsport, r, sizeof r),
		                       napt_ep_str(proto, eaddr, eport, e, sizeof e), nat->maps[nat->sess[si].mapping].id);
		return drop(ctx, DROP_NAPT_NO_MAPPING);
	}
	if (si == NAPT_NONE) {
		enum napt_drop reason = NAPT_DROP_END;
		uint32_t m = filter_inbound(nat, proto, eaddr, eport, raddr, rport, &reason, why, sizeof why);
		if (m == NAPT_NONE) {
			note_appendf(ctx->note, "napt %s: DROP inbound %s -> %s (%s)", nat->name,
			                       napt_ep_str(proto, raddr, rsport, r, sizeof r),
			                       napt_ep_str(proto, eaddr, eport, e, sizeof e), why);
			return drop(ctx, reason);
		}
		si = nat->free_sess == NAPT_NONE ? NAPT_NONE : napt_session_new(nat, m, raddr, rport, ctx->now_ns);
		if (si == NAPT_NONE) {
			exhausted(st, ctx, nat, p, DROP_NAPT_TABLE_FULL, "table full");
			return drop(ctx, DROP_NAPT_TABLE_FULL);
		}
		nat->sess[si].flags |= NAPT_SESS_INBOUND;
	}
	struct napt_session *s = &nat->sess[si];
	set_destination(p, s->iaddr, s->iport);
	const char *state = session_touch(nat, si, p, DIR_RIGHT_TO_LEFT, ctx->now_ns);
	if (why[0])
		session_event(st, ctx, si, TABLE_EVENT_CREATED, why);
	else if (state)
		session_event(st, ctx, si, TABLE_EVENT_REFRESHED, state);
	note_translation(ctx, nat, "DNAT", proto, eaddr, eport, s->iaddr, s->iport, s, why, why[0] ? NULL : state);
	return VERDICT_FORWARD;
}

/* RFC 4787 REQ-9: a packet from inside to one of the NAT's own external endpoints is turned back
 * inside, with the external address and port of its sender as source ("External source IP address
 * and port"), and the filtering of the receiving mapping applied as to any inbound packet. */
static enum verdict hairpin(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx)
{
	uint8_t proto = p->ip.proto;
	uint32_t taddr = p->ip.dst, iaddr = p->ip.src;
	uint16_t tport = has_ports(proto) ? p->ip.dport : 0, iport = has_ports(proto) ? p->ip.sport : 0;
	char i[40], t[40], x[40], y[40], why[128];
	struct napt_open o;
	enum napt_drop reason = NAPT_DROP_END;

	napt_ep_str(proto, iaddr, iport, i, sizeof i);
	napt_ep_str(proto, taddr, tport, t, sizeof t);
	if (!nat->cfg.hairpin) {
		note_appendf(ctx->note, "napt %s: DROP %s -> %s (hairpinning is off: the NAT does not turn a "
		                       "packet for its own external address back inside)", nat->name, i, t);
		return drop(ctx, DROP_NAPT_HAIRPIN_OFF);
	}
	/* Outbound half: the sender's session towards the external endpoint. */
	uint32_t so = outbound_session(st, ctx, nat, p, taddr, rport_key(proto, tport), &o, &reason);
	if (so == NAPT_NONE)
		return drop(ctx, reason);
	if (o.how[0])
		session_event(st, ctx, so, TABLE_EVENT_CREATED, o.how);
	uint32_t saddr = nat->sess[so].eaddr;
	uint16_t sport = nat->sess[so].eport;
	session_touch(nat, so, p, DIR_LEFT_TO_RIGHT, ctx->now_ns);
	/* Inbound half: from the sender's external endpoint to the target mapping. */
	uint32_t si = napt_session_find_out(nat, proto, taddr, tport, saddr, rport_key(proto, sport));
	why[0] = '\0';
	if (si == NAPT_NONE) {
		uint32_t m = filter_inbound(nat, proto, taddr, tport, saddr, rport_key(proto, sport), &reason, why, sizeof why);
		if (m == NAPT_NONE) {
			note_appendf(ctx->note, "napt %s: DROP hairpin %s -> %s, as %s -> %s (%s)", nat->name, i, t,
			                       napt_ep_str(proto, saddr, sport, x, sizeof x), t, why);
			return drop(ctx, reason);
		}
		si = nat->free_sess == NAPT_NONE ? NAPT_NONE : napt_session_new(nat, m, saddr, rport_key(proto, sport), ctx->now_ns);
		if (si == NAPT_NONE) {
			exhausted(st, ctx, nat, p, DROP_NAPT_TABLE_FULL, "table full");
			return drop(ctx, DROP_NAPT_TABLE_FULL);
		}
		nat->sess[si].flags |= NAPT_SESS_INBOUND;
		session_event(st, ctx, si, TABLE_EVENT_CREATED, why);
	}
	const struct napt_session *s = &nat->sess[si];
	set_source(p, saddr, sport);
	set_destination(p, s->iaddr, s->iport);
	session_touch(nat, si, p, DIR_RIGHT_TO_LEFT, ctx->now_ns);
	nat->stats.hairpinned++;
	napt_ep_str(proto, s->iaddr, s->iport, y, sizeof y);
	napt_ep_str(proto, saddr, sport, x, sizeof x);
	char note[320];
	g_snprintf(note, sizeof note, "napt %s: hairpinned %s -> %s back inside as %s -> %s (mappings #%u and #%u, "
	           "RFC 4787 REQ-9)", nat->name, i, t, x, y, nat->maps[nat->sess[so].mapping].id, nat->maps[s->mapping].id);
	bool sent = stage_emit(ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS, p->data, p->caplen, note);
	note_appendf(ctx->note, "napt %s: hairpin: %s is this NAT's own %s; turned back inside as %s -> %s%s%s%s",
	                       nat->name, t, "external endpoint", x, y, o.how[0] ? " (" : "", o.how, o.how[0] ? ")" : "");
	if (!sent)
		g_string_append(ctx->note, " [not emitted: no room in the emit pool]");
	return VERDICT_CONSUMED;
}

/* ---- ICMP errors (RFC 5508 section 4) --------------------------------------------------------- */

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

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : proto == IPPROTO_UDP ? "UDP" : proto == IPPROTO_ICMP ? "ICMP" : "IP";
}

static enum verdict icmp_error(struct stage *st, struct napt *nat, struct packet *p, enum hop_dir dir,
                               struct stage_ctx *ctx)
{
	bool out = dir == DIR_LEFT_TO_RIGHT;
	struct ip4_view *q = &p->inner;
	char a[16], b[16], x[40], y[40];
	const char *what = icmp_error_name(p->ip.icmp_type);

	(void)st;
	if (!p->has_inner || !has_ports(q->proto) || !q->has_ports) {
		note_appendf(ctx->note, "napt %s: DROP ICMP %s %s -> %s (the quoted packet is too short to find "
		                       "its flow)", nat->name, what, ip4_to_str(p->ip.src, a), ip4_to_str(p->ip.dst, b));
		return drop(ctx, DROP_NAPT_ICMP_UNTRANSLATABLE);
	}
	if (icmp_checksum_bad(p)) {
		note_appendf(ctx->note, "napt %s: DROP ICMP %s %s -> %s (bad ICMP checksum, RFC 5508 REQ-3)",
		                       nat->name, what, ip4_to_str(p->ip.src, a), ip4_to_str(p->ip.dst, b));
		return drop(ctx, DROP_NAPT_ICMP_BAD_CHECKSUM);
	}
	if (!out && !napt_is_external(nat, p->ip.dst)) {
		note_appendf(ctx->note, "napt %s: DROP inbound ICMP %s to %s (not an external address of this NAT)",
		                       nat->name, what, ip4_to_str(p->ip.dst, b));
		return drop(ctx, DROP_NAPT_NOT_EXTERNAL);
	}
	/* Inbound, the quote is one of our outbound packets: source external, destination remote.
	 * Outbound, it is a packet the inside host received: source remote, destination inside. */
	uint32_t si = out ? napt_session_find_in(nat, q->proto, q->dst, q->dport, q->src, rport_key(q->proto, q->sport))
	                  : napt_session_find_out(nat, q->proto, q->src, q->sport, q->dst, rport_key(q->proto, q->dport));
	if (si == NAPT_NONE || nat->sess[si].state == NAPT_ST_IDLE) {
		note_appendf(ctx->note, "napt %s: DROP %s ICMP %s (no mapping for the quoted %s %s -> %s, "
		                       "RFC 5508 %s)", nat->name, out ? "outbound" : "inbound", what, proto_name(q->proto),
		                       napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
		                       napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y), out ? "REQ-5" : "REQ-4");
		return drop(ctx, DROP_NAPT_ICMP_NO_MAPPING);
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
	note_appendf(ctx->note, "napt %s: %s %s -> %s (ICMP %s about mapping #%u; quoted %s %s %s -> %s, "
	                       "RFC 5508 %s)", nat->name, out ? "SNAT" : "DNAT", ip4_to_str(before, a),
	                       ip4_to_str(out ? s->eaddr : s->iaddr, b), what, nat->maps[s->mapping].id,
	                       proto_name(q->proto), out ? "destination" : "source", x, y, out ? "REQ-5" : "REQ-4");
	return VERDICT_FORWARD;
}

/* ---- The stage ops ---------------------------------------------------------------------------- */

/* The mapping a first fragment just crossed by, found from its translated headers. */
static uint32_t fragment_mapping_id(const struct napt *nat, const struct packet *p, enum hop_dir dir)
{
	uint8_t proto = p->ip.proto;
	uint16_t sport = has_ports(proto) ? p->ip.sport : 0, dport = has_ports(proto) ? p->ip.dport : 0;
	uint32_t s = dir == DIR_LEFT_TO_RIGHT
	                     ? napt_session_find_out(nat, proto, p->ip.src, sport, p->ip.dst, rport_key(proto, dport))
	                     : napt_session_find_in(nat, proto, p->ip.dst, dport, p->ip.src, rport_key(proto, sport));
	return s == NAPT_NONE ? 0 : nat->maps[nat->sess[s].mapping].id;
}

static enum verdict napt_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct napt *nat = st->priv;
	const struct ip4_view *ip = &p->ip;
	char a[16], b[16];
	enum verdict v;

	napt_clock(nat, ctx);
	nat->stats.packets_in[dir]++;
	nat->stats.bytes_in[dir] += ip->total_len;
	if (ip->is_fragment && (nat->cfg.fragments == NAPT_FRAG_DROP ||
	                        (nat->cfg.fragments == NAPT_FRAG_UDP_ONLY && ip->proto != IPPROTO_UDP))) {
		note_appendf(ctx->note, "napt %s: DROP %s fragment %s -> %s id 0x%04x (%s)", nat->name,
		                       proto_name(ip->proto), ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b), ip->id,
		                       nat->cfg.fragments == NAPT_FRAG_DROP ? "fragments = drop" :
		                       "only UDP fragments pass, as on an AWS NAT gateway");
		return drop(ctx, DROP_NAPT_FRAGMENT);
	}
	if (ip->is_fragment && ip->frag_off > 0) {
		v = napt_frag_later(nat, st, p, dir, ctx);
	} else if (!has_ports(ip->proto) && !nat->cfg.other_protocols) {
		note_appendf(ctx->note, "napt %s: DROP protocol %u %s -> %s (only TCP, UDP and ICMP are translated)",
		                       nat->name, ip->proto, ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b));
		v = drop(ctx, DROP_NAPT_PROTOCOL);
	} else if (ip->proto == IPPROTO_ICMP && ip->icmp_error) {
		v = icmp_error(st, nat, p, dir, ctx);
	} else if (has_ports(ip->proto) && !ip->has_ports) {
		note_appendf(ctx->note, "napt %s: DROP %s %s -> %s (%s)", nat->name, proto_name(ip->proto),
		                       ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b),
		                       ip->proto == IPPROTO_ICMP && ip->has_l4 ? "an ICMP message with no identifier to map" :
		                       "the ports were not captured");
		v = drop(ctx, ip->proto == IPPROTO_ICMP && ip->has_l4 ? DROP_NAPT_ICMP_UNKNOWN : DROP_NAPT_NO_PORTS);
	} else {
		uint32_t src = ip->src, dst = ip->dst;
		v = dir == DIR_LEFT_TO_RIGHT ? in2out(st, nat, p, ctx) : out2in(st, nat, p, ctx);
		if (v == VERDICT_FORWARD && ip->is_fragment)
			napt_frag_first(nat, ctx, p, dir, src, dst, fragment_mapping_id(nat, p, dir));
	}
	if (v == VERDICT_FORWARD) {
		nat->stats.packets_out[dir]++;
		nat->stats.bytes_out[dir] += p->ip.total_len;
	}
	return v;
}

/* The session lookup in2out() or out2in() will make, loaded ahead (stage_ops.prefetch).  Packets
 * that take another path (fragments, ICMP errors, hairpins) get nothing: they are rare. */
static void napt_prefetch(const struct stage *st, const struct packet *p, enum hop_dir dir, unsigned step)
{
	const struct napt *nat = st->priv;
	const struct ip4_view *ip = &p->ip;

	if (!ip->has_ports || ip->is_fragment || ip->icmp_error || !has_ports(ip->proto))
		return;
	if (dir == DIR_LEFT_TO_RIGHT)
		napt_session_prefetch(nat, true, ip->proto, ip->src, ip->sport, ip->dst, rport_key(ip->proto, ip->dport),
		                      step);
	else
		napt_session_prefetch(nat, false, ip->proto, ip->dst, ip->dport, ip->src, rport_key(ip->proto, ip->sport),
		                      step);
}

/* The mapping an inbound packet for (iaddr, iport) from (raddr, rport) would have come through:
 * the session's, else the mapping the mapping behaviour gives, else (ADM, APDM: a probe from an
 * endpoint the host never contacted) the inside endpoint's oldest mapping, which is the one a
 * STUN server would have told the host about.  That last search walks the pool: it only runs for
 * packets no session explains. */
static bool reverse_inbound_mapping(const struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport,
                                    uint32_t raddr, uint16_t rport, uint32_t *eaddr, uint16_t *eport)
{
	uint32_t s = napt_session_find_in(nat, proto, iaddr, iport, raddr, rport);
	if (s != NAPT_NONE) {
		*eaddr = nat->sess[s].eaddr;
		*eport = nat->sess[s].eport;
		return true;
	}
	uint32_t kr = nat->cfg.mapping >= NAPT_AD ? raddr : 0;
	uint16_t kp = nat->cfg.mapping == NAPT_APD ? rport : 0;
	uint32_t m = napt_mapping_find_in(nat, proto, iaddr, iport, kr, kp);
	if (m == NAPT_NONE && nat->cfg.mapping != NAPT_EI) {
		for (uint32_t i = 0; i < nat->cap; i++) {
			const struct napt_mapping *x = &nat->maps[i];
			if (x->id && x->proto == proto && x->iaddr == iaddr && x->iport == iport &&
			    (m == NAPT_NONE || x->id < nat->maps[m].id))
				m = i;
		}
	}
	if (m == NAPT_NONE)
		return false;
	*eaddr = nat->maps[m].eaddr;
	*eport = nat->maps[m].eport;
	return true;
}

static bool reverse_icmp_error(struct napt *nat, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct ip4_view *q = &p->inner;
	char x[40], y[40];

	if (!p->has_inner || !has_ports(q->proto) || !q->has_ports) {
		g_string_append(ctx->note, "the ICMP error's quoted packet is too short to find its flow");
		return false;
	}
	if (dir == DIR_RIGHT_TO_LEFT) { /* captured inside: the quote is the inside host's own packet */
		uint32_t s = napt_session_find_in(nat, q->proto, q->src, q->sport, q->dst, rport_key(q->proto, q->dport));
		if (s == NAPT_NONE) {
			note_appendf(ctx->note, "no mapping for the quoted %s %s -> %s", proto_name(q->proto),
			                       napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
			                       napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y));
			return false;
		}
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, nat->sess[s].eaddr);
		rewrite_ip4_addr(p, q, ENDPOINT_SRC, nat->sess[s].eaddr);
		rewrite_ip4_port(p, q, ENDPOINT_SRC, nat->sess[s].eport);
		return true;
	}
	uint32_t s = napt_session_find_out(nat, q->proto, q->dst, q->dport, q->src, rport_key(q->proto, q->sport));
	if (s == NAPT_NONE) {
		note_appendf(ctx->note, "no mapping for the quoted %s %s -> %s", proto_name(q->proto),
		                       napt_ep_str(q->proto, q->src, q->sport, x, sizeof x),
		                       napt_ep_str(q->proto, q->dst, q->dport, y, sizeof y));
		return false;
	}
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, nat->sess[s].iaddr);
	rewrite_ip4_addr(p, q, ENDPOINT_DST, nat->sess[s].iaddr);
	rewrite_ip4_port(p, q, ENDPOINT_DST, nat->sess[s].iport);
	return true;
}

static enum reverse_answer napt_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct napt *nat = st->priv;
	const struct ip4_view *ip = &p->ip;
	uint8_t proto = ip->proto;
	bool ports = has_ports(proto);
	char e[40];

	if (ip->is_fragment && ip->frag_off > 0)
		return napt_frag_reverse(nat, p, dir, ctx) ? REVERSE_TRANSLATED : REVERSE_IMPOSSIBLE;
	if (proto == IPPROTO_ICMP && ip->icmp_error)
		return reverse_icmp_error(nat, p, dir, ctx) ? REVERSE_TRANSLATED : REVERSE_IMPOSSIBLE;
	if (ports && !ip->has_ports) {
		g_string_append(ctx->note, "the ports were not captured");
		return REVERSE_IMPOSSIBLE;
	}
	uint16_t sport = ports ? ip->sport : 0, dport = ports ? ip->dport : 0;
	if (dir == DIR_RIGHT_TO_LEFT) {
		uint32_t eaddr;
		uint16_t eport;
		if (napt_is_external(nat, ip->src)) {
			g_string_append(ctx->note, "a hairpinned packet: the capture should hold it as its inside sender sent it");
			return REVERSE_IMPOSSIBLE;
		}
		if (!reverse_inbound_mapping(nat, proto, ip->dst, dport, ip->src, rport_key(proto, sport), &eaddr, &eport)) {
			note_appendf(ctx->note, "no mapping for %s: nothing from it went out before",
			                       napt_ep_str(proto, ip->dst, dport, e, sizeof e));
			return REVERSE_IMPOSSIBLE;
		}
		set_destination(p, eaddr, eport);
		return REVERSE_TRANSLATED;
	}
	uint32_t s = napt_session_find_out(nat, proto, ip->src, sport, ip->dst, rport_key(proto, dport));
	uint32_t m = s != NAPT_NONE ? nat->sess[s].mapping : napt_mapping_find_ext(nat, proto, ip->src, sport);
	if (m == NAPT_NONE) {
		note_appendf(ctx->note, "no mapping for %s: natlb learns the inside sender from an earlier packet",
		                       napt_ep_str(proto, ip->src, sport, e, sizeof e));
		return REVERSE_IMPOSSIBLE;
	}
	set_source(p, nat->maps[m].iaddr, nat->maps[m].iport);
	return REVERSE_TRANSLATED;
}

static bool napt_claims(const struct stage *st, uint32_t addr, enum side side)
{
	return side == SIDE_RIGHT && napt_is_external(st->priv, addr);
}

static bool closed_gracefully(const struct napt_session *s)
{
	return s->state == NAPT_ST_TIME_WAIT || s->state == NAPT_ST_CLOSE;
}

static void napt_advance(struct stage *st, int64_t now, struct stage_ctx *ctx)
{
	struct napt *nat = st->priv;
	char why[96];

	if (now > nat->clock_ns)
		nat->clock_ns = now;
	for (unsigned t = 0; t < NAPT_TO_N; t++) {
		uint32_t s;
		while ((s = napt_timer_first(nat, (enum napt_timeout)t)) != NAPT_NONE && nat->sess[s].expires_ns <= now) {
			struct napt_session *x = &nat->sess[s];
			if (nat->cfg.idle_rst && x->proto == IPPROTO_TCP && x->state != NAPT_ST_IDLE && !closed_gracefully(x)) {
				/* AWS IdleTimeoutCount: "connections that transitioned from the active state to the
				 * idle state": not closed gracefully and no activity for 350 s. */
				x->state = NAPT_ST_IDLE;
				nat->stats.idle_timeouts++;
				napt_timer_arm(nat, s, NAPT_TO_IDLE, now);
				g_snprintf(why, sizeof why, "idle for %u s: a later packet from inside gets a TCP RST",
				           nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED]);
				session_event(st, ctx, s, TABLE_EVENT_EXPIRED, why);
				continue;
			}
			g_snprintf(why, sizeof why, "no packet for %u s (%s)",
			           t < NAPT_TO_KEYED ? nat->cfg.timeout_s[t] : nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED],
			           t == NAPT_TO_IDLE ? "forgotten after the idle timeout" : "timeout");
			session_event(st, ctx, s, TABLE_EVENT_EXPIRED, why);
			napt_session_free(nat, s);
			nat->stats.sessions_expired++;
		}
	}
	napt_frag_expire(nat, now);
}

static void napt_table_foreach(const struct stage *st, int64_t now_ns,
                               void (*visit)(const struct table_row *row, void *data), void *data)
{
	const struct napt *nat = st->priv;
	(void)now_ns;
	for (uint32_t i = 0; i < nat->cap; i++) {
		if (!nat->sess[i].id)
			continue;
		struct table_row row;
		char flags[96];
		session_row(nat, &nat->sess[i], &row, flags, sizeof flags);
		visit(&row, data);
	}
}

static void napt_stats_print(const struct stage *st, GString *out)
{
	const struct napt *nat = st->priv;
	const struct napt_stats *s = &nat->stats;
	uint64_t active = 0;

	for (uint32_t i = 0; i < nat->cap; i++) {
		const struct napt_session *x = &nat->sess[i];
		if (x->id && x->proto == IPPROTO_TCP && x->state != NAPT_ST_IDLE && !closed_gracefully(x))
			active++;
	}
	if (nat->cfg.aws_metrics) {
		/* CloudWatch's AWS/NATGateway names, as this replay would have reported them (sums over the
		 * whole replay; ActiveConnectionCount as at its end). */
		static const char *const fmt = "    %-28s %12" G_GUINT64_FORMAT "\n";
		g_string_append(out, "    CloudWatch metrics (AWS/NATGateway) for this replay:\n");
		g_string_append_printf(out, fmt, "ActiveConnectionCount", active);
		g_string_append_printf(out, fmt, "ConnectionAttemptCount", s->connection_attempts);
		g_string_append_printf(out, fmt, "ConnectionEstablishedCount", s->connections_established);
		g_string_append_printf(out, fmt, "ErrorPortAllocation", s->port_allocation_errors);
		g_string_append_printf(out, fmt, "IdleTimeoutCount", s->idle_timeouts);
		g_string_append_printf(out, fmt, "PacketsDropCount", st->counters.dropped);
		g_string_append_printf(out, fmt, "BytesInFromSource", s->bytes_in[DIR_LEFT_TO_RIGHT]);
		g_string_append_printf(out, fmt, "BytesOutToDestination", s->bytes_out[DIR_LEFT_TO_RIGHT]);
		g_string_append_printf(out, fmt, "BytesInFromDestination", s->bytes_in[DIR_RIGHT_TO_LEFT]);
		g_string_append_printf(out, fmt, "BytesOutToSource", s->bytes_out[DIR_RIGHT_TO_LEFT]);
		g_string_append_printf(out, fmt, "PacketsInFromSource", s->packets_in[DIR_LEFT_TO_RIGHT]);
		g_string_append_printf(out, fmt, "PacketsOutToDestination", s->packets_out[DIR_LEFT_TO_RIGHT]);
		g_string_append_printf(out, fmt, "PacketsInFromDestination", s->packets_in[DIR_RIGHT_TO_LEFT]);
		g_string_append_printf(out, fmt, "PacketsOutToSource", s->packets_out[DIR_RIGHT_TO_LEFT]);
		return;
	}
	g_string_append_printf(out, "    mappings %u live (peak %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " created), "
	                       "sessions %u live (%" G_GUINT64_FORMAT " created, %" G_GUINT64_FORMAT " expired), "
	                       "max-mappings %u\n", nat->n_maps, s->peak_mappings, s->mappings_created, nat->n_sess,
	                       s->sessions_created, s->sessions_expired, nat->cap);
	g_string_append_printf(out, "    ports preserved %" G_GUINT64_FORMAT ", changed %" G_GUINT64_FORMAT
	                       ", allocation failures %" G_GUINT64_FORMAT "; TCP connections open %" G_GUINT64_FORMAT "\n",
	                       s->ports_preserved, s->ports_changed, s->port_allocation_errors, active);
	g_string_append_printf(out, "    hairpinned %" G_GUINT64_FORMAT ", ICMP errors translated %" G_GUINT64_FORMAT
	                       ", idle timeouts %" G_GUINT64_FORMAT "; emitted %" G_GUINT64_FORMAT " RST, %"
	                       G_GUINT64_FORMAT " ICMP 3/13\n", s->hairpinned, s->icmp_errors_translated, s->idle_timeouts,
	                       s->resets_sent, s->unreachables_sent);
	g_string_append_printf(out, "    fragments: %" G_GUINT64_FORMAT " followed their first, %" G_GUINT64_FORMAT
	                       " held, %" G_GUINT64_FORMAT " released, %" G_GUINT64_FORMAT " discarded unreleased\n",
	                       s->frags_followed, s->frags_held, s->frags_released, s->frags_discarded);
}

static void napt_destroy(struct stage *st)
{
	struct napt *nat = st->priv;
	if (!nat)
		return;
	napt_table_free(nat);
	if (nat->lnet)
		libnet_destroy(nat->lnet);
	g_free(nat->held);
	g_free(nat);
	st->priv = NULL;
}

uint32_t napt_live_mappings(const struct stage *st)
{
	return ((const struct napt *)st->priv)->n_maps;
}

uint32_t napt_live_sessions(const struct stage *st)
{
	return ((const struct napt *)st->priv)->n_sess;
}

static const struct drop_info napt_drops[] = { foreach_napt_drop(DROP_INFO_ENTRY) };
G_STATIC_ASSERT(G_N_ELEMENTS(napt_drops) <= STAGE_MAX_DROPS);

const struct stage_ops napt_ops = {
	.type = "napt",
	.summary = "NAPT with RFC 4787 mapping and filtering behaviours: home router, Linux, AWS NAT gateway",
	.keys = napt_keys,
	.drops = napt_drops,
	.n_drops = G_N_ELEMENTS(napt_drops),
	.configure = napt_configure,
	.describe = napt_describe,
	.claims = napt_claims,
	.process = napt_process,
	.reverse = napt_reverse,
	.prefetch = napt_prefetch,
	.advance = napt_advance,
	.table_foreach = napt_table_foreach,
	.stats_print = napt_stats_print,
	.destroy = napt_destroy,
};
