/* SPDX-License-Identifier: MIT */
/*
 * test_common.c - status codes, goconc_strerror, version, the allocator
 * (argument checks, EBUSY, every allocation routed through it, per-thread
 * records freed by the allocator that made them) and the bad inputs of
 * goconc_reclaim_stats_get.
 *
 * Each test runs in its own process (Check's fork mode), so it may install
 * its own allocator; a test that does restores malloc/free before it ends.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------ statuses */

_Static_assert(GOCONC_OK == 0, "pinned");
_Static_assert(GOCONC_NOTFOUND == 1, "pinned");
_Static_assert(GOCONC_EXISTS == 2, "pinned");
_Static_assert(GOCONC_CHANGED == 3, "pinned");
_Static_assert(GOCONC_STOPPED == 4, "pinned");
_Static_assert(GOCONC_ENOMEM == -12, "pinned");
_Static_assert(GOCONC_EBUSY == -16, "pinned");
_Static_assert(GOCONC_EINVAL == -22, "pinned");
_Static_assert(GOCONC_ERANGE == -34, "pinned");
_Static_assert(GOCONC_EDEADLK == -35, "pinned");
_Static_assert(GOCONC_EOVERFLOW == -75, "pinned");

static const int all_codes[] = {
    GOCONC_OK, GOCONC_NOTFOUND, GOCONC_EXISTS, GOCONC_CHANGED,
    GOCONC_STOPPED, GOCONC_ENOMEM, GOCONC_EBUSY, GOCONC_EINVAL,
    GOCONC_ERANGE, GOCONC_EDEADLK, GOCONC_EOVERFLOW,
};
#define N_CODES (sizeof all_codes / sizeof all_codes[0])

START_TEST(status_values_pinned)
{
    /* Runtime too: an enum changed behind a stale _Static_assert would be
     * caught by the compile, this catches a header/library mismatch in
     * how the values are spelled in messages below. */
    ck_assert_int_eq(GOCONC_OK, 0);
    ck_assert_int_eq(GOCONC_NOTFOUND, 1);
    ck_assert_int_eq(GOCONC_EXISTS, 2);
    ck_assert_int_eq(GOCONC_CHANGED, 3);
    ck_assert_int_eq(GOCONC_STOPPED, 4);
    ck_assert_int_eq(GOCONC_ENOMEM, -12);
    ck_assert_int_eq(GOCONC_EBUSY, -16);
    ck_assert_int_eq(GOCONC_EINVAL, -22);
    ck_assert_int_eq(GOCONC_ERANGE, -34);
    ck_assert_int_eq(GOCONC_EDEADLK, -35);
    ck_assert_int_eq(GOCONC_EOVERFLOW, -75);
}
END_TEST

START_TEST(strerror_known_codes)
{
    size_t i, j;
    for (i = 0; i < N_CODES; i++) {
        const char *s = goconc_strerror(all_codes[i]);
        ck_assert_msg(s != NULL, "strerror(%d) is NULL", all_codes[i]);
        ck_assert_msg(s[0] != '\0', "strerror(%d) is empty", all_codes[i]);
        /* Static storage: the same pointer or at least the same text on a
         * second call. */
        ck_assert_str_eq(goconc_strerror(all_codes[i]), s);
        for (j = 0; j < i; j++)
            ck_assert_msg(strcmp(goconc_strerror(all_codes[j]), s) != 0,
                          "strerror(%d) == strerror(%d) = \"%s\"",
                          all_codes[i], all_codes[j], s);
    }
}
END_TEST

START_TEST(strerror_unknown_codes)
{
    static const int unknown[] = { 5, 6, 100, -1, -11, -13, -23, -36, -74,
                                   -76, -1000, INT_MAX, INT_MIN, INT_MIN + 1 };
    size_t i, j;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = goconc_strerror(unknown[i]);
        ck_assert_msg(s != NULL, "strerror(%d) is NULL", unknown[i]);
        ck_assert_msg(s[0] != '\0', "strerror(%d) is empty", unknown[i]);
        /* An unknown value must not be described as one of the known
         * statuses (success in particular). */
        for (j = 0; j < N_CODES; j++)
            ck_assert_msg(strcmp(goconc_strerror(all_codes[j]), s) != 0,
                          "strerror(%d) reads like strerror(%d): \"%s\"",
                          unknown[i], all_codes[j], s);
    }
}
END_TEST

