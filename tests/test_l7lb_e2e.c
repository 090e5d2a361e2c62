/* tests/test_l7lb_e2e.c: the L7 balancer lessons end to end: natlb gen, natlb replay, and tshark as the independent reader.
 *
 * Follows: the lesson scenarios scenarios/alb-*.ini and nlb-alb.ini and their captures
 * (tools/gen_lessons_l7.c).  tshark decodes HTTP on both links: every request the client sent
 * must reach the target its rule names, with X-Forwarded-For, or be answered by the balancer;
 * its TCP analysis runs over the streams natlb synthesizes on the target side, and must find
 * nothing wrong there.
 */
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>

#include "tests/testpkt.h"
#include "tests/testutil.h"

static char *tmp_dir;

static char *capture_path(const char *capture)
{
	char *path = g_strdup_printf("%s/%s.pcap", tmp_dir, capture);
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		const char *argv[] = { test_natlb_binary(), "gen", capture, "-o", path, NULL };
		char *err = NULL;
		int rc = test_run(argv, NULL, &err);
		if (rc != 0)
			g_printerr("natlb gen %s: %s", capture, err);
		g_assert_cmpint(rc, ==, 0);
		g_free(err);
	}
	return path;
}

/* natlb replay --stats SCENARIO CAPTURE into TMP/SCENARIO.pcapng (with extra options); the
 * output's path, and the --stats text in *stats when asked. */
static char *replay_with(const char *scenario, const char *capture, const char *extra, char **stats)
{
	/* a lesson by name, or a variant that a test wrote into tmp_dir */
	bool variant = strchr(scenario, '/') != NULL;
	char *sc = variant ? g_strdup(scenario) : g_strdup_printf("scenarios/%s.ini", scenario);
	char *in = capture_path(capture);
	char *base = g_path_get_basename(scenario);
	char *out = g_strdup_printf("%s/%s%s.pcapng", tmp_dir, base, extra ? "-x" : "");
	g_free(base);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", sc, "-o", out, in, extra, NULL };
	char *text = NULL, *err = NULL;
	int rc = test_run(argv, &text, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_assert_nonnull(strstr(text, ": balanced\n"));
	g_assert_null(strstr(text, "NOT BALANCED"));
	g_assert_null(strstr(text, "WARNING"));
	if (stats)
		*stats = text;
	else
		g_free(text);
	g_free(err);
	g_free(in);
	g_free(sc);
	return out;
}

static char *replay(const char *scenario, const char *capture, char **stats)
{
	return replay_with(scenario, capture, NULL, stats);
}

static char *tshark(const char *file, const char *filter, const char *const *fields)
{
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	return test_tshark_fields(file, prefs, filter, fields);
}

/* ---- host and path routing ----------------------------------------------------------------------- */

/* Each request on the target side: which target, from whom, for which URI, with which
 * X-Forwarded-For.  Read by hand against the rules of scenarios/alb-host-path.ini:
 *   rule 10, api.example.com under /v1/, -> api (10.0.1.11, .12; least outstanding requests, ties
 *   round robin: /v1/cart finds both idle and takes .11; the three pipelined /v1/a, b, c are all
 *   outstanding at once, so they go .12, .11 and .12 again, which has 1 outstanding like .11 and
 *   is next in turn); rule 20, under /static/ or /images/ or ending .js, -> web (.21); rule 30, a
 *   Mobile user agent, -> mobile (.31); /Images (capital I), /v2, old.example.com and ?debug=1
 *   never reach a target. */
static void test_requests_reach_the_targets_their_rules_name(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "ip.src", "ip.dst", "http.host", "http.request.uri",
		                              "http.x_forwarded_for", NULL };
	char *out = replay("alb-host-path", "alb-shop", NULL);
	char *got = tshark(out, "frame.interface_name == \"app\" and http.request", fields);
	g_assert_cmpstr(got, ==,
	                "10.0.1.2|10.0.1.11|api.example.com|/v1/cart|198.51.100.7\n"
	                "10.0.1.2|10.0.1.21|www.example.com|/static/app.js|198.51.100.7\n"
	                "10.0.1.2|10.0.1.21|www.example.com|/images/logo.png|198.51.100.7\n"
	                "10.0.1.2|10.0.1.12|api.example.com|/v1/a|198.51.100.9\n"
	                "10.0.1.2|10.0.1.11|api.example.com|/v1/b|198.51.100.9\n"
	                "10.0.1.2|10.0.1.12|api.example.com|/v1/c|198.51.100.9\n"
	                "10.0.1.2|10.0.1.11|api.example.com|/v1/orders|198.51.100.10\n"
	                "10.0.1.2|10.0.1.31|www.example.com|/|198.51.100.10\n");
	g_free(got);
	g_free(out);
}

