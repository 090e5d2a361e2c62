/* tests/test_input_records.c: a bad record in a capture is replayed annotated, never the end of the replay (issues 10, 11).
 *
 * Each case writes a three-record capture, byte by byte (pcap-savefile(5) or
 * draft-ietf-opsawg-pcapng), whose middle record is one libpcap hands over as data but natlb
 * could not use as it is; runs natlb replay on it and reads the output with tshark.
 */
#include <stdint.h>
#include <stdio.h>

#include "tests/testutil.h"

#define SCENARIO "scenarios/static-nat.ini"

/* 10.0.0.5 -> 198.51.100.9, UDP 53 -> 53: the static-nat lesson maps the source, so the record
 * has a view on lan and one on internet. */
static const uint8_t udp_frame[42] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x05,
	0xc6, 0x33, 0x64, 0x09,
	0x00, 0x35, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};

enum capture_format { FORMAT_PCAP, FORMAT_PCAPNG };

/* The middle record's header fields; the other two are good, at 1000 s and 1002 s. */
struct record_case {
	const char *name;
	enum capture_format format;
	uint64_t ts;          /* pcap: seconds << 32 | microseconds; pcapng: microseconds (if_tsresol 6) */
	uint32_t caplen, len; /* 0: sizeof udp_frame */
	const char *want_time;    /* tshark's frame.time_epoch of its lan view (internet's is a hop later) */
	const char *want_comment; /* a substring of the views' comments; NULL: no note at all */
	const char *want_warning; /* the stderr line, in full; NULL: stderr is empty */
};

static const struct record_case record_cases[] = {
	{ .name = "pcapng/time-past-int64-nanoseconds-is-clamped-and-annotated", .format = FORMAT_PCAPNG,
	  .ts = UINT64_MAX, .want_time = "4294967295.000000000",
	  .want_comment = "@IN record 2: timestamp 18446744073709.551615000 s is past 2106-02-07 06:28:15 UTC, "
	                  "the last time natlb replays; replayed at it",
	  .want_warning = "natlb replay: warning: @IN record 2 has a timestamp outside 1970-01-01 to 2106-02-07 "
	                  "06:28:15 UTC, replayed at the nearest of the two (annotated)\n" },
	{ .name = "pcapng/time-past-2106-is-clamped-and-annotated", .format = FORMAT_PCAPNG,
	  .ts = G_GUINT64_CONSTANT(5000000000) * 1000000, .want_time = "4294967295.000000000",
	  .want_comment = "@IN record 2: timestamp 5000000000.000000000 s is past 2106-02-07",
	  .want_warning = "natlb replay: warning: @IN record 2 has a timestamp outside" },
	{ .name = "pcap/seconds-past-2038-are-unsigned-as-the-format-says", .format = FORMAT_PCAP,
	  .ts = (G_GUINT64_CONSTANT(0x80000001) << 32) | 5, .want_time = "2147483649.000005000" },
	{ .name = "pcap/seconds-at-2106-are-the-last-replayed", .format = FORMAT_PCAP,
	  .ts = G_GUINT64_CONSTANT(0xffffffff) << 32, .want_time = "4294967295.000000000" },
	{ .name = "pcap/caplen-above-len-is-replayed-as-long-as-captured", .format = FORMAT_PCAP,
	  .ts = G_GUINT64_CONSTANT(1001) << 32, .len = 20, .want_time = "1001.000000000",
	  .want_comment = "@IN record 2: captured length 42 is more than the original length 20 (Wireshark: frame "
	                  "length is less than captured length); replayed as 42 bytes long",
	  .want_warning = "natlb replay: warning: @IN record 2 has a captured length above the original length, "
	                  "replayed as long as what was captured (annotated)\n" },
	{ .name = "pcapng/caplen-above-len-is-replayed-as-long-as-captured", .format = FORMAT_PCAPNG,
	  .ts = 1001000000, .len = 1, .want_time = "1001.000000000",
	  .want_comment = "@IN record 2: captured length 42 is more than the original length 1",
	  .want_warning = "natlb replay: warning: @IN record 2 has a captured length above" },
};

static void put_u16(GByteArray *b, uint16_t v)
{
	g_byte_array_append(b, (const guint8 *)&v, sizeof v); /* host order: the magic says which */
}

static void put_u32(GByteArray *b, uint32_t v)
{
	g_byte_array_append(b, (const guint8 *)&v, sizeof v);
}

