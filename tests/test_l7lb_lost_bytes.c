/* tests/test_l7lb_lost_bytes.c: the L7 balancer on captures that lost bytes, carry IP fragments or close late, end to end, tshark the reader (RFC 791 section 3.2, RFC 6298 section 2.4).
 *
 * Each row writes a small capture by hand (libpcap's dumper): one client connection to the
 * listener, picked up without its SYN, as its segments (and the server's) would be seen on the
 * client side, some of them cut into IPv4 fragments or missing.  It replays it through one ALB and checks what
 * tshark finds on the target side (the request paths, in order), the --stats lines the row
 * expects (the packet balance always), and the target side's TCP analysis (nothing flagged).
 * These are the cases the real captures of ../shared/pcaps showed (test_shared_pcaps.c); here
 * they run without them.
 */
#include <pcap/pcap.h>
#include <stdbool.h>

#include "common/checksum.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"

#define CLIENT 0xc6336407u /* 198.51.100.7 */
#define VIP 0xcb00710au    /* 203.0.113.10 */
#define CPORT 51000

static const char scenario[] = "[scenario]\n"
                               "chain = internet > alb > app\n"
                               "capture = internet\n"
                               "[link internet]\n"
                               "[link app]\n"
                               "networks = 10.0.1.0/24\n"
                               "[stage alb]\n"
                               "type = l7-lb\n"
                               "listen = 203.0.113.10:80\n"
                               "address = 10.0.1.2\n"
                               "default = forward web\n"
                               "target-group.web = 10.0.1.21:8080\n";

/* One packet of a row: a piece [from, to) of the client's request stream, sent at at_ms; or, with
 * frag_len, only the IPv4 fragment [frag_off, frag_off + frag_len) of that segment's datagram. */
struct piece {
	uint32_t from, to;
	unsigned at_ms;
	uint16_t frag_off, frag_len; /* bytes of the IP payload (TCP header and data); 0: not fragmented */
	bool frag_last;
	bool other_bytes;            /* the fragment's bytes differ from the segment's (an ambiguous overlap) */
	uint16_t ip_id;
	bool other_client;           /* a bare ACK from another port: it moves capture time on, so the sweep runs */
	bool from_server;            /* [from, to) of the row's response stream, from the listener to the client */
	bool fin;                    /* the segment carries FIN */
	uint32_t ack;                /* its acknowledgement number; 0: the other side's first byte */
};

struct lost_case {
	const char *name;
	const char *stream;          /* the client's bytes; pieces cut from it */
	const char *response;        /* the server's bytes, for pieces from_server */
	unsigned want_target_bytes;  /* payload bytes the targets send on the target side; 0: not checked */
	struct piece pieces[24];
	unsigned n;
	const char *want_paths;      /* http.request.uri on the target side, one per line, in order */
	const char *stats_have[4];   /* lines --stats must hold */
	const char *stats_lack;      /* a line it must not */
	const char *last_comment;    /* words the comment of the output's last frame must hold; NULL: not checked */
	const char *stage_keys;      /* more keys of [stage alb], lines ending in \n */
	const char *want_target_codes; /* http.response.code on the target side, one per line; NULL: not checked */
	const char *log_have;        /* words the --access-log must hold; NULL: not checked */
	const char *comment_have;    /* words some frame's comment must hold; NULL: not checked */
	const char *comments_lack[2]; /* words no frame's comment may hold */
	bool checksums_checked;      /* tshark finds no bad IPv4 or TCP checksum (on reassembled fragments too) */
	bool renumbered_fragment;    /* the capture's fragmented response went to the client renumbered by the
	                              * balancer's own answer: its first fragment's seq follows that answer */
};

