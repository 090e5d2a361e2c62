/* common/flow_log.c: the flow-log recorder of a replay: one record per flow per interface per aggregation window.
 *
 * Follows the Amazon VPC User Guide, "Flow log records" (aggregation interval; default and custom
 * formats; the available fields: srcaddr is the interface's own address for outgoing traffic and
 * dstaddr for incoming, pkt-srcaddr and pkt-dstaddr the packet's; tcp-flags reports FIN 1, SYN 2,
 * RST 4 and SYN-ACK 18, OR-ed over the interval, and 0 for ACK or PSH alone; traffic-path for
 * egress only) and "Flow log record examples" (traffic through a NAT gateway).  See flow_log.h for
 * the model and the invariants.
 */
#include "common/flow_log.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/hash_index.h"
#include "common/packet.h"
#include "common/scenario.h"

static const struct {
	const char *name;
	unsigned version;
} field_info[FLOW_LOG_FIELD_N] = {
#define X(name, text, version) [FLOW_LOG_FIELD_##name] = { text, version },
	foreach_flow_log_field
#undef X
};

/* AWS fields a replay has nothing to put in: refused by name rather than filled with a guess. */
static const char *const fields_not_modelled[] = {
	"region", "az-id", "sublocation-type", "sublocation-id", "ecs-cluster-arn", "ecs-cluster-name",
	"ecs-container-instance-arn", "ecs-container-instance-id", "ecs-container-id", "ecs-second-container-id",
	"ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn", "ecs-task-id", "reject-reason", NULL,
};

const char *flow_log_field_name(enum flow_log_field f)
{
	return f < FLOW_LOG_FIELD_N ? field_info[f].name : "?";
}

unsigned flow_log_field_version(enum flow_log_field f)
{
	return f < FLOW_LOG_FIELD_N ? field_info[f].version : 0;
}

enum flow_log_field flow_log_field_lookup(const char *name)
{
	for (unsigned f = 0; f < FLOW_LOG_FIELD_N; f++)
		if (strcmp(field_info[f].name, name) == 0)
			return (enum flow_log_field)f;
	return FLOW_LOG_FIELD_N;
}

gboolean flow_log_format_parse(const char *text, struct flow_log_format *out, GError **err)
{
	char **tokens = g_strsplit_set(text, " \t", -1);
	gboolean ok = TRUE;

	memset(out, 0, sizeof *out);
	for (char **t = tokens; ok && *t; t++) {
		size_t len = strlen(*t);
		if (len == 0)
			continue;
		if (len < 4 || strncmp(*t, "${", 2) != 0 || (*t)[len - 1] != '}') {
			g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			            "--flow-log-format: '%s' is not a field: write each as ${name}, separated by spaces", *t);
			ok = FALSE;
			break;
		}
		char *name = g_strndup(*t + 2, len - 3);
		enum flow_log_field f = flow_log_field_lookup(name);
		if (f == FLOW_LOG_FIELD_N) {
			const char *all[FLOW_LOG_FIELD_N];
			for (unsigned i = 0; i < FLOW_LOG_FIELD_N; i++)
				all[i] = field_info[i].name;
			const char *near = nearest_name(name, all, FLOW_LOG_FIELD_N);
			if (g_strv_contains(fields_not_modelled, name))
				g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				            "--flow-log-format: ${%s} is an AWS field that a replay has no value for", name);
			else
				g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				            "--flow-log-format: ${%s} is not a flow log field%s%s%s", name,
				            near ? " (did you mean ${" : "", near ? near : "", near ? "}?)" : "");
			ok = FALSE;
		} else if (out->n_fields == FLOW_LOG_MAX_FIELDS) {
			g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--flow-log-format: more than %u fields",
			            FLOW_LOG_MAX_FIELDS);
			ok = FALSE;
		} else {
			out->fields[out->n_fields++] = f;
			if (field_info[f].version > out->version)
				out->version = field_info[f].version;
		}
		g_free(name);
	}
	if (ok && out->n_fields == 0) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--flow-log-format: no field given");
		ok = FALSE;
	}
	g_strfreev(tokens);
	return ok;
}

/* ---- the recorder ----------------------------------------------------------------------------- */

#define FLOW_LOG_INITIAL_SLOTS 1024u /* the index; flows[] holds half as many before it doubles */

