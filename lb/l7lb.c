/* lb/l7lb.c: the `l7-lb` stage's data path: an AWS ALB-style full proxy that routes each HTTP request by its rules (RFC 9112; AWS "Listener rules for your Application Load Balancer").
 *
 * Left of the stage are the clients, who connect to a listener (VIP:port); right of it the
 * targets.  Unlike the l4-lb, no packet crosses this stage: every client packet ends here
 * (VERDICT_CONSUMED), and every packet on the target side is one the balancer sent or received
 * on a TCP connection of its own.  The capture is on the client side, so:
 *
 *   client > VIP (captured)   process(): the request stream is reassembled (common/tcp_stream.h)
 *                             and framed (lb/http1.h); each complete request head is routed
 *                             (lb/l7_rules.h) and sent to a target over a backend connection,
 *                             opened with a handshake the first time this client connection uses
 *                             that target: emitted on the right, away from the stage.
 *   VIP > client (captured)   reverse(): the balancer sent it (REVERSE_ORIGINATED).  The bytes of
 *                             a response to a forwarded request came from its target first: they
 *                             are emitted on the right, towards the stage and ahead of the
 *                             captured packet, with the balancer's acknowledgement.  The response
 *                             to a request the balancer answered itself (fixed-response, redirect,
 *                             400, 503) never left it: REVERSE_REPLACED.
 *
 * reverse() is the only call the stage gets for a packet it originated, so, unlike other
 * stages' reverse(), it keeps the books for it (the response stream, outstanding requests).
 *
 * Every choice (ports, sequence numbers, trace ids, weighted picks) comes from --seed and the
 * connection, so a replay is repeatable.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/answer.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "lb/l7_rules.h"
#include "lb/l7lb.h"

#define NS_PER_SECOND G_GINT64_CONSTANT(1000000000)

/* The notes of the packets of every request are built from pieces, without printf: at 500,000
 * requests formatting them would cost more than the proxying they describe (common/note.h). */
#define NOTE_LIT(s, lit) NOTE_PUT_LIT(s, lit)

/* A piece of the request head, which may be absent (no Host header: t is NULL, and memcpy must
 * not see it even for 0 bytes). */
static void note_text(GString *s, const char *t, size_t n)
{
	if (t)
		note_put(s, t, n);
}

/* "; " between two sentences of the packet in hand's note: the loop has written the stage's name
 * before the first (c->note_start). */
static const char *note_gap(const struct l7lb_conn *c)
{
	return c->ctx->note->len > c->note_start ? "; " : "";
}

static void note_sep(const struct l7lb_conn *c)
{
	g_string_append(c->ctx->note, note_gap(c));
}

/* ---- connections --------------------------------------------------------------------------------- */

struct conn_key {
	uint32_t client, vip;
	uint16_t cport, vport;
};

static guint conn_key_hash(gconstpointer k)
{
	const struct conn_key *c = k;
	return (guint)l7lb_mix64((uint64_t)c->client << 32 ^ c->vip ^ (uint64_t)c->cport << 16 ^ c->vport);
}

static gboolean conn_key_equal(gconstpointer a, gconstpointer b)
{
	const struct conn_key *x = a, *y = b;
	return x->client == y->client && x->vip == y->vip && x->cport == y->cport && x->vport == y->vport;
}

static void conn_free(gpointer data)
{
	struct l7lb_conn *c = data;
	if (c->closed)
		g_queue_unlink(&c->lb->closed, &c->closed_link);
	for (unsigned i = 0; i < c->n_pending; i++) {
		struct l7lb_request *rq = &c->pending[(c->pending_head + i) % L7LB_PENDING_MAX];
		/* an answer deferred behind a response that never came is freed with its request */
		g_free(rq->log_tail);
		g_free(rq->answer);
	}
	tcp_stream_clear(&c->req_stream);
	tcp_stream_clear(&c->resp_stream);
	http1_stream_clear(&c->req_http);
	http1_stream_clear(&c->resp_http);
	g_free(c);
}

GHashTable *l7lb_conn_table_new(void)
{
	return g_hash_table_new_full(conn_key_hash, conn_key_equal, g_free, conn_free);
}

static int listener_find(const struct l7lb *lb, uint32_t vip, uint16_t port)
{
	for (unsigned i = 0; i < lb->n_listeners; i++)
		if (lb->listeners[i].vip == vip && lb->listeners[i].port == port)
			return (int)i;
	return -1;
}

static bool is_vip(const struct l7lb *lb, uint32_t addr)
{
	for (unsigned i = 0; i < lb->n_listeners; i++)
		if (lb->listeners[i].vip == addr)
			return true;
	return false;
}

static struct l7lb_conn *conn_find(const struct l7lb *lb, uint32_t client, uint16_t cport, uint32_t vip, uint16_t vport)
{
	struct conn_key k = { .client = client, .vip = vip, .cport = cport, .vport = vport };
	return g_hash_table_lookup(lb->conns, &k);
}

static void conn_row(const struct l7lb *lb, const struct l7lb_conn *c, struct table_row *row, char *flags, size_t n)
{
	unsigned nb = 0;
	for (unsigned i = 0; i < L7LB_BACKENDS_PER_CONN; i++)
		nb += c->backends[i].group >= 0 && !c->backends[i].closed;
	*row = (struct table_row){
		.id = c->id, .proto = IPPROTO_TCP, .expires_ns = c->last_ns + lb->idle_ns,
		.state = c->closed ? "CLOSED" : c->client_fin || c->server_fin ? "CLOSING" : "ESTABLISHED",
		.orig = { .src = c->client, .dst = c->vip, .sport = c->cport, .dport = c->vport },
		.reply = { .src = c->vip, .dst = c->client, .sport = c->vport, .dport = c->cport },
		.flags = flags,
	};
	g_snprintf(flags, n, "requests=%u in-flight=%u backends=%u%s", c->n_requests, c->n_pending, nb,
	           c->midstream ? " mid-stream" : "");
}

static void conn_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind, const struct l7lb_conn *c,
                       const char *why)
{
	struct table_row row;
	char flags[96];
	if (!ctx->tables)
		return;
	conn_row(st->priv, c, &row, flags, sizeof flags);
	stage_table_event(ctx, st, kind, &row, why);
}

/* Both sides have closed (or the client reset): the entry stays L7LB_CLOSED_KEEP_S, so that a
 * late segment still finds it, but no longer counts as active. */
static void conn_closed(struct stage *st, struct l7lb_conn *c, struct stage_ctx *ctx)
{
	struct l7lb *lb = st->priv;

	if (c->closed)
		return;
	c->closed = true;
	c->closed_ns = ctx->now_ns;
	c->closed_link = (GList){ .data = c };
	g_queue_push_tail_link(&lb->closed, &c->closed_link);
	conn_event(ctx, st, TABLE_EVENT_EXPIRED, c, "closed by both sides");
}

static void conn_remove(struct l7lb *lb, const struct l7lb_conn *c)
{
	const struct conn_key k = { .client = c->client, .vip = c->vip, .cport = c->cport, .vport = c->vport };
	g_hash_table_remove(lb->conns, &k);
}

/* Room for one more connection: a closed one gives its place up first, the oldest. */
static bool conn_table_full(struct l7lb *lb)
{
	if (g_hash_table_size(lb->conns) < lb->max_conns)
		return false;
	if (!lb->closed.head)
		return true;
	conn_remove(lb, lb->closed.head->data);
	return false;
}

static void close_backends(struct l7lb_conn *c, const char *why);
static void backend_close(struct l7lb_conn *c, struct l7lb_backend *b, const char *why);
static void on_request_head(void *data, const struct http1_head *h);
static void on_request_end(void *data, uint64_t msg_end);
static void on_request_error(void *data, uint64_t offset, enum http1_error e);
static void on_response_head(void *data, const struct http1_head *h);
static void on_response_end(void *data, uint64_t msg_end);
static void on_response_error(void *data, uint64_t offset, enum http1_error e);
static void response_done(struct l7lb_conn *c);

static const struct http1_limits alb_limits = {
	.max_line = 16 * 1024, /* ALB: request line and each header at most 16 KB */
	.max_head = 64 * 1024, /* all headers at most 64 KB */
	.max_headers = 100,
};

static struct l7lb_conn *conn_new(struct stage *st, struct stage_ctx *ctx, uint32_t client, uint16_t cport,
                                  uint32_t vip, uint16_t vport, bool midstream)
{
	struct l7lb *lb = st->priv;
	struct conn_key *k = g_new(struct conn_key, 1);
	struct l7lb_conn *c = g_new0(struct l7lb_conn, 1);
	static const struct tcp_stream_limits hold = { .max_held_bytes = L7LB_HOLD_BYTES, .max_held_segments = 64 };

	*k = (struct conn_key){ .client = client, .vip = vip, .cport = cport, .vport = vport };
	c->id = ++lb->next_conn_id;
	c->client = client;
	c->cport = cport;
	c->vip = vip;
	c->vport = vport;
	c->lb = lb;
	c->last_ns = ctx->now_ns;
	c->current_backend = -1;
	for (unsigned i = 0; i < L7LB_BACKENDS_PER_CONN; i++)
		c->backends[i].group = c->backends[i].target = -1;
	tcp_stream_init(&c->req_stream, &hold);
	tcp_stream_init(&c->resp_stream, &hold);
	struct http1_consumer req = { .head = on_request_head, .end = on_request_end, .error = on_request_error, .ctx = c };
	struct http1_consumer resp = { .head = on_response_head, .end = on_response_end, .error = on_response_error,
	                               .ctx = c };
	if (midstream) {
		http1_stream_init_midstream(&c->req_http, HTTP1_REQUESTS, &alb_limits, &req);
		http1_stream_init_midstream(&c->resp_http, HTTP1_RESPONSES, &alb_limits, &resp);
	} else {
		http1_stream_init(&c->req_http, HTTP1_REQUESTS, &alb_limits, &req);
		http1_stream_init(&c->resp_http, HTTP1_RESPONSES, &alb_limits, &resp);
	}
	http1_stream_share_spares(&c->req_http, &lb->spares);
	http1_stream_share_spares(&c->resp_http, &lb->spares);
	c->midstream = midstream;
	c->resp_lost = midstream;
	g_hash_table_replace(lb->conns, k, c);
	lb->metrics[L7LB_METRIC_NEW_CONNECTION_COUNT]++;
	conn_event(ctx, st, TABLE_EVENT_CREATED, c, midstream ? "picked up mid-stream" : "SYN from the client");
	return c;
}

