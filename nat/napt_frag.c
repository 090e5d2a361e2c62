/* nat/napt_frag.c: IPv4 fragments through the napt stage (RFC 4787 REQ-14, RFC 791 section 3.2).
 *
 * Only the first fragment carries the ports, so only it can find a mapping.  The translation it
 * got is remembered under (direction, protocol, IP identification, source, destination) and the
 * later fragments of the same datagram follow it: their addresses change, and nothing else (their
 * transport checksum is in the first fragment, already updated).  A later fragment that arrives
 * before its first one is held, up to `fragment-timeout` seconds, and sent on when the first one
 * crosses; RFC 4787 REQ-14 asks a NAT to accept out-of-order fragments.
 *
 * Invariants: NAPT_FRAG_DATAGRAMS remembered datagrams and NAPT_FRAG_HELD held fragments at most,
 * all allocated when the scenario is loaded; a held fragment is released, or counted discarded.
 */
#include <string.h>

#include "common/packet.h"
#include "common/rewrite.h"
#include "common/stage.h"
#include "nat/napt.h"

static bool same_datagram(uint8_t proto, uint8_t dir, uint16_t id, uint32_t src, uint32_t dst, uint8_t proto2,
                          uint8_t dir2, uint16_t id2, uint32_t src2, uint32_t dst2)
{
	return proto == proto2 && dir == dir2 && id == id2 && src == src2 && dst == dst2;
}

static struct napt_frag_entry *entry_find(struct napt *nat, const struct ip4_view *ip, enum hop_dir dir)
{
	for (unsigned i = 0; i < NAPT_FRAG_DATAGRAMS; i++) {
		struct napt_frag_entry *e = &nat->frags[i];
		if (e->used && same_datagram(e->proto, e->dir, e->ipid, e->src, e->dst, ip->proto, (uint8_t)dir, ip->id,
		                             ip->src, ip->dst))
			return e;
	}
	return NULL;
}

/* Where the first fragment went, so that the later ones can follow. */
static void translate(struct packet *p, const struct napt_frag_entry *e)
{
	if (e->dir == DIR_LEFT_TO_RIGHT)
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, e->new_src);
	else
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, e->new_dst);
}

/* The sentence after "napt <name>: ", which the loop writes for ctx->note and the caller for an
 * emitted fragment's note. */
static void note_follow(GString *note, const struct packet *p, const struct napt_frag_entry *e, uint32_t before,
                        const char *how)
{
	char a[16], b[16];
	bool out = e->dir == DIR_LEFT_TO_RIGHT;
	g_string_append_printf(note, "%s %s -> %s (fragment at offset %u of id 0x%04x, %s mapping #%u of its "
	                       "first fragment)", out ? "SNAT" : "DNAT", ip4_to_str(before, a),
	                       ip4_to_str(out ? e->new_src : e->new_dst, b), p->ip.frag_off * 8u, p->ip.id, how, e->mapping_id);
}

/* Called before every packet: O(1) until the earliest remembered or held fragment may expire. */
void napt_frag_expire(struct napt *nat, int64_t now_ns)
{
	int64_t next = INT64_MAX;

	if (now_ns < nat->frag_check_ns)
		return;
	for (unsigned i = 0; i < NAPT_FRAG_DATAGRAMS; i++) {
		if (nat->frags[i].used && nat->frags[i].expires_ns <= now_ns)
			nat->frags[i].used = false;
		else if (nat->frags[i].used && nat->frags[i].expires_ns < next)
			next = nat->frags[i].expires_ns;
	}
	for (unsigned i = 0; i < NAPT_FRAG_HELD; i++) {
		if (nat->held[i].used && nat->held[i].expires_ns <= now_ns) {
			nat->held[i].used = false;
			nat->stats.frags_discarded++;
		} else if (nat->held[i].used && nat->held[i].expires_ns < next) {
			next = nat->held[i].expires_ns;
		}
	}
	nat->frag_check_ns = next;
}

/* A fragment is remembered or held until expires_ns. */
static void frag_check_before(struct napt *nat, int64_t expires_ns)
{
	if (expires_ns < nat->frag_check_ns)
		nat->frag_check_ns = expires_ns;
}

void napt_frag_first(struct napt *nat, struct stage_ctx *ctx, const struct packet *p,
                     enum hop_dir dir, uint32_t src, uint32_t dst, uint32_t mapping_id)
{
	const struct ip4_view *ip = &p->ip;
	struct napt_frag_entry *e = NULL;

	for (unsigned i = 0; i < NAPT_FRAG_DATAGRAMS && !e; i++)
		if (nat->frags[i].used && same_datagram(nat->frags[i].proto, nat->frags[i].dir, nat->frags[i].ipid,
		                                        nat->frags[i].src, nat->frags[i].dst, ip->proto, (uint8_t)dir, ip->id,
		                                        src, dst))
			e = &nat->frags[i];
	/* Else a free entry, else the one that expires first (the oldest datagram). */
	for (unsigned i = 0; i < NAPT_FRAG_DATAGRAMS && !e; i++)
		if (!nat->frags[i].used)
			e = &nat->frags[i];
	if (!e) {
		e = &nat->frags[0];
		for (unsigned i = 1; i < NAPT_FRAG_DATAGRAMS; i++)
			if (nat->frags[i].expires_ns < e->expires_ns)
				e = &nat->frags[i];
	}
	*e = (struct napt_frag_entry){ .used = true, .proto = ip->proto, .dir = (uint8_t)dir, .ipid = ip->id,
		                       .src = src, .dst = dst, .new_src = ip->src, .new_dst = ip->dst,
		                       .mapping_id = mapping_id,
		                       .expires_ns = ctx->now_ns + (int64_t)nat->cfg.fragment_timeout_s * 1000000000 };
	frag_check_before(nat, e->expires_ns);

