/* nat/route_table.c: an AWS VPC subnet route table in front of a NAT gateway: where traffic leaving the subnet goes.
 *
 * Follows the Amazon VPC User Guide, "Configure route tables" and "How route priority works"
 * (the most specific route wins; on equal prefixes a CIDR route beats a prefix-list route), and
 * the AWS PrivateLink Guide, "Gateway endpoints" (a gateway endpoint is the target of a route
 * whose destination is the service's prefix list; traffic to S3 or DynamoDB then leaves without
 * a NAT device, so the service sees the instance's private address: S3 bucket policies match it
 * with aws:VpcSourceIp, and aws:SourceIp is absent).
 *
 * The scenario writes the table as one key, routes in any order:
 *
 *     routes = 10.0.0.0/16 local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 natgw; 192.0.2.0/24 blackhole
 *
 * A destination is a prefix or the name of a [prefix-list NAME] group; a target is `local`
 * (stays in the VPC: delivered on the link after this stage), the next stage of the chain by
 * name (the NAT gateway), `endpoint NAME` (or a bare vpce-... name: a gateway endpoint), or
 * `blackhole`.  A packet that no route matches is dropped, as the VPC router does.
 *
 * How the endpoint bypasses the NAT in a linear chain (app > vpc-rt > vpc > natgw > internet):
 * the stage answers the loop's bypass question (stage_ops.bypass, common/stage-t.h) for traffic
 * whose remote end (the destination going out, the source coming back) takes an endpoint route:
 * every stage after this one is then routed around, untouched, and annotated "bypassed".  The
 * same lookup answers for requests and for their replies, wherever they were captured, because
 * the loop asks before it meets the bypassed stages in either direction.
 *
 * Invariants: stateless (the routes are the table; no table_foreach); entries sorted once at
 * configure time, so the first matching entry is the winner.
 */
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "nat/endpoint_policy.h"
#include "nat/iam_policy.h"
#include "nat/route_table.h"

#define ROUTE_TABLE_MAX_ROUTES 64

enum route_target {
	ROUTE_LOCAL,
	ROUTE_NEXT,      /* the next stage of the chain, e.g. the NAT gateway */
	ROUTE_ENDPOINT,  /* a gateway endpoint: the stages after this one are routed around */
	ROUTE_BLACKHOLE,
};

/* One item of "routes =", as written. */
struct route {
	char *dest;               /* "10.0.0.0/16" or a prefix list's name */
	bool is_list;
	struct ip4_prefix pfx;    /* the destination, when not a list */
	enum route_target target;
	char *target_name;        /* the endpoint's or the next stage's name; NULL otherwise */
	char *via;                /* "gateway endpoint vpce-s3", for the loop's "bypassed" notes */
	uint64_t hits[2];         /* packets per enum hop_dir */
	struct endpoint_policy *policy; /* the endpoint's policy.NAME, owned by route_table.policies; NULL: none */
};

/* One prefix a route covers (a prefix list gives several), in match order. */
struct route_entry {
	struct ip4_prefix pfx;
	unsigned route;           /* index into routes[] */
};

struct route_table {
	struct route routes[ROUTE_TABLE_MAX_ROUTES];
	unsigned n_routes;
	struct route_entry *entries;
	unsigned n_entries;
	const struct scenario *sc; /* complete by the time packets flow: for links and the chain's length */
	struct endpoint_policy *policies[ROUTE_TABLE_MAX_ROUTES];
	unsigned n_policies;
};

/* policy.NAME: the IAM policy of gateway endpoint NAME (nat/endpoint_policy.h). */
static const char *const route_table_keys[] = { "routes", "policy.*", NULL };

static const char *target_text(const struct route *r, char *buf, size_t size)
{
	switch (r->target) {
	case ROUTE_LOCAL:
		return "local";
	case ROUTE_BLACKHOLE:
		return "blackhole";
	case ROUTE_ENDPOINT:
		g_snprintf(buf, size, "endpoint %s", r->target_name);
		return buf;
	case ROUTE_NEXT:
		return r->target_name;
	}
	return "?";
}

