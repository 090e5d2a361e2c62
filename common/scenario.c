/* common/scenario.c: reading a scenario key file into links and a chain of stages (DESIGN.md, "The scenario format").
 *
 * Every error names the file, the line, the group and the key, and suggests the nearest valid
 * name when one is close: a teacher editing a lesson five minutes before class should not have
 * to guess.
 */
#include <stdarg.h>
#include <string.h>

#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"

G_DEFINE_QUARK(natlb-scenario-error-quark, scenario_error)

static const char *const scenario_keys[] = { "description", "chain", "capture", "routers" };
static const char *const link_keys[] = { "description", "networks" };
static const char *const prefix_list_keys[] = { "description", "prefixes" };
static const char *const group_kinds[] = { "scenario", "link NAME", "stage NAME", "prefix-list NAME" };

/* The line of [group] (key NULL) or of "key =" inside it, for messages; 0 when not found. */
static unsigned text_line_of(const char *text, const char *group, const char *key)
{
	unsigned line = 0, found_group = 0;
	gboolean in_group = FALSE;
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *l = g_strstrip(g_strndup(p, n));
		line++;
		if (l[0] == '[') {
			char *end = strrchr(l, ']');
			if (end)
				*end = '\0';
			in_group = g_strcmp0(g_strstrip(l + 1), group) == 0;
			if (in_group && !found_group)
				found_group = line;
		} else if (in_group && key) {
			char *eq = strchr(l, '=');
			if (eq) {
				*eq = '\0';
				if (g_strcmp0(g_strstrip(l), key) == 0) {
					g_free(l);
					return line;
				}
			}
		}
		g_free(l);
		p = eol ? eol + 1 : NULL;
	}
	return found_group;
}

#define ECHO_MAX 80 /* characters of a value a message repeats, and of a group or key name */

/* s (n bytes), or its first ECHO_MAX - 3 characters and "..." when it is longer than ECHO_MAX:
 * a message should fit a terminal line and say what is wrong, not repeat a pasted page. */
static void append_cut(GString *out, const char *s, size_t n)
{
	bool utf8 = g_utf8_validate(s, (gssize)n, NULL);
	size_t chars = utf8 ? (size_t)g_utf8_strlen(s, (gssize)n) : n;
	if (chars <= ECHO_MAX) {
		g_string_append_len(out, s, (gssize)n);
		return;
	}
	const char *cut = utf8 ? g_utf8_offset_to_pointer(s, ECHO_MAX - 3) : s + ECHO_MAX - 3;
	g_string_append_len(out, s, cut - s);
	g_string_append(out, "...");
}

/* msg with every echoed value, between 'quotes' (an opening one not after a letter: "stage's"
 * is no quote) or GKeyFile's curly ones, cut by append_cut(). */
static void append_cut_echoes(GString *out, const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *open = NULL, *close_mark = NULL;
		if (*p == '\'' && (p == msg || !g_ascii_isalnum(p[-1]))) {
			open = p + 1;
			close_mark = "'";
		} else if (g_str_has_prefix(p, "\u201c")) {
			open = p + strlen("\u201c");
			close_mark = "\u201d";
		}
		const char *close = open ? strstr(open, close_mark) : NULL;
		if (!close) {
			g_string_append_c(out, *p++);
			continue;
		}
		g_string_append_len(out, p, open - p);
		append_cut(out, open, (size_t)(close - open));
		g_string_append(out, close_mark);
		p = close + strlen(close_mark);
	}
}

/* "SOURCE:LINE: [group] key: MESSAGE", the line when group (and key) are found in text. */
static char *message_at(const char *source, const char *text, const char *group, const char *key, const char *fmt,
                        va_list ap)
{
	char *msg = g_strdup_vprintf(fmt, ap);
	unsigned line = group ? text_line_of(text, group, key) : 0;
	GString *where = g_string_new(source);

	if (line)
		g_string_append_printf(where, ":%u", line);
	g_string_append(where, ": ");
	if (group) {
		g_string_append_c(where, '[');
		append_cut(where, group, strlen(group));
		g_string_append(where, "] ");
	}
	if (key) {
		append_cut(where, key, strlen(key));
		g_string_append(where, ": ");
	}
	append_cut_echoes(where, msg);
	g_free(msg);
	return g_string_free(where, FALSE);
}

static void set_error_at(GError **err, int code, const char *source, const char *text,
                         const char *group, const char *key, const char *fmt, va_list ap)
{
	char *msg = message_at(source, text, group, key, fmt, ap);
	g_set_error_literal(err, SCENARIO_ERROR, code, msg);
	g_free(msg);
}

static void scenario_error(GError **err, int code, const char *source, const char *text,
                           const char *group, const char *key, const char *fmt, ...) G_GNUC_PRINTF(7, 8);
static void scenario_error(GError **err, int code, const char *source, const char *text,
                           const char *group, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_at(err, code, source, text, group, key, fmt, ap);
	va_end(ap);
}

void stage_config_error(const struct stage_config *cfg, const char *key, GError **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error_at(err, SCENARIO_ERROR_VALUE, cfg->source, cfg->text, cfg->group, key, fmt, ap);
	va_end(ap);
}

void stage_config_warn(const struct stage_config *cfg, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_ptr_array_add(cfg->warnings, message_at(cfg->source, cfg->text, cfg->group, key, fmt, ap));
	va_end(ap);
}

static void scenario_warn(struct scenario *sc, const char *text, const char *group, const char *key,
                          const char *fmt, ...) G_GNUC_PRINTF(5, 6);
