/* common/scenario-t.h: a parsed scenario: links, the chain of stages, the capture point (types only). */
#ifndef NATLB_SCENARIO_T_H
#define NATLB_SCENARIO_T_H

#include "common/addr.h"
#include "common/stage-t.h"

#define SCENARIO_MAX_LINKS    16
#define LINK_MAX_NETWORKS     32

/* A network segment; one interface in the output. */
struct link {
	char *name;
	char *description;
	unsigned index;                          /* position in the chain, 0 = first */
	struct ip4_prefix networks[LINK_MAX_NETWORKS];
	unsigned n_networks;                     /* 0: a transit link such as the internet */
};

/* A [prefix-list NAME] group: named prefixes a stage can route on, as an AWS managed prefix list
 * (pl-xxxx, "com.amazonaws.REGION.s3") names the address ranges of a service. */
struct prefix_list {
	char *name;
	char *description;
	struct ip4_prefix *prefixes;
	unsigned n_prefixes;
};

/* One network of a link, as the replay loop matches addresses against it. */
struct scenario_route {
	uint32_t addr, mask;     /* addr: the network (routes) or its directed broadcast (broadcasts) */
	unsigned link, network;  /* links[link].networks[network] */
};

struct scenario {
	char *source;        /* file path, or "built-in LESSON" */
	char *description;
	struct link links[SCENARIO_MAX_LINKS];
	unsigned n_links;
	struct stage *stages[SCENARIO_MAX_LINKS - 1]; /* stages[i] sits between links i and i+1 */
	unsigned n_stages;
	unsigned capture;        /* index of the link the input was captured on */
	bool routers;            /* routers = yes (default): stages that route act as routers (common/router.h) */
	unsigned default_link;   /* where addresses no link claims live: the first link without networks */
	struct prefix_list *prefix_lists; /* the [prefix-list NAME] groups, in file order */
	unsigned n_prefix_lists;
	GPtrArray *warnings;     /* char *: what loads but is probably not what the teacher meant */
	/* Made once at load, because every packet asks several times where an address lives: all the
	 * links' networks, longest prefix first (ties in file order), and the directed broadcasts of
	 * those that have one (common/chain.c), in link order. */
	struct scenario_route routes[SCENARIO_MAX_LINKS * LINK_MAX_NETWORKS];
	unsigned n_routes;
	struct scenario_route broadcasts[SCENARIO_MAX_LINKS * LINK_MAX_NETWORKS];
	unsigned n_broadcasts;
};

/* What a stage's configure() reads its keys through: errors then name the file, line, group and key. */
struct stage_config {
	GKeyFile *kf;
	const char *group;       /* "stage office" */
	const char *source;      /* for messages */
	const char *text;        /* the scenario text, to find line numbers */
	const struct scenario *scenario;
	GPtrArray *warnings;     /* the scenario's: stage_config_warn() adds to it */
};

#endif
