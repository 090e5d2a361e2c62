/* nat/static_nat.c: static NAT, the "Basic NAT" of RFC 2663 section 4.1, prefixes mapped like iptables NETMAP.
 *
 * Each rule pairs an inside prefix with an outside prefix of the same length; the host bits are
 * kept, so 10.0.1.7 behind "10.0.1.0/24 192.0.2.0/24" is 192.0.2.7 outside.  Going left to right
 * (in2out) the source is translated, going right to left (out2in) the destination.  An ICMP error
 * has the packet it quotes translated the other way round, so the host that receives it can match
 * it to its own connection (RFC 5508 REQ-4).  A packet that matches no rule crosses unchanged, as
 * with iptables.  No state: the table is the rules themselves.
 *
 * Rules may overlap; the most specific one wins, as in a route table: going out, the rule with the
 * longest inside prefix holding the source; coming in, the longest outside prefix holding the
 * destination.  Invariant: a translated address maps back through the same rule.  Going out this
 * holds by configure()'s check (no rule's outside range takes addresses that a wider rule gives
 * to other inside hosts); coming in, a wider rule's image of a host that a narrower rule maps
 * elsewhere (192.0.2.7 under "10.0.1.0/24 192.0.2.0/24; 10.0.1.7 203.0.113.7") is not translated.
 */
#include <string.h>

#include "common/note.h"
#include "common/packet.h"
#include "common/rewrite.h"
#include "common/scenario.h"
#include "nat/static_nat.h"

#define STATIC_NAT_MAX_RULES 256

struct static_nat_rule {
	struct ip4_prefix inside, outside;
	uint64_t hits[2]; /* per enum hop_dir */
};

struct static_nat {
	struct static_nat_rule rules[STATIC_NAT_MAX_RULES];
	unsigned n_rules;
	bool nested; /* a rule's prefix lies in another's, on either side: lookups need the longest match */
};

static const char *const static_nat_keys[] = { "map", NULL };

/* NETMAP: keep the host bits, replace the network bits. */
static uint32_t netmap(uint32_t addr, const struct ip4_prefix *to)
{
	uint32_t mask = ip4_prefix_mask(to->len);
	return (addr & ~mask) | to->addr;
}

/* The rule with the longest inside (or outside) prefix that holds addr, ignoring whether it maps
 * back; -1 when none.  Two rules never share a prefix on one side (configure() refuses it), so the
 * longest is unique. */
static int static_nat_longest_match(const struct static_nat *nat, uint32_t addr, bool outside)
{
	int best = -1;
	for (unsigned i = 0; i < nat->n_rules; i++) {
		const struct ip4_prefix *pfx = outside ? &nat->rules[i].outside : &nat->rules[i].inside;
		if (ip4_prefix_contains(pfx, addr) &&
		    (best < 0 || pfx->len > (outside ? nat->rules[best].outside.len : nat->rules[best].inside.len)))
			best = (int)i;
	}
	return best;
}

/* With nested rules: the longest match, and from the outside only if the inside address it gives
 * goes back out through the same rule. */
static int rule_find_nested(const struct static_nat *nat, uint32_t addr, bool outside)
{
	int r = static_nat_longest_match(nat, addr, outside);
	if (r >= 0 && outside && static_nat_longest_match(nat, netmap(addr, &nat->rules[r].inside), false) != r)
		return -1;
	return r;
}

/* The rule that translates addr coming from the inside (outside false) or from the outside; -1
 * when none does.  Without nesting, at most one rule holds addr, and its inside prefix holds no
 * other rule's: the first match is the longest, and it maps back through itself.  Routing asks
 * this for every packet (claims), so the common map of disjoint rules takes this short loop. */
static inline int static_nat_rule_find(const struct static_nat *nat, uint32_t addr, bool outside)
{
	if (nat->nested)
		return rule_find_nested(nat, addr, outside);
	for (unsigned i = 0; i < nat->n_rules; i++)
		if (ip4_prefix_contains(outside ? &nat->rules[i].outside : &nat->rules[i].inside, addr))
			return (int)i;
	return -1;
}

static bool prefix_equal(const struct ip4_prefix *a, const struct ip4_prefix *b)
{
	return a->addr == b->addr && a->len == b->len;
}

/* Does outer hold every address of inner? */
static bool prefix_covers(const struct ip4_prefix *outer, const struct ip4_prefix *inner)
{
	return outer->len <= inner->len && ip4_prefix_contains(outer, inner->addr);
}

