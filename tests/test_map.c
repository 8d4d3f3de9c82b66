/* SPDX-License-Identifier: MIT */
/*
 * test_map.c - unit tests of goconc_map (API.md section 3): every
 * function and its statuses, bad input, peek's lending rule, on_drop
 * accounting, migration (grow, shrink, reserve, maintain), range/scan
 * exactly-once / at-least-once under churn and migration (single thread,
 * fn doing the churn), allocation-failure sweeps, and the hash's quality.
 *
 * Each test runs in its own process (Check's fork mode) with the counting
 * allocator of testutil.  White-box checks include src/map/migrate.h.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "map/migrate.h"
#include "map/probe.h"
#include "testutil.h"

/* The hash is internal (hidden): tests/meson.build builds src/map/hash.c
 * into this program for its quality test. */

#define MAXK 64
#define MAXV 1100

/* ------------------------------------------------------------- helpers */

static void barrier(void) { ck_assert_int_eq(goconc_barrier(), GOCONC_OK); }

static void noop_destroy(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
}

/*
 * Run every deferred destroy and bring this thread's reclamation bag to
 * one state whatever came before (one chunk, no spare: 65 retires fill
 * a chunk and start the next, the barriers and polls free the rest), so
 * tu_alloc_live() differences are the map's own.
 */
static long settle(void)
{
    static int dummy;
    int round, i;
    for (round = 0; round < 3; round++) {
        barrier();
        for (i = 0; i < 65; i++)
            ck_assert_int_eq(goconc_defer_free(&dummy, noop_destroy, NULL), GOCONC_OK);
    }
    barrier();
    return tu_alloc_live();
}

static goconc_map *mk_flags(unsigned shards, unsigned flags,
                            void (*drop)(void *, const void *, size_t, const void *, size_t),
                            void *ctx)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m = NULL;
    o.shards = shards;
    o.seed = 0x1234567;
    o.on_drop = drop;
    o.ctx = ctx;
    o.flags = flags;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    ck_assert_ptr_nonnull(m);
    return m;
}

static goconc_map *mk_opts(unsigned shards, void (*drop)(void *, const void *, size_t,
                                                           const void *, size_t),
                           void *ctx)
{
    return mk_flags(shards, 0, drop, ctx);
}

static goconc_map *mk(unsigned shards) { return mk_opts(shards, NULL, NULL); }

/* Key bytes of integer i, len bytes long (len >= 4 keeps keys distinct
 * for i < 2^32): the integer then a pattern. */
static size_t key_of(uint64_t i, size_t len, unsigned char *buf)
{
    size_t j;
    for (j = 0; j < len; j++)
        buf[j] = j < 8 ? (unsigned char)(i >> (8 * j)) : (unsigned char)(i * 31 + j);
    return len;
}

/* Value bytes: a seed-derived pattern of vlen bytes. */
static void val_of(uint64_t seed, size_t vlen, unsigned char *buf)
{
    size_t j;
    for (j = 0; j < vlen; j++)
        buf[j] = (unsigned char)(seed * 131 + j * 7 + (seed >> 8));
}

static void store_u64(goconc_map *m, uint64_t k, uint64_t v)
{
    ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, 8), GOCONC_OK);
}

static int load_u64(goconc_map *m, uint64_t k, uint64_t *v)
{
    size_t n = 0;
    int rc = goconc_map_load(m, &k, 8, v, 8, &n);
    if (rc == GOCONC_OK)
        ck_assert_uint_eq(n, 8);
    return rc;
}

static goconc_map_stats stats(goconc_map *m)
{
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
    return st;
}

static void finish(goconc_map *m)
{
    size_t moved;
    ck_assert_int_eq(goconc_map_maintain(m, (size_t)-1, &moved), GOCONC_OK);
    ck_assert_uint_eq(stats(m).shards_migrating, 0);
}

/* --------------------------------------------------- on_drop tracking */

/* Values used with the tracker are 8 bytes: id << 8 | generation.  The
 * tracker counts drops per id and checks ctx and key == id. */
#define NID 4096
static int drops[NID];
static long drop_total;
static int drop_ctx;
static int drop_bad;

static void track_drop(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint64_t k = 0, v = 0;
    if (ctx != &drop_ctx || vlen < 8 || klen < 8) {
        __atomic_fetch_add(&drop_bad, 1, __ATOMIC_RELAXED);
        return;
    }
    memcpy(&k, key, 8);
    memcpy(&v, val, 8);
    if (k != v >> 8 || k >= NID)
        __atomic_fetch_add(&drop_bad, 1, __ATOMIC_RELAXED);
    else
        __atomic_fetch_add(&drops[k], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&drop_total, 1, __ATOMIC_RELAXED);
}

static void drop_reset(void)
{
    memset(drops, 0, sizeof drops);
    drop_total = 0;
    drop_bad = 0;
}

/* ----------------------------------------------------------- the tests */

START_TEST(test_new_options)
{
    goconc_map *m = NULL;
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    struct {
        goconc_map_options o;
        uint64_t extra;
    } big;
    unsigned s;

    ck_assert_int_eq(goconc_map_new(NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_new(&m, NULL), GOCONC_OK);
    ck_assert_ptr_nonnull(m);
    s = (unsigned)stats(m).shards; /* the default: a power of two */
    ck_assert(s >= 1 && (s & (s - 1)) == 0);
    goconc_map_free(m);
    goconc_map_free(NULL);

    o.struct_size = offsetof(goconc_map_options, flags) - 1; /* below the 1.0 size */
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EINVAL);
    ck_assert_ptr_null(m);
    o.struct_size = sizeof o;
    o.shards = 3;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EINVAL);
    o.shards = 1u << (MAP_MAX_SHARD_BITS + 1);
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EINVAL);
    o.shards = 0;
    o.capacity_hint = (size_t)-1;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EOVERFLOW);
    /* Too big for any shard count: the per-shard share must not wrap. */
    for (s = 1; s <= 1u << MAP_MAX_SHARD_BITS; s *= 4) {
        size_t hints[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, SIZE_MAX / 5 * 4 };
        size_t j;
        o.shards = s;
        for (j = 0; j < sizeof hints / sizeof hints[0]; j++) {
            o.capacity_hint = hints[j];
            ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EOVERFLOW);
            ck_assert_ptr_null(m);
        }
    }
    o.shards = 1;
    o.capacity_hint = 0;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    ck_assert_int_eq(goconc_map_reserve(m, SIZE_MAX), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_map_reserve(m, SIZE_MAX - 1), GOCONC_EOVERFLOW);
    goconc_map_free(m);
    o.shards = 0;

    memset(&big, 0, sizeof big);
    big.o = o;
    big.o.struct_size = sizeof big;
    ck_assert_int_eq(goconc_map_new(&m, &big.o), GOCONC_OK);
    goconc_map_free(m);
    big.extra = 1;
    ck_assert_int_eq(goconc_map_new(&m, &big.o), GOCONC_EINVAL);

    for (s = 1; s <= 1024; s *= 2) {
        uint64_t k, v;
        m = mk(s);
        ck_assert_uint_eq(stats(m).shards, s);
        for (k = 0; k < 300; k++)
            store_u64(m, k, k + 1);
        for (k = 0; k < 300; k++) {
            ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
            ck_assert_uint_eq(v, k + 1);
        }
        ck_assert_uint_eq(goconc_map_len(m), 300);
        goconc_map_free(m);
    }

    /* A capacity hint sizes the tables up front: no growth after. */
    o.capacity_hint = 20000;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    {
        uint64_t k;
        for (k = 0; k < 20000; k++)
            store_u64(m, k, k);
        ck_assert_uint_eq(stats(m).grows, 0);
    }
    goconc_map_free(m);
    barrier();
}
END_TEST

static int visit_count(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    ++*(size_t *)ctx;
    return 0;
}

static int upd_keep(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                    size_t *nl)
{
    (void)ctx;
    (void)old;
    (void)oldlen;
    (void)found;
    (void)nv;
    (void)nl;
    return GOCONC_UPDATE_KEEP;
}

