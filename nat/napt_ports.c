/* nat/napt_ports.c: external port allocation strategies for the napt stage (RFC 4787 section 4.2, RFC 7857 section 3, Linux nf_nat).
 *
 * A strategy proposes candidates until napt_port_free() accepts one: in range, of the inside
 * port's parity when `port-parity` is on (RFC 4787 REQ-4), and not taken.  "Taken" depends on port
 * overlapping: without it a port belongs to one mapping; with it (RFC 7857 section 3, Linux) only
 * the reply tuple (external endpoint, remote endpoint) must be unique, so one external port serves
 * several destinations.  `port-allocation` lists strategies tried in order ("preserve, sequential").
 *
 * Invariant: sequential and random give the first free port of the range from their start (in
 * the order they would try them one by one), so "no free external port" is exact; linux gives up
 * like nf_nat does, after its bounded search.
 *
 * Cost: without port overlapping, the ports mappings own on each (protocol, external address) are
 * a bitmap with a count per parity (struct napt_port_set, kept by napt_ports_hold/release as
 * mappings come and go).  Knowing that no port is left is then one subtraction, and finding the
 * next free one reads at most 1,024 words, where asking the mapping index port by port cost
 * 64,512 hash lookups for every packet that found the pool taken (6 ms a SYN in a flood).
 * With overlapping, "taken" belongs to the reply tuple (RFC 7857 section 3): a port is free
 * towards one remote endpoint and taken towards another.  The per-destination counters say at
 * once when every port is taken towards this one; finding a free one still asks the session
 * index, one candidate at a time (a bitmap per destination would cost 8 KB each).
 */
#include "common/hugemem.h"
#include "nat/napt.h"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

/* nf_nat_core.c: at most this many candidates per round; each further round halves it.  In the
 * last NF_NAT_HARDER_THRESH (a quarter) tries of a round, a new SYN may evict a closing entry. */
#define LINUX_MAX_ATTEMPTS 128
#define LINUX_MIN_ATTEMPTS 16
#define LINUX_HARDER_THRESH (LINUX_MAX_ATTEMPTS / 4)

