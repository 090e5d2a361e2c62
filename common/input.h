/* common/input.h: reading one or more captures through libpcap, filtered by BPF, merged by timestamp. */
#ifndef NATLB_INPUT_H
#define NATLB_INPUT_H

#include <glib.h>
#include <stdint.h>

/* The latest time natlb replays: the last second a classic pcap can hold (its seconds are 32 bits
 * unsigned), so that both output formats hold every view, and int64 nanoseconds keep 156 years of
 * room for hop offsets and timeouts.  The earliest is the epoch (pcapng holds no earlier time). */
#define INPUT_TS_MAX_NS (G_GINT64_CONSTANT(4294967295) * 1000000000)

/* What can be wrong with one record that is replayed anyway, as Wireshark shows it and goes on:
 * X(name, what the warning says of the records). */
#define foreach_input_problem                                                                          \
	X(TIME_OUT_OF_RANGE, "a timestamp outside 1970-01-01 to 2106-02-07 06:28:15 UTC, replayed at the nearest of the two") \
	X(CAPLEN_OVER_LEN, "a captured length above the original length, replayed as long as what was captured")

enum input_problem {
#define X(name, text) INPUT_PROBLEM_##name,
	foreach_input_problem
#undef X
	INPUT_PROBLEM_N
};

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
 * record (truncated), or whose next record libpcap refuses, is finished early; input_warnings()
 * says so.  A record with one of the problems above is repaired (clamped time, original length
 * raised to the captured one) and returned: see input_last_problem(). */
int input_next(struct input_set *in, struct input_record *rec);

/* For the record input_next() returned last: NULL when nothing was wrong with it, else one
 * sentence naming the input, the record (numbered from 1 in its file, as Wireshark numbers
 * frames) and what was repaired, to annotate its views with.  Valid until the next input_next(). */
const char *input_last_problem(const struct input_set *in);
/* How many records had this problem, over all inputs. */
uint64_t input_problems(const struct input_set *in, enum input_problem problem);

/* Warnings so far, one per line: files finished early, and per file and problem how many
 * records had it and the first one's number.  NULL when none. */
const char *input_warnings(struct input_set *in);
/* Packets the BPF filter rejected. */
uint64_t input_filtered(const struct input_set *in);
/* Fraction of the input bytes read so far, for a progress bar. */
double input_progress(const struct input_set *in);
const char *input_path(const struct input_set *in, unsigned i);
void input_close(struct input_set *in);

#endif
