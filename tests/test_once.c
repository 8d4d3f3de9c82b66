/* SPDX-License-Identifier: MIT */
/*
 * test_once.c - goconc_once against the contract (API.md section 5).
 *
 * Each test runs in its own process (Check's fork mode).  Worker threads
 * record what they saw; main asserts.  The config written by a once
 * function is plain (non-atomic) memory on purpose: every returner reads
 * it without synchronisation of its own, so under ThreadSanitizer a
 * missing happens-before from fn's return to the callers is a report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"


_Static_assert(sizeof(goconc_once) == 16, "goconc_once is 16 bytes (ABI)");
_Static_assert(alignof(goconc_once) == 8, "goconc_once is 8-aligned (ABI)");

static int ld_i(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void st_i(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static int inc_i(int *p) { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ layout */

START_TEST(layout_and_init)
{
    static goconc_once s = GOCONC_ONCE_INIT;
    goconc_once z, a = GOCONC_ONCE_INIT;
    static const unsigned char zero[sizeof(goconc_once)];
    ck_assert_uint_eq(sizeof(goconc_once), 16);
    ck_assert_uint_eq(alignof(goconc_once), 8);
    ck_assert_int_eq(memcmp(&s, zero, sizeof s), 0);
    ck_assert_int_eq(memcmp(&a, zero, sizeof a), 0);
    /* All-zero bytes are "not done", however they were made. */
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(goconc_once_done(&s), 0);
    ck_assert_int_eq(goconc_once_done(&z), 0);
    ck_assert_int_eq((goconc_once_done)(&z), 0);
    {
        goconc_once *h = calloc(1, sizeof *h);
        ck_assert_ptr_nonnull(h);
        ck_assert_int_eq(goconc_once_done(h), 0);
        free(h);
    }
}
END_TEST

static void count_run(void *ctx) { inc_i(ctx); }

