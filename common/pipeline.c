/* common/pipeline.c: the replay loop: read, decode, walk back to the origin, run the stages, write every view.
 *
 * Follows DESIGN.md "How a packet travels".  A captured packet was seen on the capture link; the
 * loop first asks each stage between the packet's source and the capture point to undo its
 * translation (walk_back), which gives the packet as its sender sent it, or finds the stage that
 * sent it itself.  The packet then joins the queue of hops (common/hop_queue.h) on the link it
 * was sent on, beside whatever the stages emitted; the loop drains the queue in time order, and
 * carries each packet hop by hop to the end of its path (travel): each stage translates it,
 * drops it or consumes it (cross_stage, then account), and each link it crosses gets a view in
 * the output, in travel order.  Where packets go is common/chain.h's business.
 *
 * A captured packet and everything it causes are written before the next captured packet is
 * read: the capture is in time order, and what a stage derives from one packet lies within a
 * few microseconds of it.
 *
 * Bypass: a stage may route a packet around the stages after it (stage_ops.bypass; a route
 * table sending S3 traffic to a gateway endpoint instead of the NAT gateway).  A bypassed stage
 * is not called, and its far link shows the packet unchanged, annotated "bypassed".
 *
 * Hot path: no allocation per packet.  Two frame buffers are allocated once and swapped at each
 * hop; annotations are formatted into GStrings that are reused; the queue's entries are
 * allocated once.  Reading ahead for the stages' prefetch lives in common/lookahead.c.
 */
#include <inttypes.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>

#include "common/answer.h"
#include "common/chain.h"
#include "common/flow_number.h"
#include "common/hop_queue.h"
#include "common/lookahead.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/rewrite.h"
#include "common/router.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "common/tables_writer.h"

struct pipeline_totals {
	uint64_t packets, delivered, dropped, consumed;
	uint64_t untranslated;     /* not IPv4, or invalid: travelled unchanged */
	uint64_t unrouted;         /* kept on their link: link-local, multicast, broadcast, loopback */
	uint64_t truncated, invalid;
	uint64_t emitted;
	uint64_t mismatched;       /* replayed view differs from the captured bytes: a stage bug */
	uint64_t drops[SCENARIO_MAX_LINKS - 1][DROP_CODES]; /* per stage, per drop code */
	uint64_t views[SCENARIO_MAX_LINKS];
	struct pipeline_plan_report plan;  /* counters and first examples only: no work per packet */
};

struct pipeline {
	struct scenario *sc;
	struct chain_memo hop_memo;
	struct view_sink sink;
	int out_link[SCENARIO_MAX_LINKS]; /* sink's link handle, or -1 when --links leaves the link out */
	struct pipeline_options opt;
	uint8_t *frame[2];         /* the packet in hand and its next hop's copy */
	struct packet pkt[2];
	uint8_t *capture_frame;    /* the captured packet as its walk back rewrites it */
	struct hop_entry captured; /* the captured packet's place in the queue */
	const struct input_record *captured_rec; /* its bytes, for the check against the replayed view */
	bool capture_renumbered;   /* a stage's reverse() renumbered it on purpose (stage_ctx.renumbered) */
	GString *walk_problem;     /* why its walk back stopped short, if it did */
	GString *origin_note;      /* what the stage that sent it itself said of it */
	GString *arrive_note;      /* how the packet came onto the current link */
	GString *stage_note;       /* what the stage being crossed did */
	GString *stage_prefix[SCENARIO_MAX_LINKS - 1]; /* "<type> <name>: ", per stage: how each sentence begins */
	GString *problem_note;
	GString *trace;
	struct hop_queue *hops;
	struct stage_ctx ctx;      /* what a stage is handed; the loop sets its fields before each call */
	struct lookahead *lookahead;
	struct pipeline_totals totals;
	int64_t clock_ns;          /* capture time the stages have been advanced to */
	int64_t first_ns;          /* the first captured packet's time: --trace counts from it */
	bool first_seen;
	bool any_bypass;           /* some stage routes packets around others (stage_ops.bypass) */
	struct router_macs *macs;  /* the routers' MACs (common/router.h); NULL when the scenario says routers = no */
	GString *router_note;      /* the first comment of a time exceeded */
	uint64_t journey_id;       /* epb_packetid of every view of the entry in hand: 1, 2, 3 ... */
	enum packet_origin journey_origin; /* the entry in hand: the captured packet, or one a stage sent */
	struct flow_numbers *flows;
	uint32_t flow;             /* "flow #N" of the entry in hand; 0 until its first view */
	uint32_t input_flow;       /* the captured packet's flow: what a stage sends because of it joins it */
};

/* One packet on its way: where it is, and what the loop must remember about it. */
struct journey {
	struct packet *p;
	int spare;                 /* pkt[spare] and frame[spare] take the next hop's copy */
	unsigned k;                /* the link it is on */
	int64_t ts;                /* capture time of its view there */
	const struct stage *came_from; /* the stage it just left; NULL */
	enum hop_dir last_dir;
	bool has_dir;              /* it has travelled, or was emitted in a direction */
	unsigned hops;             /* stages crossed so far */
	unsigned capture_hops;     /* captured: the stages before the capture link; else 0 */
	enum packet_origin origin; /* ORIGIN_CAPTURED for a captured packet, ORIGIN_EMITTED */
	bool translatable;
	const struct stage *l2_from; /* the router it just left (or that sent it), whose MAC it leaves from on
	                              * this link, once the next hop is known; NULL: the link header stays */
};

/* ---- the views: where they go, and their comments --------------------------------------------- */

static int sink_output_add_link(void *data, const char *name, const char *description)
{
	return output_add_link(data, name, description);
}

static gboolean sink_output_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes,
                                  uint32_t caplen, uint32_t wirelen, enum pcapng_direction dir,
                                  const struct view_meta *meta, const char *const *notes, unsigned n_notes,
                                  GError **err)
{
	return output_write(data, link, linktype, ts_ns, bytes, caplen, wirelen, dir, meta->packet_id, meta->flow, notes,
	                    n_notes, err);
}

/* The flow of the entry in hand, settled at its first view (common/flow_number.h).  A packet a
 * stage sent because of the captured one (its RST or ICMP error, a hairpinned copy, a proxy's
 * backend segment, which no tuple links to the client's) is the captured packet's flow; any other
 * takes the number its tuple had, else a new one. */
static uint32_t journey_flow(struct pipeline *pl, const struct packet *p)
{
	if (pl->flow) {
		flow_number_bind(pl->flows, p, pl->flow); /* its tuple here belongs to the flow too */
	} else if (pl->journey_origin == ORIGIN_EMITTED && pl->input_flow) {
		pl->flow = pl->input_flow;
		flow_number_bind(pl->flows, p, pl->flow);
	} else {
		pl->flow = flow_number_bind(pl->flows, p, 0);
		if (pl->journey_origin == ORIGIN_CAPTURED)
			pl->input_flow = pl->flow;
	}
	return pl->flow;
}

