/* SPDX-License-Identifier: MIT */
/*
 * test_slice - unit tests of goconc/slice.h: every function and its bad
 * input, Go's growth sequence, reslice bounds, aliasing, copy-on-write of
 * viewed storage, and allocation-failure sweeps.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "slice/slice_internal.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

static goconc_slice *mk(size_t es, size_t len, size_t cap)
{
    goconc_slice *s = NULL;
    ck_assert_int_eq(goconc_slice_new(&s, es, len, cap), GOCONC_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static uint64_t at(const goconc_slice *s, size_t i)
{
    uint64_t x = 0;
    ck_assert_int_eq(goconc_slice_get(s, i, &x), GOCONC_OK);
    return x;
}

static void put(goconc_slice *s, size_t i, uint64_t x)
{
    ck_assert_int_eq(goconc_slice_set(s, i, &x), GOCONC_OK);
}

static size_t push(goconc_slice *s, uint64_t x)
{
    size_t first = (size_t)-1;
    ck_assert_int_eq(goconc_slice_append(s, &x, 1, &first), GOCONC_OK);
    return first;
}

/* s = [0, 1, ..., n-1] * mul + add, through set. */
static void fill(goconc_slice *s, uint64_t mul, uint64_t add)
{
    size_t i, n = goconc_slice_len(s);
    for (i = 0; i < n; i++)
        put(s, i, i * mul + add);
}

static void expect_seq(const goconc_slice *s, size_t n, uint64_t mul, uint64_t add)
{
    size_t i;
    ck_assert_uint_eq(goconc_slice_len(s), n);
    for (i = 0; i < n; i++)
        ck_assert_uint_eq(at(s, i), i * mul + add);
}

/* Go's nextslicecap, written out again from the rule in API.md. */
static size_t go_next_cap(size_t old, size_t need)
{
    size_t c = old;
    if (need > old + old)
        return need;
    if (old < 256)
        return old + old;
    do
        c += (c + 3 * 256) / 4;
    while (c < need);
    return c;
}

/* The elements beyond len, up to cap, read through a reslice. */
static void expect_zero_tail(const goconc_slice *s)
{
    goconc_slice *t = NULL;
    size_t i, k, len = goconc_slice_len(s), cap = goconc_slice_cap(s);
    size_t es = goconc_slice_elem_size(s);
    unsigned char e[64];
    ck_assert_uint_le(es, sizeof e);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, cap, cap, &t), GOCONC_OK);
    for (i = len; i < cap; i++) {
        memset(e, 0xee, sizeof e);
        ck_assert_int_eq(goconc_slice_get(t, i, e), GOCONC_OK);
        for (k = 0; k < es; k++)
            ck_assert_uint_eq(e[k], 0);
    }
    goconc_slice_free(t);
}

static long live0;

static void setup(void) { live0 = tu_alloc_live(); }
static void teardown(void) { ck_assert_int_eq(tu_alloc_live(), live0); }

/* ----------------------------------------------------------- new/free */

START_TEST(test_new_and_accessors)
{
    static const size_t sizes[] = { 1, 3, 8, 16, 24 };
    unsigned char buf[24], zero[24] = { 0 };
    goconc_slice *s = NULL;
    size_t k, i;

    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        s = mk(sizes[k], 5, 9);
        ck_assert_uint_eq(goconc_slice_len(s), 5);
        ck_assert_uint_eq(goconc_slice_cap(s), 9);
        ck_assert_uint_eq(goconc_slice_elem_size(s), sizes[k]);
        for (i = 0; i < 5; i++) {
            memset(buf, 0xee, sizeof buf);
            ck_assert_int_eq(goconc_slice_get(s, i, buf), GOCONC_OK);
            ck_assert_int_eq(memcmp(buf, zero, sizes[k]), 0);
            if (sizes[k] < sizeof buf) /* exactly elem_size bytes written */
                ck_assert_uint_eq(buf[sizes[k]], 0xee);
        }
        expect_zero_tail(s);
        goconc_slice_free(s);
    }
    s = (goconc_slice *)0x1;
    ck_assert_int_eq(goconc_slice_new(NULL, 8, 0, 0), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_new(&s, 0, 0, 0), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_new(&s, 8, 3, 2), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_new(&s, 1, 0, SIZE_MAX), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_slice_new(&s, SIZE_MAX / 3, 0, 3), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_slice_new(&s, SIZE_MAX / 2, 1, 2), GOCONC_EOVERFLOW);
    ck_assert_ptr_eq(s, (goconc_slice *)0x1); /* untouched on failure */
    ck_assert_uint_eq(goconc_slice_len(NULL), 0);
    ck_assert_uint_eq(goconc_slice_cap(NULL), 0);
    ck_assert_uint_eq(goconc_slice_elem_size(NULL), 0);
    goconc_slice_free(NULL);
}
END_TEST

START_TEST(test_nil_and_empty)
{
    goconc_slice *s = mk(8, 0, 0), *t = NULL;
    goconc_view v;
    uint64_t x = 1;
    size_t first = 99;

    ck_assert_uint_eq(goconc_slice_len(s), 0);
    ck_assert_uint_eq(goconc_slice_cap(s), 0);
    ck_assert_int_eq(goconc_slice_get(s, 0, &x), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_set(s, 0, &x), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_snapshot(s, &v), GOCONC_OK);
    ck_assert_ptr_nonnull(v.data);
    ck_assert_uint_eq(v.len, 0);
    ck_assert_uint_eq(v.elem_size, 8);
    goconc_view_release(&v);
    /* append with nothing: NULL elems allowed, index is the length. */
    ck_assert_int_eq(goconc_slice_append(s, NULL, 0, &first), GOCONC_OK);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(goconc_slice_cap(s), 0);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 0, 0, &t), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_len(t), 0);
    goconc_slice_free(t);
    ck_assert_int_eq(goconc_slice_clone(s, &t), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_cap(t), 0);
    ck_assert_int_eq(goconc_slice_snapshot(t, &v), GOCONC_OK);
    ck_assert_ptr_nonnull(v.data);
    goconc_view_release(&v);
    goconc_slice_free(t);
    goconc_slice_free(s);
}
END_TEST

