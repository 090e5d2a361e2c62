/* nat/shield-t.h: the types of the shield stage (SYN cookies, reflection filter, bogon filter, rate-based rule); see nat/shield.c.
 *
 * Follows RFC 4987 section 3.6 (SYN cookies), RFC 6890 (special-purpose addresses, the bogons),
 * US-CERT TA14-017A (the UDP reflection vectors and their ports) and the AWS WAF Developer Guide
 * (rate-based rules; "AWS Shield metrics", monitoring-cloudwatch.html#set-ddos-alarms).
 *
 * Invariant: every table is sized in configure() and never grows; a flood only ever overwrites
 * the oldest entries of a bucket (counted), and SYNs answered with a cookie leave no entry at all.
 */
#ifndef NATLB_SHIELD_T_H
#define NATLB_SHIELD_T_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/drop.h"

/* The UDP reflection vectors: name, reflector source port, and what it amplifies. */
#define foreach_shield_reflector(X)                                         \
	X(DNS, 53, "DNS")                                                   \
	X(NTP, 123, "NTP (monlist)")                                        \
	X(SSDP, 1900, "SSDP")                                               \
	X(MEMCACHED, 11211, "memcached")                                    \
	X(CHARGEN, 19, "CharGEN")                                           \
	X(CLDAP, 389, "CLDAP")

enum shield_reflector {
#define X(name, port, what) SHIELD_REFLECT_##name,
	foreach_shield_reflector(X)
#undef X
	SHIELD_REFLECT_N
};

/* The attack vectors the stage detects, each with its start and end (Shield's "attack vectors"). */
#define foreach_shield_vector(X)                                                        \
	X(SYN_FLOOD, "SYN flood")                                                       \
	X(DNS_REFLECTION, "DNS reflection")                                             \
	X(NTP_REFLECTION, "NTP reflection")                                             \
	X(SSDP_REFLECTION, "SSDP reflection")                                           \
	X(MEMCACHED_REFLECTION, "memcached reflection")                                 \
	X(CHARGEN_REFLECTION, "CharGEN reflection")                                     \
	X(CLDAP_REFLECTION, "CLDAP reflection")                                         \
	X(SPOOFED_BOGON, "spoofed sources (bogons)")                                    \
	X(REQUEST_FLOOD, "request flood (rate-based rule)")

enum shield_vector {
#define X(name, text) SHIELD_VECTOR_##name,
	foreach_shield_vector(X)
#undef X
	SHIELD_VECTOR_N
};

#define foreach_shield_drop(X) \
	X(SHIELD_COOKIE_INVALID, "an ACK whose SYN cookie is not one the shield made (a forged or stray ACK during a SYN flood)") \
	X(SHIELD_COOKIE_EXPIRED, "an ACK with a SYN cookie older than the cookie lifetime") \
	X(SHIELD_REFLECT_DNS, "an unsolicited DNS answer (source port 53) to a protected address: DNS reflection") \
	X(SHIELD_REFLECT_NTP, "an unsolicited NTP packet (source port 123) to a protected address: NTP reflection") \
	X(SHIELD_REFLECT_SSDP, "an unsolicited SSDP answer (source port 1900) to a protected address: SSDP reflection") \
	X(SHIELD_REFLECT_MEMCACHED, "an unsolicited memcached answer (source port 11211) to a protected address: memcached reflection") \
	X(SHIELD_REFLECT_CHARGEN, "an unsolicited CharGEN packet (source port 19) to a protected address: CharGEN reflection") \
	X(SHIELD_REFLECT_CLDAP, "an unsolicited CLDAP answer (source port 389) to a protected address: CLDAP reflection") \
	X(SHIELD_MALFORMED, "a malformed packet to a protected address (headers that contradict each other or the frame)") \
	X(SHIELD_BOGON_SOURCE, "a source address no internet host can have (a bogon: spoofed)") \
	X(SHIELD_RATE_LIMITED, "its source is over the rate-based rule's limit") \
	X(SHIELD_NO_COOKIE_EMITTED, "the shield could not send the packets it makes (the queue of hops is full)")

enum shield_drop {
	SHIELD_DROP_BEFORE = DROP_STAGE_FIRST - 1, /* so that the first reason is DROP_STAGE_FIRST */
	foreach_shield_drop(DROP_ENUM_ENTRY)
	SHIELD_DROP_END
};

/* SYN cookies: the time counter ticks every 64 s of capture time (as Linux's does, about once a
 * minute); a cookie is good in the counter it was made in and the next one. */
#define SHIELD_COOKIE_PERIOD_NS (G_GINT64_CONSTANT(64) * 1000000000)
#define SHIELD_COOKIE_MAX_AGE   1
#define SHIELD_COOKIE_MSS_N     8

