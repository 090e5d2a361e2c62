/* tools/gen.c: builds packets with libnet and writes them with libpcap for `natlb gen`.
 *
 * Follows: libnet 1.1 (LIBNET_NONE context, headers built inner first, bytes taken with
 * libnet_pblock_coalesce and freed with libnet_adv_free_packet), pcap-savefile(5) with nanosecond
 * timestamps, RFC 9293 section 3.4 for the sequence numbers of gen_tcp.
 *
 * Invariants: PATH is only ever created by renaming a complete PATH.partial; every failure
 * removes PATH.partial.  The first error is kept (sticky) and later calls do nothing.
 */

/* libnet-config --defines passes -D_BSD_SOURCE, which glibc deprecates with a #warning unless
 * _DEFAULT_SOURCE is also set; -Werror would make that fatal. */
#define _DEFAULT_SOURCE 1

#include "tools/gen.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libnet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(natlb-gen-error-quark, gen_error)

/* Large writes: the bench writes about a gigabyte, and stdio's default 4 KiB buffer would make
 * that one write(2) per few packets. */
#define GEN_IO_BUFFER (1u << 20)
#define GEN_SNAPLEN 262144
#define GEN_DEFAULT_STEP (3 * GEN_NSEC_PER_MSEC) /* "a few ms apart" */

struct gen_ctx {
	libnet_t *l;
	pcap_t *pcap; /* a dead handle: only holds the link type and snaplen for the dumper */
	pcap_dumper_t *dumper;
	FILE *file;
	char *iobuf;
	char *path;
	char *partial;
	gint64 now;  /* ns since GEN_START_SEC */
	gint64 step; /* ns added after each packet */
	GError *error;
};

/* A failed write (disk full, I/O error) is a file error, so callers can tell it from a libnet one. */
static void gen_fail_errno(struct gen_ctx *g, int e)
{
	if (!g->error)
		g_set_error(&g->error, G_FILE_ERROR, g_file_error_from_errno(e), "write failed: %s", g_strerror(e));
}

void gen_options_init(struct gen_options *opt)
{
	opt->packets = GEN_DEFAULT_PACKETS;
	opt->flows = GEN_DEFAULT_FLOWS;
	opt->seed = GEN_DEFAULT_SEED;
}

/* ---- Context: libnet + pcap dumper on PATH.partial --------------------------------------- */

static void gen_ctx_free(struct gen_ctx *g)
{
	if (g->dumper)
		pcap_dump_close(g->dumper); /* also closes g->file */
	else if (g->file)
		fclose(g->file);
	if (g->pcap)
		pcap_close(g->pcap);
	if (g->l)
		libnet_destroy(g->l);
	g_clear_error(&g->error);
	g_free(g->iobuf);
	g_free(g->partial);
	g_free(g->path);
	g_free(g);
}

struct gen_ctx *gen_ctx_open(const char *path, GError **err)
{
	char errbuf[LIBNET_ERRBUF_SIZE > PCAP_ERRBUF_SIZE ? LIBNET_ERRBUF_SIZE : PCAP_ERRBUF_SIZE];
	struct gen_ctx *g = g_new0(struct gen_ctx, 1);

	g->path = g_strdup(path);
	g->partial = g_strconcat(path, ".partial", NULL);
	g->step = GEN_DEFAULT_STEP;

