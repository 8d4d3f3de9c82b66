/* SPDX-License-Identifier: MIT */
/*
 * goconc/map.h - sharded concurrent hash map (Go's sync.Map API).
 *
 * Keys and values are byte strings, copied in.  Values are copied out, or
 * borrowed inside a read section.  Every single-key operation is
 * linearizable; load and peek never block and never write shared memory.
 * See doc/map.md for the migration state machine.
 *
 * Thread-safety: every call but goconc_map_free() may run on the same map
 * from any number of threads at once; writes to one shard serialise on
 * its lock (they may block briefly), lookups never block.  goconc_map_free
 * must be the last call on a map, with no other call running on it.
 * Keys and values are copied: the caller's buffers are not kept.  A NULL
 * key or value with length 0 is the empty string; NULL with a non-zero
 * length is GOCONC_EINVAL.  Out-buffers (val/cap, out/cap, prev/cap) may be
 * NULL with cap 0, and length outputs may be NULL.  A write that fails
 * with a negative status or ERANGE changes nothing.  Every write may run
 * due deferred callbacks (on_drop and others) on the calling thread
 * before it returns, after its own locks are released.
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
     *  no reader can see it, and for each value left at goconc_map_free:
     *  exactly once per stored value, with the key and value bytes (valid
     *  only during the call).  It runs on any thread, holding no goconc
     *  lock, possibly after goconc_map_free() returned: it must not call
     *  into this map, must not throw, and ctx must stay valid until a
     *  goconc_barrier() after the free.  NULL: values are simply
     *  forgotten. */
    void (*on_drop)(void *ctx, const void *key, size_t klen, const void *val,
                    size_t vlen);
    void *ctx;
    /** GOCONC_MAP_* flags below (since 1.2; 0 = none). */
    unsigned flags;
} goconc_map_options;
#define GOCONC_MAP_OPTIONS_INIT { sizeof(goconc_map_options), 0, 0, 0, NULL, NULL, 0 }

/**
 * goconc_map_options.flags.
 *
 * GOCONC_MAP_NO_PEEK: the map never lends its values (goconc_map_peek
 * returns GOCONC_EINVAL), so a write that replaces an inline value (key
 * and value of at most 8 bytes each) with one of the same length may
 * rewrite it in place, in one atomic store, instead of writing a new slot
 * and retiring the old one.  Loads copy values out, range and scan pass
 * their callback copies of inline values; every single-key operation
 * stays linearizable.  For maps whose users only copy values out (the
 * Rust binding's typed Map): such overwrites leave nothing to reclaim
 * (doc/map.md, "Maps without peek").  Not with on_drop: a replaced value
 * that has a drop to run takes the usual path.
 */
#define GOCONC_MAP_NO_PEEK 1u

/**
 * Create an empty map.
 *
 * @param out   receives the map; set to NULL first (when non-NULL).
 * @param opts  copied; NULL means GOCONC_MAP_OPTIONS_INIT (64 shards, a
 *              random seed, no on_drop).  shards: 0 or a power of two up
 *              to 65536; capacity_hint: entries to size the shards for.
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL out, a bad struct_size or
 *         a shards value that is not 0 or a power of two up to 65536;
 *         GOCONC_EOVERFLOW when capacity_hint needs shard tables beyond
 *         the largest size; GOCONC_ENOMEM.
 */
GOCONC_API int goconc_map_new(goconc_map **out, const goconc_map_options *opts) GOCONC_WARN_UNUSED;

/**
 * Free the map.  No other call may be running on @p m, and none may follow
 * (a range or update callback must not free its own map).  Values still
 * stored go to on_drop after a grace period, as deferred callbacks that may
 * run after this returns; pointers peeked from the map stay valid until
 * their read sections end.  Cannot fail: without memory to defer, the
 * tables wait for the next goconc_map_new() or goconc_map_free().  NULL is
 * ignored.
 */
GOCONC_API void goconc_map_free(goconc_map *m);