/* The 128-bit key of the cookies' keyed hash (SipHash-2-4). */
struct shield_key {
	uint64_t k0, k1;
};

/* The four addresses and ports a cookie is bound to, host order, as the client sent its SYN. */
struct shield_tuple {
	uint32_t client, server;
	uint16_t cport, sport;
};

/* What a valid cookie gives back. */
struct shield_cookie_info {
	uint16_t mss;      /* the MSS the shield offered, from the client's (rounded down to the table) */
	unsigned age;      /* time counters since it was made: 0 .. SHIELD_COOKIE_MAX_AGE */
};

enum shield_cookie_check {
	SHIELD_COOKIE_OK,
	SHIELD_COOKIE_BAD,     /* the hash does not match: not a cookie of this key and connection */
	SHIELD_COOKIE_TOO_OLD, /* the hash matches a counter older than SHIELD_COOKIE_MAX_AGE */
};

struct libnet_context; /* libnet_t */

/* ---- the stage's state (nat/shield.c, nat/shield_config.c) ---- */

#define SHIELD_MAX_PROTECT 64
#define SHIELD_MAX_BOGONS  32
#define SHIELD_WAYS        4   /* entries per bucket of every table: a full bucket loses its oldest */
#define SHIELD_DESTS       1024 /* destinations whose SYN rate is counted (a bucketed table) */
#define SHIELD_RATE_SLICES 30  /* the rate-based rule's window, in slices: a sliding count */

/* A connection the shield lets through: one whose SYN it forwarded, or whose ACK carried a good
 * cookie.  SYNs answered with a cookie make none. */
struct shield_conn {
	uint32_t client, server;
	uint16_t cport, sport;
	int64_t last_ns;         /* 0: a free slot */
};

/* A UDP request a protected address sent to a reflector port: its answers are welcome. */
struct shield_request {
	uint32_t local, remote;
	uint16_t lport, rport;
	int64_t at_ns;           /* 0: a free slot */
};

/* One source under the rate-based rule: its requests in each slice of the window. */
struct shield_source {
	uint32_t addr;
	uint32_t slice;          /* the absolute number of the newest slice counted */
	int64_t last_ns;         /* 0: a free slot */
	uint32_t counts[SHIELD_RATE_SLICES];
};

/* A protected destination's SYNs in the current second of capture time. */
struct shield_dest {
	uint32_t addr;
	uint32_t second;         /* capture second of syns */
	uint32_t syns;
	bool cookies;            /* answering its SYNs with cookies */
	bool used;
};

/* One vector's attack: in progress or the last one, and what Shield's metrics say of it. */
struct shield_attack {
	bool active;
	unsigned count;          /* attacks of this vector so far */
	uint64_t id;             /* the table row's number */
	uint32_t target;         /* the protected address the first attack packet went to */
	int64_t start_ns, last_ns, end_ns;
	uint64_t packets, bytes;
	uint32_t second;         /* capture second of sec_* */
	uint32_t over_second;    /* SYN flood: the last second over syn-threshold */
	uint64_t sec_packets, sec_bytes;
	uint64_t peak_pps, peak_bps, peak_rps;
};

struct shield {
	/* settings */
	struct ip4_prefix protect[SHIELD_MAX_PROTECT];
	unsigned n_protect;
	struct ip4_prefix bogons[SHIELD_MAX_BOGONS];
	unsigned n_bogons;
	uint64_t bogon_octets[4]; /* first octets some bogon prefix covers: most sources skip the list */
	uint32_t syn_threshold;  /* SYNs per protected destination per second */
	char *secret;
	struct shield_key key;
	int64_t reflection_window_ns;
	char window_text[32];   /* "30s", for the notes */
	int64_t idle_timeout_ns;
	uint32_t rate_limit;     /* requests per source per rate_window_ns; 0: no rule */
	int64_t rate_window_ns;
	uint32_t max_connections, max_requests, max_sources; /* powers of 2, multiples of SHIELD_WAYS */

	/* tables, allocated once */
	struct shield_conn *conns;
	struct shield_request *requests;
	struct shield_source *sources;
	struct shield_dest dests[SHIELD_DESTS];
	struct shield_attack attacks[SHIELD_VECTOR_N];
	uint64_t next_attack_id;
	uint32_t second;         /* the capture second the detector last looked at */
	bool seen_any;
	int64_t first_ns;        /* the first packet's capture time: the notes count from it */
	GString *pending;        /* "attack ended" sentences for the next packet's note */
	struct libnet_context *lnet;

	/* counters for --stats */
	uint64_t cookies_sent, cookies_valid, syns_forwarded, conns_evicted, requests_evicted, sources_evicted;
	uint64_t web_allowed, web_blocked; /* requests the l7-lb right of it asked about (judges_http) */
	uint64_t answers_matched;
};

#endif
