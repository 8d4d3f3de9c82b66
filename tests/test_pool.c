/* SPDX-License-Identifier: MIT */
/*
 * test_pool.c - unit tests of goconc_pool (API.md section 6).
 *
 * Objects are malloc'd by the test's new_obj (not through the library's
 * allocator), carry a magic word and an in-use flag, and are counted: the
 * live count must return to zero after goconc_pool_free.  The library's
 * own memory is counted by the test allocator (tu_alloc_live).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAGIC_LIVE 0x600dF00Du
#define MAGIC_DEAD 0xDEADBEEFu
#define ALLOWANCE 64  /* doc/pool.md: per-thread allowance min(64, max_idle) */
#define DEFAULT_MAX_IDLE 1024

struct tobj {
    unsigned magic;
    int in_use;
    int resets;
    long serial;
};

struct tctx {
    long news, frees, resets, live, bad;
    long serial;
    void *last_freed;
};

static long ld(long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void inc(long *p) { __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST); }
static void dec(long *p) { __atomic_fetch_sub(p, 1, __ATOMIC_SEQ_CST); }

static void *t_new(void *ctx)
{
    struct tctx *t = ctx;
    struct tobj *o = malloc(sizeof *o);
    if (o == NULL)
        return NULL;
    o->magic = MAGIC_LIVE;
    o->in_use = 0;
    o->resets = 0;
    o->serial = __atomic_add_fetch(&t->serial, 1, __ATOMIC_SEQ_CST);
    inc(&t->news);
    inc(&t->live);
    return o;
}

static void t_free(void *ctx, void *obj)
{
    struct tctx *t = ctx;
    struct tobj *o = obj;
    if (o->magic != MAGIC_LIVE)
        inc(&t->bad);
    o->magic = MAGIC_DEAD;
    __atomic_store_n(&t->last_freed, obj, __ATOMIC_SEQ_CST);
    inc(&t->frees);
    dec(&t->live);
    free(o);
}

static void t_reset(void *ctx, void *obj)
{
    struct tctx *t = ctx;
    struct tobj *o = obj;
    o->resets++;
    inc(&t->resets);
}

/* Every test starts with LOOP_MODE(); loop tests run twice, _i == 0 with
 * reset_obj and _i == 1 without (a different put fast path). */
static int with_reset = 1;
#define LOOP_MODE() \
    const int loop_mode_ __attribute__((unused)) = (with_reset = _i == 0)

static goconc_pool *mkpool(struct tctx *t, size_t max_idle)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p = NULL;
    memset(t, 0, sizeof *t);
    o.new_obj = t_new;
    o.free_obj = t_free;
    o.reset_obj = with_reset ? t_reset : NULL;
    o.ctx = t;
    o.max_idle = max_idle;
    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_OK);
    ck_assert_ptr_nonnull(p);
    return p;
}

static goconc_pool_stats stats(goconc_pool *p)
{
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    ck_assert_int_eq(goconc_pool_stats_get(p, &s), GOCONC_OK);
    return s;
}

/* Gives the calling thread its per-thread record, so that later leak
 * checks compare like with like (the record lives until thread exit). */
static void warm_thread(void)
{
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    goconc_pool_put(p, goconc_pool_get(p));
    goconc_pool_free(p);
}

static void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, fn, arg), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
}

/* ----------------------------------------------------------- arguments */

START_TEST(test_new_bad_args)
{
    LOOP_MODE();
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    struct {
        goconc_pool_options o;
        uint64_t extra;
    } big;
    goconc_pool *p = (goconc_pool *)&o;

    ck_assert_int_eq(goconc_pool_new(NULL, &o), GOCONC_EINVAL);
    o.struct_size = sizeof o - 1;
    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_EINVAL);
    ck_assert_ptr_null(p);
    o.struct_size = 0;
    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_EINVAL);
    memset(&big, 0, sizeof big);
    big.o.struct_size = sizeof big;
    big.extra = 1;
    ck_assert_int_eq(goconc_pool_new(&p, &big.o), GOCONC_EINVAL);
    big.extra = 0;
    ck_assert_int_eq(goconc_pool_new(&p, &big.o), GOCONC_OK);
    goconc_pool_free(p);
    /* NULL options: a pool with no callbacks and the default max_idle. */
    ck_assert_int_eq(goconc_pool_new(&p, NULL), GOCONC_OK);
    ck_assert_ptr_null(goconc_pool_get(p));
    goconc_pool_free(p);
}
END_TEST