START_TEST(test_bad_input)
{
    goconc_map *m = mk(4);
    uint64_t k = 1, v = 2, c = 0;
    size_t n;
    const void *p;
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;

    ck_assert_int_eq(goconc_map_load(NULL, &k, 8, &v, 8, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load(m, NULL, 8, &v, 8, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load(m, &k, 8, NULL, 8, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_store(NULL, &k, 8, &v, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_store(m, NULL, 8, &v, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_store(m, &k, 8, NULL, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_or_store(NULL, &k, 8, &v, 8, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_or_store(m, &k, 8, NULL, 1, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_or_store(m, &k, 8, &v, 8, NULL, 8, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_and_delete(NULL, &k, 8, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_and_delete(m, NULL, 1, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load_and_delete(m, &k, 8, NULL, 4, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_delete(NULL, &k, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_delete(m, NULL, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_swap(NULL, &k, 8, &v, 8, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_swap(m, &k, 8, NULL, 8, NULL, 0, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_swap(m, &k, 8, &v, 8, NULL, 8, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_compare_and_swap(NULL, &k, 8, &v, 8, &v, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, &k, 8, NULL, 8, &v, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, &k, 8, &v, 8, NULL, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_compare_and_delete(NULL, &k, 8, &v, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, &k, 8, NULL, 8), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_update(NULL, &k, 8, upd_keep, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_update(m, NULL, 8, upd_keep, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_update(m, &k, 8, NULL, NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_range(NULL, visit_count, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_range(m, NULL, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_scan(NULL, &c, 10, visit_count, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_scan(m, NULL, 10, visit_count, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_scan(m, &c, 0, visit_count, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_scan(m, &c, 10, NULL, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_reserve(NULL, 10), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_reserve(m, (size_t)-1), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_map_maintain(NULL, 10, &n), GOCONC_EINVAL);
    ck_assert_uint_eq(goconc_map_len(NULL), 0);
    ck_assert_int_eq(goconc_map_clear(NULL), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_stats_get(NULL, &st), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_stats_get(m, NULL), GOCONC_EINVAL);
    st.struct_size = 8;
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_EINVAL);

    /* peek: only inside a read section; val must be given. */
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, &p, &n), GOCONC_EINVAL);
    goconc_read_lock();
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, NULL, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_peek(NULL, &k, 8, &p, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_peek(m, NULL, 8, &p, &n), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, &p, &n), GOCONC_NOTFOUND);
    goconc_read_unlock();

    /* Key + value sizes that overflow size_t (doc/map.md): EOVERFLOW,
     * before the value is read. */
    ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, SIZE_MAX - 4), GOCONC_EOVERFLOW);
    ck_assert_int_eq(goconc_map_swap(m, &k, 8, &v, SIZE_MAX - 4, NULL, 0, NULL), GOCONC_EOVERFLOW);

    /* Nothing above changed the map. */
    ck_assert_uint_eq(goconc_map_len(m), 0);
    ck_assert_int_eq(goconc_map_load(m, &k, 8, NULL, 0, NULL), GOCONC_NOTFOUND);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* NULL is a valid empty key (klen 0) for every call, and the optional
 * outputs (peek's vlen, swap's outlen) may be NULL. */
START_TEST(test_null_key_optional_outs)
{
    goconc_map *m = mk(4);
    uint64_t v = 7, out = 0;
    size_t n = 99;
    const void *p;

    ck_assert_int_eq(goconc_map_load(m, NULL, 0, &out, 8, &n), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_store(m, NULL, 0, &v, 8), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, NULL, 0, &out, 8, &n), GOCONC_OK);
    ck_assert_uint_eq(out, 7);
    ck_assert_uint_eq(n, 8);
    goconc_read_lock();
    ck_assert_int_eq(goconc_map_peek(m, NULL, 0, &p, NULL), GOCONC_OK);
    ck_assert_int_eq(memcmp(p, &v, 8), 0);
    ck_assert_int_eq(goconc_map_peek(m, "x", 1, &p, NULL), GOCONC_NOTFOUND);
    goconc_read_unlock();
    ck_assert_int_eq(goconc_map_update(m, NULL, 0, upd_keep, NULL), GOCONC_OK);
    v = 9; /* swap of an absent key stores it: nothing to report */
    ck_assert_int_eq(goconc_map_swap(m, "y", 1, &v, 8, NULL, 0, NULL), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_load(m, "y", 1, &out, 8, &n), GOCONC_OK);
    ck_assert_uint_eq(out, 9);
    ck_assert_int_eq(goconc_map_delete(m, NULL, 0), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, NULL, 0, NULL, 0, NULL), GOCONC_NOTFOUND);
    ck_assert_uint_eq(goconc_map_len(m), 1);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* Every key/value length class: inline (<= 8 bytes each), mixed, out of
 * line; empty keys and values; keys that differ only in length. */
START_TEST(test_sizes)
{
    static const size_t kl[] = { 0, 1, 3, 7, 8, 9, 16, 100 };
    static const size_t vl[] = { 0, 1, 7, 8, 9, 16, 1000 };
    goconc_map *m = mk(2);
    unsigned char kb[128], vb[MAXV], out[MAXV];
    size_t i, j, n, count = 0;
    const void *p;

    for (i = 0; i < sizeof kl / sizeof kl[0]; i++) {
        for (j = 0; j < sizeof vl / sizeof vl[0]; j++) {
            /* Distinct keys per (i, j): same length, different bytes
             * (a length-0 key exists once). */
            key_of(i * 16 + j + 1, kl[i], kb);
            if (kl[i] == 0 && j > 0)
                continue;
            val_of(i * 100 + j, vl[j], vb);
            ck_assert_int_eq(goconc_map_store(m, kb, kl[i], vb, vl[j]), GOCONC_OK);
            count++;
            n = 12345;
            ck_assert_int_eq(goconc_map_load(m, kb, kl[i], out, sizeof out, &n), GOCONC_OK);
            ck_assert_uint_eq(n, vl[j]);
            ck_assert(memcmp(out, vb, vl[j]) == 0);
            /* Presence test, and the exact-fit and short buffers. */
            ck_assert_int_eq(goconc_map_load(m, kb, kl[i], NULL, 0, NULL), GOCONC_OK);
            ck_assert_int_eq(goconc_map_load(m, kb, kl[i], out, vl[j], &n), GOCONC_OK);
            if (vl[j]) {
                n = 0;
                ck_assert_int_eq(goconc_map_load(m, kb, kl[i], out, vl[j] - 1, &n),
                                 GOCONC_ERANGE);
                ck_assert_uint_eq(n, vl[j]);
            }
            goconc_read_lock();
            ck_assert_int_eq(goconc_map_peek(m, kb, kl[i], &p, &n), GOCONC_OK);
            ck_assert_ptr_nonnull(p); /* also for an empty value */
            ck_assert_uint_eq(n, vl[j]);
            ck_assert(memcmp(p, vb, vl[j]) == 0);
            goconc_read_unlock();
        }
    }
    ck_assert_uint_eq(goconc_map_len(m), count);
    /* Overwrite every key with a value of another size class. */
    for (i = 0; i < sizeof kl / sizeof kl[0]; i++) {
        for (j = 0; j < sizeof vl / sizeof vl[0]; j++) {
            size_t nv = vl[(j + 3) % (sizeof vl / sizeof vl[0])];
            key_of(i * 16 + j + 1, kl[i], kb);
            if (kl[i] == 0 && j > 0)
                continue;
            val_of(i * 100 + j + 7, nv, vb);
            ck_assert_int_eq(goconc_map_store(m, kb, kl[i], vb, nv), GOCONC_OK);
        }
    }
    ck_assert_uint_eq(goconc_map_len(m), count);
    for (i = 0; i < sizeof kl / sizeof kl[0]; i++) {
        for (j = 0; j < sizeof vl / sizeof vl[0]; j++) {
            size_t nv = vl[(j + 3) % (sizeof vl / sizeof vl[0])];
            key_of(i * 16 + j + 1, kl[i], kb);
            if (kl[i] == 0 && j > 0)
                continue;
            val_of(i * 100 + j + 7, nv, vb);
            ck_assert_int_eq(goconc_map_load(m, kb, kl[i], out, sizeof out, &n), GOCONC_OK);
            ck_assert_uint_eq(n, nv);
            ck_assert(memcmp(out, vb, nv) == 0);
        }
    }
    /* "a", "a\0", "a\0\0": three keys. */
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    ck_assert_int_eq(goconc_map_store(m, "a", 1, "1", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_store(m, "a\0", 2, "2", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_store(m, "a\0\0\0\0\0\0\0\0", 9, "9", 1), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 3);
    ck_assert_int_eq(goconc_map_load(m, "a\0", 2, out, 1, &n), GOCONC_OK);
    ck_assert_int_eq(out[0], '2');
    ck_assert_int_eq(goconc_map_load(m, "a\0\0", 3, out, 1, &n), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_delete(m, "a", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_delete(m, "a", 1), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_load(m, "a\0", 2, out, 1, &n), GOCONC_OK);
    /* NULL with length 0 is the empty key / value. */
    ck_assert_int_eq(goconc_map_store(m, NULL, 0, NULL, 0), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "", 0, out, 0, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* The bytes peek lends never change until the section ends, whatever
 * happens to the key meanwhile: overwrites, deletes, re-stores, growth
 * and shrink migrations, clear. */
START_TEST(test_peek_stable)
{
    goconc_map *m = mk(1);
    unsigned char big[40], copy[40];
    uint64_t k, v = 0x1111, w;
    const void *p8, *pbig, *p0;
    size_t n8, nbig, n0;
    int round;

    for (round = 0; round < 3; round++) {
        uint64_t key8 = 7, keyb = 8, key0 = 9;
        memset(big, 0xA0 + round, sizeof big);
        store_u64(m, key8, v);
        ck_assert_int_eq(goconc_map_store(m, &keyb, 8, big, sizeof big), GOCONC_OK);
        ck_assert_int_eq(goconc_map_store(m, &key0, 8, NULL, 0), GOCONC_OK);
        goconc_read_lock();
        ck_assert_int_eq(goconc_map_peek(m, &key8, 8, &p8, &n8), GOCONC_OK);
        ck_assert_int_eq(goconc_map_peek(m, &keyb, 8, &pbig, &nbig), GOCONC_OK);
        ck_assert_int_eq(goconc_map_peek(m, &key0, 8, &p0, &n0), GOCONC_OK);
        ck_assert_ptr_nonnull(p0);
        ck_assert_uint_eq(n0, 0);
        memcpy(copy, pbig, nbig);
        /* Churn: overwrite and delete the peeked keys many times, and
         * grow and shrink the table under them. */
        for (k = 0; k < 3000; k++) {
            w = k;
            store_u64(m, key8, w);
            ck_assert_int_eq(goconc_map_store(m, &keyb, 8, &w, 8), GOCONC_OK);
            store_u64(m, 1000 + k, k);
            if (k % 3 == 0)
                ck_assert_int_eq(goconc_map_delete(m, &key8, 8), GOCONC_OK);
        }
        for (k = 0; k < 3000; k++)
            ck_assert_int_eq(goconc_map_delete(m, &(uint64_t){ 1000 + k }, 8), GOCONC_OK);
        if (round == 2)
            ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
        ck_assert_int_eq(goconc_map_maintain(m, (size_t)-1, NULL), GOCONC_OK);
        memcpy(&w, p8, 8);
        ck_assert_uint_eq(w, v);
        ck_assert(memcmp(pbig, copy, sizeof copy) == 0);
        goconc_read_unlock();
        v += 0x101;
    }
    ck_assert_uint_gt(stats(m).grows, 0);
    ck_assert_uint_gt(stats(m).shrinks, 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* update function for test_no_peek: records where the old value lies
 * and stores old + 1 (8 bytes) into ctx's buffer. */
struct np_upd {
    const void *old_at;
    uint64_t nv;
};

static int np_incr(void *ctx, const void *old, size_t oldlen, int found, const void **newval,
                   size_t *newlen)
{
    struct np_upd *u = ctx;
    uint64_t x = 0;
    u->old_at = old;
    if (found && oldlen == 8)
        memcpy(&x, old, 8);
    u->nv = x + 1;
    *newval = &u->nv;
    *newlen = 8;
    return GOCONC_UPDATE_STORE;
}

static int np_sum(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint64_t v = 0;
    (void)key;
    ck_assert_uint_eq(klen, 8);
    ck_assert_uint_le(vlen, 8);
    memcpy(&v, val, vlen);
    *(uint64_t *)ctx += v;
    return 0;
}

/* GOCONC_MAP_NO_PEEK: peek refused; an inline value replaced by one of
 * the same length stays in its slot (update's fn sees the same address
 * each time, where a map with peek moves it to a new slot); a new length,
 * a long value and a delete take the usual path; loads, swap and range
 * see every value; the 1.0 options struct still works. */
START_TEST(test_no_peek)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    struct np_upd u = { NULL, 0 };
    unsigned char big[20], out[32];
    const void *at, *p;
    uint64_t k = 5, v, sum = 0, i, moved;
    size_t n;
    goconc_map *m;

    /* Unknown flags are refused; a struct of the 1.0 size (no flags) is
     * accepted. */
    o.flags = 2;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_EINVAL);
    ck_assert_ptr_null(m);
    o.flags = 0;
    o.struct_size = offsetof(goconc_map_options, flags);
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    goconc_read_lock();
    store_u64(m, k, 1);
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, &p, &n), GOCONC_OK);
    goconc_read_unlock();
    goconc_map_free(m);

    /* A map with peek: each update writes a new slot. */
    m = mk(1);
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    at = u.old_at;
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    ck_assert_ptr_ne(u.old_at, at);
    goconc_map_free(m);

    m = mk_flags(1, GOCONC_MAP_NO_PEEK, NULL, NULL);
    /* Room to spare: the key's home bucket keeps free slots. */
    ck_assert_int_eq(goconc_map_reserve(m, 256), GOCONC_OK);
    for (i = 0; i < 50; i++)
        store_u64(m, 100 + i, i);
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    /* Test builds with tiny shards migrate every few inserts: let those
     * finish, so that only the writes below could move a slot. */
    ck_assert_int_eq(goconc_map_maintain(m, SIZE_MAX, NULL), GOCONC_OK);
    moved = stats(m).buckets_moved;
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    at = u.old_at;
    for (i = 0; i < 1000; i++) {
        ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
        ck_assert_ptr_eq(u.old_at, at); /* rewritten in place */
        store_u64(m, 100 + i % 50, i);  /* neighbours, in place too */
    }
    ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
    ck_assert_uint_eq(v, 1002);
    ck_assert_uint_eq(goconc_map_len(m), 51);
    ck_assert_uint_eq(stats(m).buckets_moved, moved); /* nothing to rehash */
    /* Peek is refused, inside a section or not; nothing changes. */
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, &p, &n), GOCONC_EINVAL);
    goconc_read_lock();
    ck_assert_int_eq(goconc_map_peek(m, &k, 8, &p, &n), GOCONC_EINVAL);
    goconc_read_unlock();
    /* Swap returns the old value and writes in place. */
    v = 7;
    ck_assert_int_eq(goconc_map_swap(m, &k, 8, &v, 8, out, sizeof out, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 8);
    memcpy(&v, out, 8);
    ck_assert_uint_eq(v, 1002);
    ck_assert_int_eq(goconc_map_update(m, &k, 8, np_incr, &u), GOCONC_OK);
    ck_assert_ptr_eq(u.old_at, at);
    ck_assert_uint_eq(u.nv, 8);
    /* Another length, a long value, back to 8 bytes: the usual path. */
    ck_assert_int_eq(goconc_map_store(m, &k, 8, "abcd", 4), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, &k, 8, out, sizeof out, &n), GOCONC_OK);
    ck_assert(n == 4 && memcmp(out, "abcd", 4) == 0);
    memset(big, 0x5A, sizeof big);
    ck_assert_int_eq(goconc_map_store(m, &k, 8, big, sizeof big), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, &k, 8, out, sizeof out, &n), GOCONC_OK);
    ck_assert(n == sizeof big && memcmp(out, big, n) == 0);
    store_u64(m, k, 40);
    ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    ck_assert_int_eq(load_u64(m, k, &v), GOCONC_NOTFOUND);
    store_u64(m, k, 40);
    /* range sees the current values: 40 + (950..999) */
    ck_assert_int_eq(goconc_map_range(m, np_sum, &sum), GOCONC_OK);
    ck_assert_uint_eq(sum, 40 + (950 + 999) * 50 / 2);
    goconc_map_free(m);

    /* With on_drop, every replaced value still reaches it once. */
    drop_reset();
    m = mk_flags(1, GOCONC_MAP_NO_PEEK, track_drop, &drop_ctx);
    for (i = 0; i < 100; i++)
        store_u64(m, k, k << 8 | i);
    goconc_map_free(m);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(drops[k], 100);
    ck_assert_int_eq(drop_total, 100);
    ck_assert_int_eq(drop_bad, 0);
}
END_TEST

START_TEST(test_load_or_store)
{
    goconc_map *m = mk(4);
    unsigned char out[32], big[20];
    size_t n;
    uint64_t v;

    ck_assert_int_eq(goconc_map_load_or_store(m, "k", 1, "v1", 2, out, sizeof out, &n), GOCONC_OK);
    n = 99;
    ck_assert_int_eq(goconc_map_load_or_store(m, "k", 1, "v2", 2, out, sizeof out, &n),
                     GOCONC_EXISTS);
    ck_assert_uint_eq(n, 2);
    ck_assert(memcmp(out, "v1", 2) == 0);
    /* Short buffer: ERANGE, size reported, nothing stored. */
    ck_assert_int_eq(goconc_map_load_or_store(m, "k", 1, "v3", 2, out, 1, &n), GOCONC_ERANGE);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(goconc_map_load_or_store(m, "k", 1, "v3", 2, NULL, 0, NULL), GOCONC_EXISTS);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert(memcmp(out, "v1", 2) == 0);
    memset(big, 5, sizeof big);
    ck_assert_int_eq(goconc_map_load_or_store(m, "long-key-xxxxxx", 15, big, sizeof big, NULL, 0,
                                              NULL),
                     GOCONC_OK);
    ck_assert_int_eq(goconc_map_load_or_store(m, "long-key-xxxxxx", 15, "x", 1, out, sizeof out,
                                              &n),
                     GOCONC_EXISTS);
    ck_assert_uint_eq(n, sizeof big);
    ck_assert(memcmp(out, big, sizeof big) == 0);
    ck_assert_uint_eq(goconc_map_len(m), 2);
    v = 3;
    ck_assert_int_eq(goconc_map_load_or_store(m, &v, 8, &v, 8, NULL, 0, NULL), GOCONC_OK);
    goconc_map_free(m);
    barrier();
}
END_TEST

START_TEST(test_load_and_delete)
{
    goconc_map *m = mk(4);
    unsigned char out[32];
    size_t n = 77;

    ck_assert_int_eq(goconc_map_load_and_delete(m, "k", 1, out, sizeof out, &n), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_store(m, "k", 1, "value-1234", 10), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load_and_delete(m, "k", 1, out, 9, &n), GOCONC_ERANGE);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(goconc_map_len(m), 1); /* nothing deleted */
    ck_assert_int_eq(goconc_map_load_and_delete(m, "k", 1, out, 10, &n), GOCONC_OK);
    ck_assert(memcmp(out, "value-1234", 10) == 0);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, NULL, 0, NULL), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_store(m, "k", 1, "v", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load_and_delete(m, "k", 1, NULL, 0, NULL), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

START_TEST(test_delete)
{
    goconc_map *m = mk(8);
    uint64_t k;
    for (k = 0; k < 500; k++)
        store_u64(m, k, k);
    for (k = 0; k < 500; k += 2)
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    for (k = 0; k < 500; k++) {
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), k % 2 ? GOCONC_OK : GOCONC_NOTFOUND);
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_NOTFOUND);
    }
    ck_assert_uint_eq(goconc_map_len(m), 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

START_TEST(test_swap)
{
    goconc_map *m = mk(4);
    unsigned char prev[32];
    size_t n = 55;

    ck_assert_int_eq(goconc_map_swap(m, "k", 1, "first", 5, prev, sizeof prev, &n),
                     GOCONC_NOTFOUND);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(goconc_map_swap(m, "k", 1, "second-longer", 13, prev, sizeof prev, &n),
                     GOCONC_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(prev, "first", 5) == 0);
    /* Short buffer: nothing stored. */
    ck_assert_int_eq(goconc_map_swap(m, "k", 1, "third", 5, prev, 12, &n), GOCONC_ERANGE);
    ck_assert_uint_eq(n, 13);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, prev, sizeof prev, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 13);
    ck_assert(memcmp(prev, "second-longer", 13) == 0);
    ck_assert_int_eq(goconc_map_swap(m, "k", 1, "third", 5, NULL, 0, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, prev, sizeof prev, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(goconc_map_len(m), 1);
    /* One buffer for the new value and the old (the fast case reads the
     * new one before it copies the old out; so do the general steps). */
    memcpy(prev, "fourth", 6);
    ck_assert_int_eq(goconc_map_swap(m, "k", 1, prev, 6, prev, sizeof prev, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(prev, "third", 5) == 0);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, prev, sizeof prev, &n), GOCONC_OK);
    ck_assert(n == 6 && memcmp(prev, "fourth", 6) == 0);
    /* A buffer of exactly the old value's length (1..3, 4..7 and 8 bytes
     * are copied by different moves): the byte after it stays. */
    for (n = 1; n <= 8; n++) {
        unsigned char tight[9];
        size_t got = 0;
        memset(tight, 0xEE, sizeof tight);
        ck_assert_int_eq(goconc_map_store(m, "t", 1, "abcdefgh", n), GOCONC_OK);
        ck_assert_int_eq(goconc_map_swap(m, "t", 1, "z", 1, tight, n, &got), GOCONC_OK);
        ck_assert_uint_eq(got, n);
        ck_assert(memcmp(tight, "abcdefgh", n) == 0);
        ck_assert_uint_eq(tight[n], 0xEE);
    }
    goconc_map_free(m);
    barrier();
}
END_TEST

START_TEST(test_cas_cad)
{
    goconc_map *m = mk(4);
    unsigned char out[64], big[50];
    size_t n;

    ck_assert_int_eq(goconc_map_compare_and_swap(m, "k", 1, "a", 1, "b", 1), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, "k", 1, "a", 1), GOCONC_NOTFOUND);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    ck_assert_int_eq(goconc_map_store(m, "k", 1, "a", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, "k", 1, "x", 1, "b", 1), GOCONC_CHANGED);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, "k", 1, "ab", 2, "b", 1), GOCONC_CHANGED);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, "k", 1, NULL, 0, "b", 1), GOCONC_CHANGED);
    memset(big, 9, sizeof big);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, "k", 1, "a", 1, big, sizeof big), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert_uint_eq(n, sizeof big);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, "k", 1, "a", 1), GOCONC_CHANGED);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, "k", 1, big, sizeof big - 1),
                     GOCONC_CHANGED);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, "k", 1, big, sizeof big), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, NULL, 0, NULL), GOCONC_NOTFOUND);
    /* Empty values compare too. */
    ck_assert_int_eq(goconc_map_store(m, "e", 1, NULL, 0), GOCONC_OK);
    ck_assert_int_eq(goconc_map_compare_and_swap(m, "e", 1, NULL, 0, "z", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_compare_and_delete(m, "e", 1, "z", 1), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* ------------------------------------------------------------- update */

struct upd {
    goconc_map *m, *other;
    int ret;                   /* what fn returns */
    const void *nv;
    size_t nl;
    int calls, found_seen;
    size_t oldlen_seen;
    unsigned char old_seen[32];
    int rc_store, rc_delete, rc_update, rc_clear, rc_reserve, rc_maintain, rc_swap,
        rc_load, rc_peek, rc_other, rc_sync, rc_barrier, rc_range;
};

static int upd_fn(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                  size_t *nl)
{
    struct upd *u = ctx;
    u->calls++;
    u->found_seen = found;
    u->oldlen_seen = oldlen;
    if (found && oldlen <= sizeof u->old_seen)
        memcpy(u->old_seen, old, oldlen);
    *nv = u->nv;
    *nl = u->nl;
    return u->ret;
}

static int visit_store_same(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct upd *u = ctx;
    (void)v;
    (void)vl;
    u->rc_range = goconc_map_store(u->m, k, kl, "q", 1);
    return 0;
}

/* fn tries everything on its own map. */
static int upd_reenter(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                       size_t *nl)
{
    struct upd *u = ctx;
    unsigned char buf[8];
    size_t n;
    const void *p;
    (void)old;
    (void)oldlen;
    (void)found;
    (void)nv;
    (void)nl;
    u->calls++;
    u->rc_store = goconc_map_store(u->m, "other", 5, "x", 1);
    u->rc_delete = goconc_map_delete(u->m, "k", 1);
    u->rc_update = goconc_map_update(u->m, "z", 1, upd_keep, NULL);
    u->rc_clear = goconc_map_clear(u->m);
    u->rc_reserve = goconc_map_reserve(u->m, 1000);
    u->rc_maintain = goconc_map_maintain(u->m, 10, &n);
    u->rc_swap = goconc_map_swap(u->m, "k", 1, "y", 1, NULL, 0, NULL);
    u->rc_load = goconc_map_load(u->m, "k", 1, buf, sizeof buf, &n);
    goconc_read_lock();
    u->rc_peek = goconc_map_peek(u->m, "k", 1, &p, &n);
    goconc_read_unlock();
    u->rc_other = goconc_map_store(u->other, "k", 1, "o", 1);
    u->rc_sync = goconc_synchronize();
    u->rc_barrier = goconc_barrier();
    u->rc_range = 99;
    tu_discard(goconc_map_range(u->m, visit_store_same, u));
    return GOCONC_UPDATE_KEEP;
}

START_TEST(test_update)
{
    goconc_map *m = mk(4), *other = mk(4);
    struct upd u;
    unsigned char out[64], big[30];
    size_t n;
    int i;

    memset(&u, 0, sizeof u);
    u.m = m;
    /* Absent key: KEEP and DELETE change nothing, STORE inserts. */
    u.ret = GOCONC_UPDATE_KEEP;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_int_eq(u.calls, 1);
    ck_assert_int_eq(u.found_seen, 0);
    u.ret = GOCONC_UPDATE_DELETE;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    u.ret = GOCONC_UPDATE_STORE;
    u.nv = "v1";
    u.nl = 2;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert(n == 2 && memcmp(out, "v1", 2) == 0);
    /* Present: fn sees the value; STORE replaces (also with a long one). */
    memset(big, 3, sizeof big);
    u.nv = big;
    u.nl = sizeof big;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_int_eq(u.found_seen, 1);
    ck_assert_uint_eq(u.oldlen_seen, 2);
    ck_assert(memcmp(u.old_seen, "v1", 2) == 0);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert_uint_eq(n, sizeof big);
    /* fn's status: negative aborts (returned), other values are EINVAL. */
    u.ret = GOCONC_ENOMEM;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_ENOMEM);
    u.ret = -1000;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), -1000);
    for (i = 0; i < 16; i++) {
        u.ret = i;
        ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_EINVAL);
    }
    u.ret = 19;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_EINVAL);
    /* STORE of NULL with a length is EINVAL; NULL with 0 is empty. */
    u.ret = GOCONC_UPDATE_STORE;
    u.nv = NULL;
    u.nl = 3;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_EINVAL);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert_uint_eq(n, sizeof big); /* unchanged by any of the above */
    u.nl = 0;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert_uint_eq(n, 0);
    u.ret = GOCONC_UPDATE_DELETE;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_fn, &u), GOCONC_OK);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, NULL, 0, NULL), GOCONC_NOTFOUND);

    /* Re-entry: writes to the same map are EDEADLK, reads work, other
     * maps work, waiting calls are EDEADLK, range's fn cannot write. */
    ck_assert_int_eq(goconc_map_store(m, "k", 1, "kv", 2), GOCONC_OK);
    memset(&u, 0, sizeof u);
    u.m = m;
    u.other = other;
    ck_assert_int_eq(goconc_map_update(m, "k", 1, upd_reenter, &u), GOCONC_OK);
    ck_assert_int_eq(u.calls, 1);
    ck_assert_int_eq(u.rc_store, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_delete, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_update, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_clear, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_reserve, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_maintain, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_swap, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_load, GOCONC_OK);
    ck_assert_int_eq(u.rc_peek, GOCONC_OK);
    ck_assert_int_eq(u.rc_other, GOCONC_OK);
    ck_assert_int_eq(u.rc_sync, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_barrier, GOCONC_EDEADLK);
    ck_assert_int_eq(u.rc_range, GOCONC_EDEADLK);
    ck_assert_int_eq(goconc_map_load(m, "other", 5, NULL, 0, NULL), GOCONC_NOTFOUND);
    ck_assert_int_eq(goconc_map_load(m, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert(n == 2 && memcmp(out, "kv", 2) == 0);
    /* After fn, writes work again. */
    ck_assert_int_eq(goconc_map_store(m, "after", 5, "x", 1), GOCONC_OK);
    goconc_map_free(m);
    goconc_map_free(other);
    barrier();
}
END_TEST

/* Nested updates of two maps (the thread's chain of update frames,
 * map_in_fn): inside `outer`'s function, an update of `inner` runs; from
 * inside that, writes to both maps are EDEADLK; once it returns, `inner`
 * takes writes again while `outer` still does not. */
struct nest {
    goconc_map *outer, *inner;
    int rc_inner_update, rc_in_outer, rc_in_inner, rc_after_inner, rc_after_outer;
};

static int nest_inner_fn(void *ctx, const void *old, size_t oldlen, int found,
                         const void **nv, size_t *nl)
{
    struct nest *t = ctx;
    (void)old, (void)oldlen, (void)found;
    t->rc_in_outer = goconc_map_store(t->outer, "o", 1, "x", 1);
    t->rc_in_inner = goconc_map_store(t->inner, "i", 1, "x", 1);
    *nv = "in";
    *nl = 2;
    return GOCONC_UPDATE_STORE;
}

static int nest_outer_fn(void *ctx, const void *old, size_t oldlen, int found,
                         const void **nv, size_t *nl)
{
    struct nest *t = ctx;
    (void)old, (void)oldlen, (void)found, (void)nv, (void)nl;
    t->rc_inner_update = goconc_map_update(t->inner, "k", 1, nest_inner_fn, t);
    t->rc_after_inner = goconc_map_store(t->inner, "j", 1, "y", 1);
    t->rc_after_outer = goconc_map_store(t->outer, "p", 1, "y", 1);
    return GOCONC_UPDATE_KEEP;
}

START_TEST(test_update_nested)
{
    struct nest t;
    unsigned char out[8];
    size_t n;

    memset(&t, 0, sizeof t);
    t.outer = mk(4);
    t.inner = mk(4);
    ck_assert_int_eq(goconc_map_update(t.outer, "k", 1, nest_outer_fn, &t), GOCONC_OK);
    ck_assert_int_eq(t.rc_inner_update, GOCONC_OK);
    ck_assert_int_eq(t.rc_in_outer, GOCONC_EDEADLK);
    ck_assert_int_eq(t.rc_in_inner, GOCONC_EDEADLK);
    ck_assert_int_eq(t.rc_after_inner, GOCONC_OK);
    ck_assert_int_eq(t.rc_after_outer, GOCONC_EDEADLK);
    ck_assert_int_eq(goconc_map_load(t.inner, "k", 1, out, sizeof out, &n), GOCONC_OK);
    ck_assert(n == 2 && memcmp(out, "in", 2) == 0);
    ck_assert_uint_eq(goconc_map_len(t.outer), 0);
    /* Both frames are gone: writes to either map work. */
    ck_assert_int_eq(goconc_map_store(t.outer, "o", 1, "x", 1), GOCONC_OK);
    ck_assert_int_eq(goconc_map_store(t.inner, "i", 1, "x", 1), GOCONC_OK);
    goconc_map_free(t.outer);
    goconc_map_free(t.inner);
    barrier();
}
END_TEST

/* ------------------------------------------------------ range and scan */

struct rs {
    goconc_map *m;
    uint64_t stable;      /* keys [0, stable) never change */
    unsigned char *seen;  /* per key id < seen_n */
    size_t seen_n;
    size_t visits, stop_at;
    uint64_t next_churn;  /* churn keys >= 1 << 32 */
    int write_rc, in_section, bad;
    int churn;
};

static int rs_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct rs *r = ctx;
    uint64_t key, val;
    if (kl != 8 || vl != 8) {
        r->bad++;
        return 0;
    }
    memcpy(&key, k, 8);
    memcpy(&val, v, 8);
    if (val != key * 3)
        r->bad++;
    if (key < r->seen_n && r->seen[key] < 255)
        r->seen[key]++;
    if (key >= (1ull << 32) && r->stable + (key - (1ull << 32)) < r->seen_n &&
        r->seen[r->stable + key - (1ull << 32)] < 255)
        r->seen[r->stable + key - (1ull << 32)]++;
    r->visits++;
    if (goconc_synchronize() != GOCONC_EDEADLK) /* fn runs in a read section */
        r->in_section = 0;
    if (r->churn) {
        /* fn writes the map: store several new keys, delete older ones
         * (growing, then shrinking, so shards migrate under the walk). */
        int i;
        for (i = 0; i < r->churn; i++) {
            uint64_t c = (1ull << 32) + r->next_churn++, cv = c * 3;
            if (goconc_map_store(r->m, &c, 8, &cv, 8) != GOCONC_OK)
                r->write_rc = -1;
            if (r->next_churn > 40) {
                uint64_t d = c - 40;
                if (goconc_map_delete(r->m, &d, 8) != GOCONC_OK)
                    r->write_rc = -2;
            }
        }
    }
    return r->stop_at && r->visits == r->stop_at;
}

static void rs_prepare(struct rs *r, goconc_map *m, uint64_t stable, size_t seen_n)
{
    uint64_t k;
    memset(r, 0, sizeof *r);
    r->m = m;
    r->stable = stable;
    r->seen_n = seen_n;
    r->seen = calloc(seen_n, 1);
    r->in_section = 1;
    for (k = 0; k < stable; k++)
        store_u64(m, k, k * 3);
}

START_TEST(test_range)
{
    goconc_map *m = mk(4);
    struct rs r;
    uint64_t k;
    size_t i;

    ck_assert_int_eq(goconc_map_range(m, visit_count, &i), GOCONC_OK);
    rs_prepare(&r, m, 3000, 3000);
    ck_assert_int_eq(goconc_map_range(m, rs_visit, &r), GOCONC_OK);
    ck_assert_int_eq(r.bad, 0);
    ck_assert_int_eq(r.in_section, 1);
    for (k = 0; k < 3000; k++)
        ck_assert_int_eq(r.seen[k], 1);
    /* Stopped by fn. */
    r.stop_at = 10;
    r.visits = 0;
    ck_assert_int_eq(goconc_map_range(m, rs_visit, &r), GOCONC_STOPPED);
    ck_assert_uint_eq(r.visits, 10);
    free(r.seen);
    goconc_map_free(m);

    /* fn churns the map hard: shards grow and shrink under the walk.
     * Every stable key exactly once, no key twice. */
    for (i = 0; i < 4; i++) {
        m = mk(i == 0 ? 1 : 4);
        rs_prepare(&r, m, 2000, 2000 + 200000);
        r.churn = (int)(i + 1) * 3;
        ck_assert_int_eq(goconc_map_range(m, rs_visit, &r), GOCONC_OK);
        ck_assert_int_eq(r.write_rc, 0);
        ck_assert_int_eq(r.bad, 0);
        for (k = 0; k < 2000; k++)
            ck_assert_int_eq(r.seen[k], 1);
        for (k = 0; k < r.seen_n; k++)
            ck_assert_int_le(r.seen[k], 1);
        ck_assert_uint_gt(stats(m).grows + stats(m).buckets_moved, 0);
        free(r.seen);
        goconc_map_free(m);
    }
    barrier();
}
END_TEST

START_TEST(test_scan)
{
    goconc_map *m = mk(8);
    struct rs r;
    uint64_t cursor = 0, k;
    size_t calls = 0, before;
    int rc;

    rs_prepare(&r, m, 5000, 5000 + 100000);
    do {
        before = r.visits;
        ck_assert_int_eq(goconc_map_scan(m, &cursor, 100, rs_visit, &r), GOCONC_OK);
        ck_assert_uint_le(r.visits - before, 100 + 64); /* about max_entries */
        calls++;
    } while (cursor != 0);
    ck_assert_uint_gt(calls, 40);
    for (k = 0; k < 5000; k++)
        ck_assert_int_eq(r.seen[k], 1); /* no resize: exactly once */

    /* Stopped by fn: the cursor resumes without skipping anything. */
    memset(r.seen, 0, r.seen_n);
    r.visits = 0;
    cursor = 0;
    for (;;) {
        r.stop_at = r.visits + 37;
        rc = goconc_map_scan(m, &cursor, 200, rs_visit, &r);
        if (rc == GOCONC_OK && cursor == 0)
            break;
        ck_assert(rc == GOCONC_OK || rc == GOCONC_STOPPED);
    }
    for (k = 0; k < 5000; k++)
        ck_assert_int_ge(r.seen[k], 1);

    /* Churn and migration between and during calls: at least once. */
    memset(r.seen, 0, r.seen_n);
    r.stop_at = 0;
    r.churn = 4;
    cursor = 0;
    do
        ck_assert_int_eq(goconc_map_scan(m, &cursor, 50, rs_visit, &r), GOCONC_OK);
    while (cursor != 0);
    ck_assert_int_eq(r.write_rc, 0);
    ck_assert_int_eq(r.bad, 0);
    for (k = 0; k < 5000; k++)
        ck_assert_int_ge(r.seen[k], 1);
    free(r.seen);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* ----------------------------------------------------------- migration */

/*
 * A callback that stops after a few entries of a window holding many:
 * every call still makes progress, and a stop at the very first entry
 * does not read as "done" (cursor 0).
 */
START_TEST(test_scan_stop_progress)
{
    unsigned shards[] = { 1, 8 };
    size_t i, calls, k;
    uint64_t cursor;
    struct rs r;
    int rc;

    for (i = 0; i < 2; i++) {
        goconc_map *m = mk(shards[i]);
        rs_prepare(&r, m, 1000, 1000);
        /* Stop at the first entry of the first window. */
        r.stop_at = 1;
        cursor = 0;
        ck_assert_int_eq(goconc_map_scan(m, &cursor, 100, rs_visit, &r), GOCONC_STOPPED);
        ck_assert_uint_ne(cursor, 0);
        /* Then stop after every 4th entry, resuming each time. */
        for (calls = 1;; calls++) {
            r.stop_at = r.visits + 4;
            rc = goconc_map_scan(m, &cursor, 1000, rs_visit, &r);
            ck_assert(rc == GOCONC_OK || rc == GOCONC_STOPPED);
            if (cursor == 0)
                break;
            ck_assert_uint_lt(calls, 1000); /* 250 when nothing repeats */
        }
        for (k = 0; k < 1000; k++)
            ck_assert_int_ge(r.seen[k], 1);
        /* A block of r-space holds one of these keys: no repeats. */
        ck_assert_uint_le(r.visits, 1000 + 2 * calls);
        free(r.seen);
        goconc_map_free(m);
    }
    barrier();
}
END_TEST

/* Resident pages of this process. */
static size_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * A big capacity hint maps its tables but must not touch them: fresh
 * mappings are zero already (with malloc/free as the allocator, which
 * maps big tables itself).  An empty map hinted at 8M entries used to
 * write every page of its ~270 MiB of tables in goconc_map_new.
 */
START_TEST(test_big_hint_untouched)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m;
    size_t before, after;
    uint64_t k, v;

    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    o.capacity_hint = (size_t)8 << 20;
    o.shards = 4;
    before = rss_bytes();
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    after = rss_bytes();
    fprintf(stderr, "hint 8M: %zu table bytes, RSS +%zu\n", stats(m).bytes, after - before);
    ck_assert_uint_gt(stats(m).bytes, (size_t)256 << 20);
    ck_assert_uint_lt(after - before, (size_t)32 << 20);
    /* The untouched tables work like written ones. */
    for (k = 0; k < 20000; k++)
        store_u64(m, k * 7919, k);
    for (k = 0; k < 20000; k++) {
        ck_assert_int_eq(load_u64(m, k * 7919, &v), GOCONC_OK);
        ck_assert_uint_eq(v, k);
    }
    ck_assert_int_eq(load_u64(m, 1, &v), GOCONC_NOTFOUND);
    ck_assert_uint_eq(stats(m).grows, 0);
    goconc_map_free(m);
    barrier();
    tu_alloc_install();
}
END_TEST

/*
 * A clear or free of a big map frees its tables at once when no reader
 * holds them, not after later retires: a program that clears and then
 * only reads would otherwise keep them for good.
 */
static size_t reclaim_pending(void)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    return st.pending;
}

START_TEST(test_clear_free_reclaim_soon)
{
    goconc_map *m = mk(4);
    uint64_t k, v;

    for (k = 0; k < 60000; k++)
        store_u64(m, k, k);
    barrier();
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    /* Nothing else runs: both grace periods pass inside clear, and the
     * old tables are gone (pending counts their batch). */
    ck_assert_uint_eq(reclaim_pending(), 0);
    for (k = 0; k < 1000; k++)
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_NOTFOUND);
    for (k = 0; k < 60000; k++)
        store_u64(m, k, k);
    goconc_map_free(m);
    ck_assert_uint_eq(reclaim_pending(), 0);

    /* A reader in its section holds them: they wait, then go. */
    {
        struct tu_holder h;
        pthread_t t;
        m = mk(4);
        for (k = 0; k < 60000; k++)
            store_u64(m, k, k);
        tu_holder_start(&h, &t, 1);
        goconc_map_free(m);
        ck_assert_uint_gt(reclaim_pending(), 0);
        tu_holder_release(&h, t);
        barrier();
        ck_assert_uint_eq(reclaim_pending(), 0);
    }
}
END_TEST

