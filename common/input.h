/* common/input.h: reading one or more captures through libpcap, filtered by BPF, merged by timestamp. */
#ifndef NATLB_INPUT_H
#define NATLB_INPUT_H

#include <glib.h>
#include <stdint.h>

struct input_set; /* opaque: the open captures */

struct input_record {
	const uint8_t *data; /* valid until the next input_next() */
	uint32_t caplen, wirelen;
	int64_t ts_ns;
	int linktype;        /* DLT_* */
	unsigned input;      /* which file, in the order given */
};

#define INPUT_ERROR input_error_quark()
GQuark input_error_quark(void);

/* Open every path (pcap or pcapng, any link type decode_packet() knows) and compile filter
 * (tcpdump syntax, may be NULL) for each.  The error names the file and what is wrong. */
struct input_set *input_open(char **paths, unsigned n_paths, const char *filter, GError **err);

/* The next packet of all inputs in timestamp order (ties: the earlier input first).
 * Returns 1 with *rec set, 0 when every input is finished.  A file that ends in the middle of a
 * record (truncated) is finished early; input_warnings() says so. */
int input_next(struct input_set *in, struct input_record *rec);

/* Warnings collected so far (truncated files), one per line; NULL when none. */
const char *input_warnings(const struct input_set *in);
/* Packets the BPF filter rejected. */
uint64_t input_filtered(const struct input_set *in);
/* Fraction of the input bytes read so far, for a progress bar. */
double input_progress(const struct input_set *in);
const char *input_path(const struct input_set *in, unsigned i);
void input_close(struct input_set *in);

#endif
