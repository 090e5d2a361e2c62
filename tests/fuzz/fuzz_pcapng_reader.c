/* tests/fuzz/fuzz_pcapng_reader.c: libFuzzer harness for common/pcapng_reader.c, the reader natlb explain trusts with any file.
 *
 * STYLE.md habits 1 and 10: whatever the bytes, the reader reads nothing outside them (the
 * input is an exact-size copy, so ASan sees one byte too far), every record it returns lies
 * inside them, frames count up from 1, and after TRUNCATED or INVALID it keeps saying so.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/pcapng_reader.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static int inside(const uint8_t *base, size_t len, const void *p, size_t n)
{
	const uint8_t *b = p;
	return n == 0 || (b >= base && n <= len && b - base <= (ptrdiff_t)(len - n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct pcapng_reader r;
	struct pcapng_record rec;
	enum pcapng_read_status st;
	GError *err = NULL;
	uint64_t frames = 0;

	pcapng_reader_init(&r, copy, size, "fuzz");
	while ((st = pcapng_reader_next(&r, &rec, &err)) == PCAPNG_READ_RECORD) {
		check(rec.frame == ++frames);
		check(inside(copy, size, rec.data, rec.caplen));
		check(inside(copy, size, rec.if_name.s, rec.if_name.len));
		check(rec.n_comments <= PCAPNG_READER_MAX_COMMENTS);
		for (unsigned i = 0; i < rec.n_comments; i++)
			check(inside(copy, size, rec.comments[i].s, rec.comments[i].len));
		check(rec.ts_ns >= 0);
		check(!err);
	}
	if (st == PCAPNG_READ_END) {
		check(!err);
	} else {
		check(err != NULL);
		g_clear_error(&err);
		check(pcapng_reader_next(&r, &rec, &err) == st);
		g_clear_error(&err);
	}
	free(copy);
	return 0;
}