/* ---- emitting on the target side ----------------------------------------------------------------- */

/* Emitted packets are stamped in order, one hop apart: after the packet in hand in process(),
 * before it in reverse() (the target's response came before the balancer's copy of it), and
 * never before what the stage emitted last, so the target side reads in time order. */
static int64_t emit_offset(struct l7lb_conn *c)
{
	struct l7lb *lb = c->lb;
	int64_t at = c->ctx->now_ns + c->emit_base + (int64_t)(++c->emitted) * PIPELINE_HOP_NS;
	if (at <= lb->last_emit_ns)
		at = lb->last_emit_ns + 1;
	lb->last_emit_ns = at;
	return at - c->ctx->now_ns;
}

/* "l7-lb NAME: text" in lb->note, for a segment the balancer sends towards a target: it goes
 * straight onto the target's link, so it carries the stage's sentence itself (stage_emit copies it). */
static const char *balancer_note(struct l7lb *lb, const char *text)
{
	g_string_truncate(lb->note, 0);
	NOTE_LIT(lb->note, "l7-lb ");
	note_put(lb->note, lb->name, strlen(lb->name));
	NOTE_LIT(lb->note, ": ");
	note_put(lb->note, text, strlen(text));
	return lb->note->str;
}

/* One segment on backend b: from the balancer to the target, or from the target back. */
static void backend_segment(struct l7lb_conn *c, struct l7lb_backend *b, bool from_target, uint8_t flags,
                            const uint8_t *payload, uint32_t len, const char *note)
{
	struct l7lb *lb = c->lb;
	const struct l7lb_target *t = &lb->groups[b->group].targets[b->target];
	struct l7lb_segment s = { .flags = flags, .payload = payload, .len = len };

	if (from_target) {
		s.src = t->ip, s.sport = t->port, s.dst = lb->address, s.dport = b->sport;
		s.seq = b->rcv_nxt, s.ack = b->snd_nxt, s.ip_id = b->target_ip_id++;
		b->rcv_nxt += len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	} else {
		s.src = lb->address, s.sport = b->sport, s.dst = t->ip, s.dport = t->port;
		s.seq = b->snd_nxt, s.ack = b->rcv_nxt, s.ip_id = b->ip_id++;
		b->snd_nxt += len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	}
	uint32_t n = l7lb_wire_segment(lb->frame, c->pkt, &s);
	stage_emit(c->ctx, SIDE_RIGHT, from_target ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT, emit_offset(c), lb->frame, n,
	           note);
}

/* Bytes on backend b, cut into segments of at most one MSS, each acknowledged by the receiver. */
static void backend_data(struct l7lb_conn *c, struct l7lb_backend *b, bool from_target, const uint8_t *bytes,
                         uint64_t len, const char *note)
{
	while (len > 0) {
		uint32_t n = len > L7LB_MSS ? L7LB_MSS : (uint32_t)len;
		backend_segment(c, b, from_target, TH_ACK | TH_PUSH, bytes, n, note);
		bytes += n;
		len -= n;
		/* The target's segments are described when they reach the stage (l7lb_process); the
		 * balancer's go straight onto the target's link, so each says what it is here. */
		note = from_target ? NULL : balancer_note(c->lb, "more of the same request, one MSS a segment");
	}
	backend_segment(c, b, !from_target, TH_ACK, NULL, 0,
	                from_target ? balancer_note(c->lb, "the balancer's ACK of the target's response bytes") : NULL);
}

/* "l7-lb NAME: backend connection #4 10.0.1.2:40001 -> 10.0.1.12:8080 for client 198.51.100.7:51000" */
static void format_backend(GString *s, const struct l7lb *lb, const struct l7lb_conn *c, const struct l7lb_backend *b)
{
	const struct l7lb_target *t = &lb->groups[b->group].targets[b->target];
	NOTE_LIT(s, "l7-lb ");
	note_put(s, lb->name, strlen(lb->name));
	NOTE_LIT(s, ": backend connection #");
	note_append_uint(s, (unsigned)b->id);
	g_string_append_c(s, ' ');
	note_append_endpoint(s, lb->address, b->sport);
	NOTE_LIT(s, " -> ");
	note_put(s, t->name, strlen(t->name));
	NOTE_LIT(s, " for client ");
	note_append_endpoint(s, c->client, c->cport);
}

static void note_backend(GString *s, const struct l7lb *lb, const struct l7lb_conn *c, const struct l7lb_backend *b)
{
	if (b->note_len)
		note_put(s, b->note, b->note_len);
	else
		format_backend(s, lb, c, b);
}

/* b->note, for the life of the connection: its addresses and number never change. */
static void keep_backend_note(struct l7lb *lb, const struct l7lb_conn *c, struct l7lb_backend *b)
{
	GString *n = lb->note;
	g_string_truncate(n, 0);
	format_backend(n, lb, c, b);
	b->note_len = 0;
	if (n->len < sizeof b->note) {
		memcpy(b->note, n->str, n->len);
		b->note_len = (uint8_t)n->len;
	}
}

/* The backend connection of c to target t of group g, opened (handshake emitted) if need be;
 * NULL when c has used all its slots.  ALB pipelines on front-end connections only, never on
 * backend ones ("How Elastic Load Balancing works", HTTP connections): a connection to t that
 * still awaits a response is not given another request while a slot can open a second one. */
static struct l7lb_backend *backend_for(struct stage *st, struct l7lb_conn *c, unsigned g, unsigned t)
{
	struct l7lb *lb = st->priv;
	struct l7lb_backend *free_slot = NULL, *busy_to_t = NULL;

	for (unsigned i = 0; i < L7LB_BACKENDS_PER_CONN; i++) {
		struct l7lb_backend *b = &c->backends[i];
		if (b->group == (int16_t)g && b->target == (int16_t)t && !b->closed) {
			if (b->outstanding == 0)
				return b;
			busy_to_t = b;
		}
		if (!free_slot && (b->group < 0 || (b->closed && b->outstanding == 0)))
			free_slot = b;
	}
	if (!free_slot) {
		/* Every slot in use: the one with nothing in flight closes, as a proxy's idle backend
		 * connections do, and its slot opens the new one. */
		for (unsigned i = 0; i < L7LB_BACKENDS_PER_CONN && !free_slot; i++)
			if (c->backends[i].outstanding == 0 && (int)i != c->current_backend)
				free_slot = &c->backends[i];
		if (!free_slot)
			return busy_to_t; /* more in flight than slots: queued behind the busy one */
		backend_close(c, free_slot, "idle; its slot goes to a connection to another target");
	}
	struct l7lb_backend *b = free_slot;
	*b = (struct l7lb_backend){ .id = ++lb->next_backend_id, .group = (int16_t)g, .target = (int16_t)t };
	b->sport = lb->next_sport;
	lb->next_sport = lb->next_sport >= 65535 ? 1024 : lb->next_sport + 1;
	uint64_t r = l7lb_mix64(c->ctx->seed ^ l7lb_mix64(b->id));
	b->snd_nxt = (uint32_t)r;
	b->rcv_nxt = (uint32_t)(r >> 32);
	b->ip_id = (uint16_t)(r >> 16);
	b->target_ip_id = (uint16_t)(r >> 40);

	keep_backend_note(lb, c, b);
	GString *n = lb->note; /* keep_backend_note() left the note there */
	NOTE_LIT(n, ": SYN (the balancer opens its own connection to the target)");
	backend_segment(c, b, false, TH_SYN, NULL, 0, n->str);
	b->rcv_nxt--; /* the target's ISN: its SYN-ACK carries rcv_nxt - 1 ... */
	backend_segment(c, b, true, TH_SYN | TH_ACK, NULL, 0, NULL);
	backend_segment(c, b, false, TH_ACK, NULL, 0, balancer_note(lb, "the balancer's ACK: the backend connection is open"));
	return b;
}

/* Close backend b: the balancer's FIN first, or the target's (from_target). */
static void backend_close_from(struct l7lb_conn *c, struct l7lb_backend *b, bool from_target, const char *why)
{
	struct l7lb *lb = c->lb;
	if (b->group < 0 || b->closed)
		return;
	g_string_truncate(lb->note, 0);
	note_backend(lb->note, lb, c, b);
	note_appendf(lb->note, ": %s (%s)", from_target ? "FIN from the target" : "FIN", why);
	backend_segment(c, b, from_target, TH_FIN | TH_ACK, NULL, 0, lb->note->str);
	/* the balancer's own segments go straight onto the target's link: each says what it is */
	backend_segment(c, b, !from_target, TH_FIN | TH_ACK, NULL, 0,
	                from_target ? balancer_note(lb, "the balancer's FIN in answer: the backend connection closes") : NULL);
	backend_segment(c, b, from_target, TH_ACK, NULL, 0,
	                from_target ? NULL
	                            : balancer_note(lb, "the balancer's ACK of the target's FIN: the backend connection is closed"));
	b->closed = true;
}

static void backend_close(struct l7lb_conn *c, struct l7lb_backend *b, const char *why)
{
	backend_close_from(c, b, false, why);
}

/* ---- requests ------------------------------------------------------------------------------------- */

static struct l7lb_request *pending_at(struct l7lb_conn *c, unsigned i)
{
	return &c->pending[(c->pending_head + i) % L7LB_PENDING_MAX];
}

/* The target of group g that gets the next request: among the healthy ones, or, when none is,
 * among all (ALB fails open: *fail_open says so). */
