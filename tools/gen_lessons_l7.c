/* tools/gen_lessons_l7.c: the L7 load balancer lesson captures (AWS ALB), built with libnet for `natlb gen`.
 *
 * Follows: RFC 9293 (TCP, through gen_tcp), RFC 9112 (HTTP/1.1 messages: keep-alive, pipelining,
 * Content-Length and chunked bodies), and for what the lessons show, AWS "Listener rules for your
 * Application Load Balancer", "HTTP headers and Application Load Balancers" and "Desync
 * mitigation mode".
 *
 * Every capture is taken on the clients' side (the `internet` link of the scenarios): clients
 * talk to a listener address, and the answers come from it.  What answered (a target through the
 * balancer, or the balancer itself) is the scenario's business, so the same capture replays
 * through an l4-lb and an l7-lb: the captured answers are what a web server behind either would
 * have sent.
 *
 * Invariant: a builder's output depends only on its options (fixed clock from gen.c, fixed ISNs).
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen_lessons_l7.h"

#include <libnet.h>
#include <stdio.h>
#include <string.h>

static const guint8 upstream_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };
static const guint8 alb_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0xfe };

static struct gen_end client_end(const char *ip, guint16 port)
{
	return gen_end_at(ip, port, upstream_mac, 52);
}

static void at_ms(struct gen_ctx *g, gint64 ms)
{
	gen_clock_set(g, ms * GEN_NSEC_PER_MSEC);
}

static void handshake(struct gen_ctx *g, struct gen_tcp *t)
{
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

static void close_by_client(struct gen_ctx *g, struct gen_tcp *t)
{
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* A request, the web server's answer with a body of its own (what a target would send), and the
 * client's acknowledgement. */
static void exchange(struct gen_ctx *g, struct gen_tcp *t, const char *request, unsigned status, const char *body)
{
	char resp[512];
	int n = snprintf(resp, sizeof resp, "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
	                 status, status == 200 ? "OK" : status == 201 ? "Created" : "Not Found", strlen(body), body);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, request, (guint32)strlen(request));
	gen_tcp_send(g, t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, resp, (guint32)n);
	gen_tcp_send(g, t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* ---- alb-shop ----------------------------------------------------------------------------------
 *
 * Scenarios alb-host-path, alb-vs-nlb (through an l4-lb), nlb-alb, alb-redirect: listener
 * 203.0.113.10:80.  Teaches: one keep-alive connection whose requests go to different target
 * groups by host and path; /images and /Images (paths are case-sensitive); pipelining; a POST
 * with a body; a request for an old host that a rule redirects; a debug query that a rule answers.
 *
 *   0 ms     client A 198.51.100.7:51000: api /v1/cart, www /static/app.js, www /images/logo.png,
 *            www /Images/logo.png, api /v2/cart, each answered on the same connection
 *   100 ms   client B 198.51.100.8:51001: old.example.com /sale?id=7
 *   200 ms   client C 198.51.100.9:51002: three requests pipelined in one segment, then their
 *            three answers in one segment
 *   300 ms   client D 198.51.100.10:51003 (a phone): a POST with a body to api /v1/orders, then
 *            www / with a Mobile user agent, then www /?debug=1
 */
#define REQ(method, host, target, extra) method " " target " HTTP/1.1\r\nHost: " host "\r\n" extra "\r\n"

static gboolean gen_alb_shop_build(struct gen_ctx *g)
{
	struct gen_end vip = gen_end_at("203.0.113.10", 80, alb_mac, 64);
	struct gen_tcp t;
	struct gen_end a = client_end("198.51.100.7", 51000), b = client_end("198.51.100.8", 51001),
	               c = client_end("198.51.100.9", 51002), d = client_end("198.51.100.10", 51003);
	static const char ua[] = "User-Agent: curl/8.5.0\r\n";
	static const char phone[] = "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148\r\n";

	gen_clock_step(g, GEN_NSEC_PER_MSEC);
	at_ms(g, 0);
	gen_tcp_init(&t, &a, &vip, 1000000, 5000000);
	handshake(g, &t);
	exchange(g, &t, REQ("GET", "api.example.com", "/v1/cart", "User-Agent: curl/8.5.0\r\n"), 200, "cart: 2 items\n");
	exchange(g, &t, REQ("GET", "www.example.com", "/static/app.js", "User-Agent: curl/8.5.0\r\n"), 200, "console.log(1)\n");
	exchange(g, &t, REQ("GET", "www.example.com", "/images/logo.png", "User-Agent: curl/8.5.0\r\n"), 200, "PNG...\n");
	exchange(g, &t, REQ("GET", "www.example.com", "/Images/logo.png", "User-Agent: curl/8.5.0\r\n"), 404, "not found\n");
	exchange(g, &t, REQ("GET", "api.example.com", "/v2/cart", "User-Agent: curl/8.5.0\r\n"), 404, "no such API\n");
	close_by_client(g, &t);
	(void)ua;

	at_ms(g, 100);
	gen_tcp_init(&t, &b, &vip, 2000000, 6000000);
	handshake(g, &t);
	exchange(g, &t, REQ("GET", "old.example.com", "/sale?id=7", "User-Agent: curl/8.5.0\r\n"), 200, "old shop\n");
	close_by_client(g, &t);

	at_ms(g, 200);
	gen_tcp_init(&t, &c, &vip, 3000000, 7000000);
	handshake(g, &t);
	{
		static const char three[] = REQ("GET", "api.example.com", "/v1/a", "") REQ("GET", "api.example.com", "/v1/b", "")
			REQ("GET", "api.example.com", "/v1/c", "");
		static const char answers[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\na\n"
		                              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nb\n"
		                              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc\n";
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, three, sizeof three - 1);
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, answers, sizeof answers - 1);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	}
	close_by_client(g, &t);

	at_ms(g, 300);
	gen_tcp_init(&t, &d, &vip, 4000000, 8000000);
	handshake(g, &t);
	exchange(g, &t, REQ("POST", "api.example.com", "/v1/orders", "User-Agent: curl/8.5.0\r\nContent-Type: application/json\r\n"
	                                                               "Content-Length: 14\r\n") "{\"item\": 42}\r\n",
	         201, "order 1\n");
	exchange(g, &t, REQ("GET", "www.example.com", "/", "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148\r\n"),
	         200, "home\n");
	exchange(g, &t, REQ("GET", "www.example.com", "/?debug=1", "User-Agent: curl/8.5.0\r\n"), 200, "debug page\n");
	close_by_client(g, &t);
	(void)phone;
	return gen_ok(g);
}

