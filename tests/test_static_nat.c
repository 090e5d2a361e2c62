/* tests/test_static_nat.c: the static-nat stage driven through its ops table, packet by packet.
 *
 * Follows RFC 2663 section 4.1 (Basic NAT: in2out translates the source, out2in the destination),
 * iptables NETMAP (host bits kept), RFC 5508 REQ-4 (an ICMP error's quoted packet is translated the
 * other way round, and the outer ICMP checksum follows) and the stage contract of common/stage-t.h
 * (reverse() undoes process() and changes no state).  Packets are built by hand with every checksum
 * computed from scratch; a translated packet must equal, byte for byte, the one built with the
 * translated addresses.
 */
#include "common/checksum.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdint.h>
#include <string.h>


/* The lesson's office router: one web server, and a /24 of desks mapped one to one. */
#define OFFICE_MAP "map = 10.0.0.5 203.0.113.5; 10.0.1.0/24 192.0.2.0/24\n"
#define SCENARIO_HEAD                                                              \
	"[scenario]\nchain = lan > office > internet\ncapture = lan\n"                  \
	"[link lan]\nnetworks = 10.0.0.0/24, 10.0.1.0/24\n[link internet]\n"            \
	"[stage office]\ntype = static-nat\n"
#define OFFICE SCENARIO_HEAD OFFICE_MAP
/* The desks' /24 with one desk given its own public address: the host rule is the more specific. */
#define NESTED SCENARIO_HEAD "map = 10.0.1.0/24 192.0.2.0/24; 10.0.1.7 203.0.113.7\n"
#define NESTED_HOST_FIRST SCENARIO_HEAD "map = 10.0.1.7 203.0.113.7; 10.0.1.0/24 192.0.2.0/24\n"

/* ---- packets, described and built ---- */

struct pkt {
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;        /* for an ICMP echo, sport is the identifier */
	uint8_t icmp_type, icmp_code; /* ICMP: 8 echo request, 0 echo reply, 3 and 11 errors */
	const struct pkt *quoted;     /* an error's original packet */
	size_t quote_len;             /* bytes of it quoted; 0: all of it */
};



static uint32_t addr_of(const char *text)
{
	uint32_t a;
	if (!ip4_parse(text, &a))
		g_error("bad address in a test row: %s", text);
	return a;
}

/* The IPv4 datagram for k, every checksum computed over the whole of it. */
static GByteArray *pkt_build(const struct pkt *k)
{
	static const uint8_t hello[] = { 'h', 'e', 'l', 'l', 'o' }; /* odd: RFC 1071 padding */
	GByteArray *quote = NULL;
	const uint8_t *payload = hello;
	size_t payload_len = sizeof hello;

	if (k->quoted) {
		quote = pkt_build(k->quoted);
		if (k->quote_len)
			g_byte_array_set_size(quote, (guint)k->quote_len);
		payload = quote->data;
		payload_len = quote->len;
	}
	size_t l4h = k->proto == IPPROTO_TCP ? 20 : 8, l4len = l4h + payload_len, total = 20 + l4len;
	uint8_t *b = g_malloc0(total);
	b[0] = 0x45;
	test_put16(b, 2, (uint16_t)total);
	test_put16(b, 4, k->quoted ? 0x0e0e : 0x1234);
	b[8] = 64;
	b[9] = k->proto;
	test_put32(b, 12, addr_of(k->src));
	test_put32(b, 16, addr_of(k->dst));
	test_put16(b, 10, csum_fold(csum_partial(b, 20, 0)));

	uint8_t *l4 = b + 20;
	size_t csum_rel = 2;
	if (k->proto == IPPROTO_TCP) {
		test_put16(l4, 0, k->sport);
		test_put16(l4, 2, k->dport);
		test_put32(l4, 4, 0x01020304);
		l4[12] = 0x50;
		l4[13] = 0x18;
		test_put16(l4, 14, 0xfaf0);
		csum_rel = 16;
	} else if (k->proto == IPPROTO_UDP) {
		test_put16(l4, 0, k->sport);
		test_put16(l4, 2, k->dport);
		test_put16(l4, 4, (uint16_t)l4len);
		csum_rel = 6;
	} else {
		l4[0] = k->icmp_type;
		l4[1] = k->icmp_code;
		if (!k->quoted) {
			test_put16(l4, 4, k->sport);
			test_put16(l4, 6, 7);
		}
	}
	memcpy(l4 + l4h, payload, payload_len);
	uint32_t sum = 0;
	if (k->proto != IPPROTO_ICMP) {
		uint8_t pseudo[12] = { 0 };
		memcpy(pseudo, b + 12, 8);
		pseudo[9] = k->proto;
		test_put16(pseudo, 10, (uint16_t)l4len);
		sum = csum_partial(pseudo, sizeof pseudo, 0);
	}
	uint16_t c = csum_fold(csum_partial(l4, l4len, sum));
	test_put16(l4, csum_rel, k->proto == IPPROTO_UDP && c == 0 ? 0xffff : c);

	GByteArray *out = g_byte_array_new();
	g_byte_array_append(out, b, (guint)total);
	g_free(b);
	if (quote)
		g_byte_array_unref(quote);
	return out;
}

