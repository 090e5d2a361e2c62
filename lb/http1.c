/* lb/http1.c: HTTP/1.1 framing of one direction of a connection: heads read and bounded here, bodies framed by libhttp-parser 2.9 (see http1.h).
 *
 * RFC 9112 2.1 (message = start-line, field lines, blank line, body), 2.2 (empty lines before a
 * request line are ignored; a bare LF ends a line), 5.2 (obs-fold), 6.3 (body length), 9.3
 * (persistence).  Every byte of a head goes through head_bytes(), which checks the limits
 * before anything is copied, so the buffer never exceeds max_head, and a line over max_line
 * is refused before it is stored.
 *
 * Bytes are read by index within spans found in the buffer itself (memchr between a line's start
 * and s->len), not through common/cursor.h: the head is our own copy with its length beside it,
 * and every span is derived from that length, never from a length field in the bytes.
 *
 * States: IDLE (between messages), HEAD (reading a head), BODY (http_parser has the body),
 * RESYNC (after a gap or mid-stream pickup: looking for a line that starts a message), TUNNEL
 * (after CONNECT or 101: bytes are passed through unframed), DONE (after an error or FIN).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "lb/http1.h"

enum { ST_IDLE, ST_HEAD, ST_BODY, ST_RESYNC, ST_TUNNEL, ST_DONE };

static const struct {
	const char *name, *text;
} errors[HTTP1_ERR_N] = {
#define X(name, text) [HTTP1_ERR_##name] = { #name, text },
	foreach_http1_error
#undef X
};

const char *http1_error_name(enum http1_error e)
{
	return (unsigned)e < HTTP1_ERR_N ? errors[e].name : "?";
}

const char *http1_error_text(enum http1_error e)
{
	return (unsigned)e < HTTP1_ERR_N ? errors[e].text : "?";
}

/* The methods http_parser 2.9 knows; a resync only trusts a request line that starts with one. */
static const char *const known_methods[] = {
#define XX(num, name, string) #string,
	HTTP_METHOD_MAP(XX)
#undef XX
};

struct http1_limits http1_limits_alb(void)
{
	return (struct http1_limits){ HTTP1_ALB_MAX_LINE, HTTP1_ALB_MAX_HEAD, HTTP1_ALB_MAX_HEADERS };
}

/* ---- small byte helpers ---- */

const bool http1_tchar[256] = {
	['0' ... '9'] = true, ['a' ... 'z'] = true, ['A' ... 'Z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true,
	['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true, ['^'] = true, ['_'] = true,
	['`'] = true, ['|'] = true, ['~'] = true,
};

static bool is_ws(uint8_t b)
{
	return b == ' ' || b == '\t';
}

static bool is_digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n && is_ws(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && is_ws((*p)[*n - 1]))
		(*n)--;
}

/* "HTTP/" DIGIT "." DIGIT, exactly (RFC 9112 2.3). */
static bool parse_version(const uint8_t *p, size_t n, unsigned *major, unsigned *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !is_digit(p[5]) || p[6] != '.' || !is_digit(p[7]))
		return false;
	*major = (unsigned)(p[5] - '0');
	*minor = (unsigned)(p[7] - '0');
	return true;
}

static int known_method(const uint8_t *p, size_t n)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(known_methods); i++)
		if (strlen(known_methods[i]) == n && memcmp(known_methods[i], p, n) == 0)
			return (int)i;
	return -1;
}

/* ---- buffer ---- */

static void release(struct http1_stream *s)
{
	struct http1_spares *sp = s->spares;
	if (sp && sp->n < HTTP1_SPARES_MAX && (s->buf || s->lines) && s->cap <= HTTP1_KEEP_BUFFER &&
	    s->line_cap <= HTTP1_KEEP_LINES) {
		sp->set[sp->n++] = (struct http1_spare){ s->buf, s->hdrs, s->lines, s->cap, s->line_cap };
	} else {
		g_free(s->buf);
		g_free(s->hdrs);
		g_free(s->lines);
	}
	s->buf = NULL;
	s->hdrs = NULL;
	s->lines = NULL;
	s->cap = s->len = 0;
	s->line_cap = 0;
}

