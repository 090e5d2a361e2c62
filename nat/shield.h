/* nat/shield.h: the shield stage (nat/shield.c) and its SYN cookies (nat/shield_cookie.c), for the registry, the tests and the lesson generator. */
#ifndef NATLB_SHIELD_H
#define NATLB_SHIELD_H

#include "common/packet-t.h"
#include "common/stage-t.h"
#include "nat/shield-t.h"

extern const struct stage_ops shield_ops;

/* The key a cookie-secret string gives (the same string, the same cookies: the lesson generator
 * builds its clients' ACKs with it). */
struct shield_key shield_key_from_secret(const char *secret);
/* SipHash-2-4 of n 32-bit words (Aumasson and Bernstein 2012), for the cookies and the tables. */
uint64_t shield_siphash(const struct shield_key *key, const uint32_t *words, unsigned n);
/* The time counter at capture time now_ns. */
uint32_t shield_cookie_counter(int64_t now_ns);
/* The index of the largest MSS of the cookie's table not above mss (0 for anything below 536). */
unsigned shield_cookie_mss_index(uint16_t mss);
uint16_t shield_cookie_mss(unsigned index);
/* The initial sequence number the shield answers a SYN with: the cookie (RFC 4987 section 3.6). */
uint32_t shield_cookie_make(const struct shield_key *key, const struct shield_tuple *t, uint32_t client_isn,
                            uint32_t counter, unsigned mss_index);
/* Is cookie (the ACK's acknowledgement number less one) one the shield made for this connection
 * and client ISN (the ACK's sequence number less one), at most SHIELD_COOKIE_MAX_AGE counters ago? */
enum shield_cookie_check shield_cookie_check(const struct shield_key *key, const struct shield_tuple *t,
                                             uint32_t client_isn, uint32_t cookie, uint32_t counter,
                                             struct shield_cookie_info *info);
/* The MSS option of a decoded TCP segment (RFC 9293 section 3.7.1), through the bounds-checked
 * cursor; 536, the default of RFC 9293 section 3.7.1, when there is none or it is cut short. */
uint16_t shield_tcp_mss(const struct packet *p);

#endif
