/* lb/l7lb_config.c: the scenario keys of the `l7-lb` stage, checked once, with every default written back by natlb check.
 *
 * Follows AWS "Listeners for your Application Load Balancers" (rules, priorities 1-50000, a
 * default action), "Target groups for your Application Load Balancers" (round robin or least
 * outstanding requests) and "Application Load Balancers" (idle timeout 60 s, desync mitigation
 * mode defensive, X-Forwarded-For append).  Keys with a name after the dot (rule.10,
 * target-group.api, algorithm.api) are families: the scenario loader accepts any of them.
 *
 * Invariant: once configure() returns TRUE every forward names a group that exists.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <string.h>

#include "common/note.h"
#include "common/scenario.h"
#include "lb/l7_rules.h"
#include "lb/l7lb.h"

const char *const l7lb_keys[] = {
	"listen", "address", "default", "rule.*", "target-group.*", "algorithm.*", "x-forwarded-for",
	"idle-timeout", "desync-mitigation", "max-connections", "events", "fragment-timeout", NULL,
};

GHashTable *l7lb_conn_table_new(void);

static const char *const algorithm_names[] = { "round-robin", "least-outstanding-requests" };
static const char *const xff_names[] = { "append", "preserve", "remove" };

const char *l7lb_algorithm_name(enum l7lb_algorithm a)
{
	return algorithm_names[a];
}

static bool parse_endpoint(const char *text, uint32_t *ip, uint16_t *port)
{
	char **parts = g_strsplit(text, ":", 2);
	guint64 v = 0;
	bool ok = parts[0] && parts[1] && ip4_parse(g_strstrip(parts[0]), ip) &&
	          g_ascii_string_to_unsigned(g_strstrip(parts[1]), 10, 1, 65535, &v, NULL);
	*port = (uint16_t)v;
	g_strfreev(parts);
	return ok;
}

static int name_index(const char *text, const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (g_ascii_strcasecmp(text, names[i]) == 0)
			return (int)i;
	return -1;
}

static gboolean configure_listeners(struct l7lb *lb, const struct stage_config *cfg, GError **err)
{
	char **items = stage_config_list(cfg, "listen");
	gboolean ok = TRUE;

	if (!items || !items[0]) {
		stage_config_error(cfg, "listen", err, "required: one or more VIP:port (203.0.113.10:80)");
		ok = FALSE;
	}
	for (char **it = items; ok && it && *it; it++) {
		struct l7lb_listener *l = &lb->listeners[lb->n_listeners];
		if (lb->n_listeners == L7LB_MAX_LISTENERS) {
			stage_config_error(cfg, "listen", err, "at most %u listeners", L7LB_MAX_LISTENERS);
			ok = FALSE;
		} else if (!parse_endpoint(*it, &l->vip, &l->port)) {
			stage_config_error(cfg, "listen", err, "'%.80s' is not VIP:port (203.0.113.10:80; HTTP over TCP only)",
			                   *it);
			ok = FALSE;
		} else {
			lb->n_listeners++;
		}
	}
	g_strfreev(items);
	return ok;
}

static gboolean configure_groups(struct l7lb *lb, const struct stage_config *cfg, GError **err)
{
	char **keys = g_key_file_get_keys(cfg->kf, cfg->group, NULL, NULL);
	gboolean ok = TRUE;

	for (char **k = keys; ok && k && *k; k++) {
		if (!g_str_has_prefix(*k, "target-group."))
			continue;
		const char *name = *k + strlen("target-group.");
		if (*name == '\0' || lb->n_groups == L7LB_MAX_GROUPS) {
			stage_config_error(cfg, *k, err, *name ? "at most %u target groups" : "a target group needs a name "
			                   "(target-group.api)", L7LB_MAX_GROUPS);
			ok = FALSE;
			break;
		}
		struct l7lb_group *g = &lb->groups[lb->n_groups++];
		g->name = g_strdup(name);
		char **items = stage_config_list(cfg, *k);
		for (char **it = items; ok && it && *it; it++) {
			struct l7lb_target *t = &g->targets[g->n_targets];
			if (g->n_targets == L7LB_MAX_GROUP_TARGETS) {
				stage_config_error(cfg, *k, err, "at most %u targets in a group", L7LB_MAX_GROUP_TARGETS);
				ok = FALSE;
			} else if (!parse_endpoint(*it, &t->ip, &t->port)) {
				stage_config_error(cfg, *k, err, "'%.80s' is not address:port (10.0.1.11:8080)", *it);
				ok = FALSE;
			} else {
				g_snprintf(t->name, sizeof t->name, "%u.%u.%u.%u:%u", t->ip >> 24, (t->ip >> 16) & 255,
				           (t->ip >> 8) & 255, t->ip & 255, t->port);
				g->n_targets++;
			}
		}
		g_strfreev(items);
	}
	for (char **k = keys; ok && k && *k; k++) {
		if (!g_str_has_prefix(*k, "algorithm."))
			continue;
		const char *name = *k + strlen("algorithm.");
		struct l7lb_group *g = NULL;
		for (unsigned i = 0; i < lb->n_groups; i++)
			if (strcmp(lb->groups[i].name, name) == 0)
				g = &lb->groups[i];
		char *v = stage_config_string(cfg, *k, "");
		int a = name_index(v, algorithm_names, G_N_ELEMENTS(algorithm_names));
		if (!g) {
			stage_config_error(cfg, *k, err, "there is no target-group.%.80s", name);
			ok = FALSE;
		} else if (a < 0) {
			stage_config_error(cfg, *k, err, "'%.80s' is not round-robin or least-outstanding-requests", v);
			ok = FALSE;
		} else {
			g->algorithm = (enum l7lb_algorithm)a;
		}
		g_free(v);
	}
	g_strfreev(keys);
	return ok;
}

static bool group_exists(const char *name, void *data)
{
	const struct l7lb *lb = data;
	for (unsigned j = 0; j < lb->n_groups; j++)
		if (strcmp(lb->groups[j].name, name) == 0)
			return true;
	return false;
}

/* Each rule.N and the default, then: does every forward name a group? */
static gboolean configure_rules(struct l7lb *lb, const struct stage_config *cfg, GError **err)
{
	char **keys = g_key_file_get_keys(cfg->kf, cfg->group, NULL, NULL);
	gboolean ok = TRUE;
	GError *e = NULL;

	l7_rules_init(&lb->rules);
	for (char **k = keys; ok && k && *k; k++) {
		if (!g_str_has_prefix(*k, "rule."))
			continue;
		unsigned prio = 0;
		char *v = stage_config_string(cfg, *k, "");
		if (!l7_rule_parse_priority(*k, &prio, &e) || !l7_rules_add(&lb->rules, prio, v, &e)) {
			stage_config_error(cfg, *k, err, "%s", e->message);
			g_clear_error(&e);
			ok = FALSE;
		}
		g_free(v);
	}
	g_strfreev(keys);
	if (!ok)
		return FALSE;
	char *def = stage_config_string(cfg, "default", NULL);
	if (!def) {
		stage_config_error(cfg, "default", err, "required: the action when no rule matches "
		                   "(forward GROUP, redirect URL CODE or fixed-response CODE)");
		return FALSE;
	}
	if (!l7_rules_set_default(&lb->rules, def, &e)) {
		stage_config_error(cfg, "default", err, "%s", e->message);
		g_clear_error(&e);
		ok = FALSE;
	}
	g_free(def);
	unsigned prio = 0;
	const char *missing = ok ? l7_rules_foreach_group(&lb->rules, group_exists, lb, &prio) : NULL;
	if (missing) {
		char key[24];
		g_snprintf(key, sizeof key, "rule.%u", prio);
		stage_config_error(cfg, prio ? key : "default", err, "forward to '%.80s', but there is no target-group.%.80s",
		                   missing, missing);
		ok = FALSE;
	}
	return ok;
}

