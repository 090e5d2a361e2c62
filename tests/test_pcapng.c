/* tests/test_pcapng.c: the pcapng writer and the output sink, read back by libpcap and by tshark.
 *
 * Follows draft-ietf-opsawg-pcapng sections 3.1, 3.5, 4.1-4.3 (block layout checked byte by
 * byte) and DESIGN.md step 5 (libpcap and tshark must read our files without a warning).
 */
#include "common/output.h"
#include "common/pcapng_writer.h"
#include "tests/testutil.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- sample packets, exact-size so ASan sees an over-read ---- */

/* IPv4/UDP 192.168.1.10:1234 -> 203.0.113.7:53, 28 bytes. */
#define IPV4_UDP                                                                          \
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, \
	0x01, 0x0a, 0xcb, 0x00, 0x71, 0x07, 0x04, 0xd2, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00

static const uint8_t pkt_ether[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	IPV4_UDP,
};
static const uint8_t pkt_raw[] = { IPV4_UDP };
static const uint8_t pkt_sll[] = {
	0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x08, 0x00, IPV4_UDP,
};
/* Odd length (5), so the data needs 3 bytes of padding. */
static const uint8_t pkt_odd[] = { 0xde, 0xad, 0xbe, 0xef, 0x01 };

#define TS0 INT64_C(1700000000123456789) /* 2023-11-14, with every nanosecond digit set */

/* One Enhanced Packet Block to write. */
struct pkt_row {
	int iface;
	int64_t ts_ns;
	const uint8_t *data;
	uint32_t caplen, wirelen;
	enum pcapng_direction dir;
	const char *comments[2];
	unsigned n_comments;
};

/* ---- helpers ---- */

static char *path_in(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static unsigned dir_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	unsigned n = 0;
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static void write_rows(struct pcapng_writer *w, const struct pkt_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		GError *err = NULL;
		gboolean ok = pcapng_writer_packet(w, rows[i].iface, rows[i].ts_ns, rows[i].data,
		                                   rows[i].caplen, rows[i].wirelen, rows[i].dir, 0,
		                                   rows[i].comments, rows[i].n_comments, &err);
		g_assert_no_error(err);
		g_assert_true(ok);
	}
}


/* tshark -r FILE with the given -e fields, tab separated, '|' between repeated fields.
   Asserts tshark succeeded and warned about nothing; returns the lines (g_strfreev). */
static char **tshark_fields(const char *file, const char *const *fields)
{
	GPtrArray *argv = g_ptr_array_new();
	const char *head[] = { "tshark", "-r", file, "-T", "fields", "-E", "separator=/t",
	                       "-E", "aggregator=|" };
	for (size_t i = 0; i < G_N_ELEMENTS(head); i++)
		g_ptr_array_add(argv, (gpointer)head[i]);
	for (const char *const *f = fields; *f; f++) {
		g_ptr_array_add(argv, (gpointer) "-e");
		g_ptr_array_add(argv, (gpointer)*f);
	}
	g_ptr_array_add(argv, NULL);
	char *out = NULL, *errtext = NULL;
	int rc = test_run((const char *const *)argv->pdata, &out, &errtext);
	g_ptr_array_free(argv, TRUE);
	char *warnings = test_tshark_warnings(errtext);
	g_assert_cmpstr(warnings, ==, "");
	g_assert_cmpint(rc, ==, 0);
	g_free(warnings);
	g_free(errtext);
	size_t len = strlen(out);
	if (len > 0 && out[len - 1] == '\n')
		out[len - 1] = '\0'; /* only the newline: an empty last field ends in a tab */
	char **lines = g_strsplit(out, "\n", -1);
	g_free(out);
	return lines;
}

/* The three link types of the mixed file, and its packets: 0, 1 and 2 comments, each
   direction, and one view cut short (caplen < wirelen). */
static const struct {
	int linktype;
	const char *name, *description;
} mixed_ifaces[] = {
	{ DLT_EN10MB, "lan", "home LAN" },
	{ DLT_RAW, "internet", "the public internet" },
	{ DLT_LINUX_SLL, "vpc", NULL },
};

static const struct pkt_row mixed_rows[] = {
	{ .iface = 0, .ts_ns = TS0, .data = pkt_ether, .caplen = sizeof pkt_ether,
	  .wirelen = sizeof pkt_ether, .dir = PCAPNG_DIR_OUTBOUND },
	{ .iface = 1, .ts_ns = TS0 + 1000, .data = pkt_raw, .caplen = sizeof pkt_raw,
	  .wirelen = sizeof pkt_raw, .dir = PCAPNG_DIR_INBOUND,
	  .comments = { "napt home: SNAT 192.168.1.10:1234 -> 203.0.113.7:1234" }, .n_comments = 1 },
	{ .iface = 2, .ts_ns = TS0 + 2001, .data = pkt_sll, .caplen = sizeof pkt_sll,
	  .wirelen = sizeof pkt_sll, .dir = PCAPNG_DIR_UNKNOWN,
	  .comments = { "first, with a comma", "second: ünïcödé ✓" }, .n_comments = 2 },
	{ .iface = 0, .ts_ns = TS0 + 999999999, .data = pkt_ether, .caplen = 20, .wirelen = 1500,
	  .dir = PCAPNG_DIR_OUTBOUND, .comments = { "cut short" }, .n_comments = 1 },
};

