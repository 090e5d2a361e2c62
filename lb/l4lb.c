/* lb/l4lb.c: the `l4-lb` stage's data path: an AWS NLB-style balancer that hashes flows onto targets (Maglev, Katran).
 *
 * Follows AWS "Network Load Balancers" (flows, idle timeouts, client IP preservation, proxy
 * protocol v2, connection termination for unhealthy targets) and Eisenbud et al., NSDI 2016
 * (Maglev: hash, lookup table, connection tracking).  Left of the stage are the clients, who send
 * to a listener (VIP:port/proto, claimed on the left side); right of it the targets.  A new flow's
 * fields are hashed, the selection method maps the hash to a target, and the flow table keeps
 * every later packet of the flow on that target, in both directions:
 *
 *   left to right: client:cport > vip:vport   becomes  source:sport > target:tport
 *   right to left: target:tport > source:sport becomes vip:vport > client:cport
 *
 * where source:sport is the client's own address and port (preserve-client-ip, the default) or
 * the balancer's `address` with a port it picks.  reverse() answers the inverse question for a
 * packet captured on the client side (a reply) or on the target side (a request), reading the
 * flow table without changing it.
 *
 * Invariant: nothing here allocates; the annotation goes into ctx->note without a temporary.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "lb/hash.h"
#include "lb/l4lb.h"


/* Asked by the routing of every packet: one probe of a hash set at most half full. */
static bool is_vip(const struct l4lb *lb, uint32_t addr)
{
	uint64_t want = (uint64_t)1 << 32 | addr;
	for (uint32_t h = l4lb_vip_home(addr); lb->vip_set[h]; h = (h + 1) & ((1u << L4LB_VIP_BITS) - 1))
		if (lb->vip_set[h] == want)
			return true;
	return false;
}

static int listener_find(const struct l4lb *lb, uint32_t vip, uint16_t port, uint8_t proto)
{
	for (unsigned i = 0; i < lb->n_listeners; i++)
		if (lb->listeners[i].vip == vip && lb->listeners[i].port == port && lb->listeners[i].proto == proto)
			return (int)i;
	return -1;
}

/* Could a packet from addr:port be a target answering (on some listener's port)? */
static bool is_target_endpoint(const struct l4lb *lb, uint32_t addr, uint16_t port)
{
	for (unsigned i = 0; i < lb->n_targets; i++) {
		const struct l4lb_target *t = &lb->targets[i];
		if (t->ip != addr)
			continue;
		if (t->port == port)
			return true;
		if (t->port == 0)
			for (unsigned j = 0; j < lb->n_listeners; j++)
				if (lb->listeners[j].port == port)
					return true;
	}
	return false;
}

/* For process(): a flow idle for its timeout is dead; met here, it leaves the table (its next
 * packet, this one, is a new flow). */
static struct l4lb_flow *fwd_live(struct stage *st, struct stage_ctx *ctx, uint32_t client, uint16_t cport,
                                  uint32_t vip, uint16_t vport, uint8_t proto)
{
	struct l4lb *lb = st->priv;
	struct l4lb_flow *f = l4lb_flow_find_fwd(lb, client, cport, vip, vport, proto);
	if (f && l4lb_flow_expired(lb, f, ctx->now_ns)) {
		l4lb_flow_drop_expired(st, f, ctx);
		f = NULL;
	}
	return f;
}

static struct l4lb_flow *rev_live(struct stage *st, struct stage_ctx *ctx, uint32_t target, uint16_t tport,
                                  uint32_t source, uint16_t sport, uint8_t proto)
{
	struct l4lb *lb = st->priv;
	struct l4lb_flow *f = l4lb_flow_find_rev(lb, target, tport, source, sport, proto);
	if (f && l4lb_flow_expired(lb, f, ctx->now_ns)) {
		l4lb_flow_drop_expired(st, f, ctx);
		f = NULL;
	}
	return f;
}