/* A stream that holds no buffer takes a spare set, if there is one, before it allocates. */
static void take_spare(struct http1_stream *s)
{
	struct http1_spares *sp = s->spares;
	if (!sp || !sp->n || s->buf || s->lines)
		return;
	const struct http1_spare *b = &sp->set[--sp->n];
	s->buf = b->buf;
	s->hdrs = b->hdrs;
	s->lines = b->lines;
	s->cap = b->cap;
	s->line_cap = b->line_cap;
}

/* Room for need lines (and need headers); grown like the buffer, never beyond the limit. */
static void reserve_lines(struct http1_stream *s, unsigned need)
{
	if (need <= s->line_cap)
		return;
	take_spare(s);
	if (need <= s->line_cap)
		return;
	unsigned cap = s->line_cap ? s->line_cap : 16;
	while (cap < need)
		cap *= 2;
	s->hdrs = g_renew(struct http1_header, s->hdrs, cap);
	s->lines = g_renew(struct http1_line, s->lines, cap);
	s->line_cap = cap;
}

/* Room for need bytes; need <= max(max_head, max_line + 1) is checked by the callers. */
static void reserve(struct http1_stream *s, uint32_t need)
{
	if (need <= s->cap)
		return;
	take_spare(s);
	if (need <= s->cap)
		return;
	uint32_t limit = MAX(s->lim.max_head, s->lim.max_line + 1), cap = s->cap ? s->cap : 512;
	while (cap < need)
		cap = cap > limit / 2 ? limit : cap * 2;
	cap = MAX(MIN(cap, limit), need);
	s->buf = g_realloc(s->buf, cap);
	s->cap = cap;
}

/* ---- http_parser callbacks ---- */

static int on_headers_complete(http_parser *p)
{
	struct http1_stream *s = p->data;
	bool v11 = p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1);

	s->chunked = (p->flags & F_CHUNKED) != 0;
	s->has_cl = !s->chunked && p->content_length != ULLONG_MAX;
	s->content_length = s->has_cl ? p->content_length : 0;
	/* RFC 9112 9.3: close ends it; else 1.1 persists and 1.0 needs keep-alive */
	s->keep_alive = v11 ? !(p->flags & F_CONNECTION_CLOSE) : (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
	if (s->kind == HTTP1_RESPONSES && !s->no_body && !s->chunked && !s->has_cl)
		s->keep_alive = false; /* 6.3 item 8: the body runs to the close */
	if (s->kind == HTTP1_REQUESTS && p->method == HTTP_CONNECT)
		s->tunnel = true;
	s->headers_done = true;
	return s->no_body ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http1_stream *s = p->data;
	if (s->state == ST_HEAD) {
		/* http_parser saw the head end before we did (a lone CR ending its line): refuse */
		s->mismatch = true;
		return 1;
	}
	if (s->c.body && n)
		s->c.body(s->c.ctx, s->exec_off + (uint64_t)((const uint8_t *)at - s->exec_ptr), (const uint8_t *)at,
		          (uint32_t)n);
	return 0;
}

/* Pausing makes http_parser_execute return just past the message's last byte. */
static int on_message_complete(http_parser *p)
{
	struct http1_stream *s = p->data;
	s->msg_done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static size_t exec(struct http1_stream *s, uint64_t off, const uint8_t *b, size_t n)
{
	s->exec_ptr = b;
	s->exec_off = off;
	return http_parser_execute(&s->parser, &settings, (const char *)b, n);
}

static bool parser_failed(const struct http1_stream *s)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&s->parser);
	return e != HPE_OK && e != HPE_PAUSED;
}

static enum http1_error parser_error(struct http1_stream *s)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&s->parser);
	s->parser_errno = (uint8_t)e;
	switch (e) {
	case HPE_INVALID_CONTENT_LENGTH:
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return HTTP1_ERR_BAD_CONTENT_LENGTH;
	case HPE_INVALID_TRANSFER_ENCODING:
		return HTTP1_ERR_BAD_TRANSFER_ENCODING;
	case HPE_INVALID_CHUNK_SIZE:
		return HTTP1_ERR_BAD_CHUNK;
	default:
		return HTTP1_ERR_MALFORMED;
	}
}

/* ---- stream life ---- */