static char *write_mixed_file(const char *dir)
{
	char *file = path_in(dir, "mixed.pcapng");
	GError *err = NULL;
	struct pcapng_writer *w = pcapng_writer_open(file, "lesson: mixed links", "natlb test", &err);
	g_assert_no_error(err);
	for (size_t i = 0; i < G_N_ELEMENTS(mixed_ifaces); i++) {
		int id = pcapng_writer_add_interface(w, mixed_ifaces[i].linktype, mixed_ifaces[i].name,
		                                     mixed_ifaces[i].description, &err);
		g_assert_no_error(err);
		g_assert_cmpint(id, ==, (int)i);
	}
	write_rows(w, mixed_rows, G_N_ELEMENTS(mixed_rows));
	g_assert_true(pcapng_writer_close(w, &err));
	g_assert_no_error(err);
	return file;
}

/* ---- block layout, checked byte by byte (draft sections 3.1, 3.5) ---- */

struct block {
	uint32_t type;
	const uint8_t *body; /* after type and length */
	size_t body_len;     /* without the trailing length */
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* Split a file into blocks, checking the framing every block must have. */
static GArray *split_blocks(const uint8_t *buf, size_t len)
{
	GArray *blocks = g_array_new(FALSE, FALSE, sizeof(struct block));
	size_t pos = 0;
	while (pos < len) {
		g_assert_cmpuint(len - pos, >=, 12);
		uint32_t total = rd32(buf + pos + 4);
		g_assert_cmpuint(total % 4, ==, 0);
		g_assert_cmpuint(total, >=, 12);
		g_assert_cmpuint(total, <=, len - pos);
		g_assert_cmpuint(rd32(buf + pos + total - 4), ==, total);
		struct block b = { rd32(buf + pos), buf + pos + 8, total - 12 };
		g_array_append_val(blocks, b);
		pos += total;
	}
	return blocks;
}

struct option {
	uint16_t code;
	uint16_t len;
	const uint8_t *value;
};

/* Options from offset `at` of a block body: each padded with zeros, the list ends with
   opt_endofopt exactly at the end of the body. */
static GArray *split_options(const struct block *b, size_t at)
{
	GArray *opts = g_array_new(FALSE, FALSE, sizeof(struct option));
	size_t pos = at;
	if (pos == b->body_len)
		return opts; /* no options at all: no opt_endofopt either */
	for (;;) {
		g_assert_cmpuint(b->body_len - pos, >=, 4);
		struct option o = { rd16(b->body + pos), rd16(b->body + pos + 2), b->body + pos + 4 };
		pos += 4;
		if (o.code == 0) {
			g_assert_cmpuint(o.len, ==, 0);
			break;
		}
		size_t padded = (o.len + 3u) & ~3u;
		g_assert_cmpuint(b->body_len - pos, >=, padded);
		for (size_t i = o.len; i < padded; i++)
			g_assert_cmpuint(b->body[pos + i], ==, 0);
		pos += padded;
		g_array_append_val(opts, o);
	}
	g_assert_cmpuint(pos, ==, b->body_len);
	return opts;
}

static struct option opt_at(GArray *opts, guint i)
{
	g_assert_cmpuint(i, <, opts->len);
	return g_array_index(opts, struct option, i);
}

/* A writer on a memory stream, so the test sees the exact bytes. */
struct mem_writer {
	char *buf;
	size_t len;
	FILE *f;
	struct pcapng_writer *w;
};

static void mem_writer_open(struct mem_writer *m, const char *shb_comment, const char *userappl)
{
	GError *err = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	g_assert_nonnull(m->f);
	m->w = pcapng_writer_open_stream(m->f, "memory", shb_comment, userappl, &err);
	g_assert_no_error(err);
}

static GArray *mem_writer_close(struct mem_writer *m)
{
	GError *err = NULL;
	g_assert_true(pcapng_writer_close(m->w, &err));
	g_assert_no_error(err);
	return split_blocks((const uint8_t *)m->buf, m->len);
}

static void test_layout_blocks(void)
{
	struct mem_writer m;
	mem_writer_open(&m, "abc", "natlb");
	GError *err = NULL;
	g_assert_cmpint(pcapng_writer_add_interface(m.w, DLT_RAW, "lan", NULL, &err), ==, 0);
	const char *comments[] = { "hello" };
	g_assert_true(pcapng_writer_packet(m.w, 0, TS0, pkt_odd, sizeof pkt_odd, 60,
	                                   PCAPNG_DIR_INBOUND, 0x0102030405060708u, comments, 1, &err));
	g_assert_true(pcapng_writer_packet(m.w, 0, TS0, pkt_odd, 4, 4, PCAPNG_DIR_UNKNOWN, 0, NULL, 0,
	                                   &err));
	g_assert_no_error(err);
	GArray *blocks = mem_writer_close(&m);
	g_assert_cmpuint(blocks->len, ==, 4);

	/* SHB: magic, version 1.0, section length -1, comment then user application. */
	struct block *shb = &g_array_index(blocks, struct block, 0);
	g_assert_cmphex(shb->type, ==, 0x0A0D0D0A);
	g_assert_cmphex(rd32(shb->body), ==, 0x1A2B3C4D);
	g_assert_cmpuint(rd16(shb->body + 4), ==, 1);
	g_assert_cmpuint(rd16(shb->body + 6), ==, 0);
	int64_t section_length;
	memcpy(&section_length, shb->body + 8, sizeof section_length);
	g_assert_cmpint(section_length, ==, -1);
	GArray *opts = split_options(shb, 16);
	g_assert_cmpuint(opts->len, ==, 2);
	g_assert_cmpuint(opt_at(opts, 0).code, ==, 1);
	g_assert_cmpmem(opt_at(opts, 0).value, opt_at(opts, 0).len, "abc", 3);
	g_assert_cmpuint(opt_at(opts, 1).code, ==, 4);
	g_assert_cmpmem(opt_at(opts, 1).value, opt_at(opts, 1).len, "natlb", 5);
	g_array_free(opts, TRUE);

	/* IDB: link type, snaplen, if_name, no if_description, if_tsresol = 9. */
	struct block *idb = &g_array_index(blocks, struct block, 1);
	g_assert_cmphex(idb->type, ==, 1);
	g_assert_cmpuint(rd16(idb->body), ==, DLT_RAW);
	g_assert_cmpuint(rd16(idb->body + 2), ==, 0);
	g_assert_cmpuint(rd32(idb->body + 4), ==, PCAPNG_SNAPLEN);
	opts = split_options(idb, 8);
	g_assert_cmpuint(opts->len, ==, 2);
	g_assert_cmpuint(opt_at(opts, 0).code, ==, 2);
	g_assert_cmpmem(opt_at(opts, 0).value, opt_at(opts, 0).len, "lan", 3);
	g_assert_cmpuint(opt_at(opts, 1).code, ==, 9);
	g_assert_cmpuint(opt_at(opts, 1).len, ==, 1);
	g_assert_cmpuint(opt_at(opts, 1).value[0], ==, 9);
	g_array_free(opts, TRUE);

	/* EPB: interface, timestamp high then low, lengths, data padded with zeros, options. */
	struct block *epb = &g_array_index(blocks, struct block, 2);
	g_assert_cmphex(epb->type, ==, 6);
	g_assert_cmpuint(rd32(epb->body), ==, 0);
	uint64_t ts = ((uint64_t)rd32(epb->body + 4) << 32) | rd32(epb->body + 8);
	g_assert_cmpuint(ts, ==, (uint64_t)TS0);
	g_assert_cmpuint(rd32(epb->body + 12), ==, sizeof pkt_odd);
	g_assert_cmpuint(rd32(epb->body + 16), ==, 60);
	g_assert_cmpmem(epb->body + 20, sizeof pkt_odd, pkt_odd, sizeof pkt_odd);
	for (size_t i = 20 + sizeof pkt_odd; i < 28; i++)
		g_assert_cmpuint(epb->body[i], ==, 0);
	opts = split_options(epb, 28);
	g_assert_cmpuint(opts->len, ==, 3);
	g_assert_cmpuint(opt_at(opts, 0).code, ==, 1);
	g_assert_cmpmem(opt_at(opts, 0).value, opt_at(opts, 0).len, "hello", 5);
	g_assert_cmpuint(opt_at(opts, 1).code, ==, 2);
	g_assert_cmpuint(opt_at(opts, 1).len, ==, 4);
	g_assert_cmpuint(rd32(opt_at(opts, 1).value), ==, PCAPNG_DIR_INBOUND);
	g_assert_cmpuint(opt_at(opts, 2).code, ==, 5); /* epb_packetid, 8 bytes in the section's order */
	g_assert_cmpuint(opt_at(opts, 2).len, ==, 8);
	uint64_t id;
	memcpy(&id, opt_at(opts, 2).value, sizeof id);
	g_assert_cmphex(id, ==, 0x0102030405060708u);
	g_array_free(opts, TRUE);

	/* No comment, no direction and no packet id: no options, so no opt_endofopt either. */
	struct block *bare = &g_array_index(blocks, struct block, 3);
	g_assert_cmpuint(bare->body_len, ==, 20 + 4);
	g_array_free(blocks, TRUE);
	free(m.buf);
}

/* ---- comments cut at 65535 bytes, never inside a UTF-8 character ---- */

struct comment_case {
	const char *name;
	size_t ascii;       /* this many 'a' first */
	const char *tail;   /* then this */
	size_t want_len;    /* option length written */
	bool joined;        /* written in two parts by pcapng_writer_packet_joined() */
};

static const struct comment_case comment_cases[] = {
	{ .name = "short", .ascii = 5, .tail = "", .want_len = 5 },
	{ .name = "exactly-65535", .ascii = 65535, .tail = "", .want_len = 65535 },
	{ .name = "ascii-65536-cut-to-65535", .ascii = 65536, .tail = "", .want_len = 65535 },
	{ .name = "2-byte-char-across-the-cut", .ascii = 65534, .tail = "é", .want_len = 65534 },
	{ .name = "3-byte-char-across-the-cut", .ascii = 65533, .tail = "€", .want_len = 65533 },
	{ .name = "3-byte-char-ending-at-the-cut", .ascii = 65532, .tail = "€b", .want_len = 65535 },
	{ .name = "4-byte-char-across-the-cut", .ascii = 65532, .tail = "😀", .want_len = 65532 },
	{ .name = "joined/short", .ascii = 5, .tail = "", .want_len = 5, .joined = true },
	{ .name = "joined/exactly-65535", .ascii = 65535, .tail = "", .want_len = 65535, .joined = true },
	{ .name = "joined/ascii-65536-cut-to-65535", .ascii = 65536, .tail = "", .want_len = 65535, .joined = true },
	{ .name = "joined/2-byte-char-across-the-cut", .ascii = 65534, .tail = "é", .want_len = 65534, .joined = true },
	{ .name = "joined/3-byte-char-across-the-cut", .ascii = 65533, .tail = "€", .want_len = 65533, .joined = true },
	{ .name = "joined/3-byte-char-ending-at-the-cut", .ascii = 65532, .tail = "€b", .want_len = 65535, .joined = true },
	{ .name = "joined/4-byte-char-across-the-cut", .ascii = 65532, .tail = "😀", .want_len = 65532, .joined = true },
};

static void test_comment_truncation(gconstpointer data)
{
	const struct comment_case *c = data;
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < c->ascii; i++)
		g_string_append_c(s, 'a');
	g_string_append(s, c->tail);
	const char *comments[] = { s->str };
	/* the same text as two parts joined by "", cut where the one comment is */
	char *head = g_strndup(s->str, s->len / 2);
	const char *parts[] = { head, "", NULL, s->str + s->len / 2 };

