/* tests/fuzz/fuzz_l7lb.c: libFuzzer harness for the l7-lb stage through the replay loop: TCP segments of a few client connections to an ALB, both ways (DESIGN.md "How a packet travels"; RFC 9293, RFC 9112).
 *
 * STYLE.md habit 10.  Each input is a fresh replay of a capture taken on the clients' side of one
 * ALB (rules on host, path, query, method and source address; redirect, fixed responses, a group
 * with no target; two target groups, least outstanding requests and round robin; target events;
 * a 4 s idle timeout and room for three connections), and the capture is made up from the input:
 * segments of four client connections, each from the client to a listener (its requests) or from
 * the listener to the client (the responses the capture holds, which the balancer relays from its
 * targets or replaces by its own answers), those from the listener cut into IPv4 fragments when
 * the input says so.  So the input reaches what a capture reaches: the IPv4 reassembly of the
 * responses, the TCP reassembly (lost, reordered, overlapping, cut segments, a connection without
 * its SYN), HTTP/1
 * framing, pipelining, desync classification, the balancer's own answers waiting behind
 * responses, idle timeouts, resets and closes.  Oracles besides ASan, UBSan and LeakSanitizer:
 * replaying never fails (the sink cannot), every view fits its frame, and every captured packet
 * ends delivered, dropped or consumed (pipeline_balanced()).
 *
 * Input: byte 0 options (bit 0: Ethernet frames, else raw IPv4; bit 1: --access-log to memory;
 * bit 2: --tables to memory; bit 3: packets one by one, else through the look-ahead; bits 4-5:
 * desync mitigation 0-1 defensive, 2 strictest, 3 monitor; bit 6: a segment from the listener whose
 * IP payload is longer than FRAG_FIRST bytes goes as two IPv4 fragments, DF clear, the first of
 * FRAG_FIRST bytes (the TCP header and the first data bytes), the second the rest; bit 7: the
 * second fragment is captured first).  Then records of 4 bytes and a payload:
 *   h0  bits 0-1 the connection (see clients[]), bit 2 the direction (1: listener to client),
 *       bits 3-7 how far the clock moves first (see clock_step())
 *   h1  the TCP flags, as they are on the wire
 *   h2  the sequence number, as a signed offset from where that direction's stream is: -63..63
 *       bytes, or beyond that in KB (a segment far ahead, or a retransmission far behind)
 *   h3  bits 0-6 the payload's length, 0..126, taken from the input; 127: a run (two more bytes
 *       k and f: k + 1 segments of 4 KB of the byte f, back to back: up to a 1 MB header line);
 *       bit 7: the snapshot kept only the first half of the payload (of a fragmented segment: of
 *       its second fragment)
 * The acknowledgement is always where the other direction's stream is.
 */
#define _GNU_SOURCE
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/tables_writer.h"
#include "tools/stage_types.h"

#define NS G_GINT64_CONSTANT(1000000000)
#define MS G_GINT64_CONSTANT(1000000)
#define MAX_SEGMENTS 4096 /* per input: a run may be long, the fuzzer's executions stay short */
#define RUN_SEGMENT 4096 /* a run's segments: as a capture with segmentation offload shows them */

