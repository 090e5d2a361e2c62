/* tests/fuzz/fuzz_scenario.c: libFuzzer harness for scenario_load_data(natlb_stage_types(), ) (DESIGN.md "The scenario format").
 *
 * A scenario is text a teacher types, so any bytes must give a scenario or one error, never a
 * crash, a leak or a read past the text.  A loaded scenario must describe itself and answer
 * scenario_link_of() with one of its links.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/scenario.h"
#include "tools/stage_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), "fuzz.ini", text, &err);
	if (sc) {
		if (err)
			abort(); /* a scenario and an error at once */
		GString *out = g_string_new(NULL);
		scenario_describe(sc, out);
		g_string_free(out, TRUE);
		for (uint32_t a = 0; a < 8; a++)
			if (scenario_link_of(sc, a * 0x20000001u) >= sc->n_links)
				abort();
		scenario_free(sc);
	} else if (!err || !g_str_has_prefix(err->message, "fuzz.ini")) {
		abort(); /* every failure says why, naming the source first */
	}
	g_clear_error(&err);
	free(text);
	return 0;
}