	/* LIBNET_NONE: build packets only, open no device, need no privileges. */
	errbuf[0] = '\0';
	g->l = libnet_init(LIBNET_NONE, NULL, errbuf);
	if (!g->l) {
		g_set_error(err, GEN_ERROR, GEN_ERROR_LIBNET, "%s: libnet_init: %s", path, errbuf);
		gen_ctx_free(g);
		return NULL;
	}
	g->pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, GEN_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!g->pcap) {
		g_set_error(err, GEN_ERROR, GEN_ERROR_PCAP, "%s: pcap_open_dead failed", path);
		gen_ctx_free(g);
		return NULL;
	}
	g->file = g_fopen(g->partial, "wb");
	if (!g->file) {
		int e = errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot create %s: %s", path,
		            g->partial, g_strerror(e));
		gen_ctx_free(g);
		return NULL;
	}
	g->iobuf = g_malloc(GEN_IO_BUFFER);
	setvbuf(g->file, g->iobuf, _IOFBF, GEN_IO_BUFFER);
	/* pcap_dump_fopen rather than pcap_dump_open: we own the FILE, so we chose its buffer. */
	g->dumper = pcap_dump_fopen(g->pcap, g->file);
	if (!g->dumper) {
		g_set_error(err, GEN_ERROR, GEN_ERROR_PCAP, "%s: pcap_dump_fopen: %s", path, pcap_geterr(g->pcap));
		g_unlink(g->partial);
		gen_ctx_free(g);
		return NULL;
	}
	return g;
}

gboolean gen_ctx_finish(struct gen_ctx *g, GError **err)
{
	if (!g->error && (pcap_dump_flush(g->dumper) != 0 || ferror(g->file)))
		gen_fail_errno(g, errno);
	/* Closing flushes nothing more (flushed above), so a close error cannot lose data we
	 * reported as written; pcap_dump_close gives no status anyway. */
	pcap_dump_close(g->dumper);
	g->dumper = NULL;
	g->file = NULL;
	if (!g->error && g_rename(g->partial, g->path) != 0) {
		int e = errno;
		g_set_error(&g->error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot rename %s to %s: %s",
		            g->partial, g->path, g_strerror(e));
	}
	if (g->error) {
		g_unlink(g->partial);
		g_prefix_error(&g->error, "%s: ", g->path);
		g_propagate_error(err, g->error);
		g->error = NULL;
		gen_ctx_free(g);
		return FALSE;
	}
	gen_ctx_free(g);
	return TRUE;
}

struct libnet_context *gen_libnet(struct gen_ctx *g)
{
	return g->l;
}

gboolean gen_ok(const struct gen_ctx *g)
{
	return g->error == NULL;
}

void gen_fail(struct gen_ctx *g, const char *fmt, ...)
{
	va_list ap;

	if (g->error)
		return; /* keep the first: later errors are usually its consequences */
	va_start(ap, fmt);
	g->error = g_error_new_valist(GEN_ERROR, GEN_ERROR_LIBNET, fmt, ap);
	va_end(ap);
}

gboolean gen_check(struct gen_ctx *g, gint32 ptag, const char *what)
{
	if (ptag != -1)
		return TRUE;
	gen_fail(g, "libnet: %s: %s", what, libnet_geterror(g->l));
	return FALSE;
}

void gen_clock_set(struct gen_ctx *g, gint64 ns_since_start)
{
	g->now = ns_since_start;
}

void gen_clock_step(struct gen_ctx *g, gint64 ns)
{
	g->step = ns;
}

gint64 gen_clock_now(const struct gen_ctx *g)
{
	return g->now;
}

/* ---- Writing ----------------------------------------------------------------------------- */

/* Records one frame of which the first caplen bytes are kept, then advances the clock. */
static void gen_write(struct gen_ctx *g, const guint8 *frame, guint32 caplen, guint32 len)
{
	struct pcap_pkthdr h;

	if (g->error)
		return;
	/* The dumper was opened with nanosecond precision, so ts.tv_usec carries nanoseconds. */
	h.ts.tv_sec = GEN_START_SEC + g->now / GEN_NSEC_PER_SEC;
	h.ts.tv_usec = g->now % GEN_NSEC_PER_SEC;
	h.caplen = caplen;
	h.len = len;
	pcap_dump((u_char *)g->dumper, &h, frame);
	if (ferror(g->file))
		gen_fail_errno(g, errno);
	g->now += g->step;
}

