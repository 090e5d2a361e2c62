/* common/drop.c: names and sentences of the drop reasons listed in common/drop.h. */
#include "common/drop.h"

static const char *const drop_texts[DROP_N] = {
#define X(name, text) [DROP_##name] = text,
	foreach_drop_reason
#undef X
};

static const char *const drop_names[DROP_N] = {
#define X(name, text) [DROP_##name] = #name,
	foreach_drop_reason
#undef X
};

const char *drop_reason_text(enum drop_reason r)
{
	return (unsigned)r < DROP_N ? drop_texts[r] : "unknown reason";
}

const char *drop_reason_name(enum drop_reason r)
{
	return (unsigned)r < DROP_N ? drop_names[r] : "UNKNOWN";
}
