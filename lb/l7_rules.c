/* lb/l7_rules.c: the L7 balancer's listener rules, parsed from scenario values and evaluated per request, with a rule-by-rule trace.
 *
 * Follows AWS "Listener rules for your Application Load Balancer" and "Condition types for
 * listener rules" (host-header, path-pattern, http-header, http-request-method, query-string,
 * source-ip; five values per rule, three per condition, five wildcards per rule; host, header
 * and query comparisons case-insensitive, path and method case-sensitive), "Actions for listener
 * rules" and the API's RedirectActionConfig (#{path} loses its leading '/') and
 * FixedResponseActionConfig (2XX/4XX/5XX, five content types, 1024 bytes of body).
 *
 * Invariant: what l7_rules_add() accepted is within every limit of lb/l7_rules-t.h, so
 * l7_rules_match() never checks a bound the parser checked; it allocates only for the trace.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/packet.h"
#include "lb/l7_rules.h"

#define QUOTE_MAX 80
/* Query pairs are percent-decoded into the stack; a longer pair is matched as it came (no
 * pattern is longer than 128 characters, so such a pair can match only a '*'-ended pattern). */
#define DECODE_MAX 2048

/* --- errors --------------------------------------------------------------------------------- */

/* At most QUOTE_MAX characters of text in single quotes, "..." when cut.  Returned by value: the
 * buffer lives to the end of the full expression that uses it (C11 6.2.4p8). */
struct quoted {
	char buf[QUOTE_MAX + 6];
};

static struct quoted quote(const char *s, size_t len)
{
	struct quoted q;
	if (len > QUOTE_MAX)
		snprintf(q.buf, sizeof q.buf, "'%.*s...'", QUOTE_MAX, s);
	else
		snprintf(q.buf, sizeof q.buf, "'%.*s'", (int)len, s);
	return q;
}

#define Q(s) quote((s), strlen(s)).buf

static void G_GNUC_PRINTF(2, 3) fail(GError **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, msg);
	g_free(msg);
}

/* --- wildcards ------------------------------------------------------------------------------ */

static inline char fold(char c, bool on)
{
	return on && c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Greedy, remembering only the last '*': on a mismatch the star takes one more character and
 * the walk resumes after it.  One backtrack point suffices for '*' and '?' (a later star can
 * absorb whatever an earlier one would have), so the cost is O(pat_len * len), never
 * exponential, and there is no recursion for a fuzzer's "*a*a*a*a*b" to deepen. */
bool l7_wildcard_match(const char *pat, size_t pat_len, const char *s, size_t len, bool fold_case)
{
	size_t p = 0, i = 0, star_p = 0, star_i = 0;
	bool star = false;

	while (i < len) {
		if (p < pat_len) {
			char pc = pat[p];
			size_t step = 1;
			if (pc == '*') {
				star = true;
				star_p = ++p;
				star_i = i;
				continue;
			}
			if (pc == '\\' && p + 1 < pat_len) {
				pc = pat[p + 1];
				step = 2;
			} else if (pc == '?') {
				p++;
				i++;
				continue;
			}
			if (fold(pc, fold_case) == fold(s[i], fold_case)) {
				p += step;
				i++;
				continue;
			}
		}
		if (!star)
			return false;
		p = star_p;
		i = ++star_i;
	}
	while (p < pat_len && pat[p] == '*')
		p++;
	return p == pat_len;
}

static void pattern_init(struct l7_pattern *p, const char *s, size_t len, bool fold_case)
{
	p->text = g_strndup(s, len);
	p->len = (uint16_t)len;
	if (fold_case)
		for (size_t i = 0; i < len; i++)
			p->text[i] = fold(p->text[i], true);
	p->wild = false;
	p->head = (uint16_t)len;
	p->tail = 0;
	p->min_len = 0;
	bool escape = false;
	size_t last_wild = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p->text[i];
		if (c == '*' || c == '?' || c == '\\') {
			if (!p->wild)
				p->head = (uint16_t)i;
			p->wild = true;
			last_wild = i;
			escape |= c == '\\';
		}
		if (c == '\\' && i + 1 < len)
			i++; /* the escaped character is one literal token */
		if (c != '*')
			p->min_len++;
	}
	/* After a '\' the character that follows is literal even if it is '*', so the tail is only
	 * known without escapes. */
	p->tail = (uint16_t)(p->wild && !escape ? len - last_wild - 1 : 0);
	p->first = p->head ? p->text[0] : '\0';
	p->last = p->tail ? p->text[len - 1] : '\0';
}

static void pattern_free(struct l7_pattern *p)
{
	g_free(p->text);
	p->text = NULL;
}

/* A byte loop rather than memcmp: the strings are short and most differ at once, where the call
 * would cost more than the comparison. */
static inline bool same(const char *pat, const char *s, size_t len, bool fold_case)
{
	for (size_t i = 0; i < len; i++)
		if (pat[i] != fold(s[i], fold_case))
			return false;
	return true;
}

/* The literal head and tail are compared first, lengths before anything: most rules refuse a
 * request there, which keeps 100 rules under a microsecond. */
static bool pattern_match(const struct l7_pattern *p, const char *s, size_t len, bool fold_case)
{
	/* An empty subject may come as NULL, on which even s + 0 is undefined: it matches a pattern of
	 * stars only, and nothing is read. */
	if (len == 0)
		return p->min_len == 0;
	if (len < p->min_len)
		return false;
	if (!p->wild)
		return len == p->len && same(p->text, s, len, fold_case);
	if ((p->head && fold(s[0], fold_case) != p->first) || (p->tail && fold(s[len - 1], fold_case) != p->last))
		return false;
	if (!same(p->text, s, p->head, fold_case) ||
	    !same(p->text + p->len - p->tail, s + len - p->tail, p->tail, fold_case))
		return false;
	return l7_wildcard_match(p->text + p->head, p->len - p->head - p->tail, s + p->head, len - p->head - p->tail,
	                         fold_case);
}

/* --- conditions: what each type accepts ----------------------------------------------------- */

static bool host_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '.' || c == '*' || c == '?';
}

static bool path_char(char c)
{
	return g_ascii_isalnum(c) || (c && strchr("_-.$/~\"'@:+&*?", c));
}

static bool visible_char(char c)
{
	return c >= 0x20 && c < 0x7f;
}