/* For reverse(), which changes nothing: the same answers, read only.  The replay loop has moved
 * the stage's clock to the packet's time before it asks. */
static const struct l4lb_flow *fwd_peek(const struct l4lb *lb, uint32_t client, uint16_t cport, uint32_t vip,
                                        uint16_t vport, uint8_t proto)
{
	const struct l4lb_flow *f = l4lb_flow_find_fwd(lb, client, cport, vip, vport, proto);
	return f && !l4lb_flow_expired(lb, f, lb->clock_ns) ? f : NULL;
}

static const struct l4lb_flow *rev_peek(const struct l4lb *lb, uint32_t target, uint16_t tport, uint32_t source,
                                        uint16_t sport, uint8_t proto)
{
	const struct l4lb_flow *f = l4lb_flow_find_rev(lb, target, tport, source, sport, proto);
	return f && !l4lb_flow_expired(lb, f, lb->clock_ns) ? f : NULL;
}

static void advance_to(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;

	if (!lb->started) {
		lb->started = true;
		lb->t0_ns = now_ns;
	} else if (now_ns <= lb->clock_ns) {
		return; /* captures are merged in time order: this time was dealt with */
	}
	lb->clock_ns = now_ns;
	l4lb_events_run(st, now_ns, ctx);
	l4lb_flow_expire(st, now_ns, ctx);
}

static void l4lb_advance(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	advance_to(st, now_ns, ctx);
}

static bool l4lb_claims(const struct stage *st, uint32_t addr, enum side side)
{
	const struct l4lb *lb = st->priv;
	if (side == SIDE_LEFT)
		return is_vip(lb, addr);
	return lb->have_address && addr == lb->address;
}


/* "entry #12", the flow table entry, without printf: this is on every packet's path.  Not "flow #": that
 * token, first in every comment, is the replay's own number of the connection (common/flow_number.h). */
static void note_flow_id(GString *note, uint64_t id)
{
	char text[32] = "entry #";
	g_string_append_len(note, text, (gssize)note_put_digits(text, sizeof "entry #" - 1, id));
}

/* "entry #12 -> 10.0.1.11:8080", the note of most packets, in one append: the same text as
 * note_flow_id, " -> " and note_append_endpoint, with the target's address written at configure
 * time. */
static void note_flow_to_target(GString *note, uint64_t id, const struct l4lb_target *t, uint16_t port)
{
	char text[32 + 4 + L4LB_IP_TEXT_MAX + 6] = "entry #";
	size_t len = note_put_digits(text, sizeof "entry #" - 1, id);
	memcpy(text + len, " -> ", 4);
	len += 4;
	memcpy(text + len, t->ip_text, t->ip_text_len);
	len += t->ip_text_len;
	text[len++] = ':';
	g_string_append_len(note, text, (gssize)note_put_digits(text, len, port));
}

/* The loop has written "l4-lb nlb: "; the events since the last packet come first. */
static void note_start(struct stage *st, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	if (lb->pending->len) {
		note_appendf(ctx->note, "[%s] ", lb->pending->str);
		g_string_truncate(lb->pending, 0);
	}
}

/* A source port from the balancer's address to the target: the client's own when free (as the
 * NAT lessons do), else the next free one above 1023. */
static uint16_t source_port(struct stage *st, struct stage_ctx *ctx, uint32_t tip, uint16_t tport, uint8_t proto,
                            uint16_t cport)
{
	const struct l4lb *lb = st->priv;
	if (cport && !rev_live(st, ctx, tip, tport, lb->address, cport, proto))
		return cport;
	uint32_t base = cport >= 1024 ? cport - 1024u : 0;
	for (uint32_t i = 1; i <= 64512; i++) {
		uint16_t port = (uint16_t)(1024 + (base + i) % 64512);
		if (!rev_live(st, ctx, tip, tport, lb->address, port, proto))
			return port;
	}
	return 0;
}

