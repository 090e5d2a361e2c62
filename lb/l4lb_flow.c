/* lb/l4lb_flow.c: the L4 balancer's flow table: flows hashed in place, a reverse index, idle lists, expiry at the AWS NLB timeouts.
 *
 * A flow is found by the client's 5-tuple (client:cport > vip:vport) on the way in and by the
 * target's (target:tport > source:sport) on the way back.  The flow array is itself the table by
 * the client's 5-tuple (linear probing), so a client's packet, most of the traffic, costs one
 * cache miss: the flow's first line, which holds its key and everything that packet needs.  The
 * reverse index holds (hash, flow index + 1) pairs.  Idle timeouts follow AWS NLB: 350 s for
 * TCP, 120 s for UDP, counted from the flow's last packet in either direction; a flow idle for
 * exactly the timeout has expired (its next packet is a new flow), one idle a nanosecond less has
 * not.
 *
 * Expiry is exact at every lookup (l4lb_flow_expired); the sweep only reclaims entries.  Each
 * protocol's flows sit in a list in the order they were queued, and a packet only stamps its
 * flow's last_ns: the sweep looks at the oldest entry, removes it if it is idle for the timeout,
 * and queues it again at the young end if it was used since, so every flow is moved at most once
 * per timeout instead of at every packet (which would touch three entries, three cache misses).
 *
 * Invariants: see lb/l4lb-t.h.  Removing a flow shifts later flows of its probe run back (no
 * tombstones), and each moved flow's reverse-index slot and idle-list neighbours follow it: a
 * flow pointer does not survive l4lb_flow_remove().  The table comes from huge_table_new(): its
 * pages cost memory only once a flow lands on them.
 */
#include <stddef.h>
#include <string.h>

#include "common/hugemem.h"
#include "common/stage.h"
#include "lb/l4lb.h"

#define NONE 0u /* as index + 1 */

G_STATIC_ASSERT(sizeof(struct l4lb_flow) == L4LB_FLOW_ALIGN);
G_STATIC_ASSERT(offsetof(struct l4lb_flow, count[1]) == 64); /* a forward packet's fields in one line */

