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

static inline void test_rmdir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
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

#endif
