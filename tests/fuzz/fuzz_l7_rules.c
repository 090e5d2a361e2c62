/* tests/fuzz/fuzz_l7_rules.c: libFuzzer harness for the L7 listener rules: any rule text parses or fails with one error, any request is matched without a crash, a leak or a read past it (lb/l7_rules.c; AWS ALB "Condition types for listener rules").
 *
 * The input is split at its first NUL or newline: before it a rule value (tried as rule.1, as the
 * default, and as a key for l7_rule_parse_priority), after it a request, one line each:
 *   GET host[:port] /path?query
 *   Name: value          (up to 8 headers)
 *   @10.1.2.3            (the source address; else 192.0.2.1)
 * The request's strings are copied into a buffer of exactly their length, without a NUL, as the
 * HTTP parser hands them over.  Besides not crashing, the harness checks what it can know on its
 * own: the trace walks to the same rule as the plain match, a rule of one host, path or method
 * condition matches exactly when l7_wildcard_match says one of its values does, and a weighted
 * pick never lands on a group of weight 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lb/l7_rules.h"

#define MAX_HEADERS 8

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/* Splits the request text (in buf, exactly len bytes) into req; strings point into buf. */
static void request_parse(const char *buf, size_t len, struct l7_request *req, struct l7_header *h)
{
	const char *p = buf, *end = buf + len, *eol = line_end(p, end);
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));

	memset(req, 0, sizeof *req);
	req->source_ip = 0xc0000201u;
	req->port = 80;
	req->headers = h;
	req->method = p;
	req->method_len = sp1 ? (size_t)(sp1 - p) : (size_t)(eol - p);
	if (sp1) {
		const char *host = sp1 + 1, *sp2 = memchr(host, ' ', (size_t)(eol - host));
		const char *hend = sp2 ? sp2 : eol, *colon = memchr(host, ':', (size_t)(hend - host));
		req->host = host;
		req->host_len = (size_t)((colon ? colon : hend) - host);
		if (colon) {
			unsigned port = 0;
			for (const char *d = colon + 1; d < hend && *d >= '0' && *d <= '9' && port < 65536; d++)
				port = port * 10 + (unsigned)(*d - '0');
			req->port = (uint16_t)port;
		}
		if (sp2) {
			const char *target = sp2 + 1, *q = memchr(target, '?', (size_t)(eol - target));
			req->path = target;
			req->path_len = (size_t)((q ? q : eol) - target);
			if (q) {
				req->query = q + 1;
				req->query_len = (size_t)(eol - q - 1);
			}
		}
	}
	for (p = eol < end ? eol + 1 : end; p < end; p = eol < end ? eol + 1 : end) {
		eol = line_end(p, end);
		if (*p == '@') {
			char ip[20];
			size_t n = (size_t)(eol - p - 1);
			if (n < sizeof ip) {
				memcpy(ip, p + 1, n);
				ip[n] = '\0';
				ip4_parse(ip, &req->source_ip);
			}
			continue;
		}
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || req->n_headers == MAX_HEADERS)
			continue;
		const char *v = colon + 1;
		while (v < eol && *v == ' ')
			v++;
		h[req->n_headers++] = (struct l7_header){ p, (size_t)(colon - p), v, (size_t)(eol - v) };
	}
}

static const char *subject_of(const struct l7_request *req, enum l7_condition_kind kind, size_t *len)
{
	switch (kind) {
	case L7_COND_HOST_HEADER:
		*len = req->host_len;
		return req->host;
	case L7_COND_PATH_PATTERN:
		*len = req->path_len;
		return req->path;
	case L7_COND_HTTP_REQUEST_METHOD:
		*len = req->method_len;
		return req->method;
	default:
		return NULL;
	}
}

