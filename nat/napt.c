/* nat/napt.c: the napt stage: its ops (process, reverse, advance, tables, stats) over the data path in napt_in2out.c, napt_out2in.c and napt_icmp.c (RFC 4787, RFC 5382, RFC 5508, RFC 7857; AWS NAT gateway).
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
 * Invariant: every verdict comes with one sentence in ctx->note, after the loop's "napt <name>: ",
 * saying what was done and why; every drop goes through stage_drop() with a reason of
 * foreach_napt_drop, so the annotation says what --stats counts.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>


#include "common/answer.h"
#include "common/checksum.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "nat/napt.h"

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

static void napt_clock(struct napt *nat, struct stage_ctx *ctx)
{
	if (!nat->rng_ready) {
		nat->rng = ctx->seed ^ 0x6e6170745f736565ull; /* "napt_see": any seed gives a distinct stream */
		nat->rng_ready = true;
	}
	if (ctx->now_ns > nat->clock_ns)
		nat->clock_ns = ctx->now_ns;
}

void napt_note_translation(struct stage_ctx *ctx, const struct napt *nat, const char *verb, uint8_t proto,
                           uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2, const struct napt_session *s,
                           const char *how, const char *state)
{
	struct note_buf nb;
	(void)nat; /* the loop has written "napt <name>: " */
	note_buf_init(&nb, ctx->note);
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

/* The mapping a first fragment just crossed by, found from its translated headers. */
static uint32_t fragment_mapping_id(const struct napt *nat, const struct packet *p, enum hop_dir dir)
{
	uint8_t proto = p->ip.proto;
	uint16_t sport = napt_has_ports(proto) ? p->ip.sport : 0, dport = napt_has_ports(proto) ? p->ip.dport : 0;
	uint32_t s = dir == DIR_LEFT_TO_RIGHT
	                     ? napt_session_find_out(nat, proto, p->ip.src, sport, p->ip.dst, napt_rport_key(proto, dport))
	                     : napt_session_find_in(nat, proto, p->ip.dst, dport, p->ip.src, napt_rport_key(proto, sport));
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
		return stage_drop(ctx, DROP_NAPT_FRAGMENT, "%s %s -> %s id 0x%04x (%s)", napt_proto_name(ip->proto),
		                  ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b), ip->id,
		                  nat->cfg.fragments == NAPT_FRAG_DROP ? "fragments = drop" :
		                  "only UDP fragments pass, as on an AWS NAT gateway");
	}
	if (ip->is_fragment && ip->frag_off > 0) {
		v = napt_frag_later(nat, st, p, dir, ctx);
	} else if (!napt_has_ports(ip->proto) && !nat->cfg.other_protocols) {
		v = stage_drop(ctx, DROP_NAPT_PROTOCOL, "protocol %u %s -> %s", ip->proto, ip4_to_str(ip->src, a),
		               ip4_to_str(ip->dst, b));
	} else if (ip->proto == IPPROTO_ICMP && ip->icmp_error) {
		v = napt_icmp_error(st, nat, p, dir, ctx);
	} else if (napt_has_ports(ip->proto) && !ip->has_ports) {
		if (ip->proto == IPPROTO_ICMP && ip->has_l4)
			v = stage_drop(ctx, DROP_NAPT_ICMP_UNKNOWN, "ICMP type %u %s -> %s", ip->icmp_type,
			               ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b));
		else
			v = stage_drop(ctx, DROP_NAPT_NO_PORTS, "%s %s -> %s, %u of %u bytes captured", napt_proto_name(ip->proto),
			               ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b), p->caplen, p->wirelen);
	} else {
		uint32_t src = ip->src, dst = ip->dst;
		v = dir == DIR_LEFT_TO_RIGHT ? napt_in2out(st, nat, p, ctx) : napt_out2in(st, nat, p, ctx);
		if (v == VERDICT_FORWARD && ip->is_fragment)
			napt_frag_first(nat, ctx, p, dir, src, dst, fragment_mapping_id(nat, p, dir));
	}
	if (v == VERDICT_FORWARD) {
		nat->stats.packets_out[dir]++;
		nat->stats.bytes_out[dir] += p->ip.total_len;
	}
	return v;
}

/* The session lookup napt_in2out() or napt_out2in() will make, loaded ahead (stage_ops.prefetch).  Packets
 * that take another path (fragments, ICMP errors, hairpins) get nothing: they are rare. */
