/* lb/l4lb_config.c: the scenario keys of the `l4-lb` stage, checked once, with every default written back by natlb check.
 *
 * Follows AWS "Network Load Balancers" and "Target groups for your Network Load Balancers" for the
 * defaults: TCP idle timeout 350 s, UDP 120 s, deregistration delay 300 s, client IP preservation
 * on, proxy protocol v2 off; and the syntax for listeners, targets and the events timeline.
 *
 * Invariant: once configure() returns TRUE every table the data path needs is allocated.
 */

#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "lb/hash.h"
#include "lb/l4lb.h"
#include "lb/maglev.h"
#include "lb/select.h"

const char *const l4lb_keys[] = {
	"listen", "targets", "hash", "hash-function", "selection", "table-size", "events",
	"deregistration-delay", "preserve-client-ip", "address", "proxy-protocol-v2",
	"tcp-idle-timeout", "udp-idle-timeout", "max-flows", NULL,
};

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

static bool parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };
	for (unsigned i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_port(const char *text, uint16_t *port)
{
	guint64 v;
	if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &v, NULL))
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "198.51.100.10:80/tcp" (the protocol may be left out: tcp). */
static bool parse_listener(const char *text, struct l4lb_listener *l)
{
	char **at_slash = g_strsplit(text, "/", 2);
	char **at_colon = g_strsplit(at_slash[0], ":", 2);
	bool ok = at_colon[0] && at_colon[1] && ip4_parse(at_colon[0], &l->vip) && parse_port(at_colon[1], &l->port);

	l->proto = 6;
	if (ok && at_slash[1]) {
		if (g_ascii_strcasecmp(at_slash[1], "tcp") == 0)
			l->proto = 6;
		else if (g_ascii_strcasecmp(at_slash[1], "udp") == 0)
			l->proto = 17;
		else
			ok = false;
	}
	g_strfreev(at_colon);
	g_strfreev(at_slash);
	return ok;
}

/* "10.0.1.12:8080", "10.0.1.12", either followed by "weight=N" (or "weight N"). */
static bool parse_target(const char *text, struct l4lb_target *t, const char **why)
{
	char **words = g_strsplit_set(text, " \t", -1);
	char *ep = NULL, *weight = NULL;
	bool ok = true;

	t->weight = 1;
	for (char **w = words; *w; w++) {
		if (**w == '\0')
			continue;
		if (!ep) {
			ep = *w;
		} else if (g_str_has_prefix(*w, "weight=")) {
			weight = *w + 7;
		} else if (strcmp(*w, "weight") == 0 && w[1]) {
			weight = *++w;
		} else {
			*why = "after the address only 'weight=N' may follow";
			ok = false;
		}
	}
	if (ok && !ep) {
		*why = "empty";
		ok = false;
	}
	if (ok) {
		char *colon = strchr(ep, ':');
		if (colon)
			*colon = '\0';
		t->port = 0;
		if (!ip4_parse(ep, &t->ip) || (colon && !parse_port(colon + 1, &t->port))) {
			*why = "not an IPv4 address with an optional port (10.0.1.12:8080)";
			ok = false;
		}
	}
	if (ok && weight) {
		guint64 v;
		if (!g_ascii_string_to_unsigned(weight, 10, 1, 1000000, &v, NULL)) {
			*why = "the weight must be a whole number from 1 to 1000000";
			ok = false;
		} else {
			t->weight = (uint32_t)v;
		}
	}
	if (ok) {
		char a[16];
		ip4_to_str(t->ip, a);
		if (t->port)
			g_snprintf(t->name, sizeof t->name, "%s:%u", a, t->port);
		else
			g_snprintf(t->name, sizeof t->name, "%s", a);
	}
	g_strfreev(words);
	return ok;
}

static int target_find(const struct l4lb *lb, const char *name)
{
	struct l4lb_target probe;
	const char *why;
	if (!parse_target(name, &probe, &why))
		return -1;
	for (unsigned i = 0; i < lb->n_targets; i++)
		if (lb->targets[i].ip == probe.ip && lb->targets[i].port == probe.port)
			return (int)i;
	return -1;
}

