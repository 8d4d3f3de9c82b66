/* SPDX-License-Identifier: MIT */
/*
 * test_lincheck.c - the linearizability checker (lincheck.c) on histories
 * written by hand and generated: it must accept valid concurrent ones and
 * reject broken ones of every kind the library could produce (stale read,
 * lost write, wrong compare-and-swap result, double delete, read from the
 * future, new-then-old inversion, ...).
 *
 * Hand-written histories use small numbers as timestamps; a history is
 * built with the op macros below and checked with verdict().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lincheck.h"
#include "testutil.h"

#define OK GOCONC_OK
#define NF GOCONC_NOTFOUND
#define EX GOCONC_EXISTS
#define CH GOCONC_CHANGED
#define AB LC_UPD_ABORT_STATUS

/* Value ids; GARBAGE is never written. */
enum { A = 0xa, B = 0xb, C = 0xc, X = 0x1, Y = 0x2, GARBAGE = 0xdead };

static struct lc_op hist[64];
static size_t nhist;

static void add(uint64_t call, uint64_t ret, int kind, int mode, uint64_t arg, uint64_t old,
                int status, uint64_t out)
{
    ck_assert_uint_lt(nhist, sizeof hist / sizeof hist[0]);
    hist[nhist] = (struct lc_op){ call, ret, arg, old, out, status, (uint16_t)kind,
                                  (uint16_t)mode, (uint32_t)nhist };
    nhist++;
}

#define STORE(c, r, v) add(c, r, LC_STORE, 0, v, 0, OK, 0)
#define LOAD(c, r, st, v) add(c, r, LC_LOAD, 0, 0, 0, st, v)
#define DEL(c, r, st) add(c, r, LC_DELETE, 0, 0, 0, st, 0)
#define SWAP(c, r, v, st, prev) add(c, r, LC_SWAP, 0, v, 0, st, prev)
#define CAS(c, r, o, v, st) add(c, r, LC_CAS, 0, v, o, st, 0)
#define CAD(c, r, o, st) add(c, r, LC_CAD, 0, 0, o, st, 0)
#define LOS(c, r, v, st, cur) add(c, r, LC_LOAD_OR_STORE, 0, v, 0, st, cur)
#define LAD(c, r, st, v) add(c, r, LC_LOAD_AND_DELETE, 0, 0, 0, st, v)
#define UPD(c, r, mode, v, st, saw) add(c, r, LC_UPDATE, mode, v, 0, st, saw)
#define VCAS(c, r, o, v, st) add(c, r, LC_VALUE_CAS, 0, v, o, st, 0)

static enum lc_verdict verdict(uint64_t init)
{
    struct lc_checker *c = lc_checker_new(0);
    struct lc_stats st;
    enum lc_verdict v;
    ck_assert_ptr_nonnull(c);
    v = lc_check(c, hist, nhist, init, &st);
    lc_checker_free(c);
    nhist = 0;
    return v;
}

#define ACCEPTS(init) ck_assert_int_eq(verdict(init), LC_LINEARIZABLE)
#define REJECTS(init) ck_assert_int_eq(verdict(init), LC_VIOLATION)

/* ------------------------------------------------ the model, one by one */

struct spec_case {
    int kind, mode;
    uint64_t arg, old;
    int status;
    uint64_t out, next;
};

static void check_spec(uint64_t state, const struct spec_case *t, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        struct lc_op op = { 0, 0, t[i].arg, t[i].old, 0, 0, (uint16_t)t[i].kind,
                            (uint16_t)t[i].mode, 0 };
        uint64_t next = lc_spec(state, &op);
        ck_assert_msg(op.status == t[i].status && op.out == t[i].out && next == t[i].next,
                      "case %zu (%s) from %#" PRIx64 ": status %d out %#" PRIx64
                      " next %#" PRIx64,
                      i, lc_kind_name(t[i].kind), state, op.status, op.out, next);
    }
}

