/* nat/iam_policy.c: an IAM policy document, parsed with json-glib, and a request evaluated against it statement by statement.
 *
 * Follows the AWS IAM User Guide: "IAM JSON policy element reference" (Version defaults to
 * 2008-10-17; Statement is one object or an array; Action/NotAction and Resource/NotResource are
 * a string or an array; action names are case-insensitive, resource ARNs case-sensitive, both take
 * the wildcards '*' and '?'), "Condition" (operators ANDed, keys of one operator ANDed, the values
 * of one key ORed; condition key names are case-insensitive), "Condition operators" (a key absent
 * from the request makes a condition false, except for a negated operator such as StringNotEquals
 * or NotIpAddress, which is then true), and "Policy evaluation logic" (explicit deny, then allow,
 * else implicit deny).  A gateway endpoint policy is resource-based, so every statement names a
 * Principal ("VPC endpoint policies", AWS PrivateLink Guide: "*" for anyone).
 *
 * Invariants: the parser rejects what it does not understand (an unknown element, operator or key,
 * NotPrincipal) rather than ignoring it, since an ignored condition would allow more than the
 * author meant; the evaluator reads the parsed policy only.
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "common/json_depth.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "nat/iam_policy.h"

/* Deeper JSON than this is refused before json-glib sees it (its parser recurses per level); a
 * policy is four levels deep. */
#define IAM_MAX_DEPTH 32
/* AWS caps a policy at a few kilobytes (an endpoint policy at 20,480 characters); this bounds what
 * a file may make us allocate. */
#define IAM_MAX_TEXT (1024 * 1024)
#define IAM_MAX_VALUES 1024

G_DEFINE_QUARK(natlb-iam-policy-error-quark, iam_policy_error)

static const char *const op_names[] = {
#define X(name, text, negated, kind) text,
	foreach_iam_cond_op
#undef X
};
static const bool op_negated[] = {
#define X(name, text, negated, kind) negated,
	foreach_iam_cond_op
#undef X
};
static const enum iam_value_kind op_kind[] = {
#define X(name, text, negated, kind) kind,
	foreach_iam_cond_op
#undef X
};
static const char *const key_names[] = {
#define X(name, text, kind) text,
	foreach_iam_cond_key
#undef X
};
static const enum iam_value_kind key_kind[] = {
#define X(name, text, kind) kind,
	foreach_iam_cond_key
#undef X
};

const char *iam_cond_op_name(enum iam_cond_op op)
{
	return op < IAM_OP_N ? op_names[op] : "?";
}

const char *iam_cond_key_name(enum iam_cond_key key)
{
	return key < IAM_KEY_N ? key_names[key] : "?";
}

const char *iam_result_text(enum iam_result r)
{
	switch (r) {
	case IAM_ALLOWED:
		return "allowed";
	case IAM_EXPLICIT_DENY:
		return "explicitly denied";
	case IAM_IMPLICIT_DENY:
		return "implicitly denied";
	}
	return "?";
}

/* ---- parsing ------------------------------------------------------------------------------------ */

static gboolean fail(GError **err, const char *source, const char *path, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static gboolean fail(GError **err, const char *source, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, IAM_POLICY_ERROR, IAM_POLICY_ERROR_INVALID, "%s: %s%s%s", source, path ? path : "",
	            path ? ": " : "", msg);
	g_free(msg);
	return FALSE;
}

static const char *node_type_text(JsonNode *n)
{
	if (JSON_NODE_HOLDS_OBJECT(n))
		return "an object";
	if (JSON_NODE_HOLDS_ARRAY(n))
		return "an array";
	if (JSON_NODE_HOLDS_NULL(n))
		return "null";
	GType t = json_node_get_value_type(n);
	if (t == G_TYPE_STRING)
		return "a string";
	if (t == G_TYPE_BOOLEAN)
		return "a boolean";
	return "a number";
}