/**
 * Copy the value of @p key into val[0..cap).
 *
 * @param val   the caller's buffer, or NULL with cap 0 to test presence.
 * @param vlen  receives the value's length when found (also on
 *              GOCONC_ERANGE); may be NULL.
 *
 * Never blocks and writes nothing shared (only this thread's read-section
 * counter); safe against every concurrent call but goconc_map_free().
 * Linearizable: it sees the value of a write that completed before it.
 *
 * @return GOCONC_OK (value copied); GOCONC_NOTFOUND; GOCONC_ERANGE when
 *         the value is longer than cap (nothing copied, *vlen = the size
 *         needed); GOCONC_EINVAL for a NULL m, a NULL key with klen > 0 or
 *         a NULL val with cap > 0.
 */
GOCONC_API int goconc_map_load(const goconc_map *m, const void *key, size_t klen,
                               void *val, size_t cap, size_t *vlen) GOCONC_WARN_UNUSED;

/**
 * Borrow the value of @p key without copying it.  Call inside a read
 * section: *val points to the stored bytes, which stay valid and unchanged
 * until this thread's outermost goconc_read_unlock(), whatever other
 * threads do to the key or the map meanwhile (overwrite, delete, clear,
 * migration; even goconc_map_free).  Do not write through it.  Never
 * blocks, writes nothing shared.
 *
 * @param val   receives the borrowed pointer (non-NULL when found, also for
 *              an empty value), or NULL when absent; must not be NULL.
 * @param vlen  receives the length (0 when absent); may be NULL.
 * @return GOCONC_OK; GOCONC_NOTFOUND; GOCONC_EINVAL outside a read section,
 *         for a NULL m or val, a NULL key with klen > 0, or a map created
 *         with GOCONC_MAP_NO_PEEK.
 */
GOCONC_API int goconc_map_peek(const goconc_map *m, const void *key, size_t klen,
                               const void **val, size_t *vlen) GOCONC_WARN_UNUSED;

/**
 * Store @p val for @p key, inserting it or replacing the current value
 * (which goes to on_drop after a grace period).  Key and value are copied.
 *
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL m, a NULL key with klen > 0
 *         or a NULL val with vlen > 0; GOCONC_EDEADLK when called from
 *         inside an update function running on this map (on this thread);
 *         GOCONC_EOVERFLOW when klen + vlen overflows a size_t;
 *         GOCONC_ENOMEM (nothing stored).
 */
GOCONC_API int goconc_map_store(goconc_map *m, const void *key, size_t klen,
                                const void *val, size_t vlen) GOCONC_WARN_UNUSED;

/**
 * Go's LoadOrStore: store @p val only if @p key is absent, else copy the
 * value already there to out[0..cap).
 *
 * @param out     buffer for the existing value; NULL with cap 0 when only
 *                the status is wanted.
 * @param outlen  receives the existing value's length on GOCONC_EXISTS and
 *                GOCONC_ERANGE; may be NULL.
 * @return GOCONC_OK (absent: val stored); GOCONC_EXISTS (existing value
 *         copied to out, nothing stored); GOCONC_ERANGE (present, longer
 *         than cap: nothing copied, *outlen = the size needed);
 *         GOCONC_EINVAL (NULL m, or a NULL key, val or out with a non-zero
 *         length); GOCONC_EDEADLK (inside an update function of this map);
 *         GOCONC_EOVERFLOW (klen + vlen overflows); GOCONC_ENOMEM.
 */
GOCONC_API int goconc_map_load_or_store(goconc_map *m, const void *key, size_t klen,
                                        const void *val, size_t vlen, void *out,
                                        size_t cap, size_t *outlen) GOCONC_WARN_UNUSED;

