/* tests/test_tcp_segment.c: editing TCP segments in place and answering them with a RST (common/tcp_segment.c, common/answer.c; RFC 9293, RFC 2018, RFC 1624).
 *
 * Segments are raw IPv4 frames built here with every checksum right; after each edit the IPv4
 * and TCP checksums must still verify, computed afresh, so an incremental update that missed a
 * word fails.  A segment whose checksum was wrong must stay exactly as wrong.
 */
#include <libnet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/answer.h"
#include "common/checksum.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "tests/testemit.h"
#include "tests/testpkt.h"

#define CLIENT 0x0a000005u /* 10.0.0.5 */
#define SERVER 0xc6336401u /* 198.51.100.1 */
#define FRAME  512

struct seg {
	uint8_t buf[FRAME];
	struct packet p;
};

/* 10.0.0.5:40000 -> 198.51.100.1:80, raw IPv4, with options and data; checksums right. */
static void seg_build(struct seg *s, uint8_t flags, uint32_t seq, uint32_t ack, const uint8_t *opts, size_t optlen,
                      const char *data)
{
	size_t dlen = data ? strlen(data) : 0, hl = 20 + optlen;
	uint8_t *b = s->buf, *h = b + 20;

	memset(b, 0, sizeof s->buf);
	b[0] = 0x45;
	test_put16(b, 2, (uint16_t)(20 + hl + dlen));
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	test_put32(b, 12, CLIENT);
	test_put32(b, 16, SERVER);
	test_put16(h, 0, 40000);
	test_put16(h, 2, 80);
	test_put32(h, 4, seq);
	test_put32(h, 8, ack);
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;
	test_put16(h, 14, 502);
	if (optlen)
		memcpy(h + 20, opts, optlen);
	if (dlen)
		memcpy(h + hl, data, dlen);
	s->p = (struct packet){ .data = b, .capacity = sizeof s->buf, .caplen = (uint32_t)(20 + hl + dlen),
	                        .wirelen = (uint32_t)(20 + hl + dlen), .linktype = DLT_RAW };
	decode_packet(&s->p);
	test_put16(b, 10, csum_ip4_header(&s->p, &s->p.ip));
	uint16_t c;
	g_assert_true(csum_l4_expected(&s->p, &s->p.ip, &c));
	test_put16(b, s->p.ip.l4_csum_off, c);
}

/* Both checksums verify, as a receiver would compute them from scratch. */
static void assert_checksums_right(struct seg *s)
{
	uint16_t want;
	decode_packet(&s->p);
	g_assert_cmphex(csum_ip4_header(&s->p, &s->p.ip), ==, test_get16(s->buf, 10));
	g_assert_true(csum_l4_expected(&s->p, &s->p.ip, &want));
	g_assert_cmphex(test_get16(s->buf, s->p.ip.l4_csum_off), ==, want);
}

static uint32_t shift_up(uint32_t v, uint32_t base)
{
	return v + base;
}

static void test_seq_ack_and_lengths(void)
{
	struct seg s;
	seg_build(&s, TH_ACK | TH_PUSH, 1000, 5000, NULL, 0, "hello");
	g_assert_cmpuint(tcp_segment_seq(&s.p), ==, 1000);
	g_assert_cmpuint(tcp_segment_ack(&s.p), ==, 5000);
	g_assert_cmpuint(tcp_segment_payload_len(&s.p), ==, 5);
	tcp_segment_set_seq(&s.p, 0xfffffff0u);
	g_assert_cmpuint(tcp_segment_seq(&s.p), ==, 0xfffffff0u);
	assert_checksums_right(&s);
	/* A snapshot that cut the data still knows its length on the wire. */
	s.p.caplen = 40;
	decode_packet(&s.p);
	g_assert_cmpuint(tcp_segment_payload_len(&s.p), ==, 5);
}

