/* tests/test_napt_e2e.c: the napt lessons end to end: natlb gen, natlb replay, and tshark as the independent reader.
 *
 * The lessons' golden dumps are cases of tests/golden/TESTLIST, run by tests/test_golden.c; here,
 * what the lessons teach, field by field.  Behaviours the lessons do not cover (the AWS idle RST,
 * out-of-order fragments, hairpinning off, seeds) use captures built here with the gen layer.
 */
#include <netinet/tcp.h>
#include <pcap/pcap.h>
#include <stdio.h>

#include "common/checksum.h"
#include "tests/testpkt.h"
#include "tests/testutil.h"
#include "tools/gen.h"



static char *gen(const char *dir, const char *lesson)
{
	char *path = g_strdup_printf("%s/%s.pcap", dir, lesson);
	const char *argv[] = { test_natlb_binary(), "gen", lesson, "-o", path, NULL };
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	if (rc != 0)
		g_printerr("natlb gen %s: %s", lesson, err);
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
	return path;
}

/* natlb replay -q [--stats] -s SCENARIO [extra] -o OUT IN; returns stdout. */
static char *replay(const char *scenario, const char *in, const char *out, const char *extra)
{
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", scenario, "-o", out, in,
		               extra, NULL };
	char *o = NULL, *e = NULL;
	int rc = test_run(argv, &o, &e);
	if (rc != 0 || (e && *e))
		g_printerr("natlb replay %s: %s", scenario, e);
	g_assert_cmpint(rc, ==, 0);
	g_assert_cmpstr(e, ==, "");
	g_assert_nonnull(strstr(o, ": balanced\n"));
	g_assert_null(strstr(o, "NOT BALANCED"));
	g_assert_null(strstr(o, "differ from the captured packet"));
	g_free(e);
	return o;
}