static const char scenario_text[] =
	"[scenario]\n"
	"chain = internet > alb > app\n"
	"capture = internet\n"
	"[link internet]\n"
	"[link app]\nnetworks = 10.0.1.0/24\n"
	"[stage alb]\ntype = l7-lb\n"
	"listen = 203.0.113.10:80, 203.0.113.10:8080\n"
	"address = 10.0.1.2\n"
	"rule.10 = host-header api.example.com AND path-pattern /v1/* -> forward api\n"
	"rule.20 = path-pattern /static/*, *.js -> forward web\n"
	"rule.30 = host-header old.example.com -> redirect http://www.example.com:80/#{path}?#{query} 301\n"
	"rule.40 = query-string debug=1 -> fixed-response 503 text/plain \"maintenance\"\n"
	"rule.50 = path-pattern /none/* -> forward none\n"
	"rule.60 = http-request-method POST, PUT AND path-pattern /upload* -> forward api:3, web:1\n"
	"rule.70 = source-ip 10.0.0.0/8 -> forward web\n"
	"default = fixed-response 404 text/plain \"no route\"\n"
	"target-group.api = 10.0.1.11:8080; 10.0.1.12:8080\n"
	"target-group.web = 10.0.1.21:8080\n"
	"target-group.none =\n"
	"algorithm.api = least-outstanding-requests\n"
	"algorithm.web = round-robin\n"
	"events = 1s down 10.0.1.12:8080; 2s drain 10.0.1.21:8080; 3s up 10.0.1.12:8080\n"
	"idle-timeout = 4s\n"
	"max-connections = 3\n"
	"desync-mitigation = %s\n";
static const char *const desync_modes[] = { "defensive", "defensive", "strictest", "monitor" };

#define VIP 0xcb00710au /* 203.0.113.10 */

/* The four client connections; 10.0.0.9 meets the source-ip rule; ISNs near the wrap on two. */
static const struct client {
	uint32_t ip;
	uint16_t port, vport;
	uint32_t isn, server_isn;
} clients[4] = {
	{ 0xc6336407u, 51000, 80, 0x00001000u, 0x20000000u },   /* 198.51.100.7 */
	{ 0xc6336407u, 51001, 80, 0xffffff80u, 0x7ffffff0u },   /* 198.51.100.7 */
	{ 0xc6336408u, 40000, 8080, 0x12345678u, 0xfffffff0u }, /* 198.51.100.8 */
	{ 0x0a000009u, 33333, 80, 0x80000000u, 0x00000001u },   /* 10.0.0.9 */
};

/* Where each direction of each connection's stream is: the next sequence number it sends. */
struct flow {
	uint32_t next[2]; /* [0] the client's, [1] the listener's */
};

#define FRAG_FIRST 24 /* bytes of IP payload in a first fragment: a multiple of 8 (RFC 791) */

static uint8_t frame[14 + 40 + RUN_SEGMENT];
static uint8_t fragment[14 + 40 + RUN_SEGMENT];
static uint16_t ip_id;

/* One IPv4 TCP segment into frame, checksums right (payload_sum: csum_partial() of the payload,
 * summed once for a run); returns the frame's length. */
static uint32_t build_segment(bool ethernet, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
                              uint32_t ack, uint8_t flags, const uint8_t *payload, uint32_t len, uint32_t payload_sum)
{
	uint32_t l2 = ethernet ? 14 : 0;
	uint8_t *ip = frame + l2, *tcp = ip + 20;
	static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 7 }, mac_alb[6] = { 0x02, 0, 0, 0, 0, 10 };

	if (ethernet) {
		bool to_alb = dst == VIP;
		memcpy(frame, to_alb ? mac_alb : mac_client, 6);
		memcpy(frame + 6, to_alb ? mac_client : mac_alb, 6);
		be16_store(frame + 12, 0x0800);
	}
	memset(ip, 0, 40);
	ip[0] = 0x45;
	be16_store(ip + 2, (uint16_t)(40 + len));
	be16_store(ip + 4, ++ip_id);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	be32_store(ip + 12, src);
	be32_store(ip + 16, dst);
	be16_store(ip + 10, csum_fold(csum_partial(ip, 20, 0)));
	be16_store(tcp, sport);
	be16_store(tcp + 2, dport);
	be32_store(tcp + 4, seq);
	be32_store(tcp + 8, ack);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	be16_store(tcp + 14, 65535);
	memcpy(tcp + 20, payload, len);
	uint8_t pseudo[12] = { 0 };
	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = 6;
	be16_store(pseudo + 10, (uint16_t)(20 + len));
	be16_store(tcp + 16, csum_fold(csum_partial(tcp, 20, csum_partial(pseudo, sizeof pseudo, payload_sum))));
	return l2 + 40 + len;
}

