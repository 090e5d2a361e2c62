/* lb/l7lb-t.h: the L7 balancer stage's state: listeners, target groups, client connections and their backend connections (types only).
 *
 * Models AWS Application Load Balancer ("Application Load Balancers": listeners and rules,
 * target groups, routing algorithms, HTTP headers and the application load balancer, desync
 * mitigation mode, access logs).  ALB is a full proxy: the client's TCP connection ends at the
 * balancer, which reads each HTTP request, picks a target group by its rules, and sends the
 * request over a TCP connection of its own, from `address`, to a target of that group.  So two
 * requests on one client connection can reach two targets, and a target sees the balancer's
 * address, with the client's in X-Forwarded-For.
 *
 * Invariants: every client connection in the table is keyed by client:cport > vip:vport; its
 * requests are answered in order (HTTP/1.1 has no other order), so the oldest pending request is
 * the one the next response answers; a backend connection's sequence numbers only grow, so
 * every segment natlb synthesizes on the target side follows the one before it.
 */
#ifndef NATLB_LB_L7LB_T_H
#define NATLB_LB_L7LB_T_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/drop.h"
#include "common/ip4_reasm.h"
#include "common/packet-t.h"
#include "common/tcp_stream.h"
#include "lb/desync.h"
#include "lb/http1.h"
#include "lb/l7_rules-t.h"

#define L7LB_MAX_LISTENERS        50   /* ALB's quota of listeners per load balancer */
#define L7LB_MAX_GROUPS           64
#define L7LB_MAX_GROUP_TARGETS    64
#define L7LB_MAX_EVENTS           64
#define L7LB_BACKENDS_PER_CONN    4    /* backend connections one client connection may open */
#define L7LB_PENDING_MAX          16   /* requests in flight on one client connection (pipelining) */
#define L7LB_IDLE_DEFAULT_S       60   /* ALB idle_timeout.timeout_seconds */
#define L7LB_DEFAULT_MAX_CONNS    100000
/* A connection closed on both sides stays this long, as a closing socket waits in TIME_WAIT
 * (Linux's TCP_TIMEWAIT_LEN, 60 s): a retransmitted FIN, or the capture's FIN after the balancer's
 * own, still finds it.  It no longer counts as active, and a new connection takes its place. */
#define L7LB_CLOSED_KEEP_S        60
#define L7LB_MSS                  1460 /* the segments natlb synthesizes on the target side */
#define L7LB_HOLD_BYTES           65536 /* out-of-order bytes held per direction of a connection */
/* A frame the balancer builds: a link header of up to 64 bytes, IPv4 and TCP, and a segment of
 * data (an MSS towards a target; its own answer to a client, a redirect's URL included). */
#define L7LB_FRAME_MAX            8192
/* IPv4 fragments are reassembled before their TCP segment is read (lb/l7lb_frag.c), those from
 * clients and those to clients each in a context of their own with these limits: datagrams at
 * once, fragments per datagram (a 65,535-byte datagram over 1,500-byte links takes 45), default
 * timeout. */
#define L7LB_FRAG_DATAGRAMS       16
#define L7LB_FRAG_FRAGMENTS       128
#define L7LB_FRAG_TIMEOUT_S       30   /* Linux's ipfrag_time, as napt's fragment-timeout */
#define L7LB_FRAG_FRAME_MAX       (64 + 65535)

enum l7lb_algorithm {
	L7LB_ROUND_ROBIN,
	L7LB_LEAST_OUTSTANDING,
};

enum l7lb_xff_mode {
	L7LB_XFF_APPEND,   /* add the client's address (ALB's default) */
	L7LB_XFF_PRESERVE, /* forward the header as the client sent it */
	L7LB_XFF_REMOVE,   /* strip it */
};

struct l7lb_listener {
	uint32_t vip;
	uint16_t port;
};

enum l7lb_target_state {
	L7LB_TARGET_HEALTHY,
	L7LB_TARGET_DOWN,      /* fails its health checks: no new requests */
	L7LB_TARGET_DRAINING,  /* deregistering: requests in flight finish, no new ones */
};

struct l7lb_target {
	enum l7lb_target_state state;
	uint32_t ip;
	uint16_t port;
	char name[24];           /* "10.0.1.12:8080" */
	unsigned outstanding;    /* requests sent, response not complete: least outstanding requests */
	uint64_t requests;       /* RequestCountPerTarget */
	uint64_t codes[6];       /* HTTPCode_Target_1XX..5XX by the first digit */
};