/* ------------------------------------------------------------- version */

_Static_assert(GOCONC_VERSION_MAJOR == 1, "version");
_Static_assert(GOCONC_VERSION_MINOR == 1, "version");
_Static_assert(GOCONC_VERSION_PATCH == 0, "version");
_Static_assert(GOCONC_VERSION_NUMBER == 10100, "version");

START_TEST(version)
{
    const char *v = goconc_version_string();
    ck_assert_int_eq(GOCONC_VERSION_NUMBER, 10100);
    ck_assert_uint_eq(goconc_version_number(), 10100u);
    ck_assert_uint_eq(goconc_version_number(), GOCONC_VERSION_NUMBER);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "1.1.0");
}
END_TEST

/* ----------------------------------------------------------- allocators */

/*
 * A tagged, counting allocator: every block carries a 16-byte header with
 * the tag of the allocator that made it, so a free through the wrong
 * allocator is detected (and counted) instead of corrupting the heap.
 * The tests keep their tagalloc structs static: an allocator's ctx must
 * stay valid while any thread that used the library under it lives, and
 * the test's main thread lives until exit (its record is freed then).
 */
#define HDR 16
struct tagalloc {
    unsigned tag;
    long allocs, frees, live, foreign; /* foreign: frees of others' blocks */
};

static void *tag_alloc(void *ctx, size_t size)
{
    struct tagalloc *t = ctx;
    unsigned char *p;
    if (size > SIZE_MAX - HDR)
        return NULL;
    p = malloc(size + HDR);
    if (!p)
        return NULL;
    memcpy(p, &t->tag, sizeof t->tag);
    __atomic_fetch_add(&t->allocs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&t->live, 1, __ATOMIC_RELAXED);
    return p + HDR;
}