static void scenario_warn(struct scenario *sc, const char *text, const char *group, const char *key,
                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_ptr_array_add(sc->warnings, message_at(sc->source, text, group, key, fmt, ap));
	va_end(ap);
}

const GPtrArray *scenario_warnings(const struct scenario *sc)
{
	return sc->warnings;
}

static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (lb >= G_N_ELEMENTS(row))
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
			diag = up;
		}
	}
	return row[lb];
}

const char *nearest_name(const char *word, const char *const *candidates, unsigned n)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (unsigned i = 0; i < n; i++) {
		unsigned d = edit_distance(word, candidates[i]);
		if (d < best_d || (!best && strlen(word) >= 3 && g_str_has_prefix(candidates[i], word))) {
			best = candidates[i];
			best_d = MIN(d, best_d);
		}
	}
	return best;
}

/* " (did you mean 'x'?)" or "", into a static-free caller buffer. */
static const char *hint(char *buf, size_t size, const char *word, const char *const *cands, unsigned n)
{
	const char *near = nearest_name(word, cands, n);
	if (near)
		g_snprintf(buf, size, " (did you mean '%s'?)", near);
	else
		buf[0] = '\0';
	return buf;
}

static char **split_list(const char *value, const char *separators)
{
	char **parts = g_strsplit_set(value, separators, -1);
	GPtrArray *out = g_ptr_array_new();

	for (char **p = parts; *p; p++) {
		char *item = g_strstrip(*p);
		if (*item)
			g_ptr_array_add(out, g_strdup(item));
	}
	g_strfreev(parts);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

gboolean stage_config_has(const struct stage_config *cfg, const char *key)
{
	return g_key_file_has_key(cfg->kf, cfg->group, key, NULL);
}

char *stage_config_string(const struct stage_config *cfg, const char *key, const char *def)
{
	char *v = g_key_file_get_string(cfg->kf, cfg->group, key, NULL);
	if (!v)
		return g_strdup(def);
	return g_strstrip(v);
}

char **stage_config_list(const struct stage_config *cfg, const char *key)
{
	char *v = g_key_file_get_string(cfg->kf, cfg->group, key, NULL);
	if (!v)
		return NULL;
	char **list = split_list(v, ";,");
	g_free(v);
	return list;
}

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

static const struct duration_unit {
	const char *suffix;
	int64_t ns;
} duration_units[] = {
	{ "", NS_PER_S }, /* a plain number counts seconds, as every timeout in the lessons did */
	{ "ms", NS_PER_S / 1000 }, { "s", NS_PER_S }, { "m", 60 * NS_PER_S }, { "min", 60 * NS_PER_S },
	{ "h", 3600 * NS_PER_S },
};

/* Digits [. digits] then a unit; integer arithmetic only, so "0.1s" is exactly 100 ms. */
gboolean duration_parse(const char *text, int64_t *ns, const char **why)
{
	const char *p = text;
	guint64 whole = 0, frac = 0, frac_scale = 1;
	gboolean digits = FALSE, too_long = FALSE;

	*why = "is not a duration (350, 350s, 1.5s, 500ms, 5m, 1h)";
	while (g_ascii_isspace(*p))
		p++;
	if (*p == '-') {
		*why = "is negative: a duration counts forward from 0";
		return FALSE;
	}
	for (; g_ascii_isdigit(*p); p++) {
		too_long = too_long || !g_uint64_checked_mul(&whole, whole, 10) ||
		           !g_uint64_checked_add(&whole, whole, (guint64)(*p - '0'));
		digits = TRUE;
	}
	if (*p == '.')
		for (p++; g_ascii_isdigit(*p); p++) {
			if (frac_scale < (guint64)NS_PER_S) { /* digits past a nanosecond do not count */
				frac = frac * 10 + (guint64)(*p - '0');
				frac_scale *= 10;
			}
			digits = TRUE;
		}
	while (g_ascii_isspace(*p))
		p++;
	if (!digits)
		return FALSE;
	const struct duration_unit *unit = NULL;
	for (unsigned i = 0; i < G_N_ELEMENTS(duration_units); i++)
		if (strcmp(p, duration_units[i].suffix) == 0)
			unit = &duration_units[i];
	if (!unit)
		return FALSE;
	guint64 total;
	too_long = too_long || !g_uint64_checked_mul(&total, whole, (guint64)unit->ns) ||
	           !g_uint64_checked_add(&total, total, frac * ((guint64)unit->ns / frac_scale)) ||
	           total > (guint64)G_MAXINT64;
	if (too_long) {
		*why = "is too long a duration to count in nanoseconds";
		return FALSE;
	}
	*ns = (int64_t)total;
	return TRUE;
}

void duration_append(GString *out, int64_t ns)
{
	if (ns % NS_PER_S == 0)
		g_string_append_printf(out, "%" G_GINT64_FORMAT "s", ns / NS_PER_S);
	else if (ns % (NS_PER_S / 1000) == 0)
		g_string_append_printf(out, "%" G_GINT64_FORMAT "ms", ns / (NS_PER_S / 1000));
	else
		g_string_append_printf(out, "%.9fs", (double)ns / NS_PER_S);
}

gboolean stage_config_duration(const struct stage_config *cfg, const char *key, int64_t def_ns, int64_t min_ns,
                               int64_t max_ns, int64_t *ns, GError **err)
{
	char *v = stage_config_string(cfg, key, NULL);
	const char *why = NULL;
	gboolean ok = TRUE;

	if (!v) {
		*ns = def_ns;
		return TRUE;
	}
	int64_t parsed = 0;
	if (!duration_parse(v, &parsed, &why)) {
		stage_config_error(cfg, key, err, "'%s' %s", v, why);
		ok = FALSE;
	} else if (parsed < min_ns || parsed > max_ns) {
		GString *lo = g_string_new(NULL), *hi = g_string_new(NULL);
		duration_append(lo, min_ns);
		duration_append(hi, max_ns);
		stage_config_error(cfg, key, err, "'%s' is out of range (%s to %s)", v, lo->str, hi->str);
		g_string_free(lo, TRUE);
		g_string_free(hi, TRUE);
		ok = FALSE;
	} else {
		*ns = parsed;
	}
	g_free(v);
	return ok;
}

/* "rule.*" names a family of keys (rule.10, rule.20): the prefix and a name after it. */
static gboolean key_matches(const char *allowed, const char *key)
{
	size_t n = strlen(allowed);
	if (n >= 2 && allowed[n - 1] == '*' && allowed[n - 2] == '.')
		return strncmp(allowed, key, n - 1) == 0 && key[n - 1] != '\0';
	return strcmp(allowed, key) == 0;
}

/* Check that every key of group is one of allowed[] (plus extra[], may be NULL). */
static gboolean check_keys(GKeyFile *kf, const char *group, const char *const *allowed, unsigned n_allowed,
                           const char *const *extra, const char *source, const char *text, GError **err)
{
	char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
	const char *all[64];
	unsigned n = 0;
	gboolean ok = TRUE;
	char h[96];

	for (unsigned i = 0; i < n_allowed && n < G_N_ELEMENTS(all); i++)
		all[n++] = allowed[i];
	for (unsigned i = 0; extra && extra[i] && n < G_N_ELEMENTS(all); i++)
		all[n++] = extra[i];
	for (char **k = keys; ok && k && *k; k++) {
		gboolean known = FALSE;
		for (unsigned i = 0; i < n; i++)
			known = known || key_matches(all[i], *k);
		if (!known) {
			scenario_error(err, SCENARIO_ERROR_KEY, source, text, group, *k,
			               "unknown key%s", hint(h, sizeof h, *k, all, n));
			ok = FALSE;
		}
	}
	g_strfreev(keys);
	return ok;
}

static struct link *link_find(struct scenario *sc, const char *name)
{
	for (unsigned i = 0; i < sc->n_links; i++)
		if (strcmp(sc->links[i].name, name) == 0)
			return &sc->links[i];
	return NULL;
}

static gboolean parse_link(struct scenario *sc, struct link *l, GKeyFile *kf, const char *text, GError **err)
{
	char *group = g_strdup_printf("link %s", l->name);
	gboolean ok = FALSE;
	char *nets = NULL;
	char **items = NULL;

	if (!check_keys(kf, group, link_keys, G_N_ELEMENTS(link_keys), NULL, sc->source, text, err))
		goto out;
	l->description = g_key_file_get_string(kf, group, "description", NULL);
	if (l->description)
		g_strstrip(l->description);
	nets = g_key_file_get_string(kf, group, "networks", NULL);
	items = split_list(nets ? nets : "", ";, ");
	for (char **p = items; *p; p++) {
		GError *perr = NULL;
		if (l->n_networks == LINK_MAX_NETWORKS) {
			scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, group, "networks",
			               "more than %d networks", LINK_MAX_NETWORKS);
			goto out;
		}
		if (!ip4_prefix_parse(*p, &l->networks[l->n_networks], &perr)) {
			scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, group, "networks", "%s", perr->message);
			g_error_free(perr);
			goto out;
		}
		l->n_networks++;
	}
	ok = TRUE;