static gboolean write_view(struct pipeline *pl, const struct packet *p, unsigned link, int64_t ts,
                           enum pcapng_direction dir, const char *const *notes, unsigned n_notes, GError **err)
{
	struct view_meta meta = { .packet_id = pl->journey_id, .input = pl->totals.packets,
		                  .origin = pl->journey_origin, .flow = journey_flow(pl, p) };
	pl->totals.views[link]++;
	if (pl->opt.trace) {
		/* Seconds since the first captured packet, as Wireshark's default time column; a view
		 * derived before it (walked back from the capture) is a few microseconds negative. */
		int64_t rel = ts - pl->first_ns, mag = rel < 0 ? -rel : rel;
		g_string_truncate(pl->trace, 0);
		note_appendf(pl->trace, "%s%" G_GINT64_FORMAT ".%09" G_GINT64_FORMAT " %-10s ", rel < 0 ? "-" : "",
		             mag / 1000000000, mag % 1000000000, pl->sc->links[link].name);
		packet_describe(p, pl->trace);
		note_appendf(pl->trace, " | flow #%" PRIu32, meta.flow);
		for (unsigned i = 0; i < n_notes; i++)
			note_appendf(pl->trace, " | %s", notes[i]);
		fprintf(stderr, "%s\n", pl->trace->str);
	}
	if (pl->out_link[link] < 0)
		return TRUE;
	return pl->sink.write(pl->sink.data, pl->out_link[link], p->linktype, ts, p->data, p->caplen, p->wirelen,
	                      dir, &meta, notes, n_notes, err);
}

static enum pcapng_direction epb_dir(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? PCAPNG_DIR_OUTBOUND : PCAPNG_DIR_INBOUND;
}

/* Every captured packet's first comment: plain appends, no printf, on the hot path. */
static void note_captured_on(GString *note, const char *link)
{
	note_set(note, "captured on ", sizeof "captured on " - 1);
	note_put(note, link, strlen(link));
}

/* The comments of one view: how it got here, then up to two more sentences (whether it is the
 * captured packet; what the next stage did to it if it stopped here), then what is wrong with it. */
static unsigned view_notes(struct pipeline *pl, const char *extra, const char *verdict, const char *notes[4])
{
	unsigned n = 0;
	if (pl->arrive_note->len)
		notes[n++] = pl->arrive_note->str;
	if (extra && *extra)
		notes[n++] = extra;
	if (verdict && *verdict)
		notes[n++] = verdict;
	if (pl->problem_note->len)
		notes[n++] = pl->problem_note->str;
	return n;
}

/* ---- setting up ----------------------------------------------------------------------------------- */

/* Which links --links asks for; FALSE, with a hint, for a name that is not a link. */
static gboolean links_wanted(const struct scenario *sc, const char *links, bool want[SCENARIO_MAX_LINKS], GError **err)
{
	char **names = links ? g_strsplit(links, ",", -1) : NULL;
	gboolean ok = TRUE;

	for (unsigned i = 0; i < sc->n_links; i++)
		want[i] = !names;
	for (char **w = names; w && *w && ok; w++) {
		g_strstrip(*w);
		unsigned i = 0;
		while (i < sc->n_links && strcmp(sc->links[i].name, *w) != 0)
			i++;
		if (i < sc->n_links) {
			want[i] = true;
			continue;
		}
		const char *all[SCENARIO_MAX_LINKS];
		for (unsigned j = 0; j < sc->n_links; j++)
			all[j] = sc->links[j].name;
		const char *near = nearest_name(*w, all, sc->n_links);
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE, "--links: '%s' is not a link of %s%s%s%s", *w,
		            sc->source, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		ok = FALSE;
	}
	g_strfreev(names);
	return ok;
}

struct pipeline *pipeline_new_with_sink(struct scenario *sc, const struct view_sink *sink,
                                        const struct pipeline_options *opt, GError **err)
{
	bool want[SCENARIO_MAX_LINKS];

	if (!links_wanted(sc, opt->links, want, err))
		return NULL;
	struct pipeline *pl = g_new0(struct pipeline, 1);
	pl->sc = sc;
	pl->sink = *sink;
	pl->opt = *opt;
	pl->opt.links = NULL;
	for (unsigned i = 0; i < sc->n_links; i++)
		pl->out_link[i] = want[i] ? sink->add_link(sink->data, sc->links[i].name, sc->links[i].description) : -1;
	for (int i = 0; i < 2; i++)
		pl->frame[i] = g_malloc(PACKET_MAX_FRAME);
	pl->capture_frame = g_malloc(PACKET_MAX_FRAME);
	pl->captured.note = g_string_sized_new(256);
	pl->walk_problem = g_string_sized_new(128);
	pl->origin_note = g_string_sized_new(128);
	pl->arrive_note = g_string_sized_new(256);
	pl->stage_note = g_string_sized_new(256);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		pl->stage_prefix[i] = g_string_new(NULL);
		g_string_printf(pl->stage_prefix[i], "%s %s: ", sc->stages[i]->ops->type, sc->stages[i]->name);
	}
	pl->problem_note = g_string_sized_new(128);
	pl->trace = g_string_sized_new(256);
	pl->hops = hop_queue_new();
	pl->ctx = (struct stage_ctx){ .emitter = hop_queue_emitter(pl->hops), .seed = opt->seed, .tables = opt->tables,
	                          .access_log = opt->access_log };
	pl->any_bypass = chain_has_bypass(sc);
	if (sc->routers)
		pl->macs = router_macs_new(sc);
	pl->router_note = g_string_sized_new(256);
	pl->flows = flow_numbers_new(FLOW_NUMBER_REMEMBERED);
	if (!pl->flows) {
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_MEMORY, "out of memory for the flow numbers (%u tuples)", FLOW_NUMBER_REMEMBERED);
		pipeline_free(pl);
		return NULL;
	}
	pl->lookahead = lookahead_new(sc, pl->flows);
	return pl;
}