static void tag_free(void *ctx, void *ptr)
{
    struct tagalloc *t = ctx;
    unsigned char *p;
    unsigned tag;
    if (!ptr)
        return;
    p = (unsigned char *)ptr - HDR;
    memcpy(&tag, p, sizeof tag);
    __atomic_fetch_add(&t->frees, 1, __ATOMIC_RELAXED);
    if (tag != t->tag) {
        /* Not ours: leak it rather than free it with the wrong header. */
        __atomic_fetch_add(&t->foreign, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_fetch_sub(&t->live, 1, __ATOMIC_RELAXED);
    free(p);
}

static long ld(const long *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static goconc_allocator tag_allocator(struct tagalloc *t)
{
    goconc_allocator a = { sizeof(goconc_allocator), tag_alloc, tag_free, t };
    return a;
}

static void dummy_destroy(void *ctx, void *obj)
{
    (void)obj;
    __atomic_fetch_add((long *)ctx, 1, __ATOMIC_RELAXED);
}

START_TEST(allocator_null_restores)
{
    static struct tagalloc a = { 0xA1, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a);
    long destroyed = 0, before;
    int i, bad = 0;

    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    /* With malloc/free restored, nothing the library allocates from now on
     * reaches the tagged allocator. */
    before = ld(&a.allocs);
    for (i = 0; i < 5000; i++)
        bad += goconc_defer_free(&a, dummy_destroy, &destroyed) != GOCONC_OK;
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(destroyed, 5000);
    ck_assert_int_eq(ld(&a.allocs), before);
    ck_assert_int_eq(ld(&a.foreign), 0);
    /* NULL twice is fine. */
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
}
END_TEST

/* Store and overwrite n out-of-line entries (16-byte keys, vlen-byte
 * values) in a fresh map, free it and run every destroy: the entries go
 * back through the small-block cache of this thread (core/blocks.c). */
static void churn_entries(int n, size_t vlen)
{
    goconc_map *m = NULL;
    unsigned char key[16], val[64];
    int i, r;

    ck_assert_int_eq(goconc_map_new(&m, NULL), GOCONC_OK);
    memset(key, 'k', sizeof key);
    memset(val, 'v', sizeof val);
    for (r = 0; r < 3; r++)
        for (i = 0; i < n; i++) {
            memcpy(key, &i, sizeof i);
            val[0] = (unsigned char)r;
            ck_assert_int_eq(goconc_map_store(m, key, sizeof key, val, vlen), GOCONC_OK);
        }
    goconc_map_free(m);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
}

/*
 * The small-block cache holds malloc blocks that no handle keeps busy:
 * after a switch to another allocator none of them is handed out or
 * freed through it, and none of its blocks is kept (each comes back to
 * it: 16-byte values fill one size class under malloc, 40-byte ones
 * find another empty under the tagged allocator); after the switch back
 * the cache serves again.
 */
START_TEST(allocator_switch_with_cached_blocks)
{
    static struct tagalloc a = { 0xB2, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a);

    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    churn_entries(500, 16); /* a class of the cache fills */
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    churn_entries(500, 16);
    churn_entries(500, 40);
    ck_assert_int_gt(ld(&a.allocs), 3000);
    ck_assert_int_eq(ld(&a.foreign), 0);
    ck_assert_int_eq(ld(&a.live), 0);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    churn_entries(500, 16);
    churn_entries(500, 40);
    ck_assert_int_eq(ld(&a.foreign), 0);
    tu_alloc_install();
}
END_TEST

static void *touch_library(void *p)
{
    goconc_read_lock();
    goconc_read_unlock();
    return p;
}

START_TEST(allocator_bad_struct_size)
{
    static struct tagalloc a = { 0xA2, 0, 0, 0, 0 };
    struct {
        goconc_allocator al;
        unsigned char tail[24];
    } big;
    goconc_allocator al = tag_allocator(&a);
    size_t sz;

    for (sz = 0; sz < sizeof(goconc_allocator); sz++) {
        al.struct_size = sz;
        ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_EINVAL);
    }
    /* A larger struct than the library's own: */
    memset(&big, 0, sizeof big);
    big.al = tag_allocator(&a);
    big.al.struct_size = sizeof big;
    big.tail[5] = 1;
    ck_assert_int_eq(goconc_set_allocator(&big.al), GOCONC_EINVAL);
    big.tail[5] = 0;
    big.tail[sizeof big.tail - 1] = 0x80;
    ck_assert_int_eq(goconc_set_allocator(&big.al), GOCONC_EINVAL);
    big.tail[sizeof big.tail - 1] = 0;
    /* None of the rejected ones was installed. */
    ck_assert_int_eq(ld(&a.allocs), 0);
    /* Larger with a zero tail is accepted, and is really in use: a new
     * thread registers through it. */
    ck_assert_int_eq(goconc_set_allocator(&big.al), GOCONC_OK);
    {
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, touch_library, NULL), 0);
        pthread_join(t, NULL);
    }
    ck_assert_int_gt(ld(&a.allocs), 0);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    ck_assert_int_eq(ld(&a.foreign), 0);
}
END_TEST

START_TEST(allocator_null_functions)
{
    static struct tagalloc a = { 0xA3, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a);
    al.alloc = NULL;
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_EINVAL);
    al = tag_allocator(&a);
    al.free = NULL;
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_EINVAL);
    al.alloc = NULL;
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_EINVAL);
    /* A NULL ctx is legal. */
    al = tag_allocator(&a);
    al.ctx = NULL;
    al.alloc = NULL;
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_EINVAL);
    ck_assert_int_eq(ld(&a.allocs), 0);
}
END_TEST

/* A thread that holds a read section until told to leave. */
START_TEST(allocator_ebusy_while_pending)
{
    static struct tagalloc a = { 0xA4, 0, 0, 0, 0 }, b = { 0xB4, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a), bl = tag_allocator(&b);
    struct tu_holder h;
    pthread_t t;
    long destroyed = 0;
    int obj;

    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    /* A reader open across the defer keeps the object pending whatever
     * the library's polling policy is. */
    tu_holder_start(&h, &t, 1);
    ck_assert_int_eq(goconc_defer_free(&obj, dummy_destroy, &destroyed),
                     GOCONC_OK);
    ck_assert_int_eq(destroyed, 0);
    ck_assert_int_eq(goconc_set_allocator(&bl), GOCONC_EBUSY);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_EBUSY);
    tu_holder_release(&h, t);
    /* The reader left, but the destroy may still be waiting: EBUSY until
     * it ran; goconc_barrier() makes sure it did. */
    if (__atomic_load_n(&destroyed, __ATOMIC_RELAXED) == 0)
        ck_assert_int_eq(goconc_set_allocator(&bl), GOCONC_EBUSY);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_int_eq(goconc_set_allocator(&bl), GOCONC_OK);
    /* EBUSY did not switch anything: b saw no free of a's blocks. */
    ck_assert_int_eq(ld(&b.foreign), 0);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    ck_assert_int_eq(ld(&a.foreign), 0);
}
END_TEST