/* Longest prefix first; on equal length a CIDR route before a prefix-list one (AWS route
 * priority), then the order written. */
static gint entry_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct route_entry *x = a, *y = b;
	const struct route_table *rt = data;
	if (x->pfx.len != y->pfx.len)
		return x->pfx.len > y->pfx.len ? -1 : 1;
	if (rt->routes[x->route].is_list != rt->routes[y->route].is_list)
		return rt->routes[x->route].is_list ? 1 : -1;
	return x->route < y->route ? -1 : x->route > y->route;
}

static const struct route_entry *route_lookup(const struct route_table *rt, uint32_t addr)
{
	for (unsigned i = 0; i < rt->n_entries; i++)
		if (ip4_prefix_contains(&rt->entries[i].pfx, addr))
			return &rt->entries[i];
	return NULL;
}

/* The stage after this one in the chain (the key file's chain, already checked by the scenario
 * parser), or NULL when this is the last stage. */
static char *next_stage_name(const struct stage_config *cfg)
{
	char *chain = g_key_file_get_string(cfg->kf, "scenario", "chain", NULL);
	char **items = g_strsplit(chain ? chain : "", ">", -1);
	const char *me = cfg->group + strlen("stage ");
	char *next = NULL;
	unsigned n = g_strv_length(items);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(g_strstrip(items[i]), me) == 0 && i + 2 < n)
			next = g_strdup(g_strstrip(items[i + 2]));
	g_strfreev(items);
	g_free(chain);
	return next;
}

static bool is_stage_of_chain(const struct stage_config *cfg, const char *name)
{
	char *group = g_strdup_printf("stage %s", name);
	bool yes = g_key_file_has_group(cfg->kf, group);
	g_free(group);
	return yes;
}