/* "rule 2 (10.0.1.0/24 192.0.2.0/24)", for messages that name two rules. */
static char *rule_name(const struct static_nat *nat, unsigned i)
{
	char a[19], b[19];
	return g_strdup_printf("rule %u (%s %s)", i + 1, ip4_prefix_to_str(&nat->rules[i].inside, a),
	                       ip4_prefix_to_str(&nat->rules[i].outside, b));
}

/* Would narrow's outside range, inside wide's, also be where wide sends other inside hosts?  Those
 * hosts are wide's preimage of it; fine when narrow is that preimage (the two agree), or when a
 * rule more specific than wide takes all of it elsewhere (a single covering rule: a preimage split
 * between several rules is refused, which is stricter than needed).  The preimage in *hosts. */
static bool steals_outside(const struct static_nat *nat, unsigned narrow, unsigned wide, struct ip4_prefix *hosts)
{
	const struct static_nat_rule *n = &nat->rules[narrow], *w = &nat->rules[wide];

	if (n->outside.len <= w->outside.len || !prefix_covers(&w->outside, &n->outside))
		return false;
	hosts->addr = netmap(n->outside.addr, &w->inside);
	hosts->len = n->outside.len;
	if (prefix_equal(hosts, &n->inside))
		return false;
	for (unsigned i = 0; i < nat->n_rules; i++)
		if (nat->rules[i].inside.len > w->inside.len && prefix_covers(&nat->rules[i].inside, hosts))
			return false;
	return true;
}

/* Refuse what the longest prefix cannot settle: two rules for one inside prefix, two for one
 * outside prefix, or a rule whose outside range a wider rule also gives to other inside hosts
 * (a reply to such an address could be for either host). */
static gboolean static_nat_check_rules(const struct static_nat *nat, const struct stage_config *cfg, GError **err)
{
	char a[19], b[19];

	for (unsigned j = 1; j < nat->n_rules; j++)
		for (unsigned i = 0; i < j; i++) {
			const struct static_nat_rule *ri = &nat->rules[i], *rj = &nat->rules[j];
			char *ni = rule_name(nat, i), *nj = rule_name(nat, j);
			struct ip4_prefix hosts;
			gboolean ok = FALSE;
			if (prefix_equal(&ri->inside, &rj->inside))
				stage_config_error(cfg, "map", err, "%s and %s both map inside %s: a packet from it "
				                   "could take either", nj, ni, ip4_prefix_to_str(&ri->inside, a));
			else if (prefix_equal(&ri->outside, &rj->outside))
				stage_config_error(cfg, "map", err, "%s and %s both map to outside %s: a reply to it "
				                   "could be for either inside host", nj, ni, ip4_prefix_to_str(&ri->outside, a));
			else if (steals_outside(nat, j, i, &hosts) || steals_outside(nat, i, j, &hosts)) {
				bool j_narrow = rj->outside.len > ri->outside.len;
				const struct static_nat_rule *narrow = j_narrow ? rj : ri;
				stage_config_error(cfg, "map", err, "%s takes outside %s from %s, which sends %s out as %s too: "
				                   "a reply to it could be for either inside host", j_narrow ? nj : ni,
				                   ip4_prefix_to_str(&narrow->outside, a), j_narrow ? ni : nj,
				                   ip4_prefix_to_str(&hosts, b), ip4_prefix_to_str(&narrow->outside, a));
			} else
				ok = TRUE;
			g_free(ni);
			g_free(nj);
			if (!ok)
				return FALSE;
		}
	return TRUE;
}

/* One "inside outside" item of the map key into *r; false with err set. */
static gboolean static_nat_rule_parse(const struct stage_config *cfg, const char *item, struct static_nat_rule *r,
                                      GError **err)
{
	char **words = g_strsplit_set(item, " \t", -1);
	const char *pair[2] = { NULL, NULL };
	unsigned n = 0; /* words other than an optional "->" between the two sides */
	GError *perr = NULL;
	gboolean ok = FALSE;

	for (char **w = words; *w; w++) {
		if (**w == '\0' || strcmp(*w, "->") == 0)
			continue;
		if (n < 2)
			pair[n] = *w;
		n++;
	}
	if (n != 2)
		stage_config_error(cfg, "map", err, "'%s' should be two addresses or prefixes, inside first "
		                   "(10.0.0.5 203.0.113.5)", item);
	else if (!ip4_prefix_parse(pair[0], &r->inside, &perr) || !ip4_prefix_parse(pair[1], &r->outside, &perr))
		stage_config_error(cfg, "map", err, "%s", perr->message);
	else if (r->inside.len != r->outside.len)
		stage_config_error(cfg, "map", err, "'%s': both sides need the same prefix length "
		                   "(/%u and /%u), host bits map one to one", item, r->inside.len, r->outside.len);
	else
		ok = TRUE;
	g_clear_error(&perr);
	g_strfreev(words);
	return ok;
}