/* What makes two packets one record. */
struct flow_key {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint16_t iface;  /* stage index * 2 + side */
	uint8_t proto;
	uint8_t ingress; /* 1 ingress, 0 egress */
	uint8_t reject;
};

struct flow_entry {
	struct flow_key key;
	uint64_t hash;
	uint64_t packets, bytes;
	int64_t first_ns, last_ns;
	uint8_t tcp_flags;
	uint8_t traffic_path;
};

/* One interface: stage st's link on one side. */
struct flow_iface {
	char eni[32];
	char subnet[32];
	uint32_t address; /* 0: the stage has none of its own there */
};

struct flow_log {
	char *path, *partial;
	FILE *f;
	const struct scenario *sc;
	struct flow_log_format fmt;
	int64_t interval_ns;
	int64_t window;          /* index of the window being aggregated; -1 before the first packet */
	struct flow_iface ifaces[2 * (SCENARIO_MAX_LINKS - 1)];
	char vpc[32];
	uint32_t *index;         /* open addressing: 0 empty, else flows[] position + 1 */
	uint32_t n_slots;        /* a power of two */
	struct flow_entry *flows; /* in the order first seen in the window */
	uint32_t n_flows, cap_flows;
	GString *line;           /* the record being formatted, reused */
	uint64_t records;
	bool failed;             /* a write failed: reported at finish */
	int write_errno;
};

/* FNV-1a, 64 bits: stable names from the scenario's own names. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t addrs = (uint64_t)k->src << 32 | k->dst;
	uint64_t rest = (uint64_t)k->sport << 48 | (uint64_t)k->dport << 32 | (uint64_t)k->iface << 16 |
	                (uint64_t)k->proto << 8 | (uint64_t)(k->ingress << 1 | k->reject);
	return hash_fmix64(addrs ^ hash_fmix64(rest));
}

static bool key_equal(const struct flow_key *a, const struct flow_key *b)
{
	return a->src == b->src && a->dst == b->dst && a->sport == b->sport && a->dport == b->dport &&
	       a->iface == b->iface && a->proto == b->proto && a->ingress == b->ingress && a->reject == b->reject;
}

struct flow_log *flow_log_open(const char *path, const struct scenario *sc, unsigned interval_s,
                               const struct flow_log_format *fmt, GError **err)
{
	struct flow_log *fl = g_new0(struct flow_log, 1);
	GString *chain = g_string_new(NULL);

	fl->path = g_strdup(path);
	fl->partial = g_strconcat(path, ".partial", NULL);
	fl->f = fopen(fl->partial, "w");
	if (!fl->f) {
		int errsv = errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errsv), "--flow-log %s: %s", path, g_strerror(errsv));
		g_string_free(chain, TRUE);
		g_free(fl->partial);
		g_free(fl->path);
		g_free(fl);
		return NULL;
	}
	fl->sc = sc;
	fl->fmt = *fmt;
	fl->interval_ns = (int64_t)interval_s * 1000000000;
	fl->window = -1;
	for (unsigned i = 0; i < sc->n_links; i++)
		g_string_append_printf(chain, "%s>", sc->links[i].name);
	g_snprintf(fl->vpc, sizeof fl->vpc, "vpc-0%016" G_GINT64_MODIFIER "x", fnv1a(chain->str));
	g_string_free(chain, TRUE);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct stage *st = sc->stages[i];
		for (unsigned side = SIDE_LEFT; side <= SIDE_RIGHT; side++) {
			struct flow_iface *fi = &fl->ifaces[2 * i + side];
			char *name = g_strdup_printf("%s/%s", st->name, side == SIDE_LEFT ? "left" : "right");
			const struct link *l = side == SIDE_LEFT ? st->left : st->right;
			g_snprintf(fi->eni, sizeof fi->eni, "eni-0%016" G_GINT64_MODIFIER "x", fnv1a(name));
			g_snprintf(fi->subnet, sizeof fi->subnet, "subnet-0%016" G_GINT64_MODIFIER "x", fnv1a(l->name));
			fi->address = st->ops->interface_address ? st->ops->interface_address(st, (enum side)side) : 0;
			g_free(name);
		}
	}
	fl->n_slots = FLOW_LOG_INITIAL_SLOTS;
	fl->index = g_new0(uint32_t, fl->n_slots);
	fl->cap_flows = fl->n_slots / 2;
	fl->flows = g_new(struct flow_entry, fl->cap_flows);
	fl->line = g_string_sized_new(256);
	for (unsigned i = 0; i < fl->fmt.n_fields; i++)
		fprintf(fl->f, "%s%s", i ? " " : "", field_info[fl->fmt.fields[i]].name);
	fputc('\n', fl->f);
	return fl;
}

const char *flow_log_interface_name(const struct flow_log *fl, const struct stage *st, enum side side)
{
	return fl->ifaces[2 * st->index + side].eni;
}

void flow_log_describe_interfaces(const struct flow_log *fl, GString *out)
{
	char a[16];
	for (unsigned i = 0; i < fl->sc->n_stages; i++) {
		const struct stage *st = fl->sc->stages[i];
		for (unsigned side = SIDE_LEFT; side <= SIDE_RIGHT; side++) {
			const struct flow_iface *fi = &fl->ifaces[2 * i + side];
			g_string_append_printf(out, "  %s  %s %s, on link %s%s%s\n", fi->eni, st->name,
			                       side == SIDE_LEFT ? "left" : "right", (side == SIDE_LEFT ? st->left : st->right)->name,
			                       fi->address ? ", address " : "", fi->address ? ip4_to_str(fi->address, a) : "");
		}
	}
}

/* The AWS service whose address ranges hold addr, from a prefix list named like AWS's managed ones
 * ("com.amazonaws.us-east-1.s3" in its description gives S3); NULL for none. */
