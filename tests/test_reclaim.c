/* SPDX-License-Identifier: MIT */
/*
 * test_reclaim.c - read sections and deferred reclamation, against the
 * contract (API.md section 1, "Read sections and deferred reclamation").
 *
 * Each test runs in its own process (Check's fork mode).  Worker threads
 * never ck_assert: they record what they saw and main checks it.  Waits
 * that could hang on a bug are bounded (run_bounded), so a broken grace
 * period fails the test with a message instead of hitting the timeout.
 *
 * Sleeps here only give a bug time to show; no assertion depends on a
 * sleep being long enough for correct code.  The inline macros of
 * goconc/common.h are used everywhere except in exported_functions, which
 * calls (goconc_read_lock)() and friends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"


extern char **environ;

/* ------------------------------------------------------------- helpers */

static int ld_i(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void st_i(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static long ld_l(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* Wait (polling) until *flag is non-zero; 0 if it did not within secs. */
static int wait_flag(const int *flag, double secs)
{
    double end = tu_now() + secs;
    while (!ld_i(flag)) {
        if (tu_now() > end)
            return 0;
        tu_sleep_ms(1);
    }
    return 1;
}

/* Run fn(arg) on a thread; 1 if it finished within secs (then joined),
 * 0 if not (the thread is left behind; the test process ends anyway). */
struct bounded {
    void *(*fn)(void *);
    void *arg;
    int done;
};

static void *bounded_tramp(void *p)
{
    struct bounded *b = p;
    b->fn(b->arg);
    st_i(&b->done, 1);
    return NULL;
}

static int run_bounded(void *(*fn)(void *), void *arg, double secs)
{
    struct bounded *b = malloc(sizeof *b); /* leaked if the thread hangs */
    pthread_t t;
    b->fn = fn;
    b->arg = arg;
    b->done = 0;
    if (pthread_create(&t, NULL, bounded_tramp, b) != 0)
        return 0;
    if (!wait_flag(&b->done, secs)) {
        pthread_detach(t);
        return 0;
    }
    pthread_join(t, NULL);
    free(b);
    return 1;
}

static int sync_rc, barrier_rc;
static void *do_synchronize(void *p) { (void)p; sync_rc = goconc_synchronize(); return NULL; }
static void *do_barrier(void *p) { (void)p; barrier_rc = goconc_barrier(); return NULL; }

/* destroy: count calls on the long ctx. */
static void count_destroy(void *ctx, void *obj)
{
    (void)obj;
    __atomic_fetch_add((long *)ctx, 1, __ATOMIC_SEQ_CST);
}

static size_t stats_pending(void)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    return st.pending;
}

static size_t stats_threads(void)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    return st.threads;
}

/* ------------------------------------------------------------- nesting */

START_TEST(nesting_inline)
{
    /* Inside a section synchronize/barrier answer EDEADLK: that is how a
     * test sees the nesting depth from outside. */
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    goconc_read_lock();
    goconc_read_lock();
    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_EDEADLK);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    /* An unbalanced unlock is ignored: the depth does not go negative. */
    goconc_read_unlock();
    goconc_read_lock();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    /* Deep nesting. */
    {
        int i;
        for (i = 0; i < 10000; i++)
            goconc_read_lock();
        ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
        for (i = 0; i < 10000; i++)
            goconc_read_unlock();
        ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    }
}
END_TEST

/* A reader for synchronize_waits: enters (nested), reports, leaves in two
 * steps on command, setting `released` just before its outermost unlock. */
struct waiter_case {
    int exported;
    int inside, step1, step2, inner_left, released;
    int s_calling, s_returned, s_saw_released, s_rc;
};

static void *waits_reader(void *p)
{
    struct waiter_case *w = p;
    if (w->exported) {
        (goconc_read_lock)();
        (goconc_read_lock)();
    } else {
        goconc_read_lock();
        goconc_read_lock();
    }
    st_i(&w->inside, 1);
    while (!ld_i(&w->step1))
        tu_sleep_ms(1);
    if (w->exported)
        (goconc_read_unlock)();
    else
        goconc_read_unlock();
    st_i(&w->inner_left, 1);
    while (!ld_i(&w->step2))
        tu_sleep_ms(1);
    st_i(&w->released, 1);
    if (w->exported)
        (goconc_read_unlock)();
    else
        goconc_read_unlock();
    return NULL;
}

static void *waits_syncer(void *p)
{
    struct waiter_case *w = p;
    int rc;
    st_i(&w->s_calling, 1);
    rc = goconc_synchronize();
    /* synchronize returned: the reader's outermost unlock, which follows
     * its store of `released`, must have happened. */
    w->s_saw_released = ld_i(&w->released);
    w->s_rc = rc;
    st_i(&w->s_returned, 1);
    return NULL;
}

static void check_synchronize_waits(int exported)
{
    struct waiter_case w;
    pthread_t r, s;
    memset(&w, 0, sizeof w);
    w.exported = exported;
    ck_assert_int_eq(pthread_create(&r, NULL, waits_reader, &w), 0);
    ck_assert(wait_flag(&w.inside, 10));
    ck_assert_int_eq(pthread_create(&s, NULL, waits_syncer, &w), 0);
    ck_assert(wait_flag(&w.s_calling, 10));
    tu_sleep_ms(100);
    ck_assert_msg(!ld_i(&w.s_returned),
                  "synchronize returned while a reader was inside");
    st_i(&w.step1, 1);
    ck_assert(wait_flag(&w.inner_left, 10));
    tu_sleep_ms(50);
    ck_assert_msg(!ld_i(&w.s_returned),
                  "synchronize returned when the reader left only its "
                  "inner section");
    st_i(&w.step2, 1);
    ck_assert_msg(wait_flag(&w.s_returned, 10),
                  "synchronize did not return after the reader left");
    pthread_join(r, NULL);
    pthread_join(s, NULL);
    ck_assert_int_eq(w.s_rc, GOCONC_OK);
    ck_assert_msg(w.s_saw_released,
                  "synchronize returned before the reader's unlock");
}

START_TEST(synchronize_waits_for_reader)
{
    check_synchronize_waits(0);
}
END_TEST

/*
 * The exported functions (what FFI callers get), alone and mixed with the
 * inline path: both work on the same per-thread depth.
 */
