/* tools/gen_lessons_napt.c: the NAPT lesson captures: a home router, RFC 5780 probes, port exhaustion, hairpinning, a traceroute through two NATs.
 *
 * Follows: RFC 4787 (mapping, filtering, hairpinning), RFC 5780 section 4.3-4.4 (the probes that
 * tell NAT types apart), RFC 8489 section 5-6 (STUN Binding messages, header only), RFC 5508 (ICMP
 * errors through NAT), RFC 9293, RFC 768, RFC 792, RFC 1035 for the conversations themselves.
 *
 * Every capture is taken on the home LAN (192.168.1.0/24, router 192.168.1.1, whose MAC frames from
 * the internet carry) and shows each packet as an inside host sent or received it, as if the NAT let
 * everything through: the scenario decides what it really lets in, so one capture serves every NAT
 * type.  The replay derives the internet side.  The home traceroute starts at the second hop
 * (traceroute -f 2): the first is the router itself, which natlb's napt answers as a router does
 * (the traceroute lesson shows it); a probe leaves the LAN with TTL n and reaches hop n with TTL 1.
 *
 * Invariant: a builder's output depends only on its options; the clock starts at 2026-01-01T00:00:00Z.
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen.h"

#include <libnet.h>
#include <string.h>

gboolean gen_napt_home(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_napt_probes(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_napt_exhaustion(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_napt_hairpin(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_traceroute(const char *path, const struct gen_options *opt, GError **err);

static const guint8 home_router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };

/* A PC on the home LAN: MAC 02:00:00:00:01:xx, xx its address's last byte. */
static struct gen_end pc(const char *ip, guint16 port)
{
	static const guint8 home_prefix[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x00 };
	return gen_end_local(ip, port, home_prefix);
}

/* A host on the internet as the LAN sees it: behind the router's MAC, a dozen hops away. */
static struct gen_end far(const char *ip, guint16 port)
{
	return gen_end_at(ip, port, home_router_mac, 52);
}

static void at_ms(struct gen_ctx *g, gint64 ms)
{
	gen_clock_set(g, ms * GEN_NSEC_PER_MSEC);
}

static void udp_text(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, const char *text,
                     guint16 ip_id)
{
	gen_udp(g, src, dst, text, (guint32)strlen(text), ip_id);
	gen_emit(g);
}

/* A complete HTTP/1.1 exchange: handshake, GET, 200, FIN both ways. */
static void http_exchange(struct gen_ctx *g, const struct gen_end *client, const struct gen_end *server,
                          guint32 isn_c, guint32 isn_s, const char *host)
{
	struct gen_tcp t;
	char *req = g_strdup_printf("GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

	gen_tcp_init(&t, client, server, isn_c, isn_s);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, req, (guint32)strlen(req));
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, resp, sizeof resp - 1);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	g_free(req);
}

/* ---- napt-home --------------------------------------------------------------------------------
 *
 * Three PCs behind one address (scenario napt-home: external 203.0.113.7, port-restricted cone).
 * Teaches: NAPT shares one address by ports; a port is kept when free and changed when another PC
 * holds it; ICMP identifiers are mapped like ports; an ICMP error reaches the right PC because the
 * NAT translates the packet it quotes; an unsolicited packet is dropped by the filtering rule. */

/* RFC 1035 question for www.example.com, type A, class IN. */
static const guint8 dns_question[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	                               0x00, 0x01, 0x00, 0x01 };

static void home_dns(struct gen_ctx *g)
{
	static const guint8 answer_rr[] = { 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10,
		                            0x00, 0x04, 198, 51, 100, 80 };
	struct gen_end c = pc("192.168.1.12", 40000), s = far("198.51.100.53", 53);

	at_ms(g, 0);
	gen_dns_exchange(g, &c, &s, 0x51a1, dns_question, sizeof dns_question, answer_rr, sizeof answer_rr, 0x1001,
	                 0x2001);
}

