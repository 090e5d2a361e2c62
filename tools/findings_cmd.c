/* tools/findings_cmd.c: natlb findings FLOWLOG [--dns CAPTURE] [--json]: GuardDuty-style findings from a flow log, as a table or JSON.
 *
 * Follows the Amazon GuardDuty User Guide ("GuardDuty EC2 finding types", "GuardDuty finding
 * format": type, severity, resource, the remote side, count, first and last seen) for what a
 * finding says; the rules and their thresholds are common/findings.c's.  DNS questions come from
 * the capture given with --dns (UDP to port 53, RFC 1035).
 */
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "common/dns_question.h"
#include "common/findings.h"
#include "common/flow_log_reader.h"
#include "common/input.h"
#include "common/lookahead.h"
#include "common/packet.h"
#include "tools/cli.h"

#define TABLE_MAX_RANGES 4 /* record ranges the table shows before "..." */

static const char *severity_label(double sev)
{
	return sev >= 7.0 ? "High" : sev >= 4.0 ? "Medium" : "Low";
}

static void iso_time(int64_t unix_s, char buf[32])
{
	GDateTime *t = g_date_time_new_from_unix_utc(unix_s);
	char *s = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("?");
	g_strlcpy(buf, s, 32);
	g_free(s);
	if (t)
		g_date_time_unref(t);
}

/* "3-5, 9, 12-14", at most max ranges (0: all), then ", ... (N in all)". */
static void ranges(const GArray *lines, unsigned max, GString *out)
{
	unsigned shown = 0;
	for (guint i = 0; i < lines->len;) {
		guint a = g_array_index(lines, guint, i), b = a, j = i + 1;
		while (j < lines->len && g_array_index(lines, guint, j) == b + 1)
			b = g_array_index(lines, guint, j++);
		if (max && shown == max) {
			g_string_append_printf(out, ", ... (%u in all)", lines->len);
			return;
		}
		g_string_append_printf(out, "%s%u", shown ? ", " : "", a);
		if (b != a)
			g_string_append_printf(out, "-%u", b);
		shown++;
		i = j;
	}
}

static void remote_text(const struct finding *fd, GString *out)
{
	char a[16];
	if (fd->remote_name[0])
		g_string_append(out, fd->remote_name);
	else if (fd->remote)
		g_string_append(out, ip4_to_str(fd->remote, a));
	else
		g_string_append(out, "(several)");
	if (fd->port && !fd->remote_name[0])
		g_string_append_printf(out, ":%u", fd->port);
}

/* "1 port", "25 ports", "1 query": count_what is the plural. */
static void count_text(const struct finding *fd, GString *out)
{
	const char *w = fd->count_what;
	size_t n = strlen(w);
	g_string_printf(out, "%" G_GUINT64_FORMAT " ", fd->count);
	if (fd->count != 1 || n < 2 || w[n - 1] != 's' || w[n - 2] == '/')
		g_string_append(out, w);
	else if (n > 3 && strcmp(w + n - 3, "ies") == 0)
		g_string_append_printf(out, "%.*sy", (int)(n - 3), w);
	else
		g_string_append_len(out, w, (gssize)(n - 1));
}

static void print_table(const GPtrArray *findings, FILE *f)
{
	GString *remote = g_string_new(NULL), *recs = g_string_new(NULL), *count = g_string_new(NULL);
	char res[32], a[16], first[32], last[32];
	fprintf(f, "%-38s %-11s %-18s %-28s %-18s %-20s %-20s %s\n", "TYPE", "SEVERITY", "RESOURCE", "REMOTE", "COUNT",
	        "FIRST SEEN", "LAST SEEN", "RECORDS");
	for (guint i = 0; i < findings->len; i++) {
		const struct finding *fd = findings->pdata[i];
		char sev[16];
		g_snprintf(sev, sizeof sev, "%s %.1f", severity_label(fd->severity), fd->severity);
		g_snprintf(res, sizeof res, "%s%s%s%s", ip4_to_str(fd->resource, a), fd->role[0] ? " (" : "", fd->role,
		           fd->role[0] ? ")" : "");
		g_string_truncate(remote, 0);
		remote_text(fd, remote);
		count_text(fd, count);
		g_string_assign(recs, fd->lines_are_frames ? "frames " : "lines ");
		ranges(fd->lines, TABLE_MAX_RANGES, recs);
		iso_time(fd->first_seen, first);
		iso_time(fd->last_seen, last);
		fprintf(f, "%-38s %-11s %-18s %-28s %-18s %-20s %-20s %s\n", finding_type_name(fd->type), sev, res, remote->str,
		        count->str, first, last, recs->str);
	}
	g_string_free(remote, TRUE);
	g_string_free(recs, TRUE);
	g_string_free(count, TRUE);
}

