/* common/flow_log_reader.c: VPC Flow Logs text to records, every field checked (see flow_log_reader.h).
 *
 * Follows the Amazon VPC User Guide, "Flow log records" (fields, default format, "-" for no value,
 * log-status OK / NODATA / SKIPDATA).  The text is untrusted: every line is bounded by len, every
 * number range-checked, and the first bad line stops the read with its number and field.
 */
#include "common/flow_log_reader.h"

#include <stdarg.h>
#include <string.h>

#include "common/addr.h"
#include "common/flow_log.h"

/* The fields findings read; the others of the format are checked for presence only. */
enum wanted {
	W_SRCADDR, W_DSTADDR, W_SRCPORT, W_DSTPORT, W_PROTOCOL, W_PACKETS, W_BYTES, W_START, W_END, W_ACTION,
	W_PKT_SRCADDR, W_PKT_DSTADDR, W_INTERFACE_ID, W_LOG_STATUS, W_N,
};

static const enum flow_log_field wanted_field[W_N] = {
	[W_SRCADDR] = FLOW_LOG_FIELD_SRCADDR, [W_DSTADDR] = FLOW_LOG_FIELD_DSTADDR,
	[W_SRCPORT] = FLOW_LOG_FIELD_SRCPORT, [W_DSTPORT] = FLOW_LOG_FIELD_DSTPORT,
	[W_PROTOCOL] = FLOW_LOG_FIELD_PROTOCOL, [W_PACKETS] = FLOW_LOG_FIELD_PACKETS,
	[W_BYTES] = FLOW_LOG_FIELD_BYTES, [W_START] = FLOW_LOG_FIELD_START, [W_END] = FLOW_LOG_FIELD_END,
	[W_ACTION] = FLOW_LOG_FIELD_ACTION, [W_PKT_SRCADDR] = FLOW_LOG_FIELD_PKT_SRCADDR,
	[W_PKT_DSTADDR] = FLOW_LOG_FIELD_PKT_DSTADDR, [W_INTERFACE_ID] = FLOW_LOG_FIELD_INTERFACE_ID,
	[W_LOG_STATUS] = FLOW_LOG_FIELD_LOG_STATUS,
};

#define W_REQUIRED W_PKT_SRCADDR /* the ones before it must be in the format */
#define MAX_COLUMNS 64
#define MAX_LINE 4096 /* a record of every field is under 600 bytes */

struct layout {
	int column[W_N]; /* -1: not in the format */
	unsigned n_columns;
};

/* Split line (len bytes, no newline) at runs of spaces or tabs into at most MAX_COLUMNS pieces;
 * returns the count, or MAX_COLUMNS + 1 for too many. */