/* An Ethernet frame of k in an exact-size buffer, decoded. */
static void pkt_frame(struct packet *p, const struct pkt *k)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	GByteArray *dg = pkt_build(k);
	memset(p, 0, sizeof *p);
	p->caplen = p->wirelen = (uint32_t)(sizeof eth + dg->len);
	p->data = g_malloc(p->caplen);
	memcpy(p->data, eth, sizeof eth);
	memcpy(p->data + sizeof eth, dg->data, dg->len);
	p->linktype = DLT_EN10MB;
	g_byte_array_unref(dg);
	g_assert_cmpint(decode_packet(p), ==, DECODE_OK);
}

static void pkt_free(struct packet *p)
{
	g_free(p->data);
	p->data = NULL;
}

static void assert_same_bytes(const struct packet *got, const struct packet *want)
{
	if (got->caplen == want->caplen && memcmp(got->data, want->data, got->caplen) == 0)
		return;
	GString *got_d = g_string_new(NULL), *want_d = g_string_new(NULL);
	packet_describe(got, got_d);
	packet_describe(want, want_d);
	for (uint32_t i = 0; i < MIN(got->caplen, want->caplen); i++)
		if (got->data[i] != want->data[i]) {
			g_error("frames differ first at byte %u: got %02x, want %02x (got %s, want %s)", i,
			        got->data[i], want->data[i], got_d->str, want_d->str);
		}
	g_error("frame lengths differ: %u, want %u", got->caplen, want->caplen);
}

/* The outer ICMP checksum covers the whole ICMP message, quote included: it must sum to zero. */
static void assert_icmp_sums_to_zero(const struct packet *p)
{
	uint32_t len = p->ip.total_len - p->ip.hdr_len;
	g_assert_cmphex(csum_fold(csum_partial(p->data + p->ip.l4_off, len, 0)), ==, 0);
}

/* ---- the stage ---- */

struct nat_fixture {
	struct scenario *sc;
	struct stage *st;
	struct stage_ctx ctx;
};

static void fixture_open(struct nat_fixture *f, const char *text)
{
	GError *err = NULL;
	f->sc = scenario_load_data(natlb_stage_types(), "test", text, &err);
	g_assert_no_error(err);
	g_assert_nonnull(f->sc);
	f->st = f->sc->stages[0];
	g_assert_cmpstr(f->st->ops->type, ==, "static-nat");
	memset(&f->ctx, 0, sizeof f->ctx);
	f->ctx.note = g_string_new(NULL);
	f->ctx.drop = DROP_NONE;
}

static void fixture_close(struct nat_fixture *f)
{
	g_string_free(f->ctx.note, TRUE);
	scenario_free(f->sc);
}

static enum verdict run_process(struct nat_fixture *f, struct packet *p, enum hop_dir dir)
{
	g_string_truncate(f->ctx.note, 0);
	return f->st->ops->process(f->st, p, dir, &f->ctx);
}

static bool run_reverse(struct nat_fixture *f, struct packet *p, enum hop_dir dir)
{
	g_string_truncate(f->ctx.note, 0);
	return f->st->ops->reverse(f->st, p, dir, &f->ctx) == REVERSE_TRANSLATED;
}

static char *stats_text(const struct nat_fixture *f)
{
	GString *out = g_string_new(NULL);
	f->st->ops->stats_print(f->st, out);
	return g_string_free(out, FALSE);
}

/* ---- one row per packet that crosses the office router ---- */

struct nat_case {
	const char *name;
	const char *scenario;  /* NULL: OFFICE */
	enum hop_dir dir;
	struct pkt in, want;   /* before and after the stage */
	const char *want_note;  /* the whole note, after the "static-nat office: " the loop writes; or, when NULL, these: */
	const char *note_has, *note_lacks;
	/* The packet after the stage is also what a translated one looks like, so reverse() rightly
	 * picks the translated reading: reverse(process(p)) == p cannot hold. */
	bool reverse_ambiguous;
};

