/* lb/l7lb_log.c: the L7 balancer's access log, one line per request in ALB's format (AWS "Access logs for your Application Load Balancer", "Access log entries").
 *
 * The fields, space-separated, quoted where they may hold spaces:
 *   type time elb client:port target:port request_processing_time target_processing_time
 *   response_processing_time elb_status_code target_status_code received_bytes sent_bytes
 *   "request" "user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
 *   "chosen_cert_arn" matched_rule_priority request_creation_time "actions_executed"
 *   "redirect_url" "error_reason" "target:port_list" "target_status_code_list" "classification"
 *   "classification_reason"
 * Times come from the capture: the request's arrival, its response's first byte, and the line is
 * written when the response is complete (ALB writes it then too).  A request the balancer
 * answered itself has no target: "-" there and -1 for the target's times, as ALB writes.
 *
 * Only with --access-log: the request's half of the line is kept as a string until its response
 * completes, an allocation per request that the replay does not make otherwise.
 */
#include <string.h>

#include "common/packet.h"
#include "lb/l7lb.h"

/* "2026-01-01T00:00:00.001000Z" */
static void iso_time(char out[40], int64_t ns)
{
	GDateTime *t = g_date_time_new_from_unix_utc(ns / 1000000000);
	char *s = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%S") : g_strdup("1970-01-01T00:00:00");
	g_snprintf(out, 40, "%s.%06uZ", s, (unsigned)(ns % 1000000000 / 1000));
	g_free(s);
	if (t)
		g_date_time_unref(t);
}

/* A field value without the characters that would break the line: quotes and control bytes. */
static void put_quoted(GString *out, const char *s, size_t n)
{
	g_string_append_c(out, '"');
	if (n == 0)
		g_string_append_c(out, '-');
	for (size_t i = 0; i < n && i < 512; i++)
		g_string_append_c(out, s[i] == '"' || (unsigned char)s[i] < 0x20 ? '?' : s[i]);
	g_string_append_c(out, '"');
}

static const struct http1_header *header_find(const struct http1_head *h, const char *name)
{
	for (unsigned i = 0; i < h->n_headers; i++)
		if (http1_name_is(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

void l7lb_log_request(const struct l7lb *lb, const struct l7lb_conn *c, struct l7lb_request *rq,
                      const struct http1_head *h, const char *group, const char *trace, const char *actions,
                      const char *redirect_url, const char *error_reason, int64_t now_ns)
{
	GString *t = g_string_sized_new(256);
	char when[40];
	const struct http1_header *ua = header_find(h, "User-Agent");

	g_string_append_printf(t, "\"%.*s http://%.*s:%u%.*s HTTP/%u.%u\" ", (int)MIN(h->method_len, 32), h->method,
	                       (int)MIN(h->host_len, 255), h->host, c->vport, (int)MIN(h->target_len, 2048), h->target,
	                       h->version_major, h->version_minor);
	if (ua)
		put_quoted(t, ua->value, ua->value_len);
	else
		g_string_append(t, "\"-\"");
	g_string_append(t, " - - ");
	if (group)
		g_string_append_printf(t, "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/%s/%016" G_GINT64_MODIFIER
		                       "x", group, l7lb_mix64(g_str_hash(group)));
	else
		g_string_append_c(t, '-');
	iso_time(when, now_ns);
	g_string_append_printf(t, " \"%s\" \"-\" \"-\" %u %s \"%s\" \"%s\" \"%s\"", trace ? trace : "-",
	                       rq->rule_priority, when, actions, redirect_url ? redirect_url : "-",
	                       error_reason ? error_reason : "-");
	rq->log_tail = g_string_free(t, FALSE);
	(void)lb;
}

void l7lb_log_done(const struct l7lb *lb, const struct l7lb_conn *c, struct l7lb_request *rq, FILE *f,
                   int64_t now_ns, const struct l7lb_target *target)
{
	char when[40], client[16];
	if (!rq->log_tail)
		return;
	iso_time(when, now_ns);
	fprintf(f, "http %s app/%s/%016" G_GINT64_MODIFIER "x %s:%u ", when, lb->name, l7lb_mix64(g_str_hash(lb->name)),
	        ip4_to_str(c->client, client), c->cport);
	if (target) {
		double req_s = 0.0, target_s = (double)(rq->first_byte_ns - rq->received_ns) / 1e9;
		fprintf(f, "%s %.3f %.3f %.3f %u %u", target->name, req_s, target_s < 0 ? 0 : target_s, 0.0, rq->status,
		        rq->status);
	} else {
		fprintf(f, "- %.3f -1 -1 %u -", 0.0, rq->status);
	}
	fprintf(f, " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s", rq->received_bytes, rq->sent_bytes, rq->log_tail);
	if (target)
		fprintf(f, " \"%s\" \"%u\"", target->name, rq->status);
	else
		fprintf(f, " \"-\" \"-\"");
	if (rq->classification_tier == DESYNC_COMPLIANT)
		fprintf(f, " \"-\" \"-\"\n");
	else
		fprintf(f, " \"%s\" \"%s\"\n", desync_tier_name((enum desync_tier)rq->classification_tier),
		        desync_reason_name((enum desync_reason)rq->classification_reason));
	g_clear_pointer(&rq->log_tail, g_free);
}
