/* SPDX-License-Identifier: MIT */
/*
 * demo_slice - the seed article's slice scenarios (2.1-2.5), done safely
 * with goconc_slice.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "demo.h"

#define APPENDERS 4
#define PER_THREAD 10000

struct append_arg {
    goconc_slice *s;
    int id;
    int failed;
};

static void *appender(void *p)
{
    struct append_arg *a = p;
    uint64_t x;
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        x = ((uint64_t)a->id << 32) | (uint64_t)i;
        if (goconc_slice_append(a->s, &x, 1, NULL) != GOCONC_OK)
            a->failed = 1;
    }
    return NULL;
}

/* 2.1: goroutines appending to one slice lose elements without a lock. */
static int concurrent_append(void)
{
    struct append_arg args[APPENDERS];
    pthread_t th[APPENDERS];
    goconc_slice *s;
    goconc_view v;
    size_t counts[APPENDERS] = { 0 }, i;
    int t, bad = 0;

    DEMO_TITLE("slice 2.1: %d threads append %d elements each to one slice",
               APPENDERS, PER_THREAD);
    if (goconc_slice_new(&s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        return 1;
    for (t = 0; t < APPENDERS; t++) {
        args[t] = (struct append_arg){ s, t, 0 };
        pthread_create(&th[t], NULL, appender, &args[t]);
    }
    for (t = 0; t < APPENDERS; t++) {
        pthread_join(th[t], NULL);
        bad |= args[t].failed;
    }
    if (goconc_slice_snapshot(s, &v) != GOCONC_OK) {
        goconc_slice_free(s);
        return 1;
    }
    for (i = 0; i < v.len; i++) {
        uint64_t x = ((const uint64_t *)v.data)[i];
        if ((x >> 32) < APPENDERS)
            counts[x >> 32]++;
    }
    DEMO_SAY("Go without a mutex: appends race on the header and some are lost.");
    DEMO_SAY("goconc: len %zu (expected %d), cap %zu", v.len, APPENDERS * PER_THREAD,
             goconc_slice_cap(s));
    for (t = 0; t < APPENDERS; t++) {
        DEMO_SAY("  thread %d: %zu elements present", t, counts[t]);
        bad |= counts[t] != PER_THREAD;
    }
    goconc_view_release(&v);
    goconc_slice_free(s);
    return bad;
}

/* 2.2: a pointer into a slice kept across an append that reallocates. */
static int pointer_across_append(void)
{
    goconc_slice *s;
    goconc_view v;
    uint64_t x = 42, y = 0;
    size_t cap0;
    int bad;

    DEMO_TITLE("slice 2.2: holding on to element 0 across a reallocating append");
    if (goconc_slice_new(&s, sizeof(uint64_t), 0, 1) != GOCONC_OK)
        return 1;
    DEMO_MUST(goconc_slice_append(s, &x, 1, NULL));
    DEMO_MUST(goconc_slice_snapshot(s, &v));
    cap0 = goconc_slice_cap(s);
    for (x = 0; x < 1000; x++)
        DEMO_MUST(goconc_slice_append(s, &x, 1, NULL));
    x = 7;
    DEMO_MUST(goconc_slice_set(s, 0, &x));
    DEMO_MUST(goconc_slice_get(s, 0, &y));
    DEMO_SAY("Go: p := &s[0] keeps pointing at the old array; in C, realloc "
             "leaves it dangling.");
    DEMO_SAY("goconc: cap grew %zu -> %zu (storage moved); the view taken "
             "before still reads %llu,", cap0, goconc_slice_cap(s),
             (unsigned long long)((const uint64_t *)v.data)[0]);
    DEMO_SAY("        valid until goconc_view_release; get(0) after set reads %llu.",
             (unsigned long long)y);
    bad = ((const uint64_t *)v.data)[0] != 42 || y != 7 || goconc_slice_cap(s) == cap0;
    goconc_view_release(&v);
    goconc_slice_free(s);
    return bad;
}

struct mutator_arg {
    goconc_slice *s;
    volatile int stop; /* accessed with __atomic */
};

static void *mutator(void *p)
{
    struct mutator_arg *m = p;
    uint64_t x = 0;
    while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
        size_t len = goconc_slice_len(m->s);
        x++;
        DEMO_MUST(goconc_slice_append(m->s, &x, 1, NULL));
        if (len > 0)
            DEMO_MUST_OR(goconc_slice_set(m->s, (size_t)(x % len), &(uint64_t){ 0 }), GOCONC_ERANGE);
    }
    return NULL;
}

struct walk {
    uint64_t sum;
    size_t n;
};

static int walk_fn(void *ctx, size_t i, const void *elem)
{
    struct walk *w = ctx;
    uint64_t x;
    memcpy(&x, elem, sizeof x);
    w->sum += x;
    w->n = i + 1;
    return 0;
}

/* 2.3: ranging over a slice while another goroutine modifies it. */
static int range_while_modified(void)
{
    struct mutator_arg m = { NULL, 0 };
    struct walk w1 = { 0, 0 }, w2 = { 0, 0 };
    goconc_view v;
    pthread_t th;
    uint64_t x;
    size_t i;
    int bad = 0;

    DEMO_TITLE("slice 2.3: iterating while another thread appends and sets");
    if (goconc_slice_new(&m.s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        return 1;
    for (x = 1; x <= 1000; x++)
        DEMO_MUST(goconc_slice_append(m.s, &x, 1, NULL));
    pthread_create(&th, NULL, mutator, &m);
    while (goconc_slice_len(m.s) < 5000) /* let the mutator get going */
        sched_yield();
    /* Walk one snapshot twice: both walks see exactly the same elements,
     * however much the mutator appends and sets in between. */
    DEMO_MUST(goconc_slice_snapshot(m.s, &v));
    for (i = 0; i < v.len; i++) {
        w1.sum += ((const uint64_t *)v.data)[i];
        w1.n++;
    }
    while (goconc_slice_len(m.s) < v.len + 5000)
        sched_yield();
    for (i = 0; i < v.len; i++)
        w2.sum += ((const uint64_t *)v.data)[i];
    w2.n = v.len;
    bad |= w1.sum != w2.sum;
    goconc_view_release(&v);
    /* goconc_slice_range walks its own snapshot. */
    w2.sum = 0;
    bad |= goconc_slice_range(m.s, walk_fn, &w2) != GOCONC_OK;
    __atomic_store_n(&m.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    DEMO_SAY("Go: a data race; the loop may see torn or half-appended elements.");
    DEMO_SAY("goconc: a snapshot walked twice, 5000 appends apart, gave the same "
             "%zu elements (sum %llu);", w1.n, (unsigned long long)w1.sum);
    DEMO_SAY("        goconc_slice_range then walked its own snapshot of %zu elements.",
             w2.n);
    goconc_slice_free(m.s);
    return bad;
}

/* 2.4: slice bounds out of range panics in Go. */
static int bounds(void)
{
    goconc_slice *s, *t = NULL;
    uint64_t x;
    int rc1, rc2, rc3;

    DEMO_TITLE("slice 2.4: slice bounds out of range");
    if (goconc_slice_new(&s, sizeof(uint64_t), 3, 5) != GOCONC_OK)
        return 1;
    rc1 = goconc_slice_reslice(s, 2, 1, 5, &t); /* s[2:1] */
    rc2 = goconc_slice_reslice(s, 0, 6, 6, &t); /* s[0:6], cap 5 */
    rc3 = goconc_slice_get(s, 3, &x);           /* s[3], len 3 */
    DEMO_SAY("Go: panic: slice bounds out of range / index out of range [3] with length 3");
    DEMO_SAY("goconc: s[2:1], s[0:6] and s[3] return %d, %d, %d: GOCONC_ERANGE (\"%s\")",
             rc1, rc2, rc3, goconc_strerror(GOCONC_ERANGE));
    DEMO_MUST(goconc_slice_reslice(s, 0, 5, 5, &t)); /* up to cap is fine, as in Go */
    DEMO_SAY("        s[0:5] (up to cap) is fine: len %zu, zero-filled", goconc_slice_len(t));
    goconc_slice_free(t);
    goconc_slice_free(s);
    return rc1 != GOCONC_ERANGE || rc2 != GOCONC_ERANGE || rc3 != GOCONC_ERANGE;
}

/* 2.5: nil versus empty slices. */
static int nil_and_empty(void)
{
    goconc_slice *s, *t = NULL;
    goconc_view v;
    uint64_t x = 1;
    size_t first = 1;
    int bad;

    DEMO_TITLE("slice 2.5: nil versus empty slice");
    if (goconc_slice_new(&s, sizeof(uint64_t), 0, 0) != GOCONC_OK)
        return 1;
    DEMO_MUST(goconc_slice_snapshot(s, &v));
    DEMO_SAY("Go: a nil slice and []T{} both have len 0 but differ (== nil, JSON null vs []).");
    DEMO_SAY("goconc: one kind of empty slice: len %zu cap %zu, view data %s NULL",
             goconc_slice_len(s), goconc_slice_cap(s), v.data != NULL ? "is never" : "is");
    bad = v.data == NULL || v.len != 0;
    goconc_view_release(&v);
    bad |= goconc_slice_reslice(s, 0, 0, 0, &t) != GOCONC_OK;
    bad |= goconc_slice_append(t, &x, 1, &first) != GOCONC_OK || first != 0;
    DEMO_SAY("        s[0:0] appends like any slice: len %zu; a NULL handle is "
             "EINVAL, not a nil slice", goconc_slice_len(t));
    bad |= goconc_slice_append(NULL, &x, 1, NULL) != GOCONC_EINVAL;
    goconc_slice_free(t);
    goconc_slice_free(s);
    return bad;
}

int demo_slice(void)
{
    int bad = 0;
    bad |= concurrent_append();
    bad |= pointer_across_append();
    bad |= range_while_modified();
    bad |= bounds();
    bad |= nil_and_empty();
    return bad;
}
