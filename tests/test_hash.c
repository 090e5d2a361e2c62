/* tests/test_hash.c: the L4 balancer's flow hashes against published vectors, and the flow parser of `natlb hash`.
 *
 * Follows: Microsoft, "Verifying the RSS Hash Calculation" (the five IPv4 and IPv4-with-TCP rows of
 * the verification suite, default key); the xxHash specification's XXH32, checked against the
 * reference implementation (libxxhash 0.8.1, Debian's libxxhash0) for the values listed here.
 */
#include <string.h>

#include "common/addr.h"
#include "lb/hash.h"
#include "tests/testutil.h"

static uint32_t ip(const char *dotted)
{
	uint32_t a = 0;
	g_assert_true(ip4_parse(dotted, &a));
	return a;
}

/* "Verifying the RSS Hash Calculation": destination, source, IPv4 hash, IPv4 with TCP hash. */
static const struct rss_vector {
	const char *dst;
	uint16_t dport;
	const char *src;
	uint16_t sport;
	uint32_t ipv4, ipv4_tcp;
} rss_vectors[] = {
	{ "161.142.100.80", 1766, "66.9.149.187", 2794, 0x323e8fc2, 0x51ccc178 },
	{ "65.69.140.83", 4739, "199.92.111.2", 14230, 0xd718262a, 0xc626b0ea },
	{ "12.22.207.184", 38024, "24.19.198.95", 12898, 0xd2d0a5de, 0x5c2b394a },
	{ "209.142.163.6", 2217, "38.27.205.30", 48228, 0x82989176, 0xafc7327f },
	{ "202.188.127.2", 1303, "153.39.163.191", 44251, 0x5d1809c5, 0x10e828a2 },
};

static void test_toeplitz_rss_vectors(void)
{
	const struct lb_hash_ops *t = lb_hash_find("toeplitz");
	g_assert_nonnull(t);
	for (unsigned i = 0; i < G_N_ELEMENTS(rss_vectors); i++) {
		const struct rss_vector *v = &rss_vectors[i];
		struct lb_flow_key tcp = { ip(v->src), ip(v->dst), v->sport, v->dport, 6 };
		struct lb_flow_key udp = tcp, icmp = tcp;
		udp.proto = 17;
		icmp.proto = 1;
		g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_5TUPLE, &tcp), ==, v->ipv4_tcp);
		/* RSS has a UDP hash type with the same input as TCP's */
		g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_5TUPLE, &udp), ==, v->ipv4_tcp);
		/* no ports for other protocols: the IPv4 hash type */
		g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_5TUPLE, &icmp), ==, v->ipv4);
		g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_2TUPLE, &tcp), ==, v->ipv4);
		/* the protocol only selects the hash type: a 3-tuple hashes like a 2-tuple */
		g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_3TUPLE, &tcp), ==, v->ipv4);
	}
}

/* The table-driven fast path and Microsoft's bit-by-bit ComputeHash agree on every input. */
static void test_toeplitz_table_matches_bitwise(void)
{
	const struct lb_hash_ops *t = lb_hash_find("toeplitz");
	uint8_t in[LB_HASH_INPUT_MAX];
	uint32_t state = 12345;
	for (unsigned round = 0; round < 2000; round++) {
		size_t len = 1 + round % 12;
		for (size_t i = 0; i < len; i++) {
			state = state * 1103515245u + 12345u;
			in[i] = (uint8_t)(state >> 16);
		}
		g_assert_cmphex(t->hash(in, len), ==, lb_toeplitz(lb_toeplitz_default_key, 40, in, len));
	}
}

/* One bit of input selects one 32-bit window of the key: the first bit the key's first 4 bytes. */
static void test_toeplitz_single_bits(void)
{
	const uint8_t first[1] = { 0x80 }, second[1] = { 0x40 };
	g_assert_cmphex(lb_toeplitz(lb_toeplitz_default_key, 40, first, 1), ==, 0x6d5a56da);
	g_assert_cmphex(lb_toeplitz(lb_toeplitz_default_key, 40, second, 1), ==, 0xdab4adb4);
}

