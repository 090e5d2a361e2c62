/* common/pcapng_reader.c: read back pcapng packet blocks with link names, comments and packet ids (draft-ietf-opsawg-pcapng sections 3-4).
 *
 * One block at a time: its type and both copies of its total length are checked against what
 * is left of the file before anything inside it is read, and the body is then read through a
 * cursor limited to the block (common/cursor.h), so no field of one block can reach another.
 */
#include "common/pcapng_reader.h"

#include <string.h>

#include "common/cursor.h"
#include "common/pcapng_writer.h" /* NATLB_OUTPUT_ERROR: the reader's errors are about our files too */

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB  0x00000002u /* obsolete Packet Block, section 4.6 */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END      0
#define OPT_COMMENT  1
#define IF_NAME      2
#define IF_TSRESOL   9
#define EPB_PACKETID 5

void pcapng_reader_init(struct pcapng_reader *r, const uint8_t *bytes, size_t len, const char *name)
{
	memset(r, 0, sizeof *r);
	r->bytes = bytes;
	r->len = len;
	r->name = name;
}

/* The section's byte order: the file's own, or swapped. */
static uint16_t sec16(const struct pcapng_reader *r, uint16_t v)
{
	return r->swapped ? GUINT16_SWAP_LE_BE(v) : v;
}

static uint32_t sec32(const struct pcapng_reader *r, uint32_t v)
{
	return r->swapped ? GUINT32_SWAP_LE_BE(v) : v;
}

static bool get16(const struct pcapng_reader *r, struct cursor *c, uint16_t *out)
{
	if (!cur_has(c, 2))
		return false;
	memcpy(out, c->base + c->pos, 2);
	c->pos += 2;
	*out = sec16(r, *out);
	return true;
}

static bool get32(const struct pcapng_reader *r, struct cursor *c, uint32_t *out)
{
	if (!cur_has(c, 4))
		return false;
	memcpy(out, c->base + c->pos, 4);
	c->pos += 4;
	*out = sec32(r, *out);
	return true;
}

static uint64_t value64(const struct pcapng_reader *r, const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return r->swapped ? GUINT64_SWAP_LE_BE(v) : v;
}

static enum pcapng_read_status fail(struct pcapng_reader *r, enum pcapng_read_status st, size_t at, GError **err,
                                    const char *what)
{
	g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID, "%s: %s at byte %zu: %s", r->name,
	            st == PCAPNG_READ_TRUNCATED ? "cut short" : "not valid pcapng", at, what);
	r->failed = st; /* every later call: the same status */
	return st;
}

/* One option of the list in c: code, length and value, padding skipped.  False at opt_endofopt,
 * at the end of the list, or (with *bad) when the option runs past the block. */
static bool next_option(const struct pcapng_reader *r, struct cursor *c, uint16_t *code, struct cursor *value,
                        bool *bad)
{
	uint16_t len;
	*bad = false;
	if (cur_remaining(c) == 0)
		return false;
	if (!get16(r, c, code) || !get16(r, c, &len)) {
		*bad = true;
		return false;
	}
	if (*code == OPT_END)
		return false;
	size_t padded = ((size_t)len + 3u) & ~(size_t)3u;
	if (!cur_has(c, padded)) {
		*bad = true;
		return false;
	}
	cur_init(value, c->base + c->pos, len);
	c->pos += padded;
	return true;
}

static bool tsresol_ticks(uint8_t v, uint64_t *ticks)
{
	unsigned power = v & 0x7fu;
	if (v & 0x80u) { /* a power of two */
		if (power > 63)
			return false;
		*ticks = (uint64_t)1 << power;
		return true;
	}
	if (power > 19)
		return false;
	*ticks = 1;
	for (unsigned i = 0; i < power; i++)
		*ticks *= 10;
	return true;
}