static bool target_known(const struct l7lb *lb, uint32_t ip, uint16_t port)
{
	for (unsigned g = 0; g < lb->n_groups; g++)
		for (unsigned t = 0; t < lb->groups[g].n_targets; t++)
			if (lb->groups[g].targets[t].ip == ip && lb->groups[g].targets[t].port == port)
				return true;
	return false;
}

/* events = 5s down 10.0.1.12:8080; 20s up 10.0.1.12:8080; 30s drain 10.0.1.21:8080, in time order.
 * An event applies to the target in every group that has it. */
static gboolean configure_events(struct l7lb *lb, const struct stage_config *cfg, GError **err)
{
	static const char *const kinds[] = { [L7LB_TARGET_HEALTHY] = "up", [L7LB_TARGET_DOWN] = "down",
		                             [L7LB_TARGET_DRAINING] = "drain" };
	char **items = stage_config_list(cfg, "events");
	gboolean ok = TRUE;

	for (char **it = items; ok && it && *it; it++) {
		char **w = g_strsplit_set(*it, " \t", -1);
		const char *word[3] = { NULL, NULL, NULL }, *why = NULL, *duration_why;
		unsigned n = 0;
		for (char **p = w; *p; p++)
			if (**p && n++ < 3)
				word[n - 1] = *p;
		struct l7lb_event *ev = &lb->events[lb->n_events];
		int k = -1;
		for (unsigned i = 0; n == 3 && i < G_N_ELEMENTS(kinds); i++)
			if (strcmp(word[1], kinds[i]) == 0)
				k = (int)i;
		if (lb->n_events == L7LB_MAX_EVENTS)
			why = "too many events";
		else if (n != 3)
			why = "an event is TIME KIND TARGET (5s down 10.0.1.12:8080)";
		else if (!duration_parse(word[0], &ev->at_ns, &duration_why))
			why = "the time is a duration after the first packet (5s, 1.5s, 500ms)";
		else if (k < 0)
			why = "the kind is down, up or drain";
		else if (!parse_endpoint(word[2], &ev->ip, &ev->port) || !target_known(lb, ev->ip, ev->port))
			why = "the target is not one of the target groups' (write it as there: 10.0.1.12:8080)";
		else if (lb->n_events && ev->at_ns < lb->events[lb->n_events - 1].at_ns)
			why = "events are listed in time order";
		if (why) {
			stage_config_error(cfg, "events", err, "'%.80s': %s", *it, why);
			ok = FALSE;
		} else {
			ev->to = (enum l7lb_target_state)k;
			g_strlcpy(ev->text, *it, sizeof ev->text);
			lb->n_events++;
		}
		g_strfreev(w);
	}
	g_strfreev(items);
	return ok;
}