struct pipeline *pipeline_new(struct scenario *sc, struct output *out, const struct pipeline_options *opt,
                              GError **err)
{
	const struct view_sink sink = { .add_link = sink_output_add_link, .write = sink_output_write, .data = out };
	return pipeline_new_with_sink(sc, &sink, opt, err);
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	for (int i = 0; i < 2; i++)
		g_free(pl->frame[i]);
	g_free(pl->capture_frame);
	/* The captured entry is the pipeline's, not the queue's: take it out before the queue goes. */
	struct hop_entry *e;
	while ((e = hop_queue_pop(pl->hops)))
		if (e != &pl->captured)
			hop_queue_release(pl->hops, e);
	hop_queue_free(pl->hops);
	lookahead_free(pl->lookahead);
	flow_numbers_free(pl->flows);
	router_macs_free(pl->macs);
	g_string_free(pl->router_note, TRUE);
	g_string_free(pl->captured.note, TRUE);
	g_string_free(pl->walk_problem, TRUE);
	g_string_free(pl->origin_note, TRUE);
	g_string_free(pl->arrive_note, TRUE);
	g_string_free(pl->stage_note, TRUE);
	for (unsigned i = 0; i < SCENARIO_MAX_LINKS - 1; i++)
		if (pl->stage_prefix[i])
			g_string_free(pl->stage_prefix[i], TRUE);
	g_string_free(pl->problem_note, TRUE);
	g_string_free(pl->trace, TRUE);
	g_free(pl);
}

/* ---- the walk back from the capture ---------------------------------------------------------------- */

/* The context for one call of a stage about p. */
static struct stage_ctx *ctx_for(struct pipeline *pl, struct stage *st, const struct packet *p, int64_t now_ns,
                                 enum packet_origin origin)
{
	struct stage_ctx *ctx = &pl->ctx;
	ctx->note = pl->stage_note;
	ctx->stage = st;
	ctx->now_ns = now_ns;
	ctx->linktype = p->linktype;
	ctx->capture_side = pl->sc->capture <= st->index ? SIDE_LEFT : SIDE_RIGHT;
	ctx->origin = origin;
	ctx->drop = DROP_NONE;
	ctx->redecode = false;
	ctx->renumbered = false;
	return ctx;
}

static void plan_count(uint64_t *count, struct pipeline_example *first, uint64_t packet, const struct packet *p,
                       unsigned link)
{
	if ((*count)++ == 0)
		*first = (struct pipeline_example){ .packet = packet, .src = p->ip.src, .dst = p->ip.dst, .link = link };
}

/* A packet sent on the capture link: the stage it crosses first may rewrite it before its first
 * view (stage_ops.arriving), and says so in the view's problem note. */
static void arriving(struct pipeline *pl, struct packet *p, unsigned k, int64_t ts)
{
	struct chain_hop h = chain_next_hop_memo(&pl->hop_memo, pl->sc, k, p->ip.dst);
	if (h.deliver || !h.st || !h.st->ops->arriving)
		return;
	if (p->data != pl->capture_frame) {
		memcpy(pl->capture_frame, p->data, p->caplen);
		p->data = pl->capture_frame;
	}
	g_string_truncate(pl->stage_note, 0);
	h.st->ops->arriving(h.st, p, h.dir, ctx_for(pl, h.st, p, ts, ORIGIN_CAPTURED));
	if (pl->stage_note->len)
		note_appendf(pl->walk_problem, "%s%s %s: %s", pl->walk_problem->len ? "; " : "", h.st->ops->type,
		             h.st->name, pl->stage_note->str);
}

/* p left the router st onto link k in the capture: on k, before st forwarded it, it had one more
 * hop of TTL (unless it was routed around st, which then forwarded nothing) and was sent to st's MAC
 * there.  Its source MAC there (its previous hop's) waits for the walk's next step, which finds that
 * hop anyway: router_hop_source(). */
static void router_hop_undone(struct pipeline *pl, struct packet *p, const struct stage *st, unsigned k,
                              bool forwarded)
{
	uint8_t dst[ROUTER_MAC_LEN];

	if (forwarded)
		rewrite_ip4_ttl(p, (uint8_t)(p->ip.ttl + 1));
	router_stage_mac(pl->macs, st, router_side_on(st, k), dst);
	router_set_macs(p, NULL, dst);
}

/* ... and its source MAC on k, h being the hop from k towards its source: a router before st, or
 * its host. */
static void router_hop_source(struct pipeline *pl, struct packet *p, struct chain_hop h, unsigned k)
{
	uint8_t src[ROUTER_MAC_LEN];

	router_hop_mac(pl->macs, h, k, p->ip.src, src);
	router_set_macs(p, src, NULL);
}

/* The router st forwarded p onto link k, or sent it there itself, and h is p's next hop from k: it
 * comes from st's MAC there, for the next hop's.  A packet routed around st (a gateway endpoint's
 * path) reaches k from st's MAC too: st stands in for the path's last router, whose MAC the capture
 * shows when k is its link. */
static void router_hop_done(struct pipeline *pl, struct packet *p, const struct stage *st, struct chain_hop h,
                            unsigned k)
{
	uint8_t src[ROUTER_MAC_LEN], dst[ROUTER_MAC_LEN];

	router_stage_mac(pl->macs, st, router_side_on(st, k), src);
	router_hop_mac(pl->macs, h, k, p->ip.dst, dst);
	router_set_macs(p, src, dst);
}

/* Walk from the capture link back towards the packet's source, undoing each stage's translation,
 * and queue the packet where it was sent: on the link of its sender, or beside the stage that
 * originated it.  reverse() rewrites the packet in place, so it first moves to capture_frame:
 * the captured bytes stay as they were, for the check against the replayed view. */
