/* common/output.c: the output sink of the replay loop, pcapng (one file) or classic pcap (a file per link).
 *
 * Follows DESIGN.md "How a packet travels", step 5; pcapng through common/pcapng_writer.c,
 * classic pcap through libpcap's dumper (pcap-savefile(5), nanosecond magic 0xA1B23C4D).
 * See output.h for the invariants (temporary names, one IDB per link and link type).
 */
#include "common/output.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/note.h"

/* pcapng: the interface written for one link type of a link. */
struct link_idb {
	int linktype;
	int interface_id;
};

struct output_link {
	char *name;
	char *description;
	GArray *idbs;          /* pcapng: struct link_idb, one per link type seen */
	/* pcap format only; dumper is NULL until the link's first packet. */
	char *path;            /* final name */
	char *partial;         /* path + ".partial", written until output_close() */
	int linktype;
	pcap_t *dead;          /* a pcap_t without a capture: all the dumper needs */
	pcap_dumper_t *dumper;
	char *stdio_buf;       /* setvbuf buffer of the dumper's FILE; outlives it */
	gboolean created;      /* partial is ours to rename or remove */
};

struct output {
	enum output_format fmt;
	char *path;
	char *partial;               /* pcapng */
	struct pcapng_writer *w;     /* pcapng */
	char *stdio_buf;             /* pcapng: setvbuf buffer of w's FILE; outlives it */
	GPtrArray *links;            /* struct output_link * */
	GPtrArray *paths;            /* borrowed final paths, NULL-terminated */
	const char *note;            /* output_set_note(): one more part of every view's comment */
};

static char *partial_name(const char *path)
{
	return g_strconcat(path, ".partial", NULL);
}

static void link_free(gpointer p)
{
	struct output_link *l = p;
	g_free(l->name);
	g_free(l->description);
	g_array_free(l->idbs, TRUE);
	g_free(l->path);
	g_free(l->partial);
	g_free(l);
}

static void paths_add(struct output *o, char *path)
{
	/* Keep the NULL terminator last. */
	g_ptr_array_insert(o->paths, (gint)o->paths->len - 1, path);
}

char *output_pcap_link_path(const char *base, const char *link)
{
	char *safe = g_strdelimit(g_strdup(link), G_DIR_SEPARATOR_S, '_');
	const char *slash = strrchr(base, G_DIR_SEPARATOR);
	const char *file = slash ? slash + 1 : base;
	const char *dot = strrchr(file, '.');
	char *path;
	if (dot && dot != file) /* a leading dot names a hidden file, not an extension */
		path = g_strdup_printf("%.*s.%s%s", (int)(dot - base), base, safe, dot);
	else
		path = g_strdup_printf("%s.%s.pcap", base, safe);
	g_free(safe);
	return path;
}

static void output_free(struct output *o)
{
	g_ptr_array_free(o->paths, TRUE);
	g_ptr_array_free(o->links, TRUE);
	g_free(o->stdio_buf); /* after the writer closed its FILE */
	g_free(o->partial);
	g_free(o->path);
	g_free(o);
}

struct output *output_open(enum output_format fmt, const char *path, const char *shb_comment,
                           GError **err)
{
	struct output *o = g_new0(struct output, 1);
	o->fmt = fmt;
	o->path = g_strdup(path);
	o->links = g_ptr_array_new_with_free_func(link_free);
	o->paths = g_ptr_array_new();
	g_ptr_array_add(o->paths, NULL);

	if (fmt == OUTPUT_PCAPNG) {
		o->partial = partial_name(path);
		/* We open the file ourselves so that errors name the path the user gave. */
		FILE *f = fopen(o->partial, "wb");
		if (!f) {
			int errsv = errno;
			g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot create %s: %s",
			            path, g_strerror(errsv));
			output_free(o); /* not output_abort(): a .partial we did not create stays */
			return NULL;
		}
		o->stdio_buf = g_malloc(PCAPNG_STDIO_BUFFER);
		setvbuf(f, o->stdio_buf, _IOFBF, PCAPNG_STDIO_BUFFER);
		o->w = pcapng_writer_open_stream(f, path, shb_comment, "natlb", err);
		if (!o->w) {
			output_abort(o);
			return NULL;
		}
		paths_add(o, o->path);
	}
	return o;
}

int output_add_link(struct output *o, const char *name, const char *description)
{
	for (guint i = 0; i < o->links->len; i++) {
		struct output_link *l = g_ptr_array_index(o->links, i);
		g_return_val_if_fail(strcmp(l->name, name) != 0, -1);
	}
	struct output_link *l = g_new0(struct output_link, 1);
	l->name = g_strdup(name);
	l->description = g_strdup(description);
	l->idbs = g_array_new(FALSE, FALSE, sizeof(struct link_idb));
	if (o->fmt == OUTPUT_PCAP) {
		l->path = output_pcap_link_path(o->path, name);
		l->partial = partial_name(l->path);
	}
	g_ptr_array_add(o->links, l);
	return (int)o->links->len - 1;
}

