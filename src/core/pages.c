/* SPDX-License-Identifier: MIT */
/*
 * pages.c - big blocks (map tables): mapped directly under the default
 * allocator, their pages recycled from big blocks freed before
 * (internal.h, gc_alloc_big).
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/internal.h"

#ifdef MREMAP_FIXED
/* size rounded up to whole pages; 0 if that overflows. */
static size_t page_round(size_t size)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return size > SIZE_MAX - pg ? 0 : (size + pg - 1) & ~(pg - 1);
}

static void *map_plain(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

#if GOCONC_HUGEPAGES
#define HUGE_PAGE ((size_t)2 << 20)

/*
 * Why huge pages: a map's big tables are touched in random order, and on
 * 4 KiB pages each access of a large table also misses the TLB.
 * malloc's blocks are not 2 MiB aligned, so advising them would leave up
 * to 2 MiB at each end on small pages.  Mapping len + 2 MiB and cutting
 * off the misaligned head and the tail leaves an exact, aligned mapping.
 * doc/map.md, "Huge pages", has the measurements.
 */
static void *map_fresh(size_t len)
{
    char *raw, *p;
    uintptr_t head;

    if (len < HUGE_PAGE || len > SIZE_MAX - HUGE_PAGE)
        return map_plain(len);
    raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    head = (HUGE_PAGE - ((uintptr_t)raw & (HUGE_PAGE - 1))) & (HUGE_PAGE - 1);
    p = raw + head;
    if (head != 0)
        (void)munmap(raw, head);
    (void)munmap(p + len, HUGE_PAGE - head);
    /* Only a hint: without it (THP off, an old kernel) the block still works. */
    (void)madvise(p, len, MADV_HUGEPAGE);
    return p;
}
#else
#define map_fresh map_plain
#endif

/*
 * Pages of freed big blocks, kept for the next big block.  Why: a growing
 * map allocates every table fresh and frees the one before, so on fresh
 * pages it pays a page fault (about 2 us on a VM) for every page of every
 * intermediate table as well as of the final ones: 136K faults for W2's
 * 10M stores against GHashTable's 68K, whose realloc keeps its pages.
 * A new block takes a kept block's pages (mremap moves them, no copy, no
 * fault) for as much of it as they cover; the rest is fresh.
 *
 * Bounds on memory held for nobody: at most BIG_KEEP blocks, and at most
 * a quarter of the bytes of big blocks in use, checked at every free, so
 * nothing is kept once no big block is in use (the last map freed).
 */
#define BIG_KEEP 4
static struct {
    pthread_mutex_t lock;
    size_t used; /* bytes of big blocks allocated and not freed */
    size_t held; /* bytes in keep[] */
    unsigned n;
    struct big_block {
        char *p;
        size_t len;
    } keep[BIG_KEEP + 1]; /* + 1: gc_free_big adds before it drops */
} big = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, { { NULL, 0 } } };

/* Whether a kept block of l bytes serves a request of len better than
 * one of best bytes: the shortest that covers it, else the longest. */
static int big_better(size_t l, size_t best, size_t len)
{
    return l >= len ? best < len || l < best : best < l;
}

/* Take the kept block that serves len best.  Lock held. */
static struct big_block big_take(size_t len)
{
    struct big_block b = { NULL, 0 };
    unsigned i, at = BIG_KEEP;

    for (i = 0; i < big.n; i++)
        if (at == BIG_KEEP || big_better(big.keep[i].len, big.keep[at].len, len))
            at = i;
    if (at != BIG_KEEP) {
        b = big.keep[at];
        big.keep[at] = big.keep[--big.n];
        big.held -= b.len;
    }
    return b;
}

void *gc_alloc_big(size_t size, unsigned *how)
{
    size_t len = page_round(size);
    struct big_block b;
    char *p;

    *how = 0;
    if (size < GC_BIG_MIN || len == 0 || !gc_alloc_is_default() || (p = map_fresh(len)) == NULL)
        return gc_alloc(size);
    pthread_mutex_lock(&big.lock);
    big.used += len;
    b = big_take(len);
    pthread_mutex_unlock(&big.lock);
    *how = GC_BIG_MAPPED | GC_BIG_ZERO;
    if (b.p != NULL) {
        size_t r = b.len < len ? b.len : len;
        if (b.len > r)
            (void)munmap(b.p + r, b.len - r);
        /* Onto the head of the fresh mapping, replacing its untouched
         * pages; on failure those stay, and the kept pages go. */
        if (mremap(b.p, r, r, MREMAP_MAYMOVE | MREMAP_FIXED, p) != MAP_FAILED)
            *how = GC_BIG_MAPPED;
        else
            (void)munmap(b.p, r);
    }
    return p;
}

void gc_free_big(void *ptr, size_t size, unsigned how)
{
    struct big_block out[BIG_KEEP + 1];
    unsigned nout = 0, i;
    size_t len = page_round(size);

    if (!(how & GC_BIG_MAPPED)) {
        gc_free(ptr);
        return;
    }
    pthread_mutex_lock(&big.lock);
    big.used -= len;
    big.keep[big.n].p = ptr; /* keep[] has room for one more: see below */
    big.keep[big.n].len = len;
    big.held += len;
    big.n++;
    /* Drop the shortest blocks until both bounds hold again. */
    while (big.n > 0 && (big.n > BIG_KEEP || big.held > big.used / 4)) {
        unsigned at = 0;
        for (i = 1; i < big.n; i++)
            if (big.keep[i].len < big.keep[at].len)
                at = i;
        out[nout++] = big.keep[at];
        big.held -= big.keep[at].len;
        big.keep[at] = big.keep[--big.n];
    }
    pthread_mutex_unlock(&big.lock);
    for (i = 0; i < nout; i++)
        (void)munmap(out[i].p, out[i].len);
}
#else /* no mremap: plain blocks */
void *gc_alloc_big(size_t size, unsigned *how)
{
    *how = 0;
    return gc_alloc(size);
}

void gc_free_big(void *ptr, size_t size, unsigned how)
{
    (void)size;
    (void)how;
    gc_free(ptr);
}
#endif


#ifdef MREMAP_FIXED
/* Fork chain (core/thread.c): big.lock is taken with no other lock held
 * after it, so it comes last. */
void gc_pages_fork_lock(void) { pthread_mutex_lock(&big.lock); }
void gc_pages_fork_unlock(void) { pthread_mutex_unlock(&big.lock); }
#else
void gc_pages_fork_lock(void) {}
void gc_pages_fork_unlock(void) {}
#endif
