/* common/findings.c: the rules that turn flows and DNS queries into GuardDuty finding types (see findings.h).
 *
 * Follows the Amazon GuardDuty User Guide, "GuardDuty EC2 finding types": Recon:EC2/Portscan
 * (Medium), Recon:EC2/PortProbeUnprotectedPort (Low; Medium when the port is Elasticsearch's 9200
 * or 9300), UnauthorizedAccess:EC2/SSHBruteForce (Low when the instance is the target, High when
 * it is the actor), UnauthorizedAccess:EC2/RDPBruteForce (Low as target, Medium as actor),
 * CryptoCurrency:EC2/BitcoinTool.B and .B!DNS (High), Backdoor:EC2/DenialOfService.Tcp and .Udp
 * (High), Behavior:EC2/TrafficVolumeUnusual (Medium).
 */
#include "common/findings.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[FINDING_TYPE_N] = {
#define X(name, type, what) [FINDING_##name] = type,
	foreach_finding_type
#undef X
};

static const struct {
	const char *name, *what;
	uint64_t def;
} settings_info[FINDINGS_SETTING_N] = {
#define X(name, opt, d, w) [FINDINGS_SETTING_##name] = { opt, w, d },
	foreach_findings_setting
#undef X
};

/* Stratum ports that pools publish for their miners; a short list, a lesson's, not threat intelligence. */
static const uint16_t mining_ports[] = { 3333, 4444, 5555, 7777, 14444, 45700 };

const char *const findings_mining_domains[] = {
	"nicehash.com", "minexmr.com", "supportxmr.com", "moneroocean.stream", "f2pool.com", "antpool.com",
	"viabtc.com", "2miners.com", "nanopool.org", "ethermine.org", "hashvault.pro", "c3pool.com", NULL,
};

#define SEV_LOW 2.0
#define SEV_MEDIUM 5.0
#define SEV_HIGH 8.0

const char *finding_type_name(enum finding_type t)
{
	return t < FINDING_TYPE_N ? type_names[t] : "?";
}

void findings_settings_default(struct findings_settings *s)
{
	for (unsigned i = 0; i < FINDINGS_SETTING_N; i++)
		s->v[i] = settings_info[i].def;
}

const char *findings_setting_name(enum findings_setting s)
{
	return settings_info[s].name;
}

const char *findings_setting_what(enum findings_setting s)
{
	return settings_info[s].what;
}

uint64_t findings_setting_default(enum findings_setting s)
{
	return settings_info[s].def;
}

/* ---- flows: records grouped by 5-tuple, the interface that saw most ------------------------------ */

struct flow {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	bool any_accept;
	uint64_t packets, bytes;
	int64_t first, last;
	GArray *lines;      /* guint */
	GHashTable *per_iface; /* interface-id -> uint64_t[2] packets, bytes */
};

static bool is_private(uint32_t a)
{
	return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
	       (a >> 22) == (100u << 2 | 1); /* 10/8, 172.16/12, 192.168/16, 100.64/10 */
}

static void flow_free(gpointer p)
{
	struct flow *f = p;
	g_array_free(f->lines, TRUE);
	g_hash_table_destroy(f->per_iface);
	g_free(f);
}

static GPtrArray *flows_of(const GArray *records)
{
	GHashTable *by_tuple = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *flows = g_ptr_array_new_with_free_func(flow_free);
	for (guint i = 0; i < records->len; i++) {
		const struct flow_record *r = &g_array_index(records, struct flow_record, i);
		char *key = g_strdup_printf("%u %u %u %u %u", r->proto, r->src, r->dst, r->sport, r->dport);
		struct flow *f = g_hash_table_lookup(by_tuple, key);
		if (!f) {
			f = g_new0(struct flow, 1);
			*f = (struct flow){ .src = r->src, .dst = r->dst, .sport = r->sport, .dport = r->dport, .proto = r->proto,
				            .first = r->start, .last = r->end, .lines = g_array_new(FALSE, FALSE, sizeof(guint)),
				            .per_iface = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free) };
			g_hash_table_insert(by_tuple, key, f);
			g_ptr_array_add(flows, f);
		} else {
			g_free(key);
		}
		guint line = r->line;
		g_array_append_val(f->lines, line);
		f->any_accept |= !r->reject;
		f->first = MIN(f->first, r->start);
		f->last = MAX(f->last, r->end);
		uint64_t *c = g_hash_table_lookup(f->per_iface, r->interface_id);
		if (!c) {
			c = g_new0(uint64_t, 2);
			g_hash_table_insert(f->per_iface, g_strdup(r->interface_id), c);
		}
		c[0] += r->packets;
		c[1] += r->bytes;
		if (c[0] > f->packets || (c[0] == f->packets && c[1] > f->bytes)) {
			f->packets = c[0];
			f->bytes = c[1];
		}
	}
	g_hash_table_destroy(by_tuple);
	return flows;
}

