/* tests/test_shared_pcaps.c: every real capture in ../shared/pcaps replays without a crash, balanced, readable by tshark. */
#include "tests/testutil.h"

static const char peer_scenario[] =
	"[scenario]\n"
	"description = real captures: private prefixes statically mapped\n"
	"chain = lan > nat > internet\n"
	"[link lan]\n"
	"networks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16\n"
	"[link internet]\n"
	"[stage nat]\n"
	"type = static-nat\n"
	"map = 10.0.0.0/8 44.0.0.0/8; 172.16.0.0/12 100.64.0.0/12; 192.168.0.0/16 198.18.0.0/16\n";

/* Captures that do not simply replay, and what natlb must say about them. */
struct expectation {
	const char *file;
	int status;
	const char *stderr_has;  /* NULL: stderr must be empty */
};

static const struct expectation expectations[] = {
	{ "tcpdump__mpls-traceroute.pcap", 1, "link type PPP (9) is not supported" },
	{ "ndpi__fuzz-2021-10-13.pcap", 0, "warning: " },           /* cut inside record 2 */
	{ "pcapplusplus__pcapng-example.pcapng", 0, "warning: " },  /* libpcap stops at the second link type */
};

static const char *shared_pcaps(void)
{
	const char *env = g_getenv("NATLB_SHARED_PCAPS");
	return env ? env : "../shared/pcaps";
}

static void test_one(gconstpointer data)
{
	const char *name = data;
	const struct expectation *want = NULL;
	for (unsigned i = 0; i < G_N_ELEMENTS(expectations); i++)
		if (g_str_equal(expectations[i].file, name))
			want = &expectations[i];

	char *dir = test_tmpdir();
	char *scen = g_strdup_printf("%s/real.ini", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	char *in = g_build_filename(shared_pcaps(), name, NULL);
	g_assert_true(g_file_set_contents(scen, peer_scenario, -1, NULL));
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", scen, "-o", out, in, NULL };
	char *stdout_text = NULL, *stderr_text = NULL;
	int rc = test_run(argv, &stdout_text, &stderr_text);

	g_assert_cmpint(rc, ==, want ? want->status : 0);
	if (want && want->stderr_has)
		g_assert_nonnull(strstr(stderr_text, want->stderr_has));
	else
		g_assert_cmpstr(stderr_text, ==, "");
	if (rc == 0) {
		/* Every packet accounted for, and every replayed view equal to what was captured. */
		g_assert_nonnull(strstr(stdout_text, " consumed: balanced\n"));
		g_assert_null(strstr(stdout_text, "NOT BALANCED"));
		g_assert_null(strstr(stdout_text, "differ from the captured packet"));
		if (test_have_tshark()) {
			const char *tshark[] = { "tshark", "-r", out, NULL };
			char *terr = NULL;
			g_assert_cmpint(test_run(tshark, NULL, &terr), ==, 0);
			char *warn = test_tshark_warnings(terr);
			if (*warn)
				g_error("tshark warns about our output of %s: %s", name, warn);
			g_free(warn);
			g_free(terr);
		}
	} else {
		g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS)); /* no half-written output */
	}
	g_free(stdout_text);
	g_free(stderr_text);
	test_rmdir(dir);
	g_free(scen);
	g_free(out);
	g_free(in);
}

static void test_shared_missing(void)
{
	g_test_skip("../shared/pcaps is not beside the repository: real-capture replays SKIPPED");
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	GDir *d = g_dir_open(shared_pcaps(), 0, NULL);
	if (!d) {
		g_test_add_func("/shared-pcaps/replay", test_shared_missing);
		return g_test_run();
	}
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".pcap") || g_str_has_suffix(n, ".pcapng"))
			g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, compare_names);
	for (unsigned i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		char *path = g_strdup_printf("/shared-pcaps/replay/%s", name);
		g_test_add_data_func(path, name, test_one);
		g_free(path);
	}
	int rc = g_test_run();
	g_ptr_array_free(names, TRUE);
	return rc;
}
