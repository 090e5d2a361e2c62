/* tests/testemit.h: a capturing emitter, so that a stage's emitted packets can be checked without the replay loop (common/stage-t.h, struct emitter). */
#ifndef NATLB_TESTEMIT_H
#define NATLB_TESTEMIT_H

#include <glib.h>
#include <string.h>

#include "common/stage-t.h"

/* Keeps the last packet emitted (its bytes copied) and counts them. */
struct test_emitter {
	struct emitter em;
	struct emitted_packet last;  /* last.bytes points at bytes */
	uint8_t bytes[2048];
	unsigned n;
};

static inline bool test_emitter_emit(struct emitter *em, const struct emitted_packet *e)
{
	struct test_emitter *c = (struct test_emitter *)em;
	g_assert_cmpuint(e->len, <=, sizeof c->bytes);
	c->last = *e;
	memcpy(c->bytes, e->bytes, e->len);
	c->last.bytes = c->bytes;
	c->n++;
	return true;
}

static inline void test_emitter_init(struct test_emitter *c)
{
	memset(c, 0, sizeof *c);
	c->em.emit = test_emitter_emit;
}

#endif
