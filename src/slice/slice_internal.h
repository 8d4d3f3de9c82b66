/* SPDX-License-Identifier: MIT */
/*
 * slice_internal.h - the objects behind a goconc_slice handle and the
 * handle's biased lock.  Only src/slice/slice.c and white-box tests include it.
 *
 *   handle (goconc_slice) --group--> storage group --buf--> storage buffer
 *                                                      ^
 *   goconc_view --internal[0]--------------------------'
 *
 * A handle is Go's slice header (offset, len, cap) plus a lock.  Handles
 * that share storage point to one group; the group points to the current
 * buffer.  Copy-on-write swaps the group's buffer, so every handle of the
 * group follows and aliasing holds.  Views pin a buffer, never a group.
 * doc/slice.md has the locking and ordering argument.
 */
#ifndef GOCONC_SLICE_INTERNAL_H
#define GOCONC_SLICE_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "core/thread.h"

/*
 * Storage: this header, then cap elements at SL_HDR.  Only the group that
 * owns a buffer writes it; views read it; the last reference frees it.
 */
struct sl_buf {
    atword refs; /* the owning group's reference + one per live view */
    size_t cap;  /* elements allocated */
};
#define SL_HDR                                                                 \
    ((sizeof(struct sl_buf) + alignof(max_align_t) - 1) &                      \
     ~(alignof(max_align_t) - 1))

static inline unsigned char *sl_data(struct sl_buf *b)
{
    return (unsigned char *)b + SL_HDR;
}

/*
 * Handles sharing storage, and the state of the group's current buffer.
 * While nhandles == 1 the one handle's lock guards all of it; once a
 * reslice shares it, every call also takes lock (after its handle lock).
 *
 * Elements of buf at and beyond hwm have never been written and read as
 * zero: whoever makes them visible (a reslice past hwm) zeroes them first,
 * so growth never has to zero, or even touch, the new tail.
 */
struct sl_group {
    atword lock;         /* 0 free, 1 held */
    atword nhandles;     /* handles pointing here; the last one frees it */
    struct sl_buf *buf;  /* current storage */
    size_t hwm;          /* [0, hwm) of buf initialised; off+len <= hwm for every
                          * handle, after sl_sync_hwm */
    size_t view_end;     /* while buf->refs > 1, every live view lies in [0, view_end) */
};

/*
 * The handle lock: a spin lock plus a bias.  The thread named in bias
 * enters with two plain stores and no read-modify-write; any other thread
 * takes word, clears bias and waits out the owner behind membarrier() (an
 * asymmetric Dekker handshake).  Each grant of the bias is an epoch with
 * its own busy slot, written only by that epoch's owner: a thread that
 * read an old bias and was preempted before storing its busy flag can
 * then only touch its own, never reused, slot, never the current owner's.
 * The bias word is the owner's thread pointer (8-aligned) | epoch.
 */
#define SL_EPOCHS 8
#define SL_EPOCH_MASK ((uintptr_t)SL_EPOCHS - 1)

/*
 * A handle: Go's slice header plus its lock.  The first eight words are
 * what every call reads or writes (one line when the allocation is
 * aligned); the bias bookkeeping and the owner's busy slots follow.
 *
 * xdata caches the address of this handle's element 0 while the handle is
 * its group's only one and no live view reaches past its length: then an
 * append into spare capacity needs nothing but the handle (sl_refresh).
 * Meanwhile the group's hwm may lag behind off + len; every locked call
 * brings it up first (sl_sync_hwm).
 */
struct goconc_slice {
    unsigned char *xdata;   /* under word: see above, or NULL */
    atword len;             /* written under word, read unlocked */
    atword cap;             /* written under word, read unlocked */
    size_t es;              /* element size, fixed */
    atword bias;            /* owner | epoch, 0 none */
    atword word;            /* slow-path lock: 0 free, 1 held */
    struct sl_group *group; /* under word: changes when append moves storage */
    size_t off;             /* under word: first element's index in buf */
    uintptr_t last;         /* under word: last thread through it */
    size_t run;             /* under word: its consecutive acquisitions */
    size_t rebias_at;       /* under word: run that earns the bias */
    unsigned next_epoch;    /* under word: epochs granted so far */
    atword busy[SL_EPOCHS]; /* busy[e]: epoch e's owner is inside */
};

