/* nat/endpoint_policy.c: a gateway endpoint's IAM policy enforced on S3 requests over HTTP (see nat/endpoint_policy.h; AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies"; Amazon S3 API Reference, "Error responses").
 *
 * Per connection through the endpoint: the client's bytes are reassembled and framed as requests,
 * S3's as responses, with the parsers the L7 balancer uses.  Each request head is evaluated once,
 * with aws:sourceVpce = the endpoint and aws:VpcSourceIp = the instance (through a gateway
 * endpoint aws:SourceIp is absent) and an anonymous principal (natlb cannot tell who signed a
 * request).  The decisions wait in order for their responses (HTTP/1.1 answers in order).
 *
 * A denied request: the segment that completes its head (and the rest of its body) is dropped at
 * the endpoint, which answers at once with S3's REST error response: 403, Content-Type
 * application/xml, <Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>
 * <HostId></Error>.  The client therefore receives the answer where the capture has S3's
 * response: that response, walked back from the capture, is REVERSE_REPLACED (shown on the
 * capture's link, not delivered), and every later segment of S3's is renumbered by the answer's
 * length less the replaced response's (c->shift), as the l7-lb does for its own answers; the
 * client's acknowledgements are mapped the same way in arriving().  A segment is judged by its
 * first byte: one that ends a replaced response and starts the next goes with the replaced one.
 * A retransmission of a denied request's bytes is dropped too: the reassembly frames nothing from
 * it, so the connection keeps the stream ranges of its last EP_DENIED_KEPT denied requests and a
 * segment that carries bytes of one goes no further (else S3 would get the download after all).
 * A denied request pipelined behind requests still awaiting their responses is answered in HTTP
 * order: its 403 goes when the response before it ends (resp_end), on S3's packet that ended it.
 * Known limit: a client segment that carries an allowed request and a denied one is dropped
 * whole (the endpoint does not cut segments), so the allowed one never reaches S3.
 *
 * The walk back keeps the books of S3's side (response framing, the splice): reverse() is the
 * only call the stage gets before deciding to replace a captured response, as in lb/l7lb.c.
 *
 * Invariants: at most ENDPOINT_POLICY_MAX_CONNS connections, allocated once; a connection's
 * decisions awaiting responses at most EP_MAX_PENDING; no allocation per packet beyond what the
 * HTTP framer keeps per connection.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <string.h>
#include <time.h>

#include "common/answer.h"
#include "common/hash_index.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "common/tcp_stream.h"
#include "lb/http1.h"
#include "nat/endpoint_policy.h"
#include "nat/iam_policy.h"
#include "nat/route_table.h"
#include "nat/s3_request.h"

#define EP_MAX_PENDING 16
#define EP_DENIED_KEPT 4 /* denied requests whose bytes a retransmission is recognised by */
#define EP_ANSWER_MAX 1024

struct ep_pending {
	bool denied;
	bool to_head;
	bool waiting;                /* denied, its 403 not sent: a response before it has not ended */
	uint16_t answer_len;         /* the endpoint's answer, when denied */
	unsigned number;             /* the request's number on its connection */
	int64_t decided_ns;          /* when its head was read: the answer's Date and ids */
	struct iam_decision decision;
};

/* Where the endpoint's answer took the place of a captured response, in S3's sequence space. */
struct ep_splice {
	bool active, end_known;
	uint32_t cap_start, cap_end; /* the replaced response's first byte and the byte after it */
	uint32_t len;                /* the answer's length */
	int64_t shift_before;        /* the shift of the bytes before it */
};

/* A denied request's bytes in the client's stream: [start, end), end UINT64_MAX until it ends. */
struct ep_denied_range {
	uint64_t start, end;
};