uint64_t napt_random(struct napt *nat)
{
	/* splitmix64 (Steele, Lea, Flood 2014), as tools/gen_lessons.c uses: fixed, documented output. */
	uint64_t z = (nat->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- Port sets: who owns which external port, without overlapping ------------------------- */

static int proto_slot(uint8_t proto)
{
	switch (proto) {
	case PROTO_TCP:
		return 0;
	case PROTO_UDP:
		return 1;
	case PROTO_ICMP:
		return 2;
	default:
		return -1;
	}
}

static size_t port_sets_count(const struct napt *nat)
{
	return (size_t)NAPT_PORT_PROTOS * nat->cfg.n_external;
}

/* The set of (proto, eaddr), or NULL when there is none to keep. */
static struct napt_port_set *port_set(const struct napt *nat, uint8_t proto, uint32_t eaddr)
{
	int slot = proto_slot(proto);
	if (!nat->port_sets || slot < 0)
		return NULL;
	/* Binary search: the stage has up to 256 external addresses. */
	unsigned lo = 0, hi = nat->cfg.n_external;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (nat->ext_sorted[mid] < eaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == nat->cfg.n_external || nat->ext_sorted[lo] != eaddr)
		return NULL;
	return &nat->port_sets[(size_t)slot * nat->cfg.n_external + lo];
}

bool napt_ports_init(struct napt *nat)
{
	/* Touched only where mappings land: an address no mapping uses costs nothing. */
	nat->port_sets = huge_table_new_sparse(port_sets_count(nat), sizeof(struct napt_port_set));
	return nat->port_sets != NULL;
}

void napt_ports_free(struct napt *nat)
{
	huge_table_free(nat->port_sets, port_sets_count(nat), sizeof(struct napt_port_set));
	nat->port_sets = NULL;
}

static void port_set_mark(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port, bool owned)
{
	struct napt_port_set *set = port_set(nat, proto, eaddr);
	if (!set)
		return;
	uint64_t bit = 1ull << (port % 64);
	if (owned)
		set->owned[port / 64] |= bit;
	else
		set->owned[port / 64] &= ~bit;
	if (port >= nat->cfg.port_min && port <= nat->cfg.port_max) {
		if (owned)
			set->owned_in_range[port & 1]++;
		else
			set->owned_in_range[port & 1]--;
	}
}

void napt_ports_hold(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port)
{
	port_set_mark(nat, proto, eaddr, port, true);
}

void napt_ports_release(struct napt *nat, uint8_t proto, uint32_t eaddr, uint16_t port)
{
	port_set_mark(nat, proto, eaddr, port, false);
}

/* Ports of [0, n] of parity q: 0, 2, 4 ... or 1, 3, 5 ... */
static uint32_t parity_upto(uint32_t n, unsigned q)
{
	return n < q ? 0 : (n - q) / 2 + 1;
}

static uint32_t parity_between(uint32_t min, uint32_t max, unsigned q)
{
	return parity_upto(max, q) - (min ? parity_upto(min - 1, q) : 0);
}

/* Does parity (RFC 4787 REQ-4) constrain req?  It means something for ports; an ICMP identifier
 * has none to keep. */
static bool parity_applies(const struct napt *nat, uint8_t proto)
{
	return nat->cfg.port_parity && (proto == PROTO_TCP || proto == PROTO_UDP);
}

static uint32_t set_unowned(const struct napt *nat, const struct napt_port_set *set, bool parity, uint16_t parity_of)
{
	uint32_t min = nat->cfg.port_min, max = nat->cfg.port_max;
	if (parity) {
		unsigned q = parity_of & 1;
		return parity_between(min, max, q) - set->owned_in_range[q];
	}
	return (max - min + 1) - set->owned_in_range[0] - set->owned_in_range[1];
}

uint32_t napt_ports_unowned(const struct napt *nat, uint8_t proto, uint32_t eaddr, bool parity, uint16_t parity_of)
{
	const struct napt_port_set *set = port_set(nat, proto, eaddr);
	return set ? set_unowned(nat, set, parity, parity_of) : UINT32_MAX;
}

/* The first port of [lo, hi] that no mapping owns and that the mask allows (its bits repeat every
 * 64 ports), or -1: a word of 64 ports at a time. */
static int32_t set_first_unowned(const struct napt_port_set *set, uint32_t lo, uint32_t hi, uint64_t allowed,
                                 uint64_t *probes)
{
	for (uint32_t w = lo / 64; w <= hi / 64; w++) {
		uint64_t unowned = ~set->owned[w] & allowed;
		(*probes)++;
		if (w == lo / 64)
			unowned &= ~0ull << (lo % 64);
		if (w == hi / 64 && hi % 64 != 63)
			unowned &= (1ull << (hi % 64 + 1)) - 1;
		if (unowned)
			return (int32_t)(w * 64 + (uint32_t)__builtin_ctzll(unowned));
	}
	return -1;
}

bool napt_port_free(struct napt_port_req *r, uint16_t port)
{
	struct napt *nat = r->nat;

	r->tries++;
	nat->stats.port_probes++;
	if (port < r->min || port > r->max)
		return false;
	if (parity_applies(nat, r->proto) && (port & 1) != (r->iport & 1))
		return false;
	if (nat->cfg.port_overlapping)
		return napt_session_find_out(nat, r->proto, r->eaddr, port, r->raddr, r->rport) == NAPT_NONE;
	const struct napt_port_set *set = port_set(nat, r->proto, r->eaddr);
	if (set)
		return !(set->owned[port / 64] & (1ull << (port % 64)));
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

/* The first free port from start, wrapping, by the port set: none when its count says none is
 * left, else a word of 64 ports at a time.  The port it finds is the one the port-by-port scan
 * below would have found. */
static bool set_scan_from(struct napt_port_req *r, const struct napt_port_set *set, uint32_t start, uint16_t *port)
{
	struct napt *nat = r->nat;
	bool parity = parity_applies(nat, r->proto);
	if (r->min == nat->cfg.port_min && r->max == nat->cfg.port_max && set_unowned(nat, set, parity, r->iport) == 0)
		return false;
	/* Bit k of a word is port 64w + k, of parity k & 1: even ports are the bits 0x5..5. */
	uint64_t allowed = !parity ? ~0ull : (r->iport & 1) ? 0xaaaaaaaaaaaaaaaaull : 0x5555555555555555ull;
	int32_t found = set_first_unowned(set, start, r->max, allowed, &nat->stats.port_probes);
	if (found < 0 && start > r->min)
		found = set_first_unowned(set, r->min, start - 1, allowed, &nat->stats.port_probes);
	if (found < 0 || !napt_port_free(r, (uint16_t)found))
		return false;
	*port = (uint16_t)found;
	return true;
}

/* With port overlapping: is every port of the range (of the parity) taken towards req's remote
 * endpoint?  The destination counters know it at once; the search below would learn it port by
 * port. */
static bool overlapped_range_taken(const struct napt_port_req *r)
{
	const struct napt *nat = r->nat;
	if (!nat->cfg.port_overlapping || r->min != nat->cfg.port_min || r->max != nat->cfg.port_max)
		return false;
	bool parity = parity_applies(nat, r->proto);
	uint32_t held = napt_dest_ports_held(nat, r->proto, r->eaddr, r->raddr, r->rport, parity ? r->iport & 1 : -1);
	uint32_t ports = parity ? parity_between(r->min, r->max, r->iport & 1) : (uint32_t)r->max - r->min + 1;
	return held != UINT32_MAX && held >= ports;
}

/* Every port of the range once, from start, wrapping. */
static bool scan_from(struct napt_port_req *r, uint32_t start, uint16_t *port)
{
	const struct napt_port_set *set = port_set(r->nat, r->proto, r->eaddr);
	if (set)
		return set_scan_from(r, set, start, port);
	if (overlapped_range_taken(r))
		return false;
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

/* nf_nat_used_tuple_harder(): with port overlapping, may a new SYN take over port from the session
 * that holds its reply tuple?  Only in a round's last tries, only TCP, only a session of the NAT's
 * own translation (not a local entry: conntrack finds that one by its original tuple) that is
 * closing (TIME_WAIT or CLOSE: nf_nat_may_kill's state >= TIME_WAIT), and only when the new
 * sequence number is past the old connection's (nf_seq_has_advanced), so that the old peer's late
 * segments are out of the new connection's window. */
static bool linux_may_evict(struct napt_port_req *r, uint16_t port, uint32_t attempts_left)
{
	struct napt *nat = r->nat;
	if (attempts_left > LINUX_HARDER_THRESH || r->proto != PROTO_TCP || !r->syn || !nat->cfg.port_overlapping ||
	    port < r->min || port > r->max || (parity_applies(nat, r->proto) && (port & 1) != (r->iport & 1)))
		return false;
	uint32_t s = napt_session_find_out(nat, r->proto, r->eaddr, port, r->raddr, r->rport);
	if (s == NAPT_NONE)
		return false;
	const struct napt_session *x = &nat->sess[s];
	if ((x->flags & NAPT_SESS_LOCAL) || (x->state != NAPT_ST_TIME_WAIT && x->state != NAPT_ST_CLOSE) ||
	    (int32_t)(r->seq_end - x->seq_end) <= 0)
		return false;
	r->evict = s;
	return true;
}

/* linux: nf_nat_l4proto_unique_tuple().  Without an explicit range, the port keeps its class (below
 * 512: 1-511; below 1024: 600-1023; else 1024-65535; ICMP identifiers: any).  A random offset, 128
 * tries, then rounds of half as many from a new random offset, giving up below 16: a nearly full
 * range can fail although a port is free, as it does in the kernel.  A SYN may take the port of a
 * closing connection in each round's last 32 tries (linux_may_evict); the caller evicts it. */
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
			if (napt_port_free(r, c) || linux_may_evict(r, c, attempts - i)) {
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
	.summary = "nf_nat's search: random offset, 128 tries, then halving rounds; a SYN takes a closing "
	           "connection's port in a round's last 32 tries",
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
