/* lb/hash-t.h: the types of the L4 balancer's flow hashes: which fields, which function (types only).
 *
 * A balancer hashes the fields of a packet that identify its flow and maps the number to a
 * target; every packet of a flow gives the same number, so the flow stays on one target even
 * without a flow table.  The functions are an ops table (STYLE.md habit 7), looked up by the
 * name a scenario gives in `hash-function`.
 */
#ifndef NATLB_LB_HASH_T_H
#define NATLB_LB_HASH_T_H

#include <stddef.h>
#include <stdint.h>

/* Which fields of the flow enter the hash (`hash = ...` in a scenario). */
enum lb_hash_fields {
	LB_FIELDS_5TUPLE, /* protocol, source and destination address and port (AWS NLB, Maglev) */
	LB_FIELDS_3TUPLE, /* protocol, source and destination address */
	LB_FIELDS_2TUPLE, /* source and destination address */
	LB_FIELDS_SRC_IP, /* source address only: every flow of a client on one target */
	LB_FIELDS_N
};

/* One direction of a flow as a balancer hashes it; host byte order. */
struct lb_flow_key {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
};

/* The bytes a hash function reads for one flow: at most 4 + 4 + 2 + 2 + 1. */
#define LB_HASH_INPUT_MAX 13

/* A hash function (STYLE.md habit 7). */
struct lb_hash_ops {
	const char *name;    /* "toeplitz" */
	const char *summary; /* one line for natlb check and natlb hash */
	/* The bytes that enter the hash for these fields, in order; returns how many (<= LB_HASH_INPUT_MAX). */
	size_t (*input)(const struct lb_flow_key *k, enum lb_hash_fields fields, uint8_t out[LB_HASH_INPUT_MAX]);
	/* The hash of input bytes as input() laid them out. */
	uint32_t (*hash)(const uint8_t *in, size_t len);
	/* What input() reads, in words, for natlb hash and natlb check ("src ip, dst ip, ..."). */
	const char *(*explain)(const struct lb_flow_key *k, enum lb_hash_fields fields);
};

#endif
