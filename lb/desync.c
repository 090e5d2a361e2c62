/* lb/desync.c: classify an HTTP/1.x request into http_desync_guardian's tiers, and map tier and mode to ALB's action (see desync.h).
 *
 * Rules, in the order they run (the library's order, so the same reason wins a tie):
 * each header's characters, empty names, names that normalise to Transfer-Encoding or
 * Content-Length; then the Transfer-Encoding and Content-Length values together; the method;
 * the version; the request-target.  Written from the library's documentation and behaviour;
 * two deliberate differences, both stricter: an empty Content-Length is BadContentLength (the
 * library reads it as 0; RFC 9110 8.6 wants 1*DIGIT), and chunked twice anywhere in the
 * Transfer-Encoding list is MultipleTransferEncodingChunked, not only twice in a row.
 */
#include <string.h>

#include "lb/desync.h"
#include "lb/http1.h"

static const struct {
	const char *name;
	enum desync_tier tier;
	const char *text;
} reasons[DESYNC_REASON_N] = {
#define X(name, tier, text) [DESYNC_##name] = { #name, DESYNC_##tier, text },
	foreach_desync_reason
#undef X
};

enum desync_tier desync_reason_tier(enum desync_reason r)
{
	return (unsigned)r < DESYNC_REASON_N ? reasons[r].tier : DESYNC_SEVERE;
}

const char *desync_reason_name(enum desync_reason r)
{
	return (unsigned)r < DESYNC_REASON_N ? reasons[r].name : "?";
}

const char *desync_reason_text(enum desync_reason r)
{
	return (unsigned)r < DESYNC_REASON_N ? reasons[r].text : "?";
}

const char *desync_tier_name(enum desync_tier t)
{
	static const char *const names[] = { "Compliant", "Acceptable", "Ambiguous", "Severe" };
	return (unsigned)t < 4 ? names[t] : "?";
}

static const char *const mode_names[] = { "monitor", "defensive", "strictest" };

const char *desync_mode_name(enum desync_mode m)
{
	return (unsigned)m < 3 ? mode_names[m] : "?";
}

const char *desync_action_name(enum desync_action a)
{
	static const char *const names[] = { "forward", "forward-then-close", "reject-400" };
	return (unsigned)a < 3 ? names[a] : "?";
}

bool desync_mode_parse(const char *s, enum desync_mode *m)
{
	for (unsigned i = 0; s && i < 3; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*m = (enum desync_mode)i;
			return true;
		}
	return false;
}

void desync_upgrade(struct desync_verdict *v, enum desync_reason r)
{
	enum desync_tier t = desync_reason_tier(r);
	if (t > v->tier) {
		v->tier = t;
		v->reason = r;
	}
}

struct desync_verdict desync_merge(struct desync_verdict a, struct desync_verdict b)
{
	return b.tier > a.tier ? b : a;
}

/* AWS's table: monitor forwards everything (metrics only); defensive forwards Compliant and
 * Acceptable, forwards Ambiguous but closes both connections afterwards, blocks Severe; strictest
 * forwards Compliant only. */
enum desync_action desync_action(enum desync_mode m, struct desync_verdict v)
{
	switch (m) {
	case DESYNC_MODE_MONITOR:
		return DESYNC_FORWARD;
	case DESYNC_MODE_DEFENSIVE:
		return v.tier <= DESYNC_ACCEPTABLE ? DESYNC_FORWARD
		       : v.tier == DESYNC_AMBIGUOUS ? DESYNC_FORWARD_THEN_CLOSE
		                                    : DESYNC_REJECT_400;
	case DESYNC_MODE_STRICTEST:
		return v.tier == DESYNC_COMPLIANT ? DESYNC_FORWARD : DESYNC_REJECT_400;
	}
	return DESYNC_REJECT_400;
}

/* ---- character classes (RFC 9110 5.6.2 tchar, 5.5 field-vchar) ---- */

