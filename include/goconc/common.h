/* SPDX-License-Identifier: MIT */
/*
 * goconc/common.h - status codes, version, allocator and read sections.
 *
 * Part of libgoconc, ABI version 1.  Every declaration here is covered by
 * the ABI policy in doc/abi.md: names, values and struct layouts never
 * change within soversion 1; fields are only appended to option and stats
 * structs, behind struct_size.
 *
 * Conventions of every header (doc/api.md, "Conventions"):
 *  - Fallible calls return one of the status codes below; a call that
 *    fails with a negative status changed nothing.  Nothing aborts on bad
 *    input the library can detect.
 *  - A NULL pointer with length 0 is an empty key, value or element run;
 *    a NULL pointer with a non-zero length is GOCONC_EINVAL.  A pointer
 *    the library hands out with length 0 is still non-NULL.
 *  - Options and stats structs start with struct_size: below the 1.0
 *    size, or larger with any non-zero byte past the fields this library
 *    knows, is GOCONC_EINVAL.  Stats calls write at most struct_size bytes.
 *  - No longjmp out of a callback, ever (it would leave a lock held or a
 *    once running).  Callbacks that run during the call taking them
 *    (update, visitors, once fn, pool new_obj/reset_obj) may end by an
 *    exception (C++, "C-unwind"): the library unwinds, leaving the object
 *    as a failing or stopping callback would.  Deferred callbacks and
 *    free_obj must never throw.
 *  - Deferred callbacks (goconc_defer_free's destroy, a value's destroy, a
 *    map's on_drop) run after a grace period on whatever thread makes a
 *    later call that collects them (writes, frees, range, defer_free,
 *    goconc_barrier), holding no goconc lock, possibly after the object
 *    that scheduled them was freed.  They must not call into that object,
 *    must not take a lock that a caller of the library may hold, and get
 *    GOCONC_EDEADLK from goconc_synchronize() and goconc_barrier().  Their
 *    ctx must stay valid until a goconc_barrier() after the free.
 *  - Thread-safety: any function may be called from any thread, without
 *    registering it first; calls on one object may overlap, except its
 *    _free, which must be the last call on it (each header says more).
 *  - fork(): the child may at once use read sections, goconc_defer_free,
 *    goconc_synchronize, goconc_barrier and new objects.  Objects another
 *    thread was changing during the fork, and onces it was running, are
 *    unusable in the child; destroys other threads had pending never run.
 *  - Allocator: every allocation goes through goconc_set_allocator()'s.
 */
#ifndef GOCONC_COMMON_H
#define GOCONC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GOCONC_BUILDING) && defined(__GNUC__)
#define GOCONC_API __attribute__((visibility("default")))
#else
#define GOCONC_API
#endif

/*
 * Functions that return a status warn (GCC, Clang) when a caller drops it:
 * an ignored GOCONC_ENOMEM or GOCONC_EDEADLK is a bug waiting.  Define
 * GOCONC_NO_WARN_UNUSED before including goconc.h to turn it off.  An
 * attribute of the declaration only: the ABI is the same either way.
 */
#if defined(__GNUC__) && !defined(GOCONC_NO_WARN_UNUSED)
#define GOCONC_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define GOCONC_WARN_UNUSED
#endif

/* ---------------------------------------------------------------- status */

/** Status codes.  The values are pinned forever (ABI). */
enum {
    GOCONC_OK = 0,          /**< success */
    GOCONC_NOTFOUND = 1,    /**< key absent / nothing stored (an answer) */
    GOCONC_EXISTS = 2,      /**< load-or-store found a value already there */
    GOCONC_CHANGED = 3,     /**< compare-and-swap/delete: value differs */
    GOCONC_STOPPED = 4,     /**< an iteration was stopped by its callback */
    GOCONC_ENOMEM = -12,    /**< allocation failed; object unchanged */
    GOCONC_EBUSY = -16,     /**< not allowed now (allocator swap, ...) */
    GOCONC_EINVAL = -22,    /**< bad argument */
    GOCONC_ERANGE = -34,    /**< index/bounds out of range, short buffer */
    GOCONC_EDEADLK = -35,   /**< the call would deadlock */
    GOCONC_EOVERFLOW = -75  /**< a size computation would overflow */
};

