/* tests/test_iam_policy.c: IAM endpoint policies: evaluation order, wildcards, conditions, principals, parse errors, and S3 requests as actions and resources (nat/iam_policy.c, nat/s3_request.c; AWS IAM "Policy evaluation logic").
 *
 * Action and resource strings are copied into buffers of exactly their length, without a NUL, as
 * the HTTP parser hands them over, so that ASan sees a read past one.
 */
#include <string.h>

#include "nat/iam_policy.h"
#include "nat/s3_request.h"
#include "tests/testutil.h"

/* --- evaluation ------------------------------------------------------------------------------ */

struct eval_case {
	const char *name;
	const char *policy;
	const char *action, *resource;
	const char *principal, *source_ip, *vpc_source_ip, *vpce;
	enum iam_result want;
	int want_statement;
};

#define ALLOW_ALL "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}"
#define OBJ "arn:aws:s3:::lesson-bucket/report.csv"
#define BUCKET "arn:aws:s3:::lesson-bucket"

static const struct eval_case eval_cases[] = {
	{ "/iam/eval/allow-all-allows", "{\"Statement\":" ALLOW_ALL "}", "s3:GetObject", OBJ, .want = IAM_ALLOWED,
	  .want_statement = 0 },
	{ "/iam/eval/deny-wins-over-an-earlier-allow",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Sid\":\"NoGet\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
	  "\"Resource\":\"*\"}]}", "s3:GetObject", OBJ, .want = IAM_EXPLICIT_DENY, .want_statement = 1 },
	{ "/iam/eval/deny-wins-over-a-later-allow",
	  "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}," ALLOW_ALL "]}",
	  "s3:GetObject", OBJ, .want = IAM_EXPLICIT_DENY, .want_statement = 0 },
	{ "/iam/eval/deny-of-another-action-leaves-the-allow",
	  "{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}," ALLOW_ALL "]}",
	  "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 1 },
	{ "/iam/eval/no-statement-applies-is-an-implicit-deny",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\",\"Resource\":\"" BUCKET "\"}}",
	  "s3:GetObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/bucket-arn-does-not-cover-its-objects",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"" BUCKET "\"}}",
	  "s3:GetObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/bucket-slash-star-covers-its-objects",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"" BUCKET "\",\"" BUCKET
	  "/*\"]}}", "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/bucket-slash-star-does-not-cover-the-bucket",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"" BUCKET "/*\"}}",
	  "s3:ListBucket", BUCKET, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/action-is-case-insensitive",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"S3:getobject\",\"Resource\":\"*\"}}",
	  "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/resource-is-case-sensitive",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::Lesson-Bucket/*\"}}",
	  "s3:GetObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/action-star-prefix",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Get*\",\"Resource\":\"*\"}}",
	  "s3:GetObjectAcl", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/action-star-prefix-misses-list",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:Get*\",\"Resource\":\"*\"}}",
	  "s3:ListBucket", BUCKET, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/question-mark-is-one-character",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"" BUCKET "/report.cs?\"}}",
	  "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/question-mark-is-not-zero-characters",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"" BUCKET "/report.csv?\"}}",
	  "s3:GetObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/star-in-the-middle-spans-slashes",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"arn:aws:s3:::*/*.csv\"}}",
	  "s3:GetObject", "arn:aws:s3:::lesson-bucket/2026/12/report.csv", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/not-action-allows-what-it-does-not-name",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":\"s3:Delete*\",\"Resource\":\"*\"}}",
	  "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/not-action-does-not-apply-to-what-it-names",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":\"s3:Delete*\",\"Resource\":\"*\"}}",
	  "s3:DeleteObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/deny-with-not-resource-denies-other-buckets",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"NotResource\":[\""
	  BUCKET "\",\"" BUCKET "/*\"]}]}", "s3:GetObject", "arn:aws:s3:::other-bucket/x", .want = IAM_EXPLICIT_DENY,
	  .want_statement = 1 },
	{ "/iam/eval/deny-with-not-resource-spares-the-named-bucket",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"NotResource\":[\""
	  BUCKET "\",\"" BUCKET "/*\"]}]}", "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-vpce-equals-holds",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringEquals\":{\"aws:sourceVpce\":\"vpce-s3\"}}}}", "s3:GetObject", OBJ, .vpce = "vpce-s3",
	  .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-vpce-key-name-is-case-insensitive",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringEquals\":{\"AWS:SOURCEVPCE\":\"vpce-s3\"}}}}", "s3:GetObject", OBJ, .vpce = "vpce-s3",
	  .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-vpce-other-endpoint-fails",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringEquals\":{\"aws:sourceVpce\":[\"vpce-a\",\"vpce-b\"]}}}}", "s3:GetObject", OBJ,
	  .vpce = "vpce-s3", .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/source-vpce-absent-fails-string-equals",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringEquals\":{\"aws:sourceVpce\":\"vpce-s3\"}}}}", "s3:GetObject", OBJ,
	  .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/source-vpce-absent-holds-string-not-equals",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringNotEquals\":{\"aws:sourceVpce\":\"vpce-s3\"}}}]}", "s3:GetObject", OBJ,
	  .want = IAM_EXPLICIT_DENY, .want_statement = 1 },
	{ "/iam/eval/source-vpce-string-not-equals-of-the-same-endpoint-fails",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringNotEquals\":{\"aws:sourceVpce\":\"vpce-s3\"}}}]}", "s3:GetObject", OBJ,
	  .vpce = "vpce-s3", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-vpce-string-like",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringLike\":{\"aws:sourceVpce\":\"vpce-s?\"}}}}", "s3:GetObject", OBJ, .vpce = "vpce-s3",
	  .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-vpce-equals-ignore-case",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"StringEqualsIgnoreCase\":{\"aws:sourceVpce\":\"VPCE-S3\"}}}}", "s3:GetObject", OBJ,
	  .vpce = "vpce-s3", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-ip-in-prefix-holds",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"198.51.100.0/24\",\"203.0.113.7\"]}}}}", "s3:GetObject", OBJ,
	  .source_ip = "203.0.113.7", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/source-ip-outside-the-prefix-fails",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"198.51.100.0/24\"}}}}", "s3:GetObject", OBJ,
	  .source_ip = "198.51.101.1", .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/source-ip-absent-through-an-endpoint-fails-ip-address",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}}}", "s3:GetObject", OBJ,
	  .vpc_source_ip = "10.0.1.10", .vpce = "vpce-s3", .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/vpc-source-ip-through-an-endpoint-holds",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"IpAddress\":{\"aws:VpcSourceIp\":\"10.0.0.0/8\"}}}}", "s3:GetObject", OBJ,
	  .vpc_source_ip = "10.0.1.10", .vpce = "vpce-s3", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/not-ip-address-deny",
	  "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
	  "\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}}]}", "s3:GetObject", OBJ,
	  .source_ip = "198.51.100.9", .want = IAM_EXPLICIT_DENY, .want_statement = 1 },
	{ "/iam/eval/conditions-are-anded",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{"
	  "\"StringEquals\":{\"aws:sourceVpce\":\"vpce-s3\"},\"IpAddress\":{\"aws:VpcSourceIp\":\"10.0.2.0/24\"}}}}",
	  "s3:GetObject", OBJ, .vpc_source_ip = "10.0.1.10", .vpce = "vpce-s3", .want = IAM_IMPLICIT_DENY,
	  .want_statement = -1 },
	{ "/iam/eval/principal-star-matches-anonymous", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
	  "\"Action\":\"*\",\"Resource\":\"*\"}}", "s3:GetObject", OBJ, .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/principal-arn-does-not-match-anonymous",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:role/app\"},"
	  "\"Action\":\"*\",\"Resource\":\"*\"}}", "s3:GetObject", OBJ, .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
	{ "/iam/eval/principal-arn-matches-itself",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:root\","
	  "\"arn:aws:iam::123456789012:role/app\"]},\"Action\":\"*\",\"Resource\":\"*\"}}", "s3:GetObject", OBJ,
	  .principal = "arn:aws:iam::123456789012:role/app", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/principal-account-matches-its-roles",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"123456789012\"},\"Action\":\"*\",\"Resource\":\"*\"}}",
	  "s3:GetObject", OBJ, .principal = "arn:aws:iam::123456789012:role/app", .want = IAM_ALLOWED, .want_statement = 0 },
	{ "/iam/eval/principal-root-of-another-account-fails",
	  "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},"
	  "\"Action\":\"*\",\"Resource\":\"*\"}}", "s3:GetObject", OBJ, .principal = "arn:aws:iam::123456789012:role/app",
	  .want = IAM_IMPLICIT_DENY, .want_statement = -1 },
};

/* Exactly strlen(s) bytes, no NUL after them. */
static char *exact(const char *s)
{
	char *p = g_malloc(strlen(s) ? strlen(s) : 1);
	memcpy(p, s, strlen(s));
	return p;
}

G_GNUC_NO_INLINE static void test_eval(gconstpointer data)
{
	const struct eval_case *c = data;
	GError *err = NULL;
	struct iam_policy *p = iam_policy_parse("case.json", c->policy, -1, &err);
	g_assert_no_error(err);
	char *action = exact(c->action), *resource = exact(c->resource);
	struct iam_request req = { .action = action, .action_len = (unsigned)strlen(c->action), .resource = resource,
	                           .resource_len = (unsigned)strlen(c->resource), .principal = c->principal,
	                           .source_vpce = c->vpce };
	if (c->source_ip) {
		req.has_source_ip = true;
		g_assert_true(ip4_parse(c->source_ip, &req.source_ip));
	}
	if (c->vpc_source_ip) {
		req.has_vpc_source_ip = true;
		g_assert_true(ip4_parse(c->vpc_source_ip, &req.vpc_source_ip));
	}
	struct iam_decision d = iam_policy_evaluate(p, &req, NULL);
	g_assert_cmpstr(iam_result_text(d.result), ==, iam_result_text(c->want));
	g_assert_cmpint(d.statement, ==, c->want_statement);
	/* the trace reaches the same decision */
	GString *trace = g_string_new(NULL);
	struct iam_decision t = iam_policy_evaluate(p, &req, trace);
	g_assert_cmpint(t.result, ==, d.result);
	g_assert_cmpint(t.statement, ==, d.statement);
	g_assert_nonnull(strstr(trace->str, c->want == IAM_IMPLICIT_DENY ? "no statement allows it" : "decision: "));
	g_string_free(trace, TRUE);
	g_free(action);
	g_free(resource);
	iam_policy_free(p);
}

/* --- wildcards ------------------------------------------------------------------------------- */

struct wild_case {
	const char *pat, *s;
	bool ignore_case, want;
};

static const struct wild_case wild_cases[] = {
	{ "*", "", false, true },
	{ "", "", false, true },
	{ "", "a", false, false },
	{ "?", "", false, false },
	{ "a*b*c", "aXbYc", false, true },
	{ "a*b*c", "aXbYcZ", false, false },
	{ "*a", "aaa", false, true },
	{ "s3:get*", "S3:GetObject", true, true },
	{ "s3:get*", "S3:GetObject", false, false },
	{ "**?", "x", false, true },
};

static void test_wildcards(void)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(wild_cases); i++) {
		const struct wild_case *w = &wild_cases[i];
		char *s = exact(w->s);
		if (iam_wildcard_match(w->pat, s, strlen(w->s), w->ignore_case) != w->want)
			g_error("'%s' against '%s' (ignore case %d): want %d", w->pat, w->s, w->ignore_case, w->want);
		g_free(s);
	}
}

/* --- parse errors ---------------------------------------------------------------------------- */

struct error_case {
	const char *name, *policy, *want; /* want: the whole message */
};

#define STMT_OK "\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\""

static const struct error_case error_cases[] = {
	{ "/iam/parse/bad-effect-names-its-path", "{\"Statement\":[" ALLOW_ALL ",{\"Effect\":\"allow\"," STMT_OK "}]}",
	  "p.json: Statement[1].Effect: expected \"Allow\" or \"Deny\"" },
	{ "/iam/parse/not-json", "{\"Statement\":", NULL },
	{ "/iam/parse/not-an-object", "[]", "p.json: a policy document is a JSON object with a Statement, not an array" },
	{ "/iam/parse/no-statement", "{\"Version\":\"2012-10-17\"}", "p.json: no Statement: a policy needs at least one" },
	{ "/iam/parse/bad-version", "{\"Version\":\"2012-10-18\",\"Statement\":" ALLOW_ALL "}",
	  "p.json: Version: expected \"2012-10-17\" (or the older \"2008-10-17\")" },
	{ "/iam/parse/unknown-statement-element", "{\"Statement\":{\"Efect\":\"Allow\"," STMT_OK "}}",
	  "p.json: Statement.Efect: unknown statement element 'Efect' (natlb knows Sid, Effect, Principal, NotPrincipal, "
	  "Action, NotAction, Resource, NotResource, Condition); did you mean 'Effect'?" },
	{ "/iam/parse/action-and-not-action", "{\"Statement\":{\"Effect\":\"Allow\"," STMT_OK ",\"NotAction\":\"s3:x\"}}",
	  "p.json: Statement.NotAction: a statement has Action or NotAction, not both" },
	{ "/iam/parse/no-resource", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\"}}",
	  "p.json: Statement: no Resource or NotResource (\"Resource\": \"arn:aws:s3:::lesson-bucket/*\")" },
	{ "/iam/parse/no-principal", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
	  "p.json: Statement: no Principal: an endpoint policy says whom a statement is for (\"Principal\": \"*\" for anyone)" },
	{ "/iam/parse/action-without-service", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
	  "\"Action\":[\"s3:GetObject\",\"GetObject\"],\"Resource\":\"*\"}}",
	  "p.json: Statement.Action: 'GetObject' is not an action: write SERVICE:ACTION, like \"s3:GetObject\" or \"s3:*\"" },
	{ "/iam/parse/action-array-element-not-a-string", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
	  "\"Action\":[\"s3:GetObject\",7],\"Resource\":\"*\"}}", "p.json: Statement.Action[1]: expected a string, not a number" },
	{ "/iam/parse/resource-not-an-arn", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\","
	  "\"Resource\":\"lesson-bucket\"}}", "p.json: Statement.Resource: 'lesson-bucket' is not a resource: write an ARN, "
	  "like \"arn:aws:s3:::lesson-bucket/*\", or \"*\"" },
	{ "/iam/parse/empty-action-array", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[],"
	  "\"Resource\":\"*\"}}", "p.json: Statement.Action: an empty array matches nothing: give at least one value" },
	{ "/iam/parse/unknown-operator", "{\"Statement\":{\"Effect\":\"Allow\"," STMT_OK ",\"Condition\":{\"StringEqual\":"
	  "{\"aws:sourceVpce\":\"vpce-1\"}}}}", "p.json: Statement.Condition.StringEqual: unknown condition operator "
	  "'StringEqual' (natlb knows StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, "
	  "StringLike, StringNotLike, IpAddress, NotIpAddress); did you mean 'StringEquals'?" },
	{ "/iam/parse/unknown-key", "{\"Statement\":{\"Effect\":\"Allow\"," STMT_OK ",\"Condition\":{\"StringEquals\":"
	  "{\"aws:sourceVpc\":\"vpc-1\"}}}}", "p.json: Statement.Condition.StringEquals.aws:sourceVpc: unknown condition key "
	  "'aws:sourceVpc' (natlb knows aws:SourceIp, aws:VpcSourceIp, aws:sourceVpce); did you mean 'aws:sourceVpce'?" },
	{ "/iam/parse/ip-operator-on-a-string-key", "{\"Statement\":{\"Effect\":\"Allow\"," STMT_OK ",\"Condition\":"
	  "{\"IpAddress\":{\"aws:sourceVpce\":\"10.0.0.0/8\"}}}}", "p.json: Statement.Condition.IpAddress.aws:sourceVpce: "
	  "IpAddress compares addresses, but aws:sourceVpce is a string key (use StringEquals, StringLike ...)" },
	{ "/iam/parse/bad-prefix", "{\"Statement\":{\"Effect\":\"Allow\"," STMT_OK ",\"Condition\":"
	  "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}}}", NULL },
	{ "/iam/parse/principal-string-other-than-star", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"me\","
	  "\"Action\":\"*\",\"Resource\":\"*\"}}", "p.json: Statement.Principal: a Principal string can only be \"*\" "
	  "(anyone); name principals as {\"AWS\": \"arn:aws:iam::123456789012:root\"}" },
	{ "/iam/parse/principal-service", "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},"
	  "\"Action\":\"*\",\"Resource\":\"*\"}}", "p.json: Statement.Principal.Service: natlb knows AWS principals only (an "
	  "endpoint policy's requests come from IAM identities or anonymous callers)" },
	{ "/iam/parse/not-principal", "{\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":\"*\",\"Action\":\"*\","
	  "\"Resource\":\"*\"}}", "p.json: Statement.NotPrincipal: not supported by natlb (AWS advises against it): use Principal" },
	{ "/iam/parse/deeply-nested", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  "p.json: nested deeper than 32 levels: not a policy document" },
	{ "/iam/parse/empty-statement-array", "{\"Statement\":[]}",
	  "p.json: Statement: an empty array: a policy needs at least one statement" },
};

G_GNUC_NO_INLINE static void test_parse_error(gconstpointer data)
{
	const struct error_case *c = data;
	GError *err = NULL;
	struct iam_policy *p = iam_policy_parse("p.json", c->policy, -1, &err);
	g_assert_null(p);
	g_assert_error(err, IAM_POLICY_ERROR, IAM_POLICY_ERROR_INVALID);
	if (c->want)
		g_assert_cmpstr(err->message, ==, c->want);
	else
		g_assert_true(g_str_has_prefix(err->message, "p.json: "));
	g_error_free(err);
}

static void test_parse_defaults(void)
{
	GError *err = NULL;
	struct iam_policy *p = iam_policy_parse("p.json", "{\"Statement\":{\"Sid\":\"One\"," STMT_OK ",\"Effect\":\"Deny\"}}",
	                                        -1, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(p->version, ==, "2008-10-17"); /* IAM's default */
	g_assert_cmpuint(p->n_statements, ==, 1);
	g_assert_cmpstr(p->statements[0].sid, ==, "One");
	g_assert_cmpint(p->statements[0].effect, ==, IAM_EFFECT_DENY);
	char name[64];
	g_assert_cmpstr(iam_statement_name(&p->statements[0], name, sizeof name), ==, "statement 0 (Sid \"One\")");
	iam_policy_free(p);
}

static void test_load_missing_file(void)
{
	GError *err = NULL;
	g_assert_null(iam_policy_load("/nonexistent/policy.json", &err));
	g_assert_true(g_str_has_prefix(err->message, "/nonexistent/policy.json: cannot read the policy: "));
	g_error_free(err);
}

/* --- S3 requests ----------------------------------------------------------------------------- */

struct s3_case {
	const char *name, *method, *host, *path, *query;
	const char *action, *resource; /* NULL action: refused */
	bool path_style;
};

static const struct s3_case s3_cases[] = {
	{ "/s3/map/virtual-hosted-get-object", "GET", "lesson-bucket.s3.amazonaws.com", "/report.csv", "",
	  "s3:GetObject", "arn:aws:s3:::lesson-bucket/report.csv", false },
	{ "/s3/map/virtual-hosted-regional-get-bucket", "GET", "lesson-bucket.s3.us-east-1.amazonaws.com", "/",
	  "list-type=2", "s3:ListBucket", "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/virtual-hosted-legacy-dash-region", "GET", "lesson-bucket.s3-us-west-2.amazonaws.com", "/a/b", "",
	  "s3:GetObject", "arn:aws:s3:::lesson-bucket/a/b", false },
	{ "/s3/map/virtual-hosted-dotted-bucket", "HEAD", "logs.example.com.s3.eu-west-1.amazonaws.com", "/k", "",
	  "s3:GetObject", "arn:aws:s3:::logs.example.com/k", false },
	{ "/s3/map/host-case-folded", "GET", "Lesson-Bucket.S3.amazonaws.com", "/Key", "", "s3:GetObject",
	  "arn:aws:s3:::lesson-bucket/Key", false },
	{ "/s3/map/path-style-get-object", "GET", "s3.amazonaws.com", "/lesson-bucket/reports/q4.csv", "",
	  "s3:GetObject", "arn:aws:s3:::lesson-bucket/reports/q4.csv", true },
	{ "/s3/map/path-style-regional-list", "GET", "s3.us-east-1.amazonaws.com", "/lesson-bucket", "",
	  "s3:ListBucket", "arn:aws:s3:::lesson-bucket", true },
	{ "/s3/map/path-style-trailing-slash-is-the-bucket", "GET", "s3.amazonaws.com", "/lesson-bucket/", "",
	  "s3:ListBucket", "arn:aws:s3:::lesson-bucket", true },
	{ "/s3/map/path-style-by-address", "GET", "52.216.8.1", "/lesson-bucket/x", "", "s3:GetObject",
	  "arn:aws:s3:::lesson-bucket/x", true },
	{ "/s3/map/no-host-is-path-style", "GET", NULL, "/lesson-bucket/x", "", "s3:GetObject",
	  "arn:aws:s3:::lesson-bucket/x", true },
	{ "/s3/map/cname-host-is-the-bucket", "GET", "www.example.com", "/index.html", "", "s3:GetObject",
	  "arn:aws:s3:::www.example.com/index.html", false },
	{ "/s3/map/head-bucket-lists", "HEAD", "lesson-bucket.s3.amazonaws.com", "/", "", "s3:ListBucket",
	  "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/put-object", "PUT", "lesson-bucket.s3.amazonaws.com", "/up.txt", "", "s3:PutObject",
	  "arn:aws:s3:::lesson-bucket/up.txt", false },
	{ "/s3/map/delete-object", "DELETE", "s3.amazonaws.com", "/lesson-bucket/old.txt", "", "s3:DeleteObject",
	  "arn:aws:s3:::lesson-bucket/old.txt", true },
	{ "/s3/map/put-bucket-creates-it", "PUT", "lesson-bucket.s3.amazonaws.com", "/", "", "s3:CreateBucket",
	  "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/delete-bucket", "DELETE", "lesson-bucket.s3.amazonaws.com", "/", "", "s3:DeleteBucket",
	  "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/get-object-acl", "GET", "lesson-bucket.s3.amazonaws.com", "/report.csv", "acl", "s3:GetObjectAcl",
	  "arn:aws:s3:::lesson-bucket/report.csv", false },
	{ "/s3/map/get-object-version", "GET", "lesson-bucket.s3.amazonaws.com", "/report.csv", "x=1&versionId=3",
	  "s3:GetObjectVersion", "arn:aws:s3:::lesson-bucket/report.csv", false },
	{ "/s3/map/get-bucket-location", "GET", "lesson-bucket.s3.amazonaws.com", "/", "location", "s3:GetBucketLocation",
	  "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/a-parameter-like-a-subresource-is-not-one", "GET", "lesson-bucket.s3.amazonaws.com", "/", "aclx=1",
	  "s3:ListBucket", "arn:aws:s3:::lesson-bucket", false },
	{ "/s3/map/key-percent-decoded", "GET", "lesson-bucket.s3.amazonaws.com", "/my%20report.csv", "", "s3:GetObject",
	  "arn:aws:s3:::lesson-bucket/my report.csv", false },
	{ "/s3/map/key-bad-percent-kept", "GET", "lesson-bucket.s3.amazonaws.com", "/100%", "", "s3:GetObject",
	  "arn:aws:s3:::lesson-bucket/100%", false },
	{ "/s3/map/service-get-lists-buckets", "GET", "s3.amazonaws.com", "/", "", "s3:ListAllMyBuckets", "*", true },
	{ "/s3/map/refuses-patch", "PATCH", "lesson-bucket.s3.amazonaws.com", "/x", "", NULL, NULL, false },
	{ "/s3/map/refuses-other-aws-service", "GET", "ec2.amazonaws.com", "/", "", NULL, NULL, false },
	{ "/s3/map/refuses-bad-bucket-name", "GET", "s3.amazonaws.com", "/Bad_Bucket/x", "", NULL, NULL, false },
	{ "/s3/map/refuses-put-on-the-service", "PUT", "s3.amazonaws.com", "/", "", NULL, NULL, false },
	{ "/s3/map/refuses-post-on-a-bucket", "POST", "lesson-bucket.s3.amazonaws.com", "/", "delete", NULL, NULL, false },
};

G_GNUC_NO_INLINE static void test_s3_map(gconstpointer data)
{
	const struct s3_case *c = data;
	char *method = exact(c->method), *host = c->host ? exact(c->host) : NULL, *path = exact(c->path),
	     *query = exact(c->query);
	struct s3_request *r = g_new(struct s3_request, 1);
	const char *why = NULL;
	bool ok = s3_request_map(method, strlen(c->method), host, c->host ? strlen(c->host) : 0, path, strlen(c->path),
	                         query, strlen(c->query), r, &why);
	if (!c->action) {
		g_assert_false(ok);
		g_assert_nonnull(why);
	} else {
		g_assert_true(ok);
		g_assert_cmpstr(r->action, ==, c->action);
		g_assert_cmpstr(r->resource, ==, c->resource);
		g_assert_cmpuint(r->resource_len, ==, strlen(c->resource));
		g_assert_cmpint(r->path_style, ==, c->path_style);
	}
	g_free(r);
	g_free(method);
	g_free(host);
	g_free(path);
	g_free(query);
}

static void test_s3_key_too_long(void)
{
	GString *path = g_string_new("/lesson-bucket/");
	for (int i = 0; i < 1100; i++)
		g_string_append_c(path, 'k');
	struct s3_request r;
	const char *why = NULL;
	g_assert_false(s3_request_map("GET", 3, "s3.amazonaws.com", 16, path->str, path->len, "", 0, &r, &why));
	g_assert_cmpstr(why, ==, "the object key is longer than S3's 1,024 bytes");
	g_string_free(path, TRUE);
}

/* --- natlb policy ---------------------------------------------------------------------------- */

static void test_cli(void)
{
	char *dir = test_tmpdir();
	char *file = g_build_filename(dir, "p.json", NULL);
	const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"BucketOnly\",\"Effect\":\"Allow\","
	                  "\"Principal\":\"*\",\"Action\":[\"s3:ListBucket\",\"s3:GetObject\"],\"Resource\":"
	                  "\"arn:aws:s3:::lesson-bucket\"}]}";
	g_assert_true(g_file_set_contents(file, doc, -1, NULL));
	char *out = NULL, *err = NULL;
	const char *get[] = { test_natlb_binary(), "policy", file, "GET http://lesson-bucket.s3.amazonaws.com/report.csv",
		              "--vpce", "vpce-s3", "--source", "10.0.1.10", NULL };
	g_assert_cmpint(test_run(get, &out, &err), ==, 1);
	g_assert_nonnull(strstr(out, "action s3:GetObject on arn:aws:s3:::lesson-bucket/report.csv"));
	g_assert_nonnull(strstr(out, "aws:SourceIp absent; aws:VpcSourceIp 10.0.1.10; aws:sourceVpce vpce-s3"));
	g_assert_nonnull(strstr(out, "decision: implicitly denied: no statement allows it"));
	g_free(out);
	g_free(err);
	const char *list[] = { test_natlb_binary(), "policy", file, "GET http://s3.amazonaws.com/lesson-bucket", NULL };
	g_assert_cmpint(test_run(list, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "decision: allowed by statement 0 (Sid \"BucketOnly\")"));
	g_free(out);
	g_free(err);
	g_assert_true(g_file_set_contents(file, "{\"Statement\":{\"Effect\":\"Maybe\"}}", -1, NULL));
	g_assert_cmpint(test_run(list, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "p.json: Statement.Effect: expected \"Allow\" or \"Deny\""));
	g_free(out);
	g_free(err);
	/* -s: the lesson's own endpoint policy, through its endpoint */
	const char *lesson[] = { test_natlb_binary(), "policy", "-s", "scenarios/s3-endpoint-policy.ini",
		                 "HEAD http://lesson-bucket.s3.amazonaws.com/", NULL };
	g_assert_cmpint(test_run(lesson, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "action s3:ListBucket on arn:aws:s3:::lesson-bucket"));
	g_assert_nonnull(strstr(out, "aws:sourceVpce vpce-s3"));
	g_free(out);
	g_free(err);
	const char *none[] = { test_natlb_binary(), "policy", "-s", "scenarios/natgw-vs-s3-endpoint.ini",
		               "GET http://s3.amazonaws.com/lesson-bucket", NULL };
	g_assert_cmpint(test_run(none, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "has no gateway endpoint policy"));
	g_free(out);
	g_free(err);
	g_free(file);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(eval_cases); i++)
		g_test_add_data_func(eval_cases[i].name, &eval_cases[i], test_eval);
	g_test_add_func("/iam/wildcards/table", test_wildcards);
	for (unsigned i = 0; i < G_N_ELEMENTS(error_cases); i++)
		g_test_add_data_func(error_cases[i].name, &error_cases[i], test_parse_error);
	g_test_add_func("/iam/parse/defaults-and-names", test_parse_defaults);
	g_test_add_func("/iam/parse/missing-file-names-it", test_load_missing_file);
	for (unsigned i = 0; i < G_N_ELEMENTS(s3_cases); i++)
		g_test_add_data_func(s3_cases[i].name, &s3_cases[i], test_s3_map);
	g_test_add_func("/s3/map/key-too-long-refused", test_s3_key_too_long);
	g_test_add_func("/iam/cli/policy-explains-and-exits-by-decision", test_cli);
	return g_test_run();
}