START_TEST(spec_from_absent)
{
    static const struct spec_case t[] = {
        { LC_STORE, 0, A, 0, OK, 0, A },
        { LC_LOAD, 0, 0, 0, NF, 0, 0 },
        { LC_DELETE, 0, 0, 0, NF, 0, 0 },
        { LC_SWAP, 0, A, 0, NF, 0, A },
        { LC_CAS, 0, A, X, NF, 0, 0 },
        { LC_CAD, 0, 0, X, NF, 0, 0 },
        { LC_LOAD_OR_STORE, 0, A, 0, OK, 0, A },
        { LC_LOAD_AND_DELETE, 0, 0, 0, NF, 0, 0 },
        { LC_UPDATE, LC_UPD_SET, A, 0, OK, 0, A },
        { LC_UPDATE, LC_UPD_REPLACE, A, 0, OK, 0, 0 },
        { LC_UPDATE, LC_UPD_TOGGLE, A, 0, OK, 0, A },
        { LC_UPDATE, LC_UPD_KEEP, A, 0, OK, 0, 0 },
        { LC_UPDATE, LC_UPD_ABORT, A, 0, AB, 0, 0 },
        { LC_VALUE_CAS, 0, A, 0, OK, 0, A },
        { LC_VALUE_CAS, 0, A, X, CH, 0, 0 },
    };
    check_spec(LC_ABSENT, t, sizeof t / sizeof t[0]);
}
END_TEST

START_TEST(spec_from_present)
{
    static const struct spec_case t[] = {
        { LC_STORE, 0, A, 0, OK, 0, A },
        { LC_LOAD, 0, 0, 0, OK, X, X },
        { LC_DELETE, 0, 0, 0, OK, 0, 0 },
        { LC_SWAP, 0, A, 0, OK, X, A },
        { LC_CAS, 0, A, X, OK, 0, A },
        { LC_CAS, 0, A, Y, CH, 0, X },
        { LC_CAD, 0, 0, X, OK, 0, 0 },
        { LC_CAD, 0, 0, Y, CH, 0, X },
        { LC_LOAD_OR_STORE, 0, A, 0, EX, X, X },
        { LC_LOAD_AND_DELETE, 0, 0, 0, OK, X, 0 },
        { LC_UPDATE, LC_UPD_SET, A, 0, OK, X, A },
        { LC_UPDATE, LC_UPD_REPLACE, A, 0, OK, X, A },
        { LC_UPDATE, LC_UPD_TOGGLE, A, 0, OK, X, 0 },
        { LC_UPDATE, LC_UPD_KEEP, A, 0, OK, X, X },
        { LC_UPDATE, LC_UPD_ABORT, A, 0, AB, X, X },
        { LC_VALUE_CAS, 0, A, 0, CH, 0, X },
        { LC_VALUE_CAS, 0, A, X, OK, 0, A },
        { LC_VALUE_CAS, 0, A, Y, CH, 0, X },
    };
    check_spec(X, t, sizeof t / sizeof t[0]);
}
END_TEST

/* -------------------------------------- sequential: every wrong result */

