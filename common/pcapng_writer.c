/* common/pcapng_writer.c: writes pcapng sections (SHB, IDBs, EPBs) for the replay loop.
 *
 * Follows draft-ietf-opsawg-pcapng sections 3.1, 3.5, 4.1, 4.2 and 4.3; see pcapng_writer.h
 * for the invariants.  Each block is built whole in a buffer the writer owns, then handed
 * to stdio in one checked fwrite: the buffer grows only when a bigger block arrives, so the
 * packet path allocates nothing, and a block is either written whole or reported failed.
 */
#include "common/pcapng_writer.h"

#include <errno.h>
#include <string.h>

/* Block types (section 11.1 of the draft, "Block Type Codes"). */
#define PCAPNG_BT_SHB 0x0A0D0D0Au
#define PCAPNG_BT_IDB 0x00000001u
#define PCAPNG_BT_EPB 0x00000006u

#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Option codes: common ones (section 3.5), then per block type. */
#define OPT_ENDOFOPT   0
#define OPT_COMMENT    1
#define SHB_USERAPPL   4
#define IF_NAME        2
#define IF_DESCRIPTION 3
#define IF_TSRESOL     9
#define EPB_FLAGS      2
#define EPB_PACKETID   5

struct pcapng_writer {
	FILE *f;
	char *name;        /* the file, as error messages call it */
	char *stdio_buf;   /* f's buffer when we set it; outlives f */
	uint8_t *block;    /* the block being built */
	size_t block_cap;  /* bytes allocated at block */
	size_t block_len;  /* bytes built so far */
	unsigned n_interfaces;
	GError *failed;    /* the first write error, returned again by every later call */
};

G_DEFINE_QUARK(natlb-output, natlb_output_error)

/* Every block and option body is padded to a multiple of 4 bytes (section 3.1). */
static size_t pad4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

/* Bytes of a string option: at most PCAPNG_COMMENT_MAX, cut before a UTF-8 continuation
   byte (10xxxxxx) so a multi-byte character is never split. */
