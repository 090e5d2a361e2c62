/* common/note.h: formatting annotations into reused GStrings without allocating (the replay loop's hot path).
 *
 * g_string_append_printf() allocates a temporary string on every call; at two million packets
 * that is two million malloc/free pairs.  These format straight into the GString's spare room,
 * which only grows (rarely) when a sentence is longer than any before it.
 */
#ifndef NATLB_NOTE_H
#define NATLB_NOTE_H

#include <glib.h>
#include <stdint.h>

/* Append printf-style text to s. */
void note_appendf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Replace s's text. */
void note_printf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Append an unsigned number without printf. */
void note_append_uint(GString *s, unsigned v);
/* Append a dotted-quad address (host order) without printf. */
void note_append_ip4(GString *s, uint32_t addr);
/* Append "address:port". */
void note_append_endpoint(GString *s, uint32_t addr, uint16_t port);

#endif
