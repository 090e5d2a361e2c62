/* lb/l7lb_frag.c: IPv4 fragments from clients, reassembled before the l7-lb reads the TCP segment they carry (RFC 791 section 3.2; common/ip4_reasm.h).
 *
 * A full proxy is the end of the client's IP path: like the host it stands for, it must put a
 * fragmented datagram together before TCP can read it (RFC 1122 section 3.3.2).  Each fragment
 * is a packet of the capture and is accounted for as one: those it holds are consumed, each
 * annotated with what is held so far; the one that completes its datagram gets the verdict and
 * the sentences of the whole segment; one that cannot be reassembled is dropped with the reason.
 */
#include <netinet/in.h>
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/stage.h"
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

enum verdict l7lb_fragment_from_client(struct stage *st, struct packet *p, struct stage_ctx *ctx,
                                       enum verdict (*whole_segment)(struct stage *, struct packet *,
                                                                     struct stage_ctx *))
{
	struct l7lb *lb = st->priv;
	struct ip4_reasm_out out;

	if (p->ip.proto != IPPROTO_TCP)
		return stage_drop(ctx, DROP_L7LB_NOT_TCP, "protocol %u, in an IPv4 fragment", p->ip.proto);
	if (!lb->reasm) {
		/* the first fragment the stage sees: a replay without any keeps its megabyte */
		const struct ip4_reasm_limits lim = { .max_datagrams = L7LB_FRAG_DATAGRAMS,
			                              .max_fragments = L7LB_FRAG_FRAGMENTS,
			                              .timeout_ns = lb->fragment_timeout_ns };
		lb->reasm = ip4_reasm_new(&lim);
		if (!lb->reasm_frame)
			lb->reasm_frame = g_malloc(L7LB_FRAG_FRAME_MAX);
		if (!lb->reasm)
			return stage_drop(ctx, DROP_L7LB_FRAGMENT, "fragment-timeout out of reassembly's range");
	}
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

void l7lb_fragment_stats(const struct l7lb *lb, GString *out)
{
	if (!lb->reasm)
		return;
	const struct ip4_reasm_stats *s = ip4_reasm_stats(lb->reasm);
	uint64_t fragments = 0;
	for (unsigned r = 0; r < IP4_REASM_N; r++)
		fragments += s->results[r];
	if (!fragments)
		return;
	g_string_append_printf(out, "    IPv4 fragments %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
	                       " datagrams reassembled (%" G_GUINT64_FORMAT " timed out, %" G_GUINT64_FORMAT
	                       " evicted; %" G_GUINT64_FORMAT " held fragments lost with them)\n",
	                       fragments, s->datagrams, s->timed_out, s->evicted, s->fragments_lost);
	for (unsigned r = 0; r < IP4_REASM_N; r++)
		if (s->results[r])
			g_string_append_printf(out, "      fragment %-14s %8" G_GUINT64_FORMAT "  %s\n",
			                       ip4_reasm_result_name((enum ip4_reasm_result)r), s->results[r],
			                       ip4_reasm_result_text((enum ip4_reasm_result)r));
}