#define L2R DIR_LEFT_TO_RIGHT
#define R2L DIR_RIGHT_TO_LEFT
#define TCP_(s, sp, d, dp) { .proto = IPPROTO_TCP, .src = (s), .dst = (d), .sport = (sp), .dport = (dp) }
#define UDP_(s, sp, d, dp) { .proto = IPPROTO_UDP, .src = (s), .dst = (d), .sport = (sp), .dport = (dp) }
#define ECHO_(s, d, id) { .proto = IPPROTO_ICMP, .src = (s), .dst = (d), .sport = (id), .dport = (id), .icmp_type = 8 }
#define ICMP_ERR_(s, d, type, code, q, qlen)                                                   \
	{ .proto = IPPROTO_ICMP, .src = (s), .dst = (d), .icmp_type = (type), .icmp_code = (code), \
	  .quoted = &(const struct pkt)q, .quote_len = (qlen) }

static const struct nat_case nat_cases[] = {
	{ .name = "snat/host-rule-translates-the-source", .dir = L2R,
	  .in = TCP_("10.0.0.5", 40001, "198.51.100.7", 80), .want = TCP_("203.0.113.5", 40001, "198.51.100.7", 80),
	  .want_note = "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1)" },
	{ .name = "snat/prefix-rule-keeps-the-host-bits", .dir = L2R,
	  .in = UDP_("10.0.1.77", 5353, "198.51.100.7", 53), .want = UDP_("192.0.2.77", 5353, "198.51.100.7", 53),
	  .want_note = "SNAT 10.0.1.77 -> 192.0.2.77 (rule 2)" },
	{ .name = "snat/prefix-rule-maps-the-top-of-the-range", .dir = L2R,
	  .in = UDP_("10.0.1.255", 1, "198.51.100.7", 2), .want = UDP_("192.0.2.255", 1, "198.51.100.7", 2),
	  .want_note = "SNAT 10.0.1.255 -> 192.0.2.255 (rule 2)" },
	{ .name = "snat/icmp-echo-keeps-its-identifier", .dir = L2R,
	  .in = ECHO_("10.0.0.5", "198.51.100.7", 0x1234), .want = ECHO_("203.0.113.5", "198.51.100.7", 0x1234),
	  .want_note = "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1)" },
	{ .name = "snat/leaves-an-inside-destination-alone", .dir = L2R,
	  .in = TCP_("10.0.0.5", 40001, "10.0.1.9", 22), .want = TCP_("203.0.113.5", 40001, "10.0.1.9", 22),
	  .want_note = "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1)" },
	{ .name = "dnat/host-rule-translates-the-destination", .dir = R2L,
	  .in = TCP_("198.51.100.7", 80, "203.0.113.5", 40001), .want = TCP_("198.51.100.7", 80, "10.0.0.5", 40001),
	  .want_note = "DNAT 203.0.113.5 -> 10.0.0.5 (rule 1)" },
	{ .name = "dnat/prefix-rule-keeps-the-host-bits", .dir = R2L,
	  .in = UDP_("198.51.100.7", 53, "192.0.2.200", 5353), .want = UDP_("198.51.100.7", 53, "10.0.1.200", 5353),
	  .want_note = "DNAT 192.0.2.200 -> 10.0.1.200 (rule 2)" },
	{ .name = "dnat/icmp-echo-reply", .dir = R2L,
	  .in = { .proto = IPPROTO_ICMP, .src = "198.51.100.7", .dst = "203.0.113.5", .sport = 9, .icmp_type = 0 },
	  .want = { .proto = IPPROTO_ICMP, .src = "198.51.100.7", .dst = "10.0.0.5", .sport = 9, .icmp_type = 0 },
	  .want_note = "DNAT 203.0.113.5 -> 10.0.0.5 (rule 1)" },
	{ .name = "unmatched/outbound-crosses-untranslated", .dir = L2R,
	  .in = TCP_("10.0.2.9", 40001, "198.51.100.7", 80), .want = TCP_("10.0.2.9", 40001, "198.51.100.7", 80),
	  .want_note = "no rule for source 10.0.2.9, crossed untranslated" },
	{ .name = "unmatched/inbound-crosses-untranslated", .dir = R2L,
	  .in = UDP_("198.51.100.7", 53, "203.0.113.99", 5353), .want = UDP_("198.51.100.7", 53, "203.0.113.99", 5353),
	  .want_note = "no rule for destination 203.0.113.99, crossed untranslated" },
	{ .name = "unmatched/outside-address-going-out-is-not-an-inside-one", .dir = L2R,
	  .in = UDP_("203.0.113.5", 53, "198.51.100.7", 53), .want = UDP_("203.0.113.5", 53, "198.51.100.7", 53),
	  .want_note = "no rule for source 203.0.113.5, crossed untranslated",
	  .reverse_ambiguous = true },

	/* ICMP errors: the outer packet as usual, the quoted one the other way round. */
	{ .name = "icmp-error/outbound-port-unreachable-translates-the-quote", .dir = L2R,
	  .in = ICMP_ERR_("10.0.0.5", "198.51.100.7", 3, 3, UDP_("198.51.100.7", 5353, "10.0.0.5", 53), 0),
	  .want = ICMP_ERR_("203.0.113.5", "198.51.100.7", 3, 3, UDP_("198.51.100.7", 5353, "203.0.113.5", 53), 0),
	  .want_note = "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1); "
	               "quoted packet's destination 10.0.0.5 -> 203.0.113.5" },
	{ .name = "icmp-error/inbound-time-exceeded-translates-the-quote", .dir = R2L,
	  .in = ICMP_ERR_("198.51.100.1", "203.0.113.5", 11, 0, TCP_("203.0.113.5", 40001, "198.51.100.7", 80), 0),
	  .want = ICMP_ERR_("198.51.100.1", "10.0.0.5", 11, 0, TCP_("10.0.0.5", 40001, "198.51.100.7", 80), 0),
	  .want_note = "DNAT 203.0.113.5 -> 10.0.0.5 (rule 1); "
	               "quoted packet's source 203.0.113.5 -> 10.0.0.5" },
	{ .name = "icmp-error/inbound-quoting-8-tcp-bytes", .dir = R2L,
	  .in = ICMP_ERR_("198.51.100.1", "192.0.2.9", 3, 1, TCP_("192.0.2.9", 40001, "198.51.100.7", 80), 28),
	  .want = ICMP_ERR_("198.51.100.1", "10.0.1.9", 3, 1, TCP_("10.0.1.9", 40001, "198.51.100.7", 80), 28),
	  .want_note = "DNAT 192.0.2.9 -> 10.0.1.9 (rule 2); "
	               "quoted packet's source 192.0.2.9 -> 10.0.1.9" },
	{ .name = "icmp-error/inbound-quoting-an-echo-request", .dir = R2L,
	  .in = ICMP_ERR_("198.51.100.1", "192.0.2.9", 11, 0, ECHO_("192.0.2.9", "198.51.100.7", 0x77), 0),
	  .want = ICMP_ERR_("198.51.100.1", "10.0.1.9", 11, 0, ECHO_("10.0.1.9", "198.51.100.7", 0x77), 0),
	  .want_note = "DNAT 192.0.2.9 -> 10.0.1.9 (rule 2); "
	               "quoted packet's source 192.0.2.9 -> 10.0.1.9" },
	{ .name = "icmp-error/outbound-from-an-unmapped-router-still-translates-the-quote-and-says-so", .dir = L2R,
	  .in = ICMP_ERR_("10.0.2.1", "198.51.100.7", 11, 0, UDP_("198.51.100.7", 5353, "10.0.0.5", 53), 0),
	  .want = ICMP_ERR_("10.0.2.1", "198.51.100.7", 11, 0, UDP_("198.51.100.7", 5353, "203.0.113.5", 53), 0),
	  .note_has = "quoted packet's destination 10.0.0.5 -> 203.0.113.5", .note_lacks = "untranslated" },

	/* Overlapping rules: the longest prefix wins, as in a route table (README, static-nat). */
	{ .name = "longest-prefix/host-rule-beats-the-prefix-rule-going-out", .scenario = NESTED, .dir = L2R,
	  .in = TCP_("10.0.1.7", 40001, "198.51.100.7", 80), .want = TCP_("203.0.113.7", 40001, "198.51.100.7", 80),
	  .want_note = "SNAT 10.0.1.7 -> 203.0.113.7 (rule 2)" },
	{ .name = "longest-prefix/host-rule-wins-whichever-comes-first", .scenario = NESTED_HOST_FIRST, .dir = L2R,
	  .in = TCP_("10.0.1.7", 40001, "198.51.100.7", 80), .want = TCP_("203.0.113.7", 40001, "198.51.100.7", 80),
	  .want_note = "SNAT 10.0.1.7 -> 203.0.113.7 (rule 1)" },
	{ .name = "longest-prefix/prefix-rule-keeps-the-other-hosts", .scenario = NESTED, .dir = L2R,
	  .in = UDP_("10.0.1.8", 5353, "198.51.100.7", 53), .want = UDP_("192.0.2.8", 5353, "198.51.100.7", 53),
	  .want_note = "SNAT 10.0.1.8 -> 192.0.2.8 (rule 1)" },
	{ .name = "longest-prefix/host-rule-maps-its-reply-back-in", .scenario = NESTED, .dir = R2L,
	  .in = TCP_("198.51.100.7", 80, "203.0.113.7", 40001), .want = TCP_("198.51.100.7", 80, "10.0.1.7", 40001),
	  .want_note = "DNAT 203.0.113.7 -> 10.0.1.7 (rule 2)" },
	{ .name = "longest-prefix/prefix-rule-maps-the-other-hosts-back-in", .scenario = NESTED, .dir = R2L,
	  .in = UDP_("198.51.100.7", 53, "192.0.2.8", 5353), .want = UDP_("198.51.100.7", 53, "10.0.1.8", 5353),
	  .want_note = "DNAT 192.0.2.8 -> 10.0.1.8 (rule 1)" },
	/* 10.0.1.7 goes out as 203.0.113.7, so 192.0.2.7 must not lead to it: a reply would come back
	 * from an address the sender never wrote to. */
	{ .name = "longest-prefix/prefix-rules-image-of-the-host-is-not-translated-in", .scenario = NESTED, .dir = R2L,
	  .in = UDP_("198.51.100.7", 53, "192.0.2.7", 5353), .want = UDP_("198.51.100.7", 53, "192.0.2.7", 5353),
	  .want_note = "no rule for destination 192.0.2.7, crossed untranslated "
	               "(rule 1 would map it to 10.0.1.7, which rule 2 maps to 203.0.113.7)" },
	{ .name = "longest-prefix/icmp-error-quoting-the-host-rules-packet", .scenario = NESTED, .dir = R2L,
	  .in = ICMP_ERR_("198.51.100.1", "203.0.113.7", 3, 3, UDP_("203.0.113.7", 5353, "198.51.100.7", 53), 0),
	  .want = ICMP_ERR_("198.51.100.1", "10.0.1.7", 3, 3, UDP_("10.0.1.7", 5353, "198.51.100.7", 53), 0),
	  .want_note = "DNAT 203.0.113.7 -> 10.0.1.7 (rule 2); "
	               "quoted packet's source 203.0.113.7 -> 10.0.1.7" },
};