/* Ethernet, IPv4 (id, fragment fields) and TCP client:CPORT -> VIP:80 with the bytes [from, to). */
static uint32_t segment_frame(uint8_t *f, const char *stream, const struct piece *pc, uint16_t id, uint16_t cport)
{
	const uint32_t from = pc->from, to = pc->to;
	const bool from_server = pc->from_server;
	uint32_t len = to - from, ip_len = 20 + 20 + len;
	memset(f, 0, 14 + ip_len);
	f[0] = 0x02, f[5] = 0x01, f[6] = 0x02, f[11] = 0x07, f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	test_put16(ip, 2, (uint16_t)ip_len);
	test_put16(ip, 4, id);
	ip[8] = 64;
	ip[9] = 6;
	test_put32(ip, 12, from_server ? VIP : CLIENT);
	test_put32(ip, 16, from_server ? CLIENT : VIP);
	test_put16(tcp, 0, from_server ? 80 : cport);
	test_put16(tcp, 2, from_server ? cport : 80);
	test_put32(tcp, 4, (from_server ? 5000 : 1000) + from);
	test_put32(tcp, 8, pc->ack ? pc->ack : from_server ? 1000 : 5000);
	tcp[12] = 5 << 4;
	tcp[13] = pc->fin ? 0x11 : 0x18; /* FIN ACK, or PSH ACK */
	test_put16(tcp, 14, 65535);
	memcpy(tcp + 20, stream + from, len);
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	test_put16(pseudo, 10, (uint16_t)(20 + len));
	test_put16(tcp, 16, csum_fold(csum_partial(tcp, 20 + len, csum_partial(pseudo, sizeof pseudo, 0))));
	test_put16(ip, 10, csum_fold(csum_partial(ip, 20, 0)));
	return 14 + ip_len;
}

/* The fragment [off, off + n) of the datagram in seg, as its own frame in out. */
static uint32_t fragment_of(uint8_t *out, const uint8_t *seg, const struct piece *pc)
{
	memcpy(out, seg, 14 + 20);
	memcpy(out + 34, seg + 34 + pc->frag_off, pc->frag_len);
	if (pc->other_bytes)
		for (unsigned i = 0; i < pc->frag_len; i++)
			out[34 + i] ^= 0x20;
	uint8_t *ip = out + 14;
	test_put16(ip, 2, (uint16_t)(20 + pc->frag_len));
	test_put16(ip, 6, (uint16_t)((pc->frag_last ? 0 : 0x2000) | pc->frag_off / 8));
	test_put16(ip, 10, 0);
	test_put16(ip, 10, csum_fold(csum_partial(ip, 20, 0)));
	return 14 + 20 + pc->frag_len;
}

