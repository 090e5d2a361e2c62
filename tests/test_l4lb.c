/* tests/test_l4lb.c: the l4-lb stage packet by packet: settings, stickiness, timeouts, events, client IP, proxy protocol v2, reverse.
 *
 * Follows: AWS "Network Load Balancers" and "Target groups for your Network Load Balancers" (idle
 * timeouts 350 s TCP / 120 s UDP, deregistration delay, resets for unhealthy targets, fail open,
 * client IP preservation, proxy protocol v2), haproxy's proxy-protocol.txt 2.2 (the header),
 * RFC 9293 3.10.7.1 (the reset), RFC 2018 (SACK edges).
 *
 * Packets are raw IPv4 built here with correct checksums, in buffers as large as the replay
 * loop's frames (the stage may grow a packet by the proxy protocol header).
 */
#include <netinet/tcp.h>
#include <pcap/pcap.h>

#include "common/checksum.h"
#include "common/input.h"
#include "common/output.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/scenario.h"
#include "common/stage.h"
#include "lb/l4lb.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#define NS      G_GINT64_CONSTANT(1000000000)
#define T0      (G_GINT64_CONSTANT(1767225600) * NS)
#define VIP     0xcb00710au /* 203.0.113.10 */
#define CLIENT  0xc6336407u /* 198.51.100.7 */
#define ADDRESS 0x0a000102u /* 10.0.1.2 */
#define TARGET(i) (0x0a00010bu + (i)) /* 10.0.1.11 + i */

static const char base_scenario[] =
	"[scenario]\n"
	"chain = internet > nlb > vpc\n"
	"[link internet]\n"
	"[link vpc]\n"
	"networks = 10.0.1.0/24\n"
	"[stage nlb]\n"
	"type = l4-lb\n"
	"listen = 203.0.113.10:80/tcp, 203.0.113.10:53/udp\n"
	"targets = 10.0.1.11; 10.0.1.12; 10.0.1.13; 10.0.1.14; 10.0.1.15\n";

static struct scenario *load(const char *extra, GError **err)
{
	char *text = g_strconcat(base_scenario, extra ? extra : "", NULL);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test", text, err);
	g_free(text);
	return sc;
}

static struct scenario *load_ok(const char *extra)
{
	GError *err = NULL;
	struct scenario *sc = load(extra, &err);
	g_assert_no_error(err);
	g_assert_nonnull(sc);
	g_assert_true(sc->stages[0]->ops == &l4lb_ops);
	return sc;
}

/* ---- packets ---------------------------------------------------------------------------------- */

struct tpkt {
	uint8_t *buf;
	struct packet p;
};




/* Fill in the IPv4 and transport checksums of a decoded packet, then decode it again. */
static void fix_checksums(struct packet *p)
{
	uint16_t c;
	decode_packet(p);
	test_put16(p->data + p->ip.off + 10, 0, csum_ip4_header(p, &p->ip));
	if (csum_l4_expected(p, &p->ip, &c))
		test_put16(p->data + p->ip.l4_csum_off, 0, c);
	decode_packet(p);
}

static void checksums_verify(const struct packet *p)
{
	uint16_t want, have;
	g_assert_cmphex(csum_ip4_header(p, &p->ip), ==, (uint16_t)(p->data[p->ip.off + 10] << 8 | p->data[p->ip.off + 11]));
	g_assert_true(csum_l4_expected(p, &p->ip, &want));
	have = (uint16_t)(p->data[p->ip.l4_csum_off] << 8 | p->data[p->ip.l4_csum_off + 1]);
	g_assert_cmphex(have, ==, want);
}

static void tpkt_init(struct tpkt *t)
{
	if (!t->buf)
		t->buf = g_malloc0(PACKET_MAX_FRAME);
	memset(&t->p, 0, sizeof t->p);
	t->p.data = t->buf;
	t->p.capacity = PACKET_MAX_FRAME;
	t->p.linktype = DLT_RAW;
}

static void ip_header(uint8_t *b, uint16_t total, uint8_t proto, uint32_t src, uint32_t dst)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	test_put16(b + 2, 0, total);
	test_put16(b + 4, 0, 0x1234);
	b[8] = 64;
	b[9] = proto;
	test_put32(b + 12, 0, src);
	test_put32(b + 16, 0, dst);
}

static void tcp(struct tpkt *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
                uint32_t ack, const char *data, const uint8_t *opts, size_t optlen)
{
	size_t dlen = data ? strlen(data) : 0, hl = 20 + optlen;
	tpkt_init(t);
	uint8_t *b = t->buf;
	ip_header(b, (uint16_t)(20 + hl + dlen), 6, src, dst);
	uint8_t *h = b + 20;
	memset(h, 0, hl);
	test_put16(h, 0, sport);
	test_put16(h + 2, 0, dport);
	test_put32(h + 4, 0, seq);
	test_put32(h + 8, 0, ack);
	h[12] = (uint8_t)((hl / 4) << 4);
	h[13] = flags;
	test_put16(h + 14, 0, 502);
	if (optlen)
		memcpy(h + 20, opts, optlen);
	if (dlen)
		memcpy(h + hl, data, dlen);
	t->p.caplen = t->p.wirelen = (uint32_t)(20 + hl + dlen);
	fix_checksums(&t->p);
}

static void udp(struct tpkt *t, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, const char *data)
{
	size_t dlen = strlen(data);
	tpkt_init(t);
	uint8_t *b = t->buf;
	ip_header(b, (uint16_t)(28 + dlen), 17, src, dst);
	test_put16(b + 20, 0, sport);
	test_put16(b + 22, 0, dport);
	test_put16(b + 24, 0, (uint16_t)(8 + dlen));
	test_put16(b + 26, 0, 0);
	memcpy(b + 28, data, dlen);
	t->p.caplen = t->p.wirelen = (uint32_t)(28 + dlen);
	fix_checksums(&t->p);
}

static void icmp_echo(struct tpkt *t, uint32_t src, uint32_t dst)
{
	tpkt_init(t);
	uint8_t *b = t->buf;
	ip_header(b, 28, 1, src, dst);
	memset(b + 20, 0, 8);
	b[20] = 8;
	t->p.caplen = t->p.wirelen = 28;
	fix_checksums(&t->p);
}

/* ---- running the stage as the replay loop does ------------------------------------------------ */

struct run {
	struct scenario *sc;
	struct stage *st;
	GString *note;
	unsigned drop;
	struct tpkt t;
};

static void run_init(struct run *r, const char *extra)
{
	memset(r, 0, sizeof *r);
	r->sc = load_ok(extra);
	r->st = r->sc->stages[0];
	r->note = g_string_sized_new(256);
}

static void run_clear(struct run *r)
{
	scenario_free(r->sc);
	g_string_free(r->note, TRUE);
	g_free(r->t.buf);
}