	struct mem_writer m;
	mem_writer_open(&m, NULL, NULL);
	GError *err = NULL;
	pcapng_writer_add_interface(m.w, DLT_RAW, NULL, NULL, &err);
	if (c->joined)
		g_assert_true(pcapng_writer_packet_joined(m.w, 0, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
		                                          PCAPNG_DIR_UNKNOWN, 0, parts, 4, "", &err));
	else
		g_assert_true(pcapng_writer_packet(m.w, 0, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
		                                   PCAPNG_DIR_UNKNOWN, 0, comments, 1, &err));
	g_assert_no_error(err);
	g_free(head);
	GArray *blocks = mem_writer_close(&m);
	g_assert_cmpuint(blocks->len, ==, 3);
	GArray *opts = split_options(&g_array_index(blocks, struct block, 2), 20 + sizeof pkt_raw);
	struct option o = opt_at(opts, 0);
	g_assert_cmpuint(o.code, ==, 1);
	g_assert_cmpuint(o.len, ==, c->want_len);
	g_assert_cmpmem(o.value, o.len, s->str, c->want_len);
	g_assert_true(g_utf8_validate((const char *)o.value, o.len, NULL));
	g_array_free(opts, TRUE);
	g_array_free(blocks, TRUE);
	free(m.buf);
	g_string_free(s, TRUE);
}