/* "pl-s4' is not ..." with the prefix lists the scenario has. */
static void unknown_list_error(const struct stage_config *cfg, const char *item, const char *dest, GError **err)
{
	const struct scenario *sc = cfg->scenario;
	const char *names[64];
	unsigned n = MIN(sc->n_prefix_lists, G_N_ELEMENTS(names));
	GString *have = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++) {
		names[i] = sc->prefix_lists[i].name;
		g_string_append_printf(have, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = nearest_name(dest, names, n);
	stage_config_error(cfg, "routes", err, "'%s': '%s' is neither a prefix nor a [prefix-list %s] group "
	                   "(prefix lists: %s)%s%s%s", item, dest, dest, n ? have->str : "none",
	                   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	g_string_free(have, TRUE);
}

/* One "DESTINATION TARGET" item into r. */
static gboolean parse_route(const struct stage_config *cfg, const char *item, const char *next, struct route *r,
                            GError **err)
{
	char **words = g_strsplit_set(item, " \t", -1);
	const char *w[4];
	unsigned n = 0;
	gboolean ok = FALSE;
	GError *perr = NULL;

	for (char **p = words; *p; p++)
		if (**p && strcmp(*p, "->") != 0) {
			if (n < G_N_ELEMENTS(w))
				w[n] = *p;
			n++;
		}
	if (n < 2 || n > 3 || (n == 3 && strcmp(w[1], "endpoint") != 0)) {
		stage_config_error(cfg, "routes", err, "'%s': a route is DESTINATION TARGET, like '0.0.0.0/0 %s' or "
		                   "'pl-s3 endpoint vpce-s3'", item, next ? next : "local");
		goto out;
	}
	r->dest = g_strdup(w[0]);
	if (g_ascii_isdigit(w[0][0])) {
		if (!ip4_prefix_parse(w[0], &r->pfx, &perr)) {
			stage_config_error(cfg, "routes", err, "'%s': %s", item, perr->message);
			g_error_free(perr);
			goto out;
		}
	} else if (scenario_prefix_list(cfg->scenario, w[0])) {
		r->is_list = true;
	} else {
		unknown_list_error(cfg, item, w[0], err);
		goto out;
	}
	const char *t = w[1];
	if (n == 3) {
		r->target = ROUTE_ENDPOINT;
		r->target_name = g_strdup(w[2]);
	} else if (strcmp(t, "local") == 0) {
		r->target = ROUTE_LOCAL;
	} else if (strcmp(t, "blackhole") == 0) {
		r->target = ROUTE_BLACKHOLE;
	} else if (g_str_has_prefix(t, "vpce-")) {
		r->target = ROUTE_ENDPOINT;
		r->target_name = g_strdup(t);
	} else if (next && strcmp(t, next) == 0) {
		r->target = ROUTE_NEXT;
		r->target_name = g_strdup(t);
	} else if (strcmp(t, "endpoint") == 0) {
		stage_config_error(cfg, "routes", err, "'%s': endpoint needs a name, like 'endpoint vpce-s3'", item);
		goto out;
	} else if (is_stage_of_chain(cfg, t)) {
		stage_config_error(cfg, "routes", err, "'%s': '%s' is a stage, but not the one right after this route "
		                   "table (%s): a route table hands traffic to the next stage only", item, t,
		                   next ? next : "there is none");
		goto out;
	} else {
		const char *cands[] = { "local", "blackhole", "endpoint", next };
		const char *near = nearest_name(t, cands, next ? 4 : 3);
		stage_config_error(cfg, "routes", err, "'%s': unknown target '%s' (targets: local, %s%sendpoint NAME, "
		                   "blackhole)%s%s%s", item, t, next ? next : "", next ? " (the next stage), " : "",
		                   near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		goto out;
	}
	if (r->target == ROUTE_ENDPOINT)
		r->via = g_strdup_printf("gateway endpoint %s", r->target_name);
	ok = TRUE;
out:
	g_strfreev(words);
	return ok;
}

static void route_table_destroy(struct stage *st)
{
	struct route_table *rt = st->priv;
	if (!rt)
		return;
	for (unsigned i = 0; i < rt->n_routes; i++) {
		g_free(rt->routes[i].dest);
		g_free(rt->routes[i].target_name);
		g_free(rt->routes[i].via);
	}
	for (unsigned i = 0; i < rt->n_policies; i++)
		endpoint_policy_free(rt->policies[i]);
	g_free(rt->entries);
	g_free(rt);
}

/* The policy document a policy.NAME value gives: inline JSON ({...}, so that a lesson built into
 * the binary carries its policy), or a file, relative to the scenario's folder. */
static struct iam_policy *policy_read(const struct stage_config *cfg, const char *key, const char *value, GError **err)
{
	struct iam_policy *pol = NULL;
	GError *perr = NULL;

	if (value[0] == '{') {
		char *where = g_strdup_printf("%s [%s] %s", cfg->source, cfg->group, key);
		pol = iam_policy_parse(where, value, -1, &perr);
		g_free(where);
	} else if (g_str_has_prefix(cfg->source, "built-in ") && !g_path_is_absolute(value)) {
		stage_config_error(cfg, key, err, "'%s': the built-in copy of this lesson has no folder to read a file "
		                   "from: write the policy inline (%s = {\"Version\": \"2012-10-17\", ...}) or copy the "
		                   "lesson to a file", value, key);
		return NULL;
	} else {
		char *dir = g_path_get_dirname(cfg->source);
		char *path = g_path_is_absolute(value) ? g_strdup(value) : g_build_filename(dir, value, NULL);
		pol = iam_policy_load(path, &perr);
		g_free(path);
		g_free(dir);
	}
	if (!pol) {
		stage_config_error(cfg, key, err, "%s", perr->message);
		g_error_free(perr);
	}
	return pol;
}

/* Every policy.NAME key: NAME must be an endpoint the routes send traffic to. */
static gboolean policies_configure(struct route_table *rt, const struct stage_config *cfg, GError **err)
{
	char **keys = g_key_file_get_keys(cfg->kf, cfg->group, NULL, NULL);
	gboolean ok = TRUE;

	for (char **k = keys; ok && k && *k; k++) {
		if (!g_str_has_prefix(*k, "policy."))
			continue;
		const char *name = *k + strlen("policy.");
		const char *endpoints[ROUTE_TABLE_MAX_ROUTES];
		unsigned n_endpoints = 0;
		bool found = false;
		for (unsigned i = 0; i < rt->n_routes; i++)
			if (rt->routes[i].target == ROUTE_ENDPOINT) {
				found |= strcmp(rt->routes[i].target_name, name) == 0;
				endpoints[n_endpoints++] = rt->routes[i].target_name;
			}
		if (!found) {
			const char *near = nearest_name(name, endpoints, n_endpoints);
			stage_config_error(cfg, *k, err, "no route targets an endpoint '%s' (endpoints of the routes: %s)%s%s%s",
			                   name, n_endpoints ? endpoints[0] : "none", near ? "; did you mean 'policy." : "",
			                   near ? near : "", near ? "'?" : "");
			ok = FALSE;
			break;
		}
		char *value = stage_config_string(cfg, *k, "");
		struct iam_policy *pol = value[0] ? policy_read(cfg, *k, value, err) : NULL;
		if (!value[0])
			stage_config_error(cfg, *k, err, "empty: give a policy file (lesson-bucket-policy.json) or the JSON inline");
		struct endpoint_policy *ep = pol ? endpoint_policy_new(name, pol, value, err) : NULL;
		g_free(value);
		if (!ep) {
			ok = FALSE;
			break;
		}
		rt->policies[rt->n_policies++] = ep;
		for (unsigned i = 0; i < rt->n_routes; i++)
			if (rt->routes[i].target == ROUTE_ENDPOINT && strcmp(rt->routes[i].target_name, name) == 0)
				rt->routes[i].policy = ep;
	}
	g_strfreev(keys);
	return ok;
}

static gboolean route_table_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct route_table *rt = g_new0(struct route_table, 1);
	char **items = stage_config_list(cfg, "routes");
	char *next = next_stage_name(cfg);
	gboolean ok = FALSE;
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(struct route_entry));

	st->priv = rt;
	rt->sc = cfg->scenario;
	if (!items || !items[0]) {
		stage_config_error(cfg, "routes", err, "a route-table stage needs routes (like: routes = 10.0.0.0/16 "
		                   "local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 %s)", next ? next : "blackhole");
		goto out;
	}
	/* stage_config_list splits on ',' too; a route has no comma, so each item is one route. */
	for (char **it = items; *it; it++) {
		if (rt->n_routes == ROUTE_TABLE_MAX_ROUTES) {
			stage_config_error(cfg, "routes", err, "more than %d routes", ROUTE_TABLE_MAX_ROUTES);
			goto out;
		}
		struct route *r = &rt->routes[rt->n_routes];
		if (!parse_route(cfg, *it, next, r, err)) {
			rt->n_routes++; /* so that destroy frees what was parsed */
			goto out;
		}
		for (unsigned i = 0; i < rt->n_routes; i++)
			if (rt->routes[i].is_list == r->is_list && (r->is_list ? strcmp(rt->routes[i].dest, r->dest) == 0 :
			    rt->routes[i].pfx.addr == r->pfx.addr && rt->routes[i].pfx.len == r->pfx.len)) {
				stage_config_error(cfg, "routes", err, "destination %s appears in routes %u and %u "
				                   "(a route table holds one route per destination)", r->dest, i + 1,
				                   rt->n_routes + 1);
				rt->n_routes++;
				goto out;
			}
		unsigned idx = rt->n_routes++;
		if (r->is_list) {
			const struct prefix_list *pl = scenario_prefix_list(cfg->scenario, r->dest);
			for (unsigned j = 0; j < pl->n_prefixes; j++) {
				struct route_entry e = { pl->prefixes[j], idx };
				g_array_append_val(entries, e);
			}
		} else {
			struct route_entry e = { r->pfx, idx };
			g_array_append_val(entries, e);
		}
	}
	g_array_sort_with_data(entries, entry_cmp, rt);
	rt->n_entries = entries->len;
	rt->entries = (struct route_entry *)g_array_free(entries, FALSE);
	entries = NULL;
	ok = policies_configure(rt, cfg, err);
out:
	if (entries)
		g_array_free(entries, TRUE);
	g_strfreev(items);
	g_free(next);
	return ok;
}

static void route_table_describe(const struct stage *st, GString *out)
{
	const struct route_table *rt = st->priv;
	char buf[80], pfx[19];

	g_string_append(out, "routes = ");
	for (unsigned i = 0; i < rt->n_routes; i++)
		g_string_append_printf(out, "%s%s %s", i ? "; " : "", rt->routes[i].dest,
		                       target_text(&rt->routes[i], buf, sizeof buf));
	g_string_append(out, "\n# match order: the longest prefix wins; on equal length a CIDR route beats a "
	                     "prefix-list route\n");
	for (unsigned i = 0; i < rt->n_entries; i++) {
		const struct route *r = &rt->routes[rt->entries[i].route];
		g_string_append_printf(out, "#   %-18s %s%s%s%s\n", ip4_prefix_to_str(&rt->entries[i].pfx, pfx),
		                       target_text(r, buf, sizeof buf), r->is_list ? " (prefix list " : "",
		                       r->is_list ? r->dest : "", r->is_list ? ")" : "");
	}
	g_string_append(out, "# no route matches: dropped; an endpoint route bypasses every later stage\n");
	for (unsigned i = 0; i < rt->n_policies; i++) {
		const struct iam_policy *pol = endpoint_policy_document(rt->policies[i]);
		char name[160];
		const char *vpce = endpoint_policy_name(rt->policies[i]);
		g_string_append_printf(out, "policy.%s = %s\n# policy of %s: Version %s, %u statement%s (", vpce,
		                       endpoint_policy_written(rt->policies[i]), vpce, pol->version, pol->n_statements,
		                       pol->n_statements == 1 ? "" : "s");
		for (unsigned s = 0; s < pol->n_statements; s++)
			g_string_append_printf(out, "%s%s %s", s ? "; " : "", iam_statement_name(&pol->statements[s], name,
			                       sizeof name), pol->statements[s].effect == IAM_EFFECT_DENY ? "Deny" : "Allow");
		g_string_append(out, "); evaluated on S3 requests over HTTP: an explicit Deny wins, then an Allow, else "
		                     "an implicit deny; a denied request is answered 403 AccessDenied by the endpoint\n");
	}
}

/* "52.216.8.1 matches pl-s3 (52.216.0.0/15)" or "... matches 0.0.0.0/0". */
static void note_match(GString *note, uint32_t addr, const struct route *r, const struct route_entry *e)
{
	char pfx[19];
	note_append_ip4(note, addr);
	if (r->is_list)
		note_appendf(note, " matches %s (%s)", r->dest, ip4_prefix_to_str(&e->pfx, pfx));
	else
		note_appendf(note, " matches %s", r->dest);
}

/* The same words into a buffer, for a drop's detail. */
static const char *match_str(char *buf, size_t size, uint32_t addr, const struct route *r, const struct route_entry *e)
{
	char a[16], pfx[19];
	if (r->is_list)
		g_snprintf(buf, size, "%s matches %s (%s)", ip4_to_str(addr, a), r->dest, ip4_prefix_to_str(&e->pfx, pfx));
	else
		g_snprintf(buf, size, "%s matches %s", ip4_to_str(addr, a), r->dest);
	return buf;
}

static enum verdict route_table_out(struct stage *st, struct route_table *rt, struct packet *p,
                                    struct stage_ctx *ctx)
{
	const struct route_entry *e = route_lookup(rt, p->ip.dst);
	GString *note = ctx->note;
	char s[16], d[16], m[80];

	/* the loop has written "route-table <name>: " */
	if (!e)
		return stage_drop(ctx, DROP_ROUTE_NO_ROUTE, "%s -> %s", ip4_to_str(p->ip.src, s), ip4_to_str(p->ip.dst, d));
	struct route *r = &rt->routes[e->route];
	r->hits[DIR_LEFT_TO_RIGHT]++;
	switch (r->target) {
	case ROUTE_BLACKHOLE:
		return stage_drop(ctx, DROP_ROUTE_BLACKHOLE, "%s -> %s", ip4_to_str(p->ip.src, s),
		                  match_str(m, sizeof m, p->ip.dst, r, e));
	case ROUTE_LOCAL:
		if (scenario_link_of(rt->sc, p->ip.dst) != st->index + 1)
			return stage_drop(ctx, DROP_ROUTE_LOCAL_NO_HOST, "%s -> %s", ip4_to_str(p->ip.src, s),
			                  match_str(m, sizeof m, p->ip.dst, r, e));
		note_match(note, p->ip.dst, r, e);
		note_appendf(note, ": local, stays in the VPC");
		return VERDICT_FORWARD;
	case ROUTE_NEXT:
		note_match(note, p->ip.dst, r, e);
		note_appendf(note, ": to %s", r->target_name);
		return VERDICT_FORWARD;
	case ROUTE_ENDPOINT:
		note_match(note, p->ip.dst, r, e);
		note_appendf(note, ": via %s, not translated (the source stays ", r->via);
		note_append_ip4(note, p->ip.src);
		note_appendf(note, ")");
		if (r->policy && ctx->capture_side == SIDE_LEFT)
			return endpoint_policy_out(r->policy, st, p, ctx);
		if (r->policy)
			note_appendf(note, "; its policy is not evaluated: the capture was taken on S3's side, which shows "
			             "only what the endpoint let through");
		return VERDICT_FORWARD;
	}
	return VERDICT_FORWARD;
}

/* Coming back into the subnet: the VPC delivers it by the local route; the table only says
 * which way it came, the same way its request left. */
static enum verdict route_table_in(struct stage *st, struct route_table *rt, struct packet *p, struct stage_ctx *ctx)
{
	const struct route_entry *e = route_lookup(rt, p->ip.src);
	GString *note = ctx->note;

	(void)st; /* the loop has written "route-table <name>: " */
	/* Counted on the route its request would have left by (replies from the internet came back
	 * through the NAT gateway's route, a VPC host's through local); a blackhole route carries
	 * nothing out, so nothing comes back through it. */
	if (e && rt->routes[e->route].target != ROUTE_BLACKHOLE)
		rt->routes[e->route].hits[DIR_RIGHT_TO_LEFT]++;
	if (e && rt->routes[e->route].target == ROUTE_ENDPOINT) {
		struct route *r = &rt->routes[e->route];
		char pfx[19];
		note_appendf(note, "from ");
		note_append_ip4(note, p->ip.src);
		note_appendf(note, " (%s%s%s): came through %s, not translated; delivered to ", r->dest,
		             r->is_list ? " " : "", r->is_list ? ip4_prefix_to_str(&e->pfx, pfx) : "", r->via);
	} else {
		note_appendf(note, "delivered to ");
	}
	note_append_ip4(note, p->ip.dst);
	note_appendf(note, " in the subnet");
	return VERDICT_FORWARD;
}

static enum verdict route_table_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct route_table *rt = st->priv;
	return dir == DIR_LEFT_TO_RIGHT ? route_table_out(st, rt, p, ctx) : route_table_in(st, rt, p, ctx);
}