/* What the balancer answered itself, on the client side: the 404s of the default action, the
 * redirect of rule 40 (its Location built from the request's path and query), the 503 of rule 50. */
static void test_the_balancer_answers_what_no_target_gets(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "ip.dst", "http.response.code", "http.location", "http.server", NULL };
	char *out = replay("alb-host-path", "alb-shop", NULL);
	char *got = tshark(out, "frame.interface_name == \"internet\" and http.server == \"awselb/2.0\"", fields);
	g_assert_cmpstr(got, ==,
	                "198.51.100.7|404||awselb/2.0\n"
	                "198.51.100.7|404||awselb/2.0\n"
	                "198.51.100.8|301|http://www.example.com:80/sale?id=7|awselb/2.0\n"
	                "198.51.100.10|503||awselb/2.0\n");
	g_free(got);
	g_free(out);
}

/* The streams natlb writes on the target side: every checksum right, and tshark's TCP analysis
 * (sequence numbers, acknowledgements, retransmissions, windows) finds nothing.  On the client
 * side too, once the balancer's own answers are in and the client's acknowledgements renumbered:
 * only the capture's responses it replaced, shown where they were captured and marked not
 * delivered, overlap its answers. */
static void test_target_side_tcp_is_clean(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const char *const *lesson = data;
	static const char *const fields[] = { "frame.number", "frame.interface_name", "_ws.expert.message", NULL };
	char *out = replay(lesson[0], lesson[1], NULL);
	char *bad = tshark(out, "(tcp.analysis.flags and not frame.comment contains \"not delivered\") or _ws.malformed or "
	                   "(ip.checksum.status != 1) or (tcp and tcp.checksum.status != 1)", fields);
	g_assert_cmpstr(bad, ==, "");
	g_free(bad);
	static const char *const syn[] = { "frame.interface_name", NULL };
	char *syns = tshark(out, "frame.interface_name == \"app\" and tcp.flags.syn == 1 and tcp.flags.ack == 0", syn);
	g_assert_cmpstr(syns, !=, "");
	g_free(syns);
	g_free(out);
}

/* ALB pipelines on front-end connections, never on backend ones: on each backend connection a
 * request follows only the response to the one before it.  Client C's three pipelined requests
 * are all outstanding at once, so /v1/c, sent to 10.0.1.12 while /v1/a still waits there, gets a
 * connection of its own. */
static void test_backend_connections_carry_one_request_at_a_time(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const char *const *lesson = data;
	static const char *const fields[] = { "tcp.stream", "http.request", "http.response", NULL };
	char *out = replay(lesson[0], lesson[1], NULL);
	char *got = tshark(out, "frame.interface_name == \"app\" and http", fields);
	GHashTable *waiting = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL); /* streams with a request in flight */
	char **lines = g_strsplit(got, "\n", -1);
	unsigned requests = 0;
	for (char **l = lines; *l && **l; l++) {
		char **f = g_strsplit(*l, "|", -1);
		g_assert_cmpuint(g_strv_length(f), ==, 3);
		bool is_request = *f[1] != '\0';
		if (is_request) {
			if (g_hash_table_contains(waiting, f[0]))
				g_error("backend stream %s: a request while another awaits its response: %s", f[0], *l);
			g_hash_table_add(waiting, g_strdup(f[0]));
			requests++;
		} else {
			g_assert_true(g_hash_table_remove(waiting, f[0]) || !"a response without its request");
		}
		g_strfreev(f);
	}
	g_assert_cmpuint(requests, ==, g_ascii_strtoull(lesson[2], NULL, 10));
	g_assert_cmpuint(g_hash_table_size(waiting), ==, 0);
	g_strfreev(lines);
	g_hash_table_destroy(waiting);
	g_free(got);
	g_free(out);
}