/* The clone above leaked nothing only if free really freed: teardown
 * checks; here, the second handle of a reslice keeps storage alive. */
START_TEST(test_free_order)
{
    goconc_slice *s = mk(8, 4, 8), *t = NULL, *u = NULL;
    fill(s, 1, 10);
    ck_assert_int_eq(goconc_slice_reslice(s, 1, 3, 8, &t), GOCONC_OK);
    ck_assert_int_eq(goconc_slice_reslice(t, 1, 2, 7, &u), GOCONC_OK);
    goconc_slice_free(s);
    ck_assert_uint_eq(at(t, 0), 11);
    goconc_slice_free(t);
    ck_assert_uint_eq(at(u, 0), 12);
    ck_assert_uint_eq(goconc_slice_cap(u), 6);
    goconc_slice_free(u);
}
END_TEST

/* ------------------------------------------------------------ get/set */

START_TEST(test_get_set)
{
    unsigned char e[3] = { 1, 2, 3 }, o[4] = { 9, 9, 9, 9 };
    goconc_slice *s = mk(3, 4, 4), *w = mk(8, 2, 2);
    uint64_t x = 0;

    ck_assert_int_eq(goconc_slice_set(s, 2, e), GOCONC_OK);
    ck_assert_int_eq(goconc_slice_get(s, 2, o), GOCONC_OK);
    ck_assert_int_eq(memcmp(o, e, 3), 0);
    ck_assert_uint_eq(o[3], 9); /* exactly elem_size bytes written */
    ck_assert_int_eq(goconc_slice_get(s, 1, o), GOCONC_OK);
    ck_assert_uint_eq(o[0] | o[1] | o[2], 0);
    ck_assert_int_eq(goconc_slice_get(s, 4, o), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_get(s, SIZE_MAX, o), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_set(s, 4, e), GOCONC_ERANGE);
    ck_assert_int_eq(goconc_slice_get(NULL, 0, o), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_get(s, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_set(NULL, 0, e), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_set(s, 0, NULL), GOCONC_EINVAL);
    put(w, 1, 0x0123456789abcdefull);
    ck_assert_int_eq(goconc_slice_get(w, 1, &x), GOCONC_OK);
    ck_assert_uint_eq(x, 0x0123456789abcdefull);
    goconc_slice_free(s);
    goconc_slice_free(w);
}
END_TEST

/* ------------------------------------------------------------- append */

START_TEST(test_append_basic)
{
    goconc_slice *s = mk(8, 0, 0);
    uint64_t v[5] = { 10, 11, 12, 13, 14 }, big[3];
    size_t first = 7;

    ck_assert_int_eq(goconc_slice_append(s, v, 5, &first), GOCONC_OK);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(goconc_slice_cap(s), 5); /* need > 2 * 0 */
    ck_assert_int_eq(goconc_slice_append(s, v, 2, NULL), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_cap(s), 10);
    ck_assert_uint_eq(push(s, 99), 7);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(at(s, i), 10 + i);
    ck_assert_uint_eq(at(s, 5), 10);
    ck_assert_uint_eq(at(s, 6), 11);
    ck_assert_uint_eq(at(s, 7), 99);
    expect_zero_tail(s);
    ck_assert_int_eq(goconc_slice_append(NULL, v, 1, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_append(s, NULL, 1, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_append(s, v, SIZE_MAX / 8 + 1, NULL), GOCONC_EOVERFLOW);
    ck_assert_uint_eq(goconc_slice_len(s), 8);
    goconc_slice_free(s);

    /* Growth whose byte size overflows: EOVERFLOW, before reading elems. */
    s = mk(SIZE_MAX / 3, 0, 0);
    ck_assert_int_eq(goconc_slice_append(s, big, 4, NULL), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_slice_append(s, big, 3, NULL), GOCONC_EOVERFLOW);
    ck_assert_uint_eq(goconc_slice_len(s), 0);
    goconc_slice_free(s);

    /* 1-byte elements: n * 1 fits, len + n does not; append(s) with no
     * index to report. */
    s = mk(1, 1, 1);
    ck_assert_int_eq(goconc_slice_append(s, v, SIZE_MAX, NULL), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_slice_append(s, NULL, 0, NULL), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_len(s), 1);
    goconc_slice_free(s);
}
END_TEST

START_TEST(test_growth_sequence)
{
    /* Go's rule without size classes (API.md): these are not Go's
     * malloc-rounded capacities (512 -> 848 for 8-byte elements) but the
     * formula's own. */
    static const size_t first_caps[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512,
                                         832, 1232, 1732, 2357, 3138, 4114, 5334,
                                         6859, 8765, 11148, 14127, 17850 };
    static const size_t sizes[] = { 1, 8, 24 };
    size_t k, i, steps, cap, expect, nfirst = sizeof first_caps / sizeof first_caps[0];

    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        goconc_slice *s = mk(sizes[k], 0, 0);
        unsigned char e[24];
        cap = 0;
        steps = 0;
        for (i = 0; i < 60000; i++) {
            memset(e, (int)(i * 7 + 1), sizeof e);
            ck_assert_int_eq(goconc_slice_append(s, e, 1, NULL), GOCONC_OK);
            if (goconc_slice_cap(s) != cap) {
                expect = go_next_cap(cap, i + 1);
                ck_assert_uint_eq(goconc_slice_cap(s), expect);
                if (steps < nfirst)
                    ck_assert_uint_eq(goconc_slice_cap(s), first_caps[steps]);
                cap = goconc_slice_cap(s);
                steps++;
                ck_assert_uint_eq(goconc_slice_len(s), i + 1);
            } else {
                ck_assert_uint_ge(cap, i + 1); /* no growth while it fits */
            }
        }
        ck_assert_uint_ge(steps, nfirst);
        for (i = 0; i < 60000; i += 997) {
            unsigned char o[24];
            ck_assert_int_eq(goconc_slice_get(s, i, o), GOCONC_OK);
            ck_assert_uint_eq(o[0], (unsigned char)(i * 7 + 1));
            ck_assert_uint_eq(o[sizes[k] - 1], (unsigned char)(i * 7 + 1));
        }
        goconc_slice_free(s);
    }
}
END_TEST

START_TEST(test_growth_bulk)
{
    static const struct { size_t cap, add, want; } cases[] = {
        { 0, 5, 5 },        /* need > 2*old */
        { 3, 4, 7 },        /* 7 > 6 */
        { 3, 3, 6 },        /* 6 == 2*3: double */
        { 255, 1, 510 },    /* below 256: double */
        { 256, 1, 512 },    /* 256 + (256 + 768) / 4 */
        { 300, 1, 567 },    /* 300 + 1068 / 4 */
        { 256, 700, 956 },  /* 956 > 2*256: the need itself */
        { 512, 500, 1232 }, /* 832, 1232 */
        { 300, 250, 567 },
        { 1000, 1500, 2500 },
        { 1000, 999, 2684 }, /* 1442, 1994, 2684 */
    };
    size_t k, i;

    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        goconc_slice *s = mk(8, cases[k].cap, cases[k].cap);
        uint64_t *v = calloc(cases[k].add, sizeof *v);
        size_t first = 0;
        ck_assert_ptr_nonnull(v);
        fill(s, 3, 1);
        for (i = 0; i < cases[k].add; i++)
            v[i] = 5000 + i;
        ck_assert_int_eq(goconc_slice_append(s, v, cases[k].add, &first), GOCONC_OK);
        ck_assert_uint_eq(first, cases[k].cap);
        ck_assert_uint_eq(goconc_slice_cap(s), cases[k].want);
        ck_assert_uint_eq(goconc_slice_cap(s), go_next_cap(cases[k].cap, cases[k].cap + cases[k].add));
        for (i = 0; i < cases[k].cap; i++)
            ck_assert_uint_eq(at(s, i), i * 3 + 1);
        for (i = 0; i < cases[k].add; i++)
            ck_assert_uint_eq(at(s, cases[k].cap + i), 5000 + i);
        expect_zero_tail(s);
        free(v);
        goconc_slice_free(s);
    }
}
END_TEST

/* Growth must show zeroes beyond len even where the old storage held
 * data: the in-place path (one handle, no view) and the moving ones. */
START_TEST(test_growth_zero_tail)
{
    goconc_slice *s = mk(8, 4, 4), *t = NULL, *u = NULL;
    goconc_view v;

    fill(s, 1, 100);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 1, 2, &t), GOCONC_OK);
    goconc_slice_free(s); /* t alone over [100, 101, 102, 103] */
    push(t, 7);           /* fits: writes over 101 */
    push(t, 8);           /* grows: cap 4, old 102 103 must not show */
    ck_assert_uint_eq(goconc_slice_cap(t), 4);
    expect_zero_tail(t);
    ck_assert_uint_eq(at(t, 0), 100);
    ck_assert_uint_eq(at(t, 1), 7);
    ck_assert_uint_eq(at(t, 2), 8);

    /* Offset handle growing (moves to offset 0 storage). */
    ck_assert_int_eq(goconc_slice_reslice(t, 1, 2, 2, &u), GOCONC_OK);
    goconc_slice_free(t);
    push(u, 55);
    ck_assert_uint_eq(goconc_slice_cap(u), 2);
    ck_assert_uint_eq(at(u, 0), 7);
    ck_assert_uint_eq(at(u, 1), 55);
    push(u, 56);
    ck_assert_uint_eq(goconc_slice_cap(u), 4);
    expect_zero_tail(u);

    /* Growth while a view pins the storage. */
    ck_assert_int_eq(goconc_slice_snapshot(u, &v), GOCONC_OK);
    push(u, 57);
    push(u, 58);
    ck_assert_uint_eq(goconc_slice_cap(u), 8);
    expect_zero_tail(u);
    ck_assert_uint_eq(v.len, 3);
    ck_assert_uint_eq(((const uint64_t *)v.data)[2], 56);
    goconc_view_release(&v);
    goconc_slice_free(u);
}
END_TEST

