/* common/packet.c: one bounds-checked pass from the link header to the transport header.
 *
 * Follows RFC 791 (IPv4), RFC 793 (TCP), RFC 768 (UDP), RFC 792 (ICMP, quoted headers),
 * IEEE 802.1Q (VLAN tags, QinQ), and the tcpdump.org LINKTYPE pages for Linux SLL, SLL2 and
 * BSD loopback.  Every byte is read through struct cursor (common/cursor.h).
 *
 * Truncated vs invalid (STYLE.md habit 2): when a header needs bytes that were not captured,
 * the packet is TRUNCATED if the wire length shows they existed (snaplen), INVALID if not.
 * A length field that contradicts the frame is INVALID.
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "common/cursor.h"
#include "common/packet.h"

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_VLAN   0x8100
#define ETHERTYPE_QINQ   0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define LINKTYPE_RAW_FILE 101 /* LINKTYPE_RAW as stored in files; libpcap maps it to DLT_RAW */
#define BSD_AF_INET      2
#define MAX_VLAN_TAGS    4

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17

bool decode_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW_FILE:
	case DLT_IPV4:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

/* Mark the packet; the first problem found is the one reported. */
static enum decode_status decode_fail(struct packet *p, enum decode_status st, const char *why)
{
	if (p->status == DECODE_OK) {
		p->status = st;
		p->problem = why;
	}
	return p->status;
}

/* Bytes were missing: cut by snaplen (truncated) or never on the wire (invalid). */
static enum decode_status decode_short(struct packet *p, const char *truncated, const char *invalid)
{
	if (p->caplen < p->wirelen)
		return decode_fail(p, DECODE_TRUNCATED, truncated);
	return decode_fail(p, DECODE_INVALID, invalid);
}

static void l3_from_ethertype(struct packet *p, uint16_t ethertype, size_t off)
{
	p->ethertype = ethertype;
	p->l3_off = (uint32_t)off;
	if (ethertype == ETHERTYPE_IPV4)
		p->l3 = L3_IPV4;
	else if (ethertype == ETHERTYPE_IPV6)
		p->l3 = L3_IPV6;
	else
		p->l3 = L3_OTHER;
}

/* Link layer: find where the network header starts and which protocol it is. */
static bool decode_link(struct packet *p, struct cursor *c)
{
	uint16_t type, tci;
	uint32_t af;
	uint8_t version;

	switch (p->linktype) {
	case DLT_EN10MB:
		if (!cur_skip(c, 12) || !cur_be16(c, &type))
			return false;
		for (int tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
		                   type == ETHERTYPE_QINQ_OLD; tags++) {
			if (tags == MAX_VLAN_TAGS) {
				decode_fail(p, DECODE_INVALID, "more than 4 VLAN tags");
				return false;
			}
			if (!cur_be16(c, &tci) || !cur_be16(c, &type))
				return false;
		}
		/* Below 0x600 the field is an 802.3 length and an LLC header follows: not IP. */
		p->llc = type < 0x0600;
		l3_from_ethertype(p, p->llc ? 0 : type, c->pos);
		return true;
	case DLT_LINUX_SLL: /* packet type, ARPHRD, address length, 8 address bytes, protocol */
		if (!cur_skip(c, 14) || !cur_be16(c, &type))
			return false;
		l3_from_ethertype(p, type, c->pos);
		return true;
	case DLT_LINUX_SLL2: /* protocol first, then reserved, ifindex, ARPHRD, type, length, address */
		if (!cur_be16(c, &type) || !cur_skip(c, 18))
			return false;
		l3_from_ethertype(p, type, c->pos);
		return true;
	case DLT_NULL: /* address family in the capturing host's byte order */
	case DLT_LOOP: /* address family in network byte order */
		if (!cur_be32(c, &af))
			return false;
		if (p->linktype == DLT_NULL && af > 0xffff)
			af = GUINT32_SWAP_LE_BE(af);
		l3_from_ethertype(p, af == BSD_AF_INET ? ETHERTYPE_IPV4 :
		                     (af == 24 || af == 28 || af == 30) ? ETHERTYPE_IPV6 : 0, c->pos);
		return true;
	default: /* raw IP: the version nibble says which */
		if (!cur_u8(c, &version))
			return false;
		c->pos = 0;
		l3_from_ethertype(p, (version >> 4) == 4 ? ETHERTYPE_IPV4 :
		                     (version >> 4) == 6 ? ETHERTYPE_IPV6 : 0, 0);
		return true;
	}
}