/* The route that the far end of p (crossing in dir) takes, when it is an endpoint with a policy. */
static struct endpoint_policy *policy_of(const struct route_table *rt, const struct packet *p, enum hop_dir dir)
{
	if (rt->n_policies == 0)
		return NULL;
	const struct route_entry *e = route_lookup(rt, dir == DIR_LEFT_TO_RIGHT ? p->ip.dst : p->ip.src);
	return e && rt->routes[e->route].target == ROUTE_ENDPOINT ? rt->routes[e->route].policy : NULL;
}

/* A route table translates nothing: every packet looked the same before it; but a gateway
 * endpoint with a policy answers denied requests itself, and S3's packets after such an answer
 * are renumbered (nat/endpoint_policy.h). */
static enum reverse_answer route_table_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct endpoint_policy *ep = dir == DIR_RIGHT_TO_LEFT ? policy_of(st->priv, p, dir) : NULL;
	return ep ? endpoint_policy_reverse(ep, p, ctx) : REVERSE_TRANSLATED;
}

static void route_table_arriving(const struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	const struct endpoint_policy *ep = dir == DIR_LEFT_TO_RIGHT ? policy_of(st->priv, p, dir) : NULL;
	if (ep)
		endpoint_policy_arriving(ep, p, ctx);
}