/* ------------------------------------------------------------ reslice */

START_TEST(test_reslice_bounds)
{
    goconc_slice *s = mk(8, 3, 6), *t = (goconc_slice *)0x1;
    static const size_t bad[][3] = {
        { 1, 0, 6 }, { 0, 4, 3 }, { 0, 0, 7 }, { 7, 7, 7 }, { 0, 7, 7 },
        { SIZE_MAX, SIZE_MAX, SIZE_MAX }, { 2, 1, 1 },
    };
    static const size_t good[][3] = {
        { 0, 0, 0 }, { 0, 3, 6 }, { 0, 6, 6 }, { 6, 6, 6 }, { 2, 5, 5 }, { 3, 3, 4 },
    };
    size_t k;

    for (k = 0; k < sizeof bad / sizeof bad[0]; k++)
        ck_assert_int_eq(goconc_slice_reslice(s, bad[k][0], bad[k][1], bad[k][2], &t),
                         GOCONC_ERANGE);
    ck_assert_ptr_eq(t, (goconc_slice *)0x1);
    for (k = 0; k < sizeof good / sizeof good[0]; k++) {
        ck_assert_int_eq(goconc_slice_reslice(s, good[k][0], good[k][1], good[k][2], &t),
                         GOCONC_OK);
        ck_assert_uint_eq(goconc_slice_len(t), good[k][1] - good[k][0]);
        ck_assert_uint_eq(goconc_slice_cap(t), good[k][2] - good[k][0]);
        ck_assert_uint_eq(goconc_slice_elem_size(t), 8);
        goconc_slice_free(t);
    }
    ck_assert_int_eq(goconc_slice_reslice(NULL, 0, 0, 0, &t), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 0, 0, NULL), GOCONC_EINVAL);
    goconc_slice_free(s);
}
END_TEST

