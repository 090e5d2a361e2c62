/* tests/test_wireshark_profile.c: natlb wireshark-profile, read back by tshark -C natlb (Wireshark User's Guide, "Configuration Profiles").
 *
 * The profile is installed into a temporary XDG_CONFIG_HOME, as a user's would be, and tshark
 * reads a lesson's output through it: its columns must show the link and the comment, and each
 * colouring rule's filter must be one tshark accepts and must pick the views it is named for.
 */
#include <stdbool.h>
#include <stdio.h>

#include "tests/testutil.h"

static char *tmp_dir, *exhaustion_out;

/* napt-exhaustion has every kind of view: SNATs, derived replies, drops and ICMP errors the
 * router sends itself. */
static const char *lesson_output(void)
{
	if (exhaustion_out)
		return exhaustion_out;
	char *in = g_strdup_printf("%s/exhaustion.pcap", tmp_dir);
	exhaustion_out = g_strdup_printf("%s/exhaustion.pcapng", tmp_dir);
	const char *gen[] = { test_natlb_binary(), "gen", "napt-exhaustion", "-o", in, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "napt-exhaustion", "-o", exhaustion_out, in, NULL };
	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	g_free(in);
	return exhaustion_out;
}

static char *install(void)
{
	char *conf = g_strdup_printf("%s/config", tmp_dir);
	g_setenv("XDG_CONFIG_HOME", conf, TRUE);
	g_unsetenv("WIRESHARK_CONFIG_DIR");
	const char *argv[] = { test_natlb_binary(), "wireshark-profile", NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "installed profile 'natlb'"));
	g_free(out);
	return conf;
}

/* tshark -C natlb prints the profile's columns: the link after the time, the comment last. */
static void test_columns_show_link_and_comment(void)
{
	TEST_NEED_TSHARK();
	g_free(install());
	const char *argv[] = { "tshark", "-C", "natlb", "-r", lesson_output(), "-c", "2", NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	char **lines = g_strsplit(out, "\n", -1);
	g_assert_nonnull(lines[0]);
	g_assert_nonnull(lines[1]);
	g_assert_true(g_regex_match_simple("^ *1 0\\.000000000 lan .* captured on lan$", lines[0], 0, 0));
	g_assert_true(g_regex_match_simple("^ *2 0\\.000001000 internet .* napt home: SNAT .*$", lines[1], 0, 0));
	g_strfreev(lines);
	g_free(out);
}

/* Each rule of colorfilters (@NAME@FILTER@[bg][fg]), in order, with the frames it matches. */
struct colour_case {
	const char *path;   /* test path */
	const char *name;   /* the rule's name, as the file has it */
	const char *must;   /* a comment that this rule must match ... */
	const char *must_not; /* ... and one it must not */
};

static const struct colour_case colour_cases[] = {
	{ "/wireshark-profile/colours/drops", "natlb: dropped by a stage", "DROP (no free external port)", "(new mapping" },
	{ "/wireshark-profile/colours/packets-a-stage-sent", "natlb: sent by a stage itself", "ICMP destination unreachable", "SNAT" },
	{ "/wireshark-profile/colours/derived-views", "natlb: derived (not in the capture)", "(derived: the capture on lan", "DROP" },
	{ "/wireshark-profile/colours/translations", "natlb: translated", "SNAT 192.168.1.21:50001", "ICMP destination unreachable" },
};

static char *rule_filter(const char *colorfilters, const char *name)
{
	char *head = g_strdup_printf("@%s@", name);
	const char *at = strstr(colorfilters, head);
	g_assert_nonnull(at);
	at += strlen(head);
	const char *end = strchr(at, '@');
	g_assert_nonnull(end);
	g_assert_true(g_regex_match_simple("^@\\[\\d+,\\d+,\\d+\\]\\[\\d+,\\d+,\\d+\\]\n", end, 0, 0));
	g_free(head);
	return g_strndup(at, (gsize)(end - at));
}

static void test_colour_rule_picks_its_views(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct colour_case *c = data;
	char *conf = install(), *text = NULL;
	char *path = g_build_filename(conf, "wireshark", "profiles", "natlb", "colorfilters", NULL);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	char *filter = rule_filter(text, c->name);
	static const char *const comment[] = { "frame.comment", NULL };
	char *got = test_tshark_fields(lesson_output(), NULL, filter, comment);
	g_assert_nonnull(strstr(got, c->must));
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l; l++)
		g_assert_null(strstr(*l, c->must_not));
	g_strfreev(lines);
	g_free(got);
	g_free(filter);
	g_free(text);
	g_free(path);
	g_free(conf);
}

/* Count the lines tshark prints for the frames of file that filter matches, with the natlb profile
 * or with Wireshark's defaults (an empty configuration folder). */
