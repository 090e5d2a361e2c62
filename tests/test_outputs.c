/* tests/test_outputs.c: natlb replay never writes over its inputs or one output over another, and leaves all outputs or none (issues 10, 11).
 *
 * Each case runs the real binary in a fresh directory holding copies of a lesson capture, then
 * checks the exit status, the one line on stderr, and that every file there is as it was.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/output.h"
#include "tests/testutil.h"

#define LESSON "pcaps/static-nat.pcap"
#define SCENARIO "scenarios/static-nat.ini"

/* A file in the case's directory before natlb runs: a copy of the lesson, a directory, or a
 * symbolic link to another of them. */
struct setup_file {
	const char *name;
	const char *symlink_to; /* NULL: a copy of LESSON */
	bool directory;
};

struct collision_case {
	const char *name;
	struct setup_file files[3];
	const char *const args[10]; /* after "replay -q -s SCENARIO"; "@/" starts a path in the directory */
	int want_status;
	const char *want_stderr;    /* in full, "@/" substituted; NULL: no check */
};

static const struct collision_case collision_cases[] = {
	{ .name = "output-is-the-input", .files = { { "same.pcap" } }, .args = { "-o", "@/same.pcap", "@/same.pcap" },
	  .want_status = 2,
	  .want_stderr = "natlb replay: -o @/same.pcap is the input @/same.pcap: refusing to write over a capture being read\n" },
	{ .name = "tables-is-the-input", .files = { { "napt-home.pcap" } },
	  .args = { "--tables", "@/napt-home.pcap", "-o", "@/out.pcapng", "@/napt-home.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: --tables @/napt-home.pcap is the input @/napt-home.pcap: refusing to write over "
	                 "a capture being read\n" },
	{ .name = "tables-and-output-are-one-name", .files = { { "in.pcap" } },
	  .args = { "-o", "@/X", "--tables", "@/./X", "@/in.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: -o @/X and --tables @/./X are the same file: refusing to write one over the other\n" },
	{ .name = "tables-is-the-output-temporary", .files = { { "in.pcap" } },
	  .args = { "-o", "@/x.pcapng", "--tables", "@/x.pcapng.partial", "@/in.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: @/x.pcapng.partial (where -o @/x.pcapng is written until the end) and --tables "
	                 "@/x.pcapng.partial are the same file: refusing to write one over the other\n" },
	{ .name = "input-has-the-temporary-name", .files = { { "OUT.partial" } },
	  .args = { "-o", "@/OUT", "@/OUT.partial" }, .want_status = 2,
	  .want_stderr = "natlb replay: @/OUT.partial (where -o @/OUT is written until the end) is the input "
	                 "@/OUT.partial: refusing to write over a capture being read\n" },
	{ .name = "pcap-link-file-is-the-input", .files = { { "v.lan.pcap" } },
	  .args = { "--format", "pcap", "-o", "@/v.pcap", "@/v.lan.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: @/v.lan.pcap (link lan of --format pcap -o @/v.pcap) is the input @/v.lan.pcap: "
	                 "refusing to write over a capture being read\n" },
	{ .name = "pcap-link-file-of-an-unwritten-link-may-be-an-input", .files = { { "v.lan.pcap" } },
	  .args = { "--format", "pcap", "--links", "internet", "-o", "@/v.pcap", "@/v.lan.pcap" }, .want_status = 0 },
	{ .name = "output-is-a-symbolic-link-to-the-input", .files = { { "in.pcap" }, { "link.pcap", "in.pcap" } },
	  .args = { "-o", "@/link.pcap", "@/in.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: -o @/link.pcap is the input @/in.pcap: refusing to write over a capture being read\n" },
	{ .name = "output-is-a-directory", .files = { { "in.pcap" }, { "d", .directory = true } },
	  .args = { "-o", "@/d", "@/in.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: -o @/d is a directory: give the output a file name\n" },
	{ .name = "outputs-meet-through-a-symbolic-link-to-their-directory",
	  .files = { { "in.pcap" }, { "d", .directory = true }, { "dl", "d" } },
	  .args = { "-o", "@/d/x.pcapng", "--tables", "@/dl/x.pcapng", "@/in.pcap" }, .want_status = 2,
	  .want_stderr = "natlb replay: -o @/d/x.pcapng and --tables @/dl/x.pcapng are the same file: refusing to write "
	                 "one over the other\n" },
};

/* s with every "@/" replaced by dir and a slash. */
static char *in_dir(const char *s, const char *dir)
{
	char **parts = g_strsplit(s, "@/", -1);
	char *with = g_strconcat(dir, "/", NULL);
	char *joined = g_strjoinv(with, parts);
	g_free(with);
	g_strfreev(parts);
	return joined;
}

static gint compare_lines(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in dir with its size and content checksum, one per line, sorted. */
static char *dir_state(const char *dir)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		char *path = g_build_filename(dir, name, NULL), *bytes = NULL;
		gsize len = 0;
		char *sum = NULL;
		if (g_file_test(path, G_FILE_TEST_IS_SYMLINK))
			sum = g_file_read_link(path, NULL);
		else if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && g_file_get_contents(path, &bytes, &len, NULL))
			sum = g_compute_checksum_for_data(G_CHECKSUM_MD5, (const guchar *)bytes, len);
		g_ptr_array_add(lines, g_strdup_printf("%s %s", name, sum            ? sum
		                                                      : g_file_test(path, G_FILE_TEST_IS_DIR) ? "(directory)"
		                                                                                              : "(other)"));
		g_free(sum);
		g_free(bytes);
		g_free(path);
	}
	g_dir_close(d);
	g_ptr_array_sort(lines, compare_lines);
	g_ptr_array_add(lines, NULL);
	char *all = g_strjoinv("\n", (char **)lines->pdata);
	g_ptr_array_free(lines, TRUE);
	return all;
}

static void setup_files(const char *dir, const struct setup_file *files, unsigned n)
{
	char *lesson = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(LESSON, &lesson, &len, NULL));
	for (unsigned i = 0; i < n && files[i].name; i++) {
		char *path = g_build_filename(dir, files[i].name, NULL);
		if (files[i].directory)
			g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
		else if (files[i].symlink_to)
			g_assert_cmpint(symlink(files[i].symlink_to, path), ==, 0);
		else
			g_assert_true(g_file_set_contents(path, lesson, (gssize)len, NULL));
		g_free(path);
	}
	g_free(lesson);
}

/* test_rmdir() for a directory that may hold one directory level more. */
static void rm_tree(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);
		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			test_rmdir(g_strdup(p));
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	test_rmdir(dir);
}

static void test_collision(gconstpointer data)
{
	const struct collision_case *c = data;
	char *dir = test_tmpdir();
	setup_files(dir, c->files, G_N_ELEMENTS(c->files));
	char *before = dir_state(dir);

	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	const char *head[] = { test_natlb_binary(), "replay", "-q", "-s", SCENARIO };
	for (unsigned i = 0; i < G_N_ELEMENTS(head); i++)
		g_ptr_array_add(argv, g_strdup(head[i]));
	for (unsigned i = 0; c->args[i]; i++)
		g_ptr_array_add(argv, in_dir(c->args[i], dir));
	g_ptr_array_add(argv, NULL);
	char *err = NULL;
	int rc = test_run((const char *const *)argv->pdata, NULL, &err);
	if (c->want_stderr) {
		char *want = in_dir(c->want_stderr, dir);
		g_assert_cmpstr(err, ==, want);
		g_free(want);
	}
	g_assert_cmpint(rc, ==, c->want_status);
	char *after = dir_state(dir);
	if (c->want_status != 0) /* nothing written, nothing removed, nothing changed */
		g_assert_cmpstr(after, ==, before);
	g_free(after);
	g_free(before);
	g_free(err);
	g_ptr_array_free(argv, TRUE);
	rm_tree(dir);
}

/* All outputs or none: a replay whose files cannot all be written leaves none of them, under
 * either name.  The file size limit (RLIMIT_FSIZE) makes writes past it fail as a full disk
 * would (EFBIG); SIGXFSZ is ignored so that the write fails instead of killing natlb. */
struct all_or_none_case {
	const char *name;
	const char *lesson, *scenario;
	rlim_t file_size_limit; /* between the sizes of the two outputs */
	const char *want_stderr; /* a substring, "@/" substituted */
};

static const struct all_or_none_case all_or_none_cases[] = {
	/* 11,600 bytes of pcapng, 23,468 of JSON */
	{ .name = "tables-write-fails-so-no-pcapng", .lesson = "pcaps/napt-home.pcap", .scenario = "scenarios/napt-home.ini",
	  .file_size_limit = 16384, .want_stderr = "@/t.json: write failed: File too large" },
	/* 16,148 bytes of pcapng, 286 of JSON */
	{ .name = "pcapng-write-fails-so-no-tables", .lesson = "pcaps/static-nat.pcap", .scenario = "scenarios/static-nat.ini",
	  .file_size_limit = 8192, .want_stderr = "@/out.pcapng: File too large" },
};

static void limit_file_size(gpointer data)
{
	struct rlimit lim = { .rlim_cur = *(const rlim_t *)data, .rlim_max = *(const rlim_t *)data };
	setrlimit(RLIMIT_FSIZE, &lim);
	signal(SIGXFSZ, SIG_IGN); /* ignored stays ignored across exec */
}

static void test_all_or_none(gconstpointer data)
{
	const struct all_or_none_case *c = data;
	char *dir = test_tmpdir();
	char *out = g_strdup_printf("%s/out.pcapng", dir), *tables = g_strdup_printf("%s/t.json", dir);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", c->scenario, "--tables", tables,
	                       "--tables-every", "change", "-o", out, c->lesson, NULL };
	char *err = NULL;
	int status = -1;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, limit_file_size,
	                           (gpointer)&c->file_size_limit, NULL, &err, &status, &error));
	g_assert_no_error(error);
	char *want = in_dir(c->want_stderr, dir);
	g_assert_nonnull(strstr(err, want));
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 1);
	char *left = dir_state(dir);
	g_assert_cmpstr(left, ==, ""); /* neither output, and no temporary */
	g_free(left);
	g_free(want);
	g_free(err);
	g_free(out);
	g_free(tables);
	test_rmdir(dir);
}

