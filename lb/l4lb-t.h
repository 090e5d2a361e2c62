/* lb/l4lb-t.h: the L4 balancer stage's state: listeners, targets, flow table, health timeline (types only).
 *
 * Models AWS Network Load Balancer ("Network Load Balancers", "Target groups for your Network Load
 * Balancers": idle timeout 350 s for TCP and 120 s for UDP, deregistration delay, client IP
 * preservation, proxy protocol v2, connection reset for unhealthy targets, fail open) with the
 * spreading of Maglev (NSDI 2016) and Katran: a hash of the flow picks a target, and a flow table
 * keeps every later packet of the flow on it.
 *
 * Invariants: each flow in the table is on its probe run by the client's 5-tuple (the flow array
 * is that index), in the reverse index by the 5-tuple the target answers with, and in the idle list
 * of its protocol, in the order it was queued there; no two flows share either key; an entry with
 * id 0 is empty.  A flow idle for its timeout is dead even before the sweep
 * removes it: every lookup checks.  Everything is allocated at configure time: the data path
 * allocates nothing.
 */
#ifndef NATLB_LB_L4LB_T_H
#define NATLB_LB_L4LB_T_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/drop.h"
#include "common/hash_index.h"
#include "lb/hash-t.h"
#include "lb/select-t.h"

#define L4LB_MAX_LISTENERS      256
#define L4LB_MAX_TARGETS        4096
#define L4LB_MAX_EVENTS         256
#define L4LB_VIP_BITS           9   /* the VIP hash set: twice L4LB_MAX_LISTENERS slots */
/* 131072 flows: 32 MB of flow table (128-byte flows, half full at most), so a replay stays
 * under 64 MB of memory; raise max-flows for captures with more concurrent flows. */
#define L4LB_DEFAULT_MAX_FLOWS  131072
#define L4LB_TCP_IDLE_DEFAULT_S 350 /* AWS NLB, TCP */
#define L4LB_UDP_IDLE_DEFAULT_S 120 /* AWS NLB, UDP */
#define L4LB_DEREG_DEFAULT_S    300 /* AWS target group deregistration_delay.timeout_seconds */
#define L4LB_TARGET_NAME_MAX    32  /* "255.255.255.255:65535 weight" fits */
#define L4LB_IP_TEXT_MAX        16  /* "255.255.255.255" and its NUL */

/* The proxy protocol v2 header for TCP over IPv4 (haproxy's proxy-protocol.txt, section 2.2):
 * 12-byte signature, version/command, family/transport, length 12, two addresses, two ports. */
#define L4LB_PPV2_LEN 28

struct l4lb_listener {
	uint32_t vip;
	uint16_t port;
	uint8_t proto; /* 6 or 17 */
	uint64_t flows;
};

enum l4lb_target_state {
	L4LB_TARGET_HEALTHY,      /* in service */
	L4LB_TARGET_DOWN,         /* unhealthy: new flows avoid it, its TCP flows are reset */
	L4LB_TARGET_DRAINING,     /* deregistering: its flows continue, new ones avoid it */
	L4LB_TARGET_DEREGISTERED, /* the deregistration delay is over: its remaining flows are reset */
};

struct l4lb_target {
	uint32_t ip;
	uint16_t port;       /* 0: the listener's port */
	uint32_t weight;
	char name[L4LB_TARGET_NAME_MAX]; /* "10.0.1.12:8080" or "10.0.1.12" as the scenario names it */
	char ip_text[L4LB_IP_TEXT_MAX];  /* "10.0.1.12", as note_append_ip4 writes it, for the notes */
	uint8_t ip_text_len;
	enum l4lb_target_state state;
	int64_t drain_until_ns;         /* DRAINING: when the deregistration completes */
	uint64_t flows;                 /* flows assigned over the replay */
	uint64_t live;                  /* flows in the table now */
	uint64_t packets[2], bytes[2];  /* per enum hop_dir */
};

enum l4lb_event_kind { L4LB_EVENT_DOWN, L4LB_EVENT_UP, L4LB_EVENT_DRAIN };

/* One entry of the `events` timeline and, once it happened, what it did (the report). */
struct l4lb_event {
	int64_t at_ns;       /* capture time after the first packet the stage saw */
	enum l4lb_event_kind kind;
	unsigned target;
	bool fired;
	int64_t fired_ns;    /* capture time it took effect */
	unsigned serving_before, serving_after; /* targets new flows could go to */
	bool fail_open;      /* after it, no target was healthy */
	uint64_t live_flows; /* flows in the table at that moment */
	uint64_t on_target;  /* of them, on the event's target */
	uint64_t remapped;   /* of them, whose hash now picks a different target */
	uint32_t lookup_changed, lookup_size; /* slots (or sampled hashes) that now give another target */
	uint64_t ideal_num, ideal_den; /* the least share of the lookup that had to change (weighted) */
	int64_t deregistered_ns; /* drain: when the delay ran out (0 while it has not) */
};

enum l4lb_tcp_state { L4LB_TCP_SYN_SENT, L4LB_TCP_ESTABLISHED, L4LB_TCP_FIN_WAIT, L4LB_TCP_CLOSED };
enum l4lb_ppv2_state { L4LB_PPV2_OFF, L4LB_PPV2_PENDING, L4LB_PPV2_SENT };
#define L4LB_MARK_REPLIED    0x01 /* the target answered */
#define L4LB_MARK_FIN_CLIENT 0x02
#define L4LB_MARK_FIN_TARGET 0x04