/* ------------------------------------------- the lock (slice/lock.c) */

/* Slow paths and setup. */
void sl_lock_init(goconc_slice *s);            /* word free, biased to the caller */
void sl_spin_lock_slow(atword *w);
void sl_lock_slow(goconc_slice *s, uintptr_t me); /* take word, revoke any bias */
void sl_unlock_slow(goconc_slice *s);          /* grant the bias, release word */

/* The thread's id (core/thread.h): distinct among live threads, its low
 * bits zero for the epoch, no call. */
static inline uintptr_t sl_self(void)
{
    return gc_thread_id();
}

static inline void sl_spin_lock(atword *w)
{
    if (GC_LIKELY(at_load(w) == 0 && at_cas(w, 0, 1)))
        return;
    sl_spin_lock_slow(w);
}

/* Release: pairs with the CAS of the next sl_spin_lock(). */
static inline void sl_spin_unlock(atword *w) { at_store_rel(w, 0); }

/* A thread's consecutive acquisitions through word earn it the bias
 * (sl_unlock_slow); count them (holding word). */
static inline void sl_note_holder(goconc_slice *s, uintptr_t me)
{
    if (s->last == me) {
        s->run++;
    } else {
        s->last = me;
        s->run = 1;
    }
}

/*
 * The one entry that never waits: on the bias when @p me holds it (two
 * plain stores, no read-modify-write), else with one CAS on word when no
 * bias is granted.  Returns 1 with *fast = epoch + 1 (bias) or 0 (word),
 * or 0 with nothing held: the caller goes to sl_lock_slow or its own
 * general path.
 */
static inline int sl_trylock(goconc_slice *s, uintptr_t me, int *fast)
{
    uintptr_t w = at_load(&s->bias);

    if (GC_LIKELY((w & ~SL_EPOCH_MASK) == me)) {
        atword *busy = &s->busy[w & SL_EPOCH_MASK];
        at_store(busy, 1);
        /* A compiler barrier only: the revoker's membarrier() supplies
         * the store-load fence between busy and the reload of bias. */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (GC_LIKELY(at_load(&s->bias) == w)) {
            *fast = (int)(w & SL_EPOCH_MASK) + 1;
            return 1;
        }
        at_store_rel(busy, 0);
    } else if (w == 0 && at_load(&s->word) == 0 && at_cas(&s->word, 0, 1)) {
        /* Holding word.  Only a holder of word grants a bias, so one seen
         * now stays until we release: leave it to sl_lock_slow, which
         * revokes it. */
        if (GC_LIKELY(at_load(&s->bias) == 0)) {
            sl_note_holder(s, me);
            *fast = 0;
            return 1;
        }
        sl_spin_unlock(&s->word);
    }
    return 0;
}

/* Take s's lock: epoch + 1 when entered on the bias, 0 through word. */
static inline int sl_lock(goconc_slice *s)
{
    uintptr_t me = sl_self();
    int fast;

    if (GC_LIKELY(sl_trylock(s, me, &fast)))
        return fast;
    sl_lock_slow(s, me);
    return 0;
}

static inline void sl_unlock(goconc_slice *s, int fast)
{
    if (fast) {
        /* Release: pairs with the revoker's acquire load of busy. */
        at_store_rel(&s->busy[fast - 1], 0);
        return;
    }
    if (GC_UNLIKELY(s->run >= s->rebias_at)) {
        sl_unlock_slow(s);
        return;
    }
    sl_spin_unlock(&s->word);
}

#endif /* GOCONC_SLICE_INTERNAL_H */
