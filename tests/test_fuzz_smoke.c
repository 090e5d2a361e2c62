/* tests/test_fuzz_smoke.c: every libFuzzer harness runs briefly from its seed corpus and finds nothing.
 *
 * STYLE.md habit 10 (fuzzers beside the tests): `make test` builds the harnesses (`make fuzz`, clang)
 * and sets FUZZ_DIR; each tests/fuzz/fuzz_NAME.c runs for FUZZ_SMOKE_SECONDS (default 20) with a
 * fixed seed on a copy of tests/fuzz/corpus/NAME (empty if there is none), so the tree stays clean
 * and a crash artifact lands in a temporary directory whose path the failure prints.  A harness
 * that was not built is skipped, saying so.
 */
#include "tests/testutil.h"

#include <stdio.h>
#include <string.h>

/* One harness: tests/fuzz/fuzz_NAME.c, built into FUZZ_DIR/fuzz_NAME, seeded from tests/fuzz/corpus/NAME. */
struct harness {
	char *name;   /* "fuzz_decode" */
	char *corpus; /* "tests/fuzz/corpus/decode"; may not exist (then the run starts empty) */
};

#define HARNESS_DIR "tests/fuzz"

static void copy_dir(const char *from, const char *to)
{
	GError *err = NULL;
	GDir *d = g_dir_open(from, 0, &err);
	g_assert_no_error(err);
	const char *name;
	unsigned n = 0;
	while ((name = g_dir_read_name(d))) {
		char *src = g_build_filename(from, name, NULL), *dst = g_build_filename(to, name, NULL);
		char *bytes;
		gsize len;
		g_file_get_contents(src, &bytes, &len, &err);
		g_assert_no_error(err);
		g_file_set_contents(dst, bytes, (gssize)len, &err);
		g_assert_no_error(err);
		g_free(bytes);
		g_free(dst);
		g_free(src);
		n++;
	}
	g_dir_close(d);
	g_assert_cmpuint(n, >, 0);
}

/* test_rmdir() from testutil.h for a directory of directories of files. */
static void rm_tree(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			test_rmdir(p); /* frees p */
		else {
			g_unlink(p);
			g_free(p);
		}
	}
	if (d)
		g_dir_close(d);
	test_rmdir(dir);
}

/* "Done 123456 runs in 20 second(s)" from libFuzzer's last lines; 0 when absent.  Not inlined:
 * GCC 12's -Wdangling-pointer otherwise mistakes test_run()'s "*err = e" for a pointer to e. */
static G_GNUC_NO_INLINE unsigned long runs_done(const char *log)
{
	const char *at = log ? strstr(log, "Done ") : NULL;
	unsigned long runs = 0;
	if (at)
		sscanf(at, "Done %lu runs", &runs);
	return runs;
}

static void test_smoke(gconstpointer data)
{
	const struct harness *h = data;
	const char *fuzz_dir = g_getenv("FUZZ_DIR") ? g_getenv("FUZZ_DIR") : "build/fuzz";
	const char *secs_env = g_getenv("FUZZ_SMOKE_SECONDS");
	int secs = secs_env ? atoi(secs_env) : 20;
	char *bin = g_build_filename(fuzz_dir, h->name, NULL);

	if (!g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
		char *why = g_strdup_printf("%s was not built (make fuzz builds it with clang and libFuzzer)", bin);
		g_test_skip(why);
		g_free(why);
		g_free(bin);
		return;
	}
	char *tmp = test_tmpdir();
	char *corpus = g_build_filename(tmp, "corpus", NULL), *artifacts = g_build_filename(tmp, "artifacts", NULL);
	g_assert_cmpint(g_mkdir(corpus, 0700), ==, 0);
	g_assert_cmpint(g_mkdir(artifacts, 0700), ==, 0);
	if (g_file_test(h->corpus, G_FILE_TEST_IS_DIR))
		copy_dir(h->corpus, corpus);

	char *time_arg = g_strdup_printf("-max_total_time=%d", secs > 0 ? secs : 20);
	char *artifact_arg = g_strdup_printf("-artifact_prefix=%s/", artifacts);
	const char *argv[] = { bin, time_arg, "-seed=1", artifact_arg, corpus, NULL };
	char *err_text = NULL;
	int status = test_run(argv, NULL, &err_text);
	unsigned long runs = runs_done(err_text);

	g_test_message("%s: %lu runs in %d s", h->name, runs, secs);
	if (status != 0) {
		/* the sanitizer's report and the crash artifact's name are near the end */
		size_t len = strlen(err_text);
		const char *tail = len > 6000 ? err_text + len - 6000 : err_text;
		g_printerr("%s exited %d; artifacts kept in %s\n...%s\n", h->name, status, artifacts, tail);
		g_error("%s found a problem (exit %d)", h->name, status);
	}
	g_assert_cmpuint(runs, >, 0);

	g_free(err_text);
	g_free(artifact_arg);
	g_free(time_arg);
	g_free(artifacts);
	g_free(corpus);
	rm_tree(tmp);
	g_free(bin);
}

/* Every tests/fuzz/fuzz_*.c is a harness that make fuzz builds: each gets a test, so one that
 * was not built shows as a skip rather than as nothing. */
static GPtrArray *harnesses_find(void)
{
	GPtrArray *found = g_ptr_array_new();
	GDir *d = g_dir_open(HARNESS_DIR, 0, NULL);
	const char *file;

	if (!d)
		g_error("%s not found: run the tests from the source tree (make test does)", HARNESS_DIR);
	while ((file = g_dir_read_name(d))) {
		if (!g_str_has_prefix(file, "fuzz_") || !g_str_has_suffix(file, ".c"))
			continue;
		struct harness *h = g_new0(struct harness, 1);
		h->name = g_strndup(file, strlen(file) - 2);
		h->corpus = g_build_filename(HARNESS_DIR, "corpus", h->name + strlen("fuzz_"), NULL);
		g_ptr_array_add(found, h);
	}
	g_dir_close(d);
	return found;
}

static gint harness_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp((*(struct harness *const *)a)->name, (*(struct harness *const *)b)->name);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	GPtrArray *harnesses = harnesses_find();
	g_ptr_array_sort(harnesses, harness_cmp);
	for (guint i = 0; i < harnesses->len; i++) {
		const struct harness *h = g_ptr_array_index(harnesses, i);
		char *path = g_strdup_printf("/fuzz/smoke/%s/runs-clean-from-its-seed-corpus", h->name);
		g_test_add_data_func(path, h, test_smoke);
		g_free(path);
	}
	int status = g_test_run();
	for (guint i = 0; i < harnesses->len; i++) {
		struct harness *h = g_ptr_array_index(harnesses, i);
		g_free(h->corpus);
		g_free(h->name);
		g_free(h);
	}
	g_ptr_array_free(harnesses, TRUE);
	return status;
}
