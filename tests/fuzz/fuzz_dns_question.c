/* tests/fuzz/fuzz_dns_question.c: libFuzzer harness for dns_question_name() (RFC 1035 sections 4.1.1, 4.1.2).
 *
 * A UDP payload to port 53 is untrusted bytes: any must give a name or none, never a read past
 * the payload (ASan sees the exact-size copy); a name is NUL-terminated, at most 255 bytes, lower
 * case letters, digits, '-', '_' and dots between non-empty labels.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dns_question.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	char name[DNS_NAME_MAX + 1];
	memcpy(copy, data, size);
	if (dns_question_name(copy, size, name)) {
		size_t n = strnlen(name, sizeof name);
		if (n == 0 || n > DNS_NAME_MAX || name[0] == '.' || name[n - 1] == '.' || strstr(name, ".."))
			abort();
		for (size_t i = 0; i < n; i++)
			if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
			      name[i] == '_' || name[i] == '.'))
				abort();
	}
	free(copy);
	return 0;
}
