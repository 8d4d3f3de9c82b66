/* SPDX-License-Identifier: MIT */
/*
 * test_value.c - unit tests of goconc_value (API.md section 4): every
 * function, bad input, destroy-exactly-once accounting, references that
 * outlive the value, swap/CAS semantics, grace periods, and
 * allocation-failure sweeps.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "testutil.h"

/* --------------------------------------------------------------- model */

/* Objects are slots of a static array; destroy counts per slot and
 * remembers which ctx it got. */
#define NOBJ 16
static int objs[NOBJ];
static int destroyed[NOBJ];
static int destroy_calls;
static void *destroy_ctx_seen;
static int tracker_ctx;

/* Destroys may run on other threads (a barrier runs whatever is due). */
static void track_destroy(void *ctx, void *obj)
{
    int *o = obj;
    __atomic_store_n(&destroy_ctx_seen, ctx, __ATOMIC_RELAXED);
    __atomic_fetch_add(&destroy_calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&destroyed[o - objs], 1, __ATOMIC_RELAXED);
}

static void setup(void)
{
    int i;
    for (i = 0; i < NOBJ; i++) {
        objs[i] = i;
        destroyed[i] = 0;
    }
    destroy_calls = 0;
    destroy_ctx_seen = NULL;
}

static goconc_value *new_value(void)
{
    goconc_value *v = NULL;
    ck_assert_int_eq(goconc_value_new(&v, track_destroy, &tracker_ctx), GOCONC_OK);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* The current object, read in a read section. */
static void *current(goconc_value *v)
{
    void *p;
    goconc_read_lock();
    p = goconc_value_load(v);
    goconc_read_unlock();
    return p;
}

static void barrier(void)
{
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
}

/* ------------------------------------------------------------- basics */

START_TEST(test_new_free)
{
    goconc_value *v = (goconc_value *)&objs[0];
    ck_assert_int_eq(goconc_value_new(NULL, track_destroy, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_new(&v, NULL, NULL), GOCONC_OK);
    ck_assert_ptr_null(current(v));
    goconc_value_free(v);
    goconc_value_free(NULL);
    v = new_value();
    ck_assert_ptr_null(current(v));
    ck_assert_ptr_null(goconc_value_acquire(v));
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroy_calls, 0);
}
END_TEST

START_TEST(test_bad_input)
{
    goconc_value *v = new_value();
    goconc_value_ref *r = (goconc_value_ref *)&objs[0];

    ck_assert_int_eq(goconc_value_store(NULL, &objs[1]), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_store(v, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_swap(NULL, &objs[1], &r), GOCONC_EINVAL);
    ck_assert_ptr_null(r);
    r = (goconc_value_ref *)&objs[0];
    ck_assert_int_eq(goconc_value_swap(v, NULL, &r), GOCONC_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(goconc_value_swap(v, &objs[1], NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_compare_and_swap(NULL, NULL, &objs[1]), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_compare_and_swap(v, NULL, NULL), GOCONC_EINVAL);
    ck_assert_ptr_null(goconc_value_acquire(NULL));
    ck_assert_ptr_null(goconc_value_ref_get(NULL));
    goconc_value_release(NULL);
    goconc_read_lock();
    ck_assert_ptr_null(goconc_value_load(NULL));   /* inline path */
    ck_assert_ptr_null((goconc_value_load)(NULL)); /* exported function */
    ck_assert_ptr_null((goconc_value_load)(v));    /* empty */
    goconc_read_unlock();
    /* None of the rejected calls took ownership or stored anything. */
    ck_assert_ptr_null(current(v));
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroy_calls, 0);
}
END_TEST

START_TEST(test_store_load)
{
    goconc_value *v = new_value();
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    goconc_read_lock();
    ck_assert_ptr_eq(goconc_value_load(v), &objs[1]);
    ck_assert_ptr_eq((goconc_value_load)(v), &objs[1]);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    ck_assert_ptr_eq(current(v), &objs[2]);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroyed[2], 0);
    ck_assert_ptr_eq(destroy_ctx_seen, &tracker_ctx);
    /* Storing the current object again changes nothing and must not
     * destroy it (it would be owned twice). */
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    barrier();
    ck_assert_int_eq(destroyed[2], 0);
    ck_assert_ptr_eq(current(v), &objs[2]);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(destroy_calls, 2);
}
END_TEST

START_TEST(test_null_destroy)
{
    goconc_value *v = NULL;
    goconc_value_ref *r;
    ck_assert_int_eq(goconc_value_new(&v, NULL, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    r = goconc_value_acquire(v);
    ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[2]);
    goconc_value_free(v);
    barrier();
    goconc_value_release(r);
    barrier();
    ck_assert_int_eq(destroy_calls, 0);
}
END_TEST

/* ------------------------------------------------------- swap and CAS */

START_TEST(test_swap)
{
    goconc_value *v = new_value();
    goconc_value_ref *r = (goconc_value_ref *)&objs[0], *r2;

    ck_assert_int_eq(goconc_value_swap(v, &objs[1], &r), GOCONC_OK);
    ck_assert_ptr_null(r); /* was empty */
    ck_assert_int_eq(goconc_value_swap(v, &objs[2], &r), GOCONC_OK);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[1]);
    ck_assert_ptr_eq(current(v), &objs[2]);
    barrier();
    ck_assert_int_eq(destroyed[1], 0); /* the reference keeps it */
    goconc_value_release(r);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);

    /* Swapping in the current object: nothing changes; the reference
     * names the (same) replaced object and does not destroy it. */
    ck_assert_int_eq(goconc_value_swap(v, &objs[2], &r2), GOCONC_OK);
    ck_assert_ptr_eq(goconc_value_ref_get(r2), &objs[2]);
    goconc_value_release(r2);
    barrier();
    ck_assert_int_eq(destroyed[2], 0);
    ck_assert_ptr_eq(current(v), &objs[2]);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(destroy_calls, 2);
}
END_TEST

START_TEST(test_cas)
{
    goconc_value *v = new_value();

    /* Empty: only old == NULL matches. */
    ck_assert_int_eq(goconc_value_compare_and_swap(v, &objs[9], &objs[1]), GOCONC_CHANGED);
    ck_assert_ptr_null(current(v));
    ck_assert_int_eq(goconc_value_compare_and_swap(v, NULL, &objs[1]), GOCONC_OK);
    ck_assert_ptr_eq(current(v), &objs[1]);
    /* Not empty any more: old == NULL fails, obj stays the caller's. */
    ck_assert_int_eq(goconc_value_compare_and_swap(v, NULL, &objs[2]), GOCONC_CHANGED);
    ck_assert_ptr_eq(current(v), &objs[1]);
    ck_assert_int_eq(goconc_value_compare_and_swap(v, &objs[1], &objs[3]), GOCONC_OK);
    ck_assert_ptr_eq(current(v), &objs[3]);
    ck_assert_int_eq(goconc_value_compare_and_swap(v, &objs[1], &objs[4]), GOCONC_CHANGED);
    ck_assert_ptr_eq(current(v), &objs[3]);
    /* old == obj == current: success without change. */
    ck_assert_int_eq(goconc_value_compare_and_swap(v, &objs[3], &objs[3]), GOCONC_OK);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroyed[2], 0);
    ck_assert_int_eq(destroyed[3], 0);
    ck_assert_int_eq(destroyed[4], 0);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[3], 1);
    ck_assert_int_eq(destroy_calls, 2);
}
END_TEST

