/* tests/test_l7_rules.c: the L7 balancer's listener rules: wildcards, conditions, priorities, actions, errors and the trace (lb/l7_rules.c; AWS ALB "Condition types for listener rules").
 *
 * Every request string is copied into a buffer of exactly its length, without a NUL, as the HTTP
 * parser hands them over, so that ASan sees a read past one.
 */
#include <string.h>
#include <time.h>

#include "lb/l7_rules.h"

/* --- helpers -------------------------------------------------------------------------------- */

#define MAX_HEADERS 4

struct req_spec {
	const char *method, *host, *path, *query, *source;
	const char *headers[MAX_HEADERS][2]; /* name, value */
	uint16_t port;
};

struct built_req {
	struct l7_request r;
	struct l7_header h[MAX_HEADERS];
	GPtrArray *bufs;
};

/* Exactly len bytes, no NUL after them. */
static const char *exact(struct built_req *b, const char *s, size_t *len)
{
	*len = s ? strlen(s) : 0;
	char *p = g_malloc(*len ? *len : 1);
	memcpy(p, s ? s : "", *len);
	g_ptr_array_add(b->bufs, p);
	return p;
}

static void req_build(struct built_req *b, const struct req_spec *s)
{
	memset(b, 0, sizeof *b);
	b->bufs = g_ptr_array_new_with_free_func(g_free);
	b->r.method = exact(b, s->method ? s->method : "GET", &b->r.method_len);
	b->r.host = exact(b, s->host, &b->r.host_len);
	b->r.path = exact(b, s->path ? s->path : "/", &b->r.path_len);
	b->r.query = exact(b, s->query, &b->r.query_len);
	b->r.port = s->port ? s->port : 80;
	for (unsigned i = 0; i < MAX_HEADERS && s->headers[i][0]; i++) {
		b->h[i].name = exact(b, s->headers[i][0], &b->h[i].name_len);
		b->h[i].value = exact(b, s->headers[i][1], &b->h[i].value_len);
		b->r.n_headers++;
	}
	b->r.headers = b->h;
	g_assert_true(ip4_parse(s->source ? s->source : "192.0.2.1", &b->r.source_ip));
}

static void req_free(struct built_req *b)
{
	g_ptr_array_free(b->bufs, TRUE);
}

/* "10 = TEXT" lines into rs; "default = TEXT" sets the default; asserts each parses. */
static void rules_load(struct l7_rules *rs, const char *const *lines)
{
	l7_rules_init(rs);
	for (const char *const *l = lines; *l; l++) {
		GError *err = NULL;
		const char *eq = strstr(*l, " = ");
		g_assert_nonnull(eq);
		char *key = g_strndup(*l, (gsize)(eq - *l));
		if (strcmp(key, "default") == 0) {
			l7_rules_set_default(rs, eq + 3, &err);
		} else {
			unsigned prio = 0;
			if (l7_rule_parse_priority(key, &prio, &err))
				l7_rules_add(rs, prio, eq + 3, &err);
		}
		g_assert_no_error(err);
		g_free(key);
	}
}

/* --- wildcards ------------------------------------------------------------------------------ */

struct wild_case {
	const char *name, *pat, *s;
	bool fold, want;
};

static const struct wild_case wild_cases[] = {
	{ "/l7-rules/wildcard/literal-equal", "abc", "abc", false, true },
	{ "/l7-rules/wildcard/literal-differs", "abc", "abd", false, false },
	{ "/l7-rules/wildcard/literal-is-a-whole-match-not-a-prefix", "abc", "abcd", false, false },
	{ "/l7-rules/wildcard/star-matches-empty", "a*", "a", false, true },
	{ "/l7-rules/wildcard/star-alone-matches-empty-subject", "*", "", false, true },
	{ "/l7-rules/wildcard/empty-pattern-matches-only-empty", "", "", false, true },
	{ "/l7-rules/wildcard/empty-pattern-refuses-text", "", "a", false, false },
	{ "/l7-rules/wildcard/star-at-start", "*.js", "/static/app.js", false, true },
	{ "/l7-rules/wildcard/star-at-start-needs-the-suffix", "*.js", "/static/app.jsx", false, false },
	{ "/l7-rules/wildcard/star-at-end", "/v1/*", "/v1/users/7", false, true },
	{ "/l7-rules/wildcard/star-at-both-ends", "*Mobile*", "Mozilla (Mobile; x)", false, true },
	{ "/l7-rules/wildcard/several-stars-in-order", "a*b*c", "axxbyyc", false, true },
	{ "/l7-rules/wildcard/several-stars-out-of-order", "a*b*c", "axxcyyb", false, false },
	{ "/l7-rules/wildcard/star-backtracks-past-a-false-start", "*ab", "aab", false, true },
	{ "/l7-rules/wildcard/question-is-exactly-one", "a?c", "abc", false, true },
	{ "/l7-rules/wildcard/question-is-not-zero", "a?c", "ac", false, false },
	{ "/l7-rules/wildcard/question-is-not-two", "a?c", "abbc", false, false },
	{ "/l7-rules/wildcard/star-then-question", "*?", "", false, false },
	{ "/l7-rules/wildcard/star-then-question-one-char", "*?", "x", false, true },
	{ "/l7-rules/wildcard/fold-case-folds", "API.Example.COM", "api.example.com", true, true },
	{ "/l7-rules/wildcard/no-fold-is-case-sensitive", "/images", "/Images", false, false },
	{ "/l7-rules/wildcard/backslash-makes-star-literal", "a\\*", "a*", false, true },
	{ "/l7-rules/wildcard/backslash-star-is-not-a-wildcard", "a\\*", "ab", false, false },
	{ "/l7-rules/wildcard/pathological-stars-refuse", "*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false,
	  false },
	{ "/l7-rules/wildcard/pathological-stars-match", "*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", false,
	  true },
};

static void test_wildcard(gconstpointer data)
{
	const struct wild_case *c = data;
	size_t pl = strlen(c->pat), sl = strlen(c->s);
	char *pat = g_memdup2(c->pat, pl ? pl : 1), *s = g_memdup2(c->s, sl ? sl : 1);
	g_assert_cmpint(l7_wildcard_match(pat, pl, s, sl, c->fold), ==, c->want);
	g_free(pat);
	g_free(s);
}

/* --- matching ------------------------------------------------------------------------------- */

struct match_case {
	const char *name;
	const char *rules[8];
	struct req_spec req;
	unsigned want_priority; /* 0: the default */
	unsigned want_evaluated;
};

#define ISSUE_RULES                                                                                               \
	"rule.10 = host-header api.example.com AND path-pattern /v1/* -> forward api",                          \
	"rule.20 = path-pattern /static/*, *.js -> forward web",                                                   \
	"rule.30 = http-header User-Agent *Mobile* -> forward web:1, mobile:4",                                    \
	"rule.40 = host-header old.example.com -> redirect http://www.example.com:80/#{path}?#{query} 301",        \
	"rule.50 = query-string debug=1 AND source-ip 10.0.0.0/8 -> fixed-response 503 text/plain \"maintenance\"", \
	"default = fixed-response 404"