static enum verdict run_process(struct run *r, enum hop_dir dir, int64_t now)
{
	struct stage_ctx ctx = { .now_ns = now, .note = r->note, .drop = DROP_NONE, .stage = r->st };
	g_string_truncate(r->note, 0);
	r->st->ops->advance(r->st, now, &ctx);
	enum verdict v = r->st->ops->process(r->st, &r->t.p, dir, &ctx);
	if (ctx.redecode)
		decode_packet(&r->t.p);
	r->drop = ctx.drop;
	return v;
}

/* A client packet in; the target it reached (its address), or 0 when dropped. */
static uint32_t send_tcp(struct run *r, uint32_t client, uint16_t cport, uint8_t flags, uint32_t seq, uint32_t ack,
                         const char *data, int64_t now)
{
	tcp(&r->t, client, cport, VIP, 80, flags, seq, ack, data, NULL, 0);
	return run_process(r, DIR_LEFT_TO_RIGHT, now) == VERDICT_FORWARD ? r->t.p.ip.dst : 0;
}

static uint32_t send_udp(struct run *r, uint32_t client, uint16_t cport, int64_t now)
{
	udp(&r->t, client, cport, VIP, 53, "query");
	return run_process(r, DIR_LEFT_TO_RIGHT, now) == VERDICT_FORWARD ? r->t.p.ip.dst : 0;
}

/* The id of the flow the last note names ("entry #12" or "new entry #12"); 0 when none. */
static uint64_t note_flow(const struct run *r)
{
	const char *s = strstr(r->note->str, "entry #");
	return s ? g_ascii_strtoull(s + 7, NULL, 10) : 0;
}

struct rows {
	unsigned n;
	uint64_t ids[64];
	struct table_row last;
	char state[32];
};

static void collect(const struct table_row *row, void *data)
{
	struct rows *rs = data;
	if (rs->n < G_N_ELEMENTS(rs->ids))
		rs->ids[rs->n] = row->id;
	rs->n++;
	rs->last = *row;
	g_strlcpy(rs->state, row->state, sizeof rs->state);
}

static struct rows table(struct run *r, int64_t now)
{
	struct rows rs = { 0 };
	r->st->ops->table_foreach(r->st, now, collect, &rs);
	return rs;
}

/* ---- settings --------------------------------------------------------------------------------- */