/* "5s down 10.0.1.12:8080" */
static bool parse_event(struct l4lb *lb, const char *text, struct l4lb_event *ev, const char **why)
{
	static const char *const kinds[] = { [L4LB_EVENT_DOWN] = "down", [L4LB_EVENT_UP] = "up", [L4LB_EVENT_DRAIN] = "drain" };
	char **w = g_strsplit_set(text, " \t", -1);
	const char *word[3] = { NULL, NULL, NULL }, *dur_why = NULL;
	unsigned n = 0;
	bool ok = false;

	for (char **p = w; *p; p++)
		if (**p) {
			if (n < 3)
				word[n] = *p;
			n++;
		}
	memset(ev, 0, sizeof *ev);
	if (n != 3) {
		*why = "an event is TIME KIND TARGET (5s down 10.0.1.12:8080)";
	} else if (!duration_parse(word[0], &ev->at_ns, &dur_why)) {
		*why = "the time is a duration after the first packet (5s, 1.5s, 500ms, 2m)";
	} else {
		int k = -1;
		for (unsigned i = 0; i < G_N_ELEMENTS(kinds); i++)
			if (strcmp(word[1], kinds[i]) == 0)
				k = (int)i;
		int t = target_find(lb, word[2]);
		if (k < 0) {
			*why = "the kind is down, up or drain";
		} else if (t < 0) {
			*why = "the target is not one of 'targets' (write it as there)";
		} else {
			ev->kind = (enum l4lb_event_kind)k;
			ev->target = (unsigned)t;
			ok = true;
		}
	}
	g_strfreev(w);
	return ok;
}

static bool listener_same(const struct l4lb_listener *a, const struct l4lb_listener *b)
{
	return a->vip == b->vip && a->port == b->port && a->proto == b->proto;
}

static gboolean configure_listeners(struct l4lb *lb, const struct stage_config *cfg, GError **err)
{
	char **items = stage_config_list(cfg, "listen");
	gboolean ok = FALSE;

	if (!items || !items[0]) {
		stage_config_error(cfg, "listen", err, "an l4-lb stage needs at least one listener "
		                   "(listen = 198.51.100.10:80/tcp)");
		goto out;
	}
	for (char **it = items; *it; it++) {
		struct l4lb_listener l = { 0 };
		if (lb->n_listeners == L4LB_MAX_LISTENERS) {
			stage_config_error(cfg, "listen", err, "more than %d listeners", L4LB_MAX_LISTENERS);
			goto out;
		}
		if (!parse_listener(*it, &l)) {
			stage_config_error(cfg, "listen", err, "'%s' is not ADDRESS:PORT/tcp or ADDRESS:PORT/udp", *it);
			goto out;
		}
		for (unsigned i = 0; i < lb->n_listeners; i++)
			if (listener_same(&lb->listeners[i], &l)) {
				stage_config_error(cfg, "listen", err, "'%s' is listed twice", *it);
				goto out;
			}
		lb->listeners[lb->n_listeners++] = l;
		/* the distinct VIPs, sorted, for claims() */
		unsigned pos = 0;
		while (pos < lb->n_vips && lb->vips[pos] < l.vip)
			pos++;
		if (pos == lb->n_vips || lb->vips[pos] != l.vip) {
			memmove(&lb->vips[pos + 1], &lb->vips[pos], (lb->n_vips - pos) * sizeof lb->vips[0]);
			lb->vips[pos] = l.vip;
			lb->n_vips++;
			uint32_t h = l4lb_vip_home(l.vip);
			while (lb->vip_set[h])
				h = (h + 1) & ((1u << L4LB_VIP_BITS) - 1);
			lb->vip_set[h] = (uint64_t)1 << 32 | l.vip;
		}
	}
	ok = TRUE;
out:
	g_strfreev(items);
	return ok;
}

static gboolean configure_targets(struct l4lb *lb, const struct stage_config *cfg, GError **err)
{
	char **items = stage_config_list(cfg, "targets");
	gboolean ok = FALSE;
	unsigned n = items ? g_strv_length(items) : 0;

	if (n == 0) {
		stage_config_error(cfg, "targets", err, "an l4-lb stage needs at least one target "
		                   "(targets = 10.0.1.11:8080; 10.0.1.12:8080 weight=2)");
		goto out;
	}
	if (n > L4LB_MAX_TARGETS) {
		stage_config_error(cfg, "targets", err, "more than %d targets", L4LB_MAX_TARGETS);
		goto out;
	}
	lb->targets = g_new0(struct l4lb_target, n);
	for (char **it = items; *it; it++) {
		struct l4lb_target *t = &lb->targets[lb->n_targets];
		const char *why = NULL;
		if (!parse_target(*it, t, &why)) {
			stage_config_error(cfg, "targets", err, "'%s': %s", *it, why);
			goto out;
		}
		for (unsigned i = 0; i < lb->n_targets; i++)
			if (lb->targets[i].ip == t->ip && lb->targets[i].port == t->port) {
				stage_config_error(cfg, "targets", err, "'%s' is listed twice", *it);
				goto out;
			}
		for (unsigned i = 0; i < lb->n_vips; i++)
			if (lb->vips[i] == t->ip) {
				stage_config_error(cfg, "targets", err, "'%s' is one of the stage's own listener addresses", *it);
				goto out;
			}
		GString *text = g_string_new(NULL);
		note_append_ip4(text, t->ip);
		g_assert(text->len < sizeof t->ip_text);
		memcpy(t->ip_text, text->str, text->len + 1);
		t->ip_text_len = (uint8_t)text->len;
		g_string_free(text, TRUE);
		lb->n_targets++;
	}
	ok = TRUE;
out:
	g_strfreev(items);
	return ok;
}

