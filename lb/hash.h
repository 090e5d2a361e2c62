/* lb/hash.h: flow hashes of the L4 balancer: Toeplitz (RSS) and xxHash32, and the field sets they read.
 *
 * Toeplitz follows Microsoft's "RSS hashing functions" and "Verifying the RSS Hash Calculation"
 * (Windows driver documentation, NDIS RSS), with its default 40-byte secret key; xxHash32 follows
 * Yann Collet's "xxHash fast digest algorithm" specification (doc/xxhash_spec.md, XXH32).
 */
#ifndef NATLB_LB_HASH_H
#define NATLB_LB_HASH_H

#include <glib.h>
#include <stdbool.h>

#include "lb/hash-t.h"

/* Microsoft's default RSS secret key, 40 bytes (the verification suite's key). */
extern const uint8_t lb_toeplitz_default_key[40];

/* Every hash function this build knows; the first is the default. */
const struct lb_hash_ops *const *lb_hash_functions(unsigned *n);
const struct lb_hash_ops *lb_hash_find(const char *name);

/* "5-tuple", "3-tuple", "2-tuple", "src-ip"; lb_hash_fields_parse returns false for anything else. */
const char *lb_hash_fields_name(enum lb_hash_fields f);
bool lb_hash_fields_parse(const char *name, enum lb_hash_fields *out);

/* The hash of one flow: ops->hash over ops->input. */
uint32_t lb_hash_flow(const struct lb_hash_ops *ops, enum lb_hash_fields fields, const struct lb_flow_key *k);

/* Toeplitz over any bytes with any key (key_len >= len + 4): Microsoft's ComputeHash. */
uint32_t lb_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len);
/* XXH32 of any bytes with a seed, as the specification defines it (lanes read little-endian). */
uint32_t lb_xxh32(const void *data, size_t len, uint32_t seed);

/* Parse a flow from the command line: "SRC[:PORT]" and "DST[:PORT][/PROTO]" with PROTO tcp, udp,
 * icmp or a number (default tcp).  A port left out is 0; fields that hash ports need them for TCP
 * and UDP, and say so.  False with err set (one sentence naming the bad part). */
bool lb_flow_key_parse(const char *src, const char *dst, enum lb_hash_fields fields, struct lb_flow_key *out,
                       GError **err);

#define LB_HASH_ERROR lb_hash_error_quark()
GQuark lb_hash_error_quark(void);

#endif
