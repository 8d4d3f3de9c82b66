/* SPDX-License-Identifier: MIT */
/*
 * stress_reclaim.c - readers check objects that are poisoned when freed.
 *
 * Writers replace the objects behind a few shared pointers and retire the
 * old ones; the destroy POISONS the object (magic := POISON) and parks it
 * in a quarantine that is really freed only at the end, so a destroy that
 * runs before a grace period ended is seen by a reader as a poisoned magic
 * (and, under ThreadSanitizer, as a race on the plain fields) instead of
 * as a use-after-free that may go unnoticed.
 *
 * Readers, inside read sections (nested, through the inline and the
 * exported functions), load a pointer and check its magic and its
 * self-check fields several times, with yields in between so that grace
 * periods try to pass while they are preempted.  Writers retire with
 * goconc_defer_free, or unpublish + goconc_synchronize + poison directly,
 * and now and then call goconc_barrier.  Short-lived reader threads come
 * and go, some exiting inside a read section.
 *
 * The model: every object is created once, retired once and must be
 * destroyed exactly once (a per-object counter) and only after readers
 * that could see it left; at the end, after a barrier, destroyed ==
 * retired and every quarantined object was destroyed exactly once.
 * The seed is printed; GOCONC_SEED replays the writers' and readers'
 * choices (not the scheduling).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define SLOTS 4
#define READERS 3
#define WRITERS 2
#define MAGIC_LIVE 0x600dcafe600dcafeull
#define MAGIC_POISON 0xdeaddeaddeaddeadull

struct obj {
    uint64_t magic;   /* plain: racy access here is the bug TSan reports */
    uint64_t id;
    uint64_t check;   /* id * K, to catch torn or reused objects */
    uint64_t payload[5];
    int destroyed;    /* atomic: destroy calls */
    int retired;      /* atomic: retire calls */
    struct obj *qnext; /* quarantine link */
};

static struct obj *slots[SLOTS]; /* atomic pointers */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj *quarantine;
static long q_count;

static int stop;
static long created, retired_n, destroyed_n;
static long poisoned_reads, bad_reads, double_destroys, retire_errors;
static long sections, sync_frees, barriers, churn_threads, exits_inside;

static uint64_t seed;

#define K 0x9e3779b97f4a7c15ull

static long add_l(long *p, long v) { return __atomic_add_fetch(p, v, __ATOMIC_RELAXED); }
static long ld_l(const long *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static struct obj *obj_new(void)
{
    struct obj *o;
    uint64_t id;
    int i;
    while ((o = malloc(sizeof *o)) == NULL)
        sched_yield(); /* the harness's own memory, not the library's */
    id = (uint64_t)add_l(&created, 1);
    o->magic = MAGIC_LIVE;
    o->id = id;
    o->check = id * K;
    for (i = 0; i < 5; i++)
        o->payload[i] = id + (uint64_t)i;
    o->destroyed = 0;
    o->retired = 0;
    o->qnext = NULL;
    return o;
}

/* Poison and quarantine: the memory stays mapped and readable. */
static void poison(struct obj *o)
{
    if (__atomic_add_fetch(&o->destroyed, 1, __ATOMIC_RELAXED) != 1) {
        add_l(&double_destroys, 1);
        return; /* already quarantined */
    }
    o->magic = MAGIC_POISON;
    o->check = 0;
    pthread_mutex_lock(&q_lock);
    o->qnext = quarantine;
    quarantine = o;
    q_count++;
    pthread_mutex_unlock(&q_lock);
    add_l(&destroyed_n, 1);
}

static void poison_destroy(void *ctx, void *obj)
{
    (void)ctx;
    poison(obj);
}

/* 0 when o looks live and consistent; counts what was wrong. */
static int check_obj(const struct obj *o)
{
    const volatile struct obj *v = o;
    uint64_t magic = v->magic, id = v->id, check = v->check;
    int i;
    if (magic == MAGIC_POISON) {
        add_l(&poisoned_reads, 1);
        return 1;
    }
    if (magic != MAGIC_LIVE || check != id * K) {
        add_l(&bad_reads, 1);
        return 1;
    }
    for (i = 0; i < 5; i++)
        if (v->payload[i] != id + (uint64_t)i) {
            add_l(&bad_reads, 1);
            return 1;
        }
    return 0;
}

static void retire(struct obj *o, uint64_t *rng)
{
    if (__atomic_add_fetch(&o->retired, 1, __ATOMIC_RELAXED) != 1)
        add_l(&retire_errors, 1);
    add_l(&retired_n, 1);
    if (tu_rand(rng) % 64 == 0) {
        /* The other path: wait for readers, then free directly. */
        if (goconc_synchronize() != GOCONC_OK)
            add_l(&retire_errors, 1);
        poison(o);
        add_l(&sync_frees, 1);
        return;
    }
    while (goconc_defer_free(o, poison_destroy, NULL) != GOCONC_OK) {
        /* No failure injection here: ENOMEM would be real memory
         * exhaustion; count it and retry. */
        add_l(&retire_errors, 1);
        sched_yield();
    }
}

static void *writer(void *p)
{
    uint64_t rng = seed ^ (0x1000u + (uint64_t)(uintptr_t)p);
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        int s = (int)(tu_rand(&rng) % SLOTS);
        struct obj *n = obj_new(), *old;
        /* Release: n's fields before a reader's acquire load sees it. */
        old = __atomic_exchange_n(&slots[s], n, __ATOMIC_ACQ_REL);
        retire(old, &rng);
        if (tu_rand(&rng) % 4096 == 0) {
            if (goconc_barrier() != GOCONC_OK)
                add_l(&retire_errors, 1);
            add_l(&barriers, 1);
        }
        if (tu_rand(&rng) % 8 == 0)
            sched_yield();
    }
    return NULL;
}

