/* nat/shield_priv.h: what nat/shield.c and nat/shield_config.c share (not for other modules). */
#ifndef NATLB_SHIELD_PRIV_H
#define NATLB_SHIELD_PRIV_H

#include "common/stage-t.h"
#include "nat/shield-t.h"

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

extern const char *const shield_keys[];
gboolean shield_configure(struct stage *st, const struct stage_config *cfg, GError **err);
void shield_describe(const struct stage *st, GString *out);
void shield_destroy(struct stage *st);

#endif
