/* lb/hash.c: flow hashes for the L4 balancer: Toeplitz as in Microsoft RSS, xxHash32 from its specification.
 *
 * Toeplitz: Microsoft, "RSS hashing functions" (ComputeHash: for each input bit from the left, when
 * it is 1 XOR the leftmost 32 bits of the key into the result, then shift the key left one bit) and
 * "Verifying the RSS Hash Calculation" (the default key below, and the vectors tests/test_hash.c
 * checks).  As in RSS the input is the source address, the destination address, the source port
 * and the destination port; the protocol only selects the hash type (IPv4 with TCP or UDP: 12 bytes;
 * any other protocol: IPv4 only, 8 bytes).
 *
 * xxHash32: the "xxHash fast digest algorithm" specification, version 0.1.1 (XXH32: four
 * accumulators over 16-byte stripes, then the remaining 4-byte lanes and bytes, then the
 * avalanche).  Its input here is every selected field, the protocol included, big-endian.
 *
 * Invariant: the same key gives the same number on every platform (bytes are laid out
 * explicitly; lanes of xxHash32 are read little-endian whatever the host).
 */
#include <netinet/in.h>
#include <string.h>

#include "common/addr.h"
#include "lb/hash.h"

G_DEFINE_QUARK(natlb-lb-hash-error-quark, lb_hash_error)


/* "Verifying the RSS Hash Calculation": the key of the verification suite, which is also the
 * default many NIC drivers program. */
const uint8_t lb_toeplitz_default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static const char *const field_names[LB_FIELDS_N] = {
	[LB_FIELDS_5TUPLE] = "5-tuple",
	[LB_FIELDS_3TUPLE] = "3-tuple",
	[LB_FIELDS_2TUPLE] = "2-tuple",
	[LB_FIELDS_SRC_IP] = "src-ip",
};

const char *lb_hash_fields_name(enum lb_hash_fields f)
{
	return (unsigned)f < LB_FIELDS_N ? field_names[f] : "?";
}

bool lb_hash_fields_parse(const char *name, enum lb_hash_fields *out)
{
	for (unsigned i = 0; i < LB_FIELDS_N; i++)
		if (strcmp(name, field_names[i]) == 0) {
			*out = (enum lb_hash_fields)i;
			return true;
		}
	return false;
}

static size_t put_be32(uint8_t *out, uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
	return 4;
}

static size_t put_be16(uint8_t *out, uint16_t v)
{
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
	return 2;
}

/* ---- Toeplitz ------------------------------------------------------------------------------ */

uint32_t lb_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len)
{
	uint32_t result = 0;
	/* The leftmost 32 bits of the (shifted) key, and the key bits still to come. */
	uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];

	g_return_val_if_fail(key_len >= len + 4, 0);
	for (size_t i = 0; i < len; i++) {
		uint8_t next = key[i + 4];
		for (int bit = 7; bit >= 0; bit--) {
			if (in[i] & (1u << bit))
				result ^= window;
			window = window << 1 | ((next >> bit) & 1u);
		}
	}
	return result;
}

/* For the default key, the XOR of the windows of every set bit of one input byte at each position,
 * computed once: a hash is then one lookup per input byte. */
static uint32_t toeplitz_table[LB_HASH_INPUT_MAX][256];

static void toeplitz_table_init(void)
{
	static gsize done;

	if (!g_once_init_enter(&done))
		return;
	for (size_t pos = 0; pos < LB_HASH_INPUT_MAX; pos++)
		for (unsigned v = 0; v < 256; v++) {
			uint8_t in[LB_HASH_INPUT_MAX] = { 0 };
			in[pos] = (uint8_t)v;
			toeplitz_table[pos][v] = lb_toeplitz(lb_toeplitz_default_key, sizeof lb_toeplitz_default_key, in,
			                                     pos + 1);
		}
	g_once_init_leave(&done, 1);
}

