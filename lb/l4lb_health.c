/* lb/l4lb_health.c: the L4 balancer's target health timeline, its selection rebuilds, and the report of what each change moved.
 *
 * Follows AWS "Target groups for your Network Load Balancers": an unhealthy target gets no new
 * flows and its established TCP connections are reset; a deregistering (draining) target gets no
 * new flows, and its existing ones continue until the deregistration delay runs out; when no
 * target is healthy the balancer fails open and sends to all of them.  The report puts, beside
 * each change, how many live flows the hash would now send elsewhere and how many lookup slots
 * changed, with the ideal 1/N of consistent hashing (Maglev, NSDI 2016, section 3.4), or with
 * weights the least share that has to change: the weight the change takes from the targets that
 * lose share (see ideal_share()).
 *
 * Invariant: lb->sel always holds the build for the current target states; lb->sel_spare the one
 * before the last change.
 */
#include <string.h>

#include "common/packet.h"
#include "lb/hash.h"
#include "lb/l4lb.h"
#include "lb/select.h"

const char *l4lb_target_state_name(enum l4lb_target_state s)
{
	static const char *const names[] = {
		[L4LB_TARGET_HEALTHY] = "healthy", [L4LB_TARGET_DOWN] = "down",
		[L4LB_TARGET_DRAINING] = "draining", [L4LB_TARGET_DEREGISTERED] = "deregistered",
	};
	return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "?";
}

static const char *event_kind_name(enum l4lb_event_kind k)
{
	return k == L4LB_EVENT_DOWN ? "down" : k == L4LB_EVENT_UP ? "up" : "drain";
}

bool l4lb_target_usable(const struct l4lb *lb, const struct l4lb_target *t)
{
	switch (t->state) {
	case L4LB_TARGET_HEALTHY:
	case L4LB_TARGET_DRAINING:
		return true;
	case L4LB_TARGET_DOWN:
		return lb->fail_open;
	default:
		return false;
	}
}

void l4lb_rebuild(struct l4lb *lb)
{
	unsigned healthy = 0, down = 0;

	for (unsigned i = 0; i < lb->n_targets; i++) {
		healthy += lb->targets[i].state == L4LB_TARGET_HEALTHY;
		down += lb->targets[i].state == L4LB_TARGET_DOWN;
	}
	/* AWS NLB: with no healthy target, fail open to the unhealthy ones (not to deregistered ones). */
	lb->fail_open = healthy == 0 && down > 0;
	enum l4lb_target_state serve = lb->fail_open ? L4LB_TARGET_DOWN : L4LB_TARGET_HEALTHY;
	lb->serving = lb->fail_open ? down : healthy;
	for (unsigned i = 0; i < lb->n_targets; i++)
		lb->weights[i] = lb->targets[i].state == serve ? lb->targets[i].weight : 0;
	lb->select->build(lb->sel_spare, lb->weights);
	void *old = lb->sel;
	lb->sel = lb->sel_spare;
	lb->sel_spare = old;
	lb->generation++;
}

static void format_time(GString *out, int64_t ns)
{
	g_string_append_printf(out, "%" G_GINT64_FORMAT ".%03d s", ns / 1000000000, (int)(ns % 1000000000 / 1000000));
}

/* Flows of a target alive at now (target < 0: of every target), into per_target when given. */
static uint64_t count_live(const struct l4lb *lb, int64_t now_ns, int target, uint64_t *per_target)
{
	uint64_t n = 0;
	for (unsigned c = 0; c < 2; c++)
		for (uint32_t i = lb->idle_head[c]; i; i = lb->flows[i - 1].idle_next) {
			const struct l4lb_flow *f = &lb->flows[i - 1];
			if (l4lb_flow_expired(lb, f, now_ns) || (target >= 0 && f->target != target))
				continue;
			n++;
			if (per_target)
				per_target[f->target]++;
		}
	return n;
}

