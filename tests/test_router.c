/* tests/test_router.c: stages that route act as routers: their own MACs, the TTL decremented (RFC 1812 section 5.3.1, RFC 1624), ICMP time exceeded (RFC 792, RFC 1812 section 4.3.2.3), and `routers = no` leaving L2 and TTL untouched.
 *
 * The replays here run through the loop with a sink that keeps every view's bytes, so that the
 * Ethernet header and the IPv4 header can be read as written.  tests/test_router_e2e.c reads the
 * traceroute lesson with tshark.
 */
#include <pcap/dlt.h>
#include <string.h>

#include "common/checksum.h"
#include "common/packet.h"
#include "common/pipeline.h"
#include "common/rewrite.h"
#include "common/scenario.h"
#include "tests/testpkt.h"
#include "tools/stage_types.h"

#define PC       0xc0a8010au /* 192.168.1.10 */
#define SERVER   0xc6336463u /* 198.51.100.99 */
#define T0       G_GINT64_CONSTANT(1767225600000000000)

static const uint8_t pc_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x0a };
static const uint8_t gateway_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 }; /* the real router, in the capture */

/* One view as the loop wrote it. */
struct view {
	unsigned link;
	uint8_t bytes[700];
	uint32_t len;
	char note[400];
};

struct recorder {
	const char *names[16];
	unsigned n_links;
	struct view views[16];
	unsigned n;
};

static int rec_add_link(void *data, const char *name, const char *description)
{
	struct recorder *r = data;
	(void)description;
	r->names[r->n_links] = name;
	return (int)r->n_links++;
}

static gboolean rec_write(void *data, int link, int linktype, int64_t ts_ns, const uint8_t *bytes, uint32_t caplen,
                          uint32_t wirelen, enum pcapng_direction dir, const struct view_meta *meta, const char *const *notes,
                          unsigned n_notes, GError **err)
{
	struct recorder *r = data;
	(void)linktype; (void)ts_ns; (void)wirelen; (void)dir; (void)meta; (void)err;
	g_assert_cmpuint(r->n, <, G_N_ELEMENTS(r->views));
	struct view *v = &r->views[r->n++];
	v->link = (unsigned)link;
	g_assert_cmpuint(caplen, <=, sizeof v->bytes);
	memcpy(v->bytes, bytes, caplen);
	v->len = caplen;
	v->note[0] = '\0';
	for (unsigned i = 0; i < n_notes; i++) {
		g_strlcat(v->note, i ? " | " : "", sizeof v->note);
		g_strlcat(v->note, notes[i], sizeof v->note);
	}
	return TRUE;
}

/* A UDP datagram src -> dst on Ethernet, from src_mac to dst_mac, with that TTL; checksums right. */
static void udp_frame(uint8_t frame[46], uint32_t src, uint32_t dst, const uint8_t src_mac[6], const uint8_t dst_mac[6],
                      uint8_t ttl)
{
	test_udp_frame(frame, src, dst, 45001, 33434);
	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	frame[22] = ttl;
	frame[24] = frame[25] = 0;
	uint16_t c = csum_fold(csum_partial(frame + 14, 20, 0));
	test_put16(frame, 24, c);
}

/* Replay frames (captured on the scenario's capture link) and keep every view. */
static char *replay(const char *scenario_text, uint8_t (*frames)[46], unsigned n_frames, struct recorder *r)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "test.ini", scenario_text, &err);
	g_assert_no_error(err);
	memset(r, 0, sizeof *r);
	const struct view_sink sink = { .add_link = rec_add_link, .write = rec_write, .data = r };
	struct pipeline_options opt = { .seed = 1 };
	struct pipeline *pl = pipeline_new_with_sink(sc, &sink, &opt, &err);
	g_assert_no_error(err);
	for (unsigned i = 0; i < n_frames; i++) {
		struct input_record rec = { .data = frames[i], .caplen = 46, .wirelen = 46, .ts_ns = T0 + i * 1000000,
		                            .linktype = DLT_EN10MB };
		g_assert_true(pipeline_replay(pl, &rec, &err));
		g_assert_no_error(err);
	}
	g_assert_true(pipeline_drain(pl, &err));
	g_assert_true(pipeline_balanced(pl));
	GString *s = g_string_new(NULL);
	pipeline_stats(pl, s);
	pipeline_free(pl);
	scenario_free(sc);
	return g_string_free(s, FALSE);
}

static const char one_router[] =
	"[scenario]\nchain = lan > home > internet\ncapture = lan\n"
	"[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	"[stage home]\ntype = static-nat\nmap = 192.168.1.10 203.0.113.10\n";

