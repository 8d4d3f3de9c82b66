/* SPDX-License-Identifier: MIT */
/*
 * stress_slice - many threads on one slice, checked against an oracle.
 *
 * Each round: appenders push batches of elements that encode (thread,
 * sequence) and log where each batch landed; a setter toggles a mark bit
 * on random published elements (copy-on-write under live views); a
 * snapshot reader checks that every view is well formed (no unwritten
 * element below a published length, each thread's sequence increasing)
 * and that its checksum never changes while others append and set; a
 * resharer reslices, clones, copies and grows private handles over the
 * same storage.  At the end of a round every element must be present
 * exactly once at the index its append reported, and a view taken by the
 * reader must still read the same after the slice is freed.
 * Workers never call ck_assert: they count errors, main asserts.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define APPENDERS 2
#define MAX_BATCH 4
#define PER_ROUND 60000 /* elements per appender per round */
#define MARK ((uint64_t)1 << 63)
#define SEQ_BITS 40
#define ENC(t, q) ((((uint64_t)(t) + 1) << SEQ_BITS) | (uint64_t)(q))
#define TID(x) ((int)(((x) & ~MARK) >> SEQ_BITS) - 1)
#define SEQ(x) ((x) & (((uint64_t)1 << SEQ_BITS) - 1))
#define SENTINEL_TID APPENDERS /* the resharer's own appends */

struct logent {
    size_t first, n;
    uint64_t seq0;
};

struct shared {
    goconc_slice *s;
    uint64_t seed;
    double deadline;
    int round;
    volatile int appenders_done; /* accessed with __atomic */
};

struct appender {
    struct shared *sh;
    int tid;
    struct logent *log;
    size_t nlog;
    long errors;
};

struct other {
    struct shared *sh;
    long errors, checks;
    goconc_view last; /* the reader's view that must outlive the slice */
    uint64_t last_sum;
};

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static uint64_t view_sum(const goconc_view *v)
{
    const uint64_t *d = v->data;
    uint64_t h = v->len;
    size_t i;
    for (i = 0; i < v->len; i++)
        h = mix(h, d[i]);
    return h;
}

/* Every element written, from a known thread, each thread's sequence
 * increasing along the slice.  Returns the number of violations. */
static long check_elems(const uint64_t *d, size_t n, int max_tid)
{
    uint64_t next[APPENDERS + 1];
    long bad = 0;
    size_t i;
    memset(next, 0, sizeof next);
    for (i = 0; i < n; i++) {
        int t = TID(d[i]);
        if (d[i] == 0 || t < 0 || t > max_tid) {
            bad++;
            continue;
        }
        if (SEQ(d[i]) < next[t])
            bad++;
        next[t] = SEQ(d[i]) + 1;
    }
    return bad;
}

static int done(struct shared *sh)
{
    return __atomic_load_n(&sh->appenders_done, __ATOMIC_ACQUIRE) >= APPENDERS;
}

