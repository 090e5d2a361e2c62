/* tools/route_cmd.c: natlb route: which rule of a scenario's l7-lb a request matches, rule by rule (AWS "Listener rules for your Application Load Balancer").
 *
 * Follows DESIGN.md "The command line": a student asks `natlb route -s alb-host-path 'GET
 * http://www.example.com/Images/logo.png'` and reads, in priority order, which condition of each
 * rule matched or failed, and the action taken; the same evaluation the replay makes.
 */
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "lb/l7lb.h"
#include "lb/l7_rules.h"
#include "tools/cli.h"

#define ROUTE_MAX_HEADERS 32

struct route_args {
	char *scenario, *stage, *source;
	char **headers, **rest;
};


/* The l7-lb stage named, or the only one of the scenario; NULL with *why. */
static const struct stage *find_stage(const struct scenario *sc, const char *name, char **why)
{
	const struct stage *found = NULL;
	unsigned n = 0;

	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (name && strcmp(st->name, name) == 0) {
			if (st->ops != &l7lb_ops)
				*why = g_strdup_printf("stage '%s' of %s is a %s, not an l7-lb", name, sc->source, st->ops->type);
			return st->ops == &l7lb_ops ? st : NULL;
		}
		if (st->ops == &l7lb_ops) {
			found = st;
			n++;
		}
	}
	if (name)
		*why = g_strdup_printf("%s has no stage '%s'", sc->source, name);
	else if (n == 0)
		*why = g_strdup_printf("%s has no l7-lb stage", sc->source);
	else if (n > 1)
		*why = g_strdup_printf("%s has %u l7-lb stages: choose one with --stage", sc->source, n);
	return n == 1 && !name ? found : NULL;
}

/* "GET http://host[:port]/path?query" or "GET /path?query" (then a Host header must say the host). */
static gboolean parse_request(const char *text, struct l7_request *req, char **owned, GError **err)
{
	const char *sp = strchr(text, ' ');
	if (!sp || sp == text) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		            "'%s' is not METHOD URL (GET http://api.example.com/v1/cart?x=1)", text);
		return FALSE;
	}
	req->method = text;
	req->method_len = (size_t)(sp - text);
	const char *url = sp + 1;
	req->port = 80;
	if (g_str_has_prefix(url, "http://")) {
		const char *host = url + 7;
		const char *slash = strchr(host, '/');
		const char *end = slash ? slash : host + strlen(host);
		const char *colon = memchr(host, ':', (size_t)(end - host));
		req->host = host;
		req->host_len = (size_t)((colon ? colon : end) - host);
		if (colon) {
			guint64 port;
			char *p = g_strndup(colon + 1, (gsize)(end - colon - 1));
			gboolean ok = g_ascii_string_to_unsigned(p, 10, 1, 65535, &port, NULL);
			g_free(p);
			if (!ok) {
				g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "bad port in '%s'", url);
				return FALSE;
			}
			req->port = (uint16_t)port;
		}
		url = slash ? slash : "/";
	} else if (url[0] != '/') {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		            "the URL '%s' must start with http:// or /", url);
		return FALSE;
	}
	*owned = g_strdup(url);
	char *q = strchr(*owned, '?');
	req->path = *owned;
	req->path_len = q ? (size_t)(q - *owned) : strlen(*owned);
	req->query = q ? q + 1 : "";
	req->query_len = q ? strlen(q + 1) : 0;
	return TRUE;
}

