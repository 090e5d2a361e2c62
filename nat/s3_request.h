/* nat/s3_request.h: an S3 REST request (method, Host, path, query) turned into the IAM action and resource a policy is evaluated on.
 *
 * Amazon S3 User Guide, "Virtual hosting of buckets" (virtual-hosted style bucket.s3.amazonaws.com
 * and bucket.s3.REGION.amazonaws.com; path style s3.amazonaws.com/bucket/key; a Host that is no S3
 * endpoint names the bucket itself, as a CNAME does) and the Service Authorization Reference,
 * "Actions defined by Amazon S3" (GET and HEAD on an object: s3:GetObject on
 * arn:aws:s3:::bucket/key; GET and HEAD on a bucket: s3:ListBucket on arn:aws:s3:::bucket; PUT
 * s3:PutObject, DELETE s3:DeleteObject; a few subresources such as ?acl have their own actions).
 */
#ifndef NATLB_S3_REQUEST_H
#define NATLB_S3_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* Room for the longest resource ARN: "arn:aws:s3:::" + a 63-byte bucket + "/" + a 1024-byte key. */
#define S3_RESOURCE_MAX 1120

struct s3_request {
	const char *action;            /* "s3:GetObject": a static string */
	char resource[S3_RESOURCE_MAX]; /* "arn:aws:s3:::bucket/key", the key percent-decoded */
	unsigned resource_len;
	char bucket[64];
	bool path_style;               /* the bucket came from the path, not the Host */
};

/* The strings need not be NUL-terminated (they point into the HTTP parser's buffer); host may be
 * NULL (an HTTP/1.0 request without Host).  False with *why (a static sentence) when it is no S3
 * operation natlb knows: a method S3 does not serve, no bucket, a bucket name S3 refuses, a key
 * too long. */
bool s3_request_map(const char *method, size_t method_len, const char *host, size_t host_len, const char *path,
                    size_t path_len, const char *query, size_t query_len, struct s3_request *out, const char **why);

#endif
