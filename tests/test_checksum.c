/* tests/test_checksum.c: the Internet checksum and the in-place rewrites that must keep it right.
 *
 * Follows RFC 1071 (the sum), RFC 1624 (incremental update, eqn. 3), RFC 768 (UDP checksum 0 means
 * none; a computed 0 is sent as 0xffff) and RFC 5508 REQ-4 (the packet quoted in an ICMP error is
 * translated too, and the outer ICMP checksum follows).  Packets are built here by hand with
 * checksums from csum_partial/csum_fold, decoded with decode_packet, and kept in exact-size buffers
 * so that ASan sees a write past caplen.  Random cases use g_test_rand_*: a failure prints the seed
 * (rerun with --seed).
 */
#include "common/checksum.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <string.h>

#define ITERATIONS 1000

/* ---- one's-complement arithmetic, written out independently of common/checksum.c ---- */

static uint16_t ones_add(uint16_t a, uint16_t b)
{
	uint32_t s = (uint32_t)a + b;
	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/* a - b, with the two zeros (0x0000, 0xffff) made one, so that "wrong by X" compares. */
static uint16_t ones_diff(uint16_t a, uint16_t b)
{
	uint16_t d = ones_add(a, (uint16_t)~b);
	return d == 0xffff ? 0 : d;
}

/* ---- building packets by hand ---- */




/* One IPv4 datagram to build.  For ICMP, sport is the echo identifier; an ICMP error (type 3,
 * 11) carries payload as its quote. */
struct dgram {
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;
	unsigned opt_words;        /* IPv4 options: NOPs, 0..10 words */
	const uint8_t *payload;
	size_t payload_len;
	bool udp_no_csum;          /* send UDP with checksum 0 ("none") */
	uint16_t ip_id;
	uint32_t seq;
};

static size_t l4_header_len(const struct dgram *d)
{
	return d->proto == IPPROTO_TCP ? 20 : 8;
}

static size_t l4_csum_rel(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/* The datagram with every checksum right, computed by csum_partial/csum_fold over the whole of it. */
static GByteArray *dgram_build(const struct dgram *d)
{
	size_t hl = 20 + 4 * d->opt_words;
	size_t l4len = l4_header_len(d) + d->payload_len;
	size_t total = hl + l4len;
	uint8_t *b = g_malloc0(total);

	b[0] = (uint8_t)(0x40 | (hl / 4));
	test_put16(b, 2, (uint16_t)total);
	test_put16(b, 4, d->ip_id);
	b[8] = 64;
	b[9] = d->proto;
	test_put32(b, 12, d->src);
	test_put32(b, 16, d->dst);
	memset(b + 20, 0x01, hl - 20); /* NOP options */
	test_put16(b, 10, csum_fold(csum_partial(b, hl, 0)));

	uint8_t *l4 = b + hl;
	switch (d->proto) {
	case IPPROTO_TCP:
		test_put16(l4, 0, d->sport);
		test_put16(l4, 2, d->dport);
		test_put32(l4, 4, d->seq);
		test_put32(l4, 8, d->seq ^ 0x5a5a5a5au);
		l4[12] = 0x50;
		l4[13] = 0x18; /* PSH ACK */
		test_put16(l4, 14, 0xfaf0);
		break;
	case IPPROTO_UDP:
		test_put16(l4, 0, d->sport);
		test_put16(l4, 2, d->dport);
		test_put16(l4, 4, (uint16_t)l4len);
		break;
	default:
		l4[0] = d->icmp_type;
		l4[1] = d->icmp_code;
		if (d->icmp_type == 8 || d->icmp_type == 0) {
			test_put16(l4, 4, d->sport);
			test_put16(l4, 6, (uint16_t)d->seq);
		}
		break;
	}
	if (d->payload_len)
		memcpy(l4 + l4_header_len(d), d->payload, d->payload_len);

	uint32_t sum = 0;
	if (d->proto != IPPROTO_ICMP) {
		uint8_t pseudo[12] = { 0 };
		memcpy(pseudo, b + 12, 8);
		pseudo[9] = d->proto;
		test_put16(pseudo, 10, (uint16_t)l4len);
		sum = csum_partial(pseudo, sizeof pseudo, 0);
	}
	uint16_t c = csum_fold(csum_partial(l4, l4len, sum));
	if (d->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	if (d->proto == IPPROTO_UDP && d->udp_no_csum)
		c = 0;
	test_put16(l4, l4_csum_rel(d->proto), c);

	GByteArray *out = g_byte_array_new();
	g_byte_array_append(out, b, (guint)total);
	g_free(b);
	return out;
}

/* A frame holding dg (Ethernet or raw IP), in an exact-size buffer, decoded. */
static void frame_decode(struct packet *p, int linktype, const GByteArray *dg, uint32_t caplen_cut)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	size_t link = linktype == DLT_EN10MB ? sizeof eth : 0;
	size_t len = link + dg->len;
	uint8_t *buf = g_malloc(len);

	memcpy(buf, eth, link);
	memcpy(buf + link, dg->data, dg->len);
	memset(p, 0, sizeof *p);
	p->wirelen = (uint32_t)len;
	p->caplen = caplen_cut && caplen_cut < len ? caplen_cut : (uint32_t)len;
	p->data = caplen_cut ? g_realloc(buf, p->caplen) : buf; /* still exact-size */
	p->linktype = linktype;
	decode_packet(p);
}

static void frame_free(struct packet *p)
{
	g_free(p->data);
	p->data = NULL;
}

static uint32_t rand_addr(void)
{
	return (uint32_t)g_test_rand_int();
}

static uint16_t rand16(void)
{
	return (uint16_t)g_test_rand_int_range(0, 0x10000);
}

static uint8_t *rand_bytes(size_t n)
{
	uint8_t *b = g_malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)g_test_rand_int_range(0, 256);
	return b;
}

static int rand_linktype(void)
{
	return g_test_rand_bit() ? DLT_EN10MB : DLT_RAW;
}

/* A random, valid TCP, UDP or ICMP echo datagram; the caller frees d->payload. */
static void dgram_random(struct dgram *d, uint8_t proto)
{
	memset(d, 0, sizeof *d);
	d->proto = proto;
	d->src = rand_addr();
	d->dst = rand_addr();
	d->sport = rand16();
	d->dport = proto == IPPROTO_ICMP ? d->sport : rand16();
	d->icmp_type = proto == IPPROTO_ICMP ? 8 : 0;
	d->opt_words = (unsigned)g_test_rand_int_range(0, 4);
	d->payload_len = (size_t)g_test_rand_int_range(0, 41); /* odd lengths too: RFC 1071 pads them */
	d->payload = rand_bytes(d->payload_len);
	d->ip_id = rand16();
	d->seq = (uint32_t)g_test_rand_int();
}

/* ---- checks ---- */

static uint16_t field16(const struct packet *p, uint32_t off)
{
	g_assert_cmpuint(off + 2, <=, p->caplen);
	return test_get16(p->data, off);
}

static void assert_ip_header_csum_right(const struct packet *p, const struct ip4_view *ip)
{
	g_assert_cmphex(field16(p, ip->off + 10), ==, csum_ip4_header(p, ip));
}

static void assert_l4_csum_right(const struct packet *p, const struct ip4_view *ip)
{
	uint16_t want;
	g_assert_true(csum_l4_expected(p, ip, &want));
	g_assert_cmphex(field16(p, ip->l4_csum_off), ==, want);
}

/* The outer ICMP checksum of an error covers the whole ICMP message: it must sum to zero. */
static void assert_outer_icmp_sums_to_zero(const struct packet *p)
{
	uint32_t len = p->ip.total_len - p->ip.hdr_len;
	g_assert_cmpuint(p->ip.l4_off + len, <=, p->caplen);
	g_assert_cmphex(csum_fold(csum_partial(p->data + p->ip.l4_off, len, 0)), ==, 0);
}

/* ---- csum_partial, csum_fold, csum_update16 ---- */

struct sum_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	uint16_t want; /* csum_fold(csum_partial(bytes)) */
};