START_TEST(test_null_handles)
{
    LOOP_MODE();
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    struct tctx t;
    goconc_pool *p;
    int x;

    ck_assert_ptr_null(goconc_pool_get(NULL));
    goconc_pool_put(NULL, &x);
    goconc_pool_trim(NULL);
    goconc_pool_free(NULL);
    ck_assert_int_eq(goconc_pool_stats_get(NULL, &s), GOCONC_EINVAL);

    p = mkpool(&t, 0);
    ck_assert_int_eq(goconc_pool_stats_get(p, NULL), GOCONC_EINVAL);
    s.struct_size = sizeof s - 1;
    ck_assert_int_eq(goconc_pool_stats_get(p, &s), GOCONC_EINVAL);
    s.struct_size = sizeof(size_t);
    ck_assert_int_eq(goconc_pool_stats_get(p, &s), GOCONC_EINVAL);
    goconc_pool_put(p, NULL); /* ignored, not counted */
    s = stats(p);
    ck_assert_uint_eq(s.puts, 0);
    ck_assert_uint_eq(t.resets, 0);
    goconc_pool_free(p);
}
END_TEST

START_TEST(test_stats_larger_struct)
{
    LOOP_MODE();
    struct {
        goconc_pool_stats s;
        uint64_t extra;
    } big;
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);

    goconc_pool_put(p, goconc_pool_get(p));
    memset(&big, 0, sizeof big);
    big.s.struct_size = sizeof big;
    ck_assert_int_eq(goconc_pool_stats_get(p, &big.s), GOCONC_OK);
    ck_assert_uint_eq(big.s.struct_size, sizeof big);
    ck_assert_uint_eq(big.s.gets, 1);
    ck_assert_uint_eq(big.s.puts, 1);
    ck_assert_uint_eq(big.extra, 0);
    big.extra = 7;
    ck_assert_int_eq(goconc_pool_stats_get(p, &big.s), GOCONC_EINVAL);
    goconc_pool_free(p);
}
END_TEST

START_TEST(test_no_new_obj)
{
    LOOP_MODE();
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool_stats s;
    goconc_pool *p;
    int a, b;

    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_OK);
    ck_assert_ptr_null(goconc_pool_get(p));
    goconc_pool_put(p, &a);
    goconc_pool_put(p, &b);
    ck_assert_ptr_eq(goconc_pool_get(p), &b); /* LIFO: warmest first */
    ck_assert_ptr_eq(goconc_pool_get(p), &a);
    ck_assert_ptr_null(goconc_pool_get(p));
    s = stats(p);
    ck_assert_uint_eq(s.gets, 4);
    ck_assert_uint_eq(s.hits, 2);
    ck_assert_uint_eq(s.news, 0);
    /* free_obj NULL: dropped objects are forgotten (stack objects here). */
    goconc_pool_put(p, &a);
    goconc_pool_trim(p);
    goconc_pool_trim(p);
    s = stats(p);
    ck_assert_uint_eq(s.drops, 1);
    ck_assert_uint_eq(s.idle, 0);
    goconc_pool_put(p, &b);
    goconc_pool_free(p);
}
END_TEST

/* ------------------------------------------------------------ semantics */

START_TEST(test_reuse_before_new)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct tobj *a = goconc_pool_get(p), *b;

    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(ld(&t.news), 1);
    goconc_pool_put(p, a);
    b = goconc_pool_get(p);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(ld(&t.news), 1);
    goconc_pool_put(p, b);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(ld(&t.bad), 0);
}
END_TEST

START_TEST(test_reset_on_put)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct tobj *a = goconc_pool_get(p);

    ck_assert_int_eq(a->resets, 0);
    goconc_pool_put(p, a);
    ck_assert_int_eq(a->resets, 1);
    ck_assert_ptr_eq(goconc_pool_get(p), a);
    goconc_pool_put(p, a);
    ck_assert_int_eq(a->resets, 2);
    ck_assert_int_eq(ld(&t.resets), 2);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_trim_victim_local)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct tobj *x = goconc_pool_get(p), *y;

    goconc_pool_put(p, x);
    goconc_pool_trim(p);                     /* x becomes a victim */
    ck_assert_int_eq(ld(&t.frees), 0);
    ck_assert_uint_eq(stats(p).idle, 1);
    ck_assert_ptr_eq(goconc_pool_get(p), x); /* victims are still served */
    goconc_pool_put(p, x);
    goconc_pool_trim(p);
    y = goconc_pool_get(p);                  /* x again (victim) */
    ck_assert_ptr_eq(y, x);
    y = goconc_pool_get(p);                  /* a fresh one */
    ck_assert_ptr_ne(y, x);
    goconc_pool_put(p, x);
    goconc_pool_trim(p);                     /* x victim, */
    goconc_pool_put(p, y);                   /* y put after the trim */
    goconc_pool_trim(p);                     /* x dropped, y now a victim */
    ck_assert_int_eq(ld(&t.frees), 1);
    ck_assert_ptr_eq(t.last_freed, x);
    ck_assert_uint_eq(stats(p).idle, 1);
    ck_assert_ptr_eq(goconc_pool_get(p), y);
    goconc_pool_put(p, y);
    goconc_pool_trim(p);
    goconc_pool_trim(p);
    ck_assert_int_eq(ld(&t.frees), 2);
    ck_assert_uint_eq(stats(p).idle, 0);
    ck_assert_uint_eq(stats(p).drops, 2);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(ld(&t.bad), 0);
}
END_TEST

