/* common/tcp_segment.h: editing a TCP segment in place: sequence numbers, acknowledgements and SACK edges, inserting and stripping payload (RFC 9293 section 3.1, RFC 2018, RFC 1624).
 *
 * For the stages that change a TCP stream: an L4 balancer inserting a proxy protocol header, an
 * L7 proxy that splices two connections.  Every change is followed in the checksums
 * incrementally, word by word, so a checksum that was wrong in the capture stays exactly as
 * wrong.  p is a decoded TCP segment (p->ip.proto == IPPROTO_TCP, p->ip.has_l4).
 */
#ifndef NATLB_TCP_SEGMENT_H
#define NATLB_TCP_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/packet-t.h"

uint32_t tcp_segment_seq(const struct packet *p);
uint32_t tcp_segment_ack(const struct packet *p);
/* The window field as sent (before any window scaling); 0 when the header was not captured. */
uint16_t tcp_segment_window(const struct packet *p);
/* The segment's data length on the wire (captured or not); 0 when the header was not captured. */
uint32_t tcp_segment_payload_len(const struct packet *p);
void tcp_segment_set_seq(struct packet *p, uint32_t seq);
/* Replace the flags byte (CWR .. FIN); p->ip.tcp_flags follows. */
void tcp_segment_set_flags(struct packet *p, uint8_t flags);

/* Map the acknowledgement number (when ACK is set) and every SACK edge through map. */
void tcp_segment_map_acks(struct packet *p, uint32_t (*map)(uint32_t v, uint32_t base), uint32_t base);

/* Insert n bytes (an even number, so the words after keep their alignment) before the first
 * payload byte; false when the frame's capacity or IPv4's 65535 bytes leave no room. */
bool tcp_segment_insert(struct packet *p, const uint8_t *bytes, uint32_t n);
/* Take away the first n payload bytes (an even number); false when fewer were captured. */
bool tcp_segment_strip(struct packet *p, uint32_t n);

/* Sequence space comparison (RFC 9293 section 3.4): is a after b? */
static inline bool tcp_seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

#endif