static size_t option_string_len(const char *s)
{
	size_t n = strnlen(s, PCAPNG_COMMENT_MAX + 1u);
	if (n <= PCAPNG_COMMENT_MAX)
		return n;
	n = PCAPNG_COMMENT_MAX;
	/* s[n] is the first byte left out; while it continues a character, leave that one out too. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0u) == 0x80u)
		n--;
	return n;
}

/* Size of one option: code, length, value padded. */
static size_t option_size(size_t value_len)
{
	return 4u + pad4(value_len);
}

/* Make room for a block of `size` bytes; grows only, so steady state allocates nothing. */
static void block_reserve(struct pcapng_writer *w, size_t size)
{
	if (size <= w->block_cap)
		return;
	size_t cap = w->block_cap ? w->block_cap : 4096u;
	while (cap < size)
		cap *= 2u;
	w->block = g_realloc(w->block, cap);
	w->block_cap = cap;
}

/* The put_* helpers append to a block whose full size was reserved beforehand. */
static void put_bytes(struct pcapng_writer *w, const void *p, size_t n)
{
	memcpy(w->block + w->block_len, p, n);
	w->block_len += n;
}

static void put_u16(struct pcapng_writer *w, uint16_t v)
{
	put_bytes(w, &v, sizeof v); /* native byte order: the SHB magic tells readers which */
}

static void put_u32(struct pcapng_writer *w, uint32_t v)
{
	put_bytes(w, &v, sizeof v);
}

static void put_zeros_to_pad(struct pcapng_writer *w)
{
	size_t n = pad4(w->block_len) - w->block_len;
	memset(w->block + w->block_len, 0, n);
	w->block_len += n;
}

static void put_option(struct pcapng_writer *w, uint16_t code, const void *value, size_t len)
{
	put_u16(w, code);
	put_u16(w, (uint16_t)len);
	put_bytes(w, value, len);
	put_zeros_to_pad(w);
}

static void put_end_of_options(struct pcapng_writer *w)
{
	put_u16(w, OPT_ENDOFOPT);
	put_u16(w, 0);
}

/* Start a block: type, then its total length (filled in by block_finish). */
static void block_start(struct pcapng_writer *w, uint32_t type)
{
	w->block_len = 0;
	put_u32(w, type);
	put_u32(w, 0);
}

/* Repeat the total length at the end and patch it in at the start (section 3.1). */
static void block_finish(struct pcapng_writer *w)
{
	uint32_t total = (uint32_t)(w->block_len + 4u);
	put_u32(w, total);
	memcpy(w->block + 4, &total, sizeof total);
}

static gboolean io_failed(struct pcapng_writer *w, int errsv, GError **err)
{
	g_set_error(&w->failed, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot write %s: %s", w->name,
	            g_strerror(errsv));
	g_propagate_error(err, g_error_copy(w->failed));
	return FALSE;
}

static gboolean block_write(struct pcapng_writer *w, GError **err)
{
	errno = 0;
	if (fwrite(w->block, 1, w->block_len, w->f) != w->block_len)
		return io_failed(w, errno ? errno : EIO, err);
	return TRUE;
}

/* A writer that failed once stays failed: a block after a lost one would corrupt the file. */
static gboolean check_not_failed(struct pcapng_writer *w, GError **err)
{
	if (!w->failed)
		return TRUE;
	g_propagate_error(err, g_error_copy(w->failed));
	return FALSE;
}

static void writer_free(struct pcapng_writer *w)
{
	g_clear_error(&w->failed);
	g_free(w->block);
	g_free(w->stdio_buf);
	g_free(w->name);
	g_free(w);
}

/* Section Header Block (section 4.1): magic, version 1.0, section length -1 ("not given",
   so the file can be streamed), then the options.  stdio_buf, when not NULL, is f's buffer,
   freed with the writer. */
static struct pcapng_writer *writer_start(FILE *f, char *stdio_buf, const char *name,
                                          const char *shb_comment, const char *shb_userappl,
                                          GError **err)
{
	struct pcapng_writer *w = g_new0(struct pcapng_writer, 1);
	w->f = f;
	w->stdio_buf = stdio_buf;
	w->name = g_strdup(name);

	size_t comment_len = shb_comment ? option_string_len(shb_comment) : 0;
	size_t userappl_len = shb_userappl ? option_string_len(shb_userappl) : 0;
	gboolean any_option = shb_comment || shb_userappl;
	size_t size = 12u + 4u + 8u + 4u;
	if (shb_comment)
		size += option_size(comment_len);
	if (shb_userappl)
		size += option_size(userappl_len);
	if (any_option)
		size += 4u;
	block_reserve(w, size);

	block_start(w, PCAPNG_BT_SHB);
	put_u32(w, PCAPNG_BYTE_ORDER_MAGIC);
	put_u16(w, 1); /* major version */
	put_u16(w, 0); /* minor version */
	int64_t section_length = -1;
	put_bytes(w, &section_length, sizeof section_length);
	if (shb_comment)
		put_option(w, OPT_COMMENT, shb_comment, comment_len);
	if (shb_userappl)
		put_option(w, SHB_USERAPPL, shb_userappl, userappl_len);
	if (any_option)
		put_end_of_options(w);
	block_finish(w);

	if (!block_write(w, err)) {
		pcapng_writer_abort(w);
		return NULL;
	}
	return w;
}

struct pcapng_writer *pcapng_writer_open(const char *path, const char *shb_comment,
                                         const char *shb_userappl, GError **err)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		int errsv = errno;
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot create %s: %s", path,
		            g_strerror(errsv));
		return NULL;
	}
	/* Our own buffer: glibc ignores the size when setvbuf is given none. */
	char *stdio_buf = g_malloc(PCAPNG_STDIO_BUFFER);
	setvbuf(f, stdio_buf, _IOFBF, PCAPNG_STDIO_BUFFER);
	return writer_start(f, stdio_buf, path, shb_comment, shb_userappl, err);
}

struct pcapng_writer *pcapng_writer_open_stream(FILE *f, const char *name, const char *shb_comment,
                                                const char *shb_userappl, GError **err)
{
	return writer_start(f, NULL, name, shb_comment, shb_userappl, err);
}

