/* nat/shield_config.c: the shield stage's scenario keys, their defaults, and natlb check's view of them.
 *
 * Follows the AWS WAF Developer Guide, "Rate-based rule statement" (a limit of requests per source
 * address over an evaluation window of 1, 2, 5 or 10 minutes; the limit at least 10) and RFC 6890
 * (the special-purpose address registry) for the default bogon list.  Every table is sized here,
 * once, to a power of two: nothing grows while packets flow.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <string.h>

#include "common/scenario.h"
#include "nat/shield.h"
#include "nat/shield_priv.h"

const char *const shield_keys[] = { "protect", "syn-threshold", "cookie-secret", "reflection-window", "max-requests",
	                            "bogons", "rate-limit", "max-sources", "max-connections", "idle-timeout", NULL };

/* RFC 6890's special-purpose blocks that no internet source can hold, less the three
 * documentation blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24): natlb's lessons use them
 * as the public internet, as RFC 5737 intends for examples. */
static const char default_bogons[] = "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, "
                                     "172.16.0.0/12, 192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/4, "
                                     "240.0.0.0/4";

#define DEFAULT_SYN_THRESHOLD   1000
#define DEFAULT_MAX_CONNECTIONS 65536
#define DEFAULT_MAX_REQUESTS    16384
#define DEFAULT_MAX_SOURCES     65536
#define DEFAULT_SECRET          "natlb-shield"

static gboolean prefixes_parse(const struct stage_config *cfg, const char *key, const char *text,
                               struct ip4_prefix *out, unsigned max, unsigned *n, GError **err)
{
	char **items = g_strsplit_set(text, ",;", -1);
	GError *perr = NULL;
	gboolean ok = TRUE;

	*n = 0;
	for (char **it = items; ok && *it; it++) {
		char *item = g_strstrip(*it);
		if (!*item)
			continue;
		if (*n == max) {
			stage_config_error(cfg, key, err, "more than %u prefixes", max);
			ok = FALSE;
		} else if (!ip4_prefix_parse(item, &out[*n], &perr)) {
			stage_config_error(cfg, key, err, "%s", perr->message);
			g_clear_error(&perr);
			ok = FALSE;
		} else {
			(*n)++;
		}
	}
	g_strfreev(items);
	return ok;
}

/* An unsigned key in [min, max]; def when absent. */
static gboolean config_uint(const struct stage_config *cfg, const char *key, uint32_t def, uint32_t min, uint32_t max,
                            uint32_t *out, GError **err)
{
	char *v = stage_config_string(cfg, key, NULL);
	guint64 n = def;
	gboolean ok = TRUE;

	if (v && !g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL)) {
		stage_config_error(cfg, key, err, "'%s' is not a whole number from %u to %u", v, min, max);
		ok = FALSE;
	}
	*out = (uint32_t)n;
	g_free(v);
	return ok;
}

/* A table size: a power of two from 4 to 2^24 (the tables are bucketed by a hash's low bits). */
static gboolean config_table_size(const struct stage_config *cfg, const char *key, uint32_t def, uint32_t *out,
                                  GError **err)
{
	if (!config_uint(cfg, key, def, SHIELD_WAYS, 1u << 24, out, err))
		return FALSE;
	if (*out & (*out - 1)) {
		stage_config_error(cfg, key, err, "%u is not a power of two (the table is bucketed by hash bits)", *out);
		return FALSE;
	}
	return TRUE;
}

/* "2000/5m": a limit and WAF's evaluation window (1, 2, 5 or 10 minutes); "none" for no rule. */
static gboolean rate_limit_parse(struct shield *sh, const struct stage_config *cfg, GError **err)
{
	char *v = stage_config_string(cfg, "rate-limit", "none");
	char *slash = strchr(v, '/');
	guint64 limit = 0;
	const char *why = NULL;
	gboolean ok = FALSE;

	if (strcmp(v, "none") == 0) {
		ok = TRUE;
		goto out;
	}
	if (slash)
		*slash = '\0';
	if (!slash || !g_ascii_string_to_unsigned(g_strstrip(v), 10, 10, 2000000000, &limit, NULL))
		stage_config_error(cfg, "rate-limit", err, "should be LIMIT/WINDOW, a limit of at least 10 requests per "
		                   "source and a window of 1m, 2m, 5m or 10m (2000/5m), or none");
	else if (!duration_parse(g_strstrip(slash + 1), &sh->rate_window_ns, &why))
		stage_config_error(cfg, "rate-limit", err, "window '%s' %s", slash + 1, why);
	else if (sh->rate_window_ns != 60 * NS_PER_S && sh->rate_window_ns != 120 * NS_PER_S &&
	         sh->rate_window_ns != 300 * NS_PER_S && sh->rate_window_ns != 600 * NS_PER_S)
		stage_config_error(cfg, "rate-limit", err, "window '%s': AWS WAF evaluates over 1m, 2m, 5m or 10m",
		                   slash + 1);
	else {
		sh->rate_limit = (uint32_t)limit;
		ok = TRUE;
	}
out:
	g_free(v);
	return ok;
}

