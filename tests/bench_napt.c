/* tests/bench_napt.c: per-packet cost of the napt stage with 1,000 and 1,000,000 live mappings, and its memory per mapping (issue 3, "Benchmark").
 *
 * Not a test (no test_ prefix: make test does not run it); `make bench` or by hand:
 *   cc -O2 -std=gnu11 -I. $(pkg-config --cflags glib-2.0) -o build/bench_napt tests/bench_napt.c \
 *      build/libnatlb.a $(pkg-config --libs libpcap glib-2.0 json-glib-1.0) -lnet -lhttp_parser -lm
 *   build/bench_napt [PACKETS]
 *
 * For each table size N: N UDP flows from N inside hosts open their mappings (timed apart: the
 * cost of a new mapping), then PACKETS packets of those flows in a random order cross the stage as
 * the replay loop carries them (copy, decode, the stage's prefetch steps a few packets ahead, as
 * in pipeline_push(), then process), so the table lookups miss the caches as they would in a
 * capture with that many flows.  Memory per mapping is the
 * table's allocation (pools and indexes, sized by max-mappings) over max-mappings.
 *
 * Then a SYN flood (issue 11 item 6): FLOOD SYNs (default 1,000,000) from random inside hosts and
 * ports to one web server, a microsecond apart, through a stage with default settings (its one
 * external address runs out of ports after 64,512) and through one with max-mappings = 50000 (its
 * table fills first, and a full table is known at once).  Every packet must be forwarded or
 * dropped with a reason, and the drops must match the stage's counters; the ratio of the two
 * times (the fastest of BENCH_ROUNDS floods each) says what being out of ports costs over being
 * out of table:
 *   build/tests/bench_napt [PACKETS [FLOOD]]      (PACKETS = 0: the flood alone)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/checksum.h"
#include "common/drop.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "nat/napt.h"
#include "tests/testpkt.h"
#include "tools/stage_types.h"

#define FRAME 42 /* Ethernet 14 + IPv4 20 + UDP 8 */
#define BENCH_ROUNDS 3

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}



/* Flow i: 10.0.0.0 + 1 + i, port 1024 + i % 60000, to one of 20 DNS servers. */
static void flow_frame(uint8_t *f, uint32_t i)
{
	uint8_t *ip = f + 14, *udp = f + 34;
	memset(f, 0, FRAME);
	f[12] = 0x08;
	ip[0] = 0x45;
	test_put16(ip + 2, 0, 28);
	ip[8] = 64;
	ip[9] = 17;
	test_put32(ip + 12, 0, 0x0a000001u + i);
	test_put32(ip + 16, 0, 0xc6336400u | (10 + i % 20));
	test_put16(ip + 10, 0, csum_fold(csum_partial(ip, 20, 0)));
	test_put16(udp, 0, (uint16_t)(1024 + i % 60000));
	test_put16(udp + 2, 0, 53);
	test_put16(udp + 4, 0, 8);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct result {
	double ns_new, ns_packet;
	double bytes_per_mapping;
	uint32_t live;
};

static struct result run(uint32_t n, uint64_t packets)
{
	char *text = g_strdup_printf("[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = 10.0.0.0/8\n"
	                             "[link internet]\n[stage nat]\ntype = napt\nexternal = 198.18.0.0/27\n"
	                             "pooling = arbitrary\nmax-mappings = %u\n", n + n / 8 + 16);
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "bench", text, &err);
	if (!sc) {
		fprintf(stderr, "bench_napt: %s\n", err->message);
		exit(1);
	}
	struct stage *st = sc->stages[0];
	uint8_t *frames = g_malloc((size_t)n * FRAME);
	uint8_t scratch[FRAME];
	GString *note = g_string_sized_new(256);
	struct stage_ctx ctx = { .now_ns = 1000000000000ll, .note = note, .drop = DROP_NONE, .seed = 1 };
	struct packet p = { .data = scratch, .caplen = FRAME, .wirelen = FRAME, .linktype = 1 };
	struct result r = { 0 };

	for (uint32_t i = 0; i < n; i++)
		flow_frame(frames + (size_t)i * FRAME, i);
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		memcpy(scratch, frames + (size_t)i * FRAME, FRAME);
		decode_packet(&p);
		g_string_truncate(note, 0);
		if (st->ops->process(st, &p, DIR_LEFT_TO_RIGHT, &ctx) != VERDICT_FORWARD) {
			fprintf(stderr, "bench_napt: flow %u dropped: %s\n", i, note->str);
			exit(1);
		}
	}
	double t_opened = now_s();
	/* The capture: packets of those flows in a random order, laid out one after the other as the
	 * replay loop reads them from its file, so that only the stage's own loads miss the cache. */
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	uint8_t *stream = g_malloc(packets * FRAME);
	for (uint64_t k = 0; k < packets; k++)
		memcpy(stream + k * FRAME, frames + (size_t)(xorshift(&rng) % n) * FRAME, FRAME);
	/* The replay loop's look-ahead (common/pipeline.c): packet k + AHEAD is copied and decoded,
	 * and each queued packet gets the stage's prefetch steps on its way to its turn. */
	enum { AHEAD = STAGE_PREFETCH_STEPS * STAGE_PREFETCH_GAP, RING = 16 };
	G_STATIC_ASSERT(AHEAD < RING);
	static uint8_t ring_bytes[RING][FRAME];
	struct packet ring[RING];
	/* The fastest of BENCH_ROUNDS passes counts: on a shared machine, noise only adds time. */
	double best = 0;
	for (unsigned round = 0; round < BENCH_ROUNDS; round++) {
		uint64_t forwarded = 0;
		double t1 = now_s();
		for (uint64_t k = 0; k < packets + AHEAD; k++) {
			if (k < packets) {
				struct packet *q = &ring[k % RING];
				memcpy(ring_bytes[k % RING], stream + k * FRAME, FRAME);
				q->data = ring_bytes[k % RING];
				q->caplen = q->wirelen = FRAME;
				q->linktype = 1;
				decode_packet(q);
			}
			for (unsigned step = 0; step < STAGE_PREFETCH_STEPS; step++) {
				uint64_t j = k - (uint64_t)step * STAGE_PREFETCH_GAP;
				if (j <= k && j < packets)
					st->ops->prefetch(st, &ring[j % RING], DIR_LEFT_TO_RIGHT, step);
			}
			if (k < AHEAD)
				continue;
			g_string_truncate(note, 0);
			forwarded += st->ops->process(st, &ring[(k - AHEAD) % RING], DIR_LEFT_TO_RIGHT, &ctx) == VERDICT_FORWARD;
		}
		double t2 = now_s();
		if (forwarded != packets) {
			fprintf(stderr, "bench_napt: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " forwarded\n", forwarded,
			        packets);
			exit(1);
		}
		if (round == 0 || t2 - t1 < best)
			best = t2 - t1;
	}
	const struct napt *nat = st->priv;
	r.ns_new = (t_opened - t0) * 1e9 / n;
	r.ns_packet = best * 1e9 / (double)packets;
	r.bytes_per_mapping = (double)napt_table_bytes(nat) / nat->cap;
	r.live = napt_live_mappings(st);
	g_string_free(note, TRUE);
	g_free(frames);
	g_free(stream);
	scenario_free(sc);
	g_free(text);
	return r;
}

