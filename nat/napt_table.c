/* nat/napt_table.c: the napt stage's mapping and session pools, open-addressing indexes and timer lists (RFC 4787 section 3).
 *
 * Everything is sized once, from `max-mappings`, when the scenario is loaded: a packet never
 * allocates.  Each index has a power-of-two number of slots, at least twice the pool, so a probe
 * sequence stays short (linear probing, load at most one half); deletion shifts the following
 * entries back instead of leaving tombstones, so a long replay does not slow down.
 *
 * Sized is not touched: the pools hand out never-used entries in order before reusing freed ones
 * (pool_take), and the indexes stay on 4 KB pages until they are dense, so the memory a replay
 * takes follows its live entries, not `max-mappings` (a 29-packet lesson at 16 million mappings
 * needs no more than at a thousand).
 *
 * Invariants: see nat/napt-t.h.  A free mapping or session has id 0 and is on its pool's free list.
 */
#include <stdlib.h>
#include <string.h>

#include "common/hash_index.h"
#include "common/hugemem.h"
#include "nat/napt.h"

static inline uint32_t key_hash(uint8_t proto, uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2)
{
	return hash_index_key((uint64_t)a1 << 32 | a2, (uint64_t)proto << 32 | (uint64_t)p1 << 16 | p2);
}

/* ---- Keys of each index --------------------------------------------------------------------- */

static uint32_t sess_in_hash(const struct napt_session *s)
{
	return key_hash(s->proto, s->iaddr, s->iport, s->raddr, s->rport);
}

static uint32_t sess_out_hash(const struct napt_session *s)
{
	return key_hash(s->proto, s->eaddr, s->eport, s->raddr, s->rport);
}

static uint32_t map_in_hash(const struct napt_mapping *m)
{
	return key_hash(m->proto, m->iaddr, m->iport, m->raddr, m->rport);
}

static uint32_t map_ext_hash(const struct napt_mapping *m)
{
	return key_hash(m->proto, m->eaddr, m->eport, 0, 0);
}

static uint32_t dest_hash(uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport)
{
	return key_hash(proto, eaddr, 0, raddr, rport);
}

/* The fields nf_nat's and nf_conntrack's rules need (seq_end, stream_at_ms) share the padding that
 * was there: the pool of sessions is what a large table is made of. */
G_STATIC_ASSERT(sizeof(struct napt_session) == 80);

/* A session is larger than a cache line (80 bytes), so most straddle two: the key is in the first
 * and the timer and counters the packet updates are in the second.  Ask for both lines at once, so
 * that the second miss overlaps the first instead of following it. */
static inline void session_prefetch(const struct napt_session *s)
{
	__builtin_prefetch((const char *)(s + 1) - 1, 1);
}

uint32_t napt_session_find_in(const struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                              uint16_t rport)
{
	const struct hash_index *ix = &nat->sess_in;
	uint32_t h = key_hash(proto, iaddr, iport, raddr, rport);
	for (uint32_t i = h & ix->mask; ix->slot[i].entry; i = (i + 1) & ix->mask) {
		if (ix->slot[i].hash != h)
			continue;
		const struct napt_session *s = &nat->sess[ix->slot[i].entry - 1];
		session_prefetch(s);
		if (s->iaddr == iaddr && s->raddr == raddr && s->iport == iport && s->rport == rport && s->proto == proto)
			return ix->slot[i].entry - 1;
	}
	return NAPT_NONE;
}

uint32_t napt_session_find_out(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                               uint16_t rport)
{
	const struct hash_index *ix = &nat->sess_out;
	uint32_t h = key_hash(proto, eaddr, eport, raddr, rport);
	for (uint32_t i = h & ix->mask; ix->slot[i].entry; i = (i + 1) & ix->mask) {
		if (ix->slot[i].hash != h)
			continue;
		const struct napt_session *s = &nat->sess[ix->slot[i].entry - 1];
		session_prefetch(s);
		if (s->eaddr == eaddr && s->raddr == raddr && s->eport == eport && s->rport == rport && s->proto == proto)
			return ix->slot[i].entry - 1;
	}
	return NAPT_NONE;
}

