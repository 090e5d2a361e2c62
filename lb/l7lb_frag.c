/* lb/l7lb_frag.c: IPv4 fragments to and from clients, reassembled before the l7-lb reads the TCP segment they carry (RFC 791 section 3.2; common/ip4_reasm.h).
 *
 * From clients: a full proxy is the end of the client's IP path: like the host it stands for, it
 * must put a fragmented datagram together before TCP can read it (RFC 1122 section 3.3.2).  Each
 * fragment is a packet of the capture and is accounted for as one: those it holds are consumed,
 * each annotated with what is held so far; the one that completes its datagram gets the verdict
 * and the sentences of the whole segment; one that cannot be reassembled is dropped with the reason.
 *
 * To clients: a response segment the capture shows in fragments (a path of a smaller MTU, DF
 * clear) was sent by the balancer as one segment, which a router on the way cut up.  To pair the
 * response with its request, the balancer's response stream must read the whole segment: the
 * fragments are reassembled in a context of their own (so that the two directions' datagrams and
 * their counts never mix) and the whole segment goes through the reverse path as an unfragmented
 * one would.  Each fragment is still shown on the client link, as captured.  Renumbering (the
 * balancer's own answers moved its sequence numbers, c->shift) touches the TCP header, which only
 * the first fragment carries: it is rewritten there, its TCP checksum updated incrementally for the
 * whole segment (RFC 1624), and where that cannot be done faithfully the note says so.
 */
#include <netinet/in.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "lb/l7lb.h"

static void note_fragment(GString *note, const struct packet *p)
{
	const struct ip4_view *ip = &p->ip;
	note_appendf(note, "IPv4 fragment at offset %u (%u bytes%s) of datagram id 0x%04x", ip->frag_off * 8u,
	             ip->total_len > ip->hdr_len ? ip->total_len - ip->hdr_len : 0,
	             ip->more_fragments ? "" : ", the last", ip->id);
}

/* The datagram behind the link header of its last fragment, decoded as if it had come whole. */
static bool datagram_packet(struct l7lb *lb, const struct packet *last, const struct ip4_reasm_out *out,
                            struct packet *whole)
{
	uint32_t l2 = last->ip.off;
	if (l2 > 64 || l2 > last->caplen)
		return false;
	memcpy(lb->reasm_frame, last->data, l2);
	memcpy(lb->reasm_frame + l2, out->datagram, out->datagram_len);
	*whole = (struct packet){ .data = lb->reasm_frame, .capacity = L7LB_FRAG_FRAME_MAX,
		                  .caplen = l2 + out->datagram_len, .wirelen = l2 + out->datagram_len,
		                  .linktype = last->linktype, .ts_ns = last->ts_ns };
	decode_packet(whole);
	return whole->l3 == L3_IPV4 && !whole->ip.is_fragment;
}

/* A direction's reassembly, made at the first fragment the stage sees going that way (a replay
 * without any keeps its megabyte), with the frame both directions rebuild a datagram into; false
 * when it cannot be made. */
static bool reasm_open(struct l7lb *lb, struct ip4_reasm **r)
{
	if (*r)
		return true;
	const struct ip4_reasm_limits lim = { .max_datagrams = L7LB_FRAG_DATAGRAMS,
		                              .max_fragments = L7LB_FRAG_FRAGMENTS,
		                              .timeout_ns = lb->fragment_timeout_ns };
	*r = ip4_reasm_new(&lim);
	if (!lb->reasm_frame)
		lb->reasm_frame = g_malloc(L7LB_FRAG_FRAME_MAX);
	return *r != NULL;
}

enum verdict l7lb_fragment_from_client(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                       enum verdict (*whole_segment)(struct stage *, struct packet *,
                                                                     struct stage_ctx *))
{
	struct l7lb *lb = st->priv;
	struct ip4_reasm_out out;