/* process() turns in into want, with the note; reverse() turns it back into in. */
static void test_nat_case(gconstpointer data)
{
	const struct nat_case *c = data;
	struct nat_fixture f;
	struct packet p, want, orig;
	char *why = NULL;

	fixture_open(&f, c->scenario ? c->scenario : OFFICE);
	pkt_frame(&p, &c->in);
	pkt_frame(&want, &c->want);
	pkt_frame(&orig, &c->in);

	g_assert_cmpint(run_process(&f, &p, c->dir), ==, VERDICT_FORWARD);
	assert_same_bytes(&p, &want);
	if (c->in.quoted)
		assert_icmp_sums_to_zero(&p);
	/* the decoded view follows the bytes, so a later stage sees the translated addresses */
	g_assert_cmphex(p.ip.src, ==, want.ip.src);
	g_assert_cmphex(p.ip.dst, ==, want.ip.dst);
	if (p.has_inner) {
		g_assert_cmphex(p.inner.src, ==, want.inner.src);
		g_assert_cmphex(p.inner.dst, ==, want.inner.dst);
	}
	if (c->want_note && strcmp(f.ctx.note->str, c->want_note) != 0)
		why = g_strdup_printf("note \"%s\", want \"%s\"", f.ctx.note->str, c->want_note);
	else if (c->note_has && !strstr(f.ctx.note->str, c->note_has))
		why = g_strdup_printf("note \"%s\" lacks \"%s\"", f.ctx.note->str, c->note_has);
	else if (c->note_lacks && strstr(f.ctx.note->str, c->note_lacks))
		why = g_strdup_printf("note \"%s\" says \"%s\"", f.ctx.note->str, c->note_lacks);

	g_assert_true(run_reverse(&f, &p, c->dir));
	if (!c->reverse_ambiguous)
		assert_same_bytes(&p, &orig);

	if (why)
		g_error("%s", why);
	g_free(why);
	pkt_free(&orig);
	pkt_free(&want);
	pkt_free(&p);
	fixture_close(&f);
}

