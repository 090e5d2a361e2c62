/* tests/test_scenario.c: scenario key files, their errors and hints, links and describe().
 *
 * Follows DESIGN.md "The scenario format": unknown groups and keys are errors with a hint of the
 * nearest valid name, and every error reads "SOURCE:LINE: [group] key: what is wrong" (the line
 * when a group or key is involved).  One row per scenario text (STYLE.md habit 10).
 */
#include "common/scenario.h"
#include "common/stage.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#include <string.h>

#define SOURCE "lesson.ini"

/* The static-NAT lesson, line by line (the numbers are what the error rows expect). */
#define L_SCENARIO "[scenario]\n"                                                   /* 1 */ \
	"description = An office maps inside hosts onto public addresses\n"            /* 2 */ \
	"chain = lan > office > internet\n"                                               /* 3 */ \
	"capture = lan\n"                                                                 /* 4 */
#define L_LAN "[link lan]\n"                                                        /* 5 */ \
	"description = office LAN\n"                                                     /* 6 */ \
	"networks = 10.0.0.0/24, 10.0.1.0/24\n"                                           /* 7 */
#define L_INTERNET "[link internet]\n"                                              /* 8 */
#define L_OFFICE_HEAD "[stage office]\n"                                            /* 9 */ \
	"type = static-nat\n"                                                             /* 10 */
#define L_MAP "map = 10.0.0.5 203.0.113.5; 10.0.1.0/24 192.0.2.0/24\n"              /* 11 */
#define GOOD L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD L_MAP
/* The same, with the map line replaced. */
#define WITH_MAP(line) L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD line "\n"
#define WITH_NETWORKS(line) L_SCENARIO "[link lan]\n" line "\n" L_INTERNET L_OFFICE_HEAD L_MAP

struct scenario_case {
	const char *name;            /* test path under /scenario/load/ */
	const char *text;
	bool want_ok;
	int want_code;               /* SCENARIO_ERROR_* when !want_ok */
	const char *want_message;    /* the whole message, when given */
	const char *want_substr[3];  /* each must appear in the message */
};

