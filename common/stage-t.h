/* common/stage-t.h: the types of the stage API, the contract between the replay loop and a middlebox.
 *
 * A stage sits between two links of the chain: its left link comes first in the chain (a NAT's
 * inside, a balancer's clients), its right link after.  For every packet that crosses it the
 * loop calls process() with the direction of travel; the stage translates the packet in place,
 * appends one sentence to ctx->note and returns a verdict (STYLE.md habit 8).  The loop has
 * already written "<type> <name>: " (it takes it out again if the stage says nothing), so the
 * sentence starts with what was done: "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1)".  A drop goes
 * through stage_drop(), which writes the reason in the words of the type's drop list.  A stage may also
 * emit packets of its own, onto either of its links and in either direction (an ICMP error, a
 * TCP RST, a proxy's SYN-ACK or its backend request), through stage_emit(): they join the loop's
 * queue of hops, ordered by time.
 *
 * reverse() answers the inverse question, for a packet captured after it crossed the stage:
 * "what did it look like before you translated it?".  It must not change the stage's state:
 * the loop then replays the packet forward from where it came from, and process() does the
 * bookkeeping (and may drop it: a probe the NAT would have filtered never reached the capture).
 * A stage that sent the packet itself (a proxy's response to its client) answers ORIGINATED: the
 * walk back stops there and the packet is replayed forward from the stage; process() is not called
 * for it, so reverse() keeps the stage's books for such a packet.  reverse() may emit
 * the packets that caused the captured one (a target's response, before the proxy's own) with a
 * negative time offset, which puts them ahead of it in the queue.
 */
#ifndef NATLB_STAGE_T_H
#define NATLB_STAGE_T_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/drop.h"
#include "common/packet-t.h"

enum hop_dir {
	DIR_LEFT_TO_RIGHT, /* away from the start of the chain: a NAT's in2out */
	DIR_RIGHT_TO_LEFT, /* towards the start of the chain: a NAT's out2in */
};

enum side {
	SIDE_LEFT,
	SIDE_RIGHT,
};

/* What reverse() found, for a packet captured after it crossed the stage. */
enum reverse_answer {
	REVERSE_TRANSLATED, /* undone: the packet is now as it reached the stage; the walk back goes on */
	REVERSE_ORIGINATED, /* the stage sent this packet itself: the walk back stops at the stage */
	REVERSE_IMPOSSIBLE, /* no packet can have left the stage like this; ctx->note says why */
	REVERSE_REPLACED,   /* the stage sent something else in its place (a balancer answering a request
	                     * itself, where the capture shows the server's answer): shown on the capture
	                     * link, counted as dropped at the stage with ctx->drop, and goes no further */
};

/* Where the packet a stage is handed comes from. */
enum packet_origin {
	ORIGIN_CAPTURED, /* the bytes of the capture, on the capture link */
	ORIGIN_DERIVED,  /* a captured packet as the loop derived it on another link */
	ORIGIN_EMITTED,  /* a packet that a stage built (stage_emit) */
};

enum verdict {
	VERDICT_FORWARD,  /* continue to the link on the other side */
	VERDICT_DROP,     /* stop here; ctx->drop says why */
	VERDICT_CONSUMED, /* the stage took the packet (a proxy terminating a connection) */
};

struct stage;
struct stage_config;
struct emitter;
struct link;
struct table_recorder;

/* Addresses and ports of one direction of a flow, host byte order (ports 0 where none). */
struct flow_tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* One row of a stage's table as `natlb tables` prints it, like `conntrack -L`. */
struct table_row {
	uint64_t id;                   /* the entry's number, stable for its life ("mapping #3") */
	uint8_t proto;                 /* 6 TCP, 17 UDP, 1 ICMP, 0 for an entry of any protocol */
	int64_t expires_ns;            /* capture time it expires at; INT64_MAX for never */
	const char *state;             /* "ESTABLISHED", "SYN_SENT", or "" */
	struct flow_tuple orig;        /* as the first packet travelled */
	struct flow_tuple reply;       /* what a reply looks like when it arrives */
	const char *flags;             /* short free text: "port-preserved EIM" */
	uint64_t packets[2], bytes[2]; /* per enum hop_dir */
};