START_TEST(test_grow_shrink)
{
    goconc_map *m = mk(4);
    goconc_map_stats st0 = stats(m), st;
    uint64_t k, v;
    const uint64_t n = 60000;

    for (k = 0; k < n; k++) {
        store_u64(m, k, ~k);
        /* Every key stays readable through every migration step. */
        if (k % 97 == 0) {
            uint64_t j = k / 2;
            ck_assert_int_eq(load_u64(m, j, &v), GOCONC_OK);
            ck_assert_uint_eq(v, ~j);
        }
    }
    st = stats(m);
    ck_assert_uint_gt(st.grows, 0);
    ck_assert_uint_gt(st.buckets, st0.buckets);
    ck_assert_uint_le(st.shards_migrating, st.shards);
    for (k = 0; k < n; k++) {
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
        ck_assert_uint_eq(v, ~k);
    }
    for (k = 0; k < n; k++) {
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
        if (k % 101 == 0 && k + 1 < n) {
            ck_assert_int_eq(load_u64(m, n - 1, &v), GOCONC_OK);
            ck_assert_uint_eq(v, ~(n - 1));
        }
    }
    finish(m);
    st = stats(m);
    ck_assert_uint_gt(st.shrinks, 0);
    ck_assert_uint_eq(st.len, 0);
    ck_assert_uint_le(st.buckets, 4 * 8);
    goconc_map_free(m);
    barrier();
}
END_TEST

