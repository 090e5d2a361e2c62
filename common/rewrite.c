/* common/rewrite.c: in-place translation with incremental checksum updates (RFC 1624, RFC 5508 REQ-4).
 *
 * Invariant: after any call here, each checksum field that was captured differs from its correct
 * value by exactly what it differed before (zero if it was right).
 */
#include <netinet/in.h>

#include "common/checksum.h"
#include "common/cursor.h"
#include "common/rewrite.h"


bool pkt_get_be16(const struct packet *p, uint32_t off, uint16_t *v)
{
	struct cursor c;
	cur_init(&c, p->data, p->caplen);
	return cur_be16_at(&c, off, v);
}

bool pkt_put_be16(struct packet *p, uint32_t off, uint16_t v)
{
	if (off > p->caplen || p->caplen - off < 2)
		return false;
	p->data[off] = (uint8_t)(v >> 8);
	p->data[off + 1] = (uint8_t)v;
	return true;
}

/* A covered word changed from old to new: update the checksum at csum_off.  Returns the
 * checksum's own change through was and now so that a checksum covering it can follow. */
static bool csum_follow(struct packet *p, uint32_t csum_off, uint16_t old_word, uint16_t new_word,
                        bool udp_zero_means_none, uint16_t *was, uint16_t *now)
{
	uint16_t csum;

	if (!pkt_get_be16(p, csum_off, &csum))
		return false;
	if (udp_zero_means_none && csum == 0)
		return false; /* RFC 768: no checksum was sent, none is added */
	uint16_t updated = csum_update16(csum, old_word, new_word);
	if (udp_zero_means_none && updated == 0)
		updated = 0xffff;
	pkt_put_be16(p, csum_off, updated);
	*was = csum;
	*now = updated;
	return true;
}

/* Set one 16-bit word of ip (at off) and every checksum over it. */
static void word_set(struct packet *p, const struct ip4_view *ip, uint32_t off, uint16_t new_word,
                     bool in_ip_header, bool in_pseudo_header)
{
	uint16_t old_word, was, now;

	if (!pkt_get_be16(p, off, &old_word) || old_word == new_word)
		return;
	pkt_put_be16(p, off, new_word);
	/* The outer ICMP checksum of an error covers every byte of the quote, the quoted
	 * checksums included, so each change inside the quote is followed there too. */
	uint32_t cover = ip->csum_cover_off;
	if (cover)
		csum_follow(p, cover, old_word, new_word, false, &was, &now);
	if (in_ip_header && csum_follow(p, ip->off + 10, old_word, new_word, false, &was, &now) && cover)
		csum_follow(p, cover, was, now, false, &was, &now);
	bool l4_covers = ip->has_l4_csum &&
	                 (in_pseudo_header ? (ip->proto == IPPROTO_TCP || ip->proto == IPPROTO_UDP) : true);
	if (l4_covers && off != ip->l4_csum_off &&
	    csum_follow(p, ip->l4_csum_off, old_word, new_word, ip->proto == IPPROTO_UDP, &was, &now) && cover)
		csum_follow(p, cover, was, now, false, &was, &now);
}

void rewrite_ip4_addr(struct packet *p, struct ip4_view *ip, enum ip4_endpoint which, uint32_t addr)
{
	uint32_t off = ip->off + (which == ENDPOINT_SRC ? 12 : 16);

	word_set(p, ip, off, (uint16_t)(addr >> 16), true, true);
	word_set(p, ip, off + 2, (uint16_t)addr, true, true);
	if (which == ENDPOINT_SRC)
		ip->src = addr;
	else
		ip->dst = addr;
}

/* The TTL shares its header word with the protocol; no other checksum covers it (the pseudo-header
 * of TCP and UDP holds the protocol, not the TTL). */
void rewrite_ip4_ttl(struct packet *p, uint8_t ttl)
{
	uint32_t off = p->ip.off + 8;
	uint16_t old_word, was, now;

	if (!pkt_get_be16(p, off, &old_word))
		return;
	uint16_t new_word = (uint16_t)(ttl << 8 | (old_word & 0xff));
	pkt_put_be16(p, off, new_word);
	csum_follow(p, p->ip.off + 10, old_word, new_word, false, &was, &now);
	p->ip.ttl = ttl;
}

void rewrite_ip4_port(struct packet *p, struct ip4_view *ip, enum ip4_endpoint which, uint16_t port)
{
	if (!ip->has_ports)
		return;
	if (ip->proto == IPPROTO_ICMP) { /* the query identifier, covered by the ICMP checksum */
		word_set(p, ip, ip->l4_off + 4, port, false, false);
		ip->sport = ip->dport = port;
		return;
	}
	word_set(p, ip, ip->l4_off + (which == ENDPOINT_SRC ? 0 : 2), port, false, false);
	if (which == ENDPOINT_SRC)
		ip->sport = port;
	else
		ip->dport = port;
}
