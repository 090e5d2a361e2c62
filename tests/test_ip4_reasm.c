/* tests/test_ip4_reasm.c: bounded IPv4 reassembly (common/ip4_reasm.c; RFC 791 section 3.2, RFC 5722's rule on overlaps).
 *
 * Each row is a script of fragments cut from one datagram's payload (or from a copy that differs
 * everywhere, for an ambiguous overlap), each with the result it must give.  A row that completes
 * its datagram must give back exactly the payload, behind a header whose total length, fragment
 * fields and checksum are those of an unfragmented datagram; every row checks how many datagrams
 * are left incomplete (a discarded one is not).  Every fragment is an exact-size
 * frame, so ASan sees a read past it.
 */
#include <glib.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/checksum.h"
#include "common/ip4_reasm.h"
#include "common/packet.h"
#include "tests/testpkt.h"

#define ETH_LEN 14
#define IP_LEN 20
#define SECOND G_GINT64_CONSTANT(1000000000)

struct frag {
	uint32_t off, len;  /* bytes of payload: [off, off + len) */
	bool more;          /* MF */
	bool other_bytes;   /* cut from the copy that differs everywhere */
	uint16_t id;        /* 0: the row's datagram, 0x1111 */
	unsigned cut;       /* bytes the capture lost at its end */
	int at_s;           /* capture time */
	enum ip4_reasm_result want;
};

struct reasm_case {
	const char *name;
	unsigned max_datagrams, max_fragments; /* 0: 8 and 64 */
	struct frag frags[8];
	unsigned n;
	uint32_t payload_len;      /* of the datagram the last COMPLETE gives; 0: none completes */
	uint64_t timed_out, evicted, lost;
	unsigned incomplete;       /* datagrams still awaiting fragments after the last one (not discarded) */
};

static uint8_t payload_byte(uint32_t i, bool other)
{
	return other ? (uint8_t)~(i * 7 + 3) : (uint8_t)(i * 7 + 3);
}

/* Ethernet, IPv4 (protocol 253, experimental: no transport header to decode) and the fragment. */
static uint8_t *fragment_frame(const struct frag *f, uint32_t *frame_len)
{
	uint32_t n = ETH_LEN + IP_LEN + f->len;
	uint8_t *b = g_malloc0(n);
	b[12] = 0x08;
	uint8_t *ip = b + ETH_LEN;
	ip[0] = 0x45;
	test_put16(ip, 2, (uint16_t)(IP_LEN + f->len));
	test_put16(ip, 4, f->id ? f->id : 0x1111);
	test_put16(ip, 6, (uint16_t)((f->more ? 0x2000 : 0) | (f->off / 8)));
	ip[8] = 64;
	ip[9] = 253;
	test_put32(ip, 12, 0xc0a80001);
	test_put32(ip, 16, 0xcb00710a);
	test_put16(ip, 10, csum_fold(csum_partial(ip, IP_LEN, 0)));
	for (uint32_t i = 0; i < f->len; i++)
		ip[IP_LEN + i] = payload_byte(f->off + i, f->other_bytes);
	*frame_len = n - f->cut;
	return b;
}

static void check_datagram(const struct ip4_reasm_out *out, uint32_t payload_len)
{
	g_assert_cmpuint(out->datagram_len, ==, IP_LEN + payload_len);
	g_assert_cmpuint(test_get16(out->datagram, 2), ==, IP_LEN + payload_len);
	g_assert_cmpuint(test_get16(out->datagram, 6) & 0x3fff, ==, 0);
	g_assert_cmpuint(csum_fold(csum_partial(out->datagram, IP_LEN, 0)), ==, 0); /* header checksum right */
	for (uint32_t i = 0; i < payload_len; i++)
		g_assert_cmpuint(out->datagram[IP_LEN + i], ==, payload_byte(i, false));
}