/*
 * Overflow counts of a stable shard as the writers must keep them: for
 * every bucket, the live entries whose probe path from home passes it.
 * Also the tag bytes the writes' OR and XOR leave (map_bucket_write):
 * every LIVE slot carries its own key's tag, every other slot byte is
 * EMPTY or DEAD, and the DEAD ones are as many as the shard counts.
 * Returns the live entries.
 */
static size_t check_chains(goconc_map *m, unsigned s)
{
    const struct map_table *t = m->sh[s].tbl;
    size_t nb = t->mask + 1, b, live = 0, dead = 0, *want = calloc(nb, sizeof *want);
    unsigned i;

    ck_assert_ptr_nonnull(want);
    ck_assert_uint_eq(at_load(&m->sh[s].phase), MAP_STABLE);
    for (b = 0; b < nb; b++) {
        uint64_t ctrl = at_load(&t->ctrl[b]);
        for (i = 0; i < MAP_SLOTS; i++) {
            unsigned tag = (unsigned)(ctrl >> (8 * i)) & 0xFF, lens;
            uint64_t h;
            size_t d, dist;
            if (!(tag & MAP_TAG_LIVE)) {
                ck_assert(tag == MAP_TAG_EMPTY || tag == MAP_TAG_DEAD);
                dead += tag == MAP_TAG_DEAD;
                continue;
            }
            lens = map_lens(at_load(&t->bkt[b].meta), i);
            h = map_slot_hash(m, &t->bkt[b].s[i], lens);
            ck_assert_uint_eq(tag, map_tag(m, h));
            dist = (b - h) & t->mask;
            for (d = 0; d < dist; d++)
                want[(h + d) & t->mask]++;
            live++;
        }
    }
    ck_assert_uint_eq(dead, m->sh[s].dead_t);
    for (b = 0; b < nb; b++) {
        size_t w = want[b] < MAP_CTRL_OVF_MAX ? want[b] : MAP_CTRL_OVF_MAX;
        ck_assert_uint_eq(map_ovf(at_load(&t->ctrl[b])), w);
    }
    free(want);
    return live;
}

/* The first n 8-byte keys from `from` on whose home in m's one shard is
 * bucket 0 (home0) or any other bucket (!home0). */
static void keys_at_home0(goconc_map *m, uint64_t from, int home0, uint64_t *keys, size_t n)
{
    size_t mask = m->sh[0].tbl->mask, i;
    uint64_t k;

    for (i = 0, k = from; i < n; k++)
        if (((gc_hash_word(&m->hk, k, 8) & mask) == 0) == home0)
            keys[i++] = k;
}

/* A one-shard map reserved for 400 entries (no migration pending), and
 * n 8-byte keys whose home is its bucket 0. */
static goconc_map *mk_home0(uint64_t *keys, size_t n)
{
    goconc_map *m = mk(1);

    ck_assert_int_eq(goconc_map_reserve(m, 400), GOCONC_OK);
    finish(m);
    ck_assert_uint_ge(m->sh[0].tbl->mask, 3);
    keys_at_home0(m, 1, 1, keys, n);
    return m;
}

/*
 * The short store path and the steps it hands over to (map.c): keys made
 * to share one home bucket fill it, then go on down its chain (the chain
 * walk), are overwritten at home and further on, deleted (DEAD slots a
 * store does not reuse before a grace period), replaced by out-of-line
 * values and back.  After each step every key reads back and the
 * overflow counts match the entries' positions.
 */
START_TEST(test_store_paths)
{
    enum { NK = 24 };
    uint64_t keys[NK], v, i;
    goconc_map *m = mk_home0(keys, NK);
    unsigned char big[40];
    size_t n;

    for (i = 0; i < NK; i++) {
        store_u64(m, keys[i], i);
        finish(m);
        ck_assert_uint_eq(check_chains(m, 0), i + 1);
    }
    for (i = 0; i < NK; i++) {
        ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
        ck_assert_uint_eq(v, i);
        store_u64(m, keys[i], i + 100); /* at home, and down the chain */
    }
    finish(m);
    ck_assert_uint_eq(check_chains(m, 0), NK);
    ck_assert_uint_eq(goconc_map_len(m), NK);
    /* Delete every other key, then store them again at once: the DEAD
     * slots are still in their grace period. */
    for (i = 0; i < NK; i += 2)
        ck_assert_int_eq(goconc_map_delete(m, &keys[i], 8), GOCONC_OK);
    for (i = 0; i < NK; i += 2)
        store_u64(m, keys[i], i + 200);
    finish(m);
    ck_assert_uint_eq(check_chains(m, 0), NK);
    barrier();
    for (i = 0; i < NK; i += 3)
        store_u64(m, keys[i], i + 300);
    /* Out of line and back, the key staying at most 8 bytes. */
    memset(big, 0xAB, sizeof big);
    for (i = 0; i < NK; i += 4)
        ck_assert_int_eq(goconc_map_store(m, &keys[i], 8, big, sizeof big), GOCONC_OK);
    for (i = 0; i < NK; i += 8)
        store_u64(m, keys[i], i + 400);
    finish(m);
    ck_assert_uint_eq(check_chains(m, 0), NK);
    ck_assert_uint_eq(goconc_map_len(m), NK);
    for (i = 0; i < NK; i++) {
        unsigned char out[64];
        uint64_t want = i % 8 == 0 ? i + 400 : i % 4 == 0 ? 0 : i % 3 == 0 ? i + 300
                       : i % 2 == 0 ? i + 200 : i + 100;
        ck_assert_int_eq(goconc_map_load(m, &keys[i], 8, out, sizeof out, &n), GOCONC_OK);
        if (i % 4 == 0 && i % 8 != 0) {
            ck_assert_uint_eq(n, sizeof big);
            ck_assert(memcmp(out, big, sizeof big) == 0);
        } else {
            ck_assert_uint_eq(n, 8);
            memcpy(&v, out, 8);
            ck_assert_uint_eq(v, want);
        }
    }
    goconc_map_free(m);
    barrier();
}
END_TEST

/*
 * GOCONC_MAP_NO_PEEK past the fast case: a key four buckets from home
 * (beyond home_near's walk) is rewritten in place by the general steps
 * too, by store, swap, compare_and_swap and update: its value stays at
 * one address (update's fn sees it), no slot dies, the chains stay as
 * they were.  A map with peek moves the same key to a new slot on every
 * write (the control half of the test).
 */
START_TEST(test_no_peek_far)
{
    enum { NK = 35, FAR = 30 }; /* keys 28..34 sit in bucket 4 */
    uint64_t keys[NK], v, old, i;
    unsigned flags;
    struct np_upd u = { NULL, 0 };
    unsigned char out[16];
    const void *at;
    size_t n, dead;

    for (flags = 0; flags <= GOCONC_MAP_NO_PEEK; flags += GOCONC_MAP_NO_PEEK) {
        goconc_map *m = mk_flags(1, flags, NULL, NULL);
        ck_assert_int_eq(goconc_map_reserve(m, 400), GOCONC_OK);
        finish(m);
        keys_at_home0(m, 1, 1, keys, NK);
        for (i = 0; i < NK; i++)
            store_u64(m, keys[i], i);
        finish(m);
        ck_assert_uint_eq(check_chains(m, 0), NK);
        ck_assert_uint_ge(FAR / MAP_SLOTS, MAP_NEAR_WALK);
        ck_assert_int_eq(goconc_map_update(m, &keys[FAR], 8, np_incr, &u), GOCONC_OK);
        at = u.old_at;
        dead = m->sh[0].dead_t;
        for (i = 0; i < 20; i++) {
            v = 1000 + i;
            ck_assert_int_eq(goconc_map_store(m, &keys[FAR], 8, &v, 8), GOCONC_OK);
            old = v;
            v = 2000 + i;
            ck_assert_int_eq(goconc_map_swap(m, &keys[FAR], 8, &v, 8, out, sizeof out, &n),
                             GOCONC_OK);
            ck_assert_uint_eq(n, 8);
            ck_assert_mem_eq(out, &old, 8);
            old = v;
            v = 3000 + i;
            ck_assert_int_eq(goconc_map_compare_and_swap(m, &keys[FAR], 8, &old, 8, &v, 8),
                             GOCONC_OK);
            ck_assert_int_eq(goconc_map_update(m, &keys[FAR], 8, np_incr, &u), GOCONC_OK);
            ck_assert_uint_eq(u.nv, 3001 + i);
            if (flags)
                ck_assert_ptr_eq(u.old_at, at);
            else
                ck_assert_ptr_ne(u.old_at, at);
            at = u.old_at;
        }
        finish(m);
        if (flags)
            ck_assert_uint_eq(m->sh[0].dead_t, dead);
        else if (MAP_CHURN_EVERY == 0) /* test builds' rehashes drop DEAD slots */
            ck_assert_uint_gt(m->sh[0].dead_t, dead);
        ck_assert_uint_eq(check_chains(m, 0), NK);
        for (i = 0; i < NK; i++) {
            ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
            ck_assert_uint_eq(v, i == FAR ? 3020 : i);
        }
        goconc_map_free(m);
    }
}
END_TEST

/* Probe distance of key k's live slot in shard 0's table (white-box);
 * SIZE_MAX when absent. */
static size_t dist_of(goconc_map *m, uint64_t k)
{
    const struct map_table *t = m->sh[0].tbl;
    size_t b;

    for (b = 0; b <= t->mask; b++) {
        uint64_t lv;
        for (lv = at_load(&t->ctrl[b]) & MAP_HIGH7; lv; lv &= lv - 1) {
            unsigned i = map_first(lv);
            if (map_lens(at_load(&t->bkt[b].meta), i) == map_lens_of(8, 8) &&
                at_load(&t->bkt[b].s[i].k) == k)
                return (b - gc_hash_word(&m->hk, k, 8)) & t->mask;
        }
    }
    return SIZE_MAX;
}

/* update's function: the value plus one (0 when absent). */
static int upd_add_one(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                       size_t *nl)
{
    uint64_t *out = ctx, v = 0;
    if (found && oldlen == sizeof v)
        memcpy(&v, old, sizeof v);
    *out = v + 1;
    *nv = out;
    *nl = sizeof *out;
    return GOCONC_UPDATE_STORE;
}

/*
 * The fast case a few buckets past home (write.c, home_near), through
 * each write that takes it: keys sharing home bucket 0 fill it and go on
 * down the chain (store, swap and load_or_store insert a bucket or two
 * on, raising the counts before them); keys found there are rewritten in
 * their own bucket; update inserts a new key past home only through the
 * general steps.  Killed slots stay DEAD here (five kills, fewer than a
 * grace token waits for), so where each write lands is known.  After
 * each step the overflow counts match the entries' positions and every
 * key reads back.  Not in the tiny-shard build, whose shards rehash
 * every few writes.
 */