static char *tshark(const char *file, const char *const *fields, const char *filter)
{
	static const char *const prefs[] = { TEST_TSHARK_CHECKSUMS, NULL };
	return test_tshark_fields(file, prefs, filter, fields);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- Every lesson: the checksums tshark can verify ------------------------------------------------ */

/* The lessons' golden dumps are cases of tests/golden/TESTLIST (tests/test_golden.c); what a dump
 * of addresses and comments cannot show is whether the rewritten checksums are right. */
struct lesson_case {
	const char *name;     /* test path */
	const char *lesson;   /* natlb gen LESSON */
	const char *scenario;
};

static const struct lesson_case lessons[] = {
	{ "/napt-e2e/home/checksums-verify-on-every-link", "napt-home", "scenarios/napt-home.ini" },
	{ "/napt-e2e/probes/full-cone/checksums-verify-on-every-link", "napt-probes", "scenarios/napt-full-cone.ini" },
	{ "/napt-e2e/probes/restricted-cone/checksums-verify-on-every-link", "napt-probes",
	  "scenarios/napt-restricted-cone.ini" },
	{ "/napt-e2e/probes/port-restricted-cone/checksums-verify-on-every-link", "napt-probes",
	  "scenarios/napt-port-restricted-cone.ini" },
	{ "/napt-e2e/probes/symmetric/checksums-verify-on-every-link", "napt-probes", "scenarios/napt-symmetric.ini" },
	{ "/napt-e2e/exhaustion/checksums-verify-on-every-link", "napt-exhaustion", "scenarios/napt-exhaustion.ini" },
	{ "/napt-e2e/hairpin/checksums-verify-on-every-link", "napt-hairpin", "scenarios/napt-hairpin.ini" },
};

static void test_lesson_checksums(gconstpointer data)
{
	const struct lesson_case *c = data;
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = gen(dir, c->lesson);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	g_free(replay(c->scenario, in, out, NULL));
	/* Every checksum tshark can verify is right on every link (the lessons have no bad one). */
	static const char *const sums[] = { "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
		                            "icmp.checksum.status", NULL };
	char *st = tshark(out, sums, NULL);
	g_assert_cmpuint(count_lines(st), >, 10);
	char **lines = g_strsplit(st, "\n", -1);
	for (char **l = lines; *l && **l; l++) {
		char **v = g_strsplit_set(*l, "|,", -1);
		for (char **x = v; *x; x++) /* 1 good; 2 unverified (a quoted header cut to 8 bytes) */
			g_assert_true(**x == '\0' || g_str_equal(*x, "1") || g_str_equal(*x, "2"));
		g_strfreev(v);
	}
	g_strfreev(lines);
	g_free(st);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* ---- What the lessons teach, checked field by field ------------------------------------------ */

/* frame.packet_id (pcapng epb_packetid) follows one packet across links: in napt-home the DNS
 * query is seen on lan then on internet (one id), its reply derived on internet then captured on
 * lan (the next id); every view has an id, ids only grow, and each id's views are consecutive. */
static void test_packet_id_follows_a_packet(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = gen(dir, "napt-home");
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	g_free(replay("scenarios/napt-home.ini", in, out, NULL));
	static const char *const fields[] = { "frame.packet_id", "frame.interface_name", NULL };
	char *got = tshark(out, fields, NULL);
	g_assert_true(g_str_has_prefix(got, "1|lan\n1|internet\n2|internet\n2|lan\n"));
	char **lines = g_strsplit(got, "\n", -1);
	guint64 last = 0;
	unsigned views = 0;
	for (char **l = lines; *l && **l; l++, views++) {
		guint64 id = g_ascii_strtoull(*l, NULL, 10);
		g_assert_cmpuint(id, >=, 1);
		g_assert_true(id == last || id == last + 1);
		last = id;
	}
	g_assert_cmpuint(views, >, last); /* some packets crossed a stage: fewer ids than views */
	g_strfreev(lines);
	g_free(got);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* traceroute: on the internet the router's error quotes the probe's external endpoint; inside, the
 * probe's own (RFC 5508 REQ-4), in the quoted header as tshark decodes it. */
static void test_icmp_error_quote(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = gen(dir, "napt-home");
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	g_free(replay("scenarios/napt-home.ini", in, out, NULL));
	static const char *const f[] = { "frame.interface_name", "ip.dst", "ip.src", "udp.srcport", "icmp.type", NULL };
	char *s = tshark(out, f, "icmp.type == 11");
	g_assert_nonnull(strstr(s, "internet|203.0.113.7,198.51.100.99|192.0.2.1,203.0.113.7|44001|11\n"));
	g_assert_nonnull(strstr(s, "lan|192.168.1.11,198.51.100.99|192.0.2.1,192.168.1.11|44001|11\n"));
	g_assert_cmpuint(count_lines(s), ==, 4);
	g_free(s);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

static void test_exhaustion_counts(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = gen(dir, "napt-exhaustion");
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	char *stats = replay("scenarios/napt-exhaustion.ini", in, out, NULL);
	g_assert_nonnull(strstr(stats, "drop NAPT_NO_PORT                  4"));
	g_assert_nonnull(strstr(stats, "emitted 0 RST, 4 ICMP 3/13"));
	static const char *const f[] = { "frame.interface_name", "ip.src", "ip.dst", "icmp.code", NULL };
	char *s = tshark(out, f, "icmp.type == 3");
	g_assert_nonnull(strstr(s, "lan|192.168.1.1,192.168.1.25|192.168.1.25,198.51.100.80|13\n"));
	g_assert_cmpuint(count_lines(s), ==, 4);
	g_free(s);
	g_free(stats);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

static char *write_scenario(const char *dir, const char *name, const char *text)
{
	char *path = g_strdup_printf("%s/%s.ini", dir, name);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static void test_hairpin_off(void)
{
	char *dir = test_tmpdir();
	char *in = gen(dir, "napt-hairpin");
	char *text = NULL;
	g_assert_true(g_file_get_contents("scenarios/napt-hairpin.ini", &text, NULL, NULL));
	char **parts = g_strsplit(text, "hairpin = yes", 2);
	g_assert_nonnull(parts[1]);
	char *joined = g_strjoin("hairpin = no", parts[0], parts[1], NULL);
	char *sc = write_scenario(dir, "off", joined);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	char *stats = replay(sc, in, out, NULL);
	g_assert_nonnull(strstr(stats, "drop NAPT_HAIRPIN_OFF              4"));
	g_assert_nonnull(strstr(stats, "hairpinned 0"));
	g_free(stats);
	g_free(out);
	g_free(sc);
	g_free(joined);
	g_strfreev(parts);
	g_free(text);
	g_free(in);
	test_rmdir(dir);
}

/* ---- The AWS NAT gateway: RST after 350 s idle ----------------------------------------------- */

static const char aws_scenario[] =
	"[scenario]\nchain = private > natgw > internet\ncapture = private\n"
	"[link private]\nnetworks = 10.0.1.0/24\n[link internet]\n"
	"[stage natgw]\ntype = napt\nprofile = aws-nat-gateway\nexternal = 203.0.113.20\n";

static struct gen_end end_at(const char *ip, guint16 port, guint8 mac_last)
{
	struct gen_end e = { .mac = { 2, 0, 0, 0, 9, mac_last }, .port = port, .ttl = 64 };
	e.ip = gen_ip4(ip);
	return e;
}

static void test_aws_idle_rst(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/idle.pcap", dir);
	GError *err = NULL;
	struct gen_ctx *g = gen_ctx_open(in, &err);
	g_assert_no_error(err);
	struct gen_end c = end_at("10.0.1.10", 40000, 10), s = end_at("198.51.100.80", 443, 1);
	struct gen_tcp t;
	gen_tcp_init(&t, &c, &s, 1000, 2000);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_clock_set(g, 400 * GEN_NSEC_PER_SEC); /* 400 s of silence: more than 350 */
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, "late", 4);
	g_assert_true(gen_ctx_finish(g, &err));
	char *sc = write_scenario(dir, "aws", aws_scenario);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	char *stats = replay(sc, in, out, NULL);
	g_assert_nonnull(strstr(stats, "IdleTimeoutCount                        1"));
	g_assert_nonnull(strstr(stats, "drop NAPT_IDLE_TIMEOUT"));
	static const char *const f[] = { "frame.interface_name", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
		                         "tcp.seq_raw", "tcp.checksum.status", NULL };
	char *r = tshark(out, f, "tcp.flags.reset == 1");
	/* From the server's endpoint to the client, on the private link, with the sequence number the
	 * client acknowledged (RFC 9293 3.10.7.1): 2001, the server's ISN + 1. */
	g_assert_cmpstr(r, ==, "private|198.51.100.80|10.0.1.10|443|40000|2001|1\n");
	g_free(r);
	g_free(stats);
	g_free(out);
	g_free(sc);
	g_free(in);
	test_rmdir(dir);
}

/* ---- Fragments out of order ---------------------------------------------------------------------- */


/* Ethernet + IPv4 fragment of a UDP datagram (whole: 8 + 24 bytes), offset in 8-byte units. */
static guint32 fragment(guint8 *f, const guint8 *datagram, guint32 off_units, guint32 len, bool more)
{
	static const guint8 eth[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 40, 8, 0 };
	guint8 *ip = f + 14;
	memcpy(f, eth, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	test_put16(ip + 2, 0, (guint16)(20 + len));
	test_put16(ip + 4, 0, 0x4242);
	test_put16(ip + 6, 0, (guint16)((more ? 0x2000 : 0) | off_units));
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 192; ip[13] = 168; ip[14] = 1; ip[15] = 40;
	ip[16] = 198; ip[17] = 51; ip[18] = 100; ip[19] = 70;
	test_put16(ip + 10, 0, csum_fold(csum_partial(ip, 20, 0)));
	memcpy(ip + 20, datagram + off_units * 8, len);
	return 34 + len;
}

static void test_fragments_out_of_order(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/frag.pcap", dir);
	guint8 dgram[32] = { 0x1b, 0x58, 0x1b, 0x59, 0, 32, 0, 0 }, f[128];
	guint8 pseudo[12] = { 192, 168, 1, 40, 198, 51, 100, 70, 0, 17, 0, 32 };
	memset(dgram + 8, 'x', 24);
	test_put16(dgram + 6, 0, csum_fold(csum_partial(dgram, 32, csum_partial(pseudo, 12, 0))));
	GError *err = NULL;
	struct gen_ctx *g = gen_ctx_open(in, &err);
	g_assert_no_error(err);
	gen_emit_bytes(g, f, fragment(f, dgram, 2, 16, false)); /* the second half first */
	gen_emit_bytes(g, f, fragment(f, dgram, 0, 16, true));
	g_assert_true(gen_ctx_finish(g, &err));
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	char *stats = replay("scenarios/napt-home.ini", in, out, NULL);
	g_assert_nonnull(strstr(stats, "1 held, 1 released"));
	static const char *const fl[] = { "frame.interface_name", "ip.src", "ip.frag_offset", "udp.checksum.status", NULL };
	char *s = tshark(out, fl, "frame.interface_name == \"internet\"");
	/* The first fragment crosses, then the held one follows it; tshark reassembles the datagram
	 * and verifies the UDP checksum the NAT updated in the first (offsets in 8-byte units). */
	g_assert_cmpstr(s, ==, "internet|203.0.113.7|0|\ninternet|203.0.113.7|2|1\n");
	g_free(s);
	g_free(stats);
	g_free(out);
	g_free(in);
	test_rmdir(dir);
}

/* ---- Determinism and the seed -------------------------------------------------------------------- */

static gboolean same_file(const char *a, const char *b)
{
	char *x = NULL, *y = NULL;
	gsize lx = 0, ly = 0;
	g_assert_true(g_file_get_contents(a, &x, &lx, NULL));
	g_assert_true(g_file_get_contents(b, &y, &ly, NULL));
	gboolean eq = lx == ly && memcmp(x, y, lx) == 0;
	g_free(x);
	g_free(y);
	return eq;
}

/* The external port (ICMP echo: identifier) each inside endpoint was given, as tshark reads the
 * replay: "PROTO ADDRESS:PORT" -> port.  Views are written in travel order, so every request's
 * lan view is followed by its internet view; pairing the two needs no trust in our comments.  A
 * mapping holds for all of an endpoint's packets (the scenario's EIM), which is checked here too. */
static GHashTable *external_ports(const char *file)
{
	static const char *const f[] = { "frame.interface_name", "ip.src", "ip.proto", "tcp.srcport", "udp.srcport",
		                         "icmp.ident", NULL };
	char *dump = tshark(file, f, "frame.packet_flags_direction == 2"); /* outbound only */
	char **lines = g_strsplit(dump, "\n", -1);
	GHashTable *ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *inside = NULL;
	for (char **l = lines; *l && **l; l++) {
		char **c = g_strsplit(*l, "|", -1);
		g_assert_cmpuint(g_strv_length(c), ==, 6);
		const char *port = *c[3] ? c[3] : *c[4] ? c[4] : c[5];
		g_assert_cmpstr(port, !=, "");
		if (!inside) {
			g_assert_cmpstr(c[0], ==, "lan");
			inside = g_strdup_printf("%s %s:%s", c[2], c[1], port);
		} else {
			g_assert_cmpstr(c[0], ==, "internet");
			g_assert_cmpstr(c[1], ==, "203.0.113.7");
			guint external = (guint)g_ascii_strtoull(port, NULL, 10);
			gpointer before = g_hash_table_lookup(ports, inside);
			if (before)
				g_assert_cmpuint(GPOINTER_TO_UINT(before), ==, external);
			g_hash_table_insert(ports, inside, GUINT_TO_POINTER(external));
			inside = NULL;
		}
		g_strfreev(c);
	}
	g_assert_null(inside); /* no request left without its view beyond the NAT */
	g_strfreev(lines);
	g_free(dump);
	return ports;
}

/* napt-home's inside endpoints that send (ip.proto, address, port or echo identifier). */
static const char *const home_endpoints[] = {
	"17 192.168.1.12:40000", "1 192.168.1.12:4660", "6 192.168.1.10:51324", "6 192.168.1.11:51324",
	"17 192.168.1.11:44001", "17 192.168.1.11:44002", "17 192.168.1.11:44003",
};

/* port-allocation = random draws from --seed: the same seed gives the same bytes; each seed gives
 * every endpoint a port of the pool, none the same as another's (two PCs send from 51324), and the
 * two seeds give each endpoint a different one. */
static void test_seed(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = gen(dir, "napt-home");
	char *sc = write_scenario(dir, "rand", "[scenario]\nchain = lan > home > internet\n[link lan]\n"
	                          "networks = 192.168.1.0/24\n[link internet]\n[stage home]\ntype = napt\n"
	                          "external = 203.0.113.7\nports = 1024-65535\nport-allocation = random\n");
	char *o1 = g_strdup_printf("%s/1.pcapng", dir), *o2 = g_strdup_printf("%s/2.pcapng", dir),
	     *o3 = g_strdup_printf("%s/3.pcapng", dir);
	g_free(replay(sc, in, o1, "--seed=7"));
	g_free(replay(sc, in, o2, "--seed=7"));
	g_free(replay(sc, in, o3, "--seed=8"));
	g_assert_true(same_file(o1, o2));
	GHashTable *seven = external_ports(o1), *eight = external_ports(o3);
	g_assert_cmpuint(g_hash_table_size(seven), ==, G_N_ELEMENTS(home_endpoints));
	g_assert_cmpuint(g_hash_table_size(eight), ==, G_N_ELEMENTS(home_endpoints));
	GHashTable *taken = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (unsigned i = 0; i < G_N_ELEMENTS(home_endpoints); i++) {
		const char *e = home_endpoints[i];
		g_assert_true(g_hash_table_contains(seven, e));
		g_assert_true(g_hash_table_contains(eight, e));
		guint p7 = GPOINTER_TO_UINT(g_hash_table_lookup(seven, e)), p8 = GPOINTER_TO_UINT(g_hash_table_lookup(eight, e));
		g_test_message("%s: seed 7 -> %u, seed 8 -> %u", e, p7, p8);
		g_assert_cmpuint(p7, >=, 1024);
		g_assert_cmpuint(p7, <=, 65535);
		g_assert_cmpuint(p8, >=, 1024);
		g_assert_cmpuint(p8, <=, 65535);
		g_assert_cmpuint(p7, !=, p8);
		g_assert_false(g_hash_table_contains(taken, GUINT_TO_POINTER(p7)));
		g_hash_table_add(taken, GUINT_TO_POINTER(p7));
	}
	/* random, not preserved: with these seeds no endpoint keeps its own port */
	for (unsigned i = 0; i < G_N_ELEMENTS(home_endpoints); i++) {
		const char *own = strrchr(home_endpoints[i], ':') + 1;
		g_assert_cmpuint(GPOINTER_TO_UINT(g_hash_table_lookup(seven, home_endpoints[i])), !=, atoi(own));
	}
	g_hash_table_destroy(taken);
	g_hash_table_destroy(seven);
	g_hash_table_destroy(eight);
	g_free(o1);
	g_free(o2);
	g_free(o3);
	g_free(sc);
	g_free(in);
	test_rmdir(dir);
}

/* ---- The linux profile: a peer's packet that arrives first (issue 10) ------------------------- */

static const char punch_scenario[] =
	"[scenario]\nchain = lan > home > internet\ncapture = lan\n"
	"[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	"[stage home]\ntype = napt\nexternal = 203.0.113.7\n%s\n";

/* A host learns its mapping from a STUN server; the peer it told punches first, then the host. */
static char *punch_capture(const char *dir)
{
	char *in = g_strdup_printf("%s/punch.pcap", dir);
	GError *err = NULL;
	struct gen_ctx *g = gen_ctx_open(in, &err);
	g_assert_no_error(err);
	struct gen_end h = end_at("192.168.1.10", 40000, 10), stun = end_at("198.51.100.1", 3478, 1);
	struct gen_end peer = end_at("198.51.100.9", 6000, 1);
	gen_udp(g, &h, &stun, "binding", 7, 0x0101);
	gen_emit(g);
	gen_clock_set(g, 10 * GEN_NSEC_PER_SEC / 1000);
	gen_udp(g, &stun, &h, "mapped", 6, 0x0201);
	gen_emit(g);
	gen_clock_set(g, 1 * GEN_NSEC_PER_SEC);
	gen_udp(g, &peer, &h, "punch", 5, 0x0301); /* captured on the lan as if it had passed */
	gen_emit(g);
	gen_clock_set(g, 1100 * GEN_NSEC_PER_SEC / 1000);
	gen_udp(g, &h, &peer, "punch", 5, 0x0102);
	gen_emit(g);
	g_assert_true(gen_ctx_finish(g, &err));
	return in;
}

struct punch_case {
	const char *name;
	const char *keys;
	const char *to_peer;     /* tshark: the host's packet to the peer on the internet link */
	const char *answers;     /* tshark: the ICMP errors the NAT sent the peer */
	const char *table_row;   /* a substring of natlb tables' last snapshot, or NULL for none */
	const char *stats;       /* a line of --stats, or NULL: the answer-unsolicited line is absent */
};

static const struct punch_case punch_cases[] = {
	{ "/napt-e2e/linux/peer-first-is-answered-3-3-and-the-host-leaves-from-another-port", "profile = linux", NULL,
	  "internet|203.0.113.7,198.51.100.9|198.51.100.9,203.0.113.7|3|3|1|6000|40000|70756e6368\n",
	  "src=198.51.100.9 dst=203.0.113.7 sport=6000 dport=40000",
	  "packets for the NAT itself (answer-unsolicited): 1, answered with the RSTs above and 1 ICMP 3/3\n" },
	{ "/napt-e2e/port-restricted-cone/peer-first-is-dropped-and-the-host-keeps-its-port", "profile = port-restricted-cone",
	  "internet|203.0.113.7|198.51.100.9|40000|6000\n", "", NULL, NULL },
};

static void test_punch(gconstpointer data)
{
	const struct punch_case *c = data;
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = punch_capture(dir);
	char *text = g_strdup_printf(punch_scenario, c->keys);
	char *sc = write_scenario(dir, "punch", text);
	char *out = g_strdup_printf("%s/out.pcapng", dir), *tables = g_strdup_printf("%s/t.json", dir);
	char *targ = g_strdup_printf("--tables=%s", tables);
	char *stats = replay(sc, in, out, targ);
	if (c->stats)
		g_assert_nonnull(strstr(stats, c->stats));
	else
		g_assert_null(strstr(stats, "answer-unsolicited"));
	static const char *const fu[] = { "frame.interface_name", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", NULL };
	char *r = tshark(out, fu, "frame.interface_name == \"internet\" && ip.dst == 198.51.100.9 && !icmp");
	if (c->to_peer)
		g_assert_cmpstr(r, ==, c->to_peer);
	else {
		/* Linux's conntrack entry for the peer's packet holds 203.0.113.7:40000 towards the peer. */
		g_assert_cmpuint(count_lines(r), ==, 1);
		g_assert_true(g_str_has_prefix(r, "internet|203.0.113.7|198.51.100.9|"));
		g_assert_false(g_str_has_prefix(r, "internet|203.0.113.7|198.51.100.9|40000|"));
	}
	g_free(r);
	/* The outer header, then the quoted one (tshark lists each field's occurrences with commas): the
	 * router's answer from its own address, quoting the peer's whole datagram. */
	static const char *const fi[] = { "frame.interface_name", "ip.src", "ip.dst", "icmp.type", "icmp.code",
		                          "icmp.checksum.status", "udp.srcport", "udp.dstport", "data.data", NULL };
	r = tshark(out, fi, "icmp.type == 3");
	g_assert_cmpstr(r, ==, c->answers);
	g_free(r);
	const char *argv[] = { test_natlb_binary(), "tables", tables, NULL };
	char *o = NULL, *e = NULL;
	g_assert_cmpint(test_run(argv, &o, &e), ==, 0);
	char **lines = g_strsplit(o, "\n", -1);
	unsigned local_rows = 0;
	for (char **l = lines; *l; l++)
		if (strstr(*l, " local ")) {
			/* conntrack -L on the router: the peer's packet to the router itself, never answered */
			g_assert_nonnull(c->table_row);
			g_assert_nonnull(strstr(*l, c->table_row));
			g_assert_nonnull(strstr(*l, "[UNREPLIED]"));
			local_rows++;
		}
	g_assert_cmpuint(local_rows, ==, c->table_row ? 1 : 0);
	g_strfreev(lines);
	g_free(o);
	g_free(e);
	g_free(stats);
	g_free(targ);
	g_free(tables);
	g_free(out);
	g_free(sc);
	g_free(text);
	g_free(in);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (unsigned i = 0; i < G_N_ELEMENTS(lessons); i++)
		g_test_add_data_func(lessons[i].name, &lessons[i], test_lesson_checksums);
	g_test_add_func("/napt-e2e/icmp/time-exceeded-quote-translated-both-ways", test_icmp_error_quote);
	g_test_add_func("/napt-e2e/home/packet-id-follows-one-packet-across-links", test_packet_id_follows_a_packet);
	g_test_add_func("/napt-e2e/exhaustion/drops-counted-and-answered-3-13", test_exhaustion_counts);
	g_test_add_func("/napt-e2e/hairpin/off-drops-every-hairpinned-packet", test_hairpin_off);
	g_test_add_func("/napt-e2e/aws/rst-after-350s-idle", test_aws_idle_rst);
	g_test_add_func("/napt-e2e/fragments/later-first-held-then-sent-after-the-first", test_fragments_out_of_order);
	g_test_add_func("/napt-e2e/seed/same-seed-same-bytes-other-seed-other-port-for-every-endpoint", test_seed);
	for (unsigned i = 0; i < G_N_ELEMENTS(punch_cases); i++)
		g_test_add_data_func(punch_cases[i].name, &punch_cases[i], test_punch);
	return g_test_run();
}
