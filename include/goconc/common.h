/*
 * goconc/common.h - status codes, version, allocator and read sections.
 *
 * Part of libgoconc, ABI version 1.  Every declaration here is covered by
 * the ABI policy in doc/abi.md: names, values and struct layouts never
 * change within soversion 1; fields are only appended to option and stats
 * structs, behind struct_size.
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

/** A static, human-readable description of @p status; never NULL. */
GOCONC_API const char *goconc_strerror(int status);

/* --------------------------------------------------------------- version */

/* GOCONC_VERSION_MAJOR/MINOR/PATCH/NUMBER and GOCONC_CHECK_VERSION. */
#include "goconc/version.h"

/** GOCONC_VERSION_NUMBER of the library actually loaded. */
GOCONC_API unsigned goconc_version_number(void);
/** "MAJOR.MINOR.PATCH" of the library actually loaded. */
GOCONC_API const char *goconc_version_string(void);

/* ------------------------------------------------------------- callbacks */

typedef void (*goconc_destroy_fn)(void *ctx, void *obj);
typedef int (*goconc_visit_fn)(void *ctx, const void *key, size_t klen,
                               const void *val, size_t vlen);
typedef int (*goconc_slice_visit_fn)(void *ctx, size_t i, const void *elem);

/* ------------------------------------------------------------- allocator */

typedef struct goconc_allocator {
    size_t struct_size;                     /**< sizeof(goconc_allocator) */
    void *(*alloc)(void *ctx, size_t size); /**< aligned like malloc */
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} goconc_allocator;

/**
 * Route every allocation of the library through @p a (copied); NULL
 * restores malloc/free.
 *
 * GOCONC_OK; GOCONC_EINVAL for a bad struct_size or a NULL alloc/free;
 * GOCONC_EBUSY while anything is alive: an unfreed handle, an unreleased
 * view or reference, or memory still waiting for reclamation (call
 * goconc_barrier() first).  Per-thread records do not count: each is freed
 * through the allocator that made it, whose free and ctx must stay valid
 * while any thread that used the library under it is alive.
 */
GOCONC_API int goconc_set_allocator(const goconc_allocator *a);

/* ---------------------------------------------------------- read sections */

/**
 * Enter / leave a read section (RCU-style).  Nestable, per thread; never
 * block, never fail, never write a cache line another thread writes.  A
 * pointer obtained from goconc_map_peek() or goconc_value_load() stays
 * valid until this thread's outermost goconc_read_unlock().  Do not block
 * inside a read section: it holds back reclamation for everyone.
 */
GOCONC_API void goconc_read_lock(void);
GOCONC_API void goconc_read_unlock(void);

/**
 * Call destroy(ctx, obj) after every read section open now has closed, on
 * any thread, holding no goconc lock.  GOCONC_OK; GOCONC_EINVAL for a NULL
 * destroy; GOCONC_ENOMEM: nothing deferred, obj is still the caller's.
 */
GOCONC_API int goconc_defer_free(void *obj, goconc_destroy_fn destroy,
                                 void *ctx);

/**
 * Wait until every read section open at the call has closed.  Returns
 * GOCONC_EDEADLK at once, doing nothing, inside a read section, a map
 * update function, a once function or a deferred callback.
 */
GOCONC_API int goconc_synchronize(void);

/**
 * Wait until every destroy deferred before the call (defer_free, value
 * stores, map drops, by any thread) has run.  GOCONC_EDEADLK as for
 * goconc_synchronize().
 */
GOCONC_API int goconc_barrier(void);

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
 * Snapshot of the reclamation core (exact when nothing else runs).
 * GOCONC_OK or GOCONC_EINVAL (NULL, bad struct_size).
 */
GOCONC_API int goconc_reclaim_stats_get(goconc_reclaim_stats *st);

/*
 * Inline fast path (doc/abi.md, "Read-section layout").  What it reads is
 * frozen for soversion 1: the thread's record pointer goconc_tls_reader
 * (initial-exec TLS) whose first word is the thread's reader counter, and
 * goconc_gp, the global epoch word plus the flag that says whether readers
 * need a fence (no membarrier) or only a compiler barrier.  Counter word:
 * nesting depth in the low half, epoch in the high half.  Define
 * GOCONC_NO_INLINE to call the exported functions instead.
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