START_TEST(test_near_paths)
{
    enum { NK = 17 };
    goconc_map *m;
    uint64_t keys[NK + 1], want[NK], v, ctx, prev;
    size_t n, i, d;

    if (tu_tiny_shards())
        return;
    m = mk_home0(keys, NK + 1);
    /* Home full after 7; two more one bucket on. */
    for (i = 0; i < 9; i++) {
        store_u64(m, keys[i], want[i] = i);
        ck_assert_uint_eq(dist_of(m, keys[i]), i / MAP_SLOTS);
        ck_assert_uint_eq(check_chains(m, 0), i + 1);
    }
    /* Found one bucket on: rewritten there by store and by update (the
     * old slot dies in the same ctrl store); four of its five EMPTY slots
     * used. */
    for (i = MAP_SLOTS; i < 9; i++) {
        store_u64(m, keys[i], want[i] = i + 100);
        ck_assert_uint_eq(dist_of(m, keys[i]), 1);
        ck_assert_int_eq(goconc_map_update(m, &keys[i], 8, upd_add_one, &ctx), GOCONC_OK);
        want[i]++;
        ck_assert_uint_eq(dist_of(m, keys[i]), 1);
        ck_assert_uint_eq(check_chains(m, 0), 9);
    }
    /* Absent: the last EMPTY slot one bucket on, then (swap, then
     * load_or_store) two buckets on, past two buckets without room. */
    for (i = 9; i < 16; i++) {
        v = want[i] = i;
        if (i < 12)
            ck_assert_int_eq(goconc_map_swap(m, &keys[i], 8, &v, 8, &prev, sizeof prev, &n),
                             GOCONC_NOTFOUND);
        else
            ck_assert_int_eq(goconc_map_load_or_store(m, &keys[i], 8, &v, 8, NULL, 0, NULL),
                             GOCONC_OK);
        ck_assert_uint_eq(dist_of(m, keys[i]), i == 9 ? 1 : 2);
        ck_assert_uint_eq(check_chains(m, 0), i + 1);
    }
    /* Found two buckets on: its bucket's last EMPTY slot. */
    store_u64(m, keys[10], want[10] = 300);
    ck_assert_uint_eq(dist_of(m, keys[10]), 2);
    ck_assert_uint_eq(check_chains(m, 0), 16);
    /* update of an absent key with no room in three buckets: the
     * general steps put it on the fourth. */
    ck_assert_int_eq(goconc_map_update(m, &keys[16], 8, upd_add_one, &ctx), GOCONC_OK);
    want[16] = 1;
    ck_assert_uint_eq(dist_of(m, keys[16]), 3);
    ck_assert_uint_eq(check_chains(m, 0), NK);
    /* ... and one whose function keeps nothing leaves every count. */
    ck_assert_int_eq(goconc_map_update(m, &keys[NK], 8, upd_keep, NULL), GOCONC_OK);
    ck_assert_uint_eq(dist_of(m, keys[NK]), SIZE_MAX);
    ck_assert_uint_eq(check_chains(m, 0), NK);
    for (i = 0; i < NK; i++) {
        ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
        ck_assert_uint_eq(v, want[i]);
    }
    for (d = 0; d < 3; d++)
        ck_assert_uint_gt(map_ovf(at_load(&m->sh[0].tbl->ctrl[d])), 0);
    goconc_map_free(m);
    barrier();
}
END_TEST

/*
 * The fast case's tag writes into recycled slots: three keys sharing
 * home bucket 0 are rewritten there round after round (store, swap and
 * update in turn), far more often than the bucket has slots.  Each round
 * then deletes and stores again eight keys elsewhere, so that a grace
 * token covers its kills, and a barrier lets it run: in the next round
 * the bucket fills, and its expired DEAD slots are made EMPTY
 * (home_recycle) before a write ORs a tag into one.  After every write
 * check_chains reads each tag byte and the DEAD count, and the keys stay
 * at home, which they could not without the recycle.  Not in the
 * tiny-shard build, whose shards rehash every few writes.
 */
START_TEST(test_tag_writes)
{
    enum { NK = 3, NO = 8, ROUNDS = 12 };
    goconc_map *m;
    uint64_t keys[NK], others[NO], want[NK], v, prev, ctx, moved;
    size_t i, r, n;

    if (tu_tiny_shards())
        return;
    m = mk_home0(keys, NK);
    moved = stats(m).buckets_moved;
    keys_at_home0(m, keys[NK - 1] + 1, 0, others, NO);
    for (i = 0; i < NK; i++)
        store_u64(m, keys[i], want[i] = i);
    for (i = 0; i < NO; i++)
        store_u64(m, others[i], i);
    ck_assert_uint_eq(check_chains(m, 0), NK + NO);
    for (r = 1; r <= ROUNDS; r++) {
        for (i = 0; i < NK; i++) {
            switch ((r + i) % 3) {
            case 0:
                store_u64(m, keys[i], want[i] = r * 10 + i);
                break;
            case 1:
                v = r * 10 + i;
                ck_assert_int_eq(goconc_map_swap(m, &keys[i], 8, &v, 8, &prev, sizeof prev, &n),
                                 GOCONC_OK);
                ck_assert_uint_eq(prev, want[i]);
                want[i] = v;
                break;
            default:
                ck_assert_int_eq(goconc_map_update(m, &keys[i], 8, upd_add_one, &ctx), GOCONC_OK);
                want[i]++;
                break;
            }
            ck_assert_uint_eq(dist_of(m, keys[i]), 0);
            ck_assert_uint_eq(check_chains(m, 0), NK + NO);
        }
        for (i = 0; i < NO; i++)
            ck_assert_int_eq(goconc_map_delete(m, &others[i], 8), GOCONC_OK);
        for (i = 0; i < NO; i++)
            store_u64(m, others[i], r);
        ck_assert_uint_eq(check_chains(m, 0), NK + NO);
        barrier();
    }
    /* No rehash brought a drifted key home meanwhile. */
    ck_assert_uint_eq(stats(m).buckets_moved, moved);
    for (i = 0; i < NK; i++) {
        ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
        ck_assert_uint_eq(v, want[i]);
    }
    goconc_map_free(m);
    barrier();
}
END_TEST

/* Shard 0 of m drifted by as many moves as it has entries: a write (of
 * key, present) ends by starting the rehash, which finish completes. */
static void drift_rehash(goconc_map *m, uint64_t key)
{
    m->sh[0].drift = goconc_map_len(m);
    m->sh[0].quiet = 0; /* the write's end asks */
    store_u64(m, key, 1);
    ck_assert_uint_ne(at_load(&m->sh[0].phase), MAP_STABLE);
    finish(m);
}

/*
 * Keys moved from home by full buckets bring a same-size rehash once the
 * moves since the last migration outnumber live >> drift_shift, an
 * eighth of the shard's entries in a small table (migrate.h,
 * map_drift_due).  Five keys share home bucket 0, and 18 more live in
 * buckets 2 on, so that 23 >> 3 allows two moves; a read section held
 * throughout keeps every kill DEAD, so after two overwrites bucket 0 is
 * full and each overwrite of a key there moves it one bucket on (the
 * general steps).  Two moves leave the shard as it is, the third starts
 * the migration, which brings every key home to a table of the same
 * size with nothing DEAD.  Then a shard a quarter
 * full: its rehash for drift keeps the size too (shrinking is for
 * shards below 1/8); one over 30% full doubles if its table is
 * small.  Not in the tiny-shard build, whose shards rehash every few
 * writes.
 */
START_TEST(test_drift_rehash)
{
    enum { NK = 5 };
    goconc_map *m;
    uint64_t keys[NK], k, grows, shrinks;
    size_t i, nf;
    unsigned log2;

    if (tu_tiny_shards())
        return;
    m = mk_home0(keys, NK);
    log2 = m->sh[0].tbl->log2;
    ck_assert_uint_ge(log2, MAP_DRIFT_EIGHTH_LOG2);
    ck_assert_uint_le(log2, MAP_DRIFT_GROW_LOG2);
    ck_assert_uint_eq(m->sh[0].drift_shift, MAP_DRIFT_SHIFT_SMALL);
    /* Fillers, never overwritten, so that live >> shift is 2. */
    nf = ((size_t)3 << MAP_DRIFT_SHIFT_SMALL) - 1 - NK;
    for (i = 0, k = (uint64_t)1 << 40; i < nf; k++)
        if ((gc_hash_word(&m->hk, k, 8) & m->sh[0].tbl->mask) >= 2) {
            store_u64(m, k, 0);
            i++;
        }
    grows = stats(m).grows;
    goconc_read_lock();
    for (i = 0; i < NK; i++)
        store_u64(m, keys[i], i);
    store_u64(m, keys[0], 100);
    store_u64(m, keys[1], 101);
    ck_assert_uint_eq(map_empty_slots(at_load(&m->sh[0].tbl->ctrl[0])), 0);
    for (i = 2; i < NK; i++) {
        ck_assert_uint_eq(m->sh[0].drift, i - 2);
        ck_assert_uint_eq(at_load(&m->sh[0].phase), MAP_STABLE);
        store_u64(m, keys[i], 100 + i);
    }
    ck_assert_uint_ne(at_load(&m->sh[0].phase), MAP_STABLE);
    ck_assert_uint_eq(m->sh[0].drift, 0);
    finish(m);
    goconc_read_unlock();
    ck_assert_uint_eq(m->sh[0].tbl->log2, log2);
    ck_assert_uint_eq(stats(m).grows, grows);
    ck_assert_uint_eq(m->sh[0].dead_t, 0);
    ck_assert_uint_eq(check_chains(m, 0), NK + nf);
    for (i = 0; i < NK; i++) {
        uint64_t v;
        ck_assert_uint_eq(dist_of(m, keys[i]), 0);
        ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
        ck_assert_uint_eq(v, 100 + i);
    }
    goconc_map_free(m);
    barrier();

    /* A rehash for drift keeps the table's size, however empty: a shard
     * a quarter full (no shrink is due above 1/8) that drifted, asked at
     * its next write's end (quiet 0), rehashes at its size, not half
     * full. */
    m = mk(1);
    for (k = 0; k < 200; k++)
        store_u64(m, k, k);
    finish(m);
    log2 = m->sh[0].tbl->log2;
    for (k = 0; (size_t)goconc_map_len(m) * 4 > ((size_t)MAP_SLOTS << log2); k++)
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    finish(m);
    ck_assert_uint_eq(m->sh[0].tbl->log2, log2);
    grows = stats(m).grows;
    shrinks = stats(m).shrinks;
    drift_rehash(m, 199);
    ck_assert_uint_eq(m->sh[0].tbl->log2, log2);
    ck_assert_uint_eq(stats(m).grows, grows);
    ck_assert_uint_eq(stats(m).shrinks, shrinks);
    ck_assert_uint_eq(check_chains(m, 0), goconc_map_len(m));
    goconc_map_free(m);
    barrier();

    /* A table below 2^MAP_DRIFT_EIGHTH_LOG2 buckets (a new map's) waits
     * for half its entries, as a large one does. */
    m = mk(1);
    ck_assert_uint_lt(m->sh[0].tbl->log2, MAP_DRIFT_EIGHTH_LOG2);
    ck_assert_uint_eq(m->sh[0].drift_shift, MAP_DRIFT_SHIFT);
    goconc_map_free(m);

    /* Over 30% full, a small table doubles instead (drift_grows):
     * the same kills per shard then wait in twice the buckets.  A table
     * above MAP_DRIFT_GROW_LOG2 keeps its size. */
    for (i = 0; i < 2; i++) {
        uint64_t nk = i == 0 ? 200 : (uint64_t)MAP_SLOTS << (MAP_DRIFT_GROW_LOG2 + 1) >> 1;
        m = mk(1);
        for (k = 0; k < nk; k++)
            store_u64(m, k, k);
        finish(m);
        log2 = m->sh[0].tbl->log2;
        ck_assert_uint_eq(log2 <= MAP_DRIFT_GROW_LOG2, i == 0);
        ck_assert_uint_eq(m->sh[0].drift_shift,
                          i == 0 ? MAP_DRIFT_SHIFT_SMALL : MAP_DRIFT_SHIFT);
        ck_assert_uint_gt((size_t)goconc_map_len(m) * 10, (size_t)3 * MAP_SLOTS << log2);
        grows = stats(m).grows;
        drift_rehash(m, 0);
        ck_assert_uint_eq(m->sh[0].tbl->log2, log2 + (i == 0));
        ck_assert_uint_eq(stats(m).grows, grows + (i == 0));
        ck_assert_uint_eq(check_chains(m, 0), nk);
        goconc_map_free(m);
        barrier();
    }
}
END_TEST

/*
 * A DEAD slot is reused once its own kill's grace period has passed
 * (slot.h, map_dead_expired): a later kill in the same bucket does not
 * hold it back, and a slot still pending is never reused.  Three keys
 * share home bucket 0; one overwrite there and nine in buckets of their
 * own make ten kills, a grace token at the last write's end, which the
 * barrier runs.  Then, inside a read section (every new kill pending),
 * three more overwrites fill the bucket, the next reuses the expired
 * slot and stays home, and the one after finds nothing expired and moves
 * one bucket on.  Not in the tiny-shard build, whose shards rehash every
 * few writes.
 */
START_TEST(test_slot_stamps)
{
    enum { NK = 3, NO = 9 };
    goconc_map *m;
    uint64_t keys[NK], other[NO], k, v, used = 1; /* bucket 0 is the keys' */
    size_t i, n, mask;
    uint32_t g0;

    if (tu_tiny_shards())
        return;
    m = mk_home0(keys, NK);
    mask = m->sh[0].tbl->mask;
    for (n = 0, k = 1; n < NO; k++) {
        size_t b = gc_hash_word(&m->hk, k, 8) & mask;
        if (b < 64 && !(used >> b & 1)) {
            used |= (uint64_t)1 << b;
            other[n++] = k;
        }
    }
    for (i = 0; i < NK; i++)
        store_u64(m, keys[i], i);
    for (i = 0; i < NO; i++)
        store_u64(m, other[i], i);
    g0 = m->sh[0].gen;
    store_u64(m, keys[0], 10);
    for (i = 0; i < NO; i++) {
        if (i == NO - 1)
            m->sh[0].quiet = 0; /* this write's end asks for the token */
        store_u64(m, other[i], 10 + i);
    }
    barrier();
    ck_assert_int_ge((int32_t)((uint32_t)at_load(&m->grace->expired[0]) - g0), 0);

    goconc_read_lock();
    store_u64(m, keys[1], 11);
    store_u64(m, keys[2], 12);
    store_u64(m, keys[0], 20);
    ck_assert_uint_eq(map_empty_slots(at_load(&m->sh[0].tbl->ctrl[0])), 0);
    store_u64(m, keys[1], 21);
    ck_assert_uint_eq(dist_of(m, keys[1]), 0);
    ck_assert_uint_eq(m->sh[0].drift, 0);
    store_u64(m, keys[2], 22);
    ck_assert_uint_eq(dist_of(m, keys[2]), 1);
    ck_assert_uint_eq(m->sh[0].drift, 1);
    goconc_read_unlock();
    finish(m);
    ck_assert_uint_eq(check_chains(m, 0), NK + NO);
    for (i = 0; i < NK; i++) {
        ck_assert_int_eq(load_u64(m, keys[i], &v), GOCONC_OK);
        ck_assert_uint_eq(v, 20 + i);
    }
    goconc_map_free(m);
    barrier();
}
END_TEST

/*
 * map_dead_expired's word arithmetic against a slot-by-slot model: a
 * DEAD slot is expired iff the window is below 128 and its stamp's age
 * (G - stamp) modulo 128 is at least the window.  Stamps near G and
 * random ones, every window from 0 to 140, random DEAD masks; a fixed
 * seed, so every run asserts the same 200,000 cases.
 */
START_TEST(test_dead_expired_model)
{
    static struct map_shard sh;
    struct map_bucket bk;
    struct map_gx gx = { .sh = &sh, .known = 1 };
    uint64_t s = 7, n;

    memset(&bk, 0, sizeof bk);
    for (n = 0; n < 200000; n++) {
        uint64_t r = tu_rand(&s), st = 0, dd = 0, want = 0;
        unsigned i;

        sh.gen = (uint32_t)r;
        gx.window = (uint32_t)(n % 141);
        for (i = 0; i < 8; i++) {
            uint64_t b = tu_rand(&s);
            unsigned stamp = (unsigned)(b & 1 ? sh.gen - (b >> 8) % 300 : b >> 8) & 0xFF;
            st |= (uint64_t)stamp << (8 * i);
            if (i < MAP_SLOTS && (b >> 1 & 1)) {
                dd |= (uint64_t)0x80 << (8 * i);
                if (gx.window < 128 && ((sh.gen - stamp) & 0x7F) >= gx.window)
                    want |= (uint64_t)0x80 << (8 * i);
            }
        }
        at_store(&bk.stamps, st);
        ck_assert_uint_eq(map_dead_expired(&gx, &bk, dd), want);
    }
}
END_TEST

/*
 * A thread that only overwrites inline values retires nothing but grace
 * tokens, one per 8-64 kills of a shard; each counts as its kills /
 * MAP_GRACE_WEIGHT retires toward the epoch's next advance (gc_weigh),
 * so DEAD slots come back after a few hundred kills.  Counted once each,
 * the 65,536 kills here over 64 shards gave 20 advances (106 now; the
 * bound asks 64).  Alone in the process, every advance gc_poll tries
 * succeeds.
 */
