/* tools/gen_lessons_findings.c: the capture of the lesson "GuardDuty findings behind a NAT gateway" (natlb gen guardduty-findings).
 *
 * Follows: the Amazon GuardDuty User Guide, "GuardDuty EC2 finding types" (what Recon:EC2/Portscan,
 * UnauthorizedAccess:EC2/SSHBruteForce and CryptoCurrency:EC2/BitcoinTool.B and .B!DNS describe);
 * RFC 1035 (DNS), RFC 9293 (TCP: a SYN to a closed port is answered RST-ACK, section 3.10.7.1),
 * RFC 4253 section 4.2 (the SSH identification string a server sends first) and the Stratum
 * mining protocol's JSON-RPC "login" request (one line of JSON, as XMRig sends it).
 *
 * Captured on the private subnet (scenario scenarios/guardduty-findings.ini: chain
 * app > vpc-rt > vpc > natgw > internet, capture app): the instance 10.0.1.10 has been taken
 * over.  It looks up a mining pool's name and mines on its stratum port 3333, scans 25 ports of
 * one host, and tries 25 SSH logins on another; everything leaves through the NAT gateway, so the
 * internet sees only its Elastic IP 203.0.113.25, and only the flow log of the subnet's side (and
 * the NAT gateway's pkt-srcaddr) names the instance.
 *
 * Invariant: the output depends on nothing but this file (gen.c's capture clock, fixed ISNs).
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen.h"

#include <libnet.h>
#include <string.h>

#define SCAN_PORTS 25   /* above the default --portscan-ports 20 */
#define SSH_ATTEMPTS 25 /* above the default --bruteforce-connections 20 */

static const guint8 vpc_router_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x01 };

static struct gen_end instance(guint16 port)
{
	static const guint8 instance_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x0a };
	return gen_end_at("10.0.1.10", port, instance_mac, 64);
}

static struct gen_end far_end(const char *ip, guint16 port, guint8 ttl)
{
	return gen_end_at(ip, port, vpc_router_mac, ttl);
}

/* 1. The miner resolves its pool at the VPC resolver: what BitcoinTool.B!DNS is raised on
 * (natlb findings --dns reads the question from the capture). */
static void lesson_pool_lookup(struct gen_ctx *g)
{
	/* RFC 1035 4.1.2: pool.supportxmr.com, type A, class IN. */
	static const guint8 question[] = { 4, 'p', 'o', 'o', 'l', 10, 's', 'u', 'p', 'p', 'o', 'r', 't', 'x', 'm', 'r',
		                           3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01 };
	/* A pointer to the name, type A, class IN, TTL 60, RDLENGTH 4, 198.51.100.66 (a documentation address). */
	static const guint8 answer_rr[] = { 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c,
		                            0x00, 0x04, 198, 51, 100, 66 };
	struct gen_end client = instance(42000), resolver = far_end("10.0.0.2", 53, 64);

	gen_clock_set(g, 0);
	gen_dns_exchange(g, &client, &resolver, 0x6d01, question, sizeof question, answer_rr, sizeof answer_rr, 0x4101,
	                 0x7c01);
}

/* 2. The miner logs in to the pool's stratum port and gets its first job: BitcoinTool.B. */
static void lesson_mining(struct gen_ctx *g)
{
	static const char login[] = "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":\"lesson-wallet\","
	                            "\"pass\":\"x\",\"agent\":\"natlb-lesson/1.0\"}}\n";
	static const char job[] = "{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"lesson\",\"job\":"
	                          "{\"blob\":\"0707\",\"job_id\":\"1\",\"target\":\"b88d0600\"},\"status\":\"OK\"}}\n";
	struct gen_end miner = instance(42001), pool = far_end("198.51.100.66", 3333, 50);
	struct gen_tcp t;

	gen_clock_set(g, 1 * GEN_NSEC_PER_SEC);
	gen_tcp_init(&t, &miner, &pool, 0x4d1e0001, 0x9001);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, login, strlen(login));
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, job, strlen(job));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* 3. A SYN scan of ports 1-25 of 203.0.113.50: closed ports answer RST-ACK, the open SSH and
 * SMTP ports SYN-ACK, which the scanner resets.  Portscan: many ports of one host. */
static void lesson_portscan(struct gen_ctx *g)
{
	gen_clock_set(g, 2 * GEN_NSEC_PER_SEC);
	for (guint16 port = 1; port <= SCAN_PORTS; port++) {
		struct gen_end scanner = instance(45000), target = far_end("203.0.113.50", port, 48);
		struct gen_tcp t;
		gen_tcp_init(&t, &scanner, &target, 0x5ca00000u + port, 0x7a000000u + port);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
		if (port == 22 || port == 25) {
			gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
			gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_RST, NULL, 0);
		} else {
			gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_RST | TH_ACK, NULL, 0);
		}
	}
}

/* 4. 25 SSH connections to 198.51.100.22 from new source ports, each closed after the server's
 * identification: a password guesser's rhythm.  SSHBruteForce, with the instance as the actor. */
static void lesson_ssh_brute_force(struct gen_ctx *g)
{
	static const char banner[] = "SSH-2.0-OpenSSH_9.6\r\n";
	static const char ident[] = "SSH-2.0-libssh_0.10.6\r\n";

	gen_clock_set(g, 5 * GEN_NSEC_PER_SEC);
	for (guint16 i = 0; i < SSH_ATTEMPTS; i++) {
		struct gen_end guesser = instance((guint16)(50000 + i)), server = far_end("198.51.100.22", 22, 52);
		struct gen_tcp t;
		gen_clock_set(g, 5 * GEN_NSEC_PER_SEC + (gint64)i * 200 * GEN_NSEC_PER_MSEC);
		gen_tcp_init(&t, &guesser, &server, 0x55480000u + i, 0x22000000u + i);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, banner, strlen(banner));
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, ident, strlen(ident));
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
		gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_ACK, NULL, 0);
	}
}

gboolean gen_guardduty_findings(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);

	if (!g)
		return FALSE;
	lesson_pool_lookup(g);
	lesson_mining(g);
	lesson_portscan(g);
	lesson_ssh_brute_force(g);
	return gen_ctx_finish(g, err);
}
