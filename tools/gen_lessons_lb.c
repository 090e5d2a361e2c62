/* tools/gen_lessons_lb.c: the L4 load balancer lesson captures (AWS NLB, Maglev), built with libnet for `natlb gen`.
 *
 * Follows: RFC 9293 (TCP, through gen_tcp), RFC 9110/9112 (the HTTP/1.1 messages), RFC 1035 (DNS),
 * and for what the lessons show, AWS "Network Load Balancers" (flow hash, idle timeouts, client IP
 * preservation, proxy protocol v2) and Eisenbud et al., NSDI 2016 (Maglev).
 *
 * Every capture is taken on the clients' side of the balancer (the `internet` link of the
 * scenarios): clients talk to a listener address (VIP), and the replies come from it.  Which
 * target serves a flow is the scenario's business, so nothing here depends on it: the same
 * capture replays through maglev, modulo or rendezvous.
 *
 * Invariant: a builder's output depends only on its options (fixed clock from gen.c, fixed ISNs).
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen_lessons_lb.h"

#include <libnet.h>
#include <string.h>

/* On the internet link the frames of every client come from the upstream router, and the
 * balancer's listener answers with its own MAC. */
static const guint8 upstream_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const guint8 nlb_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0xfe };

static struct gen_end client_end(const char *ip, guint16 port)
{
	return gen_end_at(ip, port, upstream_mac, 52);
}

static struct gen_end listener_end(const char *ip, guint16 port)
{
	return gen_end_at(ip, port, nlb_mac, 64);
}

static void at_ms(struct gen_ctx *g, gint64 ms)
{
	gen_clock_set(g, ms * GEN_NSEC_PER_MSEC);
}

static const char http_get[] = "GET / HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: natlb-lesson\r\n\r\n";
static const char http_ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

/* The handshake, one request and its answer, and the client's acknowledgement. */
static void http_exchange(struct gen_ctx *g, struct gen_tcp *t)
{
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, http_get, sizeof http_get - 1);
	gen_tcp_send(g, t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, http_ok, sizeof http_ok - 1);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* ---- lb-spread ---------------------------------------------------------------------------------
 *
 * Scenarios lb-maglev, lb-modulo, lb-rendezvous: VIP 203.0.113.10:80, five targets
 * 10.0.1.11-15:8080, `5s down 10.0.1.13:8080`.  Teaches: the same 20 clients spread over five
 * targets by three methods; when one target goes down, the flows on it are reset (NLB) and the
 * report counts how many live flows each method's hash would now send elsewhere: most of them
 * with modulo, about one in five with Maglev, exactly those on the lost target with rendezvous.
 *
 *   0 - 1.9 s  client i (198.51.100.101 + i) opens a connection, asks, gets its answer
 *   5 s        (the scenario's event: 10.0.1.13:8080 goes down)
 *   6 - 7.9 s  each client asks again on the same connection: on the lost target the answer is a
 *              RST from the balancer; the capture stops before the other answers, so it fits
 *              whichever flows a method put on the lost target
 *   8 - 8.4 s  five new clients connect: the new flows avoid the lost target, answers included
 */
#define SPREAD_CLIENTS 20
#define SPREAD_LATE    5

static gboolean gen_lb_spread_build(struct gen_ctx *g)
{
	struct gen_end vip = listener_end("203.0.113.10", 80);
	struct gen_tcp t[SPREAD_CLIENTS + SPREAD_LATE];

	for (unsigned i = 0; i < SPREAD_CLIENTS + SPREAD_LATE; i++) {
		char ip[16];
		g_snprintf(ip, sizeof ip, "198.51.100.%u", 101 + i);
		struct gen_end c = client_end(ip, (guint16)(41000 + 37 * i));
		gen_tcp_init(&t[i], &c, &vip, 0x10000000u + 0x01010101u * i, 0x80000000u + 0x02020202u * i);
	}
	for (unsigned i = 0; i < SPREAD_CLIENTS; i++) {
		at_ms(g, 100 * (gint64)i);
		http_exchange(g, &t[i]);
	}
	for (unsigned i = 0; i < SPREAD_CLIENTS; i++) {
		at_ms(g, 6000 + 100 * (gint64)i);
		gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_PUSH | TH_ACK, http_get, sizeof http_get - 1);
	}
	for (unsigned i = SPREAD_CLIENTS; i < SPREAD_CLIENTS + SPREAD_LATE; i++) {
		at_ms(g, 8000 + 100 * (gint64)(i - SPREAD_CLIENTS));
		http_exchange(g, &t[i]);
	}
	return gen_ok(g);
}

