/* nat/shield.c: a DDoS shield in front of what it protects: SYN cookies under a SYN flood, a UDP reflection filter, bogon sources, a rate-based rule, and attack detection.
 *
 * Follows RFC 4987 section 3.6 (SYN cookies; nat/shield_cookie.c), US-CERT alert TA14-017A "UDP-Based
 * Amplification Attacks" (the reflector ports), RFC 6890 (bogons), the AWS WAF Developer Guide
 * ("Rate-based rule statement"; "AWS Shield metrics": DDoSDetected, DDoSAttackBitsPerSecond,
 * DDoSAttackPacketsPerSecond, DDoSAttackRequestsPerSecond) and the Shield Advanced API's
 * AttackVolume (bits and packets per second for network-level attacks, requests per second for
 * application-level ones).
 *
 * Orientation: the stage's left link is the internet (clients come first in natlb's chains,
 * `internet > edge-shield > edge > shop-nlb > app`), its right link the protected side.  Going
 * left to right a packet is checked: a malformed one (decode's DECODE_INVALID, which the loop
 * hands this stage alone) to a protected address is dropped; a bogon source is dropped; the
 * rate-based rule counts the source's requests (a SYN, a UDP datagram, an ICMP message); a
 * packet to an address the stage does not protect crosses unchecked; a UDP packet from a reflector port must answer a request
 * the protected address sent in the last reflection-window; TCP goes through the SYN logic.
 *
 * SYN logic.  The stage counts SYNs per protected address per second of capture time.  Up to
 * syn-threshold a SYN is forwarded and its connection remembered.  The SYN that passes the
 * threshold turns cookies on for that address, for the rest of that second and every following
 * second that again passes it.  With cookies on, the stage answers a SYN itself: a SYN-ACK from the
 * protected address whose sequence number is the cookie (emitted, towards the client), and the SYN
 * goes no further: it leaves no state.  An ACK of no known connection is checked: a good cookie
 * (ack - 1, with seq - 1 as the client's ISN) admits the connection; the shield then emits, onto its
 * protected side, the SYN the client sent (same ISN, the MSS the cookie kept) and then the ACK
 * itself (both emitted, the captured ACK consumed: a forwarded packet would travel on ahead of
 * anything emitted); a bad cookie is dropped while cookies are on, an expired one always.
 *
 * Why the handshake is handed on this way: natlb does not simulate the targets, so only captured
 * packets can be their answers.  Splicing (answering the target's SYN-ACK and renumbering the
 * rest of the connection, as iptables SYNPROXY does) would need a target SYN-ACK that no capture
 * holds.  Instead the protected side sees the client's SYN and then its ACK and data, and the
 * targets' answers in the capture keep the numbers the client acknowledged (the cookie): on the
 * internet link tshark sees SYN, the shield's SYN-ACK, ACK, data, a clean handshake; behind the
 * shield it sees SYN, ACK, data, with the target's SYN-ACK the one packet not shown.  Targets see
 * only connections whose client completed the handshake: none of the flood's SYNs.
 *
 * Detection.  An attack of a vector (enum shield_vector) starts with its first packet (for a SYN
 * flood: the SYN that turns cookies on) and ends once a whole second of capture time passes
 * without one; the packet where it starts says so, the next packet the stage sees after it ended
 * says when it ended, and both are table events.  Per attack: packets, bytes and the peak of each
 * per second, as Shield's metrics.
 *
 * Invariants: tables sized in configure() (nat/shield_config.c), bucketed SHIELD_WAYS entries deep;
 * a full bucket drops its oldest entry, counted.  No allocation per packet.
 */
#define _DEFAULT_SOURCE 1 /* libnet.h wants the BSD names; see tools/gen.c */

#include <libnet.h>
#include <pcap/dlt.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/note.h"
#include "common/packet.h"
#include "common/stage.h"
#include "common/tcp_segment.h"
#include "nat/shield.h"
#include "nat/shield_priv.h"

static const struct drop_info shield_drops[] = { foreach_shield_drop(DROP_INFO_ENTRY) };

static const char *const vector_names[SHIELD_VECTOR_N] = {
#define X(name, text) text,
	foreach_shield_vector(X)
#undef X
};

static const uint16_t reflector_ports[SHIELD_REFLECT_N] = {
#define X(name, port, what) port,
	foreach_shield_reflector(X)
#undef X
};

#define SHIELD_FRAME_MAX 1600

static void note_buf_hex32(struct note_buf *nb, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = digits[(v >> (28 - 4 * i)) & 15];
	note_buf_put(nb, b, 8);
}

/* The reflector a UDP port is, or SHIELD_REFLECT_N. */
static enum shield_reflector reflector_of(uint16_t port)
{
	for (unsigned i = 0; i < SHIELD_REFLECT_N; i++)
		if (reflector_ports[i] == port)
			return (enum shield_reflector)i;
	return SHIELD_REFLECT_N;
}