static void check_error(gboolean ok, GError *err)
{
	if (ok != (err == NULL))
		abort(); /* success with an error, or failure without one */
	if (err && (err->domain != G_KEY_FILE_ERROR || err->code != G_KEY_FILE_ERROR_INVALID_VALUE ||
	            !err->message[0] || strlen(err->message) > 600))
		abort(); /* errors quote at most 80 characters of the text, so they stay short */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *cut = memchr(data, '\n', size), *nul = memchr(data, '\0', size);
	if (!cut || (nul && nul < cut))
		cut = nul;
	size_t rule_len = cut ? (size_t)(cut - data) : size;
	char *text = g_strndup((const char *)data, rule_len); /* stops at a NUL too: scenario values do */
	size_t req_len = cut ? size - rule_len - 1 : 0;
	char *buf = malloc(req_len ? req_len : 1);
	memcpy(buf, cut ? cut + 1 : data, req_len);

	struct l7_rules rs;
	GError *err = NULL;
	unsigned prio;
	l7_rules_init(&rs);
	check_error(l7_rule_parse_priority(text, &prio, &err), err);
	if (!err && (prio < 1 || prio > 50000))
		abort();
	g_clear_error(&err);
	check_error(l7_rules_add(&rs, 1, text, &err), err);
	g_clear_error(&err);
	check_error(l7_rules_set_default(&rs, text, &err), err);
	if (err) {
		g_clear_error(&err);
		if (!l7_rules_set_default(&rs, "fixed-response 404", &err))
			abort();
	}

	struct l7_request req;
	struct l7_header headers[MAX_HEADERS];
	request_parse(buf, req_len, &req, headers);

	unsigned evaluated = 99, traced = 99;
	const struct l7_rule *r = l7_rules_match(&rs, &req, &evaluated, NULL);
	GString *trace = g_string_new(NULL);
	if (l7_rules_match(&rs, &req, &traced, trace) != r || traced != evaluated || evaluated > rs.n)
		abort();
	g_string_free(trace, TRUE);

	/* The fast path (lengths, literal head and tail) must agree with the plain wildcard walk. */
	if (rs.n == 1 && rs.rules[0].n_conditions == 1) {
		const struct l7_condition *c = &rs.rules[0].conditions[0];
		size_t len = 0;
		const char *s = subject_of(&req, c->kind, &len);
		if (s || c->kind == L7_COND_HOST_HEADER || c->kind == L7_COND_PATH_PATTERN ||
		    c->kind == L7_COND_HTTP_REQUEST_METHOD) {
			bool want = false;
			for (unsigned v = 0; v < c->n_values; v++)
				want |= l7_wildcard_match(c->values[v].text, strlen(c->values[v].text), s, len,
				                          c->kind == L7_COND_HOST_HEADER);
			if (want != (r != NULL))
				abort();
		}
	}

	const struct l7_action *a = l7_rules_action(&rs, r);
	if (!a)
		abort();
	if (a->kind == L7_ACTION_FORWARD) {
		for (uint64_t h = 0; h < 64; h++) {
			unsigned g = l7_forward_pick(a, h * 0x9e3779b97f4a7c15ull + rule_len);
			if (g >= a->forward.n_groups || a->forward.groups[g].weight == 0)
				abort();
		}
	} else if (a->kind == L7_ACTION_REDIRECT) {
		GString *out = g_string_new(NULL);
		l7_redirect_expand(a, &req, "https", out);
		g_string_free(out, TRUE);
	}

	/* The matcher on its own, with the rule text as the pattern: "*a*a*a*a*b" and the like. */
	l7_wildcard_match(text, strlen(text), buf, req_len, false);
	l7_wildcard_match(text, strlen(text), buf, req_len, true);
	if (!strpbrk(text, "*?\\") && l7_wildcard_match(text, strlen(text), buf, req_len, false) !=
	                                 (strlen(text) == req_len && memcmp(text, buf, req_len) == 0))
		abort(); /* without wildcards a pattern is the text itself */

	l7_rules_clear(&rs);
	free(buf);
	g_free(text);
	return 0;
}