static gboolean static_nat_configure(struct stage *st, const struct stage_config *cfg, GError **err)
{
	struct static_nat *nat = g_new0(struct static_nat, 1);
	char **items = stage_config_list(cfg, "map");
	gboolean ok = FALSE;

	st->priv = nat;
	if (!items || !items[0]) {
		stage_config_error(cfg, "map", err, "a static-nat stage needs at least one rule "
		                   "(map = 10.0.0.5 203.0.113.5; 10.0.1.0/24 192.0.2.0/24)");
		goto out;
	}
	for (char **it = items; *it; it++) {
		struct static_nat_rule *r = &nat->rules[nat->n_rules];
		if (nat->n_rules == STATIC_NAT_MAX_RULES) {
			stage_config_error(cfg, "map", err, "more than %d rules", STATIC_NAT_MAX_RULES);
			goto out;
		}
		if (!static_nat_rule_parse(cfg, *it, r, err))
			goto out;
		nat->n_rules++;
	}
	ok = static_nat_check_rules(nat, cfg, err);
	for (unsigned j = 1; j < nat->n_rules; j++)
		for (unsigned i = 0; i < j; i++) {
			const struct static_nat_rule *ri = &nat->rules[i], *rj = &nat->rules[j];
			nat->nested = nat->nested || prefix_covers(&ri->inside, &rj->inside) ||
			              prefix_covers(&rj->inside, &ri->inside) || prefix_covers(&ri->outside, &rj->outside) ||
			              prefix_covers(&rj->outside, &ri->outside);
		}
out:
	g_strfreev(items);
	return ok;
}

static void static_nat_describe(const struct stage *st, GString *out)
{
	const struct static_nat *nat = st->priv;
	char a[19], b[19];

	g_string_append(out, "map = ");
	for (unsigned i = 0; i < nat->n_rules; i++)
		g_string_append_printf(out, "%s%s %s", i ? "; " : "", ip4_prefix_to_str(&nat->rules[i].inside, a),
		                       ip4_prefix_to_str(&nat->rules[i].outside, b));
	g_string_append(out, "\n# the most specific rule wins; a packet no rule covers crosses untranslated\n");
}

static bool static_nat_claims(const struct stage *st, uint32_t addr, enum side side)
{
	return side == SIDE_RIGHT && static_nat_rule_find(st->priv, addr, true) >= 0;
}

/* Translate one address of ip if a rule covers it; returns the rule index or -1. */
static int translate(struct static_nat *nat, struct packet *p, struct ip4_view *ip, enum ip4_endpoint which,
                     bool from_outside, uint32_t *before, uint32_t *after)
{
	uint32_t addr = which == ENDPOINT_SRC ? ip->src : ip->dst;
	int r = static_nat_rule_find(nat, addr, from_outside);
	*before = *after = addr;
	if (r < 0)
		return -1;
	const struct static_nat_rule *rule = &nat->rules[r];
	*after = netmap(addr, from_outside ? &rule->inside : &rule->outside);
	rewrite_ip4_addr(p, ip, which, *after);
	return r;
}

/* Why a wider rule's outside address is not translated in: " (rule 1 would map it to 10.0.1.7,
 * which rule 2 maps to 203.0.113.7)"; nothing when no rule holds addr at all. */
static void note_shadowed(const struct static_nat *nat, uint32_t addr, GString *note)
{
	int wide = static_nat_longest_match(nat, addr, true);
	if (wide < 0)
		return;
	uint32_t host = netmap(addr, &nat->rules[wide].inside);
	int narrow = static_nat_longest_match(nat, host, false);
	char b1[16], b2[16];
	note_appendf(note, " (rule %d would map it to %s, which rule %d maps to %s)", wide + 1, ip4_to_str(host, b1),
	             narrow + 1, ip4_to_str(netmap(host, &nat->rules[narrow].outside), b2));
}

