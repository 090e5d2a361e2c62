/* tests/test_shield.c: the shield stage driven through its ops table: SYN cookies, the SYN threshold, reflection, bogons, the rate-based rule, detection, settings.
 *
 * Follows RFC 4987 section 3.6 (a cookie is good only for its connection, its client ISN and a
 * short time), US-CERT TA14-017A (the reflector ports), RFC 6890 (bogons) and the AWS WAF
 * rate-based rule (over the limit within the window: blocked).  Frames are built by hand with
 * every checksum computed from scratch, as exact-size arrays, so ASan sees an over-read.
 */
#include "common/checksum.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "nat/shield.h"
#include "tests/testemit.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#include <pcap/dlt.h>
#include <string.h>

#define NS G_GINT64_CONSTANT(1000000000)
#define T0 (G_GINT64_CONSTANT(1767225600) * NS) /* 2026-01-01: the counter is far from zero */
#define VIP 0xcb00710au                         /* 203.0.113.10 */
#define CLIENT 0xc6336415u                      /* 198.51.100.21 */

#define SCENARIO(keys)                                                                              \
	"[scenario]\nchain = internet > guard > edge\ncapture = internet\n[link internet]\n"           \
	"[link edge]\nnetworks = 203.0.113.0/28\n[stage guard]\ntype = shield\nprotect = 203.0.113.10\n" keys

/* ---- frames ---- */

#define TCP_FRAME_LEN (14 + 20 + 24)

/* Ethernet + IPv4 + TCP with an MSS option (4 bytes), checksums right. */
static void tcp_frame(uint8_t f[TCP_FRAME_LEN], uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                      uint32_t seq, uint32_t ack, uint8_t flags, uint16_t mss)
{
	static const uint8_t head[14] = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 5, 0x08, 0x00 };
	memset(f, 0, TCP_FRAME_LEN);
	memcpy(f, head, sizeof head);
	uint8_t *ip = f + 14, *tcp = ip + 20;
	ip[0] = 0x45;
	test_put16(ip, 2, 44);
	test_put16(ip, 4, 0x1234);
	ip[8] = 64;
	ip[9] = 6;
	test_put32(ip, 12, src);
	test_put32(ip, 16, dst);
	test_put16(ip, 10, csum_fold(csum_partial(ip, 20, 0)));
	test_put16(tcp, 0, sport);
	test_put16(tcp, 2, dport);
	test_put32(tcp, 4, seq);
	test_put32(tcp, 8, ack);
	tcp[12] = 6 << 4;
	tcp[13] = flags;
	test_put16(tcp, 14, 64240);
	tcp[20] = 2;
	tcp[21] = 4;
	test_put16(tcp, 22, mss);
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	pseudo[11] = 24;
	test_put16(tcp, 16, csum_fold(csum_partial(tcp, 24, csum_partial(pseudo, sizeof pseudo, 0))));
}

struct frame {
	uint8_t bytes[TCP_FRAME_LEN];
	struct packet p;
};

static struct packet *decoded_as(struct frame *fr, uint32_t len, int64_t ts, enum decode_status want)
{
	memset(&fr->p, 0, sizeof fr->p);
	fr->p.data = fr->bytes;
	fr->p.capacity = sizeof fr->bytes;
	fr->p.caplen = fr->p.wirelen = len;
	fr->p.linktype = DLT_EN10MB;
	fr->p.ts_ns = ts;
	g_assert_cmpint(decode_packet(&fr->p), ==, want);
	return &fr->p;
}

static struct packet *decoded(struct frame *fr, uint32_t len, int64_t ts)
{
	return decoded_as(fr, len, ts, DECODE_OK);
}

static struct packet *tcp_packet(struct frame *fr, uint32_t src, uint16_t sport, uint32_t seq, uint32_t ack,
                                 uint8_t flags, int64_t ts)
{
	tcp_frame(fr->bytes, src, VIP, sport, 80, seq, ack, flags, 1460);
	return decoded(fr, TCP_FRAME_LEN, ts);
}

static struct packet *udp_packet(struct frame *fr, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                 int64_t ts)
{
	test_udp_frame(fr->bytes, src, dst, sport, dport);
	return decoded(fr, 46, ts);
}

/* ---- the stage ---- */

struct fixture {
	struct scenario *sc;
	struct stage *st;
	struct stage_ctx ctx;
	struct test_emitter em;
};

