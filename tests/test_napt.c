/* tests/test_napt.c: unit tests of the napt stage, driven through its ops with packets built here (RFC 4787, 5382, 5508, 7857; AWS NAT gateway).
 *
 * Each test loads a one-stage scenario (lan > nat > internet), builds exact-size Ethernet/IPv4
 * frames with correct checksums, and calls process(), reverse() and advance() as the replay loop
 * would.  No emitter: outside the loop the stage cannot send packets (the end-to-end tests check
 * those), so the tests look at verdicts, drop reasons, annotations and the stage's counters.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/checksum.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "common/tables_reader.h"
#include "common/tables_writer.h"
#include "nat/napt.h"
#include "tests/testemit.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#define T_SEC 1000000000ll
#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_FIN 0x01
#define TCP_RST 0x04

static const char *const LAN = "192.168.1.0/24";

/* ---- Fixture: one napt stage ---------------------------------------------------------------- */

struct nat_test {
	struct scenario *sc;
	struct stage *st;
	struct napt *nat;
	GString *note;
	int64_t now;
	uint64_t seed;
	unsigned drop; /* of the last VERDICT_DROP: a drop code */
};

static void nat_open(struct nat_test *t, const char *stage_keys)
{
	char *text = g_strdup_printf("[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = %s\n"
	                             "[link internet]\n[stage nat]\ntype = napt\n%s\n", LAN, stage_keys);
	GError *err = NULL;
	memset(t, 0, sizeof *t);
	t->sc = scenario_load_data(natlb_stage_types(), "test", text, &err);
	g_assert_no_error(err);
	t->st = t->sc->stages[0];
	t->nat = t->st->priv;
	t->note = g_string_new(NULL);
	t->now = 1000 * T_SEC;
	t->seed = 1;
	g_free(text);
}

static void nat_close(struct nat_test *t)
{
	scenario_free(t->sc);
	g_string_free(t->note, TRUE);
}

/* A scenario that must fail to load, with msg in the error. */
static void nat_refused(const char *stage_keys, const char *msg)
{
	char *text = g_strdup_printf("[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = %s\n"
	                             "[link internet]\n[stage nat]\ntype = napt\n%s\n", LAN, stage_keys);
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test", text, &err);
	g_assert_null(sc);
	g_assert_nonnull(err);
	if (!strstr(err->message, msg))
		g_test_message("error was: %s", err->message);
	g_assert_nonnull(strstr(err->message, msg));
	g_error_free(err);
	g_free(text);
}

/* ---- Packets --------------------------------------------------------------------------------- */

struct pkt {
	uint8_t buf[1100]; /* room for a datagram larger than an ICMP error quotes (576 bytes) */
	struct packet p;
};

static uint32_t ip(const char *s)
{
	uint32_t a;
	g_assert_true(ip4_parse(s, &a));
	return a;
}



/* Ethernet + IPv4 (20 bytes) + l4 (already in b + 34, l4_len bytes): fills the headers and checksums. */
static void finish(struct pkt *k, uint8_t proto, uint32_t src, uint32_t dst, uint32_t l4_len, uint16_t frag, uint16_t id)
{
	uint8_t *b = k->buf, *iph = b + 14, *l4 = b + 34;
	memset(b, 0, 34);
	b[5] = 1;
	b[11] = 2;
	test_put16(b + 12, 0, 0x0800);
	iph[0] = 0x45;
	test_put16(iph + 2, 0, (uint16_t)(20 + l4_len));
	test_put16(iph + 4, 0, id);
	test_put16(iph + 6, 0, frag);
	iph[8] = 64;
	iph[9] = proto;
	test_put32(iph + 12, 0, src);
	test_put32(iph + 16, 0, dst);
	test_put16(iph + 10, 0, csum_fold(csum_partial(iph, 20, 0)));
	if (!(frag & 0x1fff) && !(frag & 0x2000)) { /* whole datagram: the transport checksum */
		uint32_t sum = 0;
		uint8_t pseudo[12];
		if (proto == 6 || proto == 17) {
			test_put32(pseudo, 0, src);
			test_put32(pseudo + 4, 0, dst);
			pseudo[8] = 0;
			pseudo[9] = proto;
			test_put16(pseudo + 10, 0, (uint16_t)l4_len);
			sum = csum_partial(pseudo, 12, 0);
		}
		uint32_t at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
		test_put16(l4 + at, 0, 0);
		uint16_t c = csum_fold(csum_partial(l4, l4_len, sum));
		test_put16(l4 + at, 0, proto == 17 && c == 0 ? 0xffff : c);
	}
	k->p = (struct packet){ .data = b, .caplen = 34 + l4_len, .wirelen = 34 + l4_len, .linktype = 1 };
	decode_packet(&k->p);
}

static struct pkt *udp(struct pkt *k, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	uint8_t *l4 = k->buf + 34;
	test_put16(l4, 0, sport);
	test_put16(l4 + 2, 0, dport);
	test_put16(l4 + 4, 0, 12);
	memcpy(l4 + 8, "ping", 4);
	finish(k, 17, ip(src), ip(dst), 12, 0, 0x1111);
	return k;
}

/* A UDP datagram with len bytes of payload ('x'). */
static struct pkt *udp_len(struct pkt *k, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint32_t len)
{
	uint8_t *l4 = k->buf + 34;
	g_assert_cmpuint(34 + 8 + len, <=, sizeof k->buf);
	test_put16(l4, 0, sport);
	test_put16(l4 + 2, 0, dport);
	test_put16(l4 + 4, 0, (uint16_t)(8 + len));
	memset(l4 + 8, 'x', len);
	finish(k, 17, ip(src), ip(dst), 8 + len, 0, 0x1111);
	return k;
}

static struct pkt *tcp_seq(struct pkt *k, const char *src, uint16_t sport, const char *dst, uint16_t dport,
                           uint8_t flags, uint32_t seq)
{
	uint8_t *l4 = k->buf + 34;
	memset(l4, 0, 20);
	test_put16(l4, 0, sport);
	test_put16(l4 + 2, 0, dport);
	test_put32(l4 + 4, 0, seq);
	test_put32(l4 + 8, 0, (flags & TCP_ACK) ? 5000 : 0);
	l4[12] = 0x50;
	l4[13] = flags;
	test_put16(l4 + 14, 0, 1024);
	finish(k, 6, ip(src), ip(dst), 20, 0, 0x2222);
	return k;
}

static struct pkt *tcp(struct pkt *k, const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t flags)
{
	return tcp_seq(k, src, sport, dst, dport, flags, 1000);
}

static struct pkt *echo(struct pkt *k, const char *src, const char *dst, uint8_t type, uint16_t id)
{
	uint8_t *l4 = k->buf + 34;
	memset(l4, 0, 16);
	l4[0] = type;
	test_put16(l4 + 4, 0, id);
	test_put16(l4 + 6, 0, 1);
	finish(k, 1, ip(src), ip(dst), 16, 0, 0x3333);
	return k;
}

/* ICMP error of type/code from `from` to `to`, quoting the first 28 bytes of q's IPv4 packet. */
static struct pkt *icmp_err(struct pkt *k, const char *from, const char *to, uint8_t type, const struct pkt *q)
{
	uint8_t *l4 = k->buf + 34;
	memset(l4, 0, 8);
	l4[0] = type;
	memcpy(l4 + 8, q->buf + 14, 28);
	finish(k, 1, ip(from), ip(to), 36, 0, 0x4444);
	return k;
}

/* One UDP datagram of 24 payload bytes as two fragments: the first (ports, 16 bytes of UDP), the second (16). */
static void udp_fragments(struct pkt *first, struct pkt *second, const char *src, const char *dst, uint16_t id)
{
	uint8_t *l4 = first->buf + 34;
	test_put16(l4, 0, 7000);
	test_put16(l4 + 2, 0, 7001);
	test_put16(l4 + 4, 0, 32);
	test_put16(l4 + 6, 0, 0x1234);
	memset(l4 + 8, 'a', 8);
	finish(first, 17, ip(src), ip(dst), 16, 0x2000, id);
	memset(second->buf + 34, 'b', 16);
	finish(second, 17, ip(src), ip(dst), 16, 2, id); /* offset 2 units = 16 bytes */
}

static enum verdict run(struct nat_test *t, struct pkt *k, enum hop_dir dir)
{
	struct stage_ctx ctx = { .now_ns = t->now, .note = t->note, .drop = DROP_NONE, .seed = t->seed, .stage = t->st };
	g_string_truncate(t->note, 0);
	if (t->st->ops->advance)
		t->st->ops->advance(t->st, t->now, &ctx);
	enum verdict v = t->st->ops->process(t->st, &k->p, dir, &ctx);
	t->drop = DROP_NONE;
	if (v == VERDICT_DROP) {
		g_assert_cmpuint(ctx.drop, !=, DROP_NONE);
		t->drop = ctx.drop;
	}
	g_assert_cmpuint(t->note->len, >, 0); /* every verdict says why */
	return v;
}

static bool rev(struct nat_test *t, struct pkt *k, enum hop_dir dir)
{
	struct stage_ctx ctx = { .now_ns = t->now, .note = t->note, .drop = DROP_NONE, .seed = t->seed, .stage = t->st };
	g_string_truncate(t->note, 0);
	return t->st->ops->reverse(t->st, &k->p, dir, &ctx) == REVERSE_TRANSLATED;
}

/* Send UDP from the inside; returns the external port it left with (0 if dropped). */
static uint16_t out_udp(struct nat_test *t, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pkt k;
	udp(&k, src, sport, dst, dport);
	if (run(t, &k, DIR_LEFT_TO_RIGHT) != VERDICT_FORWARD)
		return 0;
	return k.p.ip.sport;
}

/* A packet from outside to the external address; returns the verdict. */
static enum verdict in_udp(struct nat_test *t, const char *src, uint16_t sport, const char *ext, uint16_t eport)
{
	struct pkt k;
	udp(&k, src, sport, ext, eport);
	return run(t, &k, DIR_RIGHT_TO_LEFT);
}

static void advance(struct nat_test *t, int64_t to)
{
	struct stage_ctx ctx = { .now_ns = to, .note = t->note, .drop = DROP_NONE, .seed = t->seed, .stage = t->st };
	t->now = to;
	t->st->ops->advance(t->st, to, &ctx);
}

/* ---- Mapping behaviour (RFC 4787 section 4.1) ------------------------------------------------ */

struct mapping_case {
	const char *name;
	const char *keys;
	bool same_for_other_port;    /* A:q leaves from the port A:p did */
	bool same_for_other_address; /* B:p likewise */
};

static const struct mapping_case mapping_cases[] = {
	{ .name = "/napt/mapping/eim/one-port-for-every-destination",
	  .keys = "external = 203.0.113.7\nmapping = endpoint-independent", .same_for_other_port = true,
	  .same_for_other_address = true },
	{ .name = "/napt/mapping/adm/new-port-per-address",
	  .keys = "external = 203.0.113.7\nmapping = address-dependent", .same_for_other_port = true,
	  .same_for_other_address = false },
	{ .name = "/napt/mapping/apdm/new-port-per-address-and-port",
	  .keys = "external = 203.0.113.7\nmapping = address-and-port-dependent", .same_for_other_port = false,
	  .same_for_other_address = false },
};

static char *unescape(const char *keys)
{
	return g_strcompress(keys);
}

