/* tests/test_peer.c: static NAT of a prefix gives the same bytes as tcprewrite --srcipmap/--dstipmap, on our lesson and on real captures.
 *
 * tcprewrite only maps addresses: the scenarios here say `routers = no`, so that the stage keeps the
 * link header and the TTL as tcprewrite does (a router's own MAC and TTL decrement are compared
 * with nothing here; tests/test_router.c covers them). */
#include <pcap/pcap.h>
#include <stdio.h>

#include "common/addr.h"
#include "common/checksum.h"
#include "common/packet.h"
#include "tests/testutil.h"

/* Private space onto public-looking blocks of the same size, both ways, for real captures. */
static const char peer_scenario[] =
	"[scenario]\n"
	"description = peer check: private prefixes statically mapped, as tcprewrite --srcipmap/--dstipmap\n"
	"chain = lan > nat > internet\n"
	"routers = no\n"
	"[link lan]\n"
	"networks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16\n"
	"[link internet]\n"
	"[stage nat]\n"
	"type = static-nat\n"
	"map = 10.0.0.0/8 44.0.0.0/8; 172.16.0.0/12 100.64.0.0/12; 192.168.0.0/16 198.18.0.0/16\n";
static const char peer_map[] = "10.0.0.0/8:44.0.0.0/8,172.16.0.0/12:100.64.0.0/12,192.168.0.0/16:198.18.0.0/16";

static bool is_private(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8;
}

/* Which packets cross the NAT, and which of those tcprewrite treats differently by design. */
enum peer_class { PEER_SKIP, PEER_COMPARE, PEER_DIFFERS_CHECKSUM, PEER_DIFFERS_QUOTE, PEER_DIFFERS_PADDING };

static enum peer_class classify(struct packet *p)
{
	uint16_t stored, want;

	if (decode_packet(p) == DECODE_INVALID || p->l3 != L3_IPV4)
		return PEER_SKIP;
	if (is_private(p->ip.src) && is_private(p->ip.dst))
		return PEER_SKIP; /* stays on the LAN: no far-side view */
	/* Multicast, broadcast, loopback, link-local: no router forwards it (common/addr.h), so it has no
	 * far-side view either; tcprewrite rewrites it all the same. */
	enum ip4_scope src = ip4_scope_of(p->ip.src);
	if (ip4_scope_of(p->ip.dst) != IP4_SCOPE_GLOBAL || src == IP4_SCOPE_LOOPBACK || src == IP4_SCOPE_LINK_LOCAL)
		return PEER_SKIP;
	if (p->ip.icmp_error && p->has_inner)
		return PEER_DIFFERS_QUOTE; /* we translate the quoted header (RFC 5508), tcprewrite does not */
	/* tcprewrite recomputes checksums: a capture's wrong checksum comes out right there, and
	 * stays wrong with us (as it would through a real NAT). */
	if (csum_ip4_header(p, &p->ip) != (uint16_t)((p->data[p->ip.off + 10] << 8) | p->data[p->ip.off + 11]))
		return PEER_DIFFERS_CHECKSUM;
	if (p->ip.has_l4_csum && !p->ip.is_fragment && p->caplen == p->wirelen) {
		stored = (uint16_t)((p->data[p->ip.l4_csum_off] << 8) | p->data[p->ip.l4_csum_off + 1]);
		if (csum_l4_expected(p, &p->ip, &want) && stored != want && !(p->ip.proto == 17 && stored == 0))
			return PEER_DIFFERS_CHECKSUM;
	}
	if (p->ip.off + p->ip.total_len < p->wirelen)
		return PEER_DIFFERS_PADDING; /* tcprewrite stretches the IPv4 total length over Ethernet padding */
	if (p->ip.is_fragment || p->caplen != p->wirelen)
		return PEER_DIFFERS_CHECKSUM; /* tcprewrite cannot recompute what it cannot see */
	return PEER_COMPARE;
}

