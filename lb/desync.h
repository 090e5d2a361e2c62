/* lb/desync.h: HTTP/1.x request-smuggling (desync) classification of a request head, and what ALB does with each tier in each mode.
 *
 * Follows aws/http-desync-guardian (docs/README.md "Request classification", src/request_analyzer.rs):
 * four tiers, each request gets the highest tier any rule gives it and the reason of the first
 * rule that reached that tier; reason names are the library's own (ClassificationReason), so they
 * match ALB access logs' classification_reason field.  The mode table is AWS "Application Load
 * Balancers: Desync mitigation mode" (monitor / defensive / strictest).
 *
 * Framing of what is forwarded (lb/http1.c, RFC 9112 section 6.3): a request with both
 * Transfer-Encoding and Content-Length (BothTeClPresent, CL.TE or TE.CL) is framed by the
 * Transfer-Encoding (6.3 item 3: it overrides Content-Length), and the Content-Length line is
 * not part of the framing (the forwarder must remove it, 6.3 item 3's "MUST remove"); duplicate
 * Content-Length lines with one value (DuplicateContentLength) are framed by that value (6.3
 * item 5 allows replacing them by one).  Defensive mode forwards both but closes the client and
 * target connections afterwards, so nothing a target might read differently can follow them.
 */
#ifndef NATLB_LB_DESYNC_H
#define NATLB_LB_DESYNC_H

#include <stdbool.h>
#include <stddef.h>

enum desync_tier {
	DESYNC_COMPLIANT,  /* RFC compliant */
	DESYNC_ACCEPTABLE, /* not compliant, but no desync risk */
	DESYNC_AMBIGUOUS,  /* servers may disagree on where it ends */
	DESYNC_SEVERE,     /* malformed, or crafted to make parsers disagree */
};

/* X(name, tier, sentence): http_desync_guardian's ClassificationReason names, in its order. */
#define foreach_desync_reason                                                                          \
	X(Compliant, COMPLIANT, "a compliant request")                                                   \
	X(EmptyHeader, AMBIGUOUS, "an empty header name, or a line of whitespace only")                 \
	X(SuspiciousHeader, AMBIGUOUS, "a header name that normalises to Transfer-Encoding or Content-Length") \
	X(NonCompliantHeader, ACCEPTABLE, "a header with non-ASCII or control characters")              \
	X(BadHeader, SEVERE, "a header containing NUL, CR or LF")                                        \
	X(AmbiguousUri, AMBIGUOUS, "a request-target containing control characters")                    \
	X(SpaceInUri, ACCEPTABLE, "an unescaped space in the request-target")                           \
	X(BadUri, SEVERE, "a request-target containing NUL, CR or LF")                                   \
	X(NonCompliantVersion, ACCEPTABLE, "a version with extra spaces, missing (HTTP/0.9) or HTTP/1.2-1.9") \
	X(BadVersion, SEVERE, "a malformed version")                                                     \
	X(GetHeadZeroContentLength, ACCEPTABLE, "GET or HEAD with Content-Length: 0")                   \
	X(UndefinedContentLengthSemantics, AMBIGUOUS, "Content-Length on GET or HEAD, or before HTTP/1.0") \
	X(MultipleContentLength, SEVERE, "Content-Length headers with different values")               \
	X(DuplicateContentLength, AMBIGUOUS, "Content-Length repeated with the same value")            \
	X(BadContentLength, SEVERE, "a Content-Length that is not a decimal number")                   \
	X(UndefinedTransferEncodingSemantics, AMBIGUOUS, "Transfer-Encoding on GET or HEAD, or before HTTP/1.1") \
	X(MultipleTransferEncodingChunked, SEVERE, "chunked applied more than once")                   \
	X(BadTransferEncoding, SEVERE, "an unknown transfer coding")                                     \
	X(BothTeClPresent, AMBIGUOUS, "both Transfer-Encoding and Content-Length")                     \
	X(BadMethod, SEVERE, "a method that is not a token")                                             \
	X(NonCrLfLineTermination, ACCEPTABLE, "a line ended by LF alone")                               \
	X(MultilineHeader, AMBIGUOUS, "an obs-fold continuation line (other than Content-Type)")       \
	X(PartialHeaderLine, AMBIGUOUS, "a header line that was not terminated")                        \
	X(MissingLastEmptyLine, AMBIGUOUS, "no empty line at the end of the head")                      \
	X(MissingHeaderColon, AMBIGUOUS, "a header line without a colon")                               \
	X(MissingUri, AMBIGUOUS, "no request-target in the request line")

enum desync_reason {
#define X(name, tier, text) DESYNC_##name,
	foreach_desync_reason
#undef X
	DESYNC_REASON_N
};

struct desync_verdict {
	enum desync_tier tier;
	enum desync_reason reason; /* the first rule that reached tier */
};

/* AWS's names: "monitor", "defensive" (ALB's default), "strictest". */
enum desync_mode { DESYNC_MODE_MONITOR, DESYNC_MODE_DEFENSIVE, DESYNC_MODE_STRICTEST };

enum desync_action {
	DESYNC_FORWARD,            /* route it, connections stay reusable */
	DESYNC_FORWARD_THEN_CLOSE, /* route it, then close the client and the target connection */
	DESYNC_REJECT_400,         /* answer 400 and close the client connection */
};

struct http1_header; /* lb/http1-t.h */

/* Classify a parsed request: method, request-target and version as they appear in the request
 * line (version without the line's CRLF; an empty version is HTTP/0.9), headers as received
 * (names untrimmed, values without surrounding OWS). */
struct desync_verdict desync_classify_request(const char *method, size_t method_len, const char *target,
                                              size_t target_len, const char *version, size_t version_len,
                                              const struct http1_header *h, unsigned n);

/* The tier a reason puts a request in (the X-macro's second column). */
enum desync_tier desync_reason_tier(enum desync_reason r);

/* Raise v to r's tier with reason r, unless v is already at that tier or above (the first reason
 * to reach a tier stays, as in the library). */
void desync_upgrade(struct desync_verdict *v, enum desync_reason r);

/* a, then b applied on top of it, as if b's rules ran after a's. */
struct desync_verdict desync_merge(struct desync_verdict a, struct desync_verdict b);

enum desync_action desync_action(enum desync_mode m, struct desync_verdict v);

const char *desync_tier_name(enum desync_tier t);     /* "Compliant", "Acceptable", ... */
const char *desync_reason_name(enum desync_reason r); /* "BothTeClPresent", ... */
const char *desync_reason_text(enum desync_reason r); /* the sentence */
const char *desync_mode_name(enum desync_mode m);
const char *desync_action_name(enum desync_action a);
bool desync_mode_parse(const char *s, enum desync_mode *m);

#endif
