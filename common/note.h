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
#include <string.h>

/* Append printf-style text to s. */
void note_appendf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Replace s's text. */
void note_printf(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A sentence built in a local buffer and appended to its GString at once, for the notes written
 * for every packet: a GString call per piece, or printf, costs more than the translation the
 * sentence describes.  Start with note_buf_init(), end with note_buf_flush(). */
struct note_buf {
	GString *note;
	size_t n;          /* bytes of b in use; b is not zeroed, only b[0..n) is read */
	char b[240];
};

void note_buf_flush(struct note_buf *nb);

static inline void note_buf_init(struct note_buf *nb, GString *note)
{
	nb->note = note;
	nb->n = 0;
}

static inline void note_buf_put(struct note_buf *nb, const char *s, size_t len)
{
	if (nb->n + len > sizeof nb->b)
		note_buf_flush(nb);
	if (len > sizeof nb->b) {
		g_string_append_len(nb->note, s, (gssize)len);
		return;
	}
	memcpy(nb->b + nb->n, s, len);
	nb->n += len;
}

#define NOTE_BUF_LIT(nb, lit) note_buf_put((nb), (lit), sizeof(lit) - 1)

/* The decimal digits of v at text + at, most significant first, without printf and without a
 * NUL (text needs room for 20); returns at plus their number. */
size_t note_put_digits(char *text, size_t at, uint64_t v);
/* "%u" */
void note_buf_uint(struct note_buf *nb, uint32_t v);
/* A dotted quad (host order). */
void note_buf_ip4(struct note_buf *nb, uint32_t addr);

/* g_string_append_len() for the few bytes of a note's piece: GLib's checks whether the bytes
 * overlap the string, which costs more than the copy; these never do. */
static inline void note_put(GString *s, const char *p, size_t n)
{
	if (s->allocated_len - s->len > n) {
		memcpy(s->str + s->len, p, n);
		s->len += n;
		s->str[s->len] = '\0';
	} else {
		g_string_append_len(s, p, (gssize)n);
	}
}

#define NOTE_PUT_LIT(s, lit) note_put((s), (lit), sizeof(lit) - 1)

/* g_string_assign() for a note of every packet: GLib's goes through g_string_insert_len(), which
 * checks for overlap and costs more than the copy. */
static inline void note_set(GString *s, const char *p, size_t n)
{
	g_string_truncate(s, 0);
	note_put(s, p, n);
}

/* "s" after a count that is not 1: "1 packet", "2 packets". */
static inline const char *note_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* Append an unsigned number without printf. */
void note_append_uint(GString *s, unsigned v);
/* Append a dotted-quad address (host order) without printf. */
void note_append_ip4(GString *s, uint32_t addr);
/* Append "address:port". */
void note_append_endpoint(GString *s, uint32_t addr, uint16_t port);

#endif