static bool method_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* RFC 9110 5.6.2 tchar, without the wildcard ALB refuses in a header name. */
static bool token_char(char c)
{
	return g_ascii_isalnum(c) || (c && strchr("!#$%&'+-.^_`|~", c));
}

struct condition_type {
	const char *name;
	bool fold_case;       /* compare case-insensitively (patterns stored lowercased) */
	bool once;            /* ALB allows at most one condition of this type per rule */
	bool (*ok_char)(char c);
	size_t max_len;
	const char *allowed;  /* what ok_char accepts, for the message */
};

static const struct condition_type condition_types[L7_COND_N] = {
	[L7_COND_HOST_HEADER] = { "host-header", true, true, host_char, L7_MAX_PATTERN,
	                          "letters, digits, '-', '.', '*' and '?'" },
	[L7_COND_PATH_PATTERN] = { "path-pattern", false, true, path_char, L7_MAX_PATTERN,
	                           "letters, digits, _ - . $ / ~ \" ' @ : + & * ?" },
	[L7_COND_HTTP_HEADER] = { "http-header", true, false, visible_char, L7_MAX_PATTERN, "visible ASCII" },
	[L7_COND_HTTP_REQUEST_METHOD] = { "http-request-method", false, true, method_char, L7_MAX_METHOD,
	                                  "capital letters, '-' and '_'" },
	[L7_COND_QUERY_STRING] = { "query-string", true, false, visible_char, L7_MAX_PATTERN, "visible ASCII" },
	[L7_COND_SOURCE_IP] = { "source-ip", false, true, NULL, 18, "an IPv4 address or prefix" },
};

static unsigned count_wildcards(const char *s, size_t len)
{
	unsigned n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '*' || s[i] == '?')
			n++;
	}
	return n;
}

/* what: "pattern", "key", "value", or "" where the condition's name says it ("bad path-pattern"). */
static bool check_chars(const struct condition_type *t, const char *what, const char *s, size_t len, GError **err)
{
	const char *sp = *what ? " " : "";
	if (len > t->max_len) {
		fail(err, "bad %s%s%s %s: longer than %zu characters", t->name, sp, what, quote(s, len).buf, t->max_len);
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (!t->ok_char(s[i])) {
			fail(err, "bad %s%s%s %s: character %zu may not appear (only %s)", t->name, sp, what,
			     quote(s, len).buf, i + 1, t->allowed);
			return false;
		}
	return true;
}

/* The first '=' not escaped by '\'. */
static const char *unescaped_eq(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' && s[1])
			s++;
		else if (*s == '=')
			return s;
	}
	return NULL;
}

static bool parse_value(const struct condition_type *t, enum l7_condition_kind kind, const char *s,
                        struct l7_value *v, unsigned *wildcards, GError **err)
{
	size_t len = strlen(s);

	switch (kind) {
	case L7_COND_SOURCE_IP: {
		GError *why = NULL;
		if (len > t->max_len || !ip4_prefix_parse(s, &v->cidr, &why)) {
			fail(err, "bad CIDR %s for source-ip%s%s", Q(s), why ? ": " : " (like 10.0.0.0/8)",
			     why ? why->message : "");
			g_clear_error(&why);
			return false;
		}
		break;
	}
	case L7_COND_QUERY_STRING: {
		const char *eq = unescaped_eq(s);
		const char *val = eq ? eq + 1 : s;
		if (eq && eq == s) {
			fail(err, "empty key in query-string value %s (leave out '=' to match any key)", Q(s));
			return false;
		}
		if (*val == '\0') {
			fail(err, "empty value in query-string %s: ALB needs a value after '='", Q(s));
			return false;
		}
		if (eq && !check_chars(t, "key", s, (size_t)(eq - s), err))
			return false;
		if (!check_chars(t, "value", val, strlen(val), err))
			return false;
		if (eq)
			pattern_init(&v->key, s, (size_t)(eq - s), true);
		pattern_init(&v->pat, val, strlen(val), true);
		break;
	}
	default:
		if (!check_chars(t, kind == L7_COND_HOST_HEADER || kind == L7_COND_HTTP_HEADER ? "pattern" : "", s, len, err))
			return false;
		pattern_init(&v->pat, s, len, t->fold_case);
		break;
	}
	if (kind != L7_COND_SOURCE_IP && kind != L7_COND_HTTP_REQUEST_METHOD)
		*wildcards += count_wildcards(s, len);
	v->text = g_strdup(s);
	return true;
}

static void condition_free(struct l7_condition *c)
{
	for (unsigned i = 0; i < c->n_values; i++) {
		g_free(c->values[i].text);
		pattern_free(&c->values[i].pat);
		pattern_free(&c->values[i].key);
	}
	g_free(c->header);
	g_free(c->text);
	memset(c, 0, sizeof *c);
}