/* src-ip: the first four bytes of the RSS input, so the same client always hashes the same. */
static void test_toeplitz_src_ip(void)
{
	const struct lb_hash_ops *t = lb_hash_find("toeplitz");
	struct lb_flow_key a = { ip("66.9.149.187"), ip("161.142.100.80"), 2794, 1766, 6 };
	struct lb_flow_key b = { ip("66.9.149.187"), ip("1.2.3.4"), 1, 2, 17 };
	uint8_t in[4] = { 66, 9, 149, 187 };
	g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_SRC_IP, &a), ==, lb_toeplitz(lb_toeplitz_default_key, 40, in, 4));
	g_assert_cmphex(lb_hash_flow(t, LB_FIELDS_SRC_IP, &a), ==, lb_hash_flow(t, LB_FIELDS_SRC_IP, &b));
}

/* XXH32: the empty input (the specification's well-known values) and inputs of every path
 * (under 16 bytes, stripes, lanes, tail bytes), as the reference implementation gives them. */
static const struct {
	const char *name;
	size_t len;      /* bytes 0, 1, 2, ... unless text */
	const char *text;
	uint32_t seed;
	uint32_t want;
} xxh32_vectors[] = {
	{ .name = "empty", .len = 0, .seed = 0, .want = 0x02cc5d05 },
	{ .name = "empty, seed PRIME32_1", .len = 0, .seed = 0x9e3779b1, .want = 0x36b78ae7 },
	{ .name = "a", .text = "a", .seed = 0, .want = 0x550d7456 },
	{ .name = "abc", .text = "abc", .seed = 0, .want = 0x32d153ff },
	{ .name = "39 bytes of text", .text = "Nobody inspects the spammish repetition", .seed = 0, .want = 0xe2293b2f },
	{ .name = "13 bytes: a 5-tuple's size", .len = 13, .seed = 0, .want = 0xe31d9d5a },
	{ .name = "one stripe", .len = 16, .seed = 0, .want = 0xb72837f4 },
	{ .name = "two stripes and two lanes, seed 7", .len = 40, .seed = 7, .want = 0x443e264c },
};

static void test_xxh32_vectors(void)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(xxh32_vectors); i++) {
		uint8_t buf[64];
		const void *data = buf;
		size_t len = xxh32_vectors[i].len;
		if (xxh32_vectors[i].text) {
			data = xxh32_vectors[i].text;
			len = strlen(xxh32_vectors[i].text);
		} else {
			for (size_t j = 0; j < len; j++)
				buf[j] = (uint8_t)j;
		}
		if (lb_xxh32(data, len, xxh32_vectors[i].seed) != xxh32_vectors[i].want)
			g_error("xxh32 %s: got 0x%08x, want 0x%08x", xxh32_vectors[i].name,
			        lb_xxh32(data, len, xxh32_vectors[i].seed), xxh32_vectors[i].want);
	}
}

/* Which bytes each function reads for each field set. */
static void test_inputs(void)
{
	const struct lb_hash_ops *t = lb_hash_find("toeplitz"), *x = lb_hash_find("xxh32");
	struct lb_flow_key k = { 0x01020304, 0x05060708, 0x090a, 0x0b0c, 6 };
	uint8_t in[LB_HASH_INPUT_MAX];
	static const uint8_t five[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 6 };
	static const uint8_t three[] = { 1, 2, 3, 4, 5, 6, 7, 8, 6 };

	g_assert_cmpuint(x->input(&k, LB_FIELDS_5TUPLE, in), ==, 13);
	g_assert_cmpmem(in, 13, five, 13);
	g_assert_cmpuint(x->input(&k, LB_FIELDS_3TUPLE, in), ==, 9);
	g_assert_cmpmem(in, 9, three, 9);
	g_assert_cmpuint(x->input(&k, LB_FIELDS_2TUPLE, in), ==, 8);
	g_assert_cmpuint(x->input(&k, LB_FIELDS_SRC_IP, in), ==, 4);
	g_assert_cmpuint(t->input(&k, LB_FIELDS_5TUPLE, in), ==, 12);
	g_assert_cmpmem(in, 12, five, 12);
	k.proto = 1;
	g_assert_cmpuint(t->input(&k, LB_FIELDS_5TUPLE, in), ==, 8);
	g_assert_cmpuint(t->input(&k, LB_FIELDS_3TUPLE, in), ==, 8);
	g_assert_cmpuint(t->input(&k, LB_FIELDS_SRC_IP, in), ==, 4);
	/* the protocol is in xxh32's 5-tuple: TCP and UDP of the same addresses differ */
	struct lb_flow_key tcp = { 0x01020304, 0x05060708, 1000, 80, 6 }, udp = tcp;
	udp.proto = 17;
	g_assert_cmphex(lb_hash_flow(x, LB_FIELDS_5TUPLE, &tcp), !=, lb_hash_flow(x, LB_FIELDS_5TUPLE, &udp));
}

