/* tests/test_cli.c: what a teacher meets at the natlb command line: which file a lesson name reads, --version, help text.
 *
 * Follows DESIGN.md "The command line" and the project's issue 10 ("what a teacher trips over"):
 * a lesson named with -s is read from ./scenarios/NAME.ini, else from the checkout's scenarios
 * folder, else from the copy built into the binary, and replay says on stderr which one it read.
 * The binary runs from a temporary directory, as a teacher runs it from a lesson folder; its
 * output is read back with tshark.
 */
#include "common/scenario.h"
#include "nat/napt.h"
#include "tests/testutil.h"
#include "tools/cli.h"

#include <string.h>

#define LESSON "napt-hairpin"

/* A temporary lesson folder: DIR, and DIR/scenarios/ when with_scenarios. */
struct lesson_dir {
	char *dir, *scenarios, *natlb, *capture;
};

static void lesson_dir_open(struct lesson_dir *d, bool with_scenarios)
{
	d->dir = test_tmpdir();
	d->scenarios = g_build_filename(d->dir, "scenarios", NULL);
	if (with_scenarios)
		g_assert_cmpint(g_mkdir(d->scenarios, 0755), ==, 0);
	/* absolute, since the binary runs elsewhere */
	d->natlb = g_canonicalize_filename(test_natlb_binary(), NULL);
	d->capture = g_canonicalize_filename("pcaps/" LESSON ".pcap", NULL);
}

static void lesson_dir_close(struct lesson_dir *d)
{
	test_rmdir(g_strdup(d->scenarios));
	test_rmdir(d->dir);
	g_free(d->scenarios);
	g_free(d->natlb);
	g_free(d->capture);
}

/* The bundled lesson with "hairpin = yes" turned into "hairpin = no", as a teacher edits it. */
static void write_edited_lesson(const struct lesson_dir *d, const char *name)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents("scenarios/" LESSON ".ini", &text, NULL, NULL));
	char *at = strstr(text, "\nhairpin = yes");
	g_assert_nonnull(at);
	memcpy(at, "\nhairpin = no ", strlen("\nhairpin = no "));
	char *file = g_strconcat(name, ".ini", NULL);
	char *path = g_build_filename(d->scenarios, file, NULL);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
	g_free(file);
	g_free(text);
}