static const struct config_case {
	const char *name;
	const char *text;  /* a whole scenario */
	const char *error; /* substring; NULL: loads */
} config_cases[] = {
	{ "minimal", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\nnetworks = 10.0.0.0/8\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\n", NULL },
	{ "no-listen", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\ntargets = 10.0.0.1\n",
	  "listen: an l4-lb stage needs at least one listener" },
	{ "bad-listen", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1/tcp\ntargets = 10.0.0.1\n", "'192.0.2.1/tcp' is not ADDRESS:PORT/tcp" },
	{ "listen-sctp", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80/sctp\ntargets = 10.0.0.1\n", "is not ADDRESS:PORT" },
	{ "listen-twice", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80, 192.0.2.1:80/tcp\ntargets = 10.0.0.1\n", "listed twice" },
	{ "no-targets", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\n", "targets: an l4-lb stage needs at least one target" },
	{ "bad-weight", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1 weight=0\n", "weight must be a whole number" },
	{ "junk-after-target", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1 heavy\n", "only 'weight=N' may follow" },
	{ "target-is-vip", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 192.0.2.1:8080\n", "own listener addresses" },
	{ "bad-hash", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nhash = 5-tupel\n", "did you mean '5-tuple'?" },
	{ "bad-function", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nhash-function = toeplits\n", "did you mean 'toeplitz'?" },
	{ "bad-selection", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nselection = maglv\n", "did you mean 'maglev'?" },
	{ "table-not-prime", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\ntable-size = 65536\n", "'65536' is not a prime" },
	{ "event-unknown-target", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nevents = 5s down 10.0.0.2\n", "not one of 'targets'" },
	{ "event-bad-kind", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nevents = 5s crash 10.0.0.1\n", "down, up or drain" },
	{ "event-bad-time", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nevents = soon down 10.0.0.1\n", "the time is a duration" },
	{ "no-address", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\npreserve-client-ip = false\n", "give it (address = 10.0.1.2)" },
	{ "bad-bool", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nproxy-protocol-v2 = maybe\n", "'maybe' is not true or false" },
	{ "ppv2-udp-only", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:53/udp\ntargets = 10.0.0.1\nproxy-protocol-v2 = true\n", "no listener is TCP" },
	{ "bad-timeout", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\ntcp-idle-timeout = 5 minutes\n", "is not a duration" },
	{ "unknown-key", "[scenario]\nchain = a > lb > b\n[link a]\n[link b]\n[stage lb]\ntype = l4-lb\n"
	  "listen = 192.0.2.1:80\ntargets = 10.0.0.1\nderegistration_delay = 5s\n", "did you mean 'deregistration-delay'?" },
};

static void test_config(gconstpointer data)
{
	const struct config_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "t.ini", c->text, &err);
	if (!c->error) {
		g_assert_no_error(err);
		g_assert_nonnull(sc);
	} else {
		g_assert_null(sc);
		g_assert_nonnull(err);
		if (!strstr(err->message, c->error))
			g_error("%s: '%s' lacks '%s'", c->name, err->message, c->error);
		g_assert_nonnull(strstr(err->message, "t.ini:"));
		g_error_free(err);
	}
	scenario_free(sc);
}

static void test_describe_fills_defaults(void)
{
	struct scenario *sc = load_ok("events = 1.5s drain 10.0.1.12; 500ms down 10.0.1.11\n");
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	static const char *const want[] = {
		"hash = 5-tuple\n", "hash-function = toeplitz\n", "selection = maglev\n", "table-size = 65537\n",
		"events = 500ms down 10.0.1.11; 1500ms drain 10.0.1.12\n", "deregistration-delay = 300s\n",
		"preserve-client-ip = true\n", "proxy-protocol-v2 = false\n", "tcp-idle-timeout = 350s\n",
		"udp-idle-timeout = 120s\n", "listen = 203.0.113.10:80/tcp, 203.0.113.10:53/udp\n",
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
		if (!strstr(out->str, want[i]))
			g_error("natlb check output lacks '%s':\n%s", want[i], out->str);
	/* what it prints loads again, to the same description */
	GError *err = NULL;
	char *text = g_strdup(out->str);
	struct scenario *again = scenario_load_data(natlb_stage_types(), "again", text, &err);
	g_assert_no_error(err);
	GString *out2 = g_string_new(NULL);
	scenario_describe(again, out2);
	g_assert_cmpstr(strchr(out->str, '\n'), ==, strchr(out2->str, '\n')); /* all but the first line (the source) */
	g_string_free(out, TRUE);
	g_string_free(out2, TRUE);
	g_free(text);
	scenario_free(again);
	scenario_free(sc);
}

/* ---- flows ------------------------------------------------------------------------------------ */

/* 200 flows, five packets each, interleaved: every packet of a flow reaches the target its first
 * did, the reply comes back from the VIP, and the flows spread over all five targets. */
static void test_stickiness(void)
{
	struct run r;
	uint32_t first[200];
	unsigned per_target[5] = { 0 };
	run_init(&r, NULL);
	for (unsigned round = 0; round < 5; round++)
		for (unsigned i = 0; i < 200; i++) {
			int64_t now = T0 + (int64_t)(round * 200 + i) * 1000000;
			uint32_t got = send_tcp(&r, CLIENT + (i % 7), (uint16_t)(30000 + i), round ? TH_ACK : TH_SYN,
			                        1000 + round, round ? 5000 : 0, NULL, now);
			g_assert_cmpuint(got, !=, 0);
			g_assert_cmpuint(r.t.p.ip.src, ==, CLIENT + (i % 7)); /* client IP preserved by default */
			g_assert_cmpuint(r.t.p.ip.dport, ==, 80);              /* the listener's port */
			checksums_verify(&r.t.p);
			if (round == 0) {
				first[i] = got;
				g_assert_nonnull(strstr(r.note->str, "5-tuple toeplitz 0x"));
				g_assert_nonnull(strstr(r.note->str, "-> maglev slot "));
				per_target[got - TARGET(0)]++;
			} else {
				g_assert_cmpuint(got, ==, first[i]);
				g_assert_nonnull(strstr(r.note->str, " -> "));
			}
			/* the target answers; the client sees the VIP */
			tcp(&r.t, got, 80, CLIENT + (i % 7), (uint16_t)(30000 + i), TH_ACK, 5000, 1001 + round, NULL, NULL, 0);
			g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, now + 1000), ==, VERDICT_FORWARD);
			g_assert_cmpuint(r.t.p.ip.src, ==, VIP);
			g_assert_cmpuint(r.t.p.ip.sport, ==, 80);
			checksums_verify(&r.t.p);
		}
	for (unsigned t = 0; t < 5; t++)
		g_assert_cmpuint(per_target[t], >, 20);
	g_assert_cmpuint(table(&r, T0 + 10 * NS).n, ==, 200);
	g_assert_cmpstr(table(&r, T0 + 10 * NS).state, ==, "ESTABLISHED");
	run_clear(&r);
}

/* Idle timeouts at their boundary: a flow idle for exactly the timeout has expired, a nanosecond
 * less has not.  The new flow's 5-tuple hashes the same: same target, new flow number. */
static void test_timeouts(gconstpointer data)
{
	bool is_udp = GPOINTER_TO_INT(data);
	int64_t timeout = (is_udp ? 120 : 350) * NS;
	struct run r;
	run_init(&r, NULL);
	uint32_t a = is_udp ? send_udp(&r, CLIENT, 5000, T0) : send_tcp(&r, CLIENT, 5000, TH_SYN, 1, 0, NULL, T0);
	g_assert_cmpuint(note_flow(&r), ==, 1);
	int64_t last = T0 + timeout - 1;
	uint32_t b = is_udp ? send_udp(&r, CLIENT, 5000, last) : send_tcp(&r, CLIENT, 5000, TH_ACK, 2, 1, NULL, last);
	g_assert_cmpuint(b, ==, a);
	g_assert_cmpuint(note_flow(&r), ==, 1);
	g_assert_null(strstr(r.note->str, "new flow"));
	g_assert_cmpuint(table(&r, last + timeout - 1).n, ==, 1);
	g_assert_cmpuint(table(&r, last + timeout).n, ==, 0); /* the table does not show it once due */
	uint32_t c = is_udp ? send_udp(&r, CLIENT, 5000, last + timeout)
	                    : send_tcp(&r, CLIENT, 5000, TH_ACK, 3, 1, NULL, last + timeout);
	g_assert_cmpuint(c, ==, a);
	g_assert_cmpuint(note_flow(&r), ==, 2);
	g_assert_nonnull(strstr(r.note->str, "new entry #2"));
	if (!is_udp)
		g_assert_nonnull(strstr(r.note->str, "not a SYN"));
	/* the expired flow's reply finds nothing */
	run_clear(&r);
}

/* A reply of a flow that expired (or never was) is dropped; other traffic crosses untranslated. */
static void test_reply_without_flow(void)
{
	struct run r;
	run_init(&r, NULL);
	tcp(&r.t, TARGET(0), 80, CLIENT, 4000, TH_ACK, 1, 1, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, T0), ==, VERDICT_DROP);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_NO_FLOW);
	/* the words of the drop list (what --stats prints), then this packet's particulars; the loop
	 * writes "l4-lb nlb: " before it */
	g_assert_true(g_str_has_prefix(r.note->str, "DROP (a reply that matches no flow of the balancer): "));
	g_assert_nonnull(strstr(r.note->str, ":80 > "));
	/* a target reaching out on another port is not a reply of the balancer's */
	tcp(&r.t, TARGET(0), 443, CLIENT, 4000, TH_SYN, 1, 0, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, T0), ==, VERDICT_FORWARD);
	g_assert_cmpuint(r.t.p.ip.src, ==, TARGET(0));
	/* to the VIP on a port without a listener, and a ping: dropped, each with its reason */
	tcp(&r.t, CLIENT, 4000, VIP, 443, TH_SYN, 1, 0, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_LEFT_TO_RIGHT, T0), ==, VERDICT_DROP);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_NO_LISTENER);
	g_assert_cmpstr(r.note->str, ==, "DROP (no listener on that address, port and protocol): 203.0.113.10:443/tcp");
	icmp_echo(&r.t, CLIENT, VIP);
	g_assert_cmpint(run_process(&r, DIR_LEFT_TO_RIGHT, T0), ==, VERDICT_DROP);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_NO_LISTENER);
	g_assert_cmpstr(r.note->str, ==, "DROP (no listener on that address, port and protocol): protocol 1 to "
	                "203.0.113.10: the balancer listens for TCP and UDP only (it does not answer pings)");
	/* to somewhere else: not the balancer's business */
	tcp(&r.t, CLIENT, 4000, 0x0a000163u, 22, TH_SYN, 1, 0, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_LEFT_TO_RIGHT, T0), ==, VERDICT_FORWARD);
	g_assert_cmpuint(r.t.p.ip.dst, ==, 0x0a000163u);
	g_assert_true(r.st->ops->claims(r.st, VIP, SIDE_LEFT));
	g_assert_false(r.st->ops->claims(r.st, VIP, SIDE_RIGHT));
	g_assert_false(r.st->ops->claims(r.st, TARGET(0), SIDE_RIGHT));
	run_clear(&r);
}

static void test_flow_table_full(void)
{
	struct run r;
	run_init(&r, "max-flows = 3\n");
	for (unsigned i = 0; i < 3; i++)
		g_assert_cmpuint(send_udp(&r, CLIENT, (uint16_t)(6000 + i), T0), !=, 0);
	g_assert_cmpuint(send_udp(&r, CLIENT, 6003, T0), ==, 0);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_FLOW_TABLE_FULL);
	g_assert_cmpstr(r.note->str, ==, "DROP (the balancer's flow table is full (max-flows)): max-flows = 3");
	/* existing flows still pass; once one expires its entry is reused */
	g_assert_cmpuint(send_udp(&r, CLIENT, 6001, T0 + 1), !=, 0);
	g_assert_cmpuint(send_udp(&r, CLIENT, 6003, T0 + 120 * NS), !=, 0);
	g_assert_cmpuint(note_flow(&r), ==, 4);
	run_clear(&r);
}

/* ---- events ----------------------------------------------------------------------------------- */

/* Every target draining: a new flow has nowhere to go, and the note says how many were asked. */
static void test_all_drained_refuse_new_flows(void)
{
	struct run r;
	run_init(&r, "events = 1s drain 10.0.1.11; 1s drain 10.0.1.12; 1s drain 10.0.1.13; 1s drain 10.0.1.14; "
	             "1s drain 10.0.1.15\n");
	g_assert_cmpuint(send_udp(&r, CLIENT, 7000, T0), !=, 0);
	g_assert_cmpuint(send_udp(&r, CLIENT, 7001, T0 + 2 * NS), ==, 0);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_NO_TARGET);
	g_assert_nonnull(strstr(r.note->str, "DROP (no target can take a new flow): all 5 targets are deregistered"));
	/* the flow from before the drain still has its target */
	g_assert_cmpuint(send_udp(&r, CLIENT, 7000, T0 + 2 * NS), !=, 0);
	run_clear(&r);
}

/* Flows on every target, one per client port; returns how many; target_of[i] the target of port i. */
static unsigned open_flows(struct run *r, bool is_udp, unsigned n, uint32_t *target_of, int64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		target_of[i] = is_udp ? send_udp(r, CLIENT, (uint16_t)(20000 + i), now)
		                      : send_tcp(r, CLIENT, (uint16_t)(20000 + i), TH_SYN, 100, 0, NULL, now);
		g_assert_cmpuint(target_of[i], !=, 0);
	}
	return n;
}

/* Down: new flows avoid the target; its TCP flows are dropped (and reset), its UDP flows move;
 * flows on other targets stay where they are. */
static void test_event_down(void)
{
	struct run r;
	uint32_t target_of[100];
	unsigned on_down = 0;
	run_init(&r, "events = 5s down 10.0.1.13\n");
	open_flows(&r, false, 50, target_of, T0);
	for (unsigned i = 50; i < 100; i++)
		target_of[i] = send_udp(&r, CLIENT, (uint16_t)(20000 + i), T0);
	for (unsigned i = 0; i < 100; i++) {
		int64_t now = T0 + 6 * NS;
		uint32_t got = i < 50 ? send_tcp(&r, CLIENT, (uint16_t)(20000 + i), TH_ACK, 101, 1, "x", now)
		                      : send_udp(&r, CLIENT, (uint16_t)(20000 + i), now);
		if (i == 0)
			g_assert_nonnull(strstr(r.note->str, "[event at 5.000 s: down 10.0.1.13, 4 of 5 targets take new flows"));
		if (target_of[i] != TARGET(2)) {
			g_assert_cmpuint(got, ==, target_of[i]);
			continue;
		}
		on_down++;
		if (i < 50) {
			g_assert_cmpuint(got, ==, 0);
			g_assert_cmpint(r.drop, ==, DROP_L4LB_TARGET_DOWN);
			g_assert_nonnull(strstr(r.note->str, "DROP (its flow's target is down or deregistered: the balancer "
			                                     "answered with a TCP RST): entry #"));
			g_assert_nonnull(strstr(r.note->str, "was on 10.0.1.13, which is down (AWS NLB resets"));
		} else {
			g_assert_cmpuint(got, !=, 0);
			g_assert_cmpuint(got, !=, TARGET(2));
			g_assert_nonnull(strstr(r.note->str, "moved: 10.0.1.13 is down"));
		}
	}
	g_assert_cmpuint(on_down, >, 5);
	for (unsigned i = 0; i < 300; i++)
		g_assert_cmpuint(send_udp(&r, CLIENT + 1, (uint16_t)(1000 + i), T0 + 7 * NS), !=, TARGET(2));
	GString *stats = g_string_new(NULL);
	r.st->ops->stats_print(r.st, stats);
	g_assert_nonnull(strstr(stats->str, "event 5.000 s down 10.0.1.13: targets taking new flows 5 -> 4"));
	g_assert_nonnull(strstr(stats->str, "live flows 100: "));
	g_assert_nonnull(strstr(stats->str, "slots changed"));
	g_assert_nonnull(strstr(stats->str, "ideal 1/5 = 20.0%"));
	g_string_free(stats, TRUE);
	run_clear(&r);
}

/* Issue item 10: the ideal share of the lookup a change must move is the weight that changes
 * hands (a target's share is its weight over the sum), not 1/N whatever the weights. */
static const struct {
	const char *name;
	const char *targets, *events;
	const char *want[2];     /* the events' "ideal" in the report, in order */
} ideal_cases[] = {
	{ .name = "equal-weights-one-of-five-down-is-1-5",
	  .targets = "10.0.1.11; 10.0.1.12; 10.0.1.13; 10.0.1.14; 10.0.1.15", .events = "5s down 10.0.1.13",
	  .want = { "ideal 1/5 = 20.0%\n" } },
	{ .name = "the-heavy-target-down-takes-half",
	  .targets = "10.0.1.11; 10.0.1.12; 10.0.1.13 weight=4; 10.0.1.14; 10.0.1.15", .events = "5s down 10.0.1.13",
	  .want = { "ideal 1/2 = 50.0% (by weight)\n" } },
	{ .name = "a-light-target-down-takes-its-eighth",
	  .targets = "10.0.1.11; 10.0.1.12; 10.0.1.13 weight=4; 10.0.1.14; 10.0.1.15", .events = "5s down 10.0.1.11",
	  .want = { "ideal 1/8 = 12.5% (by weight)\n" } },
	{ .name = "a-target-back-up-takes-its-share-of-the-new-sum",
	  .targets = "10.0.1.11 weight=2; 10.0.1.12; 10.0.1.13", .events = "1s down 10.0.1.11; 2s up 10.0.1.11",
	  .want = { "ideal 1/2 = 50.0% (by weight)\n", "ideal 1/2 = 50.0% (by weight)\n" } },
	{ .name = "failing-open-brings-back-the-down-ones",
	  .targets = "10.0.1.11; 10.0.1.12 weight=3", .events = "1s down 10.0.1.11; 2s down 10.0.1.12",
	  .want = { "ideal 1/4 = 25.0% (by weight)\n", "ideal 1/4 = 25.0% (by weight)\n" } },
};

static void test_event_ideal(gconstpointer data)
{
	unsigned c = GPOINTER_TO_UINT(data);
	char *text = g_strdup_printf("[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\n"
	                             "networks = 10.0.1.0/24\n[stage nlb]\ntype = l4-lb\nlisten = 203.0.113.10:80/tcp\n"
	                             "targets = %s\nevents = %s\n", ideal_cases[c].targets, ideal_cases[c].events);
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test", text, &err);
	g_assert_no_error(err);
	struct stage *st = sc->stages[0];
	GString *note = g_string_new(NULL), *stats = g_string_new(NULL);
	struct stage_ctx ctx = { .now_ns = T0, .note = note, .drop = DROP_NONE };

	st->ops->advance(st, T0, &ctx);
	ctx.now_ns = T0 + 10 * NS;
	st->ops->advance(st, ctx.now_ns, &ctx);
	st->ops->stats_print(st, stats);
	const char *at = stats->str;
	for (unsigned i = 0; i < G_N_ELEMENTS(ideal_cases[c].want) && ideal_cases[c].want[i]; i++) {
		const char *got = strstr(at, "ideal ");
		g_assert_nonnull(got);
		char *line = g_strndup(got, strlen(ideal_cases[c].want[i]));
		g_assert_cmpstr(line, ==, ideal_cases[c].want[i]);
		g_free(line);
		at = got + 1;
	}
	g_assert_null(strstr(at, "ideal ")); /* one per event */
	g_string_free(stats, TRUE);
	g_string_free(note, TRUE);
	scenario_free(sc);
	g_free(text);
}

/* Drain: new flows avoid the target at once, its flows go on until the deregistration delay,
 * then TCP ones are reset and UDP ones move.  Up: it takes new flows again. */
static void test_event_drain_and_up(void)
{
	struct run r;
	uint32_t target_of[60];
	run_init(&r, "events = 5s drain 10.0.1.12; 40s up 10.0.1.12\nderegistration-delay = 20s\n");
	open_flows(&r, false, 30, target_of, T0);
	for (unsigned i = 30; i < 60; i++)
		target_of[i] = send_udp(&r, CLIENT, (uint16_t)(20000 + i), T0);
	/* during the delay: everything continues, new flows avoid 10.0.1.12 */
	for (unsigned i = 0; i < 60; i++) {
		int64_t now = T0 + 10 * NS;
		uint32_t got = i < 30 ? send_tcp(&r, CLIENT, (uint16_t)(20000 + i), TH_ACK, 101, 1, "x", now)
		                      : send_udp(&r, CLIENT, (uint16_t)(20000 + i), now);
		g_assert_cmpuint(got, ==, target_of[i]);
	}
	for (unsigned i = 0; i < 200; i++)
		g_assert_cmpuint(send_udp(&r, CLIENT + 2, (uint16_t)(1000 + i), T0 + 11 * NS), !=, TARGET(1));
	/* at 5 s + 20 s the deregistration completes */
	unsigned reset = 0, moved = 0;
	for (unsigned i = 0; i < 60; i++) {
		int64_t now = T0 + 25 * NS;
		uint32_t got = i < 30 ? send_tcp(&r, CLIENT, (uint16_t)(20000 + i), TH_ACK, 102, 1, "y", now)
		                      : send_udp(&r, CLIENT, (uint16_t)(20000 + i), now);
		if (i == 0)
			g_assert_nonnull(strstr(r.note->str, "deregistration of 10.0.1.12 complete at 25.000 s"));
		if (target_of[i] != TARGET(1)) {
			g_assert_cmpuint(got, ==, target_of[i]);
		} else if (i < 30) {
			g_assert_cmpuint(got, ==, 0);
			g_assert_nonnull(strstr(r.note->str, "which is deregistered"));
			reset++;
		} else {
			g_assert_cmpuint(got, !=, TARGET(1));
			moved++;
		}
	}
	g_assert_cmpuint(reset + moved, >, 3);
	/* up at 40 s: new flows reach it again */
	unsigned back = 0;
	for (unsigned i = 0; i < 200; i++)
		back += send_udp(&r, CLIENT + 3, (uint16_t)(1000 + i), T0 + 41 * NS) == TARGET(1);
	g_assert_cmpuint(back, >, 20);
	GString *stats = g_string_new(NULL);
	r.st->ops->stats_print(r.st, stats);
	g_assert_nonnull(strstr(stats->str, "deregistration complete at 25.000 s"));
	g_assert_nonnull(strstr(stats->str, "event 40.000 s up 10.0.1.12: targets taking new flows 4 -> 5"));
	g_string_free(stats, TRUE);
	run_clear(&r);
}

/* Every target down: the balancer fails open, new flows go to all of them and existing ones are
 * not reset; one up again ends it. */
static void test_fail_open(void)
{
	struct run r;
	uint32_t target_of[20];
	run_init(&r, "events = 1s down 10.0.1.11; 1s down 10.0.1.12; 1s down 10.0.1.13; 1s down 10.0.1.14; "
	         "1s down 10.0.1.15; 9s up 10.0.1.14\n");
	open_flows(&r, false, 20, target_of, T0);
	for (unsigned i = 0; i < 20; i++)
		g_assert_cmpuint(send_tcp(&r, CLIENT, (uint16_t)(20000 + i), TH_ACK, 101, 1, "x", T0 + 2 * NS), ==,
		                 target_of[i]);
	unsigned seen[5] = { 0 };
	for (unsigned i = 0; i < 200; i++) {
		uint32_t got = send_udp(&r, CLIENT + 4, (uint16_t)(1000 + i), T0 + 3 * NS);
		g_assert_cmpuint(got, !=, 0);
		g_assert_nonnull(strstr(r.note->str, "failing open"));
		seen[got - TARGET(0)]++;
	}
	for (unsigned t = 0; t < 5; t++)
		g_assert_cmpuint(seen[t], >, 10);
	/* 10.0.1.14 healthy again: fail-open ends, flows on the others are reset */
	g_assert_cmpuint(send_udp(&r, CLIENT + 5, 999, T0 + 10 * NS), ==, TARGET(3));
	g_assert_nonnull(strstr(r.note->str, "fail-open ends"));
	for (unsigned i = 0; i < 20; i++) {
		uint32_t got = send_tcp(&r, CLIENT, (uint16_t)(20000 + i), TH_ACK, 102, 1, "y", T0 + 11 * NS);
		g_assert_cmpuint(got, ==, target_of[i] == TARGET(3) ? TARGET(3) : 0);
	}
	run_clear(&r);
}

/* A closed connection's ports used again by a new SYN are a new flow. */
static void test_port_reuse_after_close(void)
{
	struct run r;
	run_init(&r, NULL);
	uint32_t a = send_tcp(&r, CLIENT, 7000, TH_SYN, 1, 0, NULL, T0);
	tcp(&r.t, a, 80, CLIENT, 7000, TH_SYN | TH_ACK, 50, 2, NULL, NULL, 0);
	run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 1);
	send_tcp(&r, CLIENT, 7000, TH_FIN | TH_ACK, 2, 51, NULL, T0 + 2);
	g_assert_cmpstr(table(&r, T0 + 3).state, ==, "FIN_WAIT");
	tcp(&r.t, a, 80, CLIENT, 7000, TH_FIN | TH_ACK, 51, 3, NULL, NULL, 0);
	run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 3);
	g_assert_cmpstr(table(&r, T0 + 4).state, ==, "CLOSED");
	send_tcp(&r, CLIENT, 7000, TH_SYN, 9000, 0, NULL, T0 + 5);
	g_assert_nonnull(strstr(r.note->str, "new entry #2"));
	run_clear(&r);
}

/* ---- client IP --------------------------------------------------------------------------------- */

static void test_client_ip_replaced(void)
{
	struct run r;
	run_init(&r, "preserve-client-ip = false\naddress = 10.0.1.2\ntargets = 10.0.1.11\n");
	g_assert_true(r.st->ops->claims(r.st, ADDRESS, SIDE_RIGHT));
	/* two clients with the same source port, one target: the second gets another port */
	uint32_t t1 = send_tcp(&r, CLIENT, 43001, TH_SYN, 1, 0, NULL, T0);
	g_assert_cmpuint(t1, ==, TARGET(0));
	g_assert_cmpuint(r.t.p.ip.src, ==, ADDRESS);
	g_assert_cmpuint(r.t.p.ip.sport, ==, 43001);
	checksums_verify(&r.t.p);
	send_tcp(&r, CLIENT + 1, 43001, TH_SYN, 1, 0, NULL, T0 + 1);
	g_assert_cmpuint(r.t.p.ip.src, ==, ADDRESS);
	g_assert_cmpuint(r.t.p.ip.sport, ==, 43002);
	g_assert_nonnull(strstr(r.note->str, "port 43001 toward that target is in use"));
	/* the target answers the balancer; the client sees the VIP answer it */
	tcp(&r.t, TARGET(0), 80, ADDRESS, 43002, TH_SYN | TH_ACK, 7, 2, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 2), ==, VERDICT_FORWARD);
	g_assert_cmpuint(r.t.p.ip.src, ==, VIP);
	g_assert_cmpuint(r.t.p.ip.dst, ==, CLIENT + 1);
	g_assert_cmpuint(r.t.p.ip.dport, ==, 43001);
	checksums_verify(&r.t.p);
	/* traffic for the balancer's address that is no flow's */
	tcp(&r.t, TARGET(0), 80, ADDRESS, 50000, TH_ACK, 7, 2, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 3), ==, VERDICT_DROP);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_NO_FLOW);
	run_clear(&r);
}

/* With the client IP preserved, one client reaching one target through two listeners with one
 * source port would be one connection to the target: the second is refused. */
static void test_client_ip_preserved_collision(void)
{
	struct run r;
	run_init(&r, "listen = 203.0.113.10:80, 203.0.113.11:80\ntargets = 10.0.1.11\n");
	g_assert_cmpuint(send_tcp(&r, CLIENT, 43001, TH_SYN, 1, 0, NULL, T0), ==, TARGET(0));
	tcp(&r.t, CLIENT, 43001, VIP + 1, 80, TH_SYN, 1, 0, NULL, NULL, 0);
	g_assert_cmpint(run_process(&r, DIR_LEFT_TO_RIGHT, T0 + 1), ==, VERDICT_DROP);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_TUPLE_IN_USE);
	run_clear(&r);
}

/* ---- proxy protocol v2 ------------------------------------------------------------------------- */

static const uint8_t ppv2_want[28] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, /* signature */
	0x21, 0x11, 0x00, 0x0c,                                                 /* v2 PROXY, TCP/IPv4, 12 */
	198, 51, 100, 7, 203, 0, 113, 10,                                       /* client, listener */
	0x9c, 0x41, 0x00, 0x50,                                                 /* 40001, 80 */
};