START_TEST(bad_arguments)
{
    goconc_once o = GOCONC_ONCE_INIT;
    int runs = 0;
    ck_assert_int_eq(goconc_once_do(NULL, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_once_try(NULL, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_once_do(&o, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_once_try(&o, NULL, &o), GOCONC_EINVAL);
    /* The NULL fn changed nothing. */
    ck_assert_int_eq(goconc_once_done(&o), 0);
    {
        static const unsigned char zero[sizeof(goconc_once)];
        ck_assert_int_eq(memcmp(&o, zero, sizeof o), 0);
    }
    ck_assert_int_eq(goconc_once_done(NULL), 0);
    ck_assert_int_eq((goconc_once_done)(NULL), 0);
    /* A done once does not skip the check: still EINVAL, still done. */
    ck_assert_int_eq(goconc_once_do(&o, count_run, &runs), GOCONC_OK);
    ck_assert_int_eq(goconc_once_do(&o, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_once_try(&o, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_once_done(&o), 1);
    ck_assert_int_eq(runs, 1);
}
END_TEST

/* ---------------------------------------------------- exactly once, N threads */

struct config {
    int ready;
    long values[16];
    char name[32];
};

#define RACERS 8
struct race {
    goconc_once once;
    pthread_barrier_t start;
    int fn_calls;
    int fn_sleep_ms;
    pthread_t runner;
    struct config cfg; /* plain memory, written only by fn */
    int rc[RACERS];
    int saw_ok[RACERS];
    int was_runner[RACERS];
    double cpu[RACERS], wall[RACERS];
};

static void init_config(void *ctx)
{
    struct race *r = ctx;
    int i;
    inc_i(&r->fn_calls);
    r->runner = pthread_self();
    tu_sleep_ms(r->fn_sleep_ms); /* the others arrive and must sleep meanwhile */
    for (i = 0; i < 16; i++)
        r->cfg.values[i] = 1000 + i;
    strcpy(r->cfg.name, "config v1");
    r->cfg.ready = 1;
}

struct racer_arg {
    struct race *r;
    int idx;
};

static void *racer(void *p)
{
    struct racer_arg *a = p;
    struct race *r = a->r;
    double c0, w0;
    int i, ok = 1;
    pthread_barrier_wait(&r->start);
    c0 = thread_cpu();
    w0 = tu_now();
    r->rc[a->idx] = goconc_once_do(&r->once, init_config, r);
    r->cpu[a->idx] = thread_cpu() - c0;
    r->wall[a->idx] = tu_now() - w0;
    /* fn's effects, read without any synchronisation of our own. */
    ok &= r->cfg.ready == 1;
    for (i = 0; i < 16; i++)
        ok &= r->cfg.values[i] == 1000 + i;
    ok &= strcmp(r->cfg.name, "config v1") == 0;
    ok &= goconc_once_done(&r->once) == 1;
    r->saw_ok[a->idx] = ok;
    r->was_runner[a->idx] = pthread_equal(r->runner, pthread_self());
    return NULL;
}

START_TEST(do_runs_once_across_threads)
{
    static struct race r;
    struct racer_arg args[RACERS];
    pthread_t t[RACERS];
    int i, runners = 0, slow_waiters = 0;
    double max_cpu = 0;

    memset(&r, 0, sizeof r);
    r.fn_sleep_ms = 300;
    pthread_barrier_init(&r.start, NULL, RACERS);
    for (i = 0; i < RACERS; i++) {
        args[i].r = &r;
        args[i].idx = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, racer, &args[i]), 0);
    }
    for (i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(r.fn_calls, 1);
    for (i = 0; i < RACERS; i++) {
        ck_assert_int_eq(r.rc[i], GOCONC_OK);
        ck_assert_msg(r.saw_ok[i], "thread %d returned without seeing fn's "
                      "effects", i);
        if (r.was_runner[i]) {
            runners++;
            continue;
        }
        /* A waiter that waited long (most of fn's sleep) must have slept:
         * a spinning one burns about as much CPU as it waited. */
        if (r.wall[i] > 0.15) {
            slow_waiters++;
            if (r.cpu[i] > max_cpu)
                max_cpu = r.cpu[i];
            ck_assert_msg(r.cpu[i] < 0.25 * r.wall[i],
                          "waiter %d used %.3f s CPU in %.3f s of waiting: "
                          "it spins", i, r.cpu[i], r.wall[i]);
        }
    }
    ck_assert_int_eq(runners, 1);
    ck_assert_msg(slow_waiters > 0, "no thread waited on the running once");
    ck_assert_int_eq(goconc_once_done(&r.once), 1);
    /* Later calls do not run fn and return OK at once. */
    ck_assert_int_eq(goconc_once_do(&r.once, init_config, &r), GOCONC_OK);
    ck_assert_int_eq(r.fn_calls, 1);
    pthread_barrier_destroy(&r.start);
}
END_TEST

/* Many onces, many threads, no sleeping: a quick race on each. */
#define ONCES 2000
static goconc_once many[ONCES];
static int many_calls[ONCES];
static long many_val[ONCES]; /* plain, written by fn */
static int many_bad;

static void many_fn(void *ctx)
{
    long i = (long)(intptr_t)ctx;
    inc_i(&many_calls[i]);
    many_val[i] = i * 7 + 1;
}

static void *many_racer(void *p)
{
    long i;
    (void)p;
    for (i = 0; i < ONCES; i++) {
        if (goconc_once_do(&many[i], many_fn, (void *)(intptr_t)i) != GOCONC_OK ||
            many_val[i] != i * 7 + 1)
            inc_i(&many_bad);
    }
    return NULL;
}

START_TEST(many_onces_raced)
{
    pthread_t t[4];
    int i;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, many_racer, NULL), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(many_bad, 0);
    for (i = 0; i < ONCES; i++) {
        ck_assert_int_eq(many_calls[i], 1);
        ck_assert_int_eq(goconc_once_done(&many[i]), 1);
    }
}
END_TEST

/* ----------------------------------------------------------- re-entry */

static goconc_once re_a, re_b;
static int re_inner_rc = 99, re_inner_try_rc = 99, re_done_inside = 99;
static int re_calls;

static int never_called_try(void *ctx) { (void)ctx; inc_i(&re_calls); return 0; }
static void never_called(void *ctx) { (void)ctx; inc_i(&re_calls); }

static void reenter_self(void *ctx)
{
    (void)ctx;
    re_done_inside = goconc_once_done(&re_a);
    re_inner_rc = goconc_once_do(&re_a, never_called, NULL);
    re_inner_try_rc = goconc_once_try(&re_a, never_called_try, NULL);
}

START_TEST(edeadlk_direct_reentry)
{
    ck_assert_int_eq(goconc_once_do(&re_a, reenter_self, NULL), GOCONC_OK);
    ck_assert_int_eq(re_inner_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(re_inner_try_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(re_done_inside, 0);
    ck_assert_int_eq(re_calls, 0);
    /* The outer call completed the once normally. */
    ck_assert_int_eq(goconc_once_done(&re_a), 1);
    ck_assert_int_eq(goconc_once_do(&re_a, never_called, NULL), GOCONC_OK);
    ck_assert_int_eq(re_calls, 0);
}
END_TEST

static int via_b_rc = 99, via_a_inner_rc = 99;

static void b_reenters_a(void *ctx)
{
    (void)ctx;
    via_a_inner_rc = goconc_once_do(&re_a, never_called, NULL);
}

static int a_calls_b(void *ctx)
{
    (void)ctx;
    via_b_rc = goconc_once_do(&re_b, b_reenters_a, NULL);
    return 0;
}

START_TEST(edeadlk_reentry_via_other_once)
{
    ck_assert_int_eq(goconc_once_try(&re_a, a_calls_b, NULL), GOCONC_OK);
    ck_assert_int_eq(via_a_inner_rc, GOCONC_EDEADLK);
    ck_assert_int_eq(via_b_rc, GOCONC_OK); /* b itself completed */
    ck_assert_int_eq(re_calls, 0);
    ck_assert_int_eq(goconc_once_done(&re_a), 1);
    ck_assert_int_eq(goconc_once_done(&re_b), 1);
}
END_TEST

/* Re-entry detection is per thread: another thread waiting on a running
 * once is not EDEADLK (it waits), and a once running on another thread
 * does not make this thread's unrelated once EDEADLK. */
static goconc_once cross_o, cross_p;
static int cross_step, cross_other_rc = 99, cross_p_rc = 99;

static void cross_p_fn(void *ctx) { (void)ctx; }

static void cross_fn(void *ctx)
{
    (void)ctx;
    st_i(&cross_step, 1);
    while (ld_i(&cross_step) != 2)
        tu_sleep_ms(1);
    tu_sleep_ms(50); /* the other thread is now waiting on cross_o */
}

static void *cross_other(void *p)
{
    (void)p;
    while (ld_i(&cross_step) != 1)
        tu_sleep_ms(1);
    cross_p_rc = goconc_once_do(&cross_p, cross_p_fn, NULL);
    st_i(&cross_step, 2);
    cross_other_rc = goconc_once_do(&cross_o, never_called, NULL);
    return NULL;
}

START_TEST(reentry_is_per_thread)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, cross_other, NULL), 0);
    ck_assert_int_eq(goconc_once_do(&cross_o, cross_fn, NULL), GOCONC_OK);
    pthread_join(t, NULL);
    ck_assert_int_eq(cross_p_rc, GOCONC_OK);
    ck_assert_int_eq(cross_other_rc, GOCONC_OK);
    ck_assert_int_eq(re_calls, 0);
}
END_TEST

/* ------------------------------------------------------------- try */

static int try_calls;
static int try_result;
static int try_fn(void *ctx)
{
    (void)ctx;
    inc_i(&try_calls);
    return try_result;
}

START_TEST(try_failure_then_retry)
{
    goconc_once o = GOCONC_ONCE_INIT;
    try_result = 7;
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), 7);
    ck_assert_int_eq(goconc_once_done(&o), 0);
    ck_assert_int_eq(try_calls, 1);
    try_result = -5; /* any non-zero value comes back as is */
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), -5);
    try_result = GOCONC_ENOMEM;
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), GOCONC_ENOMEM);
    ck_assert_int_eq(goconc_once_done(&o), 0);
    ck_assert_int_eq(try_calls, 3);
    try_result = 0;
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), GOCONC_OK);
    ck_assert_int_eq(try_calls, 4);
    ck_assert_int_eq(goconc_once_done(&o), 1);
    ck_assert_int_eq((goconc_once_done)(&o), 1);
    /* Done: neither try nor do runs anything again. */
    try_result = 9;
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_once_do(&o, never_called, NULL), GOCONC_OK);
    ck_assert_int_eq(try_calls, 4);
}
END_TEST

