/* tests/bench_hash_index.c: the shared open-addressing index (common/hash_index.c) against GHashTable on the NAT's own keys: insert, find, miss, remove.
 *
 * Not a test (no test_ prefix: make test does not run it); `make bench` calls it, or by hand:
 *   build/tests/bench_hash_index [ENTRIES]        (default 1,000,000)
 *
 * Both tables map a session's 5-tuple to its index in an array of sessions, as nat/napt_table.c
 * does: the index holds (index + 1, hash) and compares the key in the session; GHashTable holds
 * pointers to the sessions with a hash and an equality function over the same key.  Lookups go
 * in a random order, so both pay the cache misses a replay of that many flows pays.  It prints
 * nanoseconds per operation and GHashTable's time over the index's, best of BENCH_ROUNDS, and
 * never fails on a slow machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include "common/hash_index.h"

#define BENCH_ROUNDS 3

struct session {
	uint32_t iaddr, raddr;
	uint16_t iport, rport;
	uint8_t proto;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The NAT's key hash (nat/napt_table.c): murmur3's 64-bit finaliser over the two key words. */
static uint32_t session_hash(const struct session *s)
{
	uint64_t h = ((uint64_t)s->iaddr << 32 | s->raddr) ^
	             (((uint64_t)s->proto << 32 | (uint64_t)s->iport << 16 | s->rport) * 0x9e3779b97f4a7c15ull);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

static bool session_equal(const struct session *a, const struct session *b)
{
	return a->iaddr == b->iaddr && a->raddr == b->raddr && a->iport == b->iport && a->rport == b->rport &&
	       a->proto == b->proto;
}

static guint g_session_hash(gconstpointer p)
{
	return session_hash(p);
}

static gboolean g_session_equal(gconstpointer a, gconstpointer b)
{
	return session_equal(a, b);
}

static uint32_t index_find(const struct hash_index *ix, const struct session *pool, const struct session *key)
{
	uint32_t h = session_hash(key);
	for (uint32_t i = hash_index_home(ix, h); ix->slot[i].entry; i = hash_index_next(ix, i))
		if (ix->slot[i].hash == h && session_equal(&pool[ix->slot[i].entry - 1], key))
			return ix->slot[i].entry - 1;
	return UINT32_MAX;
}

struct timing {
	double insert, find, miss, remove; /* seconds, best of the rounds */
};

static void best(double *slot, double t)
{
	if (*slot == 0 || t < *slot)
		*slot = t;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000000;
	struct session *pool = g_new(struct session, n), *absent = g_new(struct session, n);
	uint32_t *order = g_new(uint32_t, n);
	struct timing ix_t = { 0 }, gh_t = { 0 };
	uint64_t found = 0;
	GRand *rng = g_rand_new_with_seed(7);

	if (n < 16) {
		fprintf(stderr, "bench_hash_index: ENTRIES must be 16 or more\n");
		return 2;
	}
	/* Inside hosts of a /16, random ports, to a few thousand remotes, as a carrier NAT sees. */
	for (uint32_t i = 0; i < n; i++) {
		pool[i] = (struct session){ .iaddr = 0x0a000000u | (i & 0xffff), .raddr = 0xc6336400u | g_rand_int_range(rng, 0, 4096),
		                            .iport = (uint16_t)(1024 + i / 0x10000 * 7 + (i % 97)), .rport = 443, .proto = 6 };
		absent[i] = pool[i];
		absent[i].rport = 80;
		order[i] = i;
	}
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)g_rand_int_range(rng, 0, (gint32)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int round = 0; round < BENCH_ROUNDS; round++) {
		struct hash_index ix;
		if (!hash_index_init(&ix, 2ull * n)) {
			fprintf(stderr, "bench_hash_index: out of memory\n");
			return 1;
		}
		double t0 = now_s();
		for (uint32_t i = 0; i < n; i++)
			hash_index_insert(&ix, session_hash(&pool[i]), i);
		double t1 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += index_find(&ix, pool, &pool[order[i]]) == order[i];
		double t2 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += index_find(&ix, pool, &absent[order[i]]) == UINT32_MAX;
		double t3 = now_s();
		for (uint32_t i = 0; i < n; i++)
			hash_index_remove(&ix, session_hash(&pool[order[i]]), order[i]);
		double t4 = now_s();
		hash_index_free(&ix);
		best(&ix_t.insert, t1 - t0);
		best(&ix_t.find, t2 - t1);
		best(&ix_t.miss, t3 - t2);
		best(&ix_t.remove, t4 - t3);

		/* GHashTable has no way to be sized up front: it grows as it fills, as it would in a stage. */
		GHashTable *gh = g_hash_table_new(g_session_hash, g_session_equal);
		t0 = now_s();
		for (uint32_t i = 0; i < n; i++)
			g_hash_table_add(gh, &pool[i]);
		t1 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += g_hash_table_lookup(gh, &pool[order[i]]) == &pool[order[i]];
		t2 = now_s();
		for (uint32_t i = 0; i < n; i++)
			found += g_hash_table_lookup(gh, &absent[order[i]]) == NULL;
		t3 = now_s();
		for (uint32_t i = 0; i < n; i++)
			g_hash_table_remove(gh, &pool[order[i]]);
		t4 = now_s();
		g_hash_table_unref(gh);
		best(&gh_t.insert, t1 - t0);
		best(&gh_t.find, t2 - t1);
		best(&gh_t.miss, t3 - t2);
		best(&gh_t.remove, t4 - t3);
	}
	if (found != (uint64_t)4 * n * BENCH_ROUNDS) {
		fprintf(stderr, "bench_hash_index: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " lookups answered right\n",
		        found, (uint64_t)4 * n * BENCH_ROUNDS);
		return 1;
	}
	printf("hash index against GHashTable, %u sessions (best of %d, ns per operation, every lookup right)\n", n,
	       BENCH_ROUNDS);
	printf("  %-10s %12s %12s %10s\n", "operation", "hash_index", "GHashTable", "ratio");
	const char *names[] = { "insert", "find", "miss", "remove" };
	const double a[] = { ix_t.insert, ix_t.find, ix_t.miss, ix_t.remove };
	const double b[] = { gh_t.insert, gh_t.find, gh_t.miss, gh_t.remove };
	for (int i = 0; i < 4; i++)
		printf("  %-10s %12.1f %12.1f %10.2f\n", names[i], a[i] / n * 1e9, b[i] / n * 1e9, b[i] / a[i]);
	printf("  (ratio = GHashTable's time over the index's; above 1, the index is faster)\n");
	g_rand_free(rng);
	g_free(pool);
	g_free(absent);
	g_free(order);
	return 0;
}