static uint32_t toeplitz_hash(const uint8_t *in, size_t len)
{
	uint32_t h = 0;

	toeplitz_table_init();
	for (size_t i = 0; i < len && i < LB_HASH_INPUT_MAX; i++)
		h ^= toeplitz_table[i][in[i]];
	return h;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static size_t toeplitz_input(const struct lb_flow_key *k, enum lb_hash_fields fields, uint8_t out[LB_HASH_INPUT_MAX])
{
	size_t n = put_be32(out, k->src);

	if (fields == LB_FIELDS_SRC_IP)
		return n;
	n += put_be32(out + n, k->dst);
	if (fields == LB_FIELDS_5TUPLE && has_ports(k->proto)) {
		n += put_be16(out + n, k->sport);
		n += put_be16(out + n, k->dport);
	}
	return n;
}

static const char *toeplitz_explain(const struct lb_flow_key *k, enum lb_hash_fields fields)
{
	switch (fields) {
	case LB_FIELDS_5TUPLE:
		return has_ports(k->proto) ? "src ip, dst ip, src port, dst port (RSS hash type IPv4 with TCP/UDP: "
		                             "the protocol selects the type, it is not hashed)"
		                           : "src ip, dst ip (RSS hash type IPv4: this protocol has no ports)";
	case LB_FIELDS_3TUPLE:
		return "src ip, dst ip (RSS hash type IPv4: the protocol only selects the type, "
		       "so a 3-tuple hashes like a 2-tuple)";
	case LB_FIELDS_2TUPLE:
		return "src ip, dst ip (RSS hash type IPv4)";
	default:
		return "src ip (the first 4 bytes of an RSS IPv4 input)";
	}
}

/* ---- xxHash32 (specification version 0.1.1, XXH32) -------------------------------------------- */

#define XXH_PRIME32_1 0x9E3779B1u
#define XXH_PRIME32_2 0x85EBCA77u
#define XXH_PRIME32_3 0xC2B2AE3Du
#define XXH_PRIME32_4 0x27D4EB2Fu
#define XXH_PRIME32_5 0x165667B1u

static inline uint32_t rotl32(uint32_t x, unsigned r)
{
	return x << r | x >> (32 - r);
}

static inline uint32_t read_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Step 2: one lane into one accumulator. */
static inline uint32_t xxh32_round(uint32_t acc, uint32_t lane)
{
	acc += lane * XXH_PRIME32_2;
	acc = rotl32(acc, 13);
	return acc * XXH_PRIME32_1;
}

uint32_t lb_xxh32(const void *data, size_t len, uint32_t seed)
{
	const uint8_t *p = data, *end = p + len;
	uint32_t acc;

	if (len >= 16) {
		/* Step 1: four accumulators; step 2: 16-byte stripes; step 3: converge. */
		uint32_t acc1 = seed + XXH_PRIME32_1 + XXH_PRIME32_2, acc2 = seed + XXH_PRIME32_2;
		uint32_t acc3 = seed, acc4 = seed - XXH_PRIME32_1;
		for (; end - p >= 16; p += 16) {
			acc1 = xxh32_round(acc1, read_le32(p));
			acc2 = xxh32_round(acc2, read_le32(p + 4));
			acc3 = xxh32_round(acc3, read_le32(p + 8));
			acc4 = xxh32_round(acc4, read_le32(p + 12));
		}
		acc = rotl32(acc1, 1) + rotl32(acc2, 7) + rotl32(acc3, 12) + rotl32(acc4, 18);
	} else {
		/* Special case: fewer than 16 bytes. */
		acc = seed + XXH_PRIME32_5;
	}
	/* Step 4: the input length (modulo 2^32). */
	acc += (uint32_t)len;
	/* Step 5: the remaining 4-byte lanes, then bytes. */
	for (; end - p >= 4; p += 4)
		acc = rotl32(acc + read_le32(p) * XXH_PRIME32_3, 17) * XXH_PRIME32_4;
	for (; p < end; p++)
		acc = rotl32(acc + *p * XXH_PRIME32_5, 11) * XXH_PRIME32_1;
	/* Step 6: the final mix (avalanche). */
	acc ^= acc >> 15;
	acc *= XXH_PRIME32_2;
	acc ^= acc >> 13;
	acc *= XXH_PRIME32_3;
	acc ^= acc >> 16;
	return acc;
}

static uint32_t xxh32_hash(const uint8_t *in, size_t len)
{
	return lb_xxh32(in, len, 0);
}

static size_t xxh32_input(const struct lb_flow_key *k, enum lb_hash_fields fields, uint8_t out[LB_HASH_INPUT_MAX])
{
	size_t n = put_be32(out, k->src);

	if (fields == LB_FIELDS_SRC_IP)
		return n;
	n += put_be32(out + n, k->dst);
	if (fields == LB_FIELDS_5TUPLE) {
		n += put_be16(out + n, k->sport);
		n += put_be16(out + n, k->dport);
	}
	if (fields == LB_FIELDS_5TUPLE || fields == LB_FIELDS_3TUPLE)
		out[n++] = k->proto;
	return n;
}

static const char *xxh32_explain(const struct lb_flow_key *k, enum lb_hash_fields fields)
{
	(void)k;
	switch (fields) {
	case LB_FIELDS_5TUPLE:
		return "src ip, dst ip, src port, dst port, protocol (13 bytes, big-endian)";
	case LB_FIELDS_3TUPLE:
		return "src ip, dst ip, protocol (9 bytes)";
	case LB_FIELDS_2TUPLE:
		return "src ip, dst ip (8 bytes)";
	default:
		return "src ip (4 bytes)";
	}
}

/* ---- The table (STYLE.md habit 7) ------------------------------------------------------------ */

static const struct lb_hash_ops toeplitz_ops = {
	.name = "toeplitz",
	.summary = "Toeplitz, as NIC receive-side scaling (Microsoft RSS) computes it, with the default 40-byte key",
	.input = toeplitz_input,
	.hash = toeplitz_hash,
	.explain = toeplitz_explain,
};

static const struct lb_hash_ops xxh32_ops = {
	.name = "xxh32",
	.summary = "xxHash32 (seed 0), a fast general-purpose hash, over every selected field",
	.input = xxh32_input,
	.hash = xxh32_hash,
	.explain = xxh32_explain,
};

static const struct lb_hash_ops *const hash_table[] = { &toeplitz_ops, &xxh32_ops };

const struct lb_hash_ops *const *lb_hash_functions(unsigned *n)
{
	*n = G_N_ELEMENTS(hash_table);
	return hash_table;
}

const struct lb_hash_ops *lb_hash_find(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(hash_table); i++)
		if (strcmp(hash_table[i]->name, name) == 0)
			return hash_table[i];
	return NULL;
}

