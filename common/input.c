/* common/input.c: captures in, through libpcap (pcap-savefile(5)) and common/pcapng_reader.c (pcapng), BPF with pcap_offline_filter.
 *
 * Streaming: each input holds exactly one pending record (libpcap's buffer, or the mapped file),
 * so memory does not grow with the capture.  Merging several inputs picks the earliest pending
 * record each time.
 *
 * A pcapng file (a regular file; a FIFO still goes through libpcap) is read by natlb's own
 * reader over the mapped file: libpcap 1.10 takes one link type per file, the first interface's,
 * and stops at the first packet of an interface of another (pcapplusplus__pcapng-example.pcapng:
 * Ethernet and Linux SLL, 59 of its 159 packets, with no error).  Each record then carries its
 * interface's link type, and BPF is compiled once per link type met.  A record on a link type
 * natlb cannot decode is skipped and counted, never guessed at.
 *
 * Bad records: libpcap hands over, as data, records that Wireshark shows with a warning: a
 * captured length above the original length, and a classic pcap's seconds past 2038, which it
 * reads as a signed 32-bit number (pcap-savefile(5) and draft-ietf-opsawg-pcap section 5 say
 * unsigned, as Wireshark reads them).  So does a pcapng time past what int64 nanoseconds hold.
 * None of them stops the replay: seconds are read as the format defines them, and a time or a
 * length natlb cannot use is repaired, counted per file, and said in input_last_problem().
 * Warnings stay a few lines whatever the number of bad records: a count and the first one.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/input.h"
#include "common/packet.h"
#include "common/pcapng_reader.h"

G_DEFINE_QUARK(natlb-input-error-quark, input_error)

/* The stdio buffer of a capture: see PCAPNG_STDIO_BUFFER for why 64 KiB and not more. */
#define INPUT_STDIO_BUFFER (64u << 10)

#define NS_PER_S 1000000000

static const char *const input_problem_texts[INPUT_PROBLEM_N] = {
#define X(name, text) [INPUT_PROBLEM_##name] = text,
	foreach_input_problem
#undef X
};

/* Link types one pcapng file may mix and natlb compiles the filter for (Wireshark's own captures
 * mix two or three). */
#define INPUT_MAX_LINKTYPES 16

/* A pcapng file read whole over its mapped bytes, and the BPF program for each link type met. */
struct input_pcapng {
	GMappedFile *map;
	struct pcapng_reader r;
	struct pcapng_record rec;
	int filter_linktype[INPUT_MAX_LINKTYPES];
	struct bpf_program filters[INPUT_MAX_LINKTYPES];
	bool filter_ok[INPUT_MAX_LINKTYPES];
	unsigned n_filters;
	uint64_t skipped, first_skipped; /* records on a link type natlb does not decode */
	int skipped_linktype;
	uint64_t unfiltered, first_unfiltered; /* records the filter cannot be compiled for */
	int unfiltered_linktype;
};

/* How many records of one file had a problem, and the first of them. */
struct problem_count {
	uint64_t records;
	uint64_t first;
};

struct input_file {
	char *path;
	pcap_t *pcap;
	struct bpf_program filter;
	bool has_filter;
	bool pending;                  /* hdr/data/ts_ns hold the next record */
	bool done;
	bool classic;                  /* pcap-savefile(5), not pcapng: seconds are 32 bits unsigned */
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int64_t ts_ns;                 /* of the pending record, within [0, INPUT_TS_MAX_NS] */
	uint32_t wirelen;              /* of the pending record, at least its caplen */
	bool has_problem;              /* the pending record was repaired; problem says how */
	uint64_t records;              /* read so far, filtered ones too: the pending one's number */
	struct problem_count problems[INPUT_PROBLEM_N];
	uint64_t size;                 /* bytes on disk, for progress */
	char *stdio_buffer;            /* the FILE's buffer: freed after pcap_close() closes the FILE */
	struct input_pcapng *ng;       /* a pcapng file read by pcapng_reader; pcap is NULL then */
	const char *filter_text;       /* for the link types a pcapng file meets later */
	uint32_t caplen;               /* of the pending record */
	int linktype;                  /* of the pending record */
};

struct input_set {
	struct input_file *files;
	unsigned n;
	uint64_t filtered;
	uint64_t total_size;
	GString *read_errors;          /* files finished early, one line each */
	GString *warnings;             /* read_errors and the problem counts, built on request */
	GString **file_problem;        /* per file, the sentence about its pending record */
	bool last_has_problem;
	unsigned last;                 /* the file input_next() took its last record from */
};