static void test_lookup_by_name(void)
{
	enum lb_hash_fields f;
	unsigned n;
	const struct lb_hash_ops *const *all = lb_hash_functions(&n);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpstr(all[0]->name, ==, "toeplitz");
	g_assert_null(lb_hash_find("crc32"));
	for (unsigned i = 0; i < LB_FIELDS_N; i++) {
		g_assert_true(lb_hash_fields_parse(lb_hash_fields_name((enum lb_hash_fields)i), &f));
		g_assert_cmpint(f, ==, i);
	}
	g_assert_false(lb_hash_fields_parse("4-tuple", &f));
}

/* natlb hash's flow parser: user text, so every way of getting it wrong is refused with a sentence. */
static const struct parse_case {
	const char *name;
	const char *src, *dst;
	enum lb_hash_fields fields;
	bool ok;
	struct lb_flow_key want;
	const char *error; /* a substring of the message */
} parse_cases[] = {
	{ .name = "tcp-by-default", .src = "66.9.149.187:2794", .dst = "161.142.100.80:1766", .ok = true,
	  .want = { 0x420995bb, 0xa18e6450, 2794, 1766, 6 } },
	{ .name = "udp", .src = "10.0.0.1:53000", .dst = "10.0.0.2:53/udp", .ok = true,
	  .want = { 0x0a000001, 0x0a000002, 53000, 53, 17 } },
	{ .name = "protocol-in-capitals", .src = "10.0.0.1:1", .dst = "10.0.0.2:2/UDP", .ok = true,
	  .want = { 0x0a000001, 0x0a000002, 1, 2, 17 } },
	{ .name = "protocol-number", .src = "10.0.0.1", .dst = "10.0.0.2/47", .ok = true,
	  .want = { 0x0a000001, 0x0a000002, 0, 0, 47 } },
	{ .name = "icmp-needs-no-ports", .src = "10.0.0.1", .dst = "10.0.0.2/icmp", .ok = true,
	  .want = { 0x0a000001, 0x0a000002, 0, 0, 1 } },
	{ .name = "2-tuple-needs-no-ports", .src = "10.0.0.1", .dst = "10.0.0.2", .fields = LB_FIELDS_2TUPLE,
	  .ok = true, .want = { 0x0a000001, 0x0a000002, 0, 0, 6 } },
	{ .name = "5-tuple-tcp-needs-ports", .src = "10.0.0.1", .dst = "10.0.0.2:80", .error = "give the source" },
	{ .name = "5-tuple-udp-needs-dst-port", .src = "10.0.0.1:5", .dst = "10.0.0.2/udp",
	  .error = "give the destination" },
	{ .name = "bad-address", .src = "10.0.0.256:1", .dst = "10.0.0.2:80", .error = "source address '10.0.0.256'" },
	{ .name = "hostname", .src = "localhost:1", .dst = "10.0.0.2:80", .error = "not an IPv4 address" },
	{ .name = "empty", .src = "", .dst = "", .error = "source address ''" },
	{ .name = "port-too-big", .src = "10.0.0.1:65536", .dst = "10.0.0.2:80", .error = "from 0 to 65535" },
	{ .name = "port-negative", .src = "10.0.0.1:-1", .dst = "10.0.0.2:80", .error = "port '-1'" },
	{ .name = "port-empty", .src = "10.0.0.1:", .dst = "10.0.0.2:80", .error = "port ''" },
	{ .name = "port-with-junk", .src = "10.0.0.1:80x", .dst = "10.0.0.2:80", .error = "port '80x'" },
	{ .name = "two-colons", .src = "10.0.0.1:1:2", .dst = "10.0.0.2:80", .error = "port '1:2'" },
	{ .name = "bad-protocol", .src = "10.0.0.1:1", .dst = "10.0.0.2:80/sctpx", .error = "protocol 'sctpx'" },
	{ .name = "protocol-too-big", .src = "10.0.0.1:1", .dst = "10.0.0.2:80/256", .error = "protocol '256'" },
	{ .name = "empty-protocol", .src = "10.0.0.1:1", .dst = "10.0.0.2:80/", .error = "protocol ''" },
	{ .name = "slash-in-source", .src = "10.0.0.1/tcp", .dst = "10.0.0.2:80", .error = "source address" },
};