static const uint8_t rfc1071_example[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
static const uint8_t odd_tail[] = { 0x00, 0x01, 0xf2 }; /* 0x0001 + 0xf200 */
static const uint8_t one_byte[] = { 0xab };             /* 0xab00 */
static const uint8_t all_ones[] = { 0xff, 0xff, 0xff, 0xff };
/* RFC 791 style header from a real capture: 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7 */
static const uint8_t ip_hdr_with_csum[] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

static const struct sum_case sum_cases[] = {
	{ "rfc-1071-section-3-example", rfc1071_example, sizeof rfc1071_example, 0x220d },
	{ "odd-length-pads-the-last-byte-on-the-right", odd_tail, sizeof odd_tail, (uint16_t)~0xf201 },
	{ "single-byte", one_byte, sizeof one_byte, (uint16_t)~0xab00 },
	{ "empty-is-ffff", NULL, 0, 0xffff },
	{ "all-ones-folds-to-zero", all_ones, sizeof all_ones, 0x0000 },
	{ "header-with-its-checksum-sums-to-zero", ip_hdr_with_csum, sizeof ip_hdr_with_csum, 0x0000 },
};

/* RFC 1071's definition, 16-bit big-endian words one at a time: what the wider loop must equal. */
static uint16_t reference_sum(const uint8_t *b, size_t len, uint32_t start)
{
	uint64_t sum = start;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Every length from 0 to 70 (the eight-byte loop, its 2-byte tail and an odd byte), random bytes,
 * random starting sums as callers pass (a pseudo-header's), at every alignment of the buffer. */
static void test_sum_matches_reference(void)
{
	GRand *r = g_rand_new_with_seed(1071);
	uint8_t buf[80];
	for (unsigned round = 0; round < 200; round++)
		for (size_t len = 0; len <= 70; len++) {
			size_t align = g_rand_int_range(r, 0, 8);
			for (size_t i = 0; i < sizeof buf; i++)
				buf[i] = (uint8_t)g_rand_int(r);
			uint32_t start = round % 2 ? g_rand_int_range(r, 0, 0x40000) : 0;
			g_assert_cmphex(csum_fold(csum_partial(buf + align, len, start)), ==,
			                reference_sum(buf + align, len, start));
		}
	g_rand_free(r);
}

static void test_sum_case(gconstpointer data)
{
	const struct sum_case *c = data;
	uint8_t *buf = g_memdup2(c->bytes, c->len);
	g_assert_cmphex(csum_fold(csum_partial(buf, c->len, 0)), ==, c->want);
	g_free(buf);
}

struct update_case {
	const char *name;
	uint16_t csum, old_word, new_word, want;
};

static const struct update_case update_cases[] = {
	/* RFC 1624 section 4: eqn. 3 gives 0x0000 where eqn. 2 gave the wrong 0xffff */
	{ "rfc-1624-section-4-example-gives-0000", 0xdd2f, 0x5555, 0x3285, 0x0000 },
	{ "unchanged-word-keeps-the-checksum", 0x1234, 0xabcd, 0xabcd, 0x1234 },
	{ "word-to-itself-from-zero-checksum", 0x0000, 0x0001, 0x0001, 0x0000 },
	{ "plus-one-takes-one-off", 0x1235, 0x0000, 0x0001, 0x1234 },
};

static void test_update_case(gconstpointer data)
{
	const struct update_case *c = data;
	g_assert_cmphex(csum_update16(c->csum, c->old_word, c->new_word), ==, c->want);
}

/* Random buffers: the incremental update equals a full recomputation, and a wrong checksum stays
 * wrong by the same amount. */
static void test_update16_matches_recompute(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		size_t words = (size_t)g_test_rand_int_range(2, 64);
		uint8_t *buf = rand_bytes(2 * words);
		test_put16(buf, 0, 0x4500); /* never all zero: 0x0000 and 0xffff would then both be right */
		uint16_t before = csum_fold(csum_partial(buf, 2 * words, 0));
		size_t i = (size_t)g_test_rand_int_range(1, (gint32)words);
		uint16_t old_word = test_get16(buf, 2 * i), new_word = rand16();
		test_put16(buf, 2 * i, new_word);
		uint16_t full = csum_fold(csum_partial(buf, 2 * words, 0));
		g_assert_cmphex(csum_update16(before, old_word, new_word), ==, full);

		uint16_t x = (uint16_t)g_test_rand_int_range(1, 0xffff);
		uint16_t wrong = ones_add(before, x);
		g_assert_cmphex(ones_diff(csum_update16(wrong, old_word, new_word), full), ==, ones_diff(wrong, before));
		g_free(buf);
	}
}

/* A checksum field inside the covered bytes: after the update the whole buffer still sums to zero. */
static void test_update16_embedded_field_verifies(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		size_t words = (size_t)g_test_rand_int_range(3, 40);
		uint8_t *buf = rand_bytes(2 * words);
		test_put16(buf, 0, 0x4500);
		test_put16(buf, 2, 0);
		test_put16(buf, 2, csum_fold(csum_partial(buf, 2 * words, 0)));
		size_t i = (size_t)g_test_rand_int_range(2, (gint32)words);
		uint16_t old_word = test_get16(buf, 2 * i), new_word = rand16();
		test_put16(buf, 2 * i, new_word);
		test_put16(buf, 2, csum_update16(test_get16(buf, 2), old_word, new_word));
		g_assert_cmphex(csum_fold(csum_partial(buf, 2 * words, 0)), ==, 0);
		g_free(buf);
	}
}

/* ---- rewrites on whole packets ---- */

static void rewrite_random(struct packet *p, struct ip4_view *ip, uint32_t *src, uint32_t *dst,
                           uint16_t *sport, uint16_t *dport)
{
	enum ip4_endpoint which = g_test_rand_bit() ? ENDPOINT_SRC : ENDPOINT_DST;
	if (g_test_rand_bit()) {
		uint32_t a = rand_addr();
		rewrite_ip4_addr(p, ip, which, a);
		*(which == ENDPOINT_SRC ? src : dst) = a;
	} else {
		uint16_t port = rand16();
		rewrite_ip4_port(p, ip, which, port);
		if (ip->proto == IPPROTO_ICMP)
			*sport = *dport = port;
		else
			*(which == ENDPOINT_SRC ? sport : dport) = port;
	}
}

static void check_random_rewrites(uint8_t proto)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram d;
		struct packet p;
		dgram_random(&d, proto);
		GByteArray *dg = dgram_build(&d);
		frame_decode(&p, rand_linktype(), dg, 0);
		g_assert_cmpint(p.status, ==, DECODE_OK);
		g_assert_true(p.ip.has_ports);
		assert_ip_header_csum_right(&p, &p.ip);
		assert_l4_csum_right(&p, &p.ip);

		uint32_t src = d.src, dst = d.dst;
		uint16_t sport = d.sport, dport = d.dport;
		int n = g_test_rand_int_range(1, 5);
		for (int k = 0; k < n; k++) {
			rewrite_random(&p, &p.ip, &src, &dst, &sport, &dport);
			assert_ip_header_csum_right(&p, &p.ip);
			assert_l4_csum_right(&p, &p.ip);
		}
		/* the view follows the bytes, and the bytes are those of a packet built with the new fields */
		g_assert_cmphex(p.ip.src, ==, src);
		g_assert_cmphex(p.ip.dst, ==, dst);
		g_assert_cmpuint(p.ip.sport, ==, sport);
		g_assert_cmpuint(p.ip.dport, ==, dport);
		d.src = src;
		d.dst = dst;
		d.sport = sport;
		d.dport = dport;
		GByteArray *want = dgram_build(&d);
		g_assert_cmpmem(p.data + p.l3_off, p.caplen - p.l3_off, want->data, want->len);

		g_byte_array_unref(want);
		frame_free(&p);
		g_byte_array_unref(dg);
		g_free((void *)d.payload);
	}
}