gboolean gen_alb_shop(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_alb_shop_build(g);
	return gen_ctx_finish(g, err);
}

/* ---- alb-smuggling -----------------------------------------------------------------------------
 *
 * Scenarios alb-desync-monitor, alb-desync-defensive, alb-desync-strictest.  Teaches: how ALB's
 * desync mitigation modes treat requests whose framing two servers could read differently.
 *
 *   0 ms     a compliant GET
 *   100 ms   CL.TE: Content-Length and Transfer-Encoding: chunked together (RFC 9112 6.3)
 *   200 ms   two Content-Length headers that disagree
 *   300 ms   a GET with a space in its URI
 *
 * Each on its own connection, so that one closed connection does not hide the next request.
 */
static gboolean gen_alb_smuggling_build(struct gen_ctx *g)
{
	struct gen_end vip = gen_end_at("203.0.113.10", 80, alb_mac, 64);
	struct gen_tcp t;
	static const char *const requests[] = {
		"GET /v1/cart HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
		"POST /v1/orders HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
		"0\r\n\r\nG",
		"POST /v1/orders HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 4\r\nContent-Length: 7\r\n\r\nabcdefg",
		"GET /v1/cart HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 0\r\nX-Note: a GET with a zero Content-Length\r\n\r\n",
	};
	gen_clock_step(g, GEN_NSEC_PER_MSEC);
	for (unsigned i = 0; i < G_N_ELEMENTS(requests); i++) {
		char ip[32];
		g_snprintf(ip, sizeof ip, "198.51.100.%u", 20 + i);
		struct gen_end cl = client_end(ip, (guint16)(52000 + i));
		at_ms(g, 100 * (gint64)i);
		gen_tcp_init(&t, &cl, &vip, 1000000 * (i + 1), 9000000 + 1000000 * i);
		handshake(g, &t);
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, requests[i], (guint32)strlen(requests[i]));
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, ok, sizeof ok - 1);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
		close_by_client(g, &t);
	}
	return gen_ok(g);
}

gboolean gen_alb_smuggling(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_alb_smuggling_build(g);
	return gen_ctx_finish(g, err);
}

/* ---- bench-l7 -----------------------------------------------------------------------------------
 *
 * make bench's L7 load: --packets requests over --flows keep-alive connections (500,000 over
 * 20,000 when neither is given) to one listener, 203.0.113.10:80.  Each connection opens with a handshake,
 * then the connections take turns: a request (one of eight paths over three hosts, so the rules
 * have work), its response, the client's ACK; at the end each closes.  Built through gen_tcp, so
 * the sequence numbers follow; the clock advances 10 µs a packet.
 */
static const char *const bench_requests[] = {
	"GET /v1/cart HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench\r\n\r\n",
	"GET /v1/items?id=42 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench\r\n\r\n",
	"GET /static/app.js HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\n\r\n",
	"GET /images/logo.png HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 Mobile\r\n\r\n",
	"POST /v1/orders HTTP/1.1\r\nHost: api.example.com\r\nContent-Length: 14\r\n\r\n{\"item\": 42}\r\n",
	"GET /v2/cart HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
	"GET /docs/index.html HTTP/1.1\r\nHost: docs.example.com\r\n\r\n",
};
static const char bench_response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n\r\n"
                                     "0123456789abcde\n";

#define BENCH_L7_MAX_CONNS 60000u /* client ports 1024.. of 16 client addresses */