void gen_emit_bytes(struct gen_ctx *g, const guint8 *frame, guint32 len)
{
	gen_write(g, frame, len, len);
}

void gen_emit_with(struct gen_ctx *g, const struct gen_emit_opts *o)
{
	uint8_t *pkt = NULL;
	uint32_t size = 0;

	if (!g->error && libnet_pblock_coalesce(g->l, &pkt, &size) == -1)
		gen_fail(g, "libnet: coalesce: %s", libnet_geterror(g->l));
	if (!g->error) {
		guint32 caplen = size;

		/* libnet computed every checksum; spoil one only after, as a NIC with checksum
		 * offload would leave it in a capture taken on the sending host. */
		if (o->corrupt_xor) {
			if (o->corrupt_at + 2 > size) {
				gen_fail(g, "checksum offset %u beyond a %u-byte packet", o->corrupt_at, size);
			} else {
				pkt[o->corrupt_at] ^= o->corrupt_xor >> 8;
				pkt[o->corrupt_at + 1] ^= o->corrupt_xor & 0xff;
			}
		}
		if (o->snaplen && o->snaplen < size)
			caplen = o->snaplen;
		gen_write(g, pkt, caplen, size);
	}
	if (pkt)
		libnet_adv_free_packet(g->l, pkt);
	/* Always start the next packet from nothing, even after an error. */
	libnet_clear_packet(g->l);
}

void gen_emit(struct gen_ctx *g)
{
	static const struct gen_emit_opts plain = { 0 };
	gen_emit_with(g, &plain);
}

gboolean gen_take(struct gen_ctx *g, guint8 *buf, gsize size, gsize *len)
{
	uint8_t *pkt = NULL;
	uint32_t n = 0;

	if (!g->error && libnet_pblock_coalesce(g->l, &pkt, &n) == -1)
		gen_fail(g, "libnet: coalesce: %s", libnet_geterror(g->l));
	if (!g->error && n > size)
		gen_fail(g, "a %u-byte packet does not fit a %zu-byte buffer", n, size);
	if (!g->error) {
		memcpy(buf, pkt, n);
		*len = n;
	}
	if (pkt)
		libnet_adv_free_packet(g->l, pkt);
	libnet_clear_packet(g->l);
	return g->error == NULL;
}

/* ---- Headers ------------------------------------------------------------------------------ */

guint32 gen_ip4(const char *dotted)
{
	struct in_addr a;
	int ok = inet_pton(AF_INET, dotted, &a);

	g_assert(ok == 1);
	return a.s_addr;
}

struct gen_end gen_end_at(const char *ip, guint16 port, const guint8 mac[6], guint8 ttl)
{
	struct gen_end e = { .port = port, .ttl = ttl };

	memcpy(e.mac, mac, sizeof e.mac);
	e.ip = gen_ip4(ip);
	return e;
}

struct gen_end gen_end_local(const char *ip, guint16 port, const guint8 mac_prefix[6])
{
	struct gen_end e = gen_end_at(ip, port, mac_prefix, 64);

	e.mac[5] = g_ntohl(e.ip) & 0xff;
	return e;
}

void gen_ethernet(struct gen_ctx *g, const guint8 *src_mac, const guint8 *dst_mac, guint16 ethertype)
{
	if (g->error)
		return;
	gen_check(g, libnet_build_ethernet(dst_mac, src_mac, ethertype, NULL, 0, g->l, 0), "ethernet");
}

void gen_ipv4(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, guint8 proto,
              guint32 l4_len, guint16 ip_id)
{
	if (g->error)
		return;
	if (!gen_check(g,
	               libnet_build_ipv4(LIBNET_IPV4_H + l4_len, 0, ip_id, IP_DF, src->ttl, proto, 0, src->ip, dst->ip,
	                                 NULL, 0, g->l, 0),
	               "ipv4"))
		return;
	gen_ethernet(g, src->mac, dst->mac, ETHERTYPE_IP);
}