static void count(struct l4lb *lb, struct l4lb_flow *f, const struct packet *p, enum hop_dir dir, int64_t now_ns)
{
	uint32_t len = p->ip.total_len;
	f->count[dir].packets++;
	f->count[dir].bytes += len;
	lb->targets[f->target].packets[dir]++;
	lb->targets[f->target].bytes[dir] += len;
	l4lb_flow_touch(lb, f, now_ns);
}

static void tcp_track(struct l4lb_flow *f, uint8_t flags, bool from_client)
{
	if (flags & TH_RST) {
		f->tcp_state = L4LB_TCP_CLOSED;
		return;
	}
	if (!from_client && f->tcp_state == L4LB_TCP_SYN_SENT)
		f->tcp_state = L4LB_TCP_ESTABLISHED;
	if (flags & TH_FIN) {
		f->marks |= from_client ? L4LB_MARK_FIN_CLIENT : L4LB_MARK_FIN_TARGET;
		f->tcp_state = (f->marks & L4LB_MARK_FIN_CLIENT) && (f->marks & L4LB_MARK_FIN_TARGET) ? L4LB_TCP_CLOSED
		                                                                                  : L4LB_TCP_FIN_WAIT;
	}
}

/* Client to target: insert the proxy protocol header before the first data byte, and shift the
 * sequence numbers of what follows it. */
static enum verdict ppv2_forward(struct stage *st, struct l4lb_flow *f, struct packet *p, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	uint32_t len = tcp_segment_payload_len(p);
	uint32_t seq = tcp_segment_seq(p);
	uint32_t data_seq = seq + ((p->ip.tcp_flags & TH_SYN) ? 1 : 0);
	bool first = f->ppv2 == L4LB_PPV2_PENDING && len > 0;
	bool again = f->ppv2 == L4LB_PPV2_SENT && len > 0 && data_seq == f->ppv2_seq;

	if (!p->payload_off || f->ppv2 == L4LB_PPV2_OFF)
		return VERDICT_FORWARD;
	if (first || again) {
		if (!l4lb_ppv2_insert(p, f)) {
			/* after the sentence of the translation it would have had */
			g_string_append(ctx->note, "; ");
			return stage_drop(ctx, DROP_L4LB_PPV2_NO_ROOM, "%u bytes of data, and the header takes %u more",
			                  len, L4LB_PPV2_LEN);
		}
		ctx->redecode = true;
		if (first) {
			f->ppv2 = L4LB_PPV2_SENT;
			f->ppv2_seq = data_seq;
			lb->totals.ppv2_inserted++;
			note_appendf(ctx->note, "; proxy protocol v2 header (%u bytes) inserted before the first data byte: "
			             "the target's sequence numbers run %u ahead of the client's from here on",
			             L4LB_PPV2_LEN, L4LB_PPV2_LEN);
		} else {
			lb->totals.ppv2_reinserted++;
			note_appendf(ctx->note, "; a retransmission of the first data: the proxy protocol header again");
		}
	} else if (f->ppv2 == L4LB_PPV2_SENT && tcp_seq_after(data_seq, f->ppv2_seq)) {
		tcp_segment_set_seq(p, seq + L4LB_PPV2_LEN);
		note_appendf(ctx->note, "; seq +%u (proxy protocol header)", L4LB_PPV2_LEN);
	}
	return VERDICT_FORWARD;
}

/* Target to client: acknowledgements of the header the client never sent come down by 28. */
static uint32_t ack_to_client(uint32_t v, uint32_t base)
{
	if (tcp_seq_after(v, base + L4LB_PPV2_LEN))
		return v - L4LB_PPV2_LEN;
	if (tcp_seq_after(v, base))
		return base; /* part of the header only: nothing of the client's data */
	return v;
}

static uint32_t ack_to_target(uint32_t v, uint32_t base)
{
	return tcp_seq_after(v, base) ? v + L4LB_PPV2_LEN : v;
}