static void test_ppv2(void)
{
	struct run r;
	const uint32_t isn = 0xfffffff0u; /* wraps during the connection: serial arithmetic */
	const uint32_t tisn = 777;
	run_init(&r, "proxy-protocol-v2 = true\npreserve-client-ip = false\naddress = 10.0.1.2\ntargets = 10.0.1.11\n");

	send_tcp(&r, CLIENT, 40001, TH_SYN, isn, 0, NULL, T0);
	g_assert_cmpuint(r.t.p.payload_len, ==, 0);
	tcp(&r.t, TARGET(0), 80, ADDRESS, 40001, TH_SYN | TH_ACK, tisn, isn + 1, NULL, NULL, 0);
	run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 1);
	g_assert_cmpuint(test_get32(r.t.buf + 28, 0), ==, isn + 1); /* nothing to shift yet */
	send_tcp(&r, CLIENT, 40001, TH_ACK, isn + 1, tisn + 1, NULL, T0 + 2);
	g_assert_cmpuint(test_get32(r.t.buf + 24, 0), ==, isn + 1);

	/* the first data: the header goes before it, 28 bytes more on the wire */
	send_tcp(&r, CLIENT, 40001, TH_PUSH | TH_ACK, isn + 1, tisn + 1, "GET / HTTP/1.0\r\n\r\n", T0 + 3);
	g_assert_cmpuint(r.t.p.ip.total_len, ==, 40 + 28 + 18);
	g_assert_cmpuint(r.t.p.caplen, ==, 40 + 28 + 18);
	g_assert_cmpuint(r.t.p.payload_len, ==, 28 + 18);
	g_assert_cmpmem(r.t.buf + 40, 28, ppv2_want, 28);
	g_assert_cmpmem(r.t.buf + 68, 18, "GET / HTTP/1.0\r\n\r\n", 18);
	g_assert_cmpuint(test_get32(r.t.buf + 24, 0), ==, isn + 1);
	checksums_verify(&r.t.p);
	g_assert_nonnull(strstr(r.note->str, "proxy protocol v2 header (28 bytes) inserted"));

	/* the target acknowledges header and request, with a SACK block: the client sees its own numbers */
	static const uint8_t sack[12] = { 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t opts[12];
	memcpy(opts, sack, sizeof opts);
	test_put32(opts + 4, 0, isn + 1 + 28 + 18 + 100);
	test_put32(opts + 8, 0, isn + 1 + 28 + 18 + 200);
	tcp(&r.t, TARGET(0), 80, ADDRESS, 40001, TH_ACK, tisn + 1, isn + 1 + 28 + 18, NULL, opts, sizeof opts);
	run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 4);
	g_assert_cmpuint(test_get32(r.t.buf + 28, 0), ==, isn + 1 + 18);
	g_assert_cmpuint(test_get32(r.t.buf + 40 + 4, 0), ==, isn + 1 + 18 + 100);
	g_assert_cmpuint(test_get32(r.t.buf + 40 + 8, 0), ==, isn + 1 + 18 + 200);
	g_assert_nonnull(strstr(r.note->str, "ack -28"));
	checksums_verify(&r.t.p);
	/* an acknowledgement of part of the header only acknowledges nothing of the client's */
	tcp(&r.t, TARGET(0), 80, ADDRESS, 40001, TH_ACK, tisn + 1, isn + 1 + 10, NULL, NULL, 0);
	run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 5);
	g_assert_cmpuint(test_get32(r.t.buf + 28, 0), ==, isn + 1);

	/* the first data again (a retransmission): the header again; later data: seq + 28 */
	send_tcp(&r, CLIENT, 40001, TH_PUSH | TH_ACK, isn + 1, tisn + 1, "GET / HTTP/1.0\r\n\r\n", T0 + 6);
	g_assert_cmpmem(r.t.buf + 40, 28, ppv2_want, 28);
	g_assert_nonnull(strstr(r.note->str, "retransmission of the first data"));
	send_tcp(&r, CLIENT, 40001, TH_FIN | TH_ACK, isn + 1 + 18, tisn + 1, NULL, T0 + 7);
	g_assert_cmpuint(test_get32(r.t.buf + 24, 0), ==, isn + 1 + 18 + 28);
	g_assert_cmpuint(r.t.p.ip.total_len, ==, 40);
	checksums_verify(&r.t.p);
	g_assert_nonnull(strstr(r.note->str, "seq +28"));

	GString *stats = g_string_new(NULL);
	r.st->ops->stats_print(r.st, stats);
	g_assert_nonnull(strstr(stats->str, "proxy protocol v2: 1 headers inserted, 1 again in retransmissions"));
	g_string_free(stats, TRUE);
	run_clear(&r);
}