static void walk_back(struct pipeline *pl, const struct packet *captured, int64_t ts)
{
	const struct scenario *sc = pl->sc;
	struct hop_entry *e = &pl->captured;
	struct packet *p = &e->pkt;
	bool translatable = captured->status != DECODE_INVALID;
	const struct stage *originator = NULL;
	unsigned k = sc->capture, hops = 0, withheld = DROP_NONE;
	enum hop_dir sent_dir = DIR_LEFT_TO_RIGHT;

	*p = *captured;
	pl->capture_renumbered = false;
	g_string_truncate(pl->walk_problem, 0);
	bool learn = pl->macs && translatable, source_pending = false;
	while (hops <= 2 * sc->n_stages) {
		struct chain_hop h = chain_next_hop_memo(&pl->hop_memo, sc, k, p->ip.src);
		if (learn) /* the captured frame's source MAC: the host's, or the router's it came through */
			router_learn(pl->macs, p, h, p->ip.src, captured->data + ROUTER_MAC_LEN);
		learn = false;
		if (source_pending)
			router_hop_source(pl, p, h, k);
		source_pending = false;
		if (h.deliver || !h.st)
			break;
		enum hop_dir crossed = chain_opposite(h.dir);
		const char *via;
		if (p->data != pl->capture_frame) {
			memcpy(pl->capture_frame, p->data, p->caplen);
			p->data = pl->capture_frame;
		}
		g_string_truncate(pl->stage_note, 0);
		/* A stage the packet was routed around did not touch it: nothing to undo. */
		if (translatable && pl->any_bypass && chain_bypassed_by(sc, p, h.st, crossed, &via)) {
			k = chain_link_after(h.st, h.dir);
			if (pl->macs && h.st->ops->routes) {
				router_hop_undone(pl, p, h.st, k, false);
				source_pending = true;
			}
			hops++;
			continue;
		}
		enum reverse_answer a = REVERSE_TRANSLATED;
		bool routes = translatable && pl->macs && h.st->ops->routes;
		if (routes && p->ip.ttl == 255) {
			/* No router can have forwarded it: it travels on from here, as the capture shows it.  Not
			 * a wrong address plan (a real capture holds such packets from its own link's routers). */
			note_appendf(pl->walk_problem, "%s%s %s: it has TTL 255, which no router forwarding it can have left",
			             pl->walk_problem->len ? "; " : "", h.st->ops->type, h.st->name);
			break;
		}
		if (translatable && h.st->ops->reverse) {
			/* reverse() may read the clock (a flow's idle timeout); it never advances it */
			struct stage_ctx *ctx = ctx_for(pl, h.st, p, ts, hops ? ORIGIN_DERIVED : ORIGIN_CAPTURED);
			a = h.st->ops->reverse(h.st, p, crossed, ctx);
			if (ctx->renumbered && a == REVERSE_TRANSLATED) {
				pl->capture_renumbered = true;
				note_appendf(pl->walk_problem, "%s%s %s: %s", pl->walk_problem->len ? "; " : "",
				             h.st->ops->type, h.st->name, pl->stage_note->str);
			}
		}
		if (a == REVERSE_IMPOSSIBLE) {
			plan_count(&pl->totals.plan.misplaced, &pl->totals.plan.first_misplaced, pl->totals.packets, captured,
			           sc->capture);
			note_appendf(pl->walk_problem, "%s %s could not have passed this packet (%s)", h.st->ops->type,
			             h.st->name, pl->stage_note->len ? pl->stage_note->str : "no translation matches it");
			break;
		}
		if (a == REVERSE_REPLACED) {
			/* Shown where it was captured, with the stage's word on it, and no further. */
			const struct drop_info *why = stage_drop_info(h.st->ops, pl->ctx.drop);
			withheld = why && pl->ctx.drop >= DROP_STAGE_FIRST ? pl->ctx.drop : DROP_UNSPECIFIED;
			why = stage_drop_info(h.st->ops, withheld);
			note_appendf(pl->walk_problem, "%s %s: DROP (%s)%s%s", h.st->ops->type, h.st->name, why->text,
			             pl->stage_note->len ? ": " : "", pl->stage_note->str);
			originator = h.st;
			sent_dir = crossed;
			break;
		}
		if (a == REVERSE_ORIGINATED) {
			/* What the stage says of a packet it sent itself goes on that packet's first view. */
			g_string_truncate(pl->origin_note, 0);
			if (pl->stage_note->len) {
				g_string_append_len(pl->origin_note, pl->stage_prefix[h.st->index]->str,
				                    (gssize)pl->stage_prefix[h.st->index]->len);
				g_string_append_len(pl->origin_note, pl->stage_note->str, (gssize)pl->stage_note->len);
			}
			h.st->counters.originated++;
			originator = h.st;
			sent_dir = crossed;
			break;
		}
		h.st->counters.reversed++;
		k = chain_link_after(h.st, h.dir);
		if (routes) {
			router_hop_undone(pl, p, h.st, k, true);
			source_pending = true;
		}
		hops++;
	}
	if (source_pending) /* the walk's guard stopped it before the next step */
		router_hop_source(pl, p, chain_next_hop_memo(&pl->hop_memo, sc, k, p->ip.src), k);

	if (hops > sc->n_stages)
		plan_count(&pl->totals.plan.overderived, &pl->totals.plan.first_overderived, pl->totals.packets, captured,
		           sc->capture);
	if (hops == 0 && translatable && !originator)
		arriving(pl, p, k, ts);
	if (hops == 0)
		note_captured_on(e->note, sc->links[k].name);
	else
		note_printf(e->note, "sent on %s (derived: the capture on %s shows it after %u stage%s)",
		            sc->links[k].name, sc->links[sc->capture].name, hops, hops == 1 ? "" : "s");
	if (originator && withheld == DROP_NONE && pl->origin_note->len) {
		g_string_append_len(e->note, ", ", 2);
		g_string_append_len(e->note, pl->origin_note->str, (gssize)pl->origin_note->len);
	}
	e->link = k;
	e->dir = sent_dir;
	e->origin = ORIGIN_CAPTURED;
	e->from = originator;
	e->derived_hops = hops;
	e->withheld = withheld;
	e->at_ns = ts - (int64_t)hops * PIPELINE_HOP_NS;
}

/* ---- the journey forward ---------------------------------------------------------------------------- */

/* The next hop's packet: p's decoded fields, its bytes in frame (the other of the two buffers). */
static void packet_copy(struct packet *q, const struct packet *p, uint8_t *frame)
{
	*q = *p;
	q->data = frame;
	q->capacity = PACKET_MAX_FRAME;
	memcpy(q->data, p->data, p->caplen);
}

/* What is wrong with the packet, for the last comment of each of its views. */
static void note_problems(struct pipeline *pl, const struct journey *j, bool counted)
{
	const struct packet *p = j->p;

	g_string_truncate(pl->problem_note, 0);
	if (p->status != DECODE_OK && p->problem) {
		note_printf(pl->problem_note, "%s: %s%s", p->status == DECODE_TRUNCATED ? "truncated" : "invalid",
		            p->problem, j->translatable ? "" : "; no stage translates it");
		if (counted && p->status == DECODE_TRUNCATED)
			pl->totals.truncated++;
		else if (counted)
			pl->totals.invalid++;
	} else if (p->caplen < p->wirelen) {
		note_printf(pl->problem_note, "snapshot: %u of %u bytes captured; the headers are complete",
		            p->caplen, p->wirelen);
	}
}

/* The packet is not IPv4 with readable addresses, or no router forwards it: it stays on the link
 * where it was seen. */
static gboolean stay_on_link(struct pipeline *pl, struct packet *p, unsigned k, int64_t ts, bool counted, GError **err)
{
	const char *name = pl->sc->links[k].name;
	const char *notes[4];

	if (pl->arrive_note->len == 0)
		note_captured_on(pl->arrive_note, name);
	switch (p->l3) {
	case L3_IPV4:
		g_string_truncate(pl->stage_note, 0);
		chain_stays_on_link(pl->sc, k, p, pl->stage_note);
		pl->totals.unrouted += counted;
		break;
	case L3_IPV6:
		note_printf(pl->stage_note, "IPv6: passed through untranslated (NAT64 is out of scope); shown on %s only", name);
		break;
	case L3_OTHER:
		if (p->llc)
			note_printf(pl->stage_note, "not IP (an 802.3 frame with an LLC header, as STP and IS-IS send): "
			            "stays on %s", name);
		else
			note_printf(pl->stage_note, "not IP (ethertype 0x%04x): stays on %s", p->ethertype, name);
		break;
	default:
		note_printf(pl->stage_note, "unreadable: %s; shown on %s only", p->problem ? p->problem : "?", name);
		break;
	}
	pl->totals.delivered += counted;
	if (counted && (p->l3 != L3_IPV4 || p->status == DECODE_INVALID))
		pl->totals.untranslated++;
	if (p->l3 != L3_IPV4) /* an IPv4 packet's problems were counted, and are said, as on any other */
		g_string_truncate(pl->problem_note, 0);
	unsigned n = view_notes(pl, pl->stage_note->str, NULL, notes);
	return write_view(pl, p, k, ts, PCAPNG_DIR_UNKNOWN, notes, n, err);
}

