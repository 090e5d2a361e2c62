/* tests/test_golden.c: the one runner of tests/golden/TESTLIST: each case replayed by natlb, read by tshark, compared with its golden dump.
 *
 * Follows tcpdump's tests/TESTLIST and its runner (STYLE.md 9): one list, one line per case, one
 * runner; the list's own header says what a line holds.  A malformed list fails one test,
 * /golden/list/parses, naming the line; a case whose dump differs fails with the first differing
 * lines as a unified diff and the commands that reproduce it by hand.
 *
 * Invariants: case names are unique and are test path components ([a-z0-9-]); a FIELDS or PREFS
 * name refers to a list defined on an earlier line; every .fields file in tests/golden/ belongs to
 * exactly one case, so that a golden dump cannot be left behind unchecked.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tests/testutil.h"

#define GOLDEN_LIST "tests/golden/TESTLIST"

/* Replay options and the reproduce command say {tmp} for a directory only the case uses. */
#define TMP_PLACEHOLDER "{tmp}"

struct golden_case {
	unsigned line;        /* in the list, for messages */
	char *name;           /* /golden/NAME/matches-tshark-dump */
	char *capture;        /* natlb replay's input */
	char *scenario;       /* its -s */
	char *golden;         /* the expected tshark field dump */
	char **fields;        /* tshark -e, owned by the list's named lists */
	char **prefs;         /* tshark -o, may be empty; likewise */
	const char *filter;   /* tshark -Y, NULL for every frame; owned by the list's filters */
	char **replay_options;
	char *guards;         /* free text for the reader */
};

struct golden_list {
	GPtrArray *cases;        /* struct golden_case *, in list order */
	GHashTable *field_lists; /* name -> char ** */
	GHashTable *pref_lists;  /* name -> char ** */
	GHashTable *filters;     /* name -> char *, a display filter */
};

static GQuark golden_list_error_quark(void)
{
	return g_quark_from_static_string("golden-list-error");
}

static void golden_case_free(gpointer data)
{
	struct golden_case *c = data;
	g_free(c->name);
	g_free(c->capture);
	g_free(c->scenario);
	g_free(c->golden);
	g_strfreev(c->replay_options);
	g_free(c->guards);
	g_free(c);
}

