/* SPDX-License-Identifier: MIT */
/*
 * stress_value.c - multi-threaded stress of goconc_value with oracles.
 *
 * 1. Poison: writers store, swap and compare-and-swap objects that carry a
 *    magic word; destroy poisons it and parks the object in a quarantine
 *    (freed much later), so a destroy that comes too early is seen by a
 *    reader as poison instead of as silent garbage.  Readers check every
 *    object they load in read sections; an acquirer holds references
 *    across sleeps, through goconc_value_free, and checks them again.
 *    Every writer stores increasing sequence numbers: no thread may see a
 *    writer's sequence go backwards, and no load may return an older
 *    object of a writer than one any thread saw before it started
 *    (linearizability).  At the end every object made was destroyed
 *    exactly once.
 * 2. CAS counter: threads increment a counter object by compare-and-swap
 *    against the object they hold (read section or reference) while
 *    freed objects' addresses are reused at once by malloc; a lost or
 *    doubled increment (ABA) shows in the final count.
 *
 * 3. Last reference against the unstore: a thread releases the last
 *    reference to a freed value's object at a random moment of the
 *    barrier that drops the object's stored count, so the two decrements
 *    race; every object must be destroyed once and, at the end, nothing
 *    may keep the allocator busy (the live count a node takes for its
 *    references, gc_refs_owner_drop, balanced on every interleaving).
 *
 * Workers never ck_assert: they count errors, main asserts.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"

#define LIVE 0x600dc0ffee5eed01ull
#define POISON 0xdeaddeaddeaddeadull
#define MAX_IDS (1u << 22)
#define QUARANTINE (1u << 15)
#define NWRITERS 2
#define NREADERS 2
#define HELD_REFS 8

struct sobj {
    uint64_t magic; /* atomic: LIVE until destroyed, then POISON */
    uint64_t id;
    uint64_t writer;
    uint64_t seq;
    uint64_t check; /* a function of the three above */
};

static uint64_t check_of(const struct sobj *o)
{
    return (o->id * 0x9e3779b97f4a7c15ull) ^ (o->writer << 56) ^ o->seq;
}

/* ------------------------------------------------------------- oracle */

static struct {
    uint8_t *dcount;    /* destroys per id */
    uint64_t next_id;   /* atomic */
    uint64_t errors;    /* atomic */
    uint64_t poisoned;  /* atomic: poison seen by a reader/acquirer */
    uint64_t backwards; /* atomic: a sequence went backwards */
    uint64_t twice;     /* atomic: destroyed twice */
    uint64_t global_max[NWRITERS]; /* atomic: highest seq any thread saw */
    pthread_mutex_t qlock;
    struct sobj **quarantine;
    size_t qhead, qlen;
    int stop;         /* atomic: 1 = stop working, 2 = value freed */
    int acquirer_out; /* atomic: the acquirer no longer touches the value */
} O;

static void err(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&O.errors, 1, __ATOMIC_RELAXED);
}