static void fixture_open(struct fixture *f, const char *text)
{
	GError *err = NULL;
	f->sc = scenario_load_data(natlb_stage_types(), "test", text, &err);
	g_assert_no_error(err);
	f->st = f->sc->stages[0];
	g_assert_cmpstr(f->st->ops->type, ==, "shield");
	memset(&f->ctx, 0, sizeof f->ctx);
	test_emitter_init(&f->em);
	f->ctx.note = g_string_new(NULL);
	f->ctx.emitter = &f->em.em;
	f->ctx.stage = f->st;
	f->ctx.linktype = DLT_EN10MB;
}

static void fixture_close(struct fixture *f)
{
	g_string_free(f->ctx.note, TRUE);
	scenario_free(f->sc);
}

static enum verdict run(struct fixture *f, struct packet *p, enum hop_dir dir)
{
	g_string_truncate(f->ctx.note, 0);
	f->ctx.drop = DROP_NONE;
	f->ctx.now_ns = p->ts_ns;
	return f->st->ops->process(f->st, p, dir, &f->ctx);
}

static enum verdict syn(struct fixture *f, uint32_t src, uint16_t sport, uint32_t isn, int64_t ts)
{
	struct frame fr;
	return run(f, tcp_packet(&fr, src, sport, isn, 0, 0x02, ts), DIR_LEFT_TO_RIGHT);
}

/* n SYNs from distinct spoofed sources within the second starting at ts. */
static void flood(struct fixture *f, unsigned n, int64_t ts)
{
	for (unsigned i = 0; i < n; i++)
		syn(f, 0xc0000200u + (i % 250) + 1, (uint16_t)(1024 + i), i * 7919u, ts + (int64_t)i * 1000);
}

/* ---- cookies ---- */

static const struct shield_tuple tuple = { .client = CLIENT, .server = VIP, .cport = 40000, .sport = 80 };

static void test_cookie_valid_within_its_lifetime(void)
{
	struct shield_key k = shield_key_from_secret("lesson");
	struct shield_cookie_info info;
	uint32_t c = shield_cookie_make(&k, &tuple, 1000, 500, shield_cookie_mss_index(1460));

	for (uint32_t later = 0; later <= SHIELD_COOKIE_MAX_AGE; later++) {
		g_assert_cmpint(shield_cookie_check(&k, &tuple, 1000, c, 500 + later, &info), ==, SHIELD_COOKIE_OK);
		g_assert_cmpuint(info.mss, ==, 1460);
		g_assert_cmpuint(info.age, ==, later);
	}
}

static void test_cookie_expired_after_its_lifetime(void)
{
	struct shield_key k = shield_key_from_secret("lesson");
	struct shield_cookie_info info;
	uint32_t c = shield_cookie_make(&k, &tuple, 1000, 500, 3);

	g_assert_cmpint(shield_cookie_check(&k, &tuple, 1000, c, 500 + SHIELD_COOKIE_MAX_AGE + 1, &info), ==,
	                SHIELD_COOKIE_TOO_OLD);
	g_assert_cmpint(shield_cookie_check(&k, &tuple, 1000, c, 531, &info), ==, SHIELD_COOKIE_TOO_OLD);
	/* 32 counters later the five bits wrap round: the hash, made for another counter, fails */
	g_assert_cmpint(shield_cookie_check(&k, &tuple, 1000, c, 532, &info), ==, SHIELD_COOKIE_BAD);
	/* and a cookie "from the future" is no cookie */
	g_assert_cmpint(shield_cookie_check(&k, &tuple, 1000, c, 499, &info), ==, SHIELD_COOKIE_BAD);
}

static const struct bad_cookie_case {
	const char *name;
	struct shield_tuple t;
	uint32_t isn, flip;
	const char *secret;
} bad_cookie_cases[] = {
	{ .name = "another-client-port", .t = { CLIENT, VIP, 40001, 80 }, .isn = 1000, .secret = "lesson" },
	{ .name = "another-client", .t = { CLIENT + 1, VIP, 40000, 80 }, .isn = 1000, .secret = "lesson" },
	{ .name = "another-server-port", .t = { CLIENT, VIP, 40000, 443 }, .isn = 1000, .secret = "lesson" },
	{ .name = "another-client-isn", .t = { CLIENT, VIP, 40000, 80 }, .isn = 1001, .secret = "lesson" },
	{ .name = "another-secret", .t = { CLIENT, VIP, 40000, 80 }, .isn = 1000, .secret = "lesson2" },
	{ .name = "hash-bit-flipped", .t = { CLIENT, VIP, 40000, 80 }, .isn = 1000, .flip = 1, .secret = "lesson" },
	{ .name = "mss-index-changed", .t = { CLIENT, VIP, 40000, 80 }, .isn = 1000, .flip = 1u << 24, .secret = "lesson" },
};