static void test_mapping(gconstpointer data)
{
	const struct mapping_case *c = data;
	struct nat_test t;
	char *keys = unescape(c->keys);
	nat_open(&t, keys);
	uint16_t ap = out_udp(&t, "192.168.1.10", 40000, "198.51.100.1", 3478);
	uint16_t aq = out_udp(&t, "192.168.1.10", 40000, "198.51.100.1", 3479);
	uint16_t bp = out_udp(&t, "192.168.1.10", 40000, "198.51.100.2", 3478);
	g_assert_cmpuint(ap, ==, 40000); /* preserved */
	g_assert_cmpuint(aq, !=, 0);
	g_assert_cmpuint(bp, !=, 0);
	g_assert_cmpint(ap == aq, ==, c->same_for_other_port);
	g_assert_cmpint(aq == bp, ==, c->same_for_other_address && c->same_for_other_port);
	g_assert_cmpint(ap == bp, ==, c->same_for_other_address);
	nat_close(&t);
	g_free(keys);
}

/* ---- Filtering behaviour (RFC 4787 section 5) ------------------------------------------------ */

struct filter_case {
	const char *name;
	const char *filtering;
	const char *from;      /* sender of the inbound packet */
	uint16_t from_port;
	enum verdict want;
	unsigned reason;
	const char *note;      /* a substring of the annotation */
};

static const struct filter_case filter_cases[] = {
	{ "/napt/filtering/eif/passes-unknown-address", "endpoint-independent", "198.51.100.9", 4444, VERDICT_FORWARD,
	  DROP_NONE, "EIF: any remote may use mapping #1" },
	{ "/napt/filtering/adf/passes-other-port-of-contacted-address", "address-dependent", "198.51.100.1", 3479,
	  VERDICT_FORWARD, DROP_NONE, "ADF: 198.51.100.1 was contacted" },
	{ "/napt/filtering/adf/drops-unknown-address", "address-dependent", "198.51.100.9", 3478, VERDICT_DROP,
	  DROP_NAPT_FILTERED_ADF, "DROP (address-dependent filtering: the sender's address was never contacted): "
	  "inbound 198.51.100.9:3478 -> 203.0.113.7:40000 (mapping #1 has not contacted 198.51.100.9)" },
	{ "/napt/filtering/apdf/passes-the-contacted-endpoint", "address-and-port-dependent", "198.51.100.1", 3478,
	  VERDICT_FORWARD, DROP_NONE, "DNAT 203.0.113.7:40000 -> 192.168.1.10:40000 (mapping #1)" },
	{ "/napt/filtering/apdf/drops-unknown-port", "address-and-port-dependent", "198.51.100.1", 4444, VERDICT_DROP,
	  DROP_NAPT_FILTERED_APDF,
	  "DROP (address-and-port-dependent filtering: the sender's address and port were never contacted): "
	  "inbound 198.51.100.1:4444 -> 203.0.113.7:40000 (mapping #1 has not contacted 198.51.100.1:4444)" },
};

static void test_filtering(gconstpointer data)
{
	const struct filter_case *c = data;
	struct nat_test t;
	char *keys = g_strdup_printf("external = 203.0.113.7\nfiltering = %s", c->filtering);
	nat_open(&t, keys);
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 40000, "198.51.100.1", 3478), ==, 40000);
	struct pkt k;
	udp(&k, c->from, c->from_port, "203.0.113.7", 40000);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, c->want);
	if (!strstr(t.note->str, c->note))
		g_test_message("note: %s", t.note->str);
	g_assert_nonnull(strstr(t.note->str, c->note));
	/* "napt nat: " is the loop's to write; a drop's sentence begins with its reason's words */
	g_assert_false(g_str_has_prefix(t.note->str, "napt"));
	if (c->want == VERDICT_DROP)
		g_assert_true(g_str_has_prefix(t.note->str, "DROP ("));
	if (c->want == VERDICT_DROP)
		g_assert_cmpint(t.drop, ==, c->reason);
	else
		g_assert_cmpuint(k.p.ip.dst, ==, ip("192.168.1.10"));
	nat_close(&t);
	g_free(keys);
}

static void test_no_mapping(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nfiltering = endpoint-independent");
	g_assert_cmpint(in_udp(&t, "198.51.100.9", 4444, "203.0.113.7", 5555), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_MAPPING);
	g_assert_cmpstr(t.note->str, ==, "DROP (no mapping for the destination (unsolicited inbound)): "
	                "inbound 198.51.100.9:4444 -> 203.0.113.7:5555");
	/* Not one of its addresses at all. */
	g_assert_cmpint(in_udp(&t, "198.51.100.9", 4444, "192.168.1.10", 5555), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NOT_EXTERNAL);
	nat_close(&t);
}

/* ---- Ports (RFC 4787 section 4.2, RFC 7857 section 3) ---------------------------------------- */

static void test_ports_collision(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nports = 2000-2999");
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 2500, "198.51.100.1", 53), ==, 2500);
	g_assert_cmpuint(out_udp(&t, "192.168.1.11", 2500, "198.51.100.1", 53), ==, 2000);
	g_assert_nonnull(strstr(t.note->str, "2500 in use by mapping #1, sequential chose 2000"));
	g_assert_cmpuint(out_udp(&t, "192.168.1.12", 2500, "198.51.100.1", 53), ==, 2001);
	g_assert_cmpuint(out_udp(&t, "192.168.1.13", 80, "198.51.100.1", 53), ==, 2002);
	g_assert_nonnull(strstr(t.note->str, "80 outside 2000-2999"));
	nat_close(&t);
}

static void test_ports_parity(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nports = 2000-2999\nport-parity = yes");
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 2501, "198.51.100.1", 53), ==, 2501);
	uint16_t odd = out_udp(&t, "192.168.1.11", 2501, "198.51.100.1", 53);
	uint16_t even = out_udp(&t, "192.168.1.12", 2500, "198.51.100.1", 53);
	uint16_t even2 = out_udp(&t, "192.168.1.13", 2500, "198.51.100.1", 53);
	g_assert_cmpuint(odd % 2, ==, 1);
	g_assert_cmpuint(even % 2, ==, 0);
	g_assert_cmpuint(even2 % 2, ==, 0);
	g_assert_cmpuint(even2, !=, even);
	nat_close(&t);
}

static uint64_t xorshift_test(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint16_t random_port(uint64_t seed)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nport-allocation = random");
	t.seed = seed;
	uint16_t p = out_udp(&t, "192.168.1.10", 40000, "198.51.100.1", 53);
	nat_close(&t);
	return p;
}

static void test_ports_random_seeded(void)
{
	uint16_t a = random_port(1), b = random_port(1), c = random_port(2);
	g_assert_cmpuint(a, ==, b);
	g_assert_cmpuint(a, !=, c);
	g_assert_cmpuint(a, >=, 1024);
}

static void test_ports_linux_class(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nprofile = linux");
	/* Port kept while its reply tuple is free, even below 1024 (no explicit range). */
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 123, "198.51.100.1", 123), ==, 123);
	/* Taken towards the same remote: nf_nat searches the same class, 1-511. */
	uint16_t p = out_udp(&t, "192.168.1.11", 123, "198.51.100.1", 123);
	g_assert_cmpuint(p, >=, 1);
	g_assert_cmpuint(p, <=, 511);
	g_assert_cmpuint(p, !=, 123);
	g_assert_nonnull(strstr(t.note->str, "linux chose"));
	/* Port overlapping: towards another remote the same external port serves another host. */
	g_assert_cmpuint(out_udp(&t, "192.168.1.12", 123, "198.51.100.2", 123), ==, 123);
	nat_close(&t);
}

static void test_overlapping(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nmapping = address-and-port-dependent\nport-overlapping = yes\n"
	             "port-allocation = sequential\nports = 3000-3001");
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 1, "198.51.100.1", 53), ==, 3000);
	g_assert_cmpuint(out_udp(&t, "192.168.1.11", 1, "198.51.100.2", 53), ==, 3001);
	g_assert_cmpuint(out_udp(&t, "192.168.1.12", 1, "198.51.100.3", 53), ==, 3000); /* shared, other remote */
	g_assert_cmpuint(out_udp(&t, "192.168.1.13", 1, "198.51.100.1", 53), ==, 3001);
	/* Replies reach the right host by the remote endpoint. */
	struct pkt k;
	udp(&k, "198.51.100.3", 53, "203.0.113.7", 3000);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(k.p.ip.dst, ==, ip("192.168.1.12"));
	udp(&k, "198.51.100.1", 53, "203.0.113.7", 3000);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(k.p.ip.dst, ==, ip("192.168.1.10"));
	nat_close(&t);
	nat_refused("external = 203.0.113.7\nport-overlapping = yes\nfiltering = endpoint-independent",
	            "needs filtering = address-and-port-dependent");
}

/* ---- Port exhaustion costs nothing to find out (issue 11 item 6) --------------------------- */

struct exhaustion_case {
	const char *name;
	const char *keys;       /* a 100-port range: 2000-2099 */
	uint16_t fill_iport;    /* inside port of the flows that take the pool (outside the range) */
	unsigned fills;         /* flows that get a port */
	uint16_t other_iport;   /* 0, or an inside port that still gets one (the other parity) */
	bool other_remote;      /* towards another remote a port is still free (port overlapping) */
};

static const struct exhaustion_case exhaustion_cases[] = {
	{ .name = "/napt/ports/exhausted/sequential-answers-from-the-count",
	  .keys = "ports = 2000-2099\nport-allocation = preserve, sequential", .fill_iport = 5000, .fills = 100 },
	{ .name = "/napt/ports/exhausted/random-answers-from-the-count",
	  .keys = "ports = 2000-2099\nport-allocation = preserve, random", .fill_iport = 5000, .fills = 100 },
	{ .name = "/napt/ports/exhausted/even-ports-only-with-parity",
	  .keys = "ports = 2000-2099\nport-allocation = preserve, sequential\nport-parity = yes", .fill_iport = 5000,
	  .fills = 50, .other_iport = 5001 },
	{ .name = "/napt/ports/exhausted/overlapping-towards-one-remote-but-not-another",
	  .keys = "ports = 2000-2099\nport-allocation = preserve, sequential\nmapping = address-and-port-dependent\n"
	          "port-overlapping = yes",
	  .fill_iport = 5000, .fills = 100, .other_remote = true },
	{ .name = "/napt/ports/exhausted/overlapping-random-with-parity",
	  .keys = "ports = 2000-2099\nport-allocation = preserve, random\nmapping = address-and-port-dependent\n"
	          "port-overlapping = yes\nport-parity = yes",
	  .fill_iport = 5000, .fills = 50, .other_iport = 5001, .other_remote = true },
};