/* ---- the rest of the ops table ---- */

struct claims_case {
	const char *addr;
	enum side side;
	bool want;
};

static void test_claims(void)
{
	static const struct claims_case rows[] = {
		{ "203.0.113.5", SIDE_RIGHT, true },   /* the web server's public address */
		{ "192.0.2.0", SIDE_RIGHT, true },     /* the whole outside /24 */
		{ "192.0.2.255", SIDE_RIGHT, true },
		{ "203.0.113.6", SIDE_RIGHT, false },
		{ "192.0.3.0", SIDE_RIGHT, false },
		{ "10.0.0.5", SIDE_RIGHT, false },     /* inside addresses are not answered for outside */
		{ "203.0.113.5", SIDE_LEFT, false },   /* nor anything on the inside */
		{ "10.0.0.5", SIDE_LEFT, false },
		{ "10.0.1.9", SIDE_LEFT, false },
	};
	struct nat_fixture f;
	fixture_open(&f, OFFICE);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		bool got = f.st->ops->claims(f.st, addr_of(rows[i].addr), rows[i].side);
		if (got != rows[i].want)
			g_error("claims(%s, %s) = %d, want %d", rows[i].addr, rows[i].side == SIDE_LEFT ? "left" : "right",
			        got, rows[i].want);
	}
	fixture_close(&f);
}

