/* common/output.h: where the replay loop writes its views: one pcapng, or one classic pcap per link.
 *
 * Follows DESIGN.md "How a packet travels", step 5.  pcapng goes through common/pcapng_writer.h
 * (draft-ietf-opsawg-pcapng); classic pcap goes through libpcap's dumper (pcap-savefile(5)),
 * with nanosecond timestamps.
 *
 * pcapng: one file; each link is an interface named after it (if_name, if_description), one
 * IDB per (link, link type) created on first use, so a link that carries two link types has
 * two IDBs with the same name.  Comments become opt_comment, the direction epb_flags.
 * pcap: one file per link, named by output_pcap_link_path(); a pcap file has one link type,
 * fixed by the link's first packet, and no place for comments or direction, so THOSE ARE
 * DROPPED in this format.
 *
 * Invariant: nothing appears under the final names until output_close() (or output_commit())
 * succeeds, and then all of them do.  Files are written as NAME.partial in the same directory
 * (so the rename cannot cross file systems) and renamed at the end; output_abort(), or a failing
 * close or commit, removes them.
 */
#ifndef NATLB_OUTPUT_H
#define NATLB_OUTPUT_H

#include <stdbool.h>

#include "common/pcapng_writer.h"

enum output_format { OUTPUT_PCAPNG, OUTPUT_PCAP };

struct output; /* opaque */

/* path: for pcapng the file; for pcap the base path of the per-link files.  shb_comment is
   the pcapng section comment (e.g. the scenario's description); unused in pcap format.
   pcapng: an unwritable path fails here; pcap: at the first write on a link. */
struct output *output_open(enum output_format fmt, const char *path, const char *shb_comment,
                           GError **err);

/* Declare a link before writing to it; returns a link handle >= 0 (-1 for a name already
   declared, a programming error).  description may be NULL. */
int output_add_link(struct output *o, const char *name, const char *description);

/* Write one view of a packet on a link (see pcapng_writer_packet() for the arguments).  Its
   comments become ONE pcapng comment, "flow #N | first | second | note" (no "flow #N" when flow
   is 0): Wireshark's comment column and tshark join several comments with commas, which a
   reader cannot tell from the commas inside a sentence.  In pcap format a second link type on
   one link is an error (NATLB_OUTPUT_ERROR_LINKTYPE) that names the link and both link types.
   Allocates nothing once each (link, link type) has been seen: the writer joins the parts as it
   copies them into the block. */
#define OUTPUT_COMMENT_SEPARATOR " | "
gboolean output_write(struct output *o, int link, int linktype, int64_t ts_ns, const uint8_t *data,
                      uint32_t caplen, uint32_t wirelen, enum pcapng_direction dir, uint64_t packet_id, uint32_t flow,
                      const char *const *comments, unsigned n_comments, GError **err);

/* Add note as one more part of the comment of every view written until the next call (NULL: stop), e.g.
   what was wrong with the input record these views come from.  o keeps the pointer, not a copy.
   Dropped in pcap format, as every comment is. */
void output_set_note(struct output *o, const char *note);

/* Finish every file and rename it into place: output_finish(), then output_commit(); on an
   error no file is left, under either name.  Frees o in every case. */
gboolean output_close(struct output *o, GError **err);

/* The two halves of output_close(), for a caller with other files to move into place at the
   same time (all outputs or none).  output_finish() writes out and closes every file, under its
   temporary name; on FALSE follow with output_abort().  output_commit() renames them all; when
   one rename fails, the files renamed before it are removed again and the temporaries too, so
   no output is left.  It frees o. */
gboolean output_finish(struct output *o, GError **err);
gboolean output_commit(struct output *o, GError **err);

/* Remove the temporaries; frees o. */
void output_abort(struct output *o);

/* The final paths, for telling the user what to open: the pcapng file, or in pcap format the
   file of every link written so far (a link that saw no packet gets no file).  NULL-terminated,
   owned by o, valid until close/abort. */
const char *const *output_paths(struct output *o);

/* pcap format's file for a link: the link name goes before the extension ("out.pcap" and "lan"
   give "out.lan.pcap"); without one, ".LINK.pcap" is appended.  A '/' in the link name becomes
   '_'.  Free with g_free(). */
char *output_pcap_link_path(const char *base, const char *link);

/* ---- Before anything is opened: is any file written over another one? ---------------------- */

/* A file a replay reads or writes. */
struct output_role {
	char *path;
	char *what;   /* how the refusal names it: "-o out.pcapng", "the input a.pcap" */
	bool input;   /* read, never written */
};

/* An array of struct output_role that frees the strings it holds. */
GArray *output_roles_new(void);
void output_roles_add(GArray *roles, const char *path, bool input, const char *what_format, ...) G_GNUC_PRINTF(4, 5);
/* The files output_open(fmt, path) would write, final and temporary, when the links named are
   written (pcap format writes a file per link; pcapng ignores links). */
void output_roles_add_output(GArray *roles, enum output_format fmt, const char *path, const char *const *links);

/* FALSE, with one sentence, when an output is a directory, or is an input or another output
   (the sentence names both): the same
   file (device and inode) where both exist, the same name once made absolute with the directory's
   symbolic links resolved otherwise.  Two inputs may be the same file: reading twice harms none. */
gboolean output_roles_check(const GArray *roles, GError **err);

#endif