struct l7lb_group {
	char *name;
	enum l7lb_algorithm algorithm;
	struct l7lb_target targets[L7LB_MAX_GROUP_TARGETS];
	unsigned n_targets;
	unsigned rr_next;
	uint64_t requests;
};

/* One TCP connection from the balancer's address to a target. */
#define L7LB_BACKEND_NOTE_MAX 160

struct l7lb_backend {
	uint64_t id;             /* "backend connection #4": numbered across the stage */
	int16_t group, target;   /* -1: the slot is free */
	uint16_t sport;          /* from address:sport */
	uint32_t snd_nxt;        /* the balancer's next sequence number towards the target */
	uint32_t rcv_nxt;        /* the target's next sequence number: what the balancer acknowledges */
	uint16_t ip_id, target_ip_id;
	unsigned outstanding;
	bool closed;
	/* "l7-lb alb: backend connection #4 10.0.1.2:40004 -> 10.0.1.22:8080 for client
	 * 198.51.100.4:1072", which begins the comment of each request and response on it: written
	 * once, when it opens.  note_len 0: too long to keep, written each time. */
	uint8_t note_len;
	char note[L7LB_BACKEND_NOTE_MAX];
};

/* What happened to one request, kept until its response has gone through. */
enum l7lb_outcome {
	L7LB_FORWARDED,          /* to a target: its response comes from there */
	L7LB_ANSWERED,           /* the balancer answered (fixed-response, redirect, 400, 503) */
};

struct l7lb_request {
	unsigned number;         /* "request 3 on connection #1" */
	enum l7lb_outcome outcome;
	int8_t backend;          /* index into conn->backends, for L7LB_FORWARDED */
	bool head_method;        /* HEAD: the response has no body */
	bool close_after;        /* desync mitigation: close the connection after the response */
	bool answer_closes;      /* the balancer's own answer says Connection: close; its FIN follows it */
	int64_t received_ns;     /* for the access log's processing times */
	uint16_t status;         /* what the client got */
	uint32_t rule_priority;  /* 0: the default action */
	int64_t first_byte_ns;   /* when its response began, for the access log's target time */
	uint64_t received_bytes, sent_bytes;
	char *log_tail;          /* --access-log: the line's fields from "request" on; NULL when off */
	char *answer;            /* the balancer's own answer, waiting for the responses before it */
	uint32_t answer_len;
	uint8_t classification_tier, classification_reason; /* enum desync_tier, enum desync_reason */
};

/* One client connection, from its SYN (or its first data, when the SYN was not captured). */
struct l7lb;
struct stage_ctx;
struct packet;

