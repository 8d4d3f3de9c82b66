/* SPDX-License-Identifier: MIT */
/*
 * stress_pool.c - many threads getting, putting, passing objects to each
 * other, trimming and exiting, against a model:
 *  - every object carries a magic word and an in-use flag set with an
 *    atomic exchange on get and cleared on put: an object handed to two
 *    users at once, or freed while a user holds it, is counted as an error;
 *  - new_obj/free_obj keep a live count that must be zero after
 *    goconc_pool_free, whatever threads cached (exited ones and live ones);
 *  - the library's own memory returns to its baseline (tu_alloc_live).
 * Phases: default max_idle without reset_obj; a tiny max_idle with
 * reset_obj and a window where every library allocation fails; pairs of
 * threads where one only gets and hands each object through a ring to one
 * that only puts (the pattern whose caches fill on one side and drain on
 * the other), with trims between rounds; then pools freed under live
 * threads' caches and replaced by a new pool those threads go on using.
 * Workers only count; main asserts.  The seed is printed (GOCONC_SEED).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define MAGIC_LIVE 0x5eedC0DEu
#define MAGIC_DEAD 0xBADDCAFEu
#define NWORKERS 4
#define HELD 16
#define MAILBOX 64

struct sobj {
    unsigned magic;
    int in_use;
    long serial; /* producer/consumer pairs: its index in the ring */
};

struct sctx {
    long live, news, frees, bad_free;
};

