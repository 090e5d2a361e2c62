/* common/input.c: captures in, through libpcap (pcap-savefile(5), pcapng), BPF with pcap_offline_filter.
 *
 * Streaming: each input holds exactly one pending record (libpcap's buffer), so memory does not
 * grow with the capture.  Merging several inputs picks the earliest pending record each time.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/input.h"
#include "common/packet.h"

G_DEFINE_QUARK(natlb-input-error-quark, input_error)

/* The stdio buffer of a capture: see PCAPNG_STDIO_BUFFER for why 64 KiB and not more. */
#define INPUT_STDIO_BUFFER (64u << 10)

struct input_file {
	char *path;
	pcap_t *pcap;
	struct bpf_program filter;
	bool has_filter;
	bool pending;                  /* hdr/data hold the next record */
	bool done;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t size;                 /* bytes on disk, for progress */
	char *stdio_buffer;            /* the FILE's buffer: freed after pcap_close() closes the FILE */
};

struct input_set {
	struct input_file *files;
	unsigned n;
	uint64_t filtered;
	uint64_t total_size;
	GString *warnings;
};

static const char *linktype_name(int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);
	return name ? name : "unknown";
}

struct input_set *input_open(char **paths, unsigned n_paths, const char *filter, GError **err)
{
	struct input_set *in = g_new0(struct input_set, 1);
	char errbuf[PCAP_ERRBUF_SIZE];

	in->files = g_new0(struct input_file, n_paths);
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
	}
	return in;
fail:
	input_close(in);
	return NULL;
}

/* Make f->pending true unless the file is finished. */
static void input_fill(struct input_set *in, struct input_file *f)
{
	while (!f->pending && !f->done) {
		int rc = pcap_next_ex(f->pcap, &f->hdr, &f->data);
		if (rc == 1) {
			if (f->has_filter && !pcap_offline_filter(&f->filter, f->hdr, f->data)) {
				in->filtered++;
				continue;
			}
			f->pending = true;
		} else {
			f->done = true;
			if (rc == PCAP_ERROR) {
				if (!in->warnings)
					in->warnings = g_string_new(NULL);
				g_string_append_printf(in->warnings, "%s: %s; replayed what was read before it\n",
				                       f->path, pcap_geterr(f->pcap));
			}
		}
	}
}

int input_next(struct input_set *in, struct input_record *rec)
{
	struct input_file *best = NULL;
	int64_t best_ts = 0;

	for (unsigned i = 0; i < in->n; i++) {
		struct input_file *f = &in->files[i];
		input_fill(in, f);
		if (!f->pending)
			continue;
		int64_t ts = (int64_t)f->hdr->ts.tv_sec * 1000000000 + f->hdr->ts.tv_usec;
		if (!best || ts < best_ts) {
			best = f;
			best_ts = ts;
		}
	}
	if (!best)
		return 0;
	best->pending = false;
	rec->data = best->data;
	rec->caplen = best->hdr->caplen;
	rec->wirelen = best->hdr->len;
	rec->ts_ns = best_ts;
	rec->linktype = pcap_datalink(best->pcap);
	rec->input = (unsigned)(best - in->files);
	return 1;
}

const char *input_warnings(const struct input_set *in)
{
	return in->warnings ? in->warnings->str : NULL;
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
		if (f->done || !f->pcap)
			done += f->size;
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
		g_free(f->stdio_buffer);
		g_free(f->path);
	}
	if (in->warnings)
		g_string_free(in->warnings, TRUE);
	g_free(in->files);
	g_free(in);
}
