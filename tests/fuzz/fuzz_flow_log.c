/* tests/fuzz/fuzz_flow_log.c: libFuzzer harness for flow_log_read() and findings_compute() (Amazon VPC User Guide, "Flow log records").
 *
 * A flow log handed to natlb findings is untrusted text: any bytes must give records or one error
 * naming the file and line, never a crash, a leak or a read past the text.  Every record returned
 * keeps the reader's invariant (start <= end, a line within the text), and the findings over them
 * name only lines that exist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/findings.h"
#include "common/flow_log_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GArray *records = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
	struct flow_log_read_stats st;
	GError *err = NULL;
	unsigned lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';

	if (flow_log_read("fuzz.log", (const char *)data, size, records, &st, &err)) {
		if (err || st.records != records->len)
			abort();
		for (guint i = 0; i < records->len; i++) {
			const struct flow_record *r = &g_array_index(records, struct flow_record, i);
			if (r->end < r->start || r->line == 0 || r->line > lines)
				abort();
		}
		struct findings_settings s;
		findings_settings_default(&s);
		s.v[FINDINGS_SETTING_PORTSCAN_PORTS] = 2; /* low thresholds, so that findings are raised at all */
		s.v[FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS] = 2;
		s.v[FINDINGS_SETTING_PROBE_SOURCES] = 1;
		GPtrArray *f = findings_compute(records, NULL, &s);
		for (guint i = 0; i < f->len; i++) {
			const struct finding *fd = f->pdata[i];
			for (guint j = 0; j < fd->lines->len; j++)
				if (g_array_index(fd->lines, guint, j) > lines)
					abort();
		}
		findings_free(f);
	} else if (!err || !g_str_has_prefix(err->message, "fuzz.log:") || records->len) {
		abort(); /* every failure names the file and line, and returns no record */
	}
	g_clear_error(&err);
	g_array_free(records, TRUE);
	return 0;
}