/* The client's packet of a flow whose target can no longer take it. */
static enum verdict unusable_target(struct stage *st, struct l4lb_flow **fp, struct packet *p, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	struct l4lb_flow *f = *fp;
	const struct l4lb_target *t = &lb->targets[f->target];
	char why[160];

	if (f->proto == IPPROTO_TCP) {
		g_snprintf(why, sizeof why, "entry #%" G_GUINT64_FORMAT " was on %s, which is %s", f->id, t->name,
		           l4lb_target_state_name(t->state));
		l4lb_send_rst(st, ctx, p, why);
		lb->totals.reset++;
		l4lb_flow_event(ctx, st, TABLE_EVENT_EVICTED, f, "target down: connection reset");
		l4lb_flow_remove(lb, f);
		*fp = NULL;
		return stage_drop(ctx, DROP_L4LB_TARGET_DOWN, "%s (AWS NLB resets connections to a target that is "
		                  "unhealthy or deregistered)", why);
	}
	note_appendf(ctx->note, "entry #%" G_GUINT64_FORMAT " moved: %s is %s; ", f->id, t->name,
	             l4lb_target_state_name(t->state));
	lb->totals.moved++;
	l4lb_flow_event(ctx, st, TABLE_EVENT_MOVED, f, "target down: the next datagram picks again");
	l4lb_flow_remove(lb, f);
	*fp = NULL;
	return VERDICT_FORWARD;
}

static enum verdict new_flow(struct stage *st, struct packet *p, struct stage_ctx *ctx, struct l4lb_flow **out)
{
	struct l4lb *lb = st->priv;
	const struct ip4_view *ip = &p->ip;
	int li = listener_find(lb, ip->dst, ip->dport, ip->proto);
	uint32_t slot = 0;

	if (li < 0) {
		char d[16];
		return stage_drop(ctx, DROP_L4LB_NO_LISTENER, "%s:%u/%s", ip4_to_str(ip->dst, d), ip->dport,
		                  ip->proto == IPPROTO_TCP ? "tcp" : "udp");
	}
	struct lb_flow_key key = { ip->src, ip->dst, ip->sport, ip->dport, ip->proto };
	uint32_t h = lb_hash_flow(lb->hash, lb->fields, &key);
	int ti = lb->select->pick(lb->sel, h, &slot);
	if (ti < 0) {
		return stage_drop(ctx, DROP_L4LB_NO_TARGET, "all %u targets are deregistered", lb->n_targets);
	}
	const struct l4lb_target *t = &lb->targets[ti];
	uint16_t tport = t->port ? t->port : ip->dport;
	uint32_t source = ip->src;
	uint16_t sport = ip->sport;
	if (!lb->preserve_client_ip) {
		source = lb->address;
		sport = source_port(st, ctx, t->ip, tport, ip->proto, ip->sport);
		if (!sport) {
			return stage_drop(ctx, DROP_L4LB_NO_SOURCE_PORT, "every port from 1024 to 65535 towards %s is in use",
			                  t->name);
		}
	} else if (rev_live(st, ctx, t->ip, tport, source, sport, ip->proto)) {
		char c[16];
		return stage_drop(ctx, DROP_L4LB_TUPLE_IN_USE, "%s already has a connection from %s:%u through another "
		                  "listener; with the client IP preserved the two would be the same connection to it",
		                  t->name, ip4_to_str(source, c), sport);
	}
	struct l4lb_flow *f = l4lb_flow_alloc(lb, ip->src, ip->sport, ip->dst, ip->dport, ip->proto);
	if (!f) {
		return stage_drop(ctx, DROP_L4LB_FLOW_TABLE_FULL, "max-flows = %u", lb->max_flows);
	}
	f->client = ip->src;
	f->cport = ip->sport;
	f->vip = ip->dst;
	f->vport = ip->dport;
	f->target_ip = t->ip;
	f->tport = tport;
	f->source = source;
	f->sport = sport;
	f->proto = ip->proto;
	f->listener = (uint8_t)li;
	f->target = (uint16_t)ti;
	f->hash = h;
	f->slot = slot;
	f->generation = lb->generation;
	f->created_ns = f->last_ns = ctx->now_ns;
	f->ppv2 = lb->ppv2 && ip->proto == IPPROTO_TCP ? L4LB_PPV2_PENDING : L4LB_PPV2_OFF;
	f->tcp_state = L4LB_TCP_SYN_SENT;
	l4lb_flow_insert(lb, f);
	lb->targets[ti].flows++;
	lb->listeners[li].flows++;
	lb->totals.new_flows++;
	if (lb->fail_open)
		lb->totals.fail_open_flows++;

