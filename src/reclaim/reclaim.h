/* SPDX-License-Identifier: MIT */
/*
 * reclaim.h - the epoch-based reclamation core every module builds on.
 *
 * Readers: goconc_read_lock/unlock (inline in goconc/common.h).  Writers
 * retire memory with gc_retire() and later call gc_poll() at a point where
 * they hold no goconc lock; destroys run only there, in goconc_barrier(),
 * and at thread exit hand-off.  See doc/reclaim.md.
 */
#ifndef GOCONC_RECLAIM_H
#define GOCONC_RECLAIM_H

#include <stddef.h>

#include "goconc/common.h"
#include "core/thread.h"

/*
 * Make sure the next @p n gc_retire() calls on this thread cannot fail
 * (n <= GC_RESERVE_MAX).  GOCONC_OK or GOCONC_ENOMEM.  Call it before a
 * change that must not be undone, then retire after publishing.
 */
#define GC_RESERVE_MAX 32
int gc_reserve(size_t n);

/*
 * Schedule destroy(ctx, obj) after a grace period.  Never runs callbacks
 * itself, so it may be called holding locks.  GOCONC_OK or GOCONC_ENOMEM
 * (cannot happen within a successful gc_reserve()).
 */
int gc_retire(void *obj, goconc_destroy_fn destroy, void *ctx);

/*
 * One deferred destroy: destroy(ctx, obj), run once the epoch has moved
 * two steps past `epoch`.
 */
struct gc_entry {
    void *obj;
    goconc_destroy_fn fn;
    void *ctx;
    uintptr_t epoch;
};

/*
 * A retire token: the room for one deferred destroy, reserved when an
 * object is created by embedding it in memory the object owns (a map's
 * final batch, a value's node).  Retiring through it needs no
 * allocation, so the `_free` that retires the object's last memory
 * cannot fail, and nothing waits on a side list for memory to come
 * back.  A token is in use from gc_retire_token until its destroy is
 * called; the destroy may free the token's memory or retire it again.
 */
struct gc_token {
    struct gc_entry e;
    struct gc_token *next; /* in a bag, under its lock */
};

/*
 * gc_retire through a token not in use.  Cannot fail; like gc_retire it
 * never runs callbacks and may be called holding locks.
 */
void gc_retire_token(struct gc_token *t, void *obj, goconc_destroy_fn destroy, void *ctx);

/*
 * Advance the epoch when due and run this thread's expired destroys.  Does
 * nothing while the thread holds a goconc lock (gc_lock_enter) or runs a
 * deferred callback.  Cheap when nothing is due.
 */
void gc_poll(void);

/*
 * Call after retiring something large (a whole table): the next few
 * gc_poll() calls on this thread try to advance the epoch at once instead
 * of waiting for the usual number of retires, so it is freed promptly.
 */
void gc_urge(void);
/*
 * Count n more retires toward this thread's next epoch advance (gc_poll
 * advances every ADVANCE_EVERY of them): for a retire that stands for
 * many objects waiting on the epoch (a map's grace token, for the DEAD
 * slots it frees), so that they do not wait for many more retires.
 */
void gc_weigh(size_t n);

/*
 * Call after retiring memory that should not wait for later writes (a
 * map's whole tables at clear or free): tries to advance the epoch the
 * two steps the entries need and runs them, now, on this thread.  Never
 * waits: with a reader still in an older epoch the entries stay for later
 * polls, as usual.  Costs a few epoch attempts (membarrier calls).
 */
void gc_reclaim_soon(void);

/*
 * Bracket regions that hold a goconc lock or run a user callback under one
 * (map update fn, once fn): no deferred callback runs on this thread and
 * goconc_synchronize/goconc_barrier return GOCONC_EDEADLK inside.  Inline:
 * one increment of the thread's record (every update enters it).
 */
static inline void gc_lock_enter(void)
{
    gc_thread_tls.lock_depth++;
}

static inline void gc_lock_exit(void)
{
    gc_thread_tls.lock_depth--;
}

/*
 * The outermost read section's entry and exit for a hot path that must
 * not call out (one call on any path makes the compiler save registers
 * on every path): goconc_read_lock_inline_'s protocol (goconc/common.h)
 * for a registered thread outside any section, where only this thread
 * writes its counter.  NULL: not that case; use goconc_read_lock().
 */
static inline struct goconc_reader *gc_read_enter_outer(uintptr_t *cp)
{
    struct goconc_reader *r = GOCONC_TLS_READER_;
    if (__builtin_expect(r == NULL, 0) ||
        (__atomic_load_n(&r->ctr, __ATOMIC_RELAXED) & GOCONC_READER_NEST_MASK))
        return NULL;
    *cp = goconc_read_enter_outer_(r);
    return r;
}

/* Leave the section gc_read_enter_outer entered with counter c: the
 * inline unlock's release store (goconc_read_leave_). */
static inline void gc_read_leave_outer(struct goconc_reader *r, uintptr_t c)
{
    goconc_read_leave_(r, c);
}

/* 1 when the calling thread is inside a read section. */
int gc_in_read_section(void);

/* Number of deferred destroys not yet run, all threads (for EBUSY). */
size_t gc_pending_count(void);

#endif /* GOCONC_RECLAIM_H */
