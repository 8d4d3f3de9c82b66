/* SPDX-License-Identifier: MIT */
/*
 * epoch.c - epoch-based reclamation behind goconc's read sections.
 *
 * Readers publish "active in epoch e" in their own padded record (see the
 * inline fast path in goconc/common.h).  Writers retire memory into their
 * own bag, tagged with the epoch read after the memory was unpublished;
 * an entry tagged e runs once the global epoch reaches e + 2, because the
 * epoch only moves from g to g + 1 when every active reader is in g (see
 * gc_try_advance), so readers of e - 1 and e are gone by then.
 *
 * The reader side needs no fence where membarrier(PRIVATE_EXPEDITED) works:
 * the advancer issues it before scanning, which orders every running
 * reader's counter store before its section's loads (liburcu's memb
 * flavour).  Elsewhere, and under ThreadSanitizer, readers fence.
 *
 * Threads register on first use: a heap record (reader counter and bag)
 * that the ABI's TLS pointer goconc_tls_reader names; the rest of the
 * thread's reclamation state is in the core's per-thread record
 * (core/thread.h).  The core's exit hook chain calls reclaim last: it
 * unregisters the record, hands its bag to the global orphan bag and
 * frees the record through the allocator that made it.  Later calls on that thread (other libraries'
 * destructors) use a temporary record or the orphan bag.  When a record
 * cannot be allocated, readers fall back to two shared counters.
 * Retired memory and its destroys live in bag.c and defer.c.
 * doc/reclaim.md has the full argument.
 */
#include <pthread.h>
#include <stdlib.h>

#include "reclaim/reclaim_internal.h"

/* ------------------------------------------------------------ ABI data */

/*
 * The TLS pointer is defined under a hidden name and exported as an alias,
 * so the library's own fast paths skip a GOT load (TLS has no copy
 * relocations).  goconc_gp must not be aliased: an executable that reads
 * it inline gets a copy relocation, and the library must then write that
 * copy, which only a GOT access does.
 */
__attribute__((visibility("hidden"), tls_model("initial-exec")))
_Thread_local struct goconc_reader *gc_tls_reader;
extern GOCONC_API _Thread_local struct goconc_reader *goconc_tls_reader
    __attribute__((alias("gc_tls_reader")));

/* Written only when the epoch advances; alone on its lines. */
GOCONC_API struct goconc_gp_state goconc_gp __attribute__((aligned(GC_PAD))) = {
    EPOCH_ONE, 1
};

struct gc_registry gc_reg = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, NULL, 0 };

/* Fallback readers by epoch parity; padded, they are shared. */
static struct {
    atword n;
    char pad[GC_PAD - sizeof(atword)];
} fb_count[2] __attribute__((aligned(GC_PAD)));

static int use_membarrier;

/* ---------------------------------------------------------- membarrier */

/*
 * Whether readers may skip their fence: only where membarrier works
 * (core/sys.h), and never under ThreadSanitizer, which cannot see the
 * ordering an IPI gives.  At load and in a fork child (sys.h: the fork
 * question), when only one thread runs.
 */
static void reader_fence_setup(void)
{
#ifndef GOCONC_TSAN_
    use_membarrier = gc_membarrier_ok();
#else
    use_membarrier = 0;
#endif
    at_store(&goconc_gp.need_fence, !use_membarrier);
}

/* The advancer's half of the reader-side ordering. */
static void reader_barrier(void)
{
    if (use_membarrier && gc_membarrier() == 0)
        return;
    at_fence();
}

/* ------------------------------------------------------------ registry */

/* Insert r at the head of the registry (under gc_reg.lock). */
static void reg_push(struct gc_record *r)
{
    r->prev = NULL;
    r->next = gc_reg.head;
    if (gc_reg.head)
        gc_reg.head->prev = r;
    gc_reg.head = r;
    gc_reg.n++;
}

static void reg_link(struct gc_record *r)
{
    pthread_mutex_lock(&gc_reg.lock);
    reg_push(r);
    at_fetch_add(&gc_reg.gen, 1);
    pthread_mutex_unlock(&gc_reg.lock);
}

