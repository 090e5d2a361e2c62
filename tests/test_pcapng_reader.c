/* tests/test_pcapng_reader.c: common/pcapng_reader.c reads back what the writer wrote, in either byte order, and tells cut files from lying ones (draft-ietf-opsawg-pcapng sections 3-4).
 *
 * Round trips go through common/pcapng_writer.c; the bad files are built here block by block,
 * each with the one field that is wrong, so that each case names the check it exercises.
 */
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#include "common/pcapng_reader.h"
#include "common/pcapng_writer.h"

/* ---- a file built by hand ------------------------------------------------------------------------- */

struct builder {
	GByteArray *b;
	bool big_endian; /* write the section in the other byte order than this machine's */
	guint block_start;
};

static void put32(struct builder *bd, uint32_t v)
{
	uint32_t x = bd->big_endian ? GUINT32_TO_BE(v) : GUINT32_TO_LE(v);
	g_byte_array_append(bd->b, (const guint8 *)&x, 4);
}

static void put16(struct builder *bd, uint16_t v)
{
	uint16_t x = bd->big_endian ? GUINT16_TO_BE(v) : GUINT16_TO_LE(v);
	g_byte_array_append(bd->b, (const guint8 *)&x, 2);
}

static void put_bytes(struct builder *bd, const void *p, size_t n)
{
	static const guint8 zeros[4];
	g_byte_array_append(bd->b, p, (guint)n);
	g_byte_array_append(bd->b, zeros, (guint)((4 - n % 4) % 4));
}

static void option(struct builder *bd, uint16_t code, const void *value, uint16_t len)
{
	put16(bd, code);
	put16(bd, len);
	put_bytes(bd, value, len);
}

static void begin(struct builder *bd, uint32_t type)
{
	bd->block_start = bd->b->len;
	put32(bd, type);
	put32(bd, 0); /* the length, filled in by end() */
}

/* Close the block: its length at both ends, plus `lie` in the leading one. */
static void end_lying(struct builder *bd, int32_t lie)
{
	uint32_t total = bd->b->len - bd->block_start + 4;
	put32(bd, total);
	uint32_t head = (uint32_t)((int64_t)total + lie);
	head = bd->big_endian ? GUINT32_TO_BE(head) : GUINT32_TO_LE(head);
	memcpy(bd->b->data + bd->block_start + 4, &head, 4);
}

static void end(struct builder *bd)
{
	end_lying(bd, 0);
}

static void shb(struct builder *bd)
{
	begin(bd, 0x0A0D0D0A);
	put32(bd, 0x1A2B3C4D);
	put16(bd, 1);
	put16(bd, 0);
	put32(bd, 0xffffffff);
	put32(bd, 0xffffffff);
	end(bd);
}

static void idb(struct builder *bd, const char *name, int tsresol)
{
	begin(bd, 1);
	put16(bd, DLT_RAW);
	put16(bd, 0);
	put32(bd, 65535);
	if (name)
		option(bd, 2, name, (uint16_t)strlen(name));
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;
		option(bd, 9, &r, 1);
	}
	option(bd, 0, NULL, 0);
	end(bd);
}

static const uint8_t payload[] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };

/* An EPB of payload at ts ticks; caplen_extra lies about the captured length. */
static void epb(struct builder *bd, uint32_t iface, uint64_t ts, int caplen_extra, uint64_t packet_id, const char *comment)
{
	begin(bd, 6);
	put32(bd, iface);
	put32(bd, (uint32_t)(ts >> 32));
	put32(bd, (uint32_t)ts);
	put32(bd, (uint32_t)((int)sizeof payload + caplen_extra));
	put32(bd, sizeof payload);
	put_bytes(bd, payload, sizeof payload);
	if (comment)
		option(bd, 1, comment, (uint16_t)strlen(comment));
	if (packet_id) {
		uint64_t v = bd->big_endian ? GUINT64_TO_BE(packet_id) : GUINT64_TO_LE(packet_id);
		option(bd, 5, &v, 8);
	}
	option(bd, 0, NULL, 0);
	end(bd);
}

