/* tests/test_desync.c: request-smuggling classification and ALB's action per mode (lb/desync.c; aws/http-desync-guardian, RFC 9112 6.3).
 *
 * The first table is requests as an HTTP engine parsed them, most taken from
 * http_desync_guardian's own test tables (tests/acceptable.yaml, ambiguous.yaml, severe.yaml,
 * edge-cases.yaml, bad-header-characters.yaml; the row says which) with the tier and reason
 * they expect there.  The second is raw bytes through lb/http1.c, where the line-level reasons
 * (obs-fold, bare LF, missing colon) come from, and where http_parser would have refused some
 * shapes before any classification.  The last is AWS's mode table.
 */
#include <glib.h>
#include <string.h>

#include "lb/desync.h"
#include "lb/http1.h"

struct hdr {
	const char *name, *value;
	size_t value_len; /* 0: strlen(value) */
};

struct classify_case {
	const char *path;
	const char *from; /* where the row comes from */
	const char *method, *target, *version;
	struct hdr h[4];
	enum desync_tier tier;
	enum desync_reason reason;
};

#define POST11 .method = "POST", .target = "/foo/bar", .version = "HTTP/1.1"

static const struct classify_case classify_cases[] = {
	{ "/desync/classify/compliant-post", "ours", POST11, { { "Host", "a" }, { "Content-Length", "10" } },
	  DESYNC_COMPLIANT, DESYNC_Compliant },
	{ "/desync/classify/compliant-chunked-post", "ours", POST11, { { "Transfer-Encoding", "gzip, chunked" } },
	  DESYNC_COMPLIANT, DESYNC_Compliant },
	{ "/desync/classify/http2-is-out-of-scope", "request_analyzer.rs", .method = "GET", .target = "/",
	  .version = "HTTP/2.0", { { "Content-Length", "5" }, { "Content-Length", "6" } }, DESYNC_COMPLIANT,
	  DESYNC_Compliant },
	/* Acceptable */
	{ "/desync/classify/non-essential-header-with-control-char", "acceptable.yaml", POST11,
	  { { "Some-Header", "value\x01" } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantHeader },
	{ "/desync/classify/non-essential-name-with-control-char", "bad-header-characters.yaml", POST11,
	  { { "\x01Some-Header", "v" } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantHeader },
	{ "/desync/classify/get-with-content-length-zero", "acceptable.yaml", .method = "GET", .target = "/",
	  .version = "HTTP/1.1", { { "Content-Length", "0" } }, DESYNC_ACCEPTABLE, DESYNC_GetHeadZeroContentLength },
	{ "/desync/classify/http09-version", "acceptable.yaml", .method = "GET", .target = "/", .version = "HTTP/0.9",
	  { { 0 } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantVersion },
	{ "/desync/classify/empty-version-is-http09", "acceptable.yaml", .method = "GET", .target = "/", .version = "",
	  { { 0 } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantVersion },
	{ "/desync/classify/http12-version", "acceptable.yaml", .method = "GET", .target = "/", .version = "HTTP/1.2",
	  { { 0 } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantVersion },
	{ "/desync/classify/version-with-extra-space", "docs/README.md", .method = "GET", .target = "/",
	  .version = "HTTP/1.1 ", { { 0 } }, DESYNC_ACCEPTABLE, DESYNC_NonCompliantVersion },
	{ "/desync/classify/space-in-uri", "docs/README.md", .method = "GET", .target = "/a b", .version = "HTTP/1.1",
	  { { 0 } }, DESYNC_ACCEPTABLE, DESYNC_SpaceInUri },
	/* Ambiguous */
	{ "/desync/classify/te-with-trailing-space-in-name", "ambiguous.yaml", POST11,
	  { { "Transfer-Encoding ", "chunked" } }, DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-leading-control-char", "ambiguous.yaml", POST11,
	  { { "\x01Transfer-Encoding", "chunked" } }, DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-space-in-the-middle", "ambiguous.yaml", POST11,
	  { { "Transfer- Encoding", "chunked" } }, DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-underscore", "ambiguous.yaml", POST11, { { "Transfer_Encoding", "chunked" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/cl-with-underscore", "ambiguous.yaml", POST11, { { "Content_Length", "1000" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-long-s", "ambiguous.yaml", POST11, { { "Tran\xc5\xbf" "fer-Encoding", "chunked" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-dotless-i", "ambiguous.yaml", POST11, { { "Transfer-Encod\xc4\xb1ng", "chunked" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-multiple-hyphens", "ambiguous.yaml", POST11, { { "Transfer---Encoding", "chunked" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/te-with-utf8-delimiter", "ambiguous.yaml", POST11,
	  { { "Transfer\xe2\x80\x95" "Encoding", "chunked" } }, DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/cl-with-leading-nbsp", "ambiguous.yaml", POST11, { { "\xa0" "Content-Length", "1" } },
	  DESYNC_AMBIGUOUS, DESYNC_SuspiciousHeader },
	{ "/desync/classify/a-longer-name-is-not-suspicious", "ours", POST11, { { "X-Transfer-Encoding", "chunked" } },
	  DESYNC_COMPLIANT, DESYNC_Compliant },
	{ "/desync/classify/duplicate-content-length-same-value", "ambiguous.yaml", POST11,
	  { { "Content-Length", "1000" }, { "Content-Length", "1000" } }, DESYNC_AMBIGUOUS, DESYNC_DuplicateContentLength },
	{ "/desync/classify/cl-te-both-present", "ambiguous.yaml", POST11,
	  { { "Transfer-Encoding", "chunked" }, { "Content-Length", "100" } }, DESYNC_AMBIGUOUS, DESYNC_BothTeClPresent },
	{ "/desync/classify/te-gzip-and-cl-both-present", "ambiguous.yaml", POST11,
	  { { "Transfer-Encoding", "gzip" }, { "Content-Length", "100" } }, DESYNC_AMBIGUOUS, DESYNC_BothTeClPresent },
	{ "/desync/classify/get-with-content-length", "ambiguous.yaml", .method = "GET", .target = "/",
	  .version = "HTTP/1.1", { { "Content-Length", "5" } }, DESYNC_AMBIGUOUS, DESYNC_UndefinedContentLengthSemantics },
	{ "/desync/classify/head-with-transfer-encoding", "ambiguous.yaml", .method = "HEAD", .target = "/",
	  .version = "HTTP/1.1", { { "Transfer-Encoding", "chunked" } }, DESYNC_AMBIGUOUS,
	  DESYNC_UndefinedTransferEncodingSemantics },
	{ "/desync/classify/empty-header-name", "ambiguous.yaml", POST11, { { "", "x" } }, DESYNC_AMBIGUOUS,
	  DESYNC_EmptyHeader },
	{ "/desync/classify/header-name-starts-with-colon", "ambiguous.yaml", POST11, { { ":authority", "x" } },
	  DESYNC_AMBIGUOUS, DESYNC_EmptyHeader },
	{ "/desync/classify/whitespace-only-header-name", "ambiguous.yaml", POST11, { { "  ", "x" } }, DESYNC_AMBIGUOUS,
	  DESYNC_EmptyHeader },
	{ "/desync/classify/te-in-http10", "ambiguous.yaml", .method = "POST", .target = "/", .version = "HTTP/1.0",
	  { { "Transfer-Encoding", "chunked" } }, DESYNC_AMBIGUOUS, DESYNC_UndefinedTransferEncodingSemantics },
	{ "/desync/classify/cl-in-http09", "ambiguous.yaml", .method = "POST", .target = "/", .version = "",
	  { { "Content-Length", "1" } }, DESYNC_AMBIGUOUS, DESYNC_UndefinedContentLengthSemantics },
	{ "/desync/classify/control-char-in-uri", "docs/README.md", .method = "GET", .target = "/a\x01", .version = "HTTP/1.1",
	  { { 0 } }, DESYNC_AMBIGUOUS, DESYNC_AmbiguousUri },
	/* Severe */
	{ "/desync/classify/multiple-content-length", "severe.yaml", POST11,
	  { { "Content-Length", "1000" }, { "Content-Length", "100" } }, DESYNC_SEVERE, DESYNC_MultipleContentLength },
	{ "/desync/classify/cl-list-1000-1000", "severe.yaml", POST11, { { "Content-Length", "1000,1000" } },
	  DESYNC_SEVERE, DESYNC_BadContentLength },
	{ "/desync/classify/cl-1000-space-1000", "severe.yaml", POST11, { { "Content-Length", "1000 1000" } },
	  DESYNC_SEVERE, DESYNC_BadContentLength },
	{ "/desync/classify/cl-with-plus-sign", "ours", POST11, { { "Content-Length", "+5" } }, DESYNC_SEVERE,
	  DESYNC_BadContentLength },
	{ "/desync/classify/cl-empty", "ours (the library reads 0)", POST11, { { "Content-Length", "" } },
	  DESYNC_SEVERE, DESYNC_BadContentLength },
	{ "/desync/classify/cl-64-bit-overflow", "severe.yaml", POST11, { { "Content-Length", "18446744073709551616" } },
	  DESYNC_SEVERE, DESYNC_BadContentLength },
	{ "/desync/classify/cl-max-64-bit-is-a-number", "ours", POST11, { { "Content-Length", "18446744073709551615" } },
	  DESYNC_COMPLIANT, DESYNC_Compliant },
	{ "/desync/classify/te-xchunked", "severe.yaml", POST11, { { "Transfer-Encoding", "xchunked" } }, DESYNC_SEVERE,
	  DESYNC_BadTransferEncoding },
	{ "/desync/classify/te-chunked-with-control-char", "severe.yaml", POST11, { { "Transfer-Encoding", "chunked\x11" } },
	  DESYNC_SEVERE, DESYNC_BadTransferEncoding },
	{ "/desync/classify/te-chunked-twice-in-two-headers", "severe.yaml", POST11,
	  { { "Transfer-Encoding", "chunked" }, { "Transfer-Encoding", "chunked" } }, DESYNC_SEVERE,
	  DESYNC_MultipleTransferEncodingChunked },
	{ "/desync/classify/te-chunked-comma-chunked", "severe.yaml", POST11, { { "Transfer-Encoding", "chunked, chunked" } },
	  DESYNC_SEVERE, DESYNC_MultipleTransferEncodingChunked },
	{ "/desync/classify/te-chunked-gzip-chunked", "ours (the library: only twice in a row)", POST11,
	  { { "Transfer-Encoding", "chunked, gzip, chunked" } }, DESYNC_SEVERE, DESYNC_MultipleTransferEncodingChunked },
	{ "/desync/classify/folded-value-with-crlf-inside", "severe.yaml", POST11,
	  { { "Content-Length", "1000" }, { "Some-Custom-Header", "Multi-line\r\n Transfer-Encoding: chunked" } },
	  DESYNC_SEVERE, DESYNC_BadHeader },
	{ "/desync/classify/nul-in-value", "severe.yaml", POST11, { { "X", "a\0b", 3 } }, DESYNC_SEVERE, DESYNC_BadHeader },
	{ "/desync/classify/cr-in-name", "severe.yaml", POST11, { { "X\rY", "a" } }, DESYNC_SEVERE, DESYNC_BadHeader },
	{ "/desync/classify/suspicious-cl-with-other-value", "severe.yaml", POST11,
	  { { "Content-Length ", "10" }, { "Content-Length", "11" } }, DESYNC_SEVERE, DESYNC_MultipleContentLength },
	{ "/desync/classify/suspicious-te-and-te-chunked", "severe.yaml", POST11,
	  { { "Transfer-Encoding ", "chunked" }, { "Transfer-Encoding", "chunked" } }, DESYNC_SEVERE,
	  DESYNC_MultipleTransferEncodingChunked },
	{ "/desync/classify/bad-method", "severe.yaml", .method = "GE(T", .target = "/", .version = "HTTP/1.1", { { 0 } },
	  DESYNC_SEVERE, DESYNC_BadMethod },
	{ "/desync/classify/bad-version", "docs/README.md", .method = "GET", .target = "/", .version = "HTTP/1.x",
	  { { 0 } }, DESYNC_SEVERE, DESYNC_BadVersion },
	{ "/desync/classify/cr-in-uri", "docs/README.md", .method = "GET", .target = "/a\rb", .version = "HTTP/1.1",
	  { { 0 } }, DESYNC_SEVERE, DESYNC_BadUri },
	/* ties: the first rule to reach the highest tier names it */
	{ "/desync/classify/bad-header-does-not-shadow-bad-cl", "edge-cases.yaml", POST11,
	  { { "X-Custom", "\x01" }, { "Content-Length", "1x" } }, DESYNC_SEVERE, DESYNC_BadContentLength },
	{ "/desync/classify/te-reasons-come-before-cl-reasons", "edge-cases.yaml", POST11,
	  { { "Content-Length", "a" }, { "Transfer-Encoding", "bogus" } }, DESYNC_SEVERE, DESYNC_BadTransferEncoding },
	{ "/desync/classify/bad-uri-does-not-shadow-ambiguous-cl", "edge-cases.yaml", .method = "HEAD", .target = "/\x01",
	  .version = "HTTP/1.1", { { "Content-Length", "10" } }, DESYNC_AMBIGUOUS, DESYNC_UndefinedContentLengthSemantics },
};

static void test_classify(gconstpointer data)
{
	const struct classify_case *tc = data;
	struct http1_header h[4];
	unsigned n = 0;

	for (; n < G_N_ELEMENTS(tc->h) && tc->h[n].name; n++)
		h[n] = (struct http1_header){ tc->h[n].name, strlen(tc->h[n].name), tc->h[n].value,
		                              tc->h[n].value_len ? tc->h[n].value_len : strlen(tc->h[n].value) };
	struct desync_verdict v = desync_classify_request(tc->method, strlen(tc->method), tc->target, strlen(tc->target),
	                                                  tc->version, strlen(tc->version), h, n);
	g_test_message("from %s", tc->from);
	g_assert_cmpstr(desync_tier_name(v.tier), ==, desync_tier_name(tc->tier));
	g_assert_cmpstr(desync_reason_name(v.reason), ==, desync_reason_name(tc->reason));
	g_assert_cmpint(desync_reason_tier(v.reason), ==, v.tier);
}

/* ---- raw requests through the framer ---- */

struct raw_case {
	const char *path;
	const uint8_t *bytes;
	size_t len;
	enum desync_tier tier;
	enum desync_reason reason;
	bool framed; /* the framer found its end (else: an error follows the head) */
};

#define RAW(s) (const uint8_t *)(s), sizeof(s) - 1

static const struct raw_case raw_cases[] = {
	{ "/desync/raw/compliant", RAW("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"), DESYNC_COMPLIANT,
	  DESYNC_Compliant, true },
	{ "/desync/raw/cl-te", RAW("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	  DESYNC_AMBIGUOUS, DESYNC_BothTeClPresent, true },
	{ "/desync/raw/te-cl", RAW("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
	  DESYNC_AMBIGUOUS, DESYNC_BothTeClPresent, true },
	{ "/desync/raw/duplicate-cl-same-value", RAW("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
	  DESYNC_AMBIGUOUS, DESYNC_DuplicateContentLength, true },
	{ "/desync/raw/duplicate-cl-different-values", RAW("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy"),
	  DESYNC_SEVERE, DESYNC_MultipleContentLength, false },
	{ "/desync/raw/te-chunked-comma-chunked",
	  RAW("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"), DESYNC_SEVERE,
	  DESYNC_MultipleTransferEncodingChunked, false },
	{ "/desync/raw/te-gzip-chunked", RAW("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
	  DESYNC_COMPLIANT, DESYNC_Compliant, true },
	/* the first line's empty value is no coding at all (the library says the same); the
	 * framer, like http_parser, reads the folded value as chunked */
	{ "/desync/raw/te-obs-fold", RAW("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"),
	  DESYNC_SEVERE, DESYNC_BadTransferEncoding, true },
	{ "/desync/raw/obs-fold-of-another-header", RAW("GET / HTTP/1.1\r\nX-Long: a\r\n\tb\r\n\r\n"),
	  DESYNC_AMBIGUOUS, DESYNC_MultilineHeader, true },
	{ "/desync/raw/folded-line-mimicking-te",
	  RAW("POST / HTTP/1.1\r\nX-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx"), DESYNC_AMBIGUOUS,
	  DESYNC_MultilineHeader, true },
	{ "/desync/raw/content-type-may-fold", RAW("POST / HTTP/1.1\r\nContent-Type: text/plain;\r\n charset=utf-8\r\n\r\n"),
	  DESYNC_COMPLIANT, DESYNC_Compliant, true },
	{ "/desync/raw/te-space-before-colon",
	  RAW("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\nContent-Length: 1\r\n\r\nx"), DESYNC_AMBIGUOUS,
	  DESYNC_SuspiciousHeader, true },
	{ "/desync/raw/cl-plus-5", RAW("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello"), DESYNC_SEVERE,
	  DESYNC_BadContentLength, false },
	{ "/desync/raw/cl-5-space-5", RAW("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\nhello"), DESYNC_SEVERE,
	  DESYNC_BadContentLength, false },
	{ "/desync/raw/get-with-cl-0", RAW("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), DESYNC_ACCEPTABLE,
	  DESYNC_GetHeadZeroContentLength, true },
	{ "/desync/raw/get-with-body", RAW("GET / HTTP/1.1\r\nContent-Length: 2\r\n\r\nab"), DESYNC_AMBIGUOUS,
	  DESYNC_UndefinedContentLengthSemantics, true },
	{ "/desync/raw/bare-lf-lines", RAW("GET / HTTP/1.1\nHost: a\n\n"), DESYNC_ACCEPTABLE, DESYNC_NonCrLfLineTermination,
	  true },
	{ "/desync/raw/missing-colon", RAW("GET / HTTP/1.1\r\nHost a\r\n\r\n"), DESYNC_AMBIGUOUS, DESYNC_MissingHeaderColon,
	  true },
	{ "/desync/raw/missing-uri", RAW("GET  HTTP/1.1\r\n\r\n"), DESYNC_AMBIGUOUS, DESYNC_MissingUri, true },
	{ "/desync/raw/space-in-uri", RAW("GET /a b HTTP/1.1\r\n\r\n"), DESYNC_ACCEPTABLE, DESYNC_SpaceInUri, true },
	{ "/desync/raw/nul-in-value", RAW("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"), DESYNC_SEVERE, DESYNC_BadHeader, true },
	{ "/desync/raw/lone-cr-in-value", RAW("GET / HTTP/1.1\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n"), DESYNC_SEVERE,
	  DESYNC_BadHeader, true },
	{ "/desync/raw/http12", RAW("GET / HTTP/1.2\r\n\r\n"), DESYNC_ACCEPTABLE, DESYNC_NonCompliantVersion, true },
	{ "/desync/raw/bad-version", RAW("GET / HTTP/1.x\r\n\r\n"), DESYNC_SEVERE, DESYNC_BadVersion, false },
};

struct raw_seen {
	struct desync_verdict v;
	unsigned heads, ends, errors;
};

static void raw_head(void *ctx, const struct http1_head *h)
{
	struct raw_seen *r = ctx;
	r->v = h->desync;
	r->heads++;
}

static void raw_end(void *ctx, uint64_t end)
{
	(void)end;
	((struct raw_seen *)ctx)->ends++;
}

static void raw_error(void *ctx, uint64_t off, enum http1_error e)
{
	(void)off;
	(void)e;
	((struct raw_seen *)ctx)->errors++;
}

static void test_raw(gconstpointer data)
{
	const struct raw_case *tc = data;
	struct raw_seen seen = { 0 };
	struct http1_consumer c = { raw_head, NULL, raw_end, raw_error, &seen };
	struct http1_stream s;
	uint8_t *copy = g_memdup2(tc->bytes, tc->len);

	http1_stream_init(&s, HTTP1_REQUESTS, NULL, &c);
	http1_stream_feed(&s, 0, copy, (uint32_t)tc->len);
	g_assert_cmpuint(seen.heads, ==, 1);
	g_assert_cmpstr(desync_tier_name(seen.v.tier), ==, desync_tier_name(tc->tier));
	g_assert_cmpstr(desync_reason_name(seen.v.reason), ==, desync_reason_name(tc->reason));
	g_assert_cmpuint(seen.ends, ==, (tc->framed ? 1u : 0u));
	g_assert_cmpuint(seen.errors, ==, (tc->framed ? 0u : 1u));
	http1_stream_clear(&s);
	g_free(copy);
}

/* ---- AWS's table ---- */

static void test_mode_actions(void)
{
	static const struct {
		enum desync_mode mode;
		enum desync_action want[4]; /* Compliant, Acceptable, Ambiguous, Severe */
	} rows[] = {
		{ DESYNC_MODE_MONITOR, { DESYNC_FORWARD, DESYNC_FORWARD, DESYNC_FORWARD, DESYNC_FORWARD } },
		{ DESYNC_MODE_DEFENSIVE, { DESYNC_FORWARD, DESYNC_FORWARD, DESYNC_FORWARD_THEN_CLOSE, DESYNC_REJECT_400 } },
		{ DESYNC_MODE_STRICTEST, { DESYNC_FORWARD, DESYNC_REJECT_400, DESYNC_REJECT_400, DESYNC_REJECT_400 } },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(rows); i++)
		for (unsigned t = 0; t < 4; t++) {
			struct desync_verdict v = { (enum desync_tier)t, DESYNC_Compliant };
			g_assert_cmpstr(desync_action_name(desync_action(rows[i].mode, v)), ==,
			                desync_action_name(rows[i].want[t]));
		}
}

static void test_mode_names(void)
{
	static const char *const names[] = { "monitor", "defensive", "strictest" };
	enum desync_mode m;
	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
		g_assert_true(desync_mode_parse(names[i], &m));
		g_assert_cmpint(m, ==, i);
		g_assert_cmpstr(desync_mode_name(m), ==, names[i]);
	}
	g_assert_false(desync_mode_parse("Defensive", &m));
	g_assert_false(desync_mode_parse("", &m));
	g_assert_false(desync_mode_parse(NULL, &m));
}

/* The names are the library's, so ALB's access-log classification_reason reads the same. */
static void test_reason_names(void)
{
	static const char *const names[] = {
		"Compliant", "EmptyHeader", "SuspiciousHeader", "NonCompliantHeader", "BadHeader", "AmbiguousUri",
		"SpaceInUri", "BadUri", "NonCompliantVersion", "BadVersion", "GetHeadZeroContentLength",
		"UndefinedContentLengthSemantics", "MultipleContentLength", "DuplicateContentLength", "BadContentLength",
		"UndefinedTransferEncodingSemantics", "MultipleTransferEncodingChunked", "BadTransferEncoding",
		"BothTeClPresent", "BadMethod", "NonCrLfLineTermination", "MultilineHeader", "PartialHeaderLine",
		"MissingLastEmptyLine", "MissingHeaderColon", "MissingUri",
	};
	g_assert_cmpuint(G_N_ELEMENTS(names), ==, DESYNC_REASON_N);
	for (unsigned i = 0; i < DESYNC_REASON_N; i++) {
		g_assert_cmpstr(desync_reason_name((enum desync_reason)i), ==, names[i]);
		g_assert_cmpuint(strlen(desync_reason_text((enum desync_reason)i)), >, 8);
	}
	g_assert_cmpstr(desync_tier_name(DESYNC_AMBIGUOUS), ==, "Ambiguous");
}

static void test_upgrade_keeps_the_first_reason(void)
{
	struct desync_verdict v = { DESYNC_COMPLIANT, DESYNC_Compliant };
	desync_upgrade(&v, DESYNC_SpaceInUri);
	desync_upgrade(&v, DESYNC_NonCompliantHeader); /* same tier: the first stays */
	g_assert_cmpint(v.reason, ==, DESYNC_SpaceInUri);
	desync_upgrade(&v, DESYNC_BadUri);
	desync_upgrade(&v, DESYNC_EmptyHeader); /* lower: no change */
	g_assert_cmpint(v.tier, ==, DESYNC_SEVERE);
	g_assert_cmpint(v.reason, ==, DESYNC_BadUri);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(classify_cases); i++)
		g_test_add_data_func(classify_cases[i].path, &classify_cases[i], test_classify);
	for (unsigned i = 0; i < G_N_ELEMENTS(raw_cases); i++)
		g_test_add_data_func(raw_cases[i].path, &raw_cases[i], test_raw);
	g_test_add_func("/desync/mode/aws-table-of-actions", test_mode_actions);
	g_test_add_func("/desync/mode/names-parse", test_mode_names);
	g_test_add_func("/desync/reasons/names-are-the-librarys", test_reason_names);
	g_test_add_func("/desync/reasons/upgrade-keeps-the-first-reason", test_upgrade_keeps_the_first_reason);
	return g_test_run();
}
