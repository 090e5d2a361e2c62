/* nat/iam_policy-t.h: the types of an IAM policy document as a gateway endpoint holds it (types only; functions in nat/iam_policy.h).
 *
 * AWS IAM User Guide, "IAM JSON policy element reference" (Version, Statement, Sid, Effect,
 * Principal, Action, NotAction, Resource, NotResource, Condition) and "Condition operators"
 * (string and IP address operators); the context keys are those of "AWS global condition context
 * keys" that a request through a gateway endpoint carries: aws:SourceIp, aws:VpcSourceIp,
 * aws:sourceVpce.
 *
 * Invariants: a parsed policy has at least one statement; each statement has exactly one of
 * Action/NotAction and one of Resource/NotResource, each with at least one value; every string is
 * owned by the policy and never changes after parsing, so evaluation allocates nothing.
 */
#ifndef NATLB_IAM_POLICY_T_H
#define NATLB_IAM_POLICY_T_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"

enum iam_effect { IAM_EFFECT_ALLOW, IAM_EFFECT_DENY };

/* The condition operators natlb evaluates: X(enum name, policy name, negated, kind). */
#define foreach_iam_cond_op                                                       \
	X(STRING_EQUALS, "StringEquals", false, IAM_VALUE_STRING)                    \
	X(STRING_NOT_EQUALS, "StringNotEquals", true, IAM_VALUE_STRING)              \
	X(STRING_EQUALS_IC, "StringEqualsIgnoreCase", false, IAM_VALUE_STRING)       \
	X(STRING_NOT_EQUALS_IC, "StringNotEqualsIgnoreCase", true, IAM_VALUE_STRING) \
	X(STRING_LIKE, "StringLike", false, IAM_VALUE_STRING)                        \
	X(STRING_NOT_LIKE, "StringNotLike", true, IAM_VALUE_STRING)                  \
	X(IP_ADDRESS, "IpAddress", false, IAM_VALUE_IP)                              \
	X(NOT_IP_ADDRESS, "NotIpAddress", true, IAM_VALUE_IP)

enum iam_cond_op {
#define X(name, text, negated, kind) IAM_OP_##name,
	foreach_iam_cond_op
#undef X
	IAM_OP_N
};

enum iam_value_kind { IAM_VALUE_STRING, IAM_VALUE_IP };

/* The request context keys natlb knows: X(enum name, key as AWS spells it, kind). */
#define foreach_iam_cond_key                           \
	X(SOURCE_IP, "aws:SourceIp", IAM_VALUE_IP)        \
	X(VPC_SOURCE_IP, "aws:VpcSourceIp", IAM_VALUE_IP) \
	X(SOURCE_VPCE, "aws:sourceVpce", IAM_VALUE_STRING)

enum iam_cond_key {
#define X(name, text, kind) IAM_KEY_##name,
	foreach_iam_cond_key
#undef X
	IAM_KEY_N
};

/* One "Operator": { "key": values } pair; the values are ORed, the pairs of a statement ANDed. */
struct iam_condition {
	enum iam_cond_op op;
	enum iam_cond_key key;
	char **values;               /* as written */
	struct ip4_prefix *prefixes; /* IP operators: the values parsed */
	unsigned n_values;
};

struct iam_statement {
	char *sid;                   /* NULL when the statement has none */
	unsigned index;              /* its place in Statement[] */
	enum iam_effect effect;
	char **principals;           /* "*" or ARNs and account ids ({"AWS": ...}) */
	unsigned n_principals;
	bool not_action, not_resource;
	char **actions;              /* "s3:Get*": matched case-insensitively */
	unsigned n_actions;
	char **resources;            /* ARNs like arn:aws:s3:::bucket/key patterns: matched case-sensitively */
	unsigned n_resources;
	struct iam_condition *conditions;
	unsigned n_conditions;
};

struct iam_policy {
	char *source;                /* the file it came from, for messages */
	char *version;               /* "2012-10-17" (the default when absent: "2008-10-17") */
	char *id;                    /* "Id", or NULL */
	struct iam_statement *statements;
	unsigned n_statements;
};

/* What a request brings to the evaluation (IAM's request context).  Strings need not be
 * NUL-terminated: they come straight from the HTTP parser's buffer. */
struct iam_request {
	const char *action;          /* "s3:GetObject" */
	unsigned action_len;
	const char *resource;        /* "arn:aws:s3:::bucket/key" */
	unsigned resource_len;
	const char *principal;       /* an ARN; NULL for an anonymous request (matched by "*" only) */
	bool has_source_ip, has_vpc_source_ip;
	uint32_t source_ip, vpc_source_ip; /* host order */
	const char *source_vpce;     /* NUL-terminated; NULL when it did not come through an endpoint */
};

enum iam_result {
	IAM_ALLOWED,        /* a statement allows it and none denies it */
	IAM_EXPLICIT_DENY,  /* a Deny statement applies */
	IAM_IMPLICIT_DENY,  /* no statement allows it */
};

struct iam_decision {
	enum iam_result result;
	int statement;      /* index of the deciding statement (the first Deny, else the first Allow); -1 for none */
};

#endif
