/* nat/route_table.h: a VPC subnet route table: longest prefix match to local, the next stage, a gateway endpoint, or a blackhole. */
#ifndef NATLB_ROUTE_TABLE_H
#define NATLB_ROUTE_TABLE_H

#include "common/stage-t.h"

extern const struct stage_ops route_table_ops;

#endif