static void test_rewrite_tcp(void)
{
	check_random_rewrites(IPPROTO_TCP);
}

static void test_rewrite_udp(void)
{
	check_random_rewrites(IPPROTO_UDP);
}

static void test_rewrite_icmp_echo(void)
{
	check_random_rewrites(IPPROTO_ICMP);
}

/* A wrong checksum (offload, corruption) stays wrong by exactly as much: a NAT does not repair it. */
static void check_wrong_stays_wrong(uint8_t proto)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram d;
		struct packet p;
		dgram_random(&d, proto);
		GByteArray *dg = dgram_build(&d);
		frame_decode(&p, rand_linktype(), dg, 0);
		g_assert_cmpint(p.status, ==, DECODE_OK);

		uint16_t l4_good = field16(&p, p.ip.l4_csum_off), ip_good = field16(&p, p.ip.off + 10);
		uint16_t l4_bad, x;
		do { /* for UDP, 0 would mean "no checksum": a different case, tested below */
			x = (uint16_t)g_test_rand_int_range(1, 0xffff);
			l4_bad = ones_add(l4_good, x);
		} while (l4_bad == 0 || l4_bad == 0xffff);
		uint16_t y = (uint16_t)g_test_rand_int_range(1, 0xffff);
		uint16_t ip_bad = ones_add(ip_good, y);
		test_put16(p.data, p.ip.l4_csum_off, l4_bad);
		test_put16(p.data, p.ip.off + 10, ip_bad);
		uint16_t want_l4_diff = ones_diff(l4_bad, l4_good), want_ip_diff = ones_diff(ip_bad, ip_good);

		uint32_t src = d.src, dst = d.dst;
		uint16_t sport = d.sport, dport = d.dport;
		int n = g_test_rand_int_range(1, 5);
		for (int k = 0; k < n; k++)
			rewrite_random(&p, &p.ip, &src, &dst, &sport, &dport);

		uint16_t l4_want;
		g_assert_true(csum_l4_expected(&p, &p.ip, &l4_want));
		g_assert_cmphex(ones_diff(field16(&p, p.ip.l4_csum_off), l4_want), ==, want_l4_diff);
		g_assert_cmphex(ones_diff(field16(&p, p.ip.off + 10), csum_ip4_header(&p, &p.ip)), ==, want_ip_diff);

		frame_free(&p);
		g_byte_array_unref(dg);
		g_free((void *)d.payload);
	}
}