	note_appendf(ctx->note, "%s %s 0x%08x -> ", lb_hash_fields_name(lb->fields), lb->hash->name, h);
	lb->select->note(lb->sel, slot, ctx->note);
	note_appendf(ctx->note, " -> ");
	note_append_endpoint(ctx->note, t->ip, tport);
	note_appendf(ctx->note, " (new entry #%" G_GUINT64_FORMAT "%s)", f->id,
	             ip->proto == IPPROTO_TCP && (ip->tcp_flags & (TH_SYN | TH_ACK)) != TH_SYN ?
	             ", not a SYN: the connection began before the balancer saw it" : "");
	if (lb->fail_open)
		note_appendf(ctx->note, "; failing open: no target is healthy, so all of them take flows");
	l4lb_flow_event(ctx, st, TABLE_EVENT_CREATED, f, "new flow");
	l4lb_flow_event(ctx, st, TABLE_EVENT_ASSIGNED, f, t->name);
	*out = f;
	return VERDICT_FORWARD;
}

static enum verdict left_to_right(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	struct ip4_view *ip = &p->ip;
	struct l4lb_flow *f = fwd_live(st, ctx, ip->src, ip->sport, ip->dst, ip->dport, ip->proto);
	bool tcp = ip->proto == IPPROTO_TCP;
	enum verdict v;

	if (f && tcp && f->tcp_state == L4LB_TCP_CLOSED && (ip->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		/* a new connection on the ports of a closed one */
		l4lb_flow_event(ctx, st, TABLE_EVENT_EXPIRED, f, "closed; a new SYN reuses its ports");
		l4lb_flow_remove(lb, f);
		f = NULL;
	}
	if (f && !l4lb_target_usable(lb, &lb->targets[f->target])) {
		v = unusable_target(st, &f, p, ctx);
		if (v != VERDICT_FORWARD)
			return v;
	}
	if (!f) {
		v = new_flow(st, p, ctx, &f);
		if (v != VERDICT_FORWARD)
			return v;
	} else {
		note_flow_to_target(ctx->note, f->id, &lb->targets[f->target], f->tport);
		/* first_flow_generation first: while no rebuild came after the first flow, every flow
		 * has the build in use, and generation is in the flow's second cache line */
		if (lb->generation != lb->first_flow_generation && f->generation != lb->generation) {
			int now_pick = lb->select->pick(lb->sel, f->hash, NULL);
			if (now_pick >= 0 && now_pick != f->target)
				note_appendf(ctx->note, " (the flow table keeps it there; the hash alone would now pick %s)",
				             lb->targets[now_pick].name);
		}
	}
	uint32_t vip = ip->dst, client = ip->src;
	uint16_t vport = ip->dport, cport = ip->sport;
	rewrite_ip4_addr(p, ip, ENDPOINT_DST, f->target_ip);
	rewrite_ip4_port(p, ip, ENDPOINT_DST, f->tport);
	if (!lb->preserve_client_ip) {
		rewrite_ip4_addr(p, ip, ENDPOINT_SRC, f->source);
		rewrite_ip4_port(p, ip, ENDPOINT_SRC, f->sport);
		g_string_append(ctx->note, "; source ");
		note_append_endpoint(ctx->note, client, cport);
		g_string_append(ctx->note, " -> ");
		note_append_endpoint(ctx->note, f->source, f->sport);
		if (f->sport != cport && f->created_ns == ctx->now_ns && f->count[DIR_LEFT_TO_RIGHT].packets == 0)
			note_appendf(ctx->note, " (client IP not preserved; port %u toward that target is in use by another "
			             "flow)", cport);
		else
			g_string_append(ctx->note, " (client IP not preserved)");
	}
	(void)vip;
	(void)vport;
	if (tcp) {
		v = ppv2_forward(st, f, p, ctx);
		if (v != VERDICT_FORWARD)
			return v;
		tcp_track(f, ip->tcp_flags, true);
	}
	count(lb, f, p, DIR_LEFT_TO_RIGHT, ctx->now_ns);
	return VERDICT_FORWARD;
}

static enum verdict right_to_left(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	struct ip4_view *ip = &p->ip;
	struct l4lb_flow *f = rev_live(st, ctx, ip->src, ip->sport, ip->dst, ip->dport, ip->proto);

	if (!f) {
		if ((lb->have_address && ip->dst == lb->address) || is_target_endpoint(lb, ip->src, ip->sport)) {
			char s[16], d[16];
			return stage_drop(ctx, DROP_L4LB_NO_FLOW, "%s:%u > %s:%u (its flow expired, or it never came through "
			                  "the balancer)", ip4_to_str(ip->src, s), ip->sport, ip4_to_str(ip->dst, d), ip->dport);
		}
		note_appendf(ctx->note, "not a reply through the balancer: crossed untranslated");
		return VERDICT_FORWARD;
	}
	g_string_append(ctx->note, "reply of ");
	note_flow_id(ctx->note, f->id);
	g_string_append(ctx->note, ": source ");
	note_append_endpoint(ctx->note, ip->src, ip->sport);
	g_string_append(ctx->note, " -> ");
	note_append_endpoint(ctx->note, f->vip, f->vport);
	rewrite_ip4_addr(p, ip, ENDPOINT_SRC, f->vip);
	rewrite_ip4_port(p, ip, ENDPOINT_SRC, f->vport);
	if (!lb->preserve_client_ip) {
		g_string_append(ctx->note, "; destination ");
		note_append_endpoint(ctx->note, ip->dst, ip->dport);
		g_string_append(ctx->note, " -> ");
		note_append_endpoint(ctx->note, f->client, f->cport);
		rewrite_ip4_addr(p, ip, ENDPOINT_DST, f->client);
		rewrite_ip4_port(p, ip, ENDPOINT_DST, f->cport);
	}
	f->marks |= L4LB_MARK_REPLIED;
	if (ip->proto == IPPROTO_TCP) {
		if (f->ppv2 == L4LB_PPV2_SENT) {
			uint32_t before = tcp_segment_ack(p);
			tcp_segment_map_acks(p, ack_to_client, f->ppv2_seq);
			if (tcp_segment_ack(p) != before)
				note_appendf(ctx->note, "; ack -%u (the proxy protocol header the client never sent)", L4LB_PPV2_LEN);
		}
		tcp_track(f, ip->tcp_flags, false);
	}
	count(lb, f, p, DIR_RIGHT_TO_LEFT, ctx->now_ns);
	return VERDICT_FORWARD;
}

static enum verdict l4lb_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	const struct ip4_view *ip = &p->ip;
	bool ports = (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) && ip->has_ports && !ip->is_fragment;

	advance_to(st, ctx->now_ns, ctx);
	note_start(st, ctx);
	if (dir == DIR_LEFT_TO_RIGHT) {
		if (!is_vip(lb, ip->dst)) {
			note_appendf(ctx->note, "not for a listener address: crossed untranslated");
			return VERDICT_FORWARD;
		}
		if (!ports) {
			bool fragment = (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) && (ip->is_fragment || !ip->has_ports);
			char s[16], d[16];
			if (fragment)
				return stage_drop(ctx, DROP_L4LB_NO_PORTS, "%s %s > %s%s", ip->proto == IPPROTO_TCP ? "TCP" : "UDP",
				                  ip4_to_str(ip->src, s), ip4_to_str(ip->dst, d),
				                  ip->is_fragment ? ", a fragment" : ", its header cut short");
			return stage_drop(ctx, DROP_L4LB_NO_LISTENER, "protocol %u to %s: the balancer listens for TCP and "
			                  "UDP only (it does not answer pings)", ip->proto, ip4_to_str(ip->dst, d));
		}
		return left_to_right(st, p, ctx);
	}
	if (!ports) {
		if (lb->have_address && ip->dst == lb->address) {
			char s[16];
			return stage_drop(ctx, DROP_L4LB_NO_FLOW, "protocol %u from %s to the balancer's address, which has "
			                  "no TCP or UDP flow it could belong to", ip->proto, ip4_to_str(ip->src, s));
		}
		note_appendf(ctx->note, "not a reply through the balancer: crossed untranslated");
		return VERDICT_FORWARD;
	}
	return right_to_left(st, p, ctx);
}