/* --------------------------------------------------------- references */

START_TEST(test_acquire_release)
{
    goconc_value *v = new_value();
    goconc_value_ref *a, *b, *c;

    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    a = goconc_value_acquire(v);
    b = goconc_value_acquire(v);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(goconc_value_ref_get(a), &objs[1]);
    ck_assert_ptr_eq(goconc_value_ref_get(b), &objs[1]);
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    c = goconc_value_acquire(v);
    ck_assert_ptr_eq(goconc_value_ref_get(c), &objs[2]);
    barrier();
    ck_assert_int_eq(destroyed[1], 0);
    goconc_value_release(a);
    barrier();
    ck_assert_int_eq(destroyed[1], 0); /* b still holds it */
    goconc_value_release(b);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    /* A reference to the current object does not stop a store, and the
     * object lives until both the store's grace period and the release. */
    ck_assert_int_eq(goconc_value_store(v, &objs[3]), GOCONC_OK);
    barrier();
    ck_assert_int_eq(destroyed[2], 0);
    ck_assert_ptr_eq(goconc_value_ref_get(c), &objs[2]);
    goconc_value_release(c);
    barrier();
    ck_assert_int_eq(destroyed[2], 1);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroy_calls, 3);
}
END_TEST

START_TEST(test_ref_outlives_value)
{
    goconc_value *v = new_value();
    goconc_value_ref *r;
    ck_assert_int_eq(goconc_value_store(v, &objs[5]), GOCONC_OK);
    r = goconc_value_acquire(v);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[5], 0);
    ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[5]);
    /* Something is alive, so the allocator cannot be swapped. */
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_EBUSY);
    goconc_value_release(r);
    barrier();
    ck_assert_int_eq(destroyed[5], 1);
    ck_assert_ptr_eq(destroy_ctx_seen, &tracker_ctx);
    ck_assert_int_eq(destroy_calls, 1);
}
END_TEST

