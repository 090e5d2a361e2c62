/* common/hugemem.c: big zeroed tables on 2 MB pages (Linux transparent huge pages: madvise(2) MADV_HUGEPAGE). */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#include <linux/mman.h> /* glibc before 2.37 does not name it */
#endif

#include "common/hugemem.h"

#define HUGE_PAGE ((size_t)2 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define HUGEMEM_ON_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HUGEMEM_ON_HEAP 1
#endif
#endif

/* n * size; false when it overflows. */
static bool table_bytes(size_t n, size_t size, size_t *bytes)
{
	if (n && size > SIZE_MAX / n)
		return false;
	*bytes = n * size;
	return *bytes <= SIZE_MAX - 2 * HUGE_PAGE;
}

/* Below one huge page, or under AddressSanitizer, a table is an ordinary heap block: a huge page
 * would make a small table cost 2 MB of memory as soon as one entry is touched. */
static bool on_heap(size_t bytes)
{
#ifdef HUGEMEM_ON_HEAP
	(void)bytes;
	return true;
#else
	return bytes < HUGE_PAGE;
#endif
}

static size_t huge_span(size_t bytes)
{
	return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* The table's memory, on a 2 MB boundary; NULL when it is not there. */
static void *table_map(size_t bytes)
{
	if (on_heap(bytes))
		return g_try_malloc0(bytes ? bytes : 1); /* calloc: a fresh block is not written to */
	/* Anonymous memory comes zeroed and costs nothing until touched.  Map one huge page more than
	 * the span, then unmap the ends, so that the table starts on a 2 MB boundary and every one of
	 * its pages can be a huge page. */
	size_t span = huge_span(bytes), len = span + HUGE_PAGE;
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	size_t head = (size_t)(p - raw), tail = len - head - span;
	if (head)
		munmap(raw, head);
	if (tail)
		munmap(p + span, tail);
	return p;
}

void *huge_table_new(size_t n, size_t size)
{
	void *t = huge_table_new_sparse(n, size);
	if (t)
		huge_table_promote(t, n, size);
	return t;
}

void *huge_table_new_sparse(size_t n, size_t size)
{
	size_t bytes;
	if (!table_bytes(n, size, &bytes))
		return NULL;
	return table_map(bytes);
}

void huge_table_promote(void *table, size_t n, size_t size)
{
	size_t bytes;
	if (!table || !table_bytes(n, size, &bytes) || on_heap(bytes))
		return;
#ifdef MADV_HUGEPAGE
	madvise(table, huge_span(bytes), MADV_HUGEPAGE); /* advice only: 4 KB pages still work */
#endif
#ifdef MADV_COLLAPSE
	/* A table promoted once it is dense has small pages in nearly every 2 MB span by then, and the
	 * fault path gives huge pages only to empty spans: collapse them now (Linux 6.1) rather than
	 * wait for khugepaged.  Best effort: an older kernel says EINVAL and the table stays as it is. */
	madvise(table, huge_span(bytes), MADV_COLLAPSE);
#endif
}

void huge_table_free(void *table, size_t n, size_t size)
{
	size_t bytes;
	if (!table || !table_bytes(n, size, &bytes))
		return;
	if (on_heap(bytes))
		g_free(table);
	else
		munmap(table, huge_span(bytes));
}
