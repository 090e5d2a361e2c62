/* tools/policy_cmd.c: natlb policy: how an IAM endpoint policy decides one S3 request, statement by statement (AWS IAM User Guide, "Policy evaluation logic").
 *
 * `natlb policy lesson-bucket-policy.json 'GET http://lesson-bucket.s3.amazonaws.com/report.csv'
 * --vpce vpce-s3 --source 10.0.1.10` prints the action and resource the request becomes
 * (nat/s3_request.h), each statement's Principal, Action, Resource and Condition and whether they
 * matched, and the decision; the same evaluation the route table's gateway endpoint makes during a
 * replay.  Through a gateway endpoint S3 sees the instance's private address as aws:VpcSourceIp,
 * and aws:SourceIp is absent (AWS PrivateLink Guide, "Gateway endpoints"), so --source fills
 * aws:VpcSourceIp when --vpce is given and aws:SourceIp otherwise.
 *
 * Exit status, as test(1) and grep(1) have it: 0 allowed, 1 denied, 2 bad usage or a bad policy.
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "nat/iam_policy.h"
#include "nat/route_table.h"
#include "nat/s3_request.h"
#include "tools/cli.h"

enum { POLICY_EXIT_ALLOWED = 0, POLICY_EXIT_DENIED = 1 };

struct policy_args {
	char *scenario, *source, *vpce, *principal;
	char **rest;
};


/* "GET http://host[:port]/path?query" into its parts (pointing into text). */
static bool split_request(const char *text, const char **method, size_t *method_len, const char **host,
                          size_t *host_len, const char **path, size_t *path_len, const char **query, size_t *query_len)
{
	const char *sp = strchr(text, ' ');
	if (!sp || sp == text)
		return false;
	*method = text;
	*method_len = (size_t)(sp - text);
	const char *url = sp + 1;
	if (g_str_has_prefix(url, "http://"))
		url += 7;
	else if (g_str_has_prefix(url, "https://"))
		url += 8;
	else
		return false;
	const char *slash = strchr(url, '/'), *end = slash ? slash : url + strlen(url);
	const char *colon = memchr(url, ':', (size_t)(end - url));
	*host = url;
	*host_len = (size_t)((colon ? colon : end) - url);
	*path = slash ? slash : "/";
	const char *q = strchr(*path, '?');
	*path_len = q ? (size_t)(q - *path) : strlen(*path);
	*query = q ? q + 1 : "";
	*query_len = strlen(*query);
	return true;
}

/* The policy of the scenario's gateway endpoint (--vpce, or its only one); NULL with *why. */
static struct iam_policy *scenario_policy(const char *scenario, const char *vpce, struct scenario **sc, const char **name,
                                          char **why)
{
	GError *err = NULL;
	*sc = cli_scenario_load(scenario, &err);
	if (!*sc) {
		*why = g_strdup(err->message);
		g_error_free(err);
		return NULL;
	}
	for (unsigned i = 0; i < (*sc)->n_stages; i++) {
		const struct iam_policy *p = route_table_endpoint_policy((*sc)->stages[i], vpce, name);
		if (p)
			return (struct iam_policy *)p;
	}
	*why = vpce ? g_strdup_printf("%s has no policy.%s in a route-table stage", (*sc)->source, vpce)
	            : g_strdup_printf("%s has no gateway endpoint policy (or several: choose one with --vpce)",
	                              (*sc)->source);
	return NULL;
}