static void test_parse(gconstpointer data)
{
	const struct parse_case *c = data;
	struct lb_flow_key k;
	GError *err = NULL;
	bool ok = lb_flow_key_parse(c->src, c->dst, c->fields, &k, &err);
	if (c->ok) {
		g_assert_no_error(err);
		g_assert_true(ok);
		g_assert_cmphex(k.src, ==, c->want.src);
		g_assert_cmphex(k.dst, ==, c->want.dst);
		g_assert_cmpuint(k.sport, ==, c->want.sport);
		g_assert_cmpuint(k.dport, ==, c->want.dport);
		g_assert_cmpuint(k.proto, ==, c->want.proto);
	} else {
		g_assert_false(ok);
		g_assert_nonnull(err);
		if (!strstr(err->message, c->error))
			g_error("%s: message '%s' lacks '%s'", c->name, err->message, c->error);
		g_error_free(err);
	}
}

/* `natlb hash` prints the published value for the first row of the suite. */
static void test_verb_prints_the_rss_value(void)
{
	const char *argv[] = { test_natlb_binary(), "hash", "--function", "toeplitz", "--fields", "5-tuple",
		               "66.9.149.187:2794", "161.142.100.80:1766/tcp", NULL };
	char *out = NULL, *err = NULL;
	g_assert_cmpint(test_run(argv, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "0x51ccc178"));
	g_assert_nonnull(strstr(out, "42 09 95 bb a1 8e 64 50 0a ea 06 e6"));
	g_free(out);
	g_free(err);
}

static void test_verb_rejects_bad_text(void)
{
	const char *const cases[][4] = {
		{ "66.9.149.187:99999", "161.142.100.80:1766", NULL, "from 0 to 65535" },
		{ "66.9.149.187:1", "161.142.100.80:1766/xyz", NULL, "protocol 'xyz'" },
		{ "66.9.149.187:1", NULL, NULL, "give SRC and DST" },
		{ "--function", "crc", "1.2.3.4:1", "unknown hash function 'crc'" },
		{ "--fields", "4-tuple", "1.2.3.4:1", "unknown field set '4-tuple'" },
	};
	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *argv[8] = { test_natlb_binary(), "hash" };
		unsigned n = 2;
		for (unsigned j = 0; j < 3 && cases[i][j]; j++)
			argv[n++] = cases[i][j];
		if (g_str_has_prefix(cases[i][0], "--"))
			argv[n++] = "1.2.3.5:2";
		argv[n] = NULL;
		char *out = NULL, *err = NULL;
		g_assert_cmpint(test_run(argv, &out, &err), ==, 2);
		if (!strstr(err, cases[i][3]))
			g_error("natlb hash case %u: stderr '%s' lacks '%s'", i, err, cases[i][3]);
		g_assert_cmpstr(out, ==, "");
		g_free(out);
		g_free(err);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hash/toeplitz/microsoft-rss-verification-vectors", test_toeplitz_rss_vectors);
	g_test_add_func("/hash/toeplitz/table-agrees-with-bitwise-compute-hash", test_toeplitz_table_matches_bitwise);
	g_test_add_func("/hash/toeplitz/one-bit-selects-one-key-window", test_toeplitz_single_bits);
	g_test_add_func("/hash/toeplitz/src-ip-hashes-the-client-alone", test_toeplitz_src_ip);
	g_test_add_func("/hash/xxh32/reference-vectors", test_xxh32_vectors);
	g_test_add_func("/hash/fields/bytes-each-function-reads", test_inputs);
	g_test_add_func("/hash/lookup/by-name", test_lookup_by_name);
	for (unsigned i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		char *path = g_strdup_printf("/hash/parse/%s", parse_cases[i].name);
		g_test_add_data_func(path, &parse_cases[i], test_parse);
		g_free(path);
	}
	g_test_add_func("/hash/verb/prints-the-rss-value-and-input-bytes", test_verb_prints_the_rss_value);
	g_test_add_func("/hash/verb/rejects-bad-text-with-status-2", test_verb_rejects_bad_text);
	return g_test_run();
}
