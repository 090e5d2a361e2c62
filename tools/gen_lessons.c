/* tools/gen_lessons.c: the lesson captures `natlb gen` writes, one builder per lesson, and their table.
 *
 * Follows: RFC 3022 (traditional NAT) for what the static-nat capture exercises, with the protocol
 * documents each conversation names (RFC 9293 TCP, RFC 768 UDP, RFC 792 ICMP, RFC 1035 DNS,
 * RFC 826 ARP, RFC 4443 ICMPv6, RFC 791 fragments and options, RFC 1624 for the bench's
 * checksum patches).
 *
 * Invariant: a builder's output depends only on its options; the clock is the capture clock of
 * gen.c, starting at 2026-01-01T00:00:00Z.
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen.h"
#include "tools/gen_lessons_l7.h"
#include "tools/gen_lessons_lb.h"
#include "tools/gen_lessons_shield.h"

#include <libnet.h>
#include <string.h>

/* ---- static-nat -------------------------------------------------------------------------------
 *
 * Captured on the office LAN (scenario: chain = lan > office > internet; lan networks 10.0.0.0/24
 * and 10.0.1.0/24; static map 10.0.0.5 <-> 203.0.113.5 and 10.0.1.0/24 <-> 192.0.2.0/24).  Every
 * packet is as seen on the LAN: inside addresses, and replies already translated back.
 */

/* The office router's LAN interface: 10.0.0.1, and the next hop for everything off the LAN. */
static const guint8 router_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* A LAN host: its own MAC 02:00:00:00:00:xx, xx its address's last byte; TTL as sent. */
static struct gen_end lan_host(const char *ip, guint16 port)
{
	static const guint8 lan_prefix[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x00 };
	return gen_end_local(ip, port, lan_prefix);
}

/* A host on the internet: on the LAN its frames come from (and go to) the router, and its
 * packets arrive with a TTL a dozen hops below the 64 they left with. */
static struct gen_end remote_host(const char *ip, guint16 port)
{
	return gen_end_at(ip, port, router_mac, 52);
}

/* Each conversation starts a second after the previous one. */
static void conversation(struct gen_ctx *g, int n)
{
	gen_clock_set(g, (gint64)(n - 1) * GEN_NSEC_PER_SEC);
}

/* The 56 data bytes Linux ping sends: a struct timeval of the send time (16 bytes, little-endian
 * on x86-64), then the bytes 0x10, 0x11, ... */
static void ping_payload(guint8 data[56], gint64 ns_since_start)
{
	guint64 sec = GEN_START_SEC + ns_since_start / GEN_NSEC_PER_SEC;
	guint64 usec = (ns_since_start % GEN_NSEC_PER_SEC) / 1000;

	for (int i = 0; i < 8; i++) {
		data[i] = (guint8)(sec >> (8 * i));
		data[8 + i] = (guint8)(usec >> (8 * i));
	}
	for (int i = 16; i < 56; i++)
		data[i] = (guint8)i;
}

/* 1. A whole HTTP exchange from the host with a one-to-one mapping.  Teaches: static NAT
 * rewrites the source of every request (10.0.0.5 -> 203.0.113.5) and the destination of every
 * reply, for the connection's whole life, ports untouched; sequence numbers are not NAT's concern. */
static void lesson_http(struct gen_ctx *g)
{
	static const char request[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
	static const char body[] = "<html><body><h1>Hello from www.example.com</h1></body></html>\n";
	struct gen_end client = lan_host("10.0.0.5", 40001), server = remote_host("198.51.100.80", 80);
	struct gen_tcp t;
	char *response = g_strdup_printf("HTTP/1.1 200 OK\r\n"
	                                 "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
	                                 "Content-Type: text/html\r\n"
	                                 "Content-Length: %zu\r\n"
	                                 "\r\n%s",
	                                 strlen(body), body);

	conversation(g, 1);
	gen_tcp_init(&t, &client, &server, 0x1f2e3d4c, 0x8a9b0c1d);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, request, sizeof request - 1);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, response, strlen(response));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	g_free(response);
}

/* 2. A DNS lookup from the 10.0.1.0/24 subnet.  Teaches: a prefix mapping keeps the host bits
 * (10.0.1.20 -> 192.0.2.20) and UDP is translated like TCP; the DNS answer inside is not
 * rewritten (NAT does not look into application data). */
static void lesson_dns(struct gen_ctx *g)
{
	/* RFC 1035 4.1.2: QNAME www.example.com as length-prefixed labels, QTYPE A, QCLASS IN. */
	static const guint8 question[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		                           0x00, 0x01, 0x00, 0x01 };
	/* RFC 1035 4.1.3: NAME a pointer to offset 12 (the question's name), type A, class IN,
	 * TTL 3600, RDLENGTH 4, RDATA 198.51.100.80 (the web server of conversation 1). */
	static const guint8 answer_rr[] = { 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10,
		                            0x00, 0x04, 198, 51, 100, 80 };
	struct gen_end client = lan_host("10.0.1.20", 53001), server = remote_host("198.51.100.53", 53);

	conversation(g, 2);
	/* Query id 0x7a11; the answer echoes the question and adds one A record. */
	gen_dns_exchange(g, &client, &server, 0x7a11, question, sizeof question, answer_rr, sizeof answer_rr, 0x3c01,
	                 0x9d02);
}

