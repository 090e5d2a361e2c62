/* tests/fuzz/fuzz_input.c: libFuzzer harness for the capture reader (common/input.c), over libpcap and common/pcapng_reader.c.
 *
 * A capture is untrusted input, and libpcap hands over records whose fields lie (issues 10, 11).
 * Any bytes must give one error naming the file, or records natlb can replay, never a crash, a
 * signed overflow or a read past a record.  Oracles, for every record: its time is within
 * [0, INPUT_TS_MAX_NS], its captured length at most its original length, all of its bytes
 * readable (ASan), and a repaired record's sentence names the input and the record.  The bytes
 * are read as two inputs at once, so that the merge runs too: both give the same records, so
 * the two inputs give as many records each.  (Times may go back: a file's records are
 * replayed in file order, and a capture's times need not be sorted.)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An in-memory file, named by a path as natlb's inputs are. */
	int fd = memfd_create("fuzz-input", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	char *paths[2] = { path, path };

	GError *err = NULL;
	struct input_set *in = input_open(paths, 2, NULL, &err);
	if (!in) {
		if (!err || !strstr(err->message, path) || strchr(err->message, '\n'))
			abort();
		g_error_free(err);
		close(fd);
		return 0;
	}
	struct input_record rec;
	volatile uint8_t sink = 0;
	unsigned records = 0, per_input[2] = { 0, 0 };
	while (records < 100000 && input_next(in, &rec) == 1) {
		if (rec.ts_ns < 0 || rec.ts_ns > INPUT_TS_MAX_NS || rec.caplen > rec.wirelen || rec.input > 1)
			abort();
		per_input[rec.input]++;
		for (uint32_t i = 0; i < rec.caplen; i++)
			sink ^= rec.data[i];
		const char *problem = input_last_problem(in);
		if (problem && (!g_str_has_prefix(problem, path) || !strstr(problem, " record ")))
			abort();
		records++;
	}
	if (records < 100000 && per_input[0] != per_input[1])
		abort();
	const char *warnings = input_warnings(in);
	if (warnings && !g_str_has_prefix(warnings, path))
		abort();
	input_close(in);
	close(fd);
	return 0;
}
