/* tools/stage_types.h: the stage types the natlb binary is built with, for the scenario loader. */
#ifndef NATLB_TOOLS_STAGE_TYPES_H
#define NATLB_TOOLS_STAGE_TYPES_H

#include "common/stage-t.h"

const struct stage_registry *natlb_stage_types(void);

#endif