/* ---- groups: flows that together may raise one finding --------------------------------------------- */

struct group {
	enum finding_type type;
	uint32_t resource, remote;
	uint16_t port;
	const char *role;
	GHashTable *distinct;    /* what count counts when it is "distinct": ports, hosts */
	uint64_t flows, packets, bytes;
	int64_t first, last;
	GArray *lines;
};

static void group_free(gpointer p)
{
	struct group *g = p;
	if (g->distinct)
		g_hash_table_destroy(g->distinct);
	g_array_free(g->lines, TRUE);
	g_free(g);
}

struct groups {
	GHashTable *by_key;
	GPtrArray *all;
};

static struct group *group_get(struct groups *gs, enum finding_type t, uint32_t resource, uint32_t remote, uint16_t port,
                               const char *role)
{
	char *key = g_strdup_printf("%d %u %u %u %s", t, resource, remote, port, role);
	struct group *g = g_hash_table_lookup(gs->by_key, key);
	if (g) {
		g_free(key);
		return g;
	}
	g = g_new0(struct group, 1);
	*g = (struct group){ .type = t, .resource = resource, .remote = remote, .port = port, .role = role,
		             .distinct = g_hash_table_new(g_direct_hash, g_direct_equal), .first = INT64_MAX,
		             .last = INT64_MIN, .lines = g_array_new(FALSE, FALSE, sizeof(guint)) };
	g_hash_table_insert(gs->by_key, key, g);
	g_ptr_array_add(gs->all, g);
	return g;
}

static void group_add(struct group *g, const struct flow *f, guint distinct)
{
	g_hash_table_add(g->distinct, GUINT_TO_POINTER(distinct));
	g->flows++;
	g->packets += f->packets;
	g->bytes += f->bytes;
	g->first = MIN(g->first, f->first);
	g->last = MAX(g->last, f->last);
	g_array_append_vals(g->lines, f->lines->data, f->lines->len);
}

static bool is_mining_port(uint16_t port)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(mining_ports); i++)
		if (mining_ports[i] == port)
			return true;
	return false;
}

/* Which groups one flow joins. */
static void flow_classify(struct groups *gs, const struct flow *f, const struct findings_settings *s)
{
	bool out = is_private(f->src) && !is_private(f->dst), in = !is_private(f->src) && is_private(f->dst);
	if (!out && !in)
		return;
	uint32_t local = out ? f->src : f->dst, remote = out ? f->dst : f->src;
	if (out && f->proto == 6)
		group_add(group_get(gs, FINDING_PORTSCAN, local, remote, 0, ""), f, f->dport);
	if (f->proto == 6 && (f->dport == 22 || f->dport == 3389))
		group_add(group_get(gs, f->dport == 22 ? FINDING_SSH_BRUTE_FORCE : FINDING_RDP_BRUTE_FORCE, local, remote,
		                    f->dport, out ? "actor" : "target"),
		          f, f->sport);
	if (out && (f->proto == 6 || f->proto == 17) && is_mining_port(f->dport))
		group_add(group_get(gs, FINDING_BITCOIN_TOOL, local, remote, f->dport, ""), f, f->sport);
	/* a probe: a short flow the instance's port accepted (a longer one is a conversation) */
	if (in && f->any_accept && (f->proto == 6 || f->proto == 17) && f->packets <= s->v[FINDINGS_SETTING_PROBE_PACKETS])
		group_add(group_get(gs, FINDING_PORT_PROBE, local, 0, f->dport, ""), f, remote);
	if (out && (f->proto == 6 || f->proto == 17))
		group_add(group_get(gs, f->proto == 6 ? FINDING_DOS_TCP : FINDING_DOS_UDP, local, remote, 0, ""), f, 0);
	if (out)
		group_add(group_get(gs, FINDING_TRAFFIC_VOLUME, local, remote, 0, ""), f, 0);
}