struct l7lb_conn {
	uint64_t id;             /* "connection #1" */
	uint32_t client, vip;
	uint16_t cport, vport;
	int64_t last_ns;         /* idle timeout */
	bool midstream;          /* picked up without its SYN */
	bool client_fin, server_fin, closed;
	int64_t closed_ns;       /* when both sides had closed: it stays L7LB_CLOSED_KEEP_NS after */
	GList closed_link;       /* its place in lb->closed while it is closed */
	bool close_pending;      /* desync mitigation: the balancer closes once this response segment is sent */
	bool own_fin;            /* the balancer sent its FIN itself, ahead of the capture's */
	uint32_t own_fin_seq;    /* ... at this sequence number of its own (capture's plus shift) */
	uint32_t resp_last_ack;  /* the acknowledgement number the balancer last sent the client */
	uint16_t resp_window;    /* the window field of the capture's last segment to the client, as sent:
	                          * the balancer's own segments advertise the same (0: none seen) */
	bool rejected;           /* a 400 ended parsing: later bytes are not read */
	bool in_message;         /* a request head was read, its end not yet */
	bool passthrough;        /* a routed request's body cannot be framed: later bytes go on unread */
	bool body_after_gap;     /* the capture lost bytes inside a body (body_end): its rest goes on unread */
	uint32_t client_isn_plus_one;
	int64_t req_held_since_ns, resp_held_since_ns; /* bytes have been held behind a hole since; 0: none */
	unsigned n_requests;
	/* Requests in order: pending[head .. head+n) await their responses. */
	struct l7lb_request pending[L7LB_PENDING_MAX];
	unsigned pending_head, n_pending;
	/* Requests: what is being forwarded now. */
	int current_backend;     /* where the body bytes of the request being read go; -1 none */
	uint64_t fwd_pos;        /* request stream offset: bytes before it are dealt with */
	uint64_t body_end;       /* where the forwarded request's body ends, by its Content-Length; 0: unknown */
	/* Responses as the capture shows them: bytes from resp_msg_start belong to the oldest pending
	 * request. */
	uint64_t resp_ends[L7LB_PENDING_MAX]; /* message ends found while one segment was fed */
	bool resp_final[L7LB_PENDING_MAX];    /* ... and whether each answered a request (not a 1xx) */
	unsigned n_resp_ends;
	bool resp_informational; /* the response being read is a 1xx */
	bool resp_lost;          /* bytes of the response stream were lost (or its start): until a status
	                          * line comes, responses cannot be paired with requests */
	/* The balancer's own answers on the client side take the place of the capture's responses, of
	 * other lengths: its sequence numbers are the capture's plus shift, for the bytes it has not
	 * seen yet; splice is the latest answer, so that the client's acknowledgements before and
	 * after it map right (see l7lb.c, "The client side"). */
	int64_t shift;
	uint32_t resp_base_seq;  /* the capture's server sequence number of response stream offset 0 */
	uint64_t resp_answered_off; /* response stream offset where the last complete response ended */
	struct l7lb_splice {
		bool active;
		bool end_known;      /* the capture's response it replaced has been seen */
		uint32_t cap_start;  /* where it sits in the capture's sequence numbers */
		uint32_t cap_end;
		uint32_t len;        /* the balancer's answer's length */
		int64_t shift_before;
	} splice;
	struct tcp_stream req_stream, resp_stream;
	struct http1_stream req_http, resp_http;
	struct l7lb_backend backends[L7LB_BACKENDS_PER_CONN];
	struct l7lb *lb;
	struct stage_ctx *ctx;   /* while a segment is being fed: where callbacks emit */
	const struct packet *pkt;/* likewise: the packet in hand */
	unsigned emitted;        /* packets emitted for the packet in hand, to stagger their times */
	size_t note_start;       /* where this stage's sentence begins in the packet in hand's note */
	int64_t emit_base;       /* where their times start, from the packet in hand's */
	uint64_t feed_base;      /* the request bytes being fed: their stream offset, bytes, length */
	const uint8_t *feed_bytes;
	uint32_t feed_len;
	uint64_t withheld;       /* response bytes of the segment in hand that the balancer replaced */
	bool replaced_bytes, relayed_bytes; /* what the response segment in hand carried */
	bool closed_bytes;       /* ... bytes the capture's server sent after the balancer's own FIN */
};

/* ALB's CloudWatch metrics ("CloudWatch metrics for your Application Load Balancer"). */
#define foreach_l7lb_metric(X)                                                      \
	X(REQUEST_COUNT, "RequestCount")                                            \
	X(NEW_CONNECTION_COUNT, "NewConnectionCount")                               \
	X(ACTIVE_CONNECTION_COUNT, "ActiveConnectionCount")                         \
	X(ELB_4XX, "HTTPCode_ELB_4XX_Count")                                        \
	X(ELB_5XX, "HTTPCode_ELB_5XX_Count")                                        \
	X(TARGET_2XX, "HTTPCode_Target_2XX_Count")                                  \
	X(TARGET_3XX, "HTTPCode_Target_3XX_Count")                                  \
	X(TARGET_4XX, "HTTPCode_Target_4XX_Count")                                  \
	X(TARGET_5XX, "HTTPCode_Target_5XX_Count")                                  \
	X(FIXED_RESPONSE, "HTTP_Fixed_Response_Count")                              \
	X(REDIRECT, "HTTP_Redirect_Count")                                          \
	X(RULE_EVALUATIONS, "RuleEvaluations")                                      \
	X(DESYNC_NON_COMPLIANT, "DesyncMitigationMode_NonCompliant_Request_Count")  \
	X(CLIENT_TLS_NEGOTIATION_ERROR, "ClientTLSNegotiationErrorCount")           \
	X(REJECTED_CONNECTION_COUNT, "RejectedConnectionCount")

