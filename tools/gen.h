/* tools/gen.h: `natlb gen`, the lesson-capture generator, and the small packet-building layer over libnet it uses.
 *
 * Follows: the libnet 1.1 API (packets built inner header first, bytes taken with
 * libnet_pblock_coalesce) and the classic pcap file format as libpcap writes it, with nanosecond
 * timestamps (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
 *
 * This header must compile without <libnet.h>: the Makefile adds `libnet-config --defines` to
 * tools/gen*.c only, so other files (natlb.c, the tests) see libnet's context as an opaque struct.
 *
 * Invariants: a capture is written to PATH.partial and renamed to PATH only when complete, so a
 * file at PATH is always whole; the output depends only on the lesson and its options (fixed
 * timestamps from 2026-01-01T00:00:00Z, a seeded PRNG), never on the clock.
 */
#ifndef NATLB_GEN_H
#define NATLB_GEN_H

#include <glib.h>

/* Options of `natlb gen`; only bench uses them. */
struct gen_options {
	guint64 packets; /* packets to write */
	guint32 flows;   /* distinct 5-tuples, interleaved */
	guint64 seed;    /* seeds the payload sizes and the interleaving */
};

#define GEN_DEFAULT_PACKETS 2000000
#define GEN_DEFAULT_FLOWS 100000
#define GEN_DEFAULT_SEED 1

/* Fills in the defaults above. */
void gen_options_init(struct gen_options *opt);

/* One lesson capture; the table lives in gen_lessons.c (STYLE.md habit 7). */
struct gen_lesson {
	const char *name;
	const char *summary;
	gboolean (*build)(const char *path, const struct gen_options *opt, GError **err);
};

const struct gen_lesson *gen_lesson_find(const char *name);
const struct gen_lesson *gen_lessons(unsigned *n); /* for listing */
/* The capture a scenario of scenarios/ replays ("lb-maglev" replays "lb-spread"), so that gen takes
 * either name; NULL for a name that is no such scenario. */
const struct gen_lesson *gen_lesson_for_scenario(const char *scenario);

/* The verb `natlb gen LESSON -o FILE [--packets N] [--flows N] [--seed N]`.  argv[0] is the verb
 * ("gen"), as for a main().  Returns the exit status: 0 ok, 1 runtime failure, 2 usage. */
int gen_main(int argc, char **argv);

/* Errors of the generator that are not file errors (G_FILE_ERROR) or bad options. */
#define GEN_ERROR (gen_error_quark())
GQuark gen_error_quark(void);
enum gen_error {
	GEN_ERROR_LIBNET, /* libnet refused to build a header */
	GEN_ERROR_PCAP,   /* libpcap could not start the dump */
	GEN_ERROR_OPTION, /* an option a lesson cannot use (e.g. --flows 0) */
};

/* ---- The building layer, for the lesson builders in gen_lessons.c ---------------------------
 *
 * A gen_ctx is one capture being written: a libnet context (LIBNET_NONE: it only builds, so no
 * privileges), a pcap dumper on PATH.partial, and the capture clock.  Errors are sticky: the first
 * one is kept and later calls do nothing, so a lesson reads like a script and checks once, at
 * gen_ctx_finish().
 */
struct gen_ctx;
struct libnet_context; /* libnet_t, from <libnet.h> */

#define GEN_START_SEC G_GINT64_CONSTANT(1767225600) /* 2026-01-01T00:00:00Z */
#define GEN_NSEC_PER_MSEC G_GINT64_CONSTANT(1000000)
#define GEN_NSEC_PER_SEC G_GINT64_CONSTANT(1000000000)

struct gen_ctx *gen_ctx_open(const char *path, GError **err);
/* Flushes, closes and renames PATH.partial to PATH; on any error (sticky or now) removes the
 * partial file and returns FALSE with an error naming PATH.  Frees g either way. */
gboolean gen_ctx_finish(struct gen_ctx *g, GError **err);

