/* common/pipeline.c: the replay loop: read, decode, walk back to the origin, run the stages, write every view.
 *
 * Follows DESIGN.md "How a packet travels".  A captured packet was seen on the capture link; the
 * loop first asks each stage between the packet's source and the capture point to undo its
 * translation (reverse), which gives the packet as its sender sent it.  Then it replays the
 * packet forward from there, hop by hop, through process(): each stage translates it, drops it
 * or consumes it, and each link it crosses gets a view in the output, in travel order.
 *
 * Routing is by address: a link holds its networks; a stage answers for the addresses it claims
 * (a NAT's outside addresses, a VIP); anything else lives on the default link (the first link
 * without networks: the internet).  A packet moves towards the link of its destination.
 *
 * Bypass: a stage may route a packet around the stages after it (stage_ops.bypass; a route
 * table sending S3 traffic to a gateway endpoint instead of the NAT gateway).  The loop asks
 * before it crosses any stage, going forward and walking back alike, because a reply meets the
 * bypassed stages before the one that decides; a bypassed stage is not called, and its far link
 * shows the packet unchanged, annotated "bypassed".
 *
 * Hot path: no allocation per packet.  Two frame buffers are allocated once and swapped at each
 * hop; annotations are formatted into GStrings that are reused.
 *
 * Look-ahead (pipeline_push): with a table of 100,000 flows, the lookup of each packet misses the
 * cache, and a DRAM miss costs as much as the rest of the packet's work.  So the loop reads a few
 * packets ahead, as VPP's graph nodes do with their vectors: each packet is decoded when it is
 * read, and the stage it will meet first gets STAGE_PREFETCH_STEPS calls to load its table
 * entries before the packet's turn comes.  Packets are still replayed one at a time, in order.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "common/tables.h"

#define PIPELINE_MAX_FRAME 262144 /* libpcap's MAXIMUM_SNAPLEN */
#define EMIT_POOL          16
#define EMIT_MAX_FRAME     65535
#define EMIT_NOTE_MAX      256

struct emitted {
	uint8_t bytes[EMIT_MAX_FRAME];
	uint32_t len;
	int linktype;
	unsigned link;             /* the link it starts on */
	enum hop_dir dir;          /* away from the stage that built it */
	const struct stage *from;  /* the stage that built it */
	char note[EMIT_NOTE_MAX];
};

struct emitter {
	struct emitted *slots;     /* EMIT_POOL of them, allocated once */
	unsigned n;
	uint64_t overflow;
};

struct pipeline_totals {
	uint64_t packets, delivered, dropped, consumed;
	uint64_t untranslated;     /* not IPv4, or invalid: travelled unchanged */
	uint64_t truncated, invalid;
	uint64_t emitted;
	uint64_t mismatched;       /* replayed view differs from the captured bytes: a stage bug */
	uint64_t drops[DROP_N];
	uint64_t views[SCENARIO_MAX_LINKS];
};

/* A packet read ahead, waiting for its turn (pipeline_push). */
struct queued {
	struct input_record rec;   /* rec.data points at bytes */
	uint8_t *bytes;            /* PIPELINE_MAX_FRAME, allocated once */
	struct packet pkt;         /* decoded when it was read */
	struct stage *first;       /* the stage it will meet first, to prefetch for; NULL: none */
	enum hop_dir dir;          /* ... crossing it this way */
};

#define PIPELINE_AHEAD (STAGE_PREFETCH_STEPS * STAGE_PREFETCH_GAP)
#define PIPELINE_QUEUE 16 /* a power of two above PIPELINE_AHEAD */
G_STATIC_ASSERT(PIPELINE_AHEAD < PIPELINE_QUEUE);