static int target_pick(struct l7lb *lb, unsigned g, unsigned *outstanding, bool *fail_open)
{
	struct l7lb_group *grp = &lb->groups[g];
	unsigned healthy = 0;
	if (grp->n_targets == 0)
		return -1;
	for (unsigned i = 0; i < grp->n_targets; i++)
		healthy += grp->targets[i].state == L7LB_TARGET_HEALTHY;
	*fail_open = healthy == 0;
	int best = -1;
	/* Least outstanding requests: ties go round robin, as ALB's do, so that an idle group still
	 * spreads its requests.  Round robin: the next usable one in turn. */
	for (unsigned k = 0; k < grp->n_targets; k++) {
		unsigned i = (grp->rr_next + k) % grp->n_targets;
		if (!*fail_open && grp->targets[i].state != L7LB_TARGET_HEALTHY)
			continue;
		if (best < 0 || (grp->algorithm == L7LB_LEAST_OUTSTANDING &&
		                 grp->targets[i].outstanding < grp->targets[best].outstanding))
			best = (int)i;
		if (grp->algorithm == L7LB_ROUND_ROBIN)
			break;
	}
	grp->rr_next = (unsigned)best + 1;
	*outstanding = grp->targets[best].outstanding;
	return best;
}

/* The events due by now, in order: each target of that address, in every group, changes state. */
static void events_run(struct l7lb *lb, int64_t now_ns)
{
	while (lb->next_event < lb->n_events && lb->t0_ns + lb->events[lb->next_event].at_ns <= now_ns) {
		const struct l7lb_event *ev = &lb->events[lb->next_event++];
		for (unsigned g = 0; g < lb->n_groups; g++)
			for (unsigned t = 0; t < lb->groups[g].n_targets; t++)
				if (lb->groups[g].targets[t].ip == ev->ip && lb->groups[g].targets[t].port == ev->port)
					lb->groups[g].targets[t].state = ev->to;
	}
}

