/* tests/test_endpoint_policy_e2e.c: the gateway endpoint policy lesson end to end, read back with tshark: the listing reaches S3, the download is answered 403 AccessDenied by the endpoint; with the bucket's objects added it reaches S3 (nat/endpoint_policy.c; AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies").
 *
 * Also the scenario side: the built-in copy of the lesson carries its policy, a policy file is read
 * beside its scenario, and bad policies are refused naming the file, the group and the key.
 */
#define _GNU_SOURCE 1 /* memmem */
#include <netinet/tcp.h>
#include <pcap/pcap.h>
#include <string.h>

#include "common/scenario.h"
#include "tests/testutil.h"
#include "tools/cli.h"
#include "tools/gen.h"

#define LESSON_SCENARIO "scenarios/s3-endpoint-policy.ini"
#define LESSON_CAPTURE "pcaps/s3-endpoint-policy.pcap"
#define BUCKET_ONLY "\"Resource\": \"arn:aws:s3:::lesson-bucket\"}"
#define WITH_OBJECTS "\"Resource\": [\"arn:aws:s3:::lesson-bucket\", \"arn:aws:s3:::lesson-bucket/*\"]}"

/* natlb replay of capture through scenario, only link's views; the output's path. */
static char *replay_capture_link(const char *dir, const char *scenario, const char *capture, const char *link)
{
	char *out = g_strdup_printf("%s/%s.pcapng", dir, link);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", scenario, "--links", link, "-o", out,
		               capture, NULL };
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
	return out;
}

static char *replay_link(const char *dir, const char *scenario, const char *link)
{
	return replay_capture_link(dir, scenario, LESSON_CAPTURE, link);
}

/* The lesson's scenario with its policy's Resource replaced: the Try: line of the lesson. */
static char *scenario_with_objects(const char *dir)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(LESSON_SCENARIO, &text, NULL, NULL));
	char *at = strstr(text, BUCKET_ONLY);
	g_assert_nonnull(at);
	*at = '\0';
	char *fixed = g_strconcat(text, WITH_OBJECTS, at + strlen(BUCKET_ONLY), NULL);
	char *path = g_build_filename(dir, "fixed.ini", NULL);
	g_assert_true(g_file_set_contents(path, fixed, -1, NULL));
	g_free(fixed);
	g_free(text);
	return path;
}

static const char *const http_fields[] = { "ip.src", "ip.dst", "http.request.uri", "http.response.code",
	                                   "tcp.checksum.status", NULL };
static const char *const checksums[] = { "tcp.check_checksum:TRUE", "ip.check_checksum:TRUE", NULL };

static void test_bucket_only(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *app = replay_link(dir, LESSON_SCENARIO, "app");
	char *internet = replay_link(dir, LESSON_SCENARIO, "internet");

	/* The instance's side: the listing's 200, the endpoint's 403 in place of the download's 200;
	 * checksums verified (status 1). */
	char *out = test_tshark_fields(app, checksums, "http.response", http_fields);
	g_assert_cmpstr(out, ==, "52.216.20.181|10.0.1.10||200|1\n"
	                         "52.216.20.181|10.0.1.10||403|1\n");
	g_free(out);
	const char *comment[] = { "frame.comment", NULL };
	out = test_tshark_fields(app, NULL, "http.response.code == 403 and http contains \"<Code>AccessDenied</Code>\" "
	                         "and http contains \"<Message>Access Denied</Message>\"", comment);
	g_assert_nonnull(strstr(out, "gateway endpoint vpce-s3 answers request 1 on connection #2 itself: 403 "
	                             "AccessDenied (implicitly denied: no statement allows it)"));
	g_free(out);
	/* The captured 200 is shown there too, on the segments the 403 took the place of, not delivered
	 * (tshark reads it as data the 403 already covered, so not as HTTP). */
	const char *len[] = { "tcp.len", NULL };
	out = test_tshark_fields(app, NULL, "frame.comment contains \"went to the client in its place\"", len);
	g_assert_cmpstr(out, ==, "360\n");
	g_free(out);
	/* S3's side: the listing only; the download never left the endpoint. */
	out = test_tshark_fields(internet, checksums, "http.request", http_fields);
	g_assert_cmpstr(out, ==, "10.0.1.10|52.216.20.181|/?list-type=2||1\n");
	g_free(out);
	g_free(app);
	g_free(internet);
	test_rmdir(dir);
}