/* A packet that would pass 65535 bytes with the header is dropped, with its reason. */
static void test_ppv2_no_room(void)
{
	struct run r;
	run_init(&r, "proxy-protocol-v2 = true\ntargets = 10.0.1.11\n");
	send_tcp(&r, CLIENT, 40001, TH_SYN, 1, 0, NULL, T0);
	char *big = g_malloc(65535 - 40 + 1);
	memset(big, 'a', 65535 - 40);
	big[65535 - 40] = '\0';
	g_assert_cmpuint(send_tcp(&r, CLIENT, 40001, TH_ACK, 2, 1, big, T0 + 1), ==, 0);
	g_assert_cmpint(r.drop, ==, DROP_L4LB_PPV2_NO_ROOM);
	g_free(big);
	run_clear(&r);
}

/* ---- reverse ------------------------------------------------------------------------------------- */

/* A reply captured on the client side: reverse gives what the target sent, changes nothing in
 * the table, and process() of that gives the captured bytes back. */
static void test_reverse_reply(void)
{
	struct run r;
	run_init(&r, "proxy-protocol-v2 = true\npreserve-client-ip = false\naddress = 10.0.1.2\ntargets = 10.0.1.11\n");
	send_tcp(&r, CLIENT, 40001, TH_SYN, 100, 0, NULL, T0);
	send_tcp(&r, CLIENT, 40001, TH_ACK, 101, 501, NULL, T0 + 1);
	send_tcp(&r, CLIENT, 40001, TH_PUSH | TH_ACK, 101, 501, "hello", T0 + 2);

	tcp(&r.t, VIP, 80, CLIENT, 40001, TH_ACK, 501, 106, NULL, NULL, 0); /* as the client saw it */
	uint8_t captured[40];
	memcpy(captured, r.t.buf, sizeof captured);
	struct rows before = table(&r, T0 + 3);
	struct stage_ctx ctx = { .now_ns = T0 + 3, .note = r.note };
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_RIGHT_TO_LEFT, &ctx), ==, REVERSE_TRANSLATED);
	g_assert_cmpuint(r.t.p.ip.src, ==, TARGET(0));
	g_assert_cmpuint(r.t.p.ip.dst, ==, ADDRESS);
	g_assert_cmpuint(test_get32(r.t.buf + 28, 0), ==, 106 + 28); /* the target acknowledged the header too */
	checksums_verify(&r.t.p);
	struct rows after = table(&r, T0 + 3);
	g_assert_cmpuint(after.last.packets[1], ==, before.last.packets[1]);
	g_assert_cmpint(after.last.expires_ns, ==, before.last.expires_ns);
	g_assert_cmpint(run_process(&r, DIR_RIGHT_TO_LEFT, T0 + 3), ==, VERDICT_FORWARD);
	g_assert_cmpmem(r.t.buf, 40, captured, 40);

	/* a reply from the VIP that no flow has could not have passed */
	tcp(&r.t, VIP, 80, CLIENT, 40999, TH_ACK, 1, 1, NULL, NULL, 0);
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_RIGHT_TO_LEFT, &ctx), ==, REVERSE_IMPOSSIBLE);
	run_clear(&r);
}

