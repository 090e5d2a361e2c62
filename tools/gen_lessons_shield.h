/* tools/gen_lessons_shield.h: the shield lesson capture (tools/gen_lessons_shield.c), for the table in gen_lessons.c. */
#ifndef NATLB_GEN_LESSONS_SHIELD_H
#define NATLB_GEN_LESSONS_SHIELD_H

#include "tools/gen.h"

gboolean gen_shield_attacks(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_bench_syn_flood(const char *path, const struct gen_options *opt, GError **err);

#endif
