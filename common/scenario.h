/* common/scenario.h: loading scenario key files (DESIGN.md "The scenario format"). */
#ifndef NATLB_SCENARIO_H
#define NATLB_SCENARIO_H

#include "common/scenario-t.h"

#define SCENARIO_ERROR scenario_error_quark()
enum scenario_error {
	SCENARIO_ERROR_READ,   /* the file could not be read */
	SCENARIO_ERROR_SYNTAX, /* not a key file */
	SCENARIO_ERROR_GROUP,  /* unknown or missing group */
	SCENARIO_ERROR_KEY,    /* unknown or missing key */
	SCENARIO_ERROR_VALUE,  /* a value that does not parse or does not fit */
	SCENARIO_ERROR_MEMORY, /* a valid scenario whose tables do not fit in memory: a runtime failure */
};
GQuark scenario_error_quark(void);

/* Parse text (source names it in messages), with the stage types in types.  Errors read
 * "SOURCE:LINE: [group] key: what is wrong".  For text a program puts together: a group or key
 * given twice is merged as GKeyFile merges it, the later value winning (tests append overrides). */
struct scenario *scenario_load_data(const struct stage_registry *types, const char *source, const char *text,
                                    GError **err);
/* The same for text a person wrote (a file's contents, natlb check and replay read them so):
 * len bytes, and a NUL among them is refused (GKeyFile would silently end the line there), as is
 * a group or a key given twice in a group (GKeyFile would merge them silently), naming both
 * lines.  Both: a UTF-8 byte-order mark at the start is skipped. */
struct scenario *scenario_load_bytes(const struct stage_registry *types, const char *source, const char *text,
                                     size_t len, GError **err);
struct scenario *scenario_load_file(const struct stage_registry *types, const char *path, GError **err);
/* What loaded but is probably a mistake, one sentence each, "SOURCE:LINE: [group] ...": an
 * address a stage answers for inside another link's networks, a small Maglev table.  Empty when none. */
const GPtrArray *scenario_warnings(const struct scenario *sc);
void scenario_free(struct scenario *sc);

/* The scenario back as a key file with every default filled in (natlb check). */
void scenario_describe(const struct scenario *sc, GString *out);

/* Which link holds addr: the link whose networks match it longest, else the default link. */
unsigned scenario_link_of(const struct scenario *sc, uint32_t addr);

/* The [prefix-list NAME] group of that name, for stages that route on prefix lists (route-table);
 * NULL when there is none.  They are parsed before any stage is configured. */
const struct prefix_list *scenario_prefix_list(const struct scenario *sc, const char *name);

/* Key access for stage configure() functions.  A missing optional key returns def / FALSE
 * without error.  Values are trimmed. */
char *stage_config_string(const struct stage_config *cfg, const char *key, const char *def);
/* A list split on ';' or ',' (empty items dropped); NULL when the key is absent. */
char **stage_config_list(const struct stage_config *cfg, const char *key);
gboolean stage_config_has(const struct stage_config *cfg, const char *key);
/* A duration, the same for every stage: a plain number of seconds or a number and a unit,
 * "350", "350s", "1.5s", "500ms", "5m", "1h" (blanks allowed before the unit).  Into *ns;
 * false with *why saying what is wrong, to follow the quoted value ("is negative: ..."). */
gboolean duration_parse(const char *text, int64_t *ns, const char **why);
/* ns back in the shortest of those forms that is exact ("350s", "500ms"). */
void duration_append(GString *out, int64_t ns);
/* The duration under key, within [min_ns, max_ns]; def_ns when the key is absent.  False with
 * err "SOURCE:LINE: [group] key: ..." when the value does not parse or does not fit. */
gboolean stage_config_duration(const struct stage_config *cfg, const char *key, int64_t def_ns, int64_t min_ns,
                               int64_t max_ns, int64_t *ns, GError **err);
/* Add "SOURCE:LINE: [group] key: MESSAGE" to the scenario's warnings (key may be NULL). */
void stage_config_warn(const struct stage_config *cfg, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Set err to "SOURCE:LINE: [group] key: MESSAGE" (SCENARIO_ERROR_VALUE). */
void stage_config_error(const struct stage_config *cfg, const char *key, GError **err,
                        const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* The closest of candidates to word (edit distance <= 2 or a shared prefix), or NULL. */
const char *nearest_name(const char *word, const char *const *candidates, unsigned n);

#endif