static void test_exhausted_without_scan(gconstpointer data)
{
	const struct exhaustion_case *c = data;
	struct nat_test t;
	char *keys = g_strdup_printf("external = 203.0.113.7\n%s", c->keys);
	nat_open(&t, keys);
	char host[32];
	for (unsigned i = 0; i < c->fills; i++) {
		g_snprintf(host, sizeof host, "192.168.1.%u", 1 + i % 200);
		g_assert_cmpuint(out_udp(&t, host, (uint16_t)(c->fill_iport + 2 * (i / 200)), "198.51.100.1", 53), !=, 0);
	}
	uint32_t ext = ip("203.0.113.7");
	if (t.nat->cfg.port_overlapping)
		g_assert_cmpuint(napt_dest_ports_held(t.nat, 17, ext, ip("198.51.100.1"), 53, -1), ==, c->fills);
	else
		g_assert_cmpuint(napt_ports_unowned(t.nat, 17, ext, t.nat->cfg.port_parity, c->fill_iport), ==, 0);
	/* Every further flow of that parity: dropped, counted, and answered from the count: preserve
	 * looks at its one port, the next strategy at none (a scan would look at the range). */
	for (unsigned k = 0; k < 10; k++) {
		uint64_t before = t.nat->stats.port_probes;
		g_assert_cmpuint(out_udp(&t, "192.168.1.250", (uint16_t)(c->fill_iport + 2 * k), "198.51.100.1", 53), ==, 0);
		g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_PORT);
		g_assert_cmpuint(t.nat->stats.port_probes - before, <=, 1);
	}
	g_assert_cmpuint(t.nat->stats.port_allocation_errors, ==, 10);
	if (c->other_iport) {
		uint16_t p = out_udp(&t, "192.168.1.251", c->other_iport, "198.51.100.1", 53);
		g_assert_cmpuint(p % 2, ==, 1);
	}
	if (c->other_remote) {
		uint16_t p = out_udp(&t, "192.168.1.252", c->fill_iport, "198.51.100.2", 53);
		g_assert_cmpuint(p, >=, 2000);
		g_assert_cmpuint(p, <=, 2099);
		g_assert_cmpuint(p % 2, ==, t.nat->cfg.port_parity ? c->fill_iport % 2 : p % 2);
	}
	nat_close(&t);
	g_free(keys);
}

/* The count follows the mappings: after they expire, their ports are free again at once. */
static void test_unowned_after_expiry(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nports = 2000-2009\ntimeout-udp-unreplied = 30");
	uint32_t ext = ip("203.0.113.7");
	char host[32];
	g_assert_cmpuint(napt_ports_unowned(t.nat, 17, ext, false, 0), ==, 10);
	for (unsigned i = 0; i < 10; i++) {
		g_snprintf(host, sizeof host, "192.168.1.%u", 10 + i);
		g_assert_cmpuint(out_udp(&t, host, 4000, "198.51.100.1", 53), ==, 2000 + i);
		g_assert_cmpuint(napt_ports_unowned(t.nat, 17, ext, false, 0), ==, 9 - i);
	}
	g_assert_cmpuint(out_udp(&t, "192.168.1.99", 4000, "198.51.100.1", 53), ==, 0);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_PORT);
	g_assert_cmpuint(napt_ports_unowned(t.nat, 6, ext, false, 0), ==, 10); /* TCP has its own ports */
	advance(&t, t.now + 31 * T_SEC);
	g_assert_cmpuint(napt_live_mappings(t.st), ==, 0);
	g_assert_cmpuint(napt_ports_unowned(t.nat, 17, ext, false, 0), ==, 10);
	g_assert_cmpuint(out_udp(&t, "192.168.1.99", 4000, "198.51.100.1", 53), ==, 2000);
	g_assert_cmpuint(napt_ports_unowned(t.nat, 17, ext, false, 0), ==, 9);
	nat_close(&t);
}

/* The port sets change how fast a port is found, never which: the same flows through a stage
 * that searches port by port (its port sets put aside) leave with the same bytes and the same
 * annotations, through collisions, exhaustion and expiry. */
struct same_choice_case {
	const char *name;
	const char *keys;
};

static const struct same_choice_case same_choice_cases[] = {
	{ "/napt/ports/same-choice-as-port-by-port/preserve-sequential", "ports = 2000-2299" },
	{ "/napt/ports/same-choice-as-port-by-port/sequential-with-parity", "ports = 2000-2299\nport-parity = yes" },
	{ "/napt/ports/same-choice-as-port-by-port/random", "ports = 2000-2299\nport-allocation = random" },
	{ "/napt/ports/same-choice-as-port-by-port/random-with-parity",
	  "ports = 2000-2299\nport-allocation = preserve, random\nport-parity = yes" },
	{ "/napt/ports/same-choice-as-port-by-port/linux-bounded-search",
	  "ports = 2000-2099\nport-allocation = preserve, linux" },
	{ "/napt/ports/same-choice-as-port-by-port/overlapping-sequential",
	  "ports = 2000-2049\nmapping = address-and-port-dependent\nport-overlapping = yes" },
	{ "/napt/ports/same-choice-as-port-by-port/overlapping-random-with-parity",
	  "ports = 2000-2049\nport-allocation = random\nmapping = address-and-port-dependent\nport-overlapping = yes\n"
	  "port-parity = yes" },
	{ "/napt/ports/same-choice-as-port-by-port/linux-profile", "profile = linux\nports = 2000-2049" },
	{ "/napt/ports/same-choice-as-port-by-port/symmetric-arbitrary-pool",
	  "external = 203.0.113.8/30\npooling = arbitrary\nmapping = address-and-port-dependent\nports = 2000-2099" },
};

static void same_choice_packet(struct pkt *k, uint64_t *rng)
{
	char host[32], remote[32];
	uint64_t r = xorshift_test(rng);
	g_snprintf(host, sizeof host, "192.168.1.%u", 1 + (unsigned)(r % 250));
	g_snprintf(remote, sizeof remote, "198.51.100.%u", 1 + (unsigned)((r >> 8) % 4));
	/* A third of the inside ports inside the range, where they collide. */
	uint16_t iport = (r >> 16) % 3 ? (uint16_t)(r >> 24) : (uint16_t)(2000 + (r >> 24) % 300);
	switch ((r >> 40) % 3) {
	case 0:
		udp(k, host, iport, remote, 53);
		break;
	case 1:
		tcp(k, host, iport, remote, 80, TCP_SYN);
		break;
	default:
		echo(k, host, remote, 8, iport);
		break;
	}
}

static void test_same_choice(gconstpointer data)
{
	const struct same_choice_case *c = data;
	struct nat_test fast, slow;
	char *keys = strstr(c->keys, "external =") ? g_strdup(c->keys) : g_strdup_printf("external = 203.0.113.7\n%s", c->keys);
	nat_open(&fast, keys);
	nat_open(&slow, keys);
	/* Without its port sets and destination counters, the slow stage asks the indexes about every
	 * candidate, as the allocators did before they had them. */
	struct napt_port_set *sets = slow.nat->port_sets;
	struct napt_dest *dests = slow.nat->dests;
	g_assert_cmpuint(slow.nat->cfg.max_per_destination, ==, 0); /* which needs its counters */
	slow.nat->port_sets = NULL;
	slow.nat->dests = NULL;
	uint64_t rng = 0x2545f4914f6cdd1dull;
	unsigned dropped = 0;
	for (unsigned i = 0; i < 4000; i++) {
		struct pkt a = { 0 }, b = { 0 };
		uint64_t r = rng;
		same_choice_packet(&a, &rng);
		same_choice_packet(&b, &r);
		enum verdict va = run(&fast, &a, DIR_LEFT_TO_RIGHT), vb = run(&slow, &b, DIR_LEFT_TO_RIGHT);
		g_assert_cmpint(va, ==, vb);
		g_assert_cmpstr(fast.note->str, ==, slow.note->str);
		g_assert_cmpmem(a.buf, a.p.caplen, b.buf, b.p.caplen);
		dropped += va == VERDICT_DROP;
		if (i % 400 == 399) { /* some mappings expire, some stay */
			advance(&fast, fast.now + 100 * T_SEC);
			advance(&slow, slow.now + 100 * T_SEC);
		}
	}
	g_assert_cmpuint(dropped, >, 0); /* the pool ran out on the way */
	slow.nat->port_sets = sets;
	slow.nat->dests = dests;
	nat_close(&fast);
	nat_close(&slow);
	g_free(keys);
}

static void test_pooling(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.8/30\npooling = paired\nports = 5000-5000");
	struct pkt k;
	udp(&k, "192.168.1.10", 1, "198.51.100.1", 53);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	uint32_t paired = k.p.ip.src;
	/* Paired: the host's other mappings use the same address, and fail when it has no port left. */
	udp(&k, "192.168.1.10", 2, "198.51.100.1", 53);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_PORT);
	nat_close(&t);
	nat_open(&t, "external = 203.0.113.8/30\npooling = arbitrary\nports = 5000-5000");
	udp(&k, "192.168.1.10", 1, "198.51.100.1", 53);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(k.p.ip.src, ==, paired);
	for (int i = 2; i <= 4; i++) { /* arbitrary: the other three addresses */
		udp(&k, "192.168.1.10", (uint16_t)i, "198.51.100.1", 53);
		g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
		g_assert_cmpuint(k.p.ip.src, !=, paired);
	}
	udp(&k, "192.168.1.10", 5, "198.51.100.1", 53);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_PORT);
	g_assert_nonnull(strstr(t.note->str, "no free external port"));
	g_assert_cmpuint(t.nat->stats.port_allocation_errors, ==, 1);
	nat_close(&t);
}

static void test_max_mappings(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nmax-mappings = 2");
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 1000 + 1, "198.51.100.1", 53), !=, 0);
	g_assert_cmpuint(out_udp(&t, "192.168.1.11", 1000 + 1, "198.51.100.1", 53), !=, 0);
	g_assert_cmpuint(out_udp(&t, "192.168.1.12", 1000 + 1, "198.51.100.1", 53), ==, 0);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_TABLE_FULL);
	nat_close(&t);
}

/* ---- Timeouts at their boundary (RFC 4787 REQ-5, RFC 5382 REQ-5, RFC 5508 REQ-2, RFC 7857 2.2) */

struct timeout_case {
	const char *name;
	const char *keys;
	uint8_t proto;
	uint8_t last_flags;     /* TCP: flags of the packet that sets the state */
	int64_t timeout_s;
};

static const struct timeout_case timeout_cases[] = {
	{ "/napt/timeouts/udp-300s", "profile = rfc", 17, 0, 300 },
	{ "/napt/timeouts/udp-unreplied-linux-30s", "profile = linux", 17, 0, 30 },
	{ "/napt/timeouts/icmp-60s", "profile = rfc", 1, 0, 60 },
	{ "/napt/timeouts/tcp-syn-240s", "profile = rfc", 6, TCP_SYN, 240 },
	{ "/napt/timeouts/tcp-established-7440s", "profile = rfc", 6, TCP_ACK, 7440 },
	{ "/napt/timeouts/tcp-rst-kept-240s", "profile = rfc", 6, TCP_RST | TCP_ACK, 240 },
	{ "/napt/timeouts/tcp-rst-linux-10s", "profile = linux", 6, TCP_RST | TCP_ACK, 10 },
	{ "/napt/timeouts/tcp-closing-120s-set-by-key", "profile = rfc\ntimeout-tcp-closing = 120", 6,
	  TCP_FIN | TCP_ACK, 120 },
};