/* NLB vs ALB on one capture: through the NLB each client connection is one connection to one
 * target, which sees the client's address; through the ALB client A's one connection becomes
 * two backend connections (api and web), all from the balancer's address. */
static void test_nlb_forwards_connections_alb_requests(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "ip.src", "ip.dst", NULL };
	const char *syn = "frame.interface_name == \"app\" and tcp.flags.syn == 1 and tcp.flags.ack == 0";
	char *nlb = replay("alb-vs-nlb", "alb-shop", NULL);
	char *got = tshark(nlb, syn, fields);
	char **lines = g_strsplit(got, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 5); /* four client connections, and the empty tail */
	for (char **l = lines; *l && **l; l++)
		g_assert_true(g_str_has_prefix(*l, "198.51.100."));
	g_strfreev(lines);
	g_free(got);
	char *alb = replay("alb-host-path", "alb-shop", NULL);
	got = tshark(alb, syn, fields);
	lines = g_strsplit(got, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), >, 5);
	for (char **l = lines; *l && **l; l++)
		g_assert_true(g_str_has_prefix(*l, "10.0.1.2|"));
	g_strfreev(lines);
	g_free(got);
	g_free(alb);
	g_free(nlb);
}

/* NLB in front of ALB, client IP preserved by the NLB: the ALB sees the client, so its
 * X-Forwarded-For names the client, not the NLB. */
static void test_nlb_in_front_keeps_the_client_in_xff(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "frame.interface_name", "ip.src", "http.x_forwarded_for", NULL };
	char *out = replay("nlb-alb", "alb-shop", NULL);
	char *got = tshark(out, "http.request and http.request.uri == \"/v1/cart\"", fields);
	g_assert_cmpstr(got, ==, "internet|198.51.100.7|\nedge|198.51.100.7|\napp|10.0.1.2|198.51.100.7\n");
	g_free(got);
	g_free(out);
}

/* Two replays of one capture are the same bytes: ports, sequence numbers and trace ids come from
 * --seed and the connection, never from the clock. */
static void test_replay_is_deterministic(void)
{
	char *a = replay("alb-host-path", "alb-shop", NULL);
	char *a_bytes, *b_bytes;
	gsize a_len, b_len;
	g_assert_true(g_file_get_contents(a, &a_bytes, &a_len, NULL));
	char *b = replay("alb-host-path", "alb-shop", NULL);
	g_assert_true(g_file_get_contents(b, &b_bytes, &b_len, NULL));
	g_assert_cmpmem(a_bytes, a_len, b_bytes, b_len);
	g_free(a_bytes);
	g_free(b_bytes);
	g_free(a);
	g_free(b);
}

/* The stats speak ALB's CloudWatch names. */
static void test_stats_use_cloudwatch_names(void)
{
	char *stats = NULL;
	char *out = replay("alb-host-path", "alb-shop", &stats);
	g_assert_nonnull(strstr(stats, "RequestCount "));
	g_assert_nonnull(strstr(stats, "HTTP_Redirect_Count "));
	g_assert_nonnull(strstr(stats, "HTTP_Fixed_Response_Count "));
	g_assert_nonnull(strstr(stats, "RuleEvaluations "));
	g_free(stats);
	g_free(out);
}

/* Desync mitigation: the same four requests (compliant GET; CL.TE, Ambiguous; two different
 * Content-Lengths, Severe; GET with Content-Length 0, Acceptable) in each mode, as AWS's table
 * says: monitor routes all; defensive refuses Severe with 400 and routes Ambiguous, closing the
 * connections after it; strictest routes only what is compliant. */
struct desync_case {
	const char *scenario;
	const char *to_target; /* the methods that reach the target, in order */
	unsigned answered_400;
};

static const struct desync_case desync_cases[] = {
	{ "alb-desync-monitor", "GET\nPOST\nPOST\nGET\n", 0 },
	{ "alb-desync-defensive", "GET\nPOST\nGET\n", 1 },
	{ "alb-desync-strictest", "GET\n", 3 },
};