out:
	g_strfreev(items);
	g_free(nets);
	g_free(group);
	return ok;
}

static gboolean parse_stage(struct scenario *sc, const struct stage_registry *types, unsigned idx, const char *name,
                            GKeyFile *kf, const char *text, GError **err)
{
	char *group = g_strdup_printf("stage %s", name);
	char *type = g_key_file_get_string(kf, group, "type", NULL);
	struct stage *st = NULL;
	gboolean ok = FALSE;
	char h[96];

	if (!type) {
		GString *names = g_string_new(NULL);
		for (unsigned i = 0; i < types->n; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "", types->types[i]->type);
		scenario_error(err, SCENARIO_ERROR_KEY, sc->source, text, group, NULL,
		               "missing key 'type' (one of: %s)", names->str);
		g_string_free(names, TRUE);
		goto out;
	}
	g_strstrip(type);
	const struct stage_ops *ops = stage_registry_find(types, type);
	if (!ops) {
		const char *names[STAGE_TYPES_MAX];
		for (unsigned i = 0; i < types->n; i++)
			names[i] = types->types[i]->type;
		scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, group, "type",
		               "unknown stage type '%s'%s", type, hint(h, sizeof h, type, names, types->n));
		goto out;
	}
	static const char *const common_keys[] = { "type", "description" };
	if (!check_keys(kf, group, common_keys, G_N_ELEMENTS(common_keys), ops->keys, sc->source, text, err))
		goto out;
	st = g_new0(struct stage, 1);
	st->ops = ops;
	st->name = g_strdup(name);
	st->index = idx;
	st->left = &sc->links[idx];
	st->right = &sc->links[idx + 1];
	sc->stages[idx] = st;
	sc->n_stages = MAX(sc->n_stages, idx + 1);
	struct stage_config cfg = { .kf = kf, .group = group, .source = sc->source, .text = text, .scenario = sc,
		                    .warnings = sc->warnings };
	ok = ops->configure(st, &cfg, err);