/* "http-header User-Agent *Mobile*, *Android*" (text trimmed, not empty). */
static bool parse_condition(struct l7_rule *r, char *text, unsigned *n_values, unsigned *wildcards, GError **err)
{
	size_t wlen = strcspn(text, " \t");
	const struct condition_type *t = NULL;
	enum l7_condition_kind kind = 0;

	for (unsigned k = 0; k < L7_COND_N; k++)
		if (strlen(condition_types[k].name) == wlen && strncmp(condition_types[k].name, text, wlen) == 0) {
			t = &condition_types[k];
			kind = k;
		}
	if (!t) {
		fail(err, "unknown condition %s (host-header, path-pattern, http-header, http-request-method, "
		     "query-string or source-ip)", quote(text, wlen).buf);
		return false;
	}
	for (unsigned i = 0; i < r->n_conditions; i++)
		if (t->once && r->conditions[i].kind == kind) {
			fail(err, "%s appears twice in one rule: ALB allows one, with up to %u values", t->name,
			     L7_MAX_VALUES_PER_CONDITION);
			return false;
		}

	char *rest = g_strchug(text + wlen);
	struct l7_condition *c = &r->conditions[r->n_conditions];
	GString *norm = g_string_new(t->name);
	bool ok = true;

	/* The condition is the rule's from here, so that a failure below frees what it holds. */
	c->kind = kind;
	r->n_conditions++;
	if (kind == L7_COND_HTTP_HEADER) {
		size_t nlen = strcspn(rest, " \t");
		for (size_t i = 0; i < nlen && ok; i++)
			ok = token_char(rest[i]);
		if (!ok || nlen == 0 || nlen > L7_MAX_HEADER_NAME) {
			fail(err, "bad http-header name %s: 1 to %u of letters, digits and !#$%%&'+-.^_`|~ (no wildcards)",
			     quote(rest, nlen).buf, L7_MAX_HEADER_NAME);
			g_string_free(norm, TRUE);
			return false;
		}
		c->header = g_ascii_strdown(rest, (gssize)nlen);
		c->header_len = nlen;
		g_string_append_printf(norm, " %.*s", (int)nlen, rest);
		rest = g_strchug(rest + nlen);
	}
	if (*rest == '\0') {
		fail(err, "empty value: %s has no value to compare", t->name);
		g_string_free(norm, TRUE);
		return false;
	}
	char **items = g_strsplit(rest, ",", -1);
	for (char **it = items; *it && ok; it++) {
		char *v = g_strstrip(*it);
		if (*v == '\0') {
			fail(err, "empty value in %s %s", t->name, Q(rest));
			ok = false;
		} else if (c->n_values == L7_MAX_VALUES_PER_CONDITION) {
			fail(err, "more than %u values in one condition: %s %s (make a second rule, or a second "
			     "condition for AND)", L7_MAX_VALUES_PER_CONDITION, t->name, Q(rest));
			ok = false;
		} else if (++*n_values > L7_MAX_VALUES) {
			fail(err, "more than %u values in one rule (ALB counts every value of every condition): %s %s",
			     L7_MAX_VALUES, t->name, Q(v));
			ok = false;
		} else if (parse_value(t, kind, v, &c->values[c->n_values], wildcards, err)) {
			g_string_append_printf(norm, "%s %s", c->n_values ? "," : "", v);
			c->n_values++;
		} else {
			ok = false;
		}
	}
	g_strfreev(items);
	c->text = g_string_free(norm, FALSE);
	return ok;
}

static bool parse_conditions(struct l7_rule *r, const char *text, size_t len, GError **err)
{
	char *copy = g_strndup(text, len), *p = copy;
	unsigned n_values = 0, wildcards = 0;
	bool ok = true;

	if (*g_strstrip(copy) == '\0') {
		fail(err, "a rule needs at least one condition before '->' (the default is the rule without)");
		g_free(copy);
		return false;
	}
	while (ok) {
		char *and = strstr(p, " AND ");
		if (and)
			*and = '\0';
		char *c = g_strstrip(p);
		if (*c == '\0') {
			fail(err, "empty condition next to AND in %s", quote(text, len).buf);
			ok = false;
		} else if (n_values >= L7_MAX_VALUES) {
			fail(err, "more than %u values in one rule (ALB counts every value of every condition): %s",
			     L7_MAX_VALUES, Q(c));
			ok = false;
		} else {
			ok = parse_condition(r, c, &n_values, &wildcards, err);
		}
		if (!and)
			break;
		p = and + strlen(" AND ");
	}
	if (ok && wildcards > L7_MAX_WILDCARDS) {
		fail(err, "%u wildcards in one rule: ALB allows %u '*' and '?' in all", wildcards, L7_MAX_WILDCARDS);
		ok = false;
	}
	if (ok) {
		GString *t = g_string_new(NULL);
		for (unsigned i = 0; i < r->n_conditions; i++)
			g_string_append_printf(t, "%s%s", i ? " AND " : "", r->conditions[i].text);
		r->text = g_string_free(t, FALSE);
	}
	g_free(copy);
	return ok;
}

/* --- actions -------------------------------------------------------------------------------- */

static void action_free(struct l7_action *a)
{
	for (unsigned i = 0; i < a->forward.n_groups; i++)
		g_free(a->forward.groups[i].name);
	g_free(a->redirect.url_template);
	g_free(a->fixed.content_type);
	g_free(a->fixed.body);
	g_free(a->text);
	memset(a, 0, sizeof *a);
}

static bool group_name_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* "api", or "web:1, mobile:4". */
static bool parse_forward(struct l7_action *a, char *rest, GError **err)
{
	char **items = g_strsplit(rest, ",", -1);
	bool ok = true;

	a->kind = L7_ACTION_FORWARD;
	if (*rest == '\0') {
		fail(err, "forward needs a target group (forward NAME, or forward NAME:WEIGHT, ...)");
		ok = false;
	}
	for (char **it = items; *it && ok; it++) {
		char *item = g_strstrip(*it), *colon = strrchr(item, ':');
		guint64 w = 1;
		if (*item == '\0') {
			fail(err, "empty value in forward %s", Q(rest));
			ok = false;
			break;
		}
		if (a->forward.n_groups == L7_MAX_GROUPS) {
			fail(err, "more than %u target groups in forward %s", L7_MAX_GROUPS, Q(rest));
			ok = false;
			break;
		}
		if (colon) {
			*colon = '\0';
			const char *ws = g_strstrip(colon + 1);
			if (*ws == '\0' || strspn(ws, "0123456789") != strlen(ws)) {
				fail(err, "weight %s of target group %s is not a number 0..%u", Q(ws), Q(item), L7_MAX_WEIGHT);
				ok = false;
				break;
			}
			if (strlen(ws) > 4 || !g_ascii_string_to_unsigned(ws, 10, 0, L7_MAX_WEIGHT, &w, NULL)) {
				fail(err, "weight %s of target group %s is out of range 0..%u", Q(ws), Q(item), L7_MAX_WEIGHT);
				ok = false;
				break;
			}
			g_strchomp(item);
		}
		if (!group_name_ok(item)) {
			fail(err, "bad target group name %s: 1 to 32 letters, digits, '-' or '_'", Q(item));
			ok = false;
			break;
		}
		for (unsigned i = 0; i < a->forward.n_groups; i++)
			if (strcmp(a->forward.groups[i].name, item) == 0) {
				fail(err, "target group %s named twice in one forward", Q(item));
				ok = false;
			}
		if (!ok)
			break;
		a->forward.groups[a->forward.n_groups++] = (struct l7_forward_group){ g_strdup(item), (unsigned)w };
		a->forward.total_weight += (unsigned)w;
	}
	g_strfreev(items);
	if (ok && a->forward.total_weight == 0) {
		fail(err, "every weight of forward %s is 0: no target group would get a request", Q(rest));
		ok = false;
	}
	if (ok) {
		GString *t = g_string_new("forward ");
		if (a->forward.n_groups == 1 && a->forward.groups[0].weight == 1)
			g_string_append(t, a->forward.groups[0].name);
		else
			for (unsigned i = 0; i < a->forward.n_groups; i++)
				g_string_append_printf(t, "%s%s:%u", i ? ", " : "", a->forward.groups[i].name,
				                       a->forward.groups[i].weight);
		a->text = g_string_free(t, FALSE);
	}
	return ok;
}