static const char *aws_service_of(const struct scenario *sc, uint32_t addr, char buf[static 32])
{
	for (unsigned i = 0; i < sc->n_prefix_lists; i++) {
		const struct prefix_list *pl = &sc->prefix_lists[i];
		const char *d = pl->description ? strstr(pl->description, "com.amazonaws.") : NULL;
		bool in = false;
		for (unsigned j = 0; !in && j < pl->n_prefixes; j++)
			in = ip4_prefix_contains(&pl->prefixes[j], addr);
		if (!d || !in)
			continue;
		const char *service = strchr(d + strlen("com.amazonaws."), '.'); /* past the Region */
		if (!service)
			continue;
		service++;
		unsigned n = 0;
		while (n < 31 && (g_ascii_isalnum(service[n]) || service[n] == '-' || service[n] == '_')) {
			buf[n] = g_ascii_toupper(service[n]);
			n++;
		}
		buf[n] = '\0';
		if (n)
			return buf;
	}
	return NULL;
}

static void append_addr(GString *s, uint32_t a)
{
	char buf[16];
	g_string_append(s, ip4_to_str(a, buf));
}

static void format_field(const struct flow_log *fl, const struct flow_entry *e, enum flow_log_field f, GString *s)
{
	const struct flow_key *k = &e->key;
	const struct flow_iface *fi = &fl->ifaces[k->iface];
	char buf[32];
	const char *svc;

	switch (f) {
	case FLOW_LOG_FIELD_VERSION:
		g_string_append_printf(s, "%u", fl->fmt.version);
		break;
	case FLOW_LOG_FIELD_ACCOUNT_ID:
		g_string_append(s, FLOW_LOG_ACCOUNT_ID);
		break;
	case FLOW_LOG_FIELD_INTERFACE_ID:
		g_string_append(s, fi->eni);
		break;
	case FLOW_LOG_FIELD_SRCADDR: /* outgoing: the interface's own address */
		append_addr(s, !k->ingress && fi->address ? fi->address : k->src);
		break;
	case FLOW_LOG_FIELD_DSTADDR: /* incoming: the interface's own address */
		append_addr(s, k->ingress && fi->address ? fi->address : k->dst);
		break;
	case FLOW_LOG_FIELD_SRCPORT:
		g_string_append_printf(s, "%u", k->sport);
		break;
	case FLOW_LOG_FIELD_DSTPORT:
		g_string_append_printf(s, "%u", k->dport);
		break;
	case FLOW_LOG_FIELD_PROTOCOL:
		g_string_append_printf(s, "%u", k->proto);
		break;
	case FLOW_LOG_FIELD_PACKETS:
		g_string_append_printf(s, "%" G_GUINT64_FORMAT, e->packets);
		break;
	case FLOW_LOG_FIELD_BYTES:
		g_string_append_printf(s, "%" G_GUINT64_FORMAT, e->bytes);
		break;
	case FLOW_LOG_FIELD_START:
		g_string_append_printf(s, "%" G_GINT64_FORMAT, e->first_ns / 1000000000);
		break;
	case FLOW_LOG_FIELD_END:
		g_string_append_printf(s, "%" G_GINT64_FORMAT, e->last_ns / 1000000000);
		break;
	case FLOW_LOG_FIELD_ACTION:
		g_string_append(s, k->reject ? "REJECT" : "ACCEPT");
		break;
	case FLOW_LOG_FIELD_LOG_STATUS:
		g_string_append(s, "OK");
		break;
	case FLOW_LOG_FIELD_VPC_ID:
		g_string_append(s, fl->vpc);
		break;
	case FLOW_LOG_FIELD_SUBNET_ID:
		g_string_append(s, fi->subnet);
		break;
	case FLOW_LOG_FIELD_INSTANCE_ID: /* a stage's interface is requester-managed, as a NAT gateway's */
		g_string_append_c(s, '-');
		break;
	case FLOW_LOG_FIELD_TCP_FLAGS:
		g_string_append_printf(s, "%u", e->tcp_flags);
		break;
	case FLOW_LOG_FIELD_TYPE:
		g_string_append(s, "IPv4");
		break;
	case FLOW_LOG_FIELD_PKT_SRCADDR:
		append_addr(s, k->src);
		break;
	case FLOW_LOG_FIELD_PKT_DSTADDR:
		append_addr(s, k->dst);
		break;
	case FLOW_LOG_FIELD_PKT_SRC_AWS_SERVICE:
		svc = aws_service_of(fl->sc, k->src, buf);
		g_string_append(s, svc ? svc : "-");
		break;
	case FLOW_LOG_FIELD_PKT_DST_AWS_SERVICE:
		svc = aws_service_of(fl->sc, k->dst, buf);
		g_string_append(s, svc ? svc : "-");
		break;
	case FLOW_LOG_FIELD_FLOW_DIRECTION:
		g_string_append(s, k->ingress ? "ingress" : "egress");
		break;
	case FLOW_LOG_FIELD_TRAFFIC_PATH:
		if (e->traffic_path == FLOW_LOG_PATH_NONE)
			g_string_append_c(s, '-');
		else
			g_string_append_printf(s, "%u", e->traffic_path);
		break;
	case FLOW_LOG_FIELD_N:
		break;
	}
}

