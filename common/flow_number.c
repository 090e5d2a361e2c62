/* common/flow_number.c: the flow numbers of common/flow_number.h, in a fixed table indexed by common/hash_index.h. */
#include <stdlib.h>

#include "common/flow_number.h"
#include "common/hash_index.h"
#include "common/hugemem.h"

/* Addresses, ports and protocol, the lower endpoint first: the same key both ways round. */
struct flow_tuple_key {
	uint32_t a, b;
	uint16_t pa, pb;
	uint8_t proto;
};

struct flow_entry {
	struct flow_tuple_key key;
	uint32_t flow;
};

struct flow_numbers {
	struct hash_index ix;
	struct flow_entry *entry;
	uint32_t capacity, used;
	uint32_t last;
	uint64_t forgotten;
};

static bool tuple_of(const struct packet *p, struct flow_tuple_key *k)
{
	if (p->l3 != L3_IPV4 || p->ip.hdr_len < 20)
		return false;
	const struct ip4_view *ip = p->has_inner ? &p->inner : &p->ip;
	uint16_t sp = ip->has_ports ? ip->sport : 0, dp = ip->has_ports ? ip->dport : 0;
	bool swap = ip->src > ip->dst || (ip->src == ip->dst && sp > dp);
	*k = (struct flow_tuple_key){ .a = swap ? ip->dst : ip->src, .b = swap ? ip->src : ip->dst,
		                      .pa = swap ? dp : sp, .pb = swap ? sp : dp, .proto = ip->proto };
	return true;
}

/* As the NAT's tables hash their keys. */
static uint32_t tuple_hash(const struct flow_tuple_key *k)
{
	return hash_index_key((uint64_t)k->a << 32 | k->b, (uint64_t)k->proto << 32 | (uint64_t)k->pa << 16 | k->pb);
}

static bool tuple_equal(const struct flow_tuple_key *x, const struct flow_tuple_key *y)
{
	return x->a == y->a && x->b == y->b && x->pa == y->pa && x->pb == y->pb && x->proto == y->proto;
}

struct flow_numbers *flow_numbers_new(uint32_t remembered)
{
	struct flow_numbers *fn = calloc(1, sizeof *fn);
	if (!fn)
		return NULL;
	fn->capacity = remembered ? remembered : 1;
	/* Sparse: a capture of ten flows touches a few pages, not the whole table. */
	fn->entry = huge_table_new_sparse(fn->capacity, sizeof *fn->entry);
	if (!fn->entry || !hash_index_init(&fn->ix, 2 * (uint64_t)fn->capacity)) {
		flow_numbers_free(fn);
		return NULL;
	}
	return fn;
}

void flow_numbers_free(struct flow_numbers *fn)
{
	if (!fn)
		return;
	hash_index_free(&fn->ix);
	huge_table_free(fn->entry, fn->capacity, sizeof *fn->entry);
	free(fn);
}

static const struct flow_entry *entry_find(const struct flow_numbers *fn, const struct flow_tuple_key *k, uint32_t h)
{
	for (uint32_t i = hash_index_home(&fn->ix, h); fn->ix.slot[i].entry; i = hash_index_next(&fn->ix, i)) {
		const struct flow_entry *e = &fn->entry[fn->ix.slot[i].entry - 1];
		if (fn->ix.slot[i].hash == h && tuple_equal(&e->key, k))
			return e;
	}
	return NULL;
}

uint32_t flow_number_bind(struct flow_numbers *fn, const struct packet *p, uint32_t flow)
{
	struct flow_tuple_key k;
	if (!tuple_of(p, &k))
		return flow ? flow : ++fn->last;
	uint32_t h = tuple_hash(&k);
	const struct flow_entry *e = entry_find(fn, &k, h);
	if (e)
		return e->flow;
	if (!flow)
		flow = ++fn->last;
	if (fn->used == fn->capacity) {
		fn->forgotten++;
		return flow;
	}
	fn->entry[fn->used] = (struct flow_entry){ .key = k, .flow = flow };
	hash_index_insert(&fn->ix, h, fn->used);
	fn->used++;
	return flow;
}

void flow_numbers_prefetch(const struct flow_numbers *fn, const struct packet *p, unsigned step)
{
	struct flow_tuple_key k;
	if (!tuple_of(p, &k))
		return;
	uint32_t h = tuple_hash(&k);
	uint32_t i = hash_index_home(&fn->ix, h);
	if (step == 0) {
		__builtin_prefetch(&fn->ix.slot[i]);
		return;
	}
	for (; fn->ix.slot[i].entry; i = hash_index_next(&fn->ix, i))
		if (fn->ix.slot[i].hash == h) {
			__builtin_prefetch(&fn->entry[fn->ix.slot[i].entry - 1]);
			return;
		}
}

uint64_t flow_numbers_forgotten(const struct flow_numbers *fn)
{
	return fn->forgotten;
}