struct libnet_context *gen_libnet(struct gen_ctx *g);
gboolean gen_ok(const struct gen_ctx *g);
/* Records a failed libnet call (ptag -1) as the sticky error; returns whether ptag is good. */
gboolean gen_check(struct gen_ctx *g, gint32 ptag, const char *what);
void gen_fail(struct gen_ctx *g, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The capture clock: packets are stamped with `now`, which advances by `step` after each one. */
void gen_clock_set(struct gen_ctx *g, gint64 ns_since_start);
void gen_clock_step(struct gen_ctx *g, gint64 ns);
gint64 gen_clock_now(const struct gen_ctx *g);

/* Writes the packet built in libnet so far, then clears libnet for the next one. */
void gen_emit(struct gen_ctx *g);
/* The same with a twist a lesson wants.  Zero fields mean "no twist". */
struct gen_emit_opts {
	guint32 snaplen;       /* record only this many bytes (caplen), len stays the full length */
	guint32 corrupt_at;    /* byte offset of a 16-bit checksum to spoil ... */
	guint16 corrupt_xor;   /* ... by XOR with this (big-endian) mask */
};
void gen_emit_with(struct gen_ctx *g, const struct gen_emit_opts *o);
/* Writes bytes that did not come from libnet (the bench patches templates). */
void gen_emit_bytes(struct gen_ctx *g, const guint8 *frame, guint32 len);
/* Coalesces the packet built so far into buf instead of writing it, then clears libnet. */
gboolean gen_take(struct gen_ctx *g, guint8 *buf, gsize size, gsize *len);

/* One end of a conversation as seen on the capture link.  mac is the address a frame to or from
 * this end carries on the link: the host's own for a LAN host, the router's for a remote one. */
struct gen_end {
	guint8 mac[6];
	guint32 ip;   /* IPv4, network byte order (what libnet wants) */
	guint16 port; /* host order; 0 for ICMP */
	guint8 ttl;   /* TTL of its packets when they reach the capture link */
};

/* Builds the IPv4 header (DF set, as modern stacks do) and the Ethernet header over whatever
 * inner header was built before (libnet builds inner first).  l4_len counts every byte after the
 * fixed 20-byte header: IP options if any were built, the L4 header and its data. */
void gen_ipv4(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, guint8 proto,
              guint32 l4_len, guint16 ip_id);
void gen_ethernet(struct gen_ctx *g, const guint8 *src_mac, const guint8 *dst_mac, guint16 ethertype);

/* UDP datagram; checksum computed by libnet.  data NULL with len > 0: an inner header of len
 * bytes was built before (libnet_build_dnsv4). */
void gen_udp(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, const void *data,
             guint32 len, guint16 ip_id);
/* One DNS lookup (RFC 1035 4.1): the query (id, flags RD, one question) from client to server,
 * emitted, then the answer (flags QR RD RA, the question echoed, one resource record), emitted.
 * question is the encoded name, type and class; rr the answer's resource record. */
void gen_dns_exchange(struct gen_ctx *g, const struct gen_end *client, const struct gen_end *server, guint16 id,
                      const guint8 *question, guint32 qlen, const guint8 *rr, guint32 rrlen,
                      guint16 query_ip_id, guint16 answer_ip_id);
/* ICMP echo request (type 8) or reply (type 0). */
void gen_icmp_echo(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, guint8 type,
                   guint16 id, guint16 seq, const void *data, guint32 len, guint16 ip_id);

/* A TCP connection whose sequence and acknowledgement numbers follow from what was sent
 * (RFC 9293 section 3.4): SYN and FIN count one, data counts its length, ACK acknowledges
 * everything the other side sent (the capture sees no loss). */
struct gen_tcp {
	struct gen_end client, server;
	guint32 client_next, server_next; /* next sequence number each side will send */
	guint16 client_ip_id, server_ip_id;
};
enum gen_tcp_dir { GEN_FROM_CLIENT, GEN_FROM_SERVER };
void gen_tcp_init(struct gen_tcp *t, const struct gen_end *client, const struct gen_end *server,
                  guint32 client_isn, guint32 server_isn);
/* Builds one segment (SYNs carry MSS, window scale and SACK-permitted options) without writing
 * it, so the caller can emit it with a twist; gen_tcp_send builds and emits. */
void gen_tcp_build(struct gen_ctx *g, struct gen_tcp *t, enum gen_tcp_dir dir, guint8 flags,
                   const void *data, guint32 len);
void gen_tcp_send(struct gen_ctx *g, struct gen_tcp *t, enum gen_tcp_dir dir, guint8 flags,
                  const void *data, guint32 len);

/* Parses a dotted quad written in a lesson (a constant: a typo is a programming error). */
guint32 gen_ip4(const char *dotted);
/* An endpoint whose frames carry mac (its own, or the router's it sits behind) and whose
 * packets reach the capture link with that TTL. */
struct gen_end gen_end_at(const char *ip, guint16 port, const guint8 mac[6], guint8 ttl);
/* A host on the capture's own link: MAC mac_prefix with its address's last byte, TTL 64. */
struct gen_end gen_end_local(const char *ip, guint16 port, const guint8 mac_prefix[6]);

#endif