static void golden_list_init(struct golden_list *list)
{
	list->cases = g_ptr_array_new_with_free_func(golden_case_free);
	list->field_lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
	list->pref_lists = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
	list->filters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void golden_list_clear(struct golden_list *list)
{
	g_ptr_array_free(list->cases, TRUE);
	g_hash_table_destroy(list->field_lists);
	g_hash_table_destroy(list->pref_lists);
	g_hash_table_destroy(list->filters);
}

/* The whitespace-separated words of text, as a NULL-terminated vector without empty words. */
static char **split_words(const char *text)
{
	char **parts = g_strsplit_set(text, " \t", -1);
	GPtrArray *words = g_ptr_array_new();
	for (char **p = parts; *p; p++)
		if (**p)
			g_ptr_array_add(words, g_strdup(*p));
	g_ptr_array_add(words, NULL);
	g_strfreev(parts);
	return (char **)g_ptr_array_free(words, FALSE);
}

/* A case name becomes a test path component, so it is kept to what reads well in one. */
static gboolean is_case_name(const char *name)
{
	if (!*name || *name == '-')
		return FALSE;
	for (const char *p = name; *p; p++)
		if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-')
			return FALSE;
	return TRUE;
}

/* "fields NAME FIELD...", "prefs NAME PREF..." or "filter NAME EXPRESSION": a named list the
 * cases below refer to; a filter's words are joined again by single spaces. */
static gboolean parse_named_list(char **words, GHashTable *lists, const char *kind, GString *why)
{
	if (!words[1] || !words[2]) {
		g_string_printf(why, "'%s' needs a name and at least one %s", kind,
		                g_str_equal(kind, "fields") ? "tshark field"
		                : g_str_equal(kind, "prefs") ? "tshark preference" : "word of a display filter");
		return FALSE;
	}
	if (g_str_equal(words[1], "-")) {
		g_string_printf(why, "'-' means \"no preferences\" and cannot name a %s list", kind);
		return FALSE;
	}
	if (g_hash_table_contains(lists, words[1])) {
		g_string_printf(why, "%s list '%s' is defined twice", kind, words[1]);
		return FALSE;
	}
	if (g_str_equal(kind, "filter"))
		g_hash_table_insert(lists, g_strdup(words[1]), g_strjoinv(" ", words + 2));
	else
		g_hash_table_insert(lists, g_strdup(words[1]), g_strdupv(words + 2));
	return TRUE;
}

#define FILTER_WORD "filter="

/* "CASE CAPTURE SCENARIO GOLDEN FIELDS PREFS [filter=NAME] [REPLAY-OPTION...] guards: TEXT". */
static gboolean parse_case(const char *line_text, unsigned line, struct golden_list *list, GString *why)
{
	const char *guards = strstr(line_text, "guards:");
	if (!guards) {
		g_string_assign(why, "no \"guards:\" text: say which capture or behaviour the case protects");
		return FALSE;
	}
	char *head = g_strndup(line_text, (gsize)(guards - line_text));
	char *text = g_strstrip(g_strdup(guards + strlen("guards:")));
	char **words = split_words(head);
	gboolean ok = FALSE;
	const char *filter_name = NULL;
	if (g_strv_length(words) > 6 && g_str_has_prefix(words[6], FILTER_WORD))
		filter_name = words[6] + strlen(FILTER_WORD);
	if (g_strv_length(words) < 6) {
		g_string_printf(why, "a case needs CASE CAPTURE SCENARIO GOLDEN FIELDS PREFS before \"guards:\", "
		                "this line has %u word(s)", g_strv_length(words));
	} else if (!*text) {
		g_string_assign(why, "\"guards:\" is empty: say which capture or behaviour the case protects");
	} else if (!is_case_name(words[0])) {
		g_string_printf(why, "case name '%s': use lower-case letters, digits and '-' (it becomes a test path)",
		                words[0]);
	} else if (!g_hash_table_contains(list->field_lists, words[4])) {
		g_string_printf(why, "fields list '%s' is not defined on a line above", words[4]);
	} else if (!g_str_equal(words[5], "-") && !g_hash_table_contains(list->pref_lists, words[5])) {
		g_string_printf(why, "prefs list '%s' is not defined on a line above (\"-\" for none)", words[5]);
	} else if (filter_name && !g_hash_table_contains(list->filters, filter_name)) {
		g_string_printf(why, "filter '%s' is not defined on a line above", filter_name);
	} else {
		ok = TRUE;
		for (guint i = 0; ok && i < list->cases->len; i++) {
			const struct golden_case *other = g_ptr_array_index(list->cases, i);
			if (g_str_equal(other->name, words[0])) {
				g_string_printf(why, "case '%s' is already on line %u", words[0], other->line);
				ok = FALSE;
			} else if (g_str_equal(other->golden, words[3])) {
				g_string_printf(why, "%s is already the golden dump of case '%s' (line %u)", words[3],
				                other->name, other->line);
				ok = FALSE;
			}
		}
	}
	if (ok) {
		static char *no_prefs[] = { NULL };
		struct golden_case *c = g_new0(struct golden_case, 1);
		c->line = line;
		c->name = g_strdup(words[0]);
		c->capture = g_strdup(words[1]);
		c->scenario = g_strdup(words[2]);
		c->golden = g_strdup(words[3]);
		c->fields = g_hash_table_lookup(list->field_lists, words[4]);
		c->prefs = g_str_equal(words[5], "-") ? no_prefs : g_hash_table_lookup(list->pref_lists, words[5]);
		c->filter = filter_name ? g_hash_table_lookup(list->filters, filter_name) : NULL;
		c->replay_options = g_strdupv(words + (filter_name ? 7 : 6));
		c->guards = g_strdup(text);
		g_ptr_array_add(list->cases, c);
	}
	g_strfreev(words);
	g_free(text);
	g_free(head);
	return ok;
}

/* Parses the whole list; the first malformed line fails it with "ORIGIN:LINE: why". */
static gboolean golden_list_parse(const char *origin, const char *text, struct golden_list *list, GError **err)
{
	char **lines = g_strsplit(text, "\n", -1);
	GString *why = g_string_new(NULL);
	gboolean ok = TRUE;
	for (unsigned i = 0; ok && lines[i]; i++) {
		char *line = g_strstrip(lines[i]);
		if (!*line || *line == '#')
			continue;
		char **words = split_words(line);
		if (g_str_equal(words[0], "fields"))
			ok = parse_named_list(words, list->field_lists, "fields", why);
		else if (g_str_equal(words[0], "prefs"))
			ok = parse_named_list(words, list->pref_lists, "prefs", why);
		else if (g_str_equal(words[0], "filter"))
			ok = parse_named_list(words, list->filters, "filter", why);
		else
			ok = parse_case(line, i + 1, list, why);
		if (!ok)
			g_set_error(err, golden_list_error_quark(), 0, "%s:%u: %s", origin, i + 1, why->str);
		g_strfreev(words);
	}
	if (ok && list->cases->len == 0) {
		g_set_error(err, golden_list_error_quark(), 0, "%s: no case in the list", origin);
		ok = FALSE;
	}
	g_string_free(why, TRUE);
	g_strfreev(lines);
	return ok;
}

/* ---- Reporting a difference --------------------------------------------------------------------- */

/* Lines of text, without the empty string after a final newline. */
static char **split_lines(const char *text, unsigned *n)
{
	char **lines = g_strsplit(text, "\n", -1);
	*n = g_strv_length(lines);
	if (*n && !*lines[*n - 1])
		(*n)--;
	return lines;
}

#define DIFF_CONTEXT 3    /* lines around the change, as diff -u */
#define DIFF_MAX_SHOWN 12 /* of each side's differing lines; a dump can differ everywhere */

/* One hunk, as diff -u writes it, covering everything between the common head and the common
 * tail of the two texts; at most DIFF_MAX_SHOWN lines of each side are written out. */
static char *diff_excerpt(const char *want_name, const char *want, const char *got_name, const char *got)
{
	unsigned nw, ng;
	char **w = split_lines(want, &nw), **g = split_lines(got, &ng);
	unsigned head = 0, tail = 0;
	while (head < nw && head < ng && g_str_equal(w[head], g[head]))
		head++;
	while (tail < nw - head && tail < ng - head && g_str_equal(w[nw - 1 - tail], g[ng - 1 - tail]))
		tail++;
	unsigned before = MIN(head, DIFF_CONTEXT), after = MIN(tail, DIFF_CONTEXT);
	unsigned removed = nw - head - tail, added = ng - head - tail;
	unsigned first = head - before; /* 0-based, the same in both texts */
	GString *s = g_string_new(NULL);
	g_string_append_printf(s, "--- %s\n+++ %s\n", want_name, got_name);
	unsigned want_count = before + removed + after, got_count = before + added + after;
	/* diff -u numbers an empty side by the line before it */
	g_string_append_printf(s, "@@ -%u,%u +%u,%u @@\n", want_count ? first + 1 : first, want_count,
	                       got_count ? first + 1 : first, got_count);
	for (unsigned i = first; i < head; i++)
		g_string_append_printf(s, " %s\n", w[i]);
	for (unsigned i = 0; i < removed; i++) {
		if (i == DIFF_MAX_SHOWN) {
			g_string_append_printf(s, "-... (%u more)\n", removed - i);
			break;
		}
		g_string_append_printf(s, "-%s\n", w[head + i]);
	}
	for (unsigned i = 0; i < added; i++) {
		if (i == DIFF_MAX_SHOWN) {
			g_string_append_printf(s, "+... (%u more)\n", added - i);
			break;
		}
		g_string_append_printf(s, "+%s\n", g[head + i]);
	}
	for (unsigned i = nw - tail; i < nw - tail + after; i++)
		g_string_append_printf(s, " %s\n", w[i]);
	g_strfreev(w);
	g_strfreev(g);
	return g_string_free(s, FALSE);
}

/* A word for sh: as it is when nothing in it is special, single-quoted otherwise. */
static void append_shell_word(GString *s, const char *word)
{
	gboolean plain = *word != '\0';
	for (const char *p = word; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("_-./:=,+@%", *p))
			plain = FALSE;
	char *quoted = plain ? g_strdup(word) : g_shell_quote(word);
	g_string_append_printf(s, " %s", quoted);
	g_free(quoted);
}

/* The replay's options with {tmp} standing for dir. */
static char *with_tmp(const char *option, const char *dir)
{
	GString *s = g_string_new(option);
	g_string_replace(s, TMP_PLACEHOLDER, dir, 0);
	return g_string_free(s, FALSE);
}

/* natlb replay -s SCENARIO OPTION... -o OUT CAPTURE, {tmp} being dir; strings owned by the array. */
static GPtrArray *replay_argv(const struct golden_case *c, const char *dir, const char *out)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(argv, g_strdup(test_natlb_binary()));
	g_ptr_array_add(argv, g_strdup("replay"));
	g_ptr_array_add(argv, g_strdup("-s"));
	g_ptr_array_add(argv, g_strdup(c->scenario));
	for (char **o = c->replay_options; *o; o++)
		g_ptr_array_add(argv, with_tmp(*o, dir));
	g_ptr_array_add(argv, g_strdup("-o"));
	g_ptr_array_add(argv, g_strdup(out));
	g_ptr_array_add(argv, g_strdup(c->capture));
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* What a reader types, from the source tree, to see the case's output and its diff. */
static char *reproduce_commands(const struct golden_case *c)
{
	char *out = g_strdup_printf("build/%s.pcapng", c->name);
	GPtrArray *argv = replay_argv(c, "build", out);
	GString *s = g_string_new("to reproduce, from the source tree:\n ");
	for (guint i = 0; i + 1 < argv->len; i++)
		append_shell_word(s, g_ptr_array_index(argv, i));
	g_string_append(s, "\n  tshark -r");
	append_shell_word(s, out);
	g_string_append(s, " -T fields -E 'separator=|'");
	for (char **p = c->prefs; *p; p++) {
		g_string_append(s, " -o");
		append_shell_word(s, *p);
	}
	if (c->filter) {
		g_string_append(s, " -Y");
		append_shell_word(s, c->filter);
	}
	for (char **f = c->fields; *f; f++) {
		g_string_append(s, " -e");
		append_shell_word(s, *f);
	}
	g_string_append(s, " | diff -u");
	append_shell_word(s, c->golden);
	g_string_append(s, " -\n");
	g_ptr_array_free(argv, TRUE);
	g_free(out);
	return g_string_free(s, FALSE);
}

/* ---- The cases ------------------------------------------------------------------------------------ */

/* Fails the test with a message on stderr too: prove shows stderr, not the TAP line's text. */
static void G_GNUC_PRINTF(1, 2) fail_with(const char *format, ...)
{
	va_list args;
	va_start(args, format);
	char *message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("%s\n", message);
	g_test_fail_printf("%s", message);
	g_free(message);
}

static gboolean has_option(const struct golden_case *c, const char *option)
{
	return g_strv_contains((const char *const *)c->replay_options, option);
}

static void test_case_matches_golden(gconstpointer data)
{
	const struct golden_case *c = data;
	TEST_NEED_TSHARK();
	g_test_message("%s:%u: %s guards: %s", GOLDEN_LIST, c->line, c->name, c->guards);
	char *dir = test_tmpdir();
	char *out = g_build_filename(dir, "out.pcapng", NULL);
	GPtrArray *argv = replay_argv(c, dir, out);
	char *report = NULL, *err = NULL;
	int rc = test_run((const char *const *)argv->pdata, &report, &err);
	if (rc != 0 || *err) {
		char *how = reproduce_commands(c);
		g_printerr("%s:%u: natlb replay exited %d:\n%s%s", GOLDEN_LIST, c->line, rc, err, how);
		g_free(how);
	}
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	if (has_option(c, "--stats")) {
		/* every packet accounted for, and no view that contradicts the capture */
		g_assert_nonnull(strstr(report, ": balanced\n"));
		g_assert_null(strstr(report, "NOT BALANCED"));
		g_assert_null(strstr(report, "WARNING"));
		g_assert_null(strstr(report, "differ from the captured packet"));
	}

	char *got = test_tshark_fields(out, (const char *const *)c->prefs, c->filter, (const char *const *)c->fields);
	char *want = NULL;
	GError *error = NULL;
	g_file_get_contents(c->golden, &want, NULL, &error);
	g_assert_no_error(error);
	if (!g_str_equal(got, want)) {
		char *actual = g_strdup_printf("build/%s.fields.actual", c->name);
		if (!g_file_set_contents(actual, got, -1, NULL))
			g_free(g_steal_pointer(&actual));
		char *diff = diff_excerpt(c->golden, want, actual ? actual : "tshark's dump", got);
		char *how = reproduce_commands(c);
		g_printerr("%s:%u: case %s: tshark's dump of the replay differs from %s\n%s%s"
		           "(read the difference and understand it before replacing the golden dump)\n",
		           GOLDEN_LIST, c->line, c->name, c->golden, diff, how);
		g_test_fail_printf("%s differs from %s", actual ? actual : "tshark's dump", c->golden);
		g_free(how);
		g_free(diff);
		g_free(actual);
	}
	g_free(want);
	g_free(got);
	g_free(report);
	g_free(err);
	g_ptr_array_free(argv, TRUE);
	g_free(out);
	test_rmdir(dir);
}

/* Every golden dump in tests/golden/ is some case's, and every case's files are there. */
static void test_every_golden_file_has_a_case(gconstpointer data)
{
	const struct golden_list *list = data;
	GHashTable *named = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < list->cases->len; i++) {
		const struct golden_case *c = g_ptr_array_index(list->cases, i);
		g_hash_table_add(named, c->golden);
		const char *files[] = { c->capture, c->scenario, c->golden };
		for (unsigned f = 0; f < G_N_ELEMENTS(files); f++)
			if (!g_file_test(files[f], G_FILE_TEST_IS_REGULAR))
				fail_with("%s:%u: case %s: %s does not exist", GOLDEN_LIST, c->line, c->name, files[f]);
	}
	GDir *d = g_dir_open("tests/golden", 0, NULL);
	g_assert_nonnull(d);
	const char *entry;
	while ((entry = g_dir_read_name(d))) {
		char *path = g_build_filename("tests/golden", entry, NULL);
		if (g_str_has_suffix(entry, ".fields") && !g_hash_table_contains(named, path))
			fail_with("%s is in no case of %s: add its line, or remove it", path, GOLDEN_LIST);
		g_free(path);
	}
	g_dir_close(d);
	g_hash_table_destroy(named);
}

