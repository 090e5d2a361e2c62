/* tools/cli_usage.c: one line on stderr for a verb's bad command line, and its exit status (DESIGN.md, "The command line"). */
#include <stdarg.h>
#include <stdio.h>

#include <glib.h>

#include "tools/cli.h"

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "natlb %s: %s\n", verb, msg);
	g_free(msg);
	return EXIT_USAGE;
}