static void test_wrong_tcp(void)
{
	check_wrong_stays_wrong(IPPROTO_TCP);
}

static void test_wrong_udp(void)
{
	check_wrong_stays_wrong(IPPROTO_UDP);
}

static void test_wrong_icmp(void)
{
	check_wrong_stays_wrong(IPPROTO_ICMP);
}

/* RFC 768: a UDP checksum of zero means none was computed; a NAT must not invent one. */
static void test_udp_zero_stays_zero(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram d;
		struct packet p;
		dgram_random(&d, IPPROTO_UDP);
		d.udp_no_csum = true;
		GByteArray *dg = dgram_build(&d);
		frame_decode(&p, rand_linktype(), dg, 0);
		g_assert_cmpint(p.status, ==, DECODE_OK);
		uint32_t src = d.src, dst = d.dst;
		uint16_t sport = d.sport, dport = d.dport;
		for (int k = 0; k < 4; k++) {
			rewrite_random(&p, &p.ip, &src, &dst, &sport, &dport);
			g_assert_cmphex(field16(&p, p.ip.l4_csum_off), ==, 0);
			assert_ip_header_csum_right(&p, &p.ip);
		}
		frame_free(&p);
		g_byte_array_unref(dg);
		g_free((void *)d.payload);
	}
}