static const char *const placeholders[] = { "protocol", "host", "port", "path", "query" };

static bool url_ok(const char *url, GError **err)
{
	if (g_ascii_strncasecmp(url, "http://", 7) != 0 && g_ascii_strncasecmp(url, "https://", 8) != 0 &&
	    strncmp(url, "#{protocol}://", 14) != 0) {
		fail(err, "redirect URL %s must start with http://, https:// or #{protocol}://", Q(url));
		return false;
	}
	for (const char *p = strstr(url, "#{"); p; p = strstr(p + 1, "#{")) {
		const char *end = strchr(p, '}');
		bool known = false;
		for (unsigned i = 0; end && i < G_N_ELEMENTS(placeholders); i++)
			known |= (size_t)(end - p - 2) == strlen(placeholders[i]) &&
			         strncmp(p + 2, placeholders[i], strlen(placeholders[i])) == 0;
		if (!known) {
			fail(err, "unknown placeholder %s in redirect URL (#{protocol}, #{host}, #{port}, #{path}, #{query})",
			     quote(p, end ? (size_t)(end - p + 1) : strlen(p)).buf);
			return false;
		}
	}
	return true;
}

/* "URL CODE". */
static bool parse_redirect(struct l7_action *a, char *rest, GError **err)
{
	char **w = g_strsplit_set(rest, " \t", -1);
	const char *word[3] = { NULL, NULL, NULL };
	unsigned n = 0;
	bool ok = true;

	a->kind = L7_ACTION_REDIRECT;
	for (char **p = w; *p; p++)
		if (**p) {
			if (n < 3)
				word[n] = *p;
			n++;
		}
	if (n != 2) {
		fail(err, "redirect takes a URL and a code (redirect https://#{host}/#{path} 301), not %s", Q(rest));
		ok = false;
	} else if (strcmp(word[1], "301") != 0 && strcmp(word[1], "302") != 0) {
		fail(err, "redirect code %s is not 301 or 302", Q(word[1]));
		ok = false;
	} else if (url_ok(word[0], err)) {
		a->redirect.url_template = g_strdup(word[0]);
		a->redirect.code = word[1][2] == '1' ? 301 : 302;
		a->text = g_strdup_printf("redirect %s %u", word[0], a->redirect.code);
	} else {
		ok = false;
	}
	g_strfreev(w);
	return ok;
}

static const char *const content_types[] = {
	"text/plain", "text/css", "text/html", "application/javascript", "application/json",
};

/* s points after the opening quote; \" and \\ are the only escapes. */
static bool parse_body(struct l7_action *a, const char *s, GError **err)
{
	GString *b = g_string_new(NULL);
	const char *p = s;

	for (; *p && *p != '"'; p++) {
		if (*p == '\\') {
			if (p[1] != '"' && p[1] != '\\') {
				fail(err, "unknown escape %s in the fixed-response body (only \\\" and \\\\)",
				     quote(p, p[1] ? 2 : 1).buf);
				g_string_free(b, TRUE);
				return false;
			}
			p++;
		}
		g_string_append_c(b, *p);
	}
	if (*p != '"') {
		fail(err, "the fixed-response body %s has no closing '\"'", quote(s - 1, strlen(s - 1)).buf);
		g_string_free(b, TRUE);
		return false;
	}
	for (const char *t = p + 1; *t; t++)
		if (!g_ascii_isspace(*t)) {
			fail(err, "text after the fixed-response body: %s", Q(t));
			g_string_free(b, TRUE);
			return false;
		}
	if (b->len > L7_MAX_BODY) {
		fail(err, "the fixed-response body is %zu bytes: ALB allows %u", b->len, L7_MAX_BODY);
		g_string_free(b, TRUE);
		return false;
	}
	a->fixed.body_len = b->len;
	a->fixed.body = g_string_free(b, FALSE);
	return true;
}