/**
 * Go's LoadAndDelete: delete @p key and copy the value it had to
 * out[0..cap).  The value goes to on_drop after a grace period.
 *
 * @param outlen  receives the value's length on GOCONC_OK and
 *                GOCONC_ERANGE; may be NULL.
 * @return GOCONC_OK (deleted, value copied; out may be NULL with cap 0);
 *         GOCONC_NOTFOUND; GOCONC_ERANGE (value longer than cap: nothing
 *         deleted or copied, *outlen = the size needed); GOCONC_EINVAL (NULL
 *         m, or a NULL key or out with a non-zero length); GOCONC_EDEADLK
 *         (inside an update function of this map); GOCONC_ENOMEM (nothing
 *         deleted).
 */
GOCONC_API int goconc_map_load_and_delete(goconc_map *m, const void *key,
                                          size_t klen, void *out, size_t cap,
                                          size_t *outlen) GOCONC_WARN_UNUSED;

/**
 * Delete @p key; its value goes to on_drop after a grace period.  A
 * delete may need memory (to retire the value), so it can fail.
 *
 * @return GOCONC_OK (deleted); GOCONC_NOTFOUND (absent); GOCONC_EINVAL
 *         (NULL m, or a NULL key with klen > 0); GOCONC_EDEADLK (inside an
 *         update function of this map); GOCONC_ENOMEM (nothing deleted).
 */
GOCONC_API int goconc_map_delete(goconc_map *m, const void *key, size_t klen) GOCONC_WARN_UNUSED;

/**
 * Go's Swap: store @p val for @p key and copy the value it replaced to
 * prev[0..cap).
 *
 * @param prevlen  receives the replaced value's length (0 when the key was
 *                 absent; the size needed on GOCONC_ERANGE); may be NULL.
 * @return GOCONC_OK (replaced; previous value copied, prev may be NULL with
 *         cap 0); GOCONC_NOTFOUND (the key was absent and is now stored);
 *         GOCONC_ERANGE (the current value is longer than cap: nothing
 *         stored or copied); GOCONC_EINVAL (NULL m, or a NULL key, val or
 *         prev with a non-zero length); GOCONC_EDEADLK (inside an update
 *         function of this map); GOCONC_EOVERFLOW (klen + vlen overflows);
 *         GOCONC_ENOMEM (nothing stored).
 */
GOCONC_API int goconc_map_swap(goconc_map *m, const void *key, size_t klen,
                               const void *val, size_t vlen, void *prev,
                               size_t cap, size_t *prevlen) GOCONC_WARN_UNUSED;

/**
 * Go's CompareAndSwap: store @p val for @p key only if its current value
 * equals old[0..oldlen) byte for byte (an absent key never matches).
 *
 * @return GOCONC_OK (swapped); GOCONC_CHANGED (present with another value:
 *         nothing stored); GOCONC_NOTFOUND (absent: nothing stored);
 *         GOCONC_EINVAL (NULL m, or a NULL key, old or val with a non-zero
 *         length); GOCONC_EDEADLK (inside an update function of this map);
 *         GOCONC_EOVERFLOW (klen + vlen overflows); GOCONC_ENOMEM.
 */
GOCONC_API int goconc_map_compare_and_swap(goconc_map *m, const void *key,
                                           size_t klen, const void *old,
                                           size_t oldlen, const void *val,
                                           size_t vlen) GOCONC_WARN_UNUSED;

/**
 * Go's CompareAndDelete: delete @p key only if its current value equals
 * old[0..oldlen) byte for byte.
 *
 * @return GOCONC_OK (deleted); GOCONC_CHANGED (present with another value:
 *         nothing deleted); GOCONC_NOTFOUND; GOCONC_EINVAL (NULL m, or a
 *         NULL key or old with a non-zero length); GOCONC_EDEADLK (inside
 *         an update function of this map); GOCONC_ENOMEM (nothing deleted).
 */
GOCONC_API int goconc_map_compare_and_delete(goconc_map *m, const void *key,
                                             size_t klen, const void *old,
                                             size_t oldlen) GOCONC_WARN_UNUSED;