/* 3. Two pings.  Teaches: ICMP echo has no ports; static NAT translates the address only and
 * leaves the identifier (0x1234) alone, unlike NAPT which must treat it like a port. */
static void lesson_ping(struct gen_ctx *g)
{
	struct gen_end host = lan_host("10.0.1.21", 0), target = remote_host("198.51.100.1", 0);
	guint8 data[56];

	conversation(g, 3);
	for (guint16 seq = 1; seq <= 2; seq++) {
		ping_payload(data, gen_clock_now(g));
		gen_icmp_echo(g, &host, &target, ICMP_ECHO, 0x1234, seq, data, sizeof data, 0x5100 + seq);
		gen_emit(g);
		/* The reply carries the request's data back unchanged, which is how ping times it. */
		gen_icmp_echo(g, &target, &host, ICMP_ECHOREPLY, 0x1234, seq, data, sizeof data, 0x7200 + seq);
		gen_emit(g);
	}
}

/* 4. A connection from outside to 10.0.0.5's SSH port.  Teaches: a static mapping works in both
 * directions, so an outside client can open a connection to 203.0.113.5, which NAPT cannot do
 * without a port forward.  Captured on the LAN, so it already reads 10.0.0.5. */
static void lesson_inbound(struct gen_ctx *g)
{
	struct gen_end client = remote_host("198.51.100.99", 50000), server = lan_host("10.0.0.5", 22);
	struct gen_tcp t;

	conversation(g, 4);
	gen_tcp_init(&t, &client, &server, 0x6c07a5e3, 0x03b1f2a9);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
}

/* 5. A host no rule maps.  Teaches: static NAT only translates what its table lists; 10.0.0.9
 * leaves untranslated (and a real office would drop it, since 10.0.0.0/8 is not routed). */