/* The transport header behind an IPv4 header; c covers the IPv4 payload actually captured. */
static void decode_l4(struct ip4_view *ip, struct cursor *c, uint32_t base)
{
	uint16_t w = 0;

	ip->l4_off = base + (uint32_t)c->pos;
	ip->has_ports = cur_has(c, 4);
	ip->has_l4 = cur_has(c, 8);
	switch (ip->proto) {
	case IPPROTO_TCP_:
		if (ip->has_ports) {
			cur_be16_at(c, 0, &ip->sport);
			cur_be16_at(c, 2, &ip->dport);
		}
		ip->has_l4_csum = cur_has(c, 18);
		ip->l4_csum_off = ip->l4_off + 16;
		if (cur_has(c, 14)) {
			struct cursor t = *c;
			cur_skip(&t, 13);
			cur_u8(&t, &ip->tcp_flags);
		}
		break;
	case IPPROTO_UDP_:
		if (ip->has_ports) {
			cur_be16_at(c, 0, &ip->sport);
			cur_be16_at(c, 2, &ip->dport);
		}
		ip->has_l4_csum = cur_has(c, 8);
		ip->l4_csum_off = ip->l4_off + 6;
		break;
	case IPPROTO_ICMP_: {
		struct cursor t = *c;
		if (!cur_u8(&t, &ip->icmp_type) || !cur_u8(&t, &ip->icmp_code))
			break;
		ip->has_l4_csum = cur_has(c, 4);
		ip->l4_csum_off = ip->l4_off + 2;
		switch (ip->icmp_type) {
		case 0: case 8:   /* echo reply, request */
		case 13: case 14: /* timestamp */
		case 15: case 16: /* information */
		case 17: case 18: /* address mask */
			ip->icmp_query = true;
			ip->has_ports = cur_be16_at(c, 4, &w);
			ip->sport = ip->dport = w;
			break;
		case 3: case 4: case 5: case 11: case 12:
			ip->icmp_error = true;
			ip->has_ports = false;
			break;
		default:
			ip->has_ports = false;
			break;
		}
		break;
	}
	default:
		ip->has_ports = false;
		ip->has_l4 = false;
		break;
	}
}

/* The fixed IPv4 header fields; c starts at the header. */
static bool read_ip4_header(struct ip4_view *ip, struct cursor *c, uint8_t *version)
{
	uint8_t vihl, tos, ttl, proto;
	uint16_t frag, csum;

	if (!cur_u8(c, &vihl) || !cur_u8(c, &tos) || !cur_be16(c, &ip->total_len) ||
	    !cur_be16(c, &ip->id) || !cur_be16(c, &frag) || !cur_u8(c, &ttl) ||
	    !cur_u8(c, &proto) || !cur_be16(c, &csum) || !cur_be32(c, &ip->src) ||
	    !cur_be32(c, &ip->dst))
		return false;
	*version = vihl >> 4;
	ip->hdr_len = (uint32_t)(vihl & 0x0f) * 4;
	ip->ttl = ttl;
	ip->proto = proto;
	ip->frag_off = frag & 0x1fff;
	ip->more_fragments = (frag & 0x2000) != 0;
	ip->is_fragment = ip->more_fragments || ip->frag_off != 0;
	return true;
}

