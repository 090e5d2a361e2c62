/* nat/s3_request.c: an S3 REST request into its IAM action and resource (see nat/s3_request.h for the documents followed).
 *
 * Invariants: reads exactly the lengths given (the HTTP parser's strings are not terminated);
 * writes a terminated resource that fits out->resource or refuses the request.
 */
#include <glib.h>
#include <string.h>

#include "common/addr.h"
#include "nat/s3_request.h"

enum s3_level { S3_SERVICE, S3_BUCKET, S3_OBJECT };
enum s3_method { S3_GET, S3_HEAD, S3_PUT, S3_DELETE, S3_POST, S3_METHOD_N };

/* The action of each method at each level, without a subresource; NULL: S3 serves no such call
 * (or natlb does not map it: a POST's keys are in its body). */
static const char *const plain_action[3][S3_METHOD_N] = {
	[S3_SERVICE] = { "s3:ListAllMyBuckets", NULL, NULL, NULL, NULL },
	[S3_BUCKET] = { "s3:ListBucket", "s3:ListBucket", "s3:CreateBucket", "s3:DeleteBucket", NULL },
	[S3_OBJECT] = { "s3:GetObject", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObject" },
};

/* A query parameter that changes the action: per method, at the bucket and at the object level. */
struct s3_subresource {
	const char *name;
	const char *bucket[S3_METHOD_N];
	const char *object[S3_METHOD_N];
};

static const struct s3_subresource subresources[] = {
	{ "acl", { "s3:GetBucketAcl", "s3:GetBucketAcl", "s3:PutBucketAcl", NULL, NULL },
	  { "s3:GetObjectAcl", "s3:GetObjectAcl", "s3:PutObjectAcl", NULL, NULL } },
	{ "policy", { "s3:GetBucketPolicy", NULL, "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", NULL }, { NULL } },
	{ "location", { "s3:GetBucketLocation", NULL, NULL, NULL, NULL }, { NULL } },
	{ "versions", { "s3:ListBucketVersions", "s3:ListBucketVersions", NULL, NULL, NULL }, { NULL } },
	{ "versionId", { NULL }, { "s3:GetObjectVersion", "s3:GetObjectVersion", NULL, "s3:DeleteObjectVersion", NULL } },
};

static int method_of(const char *m, size_t n)
{
	static const char *const names[S3_METHOD_N] = { "GET", "HEAD", "PUT", "DELETE", "POST" };
	for (int i = 0; i < S3_METHOD_N; i++)
		if (strlen(names[i]) == n && memcmp(names[i], m, n) == 0)
			return i;
	return -1;
}

/* The first parameter of the query that is a subresource, or NULL. */
static const struct s3_subresource *subresource_of(const char *q, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t start = i;
		while (i < n && q[i] != '&' && q[i] != '=')
			i++;
		for (unsigned s = 0; s < G_N_ELEMENTS(subresources); s++)
			if (strlen(subresources[s].name) == i - start && memcmp(subresources[s].name, q + start, i - start) == 0)
				return &subresources[s];
		while (i < n && q[i] != '&')
			i++;
		i++;
	}
	return NULL;
}

/* "Bucket naming rules": 3 to 63 of lower-case letters, digits, dots and hyphens. */
static bool bucket_name_ok(const char *b, size_t n)
{
	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_islower(b[i]) && !g_ascii_isdigit(b[i]) && b[i] != '.' && b[i] != '-')
			return false;
	return true;
}

/* A region label: "us-east-1" (letters, digits, hyphens). */
static bool region_ok(const char *r, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(r[i]) && r[i] != '-')
			return false;
	return true;
}

/* Is what is left of the host before ".amazonaws.com" an S3 endpoint: "s3", "s3.REGION", "s3-REGION"? */
static bool s3_endpoint(const char *h, size_t n)
{
	if (n == 2 && memcmp(h, "s3", 2) == 0)
		return true;
	return n > 3 && memcmp(h, "s3", 2) == 0 && (h[2] == '.' || h[2] == '-') && region_ok(h + 3, n - 3);
}