START_TEST(test_reslice_aliasing)
{
    goconc_slice *s = mk(8, 6, 8), *t = NULL, *u = NULL;

    fill(s, 1, 0);
    ck_assert_int_eq(goconc_slice_reslice(s, 2, 5, 8, &t), GOCONC_OK); /* [2 3 4] */
    ck_assert_uint_eq(at(t, 0), 2);
    put(t, 1, 333);
    ck_assert_uint_eq(at(s, 3), 333);
    put(s, 4, 444);
    ck_assert_uint_eq(at(t, 2), 444);
    /* Reslice beyond len, up to cap: shows s's elements and zeroes. */
    ck_assert_int_eq(goconc_slice_reslice(t, 0, 6, 6, &u), GOCONC_OK);
    ck_assert_uint_eq(at(u, 3), 5);
    ck_assert_uint_eq(at(u, 4), 0);
    ck_assert_uint_eq(at(u, 5), 0);
    put(u, 5, 77); /* element 7 of s's storage */
    goconc_slice_free(u);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 8, 8, &u), GOCONC_OK);
    ck_assert_uint_eq(at(u, 7), 77);
    ck_assert_uint_eq(at(u, 6), 0);
    goconc_slice_free(u);
    goconc_slice_free(t);
    goconc_slice_free(s);
}
END_TEST

/* Go: append within capacity writes the shared storage; beyond it, the
 * appending handle moves and the others keep the old storage. */
START_TEST(test_append_aliasing)
{
    goconc_slice *a = mk(8, 0, 4), *b = NULL;
    push(a, 1);
    push(a, 2);
    push(a, 3);
    ck_assert_int_eq(goconc_slice_reslice(a, 0, 2, 4, &b), GOCONC_OK);
    ck_assert_uint_eq(push(b, 99), 2); /* b = [1 2 99], a[2] too */
    ck_assert_uint_eq(at(a, 2), 99);
    ck_assert_uint_eq(push(b, 100), 3); /* fills cap: a's storage */
    ck_assert_uint_eq(goconc_slice_len(a), 3);
    push(a, 4); /* a writes index 3: b sees it */
    ck_assert_uint_eq(at(b, 3), 4);
    /* b grows: moves; a keeps the old storage */
    ck_assert_uint_eq(push(b, 5), 4);
    ck_assert_uint_eq(goconc_slice_cap(b), 8);
    put(b, 0, 1000);
    ck_assert_uint_eq(at(a, 0), 1);
    put(a, 1, 2000);
    ck_assert_uint_eq(at(b, 1), 2);
    ck_assert_uint_eq(at(b, 3), 4);
    ck_assert_uint_eq(at(b, 4), 5);
    expect_zero_tail(b);
    goconc_slice_free(a);
    goconc_slice_free(b);
}
END_TEST

/* --------------------------------------------------------- copy/clone */

