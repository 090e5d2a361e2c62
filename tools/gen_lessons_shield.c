/* tools/gen_lessons_shield.c: the shield lesson capture (a SYN flood and a DNS reflection attack on an NLB's VIP) and the shield's benchmark load, built with libnet for `natlb gen`.
 *
 * Follows: RFC 9293 (TCP, through gen_tcp), RFC 4987 section 3.6 (the SYN cookies the clients
 * acknowledge, made by nat/shield_cookie.c with the scenario's default cookie-secret), RFC 1035
 * (the DNS answers of the reflection), US-CERT TA14-017A (DNS amplification: large answers from
 * open resolvers to the spoofed victim).
 *
 * The capture is taken on the internet link in front of the shield, and holds what the internet
 * sent and what the protected side answered; the SYN-ACKs the shield makes itself are not in it
 * (the replay emits them).  A client that connects while the shield answers with cookies
 * acknowledges the cookie, as a real client of the shield would: so the capture depends on the
 * cookie-secret (scenarios/shield-attacks.ini keeps the default) and on the time counter.
 *
 * Scenario shield-attacks (and shield-unprotected, the same chain without the shield):
 *   0.0 s      client 198.51.100.21 connects to the VIP 203.0.113.10:80, asks, gets its answer
 *   1.0-1.8 s  SYN flood: 200 SYNs from spoofed sources to the VIP (over syn-threshold = 50)
 *   1.5 s      client 198.51.100.23 connects during the flood: its ACK carries the cookie
 *   1.6 s      a forged ACK (an ACK flood's packet): no cookie of the shield's
 *   3.0-3.5 s  DNS reflection: 100 answers of 1,100 bytes from 20 open resolvers, source port 53,
 *              to the VIP, which asked nothing
 *   5.0 s      a SYN from 10.1.2.3, a private (bogon) address, arriving from the internet
 *   5.2 s      a malformed SYN from 198.51.100.77: its TCP data offset says 16 bytes, below the
 *              20 of any TCP header (an attack tool's or a broken stack's packet)
 *   7.5 s      client 198.51.100.22 connects after the attacks: forwarded as at 0 s
 */
#define _DEFAULT_SOURCE 1

#include "tools/gen_lessons_shield.h"

#include <libnet.h>
#include <string.h>

#include "nat/shield.h"

static const guint8 upstream_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const guint8 shield_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0xfd };

static const char http_get[] = "GET / HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: natlb-lesson\r\n\r\n";
static const char http_ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

#define LESSON_SECRET "natlb-shield" /* the shield's default cookie-secret */
#define FLOOD_SYNS 200
#define REFLECTED_ANSWERS 100

static void at_ms(struct gen_ctx *g, gint64 ms)
{
	gen_clock_set(g, ms * GEN_NSEC_PER_MSEC);
}

static struct gen_end vip_end(guint16 port)
{
	return gen_end_at("203.0.113.10", port, shield_mac, 64);
}

/* A connection the protected side answers itself (no flood): the whole exchange. */
static void plain_exchange(struct gen_ctx *g, const char *client, guint16 port, guint32 isn)
{
	struct gen_end c = gen_end_at(client, port, upstream_mac, 52), s = vip_end(80);
	struct gen_tcp t;

	gen_tcp_init(&t, &c, &s, isn, 0x7a000000u + isn / 7);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, http_get, sizeof http_get - 1);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, http_ok, sizeof http_ok - 1);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* A client of the shield during the flood: its SYN (answered by the shield in the replay), then
 * its ACK of the cookie, its request, the target's answer, numbered from the cookie. */
static void cookie_exchange(struct gen_ctx *g, const char *client, guint16 port, guint32 isn)
{
	struct gen_end c = gen_end_at(client, port, upstream_mac, 52), s = vip_end(80);
	struct shield_key key = shield_key_from_secret(LESSON_SECRET);
	struct shield_tuple tu = { .client = g_ntohl(c.ip), .server = g_ntohl(s.ip), .cport = port, .sport = 80 };
	struct gen_tcp t;

	gen_tcp_init(&t, &c, &s, isn, 0);
	gint64 abs_ns = GEN_START_SEC * GEN_NSEC_PER_SEC + gen_clock_now(g);
	/* The client's SYN offers MSS 1460 (gen_tcp's options): the cookie keeps that. */
	guint32 cookie = shield_cookie_make(&key, &tu, isn, shield_cookie_counter(abs_ns), shield_cookie_mss_index(1460));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	t.server_next = cookie + 1; /* what the shield's SYN-ACK made the client expect */
	gen_clock_step(g, 40 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, http_get, sizeof http_get - 1);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, http_ok, sizeof http_ok - 1);
	gen_clock_step(g, 20 * GEN_NSEC_PER_MSEC);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* splitmix64: the flood's sources and ports, the same on every run. */