out:
	g_free(type);
	g_free(group);
	return ok;
}

/* [prefix-list NAME] groups, in file order: "prefixes = 52.216.0.0/15, 3.5.0.0/19", each a
 * prefix in RFC 4632 notation, none twice (an AWS prefix list holds each CIDR once). */
static gboolean parse_prefix_lists(struct scenario *sc, GKeyFile *kf, const char *text, GError **err)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	gboolean ok = TRUE;
	unsigned n = 0;

	for (char **g = groups; *g; g++)
		n += g_str_has_prefix(*g, "prefix-list ");
	sc->prefix_lists = g_new0(struct prefix_list, n);
	for (char **g = groups; ok && *g; g++) {
		if (!g_str_has_prefix(*g, "prefix-list "))
			continue;
		struct prefix_list *pl = &sc->prefix_lists[sc->n_prefix_lists++];
		char *value = NULL;
		char **items = NULL;
		pl->name = g_strstrip(g_strdup(*g + strlen("prefix-list ")));
		if (!*pl->name || strpbrk(pl->name, " \t")) {
			scenario_error(err, SCENARIO_ERROR_GROUP, sc->source, text, *g, NULL,
			               "a prefix list needs a one-word name, like [prefix-list pl-s3]");
			ok = FALSE;
			goto next;
		}
		if (!check_keys(kf, *g, prefix_list_keys, G_N_ELEMENTS(prefix_list_keys), NULL, sc->source, text, err)) {
			ok = FALSE;
			goto next;
		}
		pl->description = g_key_file_get_string(kf, *g, "description", NULL);
		if (pl->description)
			g_strstrip(pl->description);
		value = g_key_file_get_string(kf, *g, "prefixes", NULL);
		items = split_list(value ? value : "", ";, ");
		if (!items[0]) {
			scenario_error(err, SCENARIO_ERROR_KEY, sc->source, text, *g, value ? "prefixes" : NULL,
			               "%s (like: prefixes = 52.216.0.0/15, 3.5.0.0/19)",
			               value ? "no prefix given" : "missing key 'prefixes'");
			ok = FALSE;
			goto next;
		}
		pl->prefixes = g_new0(struct ip4_prefix, g_strv_length(items));
		for (char **it = items; ok && *it; it++) {
			GError *perr = NULL;
			struct ip4_prefix *pfx = &pl->prefixes[pl->n_prefixes];
			if (!ip4_prefix_parse(*it, pfx, &perr)) {
				scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, *g, "prefixes", "%s", perr->message);
				g_error_free(perr);
				ok = FALSE;
				break;
			}
			for (unsigned j = 0; ok && j < pl->n_prefixes; j++)
				if (pl->prefixes[j].addr == pfx->addr && pl->prefixes[j].len == pfx->len) {
					scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, *g, "prefixes",
					               "'%s' appears twice", *it);
					ok = FALSE;
				}
			pl->n_prefixes++;
		}
next:
		g_strfreev(items);
		g_free(value);
	}
	g_strfreev(groups);
	return ok;
}

const struct prefix_list *scenario_prefix_list(const struct scenario *sc, const char *name)
{
	for (unsigned i = 0; i < sc->n_prefix_lists; i++)
		if (strcmp(sc->prefix_lists[i].name, name) == 0)
			return &sc->prefix_lists[i];
	return NULL;
}

/* "lan > office > internet": links at even positions, stages at odd ones. */
static gboolean parse_chain(struct scenario *sc, GKeyFile *kf, const char *text, char ***stage_names, GError **err)
{
	char *chain = g_key_file_get_string(kf, "scenario", "chain", NULL);
	char **items = NULL;
	gboolean ok = FALSE;
	unsigned n = 0;

	if (!chain) {
		scenario_error(err, SCENARIO_ERROR_KEY, sc->source, text, "scenario", NULL,
		               "missing key 'chain' (like: chain = lan > home-router > internet)");
		return FALSE;
	}
	items = split_list(chain, ">");
	n = g_strv_length(items);
	if (n == 0 || n % 2 == 0) {
		scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "chain",
		               "a chain alternates links and stages and starts and ends with a link "
		               "(like: lan > home-router > internet)");
		goto out;
	}
	if (n / 2 + 1 > SCENARIO_MAX_LINKS) {
		scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "chain",
		               "more than %d links", SCENARIO_MAX_LINKS);
		goto out;
	}
	*stage_names = g_new0(char *, n / 2 + 1);
	for (unsigned i = 0; i < n; i++) {
		gboolean want_link = i % 2 == 0;
		char *lg = g_strdup_printf("link %s", items[i]);
		char *sg = g_strdup_printf("stage %s", items[i]);
		gboolean is_link = g_key_file_has_group(kf, lg), is_stage = g_key_file_has_group(kf, sg);
		g_free(lg);
		g_free(sg);
		if (want_link ? !is_link : !is_stage) {
			const char *what = want_link ? "link" : "stage";
			if (is_link || is_stage)
				scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "chain",
				               "'%s' is a %s, but position %u of the chain needs a %s "
				               "(links and stages alternate)", items[i], is_link ? "link" : "stage", i + 1, what);
			else
				scenario_error(err, SCENARIO_ERROR_GROUP, sc->source, text, "scenario", "chain",
				               "names %s '%s', but there is no [%s %s] group", what, items[i], what, items[i]);
			goto out;
		}
		if (want_link) {
			if (link_find(sc, items[i])) {
				scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "chain",
				               "link '%s' appears twice (the chain is a line, not a loop)", items[i]);
				goto out;
			}
			struct link *l = &sc->links[sc->n_links];
			l->name = g_strdup(items[i]);
			l->index = sc->n_links++;
		} else {
			for (unsigned j = 0; j < i / 2; j++)
				if (strcmp((*stage_names)[j], items[i]) == 0) {
					scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "chain",
					               "stage '%s' appears twice", items[i]);
					goto out;
				}
			(*stage_names)[i / 2] = g_strdup(items[i]);
		}
	}
	ok = TRUE;