/* "CODE [CONTENT-TYPE] ["BODY"]". */
static bool parse_fixed(struct l7_action *a, char *rest, GError **err)
{
	size_t clen = strcspn(rest, " \t");
	bool typed = false;

	a->kind = L7_ACTION_FIXED_RESPONSE;
	if (clen != 3 || !strchr("245", rest[0]) || !g_ascii_isdigit(rest[1]) || !g_ascii_isdigit(rest[2])) {
		fail(err, "fixed-response code %s is not 2XX, 4XX or 5XX", quote(rest, clen).buf);
		return false;
	}
	a->fixed.code = (unsigned)((rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0'));
	char *p = g_strchug(rest + clen);
	if (*p && *p != '"') {
		size_t tlen = strcspn(p, " \t");
		for (unsigned i = 0; i < G_N_ELEMENTS(content_types) && !typed; i++)
			if (strlen(content_types[i]) == tlen && g_ascii_strncasecmp(p, content_types[i], tlen) == 0) {
				a->fixed.content_type = g_strdup(content_types[i]);
				typed = true;
			}
		if (!typed) {
			fail(err, "unknown content type %s (text/plain, text/css, text/html, application/javascript or "
			     "application/json; the body goes in double quotes)", quote(p, tlen).buf);
			return false;
		}
		p = g_strchug(p + tlen);
		if (*p && *p != '"') {
			fail(err, "text after the content type: %s (the body goes in double quotes)", Q(p));
			return false;
		}
	}
	if (!typed)
		a->fixed.content_type = g_strdup("text/plain");
	if (*p == '"' && !parse_body(a, p + 1, err))
		return false;

	GString *t = g_string_new(NULL);
	g_string_append_printf(t, "fixed-response %u", a->fixed.code);
	if (typed || a->fixed.body)
		g_string_append_printf(t, " %s", a->fixed.content_type);
	if (a->fixed.body) {
		g_string_append(t, " \"");
		for (size_t i = 0; i < a->fixed.body_len; i++) {
			if (a->fixed.body[i] == '"' || a->fixed.body[i] == '\\')
				g_string_append_c(t, '\\');
			g_string_append_c(t, a->fixed.body[i]);
		}
		g_string_append_c(t, '"');
	}
	a->text = g_string_free(t, FALSE);
	return true;
}

struct action_type {
	const char *name;
	bool (*parse)(struct l7_action *a, char *rest, GError **err); /* rest trimmed */
};

static const struct action_type action_types[] = {
	{ "forward", parse_forward },
	{ "redirect", parse_redirect },
	{ "fixed-response", parse_fixed },
};

static const struct action_type *action_type_of(const char *text, size_t *wlen)
{
	*wlen = strcspn(text, " \t");
	for (unsigned i = 0; i < G_N_ELEMENTS(action_types); i++)
		if (strlen(action_types[i].name) == *wlen && strncmp(action_types[i].name, text, *wlen) == 0)
			return &action_types[i];
	return NULL;
}

static bool parse_action(struct l7_action *a, const char *text, GError **err)
{
	char *copy = g_strstrip(g_strdup(text));
	size_t wlen;
	const struct action_type *t = action_type_of(copy, &wlen);
	bool ok = false;

	if (*copy == '\0')
		fail(err, "no action after '->' (forward, redirect or fixed-response)");
	else if (!t)
		fail(err, "unknown action %s (forward, redirect or fixed-response)", quote(copy, wlen).buf);
	else
		ok = t->parse(a, g_strchug(copy + wlen), err);
	if (!ok)
		action_free(a);
	g_free(copy);
	return ok;
}

/* --- the rule set --------------------------------------------------------------------------- */

void l7_rules_init(struct l7_rules *rs)
{
	memset(rs, 0, sizeof *rs);
}

static void rule_free(struct l7_rule *r)
{
	for (unsigned i = 0; i < r->n_conditions; i++)
		condition_free(&r->conditions[i]);
	action_free(&r->action);
	g_free(r->text);
}

void l7_rules_clear(struct l7_rules *rs)
{
	for (unsigned i = 0; i < rs->n; i++)
		rule_free(&rs->rules[i]);
	g_free(rs->rules);
	g_free(rs->gates);
	action_free(&rs->default_action);
	l7_rules_init(rs);
}

gboolean l7_rule_parse_priority(const char *key, unsigned *priority, GError **err)
{
	guint64 v;
	if (!g_str_has_prefix(key, "rule.")) {
		fail(err, "%s is not a rule key (rule.N, N the priority 1..50000)", Q(key));
		return FALSE;
	}
	const char *n = key + strlen("rule.");
	if (*n == '\0' || strspn(n, "0123456789") != strlen(n)) {
		fail(err, "%s is not rule.N with N a number (the priority, 1..50000)", Q(key));
		return FALSE;
	}
	if (strlen(n) > 6 || !g_ascii_string_to_unsigned(n, 10, L7_PRIORITY_MIN, L7_PRIORITY_MAX, &v, NULL)) {
		fail(err, "priority %s is outside 1..50000", Q(n));
		return FALSE;
	}
	*priority = (unsigned)v;
	return TRUE;
}

/* What a condition costs to test, cheapest first: a source address is one mask, a method a short
 * compare, a host or a path one pattern, a query string must be split and decoded, a header
 * searched for among all of them. */
static const unsigned condition_cost[L7_COND_N] = {
	[L7_COND_SOURCE_IP] = 0, [L7_COND_HTTP_REQUEST_METHOD] = 1, [L7_COND_HOST_HEADER] = 2,
	[L7_COND_PATH_PATTERN] = 2, [L7_COND_QUERY_STRING] = 3, [L7_COND_HTTP_HEADER] = 4,
};

/* Conditions are ANDed and none has side effects, so any order gives the same answer: the
 * cheap ones first let most rules fail early.  (The trace keeps the order written.) */
static void order_conditions(struct l7_rule *r)
{
	for (unsigned i = 0; i < r->n_conditions; i++)
		r->cheap_first[i] = (uint8_t)i;
	for (unsigned i = 1; i < r->n_conditions; i++) /* insertion sort, stable: at most 5 */
		for (unsigned j = i; j > 0 && condition_cost[r->conditions[r->cheap_first[j]].kind] <
		                               condition_cost[r->conditions[r->cheap_first[j - 1]].kind]; j--) {
			uint8_t t = r->cheap_first[j];
			r->cheap_first[j] = r->cheap_first[j - 1];
			r->cheap_first[j - 1] = t;
		}
}

/* --- gates (struct l7_gate) ---------------------------------------------------------------- */

/* Up to four bytes as a little-endian word; bytes past n are zero. */
static uint32_t word_of(const char *s, size_t n)
{
	uint32_t w = 0;
	for (size_t i = 0; i < n && i < 4; i++)
		w |= (uint32_t)(unsigned char)s[i] << (8 * i);
	return w;
}

static uint32_t bytes_mask(size_t n)
{
	return n >= 4 ? 0xffffffffu : (1u << (8 * n)) - 1;
}

/* A subject's first and last four bytes, folded when its condition folds case. */
struct gate_subject {
	uint32_t len, head, tail;
};

static void gate_subject_of(struct gate_subject *g, const char *s, size_t len, bool fold_case)
{
	char end[4] = { 0, 0, 0, 0 };
	char begin[4] = { 0, 0, 0, 0 };
	size_t n = len < 4 ? len : 4;
	for (size_t i = 0; i < n; i++) {
		begin[i] = fold(s[i], fold_case);
		end[4 - n + i] = fold(s[len - n + i], fold_case);
	}
	g->len = len > UINT16_MAX ? UINT16_MAX : (uint32_t)len;
	g->head = word_of(begin, 4);
	g->tail = word_of(end, 4);
}

/* What one pattern lets through: its literal head and tail (for a pattern without wildcards, the
 * whole of it, and its exact length). */
static void gate_value_of(struct l7_gate_value *v, const struct l7_pattern *p)
{
	size_t head = p->head < 4 ? p->head : 4;
	size_t tail = p->wild ? (p->tail < 4 ? p->tail : 4) : (p->len < 4 ? p->len : 4);
	v->min_len = p->min_len;
	v->max_len = p->wild ? UINT16_MAX : p->len;
	v->head = word_of(p->text, head);
	v->head_mask = bytes_mask(head);
	char end[4] = { 0, 0, 0, 0 };
	memcpy(end + 4 - tail, p->text + p->len - tail, tail);
	v->tail = word_of(end, 4);
	v->tail_mask = tail ? 0xffffffffu << (8 * (4 - tail)) : 0;
}

/* How much of a request the condition's weakest value refuses, roughly in bits. */
static unsigned gate_strength(const struct l7_gate *g)
{
	unsigned weakest = UINT_MAX;
	for (unsigned i = 0; i < g->n_values; i++) {
		const struct l7_gate_value *v = &g->values[i];
		unsigned bits = (unsigned)__builtin_popcount(v->head_mask) + (unsigned)__builtin_popcount(v->tail_mask) +
		                (v->max_len != UINT16_MAX ? 8 : 0) + (v->min_len ? 1 : 0);
		weakest = MIN(weakest, bits);
	}
	return weakest == UINT_MAX ? 0 : weakest;
}

static bool gate_of_condition(struct l7_gate *g, const struct l7_condition *c)
{
	memset(g, 0, sizeof *g);
	switch (c->kind) {
	case L7_COND_HOST_HEADER: g->subject = L7_GATE_HOST; break;
	case L7_COND_PATH_PATTERN: g->subject = L7_GATE_PATH; break;
	case L7_COND_HTTP_REQUEST_METHOD: g->subject = L7_GATE_METHOD; break;
	case L7_COND_SOURCE_IP: g->subject = L7_GATE_SOURCE_IP; break;
	default: return false; /* headers and query strings: a request has no fixed place for them */
	}
	g->n_values = (uint8_t)c->n_values;
	for (unsigned i = 0; i < c->n_values; i++) {
		struct l7_gate_value *v = &g->values[i];
		if (c->kind == L7_COND_SOURCE_IP)
			*v = (struct l7_gate_value){ .max_len = UINT16_MAX, .head = c->values[i].cidr.addr,
				                     .head_mask = ip4_prefix_mask(c->values[i].cidr.len) };
		else
			gate_value_of(v, &c->values[i].pat);
	}
	return true;
}

/* The rule's gate: its condition that refuses most. */
static void gate_build(struct l7_gate *gate, const struct l7_rule *r)
{
	unsigned best = 0;
	memset(gate, 0, sizeof *gate);
	for (unsigned i = 0; i < r->n_conditions; i++) {
		struct l7_gate g;
		if (!gate_of_condition(&g, &r->conditions[i]))
			continue;
		unsigned strength = gate_strength(&g);
		if (gate->subject == L7_GATE_NONE || strength > best) {
			*gate = g;
			best = strength;
		}
	}
}

static inline bool gate_pass(const struct l7_gate *g, const struct gate_subject subj[L7_GATE_N])
{
	if (g->subject == L7_GATE_NONE)
		return true;
	const struct gate_subject *s = &subj[g->subject];
	for (unsigned i = 0; i < g->n_values; i++) {
		const struct l7_gate_value *v = &g->values[i];
		if (s->len >= v->min_len && s->len <= v->max_len && (s->head & v->head_mask) == v->head &&
		    (s->tail & v->tail_mask) == v->tail)
			return true;
	}
	return false;
}

gboolean l7_rules_add(struct l7_rules *rs, unsigned priority, const char *text, GError **err)
{
	unsigned at = 0;

	if (priority < L7_PRIORITY_MIN || priority > L7_PRIORITY_MAX) {
		fail(err, "priority %u is outside 1..50000", priority);
		return FALSE;
	}
	while (at < rs->n && rs->rules[at].priority < priority)
		at++;
	if (at < rs->n && rs->rules[at].priority == priority) {
		fail(err, "priority %u is used twice: each rule needs its own", priority);
		return FALSE;
	}
	const char *arrow = strstr(text, "->");
	if (!arrow) {
		fail(err, "missing '->' between the conditions and the action in %s", Q(text));
		return FALSE;
	}

	struct l7_rule r;
	memset(&r, 0, sizeof r);
	r.priority = priority;
	if (!parse_conditions(&r, text, (size_t)(arrow - text), err) || !parse_action(&r.action, arrow + 2, err)) {
		rule_free(&r);
		return FALSE;
	}
	order_conditions(&r);
	rs->rules = g_renew(struct l7_rule, rs->rules, rs->n + 1);
	memmove(&rs->rules[at + 1], &rs->rules[at], (rs->n - at) * sizeof *rs->rules);
	rs->rules[at] = r;
	rs->gates = g_renew(struct l7_gate, rs->gates, rs->n + 1);
	memmove(&rs->gates[at + 1], &rs->gates[at], (rs->n - at) * sizeof *rs->gates);
	gate_build(&rs->gates[at], &rs->rules[at]);
	rs->n++;
	return TRUE;
}

gboolean l7_rules_set_default(struct l7_rules *rs, const char *text, GError **err)
{
	struct l7_action a;
	size_t wlen;
	const char *t = text + strspn(text, " \t");

	/* A body may hold "->", so only text that does not start with an action is taken for conditions. */
	if (!action_type_of(t, &wlen) && strstr(t, "->")) {
		fail(err, "the default takes an action only, no conditions: %s", Q(t));
		return FALSE;
	}
	memset(&a, 0, sizeof a);
	if (!parse_action(&a, text, err))
		return FALSE;
	action_free(&rs->default_action);
	rs->default_action = a;
	rs->has_default = true;
	return TRUE;
}

const char *l7_rules_foreach_group(const struct l7_rules *rs, bool (*fn)(const char *group, void *data), void *data,
                                   unsigned *priority)
{
	for (unsigned i = 0; i <= rs->n; i++) {
		const struct l7_action *a = i < rs->n ? &rs->rules[i].action : &rs->default_action;
		if (i == rs->n && !rs->has_default)
			break;
		if (a->kind != L7_ACTION_FORWARD)
			continue;
		for (unsigned g = 0; g < a->forward.n_groups; g++)
			if (!fn(a->forward.groups[g].name, data)) {
				if (priority)
					*priority = i < rs->n ? rs->rules[i].priority : 0;
				return a->forward.groups[g].name;
			}
	}
	return NULL;
}

/* --- evaluation ----------------------------------------------------------------------------- */

/* What a condition looked at, for the trace: the value that matched (NULL if none) and the
 * subject it matched or, failing, the subject it refused. */
struct hit {
	const struct l7_value *value;
	const char *subject;
	size_t subject_len;
	unsigned more;  /* http-header: further headers of the name that did not match either */
	bool absent;    /* http-header: the request has no header of that name */
};

static int hexval(char c)
{
	return g_ascii_isdigit(c) ? c - '0' : g_ascii_isxdigit(c) ? g_ascii_tolower(c) - 'a' + 10 : -1;
}

/* %XX decoded into buf (room for len bytes); a '%' not followed by two hex digits stays as it
 * is.  ALB compares decoded keys and values ("any character can be percent-encoded"); '+' stays
 * '+', as RFC 3986 has it (only HTML forms make it a space).  Returns the text to compare: buf,
 * or s itself when it is longer than DECODE_MAX. */
static const char *percent_decode(const char *s, size_t len, char *buf, size_t *out_len)
{
	*out_len = len;
	if (len > DECODE_MAX)
		return s;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			buf[o++] = s[i];
		}
	}
	*out_len = o;
	return buf;
}

