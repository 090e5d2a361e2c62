/* common/pipeline.h: the replay loop: one captured packet in, every view of it on every link out (DESIGN.md, "How a packet travels"). */
#ifndef NATLB_PIPELINE_H
#define NATLB_PIPELINE_H

#include "common/input.h"
#include "common/output.h"
#include "common/scenario-t.h"

/* Derived views are stamped this long after the previous hop, so Wireshark's order is travel order. */
#define PIPELINE_HOP_NS 1000

struct pipeline_options {
	const char *links;   /* --links: comma-separated link names to write; NULL for all */
	bool trace;          /* --trace: one line per view on stderr */
	uint64_t seed;       /* --seed */
	struct table_recorder *tables; /* --tables: events and snapshots go here; NULL when off */
};

struct pipeline; /* opaque */

/* The output must be open; the links are declared on it here.  Unknown --links names fail. */
struct pipeline *pipeline_new(struct scenario *sc, struct output *out, const struct pipeline_options *opt,
                              GError **err);
/* Replay one captured packet now.  False only when the output could not be written. */
gboolean pipeline_replay(struct pipeline *pl, const struct input_record *rec, GError **err);
/* The same, reading ahead: rec is copied and queued, the stage it will meet first is asked to
 * prefetch its table entries, and the packet read a few calls earlier is replayed.  The output is
 * the same as pipeline_replay()'s; call pipeline_drain() after the last packet. */
gboolean pipeline_push(struct pipeline *pl, const struct input_record *rec, GError **err);
gboolean pipeline_drain(struct pipeline *pl, GError **err);
/* The --stats report: per stage in = forwarded + dropped + consumed, and the packet balance. */
void pipeline_stats(const struct pipeline *pl, GString *out);
/* Did every input packet end as delivered, dropped or consumed (the balance --stats prints)? */
bool pipeline_balanced(const struct pipeline *pl);
void pipeline_free(struct pipeline *pl);

#endif