enum l7lb_metric {
#define X(name, text) L7LB_METRIC_##name,
	foreach_l7lb_metric(X)
#undef X
	L7LB_METRIC_N
};

/* "5s down 10.0.1.12:8080": the targets' timeline, as l4-lb's, in capture time after the first packet. */
struct l7lb_event {
	int64_t at_ns;
	enum l7lb_target_state to;
	uint32_t ip;
	uint16_t port;
	char text[48];
};

struct l7lb {
	const char *name;        /* the stage's, for the notes of emitted packets */
	struct l7lb_listener listeners[L7LB_MAX_LISTENERS];
	unsigned n_listeners;
	uint32_t address;        /* the balancer's own address on the target side */
	struct l7lb_group groups[L7LB_MAX_GROUPS];
	unsigned n_groups;
	struct l7_rules rules;
	enum l7lb_xff_mode xff;
	enum desync_mode desync;
	int64_t idle_ns;
	uint32_t max_conns;
	GHashTable *conns;       /* client 4-tuple -> struct l7lb_conn */
	GQueue closed;           /* the closed connections still in conns, oldest first */
	uint64_t next_conn_id, next_backend_id;
	uint16_t next_sport;     /* the balancer's ephemeral ports towards targets */
	int64_t clock_ns;
	struct l7lb_event events[L7LB_MAX_EVENTS];
	unsigned n_events, next_event;
	bool started;
	int64_t t0_ns;           /* the first packet's time: events count from it */
	int64_t last_emit_ns;    /* the time of the last packet emitted: the next is later */
	uint64_t metrics[L7LB_METRIC_N];
	uint64_t gap_bytes, held_drops;
	uint64_t responses_not_captured; /* requests in flight given up when the response stream lost its place */
	struct libnet_context *lnet; /* the balancer's own answers to clients */
	struct http1_spares spares; /* head buffers of idle connections, for the next heads to begin in */
	GString *scratch;        /* a forwarded request head, built once per request */
	GString *note;           /* an emitted packet's note */
	uint8_t *frame;          /* a synthesized frame */
	uint8_t *answer_frame;   /* the balancer's own answer to a client */
	struct ip4_reasm *reasm; /* IPv4 fragments from clients, until their datagram is whole */
	struct ip4_reasm *reasm_to_client; /* IPv4 fragments of the capture's responses, likewise */
	int64_t fragment_timeout_ns;
	uint8_t *reasm_frame;    /* a reassembled datagram behind its last fragment's link header */
	/* First fragments of segments to clients that went out renumbered (c->shift) while the rest of
	 * their datagram was awaited: the segment, once whole, is checked against what they carried. */
	struct l7lb_renumbered_fragment {
		bool used;
		uint32_t src, dst;
		uint16_t id;
		int64_t at_ns;
		uint32_t delta;      /* added to its TCP sequence number */
	} renumbered[L7LB_FRAG_DATAGRAMS];
	unsigned next_renumbered;
	struct packet like;      /* the clients' link header (like_link), caplen 0 until one came */
	uint8_t like_link[64];
};

#define foreach_l7lb_drop(X)                                                                                   \
	X(L7LB_NO_LISTENER, "no listener on that address and port (the balancer takes HTTP over TCP only)")    \
	X(L7LB_NOT_TCP, "not TCP: an application load balancer listens for HTTP over TCP only")                \
	X(L7LB_NO_CONNECTION, "no connection of the balancer's matches it")                                   \
	X(L7LB_CONN_TABLE_FULL, "the balancer's connection table is full (max-connections)")                  \
	X(L7LB_ANSWERED_ITSELF, "not delivered: the balancer answered this request itself")                   \
	X(L7LB_CLOSED_ITSELF, "not delivered: the balancer had already closed the connection itself")         \
	X(L7LB_FROM_TARGET_UNKNOWN, "a packet from a target that no backend connection of the balancer expects") \
	X(L7LB_FRAGMENT, "an IPv4 fragment that cannot be reassembled")                                       \
	X(L7LB_FRAGMENT_TO_CLIENT, "an IPv4 fragment to a client that cannot be reassembled: the response stream does not read it")

enum l7lb_drop {
	L7LB_DROP_BEFORE = DROP_STAGE_FIRST - 1,
	foreach_l7lb_drop(DROP_ENUM_ENTRY)
	L7LB_DROP_END
};

#endif
