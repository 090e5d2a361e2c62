/* common/cursor.h: the one bounds-checked way to read packet bytes (STYLE.md habit 1).
 *
 * Every read says how many bytes it needs and fails, returning false, when they are not
 * there; nothing is ever read past the end the cursor was given (the caplen).  Values are
 * returned in host byte order.  Invariant: pos <= len.
 */
#ifndef NATLB_CURSOR_H
#define NATLB_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *base; /* first byte the cursor may read */
	size_t len;          /* bytes available from base */
	size_t pos;          /* next byte to read */
};

static inline void cur_init(struct cursor *c, const uint8_t *base, size_t len)
{
	c->base = base;
	c->len = len;
	c->pos = 0;
}

static inline size_t cur_remaining(const struct cursor *c)
{
	return c->len - c->pos;
}

static inline bool cur_has(const struct cursor *c, size_t n)
{
	return n <= c->len - c->pos;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (!cur_has(c, n))
		return false;
	c->pos += n;
	return true;
}

static inline bool cur_u8(struct cursor *c, uint8_t *out)
{
	if (!cur_has(c, 1))
		return false;
	*out = c->base[c->pos++];
	return true;
}

static inline bool cur_be16(struct cursor *c, uint16_t *out)
{
	if (!cur_has(c, 2))
		return false;
	*out = (uint16_t)((c->base[c->pos] << 8) | c->base[c->pos + 1]);
	c->pos += 2;
	return true;
}

static inline bool cur_be32(struct cursor *c, uint32_t *out)
{
	if (!cur_has(c, 4))
		return false;
	const uint8_t *p = c->base + c->pos;
	*out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
	c->pos += 4;
	return true;
}

/* Read at an absolute offset without moving; for fields found by offset after decoding. */
static inline bool cur_be16_at(const struct cursor *c, size_t off, uint16_t *out)
{
	struct cursor tmp = { c->base, c->len, 0 };
	return cur_skip(&tmp, off) && cur_be16(&tmp, out);
}

static inline bool cur_be32_at(const struct cursor *c, size_t off, uint32_t *out)
{
	struct cursor tmp = { c->base, c->len, 0 };
	return cur_skip(&tmp, off) && cur_be32(&tmp, out);
}

/* A sub-cursor over the next n bytes (clamped to what is there); the parent moves past them. */
static inline bool cur_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	if (!cur_has(c, n))
		return false;
	cur_init(sub, c->base + c->pos, n);
	c->pos += n;
	return true;
}

#endif
