/* nat/napt-t.h: the types of the napt stage: settings, mappings, sessions, their indexes and timers (RFC 4787, 5382, 5508, 7857).
 *
 * Vocabulary of RFC 4787 section 3: a *mapping* binds an inside endpoint (protocol, address,
 * port) to an external endpoint; under address-dependent or address-and-port-dependent mapping
 * (section 4.1) it is also bound to the remote address (and port) it was made for.  A *session*
 * is one conversation through a mapping with one remote endpoint: it carries the TCP state, the
 * timer and the counters, and it is what `natlb tables` prints as a row, like a conntrack entry.
 *
 * Invariants:
 * - every session belongs to exactly one live mapping; a mapping lives while it has sessions;
 * - (protocol, inside address, inside port, remote address, remote port) names at most one session,
 *   and so does (protocol, external address, external port, remote address, remote port): the
 *   reply tuple is unique, which is all port overlapping (RFC 7857 section 3) relies on;
 * - without port overlapping, (protocol, external address, external port) names at most one mapping,
 *   and its bit in the port set of (protocol, external address) is set exactly while that mapping
 *   owns the port; with overlapping, each destination counter counts, by parity, the sessions to it
 *   whose external port is in `ports`;
 * - every live session sits on exactly one timer list, the one of its timeout class, and each list
 *   is sorted by expiry because a list has one duration and the stage clock never goes back;
 * - nothing is allocated per packet: mappings, sessions, index slots, destination counters and
 *   held fragments come from pools sized when the scenario is loaded (`max-mappings`).
 */
#ifndef NATLB_NAPT_T_H
#define NATLB_NAPT_T_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hash_index.h"
#include "common/stage-t.h"

#define NAPT_NONE UINT32_MAX         /* "no entry" in index links */
#define NAPT_MAX_EXTERNAL 256        /* external addresses: a /24 at most */
#define NAPT_AWS_MAX_EXTERNAL 8      /* AWS: a NAT gateway has up to 8 addresses */
#define NAPT_MAX_STRATEGIES 4        /* port-allocation = preserve, sequential: tried in order */
#define NAPT_FRAG_DATAGRAMS 64       /* datagrams whose first fragment was seen, remembered at once */
#define NAPT_FRAG_HELD 16            /* later fragments waiting for their first one */
#define NAPT_FRAG_HELD_BYTES 9216    /* a held fragment's largest frame (jumbo MTU) */

/* RFC 4787 section 4.1 (mapping) and section 5 (filtering) use the same three words. */
enum napt_dep {
	NAPT_EI,  /* endpoint-independent */
	NAPT_AD,  /* address-dependent */
	NAPT_APD, /* address-and-port-dependent */
};

/* RFC 4787 section 4.1, "IP address pooling". */
enum napt_pooling {
	NAPT_POOL_PAIRED,    /* an inside address always leaves from the same external address (REQ-2) */
	NAPT_POOL_ARBITRARY, /* any external address with a free port */
};

/* What happens to fragments (RFC 4787 REQ-14; AWS NAT gateway). */
enum napt_fragments {
	NAPT_FRAG_TRANSLATE, /* every protocol: later fragments follow their first fragment's mapping */
	NAPT_FRAG_UDP_ONLY,  /* UDP fragments pass, TCP and ICMP fragments are dropped (AWS) */
	NAPT_FRAG_DROP,      /* every fragment is dropped */
};

/* How sessions are tracked and shown (nat/napt_session.c). */
enum napt_tracking {
	NAPT_TRACK_NATLB,     /* a reply makes a UDP session a stream, shown [ASSURED]; TCP rows show no flag */
	NAPT_TRACK_CONNTRACK, /* nf_conntrack's rules: the UDP stream after 2 s, flags as conntrack -L prints them,
	                       * and a packet to the NAT itself leaves an entry of its own (answer-unsolicited) */
};

/* Timeout classes: one timer list and one scenario key each.  X(NAME, key, what). */
#define foreach_napt_timeout                                                                        \
	X(UDP, "timeout-udp", "UDP once a stream (natlb: a reply was seen; conntrack: a packet after the reply, over 2 s in; RFC 4787 REQ-5: at least 120 s, 300 s advised)") \
	X(UDP_UNREPLIED, "timeout-udp-unreplied", "UDP before it is a stream (before any reply)")   \
	X(TCP_SYN, "timeout-tcp-syn", "TCP while the handshake is incomplete (RFC 5382: transitory)") \
	X(TCP_ESTABLISHED, "timeout-tcp-established", "TCP established (RFC 5382 REQ-5: at least 7440 s)") \
	X(TCP_CLOSING, "timeout-tcp-closing", "TCP after a FIN one way")                            \
	X(TCP_TIME_WAIT, "timeout-tcp-time-wait", "TCP after FINs both ways")                      \
	X(TCP_RST, "timeout-tcp-rst", "TCP after a RST (RFC 7857 section 2.2: keep 4 minutes)")    \
	X(ICMP, "timeout-icmp", "ICMP query identifiers (RFC 5508 REQ-2: at least 60 s)")          \
	X(OTHER, "timeout-other", "other protocols, translated by address only")