/* The bucket the Host names: *bucket_len 0 when it names none (path style). */
static bool bucket_from_host(const char *h, size_t n, size_t *bucket_len, const char **why)
{
	static const char suffix[] = ".amazonaws.com";
	const size_t sl = sizeof suffix - 1;
	uint32_t addr;
	char literal[16];

	*bucket_len = 0;
	if (n == 0)
		return true;
	if (n < sizeof literal) {
		memcpy(literal, h, n);
		literal[n] = '\0';
		if (ip4_parse(literal, &addr))
			return true; /* an address: the bucket is in the path */
	}
	if (n <= sl || memcmp(h + n - sl, suffix, sl) != 0) {
		*bucket_len = n; /* a CNAME: the whole host is the bucket's name */
		return true;
	}
	size_t r = n - sl;
	if (s3_endpoint(h, r))
		return true;
	/* bucket.s3[.-]REGION or bucket.s3: the last ".s3" followed by an endpoint's rest */
	for (size_t i = r; i-- > 0;)
		if (h[i] == '.' && s3_endpoint(h + i + 1, r - i - 1)) {
			*bucket_len = i;
			return true;
		}
	*why = "the Host is an amazonaws.com name but not an S3 endpoint";
	return false;
}

static int hex_value(char c)
{
	if (g_ascii_isdigit(c))
		return c - '0';
	c = g_ascii_tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append the key, percent-decoded (S3 names the object by its decoded key); false when too long. */
static bool append_key(struct s3_request *out, const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = k[i];
		if (c == '%' && i + 2 < n && hex_value(k[i + 1]) >= 0 && hex_value(k[i + 2]) >= 0) {
			c = (char)(hex_value(k[i + 1]) << 4 | hex_value(k[i + 2]));
			i += 2;
		}
		if (out->resource_len + 1 >= sizeof out->resource)
			return false;
		out->resource[out->resource_len++] = c;
	}
	out->resource[out->resource_len] = '\0';
	return true;
}

bool s3_request_map(const char *method, size_t method_len, const char *host, size_t host_len, const char *path,
                    size_t path_len, const char *query, size_t query_len, struct s3_request *out, const char **why)
{
	char h[256];
	size_t bucket_len;
	int m = method_of(method, method_len);

	out->action = NULL;
	out->resource[0] = out->bucket[0] = '\0';
	out->resource_len = 0;
	out->path_style = false;
	if (m < 0) {
		*why = "S3's REST API has no such method";
		return false;
	}
	if (!host)
		host_len = 0;
	if (host_len >= sizeof h) {
		*why = "the Host is longer than a DNS name";
		return false;
	}
	for (size_t i = 0; i < host_len; i++)
		h[i] = g_ascii_tolower(host[i]);
	if (!bucket_from_host(h, host_len, &bucket_len, why))
		return false;
	const char *b = h, *key = NULL;
	size_t key_len = 0;
	if (!path || path_len == 0 || path[0] != '/') {
		path = "/";
		path_len = 1;
	}
	if (bucket_len == 0) {
		/* path style: /bucket/key */
		const char *seg = path + 1, *end = path + path_len;
		const char *slash = memchr(seg, '/', (size_t)(end - seg));
		out->path_style = true;
		b = seg;
		bucket_len = (size_t)((slash ? slash : end) - seg);
		if (slash) {
			key = slash + 1;
			key_len = (size_t)(end - key);
		}
	} else if (path_len > 1) {
		key = path + 1;
		key_len = path_len - 1;
	}
	enum s3_level level = bucket_len == 0 ? S3_SERVICE : key_len == 0 ? S3_BUCKET : S3_OBJECT;
	if (level != S3_SERVICE && !bucket_name_ok(b, bucket_len)) {
		*why = "the bucket is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots, hyphens)";
		return false;
	}
	const struct s3_subresource *sub = level == S3_SERVICE ? NULL : subresource_of(query ? query : "", query ? query_len : 0);
	const char *action = plain_action[level][m];
	if (sub) {
		const char *a = level == S3_BUCKET ? sub->bucket[m] : sub->object[m];
		if (a)
			action = a;
	}
	if (!action) {
		*why = level == S3_SERVICE ? "only GET is served on S3's service endpoint (ListAllMyBuckets)"
		                           : "not an S3 call natlb maps to an action (a POST names its keys in its body)";
		return false;
	}
	out->action = action;
	if (level == S3_SERVICE) {
		memcpy(out->resource, "*", 2); /* ListAllMyBuckets takes no resource: "*" */
		out->resource_len = 1;
		return true;
	}
	memcpy(out->bucket, b, bucket_len);
	out->bucket[bucket_len] = '\0';
	out->resource_len = (unsigned)g_snprintf(out->resource, sizeof out->resource, "arn:aws:s3:::%s", out->bucket);
	if (level == S3_OBJECT && (!append_key(out, "/", 1) || !append_key(out, key, key_len))) {
		*why = "the object key is longer than S3's 1,024 bytes";
		return false;
	}
	return true;
}
