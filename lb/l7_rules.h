/* lb/l7_rules.h: parsing and evaluating the L7 balancer's listener rules (AWS ALB "Listener rules", "Condition types for listener rules"). */
#ifndef NATLB_LB_L7_RULES_H
#define NATLB_LB_L7_RULES_H

#include <glib.h>

#include "lb/l7_rules-t.h"

/* Errors are G_KEY_FILE_ERROR / G_KEY_FILE_ERROR_INVALID_VALUE, with a message that names the
 * problem and quotes at most 80 characters of the text; the caller prefixes file, group and key. */

void l7_rules_init(struct l7_rules *rs);
void l7_rules_clear(struct l7_rules *rs);

/* "rule.10" -> 10; anything but "rule." and a number in 1..50000 is an error. */
gboolean l7_rule_parse_priority(const char *key, unsigned *priority, GError **err);

/* A "rule.N" value: "CONDITION [AND CONDITION]... -> ACTION".  Refuses a priority used twice.
 * Adding moves rules in memory: add every rule before matching. */
gboolean l7_rules_add(struct l7_rules *rs, unsigned priority, const char *text, GError **err);

/* The "default" value: an action only ("fixed-response 404"); replaces an earlier default. */
gboolean l7_rules_set_default(struct l7_rules *rs, const char *text, GError **err);

/* Whether each forward target group exists is the caller's to check, once every rule is in:
 * fn is called for every group a forward action names (rules in priority order, then the
 * default), and the walk stops at the first for which it returns false; that name is
 * returned (owned by rs), or NULL when fn accepted all.  *priority, when not NULL, gets the
 * rule that names it (0 for the default). */
const char *l7_rules_foreach_group(const struct l7_rules *rs, bool (*fn)(const char *group, void *data), void *data,
                                   unsigned *priority);

/* The first rule that matches, or NULL for the default action; *evaluated (may be NULL) = how
 * many rules were tried (ALB's RuleEvaluations counts them).  trace, when not NULL, gets one line
 * per rule tried,
 *   "rule 10: host-header api.example.com matched; path-pattern /v1* did not match /v2/cart -> no"
 *   "rule 20: path-pattern /static*, *.js matched /static/a.css -> forward web"
 * and "default: fixed-response 404" when none matched; a subject equal to the value it matched
 * is not repeated.  With trace NULL nothing is allocated. */
const struct l7_rule *l7_rules_match(const struct l7_rules *rs, const struct l7_request *req, unsigned *evaluated,
                                     GString *trace);

/* r's action, or the default for NULL (NULL if there is no default). */
const struct l7_action *l7_rules_action(const struct l7_rules *rs, const struct l7_rule *r);

/* The group index of a forward action for the caller's 64-bit hash h: h mod the total weight,
 * walked over the weights, so each group gets a share of h proportional to its weight and a
 * group of weight 0 none. */
unsigned l7_forward_pick(const struct l7_action *a, uint64_t h);

/* Appends the redirect's URL with #{protocol} (the protocol argument, "http" or "https"),
 * #{host}, #{port}, #{path} (without its leading '/', as ALB documents) and #{query} (without
 * '?') filled from req; when the URL then ends in '?' (an empty query) the '?' is dropped. */
void l7_redirect_expand(const struct l7_action *a, const struct l7_request *req, const char *protocol, GString *out);

/* '*' matches any run of characters (none too), '?' exactly one, '\' makes the next character
 * literal (ALB's escape for query strings).  fold_case compares ASCII letters case-insensitively.
 * Greedy with one backtrack point: O(pat_len * len) at worst, no recursion. */
bool l7_wildcard_match(const char *pat, size_t pat_len, const char *s, size_t len, bool fold_case);

#endif