static enum verdict static_nat_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct static_nat *nat = st->priv;
	bool out = dir == DIR_LEFT_TO_RIGHT;
	/* in2out: the source is an inside address; out2in: the destination is an outside one. */
	enum ip4_endpoint outer_field = out ? ENDPOINT_SRC : ENDPOINT_DST;
	uint32_t before, after, qb = 0, qa = 0;
	char b1[16], b2[16];

	int r = translate(nat, p, &p->ip, outer_field, !out, &before, &after);
	/* The quoted packet travelled the other way: its other endpoint is the one to translate. */
	int qr = -1;
	if (p->has_inner)
		qr = translate(nat, p, &p->inner, out ? ENDPOINT_DST : ENDPOINT_SRC, !out, &qb, &qa);
	if (r >= 0) {
		/* "SNAT 10.0.0.5 -> 203.0.113.5 (rule 1)" after the loop's "static-nat office: ", on every
		 * packet: no printf. */
		nat->rules[r].hits[dir]++;
		g_string_append(ctx->note, out ? "SNAT " : "DNAT ");
		note_append_ip4(ctx->note, before);
		g_string_append(ctx->note, " -> ");
		note_append_ip4(ctx->note, after);
		g_string_append(ctx->note, " (rule ");
		note_append_uint(ctx->note, (unsigned)r + 1);
		g_string_append_c(ctx->note, ')');
	} else {
		note_appendf(ctx->note, "no rule for %s %s, %s", out ? "source" : "destination",
		             ip4_to_str(before, b1), qr >= 0 ? "kept" : "crossed untranslated");
		if (!out)
			note_shadowed(nat, before, ctx->note);
	}
	if (qr >= 0) {
		nat->rules[qr].hits[dir]++;
		note_appendf(ctx->note, "; quoted packet's %s %s -> %s", out ? "destination" : "source",
		             ip4_to_str(qb, b1), ip4_to_str(qa, b2));
	}
	return VERDICT_FORWARD;
}

/* Could addr have left the stage as it is?  Not if a rule covers it on the side it came from:
 * such an address is always translated.  Says why in ctx->note when not. */
static bool could_leave_as_is(const struct static_nat *nat, uint32_t addr, bool came_from_outside,
                              struct stage_ctx *ctx, const char *stage_name)
{
	char b1[16], b2[16];

	if (static_nat_rule_find(nat, addr, !came_from_outside) >= 0)
		return true; /* a translated address: undoing it is the job */
	int r = static_nat_rule_find(nat, addr, came_from_outside);
	if (r < 0)
		return true; /* no rule covers it: it crossed untranslated */
	note_appendf(ctx->note, "static-nat %s always translates %s to %s (rule %d)", stage_name, ip4_to_str(addr, b1),
	             ip4_to_str(netmap(addr, came_from_outside ? &nat->rules[r].inside : &nat->rules[r].outside), b2),
	             r + 1);
	return false;
}

static enum reverse_answer static_nat_reverse(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct static_nat *nat = st->priv;
	bool out = dir == DIR_LEFT_TO_RIGHT;
	enum ip4_endpoint outer = out ? ENDPOINT_SRC : ENDPOINT_DST, quoted = out ? ENDPOINT_DST : ENDPOINT_SRC;
	uint32_t before, after;

	/* Check both addresses before touching either: a failed reverse leaves the packet as it was. */
	if (!could_leave_as_is(nat, outer == ENDPOINT_SRC ? p->ip.src : p->ip.dst, !out, ctx, st->name))
		return REVERSE_IMPOSSIBLE;
	if (p->has_inner &&
	    !could_leave_as_is(nat, quoted == ENDPOINT_SRC ? p->inner.src : p->inner.dst, !out, ctx, st->name))
		return REVERSE_IMPOSSIBLE;
	/* After in2out the address is an outside one: map it back inside; and the converse. */
	translate(nat, p, &p->ip, outer, out, &before, &after);
	if (p->has_inner)
		translate(nat, p, &p->inner, quoted, out, &before, &after);
	return REVERSE_TRANSLATED;
}

static void static_nat_stats_print(const struct stage *st, GString *out)
{
	const struct static_nat *nat = st->priv;
	char a[19], b[19];

	for (unsigned i = 0; i < nat->n_rules; i++)
		g_string_append_printf(out, "    rule %u %s <-> %s: %" G_GUINT64_FORMAT " SNAT, %" G_GUINT64_FORMAT " DNAT\n",
		                       i + 1, ip4_prefix_to_str(&nat->rules[i].inside, a),
		                       ip4_prefix_to_str(&nat->rules[i].outside, b),
		                       nat->rules[i].hits[DIR_LEFT_TO_RIGHT], nat->rules[i].hits[DIR_RIGHT_TO_LEFT]);
}

static void static_nat_destroy(struct stage *st)
{
	g_free(st->priv);
}

const struct stage_ops static_nat_ops = {
	.type = "static-nat",
	.summary = "one-to-one NAT of hosts or prefixes, like iptables NETMAP (RFC 2663 4.1)",
	.keys = static_nat_keys,
	.configure = static_nat_configure,
	.describe = static_nat_describe,
	.claims = static_nat_claims,
	.routes = true,
	.process = static_nat_process,
	.reverse = static_nat_reverse,
	.stats_print = static_nat_stats_print,
	.destroy = static_nat_destroy,
};