/* A duplicate is a reference of its own: the object outlives the value
 * and the original until the last of them is released, once. */
START_TEST(test_ref_dup)
{
    goconc_value *v = new_value();
    goconc_value_ref *r, *dd, *d = (goconc_value_ref *)&tracker_ctx; /* poison */
    long calls;
    ck_assert_int_eq(goconc_value_ref_dup(NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_value_ref_dup(&d, NULL), GOCONC_OK);
    ck_assert_ptr_null(d);
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    r = goconc_value_acquire(v);
    ck_assert_int_eq(goconc_value_ref_dup(NULL, r), GOCONC_EINVAL);
    /* Like acquire, it allocates nothing. */
    calls = tu_alloc_calls();
    tu_alloc_fail_after(0);
    ck_assert_int_eq(goconc_value_ref_dup(&d, r), GOCONC_OK);
    ck_assert_int_eq(goconc_value_ref_dup(&dd, d), GOCONC_OK);
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    ck_assert_ptr_eq(goconc_value_ref_get(d), &objs[1]);
    ck_assert_ptr_eq(goconc_value_ref_get(dd), &objs[1]);
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    goconc_value_free(v);
    goconc_value_release(r);
    goconc_value_release(dd);
    barrier();
    ck_assert_int_eq(destroyed[1], 0);
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_EBUSY);
    ck_assert_ptr_eq(goconc_value_ref_get(d), &objs[1]);
    goconc_value_release(d);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroy_calls, 2);
}
END_TEST

/* ------------------------------------------------------ grace periods */

struct storer {
    goconc_value *v;
    void *obj;
    int done;
};

static void *store_and_barrier(void *arg)
{
    struct storer *s = arg;
    int st = goconc_value_store(s->v, s->obj);
    if (st == GOCONC_OK)
        st = goconc_barrier();
    __atomic_store_n(&s->done, st == GOCONC_OK ? 1 : -1, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(test_read_section_protects)
{
    goconc_value *v = new_value();
    struct storer s;
    pthread_t t;
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    int *p;

    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    goconc_read_lock();
    p = goconc_value_load(v);
    ck_assert_ptr_eq(p, &objs[1]);
    /* Same thread: replacing it is fine, waiting for it is refused. */
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    ck_assert_int_eq(goconc_synchronize(), GOCONC_EDEADLK);
    ck_assert_int_eq(goconc_barrier(), GOCONC_EDEADLK);
    /* Another thread replaces it again and waits for its destroys: it
     * cannot finish while this section holds objs[1]. */
    s.v = v;
    s.obj = &objs[3];
    s.done = 0;
    ck_assert_int_eq(pthread_create(&t, NULL, store_and_barrier, &s), 0);
    nanosleep(&ts, NULL);
    ck_assert_int_eq(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE), 0);
    ck_assert_int_eq(__atomic_load_n(&destroyed[1], __ATOMIC_RELAXED), 0);
    ck_assert_int_eq(*p, 1);
    goconc_read_unlock();
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(s.done, 1);
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_ptr_eq(current(v), &objs[3]);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroy_calls, 3);
}
END_TEST

/* ------------------------------------------------- allocation failure */

/*
 * For each mutating call: fail the Nth allocation for N = 0, 1, ... until
 * the call succeeds; every failure must be GOCONC_ENOMEM with the value
 * unchanged, the new object not destroyed and no allocation left behind.
 * The barrier before each attempt empties the reclamation bags, so live
 * counts compare exactly.
 */
enum op { OP_STORE, OP_SWAP, OP_CAS, OP_CAS_EMPTY };

static int attempt(goconc_value *v, enum op op, void *obj, goconc_value_ref **r)
{
    switch (op) {
    case OP_STORE: return goconc_value_store(v, obj);
    case OP_SWAP: return goconc_value_swap(v, obj, r);
    case OP_CAS: return goconc_value_compare_and_swap(v, &objs[1], obj);
    case OP_CAS_EMPTY: return goconc_value_compare_and_swap(v, NULL, obj);
    }
    return -1;
}