START_TEST(test_copy)
{
    goconc_slice *a = mk(8, 5, 5), *b = mk(8, 3, 10), *c = mk(4, 3, 3), *s, *t = NULL, *u = NULL;
    uint64_t model[10];
    size_t n = 0, i;

    fill(a, 1, 10);
    fill(b, 1, 20);
    ck_assert_int_eq(goconc_slice_copy(b, a, &n), GOCONC_OK); /* min(3, 5) */
    ck_assert_uint_eq(n, 3);
    expect_seq(b, 3, 1, 10);
    fill(b, 1, 20);
    ck_assert_int_eq(goconc_slice_copy(a, b, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(at(a, 2), 22);
    ck_assert_uint_eq(at(a, 3), 13);
    ck_assert_int_eq(goconc_slice_copy(a, c, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_copy(NULL, a, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_copy(a, NULL, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_copy(a, a, NULL), GOCONC_OK);
    expect_seq(b, 3, 1, 20);

    /* Overlapping, both directions, against memmove on a model. */
    s = mk(8, 10, 10);
    for (int dir = 0; dir < 2; dir++) {
        fill(s, 1, 0);
        for (i = 0; i < 10; i++)
            model[i] = i;
        ck_assert_int_eq(goconc_slice_reslice(s, 0, 8, 10, &t), GOCONC_OK);
        ck_assert_int_eq(goconc_slice_reslice(s, 2, 10, 10, &u), GOCONC_OK);
        if (dir == 0) {
            ck_assert_int_eq(goconc_slice_copy(t, u, &n), GOCONC_OK);
            memmove(model, model + 2, 8 * sizeof model[0]);
        } else {
            ck_assert_int_eq(goconc_slice_copy(u, t, &n), GOCONC_OK);
            memmove(model + 2, model, 8 * sizeof model[0]);
        }
        ck_assert_uint_eq(n, 8);
        for (i = 0; i < 10; i++)
            ck_assert_uint_eq(at(s, i), model[i]);
        goconc_slice_free(t);
        goconc_slice_free(u);
    }
    goconc_slice_free(s);
    goconc_slice_free(a);
    goconc_slice_free(b);
    goconc_slice_free(c);
}
END_TEST

START_TEST(test_clone)
{
    goconc_slice *s = mk(8, 4, 16), *t = NULL, *c = NULL;

    fill(s, 2, 1);
    ck_assert_int_eq(goconc_slice_clone(s, &c), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_cap(c), 4);
    expect_seq(c, 4, 2, 1);
    put(c, 0, 77);
    ck_assert_uint_eq(at(s, 0), 1);
    put(s, 1, 88);
    ck_assert_uint_eq(at(c, 1), 3);
    push(c, 9); /* grows its own storage */
    ck_assert_uint_eq(goconc_slice_len(s), 4);
    goconc_slice_free(c);

    ck_assert_int_eq(goconc_slice_reslice(s, 1, 3, 16, &t), GOCONC_OK);
    ck_assert_int_eq(goconc_slice_clone(t, &c), GOCONC_OK);
    ck_assert_uint_eq(goconc_slice_len(c), 2);
    ck_assert_uint_eq(goconc_slice_cap(c), 2);
    ck_assert_uint_eq(at(c, 0), 88);
    ck_assert_uint_eq(at(c, 1), 5);
    ck_assert_int_eq(goconc_slice_clone(NULL, &c), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_clone(s, NULL), GOCONC_EINVAL);
    goconc_slice_free(c);
    goconc_slice_free(t);
    goconc_slice_free(s);
}
END_TEST

/* ------------------------------------------------------ views and COW */

START_TEST(test_snapshot_cow)
{
    goconc_slice *s = mk(8, 4, 8), *t = NULL;
    goconc_view v, v2;
    const uint64_t *d;
    long calls;

    fill(s, 1, 10);
    ck_assert_int_eq(goconc_slice_reslice(s, 1, 3, 8, &t), GOCONC_OK);
    calls = tu_alloc_calls();
    ck_assert_int_eq(goconc_slice_snapshot(s, &v), GOCONC_OK);
    ck_assert_int_eq(tu_alloc_calls(), calls); /* O(1): nothing allocated */
    d = v.data;
    ck_assert_uint_eq(v.len, 4);
    ck_assert_uint_eq(v.elem_size, 8);

    /* Appends beyond the view never copy. */
    push(s, 14);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    /* The first covered write copies once; the handles keep aliasing. */
    put(t, 0, 111);
    ck_assert_int_eq(tu_alloc_calls(), calls + 1);
    ck_assert_uint_eq(at(s, 1), 111);
    put(s, 2, 222);
    ck_assert_uint_eq(at(t, 1), 222);
    ck_assert_int_eq(tu_alloc_calls(), calls + 1);
    ck_assert_uint_eq(at(s, 4), 14); /* the append moved with the copy */
    ck_assert_ptr_eq(v.data, d);
    ck_assert_uint_eq(d[0], 10);
    ck_assert_uint_eq(d[1], 11);
    ck_assert_uint_eq(d[2], 12);
    ck_assert_uint_eq(d[3], 13);

    /* A view outlives every handle. */
    ck_assert_int_eq(goconc_slice_snapshot(t, &v2), GOCONC_OK);
    ck_assert_uint_eq(v2.len, 2);
    goconc_slice_free(s);
    goconc_slice_free(t);
    ck_assert_uint_eq(d[3], 13);
    ck_assert_uint_eq(((const uint64_t *)v2.data)[0], 111);
    ck_assert_uint_eq(((const uint64_t *)v2.data)[1], 222);
    goconc_view_release(&v);
    goconc_view_release(&v); /* idempotent */
    goconc_view_release(&v2);
    memset(&v, 0, sizeof v);
    goconc_view_release(&v);
    goconc_view_release(NULL);
    ck_assert_int_eq(goconc_slice_snapshot(NULL, &v), GOCONC_EINVAL);
    s = mk(8, 1, 1);
    ck_assert_int_eq(goconc_slice_snapshot(s, NULL), GOCONC_EINVAL);
    goconc_slice_free(s);
}
END_TEST

/* Writes under a view through every path: set, append into covered spare
 * capacity (a shorter handle), copy; once released, no copy at all. */
START_TEST(test_cow_paths)
{
    goconc_slice *s = mk(8, 6, 6), *t = NULL, *o = mk(8, 2, 2);
    goconc_view v;
    long calls;
    size_t n;

    fill(s, 1, 0);
    fill(o, 1, 50);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 2, 6, &t), GOCONC_OK);
    ck_assert_int_eq(goconc_slice_snapshot(s, &v), GOCONC_OK);
    calls = tu_alloc_calls();
    ck_assert_uint_eq(push(t, 99), 2); /* covered by the view */
    ck_assert_int_eq(tu_alloc_calls(), calls + 1);
    ck_assert_uint_eq(at(s, 2), 99);
    ck_assert_uint_eq(((const uint64_t *)v.data)[2], 2);
    goconc_view_release(&v);

    ck_assert_int_eq(goconc_slice_snapshot(t, &v), GOCONC_OK);
    calls = tu_alloc_calls();
    ck_assert_int_eq(goconc_slice_copy(s, o, &n), GOCONC_OK);
    ck_assert_int_eq(tu_alloc_calls(), calls + 1);
    ck_assert_uint_eq(at(t, 0), 50);
    ck_assert_uint_eq(((const uint64_t *)v.data)[0], 0);
    ck_assert_uint_eq(((const uint64_t *)v.data)[1], 1);
    /* An element the view does not cover: no copy. */
    calls = tu_alloc_calls();
    put(s, 4, 4444);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    goconc_view_release(&v);
    calls = tu_alloc_calls();
    put(s, 0, 1);
    put(t, 1, 2);
    ck_assert_int_eq(tu_alloc_calls(), calls);
    goconc_slice_free(t);
    goconc_slice_free(s);
    goconc_slice_free(o);
}
END_TEST

/* The append fast path (xdata): taken only while a handle alone owns
 * storage that no view covers past its length; the group's high-water
 * mark, which it leaves behind, is caught up before anything reads it. */
START_TEST(test_fast_path_invariants)
{
    goconc_slice *s = mk(8, 0, 8), *t = NULL;
    goconc_view v;
    size_t i;

    ck_assert_ptr_nonnull(s->xdata);
    push(s, 1);
    push(s, 2);
    push(s, 3);
    /* A reslice past len zeroes only what was never written. */
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 8, 8, &t), GOCONC_OK);
    ck_assert_ptr_null(s->xdata); /* shared now */
    ck_assert_uint_eq(at(t, 2), 3);
    ck_assert_uint_eq(at(t, 3), 0);
    goconc_slice_free(t);
    ck_assert_uint_eq(push(s, 4), 3); /* general path, re-enables */
    ck_assert_ptr_nonnull(s->xdata);
    push(s, 5);
    /* Copy-on-write copies what fast appends wrote. */
    ck_assert_int_eq(goconc_slice_snapshot(s, &v), GOCONC_OK);
    ck_assert_ptr_nonnull(s->xdata); /* appends beyond the view stay fast */
    push(s, 6);
    put(s, 0, 100);
    for (i = 1; i < 6; i++)
        ck_assert_uint_eq(at(s, i), i + 1);
    ck_assert_uint_eq(((const uint64_t *)v.data)[0], 1);
    ck_assert_uint_eq(v.len, 5);
    goconc_view_release(&v);
    goconc_slice_free(s);

    /* A view taken through a longer sibling that is gone since: the
     * survivor's append lands inside it and must copy first. */
    s = mk(8, 2, 8);
    fill(s, 1, 10);
    ck_assert_int_eq(goconc_slice_reslice(s, 0, 6, 8, &t), GOCONC_OK);
    put(t, 4, 44);
    ck_assert_int_eq(goconc_slice_snapshot(t, &v), GOCONC_OK);
    goconc_slice_free(t);
    ck_assert_uint_eq(at(s, 0), 10);   /* a locked call recomputes xdata */
    ck_assert_ptr_null(s->xdata);      /* alone, but the view reaches past len */
    ck_assert_uint_eq(push(s, 77), 2); /* general path: copies first */
    ck_assert_ptr_nonnull(s->xdata);   /* the copy has no view */
    ck_assert_uint_eq(((const uint64_t *)v.data)[2], 0);
    ck_assert_uint_eq(push(s, 78), 3);
    ck_assert_uint_eq(((const uint64_t *)v.data)[3], 0);
    ck_assert_uint_eq(at(s, 2), 77);
    goconc_view_release(&v);
    ck_assert_uint_eq(push(s, 79), 4); /* released: storage is ours again */
    ck_assert_ptr_nonnull(s->xdata);
    ck_assert_uint_eq(push(s, 80), 5);
    ck_assert_uint_eq(at(s, 4), 79);
    ck_assert_uint_eq(at(s, 5), 80);
    goconc_slice_free(s);
}
END_TEST

struct visit {
    size_t count, stop_at;
    uint64_t sum;
    goconc_slice *s;
};

static int visit_fn(void *ctx, size_t i, const void *elem)
{
    struct visit *v = ctx;
    uint64_t x;
    memcpy(&x, elem, sizeof x);
    if (i != v->count || x != i * 5)
        return -1;
    v->count++;
    v->sum += x;
    if (v->s != NULL) {
        /* Modify the slice being ranged over: the range is a snapshot. */
        uint64_t y = 12345;
        if (goconc_slice_set(v->s, i, &y) != GOCONC_OK ||
            goconc_slice_append(v->s, &y, 1, NULL) != GOCONC_OK)
            return -2;
    }
    return v->count == v->stop_at;
}

START_TEST(test_range)
{
    goconc_slice *s = mk(8, 20, 20);
    struct visit v = { 0, 0, 0, NULL };

    fill(s, 5, 0);
    ck_assert_int_eq(goconc_slice_range(s, visit_fn, &v), GOCONC_OK);
    ck_assert_uint_eq(v.count, 20);
    ck_assert_uint_eq(v.sum, 5 * 190);
    v.count = 0;
    v.stop_at = 7;
    ck_assert_int_eq(goconc_slice_range(s, visit_fn, &v), GOCONC_STOPPED);
    ck_assert_uint_eq(v.count, 7);
    v.count = 0;
    v.stop_at = 0;
    v.s = s;
    ck_assert_int_eq(goconc_slice_range(s, visit_fn, &v), GOCONC_OK);
    ck_assert_uint_eq(v.count, 20);
    ck_assert_uint_eq(goconc_slice_len(s), 40);
    ck_assert_uint_eq(at(s, 0), 12345);
    ck_assert_int_eq(goconc_slice_range(NULL, visit_fn, &v), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_slice_range(s, NULL, &v), GOCONC_EINVAL);
    goconc_slice_free(s);
}
END_TEST

/* ------------------------------------------------------ thread basics */

struct bias_arg {
    goconc_slice *s;
    int bad;
    uintptr_t id; /* the worker's sl_self() */
};

static void *bias_worker(void *p)
{
    struct bias_arg *a = p;
    uint64_t x;
    size_t i;
    a->id = sl_self();
    for (i = 0; i < 5000; i++) {
        x = 1000000 + i;
        if (goconc_slice_append(a->s, &x, 1, NULL) != GOCONC_OK)
            a->bad++;
    }
    return NULL;
}

/* A handle handed from its creator to another thread and back: the bias
 * is revoked, re-earned by the new user, revoked again. */
START_TEST(test_bias_handoff)
{
    struct bias_arg a = { mk(8, 0, 0), 0, 0 };
    uintptr_t creator = a.s->bias;
    pthread_t th;
    size_t i;

    for (i = 0; i < 100; i++)
        push(a.s, i);
    ck_assert_int_eq(pthread_create(&th, NULL, bias_worker, &a), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(a.bad, 0);
    /* The thread id (the thread pointer, core/thread.h) leaves the bias
     * epoch's low bits free and differs between live threads. */
    ck_assert_uint_eq(sl_self() & SL_EPOCH_MASK, 0);
    ck_assert_uint_eq(a.id & SL_EPOCH_MASK, 0);
    ck_assert_uint_ne(a.id, 0);
    ck_assert_uint_ne(a.id, sl_self());
    if (creator != 0) { /* membarrier available: the worker earned it */
        ck_assert_uint_ne(a.s->bias, 0);
        ck_assert_uint_ne(a.s->bias, creator);
    }
    for (i = 0; i < 100; i++)
        push(a.s, 2000000 + i);
    ck_assert_uint_eq(goconc_slice_len(a.s), 5200);
    for (i = 0; i < 100; i++)
        ck_assert_uint_eq(at(a.s, i), i);
    for (i = 0; i < 5000; i++)
        ck_assert_uint_eq(at(a.s, 100 + i), 1000000 + i);
    for (i = 0; i < 100; i++)
        ck_assert_uint_eq(at(a.s, 5100 + i), 2000000 + i);
    goconc_slice_free(a.s);
}
END_TEST

/*
 * Threads appending to one handle at once, with snapshots taken beside
 * them: the lock's contended paths (spin backoff, revoking a bias whose
 * owner is inside).  Each element is (thread << 32 | sequence): every
 * one lands once, and each thread's land in its order.
 */
#define CA_THREADS 4
#define CA_EACH 5000u

struct ca_arg {
    goconc_slice *s;
    uint64_t tag;
    int bad;
};

static void *ca_worker(void *p)
{
    struct ca_arg *a = p;
    uint64_t i, x;
    for (i = 0; i < CA_EACH; i++) {
        x = a->tag << 32 | i;
        if (goconc_slice_append(a->s, &x, 1, NULL) != GOCONC_OK)
            a->bad++;
    }
    return NULL;
}

START_TEST(test_concurrent_appends)
{
    struct ca_arg a[CA_THREADS];
    pthread_t th[CA_THREADS];
    uint64_t next[CA_THREADS] = { 0 };
    goconc_slice *s = mk(8, 0, 0);
    size_t i, views = 0;

    for (i = 0; i < CA_THREADS; i++) {
        a[i].s = s;
        a[i].tag = i;
        a[i].bad = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, ca_worker, &a[i]), 0);
    }
    while (goconc_slice_len(s) < CA_THREADS * CA_EACH && views < 100000) {
        goconc_view v;
        ck_assert_int_eq(goconc_slice_snapshot(s, &v), GOCONC_OK);
        goconc_view_release(&v);
        views++;
    }
    for (i = 0; i < CA_THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(a[i].bad, 0);
    }
    ck_assert_uint_eq(goconc_slice_len(s), CA_THREADS * CA_EACH);
    for (i = 0; i < CA_THREADS * CA_EACH; i++) {
        uint64_t x = at(s, i), t = x >> 32;
        ck_assert_uint_lt(t, CA_THREADS);
        ck_assert_uint_eq(x & 0xffffffffu, next[t]);
        next[t]++;
    }
    goconc_slice_free(s);
}
END_TEST