/* RFC 768: when the new checksum computes to 0x0000 it is sent as 0xffff (0 would mean "none").
 * The new source port is chosen so that the sum over the datagram is exactly 0xffff. */
static void test_udp_computed_zero_is_sent_as_ffff(void)
{
	unsigned done = 0;
	for (int it = 0; it < 200; it++) {
		struct dgram d;
		struct packet p;
		dgram_random(&d, IPPROTO_UDP);
		d.sport = 0;
		GByteArray *zero_port = dgram_build(&d);
		/* with sport 0, the checksum field holds ~S; a port of ~S makes the sum 0xffff */
		uint16_t s_complement = test_get16(zero_port->data, 4 * d.opt_words + 20 + 6);
		if (s_complement == 0xffff) /* the rest already sums to 0xffff: only port 0 gives a zero */
			goto next;
		uint16_t magic = s_complement;
		d.sport = rand16();
		if (d.sport == magic)
			d.sport ^= 1;
		GByteArray *dg = dgram_build(&d);
		frame_decode(&p, rand_linktype(), dg, 0);
		g_assert_cmpint(p.status, ==, DECODE_OK);

		rewrite_ip4_port(&p, &p.ip, ENDPOINT_SRC, magic);
		uint16_t want;
		g_assert_true(csum_l4_expected(&p, &p.ip, &want));
		g_assert_cmphex(want, ==, 0xffff);
		g_assert_cmphex(field16(&p, p.ip.l4_csum_off), ==, 0xffff);
		done++;

		frame_free(&p);
		g_byte_array_unref(dg);
	next:
		g_byte_array_unref(zero_port);
		g_free((void *)d.payload);
	}
	g_assert_cmpuint(done, >, 150);
}

/* Fields that were not captured are left alone, and nothing is written past caplen (ASan). */
static void test_truncated_rewrite_stays_inside(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram d;
		struct packet p;
		uint8_t proto = (uint8_t)(g_test_rand_bit() ? IPPROTO_TCP : IPPROTO_UDP);
		dgram_random(&d, proto);
		d.opt_words = 0;
		GByteArray *dg = dgram_build(&d);
		/* keep the IPv4 header and 4..7 bytes of the transport header: ports, no checksum */
		uint32_t cut = 14 + 20 + (uint32_t)g_test_rand_int_range(4, 8);
		frame_decode(&p, DLT_EN10MB, dg, cut);
		g_assert_cmpint(p.status, ==, DECODE_TRUNCATED);
		g_assert_true(p.ip.has_ports);
		g_assert_false(p.ip.has_l4_csum);
		uint8_t *before = g_memdup2(p.data, p.caplen);
		uint16_t port = rand16();
		rewrite_ip4_port(&p, &p.ip, ENDPOINT_DST, port);
		rewrite_ip4_addr(&p, &p.ip, ENDPOINT_SRC, rand_addr());
		assert_ip_header_csum_right(&p, &p.ip);
		g_assert_cmpuint(field16(&p, p.ip.l4_off + 2), ==, port);
		g_assert_cmpmem(p.data, 14, before, 14); /* the link header is not the IPv4 header */
		uint16_t l4_want;
		g_assert_false(csum_l4_expected(&p, &p.ip, &l4_want)); /* the segment was not captured */
		g_free(before);
		frame_free(&p);
		g_byte_array_unref(dg);
		g_free((void *)d.payload);
	}
}

/* A later fragment has no ports: rewriting them changes nothing. */
static void test_later_fragment_port_rewrite_is_a_no_op(void)
{
	static const uint8_t frag[] = {
		0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0xb9, 0x40, 0x11, 0x00, 0x00,
		10, 0, 0, 5, 198, 51, 100, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	};
	struct packet p = { .data = g_memdup2(frag, sizeof frag), .caplen = sizeof frag, .wirelen = sizeof frag,
	                    .linktype = DLT_RAW };
	test_put16(p.data, 10, csum_fold(csum_partial(p.data, 20, 0)));
	g_assert_cmpint(decode_packet(&p), ==, DECODE_OK);
	uint8_t *before = g_memdup2(p.data, p.caplen);
	rewrite_ip4_port(&p, &p.ip, ENDPOINT_SRC, 1);
	rewrite_ip4_port(&p, &p.ip, ENDPOINT_DST, 2);
	g_assert_cmpmem(p.data, p.caplen, before, p.caplen);
	uint16_t v;
	g_assert_false(csum_l4_expected(&p, &p.ip, &v));
	rewrite_ip4_addr(&p, &p.ip, ENDPOINT_SRC, 0xcb007105u);
	assert_ip_header_csum_right(&p, &p.ip);
	g_free(before);
	g_free(p.data);
}