/* ---- libpcap reads a single-link-type file back (it rejects mixed link types) ---- */

static void test_libpcap_reads_back(void)
{
	static const struct pkt_row rows[] = {
		{ .iface = 0, .ts_ns = TS0, .data = pkt_ether, .caplen = sizeof pkt_ether,
		  .wirelen = sizeof pkt_ether, .dir = PCAPNG_DIR_OUTBOUND },
		{ .iface = 1, .ts_ns = TS0 + 1, .data = pkt_ether, .caplen = sizeof pkt_ether,
		  .wirelen = sizeof pkt_ether, .dir = PCAPNG_DIR_INBOUND, .comments = { "one" },
		  .n_comments = 1 },
		{ .iface = 2, .ts_ns = TS0 + 1000000000, .data = pkt_ether, .caplen = sizeof pkt_ether,
		  .wirelen = sizeof pkt_ether, .comments = { "one", "two" }, .n_comments = 2 },
		{ .iface = 0, .ts_ns = 0, .data = pkt_ether, .caplen = 21, .wirelen = 9000 },
	};
	char *dir = test_tmpdir();
	char *file = path_in(dir, "ether.pcapng");
	GError *err = NULL;
	struct pcapng_writer *w = pcapng_writer_open(file, NULL, "natlb test", &err);
	g_assert_no_error(err);
	const char *names[] = { "lan", "internet", "vpc" };
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(pcapng_writer_add_interface(w, DLT_EN10MB, names[i], NULL, &err), ==, i);
	write_rows(w, rows, G_N_ELEMENTS(rows));
	g_assert_true(pcapng_writer_close(w, &err));
	g_assert_no_error(err);

	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		g_error("libpcap cannot read %s: %s", file, errbuf);
	g_assert_cmpint(pcap_datalink(p), ==, DLT_EN10MB);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_assert_cmpint(pcap_next_ex(p, &h, &bytes), ==, 1);
		g_assert_cmpint(h->ts.tv_sec, ==, rows[i].ts_ns / 1000000000);
		g_assert_cmpint(h->ts.tv_usec, ==, rows[i].ts_ns % 1000000000); /* nanoseconds */
		g_assert_cmpuint(h->caplen, ==, rows[i].caplen);
		g_assert_cmpuint(h->len, ==, rows[i].wirelen);
		g_assert_cmpmem(bytes, h->caplen, rows[i].data, rows[i].caplen);
	}
	g_assert_cmpint(pcap_next_ex(p, &h, &bytes), ==, PCAP_ERROR_BREAK); /* clean end of file */
	pcap_close(p);
	g_free(file);
	test_rmdir(dir);
}

/* ---- tshark, the independent reader ---- */

static void test_tshark_reads_names_comments_times(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *file = write_mixed_file(dir);
	const char *fields[] = { "frame.interface_id", "frame.interface_name", "frame.comment",
		                 "frame.time_epoch", "frame.packet_flags_direction", "frame.len",
		                 "frame.cap_len", NULL };
	char **lines = tshark_fields(file, fields);
	g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(mixed_rows));
	static const char *const want[] = {
		"0\tlan\t\t1700000000.123456789\t0x00000002\t42\t42",
		"1\tinternet\tnapt home: SNAT 192.168.1.10:1234 -> 203.0.113.7:1234\t"
		"1700000000.123457789\t0x00000001\t28\t28",
		"2\tvpc\tfirst, with a comma|second: ünïcödé ✓\t1700000000.123458790\t\t44\t44",
		"0\tlan\tcut short\t1700000001.123456788\t0x00000002\t1500\t20",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpstr(lines[i], ==, want[i]);
	g_strfreev(lines);
	g_free(file);
	test_rmdir(dir);
}

/* Reading the whole file (dissecting every packet) prints no warning. */
static void test_tshark_no_warning(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *file = write_mixed_file(dir);
	const char *argv[] = { "tshark", "-r", file, NULL };
	char *out = NULL, *errtext = NULL;
	g_assert_cmpint(test_run(argv, &out, &errtext), ==, 0);
	char *warnings = test_tshark_warnings(errtext);
	g_assert_cmpstr(warnings, ==, "");
	char **lines = g_strsplit(g_strchomp(out), "\n", -1); /* one summary line per packet */
	g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(mixed_rows));
	g_strfreev(lines);
	g_free(warnings);
	g_free(out);
	g_free(errtext);
	g_free(file);
	test_rmdir(dir);
}