static void test_describe(void)
{
	struct nat_fixture f;
	GString *out = g_string_new(NULL);
	fixture_open(&f, OFFICE);
	f.st->ops->describe(f.st, out);
	g_assert_nonnull(strstr(out->str, "map = 10.0.0.5/32 203.0.113.5/32; 10.0.1.0/24 192.0.2.0/24\n"));
	g_string_free(out, TRUE);
	fixture_close(&f);
}

/* Hits are counted per rule and direction by process(); reverse() changes no state. */
static void test_stats_count_process_not_reverse(void)
{
	static const struct pkt out1 = TCP_("10.0.0.5", 40001, "198.51.100.7", 80);
	static const struct pkt out2 = UDP_("10.0.1.3", 1, "198.51.100.7", 2);
	static const struct pkt in1 = TCP_("198.51.100.7", 80, "203.0.113.5", 40001);
	static const struct pkt in1_translated = TCP_("198.51.100.7", 80, "10.0.0.5", 40001);
	static const struct pkt stray = UDP_("10.0.9.9", 1, "198.51.100.7", 2);
	struct nat_fixture f;
	struct packet p;

	fixture_open(&f, OFFICE);
	const struct pkt *order[] = { &out1, &out1, &out2, &stray };
	for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
		pkt_frame(&p, order[i]);
		run_process(&f, &p, L2R);
		pkt_free(&p);
	}
	pkt_frame(&p, &in1);
	run_process(&f, &p, R2L);
	pkt_free(&p);

	char *before = stats_text(&f);
	g_assert_nonnull(strstr(before, "rule 1 10.0.0.5/32 <-> 203.0.113.5/32: 2 SNAT, 1 DNAT"));
	g_assert_nonnull(strstr(before, "rule 2 10.0.1.0/24 <-> 192.0.2.0/24: 1 SNAT, 0 DNAT"));
	pkt_frame(&p, &in1_translated);
	g_assert_true(run_reverse(&f, &p, R2L));
	pkt_free(&p);
	char *after = stats_text(&f);
	g_assert_cmpstr(after, ==, before);
	g_free(after);
	g_free(before);
	fixture_close(&f);
}

/* reverse(process(p)) == p and process(reverse(q)) == q for random hosts of both rules, every
 * protocol, both directions. */
static void test_reverse_undoes_process_random(void)
{
	static const char *const inside[] = { "10.0.0.5", "10.0.1.0", "10.0.1.1", "10.0.1.128", "10.0.1.254", "10.0.0.9" };
	static const char *const outside[] = { "203.0.113.5", "192.0.2.0", "192.0.2.1", "192.0.2.128", "192.0.2.254",
	                                       "203.0.113.9" };
	struct nat_fixture f;
	fixture_open(&f, OFFICE);
	for (int it = 0; it < 500; it++) {
		int h = g_test_rand_int_range(0, G_N_ELEMENTS(inside));
		bool out = g_test_rand_bit();
		char peer[16];
		g_snprintf(peer, sizeof peer, "198.51.100.%d", g_test_rand_int_range(1, 255));
		uint16_t a = (uint16_t)g_test_rand_int_range(1, 65536), b = (uint16_t)g_test_rand_int_range(1, 65536);
		struct pkt k;
		switch (g_test_rand_int_range(0, 3)) {
		case 0: k = (struct pkt)TCP_(inside[h], a, peer, b); break;
		case 1: k = (struct pkt)UDP_(inside[h], a, peer, b); break;
		default: k = (struct pkt)ECHO_(inside[h], peer, a); break;
		}
		if (!out) { /* inbound: from the peer to the outside address */
			k.src = peer;
			k.dst = outside[h];
		}
		enum hop_dir dir = out ? L2R : R2L;
		struct packet p, orig;
		pkt_frame(&p, &k);
		pkt_frame(&orig, &k);
		run_process(&f, &p, dir);
		g_assert_true(run_reverse(&f, &p, dir));
		assert_same_bytes(&p, &orig);
		/* the other way: a packet captured after the stage, derived back and replayed */
		run_process(&f, &p, dir);
		struct packet after = p;
		after.data = g_memdup2(p.data, p.caplen);
		g_assert_true(run_reverse(&f, &p, dir));
		run_process(&f, &p, dir);
		assert_same_bytes(&p, &after);
		pkt_free(&after);
		pkt_free(&orig);
		pkt_free(&p);
	}
	fixture_close(&f);
}

