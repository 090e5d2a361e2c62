/* tests/fuzz/fuzz_iam_policy.c: libFuzzer harness for IAM endpoint policies and S3 request mapping: any document parses or fails with one error naming the file, any request is evaluated without a crash, a leak or a read past it (nat/iam_policy.c, nat/s3_request.c).
 *
 * The input is split at its first NUL: before it a policy document (an exact-size copy, so ASan
 * sees an over-read), after it a request, one line each:
 *   METHOD HOST PATH[?QUERY]     (mapped by s3_request_map; else the two lines below are used)
 *   ACTION
 *   RESOURCE
 * and a last byte whose bits say which context keys are present.  Oracles: an error is one line
 * starting with the file's name; the traced and the plain evaluation agree; the deciding statement
 * exists and has the decision's effect; a mapped resource is terminated, fits and is an S3 ARN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nat/iam_policy.h"
#include "nat/s3_request.h"

static const char *next_line(const char **p, const char *end, size_t *len)
{
	const char *start = *p, *nl = memchr(start, '\n', (size_t)(end - start));
	*len = (size_t)((nl ? nl : end) - start);
	*p = nl ? nl + 1 : end;
	return start;
}

static void check_mapping(const char *line, size_t len, struct s3_request *s3, bool *mapped)
{
	const char *sp1 = memchr(line, ' ', len);
	*mapped = false;
	if (!sp1)
		return;
	const char *host = sp1 + 1, *end = line + len;
	const char *sp2 = memchr(host, ' ', (size_t)(end - host));
	const char *path = sp2 ? sp2 + 1 : end;
	const char *q = memchr(path, '?', (size_t)(end - path));
	const char *why = NULL;
	*mapped = s3_request_map(line, (size_t)(sp1 - line), host, (size_t)((sp2 ? sp2 : end) - host), path,
	                         (size_t)((q ? q : end) - path), q ? q + 1 : NULL, q ? (size_t)(end - q - 1) : 0, s3, &why);
	if (!*mapped && !why)
		abort();
	if (*mapped && (!s3->action || s3->resource_len >= S3_RESOURCE_MAX || strlen(s3->resource) > s3->resource_len ||
	                (strcmp(s3->resource, "*") != 0 && strncmp(s3->resource, "arn:aws:s3:::", 13) != 0)))
		abort(); /* a key may hold a decoded NUL, so strlen can be shorter, never longer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t doc_len = nul ? (size_t)(nul - data) : size;
	char *doc = malloc(doc_len ? doc_len : 1);
	memcpy(doc, data, doc_len);
	size_t req_len = nul ? size - doc_len - 1 : 0;
	char *rq = malloc(req_len ? req_len : 1);
	memcpy(rq, nul ? nul + 1 : data, req_len);

	GError *err = NULL;
	struct iam_policy *p = iam_policy_parse("fuzz.json", doc, (gssize)doc_len, &err);
	if (!p) {
		if (!err || !g_str_has_prefix(err->message, "fuzz.json: ") || strlen(err->message) > 4096)
			abort();
		g_error_free(err);
	} else if (err || p->n_statements == 0) {
		abort();
	}

	const char *cur = rq, *end = rq + req_len;
	size_t l0, l1, l2;
	const char *line0 = next_line(&cur, end, &l0);
	const char *line1 = next_line(&cur, end, &l1);
	const char *line2 = next_line(&cur, end, &l2);
	uint8_t flags = req_len ? (uint8_t)rq[req_len - 1] : 0;
	struct s3_request *s3 = malloc(sizeof *s3);
	bool mapped;
	check_mapping(line0, l0, s3, &mapped);

	if (p) {
		struct iam_request req = {
			.action = mapped ? s3->action : line1,
			.action_len = mapped ? (unsigned)strlen(s3->action) : (unsigned)l1,
			.resource = mapped ? s3->resource : line2,
			.resource_len = mapped ? s3->resource_len : (unsigned)l2,
			.principal = (flags & 1) ? "arn:aws:iam::123456789012:role/app" : NULL,
			.has_source_ip = flags & 2, .source_ip = 0xc0000201u,
			.has_vpc_source_ip = flags & 4, .vpc_source_ip = 0x0a00010au,
			.source_vpce = (flags & 8) ? "vpce-s3" : NULL,
		};
		struct iam_decision d = iam_policy_evaluate(p, &req, NULL);
		GString *trace = g_string_new(NULL);
		struct iam_decision t = iam_policy_evaluate(p, &req, trace);
		if (t.result != d.result || t.statement != d.statement || !strstr(trace->str, "decision: "))
			abort();
		g_string_free(trace, TRUE);
		if ((d.result == IAM_IMPLICIT_DENY) != (d.statement < 0) || d.statement >= (int)p->n_statements)
			abort();
		if (d.statement >= 0 && (p->statements[d.statement].effect == IAM_EFFECT_DENY) != (d.result == IAM_EXPLICIT_DENY))
			abort();
		iam_policy_free(p);
	}
	free(s3);
	free(rq);
	free(doc);
	return 0;
}