struct defer_job {
    int n;
    long destroyed;
    int rc_bad;
};

static void *defer_many(void *p)
{
    struct defer_job *j = p;
    static char objs[64];
    int i;
    goconc_read_lock();
    goconc_read_unlock();
    for (i = 0; i < j->n; i++)
        if (goconc_defer_free(&objs[i % 64], dummy_destroy, &j->destroyed) !=
            GOCONC_OK)
            j->rc_bad++;
    return NULL;
}

START_TEST(allocator_gets_every_allocation)
{
    static struct tagalloc a = { 0xA5, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a);
    struct defer_job j = { 20000, 0, 0 };
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    pthread_t t;
    long allocs_thread;

    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    /* A new thread registers (its record) and retires 20000 objects (its
     * bags): all of that must come from our allocator. */
    ck_assert_int_eq(pthread_create(&t, NULL, defer_many, &j), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(j.rc_bad, 0);
    allocs_thread = ld(&a.allocs);
    ck_assert_msg(allocs_thread > 0,
                  "a thread registered and retired 20000 objects without "
                  "one allocation through the installed allocator");
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(j.destroyed, 20000);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    ck_assert_uint_eq(st.pending, 0);
    /* Everything made for the exited thread went back through us. */
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    ck_assert_int_eq(ld(&a.foreign), 0);
    ck_assert_msg(ld(&a.live) == 0,
                  "%ld blocks of the exited thread never freed (allocs %ld, "
                  "frees %ld)", ld(&a.live), ld(&a.allocs), ld(&a.frees));
}
END_TEST

/*
 * Per-thread records are freed by the allocator that made them: a thread
 * registered under A exits after the allocator was switched to B; its
 * record (and whatever else was made for it under A) must go back to A.
 */
struct reg_thread {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int registered, go;
    int defer_rc;
    long destroyed;
};

static void *register_then_wait(void *p)
{
    struct reg_thread *r = p;
    static int obj;
    goconc_read_lock();
    goconc_read_unlock();
    /* A retire under A too: its bag is per-thread memory of A's. */
    r->defer_rc = goconc_defer_free(&obj, dummy_destroy, &r->destroyed);
    pthread_mutex_lock(&r->mu);
    r->registered = 1;
    pthread_cond_broadcast(&r->cv);
    while (!r->go)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    /* Use the library again under B before exiting. */
    goconc_read_lock();
    goconc_read_unlock();
    return NULL;
}

START_TEST(allocator_records_freed_by_their_allocator)
{
    static struct tagalloc a = { 0xA6, 0, 0, 0, 0 }, b = { 0xB6, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a), bl = tag_allocator(&b);
    struct reg_thread r;
    pthread_t t;
    long a_live_before;

    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    ck_assert_int_eq(pthread_create(&t, NULL, register_then_wait, &r), 0);
    pthread_mutex_lock(&r.mu);
    while (!r.registered)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    ck_assert_int_eq(r.defer_rc, GOCONC_OK);
    ck_assert_msg(ld(&a.allocs) > 0, "registration did not allocate via A");
    /* The deferred object must be gone before the swap is allowed. */
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(r.destroyed, 1);
    a_live_before = ld(&a.live);
    ck_assert_msg(a_live_before > 0, "no per-thread record held under A");
    /* The live thread's record does not make the swap EBUSY. */
    ck_assert_int_eq(goconc_set_allocator(&bl), GOCONC_OK);
    pthread_mutex_lock(&r.mu);
    r.go = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    pthread_join(t, NULL);
    /* A record freed after a grace period is freed by now. */
    ck_assert_int_eq(goconc_synchronize(), GOCONC_OK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_msg(ld(&b.foreign) == 0,
                  "B's free was called for %ld block(s) made by A",
                  ld(&b.foreign));
    ck_assert_int_eq(ld(&a.foreign), 0);
    ck_assert_msg(ld(&a.live) == 0,
                  "%ld block(s) made by A for the exited thread were not "
                  "freed through A (A frees: %ld)", ld(&a.live), ld(&a.frees));
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    ck_assert_int_eq(ld(&b.foreign), 0);
}
END_TEST

/*
 * goconc_set_allocator racing with other threads' registration (records
 * do not make it EBUSY): every record must still be freed by the very
 * allocator (alloc, free and ctx together) that made it.
 */
static int race_stop;

static void *register_and_exit(void *p)
{
    goconc_read_lock();
    goconc_read_unlock();
    return p;
}

static void *thread_churn(void *p)
{
    long *n = p;
    while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
        pthread_t t;
        if (pthread_create(&t, NULL, register_and_exit, NULL) == 0) {
            pthread_join(t, NULL);
            (*n)++;
        }
    }
    return NULL;
}

START_TEST(allocator_switch_races_registration)
{
    static struct tagalloc a = { 0xA7, 0, 0, 0, 0 }, b = { 0xB7, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a), bl = tag_allocator(&b);
    pthread_t c[2];
    long threads[2] = { 0, 0 }, switches = 0, bad_switches = 0;
    double end = tu_now() + 1.0;
    int i;

    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&c[i], NULL, thread_churn, &threads[i]), 0);
    while (tu_now() < end) {
        if (goconc_set_allocator(switches % 2 ? &al : &bl) != GOCONC_OK)
            bad_switches++;
        switches++;
    }
    __atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
    for (i = 0; i < 2; i++)
        pthread_join(c[i], NULL);
    ck_assert_int_eq(bad_switches, 0);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    ck_assert_msg(ld(&a.foreign) == 0 && ld(&b.foreign) == 0,
                  "blocks freed through the wrong allocator: %ld by A, %ld "
                  "by B (%ld threads, %ld switches)", ld(&a.foreign),
                  ld(&b.foreign), threads[0] + threads[1], switches);
    ck_assert_msg(ld(&a.live) == 0 && ld(&b.live) == 0,
                  "records of exited threads not freed: %ld of A, %ld of B",
                  ld(&a.live), ld(&b.live));
    ck_assert_int_gt(threads[0] + threads[1], 0);
}
END_TEST