static long ld(long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

static void *s_new(void *ctx)
{
    struct sctx *c = ctx;
    struct sobj *o = malloc(sizeof *o);
    if (o == NULL)
        return NULL;
    o->magic = MAGIC_LIVE;
    __atomic_store_n(&o->in_use, 0, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c->news, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c->live, 1, __ATOMIC_SEQ_CST);
    return o;
}

static void s_free(void *ctx, void *obj)
{
    struct sctx *c = ctx;
    struct sobj *o = obj;
    if (o->magic != MAGIC_LIVE || __atomic_load_n(&o->in_use, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&c->bad_free, 1, __ATOMIC_SEQ_CST);
    o->magic = MAGIC_DEAD;
    __atomic_fetch_add(&c->frees, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&c->live, 1, __ATOMIC_SEQ_CST);
    free(o);
}

static void s_reset(void *ctx, void *obj)
{
    struct sctx *c = ctx;
    struct sobj *o = obj;
    /* Called on put, after the user let go: must not be in use. */
    if (o->magic != MAGIC_LIVE || __atomic_load_n(&o->in_use, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&c->bad_free, 1, __ATOMIC_SEQ_CST);
}

/* reset: whether to pass reset_obj (puts without it take another path). */
static goconc_pool *mkpool(struct sctx *c, size_t max_idle, int reset)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p = NULL;
    memset(c, 0, sizeof *c);
    o.new_obj = s_new;
    o.free_obj = s_free;
    o.reset_obj = reset ? s_reset : NULL;
    o.ctx = c;
    o.max_idle = max_idle;
    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_OK);
    return p;
}

/* Objects passed between threads: got on one, put on another. */
static struct {
    pthread_mutex_t mu;
    struct sobj *obj[MAILBOX];
    int n;
} mailbox = { PTHREAD_MUTEX_INITIALIZER, { 0 }, 0 };

static long errors;   /* double hand-out, bad magic, NULL from get */
static int stop;

static void error(void) { __atomic_fetch_add(&errors, 1, __ATOMIC_SEQ_CST); }

static struct sobj *take(goconc_pool *p)
{
    struct sobj *o = goconc_pool_get(p);
    if (o == NULL || o->magic != MAGIC_LIVE) {
        error();
        return NULL;
    }
    if (__atomic_exchange_n(&o->in_use, 1, __ATOMIC_SEQ_CST) != 0)
        error(); /* handed to two users at once */
    return o;
}

static void give(goconc_pool *p, struct sobj *o)
{
    if (__atomic_exchange_n(&o->in_use, 0, __ATOMIC_SEQ_CST) != 1)
        error();
    goconc_pool_put(p, o);
}

struct worker {
    pthread_t th;
    goconc_pool *p;
    uint64_t seed;
    long ops;
    int done;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct sobj *held[HELD];
    uint64_t rs = w->seed;
    long i, budget = 1000 + (long)(tu_rand(&rs) % 40000);
    int nh = 0, r;
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;

    for (i = 0; i < budget && !__atomic_load_n(&stop, __ATOMIC_RELAXED); i++) {
        r = (int)(tu_rand(&rs) % 1000);
        if (r < 350) {
            if (nh == HELD)
                give(w->p, held[--nh]);
            if ((held[nh] = take(w->p)) != NULL)
                nh++;
        } else if (r < 700) {
            if (nh > 0) {
                int k = (int)(tu_rand(&rs) % (unsigned)nh);
                struct sobj *o = held[k];
                held[k] = held[--nh];
                give(w->p, o);
            }
        } else if (r < 850) {
            pthread_mutex_lock(&mailbox.mu);
            if (nh > 0 && mailbox.n < MAILBOX && (r & 1))
                mailbox.obj[mailbox.n++] = held[--nh]; /* still in use */
            else if (nh < HELD && mailbox.n > 0)
                held[nh++] = mailbox.obj[--mailbox.n];
            pthread_mutex_unlock(&mailbox.mu);
        } else if (r < 853) {
            goconc_pool_trim(w->p);
        } else if (r < 856) {
            if (goconc_pool_stats_get(w->p, &st) != GOCONC_OK ||
                st.hits > st.gets)
                error();
        } else {
            struct sobj *o = take(w->p);
            if (o != NULL)
                give(w->p, o);
        }
    }
    while (nh > 0)
        give(w->p, held[--nh]);
    w->ops = i;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void drain_mailbox(goconc_pool *p)
{
    pthread_mutex_lock(&mailbox.mu);
    while (mailbox.n > 0)
        give(p, mailbox.obj[--mailbox.n]);
    pthread_mutex_unlock(&mailbox.mu);
}

static void spawn(struct worker *w, goconc_pool *p, uint64_t seed)
{
    w->p = p;
    w->seed = seed;
    w->done = 0;
    ck_assert_int_eq(pthread_create(&w->th, NULL, worker_main, w), 0);
}

/* Workers come and go (thread exit hands caches back) for `secs`. */
static long churn(goconc_pool *p, double secs, int fail_window)
{
    static struct worker w[NWORKERS];
    struct timespec nap = { 0, 1000000 };
    uint64_t seed = tu_seed(), n = 0;
    double t0 = tu_now(), now;
    long spawned = 0, ops = 0;
    int i, failing = 0;

    __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
    for (i = 0; i < NWORKERS; i++, spawned++)
        spawn(&w[i], p, seed ^ (++n * 0x9e3779b97f4a7c15ull));
    while ((now = tu_now()) - t0 < secs) {
        if (fail_window) {
            /* Middle fifth: every library allocation fails. */
            int want = now - t0 > secs * 0.4 && now - t0 < secs * 0.6;
            if (want != failing)
                tu_alloc_fail_after(want ? 0 : -1);
            failing = want;
        }
        for (i = 0; i < NWORKERS; i++)
            if (__atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE)) {
                ck_assert_int_eq(pthread_join(w[i].th, NULL), 0);
                ops += w[i].ops;
                spawn(&w[i], p, seed ^ (++n * 0x9e3779b97f4a7c15ull));
                spawned++;
            }
        nanosleep(&nap, NULL);
    }
    tu_alloc_fail_after(-1);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < NWORKERS; i++) {
        ck_assert_int_eq(pthread_join(w[i].th, NULL), 0);
        ops += w[i].ops;
    }
    drain_mailbox(p);
    fprintf(stderr, "  %ld threads, %ld ops\n", spawned, ops);
    return ops;
}

static void check_model(goconc_pool *p, struct sctx *c)
{
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    ck_assert_int_eq(goconc_pool_stats_get(p, &s), GOCONC_OK);
    /* Quiescent: every counter is exact. */
    ck_assert_uint_eq(s.news, (uint64_t)ld(&c->news));
    ck_assert_uint_eq(s.puts, s.hits + s.idle + s.drops);
    ck_assert_uint_eq(s.gets, s.hits + s.news);
    ck_assert_int_eq(ld(&c->live), (long)s.idle);
    ck_assert_uint_eq(s.drops, (uint64_t)ld(&c->frees));
}

/* Free p and check what it left: no worker error, every object freed
 * once and none live, (balanced) as many frees as news, and the
 * library's memory back at base. */
static void free_checked(goconc_pool *p, struct sctx *c, long base, int balanced)
{
    goconc_pool_free(p);
    ck_assert_int_eq(ld(&errors), 0);
    ck_assert_int_eq(ld(&c->bad_free), 0);
    ck_assert_int_eq(ld(&c->live), 0);
    if (balanced)
        ck_assert_int_eq(ld(&c->news), ld(&c->frees));
    ck_assert_int_eq(tu_alloc_live(), base);
}