/* natlb ARGS... run inside d->dir; exit status, stdout and stderr. */
static int run_in(const struct lesson_dir *d, const char *const *args, char **out, char **err)
{
	GPtrArray *argv = g_ptr_array_new();
	g_ptr_array_add(argv, d->natlb);
	for (const char *const *a = args; *a; a++)
		g_ptr_array_add(argv, (char *)*a);
	g_ptr_array_add(argv, NULL);
	int status = -1;
	GError *error = NULL;
	g_assert_true(g_spawn_sync(d->dir, (char **)argv->pdata, NULL, 0, NULL, NULL, out, err, &status, &error));
	g_assert_no_error(error);
	g_ptr_array_free(argv, TRUE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Every packet comment of the replay's output, one line each. */
static char *replay_comments(const struct lesson_dir *d, const char *const *extra, char **err)
{
	char *out_file = g_build_filename(d->dir, "out.pcapng", NULL);
	const char *args[12] = { "replay", "-s", LESSON, "-o", out_file };
	unsigned n = 5;
	for (const char *const *e = extra; e && *e; e++)
		args[n++] = *e;
	args[n++] = d->capture;
	args[n] = NULL;
	g_assert_cmpint(run_in(d, args, NULL, err), ==, 0);
	static const char *const fields[] = { "frame.comment", NULL };
	char *comments = test_tshark_fields(out_file, NULL, NULL, fields);
	g_unlink(out_file);
	g_free(out_file);
	return comments;
}

static void test_edited_local_copy_is_replayed(void)
{
	TEST_NEED_TSHARK();
	struct lesson_dir d;
	char *err = NULL;
	lesson_dir_open(&d, true);
	write_edited_lesson(&d, LESSON);
	char *comments = replay_comments(&d, NULL, &err);
	g_assert_nonnull(strstr(comments, "hairpinning is off"));
	g_assert_null(strstr(comments, "hairpinned"));
	/* one line says which file was read */
	const char *line = strstr(err, "natlb replay: scenario ");
	g_assert_nonnull(line);
	g_assert_true(g_str_has_prefix(line, "natlb replay: scenario scenarios/" LESSON ".ini\n"));
	g_assert_null(strstr(line + 1, "natlb replay: scenario "));
	g_free(comments);
	g_free(err);
	lesson_dir_close(&d);
}

static void test_without_local_copy_the_checkouts_file_is_read(void)
{
	TEST_NEED_TSHARK();
	struct lesson_dir d;
	char *err = NULL;
	lesson_dir_open(&d, false);
	char *comments = replay_comments(&d, NULL, &err);
	g_assert_nonnull(strstr(comments, "hairpin"));
	g_assert_null(strstr(comments, "hairpinning is off"));
	const char *line = strstr(err, "natlb replay: scenario ");
	g_assert_nonnull(line);
	line += strlen("natlb replay: scenario ");
	g_assert_cmpint(line[0], ==, '/'); /* the checkout's folder, an absolute path */
	g_assert_nonnull(strstr(line, "/scenarios/" LESSON ".ini\n"));
	g_free(comments);
	g_free(err);
	lesson_dir_close(&d);
}

static void test_quiet_replay_says_nothing(void)
{
	TEST_NEED_TSHARK();
	struct lesson_dir d;
	char *err = NULL;
	static const char *const quiet[] = { "-q", NULL };
	lesson_dir_open(&d, true);
	write_edited_lesson(&d, LESSON);
	g_free(replay_comments(&d, quiet, &err));
	g_assert_cmpstr(err, ==, "");
	g_free(err);
	lesson_dir_close(&d);
}

/* check prints the file it read first, and the setting as edited. */
static void test_check_reads_the_local_copy(void)
{
	struct lesson_dir d;
	char *out = NULL;
	lesson_dir_open(&d, true);
	write_edited_lesson(&d, LESSON);
	static const char *const args[] = { "check", LESSON, NULL };
	g_assert_cmpint(run_in(&d, args, &out, NULL), ==, 0);
	g_assert_true(g_str_has_prefix(out, "# scenarios/" LESSON ".ini, every default filled in\n"));
	g_assert_nonnull(strstr(out, "\nhairpin = no\n"));
	g_free(out);
	lesson_dir_close(&d);
}

/* natlb check: -s as replay takes it; what GKeyFile would merge silently, refused naming both
 * lines and exit 2; what loads but misroutes, a warning on stderr and exit 0 (issues 10, 11). */
struct check_case {
	const char *name;
	const char *append;          /* added to the bundled lesson's file; NULL: as it is */
	int want_status;
	const char *want_stderr;     /* a substring; NULL: stderr empty */
};

static const struct check_case check_cases[] = {
	{ .name = "the-lesson-by-name-with-s-is-quiet" },
	{ .name = "a-group-given-twice-is-refused", .append = "[link lan]\nnetworks = 192.168.9.0/24\n",
	  .want_status = 2, .want_stderr = "[link lan] appears twice (lines " },
	{ .name = "a-key-given-twice-is-refused", .append = "external = 203.0.113.9\n", .want_status = 2,
	  .want_stderr = "external: given twice (lines " },
	{ .name = "a-link-not-in-the-chain-is-still-refused", .append = "\n[link isp]\nnetworks = 203.0.113.0/24\n",
	  .want_status = 2, .want_stderr = "[link isp] link 'isp' is not in the chain" },
};

static void test_check_case(gconstpointer data)
{
	const struct check_case *c = data;
	struct lesson_dir d;
	char *text = NULL, *out = NULL, *err = NULL;
	lesson_dir_open(&d, true);
	g_assert_true(g_file_get_contents("scenarios/" LESSON ".ini", &text, NULL, NULL));
	char *edited = g_strconcat(text, c->append ? c->append : "", NULL);
	char *path = g_build_filename(d.scenarios, LESSON ".ini", NULL);
	g_assert_true(g_file_set_contents(path, edited, -1, NULL));
	static const char *const args[] = { "check", "-s", LESSON, NULL };

	g_assert_cmpint(run_in(&d, args, &out, &err), ==, c->want_status);
	if (c->want_stderr && !strstr(err, c->want_stderr))
		g_error("stderr lacks \"%s\": %s", c->want_stderr, err);
	if (!c->want_stderr)
		g_assert_cmpstr(err, ==, "");
	g_free(path);
	g_free(edited);
	g_free(text);
	g_free(out);
	g_free(err);
	lesson_dir_close(&d);
}

/* A warning goes to stderr, prefixed, and the scenario is still printed. */
static void test_check_warns_and_prints(void)
{
	struct lesson_dir d;
	char *text = NULL, *out = NULL, *err = NULL;
	lesson_dir_open(&d, true);
	g_assert_true(g_file_get_contents("scenarios/" LESSON ".ini", &text, NULL, NULL));
	char *at = strstr(text, "\nexternal = 203.0.113.7");
	g_assert_nonnull(at);
	char *edited = g_strdup_printf("%.*s\nexternal = 192.168.1.254%s", (int)(at - text), text,
	                               at + strlen("\nexternal = 203.0.113.7"));
	char *path = g_build_filename(d.scenarios, LESSON ".ini", NULL);
	g_assert_true(g_file_set_contents(path, edited, -1, NULL));
	static const char *const args[] = { "check", "-s", LESSON, NULL };

	g_assert_cmpint(run_in(&d, args, &out, &err), ==, 0);
	g_assert_true(g_str_has_prefix(err, "natlb check: warning: scenarios/" LESSON ".ini:"));
	g_assert_nonnull(strstr(err, "for 1 address of 192.168.1.0/24, a network of link lan (the first: 192.168.1.254)"));
	g_assert_true(g_str_has_prefix(out, "# scenarios/" LESSON ".ini, every default filled in\n"));
	g_free(path);
	g_free(edited);
	g_free(text);
	g_free(out);
	g_free(err);
	lesson_dir_close(&d);
}

/* A lesson of the teacher's own, not bundled, is found by name too. */
static void test_a_local_lesson_that_is_not_bundled_is_found(void)
{
	struct lesson_dir d;
	char *out = NULL;
	lesson_dir_open(&d, true);
	write_edited_lesson(&d, "my-hairpin");
	static const char *const args[] = { "check", "my-hairpin", NULL };
	g_assert_cmpint(run_in(&d, args, &out, NULL), ==, 0);
	g_assert_true(g_str_has_prefix(out, "# scenarios/my-hairpin.ini, every default filled in\n"));
	g_free(out);
	lesson_dir_close(&d);
}

/* With no folder holding the file, the copy built into the binary. */
static void test_built_in_copy_when_no_folder_has_the_file(void)
{
	static const char *const nowhere[] = { "/nonexistent/scenarios", NULL };
	GError *err = NULL;
	struct scenario *sc = cli_scenario_load_from(LESSON, nowhere, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(sc->source, ==, "built-in scenarios/" LESSON ".ini");
	scenario_free(sc);
	/* and the search itself */
	g_assert_null(cli_scenario_find(LESSON, nowhere));
	static const char *const here[] = { "/nonexistent/scenarios", "scenarios", NULL };
	char *found = cli_scenario_find(LESSON, here);
	g_assert_cmpstr(found, ==, "scenarios/" LESSON ".ini");
	g_free(found);
}

/* natlb ARGS... from the source tree: stdout, asserting the exit status. */
static char *natlb_stdout(const char *const *args, int want_status)
{
	struct lesson_dir d;
	char *out = NULL;
	lesson_dir_open(&d, false);
	g_assert_cmpint(run_in(&d, args, &out, NULL), ==, want_status);
	lesson_dir_close(&d);
	return out;
}

static unsigned count_of(const char *text, const char *word)
{
	unsigned n = 0;
	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word))
		n++;
	return n;
}

/* The usage line names the arguments once (GOption adds G_OPTION_REMAINING's to the context's). */
static void test_usage_names_arguments_once(gconstpointer data)
{
	const char *const *row = data; /* verb, the arguments as the usage line shows them */
	const char *args[] = { row[0], "--help", NULL };
	char *out = natlb_stdout(args, 0);
	char **lines = g_strsplit(out, "\n", 3);
	g_assert_nonnull(lines[1]);
	if (count_of(lines[1], row[1]) != 1)
		g_error("usage line \"%s\" should name \"%s\" once", lines[1], row[1]);
	g_strfreev(lines);
	g_free(out);
}

static void test_version(void)
{
	static const char *const args[] = { "--version", NULL };
	char *out = natlb_stdout(args, 0);
	g_assert_true(g_str_has_prefix(out, "natlb "));
	g_assert_true(g_str_has_suffix(out, "\n"));
	g_assert_cmpuint(strlen(out), >, strlen("natlb \n"));
	g_assert_cmpuint(count_of(out, "\n"), ==, 1);
	g_assert_null(strchr(out + strlen("natlb "), ' '));
	g_free(out);
}

/* Where each blank-separated field after the first starts, for the lines that begin with prefix. */
static void assert_columns_line_up(const char *text, const char *prefix, unsigned n_columns)
{
	char **lines = g_strsplit(text, "\n", -1);
	int first[4] = { -1, -1, -1, -1 };
	unsigned n_lines = 0;
	g_assert_cmpuint(n_columns, <=, G_N_ELEMENTS(first));
	for (char **l = lines; *l; l++) {
		if (!**l || !g_str_has_prefix(*l, prefix) || (*prefix == ' ' && (*l)[strlen(prefix)] == ' '))
			continue;
		const char *p = *l + strlen(prefix);
		for (unsigned c = 1; c < n_columns; c++) {
			p += strcspn(p, " ");
			p += strspn(p, " ");
			int at = (int)(p - *l);
			if (first[c] < 0)
				first[c] = at;
			else if (at != first[c])
				g_error("column %u of \"%s\" starts at %d, the first line's at %d", c + 1, *l, at, first[c]);
		}
		n_lines++;
	}
	g_assert_cmpuint(n_lines, >, 3);
	g_strfreev(lines);
}

static void test_scenarios_columns_line_up(void)
{
	static const char *const args[] = { "scenarios", NULL };
	char *out = natlb_stdout(args, 0);
	assert_columns_line_up(out, "", 3);
	g_free(out);
}

static void test_gen_help_lessons_line_up(void)
{
	static const char *const args[] = { "gen", "--help", NULL };
	char *out = natlb_stdout(args, 0);
	const char *lessons = strstr(out, "Lessons:\n");
	g_assert_nonnull(lessons);
	assert_columns_line_up(lessons, "  ", 2);
	g_free(out);
}

/* The README's napt reference names every key the stage takes (nat/napt_config.c's list). */
static void test_readme_names_every_napt_key(void)
{
	char *readme = NULL;
	g_assert_true(g_file_get_contents("README.md", &readme, NULL, NULL));
	const char *napt = strstr(readme, "with `type = napt`");
	g_assert_nonnull(napt);
	const char *end = strstr(napt, "with `type = route-table`");
	g_assert_nonnull(end);
	char *section = g_strndup(napt, (gsize)(end - napt));
	for (const char *const *k = napt_keys; *k; k++) {
		char *quoted = g_strdup_printf("`%s`", *k);
		/* the timeouts are one row: timeout-udp, timeout-tcp-established, ... */
		if (!strstr(section, quoted) && !g_str_has_prefix(*k, "timeout-"))
			g_error("README's napt reference does not name `%s`", *k);
		g_free(quoted);
	}
	g_free(section);
	g_free(readme);
}

/* --trace counts seconds from the first captured packet, as Wireshark's time column does; the
 * reply's view derived before its capture is one hop earlier. */
static void test_trace_counts_from_the_first_packet(void)
{
	char *dir = test_tmpdir(), *out = g_strdup_printf("%s/out.pcapng", dir), *err = NULL;
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--trace", "-s", "scenarios/napt-home.ini", "-o", out,
	                       "pcaps/napt-home.pcap", NULL };

	g_assert_cmpint(test_run(argv, NULL, &err), ==, 0);
	char **lines = g_strsplit(err, "\n", -1);
	g_assert_true(g_str_has_prefix(lines[0], "0.000000000 lan "));
	g_assert_true(g_str_has_prefix(lines[1], "0.000001000 internet "));
	g_assert_true(g_str_has_prefix(lines[2], "0.002999000 internet "));
	g_strfreev(lines);
	g_free(err);
	g_free(out);
	test_rmdir(dir);
}

