/* common/pcapng_reader.h: read back the packet blocks of a pcapng file with their link names, comments and packet ids (libpcap gives neither).
 *
 * Follows draft-ietf-opsawg-pcapng: section 3.1 (block structure), 3.5 (options), 4.1 (SHB:
 * byte order, one section after another), 4.2 (IDB: link type, if_name, if_tsresol), 4.3 (EPB:
 * opt_comment, epb_packetid), 4.4 (SPB) and 4.6 (the obsolete Packet Block), which Wireshark
 * numbers as frames too.  Other blocks are skipped.
 *
 * The reader works over bytes the caller keeps (a mapped file): every field is read through
 * one bounds check, and a record's data and comments point into those bytes.  A file that
 * ends inside a block is told apart from one whose lengths lie: the first is "truncated"
 * (what came before it is good), the second "invalid".  Nothing is allocated per record.
 */
#ifndef NATLB_PCAPNG_READER_H
#define NATLB_PCAPNG_READER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCAPNG_READER_MAX_INTERFACES 256 /* per section; natlb writes one or two per link */
#define PCAPNG_READER_MAX_COMMENTS 8     /* per record; natlb writes at most 4 */

struct pcapng_text {
	const char *s; /* not NUL-terminated */
	uint16_t len;
};

/* One packet block: a frame, numbered from 1 as Wireshark numbers them. */
struct pcapng_record {
	uint64_t frame;
	unsigned interface;       /* within its section */
	int linktype;             /* -1 for an SPB or PB naming an interface not described */
	struct pcapng_text if_name; /* empty when the IDB had none */
	int64_t ts_ns;            /* nanoseconds since the epoch, INT64_MAX at most; 0 for an SPB (it has no time) */
	uint64_t ts_ticks, ticks_per_s; /* the time as the file has it (EPB, PB), for messages */
	const uint8_t *data;
	uint32_t caplen, wirelen;
	uint64_t packet_id;       /* epb_packetid; 0 when absent */
	struct pcapng_text comments[PCAPNG_READER_MAX_COMMENTS];
	unsigned n_comments;      /* comments beyond the maximum are counted in dropped_comments */
	unsigned dropped_comments;
};

struct pcapng_interface {
	int linktype;
	struct pcapng_text name;
	uint64_t ticks_per_s;     /* from if_tsresol; 10^6 by default */
};

struct pcapng_reader {
	const uint8_t *bytes;
	size_t len, pos;
	const char *name;         /* for messages */
	bool swapped;             /* the section is in the other byte order */
	bool in_section;
	unsigned n_interfaces;
	struct pcapng_interface interfaces[PCAPNG_READER_MAX_INTERFACES];
	uint64_t frames;
	int failed;               /* 0, or the status every later call returns */
};

enum pcapng_read_status { PCAPNG_READ_RECORD = 1, PCAPNG_READ_END, PCAPNG_READ_TRUNCATED, PCAPNG_READ_INVALID };

/* Start reading len bytes (name is what messages call them); nothing is checked yet. */
void pcapng_reader_init(struct pcapng_reader *r, const uint8_t *bytes, size_t len, const char *name);

/* The next packet block into *rec.  TRUNCATED and INVALID set err (naming the file, the block's
 * offset and what is wrong); reading after them returns the same status again. */
enum pcapng_read_status pcapng_reader_next(struct pcapng_reader *r, struct pcapng_record *rec, GError **err);

#endif
