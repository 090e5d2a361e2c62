/* common/answer.h: building the packet a stage sends back in answer to one it received: a TCP RST (RFC 9293 section 3.10.7.1), an ICMP error (RFC 792), built on the stack; or one a stage built with libnet.
 *
 * The answer goes back the way the answered packet came: its link header is the answered
 * packet's turned round (Ethernet source and destination swapped), and it is emitted onto the
 * stage's link that packet came from, travelling away from the stage.
 */
#ifndef NATLB_ANSWER_H
#define NATLB_ANSWER_H

#include <stdbool.h>

#include "common/stage-t.h"

struct libnet_context; /* libnet_t */

/* libnet (l) holds a built IPv4 packet: put it behind p's link header turned round and emit it
 * back towards p's sender (p crossed the stage in dir).  Clears l's packet in every case. */
bool answer_emit(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                 const char *note);

/* The same for a stage that speaks for one end of a connection whatever packet is in hand (a
 * proxy's or an endpoint's own segment to a client, sent while a client's packet or a server's is
 * handled): libnet (l) holds a packet to `to`; it goes behind p's link header, turned round when
 * p came from `to` and kept when p was going to it, onto side in dir, offset_ns after p, built in
 * the caller's frame of size bytes.  Clears l's packet in every case. */
bool answer_emit_to(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, uint32_t to,
                    enum side side, enum hop_dir dir, int64_t offset_ns, uint8_t *frame, uint32_t size,
                    const char *note);

/* A TCP RST from p's destination to its source, resetting p's connection: its sequence number
 * is p's acknowledgement, or, when p acknowledged nothing, it acknowledges p (RFC 9293
 * section 3.10.7.1).  Built on the stack, without allocating.  False when it could not be
 * built or emitted. */
bool answer_tcp_rst(struct stage_ctx *ctx, const struct packet *p, enum hop_dir dir, const char *note);

/* RFC 1812 4.3.2.3: an ICMP error holds as much of the packet as fits in 576 bytes, as Linux's
 * icmp_send does: this is the quote that fills it behind the error's IP and ICMP headers. */
#define ANSWER_ICMP_QUOTE_MAX (576u - 20u - 8u)

/* An ICMP error of type/code from `from` to p's source, quoting p's IP header and data up to quote
 * bytes (RFC 792: at least the header and 8 bytes; RFC 1812 4.3.2.3: as much as fits in 576
 * bytes).  Built on the stack, without allocating.  False when it could not be built or emitted. */
bool answer_icmp_error(struct stage_ctx *ctx, const struct packet *p, enum hop_dir dir, uint8_t type, uint8_t code,
                       uint32_t from, uint32_t quote, const char *note);

#endif