static bool read_idb(struct pcapng_reader *r, struct cursor *body, const char **why)
{
	uint16_t linktype, reserved, code;
	uint32_t snaplen;
	struct cursor v;
	bool bad;
	if (r->n_interfaces == PCAPNG_READER_MAX_INTERFACES) {
		*why = "more interfaces in one section than natlb reads (256)";
		return false;
	}
	struct pcapng_interface *ifc = &r->interfaces[r->n_interfaces];
	if (!get16(r, body, &linktype) || !get16(r, body, &reserved) || !get32(r, body, &snaplen)) {
		*why = "an Interface Description Block shorter than its fields";
		return false;
	}
	*ifc = (struct pcapng_interface){ .linktype = linktype, .ticks_per_s = 1000000 };
	while (next_option(r, body, &code, &v, &bad)) {
		if (code == IF_NAME) {
			ifc->name = (struct pcapng_text){ (const char *)v.base, (uint16_t)v.len };
			if (ifc->name.len && ifc->name.s[ifc->name.len - 1] == '\0') /* writers may count the NUL */
				ifc->name.len--;
		} else if (code == IF_TSRESOL && (v.len != 1 || !tsresol_ticks(v.base[0], &ifc->ticks_per_s))) {
			*why = "an if_tsresol that is not one byte of 10^0..10^19 or 2^0..2^63";
			return false;
		}
	}
	if (bad) {
		*why = "an interface option runs past its block";
		return false;
	}
	r->n_interfaces++;
	return true;
}

