/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the allocator every allocation of the library goes through,
 * the live-handle count behind goconc_set_allocator's EBUSY, the
 * struct_size conventions and the OS seed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "reclaim/reclaim.h"

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/*
 * The current allocator.  goconc_set_allocator() only changes it while no
 * library memory is alive, so no allocation can be in flight that another
 * thread would free through the new one; the fields are still read as
 * atomics so a misuse cannot tear a pointer.
 */
static atword cur_alloc = (AO_t)default_alloc;
static atword cur_free = (AO_t)default_free;
static atword cur_ctx;
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;
/* 1 while goconc_set_allocator decides, under set_lock (gc_live_begin). */
static atword switching;

/* Shared and written by every constructor; padded off the hot lines. */
static struct {
    char pad0[GC_PAD];
    atword n;
    char pad1[GC_PAD - sizeof(atword)];
} live;

void *gc_alloc(size_t size)
{
    void *(*fn)(void *, size_t) = (void *(*)(void *, size_t))at_load(&cur_alloc);
    return fn(at_loadp(&cur_ctx), size ? size : 1);
}

void *gc_calloc(size_t n, size_t size)
{
    void *p;
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = gc_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void gc_free(void *ptr)
{
    void (*fn)(void *, void *) = (void (*)(void *, void *))at_load(&cur_free);
    if (ptr)
        fn(at_loadp(&cur_ctx), ptr);
}

/* Whether malloc/free are the allocator (it cannot change while a block
 * from it is alive: EBUSY), so blocks may take their own ways back. */
static int default_allocator(void)
{
    return (void *(*)(void *, size_t))at_load(&cur_alloc) == default_alloc;
}

void *gc_realloc(void *ptr, size_t keep, size_t size)
{
    void *np;
    if (size == 0)
        size = 1;
    if (default_allocator())
        return realloc(ptr, size);
    np = gc_alloc(size);
    if (np != NULL) {
        memcpy(np, ptr, keep);
        gc_free(ptr);
    }
    return np;
}

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
    if (size < GC_BIG_MIN || len == 0 || !default_allocator() || (p = map_fresh(len)) == NULL)
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

/*
 * Per-thread records and reclamation chunks do not hold the allocator
 * busy, so a switch may race with them: take the snapshot and allocate
 * under the switch lock, so both come from the same allocator.
 */
void *gc_alloc_ref(size_t size, struct gc_allocator_ref *ref)
{
    void *p;
    pthread_mutex_lock(&set_lock);
    ref->free = (void (*)(void *, void *))at_load(&cur_free);
    ref->ctx = at_loadp(&cur_ctx);
    p = gc_alloc(size);
    pthread_mutex_unlock(&set_lock);
    return p;
}

void gc_free_ref(const struct gc_allocator_ref *ref, void *ptr)
{
    if (ptr)
        ref->free(ref->ctx, ptr);
}

/* Around fork (reclaim.c): big.lock is taken with no other lock held
 * after it, so it comes last. */
void gc_alloc_fork_lock(void)
{
    pthread_mutex_lock(&set_lock);
#ifdef MREMAP_FIXED
    pthread_mutex_lock(&big.lock);
#endif
}

void gc_alloc_fork_unlock(void)
{
#ifdef MREMAP_FIXED
    pthread_mutex_unlock(&big.lock);
#endif
    pthread_mutex_unlock(&set_lock);
}

/*
 * Dekker-style against goconc_set_allocator: each side announces itself
 * with a full barrier (the count here, `switching` there) and then reads
 * the other's word, so either the switch sees this constructor (EBUSY) or
 * the constructor sees the switch and waits it out, then allocates from
 * the allocator it installed: never blocks of two allocators in one
 * object.
 */
void gc_live_begin(void)
{
    for (;;) {
        at_fetch_add(&live.n, 1);
        /* Acquire pairs with the release that ends a switch: the new
         * allocator's words are visible to gc_alloc. */
        if (GC_LIKELY(at_load_acq(&switching) == 0))
            return;
        at_fetch_sub(&live.n, 1);
        pthread_mutex_lock(&set_lock); /* the switch holds it */
        pthread_mutex_unlock(&set_lock);
    }
}

void gc_live_inc(void) { at_fetch_add(&live.n, 1); }
void gc_live_dec(void) { at_fetch_sub(&live.n, 1); }
size_t gc_live_count(void) { return at_load(&live.n); }

GOCONC_API int goconc_set_allocator(const goconc_allocator *a)
{
    goconc_allocator local;
    int rc;

    if (a != NULL) {
        rc = gc_opts_copy(&local, sizeof local, sizeof local, a);
        if (rc != GOCONC_OK)
            return rc;
        if (local.alloc == NULL || local.free == NULL)
            return GOCONC_EINVAL;
    } else {
        local.alloc = default_alloc;
        local.free = default_free;
        local.ctx = NULL;
    }
    pthread_mutex_lock(&set_lock);
    at_store(&switching, 1);
    at_fence(); /* the flag before the count: pairs with gc_live_begin */
    rc = GOCONC_EBUSY;
    if (gc_live_count() == 0 && gc_pending_count() == 0) {
        at_store(&cur_alloc, (AO_t)local.alloc);
        at_store(&cur_free, (AO_t)local.free);
        at_storep(&cur_ctx, local.ctx);
        rc = GOCONC_OK;
    }
    at_store_rel(&switching, 0);
    pthread_mutex_unlock(&set_lock);
    return rc;
}

/*
 * The struct_size rules of API.md: at least the 1.0 size, and any bytes
 * beyond the library's own struct zero.  Returns the caller's size, or 0
 * for a struct to reject.
 */
static size_t struct_size_ok(const void *user, size_t local_size, size_t min_size)
{
    const unsigned char *p = user;
    size_t n, i;

    if (user == NULL)
        return 0;
    memcpy(&n, user, sizeof n);
    if (n < min_size)
        return 0;
    for (i = local_size; i < n; i++)
        if (p[i] != 0)
            return 0;
    return n;
}

int gc_opts_copy(void *local, size_t local_size, size_t min_size, const void *user)
{
    size_t n = struct_size_ok(user, local_size, min_size);
    if (n == 0)
        return GOCONC_EINVAL;
    memset(local, 0, local_size);
    memcpy(local, user, n < local_size ? n : local_size);
    memcpy(local, &local_size, sizeof local_size);
    return GOCONC_OK;
}

int gc_stats_out(void *user, const void *local, size_t local_size, size_t min_size)
{
    size_t n = struct_size_ok(user, local_size, min_size);
    if (n == 0)
        return GOCONC_EINVAL;
    /* The caller's struct keeps its own struct_size; fields we do not know
     * of (a newer header) are left alone rather than zeroed. */
    memcpy((char *)user + sizeof n, (const char *)local + sizeof n,
           (n < local_size ? n : local_size) - sizeof n);
    return GOCONC_OK;
}

uint64_t gc_random_seed(void)
{
    uint64_t seed = 0;
    struct timespec ts;
    ssize_t r;

    do
        r = getrandom(&seed, sizeof seed, GRND_NONBLOCK);
    while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof seed && seed != 0)
        return seed;
    /* No entropy yet (early boot) or seccomp: still different per map. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
    seed ^= (uint64_t)(uintptr_t)&seed;
    seed ^= seed >> 31;
    seed *= 0xbf58476d1ce4e5b9ull;
    return seed ? seed : 1;
}