static uintptr_t epoch_now(void)
{
    return __atomic_load_n(&goconc_gp.ctr, __ATOMIC_RELAXED) >> GOCONC_READER_NEST_BITS;
}

START_TEST(test_kills_advance_epoch)
{
    enum { NK = 8192, ROUNDS = 8, EVERY = 64 /* reclaim: ADVANCE_EVERY */ };
    goconc_map *m = mk(64);
    uint64_t k, r;
    uintptr_t e0;

    ck_assert_int_eq(goconc_map_reserve(m, 4 * NK), GOCONC_OK);
    finish(m);
    for (k = 0; k < NK; k++)
        store_u64(m, k, k);
    e0 = epoch_now();
    for (r = 1; r <= ROUNDS; r++)
        for (k = 0; k < NK; k++)
            store_u64(m, k, r);
    /* A token of 8-15 kills weighs 1, of more kills / 8: at least one
     * advance per 2 * 8 * 64 kills. */
    ck_assert_uint_ge(epoch_now() - e0,
                      (size_t)NK * ROUNDS / (2 * MAP_GRACE_WEIGHT * EVERY));
    ck_assert_uint_eq(goconc_map_len(m), NK);
    goconc_map_free(m);
}
END_TEST

/* Whether the page at p is mapped (mincore answers ENOMEM when not). */
static int mapped(const void *p)
{
    unsigned char vec;
    return mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), 1, &vec) == 0;
}

/*
 * Under the default allocator, tables of 256 KiB and more are mapped
 * directly, and a new one takes the pages of big tables freed before
 * (src/core/alloc.c), so it is not zero: ZEROING must clear what the old
 * table left.  The values change between the tables that leave their
 * pages and the ones that take them, so a stale entry would show.  Then
 * shrink, reserve and clear through such tables (in -Dhugepages=true
 * builds, fresh ones on huge pages skip ZEROING); the counting allocator
 * of the other tests never takes this path.
 */
START_TEST(test_mapped_tables)
{
    goconc_map *m;
    uint64_t k, v;
    const uint64_t n = 240000; /* 4 shards: tables of 2^14 buckets, 2.2 MiB */
    const uint64_t n1 = 100000; /* 2^13 buckets, after 2^12 ones (557 KiB) */
    void *raw[4];
    unsigned taken = 0;

    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    m = mk(4);
    for (k = 0; k < n1; k++)
        store_u64(m, k, ~k);
    finish(m);
    ck_assert_uint_eq(stats(m).buckets, 4u << 13);
    barrier(); /* the 2^12 tables are freed: their pages are kept */
    for (k = 0; k < n1; k++)
        store_u64(m, k, k + 1);
    for (k = n1; k < n; k++) /* grow to 2^14 */
        store_u64(m, k, ~k);
    finish(m);
    ck_assert_uint_ge(stats(m).buckets, 4u << 14);
    for (k = 0; k < 4; k++) {
        ck_assert_uint_eq(m->sh[k].tbl->how & GC_BIG_MAPPED, GC_BIG_MAPPED);
        taken += !(m->sh[k].tbl->how & GC_BIG_ZERO);
    }
    ck_assert_uint_ge(taken, 1);
    for (k = 0; k < n; k++) {
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
        ck_assert_uint_eq(v, (k < n1 ? k + 1 : ~k));
        store_u64(m, k, ~k);
    }
    for (k = 1000; k < n; k++)
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    finish(m);
    ck_assert_uint_lt(stats(m).buckets, 4u << 14);
    ck_assert_int_eq(goconc_map_reserve(m, n), GOCONC_OK);
    finish(m);
    ck_assert_uint_ge(stats(m).buckets, 4u << 14);
    for (k = 0; k < n; k++) {
        v = k;
        ck_assert_int_eq(load_u64(m, k, &v), k < 1000 ? GOCONC_OK : GOCONC_NOTFOUND);
        if (k < 1000)
            ck_assert_uint_eq(v, ~k);
        else
            store_u64(m, k, k);
    }
    ck_assert_uint_eq(goconc_map_len(m), n);
    for (k = 0; k < 4; k++) {
        raw[k] = m->sh[k].tbl->raw;
        ck_assert(mapped(raw[k]));
    }
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    goconc_map_free(m);
    barrier();
    /* No big block in use: none is kept either. */
    for (k = 0; k < 4; k++)
        ck_assert(!mapped(raw[k]));
    tu_alloc_install();
}
END_TEST

/*
 * Which kept block a new big table takes (src/core/alloc.c, default
 * allocator): the shortest that covers it, else the longest (its head
 * moved onto the fresh mapping); a longer one gives back its tail.  At
 * most BIG_KEEP (4) blocks are kept, the shortest dropped first, and only
 * while they are at most a quarter of the big bytes in use: `anchor`
 * keeps enough in use.  A kept block is gone from its old address once
 * taken (mremap) or dropped (munmap); every table that took one reads
 * empty although the map that left it was full.
 */
static goconc_map *mk_hint(size_t hint)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m = NULL;
    o.shards = 1;
    o.seed = 0x1234567;
    o.capacity_hint = hint;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    ck_assert_uint_eq(m->sh[0].tbl->how & GC_BIG_MAPPED, GC_BIG_MAPPED);
    return m;
}

/* A map from kept pages: not born zero, yet empty; then usable. */
static void expect_fresh(goconc_map *m, uint64_t stale_keys)
{
    uint64_t k, v;
    ck_assert_uint_eq(m->sh[0].tbl->how & GC_BIG_ZERO, 0);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    for (k = 0; k < stale_keys; k++)
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_NOTFOUND);
    for (k = 0; k < 1000; k++)
        store_u64(m, k, ~k);
    for (k = 0; k < 1000; k++) {
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
        ck_assert_uint_eq(v, ~k);
    }
}

START_TEST(test_mapped_tables_kept)
{
    /* Tiny-shard tables rehash every few writes: which block is kept
     * for whom is the default build's to check. */
    if (tu_tiny_shards())
        return;
    /* Tables of 2^11 .. 2^15 buckets (about 290 KiB .. 4.6 MiB). */
    const size_t hint[5] = { 4u << 11, 4u << 12, 4u << 13, 4u << 14, 4u << 15 };
    goconc_map *anchor, *m[5], *n[3];
    void *raw[5];
    uint64_t k;
    unsigned i;

    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    anchor = mk_hint(4u << 18); /* ~37 MiB in use */
    for (i = 0; i < 5; i++) {
        m[i] = mk_hint(hint[i]);
        raw[i] = m[i]->sh[0].tbl->raw;
        for (k = 0; k < 2000; k++)
            store_u64(m[i], k, k + i);
    }
    for (i = 0; i < 5; i++) {
        goconc_map_free(m[i]);
        barrier();
    }
    /* Five freed: the shortest went. */
    ck_assert(!mapped(raw[0]));
    for (i = 1; i < 5; i++)
        ck_assert(mapped(raw[i]));
    /* An exact fit takes its own size. */
    n[0] = mk_hint(hint[2]);
    ck_assert(!mapped(raw[2]) && mapped(raw[1]) && mapped(raw[3]) && mapped(raw[4]));
    expect_fresh(n[0], 2000);
    /* Bigger than all kept: the longest. */
    n[1] = mk_hint(hint[4] * 2);
    ck_assert(!mapped(raw[4]) && mapped(raw[1]) && mapped(raw[3]));
    expect_fresh(n[1], 2000);
    /* Smaller than all kept: the shortest that covers, its tail unmapped. */
    n[2] = mk_hint(hint[0]);
    ck_assert(!mapped(raw[1]) && mapped(raw[3]));
    expect_fresh(n[2], 2000);
    for (i = 0; i < 3; i++)
        goconc_map_free(n[i]);
    goconc_map_free(anchor);
    barrier();
    /* No big block in use: none kept. */
    ck_assert(!mapped(raw[3]));
    tu_alloc_install();
}
END_TEST

START_TEST(test_reserve_maintain)
{
    goconc_map *m = mk(8);
    goconc_map_stats st;
    uint64_t k, grows;
    size_t moved = 0, total = 0;

    for (k = 0; k < 100; k++)
        store_u64(m, k, k);
    ck_assert_int_eq(goconc_map_reserve(m, 50000), GOCONC_OK);
    ck_assert_int_eq(goconc_map_reserve(m, 0), GOCONC_OK);
    /* maintain advances by at most max_buckets units per call. */
    ck_assert_int_eq(goconc_map_maintain(m, 0, &moved), GOCONC_OK);
    ck_assert_uint_eq(moved, 0);
    do {
        ck_assert_int_eq(goconc_map_maintain(m, 3, &moved), GOCONC_OK);
        ck_assert_uint_le(moved, 3);
        total += moved;
    } while (moved);
    ck_assert_uint_gt(total, 0);
    st = stats(m);
    ck_assert_uint_eq(st.shards_migrating, 0);
    ck_assert_uint_ge(st.buckets * MAP_SLOTS * 4 / 5, 50000);
    grows = st.grows;
    for (k = 0; k < 50000; k++)
        store_u64(m, k, k);
    ck_assert_uint_eq(stats(m).grows, grows); /* reserved: no more growth */
    /* Deleting does not shrink below the reservation. */
    for (k = 0; k < 50000; k++)
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    finish(m);
    st = stats(m);
    ck_assert_uint_ge(st.buckets * MAP_SLOTS * 4 / 5, 50000);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* Readers see every key at every step of a migration: one unit at a
 * time through ZEROING and MOVING, white-box. */
START_TEST(test_migration_steps)
{
    goconc_map *m = mk(1);
    struct goconc_map *mm = m;
    uint64_t k, v, n = 0, steps = 0;
    size_t moved;
    int saw_zeroing = 0, saw_moving = 0;

    /* Fill until a migration starts. */
    while (at_load(&mm->sh[0].phase) == MAP_STABLE || n < 200)
        store_u64(m, n, n * 7), n++;
    do {
        unsigned ph = (unsigned)at_load(&mm->sh[0].phase);
        saw_zeroing |= ph == MAP_ZEROING;
        saw_moving |= ph == MAP_MOVING;
        for (k = 0; k < n; k++) {
            ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
            ck_assert_uint_eq(v, k * 7);
        }
        ck_assert_int_eq(load_u64(m, n + 5, &v), GOCONC_NOTFOUND);
        ck_assert_int_eq(goconc_map_maintain(m, 1, &moved), GOCONC_OK);
        steps++;
    } while (moved);
    ck_assert(saw_zeroing || saw_moving);
    ck_assert_uint_gt(steps, 2);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* Writes ask map_mig_due (cached bounds) before sizing a target: it
 * must say yes whenever a grow condition of map_mig_target holds
 * (doc/map.md: over 80% live, over 15/16 used, below the reserved size).
 * Its shrink bound may only be lower than 1/8 (where no smaller table
 * fits), and is 0 at the reserved size; that shrinks still happen is
 * test_grow_shrink's check.  White-box, through grow, shrink and reserve. */
/* DEAD slots of t, counted from its control words. */
static size_t count_dead(const struct map_table *t)
{
    size_t b, n = 0;
    for (b = 0; b <= t->mask; b++) {
        uint64_t ctrl = at_load(&t->ctrl[b]);
        n += (size_t)__builtin_popcountll((ctrl << 7) & ~ctrl & MAP_HIGH7);
    }
    return n;
}

static void check_due(struct goconc_map *m)
{
    unsigned i;
    for (i = 0; i < m->nshards; i++) {
        struct map_shard *sh = &m->sh[i];
        size_t live = at_load(&sh->len), cap = (size_t)MAP_SLOTS << sh->tbl->log2;
        int want = live * 5 > cap * 4 || (live + sh->dead_t) * 16 > cap * 15 ||
                   sh->tbl->log2 < sh->min_log2;
        /* The count the bounds use is the table's (kills, recycling). */
        if (at_load(&sh->phase) == MAP_STABLE)
            ck_assert_uint_eq(sh->dead_t, count_dead(sh->tbl));
        /* The fast case's quiet writes (write.c, end_quiet): each may
         * add one entry or one kill without asking end_due, so none may
         * be left where that many would cross a bound or batch too many
         * kills behind a token. */
        if (sh->quiet != 0) {
            ck_assert(at_load(&sh->phase) == MAP_STABLE && !map_mig_due(sh));
            ck_assert_uint_le(sh->quiet, sh->grow_live - live);
            ck_assert_uint_le(sh->quiet, sh->grow_used - live - sh->dead_t);
            ck_assert_uint_le(sh->quiet + sh->kills, MAP_GRACE_BATCH - 1);
        }
        ck_assert_uint_le(sh->kills, MAP_GRACE_BATCH);
        if (at_load(&sh->phase) != MAP_STABLE)
            continue;
        ck_assert_msg(!want || map_mig_due(sh), "shard %u: len %zu dead %zu log2 %u not due",
                      i, live, sh->dead_t, sh->tbl->log2);
        ck_assert(sh->shrink_live <= (cap + 7) / 8 || sh->shrink_live == SIZE_MAX);
        if (sh->tbl->log2 <= sh->min_log2)
            ck_assert(sh->shrink_live == 0 || sh->shrink_live == SIZE_MAX);
    }
}

/* update's function: store the word at ctx. */
static int upd_set(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                   size_t *nl)
{
    (void)old;
    (void)oldlen;
    (void)found;
    *nv = ctx;
    *nl = sizeof(uint64_t);
    return GOCONC_UPDATE_STORE;
}

/*
 * The migration cap (doc/map.md, "Cap"): with every key's shard chosen by
 * a uniform hash, the shards reach their grow points together, and at
 * most MAP_MIG_CAP of them may migrate at once.  Counts the migrating
 * shards into *n after checking that each holds the m->mig slot that
 * names it and every taken slot names a migrating shard; 0, or -1 with
 * the broken rule in why[].  A shard may pass over the cap only when a
 * key finds no free slot in its whole table (a forced migration, slot
 * -1); counted in *forced.  No assertion here: the threaded test calls it
 * off the test's thread.
 */
static int migrating(goconc_map *m, unsigned *n, unsigned *forced, char why[128])
{
    unsigned s, i;

    *n = 0;
    for (i = 0; i < m->mig_cap; i++) {
        size_t v = at_load(&m->mig[i]);
        if (v != 0 && (v > m->nshards || m->sh[v - 1].slot != (int)i ||
                       at_load(&m->sh[v - 1].phase) == MAP_STABLE)) {
            snprintf(why, 128, "slot %u names shard %zu, which does not hold it", i, v - 1);
            return -1;
        }
    }
    for (s = 0; s < m->nshards; s++) {
        int stable = at_load(&m->sh[s].phase) == MAP_STABLE;
        if (stable && m->sh[s].slot != -1) {
            snprintf(why, 128, "stable shard %u holds slot %d", s, m->sh[s].slot);
            return -1;
        }
        if (!stable && m->sh[s].slot < 0)
            ++*forced;
        else
            *n += !stable;
    }
    if (*n > m->mig_cap) {
        snprintf(why, 128, "%u shards migrate, cap %u", *n, m->mig_cap);
        return -1;
    }
    return 0;
}

START_TEST(test_mig_cap)
{
    enum { N = 60000 };
    goconc_map *m = mk(0);
    unsigned most = 0, forced = 0, n;
    uint64_t k;

    ck_assert_uint_eq(m->mig_cap, MAP_MIG_CAP(m->nshards));
    ck_assert_uint_lt(m->mig_cap, m->nshards);
    for (k = 0; k < N; k++) {
        char why[128];
        store_u64(m, k, k);
        ck_assert_msg(migrating(m, &n, &forced, why) == 0, "after %" PRIu64 " stores: %s", k + 1,
                      why);
        most = n > most ? n : most;
    }
    /* The cap was reached and every shard grew; none passed over it: a
     * table past 80% still has room while its shard waits.  Test builds
     * migrate one unit a write and one shard at a time, so there shards
     * do fill up and take the forced path. */
    ck_assert_uint_eq(most, m->mig_cap);
    if (tu_tiny_shards())
        ck_assert_uint_gt(forced, 0);
    else
        ck_assert_uint_eq(forced, 0);
    for (k = 0; k < m->nshards; k++)
        ck_assert_uint_ge(at_load(&m->sh[k].grows), 4);
    for (k = 0; k < N; k += 997) {
        uint64_t v;
        ck_assert_int_eq(load_u64(m, k, &v), GOCONC_OK);
        ck_assert_uint_eq(v, k);
    }
    goconc_map_free(m);
}
END_TEST

/*
 * The cap while threads race for the last slot (claim_slot's compare-and-
 * swap, release_slot's store): writers store distinct keys while a
 * checker, holding every shard's lock so that no slot is taken or given
 * back meanwhile, applies migrating()'s rules.  A write waits for one
 * shard lock at a time and helps other shards by try-lock only, so
 * taking all of them in index order cannot deadlock.
 */
enum { CAP_WRITERS = 4, CAP_KEYS = 30000 };

struct cap_run {
    goconc_map *m;
    atword done;       /* writers finished */
    int rc[CAP_WRITERS];
    unsigned checks, most, forced;
    int bad;           /* migrating()'s result at the first broken rule */
    char why[128];
};

struct cap_writer {
    struct cap_run *run;
    unsigned id;
};

static void *cap_write(void *p)
{
    struct cap_writer *w = p;
    uint64_t k, base = (uint64_t)w->id * CAP_KEYS;
    int rc = GOCONC_OK;

    for (k = base; k < base + CAP_KEYS && rc == GOCONC_OK; k++)
        rc = goconc_map_store(w->run->m, &k, 8, &k, 8);
    w->run->rc[w->id] = rc;
    (void)at_fetch_add(&w->run->done, 1);
    return NULL;
}

/* One look at every shard with all their locks held. */
static int cap_look(struct cap_run *r)
{
    goconc_map *m = r->m;
    uintptr_t me = gc_thread_id();
    unsigned s, n;
    int rc;

    for (s = 0; s < m->nshards; s++)
        while (!map_trylock(&m->sh[s], me)) /* map_lock's wait is not exported */
            sched_yield();
    rc = migrating(m, &n, &r->forced, r->why);
    for (s = m->nshards; s-- > 0;)
        map_unlock(&m->sh[s]);
    r->checks++;
    r->most = n > r->most ? n : r->most;
    return rc;
}

/* Looks spaced out: writers waiting for a lock back off, and a checker
 * that took every lock again at once would keep them waiting. */
static void *cap_check(void *p)
{
    struct cap_run *r = p;
    const struct timespec gap = { 0, 20000 };
    do {
        r->bad = cap_look(r);
        nanosleep(&gap, NULL);
    } while (r->bad == 0 && at_load(&r->done) < CAP_WRITERS);
    return NULL;
}

START_TEST(test_mig_cap_threads)
{
    struct cap_run run = { .m = mk(0) };
    struct cap_writer w[CAP_WRITERS];
    pthread_t wt[CAP_WRITERS], ct;
    uint64_t k, v;
    unsigned i;

    ck_assert_int_eq(pthread_create(&ct, NULL, cap_check, &run), 0);
    for (i = 0; i < CAP_WRITERS; i++) {
        w[i] = (struct cap_writer){ &run, i };
        ck_assert_int_eq(pthread_create(&wt[i], NULL, cap_write, &w[i]), 0);
    }
    for (i = 0; i < CAP_WRITERS; i++)
        ck_assert_int_eq(pthread_join(wt[i], NULL), 0);
    ck_assert_int_eq(pthread_join(ct, NULL), 0);
    ck_assert_msg(run.bad == 0, "look %u: %s", run.checks, run.why);
    ck_assert_msg(cap_look(&run) == 0, "after the writers: %s", run.why);
    printf("test_mig_cap_threads %d: %u looks, at most %u of cap %u migrating, "
           "%u forced (summed over looks)\n",
           _i, run.checks, run.most, run.m->mig_cap, run.forced);
    for (i = 0; i < CAP_WRITERS; i++)
        ck_assert_int_eq(run.rc[i], GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(run.m), (size_t)CAP_WRITERS * CAP_KEYS);
    for (k = 0; k < (uint64_t)CAP_WRITERS * CAP_KEYS; k += 499) {
        ck_assert_int_eq(load_u64(run.m, k, &v), GOCONC_OK);
        ck_assert_uint_eq(v, k);
    }
    goconc_map_free(run.m);
}
END_TEST

START_TEST(test_migration_due)
{
    goconc_map *m = mk(2);
    uint64_t k, round;
    size_t shrinkable = 0;

    for (round = 0; round < 3; round++) {
        uint64_t n = 3000 << round;
        for (k = 0; k < n; k++) {
            store_u64(m, k, k);
            check_due(m);
        }
        /* Kills: the fast case's overwrites, by store, update (stored, or
         * kept after the fast case recycled DEAD slots) and swap. */
        for (k = 0; k < 4 * n; k++) {
            uint64_t key = k % n, old;
            size_t ol;
            switch (k % 5) {
            case 2:
                ck_assert_int_eq(goconc_map_update(m, &key, 8, upd_set, &k), GOCONC_OK);
                break;
            case 3:
                ck_assert_int_eq(goconc_map_update(m, &key, 8, upd_keep, NULL), GOCONC_OK);
                break;
            case 4:
                ck_assert_int_eq(goconc_map_swap(m, &key, 8, &k, 8, &old, sizeof old, &ol),
                                 GOCONC_OK);
                break;
            default:
                store_u64(m, key, k);
            }
            check_due(m);
        }
        if (round == 1) {
            ck_assert_int_eq(goconc_map_reserve(m, 4 * n), GOCONC_OK);
            check_due(m);
        }
        for (k = 0; k < n; k++) {
            ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
            check_due(m);
            shrinkable += m->sh[0].shrink_live > 0 && m->sh[0].shrink_live != SIZE_MAX;
        }
        finish(m);
        check_due(m);
    }
    ck_assert_uint_gt(shrinkable, 0); /* the shrink bound was exercised */
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    check_due(m);
    goconc_map_free(m);
    barrier();
}
END_TEST

/* ------------------------------------------------------- clear, stats */

START_TEST(test_clear)
{
    goconc_map *m = mk_opts(4, track_drop, &drop_ctx);
    uint64_t k, v;

    drop_reset();
    for (k = 0; k < 1000; k++) {
        v = k << 8;
        ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, 8), GOCONC_OK);
    }
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    ck_assert_uint_eq(goconc_map_len(m), 0);
    for (k = 0; k < 1000; k++)
        ck_assert_int_eq(goconc_map_load(m, &k, 8, NULL, 0, NULL), GOCONC_NOTFOUND);
    barrier();
    ck_assert_int_eq(drop_bad, 0);
    ck_assert_int_eq(drop_total, 1000);
    for (k = 0; k < 1000; k++)
        ck_assert_int_eq(drops[k], 1);
    /* Usable afterwards, and clear of an empty map is fine. */
    for (k = 0; k < 100; k++) {
        v = k << 8 | 1;
        ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, 8), GOCONC_OK);
    }
    ck_assert_uint_eq(goconc_map_len(m), 100);
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    ck_assert_int_eq(goconc_map_clear(m), GOCONC_OK);
    goconc_map_free(m);
    barrier();
    ck_assert_int_eq(drop_total, 1100);
}
END_TEST

