/* common/pipeline.h: the replay loop: one captured packet in, every view of it on every link out (DESIGN.md, "How a packet travels"). */
#ifndef NATLB_PIPELINE_H
#define NATLB_PIPELINE_H

#include "common/flow_log.h"
#include "common/input.h"
#include "common/output.h"
#include "common/scenario-t.h"

struct pipeline_options {
	const char *links;   /* --links: comma-separated link names to write; NULL for all */
	bool trace;          /* --trace: one line per view on stderr */
	uint64_t seed;       /* --seed */
	struct table_recorder *tables; /* --tables: events and snapshots go here; NULL when off */
	FILE *access_log;    /* --access-log: stages that log requests write a line each; NULL when off */
	struct flow_log *flow_log; /* --flow-log: each stage's interfaces record what crosses them; NULL when off */
};

struct pipeline; /* opaque */

/* What the loop says of a view besides its bytes and comments. */
struct view_meta {
	uint64_t packet_id;        /* epb_packetid: the same on every view of one packet's journey */
	uint64_t input;            /* the input packet whose replay the journey belongs to, from 1 */
	enum packet_origin origin; /* the journey is that packet's, or one a stage emitted */
	uint32_t flow;             /* the "flow #N" of its comment (common/flow_number.h), from 1 */
};

/* Where the loop writes its views: a struct output (pipeline_new), or a test's recorder. */
struct view_sink {
	/* Declare a link; returns the handle write() gets. */
	int (*add_link)(void *data, const char *name, const char *description);
	gboolean (*write)(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
	                  uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
	                  const char *const *notes, unsigned n_notes, GError **err);
	void *data;
};

/* The output must be open; the links are declared on it here.  Unknown --links names fail. */
struct pipeline *pipeline_new(struct scenario *sc, struct output *out, const struct pipeline_options *opt,
                              GError **err);
struct pipeline *pipeline_new_with_sink(struct scenario *sc, const struct view_sink *sink,
                                        const struct pipeline_options *opt, GError **err);
/* Replay one captured packet now.  False only when the output could not be written. */
gboolean pipeline_replay(struct pipeline *pl, const struct input_record *rec, GError **err);
/* The same, reading ahead: rec is copied and queued, the stage it will meet first is asked to
 * prefetch its table entries, and the packet read a few calls earlier is replayed.  The output is
 * the same as pipeline_replay()'s; call pipeline_drain() after the last packet. */
gboolean pipeline_push(struct pipeline *pl, const struct input_record *rec, GError **err);
gboolean pipeline_drain(struct pipeline *pl, GError **err);
/* The --stats report: per stage in = forwarded + dropped + consumed, and the packet balance. */
void pipeline_stats(const struct pipeline *pl, GString *out);
/* What points at a wrong address plan (issue 10), for replay's warnings: how many captured
 * packets, and the first of them (numbered from 1, its addresses as on link). */
struct pipeline_example {
	uint64_t packet;
	uint32_t src, dst;
	unsigned link;
};
struct pipeline_plan_report {
	uint64_t packets;                      /* captured packets replayed */
	uint64_t routing_loops;                /* dropped as ROUTING_LOOP */
	uint64_t misplaced;                    /* no stage could have passed them onto the capture link */
	uint64_t overderived;                  /* walked back through more stages than the chain has */
	struct pipeline_example first_loop, first_misplaced, first_overderived;
};
void pipeline_plan_report(const struct pipeline *pl, struct pipeline_plan_report *out);
/* Did every input packet end as delivered, dropped or consumed (the balance --stats prints)? */
bool pipeline_balanced(const struct pipeline *pl);
void pipeline_free(struct pipeline *pl);

#endif