/* output_commit(): when one file of a --format pcap replay cannot be renamed into place (a
 * directory has its name), the link files renamed before it are removed again. */
static void test_failed_rename_takes_back_the_others(void)
{
	static const uint8_t frame[60] = { [12] = 0x08, [13] = 0x00, [14] = 0x45 };
	char *dir = test_tmpdir();
	char *base = g_strdup_printf("%s/v.pcap", dir), *blocker = g_strdup_printf("%s/v.internet.pcap", dir);
	g_assert_cmpint(g_mkdir(blocker, 0755), ==, 0);
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAP, base, NULL, &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", NULL), internet = output_add_link(o, "internet", NULL);
	for (int link = lan; link <= internet; link++)
		g_assert_true(output_write(o, link, 1, 1000000000, frame, sizeof frame, sizeof frame, PCAPNG_DIR_UNKNOWN, 0, 0,
		                           NULL, 0, &err));
	g_assert_false(output_close(o, &err));
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	g_assert_nonnull(strstr(err->message, "v.internet.pcap"));
	g_clear_error(&err);
	char *left = dir_state(dir);
	g_assert_cmpstr(left, ==, "v.internet.pcap (directory)"); /* no v.lan.pcap, no temporary */
	g_free(left);
	g_rmdir(blocker);
	g_free(blocker);
	g_free(base);
	test_rmdir(dir);
}