/* A string, or a non-empty array of strings, into a NULL-terminated vector. */
static gboolean string_list(JsonNode *n, const char *source, const char *path, char ***out, unsigned *count,
                            GError **err)
{
	if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
		*out = g_new0(char *, 2);
		(*out)[0] = g_strdup(json_node_get_string(n));
		*count = 1;
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_ARRAY(n))
		return fail(err, source, path, "expected a string or an array of strings, not %s", node_type_text(n));
	JsonArray *a = json_node_get_array(n);
	unsigned len = json_array_get_length(a);
	if (len == 0)
		return fail(err, source, path, "an empty array matches nothing: give at least one value");
	if (len > IAM_MAX_VALUES)
		return fail(err, source, path, "more than %d values", IAM_MAX_VALUES);
	*out = g_new0(char *, len + 1);
	*count = 0;
	for (unsigned i = 0; i < len; i++) {
		JsonNode *e = json_array_get_element(a, i);
		if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
			char *p = g_strdup_printf("%s[%u]", path, i);
			fail(err, source, p, "expected a string, not %s", node_type_text(e));
			g_free(p);
			return FALSE;
		}
		(*out)[(*count)++] = g_strdup(json_node_get_string(e));
	}
	return TRUE;
}

/* "s3:GetObject", "s3:*", "*": a service prefix, a colon, an action name. */
static gboolean check_actions(char **v, unsigned n, const char *source, const char *path, GError **err)
{
	for (unsigned i = 0; i < n; i++) {
		const char *colon = strchr(v[i], ':');
		if (strcmp(v[i], "*") == 0)
			continue;
		if (!colon || colon == v[i] || !colon[1] || strpbrk(v[i], " \t"))
			return fail(err, source, path, "'%s' is not an action: write SERVICE:ACTION, like \"s3:GetObject\" "
			            "or \"s3:*\"", v[i]);
	}
	return TRUE;
}

static gboolean check_resources(char **v, unsigned n, const char *source, const char *path, GError **err)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(v[i], "*") != 0 && !g_str_has_prefix(v[i], "arn:"))
			return fail(err, source, path, "'%s' is not a resource: write an ARN, like "
			            "\"arn:aws:s3:::lesson-bucket/*\", or \"*\"", v[i]);
	return TRUE;
}

/* "*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "123456789012"]}. */
static gboolean parse_principal(JsonNode *n, const char *source, const char *path, struct iam_statement *s,
                                GError **err)
{
	if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
		if (strcmp(json_node_get_string(n), "*") != 0)
			return fail(err, source, path, "a Principal string can only be \"*\" (anyone); name principals as "
			            "{\"AWS\": \"arn:aws:iam::123456789012:root\"}");
		return string_list(n, source, path, &s->principals, &s->n_principals, err);
	}
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return fail(err, source, path, "expected \"*\" or an object like {\"AWS\": \"*\"}, not %s", node_type_text(n));
	JsonObject *o = json_node_get_object(n);
	GList *members = json_object_get_members(o);
	gboolean ok = TRUE;
	if (!members)
		ok = fail(err, source, path, "an empty Principal names nobody: write \"*\" or {\"AWS\": ...}");
	for (GList *m = members; ok && m; m = m->next) {
		char *p = g_strdup_printf("%s.%s", path, (const char *)m->data);
		if (strcmp(m->data, "AWS") != 0)
			ok = fail(err, source, p, "natlb knows AWS principals only (an endpoint policy's requests come from "
			          "IAM identities or anonymous callers)");
		else if (s->principals)
			ok = fail(err, source, p, "given twice");
		else
			ok = string_list(json_object_get_member(o, m->data), source, p, &s->principals, &s->n_principals, err);
		for (unsigned i = 0; ok && i < s->n_principals; i++) {
			const char *v = s->principals[i];
			if (strcmp(v, "*") != 0 && !g_str_has_prefix(v, "arn:aws:iam::") &&
			    !(strlen(v) == 12 && strspn(v, "0123456789") == 12))
				ok = fail(err, source, p, "'%s' is not a principal: write \"*\", an account id "
				          "(\"123456789012\") or an IAM ARN", v);
		}
		g_free(p);
	}
	g_list_free(members);
	return ok;
}