static bool is_alnum(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

static bool is_ws(uint8_t b)
{
	return b == ' ' || b == '\t';
}

/* NUL, CR, LF: never part of a field or a target; the library's "bad" characters. */
static bool is_bad(uint8_t b)
{
	return b == 0 || b == '\r' || b == '\n';
}


enum header_tier { HDR_OK, HDR_NONCOMPLIANT, HDR_BAD };

static enum header_tier chars_tier(const uint8_t *p, size_t n, bool name)
{
	enum header_tier t = HDR_OK;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		bool ok = name ? http1_is_tchar(b) : (b >= 0x20 && b != 0x7f) || b == '\t';
		if (ok)
			continue;
		if (is_bad(b))
			return HDR_BAD;
		t = HDR_NONCOMPLIANT;
	}
	return t;
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


/* ---- how close a header name is to "transfer-encoding" or "content-length" ---- */

enum similarity { SIM_DISTANT, SIM_SAME_LETTERS, SIM_IDENTICAL };

/* Does name[i..] start with the letter c, case-folded?  Two UTF-8 letters upper-case to ASCII
 * letters of these names (U+017F long s -> S, U+0131 dotless i -> I), the trick that makes
 * "Transfer-Encodıng" a Transfer-Encoding for a server that folds case with Unicode rules. */
static size_t letter_at(const uint8_t *name, size_t n, size_t i, char c)
{
	if (http1_ascii_lower(name[i]) == (unsigned char)c)
		return 1;
	if (i + 1 < n && ((c == 's' && name[i] == 0xc5 && name[i + 1] == 0xbf) ||
	                  (c == 'i' && name[i] == 0xc4 && name[i + 1] == 0xb1)))
		return 2;
	return 0;
}

static size_t skip_non_alnum(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && !is_alnum(p[i]))
		i++;
	return i;
}

/* Identical: the name itself, any case.  Same letters: what a sanitising parser could turn into
 * it: its letters in order, with anything but letters and digits around or in place of the
 * hyphen, whitespace or control bytes after a letter, the two UTF-8 look-alikes above. */
static enum similarity similarity(const char *canon, const uint8_t *name, size_t n)
{
	size_t k = strlen(canon), i = skip_non_alnum(name, n, 0);
	bool identical = i == 0 && n == k;

	if (n < k)
		return SIM_DISTANT;
	for (size_t j = 0; j < k; j++) {
		if (i >= n)
			return SIM_DISTANT;
		if (canon[j] == '-') {
			if (name[i] == '-')
				i++;
			else
				identical = false;
			i = skip_non_alnum(name, n, i);
			continue;
		}
		size_t w = letter_at(name, n, i, canon[j]);
		if (!w)
			return SIM_DISTANT;
		if (w == 2)
			identical = false;
		i += w;
		while (i < n && name[i] <= ' ' && j + 1 < k && canon[j + 1] != '-') {
			i++;
			identical = false;
		}
	}
	if (i == n && identical)
		return SIM_IDENTICAL;
	return skip_non_alnum(name, n, i) == n ? SIM_SAME_LETTERS : SIM_DISTANT;
}

/* ---- Content-Length and Transfer-Encoding values ---- */

