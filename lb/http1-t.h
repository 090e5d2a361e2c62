/* lb/http1-t.h: the types of HTTP/1.1 message framing over one direction of a TCP connection (types only; functions in lb/http1.h).
 *
 * RFC 9112 sections 2-7 (message format, request line, status line, fields, body length 6.3,
 * chunked coding 7.1) and 9.3 (persistence).  Limits follow AWS "Quotas for your Application
 * Load Balancers": request line 16 KiB, a single header 16 KiB, the whole head 64 KiB.  ALB
 * documents no count of headers; HTTP1_ALB_MAX_HEADERS (100) is our choice.
 *
 * Invariants: the head buffer holds only the head in progress (the body is passed through, never
 * buffered) and never grows beyond max_head; a stream that reported an error reads nothing more.
 */
#ifndef NATLB_LB_HTTP1_T_H
#define NATLB_LB_HTTP1_T_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lb/desync.h"

#define HTTP1_ALB_MAX_LINE    16384u /* request line, status line, each header line (CRLF not counted) */
#define HTTP1_ALB_MAX_HEAD    65536u /* every byte of the head, blank line included */
#define HTTP1_ALB_MAX_HEADERS 100u   /* not documented by AWS: our choice */

/* A head buffer at most this big is kept between messages (no allocation per message on a
 * keep-alive connection); a bigger one, grown for one large head, is freed when it ends. */
#define HTTP1_KEEP_BUFFER 4096u
#define HTTP1_KEEP_LINES  32u /* the same for the line and header arrays (44 bytes a line) */

enum http1_kind { HTTP1_REQUESTS, HTTP1_RESPONSES };

struct http1_limits {
	uint32_t max_line;    /* bytes of one line before its LF */
	uint32_t max_head;    /* bytes of the whole head */
	unsigned max_headers; /* header lines, continuation lines included */
};

/* Why a stream stopped (every error but GAP is final: the balancer answers 400 and closes). */
#define foreach_http1_error                                                                   \
	X(MALFORMED, "malformed message head")                                                  \
	X(LINE_TOO_LONG, "request line or header line longer than the limit")                 \
	X(HEAD_TOO_LARGE, "message head larger than the limit")                                 \
	X(TOO_MANY_HEADERS, "more header lines than the limit")                                  \
	X(BAD_CONTENT_LENGTH, "invalid or conflicting Content-Length")                          \
	X(BAD_TRANSFER_ENCODING, "Transfer-Encoding whose final coding is not chunked")        \
	X(BAD_CHUNK, "malformed chunked body")                                                    \
	X(TRUNCATED, "the stream ended inside a message")                                         \
	X(GAP, "bytes were lost inside a message (the stream resynchronises)")

enum http1_error {
#define X(name, text) HTTP1_ERR_##name,
	foreach_http1_error
#undef X
	HTTP1_ERR_N
};

/* One header line as received: name as it stands before the colon (untrimmed), value without
 * the OWS around it.  Not NUL-terminated; points into the stream's head buffer. */
struct http1_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* A message head, handed to the consumer once complete.  Strings point into the stream's head
 * buffer, valid until the callback returns, not NUL-terminated; an absent one is NULL/0. */
struct http1_head {
	uint64_t start;    /* stream offset of the message's first byte */
	uint64_t head_end; /* stream offset just past the blank line */
	const uint8_t *raw;
	uint32_t raw_len;  /* head_end - start */

	const char *method;      /* requests */
	size_t method_len;
	const char *target;      /* the request-target as received */
	size_t target_len;
	const char *path;        /* origin-form: target up to '?'; absolute-form: from the first '/' */
	size_t path_len;
	const char *query;       /* after '?', without it */
	size_t query_len;
	const char *host;        /* the target's authority (absolute-form) or the Host header, without port */
	size_t host_len;
	unsigned version_major, version_minor;
	unsigned status;         /* responses */
	const char *reason;
	size_t reason_len;

	const struct http1_header *headers;
	unsigned n_headers;