static void test_cookie_bad(gconstpointer data)
{
	const struct bad_cookie_case *c = data;
	struct shield_key made = shield_key_from_secret("lesson"), checked = shield_key_from_secret(c->secret);
	struct shield_cookie_info info;
	uint32_t cookie = shield_cookie_make(&made, &tuple, 1000, 500, 5) ^ c->flip;

	g_assert_cmpint(shield_cookie_check(&checked, &c->t, c->isn, cookie, 500, &info), ==, SHIELD_COOKIE_BAD);
}

static void test_cookie_mss_rounds_down(void)
{
	static const struct {
		uint16_t offered, kept;
	} rows[] = { { 100, 536 }, { 536, 536 }, { 1459, 1440 }, { 1460, 1460 }, { 9000, 8960 }, { 1380, 1300 } };
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++)
		g_assert_cmpuint(shield_cookie_mss(shield_cookie_mss_index(rows[i].offered)), ==, rows[i].kept);
}

/* ---- the SYN threshold and the handshake ---- */

static void test_syn_threshold_just_below_forwards_all(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("syn-threshold = 50\n"));
	for (unsigned i = 0; i < 50; i++)
		g_assert_cmpint(syn(&f, 0xc0000201u + i, (uint16_t)(2000 + i), i, T0 + i * 1000), ==, VERDICT_FORWARD);
	g_assert_cmpuint(f.em.n, ==, 0);
	fixture_close(&f);
}

static void test_syn_threshold_just_above_answers_with_cookie(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("syn-threshold = 50\ncookie-secret = lesson\n"));
	flood(&f, 50, T0);
	g_assert_cmpint(syn(&f, CLIENT, 40000, 1000, T0 + 900000), ==, VERDICT_CONSUMED);
	g_assert_true(strstr(f.ctx.note->str, "ATTACK STARTED") != NULL);
	g_assert_cmpuint(f.em.n, ==, 1);

	/* The SYN-ACK: from the VIP to the client, towards the internet, ISN = the cookie, ack = ISN + 1. */
	struct packet sa = { .data = f.em.bytes, .capacity = sizeof f.em.bytes, .caplen = f.em.last.len,
		             .wirelen = f.em.last.len, .linktype = DLT_EN10MB };
	g_assert_cmpint(decode_packet(&sa), ==, DECODE_OK);
	g_assert_cmpint(f.em.last.side, ==, SIDE_LEFT);
	g_assert_cmpint(f.em.last.dir, ==, DIR_RIGHT_TO_LEFT);
	g_assert_cmphex(sa.ip.src, ==, VIP);
	g_assert_cmphex(sa.ip.dst, ==, CLIENT);
	g_assert_cmphex(sa.ip.tcp_flags, ==, 0x12);
	uint32_t cookie = test_get32(f.em.bytes, sa.ip.l4_off + 4);
	g_assert_cmpuint(test_get32(f.em.bytes, sa.ip.l4_off + 8), ==, 1001);
	struct shield_key k = shield_key_from_secret("lesson");
	g_assert_cmphex(cookie, ==, shield_cookie_make(&k, &tuple, 1000, shield_cookie_counter(T0 + 900000), 5));
	g_assert_cmpuint(shield_tcp_mss(&sa), ==, 1460);
	/* TCP checksum right from scratch */
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, f.em.bytes + sa.ip.off + 12, 8);
	pseudo[9] = 6;
	test_put16(pseudo, 10, (uint16_t)(sa.ip.total_len - 20));
	g_assert_cmphex(csum_fold(csum_partial(f.em.bytes + sa.ip.l4_off, sa.ip.total_len - 20u,
	                                       csum_partial(pseudo, 12, 0))), ==, 0);
	fixture_close(&f);
}

