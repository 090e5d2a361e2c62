/* common/hash_index.h: an open-addressing index from a key's hash to an entry of a table the caller keeps (linear probing, backward-shift deletion; Knuth TAOCP vol. 3, 6.4, algorithm R).
 *
 * The NAT's mapping and session tables and the balancer's reverse flow index all look entries up
 * this way.  A slot holds the entry's index + 1 (0: empty) beside its key's 32-bit hash, so a
 * probe passes other keys, and a deletion moves them, without reading their entries: the caller
 * compares the hash, then its own key.  Deletion shifts the following slots of the probe run
 * back instead of leaving tombstones, so a long replay does not slow down.
 *
 * Sized once (a power of two of slots) and never grown: the caller keeps the load at most one
 * half.  Entries land at random, so the slots start on 4 KB pages (on 2 MB pages each of the
 * first entries would cost 2 MB) and move to huge pages at one entry per 4 KB page, when nearly
 * every small page is touched anyway and the TLB is what a lookup pays for (common/hugemem.h).
 * tests/bench_hash_index.c measures it against GHashTable on the NAT's keys (make bench): with a
 * million sessions, finding one took 37 ns against GHashTable's 68, inserting 34 against 120.
 */
#ifndef NATLB_HASH_INDEX_H
#define NATLB_HASH_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_index_slot {
	uint32_t entry; /* index + 1; 0: empty */
	uint32_t hash;
};

struct hash_index {
	struct hash_index_slot *slot; /* entry and hash side by side: one cache line per probe */
	uint32_t mask;
	uint32_t entries;             /* slots in use */
	uint32_t huge_at;             /* entries at which the slots move to 2 MB pages (UINT32_MAX: done) */
};

/* At least min_slots slots (a power of two, 16 or more); false when out of memory or above 2^31. */
bool hash_index_init(struct hash_index *ix, uint64_t min_slots);
void hash_index_free(struct hash_index *ix);
size_t hash_index_bytes(const struct hash_index *ix);

void hash_index_insert(struct hash_index *ix, uint32_t hash, uint32_t entry);
/* Remove entry (whose key hashes to hash); false when it is not there. */
bool hash_index_remove(struct hash_index *ix, uint32_t hash, uint32_t entry);
/* The entry at index from moved to index to: its slot follows it. */
void hash_index_repoint(struct hash_index *ix, uint32_t hash, uint32_t from, uint32_t to);

/* murmur3's 64-bit finaliser (fmix64): every input bit reaches every output bit, so keys that
 * differ only in their low bits (neighbouring addresses and ports) land far apart. */
static inline uint64_t hash_fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* A key of two words as a slot hash: never 0, so an empty slot's hash never matches. */
static inline uint32_t hash_index_key(uint64_t a, uint64_t b)
{
	return (uint32_t)hash_fmix64(a ^ (b * 0x9e3779b97f4a7c15ull)) | 1u;
}

/* A lookup walks the probe run from the hash's home slot to the first empty slot:
 *   for (i = hash_index_home(ix, h); ix->slot[i].entry; i = hash_index_next(ix, i))
 *           if (ix->slot[i].hash == h && key matches table[ix->slot[i].entry - 1]) ... */
static inline uint32_t hash_index_home(const struct hash_index *ix, uint32_t hash)
{
	return hash & ix->mask;
}

static inline uint32_t hash_index_next(const struct hash_index *ix, uint32_t i)
{
	return (i + 1) & ix->mask;
}

#endif