static void *appender_main(void *p)
{
    struct appender *a = p;
    uint64_t rng = a->sh->seed ^ (uint64_t)(a->tid * 7919 + a->sh->round * 104729);
    uint64_t seq = 0, buf[MAX_BATCH];
    size_t cap = PER_ROUND, prev = 0;
    int first_call = 1;

    a->log = malloc(cap * sizeof *a->log);
    if (a->log == NULL) {
        a->errors++;
        goto out;
    }
    while (seq < PER_ROUND && tu_now() < a->sh->deadline) {
        size_t n = 1 + (size_t)(tu_rand(&rng) % MAX_BATCH), first = (size_t)-1, j;
        if (seq + n > PER_ROUND)
            n = PER_ROUND - seq;
        for (j = 0; j < n; j++)
            buf[j] = ENC(a->tid, seq + j);
        if (goconc_slice_append(a->sh->s, buf, n, &first) != GOCONC_OK) {
            a->errors++;
            break;
        }
        /* One thread's appends land in increasing order. */
        if (!first_call && first < prev)
            a->errors++;
        first_call = 0;
        prev = first + n;
        a->log[a->nlog].first = first;
        a->log[a->nlog].n = n;
        a->log[a->nlog].seq0 = seq;
        a->nlog++;
        seq += n;
    }
out:
    __atomic_fetch_add(&a->sh->appenders_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Views are stable; a published length never exposes unwritten slots. */
static void *reader_main(void *p)
{
    struct other *o = p;
    goconc_slice *s = o->sh->s;
    goconc_view v;
    uint64_t sum, x;
    size_t len;
    int k;

    memset(&o->last, 0, sizeof o->last);
    while (!done(o->sh)) {
        if (goconc_slice_snapshot(s, &v) != GOCONC_OK) {
            o->errors++;
            break;
        }
        sum = view_sum(&v);
        o->errors += check_elems(v.data, v.len, APPENDERS - 1);
        for (k = 0; k < 3; k++)
            sched_yield();
        len = goconc_slice_len(s);
        if (len > 0 && (goconc_slice_get(s, len - 1, &x) != GOCONC_OK || x == 0 ||
                        TID(x) < 0 || TID(x) >= APPENDERS))
            o->errors++;
        if (view_sum(&v) != sum || len < v.len)
            o->errors++;
        o->checks++;
        /* Keep the newest view; it must survive the slice. */
        goconc_view_release(&o->last);
        o->last = v;
        o->last_sum = sum;
    }
    return NULL;
}

/* Toggle a mark bit on random published elements. */
static void *setter_main(void *p)
{
    struct other *o = p;
    goconc_slice *s = o->sh->s;
    uint64_t rng = o->sh->seed ^ 0x5e77e7ull ^ (uint64_t)o->sh->round, x;
    size_t len, i;

    while (!done(o->sh)) {
        len = goconc_slice_len(s);
        if (len == 0) {
            sched_yield();
            continue;
        }
        i = (size_t)(tu_rand(&rng) % len);
        if (goconc_slice_get(s, i, &x) != GOCONC_OK || goconc_slice_set(s, i, &(uint64_t){ x ^ MARK }) != GOCONC_OK)
            o->errors++;
        o->checks++;
        if (o->checks % 64 == 0)
            sched_yield();
    }
    return NULL;
}

static long check_handle(const goconc_slice *h)
{
    goconc_view v;
    long bad;
    if (goconc_slice_snapshot(h, &v) != GOCONC_OK)
        return 1;
    bad = check_elems(v.data, v.len, APPENDERS);
    goconc_view_release(&v);
    return bad;
}

/* Share the storage through extra handles: the group lock, moves. */
static void *resharer_main(void *p)
{
    struct other *o = p;
    goconc_slice *s = o->sh->s, *h, *c, *d;
    uint64_t sentinel = ENC(SENTINEL_TID, 0);
    size_t len, n;

    while (!done(o->sh)) {
        len = goconc_slice_len(s);
        /* h = s[0:len:len]: its append must move, never touch s. */
        if (goconc_slice_reslice(s, 0, len, len, &h) != GOCONC_OK) {
            o->errors++;
            break;
        }
        o->errors += check_handle(h);
        if (goconc_slice_append(h, &sentinel, 1, NULL) != GOCONC_OK ||
            goconc_slice_len(h) != len + 1)
            o->errors++;
        if (goconc_slice_clone(s, &c) != GOCONC_OK) {
            o->errors++;
        } else {
            o->errors += check_handle(c);
            if (goconc_slice_new(&d, sizeof(uint64_t), goconc_slice_len(c), goconc_slice_len(c)) != GOCONC_OK ||
                goconc_slice_copy(d, s, &n) != GOCONC_OK || n != goconc_slice_len(c))
                o->errors++;
            else
                o->errors += check_handle(d);
            goconc_slice_free(d);
            goconc_slice_free(c);
        }
        goconc_slice_free(h);
        o->checks++;
        sched_yield();
    }
    return NULL;
}

/* The oracle: each logged batch where it was reported, every index
 * covered exactly once, and nothing else in the slice. */
static long verify_round(struct shared *sh, struct appender *ap)
{
    goconc_view v;
    const uint64_t *d;
    unsigned char *seen;
    size_t total = 0, i, j;
    long bad = 0;
    int t;

    if (goconc_slice_snapshot(sh->s, &v) != GOCONC_OK)
        return 1;
    d = v.data;
    for (t = 0; t < APPENDERS; t++)
        for (i = 0; i < ap[t].nlog; i++)
            total += ap[t].log[i].n;
    if (v.len != total || goconc_slice_len(sh->s) != total) {
        fprintf(stderr, "round %d: len %zu, appended %zu\n", sh->round, v.len, total);
        bad++;
    }
    seen = calloc(v.len + 1, 1);
    if (seen == NULL) {
        goconc_view_release(&v);
        return bad + 1;
    }
    for (t = 0; t < APPENDERS; t++) {
        for (i = 0; i < ap[t].nlog; i++) {
            const struct logent *e = &ap[t].log[i];
            for (j = 0; j < e->n; j++) {
                size_t k = e->first + j;
                if (k >= v.len || seen[k]++ != 0 ||
                    (d[k] & ~MARK) != ENC(t, e->seq0 + j)) {
                    bad++;
                    break;
                }
            }
        }
    }
    for (i = 0; i < v.len; i++)
        if (seen[i] != 1)
            bad++;
    free(seen);
    goconc_view_release(&v);
    return bad;
}

START_TEST(test_stress_append_snapshot)
{
    uint64_t seed = tu_seed();
    double end = tu_now() + tu_stress_seconds();
    long live = tu_alloc_live(), errors = 0, rounds = 0, views = 0, sets = 0, shares = 0;
    int t;

    do {
        struct shared sh = { NULL, seed + (uint64_t)rounds, end, (int)rounds, 0 };
        struct appender ap[APPENDERS];
        struct other rd = { &sh, 0, 0, { 0 }, 0 }, st = rd, rs = rd;
        pthread_t th[APPENDERS + 3];

        ck_assert_int_eq(goconc_slice_new(&sh.s, sizeof(uint64_t), 0, 0), GOCONC_OK);
        for (t = 0; t < APPENDERS; t++) {
            ap[t] = (struct appender){ &sh, t, NULL, 0, 0 };
            ck_assert_int_eq(pthread_create(&th[t], NULL, appender_main, &ap[t]), 0);
        }
        ck_assert_int_eq(pthread_create(&th[APPENDERS], NULL, reader_main, &rd), 0);
        ck_assert_int_eq(pthread_create(&th[APPENDERS + 1], NULL, setter_main, &st), 0);
        ck_assert_int_eq(pthread_create(&th[APPENDERS + 2], NULL, resharer_main, &rs), 0);
        for (t = 0; t < APPENDERS + 3; t++)
            ck_assert_int_eq(pthread_join(th[t], NULL), 0);

        errors = rd.errors + st.errors + rs.errors;
        for (t = 0; t < APPENDERS; t++)
            errors += ap[t].errors;
        errors += verify_round(&sh, ap);
        goconc_slice_free(sh.s);
        /* The reader's last view outlives the slice, unchanged. */
        if (rd.last.data != NULL && view_sum(&rd.last) != rd.last_sum)
            errors++;
        goconc_view_release(&rd.last);
        for (t = 0; t < APPENDERS; t++)
            free(ap[t].log);
        if (errors != 0)
            fprintf(stderr, "stress_slice: round %ld failed with %ld errors (seed %" PRIu64 ")\n",
                    rounds, errors, seed);
        ck_assert_int_eq(errors, 0);
        views += rd.checks;
        sets += st.checks;
        shares += rs.checks;
        rounds++;
    } while (tu_now() < end);
    fprintf(stderr, "stress_slice: %ld rounds, %ld views, %ld sets, %ld reshares\n",
            rounds, views, sets, shares);
    /* Every view went: the live counts that storage took for views
     * outliving their handles balanced out. */
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_OK);
    ck_assert_int_gt(views, 0);
    ck_assert_int_eq(tu_alloc_live(), live);
}
END_TEST

/* Handles of one storage group used from several threads at once: get,
 * set, append within and beyond capacity, copy, snapshot and free.  Go
 * lets such appends overwrite each other, so the oracle is structural:
 * each thread's private slot stays its own, and nothing leaks. */
struct group_arg {
    goconc_slice *base;
    int idx;
    uint64_t seed;
    double end;
    long errors, ops;
};

static void *group_main(void *p)
{
    struct group_arg *g = p;
    uint64_t rng = g->seed ^ (uint64_t)g->idx * 0x2545f4914f6cdd1dull, x, y;
    goconc_slice *mine = NULL, *tmp = NULL;
    goconc_view v;
    size_t n;

    /* mine = base[idx:idx+1:idx+1]: its element is this thread's alone. */
    if (goconc_slice_reslice(g->base, (size_t)g->idx, (size_t)g->idx + 1, (size_t)g->idx + 1, &mine) != GOCONC_OK) {
        g->errors++;
        return NULL;
    }
    while (tu_now() < g->end) {
        switch (tu_rand(&rng) % 5) {
        case 0:
            x = tu_rand(&rng) | 1;
            if (goconc_slice_set(mine, 0, &x) != GOCONC_OK ||
                goconc_slice_get(g->base, (size_t)g->idx, &y) != GOCONC_OK || y != x)
                g->errors++;
            break;
        case 1:
            if (goconc_slice_snapshot(g->base, &v) != GOCONC_OK) {
                g->errors++;
                break;
            }
            x = ((const uint64_t *)v.data)[g->idx];
            sched_yield();
            if (((const uint64_t *)v.data)[g->idx] != x)
                g->errors++;
            goconc_view_release(&v);
            break;
        case 2:
            /* A one-element handle grows on append: moves, base untouched. */
            if (goconc_slice_reslice(mine, 0, 1, 1, &tmp) != GOCONC_OK ||
                goconc_slice_append(tmp, &(uint64_t){ 0 }, 1, NULL) != GOCONC_OK ||
                goconc_slice_len(tmp) != 2)
                g->errors++;
            goconc_slice_free(tmp);
            tmp = NULL;
            break;
        case 3:
            if (goconc_slice_clone(mine, &tmp) != GOCONC_OK ||
                goconc_slice_copy(mine, tmp, &n) != GOCONC_OK || n != 1)
                g->errors++;
            goconc_slice_free(tmp);
            tmp = NULL;
            break;
        default:
            if (goconc_slice_get(mine, 0, &x) != GOCONC_OK)
                g->errors++;
            break;
        }
        g->ops++;
    }
    goconc_slice_free(mine);
    return NULL;
}

START_TEST(test_stress_shared_group)
{
    enum { T = 4 };
    struct group_arg ga[T];
    pthread_t th[T];
    goconc_slice *base = NULL;
    uint64_t seed = tu_seed();
    long live = tu_alloc_live(), ops = 0;
    int t;

    ck_assert_int_eq(goconc_slice_new(&base, sizeof(uint64_t), T, T), GOCONC_OK);
    for (t = 0; t < T; t++) {
        ga[t] = (struct group_arg){ base, t, seed, tu_now() + tu_stress_seconds() / 2, 0, 0 };
        ck_assert_int_eq(pthread_create(&th[t], NULL, group_main, &ga[t]), 0);
    }
    for (t = 0; t < T; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        if (ga[t].errors != 0)
            fprintf(stderr, "stress_slice: group thread %d: %ld errors (seed %" PRIu64 ")\n",
                    t, ga[t].errors, seed);
        ck_assert_int_eq(ga[t].errors, 0);
        ops += ga[t].ops;
    }
    goconc_slice_free(base);
    fprintf(stderr, "stress_slice: %ld shared-group ops\n", ops);
    ck_assert_int_gt(ops, 0);
    ck_assert_int_eq(tu_alloc_live(), live);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_stress_append_snapshot),
        TU_CASE(test_stress_shared_group),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "stress_slice", .timeout = 240);
}
