/* tools/gen_lessons_vpc.c: the capture of the lesson "NAT gateway vs S3 gateway endpoint" (natlb gen natgw-vs-s3-endpoint).
 *
 * Follows: the Amazon VPC User Guide ("Configure route tables", "NAT gateways") and the AWS
 * PrivateLink Guide ("Gateway endpoints for Amazon S3") for the setting; RFC 1035 (DNS), RFC 9293
 * (TCP), RFC 9112 (HTTP/1.1) and RFC 792 (ICMP echo) for the conversations.
 *
 * Captured on the private subnet (scenario scenarios/natgw-vs-s3-endpoint.ini: chain
 * app > vpc-rt > vpc > natgw > internet, capture app): an instance 10.0.1.10 in 10.0.1.0/24
 * whose route table sends the VPC (10.0.0.0/16) local, the S3 prefix list to the gateway
 * endpoint vpce-s3, 192.0.2.0/24 to a blackhole and everything else to the NAT gateway, whose
 * Elastic IP is 203.0.113.25.  Every packet is as the instance sees it: replies already carry
 * its private address.
 *
 * Invariant: the output depends on nothing but this file (gen.c's capture clock, fixed ISNs).
 */

/* libnet-config --defines passes -D_BSD_SOURCE; see gen.c. */
#define _DEFAULT_SOURCE 1

#include "tools/gen.h"

#include <libnet.h>
#include <string.h>

/* The subnet's router (the VPC router answers at 10.0.1.1): the next hop for everything off the subnet. */
static const guint8 vpc_router_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x01 };

static struct gen_end instance(guint16 port)
{
	static const guint8 instance_mac[6] = { 0x02, 0x00, 0x0a, 0x00, 0x01, 0x0a };
	return gen_end_at("10.0.1.10", port, instance_mac, 64);
}

/* Anything off the subnet: its frames come from the VPC router. */
static struct gen_end far_end(const char *ip, guint16 port, guint8 ttl)
{
	return gen_end_at(ip, port, vpc_router_mac, ttl);
}

/* A whole HTTP/1.1 exchange: handshake, one request, one response, FIN from the client first. */
static void http_exchange(struct gen_ctx *g, const struct gen_end *client, const struct gen_end *server,
                          guint32 client_isn, guint32 server_isn, const char *request, const char *response)
{
	struct gen_tcp t;

	gen_tcp_init(&t, client, server, client_isn, server_isn);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_SYN, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_SYN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_PUSH | TH_ACK, request, strlen(request));
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_PUSH | TH_ACK, response, strlen(response));
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_SERVER, TH_FIN | TH_ACK, NULL, 0);
	gen_tcp_send(g, &t, GEN_FROM_CLIENT, TH_ACK, NULL, 0);
}

/* 1. The instance looks up its bucket at the VPC resolver (10.0.0.2, the VPC's base + 2).
 * Teaches: the local route keeps it in the VPC; and a gateway endpoint changes routing, not DNS:
 * the bucket's name resolves to the same public S3 address with or without the endpoint. */
static void lesson_dns(struct gen_ctx *g)
{
	/* RFC 1035 4.1.2: natlb-lesson.s3.us-east-1.amazonaws.com, type A, class IN. */
	static const guint8 question[] = { 12, 'n', 'a', 't', 'l', 'b', '-', 'l', 'e', 's', 's', 'o', 'n',
		                           2, 's', '3', 9, 'u', 's', '-', 'e', 'a', 's', 't', '-', '1',
		                           9, 'a', 'm', 'a', 'z', 'o', 'n', 'a', 'w', 's', 3, 'c', 'o', 'm', 0,
		                           0x00, 0x01, 0x00, 0x01 };
	/* A pointer to the question's name, type A, class IN, TTL 5, RDLENGTH 4, 52.216.20.181. */
	static const guint8 answer_rr[] = { 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,
		                            0x00, 0x04, 52, 216, 20, 181 };
	struct gen_end client = instance(41000), resolver = far_end("10.0.0.2", 53, 64);

	gen_clock_set(g, 0);
	gen_dns_exchange(g, &client, &resolver, 0x5e01, question, sizeof question, answer_rr, sizeof answer_rr, 0x1a01,
	                 0x7b01);
}

