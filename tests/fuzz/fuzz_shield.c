/* tests/fuzz/fuzz_shield.c: libFuzzer harness: random packets through the shield stage (its TCP MSS option parser, SYN cookies, reflection, bogon and rate tables).
 *
 * Each input is a fresh stage (one of three scenarios: cookies from the first SYN with tiny tables,
 * a rate-based rule with a tiny source table, the defaults) and a run of records [kind][length, 2
 * bytes][bytes]: each record's bytes are decoded as the replay loop decodes a capture (raw IPv4 or
 * Ethernet) and handed to process() in either direction, with the capture clock moved on by the
 * kind's high bits (past a cookie's lifetime, the reflection window, the rate window).  The
 * emitter takes what the stage sends and checks it decodes within its length.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "nat/shield.h"
#include "tools/stage_types.h"

#define NS G_GINT64_CONSTANT(1000000000)

static const char *const variants[] = {
	"syn-threshold = 1\nmax-connections = 8\nmax-requests = 8\nreflection-window = 2s\n",
	"syn-threshold = 3\nrate-limit = 10/1m\nmax-sources = 4\nbogons = none\n",
	"",
};

static uint8_t *frame;
static GString *note;

/* Every emitted packet must decode inside the bytes it has. */
static bool check_emit(struct emitter *em, const struct emitted_packet *e)
{
	static uint8_t copy[2048];
	(void)em;
	if (e->len > sizeof copy)
		__builtin_trap();
	memcpy(copy, e->bytes, e->len);
	struct packet p = { .data = copy, .capacity = sizeof copy, .caplen = e->len, .wirelen = e->len,
		            .linktype = e->linktype };
	if (decode_packet(&p) == DECODE_INVALID)
		__builtin_trap();
	return true;
}

static void visit(const struct table_row *row, void *data)
{
	(void)row;
	(*(unsigned *)data)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!frame) {
		frame = g_malloc(PACKET_MAX_FRAME);
		note = g_string_sized_new(512);
	}
	char *text = g_strdup_printf("[scenario]\nchain = internet > guard > edge\n[link internet]\n[link edge]\n"
	                             "networks = 203.0.113.0/28\n[stage guard]\ntype = shield\n"
	                             "protect = 203.0.113.0/28, 10.0.0.0/8\n%s",
	                             variants[data[0] % G_N_ELEMENTS(variants)]);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz", text, NULL);
	g_free(text);
	if (!sc)
		__builtin_trap(); /* the variants are valid: a failure here is a bug */
	struct stage *st = sc->stages[0];
	struct emitter em = { .emit = check_emit };
	int64_t now = 1767225600 * NS;
	size_t pos = 1;

	while (pos + 3 <= size) {
		uint8_t kind = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		int linktype = (kind & 0x04) ? DLT_EN10MB : DLT_RAW;
		struct packet p = { .data = frame, .capacity = PACKET_MAX_FRAME, .caplen = (uint32_t)len,
			            .wirelen = (uint32_t)len, .linktype = linktype, .ts_ns = now };
		memcpy(frame, data + pos, len);
		pos += len;
		if (kind & 0x08)
			p.wirelen += 100; /* a snapshot shorter than the packet */
		now += (kind & 0x80) ? 70 * NS : (int64_t)(kind >> 4) * NS / 4;
		decode_packet(&p);
		struct stage_ctx ctx = { .now_ns = now, .note = note, .drop = DROP_NONE, .seed = 1, .emitter = &em,
			                 .stage = st, .linktype = linktype };
		g_string_truncate(note, 0);
		st->ops->advance(st, now, &ctx);
		/* as the replay loop: only readable IPv4 reaches a stage */
		if (p.l3 != L3_IPV4 || p.ip.hdr_len < 20 || p.status == DECODE_INVALID)
			continue;
		(void)shield_tcp_mss(&p);
		st->ops->process(st, &p, (kind & 0x01) ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT, &ctx);
	}
	unsigned rows = 0;
	st->ops->table_foreach(st, now, visit, &rows);
	GString *stats = g_string_new(NULL);
	st->ops->stats_print(st, stats);
	g_string_free(stats, TRUE);
	scenario_free(sc);
	return 0;
}