/* SIGINT or SIGTERM mid-replay: natlb stops reading, writes whole outputs of what it replayed,
 * leaves no temporary, says it was cut short, and exits 128+N.  The capture (natlb gen bench)
 * reaches natlb through a FIFO, so the test holds most of it back until the signal is sent:
 * natlb cannot have finished before, however loaded the machine, and without the stop it would
 * go on to read every record. */
struct signal_case {
	const char *name;
	int sig;
	int want_status;
	const char *want_stderr; /* a line, in full */
	const char *want_stats;  /* a line of --stats, in full */
};

static const struct signal_case signal_cases[] = {
	{ "sigint", SIGINT, 130,
	  "natlb replay: interrupted by SIGINT: the inputs were not read to the end; the output holds what was replayed before\n",
	  "  cut short by SIGINT: the inputs were not read to the end\n" },
	{ "sigterm", SIGTERM, 143,
	  "natlb replay: interrupted by SIGTERM: the inputs were not read to the end; the output holds what was replayed before\n",
	  "  cut short by SIGTERM: the inputs were not read to the end\n" },
};

#define SIGNAL_PACKETS "20000"
#define SIGNAL_AFTER_BYTES (256u << 10) /* of the capture written to the FIFO before the signal */

/* natlb as a shell runs it in the foreground, whatever the test runner ignores. */
static void default_stop_signals(gpointer data)
{
	(void)data;
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			g_string_append_len(s, buf, n);
	close(fd);
	return g_string_free(s, FALSE);
}

/* Write bytes to fd, sending sig to pid after the first SIGNAL_AFTER_BYTES; stops when natlb
 * closes its end (EPIPE).  Returns how many bytes natlb took. */
