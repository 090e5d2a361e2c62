/* tools/gen_lessons_l7.h: the L7 balancer lesson captures (tools/gen_lessons_l7.c), for the table in gen_lessons.c. */
#ifndef NATLB_GEN_LESSONS_L7_H
#define NATLB_GEN_LESSONS_L7_H

#include "tools/gen.h"

gboolean gen_alb_shop(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_alb_smuggling(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_alb_blue_green(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_bench_l7(const char *path, const struct gen_options *opt, GError **err);

#endif