enum napt_timeout {
#define X(name, key, what) NAPT_TO_##name,
	foreach_napt_timeout
#undef X
	NAPT_TO_KEYED,              /* the classes above have keys; the ones below do not */
	NAPT_TO_IDLE = NAPT_TO_KEYED, /* AWS: a TCP connection that idled out, remembered to answer with RST */
	NAPT_TO_N
};

/* TCP state as conntrack names it (the subset a NAT needs: RFC 5382 section 5, RFC 7857 2.2). */
enum napt_state {
	NAPT_ST_NONE,        /* not TCP */
	NAPT_ST_SYN_SENT,    /* SYN from inside */
	NAPT_ST_SYN_RECV,    /* SYN from outside (let in by EIF or ADF) */
	NAPT_ST_ESTABLISHED,
	NAPT_ST_FIN_WAIT,    /* a FIN one way */
	NAPT_ST_TIME_WAIT,   /* FINs both ways */
	NAPT_ST_CLOSE,       /* a RST */
	NAPT_ST_IDLE,        /* AWS: timed out after 350 s idle */
};

struct napt_port_ops;

/* Every setting, as `natlb check` prints it. */
struct napt_config {
	const char *profile;        /* a static name: "port-restricted-cone" */
	uint32_t external[NAPT_MAX_EXTERNAL];
	unsigned n_external;
	uint16_t port_min, port_max;
	bool ports_set;             /* `ports` given (the linux strategy otherwise uses nf_nat's port classes) */
	enum napt_dep mapping, filtering;
	const struct napt_port_ops *alloc[NAPT_MAX_STRATEGIES];
	unsigned n_alloc;
	bool port_parity;           /* RFC 4787 REQ-4 */
	enum napt_pooling pooling;
	bool port_overlapping;      /* RFC 7857 section 3 */
	bool hairpin;               /* RFC 4787 REQ-9 */
	bool refresh_inbound;       /* RFC 4787 REQ-6: outbound always refreshes */
	uint32_t timeout_s[NAPT_TO_KEYED];
	uint32_t max_mappings;
	uint32_t max_per_destination; /* 0: no limit; AWS 55,000 */
	bool exhaustion_icmp;       /* RFC 5508 REQ-8: answer 3/13 when no port is free */
	bool idle_rst;              /* AWS: RST a connection that idled out */
	enum napt_fragments fragments;
	uint32_t fragment_timeout_s;
	bool other_protocols;       /* translate protocols other than TCP/UDP/ICMP by address */
	bool aws_metrics;           /* --stats with CloudWatch names */
	uint32_t inside_address;    /* source of the ICMP errors the NAT sends inside */
	enum napt_tracking tracking;
	bool answer_unsolicited;    /* a packet to the NAT that no session expects is for the NAT itself: TCP RST, ICMP 3/3 */
	bool ports_icmp;            /* `ports` also bounds ICMP query identifiers (no: as iptables --to-ports, TCP and UDP only) */
};

/* An inside endpoint bound to an external one (RFC 4787 section 3). */
struct napt_mapping {
	uint32_t iaddr, eaddr;
	uint32_t raddr;             /* the remote it was made for: ADM and APDM only (else 0) */
	uint16_t iport, eport;
	uint16_t rport;             /* APDM only */
	uint8_t proto;
	uint8_t flags;              /* NAPT_MAP_* */
	uint32_t id;                /* "mapping #3"; 0 when the slot is free */
	uint32_t sessions;          /* first session, linked by napt_session.next_in_mapping; free list link when free */
	uint32_t n_sessions;
};

#define NAPT_MAP_PRESERVED 0x01     /* the external port is the inside port */
#define NAPT_MAP_INDEXED 0x02       /* findable by its inside key (not a port-overlap overflow) */
#define NAPT_MAP_OWNS_PORT 0x04     /* registered as the external port's owner (no overlapping) */

/* One conversation with one remote endpoint through a mapping: a conntrack row.  The endpoints are
 * copied from the mapping so that the data path reads one cache line. */