static void test_desync_mode(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct desync_case *dc = data;
	static const char *const method[] = { "http.request.method", NULL };
	static const char *const code[] = { "http.response.code", NULL };
	char *out = replay(dc->scenario, "alb-smuggling", NULL);
	char *got = tshark(out, "frame.interface_name == \"app\" and http.request", method);
	g_assert_cmpstr(got, ==, dc->to_target);
	g_free(got);
	got = tshark(out, "frame.interface_name == \"internet\" and http.response.code == 400", code);
	unsigned n = 0;
	for (const char *p = got; *p; p++)
		n += *p == '\n';
	g_assert_cmpuint(n, ==, dc->answered_400);
	g_free(got);
	/* the balancer reads no more of a connection it refused a request on, and its 400 says so */
	static const char *const connection[] = { "http.connection", NULL };
	got = tshark(out, "frame.interface_name == \"internet\" and http.response.code == 400", connection);
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l && **l; l++)
		g_assert_cmpstr(*l, ==, "close");
	g_strfreev(lines);
	g_free(got);
	g_free(out);
}

/* Defensive mode, Ambiguous request: the comment of the response the balancer relays says that it
 * closes the connections after it, and then, as a sentence of its own, what it relayed. */
static void test_desync_close_note_reads_as_two_sentences(void)
{
	TEST_NEED_TSHARK();
	static const char *const comment[] = { "frame.comment", NULL };
	char *out = replay("alb-desync-defensive", "alb-smuggling", NULL);
	char *got = tshark(out, "frame.interface_name == \"internet\" and ip.dst == 198.51.100.21 and tcp.len > 0", comment);
	g_assert_cmpstr(got, ==, "flow #2 | captured on internet, l7-lb shop-alb: desync mitigation: after this response the "
	                         "balancer closes connection #2 and its backend connections; 41 response bytes relayed "
	                         "by the balancer on connection #2\n");
	g_free(got);
	g_free(out);
}

/* Who closes each client connection first, per mitigation mode, as the client side shows it: "B"
 * the balancer's FIN, "C" the client's, in frame order.  ALB closes itself right after the
 * response to an Ambiguous request (defensive) and after its own 400 (Connection: close); a
 * connection it keeps open is closed by the client first, as the capture has it.  Connections
 * #1-#4 of alb-smuggling: compliant, Ambiguous (CL+TE), Severe (two Content-Lengths), Acceptable. */
struct close_order_case {
	const char *scenario;
	const char *order[4];
};

static const struct close_order_case close_order_cases[] = {
	{ "alb-desync-monitor", { "CB", "CB", "CB", "CB" } },
	{ "alb-desync-defensive", { "CB", "BC", "BC", "CB" } },
	{ "alb-desync-strictest", { "CB", "BC", "BC", "BC" } },
};

static void test_who_closes_first(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct close_order_case *tc = data;
	static const char *const fields[] = { "ip.src", NULL };
	char *out = replay(tc->scenario, "alb-smuggling", NULL);
	for (unsigned i = 0; i < 4; i++) {
		char *filter = g_strdup_printf("frame.interface_name == \"internet\" and tcp.flags.fin == 1 and "
		                               "tcp.port == %u", 52000 + i);
		char *got = tshark(out, filter, fields);
		GString *order = g_string_new("");
		char **lines = g_strsplit(got, "\n", -1);
		for (char **l = lines; *l && **l; l++)
			g_string_append_c(order, strcmp(*l, "203.0.113.10") == 0 ? 'B' : 'C');
		g_assert_cmpstr(order->str, ==, tc->order[i]);
		g_strfreev(lines);
		g_string_free(order, TRUE);
		g_free(got);
		g_free(filter);
	}
	g_free(out);
}

/* The balancer's own segments to a client (its 400s and FINs) advertise the window the capture's
 * server advertised on that connection: their window field is one the captured segments from the
 * listener carry (the scale was agreed in the captured handshake, so 65535 would read as 8 MB). */