/* A counting allocator that knows sizes, for stats.bytes. */
static long long cnt_bytes;
static void *cnt_alloc(void *ctx, size_t size)
{
    size_t *p = malloc(size + 16);
    (void)ctx;
    if (!p)
        return NULL;
    p[0] = size;
    __atomic_fetch_add(&cnt_bytes, (long long)size, __ATOMIC_RELAXED);
    return (char *)p + 16;
}
static void cnt_free(void *ctx, void *ptr)
{
    size_t *p;
    (void)ctx;
    if (!ptr)
        return;
    p = (size_t *)((char *)ptr - 16);
    __atomic_fetch_sub(&cnt_bytes, (long long)p[0], __ATOMIC_RELAXED);
    free(p);
}

START_TEST(test_stats)
{
    goconc_allocator a = { sizeof a, cnt_alloc, cnt_free, NULL };
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    struct {
        goconc_map_stats st;
        uint64_t extra[2];
    } big;
    goconc_map *m;
    unsigned char val[40];
    long long before;
    uint64_t k;

    /* Any live map keeps the allocator; this test uses its own. */
    barrier();
    ck_assert_int_eq(goconc_set_allocator(&a), GOCONC_OK);
    barrier();
    before = __atomic_load_n(&cnt_bytes, __ATOMIC_RELAXED);
    m = mk(16);
    memset(val, 1, sizeof val);
    for (k = 0; k < 20000; k++) {
        if (k % 4 == 0)
            ck_assert_int_eq(goconc_map_store(m, &k, 8, val, sizeof val), GOCONC_OK);
        else
            store_u64(m, k, k);
    }
    for (k = 0; k < 20000; k += 3)
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
    barrier();
    st = stats(m);
    ck_assert_uint_eq(st.len, goconc_map_len(m));
    ck_assert_uint_eq(st.shards, 16);
    ck_assert_uint_gt(st.buckets, 20000 / MAP_SLOTS / 2);
    /* stats.bytes: what the map holds, as the allocator counts it (the
     * reclamation core's own chunks excepted: a few KB). */
    {
        long long live = __atomic_load_n(&cnt_bytes, __ATOMIC_RELAXED) - before;
        long long diff = live - (long long)st.bytes;
        ck_assert_msg(diff > -1024 && diff < 16384, "bytes %zu, allocator says %lld",
                      st.bytes, live);
    }
    /* struct_size rules: too small EINVAL, larger with a zero tail ok
     * (tail untouched), non-zero tail EINVAL. */
    memset(&big, 0, sizeof big);
    big.st.struct_size = sizeof big;
    ck_assert_int_eq(goconc_map_stats_get(m, &big.st), GOCONC_OK);
    ck_assert_uint_eq(big.st.len, st.len);
    ck_assert_uint_eq(big.extra[0], 0);
    big.extra[1] = 5;
    ck_assert_int_eq(goconc_map_stats_get(m, &big.st), GOCONC_EINVAL);
    goconc_map_free(m);
    barrier();
    ck_assert_int_eq(goconc_set_allocator(NULL), GOCONC_OK);
    tu_alloc_install();
}
END_TEST

/* ------------------------------------------------------------- on_drop */

START_TEST(test_on_drop)
{
    goconc_map *m = mk_opts(4, track_drop, &drop_ctx);
    unsigned char out[16];
    uint64_t k, v;
    size_t n;
    long expect = 0;

    drop_reset();
    /* Replaced values, deleted values, swapped, CAS'd, updated: each
     * dropped exactly once, never while a reader could still see it. */
    goconc_read_lock();
    for (k = 0; k < 200; k++) {
        v = k << 8;
        ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, 8), GOCONC_OK);
        v |= 1;
        ck_assert_int_eq(goconc_map_store(m, &k, 8, &v, 8), GOCONC_OK); /* drops gen 0 */
        expect++;
    }
    ck_assert_int_eq(goconc_barrier(), GOCONC_EDEADLK);
    ck_assert_int_eq(__atomic_load_n(&drop_total, __ATOMIC_RELAXED), 0); /* we are reading */
    goconc_read_unlock();
    for (k = 0; k < 200; k += 4) {
        ck_assert_int_eq(goconc_map_delete(m, &k, 8), GOCONC_OK);
        expect++;
    }
    for (k = 1; k < 200; k += 4) {
        v = k << 8 | 2;
        ck_assert_int_eq(goconc_map_swap(m, &k, 8, &v, 8, out, sizeof out, &n), GOCONC_OK);
        expect++;
    }
    for (k = 2; k < 200; k += 4) {
        uint64_t old = k << 8 | 1;
        v = k << 8 | 3;
        ck_assert_int_eq(goconc_map_compare_and_swap(m, &k, 8, &old, 8, &v, 8), GOCONC_OK);
        expect++;
    }
    for (k = 3; k < 200; k += 4) {
        ck_assert_int_eq(goconc_map_load_and_delete(m, &k, 8, out, sizeof out, &n), GOCONC_OK);
        expect++;
    }
    barrier();
    ck_assert_int_eq(drop_bad, 0);
    ck_assert_int_eq(drop_total, expect);
    /* What is left is dropped at free. */
    expect += (long)goconc_map_len(m);
    goconc_map_free(m);
    barrier();
    ck_assert_int_eq(drop_bad, 0);
    ck_assert_int_eq(drop_total, expect);
    for (k = 0; k < 200; k++)
        ck_assert_int_eq(drops[k], k % 4 == 0 || k % 4 == 3 ? 2 : 3);
}
END_TEST

/* Long values with on_drop (out-of-line entries carry their drop). */
static long long_drops;
static void long_drop(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx;
    (void)k;
    (void)v;
    if (kl == 20 && vl == 100)
        __atomic_fetch_add(&long_drops, 1, __ATOMIC_RELAXED);
}

START_TEST(test_on_drop_long)
{
    goconc_map *m = mk_opts(2, long_drop, NULL);
    unsigned char kb[20], vb[100];
    uint64_t i;

    for (i = 0; i < 500; i++) {
        key_of(i, 20, kb);
        val_of(i, 100, vb);
        ck_assert_int_eq(goconc_map_store(m, kb, 20, vb, 100), GOCONC_OK);
        ck_assert_int_eq(goconc_map_store(m, kb, 20, vb, 100), GOCONC_OK);
    }
    for (i = 0; i < 500; i += 2) {
        key_of(i, 20, kb);
        ck_assert_int_eq(goconc_map_delete(m, kb, 20), GOCONC_OK);
    }
    goconc_map_free(m);
    barrier();
    ck_assert_int_eq(long_drops, 1000);
}
END_TEST

/* ----------------------------------------------- allocation failures */

/* The whole content of a small map, for "unchanged" checks. */
struct snap {
    size_t len;
    uint64_t sum;
};

static int snap_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct snap *s = ctx;
    size_t i;
    s->len++;
    for (i = 0; i < kl; i++)
        s->sum = s->sum * 1099511628211ull + ((const unsigned char *)k)[i] + 1;
    s->sum = s->sum * 31 + kl;
    for (i = 0; i < vl; i++)
        s->sum += ((const unsigned char *)v)[i] * (i + 7) * (kl + 3);
    s->sum += vl * 1000003;
    return 0;
}

/* Order-independent digest: range order may differ between tables. */
static int snap_visit_xor(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct snap one = { 0, 0 }, *s = ctx;
    snap_visit(&one, k, kl, v, vl);
    s->len++;
    s->sum += one.sum * 0x9e3779b97f4a7c15ull; /* commutative */
    return 0;
}

static struct snap snapshot(goconc_map *m)
{
    struct snap s = { 0, 0 };
    ck_assert_int_eq(goconc_map_range(m, snap_visit_xor, &s), GOCONC_OK);
    ck_assert_uint_eq(s.len, goconc_map_len(m));
    return s;
}

static void snap_eq(struct snap a, struct snap b)
{
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_uint_eq(a.sum, b.sum);
}

/* Fill m with n entries (mixed inline/long) with key ids [base, base+n). */
static void fill(goconc_map *m, uint64_t base, uint64_t n)
{
    unsigned char kb[24], vb[80];
    uint64_t i;
    for (i = base; i < base + n; i++) {
        size_t kl = i % 5 == 0 ? 24 : 8, vl = i % 3 == 0 ? 64 : 8;
        key_of(i, kl, kb);
        val_of(i, vl, vb);
        ck_assert_int_eq(goconc_map_store(m, kb, kl, vb, vl), GOCONC_OK);
    }
}