static const struct scenario_case cases[] = {
	{ .name = "good-static-nat-lesson-loads", .text = GOOD, .want_ok = true },
	{ .name = "map-with-an-arrow-between-the-sides-loads",
	  .text = WITH_MAP("map = 10.0.0.5 -> 203.0.113.5; 10.0.1.0/24 -> 192.0.2.0/24"), .want_ok = true },
	{ .name = "chain-without-spaces-loads",
	  .text = "[scenario]\nchain=lan>office>internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP, .want_ok = true },
	{ .name = "comments-and-blank-lines-load",
	  .text = "# a lesson\n\n" GOOD "\n# the end\n", .want_ok = true },

	/* Keys and groups. */
	{ .name = "unknown-stage-key-hints-the-nearest",
	  .text = WITH_MAP("mapp = 10.0.0.5 203.0.113.5"), .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":11: [stage office] mapp: unknown key (did you mean 'map'?)" },
	{ .name = "unknown-scenario-key-hints-the-nearest",
	  .text = "[scenario]\nchain = lan > office > internet\ncaptur = lan\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":3: [scenario] captur: unknown key (did you mean 'capture'?)" },
	{ .name = "unknown-link-key-hints-the-nearest", .text = WITH_NETWORKS("network = 10.0.0.0/24"),
	  .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":6: [link lan] network: unknown key (did you mean 'networks'?)" },
	{ .name = "unknown-key-far-from-every-name-has-no-hint", .text = WITH_MAP("colour = blue"),
	  .want_code = SCENARIO_ERROR_KEY, .want_message = SOURCE ":11: [stage office] colour: unknown key" },
	{ .name = "key-error-names-the-line-in-its-own-group",
	  .text = L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD L_MAP "networks = 10.0.0.0/24\n",
	  .want_code = SCENARIO_ERROR_KEY, .want_substr = { SOURCE ":12: [stage office] networks: unknown key" } },
	{ .name = "unknown-group-hints-the-nearest", .text = GOOD "[lnk dmz]\nnetworks = 10.9.0.0/16\n",
	  .want_code = SCENARIO_ERROR_GROUP,
	  .want_substr = { SOURCE ":12: [lnk dmz] unknown group", "(did you mean 'link'?)" } },
	{ .name = "no-scenario-group", .text = L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_GROUP, .want_substr = { SOURCE ": no [scenario] group" } },
	{ .name = "not-a-key-file-is-a-syntax-error", .text = "this is not\na key file\n",
	  .want_code = SCENARIO_ERROR_SYNTAX, .want_substr = { SOURCE ": " } },

	/* The chain. */
	{ .name = "missing-chain", .text = "[scenario]\ncapture = lan\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_KEY, .want_substr = { SOURCE ":1: [scenario] missing key 'chain'" } },
	{ .name = "chain-naming-a-missing-link",
	  .text = L_SCENARIO L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_GROUP,
	  .want_message = SOURCE ":3: [scenario] chain: names link 'internet', but there is no [link internet] group" },
	{ .name = "chain-naming-a-missing-stage",
	  .text = L_SCENARIO L_LAN L_INTERNET, .want_code = SCENARIO_ERROR_GROUP,
	  .want_substr = { SOURCE ":3: [scenario] chain: names stage 'office', but there is no [stage office] group" } },
	{ .name = "chain-with-a-stage-where-a-link-belongs",
	  .text = "[scenario]\nchain = office > lan > internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: 'office' is a stage, but position 1 of the chain needs a link" } },
	{ .name = "chain-with-a-link-where-a-stage-belongs",
	  .text = "[scenario]\nchain = lan > internet > office\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "'internet' is a link, but position 2 of the chain needs a stage" } },
	{ .name = "chain-of-even-length",
	  .text = "[scenario]\nchain = lan > office\n" L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: a chain alternates links and stages" } },
	{ .name = "empty-chain", .text = "[scenario]\nchain =\n", .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "a chain alternates links and stages" } },
	{ .name = "chain-with-a-link-twice",
	  .text = "[scenario]\nchain = lan > office > lan\n" L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: link 'lan' appears twice" } },
	{ .name = "chain-with-a-stage-twice",
	  .text = "[scenario]\nchain = lan > office > internet > office > dmz\n" L_LAN L_INTERNET "[link dmz]\n"
	          L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "stage 'office' appears twice" } },
	{ .name = "link-not-in-the-chain", .text = GOOD "[link dmz]\nnetworks = 10.9.0.0/16\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_message = SOURCE ":12: [link dmz] link 'dmz' is not in the chain" },
	{ .name = "stage-not-in-the-chain", .text = GOOD "[stage spare]\ntype = static-nat\nmap = 10.9.0.1 192.0.2.9\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_substr = { SOURCE ":12: [stage spare] stage 'spare' is not in the chain" } },
	{ .name = "capture-naming-a-missing-link-hints-the-nearest",
	  .text = "[scenario]\nchain = lan > office > internet\ncapture = lann\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":3: [scenario] capture: 'lann' is not a link of the chain (did you mean 'lan'?)" },

	/* Networks. */
	{ .name = "network-with-an-octet-above-255", .text = WITH_NETWORKS("networks = 10.0.0.300/24"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":6: [link lan] networks: '10.0.0.300/24' is not an IPv4 address or prefix" } },
	{ .name = "network-with-host-bits-set-suggests-the-network", .text = WITH_NETWORKS("networks = 10.0.0.1/24"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":6: [link lan] networks: '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24?" },
	{ .name = "network-with-prefix-length-33", .text = WITH_NETWORKS("networks = 10.0.0.0/33"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "'10.0.0.0/33' is not an IPv4 address or prefix" } },
	{ .name = "network-with-an-empty-prefix-length", .text = WITH_NETWORKS("networks = 10.0.0.0/"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "is not an IPv4 address or prefix" } },
	{ .name = "network-with-three-octets", .text = WITH_NETWORKS("networks = 10.0.0/24"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "is not an IPv4 address or prefix" } },
	{ .name = "network-with-a-prefix-length-that-wraps-32-bits",
	  .text = WITH_NETWORKS("networks = 10.0.0.0/4294967320"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "is not an IPv4 address or prefix" } },

	/* Stages. */
	{ .name = "unknown-stage-type-hints-the-nearest", .text = L_SCENARIO L_LAN L_INTERNET
	  "[stage office]\ntype = static-natt\n" L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":10: [stage office] type: unknown stage type 'static-natt' (did you mean 'static-nat'?)" },
	{ .name = "stage-type-prefix-hints-the-full-name", .text = L_SCENARIO L_LAN L_INTERNET
	  "[stage office]\ntype = static\n" L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "unknown stage type 'static' (did you mean 'static-nat'?)" } },
	{ .name = "stage-without-a-type-lists-the-types", .text = L_SCENARIO L_LAN L_INTERNET "[stage office]\n" L_MAP,
	  .want_code = SCENARIO_ERROR_KEY, /* other stage types may join the list */
	  .want_substr = { SOURCE ":9: [stage office] missing key 'type' (one of: ", "static-nat" } },

	/* The static-nat map. */
	{ .name = "static-nat-map-with-different-prefix-lengths",
	  .text = WITH_MAP("map = 10.0.1.0/24 192.0.2.0/25"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '10.0.1.0/24 192.0.2.0/25': both sides need the same prefix length (/24 and /25)" } },
	{ .name = "static-nat-map-with-one-word", .text = WITH_MAP("map = 10.0.0.5"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '10.0.0.5' should be two addresses or prefixes" } },
	{ .name = "static-nat-map-with-three-words", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5 203.0.113.6"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "should be two addresses or prefixes" } },
	{ .name = "static-nat-map-with-a-bad-address", .text = WITH_MAP("map = 10.0.0.5 203.0.113.500"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '203.0.113.500' is not an IPv4 address or prefix" } },
	{ .name = "static-nat-map-with-host-bits-set", .text = WITH_MAP("map = 10.0.1.1/24 192.0.2.0/24"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "has host bits set; did you mean 10.0.1.0/24?" } },
	{ .name = "static-nat-map-repeating-a-prefix", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5; 10.0.0.5 203.0.113.6"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "rule 2 ('10.0.0.5 203.0.113.6') overlaps rule 1 on the inside side" } },
	{ .name = "static-nat-without-a-map", .text = L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { SOURCE ":9: [stage office] map: a static-nat stage needs at least one rule" } },
	{ .name = "static-nat-map-that-is-not-utf8-says-so", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5\xff"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { SOURCE ":11: [stage office] map: ", "UTF-8" } },
	{ .name = "static-nat-with-an-empty-map", .text = WITH_MAP("map = ;"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "needs at least one rule" } },
};

static bool message_matches(const struct scenario_case *c, const GError *err, char **why)
{
	if (c->want_message && strcmp(err->message, c->want_message) != 0) {
		*why = g_strdup_printf("message \"%s\", want \"%s\"", err->message, c->want_message);
		return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(c->want_substr) && c->want_substr[i]; i++)
		if (!strstr(err->message, c->want_substr[i])) {
			*why = g_strdup_printf("message \"%s\" lacks \"%s\"", err->message, c->want_substr[i]);
			return false;
		}
	/* every error names its source first */
	if (!g_str_has_prefix(err->message, SOURCE ":")) {
		*why = g_strdup_printf("message \"%s\" does not start with \"" SOURCE ":\"", err->message);
		return false;
	}
	if (err->domain != SCENARIO_ERROR || err->code != c->want_code) {
		*why = g_strdup_printf("error code %d, want %d", err->code, c->want_code);
		return false;
	}
	return true;
}

static void test_load_case(gconstpointer data)
{
	const struct scenario_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, c->text, &err);
	char *why = NULL;
	bool ok;

	if (c->want_ok) {
		ok = sc && !err;
		if (!ok)
			why = g_strdup_printf("did not load: %s", err ? err->message : "(no error set)");
	} else {
		ok = !sc && err;
		if (!ok)
			why = g_strdup(sc ? "loaded, want an error" : "failed without setting the GError");
		else
			ok = message_matches(c, err, &why);
	}
	if (!ok)
		g_error("%s", why);
	g_free(why);
	g_clear_error(&err);
	scenario_free(sc);
}

/* GLib's convention: a caller that does not want the message passes NULL, and the call still fails. */
static void test_load_case_without_gerror(gconstpointer data)
{
	const struct scenario_case *c = data;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, c->text, NULL);

	g_assert_null(sc);
	scenario_free(sc);
}

static struct scenario *load_ok(const char *text)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, text, &err);
	g_assert_no_error(err);
	g_assert_nonnull(sc);
	return sc;
}

static void test_shape_of_the_lesson(void)
{
	struct scenario *sc = load_ok(GOOD);

	g_assert_cmpstr(sc->source, ==, SOURCE);
	g_assert_cmpstr(sc->description, ==, "An office maps inside hosts onto public addresses");
	g_assert_cmpuint(sc->n_links, ==, 2);
	g_assert_cmpuint(sc->n_stages, ==, 1);
	g_assert_cmpstr(sc->links[0].name, ==, "lan");
	g_assert_cmpstr(sc->links[0].description, ==, "office LAN");
	g_assert_cmpuint(sc->links[0].n_networks, ==, 2);
	g_assert_cmphex(sc->links[0].networks[1].addr, ==, 0x0a000100u);
	g_assert_cmpuint(sc->links[0].networks[1].len, ==, 24);
	g_assert_cmpstr(sc->links[1].name, ==, "internet");
	g_assert_cmpuint(sc->links[1].index, ==, 1);
	g_assert_cmpstr(sc->stages[0]->name, ==, "office");
	g_assert_cmpstr(sc->stages[0]->ops->type, ==, "static-nat");
	g_assert_true(sc->stages[0]->left == &sc->links[0]);
	g_assert_true(sc->stages[0]->right == &sc->links[1]);
	g_assert_cmpuint(sc->capture, ==, 0);
	g_assert_cmpuint(sc->default_link, ==, 1);
	scenario_free(sc);
}

static void test_capture_defaults_to_the_first_link(void)
{
	struct scenario *sc = load_ok("[scenario]\nchain = lan > office > internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->capture, ==, 0);
	scenario_free(sc);
	sc = load_ok("[scenario]\nchain = lan > office > internet\ncapture = internet\n" L_LAN L_INTERNET
	             L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->capture, ==, 1);
	scenario_free(sc);
}

/* lan 10/8 > office > internet (no networks) > edge > dmz 10.1/16 and 10.1.2/24 */
#define FIVE_LINKS                                                                              \
	"[scenario]\nchain = lan > office > internet > edge > dmz\n"                               \
	"[link lan]\nnetworks = 10.0.0.0/8\n[link internet]\n[link dmz]\nnetworks = 10.1.0.0/16; 10.1.2.0/24\n" \
	"[stage office]\ntype = static-nat\nmap = 10.0.0.5 203.0.113.5\n"                          \
	"[stage edge]\ntype = static-nat\nmap = 10.1.2.0/24 198.51.100.0/24\n"

struct link_of_case {
	const char *addr;
	unsigned want;
};

static void test_link_of_longest_match(void)
{
	static const struct link_of_case rows[] = {
		{ "10.5.5.5", 0 },      /* only lan's 10/8 holds it */
		{ "10.1.9.9", 2 },      /* dmz's /16 beats lan's /8 */
		{ "10.1.2.3", 2 },      /* dmz's /24 too */
		{ "8.8.8.8", 1 },       /* nobody's: the default link, the first without networks */
		{ "203.0.113.5", 1 },
		{ "0.0.0.0", 1 },
		{ "255.255.255.255", 1 },
	};
	struct scenario *sc = load_ok(FIVE_LINKS);
	g_assert_cmpuint(sc->n_links, ==, 3);
	g_assert_cmpuint(sc->default_link, ==, 1);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint32_t a;
		g_assert_true(ip4_parse(rows[i].addr, &a));
		if (scenario_link_of(sc, a) != rows[i].want)
			g_error("%s: link %u, want %u", rows[i].addr, scenario_link_of(sc, a), rows[i].want);
	}
	scenario_free(sc);
}

static void test_link_of_default_when_every_link_has_networks(void)
{
	struct scenario *sc = load_ok(L_SCENARIO L_LAN "[link internet]\nnetworks = 0.0.0.0/0\n" L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->default_link, ==, 1); /* the last link */
	uint32_t a;
	g_assert_true(ip4_parse("10.0.1.9", &a));
	g_assert_cmpuint(scenario_link_of(sc, a), ==, 0); /* /24 beats /0 */
	g_assert_true(ip4_parse("9.9.9.9", &a));
	g_assert_cmpuint(scenario_link_of(sc, a), ==, 1);
	scenario_free(sc);
}

static void test_describe(void)
{
	static const char *const want[] = {
		"[scenario]\n",
		"description = An office maps inside hosts onto public addresses\n",
		"chain = lan > office > internet\n",
		"capture = lan\n",
		"[link lan]\ndescription = office LAN\nnetworks = 10.0.0.0/24, 10.0.1.0/24\n",
		"[link internet]\n# no networks: addresses that no other link holds live here\n",
		"[stage office]\n",
		"type = static-nat\n",
		"map = 10.0.0.5/32 203.0.113.5/32; 10.0.1.0/24 192.0.2.0/24\n",
	};
	struct scenario *sc = load_ok(GOOD);
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (!strstr(out->str, want[i]))
			g_error("describe lacks \"%s\":\n%s", want[i], out->str);
	g_assert_true(g_str_has_prefix(out->str, "# " SOURCE));
	g_string_free(out, TRUE);
	scenario_free(sc);
}

/* natlb check prints a scenario back: that text must load and describe the same scenario. */
static void test_describe_round_trips(void)
{
	static const char *const texts[] = { GOOD, FIVE_LINKS };
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		struct scenario *sc = load_ok(texts[i]);
		GString *once = g_string_new(NULL), *twice = g_string_new(NULL);
		scenario_describe(sc, once);
		struct scenario *again = load_ok(once->str);
		scenario_describe(again, twice);
		g_assert_cmpstr(twice->str, ==, once->str);
		g_string_free(once, TRUE);
		g_string_free(twice, TRUE);
		scenario_free(again);
		scenario_free(sc);
	}
}

/* A key file value may hold an escaped newline ("\\n"); describe() must write it back escaped. */
static void test_describe_escapes_values(void)
{
	struct scenario *sc = load_ok("[scenario]\ndescription = two\\nlines\nchain = lan > office > internet\n"
	                              L_LAN L_INTERNET L_OFFICE_HEAD L_MAP);
	g_assert_cmpstr(sc->description, ==, "two\nlines");
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	GError *err = NULL;
	struct scenario *again = scenario_load_data(natlb_stage_types(), SOURCE, out->str, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(again->description, ==, sc->description);
	g_clear_error(&err);
	scenario_free(again);
	g_string_free(out, TRUE);
	scenario_free(sc);
}

static void test_load_file(void)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_file(natlb_stage_types(), "scenarios/static-nat.ini", &err);
	g_assert_no_error(err);
	g_assert_nonnull(sc);
	g_assert_cmpstr(sc->source, ==, "scenarios/static-nat.ini");
	g_assert_cmpuint(sc->n_stages, ==, 1);
	scenario_free(sc);

	sc = scenario_load_file(natlb_stage_types(), "scenarios/no-such-lesson.ini", &err);
	g_assert_null(sc);
	g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_READ);
	g_assert_nonnull(strstr(err->message, "no-such-lesson.ini"));
	g_clear_error(&err);
}

struct nearest_case {
	const char *word;
	const char *want; /* NULL: no hint */
};

static void test_nearest_name(void)
{
	static const char *const keys[] = { "type", "description", "map" };
	static const struct nearest_case rows[] = {
		{ "mapp", "map" },
		{ "tpye", "type" },             /* a transposition is two edits */
		{ "desc", "description" },      /* a shared prefix of three or more */
		{ "descriptoin", "description" },
		{ "ma", "map" },
		{ "colour", NULL },
		{ "", NULL },
		{ "xyzzy-and-a-very-long-word-that-is-longer-than-sixty-four-characters-long", NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		g_assert_cmpstr(nearest_name(rows[i].word, keys, G_N_ELEMENTS(keys)), ==, rows[i].want);
}

struct prefix_case {
	const char *text;
	bool ok;
	uint32_t addr;
	uint8_t len;
};

static void test_prefix_parse(void)
{
	static const struct prefix_case rows[] = {
		{ "10.0.0.0/8", true, 0x0a000000u, 8 },
		{ "203.0.113.5", true, 0xcb007105u, 32 },
		{ "0.0.0.0/0", true, 0, 0 },
		{ "255.255.255.255/32", true, 0xffffffffu, 32 },
		{ "10.0.0.1/8", false, 0, 0 },
		{ "10.0.0.256", false, 0, 0 },
		{ "10.0.0.0/33", false, 0, 0 },
		{ "10.0.0.0/-1", false, 0, 0 },
		{ "10.0.0.0/8x", false, 0, 0 },
		{ "10.0.0.0/ 8", false, 0, 0 },
		{ "10.0.0", false, 0, 0 },
		{ "10.0.0.0.0", false, 0, 0 },
		{ "1000.0.0.0", false, 0, 0 },
		{ "a.b.c.d", false, 0, 0 },
		{ "", false, 0, 0 },
		{ "10.0.0.0/", false, 0, 0 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct ip4_prefix pfx = { 0, 0 };
		GError *err = NULL;
		bool ok = ip4_prefix_parse(rows[i].text, &pfx, &err);
		if (ok != rows[i].ok)
			g_error("'%s': parsed %s, want %s", rows[i].text, ok ? "ok" : "an error", rows[i].ok ? "ok" : "an error");
		if (ok) {
			g_assert_no_error(err);
			g_assert_cmphex(pfx.addr, ==, rows[i].addr);
			g_assert_cmpuint(pfx.len, ==, rows[i].len);
		} else {
			g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE);
			g_clear_error(&err);
		}
	}
	char buf[19];
	struct ip4_prefix widest = { 0xffffffffu, 32 };
	g_assert_cmpstr(ip4_prefix_to_str(&widest, buf), ==, "255.255.255.255/32");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strdup_printf("/scenario/load/%s", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_load_case);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (cases[i].want_ok)
			continue;
		char *path = g_strdup_printf("/scenario/load-without-gerror/%s/still-fails", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_load_case_without_gerror);
		g_free(path);
	}
	g_test_add_func("/scenario/lesson/links-stages-capture-and-default-link", test_shape_of_the_lesson);
	g_test_add_func("/scenario/capture/defaults-to-the-first-link", test_capture_defaults_to_the_first_link);
	g_test_add_func("/scenario/link-of/longest-prefix-wins-else-the-default-link", test_link_of_longest_match);
	g_test_add_func("/scenario/link-of/default-is-the-last-link-when-all-have-networks",
	                test_link_of_default_when_every_link_has_networks);
	g_test_add_func("/scenario/describe/shows-every-setting-with-prefix-lengths", test_describe);
	g_test_add_func("/scenario/describe/output-loads-and-describes-the-same", test_describe_round_trips);
	g_test_add_func("/scenario/describe/escapes-a-newline-in-a-value", test_describe_escapes_values);
	g_test_add_func("/scenario/load-file/reads-the-lesson-and-names-a-missing-file", test_load_file);
	g_test_add_func("/scenario/nearest-name/edit-distance-two-or-a-prefix", test_nearest_name);
	g_test_add_func("/scenario/prefix/parse-table", test_prefix_parse);
	return g_test_run();
}