/* Write every record of the window being aggregated, and start an empty one. */
static void flush_window(struct flow_log *fl)
{
	for (uint32_t i = 0; i < fl->n_flows; i++) {
		g_string_truncate(fl->line, 0);
		for (unsigned j = 0; j < fl->fmt.n_fields; j++) {
			if (j)
				g_string_append_c(fl->line, ' ');
			format_field(fl, &fl->flows[i], fl->fmt.fields[j], fl->line);
		}
		g_string_append_c(fl->line, '\n');
		if (fwrite(fl->line->str, 1, fl->line->len, fl->f) != fl->line->len && !fl->failed) {
			fl->failed = true;
			fl->write_errno = errno;
		}
		fl->records++;
	}
	fl->n_flows = 0;
	memset(fl->index, 0, fl->n_slots * sizeof *fl->index);
}

/* Twice the room: once per doubling of the busiest window, never in the steady state. */
static void grow(struct flow_log *fl)
{
	fl->n_slots *= 2;
	g_free(fl->index);
	fl->index = g_new0(uint32_t, fl->n_slots);
	fl->cap_flows = fl->n_slots / 2;
	fl->flows = g_renew(struct flow_entry, fl->flows, fl->cap_flows);
	for (uint32_t i = 0; i < fl->n_flows; i++) {
		uint32_t s = (uint32_t)fl->flows[i].hash & (fl->n_slots - 1);
		while (fl->index[s])
			s = (s + 1) & (fl->n_slots - 1);
		fl->index[s] = i + 1;
	}
}

/* tcp-flags as the field's documentation reports them: FIN, SYN, RST, and ACK only as part of SYN-ACK. */
static uint8_t reported_tcp_flags(uint8_t flags)
{
	uint8_t r = flags & (0x01 | 0x02 | 0x04);
	if ((flags & 0x12) == 0x12)
		r |= 0x10;
	return r;
}

