/* common/pcapng_writer.h: a small pcapng writer, because libpcap reads pcapng but does not write it.
 *
 * Follows draft-ietf-opsawg-pcapng (the PCAP Next Generation capture file format):
 * section 3.1 (general block structure), 3.5 (options), 4.1 (Section Header Block),
 * 4.2 (Interface Description Block) and 4.3 (Enhanced Packet Block).
 *
 * A file is one section: one SHB, then IDBs and EPBs in any order, as long as an EPB only
 * names an interface already described.  Everything is written in host byte order (the
 * byte-order magic tells readers which), every block is padded to 32 bits and carries its
 * total length at both ends, and option lists end with opt_endofopt.
 *
 * Invariants: interface ids are 0, 1, 2 ... in the order of pcapng_writer_add_interface();
 * every interface has if_tsresol = 9, so EPB timestamps are nanoseconds since the epoch;
 * after a write error every later call fails with the same error (the file is unusable).
 * Writing a packet allocates nothing once the writer's block buffer has grown to the
 * largest packet seen.  The SHB records no host or OS name, so the same input always
 * gives the same bytes (DESIGN.md: replays are deterministic).
 */
#ifndef NATLB_PCAPNG_WRITER_H
#define NATLB_PCAPNG_WRITER_H

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

/* Errors of the output sinks (this writer and common/output.h) share one domain. */
#define NATLB_OUTPUT_ERROR natlb_output_error_quark()
GQuark natlb_output_error_quark(void);

enum natlb_output_error {
	NATLB_OUTPUT_ERROR_IO,       /* open, write, flush or rename failed; the message has strerror */
	NATLB_OUTPUT_ERROR_INVALID,  /* the caller passed something the format cannot hold */
	NATLB_OUTPUT_ERROR_LINKTYPE, /* pcap format: a second link type on one link */
	NATLB_OUTPUT_ERROR_COLLISION, /* an output would be written over an input or another output */
};

/* The snaplen every IDB declares; a longer caplen is cut to it (the view is then truncated,
   exactly as a capture with this snaplen would have been). */
#define PCAPNG_SNAPLEN 262144u

/* A comment longer than this is cut at a UTF-8 character boundary (option length is 16 bits). */
#define PCAPNG_COMMENT_MAX 65535u

/* stdio buffer of a file: 16 times fewer system calls than stdio's 4 KiB, and small enough to
 * stay in the L2 cache until write() copies it out.  With 1 MiB, the NAPT bench's tables pushed
 * it out between fill and write, and the kernel's copy took 0.3 s longer (perf: 36% of samples
 * in copy_folio_from_iter_atomic against 26% for static NAT; sys 1.15-1.22 s -> 0.67-0.98 s). */
#define PCAPNG_STDIO_BUFFER (64u << 10)

struct pcapng_writer; /* opaque */

/* Create path (truncating it) and write the SHB.  shb_comment and shb_userappl may be NULL.
   Errors name path and give strerror. */
struct pcapng_writer *pcapng_writer_open(const char *path, const char *shb_comment,
                                         const char *shb_userappl, GError **err);

/* Same, on a stream the caller opened for writing and has written nothing to; the writer
   owns it from now on (close/abort fclose it, and so does a failure here).  name is what
   error messages call the file.  Buffering is left as the caller set it, so any stream
   works (open_memstream too); give a file PCAPNG_STDIO_BUFFER with setvbuf, as
   pcapng_writer_open() does, since this is on the hot path of the replay loop. */
struct pcapng_writer *pcapng_writer_open_stream(FILE *f, const char *name, const char *shb_comment,
                                                const char *shb_userappl, GError **err);

/* Add an Interface Description Block; returns the interface id (0, 1, 2 ...) or -1 with err.
   Options: if_name and if_description (each left out when NULL), if_tsresol = 9.
   Snaplen PCAPNG_SNAPLEN. */
int pcapng_writer_add_interface(struct pcapng_writer *w, int linktype, const char *name,
                                const char *description, GError **err);

/* epb_flags bits 0-1 (section 4.3.1 of the draft). */
enum pcapng_direction { PCAPNG_DIR_UNKNOWN = 0, PCAPNG_DIR_INBOUND = 1, PCAPNG_DIR_OUTBOUND = 2 };

/* Write an Enhanced Packet Block: ts_ns nanoseconds since the epoch (not negative), caplen
   bytes of data out of wirelen on the wire (caplen <= wirelen), the direction as epb_flags
   (left out when PCAPNG_DIR_UNKNOWN), packet_id as epb_packetid (left out when 0; section
   4.3.1: every view of one packet on the links it crosses carries the same id, which Wireshark
   shows as frame.packet_id) and one opt_comment per entry of comments (UTF-8; NULL entries are
   skipped).  Returns FALSE with err on a write error or a bad argument. */
gboolean pcapng_writer_packet(struct pcapng_writer *w, int interface_id, int64_t ts_ns,
                              const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                              enum pcapng_direction dir, uint64_t packet_id, const char *const *comments,
                              unsigned n_comments, GError **err);

/* The same, with ONE opt_comment: the parts that are neither NULL nor empty, joined by join (at
   most PCAPNG_WRITER_MAX_PARTS parts), cut at PCAPNG_COMMENT_MAX bytes before a character that
   would not fit whole.  Each part is measured once and copied once, into the block. */
#define PCAPNG_WRITER_MAX_PARTS 16u
gboolean pcapng_writer_packet_joined(struct pcapng_writer *w, int interface_id, int64_t ts_ns,
                                     const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                                     enum pcapng_direction dir, uint64_t packet_id, const char *const *parts,
                                     unsigned n_parts, const char *join, GError **err);

/* Flush and close (no fsync); returns FALSE with err on a write error.  Frees w in every case. */
gboolean pcapng_writer_close(struct pcapng_writer *w, GError **err);

/* Free without finishing; the file is left half-written, so the caller deletes it. */
void pcapng_writer_abort(struct pcapng_writer *w);

#endif
