/*
 * goconc/map.h - sharded concurrent hash map (Go's sync.Map API).
 *
 * Keys and values are byte strings, copied in.  Values are copied out, or
 * borrowed inside a read section.  Every single-key operation is
 * linearizable; load and peek never block and never write shared memory.
 * See doc/map.md for the migration state machine.
 */
#ifndef GOCONC_MAP_H
#define GOCONC_MAP_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goconc_map goconc_map;

typedef struct goconc_map_options {
    size_t struct_size;     /**< sizeof(goconc_map_options) */
    unsigned shards;        /**< power of two, 0 = library default */
    size_t capacity_hint;   /**< expected entries, 0 = none */
    uint64_t seed;          /**< hash seed, 0 = random per map (from the OS) */
    /** Deferred callback for every replaced, deleted or cleared value once
     *  no reader can see it, and for each value left at goconc_map_free. */
    void (*on_drop)(void *ctx, const void *key, size_t klen, const void *val,
                    size_t vlen);
    void *ctx;
} goconc_map_options;
#define GOCONC_MAP_OPTIONS_INIT { sizeof(goconc_map_options), 0, 0, 0, NULL, NULL }

/** opts NULL = defaults.  GOCONC_OK, EINVAL (bad options), ENOMEM. */
GOCONC_API int goconc_map_new(goconc_map **out, const goconc_map_options *opts);

/** Free the map (no other call may run on it); NULL ok. */
GOCONC_API void goconc_map_free(goconc_map *m);

/**
 * Copy the value of @p key into val[0..cap).  GOCONC_OK, GOCONC_NOTFOUND,
 * GOCONC_ERANGE with *vlen = needed size when cap is too small; val and
 * vlen may be NULL to test presence.  Never blocks, writes nothing shared.
 */
GOCONC_API int goconc_map_load(const goconc_map *m, const void *key, size_t klen,
                               void *val, size_t cap, size_t *vlen);

/**
 * Borrow the value of @p key: *val stays valid and unchanged until this
 * thread's outermost goconc_read_unlock().  GOCONC_EINVAL outside a read
 * section.  GOCONC_OK, GOCONC_NOTFOUND.
 */
GOCONC_API int goconc_map_peek(const goconc_map *m, const void *key, size_t klen,
                               const void **val, size_t *vlen);

/** GOCONC_OK, EINVAL, ENOMEM, EDEADLK (from inside this map's update fn). */
GOCONC_API int goconc_map_store(goconc_map *m, const void *key, size_t klen,
                                const void *val, size_t vlen);

/** OK: stored; EXISTS: the existing value copied to out (ERANGE if short). */
GOCONC_API int goconc_map_load_or_store(goconc_map *m, const void *key, size_t klen,
                                        const void *val, size_t vlen, void *out,
                                        size_t cap, size_t *outlen);

/** OK: deleted, old value copied out; NOTFOUND; ERANGE: nothing deleted. */
GOCONC_API int goconc_map_load_and_delete(goconc_map *m, const void *key,
                                          size_t klen, void *out, size_t cap,
                                          size_t *outlen);

/** GOCONC_OK or GOCONC_NOTFOUND. */
GOCONC_API int goconc_map_delete(goconc_map *m, const void *key, size_t klen);

/** OK: previous copied to prev; NOTFOUND: was absent, now stored; ERANGE: nothing stored. */
GOCONC_API int goconc_map_swap(goconc_map *m, const void *key, size_t klen,
                               const void *val, size_t vlen, void *prev,
                               size_t cap, size_t *prevlen);

/** GOCONC_OK, GOCONC_CHANGED, GOCONC_NOTFOUND. */
GOCONC_API int goconc_map_compare_and_swap(goconc_map *m, const void *key,
                                           size_t klen, const void *old,
                                           size_t oldlen, const void *val,
                                           size_t vlen);

/** GOCONC_OK, GOCONC_CHANGED, GOCONC_NOTFOUND. */
GOCONC_API int goconc_map_compare_and_delete(goconc_map *m, const void *key,
                                             size_t klen, const void *old,
                                             size_t oldlen);

enum { GOCONC_UPDATE_KEEP = 16, GOCONC_UPDATE_STORE = 17, GOCONC_UPDATE_DELETE = 18 };

/**
 * Returns KEEP, STORE (*newval, valid until update returns, is copied in)
 * or DELETE; a negative status aborts and is returned; any other value is
 * GOCONC_EINVAL.
 */
typedef int (*goconc_map_update_fn)(void *ctx, const void *old, size_t oldlen,
                                    int found, const void **newval,
                                    size_t *newlen);

/**
 * Run fn exactly once while holding @p key's write side.  fn may load and
 * peek; a write to the same map from inside fn returns GOCONC_EDEADLK.
 * GOCONC_OK (DELETE of an absent key too), fn's negative status, EINVAL,
 * ENOMEM; nothing changes unless fn returned KEEP/STORE/DELETE.
 */
GOCONC_API int goconc_map_update(goconc_map *m, const void *key, size_t klen,
                                 goconc_map_update_fn fn, void *ctx);

/**
 * Visit every entry; fn != 0 stops: GOCONC_STOPPED.  Visits exactly once
 * every key present for the whole call, never one twice; fn runs with no
 * goconc lock held, inside a read section, and may write the map.
 */
GOCONC_API int goconc_map_range(goconc_map *m, goconc_visit_fn fn, void *ctx);

/**
 * range in resumable steps (Redis SCAN): start with *cursor = 0; each call
 * visits about max_entries entries and advances *cursor; 0 again = done
 * (whatever the status).  GOCONC_OK, GOCONC_STOPPED (fn returned non-zero:
 * resume from *cursor, which goes on after the last entry fn saw, maybe
 * repeating a few entries), GOCONC_EINVAL, GOCONC_ENOMEM (resume from
 * *cursor).
 */
GOCONC_API int goconc_map_scan(goconc_map *m, uint64_t *cursor, size_t max_entries,
                               goconc_visit_fn fn, void *ctx);

/** Grow ahead of a known load (still incrementally).  OK, EINVAL, EOVERFLOW, ENOMEM. */
GOCONC_API int goconc_map_reserve(goconc_map *m, size_t entries);

/** Move up to max_buckets buckets of pending migrations; *moved (may be NULL). */
GOCONC_API int goconc_map_maintain(goconc_map *m, size_t max_buckets, size_t *moved);

/** Number of entries (exact when nothing else runs); 0 for NULL. */
GOCONC_API size_t goconc_map_len(const goconc_map *m);

/** Delete every entry (atomic per shard).  GOCONC_OK, EINVAL, EDEADLK. */
GOCONC_API int goconc_map_clear(goconc_map *m);

typedef struct goconc_map_stats {
    size_t struct_size;
    size_t len, shards, buckets, shards_migrating, bytes;
    uint64_t grows, shrinks, buckets_moved;
} goconc_map_stats;
#define GOCONC_MAP_STATS_INIT { sizeof(goconc_map_stats), 0, 0, 0, 0, 0, 0, 0, 0 }

/** buckets: slot groups in current tables.  GOCONC_OK or GOCONC_EINVAL. */
GOCONC_API int goconc_map_stats_get(const goconc_map *m, goconc_map_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_MAP_H */