/* ---- ICMP errors: the quoted packet and the outer checksum ---- */

/* An ICMP error from router to orig's source, quoting the first quote_len bytes of orig. */
static GByteArray *icmp_error_build(uint8_t type, uint8_t code, uint32_t router, const GByteArray *orig,
                                    size_t quote_len, uint32_t to)
{
	struct dgram e = {
		.proto = IPPROTO_ICMP, .src = router, .dst = to, .icmp_type = type, .icmp_code = code,
		.payload = orig->data, .payload_len = quote_len, .ip_id = 0x4242,
	};
	return dgram_build(&e);
}

/* The original datagram an error quotes: TCP, UDP (possibly without a checksum) or an echo request. */
static void dgram_random_original(struct dgram *d)
{
	static const uint8_t protos[] = { IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP };
	dgram_random(d, protos[g_test_rand_int_range(0, 3)]);
	d->udp_no_csum = d->proto == IPPROTO_UDP && g_test_rand_int_range(0, 4) == 0;
}

/* RFC 1624 eqn. 3 applied by hand for each changed word, without csum_update16. */
static uint16_t rfc1624_by_hand(uint16_t hc, const uint16_t *old_words, const uint16_t *new_words, unsigned n)
{
	uint16_t sum = (uint16_t)~hc;
	for (unsigned i = 0; i < n; i++)
		sum = ones_add(ones_add(sum, (uint16_t)~old_words[i]), new_words[i]);
	return (uint16_t)~sum;
}

/* The quoted packet is rewritten (an address and a port, as a NAT does for RFC 5508 REQ-4); then
 * the frame must equal the error built from scratch around the rewritten original, which checks
 * the inner IPv4 checksum, the inner transport checksum (right for the whole original datagram,
 * though only its first bytes are there) and the outer ICMP checksum at once. */
static void test_icmp_error_quote_rewrite(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram o;
		struct packet p;
		dgram_random_original(&o);
		GByteArray *orig = dgram_build(&o);
		size_t hl = 20 + 4 * o.opt_words;
		size_t quote = hl + 8 + (size_t)g_test_rand_int_range(0, (gint32)(orig->len - hl - 8) + 1);
		uint8_t type = g_test_rand_bit() ? 3 : 11;
		uint32_t router = rand_addr(), outer_dst = o.src;
		GByteArray *err = icmp_error_build(type, type == 3 ? 3 : 0, router, orig, quote, outer_dst);
		frame_decode(&p, rand_linktype(), err, 0);
		g_assert_cmpint(p.status, ==, DECODE_OK);
		g_assert_true(p.has_inner);
		g_assert_true(p.inner.has_ports);
		assert_outer_icmp_sums_to_zero(&p);

		/* where the quoted transport checksum is, and what it holds now */
		bool inner_csum = p.inner.has_l4_csum;
		uint16_t inner_before = inner_csum ? field16(&p, p.inner.l4_csum_off) : 0;

		/* a NAT translating a reply's quote: the quoted source (our side) address and port */
		enum ip4_endpoint which = g_test_rand_bit() ? ENDPOINT_SRC : ENDPOINT_DST;
		uint32_t new_addr = rand_addr(), old_addr = which == ENDPOINT_SRC ? o.src : o.dst;
		uint16_t new_port = rand16(), old_port = which == ENDPOINT_SRC || o.proto == IPPROTO_ICMP ? o.sport : o.dport;
		rewrite_ip4_addr(&p, &p.inner, which, new_addr);
		rewrite_ip4_port(&p, &p.inner, which, new_port);

		assert_ip_header_csum_right(&p, &p.ip);
		assert_ip_header_csum_right(&p, &p.inner);
		assert_outer_icmp_sums_to_zero(&p);
		if (inner_csum) {
			uint16_t now = field16(&p, p.inner.l4_csum_off);
			if (o.udp_no_csum) {
				g_assert_cmphex(now, ==, 0);
			} else {
				uint16_t olds[3] = { (uint16_t)(old_addr >> 16), (uint16_t)old_addr, old_port };
				uint16_t news[3] = { (uint16_t)(new_addr >> 16), (uint16_t)new_addr, new_port };
				/* ICMP has no pseudo-header: only the identifier is covered */
				uint16_t want = o.proto == IPPROTO_ICMP ? rfc1624_by_hand(inner_before, olds + 2, news + 2, 1)
				                                      : rfc1624_by_hand(inner_before, olds, news, 3);
				if (o.proto == IPPROTO_UDP && want == 0)
					want = 0xffff;
				g_assert_cmphex(now, ==, want);
			}
		}

		if (which == ENDPOINT_SRC)
			o.src = new_addr;
		else
			o.dst = new_addr;
		if (o.proto == IPPROTO_ICMP)
			o.sport = o.dport = new_port;
		else if (which == ENDPOINT_SRC)
			o.sport = new_port;
		else
			o.dport = new_port;
		GByteArray *orig2 = dgram_build(&o);
		/* a checksum cut in half by the quote cannot be updated (the carry needs both bytes): it stays */
		size_t csum_at = hl + l4_csum_rel(o.proto);
		if (quote == csum_at + 1)
			orig2->data[csum_at] = orig->data[csum_at];
		GByteArray *err2 = icmp_error_build(type, type == 3 ? 3 : 0, router, orig2, quote, outer_dst);
		g_assert_cmpmem(p.data + p.l3_off, p.caplen - p.l3_off, err2->data, err2->len);

		g_byte_array_unref(err2);
		g_byte_array_unref(orig2);
		frame_free(&p);
		g_byte_array_unref(err);
		g_byte_array_unref(orig);
		g_free((void *)o.payload);
	}
}