static void test_timeout(gconstpointer data)
{
	const struct timeout_case *c = data;
	struct nat_test t;
	char *keys = g_strdup_printf("external = 203.0.113.7\n%s", c->keys);
	struct pkt k;
	nat_open(&t, keys);
	if (c->proto == 17)
		udp(&k, "192.168.1.10", 5000, "198.51.100.1", 53);
	else if (c->proto == 1)
		echo(&k, "192.168.1.10", "198.51.100.1", 8, 77);
	else
		tcp(&k, "192.168.1.10", 5000, "198.51.100.1", 80, c->last_flags == TCP_SYN ? TCP_SYN : TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	if (c->proto == 6 && c->last_flags != TCP_SYN && c->last_flags != TCP_ACK) {
		tcp(&k, "192.168.1.10", 5000, "198.51.100.1", 80, c->last_flags);
		g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	}
	int64_t set = t.now;
	advance(&t, set + c->timeout_s * T_SEC - 1);
	g_assert_cmpuint(t.nat->n_sess, ==, 1);
	advance(&t, set + c->timeout_s * T_SEC);
	g_assert_cmpuint(t.nat->n_sess, ==, 0);
	g_assert_cmpuint(t.nat->n_maps, ==, 0);
	nat_close(&t);
	g_free(keys);
}

static void test_inbound_refresh(void)
{
	for (int on = 0; on <= 1; on++) {
		struct nat_test t;
		nat_open(&t, on ? "external = 203.0.113.7\nrefresh-inbound = yes" : "external = 203.0.113.7\nrefresh-inbound = no");
		g_assert_cmpuint(out_udp(&t, "192.168.1.10", 5000, "198.51.100.1", 53), ==, 5000);
		int64_t start = t.now;
		t.now = start + 200 * T_SEC;
		g_assert_cmpint(in_udp(&t, "198.51.100.1", 53, "203.0.113.7", 5000), ==, VERDICT_FORWARD);
		t.now = start + 200 * T_SEC + 1; /* the reply moved UDP to its "replied" class: same 300 s */
		g_assert_cmpint(in_udp(&t, "198.51.100.1", 53, "203.0.113.7", 5000), ==, VERDICT_FORWARD);
		advance(&t, start + 300 * T_SEC + 2);
		/* Refreshed by inbound packets: alive until 200 s + 300 s; else the class change at 200 s only. */
		g_assert_cmpuint(t.nat->n_sess, ==, 1);
		advance(&t, start + 501 * T_SEC);
		g_assert_cmpuint(t.nat->n_sess, ==, 0);
		nat_close(&t);
	}
}

/* ---- TCP state (RFC 5382, RFC 7857 2.2) -------------------------------------------------------- */

static void test_tcp_states(void)
{
	struct nat_test t;
	struct pkt k;
	nat_open(&t, "external = 203.0.113.7\nprofile = rfc");
	static const struct {
		enum hop_dir dir;
		uint8_t flags;
		const char *state;
	} steps[] = {
		{ DIR_LEFT_TO_RIGHT, TCP_SYN, "SYN_SENT" },
		{ DIR_RIGHT_TO_LEFT, TCP_SYN | TCP_ACK, "ESTABLISHED" },
		{ DIR_LEFT_TO_RIGHT, TCP_ACK, "ESTABLISHED" },
		{ DIR_LEFT_TO_RIGHT, TCP_FIN | TCP_ACK, "FIN_WAIT" },
		{ DIR_RIGHT_TO_LEFT, TCP_FIN | TCP_ACK, "TIME_WAIT" },
		{ DIR_LEFT_TO_RIGHT, TCP_SYN, "SYN_SENT" }, /* the tuple reused by a new connection */
		{ DIR_RIGHT_TO_LEFT, TCP_RST | TCP_ACK, "CLOSE" },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(steps); i++) {
		if (steps[i].dir == DIR_LEFT_TO_RIGHT)
			tcp(&k, "192.168.1.10", 5000, "198.51.100.1", 80, steps[i].flags);
		else
			tcp(&k, "198.51.100.1", 80, "203.0.113.7", 5000, steps[i].flags);
		g_assert_cmpint(run(&t, &k, steps[i].dir), ==, VERDICT_FORWARD);
		uint32_t s = napt_session_find_in(t.nat, 6, ip("192.168.1.10"), 5000, ip("198.51.100.1"), 80);
		g_assert_cmpuint(s, !=, NAPT_NONE);
		struct table_row row;
		(void)row;
		static const char *const names[] = { "", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "TIME_WAIT",
			                             "CLOSE", "IDLE_TIMEOUT" };
		g_assert_cmpstr(names[t.nat->sess[s].state], ==, steps[i].state);
	}
	nat_close(&t);
}

/* ---- ICMP (RFC 5508) ----------------------------------------------------------------------------- */

static void test_icmp_echo(void)
{
	struct nat_test t;
	struct pkt k;
	nat_open(&t, "external = 203.0.113.7\nports = 1024-65535");
	echo(&k, "192.168.1.10", "198.51.100.1", 8, 0x1234);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(k.p.ip.sport, ==, 0x1234);
	/* A second host with the same identifier gets another one (REQ-1: identifiers are ports). */
	echo(&k, "192.168.1.11", "198.51.100.1", 8, 0x1234);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	uint16_t id2 = k.p.ip.sport;
	g_assert_cmpuint(id2, !=, 0x1234);
	uint16_t want, got;
	g_assert_true(csum_l4_expected(&k.p, &k.p.ip, &want));
	g_assert_true(pkt_get_be16(&k.p, k.p.ip.l4_csum_off, &got));
	g_assert_cmpuint(want, ==, got);
	echo(&k, "198.51.100.1", "203.0.113.7", 0, id2);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(k.p.ip.dst, ==, ip("192.168.1.11"));
	g_assert_cmpuint(k.p.ip.dport, ==, 0x1234);
	nat_close(&t);
}

static void test_icmp_error_inbound(void)
{
	struct nat_test t;
	struct pkt probe, err;
	nat_open(&t, "external = 203.0.113.7");
	udp(&probe, "192.168.1.10", 44001, "198.51.100.99", 33434);
	g_assert_cmpint(run(&t, &probe, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	/* The router's time exceeded quotes the probe as it left the NAT. */
	icmp_err(&err, "192.0.2.1", "203.0.113.7", 11, &probe);
	g_assert_true(err.p.has_inner);
	g_assert_cmpint(run(&t, &err, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(err.p.ip.dst, ==, ip("192.168.1.10"));
	g_assert_cmpuint(err.p.inner.src, ==, ip("192.168.1.10"));
	g_assert_cmpuint(err.p.inner.sport, ==, 44001);
	uint16_t want, got;
	g_assert_true(csum_l4_expected(&err.p, &err.p.ip, &want));
	g_assert_true(pkt_get_be16(&err.p, err.p.ip.l4_csum_off, &got));
	g_assert_cmpuint(want, ==, got);
	g_assert_nonnull(strstr(t.note->str, "ICMP time exceeded about mapping #1"));
	/* REQ-6: the error did not refresh or create anything. */
	g_assert_cmpuint(t.nat->n_sess, ==, 1);
	g_assert_cmpuint(t.nat->stats.icmp_errors_translated, ==, 1);
	nat_close(&t);
}

static void test_icmp_error_drops(void)
{
	struct nat_test t;
	struct pkt probe, err;
	nat_open(&t, "external = 203.0.113.7");
	/* About a flow the NAT never saw (REQ-4). */
	udp(&probe, "203.0.113.7", 44001, "198.51.100.99", 33434);
	icmp_err(&err, "192.0.2.1", "203.0.113.7", 3, &probe);
	g_assert_cmpint(run(&t, &err, DIR_RIGHT_TO_LEFT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_ICMP_NO_MAPPING);
	/* A bad checksum (REQ-3), even for a known flow. */
	udp(&probe, "192.168.1.10", 44001, "198.51.100.99", 33434);
	g_assert_cmpint(run(&t, &probe, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	icmp_err(&err, "192.0.2.1", "203.0.113.7", 11, &probe);
	err.buf[34 + 2] ^= 0x55;
	g_assert_cmpint(run(&t, &err, DIR_RIGHT_TO_LEFT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_ICMP_BAD_CHECKSUM);
	nat_close(&t);
}

/* An ICMP error quoting an ICMP error is well formed (RFC 1122 3.2.2 forbids sending one, not
 * receiving it): dropped with a reason that says so, both ways, not as a quote too short. */
static void test_icmp_error_about_an_error(void)
{
	struct nat_test t;
	struct pkt probe, inner, outer;
	nat_open(&t, "external = 203.0.113.7");
	udp(&probe, "192.168.1.10", 44001, "198.51.100.99", 33434);
	g_assert_cmpint(run(&t, &probe, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	/* The NAT's own unreachable to a remote, and a router's time exceeded about it, back to the NAT. */
	icmp_err(&inner, "203.0.113.7", "198.51.100.99", 3, &probe);
	icmp_err(&outer, "192.0.2.1", "203.0.113.7", 11, &inner);
	g_assert_true(outer.p.has_inner && outer.p.inner.icmp_error);
	g_assert_cmpint(run(&t, &outer, DIR_RIGHT_TO_LEFT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_ICMP_ERROR_ABOUT_ERROR);
	g_assert_cmpstr(t.note->str, ==, "DROP (ICMP error about an ICMP error: no host sends one (RFC 1122 3.2.2), so "
	                "no flow maps it): ICMP time exceeded 192.0.2.1 -> 203.0.113.7 quotes ICMP destination unreachable");
	g_assert_false(rev(&t, &outer, DIR_RIGHT_TO_LEFT));
	g_assert_nonnull(strstr(t.note->str, "an ICMP error about an ICMP error"));
	nat_close(&t);
}

/* ---- Fragments (RFC 4787 REQ-14) ------------------------------------------------------------------ */

static void test_fragments_in_order(void)
{
	struct nat_test t;
	struct pkt f1, f2;
	nat_open(&t, "external = 203.0.113.7");
	udp_fragments(&f1, &f2, "192.168.1.40", "198.51.100.70", 0x4242);
	g_assert_true(f1.p.ip.has_ports);
	g_assert_cmpint(run(&t, &f1, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(f1.p.ip.src, ==, ip("203.0.113.7"));
	g_assert_cmpint(run(&t, &f2, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(f2.p.ip.src, ==, ip("203.0.113.7"));
	g_assert_nonnull(strstr(t.note->str, "fragment at offset 16 of id 0x4242, follows mapping #1"));
	g_assert_cmpuint(csum_ip4_header(&f2.p, &f2.p.ip), ==, (uint16_t)(f2.buf[24] << 8 | f2.buf[25]));
	nat_close(&t);
}

static void test_fragments_out_of_order(void)
{
	struct nat_test t;
	struct pkt f1, f2;
	nat_open(&t, "external = 203.0.113.7\nfragment-timeout = 2");
	udp_fragments(&f1, &f2, "192.168.1.40", "198.51.100.70", 0x4243);
	g_assert_cmpint(run(&t, &f2, DIR_LEFT_TO_RIGHT), ==, VERDICT_CONSUMED);
	g_assert_nonnull(strstr(t.note->str, "HOLD fragment at offset 16"));
	g_assert_cmpint(run(&t, &f1, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpuint(t.nat->stats.frags_held, ==, 1);
	g_assert_cmpuint(t.nat->stats.frags_released, ==, 1);
	/* One that never gets its first fragment is discarded after the timeout. */
	udp_fragments(&f1, &f2, "192.168.1.40", "198.51.100.70", 0x4244);
	g_assert_cmpint(run(&t, &f2, DIR_LEFT_TO_RIGHT), ==, VERDICT_CONSUMED);
	advance(&t, t.now + 2 * T_SEC);
	g_assert_cmpuint(t.nat->stats.frags_discarded, ==, 1);
	nat_close(&t);
}

/* ---- Hairpinning (RFC 4787 REQ-9) ----------------------------------------------------------------- */

static void test_hairpin(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nfiltering = endpoint-independent");
	g_assert_cmpuint(out_udp(&t, "192.168.1.20", 5000, "198.51.100.50", 3478), ==, 5000);
	struct pkt k;
	udp(&k, "192.168.1.10", 6000, "203.0.113.7", 5000);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_CONSUMED);
	/* Translated both ways: external source (REQ-9 a), inside destination. */
	g_assert_cmpuint(k.p.ip.src, ==, ip("203.0.113.7"));
	g_assert_cmpuint(k.p.ip.sport, ==, 6000);
	g_assert_cmpuint(k.p.ip.dst, ==, ip("192.168.1.20"));
	g_assert_cmpuint(k.p.ip.dport, ==, 5000);
	g_assert_cmpuint(t.nat->stats.hairpinned, ==, 1);
	nat_close(&t);
	nat_open(&t, "external = 203.0.113.7\nhairpin = no");
	g_assert_cmpuint(out_udp(&t, "192.168.1.20", 5000, "198.51.100.50", 3478), ==, 5000);
	udp(&k, "192.168.1.10", 6000, "203.0.113.7", 5000);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_HAIRPIN_OFF);
	nat_close(&t);
}

/* ---- reverse(): derive, never change ------------------------------------------------------------ */

static void test_reverse(void)
{
	struct nat_test t;
	struct pkt k;
	nat_open(&t, "external = 203.0.113.7\nprofile = symmetric");
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 40000, "198.51.100.1", 3478), ==, 40000);
	g_assert_cmpuint(out_udp(&t, "192.168.1.10", 40000, "198.51.100.2", 3478), ==, 1024);
	uint64_t sessions = t.nat->n_sess, created = t.nat->stats.sessions_created;
	/* A reply captured inside: its outside view goes to the mapping made for its sender. */
	udp(&k, "198.51.100.2", 3478, "192.168.1.10", 40000);
	g_assert_true(rev(&t, &k, DIR_RIGHT_TO_LEFT));
	g_assert_cmpuint(k.p.ip.dst, ==, ip("203.0.113.7"));
	g_assert_cmpuint(k.p.ip.dport, ==, 1024);
	/* A probe from an endpoint never contacted: the host's first mapping (what STUN reported). */
	udp(&k, "198.51.100.9", 9, "192.168.1.10", 40000);
	g_assert_true(rev(&t, &k, DIR_RIGHT_TO_LEFT));
	g_assert_cmpuint(k.p.ip.dport, ==, 40000);
	/* An outbound packet captured outside: its inside sender. */
	udp(&k, "203.0.113.7", 1024, "198.51.100.2", 3478);
	g_assert_true(rev(&t, &k, DIR_LEFT_TO_RIGHT));
	g_assert_cmpuint(k.p.ip.src, ==, ip("192.168.1.10"));
	g_assert_cmpuint(k.p.ip.sport, ==, 40000);
	/* None of it changed the table. */
	g_assert_cmpuint(t.nat->n_sess, ==, sessions);
	g_assert_cmpuint(t.nat->stats.sessions_created, ==, created);
	/* No mapping: false, and a sentence why. */
	udp(&k, "198.51.100.2", 3478, "192.168.1.99", 40000);
	g_assert_false(rev(&t, &k, DIR_RIGHT_TO_LEFT));
	g_assert_nonnull(strstr(t.note->str, "no mapping for 192.168.1.99:40000"));
	nat_close(&t);
}

/* ---- table_foreach ----------------------------------------------------------------------------- */

static void count_row(const struct table_row *row, void *data)
{
	unsigned *n = data;
	g_assert_cmpuint(row->id, >, 0);
	g_assert_nonnull(strstr(row->flags, "mapping #"));
	g_assert_cmpuint(row->reply.dst, ==, 0xcb007107); /* 203.0.113.7 */
	(*n)++;
}

static void test_table_rows(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7");
	out_udp(&t, "192.168.1.10", 1, "198.51.100.1", 53);
	out_udp(&t, "192.168.1.10", 1, "198.51.100.2", 53);
	out_udp(&t, "192.168.1.11", 1, "198.51.100.2", 53);
	unsigned n = 0;
	t.st->ops->table_foreach(t.st, t.now, count_row, &n);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(napt_live_mappings(t.st), ==, 2); /* EIM: 192.168.1.10:1 has one mapping for two rows */
	nat_close(&t);
}

/* ---- AWS NAT gateway ----------------------------------------------------------------------------- */

static void test_aws_per_destination(void)
{
	struct nat_test t;
	struct pkt k;
	nat_open(&t, "external = 203.0.113.7\nprofile = aws-nat-gateway\nmax-mappings = 60000");
	for (unsigned i = 0; i < 55000; i++) {
		char src[16];
		g_snprintf(src, sizeof src, "10.0.%u.%u", 1 + i / 250, 1 + i % 250);
		tcp(&k, src, 40000, "198.51.100.80", 443, TCP_SYN);
		enum verdict v = run(&t, &k, DIR_LEFT_TO_RIGHT);
		if (v != VERDICT_FORWARD)
			g_test_message("connection %u: %s", i, t.note->str);
		g_assert_cmpint(v, ==, VERDICT_FORWARD);
	}
	tcp(&k, "10.0.250.250", 40000, "198.51.100.80", 443, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_PER_DESTINATION);
	g_assert_cmpuint(t.nat->stats.port_allocation_errors, ==, 1);
	/* Another destination (port) is another count. */
	tcp(&k, "10.0.250.250", 40000, "198.51.100.80", 80, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	GString *s = g_string_new(NULL);
	t.st->ops->stats_print(t.st, s);
	g_assert_nonnull(strstr(s->str, "ErrorPortAllocation"));
	g_assert_nonnull(strstr(s->str, "ConnectionAttemptCount"));
	g_string_free(s, TRUE);
	nat_close(&t);
}

static void test_aws_idle(void)
{
	struct nat_test t;
	struct pkt k;
	nat_open(&t, "external = 203.0.113.7\nprofile = aws-nat-gateway");
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	uint16_t eport = k.p.ip.sport;
	tcp(&k, "198.51.100.80", 443, "203.0.113.7", eport, TCP_SYN | TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	t.now += 349 * T_SEC;
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	t.now += 350 * T_SEC;
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_IDLE_TIMEOUT);
	g_assert_cmpuint(t.nat->stats.idle_timeouts, ==, 1);
	/* The remote's packets are not let in either; a new SYN is a new connection. */
	tcp(&k, "198.51.100.80", 443, "203.0.113.7", eport, TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_DROP);
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	/* Unsolicited inbound: dropped, with the rule named. */
	tcp(&k, "198.51.100.9", 4444, "203.0.113.7", 1234, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_DROP);
	g_assert_nonnull(strstr(t.note->str, "only replies pass"));
	nat_close(&t);
}

/* Issue item 5: a connection that idled out at 350 s is stamped then, not when the next advance
 * noticed it (here 1000 s), although the stage re-arms it to be remembered for RSTs. */
static void test_aws_idle_event_time(void)
{
	struct nat_test t;
	struct pkt k;
	struct table_recorder *rec = table_recorder_new();
	nat_open(&t, "external = 203.0.113.7\nprofile = aws-nat-gateway");
	int64_t t0 = t.now;
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_SYN);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	uint16_t eport = k.p.ip.sport;
	tcp(&k, "198.51.100.80", 443, "203.0.113.7", eport, TCP_SYN | TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
	tcp(&k, "10.0.1.10", 40000, "198.51.100.80", 443, TCP_ACK);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);

	struct stage_ctx ctx = { .now_ns = t0 + 1000 * T_SEC, .note = t.note, .drop = DROP_NONE, .tables = rec };
	t.st->ops->advance(t.st, ctx.now_ns, &ctx);
	table_recorder_packet_done(rec, t.sc, ctx.now_ns);
	g_assert_cmpuint(t.nat->stats.idle_timeouts, ==, 1);
	GError *err = NULL;
	g_assert_true(table_recorder_finish(rec, t.sc, &err));
	g_assert_no_error(err);
	const char *text = table_recorder_text(rec);
	struct table_file *tf = table_file_parse("mem.json", text, strlen(text), &err);
	g_assert_no_error(err);
	g_assert_cmpuint(tf->n_events, ==, 1);
	g_assert_cmpint(tf->events[0].kind, ==, TABLE_EVENT_EXPIRED);
	g_assert_cmpint(tf->events[0].ts_ns, ==, t0 + 350 * T_SEC);
	g_assert_nonnull(strstr(tf->events[0].why, "idle for 350 s"));
	table_file_free(tf);
	table_recorder_free(rec);
	nat_close(&t);
}

static void test_aws_fragments(void)
{
	struct nat_test t;
	struct pkt f1, f2;
	nat_open(&t, "external = 203.0.113.7\nprofile = aws-nat-gateway");
	udp_fragments(&f1, &f2, "10.0.1.10", "198.51.100.70", 0x4245);
	g_assert_cmpint(run(&t, &f1, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpint(run(&t, &f2, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	/* The same bytes as TCP: dropped. */
	f1.buf[14 + 9] = 6;
	decode_packet(&f1.p);
	g_assert_cmpint(run(&t, &f1, DIR_LEFT_TO_RIGHT), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_FRAGMENT);
	nat_refused("external = 198.51.100.0/28\nprofile = aws-nat-gateway", "allows 8");
	nat_close(&t);
}

/* ---- Scenario keys --------------------------------------------------------------------------------- */

struct config_case {
	const char *name;
	const char *keys;
	const char *error;
};

static const struct config_case config_cases[] = {
	{ "/napt/config/external-is-required", "profile = rfc", "needs its external address" },
	{ "/napt/config/unknown-profile-suggests", "external = 203.0.113.7\nprofile = symetric", "did you mean 'symmetric'" },
	{ "/napt/config/bad-mapping-word", "external = 203.0.113.7\nmapping = endpoint-indepedent",
	  "did you mean 'endpoint-independent'" },
	{ "/napt/config/bad-port-range", "external = 203.0.113.7\nports = 5000-4000", "not a port range" },
	{ "/napt/config/unknown-strategy", "external = 203.0.113.7\nport-allocation = preserve, sequentail",
	  "did you mean 'sequential'" },
	{ "/napt/config/zero-timeout", "external = 203.0.113.7\ntimeout-udp = 0", "timeout-udp" },
	{ "/napt/config/bad-bool", "external = 203.0.113.7\nhairpin = maybe", "not yes or no" },
	{ "/napt/config/unknown-key", "external = 203.0.113.7\nhairpn = yes", "did you mean 'hairpin'" },
};

static void test_config(gconstpointer data)
{
	const struct config_case *c = data;
	nat_refused(c->keys, c->error);
}

static void test_describe(void)
{
	struct nat_test t;
	nat_open(&t, "external = 203.0.113.7\nprofile = aws-nat-gateway\ntimeout-udp = 60");
	GString *s = g_string_new(NULL);
	t.st->ops->describe(t.st, s);
	g_assert_nonnull(strstr(s->str, "timeout-udp = 60\n"));              /* the key overrides ... */
	g_assert_nonnull(strstr(s->str, "timeout-tcp-established = 350\n")); /* ... the profile fills the rest */
	g_assert_nonnull(strstr(s->str, "max-per-destination = 55000\n"));
	g_assert_nonnull(strstr(s->str, "fragments = udp-only\n"));
	g_string_free(s, TRUE);
	nat_close(&t);
}

/* ---- Memory follows the live entries, not max-mappings (issue 11 item 7) ------------------ */

#define LESSON_PCAP "pcaps/napt-home.pcap"
#define LESSON_SCENARIO "scenarios/napt-home.ini"
#define HUGE_MAX_MAPPINGS 16777216u     /* the largest max-mappings the scenario takes */
#define LESSON_PEAK_RSS_KIB (64 * 1024) /* the issue's bound for that 29-packet lesson */

/* A copy of the napt-home lesson's scenario in dir whose stage (its last group) takes max-mappings. */
static char *lesson_scenario_with(const char *dir, uint32_t max_mappings)
{
	char *text = NULL;
	g_assert_true(g_file_get_contents(LESSON_SCENARIO, &text, NULL, NULL));
	char *path = g_build_filename(dir, "napt-home-big.ini", NULL);
	char *big = g_strdup_printf("%s\nmax-mappings = %u\n", text, max_mappings);
	g_assert_true(g_file_set_contents(path, big, -1, NULL));
	g_free(big);
	g_free(text);
	return path;
}

/* Run natlb replay of the lesson with scenario as a child, under an address-space limit when
 * as_limit is not 0; its exit status, and its peak RSS in KiB (wait4: this child's own). */
static int replay_child(const char *scenario, const char *out, rlim_t as_limit, long *peak_kib)
{
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", scenario, "-o", out, LESSON_PCAP, NULL };
	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		struct rlimit rl = { as_limit, as_limit };
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, STDERR_FILENO);
		if (as_limit && setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(126);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	int status = 0;
	struct rusage ru = { 0 };
	g_assert_cmpint(wait4(pid, &status, 0, &ru), ==, pid);
	*peak_kib = ru.ru_maxrss;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_memory_follows_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	/* make test SANITIZE=1 runs build/san/natlb, whose tables are heap blocks under ASan's shadow
	 * (common/hugemem.c) by design: its RSS says nothing about the release allocator's. */
	g_test_skip("AddressSanitizer build: its tables are heap blocks with shadow memory, not ours to measure");
	return;
#endif
	if (!g_file_test(test_natlb_binary(), G_FILE_TEST_IS_EXECUTABLE) || !g_file_test(LESSON_PCAP, G_FILE_TEST_EXISTS)) {
		g_test_skip("no natlb binary or lesson capture to measure");
		return;
	}
	char *dir = test_tmpdir();
	char *scenario = lesson_scenario_with(dir, HUGE_MAX_MAPPINGS);
	char *out = g_build_filename(dir, "out.pcapng", NULL);
	long peak_kib = 0;
	g_assert_cmpint(replay_child(scenario, out, 0, &peak_kib), ==, 0);
	if (peak_kib <= 0)
		g_test_skip("the kernel reports no peak RSS");
	else {
		g_test_message("napt-home at max-mappings = %u: peak RSS %ld KiB", HUGE_MAX_MAPPINGS, peak_kib);
		g_assert_cmpint(peak_kib, <=, LESSON_PEAK_RSS_KIB);
	}
	g_unlink(out);
	g_unlink(scenario);
	g_free(out);
	g_free(scenario);
	test_rmdir(dir);
}

/* Tables that do not fit are a runtime failure (exit 1), not a bad scenario (exit 2): the same
 * scenario runs on a bigger machine.  RLIMIT_AS makes this machine small. */
static void test_memory_short_is_runtime_failure(void)
{
#if defined(__SANITIZE_ADDRESS__)
	g_test_skip("AddressSanitizer reserves terabytes of address space: no room for a limit");
	return;
#endif
	if (!g_file_test(test_natlb_binary(), G_FILE_TEST_IS_EXECUTABLE) || !g_file_test(LESSON_PCAP, G_FILE_TEST_EXISTS)) {
		g_test_skip("no natlb binary or lesson capture to run");
		return;
	}
	char *dir = test_tmpdir();
	char *scenario = lesson_scenario_with(dir, HUGE_MAX_MAPPINGS);
	char *out = g_build_filename(dir, "out.pcapng", NULL);
	long peak_kib = 0;
	/* 16M mappings reserve about 3 GB of address space; natlb itself needs far less than 1 GB. */
	g_assert_cmpint(replay_child(scenario, out, (rlim_t)1 << 30, &peak_kib), ==, 1);
	g_unlink(out);
	g_unlink(scenario);
	g_free(out);
	g_free(scenario);
	test_rmdir(dir);
}

/* ---- The linux profile against the kernel (issue 10): nf_conntrack_proto_udp.c, nf_nat_core.c -- */

#define H_ADDR "192.168.1.10"
#define S_ADDR "198.51.100.1"
#define E_ADDR "203.0.113.7"

/* run() with an emitter, for the packets the stage sends back. */
static enum verdict run_emit(struct nat_test *t, struct pkt *k, enum hop_dir dir, struct test_emitter *em)
{
	struct stage_ctx ctx = { .now_ns = t->now, .note = t->note, .drop = DROP_NONE, .seed = t->seed, .stage = t->st,
		                 .emitter = &em->em };
	g_string_truncate(t->note, 0);
	t->st->ops->advance(t->st, t->now, &ctx);
	enum verdict v = t->st->ops->process(t->st, &k->p, dir, &ctx);
	t->drop = v == VERDICT_DROP ? ctx.drop : DROP_NONE;
	g_assert_cmpuint(t->note->len, >, 0);
	return v;
}

/* The flags of the rows the table shows, joined by "|" in the order table_foreach gives them. */
static void join_flags(const struct table_row *row, void *data)
{
	GString *s = data;
	g_string_append_printf(s, "%s%s", s->len ? "|" : "", row->flags);
}

static char *table_flags(struct nat_test *t)
{
	GString *s = g_string_new(NULL);
	t->st->ops->table_foreach(t->st, t->now, join_flags, s);
	return g_string_free(s, FALSE);
}

struct track_step {
	enum hop_dir dir;
	uint8_t tcp_flags;
	int64_t at_ms;          /* after the first packet */
};

struct track_case {
	const char *name;
	const char *keys;
	uint8_t proto;
	struct track_step steps[4];
	unsigned n_steps;
	const char *flag;       /* "[ASSURED]", "[UNREPLIED]", or "" for neither, as conntrack -L shows the row */
	int64_t lives_s;        /* after the last packet */
};

static const struct track_case track_cases[] = {
	{ "/napt/linux/udp/request-alone-is-unreplied-for-30-s", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 } }, 1, "[UNREPLIED]", 30 },
	{ "/napt/linux/udp/request-and-reply-stay-30-s-and-are-not-assured", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 } }, 2, "", 30 },
	{ "/napt/linux/udp/packet-after-the-reply-past-2-s-makes-an-assured-120-s-stream", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 }, { DIR_LEFT_TO_RIGHT, 0, 2500 } }, 3, "[ASSURED]", 120 },
	{ "/napt/linux/udp/packet-after-the-reply-within-2-s-is-assured-but-stays-30-s", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 }, { DIR_LEFT_TO_RIGHT, 0, 1000 } }, 3, "[ASSURED]", 30 },
	{ "/napt/linux/udp/the-2-s-count-from-the-first-packet-not-from-the-reply", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 1900 }, { DIR_RIGHT_TO_LEFT, 0, 2100 } }, 3, "[ASSURED]", 120 },
	{ "/napt/linux/udp/a-late-reply-alone-is-no-stream", "profile = linux", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 5000 } }, 2, "", 30 },
	{ "/napt/port-restricted-cone/udp/a-reply-makes-an-assured-stream-at-once", "", 17,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 } }, 2, "[ASSURED]", 300 },
	{ "/napt/linux/tcp/syn-alone-is-unreplied", "profile = linux", 6,
	  { { DIR_LEFT_TO_RIGHT, TCP_SYN, 0 } }, 1, "[UNREPLIED]", 120 },
	{ "/napt/linux/tcp/syn-ack-seen-is-not-yet-assured", "profile = linux", 6,
	  { { DIR_LEFT_TO_RIGHT, TCP_SYN, 0 }, { DIR_RIGHT_TO_LEFT, TCP_SYN | TCP_ACK, 10 } }, 2, "", 0 },
	{ "/napt/linux/tcp/assured-once-established", "profile = linux", 6,
	  { { DIR_LEFT_TO_RIGHT, TCP_SYN, 0 }, { DIR_RIGHT_TO_LEFT, TCP_SYN | TCP_ACK, 10 },
	    { DIR_LEFT_TO_RIGHT, TCP_ACK, 11 } }, 3, "[ASSURED]", 432000 },
	{ "/napt/linux/tcp/picked-up-mid-stream-assured-from-its-second-packet", "profile = linux", 6,
	  { { DIR_LEFT_TO_RIGHT, TCP_ACK, 0 }, { DIR_RIGHT_TO_LEFT, TCP_ACK, 10 } }, 2, "[ASSURED]", 432000 },
	{ "/napt/rfc/tcp/rows-show-no-flag", "profile = rfc", 6,
	  { { DIR_LEFT_TO_RIGHT, TCP_SYN, 0 }, { DIR_RIGHT_TO_LEFT, TCP_SYN | TCP_ACK, 10 },
	    { DIR_LEFT_TO_RIGHT, TCP_ACK, 11 } }, 3, "", 7440 },
	{ "/napt/linux/icmp/echo-answered-is-never-assured", "profile = linux", 1,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 }, { DIR_LEFT_TO_RIGHT, 0, 3000 } }, 3, "", 30 },
	{ "/napt/rfc/icmp/echo-answered-shows-assured", "profile = rfc", 1,
	  { { DIR_LEFT_TO_RIGHT, 0, 0 }, { DIR_RIGHT_TO_LEFT, 0, 10 } }, 2, "[ASSURED]", 60 },
};

/* eport: the external port (or identifier) the first packet left with. */
static void track_packet(struct pkt *k, uint8_t proto, const struct track_step *st, uint16_t eport)
{
	bool out = st->dir == DIR_LEFT_TO_RIGHT;
	if (proto == 17)
		udp(k, out ? H_ADDR : S_ADDR, out ? 5000 : 53, out ? S_ADDR : E_ADDR, out ? 53 : eport);
	else if (proto == 6)
		tcp(k, out ? H_ADDR : S_ADDR, out ? 5000 : 80, out ? S_ADDR : E_ADDR, out ? 80 : eport, st->tcp_flags);
	else
		echo(k, out ? H_ADDR : S_ADDR, out ? S_ADDR : E_ADDR, out ? 8 : 0, out ? 77 : eport);
}

static void test_tracking(gconstpointer data)
{
	const struct track_case *c = data;
	struct nat_test t;
	char *keys = g_strdup_printf("external = " E_ADDR "\n%s", c->keys);
	nat_open(&t, keys);
	int64_t start = t.now;
	uint16_t eport = 0;
	for (unsigned i = 0; i < c->n_steps; i++) {
		struct pkt k;
		t.now = start + c->steps[i].at_ms * 1000000;
		track_packet(&k, c->proto, &c->steps[i], eport);
		enum verdict v = run(&t, &k, c->steps[i].dir);
		if (i == 0)
			eport = k.p.ip.sport;
		if (v != VERDICT_FORWARD)
			g_test_message("step %u: %s", i, t.note->str);
		g_assert_cmpint(v, ==, VERDICT_FORWARD);
		g_assert_cmpuint(t.nat->n_sess, ==, 1);
	}
	char *flags = table_flags(&t);
	if (c->flag[0])
		g_assert_true(g_str_has_suffix(flags, c->flag));
	else
		g_assert_null(strchr(flags, '['));
	g_free(flags);
	if (c->lives_s) {
		int64_t last = t.now;
		advance(&t, last + c->lives_s * T_SEC - 1);
		g_assert_cmpuint(t.nat->n_sess, ==, 1);
		advance(&t, last + c->lives_s * T_SEC);
		g_assert_cmpuint(t.nat->n_sess, ==, 0);
	}
	nat_close(&t);
	g_free(keys);
}

/* After a request, its reply and 32 s of silence, Linux has forgotten the flow (30 s): the host's
 * next packet makes a new entry; the server's next packet finds none, is answered by the router,
 * and its entry then moves the host to another port. */
struct pause_case {
	const char *name;
	const char *keys;
	bool server_first;          /* after the pause the server sends first, else the host */
	enum verdict server_after_pause;
	const char *host_note;      /* a substring of the host's packet's note */
	bool host_keeps_port;
};

static const struct pause_case pause_cases[] = {
	{ "/napt/linux/udp/after-a-32-s-pause-the-host-gets-a-new-entry", "profile = linux", false, VERDICT_FORWARD,
	  "new mapping #2, port preserved", true },
	{ "/napt/linux/udp/after-a-32-s-pause-the-server-is-answered-and-the-host-port-moves", "profile = linux", true,
	  VERDICT_CONSUMED, "5000 in use by mapping #2", false },
	{ "/napt/rfc/udp/after-a-32-s-pause-the-host-still-has-its-mapping", "profile = rfc", false, VERDICT_FORWARD,
	  "(mapping #1)", true },
	{ "/napt/rfc/udp/after-a-32-s-pause-the-server-still-reaches-the-host", "profile = rfc", true, VERDICT_FORWARD,
	  "(mapping #1)", true },
};

static void test_udp_pause(gconstpointer data)
{
	const struct pause_case *c = data;
	struct nat_test t;
	struct test_emitter em;
	struct pkt k;
	char *keys = g_strdup_printf("external = " E_ADDR "\n%s", c->keys);
	test_emitter_init(&em);
	nat_open(&t, keys);
	int64_t start = t.now;
	g_assert_cmpuint(out_udp(&t, H_ADDR, 5000, S_ADDR, 53), ==, 5000);
	t.now = start + 10 * 1000000;
	g_assert_cmpint(in_udp(&t, S_ADDR, 53, E_ADDR, 5000), ==, VERDICT_FORWARD);
	t.now = start + 32 * T_SEC;
	if (c->server_first) {
		udp(&k, S_ADDR, 53, E_ADDR, 5000);
		g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, c->server_after_pause);
	}
	uint16_t port = out_udp(&t, H_ADDR, 5000, S_ADDR, 53);
	if (!strstr(t.note->str, c->host_note))
		g_test_message("note: %s", t.note->str);
	g_assert_nonnull(strstr(t.note->str, c->host_note));
	g_assert_cmpint(port == 5000, ==, c->host_keeps_port);
	if (!c->server_first) {
		udp(&k, S_ADDR, 53, E_ADDR, 5000);
		g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, c->server_after_pause);
	}
	nat_close(&t);
	g_free(keys);
}

