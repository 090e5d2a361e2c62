/* nat/napt.h: the napt stage (RFC 4787, 5382, 5508, 7857; AWS NAT gateway) and the functions its files share.
 *
 * nat/napt.c is the stage (its ops: process, reverse, advance, ...); the data path is
 * napt_in2out.c and napt_out2in.c (filtering, hairpinning), with napt_session.c opening sessions
 * and napt_icmp.c translating ICMP errors; napt_config.c holds the scenario keys and profiles,
 * napt_ports.c the port allocators, napt_table.c the pools, indexes and timers, napt_frag.c the
 * fragments.
 */
#ifndef NATLB_NAPT_H
#define NATLB_NAPT_H

#include <glib.h>
#include <stddef.h>

#include <netinet/in.h>

#include "common/rewrite.h"
#include "common/scenario-t.h"
#include "common/stage-t.h"
#include "nat/napt-t.h"

extern const struct stage_ops napt_ops;

/* ---- napt_config.c ---------------------------------------------------------------------- */

extern const char *const napt_keys[];
gboolean napt_configure(struct stage *st, const struct stage_config *cfg, GError **err);
void napt_describe(const struct stage *st, GString *out);
/* "EIM", "ADF", ... (abbrev) or "endpoint-independent" ... */
const char *napt_dep_name(enum napt_dep d, bool abbrev, bool filtering);

/* ---- napt_ports.c: port allocation strategies (STYLE.md habit 7) ------------------------- */

/* One search for an external port on one external address. */
struct napt_port_req {
	struct napt *nat;
	uint8_t proto;
	uint32_t eaddr;
	uint16_t iport;          /* the inside port (or ICMP identifier) */
	uint32_t raddr;
	uint16_t rport;
	uint16_t min, max;       /* the range to search */
	unsigned tries;          /* candidates looked at, for the annotation */
	bool syn;                /* TCP: the packet opening it is a SYN (conntrack's SYN_SENT) ... */
	uint32_t seq_end;        /* ... ending at this sequence number (seq + 1) */
	uint32_t evict;          /* out: the closing session whose reply tuple the port takes over (linux), or NAPT_NONE */
};

struct napt_port_ops {
	const char *name;        /* the word in `port-allocation` */
	const char *summary;
	/* A free port for req (napt_port_free), or false when this strategy finds none. */
	bool (*pick)(struct napt_port_req *req, uint16_t *port);
};

const struct napt_port_ops *napt_port_ops_find(const char *name);
const struct napt_port_ops *const *napt_port_ops_all(unsigned *n);
/* Is port usable for req: in range, right parity, its tuple not taken? */
bool napt_port_free(struct napt_port_req *req, uint16_t port);
/* The port sets (struct napt_port_set) that napt_table_init() sizes for the external addresses;
 * hold and release follow the mappings that own their external port (NAPT_MAP_OWNS_PORT). */
bool napt_ports_init(struct napt *nat);
void napt_ports_free(struct napt *nat);
void napt_ports_hold(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port);
void napt_ports_release(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port);
/* Ports of `ports` (port_min-port_max) that no mapping owns on (proto, eaddr), of the parity of
 * parity_of when parity is true; UINT32_MAX when the stage keeps no port set for them (port
 * overlapping, or a protocol without ports). */
uint32_t napt_ports_unowned(const struct napt *nat, uint8_t proto, uint32_t eaddr, bool parity, uint16_t parity_of);
/* The stage's PRNG (splitmix64), seeded from --seed. */
uint64_t napt_random(struct napt *nat);

/* ---- napt_table.c: pools, indexes, timers ----------------------------------------------- */

bool napt_table_init(struct napt *nat, uint32_t cap);
void napt_table_free(struct napt *nat);

uint32_t napt_session_find_in(const struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                              uint16_t rport);
uint32_t napt_session_find_out(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                               uint16_t rport);
/* stage_ops.prefetch for the session of an outbound packet (addr, port: inside) or an inbound one
 * (external). */
void napt_session_prefetch(const struct napt *nat, bool outbound, uint8_t proto, uint32_t addr, uint16_t port,
                           uint32_t raddr, uint16_t rport, unsigned step);
/* raddr and rport as the mapping behaviour keys them (0 where it ignores them). */
uint32_t napt_mapping_find_in(const struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                              uint16_t rport);
uint32_t napt_mapping_find_ext(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport);