/* capinfos shows the section header's comment and application. */
static void test_capinfos_section_header(void)
{
	char *capinfos = g_find_program_in_path("capinfos");
	if (!capinfos) {
		g_test_skip("capinfos not installed");
		return;
	}
	g_free(capinfos);
	char *dir = test_tmpdir();
	char *file = write_mixed_file(dir);
	const char *argv[] = { "capinfos", file, NULL };
	char *out = NULL;
	g_assert_cmpint(test_run(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "lesson: mixed links"));
	g_assert_nonnull(strstr(out, "natlb test"));
	g_assert_nonnull(strstr(out, "Number of interfaces in file: 3"));
	g_free(out);
	g_free(file);
	test_rmdir(dir);
}

/* ---- bad arguments are errors and leave the writer usable ---- */

struct reject_case {
	const char *name;
	int linktype;     /* for add_interface, when not 0 */
	int iface;
	int64_t ts_ns;
	uint32_t caplen, wirelen;
	const char *want; /* in the message */
};

static const struct reject_case reject_cases[] = {
	{ .name = "caplen-above-wirelen", .ts_ns = TS0, .caplen = 28, .wirelen = 27,
	  .want = "captured length 28 is more than the original length 27" },
	{ .name = "unknown-interface", .iface = 1, .ts_ns = TS0, .caplen = 28, .wirelen = 28,
	  .want = "interface 1" },
	{ .name = "negative-interface", .iface = -1, .ts_ns = TS0, .caplen = 28, .wirelen = 28,
	  .want = "interface -1" },
	{ .name = "timestamp-before-1970", .ts_ns = -1, .caplen = 28, .wirelen = 28,
	  .want = "before 1970" },
	{ .name = "linktype-above-16-bits", .linktype = 70000, .want = "link type 70000" },
};

static void test_rejects(gconstpointer data)
{
	const struct reject_case *c = data;
	struct mem_writer m;
	mem_writer_open(&m, NULL, NULL);
	GError *err = NULL;
	g_assert_cmpint(pcapng_writer_add_interface(m.w, DLT_RAW, "lan", NULL, &err), ==, 0);
	if (c->linktype) {
		g_assert_cmpint(pcapng_writer_add_interface(m.w, c->linktype, "x", NULL, &err), ==, -1);
	} else {
		g_assert_false(pcapng_writer_packet(m.w, c->iface, c->ts_ns, pkt_raw, c->caplen,
		                                    c->wirelen, PCAPNG_DIR_UNKNOWN, 0, NULL, 0, &err));
	}
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID);
	g_assert_nonnull(strstr(err->message, c->want));
	g_clear_error(&err);
	/* Nothing was written for the bad call, and the next good packet goes through. */
	g_assert_true(pcapng_writer_packet(m.w, 0, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
	                                   PCAPNG_DIR_UNKNOWN, 0, NULL, 0, &err));
	g_assert_no_error(err);
	GArray *blocks = mem_writer_close(&m);
	g_assert_cmpuint(blocks->len, ==, 3);
	g_array_free(blocks, TRUE);
	free(m.buf);
}

/* ---- a full disk is an error, at the packet that overflows or at close ---- */

static void test_disk_full(void)
{
	if (!g_file_test("/dev/full", G_FILE_TEST_EXISTS)) {
		g_test_skip("no /dev/full");
		return;
	}
	GError *err = NULL;
	struct pcapng_writer *w = pcapng_writer_open("/dev/full", NULL, NULL, &err);
	g_assert_no_error(err); /* the SHB only reaches stdio's buffer */
	pcapng_writer_add_interface(w, DLT_RAW, "lan", NULL, &err);
	g_assert_no_error(err);
	static uint8_t big[9000];
	unsigned written = 0;
	/* 1 MiB of stdio buffer: a write fails within about 117 packets of 9000 bytes. */
	while (written < 1000 && pcapng_writer_packet(w, 0, TS0, big, sizeof big, sizeof big,
	                                              PCAPNG_DIR_UNKNOWN, 0, NULL, 0, &err))
		written++;
	g_assert_cmpuint(written, <, 1000);
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	g_assert_cmpstr(err->message, ==, "cannot write /dev/full: No space left on device");
	g_clear_error(&err);
	/* Every later call reports the same error, close too. */
	g_assert_false(pcapng_writer_packet(w, 0, TS0, big, 1, 1, PCAPNG_DIR_UNKNOWN, 0, NULL, 0, &err));
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	g_clear_error(&err);
	g_assert_false(pcapng_writer_close(w, &err));
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	g_clear_error(&err);

	/* A small file fails only when close flushes the buffer. */
	w = pcapng_writer_open("/dev/full", NULL, NULL, &err);
	g_assert_no_error(err);
	g_assert_false(pcapng_writer_close(w, &err));
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	g_assert_nonnull(strstr(err->message, g_strerror(ENOSPC)));
	g_clear_error(&err);
}

/* ---- output: temporary names, rename on close, nothing left on abort ---- */