struct putter {
    goconc_pool *p;
    void *objs[256];
    int n;
};

static void *put_all(void *arg)
{
    struct putter *a = arg;
    int i;
    for (i = 0; i < a->n; i++)
        goconc_pool_put(a->p, a->objs[i]);
    return NULL;
}

static void *get_all(void *arg)
{
    struct putter *a = arg;
    int i;
    for (i = 0; i < a->n; i++)
        a->objs[i] = goconc_pool_get(a->p);
    return NULL;
}

START_TEST(test_trim_victim_shared)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct putter a = { p, { 0 }, 1 };
    void *x = goconc_pool_get(p);

    /* x reaches the shared level through a thread that exits. */
    a.objs[0] = x;
    run_thread(put_all, &a);
    goconc_pool_trim(p);
    ck_assert_int_eq(ld(&t.frees), 0);
    ck_assert_ptr_eq(goconc_pool_get(p), x);
    a.objs[0] = x;
    run_thread(put_all, &a);
    goconc_pool_trim(p);
    goconc_pool_trim(p);
    ck_assert_int_eq(ld(&t.frees), 1);
    ck_assert_ptr_eq(t.last_freed, x);
    ck_assert_uint_eq(stats(p).idle, 0);
    x = goconc_pool_get(p);
    ck_assert_int_eq(ld(&t.news), 2);
    goconc_pool_put(p, x);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_thread_exit_hands_back)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct putter a = { p, { 0 }, 10 };
    goconc_pool_stats s;
    int i, j, found;
    void *got[10];

    for (i = 0; i < a.n; i++)
        a.objs[i] = goconc_pool_get(p);
    run_thread(put_all, &a); /* 10 < allowance: all stay in its cache */
    s = stats(p);
    ck_assert_uint_eq(s.idle, 10);
    for (i = 0; i < a.n; i++) {
        got[i] = goconc_pool_get(p);
        for (found = 0, j = 0; j < a.n; j++)
            found += got[i] == a.objs[j];
        ck_assert_int_eq(found, 1);
        for (j = 0; j < i; j++)
            ck_assert_ptr_ne(got[i], got[j]);
    }
    ck_assert_int_eq(ld(&t.news), 10);
    s = stats(p);
    ck_assert_uint_eq(s.hits, 10);
    ck_assert_uint_eq(s.puts, 10);
    ck_assert_uint_eq(s.idle, 0);
    for (i = 0; i < a.n; i++)
        goconc_pool_put(p, got[i]);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_cross_thread_flush)
{
    LOOP_MODE();
    /* More than the allowance put by a live thread overflows to the
     * shared level, where another thread finds it. */
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    static struct putter a;
    int i;

    a.p = p;
    a.n = 3 * ALLOWANCE;
    for (i = 0; i < a.n; i++)
        a.objs[i] = goconc_pool_get(p);
    put_all(&a); /* main holds ALLOWANCE at most, the rest is shared */
    a.n = 2 * ALLOWANCE;
    run_thread(get_all, &a);
    for (i = 0; i < a.n; i++)
        ck_assert_ptr_nonnull(a.objs[i]);
    ck_assert_int_eq(ld(&t.news), 3 * ALLOWANCE);
    run_thread(put_all, &a);
    ck_assert_uint_eq(stats(p).idle, 3 * ALLOWANCE);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

/* A live thread that puts what main hands it, round after round. */
struct feeder {
    struct putter a;
    pthread_barrier_t bar;
    int quit;
};

static void *feed(void *arg)
{
    struct feeder *f = arg;
    for (;;) {
        pthread_barrier_wait(&f->bar); /* a round is ready, or quit */
        if (f->quit)
            return NULL;
        put_all(&f->a);
        pthread_barrier_wait(&f->bar); /* round done */
    }
}

START_TEST(test_handoff_steady)
{
    LOOP_MODE();
    /* One thread only puts, main only gets: batches go over in chunks
     * whose emptied shells main's refills hand back for the putter's
     * next flushes.  Once the objects in circulation exist, neither
     * new_obj nor the library's allocator is called again. */
    static struct feeder f;
    struct tctx t;
    pthread_t th;
    long news = 0, calls = 0;
    int round, i;

    f.a.p = mkpool(&t, 0);
    f.a.n = 2 * ALLOWANCE;
    f.quit = 0;
    pthread_barrier_init(&f.bar, NULL, 2);
    ck_assert_int_eq(pthread_create(&th, NULL, feed, &f), 0);
    for (round = 0; round < 8; round++) {
        if (round == 4) {
            news = ld(&t.news);
            calls = tu_alloc_calls();
        }
        get_all(&f.a);
        for (i = 0; i < f.a.n; i++)
            ck_assert_ptr_nonnull(f.a.objs[i]);
        pthread_barrier_wait(&f.bar);
        pthread_barrier_wait(&f.bar);
    }
    ck_assert_int_eq(ld(&t.news), news);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    /* Made in rounds 0 and 1: one round's worth, and the allowance the
     * putter's cache keeps. */
    ck_assert_int_eq(news, f.a.n + ALLOWANCE);
    f.quit = 1;
    pthread_barrier_wait(&f.bar);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&f.bar);
    goconc_pool_free(f.a.p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

static void *hold_n(goconc_pool *p, int n)
{
    void **v = malloc(sizeof(void *) * (size_t)n);
    int i;
    for (i = 0; i < n; i++)
        v[i] = goconc_pool_get(p);
    return v;
}

START_TEST(test_max_idle_bound)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 4);
    void **v = hold_n(p, 100);
    goconc_pool_stats s;
    int i;

    for (i = 0; i < 100; i++)
        goconc_pool_put(p, v[i]);
    s = stats(p);
    /* max_idle 4 shared + an allowance of min(64, 4) on this thread. */
    ck_assert_uint_le(s.idle, 4 + 4);
    ck_assert_uint_eq(s.idle, 8);
    ck_assert_uint_eq(s.drops, 100 - s.idle);
    ck_assert_int_eq(ld(&t.frees), 100 - (long)s.idle);
    ck_assert_int_eq(ld(&t.live), (long)s.idle);
    free(v);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(ld(&t.bad), 0);
}
END_TEST