struct napt_session {
	uint32_t iaddr, eaddr, raddr;
	uint16_t iport, eport, rport;
	uint8_t proto;
	uint8_t state;              /* enum napt_state */
	uint8_t tclass;             /* enum napt_timeout: the timer list it is on */
	uint8_t flags;              /* NAPT_SESS_* */
	uint32_t mapping;
	uint32_t next_in_mapping;   /* free list link when free */
	uint32_t id;                /* 0 when the slot is free */
	uint32_t map_id;            /* its mapping's id, for annotations without touching the mapping */
	uint32_t dest;              /* per-destination counter, or NAPT_NONE */
	union {                     /* kept for nf_nat's and nf_conntrack's rules (nat/napt_ports.c, napt_session.c) */
		uint32_t seq_end;       /* TCP: the end of the inside host's highest segment (conntrack's seen[0].td_end) */
		uint32_t stream_at_ms;  /* UDP: capture time in ms (mod 2^32) after which it may become a stream */
	};
	int64_t expires_ns;
	uint32_t packets[2];        /* per enum hop_dir */
	uint64_t bytes[2];
};

#define NAPT_SESS_REPLIED 0x01      /* a packet came back (UDP leaves UNREPLIED) */
#define NAPT_SESS_FIN_OUT 0x02
#define NAPT_SESS_FIN_IN 0x04
#define NAPT_SESS_INBOUND 0x08      /* opened from outside (EIF/ADF let it in) */
#define NAPT_SESS_SYN_IN 0x10       /* the other side's SYN was seen */
#define NAPT_SESS_ASSURED 0x20      /* tracking = conntrack: IPS_ASSURED, as conntrack -L shows it */
#define NAPT_SESS_LOCAL 0x40        /* tracking = conntrack: an entry for the NAT's own traffic (no NAT): a packet
                                     * from outside to the NAT itself; eaddr:eport is its destination */
#define NAPT_SESS_STREAM 0x80       /* UDP: timed by timeout-udp */

/* Connections from one external address to one destination (AWS: at most 55,000). */
struct napt_dest {
	uint32_t eaddr, raddr;
	uint16_t rport;
	uint8_t proto;
	uint32_t count;             /* 0 when the slot is free */
	uint32_t next_free;
	uint32_t in_range[2];       /* of them, external ports of `ports`, even and odd (port overlapping) */
};

struct napt_timer_list {
	uint32_t head, tail;
};

/* A session's place on its timer list.  The links live apart from the sessions, in an array of 8
 * bytes per session: refreshing a session relinks its two neighbours, and in this dense array
 * they are far likelier to be in the cache than in the pool of 80-byte sessions. */
struct napt_timer_link {
	uint32_t prev, next;
};

/* A datagram whose first fragment crossed: later fragments follow (RFC 4787 REQ-14). */
struct napt_frag_entry {
	bool used;
	uint8_t proto;
	uint8_t dir;                /* enum hop_dir it crossed in */
	uint16_t ipid;
	uint32_t src, dst;          /* as it arrived */
	uint32_t new_src, new_dst;  /* as it left */
	uint32_t mapping_id;
	int64_t expires_ns;
};

/* A later fragment that arrived before its first one. */
struct napt_frag_held {
	bool used;
	uint8_t proto;
	uint8_t dir;
	uint16_t ipid;
	uint32_t src, dst;
	int linktype;
	uint32_t len;
	int64_t expires_ns;
	uint8_t bytes[NAPT_FRAG_HELD_BYTES];
};

/* Without port overlapping, the external ports of one (protocol, external address) that mappings
 * own, mirrored from map_ext so that an allocator finds a free port by words of 64 and knows there
 * is none from a count, instead of a hash lookup per port (nat/napt_ports.c).  TCP, UDP and ICMP
 * identifiers have one each; other protocols use port 0 only and ask map_ext. */
#define NAPT_PORT_WORDS (65536 / 64)
#define NAPT_PORT_PROTOS 3           /* TCP, UDP, ICMP */

struct napt_port_set {
	uint64_t owned[NAPT_PORT_WORDS];  /* bit (port % 64) of word (port / 64): a mapping owns it */
	uint32_t owned_in_range[2];       /* of `ports` (port_min-port_max), even and odd ones */
};

/* Counters for --stats, besides the loop's own; AWS CloudWatch names where marked. */
struct napt_stats {
	uint64_t mappings_created, sessions_created, sessions_expired;
	uint64_t ports_preserved, ports_changed;
	uint64_t peak_mappings;
	uint64_t port_allocation_errors;  /* ErrorPortAllocation */
	uint64_t idle_timeouts;           /* IdleTimeoutCount */
	uint64_t connection_attempts;     /* ConnectionAttemptCount */
	uint64_t connections_established; /* ConnectionEstablishedCount */
	uint64_t bytes_in[2], packets_in[2];   /* per hop_dir: from source (L2R), from destination (R2L) */
	uint64_t bytes_out[2], packets_out[2]; /* to destination (L2R), to source (R2L) */
	uint64_t hairpinned, icmp_errors_translated;
	uint64_t frags_followed, frags_held, frags_released, frags_discarded;
	uint64_t resets_sent, unreachables_sent;  /* unreachables: ICMP 3/13 (RFC 5508 REQ-8) */
	uint64_t answered_unsolicited, port_unreachables_sent; /* answer-unsolicited: packets, and the ICMP 3/3 of them */
	uint64_t port_probes;             /* ports and 64-port words the allocators looked at (not printed) */
};