static void lesson_unmapped(struct gen_ctx *g)
{
	struct gen_end client = lan_host("10.0.0.9", 40100), server = remote_host("198.51.100.80", 80);
	struct gen_tcp t;

	conversation(g, 5);
	gen_tcp_init(&t, &client, &server, 0x4d2a9b10, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
}

/* 6. A traceroute probe and the ICMP time exceeded it provokes.  Teaches: an ICMP error quotes
 * the packet that caused it (RFC 792: IP header + 8 bytes), so NAT must translate the quoted
 * header too: outside, the router quoted source 192.0.2.20; on the LAN the quote reads 10.0.1.20
 * again, or the host could not match the error to its socket.
 * The probe leaves the LAN with TTL 2: the office router decrements it (RFC 1812 section 5.3.1),
 * and the next router receives it with TTL 1 and quotes it so. */
static void lesson_icmp_error(struct gen_ctx *g)
{
	/* Linux traceroute's default probe: 32 data bytes 0x40, 0x41, ... */
	guint8 probe_data[32];
	struct gen_end host = lan_host("10.0.1.20", 53002), target = remote_host("198.51.100.7", 33434);
	struct gen_end hop = remote_host("198.51.100.254", 0);
	guint8 probe[LIBNET_ETH_H + LIBNET_IPV4_H + LIBNET_UDP_H + sizeof probe_data];
	gsize probe_len = 0;
	struct libnet_context *l = gen_libnet(g);

	for (gsize i = 0; i < sizeof probe_data; i++)
		probe_data[i] = (guint8)(0x40 + i);
	host.ttl = 2;
	hop.ttl = 254; /* a router's error starts at 255 and crossed the office router */

	conversation(g, 6);
	gen_udp(g, &host, &target, probe_data, sizeof probe_data, 0x2b6e);
	gen_emit(g);
	/* The probe as the next router got it, one hop later: the error below quotes it. */
	host.ttl = 1;
	gen_udp(g, &host, &target, probe_data, sizeof probe_data, 0x2b6e);
	if (!gen_take(g, probe, sizeof probe, &probe_len))
		return;

	/* The quote: the probe's IP header and the first 8 bytes after it (its UDP header). */
	gen_check(g,
	          libnet_build_icmpv4_timeexceed(ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0, probe + LIBNET_ETH_H,
	                                         LIBNET_IPV4_H + 8, l, 0),
	          "icmp time exceeded");
	gen_ipv4(g, &hop, &host, IPPROTO_ICMP, LIBNET_ICMPV4_TIMXCEED_H + LIBNET_IPV4_H + 8, 0x0e11);
	gen_emit(g);
}

/* 7. UDP with checksum 0.  Teaches: in IPv4 a zero UDP checksum means "none" (RFC 768), so a
 * NAT that rewrites addresses must leave it 0, not "fix" it into a checksum. */
static void lesson_udp_zero_checksum(struct gen_ctx *g)
{
	static const char data[] = "sensor reading 21.5C\n";
	struct gen_end host = lan_host("10.0.1.30", 5000), collector = remote_host("198.51.100.60", 5001);
	struct libnet_context *l = gen_libnet(g);
	gint32 udp;

	conversation(g, 7);
	udp = libnet_build_udp(host.port, collector.port, LIBNET_UDP_H + sizeof data - 1, 0, (const guint8 *)data,
	                       sizeof data - 1, l, 0);
	/* Sum 0 normally asks libnet to compute it; switching the computation off keeps the 0. */
	if (gen_check(g, udp, "udp") && libnet_toggle_checksum(l, udp, LIBNET_OFF) == -1)
		gen_fail(g, "libnet: toggle checksum: %s", libnet_geterror(l));
	gen_ipv4(g, &host, &collector, IPPROTO_UDP, LIBNET_UDP_H + sizeof data - 1, 0x4c30);
	gen_emit(g);
}

/* 8. A SYN whose TCP checksum is wrong (the right one XOR 0x00ff).  Teaches: a capture taken on
 * the sending host with checksum offload shows checksums the NIC had not yet filled in; NAT
 * updates checksums incrementally (RFC 1624), so a wrong one stays exactly as wrong. */
static void lesson_bad_checksum(struct gen_ctx *g)
{
	struct gen_end client = lan_host("10.0.0.5", 40002), server = remote_host("198.51.100.80", 80);
	struct gen_tcp t;

	conversation(g, 8);
	gen_tcp_init(&t, &client, &server, 0x2a4b6c8d, 0);
	gen_tcp_build(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	/* The TCP checksum is 16 bytes into the TCP header. */
	gen_emit_with(g, &(struct gen_emit_opts){ .corrupt_at = LIBNET_ETH_H + LIBNET_IPV4_H + 16,
	                                          .corrupt_xor = 0x00ff });
}

/* 9. Traffic NAT has no business with: an ARP request and an IPv6 multicast ping.  Teaches: ARP
 * never leaves the LAN, and IPv4 NAT does not touch IPv6 (natlb passes it through, annotated). */
static void lesson_passthrough(struct gen_ctx *g)
{
	static const guint8 broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const guint8 unknown[6] = { 0 };
	/* RFC 2464 7: IPv6 multicast ff02::1 goes to 33:33 followed by its last 32 bits. */
	static const guint8 all_nodes_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
	struct gen_end host = lan_host("10.0.0.5", 0);
	guint32 router_ip = gen_ip4("10.0.0.1");
	guint8 spa[4], tpa[4], data[56];
	struct libnet_context *l = gen_libnet(g);
	struct libnet_in6_addr src6, dst6;

	conversation(g, 9);
	/* RFC 826: who has 10.0.0.1?  Tell 10.0.0.5.  Addresses as bytes in network order. */
	memcpy(spa, &host.ip, 4);
	memcpy(tpa, &router_ip, 4);
	gen_check(g, libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, ARPOP_REQUEST, host.mac, spa, unknown, tpa, NULL,
	                              0, l, 0),
	          "arp");
	gen_ethernet(g, host.mac, broadcast, ETHERTYPE_ARP);
	gen_emit(g);

	/* RFC 4443 4.1: echo request fe80::5 -> ff02::1; hop limit 1, the default for multicast. */
	src6 = libnet_name2addr6(l, "fe80::5", LIBNET_DONT_RESOLVE);
	dst6 = libnet_name2addr6(l, "ff02::1", LIBNET_DONT_RESOLVE);
	ping_payload(data, gen_clock_now(g));
	/* libnet's prototype takes a non-const payload; it only reads it. */
	gen_check(g, libnet_build_icmpv6_echo(ICMP6_ECHO_REQUEST, 0, 0, 0x0005, 1, data, sizeof data, l, 0),
	          "icmpv6 echo");
	gen_check(g, libnet_build_ipv6(0, 0, LIBNET_ICMPV6_ECHO_H + sizeof data, IPPROTO_ICMPV6, 1, src6, dst6, NULL, 0, l, 0),
	          "ipv6");
	gen_ethernet(g, host.mac, all_nodes_mac, ETHERTYPE_IPV6);
	gen_emit(g);
}

/* 10. A segment cut short by the capture's snaplen: 400 data bytes sent, 54 bytes recorded
 * (Ethernet + IPv4 + TCP header), len still says the full size.  Teaches: truncated is not
 * invalid; NAT can still translate the headers it sees, and must not read past them. */
static void lesson_truncated(struct gen_ctx *g)
{
	struct gen_end client = lan_host("10.0.0.5", 40003), server = remote_host("198.51.100.80", 80);
	guint8 data[400];
	struct gen_tcp t;

	for (gsize i = 0; i < sizeof data; i++)
		data[i] = (guint8)("field=0123456789abcdef&"[i % 23]);
	conversation(g, 10);
	/* Mid-connection: the handshake happened before the capture started. */
	gen_tcp_init(&t, &client, &server, 0x7e3f1000, 0x11d2c400);
	gen_tcp_build(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, data, sizeof data);
	gen_emit_with(g, &(struct gen_emit_opts){ .snaplen = LIBNET_ETH_H + LIBNET_IPV4_H + LIBNET_TCP_H });
}

/* 11. A 3000-byte UDP datagram (UDP length 3000) in three IPv4 fragments for a 1500-byte MTU:
 * 1480, 1480 and 40 bytes at offsets 0, 185 and 370 (units of 8 bytes), MF on all but the last,
 * all with id 0x4242.  Teaches: only the first fragment carries ports, so a NAT must translate
 * all of them by (source, destination, protocol, id); addresses alone are enough for static NAT. */
static void lesson_fragments(struct gen_ctx *g)
{
	enum { DATAGRAM = 3000, FRAG = 1480 };
	struct gen_end host = lan_host("10.0.1.40", 6000), server = remote_host("198.51.100.70", 6001);
	guint8 data[DATAGRAM - LIBNET_UDP_H];
	guint8 packet[LIBNET_IPV4_H + DATAGRAM];
	gsize packet_len = 0;
	struct libnet_context *l = gen_libnet(g);

	for (gsize i = 0; i < sizeof data; i++)
		data[i] = (guint8)('a' + i % 26);
	conversation(g, 11);
	/* Let libnet build the whole datagram once, so it computes the UDP checksum over all of it;
	 * then cut what follows the IP header into fragments. */
	gen_check(g, libnet_build_udp(host.port, server.port, DATAGRAM, 0, data, sizeof data, l, 0), "udp");
	gen_check(g, libnet_build_ipv4(LIBNET_IPV4_H + DATAGRAM, 0, 0x4242, 0, host.ttl, IPPROTO_UDP, 0, host.ip,
	                               server.ip, NULL, 0, l, 0),
	          "ipv4");
	if (!gen_take(g, packet, sizeof packet, &packet_len))
		return;
	for (gsize off = 0; off < DATAGRAM; off += FRAG) {
		gsize len = MIN((gsize)FRAG, (gsize)DATAGRAM - off);
		guint16 mf = off + len < DATAGRAM ? IP_MF : 0;

		/* No DF: a datagram may only be fragmented when DF is clear. */
		gen_check(g, libnet_build_ipv4(LIBNET_IPV4_H + len, 0, 0x4242, mf | (off / 8), host.ttl, IPPROTO_UDP, 0,
		                               host.ip, server.ip, packet + LIBNET_IPV4_H + off, len, l, 0),
		          "ipv4 fragment");
		gen_ethernet(g, host.mac, server.mac, ETHERTYPE_IP);
		gen_emit(g);
	}
}

/* 12. A ping with the Record Route option (ping -R): a 60-byte IPv4 header, IHL 15.  Teaches:
 * the IP header is not always 20 bytes; a NAT must find the ICMP header by IHL.  (Record Route
 * would also disclose inside addresses recorded by routers inside the NAT.) */
static void lesson_ip_options(struct gen_ctx *g)
{
	/* RFC 791: type 7, length 39 (3 + nine 4-byte slots), pointer 4 (first free slot), slots
	 * empty; one end-of-options byte pads the header to a multiple of 4. */
	guint8 rr[40] = { IPOPT_RR, 39, 4 };
	struct gen_end host = lan_host("10.0.0.5", 0), target = remote_host("198.51.100.80", 0);
	guint8 data[56];
	struct libnet_context *l = gen_libnet(g);

	conversation(g, 12);
	ping_payload(data, gen_clock_now(g));
	/* libnet builds inner first: ICMP, then the options, then the IPv4 header that owns them. */
	gen_check(g, libnet_build_icmpv4_echo(ICMP_ECHO, 0, 0, 0x0042, 1, data, sizeof data, l, 0), "icmp echo");
	gen_check(g, libnet_build_ipv4_options(rr, sizeof rr, l, 0), "ipv4 options");
	/* The total length counts the options too: libnet takes it as given. */
	gen_ipv4(g, &host, &target, IPPROTO_ICMP, sizeof rr + LIBNET_ICMPV4_ECHO_H + sizeof data, 0x6a01);
	gen_emit(g);
}

static gboolean gen_static_nat(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);

	if (!g)
		return FALSE;
	lesson_http(g);
	lesson_dns(g);
	lesson_ping(g);
	lesson_inbound(g);
	lesson_unmapped(g);
	lesson_icmp_error(g);
	lesson_udp_zero_checksum(g);
	lesson_bad_checksum(g);
	lesson_passthrough(g);
	lesson_truncated(g);
	lesson_fragments(g);
	lesson_ip_options(g);
	return gen_ctx_finish(g, err);
}