/* ---------------------------------------------- allocation-failure sweeps */

enum op {
    OP_NEW, OP_RESLICE, OP_CLONE, OP_GROW_ALONE, OP_GROW_SHARED, OP_GROW_VIEWED,
    OP_SET_COW, OP_COPY_COW, OP_APPEND_COW, OP_COUNT
};

struct fx {
    goconc_slice *a, *b, *out;
    goconc_view v;
};

static void fx_build(struct fx *f, enum op op)
{
    memset(f, 0, sizeof *f);
    f->a = mk(8, 4, 4);
    fill(f->a, 1, 1);
    if (op == OP_GROW_SHARED || op == OP_APPEND_COW)
        ck_assert_int_eq(goconc_slice_reslice(f->a, 0, 2, 4, &f->b), GOCONC_OK);
    if (op == OP_COPY_COW) /* b = a[2:4]: copy(b, a) writes viewed elements */
        ck_assert_int_eq(goconc_slice_reslice(f->a, 2, 4, 4, &f->b), GOCONC_OK);
    if (op == OP_GROW_VIEWED || op == OP_SET_COW || op == OP_COPY_COW || op == OP_APPEND_COW)
        ck_assert_int_eq(goconc_slice_snapshot(f->a, &f->v), GOCONC_OK);
}