struct read_result {
	unsigned records;
	enum pcapng_read_status last;
	char *message;
	struct pcapng_record first;
};

static struct read_result read_all(const GByteArray *b)
{
	struct pcapng_reader r;
	struct pcapng_record rec;
	struct read_result res = { 0 };
	GError *err = NULL;
	pcapng_reader_init(&r, b->data, b->len, "test.pcapng");
	while ((res.last = pcapng_reader_next(&r, &rec, &err)) == PCAPNG_READ_RECORD)
		if (res.records++ == 0)
			res.first = rec;
	if (err)
		res.message = g_strdup(err->message);
	g_clear_error(&err);
	/* after an error, the same status again */
	if (res.last != PCAPNG_READ_END) {
		g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, res.last);
		g_clear_error(&err);
	}
	return res;
}

/* ---- round trips ------------------------------------------------------------------------------------ */

/* What natlb writes comes back: link names, times in ns, comments, packet ids, frame numbers. */
static void test_reads_what_the_writer_wrote(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	GError *err = NULL;
	struct pcapng_writer *w = pcapng_writer_open_stream(f, "memory", "c", "natlb", &err);
	g_assert_no_error(err);
	g_assert_cmpint(pcapng_writer_add_interface(w, DLT_RAW, "lan", NULL, &err), ==, 0);
	g_assert_cmpint(pcapng_writer_add_interface(w, DLT_RAW, "internet", "the far side", &err), ==, 1);
	const char *two[] = { "captured on lan", "napt home: SNAT ..." };
	g_assert_true(pcapng_writer_packet(w, 0, 1000000001, payload, sizeof payload, 60, PCAPNG_DIR_OUTBOUND, 7, two, 2, &err));
	g_assert_true(pcapng_writer_packet(w, 1, 1000000002, payload, 8, sizeof payload, PCAPNG_DIR_UNKNOWN, 0, NULL, 0, &err));
	g_assert_true(pcapng_writer_close(w, &err));
	g_assert_no_error(err);

	struct pcapng_reader r;
	struct pcapng_record rec;
	pcapng_reader_init(&r, (const uint8_t *)buf, len, "memory");
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_RECORD);
	g_assert_cmpuint(rec.frame, ==, 1);
	g_assert_cmpmem(rec.if_name.s, rec.if_name.len, "lan", 3);
	g_assert_cmpint(rec.linktype, ==, DLT_RAW);
	g_assert_cmpint(rec.ts_ns, ==, 1000000001);
	g_assert_cmpmem(rec.data, rec.caplen, payload, sizeof payload);
	g_assert_cmpuint(rec.wirelen, ==, 60);
	g_assert_cmpuint(rec.packet_id, ==, 7);
	g_assert_cmpuint(rec.n_comments, ==, 2);
	g_assert_cmpmem(rec.comments[1].s, rec.comments[1].len, two[1], strlen(two[1]));
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_RECORD);
	g_assert_cmpuint(rec.frame, ==, 2);
	g_assert_cmpmem(rec.if_name.s, rec.if_name.len, "internet", 8);
	g_assert_cmpuint(rec.caplen, ==, 8);
	g_assert_cmpuint(rec.packet_id, ==, 0);
	g_assert_cmpuint(rec.n_comments, ==, 0);
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_END);
	g_assert_no_error(err);
	free(buf);
}

/* A section in the other byte order reads the same; microseconds by default, 2^-n when said so;
 * a second section's interfaces count from 0 again and its frames go on counting. */