struct pipeline {
	struct scenario *sc;
	struct output *out;
	int out_link[SCENARIO_MAX_LINKS]; /* output handle, or -1 when --links leaves the link out */
	struct pipeline_options opt;
	uint8_t *frame[2];
	struct packet pkt[2];
	GString *arrive_note;      /* how the packet came onto the current link */
	GString *stage_note;       /* what the stage being crossed did */
	GString *problem_note;
	GString *trace;
	struct emitter emitter;
	struct pipeline_totals totals;
	int64_t clock_ns;          /* capture time the stages have been advanced to */
	bool any_bypass;           /* some stage routes packets around others (stage_ops.bypass) */
	struct queued *queue;      /* PIPELINE_QUEUE entries: the packets read ahead */
	uint8_t *queue_bytes;
	uint64_t pushed, replayed; /* queue[pushed % PIPELINE_QUEUE] is the next free entry */
};

struct hop {
	bool deliver;              /* the destination is on this link */
	struct stage *st;          /* else the stage to cross ... */
	enum hop_dir dir;          /* ... in this direction */
};

/* The link an address lives on: the side of a stage that claims it, else the link's networks. */
static unsigned locate(const struct pipeline *pl, uint32_t addr)
{
	const struct scenario *sc = pl->sc;
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (!st->ops->claims)
			continue;
		if (st->ops->claims(st, addr, SIDE_LEFT))
			return i;
		if (st->ops->claims(st, addr, SIDE_RIGHT))
			return i + 1;
	}
	return scenario_link_of(sc, addr);
}

/* From link k, where does a packet for addr go next? */
static struct hop next_hop(const struct pipeline *pl, unsigned k, uint32_t addr)
{
	const struct scenario *sc = pl->sc;
	struct stage *left = k > 0 ? sc->stages[k - 1] : NULL;
	struct stage *right = k < sc->n_stages ? sc->stages[k] : NULL;

	/* A stage that answers for addr on this link receives the packet. */
	if (left && left->ops->claims && left->ops->claims(left, addr, SIDE_RIGHT))
		return (struct hop){ false, left, DIR_RIGHT_TO_LEFT };
	if (right && right->ops->claims && right->ops->claims(right, addr, SIDE_LEFT))
		return (struct hop){ false, right, DIR_LEFT_TO_RIGHT };
	unsigned j = locate(pl, addr);
	if (j == k)
		return (struct hop){ true, NULL, DIR_LEFT_TO_RIGHT };
	if (j > k)
		return (struct hop){ false, right, DIR_LEFT_TO_RIGHT };
	return (struct hop){ false, left, DIR_RIGHT_TO_LEFT };
}

/* Does a stage to the left of st route this packet around st (stage_ops.bypass)?  Only a
 * packet whose left-hand end (its source going right, its destination going left) lies at or
 * left of that stage crosses it, so only such a packet can be sent around.  Returns the stage
 * that routes it around, and the path's name in *via; NULL when st is crossed normally. */
static const struct stage *bypassed_by(const struct pipeline *pl, const struct packet *p, const struct stage *st,
                                       enum hop_dir dir, const char **via)
{
	const struct scenario *sc = pl->sc;
	unsigned near = UINT_MAX; /* the link of the packet's left-hand end, looked up once if needed */

	for (unsigned r = 0; r < st->index; r++) {
		const struct stage *rt = sc->stages[r];
		if (!rt->ops->bypass)
			continue;
		if (near == UINT_MAX)
			near = locate(pl, dir == DIR_LEFT_TO_RIGHT ? p->ip.src : p->ip.dst);
		if (near > r)
			continue;
		unsigned n = rt->ops->bypass(rt, p, dir, via);
		if (n > 0 && st->index <= r + n)
			return rt;
	}
	return NULL;
}

/* The next hop's packet: p's decoded fields, its bytes in frame (the other of the two buffers). */
static void packet_copy(struct packet *q, const struct packet *p, uint8_t *frame)
{
	*q = *p;
	q->data = frame;
	memcpy(q->data, p->data, p->caplen);
}

static unsigned link_after(const struct stage *st, enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? st->index + 1 : st->index;
}

static enum hop_dir opposite(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
}