static guint64 next_random(guint64 *s)
{
	guint64 z = (*s += G_GUINT64_CONSTANT(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A spoofed SYN: a source in 192.0.2.0/24 or 203.0.113.128/25 (public in natlb's lessons), never
 * answered.  Built raw so that each is a lone SYN of its own port pair. */
static void spoofed_syn(struct gen_ctx *g, guint64 *rng, guint32 dst, guint16 dport)
{
	static const guint8 mss_opt[4] = { 2, 4, 0x05, 0xb4 };
	guint64 r = next_random(rng);
	guint32 src = (r & 1) ? 0xc0000200u | (guint32)(1 + (r >> 8) % 254) : 0xcb007180u | (guint32)(1 + (r >> 8) % 126);
	struct gen_end s = { .ip = g_htonl(src), .ttl = 48 }, d = { .ip = g_htonl(dst), .ttl = 64 };
	struct libnet_context *l = gen_libnet(g);

	memcpy(s.mac, upstream_mac, 6);
	memcpy(d.mac, shield_mac, 6);
	gen_check(g, libnet_build_tcp_options(mss_opt, sizeof mss_opt, (libnet_t *)l, 0), "tcp options");
	gen_check(g, libnet_build_tcp((guint16)(1024 + (r >> 24) % 64000), dport, (guint32)(r >> 32), 0, TH_SYN, 64240, 0, 0,
	                              LIBNET_TCP_H + sizeof mss_opt, NULL, 0, (libnet_t *)l, 0),
	          "tcp");
	gen_ipv4(g, &s, &d, IPPROTO_TCP, LIBNET_TCP_H + sizeof mss_opt, (guint16)(r >> 16));
	gen_emit(g);
}

/* One DNS answer of about 1,100 bytes (a TXT record of four 250-byte strings) to a query for
 * "example.com ANY": what an open resolver sends the victim whose address the query forged. */
static void reflected_answer(struct gen_ctx *g, guint64 *rng, guint16 dport)
{
	static const guint8 question[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0xff, 0x00, 0x01 };
	guint8 msg[12 + sizeof question + 12 + 4 * 251];
	guint64 r = next_random(rng);
	gsize n = 0;
	guint32 resolver = 0xc0000235u + (guint32)(r % 20); /* 192.0.2.53 .. 192.0.2.72 */

	msg[n++] = (guint8)(r >> 40);
	msg[n++] = (guint8)(r >> 48);
	static const guint8 flags_counts[10] = { 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0 };
	memcpy(msg + n, flags_counts, sizeof flags_counts);
	n += sizeof flags_counts;
	memcpy(msg + n, question, sizeof question);
	n += sizeof question;
	/* name pointer to offset 12, TXT, IN, TTL 300, rdlength */
	guint8 rr[12] = { 0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, (4 * 251) >> 8, (4 * 251) & 0xff };
	memcpy(msg + n, rr, sizeof rr);
	n += sizeof rr;
	for (int i = 0; i < 4; i++) {
		msg[n++] = 250;
		memset(msg + n, 'a' + i, 250);
		n += 250;
	}
	struct gen_end s = gen_end_at("192.0.2.53", 53, upstream_mac, 50), d = vip_end(dport);
	s.ip = g_htonl(resolver);
	gen_udp(g, &s, &d, msg, (guint32)n, (guint16)r);
	gen_emit(g);
}

static void build_attacks(struct gen_ctx *g)
{
	guint64 rng = 13;

	at_ms(g, 0);
	plain_exchange(g, "198.51.100.21", 40021, 0x11000000u);
	for (int i = 0; i < FLOOD_SYNS; i++) {
		at_ms(g, 1000 + i * 4);
		spoofed_syn(g, &rng, 0xcb00710au, 80);
		if (i == 125) {
			at_ms(g, 1501);
			cookie_exchange(g, "198.51.100.23", 40023, 0x23000000u);
		}
		if (i == 150) {
			/* A forged ACK: any acknowledgement number, which is no cookie. */
			struct gen_end c = gen_end_at("198.51.100.66", 40066, upstream_mac, 52), s = vip_end(80);
			struct gen_tcp t;
			gen_tcp_init(&t, &c, &s, 0x66000001u, 0x0badc0deu);
			at_ms(g, 1601);
			gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
		}
	}
	for (int i = 0; i < REFLECTED_ANSWERS; i++) {
		at_ms(g, 3000 + i * 5);
		reflected_answer(g, &rng, (guint16)(20000 + i));
	}
	at_ms(g, 5000);
	{
		struct gen_end c = gen_end_at("10.1.2.3", 40003, upstream_mac, 52), s = vip_end(80);
		struct gen_tcp t;
		gen_tcp_init(&t, &c, &s, 0x10000000u, 0);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	}
	at_ms(g, 5200);
	{
		struct gen_end c = gen_end_at("198.51.100.77", 40077, upstream_mac, 52), s = vip_end(80);
		struct gen_tcp t;
		gen_tcp_init(&t, &c, &s, 0x77000000u, 0);
		gen_tcp_build(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
		/* Byte 12 of the TCP header holds the data offset in its high nibble: 8 words (0x80, the
		 * header and the SYN's 12 bytes of options) become 4 (0x40). */
		const struct gen_emit_opts malformed = { .corrupt_at = LIBNET_ETH_H + LIBNET_IPV4_H + 12,
		                                         .corrupt_xor = 0xc000 };
		gen_emit_with(g, &malformed);
	}
	at_ms(g, 7500);
	plain_exchange(g, "198.51.100.22", 40022, 0x22000000u);
}

gboolean gen_shield_attacks(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	build_attacks(g);
	return gen_ctx_finish(g, err);
}

/* ---- bench-syn-flood -------------------------------------------------------------------------
 *
 * --packets SYNs (default 2,000,000) from spoofed sources to one protected VIP, 100,000 per second
 * of capture time: far over any syn-threshold, so the shield answers nearly all of them with
 * cookies.  One template, patched per packet (source, port, ISN), checksums recomputed by libnet's
 * rules: the generator must not be what the bench measures, so it writes from a buffer. */
gboolean gen_bench_syn_flood(const char *path, const struct gen_options *opt, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	guint64 rng = opt->seed;

	if (!g)
		return FALSE;
	for (guint64 i = 0; i < opt->packets && gen_ok(g); i++) {
		gen_clock_set(g, (gint64)i * 10000);
		spoofed_syn(g, &rng, 0xcb00710au, 80);
	}
	return gen_ctx_finish(g, err);
}
