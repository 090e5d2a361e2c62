/* nat/napt_config.c: the napt stage's scenario keys and profiles (RFC 4787 sections 4-6, RFC 5382 section 5, RFC 5508 REQ-2, RFC 7857; AWS NAT gateway).
 *
 * A profile fills every setting; explicit keys then override it, and `natlb check` prints the
 * result, so a teacher sees what "symmetric" or "aws-nat-gateway" means setting by setting.
 * Numbers and where they come from:
 * - rfc: the RFC minimums: UDP 300 s (RFC 4787 REQ-5: at least 2 min, 5 min recommended), TCP
 *   established 7440 s and transitory 240 s (RFC 5382 REQ-5), ICMP 60 s (RFC 5508 REQ-2), 4 min
 *   after a RST (RFC 7857 section 2.2); paired pooling (RFC 4787 REQ-2), port parity (REQ-4),
 *   hairpinning (REQ-9), ICMP 3/13 on exhaustion (RFC 5508 REQ-8).
 * - linux: MASQUERADE over conntrack: nf_conntrack's default timeouts (tcp syn_sent 120, established
 *   432000, fin_wait 120, time_wait 120, close 10; udp 30 unreplied, 120 stream; icmp 30; generic
 *   600), the port kept while the reply tuple is free, else nf_nat's search; EIM only through an
 *   entry that still lives (find_appropriate_src); port overlapping; APDF (conntrack lets in only
 *   replies).  tracking = conntrack (nf_conntrack_proto_udp.c: a UDP entry stays 30 s until a packet
 *   after its reply comes more than 2 s after it began; IPS_ASSURED as conntrack -L prints it);
 *   answer-unsolicited (a packet to the router's own address that no entry expects is delivered to
 *   the router, whose stack answers a TCP RST or an ICMP port unreachable, and its conntrack entry
 *   holds the tuple); ports-icmp = no (MASQUERADE --to-ports needs -p tcp or -p udp, so ICMP
 *   identifiers keep nf_nat's own range, 0-65535).
 * - aws-nat-gateway: "NAT gateways" in the Amazon VPC user guide: outbound only, ports 1024-65535,
 *   up to 8 addresses, 55,000 simultaneous connections to each unique destination per address,
 *   350 s idle timeout answered by an RST, UDP fragments forwarded and TCP/ICMP fragments dropped,
 *   TCP, UDP and ICMP only.  AWS does not document its mapping behaviour; the per-destination limit
 *   implies ports reused across destinations, and hole-punching tools report it as symmetric,
 *   so the profile is APDM with port overlapping and random ports.
 */
#include <stdlib.h>
#include <string.h>

#include "common/packet.h"
#include "common/scenario.h"
#include "nat/napt.h"

#define NAPT_DEFAULT_PROFILE "port-restricted-cone"
#define NAPT_DEFAULT_MAX_MAPPINGS 65536
#define NAPT_MAX_MAX_MAPPINGS (1u << 24)

const char *const napt_keys[] = {
	"profile", "external", "ports", "mapping", "filtering", "port-allocation", "port-parity", "pooling",
	"port-overlapping", "hairpin", "refresh-inbound",
#define X(name, key, what) key,
	foreach_napt_timeout
#undef X
	"max-mappings", "max-per-destination", "exhaustion-icmp", "idle-rst", "fragments", "fragment-timeout",
	"other-protocols", "metrics", "inside-address", "tracking", "answer-unsolicited", "ports-icmp", NULL,
};

struct napt_profile {
	const char *name;
	const char *summary;
	enum napt_dep mapping, filtering;
	const char *alloc;
	bool parity, overlapping, hairpin, refresh_inbound, exhaustion_icmp, idle_rst, other, aws_metrics;
	bool answer_unsolicited;
	bool icmp_ids_apart;               /* ports-icmp = no */
	enum napt_tracking tracking;
	enum napt_pooling pooling;
	enum napt_fragments fragments;
	uint16_t port_min, port_max;
	uint32_t timeout_s[NAPT_TO_KEYED]; /* in foreach_napt_timeout order */
	uint32_t max_per_destination;
	unsigned max_external;
};

/* UDP, UDP unreplied, TCP syn, established, closing, time-wait, rst, ICMP, other. */
#define RFC_TIMEOUTS { 300, 300, 240, 7440, 240, 240, 240, 60, 300 }