out:
	g_strfreev(items);
	g_free(chain);
	return ok;
}

/* Every group must be known and used by the chain. */
static gboolean check_groups(struct scenario *sc, GKeyFile *kf, const char *text, char **stage_names, GError **err)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	gboolean ok = TRUE;
	char h[96];

	for (char **g = groups; ok && *g; g++) {
		if (strcmp(*g, "scenario") == 0)
			continue;
		if (g_str_has_prefix(*g, "link ")) {
			if (!link_find(sc, *g + 5)) {
				scenario_error(err, SCENARIO_ERROR_GROUP, sc->source, text, *g, NULL,
				               "link '%s' is not in the chain", *g + 5);
				ok = FALSE;
			}
			continue;
		}
		if (g_str_has_prefix(*g, "stage ")) {
			gboolean used = FALSE;
			for (char **s = stage_names; *s; s++)
				used = used || strcmp(*s, *g + 6) == 0;
			if (!used) {
				scenario_error(err, SCENARIO_ERROR_GROUP, sc->source, text, *g, NULL,
				               "stage '%s' is not in the chain", *g + 6);
				ok = FALSE;
			}
			continue;
		}
		if (g_str_has_prefix(*g, "prefix-list ")) /* parse_prefix_lists() checks them */
			continue;
		char *first = g_strdup(*g);
		char *space = strchr(first, ' ');
		if (space)
			*space = '\0';
		static const char *const kinds[] = { "scenario", "link", "stage", "prefix-list" };
		scenario_error(err, SCENARIO_ERROR_GROUP, sc->source, text, *g, NULL,
		               "unknown group; groups are [%s], [%s], [%s] and [%s]%s", group_kinds[0], group_kinds[1],
		               group_kinds[2], group_kinds[3], hint(h, sizeof h, first, kinds, G_N_ELEMENTS(kinds)));
		g_free(first);
		ok = FALSE;
	}
	g_strfreev(groups);
	return ok;
}

/* Validate once at the entry: every value is UTF-8, so key readers never meet a value that
 * GKeyFile would silently report as missing. */
static gboolean check_utf8(GKeyFile *kf, const char *source, const char *text, GError **err)
{
	char **groups = g_key_file_get_groups(kf, NULL);
	gboolean ok = TRUE;

	for (char **g = groups; ok && *g; g++) {
		char **keys = g_key_file_get_keys(kf, *g, NULL, NULL);
		for (char **k = keys; ok && k && *k; k++) {
			char *raw = g_key_file_get_value(kf, *g, *k, NULL);
			if (raw && !g_utf8_validate(raw, -1, NULL)) {
				scenario_error(err, SCENARIO_ERROR_VALUE, source, text, *g, *k, "the value is not valid UTF-8");
				ok = FALSE;
			}
			g_free(raw);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	return ok;
}

/* A value as GKeyFile reads it back: newlines and backslashes escaped, leading space kept. */
static void append_escaped_value(GString *out, const char *key, const char *value)
{
	g_string_append_printf(out, "%s = ", key);
	for (const char *c = value; *c; c++) {
		if (*c == '\n')
			g_string_append(out, "\\n");
		else if (*c == '\r')
			g_string_append(out, "\\r");
		else if (*c == '\t')
			g_string_append(out, "\\t");
		else if (*c == '\\')
			g_string_append(out, "\\\\");
		else if (*c == ' ' && c == value)
			g_string_append(out, "\\s");
		else
			g_string_append_c(out, *c);
	}
	g_string_append_c(out, '\n');
}

/* GKeyFile merges a group given twice and keeps the last of a key given twice, silently, and a
 * NUL ends its line (external = 203.0.113.7\0, 198.51.100.1 is one address): so the raw text is
 * read first, line by line as GKeyFile reads it (blanks trimmed, # comments), for all three. */
static gboolean check_raw_text(const char *source, const char *text, size_t len, bool duplicates, GError **err)
{
	GHashTable *groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL); /* name -> line */
	GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);   /* in the group */
	const char *p = text, *end = text + len;
	char *group = NULL;
	gboolean ok = TRUE;

	for (unsigned line = 1; ok && p < end; line++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *nul = memchr(p, '\0', n);
		if (nul) {
			g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_SYNTAX, "%s:%u: a NUL byte (byte %u of the line): "
			            "the scenario reader would end the line there and lose the rest; save it as plain text",
			            source, line, (unsigned)(nul - p) + 1);
			ok = FALSE;
			break;
		}
		char *l = g_strstrip(g_strndup(p, n));
		char *close = l[0] == '[' ? strrchr(l, ']') : NULL;
		char *eq = strchr(l, '=');
		if (close) {
			*close = '\0';
			unsigned first = GPOINTER_TO_UINT(g_hash_table_lookup(groups, l + 1));
			if (first && duplicates) {
				GString *msg = g_string_new(NULL);
				g_string_append_printf(msg, "%s:%u: [", source, line);
				append_cut(msg, l + 1, strlen(l + 1));
				g_string_append_printf(msg, "] appears twice (lines %u and %u): the two would be merged, "
				                       "the later one's keys winning; keep one", first, line);
				g_set_error_literal(err, SCENARIO_ERROR, SCENARIO_ERROR_GROUP, msg->str);
				g_string_free(msg, TRUE);
				ok = FALSE;
			} else {
				g_hash_table_insert(groups, g_strdup(l + 1), GUINT_TO_POINTER(line));
				g_hash_table_remove_all(keys);
				g_free(group);
				group = g_strdup(l + 1);
			}
		} else if (group && l[0] != '#' && eq) {
			*eq = '\0';
			g_strchomp(l);
			unsigned first = GPOINTER_TO_UINT(g_hash_table_lookup(keys, l));
			if (first && duplicates) {
				GString *msg = g_string_new(NULL);
				g_string_append_printf(msg, "%s:%u: [", source, line);
				append_cut(msg, group, strlen(group));
				g_string_append(msg, "] ");
				append_cut(msg, l, strlen(l));
				g_string_append_printf(msg, ": given twice (lines %u and %u): only the later would count; "
				                       "keep one", first, line);
				g_set_error_literal(err, SCENARIO_ERROR, SCENARIO_ERROR_KEY, msg->str);
				g_string_free(msg, TRUE);
				ok = FALSE;
			} else {
				g_hash_table_insert(keys, g_strdup(l), GUINT_TO_POINTER(line));
			}
		}
		g_free(l);
		p = eol ? eol + 1 : end;
	}
	g_free(group);
	g_hash_table_destroy(keys);
	g_hash_table_destroy(groups);
	return ok;
}

