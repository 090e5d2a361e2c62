/* common/hugemem.h: big zeroed tables on 2 MB pages, for the NAT and balancer tables (Linux transparent huge pages, madvise(2)). */
#ifndef NATLB_HUGEMEM_H
#define NATLB_HUGEMEM_H

#include <stddef.h>

/* A zeroed table of n entries of size bytes, starting on a 2 MB boundary, asked to be backed by
 * 2 MB pages, and touched only where entries land.  At a million entries a table spans tens or
 * hundreds of megabytes, and with 4 KB pages nearly every lookup would miss the TLB as well as
 * the cache.  A table under 2 MB, or any table under AddressSanitizer (so that its bounds are
 * checked), is an ordinary heap block (calloc).  NULL when n * size overflows or the memory is not
 * there. */
void *huge_table_new(size_t n, size_t size);
/* Free what huge_table_new(n, size) returned (NULL is fine). */
void huge_table_free(void *table, size_t n, size_t size);

#endif
