/* tests/fuzz/fuzz_l4lb.c: libFuzzer harness: random packets through the l4-lb stage, and random text through natlb hash's parser.
 *
 * Each input is a fresh stage (one of four scenarios: TCP and UDP listeners, proxy protocol v2
 * with the client address replaced, the three selection methods, a timeline with every event
 * kind, a tiny flow table) and a run of records [kind][length, 2 bytes][bytes]: each record's
 * bytes are decoded as the replay loop decodes a capture (raw IPv4 or Ethernet), and handed to
 * process() or to reverse() then process() in either direction, as the loop does, with the
 * capture clock moved on by the kind's high bits (past the idle timeouts and the events).
 * Buffers are as large as the loop's frames; ASan sees any write past them.
 *
 * An input whose first byte has the top bit set is text instead: "SRC DST" for lb_flow_key_parse.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "lb/hash.h"
#include "lb/l4lb.h"
#include "tools/stage_types.h"

#define NS G_GINT64_CONSTANT(1000000000)

static const char *const variants[] = {
	"listen = 203.0.113.10:80/tcp, 203.0.113.10:53/udp\ntargets = 10.0.1.11; 10.0.1.12:8080; 10.0.1.13 weight=3\n"
	"events = 1s down 10.0.1.11; 2s drain 10.0.1.13; 3s up 10.0.1.11\nderegistration-delay = 2s\n",
	"listen = 203.0.113.10:80/tcp\ntargets = 10.0.1.11; 10.0.1.12\nproxy-protocol-v2 = true\n"
	"preserve-client-ip = false\naddress = 10.0.1.2\nselection = modulo\nmax-flows = 8\n",
	"listen = 203.0.113.10:80/tcp, 203.0.113.11:80/tcp, 203.0.113.10:53/udp\ntargets = 10.0.1.11; 10.0.1.12\n"
	"selection = rendezvous\nhash = src-ip\nhash-function = xxh32\nproxy-protocol-v2 = true\n"
	"events = 1s down 10.0.1.11; 1s down 10.0.1.12; 4s up 10.0.1.12\ntcp-idle-timeout = 3s\nudp-idle-timeout = 2s\n",
	"listen = 203.0.113.10:80/tcp\ntargets = 10.0.1.11\npreserve-client-ip = false\naddress = 10.0.1.2\n"
	"events = 1s drain 10.0.1.11\nderegistration-delay = 0s\nmax-flows = 2\n",
};

static uint8_t *frame;
static GString *note;

static void visit(const struct table_row *row, void *data)
{
	(void)row;
	(*(unsigned *)data)++;
}

static int fuzz_text(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data + 1, size - 1);
	char *space = strchr(text, ' ');
	struct lb_flow_key k;
	GError *err = NULL;
	if (space) {
		*space = '\0';
		if (!lb_flow_key_parse(text, space + 1, (enum lb_hash_fields)(data[0] & 3), &k, &err))
			g_clear_error(&err);
	}
	g_free(text);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		return fuzz_text(data, size);
	if (!frame) {
		frame = g_malloc(PACKET_MAX_FRAME);
		note = g_string_sized_new(512);
	}
	char *text = g_strdup_printf("[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\n"
	                             "networks = 10.0.1.0/24\n[stage nlb]\ntype = l4-lb\ntable-size = 251\nmax-flows = 64\n%s",
	                             variants[data[0] % G_N_ELEMENTS(variants)]);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz", text, NULL);
	g_free(text);
	if (!sc)
		__builtin_trap(); /* the variants are valid: a failure here is a bug */
	struct stage *st = sc->stages[0];
	int64_t now = 1767225600 * NS;
	size_t pos = 1;

	while (pos + 3 <= size) {
		uint8_t kind = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		struct packet p = { .data = frame, .capacity = PACKET_MAX_FRAME, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
		                    .linktype = (kind & 0x04) ? DLT_EN10MB : DLT_RAW, .ts_ns = now };
		memcpy(frame, data + pos, len);
		pos += len;
		if (kind & 0x08)
			p.wirelen += 100; /* a snapshot shorter than the packet */
		/* the clock: a little, or past a timeout or an event */
		now += (kind & 0x80) ? 400 * NS : (int64_t)(kind >> 4) * NS / 4;
		decode_packet(&p);
		struct stage_ctx ctx = { .now_ns = now, .note = note, .drop = DROP_NONE, .seed = 1 };
		g_string_truncate(note, 0);
		st->ops->advance(st, now, &ctx);
		/* as the replay loop: only readable IPv4 reaches a stage */
		if (p.l3 != L3_IPV4 || p.ip.hdr_len < 20 || p.status == DECODE_INVALID)
			continue;
		enum hop_dir dir = (kind & 0x01) ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
		if (kind & 0x02) {
			/* reverse, then process in the same direction: the packet's walk back, then its replay */
			if (st->ops->reverse(st, &p, dir, &ctx) != REVERSE_TRANSLATED)
				continue;
			g_string_truncate(note, 0);
		} else {
			/* the loop's look-ahead: hints that read the table ahead of process() */
			for (unsigned step = 0; step < STAGE_PREFETCH_STEPS; step++)
				st->ops->prefetch(st, &p, dir, step);
		}
		st->ops->process(st, &p, dir, &ctx);
		if (ctx.redecode)
			decode_packet(&p);
		if (p.caplen > PACKET_MAX_FRAME)
			__builtin_trap();
	}
	unsigned rows = 0;
	st->ops->table_foreach(st, now, visit, &rows);
	GString *stats = g_string_new(NULL);
	st->ops->stats_print(st, stats);
	g_string_free(stats, TRUE);
	scenario_free(sc);
	return 0;
}