	if (p->ip.proto != IPPROTO_TCP)
		return stage_drop(ctx, DROP_L7LB_NOT_TCP, "protocol %u, in an IPv4 fragment", p->ip.proto);
	if (!reasm_open(lb, &lb->reasm))
		return stage_drop(ctx, DROP_L7LB_FRAGMENT, "fragment-timeout out of reassembly's range");
	enum ip4_reasm_result res = ip4_reasm_add(lb->reasm, p, ctx->now_ns, &out);
	note_fragment(ctx->note, p);
	switch (res) {
	case IP4_REASM_HELD:
		note_appendf(ctx->note, ": held for reassembly (%u fragment%s, %u bytes so far%s)", out.n_fragments,
		             out.n_fragments == 1 ? "" : "s", out.bytes_held,
		             out.payload_len ? "" : "; the last fragment has not come");
		return VERDICT_CONSUMED;
	case IP4_REASM_COMPLETE: {
		struct packet whole;
		note_appendf(ctx->note, " completes it: %u fragments reassembled into a datagram of %u bytes (RFC 791); ", out.n_fragments,
		             out.datagram_len);
		if (!datagram_packet(lb, p, &out, &whole))
			return stage_drop(ctx, DROP_L7LB_FRAGMENT, "the reassembled datagram does not decode");
		return whole_segment(st, &whole, ctx);
	}
	default:
		g_string_append(ctx->note, ": ");
		return stage_drop(ctx, DROP_L7LB_FRAGMENT, "%s", ip4_reasm_result_text(res));
	}
}

/* ---- to clients ------------------------------------------------------------------------------- */

/* A first fragment that went out renumbered: remembered until its datagram is whole (or its
 * timeout), in a ring as long as the reassembly's room for datagrams. */
static void renumbered_remember(struct l7lb *lb, const struct ip4_view *ip, int64_t now_ns, uint32_t delta)
{
	struct l7lb_renumbered_fragment *r = &lb->renumbered[lb->next_renumbered];
	lb->next_renumbered = (lb->next_renumbered + 1) % L7LB_FRAG_DATAGRAMS;
	*r = (struct l7lb_renumbered_fragment){ .used = true, .src = ip->src, .dst = ip->dst, .id = ip->id,
		                                .at_ns = now_ns, .delta = delta };
}

/* What the first fragment of this datagram was renumbered by (0: not at all), forgotten now. */
static uint32_t renumbered_take(struct l7lb *lb, const struct ip4_view *ip, int64_t now_ns)
{
	for (unsigned i = 0; i < L7LB_FRAG_DATAGRAMS; i++) {
		struct l7lb_renumbered_fragment *r = &lb->renumbered[i];
		if (r->used && r->src == ip->src && r->dst == ip->dst && r->id == ip->id &&
		    now_ns - r->at_ns <= lb->fragment_timeout_ns) {
			r->used = false;
			return r->delta;
		}
	}
	return 0;
}

/* A first fragment held while its datagram is awaited goes to the client now, so it is renumbered
 * now, by what the connection's shift is now (the segment, once whole, checks it still is). */
static void renumber_first_fragment(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                    const struct l7lb_to_client_path *path)
{
	struct l7lb *lb = st->priv;
	uint32_t delta = path->seq_shift_now(st, p);
	if (p->ip.frag_off != 0 || !p->ip.has_ports || delta == 0)
		return;
	/* decode_packet() finds a first fragment too short for its whole TCP header invalid, and the walk
	 * back does not bring such a one here; were the checksum not in it, renumbering the sequence
	 * number alone would break the segment */
	if (!p->ip.has_l4_csum) {
		note_appendf(ctx->note, "; not renumbered (seq %+d due, for the balancer's own answers): its TCP checksum "
		             "lies in a later fragment, so the client will see this segment's old sequence number",
		             (int32_t)delta);
		return;
	}
	tcp_segment_set_seq(p, tcp_segment_seq(p) + delta);
	renumbered_remember(lb, &p->ip, ctx->now_ns, delta);
	note_appendf(ctx->note, "; seq %+d here, in the segment's first fragment (the balancer's own answers on this "
	             "connection), its TCP checksum updated for the whole segment", (int32_t)delta);
}

/* The first and last bytes of the TCP header that the reverse path rewrote in the whole segment
 * (its sequence number, flags, and the checksum that follows them), as offsets of the IP payload;
 * false when it rewrote none.  The reverse path edits the header only, never the data. */
