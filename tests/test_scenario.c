/* tests/test_scenario.c: scenario key files, their errors and hints, links and describe().
 *
 * Follows DESIGN.md "The scenario format": unknown groups and keys are errors with a hint of the
 * nearest valid name, and every error reads "SOURCE:LINE: [group] key: what is wrong" (the line
 * when a group or key is involved).  One row per scenario text (STYLE.md habit 10).
 */
#include "common/scenario.h"
#include "common/stage.h"
#include "tests/testutil.h"
#include "tools/stage_types.h"

#include <string.h>

#define SOURCE "lesson.ini"

/* The static-NAT lesson, line by line (the numbers are what the error rows expect). */
#define L_SCENARIO "[scenario]\n"                                                   /* 1 */ \
	"description = An office maps inside hosts onto public addresses\n"            /* 2 */ \
	"chain = lan > office > internet\n"                                               /* 3 */ \
	"capture = lan\n"                                                                 /* 4 */
#define L_LAN "[link lan]\n"                                                        /* 5 */ \
	"description = office LAN\n"                                                     /* 6 */ \
	"networks = 10.0.0.0/24, 10.0.1.0/24\n"                                           /* 7 */
#define L_INTERNET "[link internet]\n"                                              /* 8 */
#define L_OFFICE_HEAD "[stage office]\n"                                            /* 9 */ \
	"type = static-nat\n"                                                             /* 10 */
#define L_MAP "map = 10.0.0.5 203.0.113.5; 10.0.1.0/24 192.0.2.0/24\n"              /* 11 */
#define GOOD L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD L_MAP
/* The same, with the map line replaced. */
#define WITH_MAP(line) L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD line "\n"
#define WITH_NETWORKS(line) L_SCENARIO "[link lan]\n" line "\n" L_INTERNET L_OFFICE_HEAD L_MAP

/* A home router and an NLB, with one more line in their stage group (line 9 for napt, 10 for l4-lb). */
#define NAPT_WITH(line) "[scenario]\nchain = lan > home > internet\n[link lan]\nnetworks = 192.168.1.0/24\n" \
	"[link internet]\n[stage home]\ntype = napt\nexternal = 203.0.113.7\n" line "\n"
#define L4LB_WITH(line) "[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\n" \
	"networks = 10.0.1.0/24\n[stage nlb]\ntype = l4-lb\nlisten = 198.51.100.10:80\ntargets = 10.0.1.11\n" line "\n"
#define L7LB_WITH(line) "[scenario]\nchain = internet > alb > app\n[link internet]\n[link app]\n" \
	"networks = 10.0.1.0/24\n[stage alb]\ntype = l7-lb\nlisten = 203.0.113.10:80\naddress = 10.0.1.2\n" \
	"default = forward blue\ntarget-group.blue = 10.0.1.11:8080; 10.0.1.12:8080\n" line "\n"

struct scenario_case {
	const char *name;            /* test path under /scenario/load/ */
	const char *text;
	bool want_ok;
	int want_code;               /* SCENARIO_ERROR_* when !want_ok */
	const char *want_message;    /* the whole message, when given */
	const char *want_substr[3];  /* each must appear in the message */
};