static void test_reasm(gconstpointer data)
{
	const struct reasm_case *t = data;
	struct ip4_reasm_limits lim = { .max_datagrams = t->max_datagrams ? t->max_datagrams : 8,
		                        .max_fragments = t->max_fragments ? t->max_fragments : 64,
		                        .timeout_ns = 30 * SECOND };
	struct ip4_reasm *r = ip4_reasm_new(&lim);
	bool completed = false;

	g_assert_nonnull(r);
	for (unsigned i = 0; i < t->n; i++) {
		const struct frag *f = &t->frags[i];
		uint32_t len;
		uint8_t *frame = fragment_frame(f, &len);
		uint8_t *exact = g_memdup2(frame, len); /* exactly as long as what was captured */
		struct packet p = { .data = exact, .capacity = len, .caplen = len, .wirelen = ETH_LEN + IP_LEN + f->len,
			            .linktype = DLT_EN10MB, .ts_ns = f->at_s * SECOND };
		decode_packet(&p);
		g_assert_true(p.l3 == L3_IPV4 && p.ip.is_fragment);
		struct ip4_reasm_out out;
		enum ip4_reasm_result got = ip4_reasm_add(r, &p, p.ts_ns, &out);
		if (got != f->want)
			g_error("fragment %u [%u, %u): %s, wanted %s", i + 1, f->off, f->off + f->len,
			        ip4_reasm_result_name(got), ip4_reasm_result_name(f->want));
		if (got == IP4_REASM_COMPLETE) {
			check_datagram(&out, t->payload_len);
			completed = true;
		}
		g_free(exact);
		g_free(frame);
	}
	g_assert_cmpint(completed, ==, t->payload_len != 0);
	const struct ip4_reasm_stats *st = ip4_reasm_stats(r);
	g_assert_cmpuint(st->datagrams, ==, completed);
	g_assert_cmpuint(st->timed_out, ==, t->timed_out);
	g_assert_cmpuint(st->evicted, ==, t->evicted);
	g_assert_cmpuint(st->fragments_lost, ==, t->lost);
	g_assert_cmpuint(ip4_reasm_incomplete(r), ==, t->incomplete);
	uint64_t counted = 0;
	for (unsigned k = 0; k < IP4_REASM_N; k++)
		counted += st->results[k];
	g_assert_cmpuint(counted, ==, t->n); /* every fragment has one result */
	ip4_reasm_free(r);
}

#define F(o, l, m, w) { .off = (o), .len = (l), .more = (m), .want = IP4_REASM_##w }