static void test_bucket_and_objects(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *scenario = scenario_with_objects(dir);
	char *app = replay_link(dir, scenario, "app");
	char *internet = replay_link(dir, scenario, "internet");

	char *out = test_tshark_fields(internet, checksums, "http.request", http_fields);
	g_assert_cmpstr(out, ==, "10.0.1.10|52.216.20.181|/?list-type=2||1\n10.0.1.10|52.216.20.181|/report.csv||1\n");
	g_free(out);
	out = test_tshark_fields(app, checksums, "http.response", http_fields);
	g_assert_cmpstr(out, ==, "52.216.20.181|10.0.1.10||200|1\n52.216.20.181|10.0.1.10||200|1\n");
	g_free(out);
	g_free(app);
	g_free(internet);
	g_free(scenario);
	test_rmdir(dir);
}

/* The lesson's capture with the segment carrying `needle` sent twice, as a client whose first copy's
 * acknowledgement was lost retransmits it; the new capture's path. */
static char *capture_with_retransmission(const char *dir, const char *needle)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	char *path = g_build_filename(dir, "retransmitted.pcap", NULL);
	pcap_t *in = pcap_open_offline(LESSON_CAPTURE, errbuf);
	g_assert_nonnull(in);
	pcap_dumper_t *d = pcap_dump_open(in, path);
	g_assert_nonnull(d);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	unsigned copies = 0;
	while (pcap_next_ex(in, &h, &bytes) == 1) {
		pcap_dump((u_char *)d, h, bytes);
		if (memmem(bytes, h->caplen, needle, strlen(needle))) {
			pcap_dump((u_char *)d, h, bytes);
			copies++;
		}
	}
	g_assert_cmpuint(copies, ==, 1);
	pcap_dump_close(d);
	pcap_close(in);
	return path;
}

/* A retransmitted denied request must not reach S3 either: the reassembly frames nothing from a
 * retransmission, so the endpoint recognises it by the denied request's bytes. */
static void test_retransmitted_denied_request_stays_denied(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *capture = capture_with_retransmission(dir, "GET /report.csv");
	char *app = replay_capture_link(dir, LESSON_SCENARIO, capture, "app");
	char *internet = replay_capture_link(dir, LESSON_SCENARIO, capture, "internet");

	char *out = test_tshark_fields(internet, checksums, "http.request", http_fields);
	g_assert_cmpstr(out, ==, "10.0.1.10|52.216.20.181|/?list-type=2||1\n");
	g_free(out);
	const char *comment[] = { "tcp.len", NULL };
	out = test_tshark_fields(app, NULL, "frame.comment contains \"DROP\" and frame.comment contains "
	                         "\"a retransmission of a denied request's bytes\"", comment);
	g_assert_cmpstr(out, ==, "102\n");
	g_free(out);
	/* One 403 still: the retransmission is not answered twice. */
	out = test_tshark_fields(app, checksums, "http.response", http_fields);
	g_assert_cmpstr(out, ==, "52.216.20.181|10.0.1.10||200|1\n52.216.20.181|10.0.1.10||403|1\n");
	g_free(out);
	g_free(app);
	g_free(internet);
	g_free(capture);
	test_rmdir(dir);
}

/* One keep-alive connection on which the instance sends the listing's request and then the
 * download's before S3 has answered either (two segments: pipelined), and S3's two 200s, each in its
 * segment, as the capture holds them with no policy in the way. */
