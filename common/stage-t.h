/* common/stage-t.h: the types of the stage API, the contract between the replay loop and a middlebox.
 *
 * A stage sits between two links of the chain: its left link comes first in the chain (a NAT's
 * inside, a balancer's clients), its right link after.  For every packet that crosses it the
 * loop calls process() with the direction of travel; the stage translates the packet in place,
 * appends one sentence to ctx->note and returns a verdict (STYLE.md habit 8).  A stage may also
 * emit packets of its own (an ICMP error, a TCP RST) through stage_emit().
 *
 * reverse() answers the inverse question, for a packet captured after it crossed the stage:
 * "what did it look like before you translated it?".  It must not change the stage's state:
 * the loop then replays the packet forward from where it came from, and process() does the
 * bookkeeping (and may drop it: a probe the NAT would have filtered never reached the capture).
 */
#ifndef NATLB_STAGE_T_H
#define NATLB_STAGE_T_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/drop.h"
#include "common/packet-t.h"

enum hop_dir {
	DIR_LEFT_TO_RIGHT, /* away from the start of the chain: a NAT's in2out */
	DIR_RIGHT_TO_LEFT, /* towards the start of the chain: a NAT's out2in */
};

enum side {
	SIDE_LEFT,
	SIDE_RIGHT,
};

enum verdict {
	VERDICT_FORWARD,  /* continue to the link on the other side */
	VERDICT_DROP,     /* stop here; ctx->drop says why */
	VERDICT_CONSUMED, /* the stage took the packet (a proxy terminating a connection) */
};

struct stage;
struct stage_config;
struct emitter;
struct link;

/* What the loop hands a stage with each packet. */
struct stage_ctx {
	int64_t now_ns;          /* capture time of the packet */
	GString *note;           /* append one sentence: what you did and why */
	enum drop_reason drop;   /* set it when returning VERDICT_DROP */
	struct emitter *emitter; /* for stage_emit() */
	uint64_t seed;           /* --seed, for stages that choose at random */
};

/* Counted by the loop for every stage, so that in = forwarded + dropped + consumed. */
struct stage_counters {
	uint64_t in[2];             /* per enum hop_dir */
	uint64_t forwarded;
	uint64_t consumed;
	uint64_t dropped;
	uint64_t drops[DROP_N];
	uint64_t reversed;          /* captured packets whose earlier view this stage derived */
	uint64_t emitted;
};

/* A stage type, looked up by the scenario's "type = ..." (STYLE.md habit 7). */
struct stage_ops {
	const char *type;                 /* "static-nat" */
	const char *summary;              /* one line for natlb check and the README */
	const char *const *keys;          /* scenario keys it accepts besides "type"; NULL-terminated */
	gboolean (*configure)(struct stage *st, const struct stage_config *cfg, GError **err);
	/* The settings with every default filled in, as key = value lines (natlb check). */
	void (*describe)(const struct stage *st, GString *out);
	/* Does the stage answer for addr on that side (a NAT's external address, a VIP)? */
	bool (*claims)(const struct stage *st, uint32_t addr, enum side side);
	enum verdict (*process)(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
	/* Undo the translation of a packet that left the stage in dir; false if it cannot have. */
	bool (*reverse)(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx);
	/* Capture time moved to now: expire what timed out (optional). */
	void (*advance)(struct stage *st, int64_t now_ns, struct stage_ctx *ctx);
	/* Stage-specific lines for --stats (optional). */
	void (*stats_print)(const struct stage *st, GString *out);
	void (*destroy)(struct stage *st);
};

struct stage {
	const struct stage_ops *ops;
	char *name;
	unsigned index;            /* stage i sits between links i and i+1 */
	const struct link *left, *right;
	void *priv;                /* the type's own state */
	struct stage_counters counters;
};

#endif