struct ep_conn {
	bool used, lost;
	uint64_t id;
	int64_t last_ns;
	uint32_t client, server;
	uint16_t cport, sport;
	struct tcp_stream req, resp;
	struct http1_stream req_http, resp_http;
	struct ep_pending pending[EP_MAX_PENDING];
	unsigned p_head, p_n;
	unsigned requests;
	bool discarding;   /* inside a denied request: its bytes go no further */
	bool seg_denied;   /* a request completed by the segment in hand was denied */
	struct ep_denied_range denied[EP_DENIED_KEPT]; /* the latest at denied_next - 1 */
	unsigned denied_next;
	bool resp_in_msg;  /* a response has begun and not ended */
	bool replacing;    /* the response in progress is one the endpoint answered in place of */
	uint32_t resp_base; /* S3's sequence number at response stream offset 0 */
	int64_t shift;     /* S3's sequence numbers after the replaced responses, as the client sees them */
	uint32_t ahead;    /* bytes of answers sent whose replaced response has not ended */
	struct ep_splice splice;
	/* while a segment is handled */
	struct endpoint_policy *ep;
	struct stage_ctx *ctx;
	const struct packet *pkt;
};

struct endpoint_policy {
	char *vpce;
	char *written;
	struct iam_policy *policy;
	struct ep_conn *conns; /* ENDPOINT_POLICY_MAX_CONNS */
	uint64_t next_id;
	libnet_t *lnet;
	char answer[EP_ANSWER_MAX];
	uint64_t allowed, denied, not_s3, replaced, evicted;
};

/* ---- the answer --------------------------------------------------------------------------------- */

/* S3's request ids are 16 upper-case hex digits, its host ids base64: derived from the connection
 * and the request, so that a replay is repeatable. */
static unsigned build_answer(struct endpoint_policy *ep, const struct ep_conn *c, unsigned request, bool to_head,
                             int64_t now_ns, uint64_t seed)
{
	char rid[17], hid[48], date[40];
	uint8_t raw[24];
	uint64_t h = hash_fmix64(seed ^ hash_fmix64(c->id << 20 ^ request));
	gint state = 0, save = 0;
	time_t secs = (time_t)(now_ns / 1000000000);
	struct tm tm;

	g_snprintf(rid, sizeof rid, "%016" G_GINT64_MODIFIER "X", h);
	for (unsigned i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(hash_fmix64(h + i) >> 24);
	gsize n = g_base64_encode_step(raw, sizeof raw, FALSE, hid, &state, &save);
	n += g_base64_encode_close(FALSE, hid + n, &state, &save);
	hid[n] = '\0';
	gmtime_r(&secs, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	char body[320];
	int blen = g_snprintf(body, sizeof body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied"
	                      "</Code><Message>Access Denied</Message><RequestId>%s</RequestId><HostId>%s</HostId>"
	                      "</Error>", rid, hid);
	/* A response to HEAD has no body, and says nothing of the one it would have had. */
	char length[40] = "";
	if (!to_head)
		g_snprintf(length, sizeof length, "Content-Length: %d\r\n", blen);
	int len = g_snprintf(ep->answer, sizeof ep->answer, "HTTP/1.1 403 Forbidden\r\nx-amz-request-id: %s\r\n"
	                     "x-amz-id-2: %s\r\nContent-Type: application/xml\r\n%sDate: %s\r\nServer: AmazonS3\r\n\r\n"
	                     "%s", rid, hid, length, date, to_head ? "" : body);
	return (unsigned)len;
}

static void decision_text(const struct iam_policy *pol, struct iam_decision d, char *buf, size_t size)
{
	if (d.statement >= 0)
		g_snprintf(buf, size, "%s by %s", iam_result_text(d.result),
		           iam_statement_name(&pol->statements[d.statement], (char[160]){ 0 }, 160));
	else
		g_snprintf(buf, size, "implicitly denied: no statement allows it");
}

/* Send the answer to the denied request pd to the client, at seq in the client's view of S3's
 * stream, right after the packet in hand (the client's segment that completed the request, or
 * S3's that ended the response before it). */
static void send_answer(struct ep_conn *c, struct ep_pending *pd, uint32_t seq)
{
	const struct packet *p = c->pkt;
	struct stage_ctx *ctx = c->ctx;
	char note[400], decided[240];
	uint8_t frame[64 + LIBNET_IPV4_H + LIBNET_TCP_H + EP_ANSWER_MAX]; /* a link header of at most 64 bytes */

	pd->waiting = false;
	unsigned len = build_answer(c->ep, c, pd->number, pd->to_head, pd->decided_ns, ctx->seed);
	decision_text(c->ep->policy, pd->decision, decided, sizeof decided);
	g_snprintf(note, sizeof note, "route-table %s: gateway endpoint %s answers request %u on connection #%"
	           G_GUINT64_FORMAT " itself: 403 AccessDenied (%s)", ctx->stage ? ctx->stage->name : "?", c->ep->vpce,
	           pd->number, c->id, decided);
	libnet_t *l = c->ep->lnet;
	/* it acknowledges what the client sent: the segment in hand too, which the reassembly is still
	 * reading when the request's head is decided */
	uint32_t ack = p->ip.src == c->client ? tcp_segment_seq(p) + tcp_segment_payload_len(p)
	                                      : tcp_stream_next_seq(&c->req);
	if (libnet_build_tcp(c->sport, c->cport, seq, ack, TH_ACK | TH_PUSH, 65535, 0, 0, LIBNET_TCP_H + len,
	                     (const uint8_t *)c->ep->answer, len, l, 0) == -1 ||
	    libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + LIBNET_TCP_H + len), 0, 0, 0x4000, 64, IPPROTO_TCP, 0,
	                      g_htonl(c->server), g_htonl(c->client), NULL, 0, l, 0) == -1) {
		libnet_clear_packet(l);
		return;
	}
	if (answer_emit_to(ctx, (struct libnet_context *)l, p, c->client, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS,
	                   frame, sizeof frame, note))
		c->ahead += len;
}