static const char *linktype_name(int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);
	return name ? name : "unknown";
}

/* Read f, a pcapng file libpcap has opened (and so checked), with natlb's reader instead. */
static gboolean pcapng_open(struct input_file *f, GError **err)
{
	GMappedFile *map = g_mapped_file_new(f->path, FALSE, err);
	if (!map)
		return FALSE;
	f->ng = g_new0(struct input_pcapng, 1);
	f->ng->map = map;
	pcapng_reader_init(&f->ng->r, (const uint8_t *)g_mapped_file_get_contents(map), g_mapped_file_get_length(map),
	                   f->path);
	if (f->has_filter) { /* compiled against the first interface's link type: the first program */
		f->ng->filter_linktype[0] = f->linktype;
		f->ng->filters[0] = f->filter;
		f->ng->filter_ok[0] = true;
		f->ng->n_filters = 1;
		f->has_filter = false;
	}
	pcap_close(f->pcap); /* closes the FILE too */
	f->pcap = NULL;
	return TRUE;
}

struct input_set *input_open(char **paths, unsigned n_paths, const char *filter, GError **err)
{
	struct input_set *in = g_new0(struct input_set, 1);
	char errbuf[PCAP_ERRBUF_SIZE];

	in->files = g_new0(struct input_file, n_paths);
	in->file_problem = g_new0(GString *, n_paths);
	in->n = n_paths;
	for (unsigned i = 0; i < n_paths; i++) {
		struct input_file *f = &in->files[i];
		struct stat stbuf;

		f->path = g_strdup(paths[i]);
		if (stat(f->path, &stbuf) != 0) {
			g_set_error(err, INPUT_ERROR, 0, "%s: %s", f->path, g_strerror(errno));
			goto fail;
		}
		if (S_ISDIR(stbuf.st_mode)) {
			g_set_error(err, INPUT_ERROR, 0, "%s: is a directory, not a capture", f->path);
			goto fail;
		}
		f->size = (uint64_t)stbuf.st_size;
		in->file_problem[i] = g_string_new(NULL);
		in->total_size += f->size;
		/* Our own FILE with a large buffer: libpcap's default stdio buffer costs one read()
		 * per 4 KiB (313,707 read() calls for the bench capture).  The buffer must be ours:
		 * glibc's setvbuf() ignores the size when it is left to allocate the buffer itself. */
		FILE *fp = fopen(f->path, "rb");
		if (!fp) {
			g_set_error(err, INPUT_ERROR, 0, "%s: %s", f->path, g_strerror(errno));
			goto fail;
		}
		f->stdio_buffer = g_malloc(INPUT_STDIO_BUFFER);
		setvbuf(fp, f->stdio_buffer, _IOFBF, INPUT_STDIO_BUFFER);
		f->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
		if (!f->pcap) {
			fclose(fp);
			if (strstr(errbuf, "unknown file format") || strstr(errbuf, "truncated dump file; tried to read 4 file header"))
				g_set_error(err, INPUT_ERROR, 0, "%s: not a pcap or pcapng capture (%s)", f->path, errbuf);
			else
				g_set_error(err, INPUT_ERROR, 0, "%s: %s", f->path, errbuf);
			goto fail;
		}
		/* libpcap gives a classic pcap's version, 2.4, and a pcapng section's, 1.0.  (Peeking at
		 * the magic number ourselves would need a seekable file, and a FIFO is a fine input.) */
		f->classic = pcap_major_version(f->pcap) == 2;
		int dlt = pcap_datalink(f->pcap);
		if (!decode_linktype_supported(dlt)) {
			g_set_error(err, INPUT_ERROR, 0, "%s: link type %s (%d) is not supported; natlb reads "
			            "Ethernet (with 802.1Q), Linux SLL and SLL2, raw IP and BSD loopback",
			            f->path, linktype_name(dlt), dlt);
			goto fail;
		}
		if (filter && *filter) {
			if (pcap_compile(f->pcap, &f->filter, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
				g_set_error(err, INPUT_ERROR, 0, "filter '%s': %s", filter, pcap_geterr(f->pcap));
				goto fail;
			}
			f->has_filter = true;
		}
		f->linktype = dlt;
		f->filter_text = filter && *filter ? filter : NULL;
		if (!f->classic && S_ISREG(stbuf.st_mode) && !pcapng_open(f, err))
			goto fail;
	}
	return in;
fail:
	input_close(in);
	return NULL;
}

/* Count a problem of f's pending record and start the sentence about it. */
static GString *problem_begin(struct input_set *in, struct input_file *f, enum input_problem problem)
{
	GString *s = in->file_problem[f - in->files];
	struct problem_count *c = &f->problems[problem];
	if (c->records++ == 0)
		c->first = f->records;
	if (!f->has_problem) {
		g_string_printf(s, "%s record %" G_GUINT64_FORMAT ": ", f->path, f->records);
		f->has_problem = true;
	} else {
		g_string_append(s, "; ");
	}
	return s;
}

/* The pending record's time in nanoseconds since the epoch, clamped to what natlb replays.  The
 * seconds and fraction are libpcap's (nanoseconds: the file was opened at that precision). */
static void record_time(struct input_set *in, struct input_file *f)
{
	if (f->ng) { /* the reader gives nanoseconds, unsigned ticks converted, INT64_MAX at most */
		const struct pcapng_record *r = &f->ng->rec;
		f->ts_ns = MIN(r->ts_ns, INPUT_TS_MAX_NS);
		if (r->ts_ns <= INPUT_TS_MAX_NS)
			return;
		uint64_t per_s = r->ticks_per_s ? r->ticks_per_s : 1;
		uint64_t frac_ns = (uint64_t)((unsigned __int128)(r->ts_ticks % per_s) * NS_PER_S / per_s);
		g_string_append_printf(problem_begin(in, f, INPUT_PROBLEM_TIME_OUT_OF_RANGE),
		                       "timestamp %" G_GUINT64_FORMAT ".%09" G_GUINT64_FORMAT " s is past 2106-02-07 "
		                       "06:28:15 UTC, the last time natlb replays; replayed at it", r->ts_ticks / per_s, frac_ns);
		return;
	}
	int64_t sec = (int64_t)f->hdr->ts.tv_sec, frac = (int64_t)f->hdr->ts.tv_usec, ns;
	/* libpcap sign-extends a classic pcap's 32 unsigned bits of seconds (past 2038). */
	if (f->classic && sec < 0 && sec >= INT32_MIN)
		sec += G_GINT64_CONSTANT(1) << 32;
	bool overflow = __builtin_mul_overflow(sec, (int64_t)NS_PER_S, &ns) || __builtin_add_overflow(ns, frac, &ns);
	if (!overflow && ns >= 0 && ns <= INPUT_TS_MAX_NS) {
		f->ts_ns = ns;
		return;
	}
	/* A pcapng time is unsigned: libpcap's seconds are negative only past int64, so past the end. */
	bool before_1970 = !overflow && ns < 0 && (f->classic || sec >= 0);
	f->ts_ns = before_1970 ? 0 : INPUT_TS_MAX_NS;
	GString *s = problem_begin(in, f, INPUT_PROBLEM_TIME_OUT_OF_RANGE);
	if (f->classic || sec >= 0)
		g_string_append_printf(s, "timestamp %" G_GINT64_FORMAT ".%09" G_GINT64_FORMAT " s", sec, frac);
	else /* pcapng: libpcap's seconds are the file's unsigned 64 bits */
		g_string_append_printf(s, "timestamp %" G_GUINT64_FORMAT ".%09" G_GINT64_FORMAT " s", (uint64_t)sec, frac);
	g_string_append(s, !before_1970 ? " is past 2106-02-07 06:28:15 UTC, the last time natlb replays; replayed at it"
	                            : " is before 1970, which natlb does not replay; replayed at 1970-01-01 00:00:00 UTC");
}

/* The pending record's original length, at least its captured length: the bytes are there. */
static void record_length(struct input_set *in, struct input_file *f, uint32_t caplen, uint32_t len)
{
	f->caplen = caplen;
	f->wirelen = len;
	if (caplen <= len)
		return;
	f->wirelen = caplen;
	g_string_append_printf(problem_begin(in, f, INPUT_PROBLEM_CAPLEN_OVER_LEN),
	                       "captured length %u is more than the original length %u (Wireshark: frame length "
	                       "is less than captured length); replayed as %u bytes long", caplen, len, caplen);
}

/* Does a pcapng record pass the filter?  The program is compiled once per link type met; one
 * that cannot be compiled for a link type ("ether host" on raw IP) lets none of its records
 * through, and the warnings say so. */
static bool pcapng_filter_passes(struct input_file *f, const struct pcapng_record *r)
{
	struct input_pcapng *ng = f->ng;
	unsigned i = 0;
	while (i < ng->n_filters && ng->filter_linktype[i] != r->linktype)
		i++;
	if (i == ng->n_filters) {
		if (i == INPUT_MAX_LINKTYPES)
			i--; /* more link types than any real capture mixes: the last slot is recompiled */
		else
			ng->n_filters++;
		if (ng->filter_ok[i])
			pcap_freecode(&ng->filters[i]);
		pcap_t *dead = pcap_open_dead(r->linktype, 262144);
		ng->filter_linktype[i] = r->linktype;
		ng->filter_ok[i] = dead && pcap_compile(dead, &ng->filters[i], f->filter_text, 1, PCAP_NETMASK_UNKNOWN) == 0;
		if (dead)
			pcap_close(dead);
	}
	if (!ng->filter_ok[i]) {
		if (ng->unfiltered++ == 0) {
			ng->first_unfiltered = f->records;
			ng->unfiltered_linktype = r->linktype;
		}
		return false;
	}
	struct pcap_pkthdr h = { .caplen = r->caplen, .len = r->wirelen };
	return pcap_offline_filter(&ng->filters[i], &h, r->data) != 0;
}

/* Make f->pending true unless the file is finished: a pcapng file natlb reads itself. */
static void pcapng_fill(struct input_set *in, struct input_file *f)
{
	struct input_pcapng *ng = f->ng;
	GError *err = NULL;

	while (!f->pending && !f->done) {
		enum pcapng_read_status st = pcapng_reader_next(&ng->r, &ng->rec, &err);
		if (st != PCAPNG_READ_RECORD) {
			f->done = true;
			if (st != PCAPNG_READ_END) {
				if (!in->read_errors)
					in->read_errors = g_string_new(NULL);
				g_string_append_printf(in->read_errors, "%s; replayed the %" G_GUINT64_FORMAT " record%s before it\n",
				                       err->message, f->records, f->records == 1 ? "" : "s");
			}
			g_clear_error(&err);
			return;
		}
		f->records++;
		const struct pcapng_record *r = &ng->rec;
		if (r->linktype < 0 || !decode_linktype_supported(r->linktype)) {
			if (ng->skipped++ == 0) {
				ng->first_skipped = f->records;
				ng->skipped_linktype = r->linktype;
			}
			continue;
		}
		if (f->filter_text && !pcapng_filter_passes(f, r)) {
			in->filtered++;
			continue;
		}
		f->has_problem = false;
		f->data = r->data;
		f->linktype = r->linktype;
		record_time(in, f);
		record_length(in, f, r->caplen, r->wirelen);
		f->pending = true;
	}
}

/* Make f->pending true unless the file is finished. */
static void input_fill(struct input_set *in, struct input_file *f)
{
	if (f->ng) {
		pcapng_fill(in, f);
		return;
	}
	while (!f->pending && !f->done) {
		int rc = pcap_next_ex(f->pcap, &f->hdr, &f->data);
		if (rc == 1) {
			f->records++;
			if (f->has_filter && !pcap_offline_filter(&f->filter, f->hdr, f->data)) {
				in->filtered++;
				continue;
			}
			f->has_problem = false;
			record_time(in, f);
			record_length(in, f, f->hdr->caplen, f->hdr->len);
			f->pending = true;
		} else {
			f->done = true;
			if (rc == PCAP_ERROR) {
				if (!in->read_errors)
					in->read_errors = g_string_new(NULL);
				/* libpcap cannot go on past a record it refuses: where the next one starts is unknown. */
				g_string_append_printf(in->read_errors, "%s record %" G_GUINT64_FORMAT ": %s; replayed the %"
				                       G_GUINT64_FORMAT " record%s before it\n", f->path, f->records + 1,
				                       pcap_geterr(f->pcap), f->records, f->records == 1 ? "" : "s");
			}
		}
	}
}

int input_next(struct input_set *in, struct input_record *rec)
{
	struct input_file *best = NULL;

	for (unsigned i = 0; i < in->n; i++) {
		struct input_file *f = &in->files[i];
		input_fill(in, f);
		if (f->pending && (!best || f->ts_ns < best->ts_ns))
			best = f;
	}
	if (!best)
		return 0;
	best->pending = false;
	rec->data = best->data;
	rec->caplen = best->caplen;
	rec->wirelen = best->wirelen;
	rec->ts_ns = best->ts_ns;
	rec->linktype = best->linktype;
	rec->input = (unsigned)(best - in->files);
	in->last = rec->input;
	in->last_has_problem = best->has_problem;
	return 1;
}

const char *input_last_problem(const struct input_set *in)
{
	return in->last_has_problem ? in->file_problem[in->last]->str : NULL;
}

uint64_t input_problems(const struct input_set *in, enum input_problem problem)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < in->n; i++)
		n += in->files[i].problems[problem].records;
	return n;
}