static bool in_prefixes(const struct ip4_prefix *pfx, unsigned n, uint32_t addr)
{
	for (unsigned i = 0; i < n; i++)
		if (ip4_prefix_contains(&pfx[i], addr))
			return true;
	return false;
}

static uint32_t capture_second(int64_t ns)
{
	return ns < 0 ? 0 : (uint32_t)(ns / NS_PER_S);
}

static uint64_t tuple_hash(const struct shield *sh, uint32_t a, uint32_t b, uint16_t pa, uint16_t pb)
{
	uint32_t w[3] = { a, b, (uint32_t)pa << 16 | pb };
	return shield_siphash(&sh->key, w, 3);
}

/* ---- detection ---------------------------------------------------------------------------------- */

static void attack_row(const struct shield *sh, enum shield_vector v, struct table_row *row)
{
	const struct shield_attack *a = &sh->attacks[v];
	*row = (struct table_row){ .id = a->id, .expires_ns = a->active ? INT64_MAX : a->end_ns,
		                   .state = a->active ? "ATTACK" : "ENDED", .flags = vector_names[v],
		                   .orig = { .dst = a->target }, .reply = { .src = a->target } };
	row->proto = v == SHIELD_VECTOR_SYN_FLOOD ? 6 : v == SHIELD_VECTOR_SPOOFED_BOGON ||
	             v == SHIELD_VECTOR_REQUEST_FLOOD ? 0 : 17;
	row->packets[DIR_LEFT_TO_RIGHT] = a->packets;
	row->bytes[DIR_LEFT_TO_RIGHT] = a->bytes;
}

/* The per-second counters of a roll into the peaks when the second changes. */
static void attack_roll(struct shield_attack *a, uint32_t second, bool requests)
{
	if (a->second == second)
		return;
	if (a->sec_packets > a->peak_pps)
		a->peak_pps = a->sec_packets;
	if (a->sec_bytes * 8 > a->peak_bps)
		a->peak_bps = a->sec_bytes * 8;
	if (requests && a->sec_packets > a->peak_rps)
		a->peak_rps = a->sec_packets;
	a->second = second;
	a->sec_packets = a->sec_bytes = 0;
}

/* One packet (or web request) of vector v, bytes long, at ctx->now_ns: counted, and the attack
 * started if none was in progress, said in note.  ctx is the shield's, or the proxy's whose
 * requests it judges (st is then not ctx->stage). */
static void attack_count(struct shield *sh, const struct stage *st, enum shield_vector v, uint32_t target,
                         uint32_t bytes, struct stage_ctx *ctx, GString *note)
{
	struct shield_attack *a = &sh->attacks[v];
	uint32_t sec = capture_second(ctx->now_ns);

	if (!a->active) {
		char b[16];
		*a = (struct shield_attack){ .active = true, .count = a->count + 1, .id = ++sh->next_attack_id,
			                     .target = target, .start_ns = ctx->now_ns, .second = sec };
		note_appendf(note, "ATTACK STARTED at %.3f s: %s on %s (DDoSDetected = 1); ",
		             (double)(ctx->now_ns - sh->first_ns) / 1e9, vector_names[v], ip4_to_str(target, b));
		struct table_row row;
		attack_row(sh, v, &row);
		stage_table_event(ctx, st, TABLE_EVENT_CREATED, &row, vector_names[v]);
	}
	attack_roll(a, sec, v == SHIELD_VECTOR_REQUEST_FLOOD);
	a->packets++;
	a->bytes += bytes;
	a->sec_packets++;
	a->sec_bytes += bytes;
	a->last_ns = ctx->now_ns;
}

static void attack_packet(struct shield *sh, enum shield_vector v, const struct packet *p, uint32_t target,
                          struct stage_ctx *ctx)
{
	attack_count(sh, ctx->stage, v, target, p->wirelen, ctx, ctx->note);
}

static void attack_end(struct shield *sh, enum shield_vector v, int64_t end_ns, struct stage_ctx *ctx)
{
	struct shield_attack *a = &sh->attacks[v];
	char b[16];

	attack_roll(a, a->second + 1, v == SHIELD_VECTOR_REQUEST_FLOOD);
	a->active = false;
	a->end_ns = end_ns;
	note_appendf(sh->pending, "ATTACK ENDED at %.3f s: %s on %s, %" G_GUINT64_FORMAT " packet%s, peak %" G_GUINT64_FORMAT
	             " packets/s; ", (double)(end_ns - sh->first_ns) / 1e9, vector_names[v],
	             ip4_to_str(a->target, b), a->packets, note_plural(a->packets), a->peak_pps);
	struct table_row row;
	attack_row(sh, v, &row);
	stage_table_event(ctx, ctx->stage, TABLE_EVENT_EXPIRED, &row, "attack ended");
}

/* A protected address's cookie mode for second sec: on while the last counted second passed the
 * threshold (the SYN logic turns it on within a second). */
static void dest_roll(const struct shield *sh, struct shield_dest *d, uint32_t sec)
{
	if (d->second == sec)
		return;
	d->cookies = d->second + 1 == sec && d->syns > sh->syn_threshold;
	d->second = sec;
	d->syns = 0;
}