/* ---- the request side ---------------------------------------------------------------------------- */

static void note_decision(GString *s, const struct iam_policy *pol, struct iam_decision d, char *buf, size_t size)
{
	decision_text(pol, d, buf, size);
	g_string_append(s, buf);
}

static void req_head(void *vc, const struct http1_head *h)
{
	struct ep_conn *c = vc;
	struct endpoint_policy *ep = c->ep;
	GString *note = c->ctx->note;
	struct s3_request *s3 = g_alloca(sizeof *s3);
	const char *why = NULL;
	bool denied = false, to_head = h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
	char decided[240] = "";
	struct iam_decision d = { .statement = -1 };

	c->requests++;
	note_appendf(note, "; request %u on connection #%" G_GUINT64_FORMAT ": %.*s %.*s%.*s", c->requests, c->id,
	             (int)MIN(h->method_len, 16), h->method, (int)MIN(h->host_len, 128), h->host ? h->host : "",
	             (int)MIN(h->path_len, 256), h->path ? h->path : "");
	if (c->p_n == EP_MAX_PENDING) {
		note_appendf(note, ": more than %d requests await their responses: the rest of the connection passes "
		             "unevaluated", EP_MAX_PENDING);
		c->lost = true;
		return;
	}
	if (!s3_request_map(h->method, h->method_len, h->host, h->host_len, h->path, h->path_len, h->query,
	                    h->query_len, s3, &why)) {
		note_appendf(note, ": not an S3 request natlb maps (%s): passed on unevaluated", why);
		ep->not_s3++;
	} else {
		struct iam_request req = { .action = s3->action, .action_len = (unsigned)strlen(s3->action),
			                   .resource = s3->resource, .resource_len = s3->resource_len,
			                   .has_vpc_source_ip = true, .vpc_source_ip = c->client, .source_vpce = ep->vpce };
		d = iam_policy_evaluate(ep->policy, &req, NULL);
		note_appendf(note, " is %s on %s: endpoint policy: ", s3->action, s3->resource);
		note_decision(note, ep->policy, d, decided, sizeof decided);
		denied = d.result != IAM_ALLOWED;
		if (denied)
			ep->denied++;
		else
			ep->allowed++;
	}
	struct ep_pending *pd = &c->pending[(c->p_head + c->p_n++) % EP_MAX_PENDING];
	*pd = (struct ep_pending){ .denied = denied, .to_head = to_head, .number = c->requests,
		                   .decided_ns = c->ctx->now_ns, .decision = d };
	http1_stream_expect_response(&c->resp_http, to_head);
	if (!denied)
		return;
	c->discarding = true;
	c->seg_denied = true;
	c->denied[c->denied_next++ % EP_DENIED_KEPT] = (struct ep_denied_range){ .start = h->start, .end = UINT64_MAX };
	pd->answer_len = (uint16_t)build_answer(ep, c, pd->number, to_head, pd->decided_ns, c->ctx->seed);
	if (!tcp_stream_started(&c->resp)) {
		note_appendf(note, " (S3's side of the connection was not captured: the 403 cannot be numbered, none is "
		             "sent)");
		return;
	}
	if (c->p_n > 1) {
		/* HTTP/1.1 answers in order (RFC 9112 section 9.3.2): the 403 follows the responses to the
		 * requests before it, sent when the last of them ends (resp_end). */
		pd->waiting = true;
		note_appendf(note, " (its 403 waits for the response%s to the %u request%s before it)", note_plural(c->p_n - 1),
		             c->p_n - 1, note_plural(c->p_n - 1));
		return;
	}
	send_answer(c, pd, tcp_stream_next_seq(&c->resp) + (uint32_t)c->shift + c->ahead);
}