/* ---- bench ------------------------------------------------------------------------------------
 *
 * Load for `make bench`: flows from 10.1.0.0/16 to 20 servers in 198.51.100.0/24, 7 in 8 TCP to
 * port 80 or 443 (a SYN first, then data), 1 in 8 UDP to port 53, payloads of 0..1200 bytes,
 * packets 10 us apart, flows interleaved.
 *
 * How it is fast: libnet builds each flow's headers once (a template, on the flow's first
 * packet); each packet copies the template, patches length, IP id, sequence number and flags,
 * and updates the checksums incrementally (RFC 1624) from the ones libnet computed, adding the
 * payload's sum.  The payload is one block laid after each header size, so only headers are
 * copied.  Memory: a template per flow, nothing per packet (the dumper streams).
 */

#define BENCH_MAX_PAYLOAD 1200
#define BENCH_MAX_FLOWS (1u << 24) /* 64 bytes each: at most 1 GiB of templates */
#define BENCH_SERVERS 20
#define BENCH_STEP_NS 10000
#define BENCH_ETH_IP (LIBNET_ETH_H + LIBNET_IPV4_H)
#define BENCH_TCP_HDRS (BENCH_ETH_IP + LIBNET_TCP_H)
#define BENCH_UDP_HDRS (BENCH_ETH_IP + LIBNET_UDP_H)