/* The packet an ICMP error quotes: its header is as much as the error carried (RFC 792: the
 * IP header and at least 8 bytes), so a short quote is normal, not a problem.  A quote may also
 * carry more than the quoted datagram held (a router that quotes 8 bytes of a 5-byte datagram
 * takes what followed it): those bytes are not the datagram's, so its transport header is read
 * within its own total length, as its checksum is summed. */
static void decode_quoted(struct packet *p, struct cursor *c, uint32_t base)
{
	struct ip4_view *in = &p->inner;
	struct cursor body;
	uint8_t version;

	if (!read_ip4_header(in, c, &version) || version != 4 || in->hdr_len < 20 ||
	    !cur_skip(c, in->hdr_len - 20))
		return;
	in->off = base;
	in->csum_cover_off = p->ip.l4_csum_off;
	body = *c;
	body.base += body.pos;
	body.len -= body.pos;
	body.pos = 0;
	if (in->total_len >= in->hdr_len && body.len > in->total_len - in->hdr_len)
		body.len = in->total_len - in->hdr_len;
	/* Only a first fragment (offset 0) starts with the transport header. */
	if (in->frag_off == 0)
		decode_l4(in, &body, base + in->hdr_len);
	p->has_inner = true;
}

static void decode_ipv4(struct packet *p, struct cursor *frame)
{
	struct ip4_view *ip = &p->ip;
	struct cursor c = *frame, l4;
	uint8_t version;
	uint32_t on_wire = p->wirelen > p->l3_off ? p->wirelen - p->l3_off : 0;
	uint32_t captured = (uint32_t)cur_remaining(frame);

	if (!read_ip4_header(ip, &c, &version)) {
		decode_short(p, "IPv4 header cut short by the snapshot length",
		             "frame too short for an IPv4 header (20 bytes)");
		return;
	}
	ip->off = p->l3_off;
	if (version != 4) {
		decode_fail(p, DECODE_INVALID, "IP version is not 4 in an IPv4 frame");
		return;
	}
	if (ip->hdr_len < 20) {
		decode_fail(p, DECODE_INVALID, "IPv4 header length (IHL) below 5");
		return;
	}
	if (ip->total_len < ip->hdr_len) {
		decode_fail(p, DECODE_INVALID, "IPv4 total length smaller than its header");
		return;
	}
	if (ip->total_len > on_wire) {
		decode_fail(p, DECODE_INVALID, "IPv4 total length larger than the frame");
		return;
	}
	/* hdr_len <= total_len <= bytes on the wire (checked above): options missing here were cut
	 * by the snapshot length, never absent from the packet. */
	if (!cur_skip(&c, ip->hdr_len - 20)) {
		decode_fail(p, DECODE_TRUNCATED, "IPv4 options cut short by the snapshot length");
		return;
	}
	/* The transport header: only in the first fragment. Ethernet padding past total_len is ignored. */
	if (ip->frag_off != 0)
		return;
	uint32_t l4_len = ip->total_len - ip->hdr_len;
	uint32_t l4_captured = captured - ip->hdr_len;
	if (l4_captured > l4_len)
		l4_captured = l4_len;
	cur_init(&l4, frame->base + frame->pos + ip->hdr_len, l4_captured);
	decode_l4(ip, &l4, p->l3_off + ip->hdr_len);

	uint32_t need = 0;
	uint16_t field = 0;
	switch (ip->proto) {
	case IPPROTO_TCP_: {
		need = 20;
		struct cursor t = l4;
		uint8_t data_off = 0;
		if (cur_skip(&t, 12) && cur_u8(&t, &data_off)) {
			uint32_t hl = (uint32_t)(data_off >> 4) * 4;
			if (hl < 20) {
				decode_fail(p, DECODE_INVALID, "TCP data offset below 5");
				return;
			}
			if (hl > l4_len && !ip->is_fragment) {
				decode_fail(p, DECODE_INVALID, "TCP header longer than the IPv4 payload");
				return;
			}
			need = hl;
		}
		break;
	}
	case IPPROTO_UDP_:
		need = 8;
		if (cur_be16_at(&l4, 4, &field) && !ip->is_fragment &&
		    (field < 8 || field > l4_len)) {
			decode_fail(p, DECODE_INVALID, "UDP length disagrees with the IPv4 payload");
			return;
		}
		break;
	case IPPROTO_ICMP_:
		need = 8;
		break;
	default:
		return;
	}
	if (l4_len < need && !ip->is_fragment) {
		decode_fail(p, DECODE_INVALID, "IPv4 payload too short for its transport header");
		return;
	}
	if (l4_captured < need) {
		decode_short(p, "transport header cut short by the snapshot length",
		             "transport header runs past the frame");
		return;
	}
	p->payload_off = ip->l4_off + need;
	p->payload_len = l4_captured - need;
	if (ip->icmp_error) {
		struct cursor q = l4;
		cur_skip(&q, 8);
		struct cursor quote = { q.base + q.pos, q.len - q.pos, 0 };
		decode_quoted(p, &quote, ip->l4_off + 8);
	}
}