static const char one_translator[] =
	"[scenario]\nchain = lan > home > internet\ncapture = lan\nrouters = no\n"
	"[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	"[stage home]\ntype = static-nat\nmap = 192.168.1.10 203.0.113.10\n";

static void assert_mac(const uint8_t *at, const char *want)
{
	char got[18];
	g_snprintf(got, sizeof got, "%02x:%02x:%02x:%02x:%02x:%02x", at[0], at[1], at[2], at[3], at[4], at[5]);
	g_assert_cmpstr(got, ==, want);
}

static void assert_ip_checksum_right(const struct view *v)
{
	g_assert_cmpuint(csum_fold(csum_partial(v->bytes + 14, 20, 0)), ==, 0);
}

/* ---- TTL ------------------------------------------------------------------------------------------ */

static void test_ttl_decremented(void)
{
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 64);
	g_free(replay(one_router, frames, 1, &r));
	g_assert_cmpuint(r.n, ==, 2);
	g_assert_cmpuint(r.views[0].bytes[22], ==, 64);
	g_assert_cmpuint(r.views[1].link, ==, 1);
	g_assert_cmpuint(r.views[1].bytes[22], ==, 63);
	assert_ip_checksum_right(&r.views[1]);
}

/* RFC 1624: a header checksum that was wrong stays wrong by as much after the decrement. */
static void test_ttl_wrong_checksum_stays_wrong(void)
{
	uint8_t frame[46];
	udp_frame(frame, PC, SERVER, pc_mac, gateway_mac, 64);
	frame[25] ^= 0x01;
	struct packet p = { .data = frame, .caplen = sizeof frame, .wirelen = sizeof frame, .linktype = DLT_EN10MB };
	decode_packet(&p);
	uint16_t before = csum_fold(csum_partial(frame + 14, 20, 0));
	rewrite_ip4_ttl(&p, 63);
	g_assert_cmpuint(frame[22], ==, 63);
	g_assert_cmpuint(p.ip.ttl, ==, 63);
	g_assert_cmpuint(csum_fold(csum_partial(frame + 14, 20, 0)), ==, before);
	g_assert_cmpuint(before, !=, 0);
}

/* A probe with TTL 1 dies at the router, which sends time exceeded back from its LAN address,
 * quoting the whole probe (less than 576 bytes): header, UDP header and data. */
static void test_ttl_expired_answers_time_exceeded(void)
{
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 1);
	char *stats = replay(one_router, frames, 1, &r);
	g_assert_nonnull(strstr(stats, "TTL_EXCEEDED                  1  time to live exceeded in transit"));
	g_assert_nonnull(strstr(stats, "packets emitted 1"));
	g_free(stats);
	g_assert_cmpuint(r.n, ==, 2); /* the probe on lan, dropped; the error on lan; nothing on internet */
	g_assert_cmpuint(r.views[0].link, ==, 0);
	g_assert_nonnull(strstr(r.views[0].note, "static-nat home: DROP (time to live exceeded in transit): TTL 1 on "
	                                         "arrival; ICMP 11/0 sent back from 192.168.1.1"));
	const struct view *e = &r.views[1];
	g_assert_cmpuint(e->link, ==, 0);
	assert_mac(e->bytes, "02:00:00:00:01:0a");     /* to the PC */
	assert_mac(e->bytes + 6, "02:00:00:00:01:01"); /* from the router's MAC the capture showed */
	g_assert_cmpuint(e->bytes[23], ==, 1);                         /* ICMP */
	g_assert_cmphex(test_get32(e->bytes, 26), ==, 0xc0a80101u); /* from 192.168.1.1 */
	g_assert_cmphex(test_get32(e->bytes, 30), ==, PC);
	g_assert_cmpuint(e->bytes[34], ==, 11);
	g_assert_cmpuint(e->bytes[35], ==, 0);
	g_assert_cmpuint(e->len, ==, 14 + 20 + 8 + 32); /* the probe's 32 bytes quoted whole */
	g_assert_cmpmem(e->bytes + 42, 32, frames[0] + 14, 32);
	g_assert_cmpuint(csum_fold(csum_partial(e->bytes + 34, e->len - 34, 0)), ==, 0);
	assert_ip_checksum_right(e);
}

