/* tests/test_maglev.c: the Maglev lookup table against the paper's example and its properties, and the other selection methods.
 *
 * Follows: Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer", NSDI 2016,
 * section 3.4: Table 1 (three backends, M = 7, before and after B1 is removed), the balance property
 * (each backend gets floor or ceil of M/N slots) and minimal disruption (removing one of N backends
 * moves close to 1/N of the slots).
 */
#include <math.h>
#include <stdio.h>

#include "lb/maglev.h"
#include "lb/select.h"
#include "tests/testutil.h"

/* Table 1 of the paper: the permutation tables are offset 3 skip 4, offset 0 skip 2, offset 3 skip 1. */
static void test_paper_example(void)
{
	struct maglev_table *t = maglev_table_new(7, 3);
	struct maglev_backend b[3] = { { 3, 4, 1 }, { 0, 2, 1 }, { 3, 1, 1 } };
	static const int32_t before[7] = { 1, 0, 1, 0, 2, 2, 0 };  /* B1 B0 B1 B0 B2 B2 B0 */
	static const int32_t after[7] = { 0, 0, 0, 0, 2, 2, 2 };   /* B0 B0 B0 B0 B2 B2 B2 */

	g_assert_nonnull(t);
	g_assert_cmpuint(maglev_table_build(t, b, 3), ==, 7);
	g_assert_cmpmem(t->entry, sizeof before, before, sizeof before);
	b[1].weight = 0; /* B1 removed */
	g_assert_cmpuint(maglev_table_build(t, b, 3), ==, 7);
	g_assert_cmpmem(t->entry, sizeof after, after, sizeof after);
	maglev_table_free(t);
}

static struct maglev_backend *named_backends(unsigned n, uint32_t m)
{
	struct maglev_backend *b = g_new0(struct maglev_backend, n);
	for (unsigned i = 0; i < n; i++) {
		char name[32];
		int len = g_snprintf(name, sizeof name, "10.%u.%u.%u:8080", i >> 16, (i >> 8) & 0xff, i & 0xff);
		maglev_permutation(name, (size_t)len, m, &b[i].offset, &b[i].skip);
		g_assert_cmpuint(b[i].offset, <, m);
		g_assert_cmpuint(b[i].skip, >=, 1);
		g_assert_cmpuint(b[i].skip, <, m);
		b[i].weight = 1;
	}
	return b;
}

static void count_slots(const struct maglev_table *t, unsigned n, uint32_t *count)
{
	memset(count, 0, n * sizeof *count);
	for (uint32_t j = 0; j < t->size; j++) {
		g_assert_cmpint(t->entry[j], >=, 0);
		g_assert_cmpint(t->entry[j], <, (int)n);
		count[t->entry[j]]++;
	}
}

/* Equal weights: every backend gets floor(M/N) or ceil(M/N) slots, for many N and two table sizes. */
static void test_balance(void)
{
	static const struct { uint32_t m; unsigned n; } cases[] = {
		{ 7, 3 }, { 251, 7 }, { 65537, 1 }, { 65537, 2 }, { 65537, 3 }, { 65537, 5 },
		{ 65537, 10 }, { 65537, 100 }, { 65537, 1000 }, { 655373, 5000 },
	};
	for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
		uint32_t m = cases[c].m;
		unsigned n = cases[c].n;
		struct maglev_table *t = maglev_table_new(m, n);
		struct maglev_backend *b = named_backends(n, m);
		uint32_t *count = g_new0(uint32_t, n);
		g_assert_cmpuint(maglev_table_build(t, b, n), ==, m);
		count_slots(t, n, count);
		for (unsigned i = 0; i < n; i++)
			if (count[i] != m / n && count[i] != (m + n - 1) / n)
				g_error("M=%u N=%u: backend %u has %u slots, not floor or ceil of %u/%u", m, n, i, count[i], m, n);
		g_free(count);
		g_free(b);
		maglev_table_free(t);
	}
}

/* Removing 1 of N: the removed backend's slots must move (1/N of the table).  Maglev moves a
 * little more, since the backends after it in the turns find other slots free: close to 1/N while
 * M is large beside N (the paper asks for M > 100 N), and further from it as N grows (0.7% for one
 * of 1000 at M = 65537, still nothing like modulo's 99.9%). */