static void pcap_record(GByteArray *b, uint64_t ts, uint32_t caplen, uint32_t len)
{
	put_u32(b, (uint32_t)(ts >> 32));
	put_u32(b, (uint32_t)ts);
	put_u32(b, caplen);
	put_u32(b, len);
	g_byte_array_append(b, udp_frame, sizeof udp_frame);
}

static GByteArray *pcap_file(const struct record_case *c)
{
	GByteArray *b = g_byte_array_new();
	put_u32(b, 0xa1b2c3d4); /* microseconds */
	put_u16(b, 2);
	put_u16(b, 4);
	put_u32(b, 0);
	put_u32(b, 0);
	put_u32(b, 65535);
	put_u32(b, 1); /* Ethernet */
	pcap_record(b, G_GUINT64_CONSTANT(1000) << 32, sizeof udp_frame, sizeof udp_frame);
	pcap_record(b, c->ts, c->caplen ? c->caplen : sizeof udp_frame, c->len ? c->len : sizeof udp_frame);
	pcap_record(b, G_GUINT64_CONSTANT(1002) << 32, sizeof udp_frame, sizeof udp_frame);
	return b;
}

/* One pcapng block: type, length, body padded to 32 bits, length. */
static void pcapng_block(GByteArray *b, uint32_t type, const GByteArray *body)
{
	uint32_t pad = (4 - body->len % 4) % 4, total = 12 + body->len + pad;
	static const uint8_t zeros[4];
	put_u32(b, type);
	put_u32(b, total);
	g_byte_array_append(b, body->data, body->len);
	g_byte_array_append(b, zeros, pad);
	put_u32(b, total);
}

static void pcapng_epb(GByteArray *b, uint64_t ts, uint32_t caplen, uint32_t len)
{
	GByteArray *body = g_byte_array_new();
	put_u32(body, 0); /* interface 0 */
	put_u32(body, (uint32_t)(ts >> 32));
	put_u32(body, (uint32_t)ts);
	put_u32(body, caplen);
	put_u32(body, len);
	g_byte_array_append(body, udp_frame, sizeof udp_frame);
	pcapng_block(b, 6, body);
	g_byte_array_unref(body);
}

static GByteArray *pcapng_file(const struct record_case *c)
{
	GByteArray *b = g_byte_array_new(), *body = g_byte_array_new();
	put_u32(body, 0x1a2b3c4d);
	put_u16(body, 1);
	put_u16(body, 0);
	put_u32(body, UINT32_MAX); /* section length unknown: -1 */
	put_u32(body, UINT32_MAX);
	pcapng_block(b, 0x0a0d0d0a, body);
	g_byte_array_set_size(body, 0);
	put_u16(body, 1); /* Ethernet */
	put_u16(body, 0);
	put_u32(body, 65535); /* no options: if_tsresol is 6, microseconds */
	pcapng_block(b, 1, body);
	g_byte_array_unref(body);
	pcapng_epb(b, 1000000000, sizeof udp_frame, sizeof udp_frame);
	pcapng_epb(b, c->ts, c->caplen ? c->caplen : sizeof udp_frame, c->len ? c->len : sizeof udp_frame);
	pcapng_epb(b, 1002000000, sizeof udp_frame, sizeof udp_frame);
	return b;
}

/* An EPB on interface iface carrying frame. */
static void pcapng_epb_on(GByteArray *b, uint32_t iface, uint64_t ts, const uint8_t *frame, uint32_t len)
{
	GByteArray *body = g_byte_array_new();
	put_u32(body, iface);
	put_u32(body, (uint32_t)(ts >> 32));
	put_u32(body, (uint32_t)ts);
	put_u32(body, len);
	put_u32(body, len);
	g_byte_array_append(body, frame, len);
	pcapng_block(b, 6, body);
	g_byte_array_unref(body);
}

static void pcapng_idb(GByteArray *b, uint16_t linktype)
{
	GByteArray *body = g_byte_array_new();
	put_u16(body, linktype);
	put_u16(body, 0);
	put_u32(body, 65535);
	pcapng_block(b, 1, body);
	g_byte_array_unref(body);
}

/* One section, three interfaces: Ethernet, raw IPv4 (LINKTYPE_RAW, 101) and IEEE 802.11 (105),
 * which natlb does not decode; the same UDP datagram on each, Ethernet first, raw second, then
 * Ethernet, raw and 802.11 again.  libpcap reads only the first interface's link type. */