static void start(struct http1_stream *s, enum http1_kind kind, const struct http1_limits *lim,
                  const struct http1_consumer *c, int state)
{
	memset(s, 0, sizeof *s);
	s->kind = (uint8_t)kind;
	s->lim = lim ? *lim : http1_limits_alb();
	/* http_parser refuses heads over its own HTTP_MAX_HEADER_SIZE (80 KiB) */
	s->lim.max_head = MIN(MAX(s->lim.max_head, 64u), (uint32_t)HTTP_MAX_HEADER_SIZE);
	s->lim.max_line = MIN(MAX(s->lim.max_line, 16u), s->lim.max_head);
	s->lim.max_headers = MIN(MAX(s->lim.max_headers, 1u), s->lim.max_head / 2);
	if (c)
		s->c = *c;
	s->state = (uint8_t)state;
	s->line_ok = true;
}

void http1_stream_init(struct http1_stream *s, enum http1_kind kind, const struct http1_limits *lim,
                       const struct http1_consumer *c)
{
	start(s, kind, lim, c, ST_IDLE);
}

void http1_stream_init_midstream(struct http1_stream *s, enum http1_kind kind, const struct http1_limits *lim,
                                 const struct http1_consumer *c)
{
	start(s, kind, lim, c, ST_RESYNC);
}

static void fail(struct http1_stream *s, uint64_t off, enum http1_error e)
{
	s->state = ST_DONE;
	release(s);
	if (s->c.error)
		s->c.error(s->c.ctx, off, e);
}

static void finish_message(struct http1_stream *s, uint64_t end)
{
	s->len = 0;
	s->state = s->tunnel ? ST_TUNNEL : ST_IDLE;
	if (s->cap > HTTP1_KEEP_BUFFER || s->line_cap > HTTP1_KEEP_LINES)
		release(s);
	if (s->c.end)
		s->c.end(s->c.ctx, end);
}

/* ---- a complete head ---- */

/* The request-target's path, query and host (RFC 9112 3.2: origin-, absolute-, authority-form). */
static void split_target(struct http1_head *h, bool connect)
{
	const uint8_t *t = (const uint8_t *)h->target, *end = t + h->target_len, *p = t;

	if (!h->target_len)
		return;
	if (connect) { /* authority-form */
		h->host = (const char *)t;
		h->host_len = h->target_len;
		return;
	}
	if (*t != '/' && *t != '*') {
		const uint8_t *q = t;
		while (q < end && (g_ascii_isalnum(*q) || *q == '+' || *q == '-' || *q == '.'))
			q++;
		if (q + 3 <= end && q > t && memcmp(q, "://", 3) == 0) { /* absolute-form: the authority is the host */
			const uint8_t *a = q + 3, *ae = a;
			while (ae < end && *ae != '/' && *ae != '?')
				ae++;
			for (const uint8_t *at = a; at < ae; at++)
				if (*at == '@')
					a = at + 1;
			h->host = (const char *)a;
			h->host_len = (size_t)(ae - a);
			p = ae;
		}
	}
	const uint8_t *qm = p;
	while (qm < end && *qm != '?')
		qm++; /* not memchr: GCC's -Wstringop-overread cannot see that p <= end here */
	if (qm == end)
		qm = NULL;
	h->path = p < end && *p != '?' ? (const char *)p : NULL;
	h->path_len = (size_t)((qm ? qm : end) - p);
	if (qm) {
		h->query = (const char *)qm + 1;
		h->query_len = (size_t)(end - qm - 1);
	}
}

/* Host without its port: "[::1]:8080" -> "[::1]", "a.example:80" -> "a.example". */
static void strip_port(struct http1_head *h)
{
	const uint8_t *p = (const uint8_t *)h->host;
	size_t n = h->host_len;
	if (!p)
		return;
	trim(&p, &n);
	const uint8_t *close = n && p[0] == '[' ? memchr(p, ']', n) : NULL;
	const uint8_t *colon = memchr(close ? close : p, ':', n - (size_t)((close ? close : p) - p));
	h->host = (const char *)p;
	h->host_len = colon ? (size_t)(colon - p) : n;
}

/* The request line: method SP target SP version (RFC 9112 3).  The version is the last word;
 * trailing spaces stay with it, so the classification sees them. */