static const struct napt_profile profiles[] = {
	{ .name = "full-cone", .summary = "EIM + EIF: once mapped, anyone may send to the mapping",
	  .mapping = NAPT_EI, .filtering = NAPT_EI, .alloc = "preserve, sequential", .hairpin = true,
	  .refresh_inbound = true, .other = true, .pooling = NAPT_POOL_PAIRED, .port_min = 1024, .port_max = 65535,
	  .timeout_s = RFC_TIMEOUTS, .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "restricted-cone", .summary = "EIM + ADF: replies from any port of an address the host contacted",
	  .mapping = NAPT_EI, .filtering = NAPT_AD, .alloc = "preserve, sequential", .hairpin = true,
	  .refresh_inbound = true, .other = true, .pooling = NAPT_POOL_PAIRED, .port_min = 1024, .port_max = 65535,
	  .timeout_s = RFC_TIMEOUTS, .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "port-restricted-cone", .summary = "EIM + APDF: only the exact endpoints the host contacted",
	  .mapping = NAPT_EI, .filtering = NAPT_APD, .alloc = "preserve, sequential", .hairpin = true,
	  .refresh_inbound = true, .other = true, .pooling = NAPT_POOL_PAIRED, .port_min = 1024, .port_max = 65535,
	  .timeout_s = RFC_TIMEOUTS, .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "symmetric", .summary = "APDM + APDF: a new external port for every destination",
	  .mapping = NAPT_APD, .filtering = NAPT_APD, .alloc = "preserve, sequential", .hairpin = true,
	  .refresh_inbound = true, .other = true, .pooling = NAPT_POOL_PAIRED, .port_min = 1024, .port_max = 65535,
	  .timeout_s = RFC_TIMEOUTS, .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "rfc", .summary = "RFC 4787/5382/5508 minimums and recommendations (EIM + ADF)",
	  .mapping = NAPT_EI, .filtering = NAPT_AD, .alloc = "preserve, sequential", .parity = true, .hairpin = true,
	  .refresh_inbound = true, .exhaustion_icmp = true, .other = true, .pooling = NAPT_POOL_PAIRED,
	  .port_min = 1024, .port_max = 65535, .timeout_s = RFC_TIMEOUTS, .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "linux", .summary = "iptables MASQUERADE over conntrack, default sysctls",
	  .mapping = NAPT_EI, .filtering = NAPT_APD, .alloc = "preserve, linux", .overlapping = true,
	  /* MASQUERADE alone does not hairpin: a packet to the router's own address is for the router. */
	  .hairpin = false, .refresh_inbound = true, .other = true, .pooling = NAPT_POOL_PAIRED, .port_min = 1,
	  .port_max = 65535, .timeout_s = { 120, 30, 120, 432000, 120, 120, 10, 30, 600 },
	  .tracking = NAPT_TRACK_CONNTRACK, .answer_unsolicited = true, .icmp_ids_apart = true,
	  .max_external = NAPT_MAX_EXTERNAL },
	{ .name = "aws-nat-gateway", .summary = "AWS NAT gateway: outbound only, 350 s idle then RST, 55,000 per destination",
	  .mapping = NAPT_APD, .filtering = NAPT_APD, .alloc = "random", .overlapping = true, .hairpin = false,
	  .refresh_inbound = true, .idle_rst = true, .other = false, .aws_metrics = true, .pooling = NAPT_POOL_ARBITRARY,
	  .fragments = NAPT_FRAG_UDP_ONLY, .port_min = 1024, .port_max = 65535,
	  .timeout_s = { 350, 350, 350, 350, 350, 350, 350, 350, 350 }, .max_per_destination = 55000,
	  .max_external = NAPT_AWS_MAX_EXTERNAL },
};

static const char *const dep_words[] = { "endpoint-independent", "address-dependent", "address-and-port-dependent" };
static const char *const pooling_words[] = { "paired", "arbitrary" };
static const char *const fragment_words[] = { "translate", "udp-only", "drop" };
static const char *const tracking_words[] = { "natlb", "conntrack" };
static const char *const timeout_keys[NAPT_TO_KEYED] = {
#define X(name, key, what) key,
	foreach_napt_timeout
#undef X
};
static const char *const timeout_whats[NAPT_TO_KEYED] = {
#define X(name, key, what) what,
	foreach_napt_timeout
#undef X
};