/* Begin the stage's sentence in the note: "<type> <name>: ", the same for every sentence of st. */
static void note_stage_prefix(struct pipeline *pl, const struct stage *st)
{
	const GString *prefix = pl->stage_prefix[st->index];
	GString *note = pl->stage_note;
	/* Once per packet and stage: a plain copy into the room the reused note has.  Callgrind, on
	 * `natlb gen bench --packets 200000 --flows 20000`: g_string_append_len() here cost the NAPT
	 * bench 0.4% more instructions than this copy. */
	if (note->allocated_len - note->len > prefix->len) {
		memcpy(note->str + note->len, prefix->str, prefix->len + 1);
		note->len += prefix->len;
		return;
	}
	g_string_append_len(note, prefix->str, (gssize)prefix->len);
}

/* What happened at one stage. */
struct crossing {
	enum verdict v;
	unsigned reason;           /* for VERDICT_DROP: a drop code */
	bool loop_drop;            /* dropped by the loop before the stage saw it */
	const struct stage *by;    /* the stage that routed the packet around this one; NULL */
};

/* The router st got q with no TTL left to forward it: it drops it, and sends an ICMP time exceeded
 * to its source from its own address on the link q came from (RFC 792, RFC 1812 section 5.3.1). */
static struct crossing ttl_exceeded(struct pipeline *pl, struct stage *st, const struct packet *q, enum hop_dir dir,
                                    struct stage_ctx *ctx)
{
	struct crossing c = { .v = VERDICT_DROP, .reason = DROP_TTL_EXCEEDED };
	uint32_t from = router_address(st, dir == DIR_LEFT_TO_RIGHT ? SIDE_LEFT : SIDE_RIGHT);
	const char *why = NULL;
	char a[16], b[16], f[16];

	note_appendf(pl->stage_note, "DROP (%s): TTL %u on arrival", drop_reason_text(DROP_TTL_EXCEEDED), q->ip.ttl);
	if (!router_may_answer(q, &why)) {
		note_appendf(pl->stage_note, "; %s", why);
		return c;
	}
	note_set(pl->router_note, pl->stage_prefix[st->index]->str, pl->stage_prefix[st->index]->len);
	note_appendf(pl->router_note, "ICMP time exceeded in transit (11/0) from %s to %s: the TTL of its packet to %s "
	             "ran out here (RFC 792)", ip4_to_str(from, f), ip4_to_str(q->ip.src, a), ip4_to_str(q->ip.dst, b));
	if (answer_icmp_error(ctx, q, dir, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, from, ANSWER_ICMP_QUOTE_MAX,
	                      pl->router_note->str))
		note_appendf(pl->stage_note, "; ICMP 11/0 sent back from %s", f);
	else
		g_string_append(pl->stage_note, "; no room to send ICMP 11/0 back");
	return c;
}

/* Cross st in dir: the loop's own checks, a bypass, or the stage's process().  The stage works on
 * *q, a copy when this link's view must stay as it arrived; q == j->p when nobody sees the view
 * (--links leaves the link out and --trace is off). */
static struct crossing cross_stage(struct pipeline *pl, struct journey *j, struct stage *st, enum hop_dir dir,
                                   struct packet *q)
{
	struct crossing c = { .v = VERDICT_FORWARD, .reason = DROP_NONE };
	const char *via = NULL;

	g_string_truncate(pl->stage_note, 0);
	if (st == j->came_from)
		c.reason = DROP_ROUTING_LOOP;
	else if (j->hops > 2 * pl->sc->n_stages)
		c.reason = DROP_HOP_LIMIT;
	if (c.reason != DROP_NONE) {
		/* The words --stats prints for the code, as stage_drop() writes a stage's own. */
		note_stage_prefix(pl, st);
		note_appendf(pl->stage_note, "DROP (%s)", drop_reason_text(c.reason));
		c.v = VERDICT_DROP;
		c.loop_drop = true;
		return c;
	}
	if (j->translatable && pl->any_bypass && (c.by = chain_bypassed_by(pl->sc, j->p, st, dir, &via))) {
		/* Routed around st: it never sees the packet, which reaches its far link unchanged. */
		if (q != j->p)
			packet_copy(q, j->p, pl->frame[j->spare]);
		note_stage_prefix(pl, st);
		note_appendf(pl->stage_note, "bypassed, not processed: %s %s routes this flow via %s", c.by->ops->type,
		             c.by->name, via);
		return c;
	}
	st->counters.in[dir]++;
	if (q != j->p)
		packet_copy(q, j->p, pl->frame[j->spare]);
	if (!j->translatable && !st->ops->filters_invalid) {
		note_stage_prefix(pl, st);
		g_string_append(pl->stage_note, "not translated (invalid packet)");
		return c;
	}
	enum packet_origin origin = j->origin;
	if (origin == ORIGIN_CAPTURED && (j->k != pl->sc->capture || j->hops != j->capture_hops))
		origin = ORIGIN_DERIVED;
	struct stage_ctx *ctx = ctx_for(pl, st, q, j->ts, origin);
	/* The prefix goes in before the call, so that the stage appends its sentence straight after it,
	 * and comes out again if the stage had nothing to say.  Writing it afterwards, only when the
	 * stage wrote something, moves every sentence along (g_string_prepend_len): callgrind counts
	 * 0.7% (NAPT) and 0.4% (l4-lb) more instructions for that than for this. */
	note_stage_prefix(pl, st);
	size_t prefix_len = pl->stage_note->len;
	if (pl->macs && st->ops->routes) {
		/* RFC 1812 section 5.3.1: checked and decremented before the translation, as Linux's
		 * ip_forward() does after PREROUTING; an expired packet never reaches the stage's table. */
		if (q->ip.ttl <= 1)
			return ttl_exceeded(pl, st, q, dir, ctx);
		rewrite_ip4_ttl(q, (uint8_t)(q->ip.ttl - 1));
	}
	c.v = st->ops->process(st, q, dir, ctx);
	if (ctx->redecode) /* the stage changed lengths or layout: learn the offsets again */
		decode_packet(q);
	if (c.v == VERDICT_DROP) {
		/* A stage that names no reason of its own list still has its drop counted. */
		const struct drop_info *why = stage_drop_info(st->ops, ctx->drop);
		if (!why || ctx->drop < DROP_STAGE_FIRST) {
			c.reason = DROP_UNSPECIFIED;
			why = stage_drop_info(st->ops, c.reason);
		} else {
			c.reason = ctx->drop;
		}
		if (pl->stage_note->len == prefix_len)
			note_appendf(pl->stage_note, "DROP (%s)", why->text);
	}
	if (pl->stage_note->len == prefix_len)
		g_string_truncate(pl->stage_note, 0);
	return c;
}