static const struct reasm_case cases[] = {
	{ .name = "in-order", .n = 3, .payload_len = 42,
	  .frags = { F(0, 16, true, HELD), F(16, 16, true, HELD), F(32, 10, false, COMPLETE) } },
	{ .name = "out-of-order/last-first", .n = 3, .payload_len = 42,
	  .frags = { F(32, 10, false, HELD), F(16, 16, true, HELD), F(0, 16, true, COMPLETE) } },
	{ .name = "out-of-order/first-last", .n = 4, .payload_len = 32,
	  .frags = { F(0, 8, true, HELD), F(24, 8, false, HELD), F(16, 8, true, HELD), F(8, 8, true, COMPLETE) } },
	{ .name = "one-fragment-only-the-last", .n = 1, .payload_len = 0,
	  .frags = { F(8, 8, false, HELD) }, .lost = 0, .incomplete = 1 },
	{ .name = "duplicate/a-retransmitted-first-fragment", .n = 3, .payload_len = 24,
	  .frags = { F(0, 16, true, HELD), F(0, 16, true, DUPLICATE), F(16, 8, false, COMPLETE) } },
	{ .name = "duplicate/a-retransmitted-last-fragment", .n = 3, .payload_len = 24,
	  .frags = { F(16, 8, false, HELD), F(16, 8, false, DUPLICATE), F(0, 16, true, COMPLETE) } },
	{ .name = "overlap/same-bytes-is-kept", .n = 3, .payload_len = 40,
	  .frags = { F(0, 24, true, HELD), F(16, 16, true, HELD), F(32, 8, false, COMPLETE) } },
	{ .name = "overlap/other-bytes-discards-the-datagram", .n = 3, .lost = 1,
	  .frags = { F(0, 24, true, HELD), { .off = 16, .len = 16, .more = true, .other_bytes = true,
	                                      .want = IP4_REASM_OVERLAP },
	             F(32, 8, false, OF_DISCARDED) } },
	{ .name = "overlap/other-bytes-in-a-partial-last-unit", .n = 2, .lost = 1,
	  .frags = { F(16, 5, false, HELD), { .off = 16, .len = 5, .other_bytes = true, .want = IP4_REASM_OVERLAP } } },
	{ .name = "ends/two-last-fragments-disagree", .n = 2, .lost = 1,
	  .frags = { F(16, 8, false, HELD), F(24, 8, false, INCONSISTENT) } },
	{ .name = "ends/bytes-held-past-the-last-fragment", .n = 2, .lost = 1,
	  .frags = { F(32, 8, true, HELD), F(8, 8, false, INCONSISTENT) } },
	{ .name = "ends/a-last-fragment-ending-inside-a-held-unit", .n = 2, .lost = 1, /* found by fuzz_ip4_reasm */
	  .frags = { F(0, 16, true, HELD), F(8, 4, false, INCONSISTENT) } },
	{ .name = "ends/a-fragment-past-the-known-end", .n = 2, .lost = 1,
	  .frags = { F(8, 8, false, HELD), F(16, 8, true, INCONSISTENT) } },
	{ .name = "total/just-65535-bytes-completes", .n = 2, .payload_len = 65515,
	  .frags = { F(0, 65496, true, HELD), F(65496, 19, false, COMPLETE) } },
	{ .name = "total/over-65535-bytes-is-discarded", .n = 2,
	  .frags = { F(65496, 24, false, TOO_LONG), F(0, 8, true, OF_DISCARDED) } },
	{ .name = "limits/too-many-fragments", .max_fragments = 2, .n = 4, .lost = 2,
	  .frags = { F(0, 8, true, HELD), F(8, 8, true, HELD), F(16, 8, true, TOO_MANY), F(24, 8, false, OF_DISCARDED) } },
	{ .name = "limits/a-duplicate-does-not-count-as-one-more", .max_fragments = 2, .n = 3, .payload_len = 16,
	  .frags = { F(0, 8, true, HELD), F(0, 8, true, DUPLICATE), F(8, 8, false, COMPLETE) } },
	{ .name = "limits/a-full-table-evicts-the-oldest", .max_datagrams = 1, .n = 3, .evicted = 2, .lost = 2,
	  .incomplete = 1,
	  .frags = { F(0, 8, true, HELD), { .off = 0, .len = 8, .more = true, .id = 0x2222, .want = IP4_REASM_HELD },
	             F(8, 8, false, HELD) } },
	{ .name = "timeout/the-first-half-expires", .n = 2, .timed_out = 1, .lost = 1, .incomplete = 1,
	  .frags = { F(0, 16, true, HELD), { .off = 16, .len = 8, .at_s = 31, .want = IP4_REASM_HELD } } },
	{ .name = "timeout/within-30-s-completes", .n = 2, .payload_len = 24,
	  .frags = { F(0, 16, true, HELD), { .off = 16, .len = 8, .at_s = 29, .want = IP4_REASM_COMPLETE } } },
	{ .name = "misaligned/a-middle-fragment-of-10-bytes", .n = 1,
	  .frags = { F(0, 10, true, MISALIGNED) } },
	{ .name = "truncated/the-capture-lost-its-end", .n = 1,
	  .frags = { { .off = 0, .len = 16, .more = true, .cut = 4, .want = IP4_REASM_TRUNCATED } } },
};

static void test_limits_out_of_range(void)
{
	const struct ip4_reasm_limits bad[] = {
		{ .max_datagrams = 0, .max_fragments = 64, .timeout_ns = SECOND },
		{ .max_datagrams = 8, .max_fragments = 0, .timeout_ns = SECOND },
		{ .max_datagrams = 8, .max_fragments = 64, .timeout_ns = 0 },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++)
		g_assert_null(ip4_reasm_new(&bad[i]));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strdup_printf("/ip4-reasm/%s", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_reasm);
		g_free(path);
	}
	g_test_add_func("/ip4-reasm/limits-out-of-range-are-refused", test_limits_out_of_range);
	return g_test_run();
}