static void warm_thread(void)
{
    struct sctx c;
    goconc_pool *p = mkpool(&c, 0, 1);
    goconc_pool_put(p, goconc_pool_get(p));
    goconc_pool_free(p);
}

START_TEST(test_churn_default)
{
    struct sctx c;
    goconc_pool *p;
    long base;

    warm_thread();
    base = tu_alloc_live();
    p = mkpool(&c, 0, 0);
    ck_assert_int_gt(churn(p, tu_stress_seconds() * 0.4, 0), 0);
    check_model(p, &c);
    free_checked(p, &c, base, 1);
}
END_TEST

START_TEST(test_churn_tiny_failing)
{
    struct sctx c;
    goconc_pool *p;
    long base;

    warm_thread();
    base = tu_alloc_live();
    p = mkpool(&c, 8, 1);
    ck_assert_int_gt(churn(p, tu_stress_seconds() * 0.4, 1), 0);
    check_model(p, &c);
    free_checked(p, &c, base, 0);
}
END_TEST

/* --------------------------------------------- producer/consumer pairs */

#define PC_PAIRS 2
#define PC_RING 128 /* power of two */

/* One single-producer single-consumer ring per pair. */
struct pc_ring {
    _Alignas(64) size_t head; /* written by the getter */
    _Alignas(64) size_t tail; /* written by the putter */
    struct sobj *slot[PC_RING];
};

struct pc_thread {
    pthread_t th;
    goconc_pool *p;
    struct pc_ring *ring;
    long n;  /* objects to move this round */
    long bad; /* an object out of order in the ring */
};

static void pc_wait(int *spins)
{
    if (++*spins % 64 == 0)
        sched_yield(); /* the partner may not be running */
}