/* Once per capture second: attacks whose last packet is a whole second old have ended, and so has a
 * SYN flood when no address answers with cookies any more. */
static void detector_tick(struct shield *sh, int64_t now_ns, struct stage_ctx *ctx)
{
	uint32_t sec = capture_second(now_ns);

	if (sec == sh->second)
		return;
	sh->second = sec;
	for (unsigned v = 0; v < SHIELD_VECTOR_N; v++) {
		struct shield_attack *a = &sh->attacks[v];
		if (!a->active)
			continue;
		if (v == SHIELD_VECTOR_SYN_FLOOD) {
			bool any = false;
			for (unsigned i = 0; i < SHIELD_DESTS; i++)
				if (sh->dests[i].used) {
					dest_roll(sh, &sh->dests[i], sec);
					any = any || sh->dests[i].cookies;
				}
			if (!any) /* it ended with the last second over the threshold */
				attack_end(sh, v, (int64_t)(a->over_second + 1) * NS_PER_S, ctx);
		} else if (capture_second(a->last_ns) + 1 < sec) {
			attack_end(sh, v, (int64_t)(capture_second(a->last_ns) + 1) * NS_PER_S, ctx);
		}
	}
}

/* ---- bucketed tables ---------------------------------------------------------------------------- */

static struct shield_conn *conn_find(struct shield *sh, uint32_t client, uint16_t cport, uint32_t server,
                                     uint16_t sport, int64_t now_ns)
{
	struct shield_conn *b = &sh->conns[(tuple_hash(sh, client, server, cport, sport) & (sh->max_connections / SHIELD_WAYS - 1)) * SHIELD_WAYS];
	for (unsigned i = 0; i < SHIELD_WAYS; i++)
		if (b[i].last_ns && b[i].client == client && b[i].server == server && b[i].cport == cport &&
		    b[i].sport == sport)
			return now_ns - b[i].last_ns > sh->idle_timeout_ns ? NULL : &b[i];
	return NULL;
}

static struct shield_conn *conn_insert(struct shield *sh, uint32_t client, uint16_t cport, uint32_t server,
                                       uint16_t sport, int64_t now_ns)
{
	struct shield_conn *b = &sh->conns[(tuple_hash(sh, client, server, cport, sport) & (sh->max_connections / SHIELD_WAYS - 1)) * SHIELD_WAYS];
	struct shield_conn *slot = &b[0];
	for (unsigned i = 0; i < SHIELD_WAYS; i++) {
		bool same = b[i].client == client && b[i].server == server && b[i].cport == cport && b[i].sport == sport;
		if (!b[i].last_ns || same || now_ns - b[i].last_ns > sh->idle_timeout_ns) {
			slot = &b[i];
			goto fill;
		}
		if (b[i].last_ns < slot->last_ns)
			slot = &b[i];
	}
	sh->conns_evicted++;
fill:
	*slot = (struct shield_conn){ .client = client, .server = server, .cport = cport, .sport = sport,
		                      .last_ns = now_ns };
	return slot;
}

static struct shield_request *request_bucket(struct shield *sh, uint32_t local, uint32_t remote, uint16_t lport,
                                             uint16_t rport)
{
	return &sh->requests[(tuple_hash(sh, local, remote, lport, rport) & (sh->max_requests / SHIELD_WAYS - 1)) *
	                     SHIELD_WAYS];
}

static void request_record(struct shield *sh, const struct ip4_view *ip, int64_t now_ns)
{
	struct shield_request *b = request_bucket(sh, ip->src, ip->dst, ip->sport, ip->dport), *slot = &b[0];
	for (unsigned i = 0; i < SHIELD_WAYS; i++) {
		bool same = b[i].local == ip->src && b[i].remote == ip->dst && b[i].lport == ip->sport &&
		            b[i].rport == ip->dport;
		if (!b[i].at_ns || same || now_ns - b[i].at_ns > sh->reflection_window_ns) {
			slot = &b[i];
			goto fill;
		}
		if (b[i].at_ns < slot->at_ns)
			slot = &b[i];
	}
	sh->requests_evicted++;
fill:
	*slot = (struct shield_request){ .local = ip->src, .remote = ip->dst, .lport = ip->sport, .rport = ip->dport,
		                         .at_ns = now_ns };
}

/* The request this UDP packet from a reflector port answers, or NULL. */
static const struct shield_request *request_answered(struct shield *sh, const struct ip4_view *ip, int64_t now_ns)
{
	const struct shield_request *b = request_bucket(sh, ip->dst, ip->src, ip->dport, ip->sport);
	for (unsigned i = 0; i < SHIELD_WAYS; i++)
		if (b[i].at_ns && b[i].local == ip->dst && b[i].remote == ip->src && b[i].lport == ip->dport &&
		    b[i].rport == ip->sport && now_ns - b[i].at_ns <= sh->reflection_window_ns)
			return &b[i];
	return NULL;
}