static void test_list_parse_failed(gconstpointer data)
{
	fail_with("%s", (const char *)data);
}

/* ---- The list's own parser and the diff ----------------------------------------------------------- */

static const char list_head[] = "fields views ip.src ip.dst\nprefs sums ip.check_checksum:TRUE\n";

struct parse_case {
	const char *name;
	const char *text;          /* after list_head */
	const char *want_error;    /* NULL: parses; else the whole message */
	const char *want_filter;   /* the case's display filter, when it parses */
};

static const struct parse_case parse_cases[] = {
	{ .name = "accepts/a-case-with-options-and-a-comment",
	  .text = "# a comment\n\n  a-1 in.pcap s.ini a.fields views sums -q --stats guards: the capture a\n" },
	{ .name = "accepts/no-prefs-and-no-replay-options",
	  .text = "a in.pcap s.ini a.fields views - guards: a\n" },
	{ .name = "accepts/a-display-filter-before-the-options",
	  .text = "filter syns  tcp.flags.syn == 1\n"
	          "a in.pcap s.ini a.fields views sums filter=syns -q --stats guards: the capture a\n",
	  .want_filter = "tcp.flags.syn == 1" },
	{ .name = "rejects/an-undefined-filter",
	  .text = "a in.pcap s.ini a.fields views - filter=acks guards: a\n",
	  .want_error = "L:3: filter 'acks' is not defined on a line above" },
	{ .name = "rejects/a-filter-without-an-expression",
	  .text = "filter empty\n",
	  .want_error = "L:3: 'filter' needs a name and at least one word of a display filter" },
	{ .name = "rejects/a-case-without-guards",
	  .text = "a in.pcap s.ini a.fields views -\n",
	  .want_error = "L:3: no \"guards:\" text: say which capture or behaviour the case protects" },
	{ .name = "rejects/empty-guards",
	  .text = "a in.pcap s.ini a.fields views - guards:  \n",
	  .want_error = "L:3: \"guards:\" is empty: say which capture or behaviour the case protects" },
	{ .name = "rejects/a-case-missing-its-prefs-column",
	  .text = "\na in.pcap s.ini a.fields views guards: a\n",
	  .want_error = "L:4: a case needs CASE CAPTURE SCENARIO GOLDEN FIELDS PREFS before \"guards:\", "
	                "this line has 5 word(s)" },
	{ .name = "rejects/an-undefined-fields-list",
	  .text = "a in.pcap s.ini a.fields view - guards: a\n",
	  .want_error = "L:3: fields list 'view' is not defined on a line above" },
	{ .name = "rejects/a-fields-list-used-before-it-is-defined",
	  .text = "a in.pcap s.ini a.fields later - guards: a\nfields later ip.src\n",
	  .want_error = "L:3: fields list 'later' is not defined on a line above" },
	{ .name = "rejects/an-undefined-prefs-list",
	  .text = "a in.pcap s.ini a.fields views none guards: a\n",
	  .want_error = "L:3: prefs list 'none' is not defined on a line above (\"-\" for none)" },
	{ .name = "rejects/a-case-name-unfit-for-a-test-path",
	  .text = "Home/NAT in.pcap s.ini a.fields views - guards: a\n",
	  .want_error = "L:3: case name 'Home/NAT': use lower-case letters, digits and '-' (it becomes a test path)" },
	{ .name = "rejects/the-same-case-twice",
	  .text = "a in.pcap s.ini a.fields views - guards: a\na in.pcap s.ini b.fields views - guards: b\n",
	  .want_error = "L:4: case 'a' is already on line 3" },
	{ .name = "rejects/one-golden-dump-for-two-cases",
	  .text = "a in.pcap s.ini a.fields views - guards: a\nb in.pcap s.ini a.fields views - guards: b\n",
	  .want_error = "L:4: a.fields is already the golden dump of case 'a' (line 3)" },
	{ .name = "rejects/a-fields-list-without-fields",
	  .text = "fields empty\n",
	  .want_error = "L:3: 'fields' needs a name and at least one tshark field" },
	{ .name = "rejects/a-list-defined-twice",
	  .text = "prefs sums tcp.check_checksum:TRUE\n",
	  .want_error = "L:3: prefs list 'sums' is defined twice" },
	{ .name = "rejects/a-list-named-dash",
	  .text = "prefs - tcp.check_checksum:TRUE\n",
	  .want_error = "L:3: '-' means \"no preferences\" and cannot name a prefs list" },
	{ .name = "rejects/a-list-of-no-case",
	  .text = "# nothing\n",
	  .want_error = "L: no case in the list" },
};