/* One read section's worth of checks; exported chooses the FFI path. */
static void read_once(uint64_t *rng, int exported)
{
    struct obj *a, *b;
    int s = (int)(tu_rand(rng) % SLOTS), i, spins;

    if (exported)
        (goconc_read_lock)();
    else
        goconc_read_lock();
    a = __atomic_load_n(&slots[s], __ATOMIC_ACQUIRE);
    if (check_obj(a))
        goto out;
    /* Nested section on another slot. */
    if (exported)
        goconc_read_lock();
    else
        (goconc_read_lock)();
    b = __atomic_load_n(&slots[(s + 1) % SLOTS], __ATOMIC_ACQUIRE);
    check_obj(b);
    if (tu_rand(rng) % 16 == 0)
        sched_yield(); /* preempted inside: grace periods must wait */
    check_obj(a);
    if (exported)
        goconc_read_unlock();
    else
        (goconc_read_unlock)();
    /* Still inside the outer section: a must be intact, even though the
     * nested section closed and the slot may have moved on. */
    spins = (int)(tu_rand(rng) % 200);
    for (i = 0; i < spins; i++)
        __asm__ volatile("" ::: "memory");
    if (check_obj(a))
        goto out;
    if (tu_rand(rng) % 32 == 0)
        sched_yield();
    check_obj(a);
out:
    if (exported)
        (goconc_read_unlock)();
    else
        goconc_read_unlock();
    add_l(&sections, 1);
}

static void *reader(void *p)
{
    uint64_t rng = seed ^ (0x2000u + (uint64_t)(uintptr_t)p);
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
        read_once(&rng, tu_rand(&rng) % 8 == 0);
    return NULL;
}

/* Short-lived readers: registration and exit under load; one in four
 * exits inside a read section after its checks. */
static void *short_reader(void *p)
{
    uint64_t rng = seed ^ (0x3000u + (uint64_t)(uintptr_t)p);
    int i, n = (int)(tu_rand(&rng) % 200) + 1;
    for (i = 0; i < n; i++)
        read_once(&rng, 0);
    if ((uintptr_t)p % 4 == 0) {
        struct obj *a;
        goconc_read_lock();
        a = __atomic_load_n(&slots[0], __ATOMIC_ACQUIRE);
        check_obj(a);
        add_l(&exits_inside, 1);
        return NULL; /* inside a section */
    }
    return NULL;
}