/* A flood at T0, then the client of the tuple answers a cookie made at made_ns with ack_delta added. */
static enum verdict ack_after_flood(struct fixture *f, int64_t made_ns, int64_t ack_ns, uint32_t ack_delta)
{
	struct shield_key k = shield_key_from_secret("lesson");
	struct frame fr;
	flood(f, 60, ack_ns - NS / 2);
	uint32_t cookie = shield_cookie_make(&k, &tuple, 1000, shield_cookie_counter(made_ns), 5);
	f->em.n = 0;
	return run(f, tcp_packet(&fr, CLIENT, 40000, 1001, cookie + 1 + ack_delta, 0x10, ack_ns), DIR_LEFT_TO_RIGHT);
}

static void test_good_cookie_admits_the_connection(void)
{
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO("syn-threshold = 50\ncookie-secret = lesson\n"));
	g_assert_cmpint(ack_after_flood(&f, T0 + 10 * NS, T0 + 10 * NS, 0), ==, VERDICT_CONSUMED);
	g_assert_cmpuint(f.em.n, ==, 2); /* the client's SYN, then its ACK, onto the protected side */
	g_assert_cmpint(f.em.last.side, ==, SIDE_RIGHT);
	g_assert_true(strstr(f.ctx.note->str, "good SYN cookie") != NULL);
	/* the connection's data now passes */
	g_assert_cmpint(run(&f, tcp_packet(&fr, CLIENT, 40000, 1001, 5, 0x18, T0 + 10 * NS + 1000), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_FORWARD);
	fixture_close(&f);
}

static void test_bad_cookie_dropped_during_flood(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("syn-threshold = 50\ncookie-secret = lesson\n"));
	g_assert_cmpint(ack_after_flood(&f, T0 + 10 * NS, T0 + 10 * NS, 1), ==, VERDICT_DROP);
	g_assert_cmpuint(f.ctx.drop, ==, DROP_SHIELD_COOKIE_INVALID);
	g_assert_cmpuint(f.em.n, ==, 0);
	fixture_close(&f);
}

static void test_expired_cookie_dropped(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("syn-threshold = 50\ncookie-secret = lesson\n"));
	int64_t made = T0 + 10 * NS;
	g_assert_cmpint(ack_after_flood(&f, made, made + (SHIELD_COOKIE_MAX_AGE + 1) * SHIELD_COOKIE_PERIOD_NS, 0), ==,
	                VERDICT_DROP);
	g_assert_cmpuint(f.ctx.drop, ==, DROP_SHIELD_COOKIE_EXPIRED);
	fixture_close(&f);
}

static void test_cookies_off_after_a_quiet_second(void)
{
	struct fixture f;
	GString *stats = g_string_new(NULL);
	fixture_open(&f, SCENARIO("syn-threshold = 50\n"));
	flood(&f, 80, T0);
	/* the next second passes the threshold too: cookies stay on */
	flood(&f, 51, T0 + NS);
	g_assert_cmpint(syn(&f, CLIENT, 40000, 1, T0 + NS + 999000000), ==, VERDICT_CONSUMED);
	/* a second under the threshold, then one SYN: forwarded, and the flood is over */
	flood(&f, 10, T0 + 2 * NS);
	g_assert_cmpint(syn(&f, CLIENT, 40001, 1, T0 + 3 * NS), ==, VERDICT_FORWARD);
	g_assert_true(strstr(f.ctx.note->str, "ATTACK ENDED at") != NULL);
	f.st->ops->stats_print(f.st, stats);
	g_test_message("%s", stats->str);
	g_assert_true(strstr(stats->str, "SYN flood on 203.0.113.10: started 0.000 s, ended 2.000 s") != NULL);
	/* second 1: 51 SYNs and the client's, all answered with cookies (second 0 passed the threshold) */
	g_assert_true(strstr(stats->str, "DDoSAttackPacketsPerSecond = 52,") != NULL);
	g_string_free(stats, TRUE);
	fixture_close(&f);
}

/* A SYN cookie keeps no state: a million SYNs leave only the threshold's connections. */
static void test_flood_leaves_no_state(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("syn-threshold = 100\nmax-connections = 1024\n"));
	for (unsigned i = 0; i < 1000000; i++)
		syn(&f, 0x01000000u + i * 2654435761u % 0x7f000000u, (uint16_t)(1024 + i % 60000), i,
		    T0 + (int64_t)i * 100000);
	const struct shield *sh = f.st->priv;
	unsigned used = 0;
	for (uint32_t i = 0; i < sh->max_connections; i++)
		used += sh->conns[i].last_ns != 0;
	g_assert_cmpuint(used, <=, 100);
	/* only the first second's 100 went on: every later second follows one over the threshold */
	g_assert_cmpuint(sh->syns_forwarded, ==, 100);
	g_assert_cmpuint(sh->cookies_sent, >, 900000); /* the rest, less the bogon sources among them */
	fixture_close(&f);
}