/* A request captured on the target side: before its flow exists, and with the header in it. */
static void test_reverse_request(void)
{
	struct run r;
	struct stage_ctx ctx = { .now_ns = T0 };
	run_init(&r, "proxy-protocol-v2 = true\ntargets = 10.0.1.11\n");
	ctx.note = r.note;
	tcp(&r.t, CLIENT, 40001, TARGET(0), 80, TH_SYN, 100, 0, NULL, NULL, 0);
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_LEFT_TO_RIGHT, &ctx), ==, REVERSE_TRANSLATED);
	g_assert_cmpuint(r.t.p.ip.dst, ==, VIP);
	g_assert_cmpuint(table(&r, T0).n, ==, 0);
	g_assert_cmpint(run_process(&r, DIR_LEFT_TO_RIGHT, T0), ==, VERDICT_FORWARD);
	g_assert_cmpuint(r.t.p.ip.dst, ==, TARGET(0));

	/* the first data, as the target received it: header and all */
	send_tcp(&r, CLIENT, 40001, TH_PUSH | TH_ACK, 101, 1, "hello", T0 + 1);
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_LEFT_TO_RIGHT, &ctx), ==, REVERSE_TRANSLATED);
	g_assert_cmpuint(r.t.p.ip.total_len, ==, 45);
	g_assert_cmpuint(r.t.p.caplen, ==, 45);
	g_assert_cmpmem(r.t.buf + 40, 5, "hello", 5);
	checksums_verify(&r.t.p);
	/* later data, 28 ahead in the target's numbers */
	send_tcp(&r, CLIENT, 40001, TH_PUSH | TH_ACK, 106, 1, "again", T0 + 2);
	g_assert_cmpuint(test_get32(r.t.buf + 24, 0), ==, 106 + 28);
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_LEFT_TO_RIGHT, &ctx), ==, REVERSE_TRANSLATED);
	g_assert_cmpuint(test_get32(r.t.buf + 24, 0), ==, 106);
	g_assert_cmpuint(r.t.p.ip.dst, ==, VIP);
	checksums_verify(&r.t.p);
	run_clear(&r);

	/* without the client's address in the packet there is no telling where it came from */
	run_init(&r, "preserve-client-ip = false\naddress = 10.0.1.2\n");
	ctx.note = r.note;
	tcp(&r.t, ADDRESS, 40001, TARGET(0), 80, TH_SYN, 100, 0, NULL, NULL, 0);
	g_assert_cmpint(r.st->ops->reverse(r.st, &r.t.p, DIR_LEFT_TO_RIGHT, &ctx), ==, REVERSE_IMPOSSIBLE);
	g_assert_nonnull(strstr(r.note->str, "preserve-client-ip = false"));
	run_clear(&r);
}

