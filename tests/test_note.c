/* tests/test_note.c: the allocation-free note formatting (common/note.c) against printf's text. */
#include <stdio.h>

#include "common/note.h"
#include "tests/testutil.h"

static const uint32_t numbers[] = { 0, 7, 9, 10, 99, 100, 255, 256, 65535, 1000000, 4294967295u };

static const uint32_t addresses[] = { 0x00000000u, 0xffffffffu, 0x0a010203u, 0xc0a80101u, 0x64400000u, 0x01020304u,
	                              0xc6336409u };

static void test_uint_as_printf(void)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++) {
		char want[16];
		g_snprintf(want, sizeof want, "%u", numbers[i]);
		g_string_truncate(s, 0);
		note_append_uint(s, numbers[i]);
		g_assert_cmpstr(s->str, ==, want);
	}
	g_string_free(s, TRUE);
}

/* Each digit count's first and last number, up to 2^64 - 1, and a random sample: the digits are
 * written two at a time from the end, so an off-by-one shows at a power of ten. */
static void test_digits_as_printf_at_every_power_of_ten(void)
{
	GRand *r = g_rand_new_with_seed(7);
	uint64_t p = 1;
	for (unsigned k = 0; k < 1000; k++) {
		uint64_t v;
		if (k < 40) {
			v = k % 2 ? p : p - 1; /* 0, 1, 9, 10, 99, 100, ... */
			if (k % 2 && p <= UINT64_MAX / 10)
				p *= 10;
		} else if (k == 40) {
			v = UINT64_MAX;
		} else {
			v = (uint64_t)g_rand_int(r) << 32 | g_rand_int(r);
			v >>= g_rand_int_range(r, 0, 64);
		}
		char want[24], got[32] = "ab";
		g_snprintf(want, sizeof want, "ab%" G_GUINT64_FORMAT, v);
		size_t end = note_put_digits(got, 2, v);
		got[end] = '\0';
		g_assert_cmpstr(got, ==, want);
	}
	g_rand_free(r);
}

static void test_ip4_and_endpoint_as_printf(void)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(addresses); i++) {
		uint32_t a = addresses[i];
		char want[32];
		g_snprintf(want, sizeof want, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
		g_string_truncate(s, 0);
		note_append_ip4(s, a);
		g_assert_cmpstr(s->str, ==, want);
		g_snprintf(want, sizeof want, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
		           (unsigned)(i * 9000));
		g_string_truncate(s, 0);
		note_append_endpoint(s, a, (uint16_t)(i * 9000));
		g_assert_cmpstr(s->str, ==, want);
	}
	g_string_free(s, TRUE);
}

/* A sentence longer than the local buffer: it is flushed on the way, and nothing is lost or
 * repeated, whichever piece crosses the buffer's end. */
static void test_long_sentence_flushes_on_the_way(void)
{
	GString *s = g_string_new("prefix: ");
	GString *want = g_string_new("prefix: ");
	struct note_buf nb;
	note_buf_init(&nb, s);
	for (unsigned i = 0; i < 200; i++) {
		uint32_t a = addresses[i % G_N_ELEMENTS(addresses)];
		note_buf_ip4(&nb, a);
		g_string_append_printf(want, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
		NOTE_BUF_LIT(&nb, " #");
		note_buf_uint(&nb, numbers[i % G_N_ELEMENTS(numbers)]);
		g_string_append_printf(want, " #%u", numbers[i % G_N_ELEMENTS(numbers)]);
		if (i % 50 == 0) { /* a piece longer than the buffer goes straight to the string */
			char big[300];
			memset(big, 'x', sizeof big);
			note_buf_put(&nb, big, sizeof big);
			g_string_append_len(want, big, sizeof big);
		}
		NOTE_BUF_LIT(&nb, "; ");
		g_string_append(want, "; ");
	}
	note_buf_flush(&nb);
	g_assert_cmpuint(s->len, ==, want->len);
	g_assert_cmpstr(s->str, ==, want->str);
	g_string_free(s, TRUE);
	g_string_free(want, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/note/uint/same-text-as-printf", test_uint_as_printf);
	g_test_add_func("/note/digits/same-text-as-printf-at-every-power-of-ten", test_digits_as_printf_at_every_power_of_ten);
	g_test_add_func("/note/ip4/address-and-endpoint-same-text-as-printf", test_ip4_and_endpoint_as_printf);
	g_test_add_func("/note/buffer/long-sentence-flushed-on-the-way-nothing-lost", test_long_sentence_flushes_on_the_way);
	return g_test_run();
}