#define SYN_FRAME 54 /* Ethernet 14 + IPv4 20 + TCP 20 */

/* A SYN from 10.x.y.z:port to 198.51.100.80:80. */
static void syn_frame(uint8_t *f, uint32_t src, uint16_t sport)
{
	uint8_t *ip = f + 14, *tcp = f + 34;
	memset(f, 0, SYN_FRAME);
	f[12] = 0x08;
	ip[0] = 0x45;
	test_put16(ip + 2, 0, 40);
	ip[8] = 64;
	ip[9] = 6;
	test_put32(ip + 12, 0, src);
	test_put32(ip + 16, 0, 0xc6336450u);
	test_put16(ip + 10, 0, csum_fold(csum_partial(ip, 20, 0)));
	test_put16(tcp, 0, sport);
	test_put16(tcp + 2, 0, 80);
	test_put32(tcp + 4, 0, 1000);
	tcp[12] = 0x50;
	tcp[13] = 0x02;
	test_put16(tcp + 14, 0, 65535);
}

struct flood_result {
	double secs;
	uint64_t forwarded, dropped;
	unsigned reason;         /* the drop code of the drops, when they all had one (DROP_NONE otherwise) */
	const char *why;         /* its sentence */
};

/* FLOOD SYNs through a stage with stage_keys; the verdicts add up and every drop has its reason. */
static struct flood_result flood(const char *stage_keys, uint64_t syns)
{
	char *text = g_strdup_printf("[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = 10.0.0.0/8\n"
	                             "[link internet]\n[stage nat]\ntype = napt\nexternal = 203.0.113.7\n%s", stage_keys);
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "bench-flood", text, &err);
	if (!sc) {
		fprintf(stderr, "bench_napt: %s\n", err->message);
		exit(1);
	}
	struct stage *st = sc->stages[0];
	GString *note = g_string_sized_new(256);
	uint8_t frame[SYN_FRAME];
	struct packet p = { .data = frame, .caplen = SYN_FRAME, .wirelen = SYN_FRAME, .linktype = 1 };
	struct flood_result r = { .reason = DROP_NONE, .why = "-" };
	uint64_t rng = 0x9e3779b97f4a7c15ull, by_reason[DROP_CODES + 1] = { 0 }; /* the last: no reason */
	int64_t t0_ns = 1000000000000ll;

	double t0 = now_s();
	for (uint64_t k = 0; k < syns; k++) {
		uint64_t x = xorshift(&rng);
		syn_frame(frame, 0x0a000000u | (uint32_t)(x & 0xffffff), (uint16_t)(1024 + (x >> 24) % 64512));
		decode_packet(&p);
		struct stage_ctx ctx = { .now_ns = t0_ns + (int64_t)k * 1000, .note = note, .drop = DROP_NONE, .seed = 1 };
		if (k % 1024 == 0) /* the replay loop advances the clock as capture time moves on */
			st->ops->advance(st, ctx.now_ns, &ctx);
		g_string_truncate(note, 0);
		if (st->ops->process(st, &p, DIR_LEFT_TO_RIGHT, &ctx) == VERDICT_FORWARD)
			r.forwarded++;
		else {
			r.dropped++;
			by_reason[ctx.drop < DROP_CODES ? ctx.drop : DROP_CODES]++;
		}
	}
	r.secs = now_s() - t0;
	for (unsigned d = 0; d < DROP_CODES; d++)
		if (by_reason[d] == r.dropped && r.dropped)
			r.reason = d;
	if (r.reason != DROP_NONE && stage_drop_info(st->ops, r.reason))
		r.why = stage_drop_info(st->ops, r.reason)->text;
	const struct napt *nat = st->priv;
	uint64_t counted = r.reason == DROP_NAPT_NO_PORT ? nat->stats.port_allocation_errors
	                   : r.reason < DROP_CODES ? by_reason[r.reason] : 0;
	if (r.forwarded + r.dropped != syns || by_reason[DROP_CODES] || (r.dropped && r.reason == DROP_NONE) ||
	    counted != r.dropped || napt_live_mappings(st) > r.forwarded) {
		fprintf(stderr, "bench_napt: flood with '%s': %" G_GUINT64_FORMAT " forwarded, %" G_GUINT64_FORMAT
		        " dropped, %" G_GUINT64_FORMAT " without a reason, %" G_GUINT64_FORMAT " counted\n", stage_keys,
		        r.forwarded, r.dropped, by_reason[DROP_CODES], counted);
		exit(1);
	}
	g_string_free(note, TRUE);
	scenario_free(sc);
	g_free(text);
	return r;
}