static struct shield_dest *dest_get(struct shield *sh, uint32_t addr)
{
	/* Only protected addresses come here, a few the scenario lists: a multiplicative hash will do
	 * (the tables an attacker fills with his own sources use the keyed one). */
	struct shield_dest *b = &sh->dests[((addr * 2654435761u) >> 24 & (SHIELD_DESTS / SHIELD_WAYS - 1)) * SHIELD_WAYS];
	struct shield_dest *slot = NULL;
	for (unsigned i = 0; i < SHIELD_WAYS; i++) {
		if (b[i].used && b[i].addr == addr)
			return &b[i];
		if (!slot && !b[i].used)
			slot = &b[i];
	}
	if (!slot)
		slot = &b[addr % SHIELD_WAYS]; /* 64 protected prefixes rarely hold more than 1024 attacked hosts */
	*slot = (struct shield_dest){ .addr = addr, .used = true };
	return slot;
}

/* The rate-based rule: count one request of src; true when it is over the limit. */
static bool rate_over(struct shield *sh, uint32_t src, int64_t now_ns, uint32_t *count)
{
	int64_t slice_ns = sh->rate_window_ns / SHIELD_RATE_SLICES;
	uint32_t slice = (uint32_t)((now_ns < 0 ? 0 : now_ns) / slice_ns), w = src;
	struct shield_source *b = &sh->sources[(shield_siphash(&sh->key, &w, 1) & (sh->max_sources / SHIELD_WAYS - 1)) *
	                                       SHIELD_WAYS];
	struct shield_source *s = NULL, *oldest = &b[0];

	for (unsigned i = 0; i < SHIELD_WAYS && !s; i++) {
		if (b[i].last_ns && b[i].addr == src)
			s = &b[i];
		else if (!b[i].last_ns || b[i].last_ns < oldest->last_ns)
			oldest = &b[i];
	}
	if (!s) {
		if (oldest->last_ns && now_ns - oldest->last_ns < sh->rate_window_ns)
			sh->sources_evicted++;
		s = oldest;
		memset(s, 0, sizeof *s);
		s->addr = src;
		s->slice = slice;
	}
	/* Slices that fell out of the window since the newest one counted start again from zero. */
	uint32_t gap = slice - s->slice;
	for (uint32_t i = 1; i <= gap && i <= SHIELD_RATE_SLICES; i++)
		s->counts[(s->slice + i) % SHIELD_RATE_SLICES] = 0;
	s->slice = slice;
	s->last_ns = now_ns;
	s->counts[slice % SHIELD_RATE_SLICES]++;
	*count = 0;
	for (unsigned i = 0; i < SHIELD_RATE_SLICES; i++)
		*count += s->counts[i];
	return *count > sh->rate_limit;
}

/* ---- packets the shield sends ------------------------------------------------------------------- */

/* The SYN-ACK that carries the cookie, from the protected address back to the client: built by
 * hand into a frame on the stack (RFC 791, RFC 9293 section 3.1; checksums RFC 1071), because it is
 * made once per flood packet and libnet allocates per packet.  Its link header is the SYN's turned
 * round.  Window 65535 without window scaling or SACK: a cookie cannot carry them (RFC 4987 3.6). */
static bool emit_syn_ack(const struct packet *p, uint32_t cookie, uint16_t mss, struct stage_ctx *ctx)
{
	uint8_t frame[SHIELD_FRAME_MAX];
	uint32_t l2 = p->ip.off, seq_ack = tcp_segment_seq(p) + 1;

	if (!ctx->emitter || l2 > p->caplen || l2 + 44 > sizeof frame)
		return false;
	memcpy(frame, p->data, l2);
	if (p->linktype == DLT_EN10MB && l2 >= 12) {
		memcpy(frame, p->data + 6, 6);
		memcpy(frame + 6, p->data, 6);
	}
	uint8_t *ip = frame + l2, *tcp = ip + 20;
	static const uint8_t ip_head[12] = { 0x45, 0, 0, 44, 0, 0, 0x40, 0, 64, 6, 0, 0 };
	memcpy(ip, ip_head, sizeof ip_head);
	be32_store(ip + 12, p->ip.dst);
	be32_store(ip + 16, p->ip.src);
	be16_store(ip + 10, csum_fold(csum_partial(ip, 20, 0)));
	be16_store(tcp, p->ip.dport);
	be16_store(tcp + 2, p->ip.sport);
	be32_store(tcp + 4, cookie);
	be32_store(tcp + 8, seq_ack);
	static const uint8_t tcp_tail[16] = { 6 << 4, 0x12, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 0, 0 };
	memcpy(tcp + 12, tcp_tail, 12);
	be16_store(tcp + 22, mss);
	/* pseudo-header: the addresses, protocol 6, TCP length 24 */
	uint32_t sum = csum_partial(ip + 12, 8, 0) + 6 + 24;
	be16_store(tcp + 16, csum_fold(csum_partial(tcp, 24, sum)));
	return stage_emit(ctx, SIDE_LEFT, DIR_RIGHT_TO_LEFT, PIPELINE_HOP_NS, frame, l2 + 44, "shield: cookie SYN-ACK");
}

