/* common/json_depth.h: how deep a JSON text nests, checked before json-glib parses it (RFC 8259 section 9: a parser may limit nesting).
 *
 * json-glib's parser recurses once per level of arrays and objects, so a hostile file of a few
 * hundred kilobytes of "[" exhausts the stack.  Every reader of an untrusted JSON document (a
 * --tables file, an IAM policy) asks this first.
 */
#ifndef NATLB_JSON_DEPTH_H
#define NATLB_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

/* Is the nesting of arrays and objects in text[0..len) at most max deep?  Brackets inside
 * strings do not count (escapes skipped); the text need not be valid JSON. */
bool json_depth_ok(const char *text, size_t len, unsigned max);

#endif