/* ---- reflection ---- */

static const struct reflector_case {
	const char *name;
	uint16_t port;
	unsigned drop;
} reflector_cases[] = {
	{ "dns", 53, DROP_SHIELD_REFLECT_DNS },           { "ntp", 123, DROP_SHIELD_REFLECT_NTP },
	{ "ssdp", 1900, DROP_SHIELD_REFLECT_SSDP },       { "memcached", 11211, DROP_SHIELD_REFLECT_MEMCACHED },
	{ "chargen", 19, DROP_SHIELD_REFLECT_CHARGEN },   { "cldap", 389, DROP_SHIELD_REFLECT_CLDAP },
};

static void test_reflection_unsolicited_dropped(gconstpointer data)
{
	const struct reflector_case *c = data;
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO(""));
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP, c->port, 33000, T0), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_DROP);
	g_assert_cmpuint(f.ctx.drop, ==, c->drop);
	fixture_close(&f);
}

static void test_reflection_answer_to_a_request_passes(gconstpointer data)
{
	const struct reflector_case *c = data;
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO("reflection-window = 10s\n"));
	/* the protected address asks */
	g_assert_cmpint(run(&f, udp_packet(&fr, VIP, 0xc0000235u, 33000, c->port, T0), DIR_RIGHT_TO_LEFT), ==,
	                VERDICT_FORWARD);
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP, c->port, 33000, T0 + 10 * NS), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_FORWARD);
	/* another resolver, another port, or after the window: unsolicited */
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000236u, VIP, c->port, 33000, T0 + NS), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_DROP);
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP, c->port, 33001, T0 + NS), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_DROP);
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP, c->port, 33000, T0 + 10 * NS + 1), DIR_LEFT_TO_RIGHT),
	                ==, VERDICT_DROP);
	g_assert_cmpuint(f.ctx.drop, ==, c->drop);
	fixture_close(&f);
}

static void test_reflection_other_ports_and_addresses_pass(void)
{
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO(""));
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP, 54, 33000, T0), DIR_LEFT_TO_RIGHT), ==, VERDICT_FORWARD);
	g_assert_cmpint(run(&f, udp_packet(&fr, 0xc0000235u, VIP + 1, 53, 33000, T0), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_FORWARD);
	fixture_close(&f);
}

/* ---- what the shield says about a packet it lets through ---- */

/* Each packet the shield forwards carries its reason, so that the protected side's view is not a
 * bare "flow #N" (one case per forwarding path of nat/shield.c). */
static const struct pass_case {
	const char *name;
	uint32_t src, dst;
	uint16_t sport, dport;
	bool tcp_after_syn;  /* a TCP ACK on a connection whose SYN the shield forwarded, else UDP */
	enum hop_dir dir;
	const char *note;
} pass_cases[] = {
	{ "udp-from-a-port-no-reflector-uses", CLIENT, VIP, 54, 33000, false, DIR_LEFT_TO_RIGHT,
	  "passed: UDP from a port no reflector answers from" },
	{ "udp-to-an-address-it-does-not-protect", CLIENT, VIP + 1, 53, 33000, false, DIR_LEFT_TO_RIGHT,
	  "passed: not to an address it protects" },
	{ "tcp-on-a-connection-it-let-through", CLIENT, VIP, 40000, 80, true, DIR_LEFT_TO_RIGHT,
	  "passed: a connection the shield already let through" },
	{ "udp-from-the-protected-side", VIP, CLIENT, 33000, 54, false, DIR_RIGHT_TO_LEFT,
	  "passed: from the protected side, nothing to check" },
	{ "udp-from-an-address-it-does-not-protect", VIP + 1, CLIENT, 33000, 54, false, DIR_RIGHT_TO_LEFT,
	  "passed: not from an address it protects" },
};

static void test_forwarded_packet_says_why(gconstpointer data)
{
	const struct pass_case *c = data;
	struct fixture f;
	struct frame fr;
	struct packet *p;

	fixture_open(&f, SCENARIO(""));
	if (c->tcp_after_syn) {
		g_assert_cmpint(syn(&f, c->src, c->sport, 1000, T0), ==, VERDICT_FORWARD);
		p = tcp_packet(&fr, c->src, c->sport, 1001, 5001, 0x10, T0 + 1000000);
	} else {
		p = udp_packet(&fr, c->src, c->dst, c->sport, c->dport, T0);
	}
	g_assert_cmpint(run(&f, p, c->dir), ==, VERDICT_FORWARD);
	g_assert_cmpstr(f.ctx.note->str, ==, c->note);
	fixture_close(&f);
}