static bool header_rewritten(const struct packet *whole, const uint8_t *before, uint32_t *first, uint32_t *last)
{
	const uint8_t *after = whole->data + whole->ip.l4_off;
	uint32_t hdr = whole->payload_off > whole->ip.l4_off ? whole->payload_off - whole->ip.l4_off : 0;
	bool any = false;
	for (uint32_t i = 0; i < hdr; i++) {
		if (after[i] == before[i])
			continue;
		if (!any)
			*first = i;
		*last = i;
		any = true;
	}
	return any;
}

/* The whole segment went through the reverse path, which may have rewritten its header: carry that
 * onto the fragment in hand when the rewritten bytes are all in it; when they are in the first
 * fragment, already sent, check it was renumbered so; else say what the client sees instead. */
static void carry_rewrite(struct packet *p, const struct packet *whole,
                          const struct ip4_reasm_out *out, uint32_t applied, struct stage_ctx *ctx)
{
	const uint8_t *before = out->datagram + whole->ip.hdr_len;
	uint32_t from = p->ip.frag_off * 8u, to = from + (p->ip.total_len - p->ip.hdr_len), first = 0, last = 0;
	uint32_t seq_before = 0, seq_after = tcp_segment_seq(whole);
	for (unsigned i = 0; i < 4; i++)
		seq_before = seq_before << 8 | before[4 + i];
	uint32_t wanted = seq_after - seq_before;
	bool flags_kept = before[13] == whole->data[whole->ip.l4_off + 13];

	if (!header_rewritten(whole, before, &first, &last)) {
		if (applied)
			note_appendf(ctx->note, "; not faithful: the segment's first fragment went to the client with seq %+d, "
			             "which the whole segment no longer needs (a fragment already shown cannot be renumbered "
			             "again)", (int32_t)applied);
		return;
	}
	if (from <= first && last < to) {
		memcpy(p->data + p->ip.off + p->ip.hdr_len + (first - from), whole->data + whole->ip.l4_off + first,
		       last - first + 1);
		g_string_append(ctx->note, "; this fragment carries the segment's TCP header: rewritten so here, its "
		                "checksum updated for the whole segment");
		return;
	}
	if (from > 0 && flags_kept && applied == wanted)
		return; /* renumber_first_fragment() did it, to the same sequence number */
	if (from == 0)
		note_appendf(ctx->note, "; not faithful: the whole segment is renumbered by seq %+d, but its TCP checksum "
		             "went to the client in a later fragment, already shown: this one keeps the capture's sequence "
		             "number", (int32_t)wanted);
	else if (applied)
		note_appendf(ctx->note, "; not faithful: the whole segment is renumbered by seq %+d%s, but its TCP header "
		             "went to the client in its first fragment, already shown (seq %+d there)", (int32_t)wanted,
		             flags_kept ? "" : " with other flags", (int32_t)applied);
	else
		note_appendf(ctx->note, "; not faithful: the whole segment is renumbered by seq %+d%s, but its TCP header "
		             "went to the client in its first fragment, already shown, as captured", (int32_t)wanted,
		             flags_kept ? "" : " with other flags");
}

/* A fragment from a listener to a client, captured on the client side (l7lb_reverse()).
 *
 * The answer for a fragment held, whose datagram is not whole yet: REVERSE_ORIGINATED.  The
 * balancer did send it (or a router cut what it sent), and the capture shows it reached the
 * client, so it is replayed from the stage onto the client link and counted delivered, which keeps
 * the loop's totals and the stage's books balanced.  REVERSE_IMPOSSIBLE would count it as a packet
 * misplaced in the scenario's address plan, which it is not; REVERSE_REPLACED would count it as
 * dropped, though its bytes do reach the response stream once the datagram is whole.  A fragment
 * that cannot be reassembled (an ambiguous overlap, one too many, a copy of one held) is
 * REVERSE_REPLACED with DROP_L7LB_FRAGMENT_TO_CLIENT: still shown where it was captured, counted by
 * that reason, and its bytes are not read, as the client direction drops it. */