/* h0's bits 3-7: a few milliseconds apart, or past an event, the idle timeout, a minute. */
static int64_t clock_step(unsigned s)
{
	switch (s) {
	case 28: return 1 * NS;
	case 29: return 4 * NS + 500 * MS;
	case 30: return 61 * NS;
	case 31: return 3600 * NS;
	default: return (int64_t)(s * s) * MS;
	}
}

static int32_t seq_offset(uint8_t code)
{
	int32_t v = (int8_t)code;
	return v >= -63 && v <= 63 ? v : v * 1024;
}

/* The views go nowhere, but each is checked: it fits the loop's frames and says how long it was. */
static int null_add_link(void *data, const char *name, const char *description)
{
	unsigned *n = data;
	(void)name;
	(void)description;
	return (int)(*n)++;
}

static gboolean null_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                           uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta,
                           const char *const *notes, unsigned n_notes, GError **err)
{
	const unsigned *n = data;
	if (meta->packet_id == 0 || meta->flow == 0) /* every view belongs to a journey and a flow */
		abort();
	(void)linktype;
	(void)ts_ns;
	(void)dir;
	(void)err;
	if (link < 0 || (unsigned)link >= *n || caplen > wirelen || caplen > PACKET_MAX_FRAME || (caplen && !bytes))
		abort();
	for (unsigned i = 0; i < n_notes; i++)
		if (!notes[i])
			abort();
	return TRUE;
}

struct replay {
	struct pipeline *pl;
	bool one_by_one;
	bool ethernet;
	bool fragment_responses, second_fragment_first;
	int64_t now;
	unsigned segments;
};

static void replay_frame(struct replay *r, const uint8_t *bytes, uint32_t frame_len, uint32_t caplen)
{
	struct input_record rec = { .data = bytes, .caplen = caplen, .wirelen = frame_len, .ts_ns = r->now,
		                    .linktype = r->ethernet ? DLT_EN10MB : DLT_RAW };
	GError *err = NULL;
	gboolean ok = r->one_by_one ? pipeline_replay(r->pl, &rec, &err) : pipeline_push(r->pl, &rec, &err);
	if (!ok)
		abort(); /* only the sink can fail, and this one does not */
	r->segments++;
}

/* The segment in frame (frame_len bytes, l2 of them the link header), captured whole or cut to
 * caplen: as it is, or in two IPv4 fragments when the input asks for them. */
static void replay_segment(struct replay *r, bool from_vip, uint32_t l2, uint32_t frame_len, uint32_t caplen)
{
	uint32_t ip_payload = frame_len - l2 - 20;
	if (!from_vip || !r->fragment_responses || ip_payload <= FRAG_FIRST) {
		replay_frame(r, frame, frame_len, caplen);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		bool second = r->second_fragment_first ? i == 0 : i == 1;
		uint32_t off = second ? FRAG_FIRST : 0, len = second ? ip_payload - FRAG_FIRST : FRAG_FIRST;
		uint8_t *ip = fragment + l2;
		memcpy(fragment, frame, l2 + 20);
		memcpy(ip + 20, frame + l2 + 20 + off, len);
		be16_store(ip + 2, (uint16_t)(20 + len));
		be16_store(ip + 6, (uint16_t)((second ? 0 : 0x2000) | off / 8)); /* MF on the first; DF clear */
		be16_store(ip + 10, 0);
		be16_store(ip + 10, csum_fold(csum_partial(ip, 20, 0)));
		uint32_t n = l2 + 20 + len;
		replay_frame(r, fragment, n, second && caplen < frame_len ? n - len + len / 2 : n);
	}
}