struct query_pair {
	const char *raw, *key, *value;
	size_t raw_len, key_len, value_len;
};

/* The next non-empty pair of q from *i: split on '&', the pair on its first '='; a pair without
 * '=' is a key with an empty value.  One pass finds the '&', the '=' and whether there is a '%'
 * to decode at all. */
static bool query_next(const char *q, size_t qlen, size_t *i, struct query_pair *p, bool *pct)
{
	while (*i < qlen) {
		size_t start = *i, eq = 0;
		bool has_eq = false;
		*pct = false;
		for (; *i < qlen && q[*i] != '&'; (*i)++) {
			if (q[*i] == '=' && !has_eq) {
				has_eq = true;
				eq = *i;
			}
			*pct |= q[*i] == '%';
		}
		size_t end = (*i)++;
		if (end == start)
			continue;
		p->raw = p->key = q + start;
		p->raw_len = end - start;
		p->key_len = has_eq ? eq - start : end - start;
		p->value = has_eq ? q + eq + 1 : q + end;
		p->value_len = has_eq ? end - eq - 1 : 0;
		return true;
	}
	return false;
}

static void pair_decode(struct query_pair *p, char *kbuf, char *vbuf)
{
	p->key = percent_decode(p->key, p->key_len, kbuf, &p->key_len);
	p->value = percent_decode(p->value, p->value_len, vbuf, &p->value_len);
}