/* ---- through the replay loop: the RST reaches the client ------------------------------------- */

static void test_rst_through_pipeline(void)
{
	GError *err = NULL;
	char *dir = test_tmpdir();
	char *path = g_build_filename(dir, "out.pcapng", NULL);
	struct scenario *sc = load_ok("events = 1s down 10.0.1.11; 1s down 10.0.1.12; 1s down 10.0.1.13; "
	                              "1s down 10.0.1.14\n"); /* only 10.0.1.15 stays up */
	struct output *out = output_open(OUTPUT_PCAPNG, path, "test", &err);
	g_assert_no_error(err);
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new(sc, out, &opt, &err);
	g_assert_no_error(err);
	struct tpkt t = { 0 };
	uint32_t target = 0;
	uint16_t port = 0;
	/* find a client port whose flow lands on a target that goes down */
	for (uint16_t p = 30000; !target; p++) {
		tcp(&t, CLIENT, p, VIP, 80, TH_SYN, 1000, 0, NULL, NULL, 0);
		struct input_record rec = { t.buf, t.p.caplen, t.p.caplen, T0, DLT_RAW, 0 };
		g_assert_true(pipeline_replay(pl, &rec, &err));
		struct rows rs = { 0 };
		sc->stages[0]->ops->table_foreach(sc->stages[0], T0, collect, &rs);
		if (rs.last.reply.src != TARGET(4)) {
			target = rs.last.reply.src;
			port = p;
		}
	}
	tcp(&t, CLIENT, port, VIP, 80, TH_PUSH | TH_ACK, 1001, 5555, "data", NULL, 0);
	struct input_record rec = { t.buf, t.p.caplen, t.p.caplen, T0 + 2 * NS, DLT_RAW, 0 };
	g_assert_true(pipeline_replay(pl, &rec, &err));
	g_assert_true(pipeline_balanced(pl));
	g_assert_true(output_close(out, &err));
	g_assert_no_error(err);

	/* the last packet written is the RST: from the listener, to the client, seq = the ack */
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	g_assert_nonnull(pc);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t last[64];
	uint32_t last_len = 0;
	while (pcap_next_ex(pc, &h, &d) == 1) {
		last_len = MIN(h->caplen, sizeof last);
		memcpy(last, d, last_len);
	}
	pcap_close(pc);
	g_assert_cmpuint(last_len, ==, 40);
	g_assert_cmpuint(test_get32(last + 12, 0), ==, VIP);
	g_assert_cmpuint(test_get32(last + 16, 0), ==, CLIENT);
	g_assert_cmpuint(last[20] << 8 | last[21], ==, 80);
	g_assert_cmpuint(last[22] << 8 | last[23], ==, port);
	g_assert_cmpuint(test_get32(last + 24, 0), ==, 5555);
	g_assert_cmphex(last[33], ==, TH_RST);
	struct packet rst = { .data = last, .caplen = 40, .wirelen = 40, .linktype = DLT_RAW };
	decode_packet(&rst);
	checksums_verify(&rst);
	GString *stats = g_string_new(NULL);
	pipeline_stats(pl, stats);
	g_assert_nonnull(strstr(stats->str, "L4LB_TARGET_DOWN"));
	g_assert_nonnull(strstr(stats->str, "packets emitted 1"));
	g_string_free(stats, TRUE);
	pipeline_free(pl);
	scenario_free(sc);
	g_free(t.buf);
	g_free(path);
	test_rmdir(dir);
}

