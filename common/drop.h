/* common/drop.h: every reason a packet can be dropped, named once (VPP's foreach_*_error habit).
 *
 * One list gives the enum and the sentence; the counter in --stats and the annotation in the
 * output use the same sentence, so what a student reads in Wireshark matches the report.
 * Stages add their reasons here, prefixed with their module.
 */
#ifndef NATLB_DROP_H
#define NATLB_DROP_H

#define foreach_drop_reason                                                             \
	X(ROUTING_LOOP, "it would go back through the stage it came from (a hairpin the stage does not do, or a routing loop)") \
	X(UNSPECIFIED, "the stage did not say why (a bug in the stage)") \
	X(HOP_LIMIT, "it crossed more stages than the chain has (loop guard)")              \
	X(EMIT_OVERFLOW, "a stage emitted more packets at once than the pipeline holds") \
	X(L4LB_NO_LISTENER, "no listener on that address, port and protocol") \
	X(L4LB_NO_PORTS, "no ports to hash (a later IPv4 fragment, or a header cut short)") \
	X(L4LB_NO_TARGET, "no target can take a new flow (all deregistered)") \
	X(L4LB_TARGET_DOWN, "its flow's target is down or deregistered: the balancer answered with a TCP RST") \
	X(L4LB_NO_FLOW, "a reply that matches no flow of the balancer") \
	X(L4LB_FLOW_TABLE_FULL, "the balancer's flow table is full (max-flows)") \
	X(L4LB_TUPLE_IN_USE, "the target already has a connection from that client address and port (client IP preserved)") \
	X(L4LB_NO_SOURCE_PORT, "no free source port from the balancer's address to that target") \
	X(L4LB_PPV2_NO_ROOM, "no room for the proxy protocol header (the IPv4 packet would pass 65535 bytes)") \
	X(NAPT_NO_MAPPING, "no mapping for the destination (unsolicited inbound)") \
	X(NAPT_FILTERED_ADF, "address-dependent filtering: the sender's address was never contacted") \
	X(NAPT_FILTERED_APDF, "address-and-port-dependent filtering: the sender's address and port were never contacted") \
	X(NAPT_NO_PORT, "no free external port") \
	X(NAPT_PER_DESTINATION, "connections to this destination from each external address at their limit") \
	X(NAPT_TABLE_FULL, "the NAT table is full (max-mappings)") \
	X(NAPT_IDLE_TIMEOUT, "the connection timed out while idle; answered with a TCP RST") \
	X(NAPT_NOT_EXTERNAL, "addressed from outside to an address that is not the NAT's") \
	X(NAPT_HAIRPIN_OFF, "addressed from inside to the NAT's own external address, and hairpinning is off") \
	X(NAPT_ICMP_NO_MAPPING, "ICMP error about a flow that has no mapping (RFC 5508 REQ-4, REQ-5)") \
	X(NAPT_ICMP_BAD_CHECKSUM, "ICMP error with a bad checksum (RFC 5508 REQ-3)") \
	X(NAPT_ICMP_UNTRANSLATABLE, "ICMP error whose quoted packet is too short to find its flow") \
	X(NAPT_ICMP_UNKNOWN, "ICMP message that is neither a query nor an error: no identifier to map") \
	X(NAPT_NO_PORTS, "the ports were not captured, so no mapping can be found") \
	X(NAPT_PROTOCOL, "protocol not translated (only TCP, UDP and ICMP)") \
	X(NAPT_FRAGMENT, "fragment of a protocol whose fragments this NAT drops") \
	X(NAPT_FRAGMENT_NO_FIRST, "later fragment whose first fragment did not come in time") \
	X(ROUTE_BLACKHOLE, "the route table sends its destination to a blackhole route") \
	X(ROUTE_NO_ROUTE, "no route of the route table matches its destination") \
	X(ROUTE_LOCAL_NO_HOST, "the local route covers its destination, but no link of the VPC holds that address")

enum drop_reason {
#define X(name, text) DROP_##name,
	foreach_drop_reason
#undef X
	DROP_N
};

/* The sentence for a reason, e.g. for "napt home: DROP ... (no free external port)". */
const char *drop_reason_text(enum drop_reason r);
/* Its short name ("ROUTING_LOOP"), for --stats and JSON. */
const char *drop_reason_name(enum drop_reason r);

#endif