static int group_find(const struct l7lb *lb, const char *name)
{
	for (unsigned i = 0; i < lb->n_groups; i++)
		if (strcmp(lb->groups[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- the client side ----------------------------------------------------------------------------
 *
 * What the client receives is the capture's server stream, except that a response the balancer
 * gave itself takes the place of the capture's response to that request.  So the balancer's
 * sequence numbers are the capture's plus c->shift, which grows by each answer's length and
 * shrinks by the length of the capture's response it replaced; the captured segments to the
 * client are renumbered in reverse(), and the client's acknowledgements in arriving().
 */

/* The capture's server sequence number at response stream offset off. */
static uint32_t capture_seq_at(const struct l7lb_conn *c, uint64_t off)
{
	return c->resp_base_seq + (uint32_t)off;
}

/* The acknowledgement number the balancer sends with its own segments: the client's next byte,
 * counting the segment in hand when it is the client's (the stream has not moved past it yet). */
static uint32_t client_next_seq(const struct l7lb_conn *c)
{
	const struct packet *p = c->pkt;
	uint32_t ack = tcp_stream_next_seq(&c->req_stream);
	if (p->ip.src == c->client) {
		uint32_t end = tcp_segment_seq(p) + tcp_segment_payload_len(p) + ((p->ip.tcp_flags & TH_FIN) != 0);
		if (tcp_seq_after(end, ack))
			ack = end;
	}
	return ack;
}

/* One segment of the balancer's own to the client, built with libnet, offset_ns after the packet
 * in hand, behind that packet's link header (turned round when it came from the client). */
static bool emit_to_client(struct l7lb_conn *c, uint8_t flags, uint32_t seq, const uint8_t *bytes, uint32_t len,
                           int64_t offset_ns, const char *note)
{
	struct l7lb *lb = c->lb;
	libnet_t *l = (libnet_t *)lb->lnet;
	uint32_t ack = client_next_seq(c);

	/* the window the capture's server advertises (its scale was agreed in the captured handshake) */
	uint16_t window = c->resp_window ? c->resp_window : 65535;
	if (libnet_build_tcp(c->vport, c->cport, seq, ack, flags, window, 0, 0, LIBNET_TCP_H + len, bytes, len, l, 0) == -1 ||
	    libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + LIBNET_TCP_H + len), 0, 0, 0x4000, 64, IPPROTO_TCP, 0,
	                      g_htonl(c->vip), g_htonl(c->client), NULL, 0, l, 0) == -1) {
		libnet_clear_packet(l);
		return false;
	}
	if (!answer_emit_to(c->ctx, (struct libnet_context *)l, c->pkt, c->client, SIDE_LEFT, DIR_RIGHT_TO_LEFT,
	                    offset_ns, lb->answer_frame, L7LB_FRAME_MAX, note))
		return false;
	c->resp_last_ack = ack;
	return true;
}

/* The balancer closes the connection itself (after an Ambiguous request's response, or an answer
 * that says Connection: close), as ALB does, instead of waiting for the capture's FIN: its FIN goes
 * right after what it has sent, at seq.  Nothing the capture's server sends later reaches the
 * client (to_client() renumbers or withholds it), and no more requests are read. */
static void send_own_fin(struct l7lb_conn *c, uint32_t seq, int64_t offset_ns, const char *why)
{
	char note[200];

	if (c->server_fin || !c->pkt->ip.has_ports || !tcp_stream_started(&c->req_stream))
		return;
	g_snprintf(note, sizeof note, "l7-lb %s: the balancer closes connection #%" G_GUINT64_FORMAT " itself: %s",
	           c->lb->name, c->id, why);
	if (!emit_to_client(c, TH_ACK | TH_FIN, seq, NULL, 0, offset_ns, note))
		return;
	c->server_fin = c->own_fin = c->rejected = true;
	c->own_fin_seq = seq;
	close_backends(c, why);
}

/* Send the balancer's own answer (bytes) to the client now, right after the packet in hand, at the
 * point of the server stream that the capture has reached; its FIN follows when it closes. */
static void send_answer(struct l7lb_conn *c, struct l7lb_request *rq, const char *bytes, uint32_t len)
{
	struct l7lb *lb = c->lb;
	char note[320];

	if (!c->pkt->ip.has_ports || !tcp_stream_started(&c->req_stream) || c->own_fin)
		return;
	uint32_t cap_seq = capture_seq_at(c, c->resp_answered_off);
	uint32_t seq = cap_seq + (uint32_t)c->shift;
	g_snprintf(note, sizeof note, "l7-lb %s: the balancer's own answer to request %u on connection #%" G_GUINT64_FORMAT
	           ": %u %s", lb->name, rq->number, c->id, rq->status, l7lb_reason_phrase(rq->status));
	if (!emit_to_client(c, TH_ACK | TH_PUSH, seq, (const uint8_t *)bytes, len, PIPELINE_HOP_NS, note))
		return;
	c->splice = (struct l7lb_splice){ .active = true, .cap_start = cap_seq, .cap_end = cap_seq, .len = len,
	                                  .shift_before = c->shift };
	c->shift += len;
	rq->sent_bytes = len;
	if (rq->answer_closes)
		send_own_fin(c, seq + len, 2 * PIPELINE_HOP_NS, "its answer said Connection: close");
}

/* Does a request before rq still wait for its response to reach the client? */
static bool answer_must_wait(struct l7lb_conn *c, const struct l7lb_request *rq)
{
	for (unsigned i = 0; i < c->n_pending; i++) {
		const struct l7lb_request *q = pending_at(c, i);
		if (q == rq)
			return false;
		if (q->outcome == L7LB_FORWARDED || q->answer)
			return true;
	}
	return false;
}

/* The balancer answers the request itself: now, or after the responses to the requests before it
 * (HTTP/1.1 answers in order). */
static void answer_client(struct l7lb_conn *c, struct l7lb_request *rq, unsigned code, const char *ctype,
                          const char *location, const char *body, size_t body_len, bool closing, const char *why)
{
	struct l7lb *lb = c->lb;

	(void)why;
	rq->outcome = L7LB_ANSWERED;
	rq->status = (uint16_t)code;
	if (code >= 500)
		lb->metrics[L7LB_METRIC_ELB_5XX]++;
	else if (code >= 400)
		lb->metrics[L7LB_METRIC_ELB_4XX]++;
	/* After a request it cannot frame (a parse error, a desync refusal) the balancer reads no more of
	 * the connection, so its answer says Connection: close, as ALB's 400 does. */
	l7lb_own_response(code, ctype, location, body, body_len, closing, lb->scratch);
	rq->answer_closes = closing;
	if (answer_must_wait(c, rq)) {
		rq->answer = g_memdup2(lb->scratch->str, lb->scratch->len);
		rq->answer_len = (uint32_t)lb->scratch->len;
		return;
	}
	send_answer(c, rq, lb->scratch->str, (uint32_t)lb->scratch->len);
	if (c->ctx->access_log)
		l7lb_log_done(lb, c, rq, c->ctx->access_log, c->ctx->now_ns, NULL);
}

/* The answers that waited for the response just completed. */
static void send_waiting_answers(struct l7lb_conn *c)
{
	if (c->server_fin)
		return; /* nothing follows the balancer's FIN: they go unanswered, as the capture shows */
	for (unsigned i = 0; i < c->n_pending; i++) {
		struct l7lb_request *q = pending_at(c, i);
		if (q->outcome == L7LB_FORWARDED)
			return;
		if (q->answer) {
			send_answer(c, q, q->answer, q->answer_len);
			g_clear_pointer(&q->answer, g_free);
			if (c->ctx->access_log)
				l7lb_log_done(c->lb, c, q, c->ctx->access_log, c->ctx->now_ns, NULL);
		}
	}
}

/* stage_ops.arriving: the client's acknowledgement numbers, from the capture's sequence numbers
 * into the balancer's. */
static uint32_t add_delta(uint32_t v, uint32_t delta)
{
	return v + delta;
}

static void l7lb_arriving(const struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	const struct l7lb *lb = st->priv;
	if (dir != DIR_LEFT_TO_RIGHT || p->ip.proto != IPPROTO_TCP || !p->ip.has_ports || !(p->ip.tcp_flags & TH_ACK))
		return;
	const struct l7lb_conn *c = conn_find(lb, p->ip.src, p->ip.sport, p->ip.dst, p->ip.dport);
	if (!c || (c->shift == 0 && !c->splice.active))
		return;
	uint32_t a = tcp_segment_ack(p);
	int64_t delta = c->shift;
	const struct l7lb_splice *sp = &c->splice;
	if (sp->active && !tcp_seq_after(a, sp->cap_start)) {
		delta = sp->shift_before; /* acknowledges what came before the balancer's answer */
	} else if (sp->active && (!sp->end_known || tcp_seq_after(sp->cap_end, a))) {
		/* inside the capture's replaced response: the client has the balancer's answer so far */
		uint32_t into = a - sp->cap_start;
		a = sp->cap_start;
		delta = sp->shift_before + (into < sp->len ? into : sp->len);
	}
	if (delta == 0)
		return;
	tcp_segment_map_acks(p, add_delta, (uint32_t)(a - tcp_segment_ack(p)) + (uint32_t)delta);
	note_appendf(ctx->note, "ack %+" G_GINT64_FORMAT ": the client acknowledges the balancer's own answers, not the "
	             "capture's responses", delta);
}

static void note_request(GString *s, const struct l7lb_conn *c, const struct l7lb_request *rq,
                         const struct http1_head *h)
{
	NOTE_LIT(s, "request ");
	note_append_uint(s, rq->number);
	NOTE_LIT(s, " on connection #");
	note_append_uint(s, (unsigned)c->id);
	NOTE_LIT(s, ": ");
	note_text(s, h->method, MIN(h->method_len, 16));
	g_string_append_c(s, ' ');
	note_text(s, h->host, MIN(h->host_len, 64));
	note_text(s, h->target, MIN(h->target_len, 96));
}

static void route_request(struct l7lb_conn *c, struct l7lb_request *rq, const struct http1_head *h)
{
	struct l7lb *lb = c->lb;
	struct stage_ctx *ctx = c->ctx;
	struct l7_request req = {
		.method = h->method, .method_len = h->method_len, .host = h->host, .host_len = h->host_len,
		.port = c->vport, .path = h->path, .path_len = h->path_len, .query = h->query, .query_len = h->query_len,
		.headers = (const struct l7_header *)h->headers, .n_headers = h->n_headers, .source_ip = c->client,
	};
	struct stage *acl = ctx->stage->web_acl;
	if (acl) {
		/* A web ACL is evaluated before the listener's rules; what it blocks the balancer answers
		 * with 403 and no target sees ("AWS WAF ... Application Load Balancer": the response
		 * code of a Block action is 403). */
		g_string_truncate(lb->note, 0);
		if (acl->ops->web_request_blocked(acl, c->client, c->vip, rq->received_bytes, ctx, lb->note)) {
			char waf_trace[48];
			l7lb_trace_id(ctx->seed, ctx->now_ns, c->id, rq->number, waf_trace);
			if (ctx->access_log)
				l7lb_log_request(lb, c, rq, h, NULL, waf_trace, "waf", NULL, NULL, ctx->now_ns);
			note_appendf(ctx->note, " -> %s: blocked as by a WAF web ACL, 403 from the balancer", lb->note->str);
			answer_client(c, rq, 403, "text/html", NULL, NULL, 0, false, "waf");
			return;
		}
	}
	unsigned evaluated = 0;
	const struct l7_rule *r = l7_rules_match(&lb->rules, &req, &evaluated, NULL);
	const struct l7_action *a = l7_rules_action(&lb->rules, r);

	lb->metrics[L7LB_METRIC_RULE_EVALUATIONS] += evaluated;
	rq->rule_priority = r ? r->priority : 0;
	if (r) {
		NOTE_LIT(ctx->note, " -> rule ");
		note_append_uint(ctx->note, r->priority);
		NOTE_LIT(ctx->note, " (");
		note_put(ctx->note, r->text, strlen(r->text));
		g_string_append_c(ctx->note, ')');
	} else {
		NOTE_LIT(ctx->note, " -> default");
	}

	char trace[48];
	l7lb_trace_id(ctx->seed, ctx->now_ns, c->id, rq->number, trace);
	switch (a->kind) {
	case L7_ACTION_FIXED_RESPONSE:
		if (ctx->access_log)
			l7lb_log_request(lb, c, rq, h, NULL, trace, "fixed-response", NULL, NULL, ctx->now_ns);
		lb->metrics[L7LB_METRIC_FIXED_RESPONSE]++;
		note_appendf(ctx->note, " -> fixed-response %u: the balancer answers", a->fixed.code);
		answer_client(c, rq, a->fixed.code, a->fixed.content_type, NULL, a->fixed.body, a->fixed.body_len, false,
		              "fixed-response");
		return;
	case L7_ACTION_REDIRECT: {
		GString *url = g_string_sized_new(128);
		l7_redirect_expand(a, &req, "http", url);
		lb->metrics[L7LB_METRIC_REDIRECT]++;
		if (ctx->access_log)
			l7lb_log_request(lb, c, rq, h, NULL, trace, "redirect", url->str, NULL, ctx->now_ns);
		note_appendf(ctx->note, " -> redirect %u %s", a->redirect.code, url->str);
		answer_client(c, rq, a->redirect.code, NULL, url->str, NULL, 0, false, "redirect");
		g_string_free(url, TRUE);
		return;
	}
	case L7_ACTION_FORWARD:
		break;
	}

	unsigned pick = a->forward.n_groups > 1
		? l7_forward_pick(a, l7lb_mix64(ctx->seed ^ l7lb_mix64(c->id << 20 ^ rq->number)))
		: 0;
	int g = group_find(lb, a->forward.groups[pick].name);
	unsigned outstanding = 0;
	bool fail_open = false;
	int t = g >= 0 ? target_pick(lb, (unsigned)g, &outstanding, &fail_open) : -1;
	if (t < 0) {
		if (ctx->access_log)
			l7lb_log_request(lb, c, rq, h, a->forward.groups[pick].name, trace, "forward", NULL,
			                 "TargetGroupHasNoTargets", ctx->now_ns);
		note_appendf(ctx->note, " -> %s, which has no target: 503 from the balancer", a->forward.groups[pick].name);
		answer_client(c, rq, 503, "text/html", NULL, NULL, 0, false, "the target group has no targets");
		return;
	}
	struct l7lb_group *grp = &lb->groups[g];
	struct l7lb_target *tg = &grp->targets[t];
	NOTE_LIT(ctx->note, " -> ");
	note_put(ctx->note, grp->name, strlen(grp->name));
	NOTE_LIT(ctx->note, " -> ");
	note_put(ctx->note, tg->name, strlen(tg->name));
	if (grp->algorithm == L7LB_LEAST_OUTSTANDING) {
		NOTE_LIT(ctx->note, " (least outstanding: ");
		note_append_uint(ctx->note, outstanding);
	} else {
		NOTE_LIT(ctx->note, " (round robin");
	}
	if (a->forward.n_groups > 1)
		note_appendf(ctx->note, "; weighted pick %u of %u", a->forward.groups[pick].weight, a->forward.total_weight);
	if (fail_open)
		NOTE_LIT(ctx->note, "; no healthy target: the group fails open to all its targets");
	g_string_append_c(ctx->note, ')');

	if (ctx->access_log)
		l7lb_log_request(lb, c, rq, h, grp->name, trace, "forward", NULL, NULL, ctx->now_ns);
	struct l7lb_backend *b = backend_for(c->ctx->stage, c, (unsigned)g, (unsigned)t);
	if (!b) {
		note_appendf(ctx->note, "; no backend connection left (%u per client connection): 503",
		             L7LB_BACKENDS_PER_CONN);
		answer_client(c, rq, 503, "text/html", NULL, NULL, 0, false, "too many backend connections");
		return;
	}
	l7lb_forwarded_head(lb, c, h, trace, lb->scratch);
	GString *n = lb->note;
	g_string_truncate(n, 0);
	note_backend(n, lb, c, b);
	NOTE_LIT(n, ": request ");
	note_append_uint(n, rq->number);
	NOTE_LIT(n, " of connection #");
	note_append_uint(n, (unsigned)c->id);
	if (lb->xff == L7LB_XFF_APPEND) {
		NOTE_LIT(n, "; X-Forwarded-For: ");
		note_append_ip4(n, c->client);
	}
	backend_data(c, b, false, (const uint8_t *)lb->scratch->str, lb->scratch->len, n->str);
	rq->outcome = L7LB_FORWARDED;
	c->body_end = h->has_content_length && !h->chunked ? h->head_end + h->content_length : 0;
	rq->backend = (int8_t)(b - c->backends);
	b->outstanding++;
	tg->outstanding++;
	tg->requests++;
	grp->requests++;
	c->current_backend = rq->backend;
}

/* Can the capture's responses still be paired with the requests?  Not once it lost bytes of the
 * response stream, or never showed its start, until a status line is found again. */
static bool response_place_lost(const struct l7lb_conn *c)
{
	return c->resp_lost || !tcp_stream_started(&c->resp_stream);
}

/* The oldest request in flight, whose response cannot be in what the capture kept of the stream:
 * the balancer stops waiting for it, so that the client's next requests are still read. */
static void retire_unanswered(struct l7lb_conn *c)
{
	note_appendf(c->ctx->note, "%sthe response to request %u on connection #%" G_GUINT64_FORMAT " is not in the "
	             "capture (it lost bytes of the response stream): the balancer stops waiting for it", note_gap(c),
	             pending_at(c, 0)->number, c->id);
	c->lb->responses_not_captured++;
	response_done(c);
}

static void on_request_head(void *data, const struct http1_head *h)
{
	struct l7lb_conn *c = data;
	struct l7lb *lb = c->lb;

	if (c->n_pending >= L7LB_PENDING_MAX && response_place_lost(c))
		retire_unanswered(c);
	if (c->n_pending >= L7LB_PENDING_MAX) {
		note_appendf(c->ctx->note, "%smore than %u requests in flight on connection #%" G_GUINT64_FORMAT
		             ": the rest is not read", note_gap(c), L7LB_PENDING_MAX, c->id);
		c->rejected = true;
		return;
	}
	struct l7lb_request *rq = pending_at(c, c->n_pending++);
	*rq = (struct l7lb_request){ .number = ++c->n_requests, .backend = -1, .received_ns = c->ctx->now_ns };
	rq->head_method = h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
	rq->received_bytes = h->raw_len + (h->has_content_length ? h->content_length : 0);
	rq->classification_tier = (uint8_t)h->desync.tier;
	rq->classification_reason = (uint8_t)h->desync.reason;
	lb->metrics[L7LB_METRIC_REQUEST_COUNT]++;
	http1_stream_expect_response(&c->resp_http, rq->head_method);
	c->fwd_pos = h->head_end;
	c->current_backend = -1;

	note_sep(c);
	note_request(c->ctx->note, c, rq, h);
	if (h->desync.tier != DESYNC_COMPLIANT) {
		enum desync_action act = desync_action(lb->desync, h->desync);
		note_appendf(c->ctx->note, " [%s: %s]", desync_tier_name(h->desync.tier),
		             desync_reason_name(h->desync.reason));
		if (h->desync.tier >= DESYNC_AMBIGUOUS)
			lb->metrics[L7LB_METRIC_DESYNC_NON_COMPLIANT]++;
		if (act == DESYNC_REJECT_400) {
			if (c->ctx->access_log)
				l7lb_log_request(lb, c, rq, h, NULL, NULL, "-", NULL, "DesyncMitigationModeRejected", c->ctx->now_ns);
			note_appendf(c->ctx->note, " -> 400 from the balancer (desync mitigation %s)",
			             desync_mode_name(lb->desync));
			answer_client(c, rq, 400, "text/html", NULL, NULL, 0, true, "desync mitigation");
			c->rejected = true;
			return;
		}
		rq->close_after = act == DESYNC_FORWARD_THEN_CLOSE;
		if (rq->close_after)
			note_appendf(c->ctx->note, " (desync mitigation %s: routed, then both connections are closed)",
			             desync_mode_name(lb->desync));
	}
	c->in_message = true;
	route_request(c, rq, h);
}

/* Bytes [c->fwd_pos, upto) of the request stream go on to the backend the current request uses. */
static void forward_body(struct l7lb_conn *c, uint64_t base, const uint8_t *bytes, uint32_t n, uint64_t upto)
{
	uint64_t end = base + n;
	if (upto < end)
		end = upto;
	if (c->current_backend < 0 || c->fwd_pos >= end || c->fwd_pos < base) {
		if (c->fwd_pos < end)
			c->fwd_pos = end;
		return;
	}
	balancer_note(c->lb, "");
	note_append_uint(c->lb->note, (unsigned)(end - c->fwd_pos));
	NOTE_LIT(c->lb->note, " more bytes of the request's body, relayed to the target as the client sent them");
	backend_data(c, &c->backends[c->current_backend], false, bytes + (c->fwd_pos - base), end - c->fwd_pos,
	             c->lb->note->str);
	c->fwd_pos = end;
}

static void on_request_end(void *data, uint64_t msg_end)
{
	struct l7lb_conn *c = data;
	c->in_message = false;
	forward_body(c, c->feed_base, c->feed_bytes, c->feed_len, msg_end);
	c->current_backend = -1;
	c->fwd_pos = msg_end;
}

static void on_request_error(void *data, uint64_t offset, enum http1_error e)
{
	struct l7lb_conn *c = data;
	struct l7lb_request rq = { .number = c->n_requests + 1 };
	(void)offset;
	if (c->rejected)
		return; /* answered already: nothing after that request is read */
	if (e == HTTP1_ERR_GAP) {
		/* The capture lost bytes of this message, not the client: no balancer saw a bad request, so
		 * none answers 400.  request_gap() has said so; the framer looks for the next request. */
		c->in_message = false;
		c->current_backend = -1;
		return;
	}
	c->rejected = true;
	note_sep(c);
	if (c->in_message) {
		/* Its head was routed; where its body ends cannot be told: nothing more is read. */
		note_appendf(c->ctx->note, "cannot frame the body of request %u on connection #%" G_GUINT64_FORMAT
		             " (%s): the rest of the connection goes to the target as it comes", c->n_requests, c->id,
		             http1_error_text(e));
		c->passthrough = c->current_backend >= 0;
		return;
	}
	note_appendf(c->ctx->note, "cannot parse request %u on connection #%" G_GUINT64_FORMAT " (%s): 400 from the balancer",
	             rq.number, c->id, http1_error_text(e));
	if (c->n_pending < L7LB_PENDING_MAX) {
		struct l7lb_request *p = pending_at(c, c->n_pending++);
		*p = rq;
		c->n_requests++;
		answer_client(c, p, 400, "text/html", NULL, NULL, 0, true, http1_error_text(e));
	}
}

static void request_bytes(void *data, uint64_t offset, const uint8_t *bytes, uint32_t n)
{
	struct l7lb_conn *c = data;
	if (c->passthrough) {
		forward_body(c, offset, bytes, n, UINT64_MAX);
		return;
	}
	if (c->rejected)
		return;
	if (c->body_after_gap) {
		/* the rest of a body the capture lost bytes of: the target gets it; the framer reads on
		 * from where Content-Length says the body ends, a message boundary */
		forward_body(c, offset, bytes, n, c->body_end);
		if (offset + n <= c->body_end)
			return;
		c->body_after_gap = false;
		c->current_backend = -1;
		uint32_t skip = (uint32_t)(c->body_end - offset);
		offset += skip, bytes += skip, n -= skip;
	}
	c->feed_base = offset;
	c->feed_bytes = bytes;
	c->feed_len = n;
	http1_stream_feed(&c->req_http, offset, bytes, n);
	forward_body(c, offset, bytes, n, UINT64_MAX);
}

/* The capture lost bytes of a forwarded request's body, whose length its Content-Length gives: the
 * client did send them, so the target gets as many, of filler.  Its stream stays framed, and the
 * next request on the backend connection is not read as the rest of this body.  Returns the
 * backend that the rest of the body still goes to, -1 when the gap reached its end. */
static int forward_lost_body(struct l7lb_conn *c, uint64_t offset, uint32_t n)
{
	static const uint8_t filler[L7LB_MSS];
	if (!(c->in_message || c->body_after_gap) || c->current_backend < 0 || c->body_end <= offset ||
	    c->fwd_pos != offset)
		return -1;
	uint64_t lost = MIN(offset + n, c->body_end) - offset;
	note_appendf(c->ctx->note, "%s%" G_GUINT64_FORMAT " bytes of the body of request %u go to the target as "
	             "filler (it has their length, from Content-Length, not their content)", note_gap(c), lost,
	             c->n_requests);
	for (uint64_t sent = 0; sent < lost;) {
		uint32_t k = (uint32_t)MIN(lost - sent, sizeof filler);
		backend_data(c, &c->backends[c->current_backend], false, filler, k, NULL);
		sent += k;
	}
	c->fwd_pos = offset + lost;
	/* more of the body after the gap: it goes on to the same target (request_bytes) */
	c->body_after_gap = offset + n < c->body_end;
	return c->body_after_gap ? c->current_backend : -1;
}

static void request_gap(void *data, uint64_t offset, uint32_t n)
{
	struct l7lb_conn *c = data;
	c->lb->gap_bytes += n;
	note_appendf(c->ctx->note, "%scannot route request: %u bytes missing from the capture", note_gap(c), n);
	int body_goes_on = forward_lost_body(c, offset, n);
	http1_stream_gap(&c->req_http, offset, n);
	c->current_backend = body_goes_on;
	c->fwd_pos = offset + n;
}

/* ---- responses ------------------------------------------------------------------------------------ */

static void on_response_head(void *data, const struct http1_head *h)
{
	struct l7lb_conn *c = data;
	c->resp_lost = false; /* a status line: responses can be paired again */
	/* 100 Continue and its kind answer no request yet: their end does not complete one. */
	c->resp_informational = h->status < 200;
	if (c->resp_informational)
		return;
	/* The requests answered earlier in this segment are still pending until it has been split. */
	unsigned answered = 0;
	for (unsigned k = 0; k < c->n_resp_ends; k++)
		answered += c->resp_final[k];
	if (answered < c->n_pending) {
		struct l7lb_request *rq = pending_at(c, answered);
		if (rq->outcome == L7LB_FORWARDED) {
			rq->status = h->status;
			struct l7lb_backend *b = &c->backends[rq->backend];
			struct l7lb_target *t = &c->lb->groups[b->group].targets[b->target];
			t->codes[h->status / 100 % 6]++;
			unsigned d = h->status / 100;
			if (d >= 2 && d <= 5)
				c->lb->metrics[L7LB_METRIC_TARGET_2XX + d - 2]++;
		}
	}
}

static void on_response_end(void *data, uint64_t msg_end)
{
	struct l7lb_conn *c = data;
	if (c->n_resp_ends < L7LB_PENDING_MAX) {
		c->resp_final[c->n_resp_ends] = !c->resp_informational;
		c->resp_ends[c->n_resp_ends++] = msg_end;
	}
	c->resp_informational = false;
}

static void on_response_error(void *data, uint64_t offset, enum http1_error e)
{
	struct l7lb_conn *c = data;
	(void)offset;
	note_appendf(c->ctx->note, "%sthe captured response cannot be parsed (%s): relayed as bytes",
	             note_gap(c), http1_error_text(e));
}

/* The oldest pending request is answered: its target has one request less outstanding. */
static void response_done(struct l7lb_conn *c)
{
	struct l7lb_request *rq = pending_at(c, 0);
	if (rq->outcome == L7LB_FORWARDED && rq->backend >= 0) {
		struct l7lb_backend *b = &c->backends[rq->backend];
		struct l7lb_target *t = &c->lb->groups[b->group].targets[b->target];
		if (b->outstanding)
			b->outstanding--;
		if (t->outstanding)
			t->outstanding--;
		if (c->ctx->access_log)
			l7lb_log_done(c->lb, c, rq, c->ctx->access_log, c->ctx->now_ns, t);
	}
	g_clear_pointer(&rq->log_tail, g_free);
	g_clear_pointer(&rq->answer, g_free);
	if (rq->close_after) {
		note_appendf(c->ctx->note, "%sdesync mitigation: after this response the balancer closes connection #%"
		             G_GUINT64_FORMAT " and its backend connections", note_gap(c), c->id);
		close_backends(c, "desync mitigation closes the connection after an Ambiguous request");
		c->close_pending = true; /* its FIN follows the segment in hand: to_client() */
	}
	c->pending_head = (c->pending_head + 1) % L7LB_PENDING_MAX;
	c->n_pending--;
	send_waiting_answers(c);
}

/* Captured response bytes [offset, offset + n): each piece belongs to the oldest pending request;
 * relayed from its target, or withheld when the balancer answered that request itself. */
static void response_bytes(void *data, uint64_t offset, const uint8_t *bytes, uint32_t n)
{
	struct l7lb_conn *c = data;
	c->n_resp_ends = 0;
	http1_stream_feed(&c->resp_http, offset, bytes, n);
	uint64_t pos = offset, end = offset + n;
	unsigned k = 0;
	while (pos < end) {
		uint64_t upto = k < c->n_resp_ends ? c->resp_ends[k] : end;
		if (upto > end)
			upto = end;
		if (upto < pos)
			upto = pos;
		struct l7lb_request *rq = c->n_pending ? pending_at(c, 0) : NULL;
		if (rq && !rq->first_byte_ns)
			rq->first_byte_ns = c->ctx->now_ns;
		if (rq)
			rq->sent_bytes += upto - pos;
		if (c->own_fin && !(rq && rq->outcome == L7LB_ANSWERED)) {
			c->withheld += upto - pos; /* sent after the balancer's own FIN: the client never gets it */
			c->replaced_bytes = c->closed_bytes = true;
		} else if (rq && rq->outcome == L7LB_FORWARDED && rq->backend >= 0) {
			struct l7lb_backend *b = &c->backends[rq->backend];
			g_string_truncate(c->lb->note, 0);
			note_backend(c->lb->note, c->lb, c, b);
			NOTE_LIT(c->lb->note, ": the target's response to request ");
			note_append_uint(c->lb->note, rq->number);
			backend_data(c, b, true, bytes + (pos - offset), upto - pos, c->lb->note->str);
			c->relayed_bytes = true;
		} else if (rq) {
			c->withheld += upto - pos;
			c->replaced_bytes = true;
		} else {
			c->relayed_bytes = true; /* a response the capture shows without its request */
		}
		if (k < c->n_resp_ends) {
			c->resp_answered_off = upto;
			if (c->n_pending && c->resp_final[k])
				response_done(c);
			k++;
		}
		pos = upto;
	}
}

static void response_gap(void *data, uint64_t offset, uint32_t n)
{
	struct l7lb_conn *c = data;
	c->lb->gap_bytes += n;
	c->resp_lost = true;
	http1_stream_gap(&c->resp_http, offset, n);
}

/* The balancer's FIN, reached in order: a response without a length ends with it (RFC 9112
 * section 6.3 item 8), and answers its request like any other. */
static void response_fin(void *data, uint64_t offset)
{
	struct l7lb_conn *c = data;
	c->server_fin = true;
	c->n_resp_ends = 0;
	http1_stream_eof(&c->resp_http, offset);
	if (c->n_resp_ends && c->n_pending && c->resp_final[0]) {
		struct l7lb_request *rq = pending_at(c, 0);
		/* on the backend connection too, the target's close is what ends its response */
		if (rq->outcome == L7LB_FORWARDED && rq->backend >= 0)
			backend_close_from(c, &c->backends[rq->backend], true, "its response ends with its close");
		c->resp_answered_off = c->resp_ends[0];
		response_done(c);
	}
}

/* ---- the stage ------------------------------------------------------------------------------------ */

static void begin(struct l7lb_conn *c, struct stage_ctx *ctx, const struct packet *p, int64_t base)
{
	c->ctx = ctx;
	c->pkt = p;
	c->note_start = ctx->note->len;
	c->emitted = 0;
	c->emit_base = base;
	c->replaced_bytes = c->relayed_bytes = c->closed_bytes = false;
	c->last_ns = ctx->now_ns;
}

static void close_backends(struct l7lb_conn *c, const char *why)
{
	for (unsigned i = 0; i < L7LB_BACKENDS_PER_CONN; i++)
		backend_close(c, &c->backends[i], why);
}

/* Bytes held behind a hole for longer than a retransmission timeout (RFC 6298 2.4: at least 1 s)
 * would have been sent again by now: the capture lost them, and they will not come.  What is held
 * then goes to the framer after a gap, so that the requests (or responses) in it are still read.
 * *since: when the stream began to hold, 0 while it holds nothing. */
#define L7LB_HOLE_GIVE_UP_NS NS_PER_SECOND

static void give_up_holes(struct l7lb_conn *c, struct tcp_stream *s, int64_t *since,
                          const struct tcp_stream_consumer *sink, bool capture_ended)
{
	if (tcp_stream_counters(s)->held_segments_now == 0) {
		*since = 0;
		return;
	}
	if (!*since && !capture_ended) {
		*since = c->ctx->now_ns;
		return;
	}
	if (!capture_ended && c->ctx->now_ns - *since < L7LB_HOLE_GIVE_UP_NS)
		return;
	if (capture_ended)
		note_appendf(c->ctx->note, "%sthe capture ends with bytes held behind a hole: the capture lost the bytes "
		             "before them", note_gap(c));
	else
		note_appendf(c->ctx->note, "%sbytes held for more than 1 s behind a hole (a sender retransmits sooner, RFC "
		             "6298): the capture lost the bytes before them", note_gap(c));
	while (tcp_stream_counters(s)->held_segments_now > 0 && tcp_stream_skip_gap(s, sink))
		;
	*since = 0;
}

/* The link header of the clients' packets, kept from the first one, so that the sweep can build
 * a client's segment to stand for the packet in hand (give_up_idle_holes). */
static void remember_link_header(struct l7lb *lb, const struct packet *p)
{
	if (lb->like.caplen || p->ip.off > sizeof lb->like_link || p->ip.off > p->caplen)
		return;
	memcpy(lb->like_link, p->data, p->ip.off);
	lb->like = (struct packet){ .data = lb->like_link, .capacity = sizeof lb->like_link, .caplen = p->ip.off,
		                    .wirelen = p->ip.off, .linktype = p->linktype, .ip.off = p->ip.off };
	if (!lb->like.caplen)
		lb->like.caplen = 1; /* raw IP: no link header, yet remembered */
}

/* A client that sends nothing more after a hole: the sweep gives up what is held once the hole is
 * older than a retransmission timeout, as give_up_holes() does on the client's next segment.
 * An ACK of the client's, built like its packets, stands for the packet in hand: what the framer
 * finds is then emitted towards the targets as if that ACK had come. */
static void give_up_idle_holes(struct stage *st, struct l7lb_conn *c, struct stage_ctx *ctx, bool capture_ended)
{
	struct l7lb *lb = st->priv;
	bool req_old = c->req_held_since_ns &&
	               (capture_ended || ctx->now_ns - c->req_held_since_ns >= L7LB_HOLE_GIVE_UP_NS);
	bool resp_old = c->resp_held_since_ns &&
	                (capture_ended || ctx->now_ns - c->resp_held_since_ns >= L7LB_HOLE_GIVE_UP_NS);
	if (!(req_old || resp_old) || !lb->like.caplen)
		return;
	if (!lb->reasm_frame)
		lb->reasm_frame = g_malloc(L7LB_FRAG_FRAME_MAX);
	const struct l7lb_segment ack = { .src = c->client, .dst = c->vip, .sport = c->cport, .dport = c->vport,
		                          .seq = tcp_stream_next_seq(&c->req_stream), .flags = TH_ACK };
	uint32_t n = l7lb_wire_segment(lb->reasm_frame, &lb->like, &ack);
	struct packet q = { .data = lb->reasm_frame, .capacity = L7LB_FRAG_FRAME_MAX, .caplen = n, .wirelen = n,
		            .linktype = lb->like.linktype, .ts_ns = ctx->now_ns };
	decode_packet(&q);
	if (q.l3 != L3_IPV4 || !q.ip.has_ports)
		return;
	int linktype = ctx->linktype;
	ctx->linktype = q.linktype;
	begin(c, ctx, &q, 0);
	const struct tcp_stream_consumer req = { .data = request_bytes, .gap = request_gap, .ctx = c };
	const struct tcp_stream_consumer resp = { .data = response_bytes, .gap = response_gap, .ctx = c };
	if (req_old)
		give_up_holes(c, &c->req_stream, &c->req_held_since_ns, &req, capture_ended);
	if (resp_old)
		give_up_holes(c, &c->resp_stream, &c->resp_held_since_ns, &resp, capture_ended);
	ctx->linktype = linktype;
}

static enum verdict from_client(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	struct l7lb *lb = st->priv;
	const struct ip4_view *ip = &p->ip;

	if (ip->proto != IPPROTO_TCP)
		return stage_drop(ctx, DROP_L7LB_NOT_TCP, "protocol %u", ip->proto);
	if (!ip->has_ports || listener_find(lb, ip->dst, ip->dport) < 0)
		return stage_drop(ctx, DROP_L7LB_NO_LISTENER, "%u.%u.%u.%u:%u", ip->dst >> 24, (ip->dst >> 16) & 255,
		                  (ip->dst >> 8) & 255, ip->dst & 255, ip->dport);
	uint8_t fl = ip->tcp_flags;
	uint32_t seq = tcp_segment_seq(p), len = tcp_segment_payload_len(p);
	struct l7lb_conn *c = conn_find(lb, ip->src, ip->sport, ip->dst, ip->dport);

	remember_link_header(lb, p);
	if ((fl & TH_SYN) && !(fl & TH_ACK)) {
		if (c && !c->closed && tcp_stream_started(&c->req_stream) && seq + 1 == c->client_isn_plus_one) {
			begin(c, ctx, p, 0);
			note_appendf(ctx->note, "SYN again (a retransmission) on connection #%" G_GUINT64_FORMAT, c->id);
			return VERDICT_CONSUMED;
		}
		if (c) {
			begin(c, ctx, p, 0);
			close_backends(c, "the client's port starts a new connection");
		}
		if (!c && conn_table_full(lb)) {
			lb->metrics[L7LB_METRIC_REJECTED_CONNECTION_COUNT]++;
			return stage_drop(ctx, DROP_L7LB_CONN_TABLE_FULL, "%u connections", lb->max_conns);
		}
		c = conn_new(st, ctx, ip->src, ip->sport, ip->dst, ip->dport, false);
		begin(c, ctx, p, 0);
		c->client_isn_plus_one = seq + 1;
		tcp_stream_start(&c->req_stream, seq + 1);
		note_appendf(ctx->note, "SYN: connection #%" G_GUINT64_FORMAT " from ", c->id);
		note_append_endpoint(ctx->note, ip->src, ip->sport);
		note_appendf(ctx->note, " ends at the balancer, which answers it (a full proxy: no target sees this "
		             "handshake; a backend connection opens with the first request)");
		return VERDICT_CONSUMED;
	}
	if (!c) {
		if (len == 0 || (fl & TH_RST))
			return stage_drop(ctx, DROP_L7LB_NO_CONNECTION, "from %u.%u.%u.%u:%u, which has sent no data or SYN",
			                  ip->src >> 24, (ip->src >> 16) & 255, (ip->src >> 8) & 255, ip->src & 255, ip->sport);
		if (conn_table_full(lb)) {
			lb->metrics[L7LB_METRIC_REJECTED_CONNECTION_COUNT]++;
			return stage_drop(ctx, DROP_L7LB_CONN_TABLE_FULL, "%u connections", lb->max_conns);
		}
		c = conn_new(st, ctx, ip->src, ip->sport, ip->dst, ip->dport, true);
		tcp_stream_pick_up(&c->req_stream, seq);
		begin(c, ctx, p, 0);
		note_appendf(ctx->note, "connection #%" G_GUINT64_FORMAT " picked up mid-stream (its SYN was not captured)",
		             c->id);
	} else {
		begin(c, ctx, p, 0);
	}

	if (len > 0 || (fl & TH_FIN)) {
		const struct tcp_stream_consumer sink = { .data = request_bytes, .gap = request_gap, .ctx = c };
		uint32_t captured = p->payload_len < len ? p->payload_len : len;
		enum tcp_stream_event ev = tcp_stream_feed(&c->req_stream, seq, p->data + p->payload_off, captured, len,
		                                           (fl & TH_FIN) != 0, &sink);
		if (ev != TCP_STREAM_IN_ORDER && ev != TCP_STREAM_EMPTY)
			note_appendf(ctx->note, "%s%s", note_gap(c), tcp_stream_event_text(ev));
		give_up_holes(c, &c->req_stream, &c->req_held_since_ns, &sink, false);
		if (len > 0 && ctx->note->len == c->note_start) {
			note_append_uint(ctx->note, len);
			NOTE_LIT(ctx->note, " bytes of connection #");
			note_append_uint(ctx->note, (unsigned)c->id);
			NOTE_LIT(ctx->note, "'s request stream");
		}
	}
	if (fl & TH_RST) {
		note_appendf(ctx->note, "%sRST from the client ends connection #%" G_GUINT64_FORMAT, note_gap(c),
		             c->id);
		close_backends(c, "the client reset its connection");
		conn_closed(st, c, ctx);
	} else if (fl & TH_FIN) {
		note_appendf(ctx->note, "%sthe client closes connection #%" G_GUINT64_FORMAT, note_gap(c), c->id);
		c->client_fin = true;
		close_backends(c, "the client closed its connection");
		if (c->server_fin)
			conn_closed(st, c, ctx);
	} else if (len == 0) {
		/* Nothing in flight: the connection is idle until its next request, and the framers' head
		 * buffers go back (a keep-alive connection otherwise holds two, 20,000 connections 80 MB). */
		if (c->n_pending == 0) {
			http1_stream_trim(&c->req_http);
			http1_stream_trim(&c->resp_http);
		}
		NOTE_LIT(ctx->note, "ACK on connection #");
		note_append_uint(ctx->note, (unsigned)c->id);
		NOTE_LIT(ctx->note, " ends at the balancer");
	}
	return VERDICT_CONSUMED;
}

static enum verdict l7lb_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	if (p->l3 == L3_IPV4 && p->ip.is_fragment && dir == DIR_LEFT_TO_RIGHT)
		return l7lb_fragment_from_client(st, p, ctx, from_client);
	if (p->l3 != L3_IPV4 || p->ip.is_fragment)
		return stage_drop(ctx, DROP_L7LB_NOT_TCP, "%s", p->ip.is_fragment ? "an IPv4 fragment" : "not IPv4");
	if (dir == DIR_LEFT_TO_RIGHT)
		return from_client(st, p, ctx);
	if (ctx->origin == ORIGIN_EMITTED) {
		uint8_t fl = p->ip.tcp_flags;
		uint32_t len = tcp_segment_payload_len(p);
		if (fl & TH_SYN) {
			NOTE_LIT(ctx->note, "the target's SYN-ACK: the backend connection is open");
		} else if (len) {
			note_append_uint(ctx->note, len);
			NOTE_LIT(ctx->note, " bytes of the target's response, read by the balancer, which sends them on to the "
			         "client");
		} else if (fl & TH_FIN) {
			NOTE_LIT(ctx->note, "the target closes its side of the backend connection");
		} else {
			NOTE_LIT(ctx->note, "the target's ACK");
		}
		return VERDICT_CONSUMED;
	}
	return stage_drop(ctx, DROP_L7LB_FROM_TARGET_UNKNOWN, NULL);
}

/* A segment without data that the capture's server sent after the balancer had closed the
 * connection itself (send_own_fin()): the server's FIN, or its acknowledgement of the client's.
 * What the balancer sends in its place is its acknowledgement of what the client sent since (its
 * FIN, usually), numbered after its own FIN; when there is nothing new to acknowledge, nothing.
 * The client's later acknowledgements of the capture's FIN are mapped onto the balancer's. */
static enum reverse_answer ack_after_own_fin(struct stage *st, struct l7lb_conn *c, struct packet *p,
                                             struct stage_ctx *ctx)
{
	uint8_t fl = p->ip.tcp_flags;
	uint32_t seq = tcp_segment_seq(p), ack = tcp_segment_ack(p);

	if (fl & TH_FIN) {
		c->shift = (int32_t)(c->own_fin_seq - seq);
		c->splice.active = false;
	}
	if (!(fl & TH_ACK) || ack == c->resp_last_ack) {
		note_appendf(ctx->note, "the capture's %s on connection #%" G_GUINT64_FORMAT ", which the balancer had "
		             "closed with its own FIN", fl & TH_FIN ? "FIN" : "ACK", c->id);
		ctx->drop = DROP_L7LB_CLOSED_ITSELF;
		return REVERSE_REPLACED;
	}
	tcp_segment_set_seq(p, c->own_fin_seq + 1);
	if (fl & TH_FIN) {
		tcp_segment_set_flags(p, (uint8_t)(fl & ~TH_FIN));
		note_appendf(ctx->note, "the balancer's ACK%s on connection #%" G_GUINT64_FORMAT " (the capture's FIN: "
		             "the balancer sent its own earlier)", c->client_fin ? " of the client's FIN" : "", c->id);
	} else {
		note_appendf(ctx->note, "the balancer's ACK on connection #%" G_GUINT64_FORMAT ", after its own FIN", c->id);
	}
	c->resp_last_ack = ack;
	if (c->client_fin)
		conn_closed(st, c, ctx);
	return REVERSE_ORIGINATED;
}

/* A packet from a listener to a client, captured on the client side: the balancer sent it. */
static enum reverse_answer to_client(struct stage *st, struct packet *p, struct stage_ctx *ctx)
{
	struct l7lb *lb = st->priv;
	const struct ip4_view *ip = &p->ip;

	if (ip->proto != IPPROTO_TCP || !ip->has_ports || listener_find(lb, ip->src, ip->sport) < 0) {
		note_appendf(ctx->note, "not from a listener of the balancer");
		return REVERSE_IMPOSSIBLE;
	}
	struct l7lb_conn *c = conn_find(lb, ip->dst, ip->dport, ip->src, ip->sport);
	uint8_t fl = ip->tcp_flags;
	uint32_t seq = tcp_segment_seq(p), len = tcp_segment_payload_len(p);

	if (!c) {
		note_appendf(ctx->note, "sent by the balancer on a connection whose start was not captured");
		return REVERSE_ORIGINATED;
	}
	begin(c, ctx, p, -64 * PIPELINE_HOP_NS);
	if (p->ip.has_l4)
		c->resp_window = tcp_segment_window(p);
	if ((fl & TH_SYN) && (fl & TH_ACK)) {
		tcp_stream_start(&c->resp_stream, seq + 1);
		c->resp_base_seq = seq + 1;
		note_appendf(ctx->note, "the balancer's own SYN-ACK: connection #%" G_GUINT64_FORMAT " is between the client "
		             "and the balancer", c->id);
		return REVERSE_ORIGINATED;
	}
	if (c->own_fin && len == 0)
		return ack_after_own_fin(st, c, p, ctx);
	if (!tcp_stream_started(&c->resp_stream)) {
		tcp_stream_pick_up(&c->resp_stream, seq);
		c->resp_base_seq = seq;
	}
	int64_t shift_before = c->shift;
	if (len > 0 || (fl & TH_FIN)) {
		const struct tcp_stream_consumer sink = { .data = response_bytes, .gap = response_gap, .fin = response_fin,
		                                          .ctx = c };
		uint32_t captured = p->payload_len < len ? p->payload_len : len;
		c->withheld = 0;
		tcp_stream_feed(&c->resp_stream, seq, p->data + p->payload_off, captured, len, (fl & TH_FIN) != 0, &sink);
		give_up_holes(c, &c->resp_stream, &c->resp_held_since_ns, &sink, false);
		if (c->withheld) {
			c->shift -= (int64_t)c->withheld;
			c->splice.cap_end = tcp_stream_next_seq(&c->resp_stream);
			c->splice.end_known = true;
		}
	}
	if (c->replaced_bytes && !c->relayed_bytes && c->closed_bytes) {
		note_appendf(ctx->note, "%sthe capture's server sent %u more bytes on connection #%" G_GUINT64_FORMAT
		             ", which the balancer had closed", note_gap(c), len, c->id);
		ctx->drop = DROP_L7LB_CLOSED_ITSELF;
		return REVERSE_REPLACED;
	}
	if (c->replaced_bytes && !c->relayed_bytes) {
		note_appendf(ctx->note, "%sthe capture's response on connection #%" G_GUINT64_FORMAT " (%u bytes); the "
		             "balancer's own answer went to the client in its place", note_gap(c), c->id, len);
		ctx->drop = DROP_L7LB_ANSWERED_ITSELF;
		return REVERSE_REPLACED;
	}
	/* The balancer's own bytes on this connection moved its sequence numbers. */
	if (shift_before != 0) {
		tcp_segment_set_seq(p, seq + (uint32_t)shift_before);
		note_appendf(ctx->note, "%sseq %+" G_GINT64_FORMAT " (the balancer's own answers on this connection)",
		             note_gap(c), shift_before);
	}
	note_sep(c); /* after what the response's bytes made the balancer do, and the renumbering */
	if (len > 0) {
		note_append_uint(ctx->note, len);
		NOTE_LIT(ctx->note, " response bytes relayed by the balancer on connection #");
		note_append_uint(ctx->note, (unsigned)c->id);
	}
	/* A FIN may come with the last bytes of a response (an HTTP/1.0 server's, delimited by it). */
	if (fl & TH_FIN) {
		note_appendf(ctx->note, "%sthe balancer closes connection #%" G_GUINT64_FORMAT " with the client",
		             len > 0 ? "; " : "", c->id);
		c->server_fin = true;
		if (c->client_fin)
			conn_closed(st, c, ctx);
	} else if (len == 0) {
		NOTE_LIT(ctx->note, "the balancer's ACK on connection #");
		note_append_uint(ctx->note, (unsigned)c->id);
	}
	if (fl & TH_ACK)
		c->resp_last_ack = tcp_segment_ack(p);
	if (c->close_pending && !c->server_fin)
		send_own_fin(c, tcp_stream_next_seq(&c->resp_stream) + (uint32_t)c->shift, PIPELINE_HOP_NS,
		             "desync mitigation closes it after the response to an Ambiguous request");
	c->close_pending = false;
	return REVERSE_ORIGINATED;
}

/* The renumbering to_client() gives a data segment of p's connection now: the first fragment of a
 * segment goes to the client before the rest of it has come (l7lb_frag.c). */
static uint32_t seq_shift_now(const struct stage *st, const struct packet *p)
{
	const struct l7lb *lb = st->priv;
	const struct l7lb_conn *c = conn_find(lb, p->ip.dst, p->ip.dport, p->ip.src, p->ip.sport);
	/* after the balancer's own FIN, the capture's data is withheld, not renumbered */
	return c && !c->own_fin ? (uint32_t)c->shift : 0;
}

static const struct l7lb_to_client_path to_client_path = { .whole_segment = to_client, .seq_shift_now = seq_shift_now };

static enum reverse_answer l7lb_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	if (p->l3 != L3_IPV4)
		return REVERSE_IMPOSSIBLE;
	if (dir == DIR_RIGHT_TO_LEFT && ctx->capture_side == SIDE_LEFT) {
		if (!p->ip.is_fragment)
			return to_client(st, p, ctx);
		/* a later fragment has no ports: its address and protocol are all there is to go on */
		if (p->ip.proto != IPPROTO_TCP || !is_vip(st->priv, p->ip.src)) {
			note_appendf(ctx->note, "an IPv4 fragment not of TCP from a listener of the balancer");
			return REVERSE_IMPOSSIBLE;
		}
		return l7lb_fragment_to_client(st, p, ctx, &to_client_path);
	}
	note_appendf(ctx->note, "a capture on the target side of an l7-lb is not replayed (capture on the client side)");
	return REVERSE_IMPOSSIBLE;
}

