/* common/packet-t.h: a captured frame and what one decoding pass learned about it (types only).
 *
 * decode_packet() fills these once at the entry (STYLE.md habit 3); nat/ and lb/ then trust
 * the offsets: every *_off below lies inside the captured bytes unless its has_* flag is
 * false.  Addresses, ports and identifiers are kept in host byte order.
 */
#ifndef NATLB_PACKET_T_H
#define NATLB_PACKET_T_H

#include <stdbool.h>
#include <stdint.h>

/* The largest frame natlb reads or builds: libpcap's MAXIMUM_SNAPLEN. */
#define PACKET_MAX_FRAME 262144u

/* Truncated is not invalid (STYLE.md habit 2): a short snaplen means we saw less of a good
 * packet, which can still be translated; an invalid packet's own fields contradict each
 * other, and it travels on untouched. */
enum decode_status {
	DECODE_OK,
	DECODE_TRUNCATED,
	DECODE_INVALID,
};

enum l3_kind {
	L3_NONE,  /* the link header itself could not be read */
	L3_IPV4,
	L3_IPV6,  /* recognised, passed through untranslated (NAT64 is a non-goal) */
	L3_OTHER, /* ARP, STP, ...: stays on the link where it was captured */
};

/* One IPv4 header and the transport header behind it: used for the packet itself and for
 * the packet quoted inside an ICMP error (RFC 792), which is translated too (RFC 5508 REQ-4). */
struct ip4_view {
	uint32_t off;          /* offset of the IPv4 header in the frame */
	uint32_t hdr_len;      /* IHL * 4 */
	uint16_t total_len;    /* IPv4 total length field */
	uint32_t src, dst;
	uint8_t proto;
	uint8_t ttl;
	uint16_t id;
	uint16_t frag_off;     /* fragment offset in 8-byte units */
	bool more_fragments;
	bool is_fragment;      /* MF set or offset > 0 */
	bool has_l4;           /* the transport header starts here (offset 0) and its first 8 bytes were captured */
	uint32_t l4_off;
	bool has_ports;        /* TCP/UDP ports, or the ICMP query identifier, were captured */
	uint16_t sport, dport; /* for ICMP queries both hold the identifier */
	bool has_l4_csum;      /* the transport checksum field was captured */
	uint32_t l4_csum_off;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	bool icmp_query;       /* echo, timestamp, ...: the identifier acts as a port (RFC 5508 REQ-1) */
	bool icmp_error;       /* destination unreachable, time exceeded, ...: quotes a packet */
	uint32_t csum_cover_off; /* for a quoted packet: offset of the outer ICMP checksum, which covers it; else 0 */
};

struct packet {
	uint8_t *data;          /* the frame, writable: stages translate it in place */
	uint32_t capacity;      /* bytes data can hold: a stage may grow the frame up to this */
	uint32_t caplen;        /* bytes captured */
	uint32_t wirelen;       /* bytes on the wire */
	int linktype;           /* DLT_* of the input */
	int64_t ts_ns;          /* capture time, nanoseconds since the epoch */

	enum decode_status status;
	const char *problem;    /* what is wrong or cut short, a static sentence; NULL when OK */
	enum l3_kind l3;
	uint16_t ethertype;
	bool llc;               /* an IEEE 802.3 frame: a length where Ethernet II has a type, then LLC (STP, IS-IS) */
	uint32_t l3_off;
	struct ip4_view ip;     /* valid when l3 == L3_IPV4 and the header was readable */
	bool has_inner;         /* ip.icmp_error and the quoted header was readable */
	struct ip4_view inner;  /* the packet an ICMP error quotes */
	uint32_t payload_off;   /* TCP/UDP payload */
	uint32_t payload_len;   /* captured payload bytes */
};

#endif
