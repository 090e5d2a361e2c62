/* nat/iam_policy.h: parsing an IAM policy document with json-glib and evaluating a request against it as IAM does (types in nat/iam_policy-t.h).
 *
 * AWS IAM User Guide, "Policy evaluation logic" and "The difference between explicit and implicit
 * denies": every statement that applies is considered, in no order; an explicit Deny wins over any
 * Allow; an Allow decides otherwise; with neither the request is implicitly denied.
 */
#ifndef NATLB_IAM_POLICY_H
#define NATLB_IAM_POLICY_H

#include <glib.h>

#include "nat/iam_policy-t.h"

#define IAM_POLICY_ERROR (iam_policy_error_quark())
GQuark iam_policy_error_quark(void);
enum { IAM_POLICY_ERROR_INVALID };

/* The JSON text (len bytes, or -1 for NUL-terminated) of the document named source.  Errors name
 * source and the JSON path: "p.json: Statement[1].Effect: expected \"Allow\" or \"Deny\"". */
struct iam_policy *iam_policy_parse(const char *source, const char *text, gssize len, GError **err);
/* The file at path; its source is the path as given. */
struct iam_policy *iam_policy_load(const char *path, GError **err);
void iam_policy_free(struct iam_policy *p);

/* The decision for req; trace (may be NULL) gets one line per statement saying what matched or
 * failed, then the decision.  Allocates nothing when trace is NULL. */
struct iam_decision iam_policy_evaluate(const struct iam_policy *p, const struct iam_request *req, GString *trace);

/* "statement 2 (Sid \"AllowList\")" or "statement 2" into buf: how notes name a statement. */
const char *iam_statement_name(const struct iam_statement *s, char *buf, size_t size);

/* IAM's wildcards: '*' any run of characters, '?' exactly one; no escapes (IAM has none). */
bool iam_wildcard_match(const char *pat, const char *s, size_t len, bool ignore_case);

const char *iam_cond_op_name(enum iam_cond_op op);
const char *iam_cond_key_name(enum iam_cond_key key);
const char *iam_result_text(enum iam_result r); /* "allowed", "explicitly denied", "implicitly denied" */

#endif