static GByteArray *pcapng_mixed_linktypes(void)
{
	GByteArray *b = g_byte_array_new(), *body = g_byte_array_new();
	put_u32(body, 0x1a2b3c4d);
	put_u16(body, 1);
	put_u16(body, 0);
	put_u32(body, UINT32_MAX);
	put_u32(body, UINT32_MAX);
	pcapng_block(b, 0x0a0d0d0a, body);
	g_byte_array_unref(body);
	pcapng_idb(b, 1);
	pcapng_idb(b, 101);
	pcapng_idb(b, 105);
	const uint8_t *raw = udp_frame + 14;
	pcapng_epb_on(b, 0, 1000000000, udp_frame, sizeof udp_frame);
	pcapng_epb_on(b, 1, 1001000000, raw, sizeof udp_frame - 14);
	pcapng_epb_on(b, 0, 1002000000, udp_frame, sizeof udp_frame);
	pcapng_epb_on(b, 1, 1003000000, raw, sizeof udp_frame - 14);
	pcapng_epb_on(b, 2, 1004000000, udp_frame, sizeof udp_frame);
	return b;
}

/* Every record of a pcapng whose interfaces differ in link type is replayed on its own link
 * type (tshark: the lan views' encapsulations); the one natlb cannot decode is skipped, counted
 * and named in one warning, never read as something else. */
static void test_pcapng_mixed_linktypes(void)
{
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/mixed.pcapng", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	GByteArray *bytes = pcapng_mixed_linktypes();
	g_assert_true(g_file_set_contents(in, (const char *)bytes->data, bytes->len, NULL));
	g_byte_array_unref(bytes);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", SCENARIO, "-o", out, in, NULL };
	char *stats = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &stats, &err), ==, 0);
	char *want = g_strdup_printf("natlb replay: warning: %s: 1 record skipped: on an interface of a link type natlb "
	                             "does not decode (the first, record 5, link type IEEE802_11 105)\n", in);
	g_assert_cmpstr(err, ==, want);
	g_assert_nonnull(strstr(stats, "  input packets             4\n"));
	static const char *const fields[] = { "frame.time_epoch", "frame.encap_type", "ip.src", NULL };
	char *got = test_tshark_fields(out, NULL, "frame.interface_name == \"lan\"", fields);
	g_assert_cmpstr(got, ==, "1000.000000000|1|10.0.0.5\n1001.000000000|7|10.0.0.5\n"
	                         "1002.000000000|1|10.0.0.5\n1003.000000000|7|10.0.0.5\n");
	g_free(got);
	g_free(want);
	g_free(stats);
	g_free(err);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* s with every "@IN" replaced by the input's path. */
static char *with_input(const char *s, const char *input)
{
	char **parts = g_strsplit(s, "@IN", -1);
	char *joined = g_strjoinv(input, parts);
	g_strfreev(parts);
	return joined;
}

