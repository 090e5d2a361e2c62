/* tools/stage_types.c: the stage types a scenario may name; a new type is one file and one line here (STYLE.md habit 7).
 *
 * This is where the binary is put together: common/ knows stages only through struct stage_ops,
 * and nat/ and lb/ each provide their types' tables.
 */
#include "common/stage.h"
#include "lb/l4lb.h"
#include "lb/l7lb.h"
#include "nat/napt.h"
#include "nat/route_table.h"
#include "nat/shield.h"
#include "nat/static_nat.h"
#include "tools/stage_types.h"

static const struct stage_ops *const builtin_types[] = {
	&static_nat_ops,
	&napt_ops,
	&route_table_ops,
	&l4lb_ops,
	&l7lb_ops,
	&shield_ops,
};

const struct stage_registry *natlb_stage_types(void)
{
	static struct stage_registry reg;

	if (reg.n == 0)
		for (unsigned i = 0; i < G_N_ELEMENTS(builtin_types); i++)
			stage_registry_add(&reg, builtin_types[i]);
	return &reg;
}