/* Hole punching when the peer's packet arrives first (RFC 5128 3.3). */
struct unsolicited_case {
	const char *name;
	const char *keys;
	uint8_t proto;
	enum verdict want;
	int answer;             /* 0: nothing sent; ICMP 3/3 (1); TCP RST (6) */
	bool host_keeps_port;   /* the host's packet to the peer leaves from 40000 */
	bool retry_reaches_host;
	const char *row;        /* a substring of the table after the peer's first packet, or NULL */
};

static const struct unsolicited_case unsolicited_cases[] = {
	{ "/napt/linux/unsolicited/udp-answered-port-unreachable-and-its-entry-moves-the-host-port", "profile = linux", 17,
	  VERDICT_CONSUMED, 1, false, false, "local (to the NAT itself, no NAT) [UNREPLIED]" },
	{ "/napt/linux/unsolicited/tcp-syn-answered-rst-and-its-entry-moves-the-host-port", "profile = linux", 6,
	  VERDICT_CONSUMED, 6, false, false, "local (to the NAT itself, no NAT)" },
	{ "/napt/linux/unsolicited/answer-off-drops-silently-keeps-no-entry-and-the-port", "profile = linux\n"
	  "answer-unsolicited = no", 17, VERDICT_DROP, 0, true, true, NULL },
	{ "/napt/linux/unsolicited/natlb-tracking-answers-but-keeps-no-entry", "profile = linux\ntracking = natlb", 17,
	  VERDICT_CONSUMED, 1, true, true, NULL },
	{ "/napt/port-restricted-cone/unsolicited/dropped-silently-port-kept-retry-let-in", "", 17, VERDICT_DROP, 0, true,
	  true, NULL },
	{ "/napt/port-restricted-cone/unsolicited/answer-on-sends-rst-without-an-entry", "answer-unsolicited = yes", 6,
	  VERDICT_CONSUMED, 6, true, true, NULL },
};