static char *capture_pipelined(const char *dir)
{
	static const guint8 instance_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x0a };
	static const guint8 router_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x01 };
	static const char list[] = "GET /?list-type=2 HTTP/1.1\r\nHost: lesson-bucket.s3.us-east-1.amazonaws.com\r\n\r\n";
	static const char get[] = "GET /report.csv HTTP/1.1\r\nHost: lesson-bucket.s3.us-east-1.amazonaws.com\r\n\r\n";
	static const char listed[] = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 18\r\n\r\n"
	                             "<ListBucketResult>";
	static const char got[] = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 12\r\n\r\nregion,q4\n1\n";
	char *path = g_build_filename(dir, "pipelined.pcap", NULL);
	GError *err = NULL;
	struct gen_ctx *g = gen_ctx_open(path, &err);
	g_assert_no_error(err);
	struct gen_end c = gen_end_at("10.0.1.10", 41200, instance_mac, 64),
	               s = gen_end_at("52.216.20.181", 80, router_mac, 60);
	struct gen_tcp t;
	gen_tcp_init(&t, &c, &s, 0x3c0ff201, 0x5a3b0201);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, list, strlen(list));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, get, strlen(get));
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, listed, strlen(listed));
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, got, strlen(got));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	g_assert_true(gen_ctx_finish(g, &err));
	g_assert_no_error(err);
	return path;
}

/* HTTP/1.1 answers in order: the download's 403 follows the listing's 200 on the instance's link,
 * numbered after it, and tshark's TCP analysis finds nothing wrong (an answer sent at once would
 * have overlapped the 200's sequence numbers). */
static void test_pipelined_denied_request_answered_in_order(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *capture = capture_pipelined(dir);
	char *app = replay_capture_link(dir, LESSON_SCENARIO, capture, "app");
	char *internet = replay_capture_link(dir, LESSON_SCENARIO, capture, "internet");

	const char *order[] = { "http.response.code", "tcp.seq", "tcp.nxtseq", "tcp.ack", NULL };
	char *out = test_tshark_fields(app, checksums, "http.response", order);
	g_assert_cmpstr(out, ==, "200|1|89|155\n403|89|503|155\n"); /* both acknowledge both requests */
	g_free(out);
	const char *flags[] = { "frame.number", "_ws.expert.message", NULL };
	/* but on the captured 200 the 403 took the place of, shown where the capture has it */
	out = test_tshark_fields(app, NULL, "tcp.analysis.flags and not frame.comment contains \"went in its place\"", flags);
	g_assert_cmpstr(out, ==, "");
	g_free(out);
	out = test_tshark_fields(internet, checksums, "http.request", http_fields);
	g_assert_cmpstr(out, ==, "10.0.1.10|52.216.20.181|/?list-type=2||1\n");
	g_free(out);
	g_free(app);
	g_free(internet);
	g_free(capture);
	test_rmdir(dir);
}