/* The client's SYN, rebuilt from its ACK and the cookie, onto the protected side ahead of the ACK. */
static bool emit_client_syn(struct shield *sh, const struct packet *p, uint16_t mss, struct stage_ctx *ctx)
{
	libnet_t *l = (libnet_t *)sh->lnet;
	uint8_t opts[4] = { 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss };
	uint8_t frame[SHIELD_FRAME_MAX], *ip = NULL;
	uint32_t ip_len = 0, l2 = p->ip.off;
	bool ok = false;

	if (!ctx->emitter || l2 > p->caplen || l2 > sizeof frame)
		return false;
	if (libnet_build_tcp_options(opts, sizeof opts, l, 0) == -1 ||
	    libnet_build_tcp(p->ip.sport, p->ip.dport, tcp_segment_seq(p) - 1, 0, TH_SYN, 64240, 0, 0,
	                     LIBNET_TCP_H + sizeof opts, NULL, 0, l, 0) == -1 ||
	    libnet_build_ipv4(LIBNET_IPV4_H + LIBNET_TCP_H + sizeof opts, 0, p->ip.id - 1, IP_DF, p->ip.ttl, IPPROTO_TCP, 0,
	                      g_htonl(p->ip.src), g_htonl(p->ip.dst), NULL, 0, l, 0) == -1)
		goto out;
	memcpy(frame, p->data, l2);
	if (libnet_pblock_coalesce(l, &ip, &ip_len) != -1 && l2 + ip_len <= sizeof frame) {
		memcpy(frame + l2, ip, ip_len);
		ok = stage_emit(ctx, SIDE_RIGHT, DIR_LEFT_TO_RIGHT, PIPELINE_HOP_NS, frame, l2 + ip_len,
		                "shield: the client's SYN, handed on once its ACK carried a good cookie");
	}
out:
	if (ip)
		libnet_adv_free_packet(l, ip);
	libnet_clear_packet(l);
	return ok;
}

/* ---- the data path ------------------------------------------------------------------------------ */

static struct shield_tuple tuple_of(const struct ip4_view *ip)
{
	return (struct shield_tuple){ .client = ip->src, .server = ip->dst, .cport = ip->sport, .sport = ip->dport };
}

static enum verdict syn_in(struct shield *sh, struct packet *p, struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;
	struct shield_dest *d = dest_get(sh, ip->dst);
	uint32_t sec = capture_second(ctx->now_ns);

	dest_roll(sh, d, sec);
	d->syns++;
	if (!d->cookies && d->syns > sh->syn_threshold) {
		d->cookies = true;
		note_appendf(ctx->note, "%u SYNs to it this second, over syn-threshold %u: SYN cookies on; ", d->syns,
		             sh->syn_threshold);
	}
	if (!d->cookies) {
		conn_insert(sh, ip->src, ip->sport, ip->dst, ip->dport, ctx->now_ns);
		sh->syns_forwarded++;
		g_string_append(ctx->note, "SYN forwarded (");
		note_append_uint(ctx->note, d->syns);
		g_string_append(ctx->note, " this second, syn-threshold ");
		note_append_uint(ctx->note, sh->syn_threshold);
		g_string_append_c(ctx->note, ')');
		return VERDICT_FORWARD;
	}
	attack_packet(sh, SHIELD_VECTOR_SYN_FLOOD, p, ip->dst, ctx);
	if (d->syns > sh->syn_threshold)
		sh->attacks[SHIELD_VECTOR_SYN_FLOOD].over_second = sec;
	struct shield_tuple t = tuple_of(ip);
	unsigned mi = shield_cookie_mss_index(shield_tcp_mss(p));
	uint32_t cookie = shield_cookie_make(&sh->key, &t, tcp_segment_seq(p), shield_cookie_counter(ctx->now_ns), mi);
	if (!emit_syn_ack(p, cookie, shield_cookie_mss(mi), ctx))
		return stage_drop(ctx, DROP_SHIELD_NO_COOKIE_EMITTED, "SYN cookie 0x%08x", cookie);
	sh->cookies_sent++;
	/* "SYN cookie 0x25dc4b47, MSS 1460: answered, no state kept", on every flood packet: no printf */
	struct note_buf nb;
	note_buf_init(&nb, ctx->note);
	NOTE_BUF_LIT(&nb, "SYN cookie 0x");
	note_buf_hex32(&nb, cookie);
	NOTE_BUF_LIT(&nb, ", MSS ");
	note_buf_uint(&nb, shield_cookie_mss(mi));
	NOTE_BUF_LIT(&nb, ": answered by the shield, no state kept");
	note_buf_flush(&nb);
	return VERDICT_CONSUMED;
}