static void test_own_segments_advertise_the_captured_window(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "tcp.window_size_value", NULL };
	char *out = replay("alb-desync-strictest", "alb-smuggling", NULL);
	char *captured = tshark(out, "ip.src == 203.0.113.10 and frame.comment contains \"captured on\"", fields);
	char *own = tshark(out, "ip.src == 203.0.113.10 and not frame.comment contains \"captured on\"", fields);
	char **want = g_strsplit(captured, "\n", -1), **got = g_strsplit(own, "\n", -1);
	unsigned n = 0;
	for (char **w = got; *w && **w; w++, n++)
		g_assert_true(g_strv_contains((const char *const *)want, *w));
	g_assert_cmpuint(n, ==, 6); /* three 400s, each with its FIN */
	g_strfreev(want);
	g_strfreev(got);
	g_free(own);
	g_free(captured);
	g_free(out);
}

/* Blue/green: the lesson's own file with one line changed, as a teacher would edit it. */
static char *lesson_variant(const char *lesson, const char *line, const char *replacement, const char *name)
{
	char *sc = g_strdup_printf("scenarios/%s.ini", lesson), *text = NULL;
	g_assert_true(g_file_get_contents(sc, &text, NULL, NULL));
	char *at = strstr(text, line);
	g_assert_nonnull(at);
	*at = '\0';
	char *edited = g_strconcat(text, replacement, at + strlen(line), NULL);
	char *path = g_strdup_printf("%s/%s.ini", tmp_dir, name);
	g_assert_true(g_file_set_contents(path, edited, -1, NULL));
	g_free(edited);
	g_free(text);
	g_free(sc);
	return path;
}

/* How many lines of tshark's output are exactly want. */
static unsigned lines_equal(const char *text, const char *want)
{
	unsigned n = 0;
	char **lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++)
		n += strcmp(*l, want) == 0;
	g_strfreev(lines);
	return n;
}

/* Weighted forward 90/10 over 80 requests: green's share is what a 10% weight gives (the pick is
 * seeded, so the count is fixed, but any count a fair 10% coin gives in 80 throws within about 3
 * standard deviations would do), and once 10.0.1.12 is down at 250 ms it gets no request while
 * 10.0.1.11 takes all of blue's. */
static void test_blue_green_weights_and_a_target_down(void)
{
	TEST_NEED_TSHARK();
	static const char *const fields[] = { "ip.dst", "frame.time_relative", NULL };
	char *out = replay("alb-blue-green", "alb-blue-green", NULL);
	char *got = tshark(out, "frame.interface_name == \"app\" and http.request", fields);
	unsigned blue = 0, green = 0, n = 0, to_12_after_down = 0, to_12_before = 0;
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l && **l; l++, n++) {
		char ip[32];
		double t;
		g_assert_cmpint(sscanf(*l, "%31[^|]|%lf", ip, &t), ==, 2);
		if (strcmp(ip, "10.0.1.21") == 0)
			green++;
		else
			blue++;
		if (strcmp(ip, "10.0.1.12") == 0) {
			to_12_after_down += t >= 0.25;
			to_12_before += t < 0.25;
		}
	}
	g_strfreev(lines);
	g_assert_cmpuint(n, ==, 80);
	g_assert_cmpuint(green, >=, 1);
	g_assert_cmpuint(green, <=, 16);
	g_assert_cmpuint(blue + green, ==, 80);
	g_assert_cmpuint(to_12_before, >, 0);
	g_assert_cmpuint(to_12_after_down, ==, 0);
	g_free(got);
	g_free(out);
}

/* With both blue targets down, blue fails open: its requests still reach its targets, and the
 * client's request says why. */
static void test_blue_green_fails_open_with_no_healthy_target(void)
{
	TEST_NEED_TSHARK();
	static const char *const ip[] = { "ip.dst", NULL };
	static const char *const comment[] = { "frame.comment", NULL };
	char *sc = lesson_variant("alb-blue-green", "events = 250ms down 10.0.1.12:8080",
	                          "events = 250ms down 10.0.1.12:8080; 250ms down 10.0.1.11:8080", "blue-down");
	char *out = replay(sc, "alb-blue-green", NULL);
	char *got = tshark(out, "frame.interface_name == \"app\" and http.request and frame.time_relative >= 0.25", ip);
	g_assert_cmpuint(lines_equal(got, "10.0.1.11") + lines_equal(got, "10.0.1.12"), >, 0);
	g_free(got);
	got = tshark(out, "frame.interface_name == \"internet\" and http.request and frame.time_relative >= 0.25 "
	                  "and ip.dst == 203.0.113.10 and frame.comment contains \"-> blue ->\"", comment);
	g_assert_cmpstr(got, !=, "");
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l && **l; l++)
		g_assert_nonnull(strstr(*l, "no healthy target: the group fails open to all its targets"));
	g_strfreev(lines);
	g_free(got);
	g_free(out);
	g_free(sc);
}