/*
 * Run op(m, arg) with the Nth allocation failing for N = 0, 1, 2, ...
 * until it succeeds: each failure must be ENOMEM with the map unchanged
 * and usable.  Returns how many failures were seen.
 */
typedef int (*sweep_op)(goconc_map *m, uint64_t arg);

static int sweep(goconc_map *m, sweep_op op, uint64_t arg)
{
    struct snap before = snapshot(m), after;
    long n;
    int rc;
    for (n = 0;; n++) {
        ck_assert_int_lt(n, 10000);
        tu_alloc_fail_after(n);
        rc = op(m, arg);
        tu_alloc_fail_after(-1);
        if (rc != GOCONC_ENOMEM)
            break;
        after = snapshot(m);
        if (after.len != before.len || after.sum != before.sum)
            fprintf(stderr, "sweep: op %p arg %lu changed the map at failure %ld\n",
                    (void *)(uintptr_t)op, (unsigned long)arg, n);
        snap_eq(before, after);
    }
    ck_assert_msg(rc >= 0, "op returned %d after %ld failures", rc, n);
    return (int)n;
}

static int op_store_long(goconc_map *m, uint64_t i)
{
    unsigned char kb[24], vb[80];
    key_of(i, 24, kb);
    val_of(i + 99, 64, vb);
    return goconc_map_store(m, kb, 24, vb, 64);
}

static int op_store_inline(goconc_map *m, uint64_t i)
{
    uint64_t v = (i << 8) | 0x77;
    return goconc_map_store(m, &i, 8, &v, 8);
}

static int op_swap(goconc_map *m, uint64_t i)
{
    unsigned char kb[8], vb[80], out[80];
    size_t n;
    key_of(i, 8, kb);
    val_of(i + 5, 64, vb);
    return goconc_map_swap(m, kb, 8, vb, 64, out, sizeof out, &n);
}

static int op_los(goconc_map *m, uint64_t i)
{
    unsigned char kb[24], vb[80];
    key_of(i, 24, kb);
    val_of(i + 3, 64, vb);
    return goconc_map_load_or_store(m, kb, 24, vb, 64, NULL, 0, NULL);
}

static int op_delete(goconc_map *m, uint64_t i)
{
    unsigned char kb[24];
    size_t kl = i % 5 == 0 ? 24 : 8;
    key_of(i, kl, kb);
    return goconc_map_delete(m, kb, kl);
}

static int op_lad(goconc_map *m, uint64_t i)
{
    unsigned char kb[24], out[64];
    size_t kl = i % 5 == 0 ? 24 : 8, n;
    key_of(i, kl, kb);
    return goconc_map_load_and_delete(m, kb, kl, out, sizeof out, &n);
}

static int op_cas(goconc_map *m, uint64_t i)
{
    unsigned char kb[24], old[80], nv[80];
    size_t kl = i % 5 == 0 ? 24 : 8, vl = i % 3 == 0 ? 64 : 8;
    key_of(i, kl, kb);
    val_of(i, vl, old);
    val_of(i + 1, 40, nv);
    return goconc_map_compare_and_swap(m, kb, kl, old, vl, nv, 40);
}

static int upd_store_long(void *ctx, const void *old, size_t oldlen, int found,
                          const void **nv, size_t *nl)
{
    static unsigned char v[50];
    (void)old;
    (void)oldlen;
    (void)found;
    memset(v, (int)(uintptr_t)ctx, sizeof v);
    *nv = v;
    *nl = sizeof v;
    return GOCONC_UPDATE_STORE;
}

static int op_update(goconc_map *m, uint64_t i)
{
    unsigned char kb[8];
    key_of(i, 8, kb);
    return goconc_map_update(m, kb, 8, upd_store_long, (void *)(uintptr_t)(i & 0xFF));
}

static int upd_store_inline(void *ctx, const void *old, size_t oldlen, int found,
                            const void **nv, size_t *nl)
{
    static uint64_t v;
    (void)old;
    (void)oldlen;
    (void)found;
    v = (uint64_t)(uintptr_t)ctx;
    *nv = &v;
    *nl = sizeof v;
    return GOCONC_UPDATE_STORE;
}

static int op_update_inline(goconc_map *m, uint64_t i)
{
    return goconc_map_update(m, &i, 8, upd_store_inline, (void *)(uintptr_t)(i * 3));
}

static int op_reserve(goconc_map *m, uint64_t n) { return goconc_map_reserve(m, (size_t)n); }
static int op_clear(goconc_map *m, uint64_t n)
{
    (void)n;
    return goconc_map_clear(m);
}

static void noop_drop(void *c, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)c;
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
}

START_TEST(test_enomem_new)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m = NULL;
    long live, n;
    int rc;

    live = settle();
    o.capacity_hint = 5000;
    o.shards = 8;
    for (n = 0;; n++) {
        tu_alloc_fail_after(n);
        rc = goconc_map_new(&m, &o);
        tu_alloc_fail_after(-1);
        if (rc == GOCONC_OK)
            break;
        ck_assert_int_eq(rc, GOCONC_ENOMEM);
        ck_assert_ptr_null(m);
        ck_assert_int_eq(tu_alloc_live(), live);
    }
    ck_assert_int_gt(n, 5);
    fill(m, 0, 100);
    goconc_map_free(m);
    ck_assert_int_eq(settle(), live);
}
END_TEST

static void sweep_all(goconc_map *m, int with_drop)
{
    uint64_t i;
    int fails = 0;
    /* Inserts that trigger growth (the map starts small), overwrites,
     * deletes, long keys/values, update, reserve, clear. */
    for (i = 0; i < 300; i++) {
        fails += sweep(m, op_store_long, 1000 + i);
        fails += sweep(m, op_store_inline, 3000 + i);
        fails += sweep(m, op_store_inline, i); /* overwrites ids < 300 */
    }
    for (i = 0; i < 100; i++) {
        fails += sweep(m, op_swap, 5 * i + 1);
        fails += sweep(m, op_los, 6000 + i);
        fails += sweep(m, op_cas, 7 * i + 3);
        fails += sweep(m, op_update, 9000 + i);
        fails += sweep(m, op_update, i + 1000);
        fails += sweep(m, op_update_inline, 3000 + i);
        fails += sweep(m, op_delete, 2 * i);
        fails += sweep(m, op_lad, 2 * i + 1000);
    }
    ck_assert_int_gt(fails, 300);
    if (with_drop)
        ck_assert_int_gt(fails, 600);
    fails = sweep(m, op_reserve, 40000);
    ck_assert_int_gt(fails, 0);
    fill(m, 20000, 2000); /* usable, growing into the reservation */
    ck_assert_int_gt(sweep(m, op_clear, 0), 0);
    ck_assert_uint_eq(goconc_map_len(m), 0);
}

START_TEST(test_enomem_ops)
{
    long live;
    goconc_map *m;
    live = settle();
    m = mk(4);
    fill(m, 0, 300);
    sweep_all(m, 0);
    goconc_map_free(m);
    ck_assert_int_eq(settle(), live);
}
END_TEST

START_TEST(test_enomem_ops_drop)
{
    long live;
    goconc_map *m;
    live = settle();
    m = mk_opts(2, noop_drop, NULL);
    fill(m, 0, 300);
    sweep_all(m, 1);
    goconc_map_free(m);
    ck_assert_int_eq(settle(), live);
}
END_TEST

/* A full table that must migrate at once (over the cap, white-box):
 * ENOMEM leaves it full and usable. */
START_TEST(test_enomem_full_table)
{
    goconc_map *m;
    struct goconc_map *mm;
    uint64_t k = 0;
    long live = settle();
    m = mm = mk(1);
    /* Occupy the migration slots (in the name of shard 0 itself, which
     * helping skips) so the shard cannot grow the normal way, then fill
     * its table to the brim. */
    {
        unsigned i;
        for (i = 0; i < mm->mig_cap; i++)
            at_store(&mm->mig[i], 1);
    }
    while (goconc_map_len(m) < MAP_SLOTS * (mm->sh[0].tbl->mask + 1) - 1)
        store_u64(m, k, k), k++;
    ck_assert_int_eq(at_load(&mm->sh[0].phase), MAP_STABLE);
    store_u64(m, k, k), k++; /* the last free slot */
    ck_assert_uint_eq(stats(m).grows, 0);
    ck_assert_int_ge(sweep(m, op_store_inline, 100000), 1);
    ck_assert(at_load(&mm->sh[0].phase) != MAP_STABLE || stats(m).grows == 1);
    {
        unsigned i;
        for (i = 0; i < mm->mig_cap; i++)
            at_store(&mm->mig[i], 0);
    }
    finish(m);
    ck_assert_uint_eq(goconc_map_len(m), k + 1);
    goconc_map_free(m);
    ck_assert_int_eq(settle(), live);
}
END_TEST

/* ---------------------------------------------------------------- hash */

static unsigned popcnt64(uint64_t x) { return (unsigned)__builtin_popcountll(x); }

/*
 * Flip each input bit: each output bit should flip with probability 1/2.
 * Keys of 1 and 2 bytes are enumerated (a random sample would repeat
 * them), longer ones drawn; the bound is 6 standard deviations of an
 * ideal function over as many samples.
 */
static void avalanche(size_t len)
{
    struct gc_hash_key hk;
    unsigned char buf[64];
    uint64_t s = 42, h0, flips[64] = { 0 };
    size_t trials = len == 1 ? 256 : len == 2 ? 65536 : 400, t, bit, j;
    double worst = 0, bound;

    gc_hash_init(&hk, 7);
    for (t = 0; t < trials; t++) {
        for (j = 0; j < len; j++)
            buf[j] = len <= 2 ? (unsigned char)(t >> (8 * j)) : (unsigned char)tu_rand(&s);
        h0 = gc_hash(&hk, buf, len);
        for (bit = 0; bit < len * 8; bit++) {
            uint64_t d;
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            d = gc_hash(&hk, buf, len) ^ h0;
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            for (j = 0; j < 64; j++)
                flips[j] += (d >> j) & 1;
        }
    }
    for (j = 0; j < 64; j++) {
        double p = (double)flips[j] / (double)(trials * len * 8);
        double dev = p > 0.5 ? p - 0.5 : 0.5 - p;
        if (dev > worst)
            worst = dev;
    }
    bound = 6 * 0.5 / __builtin_sqrt((double)(trials * len * 8));
    ck_assert_msg(worst < bound, "len %zu: an output bit flips with p off 0.5 by %.4f (> %.4f)",
                  len, worst, bound);
}

START_TEST(test_hash)
{
    struct gc_hash_key a, b;
    unsigned char buf[300];
    uint64_t s = 1, i, h, low = 0, high = 0;
    size_t len;

    for (len = 1; len <= 8; len++)
        avalanche(len);
    avalanche(12);
    avalanche(16);
    avalanche(24);
    avalanche(57);
    /* Short keys: the inline path and the general entry agree. */
    gc_hash_init(&a, 99);
    gc_hash_init(&b, 100);
    for (len = 0; len < sizeof buf; len++)
        buf[len] = (unsigned char)tu_rand(&s);
    for (len = 0; len <= 200; len++) {
        ck_assert_uint_eq(gc_hash(&a, buf, len), gc_hash_bytes(&a, buf, len));
        ck_assert_uint_ne(gc_hash(&a, buf, len), gc_hash(&b, buf, len)); /* keyed */
        if (len)
            ck_assert_uint_ne(gc_hash(&a, buf, len), gc_hash(&a, buf, len - 1));
    }
    ck_assert_uint_eq(gc_hash_word(&a, gc_key_word(buf, 5), 5), gc_hash(&a, buf, 5));
    /* Sequential integer keys spread over the shard (top) and bucket
     * (low) bits evenly. */
    {
        unsigned top[64] = { 0 }, bottom[64] = { 0 };
        for (i = 0; i < 64000; i++) {
            h = gc_hash(&a, &i, 8);
            top[h >> 58]++;
            bottom[h & 63]++;
            low += popcnt64(h & 0xFFFFFFFF);
            high += popcnt64(h >> 32);
        }
        for (i = 0; i < 64; i++) {
            ck_assert_uint_gt(top[i], 800);
            ck_assert_uint_lt(top[i], 1200);
            ck_assert_uint_gt(bottom[i], 800);
            ck_assert_uint_lt(bottom[i], 1200);
        }
        ck_assert(low > 64000 * 15 && low < 64000 * 17);
        ck_assert(high > 64000 * 15 && high < 64000 * 17);
    }
}
END_TEST

/*
 * No key word can be zeroed out of the hash: with a known seed, keys
 * whose first word makes one factor of a product zero (a ^ k1 == 0) used
 * to collide whatever their other words.  Distinct keys of that shape
 * (16 bytes: the final fold; 32 and 96: the one-lane and three-lane
 * loops, and the other factor zeroed too) must hash apart.
 */
static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t distinct_hashes(const struct gc_hash_key *hk, size_t len, size_t at, uint64_t w,
                              uint64_t *h, size_t n)
{
    unsigned char key[96];
    uint64_t st = 7;
    size_t i, j, d = 1;
    for (i = 0; i < n; i++) {
        for (j = 0; j < len; j++)
            key[j] = (unsigned char)tu_rand(&st);
        memcpy(key + at, &w, 8); /* the word that zeroes a factor */
        h[i] = gc_hash_bytes(hk, key, len);
    }
    qsort(h, n, sizeof *h, cmp_u64);
    for (i = 1; i < n; i++)
        d += h[i] != h[i - 1];
    return d;
}

START_TEST(test_hash_no_vanishing_word)
{
    enum { N = 4096 };
    static uint64_t h[N];
    struct gc_hash_key hk;
    uint64_t seed;

    for (seed = 0; seed < 4; seed++) {
        gc_hash_init(&hk, seed);
        ck_assert_uint_eq(distinct_hashes(&hk, 16, 0, hk.k1, h, N), N);
        ck_assert_uint_eq(distinct_hashes(&hk, 32, 0, hk.k1, h, N), N);
        ck_assert_uint_eq(distinct_hashes(&hk, 96, 16, hk.k2, h, N), N);
        ck_assert_uint_eq(distinct_hashes(&hk, 96, 32, hk.k3, h, N), N);
    }
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_new_options),
        TU_CASE(test_bad_input),
        TU_CASE(test_sizes),
        TU_CASE(test_peek_stable),
        TU_CASE(test_no_peek),
        TU_CASE(test_load_or_store),
        TU_CASE(test_load_and_delete),
        TU_CASE(test_delete),
        TU_CASE(test_swap),
        TU_CASE(test_cas_cad),
        TU_CASE(test_update),
        TU_CASE(test_update_nested),
        TU_CASE(test_range),
        TU_CASE(test_scan),
        TU_CASE(test_scan_stop_progress),
        TU_CASE(test_big_hint_untouched),
        TU_CASE(test_clear_free_reclaim_soon),
        TU_CASE(test_grow_shrink),
        TU_CASE(test_store_paths),
        TU_CASE(test_no_peek_far),
        TU_CASE(test_near_paths),
        TU_CASE(test_tag_writes),
        TU_CASE(test_drift_rehash),
        TU_CASE(test_slot_stamps),
        TU_CASE(test_dead_expired_model),
        TU_CASE(test_kills_advance_epoch),
        TU_CASE(test_mapped_tables),
        TU_CASE(test_mapped_tables_kept),
        TU_CASE(test_null_key_optional_outs),
        TU_CASE(test_reserve_maintain),
        TU_CASE(test_migration_steps),
        TU_CASE(test_migration_due),
        TU_CASE(test_mig_cap),
        TU_LOOP(test_mig_cap_threads, 0, 4),
        TU_CASE(test_clear),
        TU_CASE(test_stats),
        TU_CASE(test_on_drop),
        TU_CASE(test_on_drop_long),
        TU_CASE(test_enomem_new),
        TU_CASE(test_enomem_ops),
        TU_CASE(test_enomem_ops_drop),
        TU_CASE(test_enomem_full_table),
        TU_CASE(test_hash),
        TU_CASE(test_hash_no_vanishing_word),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "map", .timeout = 120);
}