/* What a change did to the live flows and to the lookup. */
static void event_measure(struct l4lb *lb, struct l4lb_event *ev, int64_t at_ns)
{
	ev->live_flows = ev->on_target = ev->remapped = 0;
	for (unsigned c = 0; c < 2; c++)
		for (uint32_t i = lb->idle_head[c]; i; i = lb->flows[i - 1].idle_next) {
			const struct l4lb_flow *f = &lb->flows[i - 1];
			if (l4lb_flow_expired(lb, f, at_ns))
				continue;
			ev->live_flows++;
			ev->on_target += f->target == ev->target;
			ev->remapped += lb->select->pick(lb->sel, f->hash, NULL) != (int)f->target;
		}
	ev->lookup_size = lb->table_size;
	ev->lookup_changed = lb_select_changed(lb->select, lb->sel_spare, lb->sel, lb->table_size);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The least share of any lookup that must change owner when the weights go from before to after
 * (a target's share of the lookup is its weight over the sum): the sum of what each target gains,
 * which is the total variation distance of the two shares, as a reduced fraction.  With N equal
 * weights and one target leaving it is 1/N, the paper's ideal; a target of weight 4 among weights
 * 1, 1, 4, 1, 1 leaving takes 1/2 of the lookup with it, not 1/5.  A build with no weight at all
 * (no target in service) owns nothing: going to or from it changes everything. */
static void ideal_share(const uint32_t *before, const uint32_t *after, unsigned n, uint64_t *num, uint64_t *den)
{
	uint64_t a = 0, b = 0, gain = 0;

	for (unsigned i = 0; i < n; i++) {
		a += before[i];
		b += after[i];
	}
	if (a == 0 || b == 0) {
		*num = a != b;
		*den = 1;
		return;
	}
	/* before[i]/a -> after[i]/b, over the common denominator a * b */
	for (unsigned i = 0; i < n; i++)
		if ((uint64_t)after[i] * a > (uint64_t)before[i] * b)
			gain += (uint64_t)after[i] * a - (uint64_t)before[i] * b;
	uint64_t g = gain ? gcd64(gain, a * b) : a * b;
	*num = gain / g;
	*den = a * b / g;
}

static void event_apply(struct stage *st, struct l4lb_event *ev, int64_t at_ns)
{
	struct l4lb *lb = st->priv;
	struct l4lb_target *t = &lb->targets[ev->target];
	bool was_fail_open = lb->fail_open;

	ev->fired = true;
	ev->fired_ns = at_ns - lb->t0_ns;
	ev->serving_before = lb->serving;
	/* lb->weights holds the current build's weights until the rebuild below replaces them */
	uint32_t *before = g_new(uint32_t, lb->n_targets ? lb->n_targets : 1);
	memcpy(before, lb->weights, lb->n_targets * sizeof *before);
	switch (ev->kind) {
	case L4LB_EVENT_DOWN:
		t->state = L4LB_TARGET_DOWN;
		break;
	case L4LB_EVENT_UP:
		t->state = L4LB_TARGET_HEALTHY;
		break;
	case L4LB_EVENT_DRAIN:
		if (t->state == L4LB_TARGET_HEALTHY || t->state == L4LB_TARGET_DOWN) {
			t->state = L4LB_TARGET_DRAINING;
			t->drain_until_ns = at_ns + lb->dereg_delay_ns;
		}
		break;
	}
	l4lb_rebuild(lb);
	ideal_share(before, lb->weights, lb->n_targets, &ev->ideal_num, &ev->ideal_den);
	g_free(before);
	ev->serving_after = lb->serving;
	ev->fail_open = lb->fail_open;
	event_measure(lb, ev, at_ns);

	/* Told with the next packet the stage handles, so it shows in Wireshark. */
	g_string_append_printf(lb->pending, "%sevent at ", lb->pending->len ? "; " : "");
	format_time(lb->pending, ev->fired_ns);
	g_string_append_printf(lb->pending, ": %s %s, %u of %u targets take new flows", event_kind_name(ev->kind), t->name,
	                       lb->serving, lb->n_targets);
	if (lb->fail_open && !was_fail_open)
		g_string_append(lb->pending, " (no target is healthy: failing open to all of them)");
	else if (!lb->fail_open && was_fail_open)
		g_string_append(lb->pending, " (a target is healthy again: fail-open ends)");
	g_string_append_printf(lb->pending, "; %u of %u %s", ev->lookup_changed, ev->lookup_size,
	                       strcmp(lb->select->name, "maglev") == 0 ? "lookup slots changed"
	                                                               : "sampled hashes now map to another target");
}

/* The deregistration delay of a draining target ran out: its remaining flows are reset when they
 * next send (TCP) or move (UDP). */
static void drain_complete(struct l4lb *lb, unsigned target, int64_t now_ns)
{
	struct l4lb_target *t = &lb->targets[target];

	t->state = L4LB_TARGET_DEREGISTERED;
	for (unsigned i = lb->n_events; i-- > 0;)
		if (lb->events[i].fired && lb->events[i].target == target && lb->events[i].kind == L4LB_EVENT_DRAIN) {
			lb->events[i].deregistered_ns = t->drain_until_ns - lb->t0_ns;
			break;
		}
	g_string_append_printf(lb->pending, "%sderegistration of %s complete at ", lb->pending->len ? "; " : "", t->name);
	format_time(lb->pending, t->drain_until_ns - lb->t0_ns);
	g_string_append_printf(lb->pending, " (%" G_GUINT64_FORMAT " of its flows still open will be reset)",
	                       count_live(lb, t->drain_until_ns, (int)target, NULL));
	(void)now_ns;
	l4lb_rebuild(lb); /* no weight changes, but fail-open may end */
}

void l4lb_events_run(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	struct l4lb *lb = st->priv;
	(void)ctx;

	for (;;) {
		/* the earliest of: the next timeline event, the end of a deregistration delay */
		int64_t ev_at = lb->next_event < lb->n_events ? lb->t0_ns + lb->events[lb->next_event].at_ns : INT64_MAX;
		int64_t drain_at = INT64_MAX;
		int drained = -1;
		for (unsigned i = 0; i < lb->n_targets && lb->n_events; i++)
			if (lb->targets[i].state == L4LB_TARGET_DRAINING && lb->targets[i].drain_until_ns < drain_at) {
				drain_at = lb->targets[i].drain_until_ns;
				drained = (int)i;
			}
		if (drained >= 0 && drain_at <= now_ns && drain_at < ev_at)
			drain_complete(lb, (unsigned)drained, now_ns);
		else if (ev_at <= now_ns)
			event_apply(st, &lb->events[lb->next_event++], ev_at);
		else
			break;
	}
}

void l4lb_stats_print(const struct stage *st, GString *out)
{
	const struct l4lb *lb = st->priv;
	const struct l4lb_totals *t = &lb->totals;
	uint64_t total_flows = 0, max_flows = 0, total_bytes = 0, max_bytes = 0;
	bool maglev = strcmp(lb->select->name, "maglev") == 0, weighted = false;
	for (unsigned i = 1; i < lb->n_targets; i++)
		weighted = weighted || lb->targets[i].weight != lb->targets[0].weight;
	uint64_t *live = g_new0(uint64_t, lb->n_targets);
	uint64_t live_total = count_live(lb, lb->clock_ns, -1, live);

	g_string_append_printf(out, "    %s %s, selection %s (%s %u), %u listener%s, %u targets\n",
	                       lb_hash_fields_name(lb->fields), lb->hash->name, lb->select->name,
	                       maglev ? "M =" : "sampled over", lb->table_size, lb->n_listeners,
	                       lb->n_listeners == 1 ? "" : "s", lb->n_targets);
	g_string_append_printf(out, "    flows: %" G_GUINT64_FORMAT " new, %" G_GUINT64_FORMAT " expired (idle), %"
	                       G_GUINT64_FORMAT " reset (target down or deregistered), %" G_GUINT64_FORMAT
	                       " moved (UDP, target down), %" G_GUINT64_FORMAT " while failing open; %" G_GUINT64_FORMAT
	                       " live at the end (table of %u)\n", t->new_flows, t->expired, t->reset, t->moved,
	                       t->fail_open_flows, live_total, lb->max_flows);
	if (lb->ppv2)
		g_string_append_printf(out, "    proxy protocol v2: %" G_GUINT64_FORMAT " headers inserted, %" G_GUINT64_FORMAT
		                       " again in retransmissions\n", t->ppv2_inserted, t->ppv2_reinserted);
	g_string_append_printf(out, "    %-22s %-12s %7s %6s %17s %21s\n", "target", "state", "flows", "live",
	                       "packets in/out", "bytes in/out");
	for (unsigned i = 0; i < lb->n_targets; i++) {
		const struct l4lb_target *tg = &lb->targets[i];
		char pk[48], by[48];
		g_snprintf(pk, sizeof pk, "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, tg->packets[0], tg->packets[1]);
		g_snprintf(by, sizeof by, "%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, tg->bytes[0], tg->bytes[1]);
		g_string_append_printf(out, "    %-22s %-12s %7" G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT " %17s %21s\n",
		                       tg->name, l4lb_target_state_name(tg->state), tg->flows, live[i], pk, by);
		total_flows += tg->flows;
		max_flows = MAX(max_flows, tg->flows);
		total_bytes += tg->bytes[0] + tg->bytes[1];
		max_bytes = MAX(max_bytes, tg->bytes[0] + tg->bytes[1]);
	}
	if (total_flows) {
		double mean_f = (double)total_flows / lb->n_targets, mean_b = (double)total_bytes / lb->n_targets;
		g_string_append_printf(out, "    load over %u targets: flows max/mean %.2f (max %" G_GUINT64_FORMAT
		                       ", mean %.1f); bytes max/mean %.2f\n", lb->n_targets, max_flows / mean_f, max_flows,
		                       mean_f, mean_b > 0 ? max_bytes / mean_b : 0.0);
	}
	for (unsigned i = 0; i < lb->n_events; i++) {
		const struct l4lb_event *ev = &lb->events[i];
		GString *when = g_string_new(NULL);
		format_time(when, ev->at_ns);
		if (!ev->fired) {
			g_string_append_printf(out, "    event %s %s %s: not reached (the capture ended first)\n", when->str,
			                       event_kind_name(ev->kind), lb->targets[ev->target].name);
			g_string_free(when, TRUE);
			continue;
		}
		g_string_append_printf(out, "    event %s %s %s: targets taking new flows %u -> %u%s\n", when->str,
		                       event_kind_name(ev->kind), lb->targets[ev->target].name, ev->serving_before,
		                       ev->serving_after, ev->fail_open ? " (failing open: none is healthy)" : "");
		g_string_append_printf(out, "      live flows %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " on %s; the hash now "
		                       "picks another target for %" G_GUINT64_FORMAT " (%.1f%%)%s\n", ev->live_flows,
		                       ev->on_target, lb->targets[ev->target].name, ev->remapped,
		                       ev->live_flows ? 100.0 * ev->remapped / ev->live_flows : 0.0,
		                       ev->remapped > ev->on_target ? "; the flow table keeps the others where they are" : "");
		g_string_append_printf(out, "      lookup: %u of %u %s (%.1f%%); ideal %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		                       " = %.1f%%%s\n", ev->lookup_changed, ev->lookup_size,
		                       maglev ? "slots changed" : "sampled hashes remapped",
		                       ev->lookup_size ? 100.0 * ev->lookup_changed / ev->lookup_size : 0.0, ev->ideal_num,
		                       ev->ideal_den, 100.0 * ev->ideal_num / ev->ideal_den, weighted ? " (by weight)" : "");
		if (ev->deregistered_ns) {
			g_string_truncate(when, 0);
			format_time(when, ev->deregistered_ns);
			g_string_append_printf(out, "      deregistration complete at %s\n", when->str);
		}
		g_string_free(when, TRUE);
	}
	g_free(live);
}

void l4lb_changes_foreach(const struct stage *st, void (*visit)(const struct stage_change *c, void *data), void *data)
{
	const struct l4lb *lb = st->priv;
	const bool maglev = strcmp(lb->select->name, "maglev") == 0;

	for (unsigned i = 0; i < lb->n_events; i++) {
		const struct l4lb_event *ev = &lb->events[i];
		if (!ev->fired)
			continue;
		const struct stage_change c = {
			.at_ns = ev->fired_ns, .kind = event_kind_name(ev->kind), .target = lb->targets[ev->target].name,
			.live_flows = ev->live_flows, .remapped = ev->remapped,
			.lookup_changed = ev->lookup_changed, .lookup_size = ev->lookup_size,
			.lookup_unit = maglev ? "lookup slots" : "sampled hashes",
			.ideal_num = ev->ideal_num, .ideal_den = ev->ideal_den,
		};
		visit(&c, data);
	}
}