static bool parse_request_line(struct http1_head *h, const uint8_t *l, size_t n, struct desync_verdict *raw)
{
	const uint8_t *sp = memchr(l, ' ', n);
	if (!sp)
		return false;
	size_t vend = n;
	while (vend > 0 && l[vend - 1] == ' ')
		vend--;
	size_t vstart = vend;
	while (vstart > 0 && l[vstart - 1] != ' ')
		vstart--;
	size_t m = (size_t)(sp - l);
	if (vstart <= m + 1)
		return false; /* one word after the method: HTTP/0.9, which we do not frame */
	h->method = (const char *)l;
	h->method_len = m;
	h->target = (const char *)l + m + 1;
	h->target_len = vstart - 1 - (m + 1);
	if (!h->target_len)
		desync_upgrade(raw, DESYNC_MissingUri);
	return true;
}

static bool parse_status_line(struct http1_head *h, const uint8_t *l, size_t n)
{
	if (n < 12 || !parse_version(l, 8, &h->version_major, &h->version_minor) || l[8] != ' ' ||
	    !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || (n > 12 && l[12] != ' '))
		return false;
	h->status = (unsigned)(l[9] - '0') * 100 + (unsigned)(l[10] - '0') * 10 + (unsigned)(l[11] - '0');
	if (n > 13) {
		h->reason = (const char *)l + 13;
		h->reason_len = n - 13;
	}
	return true;
}

/* Split the head into lines and headers; mark which lines http_parser gets.  Returns the
 * number of header entries (one per header line). */
static unsigned split_head(struct http1_stream *s, struct http1_head *h, struct desync_verdict *raw,
                           unsigned *n_lines, bool *first_ok)
{
	const uint8_t *b = s->buf;
	uint32_t pos = 0, L = s->len;
	unsigned nl = 0, nh = 0;
	int parent = -1; /* header index of the last line that was not a continuation */

	while (pos < L) {
		const uint8_t *lf = memchr(b + pos, '\n', L - pos);
		uint32_t end = (uint32_t)(lf - b) + 1, ce = end - 1;
		if (ce > pos && b[ce - 1] == '\r')
			ce--;
		else if (s->kind == HTTP1_REQUESTS)
			desync_upgrade(raw, DESYNC_NonCrLfLineTermination);
		struct http1_line *line = &s->lines[nl++];
		*line = (struct http1_line){ pos, end, false };
		const uint8_t *l = b + pos;
		size_t n = ce - pos;

		if (nl == 1) {
			*first_ok = s->kind == HTTP1_REQUESTS ? parse_request_line(h, l, n, raw) : parse_status_line(h, l, n);
		} else if (n == 0) {
			break; /* the blank line */
		} else {
			struct http1_header *hd = &s->hdrs[nh];
			const uint8_t *colon = memchr(l, ':', n), *v;
			size_t vn;
			bool fold = is_ws(l[0]);
			bool content_type = parent >= 0 && http1_name_is(s->hdrs[parent].name,
			                                             s->hdrs[parent].name_len, "content-type");
			if (fold && parent >= 0 && (content_type || !colon)) {
				/* obs-fold (RFC 9112 5.2): more of the previous value */
				v = l;
				vn = n;
				trim(&v, &vn);
				*hd = (struct http1_header){ s->hdrs[parent].name, s->hdrs[parent].name_len, (const char *)v, vn };
				line->feed = s->lines[nl - 2].feed && nl >= 2;
				if (!content_type)
					desync_upgrade(raw, DESYNC_MultilineHeader);
			} else if (!colon) {
				*hd = (struct http1_header){ (const char *)l, n, (const char *)l + n, 0 };
				desync_upgrade(raw, fold ? DESYNC_MultilineHeader : DESYNC_MissingHeaderColon);
				if (!fold)
					parent = (int)nh;
			} else {
				/* a folded line that looks like a header (" Transfer-Encoding: chunked") is
				 * classified as one, under its own name; http_parser would fold it */
				v = colon + 1;
				vn = n - (size_t)(v - l);
				trim(&v, &vn);
				*hd = (struct http1_header){ (const char *)l, (size_t)(colon - l), (const char *)v, vn };
				if (fold) {
					desync_upgrade(raw, DESYNC_MultilineHeader);
					line->feed = parent >= 0 && s->lines[nl - 2].feed;
				} else {
					bool token = colon > l, clean = !memchr(l, 0, n) && !memchr(l, '\r', n);
					for (const uint8_t *q = l; q < colon; q++)
						token &= http1_is_tchar(*q);
					line->feed = token && clean;
					parent = (int)nh;
				}
			}
			nh++;
		}
		pos = end;
	}
	*n_lines = nl;
	return nh;
}