void gen_udp(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, const void *data,
             guint32 len, guint16 ip_id)
{
	if (g->error)
		return;
	if (!gen_check(g, libnet_build_udp(src->port, dst->port, LIBNET_UDP_H + len, 0, data, data ? len : 0, g->l, 0), "udp"))
		return;
	gen_ipv4(g, src, dst, IPPROTO_UDP, LIBNET_UDP_H + len, ip_id);
}

void gen_dns_exchange(struct gen_ctx *g, const struct gen_end *client, const struct gen_end *server, guint16 id,
                      const guint8 *question, guint32 qlen, const guint8 *rr, guint32 rrlen,
                      guint16 query_ip_id, guint16 answer_ip_id)
{
	guint8 answer[512];

	if (g->error)
		return;
	if (qlen + rrlen > sizeof answer) {
		gen_fail(g, "dns answer longer than %zu bytes", sizeof answer);
		return;
	}
	memcpy(answer, question, qlen);
	memcpy(answer + qlen, rr, rrlen);
	gen_check(g, libnet_build_dnsv4(LIBNET_UDP_DNSV4_H, id, 0x0100, 1, 0, 0, 0, question, qlen, g->l, 0),
	          "dns query");
	gen_udp(g, client, server, NULL, LIBNET_UDP_DNSV4_H + qlen, query_ip_id);
	gen_emit(g);
	gen_check(g, libnet_build_dnsv4(LIBNET_UDP_DNSV4_H, id, 0x8180, 1, 1, 0, 0, answer, qlen + rrlen, g->l, 0),
	          "dns answer");
	gen_udp(g, server, client, NULL, LIBNET_UDP_DNSV4_H + qlen + rrlen, answer_ip_id);
	gen_emit(g);
}

void gen_icmp_echo(struct gen_ctx *g, const struct gen_end *src, const struct gen_end *dst, guint8 type,
                   guint16 id, guint16 seq, const void *data, guint32 len, guint16 ip_id)
{
	if (g->error)
		return;
	if (!gen_check(g, libnet_build_icmpv4_echo(type, 0, 0, id, seq, data, len, g->l, 0), "icmpv4 echo"))
		return;
	gen_ipv4(g, src, dst, IPPROTO_ICMP, LIBNET_ICMPV4_ECHO_H + len, ip_id);
}

/* ---- TCP connections (RFC 9293 section 3.4) ------------------------------------------------ */

void gen_tcp_init(struct gen_tcp *t, const struct gen_end *client, const struct gen_end *server,
                  guint32 client_isn, guint32 server_isn)
{
	t->client = *client;
	t->server = *server;
	t->client_next = client_isn;
	t->server_next = server_isn;
	/* Any start will do; distinct ones make each side's packets easy to tell apart. */
	t->client_ip_id = (guint16)(client_isn >> 16);
	t->server_ip_id = (guint16)(server_isn >> 16);
}

void gen_tcp_build(struct gen_ctx *g, struct gen_tcp *t, enum gen_tcp_dir dir, guint8 flags,
                   const void *data, guint32 len)
{
	/* What a Linux SYN offers, less timestamps (they would need a clock in every segment):
	 * MSS 1460, NOP, window scale 7, NOP, NOP, SACK permitted.  12 bytes, a multiple of 4. */
	static const guint8 syn_options[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };
	gboolean from_client = dir == GEN_FROM_CLIENT;
	const struct gen_end *src = from_client ? &t->client : &t->server;
	const struct gen_end *dst = from_client ? &t->server : &t->client;
	guint32 *seq = from_client ? &t->client_next : &t->server_next;
	guint32 ack = (flags & TH_ACK) ? (from_client ? t->server_next : t->client_next) : 0;
	guint16 *ip_id = from_client ? &t->client_ip_id : &t->server_ip_id;
	guint32 opt_len = (flags & TH_SYN) ? sizeof syn_options : 0;
	/* Windows: the SYN's is unscaled; later ones are in units of 2^7 (the scale offered). */
	guint16 win = (flags & TH_SYN) ? 64240 : 502;

	if (g->error)
		return;
	if (opt_len && !gen_check(g, libnet_build_tcp_options(syn_options, opt_len, g->l, 0), "tcp options"))
		return;
	if (!gen_check(g,
	               libnet_build_tcp(src->port, dst->port, *seq, ack, flags, win, 0, 0, LIBNET_TCP_H + opt_len + len,
	                                data, len, g->l, 0),
	               "tcp"))
		return;
	gen_ipv4(g, src, dst, IPPROTO_TCP, LIBNET_TCP_H + opt_len + len, (*ip_id)++);
	/* SYN and FIN each take one sequence number, data its length. */
	*seq += len + ((flags & TH_SYN) ? 1 : 0) + ((flags & TH_FIN) ? 1 : 0);
}