/* RFC 1812 section 4.3.2.7: an ICMP error whose TTL runs out is dropped without an error about it. */
static void test_no_time_exceeded_about_an_icmp_error(void)
{
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 1);
	/* Make it a port unreachable from the PC quoting 8 bytes of nothing in particular. */
	frames[0][23] = 1;
	frames[0][34] = 3;
	frames[0][35] = 3;
	frames[0][24] = frames[0][25] = 0;
	test_put16(frames[0], 24, csum_fold(csum_partial(frames[0] + 14, 20, 0)));
	char *stats = replay(one_router, frames, 1, &r);
	g_assert_nonnull(strstr(stats, "emitted by stages 0"));
	g_free(stats);
	g_assert_cmpuint(r.n, ==, 1);
	g_assert_nonnull(strstr(r.views[0].note, "no ICMP error is sent about an ICMP error (RFC 1812 section 4.3.2.7)"));
}

/* ---- MACs ----------------------------------------------------------------------------------------- */

static void test_mac_of_router_and_host(void)
{
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 64);
	g_free(replay(one_router, frames, 1, &r));
	g_assert_cmpuint(r.n, ==, 2);
	assert_mac(r.views[1].bytes + 6, "02:6e:6c:62:00:01"); /* stage 0's MAC on link 1 */
	assert_mac(r.views[1].bytes, "02:00:c6:33:64:63");     /* the server, never seen: 02:00 + 198.51.100.99 */
}

/* Two routers in a row: on the link between them each addresses the other's MAC. */
static void test_mac_two_routers_on_a_shared_link(void)
{
	static const char two[] =
		"[scenario]\nchain = lan > home > access > carrier > internet\ncapture = lan\n"
		"[link lan]\nnetworks = 192.168.1.0/24\n[link access]\nnetworks = 100.64.0.0/24\n[link internet]\n"
		"[stage home]\ntype = static-nat\nmap = 192.168.1.10 100.64.0.10\n"
		"[stage carrier]\ntype = static-nat\nmap = 100.64.0.10 203.0.113.10\n";
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 64);
	g_free(replay(two, frames, 1, &r));
	g_assert_cmpuint(r.n, ==, 3);
	g_assert_cmpuint(r.views[1].link, ==, 1);
	assert_mac(r.views[1].bytes + 6, "02:6e:6c:62:00:01"); /* home, on access */
	assert_mac(r.views[1].bytes, "02:6e:6c:62:01:01");     /* carrier, on access */
	g_assert_cmpuint(r.views[1].bytes[22], ==, 63);
	assert_mac(r.views[2].bytes + 6, "02:6e:6c:62:01:02"); /* carrier, on internet */
	assert_mac(r.views[2].bytes, "02:00:c6:33:64:63");
	g_assert_cmpuint(r.views[2].bytes[22], ==, 62);
}

/* A reply captured on the LAN: its internet view had one more hop of TTL and went from the server
 * to the router's outside MAC; replayed forward it is the captured packet again, byte for byte. */
static void test_reply_walked_back_and_replayed_to_the_capture(void)
{
	uint8_t frames[2][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 64);
	udp_frame(frames[1], SERVER, PC, gateway_mac, pc_mac, 52);
	char *stats = replay(one_router, frames, 2, &r);
	g_assert_null(strstr(stats, "differ from the captured packet"));
	g_free(stats);
	g_assert_cmpuint(r.n, ==, 4);
	const struct view *outside = &r.views[2], *inside = &r.views[3];
	g_assert_cmpuint(outside->link, ==, 1);
	g_assert_cmpuint(outside->bytes[22], ==, 53);
	assert_mac(outside->bytes + 6, "02:00:c6:33:64:63");
	assert_mac(outside->bytes, "02:6e:6c:62:00:01");
	assert_ip_checksum_right(outside);
	g_assert_cmpuint(inside->link, ==, 0);
	g_assert_nonnull(strstr(inside->note, "this is the captured packet"));
	g_assert_cmpmem(inside->bytes, 46, frames[1], 46);
}

/* A captured packet with TTL 255 that came through a router cannot be: the router would have
 * decremented it.  The walk back says so instead of inventing TTL 256. */
static void test_ttl_255_cannot_have_crossed_a_router(void)
{
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], SERVER, PC, gateway_mac, pc_mac, 255);
	g_free(replay(one_router, frames, 1, &r));
	g_assert_cmpuint(r.n, ==, 1);
	g_assert_nonnull(strstr(r.views[0].note, "TTL 255, which no router forwarding it can have left"));
}

/* ---- routers = no, and stages that are no router ---------------------------------------------------- */