/* What the framing reads (RFC 9112 6.3 items 3 and 5): no Content-Length beside a
 * Transfer-Encoding, one Content-Length line per value.  Different values stay, for
 * http_parser to refuse.  Continuation lines follow their line. */
static void frame_view(struct http1_stream *s, unsigned n_lines)
{
	bool te = false, have_cl = false;
	uint64_t cl = 0;

	for (unsigned i = 1; i + 1 < n_lines; i++) {
		const struct http1_line *l = &s->lines[i];
		te |= l->feed && !is_ws(s->buf[l->start]) &&
		      http1_name_is(s->hdrs[i - 1].name, s->hdrs[i - 1].name_len, "transfer-encoding");
	}
	/* lines[1 .. n_lines-2] are the header lines, hdrs[0 ..] their entries; the last is blank */
	for (unsigned i = 1; i + 1 < n_lines; i++) {
		struct http1_line *l = &s->lines[i];
		const struct http1_header *h = &s->hdrs[i - 1];
		if (!l->feed || is_ws(s->buf[l->start]) ||
		    !http1_name_is(h->name, h->name_len, "content-length"))
			continue;
		uint64_t v = 0;
		bool num = h->value_len > 0 && h->value_len <= 19;
		for (size_t k = 0; num && k < h->value_len; k++) {
			num = is_digit((uint8_t)h->value[k]);
			v = v * 10 + (uint64_t)(h->value[k] - '0');
		}
		if (te || (num && have_cl && v == cl)) {
			l->feed = false;
			for (unsigned j = i + 1; j + 1 < n_lines && is_ws(s->buf[s->lines[j].start]); j++)
				s->lines[j].feed = false;
		} else if (num && !have_cl) {
			have_cl = true;
			cl = v;
		}
	}
}

/* The request's fields and its classification; false when the version cannot be framed. */
static bool request_fields(struct http1_stream *s, struct http1_head *h, struct desync_verdict raw)
{
	size_t lend = s->lines[0].end - 1;
	if (lend > 0 && s->buf[lend - 1] == '\r')
		lend--;
	const uint8_t *ver = (const uint8_t *)h->target + h->target_len + 1, *vt = ver;
	size_t ver_len = (size_t)(s->buf + lend - ver), vn = ver_len;
	trim(&vt, &vn);
	bool version_ok = parse_version(vt, vn, &h->version_major, &h->version_minor);

	h->desync = desync_merge(raw, desync_classify_request(h->method, h->method_len, h->target, h->target_len,
	                                                      (const char *)ver, ver_len, h->headers, h->n_headers));
	split_target(h, h->method_len == 7 && memcmp(h->method, "CONNECT", 7) == 0);
	for (unsigned i = 0; !h->host && i < h->n_headers; i++)
		if (http1_name_is(h->headers[i].name, h->headers[i].name_len, "host")) {
			h->host = h->headers[i].value;
			h->host_len = h->headers[i].value_len;
		}
	strip_port(h);
	return version_ok;
}

/* Which request this response answers decides whether it has a body (RFC 9112 6.3 item 1). */
static void response_fields(struct http1_stream *s, const struct http1_head *h)
{
	s->no_body = (s->expect_n && (s->expect_head & 1)) || h->status / 100 == 1 || h->status == 204 ||
	             h->status == 304;
	s->tunnel = h->status == 101;
	if (h->status >= 200 && s->expect_n) { /* 1xx are interim: the request still waits */
		s->expect_head >>= 1;
		s->expect_n--;
	}
}