/* Gets n objects, stamps each with its index and passes it on, in use. */
static void *pc_getter(void *arg)
{
    struct pc_thread *t = arg;
    struct pc_ring *r = t->ring;
    long k;
    int spins;
    for (k = 0; k < t->n; k++) {
        struct sobj *o = take(t->p); /* NULL: counted, passed on as is */
        if (o != NULL)
            o->serial = k;
        /* Acquire: pairs with the putter's release of tail. */
        for (spins = 0; k - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) ==
                        PC_RING;)
            pc_wait(&spins);
        r->slot[k % PC_RING] = o;
        /* Release: the slot and the object's serial before head. */
        __atomic_store_n(&r->head, (size_t)k + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Puts every object the getter passes, checking it comes in order. */
static void *pc_putter(void *arg)
{
    struct pc_thread *t = arg;
    struct pc_ring *r = t->ring;
    long k;
    int spins;
    for (k = 0; k < t->n; k++) {
        struct sobj *o;
        for (spins = 0; __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) ==
                        (size_t)k;)
            pc_wait(&spins);
        o = r->slot[k % PC_RING];
        __atomic_store_n(&r->tail, (size_t)k + 1, __ATOMIC_RELEASE);
        if (o == NULL)
            continue;
        if (o->serial != k)
            t->bad++;
        give(t->p, o);
    }
    return NULL;
}

/*
 * Rounds of PC_PAIRS getter/putter pairs on fresh threads (so every round
 * ends with caches handed back at exit: the getters' empty, the putters'
 * full), a trim now and then between rounds.  Returns the objects moved;
 * every one was got once and put once.
 */
static long pc_rounds(goconc_pool *p, double secs, uint64_t seed)
{
    static struct pc_ring rings[PC_PAIRS];
    static struct pc_thread g[PC_PAIRS], q[PC_PAIRS];
    uint64_t rs = seed;
    double t0 = tu_now();
    long moved = 0, bad = 0, rounds;
    int i;

    for (rounds = 0; rounds < 4 || tu_now() - t0 < secs; rounds++) {
        for (i = 0; i < PC_PAIRS; i++) {
            rings[i].head = rings[i].tail = 0;
            g[i].p = q[i].p = p;
            g[i].ring = q[i].ring = &rings[i];
            g[i].n = q[i].n = 1 + (long)(tu_rand(&rs) % 20000);
            q[i].bad = 0;
            ck_assert_int_eq(pthread_create(&g[i].th, NULL, pc_getter, &g[i]), 0);
            ck_assert_int_eq(pthread_create(&q[i].th, NULL, pc_putter, &q[i]), 0);
        }
        for (i = 0; i < PC_PAIRS; i++) {
            ck_assert_int_eq(pthread_join(g[i].th, NULL), 0);
            ck_assert_int_eq(pthread_join(q[i].th, NULL), 0);
            moved += q[i].n;
            bad += q[i].bad;
        }
        if (tu_rand(&rs) % 4 == 0)
            goconc_pool_trim(p);
    }
    ck_assert_int_eq(bad, 0);
    fprintf(stderr, "  %ld rounds, %ld objects moved\n", rounds, moved);
    return moved;
}

START_TEST(test_producer_consumer)
{
    /* Default limits; a max_idle below two batches, with reset_obj; a
     * max_idle that cuts a batch short. */
    static const size_t max_idle[3] = { 0, 40, 70 };
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    struct sctx c;
    goconc_pool *p;
    uint64_t seed = tu_seed();
    long base, moved;

    warm_thread();
    base = tu_alloc_live();
    p = mkpool(&c, max_idle[_i], _i == 1);
    moved = pc_rounds(p, tu_stress_seconds() * 0.1, seed + (uint64_t)_i);
    check_model(p, &c);
    ck_assert_int_eq(goconc_pool_stats_get(p, &s), GOCONC_OK);
    ck_assert_uint_eq(s.gets, (uint64_t)moved);
    ck_assert_uint_eq(s.puts, (uint64_t)moved);
    free_checked(p, &c, base, 1);
}
END_TEST

/* Threads that keep caches of pool A while A is freed, then use B. */
struct holder {
    pthread_t th;
    goconc_pool *a, *b;
    uint64_t seed;
    pthread_barrier_t *bar;
};

static void *holder_main(void *arg)
{
    struct holder *h = arg;
    struct sobj *o[HELD];
    uint64_t rs = h->seed;
    int i, k, round;

    for (round = 0; round < 3; round++) {
        k = 1 + (int)(tu_rand(&rs) % HELD);
        for (i = 0; i < k; i++)
            o[i] = take(h->a);
        for (i = 0; i < k; i++)
            if (o[i] != NULL)
                give(h->a, o[i]);
    }
    pthread_barrier_wait(h->bar); /* A is freed now, our cache with it */
    pthread_barrier_wait(h->bar); /* B exists */
    for (round = 0; round < 200; round++) {
        k = 1 + (int)(tu_rand(&rs) % HELD);
        for (i = 0; i < k; i++)
            o[i] = take(h->b);
        for (i = 0; i < k; i++)
            if (o[i] != NULL)
                give(h->b, o[i]);
        if (round % 50 == 0)
            goconc_pool_trim(h->b);
    }
    return NULL;
}

START_TEST(test_free_under_live_threads)
{
    enum { NH = 6 };
    static struct holder h[NH];
    pthread_barrier_t bar;
    struct sctx ca, cb;
    goconc_pool *a, *b;
    uint64_t seed = tu_seed();
    long base, rounds;
    int i;
    double t0 = tu_now();

    warm_thread();
    base = tu_alloc_live();
    for (rounds = 0; rounds < 3 || tu_now() - t0 < tu_stress_seconds() * 0.2;
         rounds++) {
        pthread_barrier_init(&bar, NULL, NH + 1);
        a = mkpool(&ca, (size_t)(rounds % 3) * 7, (int)(rounds & 1));
        for (i = 0; i < NH; i++) {
            h[i].a = a;
            h[i].b = NULL;
            h[i].bar = &bar;
            h[i].seed = seed + (uint64_t)(rounds * NH + i);
            ck_assert_int_eq(pthread_create(&h[i].th, NULL, holder_main, &h[i]), 0);
        }
        pthread_barrier_wait(&bar);
        check_model(a, &ca);
        goconc_pool_free(a);
        ck_assert_int_eq(ld(&ca.live), 0);
        ck_assert_int_eq(ld(&ca.bad_free), 0);
        b = mkpool(&cb, 0, (int)(rounds & 2)); /* often at a's address */
        for (i = 0; i < NH; i++)
            h[i].b = b;
        pthread_barrier_wait(&bar);
        for (i = 0; i < NH; i++)
            ck_assert_int_eq(pthread_join(h[i].th, NULL), 0);
        check_model(b, &cb);
        goconc_pool_free(b);
        pthread_barrier_destroy(&bar);
        ck_assert_int_eq(ld(&cb.live), 0);
        ck_assert_int_eq(ld(&cb.bad_free), 0);
        ck_assert_int_eq(ld(&errors), 0);
        ck_assert_int_eq(tu_alloc_live(), base);
    }
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_churn_default),
        TU_CASE(test_churn_tiny_failing),
        TU_LOOP(test_producer_consumer, 0, 3),
        TU_CASE(test_free_under_live_threads),
    };

    tu_alloc_install();
    tu_seed();
    return TU_RUN(cases, .name = "pool-stress", .timeout = 240);
}