void gen_tcp_send(struct gen_ctx *g, struct gen_tcp *t, enum gen_tcp_dir dir, guint8 flags,
                  const void *data, guint32 len)
{
	gen_tcp_build(g, t, dir, flags, data, len);
	gen_emit(g);
}

/* ---- natlb gen ---------------------------------------------------------------------------- */

/* One line on stderr, as DESIGN.md asks of every error. */
static int gen_usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static int gen_usage_error(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_printerr("natlb gen: %s\n", msg);
	g_free(msg);
	return 2;
}

/* Scenarios whose capture has another name (each scenario's header says so too); a scenario named
 * like its capture needs no row.  tests/test_gen.c checks that every bundled scenario finds one. */
static const struct {
	const char *scenario, *capture;
} scenario_captures[] = {
	{ "lb-client-ip-preserved", "lb-client-ip" }, { "lb-client-ip-replaced", "lb-client-ip" },
	{ "lb-maglev", "lb-spread" },                 { "lb-modulo", "lb-spread" },
	{ "lb-rendezvous", "lb-spread" },             { "lb-proxy-protocol", "lb-target-log" },
	{ "napt-full-cone", "napt-probes" },          { "napt-restricted-cone", "napt-probes" },
	{ "napt-port-restricted-cone", "napt-probes" }, { "napt-symmetric", "napt-probes" },
};

const struct gen_lesson *gen_lesson_for_scenario(const char *scenario)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(scenario_captures); i++)
		if (strcmp(scenario_captures[i].scenario, scenario) == 0)
			return gen_lesson_find(scenario_captures[i].capture);
	return gen_lesson_find(scenario);
}

static char *gen_lesson_names(void)
{
	unsigned n;
	const struct gen_lesson *all = gen_lessons(&n);
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "", all[i].name);
	return g_string_free(s, FALSE);
}

static char *gen_lesson_help(void)
{
	unsigned n;
	const struct gen_lesson *all = gen_lessons(&n);
	GString *s = g_string_new("Lessons:\n");
	int width = 0;

	for (unsigned i = 0; i < n; i++)
		width = MAX(width, (int)strlen(all[i].name));
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, "  %-*s  %s\n", width, all[i].name, all[i].summary);
	return g_string_free(s, FALSE);
}

/* Strict decimal: GOption's own integers accept negatives and wrap nothing we could check. */
static gboolean gen_parse_count(const char *opt, const char *text, guint64 max, guint64 *out, char **why)
{
	GError *e = NULL;

	if (!text)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, 1, max, out, &e)) {
		*why = g_strdup_printf("%s: %s", opt, e->message);
		g_error_free(e);
		return FALSE;
	}
	return TRUE;
}