static const struct scenario_case cases[] = {
	{ .name = "good-static-nat-lesson-loads", .text = GOOD, .want_ok = true },
	{ .name = "map-with-an-arrow-between-the-sides-loads",
	  .text = WITH_MAP("map = 10.0.0.5 -> 203.0.113.5; 10.0.1.0/24 -> 192.0.2.0/24"), .want_ok = true },
	{ .name = "chain-without-spaces-loads",
	  .text = "[scenario]\nchain=lan>office>internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP, .want_ok = true },
	{ .name = "comments-and-blank-lines-load",
	  .text = "# a lesson\n\n" GOOD "\n# the end\n", .want_ok = true },

	/* Keys and groups. */
	{ .name = "unknown-stage-key-hints-the-nearest",
	  .text = WITH_MAP("mapp = 10.0.0.5 203.0.113.5"), .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":11: [stage office] mapp: unknown key (did you mean 'map'?)" },
	{ .name = "unknown-scenario-key-hints-the-nearest",
	  .text = "[scenario]\nchain = lan > office > internet\ncaptur = lan\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":3: [scenario] captur: unknown key (did you mean 'capture'?)" },
	{ .name = "unknown-link-key-hints-the-nearest", .text = WITH_NETWORKS("network = 10.0.0.0/24"),
	  .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":6: [link lan] network: unknown key (did you mean 'networks'?)" },
	{ .name = "unknown-key-far-from-every-name-has-no-hint", .text = WITH_MAP("colour = blue"),
	  .want_code = SCENARIO_ERROR_KEY, .want_message = SOURCE ":11: [stage office] colour: unknown key" },
	{ .name = "key-error-names-the-line-in-its-own-group",
	  .text = L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD L_MAP "networks = 10.0.0.0/24\n",
	  .want_code = SCENARIO_ERROR_KEY, .want_substr = { SOURCE ":12: [stage office] networks: unknown key" } },
	{ .name = "unknown-group-hints-the-nearest", .text = GOOD "[lnk dmz]\nnetworks = 10.9.0.0/16\n",
	  .want_code = SCENARIO_ERROR_GROUP,
	  .want_substr = { SOURCE ":12: [lnk dmz] unknown group", "(did you mean 'link'?)" } },
	{ .name = "no-scenario-group", .text = L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_GROUP, .want_substr = { SOURCE ": no [scenario] group" } },
	{ .name = "not-a-key-file-is-a-syntax-error", .text = "this is not\na key file\n",
	  .want_code = SCENARIO_ERROR_SYNTAX, .want_substr = { SOURCE ": " } },

	/* The chain. */
	{ .name = "missing-chain", .text = "[scenario]\ncapture = lan\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_KEY, .want_substr = { SOURCE ":1: [scenario] missing key 'chain'" } },
	{ .name = "chain-naming-a-missing-link",
	  .text = L_SCENARIO L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_GROUP,
	  .want_message = SOURCE ":3: [scenario] chain: names link 'internet', but there is no [link internet] group" },
	{ .name = "chain-naming-a-missing-stage",
	  .text = L_SCENARIO L_LAN L_INTERNET, .want_code = SCENARIO_ERROR_GROUP,
	  .want_substr = { SOURCE ":3: [scenario] chain: names stage 'office', but there is no [stage office] group" } },
	{ .name = "chain-with-a-stage-where-a-link-belongs",
	  .text = "[scenario]\nchain = office > lan > internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: 'office' is a stage, but position 1 of the chain needs a link" } },
	{ .name = "chain-with-a-link-where-a-stage-belongs",
	  .text = "[scenario]\nchain = lan > internet > office\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "'internet' is a link, but position 2 of the chain needs a stage" } },
	{ .name = "chain-of-even-length",
	  .text = "[scenario]\nchain = lan > office\n" L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: a chain alternates links and stages" } },
	{ .name = "empty-chain", .text = "[scenario]\nchain =\n", .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "a chain alternates links and stages" } },
	{ .name = "chain-with-a-link-twice",
	  .text = "[scenario]\nchain = lan > office > lan\n" L_LAN L_OFFICE_HEAD L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":2: [scenario] chain: link 'lan' appears twice" } },
	{ .name = "chain-with-a-stage-twice",
	  .text = "[scenario]\nchain = lan > office > internet > office > dmz\n" L_LAN L_INTERNET "[link dmz]\n"
	          L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "stage 'office' appears twice" } },
	{ .name = "link-not-in-the-chain", .text = GOOD "[link dmz]\nnetworks = 10.9.0.0/16\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_message = SOURCE ":12: [link dmz] link 'dmz' is not in the chain" },
	{ .name = "stage-not-in-the-chain", .text = GOOD "[stage spare]\ntype = static-nat\nmap = 10.9.0.1 192.0.2.9\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_substr = { SOURCE ":12: [stage spare] stage 'spare' is not in the chain" } },
	{ .name = "capture-naming-a-missing-link-hints-the-nearest",
	  .text = "[scenario]\nchain = lan > office > internet\ncapture = lann\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":3: [scenario] capture: 'lann' is not a link of the chain (did you mean 'lan'?)" },

	/* Networks. */
	{ .name = "network-with-an-octet-above-255", .text = WITH_NETWORKS("networks = 10.0.0.300/24"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":6: [link lan] networks: '10.0.0.300/24' is not an IPv4 address or prefix" } },
	{ .name = "network-with-host-bits-set-suggests-the-network", .text = WITH_NETWORKS("networks = 10.0.0.1/24"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":6: [link lan] networks: '10.0.0.1/24' has host bits set; did you mean 10.0.0.0/24?" },
	{ .name = "network-with-prefix-length-33", .text = WITH_NETWORKS("networks = 10.0.0.0/33"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "'10.0.0.0/33' is not an IPv4 address or prefix" } },
	{ .name = "network-with-an-empty-prefix-length", .text = WITH_NETWORKS("networks = 10.0.0.0/"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "is not an IPv4 address or prefix" } },
	{ .name = "network-with-three-octets", .text = WITH_NETWORKS("networks = 10.0.0/24"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "is not an IPv4 address or prefix" } },
	{ .name = "network-with-a-prefix-length-that-wraps-32-bits",
	  .text = WITH_NETWORKS("networks = 10.0.0.0/4294967320"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "is not an IPv4 address or prefix" } },

	/* Stages. */
	{ .name = "unknown-stage-type-hints-the-nearest", .text = L_SCENARIO L_LAN L_INTERNET
	  "[stage office]\ntype = static-natt\n" L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":10: [stage office] type: unknown stage type 'static-natt' (did you mean 'static-nat'?)" },
	{ .name = "stage-type-prefix-hints-the-full-name", .text = L_SCENARIO L_LAN L_INTERNET
	  "[stage office]\ntype = static\n" L_MAP, .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { "unknown stage type 'static' (did you mean 'static-nat'?)" } },
	{ .name = "stage-without-a-type-lists-the-types", .text = L_SCENARIO L_LAN L_INTERNET "[stage office]\n" L_MAP,
	  .want_code = SCENARIO_ERROR_KEY, /* other stage types may join the list */
	  .want_substr = { SOURCE ":9: [stage office] missing key 'type' (one of: ", "static-nat" } },

	/* The static-nat map. */
	{ .name = "static-nat-map-with-different-prefix-lengths",
	  .text = WITH_MAP("map = 10.0.1.0/24 192.0.2.0/25"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '10.0.1.0/24 192.0.2.0/25': both sides need the same prefix length (/24 and /25)" } },
	{ .name = "static-nat-map-with-one-word", .text = WITH_MAP("map = 10.0.0.5"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '10.0.0.5' should be two addresses or prefixes" } },
	{ .name = "static-nat-map-with-three-words", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5 203.0.113.6"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "should be two addresses or prefixes" } },
	{ .name = "static-nat-map-with-a-bad-address", .text = WITH_MAP("map = 10.0.0.5 203.0.113.500"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '203.0.113.500' is not an IPv4 address or prefix" } },
	{ .name = "static-nat-map-with-host-bits-set", .text = WITH_MAP("map = 10.0.1.1/24 192.0.2.0/24"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "has host bits set; did you mean 10.0.1.0/24?" } },
	{ .name = "static-nat-map-repeating-a-prefix", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5; 10.0.0.5 203.0.113.6"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "rule 2 (10.0.0.5/32 203.0.113.6/32) and rule 1 (10.0.0.5/32 203.0.113.5/32) both map inside 10.0.0.5/32" } },
	{ .name = "static-nat-without-a-map", .text = L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD,
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { SOURCE ":9: [stage office] map: a static-nat stage needs at least one rule" } },
	{ .name = "static-nat-map-that-is-not-utf8-says-so", .text = WITH_MAP("map = 10.0.0.5 203.0.113.5\xff"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { SOURCE ":11: [stage office] map: ", "UTF-8" } },
	{ .name = "static-nat-with-an-empty-map", .text = WITH_MAP("map = ;"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "needs at least one rule" } },
	/* Issue 11 item 8: what GKeyFile or a parser would take silently. */
	{ .name = "a-utf8-byte-order-mark-is-skipped", .text = "\xef\xbb\xbf" GOOD, .want_ok = true },
	{ .name = "after-a-byte-order-mark-lines-still-count-from-one",
	  .text = "\xef\xbb\xbf" WITH_MAP("mapp = 10.0.0.5 203.0.113.5"), .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":11: [stage office] mapp: unknown key (did you mean 'map'?)" },
	{ .name = "an-octet-with-a-leading-zero-in-networks-is-refused", .text = WITH_NETWORKS("networks = 10.0.000.0/24"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":6: [link lan] networks: '10.0.000.0/24' has an octet with a leading zero" } },
	{ .name = "an-octet-with-a-leading-zero-in-a-map-is-refused",
	  .text = WITH_MAP("map = 10.0.0.5 203.000.113.007"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":11: [stage office] map: '203.000.113.007' has an octet with a leading zero" } },
	{ .name = "an-octet-with-a-leading-zero-in-a-napt-external-is-refused",
	  .text = "[scenario]\nchain = lan > home > internet\n[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	          "[stage home]\ntype = napt\nexternal = 203.000.113.007\n", .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":8: [stage home] external: '203.000.113.007' has an octet with a leading zero" } },
	{ .name = "a-zero-octet-alone-loads", .text = WITH_MAP("map = 10.0.0.5 203.0.113.0"), .want_ok = true },
	{ .name = "one-network-on-two-links-is-refused-naming-both",
	  .text = L_SCENARIO L_LAN "[link internet]\nnetworks = 10.0.1.0/24\n" L_OFFICE_HEAD L_MAP,
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":9: [link internet] networks: 10.0.1.0/24 is also a network of link lan (line 7): "
	                  "a network lives on one link" },
	{ .name = "a-network-inside-another-links-wider-one-loads",
	  .text = L_SCENARIO L_LAN "[link internet]\nnetworks = 10.0.0.0/16\n" L_OFFICE_HEAD L_MAP, .want_ok = true },
	{ .name = "an-echoed-value-over-80-characters-is-cut",
	  .text = WITH_MAP("map = 10.0.0.5 203.0.113.5" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":11: [stage office] map: '203.0.113.5xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not an IPv4 address or prefix "
	                  "(like 10.0.0.0/24)" },
	{ .name = "an-echoed-key-over-80-characters-is-cut",
	  .text = WITH_MAP("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk = 1"), .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":11: [stage office] kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...: unknown key" },
	{ .name = "a-syntax-error-echoes-the-line-cut", .text = "[scenario]\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n",
	  .want_code = SCENARIO_ERROR_SYNTAX, .want_substr = { "\u201cyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy...\u201d" } },
	{ .name = "maglev-table-size-not-above-the-targets-is-refused",
	  .text = "[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\nnetworks = 10.0.1.0/24\n"
	          "[stage nlb]\ntype = l4-lb\nlisten = 198.51.100.10:80\ntargets = 10.0.1.11; 10.0.1.12; 10.0.1.13\n"
	          "table-size = 2\n", .want_code = SCENARIO_ERROR_VALUE,
	  .want_substr = { SOURCE ":10: [stage nlb] table-size: 2 slots for 3 targets: Maglev needs more slots than targets" } },
	{ .name = "maglev-table-size-equal-to-the-targets-is-refused",
	  .text = "[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\nnetworks = 10.0.1.0/24\n"
	          "[stage nlb]\ntype = l4-lb\nlisten = 198.51.100.10:80\ntargets = 10.0.1.11; 10.0.1.12; 10.0.1.13\n"
	          "table-size = 3\n", .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "3 slots for 3 targets" } },
	{ .name = "modulo-selection-ignores-the-maglev-table-size",
	  .text = L4LB_WITH("selection = modulo\ntable-size = 2"), .want_ok = true },
};

/* Durations: the same forms for every stage type (issue 10, item 8). */
static const struct scenario_case duration_cases[] = {
	{ .name = "napt-timeout-in-seconds-with-a-unit-loads", .text = NAPT_WITH("timeout-udp = 30s"), .want_ok = true },
	{ .name = "napt-timeout-as-a-plain-number-loads", .text = NAPT_WITH("timeout-udp = 30"), .want_ok = true },
	{ .name = "napt-timeout-in-hours-loads", .text = NAPT_WITH("timeout-tcp-established = 2h"), .want_ok = true },
	{ .name = "napt-fragment-timeout-in-seconds-with-a-unit-loads", .text = NAPT_WITH("fragment-timeout = 30s"),
	  .want_ok = true },
	{ .name = "l4lb-idle-timeout-as-a-plain-number-loads", .text = L4LB_WITH("tcp-idle-timeout = 350"),
	  .want_ok = true },
	{ .name = "l4lb-idle-timeout-in-minutes-loads", .text = L4LB_WITH("udp-idle-timeout = 2m"), .want_ok = true },
	{ .name = "napt-negative-timeout-is-refused-and-says-why", .text = NAPT_WITH("timeout-udp = -5s"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":9: [stage home] timeout-udp: '-5s' is negative: a duration counts forward from 0" },
	{ .name = "l4lb-negative-timeout-is-refused-and-says-why", .text = L4LB_WITH("tcp-idle-timeout = -350s"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":10: [stage nlb] tcp-idle-timeout: '-350s' is negative: a duration counts forward from 0" },
	{ .name = "napt-garbage-timeout-is-refused-with-the-forms", .text = NAPT_WITH("timeout-udp = thirty"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":9: [stage home] timeout-udp: 'thirty' is not a duration "
	                  "(350, 350s, 1.5s, 500ms, 5m, 1h)" },
	{ .name = "l4lb-overflowing-timeout-is-refused", .text = L4LB_WITH("tcp-idle-timeout = 99999999999999999999h"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { ":10: [stage nlb] tcp-idle-timeout: ", "too long" } },
	{ .name = "napt-timeout-past-a-year-is-out-of-range", .text = NAPT_WITH("timeout-udp = 9000h"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":9: [stage home] timeout-udp: '9000h' is out of range (1s to 31536000s)" },
	{ .name = "napt-zero-timeout-is-out-of-range", .text = NAPT_WITH("timeout-udp = 0s"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { ":9: [stage home] timeout-udp: '0s' is out of range" } },
	{ .name = "napt-sub-second-timeout-is-refused", .text = NAPT_WITH("timeout-icmp = 1500ms"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":9: [stage home] timeout-icmp: '1500ms': napt counts timeouts in whole seconds" },
	/* The l7-lb events timeline reads its times with the same parser. */
	{ .name = "l7lb-event-in-milliseconds-loads", .text = L7LB_WITH("events = 250ms down 10.0.1.12:8080"),
	  .want_ok = true },
	{ .name = "l7lb-events-down-up-drain-in-order-load",
	  .text = L7LB_WITH("events = 1s down 10.0.1.12:8080; 2.5s up 10.0.1.12:8080; 3s drain 10.0.1.11:8080"),
	  .want_ok = true },
	{ .name = "l7lb-event-with-a-garbage-time-is-refused", .text = L7LB_WITH("events = soon down 10.0.1.12:8080"),
	  .want_code = SCENARIO_ERROR_VALUE,
	  .want_message = SOURCE ":12: [stage alb] events: 'soon down 10.0.1.12:8080': the time is a duration after "
	                  "the first packet (5s, 1.5s, 500ms)" },
	{ .name = "l7lb-event-of-an-unknown-kind-is-refused", .text = L7LB_WITH("events = 1s reboot 10.0.1.12:8080"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "the kind is down, up or drain" } },
	{ .name = "l7lb-event-for-a-target-no-group-has-is-refused", .text = L7LB_WITH("events = 1s down 10.0.1.99:8080"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "the target is not one of the target groups'" } },
	{ .name = "l7lb-event-without-the-port-is-refused", .text = L7LB_WITH("events = 1s down 10.0.1.12"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "write it as there: 10.0.1.12:8080" } },
	{ .name = "l7lb-events-out-of-order-are-refused",
	  .text = L7LB_WITH("events = 2s down 10.0.1.12:8080; 1s up 10.0.1.12:8080"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "events are listed in time order" } },
	{ .name = "l7lb-event-with-two-words-is-refused", .text = L7LB_WITH("events = 1s down"),
	  .want_code = SCENARIO_ERROR_VALUE, .want_substr = { "an event is TIME KIND TARGET" } },
};

struct duration_case {
	const char *name; /* test path under /scenario/duration/parse/ */
	const char *text;
	bool want_ok;
	int64_t want_ns;
	const char *want_why; /* a part of *why when !want_ok */
};

#define MS G_GINT64_CONSTANT(1000000)
#define S G_GINT64_CONSTANT(1000000000)
static const struct duration_case parse_cases[] = {
	{ .name = "a-plain-number-counts-seconds", .text = "350", .want_ok = true, .want_ns = 350 * S },
	{ .name = "seconds", .text = "350s", .want_ok = true, .want_ns = 350 * S },
	{ .name = "a-decimal-second-is-exact", .text = "1.5s", .want_ok = true, .want_ns = 1500 * MS },
	{ .name = "a-tenth-of-a-second-is-exact", .text = "0.1s", .want_ok = true, .want_ns = 100 * MS },
	{ .name = "milliseconds", .text = "500ms", .want_ok = true, .want_ns = 500 * MS },
	{ .name = "minutes", .text = "5m", .want_ok = true, .want_ns = 300 * S },
	{ .name = "minutes-spelt-min", .text = "2min", .want_ok = true, .want_ns = 120 * S },
	{ .name = "hours", .text = "1h", .want_ok = true, .want_ns = 3600 * S },
	{ .name = "zero", .text = "0", .want_ok = true, .want_ns = 0 },
	{ .name = "a-blank-before-the-unit", .text = "30 s", .want_ok = true, .want_ns = 30 * S },
	{ .name = "nanoseconds-past-nine-digits-are-dropped", .text = "0.0000000019s", .want_ok = true, .want_ns = 1 },
	{ .name = "the-longest-that-fits", .text = "9223372036s", .want_ok = true, .want_ns = 9223372036 * S },
	{ .name = "negative", .text = "-5s", .want_why = "negative" },
	{ .name = "negative-plain-number", .text = "-1", .want_why = "negative" },
	{ .name = "no-digits", .text = "s", .want_why = "is not a duration" },
	{ .name = "empty", .text = "", .want_why = "is not a duration" },
	{ .name = "a-dot-alone", .text = ".", .want_why = "is not a duration" },
	{ .name = "unknown-unit", .text = "5 minutes", .want_why = "is not a duration" },
	{ .name = "days-are-not-a-unit", .text = "1d", .want_why = "is not a duration" },
	{ .name = "garbage-after-the-unit", .text = "5sx", .want_why = "is not a duration" },
	{ .name = "a-hex-number", .text = "0x10", .want_why = "is not a duration" },
	{ .name = "seconds-overflow-nanoseconds", .text = "9223372037s", .want_why = "too long" },
	{ .name = "hours-overflow-nanoseconds", .text = "2562048h", .want_why = "too long" },
	{ .name = "digits-overflow-64-bits", .text = "99999999999999999999", .want_why = "too long" },
};

static void test_duration_parse(gconstpointer data)
{
	const struct duration_case *c = data;
	int64_t ns = -1;
	const char *why = NULL;
	gboolean ok = duration_parse(c->text, &ns, &why);

	if (c->want_ok) {
		if (!ok)
			g_error("'%s' did not parse: %s", c->text, why);
		g_assert_cmpint(ns, ==, c->want_ns);
	} else {
		if (ok)
			g_error("'%s' parsed as %" G_GINT64_FORMAT " ns, want an error", c->text, ns);
		g_assert_nonnull(strstr(why, c->want_why));
		g_assert_cmpint(ns, ==, -1); /* a failed parse leaves the output alone */
	}
}

static void test_duration_append(void)
{
	static const struct {
		int64_t ns;
		const char *want;
	} rows[] = { { 350 * S, "350s" }, { 1500 * MS, "1500ms" }, { 0, "0s" }, { 1, "0.000000001s" } };
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		GString *out = g_string_new(NULL);
		duration_append(out, rows[i].ns);
		g_assert_cmpstr(out->str, ==, rows[i].want);
		int64_t back = 0;
		const char *why = NULL;
		g_assert_true(duration_parse(out->str, &back, &why));
		g_assert_cmpint(back, ==, rows[i].ns);
		g_string_free(out, TRUE);
	}
}

static bool message_matches(const struct scenario_case *c, const GError *err, char **why)
{
	if (c->want_message && strcmp(err->message, c->want_message) != 0) {
		*why = g_strdup_printf("message \"%s\", want \"%s\"", err->message, c->want_message);
		return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(c->want_substr) && c->want_substr[i]; i++)
		if (!strstr(err->message, c->want_substr[i])) {
			*why = g_strdup_printf("message \"%s\" lacks \"%s\"", err->message, c->want_substr[i]);
			return false;
		}
	/* every error names its source first */
	if (!g_str_has_prefix(err->message, SOURCE ":")) {
		*why = g_strdup_printf("message \"%s\" does not start with \"" SOURCE ":\"", err->message);
		return false;
	}
	if (err->domain != SCENARIO_ERROR || err->code != c->want_code) {
		*why = g_strdup_printf("error code %d, want %d", err->code, c->want_code);
		return false;
	}
	return true;
}

static void test_load_case(gconstpointer data)
{
	const struct scenario_case *c = data;
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, c->text, &err);
	char *why = NULL;
	bool ok;

	if (c->want_ok) {
		ok = sc && !err;
		if (!ok)
			why = g_strdup_printf("did not load: %s", err ? err->message : "(no error set)");
	} else {
		ok = !sc && err;
		if (!ok)
			why = g_strdup(sc ? "loaded, want an error" : "failed without setting the GError");
		else
			ok = message_matches(c, err, &why);
	}
	if (!ok)
		g_error("%s", why);
	g_free(why);
	g_clear_error(&err);
	scenario_free(sc);
}

/* GLib's convention: a caller that does not want the message passes NULL, and the call still fails. */
static void test_load_case_without_gerror(gconstpointer data)
{
	const struct scenario_case *c = data;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, c->text, NULL);

	g_assert_null(sc);
	scenario_free(sc);
}

static struct scenario *load_ok(const char *text)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_data(natlb_stage_types(), SOURCE, text, &err);
	g_assert_no_error(err);
	g_assert_nonnull(sc);
	return sc;
}

static void test_shape_of_the_lesson(void)
{
	struct scenario *sc = load_ok(GOOD);

	g_assert_cmpstr(sc->source, ==, SOURCE);
	g_assert_cmpstr(sc->description, ==, "An office maps inside hosts onto public addresses");
	g_assert_cmpuint(sc->n_links, ==, 2);
	g_assert_cmpuint(sc->n_stages, ==, 1);
	g_assert_cmpstr(sc->links[0].name, ==, "lan");
	g_assert_cmpstr(sc->links[0].description, ==, "office LAN");
	g_assert_cmpuint(sc->links[0].n_networks, ==, 2);
	g_assert_cmphex(sc->links[0].networks[1].addr, ==, 0x0a000100u);
	g_assert_cmpuint(sc->links[0].networks[1].len, ==, 24);
	g_assert_cmpstr(sc->links[1].name, ==, "internet");
	g_assert_cmpuint(sc->links[1].index, ==, 1);
	g_assert_cmpstr(sc->stages[0]->name, ==, "office");
	g_assert_cmpstr(sc->stages[0]->ops->type, ==, "static-nat");
	g_assert_true(sc->stages[0]->left == &sc->links[0]);
	g_assert_true(sc->stages[0]->right == &sc->links[1]);
	g_assert_cmpuint(sc->capture, ==, 0);
	g_assert_cmpuint(sc->default_link, ==, 1);
	scenario_free(sc);
}

static void test_capture_defaults_to_the_first_link(void)
{
	struct scenario *sc = load_ok("[scenario]\nchain = lan > office > internet\n" L_LAN L_INTERNET L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->capture, ==, 0);
	scenario_free(sc);
	sc = load_ok("[scenario]\nchain = lan > office > internet\ncapture = internet\n" L_LAN L_INTERNET
	             L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->capture, ==, 1);
	scenario_free(sc);
}

/* lan 10/8 > office > internet (no networks) > edge > dmz 10.1/16 and 10.1.2/24 */
#define FIVE_LINKS                                                                              \
	"[scenario]\nchain = lan > office > internet > edge > dmz\n"                               \
	"[link lan]\nnetworks = 10.0.0.0/8\n[link internet]\n[link dmz]\nnetworks = 10.1.0.0/16; 10.1.2.0/24\n" \
	"[stage office]\ntype = static-nat\nmap = 10.0.0.5 203.0.113.5\n"                          \
	"[stage edge]\ntype = static-nat\nmap = 10.1.2.0/24 198.51.100.0/24\n"

struct link_of_case {
	const char *addr;
	unsigned want;
};

static void test_link_of_longest_match(void)
{
	static const struct link_of_case rows[] = {
		{ "10.5.5.5", 0 },      /* only lan's 10/8 holds it */
		{ "10.1.9.9", 2 },      /* dmz's /16 beats lan's /8 */
		{ "10.1.2.3", 2 },      /* dmz's /24 too */
		{ "8.8.8.8", 1 },       /* nobody's: the default link, the first without networks */
		{ "203.0.113.5", 1 },
		{ "0.0.0.0", 1 },
		{ "255.255.255.255", 1 },
	};
	struct scenario *sc = load_ok(FIVE_LINKS);
	g_assert_cmpuint(sc->n_links, ==, 3);
	g_assert_cmpuint(sc->default_link, ==, 1);
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint32_t a;
		g_assert_true(ip4_parse(rows[i].addr, &a));
		if (scenario_link_of(sc, a) != rows[i].want)
			g_error("%s: link %u, want %u", rows[i].addr, scenario_link_of(sc, a), rows[i].want);
	}
	scenario_free(sc);
}

static void test_link_of_default_when_every_link_has_networks(void)
{
	struct scenario *sc = load_ok(L_SCENARIO L_LAN "[link internet]\nnetworks = 0.0.0.0/0\n" L_OFFICE_HEAD L_MAP);
	g_assert_cmpuint(sc->default_link, ==, 1); /* the last link */
	uint32_t a;
	g_assert_true(ip4_parse("10.0.1.9", &a));
	g_assert_cmpuint(scenario_link_of(sc, a), ==, 0); /* /24 beats /0 */
	g_assert_true(ip4_parse("9.9.9.9", &a));
	g_assert_cmpuint(scenario_link_of(sc, a), ==, 1);
	scenario_free(sc);
}

static void test_describe(void)
{
	static const char *const want[] = {
		"[scenario]\n",
		"description = An office maps inside hosts onto public addresses\n",
		"chain = lan > office > internet\n",
		"capture = lan\n",
		"[link lan]\ndescription = office LAN\nnetworks = 10.0.0.0/24, 10.0.1.0/24\n",
		"[link internet]\n# no networks: addresses that no other link holds live here\n",
		"[stage office]\n",
		"type = static-nat\n",
		"map = 10.0.0.5/32 203.0.113.5/32; 10.0.1.0/24 192.0.2.0/24\n",
	};
	struct scenario *sc = load_ok(GOOD);
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
		if (!strstr(out->str, want[i]))
			g_error("describe lacks \"%s\":\n%s", want[i], out->str);
	g_assert_true(g_str_has_prefix(out->str, "# " SOURCE));
	g_string_free(out, TRUE);
	scenario_free(sc);
}

/* natlb check prints a scenario back: that text must load and describe the same scenario. */
static void test_describe_round_trips(void)
{
	static const char *const texts[] = { GOOD, FIVE_LINKS };
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		struct scenario *sc = load_ok(texts[i]);
		GString *once = g_string_new(NULL), *twice = g_string_new(NULL);
		scenario_describe(sc, once);
		struct scenario *again = load_ok(once->str);
		scenario_describe(again, twice);
		g_assert_cmpstr(twice->str, ==, once->str);
		g_string_free(once, TRUE);
		g_string_free(twice, TRUE);
		scenario_free(again);
		scenario_free(sc);
	}
}

/* A key file value may hold an escaped newline ("\\n"); describe() must write it back escaped. */
static void test_describe_escapes_values(void)
{
	struct scenario *sc = load_ok("[scenario]\ndescription = two\\nlines\nchain = lan > office > internet\n"
	                              L_LAN L_INTERNET L_OFFICE_HEAD L_MAP);
	g_assert_cmpstr(sc->description, ==, "two\nlines");
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	GError *err = NULL;
	struct scenario *again = scenario_load_data(natlb_stage_types(), SOURCE, out->str, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(again->description, ==, sc->description);
	g_clear_error(&err);
	scenario_free(again);
	g_string_free(out, TRUE);
	scenario_free(sc);
}

static void test_load_file(void)
{
	GError *err = NULL;
	struct scenario *sc = scenario_load_file(natlb_stage_types(), "scenarios/static-nat.ini", &err);
	g_assert_no_error(err);
	g_assert_nonnull(sc);
	g_assert_cmpstr(sc->source, ==, "scenarios/static-nat.ini");
	g_assert_cmpuint(sc->n_stages, ==, 1);
	scenario_free(sc);

	sc = scenario_load_file(natlb_stage_types(), "scenarios/no-such-lesson.ini", &err);
	g_assert_null(sc);
	g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_READ);
	g_assert_nonnull(strstr(err->message, "no-such-lesson.ini"));
	g_clear_error(&err);
}

struct nearest_case {
	const char *word;
	const char *want; /* NULL: no hint */
};

static void test_nearest_name(void)
{
	static const char *const keys[] = { "type", "description", "map" };
	static const struct nearest_case rows[] = {
		{ "mapp", "map" },
		{ "tpye", "type" },             /* a transposition is two edits */
		{ "desc", "description" },      /* a shared prefix of three or more */
		{ "descriptoin", "description" },
		{ "ma", "map" },
		{ "colour", NULL },
		{ "", NULL },
		{ "xyzzy-and-a-very-long-word-that-is-longer-than-sixty-four-characters-long", NULL },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
		g_assert_cmpstr(nearest_name(rows[i].word, keys, G_N_ELEMENTS(keys)), ==, rows[i].want);
}

struct prefix_case {
	const char *text;
	bool ok;
	uint32_t addr;
	uint8_t len;
};

static void test_prefix_parse(void)
{
	static const struct prefix_case rows[] = {
		{ "10.0.0.0/8", true, 0x0a000000u, 8 },
		{ "203.0.113.5", true, 0xcb007105u, 32 },
		{ "0.0.0.0/0", true, 0, 0 },
		{ "255.255.255.255/32", true, 0xffffffffu, 32 },
		{ "10.0.0.1/8", false, 0, 0 },
		{ "10.0.0.256", false, 0, 0 },
		{ "10.0.0.0/33", false, 0, 0 },
		{ "10.0.0.0/-1", false, 0, 0 },
		{ "10.0.0.0/8x", false, 0, 0 },
		{ "10.0.0.0/ 8", false, 0, 0 },
		{ "10.0.0", false, 0, 0 },
		{ "10.0.0.0.0", false, 0, 0 },
		{ "1000.0.0.0", false, 0, 0 },
		{ "a.b.c.d", false, 0, 0 },
		{ "", false, 0, 0 },
		{ "10.0.0.0/", false, 0, 0 },
		{ "010.0.0.0/8", false, 0, 0 },   /* a leading zero: octal to inet_aton() */
		{ "10.0.0.00", false, 0, 0 },
		{ "10.0.0.0", true, 0x0a000000u, 32 },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct ip4_prefix pfx = { 0, 0 };
		GError *err = NULL;
		bool ok = ip4_prefix_parse(rows[i].text, &pfx, &err);
		if (ok != rows[i].ok)
			g_error("'%s': parsed %s, want %s", rows[i].text, ok ? "ok" : "an error", rows[i].ok ? "ok" : "an error");
		if (ok) {
			g_assert_no_error(err);
			g_assert_cmphex(pfx.addr, ==, rows[i].addr);
			g_assert_cmpuint(pfx.len, ==, rows[i].len);
		} else {
			g_assert_error(err, SCENARIO_ERROR, SCENARIO_ERROR_VALUE);
			g_clear_error(&err);
		}
	}
	char buf[19];
	struct ip4_prefix widest = { 0xffffffffu, 32 };
	g_assert_cmpstr(ip4_prefix_to_str(&widest, buf), ==, "255.255.255.255/32");
}

/* Text a person wrote (scenario_load_bytes(), as files are read): what GKeyFile would merge or
 * cut silently is refused, naming both lines.  Inputs as exact-size arrays, NULs included. */
struct bytes_case {
	const char *name;
	const char *text;
	size_t len;                  /* 0: strlen(text) */
	int want_code;               /* 0: loads */
	const char *want_message;
};

#define DUP_LINK L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD L_MAP "[link lan]\nnetworks = 10.0.9.0/24\n" /* 12 */
#define DUP_KEY GOOD "map = 10.0.0.5 203.0.113.9\n"                                               /* 12 */
#define WITH_NUL L_SCENARIO L_LAN L_INTERNET L_OFFICE_HEAD "map = 10.0.0.5 203.0.113.5\0; 10.0.1.0/24 192.0.2.0/24\n"
static const struct bytes_case bytes_cases[] = {
	{ .name = "the-lesson-loads", .text = GOOD },
	{ .name = "a-byte-order-mark-is-skipped", .text = "\xef\xbb\xbf" GOOD },
	{ .name = "a-group-given-twice-is-refused-naming-both-lines", .text = DUP_LINK, .want_code = SCENARIO_ERROR_GROUP,
	  .want_message = SOURCE ":12: [link lan] appears twice (lines 5 and 12): the two would be merged, the later "
	                  "one's keys winning; keep one" },
	{ .name = "the-scenario-group-given-twice-is-refused", .text = GOOD "[scenario]\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_message = SOURCE ":12: [scenario] appears twice (lines 1 and 12): the "
	                                                     "two would be merged, the later one's keys winning; keep one" },
	{ .name = "a-stage-group-given-twice-is-refused", .text = GOOD "[stage office]\n",
	  .want_code = SCENARIO_ERROR_GROUP, .want_message = SOURCE ":12: [stage office] appears twice (lines 9 and 12): "
	                                                     "the two would be merged, the later one's keys winning; keep one" },
	{ .name = "a-key-given-twice-is-refused-naming-both-lines", .text = DUP_KEY, .want_code = SCENARIO_ERROR_KEY,
	  .want_message = SOURCE ":12: [stage office] map: given twice (lines 11 and 12): only the later would count; "
	                  "keep one" },
	{ .name = "one-key-in-three-groups-loads",
	  .text = L_SCENARIO L_LAN "[link internet]\ndescription = the internet\n" L_OFFICE_HEAD L_MAP },
	{ .name = "a-commented-out-duplicate-loads", .text = GOOD "# map = 10.0.0.5 203.0.113.9\n" },
	{ .name = "a-nul-byte-is-refused-with-its-line", .text = WITH_NUL, .len = sizeof WITH_NUL - 1,
	  .want_code = SCENARIO_ERROR_SYNTAX,
	  .want_message = SOURCE ":11: a NUL byte (byte 27 of the line): the scenario reader would end the line there "
	                  "and lose the rest; save it as plain text" },
};

static void test_load_bytes(gconstpointer data)
{
	const struct bytes_case *c = data;
	size_t len = c->len ? c->len : strlen(c->text);
	char *exact = g_memdup2(c->text, len); /* no NUL after it: ASan sees a read past the end */
	GError *err = NULL;
	struct scenario *sc = scenario_load_bytes(natlb_stage_types(), SOURCE, exact, len, &err);

	if (!c->want_code) {
		g_assert_no_error(err);
		g_assert_nonnull(sc);
	} else {
		g_assert_null(sc);
		g_assert_error(err, SCENARIO_ERROR, c->want_code);
		g_assert_cmpstr(err->message, ==, c->want_message);
	}
	g_clear_error(&err);
	scenario_free(sc);
	g_free(exact);
}

/* Text a program puts together keeps GKeyFile's merge: a test appends an override. */
static void test_load_data_merges_duplicates(void)
{
	struct scenario *sc = load_ok(DUP_KEY);
	GString *out = g_string_new(NULL);
	scenario_describe(sc, out);
	g_assert_nonnull(strstr(out->str, "map = 10.0.0.5/32 203.0.113.9/32\n"));
	g_string_free(out, TRUE);
	scenario_free(sc);
}

/* What loads but is probably a mistake: one warning, naming the line, or none. */
struct warning_case {
	const char *name;
	const char *text;
	const char *want;            /* the one warning; NULL: none */
};

#define L4LB3(extra) "[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\nnetworks = 10.0.1.0/24\n" \
	"[stage nlb]\ntype = l4-lb\nlisten = 198.51.100.10:80\ntargets = 10.0.1.11; 10.0.1.12; 10.0.1.13\n" extra
static const struct warning_case warning_cases[] = {
	{ .name = "the-lesson-has-none", .text = GOOD },
	{ .name = "an-outside-prefix-inside-the-inside-link-warns", .text = WITH_MAP("map = 10.0.1.0/24 10.0.0.0/24"),
	  .want = SOURCE ":9: [stage office] static-nat office answers on link internet for 256 addresses of "
	          "10.0.0.0/24, a network of link lan (the first: 10.0.0.0): packets for them go through office to "
	          "internet instead of to lan's hosts; give the stage addresses no link holds, or take them out of lan's "
	          "networks" },
	{ .name = "a-napt-external-address-inside-the-inside-link-warns",
	  .text = "[scenario]\nchain = lan > home > internet\n[link lan]\nnetworks = 192.168.1.0/24\n[link internet]\n"
	          "[stage home]\ntype = napt\nexternal = 192.168.1.1\n",
	  .want = SOURCE ":6: [stage home] napt home answers on link internet for 1 address of 192.168.1.0/24, a network "
	          "of link lan (the first: 192.168.1.1): packets for it go through home to internet instead of to lan's "
	          "hosts; give the stage addresses no link holds, or take them out of lan's networks" },
	{ .name = "a-vip-inside-the-targets-link-warns",
	  .text = "[scenario]\nchain = internet > nlb > vpc\n[link internet]\n[link vpc]\nnetworks = 10.0.1.0/24\n"
	          "[stage nlb]\ntype = l4-lb\nlisten = 10.0.1.10:80\ntargets = 10.0.1.11\n",
	  .want = SOURCE ":6: [stage nlb] l4-lb nlb answers on link internet for 1 address of 10.0.1.0/24, a network of "
	          "link vpc (the first: 10.0.1.10): packets for it go through nlb to internet instead of to vpc's hosts; "
	          "give the stage addresses no link holds, or take them out of vpc's networks" },
	{ .name = "maglev-under-100-slots-per-target-warns", .text = L4LB3("table-size = 257\n"),
	  .want = SOURCE ":10: [stage nlb] table-size: 257 slots for 3 targets: under the 100 per target the Maglev "
	          "paper advises, the targets' shares of flows differ by more than about 1%" },
	{ .name = "maglev-at-100-slots-per-target-is-quiet", .text = L4LB3("table-size = 307\n") },
};

static void test_warnings(gconstpointer data)
{
	const struct warning_case *c = data;
	struct scenario *sc = load_ok(c->text);
	const GPtrArray *w = scenario_warnings(sc);

	if (!c->want) {
		if (w->len)
			g_error("unexpected warning: %s", (const char *)g_ptr_array_index(w, 0));
	} else {
		g_assert_cmpuint(w->len, ==, 1);
		g_assert_cmpstr(g_ptr_array_index(w, 0), ==, c->want);
	}
	scenario_free(sc);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(bytes_cases); i++) {
		char *path = g_strdup_printf("/scenario/load-bytes/%s", bytes_cases[i].name);
		g_test_add_data_func(path, &bytes_cases[i], test_load_bytes);
		g_free(path);
	}
	g_test_add_func("/scenario/load-data/a-key-given-twice-keeps-the-later-as-gkeyfile-does",
	                test_load_data_merges_duplicates);
	for (size_t i = 0; i < G_N_ELEMENTS(warning_cases); i++) {
		char *path = g_strdup_printf("/scenario/warnings/%s", warning_cases[i].name);
		g_test_add_data_func(path, &warning_cases[i], test_warnings);
		g_free(path);
	}

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *path = g_strdup_printf("/scenario/load/%s", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_load_case);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		if (cases[i].want_ok)
			continue;
		char *path = g_strdup_printf("/scenario/load-without-gerror/%s/still-fails", cases[i].name);
		g_test_add_data_func(path, &cases[i], test_load_case_without_gerror);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(duration_cases); i++) {
		char *path = g_strdup_printf("/scenario/duration/%s", duration_cases[i].name);
		g_test_add_data_func(path, &duration_cases[i], test_load_case);
		g_free(path);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		char *path = g_strdup_printf("/scenario/duration/parse/%s", parse_cases[i].name);
		g_test_add_data_func(path, &parse_cases[i], test_duration_parse);
		g_free(path);
	}
	g_test_add_func("/scenario/duration/append-writes-what-parse-reads-back", test_duration_append);
	g_test_add_func("/scenario/lesson/links-stages-capture-and-default-link", test_shape_of_the_lesson);
	g_test_add_func("/scenario/capture/defaults-to-the-first-link", test_capture_defaults_to_the_first_link);
	g_test_add_func("/scenario/link-of/longest-prefix-wins-else-the-default-link", test_link_of_longest_match);
	g_test_add_func("/scenario/link-of/default-is-the-last-link-when-all-have-networks",
	                test_link_of_default_when_every_link_has_networks);
	g_test_add_func("/scenario/describe/shows-every-setting-with-prefix-lengths", test_describe);
	g_test_add_func("/scenario/describe/output-loads-and-describes-the-same", test_describe_round_trips);
	g_test_add_func("/scenario/describe/escapes-a-newline-in-a-value", test_describe_escapes_values);
	g_test_add_func("/scenario/load-file/reads-the-lesson-and-names-a-missing-file", test_load_file);
	g_test_add_func("/scenario/nearest-name/edit-distance-two-or-a-prefix", test_nearest_name);
	g_test_add_func("/scenario/prefix/parse-table", test_prefix_parse);
	return g_test_run();
}
