/* tests/fuzz/fuzz_ip4_reasm.c: libFuzzer harness for bounded IPv4 reassembly (common/ip4_reasm.c; RFC 791 section 3.2, RFC 5722).
 *
 * Every fragment is cut from one of four pseudo-datagrams (IP ids 1-4) whose payload byte at
 * offset i is pattern(id, i), or from its complement (an ambiguous copy), so the oracle knows
 * each byte without keeping the datagram: a datagram given back must be a well-formed unfragmented
 * header (total length, no MF, offset 0, a right checksum) over a payload whose every byte is
 * pattern or complement, no longer than 65,535 bytes; what is held stays within the limits; every
 * fragment gets exactly one result in the counters.  Each fragment is an exact-size malloc, so
 * ASan sees a read past it.  Any violation abort()s.
 *
 * Input: limits [1] (low 2 bits + 1: max_datagrams, high 4 bits + 1: max_fragments), then records
 * [flags][offset in 8-byte units, 2 bytes][length, 2 bytes][time step]: flags bits 0-1 the id
 * - 1, bit 2 MF, bit 3 complement bytes, bit 4 the capture cut its last 4 bytes, bit 5 IHL 6 (an
 * option), bit 6 the time step is in seconds (else milliseconds), bit 7 the length as given (else
 * its low 12 bits: most runs stay small and fast, and the offset alone reaches past 65,535).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/byteorder.h"
#include "common/checksum.h"
#include "common/cursor.h"
#include "common/ip4_reasm.h"
#include "common/packet.h"

#define ETH 14

static void check_at(int ok, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_ip4_reasm.c:%d: invariant violated\n", line);
	abort();
}
#define check(ok) check_at((ok), __LINE__)

static uint8_t pattern(unsigned id, uint32_t i)
{
	return (uint8_t)(i * 131u + id * 29u + (i >> 8));
}

static void check_datagram(const struct ip4_reasm_out *out)
{
	const uint8_t *h = out->datagram;
	unsigned ihl = (h[0] & 15u) * 4u;
	check(out->datagram_len <= 65535 && out->datagram_len >= ihl);
	check(be16_load(h + 2) == out->datagram_len);
	check((be16_load(h + 6) & 0x3fff) == 0);
	check(csum_fold(csum_partial(h, ihl, 0)) == 0);
	unsigned id = be16_load(h + 4);
	check(id >= 1 && id <= 4);
	check(out->payload_len == out->datagram_len - ihl);
	for (uint32_t i = 0; i < out->payload_len; i++) {
		uint8_t b = h[ihl + i], p = pattern(id, i);
		check(b == p || b == (uint8_t)~p);
	}
}

static void one_fragment(struct ip4_reasm *r, uint8_t flags, uint16_t units, uint16_t len, int64_t now_ns,
                         const struct ip4_reasm_limits *lim)
{
	unsigned id = (flags & 3u) + 1, ihl = flags & 0x20 ? 24 : 20;
	if (!(flags & 0x80))
		len &= 0x0fff;
	if (len > 65535 - ihl)
		len = (uint16_t)(65535 - ihl);
	uint32_t n = ETH + ihl + len, cut = flags & 0x10 && len >= 4 ? 4 : 0;
	uint8_t *f = calloc(1, n);
	check(f != NULL);
	f[12] = 0x08;
	uint8_t *ip = f + ETH;
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	be16_store(ip + 2, (uint16_t)(ihl + len));
	be16_store(ip + 4, (uint16_t)id);
	be16_store(ip + 6, (uint16_t)((flags & 4 ? 0x2000 : 0) | (units & 0x1fff)));
	ip[8] = 64;
	ip[9] = 253;
	memcpy(ip + 12, "\xc0\xa8\x00\x01\xcb\x00\x71\x0a", 8);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t p = pattern(id, (units & 0x1fffu) * 8u + i);
		ip[ihl + i] = flags & 8 ? (uint8_t)~p : p;
	}
	be16_store(ip + 10, csum_fold(csum_partial(ip, ihl, 0)));
	uint8_t *exact = malloc(n - cut);
	check(exact != NULL);
	memcpy(exact, f, n - cut);
	struct packet p = { .data = exact, .capacity = n - cut, .caplen = n - cut, .wirelen = n, .linktype = 1,
		            .ts_ns = now_ns };
	decode_packet(&p);
	if (p.l3 == L3_IPV4 && p.ip.is_fragment && p.status != DECODE_INVALID) {
		struct ip4_reasm_out out;
		enum ip4_reasm_result res = ip4_reasm_add(r, &p, now_ns, &out);
		check(res < IP4_REASM_N);
		check(out.n_fragments <= lim->max_fragments);
		check(!out.payload_len || out.bytes_held <= out.payload_len);
		if (res == IP4_REASM_COMPLETE)
			check_datagram(&out);
		else
			check(out.datagram == NULL);
	}
	free(exact);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c;
	uint8_t limits;
	cur_init(&c, data, size);
	if (!cur_u8(&c, &limits))
		return 0;
	const struct ip4_reasm_limits lim = { .max_datagrams = (limits & 3u) + 1, .max_fragments = (limits >> 4) + 1u,
		                              .timeout_ns = 30 * INT64_C(1000000000) };
	struct ip4_reasm *r = ip4_reasm_new(&lim);
	check(r != NULL);
	int64_t now_ns = 0;
	uint64_t calls = 0;
	uint8_t flags, step;
	uint16_t units, len;
	while (cur_u8(&c, &flags) && cur_be16(&c, &units) && cur_be16(&c, &len) && cur_u8(&c, &step)) {
		now_ns += (int64_t)step * (flags & 0x40 ? INT64_C(1000000000) : INT64_C(1000000));
		uint64_t before = 0, after = 0;
		for (unsigned k = 0; k < IP4_REASM_N; k++)
			before += ip4_reasm_stats(r)->results[k];
		one_fragment(r, flags, units, len, now_ns, &lim);
		for (unsigned k = 0; k < IP4_REASM_N; k++)
			after += ip4_reasm_stats(r)->results[k];
		check(after - before <= 1); /* one result, or none for a packet that was not a fragment */
		calls += after - before;
	}
	check(ip4_reasm_stats(r)->datagrams == ip4_reasm_stats(r)->results[IP4_REASM_COMPLETE]);
	ip4_reasm_free(r);
	(void)calls;
	return 0;
}
