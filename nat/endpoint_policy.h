/* nat/endpoint_policy.h: a gateway endpoint's IAM policy enforced on the S3 requests sent over HTTP through it (AWS PrivateLink Guide, "Control access to VPC endpoints using endpoint policies").
 *
 * The route-table stage (nat/route_table.c) holds one per endpoint that has `policy.NAME = ...`.
 * Requests are reassembled (common/tcp_stream.h) and framed (lb/http1.h) per connection; each
 * request head becomes its action and resource (nat/s3_request.h) and is evaluated
 * (nat/iam_policy.h) with aws:sourceVpce the endpoint and aws:VpcSourceIp the instance.  A denied
 * request goes no further: the endpoint answers it with S3's 403 AccessDenied, and the response
 * the capture holds for it is shown as not delivered (REVERSE_REPLACED); the server's later
 * segments are renumbered by the difference, and the client's acknowledgements with them.
 */
#ifndef NATLB_ENDPOINT_POLICY_H
#define NATLB_ENDPOINT_POLICY_H

#include <glib.h>

#include "common/stage-t.h"

struct endpoint_policy;
struct iam_policy;

/* Connections followed at once per endpoint: a new one past this takes the place of the one idle
 * longest (its remaining requests then pass unevaluated, said in their notes). */
#define ENDPOINT_POLICY_MAX_CONNS 256

/* Takes policy (freed with the endpoint).  vpce: the endpoint's name, aws:sourceVpce. */
struct endpoint_policy *endpoint_policy_new(const char *vpce, struct iam_policy *policy, const char *written,
                                            GError **err);
void endpoint_policy_free(struct endpoint_policy *ep);
const struct iam_policy *endpoint_policy_document(const struct endpoint_policy *ep);
const char *endpoint_policy_name(const struct endpoint_policy *ep); /* "vpce-s3" */
const char *endpoint_policy_written(const struct endpoint_policy *ep); /* the key's value, as the scenario has it */

/* A packet from the subnet through the endpoint (after the route note): evaluates the requests it
 * completes.  VERDICT_DROP (with ctx->drop) for a denied request's segment; else FORWARD. */
enum verdict endpoint_policy_out(struct endpoint_policy *ep, struct stage *st, struct packet *p, struct stage_ctx *ctx);

/* A captured packet from S3 through the endpoint, walked back: REVERSE_REPLACED for the
 * captured response to a denied request; else TRANSLATED, renumbered past the endpoint's answers. */
enum reverse_answer endpoint_policy_reverse(struct endpoint_policy *ep, struct packet *p, struct stage_ctx *ctx);

/* stage_ops.arriving for a client packet through the endpoint: its acknowledgements, from the
 * capture's numbers into those of what the client received. */
void endpoint_policy_arriving(const struct endpoint_policy *ep, struct packet *p, struct stage_ctx *ctx);

/* "allowed 1, denied 1, not S3 0" for --stats. */
void endpoint_policy_stats(const struct endpoint_policy *ep, GString *out);

#endif