const char *input_warnings(struct input_set *in)
{
	if (!in->warnings)
		in->warnings = g_string_new(NULL);
	g_string_assign(in->warnings, in->read_errors ? in->read_errors->str : "");
	for (unsigned i = 0; i < in->n; i++) {
		const struct input_pcapng *ng = in->files[i].ng;
		char dlt[16];
		if (ng && ng->skipped) {
			g_snprintf(dlt, sizeof dlt, "%d", ng->skipped_linktype);
			g_string_append_printf(in->warnings, "%s: %" G_GUINT64_FORMAT " record%s skipped: on an interface of a "
			                       "link type natlb does not decode (the first, record %" G_GUINT64_FORMAT ", %s%s%s%s)\n",
			                       in->files[i].path, ng->skipped, ng->skipped == 1 ? "" : "s", ng->first_skipped,
			                       ng->skipped_linktype < 0 ? "on an interface the file does not describe" : "link type ",
			                       ng->skipped_linktype < 0 ? "" : linktype_name(ng->skipped_linktype),
			                       ng->skipped_linktype < 0 ? "" : " ", ng->skipped_linktype < 0 ? "" : dlt);
		}
		if (ng && ng->unfiltered)
			g_string_append_printf(in->warnings, "%s: the filter cannot be compiled for link type %s: %" G_GUINT64_FORMAT
			                       " record%s of it left out (the first is record %" G_GUINT64_FORMAT ")\n",
			                       in->files[i].path, linktype_name(ng->unfiltered_linktype), ng->unfiltered,
			                       ng->unfiltered == 1 ? "" : "s", ng->first_unfiltered);
	}
	for (unsigned i = 0; i < in->n; i++)
		for (unsigned p = 0; p < INPUT_PROBLEM_N; p++) {
			const struct problem_count *c = &in->files[i].problems[p];
			if (c->records == 1)
				g_string_append_printf(in->warnings, "%s record %" G_GUINT64_FORMAT " has %s (annotated)\n",
				                       in->files[i].path, c->first, input_problem_texts[p]);
			else if (c->records > 1)
				g_string_append_printf(in->warnings, "%s: %" G_GUINT64_FORMAT " records have %s (annotated; "
				                       "the first is record %" G_GUINT64_FORMAT ")\n", in->files[i].path,
				                       c->records, input_problem_texts[p], c->first);
		}
	return in->warnings->len ? in->warnings->str : NULL;
}