static void test_byte_order_resolution_and_sections(void)
{
	struct builder bd = { .b = g_byte_array_new(), .big_endian = G_BYTE_ORDER == G_LITTLE_ENDIAN };
	shb(&bd);
	idb(&bd, "lan", -1);
	epb(&bd, 0, 1500000, 0, 42, "hello");          /* 1.5 s in microseconds */
	bd.big_endian = !bd.big_endian;
	shb(&bd);
	idb(&bd, "wan", 0x80 | 10);                   /* 2^-10 s */
	epb(&bd, 0, 3 * 1024 + 512, 0, 0, NULL);       /* 3.5 s */

	struct pcapng_reader r;
	struct pcapng_record rec;
	GError *err = NULL;
	pcapng_reader_init(&r, bd.b->data, bd.b->len, "t");
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_RECORD);
	g_assert_cmpint(rec.ts_ns, ==, 1500000000);
	g_assert_cmpuint(rec.packet_id, ==, 42);
	g_assert_cmpmem(rec.comments[0].s, rec.comments[0].len, "hello", 5);
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_RECORD);
	g_assert_cmpuint(rec.frame, ==, 2);
	g_assert_cmpmem(rec.if_name.s, rec.if_name.len, "wan", 3);
	g_assert_cmpint(rec.ts_ns, ==, 3500000000);
	g_assert_cmpint(pcapng_reader_next(&r, &rec, &err), ==, PCAPNG_READ_END);
	g_byte_array_unref(bd.b);
}

/* ---- files that are cut or that lie -------------------------------------------------------------------- */

enum bad_kind {
	BAD_EMPTY,
	BAD_NO_SHB,
	BAD_SHB_MAGIC,
	BAD_LENGTH_UNDER_12,
	BAD_LENGTH_NOT_ALIGNED,
	BAD_LENGTHS_DIFFER,
	BAD_UNKNOWN_INTERFACE,
	BAD_CAPLEN_PAST_BLOCK,
	BAD_PACKETID_LENGTH,
	BAD_TSRESOL,
	CUT_IN_HEADER,
	CUT_IN_BLOCK,
};

struct bad_case {
	const char *name;
	enum bad_kind kind;
	unsigned good_records;          /* records read before the status */
	enum pcapng_read_status want;
	const char *want_message;       /* a part of the message */
};

static const struct bad_case bad_cases[] = {
	{ "/pcapng-reader/invalid/an-empty-file", BAD_EMPTY, 0, PCAPNG_READ_INVALID, "an empty file" },
	{ "/pcapng-reader/invalid/a-first-block-that-is-not-a-section-header", BAD_NO_SHB, 0, PCAPNG_READ_INVALID,
	  "does not begin with a Section Header Block" },
	{ "/pcapng-reader/invalid/a-section-header-without-the-byte-order-magic", BAD_SHB_MAGIC, 0, PCAPNG_READ_INVALID,
	  "without the byte-order magic" },
	{ "/pcapng-reader/invalid/a-block-length-under-12", BAD_LENGTH_UNDER_12, 1, PCAPNG_READ_INVALID, "under 12" },
	{ "/pcapng-reader/invalid/a-block-length-not-a-multiple-of-4", BAD_LENGTH_NOT_ALIGNED, 1, PCAPNG_READ_INVALID,
	  "not a multiple of 4" },
	{ "/pcapng-reader/invalid/a-block-whose-two-lengths-differ", BAD_LENGTHS_DIFFER, 1, PCAPNG_READ_INVALID,
	  "two lengths differ" },
	{ "/pcapng-reader/invalid/a-packet-of-an-undescribed-interface", BAD_UNKNOWN_INTERFACE, 1, PCAPNG_READ_INVALID,
	  "names an interface no Interface Description Block described" },
	{ "/pcapng-reader/invalid/a-captured-length-past-the-block", BAD_CAPLEN_PAST_BLOCK, 1, PCAPNG_READ_INVALID,
	  "more than its block holds" },
	{ "/pcapng-reader/invalid/a-packet-id-that-is-not-8-bytes", BAD_PACKETID_LENGTH, 1, PCAPNG_READ_INVALID,
	  "epb_packetid that is not 8 bytes" },
	{ "/pcapng-reader/invalid/a-timestamp-resolution-past-10-to-the-19", BAD_TSRESOL, 0, PCAPNG_READ_INVALID,
	  "if_tsresol" },
	{ "/pcapng-reader/truncated/cut-inside-a-block-header-after-good-records", CUT_IN_HEADER, 1, PCAPNG_READ_TRUNCATED,
	  "cut short at byte" },
	{ "/pcapng-reader/truncated/cut-inside-a-block-after-good-records", CUT_IN_BLOCK, 1, PCAPNG_READ_TRUNCATED,
	  "the file ends inside a block" },
};

