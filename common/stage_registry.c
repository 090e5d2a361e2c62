/* common/stage_registry.c: the stage types a scenario may name; a new type is one file and one line here. */
#include <string.h>

#include "common/stage.h"
#include "nat/static_nat.h"

static const struct stage_ops *const stage_type_table[] = {
	&static_nat_ops,
};

const struct stage_ops *const *stage_types(unsigned *n)
{
	*n = G_N_ELEMENTS(stage_type_table);
	return stage_type_table;
}

const struct stage_ops *stage_type_find(const char *type)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(stage_type_table); i++)
		if (strcmp(stage_type_table[i]->type, type) == 0)
			return stage_type_table[i];
	return NULL;
}

const char *hop_dir_name(enum hop_dir dir)
{
	return dir == DIR_LEFT_TO_RIGHT ? "left-to-right" : "right-to-left";
}
