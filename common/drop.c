/* common/drop.c: names and sentences of the loop's own drop reasons (common/drop.h). */
#include <stddef.h>

#include "common/drop.h"

static const struct drop_info loop_drops[DROP_N] = {
#define X(name, text) [DROP_##name] = { #name, text },
	foreach_loop_drop
#undef X
};

const struct drop_info *loop_drop_info(unsigned code)
{
	return code < DROP_N ? &loop_drops[code] : NULL;
}

const char *drop_reason_text(enum drop_reason r)
{
	return (unsigned)r < DROP_N ? loop_drops[r].text : "unknown reason";
}