/* The outer addresses of an ICMP error are not covered by the ICMP checksum (no pseudo-header):
 * translating them changes only the outer IPv4 checksum. */
static void test_icmp_error_outer_rewrite(void)
{
	for (int it = 0; it < ITERATIONS; it++) {
		struct dgram o;
		struct packet p;
		dgram_random_original(&o);
		GByteArray *orig = dgram_build(&o);
		GByteArray *err = icmp_error_build(11, 0, rand_addr(), orig, orig->len, o.src);
		frame_decode(&p, rand_linktype(), err, 0);
		g_assert_true(p.has_inner);
		uint16_t icmp_before = field16(&p, p.ip.l4_csum_off);
		rewrite_ip4_addr(&p, &p.ip, g_test_rand_bit() ? ENDPOINT_SRC : ENDPOINT_DST, rand_addr());
		assert_ip_header_csum_right(&p, &p.ip);
		g_assert_cmphex(field16(&p, p.ip.l4_csum_off), ==, icmp_before);
		assert_outer_icmp_sums_to_zero(&p);
		frame_free(&p);
		g_byte_array_unref(err);
		g_byte_array_unref(orig);
		g_free((void *)o.payload);
	}
}

/* A quote of the IPv4 header and only 4 transport bytes: the ports are translated, nothing past
 * the quote is touched, and the outer checksum still follows. */
static void test_icmp_error_short_quote(void)
{
	struct dgram o;
	struct packet p;
	dgram_random(&o, IPPROTO_UDP);
	o.opt_words = 0;
	GByteArray *orig = dgram_build(&o);
	GByteArray *err = icmp_error_build(3, 3, 0xc0000201u, orig, 24, o.src);
	frame_decode(&p, DLT_RAW, err, 0);
	g_assert_true(p.has_inner);
	g_assert_true(p.inner.has_ports);
	g_assert_false(p.inner.has_l4_csum);
	rewrite_ip4_port(&p, &p.inner, ENDPOINT_SRC, 4242);
	rewrite_ip4_addr(&p, &p.inner, ENDPOINT_SRC, 0x0a000005u);
	assert_ip_header_csum_right(&p, &p.inner);
	assert_outer_icmp_sums_to_zero(&p);
	g_assert_cmpuint(field16(&p, p.inner.l4_off), ==, 4242);
	frame_free(&p);
	g_byte_array_unref(err);
	g_byte_array_unref(orig);
	g_free((void *)o.payload);
}

/* The bug this guards: csum_l4_expected() trusts the total length of a quoted header.  Below the
 * header length, len = total_len - hdr_len wraps and "l4_off + len" wraps back under caplen; at or
 * just above it, "len - csum_rel - 2" wraps.  Either way csum_partial() then reads gigabytes past
 * the frame.  Since decode_quoted() reads the quoted transport header within the quoted total
 * length, the two longer rows no longer show a UDP checksum at all; the shortest (a length below
 * the header's own, which bounds nothing) still does.  Rows: the quoted total length. */
static const unsigned lying_totals[] = { 4, 20, 27 };

static void test_l4_expected_on_lying_quote_child(unsigned total)
{
	struct dgram o;
	dgram_random(&o, IPPROTO_UDP);
	o.opt_words = 0;
	GByteArray *orig = dgram_build(&o);
	test_put16(orig->data, 2, (uint16_t)total);
	GByteArray *err = icmp_error_build(3, 3, 0xc0000201u, orig, orig->len, o.src);
	struct packet p;
	frame_decode(&p, DLT_RAW, err, 0);
	g_assert_true(p.has_inner);
	/* the quote holds all 8 UDP bytes, but the datagram's own length says they are not its */
	g_assert_cmpint(p.inner.has_l4_csum, ==, total < 20);
	uint16_t v;
	g_assert_false(csum_l4_expected(&p, &p.inner, &v));
	frame_free(&p);
	g_byte_array_unref(err);
	g_byte_array_unref(orig);
	g_free((void *)o.payload);
}