START_TEST(test_max_idle_one)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 1);
    void **v = hold_n(p, 5);
    int i;

    for (i = 0; i < 5; i++)
        goconc_pool_put(p, v[i]);
    /* v0 went to the shared level, v1 stays in this thread's cache, and
     * with both full v2..v4 were dropped. */
    ck_assert_uint_eq(stats(p).idle, 2);
    ck_assert_int_eq(ld(&t.frees), 3);
    ck_assert_ptr_eq(goconc_pool_get(p), v[1]);
    ck_assert_ptr_eq(goconc_pool_get(p), v[0]);
    ck_assert_int_eq(ld(&t.news), 5);
    goconc_pool_put(p, v[1]);
    goconc_pool_put(p, v[0]);
    free(v);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_default_max_idle)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    int n = DEFAULT_MAX_IDLE + 2 * ALLOWANCE;
    void **v = hold_n(p, n);
    goconc_pool_stats s;
    int i;

    for (i = 0; i < n; i++)
        goconc_pool_put(p, v[i]);
    s = stats(p);
    ck_assert_uint_eq(s.idle, DEFAULT_MAX_IDLE + ALLOWANCE);
    ck_assert_uint_eq(s.drops, (uint64_t)ALLOWANCE);
    for (i = 0; i <= (int)s.idle; i++)
        v[i] = goconc_pool_get(p);
    ck_assert_int_eq(ld(&t.news), n + 1); /* the last one only was new */
    for (i = 0; i <= (int)s.idle; i++)
        goconc_pool_put(p, v[i]);
    free(v);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

/* Threads that cache objects and wait, so that the main thread can look
 * at them (stats, trim, free) while they are alive. */