/* The three steps of stage_ops.prefetch for the session a packet will look up (outbound: by its
 * inside key in sess_in; inbound: by its external key in sess_out): the index slot; then the
 * session the slot names and its timer link; then the links of its neighbours on the timer list,
 * which napt_timer_arm() relinks when the packet refreshes it.  Each step reads only what the
 * step before loaded. */
void napt_session_prefetch(const struct napt *nat, bool outbound, uint8_t proto, uint32_t addr, uint16_t port,
                           uint32_t raddr, uint16_t rport, unsigned step)
{
	const struct hash_index *ix = outbound ? &nat->sess_in : &nat->sess_out;
	uint32_t h = key_hash(proto, addr, port, raddr, rport);
	uint32_t i = h & ix->mask;

	if (step == 0) {
		__builtin_prefetch(&ix->slot[i]);
		return;
	}
	while (ix->slot[i].entry && ix->slot[i].hash != h)
		i = (i + 1) & ix->mask;
	if (!ix->slot[i].entry)
		return; /* a new flow: nothing to load */
	const struct napt_session *s = &nat->sess[ix->slot[i].entry - 1];
	if (step == 1) {
		__builtin_prefetch(s, 1);
		session_prefetch(s);
		__builtin_prefetch(&nat->tlinks[ix->slot[i].entry - 1]);
		return;
	}
	const struct napt_timer_link *l = &nat->tlinks[ix->slot[i].entry - 1];
	if (l->prev != NAPT_NONE)
		__builtin_prefetch(&nat->tlinks[l->prev], 1);
	if (l->next != NAPT_NONE)
		__builtin_prefetch(&nat->tlinks[l->next], 1);
}

uint32_t napt_mapping_find_in(const struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                              uint16_t rport)
{
	const struct hash_index *ix = &nat->map_in;
	uint32_t h = key_hash(proto, iaddr, iport, raddr, rport);
	for (uint32_t i = h & ix->mask; ix->slot[i].entry; i = (i + 1) & ix->mask) {
		if (ix->slot[i].hash != h)
			continue;
		const struct napt_mapping *m = &nat->maps[ix->slot[i].entry - 1];
		if (m->iaddr == iaddr && m->raddr == raddr && m->iport == iport && m->rport == rport && m->proto == proto)
			return ix->slot[i].entry - 1;
	}
	return NAPT_NONE;
}

uint32_t napt_mapping_find_ext(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport)
{
	const struct hash_index *ix = &nat->map_ext;
	if (!ix->slot)
		return NAPT_NONE;
	uint32_t h = key_hash(proto, eaddr, eport, 0, 0);
	for (uint32_t i = h & ix->mask; ix->slot[i].entry; i = (i + 1) & ix->mask) {
		if (ix->slot[i].hash != h)
			continue;
		const struct napt_mapping *m = &nat->maps[ix->slot[i].entry - 1];
		if (m->eaddr == eaddr && m->eport == eport && m->proto == proto)
			return ix->slot[i].entry - 1;
	}
	return NAPT_NONE;
}

static uint32_t dest_find(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport)
{
	const struct hash_index *ix = &nat->dest_ix;
	uint32_t h = dest_hash(proto, eaddr, raddr, rport);
	for (uint32_t i = h & ix->mask; ix->slot[i].entry; i = (i + 1) & ix->mask) {
		if (ix->slot[i].hash != h)
			continue;
		const struct napt_dest *d = &nat->dests[ix->slot[i].entry - 1];
		if (d->eaddr == eaddr && d->raddr == raddr && d->rport == rport && d->proto == proto)
			return ix->slot[i].entry - 1;
	}
	return NAPT_NONE;
}

uint32_t napt_dest_count(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport)
{
	if (!nat->dests)
		return 0;
	uint32_t d = dest_find(nat, proto, eaddr, raddr, rport);
	return d == NAPT_NONE ? 0 : nat->dests[d].count;
}