/**
 * Describe a status code.
 *
 * @param status  any int; values outside the set give "unknown status".
 * @return a static, NUL-terminated English string, never NULL, never to be
 *         freed.  Thread-safe: no state, no allocation.
 */
GOCONC_API const char *goconc_strerror(int status);

/* --------------------------------------------------------------- version */

/* GOCONC_VERSION_MAJOR/MINOR/PATCH/NUMBER and GOCONC_CHECK_VERSION. */
#include "goconc/version.h"

/**
 * The version of the library actually loaded, as GOCONC_VERSION_NUMBER
 * computes it (MAJOR * 10000 + MINOR * 100 + PATCH); compare it with the
 * macro to detect a program built against other headers.  Thread-safe.
 */
GOCONC_API unsigned goconc_version_number(void);
/**
 * The version of the library actually loaded as a static
 * "MAJOR.MINOR.PATCH" string; never NULL, never to be freed.  Thread-safe.
 */
GOCONC_API const char *goconc_version_string(void);

/* ------------------------------------------------------------- callbacks */

/** A deferred destroy (goconc_defer_free, goconc_value_new): gets the ctx
 *  and object it was registered with; see "Deferred callbacks" above. */
typedef void (*goconc_destroy_fn)(void *ctx, void *obj);
/** A map visitor (goconc_map_range, goconc_map_scan): key and value are
 *  valid only during the call; non-zero stops the walk. */
typedef int (*goconc_visit_fn)(void *ctx, const void *key, size_t klen,
                               const void *val, size_t vlen);
/** A slice visitor (goconc_slice_range): element i of a snapshot, valid
 *  only during the call; non-zero stops the walk. */
typedef int (*goconc_slice_visit_fn)(void *ctx, size_t i, const void *elem);

/* ------------------------------------------------------------- allocator */

typedef struct goconc_allocator {
    size_t struct_size;                     /**< sizeof(goconc_allocator) */
    void *(*alloc)(void *ctx, size_t size); /**< aligned like malloc */
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} goconc_allocator;

/**
 * Route every allocation of the library through @p a; NULL restores
 * malloc/free.
 *
 * @param a  copied before the call returns (the struct need not outlive
 *           it).  alloc must return memory aligned like malloc's, or NULL
 *           (the library then returns GOCONC_ENOMEM and stays usable);
 *           alloc and free run on any thread, concurrently, sometimes
 *           under internal locks, and must never call into libgoconc.
 *
 * Per-thread records (read-section and pool caches) do not make the call
 * busy: each is freed through the allocator that made it, so that
 * allocator's free and ctx must stay valid while any thread that used the
 * library under it is alive.  Any thread may call this, but not a thread
 * inside an alloc or free of the library.
 *
 * @return GOCONC_OK; GOCONC_EINVAL for a struct_size below the 1.0 size
 *         or a larger one with non-zero bytes past the known fields, or a
 *         NULL alloc or free; GOCONC_EBUSY, changing nothing, while
 *         anything made by the current allocator is alive: an unfreed
 *         handle, an unreleased view or value reference, or a deferred
 *         destroy not yet run (call goconc_barrier() first).
 */
GOCONC_API int goconc_set_allocator(const goconc_allocator *a) GOCONC_WARN_UNUSED;

/* ---------------------------------------------------------- read sections */

/**
 * Enter a read section (RCU-style) on the calling thread.
 *
 * Nestable; sections belong to the thread and end with its own matching
 * goconc_read_unlock().  Never blocks, never fails (without memory for
 * the thread's record it takes a slower shared path), never writes a
 * cache line another thread writes.  A pointer obtained from
 * goconc_map_peek() or goconc_value_load() stays valid until this
 * thread's outermost goconc_read_unlock().  Inside a section any lookup
 * and any write may be called, but goconc_synchronize() and
 * goconc_barrier() return GOCONC_EDEADLK; do not block or sleep inside
 * one: it holds back reclamation for every thread (memory grows, waits
 * in goconc_synchronize() last).  A thread that exits inside a section
 * stalls no one.  An inline fast path (below) replaces the call unless
 * GOCONC_NO_INLINE is defined.
 */
GOCONC_API void goconc_read_lock(void);
/**
 * Leave the innermost read section of the calling thread; leaving the
 * outermost one ends every borrow it made (peek, value load).  An unlock
 * with no section open is ignored.  Never blocks, never fails.
 */