enum { GOCONC_UPDATE_KEEP = 16, GOCONC_UPDATE_STORE = 17, GOCONC_UPDATE_DELETE = 18 };

/**
 * The function goconc_map_update() runs.  old/oldlen: the current value
 * (valid only during the call; NULL and 0 when found is 0).  It returns
 * GOCONC_UPDATE_KEEP, GOCONC_UPDATE_STORE (after setting *newval and *newlen
 * to bytes that stay valid until update returns; they are copied in) or
 * GOCONC_UPDATE_DELETE; a negative status aborts and is returned by
 * update; any other value (0 included) is GOCONC_EINVAL.
 */
typedef int (*goconc_map_update_fn)(void *ctx, const void *old, size_t oldlen,
                                    int found, const void **newval,
                                    size_t *newlen);

/**
 * Read-modify-write of one key: run fn(ctx, ...) exactly once while
 * holding the lock of @p key's shard, then apply what it returned.  Other
 * writers of that shard wait meanwhile; lookups do not.
 *
 * fn may load and peek (any map, this one included) and write other maps;
 * every write to this map from inside fn (store, delete, update, clear,
 * reserve, maintain, also from a range callback) returns GOCONC_EDEADLK,
 * as do goconc_synchronize() and goconc_barrier(), and no deferred
 * callback runs on the thread during fn.  fn must not longjmp out (that
 * leaves the shard locked forever) and must not free the map; if it ends
 * by an exception (C++, "C-unwind") the update changes nothing, releases
 * the lock and lets the exception go on.
 * Writing other maps from fn can deadlock with another thread doing the
 * reverse: keep a lock order.
 *
 * @return GOCONC_OK (KEEP, STORE, or DELETE, also of an absent key); fn's
 *         negative status (nothing changed); GOCONC_EINVAL (NULL m or fn, a
 *         NULL key with klen > 0, fn returned another value, or STORE with
 *         a NULL *newval and *newlen > 0: nothing changed); GOCONC_EDEADLK
 *         (called inside an update function of this map); GOCONC_EOVERFLOW
 *         (klen + *newlen overflows); GOCONC_ENOMEM (nothing changed).
 */
GOCONC_API int goconc_map_update(goconc_map *m, const void *key, size_t klen,
                                 goconc_map_update_fn fn, void *ctx) GOCONC_WARN_UNUSED;

/**
 * Call fn(ctx, key, klen, val, vlen) for the entries of the map, shard by
 * shard; a non-zero return stops the walk.  Every key present for the
 * whole call is visited exactly once, no key twice; keys stored or
 * deleted meanwhile may or may not be seen.  Not a snapshot.
 *
 * fn runs inside a read section with no goconc lock held: the key and
 * value pointers are valid until fn returns.  It may load, peek and write
 * this map and others (writes made from an update function still get
 * GOCONC_EDEADLK); it must not free the map, should not block for long
 * (it holds back reclamation), and must not longjmp out; an exception out
 * of it ends the walk (read section left) and goes on to the caller.
 *
 * @return GOCONC_OK (all visited); GOCONC_STOPPED (fn returned non-zero);
 *         GOCONC_EINVAL (NULL m or fn); GOCONC_ENOMEM (only when more than
 *         64 keys share the top 47 bits of their keyed hash: the walk
 *         stopped there).
 */
GOCONC_API int goconc_map_range(goconc_map *m, goconc_visit_fn fn, void *ctx) GOCONC_WARN_UNUSED;