gboolean gen_lb_spread(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_lb_spread_build(g);
	return gen_ctx_finish(g, err);
}

/* ---- lb-dns ------------------------------------------------------------------------------------
 *
 * Scenario lb-dns: UDP listener 203.0.113.53:53, three resolvers 10.0.2.53-55 (no port given: they
 * take the listener's, 53).  Teaches: UDP has no connection, yet the balancer keeps a flow per
 * 5-tuple so the answer comes back from the VIP; a client that uses a new source port per query
 * spreads its queries over every target (5-tuple hash); a flow idle for 120 s is forgotten (the
 * AWS NLB UDP timeout), and the next datagram starts a new flow, which the same hash puts on the
 * same target.
 *
 *   0 - 0.5 s  198.51.100.7 asks six names, each from a new source port (53001-53006): the
 *              5-tuple hash spreads them over all three resolvers
 *   1 s        192.0.2.99:5353 asks; 61 s: again from the same port (same flow, refreshed);
 *   200 s      again (139 s idle: a new flow)
 */
static void dns_name(const char *name, guint8 *out, gsize *len)
{
	gsize n = 0;
	char **labels = g_strsplit(name, ".", -1);
	for (char **l = labels; *l; l++) {
		gsize ln = strlen(*l);
		out[n++] = (guint8)ln;
		memcpy(out + n, *l, ln);
		n += ln;
	}
	out[n++] = 0;
	g_strfreev(labels);
	*len = n;
}

/* One query (RD, type A, class IN) and its answer (QR RD RA, one A record, TTL 300). */
static void dns_exchange(struct gen_ctx *g, const struct gen_end *client, const struct gen_end *server, guint16 id,
                         const char *name, const guint8 answer_ip[4], guint16 ip_id)
{
	guint8 question[80];
	gsize qlen;

	dns_name(name, question, &qlen);
	static const guint8 type_class[4] = { 0x00, 0x01, 0x00, 0x01 };
	memcpy(question + qlen, type_class, 4);
	qlen += 4;
	/* RFC 1035 4.1.3: a pointer to the question's name (offset 12), A, IN, TTL 300, 4 bytes. */
	guint8 rr[16] = { 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04 };
	memcpy(rr + 12, answer_ip, 4);
	gen_dns_exchange(g, client, server, id, question, (guint32)qlen, rr, sizeof rr, ip_id, (guint16)(ip_id + 0x4000));
}

gboolean gen_lb_dns(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	static const char *const names[] = { "www.example.com", "mail.example.com", "api.example.com", "cdn.example.com",
		                             "ntp.example.com", "vpn.example.com" };
	static const guint8 addrs[6][4] = { { 192, 0, 2, 80 }, { 192, 0, 2, 25 }, { 192, 0, 2, 81 },
		                            { 192, 0, 2, 82 }, { 192, 0, 2, 123 }, { 192, 0, 2, 10 } };
	struct gen_ctx *g = gen_ctx_open(path, err);
	struct gen_end vip = listener_end("203.0.113.53", 53);

	if (!g)
		return FALSE;
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		struct gen_end c = client_end("198.51.100.7", (guint16)(53001 + i));
		at_ms(g, 100 * (gint64)i);
		dns_exchange(g, &c, &vip, (guint16)(0x1a00 + i), names[i], addrs[i], (guint16)(0x2100 + i));
	}
	struct gen_end b = client_end("192.0.2.99", 5353);
	static const gint64 when_ms[] = { 1000, 61000, 200000 };
	for (unsigned i = 0; i < G_N_ELEMENTS(when_ms); i++) {
		at_ms(g, when_ms[i]);
		dns_exchange(g, &b, &vip, (guint16)(0x5b00 + i), "www.example.com", addrs[0], (guint16)(0x3100 + i));
	}
	return gen_ctx_finish(g, err);
}