static void test_bad_file(gconstpointer data)
{
	const struct bad_case *c = data;
	struct builder bd = { .b = g_byte_array_new() };
	if (c->kind == BAD_NO_SHB) {
		idb(&bd, "lan", -1);
	} else if (c->kind == BAD_SHB_MAGIC) {
		shb(&bd);
		bd.b->data[8] ^= 0xff;
	} else if (c->kind != BAD_EMPTY) {
		shb(&bd);
		idb(&bd, "lan", c->kind == BAD_TSRESOL ? 20 : -1);
		epb(&bd, 0, 1, 0, 1, "good");
		guint at = bd.b->len;
		switch (c->kind) {
		case BAD_LENGTH_UNDER_12:
			begin(&bd, 6);
			end_lying(&bd, -4);
			break;
		case BAD_LENGTH_NOT_ALIGNED:
			begin(&bd, 6);
			for (int i = 0; i < 5; i++)
				put32(&bd, 0);
			end_lying(&bd, 2);
			break;
		case BAD_LENGTHS_DIFFER:
			epb(&bd, 0, 2, 0, 2, NULL);
			bd.b->data[bd.b->len - 4] ^= 4; /* the trailing length */
			break;
		case BAD_UNKNOWN_INTERFACE:
			epb(&bd, 3, 2, 0, 2, NULL);
			break;
		case BAD_CAPLEN_PAST_BLOCK:
			epb(&bd, 0, 2, 4000, 2, NULL);
			break;
		case BAD_PACKETID_LENGTH: {
			begin(&bd, 6); /* interface 0, time 0, no bytes, then a 4-byte packet id */
			for (int i = 0; i < 5; i++)
				put32(&bd, 0);
			uint32_t v = 7;
			option(&bd, 5, &v, 4);
			end(&bd);
			break;
		}
		case CUT_IN_HEADER:
			epb(&bd, 0, 2, 0, 2, NULL);
			g_byte_array_set_size(bd.b, at + 6);
			break;
		case CUT_IN_BLOCK:
			epb(&bd, 0, 2, 0, 2, NULL);
			g_byte_array_set_size(bd.b, bd.b->len - 8);
			break;
		default:
			break;
		}
	}
	struct read_result res = read_all(bd.b);
	g_assert_cmpuint(res.records, ==, c->good_records);
	g_assert_cmpint(res.last, ==, c->want);
	g_assert_nonnull(res.message);
	if (!strstr(res.message, c->want_message))
		g_error("message '%s' lacks '%s'", res.message, c->want_message);
	g_assert_nonnull(strstr(res.message, "test.pcapng"));
	g_free(res.message);
	g_byte_array_unref(bd.b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pcapng-reader/round-trip/reads-what-the-writer-wrote", test_reads_what_the_writer_wrote);
	g_test_add_func("/pcapng-reader/round-trip/either-byte-order-any-resolution-several-sections",
	                test_byte_order_resolution_and_sections);
	for (unsigned i = 0; i < G_N_ELEMENTS(bad_cases); i++)
		g_test_add_data_func(bad_cases[i].name, &bad_cases[i], test_bad_file);
	return g_test_run();
}