/* The stage's notes are sentences joined by "; ", never an empty one between two separators, and
 * none run into the next: found by fuzz_l7lb's seeds, a connection picked up without its SYN
 * (here every SYN is filtered out) read "mid-stream (...); ; request 1", and the response after an
 * Ambiguous request "its backend connections41 response bytes". */
struct note_case {
	const char *scenario, *capture, *option; /* option: one more argument for natlb replay, or NULL */
	const char *sentence;                    /* what one comment must hold, across a join */
};

static const struct note_case note_cases[] = {
	{ "alb-host-path", "alb-shop", "--filter=tcp[tcpflags] & tcp-syn == 0",
	  "picked up mid-stream (its SYN was not captured); request 1 on connection #1: GET " },
	{ "alb-desync-defensive", "alb-smuggling", NULL,
	  "closes connection #2 and its backend connections; 41 response bytes relayed by the balancer" },
};

static void test_notes_are_joined_sentences(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const struct note_case *nc = data;
	static const char *const comment[] = { "frame.comment", NULL };
	char *out = replay_with(nc->scenario, nc->capture, nc->option, NULL);
	char *got = tshark(out, "frame.comment contains \"l7-lb\"", comment);
	g_assert_nonnull(strstr(got, nc->sentence));
	char **lines = g_strsplit(got, "\n", -1);
	for (char **l = lines; *l; l++) {
		if (strstr(*l, "; ;") || strstr(*l, ";;") || g_str_has_suffix(*l, "; ") || strstr(*l, "; ,"))
			g_error("an empty sentence in: %s", *l);
	}
	g_strfreev(lines);
	g_free(got);
	g_free(out);
}

/* A capture written here, one raw IPv4 TCP segment after another, checksums right. */
struct hand_capture {
	pcap_t *dead;
	pcap_dumper_t *dump;
	int64_t t_us;
};

static void hand_segment(struct hand_capture *hc, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                         uint32_t seq, uint32_t ack, uint8_t flags, const char *payload)
{
	uint8_t f[1500] = { 0x45 };
	size_t n = strlen(payload);
	g_assert_cmpuint(n, <=, sizeof f - 40);
	test_put16(f, 2, (uint16_t)(40 + n));
	f[8] = 64;
	f[9] = 6;
	test_put32(f, 12, src);
	test_put32(f, 16, dst);
	test_put16(f, 10, csum_fold(csum_partial(f, 20, 0)));
	test_put16(f, 20, sport);
	test_put16(f, 22, dport);
	test_put32(f, 24, seq);
	test_put32(f, 28, ack);
	f[32] = 5 << 4;
	f[33] = flags;
	test_put16(f, 34, 65535);
	memcpy(f + 40, payload, n);
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, f + 12, 8);
	pseudo[9] = 6;
	test_put16(pseudo, 10, (uint16_t)(20 + n));
	test_put16(f, 36, csum_fold(csum_partial(f + 20, 20 + n, csum_partial(pseudo, sizeof pseudo, 0))));
	hc->t_us += 1000;
	struct pcap_pkthdr h = { .ts = { .tv_sec = 1767225600 + hc->t_us / 1000000, .tv_usec = hc->t_us % 1000000 },
		                 .caplen = (bpf_u_int32)(40 + n), .len = (bpf_u_int32)(40 + n) };
	pcap_dump((u_char *)hc->dump, &h, f);
}

/* One HTTP/1.0 request to alb-host-path's api group; the response has no length, so the
 * server's close ends it, and the FIN comes with its last bytes, as HTTP/1.0 servers send it. */