static void json_finding(JsonBuilder *b, const struct finding *fd)
{
	char a[16], t[32];
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, finding_type_name(fd->type));
	json_builder_set_member_name(b, "severity");
	json_builder_add_double_value(b, fd->severity);
	json_builder_set_member_name(b, "severityLabel");
	json_builder_add_string_value(b, severity_label(fd->severity));
	json_builder_set_member_name(b, "resource");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "privateIpAddress");
	json_builder_add_string_value(b, ip4_to_str(fd->resource, a));
	if (fd->role[0]) {
		json_builder_set_member_name(b, "role");
		json_builder_add_string_value(b, fd->role);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "remote");
	json_builder_begin_object(b);
	if (fd->remote_name[0]) {
		json_builder_set_member_name(b, "domain");
		json_builder_add_string_value(b, fd->remote_name);
	} else if (fd->remote) {
		json_builder_set_member_name(b, "ipAddress");
		json_builder_add_string_value(b, ip4_to_str(fd->remote, a));
	}
	if (fd->port) {
		json_builder_set_member_name(b, fd->type == FINDING_PORT_PROBE ? "localPort" : "port");
		json_builder_add_int_value(b, fd->port);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "count");
	json_builder_add_int_value(b, (gint64)fd->count);
	json_builder_set_member_name(b, "countOf");
	json_builder_add_string_value(b, fd->count_what);
	iso_time(fd->first_seen, t);
	json_builder_set_member_name(b, "firstSeen");
	json_builder_add_string_value(b, t);
	iso_time(fd->last_seen, t);
	json_builder_set_member_name(b, "lastSeen");
	json_builder_add_string_value(b, t);
	json_builder_set_member_name(b, fd->lines_are_frames ? "captureFrames" : "flowLogLines");
	json_builder_begin_array(b);
	for (guint i = 0; i < fd->lines->len; i++)
		json_builder_add_int_value(b, g_array_index(fd->lines, guint, i));
	json_builder_end_array(b);
	json_builder_end_object(b);
}

static void print_json(const char *flow_log, const char *dns, const struct findings_settings *s,
                       const GPtrArray *findings, FILE *f)
{
	JsonBuilder *b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "flowLog");
	json_builder_add_string_value(b, flow_log);
	json_builder_set_member_name(b, "dnsCapture");
	if (dns)
		json_builder_add_string_value(b, dns);
	else
		json_builder_add_null_value(b);
	json_builder_set_member_name(b, "settings");
	json_builder_begin_object(b);
	for (unsigned i = 0; i < FINDINGS_SETTING_N; i++) {
		json_builder_set_member_name(b, findings_setting_name(i));
		json_builder_add_int_value(b, (gint64)s->v[i]);
	}
	json_builder_end_object(b);
	json_builder_set_member_name(b, "findings");
	json_builder_begin_array(b);
	for (guint i = 0; i < findings->len; i++)
		json_finding(b, findings->pdata[i]);
	json_builder_end_array(b);
	json_builder_end_object(b);
	JsonGenerator *gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	char *text = json_generator_to_data(gen, NULL);
	fprintf(f, "%s\n", text);
	g_free(text);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
}

/* The DNS questions of a capture: UDP to port 53 that reads as a query. */
static gboolean dns_queries_read(const char *path, GArray *out, GError **err)
{
	char *paths[] = { (char *)path, NULL };
	struct input_set *in = input_open(paths, 1, NULL, err);
	if (!in)
		return FALSE;
	uint8_t *frame = g_malloc(PACKET_MAX_FRAME);
	struct input_record rec;
	uint64_t n = 0;
	while (input_next(in, &rec) == 1) {
		struct packet p;
		n++;
		packet_load(&p, &rec, frame, PACKET_MAX_FRAME);
		if (p.l3 != L3_IPV4 || p.ip.proto != 17 || !p.ip.has_ports || p.ip.dport != 53 || p.ip.is_fragment)
			continue;
		struct dns_query q = { .frame = n, .client = p.ip.src, .ts = rec.ts_ns / 1000000000 };
		if (dns_question_name(p.data + p.payload_off, p.payload_len, q.name))
			g_array_append_val(out, q);
	}
	g_free(frame);
	input_close(in);
	return TRUE;
}