/* ---- lb-client-ip ------------------------------------------------------------------------------
 *
 * Scenarios lb-client-ip-preserved and lb-client-ip-replaced: VIP 203.0.113.20:80, targets
 * 10.0.1.21 and 10.0.1.22 (port 80, the listener's).  Teaches: with client IP preservation
 * (the NLB default for instance targets) the target sees each client's own address; without it
 * the target sees the balancer's address 10.0.1.2, and a port the balancer picked: the three
 * clients here all use source port 43001, so when two of them land on the same target the
 * balancer must give the second another port.
 */
gboolean gen_lb_client_ip(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	static const char *const clients[] = { "198.51.100.50", "192.0.2.60", "198.51.100.77" };
	struct gen_ctx *g = gen_ctx_open(path, err);
	struct gen_end vip = listener_end("203.0.113.20", 80);

	if (!g)
		return FALSE;
	for (unsigned i = 0; i < G_N_ELEMENTS(clients); i++) {
		struct gen_end c = client_end(clients[i], 43001);
		struct gen_tcp t;
		at_ms(g, 1000 * (gint64)i);
		gen_tcp_init(&t, &c, &vip, 0x3c000000u + 0x00110011u * i, 0x9a000000u + 0x00220022u * i);
		http_exchange(g, &t);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	}
	return gen_ctx_finish(g, err);
}

/* ---- lb-target-log -----------------------------------------------------------------------------
 *
 * Scenario lb-proxy-protocol: VIP 203.0.113.30:80 in front of one target, 10.0.1.31:80, with
 * preserve-client-ip = false (address 10.0.1.2) and proxy-protocol-v2 = true.  The target runs a
 * "whoami" page that logs, and answers with, the source it sees.  Teaches: without client IP
 * preservation the TCP peer of the target is the balancer; the proxy protocol v2 header the
 * balancer puts before the first byte of the request still tells the target who the client is.
 * On the target's link the request is 28 bytes longer and every later sequence number is shifted
 * by 28; the client never sees any of it.
 *
 * Captured on the client's side; the answer is what the target logged for this scenario.  One
 * connection: two requests (keep-alive), an answer in two segments, then the close.
 */
gboolean gen_lb_target_log(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	static const char get1[] = "GET /whoami HTTP/1.1\r\nHost: api.example\r\nUser-Agent: natlb-lesson\r\n\r\n";
	static const char get2[] = "GET /whoami?again=1 HTTP/1.1\r\nHost: api.example\r\nUser-Agent: natlb-lesson\r\n\r\n";
	static const char body[] =
		"whoami on 10.0.1.31\n"
		"tcp peer: 10.0.1.2:40001 (the load balancer; client IP preservation is off)\n"
		"proxy protocol v2: client 198.51.100.23:40001, connected to 203.0.113.30:80\n"
		"log: 198.51.100.23 - - \"GET /whoami HTTP/1.1\" 200\n";
	struct gen_ctx *g = gen_ctx_open(path, err);
	struct gen_end client = client_end("198.51.100.23", 40001), vip = listener_end("203.0.113.30", 80);
	struct gen_tcp t;

	if (!g)
		return FALSE;
	char *head = g_strdup_printf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
	                             strlen(body));
	char *whole = g_strconcat(head, body, NULL);
	gsize cut = strlen(head) + 40; /* the answer in two segments */

	at_ms(g, 0);
	gen_tcp_init(&t, &client, &vip, 0x5eed0001u, 0x7a11b0b0u);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, get1, sizeof get1 - 1);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_ACK, whole, (guint32)cut);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, whole + cut, (guint32)(strlen(whole) - cut));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	at_ms(g, 1000);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, get2, sizeof get2 - 1);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, whole, (guint32)strlen(whole));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	g_free(whole);
	g_free(head);
	return gen_ctx_finish(g, err);
}