static void write_capture(const char *path, const struct lost_case *t)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	g_assert_nonnull(d);
	for (unsigned i = 0; i < t->n; i++) {
		const struct piece *pc = &t->pieces[i];
		uint8_t seg[2048], frag[2048];
		uint32_t n = segment_frame(seg, pc->from_server ? t->response : t->stream, pc,
		                           pc->ip_id ? pc->ip_id : (uint16_t)(0x100 + i), pc->other_client ? CPORT + 1 : CPORT);
		const uint8_t *bytes = seg;
		if (pc->frag_len) {
			n = fragment_of(frag, seg, pc);
			bytes = frag;
		}
		struct pcap_pkthdr h = { .ts = { .tv_sec = 1700000000 + pc->at_ms / 1000, .tv_usec = pc->at_ms % 1000 * 1000 },
			                 .caplen = n, .len = n };
		pcap_dump((u_char *)d, &h, bytes);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* The rows with renumbered_fragment: on the client link, the balancer's own answer (404) is followed
 * by the capture's fragmented response, whose first fragment must carry the sequence number right
 * after that answer: where the capture's replaced response ended, plus the answer's length less the
 * replaced response's (RESP_EMPTY before it, of RESP_EMPTY_LEN bytes, which the balancer relayed). */
#define RESP_EMPTY "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define RESP_EMPTY_LEN 38u
static void check_renumbered_fragment(const char *out)
{
	static const char *const seq_len[] = { "tcp.seq_raw", "tcp.len", NULL };
	char *answer = test_tshark_fields(out, NULL, "frame.interface_name == \"internet\" && http.response.code == 404",
	                                  seq_len);
	unsigned answer_seq = 0, answer_len = 0;
	g_assert_cmpint(sscanf(answer, "%u|%u", &answer_seq, &answer_len), ==, 2);
	g_assert_cmpuint(answer_seq, ==, 5000 + RESP_EMPTY_LEN);
	/* tshark decodes TCP in the datagram it reassembled; the first fragment's own header, without that */
	static const char *const seq[] = { "tcp.seq_raw", NULL }, *const no_defrag[] = { "ip.defragment:FALSE", NULL };
	char *first = test_tshark_fields(out, no_defrag, "frame.interface_name == \"internet\" && ip.flags.mf == 1 && "
	                                 "ip.frag_offset == 0 && ip.src == 203.0.113.10", seq);
	char *want = g_strdup_printf("%u\n", answer_seq + answer_len);
	g_assert_cmpstr(first, ==, want);
	g_free(want);
	g_free(first);
	g_free(answer);
}

static void test_lost(gconstpointer data)
{
	const struct lost_case *t = data;
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/in.pcap", dir), *scen = g_strdup_printf("%s/alb.ini", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	write_capture(in, t);
	char *text = g_strconcat(scenario, t->stage_keys ? t->stage_keys : "", NULL);
	g_assert_true(g_file_set_contents(scen, text, -1, NULL));
	g_free(text);
	char *log = g_strdup_printf("%s/access.log", dir);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "--access-log", log, "-s", scen, "-o", out,
		               in, NULL };
	char *stats = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &stats, &err), ==, 0);
	g_assert_cmpstr(err, ==, "");
	g_assert_nonnull(strstr(stats, " consumed: balanced\n"));
	g_assert_null(strstr(stats, "NOT BALANCED"));
	for (unsigned i = 0; i < G_N_ELEMENTS(t->stats_have) && t->stats_have[i]; i++)
		if (!strstr(stats, t->stats_have[i]))
			g_error("--stats lacks '%s':\n%s", t->stats_have[i], stats);
	if (t->stats_lack && strstr(stats, t->stats_lack))
		g_error("--stats has '%s':\n%s", t->stats_lack, stats);

	static const char *const uri[] = { "http.request.uri", NULL };
	char *paths = test_tshark_fields(out, NULL, "frame.interface_name == \"app\" && http.request", uri);
	g_assert_cmpstr(paths, ==, t->want_paths);
	static const char *const frame[] = { "frame.number", NULL };
	char *flagged = test_tshark_fields(out, NULL, "frame.interface_name == \"app\" && tcp.analysis.flags", frame);
	g_assert_cmpstr(flagged, ==, "");
	if (t->last_comment) {
		static const char *const comment[] = { "frame.comment", NULL };
		char *comments = test_tshark_fields(out, NULL, NULL, comment);
		char **lines = g_strsplit(comments, "\n", -1);
		unsigned n = g_strv_length(lines);
		g_assert_cmpuint(n, >=, 2); /* the last line is empty */
		if (!strstr(lines[n - 2], t->last_comment))
			g_error("the last frame's comment lacks '%s': %s", t->last_comment, lines[n - 2]);
		g_strfreev(lines);
		g_free(comments);
	}
	if (t->log_have) {
		char *lines = NULL;
		g_assert_true(g_file_get_contents(log, &lines, NULL, NULL));
		if (!strstr(lines, t->log_have))
			g_error("the access log lacks '%s':\n%s", t->log_have, lines);
		g_free(lines);
	}
	if (t->want_target_codes) {
		static const char *const code[] = { "http.response.code", NULL };
		char *codes = test_tshark_fields(out, NULL, "frame.interface_name == \"app\" && http.response", code);
		g_assert_cmpstr(codes, ==, t->want_target_codes);
		g_free(codes);
	}
	if (t->comment_have || t->comments_lack[0]) {
		static const char *const comment[] = { "frame.comment", NULL };
		char *comments = test_tshark_fields(out, NULL, NULL, comment);
		if (t->comment_have && !strstr(comments, t->comment_have))
			g_error("no frame's comment holds '%s':\n%s", t->comment_have, comments);
		for (unsigned i = 0; i < G_N_ELEMENTS(t->comments_lack) && t->comments_lack[i]; i++)
			if (strstr(comments, t->comments_lack[i]))
				g_error("a frame's comment holds '%s':\n%s", t->comments_lack[i], comments);
		g_free(comments);
	}
	if (t->checksums_checked) {
		static const char *const prefs[] = { "ip.check_checksum:TRUE", "tcp.check_checksum:TRUE", NULL };
		static const char *const frame_no[] = { "frame.number", NULL };
		char *bad = test_tshark_fields(out, prefs, "ip.checksum.status == 0 || tcp.checksum.status == 0", frame_no);
		g_assert_cmpstr(bad, ==, "");
		g_free(bad);
	}
	if (t->renumbered_fragment)
		check_renumbered_fragment(out);
	if (t->want_target_bytes) {
		static const char *const tcp_len[] = { "tcp.len", NULL };
		char *lens = test_tshark_fields(out, NULL, "frame.interface_name == \"app\" && tcp.srcport == 8080", tcp_len);
		unsigned sum = 0;
		for (char *l = lens; *l;) {
			sum += (unsigned)strtoul(l, &l, 10);
			while (*l == '\n')
				l++;
		}
		g_assert_cmpuint(sum, ==, t->want_target_bytes);
		g_free(lens);
	}
	g_free(flagged);
	g_free(paths);
	g_free(stats);
	g_free(err);
	g_free(in);
	g_free(log);
	g_free(scen);
	g_free(out);
	test_rmdir(dir);
}