/*
 * goconc_set_allocator racing with constructors: a switch must either see
 * the object being built (EBUSY) or finish before its first allocation,
 * so no object holds blocks of two allocators.  Every module's
 * constructor and destructor in a loop against a toggling allocator;
 * the tags catch a block freed through the wrong one.
 */
static void construct_each(void)
{
    static const goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    goconc_map *m;
    goconc_value *v;
    goconc_slice *sl;
    goconc_pool *pl;

    if (goconc_map_new(&m, NULL) == GOCONC_OK) {
        tu_discard(goconc_map_store(m, "k", 1, "v", 1));
        goconc_map_free(m);
    }
    if (goconc_value_new(&v, NULL, NULL) == GOCONC_OK)
        goconc_value_free(v);
    if (goconc_slice_new(&sl, 8, 1, 4) == GOCONC_OK)
        goconc_slice_free(sl);
    if (goconc_pool_new(&pl, &po) == GOCONC_OK)
        goconc_pool_free(pl);
}

static void *construct_churn(void *p)
{
    long *n = p;
    while (!__atomic_load_n(&race_stop, __ATOMIC_RELAXED)) {
        construct_each();
        tu_discard(goconc_barrier()); /* so switches find nothing pending */
        (*n)++;
    }
    return NULL;
}

START_TEST(allocator_switch_races_construction)
{
    static struct tagalloc a = { 0xA8, 0, 0, 0, 0 }, b = { 0xB8, 0, 0, 0, 0 };
    goconc_allocator al = tag_allocator(&a), bl = tag_allocator(&b);
    pthread_t c;
    long rounds = 0, switches = 0, tries = 0;
    double end = tu_now() + 1.0;

    ck_assert_int_eq(goconc_set_allocator(&al), GOCONC_OK);
    __atomic_store_n(&race_stop, 0, __ATOMIC_RELAXED);
    ck_assert_int_eq(pthread_create(&c, NULL, construct_churn, &rounds), 0);
    while (tu_now() < end) {
        tries++;
        if (goconc_set_allocator(switches % 2 ? &al : &bl) == GOCONC_OK)
            switches++;
    }
    __atomic_store_n(&race_stop, 1, __ATOMIC_RELAXED);
    pthread_join(c, NULL);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    fprintf(stderr, "construction race: %ld rounds, %ld of %ld switches\n", rounds, switches,
            tries);
    ck_assert_msg(ld(&a.foreign) == 0 && ld(&b.foreign) == 0,
                  "blocks freed through the wrong allocator: %ld by A, %ld by B", ld(&a.foreign),
                  ld(&b.foreign));
    ck_assert_int_gt(rounds, 0);
    ck_assert_int_gt(switches, 0);
}
END_TEST