/* scenario-t.h's routes and broadcasts.  A /31 or /32 has no broadcast address (RFC 3021). */
static void index_networks(struct scenario *sc)
{
	sc->n_routes = sc->n_broadcasts = 0;
	for (int len = 32; len >= 0; len--)
		for (unsigned i = 0; i < sc->n_links; i++)
			for (unsigned j = 0; j < sc->links[i].n_networks; j++) {
				const struct ip4_prefix *pfx = &sc->links[i].networks[j];
				if (pfx->len == len)
					sc->routes[sc->n_routes++] = (struct scenario_route){
						.addr = pfx->addr, .mask = ip4_prefix_mask(pfx->len), .link = i, .network = j };
			}
	for (unsigned i = 0; i < sc->n_links; i++)
		for (unsigned j = 0; j < sc->links[i].n_networks; j++) {
			const struct ip4_prefix *pfx = &sc->links[i].networks[j];
			if (pfx->len <= 30)
				sc->broadcasts[sc->n_broadcasts++] = (struct scenario_route){
					.addr = pfx->addr | ~ip4_prefix_mask(pfx->len), .mask = 0xffffffffu, .link = i, .network = j };
		}
}

/* One network on two links: scenario_link_of() would give it to the first, and the second's
 * hosts could never be reached.  (A network inside another link's wider one is fine: the
 * longest match wins, as a route does.) */
static gboolean check_networks_once(struct scenario *sc, const char *text, GError **err)
{
	char buf[19];
	for (unsigned i = 0; i < sc->n_links; i++)
		for (unsigned j = i + 1; j < sc->n_links; j++)
			for (unsigned a = 0; a < sc->links[i].n_networks; a++)
				for (unsigned b = 0; b < sc->links[j].n_networks; b++) {
					const struct ip4_prefix *x = &sc->links[i].networks[a], *y = &sc->links[j].networks[b];
					if (x->addr != y->addr || x->len != y->len)
						continue;
					char *group = g_strdup_printf("link %s", sc->links[j].name);
					char *other = g_strdup_printf("link %s", sc->links[i].name);
					scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, group, "networks",
					               "%s is also a network of link %s (line %u): a network lives on one link",
					               ip4_prefix_to_str(y, buf), sc->links[i].name,
					               text_line_of(text, other, "networks"));
					g_free(other);
					g_free(group);
					return FALSE;
				}
	return TRUE;
}

/* Addresses a stage answers for (a NAT's outside addresses, a VIP) must not lie in another link's
 * networks: the chain would send packets for them through the stage instead of to that link's
 * hosts (issue 10: a static NAT mapping onto the capture's servers turned 26 of 28 packets into
 * routing loops).  claims() is a predicate, so each network is tried address by address, up to
 * CLAIMS_CHECK_MAX of them (a /16); a wider network is checked on its first CLAIMS_CHECK_MAX, and
 * the whole check stops after CLAIMS_CHECK_BUDGET addresses (some 10 ms), so that sixteen links
 * of /0 networks still load at once. */