/* Hand http_parser what frames the message (see http1.h); true when it read the head as we did. */
static bool frame_head(struct http1_stream *s, const struct http1_head *h, unsigned n_lines)
{
	http_parser_init(&s->parser, s->kind == HTTP1_REQUESTS ? HTTP_REQUEST : HTTP_RESPONSE);
	s->parser.data = s;
	s->parser.allow_chunked_length = 1;
	s->parser.lenient_http_headers = 1; /* control bytes in values are the classification's business */
	s->msg_done = s->headers_done = s->mismatch = false;
	frame_view(s, n_lines);
	if (s->kind == HTTP1_REQUESTS) {
		/* Built by hand: once per request, where snprintf cost more than the framing. */
		char line[64];
		int m = known_method((const uint8_t *)h->method, h->method_len);
		const char *method = m >= 0 ? known_methods[m] : "POST";
		const char *target = m == HTTP_CONNECT ? " authority:1 HTTP/" : " / HTTP/";
		size_t k = strlen(method), t = strlen(target);
		memcpy(line, method, k);
		memcpy(line + k, target, t);
		k += t;
		line[k++] = (char)('0' + h->version_major % 10);
		line[k++] = '.';
		line[k++] = (char)('0' + h->version_minor % 10);
		line[k++] = '\r';
		line[k++] = '\n';
		exec(s, h->start, (const uint8_t *)line, k);
	} else {
		exec(s, h->start, s->buf, s->lines[0].end);
	}
	for (unsigned i = 1; i < n_lines && !parser_failed(s) && !s->mismatch; i++) {
		if (!s->lines[i].feed && i != n_lines - 1)
			continue;
		s->mismatch = s->headers_done; /* it must end with our blank line, not before */
		if (!s->mismatch)
			exec(s, h->start + s->lines[i].start, s->buf + s->lines[i].start, s->lines[i].end - s->lines[i].start);
	}
	return !s->mismatch && !parser_failed(s) && s->headers_done;
}

static void complete_head(struct http1_stream *s)
{
	struct http1_head h = { .start = s->msg_start, .head_end = s->msg_start + s->len, .raw = s->buf,
	                        .raw_len = s->len };
	struct desync_verdict raw = { DESYNC_COMPLIANT, DESYNC_Compliant };
	unsigned n_lines = 0;
	bool first_ok = false, frameable = false;

	reserve_lines(s, s->n_lines + 1); /* the lines so far and the blank one */
	h.n_headers = split_head(s, &h, &raw, &n_lines, &first_ok);
	h.headers = s->hdrs;
	s->no_body = s->tunnel = s->keep_alive = s->chunked = s->has_cl = false;
	s->content_length = 0;
	s->parser_errno = 0;
	if (s->kind == HTTP1_REQUESTS && first_ok) {
		frameable = request_fields(s, &h, raw);
	} else if (s->kind == HTTP1_REQUESTS) {
		desync_upgrade(&h.desync, DESYNC_NonCompliantVersion); /* no version: HTTP/0.9, not framed */
	} else if (first_ok) {
		response_fields(s, &h);
		frameable = true;
	}

	bool framed = frameable && frame_head(s, &h, n_lines);
	/* RFC 9112 6.3 item 4: a request whose final coding is not chunked cannot be framed (the
	 * lenient parser would read it to the close, as for a response) */
	bool bad_te = framed && s->kind == HTTP1_REQUESTS && s->parser.uses_transfer_encoding && !s->chunked;
	h.keep_alive = s->keep_alive;
	h.chunked = s->chunked;
	h.has_content_length = s->has_cl;
	h.content_length = s->content_length;
	h.no_body = s->no_body;
	h.tunnel = s->tunnel;

	if (s->c.head)
		s->c.head(s->c.ctx, &h);
	if (!framed || bad_te) {
		bool parser_said = frameable && !s->mismatch && parser_failed(s);
		fail(s, h.start, bad_te ? HTTP1_ERR_BAD_TRANSFER_ENCODING : parser_said ? parser_error(s) : HTTP1_ERR_MALFORMED);
		return;
	}
	if (s->msg_done)
		finish_message(s, h.head_end);
	else
		s->state = ST_BODY;
}

/* ---- bytes, by state ---- */

static uint32_t idle_bytes(struct http1_stream *s, const uint8_t *b, uint32_t n)
{
	uint32_t k = 0;
	while (k < n && (b[k] == '\r' || b[k] == '\n'))
		k++; /* RFC 9112 2.2: empty lines before a message are ignored */
	if (k < n) {
		s->state = ST_HEAD;
		s->msg_start = s->next + k;
		s->len = s->line_start = 0;
		s->n_lines = 0;
		s->method_done = false;
	}
	return k;
}

/* The first line must start like one: a token then SP (request), "HTTP/" (response); this is
 * what turns TLS on port 80 into an error at its first byte instead of 16 KiB later. */
