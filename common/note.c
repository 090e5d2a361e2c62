/* common/note.c: allocation-free formatting of annotations into reused GStrings. */
#include <stdarg.h>
#include <stdio.h>

#include "common/note.h"

static void note_vappendf(GString *s, const char *fmt, va_list ap)
{
	for (;;) {
		gsize room = s->allocated_len - s->len;
		va_list copy;
		va_copy(copy, ap);
		int n = vsnprintf(s->str + s->len, room, fmt, copy);
		va_end(copy);
		if (n < 0)
			return;
		if ((gsize)n < room) {
			s->len += (gsize)n;
			return;
		}
		/* Grow once to fit, keep the text, and format again. */
		gsize len = s->len;
		g_string_set_size(s, len + (gsize)n + 1);
		g_string_truncate(s, len);
	}
}

void note_appendf(GString *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note_vappendf(s, fmt, ap);
	va_end(ap);
}

void note_printf(GString *s, const char *fmt, ...)
{
	va_list ap;
	g_string_truncate(s, 0);
	va_start(ap, fmt);
	note_vappendf(s, fmt, ap);
	va_end(ap);
}

void note_buf_flush(struct note_buf *nb)
{
	note_put(nb->note, nb->b, nb->n);
	nb->n = 0;
}

size_t note_put_digits(char *text, size_t at, uint64_t v)
{
	/* Two digits a step, from the last: the counters and numbers of every comment are printed
	 * here, and a division per digit cost more than the rest of the sentence. */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	                            "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	                            "8081828384858687888990919293949596979899";
	unsigned n = 1;
	for (uint64_t p = 10; v >= p && ++n < 20; p *= 10)
		;
	char *d = text + at + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		d -= 2;
		memcpy(d, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		d -= 2;
		memcpy(d, pairs + 2 * v, 2);
	} else {
		*--d = (char)('0' + v);
	}
	return at + n;
}

void note_buf_uint(struct note_buf *nb, uint32_t v)
{
	char digits[10];
	note_buf_put(nb, digits, note_put_digits(digits, 0, v));
}

void note_buf_ip4(struct note_buf *nb, uint32_t addr)
{
	if (nb->n + 15 > sizeof nb->b) /* "255.255.255.255" */
		note_buf_flush(nb);
	char *d = nb->b + nb->n;
	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned o = (addr >> shift) & 0xff;
		/* at most three digits: divisions by constants, no loop */
		if (o >= 100)
			*d++ = (char)('0' + o / 100);
		if (o >= 10)
			*d++ = (char)('0' + o / 10 % 10);
		*d++ = (char)('0' + o % 10);
		if (shift)
			*d++ = '.';
	}
	nb->n = (size_t)(d - nb->b);
}

void note_append_uint(GString *s, unsigned v)
{
	struct note_buf nb;
	note_buf_init(&nb, s);
	note_buf_uint(&nb, v);
	note_buf_flush(&nb);
}

void note_append_ip4(GString *s, uint32_t addr)
{
	struct note_buf nb;
	note_buf_init(&nb, s);
	note_buf_ip4(&nb, addr);
	note_buf_flush(&nb);
}

void note_append_endpoint(GString *s, uint32_t addr, uint16_t port)
{
	struct note_buf nb;
	note_buf_init(&nb, s);
	note_buf_ip4(&nb, addr);
	NOTE_BUF_LIT(&nb, ":");
	note_buf_uint(&nb, port);
	note_buf_flush(&nb);
}