gboolean gen_bench_l7(const char *path, const struct gen_options *opt, GError **err)
{
	/* gen's defaults are the L3 bench's; this load's own are the 500,000 over 20,000 */
	gboolean defaults = opt->packets == GEN_DEFAULT_PACKETS && opt->flows == GEN_DEFAULT_FLOWS;
	guint64 conns = defaults ? 20000 : opt->flows, requests = defaults ? 500000 : opt->packets;
	struct gen_end vip = gen_end_at("203.0.113.10", 80, alb_mac, 64);
	struct gen_tcp *t;
	struct gen_ctx *g;

	if (conns < 1 || conns > BENCH_L7_MAX_CONNS) {
		g_set_error(err, GEN_ERROR, GEN_ERROR_OPTION, "--flows (connections) must be between 1 and %u",
		            BENCH_L7_MAX_CONNS);
		return FALSE;
	}
	g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_clock_step(g, 10000);
	t = g_new(struct gen_tcp, conns);
	for (guint64 i = 0; i < conns && gen_ok(g); i++) {
		char ip[32];
		g_snprintf(ip, sizeof ip, "198.51.%u.%u", 100 + (unsigned)(i / 4000), 1 + (unsigned)(i % 250));
		struct gen_end cl = client_end(ip, (guint16)(1024 + i % 4000 * 16 + i / 1000 % 16));
		gen_tcp_init(&t[i], &cl, &vip, (guint32)(i * 7919u + 1000), (guint32)(i * 104729u + 5000));
		handshake(g, &t[i]);
	}
	for (guint64 n = 0; n < requests && gen_ok(g); n++) {
		struct gen_tcp *c = &t[n % conns];
		const char *rq = bench_requests[(n / conns + n) % G_N_ELEMENTS(bench_requests)];
		gen_tcp_send(g, c, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, rq, (guint32)strlen(rq));
		gen_tcp_send(g, c, GEN_FROM_SERVER, TH_PUSH | TH_ACK, bench_response, sizeof bench_response - 1);
		gen_tcp_send(g, c, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	}
	for (guint64 i = 0; i < conns && gen_ok(g); i++)
		close_by_client(g, &t[i]);
	g_free(t);
	return gen_ctx_finish(g, err);
}

/* ---- alb-blue-green ----------------------------------------------------------------------------
 *
 * Scenario alb-blue-green: a weighted forward, blue:90 green:10, and least outstanding requests
 * over blue's two targets while one of them goes down.  Teaches: weights split requests, not
 * connections (one connection's requests land in both groups); least outstanding requests sends
 * a request to the target with fewest in flight; a target that goes down gets no new requests.
 *
 *   0 ms      eight clients 198.51.100.31-38 connect
 *   10 ms on  ten rounds, 50 ms apart: every client sends a request, then the eight answers come
 *             back in order (so up to eight are in flight at once)
 *   (the scenario's event: at 250 ms 10.0.1.12:8080 goes down)
 */
#define BLUE_GREEN_CLIENTS 8
#define BLUE_GREEN_ROUNDS  10

static gboolean gen_alb_blue_green_build(struct gen_ctx *g)
{
	struct gen_end vip = gen_end_at("203.0.113.10", 80, alb_mac, 64);
	struct gen_tcp t[BLUE_GREEN_CLIENTS];
	static const char rq[] = "GET /checkout HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\n\r\n";
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nthank you";

	gen_clock_step(g, 100000); /* 0.1 ms a packet */
	at_ms(g, 0);
	for (unsigned i = 0; i < BLUE_GREEN_CLIENTS; i++) {
		char ip[32];
		g_snprintf(ip, sizeof ip, "198.51.100.%u", 31 + i);
		struct gen_end cl = client_end(ip, (guint16)(53000 + i));
		gen_tcp_init(&t[i], &cl, &vip, 100000 * (i + 1), 200000 * (i + 1));
		handshake(g, &t[i]);
	}
	for (unsigned r = 0; r < BLUE_GREEN_ROUNDS; r++) {
		at_ms(g, 10 + 50 * (gint64)r);
		for (unsigned i = 0; i < BLUE_GREEN_CLIENTS; i++)
			gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_PUSH | TH_ACK, rq, sizeof rq - 1);
		for (unsigned i = 0; i < BLUE_GREEN_CLIENTS; i++) {
			gen_tcp_send(g, &t[i], GEN_FROM_SERVER, TH_PUSH | TH_ACK, ok, sizeof ok - 1);
			gen_tcp_send(g, &t[i], GEN_FROM_CLIENT, TH_ACK, NULL, 0);
		}
	}
	at_ms(g, 10 + 50 * BLUE_GREEN_ROUNDS);
	for (unsigned i = 0; i < BLUE_GREEN_CLIENTS; i++)
		close_by_client(g, &t[i]);
	return gen_ok(g);
}

gboolean gen_alb_blue_green(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_alb_blue_green_build(g);
	return gen_ctx_finish(g, err);
}