static int policy_run(const struct policy_args *a)
{
	const char *method, *host, *path, *query;
	size_t method_len, host_len, path_len, query_len;
	struct iam_request req = { .principal = a->principal, .source_vpce = a->vpce };
	struct s3_request s3;
	const char *why = NULL;
	uint32_t src = 0;
	GError *err = NULL;

	unsigned want = a->scenario ? 1 : 2;
	if (!a->rest || g_strv_length(a->rest) != want)
		return cli_usage_error("policy", "give a policy file (or -s SCENARIO) and one request, quoted: natlb policy POLICY.json "
		                   "'GET http://lesson-bucket.s3.amazonaws.com/report.csv'");
	const char *text = a->rest[want - 1];
	if (!split_request(text, &method, &method_len, &host, &host_len, &path, &path_len, &query, &query_len))
		return cli_usage_error("policy", "'%s' is not METHOD URL (GET http://lesson-bucket.s3.amazonaws.com/report.csv)", text);
	if (a->source && !ip4_parse(a->source, &src))
		return cli_usage_error("policy", "--source '%s' is not an IPv4 address", a->source);
	if (a->vpce && !g_str_has_prefix(a->vpce, "vpce-"))
		return cli_usage_error("policy", "--vpce '%s' is not an endpoint id (vpce-...)", a->vpce);
	if (!s3_request_map(method, method_len, host, host_len, path, path_len, query, query_len, &s3, &why))
		return cli_usage_error("policy", "'%s' is not an S3 request natlb maps: %s", text, why);
	struct scenario *sc = NULL;
	struct iam_policy *p = NULL;
	const char *vpce = a->vpce;
	if (a->scenario) {
		char *fail = NULL;
		p = scenario_policy(a->scenario, a->vpce, &sc, &vpce, &fail);
		if (!p) {
			int status = cli_usage_error("policy", "%s", fail);
			g_free(fail);
			scenario_free(sc);
			return status;
		}
	} else {
		p = iam_policy_load(a->rest[0], &err);
		if (!p) {
			int status = cli_usage_error("policy", "%s", err->message);
			g_error_free(err);
			return status;
		}
	}
	req.source_vpce = vpce; /* with -s, the request comes through that endpoint */
	req.action = s3.action;
	req.action_len = (unsigned)strlen(s3.action);
	req.resource = s3.resource;
	req.resource_len = s3.resource_len;
	if (a->source) {
		req.has_vpc_source_ip = vpce != NULL;
		req.has_source_ip = vpce == NULL;
		req.source_ip = req.vpc_source_ip = src;
	}
	char addr[16];
	printf("request %s: action %s on %s (%s)\n", text, s3.action, s3.resource,
	       s3.bucket[0] ? (s3.path_style ? "path-style: the bucket is in the path" :
	                                       "virtual-hosted: the bucket is in the Host") : "the service itself");
	printf("context: principal %s; aws:SourceIp %s; aws:VpcSourceIp %s; aws:sourceVpce %s\n",
	       a->principal ? a->principal : "anonymous (an unsigned request)",
	       req.has_source_ip ? ip4_to_str(src, addr) : "absent",
	       req.has_vpc_source_ip ? ip4_to_str(src, addr) : "absent", vpce ? vpce : "absent");
	printf("policy %s (Version %s), %u statement%s; an explicit Deny wins, then an Allow, else an implicit deny:\n",
	       p->source, p->version, p->n_statements, p->n_statements == 1 ? "" : "s");
	GString *trace = g_string_new(NULL);
	struct iam_decision d = iam_policy_evaluate(p, &req, trace);
	fputs(trace->str, stdout);
	g_string_free(trace, TRUE);
	if (sc)
		scenario_free(sc); /* the scenario owns its policy */
	else
		iam_policy_free(p);
	return d.result == IAM_ALLOWED ? POLICY_EXIT_ALLOWED : POLICY_EXIT_DENIED;
}

int policy_main(int argc, char **argv)
{
	struct policy_args a = { 0 };
	GOptionEntry entries[] = {
		{ "scenario", 's', 0, G_OPTION_ARG_STRING, &a.scenario, "Take the policy of this scenario's gateway endpoint "
		  "(then give only the request)", "SCENARIO" },
		{ "source", 0, 0, G_OPTION_ARG_STRING, &a.source, "The caller's address (aws:VpcSourceIp through an "
		  "endpoint, else aws:SourceIp; absent when not given)", "IP" },
		{ "vpce", 0, 0, G_OPTION_ARG_STRING, &a.vpce, "The endpoint the request came through (aws:sourceVpce)", "ID" },
		{ "principal", 0, 0, G_OPTION_ARG_STRING, &a.principal, "The caller's IAM ARN (default: anonymous)", "ARN" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.rest, NULL, "[POLICY.json] 'METHOD URL'" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *err = NULL;
	int status;

	g_option_context_set_summary(ctx, "Evaluate an IAM endpoint policy for one S3 request over HTTP, statement by "
	                             "statement.\nExit status: 0 allowed, 1 denied, 2 bad usage or a bad policy.\n"
	                             "Example: natlb policy -s s3-endpoint-policy "
	                             "'GET http://lesson-bucket.s3.amazonaws.com/report.csv' --source 10.0.1.10");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		status = cli_usage_error("policy", "%s (natlb policy --help)", err->message);
		g_error_free(err);
	} else {
		status = policy_run(&a);
	}
	g_option_context_free(ctx);
	g_free(a.scenario);
	g_free(a.source);
	g_free(a.vpce);
	g_free(a.principal);
	g_strfreev(a.rest);
	return status;
}