/* Interface Description Block (section 4.2). */
int pcapng_writer_add_interface(struct pcapng_writer *w, int linktype, const char *name,
                                const char *description, GError **err)
{
	if (!check_not_failed(w, err))
		return -1;
	if (linktype < 0 || linktype > 0xFFFF) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: link type %d does not fit the 16-bit IDB field", w->name, linktype);
		return -1;
	}
	size_t name_len = name ? option_string_len(name) : 0;
	size_t descr_len = description ? option_string_len(description) : 0;
	size_t size = 8u + 8u + option_size(1) + 4u + 4u;
	if (name)
		size += option_size(name_len);
	if (description)
		size += option_size(descr_len);
	block_reserve(w, size);

	block_start(w, PCAPNG_BT_IDB);
	put_u16(w, (uint16_t)linktype);
	put_u16(w, 0); /* reserved */
	put_u32(w, PCAPNG_SNAPLEN);
	if (name)
		put_option(w, IF_NAME, name, name_len);
	if (description)
		put_option(w, IF_DESCRIPTION, description, descr_len);
	/* High bit clear: 10^-9 seconds.  Without this option readers assume microseconds. */
	uint8_t tsresol = 9;
	put_option(w, IF_TSRESOL, &tsresol, 1);
	put_end_of_options(w);
	block_finish(w);

	if (!block_write(w, err))
		return -1;
	return (int)w->n_interfaces++;
}

/* The comments of one packet block: n strings, each its own opt_comment, or, when join is set,
 * the non-empty ones joined by it into one opt_comment (len[] and total measure them). */
struct epb_comments {
	const char *const *s;
	unsigned n;
	const char *join;
	size_t join_len;
	size_t *len;               /* joined: n lengths, filled by comments_measure() */
	size_t total;              /* joined: the whole comment before any cut */
};

static uint64_t comments_measure(struct epb_comments *c)
{
	uint64_t options = 0;
	if (!c->join) {
		for (unsigned i = 0; i < c->n; i++)
			if (c->s[i])
				options += option_size(option_string_len(c->s[i]));
		return options;
	}
	c->total = 0;
	for (unsigned i = 0; i < c->n; i++) {
		c->len[i] = c->s[i] ? strlen(c->s[i]) : 0;
		if (c->len[i])
			c->total += (c->total ? c->join_len : 0) + c->len[i];
	}
	return c->total ? option_size(MIN(c->total, PCAPNG_COMMENT_MAX)) : 0;
}

/* Append up to the room left of s to the option value that began at start; the first byte left
 * out, if any, goes to *next. */
static void put_within(struct pcapng_writer *w, size_t start, const char *s, size_t len, int *next)
{
	size_t room = PCAPNG_COMMENT_MAX - (w->block_len - start);
	if (*next >= 0)
		return;
	if (len > room) {
		*next = (unsigned char)s[room];
		len = room;
	}
	put_bytes(w, s, len);
}

/* The joined comment, cut as option_string_len() cuts one: at the limit, before a character that
 * does not fit whole. */
static void put_joined_comment(struct pcapng_writer *w, const struct epb_comments *c)
{
	size_t head = w->block_len;
	put_u16(w, OPT_COMMENT);
	put_u16(w, 0); /* patched below */
	size_t start = w->block_len;
	int next = -1; /* the first byte left out, or -1 */
	gboolean any = FALSE;
	for (unsigned i = 0; i < c->n; i++) {
		if (!c->len[i])
			continue;
		if (any)
			put_within(w, start, c->join, c->join_len, &next);
		put_within(w, start, c->s[i], c->len[i], &next);
		any = TRUE;
	}
	size_t n = w->block_len - start;
	while (next >= 0 && n > 0 && (next & 0xC0) == 0x80)
		next = w->block[start + --n];
	w->block_len = start + n;
	uint16_t len16 = (uint16_t)n;
	memcpy(w->block + head + 2, &len16, sizeof len16);
	put_zeros_to_pad(w);
}