static void write_close_delimited_capture(const char *path)
{
	const uint32_t client = 0xc6336407, vip = 0xcb00710a; /* 198.51.100.7, 203.0.113.10 */
	const uint16_t cport = 51000;
	const char *req = "GET /v1/legacy HTTP/1.0\r\nHost: api.example.com\r\n\r\n";
	const char *resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the server closes";
	const uint32_t c0 = 1000, s0 = 5000, c1 = c0 + 1 + (uint32_t)strlen(req), s1 = s0 + 1 + (uint32_t)strlen(resp);
	struct hand_capture hc = { .dead = pcap_open_dead(DLT_RAW, 65535) };
	hc.dump = pcap_dump_open(hc.dead, path);
	g_assert_nonnull(hc.dump);
	hand_segment(&hc, client, cport, vip, 80, c0, 0, 0x02, "");
	hand_segment(&hc, vip, 80, client, cport, s0, c0 + 1, 0x12, "");
	hand_segment(&hc, client, cport, vip, 80, c0 + 1, s0 + 1, 0x10, "");
	hand_segment(&hc, client, cport, vip, 80, c0 + 1, s0 + 1, 0x18, req);
	hand_segment(&hc, vip, 80, client, cport, s0 + 1, c1, 0x19, resp); /* FIN, PSH, ACK */
	hand_segment(&hc, client, cport, vip, 80, c1, s1 + 1, 0x11, "");
	hand_segment(&hc, vip, 80, client, cport, s1 + 1, c1 + 1, 0x10, "");
	pcap_dump_close(hc.dump);
	pcap_close(hc.dead);
}

/* The response ends with the server's FIN (RFC 9112 section 6.3 item 8): the request is complete
 * (its access log line is written, the target closes its backend connection) and, the client
 * having closed too, the connection is no longer active.  Before, a response delimited by the close never
 * completed, and a FIN that came with data did not count as the balancer's. */
static void test_a_response_delimited_by_the_close_completes(void)
{
	TEST_NEED_TSHARK();
	char *cap = g_strdup_printf("%s/alb-close-delimited.pcap", tmp_dir);
	char *log = g_strdup_printf("%s/close-delimited.log", tmp_dir);
	char *log_opt = g_strdup_printf("--access-log=%s", log);
	write_close_delimited_capture(cap);
	char *stats = NULL, *text = NULL;
	char *out = replay_with("alb-host-path", "alb-close-delimited", log_opt, &stats);
	static const char *const fields[] = { "frame.interface_name", "ip.src", "http.response.code", "tcp.flags.fin", NULL };
	char *got = tshark(out, "http.response", fields);
	/* on both links the FIN ends the response, and the target's comes first */
	g_assert_cmpstr(got, ==, "app|10.0.1.11|200|1\ninternet|203.0.113.10|200|1\n");
	static const char *const number[] = { "frame.number", NULL };
	char *bad = tshark(out, "tcp.analysis.flags or _ws.malformed or tcp.checksum.status != 1", number);
	g_assert_cmpstr(bad, ==, "");
	g_free(bad);
	g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
	char **lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 2); /* one line, and the empty tail */
	g_assert_nonnull(strstr(lines[0], " 10.0.1.11:8080 "));
	g_assert_nonnull(strstr(lines[0], " 200 200 "));
	g_assert_nonnull(strstr(stats, "ActiveConnectionCount                            0\n"));
	g_strfreev(lines);
	g_free(text);
	g_free(got);
	g_free(out);
	g_free(stats);
	g_free(log_opt);
	g_free(log);
	g_free(cap);
}

/* Every view says what happened: the balancer's own segments towards a target too (its ACKs and a
 * request body's later segments once went out bare). */
static void test_every_view_has_a_comment(gconstpointer data)
{
	TEST_NEED_TSHARK();
	const char *const *lesson = data;
	static const char *const number[] = { "frame.number", NULL };
	char *out = replay(lesson[0], lesson[1], NULL);
	char *bare = tshark(out, "!frame.comment", number);
	g_assert_cmpstr(bare, ==, "");
	g_free(bare);
	g_free(out);
}

static const char *const every_lesson[][2] = {
	{ "alb-host-path", "alb-shop" }, { "alb-vs-nlb", "alb-shop" }, { "nlb-alb", "alb-shop" },
	{ "alb-blue-green", "alb-blue-green" }, { "alb-desync-monitor", "alb-smuggling" },
	{ "alb-desync-defensive", "alb-smuggling" }, { "alb-desync-strictest", "alb-smuggling" },
};

/* scenario, capture, and how many requests reach a target (8 by host-path's rules, all 12 by
 * nlb-alb's, whose default forwards) */