uint64_t input_filtered(const struct input_set *in)
{
	return in->filtered;
}

double input_progress(const struct input_set *in)
{
	uint64_t done = 0;

	if (in->total_size == 0)
		return 1.0;
	for (unsigned i = 0; i < in->n; i++) {
		const struct input_file *f = &in->files[i];
		if (f->done || (!f->pcap && !f->ng))
			done += f->size;
		else if (f->ng)
			done += f->ng->r.pos;
		else {
			long pos = ftell(pcap_file(f->pcap));
			done += pos > 0 ? (uint64_t)pos : 0;
		}
	}
	return (double)done / (double)in->total_size;
}

const char *input_path(const struct input_set *in, unsigned i)
{
	return i < in->n ? in->files[i].path : NULL;
}

void input_close(struct input_set *in)
{
	if (!in)
		return;
	for (unsigned i = 0; i < in->n; i++) {
		struct input_file *f = &in->files[i];
		if (f->has_filter)
			pcap_freecode(&f->filter);
		if (f->pcap)
			pcap_close(f->pcap);
		if (f->ng) {
			for (unsigned k = 0; k < f->ng->n_filters; k++)
				if (f->ng->filter_ok[k])
					pcap_freecode(&f->ng->filters[k]);
			g_mapped_file_unref(f->ng->map);
			g_free(f->ng);
		}
		g_free(f->stdio_buffer);
		g_free(f->path);
		if (in->file_problem[i])
			g_string_free(in->file_problem[i], TRUE);
	}
	if (in->warnings)
		g_string_free(in->warnings, TRUE);
	if (in->read_errors)
		g_string_free(in->read_errors, TRUE);
	g_free(in->file_problem);
	g_free(in->files);
	g_free(in);
}