START_TEST(do_after_failed_try)
{
    goconc_once o = GOCONC_ONCE_INIT;
    int before = re_calls;
    try_result = 1;
    ck_assert_int_eq(goconc_once_try(&o, try_fn, NULL), 1);
    ck_assert_int_eq(goconc_once_do(&o, never_called, NULL), GOCONC_OK);
    ck_assert_int_eq(re_calls, before + 1);
    ck_assert_int_eq(goconc_once_done(&o), 1);
}
END_TEST

/*
 * A try that fails while others wait on it: they wake and one of them runs
 * its own fn next; everyone who waited returns OK (they succeed through
 * that fn), the failing caller gets its own status.
 */
#define TRY_WAITERS 4
struct try_wake {
    goconc_once once;
    int fail_entered, waiters_started;
    int own_calls[TRY_WAITERS];
    int rc[TRY_WAITERS];
    int first_rc;
    long value; /* plain, written by the successful fn */
    int saw_value[TRY_WAITERS];
};
static struct try_wake tw;

static int failing_first(void *ctx)
{
    (void)ctx;
    st_i(&tw.fail_entered, 1);
    while (ld_i(&tw.waiters_started) < TRY_WAITERS)
        tu_sleep_ms(1);
    tu_sleep_ms(100); /* they are inside once_try/do now, waiting */
    return 42;
}

