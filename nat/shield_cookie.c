/* nat/shield_cookie.c: SYN cookies, the initial sequence number that encodes a half-open connection so the shield keeps no state for it (RFC 4987 section 3.6).
 *
 * RFC 4987 section 3.6 describes the idea: the server's ISN carries what the SYN queue would
 * have held, under a keyed hash, and only the client's ACK (acknowledging ISN + 1) brings it
 * back.  Linux's syncookies carry a time counter, an index into a small table of MSS values and
 * a keyed hash of the connection; this layout does the same in its own arrangement:
 *
 *   bits 31..27  the time counter, capture time / 64 s, modulo 32
 *   bits 26..24  the MSS index (the largest of shield_mss_table not above the client's MSS)
 *   bits 23..0   SipHash-2-4 (key, client, server, ports, client ISN, full counter, MSS index),
 *                its low 24 bits
 *
 * The hash covers the client's ISN, so an ACK must also carry seq = ISN + 1: a forged ACK has to
 * guess 24 bits.  The counter in the cookie says how old it is without keeping anything: an age
 * above SHIELD_COOKIE_MAX_AGE counters is expired.  What a cookie cannot carry (window scale,
 * SACK-permitted: the RFC's section 3.6 drawback) the shield's SYN-ACK does not offer.
 */
#include "common/cursor.h"
#include "nat/shield.h"

#include <glib.h>

/* Common MSS values: 536 (the IPv4 default), IPv6-over-tunnel sizes, Ethernet's 1460, jumbo frames. */
static const uint16_t shield_mss_table[SHIELD_COOKIE_MSS_N] = { 536, 1220, 1300, 1400, 1440, 1460, 4312, 8960 };

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

/* SipHash-2-4 over the words as a message of 4n little-endian bytes (the paper's section 2). */
uint64_t shield_siphash(const struct shield_key *key, const uint32_t *words, unsigned n)
{
	uint64_t v[4] = { key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
	                  key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull };
	uint64_t bytes = (uint64_t)n * 4, m;
	unsigned i = 0;

	for (; i + 1 < n; i += 2) {
		m = (uint64_t)words[i] | (uint64_t)words[i + 1] << 32;
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	m = bytes << 56;
	if (i < n)
		m |= words[i];
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* FNV-1a 64 of the secret, twice with different offsets: a string is what a teacher can type. */
struct shield_key shield_key_from_secret(const char *secret)
{
	uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;

	for (const unsigned char *s = (const unsigned char *)secret; *s; s++) {
		a = (a ^ *s) * 0x100000001b3ull;
		b = (b ^ *s) * 0x100000001b3ull;
	}
	return (struct shield_key){ .k0 = a, .k1 = b ^ 0x5348494c44ull };
}

uint32_t shield_cookie_counter(int64_t now_ns)
{
	return now_ns < 0 ? 0 : (uint32_t)(now_ns / SHIELD_COOKIE_PERIOD_NS);
}

unsigned shield_cookie_mss_index(uint16_t mss)
{
	unsigned best = 0;
	for (unsigned i = 0; i < SHIELD_COOKIE_MSS_N; i++)
		if (shield_mss_table[i] <= mss)
			best = i;
	return best;
}

uint16_t shield_cookie_mss(unsigned index)
{
	return shield_mss_table[index % SHIELD_COOKIE_MSS_N];
}

static uint32_t cookie_hash24(const struct shield_key *key, const struct shield_tuple *t, uint32_t client_isn,
                              uint32_t counter, unsigned mss_index)
{
	uint32_t words[6] = { t->client, t->server, (uint32_t)t->cport << 16 | t->sport, client_isn, counter,
	                      mss_index };
	return (uint32_t)shield_siphash(key, words, G_N_ELEMENTS(words)) & 0xffffffu;
}

uint32_t shield_cookie_make(const struct shield_key *key, const struct shield_tuple *t, uint32_t client_isn,
                            uint32_t counter, unsigned mss_index)
{
	mss_index %= SHIELD_COOKIE_MSS_N;
	return (counter & 31u) << 27 | (uint32_t)mss_index << 24 | cookie_hash24(key, t, client_isn, counter, mss_index);
}

enum shield_cookie_check shield_cookie_check(const struct shield_key *key, const struct shield_tuple *t,
                                             uint32_t client_isn, uint32_t cookie, uint32_t counter,
                                             struct shield_cookie_info *info)
{
	/* The counter's five bits say how many counters ago it was made, modulo 32. */
	unsigned age = (counter - (cookie >> 27)) & 31u;
	unsigned mss_index = (cookie >> 24) & 7u;

	if (age > counter || cookie_hash24(key, t, client_isn, counter - age, mss_index) != (cookie & 0xffffffu))
		return SHIELD_COOKIE_BAD;
	info->mss = shield_mss_table[mss_index];
	info->age = age;
	return age <= SHIELD_COOKIE_MAX_AGE ? SHIELD_COOKIE_OK : SHIELD_COOKIE_TOO_OLD;
}

uint16_t shield_tcp_mss(const struct packet *p)
{
	struct cursor c, opts;
	uint8_t off_byte, kind, len;
	uint16_t mss = 536;

	if (!p->ip.has_l4 || p->ip.proto != 6)
		return mss;
	cur_init(&c, p->data + p->ip.l4_off, p->caplen - p->ip.l4_off);
	if (!cur_skip(&c, 12) || !cur_u8(&c, &off_byte) || !cur_skip(&c, 7))
		return mss;
	unsigned hdr_len = (unsigned)(off_byte >> 4) * 4;
	if (hdr_len < 20 || !cur_sub(&c, hdr_len - 20, &opts))
		return mss;
	while (cur_u8(&opts, &kind) && kind != 0) {
		if (kind == 1)
			continue;
		if (!cur_u8(&opts, &len) || len < 2)
			break;
		if (kind == 2 && len == 4) {
			uint16_t v;
			if (cur_be16(&opts, &v))
				mss = v;
			break;
		}
		if (!cur_skip(&opts, len - 2u))
			break;
	}
	return mss;
}