static void sweep(enum op op)
{
    goconc_value *v = new_value();
    goconc_value_ref *r = NULL;
    void *before = NULL;
    long live0, base;
    int n, st, failures = 0;

    /* Warm up: this thread's record and its bag's spare chunk exist. */
    ck_assert_int_eq(goconc_value_store(v, &objs[0]), GOCONC_OK);
    goconc_value_free(v);
    barrier();
    setup();
    v = new_value();
    base = tu_alloc_live();
    if (op != OP_CAS_EMPTY) {
        ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
        before = &objs[1];
    }
    for (n = 0;; n++) {
        ck_assert_int_lt(n, 64);
        barrier();
        live0 = tu_alloc_live();
        tu_alloc_fail_after(n);
        r = (goconc_value_ref *)&objs[0];
        st = attempt(v, op, &objs[2], &r);
        tu_alloc_fail_after(-1);
        if (st == GOCONC_OK)
            break;
        failures++;
        ck_assert_int_eq(st, GOCONC_ENOMEM);
        if (op == OP_SWAP)
            ck_assert_ptr_null(r);
        ck_assert_ptr_eq(current(v), before);
        barrier();
        ck_assert_int_eq(tu_alloc_live(), live0);
        ck_assert_int_eq(destroyed[1] + destroyed[2], 0);
    }
    ck_assert_int_ge(failures, 1); /* the node allocation, at least */
    ck_assert_ptr_eq(current(v), &objs[2]);
    if (op == OP_SWAP) {
        ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[1]);
        goconc_value_release(r);
    }
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(destroyed[1], op == OP_CAS_EMPTY ? 0 : 1);
    /* Nothing the sweep allocated is left but what the handle took. */
    ck_assert_int_eq(tu_alloc_live(), base - 1);
}

START_TEST(test_enomem_store) { sweep(OP_STORE); }
END_TEST
START_TEST(test_enomem_swap) { sweep(OP_SWAP); }
END_TEST
START_TEST(test_enomem_cas) { sweep(OP_CAS); }
END_TEST
START_TEST(test_enomem_cas_empty) { sweep(OP_CAS_EMPTY); }
END_TEST

START_TEST(test_enomem_new)
{
    goconc_value *v;
    long live0;
    int n, st;
    barrier();
    for (n = 0;; n++) {
        ck_assert_int_lt(n, 64);
        live0 = tu_alloc_live();
        v = (goconc_value *)&objs[0];
        tu_alloc_fail_after(n);
        st = goconc_value_new(&v, track_destroy, NULL);
        tu_alloc_fail_after(-1);
        if (st == GOCONC_OK)
            break;
        ck_assert_int_eq(st, GOCONC_ENOMEM);
        ck_assert_ptr_null(v);
        ck_assert_int_eq(tu_alloc_live(), live0);
    }
    ck_assert_int_ge(n, 1);
    goconc_value_free(v);
    barrier();
}
END_TEST

/* acquire never allocates: it succeeds with every allocation failing,
 * and a CHANGED compare-and-swap does not allocate either. */
START_TEST(test_enomem_acquire)
{
    goconc_value *v = new_value();
    goconc_value_ref *r;
    long calls;
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    barrier();
    calls = tu_alloc_calls();
    tu_alloc_fail_after(0);
    r = goconc_value_acquire(v);
    ck_assert_int_eq(goconc_value_compare_and_swap(v, &objs[7], &objs[2]), GOCONC_CHANGED);
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK); /* no-op */
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[1]);
    goconc_value_release(r);
    goconc_value_free(v);
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroyed[2], 0);
}
END_TEST

static int deferred_runs;
static void count_deferred(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
    deferred_runs++;
}

/*
 * goconc_value_free cannot fail.  Fill this thread's reclamation bag
 * inside a read section (nothing can expire) with every allocation
 * failing, so no retire could get room: the node still goes through the
 * token it was created with, keeps the allocator busy while pending and
 * is destroyed after the grace period, exactly once.
 */
START_TEST(test_enomem_free)
{
    goconc_value *v = new_value(), *w;
    int i, deferred = 0;
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    barrier();
    goconc_read_lock();
    tu_alloc_fail_after(0);
    for (i = 0; i < 100000; i++) {
        if (goconc_defer_free(&objs[0], count_deferred, NULL) != GOCONC_OK)
            break;
        deferred++;
    }
    ck_assert_int_lt(i, 100000); /* the bag did fill up */
    goconc_value_free(v);
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(destroyed[1], 0); /* readers may still hold it */
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_EBUSY);
    goconc_read_unlock();
    barrier();
    ck_assert_int_eq(deferred_runs, deferred);
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroy_calls, 1);
    w = new_value(); /* and values work as before */
    goconc_value_free(w);
    barrier();
    ck_assert_int_eq(destroy_calls, 1);
}
END_TEST