static void *churner(void *p)
{
    uintptr_t i = 0;
    (void)p;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        pthread_t t;
        if (pthread_create(&t, NULL, short_reader, (void *)i++) == 0) {
            pthread_join(t, NULL);
            add_l(&churn_threads, 1);
        }
    }
    return NULL;
}

START_TEST(stress_poisoned_reads)
{
    pthread_t r[READERS], w[WRITERS], c;
    double secs = tu_stress_seconds(), t0, end;
    size_t max_pending = 0;
    struct obj *o, *next;
    long q_total = 0, bad_q = 0;
    int i;

    seed = tu_seed();
    for (i = 0; i < SLOTS; i++)
        slots[i] = obj_new();
    for (i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)i), 0);
    for (i = 0; i < WRITERS; i++)
        ck_assert_int_eq(pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)i), 0);
    ck_assert_int_eq(pthread_create(&c, NULL, churner, NULL), 0);

    t0 = tu_now();
    end = t0 + secs;
    while (tu_now() < end) {
        goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
        struct timespec ts = { 0, 20 * 1000000L };
        if (goconc_reclaim_stats_get(&st) == GOCONC_OK && st.pending > max_pending)
            max_pending = st.pending;
        nanosleep(&ts, NULL);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    for (i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(c, NULL);

    /* Retire what is still published, then wait for every destroy. */
    {
        uint64_t rng = seed;
        for (i = 0; i < SLOTS; i++)
            retire(__atomic_exchange_n(&slots[i], NULL, __ATOMIC_ACQ_REL), &rng);
    }
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);

    fprintf(stderr,
            "stress_reclaim: seed %" PRIu64 ", %.1f s: %ld sections, %ld "
            "objects created, %ld retired, %ld destroyed (%ld via "
            "synchronize), %ld barriers, %ld short threads (%ld exited "
            "inside a section), max pending %zu; poisoned reads %ld, bad "
            "reads %ld, double destroys %ld, retire errors %ld\n",
            seed, tu_now() - t0, ld_l(&sections), ld_l(&created),
            ld_l(&retired_n), ld_l(&destroyed_n), ld_l(&sync_frees),
            ld_l(&barriers), ld_l(&churn_threads), ld_l(&exits_inside),
            max_pending, ld_l(&poisoned_reads), ld_l(&bad_reads),
            ld_l(&double_destroys), ld_l(&retire_errors));

    /* The model. */
    ck_assert_msg(ld_l(&poisoned_reads) == 0,
                  "%ld reads of a poisoned object: freed before its grace "
                  "period ended (seed %" PRIu64 ")", ld_l(&poisoned_reads), seed);
    ck_assert_msg(ld_l(&bad_reads) == 0, "%ld inconsistent reads (seed %"
                  PRIu64 ")", ld_l(&bad_reads), seed);
    ck_assert_int_eq(ld_l(&double_destroys), 0);
    ck_assert_int_eq(ld_l(&retire_errors), 0);
    ck_assert_int_eq(ld_l(&retired_n), ld_l(&created));
    ck_assert_msg(ld_l(&destroyed_n) == ld_l(&retired_n),
                  "after a barrier %ld of %ld retired objects destroyed",
                  ld_l(&destroyed_n), ld_l(&retired_n));
    ck_assert_int_gt(ld_l(&sections), 0);
    ck_assert_int_gt(ld_l(&created), SLOTS);
    for (o = quarantine; o; o = next) {
        next = o->qnext;
        if (o->destroyed != 1 || o->retired != 1 || o->magic != MAGIC_POISON)
            bad_q++;
        q_total++;
        free(o);
    }
    quarantine = NULL;
    ck_assert_int_eq(q_total, ld_l(&created));
    ck_assert_int_eq(q_total, q_count);
    ck_assert_int_eq(bad_q, 0);
    {
        goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
        ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
        ck_assert_uint_eq(st.pending, 0);
    }
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(stress_poisoned_reads),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "stress_reclaim", .timeout = tu_stress_seconds() * 3 + 120);
}