static int fx_run(struct fx *f, enum op op)
{
    uint64_t x = 777, xs[3] = { 7, 8, 9 };
    switch (op) {
    case OP_NEW: return goconc_slice_new(&f->out, 8, 3, 10);
    case OP_RESLICE: return goconc_slice_reslice(f->a, 1, 3, 4, &f->out);
    case OP_CLONE: return goconc_slice_clone(f->a, &f->out);
    case OP_GROW_ALONE:
    case OP_GROW_SHARED:
    case OP_GROW_VIEWED: return goconc_slice_append(f->a, xs, 3, NULL);
    case OP_SET_COW: return goconc_slice_set(f->a, 1, &x);
    case OP_COPY_COW: return goconc_slice_copy(f->b, f->a, NULL);
    case OP_APPEND_COW: return goconc_slice_append(f->b, &x, 1, NULL);
    default: return GOCONC_EINVAL;
    }
}

/* Unchanged: lengths, capacities, contents, view, aliasing. */
static void fx_check_unchanged(struct fx *f, enum op op)
{
    size_t i;
    ck_assert_ptr_null(f->out);
    expect_seq(f->a, 4, 1, 1);
    ck_assert_uint_eq(goconc_slice_cap(f->a), 4);
    if (f->b != NULL && op == OP_COPY_COW) {
        expect_seq(f->b, 2, 1, 3);
        ck_assert_uint_eq(goconc_slice_cap(f->b), 2);
    } else if (f->b != NULL) {
        expect_seq(f->b, 2, 1, 1);
        ck_assert_uint_eq(goconc_slice_cap(f->b), 4);
    }
    if (f->v.data != NULL)
        for (i = 0; i < 4; i++)
            ck_assert_uint_eq(((const uint64_t *)f->v.data)[i], i + 1);
}

