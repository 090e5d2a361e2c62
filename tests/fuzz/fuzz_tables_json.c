/* tests/fuzz/fuzz_tables_json.c: libFuzzer harness for the reader behind `natlb tables` (common/tables_reader.c).
 *
 * A tables file is untrusted input: a student may edit one, or give natlb the wrong file.  Any
 * bytes must give a document or one error, never a crash, a leak, a read past the bytes (they
 * are an exact-size copy) or a stack overflow in json-glib's recursive parser.  Oracles: an error
 * is one line naming the file; a document has at least one snapshot, every snapshot is found by
 * --at at its own time, and every printer runs over all of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tables_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);

	GError *err = NULL;
	struct table_file *tf = table_file_parse("fuzz.json", copy, size, &err);
	if (tf) {
		if (err || tf->n_snapshots == 0)
			abort();
		GString *out = g_string_new(NULL);
		for (unsigned i = 0; i < tf->n_snapshots; i++) {
			const struct table_snapshot *s = &tf->snapshots[i];
			const struct table_snapshot *at = table_file_at(tf, table_file_rel(tf, s->ts_ns));
			if (!at || at->ts_ns != s->ts_ns)
				abort();
			table_snapshot_print(tf, s, NULL, out);
			if (s->n_stages)
				table_snapshot_print(tf, s, s->stages[0].name, out);
		}
		table_file_print_events(tf, NULL, INT64_MAX, out);
		table_file_print_events(tf, "natgw", 0, out);
		table_file_print_list(tf, out);
		g_string_free(out, TRUE);
		table_file_free(tf);
	} else if (!err || !g_str_has_prefix(err->message, "fuzz.json") || strchr(err->message, '\n')) {
		abort(); /* every failure is one line, naming the file first */
	}
	g_clear_error(&err);
	free(copy);
	return 0;
}