static void reg_unlink(struct gc_record *r)
{
    pthread_mutex_lock(&gc_reg.lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        gc_reg.head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    gc_reg.n--;
    at_fetch_add(&gc_reg.gen, 1);
    pthread_mutex_unlock(&gc_reg.lock);
}

static struct gc_record *record_new(int temp)
{
    struct gc_allocator_ref ref;
    void *raw = gc_alloc_ref(sizeof(struct gc_record) + GC_PAD, &ref);
    struct gc_record *r;

    if (raw == NULL)
        return NULL;
    /* Own lines: the counter is written by its owner alone. */
    r = (struct gc_record *)(((uintptr_t)raw + GC_PAD - 1) & ~(uintptr_t)(GC_PAD - 1));
    memset(r, 0, sizeof *r);
    r->raw = raw;
    r->ref = ref;
    r->temp = temp;
    gc_bag_init(&r->bag);
    reg_link(r);
    return r;
}

/*
 * Hand the bag to the orphans, unlink, free through its own allocator.
 * The hand-over comes first so a barrier always finds the entries, in
 * the registered bag or in the orphans.
 */
static void record_retire(struct gc_record *r)
{
    struct gc_allocator_ref ref = r->ref;
    gc_bag_hand_over(&r->bag, &gc_orphans);
    reg_unlink(r);
    gc_free_ref(&ref, r->raw);
}

/* Register the calling thread (gc_self_or_register's slow path): NULL
 * where it cannot have a record (exiting, inside a fallback section, out
 * of memory). */
struct gc_record *gc_thread_register(void)
{
    struct gc_record *r;

    /* Not while a fallback section is open: its unlock must find it. */
    if (gc_thread_tls.state != GC_TS_NEW || gc_thread_tls.fb_nest > 0)
        return NULL;
    /* Without the exit hook the record would never be unregistered. */
    if (!gc_thread_arm())
        return NULL;
    r = record_new(0);
    if (r == NULL)
        return NULL;
    gc_thread_tls.state = GC_TS_LIVE;
    gc_tls_reader = &r->reader;
    return r;
}

/*
 * The exit hook (core/thread.h: last, after the pool's).  At most one of
 * three states holds: a fallback section left open (no record), a
 * temporary record left open by a late destructor, or the registered
 * record.  Idempotent: a later destructor round finds nothing left.
 */
static void reclaim_thread_exit(struct gc_thread *t)
{
    struct gc_record *r = gc_self();

    if (t->fb_nest) {
        /* Exited inside a fallback section: stop counting it. */
        t->fb_nest = 0;
        at_fetch_sub(&fb_count[t->fb_parity].n, 1);
    }
    if (t->temp) {
        struct gc_record *temp = t->temp;
        t->temp = NULL;
        record_retire(temp);
    }
    if (r) {
        /* Unlinking first means a thread that exits inside a read
         * section stalls nobody. */
        gc_tls_reader = NULL;
        t->state = GC_TS_DEAD;
        GOCONC_PERTURB_POINT();
        record_retire(r);
    }
    if (t->fb_spare) {
        gc_chunk_free(t->fb_spare);
        t->fb_spare = NULL;
    }
}


/* ------------------------------------------------------- read sections */

static void fallback_lock(void)
{
    uintptr_t g, p;
    if (gc_thread_tls.fb_nest++ > 0)
        return;
    for (;;) {
        g = at_load(&goconc_gp.ctr);
        p = (g >> NEST_BITS) & 1;
        /* Full-barrier increment, then re-check: a reader counted under a
         * parity the advancer has already checked retries (SRCU-style). */
        at_fetch_add(&fb_count[p].n, 1);
        if (at_load(&goconc_gp.ctr) == g)
            break;
        at_fetch_sub(&fb_count[p].n, 1);
    }
    gc_thread_tls.fb_parity = p;
    /* Without a record, the exit hook is how an exit inside the section
     * is noticed. */
    (void)gc_thread_arm();
}

/* Temporary records take the fenced path: they are rare. */
static void record_lock(struct gc_record *r)
{
    uintptr_t c = at_load(&r->reader.ctr);
    if (c & NEST_MASK) {
        at_store_rel(&r->reader.ctr, c + 1);
        return;
    }
    at_xchg(&r->reader.ctr, at_load(&goconc_gp.ctr) + 1);
}

/* 1 when the outermost section of r closed. */
static int record_unlock(struct gc_record *r)
{
    uintptr_t c = at_load(&r->reader.ctr);
    if ((c & NEST_MASK) == 0)
        return 0;
    /* Release pairs with the advancer's acquire load of the counter. */
    at_store_rel(&r->reader.ctr, c - 1);
    return (c & NEST_MASK) == 1;
}

/* Kept out of line so the exported fast path needs no stack frame. */
__attribute__((noinline)) static void read_lock_slow(void)
{
    if (gc_thread_tls.fb_nest > 0) {
        fallback_lock();
        return;
    }
    if (gc_thread_tls.temp) {
        record_lock(gc_thread_tls.temp);
        return;
    }
    if (gc_thread_tls.state == GC_TS_NEW && gc_thread_register() != NULL) {
        goconc_read_lock_inline_();
        return;
    }
    if (gc_thread_tls.state == GC_TS_DEAD && (gc_thread_tls.temp = record_new(1)) != NULL) {
        /* Another destructor round retires it if the thread ends inside. */
        (void)gc_thread_arm();
        record_lock(gc_thread_tls.temp);
        return;
    }
    fallback_lock();
}

GOCONC_API void goconc_read_lock(void)
{
    if (GC_LIKELY(gc_self() != NULL))
        goconc_read_lock_inline_();
    else
        read_lock_slow();
}

__attribute__((noinline)) static void read_unlock_slow(void)
{
    struct gc_record *t;

    if (gc_thread_tls.fb_nest > 0) {
        if (--gc_thread_tls.fb_nest == 0)
            at_fetch_sub(&fb_count[gc_thread_tls.fb_parity].n, 1);
        return;
    }
    t = gc_thread_tls.temp;
    if (t && record_unlock(t)) {
        /* Temporary records live for one outermost section only. */
        gc_thread_tls.temp = NULL;
        record_retire(t);
    }
}

GOCONC_API void goconc_read_unlock(void)
{
    if (GC_LIKELY(gc_self() != NULL))
        goconc_read_unlock_inline_();
    else
        read_unlock_slow();
}

int gc_in_read_section(void)
{
    struct gc_record *r = gc_self();
    if (r)
        return (at_load(&r->reader.ctr) & NEST_MASK) != 0;
    return gc_thread_tls.fb_nest > 0 || gc_thread_tls.temp != NULL;
}

/* ---------------------------------------------------- epoch advancing */

/*
 * Move the epoch from g to g + 1 if every active reader is in g.  With
 * `wait`, block on the registry lock instead of giving up.
 */
int gc_try_advance(int wait)
{
    struct gc_record *r;
    uintptr_t g, c;
    int ok = 1;

    if (wait)
        pthread_mutex_lock(&gc_reg.lock);
    else if (pthread_mutex_trylock(&gc_reg.lock) != 0)
        return 0;
    g = at_load(&goconc_gp.ctr);
    reader_barrier();
    GOCONC_PERTURB_POINT();
    for (r = gc_reg.head; r && ok; r = r->next) {
        /* Acquire pairs with the reader's release stores of its counter:
         * whatever its earlier sections read happens before the free. */
        c = at_load_acq(&r->reader.ctr);
        if ((c & NEST_MASK) && (c & ~NEST_MASK) != g)
            ok = 0;
    }
    /* Acquire, as for a record: pairs with the fallback reader's
     * full-barrier decrement that closes its section. */
    if (ok && at_load_acq(&fb_count[((g >> NEST_BITS) + 1) & 1].n) != 0)
        ok = 0;
    if (ok)
        at_store_rel(&goconc_gp.ctr, g + EPOCH_ONE);
    pthread_mutex_unlock(&gc_reg.lock);
    return ok;
}

int gc_must_not_wait(void)
{
    return gc_in_read_section() || gc_thread_tls.lock_depth || gc_thread_tls.in_callback;
}

/* Wait until the epoch has moved two steps past the current one. */
void gc_wait_grace_period(void)
{
    uintptr_t target;
    unsigned round = 0;

    at_fence(); /* the caller's unpublishing stores come first */
    target = at_load(&goconc_gp.ctr) + 2 * EPOCH_ONE;
    while (gc_epoch_before(at_load_acq(&goconc_gp.ctr), target))
        if (!gc_try_advance(1))
            gc_backoff(&round);
}

GOCONC_API int goconc_synchronize(void)
{
    if (gc_must_not_wait())
        return GOCONC_EDEADLK;
    gc_wait_grace_period();
    return GOCONC_OK;
}

/* --------------------------------------------------- process events */

/*
 * The registry's place in the fork chain (core/thread.h: after the drain
 * lock and the allocator-switch lock, before the big-block lock): hold
 * the registry and the orphans so the child starts with consistent
 * state and can unlock them.
 */
static void fork_prepare(void)
{
    pthread_mutex_lock(&gc_reg.lock);
    gc_bag_lock(&gc_orphans);
}

static void fork_parent(void)
{
    gc_bag_unlock(&gc_orphans);
    pthread_mutex_unlock(&gc_reg.lock);
}

/* The registry is rebuilt with only this thread's own records. */
static void fork_child_registry(void)
{
    struct gc_record *me = gc_self(), *temp = gc_thread_tls.temp, *r, *next;

    for (r = gc_reg.head; r; r = next) {
        next = r->next;
        if (r == me || r == temp)
            continue;
        r->next = gc_reg.forked_away;
        gc_reg.forked_away = r;
    }
    gc_reg.head = NULL;
    gc_reg.n = 0;
    /* This thread's bag lock is free: a barrier takes it only under the
     * registry lock, which fork_prepare held. */
    if (me)
        reg_push(me);
    if (temp)
        reg_push(temp);
}

/*
 * Only the forking thread lives on in the child.  Other threads' records
 * are set aside (their destroys are not run: API.md), and every shared
 * counter is rebuilt from this thread's own state.
 */
static void fork_child(void)
{
    fork_child_registry();
    gc_bags_fork_child();
    at_store(&fb_count[0].n, 0);
    at_store(&fb_count[1].n, 0);
    if (gc_thread_tls.fb_nest)
        at_store(&fb_count[gc_thread_tls.fb_parity].n, 1);
    /* Only this thread runs, so switching the fence policy is safe; the
     * chain has re-run the membarrier setup (core/sys.h). */
    reader_fence_setup();
    fork_parent();
}

static const struct gc_fork_hooks registry_fork = { fork_prepare, fork_parent, fork_child };

__attribute__((constructor)) static void gc_reclaim_init(void)
{
    reader_fence_setup();
    gc_thread_on_exit(GC_EXIT_RECLAIM, reclaim_thread_exit);
    gc_thread_on_fork(GC_FORK_REGISTRY, &registry_fork);
}

/*
 * The exit hooks do not run for a thread that returns from main:
 * clean up the exiting thread's record here.  Destroys it still owes are
 * handed to the orphans and stay reachable; they are not run at exit.
 */
__attribute__((destructor)) static void gc_reclaim_fini(void)
{
    struct gc_record *r = gc_self();
    /* exit() from inside a read section: other threads run on until the
     * process ends and may use what this section protects (a pointer the
     * section lent them), so the record stays registered, its section
     * open, for good. */
    if (r && (at_load(&r->reader.ctr) & NEST_MASK) != 0)
        return;
    if (r)
        reclaim_thread_exit(&gc_thread_tls);
}