/* The acknowledgement and both edges of every SACK block move; the timestamps stay. */
static void test_map_acks_moves_ack_and_sack_edges(void)
{
	static const uint8_t opts[] = {
		TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TIMESTAMP, 10, 0, 0, 0, 7, 0, 0, 0, 9,
		TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 18, 0, 0, 0x13, 0x88, 0, 0, 0x13, 0x92, 0, 0, 0x17, 0x70, 0, 0, 0x17, 0x7a,
	};
	struct seg s;
	seg_build(&s, TH_ACK, 1000, 4000, opts, sizeof opts, NULL);
	tcp_segment_map_acks(&s.p, shift_up, 28);
	g_assert_cmpuint(tcp_segment_ack(&s.p), ==, 4028);
	const uint8_t *o = s.buf + 40;
	g_assert_cmpuint(test_get32(o, 4), ==, 7);      /* TSval */
	g_assert_cmpuint(test_get32(o, 8), ==, 9);      /* TSecr */
	g_assert_cmpuint(test_get32(o, 16), ==, 5028);  /* first block's left edge, 5000 + 28 */
	g_assert_cmpuint(test_get32(o, 20), ==, 5038);
	g_assert_cmpuint(test_get32(o, 24), ==, 6028);
	g_assert_cmpuint(test_get32(o, 28), ==, 6038);
	assert_checksums_right(&s);
}

/* Without ACK the acknowledgement field means nothing and stays. */
static void test_map_acks_leaves_a_syn_alone(void)
{
	struct seg s;
	seg_build(&s, TH_SYN, 1000, 4000, NULL, 0, NULL);
	tcp_segment_map_acks(&s.p, shift_up, 28);
	g_assert_cmpuint(tcp_segment_ack(&s.p), ==, 4000);
}

static void test_insert_then_strip(void)
{
	static const uint8_t even[14] = "PROXY-HEADER!"; /* 13 letters and a NUL: an even length */
	struct seg s;

	seg_build(&s, TH_ACK | TH_PUSH, 1000, 5000, NULL, 0, "GET / HTTP/1.0\r\n\r\n");
	uint32_t before = s.p.caplen;
	g_assert_true(tcp_segment_insert(&s.p, even, sizeof even));
	g_assert_cmpuint(s.p.caplen, ==, before + sizeof even);
	g_assert_cmpuint(s.p.ip.total_len, ==, before + sizeof even);
	g_assert_cmpmem(s.buf + 40, sizeof even, even, sizeof even);
	g_assert_cmpmem(s.buf + 40 + sizeof even, 4, "GET ", 4);
	assert_checksums_right(&s);
	g_assert_true(tcp_segment_strip(&s.p, sizeof even));
	g_assert_cmpuint(s.p.caplen, ==, before);
	g_assert_cmpmem(s.buf + 40, 4, "GET ", 4);
	assert_checksums_right(&s);
}

/* A checksum wrong in the capture is exactly as wrong after an edit (RFC 1624 updates). */
static void test_wrong_checksum_stays_as_wrong(void)
{
	struct seg s;
	uint16_t want;
	uint8_t pad[2] = { 'x', 'y' };

	seg_build(&s, TH_ACK, 1000, 5000, NULL, 0, "data");
	test_put16(s.buf, s.p.ip.l4_csum_off, (uint16_t)(test_get16(s.buf, s.p.ip.l4_csum_off) + 7));
	g_assert_true(tcp_segment_insert(&s.p, pad, sizeof pad));
	tcp_segment_set_seq(&s.p, 99);
	decode_packet(&s.p);
	g_assert_true(csum_l4_expected(&s.p, &s.p.ip, &want));
	g_assert_cmphex(test_get16(s.buf, s.p.ip.l4_csum_off), ==, (uint16_t)(want + 7));
}

static void test_insert_refuses_what_does_not_fit(void)
{
	uint8_t two[2] = { 1, 2 }, odd[3] = { 1, 2, 3 };
	struct seg s;

	seg_build(&s, TH_ACK, 1000, 5000, NULL, 0, "data");
	s.p.capacity = s.p.caplen + 1;   /* one byte of room */
	g_assert_false(tcp_segment_insert(&s.p, two, sizeof two));
	s.p.capacity = FRAME;
	g_assert_false(tcp_segment_insert(&s.p, odd, sizeof odd)); /* would shift the words after it */
	g_assert_false(tcp_segment_strip(&s.p, 6));                 /* only 4 payload bytes */
	g_assert_cmpuint(s.p.caplen, ==, 44);
}