#define PEER_ADDR "198.51.100.9"

static void peer_packet(struct pkt *k, uint8_t proto, const char *dst, uint16_t dport)
{
	if (proto == 17)
		udp(k, PEER_ADDR, 6000, dst, dport);
	else
		tcp_seq(k, PEER_ADDR, 6000, dst, dport, TCP_SYN, 777);
}

static void test_unsolicited(gconstpointer data)
{
	const struct unsolicited_case *c = data;
	struct nat_test t;
	struct test_emitter em;
	struct pkt k;
	char *keys = g_strdup_printf("external = " E_ADDR "\n%s", c->keys);
	test_emitter_init(&em);
	nat_open(&t, keys);
	peer_packet(&k, c->proto, E_ADDR, 40000);
	g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, c->want);
	g_assert_cmpuint(em.n, ==, c->answer ? 1 : 0);
	if (c->answer) {
		/* From the NAT's own endpoint to the peer, out the way the packet came. */
		struct packet a = { .data = em.bytes, .caplen = em.last.len, .wirelen = em.last.len, .linktype = 1 };
		decode_packet(&a);
		g_assert_cmpint(em.last.side, ==, SIDE_RIGHT);
		g_assert_cmpuint(a.ip.src, ==, ip(E_ADDR));
		g_assert_cmpuint(a.ip.dst, ==, ip(PEER_ADDR));
		if (c->answer == 1) {
			g_assert_cmpuint(a.ip.proto, ==, 1);
			g_assert_cmpuint(a.ip.icmp_type, ==, 3);
			g_assert_cmpuint(em.bytes[a.ip.l4_off + 1], ==, 3); /* code: port unreachable */
			g_assert_cmpuint(em.last.len, ==, 14 + 20 + 8 + k.p.ip.total_len); /* the whole datagram quoted */
			g_assert_nonnull(strstr(t.note->str, "ICMP 3/3 port unreachable sent back"));
		} else {
			g_assert_cmpuint(a.ip.proto, ==, 6);
			g_assert_cmpuint(a.ip.sport, ==, 40000);
			g_assert_cmpuint(a.ip.dport, ==, 6000);
			g_assert_cmpuint(a.ip.tcp_flags, ==, TCP_RST | TCP_ACK);
			g_assert_nonnull(strstr(t.note->str, "TCP RST sent back"));
		}
	}
	char *rows = table_flags(&t);
	if (c->row)
		g_assert_nonnull(strstr(rows, c->row));
	else
		g_assert_cmpstr(rows, ==, "");
	g_free(rows);
	/* The host punches towards the peer from the port a STUN server told both. */
	if (c->proto == 17)
		udp(&k, H_ADDR, 40000, PEER_ADDR, 6000);
	else
		tcp_seq(&k, H_ADDR, 40000, PEER_ADDR, 6000, TCP_SYN, 5000);
	g_assert_cmpint(run_emit(&t, &k, DIR_LEFT_TO_RIGHT, &em), ==, VERDICT_FORWARD);
	g_assert_cmpint(k.p.ip.sport == 40000, ==, c->host_keeps_port);
	/* The peer tries again, to the port it knows. */
	peer_packet(&k, c->proto, E_ADDR, 40000);
	enum verdict v = run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em);
	g_assert_cmpint(v == VERDICT_FORWARD, ==, c->retry_reaches_host);
	if (c->retry_reaches_host)
		g_assert_cmpuint(k.p.ip.dst, ==, ip(H_ADDR));
	nat_close(&t);
	g_free(keys);
}