#define CLAIMS_CHECK_MAX 65536u
#define CLAIMS_CHECK_BUDGET (1u << 20)
static void check_claims(struct scenario *sc, const char *text)
{
	char buf[19], a[16];
	uint64_t budget = CLAIMS_CHECK_BUDGET;
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (!st->ops->claims)
			continue;
		char *group = g_strdup_printf("stage %s", st->name);
		for (unsigned side = SIDE_LEFT; side <= SIDE_RIGHT; side++) {
			unsigned at = side == SIDE_LEFT ? st->index : st->index + 1;
			for (unsigned k = 0; k < sc->n_links; k++) {
				const struct link *l = &sc->links[k];
				for (unsigned j = 0; k != at && j < l->n_networks; j++) {
					const struct ip4_prefix *net = &l->networks[j];
					uint64_t size = MIN((uint64_t)1 << (32 - net->len), CLAIMS_CHECK_MAX), count = 0;
					uint32_t first = 0;
					for (uint64_t off = 0; off < size && budget; off++, budget--) {
						uint32_t addr = net->addr + (uint32_t)off;
						if (st->ops->claims(st, addr, (enum side)side) && scenario_link_of(sc, addr) == k &&
						    count++ == 0)
							first = addr;
					}
					if (!count)
						continue;
					scenario_warn(sc, text, group, NULL,
					              "%s %s answers on link %s for %" G_GUINT64_FORMAT " address%s of %s, a "
					              "network of link %s (the first: %s): packets for %s go through %s to %s "
					              "instead of to %s's hosts; give the stage addresses no link holds, or "
					              "take them out of %s's networks",
					              st->ops->type, st->name, sc->links[at].name, count, count == 1 ? "" : "es",
					              ip4_prefix_to_str(net, buf), l->name, ip4_to_str(first, a),
					              count == 1 ? "it" : "them", st->name, sc->links[at].name, l->name, l->name);
				}
			}
		}
		g_free(group);
	}
}

/* routers = yes | no: whether the stages that route act as routers (common/router.h); "no" leaves
 * the link header and the TTL as they come, as tcprewrite does, for byte-for-byte comparisons. */
static gboolean parse_routers(struct scenario *sc, GKeyFile *kf, const char *text, GError **err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };
	char *v = g_key_file_get_string(kf, "scenario", "routers", NULL);
	gboolean ok = !v;

	sc->routers = true;
	if (v)
		g_strstrip(v);
	for (unsigned i = 0; v && i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			ok = TRUE;
		else if (g_ascii_strcasecmp(v, no[i]) == 0) {
			sc->routers = false;
			ok = TRUE;
		}
	}
	if (!ok)
		scenario_error(err, SCENARIO_ERROR_VALUE, sc->source, text, "scenario", "routers",
		               "'%s' is not yes or no (yes: static-nat, napt and route-table stages act as routers; "
		               "no: they leave the link header and the TTL untouched)", v);
	g_free(v);
	return ok;
}

static struct scenario *load_text(const struct stage_registry *types, const char *source, const char *text,
                                  GError **err)
{
	GKeyFile *kf = g_key_file_new();
	struct scenario *sc = g_new0(struct scenario, 1);
	char **stage_names = NULL;
	char *capture = NULL;
	GError *kerr = NULL;
	gboolean ok = FALSE;

	sc->source = g_strdup(source);
	sc->warnings = g_ptr_array_new_with_free_func(g_free);
	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &kerr)) {
		GString *msg = g_string_new(NULL);
		append_cut_echoes(msg, kerr->message);
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_SYNTAX, "%s: %s", source, msg->str);
		g_string_free(msg, TRUE);
		g_error_free(kerr);
		goto out;
	}
	if (!g_key_file_has_group(kf, "scenario")) {
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_GROUP,
		            "%s: no [scenario] group (it holds description, chain and capture)", source);
		goto out;
	}
	if (!check_utf8(kf, source, text, err))
		goto out;
	if (!check_keys(kf, "scenario", scenario_keys, G_N_ELEMENTS(scenario_keys), NULL, source, text, err) ||
	    !parse_chain(sc, kf, text, &stage_names, err) ||
	    !check_groups(sc, kf, text, stage_names, err))
		goto out;
	sc->description = g_key_file_get_string(kf, "scenario", "description", NULL);
	if (sc->description)
		g_strstrip(sc->description);
	for (unsigned i = 0; i < sc->n_links; i++)
		if (!parse_link(sc, &sc->links[i], kf, text, err))
			goto out;
	if (!check_networks_once(sc, text, err))
		goto out;
	index_networks(sc);
	sc->default_link = sc->n_links - 1;
	for (unsigned i = 0; i < sc->n_links; i++)
		if (sc->links[i].n_networks == 0) {
			sc->default_link = i;
			break;
		}
	capture = g_key_file_get_string(kf, "scenario", "capture", NULL);
	if (capture) {
		struct link *l = link_find(sc, g_strstrip(capture));
		if (!l) {
			const char *names[SCENARIO_MAX_LINKS];
			char h[96];
			for (unsigned i = 0; i < sc->n_links; i++)
				names[i] = sc->links[i].name;
			scenario_error(err, SCENARIO_ERROR_VALUE, source, text, "scenario", "capture",
			               "'%s' is not a link of the chain%s", capture,
			               hint(h, sizeof h, capture, names, sc->n_links));
			goto out;
		}
		sc->capture = l->index;
	}
	if (!parse_routers(sc, kf, text, err))
		goto out;
	if (!parse_prefix_lists(sc, kf, text, err))
		goto out;
	for (unsigned i = 0; stage_names[i]; i++)
		if (!parse_stage(sc, types, i, stage_names[i], kf, text, err))
			goto out;
	check_claims(sc, text);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		if (st->ops->capture_left_only && sc->capture > st->index) {
			scenario_error(err, SCENARIO_ERROR_VALUE, source, text, "scenario", "capture",
			               "the capture is on %s, behind %s %s: a full proxy's replay starts from its client "
			               "side, so capture on %s or a link before it", sc->links[sc->capture].name,
			               st->ops->type, st->name, sc->links[st->index].name);
			goto out;
		}
	}
	/* A judge of web requests right in front of an HTTP proxy (a shield's rate-based rule before an
	 * l7-lb) judges its requests; further left it protects whatever is beside it instead. */
	for (unsigned i = 1; i < sc->n_stages; i++) {
		struct stage *judge = sc->stages[i - 1], *proxy = sc->stages[i];
		if (judge->ops->web_request_blocked && proxy->ops->proxies_http) {
			proxy->web_acl = judge;
			judge->judges_http = true;
		}
	}
	ok = TRUE;