/* One record: a segment, or a run of them, on connection h0 & 3. */
static size_t replay_record(struct replay *r, struct flow *flows, const uint8_t *data, size_t size, size_t pos)
{
	uint8_t h0 = data[pos], flags = data[pos + 1], h2 = data[pos + 2], h3 = data[pos + 3];
	const struct client *cl = &clients[h0 & 3];
	struct flow *f = &flows[h0 & 3];
	bool from_vip = h0 & 4;
	unsigned len = h3 & 0x7f, runs = 1;
	uint8_t fill[RUN_SEGMENT];
	const uint8_t *payload = data + pos + 4;

	pos += 4;
	if (len == 0x7f) {
		uint8_t k = pos < size ? data[pos] : 0, byte = pos + 1 < size ? data[pos + 1] : 'a';
		pos += 2;
		runs = k + 1u;
		len = RUN_SEGMENT;
		memset(fill, byte, sizeof fill);
		payload = fill;
	} else {
		if (len > size - pos)
			len = (unsigned)(size - pos);
		pos += len;
	}
	r->now += clock_step(h0 >> 3);
	uint32_t seq = f->next[from_vip] + (uint32_t)seq_offset(h2), sum = csum_partial(payload, len, 0);
	for (unsigned i = 0; i < runs && r->segments < MAX_SEGMENTS; i++) {
		uint32_t n = from_vip ? build_segment(r->ethernet, VIP, cl->ip, cl->vport, cl->port, seq, f->next[0], flags,
		                                      payload, len, sum)
		                      : build_segment(r->ethernet, cl->ip, VIP, cl->port, cl->vport, seq, f->next[1], flags,
		                                      payload, len, sum);
		seq += len + ((flags & 0x02) ? 1 : 0) + ((flags & 0x01) ? 1 : 0); /* SYN and FIN count one */
		f->next[from_vip] = seq;
		replay_segment(r, from_vip, r->ethernet ? 14 : 0, n, (h3 & 0x80) ? n - len + len / 2 : n);
	}
	return pos;
}

/* UBSan's findings count as crashes: the fuzz build lets it recover, and a report in the log
 * alone goes unseen. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t opt = data[0];
	char *text = g_strdup_printf(scenario_text, desync_modes[(opt >> 4) & 3]);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz-l7lb.ini", text, NULL);
	g_free(text);
	if (!sc)
		abort(); /* the scenario above is valid */

	char *log_buf = NULL;
	size_t log_len = 0;
	FILE *log = (opt & 2) ? open_memstream(&log_buf, &log_len) : NULL;
	struct table_recorder *tables = (opt & 4) ? table_recorder_new() : NULL;
	unsigned n_links = 0;
	const struct view_sink sink = { .add_link = null_add_link, .write = null_write, .data = &n_links };
	struct pipeline_options po = { .seed = 1, .access_log = log, .tables = tables };
	GError *err = NULL;
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &po, &err);
	if (!pl)
		abort();

	struct replay r = { .pl = pl, .one_by_one = opt & 8, .ethernet = opt & 1, .fragment_responses = opt & 0x40,
		            .second_fragment_first = opt & 0x80, .now = 1767225600 * NS };
	struct flow flows[4];
	for (unsigned i = 0; i < 4; i++)
		flows[i] = (struct flow){ .next = { clients[i].isn, clients[i].server_isn } };
	size_t pos = 1;
	while (pos + 4 <= size && r.segments < MAX_SEGMENTS)
		pos = replay_record(&r, flows, data, size, pos);
	if (!pipeline_drain(pl, &err))
		abort();
	if (!pipeline_balanced(pl))
		abort(); /* every captured packet delivered, dropped or consumed */

	GString *stats = g_string_new(NULL);
	pipeline_stats(pl, stats);
	g_string_free(stats, TRUE);
	if (tables) {
		if (!table_recorder_finish(tables, sc, &err))
			abort(); /* memory does not fill up */
		table_recorder_free(tables);
	}
	pipeline_free(pl);
	if (log) {
		fclose(log);
		free(log_buf);
	}
	scenario_free(sc);
	return 0;
}