/* Replayed by name with no scenarios folder to read from: the built-in copy, policy and all. */
static void test_builtin_copy_carries_the_policy(void)
{
	GError *err = NULL;
	struct scenario *sc = cli_scenario_load_from("s3-endpoint-policy", (const char *const[]){ NULL }, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(sc->source, ==, "built-in scenarios/s3-endpoint-policy.ini");
	GString *text = g_string_new(NULL);
	scenario_describe(sc, text);
	g_assert_nonnull(strstr(text->str, "# policy of vpce-s3: Version 2012-10-17, 1 statement (statement 0 (Sid "
	                                   "\"LessonBucketOnly\") Allow)"));
	g_string_free(text, TRUE);
	scenario_free(sc);
}

struct scenario_case {
	const char *name;
	const char *policy_key;  /* the key's line */
	const char *file;        /* written beside the scenario as p.json; NULL: none */
	const char *want_error;  /* a piece of the message; NULL: loads */
};

#define SCENARIO_HEAD                                                                                  \
	"[scenario]\nchain = app > rt > vpc > natgw > internet\n[link app]\nnetworks = 10.0.1.0/24\n"      \
	"[link vpc]\nnetworks = 10.0.0.0/24\n[link internet]\n[stage rt]\ntype = route-table\n"        \
	"routes = 10.0.0.0/16 local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 natgw\n"
#define SCENARIO_TAIL                                                                                  \
	"[stage natgw]\ntype = napt\nprofile = aws-nat-gateway\nexternal = 203.0.113.25\n"                 \
	"[prefix-list pl-s3]\nprefixes = 52.216.0.0/15\n"
#define GOOD_POLICY "{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"}}"

static const struct scenario_case scenario_cases[] = {
	{ "/endpoint-policy/scenario/file-beside-the-scenario", "policy.vpce-s3 = p.json\n", GOOD_POLICY, NULL },
	{ "/endpoint-policy/scenario/inline-json", "policy.vpce-s3 = " GOOD_POLICY "\n", NULL, NULL },
	{ "/endpoint-policy/scenario/unknown-endpoint", "policy.vpce-s4 = " GOOD_POLICY "\n", NULL,
	  "[stage rt] policy.vpce-s4: no route targets an endpoint 'vpce-s4' (endpoints of the routes: vpce-s3); did "
	  "you mean 'policy.vpce-s3'?" },
	{ "/endpoint-policy/scenario/missing-file", "policy.vpce-s3 = nothere.json\n", NULL, "nothere.json: cannot read the policy" },
	{ "/endpoint-policy/scenario/bad-file-names-file-and-path", "policy.vpce-s3 = p.json\n",
	  "{\"Statement\": [{\"Effect\": \"Alow\"}]}", "p.json: Statement[0].Effect: expected \"Allow\" or \"Deny\"" },
	{ "/endpoint-policy/scenario/bad-inline-names-group-and-key", "policy.vpce-s3 = {\"Statement\": []}\n", NULL,
	  "[stage rt] policy.vpce-s3: Statement: an empty array: a policy needs at least one statement" },
};

G_GNUC_NO_INLINE static void test_scenario_case(gconstpointer data)
{
	const struct scenario_case *c = data;
	char *dir = test_tmpdir();
	char *ini = g_build_filename(dir, "s.ini", NULL);
	char *text = g_strconcat(SCENARIO_HEAD, c->policy_key, SCENARIO_TAIL, NULL);
	g_assert_true(g_file_set_contents(ini, text, -1, NULL));
	if (c->file) {
		char *json = g_build_filename(dir, "p.json", NULL);
		g_assert_true(g_file_set_contents(json, c->file, -1, NULL));
		g_free(json);
	}
	GError *err = NULL;
	struct scenario *sc = cli_scenario_load(ini, &err);
	if (!c->want_error) {
		g_assert_no_error(err);
		g_assert_nonnull(sc);
	} else {
		g_assert_null(sc);
		g_assert_nonnull(err);
		if (!strstr(err->message, c->want_error))
			g_error("'%s' does not say '%s'", err->message, c->want_error);
		g_assert_nonnull(strstr(err->message, "s.ini"));
		g_error_free(err);
	}
	scenario_free(sc);
	g_free(text);
	g_free(ini);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/endpoint-policy/lesson/bucket-only-lists-but-answers-the-download-403", test_bucket_only);
	g_test_add_func("/endpoint-policy/lesson/bucket-and-objects-lets-the-download-reach-s3", test_bucket_and_objects);
	g_test_add_func("/endpoint-policy/lesson/built-in-copy-carries-the-policy", test_builtin_copy_carries_the_policy);
	g_test_add_func("/endpoint-policy/pipelined/a-denied-request-is-answered-after-the-response-before-it",
	                test_pipelined_denied_request_answered_in_order);
	g_test_add_func("/endpoint-policy/lesson/a-retransmitted-denied-request-stays-at-the-endpoint",
	                test_retransmitted_denied_request_stays_denied);
	for (unsigned i = 0; i < G_N_ELEMENTS(scenario_cases); i++)
		g_test_add_data_func(scenario_cases[i].name, &scenario_cases[i], test_scenario_case);
	return g_test_run();
}