/* A TCP segment other than a SYN, of no connection the shield knows. */
static enum verdict unknown_segment_in(struct shield *sh, struct packet *p, struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;
	struct shield_dest *d = dest_get(sh, ip->dst);
	struct shield_tuple t = tuple_of(ip);
	struct shield_cookie_info info = { 0 };
	enum shield_cookie_check c = SHIELD_COOKIE_BAD;
	uint32_t cookie = tcp_segment_ack(p) - 1;

	dest_roll(sh, d, capture_second(ctx->now_ns));
	if ((ip->tcp_flags & (TH_ACK | TH_RST | TH_SYN)) == TH_ACK)
		c = shield_cookie_check(&sh->key, &t, tcp_segment_seq(p) - 1, cookie, shield_cookie_counter(ctx->now_ns),
		                        &info);
	if (c == SHIELD_COOKIE_TOO_OLD)
		return stage_drop(ctx, DROP_SHIELD_COOKIE_EXPIRED, "cookie 0x%08x made %u counters of 64 s ago (at most %u)",
		                  cookie, info.age, SHIELD_COOKIE_MAX_AGE);
	if (c == SHIELD_COOKIE_BAD) {
		if (d->cookies) {
			attack_packet(sh, SHIELD_VECTOR_SYN_FLOOD, p, ip->dst, ctx);
			return stage_drop(ctx, DROP_SHIELD_COOKIE_INVALID, "ack 0x%08x is no cookie of this connection", cookie + 1);
		}
		g_string_append(ctx->note, "no SYN flood on it: a connection the shield did not see open, let through");
		conn_insert(sh, ip->src, ip->sport, ip->dst, ip->dport, ctx->now_ns);
		return VERDICT_FORWARD;
	}
	sh->cookies_valid++;
	conn_insert(sh, ip->src, ip->sport, ip->dst, ip->dport, ctx->now_ns);
	/* The SYN first, then the ACK itself: both emitted, so that the protected side sees them in
	 * that order (a forwarded packet would travel on before anything emitted). */
	if (!emit_client_syn(sh, p, info.mss, ctx) ||
	    !stage_emit(ctx, SIDE_RIGHT, DIR_LEFT_TO_RIGHT, 2 * PIPELINE_HOP_NS, p->data, p->caplen,
	                "shield: the client's ACK, after its SYN"))
		return stage_drop(ctx, DROP_SHIELD_NO_COOKIE_EMITTED, "the admitted connection's SYN and ACK");
	note_appendf(ctx->note, "ACK carries a good SYN cookie 0x%08x (MSS %u): connection admitted; the shield hands "
	             "on the client's SYN and then this ACK", cookie, info.mss);
	return VERDICT_CONSUMED;
}

