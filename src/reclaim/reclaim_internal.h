/* SPDX-License-Identifier: MIT */
/*
 * reclaim_internal.h - what the two halves of the reclamation core share:
 * reclaim.c (epochs, read sections, thread records, fork) and
 * reclaim_bag.c (deferred destroys: bags, retire, poll, barrier).
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


struct gc_entry {
    void *obj;
    goconc_destroy_fn fn;
    void *ctx;
    uintptr_t epoch;
};

struct gc_chunk {
    struct gc_chunk *next;
    struct gc_allocator_ref ref;
    size_t n;
    struct gc_entry e[CHUNK_ENTRIES];
};

/*
 * A FIFO of chunks.  The owner appends to `last`; collectors (the owner's
 * poll, any thread's barrier) take whole chunks before `last` and copy
 * expired entries out of `last`, so `last` and `spare` stay with the bag
 * and gc_reserve's promise holds against concurrent collection.
 */
struct gc_bag {
    pthread_mutex_t lock;
    struct gc_chunk *first, *last, *spare;
    atword pending; /* entries not yet run, in the bag or being run */
    /*
     * An epoch at which a collection found nothing more due, 0 if none:
     * while the global epoch stays there (a stalled reader holds it),
     * collecting again would walk every entry to run none.  A push of an
     * entry tagged otherwise, or a hand-over, clears it.  Under lock.
     */
    uintptr_t clean_at;
};

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

/* reclaim.c */
struct gc_record *gc_self_or_register(void);
int gc_try_advance(int wait);
int gc_must_not_wait(void);
void gc_wait_grace_period(void);

/* reclaim_bag.c */
void gc_bag_init(struct gc_bag *b);
void gc_bag_hand_over(struct gc_bag *from, struct gc_bag *to);
void gc_chunk_free(struct gc_chunk *c);
void gc_bags_fork_child(void);

#endif /* GOCONC_RECLAIM_INTERNAL_H */