struct waiter {
    goconc_pool *p, *p2;
    int nput;
    int phase;
    void *got;
    long got_serial;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void wait_phase(struct waiter *w, int ph)
{
    pthread_mutex_lock(&w->mu);
    while (w->phase < ph)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void set_phase(struct waiter *w, int ph)
{
    pthread_mutex_lock(&w->mu);
    w->phase = ph;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    void *v[ALLOWANCE];
    int i;
    for (i = 0; i < w->nput; i++)
        v[i] = goconc_pool_get(w->p);
    for (i = 0; i < w->nput; i++)
        goconc_pool_put(w->p, v[i]);
    set_phase(w, 1);
    wait_phase(w, 2);
    if (w->p2 != NULL) { /* the first pool is gone: use another */
        w->got = goconc_pool_get(w->p2);
        w->got_serial = ((struct tobj *)w->got)->serial;
        goconc_pool_put(w->p2, w->got);
    } else {
        w->got = goconc_pool_get(w->p);
        goconc_pool_put(w->p, w->got);
    }
    set_phase(w, 3);
    wait_phase(w, 4);
    return NULL;
}

static void waiter_init(struct waiter *w, goconc_pool *p, int nput)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->nput = nput;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

START_TEST(test_lazy_aging_other_thread)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct waiter w;
    pthread_t th;

    waiter_init(&w, p, 3);
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_main, &w), 0);
    wait_phase(&w, 1);
    goconc_pool_trim(p);
    goconc_pool_trim(p);
    /* The waiter has not run since: its three objects are still there. */
    ck_assert_int_eq(ld(&t.frees), 0);
    ck_assert_uint_eq(stats(p).idle, 3);
    set_phase(&w, 2);
    wait_phase(&w, 3);
    /* Its get aged the cache (two trims: all dropped) before serving. */
    ck_assert_int_eq(ld(&t.frees), 3);
    ck_assert_int_eq(ld(&t.news), 4);
    ck_assert_uint_eq(stats(p).idle, 1);
    set_phase(&w, 4);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_uint_eq(stats(p).idle, 1); /* handed back at exit */
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_free_with_live_and_exited_threads)
{
    LOOP_MODE();
    struct tctx t, t2;
    goconc_pool *p, *p2;
    struct waiter w[2];
    struct putter a;
    pthread_t th[2];
    long base, i;

    warm_thread();
    base = tu_alloc_live();
    p = mkpool(&t, 0);
    for (i = 0; i < 2; i++) {
        waiter_init(&w[i], p, 7);
        ck_assert_int_eq(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
        wait_phase(&w[i], 1);
    }
    a.p = p;
    a.n = 5;
    for (i = 0; i < a.n; i++)
        a.objs[i] = goconc_pool_get(p);
    run_thread(put_all, &a); /* exited thread: handed back */
    goconc_pool_put(p, goconc_pool_get(p)); /* main's cache holds them now */
    ck_assert_int_eq(ld(&t.live), 5 + 7 + 7);
    ck_assert_uint_eq(stats(p).idle, 5 + 7 + 7);
    goconc_pool_free(p); /* frees what the live waiters cache too */
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(ld(&t.bad), 0);

    /* A new pool, likely at the same address: the waiters' stale caches
     * must not serve it. */
    p2 = mkpool(&t2, 0);
    for (i = 0; i < 2; i++) {
        w[i].p2 = p2;
        set_phase(&w[i], 2);
        wait_phase(&w[i], 3);
    }
    ck_assert_int_eq(ld(&t2.news), 2);
    ck_assert_int_ne(w[0].got_serial, w[1].got_serial);
    for (i = 0; i < 2; i++) {
        set_phase(&w[i], 4);
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    }
    ck_assert_uint_eq(stats(p2).idle, 2);
    goconc_pool_free(p2);
    ck_assert_int_eq(ld(&t2.live), 0);
    ck_assert_int_eq(tu_alloc_live(), base);
}
END_TEST

START_TEST(test_stale_cache_same_thread)
{
    LOOP_MODE();
    struct tctx t1, t2;
    goconc_pool *p1, *p2;
    struct tobj *o;
    long base;

    warm_thread();
    base = tu_alloc_live();
    p1 = mkpool(&t1, 0);
    goconc_pool_put(p1, goconc_pool_get(p1));
    goconc_pool_free(p1);
    ck_assert_int_eq(ld(&t1.live), 0);
    ck_assert_int_eq(tu_alloc_live(), base); /* own cache freed at once */
    p2 = mkpool(&t2, 0);
    o = goconc_pool_get(p2);
    ck_assert_int_eq(ld(&t2.news), 1);
    ck_assert_uint_eq(o->magic, MAGIC_LIVE);
    goconc_pool_put(p2, o);
    goconc_pool_free(p2);
    ck_assert_int_eq(tu_alloc_live(), base);
}
END_TEST

/*
 * A get with an empty cache after a trim by another thread: it ages its
 * own cache first (a trim missed), then serves the shared level's victim
 * (doc/pool.md: victims are still served) rather than a new object.
 */
static void *get_put_one(void *arg)
{
    goconc_pool_put(arg, goconc_pool_get(arg));
    return NULL;
}

static void *trim_once(void *arg)
{
    goconc_pool_trim(arg);
    return NULL;
}

START_TEST(test_get_after_foreign_trim)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct tobj *a, *b;

    a = goconc_pool_get(p); /* main's cache: registered, empty */
    run_thread(get_put_one, p); /* its object is handed back at exit */
    ck_assert_uint_eq(stats(p).idle, 1);
    run_thread(trim_once, p); /* that object becomes a victim */
    b = goconc_pool_get(p);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(b, a);
    ck_assert_uint_eq(b->magic, MAGIC_LIVE);
    ck_assert_int_eq(ld(&t.news), 2);
    ck_assert_int_eq(ld(&t.frees), 0);
    ck_assert_uint_eq(stats(p).hits, 1);
    goconc_pool_put(p, a);
    goconc_pool_put(p, b);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

START_TEST(test_many_pools_one_thread)
{
    LOOP_MODE();
    enum { NP = 12 };
    struct tctx t[NP];
    goconc_pool *p[NP];
    struct tobj *o[NP];
    int i, round;

    for (i = 0; i < NP; i++)
        p[i] = mkpool(&t[i], 0);
    for (round = 0; round < 50; round++) {
        for (i = 0; i < NP; i++)
            o[i] = goconc_pool_get(p[(i * 5 + round) % NP]);
        for (i = 0; i < NP; i++)
            goconc_pool_put(p[(i * 5 + round) % NP], o[i]);
        if (round == 20)
            goconc_pool_free(p[3]), p[3] = mkpool(&t[3], 0);
    }
    for (i = 0; i < NP; i++) {
        ck_assert_int_eq(ld(&t[i].news), 1);
        ck_assert_uint_eq(stats(p[i]).idle, 1);
        goconc_pool_free(p[i]);
        ck_assert_int_eq(ld(&t[i].live), 0);
    }
}
END_TEST

START_TEST(test_stats_exact)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    void *v[3];
    goconc_pool_stats s;
    int i;

    for (i = 0; i < 3; i++)
        v[i] = goconc_pool_get(p);
    for (i = 0; i < 3; i++)
        goconc_pool_put(p, v[i]);
    v[0] = goconc_pool_get(p);
    v[1] = goconc_pool_get(p);
    goconc_pool_trim(p);
    goconc_pool_trim(p); /* the idle one dropped */
    v[2] = goconc_pool_get(p);
    goconc_pool_put(p, NULL);
    s = stats(p);
    ck_assert_uint_eq(s.struct_size, sizeof s);
    ck_assert_uint_eq(s.gets, 6);
    ck_assert_uint_eq(s.puts, 3);
    ck_assert_uint_eq(s.hits, 2);
    ck_assert_uint_eq(s.news, 4);
    ck_assert_uint_eq(s.drops, 1);
    ck_assert_uint_eq(s.idle, 0);
    for (i = 0; i < 3; i++)
        goconc_pool_put(p, v[i]);
    s = stats(p);
    ck_assert_uint_eq(s.puts, 6);
    ck_assert_uint_eq(s.idle, 3);
    ck_assert_uint_eq(s.puts, s.hits + s.idle + s.drops);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
}
END_TEST