struct pipeline *pipeline_new(struct scenario *sc, struct output *out, const struct pipeline_options *opt,
                              GError **err)
{
	struct pipeline *pl = g_new0(struct pipeline, 1);
	char **wanted = opt->links ? g_strsplit(opt->links, ",", -1) : NULL;

	pl->sc = sc;
	pl->out = out;
	pl->opt = *opt;
	pl->opt.links = NULL;
	for (char **w = wanted; w && *w; w++) {
		g_strstrip(*w);
		bool found = false;
		for (unsigned i = 0; i < sc->n_links; i++)
			found = found || strcmp(sc->links[i].name, *w) == 0;
		if (!found) {
			const char *names[SCENARIO_MAX_LINKS];
			for (unsigned i = 0; i < sc->n_links; i++)
				names[i] = sc->links[i].name;
			const char *near = nearest_name(*w, names, sc->n_links);
			g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE, "--links: '%s' is not a link of %s%s%s%s",
			            *w, sc->source, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			g_strfreev(wanted);
			g_free(pl);
			return NULL;
		}
	}
	for (unsigned i = 0; i < sc->n_links; i++) {
		bool write = !wanted || g_strv_contains((const char *const *)wanted, sc->links[i].name);
		pl->out_link[i] = write ? output_add_link(out, sc->links[i].name, sc->links[i].description) : -1;
	}
	g_strfreev(wanted);
	for (int i = 0; i < 2; i++)
		pl->frame[i] = g_malloc(PIPELINE_MAX_FRAME);
	pl->emitter.slots = g_new0(struct emitted, EMIT_POOL);
	pl->arrive_note = g_string_sized_new(256);
	pl->stage_note = g_string_sized_new(256);
	pl->problem_note = g_string_sized_new(128);
	pl->trace = g_string_sized_new(256);
	for (unsigned i = 0; i < sc->n_stages; i++)
		pl->any_bypass = pl->any_bypass || sc->stages[i]->ops->bypass;
	/* Only the bytes a packet uses are ever touched, so the queue costs little resident memory. */
	pl->queue = g_new0(struct queued, PIPELINE_QUEUE);
	pl->queue_bytes = g_malloc((size_t)PIPELINE_QUEUE * PIPELINE_MAX_FRAME);
	for (unsigned i = 0; i < PIPELINE_QUEUE; i++)
		pl->queue[i].bytes = pl->queue_bytes + (size_t)i * PIPELINE_MAX_FRAME;
	return pl;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	for (int i = 0; i < 2; i++)
		g_free(pl->frame[i]);
	g_free(pl->emitter.slots);
	g_free(pl->queue);
	g_free(pl->queue_bytes);
	g_string_free(pl->arrive_note, TRUE);
	g_string_free(pl->stage_note, TRUE);
	g_string_free(pl->problem_note, TRUE);
	g_string_free(pl->trace, TRUE);
	g_free(pl);
}

bool stage_emit(struct stage_ctx *ctx, struct stage *st, enum side side, int linktype,
                const uint8_t *bytes, uint32_t len, const char *note)
{
	struct emitter *em = ctx->emitter;

	if (!em) /* a stage driven outside the loop (unit tests, fuzzers) has nowhere to emit */
		return false;
	if (em->n == EMIT_POOL || len > EMIT_MAX_FRAME) {
		em->overflow++;
		return false;
	}
	struct emitted *e = &em->slots[em->n++];
	memcpy(e->bytes, bytes, len);
	e->len = len;
	e->linktype = linktype;
	e->link = side == SIDE_LEFT ? st->index : st->index + 1;
	e->from = st;
	e->dir = side == SIDE_LEFT ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
	g_strlcpy(e->note, note ? note : "", sizeof e->note);
	st->counters.emitted++;
	return true;
}