/* Ticks since the epoch at the interface's resolution, in nanoseconds (clamped at INT64_MAX). */
static int64_t ticks_to_ns(uint64_t ticks, uint64_t per_s)
{
	unsigned __int128 ns = (unsigned __int128)(ticks / per_s) * 1000000000u +
	                       (unsigned __int128)(ticks % per_s) * 1000000000u / per_s;
	return ns > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static void record_interface(const struct pcapng_reader *r, struct pcapng_record *rec, unsigned iface)
{
	rec->interface = iface;
	rec->linktype = iface < r->n_interfaces ? r->interfaces[iface].linktype : -1;
	rec->if_name = iface < r->n_interfaces ? r->interfaces[iface].name : (struct pcapng_text){ "", 0 };
}

/* EPB or PB: interface, time, lengths, data, then the options we show. */
static bool read_packet(struct pcapng_reader *r, uint32_t type, struct cursor *body, struct pcapng_record *rec,
                        const char **why)
{
	uint32_t iface, ts_hi, ts_lo, caplen, wirelen;
	uint16_t code;
	struct cursor v;
	bool bad;
	if (type == BT_PB) {
		uint16_t id16, drops;
		if (!get16(r, body, &id16) || !get16(r, body, &drops)) {
			*why = "a Packet Block shorter than its fields";
			return false;
		}
		iface = id16;
	} else if (!get32(r, body, &iface)) {
		*why = "an Enhanced Packet Block shorter than its fields";
		return false;
	}
	if (!get32(r, body, &ts_hi) || !get32(r, body, &ts_lo) || !get32(r, body, &caplen) || !get32(r, body, &wirelen)) {
		*why = "a packet block shorter than its fields";
		return false;
	}
	if (iface >= r->n_interfaces) {
		*why = "a packet names an interface no Interface Description Block described";
		return false;
	}
	size_t padded = ((size_t)caplen + 3u) & ~(size_t)3u;
	if (!cur_has(body, padded)) {
		*why = "a packet's captured length is more than its block holds";
		return false;
	}
	record_interface(r, rec, iface);
	rec->ts_ticks = (uint64_t)ts_hi << 32 | ts_lo;
	rec->ticks_per_s = r->interfaces[iface].ticks_per_s;
	rec->ts_ns = ticks_to_ns(rec->ts_ticks, rec->ticks_per_s);
	rec->data = body->base + body->pos;
	rec->caplen = caplen;
	rec->wirelen = wirelen;
	body->pos += padded;
	while (next_option(r, body, &code, &v, &bad)) {
		if (code == OPT_COMMENT) {
			if (rec->n_comments < PCAPNG_READER_MAX_COMMENTS)
				rec->comments[rec->n_comments++] = (struct pcapng_text){ (const char *)v.base, (uint16_t)v.len };
			else
				rec->dropped_comments++;
		} else if (code == EPB_PACKETID && type == BT_EPB) {
			if (v.len != 8) {
				*why = "an epb_packetid that is not 8 bytes";
				return false;
			}
			rec->packet_id = value64(r, v.base);
		}
	}
	if (bad) {
		*why = "a packet option runs past its block";
		return false;
	}
	return true;
}

static bool read_shb(struct pcapng_reader *r, struct cursor *body, const char **why)
{
	uint32_t magic;
	uint16_t major, minor;
	if (!get32(r, body, &magic) || !get16(r, body, &major) || !get16(r, body, &minor) || !cur_skip(body, 8)) {
		*why = "a Section Header Block shorter than its fields";
		return false;
	}
	if (major != 1) {
		*why = "a section of a pcapng major version other than 1";
		return false;
	}
	r->in_section = true;
	r->n_interfaces = 0; /* interface ids count again from 0 in each section */
	return true;
}

enum pcapng_read_status pcapng_reader_next(struct pcapng_reader *r, struct pcapng_record *rec, GError **err)
{
	if (r->failed) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID, "%s: reading stopped at an earlier error",
		            r->name);
		return (enum pcapng_read_status)r->failed;
	}
	for (;;) {
		size_t at = r->pos, left = r->len - r->pos;
		const uint8_t *b = r->bytes + at;
		uint32_t type, total;
		const char *why = NULL;
		if (left == 0)
			return r->in_section ? PCAPNG_READ_END : fail(r, PCAPNG_READ_INVALID, at, err, "an empty file");
		if (left < 12)
			return fail(r, PCAPNG_READ_TRUNCATED, at, err, "the file ends inside a block header");
		memcpy(&type, b, 4);
		if (type == BT_SHB) { /* the same in either order; the magic after the length says which */
			uint32_t magic;
			memcpy(&magic, b + 8, 4);
			if (magic != BYTE_ORDER_MAGIC && magic != GUINT32_SWAP_LE_BE(BYTE_ORDER_MAGIC))
				return fail(r, PCAPNG_READ_INVALID, at, err, "a Section Header Block without the byte-order magic");
			r->swapped = magic != BYTE_ORDER_MAGIC;
		} else if (!r->in_section) {
			return fail(r, PCAPNG_READ_INVALID, at, err, "the file does not begin with a Section Header Block");
		}
		type = sec32(r, type);
		memcpy(&total, b + 4, 4);
		total = sec32(r, total);
		if (total < 12 || total % 4 != 0)
			return fail(r, PCAPNG_READ_INVALID, at, err, "a block length under 12 or not a multiple of 4");
		if (total > left)
			return fail(r, PCAPNG_READ_TRUNCATED, at, err, "the file ends inside a block");
		uint32_t trailer;
		memcpy(&trailer, b + total - 4, 4);
		if (sec32(r, trailer) != total)
			return fail(r, PCAPNG_READ_INVALID, at, err, "a block whose two lengths differ");
		struct cursor body;
		cur_init(&body, b + 8, total - 12);
		r->pos += total;

		memset(rec, 0, sizeof *rec);
		switch (type) {
		case BT_SHB:
			if (!read_shb(r, &body, &why))
				return fail(r, PCAPNG_READ_INVALID, at, err, why);
			continue;
		case BT_IDB:
			if (!read_idb(r, &body, &why))
				return fail(r, PCAPNG_READ_INVALID, at, err, why);
			continue;
		case BT_EPB:
		case BT_PB:
			if (!read_packet(r, type, &body, rec, &why))
				return fail(r, PCAPNG_READ_INVALID, at, err, why);
			break;
		case BT_SPB: {
			uint32_t wirelen;
			if (!get32(r, &body, &wirelen))
				return fail(r, PCAPNG_READ_INVALID, at, err, "a Simple Packet Block shorter than its fields");
			if (r->n_interfaces == 0)
				return fail(r, PCAPNG_READ_INVALID, at, err, "a Simple Packet Block before any interface");
			record_interface(r, rec, 0);
			rec->data = body.base + body.pos;
			rec->caplen = (uint32_t)MIN((size_t)wirelen, cur_remaining(&body));
			rec->wirelen = wirelen;
			break;
		}
		default:
			continue; /* statistics, name resolution, custom blocks: not packets */
		}
		rec->frame = ++r->frames;
		return PCAPNG_READ_RECORD;
	}
}