static const char *const lesson_host_path[] = { "alb-host-path", "alb-shop", "8" };
static const char *const lesson_nlb_alb[] = { "nlb-alb", "alb-shop", "12" };

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp_dir = test_tmpdir();
	g_test_add_func("/l7lb-e2e/alb-host-path/requests-reach-the-targets-their-rules-name",
	                test_requests_reach_the_targets_their_rules_name);
	g_test_add_func("/l7lb-e2e/alb-host-path/the-balancer-answers-what-no-target-gets",
	                test_the_balancer_answers_what_no_target_gets);
	g_test_add_data_func("/l7lb-e2e/alb-host-path/target-side-tcp-is-clean", lesson_host_path,
	                     test_target_side_tcp_is_clean);
	g_test_add_data_func("/l7lb-e2e/nlb-alb/target-side-tcp-is-clean", lesson_nlb_alb, test_target_side_tcp_is_clean);
	g_test_add_data_func("/l7lb-e2e/alb-host-path/backend-connections-carry-one-request-at-a-time", lesson_host_path,
	                     test_backend_connections_carry_one_request_at_a_time);
	g_test_add_data_func("/l7lb-e2e/nlb-alb/backend-connections-carry-one-request-at-a-time", lesson_nlb_alb,
	                     test_backend_connections_carry_one_request_at_a_time);
	for (unsigned i = 0; i < G_N_ELEMENTS(close_order_cases); i++) {
		char *name = g_strdup_printf("/l7lb-e2e/%s/who-closes-each-connection-first", close_order_cases[i].scenario);
		g_test_add_data_func(name, &close_order_cases[i], test_who_closes_first);
		g_free(name);
	}
	g_test_add_func("/l7lb-e2e/alb-desync-strictest/own-segments-advertise-the-captured-window",
	                test_own_segments_advertise_the_captured_window);
	g_test_add_func("/l7lb-e2e/alb-desync-defensive/close-note-reads-as-two-sentences",
	                test_desync_close_note_reads_as_two_sentences);
	g_test_add_func("/l7lb-e2e/alb-vs-nlb/nlb-forwards-connections-alb-requests",
	                test_nlb_forwards_connections_alb_requests);
	g_test_add_func("/l7lb-e2e/nlb-alb/xff-holds-the-client", test_nlb_in_front_keeps_the_client_in_xff);
	g_test_add_func("/l7lb-e2e/alb-host-path/deterministic", test_replay_is_deterministic);
	g_test_add_func("/l7lb-e2e/alb-host-path/stats-use-cloudwatch-names", test_stats_use_cloudwatch_names);
	g_test_add_func("/l7lb-e2e/alb-blue-green/weights-split-requests-and-a-down-target-gets-none",
	                test_blue_green_weights_and_a_target_down);
	g_test_add_func("/l7lb-e2e/alb-blue-green/no-healthy-target-fails-open", test_blue_green_fails_open_with_no_healthy_target);
	for (unsigned i = 0; i < G_N_ELEMENTS(every_lesson); i++) {
		char *name = g_strdup_printf("/l7lb-e2e/%s/every-view-has-a-comment", every_lesson[i][0]);
		g_test_add_data_func(name, every_lesson[i], test_every_view_has_a_comment);
		g_free(name);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(desync_cases); i++) {
		char *name = g_strdup_printf("/l7lb-e2e/%s/requests-routed-and-refused", desync_cases[i].scenario);
		g_test_add_data_func(name, &desync_cases[i], test_desync_mode);
		g_free(name);
	}
	g_test_add_func("/l7lb-e2e/alb-host-path/a-response-delimited-by-the-close-completes",
	                test_a_response_delimited_by_the_close_completes);
	for (unsigned i = 0; i < G_N_ELEMENTS(note_cases); i++) {
		char *name = g_strdup_printf("/l7lb-e2e/%s/notes-are-joined-sentences%s", note_cases[i].scenario,
		                             note_cases[i].option ? "-without-syns" : "");
		g_test_add_data_func(name, &note_cases[i], test_notes_are_joined_sentences);
		g_free(name);
	}
	int rc = g_test_run();
	test_rmdir(tmp_dir);
	return rc;
}