const char *napt_dep_name(enum napt_dep d, bool abbrev, bool filtering)
{
	static const char *const m[] = { "EIM", "ADM", "APDM" }, *const f[] = { "EIF", "ADF", "APDF" };
	if ((unsigned)d > NAPT_APD)
		return "?";
	return abbrev ? (filtering ? f[d] : m[d]) : dep_words[d];
}

/* One of words[]; an error with the nearest word otherwise. */
static bool parse_word(const struct stage_config *cfg, const char *key, const char *const *words, unsigned n,
                       unsigned *out, GError **err)
{
	char *v = stage_config_string(cfg, key, NULL);
	bool ok = false;
	for (unsigned i = 0; v && i < n; i++)
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			ok = true;
		}
	if (!ok) {
		GString *all = g_string_new(NULL);
		for (unsigned i = 0; i < n; i++)
			g_string_append_printf(all, "%s%s", i ? ", " : "", words[i]);
		const char *near = v ? nearest_name(v, words, n) : NULL;
		stage_config_error(cfg, key, err, "'%s' is not one of: %s%s%s%s", v ? v : "", all->str,
		                   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		g_string_free(all, TRUE);
	}
	g_free(v);
	return ok;
}

static bool parse_bool(const struct stage_config *cfg, const char *key, bool *out, GError **err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
	char *v = stage_config_string(cfg, key, NULL);
	bool ok = false;
	for (unsigned i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			*out = ok = true;
		else if (g_ascii_strcasecmp(v, no[i]) == 0) {
			*out = false;
			ok = true;
		}
	}
	if (!ok)
		stage_config_error(cfg, key, err, "'%s' is not yes or no", v);
	g_free(v);
	return ok;
}

/* A timeout key in whole seconds, written in any form stage_config_duration() reads ("30", "30s",
 * "5m", "2h"): the mapping table counts seconds, so "1500ms" is refused rather than rounded. */
static bool parse_seconds(const struct stage_config *cfg, const char *key, uint32_t min_s, uint32_t max_s,
                          uint32_t *out, GError **err)
{
	const int64_t ns_per_s = G_GINT64_CONSTANT(1000000000);
	int64_t ns = 0;

	if (!stage_config_duration(cfg, key, (int64_t)*out * ns_per_s, (int64_t)min_s * ns_per_s,
	                           (int64_t)max_s * ns_per_s, &ns, err))
		return false;
	if (ns % ns_per_s != 0) {
		char *v = stage_config_string(cfg, key, NULL);
		stage_config_error(cfg, key, err, "'%s': napt counts timeouts in whole seconds", v);
		g_free(v);
		return false;
	}
	*out = (uint32_t)(ns / ns_per_s);
	return true;
}

static bool parse_uint(const struct stage_config *cfg, const char *key, uint64_t min, uint64_t max, uint32_t *out,
                       GError **err)
{
	char *v = stage_config_string(cfg, key, NULL);
	guint64 n = 0;
	GError *e = NULL;
	bool ok = g_ascii_string_to_unsigned(v, 10, min, max, &n, &e);
	if (ok)
		*out = (uint32_t)n;
	else {
		stage_config_error(cfg, key, err, "%s", e->message);
		g_error_free(e);
	}
	g_free(v);
	return ok;
}

static bool parse_ports(const struct stage_config *cfg, uint16_t *min, uint16_t *max, GError **err)
{
	char *v = stage_config_string(cfg, "ports", NULL);
	char **parts = g_strsplit(v, "-", 2);
	guint64 a = 0, b = 0;
	bool ok = parts[0] && g_ascii_string_to_unsigned(g_strstrip(parts[0]), 10, 1, 65535, &a, NULL) &&
	          (!parts[1] ? (b = a, true) : g_ascii_string_to_unsigned(g_strstrip(parts[1]), 10, 1, 65535, &b, NULL)) &&
	          a <= b;
	if (ok) {
		*min = (uint16_t)a;
		*max = (uint16_t)b;
	} else {
		stage_config_error(cfg, "ports", err, "'%s' is not a port range like 1024-65535", v);
	}
	g_strfreev(parts);
	g_free(v);
	return ok;
}

