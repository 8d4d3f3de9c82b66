/* SPDX-License-Identifier: MIT */
/*
 * once.c - Go's sync.Once plus a retrying variant.
 *
 * State word (opaque[0], ABI): 0 idle, GOCONC_ONCE_DONE_ (1) done, RUNNING
 * while a caller runs fn, with the WAITERS bit once someone sleeps on it.
 * Sleepers park on a condition variable chosen by the once's address from
 * a small static table (a parking lot), so a goconc_once needs no
 * allocation and no destructor.  Re-entry is found through a per-thread
 * stack of the onces this thread is running, kept in the callers' frames
 * and headed by the thread record's once_running (core/thread.h).
 */
#include <pthread.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "reclaim/reclaim.h"

#define ONCE_DONE ((AO_t)GOCONC_ONCE_DONE_)
#define ONCE_RUNNING ((AO_t)2)
#define ONCE_WAITERS ((AO_t)4)

/* Few slots: collisions only cost a spurious wake-up, and the fork
 * handlers hold every slot lock at once. */
#define PARK_SLOTS 16

static struct park {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char pad[GC_PAD - (sizeof(pthread_mutex_t) + sizeof(pthread_cond_t)) % GC_PAD];
} parking[PARK_SLOTS];

struct running {
    const goconc_once *once;
    struct running *prev;
};

static struct park *park_of(const goconc_once *o)
{
    uintptr_t h = (uintptr_t)o;
    h ^= h >> 7;
    h ^= h >> 13;
    return &parking[h % PARK_SLOTS];
}

static atword *state_of(goconc_once *o)
{
    /* uint64_t and AO_t are the same width on LP64, the only layout the
     * library is built for (checked below). */
    return (atword *)(void *)&o->opaque[0];
}

typedef char once_word_is_ao_t[sizeof(AO_t) == sizeof(uint64_t) ? 1 : -1];

static int running_on_this_thread(const goconc_once *o)
{
    const struct running *r;
    for (r = gc_thread_self()->once_running; r; r = r->prev)
        if (r->once == o)
            return 1;
    return 0;
}

/* Sleep until the state leaves RUNNING.  Returns the state seen. */
static AO_t wait_not_running(goconc_once *o)
{
    struct park *p = park_of(o);
    atword *st = state_of(o);
    AO_t s;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        s = at_load_acq(st);
        if (!(s & ONCE_RUNNING))
            break;
        /* The runner reads WAITERS after it leaves RUNNING and then takes
         * p->lock to broadcast, so setting it under p->lock cannot miss
         * the wake-up. */
        if (!(s & ONCE_WAITERS) && !at_cas(st, s, s | ONCE_WAITERS))
            continue;
        pthread_cond_wait(&p->cond, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return s;
}

/* Leave RUNNING for `to` (DONE or idle) and wake the sleepers. */
static void finish(goconc_once *o, AO_t to)
{
    struct park *p = park_of(o);
    GOCONC_PERTURB_POINT();
    /* Release: fn's effects happen before any acquire load that sees
     * DONE (goconc_once_done, wait_not_running). */
    AO_t old = at_xchg(state_of(o), to);
    if (old & ONCE_WAITERS) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

/*
 * A once this thread runs: its entry in once_running, and whether fn is
 * still running.  If fn unwinds instead of returning (a C++ exception, a
 * thread cancellation), once_unwound runs as its frame goes (the cleanup
 * attribute, with -fexceptions) and undoes what fn's return would have:
 * the once goes back to not done, as a failed goconc_once_try leaves it,
 * so a waiter or a later call runs its own fn (std::call_once's rule).
 */
struct once_run_state {
    goconc_once *o;
    struct running me;
    int in_fn;
};

static void once_unwound(struct once_run_state *r)
{
    if (!r->in_fn)
        return;
    gc_lock_exit();
    gc_thread_self()->once_running = r->me.prev;
    finish(r->o, 0);
}

/*
 * The shared body of do and try.  call(fn, ctx) returns 0 on success.
 */
__attribute__((noinline)) static int once_run(goconc_once *o, int (*call)(void *fn, void *ctx), void *fn, void *ctx)
{
    atword *st;
    struct once_run_state run __attribute__((cleanup(once_unwound))) = { o, { o, NULL }, 0 };
    AO_t s;
    int rc;

    if (o == NULL || fn == NULL)
        return GOCONC_EINVAL;
    st = state_of(o);
    for (;;) {
        s = at_load_acq(st);
        if (s == ONCE_DONE)
            return GOCONC_OK;
        if (s & ONCE_RUNNING) {
            if (running_on_this_thread(o))
                return GOCONC_EDEADLK;
            wait_not_running(o);
            continue;
        }
        if (at_cas(st, s, ONCE_RUNNING))
            break;
    }
    run.me.prev = gc_thread_self()->once_running;
    gc_thread_self()->once_running = &run.me;
    gc_lock_enter();
    run.in_fn = 1;
    GOCONC_PERTURB_POINT();
    rc = call(fn, ctx);
    run.in_fn = 0;
    gc_lock_exit();
    gc_thread_self()->once_running = run.me.prev;
    finish(o, rc == 0 ? ONCE_DONE : 0);
    return rc;
}

static int call_void(void *fn, void *ctx)
{
    void (*f)(void *);
    memcpy(&f, &fn, sizeof f);
    f(ctx);
    return 0;
}

static int call_int(void *fn, void *ctx)
{
    int (*f)(void *);
    memcpy(&f, &fn, sizeof f);
    return f(ctx);
}

/* The done path first: one acquire load, no frame for the rest. */
static inline __attribute__((always_inline)) int
once_enter(goconc_once *o, int (*call)(void *fn, void *ctx), void *fn, void *ctx)
{
    if (GC_LIKELY(goconc_once_done_inline_(o) && fn != NULL))
        return GOCONC_OK;
    return once_run(o, call, fn, ctx);
}

GOCONC_API int goconc_once_do(goconc_once *o, void (*fn)(void *ctx), void *ctx)
{
    void *f;
    memcpy(&f, &fn, sizeof f);
    return once_enter(o, call_void, f, ctx);
}

GOCONC_API int goconc_once_try(goconc_once *o, int (*fn)(void *ctx), void *ctx)
{
    void *f;
    memcpy(&f, &fn, sizeof f);
    return once_enter(o, call_int, f, ctx);
}

GOCONC_API int goconc_once_done(const goconc_once *o)
{
    return goconc_once_done_inline_(o);
}

static void park_prepare(void)
{
    int i;
    for (i = 0; i < PARK_SLOTS; i++)
        pthread_mutex_lock(&parking[i].lock);
}

static void park_release(void)
{
    int i;
    for (i = PARK_SLOTS - 1; i >= 0; i--)
        pthread_mutex_unlock(&parking[i].lock);
}

static const struct gc_fork_hooks park_fork = { park_prepare, park_release, park_release };

__attribute__((constructor)) static void once_init(void)
{
    int i;
    for (i = 0; i < PARK_SLOTS; i++) {
        pthread_mutex_init(&parking[i].lock, NULL);
        pthread_cond_init(&parking[i].cond, NULL);
    }
    /* A fork child must not inherit a parking lock held by a thread that
     * does not exist there. */
    gc_thread_on_fork(GC_FORK_ONCE, &park_fork);
}