static int waiter_try(void *ctx)
{
    int idx = (int)(intptr_t)ctx;
    inc_i(&tw.own_calls[idx]);
    tw.value = 1000 + idx;
    return 0;
}

static void waiter_do(void *ctx)
{
    waiter_try(ctx);
}

static void *try_waiter(void *p)
{
    int idx = (int)(intptr_t)p;
    while (!ld_i(&tw.fail_entered))
        tu_sleep_ms(1);
    inc_i(&tw.waiters_started);
    if (idx % 2)
        tw.rc[idx] = goconc_once_do(&tw.once, waiter_do, p);
    else
        tw.rc[idx] = goconc_once_try(&tw.once, waiter_try, p);
    tw.saw_value[idx] = tw.value >= 1000 && tw.value < 1000 + TRY_WAITERS;
    return NULL;
}

START_TEST(waiters_wake_when_try_fails)
{
    pthread_t t[TRY_WAITERS];
    int i, ran = 0;
    for (i = 0; i < TRY_WAITERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, try_waiter,
                                        (void *)(intptr_t)i), 0);
    tw.first_rc = goconc_once_try(&tw.once, failing_first, NULL);
    for (i = 0; i < TRY_WAITERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(tw.first_rc, 42);
    for (i = 0; i < TRY_WAITERS; i++) {
        ck_assert_msg(tw.rc[i] == GOCONC_OK,
                      "waiter %d got %d after the running try failed", i,
                      tw.rc[i]);
        ck_assert(tw.saw_value[i]);
        ran += tw.own_calls[i];
    }
    ck_assert_msg(ran == 1, "%d waiters ran their fn (expected exactly 1)", ran);
    ck_assert_int_eq(goconc_once_done(&tw.once), 1);
}
END_TEST

/* Contended tries that fail the first K times: fn runs K + 1 times in all,
 * one at a time; every caller gets OK or the status of its own fn. */
#define CT_THREADS 6
#define CT_FAILS 25
static goconc_once ct_once;
static int ct_calls, ct_inside, ct_overlap, ct_bad;
static int ct_fn(void *ctx)
{
    int n;
    (void)ctx;
    if (inc_i(&ct_inside) != 1)
        inc_i(&ct_overlap);
    n = inc_i(&ct_calls);
    sched_yield();
    __atomic_sub_fetch(&ct_inside, 1, __ATOMIC_SEQ_CST);
    return n <= CT_FAILS ? 100 + n : 0;
}

static void *ct_thread(void *p)
{
    (void)p;
    for (;;) {
        int rc = goconc_once_try(&ct_once, ct_fn, NULL);
        if (rc == GOCONC_OK)
            break;
        if (rc <= 100 || rc > 100 + CT_FAILS) {
            inc_i(&ct_bad);
            break;
        }
    }
    if (!goconc_once_done(&ct_once))
        inc_i(&ct_bad);
    return NULL;
}

START_TEST(try_retries_under_contention)
{
    pthread_t t[CT_THREADS];
    int i;
    for (i = 0; i < CT_THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, ct_thread, NULL), 0);
    for (i = 0; i < CT_THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(ct_bad, 0);
    ck_assert_int_eq(ct_overlap, 0);
    ck_assert_int_eq(ct_calls, CT_FAILS + 1);
}
END_TEST

/* ------------------------------------------------------------- done */

static void noop_fn(void *ctx) { (void)ctx; }