static gboolean shield_configure_keys(struct shield *sh, const struct stage_config *cfg, GError **err)
{
	char *protect = stage_config_string(cfg, "protect", NULL);
	char *bogons = stage_config_string(cfg, "bogons", default_bogons);
	gboolean ok = FALSE;

	if (!protect || !*protect) {
		stage_config_error(cfg, "protect", err, "a shield needs the addresses it protects "
		                   "(protect = 203.0.113.10, 203.0.113.0/28): the balancer's VIP, a host's address");
		goto out;
	}
	if (!prefixes_parse(cfg, "protect", protect, sh->protect, SHIELD_MAX_PROTECT, &sh->n_protect, err))
		goto out;
	if (strcmp(bogons, "none") == 0)
		sh->n_bogons = 0;
	else if (!prefixes_parse(cfg, "bogons", bogons, sh->bogons, SHIELD_MAX_BOGONS, &sh->n_bogons, err))
		goto out;
	for (unsigned i = 0; i < sh->n_bogons; i++) {
		uint32_t first = sh->bogons[i].addr >> 24, span = sh->bogons[i].len >= 8 ? 1 : 1u << (8 - sh->bogons[i].len);
		for (uint32_t o = first; o < first + span && o < 256; o++)
			sh->bogon_octets[o / 64] |= 1ull << (o % 64);
	}
	sh->secret = stage_config_string(cfg, "cookie-secret", DEFAULT_SECRET);
	if (!*sh->secret) {
		stage_config_error(cfg, "cookie-secret", err, "is empty: the cookies' keyed hash needs a secret");
		goto out;
	}
	sh->key = shield_key_from_secret(sh->secret);
	ok = config_uint(cfg, "syn-threshold", DEFAULT_SYN_THRESHOLD, 1, 100000000, &sh->syn_threshold, err) &&
	     stage_config_duration(cfg, "reflection-window", 30 * NS_PER_S, NS_PER_S / 1000, 3600 * NS_PER_S,
	                           &sh->reflection_window_ns, err) &&
	     stage_config_duration(cfg, "idle-timeout", 350 * NS_PER_S, NS_PER_S, 7 * 24 * 3600 * NS_PER_S,
	                           &sh->idle_timeout_ns, err) &&
	     config_table_size(cfg, "max-connections", DEFAULT_MAX_CONNECTIONS, &sh->max_connections, err) &&
	     config_table_size(cfg, "max-requests", DEFAULT_MAX_REQUESTS, &sh->max_requests, err) &&
	     config_table_size(cfg, "max-sources", DEFAULT_MAX_SOURCES, &sh->max_sources, err) &&
	     rate_limit_parse(sh, cfg, err);
	if (ok) {
		GString *w = g_string_new(NULL);
		duration_append(w, sh->reflection_window_ns);
		g_strlcpy(sh->window_text, w->str, sizeof sh->window_text);
		g_string_free(w, TRUE);
	}
out:
	g_free(protect);
	g_free(bogons);
	return ok;
}

gboolean shield_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct shield *sh = g_new0(struct shield, 1);
	char errbuf[LIBNET_ERRBUF_SIZE];

	st->priv = sh;
	sh->pending = g_string_new(NULL);
	if (!shield_configure_keys(sh, cfg, err))
		return FALSE;
	sh->conns = g_new0(struct shield_conn, sh->max_connections);
	sh->requests = g_new0(struct shield_request, sh->max_requests);
	if (sh->rate_limit)
		sh->sources = g_new0(struct shield_source, sh->max_sources);
	errbuf[0] = '\0';
	sh->lnet = (struct libnet_context *)libnet_init(LIBNET_NONE, NULL, errbuf);
	if (!sh->lnet) {
		stage_config_error(cfg, NULL, err, "libnet_init: %s", errbuf);
		return FALSE;
	}
	return TRUE;
}

static void append_prefixes(GString *out, const struct ip4_prefix *p, unsigned n)
{
	char b[19];
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "", ip4_prefix_to_str(&p[i], b));
	if (!n)
		g_string_append(out, "none");
}

void shield_describe(const struct stage *st, GString *out)
{
	const struct shield *sh = st->priv;

	g_string_append(out, "protect = ");
	append_prefixes(out, sh->protect, sh->n_protect);
	g_string_append_printf(out, "\nsyn-threshold = %u\n# SYNs per protected address per second of capture time; "
	                       "above it the shield answers SYNs with SYN cookies (RFC 4987 3.6)\n", sh->syn_threshold);
	g_string_append_printf(out, "cookie-secret = %s\n", sh->secret);
	g_string_append(out, "reflection-window = ");
	duration_append(out, sh->reflection_window_ns);
	g_string_append_printf(out, "\n# a protected address's UDP request to port 53, 123, 1900, 11211, 19 or 389 "
	                       "lets its answers in for this long\nmax-requests = %u\nbogons = ", sh->max_requests);
	append_prefixes(out, sh->bogons, sh->n_bogons);
	g_string_append(out, "\n# sources dropped when they arrive from the internet (left) side\nrate-limit = ");
	if (sh->rate_limit) {
		g_string_append_printf(out, "%u/", sh->rate_limit);
		duration_append(out, sh->rate_window_ns);
	} else {
		g_string_append(out, "none");
	}
	g_string_append_printf(out, "\n# requests (SYNs, UDP datagrams, ICMP) per source address over the window, "
	                       "like an AWS WAF rate-based rule\nmax-sources = %u\nmax-connections = %u\nidle-timeout = ",
	                       sh->max_sources, sh->max_connections);
	duration_append(out, sh->idle_timeout_ns);
	g_string_append(out, "\n");
}

void shield_destroy(struct stage *st)
{
	struct shield *sh = st->priv;

	if (!sh)
		return;
	if (sh->lnet)
		libnet_destroy((libnet_t *)sh->lnet);
	g_free(sh->conns);
	g_free(sh->requests);
	g_free(sh->sources);
	g_free(sh->secret);
	if (sh->pending)
		g_string_free(sh->pending, TRUE);
	g_free(sh);
}