/* 2. GET an object from the bucket over HTTP.  Teaches: 52.216.20.181 is in the S3 prefix list,
 * a more specific route than 0.0.0.0/0, so the request takes the gateway endpoint: it is not
 * translated, S3 sees the private source 10.0.1.10 (what aws:VpcSourceIp matches in a bucket
 * policy), the NAT gateway never sees it (no data-processing charge), and the reply comes back
 * the same way. */
static void lesson_s3(struct gen_ctx *g)
{
	static const char request[] = "GET /hello.txt HTTP/1.1\r\n"
	                              "Host: natlb-lesson.s3.us-east-1.amazonaws.com\r\n"
	                              "User-Agent: natlb-lesson\r\n\r\n";
	static const char response[] = "HTTP/1.1 200 OK\r\n"
	                               "x-amz-request-id: NATLB0000000001\r\n"
	                               "Date: Thu, 01 Jan 2026 00:00:01 GMT\r\n"
	                               "Content-Type: text/plain\r\n"
	                               "Content-Length: 28\r\n"
	                               "Server: AmazonS3\r\n\r\n"
	                               "hello from the natlb lesson\n";
	struct gen_end client = instance(41001), s3 = far_end("52.216.20.181", 80, 60);

	gen_clock_set(g, 1 * GEN_NSEC_PER_SEC);
	http_exchange(g, &client, &s3, 0x3c0ffee1, 0x5a3b0001, request, response);
}

/* 3. Ask a what-is-my-address service (198.51.100.80, a documentation address standing in for
 * checkip.amazonaws.com).  Teaches: anything not in the prefix list takes 0.0.0.0/0 to the NAT
 * gateway, which translates the source to its Elastic IP; the service's answer, in the body,
 * is the address the internet saw: 203.0.113.25, not 10.0.1.10. */
static void lesson_checkip(struct gen_ctx *g)
{
	static const char request[] = "GET / HTTP/1.1\r\nHost: checkip.example\r\nUser-Agent: natlb-lesson\r\n\r\n";
	static const char response[] = "HTTP/1.1 200 OK\r\n"
	                               "Date: Thu, 01 Jan 2026 00:00:02 GMT\r\n"
	                               "Content-Type: text/plain\r\n"
	                               "Content-Length: 13\r\n\r\n"
	                               "203.0.113.25\n";
	struct gen_end client = instance(41002), checkip = far_end("198.51.100.80", 80, 52);

	gen_clock_set(g, 2 * GEN_NSEC_PER_SEC);
	http_exchange(g, &client, &checkip, 0x3c0ffee2, 0x7d1e0001, request, response);
}

/* 4. A ping to 192.0.2.10, behind a route whose target is gone (AWS shows such a route as a
 * blackhole, e.g. after its NAT gateway or VPN gateway was deleted).  Teaches: the most specific
 * route wins even when it leads nowhere: the packet is dropped in the VPC, with a reason, and
 * never reaches the NAT gateway that 0.0.0.0/0 points to. */
static void lesson_blackhole(struct gen_ctx *g)
{
	struct gen_end host = instance(0), target = far_end("192.0.2.10", 0, 64);
	guint8 data[56];

	gen_clock_set(g, 3 * GEN_NSEC_PER_SEC);
	for (gsize i = 0; i < sizeof data; i++)
		data[i] = (guint8)i;
	gen_icmp_echo(g, &host, &target, ICMP_ECHO, 0x0b0b, 1, data, sizeof data, 0x2c01);
	gen_emit(g);
}

gboolean gen_natgw_vs_s3_endpoint(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);

	if (!g)
		return FALSE;
	lesson_dns(g);
	lesson_s3(g);
	lesson_checkip(g);
	lesson_blackhole(g);
	return gen_ctx_finish(g, err);
}

