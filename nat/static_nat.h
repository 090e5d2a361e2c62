/* nat/static_nat.h: one-to-one static NAT of hosts and prefixes (RFC 2663 section 4.1, "Basic NAT"). */
#ifndef NATLB_STATIC_NAT_H
#define NATLB_STATIC_NAT_H

#include "common/stage-t.h"

extern const struct stage_ops static_nat_ops;

#endif
