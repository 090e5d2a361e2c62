/* tools/gen_lessons_lb.h: the L4 balancer lesson captures (tools/gen_lessons_lb.c), for the table in gen_lessons.c. */
#ifndef NATLB_GEN_LESSONS_LB_H
#define NATLB_GEN_LESSONS_LB_H

#include "tools/gen.h"

gboolean gen_lb_spread(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_lb_dns(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_lb_client_ip(const char *path, const struct gen_options *opt, GError **err);
gboolean gen_lb_target_log(const char *path, const struct gen_options *opt, GError **err);

#endif
