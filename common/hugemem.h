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
/* The same table on ordinary 4 KB pages, for a table whose entries land at random (a hash index):
 * there, each of the first entries would cost a whole 2 MB page, and a table sized for millions
 * that holds a dozen would take tens of megabytes.  huge_table_promote() asks for 2 MB pages once
 * the table is dense enough for them to pay (pages touched from then on are huge ones). */
void *huge_table_new_sparse(size_t n, size_t size);
void huge_table_promote(void *table, size_t n, size_t size);
/* Free what huge_table_new(n, size) or huge_table_new_sparse(n, size) returned (NULL is fine). */
void huge_table_free(void *table, size_t n, size_t size);

#endif
