/* tests/test_hugemem.c: huge_table_new() and huge_table_new_sparse() give zeroed, writable tables of any size, and refuse sizes that overflow. */
#include <stdint.h>
#include <string.h>

#include "common/hugemem.h"
#include "tests/testutil.h"

static const struct {
	const char *name;
	size_t n, size;
} sizes[] = {
	{ "empty", 0, 8 },
	{ "small-on-the-heap", 1000, 8 },
	{ "just-under-a-huge-page", (2u << 20) / 8 - 1, 8 },
	{ "one-huge-page", (2u << 20) / 8, 8 },
	{ "several-huge-pages-and-a-bit", 700001, 128 },
};

static void test_zeroed_and_writable(gconstpointer data)
{
	const size_t *c = data;
	size_t n = c[0], size = c[1], bytes = n * size;
	uint8_t *t = huge_table_new(n, size);
	g_assert_nonnull(t);
	for (size_t off = 0; off < bytes; off += 4096) /* a byte of every page reads zero */
		g_assert_cmpuint(t[off], ==, 0);
	if (bytes)
		g_assert_cmpuint(t[bytes - 1], ==, 0);
	memset(t, 0xa5, bytes); /* and every byte takes a write (ASan: none past the end) */
	huge_table_free(t, n, size);
}

/* A sparse table reads zero and takes writes before and after it is promoted to huge pages. */
static void test_sparse_then_promoted(void)
{
	size_t n = 700001, size = 8, bytes = n * size;
	uint8_t *t = huge_table_new_sparse(n, size);
	g_assert_nonnull(t);
	g_assert_cmpuint(t[bytes / 2], ==, 0);
	t[bytes / 2] = 0x5a;
	huge_table_promote(t, n, size);
	g_assert_cmpuint(t[bytes / 2], ==, 0x5a); /* what was written stays */
	g_assert_cmpuint(t[bytes - 1], ==, 0);
	memset(t, 0xa5, bytes);
	huge_table_free(t, n, size);
	g_assert_null(huge_table_new_sparse(SIZE_MAX, 1));
}

static void test_overflow_refused(void)
{
	g_assert_null(huge_table_new(SIZE_MAX / 2, 4));
	g_assert_null(huge_table_new(SIZE_MAX, 1));
	huge_table_free(NULL, SIZE_MAX, 4); /* nothing to do */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	static size_t args[G_N_ELEMENTS(sizes)][2];
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		args[i][0] = sizes[i].n;
		args[i][1] = sizes[i].size;
		char *path = g_strdup_printf("/hugemem/table/zeroed-and-writable/%s", sizes[i].name);
		g_test_add_data_func(path, args[i], test_zeroed_and_writable);
		g_free(path);
	}
	g_test_add_func("/hugemem/table/size-that-overflows-is-refused", test_overflow_refused);
	g_test_add_func("/hugemem/table/sparse-reads-zero-and-keeps-its-bytes-when-promoted", test_sparse_then_promoted);
	return g_test_run();
}