/* free_obj that re-enters the same pool (get and put) while the pool is
 * dropping victims from this thread's cache. */
static goconc_pool *reent_pool;
static int reent_calls;

static void reent_free(void *ctx, void *obj)
{
    void *o;
    t_free(ctx, obj);
    if (reent_calls++ < 5) {
        o = goconc_pool_get(reent_pool);
        goconc_pool_put(reent_pool, o);
        goconc_pool_trim(reent_pool);
    }
}

START_TEST(test_reentrant_callbacks)
{
    LOOP_MODE();
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    struct tctx t;
    goconc_pool_stats s;
    void *v[40];
    int i;

    memset(&t, 0, sizeof t);
    o.new_obj = t_new;
    o.free_obj = reent_free;
    o.ctx = &t;
    ck_assert_int_eq(goconc_pool_new(&reent_pool, &o), GOCONC_OK);
    for (i = 0; i < 40; i++)
        v[i] = goconc_pool_get(reent_pool);
    for (i = 0; i < 40; i++)
        goconc_pool_put(reent_pool, v[i]);
    goconc_pool_trim(reent_pool);
    goconc_pool_trim(reent_pool);
    goconc_pool_trim(reent_pool);
    s = stats(reent_pool);
    ck_assert_int_eq(ld(&t.live), (long)s.idle);
    ck_assert_uint_eq(s.puts, s.hits + s.idle + s.drops);
    for (i = 0; i < 40; i++)
        v[i] = goconc_pool_get(reent_pool);
    for (i = 0; i < 40; i++) {
        ck_assert_uint_eq(((struct tobj *)v[i])->magic, MAGIC_LIVE);
        goconc_pool_put(reent_pool, v[i]);
    }
    goconc_pool_free(reent_pool);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(ld(&t.bad), 0);
}
END_TEST