static void test_disruption(void)
{
	static const struct { uint32_t m; unsigned n; double max_ratio; } cases[] = {
		{ 65537, 5, 1.1 }, { 65537, 10, 1.1 }, { 65537, 100, 2.0 }, { 65537, 1000, 10.0 }, { 655373, 1000, 5.0 },
	};
	for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
		const uint32_t m = cases[c].m;
		unsigned n = cases[c].n;
		struct maglev_table *t = maglev_table_new(m, n);
		struct maglev_backend *b = named_backends(n, m);
		int32_t *before = g_new(int32_t, m);
		maglev_table_build(t, b, n);
		memcpy(before, t->entry, m * sizeof *before);
		unsigned gone = n / 2;
		b[gone].weight = 0;
		maglev_table_build(t, b, n);
		uint32_t changed = 0, had = 0;
		for (uint32_t j = 0; j < m; j++) {
			had += before[j] == (int32_t)gone;
			changed += before[j] != t->entry[j];
			g_assert_cmpint(t->entry[j], !=, (int32_t)gone);
		}
		double ideal = 1.0 / n, got = (double)changed / m;
		g_test_message("M=%u N=%u: %u of %u slots changed (%.2f%%), ideal 1/N = %.2f%%", m, n, changed, m, 100 * got,
		               100 * ideal);
		g_assert_cmpuint(changed, >=, had);
		g_assert_cmpfloat(got, >=, ideal * 0.99);
		g_assert_cmpfloat(got, <, cases[c].max_ratio * ideal);
		g_free(before);
		g_free(b);
		maglev_table_free(t);
	}
}

/* Weights: slots in proportion to weight, and a backend of weight 0 gets none. */
static void test_weights(void)
{
	const uint32_t m = MAGLEV_DEFAULT_SIZE;
	struct maglev_table *t = maglev_table_new(m, 4);
	struct maglev_backend *b = named_backends(4, m);
	uint32_t count[4];
	b[0].weight = 1;
	b[1].weight = 2;
	b[2].weight = 3;
	b[3].weight = 0;
	g_assert_cmpuint(maglev_table_build(t, b, 4), ==, m);
	count_slots(t, 4, count);
	g_assert_cmpuint(count[3], ==, 0);
	for (unsigned i = 0; i < 3; i++) {
		double want = (double)m * b[i].weight / 6.0;
		g_test_message("weight %u: %u slots, ideal %.1f", b[i].weight, count[i], want);
		g_assert_cmpfloat(fabs(count[i] - want), <=, 3.0);
	}
	/* Equal non-unit weights behave exactly like weight 1: the paper's algorithm. */
	struct maglev_table *u = maglev_table_new(m, 4);
	for (unsigned i = 0; i < 4; i++)
		b[i].weight = 1;
	maglev_table_build(u, b, 4);
	for (unsigned i = 0; i < 4; i++)
		b[i].weight = 7;
	maglev_table_build(t, b, 4);
	g_assert_cmpmem(t->entry, m * sizeof(int32_t), u->entry, m * sizeof(int32_t));
	maglev_table_free(u);
	g_free(b);
	maglev_table_free(t);
}

static void test_empty_and_bad_sizes(void)
{
	struct maglev_table *t = maglev_table_new(7, 2);
	struct maglev_backend b[2] = { { 1, 1, 0 }, { 2, 3, 0 } };
	uint32_t slot;
	g_assert_cmpuint(maglev_table_build(t, b, 2), ==, 0);
	g_assert_cmpint(maglev_table_lookup(t, 12, &slot), ==, MAGLEV_NO_BACKEND);
	g_assert_cmpuint(slot, ==, 5);
	maglev_table_free(t);
	g_assert_null(maglev_table_new(65536, 2));
	g_assert_null(maglev_table_new(1, 2));
	g_assert_null(maglev_table_new(7, 0));
	g_assert_true(maglev_is_prime(65537));
	g_assert_true(maglev_is_prime(2));
	g_assert_false(maglev_is_prime(65535));
	g_assert_false(maglev_is_prime(0));
}

/* ---- the selection methods side by side: one of five targets leaves -------------------------- */