gboolean l7lb_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct l7lb *lb = g_new0(struct l7lb, 1);
	char errbuf[LIBNET_ERRBUF_SIZE];
	gboolean ok = FALSE;
	char *v = NULL;

	st->priv = lb;
	lb->name = st->name;
	if (!configure_listeners(lb, cfg, err))
		goto out;
	v = stage_config_string(cfg, "address", NULL);
	if (!v || !ip4_parse(v, &lb->address)) {
		stage_config_error(cfg, "address", err, v ? "'%.80s' is not an IPv4 address" : "required: the balancer's "
		                   "own address on the target side, the source of its connections to targets (10.0.1.2)", v);
		goto out;
	}
	g_clear_pointer(&v, g_free);
	if (!configure_groups(lb, cfg, err) || !configure_rules(lb, cfg, err) || !configure_events(lb, cfg, err))
		goto out;
	v = stage_config_string(cfg, "x-forwarded-for", "append");
	int x = name_index(v, xff_names, G_N_ELEMENTS(xff_names));
	if (x < 0) {
		stage_config_error(cfg, "x-forwarded-for", err, "'%.80s' is not append, preserve or remove", v);
		goto out;
	}
	lb->xff = (enum l7lb_xff_mode)x;
	g_clear_pointer(&v, g_free);
	v = stage_config_string(cfg, "desync-mitigation", "defensive");
	if (!desync_mode_parse(v, &lb->desync)) {
		stage_config_error(cfg, "desync-mitigation", err, "'%.80s' is not monitor, defensive or strictest", v);
		goto out;
	}
	g_clear_pointer(&v, g_free);
	if (!stage_config_duration(cfg, "idle-timeout", L7LB_IDLE_DEFAULT_S * G_GINT64_CONSTANT(1000000000),
	                           G_GINT64_CONSTANT(1000000000), 4000 * G_GINT64_CONSTANT(1000000000), &lb->idle_ns, err))
		goto out;
	if (!stage_config_duration(cfg, "fragment-timeout", L7LB_FRAG_TIMEOUT_S * G_GINT64_CONSTANT(1000000000),
	                           G_GINT64_CONSTANT(1000000000), 600 * G_GINT64_CONSTANT(1000000000),
	                           &lb->fragment_timeout_ns, err))
		goto out;
	v = stage_config_string(cfg, "max-connections", NULL);
	lb->max_conns = L7LB_DEFAULT_MAX_CONNS;
	if (v) {
		guint64 n;
		if (!g_ascii_string_to_unsigned(v, 10, 1, 10000000, &n, NULL)) {
			stage_config_error(cfg, "max-connections", err, "'%.80s' is not a number from 1 to 10000000", v);
			goto out;
		}
		lb->max_conns = (uint32_t)n;
	}
	lb->lnet = (struct libnet_context *)libnet_init(LIBNET_NONE, NULL, errbuf);
	if (!lb->lnet) {
		stage_config_error(cfg, NULL, err, "libnet_init: %s", errbuf);
		goto out;
	}
	lb->conns = l7lb_conn_table_new();
	lb->scratch = g_string_sized_new(2048);
	lb->note = g_string_sized_new(256);
	lb->frame = g_malloc(L7LB_FRAME_MAX);
	lb->answer_frame = g_malloc(L7LB_FRAME_MAX);
	lb->next_sport = 40001;
	ok = TRUE;