static void test_list_parser(gconstpointer data)
{
	const struct parse_case *pc = data;
	char *text = g_strconcat(list_head, pc->text, NULL);
	struct golden_list list;
	golden_list_init(&list);
	GError *err = NULL;
	gboolean ok = golden_list_parse("L", text, &list, &err);
	if (pc->want_error) {
		g_assert_false(ok);
		g_assert_nonnull(err);
		g_assert_cmpstr(err->message, ==, pc->want_error);
		g_error_free(err);
	} else {
		g_assert_no_error(err);
		g_assert_true(ok);
		g_assert_cmpuint(list.cases->len, ==, 1);
		const struct golden_case *c = g_ptr_array_index(list.cases, 0);
		g_assert_cmpstr(c->capture, ==, "in.pcap");
		g_assert_cmpstr(c->scenario, ==, "s.ini");
		g_assert_cmpstr(c->golden, ==, "a.fields");
		g_assert_cmpstr(c->fields[0], ==, "ip.src");
		g_assert_cmpstr(c->fields[1], ==, "ip.dst");
		g_assert_null(c->fields[2]);
		g_assert_cmpstr(c->filter, ==, pc->want_filter);
		if (c->replay_options[0]) {
			g_assert_cmpstr(c->prefs[0], ==, "ip.check_checksum:TRUE");
			g_assert_cmpstr(c->replay_options[0], ==, "-q");
			g_assert_cmpstr(c->replay_options[1], ==, "--stats");
			g_assert_null(c->replay_options[2]);
			g_assert_cmpstr(c->guards, ==, "the capture a");
		} else {
			g_assert_null(c->prefs[0]);
		}
	}
	golden_list_clear(&list);
	g_free(text);
}