static struct finding *finding_from(const struct group *g, double severity, uint64_t count, const char *what)
{
	struct finding *fd = g_new0(struct finding, 1);
	fd->type = g->type;
	fd->severity = severity;
	fd->resource = g->resource;
	fd->role = g->role;
	fd->remote = g->remote;
	fd->port = g->port;
	fd->count = count;
	fd->count_what = what;
	fd->first_seen = g->first;
	fd->last_seen = g->last;
	fd->lines = g_array_sized_new(FALSE, FALSE, sizeof(guint), g->lines->len);
	g_array_append_vals(fd->lines, g->lines->data, g->lines->len);
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The median of bytes the instance sent to each of its remote hosts; 0 when it has fewer than 3. */
static uint64_t volume_median(const struct groups *gs, uint32_t resource)
{
	GArray *v = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	for (guint i = 0; i < gs->all->len; i++) {
		const struct group *g = gs->all->pdata[i];
		if (g->type == FINDING_TRAFFIC_VOLUME && g->resource == resource)
			g_array_append_val(v, g->bytes);
	}
	uint64_t m = 0;
	if (v->len >= 3) {
		qsort(v->data, v->len, sizeof(uint64_t), cmp_u64);
		m = g_array_index(v, uint64_t, v->len / 2);
	}
	g_array_free(v, TRUE);
	return m;
}

/* The finding a group raises under the settings, or NULL. */
static struct finding *group_judge(const struct groups *gs, const struct group *g, const struct findings_settings *s)
{
	const uint64_t *t = s->v;
	uint64_t distinct = g_hash_table_size(g->distinct);
	switch (g->type) {
	case FINDING_PORTSCAN:
		return distinct >= t[FINDINGS_SETTING_PORTSCAN_PORTS] ? finding_from(g, SEV_MEDIUM, distinct, "ports") : NULL;
	case FINDING_SSH_BRUTE_FORCE:
	case FINDING_RDP_BRUTE_FORCE: {
		bool actor = strcmp(g->role, "actor") == 0;
		double sev = !actor ? SEV_LOW : g->type == FINDING_SSH_BRUTE_FORCE ? SEV_HIGH : SEV_MEDIUM;
		return g->flows >= t[FINDINGS_SETTING_BRUTEFORCE_CONNECTIONS] ? finding_from(g, sev, g->flows, "connections")
		                                                              : NULL;
	}
	case FINDING_BITCOIN_TOOL:
		return g->flows >= t[FINDINGS_SETTING_MINING_FLOWS] ? finding_from(g, SEV_HIGH, g->flows, "flows") : NULL;
	case FINDING_PORT_PROBE: {
		double sev = g->port == 9200 || g->port == 9300 ? SEV_MEDIUM : SEV_LOW;
		return distinct >= t[FINDINGS_SETTING_PROBE_SOURCES] ? finding_from(g, sev, distinct, "remote hosts") : NULL;
	}
	case FINDING_DOS_TCP:
	case FINDING_DOS_UDP: {
		int64_t span = g->last - g->first;
		uint64_t pps = g->packets / (uint64_t)(span < 1 ? 1 : span);
		return pps >= t[FINDINGS_SETTING_DOS_PPS] ? finding_from(g, SEV_HIGH, pps, "packets/s") : NULL;
	}
	case FINDING_TRAFFIC_VOLUME: {
		uint64_t m = volume_median(gs, g->resource);
		bool over = m && g->bytes >= t[FINDINGS_SETTING_VOLUME_MIN_BYTES] &&
		            g->bytes / t[FINDINGS_SETTING_VOLUME_FACTOR] >= m;
		return over ? finding_from(g, SEV_MEDIUM, g->bytes, "bytes") : NULL;
	}
	case FINDING_BITCOIN_TOOL_DNS:
	case FINDING_TYPE_N:
		break;
	}
	return NULL;
}

/* ---- DNS: names under a mining pool's domain ------------------------------------------------------- */

static const char *mining_domain_of(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *d = findings_mining_domains; *d; d++) {
		size_t m = strlen(*d);
		if (n == m ? strcmp(name, *d) == 0 : n > m && name[n - m - 1] == '.' && strcmp(name + n - m, *d) == 0)
			return *d;
	}
	return NULL;
}