static unsigned tshark_count(const char *file, const char *filter, bool with_profile)
{
	const char *argv[] = { "tshark", "-r", file, "-Y", filter, with_profile ? "-C" : NULL, "natlb", NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	unsigned n = 0;
	for (const char *p = out; (p = strchr(p, '\n')); p++)
		n++;
	g_free(out);
	return n;
}

/* The NAT gateway lesson shows the S3 connection's segments unchanged on three links, with the same
 * addresses and ports: Wireshark before 4.2 keys a TCP conversation by those alone, so it reports
 * the second and third copy of each segment as a retransmission or a duplicate ACK.  The profile
 * turns TCP sequence analysis off (tcp.analyze_sequence_numbers), which stops every such report. */
static void test_the_same_segment_on_three_links_is_no_retransmission(void)
{
	TEST_NEED_TSHARK();
	char *conf = install();
	char *in = g_strdup_printf("%s/natgw.pcap", tmp_dir), *out = g_strdup_printf("%s/natgw.pcapng", tmp_dir);
	const char *gen[] = { test_natlb_binary(), "gen", "natgw-vs-s3-endpoint", "-o", in, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	const char *replay[] = { test_natlb_binary(), "replay", "-q", "-s", "natgw-vs-s3-endpoint", "-o", out, in, NULL };
	g_assert_cmpint(test_run(replay, NULL, NULL), ==, 0);
	g_assert_cmpuint(tshark_count(out, "tcp.analysis.retransmission || tcp.analysis.duplicate_ack", false), >, 0);
	g_assert_cmpuint(tshark_count(out, "tcp.analysis.flags", true), ==, 0);
	/* and the segments are all still there, TCP dissected */
	g_assert_cmpuint(tshark_count(out, "tcp", true), ==, tshark_count(out, "tcp", false));
	g_free(in);
	g_free(out);
	g_free(conf);
}

/* -o DIR writes the two files there (twice: a second run updates them), and nothing else. */
static void test_output_dir_gets_both_files(void)
{
	char *dir = g_strdup_printf("%s/profile-here", tmp_dir);
	const char *argv[] = { test_natlb_binary(), "wireshark-profile", "-o", dir, NULL };
	for (int run = 0; run < 2; run++)
		g_assert_cmpint(test_run(argv, NULL, NULL), ==, 0);
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	unsigned n = 0;
	for (const char *name; (name = g_dir_read_name(d)); n++)
		g_assert_true(g_str_equal(name, "preferences") || g_str_equal(name, "colorfilters"));
	g_dir_close(d);
	g_assert_cmpuint(n, ==, 2);
	g_free(dir);
}

struct usage_case {
	const char *name;
	const char *arg[3];
	int want_rc;
	const char *want_err;
};

static const struct usage_case usage_cases[] = {
	{ "/wireshark-profile/usage/an-extra-argument-is-refused", { "natlb" }, 2, "unexpected argument 'natlb'" },
	{ "/wireshark-profile/usage/an-output-that-is-a-file-says-so", { "-o", "FILE" }, 1, "cannot create" },
};

static void test_usage(gconstpointer data)
{
	const struct usage_case *c = data;
	char *file = g_strdup_printf("%s/a-file", tmp_dir);
	g_assert_true(g_file_set_contents(file, "x", 1, NULL));
	const char *argv[5] = { test_natlb_binary(), "wireshark-profile" };
	for (unsigned i = 0; i < 2 && c->arg[i]; i++)
		argv[2 + i] = g_str_equal(c->arg[i], "FILE") ? file : c->arg[i];
	char *err = NULL;
	g_assert_cmpint(test_run(argv, NULL, &err), ==, c->want_rc);
	g_assert_nonnull(strstr(err, c->want_err));
	g_free(err);
	g_free(file);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	g_test_add_func("/wireshark-profile/tshark/columns-show-the-link-and-the-comment", test_columns_show_link_and_comment);
	for (unsigned i = 0; i < G_N_ELEMENTS(colour_cases); i++)
		g_test_add_data_func(colour_cases[i].path, &colour_cases[i], test_colour_rule_picks_its_views);
	g_test_add_func("/wireshark-profile/tshark/the-same-segment-on-three-links-is-no-retransmission",
	                test_the_same_segment_on_three_links_is_no_retransmission);
	g_test_add_func("/wireshark-profile/output/dir-gets-both-files", test_output_dir_gets_both_files);
	for (unsigned i = 0; i < G_N_ELEMENTS(usage_cases); i++)
		g_test_add_data_func(usage_cases[i].name, &usage_cases[i], test_usage);
	int rc = g_test_run();
	test_rmdir(tmp_dir);
	g_free(exhaustion_out);
	return rc;
}