/* natlb hash -s: the stage's own hash settings, and where the flow goes. */
static void test_explain(void)
{
	struct scenario *sc = load_ok("hash = src-ip\nhash-function = xxh32\nselection = rendezvous\n");
	struct l4lb_choice c;
	struct lb_flow_key k = { CLIENT, VIP, 1234, 80, 6 };
	GString *note = g_string_new(NULL);
	g_assert_true(l4lb_explain(sc->stages[0], &k, NULL, NULL, &c, note));
	g_assert_cmpstr(c.hash->name, ==, "xxh32");
	g_assert_cmpint(c.fields, ==, LB_FIELDS_SRC_IP);
	g_assert_true(c.has_listener);
	g_assert_cmpint(c.target, >=, 0);
	g_assert_nonnull(strstr(note->str, "rendezvous: highest score"));
	/* src-ip: every port of the client goes to the same target */
	for (uint16_t p = 1; p < 50; p++) {
		struct l4lb_choice d;
		k.sport = p;
		l4lb_explain(sc->stages[0], &k, NULL, NULL, &d, NULL);
		g_assert_cmpint(d.target, ==, c.target);
	}
	g_string_free(note, TRUE);
	scenario_free(sc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(config_cases); i++) {
		char *path = g_strdup_printf("/l4lb/config/%s", config_cases[i].name);
		g_test_add_data_func(path, &config_cases[i], test_config);
		g_free(path);
	}
	g_test_add_func("/l4lb/config/check-prints-every-default-and-reloads", test_describe_fills_defaults);
	g_test_add_func("/l4lb/flows/every-packet-of-a-flow-reaches-its-first-target", test_stickiness);
	g_test_add_data_func("/l4lb/flows/tcp-idle-timeout-350s-at-the-boundary", GINT_TO_POINTER(0), test_timeouts);
	g_test_add_data_func("/l4lb/flows/udp-idle-timeout-120s-at-the-boundary", GINT_TO_POINTER(1), test_timeouts);
	g_test_add_func("/l4lb/flows/replies-without-a-flow-and-strangers", test_reply_without_flow);
	g_test_add_func("/l4lb/flows/table-full-drops-new-flows-only", test_flow_table_full);
	g_test_add_func("/l4lb/flows/new-syn-on-a-closed-connection-is-a-new-flow", test_port_reuse_after_close);
	g_test_add_func("/l4lb/events/down-resets-tcp-moves-udp-spares-the-rest", test_event_down);
	g_test_add_func("/l4lb/events/drain-until-deregistration-delay-then-up", test_event_drain_and_up);
	g_test_add_func("/l4lb/events/all-down-fails-open", test_fail_open);
	g_test_add_func("/l4lb/events/all-drained-refuse-new-flows", test_all_drained_refuse_new_flows);
	for (unsigned i = 0; i < G_N_ELEMENTS(ideal_cases); i++) {
		char *path = g_strdup_printf("/l4lb/events/ideal/%s", ideal_cases[i].name);
		g_test_add_data_func(path, GUINT_TO_POINTER(i), test_event_ideal);
		g_free(path);
	}
	g_test_add_func("/l4lb/client-ip/replaced-by-the-balancer-address-and-a-free-port", test_client_ip_replaced);
	g_test_add_func("/l4lb/client-ip/preserved-same-source-through-two-listeners-refused",
	                test_client_ip_preserved_collision);
	g_test_add_func("/l4lb/ppv2/header-sequence-ack-and-sack-shifts", test_ppv2);
	g_test_add_func("/l4lb/ppv2/no-room-past-65535-bytes", test_ppv2_no_room);
	g_test_add_func("/l4lb/reverse/reply-on-the-client-side-changes-nothing", test_reverse_reply);
	g_test_add_func("/l4lb/reverse/request-on-the-target-side", test_reverse_request);
	g_test_add_func("/l4lb/pipeline/rst-to-the-client-for-a-flow-on-a-down-target", test_rst_through_pipeline);
	g_test_add_func("/l4lb/explain/natlb-hash-uses-the-stage-settings", test_explain);
	return g_test_run();
}