/* The stage's state (stage.priv). */
struct napt {
	struct napt_config cfg;
	const char *name;            /* the stage's name, for the notes of the packets it emits */
	uint32_t ext_min, ext_max;   /* the external addresses' span, and the addresses sorted: */
	uint32_t ext_sorted[NAPT_MAX_EXTERNAL]; /* napt_is_external() runs for every packet */
	struct napt_mapping *maps;
	struct napt_session *sess;
	struct napt_timer_link *tlinks; /* per session, beside the pool */
	struct napt_dest *dests;
	uint32_t cap;                /* max-mappings: size of each pool */
	uint32_t free_map, free_sess, free_dest; /* free list heads: NAPT_NONE when the pool is full */
	uint32_t fresh_map, fresh_sess, fresh_dest; /* the first never-used entry (napt_table.c, pool_take) */
	uint32_t n_maps, n_sess;
	struct hash_index sess_in;   /* sessions by (proto, inside ep, remote ep) */
	struct hash_index sess_out;  /* sessions by (proto, external ep, remote ep) */
	struct hash_index map_in;    /* mappings by (proto, inside ep [, remote addr [, port]]) */
	struct hash_index map_ext;   /* mappings by (proto, external ep): only without port overlapping */
	struct hash_index dest_ix;   /* destination counters, with max-per-destination or port overlapping */
	struct napt_port_set *port_sets; /* [protocol][external address, in ext_sorted order]; NULL with port overlapping */
	struct napt_timer_list timers[NAPT_TO_N];
	int64_t timeout_ns[NAPT_TO_N];
	uint32_t next_map_id, next_sess_id;
	uint16_t seq_cursor;         /* the sequential allocator's next port */
	uint64_t rng;                /* seeded from --seed at the first packet */
	bool rng_ready;
	int64_t clock_ns;            /* the latest capture time seen: timers never go back */
	struct napt_frag_entry frags[NAPT_FRAG_DATAGRAMS];
	struct napt_frag_held *held; /* NAPT_FRAG_HELD of them, allocated at configure time */
	int64_t frag_check_ns;       /* no remembered or held fragment expires before this (INT64_MAX: none) */
	struct napt_stats stats;
};

/* Why the napt stage drops a packet (its stage_ops.drops). */
#define foreach_napt_drop(X) \
	X(NAPT_NO_MAPPING, "no mapping for the destination (unsolicited inbound)") \
	X(NAPT_FILTERED_ADF, "address-dependent filtering: the sender's address was never contacted") \
	X(NAPT_FILTERED_APDF, "address-and-port-dependent filtering: the sender's address and port were never contacted") \
	X(NAPT_NO_PORT, "no free external port") \
	X(NAPT_PER_DESTINATION, "connections to this destination from each external address at their limit") \
	X(NAPT_TABLE_FULL, "the NAT table is full (max-mappings)") \
	X(NAPT_IDLE_TIMEOUT, "the connection timed out while idle; answered with a TCP RST") \
	X(NAPT_NOT_EXTERNAL, "addressed from outside to an address that is not the NAT's") \
	X(NAPT_HAIRPIN_OFF, "addressed from inside to the NAT's own external address, and hairpinning is off") \
	X(NAPT_ICMP_NO_MAPPING, "ICMP error about a flow that has no mapping (RFC 5508 REQ-4, REQ-5)") \
	X(NAPT_ICMP_BAD_CHECKSUM, "ICMP error with a bad checksum (RFC 5508 REQ-3)") \
	X(NAPT_ICMP_UNTRANSLATABLE, "ICMP error whose quoted packet is too short to find its flow") \
	X(NAPT_ICMP_UNKNOWN, "ICMP message that is neither a query nor an error: no identifier to map") \
	X(NAPT_NO_PORTS, "the ports were not captured, so no mapping can be found") \
	X(NAPT_PROTOCOL, "protocol not translated (only TCP, UDP and ICMP)") \
	X(NAPT_FRAGMENT, "fragment of a protocol whose fragments this NAT drops") \
	X(NAPT_FRAGMENT_NO_FIRST, "later fragment whose first fragment did not come in time") \
	X(NAPT_ICMP_ERROR_ABOUT_ERROR, "ICMP error about an ICMP error: no host sends one (RFC 1122 3.2.2), so no flow maps it")

enum napt_drop {
	NAPT_DROP_BEFORE = DROP_STAGE_FIRST - 1, /* so that the first reason is DROP_STAGE_FIRST */
	foreach_napt_drop(DROP_ENUM_ENTRY)
	NAPT_DROP_END
};

#endif
