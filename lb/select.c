/* lb/select.c: selection methods of the L4 balancer: Maglev (NSDI 2016, 3.4), modulo, rendezvous hashing.
 *
 * Rendezvous, or highest random weight, follows Thaler and Ravishankar, "Using Name-Based Mappings
 * to Increase Hit Rates" (IEEE/ACM ToN 1998): each target scores every hash, the highest score
 * wins; when a target leaves only its own hashes move.  Weighted, the score is -w / ln(u) with u
 * the target's hash in (0, 1) (the "logarithmic method" of weighted rendezvous hashing, Schindelhauer
 * and Schomaker 2005); with equal weights it reduces to comparing the hashes, done in integers.
 *
 * Modulo: target = in-service[hash mod N] (by cumulative weight when weights differ): what a naive
 * balancer does, and why one target leaving remaps almost every flow ((N-1)/N of them).
 *
 * Invariant: every state is allocated by create(); build() and pick() allocate nothing.
 */
#include <math.h>
#include <string.h>

#include "common/note.h"
#include "lb/hash.h"
#include "lb/maglev.h"
#include "lb/select.h"

/* ---- maglev --------------------------------------------------------------------------------- */

struct maglev_select {
	struct maglev_table *table;
	struct maglev_backend *backends;
	unsigned n;
};

static void *maglev_create(const struct lb_select_target *targets, unsigned n, uint32_t table_size)
{
	struct maglev_table *t = maglev_table_new(table_size, n ? n : 1);
	if (!t)
		return NULL;
	struct maglev_select *s = g_new0(struct maglev_select, 1);
	s->table = t;
	s->n = n;
	s->backends = g_new0(struct maglev_backend, n ? n : 1);
	for (unsigned i = 0; i < n; i++)
		maglev_permutation(targets[i].name, strlen(targets[i].name), table_size, &s->backends[i].offset,
		                   &s->backends[i].skip);
	return s;
}

static void maglev_build(void *state, const uint32_t *weights)
{
	struct maglev_select *s = state;
	for (unsigned i = 0; i < s->n; i++)
		s->backends[i].weight = weights[i];
	maglev_table_build(s->table, s->backends, s->n);
}

static int maglev_pick(const void *state, uint32_t hash, uint32_t *slot)
{
	const struct maglev_select *s = state;
	return maglev_table_lookup(s->table, hash, slot);
}

static void maglev_note(const void *state, uint32_t slot, GString *out)
{
	(void)state;
	note_appendf(out, "maglev slot %u", slot);
}

static void maglev_destroy(void *state)
{
	struct maglev_select *s = state;
	maglev_table_free(s->table);
	g_free(s->backends);
	g_free(s);
}

/* ---- modulo --------------------------------------------------------------------------------- */

struct modulo_select {
	unsigned n;          /* targets configured */
	unsigned in_service; /* how many have a weight */
	unsigned *index;     /* in_service of them, in configuration order */
	uint64_t *upto;      /* cumulative weight up to and including index[k] */
	uint64_t total;
	bool equal;          /* all weights equal: bucket = hash mod in_service */
};

static void *modulo_create(const struct lb_select_target *targets, unsigned n, uint32_t table_size)
{
	(void)targets;
	(void)table_size;
	struct modulo_select *s = g_new0(struct modulo_select, 1);
	s->n = n;
	s->index = g_new0(unsigned, n ? n : 1);
	s->upto = g_new0(uint64_t, n ? n : 1);
	return s;
}

static void modulo_build(void *state, const uint32_t *weights)
{
	struct modulo_select *s = state;
	uint32_t first = 0;

	s->in_service = 0;
	s->total = 0;
	s->equal = true;
	for (unsigned i = 0; i < s->n; i++) {
		if (!weights[i])
			continue;
		if (s->in_service == 0)
			first = weights[i];
		s->equal = s->equal && weights[i] == first;
		s->total += weights[i];
		s->index[s->in_service] = i;
		s->upto[s->in_service++] = s->total;
	}
}