/* A sequential history through every kind and both outcomes of each. */
static size_t sequential_history(struct lc_op *h)
{
    static const struct { int kind, mode; uint64_t arg, old; } seq[] = {
        { LC_LOAD, 0, 0, 0 },         { LC_DELETE, 0, 0, 0 },
        { LC_SWAP, 0, A, 0 },         { LC_SWAP, 0, B, 0 },
        { LC_CAS, 0, C, A },          { LC_CAS, 0, C, B },
        { LC_LOAD, 0, 0, 0 },         { LC_CAD, 0, 0, B },
        { LC_CAD, 0, 0, C },          { LC_CAS, 0, A, C },
        { LC_LOAD_OR_STORE, 0, 0x10, 0 }, { LC_LOAD_OR_STORE, 0, 0x11, 0 },
        { LC_LOAD_AND_DELETE, 0, 0, 0 }, { LC_LOAD_AND_DELETE, 0, 0, 0 },
        { LC_UPDATE, LC_UPD_REPLACE, 0x12, 0 }, { LC_UPDATE, LC_UPD_TOGGLE, 0x13, 0 },
        { LC_UPDATE, LC_UPD_KEEP, 0, 0 }, { LC_UPDATE, LC_UPD_ABORT, 0x14, 0 },
        { LC_UPDATE, LC_UPD_REPLACE, 0x15, 0 }, { LC_UPDATE, LC_UPD_TOGGLE, 0x16, 0 },
        { LC_UPDATE, LC_UPD_SET, 0x17, 0 }, { LC_STORE, 0, 0x18, 0 },
        { LC_DELETE, 0, 0, 0 },       { LC_VALUE_CAS, 0, 0x19, 0 },
        { LC_VALUE_CAS, 0, 0x1a, 0 }, { LC_VALUE_CAS, 0, 0x1a, 0x19 },
        { LC_LOAD, 0, 0, 0 },
    };
    uint64_t s = LC_ABSENT;
    size_t i, n = sizeof seq / sizeof seq[0];
    for (i = 0; i < n; i++) {
        h[i] = (struct lc_op){ 10 * i, 10 * i + 5, seq[i].arg, seq[i].old, 0, 0,
                               (uint16_t)seq[i].kind, (uint16_t)seq[i].mode, 0 };
        s = lc_spec(s, &h[i]);
    }
    return n;
}

START_TEST(sequential_every_wrong_result_rejected)
{
    static const int statuses[] = { OK, NF, EX, CH, AB };
    static const uint64_t outs[] = { LC_ABSENT, A, B, C, 0x10, 0x12, GARBAGE };
    struct lc_op h[32];
    struct lc_checker *c = lc_checker_new(0);
    size_t n = sequential_history(h), i, j, wrong = 0;
    ck_assert_int_eq(lc_check(c, h, n, LC_ABSENT, NULL), LC_LINEARIZABLE);
    for (i = 0; i < n; i++) {
        struct lc_op keep = h[i];
        for (j = 0; j < sizeof statuses / sizeof statuses[0]; j++) {
            if (statuses[j] == keep.status)
                continue;
            h[i].status = statuses[j];
            ck_assert_msg(lc_check(c, h, n, LC_ABSENT, NULL) == LC_VIOLATION,
                          "op %zu (%s) with status %d accepted", i, lc_kind_name(keep.kind),
                          statuses[j]);
            wrong++;
        }
        h[i] = keep;
        for (j = 0; j < sizeof outs / sizeof outs[0]; j++) {
            if (outs[j] == keep.out)
                continue;
            h[i].out = outs[j];
            ck_assert_msg(lc_check(c, h, n, LC_ABSENT, NULL) == LC_VIOLATION,
                          "op %zu (%s) with out %#" PRIx64 " accepted", i,
                          lc_kind_name(keep.kind), outs[j]);
            wrong++;
        }
        h[i] = keep;
    }
    /* Four wrong statuses and at least six wrong values per operation. */
    ck_assert_uint_ge(wrong, n * 10);
    /* The initial state matters too. */
    ck_assert_int_eq(lc_check(c, h, n, A, NULL), LC_VIOLATION);
    lc_checker_free(c);
}
END_TEST

/* --------------------------------------------- concurrent, and valid */