/* Count what happened at st: per stage, and in the totals for a captured packet. */
static void account(struct pipeline *pl, const struct journey *j, struct stage *st, const struct crossing *c)
{
	bool counted = j->origin == ORIGIN_CAPTURED;
	switch (c->v) {
	case VERDICT_DROP:
		if (!c->loop_drop) {
			st->counters.dropped++;
			st->counters.drops[c->reason]++;
		}
		if (counted) {
			pl->totals.dropped++;
			pl->totals.drops[st->index][c->reason]++;
			if (c->reason == DROP_ROUTING_LOOP)
				plan_count(&pl->totals.plan.routing_loops, &pl->totals.plan.first_loop, pl->totals.packets, j->p,
				           j->k);
		}
		break;
	case VERDICT_CONSUMED:
		st->counters.consumed++;
		if (counted)
			pl->totals.consumed++;
		break;
	case VERDICT_FORWARD:
		if (c->by)
			st->counters.bypassed++;
		else
			st->counters.forwarded++;
		break;
	}
}

/* --flow-log: the packet arrived on st's interface on link j->k (REJECT when dropped there) and, when
 * forwarded, left by the one on the other side as q.  A stage the packet was routed around sees nothing. */
static void flow_log_crossing(struct pipeline *pl, const struct journey *j, const struct stage *st, enum hop_dir dir,
                              const struct crossing *c, const struct packet *q)
{
	enum side in_side = j->k == st->index ? SIDE_LEFT : SIDE_RIGHT;
	flow_log_packet(pl->opt.flow_log, st, in_side, true, c->v == VERDICT_DROP, dir, j->p, j->ts);
	if (c->v == VERDICT_FORWARD && j->translatable)
		flow_log_packet(pl->opt.flow_log, st, in_side == SIDE_LEFT ? SIDE_RIGHT : SIDE_LEFT, false, false, dir, q,
		                j->ts + PIPELINE_HOP_NS);
}

/* Carry one packet from its link to its destination, writing a view on every link it crosses. */
static gboolean travel(struct pipeline *pl, struct journey *j, GError **err)
{
	const struct scenario *sc = pl->sc;
	bool counted = j->origin == ORIGIN_CAPTURED;
	const char *notes[4];

	for (;;) {
		struct packet *p = j->p;
		struct chain_hop h = chain_next_hop_memo(&pl->hop_memo, sc, j->k, p->ip.dst);
		const char *extra = NULL;
		if (j->l2_from)
			router_hop_done(pl, p, j->l2_from, h, j->k);
		j->l2_from = NULL;
		/* The captured frame's destination MAC, before the first stage: the host's, or the router's. */
		if (pl->macs && j->origin == ORIGIN_CAPTURED && j->k == sc->capture && j->hops == j->capture_hops &&
		    j->translatable)
			router_learn(pl->macs, p, h, p->ip.dst, pl->captured_rec->data);
		/* The replayed view on the capture link must be the captured packet: checked for a packet
		 * the walk back translated, when its replay comes back to the capture link (one whose walk
		 * back stopped short may go elsewhere, and already says why). */
		if (j->capture_hops > 0 && j->hops == j->capture_hops && j->k == pl->sc->capture) {
			const struct input_record *rec = pl->captured_rec;
			/* The capture shows the link header on its own link: a stage that is no router (an
			 * l4-lb in front of a NAT) passed on the one another link's router wrote. */
			if (pl->macs)
				router_set_macs_from(p, rec->data, rec->caplen);
			extra = "this is the captured packet";
			if (pl->capture_renumbered) {
				extra = "the captured packet, renumbered for the scenario (see the stage's note)";
			} else if (p->caplen != rec->caplen || memcmp(p->data, rec->data, p->caplen) != 0) {
				extra = "differs from the captured packet (a stage's reverse and forward disagree)";
				pl->totals.mismatched++;
			}
		}
		if (h.deliver || !h.st) {
			unsigned n = view_notes(pl, extra, NULL, notes);
			if (counted) {
				pl->totals.delivered++;
				/* counted where it arrives: a stage may drop an invalid packet (a shield) */
				pl->totals.untranslated += !j->translatable;
			}
			return write_view(pl, p, j->k, j->ts, j->has_dir ? epb_dir(j->last_dir) : PCAPNG_DIR_UNKNOWN,
			                  notes, n, err);
		}
		struct stage *st = h.st;
		bool seen = pl->out_link[j->k] >= 0 || pl->opt.trace;
		struct packet *q = seen ? &pl->pkt[j->spare] : p;
		struct crossing c = cross_stage(pl, j, st, h.dir, q);

		account(pl, j, st, &c);
		if (pl->opt.flow_log && !c.by)
			flow_log_crossing(pl, j, st, h.dir, &c, q);
		if (c.v != VERDICT_FORWARD) {
			unsigned n = view_notes(pl, extra, pl->stage_note->str, notes);
			return write_view(pl, p, j->k, j->ts, epb_dir(h.dir), notes, n, err);
		}
		if (pl->macs && st->ops->routes && j->translatable)
			j->l2_from = st;
		unsigned n = view_notes(pl, extra, NULL, notes);
		if (!write_view(pl, p, j->k, j->ts, epb_dir(h.dir), notes, n, err))
			return FALSE;
		/* Next link: its view is the translated copy, annotated with what the stage did. */
		GString *swap = pl->arrive_note;
		pl->arrive_note = pl->stage_note;
		pl->stage_note = swap;
		if (q != p)
			j->spare = !j->spare;
		j->p = q;
		j->k = chain_link_after(st, h.dir);
		j->ts += PIPELINE_HOP_NS;
		j->came_from = st;
		j->last_dir = h.dir;
		j->has_dir = true;
		j->hops++;
	}
}

/* A captured packet the stage `st` sent something else in place of (REVERSE_REPLACED): its view on
 * the capture link says so (the walk back's note), and it is counted as dropped there. */