/* 1*DIGIT, surrounding OWS allowed, no sign, no list, no overflow of 64 bits. */
static bool parse_length(const uint8_t *p, size_t n, uint64_t *out)
{
	trim(&p, &n);
	if (!n)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* One element of a Transfer-Encoding list: a coding RFC 9112 7 registers (parameters allowed),
 * or not.  Sets *chunked when it is chunked. */
static bool valid_coding(const uint8_t *p, size_t n, bool *chunked)
{
	static const char *const codings[] = { "chunked", "compress", "deflate", "gzip", "identity" };
	const uint8_t *semi = memchr(p, ';', n);
	if (semi)
		n = (size_t)(semi - p);
	trim(&p, &n);
	for (unsigned i = 0; i < sizeof codings / sizeof codings[0]; i++)
		if (http1_name_is((const char *)p, n, codings[i])) {
			*chunked = i == 0;
			return true;
		}
	return false;
}

/* Compare version tokens as the library does (bytewise), e.g. "HTTP/1.0" < "HTTP/1.1". */
static int version_cmp(const uint8_t *v, size_t n, const char *ref)
{
	size_t k = strlen(ref), m = n < k ? n : k;
	int c = memcmp(v, ref, m);
	return c ? c : (n > k) - (n < k);
}

struct te_cl {
	unsigned n_te, n_cl;
	bool chunked_seen, has_cl;
	uint64_t cl;
};

static void check_te(struct desync_verdict *v, struct te_cl *st, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i <= n) {
		const uint8_t *comma = i < n ? memchr(p + i, ',', n - i) : NULL;
		size_t end = comma ? (size_t)(comma - p) : n;
		bool chunked = false;
		if (!valid_coding(p + i, end - i, &chunked))
			desync_upgrade(v, DESYNC_BadTransferEncoding);
		else if (chunked && st->chunked_seen)
			desync_upgrade(v, DESYNC_MultipleTransferEncodingChunked);
		st->chunked_seen |= chunked;
		i = end + 1;
	}
}

static void check_cl(struct desync_verdict *v, struct te_cl *st, const uint8_t *p, size_t n)
{
	uint64_t cl;
	if (!parse_length(p, n, &cl)) {
		desync_upgrade(v, DESYNC_BadContentLength);
		return;
	}
	if (!st->has_cl) {
		st->has_cl = true;
		st->cl = cl;
	} else if (cl != st->cl) {
		desync_upgrade(v, DESYNC_MultipleContentLength);
	} else {
		desync_upgrade(v, DESYNC_DuplicateContentLength);
	}
}

enum header_role { ROLE_OTHER, ROLE_TE, ROLE_CL };

/* One header's own rules (characters, empty name, near-miss names) applied to v, and whether it
 * takes part in framing.  A near-miss counts as framing: some server on the way may read it so. */
static enum header_role header_role(const struct http1_header *hd, struct desync_verdict *v)
{
	const uint8_t *name = (const uint8_t *)hd->name, *val = (const uint8_t *)hd->value;
	size_t nl = name ? hd->name_len : 0, vl = val ? hd->value_len : 0;
	enum similarity te = similarity("transfer-encoding", name, nl);
	enum similarity cl = te == SIM_DISTANT ? similarity("content-length", name, nl) : SIM_DISTANT;
	bool essential = te == SIM_IDENTICAL || cl == SIM_IDENTICAL;
	enum header_tier nt = chars_tier(name, nl, true), vtier = chars_tier(val, vl, false);
	enum header_tier tier = nt > vtier ? nt : vtier;
	const uint8_t *tn = name;
	size_t tnl = nl;

	if (tier == HDR_BAD)
		desync_upgrade(v, DESYNC_BadHeader);
	else if (tier == HDR_NONCOMPLIANT)
		desync_upgrade(v, DESYNC_NonCompliantHeader);
	trim(&tn, &tnl);
	if (!tnl || tn[0] == ':') {
		desync_upgrade(v, DESYNC_EmptyHeader);
		return ROLE_OTHER;
	}
	if (!essential && tier != HDR_BAD) {
		if (te == SIM_SAME_LETTERS || cl == SIM_SAME_LETTERS)
			desync_upgrade(v, DESYNC_SuspiciousHeader);
		return te == SIM_SAME_LETTERS ? ROLE_TE : cl == SIM_SAME_LETTERS ? ROLE_CL : ROLE_OTHER;
	}
	return te == SIM_IDENTICAL ? ROLE_TE : cl == SIM_IDENTICAL ? ROLE_CL : ROLE_OTHER;
}