/* The NAT's own entry lives timeout-udp-unreplied (30 s): after it, the host keeps its port. */
static void test_local_entry_expires(void)
{
	for (int64_t wait_s = 29; wait_s <= 30; wait_s++) {
		struct nat_test t;
		struct test_emitter em;
		struct pkt k;
		test_emitter_init(&em);
		nat_open(&t, "external = " E_ADDR "\nprofile = linux");
		int64_t start = t.now;
		peer_packet(&k, 17, E_ADDR, 40000);
		g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, VERDICT_CONSUMED);
		t.now = start + wait_s * T_SEC;
		uint16_t port = out_udp(&t, H_ADDR, 40000, PEER_ADDR, 6000);
		g_assert_cmpint(port == 40000, ==, wait_s == 30);
		nat_close(&t);
	}
}

/* RFC 1812 4.3.2.3, as Linux's icmp_send(): the error quotes as much of the datagram as fits in
 * 576 bytes, 548 of them; a short datagram whole. */
static void test_unsolicited_quote(void)
{
	static const uint32_t payloads[] = { 4, 520, 540, 1000 };
	for (unsigned i = 0; i < G_N_ELEMENTS(payloads); i++) {
		struct nat_test t;
		struct test_emitter em;
		struct pkt k;
		test_emitter_init(&em);
		nat_open(&t, "external = " E_ADDR "\nprofile = linux");
		udp_len(&k, PEER_ADDR, 6000, E_ADDR, 40000, payloads[i]);
		g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, VERDICT_CONSUMED);
		uint32_t quoted = MIN(20 + 8 + payloads[i], 548);
		g_assert_cmpuint(em.last.len, ==, 14 + 20 + 8 + quoted);
		g_assert_cmpmem(em.bytes + 14 + 28, quoted, k.buf + 14, quoted);
		struct packet a = { .data = em.bytes, .caplen = em.last.len, .wirelen = em.last.len, .linktype = 1 };
		g_assert_cmpint(decode_packet(&a), ==, DECODE_OK);
		g_assert_cmpuint(a.ip.total_len, ==, 28 + quoted);
		uint16_t want = 0, got = 1;
		g_assert_true(csum_l4_expected(&a, &a.ip, &want));
		g_assert_true(pkt_get_be16(&a, a.ip.l4_csum_off, &got));
		g_assert_cmpuint(want, ==, got);
		nat_close(&t);
	}
}

/* A RST from outside is answered by no stack (RFC 9293 3.10.7.1) and leaves no entry. */
static void test_unsolicited_rst(void)
{
	struct nat_test t;
	struct test_emitter em;
	struct pkt k;
	test_emitter_init(&em);
	nat_open(&t, "external = " E_ADDR "\nprofile = linux");
	tcp(&k, PEER_ADDR, 6000, E_ADDR, 40000, TCP_RST);
	g_assert_cmpint(run_emit(&t, &k, DIR_RIGHT_TO_LEFT, &em), ==, VERDICT_DROP);
	g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_MAPPING);
	g_assert_cmpuint(em.n, ==, 0);
	g_assert_cmpuint(t.nat->n_sess, ==, 0);
	nat_close(&t);
}

/* With every port of a small range held towards one server, a new SYN takes the port of a closing
 * connection at once (nf_nat_used_tuple_harder), when its sequence number is past the old one's. */