/* ---- bogons ---- */

static const struct bogon_case {
	const char *name;
	uint32_t src;
	bool dropped;
} bogon_cases[] = {
	{ "rfc1918-10", 0x0a010203u, true },        { "rfc1918-192.168", 0xc0a80001u, true },
	{ "shared-100.64", 0x64400001u, true },     { "loopback", 0x7f000001u, true },
	{ "this-network-0", 0x00000001u, true },    { "reserved-240", 0xf0000001u, true },
	{ "documentation-198.51.100", CLIENT, false }, { "public-8.8.8.8", 0x08080808u, false },
};

static void test_bogon(gconstpointer data)
{
	const struct bogon_case *c = data;
	struct fixture f;
	fixture_open(&f, SCENARIO(""));
	enum verdict v = syn(&f, c->src, 40000, 1, T0);
	g_assert_cmpint(v, ==, c->dropped ? VERDICT_DROP : VERDICT_FORWARD);
	if (c->dropped)
		g_assert_cmpuint(f.ctx.drop, ==, DROP_SHIELD_BOGON_SOURCE);
	fixture_close(&f);
}

static void test_bogons_none_lets_them_in(void)
{
	struct fixture f;
	fixture_open(&f, SCENARIO("bogons = none\n"));
	g_assert_cmpint(syn(&f, 0x0a010203u, 40000, 1, T0), ==, VERDICT_FORWARD);
	fixture_close(&f);
}

/* ---- malformed packets ---- */

/* A SYN whose TCP data offset is 4 words, below the header's 5: decode calls it invalid. */
static struct packet *malformed_syn(struct frame *fr, uint32_t src, uint32_t dst)
{
	tcp_frame(fr->bytes, src, dst, 40077, 80, 1, 0, 0x02 /* SYN */, 1460);
	fr->bytes[14 + 20 + 12] = 4 << 4;
	return decoded_as(fr, TCP_FRAME_LEN, T0, DECODE_INVALID);
}

static const struct malformed_case {
	const char *name;
	uint32_t src, dst;
	enum hop_dir dir;
	enum verdict want;
	const char *note; /* what the stage says, in part */
} malformed_cases[] = {
	{ "to-a-protected-address-dropped", CLIENT, VIP, DIR_LEFT_TO_RIGHT, VERDICT_DROP, "to 203.0.113.10, from the internet" },
	{ "to-another-address-passes", CLIENT, 0xcb00710bu, DIR_LEFT_TO_RIGHT, VERDICT_FORWARD, "not to an address it protects" },
	{ "from-the-protected-side-passes", VIP, CLIENT, DIR_RIGHT_TO_LEFT, VERDICT_FORWARD, "from the protected side" },
};

static void test_malformed(gconstpointer data)
{
	const struct malformed_case *c = data;
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO(""));
	g_assert_true(f.st->ops->filters_invalid); /* else the loop would never hand it one */
	g_assert_cmpint(run(&f, malformed_syn(&fr, c->src, c->dst), c->dir), ==, c->want);
	if (c->want == VERDICT_DROP)
		g_assert_cmpuint(f.ctx.drop, ==, DROP_SHIELD_MALFORMED);
	g_assert_nonnull(strstr(f.ctx.note->str, c->note));
	fixture_close(&f);
}

/* ---- the rate-based rule ---- */

static void test_rate_limit_boundary(void)
{
	struct fixture f;
	struct frame fr;
	fixture_open(&f, SCENARIO("rate-limit = 10/1m\n"));
	for (unsigned i = 0; i < 10; i++)
		g_assert_cmpint(syn(&f, CLIENT, (uint16_t)(40000 + i), i, T0 + i * NS), ==, VERDICT_FORWARD);
	g_assert_cmpint(syn(&f, CLIENT, 40010, 10, T0 + 10 * NS), ==, VERDICT_DROP);
	g_assert_cmpuint(f.ctx.drop, ==, DROP_SHIELD_RATE_LIMITED);
	/* another source has its own count; a connection's data is not a request */
	g_assert_cmpint(syn(&f, CLIENT + 1, 40000, 1, T0 + 10 * NS), ==, VERDICT_FORWARD);
	g_assert_cmpint(run(&f, tcp_packet(&fr, CLIENT, 40000, 1, 1, 0x10, T0 + 11 * NS), DIR_LEFT_TO_RIGHT), ==,
	                VERDICT_FORWARD);
	/* a minute after the first requests, the window has let them go */
	g_assert_cmpint(syn(&f, CLIENT, 40020, 20, T0 + 62 * NS), ==, VERDICT_FORWARD);
	fixture_close(&f);
}