/* ---- answer_tcp_rst through a capturing emitter ---------------------------------------------- */

static const struct stage_ops rst_test_ops = { .type = "test" };

static const struct rst_case {
	const char *name;
	uint8_t flags;
	const char *data;
	uint32_t want_seq, want_ack;
	uint8_t want_flags;
} rst_cases[] = {
	/* RFC 9293 3.10.7.1: the RST takes its sequence number from the segment's acknowledgement ... */
	{ "/answer/rst/takes-its-seq-from-the-ack", TH_ACK | TH_PUSH, "data", 5000, 0, TH_RST },
	/* ... or, when the segment acknowledged nothing, acknowledges it: SYN counts one. */
	{ "/answer/rst/acknowledges-a-syn", TH_SYN, NULL, 0, 1001, TH_RST | TH_ACK },
	{ "/answer/rst/acknowledges-data-and-fin", TH_FIN | TH_PUSH, "abc", 0, 1004, TH_RST | TH_ACK },
};

static void test_rst_answers_the_segment(gconstpointer data)
{
	const struct rst_case *c = data;
	struct test_emitter cap;
	struct stage st = { .ops = &rst_test_ops, .name = "t", .index = 0 };
	GString *note = g_string_new(NULL);
	struct stage_ctx ctx = { .now_ns = 5000, .note = note, .emitter = &cap.em, .stage = &st, .linktype = DLT_RAW };
	struct seg s;

	test_emitter_init(&cap);
	seg_build(&s, c->flags, 1000, 5000, NULL, 0, c->data);
	g_assert_true(answer_tcp_rst(&ctx, &s.p, DIR_LEFT_TO_RIGHT, "reset"));
	g_assert_cmpuint(cap.n, ==, 1);
	/* Back the way the segment came: onto the stage's left link, travelling away from it. */
	g_assert_cmpint(cap.last.side, ==, SIDE_LEFT);
	g_assert_cmpint(cap.last.dir, ==, DIR_RIGHT_TO_LEFT);
	g_assert_cmpint(cap.last.at_ns, ==, 5000 + PIPELINE_HOP_NS);
	struct packet r = { .data = cap.bytes, .caplen = cap.last.len, .wirelen = cap.last.len, .linktype = DLT_RAW };
	g_assert_cmpint(decode_packet(&r), ==, DECODE_OK);
	g_assert_cmphex(r.ip.src, ==, SERVER);
	g_assert_cmphex(r.ip.dst, ==, CLIENT);
	g_assert_cmpuint(r.ip.sport, ==, 80);
	g_assert_cmpuint(r.ip.dport, ==, 40000);
	g_assert_cmphex(r.ip.tcp_flags, ==, c->want_flags);
	g_assert_cmpuint(tcp_segment_seq(&r), ==, c->want_seq);
	g_assert_cmpuint(tcp_segment_ack(&r), ==, c->want_ack);
	uint16_t want;
	g_assert_true(csum_l4_expected(&r, &r.ip, &want));
	g_assert_cmphex(test_get16(cap.bytes, r.ip.l4_csum_off), ==, want);
	g_string_free(note, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/tcp-segment/seq-ack-and-payload-length", test_seq_ack_and_lengths);
	g_test_add_func("/tcp-segment/map-acks/moves-the-ack-and-every-sack-edge", test_map_acks_moves_ack_and_sack_edges);
	g_test_add_func("/tcp-segment/map-acks/leaves-a-segment-without-ack-alone", test_map_acks_leaves_a_syn_alone);
	g_test_add_func("/tcp-segment/insert-then-strip-keeps-checksums-right", test_insert_then_strip);
	g_test_add_func("/tcp-segment/wrong-checksum-stays-exactly-as-wrong", test_wrong_checksum_stays_as_wrong);
	g_test_add_func("/tcp-segment/insert-and-strip-refuse-what-does-not-fit", test_insert_refuses_what_does_not_fit);
	for (size_t i = 0; i < G_N_ELEMENTS(rst_cases); i++)
		g_test_add_data_func(rst_cases[i].name, &rst_cases[i], test_rst_answers_the_segment);
	return g_test_run();
}
