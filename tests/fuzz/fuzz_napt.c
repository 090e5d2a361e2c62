/* tests/fuzz/fuzz_napt.c: libFuzzer harness for the napt stage: decoded packets, built from the input, through process(), reverse() and advance().
 *
 * STYLE.md habit 10.  The input picks a NAT (six small configurations: tiny port ranges and tables
 * so that exhaustion, collisions, overlapping and expiry happen within a few packets) and then a
 * sequence of packets, each from a handful of inside, external and remote addresses and ports so
 * that they meet the same mappings, with any protocol, TCP flags, ICMP type (errors quote a packet
 * built the same way), fragment bits and snapshot length.  Oracles besides ASan and UBSan: every
 * verdict is one of the three, a drop names a reason, process() always writes a sentence,
 * reverse() never changes the table, and the IPv4 header checksum stays right.
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/checksum.h"
#include "common/packet.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "nat/napt.h"
#include "tests/testpkt.h"
#include "tools/stage_types.h"

static const char *const stage_keys[] = {
	"profile = port-restricted-cone\nexternal = 203.0.113.7\nports = 1024-1031\nmax-mappings = 16\nfragment-timeout = 2",
	"profile = symmetric\nexternal = 203.0.113.7\nmax-mappings = 32\nexhaustion-icmp = yes",
	"profile = linux\nexternal = 203.0.113.7\nports = 5000-5003\nmax-mappings = 32",
	"profile = aws-nat-gateway\nexternal = 203.0.113.6/31\nmax-mappings = 32\nmax-per-destination = 3",
	"profile = full-cone\nexternal = 203.0.113.7\nhairpin = yes\nmax-mappings = 8\ntimeout-udp = 5",
	"profile = restricted-cone\nexternal = 203.0.113.4/30\npooling = arbitrary\nport-parity = yes\nports = 2000-2003\n"
	"port-allocation = random\nmax-mappings = 24",
};

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t pick_addr(uint8_t b)
{
	switch (b & 3) {
	case 0:
		return 0xc0a80100u | (b >> 2 & 7);          /* 192.168.1.0-7: inside */
	case 1:
		return 0xcb007104u | (b >> 2 & 3);          /* 203.0.113.4-7: external */
	default:
		return 0xc6336400u | (b >> 2 & 7);          /* 198.51.100.0-7: remote */
	}
}

static uint16_t pick_port(uint8_t b)
{
	static const uint16_t ports[8] = { 1024, 1025, 2000, 5000, 53, 80, 40000, 0 };
	return ports[b & 7];
}


/* An IPv4 packet at b (room for 60 bytes) from the input; returns its length. */
static uint32_t build_ip(struct input *in, uint8_t *b, int depth)
{
	uint8_t kind = take(in), flags = take(in);
	uint8_t proto = (kind & 3) == 0 ? 6 : (kind & 3) == 1 ? 17 : (kind & 3) == 2 ? 1 : 47;
	uint32_t src = pick_addr(take(in)), dst = pick_addr(take(in));
	uint32_t l4 = proto == 6 ? 20 : 8;

	memset(b, 0, 20 + l4);
	b[0] = 0x45;
	b[8] = 64;
	b[9] = proto;
	b[12] = (uint8_t)(src >> 24); b[13] = (uint8_t)(src >> 16); b[14] = (uint8_t)(src >> 8); b[15] = (uint8_t)src;
	b[16] = (uint8_t)(dst >> 24); b[17] = (uint8_t)(dst >> 16); b[18] = (uint8_t)(dst >> 8); b[19] = (uint8_t)dst;
	test_put16(b + 4, 0, (uint16_t)(kind >> 4));
	if (kind & 0x04) /* a fragment: first (MF) or later (offset 1..3) */
		test_put16(b + 6, 0, (kind & 0x08) ? (uint16_t)(1 + (flags & 3)) : 0x2000);
	uint8_t *t = b + 20;
	if (proto == 6 || proto == 17) {
		test_put16(t, 0, pick_port(take(in)));
		test_put16(t + 2, 0, pick_port(take(in)));
		if (proto == 6) {
			t[12] = 0x50;
			t[13] = flags & 0x17; /* FIN SYN RST ACK */
		} else {
			test_put16(t + 4, 0, (uint16_t)l4);
		}
	} else if (proto == 1) {
		static const uint8_t types[6] = { 8, 0, 3, 11, 13, 9 };
		t[0] = types[flags % 6];
		test_put16(t + 4, 0, pick_port(take(in)));
		if ((t[0] == 3 || t[0] == 11) && depth == 0) /* an error quotes another packet */
			l4 = 8 + build_ip(in, t + 8, 1);
	}
	uint32_t total = 20 + l4;
	test_put16(b + 2, 0, (uint16_t)total);
	if (proto == 1 || proto == 6 || proto == 17) {
		uint32_t at = proto == 6 ? 16 : proto == 17 ? 6 : 2;
		test_put16(t + at, 0, (uint16_t)(take(in) << 8 | take(in))); /* any checksum: right or wrong */
	}
	test_put16(b + 10, 0, csum_fold(csum_partial(b, 20, 0)));
	return total;
}