static bool first_line_ok(struct http1_stream *s, const uint8_t *b, uint32_t n, bool ends)
{
	for (uint32_t j = 0; j < n; j++) {
		uint32_t pos = s->len + j;
		if (s->kind == HTTP1_RESPONSES) {
			if (pos < 5 && b[j] != (uint8_t)"HTTP/"[pos])
				return false;
		} else if (!s->method_done) {
			if (b[j] == ' ' && pos > 0)
				s->method_done = true;
			else if (!http1_is_tchar(b[j]))
				return false;
		}
	}
	if (ends)
		return s->kind == HTTP1_RESPONSES ? s->len + n > 5 : s->method_done;
	return true;
}

static uint32_t head_bytes(struct http1_stream *s, const uint8_t *b, uint32_t n)
{
	const uint8_t *lf = memchr(b, '\n', n);
	uint32_t take = lf ? (uint32_t)(lf - b) + 1 : n, body = take - (lf ? 1 : 0);

	if (s->len - s->line_start + body > s->lim.max_line) {
		fail(s, s->msg_start + s->line_start + s->lim.max_line, HTTP1_ERR_LINE_TOO_LONG);
		return n;
	}
	if (s->len + take > s->lim.max_head) {
		fail(s, s->msg_start + s->lim.max_head, HTTP1_ERR_HEAD_TOO_LARGE);
		return n;
	}
	if (s->n_lines == 0 && !first_line_ok(s, b, body, lf != NULL)) {
		fail(s, s->msg_start, HTTP1_ERR_MALFORMED);
		return n;
	}
	reserve(s, s->len + take);
	memcpy(s->buf + s->len, b, take);
	s->len += take;
	if (!lf)
		return take;

	uint32_t line_len = s->len - 1 - s->line_start;
	bool empty = line_len == 0 || (line_len == 1 && s->buf[s->len - 2] == '\r');
	if (s->n_lines > 0 && empty) {
		complete_head(s);
		return take;
	}
	if (++s->n_lines - 1 > s->lim.max_headers) {
		fail(s, s->msg_start + s->len, HTTP1_ERR_TOO_MANY_HEADERS);
		return n;
	}
	s->line_start = s->len;
	return take;
}

static uint32_t body_bytes(struct http1_stream *s, const uint8_t *b, uint32_t n)
{
	size_t k = exec(s, s->next, b, n);
	if (s->msg_done) {
		finish_message(s, s->next + k);
		return (uint32_t)k;
	}
	if (parser_failed(s) || k == 0) {
		fail(s, s->next + k, parser_failed(s) ? parser_error(s) : HTTP1_ERR_MALFORMED);
		return n;
	}
	return (uint32_t)k;
}

/* Does buf[0..len) (a whole line, LF included) look like the start of a message? */
static bool starts_message(const struct http1_stream *s)
{
	const uint8_t *l = s->buf;
	size_t n = s->len - 1;
	unsigned major, minor;

	if (n > 0 && l[n - 1] == '\r')
		n--;
	if (s->kind == HTTP1_RESPONSES)
		return n >= 12 && parse_version(l, 8, &major, &minor) && major == 1 && l[8] == ' ' &&
		       is_digit(l[9]) && is_digit(l[10]) && is_digit(l[11]) && (n == 12 || l[12] == ' ');
	const uint8_t *sp = memchr(l, ' ', n);
	return sp && known_method(l, (size_t)(sp - l)) >= 0 && n >= (size_t)(sp - l) + 11 &&
	       l[n - 9] == ' ' && parse_version(l + n - 8, 8, &major, &minor) && major == 1;
}

static uint32_t resync_bytes(struct http1_stream *s, const uint8_t *b, uint32_t n)
{
	const uint8_t *lf = memchr(b, '\n', n);
	uint32_t take = lf ? (uint32_t)(lf - b) + 1 : n;

	if (!s->line_ok) { /* inside a line: wait for its end */
		s->line_ok = lf != NULL;
		s->len = 0;
		return take;
	}
	if (s->len == 0)
		s->msg_start = s->next;
	if (s->len + take > s->lim.max_line + 1) { /* too long for a start line */
		s->len = 0;
		s->line_ok = lf != NULL;
		return take;
	}
	reserve(s, s->len + take);
	memcpy(s->buf + s->len, b, take);
	s->len += take;
	if (!lf)
		return take;
	if (starts_message(s)) {
		s->state = ST_HEAD;
		s->n_lines = 1;
		s->line_start = s->len;
		s->method_done = true;
	} else {
		s->len = 0;
	}
	return take;
}