GOCONC_API void goconc_read_unlock(void);

/**
 * Schedule destroy(ctx, obj) to run once every read section open now has
 * closed (a deferred callback: see the conventions at the top).
 *
 * @param obj      passed to destroy unchanged (may be NULL); the caller
 *                 must already have made it unreachable for new readers.
 * @param destroy  runs exactly once, on any thread, holding no goconc
 *                 lock; inside it goconc_synchronize() and
 *                 goconc_barrier() return GOCONC_EDEADLK.
 * @param ctx      passed to destroy; must stay valid until it has run.
 *
 * Never waits: may be called from any thread, inside a read section, a
 * map update function, a once function or a deferred callback.  It may
 * run destroys that are already due (this thread's or orphaned ones)
 * before it returns.
 *
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL destroy; GOCONC_ENOMEM:
 *         nothing deferred, obj is still the caller's.
 */
GOCONC_API int goconc_defer_free(void *obj, goconc_destroy_fn destroy,
                                 void *ctx) GOCONC_WARN_UNUSED;

/**
 * Wait for a grace period: until every read section open at the call (on
 * any thread) has closed.  Blocks (yields, then sleeps up to about 1 ms
 * at a time) while a reader lags; sections opened after the call are not
 * waited for.  Any number of threads may call it at once.  It runs no
 * deferred callback.
 *
 * @return GOCONC_OK; GOCONC_EDEADLK at once, doing nothing, inside a read
 *         section, a map update function, a once function or a deferred
 *         callback (waiting there could wait for itself).
 */
GOCONC_API int goconc_synchronize(void) GOCONC_WARN_UNUSED;

/**
 * Wait until every destroy deferred before the call has run: those of
 * goconc_defer_free(), value stores, swaps and frees, map drops and map
 * frees, by any thread, including threads that have exited.  Due destroys
 * may run on the calling thread, inside this call.  Blocks like
 * goconc_synchronize(); any number of threads may call it at once.  Use
 * it before unloading code or freeing a ctx that deferred callbacks use,
 * and before goconc_set_allocator().
 *
 * @return GOCONC_OK; GOCONC_EDEADLK at once, doing nothing, inside a read
 *         section, a map update function, a once function or a deferred
 *         callback.
 */
GOCONC_API int goconc_barrier(void) GOCONC_WARN_UNUSED;

/** Reclamation counters; see goconc_reclaim_stats_get(). */
typedef struct goconc_reclaim_stats {
    size_t struct_size;   /**< sizeof(goconc_reclaim_stats) */
    size_t pending;       /**< deferred destroys not yet run */
    size_t threads;       /**< registered per-thread records */
    uint64_t epoch;       /**< grace periods completed so far */
    uint64_t reclaimed;   /**< deferred destroys run so far */
} goconc_reclaim_stats;
#define GOCONC_RECLAIM_STATS_INIT { sizeof(goconc_reclaim_stats), 0, 0, 0, 0 }

/**
 * Copy counters of the reclamation core into @p st (exact when nothing
 * else runs, a near snapshot otherwise).  Any thread, any time; takes the
 * thread registry's lock briefly.
 *
 * @param st  caller-owned; set st->struct_size (GOCONC_RECLAIM_STATS_INIT)
 *            first; at most st->struct_size bytes are written.
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL st or a bad struct_size.
 */
GOCONC_API int goconc_reclaim_stats_get(goconc_reclaim_stats *st) GOCONC_WARN_UNUSED;

/*
 * Inline fast path (doc/abi.md, "Read-section layout").  What it reads is
 * frozen for soversion 1: the thread's record pointer goconc_tls_reader
 * (initial-exec TLS) whose first word is the thread's reader counter, and
 * goconc_gp, the global epoch word plus the flag that says whether readers
 * need a fence (no membarrier) or only a compiler barrier.  Counter word:
 * nesting depth in the low half, epoch in the high half.  Define
 * GOCONC_NO_INLINE to call the exported functions instead.
 *
 * goconc_tls_reader and goconc_gp are exported data, not API: only the
 * inline read lock and unlock below may touch them, and only the library
 * writes them (goconc_tls_reader is NULL until the thread's first call
 * registers it; goconc_gp changes when the epoch advances).
 */