uint32_t napt_dest_ports_held(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport,
                              int parity)
{
	if (!nat->dests)
		return UINT32_MAX;
	uint32_t d = dest_find(nat, proto, eaddr, raddr, rport);
	if (d == NAPT_NONE)
		return 0;
	const struct napt_dest *x = &nat->dests[d];
	return parity < 0 ? x->in_range[0] + x->in_range[1] : x->in_range[parity & 1];
}

/* ---- Pools ----------------------------------------------------------------------------------- */

bool napt_table_init(struct napt *nat, uint32_t cap)
{
	nat->cap = cap;
	nat->maps = huge_table_new(cap, sizeof(struct napt_mapping));
	nat->sess = huge_table_new(cap, sizeof(struct napt_session));
	nat->tlinks = huge_table_new(cap, sizeof(struct napt_timer_link));
	if (!nat->maps || !nat->sess || !nat->tlinks)
		return false;
	/* Nothing is written here: the pools' memory is touched as entries are first handed out
	 * (pool_take), so start-up costs the same at 16 million mappings as at a thousand. */
	nat->free_map = nat->free_sess = 0;
	nat->fresh_map = nat->fresh_sess = 0;
	if (!hash_index_init(&nat->sess_in, 2ull * cap) || !hash_index_init(&nat->sess_out, 2ull * cap) || !hash_index_init(&nat->map_in, 2ull * cap))
		return false;
	if (!nat->cfg.port_overlapping && (!hash_index_init(&nat->map_ext, 2ull * cap) || !napt_ports_init(nat)))
		return false;
	/* Per-destination counters serve max-per-destination (AWS), and with port overlapping they
	 * tell napt_ports.c that every port is taken towards a destination without asking port by
	 * port. */
	if (nat->cfg.max_per_destination || nat->cfg.port_overlapping) {
		nat->dests = huge_table_new(cap, sizeof(struct napt_dest));
		if (!nat->dests || !hash_index_init(&nat->dest_ix, 2ull * cap))
			return false;
		nat->free_dest = 0;
		nat->fresh_dest = 0;
	}
	for (unsigned t = 0; t < NAPT_TO_N; t++)
		nat->timers[t].head = nat->timers[t].tail = NAPT_NONE;
	nat->next_map_id = nat->next_sess_id = 1;
	return true;
}

void napt_table_free(struct napt *nat)
{
	huge_table_free(nat->maps, nat->cap, sizeof(struct napt_mapping));
	huge_table_free(nat->sess, nat->cap, sizeof(struct napt_session));
	huge_table_free(nat->tlinks, nat->cap, sizeof(struct napt_timer_link));
	huge_table_free(nat->dests, nat->cap, sizeof(struct napt_dest));
	hash_index_free(&nat->sess_in);
	hash_index_free(&nat->sess_out);
	hash_index_free(&nat->map_in);
	hash_index_free(&nat->map_ext);
	hash_index_free(&nat->dest_ix);
	napt_ports_free(nat);
	nat->maps = NULL;
	nat->sess = NULL;
	nat->tlinks = NULL;
	nat->dests = NULL;
}

size_t napt_table_bytes(const struct napt *nat)
{
	size_t b = (size_t)nat->cap * (sizeof(struct napt_mapping) + sizeof(struct napt_session) +
	                               sizeof(struct napt_timer_link));
	if (nat->dests)
		b += (size_t)nat->cap * sizeof(struct napt_dest);
	if (nat->port_sets)
		b += (size_t)NAPT_PORT_PROTOS * nat->cfg.n_external * sizeof(struct napt_port_set);
	return b + hash_index_bytes(&nat->sess_in) + hash_index_bytes(&nat->sess_out) + hash_index_bytes(&nat->map_in) + hash_index_bytes(&nat->map_ext) +
	       hash_index_bytes(&nat->dest_ix);
}

/* Take the head of a pool's free list.  The list is the entries freed so far (last freed first),
 * then, implicitly, the never-used entries from *fresh up: the head equals *fresh exactly when no
 * freed entry is left, and the never-used entry after it becomes the head.  So the list is in the
 * order an explicit list built at start-up would be, *head is NAPT_NONE only when the pool is
 * full, and no entry is written before it is used.  link is the taken entry's list link. */