/* Keep the IPv4 packets that cross the NAT; returns how many of them to compare byte for byte. */
static unsigned write_crossing(const char *in, const char *out, GArray *classes)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *r = pcap_open_offline(in, errbuf);
	g_assert_nonnull(r);
	pcap_dumper_t *w = pcap_dump_open(r, out);
	g_assert_nonnull(w);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned compare = 0;
	uint8_t *buf = g_malloc(262144);
	while (pcap_next_ex(r, &h, &d) == 1) {
		struct packet p = { .data = buf, .caplen = h->caplen, .wirelen = h->len, .linktype = pcap_datalink(r) };
		memcpy(buf, d, h->caplen);
		enum peer_class c = classify(&p);
		if (c == PEER_SKIP)
			continue;
		compare += c == PEER_COMPARE;
		g_array_append_val(classes, c);
		pcap_dump((u_char *)w, h, d);
	}
	g_free(buf);
	pcap_dump_close(w);
	pcap_close(r);
	return compare;
}

static pcap_t *open_or_fail(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (!p)
		g_error("%s: %s", path, errbuf);
	return p;
}

/* Replay `in` through the peer scenario and tcprewrite; compare the internet views in order. */
static void peer_compare(const char *in, const char *scenario_path, const char *map, unsigned *compared,
                         unsigned *differ_by_design)
{
	char *dir = test_tmpdir();
	char *crossing = g_strdup_printf("%s/crossing.pcap", dir);
	char *ours_base = g_strdup_printf("%s/ours.pcap", dir);
	char *ours = g_strdup_printf("%s/ours.internet.pcap", dir);
	char *theirs = g_strdup_printf("%s/theirs.pcap", dir);
	char *srcmap = g_strdup_printf("--srcipmap=%s", map);
	char *dstmap = g_strdup_printf("--dstipmap=%s", map);
	GArray *classes = g_array_new(FALSE, FALSE, sizeof(enum peer_class));
	char *err = NULL;

	unsigned want_compare = write_crossing(in, crossing, classes);
	g_test_message("comparing in %s (kept if the test fails)", dir);
	const char *natlb[] = { test_natlb_binary(), "replay", "-q", "-s", scenario_path, "--links", "internet",
	                        "--format", "pcap", "-o", ours_base, crossing, NULL };
	int rc = test_run(natlb, NULL, &err);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(err);
	const char *tr[] = { "tcprewrite", srcmap, dstmap, "-i", crossing, "-o", theirs, NULL };
	g_assert_cmpint(test_run(tr, NULL, NULL), ==, 0);

	unsigned by_class[PEER_DIFFERS_PADDING + 1] = { 0 };
	*compared = *differ_by_design = 0;
	if (classes->len == 0)
		goto out;
	pcap_t *a = open_or_fail(ours), *b = open_or_fail(theirs);
	struct pcap_pkthdr *ha, *hb;
	const u_char *da, *db;
	for (unsigned i = 0; i < classes->len; i++) {
		g_assert_cmpint(pcap_next_ex(a, &ha, &da), ==, 1);
		g_assert_cmpint(pcap_next_ex(b, &hb, &db), ==, 1);
		enum peer_class c = g_array_index(classes, enum peer_class, i);
		if (c != PEER_COMPARE) {
			(*differ_by_design)++;
			by_class[c]++;
			continue;
		}
		g_assert_cmpuint(ha->caplen, ==, hb->caplen);
		g_assert_cmpuint(ha->len, ==, hb->len);
		for (unsigned off = 0; off < ha->caplen; off++)
			if (da[off] != db[off])
				g_error("%s: crossing packet %u differs from tcprewrite's at byte %u: 0x%02x, tcprewrite 0x%02x",
				        in, i + 1, off, da[off], db[off]);
		(*compared)++;
	}
	g_assert_cmpint(pcap_next_ex(a, &ha, &da), !=, 1); /* no extra views */
	g_test_message("not compared: %u wrong or unverifiable checksum in the capture, "
	               "%u ICMP errors (quote translated), %u over Ethernet padding",
	               by_class[PEER_DIFFERS_CHECKSUM], by_class[PEER_DIFFERS_QUOTE], by_class[PEER_DIFFERS_PADDING]);
	pcap_close(a);
	pcap_close(b);
	g_assert_cmpuint(*compared, ==, want_compare);
out:
	g_array_free(classes, TRUE);
	test_rmdir(dir);
	g_free(crossing);
	g_free(ours_base);
	g_free(ours);
	g_free(theirs);
	g_free(srcmap);
	g_free(dstmap);
}