/* stage_ops.capture_end: no segment will fill a hole now, however young: what is held behind one
 * is given up, so that the requests there still reach their targets, with the loss said. */
static void l7lb_capture_end(struct stage *st, struct stage_ctx *ctx)
{
	struct l7lb *lb = st->priv;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, lb->conns);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct l7lb_conn *c = v;
		if (!c->closed && (c->req_held_since_ns || c->resp_held_since_ns))
			give_up_idle_holes(st, c, ctx, true);
	}
}

static bool l7lb_claims(const struct stage *st, uint32_t addr, enum side side)
{
	const struct l7lb *lb = st->priv;
	return side == SIDE_LEFT ? is_vip(lb, addr) : addr == lb->address;
}

static void l7lb_advance(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	struct l7lb *lb = st->priv;
	GHashTableIter it;
	gpointer k, v;

	if (!lb->started) {
		lb->started = true;
		lb->t0_ns = now_ns;
	}
	events_run(lb, now_ns);
	if (lb->reasm)
		ip4_reasm_expire(lb->reasm, now_ns);
	if (lb->reasm_to_client)
		ip4_reasm_expire(lb->reasm_to_client, now_ns);
	if (now_ns < lb->clock_ns + NS_PER_SECOND && lb->clock_ns)
		return; /* idle timeouts are in seconds: a sweep a second is enough */
	lb->clock_ns = now_ns;
	while (lb->closed.head &&
	       now_ns - ((const struct l7lb_conn *)lb->closed.head->data)->closed_ns >= L7LB_CLOSED_KEEP_S * NS_PER_SECOND)
		conn_remove(lb, lb->closed.head->data);
	g_hash_table_iter_init(&it, lb->conns);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct l7lb_conn *c = v;
		if (c->closed)
			continue;
		give_up_idle_holes(st, c, ctx, false);
		if (c->closed) {
			continue;
		} else if (now_ns - c->last_ns > lb->idle_ns) {
			/* ALB closes a connection idle for idle_timeout; the capture shows no more of it */
			conn_event(ctx, st, TABLE_EVENT_EXPIRED, c, "idle timeout");
			g_hash_table_iter_remove(&it);
		}
	}
}

