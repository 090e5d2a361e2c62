/* lb/l7lb.h: the `l7-lb` stage (an AWS ALB-style full proxy) and what natlb route asks of it.
 *
 * The second half lists what the stage's files share (lb/l7lb*.c); other modules use the first
 * half only.
 */
#ifndef NATLB_LB_L7LB_H
#define NATLB_LB_L7LB_H

#include "common/stage-t.h"
#include "lb/l7lb-t.h"

extern const struct stage_ops l7lb_ops;

/* natlb route: evaluate the stage's rules for one request, rule by rule, into trace; false when
 * st is not an l7-lb stage. */
bool l7lb_route_explain(const struct stage *st, const struct l7_request *req, GString *trace);

/* ---- Shared by lb/l7lb*.c ------------------------------------------------------------------- */

/* SplitMix64's finaliser: the deterministic choices (ports, ISNs, trace ids, weights) come from
 * --seed and the connection through it, so one seed always gives the same replay. */
static inline uint64_t l7lb_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* l7lb_config.c */
gboolean l7lb_configure(struct stage *st, const struct stage_config *cfg, GError **err);
void l7lb_describe(const struct stage *st, GString *out);
void l7lb_destroy(struct stage *st);
extern const char *const l7lb_keys[];
const char *l7lb_algorithm_name(enum l7lb_algorithm a);

/* l7lb_wire.c: one target-side TCP segment */
struct l7lb_segment {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t ip_id;
	const uint8_t *payload;
	uint32_t len;          /* at most L7LB_MSS */
};
/* Build s into frame (room for a link header, 40 bytes and the payload), with a link header of
 * like's type; returns the frame's length. */
uint32_t l7lb_wire_segment(uint8_t *frame, const struct packet *like, const struct l7lb_segment *s);

/* l7lb_http.c: what the balancer writes itself */
/* The request head as the target receives it: the client's, with X-Forwarded-For, -Proto, -Port
 * and X-Amzn-Trace-Id as the stage's settings say. */
void l7lb_forwarded_head(const struct l7lb *lb, const struct l7lb_conn *c, const struct http1_head *h,
                         const char *trace_id, GString *out);
/* "Root=1-5f84c7a5-0123456789abcdef01234567": deterministic from the seed, connection and request. */
void l7lb_trace_id(uint64_t seed, int64_t now_ns, uint64_t conn_id, unsigned request, char out[48]);
/* A response the balancer gives itself (fixed-response, redirect, 400, 503). */
void l7lb_own_response(unsigned code, const char *content_type, const char *location, const char *body,
                       size_t body_len, bool close, GString *out);
const char *l7lb_reason_phrase(unsigned code);

/* l7lb_frag.c: a fragment from a client is held until its datagram is whole, which then goes to
 * whole_segment as if it had come in one piece. */
enum verdict l7lb_fragment_from_client(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                       enum verdict (*whole_segment)(struct stage *, struct packet *,
                                                                     struct stage_ctx *));
/* What the reverse path does with a segment to a client, for the fragments of one. */
struct l7lb_to_client_path {
	/* the segment, whole: to_client() */
	enum reverse_answer (*whole_segment)(struct stage *st, struct packet *p, struct stage_ctx *ctx);
	/* how far the balancer's own answers have moved the sequence numbers of p's connection now */
	uint32_t (*seq_shift_now)(const struct stage *st, const struct packet *p);
};
/* A fragment from a listener to a client (the capture on the client side): held until its
 * datagram is whole (REVERSE_ORIGINATED, shown as sent), which then goes through
 * path->whole_segment as if it had come in one piece; one that cannot be reassembled is
 * REVERSE_REPLACED with DROP_L7LB_FRAGMENT_TO_CLIENT. */
enum reverse_answer l7lb_fragment_to_client(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                            const struct l7lb_to_client_path *path);
/* --stats lines for the fragments, if any came, each direction apart. */
void l7lb_fragment_stats(const struct l7lb *lb, GString *out);

/* l7lb_log.c: --access-log */
/* The request's half of its line (kept in rq->log_tail until the response completes). */
void l7lb_log_request(const struct l7lb *lb, const struct l7lb_conn *c, struct l7lb_request *rq,
                      const struct http1_head *h, const char *group, const char *trace, const char *actions,
                      const char *redirect_url, const char *error_reason, int64_t now_ns);
/* The whole line, once the response is complete; target NULL when the balancer answered. */
void l7lb_log_done(const struct l7lb *lb, const struct l7lb_conn *c, struct l7lb_request *rq, FILE *f,
                   int64_t now_ns, const struct l7lb_target *target);

#endif