static enum verdict inbound(struct shield *sh, struct packet *p, struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;
	char b[16];

	uint32_t octet = ip->src >> 24;
	if ((sh->bogon_octets[octet / 64] >> (octet % 64) & 1) && in_prefixes(sh->bogons, sh->n_bogons, ip->src)) {
		attack_packet(sh, SHIELD_VECTOR_SPOOFED_BOGON, p, ip->dst, ctx);
		return stage_drop(ctx, DROP_SHIELD_BOGON_SOURCE, "source %s, from the internet side", ip4_to_str(ip->src, b));
	}
	bool request = ip->proto != IPPROTO_TCP || (ip->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
	uint32_t count;
	/* In front of an l7-lb the rule counts the web requests the balancer reads instead
	 * (shield_web_request_blocked), as a WAF web ACL does: packets are not counted. */
	if (sh->rate_limit && request && !ip->is_fragment && !ctx->stage->judges_http &&
	    rate_over(sh, ip->src, ctx->now_ns, &count)) {
		attack_packet(sh, SHIELD_VECTOR_REQUEST_FLOOD, p, ip->dst, ctx);
		return stage_drop(ctx, DROP_SHIELD_RATE_LIMITED, "%u requests from %s in the last %" G_GINT64_FORMAT " s, limit %u",
		                  count, ip4_to_str(ip->src, b), sh->rate_window_ns / NS_PER_S, sh->rate_limit);
	}
	/* Every packet the shield lets through says why, so that a student reading a view on the
	 * protected side sees that the shield looked at it and what it checked. */
	if (!in_prefixes(sh->protect, sh->n_protect, ip->dst)) {
		g_string_append(ctx->note, "passed: not to an address it protects");
		return VERDICT_FORWARD;
	}
	if (!ip->has_ports || (ip->proto != IPPROTO_TCP && ip->proto != IPPROTO_UDP)) {
		g_string_append(ctx->note, "passed: neither TCP nor UDP, no flood rule applies");
		return VERDICT_FORWARD;
	}
	if (ip->proto == IPPROTO_UDP) {
		enum shield_reflector r = reflector_of(ip->sport);
		if (r == SHIELD_REFLECT_N) {
			g_string_append(ctx->note, "passed: UDP from a port no reflector answers from");
			return VERDICT_FORWARD;
		}
		if (request_answered(sh, ip, ctx->now_ns)) {
			sh->answers_matched++;
			g_string_append(ctx->note, "answers a request the protected address sent");
			return VERDICT_FORWARD;
		}
		attack_packet(sh, (enum shield_vector)(SHIELD_VECTOR_DNS_REFLECTION + r), p, ip->dst, ctx);
		char b2[16];
		return stage_drop(ctx, DROP_SHIELD_REFLECT_DNS + r, "%s:%u sent no request to %s:%u in the last %s", ip4_to_str(ip->dst, b),
		                  ip->dport, ip4_to_str(ip->src, b2), ip->sport, sh->window_text);
	}
	if ((ip->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN)
		return syn_in(sh, p, ctx);
	struct shield_conn *c = conn_find(sh, ip->src, ip->sport, ip->dst, ip->dport, ctx->now_ns);
	if (c) {
		c->last_ns = ctx->now_ns;
		g_string_append(ctx->note, "passed: a connection the shield already let through");
		return VERDICT_FORWARD;
	}
	return unknown_segment_in(sh, p, ctx);
}

/* A packet whose headers contradict each other or the frame (decode says which): from the
 * internet to a protected address it is dropped, as Shield's network-layer filters drop malformed
 * packets before they reach a resource; anything else crosses unchecked, as a valid one would.  No
 * other rule reads it: its ports and flags may be the very fields that lie. */
static enum verdict malformed(struct shield *sh, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	if (dir != DIR_LEFT_TO_RIGHT) {
		g_string_append(ctx->note, "passed: malformed, but from the protected side, nothing to check");
		return VERDICT_FORWARD;
	}
	if (!in_prefixes(sh->protect, sh->n_protect, p->ip.dst)) {
		g_string_append(ctx->note, "passed: malformed, but not to an address it protects");
		return VERDICT_FORWARD;
	}
	char b[16];
	/* what is wrong the packet's own note says ("invalid: ..."), on every view */
	return stage_drop(ctx, DROP_SHIELD_MALFORMED, "to %s, from the internet side", ip4_to_str(p->ip.dst, b));
}

static enum verdict outbound(struct shield *sh, struct packet *p, struct stage_ctx *ctx)
{
	const struct ip4_view *ip = &p->ip;

	if (!in_prefixes(sh->protect, sh->n_protect, ip->src)) {
		g_string_append(ctx->note, "passed: not from an address it protects");
		return VERDICT_FORWARD;
	}
	if (ip->has_ports && ip->proto == IPPROTO_UDP && reflector_of(ip->dport) != SHIELD_REFLECT_N) {
		request_record(sh, ip, ctx->now_ns);
		g_string_append(ctx->note, "request remembered: its answers may come in for ");
		g_string_append(ctx->note, sh->window_text);
		return VERDICT_FORWARD;
	}
	struct shield_conn *c = NULL;
	if (ip->has_ports && ip->proto == IPPROTO_TCP)
		c = conn_find(sh, ip->dst, ip->dport, ip->src, ip->sport, ctx->now_ns);
	if (c)
		c->last_ns = ctx->now_ns;
	g_string_append(ctx->note, c ? "passed: the protected side's answer on a connection the shield let through"
	                             : "passed: from the protected side, nothing to check");
	return VERDICT_FORWARD;
}

static enum verdict shield_process(struct stage *st, struct packet *p, enum hop_dir dir, struct stage_ctx *ctx)
{
	struct shield *sh = st->priv;
	enum verdict v;

	if (!sh->seen_any) {
		sh->seen_any = true;
		sh->first_ns = ctx->now_ns;
		sh->second = capture_second(ctx->now_ns);
	}
	detector_tick(sh, ctx->now_ns, ctx);
	if (sh->pending->len) {
		g_string_append_len(ctx->note, sh->pending->str, (gssize)sh->pending->len);
		g_string_truncate(sh->pending, 0);
	}
	if (p->status == DECODE_INVALID)
		v = malformed(sh, p, dir, ctx);
	else
		v = dir == DIR_LEFT_TO_RIGHT ? inbound(sh, p, ctx) : outbound(sh, p, ctx);
	return v;
}

/* stage_ops.web_request_blocked: the rate-based rule as the web ACL of the l7-lb right of the
 * shield (AWS WAF Developer Guide, "Rate-based rule statement": it counts web requests per
 * source address, and a request over the limit is blocked, which an ALB answers with 403). */
static bool shield_web_request_blocked(struct stage *st, uint32_t source, uint32_t target, uint32_t bytes,
                                       struct stage_ctx *ctx, GString *why)
{
	struct shield *sh = st->priv;
	uint32_t count;
	char b[16];

	if (!sh->rate_limit)
		return false;
	if (!rate_over(sh, source, ctx->now_ns, &count)) {
		sh->web_allowed++;
		return false;
	}
	sh->web_blocked++;
	attack_count(sh, st, SHIELD_VECTOR_REQUEST_FLOOD, target, bytes, ctx, why);
	note_appendf(why, "shield %s's rate-based rule: %u requests from %s in the last %" G_GINT64_FORMAT " s, limit %u",
	             st->name, count, ip4_to_str(source, b), sh->rate_window_ns / NS_PER_S, sh->rate_limit);
	return true;
}

/* The shield changes no packet: undoing it is nothing. */
static enum reverse_answer shield_reverse(struct stage *st G_GNUC_UNUSED, struct packet *p G_GNUC_UNUSED,
                                          enum hop_dir dir G_GNUC_UNUSED, struct stage_ctx *ctx G_GNUC_UNUSED)
{
	return REVERSE_TRANSLATED;
}

static void shield_advance(struct stage *st, int64_t now_ns, struct stage_ctx *ctx)
{
	detector_tick(st->priv, now_ns, ctx);
}

static void shield_table_foreach(const struct stage *st, int64_t now_ns,
                                 void (*visit)(const struct table_row *row, void *data), void *data)
{
	const struct shield *sh = st->priv;
	struct table_row row;

	for (unsigned v = 0; v < SHIELD_VECTOR_N; v++)
		if (sh->attacks[v].active) {
			attack_row(sh, (enum shield_vector)v, &row);
			visit(&row, data);
		}
	for (uint32_t i = 0; i < sh->max_requests; i++) {
		const struct shield_request *r = &sh->requests[i];
		if (!r->at_ns || now_ns - r->at_ns > sh->reflection_window_ns)
			continue;
		row = (struct table_row){ .id = i, .proto = 17, .expires_ns = r->at_ns + sh->reflection_window_ns,
			                  .state = "REQUEST", .flags = "answers welcome",
			                  .orig = { r->local, r->remote, r->lport, r->rport },
			                  .reply = { r->remote, r->local, r->rport, r->lport } };
		visit(&row, data);
	}
}

static void shield_stats_print(const struct stage *st, GString *out)
{
	const struct shield *sh = st->priv;
	unsigned active = 0, total = 0;
	char b[16];

	for (unsigned v = 0; v < SHIELD_VECTOR_N; v++) {
		active += sh->attacks[v].active;
		total += sh->attacks[v].count;
	}
	g_string_append_printf(out, "    DDoSDetected = %u at the end of the capture (1 while an attack is in progress); "
	                       "attacks detected: %u (times from the shield's first packet)\n", active ? 1 : 0, total);
	for (unsigned v = 0; v < SHIELD_VECTOR_N; v++) {
		struct shield_attack a = sh->attacks[v];
		if (!a.count)
			continue;
		attack_roll(&a, a.second + 1, v == SHIELD_VECTOR_REQUEST_FLOOD);
		g_string_append_printf(out, "    %s on %s: started %.3f s, %s", vector_names[v], ip4_to_str(a.target, b),
		                       (double)(a.start_ns - sh->first_ns) / 1e9, a.active ? "in progress" : "ended ");
		if (!a.active)
			g_string_append_printf(out, "%.3f s", (double)(a.end_ns - sh->first_ns) / 1e9);
		g_string_append_printf(out, "; %" G_GUINT64_FORMAT " packet%s, %" G_GUINT64_FORMAT " byte%s\n"
		                       "      DDoSAttackPacketsPerSecond = %" G_GUINT64_FORMAT
		                       ", DDoSAttackBitsPerSecond = %" G_GUINT64_FORMAT
		                       ", DDoSAttackRequestsPerSecond = %" G_GUINT64_FORMAT " (peaks over a second)\n",
		                       a.packets, note_plural(a.packets), a.bytes, note_plural(a.bytes), a.peak_pps, a.peak_bps,
		                       a.peak_rps);
	}
	g_string_append_printf(out, "    SYN cookies sent %" G_GUINT64_FORMAT ", good cookies back %" G_GUINT64_FORMAT
	                       ", SYNs forwarded %" G_GUINT64_FORMAT "; reflector answers to requests %" G_GUINT64_FORMAT
	                       "; entries evicted: connections %" G_GUINT64_FORMAT ", requests %" G_GUINT64_FORMAT
	                       ", sources %" G_GUINT64_FORMAT "\n",
	                       sh->cookies_sent, sh->cookies_valid, sh->syns_forwarded, sh->answers_matched,
	                       sh->conns_evicted, sh->requests_evicted, sh->sources_evicted);
	if (st->judges_http)
		g_string_append_printf(out, "    the rate-based rule as the web ACL of the l7-lb beside it (AWS WAF's metrics): "
		                       "AllowedRequests = %" G_GUINT64_FORMAT ", BlockedRequests = %" G_GUINT64_FORMAT "\n",
		                       sh->web_allowed, sh->web_blocked);
}

const struct stage_ops shield_ops = {
	.type = "shield",
	.summary = "DDoS shield: SYN cookies over a SYN rate, UDP reflection and bogon filters, a rate-based rule (AWS Shield, RFC 4987 3.6)",
	.keys = shield_keys,
	.drops = shield_drops,
	.n_drops = G_N_ELEMENTS(shield_drops),
	.configure = shield_configure,
	.describe = shield_describe,
	.filters_invalid = true,
	.web_request_blocked = shield_web_request_blocked,
	.process = shield_process,
	.reverse = shield_reverse,
	.advance = shield_advance,
	.table_foreach = shield_table_foreach,
	.stats_print = shield_stats_print,
	.destroy = shield_destroy,
};