/* Where an egress record's traffic goes: a gateway endpoint when st routes it around the stages
 * after it, the internet gateway onto a link outside the VPC's networks, else the same VPC. */
static uint8_t traffic_path_of(const struct stage *st, enum side side, enum hop_dir dir, const struct packet *p)
{
	const char *via;
	const struct link *l = side == SIDE_LEFT ? st->left : st->right;
	/* the stages routed around are on the right: the way out towards them */
	if (side == SIDE_RIGHT && st->ops->bypass && st->ops->bypass(st, p, dir, &via) > 0)
		return FLOW_LOG_PATH_GATEWAY_ENDPOINT;
	return l->n_networks == 0 ? FLOW_LOG_PATH_INTERNET_GATEWAY : FLOW_LOG_PATH_SAME_VPC;
}

void flow_log_packet(struct flow_log *fl, const struct stage *st, enum side side, bool ingress, bool reject,
                     enum hop_dir dir, const struct packet *p, int64_t ts_ns)
{
	int64_t w = ts_ns >= 0 ? ts_ns / fl->interval_ns : 0;
	/* A derived view stamped a few microseconds before the boundary stays in the current window. */
	if (w > fl->window) {
		if (fl->window >= 0)
			flush_window(fl);
		fl->window = w;
	}
	bool ports = p->ip.has_ports && (p->ip.proto == 6 || p->ip.proto == 17);
	struct flow_key k = {
		.src = p->ip.src, .dst = p->ip.dst, .sport = ports ? p->ip.sport : 0, .dport = ports ? p->ip.dport : 0,
		.iface = (uint16_t)(2 * st->index + side), .proto = p->ip.proto, .ingress = ingress, .reject = reject,
	};
	uint64_t h = key_hash(&k);
	uint32_t s = (uint32_t)h & (fl->n_slots - 1);
	struct flow_entry *e = NULL;
	for (; fl->index[s]; s = (s + 1) & (fl->n_slots - 1)) {
		struct flow_entry *c = &fl->flows[fl->index[s] - 1];
		if (c->hash == h && key_equal(&c->key, &k)) {
			e = c;
			break;
		}
	}
	if (!e) {
		if (fl->n_flows == fl->cap_flows) {
			grow(fl);
			s = (uint32_t)h & (fl->n_slots - 1);
			while (fl->index[s])
				s = (s + 1) & (fl->n_slots - 1);
		}
		e = &fl->flows[fl->n_flows];
		*e = (struct flow_entry){ .key = k, .hash = h, .first_ns = ts_ns };
		e->traffic_path = ingress ? FLOW_LOG_PATH_NONE : traffic_path_of(st, side, dir, p);
		fl->index[s] = ++fl->n_flows;
	}
	e->packets++;
	e->bytes += p->ip.total_len;
	if (ts_ns > e->last_ns)
		e->last_ns = ts_ns;
	if (p->ip.proto == 6 && p->ip.has_l4)
		e->tcp_flags |= reported_tcp_flags(p->ip.tcp_flags);
}

gboolean flow_log_finish(struct flow_log *fl, GError **err)
{
	flush_window(fl);
	int bad = ferror(fl->f) || fl->failed;
	int errsv = fl->failed ? fl->write_errno : errno;
	int closed = fclose(fl->f);
	fl->f = NULL;
	if (bad || closed != 0 || g_rename(fl->partial, fl->path) != 0) {
		if (!bad && closed == 0)
			errsv = errno;
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errsv ? errsv : EIO), "--flow-log %s: %s", fl->path,
		            g_strerror(errsv ? errsv : EIO));
		g_unlink(fl->partial);
		return FALSE;
	}
	g_clear_pointer(&fl->partial, g_free); /* renamed: nothing to remove */
	return TRUE;
}

uint64_t flow_log_records(const struct flow_log *fl)
{
	return fl->records;
}

void flow_log_free(struct flow_log *fl)
{
	if (!fl)
		return;
	if (fl->f) {
		fclose(fl->f);
		g_unlink(fl->partial);
	}
	g_free(fl->partial);
	g_free(fl->path);
	g_free(fl->index);
	g_free(fl->flows);
	g_string_free(fl->line, TRUE);
	g_free(fl);
}