static int name_index(const char *name, const char *const *names, unsigned n, bool ignore_case)
{
	for (unsigned i = 0; i < n; i++)
		if (ignore_case ? g_ascii_strcasecmp(name, names[i]) == 0 : strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

static char *names_list(const char *const *names, unsigned n)
{
	GString *s = g_string_new(NULL);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", names[i]);
	return g_string_free(s, FALSE);
}

static gboolean unknown_name(GError **err, const char *source, const char *path, const char *what, const char *name,
                             const char *const *names, unsigned n)
{
	const char *near = nearest_name(name, names, n);
	char *all = names_list(names, n);
	fail(err, source, path, "unknown %s '%s' (natlb knows %s)%s%s%s", what, name, all, near ? "; did you mean '" : "",
	     near ? near : "", near ? "'?" : "");
	g_free(all);
	return FALSE;
}

/* One key of one operator: "aws:SourceIp": ["192.0.2.0/24", ...]. */
static gboolean parse_condition_key(JsonObject *ops, const char *op_name, enum iam_cond_op op, const char *key_name,
                                    const char *source, const char *path, GArray *conds, GError **err)
{
	int key = name_index(key_name, key_names, IAM_KEY_N, true);
	if (key < 0)
		return unknown_name(err, source, path, "condition key", key_name, key_names, IAM_KEY_N);
	if (key_kind[key] != op_kind[op])
		return fail(err, source, path, "%s compares %s, but %s is %s key (use %s)", op_name,
		            op_kind[op] == IAM_VALUE_IP ? "addresses" : "strings", key_names[key],
		            key_kind[key] == IAM_VALUE_IP ? "an address" : "a string",
		            key_kind[key] == IAM_VALUE_IP ? "IpAddress or NotIpAddress" : "StringEquals, StringLike ...");
	struct iam_condition c = { .op = op, .key = (enum iam_cond_key)key };
	JsonObject *keys = json_node_get_object(json_object_get_member(ops, op_name));
	if (!string_list(json_object_get_member(keys, key_name), source, path, &c.values, &c.n_values, err)) {
		g_strfreev(c.values);
		return FALSE;
	}
	if (op_kind[op] == IAM_VALUE_IP) {
		c.prefixes = g_new0(struct ip4_prefix, c.n_values);
		for (unsigned i = 0; i < c.n_values; i++) {
			GError *perr = NULL;
			if (!ip4_prefix_parse(c.values[i], &c.prefixes[i], &perr)) {
				fail(err, source, path, "%s", perr->message);
				g_error_free(perr);
				g_strfreev(c.values);
				g_free(c.prefixes);
				return FALSE;
			}
		}
	}
	g_array_append_val(conds, c);
	return TRUE;
}

static gboolean parse_condition(JsonNode *n, const char *source, const char *path, struct iam_statement *s,
                                GError **err)
{
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return fail(err, source, path, "expected an object like {\"StringEquals\": {\"aws:sourceVpce\": "
		            "\"vpce-1a2b3c4d\"}}, not %s", node_type_text(n));
	JsonObject *ops = json_node_get_object(n);
	GArray *conds = g_array_new(FALSE, TRUE, sizeof(struct iam_condition));
	GList *members = json_object_get_members(ops);
	gboolean ok = TRUE;

	for (GList *m = members; ok && m; m = m->next) {
		const char *op_name = m->data;
		char *p = g_strdup_printf("%s.%s", path, op_name);
		int op = name_index(op_name, op_names, IAM_OP_N, false);
		JsonNode *v = json_object_get_member(ops, op_name);
		if (op < 0)
			ok = unknown_name(err, source, p, "condition operator", op_name, op_names, IAM_OP_N);
		else if (!JSON_NODE_HOLDS_OBJECT(v))
			ok = fail(err, source, p, "expected an object of condition keys, not %s", node_type_text(v));
		else if (json_object_get_size(json_node_get_object(v)) == 0)
			ok = fail(err, source, p, "no condition key");
		GList *keys = ok ? json_object_get_members(json_node_get_object(v)) : NULL;
		for (GList *k = keys; ok && k; k = k->next) {
			char *kp = g_strdup_printf("%s.%s", p, (const char *)k->data);
			ok = parse_condition_key(ops, op_name, (enum iam_cond_op)op, k->data, source, kp, conds, err);
			g_free(kp);
		}
		g_list_free(keys);
		g_free(p);
	}
	g_list_free(members);
	s->n_conditions = conds->len;
	s->conditions = (struct iam_condition *)g_array_free(conds, FALSE);
	return ok;
}

static const char *const statement_keys[] = { "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
	                                      "Resource", "NotResource", "Condition" };

static gboolean parse_statement(JsonNode *n, const char *source, const char *path, struct iam_statement *s,
                                GError **err)
{
	if (!JSON_NODE_HOLDS_OBJECT(n))
		return fail(err, source, path, "a statement is an object, not %s", node_type_text(n));
	JsonObject *o = json_node_get_object(n);
	GList *members = json_object_get_members(o);
	gboolean ok = TRUE;
	bool seen_effect = false;

	for (GList *m = members; ok && m; m = m->next) {
		const char *k = m->data;
		JsonNode *v = json_object_get_member(o, k);
		char *p = g_strdup_printf("%s.%s", path, k);
		bool is_string = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING;
		if (strcmp(k, "Sid") == 0) {
			if (!is_string)
				ok = fail(err, source, p, "expected a string, not %s", node_type_text(v));
			else
				s->sid = g_strdup(json_node_get_string(v));
		} else if (strcmp(k, "Effect") == 0) {
			const char *e = is_string ? json_node_get_string(v) : "";
			if (strcmp(e, "Allow") != 0 && strcmp(e, "Deny") != 0)
				ok = fail(err, source, p, "expected \"Allow\" or \"Deny\"");
			s->effect = strcmp(e, "Deny") == 0 ? IAM_EFFECT_DENY : IAM_EFFECT_ALLOW;
			seen_effect = true;
		} else if (strcmp(k, "Principal") == 0) {
			ok = parse_principal(v, source, p, s, err);
		} else if (strcmp(k, "NotPrincipal") == 0) {
			ok = fail(err, source, p, "not supported by natlb (AWS advises against it): use Principal");
		} else if (strcmp(k, "Action") == 0 || strcmp(k, "NotAction") == 0) {
			if (s->actions)
				ok = fail(err, source, p, "a statement has Action or NotAction, not both");
			else
				ok = string_list(v, source, p, &s->actions, &s->n_actions, err) &&
				     check_actions(s->actions, s->n_actions, source, p, err);
			s->not_action = k[0] == 'N';
		} else if (strcmp(k, "Resource") == 0 || strcmp(k, "NotResource") == 0) {
			if (s->resources)
				ok = fail(err, source, p, "a statement has Resource or NotResource, not both");
			else
				ok = string_list(v, source, p, &s->resources, &s->n_resources, err) &&
				     check_resources(s->resources, s->n_resources, source, p, err);
			s->not_resource = k[0] == 'N';
		} else if (strcmp(k, "Condition") == 0) {
			ok = parse_condition(v, source, p, s, err);
		} else {
			ok = unknown_name(err, source, p, "statement element", k, statement_keys, G_N_ELEMENTS(statement_keys));
		}
		g_free(p);
	}
	g_list_free(members);
	if (ok && !seen_effect)
		ok = fail(err, source, path, "no Effect: add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"");
	if (ok && !s->principals)
		ok = fail(err, source, path, "no Principal: an endpoint policy says whom a statement is for (\"Principal\": "
		          "\"*\" for anyone)");
	if (ok && !s->actions)
		ok = fail(err, source, path, "no Action or NotAction (\"Action\": \"s3:GetObject\")");
	if (ok && !s->resources)
		ok = fail(err, source, path, "no Resource or NotResource (\"Resource\": \"arn:aws:s3:::lesson-bucket/*\")");
	return ok;
}

static gboolean parse_document(JsonNode *root, const char *source, struct iam_policy *p, GError **err)
{
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return fail(err, source, NULL, "a policy document is a JSON object with a Statement, not %s",
		            root ? node_type_text(root) : "nothing");
	JsonObject *o = json_node_get_object(root);
	GList *members = json_object_get_members(o);
	JsonNode *statements = NULL;
	gboolean ok = TRUE;
	static const char *const doc_keys[] = { "Version", "Id", "Statement" };

	for (GList *m = members; ok && m; m = m->next) {
		const char *k = m->data;
		JsonNode *v = json_object_get_member(o, k);
		bool is_string = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING;
		if (strcmp(k, "Version") == 0) {
			const char *ver = is_string ? json_node_get_string(v) : "";
			if (strcmp(ver, "2012-10-17") != 0 && strcmp(ver, "2008-10-17") != 0)
				ok = fail(err, source, "Version", "expected \"2012-10-17\" (or the older \"2008-10-17\")");
			else
				p->version = g_strdup(ver);
		} else if (strcmp(k, "Id") == 0) {
			if (!is_string)
				ok = fail(err, source, "Id", "expected a string, not %s", node_type_text(v));
			else
				p->id = g_strdup(json_node_get_string(v));
		} else if (strcmp(k, "Statement") == 0) {
			statements = v;
		} else {
			ok = unknown_name(err, source, k, "policy element", k, doc_keys, G_N_ELEMENTS(doc_keys));
		}
	}
	g_list_free(members);
	if (!ok)
		return FALSE;
	if (!p->version)
		p->version = g_strdup("2008-10-17"); /* IAM's default when Version is absent */
	if (!statements)
		return fail(err, source, NULL, "no Statement: a policy needs at least one");
	if (JSON_NODE_HOLDS_OBJECT(statements)) {
		p->statements = g_new0(struct iam_statement, 1);
		p->n_statements = 1;
		return parse_statement(statements, source, "Statement", &p->statements[0], err);
	}
	if (!JSON_NODE_HOLDS_ARRAY(statements))
		return fail(err, source, "Statement", "expected a statement object or an array of them, not %s",
		            node_type_text(statements));
	JsonArray *a = json_node_get_array(statements);
	unsigned n = json_array_get_length(a);
	if (n == 0)
		return fail(err, source, "Statement", "an empty array: a policy needs at least one statement");
	if (n > IAM_MAX_VALUES)
		return fail(err, source, "Statement", "more than %d statements", IAM_MAX_VALUES);
	p->statements = g_new0(struct iam_statement, n);
	for (unsigned i = 0; i < n; i++) {
		char *path = g_strdup_printf("Statement[%u]", i);
		p->statements[i].index = i;
		p->n_statements = i + 1; /* so that free sees what was parsed */
		ok = parse_statement(json_array_get_element(a, i), source, path, &p->statements[i], err);
		g_free(path);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

struct iam_policy *iam_policy_parse(const char *source, const char *text, gssize len, GError **err)
{
	size_t n = len < 0 ? strlen(text) : (size_t)len;
	struct iam_policy *p = g_new0(struct iam_policy, 1);
	JsonParser *parser = NULL;
	GError *jerr = NULL;
	gboolean ok = FALSE;

	p->source = g_strdup(source);
	if (n > IAM_MAX_TEXT) {
		fail(err, source, NULL, "larger than %d bytes: not a policy document", IAM_MAX_TEXT);
		goto out;
	}
	if (memchr(text, '\0', n) || !g_utf8_validate(text, (gssize)n, NULL)) {
		fail(err, source, NULL, "not UTF-8 text (a policy document is JSON)");
		goto out;
	}
	if (!json_depth_ok(text, n, IAM_MAX_DEPTH)) { /* json-glib recurses per level */
		fail(err, source, NULL, "nested deeper than %d levels: not a policy document", IAM_MAX_DEPTH);
		goto out;
	}
	parser = json_parser_new();
	if (!json_parser_load_from_data(parser, text, (gssize)n, &jerr)) {
		fail(err, source, NULL, "not valid JSON: %s", jerr->message);
		g_error_free(jerr);
		goto out;
	}
	ok = parse_document(json_parser_get_root(parser), source, p, err);
out:
	if (parser)
		g_object_unref(parser);
	if (!ok) {
		iam_policy_free(p);
		return NULL;
	}
	return p;
}

struct iam_policy *iam_policy_load(const char *path, GError **err)
{
	char *text = NULL;
	gsize len = 0;
	GError *ferr = NULL;

	if (!g_file_get_contents(path, &text, &len, &ferr)) {
		g_set_error(err, IAM_POLICY_ERROR, IAM_POLICY_ERROR_INVALID, "%s: cannot read the policy: %s", path,
		            ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	struct iam_policy *p = iam_policy_parse(path, text, (gssize)len, err);
	g_free(text);
	return p;
}

void iam_policy_free(struct iam_policy *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_statements; i++) {
		struct iam_statement *s = &p->statements[i];
		g_free(s->sid);
		g_strfreev(s->principals);
		g_strfreev(s->actions);
		g_strfreev(s->resources);
		for (unsigned c = 0; c < s->n_conditions; c++) {
			g_strfreev(s->conditions[c].values);
			g_free(s->conditions[c].prefixes);
		}
		g_free(s->conditions);
	}
	g_free(p->statements);
	g_free(p->source);
	g_free(p->version);
	g_free(p->id);
	g_free(p);
}

/* ---- evaluation --------------------------------------------------------------------------------- */

bool iam_wildcard_match(const char *pat, const char *s, size_t len, bool ignore_case)
{
	const char *star = NULL;
	size_t i = 0, star_i = 0;

	while (i < len) {
		char pc = *pat, sc = s[i];
		if (ignore_case) {
			pc = g_ascii_tolower(pc);
			sc = g_ascii_tolower(sc);
		}
		if (pc == '*') {
			star = ++pat;
			star_i = i;
		} else if (pc && (pc == '?' || pc == sc)) {
			pat++;
			i++;
		} else if (star) {
			pat = star;
			i = ++star_i; /* the last '*' takes one more character */
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int list_match(char **pats, unsigned n, const char *s, size_t len, bool ignore_case)
{
	for (unsigned i = 0; i < n; i++)
		if (iam_wildcard_match(pats[i], s, len, ignore_case))
			return (int)i;
	return -1;
}

/* The account of "arn:aws:iam::123456789012:user/x": its fifth field. */
static bool principal_in_account(const char *principal, const char *account)
{
	const char *p = principal;
	for (int colons = 0; colons < 4; colons++) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	size_t n = strlen(account);
	return strncmp(p, account, n) == 0 && p[n] == ':';
}

static bool principal_match(const struct iam_statement *s, const char *principal)
{
	for (unsigned i = 0; i < s->n_principals; i++) {
		const char *v = s->principals[i];
		if (strcmp(v, "*") == 0)
			return true;
		if (!principal)
			continue; /* an anonymous request is matched by "*" only */
		if (strcmp(v, principal) == 0)
			return true;
		/* an account id, or its root ARN, stands for every principal of the account */
		char account[13] = "";
		if (strlen(v) == 12)
			memcpy(account, v, 12);
		else if (g_str_has_prefix(v, "arn:aws:iam::") && g_str_has_suffix(v, ":root") && strlen(v) == 30)
			memcpy(account, v + 13, 12);
		if (account[0] && principal_in_account(principal, account))
			return true;
	}
	return false;
}

static bool string_value_match(enum iam_cond_op op, const char *want, const char *have)
{
	switch (op) {
	case IAM_OP_STRING_EQUALS:
	case IAM_OP_STRING_NOT_EQUALS:
		return strcmp(want, have) == 0;
	case IAM_OP_STRING_EQUALS_IC:
	case IAM_OP_STRING_NOT_EQUALS_IC:
		return g_ascii_strcasecmp(want, have) == 0;
	default:
		return iam_wildcard_match(want, have, strlen(have), false);
	}
}

/* One condition; *present says whether the request has the key at all. */
static bool condition_holds(const struct iam_condition *c, const struct iam_request *req, bool *present)
{
	bool any = false;
	uint32_t addr = 0;
	const char *str = NULL;

	switch (c->key) {
	case IAM_KEY_SOURCE_IP:
		*present = req->has_source_ip;
		addr = req->source_ip;
		break;
	case IAM_KEY_VPC_SOURCE_IP:
		*present = req->has_vpc_source_ip;
		addr = req->vpc_source_ip;
		break;
	case IAM_KEY_SOURCE_VPCE:
		*present = req->source_vpce != NULL;
		str = req->source_vpce;
		break;
	case IAM_KEY_N:
		*present = false;
		break;
	}
	if (!*present)
		return op_negated[c->op]; /* "Condition operators": an absent key matches only a negated operator */
	for (unsigned i = 0; i < c->n_values && !any; i++)
		any = op_kind[c->op] == IAM_VALUE_IP ? ip4_prefix_contains(&c->prefixes[i], addr)
		                                     : string_value_match(c->op, c->values[i], str);
	return op_negated[c->op] ? !any : any;
}

const char *iam_statement_name(const struct iam_statement *s, char *buf, size_t size)
{
	if (s->sid && s->sid[0])
		g_snprintf(buf, size, "statement %u (Sid \"%s\")", s->index, s->sid);
	else
		g_snprintf(buf, size, "statement %u", s->index);
	return buf;
}

static void trace_list(GString *t, char **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(t, "%s\"%s\"", i ? ", " : "", v[i]);
}

/* Does s apply to req?  With trace, says why element by element. */
static bool statement_applies(const struct iam_statement *s, const struct iam_request *req, GString *t)
{
	bool principal = principal_match(s, req->principal);
	int action = list_match(s->actions, s->n_actions, req->action, req->action_len, true);
	int resource = list_match(s->resources, s->n_resources, req->resource, req->resource_len, false);
	bool action_ok = s->not_action ? action < 0 : action >= 0;
	bool resource_ok = s->not_resource ? resource < 0 : resource >= 0;
	bool conditions_ok = true;

	for (unsigned i = 0; i < s->n_conditions; i++) {
		bool present;
		conditions_ok &= condition_holds(&s->conditions[i], req, &present);
	}
	if (t) {
		char name[160];
		g_string_append_printf(t, "  %s, %s:\n", iam_statement_name(s, name, sizeof name),
		                       s->effect == IAM_EFFECT_DENY ? "Deny" : "Allow");
		g_string_append_printf(t, "    Principal ");
		trace_list(t, s->principals, s->n_principals);
		g_string_append_printf(t, ": %s %s\n", req->principal ? req->principal : "an anonymous caller",
		                       principal ? "matches" : "does not match");
		g_string_append_printf(t, "    %s ", s->not_action ? "NotAction" : "Action");
		trace_list(t, s->actions, s->n_actions);
		g_string_append_printf(t, ": %.*s %s%s%s%s\n", (int)req->action_len, req->action,
		                       action >= 0 ? "matches \"" : "matches none", action >= 0 ? s->actions[action] : "",
		                       action >= 0 ? "\"" : "", action_ok ? "" : s->not_action ? " (excluded)" : "");
		g_string_append_printf(t, "    %s ", s->not_resource ? "NotResource" : "Resource");
		trace_list(t, s->resources, s->n_resources);
		g_string_append_printf(t, ": %.*s %s%s%s%s\n", (int)req->resource_len, req->resource,
		                       resource >= 0 ? "matches \"" : "matches none",
		                       resource >= 0 ? s->resources[resource] : "", resource >= 0 ? "\"" : "",
		                       resource_ok ? "" : s->not_resource ? " (excluded)" : "");
		for (unsigned i = 0; i < s->n_conditions; i++) {
			const struct iam_condition *c = &s->conditions[i];
			bool present;
			bool holds = condition_holds(c, req, &present);
			char have[64] = "absent from the request";
			if (present && key_kind[c->key] == IAM_VALUE_IP)
				ip4_to_str(c->key == IAM_KEY_SOURCE_IP ? req->source_ip : req->vpc_source_ip, have);
			else if (present)
				g_snprintf(have, sizeof have, "%s", req->source_vpce);
			g_string_append_printf(t, "    Condition %s %s ", op_names[c->op], key_names[c->key]);
			trace_list(t, c->values, c->n_values);
			g_string_append_printf(t, ": %s %s\n", have, holds ? "holds" : "fails");
		}
		bool applies = principal && action_ok && resource_ok && conditions_ok;
		g_string_append_printf(t, "    -> %s\n", applies ? (s->effect == IAM_EFFECT_DENY ? "applies: denies" :
		                                                     "applies: allows") : "does not apply");
	}
	return principal && action_ok && resource_ok && conditions_ok;
}

struct iam_decision iam_policy_evaluate(const struct iam_policy *p, const struct iam_request *req, GString *trace)
{
	int first_deny = -1, first_allow = -1;

	for (unsigned i = 0; i < p->n_statements; i++) {
		const struct iam_statement *s = &p->statements[i];
		if (!statement_applies(s, req, trace))
			continue;
		if (s->effect == IAM_EFFECT_DENY && first_deny < 0)
			first_deny = (int)i;
		if (s->effect == IAM_EFFECT_ALLOW && first_allow < 0)
			first_allow = (int)i;
		if (first_deny >= 0 && !trace)
			break; /* nothing overrides an explicit deny */
	}
	struct iam_decision d = { IAM_IMPLICIT_DENY, -1 };
	if (first_deny >= 0)
		d = (struct iam_decision){ IAM_EXPLICIT_DENY, first_deny };
	else if (first_allow >= 0)
		d = (struct iam_decision){ IAM_ALLOWED, first_allow };
	if (trace) {
		char name[160];
		if (d.statement >= 0)
			g_string_append_printf(trace, "decision: %s by %s%s\n", iam_result_text(d.result),
			                       iam_statement_name(&p->statements[d.statement], name, sizeof name),
			                       d.result == IAM_EXPLICIT_DENY ? " (an explicit Deny wins over any Allow)" : "");
		else
			g_string_append_printf(trace, "decision: implicitly denied: no statement allows it\n");
	}
	return d;
}
