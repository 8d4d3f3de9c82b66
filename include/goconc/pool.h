/* SPDX-License-Identifier: MIT */
/*
 * goconc/pool.h - Go's sync.Pool: per-thread caches of reusable objects.
 *
 * get, put, trim and stats_get may run on the same pool from any number of
 * threads at once; goconc_pool_free() must be the last call, with no other
 * running.  Objects are the user's: the pool only keeps their pointers,
 * and hands each cached object to exactly one get or one free_obj.
 * Callbacks run on the calling thread with no library lock held; they may
 * use the pool (even the same one) but must not free it, nor longjmp out.
 * An exception out of new_obj or reset_obj goes on to the caller of get
 * or put (the object is then not cached and stays the caller's; the call
 * is not counted); free_obj must not throw.  See doc/pool.md.
 */
#ifndef GOCONC_POOL_H
#define GOCONC_POOL_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goconc_pool goconc_pool;

typedef struct goconc_pool_options {
    size_t struct_size;                       /**< sizeof(goconc_pool_options) */
    void *(*new_obj)(void *ctx);              /**< like Go's New; NULL: get returns NULL when empty */
    void (*free_obj)(void *ctx, void *obj);   /**< the pool drops an object (trim, limit, free); NULL: forgotten */
    void (*reset_obj)(void *ctx, void *obj);  /**< on put, before caching; may be NULL */
    void *ctx;
    /** Cap on the shared level, 0 = 1024.  Each thread's cache holds up to
     *  min(64, max_idle) more, so up to max_idle + min(64, max_idle) * T
     *  objects sit idle, T the live threads holding a cache of this pool
     *  (1088 with the default and one thread). */
    size_t max_idle;
} goconc_pool_options;
#define GOCONC_POOL_OPTIONS_INIT { sizeof(goconc_pool_options), NULL, NULL, NULL, NULL, 0 }

/**
 * Create an empty pool.
 *
 * @param out   receives the pool (NULL on failure).
 * @param opts  copied; NULL: no callbacks and the default max_idle.  ctx
 *              must stay valid until goconc_pool_free() returns.
 * @return GOCONC_OK; GOCONC_EINVAL (NULL out, bad struct_size);
 *         GOCONC_ENOMEM.
 */
GOCONC_API int goconc_pool_new(goconc_pool **out, const goconc_pool_options *opts) GOCONC_WARN_UNUSED;

/**
 * Free the pool and every cached object (through free_obj, on this
 * thread), in the shared level and in every thread's cache, live or
 * exited.  No other call may be running on @p p, nor follow; it may wait
 * for a thread that is handing its cache back at exit.  NULL is ignored.
 */
GOCONC_API void goconc_pool_free(goconc_pool *p);

/**
 * A cached object if this thread can take one without waiting (its own
 * cache, then the shared level if its lock is free), else new_obj(ctx),
 * else NULL (no new_obj, it returned NULL, or p is NULL).  The caller owns
 * the object it gets.  Never blocks on other threads' get or put; new_obj
 * runs on this thread with no lock held.
 */
GOCONC_API void *goconc_pool_get(goconc_pool *p);

/**
 * Give @p obj back to the pool, which owns it from now on: reset_obj runs
 * first (on this thread, no lock held), then the object is cached, or
 * dropped through free_obj when the shared level is full or a chunk for it
 * cannot be allocated.  Cannot fail.  NULL p or obj is ignored (obj stays
 * the caller's).  A double put is not detected.
 */
GOCONC_API void goconc_pool_put(goconc_pool *p, void *obj);

/**
 * Go's GC step: objects idle since the previous trim are dropped through
 * free_obj on this thread (victim generation), the other idle objects
 * become victims.  Ages the shared level and the calling thread's cache
 * now; other threads' caches age at their next get/put or exit.  Any
 * thread, any time; NULL is ignored.
 */
GOCONC_API void goconc_pool_trim(goconc_pool *p);

typedef struct goconc_pool_stats {
    size_t struct_size;
    uint64_t gets, puts, hits, news, drops;
    size_t idle;
} goconc_pool_stats;
#define GOCONC_POOL_STATS_INIT { sizeof(goconc_pool_stats), 0, 0, 0, 0, 0, 0 }

/**
 * Copy the pool's counters into @p st: gets, puts, hits, news, drops since
 * goconc_pool_new(), and idle (cached now, other threads' unaged caches
 * included).  Exact when nothing else runs, else a near snapshot.
 *
 * @param st  set st->struct_size (GOCONC_POOL_STATS_INIT) first; at most
 *            st->struct_size bytes are written.
 * @return GOCONC_OK; GOCONC_EINVAL (NULL p or st, bad struct_size).
 */
GOCONC_API int goconc_pool_stats_get(goconc_pool *p, goconc_pool_stats *st) GOCONC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_POOL_H */