static gboolean withhold(struct pipeline *pl, const struct journey *j, struct stage *st, unsigned reason,
                         GError **err)
{
	const char *notes[4];
	struct crossing c = { .v = VERDICT_DROP, .reason = reason };

	st->counters.in[j->last_dir]++;
	account(pl, j, st, &c);
	if (pl->opt.flow_log)
		flow_log_packet(pl->opt.flow_log, st, j->k == st->index ? SIDE_LEFT : SIDE_RIGHT, true, true, j->last_dir,
		                j->p, j->ts);
	unsigned n = view_notes(pl, NULL, NULL, notes);
	return write_view(pl, j->p, j->k, j->ts, epb_dir(j->last_dir), notes, n, err);
}

/* Take one entry off the queue and carry it to the end of its path. */
static gboolean travel_entry(struct pipeline *pl, struct hop_entry *e, GError **err)
{
	bool captured = e->origin == ORIGIN_CAPTURED;
	/* One id for all its views, so that frame.packet_id == N in Wireshark follows it across links. */
	pl->journey_id++;
	pl->journey_origin = e->origin;
	pl->flow = 0;
	/* A packet travelling away from the stage that sent it must not go back through it. */
	bool away = e->from && stage_side_away(e->link == e->from->index ? SIDE_LEFT : SIDE_RIGHT, e->dir);
	struct journey j = {
		.p = &e->pkt, .spare = 0, .k = e->link, .ts = e->at_ns, .came_from = away ? e->from : NULL,
		.last_dir = e->dir, .has_dir = e->from != NULL, .capture_hops = captured ? e->derived_hops : 0,
		.origin = e->origin,
	};

	/* A stage may grow a packet up to a full frame: an emitted one moves into a frame buffer. */
	if (e->pkt.capacity < PACKET_MAX_FRAME) {
		packet_copy(&pl->pkt[0], &e->pkt, pl->frame[0]);
		j.p = &pl->pkt[0];
		j.spare = 1;
	}
	GString *swap = pl->arrive_note;
	pl->arrive_note = e->note;
	e->note = swap;
	if (!captured)
		pl->totals.emitted++;
	j.translatable = j.p->status != DECODE_INVALID;
	note_problems(pl, &j, captured);
	if (captured && pl->walk_problem->len)
		note_appendf(pl->problem_note, "%s%s", pl->problem_note->len ? "; " : "", pl->walk_problem->str);
	if (j.p->l3 != L3_IPV4 || j.p->ip.hdr_len < 20)
		return stay_on_link(pl, j.p, j.k, j.ts, captured, err);
	if (captured && e->withheld != DROP_NONE)
		return withhold(pl, &j, (struct stage *)e->from, e->withheld, err);
	/* A router's own packet (an ICMP error, a RST, a hairpinned packet) leaves from its MAC on that
	 * link to the next hop's, whatever link header the stage copied into it. */
	if (pl->macs && away && e->from->ops->routes && j.translatable)
		j.l2_from = e->from;
	if (pl->opt.flow_log && away) /* sent by the stage: it leaves by its interface on that link */
		flow_log_packet(pl->opt.flow_log, e->from, e->link == e->from->index ? SIDE_LEFT : SIDE_RIGHT, false, false,
		                e->dir, j.p, j.ts);
	if (chain_stays_on_link(pl->sc, j.k, j.p, NULL))
		return stay_on_link(pl, j.p, j.k, j.ts, captured, err);
	return travel(pl, &j, err);
}