static void test_routers_no_leaves_l2_and_ttl(void)
{
	uint8_t frames[2][46];
	struct recorder r;
	udp_frame(frames[0], PC, SERVER, pc_mac, gateway_mac, 1);
	udp_frame(frames[1], SERVER, PC, gateway_mac, pc_mac, 255);
	char *stats = replay(one_translator, frames, 2, &r);
	g_assert_nonnull(strstr(stats, "emitted by stages 0"));
	g_assert_null(strstr(stats, "TTL_EXCEEDED"));
	g_free(stats);
	g_assert_cmpuint(r.n, ==, 4);
	g_assert_cmpuint(r.views[1].bytes[22], ==, 1);
	g_assert_cmpmem(r.views[1].bytes, 12, frames[0], 12);
	g_assert_cmpuint(r.views[2].bytes[22], ==, 255);
	g_assert_cmpmem(r.views[2].bytes, 12, frames[1], 12);
}

/* An NLB preserving the client's address is no router hop: no TTL decrement, no MAC of its own. */
static void test_l4_lb_is_no_router_hop(void)
{
	static const char nlb[] =
		"[scenario]\nchain = internet > nlb > targets\ncapture = internet\n"
		"[link internet]\n[link targets]\nnetworks = 10.0.1.0/24\n"
		"[stage nlb]\ntype = l4-lb\nlisten = 198.51.100.99:33434/udp\ntargets = 10.0.1.11:33434\n";
	uint8_t frames[1][46];
	struct recorder r;
	udp_frame(frames[0], 0xcb00710au, SERVER, pc_mac, gateway_mac, 50);
	g_free(replay(nlb, frames, 1, &r));
	g_assert_cmpuint(r.n, ==, 2);
	g_assert_cmpuint(r.views[1].link, ==, 1);
	g_assert_cmpuint(r.views[1].bytes[22], ==, 50);
	g_assert_cmpmem(r.views[1].bytes, 12, frames[0], 12);
}

/* ---- the setting ------------------------------------------------------------------------------------ */

static void test_setting_refuses_other_values(void)
{
	GError *err = NULL;
	static const char bad[] = "[scenario]\nchain = lan > home > internet\nrouters = maybe\n"
	                          "[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	                          "[stage home]\ntype = static-nat\nmap = 192.168.1.10 203.0.113.10\n";
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "bad.ini", bad, &err);
	g_assert_null(sc);
	g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE);
	g_assert_nonnull(strstr(err->message, "bad.ini:3: [scenario] routers: 'maybe' is not yes or no"));
	g_error_free(err);
}

static void test_setting_shown_by_check(void)
{
	GError *err = NULL;
	GString *out = g_string_new(NULL);
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "t.ini", one_router, &err);
	g_assert_no_error(err);
	scenario_describe(sc, out);
	g_assert_nonnull(strstr(out->str, "\nrouters = yes\n"));
	scenario_free(sc);
	g_string_truncate(out, 0);
	sc = scenario_load_data(natlb_stage_types(), "t.ini", one_translator, &err);
	g_assert_no_error(err);
	scenario_describe(sc, out);
	g_assert_nonnull(strstr(out->str, "\nrouters = no\n"));
	scenario_free(sc);
	g_string_free(out, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/router/ttl/decremented-with-the-header-checksum-updated", test_ttl_decremented);
	g_test_add_func("/router/ttl/a-wrong-header-checksum-stays-as-wrong", test_ttl_wrong_checksum_stays_wrong);
	g_test_add_func("/router/ttl/ttl-1-is-dropped-and-answered-with-time-exceeded-quoting-the-probe",
	                test_ttl_expired_answers_time_exceeded);
	g_test_add_func("/router/ttl/no-time-exceeded-about-an-icmp-error", test_no_time_exceeded_about_an_icmp_error);
	g_test_add_func("/router/ttl/captured-ttl-255-cannot-have-crossed-a-router", test_ttl_255_cannot_have_crossed_a_router);
	g_test_add_func("/router/mac/router-mac-as-source-host-mac-as-destination", test_mac_of_router_and_host);
	g_test_add_func("/router/mac/two-routers-address-each-other-on-the-shared-link", test_mac_two_routers_on_a_shared_link);
	g_test_add_func("/router/walk-back/reply-derived-outside-and-replayed-to-the-captured-bytes",
	                test_reply_walked_back_and_replayed_to_the_capture);
	g_test_add_func("/router/setting/routers-no-leaves-link-header-and-ttl", test_routers_no_leaves_l2_and_ttl);
	g_test_add_func("/router/setting/l4-lb-is-no-router-hop", test_l4_lb_is_no_router_hop);
	g_test_add_func("/router/setting/other-values-are-refused", test_setting_refuses_other_values);
	g_test_add_func("/router/setting/natlb-check-shows-it", test_setting_shown_by_check);
	return g_test_run();
}