/* ---- settings ---- */

static const struct config_case {
	const char *name, *keys, *message;
} config_cases[] = {
	{ "protect-missing", "", "protect" },
	{ "syn-threshold-zero", "syn-threshold = 0\n", "syn-threshold" },
	{ "rate-limit-below-ten", "rate-limit = 5/5m\n", "rate-limit" },
	{ "rate-limit-window-not-waf", "rate-limit = 2000/3m\n", "1m, 2m, 5m or 10m" },
	{ "rate-limit-no-window", "rate-limit = 2000\n", "LIMIT/WINDOW" },
	{ "max-connections-not-power-of-two", "max-connections = 1000\n", "power of two" },
	{ "bogons-bad-prefix", "bogons = 10.0.0.0/33\n", "bogons" },
	{ "empty-secret", "cookie-secret =\n", "cookie-secret" },
	{ "unknown-key", "syn-treshold = 5\n", "syn-threshold" },
};

static void test_config_error(gconstpointer data)
{
	const struct config_case *c = data;
	GError *err = NULL;
	char *text = c->keys == config_cases[0].keys
	                     ? g_strdup("[scenario]\nchain = internet > guard > edge\n[link internet]\n[link edge]\n"
	                                "networks = 203.0.113.0/28\n[stage guard]\ntype = shield\n")
	                     : g_strdup_printf(SCENARIO("%s"), c->keys);
	g_assert_null(scenario_load_data(natlb_stage_types(), "test.ini", text, &err));
	g_assert_nonnull(err);
	g_test_message("%s", err->message);
	g_assert_true(strstr(err->message, c->message) != NULL);
	g_assert_true(strstr(err->message, "[stage guard]") != NULL);
	g_error_free(err);
	g_free(text);
}

/* ---- the rate-based rule as an ALB's web ACL ---- */

#define WAF_STAGES                                                                                   \
	"[stage guard]\ntype = shield\nprotect = 203.0.113.10\nrate-limit = 10/1m\n"                  \
	"[stage alb]\ntype = l7-lb\nlisten = 203.0.113.10:80\naddress = 10.0.1.2\ndefault = forward web\n" \
	"target-group.web = 10.0.1.21:8080\n"

static const struct web_acl_case {
	const char *name, *text;
	bool judged; /* the l7-lb asks the shield about its requests */
} web_acl_cases[] = {
	{ "right-in-front-of-an-l7-lb-judges-its-requests",
	  "[scenario]\nchain = internet > guard > edge > alb > app\n[link internet]\n[link edge]\n[link app]\n" WAF_STAGES,
	  true },
	/* in front of an NLB the shield protects the NLB's VIP: packets are counted there */
	{ "in-front-of-an-nlb-before-the-l7-lb-does-not",
	  "[scenario]\nchain = internet > guard > edge > nlb > mid > alb > app\n[link internet]\n[link edge]\n"
	  "[link mid]\n[link app]\n[stage nlb]\ntype = l4-lb\nlisten = 203.0.113.20:80\ntargets = 203.0.113.10:80\n"
	  WAF_STAGES, false },
};

static void test_web_acl_link(gconstpointer data)
{
	const struct web_acl_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test", c->text, &err);
	g_assert_no_error(err);
	const struct stage *guard = sc->stages[0], *alb = sc->stages[sc->n_stages - 1];
	g_assert_cmpstr(alb->ops->type, ==, "l7-lb");
	g_assert_true(alb->web_acl == (c->judged ? guard : NULL));
	g_assert_cmpint(guard->judges_http, ==, c->judged);
	scenario_free(sc);
}

