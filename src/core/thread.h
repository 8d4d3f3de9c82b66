/* SPDX-License-Identifier: MIT */
/*
 * thread.h - the library's one per-thread record, its one exit hook
 * chain and its one fork chain.
 *
 * Static TLS, all of it:
 *   - gc_thread_tls below, one initial-exec record, for every layer;
 *   - goconc_tls_reader (reclaim/epoch.c), the reader pointer that the
 *     public inline read lock loads: ABI, so it stays its own symbol;
 *   - in -Dperturb=true builds only, a generator word per translation
 *     unit (core/perturb.h).
 * The record is static rather than a pointer to a heap record because
 * once and the reclamation fallbacks must work where no allocation can:
 * nothing here can fail, and a field is one %fs-relative access.
 *
 * The core knows no layer above it: a layer's fields are plain words
 * (integers, pointers to types the layer declares) that the layer alone
 * reads and writes, and its exit and fork work are hooks it registers
 * from a constructor, at load, before any thread of the program can fork
 * or exit.
 */
#ifndef GOCONC_THREAD_H
#define GOCONC_THREAD_H

#include <stdint.h>

struct gc_record;
struct gc_chunk;

/* core/blocks.c: size classes of 16 bytes up to GC_BLOCK_MAX, and the
 * blocks a thread keeps of each. */
#define GC_BLOCK_CLASSES 8
#define GC_BLOCK_MAX (GC_BLOCK_CLASSES * 16)
#define GC_BLOCK_KEEP 64

struct gc_thread {
    /* reclaim/epoch.c: registration, read sections without a record. */
    int state;            /* GC_TS_NEW, GC_TS_LIVE, GC_TS_DEAD */
    unsigned lock_depth;  /* gc_lock_enter nesting */
    unsigned fb_nest;     /* fallback read-section nesting */
    uintptr_t fb_parity;
    struct gc_record *temp;    /* temporary record after the exit hook */
    /* reclaim/bag.c: deferred destroys. */
    unsigned in_callback;      /* running deferred destroys */
    unsigned collect_depth;    /* inside gc_collect_begin/end */
    uintptr_t collect_phase;
    struct gc_chunk *fb_spare; /* gc_reserve for threads without a record */
    /* pool/cache.c: the hot cache (gc_thread_zero: none yet) and the
     * thread's list. */
    void *pool_hot;
    void *pool_rec;
    /* once.c: the onces this thread is running, innermost first. */
    void *once_running;
    /* map/write.c: the update functions running on this thread, innermost
     * first (struct map_fn_frame). */
    const void *map_fn;
    /* core/blocks.c: cached small blocks, per 16-byte size class. */
    void *blocks[GC_BLOCK_CLASSES];
    unsigned char blocks_n[GC_BLOCK_CLASSES];
    /* thread.c: 1 while the exit key holds this record's address. */
    int armed;
} __attribute__((aligned(16)));

enum { GC_TS_NEW = 0, GC_TS_LIVE, GC_TS_DEAD };

extern _Thread_local struct gc_thread gc_thread_tls __attribute__((tls_model("initial-exec")));

/*
 * Zeroes, never written: where a layer's pointer field of the record
 * points before the layer has set it (the pool's hot cache, whose `seen`
 * then matches no pool), so that its fast paths need no NULL test.  At
 * least GC_THREAD_ZERO_BYTES bytes.
 */
#define GC_THREAD_ZERO_BYTES 128
extern const uint64_t gc_thread_zero[GC_THREAD_ZERO_BYTES / 8];

static inline struct gc_thread *gc_thread_self(void)
{
    return &gc_thread_tls;
}

/*
 * A word naming the calling thread (never 0) while it lives, for owner
 * checks (EDEADLK on re-entry, the slice's bias, the map's shard lock):
 * the thread pointer where the compiler reads it in one instruction (the
 * TCB's address, what pthread_self() returns on glibc), else the address
 * of its record (two instructions and a GOT load).  Either way its low 4
 * bits are zero (the slice keeps a bias epoch there): the TCB and the
 * record are aligned to 16 or more.
 */
#if defined(__has_builtin) && (defined(__x86_64__) || defined(__aarch64__))
#if __has_builtin(__builtin_thread_pointer)
#define GC_THREAD_ID_TP 1
#endif
#endif
#ifdef GC_THREAD_ID_TP
static inline uintptr_t gc_thread_id(void)
{
    return (uintptr_t)__builtin_thread_pointer();
}
#else
static inline uintptr_t gc_thread_id(void)
{
    return (uintptr_t)&gc_thread_tls;
}
#endif

/*
 * Thread exit.  One pthread key; its destructor runs the hooks in this
 * order, each with the exiting thread's record:
 *   1. pool: hand the thread's caches back (may run user drop callbacks,
 *      which may take read sections and retire memory);
 *   2. reclaim: close what a fallback section left open, unregister the
 *      reader record and hand its bag to the orphans (after every hook
 *      that may still retire);
 *   3. blocks: free the thread's cached small blocks (after every hook
 *      that may still free one; a later free re-arms the key).
 * once and the slice keep nothing that outlives a call.  A hook must be
 * idempotent: a later destructor round (another library's destructor
 * used goconc again and re-armed) runs every hook again.
 */
enum gc_exit_hook { GC_EXIT_POOL, GC_EXIT_RECLAIM, GC_EXIT_BLOCKS, GC_EXIT_NHOOKS };
void gc_thread_on_exit(enum gc_exit_hook at, void (*hook)(struct gc_thread *t));

/*
 * Make sure the exit hooks run for this thread (sets the key).  1 when
 * they will, 0 when they cannot (no key: the caller must not keep
 * per-thread state that needs them).  Cheap once armed.
 */
int gc_thread_arm(void);

/*
 * fork().  One pthread_atfork registration; prepare takes the hooks in
 * this order, which is the library's lock order (a lock is only ever
 * taken while holding locks that come before it), parent and child run
 * them in reverse.  The child first re-runs the membarrier setup
 * (sys.h), then the hooks.
 *   1. GC_FORK_ONCE: the parking slots (once.c; nothing nests in them);
 *   2. GC_FORK_POOL: the pool registry lock (pool/cache.c; then a pool's
 *      own lock, never an allocation or a callback);
 *   3. GC_FORK_COLLECT: the reclamation drain lock (reclaim/bag.c);
 *   4. GC_FORK_ALLOC: the allocator-switch lock (core/alloc.c), held
 *      while goconc_set_allocator reads the pending count, which takes:
 *   5. GC_FORK_REGISTRY: the reader registry, then one thread's bag, then
 *      the orphans' bag (reclaim/epoch.c);
 *   6. GC_FORK_PAGES: the big-block lock (core/pages.c; nothing after).
 */
enum gc_fork_rank {
    GC_FORK_ONCE,
    GC_FORK_POOL,
    GC_FORK_COLLECT,
    GC_FORK_ALLOC,
    GC_FORK_REGISTRY,
    GC_FORK_PAGES,
    GC_FORK_NRANKS
};

struct gc_fork_hooks {
    void (*prepare)(void);
    void (*parent)(void);
    void (*child)(void);
};
void gc_thread_on_fork(enum gc_fork_rank at, const struct gc_fork_hooks *h);

#endif /* GOCONC_THREAD_H */