struct diff_case {
	const char *name;
	const char *want, *got;
	const char *excerpt;
};

static const struct diff_case diff_cases[] = {
	{ .name = "one-line-changed-in-the-middle",
	  .want = "1\n2\n3\n4\n5\n6\n7\n8\n9\n", .got = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
	  .excerpt = "--- W\n+++ G\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n" },
	{ .name = "a-line-added-at-the-end",
	  .want = "1\n2\n", .got = "1\n2\n3\n",
	  .excerpt = "--- W\n+++ G\n@@ -1,2 +1,3 @@\n 1\n 2\n+3\n" },
	{ .name = "the-first-line-removed",
	  .want = "1\n2\n", .got = "2\n",
	  .excerpt = "--- W\n+++ G\n@@ -1,2 +1,1 @@\n-1\n 2\n" },
	{ .name = "everything-removed",
	  .want = "1\n2\n", .got = "",
	  .excerpt = "--- W\n+++ G\n@@ -1,2 +0,0 @@\n-1\n-2\n" },
	{ .name = "long-differences-cut-after-12-lines",
	  .want = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\n", .got = "z\n",
	  .excerpt = "--- W\n+++ G\n@@ -1,14 +1,1 @@\n-a\n-b\n-c\n-d\n-e\n-f\n-g\n-h\n-i\n-j\n-k\n-l\n-... (2 more)\n+z\n" },
};