struct goconc_reader { uintptr_t ctr; };
struct goconc_gp_state { uintptr_t ctr; uintptr_t need_fence; };
#define GOCONC_READER_NEST_BITS (sizeof(uintptr_t) * 4)
#define GOCONC_READER_NEST_MASK (((uintptr_t)1 << GOCONC_READER_NEST_BITS) - 1)

#if defined(__SANITIZE_THREAD__)
#define GOCONC_TSAN_ 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOCONC_TSAN_ 1
#endif
#endif

#if defined(__GNUC__) && (!defined(GOCONC_NO_INLINE) || defined(GOCONC_BUILDING))
#ifdef __cplusplus
#define GOCONC_TLS_ thread_local
#else
#define GOCONC_TLS_ _Thread_local
#endif
#ifndef GOCONC_BUILDING
extern GOCONC_API GOCONC_TLS_ struct goconc_reader *goconc_tls_reader
    __attribute__((tls_model("initial-exec")));
extern GOCONC_API struct goconc_gp_state goconc_gp;
#define GOCONC_TLS_READER_ goconc_tls_reader
#define GOCONC_GP_ goconc_gp
#else
/* The library reaches its TLS pointer under a hidden name (no GOT load).
 * Not goconc_gp: an executable that reads it gets a copy relocation, and
 * every access must go to that one copy, through the GOT. */
extern __attribute__((visibility("hidden"), tls_model("initial-exec")))
GOCONC_TLS_ struct goconc_reader *gc_tls_reader;
extern GOCONC_API struct goconc_gp_state goconc_gp;
#define GOCONC_TLS_READER_ gc_tls_reader
#define GOCONC_GP_ goconc_gp
#endif

/* Enter an outermost section of reader r (nesting 0); returns the counter
 * value stored.  A piece of the inline read lock, not an API. */
static inline uintptr_t goconc_read_enter_outer_(struct goconc_reader *r)
{
    uintptr_t c = __atomic_load_n(&GOCONC_GP_.ctr, __ATOMIC_RELAXED) + 1;
#ifdef GOCONC_TSAN_
    /* ThreadSanitizer models no fences: a seq_cst exchange orders alike. */
    (void)__atomic_exchange_n(&r->ctr, c, __ATOMIC_SEQ_CST);
#else
    __atomic_store_n(&r->ctr, c, __ATOMIC_RELEASE);
    /* Orders the counter store before the section's loads; the reclaimer's
     * membarrier() (or its own fence) is the other half. */
    if (__atomic_load_n(&GOCONC_GP_.need_fence, __ATOMIC_RELAXED))
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
    return c;
}

/* Leave one level of reader r's section, whose counter is c (nesting
 * at least 1).  A piece of the inline read unlock, not an API. */
static inline void goconc_read_leave_(struct goconc_reader *r, uintptr_t c)
{
    /* Release: the section's loads complete before the reclaimer can see
     * the counter drop (pairs with its acquire load of the counter). */
    __atomic_store_n(&r->ctr, c - 1, __ATOMIC_RELEASE);
}

static inline void goconc_read_lock_inline_(void)
{
    struct goconc_reader *r = GOCONC_TLS_READER_;
    uintptr_t c;
    if (__builtin_expect(r == NULL, 0)) {
        (goconc_read_lock)();
        return;
    }
    c = __atomic_load_n(&r->ctr, __ATOMIC_RELAXED);
    if (c & GOCONC_READER_NEST_MASK) {
        __atomic_store_n(&r->ctr, c + 1, __ATOMIC_RELEASE);
        return;
    }
    (void)goconc_read_enter_outer_(r);
}

static inline void goconc_read_unlock_inline_(void)
{
    struct goconc_reader *r = GOCONC_TLS_READER_;
    uintptr_t c;
    if (__builtin_expect(r == NULL, 0)) {
        (goconc_read_unlock)();
        return;
    }
    c = __atomic_load_n(&r->ctr, __ATOMIC_RELAXED);
    if (__builtin_expect((c & GOCONC_READER_NEST_MASK) == 0, 0))
        return; /* unbalanced unlock: ignored, as the exported one does */
    goconc_read_leave_(r, c);
}

#if !defined(GOCONC_NO_INLINE) && !defined(GOCONC_BUILDING)
#define goconc_read_lock() goconc_read_lock_inline_()
#define goconc_read_unlock() goconc_read_unlock_inline_()
#endif
#endif

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_COMMON_H */