int gen_main(int argc, char **argv)
{
	char *output = NULL, *packets = NULL, *flows = NULL, *seed = NULL;
	gboolean list = FALSE;
	GOptionEntry entries[] = {
		{ "list", 0, 0, G_OPTION_ARG_NONE, &list, "Print the lesson names, one per line, and exit", NULL },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the capture to FILE (pcap, ns timestamps)",
		  "FILE" },
		{ "packets", 0, 0, G_OPTION_ARG_STRING, &packets, "bench: packets to write (default 2000000)", "N" },
		{ "flows", 0, 0, G_OPTION_ARG_STRING, &flows, "bench: distinct flows (default 100000)", "N" },
		{ "seed", 0, 0, G_OPTION_ARG_STRING, &seed, "bench: PRNG seed for sizes and order (default 1)", "N" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *octx = g_option_context_new("LESSON");
	char **args = g_new0(char *, argc + 1);
	char *help = gen_lesson_help();
	char *why = NULL;
	GError *err = NULL;
	struct gen_options opt;
	const struct gen_lesson *lesson = NULL;
	guint64 flows64 = GEN_DEFAULT_FLOWS;
	int status = 0;

	/* Parse a copy: GOption removes what it consumed, and the caller's argv stays intact. */
	for (int i = 0; i < argc; i++)
		args[i] = g_strdup(argv[i]);
	g_option_context_set_summary(octx, "Write a lesson capture built with libnet: natlb gen LESSON -o FILE\n"
	                             "LESSON is a capture below, or a scenario of natlb scenarios (its capture).");
	g_option_context_set_description(octx, help);
	g_option_context_add_main_entries(octx, entries, NULL);
	gen_options_init(&opt);

	if (!g_option_context_parse_strv(octx, &args, &err)) {
		status = gen_usage_error("%s", err->message);
		goto out;
	}
	if (list) {
		unsigned n;
		const struct gen_lesson *all = gen_lessons(&n);
		for (unsigned i = 0; i < n; i++)
			printf("%s\n", all[i].name);
		goto out;
	}
	if (!args[0] || !args[1] || !args[1][0]) {
		char *names = gen_lesson_names();
		status = gen_usage_error("missing LESSON (lessons: %s)", names);
		g_free(names);
		goto out;
	}
	lesson = gen_lesson_find(args[1]);
	if (!lesson && (lesson = gen_lesson_for_scenario(args[1])))
		/* gen is named after captures, natlb scenarios after scenarios: take both, and say which */
		g_printerr("natlb gen: scenario %s replays the %s capture; writing that\n", args[1], lesson->name);
	if (!lesson) {
		char *names = gen_lesson_names();
		status = gen_usage_error("unknown lesson \"%s\" (lessons: %s; or a scenario of natlb scenarios)",
		                         args[1], names);
		g_free(names);
		goto out;
	}
	if (args[2]) {
		status = gen_usage_error("unexpected argument \"%s\" after the lesson", args[2]);
		goto out;
	}
	if (!output) {
		status = gen_usage_error("missing -o FILE");
		goto out;
	}
	if (!gen_parse_count("--packets", packets, G_MAXUINT64, &opt.packets, &why) ||
	    !gen_parse_count("--flows", flows, G_MAXUINT32, &flows64, &why)) {
		status = gen_usage_error("%s", why);
		goto out;
	}
	opt.flows = (guint32)flows64;
	/* The seed may be 0: any value is a seed. */
	if (seed && !g_ascii_string_to_unsigned(seed, 10, 0, G_MAXUINT64, &opt.seed, &err)) {
		status = gen_usage_error("--seed: %s", err->message);
		goto out;
	}

	if (!lesson->build(output, &opt, &err)) {
		/* An option the lesson cannot use is bad usage; anything else failed at run time. */
		status = g_error_matches(err, GEN_ERROR, GEN_ERROR_OPTION) ? 2 : 1;
		g_printerr("natlb gen: %s\n", err->message);
	}
out:
	g_clear_error(&err);
	g_free(why);
	g_free(help);
	g_strfreev(args);
	g_option_context_free(octx);
	g_free(output);
	g_free(packets);
	g_free(flows);
	g_free(seed);
	return status;
}