static gboolean configure_bool(const struct stage_config *cfg, const char *key, bool def, bool *out, GError **err)
{
	char *v = stage_config_string(cfg, key, NULL);
	gboolean ok = TRUE;

	*out = def;
	if (v && !parse_bool(v, out)) {
		stage_config_error(cfg, key, err, "'%s' is not true or false", v);
		ok = FALSE;
	}
	g_free(v);
	return ok;
}

static gboolean configure_methods(struct l4lb *lb, const struct stage_config *cfg, GError **err)
{
	char *fields = stage_config_string(cfg, "hash", "5-tuple");
	char *fn = stage_config_string(cfg, "hash-function", "toeplitz");
	char *sel = stage_config_string(cfg, "selection", "maglev");
	char *size = stage_config_string(cfg, "table-size", NULL);
	const char *names[8];
	unsigned n;
	gboolean ok = FALSE;
	char hint[96];

	if (!lb_hash_fields_parse(fields, &lb->fields)) {
		for (unsigned i = 0; i < LB_FIELDS_N; i++)
			names[i] = lb_hash_fields_name((enum lb_hash_fields)i);
		const char *near = nearest_name(fields, names, LB_FIELDS_N);
		g_snprintf(hint, sizeof hint, near ? " (did you mean '%s'?)" : "%s", near ? near : "");
		stage_config_error(cfg, "hash", err, "'%s': use 5-tuple, 3-tuple, 2-tuple or src-ip%s", fields, hint);
		goto out;
	}
	lb->hash = lb_hash_find(fn);
	if (!lb->hash) {
		const struct lb_hash_ops *const *all = lb_hash_functions(&n);
		for (unsigned i = 0; i < n && i < G_N_ELEMENTS(names); i++)
			names[i] = all[i]->name;
		const char *near = nearest_name(fn, names, MIN(n, G_N_ELEMENTS(names)));
		g_snprintf(hint, sizeof hint, near ? " (did you mean '%s'?)" : "%s", near ? near : "");
		stage_config_error(cfg, "hash-function", err, "unknown hash function '%s': toeplitz or xxh32%s", fn, hint);
		goto out;
	}
	lb->select = lb_select_find(sel);
	if (!lb->select) {
		const struct lb_select_ops *const *all = lb_select_methods(&n);
		for (unsigned i = 0; i < n && i < G_N_ELEMENTS(names); i++)
			names[i] = all[i]->name;
		const char *near = nearest_name(sel, names, MIN(n, G_N_ELEMENTS(names)));
		g_snprintf(hint, sizeof hint, near ? " (did you mean '%s'?)" : "%s", near ? near : "");
		stage_config_error(cfg, "selection", err, "unknown selection '%s': maglev, modulo or rendezvous%s", sel, hint);
		goto out;
	}
	lb->table_size = MAGLEV_DEFAULT_SIZE;
	if (size) {
		guint64 v;
		if (!g_ascii_string_to_unsigned(size, 10, 2, MAGLEV_MAX_SIZE, &v, NULL) || !maglev_is_prime((uint32_t)v)) {
			stage_config_error(cfg, "table-size", err, "'%s' is not a prime from 2 to %u (Maglev needs a prime "
			                   "M; 65537 is the default, 655373 a larger one)", size, MAGLEV_MAX_SIZE);
			goto out;
		}
		lb->table_size = (uint32_t)v;
	}
	/* Maglev fills M slots by turns, so with M <= N a target can own no slot at all: "healthy"
	 * and never chosen.  The paper (Eisenbud et al., NSDI 2016, section 3.4) keeps M > 100 N so
	 * that each target's share is within about 1% of the others'. */
	if (strcmp(lb->select->name, "maglev") == 0 && lb->table_size <= lb->n_targets) {
		stage_config_error(cfg, "table-size", err, "%u slots for %u targets: Maglev needs more slots than "
		                   "targets, or some get no flow at all (a prime above %u; the paper advises over 100 per "
		                   "target)", lb->table_size, lb->n_targets, lb->n_targets);
		goto out;
	}
	if (strcmp(lb->select->name, "maglev") == 0 && (uint64_t)lb->table_size < 100 * (uint64_t)lb->n_targets)
		stage_config_warn(cfg, "table-size", "%u slots for %u targets: under the 100 per target the Maglev "
		                  "paper advises, the targets' shares of flows differ by more than about 1%%",
		                  lb->table_size, lb->n_targets);
	ok = TRUE;
out:
	g_free(fields);
	g_free(fn);
	g_free(sel);
	g_free(size);
	return ok;
}