static bool parse_external(const struct stage_config *cfg, struct napt_config *c, GError **err)
{
	char **items = stage_config_list(cfg, "external");
	bool ok = items && items[0];

	if (!ok)
		stage_config_error(cfg, "external", err, "a napt stage needs its external address "
		                   "(external = 203.0.113.7, or several, or a prefix such as 198.51.100.0/29)");
	for (char **it = items; ok && *it; it++) {
		char **words = g_strsplit_set(*it, " \t", -1);
		for (char **w = words; ok && *w; w++) {
			struct ip4_prefix pfx;
			GError *e = NULL;
			if (!**w)
				continue;
			if (!ip4_prefix_parse(*w, &pfx, &e)) {
				stage_config_error(cfg, "external", err, "%s", e->message);
				g_error_free(e);
				ok = false;
				break;
			}
			uint64_t n = 1ull << (32 - pfx.len);
			for (uint64_t i = 0; ok && i < n; i++) {
				uint32_t a = pfx.addr + (uint32_t)i;
				for (unsigned j = 0; j < c->n_external; j++)
					if (c->external[j] == a) {
						char b[16];
						stage_config_error(cfg, "external", err, "%s is listed twice", ip4_to_str(a, b));
						ok = false;
					}
				if (ok && c->n_external == NAPT_MAX_EXTERNAL) {
					stage_config_error(cfg, "external", err, "more than %d external addresses", NAPT_MAX_EXTERNAL);
					ok = false;
				}
				if (ok)
					c->external[c->n_external++] = a;
			}
		}
		g_strfreev(words);
	}
	g_strfreev(items);
	return ok;
}