/* pcapng: the interface id of (link, linktype), writing its IDB the first time. */
static int pcapng_interface(struct output *o, struct output_link *l, int linktype, GError **err)
{
	for (guint i = 0; i < l->idbs->len; i++) {
		const struct link_idb *idb = &g_array_index(l->idbs, struct link_idb, i);
		if (idb->linktype == linktype)
			return idb->interface_id;
	}
	struct link_idb idb = { .linktype = linktype };
	idb.interface_id = pcapng_writer_add_interface(o->w, linktype, l->name, l->description, err);
	if (idb.interface_id < 0)
		return -1;
	g_array_append_val(l->idbs, idb);
	return idb.interface_id;
}

static const char *linktype_name(int linktype, char buf[static 16])
{
	const char *name = pcap_datalink_val_to_name(linktype);
	if (name)
		return name;
	g_snprintf(buf, 16, "%d", linktype);
	return buf;
}

/* pcap: open the link's file on its first packet, which fixes the file's link type. */
static gboolean pcap_link_open(struct output *o, struct output_link *l, int linktype, GError **err)
{
	/* We open the FILE and hand it to pcap_dump_fopen (rather than pcap_dump_open) to give
	   it a large buffer, to check it for write errors, which pcap_dump() does not report,
	   and to name the final path in errors. */
	FILE *f = fopen(l->partial, "wb");
	if (!f) {
		int errsv = errno;
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot create %s: %s", l->path,
		            g_strerror(errsv));
		return FALSE;
	}
	l->stdio_buf = g_malloc(PCAPNG_STDIO_BUFFER);
	setvbuf(f, l->stdio_buf, _IOFBF, PCAPNG_STDIO_BUFFER);
	l->dead = pcap_open_dead_with_tstamp_precision(linktype, (int)PCAPNG_SNAPLEN,
	                                               PCAP_TSTAMP_PRECISION_NANO);
	l->dumper = l->dead ? pcap_dump_fopen(l->dead, f) : NULL;
	if (!l->dumper) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot write %s: %s", l->path,
		            l->dead ? pcap_geterr(l->dead) : "out of memory");
		fclose(f);
		g_unlink(l->partial);
		g_clear_pointer(&l->dead, pcap_close);
		g_clear_pointer(&l->stdio_buf, g_free);
		return FALSE;
	}
	l->linktype = linktype;
	l->created = TRUE;
	paths_add(o, l->path);
	return TRUE;
}

static gboolean pcap_link_write(struct output *o, struct output_link *l, int linktype, int64_t ts_ns,
                                const uint8_t *data, uint32_t caplen, uint32_t wirelen, GError **err)
{
	if (!l->dumper && !pcap_link_open(o, l, linktype, err))
		return FALSE;
	if (linktype != l->linktype) {
		char a[16], b[16];
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_LINKTYPE,
		            "link %s carries %s and %s, but a pcap file holds one link type: "
		            "use the pcapng format",
		            l->name, linktype_name(l->linktype, a), linktype_name(linktype, b));
		return FALSE;
	}
	/* The same checks as the pcapng writer, so both formats accept the same views. */
	if (ts_ns < 0 || ts_ns / 1000000000 > UINT32_MAX || caplen > wirelen) { /* 32 bits of seconds */
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: bad packet (timestamp %" G_GINT64_FORMAT " ns, captured %u of %u bytes)",
		            l->path, ts_ns, caplen, wirelen);
		return FALSE;
	}
	struct pcap_pkthdr hdr = {
		.ts.tv_sec = (time_t)(ts_ns / 1000000000),
		/* A nanosecond-precision dumper stores nanoseconds in tv_usec. */
		.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000),
		.caplen = caplen > PCAPNG_SNAPLEN ? PCAPNG_SNAPLEN : caplen,
		.len = wirelen,
	};
	errno = 0;
	pcap_dump((u_char *)l->dumper, &hdr, data);
	FILE *f = pcap_dump_file(l->dumper);
	if (ferror(f)) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot write %s: %s", l->path,
		            g_strerror(errno ? errno : EIO));
		return FALSE;
	}
	return TRUE;
}

/* "flow #N" into text[24], without printf: this is on every view's path. */
static const char *flow_token(char text[24], uint32_t flow)
{
	memcpy(text, "flow #", 6);
	text[note_put_digits(text, 6, flow)] = '\0';
	return text;
}