static void req_end(void *vc, uint64_t msg_end)
{
	struct ep_conn *c = vc;
	if (c->discarding && c->denied_next)
		c->denied[(c->denied_next - 1) % EP_DENIED_KEPT].end = msg_end;
	c->discarding = false;
}

/* Does a segment of len bytes at seq carry bytes the stream already took from a denied request?
 * Only bytes before RCV.NXT can be told: their stream offsets are known. */
static bool retransmits_denied(const struct ep_conn *c, uint32_t seq, uint32_t len)
{
	if (!c->denied_next || len == 0 || !c->req.started || !tcp_seq_after(c->req.next_seq, seq))
		return false;
	uint32_t back = c->req.next_seq - seq;
	if (back > c->req.offset)
		return false; /* before the stream's start */
	uint64_t from = c->req.offset - back, to = from + MIN(len, back);
	for (unsigned i = 0; i < MIN(c->denied_next, EP_DENIED_KEPT); i++)
		if (from < c->denied[i].end && c->denied[i].start < to)
			return true;
	return false;
}

static void req_error(void *vc, uint64_t offset, enum http1_error e)
{
	struct ep_conn *c = vc;
	(void)offset;
	note_appendf(c->ctx->note, "; HTTP framing of connection #%" G_GUINT64_FORMAT " stopped (%s): the rest passes "
	             "unevaluated", c->id, http1_error_text(e));
	c->lost = true;
}

static void req_bytes(void *vc, uint64_t offset, const uint8_t *b, uint32_t n)
{
	struct ep_conn *c = vc;
	if (!c->lost)
		http1_stream_feed(&c->req_http, offset, b, n);
}

static void req_gap(void *vc, uint64_t offset, uint32_t n)
{
	struct ep_conn *c = vc;
	if (!c->lost)
		http1_stream_gap(&c->req_http, offset, n);
}

/* ---- the response side -------------------------------------------------------------------------- */

static void resp_end(void *vc, uint64_t msg_end)
{
	struct ep_conn *c = vc;
	(void)msg_end;
	c->resp_in_msg = false;
	if (c->p_n == 0)
		return;
	struct ep_pending *pd = &c->pending[c->p_head];
	c->p_head = (c->p_head + 1) % EP_MAX_PENDING;
	c->p_n--;
	uint32_t end = c->resp_base + (uint32_t)msg_end;
	if (c->replacing) {
		c->splice.cap_end = end;
		c->splice.end_known = true;
		c->shift += (int64_t)pd->answer_len - (int64_t)(uint32_t)(end - c->splice.cap_start);
		c->ahead -= MIN(c->ahead, pd->answer_len);
		c->replacing = false;
	}
	/* A denied request pipelined behind this one: its 403 goes now, where its response begins. */
	struct ep_pending *next = &c->pending[c->p_head];
	if (c->p_n && next->waiting && c->pkt)
		send_answer(c, next, end + (uint32_t)c->shift + c->ahead);
}

static void resp_data(void *vc, uint64_t offset, const uint8_t *b, uint32_t n)
{
	struct ep_conn *c = vc;
	if (c->lost)
		return;
	c->resp_in_msg = true;
	http1_stream_feed(&c->resp_http, offset, b, n);
}

static void resp_error(void *vc, uint64_t offset, enum http1_error e)
{
	struct ep_conn *c = vc;
	(void)offset;
	(void)e;
	c->lost = true; /* the decisions can no longer be matched to responses */
}

static void resp_fin(void *vc, uint64_t offset)
{
	struct ep_conn *c = vc;
	if (!c->lost)
		http1_stream_eof(&c->resp_http, offset);
}

