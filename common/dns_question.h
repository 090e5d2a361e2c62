/* common/dns_question.h: the name a DNS query asks about, read from a UDP payload (RFC 1035 sections 4.1.1 and 4.1.2).
 *
 * For natlb findings (CryptoCurrency:EC2/BitcoinTool.B!DNS): only queries (QR 0, opcode QUERY)
 * with at least one question; the first question's QNAME, as dotted lower-case text.  The payload
 * is untrusted: read through common/cursor.h; a compression pointer, a label over 63 bytes, a name
 * over 255 bytes or a byte a host name cannot hold (RFC 1123 section 2.1: letters, digits,
 * hyphen; underscore too, as service names use it) makes it no name.
 */
#ifndef NATLB_DNS_QUESTION_H
#define NATLB_DNS_QUESTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255

/* true, and the name in out (NUL-terminated), when payload is a query with a readable first question. */
bool dns_question_name(const uint8_t *payload, size_t len, char out[DNS_NAME_MAX + 1]);

#endif