struct timewait_case {
	const char *name;
	const char *keys;
	bool holders_closed;   /* the two connections holding 2000 and 2001 are in TIME_WAIT */
	uint32_t new_seq;      /* the old connections' segments end at 1001 */
	enum verdict want;
};

static const struct timewait_case timewait_cases[] = {
	{ "/napt/linux/time-wait/new-syn-takes-a-time-wait-port-at-once", "profile = linux", true, 5000, VERDICT_FORWARD },
	{ "/napt/linux/time-wait/syn-whose-sequence-has-not-advanced-finds-no-port", "profile = linux", true, 500,
	  VERDICT_DROP },
	{ "/napt/linux/time-wait/established-connections-are-never-taken", "profile = linux", false, 5000, VERDICT_DROP },
	{ "/napt/overlapping/time-wait/sequential-never-takes-a-closing-port", "mapping = address-and-port-dependent\n"
	  "port-overlapping = yes\nport-allocation = sequential", true, 5000, VERDICT_DROP },
};

static void test_timewait(gconstpointer data)
{
	const struct timewait_case *c = data;
	struct nat_test t;
	struct pkt k;
	char *keys = g_strdup_printf("external = " E_ADDR "\nports = 2000-2001\n%s", c->keys);
	static const char *const hosts[] = { "192.168.1.20", "192.168.1.21" };
	nat_open(&t, keys);
	for (unsigned i = 0; i < 2; i++) {
		tcp(&k, hosts[i], 1111, "198.51.100.80", 80, TCP_SYN);
		g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
		uint16_t eport = k.p.ip.sport;
		tcp(&k, "198.51.100.80", 80, E_ADDR, eport, TCP_SYN | TCP_ACK);
		g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
		tcp(&k, hosts[i], 1111, "198.51.100.80", 80, TCP_ACK);
		g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
		if (c->holders_closed) {
			tcp(&k, hosts[i], 1111, "198.51.100.80", 80, TCP_FIN | TCP_ACK);
			g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
			tcp(&k, "198.51.100.80", 80, E_ADDR, eport, TCP_FIN | TCP_ACK);
			g_assert_cmpint(run(&t, &k, DIR_RIGHT_TO_LEFT), ==, VERDICT_FORWARD);
			g_assert_nonnull(strstr(t.note->str, "TIME_WAIT"));
		}
	}
	t.now += T_SEC;
	tcp_seq(&k, "192.168.1.22", 1111, "198.51.100.80", 80, TCP_SYN, c->new_seq);
	enum verdict v = run(&t, &k, DIR_LEFT_TO_RIGHT);
	if (v != c->want)
		g_test_message("note: %s", t.note->str);
	g_assert_cmpint(v, ==, c->want);
	if (v == VERDICT_FORWARD) {
		g_assert_cmpuint(k.p.ip.sport, >=, 2000);
		g_assert_cmpuint(k.p.ip.sport, <=, 2001);
		g_assert_nonnull(strstr(t.note->str, "taken over from session #"));
		g_assert_cmpuint(t.nat->n_sess, ==, 2); /* one closing connection gave way */
	} else {
		g_assert_cmpint(t.drop, ==, DROP_NAPT_NO_PORT);
		g_assert_cmpuint(t.nat->n_sess, ==, 2);
	}
	nat_close(&t);
	g_free(keys);
}

/* iptables' --to-ports needs -p tcp or -p udp: ICMP identifiers keep nf_nat's own range. */
struct icmp_ports_case {
	const char *name;
	const char *keys;
	bool id_kept;          /* identifier 77 leaves as 77, outside `ports` */
};

static const struct icmp_ports_case icmp_ports_cases[] = {
	{ "/napt/linux/ports/bound-tcp-and-udp-not-icmp-identifiers", "profile = linux", true },
	{ "/napt/linux/ports/ports-icmp-yes-bounds-identifiers-too", "profile = linux\nports-icmp = yes", false },
	{ "/napt/rfc/ports/bound-icmp-identifiers-too", "profile = rfc", false },
};

static void test_icmp_ports(gconstpointer data)
{
	const struct icmp_ports_case *c = data;
	struct nat_test t;
	struct pkt k;
	char *keys = g_strdup_printf("external = " E_ADDR "\nports = 2000-2099\n%s", c->keys);
	nat_open(&t, keys);
	echo(&k, H_ADDR, S_ADDR, 8, 77);
	g_assert_cmpint(run(&t, &k, DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	if (c->id_kept)
		g_assert_cmpuint(k.p.ip.sport, ==, 77);
	else {
		g_assert_cmpuint(k.p.ip.sport, >=, 2000);
		g_assert_cmpuint(k.p.ip.sport, <=, 2099);
	}
	uint16_t port = out_udp(&t, H_ADDR, 77, S_ADDR, 53); /* UDP is bounded either way */
	g_assert_cmpuint(port, >=, 2000);
	g_assert_cmpuint(port, <=, 2099);
	nat_close(&t);
	g_free(keys);
}

static void test_linux_describe(void)
{
	struct nat_test t;
	GString *s = g_string_new(NULL);
	nat_open(&t, "external = " E_ADDR "\nprofile = linux");
	t.st->ops->describe(t.st, s);
	g_assert_nonnull(strstr(s->str, "\ntracking = conntrack\n"));
	g_assert_nonnull(strstr(s->str, "\nanswer-unsolicited = yes\n"));
	g_assert_nonnull(strstr(s->str, "\nports-icmp = no\n"));
	nat_close(&t);
	g_string_truncate(s, 0);
	nat_open(&t, "external = " E_ADDR);
	t.st->ops->describe(t.st, s);
	g_assert_nonnull(strstr(s->str, "\ntracking = natlb\n"));
	g_assert_nonnull(strstr(s->str, "\nanswer-unsolicited = no\n"));
	g_assert_nonnull(strstr(s->str, "\nports-icmp = yes\n"));
	nat_close(&t);
	g_string_free(s, TRUE);
	nat_refused("external = " E_ADDR "\ntracking = conntrack", "conntrack needs port-overlapping = yes");
	nat_refused("external = " E_ADDR "\ntracking = conntrak", "did you mean 'conntrack'");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(mapping_cases); i++)
		g_test_add_data_func(mapping_cases[i].name, &mapping_cases[i], test_mapping);
	for (unsigned i = 0; i < G_N_ELEMENTS(filter_cases); i++)
		g_test_add_data_func(filter_cases[i].name, &filter_cases[i], test_filtering);
	g_test_add_func("/napt/filtering/no-mapping-or-not-external-is-dropped", test_no_mapping);
	g_test_add_func("/napt/ports/preserved-then-sequential-on-collision", test_ports_collision);
	g_test_add_func("/napt/ports/parity-kept", test_ports_parity);
	g_test_add_func("/napt/ports/random-is-seeded", test_ports_random_seeded);
	g_test_add_func("/napt/ports/linux-keeps-the-port-class", test_ports_linux_class);
	g_test_add_func("/napt/ports/overlapping-shares-a-port-across-destinations", test_overlapping);
	for (unsigned i = 0; i < G_N_ELEMENTS(exhaustion_cases); i++)
		g_test_add_data_func(exhaustion_cases[i].name, &exhaustion_cases[i], test_exhausted_without_scan);
	g_test_add_func("/napt/ports/unowned-count-right-after-mappings-expire", test_unowned_after_expiry);
	for (unsigned i = 0; i < G_N_ELEMENTS(same_choice_cases); i++)
		g_test_add_data_func(same_choice_cases[i].name, &same_choice_cases[i], test_same_choice);
	g_test_add_func("/napt/pooling/paired-and-arbitrary", test_pooling);
	g_test_add_func("/napt/table/max-mappings-bounds-it", test_max_mappings);
	g_test_add_func("/napt/table/memory/16m-mappings-lesson-peaks-under-64mb", test_memory_follows_use);
	g_test_add_func("/napt/table/memory/tables-that-do-not-fit-exit-1", test_memory_short_is_runtime_failure);
	for (unsigned i = 0; i < G_N_ELEMENTS(timeout_cases); i++)
		g_test_add_data_func(timeout_cases[i].name, &timeout_cases[i], test_timeout);
	g_test_add_func("/napt/timeouts/inbound-refresh-setting", test_inbound_refresh);
	g_test_add_func("/napt/tcp/states-from-syn-fin-rst", test_tcp_states);
	g_test_add_func("/napt/icmp/echo-identifier-mapped-like-a-port", test_icmp_echo);
	g_test_add_func("/napt/icmp/error-inbound-translates-the-quoted-header", test_icmp_error_inbound);
	g_test_add_func("/napt/icmp/error-without-mapping-or-bad-checksum-dropped", test_icmp_error_drops);
	g_test_add_func("/napt/icmp/error-about-an-error-dropped-saying-what-it-is", test_icmp_error_about_an_error);
	g_test_add_func("/napt/fragments/in-order-follow-the-first", test_fragments_in_order);
	g_test_add_func("/napt/fragments/out-of-order-held-then-released", test_fragments_out_of_order);
	g_test_add_func("/napt/hairpin/on-translates-both-ends-off-drops", test_hairpin);
	g_test_add_func("/napt/reverse/derives-without-changing-state", test_reverse);
	g_test_add_func("/napt/table/foreach-gives-conntrack-rows", test_table_rows);
	g_test_add_func("/napt/aws/55000-per-destination-then-error-port-allocation", test_aws_per_destination);
	g_test_add_func("/napt/aws/idle-350s-then-drop-and-count", test_aws_idle);
	g_test_add_func("/napt/aws/idle-event-carries-the-time-it-went-idle", test_aws_idle_event_time);
	g_test_add_func("/napt/aws/udp-fragments-pass-tcp-fragments-drop", test_aws_fragments);
	for (unsigned i = 0; i < G_N_ELEMENTS(config_cases); i++)
		g_test_add_data_func(config_cases[i].name, &config_cases[i], test_config);
	g_test_add_func("/napt/config/describe-fills-the-profile", test_describe);
	for (unsigned i = 0; i < G_N_ELEMENTS(track_cases); i++)
		g_test_add_data_func(track_cases[i].name, &track_cases[i], test_tracking);
	for (unsigned i = 0; i < G_N_ELEMENTS(pause_cases); i++)
		g_test_add_data_func(pause_cases[i].name, &pause_cases[i], test_udp_pause);
	for (unsigned i = 0; i < G_N_ELEMENTS(unsolicited_cases); i++)
		g_test_add_data_func(unsolicited_cases[i].name, &unsolicited_cases[i], test_unsolicited);
	g_test_add_func("/napt/linux/unsolicited/local-entry-lives-30-s-then-the-host-keeps-its-port",
	                test_local_entry_expires);
	g_test_add_func("/napt/linux/unsolicited/rst-is-not-answered-and-leaves-no-entry", test_unsolicited_rst);
	g_test_add_func("/napt/linux/unsolicited/port-unreachable-quotes-up-to-548-bytes", test_unsolicited_quote);
	for (unsigned i = 0; i < G_N_ELEMENTS(timewait_cases); i++)
		g_test_add_data_func(timewait_cases[i].name, &timewait_cases[i], test_timewait);
	for (unsigned i = 0; i < G_N_ELEMENTS(icmp_ports_cases); i++)
		g_test_add_data_func(icmp_ports_cases[i].name, &icmp_ports_cases[i], test_icmp_ports);
	g_test_add_func("/napt/config/linux-describes-tracking-answers-and-icmp-ports", test_linux_describe);
	return g_test_run();
}