START_TEST(concurrent_valid_histories)
{
    /* A load spanning two stores may see either; one spanning only the
     * second sees it or the first. */
    STORE(1, 4, A);
    LOAD(2, 9, OK, B);
    STORE(5, 6, B);
    LOAD(7, 8, OK, B);
    ACCEPTS(LC_ABSENT);

    /* Linearized against invocation order: the later store goes first. */
    LOAD(1, 10, OK, A);
    STORE(2, 8, A);
    STORE(3, 4, B);
    ACCEPTS(LC_ABSENT);

    /* Two compare-and-swaps from the same old value: one wins. */
    CAS(1, 5, X, A, OK);
    CAS(2, 6, X, B, CH);
    LOAD(7, 8, OK, A);
    ACCEPTS(X);

    /* load_or_store race: the one invoked later stored first. */
    LOS(1, 4, A, EX, B);
    LOS(2, 3, B, OK, 0);
    LOAD(5, 6, OK, B);
    ACCEPTS(LC_ABSENT);

    /* Two deletes: one found it. */
    DEL(1, 4, OK);
    LAD(2, 3, NF, 0);
    CAD(5, 6, X, NF);
    ACCEPTS(X);

    /* update toggles under a concurrent swap and load. */
    UPD(1, 6, LC_UPD_TOGGLE, A, OK, B);
    SWAP(2, 3, B, OK, X);
    LOAD(4, 8, NF, 0);
    SWAP(9, 10, C, NF, 0);
    ACCEPTS(X);

    /* Value: one empty-CAS wins, a swap after both sees the winner. */
    VCAS(1, 4, 0, A, CH);
    VCAS(2, 3, 0, B, OK);
    SWAP(5, 8, C, OK, B);
    LOAD(6, 7, OK, C);
    ACCEPTS(LC_ABSENT);

    /* Equal timestamps count as overlapping. */
    STORE(1, 2, A);
    LOAD(2, 3, NF, 0);
    ACCEPTS(LC_ABSENT);
}
END_TEST

/* ---------------------------------------------- broken, of each kind */

START_TEST(stale_read_rejected)
{
    STORE(1, 2, A);
    STORE(3, 4, B);
    LOAD(5, 6, OK, A);
    REJECTS(LC_ABSENT);
    /* Control: overlapping the second store, the same read is fine. */
    STORE(1, 2, A);
    STORE(3, 6, B);
    LOAD(4, 5, OK, A);
    ACCEPTS(LC_ABSENT);
    /* A delete that is not seen. */
    DEL(1, 2, OK);
    LOAD(3, 4, OK, X);
    REJECTS(X);
}
END_TEST

START_TEST(lost_write_rejected)
{
    /* Two swaps both replaced "nothing": one write vanished. */
    SWAP(1, 4, A, NF, 0);
    SWAP(2, 5, B, NF, 0);
    LOAD(6, 7, OK, B);
    REJECTS(LC_ABSENT);
    /* Two load_or_stores both stored. */
    LOS(1, 4, A, OK, 0);
    LOS(2, 5, B, OK, 0);
    REJECTS(LC_ABSENT);
    /* A store that returned and left no trace. */
    STORE(1, 2, A);
    LOAD(3, 4, NF, 0);
    REJECTS(LC_ABSENT);
}
END_TEST

START_TEST(wrong_cas_result_rejected)
{
    CAS(1, 2, X, A, CH); /* value was X */
    REJECTS(X);
    CAS(1, 2, Y, A, OK); /* value was X, not Y */
    REJECTS(X);
    CAS(1, 2, X, A, CH); /* absent is NOTFOUND for the map */
    REJECTS(LC_ABSENT);
    CAS(1, 2, X, A, OK); /* succeeded, but its value is not there */
    LOAD(3, 4, OK, X);
    REJECTS(X);
    CAD(1, 2, X, OK);    /* deleted, but still there */
    LOAD(3, 4, OK, X);
    REJECTS(X);
    VCAS(1, 2, 0, A, OK); /* value CAS "if empty" on a full value */
    REJECTS(X);
    /* Two CAS from the same value both won. */
    CAS(1, 5, X, A, OK);
    CAS(2, 6, X, B, OK);
    REJECTS(X);
    VCAS(1, 5, 0, A, OK);
    VCAS(2, 6, 0, B, OK);
    REJECTS(LC_ABSENT);
}
END_TEST

START_TEST(double_delete_rejected)
{
    LAD(1, 4, OK, X);
    LAD(2, 3, OK, X);
    REJECTS(X);
    CAD(1, 4, X, OK);
    DEL(2, 3, OK);
    REJECTS(X);
}
END_TEST

