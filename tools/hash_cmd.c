/* tools/hash_cmd.c: natlb hash: how an L4 balancer hashes one flow, and with a scenario where the flow would go.
 *
 * Follows DESIGN.md "The command line" and the hashes of lb/hash.h (Microsoft RSS Toeplitz with its
 * default key, xxHash32).  Prints the bytes that enter the hash, so a student can check the value
 * by hand against the RSS verification suite.
 */
#include <stdio.h>
#include <string.h>

#include "common/packet.h"
#include "common/scenario.h"
#include "lb/hash.h"
#include "lb/l4lb.h"
#include "tools/cli.h"

struct hash_args {
	char *function, *fields, *scenario, *stage;
	char **rest;
};


/* The l4-lb stage named, or the only one of the scenario. */
static const struct stage *find_stage(const struct scenario *sc, const char *name, char **why)
{
	const struct stage *found = NULL;
	unsigned n = 0;
	GString *names = g_string_new(NULL);

	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (name && strcmp(st->name, name) == 0) {
			if (st->ops != &l4lb_ops)
				*why = g_strdup_printf("stage '%s' of %s is a %s, not an l4-lb", name, sc->source, st->ops->type);
			g_string_free(names, TRUE);
			return st->ops == &l4lb_ops ? st : NULL;
		}
		if (st->ops == &l4lb_ops) {
			found = st;
			g_string_append_printf(names, "%s%s", n++ ? ", " : "", st->name);
		}
	}
	if (name)
		*why = g_strdup_printf("%s has no stage '%s' (its l4-lb stages: %s)", sc->source, name,
		                       n ? names->str : "none");
	else if (n == 0)
		*why = g_strdup_printf("%s has no l4-lb stage", sc->source);
	else if (n > 1)
		*why = g_strdup_printf("%s has %u l4-lb stages (%s): choose one with --stage", sc->source, n, names->str);
	g_string_free(names, TRUE);
	return n == 1 && !name ? found : NULL;
}

static int hash_run(struct hash_args *a)
{
	GError *err = NULL;
	struct scenario *sc = NULL;
	const struct stage *st = NULL;
	const struct lb_hash_ops *fn = NULL;
	enum lb_hash_fields fields = LB_FIELDS_5TUPLE;
	bool fields_given = false;
	struct lb_flow_key key;
	struct l4lb_choice choice;
	int status = EXIT_USAGE;
	char *why = NULL;

	if (a->function && !(fn = lb_hash_find(a->function)))
		return cli_usage_error("hash", "unknown hash function '%s' (toeplitz, xxh32)", a->function);
	if (a->fields) {
		if (!lb_hash_fields_parse(a->fields, &fields))
			return cli_usage_error("hash", "unknown field set '%s' (5-tuple, 3-tuple, 2-tuple, src-ip)", a->fields);
		fields_given = true;
	}
	if (!a->rest || !a->rest[0] || !a->rest[1] || a->rest[2])
		return cli_usage_error("hash", "give SRC and DST, like: natlb hash 198.51.100.7:40001 203.0.113.10:80/tcp");
	if (a->stage && !a->scenario)
		return cli_usage_error("hash", "--stage needs a scenario (-s SCENARIO)");
	if (a->scenario) {
		sc = cli_scenario_load(a->scenario, &err);
		if (!sc) {
			status = cli_usage_error("hash", "%s", err->message);
			goto out;
		}
		st = find_stage(sc, a->stage, &why);
		if (!st) {
			status = cli_usage_error("hash", "%s", why);
			goto out;
		}
		struct l4lb_choice defaults;
		struct lb_flow_key zero = { 0 };
		l4lb_explain(st, &zero, NULL, NULL, &defaults, NULL);
		if (!fn)
			fn = defaults.hash;
		if (!fields_given)
			fields = defaults.fields;
	}
	if (!fn)
		fn = lb_hash_find("toeplitz");
	if (!lb_flow_key_parse(a->rest[0], a->rest[1], fields, &key, &err)) {
		status = cli_usage_error("hash", "%s", err->message);
		goto out;
	}

	uint8_t in[LB_HASH_INPUT_MAX];
	size_t n = fn->input(&key, fields, in);
	char s[16], d[16];
	GString *out = g_string_new(NULL);
	ip4_to_str(key.src, s);
	ip4_to_str(key.dst, d);
	g_string_append_printf(out, "flow    %s:%u > %s:%u protocol %u%s\n", s, key.sport, d, key.dport, key.proto,
	                       key.proto == 6 ? " (tcp)" : key.proto == 17 ? " (udp)" : key.proto == 1 ? " (icmp)" : "");
	g_string_append_printf(out, "fields  %s: %s\n", lb_hash_fields_name(fields), fn->explain(&key, fields));
	g_string_append(out, "input  ");
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(out, " %02x", in[i]);
	g_string_append_printf(out, " (%zu bytes)\nhash    0x%08x (%s)\n", n, fn->hash(in, n), fn->name);
	if (st) {
		GString *pick = g_string_new(NULL);
		l4lb_explain(st, &key, fn, &fields, &choice, pick);
		g_string_append_printf(out, "stage   %s (l4-lb of %s), %s over the targets as configured, before any event\n",
		                       st->name, sc->source, choice.select->name);
		g_string_append_printf(out, "target  %s -> %s\n", pick->str,
		                       choice.target_name ? choice.target_name : "none (no target in service)");
		if (!choice.has_listener)
			g_string_append_printf(out, "note    %s:%u is not a listener of %s: the stage would drop the packet\n",
			                       d, key.dport, st->name);
		g_string_free(pick, TRUE);
	}
	fputs(out->str, stdout);
	g_string_free(out, TRUE);
	status = EXIT_OK;
out:
	g_free(why);
	g_clear_error(&err);
	scenario_free(sc);
	return status;
}

int hash_main(int argc, char **argv)
{
	struct hash_args a = { 0 };
	GOptionEntry entries[] = {
		{ "function", 0, 0, G_OPTION_ARG_STRING, &a.function, "Hash function: toeplitz (default) or xxh32", "NAME" },
		{ "fields", 0, 0, G_OPTION_ARG_STRING, &a.fields, "Fields hashed: 5-tuple (default), 3-tuple, 2-tuple, src-ip",
		  "SET" },
		{ "scenario", 's', 0, G_OPTION_ARG_STRING, &a.scenario,
		  "Also show the slot and target of this scenario's l4-lb stage (its hash settings become the defaults)",
		  "SCENARIO" },
		{ "stage", 0, 0, G_OPTION_ARG_STRING, &a.stage, "Which l4-lb stage, when the scenario has several", "NAME" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &a.rest, NULL, "SRC[:PORT] DST[:PORT][/PROTO]" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new(NULL); /* the arguments come from G_OPTION_REMAINING */
	GError *err = NULL;
	int status;

	g_option_context_set_summary(ctx, "Show how an L4 load balancer hashes a flow: the bytes that enter the hash and "
	                             "the value.\nWith -s, where the scenario's l4-lb stage would send the flow.\n"
	                             "Example: natlb hash 66.9.149.187:2794 161.142.100.80:1766/tcp  (Microsoft's RSS "
	                             "example: 0x51ccc178)");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		status = cli_usage_error("hash", "%s (natlb hash --help)", err->message);
		g_error_free(err);
	} else {
		status = hash_run(&a);
	}
	g_option_context_free(ctx);
	g_free(a.function);
	g_free(a.fields);
	g_free(a.scenario);
	g_free(a.stage);
	g_strfreev(a.rest);
	return status;
}