static struct sobj *make(unsigned writer, uint64_t seq)
{
    uint64_t id = __atomic_fetch_add(&O.next_id, 1, __ATOMIC_RELAXED);
    struct sobj *o;
    if (id >= MAX_IDS) {
        __atomic_store_n(&O.next_id, MAX_IDS, __ATOMIC_RELAXED);
        return NULL;
    }
    o = malloc(sizeof *o);
    if (o == NULL) {
        __atomic_fetch_sub(&O.next_id, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    o->id = id;
    o->writer = writer;
    o->seq = seq;
    o->check = check_of(o);
    __atomic_store_n(&o->magic, LIVE, __ATOMIC_RELAXED);
    return o;
}

static void poison_destroy(void *ctx, void *obj)
{
    struct sobj *o = obj, *old = NULL;
    (void)ctx;
    if (__atomic_exchange_n(&o->magic, POISON, __ATOMIC_RELAXED) != LIVE)
        err(&O.twice);
    if (__atomic_fetch_add(&O.dcount[o->id], 1, __ATOMIC_RELAXED) != 0)
        err(&O.twice);
    pthread_mutex_lock(&O.qlock);
    if (O.qlen == QUARANTINE) { /* full: the oldest leaves */
        old = O.quarantine[O.qhead];
        O.quarantine[O.qhead] = o;
        O.qhead = (O.qhead + 1) % QUARANTINE;
    } else {
        O.quarantine[(O.qhead + O.qlen) % QUARANTINE] = o;
        O.qlen++;
    }
    pthread_mutex_unlock(&O.qlock);
    free(old);
}

/* Check one object seen at this point; last[] is the thread's view. */
static void check(const struct sobj *o, uint64_t *last, const uint64_t *floor_)
{
    uint64_t w, seq, m;
    if (__atomic_load_n(&o->magic, __ATOMIC_RELAXED) != LIVE) {
        err(&O.poisoned);
        return;
    }
    if (o->check != check_of(o) || o->writer >= NWRITERS) {
        err(&O.errors);
        return;
    }
    w = o->writer;
    seq = o->seq;
    if (seq < last[w] || (floor_ && seq < floor_[w]))
        err(&O.backwards);
    last[w] = seq;
    m = __atomic_load_n(&O.global_max[w], __ATOMIC_RELAXED);
    while (m < seq && !__atomic_compare_exchange_n(&O.global_max[w], &m, seq, 1,
                                                   __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

static int stopped(void) { return __atomic_load_n(&O.stop, __ATOMIC_ACQUIRE); }

static void sleep_us(long us)
{
    struct timespec ts = { 0, us * 1000 };
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ workers */

struct worker {
    goconc_value *v;
    unsigned idx;
    uint64_t rng;
    uint64_t ops;
    pthread_t tid;
};

/* Writer 0 stores; writer 1 mixes swap (holding the old reference for a
 * while) and compare-and-swap against an acquired reference. */
static void *writer_main(void *arg)
{
    struct worker *w = arg;
    uint64_t seq = 0;
    goconc_value_ref *r;
    struct sobj *o;
    int st;

    while (!stopped()) {
        if ((o = make(w->idx, ++seq)) == NULL) {
            sleep_us(100);
            continue;
        }
        if (w->idx == 0) {
            st = goconc_value_store(w->v, o);
        } else if (tu_rand(&w->rng) & 1) {
            st = goconc_value_swap(w->v, o, &r);
            if (st == GOCONC_OK && r != NULL) {
                const struct sobj *old = goconc_value_ref_get(r);
                if (tu_rand(&w->rng) % 8 == 0)
                    sleep_us(50);
                if (__atomic_load_n(&old->magic, __ATOMIC_RELAXED) != LIVE)
                    err(&O.poisoned);
                goconc_value_release(r);
            }
        } else {
            r = goconc_value_acquire(w->v);
            st = goconc_value_compare_and_swap(w->v, goconc_value_ref_get(r), o);
            goconc_value_release(r);
            if (st == GOCONC_CHANGED) {
                poison_destroy(NULL, o); /* still ours: account for it */
                st = GOCONC_OK;
            }
        }
        if (st != GOCONC_OK) {
            err(&O.errors);
            poison_destroy(NULL, o);
        }
        w->ops++;
        if (tu_rand(&w->rng) % 64 == 0)
            sched_yield();
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    struct worker *w = arg;
    uint64_t last[NWRITERS] = { 0 }, floor_[NWRITERS];
    const struct sobj *a, *b;
    unsigned i;

    while (!stopped()) {
        for (i = 0; i < NWRITERS; i++)
            floor_[i] = __atomic_load_n(&O.global_max[i], __ATOMIC_ACQUIRE);
        goconc_read_lock();
        a = goconc_value_load(w->v);
        if (a != NULL)
            check(a, last, floor_);
        if (tu_rand(&w->rng) % 16 == 0) {
            /* Nested section, a second load, then the first object again:
             * still alive until the outermost unlock. */
            goconc_read_lock();
            b = (goconc_value_load)(w->v); /* the exported function */
            if (b != NULL)
                check(b, last, NULL);
            goconc_read_unlock();
            if (a != NULL && __atomic_load_n(&a->magic, __ATOMIC_RELAXED) != LIVE)
                err(&O.poisoned);
        }
        goconc_read_unlock();
        w->ops++;
    }
    return NULL;
}

/* Holds up to HELD_REFS references across sleeps; after main frees the
 * value (stop == 2) it keeps checking them, then releases. */
static void *acquirer_main(void *arg)
{
    struct worker *w = arg;
    goconc_value_ref *held[HELD_REFS] = { NULL };
    uint64_t last[NWRITERS] = { 0 };
    unsigned i, k;

    while (!stopped()) {
        k = (unsigned)(tu_rand(&w->rng) % HELD_REFS);
        goconc_value_release(held[k]);
        held[k] = goconc_value_acquire(w->v);
        if (held[k] != NULL)
            check(goconc_value_ref_get(held[k]), last, NULL);
        sleep_us((long)(tu_rand(&w->rng) % 300));
        for (i = 0; i < HELD_REFS; i++) {
            const struct sobj *o = goconc_value_ref_get(held[i]);
            if (o && __atomic_load_n(&o->magic, __ATOMIC_RELAXED) != LIVE)
                err(&O.poisoned);
        }
        w->ops++;
    }
    /* Main frees the value now; references must survive it. */
    __atomic_store_n(&O.acquirer_out, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&O.stop, __ATOMIC_ACQUIRE) != 2)
        sleep_us(100);
    sleep_us(2000);
    for (i = 0; i < HELD_REFS; i++) {
        const struct sobj *o = goconc_value_ref_get(held[i]);
        if (o && (__atomic_load_n(&o->magic, __ATOMIC_RELAXED) != LIVE ||
                  o->check != check_of(o)))
            err(&O.poisoned);
        goconc_value_release(held[i]);
    }
    return NULL;
}

static void oracle_init(void)
{
    memset(&O, 0, sizeof O);
    O.dcount = calloc(MAX_IDS, 1);
    O.quarantine = calloc(QUARANTINE, sizeof *O.quarantine);
    ck_assert_ptr_nonnull(O.dcount);
    ck_assert_ptr_nonnull(O.quarantine);
    pthread_mutex_init(&O.qlock, NULL);
}

static void oracle_fini(void)
{
    size_t i;
    for (i = 0; i < O.qlen; i++)
        free(O.quarantine[(O.qhead + i) % QUARANTINE]);
    free(O.quarantine);
    free(O.dcount);
    pthread_mutex_destroy(&O.qlock);
}

START_TEST(test_poison)
{
    struct worker wr[NWRITERS], rd[NREADERS], aq;
    goconc_value *v;
    uint64_t seed = tu_seed(), made, i, missing = 0, extra = 0, ops_w = 0, ops_r = 0;
    double end;
    unsigned k;

    oracle_init();
    ck_assert_int_eq(goconc_value_new(&v, poison_destroy, NULL), GOCONC_OK);
    for (k = 0; k < NWRITERS; k++)
        wr[k] = (struct worker){ v, k, seed ^ (k + 1) * 0x1111, 0, 0 };
    for (k = 0; k < NREADERS; k++)
        rd[k] = (struct worker){ v, k, seed ^ (k + 1) * 0x2222, 0, 0 };
    aq = (struct worker){ v, 0, seed ^ 0x3333, 0, 0 };
    for (k = 0; k < NWRITERS; k++)
        ck_assert_int_eq(pthread_create(&wr[k].tid, NULL, writer_main, &wr[k]), 0);
    for (k = 0; k < NREADERS; k++)
        ck_assert_int_eq(pthread_create(&rd[k].tid, NULL, reader_main, &rd[k]), 0);
    ck_assert_int_eq(pthread_create(&aq.tid, NULL, acquirer_main, &aq), 0);

    end = tu_now() + tu_stress_seconds();
    while (tu_now() < end && __atomic_load_n(&O.errors, __ATOMIC_RELAXED) == 0)
        sleep_us(10000);
    __atomic_store_n(&O.stop, 1, __ATOMIC_RELEASE);
    for (k = 0; k < NWRITERS; k++) {
        pthread_join(wr[k].tid, NULL);
        ops_w += wr[k].ops;
    }
    for (k = 0; k < NREADERS; k++) {
        pthread_join(rd[k].tid, NULL);
        ops_r += rd[k].ops;
    }
    while (!__atomic_load_n(&O.acquirer_out, __ATOMIC_ACQUIRE))
        sleep_us(100);
    goconc_value_free(v); /* while the acquirer still holds references */
    __atomic_store_n(&O.stop, 2, __ATOMIC_RELEASE);
    pthread_join(aq.tid, NULL);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);

    made = __atomic_load_n(&O.next_id, __ATOMIC_RELAXED);
    for (i = 0; i < made; i++) {
        missing += O.dcount[i] == 0;
        extra += O.dcount[i] > 1;
    }
    fprintf(stderr, "poison: %" PRIu64 " objects, %" PRIu64 " writes, %" PRIu64
            " loads, %" PRIu64 " acquires\n", made, ops_w, ops_r, aq.ops);
    if (O.errors || missing || extra)
        fprintf(stderr, "FAILED with seed %" PRIu64 ": errors %" PRIu64 " poisoned %" PRIu64
                " backwards %" PRIu64 " twice %" PRIu64 " never destroyed %" PRIu64 "\n",
                seed, O.errors, O.poisoned, O.backwards, O.twice, missing);
    ck_assert_uint_eq(O.poisoned, 0);
    ck_assert_uint_eq(O.backwards, 0);
    ck_assert_uint_eq(O.twice, 0);
    ck_assert_uint_eq(O.errors, 0);
    ck_assert_uint_eq(missing, 0);
    ck_assert_uint_eq(extra, 0);
    ck_assert_uint_gt(made, 100);
    ck_assert_uint_gt(ops_r, 100);
    ck_assert_uint_gt(aq.ops, 10);
    /* Every reference went: the live counts that nodes took for them,
     * racing with their releases, balanced out. */
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_OK);
    oracle_fini();
}
END_TEST

/* ------------------------------------------------------- CAS counter */

#define NCOUNTERS 2

struct counter {
    uint64_t n;
    uint64_t magic; /* atomic */
};

static uint64_t counters_made, counters_destroyed, counter_bad; /* atomic */

static void counter_destroy(void *ctx, void *obj)
{
    struct counter *c = obj;
    (void)ctx;
    if (__atomic_exchange_n(&c->magic, POISON, __ATOMIC_RELAXED) != LIVE)
        __atomic_fetch_add(&counter_bad, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&counters_destroyed, 1, __ATOMIC_RELAXED);
    free(c); /* at once: malloc hands the address out again soon */
}

static struct counter *counter_new(uint64_t n)
{
    struct counter *c = malloc(sizeof *c);
    if (c) {
        c->n = n;
        __atomic_store_n(&c->magic, LIVE, __ATOMIC_RELAXED);
        __atomic_fetch_add(&counters_made, 1, __ATOMIC_RELAXED);
    }
    return c;
}

struct incr {
    goconc_value *v;
    uint64_t rng, done, failed_cas, errors;
    double end;
    pthread_t tid;
};

/* One increment: read the current counter under a read section or a
 * reference, CAS in its successor, retry on CHANGED. */
static void *incr_main(void *arg)
{
    struct incr *t = arg;
    while (tu_now() < t->end) {
        struct counter *next;
        const struct counter *cur;
        goconc_value_ref *r = NULL;
        int st, use_ref = (int)(tu_rand(&t->rng) & 1);
        if (use_ref) {
            r = goconc_value_acquire(t->v);
            cur = goconc_value_ref_get(r);
        } else {
            goconc_read_lock();
            cur = goconc_value_load(t->v);
        }
        if (cur == NULL || __atomic_load_n(&cur->magic, __ATOMIC_RELAXED) != LIVE) {
            t->errors++;
            next = NULL;
            st = GOCONC_EINVAL;
        } else if ((next = counter_new(cur->n + 1)) == NULL) {
            st = GOCONC_ENOMEM;
        } else {
            if (use_ref && tu_rand(&t->rng) % 32 == 0)
                sched_yield(); /* widen the window: a reference may wait */
            st = goconc_value_compare_and_swap(t->v, cur, next);
        }
        if (use_ref)
            goconc_value_release(r);
        else
            goconc_read_unlock();
        if (st == GOCONC_OK) {
            t->done++;
        } else if (st == GOCONC_CHANGED) {
            t->failed_cas++;
            counter_destroy(NULL, next);
        } else if (st != GOCONC_ENOMEM) {
            t->errors++;
            break;
        }
    }
    return NULL;
}

START_TEST(test_cas_counter)
{
    struct incr t[NCOUNTERS];
    goconc_value *v;
    uint64_t seed = tu_seed(), total = 0, failed = 0, errors = 0, final_n;
    double end = tu_now() + tu_stress_seconds();
    unsigned k;

    ck_assert_int_eq(goconc_value_new(&v, counter_destroy, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_value_store(v, counter_new(0)), GOCONC_OK);
    for (k = 0; k < NCOUNTERS; k++) {
        t[k] = (struct incr){ v, seed ^ (k + 7) * 0x5555, 0, 0, 0, end, 0 };
        ck_assert_int_eq(pthread_create(&t[k].tid, NULL, incr_main, &t[k]), 0);
    }
    for (k = 0; k < NCOUNTERS; k++) {
        pthread_join(t[k].tid, NULL);
        total += t[k].done;
        failed += t[k].failed_cas;
        errors += t[k].errors;
    }
    goconc_read_lock();
    final_n = ((const struct counter *)goconc_value_load(v))->n;
    goconc_read_unlock();
    goconc_value_free(v);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    fprintf(stderr, "cas counter: %" PRIu64 " increments, %" PRIu64 " CHANGED\n",
            total, failed);
    if (errors || final_n != total || counter_bad)
        fprintf(stderr, "FAILED with seed %" PRIu64 "\n", seed);
    ck_assert_uint_eq(errors, 0);
    ck_assert_uint_eq(counter_bad, 0);
    ck_assert_uint_eq(final_n, total);
    ck_assert_uint_eq(counters_made, counters_destroyed);
    ck_assert_uint_gt(total, 100);
}
END_TEST

/* ------------------------------------------- last reference, unstore */

static long race_destroys;

static void race_destroy(void *ctx, void *obj)
{
    (void)ctx, (void)obj;
    __atomic_fetch_add(&race_destroys, 1, __ATOMIC_RELAXED);
}

struct releaser {
    goconc_value_ref *r; /* handed over with go */
    unsigned long go, done, delay; /* atomic: round numbers; spins */
    int stop;
    pthread_t tid;
};

static void *releaser_main(void *arg)
{
    struct releaser *x = arg;
    unsigned long round = 0, i;
    while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
        if (__atomic_load_n(&x->go, __ATOMIC_ACQUIRE) == round) {
            __asm__ __volatile__("" ::: "memory");
            continue;
        }
        round++;
        for (i = __atomic_load_n(&x->delay, __ATOMIC_RELAXED); i > 0; i--)
            __asm__ __volatile__("" ::: "memory");
        goconc_value_release(x->r);
        __atomic_store_n(&x->done, round, __ATOMIC_RELEASE);
    }
    return NULL;
}

START_TEST(test_last_ref_vs_unstore)
{
    static int obj;
    struct releaser x;
    uint64_t rng = tu_seed();
    unsigned long round, spins = 1;
    double end = tu_now() + tu_stress_seconds() / 2;

    memset(&x, 0, sizeof x);
    ck_assert_int_eq(pthread_create(&x.tid, NULL, releaser_main, &x), 0);
    for (round = 1; round < 100 || tu_now() < end; round++) {
        goconc_value *v = NULL;
        double t0;
        ck_assert_int_eq(goconc_value_new(&v, race_destroy, NULL), GOCONC_OK);
        ck_assert_int_eq(goconc_value_store(v, &obj), GOCONC_OK);
        x.r = goconc_value_acquire(v);
        ck_assert_ptr_nonnull(x.r);
        goconc_value_free(v); /* the stored count now waits for the barrier */
        /* Release somewhere inside the barrier that runs the unstore:
         * spread over as many spins as a barrier lasted before. */
        __atomic_store_n(&x.delay, tu_rand(&rng) % spins, __ATOMIC_RELAXED);
        t0 = tu_now();
        __atomic_store_n(&x.go, round, __ATOMIC_RELEASE);
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        if (round < 100) /* calibrate: about 3 spins a nanosecond or fewer */
            spins = (unsigned long)((tu_now() - t0) * 3e9) + 1;
        while (__atomic_load_n(&x.done, __ATOMIC_ACQUIRE) != round)
            ;
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    }
    __atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
    pthread_join(x.tid, NULL);
    fprintf(stderr, "last ref vs unstore: %lu rounds\n", round - 1);
    ck_assert_int_eq(race_destroys, (long)(round - 1));
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_OK);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_poison),
        TU_CASE(test_cas_counter),
        TU_CASE(test_last_ref_vs_unstore),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "value_stress", .timeout = 240);
}