static gboolean configure_events(struct l4lb *lb, const struct stage_config *cfg, GError **err)
{
	char **items = stage_config_list(cfg, "events");
	gboolean ok = FALSE;

	for (char **it = items; it && *it; it++) {
		const char *why = NULL;
		struct l4lb_event ev;
		if (lb->n_events == L4LB_MAX_EVENTS) {
			stage_config_error(cfg, "events", err, "more than %d events", L4LB_MAX_EVENTS);
			goto out;
		}
		if (!parse_event(lb, *it, &ev, &why)) {
			stage_config_error(cfg, "events", err, "'%s': %s", *it, why);
			goto out;
		}
		/* keep them in time order, and in written order at equal times */
		unsigned pos = lb->n_events;
		while (pos > 0 && lb->events[pos - 1].at_ns > ev.at_ns) {
			lb->events[pos] = lb->events[pos - 1];
			pos--;
		}
		lb->events[pos] = ev;
		lb->n_events++;
	}
	ok = TRUE;
out:
	g_strfreev(items);
	return ok;
}

static gboolean configure_flow_table(struct l4lb *lb, const struct stage_config *cfg, GError **err)
{
	char *v = stage_config_string(cfg, "max-flows", NULL);
	guint64 n = L4LB_DEFAULT_MAX_FLOWS;

	if (v && !g_ascii_string_to_unsigned(v, 10, 1, 1u << 24, &n, NULL)) {
		stage_config_error(cfg, "max-flows", err, "'%s' is not a number of flows from 1 to %u", v, 1u << 24);
		g_free(v);
		return FALSE;
	}
	g_free(v);
	if (!l4lb_flow_table_init(lb, (uint32_t)n)) {
		stage_config_error(cfg, "max-flows", err, "no memory for a table of %u flows", (unsigned)n);
		return FALSE;
	}
	return TRUE;
}

gboolean l4lb_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct l4lb *lb = g_new0(struct l4lb, 1);
	char *address = NULL;

	st->priv = lb;
	lb->pending = g_string_sized_new(256);
	lb->flags = g_string_sized_new(128);
	if (!configure_listeners(lb, cfg, err) || !configure_targets(lb, cfg, err) || !configure_methods(lb, cfg, err) ||
	    !configure_events(lb, cfg, err) ||
	    !stage_config_duration(cfg, "deregistration-delay", L4LB_DEREG_DEFAULT_S * NS_PER_S, 0, G_MAXINT64,
	                           &lb->dereg_delay_ns, err) ||
	    !stage_config_duration(cfg, "tcp-idle-timeout", L4LB_TCP_IDLE_DEFAULT_S * NS_PER_S, 0, G_MAXINT64,
	                           &lb->tcp_idle_ns, err) ||
	    !stage_config_duration(cfg, "udp-idle-timeout", L4LB_UDP_IDLE_DEFAULT_S * NS_PER_S, 0, G_MAXINT64,
	                           &lb->udp_idle_ns, err) ||
	    !configure_bool(cfg, "preserve-client-ip", true, &lb->preserve_client_ip, err) ||
	    !configure_bool(cfg, "proxy-protocol-v2", false, &lb->ppv2, err) ||
	    !configure_flow_table(lb, cfg, err))
		return FALSE;
	if (lb->tcp_idle_ns <= 0 || lb->udp_idle_ns <= 0) {
		stage_config_error(cfg, lb->tcp_idle_ns <= 0 ? "tcp-idle-timeout" : "udp-idle-timeout", err,
		                   "an idle timeout must be longer than 0");
		return FALSE;
	}
	address = stage_config_string(cfg, "address", NULL);
	if (address) {
		lb->have_address = ip4_parse(address, &lb->address);
		if (!lb->have_address) {
			stage_config_error(cfg, "address", err, "'%s' is not an IPv4 address", address);
			g_free(address);
			return FALSE;
		}
		g_free(address);
	}
	if (!lb->preserve_client_ip && !lb->have_address) {
		stage_config_error(cfg, "preserve-client-ip", err, "with preserve-client-ip = false the targets see the "
		                   "balancer's own address: give it (address = 10.0.1.2)");
		return FALSE;
	}
	if (lb->ppv2) {
		bool tcp = false;
		for (unsigned i = 0; i < lb->n_listeners; i++)
			tcp = tcp || lb->listeners[i].proto == 6;
		if (!tcp) {
			stage_config_error(cfg, "proxy-protocol-v2", err, "proxy protocol v2 is inserted in TCP connections, "
			                   "and no listener is TCP");
			return FALSE;
		}
	}

	struct lb_select_target *names = g_new0(struct lb_select_target, lb->n_targets);
	for (unsigned i = 0; i < lb->n_targets; i++)
		names[i] = (struct lb_select_target){ lb->targets[i].name, lb->targets[i].weight };
	lb->sel = lb->select->create(names, lb->n_targets, lb->table_size);
	lb->sel_spare = lb->select->create(names, lb->n_targets, lb->table_size);
	g_free(names);
	lb->weights = g_new0(uint32_t, lb->n_targets);
	l4lb_rebuild(lb);
	return TRUE;
}

