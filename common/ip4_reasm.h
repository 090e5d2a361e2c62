/* common/ip4_reasm.h: bounded IPv4 reassembly of fragmented datagrams (RFC 791 section 3.2; overlaps treated as RFC 5722 treats them for IPv6).
 *
 * A stage that must read a whole datagram (the l7-lb reads TCP segments) hands each fragment to
 * ip4_reasm_add(); the fragment that completes its datagram gets the datagram back, its header
 * the first fragment's with the fragment fields cleared and the total length set (header
 * checksum updated incrementally, RFC 1624, so a wrong one stays wrong).
 *
 * What is held is bounded: at most max_datagrams datagrams at once (all their buffers allocated by
 * ip4_reasm_new), at most max_fragments fragments each, for at most timeout_ns of capture time.
 * Which bytes arrived is kept per 8-byte unit (RFC 791 cuts fragments on 8-byte boundaries; RFC
 * 815's hole list would do the same job with a list instead of a bitmap).
 *
 * Overlaps: a fragment whose bytes are already held, with the same values, is a duplicate (a
 * retransmission) and harmless.  One that overlaps held bytes with other values is ambiguous:
 * the receiver could keep either copy, which is how IDS evasion works (RFC 5722 section 3), so the
 * whole datagram is discarded, and its later fragments with it until its timeout.  So are a
 * datagram longer than 65,535 bytes (the ping of death), one whose fragments disagree on where it
 * ends, and one of more than max_fragments fragments.  Every outcome is counted.
 */
#ifndef NATLB_IP4_REASM_H
#define NATLB_IP4_REASM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/packet-t.h"

#define IP4_REASM_MAX_PAYLOAD 65515u /* 65,535 bytes of datagram less a 20-byte header */

struct ip4_reasm_limits {
	unsigned max_datagrams;  /* in reassembly at once; a new one evicts the oldest (counted) */
	unsigned max_fragments;  /* per datagram (a 65,535-byte datagram over 1,500-byte links takes 45) */
	int64_t timeout_ns;      /* from its first fragment; Linux's ipfrag_time is 30 s */
};

enum ip4_reasm_result {
	IP4_REASM_HELD,          /* kept; its datagram is not complete yet */
	IP4_REASM_COMPLETE,      /* it completed its datagram: see ip4_reasm_out.datagram */
	IP4_REASM_DUPLICATE,     /* every byte of it was held already, with the same values */
	IP4_REASM_OVERLAP,       /* it overlaps held bytes with other values: the datagram is discarded */
	IP4_REASM_INCONSISTENT,  /* it disagrees on where the datagram ends: the datagram is discarded */
	IP4_REASM_TOO_LONG,      /* it ends past 65,535 bytes: the datagram is discarded */
	IP4_REASM_TOO_MANY,      /* one fragment more than max_fragments: the datagram is discarded */
	IP4_REASM_OF_DISCARDED,  /* its datagram was discarded earlier (until that one's timeout) */
	IP4_REASM_MISALIGNED,    /* not the last fragment, yet its length is not a multiple of 8: not kept */
	IP4_REASM_TRUNCATED,     /* the capture did not keep all of it: it cannot be reassembled */
	IP4_REASM_N
};

/* What ip4_reasm_add() says about the fragment's datagram. */
struct ip4_reasm_out {
	unsigned n_fragments;    /* kept so far, this one included */
	uint32_t bytes_held;     /* payload bytes held so far */
	uint32_t payload_len;    /* the datagram's payload length; 0 until its last fragment came */
	const uint8_t *datagram; /* IP4_REASM_COMPLETE: header and payload, valid until the next call */
	uint32_t datagram_len;
};

struct ip4_reasm_stats {
	uint64_t results[IP4_REASM_N]; /* fragments per result */
	uint64_t datagrams;            /* reassembled */
	uint64_t timed_out;            /* datagrams incomplete at their timeout */
	uint64_t evicted;              /* datagrams pushed out by a new one (max_datagrams) */
	uint64_t fragments_lost;       /* kept fragments of datagrams that timed out, were evicted or discarded */
};

struct ip4_reasm;

/* NULL when the limits are out of range (max_datagrams 1-1024, max_fragments 1-8192). */
struct ip4_reasm *ip4_reasm_new(const struct ip4_reasm_limits *lim);
void ip4_reasm_free(struct ip4_reasm *r);

/* p is a decoded IPv4 fragment (p->ip.is_fragment); now_ns its capture time. */
enum ip4_reasm_result ip4_reasm_add(struct ip4_reasm *r, const struct packet *p, int64_t now_ns,
                                    struct ip4_reasm_out *out);

/* Forget the datagrams whose timeout has passed by now_ns; returns how many were incomplete. */
unsigned ip4_reasm_expire(struct ip4_reasm *r, int64_t now_ns);

const struct ip4_reasm_stats *ip4_reasm_stats(const struct ip4_reasm *r);
/* Datagrams in reassembly now, not discarded: at the end of a capture, those that never completed. */
unsigned ip4_reasm_incomplete(const struct ip4_reasm *r);

/* "overlaps bytes already held with other values: the datagram is ambiguous (RFC 5722) and discarded" */
const char *ip4_reasm_result_text(enum ip4_reasm_result res);
/* "OVERLAP" */
const char *ip4_reasm_result_name(enum ip4_reasm_result res);

#endif
