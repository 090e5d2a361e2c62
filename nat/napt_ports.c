/* nat/napt_ports.c: external port allocation strategies for the napt stage (RFC 4787 section 4.2, RFC 7857 section 3, Linux nf_nat).
 *
 * A strategy proposes candidates until napt_port_free() accepts one: in range, of the inside
 * port's parity when `port-parity` is on (RFC 4787 REQ-4), and not taken.  "Taken" depends on port
 * overlapping: without it a port belongs to one mapping; with it (RFC 7857 section 3, Linux) only
 * the reply tuple (external endpoint, remote endpoint) must be unique, so one external port serves
 * several destinations.  `port-allocation` lists strategies tried in order ("preserve, sequential").
 *
 * Invariant: sequential and random look at every port of the range before giving up, so "no
 * free external port" is exact; linux gives up like nf_nat does, after its bounded search.
 */
#include "nat/napt.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

/* nf_nat_core.c: at most this many candidates per round; each further round halves it. */
#define LINUX_MAX_ATTEMPTS 128
#define LINUX_MIN_ATTEMPTS 16

uint64_t napt_random(struct napt *nat)
{
	/* splitmix64 (Steele, Lea, Flood 2014), as tools/gen_lessons.c uses: fixed, documented output. */
	uint64_t z = (nat->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool napt_port_free(struct napt_port_req *r, uint16_t port)
{
	const struct napt *nat = r->nat;

	r->tries++;
	if (port < r->min || port > r->max)
		return false;
	/* Parity means something for ports; an ICMP identifier has none to keep. */
	if (nat->cfg.port_parity && (r->proto == PROTO_TCP || r->proto == PROTO_UDP) && (port & 1) != (r->iport & 1))
		return false;
	if (nat->cfg.port_overlapping)
		return napt_session_find_out(nat, r->proto, r->eaddr, port, r->raddr, r->rport) == NAPT_NONE;
	return napt_mapping_find_ext(nat, r->proto, r->eaddr, port) == NAPT_NONE;
}

/* preserve: the inside port itself (RFC 4787 section 4.2.1, "port preservation"). */
static bool pick_preserve(struct napt_port_req *r, uint16_t *port)
{
	if (!napt_port_free(r, r->iport))
		return false;
	*port = r->iport;
	return true;
}

/* Every port of the range once, from start, wrapping. */
static bool scan_from(struct napt_port_req *r, uint32_t start, uint16_t *port)
{
	uint32_t n = (uint32_t)r->max - r->min + 1;
	for (uint32_t k = 0; k < n; k++) {
		uint16_t c = (uint16_t)(r->min + (start - r->min + k) % n);
		if (napt_port_free(r, c)) {
			*port = c;
			return true;
		}
	}
	return false;
}

/* sequential: the port after the last one given (a counter, as many CPE routers do). */
static bool pick_sequential(struct napt_port_req *r, uint16_t *port)
{
	uint32_t start = r->nat->seq_cursor;
	if (start < r->min || start > r->max)
		start = r->min;
	if (!scan_from(r, start, port))
		return false;
	r->nat->seq_cursor = (uint16_t)(*port + 1u);
	return true;
}

/* random: a random start (RFC 6056's advice against guessable ports), then every port from there. */
static bool pick_random(struct napt_port_req *r, uint16_t *port)
{
	uint32_t n = (uint32_t)r->max - r->min + 1;
	return scan_from(r, r->min + (uint32_t)(napt_random(r->nat) % n), port);
}

/* linux: nf_nat_l4proto_unique_tuple().  Without an explicit range, the port keeps its class (below
 * 512: 1-511; below 1024: 600-1023; else 1024-65535; ICMP identifiers: any).  A random offset, 128
 * tries, then rounds of half as many from a new random offset, giving up below 16: a nearly full
 * range can fail although a port is free, as it does in the kernel. */
static bool pick_linux(struct napt_port_req *r, uint16_t *port)
{
	uint16_t min = r->min, max = r->max;
	bool ok = false;

	if (!r->nat->cfg.ports_set) {
		if (r->proto == PROTO_ICMP) {
			r->min = 0;
			r->max = 65535;
		} else if (r->iport < 512) {
			r->min = 1;
			r->max = 511;
		} else if (r->iport < 1024) {
			r->min = 600;
			r->max = 1023;
		} else {
			r->min = 1024;
			r->max = 65535;
		}
	}
	uint32_t range = (uint32_t)r->max - r->min + 1;
	uint32_t attempts = range < LINUX_MAX_ATTEMPTS ? range : LINUX_MAX_ATTEMPTS;
	uint32_t off = (uint32_t)(napt_random(r->nat) & 0xffff);
	for (;;) {
		for (uint32_t i = 0; i < attempts && !ok; i++, off++) {
			uint16_t c = (uint16_t)(r->min + off % range);
			if (napt_port_free(r, c)) {
				*port = c;
				ok = true;
			}
		}
		if (ok || attempts >= range || attempts < LINUX_MIN_ATTEMPTS)
			break;
		attempts /= 2;
		off = (uint32_t)(napt_random(r->nat) & 0xffff);
	}
	r->min = min;
	r->max = max;
	return ok;
}

static const struct napt_port_ops port_preserve = {
	.name = "preserve",
	.summary = "keep the inside port when it is free (RFC 4787 4.2.1), else the next strategy",
	.pick = pick_preserve,
};
static const struct napt_port_ops port_sequential = {
	.name = "sequential",
	.summary = "the next free port after the last one given",
	.pick = pick_sequential,
};
static const struct napt_port_ops port_random = {
	.name = "random",
	.summary = "a free port from a random start, seeded by --seed (RFC 6056)",
	.pick = pick_random,
};
static const struct napt_port_ops port_linux = {
	.name = "linux",
	.summary = "nf_nat's search: random offset, 128 tries, then halving rounds",
	.pick = pick_linux,
};

static const struct napt_port_ops *const port_ops_table[] = {
	&port_preserve,
	&port_sequential,
	&port_random,
	&port_linux,
};

const struct napt_port_ops *napt_port_ops_find(const char *name)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(port_ops_table); i++)
		if (g_str_equal(port_ops_table[i]->name, name))
			return port_ops_table[i];
	return NULL;
}

const struct napt_port_ops *const *napt_port_ops_all(unsigned *n)
{
	*n = G_N_ELEMENTS(port_ops_table);
	return port_ops_table;
}
