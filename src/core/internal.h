/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what every module of the library shares: the allocator
 * (alloc.c), big blocks (pages.c), the live-object count behind
 * goconc_set_allocator's EBUSY (alloc.c), options checking (opts.c), the
 * system calls (sys.h) and the branch hints.
 */
#ifndef GOCONC_INTERNAL_H
#define GOCONC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "goconc.h"
#include "core/atomics.h"
#include "core/perturb.h"
#include "core/sys.h"

#define GC_LIKELY(x) __builtin_expect(!!(x), 1)
#define GC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Allocation.  gc_alloc/gc_free go through the current allocator; every
 * allocation of the library uses them (tests inject failures there).
 * gc_alloc returns NULL on failure and for size 0 never returns NULL.
 */
void *gc_alloc(size_t size);
void *gc_calloc(size_t n, size_t size);   /* zeroed; NULL on overflow too */
void gc_free(void *ptr);
/*
 * Resize a block from gc_alloc to @p size bytes keeping its first @p keep
 * bytes (keep <= both sizes); NULL on failure with the block untouched.
 * Under the default allocator this is realloc(), which moves large blocks
 * by remapping their pages instead of copying and faulting them in (the
 * slice's append relies on it); a user allocator gets alloc + copy + free.
 */
void *gc_realloc(void *ptr, size_t keep, size_t size);
/*
 * Small blocks a thread frees and allocates again at a high rate (a map's
 * out-of-line entries), blocks.c: gc_alloc/gc_free through a per-thread
 * cache of up to GC_BLOCK_MAX-byte blocks.  Free with gc_block_free and
 * the size asked of gc_block_alloc.
 */
void *gc_block_alloc(size_t size);
void gc_block_free(void *p, size_t size);

/*
 * Big blocks (map tables), pages.c.  Under the default allocator (on
 * Linux), a request of at least GC_BIG_MIN bytes is mapped directly and
 * *how gets GC_BIG_MAPPED; its pages may come from big blocks freed
 * before (pages.c says why), else they are fresh and *how also gets GC_BIG_ZERO:
 * the block is zero.  Builds with -Dhugepages=true map blocks of 2 MiB
 * and more 2 MiB aligned and advise MADV_HUGEPAGE.  Otherwise (a user
 * allocator, a small request, a failed mapping) the block is
 * gc_alloc(size), not zeroed, *how 0.  Free with gc_free_big, same size
 * and how.
 */
#ifndef GOCONC_HUGEPAGES /* meson option hugepages (Linux only) sets it to 1 */
#define GOCONC_HUGEPAGES 0
#endif
#define GC_BIG_MIN ((size_t)256 << 10)
#define GC_BIG_MAPPED 1u
#define GC_BIG_ZERO 2u
void *gc_alloc_big(size_t size, unsigned *how);
void gc_free_big(void *ptr, size_t size, unsigned how);

/*
 * A snapshot of the allocator, for memory that must be freed through the
 * allocator that made it even after goconc_set_allocator() (per-thread
 * records and their reclamation chunks).
 */
struct gc_allocator_ref {
    void (*free)(void *ctx, void *ptr);
    void *ctx;
};
void *gc_alloc_ref(size_t size, struct gc_allocator_ref *ref);
void gc_free_ref(const struct gc_allocator_ref *ref, void *ptr);
/* 1 while malloc/free are the allocator.  Inline (the small-block cache
 * asks at every allocation and free): alloc.c keeps the word. */
extern int gc_alloc_user_;
static inline int gc_alloc_is_default(void)
{
    return __atomic_load_n(&gc_alloc_user_, __ATOMIC_RELAXED) == 0;
}
/*
 * Register the count of deferred work that will free through the current
 * allocator (the reclamation core's pending destroys): while it is
 * non-zero goconc_set_allocator answers EBUSY.  Called under the switch
 * lock, so it may take locks ordered after it (thread.h, lock order).
 */
void gc_alloc_set_pin(size_t (*count)(void));
/* The fork chain holds the allocator-switch lock and the big-block lock. */
void gc_alloc_fork_lock(void);
void gc_alloc_fork_unlock(void);
void gc_pages_fork_lock(void);
void gc_pages_fork_unlock(void);

/*
 * Live handles (maps, slices, views, values, references, pools...).
 * goconc_set_allocator() answers EBUSY while the count is non-zero.  A
 * constructor of a first handle (nothing alive pins the allocator yet)
 * calls gc_live_begin() before its first allocation, and gc_live_dec()
 * if it then fails; a handle made from a live one (a reslice)
 * calls gc_live_inc() after it succeeded.  Each destructor calls
 * gc_live_dec().  References and views are counted through what they
 * hold (a value's node, a slice's storage), which takes one count when
 * it outlives its owner (value.c, slice.c): one shared counter written
 * by every acquire and release made those contend across threads.
 */
void gc_live_begin(void);
void gc_live_inc(void);
void gc_live_dec(void);
size_t gc_live_count(void);

/*
 * The owner's count on *refs goes (full barrier), for an object whose
 * references may outlive its owner (a value's node and its stored
 * state, a slice's storage and its group).  While references remain,
 * the object holds one live count for them, taken here before the
 * decrement (the owner pins the allocator until then); whoever drops the
 * last reference frees the object and then calls gc_live_dec().  If this
 * was the last count, destroy(NULL, obj) runs here, and the live count
 * taken for references that went meanwhile is given back after it.
 * *refs == 1 must mean that no reference is held and none can be made
 * any more.
 */
void gc_refs_owner_drop(atword *refs, void (*destroy)(void *ctx, void *obj), void *obj);

/*
 * Options and stats structs (API.md, "Conventions"): copy *user (size in
 * its first size_t) into the zeroed *local of size local_size.  GOCONC_OK,
 * or GOCONC_EINVAL for NULL, a size below min_size, or non-zero bytes
 * beyond local_size.
 */
int gc_opts_copy(void *local, size_t local_size, size_t min_size, const void *user);
/* Write at most st_size bytes of *local into *user after checking its size. */
int gc_stats_out(void *user, const void *local, size_t local_size, size_t min_size);

#endif /* GOCONC_INTERNAL_H */