void l4lb_destroy(struct stage *st)
{
	struct l4lb *lb = st->priv;

	if (!lb)
		return;
	if (lb->sel)
		lb->select->destroy(lb->sel);
	if (lb->sel_spare)
		lb->select->destroy(lb->sel_spare);
	g_free(lb->weights);
	g_free(lb->targets);
	l4lb_flow_table_free(lb);
	g_string_free(lb->pending, TRUE);
	g_string_free(lb->flags, TRUE);
	g_free(lb);
}

static const char *proto_name(uint8_t proto)
{
	return proto == 17 ? "udp" : "tcp";
}

void l4lb_describe(const struct stage *st, GString *out)
{
	static const char *const kinds[] = { "down", "up", "drain" };
	const struct l4lb *lb = st->priv;
	char a[16];

	g_string_append(out, "listen = ");
	for (unsigned i = 0; i < lb->n_listeners; i++)
		g_string_append_printf(out, "%s%s:%u/%s", i ? ", " : "", ip4_to_str(lb->listeners[i].vip, a),
		                       lb->listeners[i].port, proto_name(lb->listeners[i].proto));
	g_string_append(out, "\ntargets = ");
	for (unsigned i = 0; i < lb->n_targets; i++) {
		g_string_append_printf(out, "%s%s", i ? "; " : "", lb->targets[i].name);
		if (lb->targets[i].weight != 1)
			g_string_append_printf(out, " weight=%u", lb->targets[i].weight);
	}
	g_string_append_printf(out, "\n# a target without a port takes the listener's\n"
	                       "hash = %s\n# hashed by %s: %s\nhash-function = %s\n# %s\nselection = %s\n# %s\n"
	                       "table-size = %u\n", lb_hash_fields_name(lb->fields), lb->hash->name,
	                       lb->hash->explain(&(struct lb_flow_key){ .proto = 6 }, lb->fields), lb->hash->name,
	                       lb->hash->summary, lb->select->name, lb->select->summary, lb->table_size);
	g_string_append(out, "events =");
	for (unsigned i = 0; i < lb->n_events; i++) {
		g_string_append_printf(out, "%s ", i ? ";" : "");
		duration_append(out, lb->events[i].at_ns);
		g_string_append_printf(out, " %s %s", kinds[lb->events[i].kind], lb->targets[lb->events[i].target].name);
	}
	g_string_append(out, "\n# times count from the first packet; down: new flows avoid the target and its TCP flows "
	                "are reset; drain: its flows continue until the deregistration delay\nderegistration-delay = ");
	duration_append(out, lb->dereg_delay_ns);
	g_string_append_printf(out, "\npreserve-client-ip = %s\n", lb->preserve_client_ip ? "true" : "false");
	if (lb->have_address)
		g_string_append_printf(out, "address = %s\n", ip4_to_str(lb->address, a));
	else
		g_string_append(out, "# address: none (the targets see the clients' addresses)\n");
	g_string_append_printf(out, "proxy-protocol-v2 = %s\ntcp-idle-timeout = ", lb->ppv2 ? "true" : "false");
	duration_append(out, lb->tcp_idle_ns);
	g_string_append(out, "\nudp-idle-timeout = ");
	duration_append(out, lb->udp_idle_ns);
	g_string_append_printf(out, "\nmax-flows = %u\n", lb->max_flows);
}