static bool parse_alloc(const struct stage_config *cfg, const char *text, struct napt_config *c, GError **err)
{
	char **items = g_strsplit_set(text, ",; ", -1);
	bool ok = true;
	unsigned n;
	const struct napt_port_ops *const *all = napt_port_ops_all(&n);
	const char *names[8];

	for (unsigned i = 0; i < n && i < G_N_ELEMENTS(names); i++)
		names[i] = all[i]->name;
	c->n_alloc = 0;
	for (char **it = items; ok && *it; it++) {
		if (!**it)
			continue;
		const struct napt_port_ops *ops = napt_port_ops_find(*it);
		if (!ops) {
			const char *near = nearest_name(*it, names, MIN(n, 8u));
			stage_config_error(cfg, "port-allocation", err, "unknown strategy '%s' (preserve, sequential, random, "
			                   "linux)%s%s%s", *it, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			ok = false;
		} else if (c->n_alloc == NAPT_MAX_STRATEGIES) {
			stage_config_error(cfg, "port-allocation", err, "at most %d strategies", NAPT_MAX_STRATEGIES);
			ok = false;
		} else {
			c->alloc[c->n_alloc++] = ops;
		}
	}
	g_strfreev(items);
	if (ok && c->n_alloc == 0) {
		stage_config_error(cfg, "port-allocation", err, "name at least one strategy (preserve, sequential, random, linux)");
		ok = false;
	}
	/* "preserve" alone still needs somewhere to go when the port is taken. */
	if (ok && c->n_alloc == 1 && c->alloc[0] == napt_port_ops_find("preserve"))
		c->alloc[c->n_alloc++] = napt_port_ops_find("sequential");
	return ok;
}

static void profile_apply(struct napt_config *c, const struct napt_profile *p)
{
	c->profile = p->name;
	c->mapping = p->mapping;
	c->filtering = p->filtering;
	c->port_parity = p->parity;
	c->port_overlapping = p->overlapping;
	c->hairpin = p->hairpin;
	c->refresh_inbound = p->refresh_inbound;
	c->exhaustion_icmp = p->exhaustion_icmp;
	c->idle_rst = p->idle_rst;
	c->other_protocols = p->other;
	c->aws_metrics = p->aws_metrics;
	c->tracking = p->tracking;
	c->answer_unsolicited = p->answer_unsolicited;
	c->ports_icmp = !p->icmp_ids_apart;
	c->pooling = p->pooling;
	c->fragments = p->fragments;
	c->port_min = p->port_min;
	c->port_max = p->port_max;
	memcpy(c->timeout_s, p->timeout_s, sizeof c->timeout_s);
	c->max_per_destination = p->max_per_destination;
	c->max_mappings = NAPT_DEFAULT_MAX_MAPPINGS;
	c->fragment_timeout_s = 30; /* Linux's ipfrag_time */
}

static const struct napt_profile *profile_find(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

/* The NAT's own inside address, the source of the ICMP errors it sends inside: the first host of
 * the inside link's first network (192.168.1.1 for 192.168.1.0/24), as routers are usually numbered. */
static uint32_t default_inside_address(const struct stage *st, const struct napt_config *c)
{
	if (st->left && st->left->n_networks) {
		const struct ip4_prefix *n = &st->left->networks[0];
		return n->len < 31 ? n->addr + 1 : n->addr;
	}
	return c->external[0];
}

static bool configure_keys(struct stage *st, const struct stage_config *cfg, struct napt_config *c,
                           const struct napt_profile *prof, GError **err)
{
	unsigned w;
	bool b;

	if (!parse_external(cfg, c, err))
		return false;
	if (c->n_external > prof->max_external) {
		stage_config_error(cfg, "external", err, "%u addresses: the %s profile allows %u (AWS: up to 8 per NAT gateway)",
		                   c->n_external, prof->name, prof->max_external);
		return false;
	}
	if (stage_config_has(cfg, "ports")) {
		if (!parse_ports(cfg, &c->port_min, &c->port_max, err))
			return false;
		c->ports_set = true;
	}
	if (stage_config_has(cfg, "mapping")) {
		if (!parse_word(cfg, "mapping", dep_words, 3, &w, err))
			return false;
		c->mapping = (enum napt_dep)w;
	}
	if (stage_config_has(cfg, "filtering")) {
		if (!parse_word(cfg, "filtering", dep_words, 3, &w, err))
			return false;
		c->filtering = (enum napt_dep)w;
	}
	char *alloc = stage_config_string(cfg, "port-allocation", prof->alloc);
	bool ok = parse_alloc(cfg, alloc, c, err);
	g_free(alloc);
	if (!ok)
		return false;
	if (stage_config_has(cfg, "pooling")) {
		if (!parse_word(cfg, "pooling", pooling_words, 2, &w, err))
			return false;
		c->pooling = (enum napt_pooling)w;
	}
	if (stage_config_has(cfg, "fragments")) {
		if (!parse_word(cfg, "fragments", fragment_words, 3, &w, err))
			return false;
		c->fragments = (enum napt_fragments)w;
	}
	if (stage_config_has(cfg, "tracking")) {
		if (!parse_word(cfg, "tracking", tracking_words, 2, &w, err))
			return false;
		c->tracking = (enum napt_tracking)w;
	}
	if (stage_config_has(cfg, "metrics")) {
		static const char *const metrics_words[] = { "natlb", "aws" };
		if (!parse_word(cfg, "metrics", metrics_words, 2, &w, err))
			return false;
		c->aws_metrics = w == 1;
	}
	struct {
		const char *key;
		bool *field;
	} bools[] = {
		{ "port-parity", &c->port_parity },         { "port-overlapping", &c->port_overlapping },
		{ "hairpin", &c->hairpin },                 { "refresh-inbound", &c->refresh_inbound },
		{ "exhaustion-icmp", &c->exhaustion_icmp }, { "idle-rst", &c->idle_rst },
		{ "other-protocols", &c->other_protocols }, { "answer-unsolicited", &c->answer_unsolicited },
		{ "ports-icmp", &c->ports_icmp },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(bools); i++)
		if (stage_config_has(cfg, bools[i].key)) {
			if (!parse_bool(cfg, bools[i].key, &b, err))
				return false;
			*bools[i].field = b;
		}
	for (unsigned t = 0; t < NAPT_TO_KEYED; t++)
		if (stage_config_has(cfg, timeout_keys[t]) && !parse_seconds(cfg, timeout_keys[t], 1, 31536000, &c->timeout_s[t], err))
			return false;
	if (stage_config_has(cfg, "max-mappings") &&
	    !parse_uint(cfg, "max-mappings", 1, NAPT_MAX_MAX_MAPPINGS, &c->max_mappings, err))
		return false;
	if (stage_config_has(cfg, "max-per-destination") &&
	    !parse_uint(cfg, "max-per-destination", 0, 65535, &c->max_per_destination, err))
		return false;
	if (stage_config_has(cfg, "fragment-timeout") &&
	    !parse_seconds(cfg, "fragment-timeout", 1, 600, &c->fragment_timeout_s, err))
		return false;
	c->inside_address = default_inside_address(st, c);
	if (stage_config_has(cfg, "inside-address")) {
		char *v = stage_config_string(cfg, "inside-address", NULL);
		ok = ip4_parse(v, &c->inside_address);
		if (!ok)
			stage_config_error(cfg, "inside-address", err, "'%s' is not an IPv4 address", v);
		g_free(v);
		if (!ok)
			return false;
	}
	/* With overlapping, an external port is shared by several inside endpoints, told apart only by
	 * the remote endpoint: a packet from a remote that none of them contacted could be for any of
	 * them.  Only address-and-port-dependent filtering never has to choose. */
	if (c->port_overlapping && c->filtering != NAPT_APD) {
		stage_config_error(cfg, "port-overlapping", err, "needs filtering = address-and-port-dependent: with %s "
		                   "filtering a packet from a new remote to a shared port could belong to any inside host "
		                   "sharing it", dep_words[c->filtering]);
		return false;
	}
	/* conntrack keeps tuples, not mappings: the NAT's own entries (answer-unsolicited) hold a reply
	 * tuple that an inside host's mapping of the same port could not share without overlapping. */
	if (c->tracking == NAPT_TRACK_CONNTRACK && !c->port_overlapping) {
		stage_config_error(cfg, "tracking", err, "conntrack needs port-overlapping = yes: conntrack keeps only "
		                   "tuples, so an external port is shared by every destination");
		return false;
	}
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

gboolean napt_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct napt *nat = g_new0(struct napt, 1);
	char *pname = stage_config_string(cfg, "profile", NAPT_DEFAULT_PROFILE);
	const struct napt_profile *prof = profile_find(pname);

	st->priv = nat;
	nat->name = st->name;
	if (!prof) {
		const char *names[G_N_ELEMENTS(profiles)];
		GString *all = g_string_new(NULL);
		for (unsigned i = 0; i < G_N_ELEMENTS(profiles); i++) {
			names[i] = profiles[i].name;
			g_string_append_printf(all, "%s%s", i ? ", " : "", profiles[i].name);
		}
		const char *near = nearest_name(pname, names, G_N_ELEMENTS(profiles));
		stage_config_error(cfg, "profile", err, "unknown profile '%s' (%s)%s%s%s", pname, all->str,
		                   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		g_string_free(all, TRUE);
		g_free(pname);
		return FALSE;
	}
	g_free(pname);
	profile_apply(&nat->cfg, prof);
	if (!configure_keys(st, cfg, &nat->cfg, prof, err))
		return FALSE;
	memcpy(nat->ext_sorted, nat->cfg.external, sizeof nat->ext_sorted);
	qsort(nat->ext_sorted, nat->cfg.n_external, sizeof nat->ext_sorted[0], cmp_u32);
	nat->ext_min = nat->cfg.n_external ? nat->ext_sorted[0] : UINT32_MAX;
	nat->ext_max = nat->cfg.n_external ? nat->ext_sorted[nat->cfg.n_external - 1] : 0;
	for (unsigned t = 0; t < NAPT_TO_KEYED; t++)
		nat->timeout_ns[t] = (int64_t)nat->cfg.timeout_s[t] * 1000000000;
	/* A connection that idled out is remembered for another idle timeout, to answer it with a RST. */
	nat->timeout_ns[NAPT_TO_IDLE] = (int64_t)nat->cfg.timeout_s[NAPT_TO_TCP_ESTABLISHED] * 1000000000;
	nat->seq_cursor = nat->cfg.port_min;
	if (!napt_table_init(nat, nat->cfg.max_mappings)) {
		stage_config_error(cfg, "max-mappings", err, "cannot allocate a table of %u mappings", nat->cfg.max_mappings);
		if (err && *err)
			(*err)->code = SCENARIO_ERROR_MEMORY; /* the scenario is right; this machine is short */
		return FALSE;
	}
	nat->held = g_new0(struct napt_frag_held, NAPT_FRAG_HELD);
	return TRUE;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void napt_describe(const struct stage *st, GString *out)
{
	const struct napt *nat = st->priv;
	const struct napt_config *c = &nat->cfg;
	const struct napt_profile *p = profile_find(c->profile);
	char a[16];

	g_string_append_printf(out, "profile = %s\n# %s\n", c->profile, p ? p->summary : "");
	g_string_append(out, "external = ");
	for (unsigned i = 0; i < c->n_external; i++)
		g_string_append_printf(out, "%s%u.%u.%u.%u", i ? ", " : "", c->external[i] >> 24, (c->external[i] >> 16) & 0xff,
		                       (c->external[i] >> 8) & 0xff, c->external[i] & 0xff);
	g_string_append_printf(out, "\nports = %u-%u%s\n", c->port_min, c->port_max,
	                       !c->ports_set && c->alloc[c->n_alloc - 1] == napt_port_ops_find("linux") ?
	                       "\n# not set: the linux search keeps a port's class (1-511, 600-1023, 1024-65535)" : "");
	g_string_append_printf(out, "mapping = %s\n# %s: RFC 4787 section 4.1\n", dep_words[c->mapping],
	                       napt_dep_name(c->mapping, true, false));
	g_string_append_printf(out, "filtering = %s\n# %s: RFC 4787 section 5\n", dep_words[c->filtering],
	                       napt_dep_name(c->filtering, true, true));
	g_string_append(out, "port-allocation = ");
	for (unsigned i = 0; i < c->n_alloc; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "", c->alloc[i]->name);
	g_string_append(out, "\n");
	for (unsigned i = 0; i < c->n_alloc; i++)
		g_string_append_printf(out, "# %s: %s\n", c->alloc[i]->name, c->alloc[i]->summary);
	g_string_append_printf(out, "port-parity = %s\npooling = %s\nport-overlapping = %s\nhairpin = %s\n"
	                       "refresh-inbound = %s\n", yes_no(c->port_parity), pooling_words[c->pooling],
	                       yes_no(c->port_overlapping), yes_no(c->hairpin), yes_no(c->refresh_inbound));
	for (unsigned t = 0; t < NAPT_TO_KEYED; t++)
		g_string_append_printf(out, "%s = %u\n# %s\n", timeout_keys[t], c->timeout_s[t], timeout_whats[t]);
	g_string_append_printf(out, "max-mappings = %u\nmax-per-destination = %u%s\n", c->max_mappings,
	                       c->max_per_destination, c->max_per_destination ? "" : "\n# 0: no limit");
	g_string_append_printf(out, "exhaustion-icmp = %s\nidle-rst = %s\nfragments = %s\nfragment-timeout = %u\n"
	                       "other-protocols = %s\nmetrics = %s\ninside-address = %s\n", yes_no(c->exhaustion_icmp),
	                       yes_no(c->idle_rst), fragment_words[c->fragments], c->fragment_timeout_s,
	                       yes_no(c->other_protocols), c->aws_metrics ? "aws" : "natlb",
	                       ip4_to_str(c->inside_address, a));
	g_string_append_printf(out, "tracking = %s\n# %s\n", tracking_words[c->tracking],
	                       c->tracking == NAPT_TRACK_CONNTRACK ?
	                       "nf_conntrack: UDP stays on timeout-udp-unreplied until a packet after its reply, over 2 s in; "
	                       "[ASSURED] on TCP once established, never on ICMP" :
	                       "a reply makes a UDP or ICMP session a stream, shown [ASSURED]");
	g_string_append_printf(out, "answer-unsolicited = %s\n# %s\n", yes_no(c->answer_unsolicited),
	                       c->answer_unsolicited ? "a packet to the NAT that no session expects is answered: TCP RST, "
	                       "ICMP 3/3 for UDP, as a Linux router's own stack does" :
	                       "a packet to the NAT that no session expects is dropped silently");
	g_string_append_printf(out, "ports-icmp = %s\n# %s\n", yes_no(c->ports_icmp),
	                       c->ports_icmp ? "ports bounds ICMP query identifiers too" :
	                       "ports bounds TCP and UDP only, as iptables --to-ports; ICMP identifiers: 0-65535");
}