/**
 * range in resumable steps (Redis SCAN): start with *cursor = 0; each call
 * visits about max_entries entries and advances *cursor; 0 again = done
 * (whatever the status).  Every cursor but the final 0 has its low bit
 * set; any 64-bit value is accepted as a cursor.  Each key present from
 * the first call to the last is visited at least once; only a resumed
 * stop can repeat keys.  fn runs as for goconc_map_range().  Calls with
 * different cursors may run concurrently, on any threads.
 *
 * @param cursor       in: where to go on (0 = start); out: where the next
 *                     call goes on, or 0 when the map is done.
 * @param max_entries  visits after which the call returns (a step may
 *                     finish its window past it); must not be 0.
 * @return GOCONC_OK (a step done; go on while *cursor != 0);
 *         GOCONC_STOPPED (fn returned non-zero: resume from *cursor, which
 *         goes on after the last entry fn saw, maybe repeating a few
 *         entries); GOCONC_EINVAL (NULL m, cursor or fn, or max_entries 0);
 *         GOCONC_ENOMEM (as for range; resume from *cursor).
 */
GOCONC_API int goconc_map_scan(goconc_map *m, uint64_t *cursor, size_t max_entries,
                               goconc_visit_fn fn, void *ctx) GOCONC_WARN_UNUSED;

/**
 * Prepare for @p entries entries: raise every shard's minimum size and
 * start the growths (still incremental: later writes and
 * goconc_map_maintain() move the buckets).  A lower value never shrinks
 * the map.  Takes each shard's lock in turn.
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL m); GOCONC_EDEADLK (inside an
 *         update function of this map); GOCONC_EOVERFLOW (entries beyond
 *         what the tables can hold); GOCONC_ENOMEM (every shard's target is
 *         restored).
 */
GOCONC_API int goconc_map_reserve(goconc_map *m, size_t entries) GOCONC_WARN_UNUSED;

/**
 * Do up to @p max_buckets buckets of pending migration work (growths,
 * shrinks, table preparation) now, instead of on later writes; lets an
 * idle thread finish resizes.  Takes each shard's lock in turn.
 *
 * @param moved  receives the work done (0 on early errors); may be NULL.
 * @return GOCONC_OK; GOCONC_EINVAL (NULL m); GOCONC_EDEADLK (inside an
 *         update function of this map); GOCONC_ENOMEM (a due migration
 *         could not start or finish: the work done stays done, the map is
 *         unchanged to readers and usable).
 */
GOCONC_API int goconc_map_maintain(goconc_map *m, size_t max_buckets, size_t *moved) GOCONC_WARN_UNUSED;

/**
 * Number of entries: exact when no write runs, approximate while writes
 * run (the shards' counts are summed one after another).  Never blocks,
 * any thread.  0 for a NULL map.
 */
GOCONC_API size_t goconc_map_len(const goconc_map *m);

/**
 * Delete every entry: each shard is emptied atomically (one shard at a
 * time, so a concurrent reader may see some shards cleared and others
 * not).  Cleared values go to on_drop after a grace period; the shards go
 * back to one-bucket tables (the goconc_map_reserve() minimum stays).
 * Memory for the new tables is taken first, so a failure changes nothing.
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL m); GOCONC_EDEADLK (inside an
 *         update function of this map); GOCONC_ENOMEM (nothing cleared).
 */
GOCONC_API int goconc_map_clear(goconc_map *m) GOCONC_WARN_UNUSED;

typedef struct goconc_map_stats {
    size_t struct_size;
    size_t len, shards, buckets, shards_migrating, bytes;
    uint64_t grows, shrinks, buckets_moved;
} goconc_map_stats;
#define GOCONC_MAP_STATS_INIT { sizeof(goconc_map_stats), 0, 0, 0, 0, 0, 0, 0, 0 }

/**
 * Copy the map's counters into @p st: len, shards, buckets (slot groups of
 * the tables readers start in), shards_migrating, bytes (memory held), and
 * the grows, shrinks and buckets_moved done so far.  Exact when nothing
 * else runs.  Never blocks.
 *
 * @param st  set st->struct_size (GOCONC_MAP_STATS_INIT) first; at most
 *            st->struct_size bytes are written.
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL m or st or a bad struct_size.
 */
GOCONC_API int goconc_map_stats_get(const goconc_map *m, goconc_map_stats *st) GOCONC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_MAP_H */