START_TEST(exported_functions)
{
    long destroyed = 0;
    int obj;
    (goconc_read_lock)();
    (goconc_read_lock)();
    (goconc_read_unlock)();
    ck_assert_int_eq((goconc_synchronize)(), GOCONC_EDEADLK);
    (goconc_read_unlock)();
    ck_assert_int_eq((goconc_synchronize)(), GOCONC_OK);
    /* Mixed. */
    (goconc_read_lock)();
    goconc_read_lock();
    (goconc_read_unlock)();
    ck_assert_int_eq(goconc_barrier(), GOCONC_EDEADLK);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    goconc_read_lock();
    (goconc_read_lock)();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    (goconc_read_unlock)();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    /* Unbalanced exported unlock ignored. */
    (goconc_read_unlock)();
    (goconc_read_lock)();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    (goconc_read_unlock)();
    ck_assert_int_eq((goconc_defer_free)(&obj, count_destroy, &destroyed),
                     GOCONC_OK);
    ck_assert_int_eq((goconc_barrier)(), GOCONC_OK);
    ck_assert_int_eq(destroyed, 1);
    /* A reader on the exported path holds synchronize back. */
    check_synchronize_waits(1);
}
END_TEST

/*
 * The inline fast path reads goconc_gp from the executable.  Data symbols
 * of a shared library referenced by an executable are copy-relocated: the
 * library must update that very copy (a hidden alias once made it write
 * its own, so inline readers saw a frozen epoch and always fenced).
 */
START_TEST(inline_layout_sees_the_library)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    uintptr_t before, after;

    goconc_read_lock();
    goconc_read_unlock();
    before = __atomic_load_n(&goconc_gp.ctr, __ATOMIC_ACQUIRE);
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    after = __atomic_load_n(&goconc_gp.ctr, __ATOMIC_ACQUIRE);
    ck_assert_msg((after >> GOCONC_READER_NEST_BITS) >=
                      (before >> GOCONC_READER_NEST_BITS) + 2,
                  "goconc_gp as the executable sees it did not advance "
                  "across goconc_synchronize (%lx -> %lx)",
                  (unsigned long)before, (unsigned long)after);
    ck_assert_uint_eq(after & GOCONC_READER_NEST_MASK, 0);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    ck_assert_uint_eq(st.epoch + 1, after >> GOCONC_READER_NEST_BITS);
    /* The reader counter the executable writes is the library's. */
    goconc_read_lock();
    ck_assert_ptr_nonnull(goconc_tls_reader);
    ck_assert_uint_eq(goconc_tls_reader->ctr & GOCONC_READER_NEST_MASK, 1);
    ck_assert_uint_eq(goconc_tls_reader->ctr & ~GOCONC_READER_NEST_MASK,
                      after & ~GOCONC_READER_NEST_MASK);
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    goconc_read_unlock();
}
END_TEST

/* ----------------------------------------------------------- defer_free */

START_TEST(defer_free_null_destroy)
{
    int obj;
    size_t before = stats_pending();
    ck_assert_int_eq(goconc_defer_free(&obj, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_defer_free(NULL, NULL, &obj), GOCONC_EINVAL);
    ck_assert_uint_eq(stats_pending(), before);
    /* Also from inside a read section. */
    goconc_read_lock();
    ck_assert_int_eq(goconc_defer_free(&obj, NULL, &obj), GOCONC_EINVAL);
    goconc_read_unlock();
    ck_assert_uint_eq(stats_pending(), before);
}
END_TEST

struct seen {
    void *obj, *ctx;
    long calls;
};
static struct seen seen[3];

static void record_destroy(void *ctx, void *obj)
{
    struct seen *s = ctx;
    s->obj = obj;
    s->ctx = ctx;
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_SEQ_CST);
}

START_TEST(destroy_runs_once_after_barrier)
{
    static int objs[3];
    long spare = 0;
    struct tu_holder h;
    pthread_t t;
    int i, bad = 0;

    /* With a reader open across the defer, nothing runs until it left,
     * however often the library polls. */
    tu_holder_start(&h, &t, 1);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(goconc_defer_free(&objs[i], record_destroy, &seen[i]),
                         GOCONC_OK);
    for (i = 0; i < 5000; i++)
        bad += goconc_defer_free(&spare, count_destroy, &spare) != GOCONC_OK;
    ck_assert_int_eq(bad, 0);
    for (i = 0; i < 3; i++)
        ck_assert_msg(ld_l(&seen[i].calls) == 0,
                      "destroy %d ran while a reader open at the defer "
                      "was still inside", i);
    ck_assert_int_eq(ld_l(&spare), 0);
    ck_assert_uint_ge(stats_pending(), 5003);
    tu_holder_release(&h, t);
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(seen[i].calls, 1);
        ck_assert_ptr_eq(seen[i].obj, &objs[i]);
        ck_assert_ptr_eq(seen[i].ctx, &seen[i]);
    }
    ck_assert_int_eq(spare, 5000);
    ck_assert_uint_eq(stats_pending(), 0);
    /* Exactly once: more grace periods and barriers run nothing again. */
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    }
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(seen[i].calls, 1);
    ck_assert_int_eq(spare, 5000);
}
END_TEST

/* A thread that defers and then never calls the library again: a barrier
 * on another thread must still get its destroy run. */
struct idle_deferrer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int deferred, leave, rc;
    long destroyed;
};