/* ---- natlb gen s3-endpoint-policy ----------------------------------------------------------------
 *
 * The lesson "an endpoint policy that names the bucket but not its objects" (scenario
 * scenarios/s3-endpoint-policy.ini, the same VPC as above): the instance lists lesson-bucket,
 * then downloads report.csv from it, over HTTP through the gateway endpoint.  S3's answers are
 * as the Amazon S3 API Reference shows them: ListObjectsV2 ("ListBucketResult") and GetObject.
 * Teaches: ListBucket acts on arn:aws:s3:::lesson-bucket, GetObject on
 * arn:aws:s3:::lesson-bucket/report.csv; a policy whose Resource is the bucket's ARN alone
 * allows the first and denies the second. */

static const char s3_lesson_host[] = "lesson-bucket.s3.us-east-1.amazonaws.com";
static const char s3_lesson_object[] = "region,quarter,revenue\neu-west-1,Q4,1200\nus-east-1,Q4,3400\n";

static void policy_lesson_list(struct gen_ctx *g)
{
	char *request = g_strdup_printf("GET /?list-type=2 HTTP/1.1\r\nHost: %s\r\nUser-Agent: natlb-lesson\r\n\r\n",
	                                s3_lesson_host);
	char *body = g_strdup_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                             "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	                             "<Name>lesson-bucket</Name><Prefix></Prefix><KeyCount>1</KeyCount>"
	                             "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents>"
	                             "<Key>report.csv</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
	                             "<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag><Size>%zu</Size>"
	                             "<StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
	                             strlen(s3_lesson_object));
	char *response = g_strdup_printf("HTTP/1.1 200 OK\r\nx-amz-id-2: bmF0bGItbGVzc29uLWxpc3Q=\r\n"
	                                 "x-amz-request-id: NATLB0000000101\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
	                                 "x-amz-bucket-region: us-east-1\r\nContent-Type: application/xml\r\n"
	                                 "Content-Length: %zu\r\nServer: AmazonS3\r\n\r\n%s", strlen(body), body);
	struct gen_end client = instance(41100), s3 = far_end("52.216.20.181", 80, 60);

	gen_clock_set(g, 0);
	http_exchange(g, &client, &s3, 0x3c0ff101, 0x5a3b0101, request, response);
	g_free(response);
	g_free(body);
	g_free(request);
}

static void policy_lesson_get(struct gen_ctx *g)
{
	char *request = g_strdup_printf("GET /report.csv HTTP/1.1\r\nHost: %s\r\nUser-Agent: natlb-lesson\r\n\r\n",
	                                s3_lesson_host);
	char *response = g_strdup_printf("HTTP/1.1 200 OK\r\nx-amz-id-2: bmF0bGItbGVzc29uLWdldA==\r\n"
	                                 "x-amz-request-id: NATLB0000000102\r\nDate: Thu, 01 Jan 2026 00:00:01 GMT\r\n"
	                                 "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
	                                 "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\nAccept-Ranges: bytes\r\n"
	                                 "Content-Type: text/csv\r\nContent-Length: %zu\r\nServer: AmazonS3\r\n\r\n%s",
	                                 strlen(s3_lesson_object), s3_lesson_object);
	struct gen_end client = instance(41101), s3 = far_end("52.216.20.181", 80, 60);

	gen_clock_set(g, 1 * GEN_NSEC_PER_SEC);
	http_exchange(g, &client, &s3, 0x3c0ff102, 0x5a3b0102, request, response);
	g_free(response);
	g_free(request);
}

gboolean gen_s3_endpoint_policy(const char *path, const struct gen_options *opt G_GNUC_UNUSED, GError **err)
{
	struct gen_ctx *g = gen_ctx_open(path, err);

	if (!g)
		return FALSE;
	policy_lesson_list(g);
	policy_lesson_get(g);
	return gen_ctx_finish(g, err);
}