static void flood_print(const char *what, const struct flood_result *r)
{
	printf("%-26s %10.3f %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT "  %s\n", what, r->secs, r->forwarded,
	       r->dropped, r->why);
}

int main(int argc, char **argv)
{
	uint64_t packets = argc > 1 ? g_ascii_strtoull(argv[1], NULL, 10) : 5000000;
	uint64_t syns = argc > 2 ? g_ascii_strtoull(argv[2], NULL, 10) : 1000000;

	/* The fastest of BENCH_ROUNDS floods of each kind counts, as below. */
	struct flood_result out_of_ports = flood("", syns), out_of_table = flood("max-mappings = 50000\n", syns);
	for (unsigned round = 1; round < BENCH_ROUNDS; round++) {
		struct flood_result a = flood("", syns), b = flood("max-mappings = 50000\n", syns);
		if (a.secs < out_of_ports.secs)
			out_of_ports = a;
		if (b.secs < out_of_table.secs)
			out_of_table = b;
	}
	printf("napt SYN flood: %" G_GUINT64_FORMAT " SYNs from random inside hosts to one server, one external address\n",
	       syns);
	printf("%-26s %10s %12s %12s  %s\n", "settings", "seconds", "forwarded", "dropped", "why");
	flood_print("default (out of ports)", &out_of_ports);
	flood_print("max-mappings = 50000", &out_of_table);
	printf("ratio SYN flood out of ports / out of table: %.2f (goal <= 2.00)\n\n",
	       out_of_ports.secs / (out_of_table.secs > 0 ? out_of_table.secs : 1e-9));

	if (!packets) /* the flood alone: for callgrind */
		return 0;
	struct result small = run(1000, packets), big = run(1000000, packets);

	printf("napt stage, %" G_GUINT64_FORMAT " packets of existing UDP flows in random order (copy, decode, prefetch, "
	       "process; fastest of %d passes)\n", packets, BENCH_ROUNDS);
	printf("%-22s %14s %16s %18s\n", "live mappings", "ns per packet", "ns per new one", "bytes per mapping");
	printf("%-22u %14.1f %16.1f %18.1f\n", small.live, small.ns_packet, small.ns_new, small.bytes_per_mapping);
	printf("%-22u %14.1f %16.1f %18.1f\n", big.live, big.ns_packet, big.ns_new, big.bytes_per_mapping);
	printf("ratio 1M / 1k per packet: %.2f (goal <= 1.30); bytes per mapping at 1M: %.0f (goal <= 256)\n",
	       big.ns_packet / small.ns_packet, big.bytes_per_mapping);
	return 0;
}
