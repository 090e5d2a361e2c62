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

void note_append_uint(GString *s, unsigned v)
{
	char digits[10];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		g_string_append_c(s, digits[--n]);
}

void note_append_ip4(GString *s, uint32_t addr)
{
	for (int shift = 24; shift >= 0; shift -= 8) {
		note_append_uint(s, (addr >> shift) & 0xff);
		if (shift)
			g_string_append_c(s, '.');
	}
}

void note_append_endpoint(GString *s, uint32_t addr, uint16_t port)
{
	note_append_ip4(s, addr);
	g_string_append_c(s, ':');
	note_append_uint(s, port);
}