out:
	g_free(capture);
	g_strfreev(stage_names);
	g_key_file_free(kf);
	if (!ok) {
		scenario_free(sc);
		return NULL;
	}
	return sc;
}

static struct scenario *load_bytes(const struct stage_registry *types, const char *source, const char *text,
                                   size_t len, bool duplicates, GError **err)
{
	/* A byte-order mark, as some Windows editors write: not part of the first line. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3;
		len -= 3;
	}
	if (!check_raw_text(source, text, len, duplicates, err))
		return NULL;
	char *copy = g_strndup(text, len);
	struct scenario *sc = load_text(types, source, copy, err);
	g_free(copy);
	return sc;
}

struct scenario *scenario_load_bytes(const struct stage_registry *types, const char *source, const char *text,
                                     size_t len, GError **err)
{
	return load_bytes(types, source, text, len, true, err);
}

struct scenario *scenario_load_data(const struct stage_registry *types, const char *source, const char *text,
                                    GError **err)
{
	return load_bytes(types, source, text, strlen(text), false, err);
}

struct scenario *scenario_load_file(const struct stage_registry *types, const char *path, GError **err)
{
	char *text = NULL;
	gsize len = 0;
	GError *ferr = NULL;

	if (!g_file_get_contents(path, &text, &len, &ferr)) {
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_READ, "%s", ferr->message);
		g_error_free(ferr);
		return NULL;
	}
	struct scenario *sc = scenario_load_bytes(types, path, text, len, err);
	g_free(text);
	return sc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (unsigned i = 0; i < G_N_ELEMENTS(sc->stages); i++) {
		struct stage *st = sc->stages[i];
		if (!st)
			continue;
		if (st->ops->destroy)
			st->ops->destroy(st);
		g_free(st->name);
		g_free(st);
	}
	for (unsigned i = 0; i < sc->n_links; i++) {
		g_free(sc->links[i].name);
		g_free(sc->links[i].description);
	}
	for (unsigned i = 0; i < sc->n_prefix_lists; i++) {
		g_free(sc->prefix_lists[i].name);
		g_free(sc->prefix_lists[i].description);
		g_free(sc->prefix_lists[i].prefixes);
	}
	g_free(sc->prefix_lists);
	if (sc->warnings)
		g_ptr_array_free(sc->warnings, TRUE);
	g_free(sc->description);
	g_free(sc->source);
	g_free(sc);
}

unsigned scenario_link_of(const struct scenario *sc, uint32_t addr)
{
	/* the longest prefix first: the first that holds addr is the longest match */
	for (unsigned i = 0; i < sc->n_routes; i++)
		if ((addr & sc->routes[i].mask) == sc->routes[i].addr)
			return sc->routes[i].link;
	return sc->default_link;
}

void scenario_describe(const struct scenario *sc, GString *out)
{
	char buf[19];

	g_string_append_printf(out, "# %s, every default filled in\n[scenario]\n", sc->source);
	if (sc->description)
		append_escaped_value(out, "description", sc->description);
	g_string_append(out, "chain = ");
	for (unsigned i = 0; i < sc->n_links; i++) {
		g_string_append(out, sc->links[i].name);
		if (i < sc->n_stages)
			g_string_append_printf(out, " > %s > ", sc->stages[i]->name);
	}
	g_string_append_printf(out, "\ncapture = %s\n", sc->links[sc->capture].name);
	g_string_append_printf(out, "# yes: static-nat, napt and route-table stages have their own MACs, decrement the TTL "
	                       "and send time exceeded; no: L2 and TTL untouched\nrouters = %s\n", sc->routers ? "yes" : "no");
	for (unsigned i = 0; i < sc->n_links; i++) {
		const struct link *l = &sc->links[i];
		g_string_append_printf(out, "\n[link %s]\n", l->name);
		if (l->description)
			append_escaped_value(out, "description", l->description);
		if (l->n_networks == 0) {
			g_string_append_printf(out, "# no networks: %s\n", i == sc->default_link ?
			                       "addresses that no other link holds live here" : "a transit link");
		} else {
			g_string_append(out, "networks = ");
			for (unsigned j = 0; j < l->n_networks; j++)
				g_string_append_printf(out, "%s%s", j ? ", " : "", ip4_prefix_to_str(&l->networks[j], buf));
			g_string_append_c(out, '\n');
		}
		if (i < sc->n_stages) {
			const struct stage *st = sc->stages[i];
			g_string_append_printf(out, "\n[stage %s]\n# %s\ntype = %s\n", st->name, st->ops->summary, st->ops->type);
			st->ops->describe(st, out);
		}
	}
	for (unsigned i = 0; i < sc->n_prefix_lists; i++) {
		const struct prefix_list *pl = &sc->prefix_lists[i];
		g_string_append_printf(out, "\n[prefix-list %s]\n", pl->name);
		if (pl->description)
			append_escaped_value(out, "description", pl->description);
		g_string_append(out, "prefixes = ");
		for (unsigned j = 0; j < pl->n_prefixes; j++)
			g_string_append_printf(out, "%s%s", j ? ", " : "", ip4_prefix_to_str(&pl->prefixes[j], buf));
		g_string_append_c(out, '\n');
	}
}
