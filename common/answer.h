/* common/answer.h: building the packet a stage sends back in answer to one it received: a TCP RST (RFC 9293 section 3.10.7.1), an ICMP error (RFC 792), built with libnet.
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

/* A libnet context that builds packets without privileges (LIBNET_NONE), for a caller that has none
 * of its own; NULL when libnet cannot start.  Free it with answer_libnet_close(). */
struct libnet_context *answer_libnet_open(void);
void answer_libnet_close(struct libnet_context *l);

/* libnet (l) holds a built IPv4 packet: put it behind p's link header turned round and emit it
 * back towards p's sender (p crossed the stage in dir).  Clears l's packet in every case. */
bool answer_emit(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                 const char *note);

/* A TCP RST from p's destination to its source, resetting p's connection: its sequence number
 * is p's acknowledgement, or, when p acknowledged nothing, it acknowledges p (RFC 9293
 * section 3.10.7.1).  False when it could not be built or emitted. */
bool answer_tcp_rst(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                    const char *note);

/* An ICMP time exceeded in transit (RFC 792: type 11, code 0) from `from` to p's source, for a
 * packet whose TTL ran out at the stage: it quotes as much of p as fits in 576 bytes, at least
 * its IP header and 8 bytes when they were captured (RFC 1812 section 4.3.2.3).  False when it
 * could not be built or emitted. */
bool answer_time_exceeded(struct stage_ctx *ctx, struct libnet_context *l, const struct packet *p, enum hop_dir dir,
                          uint32_t from, const char *note);

#endif