static void home_ping(struct gen_ctx *g)
{
	struct gen_end h = pc("192.168.1.12", 0), t = far("198.51.100.1", 0);
	guint8 data[32];

	for (gsize i = 0; i < sizeof data; i++)
		data[i] = (guint8)(0x10 + i);
	at_ms(g, 1000);
	for (guint16 seq = 1; seq <= 2; seq++) {
		gen_icmp_echo(g, &h, &t, ICMP_ECHO, 0x1234, seq, data, sizeof data, 0x1100 + seq);
		gen_emit(g);
		gen_icmp_echo(g, &t, &h, ICMP_ECHOREPLY, 0x1234, seq, data, sizeof data, 0x2100 + seq);
		gen_emit(g);
	}
}

/* An ICMP error from router `from` to `to`, quoting the first 28 bytes (IP header and 8 bytes) of
 * the probe as it reached that router: the inside view, since the capture is on the LAN. */
static void icmp_error(struct gen_ctx *g, const struct gen_end *from, const struct gen_end *to, guint8 type,
                       guint8 code, const guint8 *probe_ip, guint16 ip_id)
{
	enum { QUOTE = LIBNET_IPV4_H + 8 };
	struct libnet_context *l = gen_libnet(g);

	if (type == ICMP_TIMXCEED)
		gen_check(g, libnet_build_icmpv4_timeexceed(type, code, 0, probe_ip, QUOTE, l, 0), "icmp time exceeded");
	else
		gen_check(g, libnet_build_icmpv4_unreach(type, code, 0, probe_ip, QUOTE, l, 0), "icmp unreachable");
	gen_ipv4(g, from, to, IPPROTO_ICMP, LIBNET_ICMPV4_TIMXCEED_H + QUOTE, ip_id);
	gen_emit(g);
}

/* traceroute -f 2 -q 1 198.51.100.99 from 192.168.1.11: UDP probes to 33434 and up, one socket (so
 * one source port) each, TTL 2, 3, 4; two routers answer time exceeded, the target port unreachable. */
static void home_traceroute(struct gen_ctx *g)
{
	static const char *const hops[] = { "192.0.2.1", "192.0.2.254", "198.51.100.99" };
	struct gen_end target = far("198.51.100.99", 0);
	guint8 probe[LIBNET_ETH_H + LIBNET_IPV4_H + LIBNET_UDP_H + 32];
	guint8 payload[32];

	memset(payload, 0x40, sizeof payload);
	at_ms(g, 4000);
	for (int i = 0; i < 3; i++) {
		struct gen_end src = pc("192.168.1.11", (guint16)(44001 + i)), dst = target;
		gsize len = 0;
		dst.port = (guint16)(33434 + i);
		src.ttl = (guint8)(2 + i);
		gen_udp(g, &src, &dst, payload, sizeof payload, (guint16)(0x3300 + i));
		gen_emit(g);
		/* Hop n receives the probe sent with TTL n with TTL 1 left, and quotes it so. */
		src.ttl = 1;
		gen_udp(g, &src, &dst, payload, sizeof payload, (guint16)(0x3300 + i));
		if (!gen_take(g, probe, sizeof probe, &len))
			return;
		struct gen_end router = far(hops[i], 0), to = pc("192.168.1.11", 0);
		router.ttl = (guint8)(62 - i);
		icmp_error(g, &router, &to, i < 2 ? ICMP_TIMXCEED : ICMP_UNREACH,
		           i < 2 ? ICMP_TIMXCEED_INTRANS : ICMP_UNREACH_PORT, probe + LIBNET_ETH_H, (guint16)(0x4400 + i));
	}
}