static void *defer_then_idle(void *p)
{
    struct idle_deferrer *d = p;
    static int obj;
    d->rc = goconc_defer_free(&obj, count_destroy, &d->destroyed);
    pthread_mutex_lock(&d->mu);
    d->deferred = 1;
    pthread_cond_broadcast(&d->cv);
    while (!d->leave)
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

START_TEST(barrier_runs_other_threads_destroys)
{
    struct idle_deferrer d;
    pthread_t t;
    memset(&d, 0, sizeof d);
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    ck_assert_int_eq(pthread_create(&t, NULL, defer_then_idle, &d), 0);
    pthread_mutex_lock(&d.mu);
    while (!d.deferred)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    ck_assert_int_eq(d.rc, GOCONC_OK);
    ck_assert_msg(run_bounded(do_barrier, NULL, 20),
                  "barrier hangs on a destroy deferred by an idle thread");
    ck_assert_int_eq(barrier_rc, GOCONC_OK);
    ck_assert_int_eq(ld_l(&d.destroyed), 1);
    pthread_mutex_lock(&d.mu);
    d.leave = 1;
    pthread_cond_broadcast(&d.cv);
    pthread_mutex_unlock(&d.mu);
    pthread_join(t, NULL);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(d.destroyed, 1);
}
END_TEST

/* -------------------------------------------------------------- EDEADLK */

START_TEST(edeadlk_in_read_section)
{
    struct tu_holder h;
    pthread_t t;
    long destroyed = 0;
    int obj;
    double t0;
    /* Another reader is inside too, and something is pending: a waiting
     * synchronize/barrier would hang, an EDEADLK one returns at once. */
    tu_holder_start(&h, &t, 1);
    ck_assert_int_eq(goconc_defer_free(&obj, count_destroy, &destroyed),
                     GOCONC_OK);
    goconc_read_lock();
    t0 = tu_now();
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_EDEADLK);
    ck_assert_msg(tu_now() - t0 < 5, "EDEADLK was not at once");
    goconc_read_unlock();
    /* Doing nothing: the deferred object is still pending. */
    ck_assert_int_eq(ld_l(&destroyed), 0);
    tu_holder_release(&h, t);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

/* Statuses seen by calls made from inside a deferred callback. */
static int cb_sync_rc = 99, cb_barrier_rc = 99, cb_defer_rc = 99;
static int cb_inner_sync_rc = 99;
static long cb_calls, cb_nested_destroyed;

static void calling_destroy(void *ctx, void *obj)
{
    static int nested_obj;
    (void)ctx;
    (void)obj;
    __atomic_store_n(&cb_sync_rc, goconc_synchronize(), __ATOMIC_SEQ_CST);
    __atomic_store_n(&cb_barrier_rc, goconc_barrier(), __ATOMIC_SEQ_CST);
    /* Read sections and new defers are allowed in a callback. */
    goconc_read_lock();
    __atomic_store_n(&cb_inner_sync_rc, goconc_synchronize(), __ATOMIC_SEQ_CST);
    goconc_read_unlock();
    __atomic_store_n(&cb_defer_rc,
                     goconc_defer_free(&nested_obj, count_destroy,
                                       &cb_nested_destroyed),
                     __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&cb_calls, 1, __ATOMIC_SEQ_CST);
}

START_TEST(edeadlk_in_deferred_callback)
{
    static int obj;
    ck_assert_int_eq(goconc_defer_free(&obj, calling_destroy, NULL), GOCONC_OK);
    ck_assert_msg(run_bounded(do_barrier, NULL, 20),
                  "barrier hung: a callback's synchronize/barrier waited");
    ck_assert_int_eq(barrier_rc, GOCONC_OK);
    ck_assert_int_eq(ld_l(&cb_calls), 1);
    ck_assert_int_eq(cb_sync_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(cb_barrier_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(cb_inner_sync_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(cb_defer_rc, GOCONC_OK);
    /* The defer made inside the callback runs by a later barrier. */
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(cb_nested_destroyed, 1);
    ck_assert_int_eq(cb_calls, 1);
}
END_TEST

static int once_sync_rc = 99, once_barrier_rc = 99, once_defer_rc = 99;
static long once_destroyed;

static void once_calls_sync(void *ctx)
{
    static int obj;
    (void)ctx;
    once_sync_rc = goconc_synchronize();
    once_barrier_rc = goconc_barrier();
    once_defer_rc = goconc_defer_free(&obj, count_destroy, &once_destroyed);
}

static int try_calls_sync(void *ctx)
{
    int *rcs = ctx;
    rcs[0] = goconc_synchronize();
    rcs[1] = goconc_barrier();
    return rcs[2]; /* fail the first time, to check it works again */
}

START_TEST(edeadlk_in_once_function)
{
    goconc_once o = GOCONC_ONCE_INIT, o2 = GOCONC_ONCE_INIT;
    int rcs[3] = { 99, 99, 5 };
    ck_assert_int_eq(goconc_once_do(&o, once_calls_sync, NULL), GOCONC_OK);
    ck_assert_int_eq(once_sync_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(once_barrier_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(once_defer_rc, GOCONC_OK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(once_destroyed, 1);
    ck_assert_int_eq(goconc_once_try(&o2, try_calls_sync, rcs), 5);
    ck_assert_int_eq(rcs[0], GOCONC_EDEADLK);
    ck_assert_int_eq(rcs[1], GOCONC_EDEADLK);
    /* After the once function returned, this thread may wait again. */
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    rcs[0] = rcs[1] = 99;
    rcs[2] = 0;
    ck_assert_int_eq(goconc_once_try(&o2, try_calls_sync, rcs), GOCONC_OK);
    ck_assert_int_eq(rcs[0], GOCONC_EDEADLK);
    ck_assert_int_eq(rcs[1], GOCONC_EDEADLK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
}
END_TEST

/* ----------------------------------------------------------- progress */

static int churn_stop;
static long churn_sections;

static void *churn_reader(void *p)
{
    (void)p;
    while (!ld_i(&churn_stop)) {
        goconc_read_lock();
        goconc_read_lock();
        goconc_read_unlock();
        goconc_read_unlock();
        __atomic_fetch_add(&churn_sections, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *many_synchronize(void *p)
{
    int i, *bad = p;
    for (i = 0; i < 200; i++)
        if (goconc_synchronize() != GOCONC_OK)
            (*bad)++;
    return NULL;
}

START_TEST(synchronize_not_starved_by_busy_readers)
{
    pthread_t r[2];
    int i, bad = 0;
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&r[i], NULL, churn_reader, NULL), 0);
    while (ld_l(&churn_sections) < 1000)
        tu_sleep_ms(1);
    ck_assert_msg(run_bounded(many_synchronize, &bad, 30),
                  "200 synchronize calls did not finish in 30 s beside "
                  "readers entering and leaving short sections");
    st_i(&churn_stop, 1);
    for (i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    ck_assert_int_eq(bad, 0);
}
END_TEST

/* ---------------------------------------------------------- thread exit */

struct exit_inside {
    int rc;
    long destroyed;
};

static void *exit_inside_section(void *p)
{
    struct exit_inside *e = p;
    static int obj;
    goconc_read_lock();
    goconc_read_lock();
    e->rc = goconc_defer_free(&obj, count_destroy, &e->destroyed);
    return NULL; /* still two sections deep */
}

START_TEST(thread_exit_inside_section)
{
    struct exit_inside e = { 99, 0 };
    pthread_t t;
    size_t threads0;
    long live0;
    int i;

    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    threads0 = stats_threads();
    live0 = tu_alloc_live();
    for (i = 0; i < 3; i++) {
        e.rc = 99;
        ck_assert_int_eq(pthread_create(&t, NULL, exit_inside_section, &e), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(e.rc, GOCONC_OK);
        ck_assert_msg(run_bounded(do_synchronize, NULL, 20),
                      "synchronize stalled by a thread that exited inside a "
                      "read section");
        ck_assert_int_eq(sync_rc, GOCONC_OK);
        ck_assert_msg(run_bounded(do_barrier, NULL, 20),
                      "barrier stalled by a thread that exited inside a "
                      "read section");
        ck_assert_int_eq(barrier_rc, GOCONC_OK);
        ck_assert_int_eq(ld_l(&e.destroyed), i + 1);
    }
    /* Its record was unregistered and freed. */
    ck_assert_uint_eq(stats_threads(), threads0);
    ck_assert_int_eq(tu_alloc_live(), live0);
}
END_TEST

/*
 * Another library's thread-exit destructor calling in after goconc's own
 * ran: keys created after the library's first use, so glibc runs their
 * destructors after goconc's in each round; k_again re-sets itself once to
 * run again in the next round.
 */
static pthread_key_t k_once, k_again;
struct dtor_result {
    int ran;
    int sync_inside, sync_outside, defer_rc, barrier_rc;
    long destroyed;
};
static struct dtor_result r_once, r_again, r_fresh;

static void dtor_calls_in(struct dtor_result *r, int idx)
{
    static int objs[3];
    goconc_read_lock();
    goconc_read_lock();
    goconc_read_unlock();
    r->sync_inside = goconc_synchronize(); /* still inside: EDEADLK */
    goconc_read_unlock();
    r->defer_rc = goconc_defer_free(&objs[idx], count_destroy,
                                    &r->destroyed);
    r->sync_outside = goconc_synchronize();
    r->ran++;
}

static void dtor_once(void *v)
{
    (void)v;
    dtor_calls_in(&r_once, 0);
}

static void dtor_again(void *v)
{
    if ((uintptr_t)v == 1) {
        /* Round 1: ask for another round, call in then. */
        pthread_setspecific(k_again, (void *)2);
        return;
    }
    dtor_calls_in(&r_again, 1);
}

static void *uses_library_then_foreign_keys(void *p)
{
    (void)p;
    goconc_read_lock();
    goconc_read_unlock();
    pthread_setspecific(k_once, (void *)1);
    pthread_setspecific(k_again, (void *)1);
    return NULL;
}

static pthread_key_t k_fresh;
static void dtor_fresh(void *v)
{
    (void)v;
    dtor_calls_in(&r_fresh, 2);
}

static void *foreign_key_only(void *p)
{
    (void)p;
    pthread_setspecific(k_fresh, (void *)1);
    return NULL;
}

START_TEST(foreign_tls_destructor_calls_in)
{
    pthread_t t;
    size_t threads0;
    long live0;

    /* The library's first use in this process comes before our keys. */
    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(pthread_key_create(&k_once, dtor_once), 0);
    ck_assert_int_eq(pthread_key_create(&k_again, dtor_again), 0);
    ck_assert_int_eq(pthread_key_create(&k_fresh, dtor_fresh), 0);
    threads0 = stats_threads();
    live0 = tu_alloc_live();

    ck_assert_int_eq(pthread_create(&t, NULL, uses_library_then_foreign_keys,
                                    NULL), 0);
    pthread_join(t, NULL);
    /* A thread whose first use of the library is in a destructor. */
    ck_assert_int_eq(pthread_create(&t, NULL, foreign_key_only, NULL), 0);
    pthread_join(t, NULL);

    ck_assert_msg(run_bounded(do_barrier, NULL, 20), "barrier hung");
    ck_assert_int_eq(barrier_rc, GOCONC_OK);
    ck_assert_int_eq(r_once.ran, 1);
    ck_assert_int_eq(r_again.ran, 1);
    ck_assert_int_eq(r_fresh.ran, 1);
    ck_assert_int_eq(r_once.sync_inside, GOCONC_EDEADLK);
    ck_assert_int_eq(r_again.sync_inside, GOCONC_EDEADLK);
    ck_assert_int_eq(r_fresh.sync_inside, GOCONC_EDEADLK);
    ck_assert_int_eq(r_once.sync_outside, GOCONC_OK);
    ck_assert_int_eq(r_again.sync_outside, GOCONC_OK);
    ck_assert_int_eq(r_fresh.sync_outside, GOCONC_OK);
    ck_assert_int_eq(r_once.defer_rc, GOCONC_OK);
    ck_assert_int_eq(r_again.defer_rc, GOCONC_OK);
    ck_assert_int_eq(r_fresh.defer_rc, GOCONC_OK);
    ck_assert_int_eq(ld_l(&r_once.destroyed), 1);
    ck_assert_int_eq(ld_l(&r_again.destroyed), 1);
    ck_assert_int_eq(ld_l(&r_fresh.destroyed), 1);
    /* No record left registered or leaked (temporary records included). */
    ck_assert_uint_eq(stats_threads(), threads0);
    ck_assert_int_eq(tu_alloc_live(), live0);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(r_once.destroyed + r_again.destroyed + r_fresh.destroyed, 3);
}
END_TEST

/* ------------------------------------------------------------------ fork */

/* Child exit-status bits. */
enum {
    F_SECTION = 1, F_DEFER = 2, F_SYNC = 4, F_BARRIER = 8, F_ONCE = 16,
    F_FOREIGN_RAN = 32, F_THREAD = 64, F_STATS = 128
};

static long child_destroyed;
static int child_once_runs;
static void child_once_fn(void *ctx) { (void)ctx; child_once_runs++; }

static void *child_thread(void *p)
{
    static int obj;
    int *bad = p;
    int i;
    for (i = 0; i < 1000; i++) {
        goconc_read_lock();
        goconc_read_unlock();
    }
    if (goconc_defer_free(&obj, count_destroy, &child_destroyed) != GOCONC_OK)
        *bad = 1;
    if (goconc_synchronize() != GOCONC_OK)
        *bad = 1;
    return NULL;
}

/* What the child checks, at once after fork(); returns the bits failed. */
static int child_checks(int may_start_threads)
{
    static int obj;
    goconc_once o = GOCONC_ONCE_INIT;
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    int bad = 0, i;

    /* A hang kills the child, and only the child: the parent sees the
     * signal.  (Check's own SIGALRM handler, inherited through fork,
     * would kill the whole test's process group.) */
    signal(SIGALRM, SIG_DFL);
    alarm(20);
    goconc_read_lock();
    goconc_read_lock();
    goconc_read_unlock();
    if (goconc_synchronize() != GOCONC_EDEADLK)
        bad |= F_SECTION;
    goconc_read_unlock();
    if (goconc_defer_free(&obj, count_destroy, &child_destroyed) != GOCONC_OK)
        bad |= F_DEFER;
    if (goconc_synchronize() != GOCONC_OK)
        bad |= F_SYNC;
    if (goconc_barrier() != GOCONC_OK)
        bad |= F_BARRIER;
    if (ld_l(&child_destroyed) != 1)
        bad |= F_DEFER;
    if (goconc_once_do(&o, child_once_fn, NULL) != GOCONC_OK ||
        goconc_once_do(&o, child_once_fn, NULL) != GOCONC_OK ||
        child_once_runs != 1 || !goconc_once_done(&o))
        bad |= F_ONCE;
    if (may_start_threads) {
        pthread_t t[2];
        int tbad = 0;
        for (i = 0; i < 2; i++)
            if (pthread_create(&t[i], NULL, child_thread, &tbad) != 0)
                tbad = 1;
        for (i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        if (tbad)
            bad |= F_THREAD;
        if (goconc_barrier() != GOCONC_OK || ld_l(&child_destroyed) != 3)
            bad |= F_THREAD;
    }
    if (goconc_reclaim_stats_get(&st) != GOCONC_OK || st.pending != 0)
        bad |= F_STATS;
    return bad;
}

static void expect_child_ok(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "fork child killed by signal %d%s",
                  WTERMSIG(status),
                  WTERMSIG(status) == SIGALRM ? " (hung)" : "");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "fork child failed checks, bits 0x%x", WEXITSTATUS(status));
}

START_TEST(fork_child_uses_library_at_once)
{
    struct tu_holder h;
    struct idle_deferrer d;
    struct exit_inside ex = { 99, 0 };
    pthread_t th, td, tx;
    pid_t pid;
    int may_threads = 1;

#ifdef TEST_TSAN
    may_threads = 0; /* TSan: no new threads after a multi-threaded fork */
#endif
    /* Parent: one thread stuck inside a read section, another with a
     * destroy pending (blocked behind that reader). */
    tu_holder_start(&h, &th, 2);
    memset(&d, 0, sizeof d);
    pthread_mutex_init(&d.mu, NULL);
    pthread_cond_init(&d.cv, NULL);
    ck_assert_int_eq(pthread_create(&td, NULL, defer_then_idle, &d), 0);
    pthread_mutex_lock(&d.mu);
    while (!d.deferred)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    ck_assert_int_eq(d.rc, GOCONC_OK);
    /* And a thread that deferred and exited: its destroy is pending (the
     * holder is still inside), owed by the parent. */
    ck_assert_int_eq(pthread_create(&tx, NULL, exit_inside_section, &ex), 0);
    pthread_join(tx, NULL);
    ck_assert_int_eq(ex.rc, GOCONC_OK);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int bad = child_checks(may_threads);
        /* The other threads' destroys belong to the parent. */
        if (ld_l(&d.destroyed) != 0 || ld_l(&ex.destroyed) != 0)
            bad |= F_FOREIGN_RAN;
        _exit(bad);
    }
    expect_child_ok(pid);
    /* The parent is unaffected: its reader still holds the destroys. */
    ck_assert_int_eq(ld_l(&d.destroyed), 0);
    ck_assert_int_eq(ld_l(&ex.destroyed), 0);
    tu_holder_release(&h, th);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(d.destroyed, 1);
    ck_assert_int_eq(ex.destroyed, 1);
    pthread_mutex_lock(&d.mu);
    d.leave = 1;
    pthread_cond_broadcast(&d.cv);
    pthread_mutex_unlock(&d.mu);
    pthread_join(td, NULL);
}
END_TEST

/* Fork while other threads are in the middle of synchronize, barrier,
 * defer_free and registration: the child must find no lock held. */
static int busy_stop;
static long busy_destroyed;

/*
 * Under AddressSanitizer and ThreadSanitizer the parent's threads do not
 * allocate: neither runtime's allocator is fork-safe (a child can block
 * for ever in malloc on a lock that a parent thread held at the fork:
 * test_lifecycle.c has the TSan case), while glibc's malloc is.  The
 * child still allocates (defer_free, a new once), and the parent's
 * threads still run synchronize, barrier and read sections across forks.
 */
#if defined(TEST_ASAN) || defined(TEST_TSAN)
#define BUSY_ALLOCATES 0
#else
#define BUSY_ALLOCATES 1
#endif

static void *busy_worker(void *p)
{
    static int obj;
    long i = 0;
    int kind = (int)(intptr_t)p;
    while (!ld_i(&busy_stop)) {
        goconc_read_lock();
        goconc_read_unlock();
        if (BUSY_ALLOCATES &&
            goconc_defer_free(&obj, count_destroy, &busy_destroyed) != GOCONC_OK)
            break;
        if (kind == 0 && i % 8 == 0)
            tu_discard(goconc_synchronize());
        if (kind == 1 && i % 64 == 0)
            tu_discard(goconc_barrier());
        i++;
    }
    return NULL;
}

static void *short_lived(void *p)
{
    goconc_read_lock();
    goconc_read_unlock();
    return p;
}

static void *thread_churner(void *p)
{
    (void)p;
    while (!ld_i(&busy_stop)) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_lived, NULL) == 0)
            pthread_join(t, NULL);
    }
    return NULL;
}

START_TEST(fork_during_activity)
{
    pthread_t w[3];
    int i, forks = 20;
    ck_assert_int_eq(pthread_create(&w[0], NULL, busy_worker, (void *)0), 0);
    ck_assert_int_eq(pthread_create(&w[1], NULL, busy_worker, (void *)1), 0);
    if (BUSY_ALLOCATES)
        ck_assert_int_eq(pthread_create(&w[2], NULL, thread_churner, NULL), 0);
    for (i = 0; i < forks; i++) {
        pid_t pid;
        tu_sleep_ms(5);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            int bad;
            busy_destroyed = 0;
            /* child_checks expects its own count; busy's destroys belong
             * to the parent's threads and must not run here. */
            bad = child_checks(0);
            if (ld_l(&busy_destroyed) != 0)
                bad |= F_FOREIGN_RAN;
            _exit(bad);
        }
        expect_child_ok(pid);
    }
    st_i(&busy_stop, 1);
    for (i = 0; i < 2 + BUSY_ALLOCATES; i++)
        pthread_join(w[i], NULL);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_uint_eq(stats_pending(), 0);
}
END_TEST

/* ------------------------------------------------------- bounded memory */

#define DEFER_LOOP 1000000L
/* "Small": doc/reclaim.md promises about 3 x 64 entries per retiring
 * thread while no one sits in a read section; 1024 leaves room for the
 * orphans and for a poll that lost a race, and is a thousandth of what
 * 1M defers would leave behind without reclamation. */
#define PENDING_BOUND 1024

static long bounded_destroyed;

/* No ck_assert in the loop: each passing one writes to Check's pipe. */
static size_t defer_loop(long n)
{
    static char obj;
    size_t maxp = 0;
    long i, bad = 0;
    for (i = 0; i < n; i++) {
        if (goconc_defer_free(&obj, count_destroy, &bounded_destroyed) !=
            GOCONC_OK)
            bad++;
        if ((i & 1023) == 0) {
            goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
            if (goconc_reclaim_stats_get(&st) != GOCONC_OK)
                bad++;
            if (st.pending > maxp)
                maxp = st.pending;
        }
    }
    ck_assert_int_eq(bad, 0);
    return maxp;
}

START_TEST(unreclaimed_memory_bounded)
{
    struct tu_holder idle;
    pthread_t ti, te;
    struct exit_inside e = { 99, 0 };
    size_t maxp;

    /* Phase 1: only this thread. */
    maxp = defer_loop(DEFER_LOOP / 2);
    fprintf(stderr, "bounded: max pending %zu (alone)\n", maxp);
    ck_assert_msg(maxp < PENDING_BOUND, "pending reached %zu", maxp);
    /* Phase 2: another registered thread that is idle outside a read
     * section (blocked in a condvar after leaving one) and one that exited
     * inside a section: neither may hold reclamation back. */
    tu_holder_start(&idle, &ti, 0);
    ck_assert_int_eq(pthread_create(&te, NULL, exit_inside_section, &e), 0);
    pthread_join(te, NULL);
    maxp = defer_loop(DEFER_LOOP / 2);
    fprintf(stderr, "bounded: max pending %zu (idle + exited threads)\n", maxp);
    ck_assert_msg(maxp < PENDING_BOUND, "pending reached %zu", maxp);
    tu_holder_release(&idle, ti);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(bounded_destroyed, DEFER_LOOP);
    ck_assert_int_eq(e.destroyed, 1);
}
END_TEST

/*
 * A reader stalled in its section holds the epoch still; retires must then
 * cost the same whatever is pending (memory grows, work does not).  The
 * bag used to be walked whole every 64 retires: at 200k pending that is
 * ~25 times the cost at 2k (and each write of a map retires).  CPU time of this thread alone, best of
 * three, with a 6x margin for noise on a loaded machine.
 */
static void nop_destroy(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
}

static double retire_cost(size_t n)
{
    struct timespec a, b;
    size_t i;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(goconc_defer_free(&a, nop_destroy, NULL), GOCONC_OK);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

static double best_of_three(size_t n)
{
    double best = 1e9, c;
    int i;
    for (i = 0; i < 3; i++)
        if ((c = retire_cost(n)) < best)
            best = c;
    return best;
}

START_TEST(stalled_reader_bounds_retire_work)
{
    struct tu_holder h;
    pthread_t t;
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    double small, large;

    tu_holder_start(&h, &t, 1);
    retire_cost(2000);
    small = best_of_three(4096);
    retire_cost(500000);
    large = best_of_three(4096);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    fprintf(stderr, "stalled reader: %.0f ns/retire at ~2k pending, %.0f at %zu\n",
            small / 4096 * 1e9, large / 4096 * 1e9, st.pending);
    ck_assert_uint_ge(st.pending, 500000); /* the reader did hold it all */
    ck_assert_msg(large < 6 * small + 0.002, "retire work grows with pending: %.3g s vs %.3g s",
                  large, small);
    tu_holder_release(&h, t);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    ck_assert_uint_eq(st.pending, 0);
}
END_TEST

/*
 * goconc_barrier runs every destroy deferred before it, also one whose
 * thread is exiting meanwhile: the exit hands its bag to the orphans
 * before unlinking its record, under both bags' locks, so a barrier finds
 * the entry in one place or the other.  Races the two many times, four
 * exiting threads a round; the window was short, so this finds the old
 * bug only now and then (the torture command runs it far longer).
 */
struct exit_race {
    long destroyed;
    int deferred;
};

static void *defer_and_exit(void *p)
{
    struct exit_race *e = p;
    static int obj;
    if (goconc_defer_free(&obj, count_destroy, &e->destroyed) == GOCONC_OK)
        __atomic_store_n(&e->deferred, 1, __ATOMIC_RELEASE);
    else
        __atomic_store_n(&e->deferred, -1, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(barrier_races_exiting_thread)
{
    enum { PER_ROUND = 4 };
    int i, j, missed = 0, rounds = 1500;
    for (i = 0; i < rounds; i++) {
        struct exit_race e[PER_ROUND];
        pthread_t t[PER_ROUND];
        memset(e, 0, sizeof e);
        for (j = 0; j < PER_ROUND; j++)
            ck_assert_int_eq(pthread_create(&t[j], NULL, defer_and_exit, &e[j]), 0);
        for (j = 0; j < PER_ROUND; j++) {
            int d;
            while ((d = __atomic_load_n(&e[j].deferred, __ATOMIC_ACQUIRE)) == 0)
                sched_yield();
            ck_assert_int_eq(d, 1);
        }
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        for (j = 0; j < PER_ROUND; j++)
            if (__atomic_load_n(&e[j].destroyed, __ATOMIC_SEQ_CST) != 1)
                missed++;
        for (j = 0; j < PER_ROUND; j++)
            pthread_join(t[j], NULL);
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        for (j = 0; j < PER_ROUND; j++)
            ck_assert_int_eq(__atomic_load_n(&e[j].destroyed, __ATOMIC_SEQ_CST), 1);
    }
    ck_assert_msg(missed == 0, "barrier returned before %d of %d destroys", missed,
                  rounds * PER_ROUND);
}
END_TEST

/* -------------------------------------------------- allocation failures */

struct sweep_thread {
    int *obj;
    int rc;
    long destroyed;
};

static void free_destroy(void *ctx, void *obj)
{
    __atomic_fetch_add((long *)ctx, 1, __ATOMIC_SEQ_CST);
    free(obj);
}

static void *sweep_first_call(void *p)
{
    struct sweep_thread *s = p;
    s->rc = goconc_defer_free(s->obj, free_destroy, &s->destroyed);
    return NULL;
}

START_TEST(defer_free_allocation_failure_sweep)
{
    long live0, n;
    int succeeded = 0;

    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    live0 = tu_alloc_live();
    /* A new thread's first call: registration + its first bag.  The
     * thread also exits with allocations still failing. */
    for (n = 0; n < 200 && !succeeded; n++) {
        struct sweep_thread s = { malloc(sizeof(int)), 99, 0 };
        pthread_t t;
        *s.obj = 42;
        tu_alloc_fail_after(n);
        ck_assert_int_eq(pthread_create(&t, NULL, sweep_first_call, &s), 0);
        pthread_join(t, NULL);
        tu_alloc_fail_after(-1);
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        if (s.rc == GOCONC_ENOMEM) {
            ck_assert_msg(ld_l(&s.destroyed) == 0,
                          "n=%ld: ENOMEM but destroy ran", n);
            ck_assert_int_eq(*s.obj, 42); /* still ours, intact */
            free(s.obj);
        } else {
            ck_assert_msg(s.rc == GOCONC_OK, "n=%ld: rc %d", n, s.rc);
            ck_assert_msg(ld_l(&s.destroyed) == 1,
                          "n=%ld: OK but destroy ran %ld times", n,
                          ld_l(&s.destroyed));
            succeeded = 1;
        }
        ck_assert_msg(tu_alloc_live() == live0,
                      "n=%ld: %ld allocation(s) leaked", n,
                      tu_alloc_live() - live0);
    }
    ck_assert_msg(succeeded, "defer_free never succeeded in 200 steps");
    fprintf(stderr, "sweep: first call succeeded at n=%ld\n", n - 1);
}
END_TEST

/* On a registered thread: failures at bag boundaries, many defers. */
#define SWEEP_DEFERS 3000
struct bag_sweep {
    long fail_at;
    int rc[SWEEP_DEFERS];
    long destroyed[SWEEP_DEFERS];
    int n_ok, n_nomem;
};

static void *sweep_many(void *p)
{
    struct bag_sweep *b = p;
    int i;
    goconc_read_lock();      /* registered before failures start */
    goconc_read_unlock();
    tu_alloc_fail_after(b->fail_at);
    for (i = 0; i < SWEEP_DEFERS; i++) {
        b->rc[i] = goconc_defer_free(&b->rc[i], count_destroy,
                                     &b->destroyed[i]);
        if (b->rc[i] == GOCONC_OK)
            b->n_ok++;
        else if (b->rc[i] == GOCONC_ENOMEM)
            b->n_nomem++;
    }
    return NULL; /* exits with allocations failing */
}

START_TEST(defer_free_failures_at_bag_boundaries)
{
    static struct bag_sweep b;
    long live0, n;
    int i, saw_nomem = 0;

    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    live0 = tu_alloc_live();
    for (n = 0; n < 8; n++) {
        pthread_t t;
        memset(&b, 0, sizeof b);
        b.fail_at = n;
        ck_assert_int_eq(pthread_create(&t, NULL, sweep_many, &b), 0);
        pthread_join(t, NULL);
        tu_alloc_fail_after(-1);
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        ck_assert_int_eq(b.n_ok + b.n_nomem, SWEEP_DEFERS);
        saw_nomem |= b.n_nomem > 0;
        for (i = 0; i < SWEEP_DEFERS; i++) {
            long want = b.rc[i] == GOCONC_OK ? 1 : 0;
            if (b.destroyed[i] != want) {
                ck_abort_msg("fail_at %ld, defer %d %s, destroyed %ld times",
                             n, i, want ? "OK" : "ENOMEM", b.destroyed[i]);
            }
        }
        ck_assert_msg(tu_alloc_live() == live0,
                      "fail_at %ld: %ld allocation(s) leaked", n,
                      tu_alloc_live() - live0);
    }
    /* Recycling may let a thread defer for ever without allocating, so
     * ENOMEM is not required; say what happened. */
    fprintf(stderr, "bag sweep: ENOMEM %s\n", saw_nomem ? "seen" : "never seen");
}
END_TEST

/* Registration fails for lack of memory: read sections still work (the
 * shared slow path) and still hold synchronize back. */
struct nomem_reader {
    int inside, go, released;
};

static void *nomem_reader(void *p)
{
    struct nomem_reader *r = p;
    goconc_read_lock();
    goconc_read_lock();
    goconc_read_unlock();
    st_i(&r->inside, 1);
    while (!ld_i(&r->go))
        tu_sleep_ms(1);
    st_i(&r->released, 1);
    goconc_read_unlock();
    return NULL;
}

struct sync_probe {
    int calling, returned, saw_released, rc;
    int *released;
};

static void *sync_probe(void *p)
{
    struct sync_probe *s = p;
    st_i(&s->calling, 1);
    s->rc = goconc_synchronize();
    s->saw_released = ld_i(s->released);
    st_i(&s->returned, 1);
    return NULL;
}

START_TEST(read_section_without_record)
{
    struct nomem_reader r = { 0, 0, 0 };
    struct sync_probe s;
    pthread_t tr, ts;
    long live0;

    goconc_read_lock();
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    live0 = tu_alloc_live();
    memset(&s, 0, sizeof s);
    s.released = &r.released;
    tu_alloc_fail_after(0); /* every allocation fails from now */
    ck_assert_int_eq(pthread_create(&tr, NULL, nomem_reader, &r), 0);
    ck_assert(wait_flag(&r.inside, 10));
    ck_assert_int_eq(pthread_create(&ts, NULL, sync_probe, &s), 0);
    ck_assert(wait_flag(&s.calling, 10));
    tu_sleep_ms(100);
    ck_assert_msg(!ld_i(&s.returned),
                  "synchronize ignored a reader that could not register");
    st_i(&r.go, 1);
    ck_assert_msg(wait_flag(&s.returned, 20),
                  "synchronize did not return after the unregistered "
                  "reader left");
    pthread_join(tr, NULL);
    pthread_join(ts, NULL);
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(s.rc, GOCONC_OK);
    ck_assert(s.saw_released);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(tu_alloc_live(), live0);
}
END_TEST

/* A thread that could not register (no memory) exits inside its read
 * section: like a registered one, it must not stall anyone. */
static void *nomem_exit_inside(void *p)
{
    goconc_read_lock();
    goconc_read_lock();
    st_i((int *)p, 1);
    return NULL; /* two sections deep */
}

START_TEST(unregistered_thread_exit_inside_section)
{
    pthread_t t;
    int entered = 0;
    long destroyed = 0;
    int obj;

    goconc_read_lock();
    goconc_read_unlock();
    tu_alloc_fail_after(0);
    ck_assert_int_eq(pthread_create(&t, NULL, nomem_exit_inside, &entered), 0);
    pthread_join(t, NULL);
    tu_alloc_fail_after(-1);
    ck_assert(ld_i(&entered));
    ck_assert_msg(run_bounded(do_synchronize, NULL, 20),
                  "synchronize stalled by an unregistered thread (no memory "
                  "for its record) that exited inside a read section");
    ck_assert_int_eq(sync_rc, GOCONC_OK);
    ck_assert_int_eq(goconc_defer_free(&obj, count_destroy, &destroyed),
                     GOCONC_OK);
    ck_assert_msg(run_bounded(do_barrier, NULL, 20), "barrier stalled");
    ck_assert_int_eq(barrier_rc, GOCONC_OK);
    ck_assert_int_eq(ld_l(&destroyed), 1);
}
END_TEST

/* ----------------------------------------------------- main thread record */

/*
 * What is checked: a process whose main thread registers (read section,
 * defer_free, barrier) under an allocator and then returns from main has,
 * by the time the process is gone, freed through that allocator every
 * block it made -- the main thread's record included, although key
 * destructors do not run for a main thread that returns.  The counters
 * live in a shared mapping the parent reads after the child exited.  A
 * second child ends its main thread with pthread_exit() while another
 * thread lives on: that thread sees the record unregistered (stats
 * threads drops) and its blocks freed.
 */
struct shared_counts {
    long allocs, frees, live;
    long threads_before, threads_after;
    int stage;
};
static struct shared_counts *shc;

static void *shc_alloc(void *ctx, size_t size)
{
    void *p = malloc(size ? size : 1);
    (void)ctx;
    if (p) {
        __atomic_fetch_add(&shc->allocs, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&shc->live, 1, __ATOMIC_SEQ_CST);
    }
    return p;
}

static void shc_free(void *ctx, void *p)
{
    (void)ctx;
    if (p) {
        __atomic_fetch_add(&shc->frees, 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_sub(&shc->live, 1, __ATOMIC_SEQ_CST);
        free(p);
    }
}

static int main_record_child_setup(int fd)
{
    static int obj;
    static long destroyed;
    goconc_allocator a = { sizeof a, shc_alloc, shc_free, NULL };
    shc = mmap(NULL, sizeof *shc, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shc == MAP_FAILED)
        return 2;
    if (goconc_set_allocator(&a) != GOCONC_OK)
        return 3;
    goconc_read_lock();
    goconc_read_unlock();
    if (goconc_defer_free(&obj, count_destroy, &destroyed) != GOCONC_OK)
        return 4;
    if (goconc_barrier() != GOCONC_OK || destroyed != 1)
        return 5;
    if (__atomic_load_n(&shc->allocs, __ATOMIC_SEQ_CST) == 0)
        return 6; /* registration must have allocated through us */
    return 0;
}

static void *outlive_main(void *p)
{
    double end = tu_now() + 10;
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    (void)p;
    tu_discard(goconc_reclaim_stats_get(&st)); /* st stays zeroed on failure */
    /* Wait for the main thread's exit to unregister it. */
    while (tu_now() < end) {
        tu_discard(goconc_reclaim_stats_get(&st)); /* st stays zeroed on failure */
        if ((long)st.threads < shc->threads_before)
            break;
        tu_sleep_ms(5);
    }
    shc->threads_after = (long)st.threads;
    __atomic_store_n(&shc->stage, 2, __ATOMIC_SEQ_CST);
    exit(0);
}

static int main_record_child(const char *mode, int fd)
{
    int rc = main_record_child_setup(fd);
    if (rc)
        return rc;
    if (strcmp(mode, "return") == 0) {
        shc->stage = 1;
        return 0; /* main returns: atexit/destructors run */
    }
    if (strcmp(mode, "pthread_exit") == 0) {
        goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
        pthread_t t;
        tu_discard(goconc_reclaim_stats_get(&st)); /* st stays zeroed on failure */
        shc->threads_before = (long)st.threads;
        shc->stage = 1;
        if (pthread_create(&t, NULL, outlive_main, NULL) != 0)
            return 7;
        pthread_exit(NULL); /* key destructors run for main */
    }
    return 9;
}

static struct shared_counts *spawn_main_record_child(const char *mode, int *status)
{
    char exe[4096], fdbuf[32];
    char *argv[5];
    struct shared_counts *m;
    ssize_t len;
    pid_t pid;
    int fd = memfd_create("goconc-test", 0); /* inherited by the child */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, sizeof *m), 0);
    m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert(m != MAP_FAILED);
    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(len, 0);
    exe[len] = '\0';
    snprintf(fdbuf, sizeof fdbuf, "%d", fd);
    argv[0] = exe;
    argv[1] = (char *)"--main-record-child";
    argv[2] = (char *)mode;
    argv[3] = fdbuf;
    argv[4] = NULL;
    ck_assert_int_eq(posix_spawn(&pid, exe, NULL, NULL, argv, environ), 0);
    ck_assert_int_eq(waitpid(pid, status, 0), pid);
    close(fd);
    return m;
}

START_TEST(main_thread_record_cleaned)
{
    int status;
    struct shared_counts *m = spawn_main_record_child("return", &status);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status 0x%x", status);
    ck_assert_int_eq(m->stage, 1);
    ck_assert_int_gt(m->allocs, 0);
    ck_assert_msg(m->live == 0,
                  "main thread returned from main: %ld block(s) of %ld never "
                  "freed through the allocator that made them",
                  m->live, m->allocs);
    munmap(m, sizeof *m);

    m = spawn_main_record_child("pthread_exit", &status);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status 0x%x", status);
    ck_assert_int_eq(m->stage, 2);
    ck_assert_msg(m->threads_after < m->threads_before,
                  "main thread's record still registered after its "
                  "pthread_exit (threads %ld -> %ld)", m->threads_before,
                  m->threads_after);
    munmap(m, sizeof *m);
}
END_TEST

int main(int argc, char **argv)
{
    const struct tu_case cases[] = {
        TU_CASE(nesting_inline),
        TU_CASE(synchronize_waits_for_reader),
        TU_CASE(exported_functions),
        TU_CASE(inline_layout_sees_the_library),
        TU_CASE(defer_free_null_destroy),
        TU_CASE(destroy_runs_once_after_barrier),
        TU_CASE(barrier_runs_other_threads_destroys),
        TU_CASE(edeadlk_in_read_section),
        TU_CASE(edeadlk_in_deferred_callback),
        TU_CASE(edeadlk_in_once_function),
        TU_CASE(synchronize_not_starved_by_busy_readers),
        TU_CASE(thread_exit_inside_section),
        TU_CASE(foreign_tls_destructor_calls_in),
        TU_CASE(fork_child_uses_library_at_once),
        TU_CASE(fork_during_activity),
        TU_CASE(unreclaimed_memory_bounded),
        TU_CASE(stalled_reader_bounds_retire_work),
        TU_CASE(barrier_races_exiting_thread),
        TU_CASE(defer_free_allocation_failure_sweep),
        TU_CASE(defer_free_failures_at_bag_boundaries),
        TU_CASE(read_section_without_record),
        TU_CASE(unregistered_thread_exit_inside_section),
        TU_CASE(main_thread_record_cleaned),
    };

    if (argc == 4 && strcmp(argv[1], "--main-record-child") == 0)
        return main_record_child(argv[2], atoi(argv[3]));
    tu_alloc_install();
    return TU_RUN(cases, .name = "reclaim", .timeout = 110);
}
