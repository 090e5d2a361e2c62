/* tests/fuzz/fuzz_replay.c: libFuzzer harness for the whole replay: capture bytes through input.c, the replay loop and three stages, written as pcapng to memory (DESIGN.md "How a packet travels").
 *
 * STYLE.md habit 10; issue 11 item 10.  The first byte picks the link the capture was taken on
 * (every link of the chain, so that walks back start everywhere); the rest is a capture file
 * (pcap or pcapng, any link type) read as natlb replay reads it, record by record through the
 * look-ahead, a repaired record alone, as tools/replay.c does.  The scenario is a VPC route table
 * with a gateway endpoint (and its IAM policy, so that S3 requests are evaluated and answered), a NAT gateway and an NLB, with tiny tables so that exhaustion and
 * expiry happen within a few packets.  The views go through the pcapng writer into an
 * open_memstream() buffer.  Oracles besides ASan and UBSan: a failed replay says why; after a
 * replay that went through, every captured packet ended as delivered, dropped or consumed
 * (pipeline_balanced()), and the output reads back through input.c as exactly the views written.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/input.h"
#include "common/pcapng_writer.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "tools/stage_types.h"

static const char scenario_text[] =
	"[scenario]\n"
	"chain = app > rt > vpc > natgw > internet > nlb > pool\n"
	"capture = %s\n"
	"[link app]\nnetworks = 10.0.1.0/24\n"
	"[link vpc]\nnetworks = 10.0.0.0/24\n"
	"[link internet]\n"
	"[link pool]\nnetworks = 10.9.1.0/24\n"
	"[stage rt]\ntype = route-table\n"
	"routes = 10.0.0.0/16 local; pl-s3 endpoint vpce-s3; 0.0.0.0/0 natgw; 192.0.2.0/24 blackhole\n"
	"policy.vpce-s3 = {\"Statement\": [{\"Sid\": \"BucketOnly\", \"Effect\": \"Allow\", \"Principal\": \"*\", "
	"\"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::lesson-bucket\"}]}\n"
	"[stage natgw]\ntype = napt\nprofile = aws-nat-gateway\nexternal = 203.0.113.25\nports = 1024-1027\n"
	"max-mappings = 8\ntimeout-udp = 5\n"
	"[stage nlb]\ntype = l4-lb\nlisten = 203.0.113.10:80/tcp\n"
	"targets = 10.9.1.11:8080; 10.9.1.12:8080; 10.9.1.13:8080\nselection = maglev\ntable-size = 307\n"
	"max-flows = 8\nevents = 1s down 10.9.1.12:8080; 2s up 10.9.1.12:8080\n"
	"[prefix-list pl-s3]\nprefixes = 52.216.0.0/15\n";
static const char *const capture_links[] = { "app", "vpc", "internet", "pool" };

/* The views into a pcapng writer: one interface per (link, link type), made at its first view. */
#define SINK_MAX_IFACES 64
struct memory_pcapng {
	struct pcapng_writer *w;
	char *names[16];
	unsigned n_links;
	struct { int link, linktype, id; } iface[SINK_MAX_IFACES];
	unsigned n_iface;
	unsigned views;
};

static int mem_add_link(void *data, const char *name, const char *description)
{
	struct memory_pcapng *m = data;
	(void)description;
	if (m->n_links >= G_N_ELEMENTS(m->names))
		abort(); /* the scenario above has seven links */
	m->names[m->n_links] = g_strdup(name);
	return (int)m->n_links++;
}

static gboolean mem_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
                          const char *const *notes, unsigned n_notes, GError **err)
{
	struct memory_pcapng *m = data;
	int id = -1;

	if (link < 0 || (unsigned)link >= m->n_links || caplen > wirelen)
		abort();
	for (unsigned i = 0; i < m->n_iface; i++)
		if (m->iface[i].link == link && m->iface[i].linktype == linktype)
			id = m->iface[i].id;
	if (id < 0) {
		if (m->n_iface == SINK_MAX_IFACES)
			abort();
		id = pcapng_writer_add_interface(m->w, linktype, m->names[link], NULL, err);
		if (id < 0)
			return FALSE;
		m->iface[m->n_iface].link = link;
		m->iface[m->n_iface].linktype = linktype;
		m->iface[m->n_iface++].id = id;
	}
	if (!pcapng_writer_packet(m->w, id, ts_ns, bytes, caplen, wirelen, dir, meta->packet_id, notes, n_notes, err))
		return FALSE;
	m->views++;
	return TRUE;
}

/* bytes as a file natlb can open by path: a memfd, named through /proc. */
static int memfd_with(const void *bytes, size_t n, char path[64])
{
	int fd = memfd_create("fuzz-replay", 0);
	if (fd < 0 || write(fd, bytes, n) != (ssize_t)n)
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* Every record of in through pl, as tools/replay.c's loop does; false with err set when a view
 * could not be written. */
static gboolean replay_all(struct input_set *in, struct pipeline *pl, GError **err)
{
	struct input_record rec;
	unsigned n = 0;

	while (n++ < 4096 && input_next(in, &rec) == 1) {
		gboolean ok = input_last_problem(in) ? pipeline_drain(pl, err) && pipeline_replay(pl, &rec, err)
		                                     : pipeline_push(pl, &rec, err);
		if (!ok)
			return FALSE;
	}
	return pipeline_drain(pl, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = g_strdup_printf(scenario_text, capture_links[data[0] % G_N_ELEMENTS(capture_links)]);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz-replay.ini", text, NULL);
	g_free(text);
	if (!sc)
		abort(); /* the scenario above is valid */

	char path[64];
	int fd = memfd_with(data + 1, size - 1, path);
	char *paths[1] = { path };
	GError *err = NULL;
	struct input_set *in = input_open(paths, 1, NULL, &err);
	if (!in) {
		if (!err)
			abort();
		g_error_free(err);
		close(fd);
		scenario_free(sc);
		return 0;
	}

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct memory_pcapng m = { 0 };
	m.w = pcapng_writer_open_stream(f, "memory", "fuzz", NULL, &err);
	if (!m.w)
		abort();
	const struct view_sink sink = { .add_link = mem_add_link, .write = mem_write, .data = &m };
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	if (!pl)
		abort();
	gboolean ok = replay_all(in, pl, &err);
	if (!ok && !err)
		abort(); /* a failure says why */
	if (ok && !pipeline_balanced(pl))
		abort();
	g_clear_error(&err);
	if (!pcapng_writer_close(m.w, &err))
		abort(); /* memory does not fill up */

	/* What was written reads back, view for view (libpcap reads a pcapng of one link type only). */
	bool one_linktype = m.n_iface > 0;
	for (unsigned i = 1; i < m.n_iface; i++)
		one_linktype = one_linktype && m.iface[i].linktype == m.iface[0].linktype;
	if (ok && one_linktype) {
		char out_path[64];
		int out_fd = memfd_with(buf, len, out_path);
		char *out_paths[1] = { out_path };
		struct input_set *back = input_open(out_paths, 1, NULL, &err);
		struct input_record rec;
		unsigned n = 0;
		if (!back)
			abort();
		while (input_next(back, &rec) == 1)
			n++;
		if (n != m.views)
			abort();
		input_close(back);
		close(out_fd);
	}

	pipeline_free(pl);
	for (unsigned i = 0; i < m.n_links; i++)
		g_free(m.names[i]);
	free(buf);
	input_close(in);
	close(fd);
	scenario_free(sc);
	return 0;
}