static uint32_t pool_take(uint32_t *head, uint32_t *fresh, uint32_t cap, uint32_t link)
{
	uint32_t i = *head;
	if (i == *fresh) {
		*fresh = i + 1;
		*head = i + 1 < cap ? i + 1 : NAPT_NONE;
	} else {
		*head = link;
	}
	return i;
}

uint32_t napt_mapping_new(struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                          uint16_t rport, uint32_t eaddr, uint16_t eport, uint8_t flags)
{
	uint32_t i = nat->free_map;
	if (i == NAPT_NONE)
		return NAPT_NONE;
	struct napt_mapping *m = &nat->maps[i];
	pool_take(&nat->free_map, &nat->fresh_map, nat->cap, m->sessions);
	*m = (struct napt_mapping){ .iaddr = iaddr, .eaddr = eaddr, .raddr = raddr, .iport = iport, .eport = eport,
		                    .rport = rport, .proto = proto, .flags = flags, .id = nat->next_map_id++,
		                    .sessions = NAPT_NONE };
	if (flags & NAPT_MAP_INDEXED)
		hash_index_insert(&nat->map_in, map_in_hash(m), i);
	if (nat->map_ext.slot && !(flags & NAPT_MAP_OWNS_PORT) && napt_mapping_find_ext(nat, proto, eaddr, eport) == NAPT_NONE)
		m->flags |= NAPT_MAP_OWNS_PORT;
	if (m->flags & NAPT_MAP_OWNS_PORT) {
		hash_index_insert(&nat->map_ext, map_ext_hash(m), i);
		napt_ports_hold(nat, proto, eaddr, eport);
	}
	nat->n_maps++;
	nat->stats.mappings_created++;
	if (nat->n_maps > nat->stats.peak_mappings)
		nat->stats.peak_mappings = nat->n_maps;
	return i;
}

static void mapping_free(struct napt *nat, uint32_t i)
{
	struct napt_mapping *m = &nat->maps[i];
	if (m->flags & NAPT_MAP_INDEXED)
		hash_index_remove(&nat->map_in, map_in_hash(m), i);
	if (m->flags & NAPT_MAP_OWNS_PORT) {
		hash_index_remove(&nat->map_ext, map_ext_hash(m), i);
		napt_ports_release(nat, m->proto, m->eaddr, m->eport);
	}
	m->id = 0;
	m->sessions = nat->free_map;
	nat->free_map = i;
	nat->n_maps--;
}

/* Is eport one of `ports` (port_min-port_max)?  Then it counts in its destination's in_range. */
static bool port_in_range(const struct napt *nat, uint16_t eport)
{
	return eport >= nat->cfg.port_min && eport <= nat->cfg.port_max;
}

static uint32_t dest_ref(struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport, uint16_t eport)
{
	uint32_t d = dest_find(nat, proto, eaddr, raddr, rport);
	if (d == NAPT_NONE) {
		d = nat->free_dest;
		if (d == NAPT_NONE) /* cannot happen: one counter per session at most */
			return NAPT_NONE;
		pool_take(&nat->free_dest, &nat->fresh_dest, nat->cap, nat->dests[d].next_free);
		nat->dests[d] = (struct napt_dest){ .eaddr = eaddr, .raddr = raddr, .rport = rport, .proto = proto };
		hash_index_insert(&nat->dest_ix, dest_hash(proto, eaddr, raddr, rport), d);
	}
	nat->dests[d].count++;
	if (port_in_range(nat, eport))
		nat->dests[d].in_range[eport & 1]++;
	return d;
}

static void dest_unref(struct napt *nat, uint32_t d, uint16_t eport)
{
	struct napt_dest *x = &nat->dests[d];
	if (port_in_range(nat, eport))
		x->in_range[eport & 1]--;
	if (--x->count)
		return;
	hash_index_remove(&nat->dest_ix, dest_hash(x->proto, x->eaddr, x->raddr, x->rport), d);
	x->next_free = nat->free_dest;
	nat->free_dest = d;
}