/* ---- connections -------------------------------------------------------------------------------- */

static struct ep_conn *conn_find(const struct endpoint_policy *ep, uint32_t client, uint16_t cport, uint32_t server,
                                 uint16_t sport)
{
	for (unsigned i = 0; i < ENDPOINT_POLICY_MAX_CONNS; i++) {
		struct ep_conn *c = &ep->conns[i];
		if (c->used && c->client == client && c->cport == cport && c->server == server && c->sport == sport)
			return c;
	}
	return NULL;
}

static void conn_clear(struct ep_conn *c)
{
	if (!c->used)
		return;
	tcp_stream_clear(&c->req);
	tcp_stream_clear(&c->resp);
	http1_stream_clear(&c->req_http);
	http1_stream_clear(&c->resp_http);
	memset(c, 0, sizeof *c);
}

/* A slot for a new connection: a free one, else the one idle longest. */
static struct ep_conn *conn_new(struct endpoint_policy *ep, const struct packet *p, int64_t now_ns, bool midstream)
{
	static const struct tcp_stream_limits hold = { .max_held_bytes = 65536, .max_held_segments = 32 };
	struct ep_conn *c = NULL;

	for (unsigned i = 0; i < ENDPOINT_POLICY_MAX_CONNS && !c; i++)
		if (!ep->conns[i].used)
			c = &ep->conns[i];
	if (!c) {
		c = &ep->conns[0];
		for (unsigned i = 1; i < ENDPOINT_POLICY_MAX_CONNS; i++)
			if (ep->conns[i].last_ns < c->last_ns)
				c = &ep->conns[i];
		conn_clear(c);
		ep->evicted++;
	}
	c->used = true;
	c->id = ++ep->next_id;
	c->client = p->ip.src;
	c->cport = p->ip.sport;
	c->server = p->ip.dst;
	c->sport = p->ip.dport;
	c->last_ns = now_ns;
	c->ep = ep;
	tcp_stream_init(&c->req, &hold);
	tcp_stream_init(&c->resp, &hold);
	const struct http1_consumer rq = { .head = req_head, .end = req_end, .error = req_error, .ctx = c };
	const struct http1_consumer rs = { .end = resp_end, .error = resp_error, .ctx = c };
	if (midstream) {
		http1_stream_init_midstream(&c->req_http, HTTP1_REQUESTS, NULL, &rq);
		http1_stream_init_midstream(&c->resp_http, HTTP1_RESPONSES, NULL, &rs);
	} else {
		http1_stream_init(&c->req_http, HTTP1_REQUESTS, NULL, &rq);
		http1_stream_init(&c->resp_http, HTTP1_RESPONSES, NULL, &rs);
	}
	return c;
}

/* ---- the stage's calls -------------------------------------------------------------------------- */

enum verdict endpoint_policy_out(struct endpoint_policy *ep, struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	(void)st;
	if (p->ip.proto != IPPROTO_TCP || !p->ip.has_ports)
		return VERDICT_FORWARD;
	uint8_t fl = p->ip.tcp_flags;
	uint32_t seq = tcp_segment_seq(p), len = tcp_segment_payload_len(p);
	struct ep_conn *c = conn_find(ep, p->ip.src, p->ip.sport, p->ip.dst, p->ip.dport);

	if ((fl & TH_SYN) && !(fl & TH_ACK)) {
		if (c)
			conn_clear(c); /* a new connection on the same ports */
		c = conn_new(ep, p, ctx->now_ns, false);
		tcp_stream_start(&c->req, seq + 1);
		return VERDICT_FORWARD;
	}
	if (!c && len == 0)
		return VERDICT_FORWARD;
	if (!c) {
		c = conn_new(ep, p, ctx->now_ns, true);
		tcp_stream_pick_up(&c->req, seq);
	}
	c->last_ns = ctx->now_ns;
	if (fl & TH_RST) {
		conn_clear(c);
		return VERDICT_FORWARD;
	}
	c->ctx = ctx;
	c->pkt = p;
	c->seg_denied = false;
	bool was_discarding = c->discarding;
	bool again = !c->lost && retransmits_denied(c, seq, len);
	if ((len > 0 || (fl & TH_FIN)) && !c->lost) {
		const struct tcp_stream_consumer sink = { .data = req_bytes, .gap = req_gap, .ctx = c };
		uint32_t captured = p->payload_len < len ? p->payload_len : len;
		tcp_stream_feed(&c->req, seq, p->data + p->payload_off, captured, len, (fl & TH_FIN) != 0, &sink);
	}
	c->ctx = NULL;
	c->pkt = NULL;
	if (again) {
		NOTE_PUT_LIT(ctx->note, "; ");
		return stage_drop(ctx, DROP_ROUTE_POLICY_DENIED, "a retransmission of a denied request's bytes, at gateway "
		                  "endpoint %s (its 403 was already sent)", ep->vpce);
	}
	if (c->seg_denied || (was_discarding && len > 0)) {
		NOTE_PUT_LIT(ctx->note, "; ");
		return stage_drop(ctx, DROP_ROUTE_POLICY_DENIED, "at gateway endpoint %s", ep->vpce);
	}
	return VERDICT_FORWARD;
}