static gboolean have_tcprewrite(void)
{
	char *p = g_find_program_in_path("tcprewrite");
	g_free(p);
	return p != NULL;
}

/* Our own lesson capture, through the lesson's scenario. */
static void test_peer_lesson(void)
{
	if (!have_tcprewrite()) {
		g_test_skip("tcprewrite is not installed (Debian package tcpreplay)");
		return;
	}
	char *dir = test_tmpdir();
	char *lesson = g_strdup_printf("%s/static-nat.pcap", dir);
	const char *gen[] = { test_natlb_binary(), "gen", "static-nat", "-o", lesson, NULL };
	g_assert_cmpint(test_run(gen, NULL, NULL), ==, 0);
	/* The lesson as it is, but with the stage a translator only, as tcprewrite is. */
	char *text = NULL, *scen = g_strdup_printf("%s/static-nat.ini", dir);
	g_assert_true(g_file_get_contents("scenarios/static-nat.ini", &text, NULL, NULL));
	char **parts = g_strsplit(text, "[scenario]\n", 2);
	g_assert_nonnull(parts[1]);
	char *translator = g_strconcat(parts[0], "[scenario]\nrouters = no\n", parts[1], NULL);
	g_assert_true(g_file_set_contents(scen, translator, -1, NULL));
	unsigned compared, differ;
	peer_compare(lesson, scen, "10.0.1.0/24:192.0.2.0/24,10.0.0.5/32:203.0.113.5/32", &compared, &differ);
	g_free(translator);
	g_strfreev(parts);
	g_free(text);
	g_free(scen);
	g_test_message("static-nat lesson: %u packets identical to tcprewrite, %u differ by design", compared, differ);
	g_assert_cmpuint(compared, >=, 15);
	test_rmdir(dir);
	g_free(lesson);
}

static const char *shared_pcaps(void)
{
	const char *env = g_getenv("NATLB_SHARED_PCAPS");
	return env ? env : "../shared/pcaps";
}

/* Each real capture in ../shared/pcaps whose link type we read. */
static void test_peer_shared(gconstpointer data)
{
	const char *name = data;
	if (!have_tcprewrite()) {
		g_test_skip("tcprewrite is not installed (Debian package tcpreplay)");
		return;
	}
	char *path = g_build_filename(shared_pcaps(), name, NULL);
	char *dir = test_tmpdir();
	char *scen = g_strdup_printf("%s/peer.ini", dir);
	g_assert_true(g_file_set_contents(scen, peer_scenario, -1, NULL));
	unsigned compared, differ;
	peer_compare(path, scen, peer_map, &compared, &differ);
	g_test_message("%s: %u packets identical to tcprewrite, %u differ by design", name, compared, differ);
	test_rmdir(dir);
	g_free(scen);
	g_free(path);
}

static void test_shared_missing(void)
{
	g_test_skip("../shared/pcaps is not beside the repository: real-capture checks SKIPPED");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/peer/tcprewrite/static-nat-lesson-prefix-and-host", test_peer_lesson);
	/* Captures of link types tcprewrite and natlb both rewrite (Ethernet, SLL), with IPv4 to translate. */
	static const char *const shared[] = {
		"tcpreplay__test.pcap", "zeek__wikipedia.pcap", "ndpi__iphone.pcap", "ndpi__netflix.pcap",
		"pcapplusplus__ip4_fragments.pcap", "zeek__http-vlan-0.pcap", "ndpi__badpackets.pcap",
		"zeek__tcp-truncated-header.pcap", "ndpi__fuzz-2006-06-26-2594.pcap", "pcapplusplus__IcmpPackets.pcap",
	};
	if (!g_file_test(shared_pcaps(), G_FILE_TEST_IS_DIR)) {
		g_test_add_func("/peer/tcprewrite/shared-pcaps", test_shared_missing);
		return g_test_run();
	}
	for (unsigned i = 0; i < G_N_ELEMENTS(shared); i++) {
		char *tp = g_strdup_printf("/peer/tcprewrite/shared/%s", shared[i]);
		g_test_add_data_func(tp, shared[i], test_peer_shared);
		g_free(tp);
	}
	return g_test_run();
}