static void test_output_close_renames(void)
{
	char *dir = test_tmpdir();
	char *file = path_in(dir, "out.pcapng");
	char *partial = path_in(dir, "out.pcapng.partial");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAPNG, file, "scenario: test", &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", "home LAN");
	g_assert_cmpint(lan, ==, 0);
	g_assert_true(output_write(o, lan, DLT_EN10MB, TS0, pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_OUTBOUND, 0, 0, NULL, 0, &err));
	g_assert_no_error(err);
	const char *const *paths = output_paths(o);
	g_assert_cmpstr(paths[0], ==, file);
	g_assert_null(paths[1]);
	g_assert_true(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));

	g_assert_true(output_close(o, &err));
	g_assert_no_error(err);
	g_assert_true(g_file_test(file, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(dir_entries(dir), ==, 1);
	g_free(partial);
	g_free(file);
	test_rmdir(dir);
}

static void test_output_abort(gconstpointer data)
{
	enum output_format fmt = GPOINTER_TO_INT(data);
	char *dir = test_tmpdir();
	char *file = path_in(dir, fmt == OUTPUT_PCAPNG ? "out.pcapng" : "out.pcap");
	GError *err = NULL;
	struct output *o = output_open(fmt, file, NULL, &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", NULL);
	int inet = output_add_link(o, "internet", NULL);
	g_assert_true(output_write(o, lan, DLT_EN10MB, TS0, pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_OUTBOUND, 0, 0, NULL, 0, &err));
	g_assert_true(output_write(o, inet, DLT_RAW, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
	                           PCAPNG_DIR_OUTBOUND, 0, 0, NULL, 0, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(dir_entries(dir), >, 0);
	output_abort(o);
	g_assert_cmpuint(dir_entries(dir), ==, 0);
	g_free(file);
	test_rmdir(dir);
}

/* ---- output: an unwritable path fails with one line naming it ---- */

struct unwritable_case {
	const char *name;
	enum output_format fmt;
	const char *path;      /* under the test directory */
	const char *named;     /* the path the message must name */
	int want_errno;
	gboolean needs_non_root; /* root writes through permissions */
};

static const struct unwritable_case unwritable_cases[] = {
	{ .name = "pcapng/missing-directory", .fmt = OUTPUT_PCAPNG, .path = "missing/out.pcapng",
	  .named = "missing/out.pcapng", .want_errno = ENOENT },
	{ .name = "pcapng/parent-is-a-file", .fmt = OUTPUT_PCAPNG, .path = "file/out.pcapng",
	  .named = "file/out.pcapng", .want_errno = ENOTDIR },
	{ .name = "pcapng/permission-denied", .fmt = OUTPUT_PCAPNG, .path = "ro/out.pcapng",
	  .named = "ro/out.pcapng", .want_errno = EACCES, .needs_non_root = TRUE },
	{ .name = "pcap/missing-directory", .fmt = OUTPUT_PCAP, .path = "missing/out.pcap",
	  .named = "missing/out.lan.pcap", .want_errno = ENOENT },
	{ .name = "pcap/permission-denied", .fmt = OUTPUT_PCAP, .path = "ro/out.pcap",
	  .named = "ro/out.lan.pcap", .want_errno = EACCES, .needs_non_root = TRUE },
};

static void test_output_unwritable(gconstpointer data)
{
	const struct unwritable_case *c = data;
	if (c->needs_non_root && geteuid() == 0) {
		g_test_skip("root is not denied by permissions");
		return;
	}
	char *dir = test_tmpdir();
	char *regular = path_in(dir, "file");
	char *ro = path_in(dir, "ro");
	g_assert_true(g_file_set_contents(regular, "", 0, NULL));
	g_assert_cmpint(g_mkdir(ro, 0500), ==, 0);
	char *path = path_in(dir, c->path);
	char *named = path_in(dir, c->named);

	GError *err = NULL;
	struct output *o = output_open(c->fmt, path, NULL, &err);
	if (c->fmt == OUTPUT_PCAPNG) {
		g_assert_null(o);
	} else {
		g_assert_no_error(err);
		int lan = output_add_link(o, "lan", NULL);
		g_assert_false(output_write(o, lan, DLT_EN10MB, TS0, pkt_ether, sizeof pkt_ether,
		                            sizeof pkt_ether, PCAPNG_DIR_UNKNOWN, 0, 0, NULL, 0, &err));
		output_abort(o);
	}
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO);
	char *want = g_strdup_printf("cannot create %s: %s", named, g_strerror(c->want_errno));
	g_assert_cmpstr(err->message, ==, want);
	g_assert_null(strchr(err->message, '\n'));
	g_clear_error(&err);
	g_assert_cmpuint(dir_entries(dir), ==, 2); /* "file" and "ro", nothing else */
	g_assert_cmpuint(dir_entries(ro), ==, 0);

	g_free(want);
	g_free(named);
	g_free(path);
	g_rmdir(ro);
	g_free(ro);
	g_free(regular);
	test_rmdir(dir);
}

/* ---- output, pcapng: a link with two link types gets two IDBs of the same name ---- */

static void test_output_pcapng_two_linktypes(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *file = path_in(dir, "out.pcapng");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAPNG, file, NULL, &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", "home LAN");
	int inet = output_add_link(o, "internet", NULL);
	const char *note[] = { "a note" };
	g_assert_true(output_write(o, lan, DLT_EN10MB, TS0, pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_OUTBOUND, 0, 0, note, 1, &err));
	g_assert_true(output_write(o, inet, DLT_RAW, TS0 + 1, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
	                           PCAPNG_DIR_OUTBOUND, 0, 0, NULL, 0, &err));
	g_assert_true(output_write(o, lan, DLT_RAW, TS0 + 2, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
	                           PCAPNG_DIR_INBOUND, 0, 0, NULL, 0, &err));
	g_assert_true(output_write(o, lan, DLT_EN10MB, TS0 + 3, pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_INBOUND, 0, 0, NULL, 0, &err));
	g_assert_no_error(err);
	g_assert_true(output_close(o, &err));
	g_assert_no_error(err);

	const char *fields[] = { "frame.interface_id", "frame.interface_name",
		                 "frame.interface_description", "frame.comment", NULL };
	char **lines = tshark_fields(file, fields);
	static const char *const want[] = {
		"0\tlan\thome LAN\ta note",
		"1\tinternet\t\t",
		"2\tlan\thome LAN\t",
		"0\tlan\thome LAN\t",
	};
	g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(want));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpstr(lines[i], ==, want[i]);
	g_strfreev(lines);
	g_free(file);
	test_rmdir(dir);
}

/* A view's parts are one pcapng comment, "flow #N | part | part | note": tshark and Wireshark's
 * column join several comments with commas, which no reader can tell from a sentence's own. */
static void test_output_joins_a_views_parts_into_one_comment(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *file = path_in(dir, "out.pcapng");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAPNG, file, NULL, &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", NULL);
	const char *parts[] = { "captured on lan", "napt home: SNAT a, with a comma", "" };
	g_assert_true(output_write(o, lan, DLT_RAW, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw, PCAPNG_DIR_OUTBOUND, 3, 7,
	                           parts, 3, &err));
	output_set_note(o, "record 2: cut short");
	g_assert_true(output_write(o, lan, DLT_RAW, TS0 + 1, pkt_raw, sizeof pkt_raw, sizeof pkt_raw, PCAPNG_DIR_OUTBOUND,
	                           4, 7, parts, 1, &err));
	output_set_note(o, NULL);
	g_assert_true(output_write(o, lan, DLT_RAW, TS0 + 2, pkt_raw, sizeof pkt_raw, sizeof pkt_raw, PCAPNG_DIR_OUTBOUND,
	                           5, 0, NULL, 0, &err));
	g_assert_true(output_close(o, &err));
	g_assert_no_error(err);

	/* tshark's aggregator here is '|' with no spaces: a second comment would show as one */
	const char *fields[] = { "frame.comment", NULL };
	char **lines = tshark_fields(file, fields);
	static const char *const want[] = {
		"flow #7 | captured on lan | napt home: SNAT a, with a comma",
		"flow #7 | captured on lan | record 2: cut short",
		"",
	};
	g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(want));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpstr(lines[i], ==, want[i]);
	g_strfreev(lines);
	g_free(file);
	test_rmdir(dir);
}

/* ---- output, pcap: one file per link, each with its link type ---- */

static void check_pcap_file(const char *file, int linktype, const uint8_t *data, uint32_t len,
                            const int64_t *ts, size_t n)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		g_error("libpcap cannot read %s: %s", file, errbuf);
	g_assert_cmpint(pcap_datalink(p), ==, linktype);
	g_assert_cmpint(pcap_get_tstamp_precision(p), ==, PCAP_TSTAMP_PRECISION_NANO);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	for (size_t i = 0; i < n; i++) {
		g_assert_cmpint(pcap_next_ex(p, &h, &bytes), ==, 1);
		g_assert_cmpint(h->ts.tv_sec, ==, ts[i] / 1000000000);
		g_assert_cmpint(h->ts.tv_usec, ==, ts[i] % 1000000000);
		g_assert_cmpuint(h->caplen, ==, len);
		g_assert_cmpuint(h->len, ==, len);
		g_assert_cmpmem(bytes, h->caplen, data, len);
	}
	g_assert_cmpint(pcap_next_ex(p, &h, &bytes), ==, PCAP_ERROR_BREAK);
	pcap_close(p);
}