enum decode_status decode_packet(struct packet *p)
{
	struct cursor c;

	p->status = DECODE_OK;
	p->problem = NULL;
	p->l3 = L3_NONE;
	p->ethertype = 0;
	p->llc = false;
	p->l3_off = 0;
	memset(&p->ip, 0, sizeof p->ip);
	p->has_inner = false;
	memset(&p->inner, 0, sizeof p->inner);
	p->payload_off = p->payload_len = 0;

	cur_init(&c, p->data, p->caplen);
	if (!decode_link(p, &c)) {
		p->l3 = L3_NONE;
		return decode_short(p, "link-layer header cut short by the snapshot length",
		                    "frame too short for its link-layer header");
	}
	if (p->l3 == L3_IPV4)
		decode_ipv4(p, &c);
	return p->status;
}

/* Without printf: annotations format addresses for every view of every packet. */
const char *ip4_to_str(uint32_t a, char buf[16])
{
	char *p = buf;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned v = (a >> shift) & 0xff;
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		if (shift)
			*p++ = '.';
	}
	*p = '\0';
	return buf;
}

void packet_describe(const struct packet *p, GString *out)
{
	char s[16], d[16];
	const struct ip4_view *ip = &p->ip;

	switch (p->l3) {
	case L3_NONE:
		g_string_append(out, "unreadable frame");
		return;
	case L3_IPV6:
		g_string_append(out, "IPv6");
		return;
	case L3_OTHER:
		if (p->llc)
			g_string_append(out, "802.3 LLC frame");
		else
			g_string_append_printf(out, "ethertype 0x%04x", p->ethertype);
		return;
	case L3_IPV4:
		break;
	}
	if (p->status == DECODE_INVALID && ip->hdr_len == 0) {
		g_string_append(out, "IPv4 (unreadable)");
		return;
	}
	ip4_to_str(ip->src, s);
	ip4_to_str(ip->dst, d);
	if (ip->has_ports && !ip->icmp_query)
		g_string_append_printf(out, "%s %s:%u > %s:%u",
		                       ip->proto == IPPROTO_TCP_ ? "TCP" : "UDP", s, ip->sport, d, ip->dport);
	else if (ip->proto == IPPROTO_ICMP_ && ip->l4_off)
		g_string_append_printf(out, "ICMP %s > %s type %u code %u", s, d, ip->icmp_type, ip->icmp_code);
	else
		g_string_append_printf(out, "IPv4 %s > %s proto %u", s, d, ip->proto);
	if (ip->is_fragment)
		g_string_append_printf(out, " (fragment id 0x%04x offset %u)", ip->id, ip->frag_off * 8u);
}
