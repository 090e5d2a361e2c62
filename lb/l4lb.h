/* lb/l4lb.h: the `l4-lb` stage (an AWS NLB-style balancer) and what natlb hash asks of it.
 *
 * The second half lists the functions the stage's files share (lb/l4lb*.c); other modules use the
 * first half only.
 */
#ifndef NATLB_LB_L4LB_H
#define NATLB_LB_L4LB_H

#include "common/stage-t.h"
#include "lb/l4lb-t.h"

extern const struct stage_ops l4lb_ops;

/* What the stage would do with a new flow now (natlb hash -s): the hash settings, the hash, where
 * the selection puts it and the target.  False when st is not an l4-lb stage. */
struct l4lb_choice {
	const struct lb_hash_ops *hash;
	enum lb_hash_fields fields;
	const struct lb_select_ops *select;
	uint32_t table_size;
	uint32_t value;      /* the hash */
	uint32_t slot;
	int target;          /* index, or LB_SELECT_NONE */
	const char *target_name;
	bool has_listener;   /* the destination is one of the stage's listeners */
};
bool l4lb_explain(const struct stage *st, const struct lb_flow_key *k, const struct lb_hash_ops *hash,
                  const enum lb_hash_fields *fields, struct l4lb_choice *out, GString *selection_note);

/* ---- Shared by lb/l4lb*.c ------------------------------------------------------------------- */

/* l4lb_config.c */
gboolean l4lb_configure(struct stage *st, const struct stage_config *cfg, GError **err);
void l4lb_describe(const struct stage *st, GString *out);
void l4lb_destroy(struct stage *st);
extern const char *const l4lb_keys[];

/* l4lb_flow.c: the flow table */
/* Where a VIP's probe in lb->vip_set starts (Fibonacci hashing: neighbouring addresses spread). */
static inline uint32_t l4lb_vip_home(uint32_t addr)
{
	return (addr * 0x9e3779b1u) >> (32 - L4LB_VIP_BITS);
}

struct l4lb_flow *l4lb_flow_find_fwd(const struct l4lb *lb, uint32_t client, uint16_t cport, uint32_t vip,
                                     uint16_t vport, uint8_t proto);
struct l4lb_flow *l4lb_flow_find_rev(const struct l4lb *lb, uint32_t target, uint16_t tport, uint32_t source,
                                     uint16_t sport, uint8_t proto);
/* stage_ops.prefetch: forward (a, pa, b, pb = client, vip) or backward (target, source). */
void l4lb_flow_prefetch(const struct l4lb *lb, bool forward, uint32_t a, uint16_t pa, uint32_t b, uint16_t pb,
                        uint8_t proto, unsigned step);
/* A free entry with its keys filled in by the caller afterwards through l4lb_flow_insert(). */
/* The flow array and its two indexes, for max_flows flows; false when out of memory. */
bool l4lb_flow_table_init(struct l4lb *lb, uint32_t max_flows);
void l4lb_flow_table_free(struct l4lb *lb);
/* An empty entry for the flow client:cport > vip:vport (its key filled in, the rest zero), or NULL
 * when the table is full; l4lb_flow_insert() makes it live.  Removing a flow may move others: no
 * flow pointer outlives l4lb_flow_remove(). */
struct l4lb_flow *l4lb_flow_alloc(struct l4lb *lb, uint32_t client, uint16_t cport, uint32_t vip, uint16_t vport,
                                  uint8_t proto);
void l4lb_flow_insert(struct l4lb *lb, struct l4lb_flow *f);
void l4lb_flow_remove(struct l4lb *lb, struct l4lb_flow *f);
void l4lb_flow_touch(struct l4lb *lb, struct l4lb_flow *f, int64_t now_ns);
int64_t l4lb_flow_timeout(const struct l4lb *lb, const struct l4lb_flow *f);
/* Idle for its timeout at now: dead, whether or not the sweep has removed it yet. */
bool l4lb_flow_expired(const struct l4lb *lb, const struct l4lb_flow *f, int64_t now_ns);
void l4lb_flow_expire(struct stage *st, int64_t now_ns, struct stage_ctx *ctx);
void l4lb_flow_drop_expired(struct stage *st, struct l4lb_flow *f, struct stage_ctx *ctx);
void l4lb_flow_row(const struct stage *st, const struct l4lb_flow *f, struct table_row *row);
void l4lb_flow_event(struct stage_ctx *ctx, const struct stage *st, enum table_event kind, const struct l4lb_flow *f,
                     const char *why);
void l4lb_table_foreach(const struct stage *st, int64_t now_ns,
                        void (*visit)(const struct table_row *row, void *data), void *data);
const char *l4lb_tcp_state_name(uint8_t state);

/* l4lb_tcp.c: proxy protocol v2 and resets (segment editing is common/tcp_segment.h) */
bool l4lb_ppv2_insert(struct packet *p, const struct l4lb_flow *f);
bool l4lb_ppv2_strip(struct packet *p);
bool l4lb_payload_is_ppv2(const struct packet *p);
bool l4lb_send_rst(struct stage *st, struct stage_ctx *ctx, const struct packet *p, const char *why);

/* l4lb_health.c: the events timeline, the selection builds, the report */
void l4lb_rebuild(struct l4lb *lb);
void l4lb_events_run(struct stage *st, int64_t now_ns, struct stage_ctx *ctx);
bool l4lb_target_usable(const struct l4lb *lb, const struct l4lb_target *t);
void l4lb_stats_print(const struct stage *st, GString *out);
void l4lb_changes_foreach(const struct stage *st, void (*visit)(const struct stage_change *c, void *data),
                          void *data);
const char *l4lb_target_state_name(enum l4lb_target_state s);

#endif