static unsigned split(char *line, char *cols[MAX_COLUMNS])
{
	unsigned n = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			return n;
		if (n == MAX_COLUMNS)
			return MAX_COLUMNS + 1;
		cols[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
}

static gboolean fail(GError **err, const char *name, unsigned line, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static gboolean fail(GError **err, const char *name, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s:%u: %s", name, line, msg);
	g_free(msg);
	return FALSE;
}

/* The header line's field names; FALSE (with err) for a name that is no field or a field findings needs missing. */
static gboolean layout_from_header(char **cols, unsigned n, const char *name, unsigned line, struct layout *lay,
                                   GError **err)
{
	for (unsigned w = 0; w < W_N; w++)
		lay->column[w] = -1;
	lay->n_columns = n;
	for (unsigned i = 0; i < n; i++) {
		/* S3 delivery writes the names bare; ${name} is accepted too, as the format is written */
		char *c = cols[i];
		size_t len = strlen(c);
		if (len > 3 && c[0] == '$' && c[1] == '{' && c[len - 1] == '}') {
			c[len - 1] = '\0';
			c += 2;
		}
		enum flow_log_field f = flow_log_field_lookup(c);
		if (f == FLOW_LOG_FIELD_N)
			return fail(err, name, line, "header: '%.64s' is not a flow log field natlb reads", c);
		for (unsigned w = 0; w < W_N; w++)
			if (wanted_field[w] == f)
				lay->column[w] = (int)i;
	}
	for (unsigned w = 0; w < W_REQUIRED; w++)
		if (lay->column[w] < 0)
			return fail(err, name, line, "header: findings need the field %s, which this format lacks",
			            flow_log_field_name(wanted_field[w]));
	return TRUE;
}

static void layout_default(struct layout *lay)
{
	struct flow_log_format fmt;
	flow_log_format_parse(FLOW_LOG_DEFAULT_FORMAT, &fmt, NULL);
	for (unsigned w = 0; w < W_N; w++) {
		lay->column[w] = -1;
		for (unsigned i = 0; i < fmt.n_fields; i++)
			if (fmt.fields[i] == wanted_field[w])
				lay->column[w] = (int)i;
	}
	lay->n_columns = fmt.n_fields;
}

/* A decimal number no greater than max: digits only, no sign, no spaces. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

struct field_check {
	const char *name, *line_name;
	unsigned line;
	GError **err;
};

static bool number(const struct field_check *fc, const char *v, uint64_t max, const char *what, uint64_t *out)
{
	if (parse_u64(v, max, out))
		return true;
	fail(fc->err, fc->line_name, fc->line, "%s '%.64s' is not %s", fc->name, v, what);
	return false;
}

static bool is_ipv6(const char *v)
{
	return strchr(v, ':') != NULL;
}

static bool address(const struct field_check *fc, const char *v, uint32_t *out)
{
	if (ip4_parse(v, out))
		return true;
	fail(fc->err, fc->line_name, fc->line, "%s '%.64s' is not an IPv4 address", fc->name, v);
	return false;
}

enum line_result { LINE_RECORD, LINE_SKIPPED, LINE_BAD };

/* One record line into r; LINE_SKIPPED for NODATA, SKIPDATA and IPv6. */
static enum line_result parse_record(char **cols, const struct layout *lay, const char *name, unsigned line,
                                     struct flow_record *r, struct flow_log_read_stats *stats, GError **err)
{
	const char *v[W_N];
	struct field_check fc = { .line_name = name, .line = line, .err = err };
	uint64_t n;

	for (unsigned w = 0; w < W_N; w++)
		v[w] = lay->column[w] >= 0 ? cols[lay->column[w]] : NULL;
	if (v[W_LOG_STATUS] && (strcmp(v[W_LOG_STATUS], "NODATA") == 0 || strcmp(v[W_LOG_STATUS], "SKIPDATA") == 0)) {
		stats->no_data++;
		return LINE_SKIPPED;
	}
	if (v[W_LOG_STATUS] && strcmp(v[W_LOG_STATUS], "OK") != 0) {
		fail(err, name, line, "log-status '%.64s' is none of OK, NODATA, SKIPDATA", v[W_LOG_STATUS]);
		return LINE_BAD;
	}
	if (is_ipv6(v[W_SRCADDR]) || is_ipv6(v[W_DSTADDR])) {
		stats->ipv6++;
		return LINE_SKIPPED;
	}
	memset(r, 0, sizeof *r);
	r->line = line;
	const enum wanted addr_fields[4] = { W_SRCADDR, W_DSTADDR, W_PKT_SRCADDR, W_PKT_DSTADDR };
	uint32_t a[4] = { 0 };
	for (unsigned i = 0; i < 4; i++) {
		fc.name = flow_log_field_name(wanted_field[addr_fields[i]]);
		const char *s = v[addr_fields[i]];
		if (!s || (i >= 2 && strcmp(s, "-") == 0)) /* pkt-* may be "-" */
			continue;
		if (is_ipv6(s)) {
			stats->ipv6++;
			return LINE_SKIPPED;
		}
		if (!address(&fc, s, &a[i]))
			return LINE_BAD;
	}
	r->src = v[W_PKT_SRCADDR] && strcmp(v[W_PKT_SRCADDR], "-") != 0 ? a[2] : a[0];
	r->dst = v[W_PKT_DSTADDR] && strcmp(v[W_PKT_DSTADDR], "-") != 0 ? a[3] : a[1];
	static const struct {
		enum wanted w;
		uint64_t max;
		const char *what;
	} nums[] = {
		{ W_SRCPORT, 65535, "a port (0 to 65535)" },
		{ W_DSTPORT, 65535, "a port (0 to 65535)" },
		{ W_PROTOCOL, 255, "an IANA protocol number (0 to 255)" },
		{ W_PACKETS, UINT64_MAX, "a count of packets" },
		{ W_BYTES, UINT64_MAX, "a count of bytes" },
		{ W_START, INT64_MAX, "a time in Unix seconds" },
		{ W_END, INT64_MAX, "a time in Unix seconds" },
	};
	uint64_t got[G_N_ELEMENTS(nums)];
	for (unsigned i = 0; i < G_N_ELEMENTS(nums); i++) {
		fc.name = flow_log_field_name(wanted_field[nums[i].w]);
		if (!number(&fc, v[nums[i].w], nums[i].max, nums[i].what, &n))
			return LINE_BAD;
		got[i] = n;
	}
	r->sport = (uint16_t)got[0];
	r->dport = (uint16_t)got[1];
	r->proto = (uint8_t)got[2];
	r->packets = got[3];
	r->bytes = got[4];
	r->start = (int64_t)got[5];
	r->end = (int64_t)got[6];
	if (r->end < r->start) {
		fail(err, name, line, "end %" G_GINT64_FORMAT " is before start %" G_GINT64_FORMAT, r->end, r->start);
		return LINE_BAD;
	}
	if (strcmp(v[W_ACTION], "ACCEPT") == 0) {
		r->reject = false;
	} else if (strcmp(v[W_ACTION], "REJECT") == 0) {
		r->reject = true;
	} else {
		fail(err, name, line, "action '%.64s' is neither ACCEPT nor REJECT", v[W_ACTION]);
		return LINE_BAD;
	}
	g_strlcpy(r->interface_id, v[W_INTERFACE_ID] ? v[W_INTERFACE_ID] : "-", sizeof r->interface_id);
	return LINE_RECORD;
}

gboolean flow_log_read(const char *name, const char *text, size_t len, GArray *out, struct flow_log_read_stats *stats,
                       GError **err)
{
	struct layout lay;
	bool have_layout = false;
	char buf[MAX_LINE + 1];
	char *cols[MAX_COLUMNS];
	guint first = out->len;
	unsigned line = 0;
	size_t pos = 0;

	memset(stats, 0, sizeof *stats);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
		line++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n > MAX_LINE) {
			fail(err, name, line, "a line of %zu bytes: no flow log record is that long", n);
			goto bad;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos = end + 1;
		if (memchr(buf, '\0', n)) {
			fail(err, name, line, "a NUL byte: this is not a flow log (text)");
			goto bad;
		}
		unsigned nc = split(buf, cols);
		if (nc == 0)
			continue;
		if (nc > MAX_COLUMNS) {
			fail(err, name, line, "more than %u fields", MAX_COLUMNS);
			goto bad;
		}
		if (!have_layout) {
			have_layout = true;
			/* A header starts with a field name; a record of the default format with its version, a number. */
			if (!g_ascii_isdigit(cols[0][0])) {
				if (!layout_from_header(cols, nc, name, line, &lay, err))
					goto bad;
				continue;
			}
			layout_default(&lay);
		}
		if (nc != lay.n_columns) {
			fail(err, name, line, "%u fields where the format has %u", nc, lay.n_columns);
			goto bad;
		}
		struct flow_record r;
		enum line_result res = parse_record(cols, &lay, name, line, &r, stats, err);
		if (res == LINE_BAD)
			goto bad;
		if (res == LINE_RECORD) {
			g_array_append_val(out, r);
			stats->records++;
		}
	}
	return TRUE;
bad:
	g_array_set_size(out, first);
	stats->records = 0;
	return FALSE;
}