/* NAPT_NONE when the pool is full. */
uint32_t napt_mapping_new(struct napt *nat, uint8_t proto, uint32_t iaddr, uint16_t iport, uint32_t raddr,
                          uint16_t rport, uint32_t eaddr, uint16_t eport, uint8_t flags);
uint32_t napt_session_new(struct napt *nat, uint32_t m, uint32_t raddr, uint16_t rport, int64_t now_ns);
/* Frees the session, and its mapping with its last session. */
void napt_session_free(struct napt *nat, uint32_t s);
/* Move s to the list of tclass, expiring that class's timeout after now. */
void napt_timer_arm(struct napt *nat, uint32_t s, enum napt_timeout tclass, int64_t now_ns);
/* The oldest session of a class, NAPT_NONE if the list is empty. */
uint32_t napt_timer_first(const struct napt *nat, enum napt_timeout tclass);

/* Connections from eaddr to (proto, raddr, rport) now. */
uint32_t napt_dest_count(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport);

/* Sessions from eaddr to (proto, raddr, rport) whose external port is one of `ports`, of parity
 * (0 even, 1 odd, -1 either); UINT32_MAX when the stage keeps no destination counters.  With
 * port overlapping each holds its own port (the reply tuple is unique). */
uint32_t napt_dest_ports_held(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint32_t raddr, uint16_t rport,
                              int parity);

/* Bytes the table's pools and indexes hold (the benchmark divides by max-mappings). */
size_t napt_table_bytes(const struct napt *nat);

/* ---- napt_frag.c: fragments (RFC 4787 REQ-14) -------------------------------------------- */

/* A first fragment was translated from (src, dst) to (new_src, new_dst): remember it, and send the
 * later fragments that arrived before it. */
void napt_frag_first(struct napt *nat, struct stage_ctx *ctx, const struct packet *p,
                     enum hop_dir dir, uint32_t src, uint32_t dst, uint32_t mapping_id);
/* A later fragment (offset > 0): translate it like its first fragment, or hold it. */
enum verdict napt_frag_later(struct napt *nat, struct stage *st, struct packet *p, enum hop_dir dir,
                             struct stage_ctx *ctx);