out:
	g_free(v);
	return ok;
}

void l7lb_describe(const struct stage *st, GString *out)
{
	const struct l7lb *lb = st->priv;
	char a[16];

	g_string_append(out, "listen = ");
	for (unsigned i = 0; i < lb->n_listeners; i++) {
		uint32_t ip = lb->listeners[i].vip;
		g_string_append_printf(out, "%s%u.%u.%u.%u:%u", i ? ", " : "", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		                       ip & 255, lb->listeners[i].port);
	}
	g_snprintf(a, sizeof a, "%u.%u.%u.%u", lb->address >> 24, (lb->address >> 16) & 255, (lb->address >> 8) & 255,
	           lb->address & 255);
	g_string_append_printf(out, "\naddress = %s\n", a);
	for (unsigned i = 0; i < lb->rules.n; i++)
		g_string_append_printf(out, "rule.%u = %s -> %s\n", lb->rules.rules[i].priority, lb->rules.rules[i].text,
		                       lb->rules.rules[i].action.text);
	g_string_append_printf(out, "default = %s\n", lb->rules.default_action.text);
	for (unsigned g = 0; g < lb->n_groups; g++) {
		g_string_append_printf(out, "target-group.%s = ", lb->groups[g].name);
		for (unsigned t = 0; t < lb->groups[g].n_targets; t++)
			g_string_append_printf(out, "%s%s", t ? "; " : "", lb->groups[g].targets[t].name);
		g_string_append_printf(out, "\nalgorithm.%s = %s\n", lb->groups[g].name,
		                       l7lb_algorithm_name(lb->groups[g].algorithm));
	}
	g_string_append_printf(out, "x-forwarded-for = %s\ndesync-mitigation = %s\nidle-timeout = ", xff_names[lb->xff],
	                       desync_mode_name(lb->desync));
	duration_append(out, lb->idle_ns);
	g_string_append_printf(out, "\nmax-connections = %u\nfragment-timeout = ", lb->max_conns);
	duration_append(out, lb->fragment_timeout_ns);
	g_string_append_c(out, '\n');
	if (lb->n_events) {
		g_string_append(out, "events = ");
		for (unsigned i = 0; i < lb->n_events; i++)
			g_string_append_printf(out, "%s%s", i ? "; " : "", lb->events[i].text);
		g_string_append_c(out, '\n');
	}
}

void l7lb_destroy(struct stage *st)
{
	struct l7lb *lb = st->priv;
	if (!lb)
		return;
	if (lb->conns)
		g_hash_table_destroy(lb->conns);
	http1_spares_clear(&lb->spares); /* after the connections, which give theirs back */
	for (unsigned g = 0; g < lb->n_groups; g++)
		g_free(lb->groups[g].name);
	l7_rules_clear(&lb->rules);
	if (lb->lnet)
		libnet_destroy((libnet_t *)lb->lnet);
	if (lb->scratch)
		g_string_free(lb->scratch, TRUE);
	if (lb->note)
		g_string_free(lb->note, TRUE);
	g_free(lb->frame);
	g_free(lb->answer_frame);
	ip4_reasm_free(lb->reasm);
	ip4_reasm_free(lb->reasm_to_client);
	g_free(lb->reasm_frame);
	g_free(lb);
	st->priv = NULL;
}