static void count_row(const struct table_row *row, void *data)
{
	if (!row->id || !row->flags)
		abort();
	(*(unsigned *)data)++;
}

static struct scenario *load(unsigned which)
{
	char *text = g_strdup_printf("[scenario]\nchain = lan > nat > internet\n[link lan]\nnetworks = 192.168.1.0/24\n"
	                             "[link internet]\n[stage nat]\ntype = napt\n%s\n", stage_keys[which]);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz", text, NULL);
	g_free(text);
	if (!sc)
		abort(); /* the configurations above are valid */
	return sc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct scenario *sc = load(take(&in) % G_N_ELEMENTS(stage_keys));
	struct stage *st = sc->stages[0];
	struct napt *nat = st->priv;
	GString *note = g_string_new(NULL);
	int64_t now = 1000000000000ll;
	uint64_t seed = take(&in);

	for (unsigned i = 0; i < 64 && in.n >= 4; i++) {
		uint8_t op = take(&in);
		uint8_t *frame = malloc(14 + 120);
		memset(frame, 0, 14);
		frame[12] = 0x08;
		uint32_t len = 14 + build_ip(&in, frame + 14, 0);
		uint32_t cut = take(&in);
		struct packet p = { .data = frame, .caplen = cut && cut < len ? cut : len, .wirelen = len, .linktype = DLT_EN10MB,
			            .ts_ns = now };
		/* Exact size: ASan sees one byte past the snapshot. */
		uint8_t *exact = malloc(p.caplen);
		memcpy(exact, frame, p.caplen);
		free(frame);
		p.data = exact;
		decode_packet(&p);
		now += (int64_t)(op >> 3) * 700000000ll; /* 0 to 21.7 s between packets */
		struct stage_ctx ctx = { .now_ns = now, .note = note, .drop = DROP_NONE, .seed = seed };
		st->ops->advance(st, now, &ctx);
		/* The replay loop gives a stage only IPv4 it could read, never an invalid packet. */
		if (p.l3 == L3_IPV4 && p.ip.hdr_len >= 20 && p.status != DECODE_INVALID) {
			enum hop_dir dir = (op & 1) ? DIR_RIGHT_TO_LEFT : DIR_LEFT_TO_RIGHT;
			bool header_ok = csum_ip4_header(&p, &p.ip) == (uint16_t)(p.data[24] << 8 | p.data[25]);
			g_string_truncate(note, 0);
			if (op & 2) {
				uint32_t sess = nat->n_sess, maps = nat->n_maps;
				uint64_t created = nat->stats.sessions_created;
				st->ops->reverse(st, &p, dir, &ctx);
				if (nat->n_sess != sess || nat->n_maps != maps || nat->stats.sessions_created != created)
					abort();
			} else {
				/* the loop's look-ahead: prefetch hints first, which must change nothing */
				uint32_t sess = nat->n_sess, maps = nat->n_maps;
				for (unsigned step = 0; step < STAGE_PREFETCH_STEPS; step++)
					st->ops->prefetch(st, &p, dir, step);
				if (nat->n_sess != sess || nat->n_maps != maps)
					abort();
				enum verdict v = st->ops->process(st, &p, dir, &ctx);
				if (v != VERDICT_FORWARD && v != VERDICT_DROP && v != VERDICT_CONSUMED)
					abort();
				if (v == VERDICT_DROP && ctx.drop == DROP_NONE)
					abort();
				if (note->len == 0)
					abort();
			}
			if (header_ok && csum_ip4_header(&p, &p.ip) != (uint16_t)(p.data[24] << 8 | p.data[25]))
				abort();
			if (nat->n_sess > nat->cap || nat->n_maps > nat->n_sess)
				abort();
		}
		free(exact);
	}
	/* The table lists what it holds. */
	unsigned rows = 0;
	st->ops->table_foreach(st, now, count_row, &rows);
	if (rows != nat->n_sess)
		abort();
	g_string_free(note, TRUE);
	scenario_free(sc);
	return 0;
}