static void dns_findings(const GArray *queries, const struct findings_settings *s, GPtrArray *out)
{
	GHashTable *by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *found = g_ptr_array_new();
	for (guint i = 0; queries && i < queries->len; i++) {
		const struct dns_query *q = &g_array_index(queries, struct dns_query, i);
		if (!mining_domain_of(q->name))
			continue;
		char *key = g_strdup_printf("%u %s", q->client, q->name);
		struct finding *fd = g_hash_table_lookup(by_key, key);
		if (!fd) {
			fd = g_new0(struct finding, 1);
			*fd = (struct finding){ .type = FINDING_BITCOIN_TOOL_DNS, .severity = SEV_HIGH, .resource = q->client,
				                .role = "", .count_what = "queries", .first_seen = q->ts, .last_seen = q->ts,
				                .lines = g_array_new(FALSE, FALSE, sizeof(guint)), .lines_are_frames = true };
			g_strlcpy(fd->remote_name, q->name, sizeof fd->remote_name);
			g_hash_table_insert(by_key, key, fd);
			g_ptr_array_add(found, fd);
		} else {
			g_free(key);
		}
		fd->count++;
		fd->first_seen = MIN(fd->first_seen, q->ts);
		fd->last_seen = MAX(fd->last_seen, q->ts);
		guint frame = (guint)q->frame;
		g_array_append_val(fd->lines, frame);
	}
	for (guint i = 0; i < found->len; i++) {
		struct finding *fd = found->pdata[i];
		if (fd->count >= s->v[FINDINGS_SETTING_MINING_QUERIES]) {
			g_ptr_array_add(out, fd);
		} else {
			g_array_free(fd->lines, TRUE);
			g_free(fd);
		}
	}
	g_ptr_array_free(found, TRUE);
	g_hash_table_destroy(by_key);
}

/* ---- all of it ------------------------------------------------------------------------------------- */

static int cmp_uint(const void *a, const void *b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;
	return x < y ? -1 : x > y;
}

static void lines_sort_unique(GArray *lines)
{
	qsort(lines->data, lines->len, sizeof(guint), cmp_uint);
	guint n = 0;
	for (guint i = 0; i < lines->len; i++)
		if (n == 0 || g_array_index(lines, guint, n - 1) != g_array_index(lines, guint, i))
			g_array_index(lines, guint, n++) = g_array_index(lines, guint, i);
	g_array_set_size(lines, n);
}

static gint cmp_findings(gconstpointer a, gconstpointer b)
{
	const struct finding *x = *(struct finding *const *)a, *y = *(struct finding *const *)b;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->resource != y->resource)
		return x->resource < y->resource ? -1 : 1;
	if (x->remote != y->remote)
		return x->remote < y->remote ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->remote_name, y->remote_name);
}

static void finding_free(gpointer p)
{
	struct finding *fd = p;
	g_array_free(fd->lines, TRUE);
	g_free(fd);
}

GPtrArray *findings_compute(const GArray *records, const GArray *queries, const struct findings_settings *s)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(finding_free);
	GPtrArray *flows = flows_of(records);
	struct groups gs = { .by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		             .all = g_ptr_array_new_with_free_func(group_free) };

	for (guint i = 0; i < flows->len; i++)
		flow_classify(&gs, flows->pdata[i], s);
	for (guint i = 0; i < gs.all->len; i++) {
		struct finding *fd = group_judge(&gs, gs.all->pdata[i], s);
		if (fd)
			g_ptr_array_add(out, fd);
	}
	dns_findings(queries, s, out);
	for (guint i = 0; i < out->len; i++)
		lines_sort_unique(((struct finding *)out->pdata[i])->lines);
	g_ptr_array_sort(out, cmp_findings);
	g_hash_table_destroy(gs.by_key);
	g_ptr_array_free(gs.all, TRUE);
	g_ptr_array_free(flows, TRUE);
	return out;
}

void findings_free(GPtrArray *findings)
{
	if (findings)
		g_ptr_array_free(findings, TRUE);
}
