/* common/hash_index.c: the open-addressing index of common/hash_index.h. */
#include <string.h>

#include "common/hash_index.h"
#include "common/hugemem.h"

bool hash_index_init(struct hash_index *ix, uint64_t min_slots)
{
	uint64_t n = 16;
	while (n < min_slots)
		n <<= 1;
	memset(ix, 0, sizeof *ix);
	if (n > (1ull << 31))
		return false;
	ix->slot = huge_table_new_sparse(n, sizeof(struct hash_index_slot));
	ix->mask = (uint32_t)n - 1;
	ix->huge_at = (uint32_t)(n * sizeof(struct hash_index_slot) / 4096);
	return ix->slot != NULL;
}

void hash_index_free(struct hash_index *ix)
{
	if (ix->slot)
		huge_table_free(ix->slot, (size_t)ix->mask + 1, sizeof(struct hash_index_slot));
	memset(ix, 0, sizeof *ix);
}

size_t hash_index_bytes(const struct hash_index *ix)
{
	return ix->slot ? sizeof(struct hash_index_slot) * ((size_t)ix->mask + 1) : 0;
}

void hash_index_insert(struct hash_index *ix, uint32_t hash, uint32_t entry)
{
	uint32_t i = hash_index_home(ix, hash);
	while (ix->slot[i].entry)
		i = hash_index_next(ix, i);
	ix->slot[i] = (struct hash_index_slot){ entry + 1, hash };
	if (++ix->entries == ix->huge_at) {
		huge_table_promote(ix->slot, (size_t)ix->mask + 1, sizeof(struct hash_index_slot));
		ix->huge_at = UINT32_MAX;
	}
}

/* The slot of entry, or UINT32_MAX. */
static uint32_t slot_of(const struct hash_index *ix, uint32_t hash, uint32_t entry)
{
	for (uint32_t i = hash_index_home(ix, hash); ix->slot[i].entry; i = hash_index_next(ix, i))
		if (ix->slot[i].entry == entry + 1)
			return i;
	return UINT32_MAX;
}

bool hash_index_remove(struct hash_index *ix, uint32_t hash, uint32_t entry)
{
	uint32_t i = slot_of(ix, hash, entry);
	if (i == UINT32_MAX)
		return false;
	for (uint32_t j = hash_index_next(ix, i); ix->slot[j].entry; j = hash_index_next(ix, j)) {
		uint32_t home = hash_index_home(ix, ix->slot[j].hash);
		/* j's entry may fill the hole at i when i lies on its probe path, from home up to j. */
		if (((i - home) & ix->mask) < ((j - home) & ix->mask)) {
			ix->slot[i] = ix->slot[j];
			i = j;
		}
	}
	ix->slot[i] = (struct hash_index_slot){ 0, 0 };
	ix->entries--;
	return true;
}

void hash_index_repoint(struct hash_index *ix, uint32_t hash, uint32_t from, uint32_t to)
{
	uint32_t i = slot_of(ix, hash, from);
	if (i != UINT32_MAX)
		ix->slot[i].entry = to + 1;
}