static void l7lb_table_foreach(const struct stage *st, int64_t now_ns,
                               void (*visit)(const struct table_row *row, void *data), void *data)
{
	const struct l7lb *lb = st->priv;
	GHashTableIter it;
	gpointer k, v;
	char flags[96];

	(void)now_ns;
	g_hash_table_iter_init(&it, lb->conns);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct l7lb_conn *c = v;
		struct table_row row;
		if (c->closed)
			continue;
		conn_row(lb, c, &row, flags, sizeof flags);
		visit(&row, data);
	}
}

static unsigned active_connections(const struct l7lb *lb)
{
	GHashTableIter it;
	gpointer k, v;
	unsigned n = 0;
	g_hash_table_iter_init(&it, lb->conns);
	while (g_hash_table_iter_next(&it, &k, &v))
		n += !((const struct l7lb_conn *)v)->closed;
	return n;
}

static void l7lb_stats_print(const struct stage *st, GString *out)
{
	const struct l7lb *lb = st->priv;
	static const char *const names[] = {
#define X(name, text) text,
		foreach_l7lb_metric(X)
#undef X
	};
	for (unsigned i = 0; i < L7LB_METRIC_N; i++) {
		uint64_t v = i == L7LB_METRIC_ACTIVE_CONNECTION_COUNT ? active_connections(lb) : lb->metrics[i];
		if (v || i <= L7LB_METRIC_ACTIVE_CONNECTION_COUNT)
			g_string_append_printf(out, "    %-48s %" G_GUINT64_FORMAT "\n", names[i], v);
	}
	for (unsigned g = 0; g < lb->n_groups; g++)
		for (unsigned t = 0; t < lb->groups[g].n_targets; t++)
			g_string_append_printf(out, "    RequestCountPerTarget %-10s %-22s %" G_GUINT64_FORMAT "%s%s\n",
			                       lb->groups[g].name, lb->groups[g].targets[t].name,
			                       lb->groups[g].targets[t].requests,
			                       lb->groups[g].targets[t].state == L7LB_TARGET_HEALTHY ? "" : "   (now ",
			                       lb->groups[g].targets[t].state == L7LB_TARGET_HEALTHY ? "" :
			                       lb->groups[g].targets[t].state == L7LB_TARGET_DOWN ? "down)" : "draining)");
	for (unsigned i = 0; i < lb->next_event; i++)
		g_string_append_printf(out, "    event at %s\n", lb->events[i].text);
	if (lb->gap_bytes)
		g_string_append_printf(out, "    bytes missing from the capture              %" G_GUINT64_FORMAT "\n",
		                       lb->gap_bytes);
	if (lb->responses_not_captured)
		g_string_append_printf(out, "    %-48s %" G_GUINT64_FORMAT "\n", "requests whose response is not in the capture",
		                       lb->responses_not_captured);
	l7lb_fragment_stats(lb, out);
}

bool l7lb_route_explain(const struct stage *st, const struct l7_request *req, GString *trace)
{
	if (st->ops != &l7lb_ops)
		return false;
	const struct l7lb *lb = st->priv;
	unsigned evaluated = 0;
	l7_rules_match(&lb->rules, req, &evaluated, trace);
	return true;
}

static const struct drop_info l7lb_drops[] = { foreach_l7lb_drop(DROP_INFO_ENTRY) };

const struct stage_ops l7lb_ops = {
	.type = "l7-lb",
	.summary = "an application load balancer (AWS ALB): a full proxy that routes each HTTP request by host, path and more",
	.keys = l7lb_keys,
	.drops = l7lb_drops,
	.n_drops = G_N_ELEMENTS(l7lb_drops),
	.configure = l7lb_configure,
	.describe = l7lb_describe,
	.claims = l7lb_claims,
	.proxies_http = true,
	.arriving = l7lb_arriving,
	.process = l7lb_process,
	.reverse = l7lb_reverse,
	.advance = l7lb_advance,
	.capture_end = l7lb_capture_end,
	.table_foreach = l7lb_table_foreach,
	.stats_print = l7lb_stats_print,
	.destroy = l7lb_destroy,
	.capture_left_only = true,
};
