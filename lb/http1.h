/* lb/http1.h: HTTP/1.1 message framing of one direction of a connection, fed in-order bytes in pieces of any size (types in lb/http1-t.h).
 *
 * RFC 9112: a head is read up to its blank line (section 2.1), bounded by the limits, split into
 * lines and classified (lb/desync.h); the body is framed by libhttp-parser 2.9 (section 6.3:
 * chunked, Content-Length, or the close of the connection for a response) and passed through.
 * Consumer calls for one message come in order: head, body (zero or more), end; or error.
 *
 * What http_parser sees of a head is what the framing depends on: the request line is given to
 * it as "METHOD / HTTP/x.y" (the target does not frame; a method it does not know is framed as
 * POST), and header lines that cannot be framing headers for an RFC parser are left out (a name
 * that is not a token, no colon, NUL or a lone CR), as are a Content-Length beside a
 * Transfer-Encoding (RFC 9112 6.3 item 3: TE overrides it) and repeats of one Content-Length
 * value (6.3 item 5).  The head callback then sees the framing decided; when http_parser still
 * refuses the head (different Content-Length values, a final coding other than chunked, a
 * malformed version), the head callback is called all the same, so the classification can be
 * logged, and the error follows at once.
 */
#ifndef NATLB_LB_HTTP1_H
#define NATLB_LB_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "lb/http1-t.h"

/* RFC 9110 5.6.2 tchar, the bytes of a token (a method, a header name); a table, because every
 * byte of every header name goes through it. */
extern const bool http1_tchar[256];

static inline bool http1_is_tchar(unsigned char b)
{
	return http1_tchar[b];
}

/* Is the header name (or token) p[0..n) equal to name, ASCII case ignored (RFC 9110 5.1)?  Names
 * are compared several times per request; g_ascii_strncasecmp() costs several times this loop
 * for "host" (callgrind, make bench's L7 capture). */
static inline unsigned char http1_ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static inline bool http1_name_is(const char *p, size_t n, const char *name)
{
	if (strlen(name) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (http1_ascii_lower((unsigned char)p[i]) != http1_ascii_lower((unsigned char)name[i]))
			return false;
	return true;
}

/* ALB's limits (HTTP1_ALB_*). */
struct http1_limits http1_limits_alb(void);

/* lim NULL: http1_limits_alb().  The consumer is copied; its ctx must outlive the stream. */
void http1_stream_init(struct http1_stream *s, enum http1_kind kind, const struct http1_limits *lim,
                       const struct http1_consumer *c);

/* The same for a connection picked up mid-stream: nothing is framed before the first line that
 * looks like a request line ("METHOD target HTTP/1.x", METHOD one http_parser knows) or a
 * status line ("HTTP/1.x DDD"); offsets start at 0. */
void http1_stream_init_midstream(struct http1_stream *s, enum http1_kind kind, const struct http1_limits *lim,
                                 const struct http1_consumer *c);

/* The n bytes at stream offset offset.  Bytes before the next one expected are ignored (a
 * retransmission); bytes after it imply a gap over what is missing. */
void http1_stream_feed(struct http1_stream *s, uint64_t offset, const uint8_t *b, uint32_t n);

/* n bytes at offset were lost: the message in progress cannot be completed (error GAP); framing
 * resumes at the next line that looks like the start of a message, as for mid-stream pickup. */
void http1_stream_gap(struct http1_stream *s, uint64_t offset, uint32_t n);

/* The peer's FIN at offset: ends a response delimited by close; inside any other message it is
 * error TRUNCATED.  Nothing is read after it. */
void http1_stream_eof(struct http1_stream *s, uint64_t offset);

/* Responses: the request each response answers, in order (to_head: it was HEAD, so its response
 * has no body whatever its headers say).  1xx responses do not use one up.  At most 64 are
 * remembered; a response with none is taken as an answer to a method other than HEAD. */
void http1_stream_expect_response(struct http1_stream *s, bool to_head);

/* From now on the bytes are not HTTP: pass them through as body (the balancer saw the other
 * direction switch: a 101 to an Upgrade request, a 2xx to CONNECT).  Call it before feeding the
 * bytes that follow the switch.  CONNECT requests and 101 responses switch by themselves. */
void http1_stream_tunnel(struct http1_stream *s);

/* From now on the stream's head buffers come from spares and go back there (NULL: allocated
 * and freed).  spares must outlive the stream. */
void http1_stream_share_spares(struct http1_stream *s, struct http1_spares *spares);

/* Free the spares' buffers; sp is empty after it. */
void http1_spares_clear(struct http1_spares *sp);

/* Give the head buffer back (to the spares, else freed) if no head is in progress: the balancer
 * calls it when a connection idles. */
void http1_stream_trim(struct http1_stream *s);

/* Free everything; the stream must be initialised again before use. */
void http1_stream_clear(struct http1_stream *s);

/* Bytes allocated for the head buffer now (tests: it never exceeds max_head). */
uint32_t http1_stream_buffer_size(const struct http1_stream *s);

/* After an error from http_parser, its own sentence (http_errno_description), else NULL. */
const char *http1_stream_parser_error(const struct http1_stream *s);

const char *http1_error_name(enum http1_error e); /* "LINE_TOO_LONG" */
const char *http1_error_text(enum http1_error e); /* the sentence */

#endif
