/* nat/route_table.h: a VPC subnet route table: longest prefix match to local, the next stage, a gateway endpoint, or a blackhole. */
#ifndef NATLB_ROUTE_TABLE_H
#define NATLB_ROUTE_TABLE_H

#include "common/stage-t.h"

extern const struct stage_ops route_table_ops;

struct iam_policy;
/* The policy of gateway endpoint vpce of a route-table stage, or with vpce NULL its only one;
 * *name (may be NULL) gets the endpoint's name.  NULL when there is no such policy (or several
 * and vpce is NULL). */
const struct iam_policy *route_table_endpoint_policy(const struct stage *st, const char *vpce, const char **name);

/* Why the route-table stage drops a packet (its stage_ops.drops). */
#define foreach_route_drop(X) \
	X(ROUTE_BLACKHOLE, "its destination matches a blackhole route") \
	X(ROUTE_NO_ROUTE, "no route matches its destination") \
	X(ROUTE_LOCAL_NO_HOST, "its destination is in the local route, but no link of the VPC holds that address") \
	X(ROUTE_POLICY_DENIED, "the gateway endpoint's policy denies the S3 request it carries") \
	X(ROUTE_POLICY_ANSWERED, "it answers a request the endpoint's policy denied: the endpoint's 403 went in its place")

enum route_drop {
	ROUTE_DROP_BEFORE = DROP_STAGE_FIRST - 1, /* so that the first reason is DROP_STAGE_FIRST */
	foreach_route_drop(DROP_ENUM_ENTRY)
	ROUTE_DROP_END
};

#endif