/* The earlier view of a later fragment captured after the stage; false if no first fragment explains it. */
bool napt_frag_reverse(struct napt *nat, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
void napt_frag_expire(struct napt *nat, int64_t now_ns);

/* ---- napt_session.c: sessions and how they open ---------------------------------------------- */

/* How a session came to be, for the annotation: "new mapping #3, port preserved, EIM". */
struct napt_open {
	char how[160];
	enum napt_drop reason; /* when none could be opened */
};

/* The packet went through session si in dir: refresh it, track TCP; the new state's name when
 * it changed, else NULL.  *first_reply (may be NULL) says whether this was the session's first
 * answer (UNREPLIED to ASSURED, as conntrack -L shows it). */
const char *napt_session_touch(struct napt *nat, uint32_t si, const struct packet *p, enum hop_dir dir, int64_t now,
                               bool *first_reply);
/* The table event of a packet that went through session si without opening it: its new TCP
 * state, or its first reply; nothing otherwise. */
void napt_session_refreshed(struct stage *st, struct stage_ctx *ctx, uint32_t si, const char *state, bool first_reply);
void napt_session_row(const struct napt *nat, const struct napt_session *s, struct table_row *row, char *buf,
                      size_t size);
void napt_session_event(struct stage *st, struct stage_ctx *ctx, uint32_t si, enum table_event kind, const char *why);
/* A new session for (proto, inside endpoint) to (raddr, rport), on the mapping the mapping
 * behaviour allows or a new one; NAPT_NONE with o->reason when none can be opened. */
uint32_t napt_session_open_out(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                               uint32_t raddr, uint16_t rport, struct napt_open *o);
/* tracking = conntrack: a packet from outside that no session expects is for the NAT itself; its
 * entry holds the tuple (proto, remote, NAT endpoint) as the inside hosts' mappings do, so that one
 * of them towards that remote takes another port.  NAPT_NONE when the pool is full. */
uint32_t napt_session_open_local(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                                 uint16_t rport, int64_t now_ns);

/* ---- napt_in2out.c and napt_out2in.c: the data path, each way ---------------------------------- */

/* answer-unsolicited: p came from outside to the NAT and no session expects it: answer it as the
 * NAT's own stack would (a TCP RST; ICMP 3/3 for UDP) and, under tracking = conntrack, keep the
 * local entry that Linux keeps.  VERDICT_CONSUMED with the note written, or VERDICT_DROP when p is
 * not one a stack answers (a RST, ICMP): then nothing is written and the caller drops it. */
enum verdict napt_unsolicited(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx,
                              uint32_t local, const char *why);

enum verdict napt_in2out(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx);
enum verdict napt_out2in(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx);
/* RFC 4787 REQ-9: from inside to one of the NAT's own external endpoints. */
enum verdict napt_hairpin(struct stage *st, struct napt *nat, struct packet *p, struct stage_ctx *ctx);
/* The session an outbound packet to (raddr, rport) uses, opened when needed; NAPT_NONE with
 * *reason when there is none (idled out, or nothing free: see napt_exhausted), the drop already
 * written by stage_drop(). */
uint32_t napt_outbound_session(struct stage *st, struct stage_ctx *ctx, struct napt *nat, struct packet *p,
                               uint32_t raddr, uint16_t rport, struct napt_open *o, enum napt_drop *reason);
/* No mapping could be opened for p: the event, the drop (stage_drop() with reason), and the ICMP
 * error REQ-8 asks for. */
void napt_exhausted(struct stage *st, struct stage_ctx *ctx, struct napt *nat, const struct packet *p,
                    enum napt_drop reason, const char *what);
/* May a packet from (raddr, rport) use the mapping of (eaddr, eport)?  The mapping, with the
 * filtering behaviour's sentence in why; or NAPT_NONE with the reason, and in why what the
 * reason's sentence does not say ("mapping #3 has not contacted 198.51.100.2"), maybe "". */
uint32_t napt_filter_inbound(const struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t eport, uint32_t raddr,
                             uint16_t rport, enum napt_drop *reason, char *why, size_t size);

/* ---- napt_icmp.c: ICMP errors (RFC 5508 section 4) ---------------------------------------------- */

enum verdict napt_icmp_error(struct stage *st, struct napt *nat, struct packet *p, enum hop_dir dir,
                             struct stage_ctx *ctx);
/* reverse() for an ICMP error: through the session of the packet it quotes. */
bool napt_icmp_error_reverse(struct napt *nat, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
/* "TCP", "UDP", "ICMP" or "protocol N". */
const char *napt_proto_name(uint8_t proto);

/* ---- napt.c: the stage, and helpers every napt file uses -------------------------------------- */

/* "192.168.1.10:51324", or "192.168.1.10 icmp-id 4660" for ICMP, into buf (at least 40 bytes). */
const char *napt_ep_str(uint8_t proto, uint32_t addr, uint16_t port, char *buf, size_t size);
bool napt_is_external(const struct napt *nat, uint32_t addr);
/* The sentence of a translation: "napt home: SNAT a:p -> b:q (mapping #1, ...)". */
void napt_note_translation(struct stage_ctx *ctx, const struct napt *nat, const char *verb, uint8_t proto,
                           uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2, const struct napt_session *s,
                           const char *how, const char *state);

/* Protocols whose ports (or ICMP query identifiers, RFC 5508 REQ-1) the NAT translates. */
static inline bool napt_has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_ICMP;
}

/* The remote port as the tables key it: an ICMP identifier is the inside host's, not the remote's,
 * so the remote side of an ICMP session has no port. */
static inline uint16_t napt_rport_key(uint8_t proto, uint16_t port)
{
	return proto == IPPROTO_ICMP ? 0 : port;
}

static inline void napt_set_source(struct packet *p, uint32_t addr, uint16_t port)
{
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_SRC, addr);
	if (napt_has_ports(p->ip.proto))
		rewrite_ip4_port(p, &p->ip, ENDPOINT_SRC, port);
}

static inline void napt_set_destination(struct packet *p, uint32_t addr, uint16_t port)
{
	rewrite_ip4_addr(p, &p->ip, ENDPOINT_DST, addr);
	if (napt_has_ports(p->ip.proto))
		rewrite_ip4_port(p, &p->ip, ENDPOINT_DST, port);
}

/* For tests/bench_napt.c: live mappings and sessions. */
uint32_t napt_live_mappings(const struct stage *st);
uint32_t napt_live_sessions(const struct stage *st);

#endif