gboolean gen_napt_home(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	home_dns(g);  /* mapping #1 */
	home_ping(g); /* mapping #2 */
	/* PC1 and PC2 browse the same server from the same source port: the second cannot keep it. */
	struct gen_end pc1 = pc("192.168.1.10", 51324), pc2 = pc("192.168.1.11", 51324), web = far("198.51.100.80", 80);
	at_ms(g, 2000);
	http_exchange(g, &pc1, &web, 0x10000001, 0x20000001, "www.example.com");
	at_ms(g, 2500);
	http_exchange(g, &pc2, &web, 0x10000002, 0x20000002, "www.example.com");
	/* Someone on the internet tries PC1's port: with a real NAT this never reaches the LAN. */
	at_ms(g, 3000);
	struct gen_end scanner = far("198.51.100.9", 4444);
	struct gen_tcp knock;
	gen_tcp_init(&knock, &scanner, &pc1, 0x50000001, 0);
	gen_tcp_send(g, &knock, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	home_traceroute(g);
	return gen_ctx_finish(g, err);
}

/* ---- napt-probes --------------------------------------------------------------------------------
 *
 * RFC 5780 probes from one client (192.168.1.10:40000) to a STUN server with two addresses, A
 * 198.51.100.1 and B 198.51.100.2, each on ports 3478 and 3479.  Replayed through the four
 * classic NAT types (scenarios napt-full-cone, -restricted-cone, -port-restricted-cone,
 * -symmetric).  Teaches: mapping shows on the internet side as the source port of the requests to
 * A:3478, A:3479 and B:3478 (one port under EIM, three under APDM); filtering shows as which of
 * the responses from other addresses and ports reach the client.  The messages are bare STUN
 * Binding requests and responses (RFC 8489 header, CHANGE-REQUEST of RFC 5780 where a test
 * asks for another source), without XOR-MAPPED-ADDRESS: its value depends on the NAT, and the same
 * capture serves all four. */

static void stun(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, guint16 type, guint8 txn,
                 guint32 change, guint16 ip_id)
{
	guint8 m[20 + 8];
	guint32 len = 20;
	m[0] = (guint8)(type >> 8);
	m[1] = (guint8)type;
	m[2] = 0;
	m[3] = change ? 8 : 0;
	m[4] = 0x21; m[5] = 0x12; m[6] = 0xa4; m[7] = 0x42; /* magic cookie */
	for (int i = 0; i < 12; i++)
		m[8 + i] = (guint8)(0xa0 + txn * 16 + i); /* transaction id: same in a request and its response */
	if (change) { /* CHANGE-REQUEST (RFC 5780 7.2): 0x04 change IP, 0x02 change port */
		m[20] = 0x00; m[21] = 0x03; m[22] = 0x00; m[23] = 0x04;
		m[24] = (guint8)(change >> 24); m[25] = (guint8)(change >> 16); m[26] = (guint8)(change >> 8); m[27] = (guint8)change;
		len += 8;
	}
	gen_udp(g, src, dst, m, len, ip_id);
	gen_emit(g);
}

gboolean gen_napt_probes(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	struct gen_end c = pc("192.168.1.10", 40000);
	struct gen_end ap = far("198.51.100.1", 3478), aq = far("198.51.100.1", 3479);
	struct gen_end bp = far("198.51.100.2", 3478), bq = far("198.51.100.2", 3479);
	enum { REQ = 0x0001, RESP = 0x0101 };

	at_ms(g, 0); /* test I: to A:p, answered from A:p */
	stun(g, &c, &ap, REQ, 1, 0, 0x0101);
	stun(g, &ap, &c, RESP, 1, 0, 0x0201);
	at_ms(g, 1000); /* filtering test III: "change port": answered from A:q, never contacted */
	stun(g, &c, &ap, REQ, 2, 0x02, 0x0102);
	stun(g, &aq, &c, RESP, 2, 0, 0x0202);
	at_ms(g, 2000); /* filtering test II: "change IP and port": answered from B:q, never contacted */
	stun(g, &c, &ap, REQ, 3, 0x06, 0x0103);
	stun(g, &bq, &c, RESP, 3, 0, 0x0203);
	at_ms(g, 3000); /* mapping: to A:q (same address, other port) */
	stun(g, &c, &aq, REQ, 4, 0, 0x0104);
	stun(g, &aq, &c, RESP, 4, 0, 0x0204);
	at_ms(g, 4000); /* mapping: to B:p (other address) */
	stun(g, &c, &bp, REQ, 5, 0, 0x0105);
	stun(g, &bp, &c, RESP, 5, 0, 0x0205);
	at_ms(g, 5000); /* B:q again, now that B:p was contacted: ADF lets it in, APDF does not */
	stun(g, &c, &ap, REQ, 6, 0x06, 0x0106);
	stun(g, &bq, &c, RESP, 6, 0, 0x0206);
	return gen_ctx_finish(g, err);
}

/* ---- napt-exhaustion ----------------------------------------------------------------------------
 *
 * Six PCs open a connection to one web server through a NAT with four external ports
 * (scenario napt-exhaustion: ports = 61000-61003).  Teaches: NAPT capacity is ports; the fifth
 * and sixth SYNs find no port and are dropped with a counter and an ICMP 3/13 back (RFC 5508
 * REQ-8); the SYN retransmitted a second later fails again; once a connection closes and its
 * state times out, its port serves the next one. */
gboolean gen_napt_exhaustion(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	struct gen_end web = far("198.51.100.80", 80);
	struct gen_tcp t[6];

	if (!g)
		return FALSE;
	for (int i = 0; i < 6; i++) {
		char ip[16];
		g_snprintf(ip, sizeof ip, "192.168.1.%d", 21 + i);
		struct gen_end c = pc(ip, (guint16)(50001 + i));
		gen_tcp_init(&t[i], &c, &web, 0x30000000u + (guint32)i * 0x1000, 0x40000000u + (guint32)i * 0x1000);
		at_ms(g, 100 * i);
		gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_SYN, NULL, 0);
		if (i < 4) { /* the ones that get a port are answered */
			gen_tcp_send(g, &t[i], GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
			gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_ACK, NULL, 0);
		}
	}
	/* The unanswered SYNs are sent again after the initial RTO of one second (RFC 6298). */
	for (int i = 4; i < 6; i++) {
		at_ms(g, 100 * i + 1000);
		t[i].client_next--; /* a retransmission carries the same sequence number */
		gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	}
	/* The first PC closes its connection. */
	at_ms(g, 3000);
	gen_tcp_send(g, &t[0], GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t[0], GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t[0], GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	/* After the time-wait timeout (10 s in the scenario), the fifth PC tries once more and gets it. */
	at_ms(g, 15000);
	t[4].client_next--;
	gen_tcp_send(g, &t[4], GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t[4], GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t[4], GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	return gen_ctx_finish(g, err);
}

/* ---- napt-hairpin -------------------------------------------------------------------------------
 *
 * Two game consoles on the same LAN find each other through a rendezvous server on the internet,
 * which tells each the other's external endpoint: both are 203.0.113.7, ports 5000 and 6000
 * (scenario napt-hairpin).  Teaches: hairpinning (RFC 4787 REQ-9): a packet to the NAT's own
 * external endpoint is turned back inside with the sender's external endpoint as source; the
 * receiver's filtering still applies, so A's first packet is dropped (B never sent to A's
 * external endpoint) and passes once B has sent to A: UDP hole punching, inside one LAN. */
gboolean gen_napt_hairpin(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	struct gen_end a = pc("192.168.1.10", 6000), b = pc("192.168.1.20", 5000), s = far("198.51.100.50", 3478);
	/* As addressed by each console: the other's external endpoint, sent through the router. */
	struct gen_end b_ext = { .ip = gen_ip4("203.0.113.7"), .port = 5000 };
	struct gen_end a_ext = { .ip = gen_ip4("203.0.113.7"), .port = 6000 };
	memcpy(b_ext.mac, home_router_mac, 6);
	memcpy(a_ext.mac, home_router_mac, 6);

	at_ms(g, 0);
	udp_text(g, &b, &s, "register console-b", 0x0b01);
	udp_text(g, &s, &b, "registered: you are 203.0.113.7:5000", 0x5501);
	at_ms(g, 500);
	udp_text(g, &a, &s, "register console-a; where is console-b?", 0x0a01);
	udp_text(g, &s, &a, "console-b is at 203.0.113.7:5000", 0x5502);
	udp_text(g, &s, &b, "console-a is at 203.0.113.7:6000", 0x5503);
	at_ms(g, 1000);
	udp_text(g, &a, &b_ext, "hello b (1)", 0x0a02);
	at_ms(g, 1100);
	udp_text(g, &b, &a_ext, "hello a (1)", 0x0b02);
	at_ms(g, 1200);
	udp_text(g, &a, &b_ext, "hello b (2)", 0x0a03);
	at_ms(g, 1300);
	udp_text(g, &b, &a_ext, "hello a (2)", 0x0b03);
	return gen_ctx_finish(g, err);
}

/* ---- traceroute ---------------------------------------------------------------------------------
 *
 * traceroute -q 1 -m 4 198.51.100.99 from 192.168.1.10, behind a home router (192.168.1.1, WAN
 * 100.64.0.7) and the carrier's NAT (100.64.0.1 in the RFC 6598 shared space, public 203.0.113.70):
 * scenario traceroute.  Teaches: each router decrements the TTL and answers the probe whose TTL runs
 * out at it with ICMP time exceeded (RFC 792, RFC 1812 section 5.3.1), so traceroute names every
 * hop; each router has its own MAC on each link.  The capture holds what the PC sent and what came
 * back from beyond the carrier: the two stages answer probes 1 and 2 themselves in the replay, so a
 * capture of theirs would be a second copy.  Probe 3 expires at the first internet router
 * (192.0.2.1), probe 4 reaches the target, which answers port unreachable.  Linux traceroute's UDP
 * probes: port 33434 and up, 32 data bytes 0x40 ..., one socket (one source port) each. */
gboolean gen_traceroute(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	static const char *const answering[] = { "192.0.2.1", "198.51.100.99" };
	struct gen_ctx *g = gen_ctx_open(path, err);
	guint8 probe[LIBNET_ETH_H + LIBNET_IPV4_H + LIBNET_UDP_H + 32];
	guint8 payload[32];

	if (!g)
		return FALSE;
	for (gsize i = 0; i < sizeof payload; i++)
		payload[i] = (guint8)(0x40 + i);
	for (int ttl = 1; ttl <= 4; ttl++) {
		struct gen_end src = pc("192.168.1.10", (guint16)(45000 + ttl)), dst = far("198.51.100.99", 0);
		gsize len = 0;
		at_ms(g, 10 * (ttl - 1));
		dst.port = (guint16)(33433 + ttl);
		src.ttl = (guint8)ttl;
		gen_udp(g, &src, &dst, payload, sizeof payload, (guint16)(0x5500 + ttl));
		gen_emit(g);
		if (ttl < 3)
			continue; /* the home router and the carrier NAT: the replay's stages answer these */
		/* Past the two routers of the scenario, hop 3 and the target receive it with TTL 1. */
		src.ttl = 1;
		gen_udp(g, &src, &dst, payload, sizeof payload, (guint16)(0x5500 + ttl));
		if (!gen_take(g, probe, sizeof probe, &len))
			return gen_ctx_finish(g, err);
		/* Sent with TTL 64; the target is one router further: it arrives with 61 or 62 after the
		 * scenario's two routers decremented it. */
		struct gen_end router = far(answering[ttl - 3], 0), to = pc("192.168.1.10", 0);
		router.ttl = (guint8)(ttl == 3 ? 62 : 61);
		at_ms(g, 10 * (ttl - 1) + 5);
		icmp_error(g, &router, &to, ttl == 3 ? ICMP_TIMXCEED : ICMP_UNREACH,
		           ttl == 3 ? ICMP_TIMXCEED_INTRANS : ICMP_UNREACH_PORT, probe + LIBNET_ETH_H, (guint16)(0x6600 + ttl));
	}
	return gen_ctx_finish(g, err);
}