enum reverse_answer l7lb_fragment_to_client(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                            const struct l7lb_to_client_path *path)
{
	struct l7lb *lb = st->priv;
	struct ip4_reasm_out out;

	if (!reasm_open(lb, &lb->reasm_to_client)) {
		g_string_append(ctx->note, "fragment-timeout out of reassembly's range");
		ctx->drop = DROP_L7LB_FRAGMENT_TO_CLIENT;
		return REVERSE_REPLACED;
	}
	enum ip4_reasm_result res = ip4_reasm_add(lb->reasm_to_client, p, ctx->now_ns, &out);
	note_fragment(ctx->note, p);
	switch (res) {
	case IP4_REASM_HELD:
		note_appendf(ctx->note, " to the client: held for reassembly (%u fragment%s, %u bytes so far%s), so that "
		             "the response stream reads the whole segment", out.n_fragments, out.n_fragments == 1 ? "" : "s",
		             out.bytes_held, out.payload_len ? "" : "; the last fragment has not come");
		renumber_first_fragment(st, p, ctx, path);
		return REVERSE_ORIGINATED;
	case IP4_REASM_COMPLETE: {
		struct packet whole;
		note_appendf(ctx->note, " to the client completes it: %u fragments reassembled into a datagram of %u bytes "
		             "(RFC 791); ", out.n_fragments, out.datagram_len);
		if (!datagram_packet(lb, p, &out, &whole)) {
			g_string_append(ctx->note, "the reassembled datagram does not decode");
			ctx->drop = DROP_L7LB_FRAGMENT_TO_CLIENT;
			return REVERSE_REPLACED;
		}
		uint32_t applied = renumbered_take(lb, &whole.ip, ctx->now_ns);
		enum reverse_answer a = path->whole_segment(st, &whole, ctx);
		if (a == REVERSE_ORIGINATED)
			carry_rewrite(p, &whole, &out, applied, ctx);
		else if (a == REVERSE_REPLACED && out.n_fragments > 1)
			g_string_append(ctx->note, " (the datagram's other fragments are shown as sent: what their bytes were "
			                "was known only once it was whole)");
		return a;
	}
	default:
		g_string_append(ctx->note, " to the client: ");
		g_string_append(ctx->note, ip4_reasm_result_text(res));
		ctx->drop = DROP_L7LB_FRAGMENT_TO_CLIENT;
		return REVERSE_REPLACED;
	}
}

/* ---- --stats ---------------------------------------------------------------------------------- */

static void reasm_stats(const struct ip4_reasm *reasm, const char *way, GString *out)
{
	if (!reasm)
		return;
	const struct ip4_reasm_stats *s = ip4_reasm_stats(reasm);
	uint64_t fragments = 0;
	for (unsigned r = 0; r < IP4_REASM_N; r++)
		fragments += s->results[r];
	if (!fragments)
		return;
	unsigned incomplete = ip4_reasm_incomplete(reasm);
	g_string_append_printf(out, "    IPv4 fragments %s %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
	                       " datagrams reassembled (%" G_GUINT64_FORMAT " timed out, %" G_GUINT64_FORMAT
	                       " evicted; %" G_GUINT64_FORMAT " held fragments lost with them)\n",
	                       way, fragments, s->datagrams, s->timed_out, s->evicted, s->fragments_lost);
	if (incomplete)
		g_string_append_printf(out, "      %u datagram%s still incomplete when the capture ended\n", incomplete,
		                       incomplete == 1 ? "" : "s");
	for (unsigned r = 0; r < IP4_REASM_N; r++)
		if (s->results[r])
			g_string_append_printf(out, "      fragment %-14s %8" G_GUINT64_FORMAT "  %s\n",
			                       ip4_reasm_result_name((enum ip4_reasm_result)r), s->results[r],
			                       ip4_reasm_result_text((enum ip4_reasm_result)r));
}

void l7lb_fragment_stats(const struct l7lb *lb, GString *out)
{
	reasm_stats(lb->reasm, "from clients", out);
	reasm_stats(lb->reasm_to_client, "to clients", out);
}
