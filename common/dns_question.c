/* common/dns_question.c: the first QNAME of a DNS query, bounds-checked (RFC 1035 4.1.1 header, 4.1.2 question; see dns_question.h). */
#include "common/dns_question.h"

#include "common/cursor.h"

bool dns_question_name(const uint8_t *payload, size_t len, char out[DNS_NAME_MAX + 1])
{
	struct cursor c;
	uint16_t id, flags, qdcount;
	size_t n = 0;

	cur_init(&c, payload, len);
	if (!cur_be16(&c, &id) || !cur_be16(&c, &flags) || !cur_be16(&c, &qdcount) || !cur_skip(&c, 6))
		return false;
	if ((flags & 0x8000) || ((flags >> 11) & 0xf) != 0 || qdcount == 0) /* a response, not QUERY, no question */
		return false;
	for (;;) {
		uint8_t label;
		if (!cur_u8(&c, &label))
			return false;
		if (label == 0)
			break;
		if (label > 63 || n + label + (n ? 1 : 0) > DNS_NAME_MAX) /* 0xc0: a pointer, never in a query's first name */
			return false;
		if (n)
			out[n++] = '.';
		for (unsigned i = 0; i < label; i++) {
			uint8_t ch;
			if (!cur_u8(&c, &ch))
				return false;
			if (ch >= 'A' && ch <= 'Z')
				ch = (uint8_t)(ch - 'A' + 'a');
			if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
				return false;
			out[n++] = (char)ch;
		}
	}
	if (n == 0) /* the root */
		return false;
	out[n] = '\0';
	return true;
}