/* Out of memory at the last release: the destroy is still deferred
 * (through the node's token, not inline under the caller's locks) and
 * runs exactly once. */
START_TEST(test_enomem_release)
{
    goconc_value *v = new_value();
    goconc_value_ref *r;
    int i;
    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    r = goconc_value_acquire(v);
    goconc_value_free(v);
    barrier();
    goconc_read_lock();
    tu_alloc_fail_after(0);
    for (i = 0; i < 100000; i++)
        if (goconc_defer_free(&objs[0], count_deferred, NULL) != GOCONC_OK)
            break;
    ck_assert_int_lt(i, 100000);
    goconc_value_release(r);
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(destroyed[1], 0);
    goconc_read_unlock();
    barrier();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(destroy_calls, 1);
}
END_TEST

static void *free_on_thread(void *v)
{
    goconc_value_free(v);
    return NULL;
}

/*
 * A node's retire token outlives the thread that used it: a thread frees
 * the value (the token goes into its bag) and exits (its bag goes to the
 * orphans) while this thread holds a reference and a read section, so
 * nothing can run before the exit.  The barrier drops the stored count
 * through the orphaned token; the last release retires the same token
 * again, and only then does the destroy run, once.
 */
START_TEST(test_token_outlives_thread)
{
    goconc_value *v = new_value();
    goconc_value_ref *r;
    pthread_t t;
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK);
    r = goconc_value_acquire(v);
    ck_assert_ptr_nonnull(r);
    goconc_read_lock();
    ck_assert_int_eq(pthread_create(&t, NULL, free_on_thread, v), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    goconc_read_unlock();
    barrier();
    ck_assert_int_eq(destroyed[2], 0); /* the reference holds it */
    ck_assert_ptr_eq(goconc_value_ref_get(r), &objs[2]);
    goconc_value_release(r);
    ck_assert_int_eq(destroyed[2], 0); /* deferred, not inline */
    barrier();
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(destroy_calls, 1);
}
END_TEST

/*
 * References pin the allocator through their node, not one by one: a
 * node replaced while a reference holds it, and one whose value was
 * freed, keep goconc_set_allocator busy until their last reference goes;
 * a reference released before its node's stored count went leaves
 * nothing behind.
 */
START_TEST(test_refs_pin_allocator)
{
    goconc_value *v = new_value(), *w = new_value();
    goconc_value_ref *r1, *r2, *d, *early;

    ck_assert_int_eq(goconc_value_store(v, &objs[1]), GOCONC_OK);
    r1 = goconc_value_acquire(v);
    ck_assert_int_eq(goconc_value_store(v, &objs[2]), GOCONC_OK); /* r1 outlives its node's storing */
    r2 = goconc_value_acquire(v);
    ck_assert_int_eq(goconc_value_ref_dup(&d, r2), GOCONC_OK);
    ck_assert_int_eq(goconc_value_store(w, &objs[3]), GOCONC_OK);
    early = goconc_value_acquire(w);
    goconc_value_release(early);
    goconc_value_free(w);
    goconc_value_free(v);
    tu_settle();
    ck_assert_int_eq(destroyed[3], 1);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_EBUSY);
    goconc_value_release(r1);
    tu_settle();
    ck_assert_int_eq(destroyed[1], 1);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_EBUSY); /* r2 and d */
    goconc_value_release(r2);
    tu_settle();
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_EBUSY); /* d */
    goconc_value_release(d);
    tu_settle();
    ck_assert_int_eq(destroyed[2], 1);
    ck_assert_int_eq(destroy_calls, 3);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_OK);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_new_free),
        TU_CASE(test_bad_input),
        TU_CASE(test_store_load),
        TU_CASE(test_null_destroy),
        TU_CASE(test_swap),
        TU_CASE(test_cas),
        TU_CASE(test_acquire_release),
        TU_CASE(test_ref_outlives_value),
        TU_CASE(test_ref_dup),
        TU_CASE(test_refs_pin_allocator),
        TU_CASE(test_read_section_protects),
        TU_CASE(test_enomem_store),
        TU_CASE(test_enomem_swap),
        TU_CASE(test_enomem_cas),
        TU_CASE(test_enomem_cas_empty),
        TU_CASE(test_enomem_new),
        TU_CASE(test_enomem_acquire),
        TU_CASE(test_enomem_free),
        TU_CASE(test_enomem_release),
        TU_CASE(test_token_outlives_thread),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "value", .timeout = 60, .setup = setup);
}