/* One flow: the client's connection to a listener and the connection the target sees.  128 bytes,
 * 128-byte aligned in the table (two cache lines the hardware fetches as a pair): the first 64
 * bytes hold what every packet from the client reads or writes (keys, target, time, id, its
 * counters), so that a forward packet touches one line of the flow; the rest follow. */
struct l4lb_flow_count {
	uint64_t packets, bytes;
};

struct l4lb_flow {
	uint32_t client, vip;        /* as the client sends: client:cport > vip:vport */
	uint16_t cport, vport;
	uint8_t proto, listener, tcp_state, ppv2;
	uint32_t target_ip, source;  /* as the target sees it: source:sport > target_ip:tport */
	uint16_t tport, sport;
	uint16_t target;
	uint8_t marks;               /* L4LB_MARK_* */
	uint8_t unused;
	int64_t last_ns;             /* the last packet, either way: idle time counts from it */
	uint64_t id;                 /* "flow #3", stable for its life */
	struct l4lb_flow_count count[2]; /* per enum hop_dir: left to right in the first line */
	uint64_t generation;         /* the selection build it was assigned under */
	int64_t created_ns;
	int64_t queue_ns;            /* when it was put at the young end of its idle list */
	uint32_t ppv2_seq;           /* client sequence number of the first data byte */
	uint32_t hash;               /* what chose the target ... */
	uint32_t slot;               /* ... and where the selection put it */
	uint32_t idle_prev, idle_next; /* idle list, as index + 1 (0: none) */
};
#define L4LB_FLOW_ALIGN 128

struct l4lb_totals {
	uint64_t new_flows, expired, reset, moved, fail_open_flows;
	uint64_t ppv2_inserted, ppv2_reinserted;
};

struct l4lb {
	/* settings */
	struct l4lb_listener listeners[L4LB_MAX_LISTENERS];
	unsigned n_listeners;
	uint32_t vips[L4LB_MAX_LISTENERS]; /* distinct, sorted */
	unsigned n_vips;
	uint64_t vip_set[1u << L4LB_VIP_BITS]; /* the same, for claims(): 1 << 32 | vip, 0 empty (linear probing) */
	struct l4lb_target *targets;
	unsigned n_targets;
	enum lb_hash_fields fields;
	const struct lb_hash_ops *hash;
	const struct lb_select_ops *select;
	uint32_t table_size;
	struct l4lb_event events[L4LB_MAX_EVENTS];
	unsigned n_events;
	int64_t dereg_delay_ns, tcp_idle_ns, udp_idle_ns;
	bool preserve_client_ip, have_address, ppv2;
	uint32_t address;
	uint32_t max_flows;

	/* selection: the build in use and a spare to compare a rebuild against */
	void *sel, *sel_spare;
	uint32_t *weights;     /* scratch for builds, one per target */
	uint64_t generation;   /* bumped at each rebuild */
	uint64_t first_flow_generation; /* the build the first flow was assigned under: while it is
	                                 * still in use, every flow has it */
	unsigned serving;      /* targets new flows can go to */
	bool fail_open;

	/* time */
	bool started;
	int64_t t0_ns, clock_ns;
	unsigned next_event;

	/* flow table */
	/* The flows themselves form the index by the client's 5-tuple (open addressing, linear
	 * probing, backward-shift deletion, id 0: empty), so that a client's packet finds its flow
	 * with one cache miss; flows_mask + 1 entries, at least twice max_flows. */
	struct l4lb_flow *flows;
	uint32_t flows_mask;
	uint32_t live;
	struct hash_index rev;   /* flows by the 5-tuple the target answers with */
	uint32_t idle_head[2], idle_tail[2]; /* per class: 0 TCP, 1 UDP; index + 1 */
	uint64_t next_id;

	struct l4lb_totals totals;
	GString *pending;        /* what the last events did, told with the next packet */
	GString *flags;          /* scratch for table rows */
};

/* Why the l4-lb stage drops a packet (its stage_ops.drops). */
#define foreach_l4lb_drop(X) \
	X(L4LB_NO_LISTENER, "no listener on that address, port and protocol") \
	X(L4LB_NO_PORTS, "no ports to hash (a later IPv4 fragment, or a header cut short)") \
	X(L4LB_NO_TARGET, "no target can take a new flow") \
	X(L4LB_TARGET_DOWN, "its flow's target is down or deregistered: the balancer answered with a TCP RST") \
	X(L4LB_NO_FLOW, "a reply that matches no flow of the balancer") \
	X(L4LB_FLOW_TABLE_FULL, "the balancer's flow table is full (max-flows)") \
	X(L4LB_TUPLE_IN_USE, "the target already has a connection from that client address and port (client IP preserved)") \
	X(L4LB_NO_SOURCE_PORT, "no free source port from the balancer's address to that target") \
	X(L4LB_PPV2_NO_ROOM, "no room for the proxy protocol header (the IPv4 packet would pass 65535 bytes)")

enum l4lb_drop {
	L4LB_DROP_BEFORE = DROP_STAGE_FIRST - 1, /* so that the first reason is DROP_STAGE_FIRST */
	foreach_l4lb_drop(DROP_ENUM_ENTRY)
	L4LB_DROP_END
};

#endif