/* What happened to a table entry: the event log of --tables. */
#define foreach_table_event                                   \
	X(CREATED, "created")                                 \
	X(REFRESHED, "refreshed")                             \
	X(EXPIRED, "expired")                                 \
	X(EVICTED, "evicted")                                 \
	X(EXHAUSTED, "exhausted")                             \
	X(ASSIGNED, "assigned")                               \
	X(MOVED, "moved")                                     \
	X(RULE_MATCHED, "rule matched")

enum table_event {
#define X(name, text) TABLE_EVENT_##name,
	foreach_table_event
#undef X
	TABLE_EVENT_N
};

/* A packet a stage emits, as stage_emit() hands it to the emitter. */
struct emitted_packet {
	const struct stage *from;  /* the stage that built it */
	enum side side;            /* the stage's link it starts on */
	enum hop_dir dir;          /* its direction of travel: away from the stage, or towards it */
	int64_t at_ns;             /* the capture time of its first view */
	int linktype;              /* DLT_* of bytes */
	const uint8_t *bytes;      /* a whole frame, copied by the emitter */
	uint32_t len;
	const char *note;          /* its first annotation; may be NULL */
};

/* Where stage_emit() sends packets: the replay loop's queue of hops, or a test's recorder.
 * emit() copies what it keeps and returns false when it has no room. */
struct emitter {
	bool (*emit)(struct emitter *em, const struct emitted_packet *e);
};

/* What the loop hands a stage with each packet. */
struct stage_ctx {
	int64_t now_ns;          /* capture time of the packet */
	GString *note;           /* append one sentence: what you did and why (process(): after the loop's "<type> <name>: ") */
	unsigned drop;           /* set when returning VERDICT_DROP, by stage_drop(): a code of common/drop.h */
	struct emitter *emitter; /* for stage_emit(); NULL outside the loop (nowhere to send) */
	struct stage *stage;     /* the stage being called, for stage_emit() */
	int linktype;            /* DLT_* of the packet in hand: what stage_emit() builds */
	enum side capture_side;  /* the side of this stage the capture was taken on */
	enum packet_origin origin; /* whether the packet in hand is the captured one, derived or emitted */
	uint64_t seed;           /* --seed, for stages that choose at random */
	bool redecode;           /* set by a stage that changed the packet's length or headers' layout */
	bool renumbered;         /* set by reverse() that renumbered a captured packet for the scenario (its own
	                          * answers moved the sequence space): its view on the capture link then differs
	                          * from the capture on purpose, and the note says how */
	struct table_recorder *tables; /* --tables; NULL when off: call stage_table_event() regardless */
	FILE *access_log;        /* --access-log: one line per request (an L7 balancer's); NULL when off */
};

/* Counted by the loop for every stage, so that in = forwarded + dropped + consumed. */
struct stage_counters {
	uint64_t in[2];             /* per enum hop_dir */
	uint64_t forwarded;
	uint64_t consumed;
	uint64_t dropped;
	uint64_t drops[DROP_CODES]; /* per drop code: the loop's reasons, then the stage type's own */
	uint64_t reversed;          /* captured packets whose earlier view this stage derived */
	uint64_t originated;        /* captured packets this stage sent itself (reverse() said ORIGINATED) */
	uint64_t emitted;
	uint64_t bypassed;          /* routed around the stage by another one (see stage_ops.bypass); not in in[] */
};

/* The loop calls stage_ops.prefetch STAGE_PREFETCH_STEPS times per packet, STAGE_PREFETCH_GAP
 * packets apart, the first STAGE_PREFETCH_STEPS * STAGE_PREFETCH_GAP packets before its turn: a
 * DRAM miss costs about as much as the loop's work on four packets, so each step's load has
 * arrived by the next step. */