static gboolean write_view(struct pipeline *pl, const struct packet *p, unsigned link, int64_t ts,
                           enum pcapng_direction dir, const char *const *notes, unsigned n_notes, GError **err)
{
	pl->totals.views[link]++;
	if (pl->opt.trace) {
		g_string_truncate(pl->trace, 0);
		note_appendf(pl->trace, "%" G_GINT64_FORMAT ".%09" G_GINT64_FORMAT " %-10s ",
		                       ts / 1000000000, ts % 1000000000, pl->sc->links[link].name);
		packet_describe(p, pl->trace);
		for (unsigned i = 0; i < n_notes; i++)
			note_appendf(pl->trace, " | %s", notes[i]);
		fprintf(stderr, "%s\n", pl->trace->str);
	}
	if (pl->out_link[link] < 0)
		return TRUE;
	return output_write(pl->out, pl->out_link[link], p->linktype, ts, p->data, p->caplen, p->wirelen,
	                    dir, notes, n_notes, err);
}

static enum pcapng_direction epb_dir(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? PCAPNG_DIR_OUTBOUND : PCAPNG_DIR_INBOUND;
}

/* Every captured packet's first comment: plain appends, no printf, on the hot path. */
static void note_captured_on(GString *note, const char *link)
{
	g_string_assign(note, "captured on ");
	g_string_append(note, link);
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

/* The packet is not IPv4 with readable addresses: it stays on the link where it was seen. */
static gboolean stay_on_link(struct pipeline *pl, struct packet *p, unsigned k, int64_t ts, GError **err)
{
	const char *name = pl->sc->links[k].name;
	const char *notes[4];

	if (pl->arrive_note->len == 0)
		note_captured_on(pl->arrive_note, name);
	switch (p->l3) {
	case L3_IPV6:
		note_printf(pl->stage_note, "IPv6: passed through untranslated (NAT64 is out of scope); shown on %s only", name);
		break;
	case L3_OTHER:
		note_printf(pl->stage_note, "not IP (ethertype 0x%04x): stays on %s", p->ethertype, name);
		break;
	default:
		note_printf(pl->stage_note, "unreadable: %s; shown on %s only", p->problem ? p->problem : "?", name);
		break;
	}
	pl->totals.untranslated++;
	pl->totals.delivered++;
	g_string_truncate(pl->problem_note, 0);
	unsigned n = view_notes(pl, pl->stage_note->str, NULL, notes);
	return write_view(pl, p, k, ts, PCAPNG_DIR_UNKNOWN, notes, n, err);
}

/* Walk from the capture link back towards the packet's source, undoing each stage's translation.
 * Returns the link where the packet was sent; *hops counts the stages undone. */
static unsigned walk_back(struct pipeline *pl, struct packet *p, uint8_t *frame, unsigned k, bool translatable,
                          unsigned *hops, struct stage_ctx *ctx)
{
	const struct scenario *sc = pl->sc;

	*hops = 0;
	while (*hops <= 2 * sc->n_stages) {
		struct hop h = next_hop(pl, k, p->ip.src);
		if (h.deliver || !h.st)
			break;
		enum hop_dir crossed = opposite(h.dir);
		const char *via;
		g_string_truncate(ctx->note, 0);
		/* A stage the packet was routed around did not touch it: nothing to undo. */
		if (translatable && pl->any_bypass && bypassed_by(pl, p, h.st, crossed, &via)) {
			k = h.dir == DIR_LEFT_TO_RIGHT ? h.st->index + 1 : h.st->index;
			(*hops)++;
			continue;
		}
		/* reverse() works in place: a packet still in the queue's buffer, which holds the captured
		 * bytes the replayed view is compared with, moves to the frame first. */
		if (translatable && h.st->ops->reverse && p->data != frame) {
			memcpy(frame, p->data, p->caplen);
			p->data = frame;
		}
		if (translatable && h.st->ops->reverse && !h.st->ops->reverse(h.st, p, crossed, ctx)) {
			note_appendf(pl->problem_note, "%s%s %s could not have passed this packet (%s)",
			                       pl->problem_note->len ? "; " : "", h.st->ops->type, h.st->name,
			                       ctx->note->len ? ctx->note->str : "no translation matches it");
			break;
		}
		h.st->counters.reversed++;
		k = h.dir == DIR_LEFT_TO_RIGHT ? h.st->index + 1 : h.st->index;
		(*hops)++;
	}
	return k;
}

/* Carry one packet from link k to its destination, writing a view on every link it crosses. */
static gboolean travel(struct pipeline *pl, int cur, unsigned k, int64_t ts, const struct stage *came_from,
                       const struct input_record *captured, bool counted, GError **err)
{
	const struct scenario *sc = pl->sc;
	struct packet *p = &pl->pkt[cur];
	bool translatable = p->status != DECODE_INVALID;
	struct stage_ctx ctx = { .note = pl->stage_note, .emitter = &pl->emitter, .seed = pl->opt.seed,
	                         .tables = pl->opt.tables };
	unsigned capture_hops = 0, hops = 0;
	/* An emitted packet travels away from its stage from the start. */
	enum hop_dir last_dir = came_from && came_from->index == k ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
	const char *notes[4];

	g_string_truncate(pl->problem_note, 0);
	if (p->status != DECODE_OK && p->problem) {
		note_printf(pl->problem_note, "%s: %s%s", p->status == DECODE_TRUNCATED ? "truncated" : "invalid",
		                p->problem, translatable ? "" : "; crossed every stage untranslated");
		if (counted && p->status == DECODE_TRUNCATED)
			pl->totals.truncated++;
		else if (counted)
			pl->totals.invalid++;
	}
	else if (p->caplen < p->wirelen)
		note_printf(pl->problem_note, "snapshot: %u of %u bytes captured; the headers are complete",
		                p->caplen, p->wirelen);
	if (p->l3 != L3_IPV4 || p->ip.hdr_len < 20)
		return stay_on_link(pl, p, k, ts, err);
	if (!translatable && counted)
		pl->totals.untranslated++;

	if (captured) {
		ctx.now_ns = ts; /* reverse() may read the clock (a flow's idle timeout); it never advances it */
		unsigned origin = walk_back(pl, p, pl->frame[cur], k, translatable, &capture_hops, &ctx);
		if (capture_hops == 0)
			note_captured_on(pl->arrive_note, sc->links[k].name);
		else
			note_printf(pl->arrive_note, "sent on %s (derived: the capture on %s shows it after %u stage%s)",
			                sc->links[origin].name, sc->links[k].name, capture_hops, capture_hops == 1 ? "" : "s");
		k = origin;
		ts -= (int64_t)capture_hops * PIPELINE_HOP_NS;
	}

	for (;;) {
		struct hop h = next_hop(pl, k, p->ip.dst);
		const char *extra = NULL;
		/* The replayed view on the capture link must be the captured packet. */
		if (captured && capture_hops > 0 && hops == capture_hops) {
			extra = "this is the captured packet";
			if (p->caplen != captured->caplen || memcmp(p->data, captured->data, p->caplen) != 0) {
				extra = "differs from the captured packet (a stage's reverse and forward disagree)";
				pl->totals.mismatched++;
			}
		}
		if (h.deliver || !h.st) {
			unsigned n = view_notes(pl, extra, NULL, notes);
			if (counted)
				pl->totals.delivered++;
			return write_view(pl, p, k, ts, hops || came_from ? epb_dir(last_dir) : PCAPNG_DIR_UNKNOWN,
			                  notes, n, err);
		}
		struct stage *st = h.st;
		enum verdict v;
		enum drop_reason reason = DROP_N;
		/* The stage works on a copy so that this link's view stays as it arrived; a view that is
		 * neither written (--links) nor traced needs no copy. */
		bool seen = pl->out_link[k] >= 0 || pl->opt.trace;
		struct packet *q = seen ? &pl->pkt[!cur] : p;
		const struct stage *by = NULL;
		const char *via = NULL;

		g_string_truncate(pl->stage_note, 0);
		if (st == came_from)
			reason = DROP_ROUTING_LOOP;
		else if (hops > 2 * sc->n_stages)
			reason = DROP_HOP_LIMIT;
		bool loop_drop = reason != DROP_N;
		if (loop_drop) {
			note_printf(pl->stage_note, "DROP: %s", drop_reason_text(reason));
			v = VERDICT_DROP;
		} else if (translatable && pl->any_bypass && (by = bypassed_by(pl, p, st, h.dir, &via))) {
			/* Routed around st: it never sees the packet, which reaches its far link unchanged. */
			if (q != p)
				packet_copy(q, p, pl->frame[!cur]);
			note_printf(pl->stage_note, "%s %s: bypassed, not processed: %s %s routes this flow via %s",
			            st->ops->type, st->name, by->ops->type, by->name, via);
			v = VERDICT_FORWARD;
		} else {
			st->counters.in[h.dir]++;
			if (q != p)
				packet_copy(q, p, pl->frame[!cur]);
			if (translatable) {
				ctx.now_ns = ts;
				ctx.drop = DROP_N;
				ctx.redecode = false;
				v = st->ops->process(st, q, h.dir, &ctx);
				reason = ctx.drop;
				if (ctx.redecode) /* the stage changed lengths or layout: learn the offsets again */
					decode_packet(q);
			} else {
				note_printf(pl->stage_note, "%s %s: not translated (invalid packet)", st->ops->type, st->name);
				v = VERDICT_FORWARD;
			}
		}
		if (v == VERDICT_DROP) {
			if (reason >= DROP_N)
				reason = DROP_UNSPECIFIED; /* never lose the count */
			if (pl->stage_note->len == 0)
				note_printf(pl->stage_note, "%s %s: DROP (%s)", st->ops->type, st->name, drop_reason_text(reason));
			if (!loop_drop) { /* the loop's own drops happen before the stage sees the packet */
				st->counters.dropped++;
				st->counters.drops[reason]++;
			}
			if (counted) {
				pl->totals.dropped++;
				pl->totals.drops[reason]++;
			}
			unsigned n = view_notes(pl, extra, pl->stage_note->str, notes);
			return write_view(pl, p, k, ts, epb_dir(h.dir), notes, n, err);
		}
		if (v == VERDICT_CONSUMED) {
			st->counters.consumed++;
			if (counted)
				pl->totals.consumed++;
			unsigned n = view_notes(pl, extra, pl->stage_note->str, notes);
			return write_view(pl, p, k, ts, epb_dir(h.dir), notes, n, err);
		}
		if (by)
			st->counters.bypassed++;
		else
			st->counters.forwarded++;
		unsigned n = view_notes(pl, extra, NULL, notes);
		if (!write_view(pl, p, k, ts, epb_dir(h.dir), notes, n, err))
			return FALSE;
		/* Next link: its view is the translated copy, annotated with what the stage did. */
		GString *swap = pl->arrive_note;
		pl->arrive_note = pl->stage_note;
		pl->stage_note = swap;
		ctx.note = pl->stage_note;
		if (q != p)
			cur = !cur;
		p = q;
		k = link_after(st, h.dir);
		ts += PIPELINE_HOP_NS;
		came_from = st;
		last_dir = h.dir;
		hops++;
	}
}

/* Packets the stages emitted while handling the last one travel after it, away from their stage. */
static gboolean flush_emitted(struct pipeline *pl, int64_t ts, GError **err)
{
	struct emitter *em = &pl->emitter;

	for (unsigned i = 0; i < em->n; i++) {
		struct emitted *e = &em->slots[i];
		struct packet *p = &pl->pkt[0];
		p->data = pl->frame[0];
		memcpy(p->data, e->bytes, e->len);
		p->caplen = p->wirelen = e->len;
		p->linktype = e->linktype;
		decode_packet(p);
		pl->totals.emitted++;
		g_string_assign(pl->arrive_note, e->note);
		ts += PIPELINE_HOP_NS;
		if (!travel(pl, 0, e->link, ts, e->from, NULL, false, err))
			return FALSE;
	}
	em->n = 0;
	return TRUE;
}

/* Time is the capture's time: stages expire their timers as it moves on. */
static void advance_to(struct pipeline *pl, int64_t now_ns)
{
	struct scenario *sc = pl->sc;

	if (now_ns <= pl->clock_ns)
		return;
	struct stage_ctx ctx = { .now_ns = now_ns, .note = pl->stage_note, .emitter = &pl->emitter,
	                         .seed = pl->opt.seed, .tables = pl->opt.tables };
	for (unsigned i = 0; i < sc->n_stages; i++)
		if (sc->stages[i]->ops->advance)
			sc->stages[i]->ops->advance(sc->stages[i], now_ns, &ctx);
	pl->clock_ns = now_ns;
}

/* Replay rec, already decoded into pl->pkt[0] (its bytes in frame[0], or in the queue). */
static gboolean replay_decoded(struct pipeline *pl, const struct input_record *rec, GError **err)
{
	struct scenario *sc = pl->sc;
	int64_t due;

	pl->totals.packets++;
	/* --tables-every N: the snapshots due before this packet, each with the tables as they were then. */
	while (pl->opt.tables && table_recorder_due(pl->opt.tables, rec->ts_ns, &due)) {
		advance_to(pl, due);
		table_recorder_snapshot(pl->opt.tables, sc, due, NULL);
	}
	advance_to(pl, rec->ts_ns);
	g_string_truncate(pl->arrive_note, 0);
	if (!travel(pl, 0, sc->capture, rec->ts_ns, NULL, rec, true, err) || !flush_emitted(pl, rec->ts_ns, err))
		return FALSE;
	if (pl->opt.tables)
		table_recorder_packet_done(pl->opt.tables, sc, rec->ts_ns);
	return TRUE;
}

static void packet_load(struct packet *p, const struct input_record *rec, uint8_t *frame)
{
	p->data = frame;
	p->caplen = MIN(rec->caplen, PIPELINE_MAX_FRAME);
	p->wirelen = rec->wirelen;
	p->linktype = rec->linktype;
	p->ts_ns = rec->ts_ns;
	memcpy(p->data, rec->data, p->caplen);
	decode_packet(p);
}

gboolean pipeline_replay(struct pipeline *pl, const struct input_record *rec, GError **err)
{
	packet_load(&pl->pkt[0], rec, pl->frame[0]);
	return replay_decoded(pl, rec, err);
}

/* The stage a captured packet will meet first, if it goes forward from the capture link; a
 * packet that walks back first (a reply captured past its NAT) gets no prefetch: reverse() looks
 * it up by other keys. */
static void queued_route(const struct pipeline *pl, struct queued *q)
{
	const struct packet *p = &q->pkt;
	q->first = NULL;
	if (p->l3 != L3_IPV4 || p->ip.hdr_len < 20 || p->status == DECODE_INVALID)
		return;
	struct hop back = next_hop(pl, pl->sc->capture, p->ip.src);
	if (!back.deliver && back.st)
		return;
	struct hop h = next_hop(pl, pl->sc->capture, p->ip.dst);
	if (!h.deliver && h.st && h.st->ops->prefetch) {
		q->first = h.st;
		q->dir = h.dir;
	}
}

static gboolean replay_queued(struct pipeline *pl, GError **err)
{
	struct queued *q = &pl->queue[pl->replayed++ % PIPELINE_QUEUE];
	pl->pkt[0] = q->pkt;
	return replay_decoded(pl, &q->rec, err);
}

gboolean pipeline_push(struct pipeline *pl, const struct input_record *rec, GError **err)
{
	struct queued *q = &pl->queue[pl->pushed % PIPELINE_QUEUE];

	q->rec = *rec;
	q->rec.caplen = MIN(rec->caplen, PIPELINE_MAX_FRAME);
	q->rec.data = q->bytes;
	packet_load(&q->pkt, rec, q->bytes);
	queued_route(pl, q);
	/* Step s for the packet pushed s gaps ago: each step's loads had a gap's work to arrive. */
	for (unsigned step = 0; step < STAGE_PREFETCH_STEPS; step++) {
		uint64_t back = (uint64_t)step * STAGE_PREFETCH_GAP;
		if (pl->pushed < pl->replayed + back)
			break;
		const struct queued *w = &pl->queue[(pl->pushed - back) % PIPELINE_QUEUE];
		if (w->first)
			w->first->ops->prefetch(w->first, &w->pkt, w->dir, step);
	}
	pl->pushed++;
	if (pl->pushed - pl->replayed > PIPELINE_AHEAD)
		return replay_queued(pl, err);
	return TRUE;
}

gboolean pipeline_drain(struct pipeline *pl, GError **err)
{
	while (pl->replayed < pl->pushed)
		if (!replay_queued(pl, err))
			return FALSE;
	return TRUE;
}

bool pipeline_balanced(const struct pipeline *pl)
{
	const struct pipeline_totals *t = &pl->totals;
	return t->packets == t->delivered + t->dropped + t->consumed;
}

void pipeline_stats(const struct pipeline *pl, GString *out)
{
	const struct pipeline_totals *t = &pl->totals;
	const struct scenario *sc = pl->sc;

	g_string_append_printf(out, "natlb replay statistics (%s)\n", sc->source);
	g_string_append_printf(out, "  input packets  %12" G_GUINT64_FORMAT "\n", t->packets);
	g_string_append_printf(out, "  delivered      %12" G_GUINT64_FORMAT "   (%" G_GUINT64_FORMAT
	                       " of them untranslated: not IPv4, or invalid)\n", t->delivered, t->untranslated);
	g_string_append_printf(out, "  dropped        %12" G_GUINT64_FORMAT "\n", t->dropped);
	for (unsigned r = 0; r < DROP_N; r++)
		if (t->drops[r])
			g_string_append_printf(out, "    %-22s %8" G_GUINT64_FORMAT "  %s\n", drop_reason_name(r), t->drops[r],
			                       drop_reason_text(r));
	g_string_append_printf(out, "  consumed       %12" G_GUINT64_FORMAT "\n", t->consumed);
	g_string_append_printf(out, "  balance: %" G_GUINT64_FORMAT " input = %" G_GUINT64_FORMAT " delivered + %"
	                       G_GUINT64_FORMAT " dropped + %" G_GUINT64_FORMAT " consumed: %s\n", t->packets,
	                       t->delivered, t->dropped, t->consumed, pipeline_balanced(pl) ? "balanced" : "NOT BALANCED");
	g_string_append_printf(out, "  truncated %" G_GUINT64_FORMAT ", invalid %" G_GUINT64_FORMAT
	                       ", emitted by stages %" G_GUINT64_FORMAT "\n", t->truncated, t->invalid, t->emitted);
	if (t->mismatched)
		g_string_append_printf(out, "  WARNING: %" G_GUINT64_FORMAT " replayed views differ from the captured packet\n",
		                       t->mismatched);
	if (pl->emitter.overflow)
		g_string_append_printf(out, "  WARNING: %" G_GUINT64_FORMAT " emitted packets did not fit the pool\n",
		                       pl->emitter.overflow);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
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
		if (c->bypassed)
			g_string_append_printf(out, "    bypassed %" G_GUINT64_FORMAT " (routed around this stage by another one; "
			                       "not counted in 'in')\n", c->bypassed);
		for (unsigned r = 0; r < DROP_N; r++)
			if (c->drops[r])
				g_string_append_printf(out, "    drop %-22s %8" G_GUINT64_FORMAT "  %s\n", drop_reason_name(r),
				                       c->drops[r], drop_reason_text(r));
		if (st->ops->stats_print)
			st->ops->stats_print(st, out);
	}
	g_string_append(out, "  views per link:");
	for (unsigned i = 0; i < sc->n_links; i++)
		g_string_append_printf(out, " %s %" G_GUINT64_FORMAT "%s", sc->links[i].name, t->views[i],
		                       pl->out_link[i] < 0 ? " (not written)" : "");
	g_string_append_c(out, '\n');
}