static void fx_check_done(struct fx *f, enum op op)
{
    switch (op) {
    case OP_NEW:
        ck_assert_uint_eq(goconc_slice_len(f->out), 3);
        ck_assert_uint_eq(goconc_slice_cap(f->out), 10);
        break;
    case OP_RESLICE: expect_seq(f->out, 2, 1, 2); break;
    case OP_CLONE: expect_seq(f->out, 4, 1, 1); break;
    case OP_GROW_ALONE:
    case OP_GROW_SHARED:
    case OP_GROW_VIEWED:
        ck_assert_uint_eq(goconc_slice_len(f->a), 7);
        ck_assert_uint_eq(goconc_slice_cap(f->a), 8);
        ck_assert_uint_eq(at(f->a, 6), 9);
        expect_zero_tail(f->a);
        if (f->b != NULL) { /* a moved away from b */
            put(f->a, 0, 5);
            ck_assert_uint_eq(at(f->b, 0), 1);
        }
        break;
    case OP_SET_COW: ck_assert_uint_eq(at(f->a, 1), 777); break;
    case OP_COPY_COW:
        expect_seq(f->b, 2, 1, 1);
        ck_assert_uint_eq(at(f->a, 3), 2);
        break;
    case OP_APPEND_COW: ck_assert_uint_eq(at(f->a, 2), 777); break;
    default: break;
    }
    if (f->v.data != NULL)
        ck_assert_uint_eq(((const uint64_t *)f->v.data)[1], 2);
}

static void fx_free(struct fx *f)
{
    goconc_view_release(&f->v);
    goconc_slice_free(f->a);
    goconc_slice_free(f->b);
    goconc_slice_free(f->out);
}

START_TEST(test_alloc_failure_sweep)
{
    enum op op = (enum op)_i;
    struct fx f;
    long n, live, failures = 0;
    int rc;

    for (n = 0;; n++) {
        fx_build(&f, op);
        live = tu_alloc_live();
        tu_alloc_fail_after(n);
        rc = fx_run(&f, op);
        tu_alloc_fail_after(-1);
        if (rc == GOCONC_OK) {
            fx_check_done(&f, op);
            fx_free(&f);
            break;
        }
        ck_assert_int_eq(rc, GOCONC_ENOMEM);
        ck_assert_int_eq(tu_alloc_live(), live);
        fx_check_unchanged(&f, op);
        fx_free(&f);
        failures++;
        ck_assert_int_lt(n, 10);
    }
    ck_assert_int_ge(failures, 1);
}
END_TEST

/*
 * Views pin the allocator through their storage: storage that views keep
 * after an append moved the handles to new storage, or after the last
 * handle was freed, keeps goconc_set_allocator busy until its last view
 * is released; a view released while its handles live leaves nothing
 * behind.  (Storage is freed at once, not deferred: no barrier needed.)
 */
START_TEST(test_views_pin_allocator)
{
    goconc_slice *s = mk(8, 4, 4), *t = mk(8, 2, 2);
    goconc_view old, cur, early;

    fill(s, 1, 0);
    fill(t, 1, 0);
    ck_assert_int_eq(goconc_slice_snapshot(s, &old), GOCONC_OK);
    push(s, 99); /* past cap: s moves to new storage, old keeps the first */
    ck_assert_int_eq(goconc_slice_snapshot(s, &cur), GOCONC_OK);
    ck_assert_int_eq(goconc_slice_snapshot(t, &early), GOCONC_OK);
    goconc_view_release(&early);
    goconc_slice_free(t);
    goconc_slice_free(s);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_EBUSY);
    ck_assert_uint_eq(old.len, 4);
    ck_assert_uint_eq(cur.len, 5);
    goconc_view_release(&cur);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_EBUSY); /* old */
    ck_assert_uint_eq(((const uint64_t *)old.data)[3], 3);
    goconc_view_release(&old);
    ck_assert_int_eq(tu_alloc_reinstall(), GOCONC_OK);
}
END_TEST

/* ---------------------------------------------------------------- main */

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_new_and_accessors),
        TU_CASE(test_nil_and_empty),
        TU_CASE(test_free_order),
        TU_CASE(test_get_set),
        TU_CASE(test_append_basic),
        TU_CASE(test_growth_sequence),
        TU_CASE(test_growth_bulk),
        TU_CASE(test_growth_zero_tail),
        TU_CASE(test_reslice_bounds),
        TU_CASE(test_reslice_aliasing),
        TU_CASE(test_append_aliasing),
        TU_CASE(test_copy),
        TU_CASE(test_clone),
        TU_CASE(test_snapshot_cow),
        TU_CASE(test_views_pin_allocator),
        TU_CASE(test_cow_paths),
        TU_CASE(test_range),
        TU_CASE(test_fast_path_invariants),
        TU_CASE(test_bias_handoff),
        TU_CASE(test_concurrent_appends),
        TU_LOOP(test_alloc_failure_sweep, OP_NEW, OP_COUNT),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "slice", .timeout = 60, .setup = setup, .teardown = teardown);
}