/* Enhanced Packet Block (section 4.3). */
static gboolean epb_write(struct pcapng_writer *w, int interface_id, int64_t ts_ns, const uint8_t *data,
                          uint32_t caplen, uint32_t wirelen, enum pcapng_direction dir, uint64_t packet_id,
                          struct epb_comments *c, GError **err)
{
	if (!check_not_failed(w, err))
		return FALSE;
	if (interface_id < 0 || (unsigned)interface_id >= w->n_interfaces) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: packet names interface %d, but %u are described", w->name, interface_id,
		            w->n_interfaces);
		return FALSE;
	}
	if (ts_ns < 0) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: timestamp %" G_GINT64_FORMAT " ns is before 1970, which pcapng cannot hold",
		            w->name, ts_ns);
		return FALSE;
	}
	if (caplen > wirelen) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: captured length %u is more than the original length %u", w->name, caplen,
		            wirelen);
		return FALSE;
	}
	if (caplen > PCAPNG_SNAPLEN)
		caplen = PCAPNG_SNAPLEN;

	/* Measure first, so the block is reserved once and its 32-bit length checked. */
	uint64_t options = comments_measure(c);
	if (dir != PCAPNG_DIR_UNKNOWN)
		options += option_size(4);
	if (packet_id)
		options += option_size(8);
	if (options)
		options += 4u; /* opt_endofopt */
	uint64_t size = 28u + pad4(caplen) + options + 4u;
	if (size > UINT32_MAX) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: %u comments make the packet block longer than 4 GiB", w->name, c->n);
		return FALSE;
	}
	block_reserve(w, (size_t)size);

	block_start(w, PCAPNG_BT_EPB);
	put_u32(w, (uint32_t)interface_id);
	put_u32(w, (uint32_t)((uint64_t)ts_ns >> 32)); /* timestamp, upper 32 bits first */
	put_u32(w, (uint32_t)(uint64_t)ts_ns);
	put_u32(w, caplen);
	put_u32(w, wirelen);
	put_bytes(w, data, caplen);
	put_zeros_to_pad(w);
	if (c->join) {
		if (c->total)
			put_joined_comment(w, c);
	} else {
		for (unsigned i = 0; i < c->n; i++)
			if (c->s[i])
				put_option(w, OPT_COMMENT, c->s[i], option_string_len(c->s[i]));
	}
	if (dir != PCAPNG_DIR_UNKNOWN) {
		uint32_t flags = (uint32_t)dir & 0x3u; /* bits 0-1: inbound/outbound */
		put_option(w, EPB_FLAGS, &flags, sizeof flags);
	}
	if (packet_id)
		put_option(w, EPB_PACKETID, &packet_id, sizeof packet_id); /* host order, as every field */
	if (options)
		put_end_of_options(w);
	block_finish(w);

	return block_write(w, err);
}

gboolean pcapng_writer_packet(struct pcapng_writer *w, int interface_id, int64_t ts_ns,
                              const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                              enum pcapng_direction dir, uint64_t packet_id, const char *const *comments,
                              unsigned n_comments, GError **err)
{
	struct epb_comments c = { .s = comments, .n = n_comments };
	return epb_write(w, interface_id, ts_ns, data, caplen, wirelen, dir, packet_id, &c, err);
}

gboolean pcapng_writer_packet_joined(struct pcapng_writer *w, int interface_id, int64_t ts_ns,
                                     const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                                     enum pcapng_direction dir, uint64_t packet_id, const char *const *parts,
                                     unsigned n_parts, const char *join, GError **err)
{
	if (n_parts > PCAPNG_WRITER_MAX_PARTS) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: %u comment parts, more than %u", w->name, n_parts, PCAPNG_WRITER_MAX_PARTS);
		return FALSE;
	}
	size_t len[PCAPNG_WRITER_MAX_PARTS]; /* not cleared: comments_measure() sets each */
	struct epb_comments c = { .s = parts, .n = n_parts, .join = join, .join_len = strlen(join), .len = len };
	return epb_write(w, interface_id, ts_ns, data, caplen, wirelen, dir, packet_id, &c, err);
}

gboolean pcapng_writer_close(struct pcapng_writer *w, GError **err)
{
	gboolean ok = check_not_failed(w, err);
	/* A full disk often shows only here, when stdio writes out its last buffer. */
	if (ok && fflush(w->f) != 0)
		ok = io_failed(w, errno, err);
	if (fclose(w->f) != 0 && ok)
		ok = io_failed(w, errno, err);
	writer_free(w);
	return ok;
}

void pcapng_writer_abort(struct pcapng_writer *w)
{
	fclose(w->f);
	writer_free(w);
}