static void test_diff_excerpt(gconstpointer data)
{
	const struct diff_case *dc = data;
	char *got = diff_excerpt("W", dc->want, "G", dc->got);
	g_assert_cmpstr(got, ==, dc->excerpt);
	g_free(got);
}

int main(int argc, char **argv)
{
	/* A change in natlb usually moves several dumps at once: report every case that differs
	 * (g_test_fail_printf), not only the first.  Assertions about the replay itself still stop. */
	char **args = g_new0(char *, (gsize)argc + 2);
	args[0] = argv[0];
	args[1] = "--keep-going";
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	int n_args = argc + 1;
	char **test_argv = args;
	g_test_init(&n_args, &test_argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		char *path = g_strdup_printf("/golden/list/%s", parse_cases[i].name);
		g_test_add_data_func(path, &parse_cases[i], test_list_parser);
		g_free(path);
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(diff_cases); i++) {
		char *path = g_strdup_printf("/golden/diff/%s", diff_cases[i].name);
		g_test_add_data_func(path, &diff_cases[i], test_diff_excerpt);
		g_free(path);
	}

	struct golden_list list;
	golden_list_init(&list);
	char *text = NULL;
	GError *err = NULL;
	char *failure = NULL;
	if (!g_file_get_contents(GOLDEN_LIST, &text, NULL, &err) || !golden_list_parse(GOLDEN_LIST, text, &list, &err)) {
		failure = g_strdup(err->message);
		g_test_add_data_func("/golden/list/parses", failure, test_list_parse_failed);
		g_error_free(err);
	} else {
		g_test_add_data_func("/golden/list/every-golden-file-has-a-case", &list, test_every_golden_file_has_a_case);
		for (guint i = 0; i < list.cases->len; i++) {
			const struct golden_case *c = g_ptr_array_index(list.cases, i);
			char *path = g_strdup_printf("/golden/%s/matches-tshark-dump", c->name);
			g_test_add_data_func(path, c, test_case_matches_golden);
			g_free(path);
		}
	}
	int rc = g_test_run();
	golden_list_clear(&list);
	g_free(failure);
	g_free(text);
	g_free(args);
	return rc;
}