/* Drain the queue: the earliest packet first, each to the end of its path. */
static gboolean drain_hops(struct pipeline *pl, GError **err)
{
	struct hop_entry *e;

	while ((e = hop_queue_pop(pl->hops))) {
		gboolean ok = travel_entry(pl, e, err);
		if (e != &pl->captured)
			hop_queue_release(pl->hops, e);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* ---- one captured packet --------------------------------------------------------------------------- */

/* Time is the capture's time: stages expire their timers as it moves on. */
static void advance_to(struct pipeline *pl, int64_t now_ns)
{
	struct scenario *sc = pl->sc;

	if (now_ns <= pl->clock_ns)
		return;
	struct stage_ctx *ctx = &pl->ctx;
	ctx->note = pl->stage_note;
	ctx->now_ns = now_ns;
	for (unsigned i = 0; i < sc->n_stages; i++) {
		if (!sc->stages[i]->ops->advance)
			continue;
		ctx->stage = sc->stages[i];
		sc->stages[i]->ops->advance(sc->stages[i], now_ns, ctx);
	}
	pl->clock_ns = now_ns;
}

/* Replay rec, decoded in p: walk it back, queue it, and drain the queue. */
static gboolean replay_decoded(struct pipeline *pl, const struct packet *p, const struct input_record *rec,
                               GError **err)
{
	struct scenario *sc = pl->sc;
	struct hop_entry *e = &pl->captured;
	int64_t due;

	pl->totals.packets++;
	pl->input_flow = 0;
	if (!pl->first_seen) {
		pl->first_ns = rec->ts_ns;
		pl->first_seen = true;
	}
	/* --tables-every N: the snapshots due before this packet, each with the tables as they were then. */
	while (pl->opt.tables && table_recorder_due(pl->opt.tables, rec->ts_ns, &due)) {
		advance_to(pl, due);
		table_recorder_snapshot(pl->opt.tables, sc, due, NULL);
	}
	advance_to(pl, rec->ts_ns);
	pl->captured_rec = rec;
	if (p->l3 == L3_IPV4 && p->ip.hdr_len >= 20 && !chain_stays_on_link(sc, sc->capture, p, NULL)) {
		walk_back(pl, p, rec->ts_ns);
	} else {
		g_string_truncate(pl->walk_problem, 0);
		g_string_truncate(e->note, 0);
		e->pkt = *p;
		e->link = sc->capture;
		e->origin = ORIGIN_CAPTURED;
		e->from = NULL;
		e->derived_hops = 0;
		e->withheld = DROP_NONE;
		e->at_ns = rec->ts_ns;
	}
	hop_queue_push(pl->hops, e);
	if (!drain_hops(pl, err))
		return FALSE;
	if (pl->opt.tables)
		table_recorder_packet_done(pl->opt.tables, sc, rec->ts_ns);
	return TRUE;
}

gboolean pipeline_replay(struct pipeline *pl, const struct input_record *rec, GError **err)
{
	struct packet p;
	packet_load(&p, rec, pl->capture_frame, PACKET_MAX_FRAME);
	return replay_decoded(pl, &p, rec, err);
}

gboolean pipeline_push(struct pipeline *pl, const struct input_record *rec, GError **err)
{
	const struct lookahead_slot *s = lookahead_push(pl->lookahead, rec);
	return s ? replay_decoded(pl, &s->pkt, &s->rec, err) : TRUE;
}

/* The stages hear that the capture has ended; what they emit then travels like any packet. */
static gboolean capture_ended(struct pipeline *pl, GError **err)
{
	struct scenario *sc = pl->sc;
	struct stage_ctx *ctx = &pl->ctx;

	pl->input_flow = 0; /* what the stages send now is no captured packet's doing */
	ctx->note = pl->stage_note;
	ctx->now_ns = pl->clock_ns;
	for (unsigned i = 0; i < sc->n_stages; i++) {
		if (!sc->stages[i]->ops->capture_end)
			continue;
		ctx->stage = sc->stages[i];
		sc->stages[i]->ops->capture_end(sc->stages[i], ctx);
	}
	return drain_hops(pl, err);
}

gboolean pipeline_drain(struct pipeline *pl, GError **err)
{
	const struct lookahead_slot *s;

	while ((s = lookahead_drain(pl->lookahead)))
		if (!replay_decoded(pl, &s->pkt, &s->rec, err))
			return FALSE;
	return capture_ended(pl, err);
}

/* ---- the report ------------------------------------------------------------------------------------ */

void pipeline_plan_report(const struct pipeline *pl, struct pipeline_plan_report *out)
{
	*out = pl->totals.plan;
	out->packets = pl->totals.packets;
}

bool pipeline_balanced(const struct pipeline *pl)
{
	const struct pipeline_totals *t = &pl->totals;
	return t->packets == t->delivered + t->dropped + t->consumed;
}

static void stats_stage(const struct stage *st, GString *out)
{
	const struct stage_counters *c = &st->counters;
	uint64_t in = c->in[0] + c->in[1];

	g_string_append_printf(out, "  stage %s (%s)\n", st->name, st->ops->type);
	g_string_append_printf(out, "    in %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " left-to-right, %" G_GUINT64_FORMAT
	                       " right-to-left) = forwarded %" G_GUINT64_FORMAT " + dropped %" G_GUINT64_FORMAT
	                       " + consumed %" G_GUINT64_FORMAT ": %s\n", in, c->in[0], c->in[1], c->forwarded,
	                       c->dropped, c->consumed,
	                       in == c->forwarded + c->dropped + c->consumed ? "balanced" : "NOT BALANCED");
	g_string_append_printf(out, "    earlier views derived %" G_GUINT64_FORMAT ", packets emitted %" G_GUINT64_FORMAT "\n",
	                       c->reversed, c->emitted);
	if (c->originated)
		g_string_append_printf(out, "    captured packets it sent itself %" G_GUINT64_FORMAT "\n", c->originated);
	if (c->bypassed)
		g_string_append_printf(out, "    bypassed %" G_GUINT64_FORMAT " (routed around this stage by another one; "
		                       "not counted in 'in')\n", c->bypassed);
	for (unsigned r = 0; r < DROP_CODES; r++) {
		const struct drop_info *why = stage_drop_info(st->ops, r);
		if (c->drops[r] && why)
			g_string_append_printf(out, "    drop %-22s %8" G_GUINT64_FORMAT "  %s\n", why->name, c->drops[r],
			                       why->text);
	}
	if (st->ops->stats_print)
		st->ops->stats_print(st, out);
}

/* The input packets dropped, by reason: the loop's own, summed over the stages where they
 * happened, then each stage's in chain order. */
static void stats_drops(const struct pipeline *pl, GString *out)
{
	const struct scenario *sc = pl->sc;
	const struct pipeline_totals *t = &pl->totals;

	for (unsigned r = 0; r < DROP_N; r++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < sc->n_stages; i++)
			n += t->drops[i][r];
		if (n)
			g_string_append_printf(out, "    %-22s %8" G_GUINT64_FORMAT "  %s\n", loop_drop_info(r)->name, n,
			                       loop_drop_info(r)->text);
	}
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage_ops *ops = sc->stages[i]->ops;
		for (unsigned r = DROP_STAGE_FIRST; r < DROP_STAGE_FIRST + ops->n_drops; r++)
			if (t->drops[i][r])
				g_string_append_printf(out, "    %-22s %8" G_GUINT64_FORMAT "  %s\n", ops->drops[r - DROP_STAGE_FIRST].name,
				                       t->drops[i][r], ops->drops[r - DROP_STAGE_FIRST].text);
	}
}

void pipeline_stats(const struct pipeline *pl, GString *out)
{
	const struct pipeline_totals *t = &pl->totals;
	const struct scenario *sc = pl->sc;

	g_string_append_printf(out, "natlb replay statistics (%s)\n", sc->source);
	g_string_append_printf(out, "  input packets  %12" G_GUINT64_FORMAT "\n", t->packets);
	g_string_append_printf(out, "  delivered      %12" G_GUINT64_FORMAT "   (%" G_GUINT64_FORMAT
	                       " of them untranslated: not IPv4, or invalid)\n", t->delivered, t->untranslated);
	if (t->unrouted)
		g_string_append_printf(out, "    %" G_GUINT64_FORMAT " of them stayed on their link (link-local, multicast, "
		                       "broadcast or loopback: routers do not forward them)\n", t->unrouted);
	g_string_append_printf(out, "  dropped        %12" G_GUINT64_FORMAT "\n", t->dropped);
	stats_drops(pl, out);
	g_string_append_printf(out, "  consumed       %12" G_GUINT64_FORMAT "\n", t->consumed);
	g_string_append_printf(out, "  balance: %" G_GUINT64_FORMAT " input = %" G_GUINT64_FORMAT " delivered + %"
	                       G_GUINT64_FORMAT " dropped + %" G_GUINT64_FORMAT " consumed: %s\n", t->packets,
	                       t->delivered, t->dropped, t->consumed, pipeline_balanced(pl) ? "balanced" : "NOT BALANCED");
	g_string_append_printf(out, "  truncated %" G_GUINT64_FORMAT ", invalid %" G_GUINT64_FORMAT
	                       ", emitted by stages %" G_GUINT64_FORMAT "\n", t->truncated, t->invalid, t->emitted);
	if (t->mismatched)
		g_string_append_printf(out, "  WARNING: %" G_GUINT64_FORMAT " replayed views differ from the captured packet\n",
		                       t->mismatched);
	if (hop_queue_overflow(pl->hops))
		g_string_append_printf(out, "  WARNING: %" G_GUINT64_FORMAT " emitted packets did not fit the queue of hops "
		                       "(%u at once)\n", hop_queue_overflow(pl->hops), HOP_QUEUE_MAX);
	for (unsigned i = 0; i < sc->n_stages; i++)
		stats_stage(sc->stages[i], out);
	g_string_append(out, "  views per link:");
	for (unsigned i = 0; i < sc->n_links; i++)
		g_string_append_printf(out, " %s %" G_GUINT64_FORMAT "%s", sc->links[i].name, t->views[i],
		                       pl->out_link[i] < 0 ? " (not written)" : "");
	g_string_append_c(out, '\n');
}