static gsize feed_and_signal(int fd, const char *bytes, gsize len, GPid pid, int sig)
{
	gsize done = 0;
	bool sent = false;
	while (done < len) {
		if (!sent && done >= SIGNAL_AFTER_BYTES) {
			g_assert_cmpint(kill(pid, sig), ==, 0);
			sent = true;
		}
		ssize_t n = write(fd, bytes + done, MIN(len - done, 65536));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_assert_cmpint(errno, ==, EPIPE);
			break;
		}
		done += (gsize)n;
	}
	g_assert_true(sent);
	return done;
}

static void test_stop_signal(gconstpointer data)
{
	const struct signal_case *c = data;
	char *dir = test_tmpdir();
	char *capture = g_strdup_printf("%s/bench.pcap", dir), *fifo = g_strdup_printf("%s/in.pcap", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir), *tables = g_strdup_printf("%s/t.json", dir);
	const char *gen[] = { test_natlb_binary(), "gen", "bench", "-o", capture, "--packets", SIGNAL_PACKETS, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	char *bytes = NULL;
	gsize len = 0;
	g_assert_true(g_file_get_contents(capture, &bytes, &len, NULL));
	g_assert_cmpuint(len, >, 8 * SIGNAL_AFTER_BYTES);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);

	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", "tools/bench-napt.ini", "--tables",
	                       tables, "-o", out, fifo, NULL };
	GPid pid;
	int out_fd, err_fd;
	GError *error = NULL;
	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, default_stop_signals,
	                                       NULL, &pid, NULL, &out_fd, &err_fd, &error));
	g_assert_no_error(error);
	int fd = open(fifo, O_WRONLY); /* until natlb opens it */
	g_assert_cmpint(fd, >=, 0);
	gsize taken = feed_and_signal(fd, bytes, len, pid, c->sig);
	close(fd);
	char *stats = read_all(out_fd), *err = read_all(err_fd);
	int status;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);

	g_assert_cmpstr(err, ==, c->want_stderr);
	g_assert_true(WIFEXITED(status)); /* it ended itself, it was not killed */
	g_assert_cmpint(WEXITSTATUS(status), ==, c->want_status);
	g_assert_cmpuint(taken, <, len); /* it stopped reading */
	g_assert_nonnull(strstr(stats, c->want_stats));
	g_assert_nonnull(strstr(stats, ": balanced\n"));
	g_assert_true(g_unlink(capture) == 0 && g_unlink(fifo) == 0);
	char *left = dir_state(dir);
	g_assert_true(g_str_has_prefix(left, "out.pcapng ") && strstr(left, "\nt.json ")); /* both, and nothing else */
	g_assert_null(strchr(strchr(left, '\n') + 1, '\n'));

	/* Both are whole: tshark reads the pcapng without a warning, natlb tables reads the JSON. */
	if (test_have_tshark()) {
		static const char *const fields[] = { "frame.number", NULL };
		char *views = test_tshark_fields(out, NULL, "frame.interface_name == \"lan\"", fields);
		unsigned n = 0;
		for (const char *v = views; *v; v++)
			n += *v == '\n';
		g_assert_cmpuint(n, >, 0);
		g_assert_cmpuint(n, <, (unsigned)atoi(SIGNAL_PACKETS));
		g_free(views);
	}
	const char *read_tables[] = { test_natlb_binary(), "tables", tables, NULL };
	g_assert_cmpint(test_run(read_tables, NULL, NULL), ==, 0);

	g_free(left);
	g_free(stats);
	g_free(err);
	g_free(bytes);
	g_free(capture);
	g_free(fifo);
	g_free(out);
	g_free(tables);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN); /* a write to natlb's FIFO after it stopped reading fails instead */
	for (size_t i = 0; i < G_N_ELEMENTS(collision_cases); i++) {
		char *path = g_strdup_printf("/outputs/collisions/%s", collision_cases[i].name);
		g_test_add_data_func(path, &collision_cases[i], test_collision);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(all_or_none_cases); i++) {
		char *path = g_strdup_printf("/outputs/all-or-none/%s", all_or_none_cases[i].name);
		g_test_add_data_func(path, &all_or_none_cases[i], test_all_or_none);
		g_free(path);
	}
	g_test_add_func("/outputs/all-or-none/failed-rename-takes-back-the-files-renamed-before-it",
	                test_failed_rename_takes_back_the_others);
	for (size_t i = 0; i < G_N_ELEMENTS(signal_cases); i++) {
		char *path = g_strdup_printf("/outputs/stop-signal/%s-leaves-whole-outputs-of-what-was-replayed",
		                             signal_cases[i].name);
		g_test_add_data_func(path, &signal_cases[i], test_stop_signal);
		g_free(path);
	}
	return g_test_run();
}