START_TEST(read_from_future_rejected)
{
    LOAD(1, 2, OK, A);
    STORE(3, 4, A);
    REJECTS(LC_ABSENT);
    LOS(1, 2, B, EX, A);
    SWAP(3, 4, A, NF, 0);
    REJECTS(LC_ABSENT);
}
END_TEST

START_TEST(new_then_old_rejected)
{
    /* A was stored before B; once a read has seen B, A is gone. */
    STORE(1, 2, A);
    STORE(3, 10, B);
    LOAD(4, 5, OK, B);
    LOAD(6, 7, OK, A);
    REJECTS(LC_ABSENT);
    /* Control: with the stores concurrent, A may come after B. */
    STORE(1, 10, A);
    STORE(2, 11, B);
    LOAD(3, 4, OK, B);
    LOAD(5, 6, OK, A);
    ACCEPTS(LC_ABSENT);
}
END_TEST

START_TEST(wrong_update_rejected)
{
    UPD(1, 2, LC_UPD_TOGGLE, A, OK, X); /* deleted X ... */
    LOAD(3, 4, OK, X);                  /* ... but X is still there */
    REJECTS(X);
    UPD(1, 2, LC_UPD_KEEP, 0, OK, A);   /* fn saw a value never stored */
    REJECTS(X);
    UPD(1, 2, LC_UPD_ABORT, A, AB, X);  /* aborted, but A got stored */
    LOAD(3, 4, OK, A);
    REJECTS(X);
    UPD(1, 2, LC_UPD_REPLACE, A, OK, 0); /* found nothing: stored nothing */
    UPD(3, 4, LC_UPD_KEEP, 0, OK, A);    /* yet A is there */
    REJECTS(LC_ABSENT);
}
END_TEST

/* ---------------------------------------------- generated histories */

/*
 * A history with a known linearization: THREADS threads each run
 * operations one at a time; every step either invokes a thread's next
 * operation, applies it to the model (its linearization point, which
 * gives its result), or returns it.  Every write has a fresh value.
 */
#define THREADS 5

static size_t generate(struct lc_op *h, size_t n, uint64_t seed, int value_only)
{
    static const int map_kinds[] = { LC_STORE, LC_LOAD, LC_LOAD, LC_DELETE, LC_SWAP,
                                     LC_CAS, LC_CAS, LC_CAD, LC_LOAD_OR_STORE,
                                     LC_LOAD_AND_DELETE, LC_UPDATE, LC_UPDATE };
    static const int value_kinds[] = { LC_STORE, LC_LOAD, LC_LOAD, LC_SWAP, LC_VALUE_CAS,
                                       LC_VALUE_CAS };
    struct lc_op *cur[THREADS] = { 0 };
    int applied[THREADS] = { 0 };
    uint64_t rng = seed, state = LC_ABSENT, time = 0, fresh = 0x100;
    size_t made = 0, done = 0;

    while (done < n) {
        unsigned t = (unsigned)(tu_rand(&rng) % THREADS);
        uint64_t r = tu_rand(&rng);
        if (cur[t] == NULL) {
            if (made == n)
                continue;
            cur[t] = &h[made++];
            *cur[t] = (struct lc_op){ 0 };
            cur[t]->call = ++time;
            cur[t]->thread = t;
            cur[t]->kind = (uint16_t)(value_only
                ? value_kinds[r % (sizeof value_kinds / sizeof value_kinds[0])]
                : map_kinds[r % (sizeof map_kinds / sizeof map_kinds[0])]);
            cur[t]->mode = (uint16_t)((r >> 8) % LC_UPD_NMODES);
            cur[t]->arg = fresh++;
            /* Mostly the current value, so compares succeed now and then. */
            cur[t]->old = (r >> 16) % 4 ? state : fresh - 2;
        } else if (!applied[t]) {
            state = lc_spec(state, cur[t]);
            applied[t] = 1;
        } else {
            cur[t]->ret = ++time;
            cur[t] = NULL;
            applied[t] = 0;
            done++;
        }
    }
    return n;
}