/* 50 bytes each */
#define REQ(n) "GET /r" #n " HTTP/1.1\r\nHost: shop.example\r\nX: 1234\r\n\r\n"
#define REQ_LEN 50
#define AT(k) { .from = (k) * REQ_LEN, .to = ((k) + 1) * REQ_LEN, .at_ms = (k) * 10 }

static const char twenty[] = REQ(01) REQ(02) REQ(03) REQ(04) REQ(05) REQ(06) REQ(07) REQ(08) REQ(09) REQ(10)
	REQ(11) REQ(12) REQ(13) REQ(14) REQ(15) REQ(16) REQ(17) REQ(18) REQ(19) REQ(20);
G_STATIC_ASSERT(sizeof twenty == 20 * REQ_LEN + 1);

static const char post_then_get[] = "POST /form HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 10\r\n\r\n"
                                    "0123456789" REQ(02);
#define POST_HEAD 63

/* Severe for desync mitigation (a Content-Length with a sign): ALB answers 400 and closes. */
#define SEVERE "POST /x HTTP/1.1\r\nHost: shop.example\r\nContent-Length: +5\r\n\r\nhello"
#define SEVERE_LEN ((uint32_t)sizeof SEVERE - 1)

/* 59 bytes, in one segment of 79 bytes of IP payload: fragments [0, 24), [24, 48), [48, 79) */
#define RESP_OK "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nabcdefghijklmnopqrst"
#define RESP_OK_LEN 59u
#define RESP_FRAG(k, at, first_byte) \
	{ .from = (first_byte), .to = (first_byte) + RESP_OK_LEN, .at_ms = (at), .from_server = true, .ip_id = 9, \
	  .frag_off = (k) * 24, .frag_len = (k) < 2 ? 24 : 20 + RESP_OK_LEN - 48, .frag_last = (k) == 2 }
#define FIXED "GET /fixed HTTP/1.1\r\nHost: shop.example\r\n\r\n"
#define FIXED_LEN ((uint32_t)sizeof FIXED - 1)

/* Forwarded, answered by the balancer (404), forwarded: the third response comes fragmented. */
#define ANSWERED_BETWEEN_PIECES(f0, f1, f2)                                                                      \
	{ { .from = 0, .to = REQ_LEN }, { .from = 0, .to = RESP_EMPTY_LEN, .at_ms = 10, .from_server = true },     \
	  { .from = REQ_LEN, .to = REQ_LEN + FIXED_LEN, .at_ms = 20 },                                             \
	  { .from = RESP_EMPTY_LEN, .to = 2 * RESP_EMPTY_LEN, .at_ms = 30, .from_server = true },                 \
	  { .from = REQ_LEN + FIXED_LEN, .to = 2 * REQ_LEN + FIXED_LEN, .at_ms = 40 },                             \
	  RESP_FRAG(f0, 50, 2 * RESP_EMPTY_LEN), RESP_FRAG(f1, 51, 2 * RESP_EMPTY_LEN),                           \
	  RESP_FRAG(f2, 52, 2 * RESP_EMPTY_LEN) }