static bool pair_match(const struct l7_condition *c, const struct query_pair *p, struct hit *h)
{
	for (unsigned n = 0; n < c->n_values; n++) {
		const struct l7_value *val = &c->values[n];
		if ((!val->key.text || pattern_match(&val->key, p->key, p->key_len, true)) &&
		    pattern_match(&val->pat, p->value, p->value_len, true)) {
			h->value = val;
			h->subject = p->raw;
			h->subject_len = p->raw_len;
			return true;
		}
	}
	return false;
}

/* What one evaluation shares across rules: the query, split and decoded once, when the first
 * query-string condition asks.  A query of more pairs or decoded bytes than fit is split again
 * by each condition instead (the same answer, more slowly). */
#define QUERY_PAIRS_MAX 16
struct match_ctx {
	const struct l7_request *req;
	enum { QUERY_UNSPLIT, QUERY_SPLIT, QUERY_STREAM } query;
	unsigned n_pairs;
	struct query_pair pairs[QUERY_PAIRS_MAX];
	char buf[DECODE_MAX];
};

static void query_split(struct match_ctx *m)
{
	struct query_pair p;
	size_t i = 0, used = 0;
	bool pct;

	m->query = QUERY_SPLIT;
	m->n_pairs = 0;
	while (query_next(m->req->query, m->req->query_len, &i, &p, &pct)) {
		if (m->n_pairs == QUERY_PAIRS_MAX || (pct && used + p.key_len + p.value_len > sizeof m->buf)) {
			m->query = QUERY_STREAM;
			return;
		}
		if (pct) {
			size_t kl = p.key_len;
			pair_decode(&p, m->buf + used, m->buf + used + kl);
			used += kl + p.value_len;
		}
		m->pairs[m->n_pairs++] = p;
	}
}

static bool query_match(const struct l7_condition *c, struct match_ctx *m, struct hit *h)
{
	const char *q = m->req->query;
	size_t qlen = m->req->query_len;

	h->subject = q;
	h->subject_len = qlen;
	if (m->query == QUERY_UNSPLIT)
		query_split(m);
	if (m->query == QUERY_SPLIT) {
		for (unsigned i = 0; i < m->n_pairs; i++)
			if (pair_match(c, &m->pairs[i], h))
				return true;
		return false;
	}

	char kbuf[DECODE_MAX], vbuf[DECODE_MAX];
	struct query_pair p;
	size_t i = 0;
	bool pct;
	while (query_next(q, qlen, &i, &p, &pct)) {
		if (pct)
			pair_decode(&p, kbuf, vbuf);
		if (pair_match(c, &p, h))
			return true;
	}
	return false;
}

static bool header_match(const struct l7_condition *c, const struct l7_request *req, struct hit *h)
{
	h->absent = true;
	for (unsigned i = 0; i < req->n_headers; i++) {
		const struct l7_header *hd = &req->headers[i];
		if (hd->name_len != c->header_len || !same(c->header, hd->name, hd->name_len, true))
			continue;
		if (h->absent) {
			h->subject = hd->value;
			h->subject_len = hd->value_len;
			h->absent = false;
		} else {
			h->more++;
		}
		for (unsigned v = 0; v < c->n_values; v++)
			if (pattern_match(&c->values[v].pat, hd->value, hd->value_len, true)) {
				h->value = &c->values[v];
				h->subject = hd->value;
				h->subject_len = hd->value_len;
				return true;
			}
	}
	return false;
}

static bool values_match(const struct l7_condition *c, const char *s, size_t len, bool fold_case, struct hit *h)
{
	h->subject = s;
	h->subject_len = len;
	for (unsigned v = 0; v < c->n_values; v++)
		if (pattern_match(&c->values[v].pat, s, len, fold_case)) {
			h->value = &c->values[v];
			return true;
		}
	return false;
}

static bool condition_match(const struct l7_condition *c, struct match_ctx *m, struct hit *h)
{
	const struct l7_request *req = m->req;

	switch (c->kind) {
	case L7_COND_HOST_HEADER:
		return values_match(c, req->host, req->host_len, true, h);
	case L7_COND_PATH_PATTERN:
		return values_match(c, req->path, req->path_len, false, h);
	case L7_COND_HTTP_REQUEST_METHOD:
		return values_match(c, req->method, req->method_len, false, h);
	case L7_COND_HTTP_HEADER:
		return header_match(c, req, h);
	case L7_COND_QUERY_STRING:
		return query_match(c, m, h);
	case L7_COND_SOURCE_IP:
		for (unsigned v = 0; v < c->n_values; v++)
			if (ip4_prefix_contains(&c->values[v].cidr, req->source_ip)) {
				h->value = &c->values[v];
				return true;
			}
		return false;
	case L7_COND_N:
		break;
	}
	return false;
}