static void run(struct http1_stream *s, const uint8_t *b, uint32_t n)
{
	uint32_t i = 0;
	while (i < n && s->state != ST_DONE) {
		uint32_t used = 0;
		switch (s->state) {
		case ST_IDLE:
			used = idle_bytes(s, b + i, n - i);
			break;
		case ST_HEAD:
			used = head_bytes(s, b + i, n - i);
			break;
		case ST_BODY:
			used = body_bytes(s, b + i, n - i);
			break;
		case ST_RESYNC:
			used = resync_bytes(s, b + i, n - i);
			break;
		case ST_TUNNEL:
			if (s->c.body)
				s->c.body(s->c.ctx, s->next, b + i, n - i);
			used = n - i;
			break;
		}
		i += used;
		s->next += used;
	}
}

static void lose(struct http1_stream *s, uint64_t len)
{
	if (s->state == ST_HEAD || s->state == ST_BODY) {
		if (s->c.error)
			s->c.error(s->c.ctx, s->next, HTTP1_ERR_GAP);
	}
	if (s->state == ST_IDLE || s->state == ST_HEAD || s->state == ST_BODY || s->state == ST_RESYNC) {
		s->state = ST_RESYNC;
		s->len = 0;
		s->line_ok = true; /* the byte after a gap may start a line */
		s->expect_n = 0;   /* responses: which were lost is unknown */
		s->expect_head = 0;
	}
	s->next += len;
}

void http1_stream_feed(struct http1_stream *s, uint64_t offset, const uint8_t *b, uint32_t n)
{
	if (s->state == ST_DONE || !b || offset + n <= s->next)
		return;
	if (offset > s->next)
		lose(s, offset - s->next);
	uint64_t skip = s->next - offset;
	run(s, b + skip, (uint32_t)(n - skip));
}

void http1_stream_gap(struct http1_stream *s, uint64_t offset, uint32_t n)
{
	if (s->state == ST_DONE || offset + n <= s->next)
		return;
	lose(s, offset + n - s->next);
}

void http1_stream_eof(struct http1_stream *s, uint64_t offset)
{
	if (s->state == ST_DONE)
		return;
	if (offset > s->next)
		lose(s, offset - s->next);
	if (s->state == ST_BODY) {
		exec(s, s->next, NULL, 0);
		if (s->msg_done)
			finish_message(s, s->next); /* RFC 9112 6.3 item 8: delimited by the close */
		else {
			fail(s, s->next, HTTP1_ERR_TRUNCATED);
			return;
		}
	} else if (s->state == ST_HEAD) {
		fail(s, s->next, HTTP1_ERR_TRUNCATED);
		return;
	}
	s->state = ST_DONE;
	release(s);
}

void http1_stream_expect_response(struct http1_stream *s, bool to_head)
{
	if (s->expect_n >= 64)
		return;
	s->expect_head |= (uint64_t)to_head << s->expect_n;
	s->expect_n++;
}

void http1_stream_tunnel(struct http1_stream *s)
{
	if (s->state == ST_DONE)
		return;
	s->state = ST_TUNNEL;
	release(s);
}

void http1_stream_share_spares(struct http1_stream *s, struct http1_spares *spares)
{
	s->spares = spares;
}

void http1_spares_clear(struct http1_spares *sp)
{
	for (unsigned i = 0; i < sp->n; i++) {
		g_free(sp->set[i].buf);
		g_free(sp->set[i].hdrs);
		g_free(sp->set[i].lines);
	}
	sp->n = 0;
}

void http1_stream_trim(struct http1_stream *s)
{
	if (s->len == 0 && s->state != ST_HEAD)
		release(s);
}

void http1_stream_clear(struct http1_stream *s)
{
	release(s);
	s->state = ST_DONE;
}

uint32_t http1_stream_buffer_size(const struct http1_stream *s)
{
	return s->cap;
}

const char *http1_stream_parser_error(const struct http1_stream *s)
{
	return s->parser_errno ? http_errno_description((enum http_errno)s->parser_errno) : NULL;
}