/* ---------------------------------------------------------- reclaim stats */

START_TEST(reclaim_stats_bad_input)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    struct {
        goconc_reclaim_stats st;
        unsigned char tail[16];
    } big;
    size_t sz;

    ck_assert_int_eq(goconc_reclaim_stats_get(NULL), GOCONC_EINVAL);
    for (sz = 0; sz < sizeof st; sz++) {
        memset(&st, 0x5a, sizeof st);
        st.struct_size = sz;
        ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_EINVAL);
        ck_assert_uint_eq(st.struct_size, sz); /* untouched */
        ck_assert_uint_eq(st.pending, (size_t)0x5a5a5a5a5a5a5a5aull);
    }
    /* The exact size: filled in, nothing written past it. */
    memset(&big, 0xee, sizeof big);
    big.st.struct_size = sizeof(goconc_reclaim_stats);
    ck_assert_int_eq(goconc_reclaim_stats_get(&big.st), GOCONC_OK);
    ck_assert_uint_eq(big.st.struct_size, sizeof(goconc_reclaim_stats));
    ck_assert_uint_eq(big.st.pending, 0);
    for (sz = 0; sz < sizeof big.tail; sz++)
        ck_assert_uint_eq(big.tail[sz], 0xee);
    /* Larger with a zero tail: accepted, the tail stays zero. */
    memset(&big, 0, sizeof big);
    big.st.struct_size = sizeof big;
    ck_assert_int_eq(goconc_reclaim_stats_get(&big.st), GOCONC_OK);
    for (sz = 0; sz < sizeof big.tail; sz++)
        ck_assert_uint_eq(big.tail[sz], 0);
    /* Larger with non-zero bytes beyond the library's struct: EINVAL
     * (API.md, Conventions: options and stats structs alike). */
    memset(&big, 0, sizeof big);
    big.st.struct_size = sizeof big;
    big.tail[3] = 7;
    ck_assert_int_eq(goconc_reclaim_stats_get(&big.st), GOCONC_EINVAL);
}
END_TEST

START_TEST(reclaim_stats_counts)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT, st2 = st;
    struct tu_holder h;
    pthread_t t;
    long destroyed = 0;
    int obj, i;

    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    ck_assert_uint_eq(st.pending, 0);
    tu_holder_start(&h, &t, 1);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(goconc_defer_free(&obj, dummy_destroy, &destroyed),
                         GOCONC_OK);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st2), GOCONC_OK);
    /* The holder and this thread are registered; nothing could run yet. */
    ck_assert_uint_ge(st2.threads, 2);
    ck_assert_uint_eq(st2.pending, 10);
    ck_assert_int_eq(destroyed, 0);
    tu_holder_release(&h, t);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(goconc_reclaim_stats_get(&st2), GOCONC_OK);
    ck_assert_uint_eq(st2.pending, 0);
    ck_assert_int_eq(destroyed, 10);
    ck_assert_uint_ge(st2.reclaimed, st.reclaimed + 10);
    ck_assert_uint_gt(st2.epoch, st.epoch);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(status_values_pinned),
        TU_CASE(strerror_known_codes),
        TU_CASE(strerror_unknown_codes),
        TU_CASE(version),
        TU_CASE(allocator_null_restores),
        TU_CASE(allocator_switch_with_cached_blocks),
        TU_CASE(allocator_bad_struct_size),
        TU_CASE(allocator_null_functions),
        TU_CASE(allocator_ebusy_while_pending),
        TU_CASE(allocator_gets_every_allocation),
        TU_CASE(allocator_records_freed_by_their_allocator),
        TU_CASE(allocator_switch_races_registration),
        TU_CASE(allocator_switch_races_construction),
        TU_CASE(reclaim_stats_bad_input),
        TU_CASE(reclaim_stats_counts),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "common", .timeout = 30);
}