/* A packet captured on the client side, after the stage sent it there (a reply). */
static bool reverse_to_client(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	const struct l4lb *lb = st->priv;
	struct ip4_view *ip = &p->ip;

	if (!is_vip(lb, ip->src))
		return true; /* the stage let it cross untranslated */
	if (!(ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) || !ip->has_ports || ip->is_fragment) {
		note_appendf(ctx->note, "a listener address sends only TCP and UDP replies of its flows");
		return false;
	}
	const struct l4lb_flow *f = fwd_peek(lb, ip->dst, ip->dport, ip->src, ip->sport, ip->proto);
	if (!f) {
		note_appendf(ctx->note, "no flow of the balancer has this reply");
		return false;
	}
	rewrite_ip4_addr(p, ip, ENDPOINT_SRC, f->target_ip);
	rewrite_ip4_port(p, ip, ENDPOINT_SRC, f->tport);
	if (!lb->preserve_client_ip) {
		rewrite_ip4_addr(p, ip, ENDPOINT_DST, f->source);
		rewrite_ip4_port(p, ip, ENDPOINT_DST, f->sport);
	}
	if (ip->proto == IPPROTO_TCP && f->ppv2 == L4LB_PPV2_SENT)
		tcp_segment_map_acks(p, ack_to_target, f->ppv2_seq);
	return true;
}