/* Another library's key destructor running after the pool's. */
static pthread_key_t late_key;
static void *late_obj;

static void late_destructor(void *arg)
{
    goconc_pool *p = arg;
    void *o = goconc_pool_get(p); /* served without a cache */
    goconc_pool_put(p, o);
    goconc_pool_put(p, late_obj);
}

static void *late_main(void *arg)
{
    goconc_pool *p = arg;
    goconc_pool_put(p, goconc_pool_get(p)); /* record + cache first */
    pthread_setspecific(late_key, p);
    return NULL;
}

START_TEST(test_call_after_thread_exit_hook)
{
    LOOP_MODE();
    struct tctx t;
    goconc_pool *p;
    goconc_pool_stats s;
    long base;

    warm_thread();
    base = tu_alloc_live();
    p = mkpool(&t, 0);
    late_obj = goconc_pool_get(p);
    /* Keys run in creation order: the pool's key exists already. */
    ck_assert_int_eq(pthread_key_create(&late_key, late_destructor), 0);
    run_thread(late_main, p);
    s = stats(p);
    ck_assert_uint_eq(s.idle, 2);
    ck_assert_uint_eq(s.puts, 3);
    ck_assert_uint_eq(s.gets, 3);
    ck_assert_int_eq(ld(&t.news), 2);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(tu_alloc_live(), base); /* no record re-created */
    pthread_key_delete(late_key);
}
END_TEST

START_TEST(test_allocator_busy_while_pool_lives)
{
    LOOP_MODE();
    goconc_pool *p;
    /* The pool handle counts as live (gc_live_inc): no allocator swap. */
    ck_assert_int_eq(goconc_pool_new(&p, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_EBUSY);
    goconc_pool_free(p);
}
END_TEST

/* ------------------------------------------------------ allocation failure */

START_TEST(test_alloc_fail_new)
{
    LOOP_MODE();
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p;
    long n, base = tu_alloc_live();
    int rc;

    for (n = 0;; n++) {
        p = (goconc_pool *)&o;
        tu_alloc_fail_after(n);
        rc = goconc_pool_new(&p, &o);
        tu_alloc_fail_after(-1);
        if (rc == GOCONC_OK)
            break;
        ck_assert_int_eq(rc, GOCONC_ENOMEM);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(tu_alloc_live(), base);
    }
    goconc_pool_free(p);
    ck_assert_int_eq(tu_alloc_live(), base);
}
END_TEST

/* A script of gets and puts (overflowing the allowance, so chunks are
 * needed) and trims, on one thread; checks what it was served. */
struct script {
    goconc_pool *p;
    struct tctx *t;
    int bad;
};

static void *run_script(void *arg)
{
    struct script *s = arg;
    void *v[200];
    int i, round;
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 200; i++) {
            v[i] = goconc_pool_get(s->p);
            if (v[i] == NULL || ((struct tobj *)v[i])->magic != MAGIC_LIVE ||
                ((struct tobj *)v[i])->in_use)
                s->bad++;
            else
                ((struct tobj *)v[i])->in_use = 1;
        }
        for (i = 0; i < 200; i++) {
            if (v[i] != NULL)
                ((struct tobj *)v[i])->in_use = 0;
            goconc_pool_put(s->p, v[i]);
        }
        if (round == 1)
            goconc_pool_trim(s->p);
    }
    return NULL;
}