	/* The later fragments that came first go now, after their first fragment, one hop apart. */
	int64_t offset_ns = 0;
	for (unsigned i = 0; i < NAPT_FRAG_HELD; i++) {
		struct napt_frag_held *h = &nat->held[i];
		if (!h->used || !same_datagram(h->proto, h->dir, h->ipid, h->src, h->dst, e->proto, e->dir, e->ipid, e->src,
		                               e->dst))
			continue;
		struct packet q = { .data = h->bytes, .capacity = h->len, .caplen = h->len, .wirelen = h->len, .linktype = h->linktype,
			            .ts_ns = ctx->now_ns };
		decode_packet(&q);
		GString *note = g_string_sized_new(160);
		uint32_t before = dir == DIR_LEFT_TO_RIGHT ? q.ip.src : q.ip.dst;
		translate(&q, e);
		g_string_printf(note, "napt %s: ", nat->name); /* an emitted packet's note names its stage itself */
		note_follow(note, &q, e, before, "held until it came; now follows");
		/* A held fragment may have come from another input, of another link type. */
		int linktype = ctx->linktype;
		ctx->linktype = h->linktype;
		offset_ns += PIPELINE_HOP_NS;
		stage_emit(ctx, dir == DIR_LEFT_TO_RIGHT ? SIDE_RIGHT : SIDE_LEFT, dir, offset_ns, h->bytes, h->len, note->str);
		ctx->linktype = linktype;
		g_string_free(note, TRUE);
		h->used = false;
		nat->stats.frags_released++;
	}
}

enum verdict napt_frag_later(struct napt *nat, struct stage *st, struct packet *p, enum hop_dir dir,
                             struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;
	struct napt_frag_entry *e = entry_find(nat, ip, dir);
	char a[16], b[16];

	(void)st;
	if (e) {
		uint32_t before = dir == DIR_LEFT_TO_RIGHT ? ip->src : ip->dst;
		translate(p, e);
		note_follow(ctx->note, p, e, before, "follows");
		nat->stats.frags_followed++;
		return VERDICT_FORWARD;
	}
	if (dir == DIR_RIGHT_TO_LEFT && !napt_is_external(nat, ip->dst)) {
		return stage_drop(ctx, DROP_NAPT_NOT_EXTERNAL, "inbound fragment %s -> %s", ip4_to_str(ip->src, a),
		                  ip4_to_str(ip->dst, b));
	}
	struct napt_frag_held *h = NULL;
	for (unsigned i = 0; i < NAPT_FRAG_HELD && !h; i++)
		if (!nat->held[i].used)
			h = &nat->held[i];
	if (!h || p->caplen > NAPT_FRAG_HELD_BYTES) {
		return stage_drop(ctx, DROP_NAPT_FRAGMENT_NO_FIRST, "offset %u of id 0x%04x %s -> %s (%s)",
		                  ip->frag_off * 8u, ip->id, ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b),
		                  h ? "it is too large to hold" : "no room is left to hold it");
	}
	*h = (struct napt_frag_held){ .used = true, .proto = ip->proto, .dir = (uint8_t)dir, .ipid = ip->id,
		                      .src = ip->src, .dst = ip->dst, .linktype = p->linktype, .len = p->caplen,
		                      .expires_ns = ctx->now_ns + (int64_t)nat->cfg.fragment_timeout_s * 1000000000 };
	frag_check_before(nat, h->expires_ns);
	memcpy(h->bytes, p->data, p->caplen);
	nat->stats.frags_held++;
	g_string_append_printf(ctx->note, "HOLD fragment at offset %u of id 0x%04x %s -> %s: its first fragment, "
	                       "which carries the ports, has not come yet (waits up to %u s, RFC 4787 REQ-14)",
	                       ip->frag_off * 8u, ip->id, ip4_to_str(ip->src, a), ip4_to_str(ip->dst, b),
	                       nat->cfg.fragment_timeout_s);
	return VERDICT_CONSUMED;
}

bool napt_frag_reverse(struct napt *nat, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;

	for (unsigned i = 0; i < NAPT_FRAG_DATAGRAMS; i++) {
		const struct napt_frag_entry *e = &nat->frags[i];
		if (!e->used || e->dir != dir || e->proto != ip->proto || e->ipid != ip->id || e->new_src != ip->src ||
		    e->new_dst != ip->dst)
			continue;
		if (dir == DIR_LEFT_TO_RIGHT)
			rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, e->src);
		else
			rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, e->dst);
		return true;
	}
	/* Before its first fragment: inbound, the external address is certain when there is only one;
	 * the inside sender of an outbound one cannot be known. */
	if (dir == DIR_RIGHT_TO_LEFT && nat->cfg.n_external == 1) {
		rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, nat->cfg.external[0]);
		return true;
	}
	g_string_append(ctx->note, "a later fragment seen before its first fragment: no mapping tells where it came from");
	return false;
}


