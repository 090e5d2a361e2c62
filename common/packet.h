/* common/packet.h: decoding a captured frame (Ethernet, 802.1Q/QinQ, Linux SLL/SLL2, raw IPv4,
 * BSD loopback) down to IPv4 and its transport header; RFC 791, 793, 768, 792. */
#ifndef NATLB_PACKET_H
#define NATLB_PACKET_H

#include <glib.h>
#include "common/packet-t.h"

/* The link types decode_packet() understands; anything else is refused when a capture is opened. */
bool decode_linktype_supported(int linktype);

/* One bounds-checked pass over p->data[0..caplen): fills every field of *p after ts_ns.
 * Never reads past caplen, never writes to the frame. Returns p->status. */
enum decode_status decode_packet(struct packet *p);

/* Short description of the layers, for --trace and annotations ("IPv4 TCP 10.0.0.5:40001 > ..."). */
void packet_describe(const struct packet *p, GString *out);

/* "10.0.0.5" into a caller buffer of at least 16 bytes; returns buf. */
const char *ip4_to_str(uint32_t addr, char buf[16]);

#endif