START_TEST(done_values)
{
    goconc_once o = GOCONC_ONCE_INIT;
    ck_assert_int_eq(goconc_once_done(NULL), 0);
    ck_assert_int_eq(goconc_once_done(&o), 0);
    ck_assert_int_eq((goconc_once_done)(&o), 0);
    ck_assert_int_eq(goconc_once_do(&o, noop_fn, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_once_done(&o), 1);
    ck_assert_int_eq((goconc_once_done)(&o), 1);
    /* The documented ABI encoding the inline check relies on. */
    ck_assert_uint_eq(o.opaque[0], GOCONC_ONCE_DONE_);
    ck_assert_uint_eq(o.opaque[1], 0);
}
END_TEST

/* ----------------------------------------------------------------- fork */

static goconc_once fk_done_before, fk_untouched;
static int fk_calls;
static void fk_fn(void *ctx) { (void)ctx; fk_calls++; }

struct fk_race {
    goconc_once o;
    int calls, bad;
};
static void fk_race_fn(void *ctx)
{
    struct fk_race *r = ctx;
    inc_i(&r->calls);
    tu_sleep_ms(20);
}
static void *fk_racer(void *p)
{
    struct fk_race *r = p;
    if (goconc_once_do(&r->o, fk_race_fn, r) != GOCONC_OK)
        inc_i(&r->bad);
    return NULL;
}

static int fork_child_body(int may_threads)
{
    goconc_once fresh = GOCONC_ONCE_INIT;
    int bad = 0;
    signal(SIGALRM, SIG_DFL); /* not Check's handler, inherited */
    alarm(20);
    /* A once done before the fork is done here. */
    if (!goconc_once_done(&fk_done_before) ||
        goconc_once_do(&fk_done_before, fk_fn, NULL) != GOCONC_OK ||
        fk_calls != 1)
        bad |= 1;
    /* One the parent never ran, and a new one, run here. */
    if (goconc_once_do(&fk_untouched, fk_fn, NULL) != GOCONC_OK || fk_calls != 2)
        bad |= 2;
    try_result = 3;
    if (goconc_once_try(&fresh, try_fn, NULL) != 3 || goconc_once_done(&fresh))
        bad |= 4;
    if (goconc_once_do(&fresh, fk_fn, NULL) != GOCONC_OK || fk_calls != 3 ||
        !goconc_once_done(&fresh))
        bad |= 8;
    if (may_threads) {
        static struct fk_race r;
        pthread_t t[4];
        int i;
        for (i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, fk_racer, &r);
        for (i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        if (r.calls != 1 || r.bad)
            bad |= 16;
    }
    return bad;
}

/* A parent thread sleeping on, and one running, an unrelated once at the
 * moment of the fork: the child's new onces must not be disturbed (the
 * parking place is shared by address hash). */
static goconc_once busy_o;
static int busy_release;
static void busy_fn(void *ctx)
{
    (void)ctx;
    while (!ld_i(&busy_release))
        tu_sleep_ms(1);
}
static void *busy_runner(void *p) { tu_discard(goconc_once_do(&busy_o, busy_fn, NULL)); return p; }

START_TEST(once_in_fork_child)
{
    pthread_t t1, t2;
    int status, may_threads = 1;
    pid_t pid;
#ifdef TEST_TSAN
    may_threads = 0; /* TSan: no new threads after a multi-threaded fork */
#endif
    ck_assert_int_eq(goconc_once_do(&fk_done_before, fk_fn, NULL), GOCONC_OK);
    ck_assert_int_eq(fk_calls, 1);
    ck_assert_int_eq(pthread_create(&t1, NULL, busy_runner, NULL), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, busy_runner, NULL), 0);
    tu_sleep_ms(50);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(fork_child_body(may_threads));
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "child killed by signal %d%s",
                  WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (hung)" : "");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child failed checks, bits 0x%x", WEXITSTATUS(status));
    st_i(&busy_release, 1);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ck_assert_int_eq(goconc_once_done(&busy_o), 1);
    ck_assert_int_eq(fk_calls, 1); /* the child's calls stayed there */
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(layout_and_init),
        TU_CASE(bad_arguments),
        TU_CASE(do_runs_once_across_threads),
        TU_CASE(many_onces_raced),
        TU_CASE(edeadlk_direct_reentry),
        TU_CASE(edeadlk_reentry_via_other_once),
        TU_CASE(reentry_is_per_thread),
        TU_CASE(try_failure_then_retry),
        TU_CASE(do_after_failed_try),
        TU_CASE(waiters_wake_when_try_fails),
        TU_CASE(try_retries_under_contention),
        TU_CASE(done_values),
        TU_CASE(once_in_fork_child),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "once", .timeout = 50);
}
