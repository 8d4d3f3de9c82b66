/* SPDX-License-Identifier: MIT */
/*
 * blocks.c - a per-thread cache of small blocks, for memory a thread
 * frees and allocates again at a high rate: a map's out-of-line entries,
 * one made by every store of a long key or value and one freed by the
 * grace period of every entry it replaced.
 *
 * Under malloc the two calls cost about 260 instructions per store
 * (callgrind, overwrite_long), much of it in _int_malloc and
 * malloc_consolidate: a poll frees a batch of entries at once, which
 * overflows glibc's per-thread cache of 7 blocks a size, and the stores
 * after it find that cache empty.  Here each thread keeps up to
 * GC_BLOCK_KEEP blocks of each 16-byte size class up to GC_BLOCK_MAX
 * bytes, linked through their first word: a free and an allocation are
 * a few instructions each.
 *
 * Only while the allocator is malloc/free (gc_alloc_is_default): a
 * cached block is a malloc block, and a thread hands one out only while
 * malloc is still the allocator, so a block never reaches the free of an
 * allocator that did not make it.  Cached blocks keep nothing busy:
 * goconc_set_allocator may switch meanwhile, and the thread's exit hook
 * (or the process's end) frees them with free().  A thread caches only
 * while its exit hook is armed and has not run.  A fork child keeps the
 * forking thread's cache; the other threads' are lost with them, as
 * glibc's own per-thread caches are.  ASan builds cache
 * nothing, nor does a process under a valgrind tool that replaces malloc
 * (memcheck, helgrind, DRD, massif, DHAT: each preloads its
 * vgpreload_<tool> library; callgrind and cachegrind do not, and count
 * the cache as it runs): a block used after its grace period is then
 * reported, not silently reused, and helgrind and DRD see a reused block
 * as new memory, not a race.
 */
#include <stdlib.h>

#include "core/internal.h"
#include "core/thread.h"

#ifdef GOCONC_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

/* 1 when blocks are cached (set at load). */
static int cache_on;

/* Does a valgrind tool track this process's malloc and free? */
static int malloc_tracked(void)
{
#ifdef RUNNING_ON_VALGRIND
    const char *pre = getenv("LD_PRELOAD");
    static const char *const tools[] = { "vgpreload_memcheck", "vgpreload_helgrind",
                                         "vgpreload_drd", "vgpreload_massif", "vgpreload_dhat" };
    size_t i;
    if (!RUNNING_ON_VALGRIND)
        return 0;
    for (i = 0; pre != NULL && i < sizeof tools / sizeof tools[0]; i++)
        if (strstr(pre, tools[i]) != NULL)
            return 1;
    return pre == NULL; /* cannot tell: assume it does */
#else
    return 0;
#endif
}

/* The class of a block of 1..GC_BLOCK_MAX bytes. */
static inline unsigned block_class(size_t size)
{
    return (unsigned)((size - 1) >> 4);
}

void *gc_block_alloc(size_t size)
{
    struct gc_thread *t = gc_thread_self();
    unsigned c;
    void *p;

    /* Exact sizes where nothing is cached: a user's allocator sees the
     * size asked, and ASan an overrun past it. */
    if (!cache_on || size == 0 || size > GC_BLOCK_MAX || !gc_alloc_is_default())
        return gc_alloc(size);
    c = block_class(size);
    p = t->blocks[c];
    if (p != NULL) {
        t->blocks[c] = *(void **)p;
        t->blocks_n[c]--;
        return p;
    }
    /* The whole class's size, so that any block of the class serves any
     * request of it (malloc rounds to 16 bytes anyway). */
    return gc_alloc(((size_t)c + 1) << 4);
}

void gc_block_free(void *p, size_t size)
{
    struct gc_thread *t = gc_thread_self();
    unsigned c = size - 1 < GC_BLOCK_MAX ? block_class(size) : GC_BLOCK_CLASSES;

    if (p == NULL)
        return;
    /* Not once the thread's exit hooks ran (GC_TS_DEAD): nothing would
     * free the blocks. */
    if (cache_on && c < GC_BLOCK_CLASSES && t->blocks_n[c] < GC_BLOCK_KEEP &&
        t->state != GC_TS_DEAD && gc_alloc_is_default() && (t->armed || gc_thread_arm())) {
        *(void **)p = t->blocks[c];
        t->blocks[c] = p;
        t->blocks_n[c]++;
        return;
    }
    gc_free(p);
}

/* Exit hook: the thread's blocks back to malloc (free(), not gc_free: the
 * allocator may have been switched since they were cached). */
static void blocks_thread_exit(struct gc_thread *t)
{
    unsigned c;
    for (c = 0; c < GC_BLOCK_CLASSES; c++) {
        while (t->blocks[c] != NULL) {
            void *p = t->blocks[c];
            t->blocks[c] = *(void **)p;
            free(p);
        }
        t->blocks_n[c] = 0;
    }
}

/* Before every constructor that could make a map (priority: after the
 * core's own, 101): a block allocated while cache_on is still 0 has its
 * exact size, and must not be cached for its class once it is 1. */
__attribute__((constructor(102))) static void blocks_init(void)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)malloc_tracked; /* ASan tracks malloc itself: the cache stays off */
#else
    cache_on = !malloc_tracked();
#endif
    gc_thread_on_exit(GC_EXIT_BLOCKS, blocks_thread_exit);
}