static int modulo_pick(const void *state, uint32_t hash, uint32_t *slot)
{
	const struct modulo_select *s = state;

	if (s->in_service == 0) {
		if (slot)
			*slot = 0;
		return LB_SELECT_NONE;
	}
	if (s->equal) {
		uint32_t b = hash % s->in_service;
		if (slot)
			*slot = b;
		return (int)s->index[b];
	}
	uint64_t r = hash % s->total;
	unsigned lo = 0, hi = s->in_service - 1;
	while (lo < hi) { /* the first k with r < upto[k] */
		unsigned mid = (lo + hi) / 2;
		if (r < s->upto[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	if (slot)
		*slot = (uint32_t)r;
	return (int)s->index[lo];
}

static void modulo_note(const void *state, uint32_t slot, GString *out)
{
	const struct modulo_select *s = state;
	if (s->equal)
		note_appendf(out, "modulo %u bucket %u", s->in_service, slot);
	else
		note_appendf(out, "modulo %" G_GUINT64_FORMAT " (total weight) bucket %u", s->total, slot);
}

static void modulo_destroy(void *state)
{
	struct modulo_select *s = state;
	g_free(s->index);
	g_free(s->upto);
	g_free(s);
}

/* ---- rendezvous (highest random weight) ----------------------------------------------------- */

#define RENDEZVOUS_SEED 0x52454e44u /* "REND" */

struct rendezvous_select {
	unsigned n;
	uint32_t *id;      /* per target: xxh32 of its name */
	uint32_t *weight;  /* per target, 0 out of service */
	bool equal;
	unsigned in_service;
};

static void *rendezvous_create(const struct lb_select_target *targets, unsigned n, uint32_t table_size)
{
	(void)table_size;
	struct rendezvous_select *s = g_new0(struct rendezvous_select, 1);
	s->n = n;
	s->id = g_new0(uint32_t, n ? n : 1);
	s->weight = g_new0(uint32_t, n ? n : 1);
	for (unsigned i = 0; i < n; i++)
		s->id[i] = lb_xxh32(targets[i].name, strlen(targets[i].name), RENDEZVOUS_SEED);
	return s;
}

static void rendezvous_build(void *state, const uint32_t *weights)
{
	struct rendezvous_select *s = state;
	uint32_t first = 0;

	s->equal = true;
	s->in_service = 0;
	for (unsigned i = 0; i < s->n; i++) {
		s->weight[i] = weights[i];
		if (!weights[i])
			continue;
		if (s->in_service++ == 0)
			first = weights[i];
		s->equal = s->equal && weights[i] == first;
	}
}

/* Target i's score for a hash: a hash of both, so every target ranks the hashes differently. */
static inline uint32_t rendezvous_score(uint32_t hash, uint32_t id)
{
	const uint8_t in[8] = { (uint8_t)(hash >> 24), (uint8_t)(hash >> 16), (uint8_t)(hash >> 8), (uint8_t)hash,
		                (uint8_t)(id >> 24),   (uint8_t)(id >> 16),   (uint8_t)(id >> 8),   (uint8_t)id };
	return lb_xxh32(in, sizeof in, RENDEZVOUS_SEED);
}

static int rendezvous_pick(const void *state, uint32_t hash, uint32_t *slot)
{
	const struct rendezvous_select *s = state;
	int best = LB_SELECT_NONE;
	uint32_t best_score = 0;
	double best_weighted = 0;

	for (unsigned i = 0; i < s->n; i++) {
		if (!s->weight[i])
			continue;
		uint32_t score = rendezvous_score(hash, s->id[i]);
		if (s->equal) {
			if (best < 0 || score > best_score) {
				best = (int)i;
				best_score = score;
			}
		} else {
			/* u in (0, 1): ln(u) < 0, and the score grows with u and with the weight. */
			double u = ((double)score + 0.5) / 4294967296.0;
			double weighted = -(double)s->weight[i] / log(u);
			if (best < 0 || weighted > best_weighted) {
				best = (int)i;
				best_score = score;
				best_weighted = weighted;
			}
		}
	}
	if (slot)
		*slot = best_score;
	return best;
}

static void rendezvous_note(const void *state, uint32_t slot, GString *out)
{
	const struct rendezvous_select *s = state;
	note_appendf(out, "rendezvous: highest score 0x%08x of %u%s", slot, s->in_service,
	                       s->equal ? "" : " (weighted)");
}

static void rendezvous_destroy(void *state)
{
	struct rendezvous_select *s = state;
	g_free(s->id);
	g_free(s->weight);
	g_free(s);
}

/* ---- The table (STYLE.md habit 7) ----------------------------------------------------------- */

static const struct lb_select_ops maglev_ops = {
	.name = "maglev",
	.summary = "Maglev consistent hashing: a prime-sized lookup table filled by the backends' turns (NSDI 2016)",
	.slot_word = "slot",
	.create = maglev_create,
	.build = maglev_build,
	.pick = maglev_pick,
	.note = maglev_note,
	.destroy = maglev_destroy,
};

static const struct lb_select_ops modulo_ops = {
	.name = "modulo",
	.summary = "hash mod N over the targets in service: simple, and remaps most flows when N changes",
	.slot_word = "bucket",
	.create = modulo_create,
	.build = modulo_build,
	.pick = modulo_pick,
	.note = modulo_note,
	.destroy = modulo_destroy,
};

static const struct lb_select_ops rendezvous_ops = {
	.name = "rendezvous",
	.summary = "highest random weight: every target scores the hash, the highest wins (Thaler & Ravishankar)",
	.slot_word = "score",
	.create = rendezvous_create,
	.build = rendezvous_build,
	.pick = rendezvous_pick,
	.note = rendezvous_note,
	.destroy = rendezvous_destroy,
};

static const struct lb_select_ops *const select_table[] = { &maglev_ops, &modulo_ops, &rendezvous_ops };

const struct lb_select_ops *const *lb_select_methods(unsigned *n)
{
	*n = G_N_ELEMENTS(select_table);
	return select_table;
}

const struct lb_select_ops *lb_select_find(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(select_table); i++)
		if (strcmp(select_table[i]->name, name) == 0)
			return select_table[i];
	return NULL;
}

uint32_t lb_select_changed(const struct lb_select_ops *ops, const void *a, const void *b, uint32_t samples)
{
	uint32_t changed = 0;
	for (uint32_t h = 0; h < samples; h++)
		changed += ops->pick(a, h, NULL) != ops->pick(b, h, NULL);
	return changed;
}