/* Byte offsets in an Ethernet + 20-byte IPv4 frame. */
#define OFF_IP_LEN (LIBNET_ETH_H + 2)
#define OFF_IP_ID (LIBNET_ETH_H + 4)
#define OFF_IP_SUM (LIBNET_ETH_H + 10)
#define OFF_TCP_SEQ (BENCH_ETH_IP + 4)
#define OFF_TCP_FLAGS (BENCH_ETH_IP + 12) /* the 16-bit word data offset + flags */
#define OFF_TCP_WIN (BENCH_ETH_IP + 14)
#define OFF_TCP_SUM (BENCH_ETH_IP + 16)
#define OFF_UDP_LEN (BENCH_ETH_IP + 4)
#define OFF_UDP_SUM (BENCH_ETH_IP + 6)

struct bench_flow {
	guint8 hdr[BENCH_TCP_HDRS]; /* libnet's template; hdr_len 0 until built */
	guint8 hdr_len;
	guint16 ip_id;    /* next IP id */
	guint32 next_seq; /* TCP: next sequence number */
	guint8 syn_sent;  /* TCP: the flow's first packet, a SYN, is written */
};

/* splitmix64 (Steele, Lea, Flood 2014): a tiny PRNG with a fixed, documented output. */
static guint64 splitmix64(guint64 *state)
{
	guint64 z = (*state += G_GUINT64_CONSTANT(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A flow's own random number: the same for a flow whatever order packets come in. */
static guint64 bench_flow_hash(guint64 seed, guint32 flow)
{
	guint64 s = seed ^ ((guint64)flow << 32 | flow);
	return splitmix64(&s);
}

static guint16 get_be16(const guint8 *p, gsize off)
{
	return (guint16)(p[off] << 8 | p[off + 1]);
}

static void put_be16(guint8 *p, gsize off, guint16 v)
{
	p[off] = v >> 8;
	p[off + 1] = v & 0xff;
}

static guint16 csum_fold(guint32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (guint16)sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') when a 16-bit word m becomes m'. */
static guint16 csum_replace(guint16 hc, guint16 old, guint16 new_word)
{
	return ~csum_fold((guint16)~hc + (guint32)(guint16)~old + new_word);
}

/* The same for words added where there were zeros: HC' = ~(~HC + sum of the new words).  An odd
 * last byte is the high half of a word padded with zero (RFC 1071). */
static guint16 csum_add_bytes(guint16 hc, const guint8 *p, gsize n)
{
	guint32 sum = (guint16)~hc;

	for (gsize i = 0; i + 1 < n; i += 2)
		sum += (guint32)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (guint32)p[n - 1] << 8;
	return ~csum_fold(sum);
}

/* Flow number -> addresses and ports.  Source host bits come from the flow number (skipping .0.0
 * and .255.255); the source port makes flows beyond 65534 distinct: for a given host it steps by
 * 257, coprime with the 64512 ports above 1023, so it cannot repeat within 64512 rounds. */
static gboolean bench_flow_build(struct gen_ctx *g, struct bench_flow *f, guint32 flow, guint64 seed)
{
	static const guint8 client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x10, 0x01 };
	guint64 h = bench_flow_hash(seed, flow);
	guint32 host = 1 + flow % 65534, round = flow / 65534;
	struct gen_end src = { .ip = g_htonl(0x0a010000u | host), .ttl = 64 }; /* 10.1.0.0/16 */
	struct gen_end dst = { .ip = g_htonl(0xc6336400u | (10 + (guint32)(h % BENCH_SERVERS))) }; /* 198.51.100.10-29 */
	gboolean udp = flow % 8 == 7;
	struct libnet_context *l = gen_libnet(g);
	gsize len = 0;

	memcpy(src.mac, client_mac, 6);
	memcpy(dst.mac, router_mac, 6);
	src.port = (guint16)(1024 + ((guint64)host * 7919 + (guint64)round * 257 + seed) % 64512);
	dst.port = udp ? 53 : ((h >> 8) & 1) ? 443 : 80;
	if (udp) {
		gen_udp(g, &src, &dst, NULL, 0, 0);
	} else {
		/* Template: seq 0, ACK of the server's ISN + 1 (as after a handshake), flags ACK. */
		gen_check(g, libnet_build_tcp(src.port, dst.port, 0, (guint32)(h >> 32) + 1, TH_ACK, 502, 0, 0, LIBNET_TCP_H,
		                              NULL, 0, l, 0),
		          "tcp");
		gen_ipv4(g, &src, &dst, IPPROTO_TCP, LIBNET_TCP_H, 0);
	}
	if (!gen_take(g, f->hdr, sizeof f->hdr, &len))
		return FALSE;
	f->hdr_len = (guint8)len;
	f->ip_id = (guint16)(h >> 16);
	f->next_seq = (guint32)h; /* the client's ISN */
	f->syn_sent = 0;
	return TRUE;
}

/* One TCP packet of flow f into frame, whose payload block already sits after the headers.
 * Returns the frame's length. */
static guint32 bench_tcp(struct bench_flow *f, guint8 *frame, guint32 plen)
{
	const guint8 *t = f->hdr;
	guint16 ip_len = get_be16(t, OFF_IP_LEN), tcp_len = ip_len - LIBNET_IPV4_H;
	guint16 ip_sum = get_be16(t, OFF_IP_SUM), tcp_sum = get_be16(t, OFF_TCP_SUM);
	guint16 flags_word = get_be16(t, OFF_TCP_FLAGS);
	guint16 new_flags = (flags_word & 0xff00) | TH_ACK | (plen ? TH_PUSH : 0);
	guint32 seq = f->next_seq;

	memcpy(frame, t, BENCH_TCP_HDRS);
	if (!f->syn_sent) {
		/* A flow opens with a bare SYN: no data, no ACK flag, acknowledgement number 0, and
		 * an unscaled window (scaling starts after the handshake). */
		plen = 0;
		new_flags = (flags_word & 0xff00) | TH_SYN;
		tcp_sum = csum_replace(tcp_sum, get_be16(t, OFF_TCP_WIN), 64240);
		put_be16(frame, OFF_TCP_WIN, 64240);
		for (gsize off = OFF_TCP_SEQ + 4; off < OFF_TCP_SEQ + 8; off += 2) {
			tcp_sum = csum_replace(tcp_sum, get_be16(t, off), 0);
			put_be16(frame, off, 0);
		}
		f->syn_sent = 1;
		f->next_seq = seq + 1;
	} else {
		f->next_seq = seq + plen;
	}

	/* IPv4 header: total length and id changed. */
	ip_sum = csum_replace(ip_sum, ip_len, ip_len + plen);
	ip_sum = csum_replace(ip_sum, get_be16(t, OFF_IP_ID), f->ip_id);
	put_be16(frame, OFF_IP_LEN, ip_len + plen);
	put_be16(frame, OFF_IP_ID, f->ip_id++);
	put_be16(frame, OFF_IP_SUM, ip_sum);

	/* TCP: the pseudo-header's length, the sequence number and the flags changed, and the
	 * payload's words were added. */
	tcp_sum = csum_replace(tcp_sum, tcp_len, tcp_len + plen);
	tcp_sum = csum_replace(tcp_sum, get_be16(t, OFF_TCP_SEQ), seq >> 16);
	tcp_sum = csum_replace(tcp_sum, get_be16(t, OFF_TCP_SEQ + 2), seq & 0xffff);
	tcp_sum = csum_replace(tcp_sum, flags_word, new_flags);
	tcp_sum = csum_add_bytes(tcp_sum, frame + BENCH_TCP_HDRS, plen);
	put_be16(frame, OFF_TCP_SEQ, seq >> 16);
	put_be16(frame, OFF_TCP_SEQ + 2, seq & 0xffff);
	put_be16(frame, OFF_TCP_FLAGS, new_flags);
	put_be16(frame, OFF_TCP_SUM, tcp_sum);
	return BENCH_TCP_HDRS + plen;
}

/* One UDP packet of flow f, likewise. */
static guint32 bench_udp(struct bench_flow *f, guint8 *frame, guint32 plen)
{
	const guint8 *t = f->hdr;
	guint16 ip_len = get_be16(t, OFF_IP_LEN), udp_len = get_be16(t, OFF_UDP_LEN);
	guint16 ip_sum = get_be16(t, OFF_IP_SUM), udp_sum = get_be16(t, OFF_UDP_SUM);

	memcpy(frame, t, BENCH_UDP_HDRS);
	ip_sum = csum_replace(ip_sum, ip_len, ip_len + plen);
	ip_sum = csum_replace(ip_sum, get_be16(t, OFF_IP_ID), f->ip_id);
	put_be16(frame, OFF_IP_LEN, ip_len + plen);
	put_be16(frame, OFF_IP_ID, f->ip_id++);
	put_be16(frame, OFF_IP_SUM, ip_sum);

	/* The UDP length counts twice: in the header and in the pseudo-header. */
	udp_sum = csum_replace(udp_sum, udp_len, udp_len + plen);
	udp_sum = csum_replace(udp_sum, udp_len, udp_len + plen);
	udp_sum = csum_add_bytes(udp_sum, frame + BENCH_UDP_HDRS, plen);
	/* RFC 768: a computed 0 is sent as all ones, since 0 means "no checksum". */
	if (udp_sum == 0)
		udp_sum = 0xffff;
	put_be16(frame, OFF_UDP_LEN, udp_len + plen);
	put_be16(frame, OFF_UDP_SUM, udp_sum);
	return BENCH_UDP_HDRS + plen;
}

static guint64 gcd64(guint64 a, guint64 b)
{
	while (b) {
		guint64 r = a % b;
		a = b;
		b = r;
	}
	return a;
}

/* Interleaving: each round visits every flow once, in the order p -> (a*p + b) mod flows, a
 * permutation when a is coprime with flows; a and b are drawn anew each round. */
struct bench_order {
	guint64 a, b;
};

static void bench_order_next(struct bench_order *o, guint64 flows, guint64 *rng)
{
	o->a = flows > 1 ? 1 + splitmix64(rng) % (flows - 1) : 1;
	while (gcd64(o->a, flows) != 1)
		o->a = o->a + 1 < flows ? o->a + 1 : 1;
	o->b = splitmix64(rng) % flows;
}

static gboolean gen_bench(const char *path, const struct gen_options *opt, GError **err)
{
	guint64 flows = opt->flows, rng = opt->seed, payload_rng = opt->seed ^ G_GUINT64_CONSTANT(0x5eed);
	guint8 payload[BENCH_MAX_PAYLOAD];
	guint8 *tcp_frame, *udp_frame;
	struct bench_flow *flow;
	struct bench_order order = { 1, 0 };
	struct gen_ctx *g;

	if (flows < 1 || flows > BENCH_MAX_FLOWS) {
		g_set_error(err, GEN_ERROR, GEN_ERROR_OPTION, "--flows must be between 1 and %u", BENCH_MAX_FLOWS);
		return FALSE;
	}
	g = gen_ctx_open(path, err);
	if (!g)
		return FALSE;
	gen_clock_step(g, BENCH_STEP_NS);

	/* The payload block, once, after each header size. */
	for (gsize i = 0; i < sizeof payload; i++)
		payload[i] = (guint8)splitmix64(&payload_rng);
	tcp_frame = g_malloc(BENCH_TCP_HDRS + BENCH_MAX_PAYLOAD);
	udp_frame = g_malloc(BENCH_UDP_HDRS + BENCH_MAX_PAYLOAD);
	memcpy(tcp_frame + BENCH_TCP_HDRS, payload, sizeof payload);
	memcpy(udp_frame + BENCH_UDP_HDRS, payload, sizeof payload);
	/* g_new0 is calloc: pages of flows never used are never touched. */
	flow = g_new0(struct bench_flow, flows);

	for (guint64 n = 0; n < opt->packets && gen_ok(g); n++) {
		guint64 pos = n % flows;
		struct bench_flow *f;
		guint32 plen, len;

		if (pos == 0)
			bench_order_next(&order, flows, &rng);
		f = &flow[(order.a * pos + order.b) % flows];
		if (!f->hdr_len && !bench_flow_build(g, f, (guint32)(f - flow), opt->seed))
			break;
		plen = (guint32)(splitmix64(&rng) % (BENCH_MAX_PAYLOAD + 1));
		if (f->hdr_len == BENCH_TCP_HDRS) {
			len = bench_tcp(f, tcp_frame, plen);
			gen_emit_bytes(g, tcp_frame, len);
		} else {
			len = bench_udp(f, udp_frame, plen);
			gen_emit_bytes(g, udp_frame, len);
		}
	}
	g_free(flow);
	g_free(tcp_frame);
	g_free(udp_frame);
	return gen_ctx_finish(g, err);
}

/* ---- The table (STYLE.md habit 7) --------------------------------------------------------- */

/* Builders in other files (one file per family of lessons). */
gboolean gen_natgw_vs_s3_endpoint(const char *path, const struct gen_options *opt, GError **err); /* gen_lessons_vpc.c */
gboolean gen_guardduty_findings(const char *path, const struct gen_options *opt, GError **err); /* gen_lessons_findings.c */
gboolean gen_s3_endpoint_policy(const char *path, const struct gen_options *opt, GError **err);   /* gen_lessons_vpc.c */
gboolean gen_napt_home(const char *path, const struct gen_options *opt, GError **err);       /* gen_lessons_napt.c */
gboolean gen_napt_probes(const char *path, const struct gen_options *opt, GError **err);     /* gen_lessons_napt.c */
gboolean gen_napt_exhaustion(const char *path, const struct gen_options *opt, GError **err); /* gen_lessons_napt.c */
gboolean gen_napt_hairpin(const char *path, const struct gen_options *opt, GError **err);    /* gen_lessons_napt.c */
gboolean gen_traceroute(const char *path, const struct gen_options *opt, GError **err);      /* gen_lessons_napt.c */

static const struct gen_lesson lesson_table[] = {
	{ .name = "static-nat",
	  .summary = "office LAN behind one-to-one NAT: HTTP, DNS, ping, inbound SSH, ICMP errors, odd packets",
	  .build = gen_static_nat },
	{ .name = "natgw-vs-s3-endpoint",
	  .summary = "private subnet: S3 through a gateway endpoint (untranslated), the rest through a NAT gateway",
	  .build = gen_natgw_vs_s3_endpoint },
	{ .name = "guardduty-findings",
	  .summary = "a hijacked instance behind a NAT gateway: mining pool lookup and stratum, a port scan, SSH brute force",
	  .build = gen_guardduty_findings },
	{ .name = "s3-endpoint-policy",
	  .summary = "an S3 listing and a download over HTTP through a gateway endpoint, for its IAM policy",
	  .build = gen_s3_endpoint_policy },
	{ .name = "napt-home", .summary = "three PCs behind a home router: web, DNS, ping, traceroute, a port clash",
	  .build = gen_napt_home },
	{ .name = "napt-probes", .summary = "RFC 5780 probes to tell full cone, restricted, port-restricted, symmetric apart",
	  .build = gen_napt_probes },
	{ .name = "napt-exhaustion", .summary = "six PCs, four external ports: drops, ICMP 3/13, a port freed and reused",
	  .build = gen_napt_exhaustion },
	{ .name = "napt-hairpin", .summary = "two consoles on one LAN reach each other through the NAT's external address",
	  .build = gen_napt_hairpin },
	{ .name = "traceroute", .summary = "traceroute through a home router and a carrier NAT: each stage answers its hop",
	  .build = gen_traceroute },
	{ .name = "lb-spread", .summary = "20 clients through an NLB to five targets; one goes down at 5 s (maglev, modulo, rendezvous)",
	  .build = gen_lb_spread },
	{ .name = "lb-dns", .summary = "DNS over UDP behind an NLB: flows per 5-tuple, the 120 s UDP idle timeout",
	  .build = gen_lb_dns },
	{ .name = "lb-client-ip", .summary = "three clients through an NLB: the target sees their address, or the balancer's",
	  .build = gen_lb_client_ip },
	{ .name = "lb-target-log", .summary = "a whoami target behind an NLB with proxy protocol v2: the source it logs",
	  .build = gen_lb_target_log },
	{ .name = "alb-shop", .summary = "four clients through an ALB: host and path routing, pipelining, a POST, a redirect",
	  .build = gen_alb_shop },
	{ .name = "alb-smuggling", .summary = "request smuggling shapes (CL.TE, two Content-Lengths) for ALB's desync modes",
	  .build = gen_alb_smuggling },
	{ .name = "alb-blue-green", .summary = "eight keep-alive clients through an ALB: blue/green weights 90/10, a target down",
	  .build = gen_alb_blue_green },
	{ .name = "shield-attacks",
	  .summary = "a SYN flood, a DNS reflection and a bogon source against an NLB's VIP, and clients in between",
	  .build = gen_shield_attacks },
	{ .name = "bench-syn-flood", .summary = "shield benchmark load: --packets spoofed SYNs to one VIP (default 2000000)",
	  .build = gen_bench_syn_flood },
	{ .name = "bench-l7",
	  .summary = "L7 benchmark load: --packets requests over --flows keep-alive connections (default 500000, 20000)",
	  .build = gen_bench_l7 },
	{ .name = "bench",
	  .summary = "benchmark load: --packets over --flows interleaved TCP/UDP flows (default 2000000, 100000)",
	  .build = gen_bench },
};

const struct gen_lesson *gen_lessons(unsigned *n)
{
	*n = G_N_ELEMENTS(lesson_table);
	return lesson_table;
}

const struct gen_lesson *gen_lesson_find(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(lesson_table); i++)
		if (strcmp(lesson_table[i].name, name) == 0)
			return &lesson_table[i];
	return NULL;
}