/* Make load i read a value first written after it returned; 0 if no
 * operation invoked after i writes one. */
static int read_from_future(struct lc_op *h, size_t n, size_t i)
{
    size_t j;
    for (j = 0; j < n; j++) {
        if (h[j].call > h[i].ret && h[j].kind != LC_LOAD && h[j].arg != 0) {
            h[i].status = OK;
            h[i].out = h[j].arg;
            return 1;
        }
    }
    return 0;
}

START_TEST(generated_histories)
{
    static struct lc_op h[300];
    struct lc_checker *c = lc_checker_new(0);
    size_t n = sizeof h / sizeof h[0], garbage = 0, future = 0;
    uint64_t seed;
    ck_assert_ptr_nonnull(c);
    for (seed = 1; seed <= 200; seed++) {
        struct lc_stats st;
        size_t i;
        generate(h, n, seed, seed % 4 == 0);
        ck_assert_msg(lc_check(c, h, n, LC_ABSENT, &st) == LC_LINEARIZABLE,
                      "seed %" PRIu64 " rejected (%" PRIu64 " steps, deepest %zu)", seed,
                      st.steps, st.deepest);
        ck_assert_uint_eq(st.deepest, n);
        /* A load in the middle that read garbage, or the future. */
        for (i = n / 2; i < n && h[i].kind != LC_LOAD; i++)
            ;
        if (i == n)
            continue;
        h[i].status = OK;
        h[i].out = GARBAGE;
        ck_assert_int_eq(lc_check(c, h, n, LC_ABSENT, NULL), LC_VIOLATION);
        garbage++;
        if (read_from_future(h, n, i)) {
            ck_assert_msg(lc_check(c, h, n, LC_ABSENT, NULL) == LC_VIOLATION,
                          "seed %" PRIu64 ": read from the future accepted", seed);
            future++;
        }
    }
    /* The mutations above did run, and often. */
    ck_assert_uint_ge(garbage, 190);
    ck_assert_uint_ge(future, 150);
    lc_checker_free(c);
}
END_TEST

START_TEST(budget_and_malformed)
{
    static struct lc_op h[200];
    struct lc_checker *small = lc_checker_new(50), *big = lc_checker_new(0);
    struct lc_stats st;
    generate(h, 200, 7, 0);
    ck_assert_int_eq(lc_check(small, h, 200, LC_ABSENT, &st), LC_UNDECIDED);
    ck_assert_uint_eq(st.steps, 51);
    ck_assert_int_eq(lc_check(big, h, 200, LC_ABSENT, &st), LC_LINEARIZABLE);
    ck_assert_uint_gt(st.steps, 50);
    /* Scratch memory is reused across sizes. */
    generate(h, 3, 9, 0);
    ck_assert_int_eq(lc_check(big, h, 3, LC_ABSENT, NULL), LC_LINEARIZABLE);
    ck_assert_int_eq(lc_check(big, h, 0, LC_ABSENT, NULL), LC_LINEARIZABLE);
    generate(h, 200, 7, 0);
    h[5].ret = h[5].call - 1;
    ck_assert_int_eq(lc_check(big, h, 200, LC_ABSENT, NULL), LC_MALFORMED);
    lc_checker_free(small);
    lc_checker_free(big);
    lc_checker_free(NULL);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(spec_from_absent),
        TU_CASE(spec_from_present),
        TU_CASE(sequential_every_wrong_result_rejected),
        TU_CASE(concurrent_valid_histories),
        TU_CASE(stale_read_rejected),
        TU_CASE(lost_write_rejected),
        TU_CASE(wrong_cas_result_rejected),
        TU_CASE(double_delete_rejected),
        TU_CASE(read_from_future_rejected),
        TU_CASE(new_then_old_rejected),
        TU_CASE(wrong_update_rejected),
        TU_CASE(generated_histories),
        TU_CASE(budget_and_malformed),
    };

    return TU_RUN(cases, .name = "lincheck", .timeout = 60);
}