static int route_run(struct route_args *a)
{
	GError *err = NULL;
	struct scenario *sc = NULL;
	struct l7_header headers[ROUTE_MAX_HEADERS];
	struct l7_request req = { 0 };
	char *path = NULL, *why = NULL;
	int status = EXIT_USAGE;

	if (!a->scenario)
		return cli_usage_error("route", "give the scenario: natlb route -s SCENARIO 'GET http://host/path'");
	if (!a->rest || !a->rest[0] || a->rest[1])
		return cli_usage_error("route", "give one request, quoted: 'GET http://api.example.com/v1/cart?x=1'");
	if (!parse_request(a->rest[0], &req, &path, &err)) {
		status = cli_usage_error("route", "%s", err->message);
		goto out;
	}
	unsigned n = 0;
	for (char **h = a->headers; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		if (n == ROUTE_MAX_HEADERS) {
			status = cli_usage_error("route", "at most %d headers", ROUTE_MAX_HEADERS);
			goto out;
		}
		if (!colon || colon == *h) {
			status = cli_usage_error("route", "-H '%s' is not 'Name: value'", *h);
			goto out;
		}
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		headers[n++] = (struct l7_header){ .name = *h, .name_len = (size_t)(colon - *h), .value = v,
		                                   .value_len = strlen(v) };
		if (!req.host && colon - *h == 4 && g_ascii_strncasecmp(*h, "Host", 4) == 0) {
			const char *c = strchr(v, ':');
			req.host = v;
			req.host_len = c ? (size_t)(c - v) : strlen(v);
		}
	}
	if (!req.host)
		req.host = "";
	req.headers = headers;
	req.n_headers = n;
	req.source_ip = 0xc6336407; /* 198.51.100.7, the lessons' first client */
	if (a->source && !ip4_parse(a->source, &req.source_ip)) {
		status = cli_usage_error("route", "--source '%s' is not an IPv4 address", a->source);
		goto out;
	}
	sc = cli_scenario_load(a->scenario, &err);
	if (!sc) {
		status = cli_usage_error("route", "%s", err->message);
		goto out;
	}
	const struct stage *st = find_stage(sc, a->stage, &why);
	if (!st) {
		status = cli_usage_error("route", "%s", why);
		goto out;
	}
	GString *trace = g_string_new(NULL);
	char src[16];
	ip4_to_str(req.source_ip, src);
	printf("request %.*s host %.*s path %.*s%s%.*s from %s, at l7-lb %s of %s\n", (int)req.method_len, req.method,
	       (int)req.host_len, req.host, (int)req.path_len, req.path, req.query_len ? " query " : "",
	       (int)req.query_len, req.query, src, st->name, sc->source);
	l7lb_route_explain(st, &req, trace);
	fputs(trace->str, stdout);
	g_string_free(trace, TRUE);
	status = EXIT_OK;
out:
	g_free(path);
	g_free(why);
	g_clear_error(&err);
	scenario_free(sc);
	return status;
}

int route_main(int argc, char **argv)
{
	struct route_args a = { 0 };
	GOptionEntry entries[] = {
		{ "scenario", 's', 0, G_OPTION_ARG_STRING, &a.scenario, "The scenario whose l7-lb rules decide", "SCENARIO" },
		{ "stage", 0, 0, G_OPTION_ARG_STRING, &a.stage, "Which l7-lb stage, when the scenario has several", "NAME" },
		{ "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &a.headers, "A request header (repeat for more)",
		  "'NAME: VALUE'" },
		{ "source", 0, 0, G_OPTION_ARG_STRING, &a.source, "The client address the balancer sees (default 198.51.100.7)",
		  "IP" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.rest, NULL, "'METHOD URL'" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new(NULL);
	GError *err = NULL;
	int status;

	g_option_context_set_summary(ctx, "Evaluate a scenario's l7-lb rules for one request, in priority order, and say "
	                             "which condition matched or failed.\nExample: natlb route -s alb-host-path "
	                             "'GET http://api.example.com/v1/cart?x=1' -H 'User-Agent: x'");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		status = cli_usage_error("route", "%s (natlb route --help)", err->message);
		g_error_free(err);
	} else {
		status = route_run(&a);
	}
	g_option_context_free(ctx);
	g_free(a.scenario);
	g_free(a.stage);
	g_free(a.source);
	g_strfreev(a.headers);
	g_strfreev(a.rest);
	return status;
}