/* S3's sequence number as the client receives it. */
static bool map_server_seq(const struct ep_conn *c, uint32_t seq, uint32_t *out)
{
	const struct ep_splice *sp = &c->splice;
	if (!sp->active) {
		*out = seq + (uint32_t)c->shift;
		return true;
	}
	if (tcp_seq_after(sp->cap_start, seq)) {
		*out = seq + (uint32_t)sp->shift_before;
		return true;
	}
	if (!sp->end_known || tcp_seq_after(sp->cap_end, seq))
		return false; /* inside the replaced response */
	*out = seq + (uint32_t)c->shift;
	return true;
}

enum reverse_answer endpoint_policy_reverse(struct endpoint_policy *ep, struct packet *p, struct stage_ctx *ctx)
{
	if (p->ip.proto != IPPROTO_TCP || !p->ip.has_ports)
		return REVERSE_TRANSLATED;
	struct ep_conn *c = conn_find(ep, p->ip.dst, p->ip.dport, p->ip.src, p->ip.sport);
	uint8_t fl = p->ip.tcp_flags;
	uint32_t seq = tcp_segment_seq(p), len = tcp_segment_payload_len(p);

	if (!c)
		return REVERSE_TRANSLATED;
	if (fl & TH_RST) {
		conn_clear(c);
		return REVERSE_TRANSLATED;
	}
	if ((fl & TH_SYN) && (fl & TH_ACK)) {
		tcp_stream_start(&c->resp, seq + 1);
		c->resp_base = seq + 1;
		return REVERSE_TRANSLATED;
	}
	if (!tcp_stream_started(&c->resp)) {
		tcp_stream_pick_up(&c->resp, seq);
		c->resp_base = seq;
	}
	c->ctx = ctx;
	c->pkt = p;
	if (len > 0 && !c->lost && !c->replacing && !c->resp_in_msg && c->p_n && c->pending[c->p_head].denied &&
	    tcp_stream_next_seq(&c->resp) == seq) {
		c->replacing = true;
		c->splice = (struct ep_splice){ .active = true, .cap_start = seq, .cap_end = seq,
			                        .len = c->pending[c->p_head].answer_len, .shift_before = c->shift };
	}
	if ((len > 0 || (fl & TH_FIN)) && !c->lost) {
		const struct tcp_stream_consumer sink = { .data = resp_data, .fin = resp_fin, .ctx = c };
		uint32_t captured = p->payload_len < len ? p->payload_len : len;
		tcp_stream_feed(&c->resp, seq, p->data + p->payload_off, captured, len, (fl & TH_FIN) != 0, &sink);
	}
	c->ctx = NULL;
	c->pkt = NULL;
	uint32_t mapped;
	if (len > 0 && !map_server_seq(c, seq, &mapped)) {
		ep->replaced++;
		note_appendf(ctx->note, "the captured response on connection #%" G_GUINT64_FORMAT " (%u bytes) answers a "
		             "request gateway endpoint %s denied: its 403 AccessDenied went to the client in its place",
		             c->id, len, ep->vpce);
		ctx->drop = DROP_ROUTE_POLICY_ANSWERED;
		return REVERSE_REPLACED;
	}
	if (len == 0 && !map_server_seq(c, seq, &mapped))
		mapped = seq + (uint32_t)c->splice.shift_before + c->splice.len; /* an ACK inside: after the answer */
	if (mapped != seq) {
		tcp_segment_set_seq(p, mapped);
		ctx->renumbered = true;
		note_appendf(ctx->note, "seq %+" G_GINT64_FORMAT " (gateway endpoint %s's own 403 answers on connection #%"
		             G_GUINT64_FORMAT ")", (int64_t)(int32_t)(mapped - seq), ep->vpce, c->id);
	}
	return REVERSE_TRANSLATED;
}