static void test_bad_record(gconstpointer data)
{
	const struct record_case *c = data;
	TEST_NEED_TSHARK();
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/bad.%s", dir, c->format == FORMAT_PCAP ? "pcap" : "pcapng");
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	GByteArray *bytes = c->format == FORMAT_PCAP ? pcap_file(c) : pcapng_file(c);
	g_assert_true(g_file_set_contents(in, (const char *)bytes->data, bytes->len, NULL));
	g_byte_array_unref(bytes);

	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", SCENARIO, "-o", out, in, NULL };
	char *err = NULL;
	int rc = test_run(argv, NULL, &err);
	if (c->want_warning) {
		char *want = with_input(c->want_warning, in);
		g_assert_true(g_str_has_prefix(err, want));
		g_free(want);
	} else {
		g_assert_cmpstr(err, ==, "");
	}
	g_assert_cmpint(rc, ==, 0);
	char *partial = g_strdup_printf("%s.partial", out);
	g_assert_false(g_file_test(partial, G_FILE_TEST_EXISTS));
	g_free(partial);

	/* Both views of every record, in order; the middle one's at its (repaired) time. */
	static const char *const fields[] = { "frame.interface_name", "frame.time_epoch", "frame.len", "frame.comment",
	                                      NULL };
	char *got = test_tshark_fields(out, NULL, NULL, fields);
	char **lines = g_strsplit(got, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 7); /* six views and the empty string after the last */
	char *comment = c->want_comment ? with_input(c->want_comment, in) : NULL;
	for (unsigned i = 0; i < 6; i++) {
		char **col = g_strsplit(lines[i], "|", 4) /* the comment holds " | " itself */;
		g_assert_cmpstr(col[0], ==, i % 2 ? "internet" : "lan");
		g_assert_cmpstr(col[2], ==, "42");
		if (i == 2)
			g_assert_cmpstr(col[1], ==, c->want_time);
		if (i / 2 == 1) {
			if (comment)
				g_assert_nonnull(strstr(col[3], comment));
		}
		if (i / 2 != 1 || !comment)
			g_assert_null(strstr(col[3], "record"));
		g_strfreev(col);
	}
	g_free(comment);
	g_strfreev(lines);
	g_free(got);
	g_free(err);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* A record libpcap refuses (a captured length past any snaplen) ends that input: where the next
 * record starts is unknown.  The records before it are replayed and the warning names it. */
static void test_refused_record_ends_the_input(void)
{
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/bad.pcap", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	struct record_case c = { .ts = G_GUINT64_CONSTANT(1001) << 32, .caplen = 0x7fffffff };
	GByteArray *bytes = pcap_file(&c);
	g_assert_true(g_file_set_contents(in, (const char *)bytes->data, bytes->len, NULL));
	g_byte_array_unref(bytes);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", SCENARIO, "-o", out, in, NULL };
	char *err = NULL;
	g_assert_cmpint(test_run(argv, NULL, &err), ==, 0);
	char *want = g_strdup_printf("natlb replay: warning: %s record 2: ", in);
	g_assert_true(g_str_has_prefix(err, want));
	g_assert_true(g_str_has_suffix(err, "; replayed the 1 record before it\n"));
	if (test_have_tshark()) {
		static const char *const fields[] = { "frame.time_epoch", NULL };
		char *got = test_tshark_fields(out, NULL, "frame.interface_name == \"lan\"", fields);
		g_assert_cmpstr(got, ==, "1000.000000000\n");
		g_free(got);
	}
	g_free(want);
	g_free(err);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* Many bad records make one warning line per file and problem, not one per record: a count and
 * the first one's number. */
static void test_warning_counts_records(void)
{
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/bad.pcap", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	GByteArray *b = pcap_file(&(struct record_case){ .ts = G_GUINT64_CONSTANT(1001) << 32, .len = 20 });
	for (unsigned i = 0; i < 3; i++) /* records 4 to 6, as bad as record 2 */
		pcap_record(b, (uint64_t)(1003 + i) << 32, sizeof udp_frame, 20);
	g_assert_true(g_file_set_contents(in, (const char *)b->data, b->len, NULL));
	g_byte_array_unref(b);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "-s", SCENARIO, "-o", out, in, NULL };
	char *err = NULL;
	g_assert_cmpint(test_run(argv, NULL, &err), ==, 0);
	char *want = g_strdup_printf("natlb replay: warning: %s: 4 records have a captured length above the original "
	                             "length, replayed as long as what was captured (annotated; the first is record 2)\n",
	                             in);
	g_assert_cmpstr(err, ==, want);
	g_free(want);
	g_free(err);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

/* --stats counts the records that were repaired. */
static void test_stats_count_repairs(void)
{
	char *dir = test_tmpdir();
	char *in = g_strdup_printf("%s/bad.pcapng", dir);
	char *out = g_strdup_printf("%s/out.pcapng", dir);
	GByteArray *bytes = pcapng_file(&record_cases[0]);
	g_assert_true(g_file_set_contents(in, (const char *)bytes->data, bytes->len, NULL));
	g_byte_array_unref(bytes);
	const char *argv[] = { test_natlb_binary(), "replay", "-q", "--stats", "-s", SCENARIO, "-o", out, in, NULL };
	char *stats = NULL;
	g_assert_cmpint(test_run(argv, &stats, NULL), ==, 0);
	g_assert_nonnull(strstr(stats, "  input records repaired (timestamp clamped): 1 (replayed, annotated)\n"));
	g_assert_nonnull(strstr(stats, ": balanced\n"));
	g_free(stats);
	g_free(in);
	g_free(out);
	test_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(record_cases); i++) {
		char *path = g_strdup_printf("/input-records/%s", record_cases[i].name);
		g_test_add_data_func(path, &record_cases[i], test_bad_record);
		g_free(path);
	}
	g_test_add_func("/input-records/pcap/refused-record-ends-the-input-named-in-the-warning",
	                test_refused_record_ends_the_input);
	g_test_add_func("/input-records/warnings/one-line-counts-the-records-and-names-the-first",
	                test_warning_counts_records);
	g_test_add_func("/input-records/stats/count-the-repaired-records", test_stats_count_repairs);
	g_test_add_func("/input-records/pcapng/interfaces-of-several-link-types-are-all-replayed",
	                test_pcapng_mixed_linktypes);
	return g_test_run();
}