static unsigned route_table_bypass(const struct stage *st, const struct packet *p, enum hop_dir dir, const char **via)
{
	const struct route_table *rt = st->priv;
	/* The far end: where a request goes, or where a reply comes from. */
	const struct route_entry *e = route_lookup(rt, dir == DIR_LEFT_TO_RIGHT ? p->ip.dst : p->ip.src);

	if (!e || rt->routes[e->route].target != ROUTE_ENDPOINT)
		return 0;
	*via = rt->routes[e->route].via;
	return rt->sc->n_stages - st->index - 1; /* every stage after this one */
}

static void route_table_stats_print(const struct stage *st, GString *out)
{
	const struct route_table *rt = st->priv;
	char buf[80];

	for (unsigned i = 0; i < rt->n_routes; i++)
		g_string_append_printf(out, "    route %u %s -> %s: %" G_GUINT64_FORMAT " out, %" G_GUINT64_FORMAT
		                       " back through it\n", i + 1, rt->routes[i].dest,
		                       target_text(&rt->routes[i], buf, sizeof buf), rt->routes[i].hits[DIR_LEFT_TO_RIGHT],
		                       rt->routes[i].hits[DIR_RIGHT_TO_LEFT]);
	for (unsigned i = 0; i < rt->n_policies; i++)
		endpoint_policy_stats(rt->policies[i], out);
}