/* Issue item 10: a route counts the replies that came back the way its requests left.  The
 * lesson's three replies from 198.51.100.80 came back through the NAT gateway (they read "0 back"),
 * the DNS reply from the VPC resolver through local; nothing comes back through a blackhole. */
static void test_route_counts_replies(void)
{
	char *dir = test_tmpdir(), *out = g_strdup_printf("%s/out.pcapng", dir), *stats = NULL;
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", "scenarios/natgw-vs-s3-endpoint.ini",
	                       "-o", out, "pcaps/natgw-vs-s3-endpoint.pcap", NULL };
	static const char *const want[] = {
		"    route 1 10.0.0.0/16 -> local: 1 out, 1 back through it\n",
		"    route 2 pl-s3 -> endpoint vpce-s3: 5 out, 3 back through it\n",
		"    route 3 0.0.0.0/0 -> natgw: 5 out, 3 back through it\n",
		"    route 4 192.0.2.0/24 -> blackhole: 1 out, 0 back through it\n",
	};

	g_assert_cmpint(test_run(argv, &stats, NULL), ==, 0);
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
		if (!strstr(stats, want[i]))
			g_error("not in the statistics: %s---\n%s", want[i], stats);
	g_free(stats);
	g_free(out);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/lesson-name/an-edited-copy-in-scenarios-here-is-replayed-and-named",
	                test_edited_local_copy_is_replayed);
	g_test_add_func("/cli/lesson-name/without-a-copy-here-the-checkouts-file-is-read-and-named",
	                test_without_local_copy_the_checkouts_file_is_read);
	g_test_add_func("/cli/lesson-name/quiet-replay-prints-nothing", test_quiet_replay_says_nothing);
	g_test_add_func("/cli/lesson-name/check-reads-and-names-the-copy-here", test_check_reads_the_local_copy);
	for (unsigned i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		char *path = g_strdup_printf("/cli/check/%s", check_cases[i].name);
		g_test_add_data_func(path, &check_cases[i], test_check_case);
		g_free(path);
	}
	g_test_add_func("/cli/check/a-warning-goes-to-stderr-and-the-scenario-is-printed", test_check_warns_and_prints);
	g_test_add_func("/cli/lesson-name/a-lesson-of-ones-own-is-found-by-name",
	                test_a_local_lesson_that_is_not_bundled_is_found);
	g_test_add_func("/cli/lesson-name/the-built-in-copy-when-no-folder-has-the-file",
	                test_built_in_copy_when_no_folder_has_the_file);
	static const char *const replay_usage[] = { "replay", "INPUT..." };
	static const char *const hash_usage[] = { "hash", "SRC[:PORT] DST[:PORT][/PROTO]" };
	g_test_add_data_func("/cli/help/replay-usage-names-its-inputs-once", replay_usage, test_usage_names_arguments_once);
	g_test_add_data_func("/cli/help/hash-usage-names-its-arguments-once", hash_usage, test_usage_names_arguments_once);
	g_test_add_func("/cli/version/prints-natlb-and-one-version-word", test_version);
	g_test_add_func("/cli/trace/seconds-since-the-first-captured-packet", test_trace_counts_from_the_first_packet);
	g_test_add_func("/cli/scenarios/name-file-and-description-columns-line-up", test_scenarios_columns_line_up);
	g_test_add_func("/cli/gen/help-lists-lessons-in-a-column-that-lines-up", test_gen_help_lessons_line_up);
	g_test_add_func("/cli/readme/napt-reference-names-every-key", test_readme_names_every_napt_key);
	g_test_add_func("/cli/stats/a-route-counts-the-replies-that-came-back-its-way", test_route_counts_replies);
	return g_test_run();
}