static void *select_build(const struct lb_select_ops *ops, const uint32_t *weights)
{
	static const struct lb_select_target targets[5] = {
		{ "10.0.1.11:8080", 1 }, { "10.0.1.12:8080", 1 }, { "10.0.1.13:8080", 1 },
		{ "10.0.1.14:8080", 1 }, { "10.0.1.15:8080", 1 },
	};
	void *s = ops->create(targets, 5, MAGLEV_DEFAULT_SIZE);
	g_assert_nonnull(s);
	ops->build(s, weights);
	return s;
}

static void test_methods_one_of_five_leaves(void)
{
	static const uint32_t all[5] = { 1, 1, 1, 1, 1 }, four[5] = { 1, 1, 0, 1, 1 };
	static const struct { const char *name; double lo, hi; } want[] = {
		{ "maglev", 0.20, 0.30 },      /* about 1/N */
		{ "modulo", 0.75, 0.85 },      /* (N-1)/N */
		{ "rendezvous", 0.19, 0.21 },  /* exactly the leaver's share */
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++) {
		const struct lb_select_ops *ops = lb_select_find(want[i].name);
		g_assert_nonnull(ops);
		void *a = select_build(ops, all), *b = select_build(ops, four);
		uint32_t changed = lb_select_changed(ops, a, b, MAGLEV_DEFAULT_SIZE);
		double f = (double)changed / MAGLEV_DEFAULT_SIZE;
		g_test_message("%s: %.1f%% of hashes move when 1 of 5 leaves", ops->name, 100 * f);
		g_assert_cmpfloat(f, >=, want[i].lo);
		g_assert_cmpfloat(f, <=, want[i].hi);
		/* nothing goes to the target that left; rendezvous moves only what was on it */
		for (uint32_t h = 0; h < 20000; h++) {
			uint32_t slot;
			int before = ops->pick(a, h, &slot), after = ops->pick(b, h, &slot);
			g_assert_cmpint(after, !=, 2);
			g_assert_cmpint(after, >=, 0);
			if (g_str_equal(ops->name, "rendezvous") && before != 2)
				g_assert_cmpint(after, ==, before);
		}
		ops->destroy(a);
		ops->destroy(b);
	}
}

/* Weighted modulo and rendezvous give shares in proportion; none in service gives no target. */
static void test_methods_weights(void)
{
	static const struct lb_select_target targets[3] = { { "a", 1 }, { "b", 2 }, { "c", 3 } };
	static const uint32_t w[3] = { 1, 2, 3 }, none[3] = { 0, 0, 0 };
	static const char *const names[] = { "modulo", "rendezvous", "maglev" };
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		const struct lb_select_ops *ops = lb_select_find(names[i]);
		void *s = ops->create(targets, 3, MAGLEV_DEFAULT_SIZE);
		unsigned count[3] = { 0 };
		ops->build(s, w);
		for (uint32_t h = 0; h < 60000; h++) {
			int t = ops->pick(s, h * 2654435761u, NULL);
			g_assert_cmpint(t, >=, 0);
			count[t]++;
		}
		for (unsigned t = 0; t < 3; t++)
			g_assert_cmpfloat(fabs(count[t] / 60000.0 - w[t] / 6.0), <, 0.02);
		ops->build(s, none);
		g_assert_cmpint(ops->pick(s, 42, NULL), ==, LB_SELECT_NONE);
		ops->destroy(s);
	}
	g_assert_null(lb_select_find("round-robin"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/maglev/paper/three-backends-m7-before-and-after-b1-leaves", test_paper_example);
	g_test_add_func("/maglev/balance/equal-weights-give-floor-or-ceil-of-m-over-n", test_balance);
	g_test_add_func("/maglev/disruption/removing-1-of-n-moves-close-to-1-over-n", test_disruption);
	g_test_add_func("/maglev/weights/slots-in-proportion", test_weights);
	g_test_add_func("/maglev/table/empty-and-non-prime-sizes", test_empty_and_bad_sizes);
	g_test_add_func("/select/one-of-five-leaves/maglev-modulo-rendezvous", test_methods_one_of_five_leaves);
	g_test_add_func("/select/weights/shares-in-proportion", test_methods_weights);
	return g_test_run();
}