static void timer_unlink(struct napt *nat, uint32_t s)
{
	struct napt_timer_link *x = &nat->tlinks[s];
	struct napt_timer_list *l = &nat->timers[nat->sess[s].tclass];
	if (x->prev != NAPT_NONE)
		nat->tlinks[x->prev].next = x->next;
	else
		l->head = x->next;
	if (x->next != NAPT_NONE)
		nat->tlinks[x->next].prev = x->prev;
	else
		l->tail = x->prev;
	x->prev = x->next = NAPT_NONE;
}

static void timer_append(struct napt *nat, uint32_t s)
{
	struct napt_timer_link *x = &nat->tlinks[s];
	struct napt_timer_list *l = &nat->timers[nat->sess[s].tclass];
	x->prev = l->tail;
	x->next = NAPT_NONE;
	if (l->tail != NAPT_NONE)
		nat->tlinks[l->tail].next = s;
	else
		l->head = s;
	l->tail = s;
}

uint32_t napt_session_new(struct napt *nat, uint32_t m, uint32_t raddr, uint16_t rport, int64_t now_ns)
{
	uint32_t i = nat->free_sess;
	if (i == NAPT_NONE)
		return NAPT_NONE;
	struct napt_session *s = &nat->sess[i];
	struct napt_mapping *map = &nat->maps[m];
	pool_take(&nat->free_sess, &nat->fresh_sess, nat->cap, s->next_in_mapping);
	*s = (struct napt_session){ .iaddr = map->iaddr, .eaddr = map->eaddr, .raddr = raddr, .iport = map->iport,
		                    .eport = map->eport, .rport = rport, .proto = map->proto, .mapping = m, .map_id = map->id,
		                    .next_in_mapping = map->sessions, .id = nat->next_sess_id++, .dest = NAPT_NONE,
		                    .tclass = NAPT_TO_OTHER };
	nat->tlinks[i] = (struct napt_timer_link){ NAPT_NONE, NAPT_NONE };
	map->sessions = i;
	map->n_sessions++;
	hash_index_insert(&nat->sess_in, sess_in_hash(s), i);
	hash_index_insert(&nat->sess_out, sess_out_hash(s), i);
	if (nat->dests)
		s->dest = dest_ref(nat, s->proto, s->eaddr, raddr, rport, s->eport);
	s->expires_ns = now_ns;
	timer_append(nat, i);
	nat->n_sess++;
	nat->stats.sessions_created++;
	return i;
}

void napt_session_free(struct napt *nat, uint32_t i)
{
	struct napt_session *s = &nat->sess[i];
	struct napt_mapping *m = &nat->maps[s->mapping];

	timer_unlink(nat, i);
	hash_index_remove(&nat->sess_in, sess_in_hash(s), i);
	hash_index_remove(&nat->sess_out, sess_out_hash(s), i);
	if (s->dest != NAPT_NONE)
		dest_unref(nat, s->dest, s->eport);
	/* Unlink from the mapping's list (short: one session per remote endpoint). */
	for (uint32_t *link = &m->sessions; *link != NAPT_NONE; link = &nat->sess[*link].next_in_mapping)
		if (*link == i) {
			*link = s->next_in_mapping;
			break;
		}
	if (--m->n_sessions == 0)
		mapping_free(nat, s->mapping);
	s->id = 0;
	s->next_in_mapping = nat->free_sess;
	nat->free_sess = i;
	nat->n_sess--;
}

void napt_timer_arm(struct napt *nat, uint32_t i, enum napt_timeout tclass, int64_t now_ns)
{
	struct napt_session *s = &nat->sess[i];
	int64_t t = now_ns > nat->clock_ns ? now_ns : nat->clock_ns; /* keeps every list sorted */
	int64_t expires = t + nat->timeout_ns[tclass];
	/* Already last on its list with this expiry: nothing to move (the common case of a burst). */
	if (s->tclass == tclass && s->expires_ns == expires && nat->timers[tclass].tail == i)
		return;
	timer_unlink(nat, i); /* from the list of its old class */
	s->tclass = (uint8_t)tclass;
	s->expires_ns = expires;
	timer_append(nat, i);
}

uint32_t napt_timer_first(const struct napt *nat, enum napt_timeout tclass)
{
	return nat->timers[tclass].head;
}
