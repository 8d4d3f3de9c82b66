/*
 * goconc/pool.h - Go's sync.Pool: per-thread caches of reusable objects.
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
    void (*free_obj)(void *ctx, void *obj);   /**< the pool drops an object (trim, limit, free) */
    void (*reset_obj)(void *ctx, void *obj);  /**< on put, before caching; may be NULL */
    void *ctx;
    size_t max_idle;                          /**< cap on cached objects in all, 0 = default */
} goconc_pool_options;
#define GOCONC_POOL_OPTIONS_INIT { sizeof(goconc_pool_options), NULL, NULL, NULL, NULL, 0 }

/** GOCONC_OK, GOCONC_EINVAL (NULL out, bad struct_size), GOCONC_ENOMEM. */
GOCONC_API int goconc_pool_new(goconc_pool **out, const goconc_pool_options *opts);

/** Free the pool and every cached object, in every thread's cache. NULL ok. */
GOCONC_API void goconc_pool_free(goconc_pool *p);

/**
 * A cached object if this thread can take one without waiting, else
 * new_obj(ctx), else NULL.  Never blocks on other threads' get/put.
 */
GOCONC_API void *goconc_pool_get(goconc_pool *p);

/** Give @p obj back (reset_obj runs first); NULL ignored. */
GOCONC_API void goconc_pool_put(goconc_pool *p, void *obj);

/**
 * Go's GC step: objects idle since the previous trim are dropped (victim
 * generation).  Ages the shared levels and the calling thread's cache;
 * other threads' caches age at their next get/put or exit.
 */
GOCONC_API void goconc_pool_trim(goconc_pool *p);

typedef struct goconc_pool_stats {
    size_t struct_size;
    uint64_t gets, puts, hits, news, drops;
    size_t idle;
} goconc_pool_stats;
#define GOCONC_POOL_STATS_INIT { sizeof(goconc_pool_stats), 0, 0, 0, 0, 0, 0 }

/** GOCONC_OK or GOCONC_EINVAL (NULL, bad struct_size). */
GOCONC_API int goconc_pool_stats_get(goconc_pool *p, goconc_pool_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_POOL_H */
