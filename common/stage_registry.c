/* common/stage_registry.c: the stage types a scenario may name; a new type is one file and one line here. */
#include <string.h>

#include "common/stage.h"
#include "lb/l4lb.h"
#include "nat/napt.h"
#include "nat/route_table.h"
#include "nat/static_nat.h"

static const struct stage_ops *const stage_type_table[] = {
	&static_nat_ops,
	&napt_ops,
	&route_table_ops,
	&l4lb_ops,
};

#define STAGE_TYPES_MAX 32

/* The table above, then the types registered at run time. */
static const struct stage_ops *all_types[STAGE_TYPES_MAX];
static unsigned n_all_types;

static void stage_types_init(void)
{
	if (n_all_types)
		return;
	for (unsigned i = 0; i < G_N_ELEMENTS(stage_type_table); i++)
		all_types[n_all_types++] = stage_type_table[i];
}

void stage_type_register(const struct stage_ops *ops)
{
	stage_types_init();
	g_return_if_fail(n_all_types < STAGE_TYPES_MAX && !stage_type_find(ops->type));
	all_types[n_all_types++] = ops;
}

const struct stage_ops *const *stage_types(unsigned *n)
{
	stage_types_init();
	*n = n_all_types;
	return all_types;
}

const struct stage_ops *stage_type_find(const char *type)
{
	stage_types_init();
	for (unsigned i = 0; i < n_all_types; i++)
		if (strcmp(all_types[i]->type, type) == 0)
			return all_types[i];
	return NULL;
}