static uint32_t add_delta(uint32_t v, uint32_t delta)
{
	return v + delta;
}

void endpoint_policy_arriving(const struct endpoint_policy *ep, struct packet *p, struct stage_ctx *ctx)
{
	if (p->ip.proto != IPPROTO_TCP || !p->ip.has_ports || !(p->ip.tcp_flags & TH_ACK))
		return;
	const struct ep_conn *c = conn_find(ep, p->ip.src, p->ip.sport, p->ip.dst, p->ip.dport);
	if (!c || (!c->splice.active && c->shift == 0))
		return;
	const struct ep_splice *sp = &c->splice;
	uint32_t a = tcp_segment_ack(p), want;
	if (!sp->active)
		want = a + (uint32_t)c->shift;
	else if (!tcp_seq_after(a, sp->cap_start))
		want = a + (uint32_t)sp->shift_before;
	else if (!sp->end_known || tcp_seq_after(sp->cap_end, a))
		want = sp->cap_start + (uint32_t)sp->shift_before + MIN(a - sp->cap_start, sp->len);
	else
		want = a + (uint32_t)c->shift;
	if (want == a)
		return;
	tcp_segment_map_acks(p, add_delta, want - a);
	note_appendf(ctx->note, "ack %+" G_GINT64_FORMAT ": the client acknowledges gateway endpoint %s's 403, not the "
	             "capture's response", (int64_t)(int32_t)(want - a), ep->vpce);
}

struct endpoint_policy *endpoint_policy_new(const char *vpce, struct iam_policy *policy, const char *written,
                                            GError **err)
{
	char errbuf[LIBNET_ERRBUF_SIZE];
	libnet_t *l = libnet_init(LIBNET_NONE, NULL, errbuf);
	if (!l) {
		g_set_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "libnet: %s", errbuf);
		iam_policy_free(policy);
		return NULL;
	}
	struct endpoint_policy *ep = g_new0(struct endpoint_policy, 1);
	ep->vpce = g_strdup(vpce);
	ep->written = g_strdup(written);
	ep->policy = policy;
	ep->lnet = l;
	ep->conns = g_new0(struct ep_conn, ENDPOINT_POLICY_MAX_CONNS);
	return ep;
}

void endpoint_policy_free(struct endpoint_policy *ep)
{
	if (!ep)
		return;
	for (unsigned i = 0; i < ENDPOINT_POLICY_MAX_CONNS; i++)
		conn_clear(&ep->conns[i]);
	g_free(ep->conns);
	libnet_destroy(ep->lnet);
	iam_policy_free(ep->policy);
	g_free(ep->vpce);
	g_free(ep->written);
	g_free(ep);
}

const struct iam_policy *endpoint_policy_document(const struct endpoint_policy *ep)
{
	return ep->policy;
}

const char *endpoint_policy_name(const struct endpoint_policy *ep)
{
	return ep->vpce;
}

const char *endpoint_policy_written(const struct endpoint_policy *ep)
{
	return ep->written;
}

void endpoint_policy_stats(const struct endpoint_policy *ep, GString *out)
{
	g_string_append_printf(out, "    endpoint %s policy: %" G_GUINT64_FORMAT " request%s allowed, %" G_GUINT64_FORMAT
	                       " denied (answered 403 AccessDenied), %" G_GUINT64_FORMAT " not S3 request%s natlb maps; %"
	                       G_GUINT64_FORMAT " captured response%s replaced; %" G_GUINT64_FORMAT " connection%s evicted\n",
	                       ep->vpce, ep->allowed, note_plural(ep->allowed), ep->denied, ep->not_s3,
	                       note_plural(ep->not_s3), ep->replaced, note_plural(ep->replaced), ep->evicted,
	                       note_plural(ep->evicted));
}