#define STAGE_PREFETCH_STEPS 3
#define STAGE_PREFETCH_GAP 4

/* Derived views are stamped this long after the previous hop, so Wireshark's order is travel
 * order; a stage emitting what a packet caused stamps it this long after that packet. */
#define PIPELINE_HOP_NS 1000

/* A stage type, looked up by the scenario's "type = ..." (STYLE.md habit 7). */
/* One change of a balancer's targets (a target down, up or draining) and what it moved: of the
 * flows live at that moment, how many the hash now sends elsewhere, and of the lookup (a Maglev
 * table's slots, or a sample of hashes for the other algorithms), how much now gives another
 * target, beside the least share any algorithm must change (Maglev, NSDI 2016, section 3.4). */
struct stage_change {
	int64_t at_ns;            /* capture time it took effect */
	const char *kind;         /* "down", "up", "drain" */
	const char *target;
	uint64_t live_flows, remapped;
	uint32_t lookup_changed, lookup_size;
	const char *lookup_unit;  /* "lookup slots" or "sampled hashes" */
	uint64_t ideal_num, ideal_den;
};

struct stage_ops {
	const char *type;                 /* "static-nat" */
	const char *summary;              /* one line for natlb check and the README */
	const char *const *keys;          /* scenario keys it accepts besides "type"; NULL-terminated */
	const struct drop_info *drops;    /* its own drop reasons, codes DROP_STAGE_FIRST on (common/drop.h) */
	unsigned n_drops;                 /* at most STAGE_MAX_DROPS */
	gboolean (*configure)(struct stage *st, const struct stage_config *cfg, GError **err);
	/* The settings with every default filled in, as key = value lines (natlb check). */
	void (*describe)(const struct stage *st, GString *out);
	/* Does the stage answer for addr on that side (a NAT's external address, a VIP)?  From its
	 * configuration only, never from its state: the replay loop remembers answers (chain_memo). */
	bool (*claims)(const struct stage *st, uint32_t addr, enum side side);
	/* The private address of the stage's network interface on that side (a NAT gateway's in its
	 * subnet), which flow logs show as srcaddr of what it sends and dstaddr of what it receives;
	 * 0 for none of its own (optional: NULL is 0). */
	uint32_t (*interface_address)(const struct stage *st, enum side side);
	/* The stage is a router between its links (static NAT, NAPT, a route table): unless the scenario
	 * says `routers = no`, the loop decrements the TTL of what it forwards, answers a TTL that runs
	 * out with an ICMP time exceeded, and writes its own MAC on each link (common/router.h).  A
	 * balancer or a filter is no router hop: it keeps the link header and the TTL it gets. */
	bool routes;
	/* The stage replays captures taken on its left side only (a full proxy: natlb check refuses a
	 * capture link on its right). */
	bool capture_left_only;
	/* The stage filters malformed packets itself (a DDoS shield): process() is handed invalid
	 * packets too (p->status == DECODE_INVALID, the fields decode read before the fault), to drop
	 * or let pass.  Every other stage sees them cross untranslated and is not called. */
	bool filters_invalid;
	/* The stage is an HTTP proxy (an l7-lb): a stage right beside it on its left that judges web
	 * requests (web_request_blocked) is asked about each request it reads. */
	bool proxies_http;
	/* The stage judges the requests of the HTTP proxy right beside it (optional): a shield's
	 * rate-based rule in front of an l7-lb is what an AWS WAF web ACL associated with an ALB is,
	 * which counts requests, not packets, and whose block the balancer answers with 403.  Counts
	 * one request from source to target (bytes long) at ctx->now_ns, ctx being the proxy's; true
	 * when it is blocked, with the reason appended to why. */
	bool (*web_request_blocked)(struct stage *st, uint32_t source, uint32_t target, uint32_t bytes,
	                            struct stage_ctx *ctx, GString *why);
	enum verdict (*process)(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
	/* Undo the translation of a packet that left the stage in dir (see enum reverse_answer). */
	enum reverse_answer (*reverse)(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
	/* A captured packet whose first view is on the link it will cross this stage from (optional):
	 * rewrite it as the scenario's sender would have sent it, before that view is written.  For a
	 * proxy that answered a request itself: the client acknowledged the capture's response, but in
	 * the scenario it received the proxy's, of another length.  Must not change the stage's state;
	 * append to ctx->note what was changed. */
	void (*arriving)(const struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
	/* Does this packet, crossing this stage in dir, travel around the stages that follow it on its
	 * right side instead of through them (a route table sending it to a gateway endpoint, which
	 * bypasses the NAT gateway)?  Returns how many of those stages it skips, 0 for none, and points
	 * *via at a phrase naming the other path ("gateway endpoint vpce-s3"), valid for the stage's
	 * life.  The loop asks before it crosses each of those stages, going either way and on the
	 * walk back from the capture too, because a reply meets the bypassed stages before this one:
	 * so it must not change state and may only look at the addresses and ports.  A bypassed stage
	 * is not called; its far link shows the packet unchanged, annotated "bypassed" (optional). */
	unsigned (*bypass)(const struct stage *st, const struct packet *p, enum hop_dir dir, const char **via);
	/* A hint ahead of the packet's turn (optional): bring into the cache what process() will read
	 * for p crossing in dir, so that its memory misses overlap other packets' work instead of
	 * stalling this one (the loop looks ahead, as VPP's graph nodes do: see STAGE_PREFETCH_STEPS).
	 * Called with step 0, 1, ... STAGE_PREFETCH_STEPS - 1, each nearer the packet's turn: step 0
	 * can only hash the key and touch the index; a later step may read what the one before loaded.
	 * p is decoded and IPv4.  It must not change any state: the packets before p may still change
	 * the table, so what it loads may turn out useless, never wrong. */
	void (*prefetch)(const struct stage *st, const struct packet *p, enum hop_dir dir, unsigned step);
	/* Capture time moved to now: expire what timed out (optional). */
	void (*advance)(struct stage *st, int64_t now_ns, struct stage_ctx *ctx);
	/* The capture has ended, at ctx->now_ns (its last packet): what waits for packets that can no
	 * longer come (bytes held behind a hole) is given up now; it may emit (optional). */
	void (*capture_end)(struct stage *st, struct stage_ctx *ctx);
	/* Visit every entry of the stage's table (optional; for --tables and natlb tables). */
	void (*table_foreach)(const struct stage *st, int64_t now_ns,
	                      void (*visit)(const struct table_row *row, void *data), void *data);
	/* Stage-specific lines for --stats (optional). */
	void (*stats_print)(const struct stage *st, GString *out);
	/* Visit each change of the stage's targets that took effect, in time order, with what it
	 * moved (optional; for the lesson page's chart). */
	void (*changes_foreach)(const struct stage *st, void (*visit)(const struct stage_change *c, void *data),
	                        void *data);
	void (*destroy)(struct stage *st);
};

/* The stage types a scenario may name.  The binary puts its own together (tools/stage_types.c);
 * a test adds its toy types to a copy. */
#define STAGE_TYPES_MAX 32
struct stage_registry {
	const struct stage_ops *types[STAGE_TYPES_MAX];
	unsigned n;
};

struct stage {
	const struct stage_ops *ops;
	char *name;
	unsigned index;            /* stage i sits between links i and i+1 */
	const struct link *left, *right;
	void *priv;                /* the type's own state */
	struct stage *web_acl;     /* an HTTP proxy's judge of requests beside it on its left, or NULL */
	bool judges_http;          /* this stage is the web_acl of the proxy right of it */
	struct stage_counters counters;
};

#endif