/* A subject from the request, printable whatever its bytes, cut at 100. */
static void append_subject(GString *t, const char *s, size_t len)
{
	if (len == 0) {
		g_string_append(t, "\"\"");
		return;
	}
	for (size_t i = 0; i < len && i < 100; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f)
			g_string_append_c(t, (char)c);
		else
			g_string_append_printf(t, "\\x%02x", c);
	}
	if (len > 100)
		g_string_append(t, "...");
}

static void trace_condition(GString *t, const struct l7_condition *c, const struct l7_request *req,
                            const struct hit *h, bool matched)
{
	char ip[16];
	const char *s = h->subject;
	size_t len = h->subject_len;

	if (c->kind == L7_COND_SOURCE_IP) {
		s = ip4_to_str(req->source_ip, ip);
		len = strlen(s);
	}
	g_string_append_printf(t, "%s %s", c->text, matched ? "matched" : "did not match");
	if (c->kind == L7_COND_HTTP_HEADER && h->absent) {
		g_string_append(t, ": no such header");
		return;
	}
	if (matched && h->value && strlen(h->value->text) == len && memcmp(h->value->text, s, len) == 0)
		return; /* the subject is the value itself */
	g_string_append_c(t, ' ');
	append_subject(t, s, len);
	if (!matched && h->more)
		g_string_append_printf(t, " (and %u more of that name)", h->more);
}

static bool rule_match(const struct l7_rule *r, struct match_ctx *m, GString *trace)
{
	if (!trace) {
		for (unsigned i = 0; i < r->n_conditions; i++) {
			struct hit h = { 0 };
			if (!condition_match(&r->conditions[r->cheap_first[i]], m, &h))
				return false;
		}
		return true;
	}
	if (trace)
		g_string_append_printf(trace, "rule %u: ", r->priority);
	for (unsigned i = 0; i < r->n_conditions; i++) {
		struct hit h = { 0 };
		bool ok = condition_match(&r->conditions[i], m, &h);
		if (trace) {
			if (i)
				g_string_append(trace, "; ");
			trace_condition(trace, &r->conditions[i], m->req, &h, ok);
		}
		if (!ok) {
			if (trace)
				g_string_append(trace, " -> no\n");
			return false;
		}
	}
	if (trace)
		g_string_append_printf(trace, " -> %s\n", r->action.text);
	return true;
}

const struct l7_rule *l7_rules_match(const struct l7_rules *rs, const struct l7_request *req, unsigned *evaluated,
                                     GString *trace)
{
	struct match_ctx m;
	m.req = req;
	m.query = QUERY_UNSPLIT;
	/* The gates first, unless tracing: the trace tells every rule's conditions, and its answer is
	 * the one the gates must give (tests/test_l7_rules.c and the fuzzer compare them). */
	struct gate_subject subj[L7_GATE_N];
	if (!trace) {
		gate_subject_of(&subj[L7_GATE_HOST], req->host, req->host_len, true);
		gate_subject_of(&subj[L7_GATE_PATH], req->path, req->path_len, false);
		gate_subject_of(&subj[L7_GATE_METHOD], req->method, req->method_len, false);
		subj[L7_GATE_SOURCE_IP] = (struct gate_subject){ .len = 0, .head = req->source_ip, .tail = 0 };
	}
	for (unsigned i = 0; i < rs->n; i++)
		if ((trace || gate_pass(&rs->gates[i], subj)) && rule_match(&rs->rules[i], &m, trace)) {
			if (evaluated)
				*evaluated = i + 1;
			return &rs->rules[i];
		}
	if (evaluated)
		*evaluated = rs->n;
	if (trace)
		g_string_append_printf(trace, "default: %s\n", rs->has_default ? rs->default_action.text : "(none)");
	return NULL;
}

const struct l7_action *l7_rules_action(const struct l7_rules *rs, const struct l7_rule *r)
{
	if (r)
		return &r->action;
	return rs->has_default ? &rs->default_action : NULL;
}

unsigned l7_forward_pick(const struct l7_action *a, uint64_t h)
{
	if (a->kind != L7_ACTION_FORWARD || a->forward.total_weight == 0)
		return 0; /* not a forward: there is no group to pick, and no weight to divide by */
	uint64_t r = h % a->forward.total_weight;
	for (unsigned i = 0; i < a->forward.n_groups; i++) {
		if (r < a->forward.groups[i].weight)
			return i;
		r -= a->forward.groups[i].weight;
	}
	return 0; /* not reached: the weights sum to total_weight */
}

void l7_redirect_expand(const struct l7_action *a, const struct l7_request *req, const char *protocol, GString *out)
{
	const char *p = a->redirect.url_template;
	gsize start = out->len;

	if (a->kind != L7_ACTION_REDIRECT || !p)
		return;
	while (*p) {
		if (p[0] == '#' && p[1] == '{') {
			const char *end = strchr(p, '}');
			size_t n = end ? (size_t)(end - p - 2) : 0;
			if (n == 8 && strncmp(p + 2, "protocol", 8) == 0) {
				g_string_append(out, protocol);
			} else if (n == 4 && strncmp(p + 2, "host", 4) == 0) {
				g_string_append_len(out, req->host, (gssize)req->host_len);
			} else if (n == 4 && strncmp(p + 2, "port", 4) == 0) {
				g_string_append_printf(out, "%u", req->port);
			} else if (n == 4 && strncmp(p + 2, "path", 4) == 0) {
				/* ALB's #{path} loses its leading '/', so "/new/#{path}" does not double it. */
				size_t skip = req->path_len && req->path[0] == '/' ? 1 : 0;
				if (req->path_len > skip)
					g_string_append_len(out, req->path + skip, (gssize)(req->path_len - skip));
			} else if (n == 5 && strncmp(p + 2, "query", 5) == 0) {
				g_string_append_len(out, req->query, (gssize)req->query_len);
			} else {
				g_string_append_c(out, *p++); /* the parser let none through; copy it as text */
				continue;
			}
			p = end + 1;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	if (out->len > start && out->str[out->len - 1] == '?')
		g_string_truncate(out, out->len - 1);
}