static void test_describe_prints_every_default(void)
{
	struct fixture f;
	GString *out = g_string_new(NULL);
	fixture_open(&f, SCENARIO(""));
	f.st->ops->describe(f.st, out);
	for (const char *const *k = f.st->ops->keys; *k; k++) {
		char *line = g_strdup_printf("\n%s = ", *k);
		g_assert_true(strstr(out->str, line) != NULL || g_str_has_prefix(out->str, line + 1));
		g_free(line);
	}
	g_assert_true(strstr(out->str, "syn-threshold = 1000\n") != NULL);
	g_assert_true(strstr(out->str, "rate-limit = none\n") != NULL);
	g_string_free(out, TRUE);
	fixture_close(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/shield/cookie/valid-in-its-counter-and-the-next", test_cookie_valid_within_its_lifetime);
	g_test_add_func("/shield/cookie/expired-after-its-lifetime", test_cookie_expired_after_its_lifetime);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_cookie_cases); i++) {
		char *p = g_strdup_printf("/shield/cookie/bad/%s", bad_cookie_cases[i].name);
		g_test_add_data_func(p, &bad_cookie_cases[i], test_cookie_bad);
		g_free(p);
	}
	g_test_add_func("/shield/cookie/mss-rounds-down-to-the-table", test_cookie_mss_rounds_down);
	g_test_add_func("/shield/syn/threshold-just-below-forwards-every-syn", test_syn_threshold_just_below_forwards_all);
	g_test_add_func("/shield/syn/threshold-just-above-answers-with-a-cookie",
	                test_syn_threshold_just_above_answers_with_cookie);
	g_test_add_func("/shield/syn/good-cookie-admits-the-connection", test_good_cookie_admits_the_connection);
	g_test_add_func("/shield/syn/bad-cookie-dropped-during-a-flood", test_bad_cookie_dropped_during_flood);
	g_test_add_func("/shield/syn/expired-cookie-dropped", test_expired_cookie_dropped);
	g_test_add_func("/shield/syn/cookies-off-after-a-quiet-second", test_cookies_off_after_a_quiet_second);
	g_test_add_func("/shield/syn/a-million-syns-leave-no-state", test_flood_leaves_no_state);
	for (unsigned i = 0; i < G_N_ELEMENTS(pass_cases); i++) {
		char *p = g_strdup_printf("/shield/pass/%s-says-why", pass_cases[i].name);
		g_test_add_data_func(p, &pass_cases[i], test_forwarded_packet_says_why);
		g_free(p);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(reflector_cases); i++) {
		char *p = g_strdup_printf("/shield/reflection/%s/unsolicited-dropped", reflector_cases[i].name);
		g_test_add_data_func(p, &reflector_cases[i], test_reflection_unsolicited_dropped);
		g_free(p);
		p = g_strdup_printf("/shield/reflection/%s/answer-to-a-request-passes-within-the-window",
		                    reflector_cases[i].name);
		g_test_add_data_func(p, &reflector_cases[i], test_reflection_answer_to_a_request_passes);
		g_free(p);
	}
	g_test_add_func("/shield/reflection/other-ports-and-addresses-pass", test_reflection_other_ports_and_addresses_pass);
	for (unsigned i = 0; i < G_N_ELEMENTS(bogon_cases); i++) {
		char *p = g_strdup_printf("/shield/bogon/%s", bogon_cases[i].name);
		g_test_add_data_func(p, &bogon_cases[i], test_bogon);
		g_free(p);
	}
	g_test_add_func("/shield/bogon/none-lets-them-in", test_bogons_none_lets_them_in);
	for (unsigned i = 0; i < G_N_ELEMENTS(malformed_cases); i++) {
		char *p = g_strdup_printf("/shield/malformed/%s", malformed_cases[i].name);
		g_test_add_data_func(p, &malformed_cases[i], test_malformed);
		g_free(p);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(web_acl_cases); i++) {
		char *p = g_strdup_printf("/shield/web-acl/%s", web_acl_cases[i].name);
		g_test_add_data_func(p, &web_acl_cases[i], test_web_acl_link);
		g_free(p);
	}
	g_test_add_func("/shield/rate-limit/ten-pass-the-eleventh-is-dropped-then-the-window-slides",
	                test_rate_limit_boundary);
	for (unsigned i = 0; i < G_N_ELEMENTS(config_cases); i++) {
		char *p = g_strdup_printf("/shield/config/%s", config_cases[i].name);
		g_test_add_data_func(p, &config_cases[i], test_config_error);
		g_free(p);
	}
	g_test_add_func("/shield/describe/prints-every-default", test_describe_prints_every_default);
	return g_test_run();
}