	/* Framing as decided (RFC 9112 6.3): chunked wins over Content-Length, which is then not
	 * reported; a response delimited by the connection's close has neither. */
	bool keep_alive;         /* RFC 9112 9.3: HTTP/1.0 needs Connection: keep-alive; close wins */
	bool chunked;
	bool has_content_length;
	uint64_t content_length;
	bool no_body;            /* a response to HEAD, 1xx, 204, 304 */
	bool tunnel;             /* CONNECT or 101: what follows the message is not HTTP */
	struct desync_verdict desync; /* requests; a response is Compliant */
};

/* What the stream tells its owner, in stream order: head, body..., end; or error. */
struct http1_consumer {
	void (*head)(void *ctx, const struct http1_head *h);
	void (*body)(void *ctx, uint64_t offset, const uint8_t *b, uint32_t n); /* optional; decoded chunk data */
	void (*end)(void *ctx, uint64_t msg_end); /* stream offset just past the message */
	void (*error)(void *ctx, uint64_t offset, enum http1_error e);
	void *ctx;
};

/* Line bookkeeping for the head in progress (internal to lb/http1.c). */
struct http1_line {
	uint32_t start, end; /* buffer offsets of the line's first byte and just past its LF */
	bool feed;           /* handed to http_parser (false: not part of the framing) */
};

/* Head buffers that idle streams gave back (http1_stream_trim), for the next head to begin in.
 * A balancer's connections take turns: the few that are inside a head at any moment share a few
 * buffers, so a connection that idles between its requests allocates nothing for the next one.
 * Only buffers of the kept sizes (HTTP1_KEEP_*) come here; beyond HTTP1_SPARES_MAX they are freed. */
#define HTTP1_SPARES_MAX 256u

struct http1_spare {
	uint8_t *buf;
	struct http1_header *hdrs;
	struct http1_line *lines;
	uint32_t cap, line_cap;
};

struct http1_spares {
	struct http1_spare set[HTTP1_SPARES_MAX];
	unsigned n;
};

/* One direction of one connection.  sizeof is 208 bytes on x86-64, and that is all an idle
 * stream holds after http1_stream_trim().  The head buffer and the line arrays are taken (from
 * the spares, else allocated) when a head starts, grown as it does, and kept between the
 * messages of a busy connection when small (HTTP1_KEEP_BUFFER, HTTP1_KEEP_LINES), so a
 * keep-alive connection allocates nothing per message; the balancer calls http1_stream_trim()
 * when a connection idles. */
struct http1_stream {
	http_parser parser;        /* frames the body: Content-Length, chunked, close */
	struct http1_consumer c;
	struct http1_limits lim;
	uint8_t *buf;              /* the head in progress */
	struct http1_header *hdrs; /* line_cap entries */
	struct http1_line *lines;  /* line_cap entries */
	struct http1_spares *spares; /* where they go back when the stream idles, or NULL */
	uint64_t next;             /* stream offset of the next byte expected */
	uint64_t msg_start;        /* stream offset of buf[0] */
	const uint8_t *exec_ptr;   /* during http_parser_execute: the bytes given, and their offset */
	uint64_t exec_off;
	uint64_t expect_head;      /* responses: bit i set when the i-th awaited response answers HEAD */
	uint32_t len, cap;         /* bytes in buf, allocated */
	uint32_t line_start;       /* buffer offset of the line being read */
	uint32_t line_cap;         /* entries allocated in hdrs and lines */
	unsigned n_lines;          /* complete lines of the head so far */
	uint8_t expect_n;          /* responses awaited (at most 64 remembered) */
	uint8_t state;             /* enum in lb/http1.c */
	uint8_t kind;              /* enum http1_kind */
	bool method_done;          /* the request line's first SP was seen */
	bool line_ok;              /* resync: the bytes in buf began at a line start */
	bool msg_done;             /* set by http_parser's on_message_complete */
	bool headers_done;         /* set by its on_headers_complete */
	bool mismatch;             /* http_parser's head ended elsewhere than ours */
	bool no_body, tunnel, keep_alive; /* of the message being framed */
	bool chunked, has_cl;
	uint8_t parser_errno;      /* enum http_errno of the last parser failure */
	uint64_t content_length;
};

#endif
