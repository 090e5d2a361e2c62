/* lb/l7_rules-t.h: the listener rules of the L7 balancer, as parsed from the scenario (types only).
 *
 * Follows AWS "Listener rules for your Application Load Balancer" and "Condition types for
 * listener rules": a rule is a priority (1..50000, lowest evaluated first), up to five condition
 * values in all (at most three per condition) that must all hold (AND) while the values of one
 * condition are alternatives (OR), and one action; a default action applies when no rule matches.
 *
 * Invariants once parsed: patterns that compare case-insensitively (host-header, http-header
 * values and names, query-string) are stored lowercased; every count is within its L7_MAX_*;
 * a forward action has total_weight > 0; struct l7_rules.rules is sorted by priority, no
 * priority twice.
 */
#ifndef NATLB_LB_L7_RULES_T_H
#define NATLB_LB_L7_RULES_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

#define L7_PRIORITY_MIN            1u
#define L7_PRIORITY_MAX            50000u
#define L7_MAX_VALUES              5u    /* condition values per rule, every condition counted */
#define L7_MAX_VALUES_PER_CONDITION 3u   /* "up to three match evaluations per condition" */
#define L7_MAX_WILDCARDS           5u    /* '*' and '?' per rule */
#define L7_MAX_PATTERN             128u  /* characters in one host, path, header-value or query pattern */
#define L7_MAX_HEADER_NAME         40u
#define L7_MAX_METHOD              40u
#define L7_MAX_GROUPS              5u    /* target groups of one weighted forward */
#define L7_MAX_WEIGHT              999u
#define L7_MAX_BODY                1024u /* bytes of a fixed-response body */

/* One header of a request, as the HTTP parser saw it: pointers into its buffer, not NUL-terminated. */
struct l7_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* What the rules look at.  Strings are NOT NUL-terminated: pointers into a buffer and lengths. */
struct l7_request {
	const char *method;
	size_t method_len;
	const char *host; /* the Host header value without ":port"; may be empty */
	size_t host_len;
	uint16_t port;    /* the listener port, for #{port} */
	const char *path; /* from the request target, up to '?' */
	size_t path_len;
	const char *query; /* after '?', without it; may be empty */
	size_t query_len;
	const struct l7_header *headers;
	unsigned n_headers;
	uint32_t source_ip; /* the client address the balancer sees, host byte order */
};

enum l7_condition_kind {
	L7_COND_HOST_HEADER,
	L7_COND_PATH_PATTERN,
	L7_COND_HTTP_HEADER,
	L7_COND_HTTP_REQUEST_METHOD,
	L7_COND_QUERY_STRING,
	L7_COND_SOURCE_IP,
	L7_COND_N,
};

/* A wildcard pattern ('*' any run, '?' one character, '\' makes the next one literal), with what
 * lets most requests be refused before the wildcard walk: the literal head and tail and the least
 * length a subject needs. */
struct l7_pattern {
	char *text;       /* lowercased when the condition folds case; NULL for "any" (no key given) */
	uint16_t len;     /* at most L7_MAX_PATTERN */
	uint16_t head;    /* leading literal characters */
	uint16_t tail;    /* trailing literal characters (0 when the pattern has a '\') */
	uint16_t min_len; /* characters a subject needs: every token but '*' */
	bool wild;        /* holds '*', '?' or '\': else compared whole, lengths first */
	char first, last; /* text[0] when head > 0, text[len - 1] when tail > 0: most subjects are
	                     refused on these without reading text */
};

/* One value of a condition.  Fields are in the order evaluation reads them, so that refusing a
 * request usually touches one cache line of the rule. */
struct l7_value {
	struct l7_pattern pat;  /* host, path, header value, method, query value */
	struct ip4_prefix cidr; /* source-ip */
	struct l7_pattern key;  /* query-string: the key; key.text NULL for a value without '=' */
	char *text;             /* as written, for the trace */
};

struct l7_condition {
	enum l7_condition_kind kind;
	unsigned n_values;
	char *header;      /* http-header: the name, lowercased */
	size_t header_len;
	struct l7_value values[L7_MAX_VALUES_PER_CONDITION];
	char *text;        /* "path-pattern /static*, *.js" */
};

enum l7_action_kind { L7_ACTION_FORWARD, L7_ACTION_REDIRECT, L7_ACTION_FIXED_RESPONSE };

struct l7_forward_group {
	char *name;
	unsigned weight; /* 0..L7_MAX_WEIGHT */
};

struct l7_action {
	enum l7_action_kind kind;
	struct {
		struct l7_forward_group groups[L7_MAX_GROUPS];
		unsigned n_groups;
		unsigned total_weight; /* > 0 */
	} forward;
	struct {
		char *url_template; /* may hold #{protocol} #{host} #{port} #{path} #{query} */
		unsigned code;      /* 301 or 302 */
	} redirect;
	struct {
		unsigned code;      /* 2XX, 4XX or 5XX */
		char *content_type; /* one of the five ALB allows; text/plain when not given */
		char *body;         /* unescaped, NUL-terminated too; NULL when none */
		size_t body_len;
	} fixed;
	char *text; /* the action as written, normalised: "forward web:1, mobile:4" */
};

struct l7_rule {
	unsigned priority;
	unsigned n_conditions;                         /* at least 1 */
	struct l7_condition conditions[L7_MAX_VALUES]; /* each has a value, so at most that many */
	uint8_t cheap_first[L7_MAX_VALUES];            /* the conditions' indices, cheapest test first */
	struct l7_action action;
	char *text; /* the conditions, normalised: "host-header api.example.com AND path-pattern /v1*" */
};

/* A rule's gate: one of its conditions on a subject every request has (host, path, method,
 * source address), reduced to what four bytes at each end and the length can refuse.  The
 * gates sit side by side, one 64-byte line per rule, so a request that no rule matches is
 * refused by reading the gates alone (the rules are far larger).  A gate refuses only what its
 * condition refuses: it is a superset test, and the rule itself decides. */
enum l7_gate_subject { L7_GATE_NONE, L7_GATE_HOST, L7_GATE_PATH, L7_GATE_METHOD, L7_GATE_SOURCE_IP, L7_GATE_N };

struct l7_gate_value {
	uint16_t min_len, max_len;     /* the subject's length must be within */
	uint32_t head, head_mask;      /* its first four bytes (little-endian word, zero past the end) */
	uint32_t tail, tail_mask;      /* its last four, aligned to the end */
};

struct l7_gate {
	uint8_t subject;               /* enum l7_gate_subject; NONE: every request passes */
	uint8_t n_values;              /* the condition's values: any one that passes lets it through */
	struct l7_gate_value values[L7_MAX_VALUES_PER_CONDITION];
};

struct l7_rules {
	struct l7_rule *rules; /* sorted by priority */
	struct l7_gate *gates; /* gates[i] is rules[i]'s */
	unsigned n;
	struct l7_action default_action;
	bool has_default;
};

#endif