gboolean output_write(struct output *o, int link, int linktype, int64_t ts_ns, const uint8_t *data,
                      uint32_t caplen, uint32_t wirelen, enum pcapng_direction dir, uint64_t packet_id, uint32_t flow,
                      const char *const *comments, unsigned n_comments, GError **err)
{
	if (link < 0 || (guint)link >= o->links->len) {
		g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_INVALID,
		            "%s: no link with handle %d", o->path, link);
		return FALSE;
	}
	struct output_link *l = g_ptr_array_index(o->links, link);
	if (o->fmt == OUTPUT_PCAP)
		return pcap_link_write(o, l, linktype, ts_ns, data, caplen, wirelen, err);

	int interface_id = pcapng_interface(o, l, linktype, err);
	if (interface_id < 0)
		return FALSE;
	/* "flow #N" formatted in place, then the parts and the note, joined by the writer as it copies
	 * them into the block: nothing is copied twice on this path. */
	char flow_text[24];
	const char *parts[PCAPNG_WRITER_MAX_PARTS];
	unsigned n = 0;
	if (flow) {
		parts[n++] = flow_token(flow_text, flow);
	}
	for (unsigned i = 0; i < n_comments && n < PCAPNG_WRITER_MAX_PARTS - 1; i++)
		parts[n++] = comments[i];
	if (o->note)
		parts[n++] = o->note;
	return pcapng_writer_packet_joined(o->w, interface_id, ts_ns, data, caplen, wirelen, dir, packet_id, parts, n,
	                                   OUTPUT_COMMENT_SEPARATOR, err);
}

void output_set_note(struct output *o, const char *note)
{
	o->note = note;
}

/* Finish a pcap link file; the first error goes to err. */
static gboolean pcap_link_close(struct output_link *l, gboolean check, GError **err)
{
	gboolean ok = TRUE;
	if (check) {
		FILE *f = pcap_dump_file(l->dumper);
		errno = 0;
		if (pcap_dump_flush(l->dumper) != 0 || ferror(f)) {
			g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot write %s: %s",
			            l->path, g_strerror(errno ? errno : EIO));
			ok = FALSE;
		}
	}
	/* pcap_dump_close() reports nothing; after a good flush its fclose has nothing left to
	   write, so only a file system that defers errors to close (NFS) could fail unseen. */
	pcap_dump_close(l->dumper);
	l->dumper = NULL;
	g_clear_pointer(&l->dead, pcap_close);
	g_clear_pointer(&l->stdio_buf, g_free);
	return ok;
}

static gboolean rename_into_place(const char *partial, const char *path, GError **err)
{
	if (g_rename(partial, path) == 0)
		return TRUE;
	int errsv = errno;
	g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_IO, "cannot rename %s to %s: %s", partial,
	            path, g_strerror(errsv));
	return FALSE;
}

gboolean output_finish(struct output *o, GError **err)
{
	if (o->fmt == OUTPUT_PCAPNG) {
		gboolean ok = pcapng_writer_close(o->w, err);
		o->w = NULL;
		return ok;
	}
	gboolean ok = TRUE;
	for (guint i = 0; i < o->links->len; i++) {
		struct output_link *l = g_ptr_array_index(o->links, i);
		if (l->dumper && !pcap_link_close(l, ok, err))
			ok = FALSE;
	}
	return ok;
}

/* The (temporary, final) names of every file o created, in the order they were created. */
static void output_renames(const struct output *o, GPtrArray *temps, GPtrArray *finals)
{
	if (o->fmt == OUTPUT_PCAPNG) {
		g_ptr_array_add(temps, o->partial);
		g_ptr_array_add(finals, o->path);
		return;
	}
	for (guint i = 0; i < o->links->len; i++) {
		struct output_link *l = g_ptr_array_index(o->links, i);
		if (l->created) {
			g_ptr_array_add(temps, l->partial);
			g_ptr_array_add(finals, l->path);
		}
	}
}

gboolean output_commit(struct output *o, GError **err)
{
	GPtrArray *temps = g_ptr_array_new(), *finals = g_ptr_array_new();
	gboolean ok = TRUE;
	guint renamed = 0;
	output_renames(o, temps, finals);
	for (; ok && renamed < temps->len; renamed++)
		ok = rename_into_place(temps->pdata[renamed], finals->pdata[renamed], err);
	if (!ok) {
		/* renamed counts the failed one too: it is still under its temporary name. */
		for (guint i = 0; i + 1 < renamed; i++)
			g_unlink(finals->pdata[i]);
		for (guint i = renamed - 1; i < temps->len; i++)
			g_unlink(temps->pdata[i]);
	}
	g_ptr_array_free(temps, TRUE);
	g_ptr_array_free(finals, TRUE);
	output_free(o);
	return ok;
}