static const struct match_case match_cases[] = {
	{ "/l7-rules/match/host-and-path-both-hold", { ISSUE_RULES, NULL },
	  { .host = "api.example.com", .path = "/v1/users" }, 10, 1 },
	{ "/l7-rules/match/and-needs-every-condition", { ISSUE_RULES, NULL },
	  { .host = "api.example.com", .path = "/v2/users" }, 0, 5 },
	{ "/l7-rules/match/host-is-case-insensitive", { ISSUE_RULES, NULL },
	  { .host = "API.Example.COM", .path = "/v1/x" }, 10, 1 },
	{ "/l7-rules/match/host-pattern-written-in-capitals", { "rule.1 = host-header *.EXAMPLE.com -> forward a",
	  "default = fixed-response 404", NULL }, { .host = "www.example.COM" }, 1, 1 },
	{ "/l7-rules/match/host-with-its-port-left-on-does-not-match", { ISSUE_RULES, NULL },
	  { .host = "api.example.com:8080", .path = "/v1/x" }, 0, 5 },
	{ "/l7-rules/match/path-suffix-must-end-the-path", { ISSUE_RULES, NULL }, { .path = "/app/main.jsx" }, 0, 5 },
	{ "/l7-rules/match/star-dot-domain-needs-a-subdomain", { "rule.1 = host-header *.example.com -> forward a",
	  "default = fixed-response 404", NULL }, { .host = "example.com" }, 0, 1 },
	{ "/l7-rules/match/star-dot-domain-takes-any-depth", { "rule.1 = host-header *.example.com -> forward a",
	  "default = fixed-response 404", NULL }, { .host = "a.b.example.com" }, 1, 1 },
	{ "/l7-rules/match/path-is-case-sensitive", { "rule.1 = path-pattern /images/* -> forward img",
	  "default = fixed-response 404", NULL }, { .path = "/Images/a.png" }, 0, 1 },
	{ "/l7-rules/match/path-lowercase-matches", { "rule.1 = path-pattern /images/* -> forward img",
	  "default = fixed-response 404", NULL }, { .path = "/images/a.png" }, 1, 1 },
	{ "/l7-rules/match/path-ignores-the-query", { "rule.1 = path-pattern *debug* -> forward a",
	  "default = fixed-response 404", NULL }, { .path = "/x", .query = "debug=1" }, 0, 1 },
	{ "/l7-rules/match/values-of-one-condition-are-or-first", { ISSUE_RULES, NULL },
	  { .path = "/static/a.css" }, 20, 2 },
	{ "/l7-rules/match/values-of-one-condition-are-or-second", { ISSUE_RULES, NULL },
	  { .path = "/app/main.js" }, 20, 2 },
	{ "/l7-rules/match/header-value-wildcard", { ISSUE_RULES, NULL },
	  { .path = "/", .headers = { { "User-Agent", "Mozilla/5.0 (iPhone; Mobile)" } } }, 30, 3 },
	{ "/l7-rules/match/header-name-and-value-fold-case", { ISSUE_RULES, NULL },
	  { .path = "/", .headers = { { "user-agent", "xx MOBILE yy" } } }, 30, 3 },
	{ "/l7-rules/match/header-any-of-that-name", { ISSUE_RULES, NULL },
	  { .path = "/", .headers = { { "User-Agent", "Desktop" }, { "Accept", "*/*" }, { "User-Agent", "Mobile" } } },
	  30, 3 },
	{ "/l7-rules/match/header-absent", { ISSUE_RULES, NULL },
	  { .path = "/", .headers = { { "Accept", "Mobile" } } }, 0, 5 },
	{ "/l7-rules/match/method-is-exact", { "rule.1 = http-request-method POST, PUT -> forward w",
	  "default = fixed-response 404", NULL }, { .method = "PUT" }, 1, 1 },
	{ "/l7-rules/match/method-is-case-sensitive", { "rule.1 = http-request-method POST -> forward w",
	  "default = fixed-response 404", NULL }, { .method = "post" }, 0, 1 },
	{ "/l7-rules/match/method-is-not-a-prefix", { "rule.1 = http-request-method GET -> forward w",
	  "default = fixed-response 404", NULL }, { .method = "GETX" }, 0, 1 },
	{ "/l7-rules/match/query-key-value", { ISSUE_RULES, NULL },
	  { .path = "/x", .query = "a=2&debug=1", .source = "10.1.2.3" }, 50, 5 },
	{ "/l7-rules/match/query-and-source-ip-both-needed", { ISSUE_RULES, NULL },
	  { .path = "/x", .query = "debug=1", .source = "192.0.2.1" }, 0, 5 },
	{ "/l7-rules/match/query-folds-case", { "rule.1 = query-string Debug=Yes -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "DEBUG=yes" }, 1, 1 },
	{ "/l7-rules/match/query-value-only-matches-any-key", { "rule.1 = query-string blue -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "colour=blue" }, 1, 1 },
	{ "/l7-rules/match/query-value-only-is-not-a-key", { "rule.1 = query-string blue -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "blue=1" }, 0, 1 },
	{ "/l7-rules/match/query-wildcard-key", { "rule.1 = query-string ver*=2 -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "version=2" }, 1, 1 },
	{ "/l7-rules/match/query-wildcard-value", { "rule.1 = query-string id=?? -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "id=42" }, 1, 1 },
	{ "/l7-rules/match/query-wildcard-value-refuses-other-length", { "rule.1 = query-string id=?? -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "id=421" }, 0, 1 },
	{ "/l7-rules/match/query-is-percent-decoded", { "rule.1 = query-string name=a b&c -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "x=1&na%6De=a%20b%26c" }, 1, 1 },
	{ "/l7-rules/match/query-plus-is-not-a-space", { "rule.1 = query-string name=a b -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "name=a+b" }, 0, 1 },
	{ "/l7-rules/match/query-bad-percent-stays-literal", { "rule.1 = query-string v=%zz -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "v=%zz" }, 1, 1 },
	{ "/l7-rules/match/query-repeated-key-any-pair", { "rule.1 = query-string tag=red -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "tag=blue&tag=red&tag=green" }, 1, 1 },
	{ "/l7-rules/match/query-split-on-first-equals", { "rule.1 = query-string k=a=b -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "k=a=b" }, 1, 1 },
	{ "/l7-rules/match/query-escaped-star-is-literal", { "rule.1 = query-string q=\\* -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "q=x" }, 0, 1 },
	{ "/l7-rules/match/query-escaped-star-matches-star", { "rule.1 = query-string q=\\* -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "q=%2A" }, 1, 1 },
	{ "/l7-rules/match/query-empty-refuses", { "rule.1 = query-string * -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "" }, 0, 1 },
	{ "/l7-rules/match/source-ip-bare-address-is-slash-32", { "rule.1 = source-ip 10.0.0.5 -> forward d",
	  "default = fixed-response 404", NULL }, { .source = "10.0.0.6" }, 0, 1 },
	{ "/l7-rules/match/source-ip-any-prefix", { "rule.1 = source-ip 10.0.0.0/8, 192.0.2.0/24 -> forward d",
	  "default = fixed-response 404", NULL }, { .source = "192.0.2.77" }, 1, 1 },
	{ "/l7-rules/match/priorities-out-of-file-order", { "rule.30 = path-pattern /a* -> forward third",
	  "rule.5 = path-pattern /ab* -> forward first", "rule.7 = path-pattern * -> forward second",
	  "default = fixed-response 404", NULL }, { .path = "/abc" }, 5, 1 },
	{ "/l7-rules/match/lower-priority-number-wins", { "rule.30 = path-pattern /a* -> forward third",
	  "rule.7 = path-pattern /a -> forward second", "rule.5 = path-pattern /ab* -> forward first",
	  "default = fixed-response 404", NULL }, { .path = "/a" }, 7, 2 },
	{ "/l7-rules/match/default-when-nothing-matches", { ISSUE_RULES, NULL }, { .path = "/nothing" }, 0, 5 },
	{ "/l7-rules/match/no-rules-only-the-default", { "default = forward all", NULL }, { .path = "/" }, 0, 0 },
	{ "/l7-rules/match/five-values-are-allowed", {
	  "rule.1 = path-pattern /a, /b, /c AND host-header x.example, y.example -> forward d",
	  "default = fixed-response 404", NULL }, { .host = "y.example", .path = "/c" }, 1, 1 },
	{ "/l7-rules/match/empty-host-only-matches-star", { "rule.1 = host-header *.example.com -> forward d",
	  "rule.2 = host-header * -> forward any", "default = fixed-response 404", NULL }, { .host = "" }, 2, 2 },
	/* The gates (struct l7_gate) read four bytes at each end and the length: every case here
	 * is also checked against the trace, which evaluates without them (test_match). */
	{ "/l7-rules/match/gate/a-host-shorter-than-four-bytes", { "rule.1 = host-header a.b -> forward d",
	  "default = fixed-response 404", NULL }, { .host = "A.B" }, 1, 1 },
	{ "/l7-rules/match/gate/a-literal-of-exactly-four-bytes", { "rule.1 = path-pattern /abc -> forward d",
	  "default = fixed-response 404", NULL }, { .path = "/abc" }, 1, 1 },
	{ "/l7-rules/match/gate/a-literal-is-not-its-prefix", { "rule.1 = path-pattern /abcde -> forward d",
	  "default = fixed-response 404", NULL }, { .path = "/abcd" }, 0, 1 },
	{ "/l7-rules/match/gate/head-and-tail-meet-in-a-short-subject", { "rule.1 = path-pattern /a*z -> forward d",
	  "default = fixed-response 404", NULL }, { .path = "/az" }, 1, 1 },
	{ "/l7-rules/match/gate/a-question-mark-opens-the-pattern", { "rule.1 = host-header ?pi.example.com -> forward d",
	  "default = fixed-response 404", NULL }, { .host = "Api.example.com" }, 1, 1 },
	{ "/l7-rules/match/gate/a-folded-tail", { "rule.1 = host-header *.COM -> forward d",
	  "default = fixed-response 404", NULL }, { .host = "WWW.EXAMPLE.Com" }, 1, 1 },
	{ "/l7-rules/match/gate/a-long-tail-at-its-least-length", { "rule.1 = path-pattern *.tar.gz -> forward d",
	  "default = fixed-response 404", NULL }, { .path = ".tar.gz" }, 1, 1 },
	{ "/l7-rules/match/gate/source-ip-slash-0-takes-every-address", { "rule.1 = source-ip 0.0.0.0/0 -> forward d",
	  "default = fixed-response 404", NULL }, { .source = "203.0.113.9" }, 1, 1 },
	{ "/l7-rules/match/gate/the-gate-may-be-the-second-condition", {
	  "rule.1 = http-header X-Tenant a* AND path-pattern /v1/exact -> forward d", "default = fixed-response 404",
	  NULL }, { .path = "/v1/exact", .headers = { { "X-Tenant", "abc" } } }, 1, 1 },
	{ "/l7-rules/match/gate/any-value-of-the-gated-condition", {
	  "rule.1 = host-header a.example, bb.example, *.c.example -> forward d", "default = fixed-response 404", NULL },
	  { .host = "x.C.example" }, 1, 1 },
	{ "/l7-rules/match/gate/a-rule-without-a-gate-is-tried", { "rule.1 = query-string x=1 -> forward d",
	  "default = fixed-response 404", NULL }, { .query = "x=1" }, 1, 1 },
};

static void test_match(gconstpointer data)
{
	const struct match_case *c = data;
	struct l7_rules rs;
	struct built_req b;
	unsigned evaluated = 12345;

	rules_load(&rs, c->rules);
	req_build(&b, &c->req);
	const struct l7_rule *r = l7_rules_match(&rs, &b.r, &evaluated, NULL);
	g_assert_cmpuint(r ? r->priority : 0, ==, c->want_priority);
	g_assert_cmpuint(evaluated, ==, c->want_evaluated);
	g_assert_true(l7_rules_action(&rs, r) == (r ? &r->action : &rs.default_action));

	/* The trace walks the same way and ends on the same verdict. */
	GString *trace = g_string_new(NULL);
	unsigned traced = 0;
	g_assert_true(l7_rules_match(&rs, &b.r, &traced, trace) == r);
	g_assert_cmpuint(traced, ==, evaluated);
	unsigned lines = 0;
	for (const char *p = trace->str; *p; p++)
		lines += *p == '\n';
	g_assert_cmpuint(lines, ==, evaluated + (r ? 0 : 1));
	g_string_free(trace, TRUE);
	req_free(&b);
	l7_rules_clear(&rs);
}

/* NULL pointers for empty fields are allowed: nothing reads them. */
static void test_match_null_empty_fields(void)
{
	static const char *const lines[] = { "rule.1 = query-string a=b -> forward q", "rule.2 = host-header ?* -> forward h",
	                                     "rule.3 = http-header X-A * -> forward x",
	                                     "rule.4 = path-pattern * -> redirect https://h.example/#{path}?#{query}#{host} 301",
	                                     "default = fixed-response 404", NULL };
	struct l7_rules rs;
	struct l7_request req = { .method = "GET", .method_len = 3 };
	unsigned n;
	rules_load(&rs, lines);
	GString *t = g_string_new(NULL);
	const struct l7_rule *r = l7_rules_match(&rs, &req, &n, t);
	g_assert_nonnull(r);
	g_assert_cmpuint(r->priority, ==, 4);
	g_assert_cmpuint(n, ==, 4);
	g_string_truncate(t, 0);
	l7_redirect_expand(&r->action, &req, "http", t);
	g_assert_cmpstr(t->str, ==, "https://h.example/");
	g_string_free(t, TRUE);
	l7_rules_clear(&rs);
}

/* --- parse errors --------------------------------------------------------------------------- */

struct error_case {
	const char *name;
	unsigned priority; /* 0: the text is the default's */
	const char *text;
	const char *want; /* the whole message */
};

static const struct error_case error_cases[] = {
	{ "/l7-rules/parse/error/unknown-condition", 1, "host api.example.com -> forward a",
	  "unknown condition 'host' (host-header, path-pattern, http-header, http-request-method, query-string or "
	  "source-ip)" },
	{ "/l7-rules/parse/error/condition-names-are-lowercase", 1, "Host-Header a.example -> forward a",
	  "unknown condition 'Host-Header' (host-header, path-pattern, http-header, http-request-method, query-string "
	  "or source-ip)" },
	{ "/l7-rules/parse/error/bad-host-pattern", 1, "host-header api_x.example.com -> forward a",
	  "bad host-header pattern 'api_x.example.com': character 4 may not appear (only letters, digits, '-', '.', "
	  "'*' and '?')" },
	{ "/l7-rules/parse/error/lowercase-and-is-not-a-separator", 1, "host-header a.example and path-pattern /x -> forward a",
	  "bad host-header pattern 'a.example and path-pattern /x': character 10 may not appear (only letters, digits, "
	  "'-', '.', '*' and '?')" },
	{ "/l7-rules/parse/error/bad-path-pattern", 1, "path-pattern /a%20b -> forward a",
	  "bad path-pattern '/a%20b': character 3 may not appear (only letters, digits, _ - . $ / ~ \" ' @ : + "
	  "& * ?)" },
	{ "/l7-rules/parse/error/pattern-longer-than-128", 1,
	  "path-pattern /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa -> forward a",
	  "bad path-pattern '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': "
	  "longer than 128 characters" },
	{ "/l7-rules/parse/error/bad-method", 1, "http-request-method get -> forward a",
	  "bad http-request-method 'get': character 1 may not appear (only capital letters, '-' and '_')" },
	{ "/l7-rules/parse/error/bad-header-value", 1, "http-header X-A a\x01b -> forward a",
	  "bad http-header pattern 'a\x01b': character 2 may not appear (only visible ASCII)" },
	{ "/l7-rules/parse/error/bad-query-key", 1, "query-string k\x7f=1 -> forward a",
	  "bad query-string key 'k\x7f': character 2 may not appear (only visible ASCII)" },
	{ "/l7-rules/parse/error/bad-header-name", 1, "http-header User* x -> forward a",
	  "bad http-header name 'User*': 1 to 40 of letters, digits and !#$%&'+-.^_`|~ (no wildcards)" },
	{ "/l7-rules/parse/error/header-without-value", 1, "http-header User-Agent -> forward a",
	  "empty value: http-header has no value to compare" },
	{ "/l7-rules/parse/error/more-than-five-values", 1,
	  "path-pattern /a, /b, /c AND host-header a.example, b.example, c.example -> forward a",
	  "more than 5 values in one rule (ALB counts every value of every condition): host-header 'c.example'" },
	{ "/l7-rules/parse/error/header-values-count-not-the-name", 1,
	  "http-header X-A a, b, c AND http-header X-B d, e, f -> forward a",
	  "more than 5 values in one rule (ALB counts every value of every condition): http-header 'f'" },
	{ "/l7-rules/parse/error/six-conditions", 1,
	  "http-header A a AND http-header B b AND http-header C c AND http-header D d AND http-header E e AND "
	  "http-header F f -> forward a",
	  "more than 5 values in one rule (ALB counts every value of every condition): 'http-header F f'" },
	{ "/l7-rules/parse/error/more-than-three-in-one-condition", 1, "path-pattern /a, /b, /c, /d -> forward a",
	  "more than 3 values in one condition: path-pattern '/a, /b, /c, /d' (make a second rule, or a second "
	  "condition for AND)" },
	{ "/l7-rules/parse/error/condition-type-twice", 1, "path-pattern /a AND path-pattern /b -> forward a",
	  "path-pattern appears twice in one rule: ALB allows one, with up to 3 values" },
	{ "/l7-rules/parse/error/more-than-five-wildcards", 1, "path-pattern /*/*/* AND host-header *.*.*.example -> forward a",
	  "6 wildcards in one rule: ALB allows 5 '*' and '?' in all" },
	{ "/l7-rules/parse/error/empty-value-between-commas", 1, "path-pattern /a, , /b -> forward a",
	  "empty value in path-pattern '/a, , /b'" },
	{ "/l7-rules/parse/error/empty-value-at-the-end", 1, "path-pattern /a, -> forward a",
	  "empty value in path-pattern '/a,'" },
	{ "/l7-rules/parse/error/empty-query-value", 1, "query-string debug= -> forward a",
	  "empty value in query-string 'debug=': ALB needs a value after '='" },
	{ "/l7-rules/parse/error/empty-query-key", 1, "query-string =1 -> forward a",
	  "empty key in query-string value '=1' (leave out '=' to match any key)" },
	{ "/l7-rules/parse/error/empty-condition-next-to-and", 1, "path-pattern /a AND  AND host-header a.b -> forward a",
	  "empty condition next to AND in 'path-pattern /a AND  AND host-header a.b '" },
	{ "/l7-rules/parse/error/no-condition", 1, " -> forward a",
	  "a rule needs at least one condition before '->' (the default is the rule without)" },
	{ "/l7-rules/parse/error/bad-cidr", 1, "source-ip 10.0.0.0/33 -> forward a",
	  "bad CIDR '10.0.0.0/33' for source-ip: '10.0.0.0/33' is not an IPv4 address or prefix (like 10.0.0.0/24)" },
	{ "/l7-rules/parse/error/cidr-with-host-bits", 1, "source-ip 10.0.0.1/8 -> forward a",
	  "bad CIDR '10.0.0.1/8' for source-ip: '10.0.0.1/8' has host bits set; did you mean 10.0.0.0/8?" },
	{ "/l7-rules/parse/error/cidr-far-too-long", 1, "source-ip 10.0.0.0000000000000000000/8 -> forward a",
	  "bad CIDR '10.0.0.0000000000000000000/8' for source-ip (like 10.0.0.0/8)" },
	{ "/l7-rules/parse/error/missing-arrow", 1, "path-pattern /a forward a",
	  "missing '->' between the conditions and the action in 'path-pattern /a forward a'" },
	{ "/l7-rules/parse/error/no-action", 1, "path-pattern /a ->  ",
	  "no action after '->' (forward, redirect or fixed-response)" },
	{ "/l7-rules/parse/error/unknown-action", 1, "path-pattern /a -> send a",
	  "unknown action 'send' (forward, redirect or fixed-response)" },
	{ "/l7-rules/parse/error/forward-without-group", 1, "path-pattern /a -> forward",
	  "forward needs a target group (forward NAME, or forward NAME:WEIGHT, ...)" },
	{ "/l7-rules/parse/error/weight-out-of-range", 1, "path-pattern /a -> forward a:1, b:1000",
	  "weight '1000' of target group 'b' is out of range 0..999" },
	{ "/l7-rules/parse/error/weight-negative", 1, "path-pattern /a -> forward a:-1",
	  "weight '-1' of target group 'a' is not a number 0..999" },
	{ "/l7-rules/parse/error/all-weights-zero", 1, "path-pattern /a -> forward a:0, b:0",
	  "every weight of forward 'a:0, b:0' is 0: no target group would get a request" },
	{ "/l7-rules/parse/error/six-groups", 1, "path-pattern /a -> forward a, b, c, d, e, f",
	  "more than 5 target groups in forward 'a, b, c, d, e, f'" },
	{ "/l7-rules/parse/error/group-twice", 1, "path-pattern /a -> forward a:1, a:2",
	  "target group 'a' named twice in one forward" },
	{ "/l7-rules/parse/error/bad-group-name", 1, "path-pattern /a -> forward my group",
	  "bad target group name 'my group': 1 to 32 letters, digits, '-' or '_'" },
	{ "/l7-rules/parse/error/redirect-code-not-301-302", 1, "path-pattern /a -> redirect https://#{host}/ 307",
	  "redirect code '307' is not 301 or 302" },
	{ "/l7-rules/parse/error/redirect-without-code", 1, "path-pattern /a -> redirect https://x.example/",
	  "redirect takes a URL and a code (redirect https://#{host}/#{path} 301), not 'https://x.example/'" },
	{ "/l7-rules/parse/error/redirect-bad-scheme", 1, "path-pattern /a -> redirect ftp://x.example/ 301",
	  "redirect URL 'ftp://x.example/' must start with http://, https:// or #{protocol}://" },
	{ "/l7-rules/parse/error/redirect-unknown-placeholder", 1, "path-pattern /a -> redirect https://#{hostname}/ 301",
	  "unknown placeholder '#{hostname}' in redirect URL (#{protocol}, #{host}, #{port}, #{path}, #{query})" },
	{ "/l7-rules/parse/error/fixed-response-code-3xx", 1, "path-pattern /a -> fixed-response 302",
	  "fixed-response code '302' is not 2XX, 4XX or 5XX" },
	{ "/l7-rules/parse/error/fixed-response-code-not-a-number", 1, "path-pattern /a -> fixed-response 40x",
	  "fixed-response code '40x' is not 2XX, 4XX or 5XX" },
	{ "/l7-rules/parse/error/fixed-response-unknown-type", 1, "path-pattern /a -> fixed-response 200 text/xml",
	  "unknown content type 'text/xml' (text/plain, text/css, text/html, application/javascript or "
	  "application/json; the body goes in double quotes)" },
	{ "/l7-rules/parse/error/fixed-response-unquoted-body", 1, "path-pattern /a -> fixed-response 200 text/plain hi",
	  "text after the content type: 'hi' (the body goes in double quotes)" },
	{ "/l7-rules/parse/error/fixed-response-unterminated-body", 1, "path-pattern /a -> fixed-response 200 \"hi",
	  "the fixed-response body '\"hi' has no closing '\"'" },
	{ "/l7-rules/parse/error/fixed-response-unknown-escape", 1, "path-pattern /a -> fixed-response 200 \"a\\nb\"",
	  "unknown escape '\\n' in the fixed-response body (only \\\" and \\\\)" },
	{ "/l7-rules/parse/error/fixed-response-text-after-body", 1, "path-pattern /a -> fixed-response 200 \"a\" b",
	  "text after the fixed-response body: 'b'" },
	{ "/l7-rules/parse/error/priority-above-50000", 50001, "path-pattern /a -> forward a",
	  "priority 50001 is outside 1..50000" },
	{ "/l7-rules/parse/error/default-with-conditions", 0, "path-pattern /a -> forward a",
	  "the default takes an action only, no conditions: 'path-pattern /a -> forward a'" },
	{ "/l7-rules/parse/error/default-unknown-action", 0, "reject",
	  "unknown action 'reject' (forward, redirect or fixed-response)" },
	{ "/l7-rules/parse/error/long-text-is-quoted-to-80", 1,
	  "x123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890 -> forward a",
	  "unknown condition 'x1234567890123456789012345678901234567890123456789012345678901234567890123456789...' "
	  "(host-header, path-pattern, http-header, http-request-method, query-string or source-ip)" },
};

static void test_parse_error(gconstpointer data)
{
	const struct error_case *c = data;
	struct l7_rules rs;
	GError *err = NULL;

	l7_rules_init(&rs);
	gboolean ok = c->priority ? l7_rules_add(&rs, c->priority, c->text, &err) : l7_rules_set_default(&rs, c->text, &err);
	g_assert_false(ok);
	g_assert_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
	g_assert_cmpstr(err->message, ==, c->want);
	/* A refused rule leaves the set as it was. */
	g_assert_cmpuint(rs.n, ==, 0);
	g_assert_false(rs.has_default);
	g_error_free(err);
	l7_rules_clear(&rs);
}

static void test_priority_used_twice(void)
{
	struct l7_rules rs;
	GError *err = NULL;
	l7_rules_init(&rs);
	g_assert_true(l7_rules_add(&rs, 10, "path-pattern /a -> forward a", &err));
	g_assert_false(l7_rules_add(&rs, 10, "path-pattern /b -> forward b", &err));
	g_assert_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
	g_assert_cmpstr(err->message, ==, "priority 10 is used twice: each rule needs its own");
	g_assert_cmpuint(rs.n, ==, 1);
	g_assert_cmpstr(rs.rules[0].action.text, ==, "forward a");
	g_clear_error(&err);
	l7_rules_clear(&rs);
}

struct priority_case {
	const char *name, *key;
	unsigned want;     /* 0: an error */
	const char *error; /* the whole message */
};

static const struct priority_case priority_cases[] = {
	{ "/l7-rules/parse/priority/ten", "rule.10", 10, NULL },
	{ "/l7-rules/parse/priority/lowest", "rule.1", 1, NULL },
	{ "/l7-rules/parse/priority/highest", "rule.50000", 50000, NULL },
	{ "/l7-rules/parse/priority/zero-is-outside", "rule.0", 0, "priority '0' is outside 1..50000" },
	{ "/l7-rules/parse/priority/above-50000-is-outside", "rule.50001", 0, "priority '50001' is outside 1..50000" },
	{ "/l7-rules/parse/priority/huge-is-outside", "rule.99999999999999999999999", 0,
	  "priority '99999999999999999999999' is outside 1..50000" },
	{ "/l7-rules/parse/priority/not-a-number", "rule.ten", 0,
	  "'rule.ten' is not rule.N with N a number (the priority, 1..50000)" },
	{ "/l7-rules/parse/priority/signed", "rule.-1", 0, "'rule.-1' is not rule.N with N a number (the priority, 1..50000)" },
	{ "/l7-rules/parse/priority/empty", "rule.", 0, "'rule.' is not rule.N with N a number (the priority, 1..50000)" },
	{ "/l7-rules/parse/priority/not-a-rule-key", "rules.10", 0,
	  "'rules.10' is not a rule key (rule.N, N the priority 1..50000)" },
};

static void test_priority(gconstpointer data)
{
	const struct priority_case *c = data;
	unsigned prio = 77;
	GError *err = NULL;
	gboolean ok = l7_rule_parse_priority(c->key, &prio, &err);
	if (c->want) {
		g_assert_no_error(err);
		g_assert_true(ok);
		g_assert_cmpuint(prio, ==, c->want);
	} else {
		g_assert_false(ok);
		g_assert_error(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
		g_assert_cmpstr(err->message, ==, c->error);
		g_assert_cmpuint(prio, ==, 77);
		g_error_free(err);
	}
}

/* --- what a parse keeps --------------------------------------------------------------------- */

struct text_case {
	const char *name, *text;
	const char *want_conditions, *want_action;
};

static const struct text_case text_cases[] = {
	{ "/l7-rules/parse/text/conditions-normalised", "  host-header   api.example.com   AND path-pattern /v1/*  -> forward api",
	  "host-header api.example.com AND path-pattern /v1/*", "forward api" },
	{ "/l7-rules/parse/text/values-joined-by-comma-space", "path-pattern /static/* ,*.js -> forward web",
	  "path-pattern /static/*, *.js", "forward web" },
	{ "/l7-rules/parse/text/weighted-forward", "http-header User-Agent *Mobile* -> forward web:1,mobile : 4",
	  "http-header User-Agent *Mobile*", "forward web:1, mobile:4" },
	{ "/l7-rules/parse/text/single-weight-one-is-bare", "path-pattern /a -> forward web:1", "path-pattern /a",
	  "forward web" },
	{ "/l7-rules/parse/text/redirect", "host-header old.example.com -> redirect http://www.example.com:80/#{path}?#{query}   301",
	  "host-header old.example.com", "redirect http://www.example.com:80/#{path}?#{query} 301" },
	{ "/l7-rules/parse/text/fixed-response-with-body", "query-string debug=1 AND source-ip 10.0.0.0/8 -> fixed-response 503 text/plain \"maintenance\"",
	  "query-string debug=1 AND source-ip 10.0.0.0/8", "fixed-response 503 text/plain \"maintenance\"" },
	{ "/l7-rules/parse/text/fixed-response-body-only", "path-pattern /a -> fixed-response 200 \"say \\\"hi\\\" \\\\o/\"",
	  "path-pattern /a", "fixed-response 200 text/plain \"say \\\"hi\\\" \\\\o/\"" },
	{ "/l7-rules/parse/text/fixed-response-type-only", "path-pattern /a -> fixed-response 404 Application/JSON",
	  "path-pattern /a", "fixed-response 404 application/json" },
	{ "/l7-rules/parse/text/body-may-hold-an-arrow", "path-pattern /a -> fixed-response 200 \"a -> b\"",
	  "path-pattern /a", "fixed-response 200 text/plain \"a -> b\"" },
};

static void test_text(gconstpointer data)
{
	const struct text_case *c = data;
	struct l7_rules rs;
	GError *err = NULL;
	l7_rules_init(&rs);
	g_assert_true(l7_rules_add(&rs, 1, c->text, &err));
	g_assert_no_error(err);
	g_assert_cmpstr(rs.rules[0].text, ==, c->want_conditions);
	g_assert_cmpstr(rs.rules[0].action.text, ==, c->want_action);
	l7_rules_clear(&rs);
}

static void test_actions_parsed(void)
{
	static const char *const lines[] = { ISSUE_RULES, "rule.60 = path-pattern /b -> fixed-response 200 \"x\\\"y\"", NULL };
	struct l7_rules rs;
	rules_load(&rs, lines);
	g_assert_cmpuint(rs.n, ==, 6);
	const struct l7_action *fw = &rs.rules[2].action;
	g_assert_cmpint(fw->kind, ==, L7_ACTION_FORWARD);
	g_assert_cmpuint(fw->forward.n_groups, ==, 2);
	g_assert_cmpstr(fw->forward.groups[1].name, ==, "mobile");
	g_assert_cmpuint(fw->forward.groups[1].weight, ==, 4);
	g_assert_cmpuint(fw->forward.total_weight, ==, 5);
	const struct l7_action *rd = &rs.rules[3].action;
	g_assert_cmpint(rd->kind, ==, L7_ACTION_REDIRECT);
	g_assert_cmpuint(rd->redirect.code, ==, 301);
	g_assert_cmpstr(rd->redirect.url_template, ==, "http://www.example.com:80/#{path}?#{query}");
	const struct l7_action *fx = &rs.rules[4].action;
	g_assert_cmpint(fx->kind, ==, L7_ACTION_FIXED_RESPONSE);
	g_assert_cmpuint(fx->fixed.code, ==, 503);
	g_assert_cmpstr(fx->fixed.content_type, ==, "text/plain");
	g_assert_cmpstr(fx->fixed.body, ==, "maintenance");
	g_assert_cmpuint(fx->fixed.body_len, ==, 11);
	g_assert_cmpstr(rs.rules[5].action.fixed.body, ==, "x\"y");
	g_assert_true(rs.has_default);
	g_assert_cmpuint(rs.default_action.fixed.code, ==, 404);
	g_assert_cmpstr(rs.default_action.fixed.content_type, ==, "text/plain");
	g_assert_null(rs.default_action.fixed.body);
	l7_rules_clear(&rs);
}

static void test_body_limit(void)
{
	struct l7_rules rs;
	GError *err = NULL;
	l7_rules_init(&rs);
	for (unsigned n = 1023; n <= 1025; n++) {
		char *body = g_strnfill(n, 'b');
		char *text = g_strdup_printf("path-pattern /a -> fixed-response 200 \"%s\"", body);
		gboolean ok = l7_rules_add(&rs, n, text, &err);
		if (n <= 1024) {
			g_assert_no_error(err);
			g_assert_true(ok);
		} else {
			g_assert_false(ok);
			g_assert_cmpstr(err->message, ==, "the fixed-response body is 1025 bytes: ALB allows 1024");
			g_clear_error(&err);
		}
		g_free(text);
		g_free(body);
	}
	g_assert_cmpuint(rs.n, ==, 2);
	g_assert_cmpuint(rs.rules[1].action.fixed.body_len, ==, 1024);
	l7_rules_clear(&rs);
}

static void test_default_replaced(void)
{
	struct l7_rules rs;
	GError *err = NULL;
	l7_rules_init(&rs);
	g_assert_true(l7_rules_set_default(&rs, "fixed-response 404", &err));
	g_assert_true(l7_rules_set_default(&rs, "forward web", &err));
	g_assert_false(l7_rules_set_default(&rs, "forward", &err));
	g_clear_error(&err);
	g_assert_cmpstr(rs.default_action.text, ==, "forward web");
	l7_rules_clear(&rs);
	g_assert_false(rs.has_default);
}

struct group_walk {
	GPtrArray *seen;
	const char *refuse;
};

static bool group_cb(const char *group, void *data)
{
	struct group_walk *w = data;
	g_ptr_array_add(w->seen, (char *)group);
	return !w->refuse || strcmp(group, w->refuse) != 0;
}

static void test_foreach_group(void)
{
	static const char *const lines[] = { ISSUE_RULES, "rule.5 = path-pattern /x -> forward first", "default = forward fallback",
	                                     NULL };
	struct l7_rules rs;
	struct group_walk w = { g_ptr_array_new(), NULL };
	unsigned prio = 99;
	rules_load(&rs, lines);
	g_assert_null(l7_rules_foreach_group(&rs, group_cb, &w, &prio));
	g_assert_cmpuint(prio, ==, 99);
	const char *want[] = { "first", "api", "web", "web", "mobile", "fallback" };
	g_assert_cmpuint(w.seen->len, ==, G_N_ELEMENTS(want));
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpstr(g_ptr_array_index(w.seen, i), ==, want[i]);

	g_ptr_array_set_size(w.seen, 0);
	w.refuse = "mobile";
	g_assert_cmpstr(l7_rules_foreach_group(&rs, group_cb, &w, &prio), ==, "mobile");
	g_assert_cmpuint(prio, ==, 30);
	w.refuse = "fallback";
	g_assert_cmpstr(l7_rules_foreach_group(&rs, group_cb, &w, &prio), ==, "fallback");
	g_assert_cmpuint(prio, ==, 0);
	g_ptr_array_free(w.seen, TRUE);
	l7_rules_clear(&rs);
}

/* --- actions at run time -------------------------------------------------------------------- */

static void test_pick_distribution(void)
{
	struct l7_rules rs;
	GError *err = NULL;
	unsigned count[3] = { 0, 0, 0 };
	l7_rules_init(&rs);
	g_assert_true(l7_rules_add(&rs, 1, "path-pattern * -> forward blue:90, green:10", &err));
	g_assert_true(l7_rules_add(&rs, 2, "path-pattern /z -> forward a:0, b:3, c:1", &err));
	g_assert_no_error(err);
	for (uint64_t h = 0; h < 10000; h++)
		count[l7_forward_pick(&rs.rules[0].action, h)]++;
	g_assert_cmpuint(count[0], ==, 9000);
	g_assert_cmpuint(count[1], ==, 1000);

	/* A weight of 0 takes nothing, whatever the hash, the high bits included. */
	memset(count, 0, sizeof count);
	for (uint64_t h = 0; h < 4000; h++)
		count[l7_forward_pick(&rs.rules[1].action, h * 0x9e3779b97f4a7c15ull)]++;
	g_assert_cmpuint(count[0], ==, 0);
	g_assert_cmpuint(count[1] + count[2], ==, 4000);
	g_assert_cmpuint(count[1], >, 2800);
	g_assert_cmpuint(count[1], <, 3200);
	g_assert_cmpuint(l7_forward_pick(&rs.rules[1].action, UINT64_MAX), <, 3);
	l7_rules_clear(&rs);
}

struct redirect_case {
	const char *name, *url;
	struct req_spec req;
	const char *protocol, *want;
};

static const struct redirect_case redirect_cases[] = {
	{ "/l7-rules/redirect/every-placeholder", "#{protocol}://www.#{host}:#{port}/new/#{path}?#{query}&x=1",
	  { .host = "example.com", .port = 8080, .path = "/a/b", .query = "q=1" }, "http",
	  "http://www.example.com:8080/new/a/b?q=1&x=1" },
	{ "/l7-rules/redirect/path-loses-its-leading-slash", "https://www.example.com/#{path}",
	  { .host = "old.example.com", .path = "/cart" }, "http", "https://www.example.com/cart" },
	{ "/l7-rules/redirect/empty-query-drops-the-question-mark", "http://www.example.com:80/#{path}?#{query}",
	  { .host = "old.example.com", .path = "/cart" }, "http", "http://www.example.com:80/cart" },
	{ "/l7-rules/redirect/query-kept", "http://www.example.com:80/#{path}?#{query}",
	  { .host = "old.example.com", .path = "/cart", .query = "id=7" }, "https", "http://www.example.com:80/cart?id=7" },
	{ "/l7-rules/redirect/to-https-on-443", "https://#{host}:443/#{path}?#{query}",
	  { .host = "shop.example", .path = "/", .query = "" }, "http", "https://shop.example:443/" },
	{ "/l7-rules/redirect/stray-hash-is-text", "https://#{host}/#frag#{",
	  { .host = "a.example", .path = "/" }, "http", NULL },
};

static void test_redirect(gconstpointer data)
{
	const struct redirect_case *c = data;
	struct l7_rules rs;
	struct built_req b;
	GError *err = NULL;
	char *text = g_strdup_printf("path-pattern * -> redirect %s 302", c->url);

	l7_rules_init(&rs);
	gboolean ok = l7_rules_add(&rs, 1, text, &err);
	if (!c->want) {
		/* "#{" without a name it knows is refused when parsed, so expansion never sees one. */
		g_assert_false(ok);
		g_clear_error(&err);
	} else {
		g_assert_no_error(err);
		req_build(&b, &c->req);
		GString *out = g_string_new("Location: ");
		l7_redirect_expand(&rs.rules[0].action, &b.r, c->protocol, out);
		g_assert_cmpstr(out->str + strlen("Location: "), ==, c->want);
		g_string_free(out, TRUE);
		req_free(&b);
	}
	g_free(text);
	l7_rules_clear(&rs);
}

/* Asked of an action of another kind, pick and expand do nothing harmful. */
static void test_actions_of_another_kind(void)
{
	static const char *const lines[] = { "rule.1 = path-pattern /a -> redirect https://#{host}/ 301",
	                                     "default = fixed-response 404", NULL };
	struct l7_rules rs;
	struct l7_request req = { .host = "a.example", .host_len = 9 };
	rules_load(&rs, lines);
	g_assert_cmpuint(l7_forward_pick(&rs.default_action, 12345), ==, 0);
	g_assert_cmpuint(l7_forward_pick(&rs.rules[0].action, 12345), ==, 0);
	GString *out = g_string_new("x");
	l7_redirect_expand(&rs.default_action, &req, "http", out);
	g_assert_cmpstr(out->str, ==, "x");
	l7_redirect_expand(&rs.rules[0].action, &req, "http", out);
	g_assert_cmpstr(out->str, ==, "xhttps://a.example/");
	g_string_free(out, TRUE);
	l7_rules_clear(&rs);
}

/* --- the trace ------------------------------------------------------------------------------ */

struct trace_case {
	const char *name;
	struct req_spec req;
	const char *want;
};

static const struct trace_case trace_cases[] = {
	{ "/l7-rules/trace/second-rule-matches",
	  { .host = "api.example.com", .path = "/static/a.css" },
	  "rule 10: host-header api.example.com matched; path-pattern /v1/* did not match /static/a.css -> no\n"
	  "rule 20: path-pattern /static/*, *.js matched /static/a.css -> forward web\n" },
	{ "/l7-rules/trace/falls-to-the-default",
	  { .host = "api.example.com", .path = "/v2/cart", .source = "10.9.9.9" },
	  "rule 10: host-header api.example.com matched; path-pattern /v1/* did not match /v2/cart -> no\n"
	  "rule 20: path-pattern /static/*, *.js did not match /v2/cart -> no\n"
	  "rule 30: http-header User-Agent *Mobile* did not match: no such header -> no\n"
	  "rule 40: host-header old.example.com did not match api.example.com -> no\n"
	  "rule 50: query-string debug=1 did not match \"\" -> no\n"
	  "default: fixed-response 404\n" },
	{ "/l7-rules/trace/header-value-shown",
	  { .host = "OLD.example.com", .path = "/", .headers = { { "User-Agent", "Desktop" }, { "user-agent", "Mobile" } } },
	  "rule 10: host-header api.example.com did not match OLD.example.com -> no\n"
	  "rule 20: path-pattern /static/*, *.js did not match / -> no\n"
	  "rule 30: http-header User-Agent *Mobile* matched Mobile -> forward web:1, mobile:4\n" },
	{ "/l7-rules/trace/host-in-other-case-is-shown",
	  { .host = "OLD.example.com", .path = "/", .headers = { { "User-Agent", "Desktop\x01" } } },
	  "rule 10: host-header api.example.com did not match OLD.example.com -> no\n"
	  "rule 20: path-pattern /static/*, *.js did not match / -> no\n"
	  "rule 30: http-header User-Agent *Mobile* did not match Desktop\\x01 -> no\n"
	  "rule 40: host-header old.example.com matched OLD.example.com -> redirect "
	  "http://www.example.com:80/#{path}?#{query} 301\n" },
	{ "/l7-rules/trace/query-and-source",
	  { .host = "a.example", .path = "/", .query = "x=2&debug=1", .source = "192.0.2.1" },
	  "rule 10: host-header api.example.com did not match a.example -> no\n"
	  "rule 20: path-pattern /static/*, *.js did not match / -> no\n"
	  "rule 30: http-header User-Agent *Mobile* did not match: no such header -> no\n"
	  "rule 40: host-header old.example.com did not match a.example -> no\n"
	  "rule 50: query-string debug=1 matched; source-ip 10.0.0.0/8 did not match 192.0.2.1 -> no\n"
	  "default: fixed-response 404\n" },
	{ "/l7-rules/trace/maintenance",
	  { .host = "a.example", .path = "/", .query = "DEBUG=1", .source = "10.0.0.7" },
	  "rule 10: host-header api.example.com did not match a.example -> no\n"
	  "rule 20: path-pattern /static/*, *.js did not match / -> no\n"
	  "rule 30: http-header User-Agent *Mobile* did not match: no such header -> no\n"
	  "rule 40: host-header old.example.com did not match a.example -> no\n"
	  "rule 50: query-string debug=1 matched DEBUG=1; source-ip 10.0.0.0/8 matched 10.0.0.7 -> fixed-response 503 "
	  "text/plain \"maintenance\"\n" },
};

static void test_trace(gconstpointer data)
{
	static const char *const lines[] = { ISSUE_RULES, NULL };
	const struct trace_case *c = data;
	struct l7_rules rs;
	struct built_req b;
	GString *trace = g_string_new(NULL);

	rules_load(&rs, lines);
	req_build(&b, &c->req);
	l7_rules_match(&rs, &b.r, NULL, trace);
	g_assert_cmpstr(trace->str, ==, c->want);
	g_string_free(trace, TRUE);
	req_free(&b);
	l7_rules_clear(&rs);
}


int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(wild_cases); i++)
		g_test_add_data_func(wild_cases[i].name, &wild_cases[i], test_wildcard);
	for (size_t i = 0; i < G_N_ELEMENTS(match_cases); i++)
		g_test_add_data_func(match_cases[i].name, &match_cases[i], test_match);
	g_test_add_func("/l7-rules/match/empty-fields-may-be-null", test_match_null_empty_fields);
	for (size_t i = 0; i < G_N_ELEMENTS(error_cases); i++)
		g_test_add_data_func(error_cases[i].name, &error_cases[i], test_parse_error);
	g_test_add_func("/l7-rules/parse/error/priority-used-twice", test_priority_used_twice);
	for (size_t i = 0; i < G_N_ELEMENTS(priority_cases); i++)
		g_test_add_data_func(priority_cases[i].name, &priority_cases[i], test_priority);
	for (size_t i = 0; i < G_N_ELEMENTS(text_cases); i++)
		g_test_add_data_func(text_cases[i].name, &text_cases[i], test_text);
	g_test_add_func("/l7-rules/parse/actions-keep-what-they-say", test_actions_parsed);
	g_test_add_func("/l7-rules/parse/body-up-to-1024-bytes", test_body_limit);
	g_test_add_func("/l7-rules/parse/default-is-replaced-by-a-later-one", test_default_replaced);
	g_test_add_func("/l7-rules/groups/every-forward-group-in-priority-order", test_foreach_group);
	g_test_add_func("/l7-rules/forward/pick-is-proportional-to-weight", test_pick_distribution);
	for (size_t i = 0; i < G_N_ELEMENTS(redirect_cases); i++)
		g_test_add_data_func(redirect_cases[i].name, &redirect_cases[i], test_redirect);
	g_test_add_func("/l7-rules/actions/pick-and-expand-ignore-other-kinds", test_actions_of_another_kind);
	for (size_t i = 0; i < G_N_ELEMENTS(trace_cases); i++)
		g_test_add_data_func(trace_cases[i].name, &trace_cases[i], test_trace);
	return g_test_run();
}