const struct iam_policy *route_table_endpoint_policy(const struct stage *st, const char *vpce, const char **name)
{
	const struct route_table *rt = st->priv;
	const struct endpoint_policy *found = NULL;

	if (st->ops != &route_table_ops)
		return NULL;
	for (unsigned i = 0; i < rt->n_policies; i++)
		if (vpce ? strcmp(endpoint_policy_name(rt->policies[i]), vpce) == 0 : rt->n_policies == 1)
			found = rt->policies[i];
	if (found && name)
		*name = endpoint_policy_name(found);
	return found ? endpoint_policy_document(found) : NULL;
}

static const struct drop_info route_table_drops[] = { foreach_route_drop(DROP_INFO_ENTRY) };
G_STATIC_ASSERT(G_N_ELEMENTS(route_table_drops) <= STAGE_MAX_DROPS);

const struct stage_ops route_table_ops = {
	.type = "route-table",
	.summary = "a VPC route table: longest prefix match to local, the next stage, a gateway endpoint or a blackhole",
	.keys = route_table_keys,
	.drops = route_table_drops,
	.n_drops = G_N_ELEMENTS(route_table_drops),
	.configure = route_table_configure,
	.describe = route_table_describe,
	.process = route_table_process,
	.routes = true,
	.reverse = route_table_reverse,
	.arriving = route_table_arriving,
	.bypass = route_table_bypass,
	.stats_print = route_table_stats_print,
	.destroy = route_table_destroy,
};