/* Which maps load: overlaps that the longest prefix settles do; two rules that would give one
 * address two translations, or send two inside hosts out as one address, do not. */
struct map_case {
	const char *name; /* test path under /static-nat/configure/ */
	const char *map;
	const char *want_error[3]; /* NULL: the map loads; else each must appear in the message */
};

static const struct map_case map_cases[] = {
	{ .name = "host-rule-inside-a-prefix-rule-loads", .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.1.7 203.0.113.7" },
	{ .name = "host-rule-before-the-prefix-rule-loads", .map = "map = 10.0.1.7 203.0.113.7; 10.0.1.0/24 192.0.2.0/24" },
	{ .name = "a-narrower-rule-that-agrees-with-the-wider-one-loads",
	  .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.1.128/25 192.0.2.128/25" },
	{ .name = "a-nested-chain-of-three-rules-loads",
	  .map = "map = 10.0.0.0/16 100.64.0.0/16; 10.0.1.0/24 192.0.2.0/24; 10.0.1.7 203.0.113.7" },
	/* 10.0.1.9 goes out as 203.0.113.9, which frees 192.0.2.9 for 10.0.9.9 */
	{ .name = "an-outside-address-freed-by-a-host-rule-can-be-reused",
	  .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.1.9 203.0.113.9; 10.0.9.9 192.0.2.9" },
	{ .name = "the-same-inside-prefix-twice-is-refused-naming-both-rules",
	  .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.1.0/24 198.51.100.0/24",
	  .want_error = { "rule 2 (10.0.1.0/24 198.51.100.0/24)", "rule 1 (10.0.1.0/24 192.0.2.0/24)",
	    "both map inside 10.0.1.0/24" } },
	{ .name = "the-same-outside-prefix-twice-is-refused-naming-both-rules",
	  .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.2.0/24 192.0.2.0/24",
	  .want_error = { "rule 2 (10.0.2.0/24 192.0.2.0/24)", "rule 1 (10.0.1.0/24 192.0.2.0/24)",
	    "both map to outside 192.0.2.0/24" } },
	{ .name = "a-duplicate-host-rule-is-refused", .map = "map = 10.0.0.5 203.0.113.5; 10.0.0.5 203.0.113.5",
	  .want_error = { "rule 2 (10.0.0.5/32 203.0.113.5/32)", "rule 1 (10.0.0.5/32 203.0.113.5/32)", "both map inside" } },
	/* 10.0.1.9 (through rule 1) and 10.0.9.9 (through rule 2) would both go out as 192.0.2.9 */
	{ .name = "an-outside-host-taken-from-a-prefix-rule-is-refused", .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.9.9 192.0.2.9",
	  .want_error = { "rule 2 (10.0.9.9/32 192.0.2.9/32)", "rule 1 (10.0.1.0/24 192.0.2.0/24)",
	    "10.0.1.9/32 out as 192.0.2.9/32 too" } },
	{ .name = "an-outside-half-taken-from-a-prefix-rule-is-refused",
	  .map = "map = 10.0.1.0/24 192.0.2.0/24; 10.0.2.0/25 192.0.2.128/25",
	  .want_error = { "rule 2 (10.0.2.0/25 192.0.2.128/25)", "rule 1 (10.0.1.0/24 192.0.2.0/24)",
	    "10.0.1.128/25 out as 192.0.2.128/25 too" } },
	{ .name = "the-wider-rule-second-is-refused-all-the-same", .map = "map = 10.0.9.9 192.0.2.9; 10.0.1.0/24 192.0.2.0/24",
	  .want_error = { "rule 1 (10.0.9.9/32 192.0.2.9/32)", "rule 2 (10.0.1.0/24 192.0.2.0/24)" } },
};

static void test_map_case(gconstpointer data)
{
	const struct map_case *c = data;
	GError *err = NULL;
	char *text = g_strconcat(SCENARIO_HEAD, c->map, "\n", NULL);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test", text, &err);

	if (!c->want_error[0]) {
		g_assert_no_error(err);
		g_assert_nonnull(sc);
	} else {
		g_assert_null(sc);
		g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE);
		g_assert_true(g_str_has_prefix(err->message, "test:9: [stage office] map: "));
		for (size_t i = 0; i < G_N_ELEMENTS(c->want_error) && c->want_error[i]; i++)
			if (!strstr(err->message, c->want_error[i]))
				g_error("message \"%s\" lacks \"%s\"", err->message, c->want_error[i]);
		g_error_free(err);
		/* and without a GError, the load still fails */
		g_assert_null(scenario_load_data(natlb_stage_types(), "test", text, NULL));
	}
	scenario_free(sc);
	g_free(text);
}

/* The README's promise both ways: every address that a rule translates maps back through the
 * same rule, for every host of the nested lesson (the inside /24 and every outside address). */
static void test_nested_rules_map_back_through_the_same_rule(void)
{
	struct nat_fixture f;
	fixture_open(&f, NESTED);
	for (unsigned side = 0; side < 2; side++)
		for (unsigned host = 0; host < 257; host++) {
			bool out = side == 0;
			char addr[16];
			if (host == 256)
				g_snprintf(addr, sizeof addr, "%s", out ? "10.0.1.7" : "203.0.113.7");
			else
				g_snprintf(addr, sizeof addr, out ? "10.0.1.%u" : "192.0.2.%u", host);
			struct pkt k = out ? (struct pkt)UDP_(addr, 1000, "198.51.100.7", 53)
			                   : (struct pkt)UDP_("198.51.100.7", 53, addr, 1000);
			struct packet p;
			pkt_frame(&p, &k);
			run_process(&f, &p, out ? L2R : R2L);
			uint32_t before = addr_of(addr), after = out ? p.ip.src : p.ip.dst;
			char *first_note = g_strdup(f.ctx.note->str);
			if (after != before) {
				/* the reply to the translated address, through the stage the other way */
				struct pkt back = out ? (struct pkt)UDP_("198.51.100.7", 53, "0.0.0.0", 1000)
				                      : (struct pkt)UDP_("0.0.0.0", 1000, "198.51.100.7", 53);
				struct packet q;
				pkt_frame(&q, &back);
				rewrite_ip4_addr(&q, &q.ip, out ? ENDPOINT_DST : ENDPOINT_SRC, after);
				run_process(&f, &q, out ? R2L : L2R);
				g_assert_cmphex(out ? q.ip.dst : q.ip.src, ==, before);
				const char *rule = strstr(first_note, "(rule "), *back_rule = strstr(f.ctx.note->str, "(rule ");
				g_assert_nonnull(rule);
				g_assert_nonnull(back_rule);
				g_assert_cmpint(rule[6], ==, back_rule[6]);
				pkt_free(&q);
			}
			g_free(first_note);
			pkt_free(&p);
		}
	fixture_close(&f);
}

/* A packet that the rules cover cannot have crossed untranslated: reverse() should say so (the
 * loop then annotates the capture instead of deriving a view that the forward pass contradicts). */
static void test_reverse_refuses_an_impossible_packet(void)
{
	/* seen on the internet side travelling out, from an inside address the map covers */
	static const struct pkt seen = TCP_("10.0.0.5", 40001, "198.51.100.7", 80);
	struct nat_fixture f;
	struct packet p;

	fixture_open(&f, OFFICE);
	pkt_frame(&p, &seen);
	struct packet orig;
	pkt_frame(&orig, &seen);
	g_assert_false(run_reverse(&f, &p, L2R));
	g_assert_cmpstr(f.ctx.note->str, ==, "static-nat office always translates 10.0.0.5 to 203.0.113.5 (rule 1)");
	assert_same_bytes(&p, &orig); /* a refused reverse leaves the packet alone */
	pkt_free(&orig);
	pkt_free(&p);
	fixture_close(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(nat_cases); i++) {
		char *path = g_strdup_printf("/static-nat/%s", nat_cases[i].name);
		g_test_add_data_func(path, &nat_cases[i], test_nat_case);
		g_free(path);
	}
	g_test_add_func("/static-nat/claims/only-outside-addresses-on-the-right", test_claims);
	g_test_add_func("/static-nat/describe/lists-the-map-with-prefix-lengths", test_describe);
	g_test_add_func("/static-nat/stats/process-counts-hits-reverse-does-not", test_stats_count_process_not_reverse);
	g_test_add_func("/static-nat/reverse/undoes-process-for-random-packets", test_reverse_undoes_process_random);
	for (size_t i = 0; i < G_N_ELEMENTS(map_cases); i++) {
		char *path = g_strdup_printf("/static-nat/configure/%s", map_cases[i].name);
		g_test_add_data_func(path, &map_cases[i], test_map_case);
		g_free(path);
	}
	g_test_add_func("/static-nat/longest-prefix/every-translated-address-maps-back-through-the-same-rule",
	                test_nested_rules_map_back_through_the_same_rule);
	g_test_add_func("/static-nat/reverse/refuses-a-packet-that-would-have-been-translated",
	                test_reverse_refuses_an_impossible_packet);
	return g_test_run();
}
