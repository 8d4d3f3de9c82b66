/* SPDX-License-Identifier: MIT */
/*
 * reclaim_internal.h - what the three parts of the reclamation core
 * share.  They depend one way, bottom up:
 *   bag.c    bags of deferred destroys (chunks and tokens), collecting
 *            them at a given epoch, the collector phases behind the
 *            barrier's drain; knows nothing of epochs advancing;
 *   epoch.c  the global epoch, read sections, thread records and their
 *            registry, advancing, grace periods, thread exit and fork
 *            (calls bag.c for a record's bag);
 *   defer.c  retire, reserve, poll, defer_free, barrier, pending counts
 *            (calls both).
 */
#ifndef GOCONC_RECLAIM_INTERNAL_H
#define GOCONC_RECLAIM_INTERNAL_H

#include <pthread.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "reclaim/reclaim.h"

#define NEST_BITS GOCONC_READER_NEST_BITS
#define NEST_MASK GOCONC_READER_NEST_MASK
#define EPOCH_ONE ((uintptr_t)1 << NEST_BITS)

/* Entries per chunk; >= GC_RESERVE_MAX so a spare covers any reserve. */
#define CHUNK_ENTRIES 64
/* Retires between attempts to advance the epoch (crossbeam: 128 pins). */
#define ADVANCE_EVERY 64


struct gc_chunk {
    struct gc_chunk *next;
    struct gc_allocator_ref ref;
    size_t n;
    struct gc_entry e[CHUNK_ENTRIES];
};

/*
 * A FIFO of chunks, and a FIFO of tokens.  The owner appends to `last`;
 * collectors (the owner's poll, any thread's barrier) take whole chunks
 * before `last` and copy expired entries out of `last`, so `last` and
 * `spare` stay with the bag and gc_reserve's promise holds against
 * concurrent collection.  Due tokens are unlinked under the lock.
 */
struct gc_bag {
    /* 0 free, 1 held (gc_bag_lock): the owner takes it at every reserve
     * and retire, others rarely (a barrier's drain, an exit's hand-over,
     * fork), so a word and the library's backoff rather than a mutex,
     * whose lock and unlock cost a retire about 80 instructions. */
    atword lock;
    struct gc_chunk *first, *last, *spare;
    struct gc_token *tok_first, *tok_last;
    atword pending; /* entries and tokens not yet run, in the bag or being run */
    /*
     * An epoch at which a collection found nothing more due, 0 if none:
     * while the global epoch stays there (a stalled reader holds it),
     * collecting again would walk every entry to run none.  A push of an
     * entry tagged otherwise, or a hand-over, clears it.  Under lock.
     */
    uintptr_t clean_at;
};

void gc_bag_lock_wait(struct gc_bag *b);

static inline void gc_bag_lock(struct gc_bag *b)
{
    /* Full barrier: acquire pairs with gc_bag_unlock's release store
     * (the holder's changes to the bag are seen), and a retire reads its
     * epoch after it (defer.c, retire_epoch), so the caller's
     * unpublishing store cannot pass that load. */
    if (GC_UNLIKELY(!at_cas(&b->lock, 0, 1)))
        gc_bag_lock_wait(b);
}

static inline void gc_bag_unlock(struct gc_bag *b)
{
    at_store_rel(&b->lock, 0);
}

/* A registered thread's reader and bag: heap, on lines of its own. */
struct gc_record {
    struct goconc_reader reader; /* first: the inline fast path's view */
    char pad0[GC_PAD - sizeof(struct goconc_reader)];
    struct gc_record *next, *prev; /* registry, under reg.lock */
    struct gc_bag bag;
    size_t since_advance;
    unsigned urgent; /* polls that advance regardless (gc_urge) */
    struct gc_allocator_ref ref;
    void *raw;
    int temp;
};

/* The registry of thread records. */
struct gc_registry {
    pthread_mutex_t lock;
    struct gc_record *head;
    size_t n;
    struct gc_record *forked_away; /* other threads' records, in a fork child */
    atword gen; /* bumped by every change: a barrier pass visits by position */
};
extern struct gc_registry gc_reg;

/* Destroys of exited threads (and of threads without a record). */
extern struct gc_bag gc_orphans;

static inline struct gc_record *gc_self(void)
{
    return (struct gc_record *)gc_tls_reader;
}

static inline int gc_epoch_before(uintptr_t a, uintptr_t b)
{
    return (intptr_t)(a - b) < 0;
}

/* epoch.c */
struct gc_record *gc_thread_register(void);

/* A record to retire into, registering the thread if needed. */
static inline struct gc_record *gc_self_or_register(void)
{
    struct gc_record *r = gc_self();
    return GC_LIKELY(r != NULL) ? r : gc_thread_register();
}
int gc_try_advance(int wait);
int gc_must_not_wait(void);
void gc_wait_grace_period(void);

/* bag.c: chunks and bags.  Push and room checks under b->lock. */
struct gc_chunk *gc_chunk_new(void);
void gc_chunk_free(struct gc_chunk *c);
void gc_bag_init(struct gc_bag *b);
int gc_bag_has_room(const struct gc_bag *b, size_t n);
int gc_bag_push(struct gc_bag *b, const struct gc_entry *e, struct gc_chunk **extra);
void gc_bag_push_token(struct gc_bag *b, struct gc_token *t);
void gc_bag_hand_over(struct gc_bag *from, struct gc_bag *to);
void gc_bag_trim(struct gc_bag *b);
void gc_bags_fork_child(void);

/*
 * Collecting (bag.c).  A collector counts itself in with
 * gc_collect_begin(), then reads the epoch g, then collects, then
 * gc_collect_end(): gc_collectors_drain() waits for every collector
 * counted in before it started.  gc_bag_collect runs every entry of b due
 * at g (all of them if `all`) and returns how many; only b's owner, or
 * anyone for the orphans, calls it.  gc_bag_take_due (under b->lock)
 * moves at most CHUNK_ENTRIES chunk entries and every token due at g
 * out of b; gc_run_taken runs them with no lock held.
 */
void gc_collect_begin(void);
void gc_collect_end(void);
void gc_collectors_drain(void);
size_t gc_bag_collect(struct gc_bag *b, uintptr_t g, int all);
struct gc_taken {
    struct gc_entry due[CHUNK_ENTRIES];
    size_t n;              /* entries in due[] */
    struct gc_token *toks; /* due tokens */
    size_t ntoks;
};
void gc_bag_take_due(struct gc_bag *b, uintptr_t g, struct gc_taken *out);
void gc_run_taken(struct gc_taken *out);
/* Entries taken by barriers and not yet run; entries run, ever. */
size_t gc_bags_inflight(void);
size_t gc_bags_reclaimed(void);

#endif /* GOCONC_RECLAIM_INTERNAL_H */