static void napt_prefetch(const struct stage *st, const struct packet *p, enum hop_dir dir, unsigned step)
{
	const struct napt *nat = st->priv;
	const struct ip4_view *ip = &p->ip;

	if (!ip->has_ports || ip->is_fragment || ip->icmp_error || !napt_has_ports(ip->proto))
		return;
	if (dir == DIR_LEFT_TO_RIGHT)
		napt_session_prefetch(nat, true, ip->proto, ip->src, ip->sport, ip->dst, napt_rport_key(ip->proto, ip->dport),
		                      step);
	else
		napt_session_prefetch(nat, false, ip->proto, ip->dst, ip->dport, ip->src, napt_rport_key(ip->proto, ip->sport),
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

static enum reverse_answer napt_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct napt *nat = st->priv;
	const struct ip4_view *ip = &p->ip;
	uint8_t proto = ip->proto;
	bool ports = napt_has_ports(proto);
	char e[40];

	if (ip->is_fragment && ip->frag_off > 0)
		return napt_frag_reverse(nat, p, dir, ctx) ? REVERSE_TRANSLATED : REVERSE_IMPOSSIBLE;
	if (proto == IPPROTO_ICMP && ip->icmp_error)
		return napt_icmp_error_reverse(nat, p, dir, ctx) ? REVERSE_TRANSLATED : REVERSE_IMPOSSIBLE;
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
		if (!reverse_inbound_mapping(nat, proto, ip->dst, dport, ip->src, napt_rport_key(proto, sport), &eaddr, &eport)) {
			note_appendf(ctx->note, "no mapping for %s: nothing from it went out before",
			                       napt_ep_str(proto, ip->dst, dport, e, sizeof e));
			return REVERSE_IMPOSSIBLE;
		}
		napt_set_destination(p, eaddr, eport);
		return REVERSE_TRANSLATED;
	}
	uint32_t s = napt_session_find_out(nat, proto, ip->src, sport, ip->dst, napt_rport_key(proto, dport));
	uint32_t m = s != NAPT_NONE ? nat->sess[s].mapping : napt_mapping_find_ext(nat, proto, ip->src, sport);
	if (m == NAPT_NONE) {
		note_appendf(ctx->note, "no mapping for %s: natlb learns the inside sender from an earlier packet",
		                       napt_ep_str(proto, ip->src, sport, e, sizeof e));
		return REVERSE_IMPOSSIBLE;
	}
	napt_set_source(p, nat->maps[m].iaddr, nat->maps[m].iport);
	return REVERSE_TRANSLATED;
}

static bool napt_claims(const struct stage *st, uint32_t addr, enum side side)
{
	return side == SIDE_RIGHT && napt_is_external(st->priv, addr);
}

/* Flow logs: inside, the NAT's own address there (inside-address, a NAT gateway's private IP);
 * outside, its first external address. */
static uint32_t napt_interface_address(const struct stage *st, enum side side)
{
	const struct napt *nat = st->priv;
	return side == SIDE_LEFT ? nat->cfg.inside_address : nat->cfg.external[0];
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
				g_snprintf(why, sizeof why, "idle for %u s: a later packet from inside gets a TCP RST",
				           nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED]);
				/* before the re-arm: the event's row still has the time it went idle */
				napt_session_event(st, ctx, s, TABLE_EVENT_EXPIRED, why);
				napt_timer_arm(nat, s, NAPT_TO_IDLE, now);
				continue;
			}
			g_snprintf(why, sizeof why, "no packet for %u s (%s)",
			           t < NAPT_TO_KEYED ? nat->cfg.timeout_s[t] : nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED],
			           t == NAPT_TO_IDLE ? "forgotten after the idle timeout" : "timeout");
			napt_session_event(st, ctx, s, TABLE_EVENT_EXPIRED, why);
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
		napt_session_row(nat, &nat->sess[i], &row, flags, sizeof flags);
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
	if (nat->cfg.answer_unsolicited)
		g_string_append_printf(out, "    packets for the NAT itself (answer-unsolicited): %" G_GUINT64_FORMAT ", answered "
		                       "with the RSTs above and %" G_GUINT64_FORMAT " ICMP 3/3\n", s->answered_unsolicited,
		                       s->port_unreachables_sent);
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
	.routes = true,
	.interface_address = napt_interface_address,
	.process = napt_process,
	.reverse = napt_reverse,
	.prefetch = napt_prefetch,
	.advance = napt_advance,
	.table_foreach = napt_table_foreach,
	.stats_print = napt_stats_print,
	.destroy = napt_destroy,
};