static inline uint32_t mix32(uint32_t h)
{
	/* the MurmurHash3 finaliser: every input bit reaches every output bit */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static inline uint32_t key_hash(uint32_t a, uint16_t pa, uint32_t b, uint16_t pb, uint8_t proto)
{
	uint32_t h = mix32(a ^ 0x9e3779b9u);
	h = mix32(h ^ b);
	return mix32(h ^ ((uint32_t)pa << 16 | pb) ^ ((uint32_t)proto << 24));
}

static inline bool fwd_match(const struct l4lb_flow *f, uint32_t client, uint16_t cport, uint32_t vip,
                             uint16_t vport, uint8_t proto)
{
	return f->client == client && f->cport == cport && f->vip == vip && f->vport == vport && f->proto == proto;
}

static inline bool rev_match(const struct l4lb_flow *f, uint32_t target, uint16_t tport, uint32_t source,
                             uint16_t sport, uint8_t proto)
{
	return f->target_ip == target && f->tport == tport && f->source == source && f->sport == sport &&
	       f->proto == proto;
}

struct l4lb_flow *l4lb_flow_find_fwd(const struct l4lb *lb, uint32_t client, uint16_t cport, uint32_t vip,
                                     uint16_t vport, uint8_t proto)
{
	uint32_t h = key_hash(client, cport, vip, vport, proto);
	for (uint32_t i = h & lb->flows_mask; lb->flows[i].id != 0; i = (i + 1) & lb->flows_mask) {
		struct l4lb_flow *f = &lb->flows[i];
		if (fwd_match(f, client, cport, vip, vport, proto))
			return f;
	}
	return NULL;
}

struct l4lb_flow *l4lb_flow_find_rev(const struct l4lb *lb, uint32_t target, uint16_t tport, uint32_t source,
                                     uint16_t sport, uint8_t proto)
{
	uint32_t h = key_hash(target, tport, source, sport, proto);
	const struct hash_index *ix = &lb->rev;
	for (uint32_t i = hash_index_home(ix, h); ix->slot[i].entry; i = hash_index_next(ix, i)) {
		if (ix->slot[i].hash != h)
			continue;
		struct l4lb_flow *f = &lb->flows[ix->slot[i].entry - 1];
		if (rev_match(f, target, tport, source, sport, proto))
			return f;
	}
	return NULL;
}

/* stage_ops.prefetch for the flow a packet will look up: forward, the flow's own slot (flows are
 * stored where their key hashes, two cache lines each); backward, the reverse index's slot, then
 * the flow it names.  Step 1 follows the probe run that step 0 loaded. */
void l4lb_flow_prefetch(const struct l4lb *lb, bool forward, uint32_t a, uint16_t pa, uint32_t b, uint16_t pb,
                        uint8_t proto, unsigned step)
{
	if (step > 1)
		return; /* two steps load all a lookup reads */
	uint32_t h = key_hash(a, pa, b, pb, proto);
	const struct l4lb_flow *f = NULL;

	if (forward) {
		uint32_t i = h & lb->flows_mask;
		if (step == 1)
			while (lb->flows[i].id != 0 && !fwd_match(&lb->flows[i], a, pa, b, pb, proto))
				i = (i + 1) & lb->flows_mask;
		f = &lb->flows[i];
	} else {
		const struct hash_index *ix = &lb->rev;
		uint32_t i = hash_index_home(ix, h);
		if (step == 0) {
			__builtin_prefetch(&ix->slot[i]);
			return;
		}
		while (ix->slot[i].entry && ix->slot[i].hash != h)
			i = hash_index_next(ix, i);
		if (ix->slot[i].entry)
			f = &lb->flows[ix->slot[i].entry - 1];
	}
	if (f) {
		__builtin_prefetch(f, 1);
		__builtin_prefetch((const char *)f + 64, 1);
	}
}

static uint32_t fwd_home(const struct l4lb_flow *f)
{
	return key_hash(f->client, f->cport, f->vip, f->vport, f->proto);
}

static uint32_t rev_home(const struct l4lb_flow *f)
{
	return key_hash(f->target_ip, f->tport, f->source, f->sport, f->proto);
}

bool l4lb_flow_table_init(struct l4lb *lb, uint32_t max_flows)
{
	uint32_t slots = 16;
	while (slots < 2 * max_flows)
		slots *= 2;
	/* zeroed (every entry empty), touched only where flows land, and, once large enough for huge
	 * pages, aligned on them (so each flow is two whole cache lines) */
	lb->flows = huge_table_new(slots, sizeof(struct l4lb_flow));
	lb->flows_mask = slots - 1;
	lb->max_flows = max_flows;
	return hash_index_init(&lb->rev, slots) && lb->flows;
}

void l4lb_flow_table_free(struct l4lb *lb)
{
	huge_table_free(lb->flows, (size_t)lb->flows_mask + 1, sizeof(struct l4lb_flow));
	hash_index_free(&lb->rev);
}

static unsigned idle_class(const struct l4lb_flow *f)
{
	return f->proto == 6 ? 0 : 1;
}

static void idle_unlink(struct l4lb *lb, struct l4lb_flow *f)
{
	unsigned c = idle_class(f);
	if (f->idle_prev)
		lb->flows[f->idle_prev - 1].idle_next = f->idle_next;
	else
		lb->idle_head[c] = f->idle_next;
	if (f->idle_next)
		lb->flows[f->idle_next - 1].idle_prev = f->idle_prev;
	else
		lb->idle_tail[c] = f->idle_prev;
	f->idle_prev = f->idle_next = NONE;
}

static void idle_append(struct l4lb *lb, struct l4lb_flow *f)
{
	unsigned c = idle_class(f);
	uint32_t idx1 = (uint32_t)(f - lb->flows) + 1;
	f->idle_prev = lb->idle_tail[c];
	f->idle_next = NONE;
	if (lb->idle_tail[c])
		lb->flows[lb->idle_tail[c] - 1].idle_next = idx1;
	else
		lb->idle_head[c] = idx1;
	lb->idle_tail[c] = idx1;
}

struct l4lb_flow *l4lb_flow_alloc(struct l4lb *lb, uint32_t client, uint16_t cport, uint32_t vip, uint16_t vport,
                                  uint8_t proto)
{
	if (lb->live >= lb->max_flows)
		return NULL;
	uint32_t i = key_hash(client, cport, vip, vport, proto) & lb->flows_mask;
	while (lb->flows[i].id != 0)
		i = (i + 1) & lb->flows_mask;
	struct l4lb_flow *f = &lb->flows[i];
	memset(f, 0, sizeof *f);
	f->client = client;
	f->cport = cport;
	f->vip = vip;
	f->vport = vport;
	f->proto = proto;
	return f;
}

void l4lb_flow_insert(struct l4lb *lb, struct l4lb_flow *f)
{
	uint32_t idx1 = (uint32_t)(f - lb->flows) + 1;

	f->id = ++lb->next_id;
	if (f->id == 1)
		lb->first_flow_generation = lb->generation;
	f->queue_ns = f->last_ns;
	hash_index_insert(&lb->rev, rev_home(f), idx1 - 1);
	idle_append(lb, f);
	lb->live++;
	lb->targets[f->target].live++;
}

/* Move the flow at index from to the empty entry to, and tell the reverse index and the idle list. */
static void flow_move(struct l4lb *lb, uint32_t from, uint32_t to)
{
	struct l4lb_flow *g = &lb->flows[to];
	unsigned c;

	*g = lb->flows[from];
	hash_index_repoint(&lb->rev, rev_home(g), from, to);
	c = idle_class(g);
	if (g->idle_prev)
		lb->flows[g->idle_prev - 1].idle_next = to + 1;
	else
		lb->idle_head[c] = to + 1;
	if (g->idle_next)
		lb->flows[g->idle_next - 1].idle_prev = to + 1;
	else
		lb->idle_tail[c] = to + 1;
}

void l4lb_flow_remove(struct l4lb *lb, struct l4lb_flow *f)
{
	uint32_t i = (uint32_t)(f - lb->flows);

	if (!hash_index_remove(&lb->rev, rev_home(f), i))
		g_assert_not_reached(); /* every live flow is in the reverse index */
	idle_unlink(lb, f);
	lb->live--;
	lb->targets[f->target].live--;
	/* backward-shift deletion in the flow array itself: later flows of the probe run move up */
	for (uint32_t j = i;;) {
		j = (j + 1) & lb->flows_mask;
		const struct l4lb_flow *g = &lb->flows[j];
		if (g->id == 0)
			break;
		uint32_t k = fwd_home(g) & lb->flows_mask;
		/* move entry j to the hole at i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			flow_move(lb, j, i);
			i = j;
		}
	}
	lb->flows[i].id = 0;
}

void l4lb_flow_touch(struct l4lb *lb, struct l4lb_flow *f, int64_t now_ns)
{
	(void)lb;
	f->last_ns = now_ns; /* the sweep moves it up when it gets to it */
}

int64_t l4lb_flow_timeout(const struct l4lb *lb, const struct l4lb_flow *f)
{
	return f->proto == 6 ? lb->tcp_idle_ns : lb->udp_idle_ns;
}

bool l4lb_flow_expired(const struct l4lb *lb, const struct l4lb_flow *f, int64_t now_ns)
{
	return f->last_ns + l4lb_flow_timeout(lb, f) <= now_ns;
}

void l4lb_flow_expire(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;

	for (unsigned c = 0; c < 2; c++)
		while (lb->idle_head[c]) {
			struct l4lb_flow *f = &lb->flows[lb->idle_head[c] - 1];
			int64_t timeout = l4lb_flow_timeout(lb, f);
			if (f->last_ns + timeout <= now_ns) {
				l4lb_flow_drop_expired(st, f, ctx);
			} else if (f->queue_ns + timeout <= now_ns) {
				/* used since it was queued: to the young end, stamped now, so that
				 * this loop meets it again only after another timeout */
				idle_unlink(lb, f);
				f->queue_ns = now_ns;
				idle_append(lb, f);
			} else {
				break; /* everything younger was queued less than a timeout ago */
			}
		}
}

void l4lb_flow_drop_expired(struct stage *st, struct l4lb_flow *f, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	lb->totals.expired++;
	l4lb_flow_event(ctx, st, TABLE_EVENT_EXPIRED, f,
	                f->proto == 6 ? "idle for the TCP timeout" : "idle for the UDP timeout");
	l4lb_flow_remove(lb, f);
}

const char *l4lb_tcp_state_name(uint8_t state)
{
	static const char *const names[] = {
		[L4LB_TCP_SYN_SENT] = "SYN_SENT", [L4LB_TCP_ESTABLISHED] = "ESTABLISHED",
		[L4LB_TCP_FIN_WAIT] = "FIN_WAIT", [L4LB_TCP_CLOSED] = "CLOSED",
	};
	return state < G_N_ELEMENTS(names) ? names[state] : "?";
}

void l4lb_flow_row(const struct stage *st, const struct l4lb_flow *f, struct table_row *row)
{
	const struct l4lb *lb = st->priv;
	const struct l4lb_target *t = &lb->targets[f->target];

	memset(row, 0, sizeof *row);
	row->id = f->id;
	row->proto = f->proto;
	row->expires_ns = f->last_ns + l4lb_flow_timeout(lb, f);
	row->state = f->proto == 6 ? l4lb_tcp_state_name(f->tcp_state) : (f->marks & L4LB_MARK_REPLIED) ? "REPLIED" : "UNREPLIED";
	row->orig = (struct flow_tuple){ f->client, f->vip, f->cport, f->vport };
	row->reply = (struct flow_tuple){ f->target_ip, f->source, f->tport, f->sport };
	g_string_printf(lb->flags, "target %s (%s) hash 0x%08x %s %u", t->name, l4lb_target_state_name(t->state),
	                f->hash, lb->select->slot_word, f->slot);
	if (f->ppv2 == L4LB_PPV2_SENT)
		g_string_append(lb->flags, " ppv2-sent");
	else if (f->ppv2 == L4LB_PPV2_PENDING)
		g_string_append(lb->flags, " ppv2-pending");
	if (!lb->preserve_client_ip)
		g_string_append(lb->flags, " source-replaced");
	row->flags = lb->flags->str;
	for (unsigned d = 0; d < 2; d++) {
		row->packets[d] = f->count[d].packets;
		row->bytes[d] = f->count[d].bytes;
	}
}

void l4lb_flow_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind, const struct l4lb_flow *f,
                     const char *why)
{
	struct table_row row;

	if (!ctx || !ctx->tables)
		return; /* nothing records events: do not build the row */
	l4lb_flow_row(st, f, &row);
	stage_table_event(ctx, st, kind, &row, why);
}

void l4lb_table_foreach(const struct stage *st, int64_t now_ns,
                        void (*visit)(const struct table_row *row, void *data), void *data)
{
	const struct l4lb *lb = st->priv;

	/* in queue order, TCP then UDP; flows already idle for their timeout are not shown */
	for (unsigned c = 0; c < 2; c++)
		for (uint32_t i = lb->idle_head[c]; i; i = lb->flows[i - 1].idle_next) {
			const struct l4lb_flow *f = &lb->flows[i - 1];
			struct table_row row;
			if (f->last_ns + l4lb_flow_timeout(lb, f) <= now_ns)
				continue; /* expired, not yet swept */
			l4lb_flow_row(st, f, &row);
			visit(&row, data);
		}
}
