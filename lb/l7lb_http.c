/* lb/l7lb_http.c: the HTTP an L7 balancer writes itself: the forwarded request head and its own responses (RFC 9110, RFC 9112 section 3 and 4; AWS "HTTP headers and Application Load Balancers").
 *
 * ALB adds X-Forwarded-For (the client's address, appended to what the client sent, by default),
 * X-Forwarded-Proto and X-Forwarded-Port (what the client connected to), and X-Amzn-Trace-Id
 * (a request id, "Root=1-{8 hex digits of the time}-{24 hex digits}", kept when the client sent
 * one).  Header names are matched case-insensitively (RFC 9110 section 5.1).
 */
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "lb/l7lb.h"

static bool name_is(const struct http1_header *h, const char *name)
{
	return http1_name_is(h->name, h->name_len, name);
}

static void put_header(GString *out, const char *name, size_t name_len, const char *value, size_t value_len)
{
	note_put(out, name, name_len);
	note_put(out, ": ", 2);
	note_put(out, value, value_len);
	note_put(out, "\r\n", 2);
}

void l7lb_forwarded_head(const struct l7lb *lb, const struct l7lb_conn *c, const struct http1_head *h,
                         const char *trace_id, GString *out)
{
	char client[16];
	bool have_trace = false, xff_done = false;

	g_string_truncate(out, 0);
	/* The request line exactly as the client sent it: everything before the first CRLF. */
	const uint8_t *eol = memchr(h->raw, '\n', h->raw_len);
	uint32_t line = eol ? (uint32_t)(eol - h->raw) + 1 : h->raw_len;
	note_put(out, (const char *)h->raw, line);
	ip4_to_str(c->client, client);

	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http1_header *hd = &h->headers[i];
		if (name_is(hd, "X-Forwarded-For")) {
			if (lb->xff == L7LB_XFF_REMOVE)
				continue;
			if (lb->xff == L7LB_XFF_APPEND && !xff_done) {
				g_string_append_len(out, hd->name, (gssize)hd->name_len);
				g_string_append_len(out, ": ", 2);
				g_string_append_len(out, hd->value, (gssize)hd->value_len);
				g_string_append_len(out, ", ", 2);
				g_string_append(out, client);
				g_string_append_len(out, "\r\n", 2);
				xff_done = true;
				continue;
			}
		} else if (name_is(hd, "X-Forwarded-Proto") || name_is(hd, "X-Forwarded-Port")) {
			continue; /* the balancer's own values replace the client's */
		} else if (name_is(hd, "X-Amzn-Trace-Id")) {
			have_trace = true;
		}
		put_header(out, hd->name, hd->name_len, hd->value, hd->value_len);
	}
	if (lb->xff == L7LB_XFF_APPEND && !xff_done)
		put_header(out, "X-Forwarded-For", 15, client, strlen(client));
	put_header(out, "X-Forwarded-Proto", 17, "http", 4);
	g_string_append_len(out, "X-Forwarded-Port: ", 18);
	note_append_uint(out, c->vport);
	g_string_append_len(out, "\r\n", 2);
	if (!have_trace)
		put_header(out, "X-Amzn-Trace-Id", 15, trace_id, strlen(trace_id));
	g_string_append_len(out, "\r\n", 2);
}

/* n hex digits of v, most significant first. */
static char *put_hex(char *p, uint64_t v, unsigned n)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = n; i-- > 0;)
		*p++ = digits[(v >> (4 * i)) & 15];
	return p;
}

void l7lb_trace_id(uint64_t seed, int64_t now_ns, uint64_t conn_id, unsigned request, char out[48])
{
	uint64_t a = l7lb_mix64(seed ^ l7lb_mix64(conn_id * 0x9e3779b97f4a7c15ull + request));
	uint64_t b = l7lb_mix64(a ^ 0x5851f42d4c957f2dull);
	char *p = out;
	memcpy(p, "Root=1-", 7);
	p = put_hex(p + 7, (uint64_t)(now_ns / 1000000000), 8); /* the epoch second, as ALB's */
	*p++ = '-';
	p = put_hex(p, a >> 32, 8);
	p = put_hex(p, b, 16);
	*p = '\0';
}

const char *l7lb_reason_phrase(unsigned code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return code < 300 ? "OK" : code < 400 ? "Redirect" : code < 500 ? "Client Error" : "Server Error";
	}
}

void l7lb_own_response(unsigned code, const char *content_type, const char *location, const char *body,
                       size_t body_len, bool close, GString *out)
{
	g_string_truncate(out, 0);
	g_string_append_printf(out, "HTTP/1.1 %u %s\r\nServer: awselb/2.0\r\n", code, l7lb_reason_phrase(code));
	if (location)
		g_string_append_printf(out, "Location: %s\r\n", location);
	if (content_type)
		g_string_append_printf(out, "Content-Type: %s\r\n", content_type);
	g_string_append_printf(out, "Content-Length: %zu\r\nConnection: %s\r\n\r\n", body_len,
	                       close ? "close" : "keep-alive");
	if (body_len)
		g_string_append_len(out, body, (gssize)body_len);
}