gboolean output_close(struct output *o, GError **err)
{
	if (!output_finish(o, err)) {
		output_abort(o);
		return FALSE;
	}
	return output_commit(o, err);
}

void output_abort(struct output *o)
{
	if (o->w) {
		pcapng_writer_abort(o->w);
		o->w = NULL;
	}
	if (o->partial)
		g_unlink(o->partial);
	for (guint i = 0; i < o->links->len; i++) {
		struct output_link *l = g_ptr_array_index(o->links, i);
		if (l->dumper)
			pcap_link_close(l, FALSE, NULL);
		if (l->created)
			g_unlink(l->partial);
	}
	output_free(o);
}

const char *const *output_paths(struct output *o)
{
	return (const char *const *)o->paths->pdata;
}

/* ---- Path collisions ----------------------------------------------------------------------- */

static void role_clear(gpointer p)
{
	struct output_role *r = p;
	g_free(r->path);
	g_free(r->what);
}

GArray *output_roles_new(void)
{
	GArray *roles = g_array_new(FALSE, TRUE, sizeof(struct output_role));
	g_array_set_clear_func(roles, role_clear);
	return roles;
}

void output_roles_add(GArray *roles, const char *path, bool input, const char *what_format, ...)
{
	va_list ap;
	va_start(ap, what_format);
	struct output_role r = { .path = g_strdup(path), .what = g_strdup_vprintf(what_format, ap), .input = input };
	va_end(ap);
	g_array_append_val(roles, r);
}

void output_roles_add_output(GArray *roles, enum output_format fmt, const char *path, const char *const *links)
{
	if (fmt == OUTPUT_PCAPNG) {
		char *partial = partial_name(path);
		output_roles_add(roles, path, false, "-o %s", path);
		output_roles_add(roles, partial, false, "%s (where -o %s is written until the end)", partial, path);
		g_free(partial);
		return;
	}
	for (const char *const *l = links; *l; l++) {
		char *file = output_pcap_link_path(path, *l), *partial = partial_name(file);
		output_roles_add(roles, file, false, "%s (link %s of --format pcap -o %s)", file, *l, path);
		output_roles_add(roles, partial, false, "%s (where link %s is written until the end)", partial, *l);
		g_free(file);
		g_free(partial);
	}
}

/* The name a path will have, absolute, with the symbolic links of its directory resolved when
   the directory exists (the file itself need not). */
static char *normalised_name(const char *path)
{
	char *dir = g_path_get_dirname(path), *base = g_path_get_basename(path);
	char *real = realpath(dir, NULL);
	char *name = real ? g_build_filename(real, base, NULL) : g_canonicalize_filename(path, NULL);
	free(real);
	g_free(dir);
	g_free(base);
	return name;
}

struct role_identity {
	char *name;
	bool exists;
	dev_t dev;
	ino_t ino;
};

static gboolean same_file(const struct role_identity *a, const struct role_identity *b)
{
	return (a->exists && b->exists && a->dev == b->dev && a->ino == b->ino) || strcmp(a->name, b->name) == 0;
}

gboolean output_roles_check(const GArray *roles, GError **err)
{
	struct role_identity *id = g_new0(struct role_identity, roles->len);
	gboolean ok = TRUE;
	for (guint i = 0; i < roles->len; i++) {
		const struct output_role *r = &g_array_index(roles, struct output_role, i);
		struct stat st;
		id[i].name = normalised_name(r->path);
		id[i].exists = stat(r->path, &st) == 0;
		id[i].dev = st.st_dev;
		id[i].ino = st.st_ino;
		/* Else the rename at the very end would fail, after the whole replay. */
		if (ok && !r->input && id[i].exists && S_ISDIR(st.st_mode)) {
			g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_COLLISION,
			            "%s is a directory: give the output a file name", r->what);
			ok = FALSE;
		}
	}
	for (guint i = 0; ok && i < roles->len; i++)
		for (guint j = i + 1; ok && j < roles->len; j++) {
			const struct output_role *a = &g_array_index(roles, struct output_role, i);
			const struct output_role *b = &g_array_index(roles, struct output_role, j);
			if ((a->input && b->input) || !same_file(&id[i], &id[j]))
				continue;
			ok = FALSE;
			if (a->input || b->input)
				g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_COLLISION,
				            "%s is %s: refusing to write over a capture being read", a->input ? b->what : a->what,
				            a->input ? a->what : b->what);
			else
				g_set_error(err, NATLB_OUTPUT_ERROR, NATLB_OUTPUT_ERROR_COLLISION,
				            "%s and %s are the same file: refusing to write one over the other", a->what, b->what);
		}
	for (guint i = 0; i < roles->len; i++)
		g_free(id[i].name);
	g_free(id);
	return ok;
}