int findings_main(int argc, char **argv)
{
	gboolean json = FALSE;
	char *dns = NULL;
	char **rest = NULL;
	gint64 values[FINDINGS_SETTING_N];
	char *help[FINDINGS_SETTING_N];
	GOptionEntry entries[FINDINGS_SETTING_N + 4];
	unsigned e = 0;
	int status = EXIT_USAGE;
	GError *err = NULL;
	GArray *records = g_array_new(FALSE, FALSE, sizeof(struct flow_record));
	GArray *queries = g_array_new(FALSE, FALSE, sizeof(struct dns_query));
	GPtrArray *findings = NULL;
	char *text = NULL;
	gsize len = 0;

	entries[e++] = (GOptionEntry){ "dns", 0, 0, G_OPTION_ARG_FILENAME, &dns,
		                       "A capture whose DNS queries are checked too (CryptoCurrency:EC2/BitcoinTool.B!DNS)",
		                       "CAPTURE" };
	entries[e++] = (GOptionEntry){ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the findings as JSON", NULL };
	for (unsigned i = 0; i < FINDINGS_SETTING_N; i++) {
		values[i] = (gint64)findings_setting_default(i);
		help[i] = g_strdup_printf("Threshold: %s (default %" G_GUINT64_FORMAT ")", findings_setting_what(i),
		                          findings_setting_default(i));
		entries[e++] = (GOptionEntry){ findings_setting_name(i), 0, 0, G_OPTION_ARG_INT64, &values[i], help[i], "N" };
	}
	entries[e++] = (GOptionEntry){ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "FLOWLOG" };
	entries[e] = (GOptionEntry){ NULL, 0, 0, 0, NULL, NULL, NULL };

	GOptionContext *ctx = g_option_context_new(NULL);
	g_option_context_set_summary(ctx, "GuardDuty-style findings from a VPC flow log (natlb replay --flow-log FILE):\n"
	                             "port scans, port probes, SSH and RDP brute force, crypto mining, denial of\n"
	                             "service, unusual traffic volume; each names the flow-log lines that raised it.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "natlb findings: %s (natlb findings --help)\n", err->message);
		goto out;
	}
	if (!rest || !rest[0] || rest[1]) {
		fprintf(stderr, "natlb findings: give one flow log (natlb replay --flow-log FILE writes one)\n");
		goto out;
	}
	struct findings_settings s;
	for (unsigned i = 0; i < FINDINGS_SETTING_N; i++) {
		if (values[i] < 1) {
			fprintf(stderr, "natlb findings: --%s %" G_GINT64_FORMAT ": give at least 1\n", findings_setting_name(i),
			        values[i]);
			goto out;
		}
		s.v[i] = (uint64_t)values[i];
	}
	status = EXIT_RUNTIME;
	if (!g_file_get_contents(rest[0], &text, &len, &err)) {
		fprintf(stderr, "natlb findings: %s\n", err->message);
		goto out;
	}
	struct flow_log_read_stats st;
	if (!flow_log_read(rest[0], text, len, records, &st, &err)) {
		fprintf(stderr, "natlb findings: %s\n", err->message);
		status = EXIT_USAGE;
		goto out;
	}
	if (dns && !dns_queries_read(dns, queries, &err)) {
		fprintf(stderr, "natlb findings: %s\n", err->message);
		goto out;
	}
	findings = findings_compute(records, queries, &s);
	if (json) {
		print_json(rest[0], dns, &s, findings, stdout);
	} else {
		printf("%s: %u flow record%s", rest[0], st.records, st.records == 1 ? "" : "s");
		if (st.no_data || st.ipv6)
			printf(" (and %u NODATA or SKIPDATA, %u IPv6, skipped)", st.no_data, st.ipv6);
		if (dns)
			printf("; %s: %u DNS %s", dns, queries->len, queries->len == 1 ? "query" : "queries");
		printf("; %u finding%s\n", findings->len, findings->len == 1 ? "" : "s");
		if (findings->len)
			print_table(findings, stdout);
	}
	status = EXIT_OK;
out:
	findings_free(findings);
	g_array_free(records, TRUE);
	g_array_free(queries, TRUE);
	g_free(text);
	g_free(dns);
	g_strfreev(rest);
	for (unsigned i = 0; i < FINDINGS_SETTING_N; i++)
		g_free(help[i]);
	g_clear_error(&err);
	g_option_context_free(ctx);
	return status;
}