static const struct lost_case cases[] = {
	{ .name = "fragments-to-client/a-response-in-three-fragments-in-order-is-read-and-paired",
	  .stream = REQ(01), .response = RESP_OK, .n = 4,
	  .pieces = { { .from = 0, .to = REQ_LEN }, RESP_FRAG(0, 10, 0), RESP_FRAG(1, 11, 0), RESP_FRAG(2, 12, 0) },
	  .want_paths = "/r01\n", .want_target_bytes = RESP_OK_LEN, .want_target_codes = "200\n",
	  .log_have = " 200 200 ", .checksums_checked = true,
	  .comment_have = "to the client completes it: 3 fragments reassembled",
	  .comments_lack = { "could not have passed", "lost" },
	  .stats_have = { "IPv4 fragments to clients 3 -> 1 datagrams reassembled",
	                  "HTTPCode_Target_2XX_Count                        1" },
	  .stats_lack = "bytes missing from the capture" },
	{ .name = "fragments-to-client/a-response-in-three-fragments-out-of-order-is-read-and-paired",
	  .stream = REQ(01), .response = RESP_OK, .n = 4,
	  .pieces = { { .from = 0, .to = REQ_LEN }, RESP_FRAG(2, 10, 0), RESP_FRAG(0, 11, 0), RESP_FRAG(1, 12, 0) },
	  .want_paths = "/r01\n", .want_target_bytes = RESP_OK_LEN, .want_target_codes = "200\n",
	  .log_have = " 200 200 ", .checksums_checked = true,
	  .comment_have = "to the client: held for reassembly (2 fragments, 55 bytes so far)",
	  .comments_lack = { "could not have passed", "lost" },
	  .stats_have = { "IPv4 fragments to clients 3 -> 1 datagrams reassembled",
	                  "HTTPCode_Target_2XX_Count                        1" },
	  .stats_lack = "bytes missing from the capture" },
	{ .name = "fragments-to-client/a-response-in-two-fragments-is-read-and-paired",
	  .stream = REQ(01), .response = RESP_OK, .n = 3,
	  .pieces = { { .from = 0, .to = REQ_LEN },
	              { .from = 0, .to = RESP_OK_LEN, .at_ms = 10, .from_server = true, .ip_id = 9, .frag_off = 0,
	                .frag_len = 40 },
	              { .from = 0, .to = RESP_OK_LEN, .at_ms = 11, .from_server = true, .ip_id = 9, .frag_off = 40,
	                .frag_len = 20 + RESP_OK_LEN - 40, .frag_last = true } },
	  .want_paths = "/r01\n", .want_target_bytes = RESP_OK_LEN, .want_target_codes = "200\n",
	  .log_have = " 200 200 ", .checksums_checked = true, .comments_lack = { "could not have passed", "lost" },
	  .stats_have = { "IPv4 fragments to clients 2 -> 1 datagrams reassembled" } },
	{ .name = "fragments-to-client/after-the-balancers-own-answer-the-first-fragment-held-is-renumbered",
	  .stream = REQ(01) FIXED REQ(03), .response = RESP_EMPTY RESP_EMPTY RESP_OK, .n = 8,
	  .stage_keys = "rule.10 = path-pattern /fixed -> fixed-response 404\n",
	  .pieces = ANSWERED_BETWEEN_PIECES(0, 1, 2),
	  .want_paths = "/r01\n/r03\n", .want_target_codes = "200\n200\n", .checksums_checked = true,
	  .renumbered_fragment = true, .comment_have = "here, in the segment's first fragment",
	  .comments_lack = { "not faithful", "could not have passed" },
	  .stats_have = { "IPv4 fragments to clients 3 -> 1 datagrams reassembled",
	                  "HTTPCode_Target_2XX_Count                        2" } },
	{ .name = "fragments-to-client/after-the-balancers-own-answer-a-completing-first-fragment-is-renumbered",
	  .stream = REQ(01) FIXED REQ(03), .response = RESP_EMPTY RESP_EMPTY RESP_OK, .n = 8,
	  .stage_keys = "rule.10 = path-pattern /fixed -> fixed-response 404\n",
	  .pieces = ANSWERED_BETWEEN_PIECES(2, 1, 0),
	  .want_paths = "/r01\n/r03\n", .want_target_codes = "200\n200\n", .checksums_checked = true,
	  .renumbered_fragment = true, .comment_have = "this fragment carries the segment's TCP header: rewritten so here",
	  .comments_lack = { "not faithful", "could not have passed" },
	  .stats_have = { "IPv4 fragments to clients 3 -> 1 datagrams reassembled",
	                  "HTTPCode_Target_2XX_Count                        2" } },
	{ .name = "fragments-to-client/a-first-fragment-sent-before-the-shift-moved-again-is-said-not-faithful",
	  /* three requests pipelined: the balancer's 404 for the second goes once the first is answered
	   * (seq +115 then), the third's response begins in a fragment, then the capture's response to
	   * the second is withheld (+77 from then on), then the rest of the third's comes */
	  .stream = REQ(01) FIXED REQ(03), .response = RESP_EMPTY RESP_EMPTY RESP_OK, .n = 6,
	  .stage_keys = "rule.10 = path-pattern /fixed -> fixed-response 404\n",
	  .pieces = { { .from = 0, .to = 2 * REQ_LEN + FIXED_LEN },
	              { .from = 0, .to = RESP_EMPTY_LEN, .at_ms = 10, .from_server = true },
	              RESP_FRAG(0, 20, 2 * RESP_EMPTY_LEN),
	              { .from = RESP_EMPTY_LEN, .to = 2 * RESP_EMPTY_LEN, .at_ms = 30, .from_server = true },
	              RESP_FRAG(1, 40, 2 * RESP_EMPTY_LEN), RESP_FRAG(2, 41, 2 * RESP_EMPTY_LEN) },
	  .want_paths = "/r01\n/r03\n", .want_target_codes = "200\n200\n", .checksums_checked = true,
	  .comment_have = "not faithful: the whole segment is renumbered by seq +77, but its TCP header went to the "
	                  "client in its first fragment, already shown (seq +115 there)",
	  .stats_have = { "IPv4 fragments to clients 3 -> 1 datagrams reassembled",
	                  "HTTPCode_Target_2XX_Count                        2" } },
	{ .name = "fragments-to-client/a-fragment-that-never-completes-is-annotated-and-times-out",
	  .stream = REQ(01), .response = RESP_OK, .n = 3, .stage_keys = "fragment-timeout = 1s\n",
	  .pieces = { { .from = 0, .to = REQ_LEN }, RESP_FRAG(0, 10, 0), { .at_ms = 2100, .other_client = true } },
	  .want_paths = "/r01\n", .want_target_codes = "",
	  .comment_have = "to the client: held for reassembly (1 fragment, 24 bytes so far; the last fragment has not come)",
	  .stats_have = { "IPv4 fragments to clients 1 -> 0 datagrams reassembled (1 timed out, 0 evicted; 1 held "
	                  "fragments lost with them)" },
	  .stats_lack = "HTTPCode_Target_2XX_Count" },
	{ .name = "fragments-to-client/a-fragment-still-held-when-the-capture-ends-is-counted",
	  .stream = REQ(01), .response = RESP_OK, .n = 2,
	  .pieces = { { .from = 0, .to = REQ_LEN }, RESP_FRAG(1, 10, 0) },
	  .want_paths = "/r01\n", .want_target_codes = "",
	  .stats_have = { "IPv4 fragments to clients 1 -> 0 datagrams reassembled",
	                  "1 datagram still incomplete when the capture ended" } },
	{ .name = "fragments-to-client/an-ambiguous-overlap-is-dropped-with-its-reason-and-counted",
	  .stream = REQ(01), .response = RESP_OK, .n = 5,
	  .pieces = { { .from = 0, .to = REQ_LEN }, RESP_FRAG(0, 10, 0), RESP_FRAG(1, 11, 0),
	              { .from = 0, .to = RESP_OK_LEN, .at_ms = 12, .from_server = true, .ip_id = 9, .frag_off = 24,
	                .frag_len = 24, .other_bytes = true },
	              RESP_FRAG(2, 13, 0) },
	  .want_paths = "/r01\n", .want_target_codes = "",
	  .comment_have = "DROP (an IPv4 fragment to a client that cannot be reassembled: the response stream does not "
	                  "read it): IPv4 fragment at offset 24 (24 bytes) of datagram id 0x0009 to the client: overlaps",
	  .stats_have = { "drop L7LB_FRAGMENT_TO_CLIENT", "fragment OVERLAP               1",
	                  "fragment OF_DISCARDED          1" },
	  .stats_lack = "HTTPCode_Target_2XX_Count" },
	{ .name = "fragments/out-of-order-with-a-duplicate-are-reassembled",
	  .stream = REQ(01), .n = 4, .want_paths = "/r01\n",
	  .pieces = { { .from = 0, .to = REQ_LEN, .frag_off = 24, .frag_len = 24, .ip_id = 7 },
	              { .from = 0, .to = REQ_LEN, .at_ms = 1, .frag_off = 0, .frag_len = 24, .ip_id = 7 },
	              { .from = 0, .to = REQ_LEN, .at_ms = 2, .frag_off = 0, .frag_len = 24, .ip_id = 7 },
	              { .from = 0, .to = REQ_LEN, .at_ms = 3, .frag_off = 48, .frag_len = 20 + REQ_LEN - 48,
	                .frag_last = true, .ip_id = 7 } },
	  .stats_have = { "IPv4 fragments from clients 4 -> 1 datagrams reassembled", "fragment DUPLICATE             1",
	                  "drop L7LB_FRAGMENT                 1" } },
	{ .name = "fragments/an-ambiguous-overlap-discards-the-datagram",
	  .stream = REQ(01), .n = 3, .want_paths = "",
	  .pieces = { { .from = 0, .to = REQ_LEN, .frag_off = 0, .frag_len = 48, .ip_id = 7 },
	              { .from = 0, .to = REQ_LEN, .at_ms = 1, .frag_off = 24, .frag_len = 24, .other_bytes = true, .ip_id = 7 },
	              { .from = 0, .to = REQ_LEN, .at_ms = 2, .frag_off = 48, .frag_len = 20 + REQ_LEN - 48,
	                .frag_last = true, .ip_id = 7 } },
	  .stats_have = { "IPv4 fragments from clients 3 -> 0 datagrams reassembled", "fragment OVERLAP               1",
	                  "fragment OF_DISCARDED          1" } },
	{ .name = "stream/twenty-requests-whose-responses-the-capture-lacks-all-reach-the-target",
	  .stream = twenty, .n = 20,
	  .pieces = { AT(0), AT(1), AT(2), AT(3), AT(4), AT(5), AT(6), AT(7), AT(8), AT(9), AT(10), AT(11), AT(12),
	              AT(13), AT(14), AT(15), AT(16), AT(17), AT(18), AT(19) },
	  .want_paths = "/r01\n/r02\n/r03\n/r04\n/r05\n/r06\n/r07\n/r08\n/r09\n/r10\n/r11\n/r12\n/r13\n/r14\n/r15\n"
	                "/r16\n/r17\n/r18\n/r19\n/r20\n",
	  .stats_have = { "RequestCount                                     20",
	                  "requests whose response is not in the capture    4" } },
	{ .name = "stream/a-hole-older-than-1-s-is-given-up-on-the-next-segment",
	  /* the sweep runs at 1,050 ms, when the hole is 950 ms old; the segment at 1,150 ms gives it up */
	  .stream = twenty, .n = 4, .want_paths = "/r01\n/r03\n/r04\n",
	  .pieces = { AT(0), { .from = 2 * REQ_LEN, .to = 3 * REQ_LEN, .at_ms = 100 }, { .at_ms = 1050, .other_client = true },
	              { .from = 3 * REQ_LEN, .to = 4 * REQ_LEN, .at_ms = 1150 } },
	  .stats_have = { "bytes missing from the capture              50" } },
	{ .name = "stream/a-hole-older-than-1-s-is-given-up-by-the-sweep",
	  /* the client sends nothing more: the sweep runs when capture time moves on (another client) */
	  .stream = twenty, .n = 3, .want_paths = "/r01\n/r03\n",
	  .pieces = { AT(0), { .from = 2 * REQ_LEN, .to = 3 * REQ_LEN, .at_ms = 100 }, { .at_ms = 2100, .other_client = true } },
	  .stats_have = { "RequestCount                                     2" } },
	{ .name = "stream/a-hole-when-the-capture-ends-is-given-up-then",
	  /* nothing comes after the hole, not even another client: the end of the capture gives it up */
	  .stream = twenty, .n = 2, .want_paths = "/r01\n/r03\n",
	  .pieces = { AT(0), { .from = 2 * REQ_LEN, .to = 3 * REQ_LEN, .at_ms = 100 } },
	  .stats_have = { "RequestCount                                     2", "bytes missing from the capture              50" } },
	{ .name = "stream/a-lost-body-goes-as-filler-and-the-next-request-stays-framed",
	  .stream = post_then_get, .n = 3, .want_paths = "/form\n/r02\n",
	  .pieces = { { .from = 0, .to = POST_HEAD }, { .from = POST_HEAD + 10, .to = POST_HEAD + 10 + REQ_LEN, .at_ms = 500 },
	              { .at_ms = 2600, .other_client = true } },
	  .stats_have = { "RequestCount                                     2" }, .stats_lack = "HTTPCode_ELB_4XX_Count" },
	{ .name = "stream/a-gap-inside-a-body-the-rest-of-the-body-goes-on-and-the-next-request-stays-framed",
	  /* body bytes 0-3 arrive, 4-6 are lost, 7-9 arrive with the next request behind them */
	  .stream = post_then_get, .n = 3, .want_paths = "/form\n/r02\n",
	  .pieces = { { .from = 0, .to = POST_HEAD + 4 }, { .from = POST_HEAD + 7, .to = POST_HEAD + 10 + REQ_LEN, .at_ms = 500 },
	              { .at_ms = 2600, .other_client = true } },
	  .stats_have = { "RequestCount                                     2", "bytes missing from the capture              3" },
	  .stats_lack = "HTTPCode_ELB_4XX_Count" },
	{ .name = "stream/a-response-hole-older-than-1-s-is-given-up-and-the-target-sends-the-rest",
	  /* bytes 30-39 of the response are lost; the sweep at 2.1 s gives the hole up */
	  .stream = REQ(01), .response = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nabcdefghijklmnopqrst", .n = 4,
	  .pieces = { { .from = 0, .to = REQ_LEN }, { .from = 0, .to = 30, .at_ms = 10, .from_server = true },
	              { .from = 40, .to = 59, .at_ms = 20, .from_server = true }, { .at_ms = 2100, .other_client = true } },
	  .want_paths = "/r01\n", .want_target_bytes = 49,
	  .stats_have = { "bytes missing from the capture              10" } },
	{ .name = "close/a-captured-FIN-3-s-after-the-balancer-closed-still-finds-its-connection",
	  /* A Severe request (desync mitigation defensive): the balancer answers 400 and closes; the
	   * client closes at 20 ms; the capture's server closes 3 s later, after three sweeps. */
	  .stream = SEVERE, .response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", .n = 6,
	  .pieces = { { .from = 0, .to = SEVERE_LEN }, { .from = 0, .to = 38, .at_ms = 10, .from_server = true },
	              { .from = SEVERE_LEN, .to = SEVERE_LEN, .at_ms = 20, .fin = true },
	              { .at_ms = 1100, .other_client = true }, { .at_ms = 2200, .other_client = true },
	              { .from = 38, .to = 38, .at_ms = 3000, .from_server = true, .fin = true,
	                .ack = 1000 + SEVERE_LEN + 1 } },
	  .want_paths = "", .stats_have = { "HTTPCode_ELB_4XX_Count" },
	  .last_comment = "the capture's FIN: the balancer sent its own earlier" },
	{ .name = "close/a-closed-connection-gives-its-place-to-a-new-one-in-a-full-table",
	  /* one connection at most: the first closes at 20 ms; another client's comes at 500 ms */
	  .stream = SEVERE, .response = "", .n = 4, .stage_keys = "max-connections = 1\n",
	  .pieces = { { .from = 0, .to = SEVERE_LEN }, { .from = SEVERE_LEN, .to = SEVERE_LEN, .at_ms = 20, .fin = true },
	              { .from = 0, .to = SEVERE_LEN, .at_ms = 500, .other_client = true },
	              { .from = SEVERE_LEN, .to = SEVERE_LEN, .at_ms = 520, .fin = true, .other_client = true } },
	  .want_paths = "", .stats_have = { "HTTPCode_ELB_4XX_Count                           2" },
	  .stats_lack = "L7LB_CONN_TABLE_FULL" },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strdup_printf("/l7lb-lost-bytes/%s", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_lost);
		g_free(path);
	}
	return g_test_run();
}