static void test_output_pcap_two_links(void)
{
	char *dir = test_tmpdir();
	char *base = path_in(dir, "out.pcap");
	char *lan_file = path_in(dir, "out.lan.pcap");
	char *inet_file = path_in(dir, "out.internet.pcap");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAP, base, "ignored in pcap", &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", "home LAN");
	int inet = output_add_link(o, "internet", NULL);
	output_add_link(o, "unused", NULL);
	g_assert_null(output_paths(o)[0]);

	const int64_t lan_ts[] = { TS0, TS0 + 2 };
	const int64_t inet_ts[] = { TS0 + 1 };
	const char *comments[] = { "dropped: pcap has no comments" };
	g_assert_true(output_write(o, lan, DLT_EN10MB, lan_ts[0], pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_OUTBOUND, 0, 0, comments, 1, &err));
	g_assert_true(output_write(o, inet, DLT_RAW, inet_ts[0], pkt_raw, sizeof pkt_raw,
	                           sizeof pkt_raw, PCAPNG_DIR_OUTBOUND, 0, 0, comments, 1, &err));
	g_assert_true(output_write(o, lan, DLT_EN10MB, lan_ts[1], pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_INBOUND, 0, 0, NULL, 0, &err));
	g_assert_no_error(err);
	const char *const *paths = output_paths(o);
	g_assert_cmpstr(paths[0], ==, lan_file);
	g_assert_cmpstr(paths[1], ==, inet_file);
	g_assert_null(paths[2]);
	g_assert_false(g_file_test(lan_file, G_FILE_TEST_EXISTS)); /* still .partial */

	g_assert_true(output_close(o, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(dir_entries(dir), ==, 2); /* no file for the unused link, no .partial */
	check_pcap_file(lan_file, DLT_EN10MB, pkt_ether, sizeof pkt_ether, lan_ts,
	                G_N_ELEMENTS(lan_ts));
	check_pcap_file(inet_file, DLT_RAW, pkt_raw, sizeof pkt_raw, inet_ts, G_N_ELEMENTS(inet_ts));
	g_free(inet_file);
	g_free(lan_file);
	g_free(base);
	test_rmdir(dir);
}

static void test_output_pcap_second_linktype(void)
{
	char *dir = test_tmpdir();
	char *base = path_in(dir, "out.pcap");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAP, base, NULL, &err);
	g_assert_no_error(err);
	int lan = output_add_link(o, "lan", NULL);
	g_assert_true(output_write(o, lan, DLT_EN10MB, TS0, pkt_ether, sizeof pkt_ether,
	                           sizeof pkt_ether, PCAPNG_DIR_UNKNOWN, 0, 0, NULL, 0, &err));
	g_assert_false(output_write(o, lan, DLT_RAW, TS0, pkt_raw, sizeof pkt_raw, sizeof pkt_raw,
	                            PCAPNG_DIR_UNKNOWN, 0, 0, NULL, 0, &err));
	g_assert_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_LINKTYPE);
	g_assert_cmpstr(err->message, ==,
	                "link lan carries EN10MB and RAW, but a pcap file holds one link type: "
	                "use the pcapng format");
	g_clear_error(&err);
	output_abort(o);
	g_assert_cmpuint(dir_entries(dir), ==, 0);
	g_free(base);
	test_rmdir(dir);
}