struct desync_verdict desync_classify_request(const char *method, size_t method_len, const char *target,
                                              size_t target_len, const char *version, size_t version_len,
                                              const struct http1_header *h, unsigned n)
{
	struct desync_verdict v = { DESYNC_COMPLIANT, DESYNC_Compliant };
	const uint8_t *m = (const uint8_t *)method, *t = (const uint8_t *)target, *ver = (const uint8_t *)version;
	const uint8_t *vt = ver;
	size_t vt_len = version_len;

	if (!m)
		method_len = 0;
	if (!t)
		target_len = 0;
	if (!ver)
		version_len = vt_len = 0;
	trim(&vt, &vt_len);
	if (vt_len >= 6 && version_cmp(vt, vt_len, "HTTP/2") >= 0)
		return v; /* HTTP/2 and later are out of the library's scope */
	if (!vt_len) {
		vt = (const uint8_t *)"HTTP/0.9";
		vt_len = 8;
	}

	/* 1. each header */
	struct te_cl st = { 0 };
	for (unsigned i = 0; i < n; i++) {
		enum header_role r = header_role(&h[i], &v);
		st.n_te += r == ROLE_TE;
		st.n_cl += r == ROLE_CL;
	}

	/* 2. Transfer-Encoding and Content-Length together: every TE value, then every CL value */
	if (st.n_te || st.n_cl) {
		if (st.n_te && version_cmp(vt, vt_len, "HTTP/1.0") <= 0) {
			/* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty */
			desync_upgrade(&v, DESYNC_UndefinedTransferEncodingSemantics);
		} else if (st.n_cl && version_cmp(vt, vt_len, "HTTP/1.0") < 0) {
			desync_upgrade(&v, DESYNC_UndefinedContentLengthSemantics);
		} else {
			struct desync_verdict scratch = v;
			for (unsigned i = 0; i < n; i++)
				if (header_role(&h[i], &scratch) == ROLE_TE)
					check_te(&v, &st, (const uint8_t *)h[i].value, h[i].value ? h[i].value_len : 0);
			for (unsigned i = 0; i < n; i++)
				if (header_role(&h[i], &scratch) == ROLE_CL)
					check_cl(&v, &st, (const uint8_t *)h[i].value, h[i].value ? h[i].value_len : 0);
			/* RFC 9110 9.3.1, 9.3.2: content in GET or HEAD has no defined semantics */
			bool bodiless = (method_len == 3 && memcmp(m, "GET", 3) == 0) ||
			                (method_len == 4 && memcmp(m, "HEAD", 4) == 0);
			if (bodiless && st.n_te)
				desync_upgrade(&v, DESYNC_UndefinedTransferEncodingSemantics);
			if (bodiless && st.has_cl)
				desync_upgrade(&v, st.cl ? DESYNC_UndefinedContentLengthSemantics
				                         : DESYNC_GetHeadZeroContentLength);
			if (st.has_cl && st.n_te)
				desync_upgrade(&v, DESYNC_BothTeClPresent);
		}
	}

	/* 3. method: a token (RFC 9112 3.1) */
	bool method_ok = method_len > 0;
	for (size_t i = 0; i < method_len; i++)
		method_ok &= http1_is_tchar(m[i]);
	if (!method_ok)
		desync_upgrade(&v, DESYNC_BadMethod);

	/* 4. version: HTTP/1.DIGIT exactly; 0.9, 1.2-1.9 and extra spaces are tolerated */
	if (vt_len == 8 && memcmp(vt, "HTTP/0.9", 8) == 0) {
		desync_upgrade(&v, DESYNC_NonCompliantVersion);
	} else if (vt_len != 8 || memcmp(vt, "HTTP/1.", 7) != 0 || vt[7] < '0' || vt[7] > '9') {
		desync_upgrade(&v, DESYNC_BadVersion);
	} else if (vt_len != version_len || vt[7] > '1') {
		desync_upgrade(&v, DESYNC_NonCompliantVersion);
	}

	/* 5. request-target */
	for (size_t i = 0; i < target_len; i++) {
		uint8_t b = t[i];
		if (b > ' ' && b != 0x7f)
			continue;
		if (is_bad(b)) {
			desync_upgrade(&v, DESYNC_BadUri);
			break;
		}
		desync_upgrade(&v, b == ' ' ? DESYNC_SpaceInUri : DESYNC_AmbiguousUri);
	}
	return v;
}