/* A packet captured on the target side, after the stage sent it there (a request). */
static bool reverse_to_target(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	const struct l4lb *lb = st->priv;
	struct ip4_view *ip = &p->ip;

	if (!(ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) || !ip->has_ports || ip->is_fragment)
		return true;
	const struct l4lb_flow *f = rev_peek(lb, ip->dst, ip->dport, ip->src, ip->sport, ip->proto);
	if (f) {
		if (ip->proto == IPPROTO_TCP && f->ppv2 != L4LB_PPV2_OFF) {
			uint32_t seq = tcp_segment_seq(p);
			uint32_t data_seq = seq + ((ip->tcp_flags & TH_SYN) ? 1 : 0);
			if (f->ppv2 == L4LB_PPV2_PENDING || data_seq == f->ppv2_seq)
				l4lb_ppv2_strip(p); /* the first data, or its retransmission */
			else if (tcp_seq_after(data_seq, f->ppv2_seq))
				tcp_segment_set_seq(p, seq - L4LB_PPV2_LEN);
		}
		rewrite_ip4_addr(p, ip, ENDPOINT_DST, f->vip);
		rewrite_ip4_port(p, ip, ENDPOINT_DST, f->vport);
		if (!lb->preserve_client_ip) {
			rewrite_ip4_addr(p, ip, ENDPOINT_SRC, f->client);
			rewrite_ip4_port(p, ip, ENDPOINT_SRC, f->cport);
		}
		return true;
	}
	/* No flow yet: the first packet of one, seen behind the balancer. */
	int li = -1;
	for (unsigned i = 0; i < lb->n_targets && li < 0; i++) {
		const struct l4lb_target *t = &lb->targets[i];
		if (t->ip != ip->dst || (t->port && t->port != ip->dport))
			continue;
		for (unsigned j = 0; j < lb->n_listeners && li < 0; j++)
			if (lb->listeners[j].proto == ip->proto && (t->port || lb->listeners[j].port == ip->dport))
				li = (int)j;
	}
	if (li < 0)
		return true; /* not addressed to a target: it crossed untranslated */
	if (!lb->preserve_client_ip) {
		note_appendf(ctx->note, "the client's address is not in the packet (preserve-client-ip = false) and "
		             "no flow of the balancer has it");
		return false;
	}
	if (ip->proto == IPPROTO_TCP && lb->ppv2)
		l4lb_ppv2_strip(p);
	rewrite_ip4_addr(p, ip, ENDPOINT_DST, lb->listeners[li].vip);
	rewrite_ip4_port(p, ip, ENDPOINT_DST, lb->listeners[li].port);
	return true;
}