/* Two links of one name would share a pcap file: a programming error, refused loudly. */
static void test_output_duplicate_link(void)
{
	char *dir = test_tmpdir();
	char *base = path_in(dir, "out.pcap");
	GError *err = NULL;
	struct output *o = output_open(OUTPUT_PCAP, base, NULL, &err);
	g_assert_no_error(err);
	g_assert_cmpint(output_add_link(o, "lan", NULL), ==, 0);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*strcmp*");
	g_assert_cmpint(output_add_link(o, "lan", NULL), ==, -1);
	g_test_assert_expected_messages();
	g_assert_cmpint(output_add_link(o, "internet", NULL), ==, 1);
	output_abort(o);
	g_free(base);
	test_rmdir(dir);
}

/* ---- output, pcap: where each link's file goes ---- */

struct link_path_case {
	const char *name;
	const char *base, *link, *want;
};

static const struct link_path_case link_path_cases[] = {
	{ "extension", "out.pcap", "lan", "out.lan.pcap" },
	{ "no-extension", "out", "lan", "out.lan.pcap" },
	{ "dot-in-directory-only", "run.d/out", "lan", "run.d/out.lan.pcap" },
	{ "last-dot-wins", "dir/out.v2.pcap", "internet", "dir/out.v2.internet.pcap" },
	{ "hidden-file", "dir/.pcap", "lan", "dir/.pcap.lan.pcap" },
	{ "slash-in-link-name", "out.pcap", "a/b", "out.a_b.pcap" },
};

static void test_pcap_link_path(gconstpointer data)
{
	const struct link_path_case *c = data;
	char *got = output_pcap_link_path(c->base, c->link);
	g_assert_cmpstr(got, ==, c->want);
	g_free(got);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/pcapng/writer/layout/blocks-are-framed-padded-and-end-their-options",
	                test_layout_blocks);
	for (size_t i = 0; i < G_N_ELEMENTS(comment_cases); i++) {
		char *name = g_strdup_printf("/pcapng/writer/comment/%s", comment_cases[i].name);
		g_test_add_data_func(name, &comment_cases[i], test_comment_truncation);
		g_free(name);
	}
	g_test_add_func("/pcapng/writer/libpcap/reads-back-bytes-lengths-and-ns-times",
	                test_libpcap_reads_back);
	g_test_add_func("/pcapng/writer/tshark/shows-names-comments-times-directions-lengths",
	                test_tshark_reads_names_comments_times);
	g_test_add_func("/pcapng/writer/tshark/reads-without-warning", test_tshark_no_warning);
	g_test_add_func("/pcapng/writer/capinfos/shows-section-comment-and-application",
	                test_capinfos_section_header);
	for (size_t i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
		char *name = g_strdup_printf("/pcapng/writer/rejects/%s", reject_cases[i].name);
		g_test_add_data_func(name, &reject_cases[i], test_rejects);
		g_free(name);
	}
	g_test_add_func("/pcapng/writer/disk-full-is-an-error", test_disk_full);

	g_test_add_func("/pcapng/output/pcapng/close-renames-into-place", test_output_close_renames);
	g_test_add_data_func("/pcapng/output/pcapng/abort-leaves-no-file",
	                     GINT_TO_POINTER(OUTPUT_PCAPNG), test_output_abort);
	g_test_add_data_func("/pcapng/output/pcap/abort-leaves-no-file", GINT_TO_POINTER(OUTPUT_PCAP),
	                     test_output_abort);
	for (size_t i = 0; i < G_N_ELEMENTS(unwritable_cases); i++) {
		char *name = g_strdup_printf("/pcapng/output/unwritable/%s", unwritable_cases[i].name);
		g_test_add_data_func(name, &unwritable_cases[i], test_output_unwritable);
		g_free(name);
	}
	g_test_add_func("/pcapng/output/pcapng/two-linktypes-on-a-link-give-two-idbs",
	                test_output_pcapng_two_linktypes);
	g_test_add_func("/output/pcapng/a-views-parts-are-one-comment-after-its-flow", test_output_joins_a_views_parts_into_one_comment);
	g_test_add_func("/pcapng/output/pcap/two-links-give-two-files", test_output_pcap_two_links);
	g_test_add_func("/pcapng/output/pcap/second-linktype-on-a-link-is-an-error",
	                test_output_pcap_second_linktype);
	g_test_add_func("/pcapng/output/duplicate-link-name-is-refused", test_output_duplicate_link);
	for (size_t i = 0; i < G_N_ELEMENTS(link_path_cases); i++) {
		char *name = g_strdup_printf("/pcapng/output/pcap/link-path/%s", link_path_cases[i].name);
		g_test_add_data_func(name, &link_path_cases[i], test_pcap_link_path);
		g_free(name);
	}
	return g_test_run();
}
