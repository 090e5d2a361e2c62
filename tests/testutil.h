/* tests/testutil.h: small helpers shared by the GTest programs (paths, running tshark and natlb). */
#ifndef NATLB_TESTUTIL_H
#define NATLB_TESTUTIL_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Directory of the source tree; tests run from it (make test does). */
static inline const char *test_natlb_binary(void)
{
	const char *env = g_getenv("NATLB");
	return env ? env : "build/natlb";
}

/* A fresh temporary directory removed by the caller with test_rmdir(). */
static inline char *test_tmpdir(void)
{
	GError *err = NULL;
	char *dir = g_dir_make_tmp("natlb-test-XXXXXX", &err);
	g_assert_no_error(err);
	return dir;
}

/* Remove dir and everything under it; frees dir. */
static inline void test_rmdir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			test_rmdir(g_strdup(p)); /* a test's own folders (a Wireshark profile) go too */
		else
			g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
}

/* Run argv; returns the exit status, captures stdout and stderr (caller frees). */
static inline int test_run(const char *const *argv, char **out, char **err)
{
	GError *error = NULL;
	int status = -1;
	char *o = NULL, *e = NULL;
	gboolean ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
	                           &o, &e, &status, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
	if (out)
		*out = o;
	else
		g_free(o);
	if (err)
		*err = e;
	else
		g_free(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* tshark is the independent reader of our output; a test that needs it skips without it. */
static inline gboolean test_have_tshark(void)
{
	char *path = g_find_program_in_path("tshark");
	gboolean have = path != NULL;
	g_free(path);
	return have;
}

/* First line of a test that reads its output with tshark: without tshark it is skipped, saying so. */
#define TEST_NEED_TSHARK()                                 \
	do {                                               \
		if (!test_have_tshark()) {                 \
			g_test_skip("tshark is not installed"); \
			return;                            \
		}                                          \
	} while (0)

/* tshark's stderr less the one line it prints whenever it runs as root (not about our file). */
static inline char *test_tshark_warnings(const char *err)
{
	GString *out = g_string_new(NULL);
	char **lines = g_strsplit(err ? err : "", "\n", -1);
	for (char **l = lines; *l; l++)
		if (**l && !g_str_has_prefix(*l, "Running as user \"root\""))
			g_string_append_printf(out, "%s\n", *l);
	g_strfreev(lines);
	return g_string_free(out, FALSE);
}

/* The checksum validations a test turns on to see that ours verify. */
#define TEST_TSHARK_CHECKSUMS "ip.check_checksum:TRUE", "tcp.check_checksum:TRUE", "udp.check_checksum:TRUE"

/* tshark -r FILE [-o PREF]... [-Y FILTER] -T fields -E separator=| -e FIELD...: its stdout.
 * Asserts that tshark succeeded and warned about nothing.  prefs may be NULL; both lists end
 * with NULL. */
static inline char *test_tshark_fields(const char *file, const char *const *prefs, const char *filter,
                                       const char *const *fields)
{
	GPtrArray *argv = g_ptr_array_new();
	const char *head[] = { "tshark", "-r", file, "-T", "fields", "-E", "separator=|" };
	for (unsigned i = 0; i < G_N_ELEMENTS(head); i++)
		g_ptr_array_add(argv, (char *)head[i]);
	for (const char *const *p = prefs; p && *p; p++) {
		g_ptr_array_add(argv, "-o");
		g_ptr_array_add(argv, (char *)*p);
	}
	if (filter) {
		g_ptr_array_add(argv, "-Y");
		g_ptr_array_add(argv, (char *)filter);
	}
	for (const char *const *f = fields; *f; f++) {
		g_ptr_array_add(argv, "-e");
		g_ptr_array_add(argv, (char *)*f);
	}
	g_ptr_array_add(argv, NULL);
	char *out = NULL, *err = NULL;
	int rc = test_run((const char *const *)argv->pdata, &out, &err);
	char *warn = test_tshark_warnings(err);
	g_assert_cmpstr(warn, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(warn);
	g_free(err);
	g_ptr_array_free(argv, TRUE);
	return out;
}

#endif