static enum reverse_answer l4lb_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	bool undone = dir == DIR_RIGHT_TO_LEFT ? reverse_to_client(st, p, ctx) : reverse_to_target(st, p, ctx);
	return undone ? REVERSE_TRANSLATED : REVERSE_IMPOSSIBLE;
}

/* The flow lookup process() will make, loaded ahead (stage_ops.prefetch). */
static void l4lb_prefetch(const struct stage *st, const struct packet *p, enum hop_dir dir, unsigned step)
{
	const struct l4lb *lb = st->priv;
	const struct ip4_view *ip = &p->ip;

	if ((ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP) || !ip->has_ports || ip->is_fragment)
		return;
	l4lb_flow_prefetch(lb, dir == DIR_LEFT_TO_RIGHT, ip->src, ip->sport, ip->dst, ip->dport, ip->proto, step);
}

static const struct drop_info l4lb_drops[] = { foreach_l4lb_drop(DROP_INFO_ENTRY) };
G_STATIC_ASSERT(G_N_ELEMENTS(l4lb_drops) <= STAGE_MAX_DROPS);

const struct stage_ops l4lb_ops = {
	.type = "l4-lb",
	.summary = "an L4 load balancer like AWS NLB: listeners, a flow hash, Maglev/modulo/rendezvous, "
	           "a flow table, health events",
	.keys = l4lb_keys,
	.drops = l4lb_drops,
	.n_drops = G_N_ELEMENTS(l4lb_drops),
	.configure = l4lb_configure,
	.describe = l4lb_describe,
	.claims = l4lb_claims,
	.process = l4lb_process,
	.reverse = l4lb_reverse,
	.prefetch = l4lb_prefetch,
	.advance = l4lb_advance,
	.table_foreach = l4lb_table_foreach,
	.stats_print = l4lb_stats_print,
	.changes_foreach = l4lb_changes_foreach,
	.destroy = l4lb_destroy,
};

bool l4lb_explain(const struct stage *st, const struct lb_flow_key *k, const struct lb_hash_ops *hash,
                  const enum lb_hash_fields *fields, struct l4lb_choice *out, GString *selection_note)
{
	const struct l4lb *lb;

	if (!st || st->ops != &l4lb_ops)
		return false;
	lb = st->priv;
	memset(out, 0, sizeof *out);
	out->hash = hash ? hash : lb->hash;
	out->fields = fields ? *fields : lb->fields;
	out->select = lb->select;
	out->table_size = lb->table_size;
	out->value = lb_hash_flow(out->hash, out->fields, k);
	out->target = lb->select->pick(lb->sel, out->value, &out->slot);
	out->target_name = out->target >= 0 ? lb->targets[out->target].name : NULL;
	out->has_listener = listener_find(lb, k->dst, k->dport, k->proto) >= 0;
	if (selection_note)
		lb->select->note(lb->sel, out->slot, selection_note);
	return true;
}
