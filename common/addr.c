/* common/addr.c: IPv4 address and prefix text, as scenario files write them (RFC 4632 notation); what the unforwarded scopes are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/packet.h"
#include "common/scenario.h"

bool ip4_parse(const char *text, uint32_t *out)
{
	uint32_t addr = 0;
	const char *p = text;

	for (int i = 0; i < 4; i++) {
		if (!g_ascii_isdigit(*p))
			return false;
		unsigned v = 0, digits = 0;
		/* "010" is 8 to inet_aton() and 10 to inet_pton()'s readers: refused (ip4_prefix_parse() says why) */
		if (p[0] == '0' && g_ascii_isdigit(p[1]))
			return false;
		while (g_ascii_isdigit(*p) && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return false;
		addr = (addr << 8) | v;
		if (i < 3 && *p++ != '.')
			return false;
	}
	if (*p != '\0')
		return false;
	*out = addr;
	return true;
}

bool ip4_prefix_parse(const char *text, struct ip4_prefix *out, GError **err)
{
	char buf[32];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned len = 32;

	if (alen >= sizeof buf)
		goto bad;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (!ip4_parse(buf, &out->addr))
		goto bad;
	if (slash) {
		/* One or two digits, at most 32: no strtoul, whose overflow would wrap. */
		const char *d = slash + 1;
		if (!g_ascii_isdigit(d[0]) || (d[1] && (!g_ascii_isdigit(d[1]) || d[2])))
			goto bad;
		len = (unsigned)(d[0] - '0');
		if (d[1])
			len = len * 10 + (unsigned)(d[1] - '0');
		if (len > 32)
			goto bad;
	}
	out->len = (uint8_t)len;
	if (out->addr & ~ip4_prefix_mask(out->len)) {
		char a[16];
		g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE,
		            "'%s' has host bits set; did you mean %s/%u?", text,
		            ip4_to_str(out->addr & ip4_prefix_mask(out->len), a), len);
		return false;
	}
	return true;
bad:
	for (const char *o = text; *o && o < text + alen; o++)
		if (*o == '0' && g_ascii_isdigit(o[1]) && (o == text || o[-1] == '.')) {
			g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE, "'%s' has an octet with a leading zero, which "
			            "some tools read as octal (010 is 8 to inet_aton()): write it without", text);
			return false;
		}
	g_set_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE,
	            "'%s' is not an IPv4 address or prefix (like 10.0.0.0/24)", text);
	return false;
}

const char *ip4_prefix_to_str(const struct ip4_prefix *pfx, char buf[19])
{
	char a[16];
	snprintf(buf, 19, "%s/%u", ip4_to_str(pfx->addr, a), pfx->len);
	return buf;
}

const struct ip4_scope_info *ip4_scope_info(enum ip4_scope scope)
{
	static const struct ip4_scope_info infos[IP4_SCOPE_N] = {
#define X(name, w, r, e) [IP4_SCOPE_##name] = { w, r, e },
		foreach_ip4_scope
#undef X
	};
	return &infos[(unsigned)scope < IP4_SCOPE_N ? scope : IP4_SCOPE_GLOBAL];
}