static void test_l4_expected_on_lying_quote(gconstpointer data)
{
	unsigned total = *(const unsigned *)data;
	if (g_test_subprocess()) {
		test_l4_expected_on_lying_quote_child(total);
		return;
	}
	/* In a subprocess, so that an over-read under ASan fails this test alone. */
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
}

/* csum_l4_expected() refuses what it cannot know: a quoted packet (the original is not all there). */
static void test_l4_expected_refuses_a_partial_quote(void)
{
	struct dgram o;
	struct packet p;
	dgram_random(&o, IPPROTO_TCP);
	GByteArray *orig = dgram_build(&o);
	GByteArray *err = icmp_error_build(3, 3, 0xc0000201u, orig, 20 + 4 * o.opt_words + 20, o.src);
	frame_decode(&p, DLT_RAW, err, 0);
	g_assert_true(p.has_inner);
	uint16_t v;
	if (o.payload_len)
		g_assert_false(csum_l4_expected(&p, &p.inner, &v));
	g_assert_true(csum_l4_expected(&p, &p.ip, &v));
	frame_free(&p);
	g_byte_array_unref(err);
	g_byte_array_unref(orig);
	g_free((void *)o.payload);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(sum_cases); i++) {
		char *path = g_strdup_printf("/checksum/sum/%s", sum_cases[i].name);
		g_test_add_data_func(path, &sum_cases[i], test_sum_case);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(update_cases); i++) {
		char *path = g_strdup_printf("/checksum/update16/%s", update_cases[i].name);
		g_test_add_data_func(path, &update_cases[i], test_update_case);
		g_free(path);
	}
	g_test_add_func("/checksum/sum/random-buffers-match-rfc-1071-word-by-word", test_sum_matches_reference);
	g_test_add_func("/checksum/update16/random-buffers-match-a-full-recompute", test_update16_matches_recompute);
	g_test_add_func("/checksum/update16/embedded-field-still-verifies", test_update16_embedded_field_verifies);

	g_test_add_func("/checksum/rewrite/tcp/random-rewrites-keep-every-checksum-right", test_rewrite_tcp);
	g_test_add_func("/checksum/rewrite/udp/random-rewrites-keep-every-checksum-right", test_rewrite_udp);
	g_test_add_func("/checksum/rewrite/icmp-echo/random-rewrites-keep-every-checksum-right",
	                test_rewrite_icmp_echo);
	g_test_add_func("/checksum/rewrite/tcp/wrong-checksum-stays-wrong-by-exactly-as-much", test_wrong_tcp);
	g_test_add_func("/checksum/rewrite/udp/wrong-checksum-stays-wrong-by-exactly-as-much", test_wrong_udp);
	g_test_add_func("/checksum/rewrite/icmp-echo/wrong-checksum-stays-wrong-by-exactly-as-much",
	                test_wrong_icmp);
	g_test_add_func("/checksum/rewrite/udp/zero-checksum-stays-zero", test_udp_zero_stays_zero);
	g_test_add_func("/checksum/rewrite/udp/computed-zero-is-sent-as-ffff", test_udp_computed_zero_is_sent_as_ffff);
	g_test_add_func("/checksum/rewrite/truncated/uncaptured-fields-are-left-alone",
	                test_truncated_rewrite_stays_inside);
	g_test_add_func("/checksum/rewrite/later-fragment/port-rewrite-is-a-no-op",
	                test_later_fragment_port_rewrite_is_a_no_op);
	g_test_add_func("/checksum/rewrite/icmp-error/quote-rewrite-keeps-inner-and-outer-checksums-right",
	                test_icmp_error_quote_rewrite);
	g_test_add_func("/checksum/rewrite/icmp-error/outer-address-rewrite-leaves-the-icmp-checksum",
	                test_icmp_error_outer_rewrite);
	g_test_add_func("/checksum/rewrite/icmp-error/quote-of-4-transport-bytes-translates-ports",
	                test_icmp_error_short_quote);
	g_test_add_func("/checksum/l4-expected/refuses-a-partial-quote", test_l4_expected_refuses_a_partial_quote);
	for (size_t i = 0; i < G_N_ELEMENTS(lying_totals); i++) {
		char *path = g_strdup_printf("/checksum/l4-expected/quote-with-total-length-%u-is-refused", lying_totals[i]);
		g_test_add_data_func(path, &lying_totals[i], test_l4_expected_on_lying_quote);
		g_free(path);
	}
	return g_test_run();
}