static void alloc_fail_ops(int on_thread)
{
    struct tctx t;
    struct script sc;
    goconc_pool *p;
    goconc_pool_stats s;
    long n, base, calls;
    int hit;

    warm_thread();
    for (n = 0;; n++) {
        base = tu_alloc_live();
        p = mkpool(&t, 300);
        sc.p = p;
        sc.t = &t;
        sc.bad = 0;
        calls = tu_alloc_calls();
        tu_alloc_fail_after(n);
        if (on_thread)
            run_thread(run_script, &sc);
        else
            run_script(&sc);
        goconc_pool_trim(p);
        hit = tu_alloc_calls() - calls > n;
        tu_alloc_fail_after(-1);
        ck_assert_int_eq(sc.bad, 0);
        s = stats(p);
        ck_assert_uint_eq(s.puts, 600);
        ck_assert_uint_eq(s.gets, 600);
        ck_assert_uint_eq(s.puts, s.hits + s.idle + s.drops);
        ck_assert_int_eq(ld(&t.live), (long)s.idle);
        goconc_pool_free(p);
        ck_assert_int_eq(ld(&t.live), 0);
        ck_assert_int_eq(ld(&t.bad), 0);
        ck_assert_int_eq(tu_alloc_live(), base);
        if (!hit)
            break;
    }
    ck_assert_int_gt(n, 2);
}

START_TEST(test_alloc_fail_ops_thread)
{
    LOOP_MODE();
    alloc_fail_ops(1);
}
END_TEST

START_TEST(test_alloc_fail_ops_main)
{
    LOOP_MODE();
    alloc_fail_ops(0);
}
END_TEST

START_TEST(test_alloc_fail_pool_usable)
{
    LOOP_MODE();
    /* Every allocation fails from the start on a fresh thread: no record,
     * no cache, no chunk.  The pool still serves and counts correctly. */
    struct tctx t;
    goconc_pool *p = mkpool(&t, 0);
    struct putter a = { p, { 0 }, 20 };
    goconc_pool_stats s;
    long base;
    int i;

    for (i = 0; i < a.n; i++)
        a.objs[i] = goconc_pool_get(p); /* main's cache is made here */
    ck_assert_uint_eq(stats(p).idle, 0);
    base = tu_alloc_live();
    tu_alloc_fail_after(0);
    run_thread(put_all, &a);
    tu_alloc_fail_after(-1);
    s = stats(p);
    ck_assert_uint_eq(s.puts, 20);
    ck_assert_uint_eq(s.drops, 20); /* no chunk for the shared level */
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(tu_alloc_live(), base);
    tu_alloc_fail_after(0);
    run_thread(get_all, &a);
    tu_alloc_fail_after(-1);
    for (i = 0; i < a.n; i++)
        ck_assert_ptr_nonnull(a.objs[i]); /* new_obj fallback */
    run_thread(put_all, &a);
    ck_assert_uint_eq(stats(p).idle, 20);
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&t.live), 0);
    ck_assert_int_eq(tu_alloc_live(), base - 2); /* the pool and main's cache */
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_new_bad_args),
        TU_CASE(test_null_handles),
        TU_CASE(test_stats_larger_struct),
        TU_CASE(test_no_new_obj),
        TU_LOOP(test_reuse_before_new, 0, 2),
        TU_CASE(test_reset_on_put),
        TU_LOOP(test_trim_victim_local, 0, 2),
        TU_LOOP(test_trim_victim_shared, 0, 2),
        TU_LOOP(test_thread_exit_hands_back, 0, 2),
        TU_LOOP(test_cross_thread_flush, 0, 2),
        TU_LOOP(test_handoff_steady, 0, 2),
        TU_LOOP(test_max_idle_bound, 0, 2),
        TU_LOOP(test_max_idle_one, 0, 2),
        TU_LOOP(test_default_max_idle, 0, 2),
        TU_LOOP(test_lazy_aging_other_thread, 0, 2),
        TU_LOOP(test_free_with_live_and_exited_threads, 0, 2),
        TU_LOOP(test_stale_cache_same_thread, 0, 2),
        TU_LOOP(test_many_pools_one_thread, 0, 2),
        TU_LOOP(test_get_after_foreign_trim, 0, 2),
        TU_LOOP(test_stats_exact, 0, 2),
        TU_CASE(test_reentrant_callbacks),
        TU_CASE(test_call_after_thread_exit_hook),
        TU_CASE(test_allocator_busy_while_pool_lives),
        TU_CASE(test_alloc_fail_new),
        TU_LOOP(test_alloc_fail_ops_thread, 0, 2),
        TU_LOOP(test_alloc_fail_ops_main, 0, 2),
        TU_LOOP(test_alloc_fail_pool_usable, 0, 2),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "pool", .timeout = 60);
}