uint32_t lb_hash_flow(const struct lb_hash_ops *ops, enum lb_hash_fields fields, const struct lb_flow_key *k)
{
	uint8_t in[LB_HASH_INPUT_MAX];
	size_t n = ops->input(k, fields, in);
	return ops->hash(in, n);
}

/* ---- Parsing a flow from the command line ----------------------------------------------------- */

static bool parse_port(const char *text, const char *what, uint16_t *out, GError **err)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(text, 10, 0, 65535, &v, NULL)) {
		g_set_error(err, LB_HASH_ERROR, 0, "%s port '%s' is not a number from 0 to 65535", what, text);
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

static bool parse_proto(const char *text, uint8_t *out, GError **err)
{
	static const struct { const char *name; uint8_t proto; } names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
	};
	guint64 v;

	for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(text, names[i].name) == 0) {
			*out = names[i].proto;
			return true;
		}
	if (!g_ascii_string_to_unsigned(text, 10, 0, 255, &v, NULL)) {
		g_set_error(err, LB_HASH_ERROR, 0, "protocol '%s': use tcp, udp, icmp or a number from 0 to 255", text);
		return false;
	}
	*out = (uint8_t)v;
	return true;
}

/* "A.B.C.D" or "A.B.C.D:PORT"; *has_port says which. */
static bool parse_endpoint(const char *text, const char *what, uint32_t *addr, uint16_t *port, bool *has_port,
                           GError **err)
{
	const char *colon = strchr(text, ':');
	char *host = colon ? g_strndup(text, (gsize)(colon - text)) : g_strdup(text);
	bool ok = ip4_parse(host, addr);

	if (!ok)
		g_set_error(err, LB_HASH_ERROR, 0, "%s address '%s' is not an IPv4 address (like 198.51.100.7)", what, host);
	g_free(host);
	*port = 0;
	*has_port = colon != NULL;
	if (ok && colon)
		ok = parse_port(colon + 1, what, port, err);
	return ok;
}

bool lb_flow_key_parse(const char *src, const char *dst, enum lb_hash_fields fields, struct lb_flow_key *out,
                       GError **err)
{
	const char *slash = strchr(dst, '/');
	char *dst_ep = slash ? g_strndup(dst, (gsize)(slash - dst)) : g_strdup(dst);
	bool src_port = false, dst_port = false;
	bool ok;

	memset(out, 0, sizeof *out);
	out->proto = IPPROTO_TCP;
	ok = parse_endpoint(src, "source", &out->src, &out->sport, &src_port, err) &&
	     parse_endpoint(dst_ep, "destination", &out->dst, &out->dport, &dst_port, err) &&
	     (!slash || parse_proto(slash + 1, &out->proto, err));
	if (ok && fields == LB_FIELDS_5TUPLE && has_ports(out->proto) && (!src_port || !dst_port)) {
		g_set_error(err, LB_HASH_ERROR, 0, "a 5-tuple of %s hashes both ports: give %s as ADDRESS:PORT",
		            out->proto == IPPROTO_TCP ? "TCP" : "UDP", !src_port ? "the source" : "the destination");
		ok = false;
	}
	g_free(dst_ep);
	return ok;
}
