/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - allocation failures and bad input over the whole public
 * API, table-driven.
 *
 * (a) fault_rows: every call that may allocate, with the Nth allocation
 *     failing for N = 0, 1, 2, ... until the call no longer reaches the
 *     failure, in two modes: sticky (that allocation and every later one
 *     fail) and transient (only that one).  The call must return its
 *     success status or its documented out-of-memory answer (GOCONC_ENOMEM,
 *     or NULL where the function has no status); the objects must still
 *     match a model (a call updates the model only when it succeeds), must
 *     be usable once allocation works again, and once everything is freed
 *     and reclaimed no library block may be left, every map value dropped,
 *     every value object destroyed and every pool object freed exactly once.
 * (b) bad_rows: NULL handles and out pointers, zero, huge and overflowing
 *     lengths, struct_size too small or too large, missing callbacks and
 *     calls made where they would deadlock, each answered with the exact
 *     status documented in the headers (include/goconc) and API.md, with
 *     the objects unchanged and nothing leaked.
 *
 * Both tables run on one fixture (struct fx): the objects a row needs,
 * each with its model.  Each test runs in its own process (Check's fork
 * mode) and on one thread, except the row that tests a thread's first use.
 * FAULTS_ROW=<name> runs one row alone; FAULTS_VERBOSE=1 prints how many
 * allocations each sweep reached.
 *
 * Where a header comment lists a call's statuses without GOCONC_ENOMEM
 * (map delete, clear, maintain, ...), the rows hold the call to API.md's
 * rule for the map instead: a call that fails with ENOMEM leaves the map
 * unchanged.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The test allocator refuses requests above this: "huge" lengths below
 * the overflow limit then fail as on a real machine, quickly. */
#define ALLOC_LIMIT ((size_t)256 << 20)

/* ------------------------------------------------------------ counters */

/* What deferred callbacks did; checked after a tu_settle(). */
static long map_drops;
static int destroyed[8];   /* value objects, by index into objs */
static int objs[8];
static long deferred_runs;
static long pool_created, pool_freed;

static void on_drop(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx, (void)k, (void)kl, (void)v, (void)vl;
    map_drops++;
}

static void value_destroy(void *ctx, void *obj)
{
    (void)ctx;
    destroyed[(int *)obj - objs]++;
}

static void deferred(void *ctx, void *obj)
{
    (void)ctx, (void)obj;
    deferred_runs++;
}

#define TOBJ_MAGIC 0x7a11u
struct tobj { unsigned magic; };

static void *tobj_new(void *ctx)
{
    struct tobj *o = malloc(sizeof *o); /* the user's memory, not counted */
    (void)ctx;
    if (o == NULL)
        abort();
    o->magic = TOBJ_MAGIC;
    pool_created++;
    return o;
}

static void tobj_free(void *ctx, void *obj)
{
    struct tobj *o = obj;
    (void)ctx;
    ck_assert_uint_eq(o->magic, TOBJ_MAGIC);
    o->magic = 0;
    free(o);
    pool_freed++;
}

/* ------------------------------------------------------------- fixture */

#define MAXKV 256
#define SMAX 512

struct kv {
    unsigned char k[24], v[40];
    size_t kl, vl;
};

struct sm {                 /* a slice handle and what it must hold */
    goconc_slice *h;
    int32_t e[SMAX];
    size_t len, cap;
};

struct fx {
    goconc_map *m;
    int drop;               /* m has on_drop */
    struct kv kv[MAXKV];
    size_t nkv;
    long drops_expected;    /* values that left m */

    struct sm s[2];
    goconc_view view;
    int have_view;
    int32_t ve[SMAX];
    size_t vlen;

    goconc_value *v;
    void *vcur;
    int owned[8];           /* objs the value took */
    int forget;             /* the value has no destroy: objects forgotten */
    goconc_value_ref *ref;
    void *refobj;

    goconc_pool *p;
    void *held[128];
    int nheld;

    goconc_once once;
    int once_runs, once_expected;

    long deferred_expected;
    int inner;              /* status seen inside a callback */
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    map_drops = 0;
    memset(destroyed, 0, sizeof destroyed);
    deferred_runs = 0;
    pool_created = pool_freed = 0;
}

/* ----------------------------------------------------------- map model */

/* Key i (unique for i < 2^(8 kl)) and version ver of its value. */
static void kv_make(struct kv *e, size_t i, unsigned ver, size_t kl, size_t vl)
{
    size_t j;
    e->kl = kl;
    e->vl = vl;
    for (j = 0; j < kl; j++)
        e->k[j] = (unsigned char)(j < 8 ? i >> (8 * j) : 'a' + j);
    for (j = 0; j < vl; j++)
        e->v[j] = (unsigned char)(i * 131 + ver * 17 + j);
}

static long model_find(const struct fx *f, const void *k, size_t kl)
{
    size_t i;
    for (i = 0; i < f->nkv; i++)
        if (f->kv[i].kl == kl && memcmp(f->kv[i].k, k, kl) == 0)
            return (long)i;
    return -1;
}

static void model_put(struct fx *f, const struct kv *e)
{
    long i = model_find(f, e->k, e->kl);
    if (i >= 0) {
        f->kv[i] = *e;
        f->drops_expected++;
        return;
    }
    ck_assert_uint_lt(f->nkv, MAXKV);
    f->kv[f->nkv++] = *e;
}

static void model_del(struct fx *f, const void *k, size_t kl)
{
    long i = model_find(f, k, kl);
    ck_assert_int_ge(i, 0);
    f->kv[i] = f->kv[--f->nkv];
    f->drops_expected++;
}

struct visit { const struct fx *f; size_t n, bad; };

static int visit_model(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct visit *c = ctx;
    long i = model_find(c->f, k, kl);
    c->n++;
    if (i < 0 || c->f->kv[i].vl != vl || (vl && memcmp(c->f->kv[i].v, v, vl) != 0))
        c->bad++;
    return 0;
}

/* A digest of one entry; range's entries must add up to the model's. */
static uint64_t entry_digest(const void *k, size_t kl, const void *v, size_t vl)
{
    const unsigned char *p;
    uint64_t h = 0xcbf29ce484222325ull ^ kl ^ ((uint64_t)vl << 32), z;
    size_t i;
    for (p = k, i = 0; i < kl; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
    for (p = v, i = 0; i < vl; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    z = tu_rand(&h);
    return z;
}

struct digest { size_t n; uint64_t sum; };

static int visit_digest(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct digest *d = ctx;
    d->n++;
    d->sum += entry_digest(k, kl, v, vl);
    return 0;
}

/* The map holds exactly the model: every model entry loads, and range
 * visits as many entries as the model has, with the same digest. */
static void check_map(const struct fx *f)
{
    unsigned char buf[64];
    struct digest seen = { 0, 0 };
    uint64_t want = 0;
    size_t i, vl;

    ck_assert_uint_eq(goconc_map_len(f->m), f->nkv);
    for (i = 0; i < f->nkv; i++) {
        const struct kv *e = &f->kv[i];
        vl = 12345;
        ck_assert_int_eq(goconc_map_load(f->m, e->k, e->kl, buf, sizeof buf, &vl), GOCONC_OK);
        ck_assert_uint_eq(vl, e->vl);
        ck_assert_mem_eq(buf, e->v, vl);
        want += entry_digest(e->k, e->kl, e->v, e->vl);
    }
    ck_assert_int_eq(goconc_map_range(f->m, visit_digest, &seen), GOCONC_OK);
    ck_assert_uint_eq(seen.n, f->nkv);
    ck_assert_uint_eq(seen.sum, want);
}

static int map_store_i(struct fx *f, size_t i, unsigned ver, size_t kl, size_t vl)
{
    struct kv e;
    int rc;
    kv_make(&e, i, ver, kl, vl);
    rc = goconc_map_store(f->m, e.k, e.kl, e.v, e.vl);
    if (rc == GOCONC_OK)
        model_put(f, &e);
    return rc;
}

/* A map of 4 shards, seed fixed, with n entries of 16-byte keys and
 * 24-byte values (stored out of line, so stores allocate). */
static void build_map_n(struct fx *f, size_t n, int drop)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    size_t i;
    o.shards = 4;
    o.seed = 42;
    o.on_drop = drop ? on_drop : NULL;
    f->drop = drop;
    ck_assert_int_eq(goconc_map_new(&f->m, &o), GOCONC_OK);
    for (i = 0; i < n; i++)
        ck_assert_int_eq(map_store_i(f, i, 0, 16, 24), GOCONC_OK);
}

/* --------------------------------------------------------- slice model */

static void check_slice(const struct sm *s)
{
    int32_t x;
    size_t i;
    ck_assert_uint_eq(goconc_slice_len(s->h), s->len);
    ck_assert_uint_eq(goconc_slice_cap(s->h), s->cap);
    ck_assert_uint_eq(goconc_slice_elem_size(s->h), sizeof(int32_t));
    for (i = 0; i < s->len; i++) {
        ck_assert_int_eq(goconc_slice_get(s->h, i, &x), GOCONC_OK);
        ck_assert_int_eq(x, s->e[i]);
    }
    ck_assert_int_eq(goconc_slice_get(s->h, s->len, &x), GOCONC_ERANGE);
}

static void check_view(const struct fx *f)
{
    ck_assert_uint_eq(f->view.len, f->vlen);
    ck_assert_uint_eq(f->view.elem_size, sizeof(int32_t));
    ck_assert_ptr_nonnull(f->view.data);
    ck_assert_mem_eq(f->view.data, f->ve, f->vlen * sizeof(int32_t));
}

/* Slice 0: len elements 1..len, capacity cap. */
static void build_slice(struct fx *f, size_t len, size_t cap)
{
    struct sm *s = &f->s[0];
    size_t i;
    ck_assert_int_eq(goconc_slice_new(&s->h, sizeof(int32_t), len, cap), GOCONC_OK);
    s->len = len;
    s->cap = cap;
    for (i = 0; i < len; i++) {
        s->e[i] = (int32_t)(i + 1);
        ck_assert_int_eq(goconc_slice_set(s->h, i, &s->e[i]), GOCONC_OK);
    }
}

static void take_view(struct fx *f)
{
    ck_assert_int_eq(goconc_slice_snapshot(f->s[0].h, &f->view), GOCONC_OK);
    memcpy(f->ve, f->s[0].e, f->s[0].len * sizeof(int32_t));
    f->vlen = f->s[0].len;
    f->have_view = 1;
}

/* Append x to slice s, keeping its model; the capacity is read back
 * (the growth rule has its own tests) but must hold the length. */
static int slice_push(struct sm *s, int32_t x)
{
    size_t first = 99;
    int rc = goconc_slice_append(s->h, &x, 1, &first);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(first, s->len);
        ck_assert_uint_lt(s->len, SMAX);
        s->e[s->len++] = x;
        s->cap = goconc_slice_cap(s->h);
        ck_assert_uint_ge(s->cap, s->len);
    }
    return rc;
}

/* ------------------------------------------------------ value and pool */

static void *value_current(const goconc_value *v)
{
    void *o;
    goconc_read_lock();
    o = goconc_value_load(v);
    goconc_read_unlock();
    return o;
}

static void build_value(struct fx *f, int with_obj)
{
    ck_assert_int_eq(goconc_value_new(&f->v, value_destroy, NULL), GOCONC_OK);
    if (with_obj) {
        ck_assert_int_eq(goconc_value_store(f->v, &objs[1]), GOCONC_OK);
        f->vcur = &objs[1];
        f->owned[1] = 1;
    }
}

static int value_store_i(struct fx *f, int i)
{
    int rc = goconc_value_store(f->v, &objs[i]);
    if (rc == GOCONC_OK) {
        f->vcur = &objs[i];
        f->owned[i] = 1;
    }
    return rc;
}

static void build_pool(struct fx *f, size_t max_idle)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    o.new_obj = tobj_new;
    o.free_obj = tobj_free;
    o.max_idle = max_idle;
    ck_assert_int_eq(goconc_pool_new(&f->p, &o), GOCONC_OK);
}

static void pool_hold(struct fx *f, int n)
{
    while (n-- > 0) {
        void *o = goconc_pool_get(f->p);
        ck_assert_ptr_nonnull(o);
        ck_assert_int_lt(f->nheld, 128);
        f->held[f->nheld++] = o;
    }
}

static void pool_release_all(struct fx *f)
{
    while (f->nheld > 0)
        goconc_pool_put(f->p, f->held[--f->nheld]);
}

static void check_pool(const struct fx *f)
{
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    ck_assert_int_eq(goconc_pool_stats_get(f->p, &st), GOCONC_OK);
    /* Every object the pool made is held, cached or freed. */
    ck_assert_int_eq((long)st.idle, pool_created - pool_freed - f->nheld);
}

static void once_fn(void *ctx)
{
    ((struct fx *)ctx)->once_runs++;
}

/* ------------------------------------------------- the generic checks */

static void fx_check(struct fx *f)
{
    int i;
    if (f->m)
        check_map(f);
    for (i = 0; i < 2; i++)
        if (f->s[i].h)
            check_slice(&f->s[i]);
    if (f->have_view)
        check_view(f);
    if (f->v)
        ck_assert_ptr_eq(value_current(f->v), f->vcur);
    if (f->ref)
        ck_assert_ptr_eq(goconc_value_ref_get(f->ref), f->refobj);
    if (f->p)
        check_pool(f);
    ck_assert_int_eq(f->once_runs, f->once_expected);
    ck_assert_int_eq(goconc_once_done(&f->once), f->once_expected);
}

/* Each object still works, allocation permitting. */
static void fx_use(struct fx *f)
{
    goconc_slice *c = NULL;
    if (f->m) {
        ck_assert_int_eq(map_store_i(f, 9000, 1, 16, 24), GOCONC_OK);
        ck_assert_int_eq(map_store_i(f, 9001, 1, 2, 2), GOCONC_OK);
    }
    if (f->s[0].h)
        ck_assert_int_eq(slice_push(&f->s[0], 4242), GOCONC_OK);
    if (f->s[1].h) { /* may share storage with s[0]: no writes */
        ck_assert_int_eq(goconc_slice_clone(f->s[1].h, &c), GOCONC_OK);
        ck_assert_uint_eq(goconc_slice_len(c), f->s[1].len);
        goconc_slice_free(c);
    }
    if (f->v)
        ck_assert_int_eq(value_store_i(f, 7), GOCONC_OK);
    if (f->p) {
        pool_hold(f, 2);
        goconc_pool_put(f->p, f->held[--f->nheld]);
    }
}

static void fx_free(struct fx *f)
{
    goconc_map_free(f->m);
    f->drops_expected += (long)f->nkv;
    goconc_slice_free(f->s[0].h);
    goconc_slice_free(f->s[1].h);
    goconc_view_release(&f->view);
    goconc_value_release(f->ref);
    goconc_value_free(f->v);
    if (f->p) {
        pool_release_all(f);
        goconc_pool_free(f->p);
    }
}

/* After fx_free and a tu_settle(): every deferred effect ran once. */
static void fx_check_reclaimed(const struct fx *f)
{
    int i;
    if (f->drop)
        ck_assert_int_eq(map_drops, f->drops_expected);
    for (i = 0; i < 8; i++)
        ck_assert_msg(destroyed[i] == (f->forget ? 0 : f->owned[i]),
                      "objs[%d] destroyed %d times, owned %d", i, destroyed[i], f->owned[i]);
    ck_assert_int_eq(pool_created, pool_freed);
    ck_assert_int_eq(deferred_runs, f->deferred_expected);
}

/*
 * The calling thread's reclamation record and its pool record exist
 * before a baseline is taken: they belong to the thread, not to any
 * object, and are not counted against a row.
 */
static long warm_baseline(void)
{
    struct fx f;
    fx_init(&f);
    build_pool(&f, 0);
    pool_hold(&f, 1);
    goconc_read_lock();
    goconc_read_unlock();
    fx_free(&f);
    return tu_settle();
}

/* ==================================================== (a) fault rows */

struct row {
    const char *name;
    void (*build)(struct fx *f);
    int (*call)(struct fx *f);
    int want;       /* fault rows: the success status; bad rows: the status */
    int allocates;  /* fault rows: the call reaches an allocation (so a
                     * fixture that stops exercising one is noticed) */
};

static void b_none(struct fx *f) { (void)f; }
static void b_map0(struct fx *f) { build_map_n(f, 0, 1); }
static void b_map20(struct fx *f) { build_map_n(f, 20, 1); }
static void b_map0_nodrop(struct fx *f) { build_map_n(f, 0, 0); }

/* Short keys and values, no on_drop: the store's fast path. */
static void b_map_inline(struct fx *f)
{
    size_t i;
    build_map_n(f, 0, 0);
    for (i = 0; i < 20; i++)
        ck_assert_int_eq(map_store_i(f, i, 0, 4, 4), GOCONC_OK);
}
static void b_map150(struct fx *f) { build_map_n(f, 150, 1); }
static void b_map_reserved(struct fx *f)
{
    build_map_n(f, 20, 1);
    ck_assert_int_eq(goconc_map_reserve(f->m, 3000), GOCONC_OK);
}
static void b_slice(struct fx *f) { build_slice(f, 6, 8); }
static void b_slice_full(struct fx *f) { build_slice(f, 4, 4); }
static void b_slice_empty(struct fx *f) { build_slice(f, 0, 0); }
static void b_slice_view(struct fx *f) { build_slice(f, 6, 8); take_view(f); }
static void b_slice_pair(struct fx *f)
{
    struct sm *t = &f->s[1];
    int32_t x = -5;
    b_slice_view(f);
    ck_assert_int_eq(goconc_slice_new(&t->h, sizeof(int32_t), 3, 3), GOCONC_OK);
    t->len = t->cap = 3;
    ck_assert_int_eq(goconc_slice_set(t->h, 1, &x), GOCONC_OK);
    t->e[1] = x;
}
static void b_value(struct fx *f) { build_value(f, 0); }
static void b_value1(struct fx *f) { build_value(f, 1); }
static void b_value_ref(struct fx *f)
{
    build_value(f, 1);
    f->ref = goconc_value_acquire(f->v);
    ck_assert_ptr_nonnull(f->ref);
    f->refobj = &objs[1];
}
static void b_pool(struct fx *f) { build_pool(f, 0); }
static void b_pool_held(struct fx *f) { build_pool(f, 0); pool_hold(f, 100); }
static void b_pool_cached(struct fx *f) { b_pool_held(f); pool_release_all(f); }

/* --- common */

static int f_defer_many(struct fx *f)
{
    int i, rc;
    for (i = 0; i < 200; i++) {
        if ((rc = goconc_defer_free(&objs[0], deferred, NULL)) != GOCONC_OK)
            return rc;
        f->deferred_expected++;
    }
    return GOCONC_OK;
}

struct first_use { int rc; };

static void *first_use_thread(void *arg)
{
    struct first_use *u = arg;
    /* The thread's first call registers it (an allocation that may fail:
     * the section then runs on the shared path) and its first retire
     * needs a chunk. */
    goconc_read_lock();
    goconc_read_unlock();
    u->rc = goconc_defer_free(&objs[0], deferred, NULL);
    return NULL;
}

static int f_thread_first_use(struct fx *f)
{
    struct first_use u = { 99 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, first_use_thread, &u), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    if (u.rc == GOCONC_OK)
        f->deferred_expected++;
    return u.rc;
}

static int f_synchronize(struct fx *f) { (void)f; return goconc_synchronize(); }
static int f_barrier(struct fx *f) { (void)f; return goconc_barrier(); }

/* --- map */

static int f_map_new_default(struct fx *f)
{
    int rc = goconc_map_new(&f->m, NULL);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->m);
    return rc;
}

static int f_map_new_opts(struct fx *f)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    int rc;
    o.shards = 4;
    o.capacity_hint = 1000;
    o.on_drop = on_drop;
    rc = goconc_map_new(&f->m, &o);
    f->drop = rc == GOCONC_OK;
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->m);
    return rc;
}

static int f_map_store_insert(struct fx *f) { return map_store_i(f, 500, 1, 16, 24); }
static int f_map_store_overwrite(struct fx *f) { return map_store_i(f, 3, 1, 16, 24); }
static int f_map_store_inline(struct fx *f) { return map_store_i(f, 500, 1, 4, 8); }
static int f_map_store_inline_over(struct fx *f) { return map_store_i(f, 3, 1, 4, 4); }

/* n inserts of keys from 1000 on: the shards grow several times. */
static int map_store_run(struct fx *f, size_t n, size_t kl, size_t vl)
{
    size_t i;
    int rc;
    for (i = 0; i < n; i++)
        if ((rc = map_store_i(f, 1000 + i, 1, kl, vl)) != GOCONC_OK)
            return rc;
    return GOCONC_OK;
}

/* Out-of-line entries: every store allocates, and a few also grow. */
static int f_map_store_many(struct fx *f) { return map_store_run(f, 60, 16, 24); }
/* Inline entries: only the growth allocates, so many more stores. */
static int f_map_store_many_inline(struct fx *f) { return map_store_run(f, 240, 4, 4); }

/* update's function: returns ret, with *newval = nv, *newlen = nl. */
struct upd { int ret; const void *nv; size_t nl; };

static int upd_fn(void *ctx, const void *old, size_t ol, int found, const void **nv,
                  size_t *nl)
{
    struct upd *u = ctx;
    (void)old, (void)ol, (void)found;
    *nv = u->nv;
    *nl = u->nl;
    return u->ret;
}

/* Deleting all of 150 (the shards shrink) with one of the deleting calls. */
enum del_op { DEL, DEL_LOAD, DEL_COMPARE, DEL_UPDATE };

static int map_delete_as(struct fx *f, const struct kv *e, enum del_op op)
{
    struct upd u = { GOCONC_UPDATE_DELETE, NULL, 0 };
    unsigned char out[64];
    size_t ol = 0;
    int rc;
    switch (op) {
    case DEL:
        return goconc_map_delete(f->m, e->k, e->kl);
    case DEL_LOAD:
        rc = goconc_map_load_and_delete(f->m, e->k, e->kl, out, sizeof out, &ol);
        if (rc == GOCONC_OK) {
            ck_assert_uint_eq(ol, e->vl);
            ck_assert_mem_eq(out, e->v, ol);
        }
        return rc;
    case DEL_COMPARE:
        return goconc_map_compare_and_delete(f->m, e->k, e->kl, e->v, e->vl);
    default:
        return goconc_map_update(f->m, e->k, e->kl, upd_fn, &u);
    }
}

static int map_delete_all(struct fx *f, enum del_op op)
{
    struct kv e;
    size_t i;
    int rc;
    for (i = 0; i < 150; i++) {
        kv_make(&e, i, 0, 16, 24);
        if ((rc = map_delete_as(f, &e, op)) != GOCONC_OK)
            return rc;
        model_del(f, e.k, e.kl);
    }
    return GOCONC_OK;
}

static int f_map_delete_many(struct fx *f) { return map_delete_all(f, DEL); }
static int f_map_lad_many(struct fx *f) { return map_delete_all(f, DEL_LOAD); }
static int f_map_cad_many(struct fx *f) { return map_delete_all(f, DEL_COMPARE); }
static int f_map_update_delete_many(struct fx *f) { return map_delete_all(f, DEL_UPDATE); }

static int f_map_los_absent(struct fx *f)
{
    unsigned char out[64];
    size_t ol = 7;
    struct kv e;
    int rc;
    kv_make(&e, 600, 1, 16, 24);
    rc = goconc_map_load_or_store(f->m, e.k, e.kl, e.v, e.vl, out, sizeof out, &ol);
    if (rc == GOCONC_OK)
        model_put(f, &e);
    return rc;
}

static int f_map_los_present(struct fx *f)
{
    unsigned char out[64];
    size_t ol = 7;
    struct kv e;
    int rc;
    kv_make(&e, 4, 1, 16, 24);
    rc = goconc_map_load_or_store(f->m, e.k, e.kl, e.v, e.vl, out, sizeof out, &ol);
    if (rc == GOCONC_EXISTS) {
        kv_make(&e, 4, 0, 16, 24);
        ck_assert_uint_eq(ol, e.vl);
        ck_assert_mem_eq(out, e.v, ol);
    }
    return rc;
}

static int f_map_lad(struct fx *f)
{
    unsigned char out[64];
    size_t ol = 0;
    struct kv e;
    int rc;
    kv_make(&e, 5, 0, 16, 24);
    rc = goconc_map_load_and_delete(f->m, e.k, e.kl, out, sizeof out, &ol);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(ol, e.vl);
        ck_assert_mem_eq(out, e.v, ol);
        model_del(f, e.k, e.kl);
    }
    return rc;
}

static int f_map_delete(struct fx *f)
{
    struct kv e;
    int rc;
    kv_make(&e, 6, 0, 16, 24);
    rc = goconc_map_delete(f->m, e.k, e.kl);
    if (rc == GOCONC_OK)
        model_del(f, e.k, e.kl);
    return rc;
}

static int map_swap_i(struct fx *f, size_t i)
{
    unsigned char prev[64];
    size_t pl = 77;
    struct kv e, old;
    long at;
    int rc;
    kv_make(&e, i, 1, 16, 24);
    at = model_find(f, e.k, e.kl);
    if (at >= 0)
        old = f->kv[at];
    rc = goconc_map_swap(f->m, e.k, e.kl, e.v, e.vl, prev, sizeof prev, &pl);
    if (rc == GOCONC_OK) {
        ck_assert_int_ge(at, 0);
        ck_assert_uint_eq(pl, old.vl);
        ck_assert_mem_eq(prev, old.v, pl);
    }
    if (rc == GOCONC_NOTFOUND)
        ck_assert_uint_eq(pl, 0);
    if (rc == GOCONC_OK || rc == GOCONC_NOTFOUND)
        model_put(f, &e);
    return rc;
}

static int f_map_swap_present(struct fx *f) { return map_swap_i(f, 7); }
static int f_map_swap_absent(struct fx *f) { return map_swap_i(f, 700); }

static int f_map_cas(struct fx *f)
{
    struct kv old, e;
    int rc;
    kv_make(&old, 8, 0, 16, 24);
    kv_make(&e, 8, 1, 16, 30);
    rc = goconc_map_compare_and_swap(f->m, e.k, e.kl, old.v, old.vl, e.v, e.vl);
    if (rc == GOCONC_OK)
        model_put(f, &e);
    return rc;
}

static int f_map_cad(struct fx *f)
{
    struct kv old;
    int rc;
    kv_make(&old, 9, 0, 16, 24);
    rc = goconc_map_compare_and_delete(f->m, old.k, old.kl, old.v, old.vl);
    if (rc == GOCONC_OK)
        model_del(f, old.k, old.kl);
    return rc;
}

static int map_update_i(struct fx *f, size_t i, int ret)
{
    struct kv e;
    struct upd u;
    int rc;
    kv_make(&e, i, 1, 16, 24);
    u.ret = ret;
    u.nv = e.v;
    u.nl = e.vl;
    rc = goconc_map_update(f->m, e.k, e.kl, upd_fn, &u);
    if (rc == GOCONC_OK && ret == GOCONC_UPDATE_STORE)
        model_put(f, &e);
    if (rc == GOCONC_OK && ret == GOCONC_UPDATE_DELETE)
        model_del(f, e.k, e.kl);
    return rc;
}

static int f_map_update_store(struct fx *f) { return map_update_i(f, 10, GOCONC_UPDATE_STORE); }
static int f_map_update_insert(struct fx *f) { return map_update_i(f, 800, GOCONC_UPDATE_STORE); }
static int f_map_update_delete(struct fx *f) { return map_update_i(f, 11, GOCONC_UPDATE_DELETE); }
static int f_map_update_keep(struct fx *f) { return map_update_i(f, 12, GOCONC_UPDATE_KEEP); }

static int f_map_reserve(struct fx *f) { return goconc_map_reserve(f->m, 3000); }

static int f_map_maintain(struct fx *f)
{
    size_t moved = 0;
    return goconc_map_maintain(f->m, SIZE_MAX, &moved);
}

static int f_map_clear(struct fx *f)
{
    int rc = goconc_map_clear(f->m);
    if (rc == GOCONC_OK) {
        f->drops_expected += (long)f->nkv;
        f->nkv = 0;
    }
    return rc;
}

static int f_map_range(struct fx *f)
{
    struct visit c = { f, 0, 0 };
    int rc = goconc_map_range(f->m, visit_model, &c);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(c.n, f->nkv);
        ck_assert_uint_eq(c.bad, 0);
    }
    return rc;
}

static int f_map_scan(struct fx *f)
{
    struct visit c = { f, 0, 0 };
    uint64_t cur = 0;
    int rc, steps = 0;
    do
        rc = goconc_map_scan(f->m, &cur, 3, visit_model, &c);
    while (rc == GOCONC_OK && cur != 0 && ++steps < 10000);
    if (rc == GOCONC_OK) {
        ck_assert_uint_ge(c.n, f->nkv); /* nothing resized: no duplicate either */
        ck_assert_uint_eq(c.bad, 0);
    }
    return rc;
}

static int f_map_load(struct fx *f)
{
    unsigned char buf[64];
    size_t vl;
    return goconc_map_load(f->m, f->kv[0].k, f->kv[0].kl, buf, sizeof buf, &vl);
}

static int f_map_peek(struct fx *f)
{
    const void *v = NULL;
    size_t vl = 0;
    int rc;
    goconc_read_lock();
    rc = goconc_map_peek(f->m, f->kv[1].k, f->kv[1].kl, &v, &vl);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(vl, f->kv[1].vl);
        ck_assert_mem_eq(v, f->kv[1].v, vl);
    }
    goconc_read_unlock();
    return rc;
}

static int f_map_stats(struct fx *f)
{
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    int rc = goconc_map_stats_get(f->m, &st);
    if (rc == GOCONC_OK)
        ck_assert_uint_eq(st.len, f->nkv);
    return rc;
}

static int f_map_free(struct fx *f)
{
    goconc_map_free(f->m);
    f->m = NULL;
    f->drops_expected += (long)f->nkv;
    f->nkv = 0;
    return GOCONC_OK;
}

/* --- slice */

static int f_slice_new(struct fx *f)
{
    struct sm *s = &f->s[0];
    int rc = goconc_slice_new(&s->h, sizeof(int32_t), 3, 8);
    if (rc == GOCONC_OK) {
        s->len = 3;
        s->cap = 8;
    } else {
        ck_assert_ptr_null(s->h);
    }
    return rc;
}

static int f_slice_push(struct fx *f) { return slice_push(&f->s[0], 77); }

static int f_slice_push_many(struct fx *f)
{
    int32_t i;
    int rc;
    for (i = 0; i < 100; i++)
        if ((rc = slice_push(&f->s[0], i * 3)) != GOCONC_OK)
            return rc;
    return GOCONC_OK;
}

static int f_slice_append_bulk(struct fx *f)
{
    struct sm *s = &f->s[0];
    int32_t x[50];
    size_t i, first = 99;
    int rc;
    for (i = 0; i < 50; i++)
        x[i] = (int32_t)(1000 + i);
    rc = goconc_slice_append(s->h, x, 50, &first);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(first, s->len);
        memcpy(s->e + s->len, x, sizeof x);
        s->len += 50;
        s->cap = goconc_slice_cap(s->h);
    }
    return rc;
}

/* s[1] = s[0][1:3:8] shares s[0]'s storage, which a view covers: an
 * append through s[1] lands on s[0]'s element 3 (Go's aliasing) after
 * copying the storage away from the view. */
static void b_slice_shared_view(struct fx *f)
{
    struct sm *t = &f->s[1];
    b_slice(f);
    ck_assert_int_eq(goconc_slice_reslice(f->s[0].h, 1, 3, 8, &t->h), GOCONC_OK);
    t->len = 2;
    t->cap = 7;
    memcpy(t->e, f->s[0].e + 1, 2 * sizeof(int32_t));
    take_view(f);
}

static int f_slice_append_shared(struct fx *f)
{
    int rc = slice_push(&f->s[1], 555);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(f->s[1].cap, 7); /* in place: no growth */
        f->s[0].e[3] = 555;
    }
    return rc;
}

static int f_slice_set(struct fx *f)
{
    int32_t x = -9;
    int rc = goconc_slice_set(f->s[0].h, 2, &x);
    if (rc == GOCONC_OK)
        f->s[0].e[2] = x;
    return rc;
}

static int f_slice_copy(struct fx *f)
{
    size_t n = 99;
    int rc = goconc_slice_copy(f->s[0].h, f->s[1].h, &n);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(n, 3);
        memcpy(f->s[0].e, f->s[1].e, 3 * sizeof(int32_t));
    }
    return rc;
}

static int f_slice_reslice(struct fx *f)
{
    struct sm *t = &f->s[1];
    int rc = goconc_slice_reslice(f->s[0].h, 1, 3, 5, &t->h);
    if (rc == GOCONC_OK) {
        t->len = 2;
        t->cap = 4;
        memcpy(t->e, f->s[0].e + 1, 2 * sizeof(int32_t));
    } else {
        ck_assert_ptr_null(t->h);
    }
    return rc;
}

static int f_slice_clone(struct fx *f)
{
    struct sm *t = &f->s[1];
    int rc = goconc_slice_clone(f->s[0].h, &t->h);
    if (rc == GOCONC_OK) {
        t->len = t->cap = f->s[0].len;
        memcpy(t->e, f->s[0].e, t->len * sizeof(int32_t));
    } else {
        ck_assert_ptr_null(t->h);
    }
    return rc;
}

static int f_slice_snapshot(struct fx *f)
{
    int rc = goconc_slice_snapshot(f->s[0].h, &f->view);
    if (rc == GOCONC_OK) {
        memcpy(f->ve, f->s[0].e, f->s[0].len * sizeof(int32_t));
        f->vlen = f->s[0].len;
        f->have_view = 1;
    }
    return rc;
}

struct svisit { const struct sm *s; size_t n, bad; };

static int slice_visit(void *ctx, size_t i, const void *elem)
{
    struct svisit *c = ctx;
    int32_t x;
    memcpy(&x, elem, sizeof x);
    if (i != c->n || i >= c->s->len || x != c->s->e[i])
        c->bad++;
    c->n++;
    return 0;
}

static int f_slice_range(struct fx *f)
{
    struct svisit c = { &f->s[0], 0, 0 };
    int rc = goconc_slice_range(f->s[0].h, slice_visit, &c);
    if (rc == GOCONC_OK) {
        ck_assert_uint_eq(c.n, f->s[0].len);
        ck_assert_uint_eq(c.bad, 0);
    }
    return rc;
}

static int f_slice_free(struct fx *f)
{
    goconc_slice_free(f->s[0].h);
    f->s[0].h = NULL;
    return GOCONC_OK;
}

static int f_view_release(struct fx *f)
{
    goconc_view_release(&f->view);
    f->have_view = 0;
    return GOCONC_OK;
}

/* --- value */

static int f_value_new(struct fx *f)
{
    int rc = goconc_value_new(&f->v, value_destroy, NULL);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->v);
    return rc;
}

static int f_value_store(struct fx *f) { return value_store_i(f, 2); }

static int f_value_swap(struct fx *f)
{
    goconc_value_ref *old = (goconc_value_ref *)&objs[0];
    void *was = f->vcur;
    int rc = goconc_value_swap(f->v, &objs[2], &old);
    if (rc == GOCONC_OK) {
        f->vcur = &objs[2];
        f->owned[2] = 1;
        ck_assert_ptr_eq(goconc_value_ref_get(old), was);
        if (old != NULL) {
            f->ref = old;
            f->refobj = was;
        }
    } else {
        ck_assert_ptr_null(old);
    }
    return rc;
}

static int f_value_cas(struct fx *f)
{
    int rc = goconc_value_compare_and_swap(f->v, f->vcur, &objs[3]);
    if (rc == GOCONC_OK) {
        f->vcur = &objs[3];
        f->owned[3] = 1;
    }
    return rc;
}

static int f_value_acquire(struct fx *f)
{
    goconc_value_ref *r = goconc_value_acquire(f->v);
    if (r == NULL)
        return GOCONC_ENOMEM; /* documented: NULL when out of memory */
    f->ref = r;
    f->refobj = f->vcur;
    return GOCONC_OK;
}

static int f_value_release(struct fx *f)
{
    goconc_value_release(f->ref);
    f->ref = NULL;
    return GOCONC_OK;
}

/* Free with a reference held: the object outlives the handle. */
static int f_value_free(struct fx *f)
{
    goconc_value_free(f->v);
    f->v = NULL;
    return GOCONC_OK;
}

/* --- pool */

static int f_pool_new(struct fx *f)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    int rc;
    o.new_obj = tobj_new;
    o.free_obj = tobj_free;
    rc = goconc_pool_new(&f->p, &o);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->p);
    return rc;
}

/* With new_obj set, get never answers NULL: memory or not. */
static int f_pool_get(struct fx *f)
{
    void *o = goconc_pool_get(f->p);
    if (o == NULL)
        return GOCONC_EINVAL; /* not an allowed answer: fails the row */
    ck_assert_uint_eq(((struct tobj *)o)->magic, TOBJ_MAGIC);
    f->held[f->nheld++] = o;
    return GOCONC_OK;
}

static int f_pool_get_many(struct fx *f)
{
    int i, rc;
    for (i = 0; i < 100; i++)
        if ((rc = f_pool_get(f)) != GOCONC_OK)
            return rc;
    return GOCONC_OK;
}

/* Puts past the thread's cache: the rest needs shared chunks, and an
 * object with nowhere to go is dropped through free_obj. */
static int f_pool_put_many(struct fx *f)
{
    pool_release_all(f);
    return GOCONC_OK;
}

static int f_pool_trim(struct fx *f)
{
    goconc_pool_trim(f->p);
    goconc_pool_trim(f->p);
    return GOCONC_OK;
}

static int f_pool_free(struct fx *f)
{
    goconc_pool_free(f->p);
    f->p = NULL;
    return GOCONC_OK;
}

/* --- once */

static int f_once_do(struct fx *f)
{
    int rc = goconc_once_do(&f->once, once_fn, f);
    if (rc == GOCONC_OK)
        f->once_expected = 1;
    return rc;
}

static int try_fn(void *ctx)
{
    once_fn(ctx);
    return 0;
}

static int f_once_try(struct fx *f)
{
    int rc = goconc_once_try(&f->once, try_fn, f);
    if (rc == GOCONC_OK)
        f->once_expected = 1;
    return rc;
}

#define OK GOCONC_OK
/*
 * name, fixture, the call, its success status, whether it reaches an
 * allocation.  Rows for calls that allocate nothing (load, range, once,
 * ...) pin that down: a failure injected there must change nothing.
 */
static const struct row fault_rows[] = {
    { "defer_free", b_none, f_defer_many, OK, 1 },
    { "thread_first_use", b_none, f_thread_first_use, OK, 1 },
    { "synchronize", b_none, f_synchronize, OK, 0 },
    { "barrier", b_none, f_barrier, OK, 0 },
    { "map_new_default", b_none, f_map_new_default, OK, 1 },
    { "map_new_opts", b_none, f_map_new_opts, OK, 1 },
    { "map_store_insert", b_map20, f_map_store_insert, OK, 1 },
    { "map_store_overwrite", b_map20, f_map_store_overwrite, OK, 1 },
    { "map_store_inline", b_map_inline, f_map_store_inline, OK, 0 },
    { "map_store_inline_over", b_map_inline, f_map_store_inline_over, OK, 0 },
    { "map_store_many", b_map0, f_map_store_many, OK, 1 },
    { "map_store_many_inline", b_map0_nodrop, f_map_store_many_inline, OK, 1 },
    /* The header comments of delete, load_and_delete, compare_and_delete,
     * clear and maintain list no ENOMEM; API.md's map rule ("a call that
     * fails (ERANGE, ENOMEM, EINVAL) leaves the map unchanged") is what
     * these rows hold them to. */
    { "map_delete_many", b_map150, f_map_delete_many, OK, 1 },
    { "map_load_and_delete_many", b_map150, f_map_lad_many, OK, 1 },
    { "map_compare_and_delete_many", b_map150, f_map_cad_many, OK, 1 },
    { "map_update_delete_many", b_map150, f_map_update_delete_many, OK, 1 },
    { "map_store_migrating", b_map_reserved, f_map_store_insert, OK, 1 },
    { "map_store_many_migrating", b_map_reserved, f_map_store_many, OK, 1 },
    { "map_delete_migrating", b_map_reserved, f_map_delete, OK, 0 },
    { "map_clear_migrating", b_map_reserved, f_map_clear, OK, 1 },
    { "map_load_or_store_absent", b_map20, f_map_los_absent, OK, 1 },
    { "map_load_or_store_present", b_map20, f_map_los_present, GOCONC_EXISTS, 0 },
    { "map_load_and_delete", b_map20, f_map_lad, OK, 0 },
    { "map_delete", b_map20, f_map_delete, OK, 0 },
    { "map_swap_present", b_map20, f_map_swap_present, OK, 1 },
    { "map_swap_absent", b_map20, f_map_swap_absent, GOCONC_NOTFOUND, 1 },
    { "map_compare_and_swap", b_map20, f_map_cas, OK, 1 },
    { "map_compare_and_delete", b_map20, f_map_cad, OK, 0 },
    { "map_update_store", b_map20, f_map_update_store, OK, 1 },
    { "map_update_insert", b_map20, f_map_update_insert, OK, 1 },
    { "map_update_delete", b_map20, f_map_update_delete, OK, 0 },
    { "map_update_keep", b_map20, f_map_update_keep, OK, 0 },
    { "map_reserve", b_map20, f_map_reserve, OK, 1 },
    { "map_maintain", b_map_reserved, f_map_maintain, OK, 1 },
    { "map_clear", b_map20, f_map_clear, OK, 1 },
    { "map_range", b_map20, f_map_range, OK, 0 },
    { "map_scan", b_map20, f_map_scan, OK, 0 },
    { "map_load", b_map20, f_map_load, OK, 0 },
    { "map_peek", b_map20, f_map_peek, OK, 0 },
    { "map_stats_get", b_map20, f_map_stats, OK, 0 },
    { "map_free", b_map20, f_map_free, OK, 0 },
    { "slice_new", b_none, f_slice_new, OK, 1 },
    { "slice_append_in_cap", b_slice, f_slice_push, OK, 0 },
    { "slice_append_grow", b_slice_full, f_slice_push, OK, 1 },
    { "slice_append_many", b_slice_empty, f_slice_push_many, OK, 1 },
    { "slice_append_bulk", b_slice, f_slice_append_bulk, OK, 1 },
    { "slice_append_past_view", b_slice_view, f_slice_push, OK, 0 },
    { "slice_append_shared_viewed", b_slice_shared_view, f_slice_append_shared, OK, 1 },
    { "slice_set", b_slice, f_slice_set, OK, 0 },
    { "slice_set_viewed", b_slice_view, f_slice_set, OK, 1 },
    { "slice_copy_viewed", b_slice_pair, f_slice_copy, OK, 1 },
    { "slice_reslice", b_slice, f_slice_reslice, OK, 1 },
    { "slice_clone", b_slice, f_slice_clone, OK, 1 },
    { "slice_snapshot", b_slice, f_slice_snapshot, OK, 0 },
    { "slice_range", b_slice, f_slice_range, OK, 0 },
    { "slice_free_viewed", b_slice_view, f_slice_free, OK, 0 },
    { "view_release", b_slice_view, f_view_release, OK, 0 },
    { "value_new", b_none, f_value_new, OK, 1 },
    { "value_store", b_value1, f_value_store, OK, 1 },
    { "value_store_empty", b_value, f_value_store, OK, 1 },
    { "value_swap", b_value1, f_value_swap, OK, 1 },
    { "value_swap_empty", b_value, f_value_swap, OK, 1 },
    { "value_compare_and_swap", b_value1, f_value_cas, OK, 1 },
    { "value_compare_and_swap_empty", b_value, f_value_cas, OK, 1 },
    /* acquire takes a count on the stored node: nothing to allocate,
     * though the header allows NULL for out of memory. */
    { "value_acquire", b_value1, f_value_acquire, OK, 0 },
    { "value_store_referenced", b_value_ref, f_value_store, OK, 1 },
    { "value_release", b_value_ref, f_value_release, OK, 0 },
    { "value_free", b_value_ref, f_value_free, OK, 0 },
    { "pool_new", b_none, f_pool_new, OK, 1 },
    { "pool_get_new", b_pool, f_pool_get, OK, 1 },
    { "pool_get_many", b_pool, f_pool_get_many, OK, 1 },
    { "pool_get_cached", b_pool_cached, f_pool_get_many, OK, 0 },
    { "pool_put_many", b_pool_held, f_pool_put_many, OK, 1 },
    { "pool_trim", b_pool_cached, f_pool_trim, OK, 0 },
    { "pool_free", b_pool_cached, f_pool_free, OK, 0 },
    { "once_do", b_none, f_once_do, OK, 0 },
    { "once_try", b_none, f_once_try, OK, 0 },
};
#define N_FAULT_ROWS (int)(sizeof fault_rows / sizeof fault_rows[0])

enum { STICKY, TRANSIENT };

/* Row r with failing allocation N = 0, 1, ... until r's call no longer
 * reaches it. */
static void sweep(const struct row *r, int mode)
{
    const char *mname = mode == STICKY ? "sticky" : "transient";
    long base, n, calls, left;
    int rc, hit, failures = 0;
    struct fx f;

    base = warm_baseline();
    for (n = 0;; n++) {
        ck_assert_msg(n < 5000, "%s: no end to the allocations", r->name);
        fx_init(&f);
        r->build(&f);
        fx_check(&f);
        calls = tu_alloc_calls();
        if (mode == STICKY)
            tu_alloc_fail_after(n);
        else
            tu_alloc_fail_once(n);
        rc = r->call(&f);
        hit = tu_alloc_calls() - calls > n;
        tu_alloc_fail_after(-1);
        ck_assert_msg(rc == r->want || (rc == GOCONC_ENOMEM && hit),
                      "%s (%s, failing allocation %ld%s): status %d (%s)", r->name, mname,
                      n, hit ? "" : ", not reached", rc, goconc_strerror(rc));
        failures += rc == GOCONC_ENOMEM;
        fx_check(&f); /* unchanged, or changed as the model says */
        fx_use(&f);
        fx_check(&f);
        fx_free(&f);
        left = tu_settle() - base;
        ck_assert_msg(left == 0, "%s (%s, failing allocation %ld): %ld blocks leaked",
                      r->name, mname, n, left);
        fx_check_reclaimed(&f);
        if (!hit)
            break;
    }
    if (r->allocates)
        ck_assert_msg(n > 0, "%s: allocated nothing", r->name);
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "%s (%s): %ld allocations reached, %d ENOMEM\n", r->name, mname,
                n, failures);
}

/* One test per row, both modes: each test is a process, and under
 * AddressSanitizer each process exit costs a leak scan. */
START_TEST(fault_sweep)
{
    sweep(&fault_rows[_i], STICKY);
    sweep(&fault_rows[_i], TRANSIENT);
}
END_TEST

/* ================================================== (b) bad arguments */

/* Assertions beside the status: small helpers that return the status. */

static int map_load_short(struct fx *f)
{
    unsigned char buf[4];
    size_t vl = 0;
    int rc = goconc_map_load(f->m, f->kv[0].k, f->kv[0].kl, buf, sizeof buf, &vl);
    ck_assert_uint_eq(vl, f->kv[0].vl); /* the size needed */
    return rc;
}

static int map_los_short(struct fx *f)
{
    unsigned char buf[4];
    size_t vl = 0;
    struct kv e;
    int rc;
    kv_make(&e, 2, 5, 16, 24);
    rc = goconc_map_load_or_store(f->m, e.k, e.kl, e.v, e.vl, buf, sizeof buf, &vl);
    ck_assert_uint_eq(vl, 24);
    return rc;
}

static int map_lad_short(struct fx *f)
{
    unsigned char buf[4];
    size_t vl = 0;
    int rc = goconc_map_load_and_delete(f->m, f->kv[0].k, f->kv[0].kl, buf, sizeof buf, &vl);
    ck_assert_uint_eq(vl, f->kv[0].vl);
    return rc;
}

static int map_swap_short(struct fx *f)
{
    unsigned char buf[4];
    size_t vl = 0;
    int rc = goconc_map_swap(f->m, f->kv[0].k, f->kv[0].kl, "x", 1, buf, sizeof buf, &vl);
    ck_assert_uint_eq(vl, f->kv[0].vl);
    return rc;
}

static int map_cas_changed(struct fx *f)
{
    return goconc_map_compare_and_swap(f->m, f->kv[0].k, f->kv[0].kl, "nope", 4, "x", 1);
}

static int map_cad_changed(struct fx *f)
{
    return goconc_map_compare_and_delete(f->m, f->kv[0].k, f->kv[0].kl, "nope", 4);
}

static int map_update_ret(struct fx *f, int ret, const void *nv, size_t nl)
{
    struct upd u = { ret, nv, nl };
    return goconc_map_update(f->m, f->kv[0].k, f->kv[0].kl, upd_fn, &u);
}

static int map_update_absent(struct fx *f, int ret)
{
    struct upd u = { ret, NULL, 0 };
    return goconc_map_update(f->m, "nope", 4, upd_fn, &u);
}

/* What a write to the map, or a wait, answers from inside update's fn. */
struct inner_ctx { struct fx *f; int what; };

static int inner_fn(void *ctx, const void *old, size_t ol, int found, const void **nv,
                    size_t *nl)
{
    struct inner_ctx *c = ctx;
    struct fx *f = c->f;
    (void)old, (void)ol, (void)found, (void)nv, (void)nl;
    switch (c->what) {
    case 0: f->inner = goconc_map_store(f->m, "zz", 2, "y", 1); break;
    case 1: f->inner = goconc_map_clear(f->m); break;
    case 2: f->inner = goconc_map_reserve(f->m, 100); break;
    case 3: f->inner = goconc_map_maintain(f->m, 1, NULL); break;
    case 4: f->inner = goconc_synchronize(); break;
    default: f->inner = goconc_barrier(); break;
    }
    return GOCONC_UPDATE_KEEP;
}

static int map_inner(struct fx *f, int what)
{
    struct inner_ctx c = { f, what };
    int rc = goconc_map_update(f->m, f->kv[0].k, f->kv[0].kl, inner_fn, &c);
    ck_assert_int_eq(rc, GOCONC_OK);
    return f->inner;
}

static int stop_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx, (void)k, (void)kl, (void)v, (void)vl;
    return 1;
}

static int stop_slice_visit(void *ctx, size_t i, const void *e)
{
    (void)ctx, (void)i, (void)e;
    return 1;
}

static int map_new_opts_with(struct fx *f, size_t size, unsigned shards, size_t cap,
                             unsigned char tail)
{
    struct { goconc_map_options o; unsigned char tail[16]; } big;
    int rc;
    memset(&big, 0, sizeof big);
    big.o.struct_size = size;
    big.o.shards = shards;
    big.o.capacity_hint = cap;
    big.o.seed = 42;
    big.tail[7] = tail;
    rc = goconc_map_new(&f->m, &big.o);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->m);
    return rc;
}

static int map_new_size0(struct fx *f) { return map_new_opts_with(f, 0, 0, 0, 0); }
static int map_new_size_small(struct fx *f)
{
    /* Below the 1.0 struct, which ends where flags begins. */
    return map_new_opts_with(f, offsetof(goconc_map_options, flags) - 1, 0, 0, 0);
}
static int map_new_size_big_dirty(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options) + 16, 0, 0, 1);
}
static int map_new_size_big_clean(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options) + 16, 0, 0, 0);
}
static int map_new_shards3(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options), 3, 0, 0);
}
static int map_new_shards_huge(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options), 1u << 31, 0, 0);
}
static int map_new_cap_max(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options), 0, SIZE_MAX, 0);
}
/* Representable but more than the allocator gives. */
static int map_new_cap_huge(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options), 4, (size_t)1 << 32, 0);
}

static int map_stats_with(struct fx *f, size_t size, unsigned char tail)
{
    struct { goconc_map_stats st; unsigned char tail[16]; } big;
    int rc;
    memset(&big, 0xEE, sizeof big);
    big.st.struct_size = size;
    if (size > sizeof big.st)
        memset(big.tail, 0, sizeof big.tail);
    big.tail[7] = tail;
    rc = goconc_map_stats_get(f->m, &big.st);
    ck_assert_uint_eq(big.st.struct_size, size);  /* the caller's, kept */
    ck_assert_uint_eq(big.tail[0], size > sizeof big.st ? 0 : 0xEE);
    if (rc == GOCONC_OK)
        ck_assert_uint_eq(big.st.len, f->nkv);
    return rc;
}
static int map_stats_small(struct fx *f) { return map_stats_with(f, sizeof(size_t), 0); }
static int map_stats_big_dirty(struct fx *f)
{
    return map_stats_with(f, sizeof(goconc_map_stats) + 16, 1);
}
static int map_stats_big_clean(struct fx *f)
{
    return map_stats_with(f, sizeof(goconc_map_stats) + 16, 0);
}

static int map_maintain_null(struct fx *f)
{
    size_t moved = 99;
    int rc = goconc_map_maintain(NULL, 1, &moved);
    (void)f;
    ck_assert_uint_eq(moved, 0); /* "*moved (may be NULL)": always written */
    return rc;
}

static int map_scan_args(struct fx *f, int which)
{
    uint64_t cur = 0;
    switch (which) {
    case 0: return goconc_map_scan(NULL, &cur, 3, visit_model, NULL);
    case 1: return goconc_map_scan(f->m, NULL, 3, visit_model, NULL);
    case 2: return goconc_map_scan(f->m, &cur, 0, visit_model, NULL);
    default: return goconc_map_scan(f->m, &cur, 3, NULL, NULL);
    }
}

static int map_peek_outside(struct fx *f)
{
    const void *v = NULL;
    size_t vl;
    return goconc_map_peek(f->m, f->kv[0].k, f->kv[0].kl, &v, &vl);
}

static int map_peek_null_val(struct fx *f)
{
    size_t vl;
    int rc;
    goconc_read_lock();
    rc = goconc_map_peek(f->m, f->kv[0].k, f->kv[0].kl, NULL, &vl);
    goconc_read_unlock();
    return rc;
}

static int map_peek_empty_key(struct fx *f)
{
    const void *v = NULL;
    size_t vl;
    int rc;
    goconc_read_lock();
    rc = goconc_map_peek(f->m, NULL, 0, &v, &vl);
    goconc_read_unlock();
    return rc;
}

/* Empty key and value (NULL with length 0): a real entry. */
static int map_store_empty(struct fx *f)
{
    int rc = goconc_map_store(f->m, NULL, 0, NULL, 0);
    struct kv e;
    if (rc == GOCONC_OK) {
        kv_make(&e, 0, 0, 0, 0);
        model_put(f, &e);
    }
    return rc;
}

static int map_len_null(struct fx *f)
{
    (void)f;
    return goconc_map_len(NULL) == 0 ? GOCONC_OK : GOCONC_EINVAL;
}

static int map_free_null(struct fx *f)
{
    (void)f;
    goconc_map_free(NULL);
    return GOCONC_OK;
}

/* --- common */

static void *al_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void al_free(void *ctx, void *p) { (void)ctx; free(p); }

static int set_allocator_with(size_t size, int null_alloc, int null_free, unsigned char tail)
{
    struct { goconc_allocator a; unsigned char tail[16]; } big;
    memset(&big, 0, sizeof big);
    big.a.struct_size = size;
    big.a.alloc = null_alloc ? NULL : al_alloc;
    big.a.free = null_free ? NULL : al_free;
    big.tail[3] = tail;
    return goconc_set_allocator(&big.a);
}

static int alloc_size0(struct fx *f) { (void)f; return set_allocator_with(0, 0, 0, 0); }
static int alloc_small(struct fx *f)
{
    (void)f;
    return set_allocator_with(sizeof(goconc_allocator) - 1, 0, 0, 0);
}
static int alloc_big_dirty(struct fx *f)
{
    (void)f;
    return set_allocator_with(sizeof(goconc_allocator) + 16, 0, 0, 1);
}
static int alloc_null_alloc(struct fx *f)
{
    (void)f;
    return set_allocator_with(sizeof(goconc_allocator), 1, 0, 0);
}
static int alloc_null_free(struct fx *f)
{
    (void)f;
    return set_allocator_with(sizeof(goconc_allocator), 0, 1, 0);
}
/* A valid allocator while a map is alive: refused, nothing switched
 * (the map keeps counting through the test allocator: fx_use, leak check). */
static int alloc_busy(struct fx *f)
{
    (void)f;
    return set_allocator_with(sizeof(goconc_allocator), 0, 0, 0);
}
static int alloc_busy_restore(struct fx *f) { (void)f; return goconc_set_allocator(NULL); }

static int alloc_busy_pending(struct fx *f)
{
    int rc;
    /* A retire whose grace period has not run yet holds it busy too. */
    goconc_read_lock();
    ck_assert_int_eq(goconc_defer_free(&objs[0], deferred, NULL), GOCONC_OK);
    f->deferred_expected++;
    rc = set_allocator_with(sizeof(goconc_allocator), 0, 0, 0);
    goconc_read_unlock();
    return rc;
}

/* Only a view left of a slice still holds the allocator busy. */
static int alloc_busy_view(struct fx *f)
{
    goconc_slice_free(f->s[0].h);
    f->s[0].h = NULL;
    return set_allocator_with(sizeof(goconc_allocator), 0, 0, 0);
}

/* So does a reference that outlived its value. */
static int alloc_busy_ref(struct fx *f)
{
    goconc_value_free(f->v);
    f->v = NULL;
    return set_allocator_with(sizeof(goconc_allocator), 0, 0, 0);
}

static int defer_null_destroy(struct fx *f)
{
    (void)f;
    return goconc_defer_free(&objs[0], NULL, NULL);
}

static int rstats_with(size_t size, unsigned char tail)
{
    struct { goconc_reclaim_stats st; unsigned char tail[16]; } big;
    memset(&big, 0, sizeof big);
    big.st.struct_size = size;
    big.tail[5] = tail;
    return goconc_reclaim_stats_get(&big.st);
}
static int rstats_null(struct fx *f) { (void)f; return goconc_reclaim_stats_get(NULL); }
static int rstats_small(struct fx *f) { (void)f; return rstats_with(sizeof(size_t), 0); }
static int rstats_big_dirty(struct fx *f)
{
    (void)f;
    return rstats_with(sizeof(goconc_reclaim_stats) + 16, 1);
}

static int sync_in_section(struct fx *f)
{
    int rc;
    (void)f;
    goconc_read_lock();
    rc = goconc_synchronize();
    goconc_read_unlock();
    return rc;
}

static int barrier_in_section(struct fx *f)
{
    int rc;
    (void)f;
    goconc_read_lock();
    goconc_read_lock();
    rc = goconc_barrier();
    goconc_read_unlock();
    goconc_read_unlock();
    return rc;
}

static void barrier_once_fn(void *ctx)
{
    struct fx *f = ctx;
    f->once_runs++;
    f->inner = goconc_barrier();
}

static int barrier_in_once(struct fx *f)
{
    ck_assert_int_eq(goconc_once_do(&f->once, barrier_once_fn, f), GOCONC_OK);
    f->once_expected = 1;
    return f->inner;
}

static void defer_barrier_cb(void *ctx, void *obj)
{
    (void)obj;
    *(int *)ctx = goconc_barrier();
    deferred_runs++;
}

static int barrier_in_callback(struct fx *f)
{
    int inner = 99;
    ck_assert_int_eq(goconc_defer_free(&objs[0], defer_barrier_cb, &inner), GOCONC_OK);
    f->deferred_expected++;
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    return inner;
}

static int unbalanced_unlock(struct fx *f)
{
    (void)f;
    goconc_read_unlock();
    goconc_read_unlock();
    /* Still balanced afterwards: a section closes, and synchronize works. */
    goconc_read_lock();
    goconc_read_unlock();
    return goconc_synchronize();
}

static int version(struct fx *f)
{
    const char *v = goconc_version_string();
    char want[32];
    (void)f;
    snprintf(want, sizeof want, "%d.%d.%d", GOCONC_VERSION_MAJOR, GOCONC_VERSION_MINOR,
             GOCONC_VERSION_PATCH);
    return goconc_version_number() == GOCONC_VERSION_NUMBER && v != NULL &&
                   strcmp(v, want) == 0
               ? GOCONC_OK
               : GOCONC_EINVAL;
}

static int rstats_big_clean(struct fx *f)
{
    (void)f;
    return rstats_with(sizeof(goconc_reclaim_stats) + 16, 0);
}

static int strerror_unknown(struct fx *f)
{
    int codes[] = { 5, -1, 12345, -12345, INT32_MIN, INT32_MAX };
    size_t i;
    (void)f;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (goconc_strerror(codes[i]) == NULL || goconc_strerror(codes[i])[0] == 0)
            return GOCONC_EINVAL;
    return GOCONC_OK;
}

/* "A pointer the library returns with length 0 is non-NULL." */
static int map_peek_empty_value(struct fx *f)
{
    const void *v = NULL;
    size_t vl = 99;
    struct kv e;
    int rc;
    kv_make(&e, 4000, 0, 16, 0);
    ck_assert_int_eq(goconc_map_store(f->m, e.k, e.kl, NULL, 0), GOCONC_OK);
    model_put(f, &e);
    goconc_read_lock();
    rc = goconc_map_peek(f->m, e.k, e.kl, &v, &vl);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(vl, 0);
    goconc_read_unlock();
    return rc;
}

/* A cursor no scan handed out: any position is a place to go on from. */
static int map_scan_wild_cursor(struct fx *f)
{
    struct visit c = { f, 0, 0 };
    uint64_t cur = UINT64_MAX;
    int rc, steps = 0;
    do
        rc = goconc_map_scan(f->m, &cur, 5, visit_model, &c);
    while (rc == GOCONC_OK && cur != 0 && ++steps < 100000);
    ck_assert_uint_eq(cur, 0);
    ck_assert_uint_eq(c.bad, 0);
    return rc;
}

/* --- slice */

static int slice_snapshot_empty(struct fx *f)
{
    int rc = goconc_slice_snapshot(f->s[0].h, &f->view);
    if (rc == GOCONC_OK) {
        f->have_view = 1;
        f->vlen = 0;
        ck_assert_ptr_nonnull(f->view.data);
    }
    return rc;
}

static int slice_new_out(struct fx *f, size_t es, size_t len, size_t cap)
{
    struct sm *t = &f->s[1];
    int rc = goconc_slice_new(&t->h, es, len, cap);
    if (rc == GOCONC_OK) {
        t->len = len;
        t->cap = cap;
    } else {
        ck_assert_ptr_null(t->h);
    }
    return rc;
}
static int slice_new_es0(struct fx *f) { return slice_new_out(f, 0, 0, 4); }
static int slice_new_len_gt_cap(struct fx *f) { return slice_new_out(f, 4, 5, 4); }
static int slice_new_cap_max(struct fx *f) { return slice_new_out(f, 4, 0, SIZE_MAX); }
static int slice_new_es_max(struct fx *f) { return slice_new_out(f, SIZE_MAX, 0, 2); }
static int slice_new_product(struct fx *f)
{
    return slice_new_out(f, (SIZE_MAX >> 4) + 1, 1, 16);
}
static int slice_new_huge(struct fx *f) { return slice_new_out(f, 4, 0, (size_t)1 << 32); }
static int slice_new_zero(struct fx *f) { return slice_new_out(f, 4, 0, 0); }

static int slice_get_ck(struct fx *f, size_t i)
{
    int32_t x = 5;
    int rc = goconc_slice_get(f->s[0].h, i, &x);
    ck_assert_int_eq(x, 5); /* out untouched on failure */
    return rc;
}
static int slice_get_len(struct fx *f) { return slice_get_ck(f, f->s[0].len); }
static int slice_get_max(struct fx *f) { return slice_get_ck(f, SIZE_MAX); }

static int slice_set_at(struct fx *f, size_t i)
{
    int32_t x = 99;
    return goconc_slice_set(f->s[0].h, i, &x);
}
static int slice_set_len(struct fx *f) { return slice_set_at(f, f->s[0].len); }
static int slice_set_max(struct fx *f) { return slice_set_at(f, SIZE_MAX); }

static int slice_append_n(struct fx *f, size_t n)
{
    int32_t x[2] = { 1, 2 };
    size_t first = 77;
    int rc = goconc_slice_append(f->s[0].h, x, n, &first);
    if (rc != GOCONC_OK)
        ck_assert_uint_eq(first, 77);
    return rc;
}
static int slice_append_es_overflow(struct fx *f)
{
    return slice_append_n(f, SIZE_MAX / sizeof(int32_t) + 1);
}
static int slice_append_len_overflow(struct fx *f)
{
    return slice_append_n(f, SIZE_MAX / sizeof(int32_t));
}
static int slice_append_huge(struct fx *f) { return slice_append_n(f, (size_t)1 << 30); }

static int slice_append_zero_null(struct fx *f)
{
    size_t first = 77;
    int rc = goconc_slice_append(f->s[0].h, NULL, 0, &first);
    ck_assert_uint_eq(first, f->s[0].len);
    return rc;
}

static int slice_reslice_b(struct fx *f, size_t lo, size_t hi, size_t mx)
{
    struct sm *t = &f->s[1];
    int rc = goconc_slice_reslice(f->s[0].h, lo, hi, mx, &t->h);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(t->h);
    return rc;
}
static int reslice_lo_gt_hi(struct fx *f) { return slice_reslice_b(f, 3, 2, 4); }
static int reslice_hi_gt_max(struct fx *f) { return slice_reslice_b(f, 0, 5, 4); }
static int reslice_max_gt_cap(struct fx *f) { return slice_reslice_b(f, 0, 1, 9); }
static int reslice_all_max(struct fx *f)
{
    return slice_reslice_b(f, SIZE_MAX, SIZE_MAX, SIZE_MAX);
}

static int slice_copy_es(struct fx *f)
{
    goconc_slice *b = NULL;
    size_t n = 77;
    int rc;
    ck_assert_int_eq(goconc_slice_new(&b, 8, 2, 2), GOCONC_OK);
    rc = goconc_slice_copy(f->s[0].h, b, &n);
    goconc_slice_free(b);
    ck_assert_uint_eq(n, 77);
    return rc;
}

static int slice_view_twice(struct fx *f)
{
    goconc_view v;
    ck_assert_int_eq(goconc_slice_snapshot(f->s[0].h, &v), GOCONC_OK);
    goconc_view_release(&v);
    goconc_view_release(&v); /* idempotent */
    memset(&v, 0, sizeof v);
    goconc_view_release(&v); /* a zeroed view */
    goconc_view_release(NULL);
    return GOCONC_OK;
}

static int slice_null_accessors(struct fx *f)
{
    (void)f;
    goconc_slice_free(NULL);
    return goconc_slice_len(NULL) == 0 && goconc_slice_cap(NULL) == 0 &&
                   goconc_slice_elem_size(NULL) == 0
               ? GOCONC_OK
               : GOCONC_EINVAL;
}

static int slice_snapshot_null_view(struct fx *f)
{
    return goconc_slice_snapshot(f->s[0].h, NULL);
}

/* --- value */

static int value_swap_null_old(struct fx *f) { return goconc_value_swap(f->v, &objs[2], NULL); }

static int value_swap_null_obj(struct fx *f)
{
    goconc_value_ref *old = (goconc_value_ref *)&objs[0];
    int rc = goconc_value_swap(f->v, NULL, &old);
    ck_assert_ptr_null(old); /* set NULL before the checks */
    return rc;
}

static int value_swap_null_v(struct fx *f)
{
    goconc_value_ref *old = (goconc_value_ref *)&objs[0];
    int rc = goconc_value_swap(NULL, &objs[2], &old);
    (void)f;
    ck_assert_ptr_null(old);
    return rc;
}

static int value_null_reads(struct fx *f)
{
    (void)f;
    goconc_value_free(NULL);
    goconc_value_release(NULL);
    return goconc_value_load(NULL) == NULL && goconc_value_acquire(NULL) == NULL &&
                   goconc_value_ref_get(NULL) == NULL
               ? GOCONC_OK
               : GOCONC_EINVAL;
}

/* destroy may be NULL: stored objects are then only forgotten. */
static int value_new_no_destroy(struct fx *f)
{
    int rc = goconc_value_new(&f->v, NULL, NULL);
    f->forget = 1;
    if (rc == GOCONC_OK)
        rc = value_store_i(f, 4);
    return rc;
}

static int value_acquire_empty(struct fx *f)
{
    return goconc_value_acquire(f->v) == NULL ? GOCONC_OK : GOCONC_EINVAL;
}

/* --- pool */

static int pool_new_with(struct fx *f, size_t size, unsigned char tail)
{
    struct { goconc_pool_options o; unsigned char tail[16]; } big;
    int rc;
    memset(&big, 0, sizeof big);
    big.o.struct_size = size;
    big.o.new_obj = tobj_new;
    big.o.free_obj = tobj_free;
    big.tail[2] = tail;
    rc = goconc_pool_new(&f->p, &big.o);
    if (rc != GOCONC_OK)
        ck_assert_ptr_null(f->p);
    return rc;
}
static int pool_new_size0(struct fx *f) { return pool_new_with(f, 0, 0); }
static int pool_new_small(struct fx *f)
{
    return pool_new_with(f, sizeof(goconc_pool_options) - 1, 0);
}
static int pool_new_big_dirty(struct fx *f)
{
    return pool_new_with(f, sizeof(goconc_pool_options) + 16, 1);
}
static int pool_new_big_clean(struct fx *f)
{
    return pool_new_with(f, sizeof(goconc_pool_options) + 16, 0);
}

static int pool_stats_with(struct fx *f, size_t size)
{
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    st.struct_size = size;
    return goconc_pool_stats_get(f->p, &st);
}
static int pool_stats_small(struct fx *f) { return pool_stats_with(f, sizeof(size_t)); }

static int pool_stats_big(struct fx *f, unsigned char tail)
{
    struct { goconc_pool_stats st; unsigned char tail[16]; } big;
    int rc;
    memset(&big, 0, sizeof big);
    big.st.struct_size = sizeof big;
    big.tail[9] = tail;
    rc = goconc_pool_stats_get(f->p, &big.st);
    ck_assert_uint_eq(big.tail[0], 0); /* nothing written past the library's struct */
    return rc;
}
static int pool_stats_big_dirty(struct fx *f) { return pool_stats_big(f, 1); }
static int pool_stats_big_clean(struct fx *f) { return pool_stats_big(f, 0); }
static int pool_stats_null(struct fx *f) { return goconc_pool_stats_get(f->p, NULL); }
static int pool_stats_null_pool(struct fx *f)
{
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    (void)f;
    return goconc_pool_stats_get(NULL, &st);
}

/* The contract: no crash on a NULL it can detect; nothing to return. */
static int pool_null_handle(struct fx *f)
{
    int x;
    (void)f;
    goconc_pool_put(NULL, &x);
    goconc_pool_trim(NULL);
    goconc_pool_free(NULL);
    return goconc_pool_get(NULL) == NULL ? GOCONC_OK : GOCONC_EINVAL;
}

static int pool_put_null(struct fx *f)
{
    goconc_pool_put(f->p, NULL);
    return GOCONC_OK;
}

static int pool_get_no_new(struct fx *f)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p = NULL;
    void *x;
    (void)f;
    ck_assert_int_eq(goconc_pool_new(&p, &o), GOCONC_OK);
    x = goconc_pool_get(p);
    goconc_pool_free(p);
    return x == NULL ? GOCONC_OK : GOCONC_EINVAL;
}

/* --- once */

static void once_reenter_fn(void *ctx)
{
    struct fx *f = ctx;
    f->once_runs++;
    f->inner = goconc_once_do(&f->once, once_fn, f);
}

static int once_reenter(struct fx *f)
{
    ck_assert_int_eq(goconc_once_do(&f->once, once_reenter_fn, f), GOCONC_OK);
    f->once_expected = 1;
    return f->inner;
}

static int try_fail_fn(void *ctx)
{
    ((struct fx *)ctx)->once_runs++;
    return -7;
}

static int once_try_fails(struct fx *f)
{
    int rc = goconc_once_try(&f->once, try_fail_fn, f);
    f->once_runs = 0; /* ran, did not complete: still not done */
    return rc;
}

static int try_positive_fn(void *ctx)
{
    (void)ctx;
    return 5;
}

static int once_null_done(struct fx *f)
{
    (void)f;
    return goconc_once_done(NULL) == 0 ? GOCONC_OK : GOCONC_EINVAL;
}

static void nop_fn(void *ctx) { (void)ctx; }
static int nop_try(void *ctx) { (void)ctx; return 0; }

/*
 * One row per case: name, fixture, the call, the status the header (or,
 * where the header is silent, API.md) promises.  X(name, build, want, expr)
 * with expr a status expression over `f`.
 */
#define EINVAL_ GOCONC_EINVAL
#define BAD_ROWS(X)                                                                            \
    X(set_allocator_size0, b_none, EINVAL_, alloc_size0(f))                                    \
    X(set_allocator_small, b_none, EINVAL_, alloc_small(f))                                    \
    X(set_allocator_big_dirty, b_none, EINVAL_, alloc_big_dirty(f))                            \
    X(set_allocator_null_alloc, b_none, EINVAL_, alloc_null_alloc(f))                          \
    X(set_allocator_null_free, b_none, EINVAL_, alloc_null_free(f))                            \
    X(set_allocator_busy, b_map20, GOCONC_EBUSY, alloc_busy(f))                                \
    X(set_allocator_busy_null, b_value, GOCONC_EBUSY, alloc_busy_restore(f))                   \
    X(set_allocator_busy_pending, b_none, GOCONC_EBUSY, alloc_busy_pending(f))                 \
    X(set_allocator_busy_view, b_slice_view, GOCONC_EBUSY, alloc_busy_view(f))                 \
    X(set_allocator_busy_ref, b_value_ref, GOCONC_EBUSY, alloc_busy_ref(f))                    \
    X(defer_free_null_destroy, b_none, EINVAL_, defer_null_destroy(f))                         \
    X(reclaim_stats_null, b_none, EINVAL_, rstats_null(f))                                     \
    X(reclaim_stats_small, b_none, EINVAL_, rstats_small(f))                                   \
    X(reclaim_stats_big_dirty, b_none, EINVAL_, rstats_big_dirty(f))                           \
    X(reclaim_stats_big_clean, b_none, GOCONC_OK, rstats_big_clean(f))                         \
    X(version, b_none, GOCONC_OK, version(f))                                                  \
    X(synchronize_in_section, b_none, GOCONC_EDEADLK, sync_in_section(f))                      \
    X(barrier_in_section, b_none, GOCONC_EDEADLK, barrier_in_section(f))                       \
    X(barrier_in_once, b_none, GOCONC_EDEADLK, barrier_in_once(f))                             \
    X(barrier_in_callback, b_none, GOCONC_EDEADLK, barrier_in_callback(f))                     \
    X(synchronize_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 4))                         \
    X(barrier_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 5))                             \
    X(read_unlock_unbalanced, b_none, GOCONC_OK, unbalanced_unlock(f))                         \
    X(strerror_unknown, b_none, GOCONC_OK, strerror_unknown(f))                                \
    X(map_new_null_out, b_none, EINVAL_, goconc_map_new(NULL, NULL))                           \
    X(map_new_size0, b_none, EINVAL_, map_new_size0(f))                                        \
    X(map_new_size_small, b_none, EINVAL_, map_new_size_small(f))                              \
    X(map_new_size_big_dirty, b_none, EINVAL_, map_new_size_big_dirty(f))                      \
    X(map_new_size_big_clean, b_none, GOCONC_OK, map_new_size_big_clean(f))                    \
    X(map_new_shards_3, b_none, EINVAL_, map_new_shards3(f))                                   \
    X(map_new_shards_huge, b_none, EINVAL_, map_new_shards_huge(f))                            \
    X(map_new_capacity_max, b_none, GOCONC_EOVERFLOW, map_new_cap_max(f))                      \
    KNOWN_BUG_6_ROW(X)                                                                         \
    X(map_new_capacity_huge, b_none, GOCONC_ENOMEM, map_new_cap_huge(f))                       \
    X(map_load_null_map, b_none, EINVAL_, goconc_map_load(NULL, "k", 1, NULL, 0, NULL))        \
    X(map_load_null_key, b_map20, EINVAL_, goconc_map_load(f->m, NULL, 3, NULL, 0, NULL))      \
    X(map_load_null_val, b_map20, EINVAL_,                                                     \
      goconc_map_load(f->m, f->kv[0].k, f->kv[0].kl, NULL, 8, NULL))                           \
    X(map_load_short, b_map20, GOCONC_ERANGE, map_load_short(f))                               \
    X(map_load_presence, b_map20, GOCONC_OK,                                                   \
      goconc_map_load(f->m, f->kv[0].k, f->kv[0].kl, NULL, 0, NULL))                           \
    X(map_load_absent, b_map20, GOCONC_NOTFOUND, goconc_map_load(f->m, "nope", 4, NULL, 0, NULL)) \
    X(map_load_empty_key, b_map20, GOCONC_NOTFOUND,                                            \
      goconc_map_load(f->m, NULL, 0, NULL, 0, NULL))                                           \
    X(map_peek_outside_section, b_map20, EINVAL_, map_peek_outside(f))                         \
    X(map_peek_null_val, b_map20, EINVAL_, map_peek_null_val(f))                               \
    X(map_peek_empty_key, b_map20, GOCONC_NOTFOUND, map_peek_empty_key(f))                     \
    X(map_peek_empty_value, b_map20, GOCONC_OK, map_peek_empty_value(f))                       \
    X(map_store_null_map, b_none, EINVAL_, goconc_map_store(NULL, "k", 1, "v", 1))             \
    X(map_store_null_key, b_map20, EINVAL_, goconc_map_store(f->m, NULL, 1, "v", 1))           \
    X(map_store_null_val, b_map20, EINVAL_, goconc_map_store(f->m, "k", 1, NULL, 1))           \
    X(map_store_empty, b_map20, GOCONC_OK, map_store_empty(f))                                 \
    X(map_store_vlen_max, b_map20, GOCONC_EOVERFLOW,                                           \
      goconc_map_store(f->m, "k", 1, "v", SIZE_MAX))                                           \
    X(map_store_vlen_huge, b_map20, GOCONC_ENOMEM,                                             \
      goconc_map_store(f->m, "k", 1, "v", (size_t)1 << 40))                                    \
    KNOWN_BUG_KLEN_ROW(X)                                                                      \
    X(map_load_or_store_null_out, b_map20, EINVAL_,                                            \
      goconc_map_load_or_store(f->m, "k", 1, "v", 1, NULL, 4, NULL))                           \
    X(map_load_or_store_short, b_map20, GOCONC_ERANGE, map_los_short(f))                       \
    X(map_load_or_store_null_map, b_none, EINVAL_,                                             \
      goconc_map_load_or_store(NULL, "k", 1, "v", 1, NULL, 0, NULL))                           \
    X(map_load_and_delete_short, b_map20, GOCONC_ERANGE, map_lad_short(f))                     \
    X(map_load_and_delete_absent, b_map20, GOCONC_NOTFOUND,                                    \
      goconc_map_load_and_delete(f->m, "nope", 4, NULL, 0, NULL))                              \
    X(map_load_and_delete_null_out, b_map20, EINVAL_,                                          \
      goconc_map_load_and_delete(f->m, f->kv[0].k, f->kv[0].kl, NULL, 8, NULL))                \
    X(map_delete_null_map, b_none, EINVAL_, goconc_map_delete(NULL, "k", 1))                   \
    X(map_delete_null_key, b_map20, EINVAL_, goconc_map_delete(f->m, NULL, 2))                 \
    X(map_delete_absent, b_map20, GOCONC_NOTFOUND, goconc_map_delete(f->m, "nope", 4))         \
    X(map_swap_short, b_map20, GOCONC_ERANGE, map_swap_short(f))                               \
    X(map_swap_null_val, b_map20, EINVAL_,                                                     \
      goconc_map_swap(f->m, "k", 1, NULL, 3, NULL, 0, NULL))                                   \
    X(map_swap_null_map, b_none, EINVAL_, goconc_map_swap(NULL, "k", 1, "v", 1, NULL, 0, NULL)) \
    X(map_cas_changed, b_map20, GOCONC_CHANGED, map_cas_changed(f))                            \
    X(map_cas_absent, b_map20, GOCONC_NOTFOUND,                                                \
      goconc_map_compare_and_swap(f->m, "nope", 4, "a", 1, "b", 1))                            \
    X(map_cas_null_old, b_map20, EINVAL_,                                                      \
      goconc_map_compare_and_swap(f->m, f->kv[0].k, f->kv[0].kl, NULL, 3, "b", 1))             \
    X(map_cas_null_val, b_map20, EINVAL_,                                                      \
      goconc_map_compare_and_swap(f->m, f->kv[0].k, f->kv[0].kl, "a", 1, NULL, 3))             \
    X(map_cad_changed, b_map20, GOCONC_CHANGED, map_cad_changed(f))                            \
    X(map_cad_absent, b_map20, GOCONC_NOTFOUND,                                                \
      goconc_map_compare_and_delete(f->m, "nope", 4, "a", 1))                                  \
    X(map_cad_null_old, b_map20, EINVAL_,                                                      \
      goconc_map_compare_and_delete(f->m, f->kv[0].k, f->kv[0].kl, NULL, 3))                   \
    X(map_update_null_fn, b_map20, EINVAL_,                                                    \
      goconc_map_update(f->m, f->kv[0].k, f->kv[0].kl, NULL, NULL))                            \
    X(map_update_null_map, b_none, EINVAL_, goconc_map_update(NULL, "k", 1, upd_fn, NULL))     \
    X(map_update_bad_return, b_map20, EINVAL_, map_update_ret(f, 99, "x", 1))                  \
    X(map_update_zero_return, b_map20, EINVAL_, map_update_ret(f, 0, "x", 1))                  \
    X(map_update_negative, b_map20, -7, map_update_ret(f, -7, "x", 1))                         \
    X(map_update_store_null, b_map20, EINVAL_,                                                 \
      map_update_ret(f, GOCONC_UPDATE_STORE, NULL, 5))                                         \
    X(map_update_delete_absent, b_map20, GOCONC_OK,                                            \
      map_update_absent(f, GOCONC_UPDATE_DELETE))                                              \
    X(map_store_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 0))                           \
    X(map_clear_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 1))                           \
    X(map_reserve_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 2))                         \
    X(map_maintain_in_update, b_map20, GOCONC_EDEADLK, map_inner(f, 3))                        \
    X(map_range_null_fn, b_map20, EINVAL_, goconc_map_range(f->m, NULL, NULL))                 \
    X(map_range_null_map, b_none, EINVAL_, goconc_map_range(NULL, visit_model, NULL))          \
    X(map_range_stopped, b_map20, GOCONC_STOPPED, goconc_map_range(f->m, stop_visit, NULL))    \
    X(map_scan_null_map, b_map20, EINVAL_, map_scan_args(f, 0))                                \
    X(map_scan_null_cursor, b_map20, EINVAL_, map_scan_args(f, 1))                             \
    X(map_scan_zero_max, b_map20, EINVAL_, map_scan_args(f, 2))                                \
    X(map_scan_null_fn, b_map20, EINVAL_, map_scan_args(f, 3))                                 \
    X(map_scan_wild_cursor, b_map20, GOCONC_OK, map_scan_wild_cursor(f))                       \
    X(map_reserve_null, b_none, EINVAL_, goconc_map_reserve(NULL, 10))                         \
    X(map_reserve_max, b_map20, GOCONC_EOVERFLOW, goconc_map_reserve(f->m, SIZE_MAX))          \
    X(map_reserve_half, b_map20, GOCONC_EOVERFLOW, goconc_map_reserve(f->m, SIZE_MAX / 2 + 1)) \
    X(map_reserve_huge, b_map20, GOCONC_ENOMEM, goconc_map_reserve(f->m, (size_t)1 << 32))     \
    X(map_reserve_zero, b_map20, GOCONC_OK, goconc_map_reserve(f->m, 0))                       \
    X(map_maintain_null, b_none, EINVAL_, map_maintain_null(f))                                \
    X(map_maintain_zero, b_map20, GOCONC_OK, goconc_map_maintain(f->m, 0, NULL))               \
    X(map_clear_null, b_none, EINVAL_, goconc_map_clear(NULL))                                 \
    X(map_len_null, b_none, GOCONC_OK, map_len_null(f))                                        \
    X(map_free_null, b_none, GOCONC_OK, map_free_null(f))                                      \
    X(map_stats_null_map, b_none, EINVAL_, goconc_map_stats_get(NULL, NULL))                   \
    X(map_stats_null_out, b_map20, EINVAL_, goconc_map_stats_get(f->m, NULL))                  \
    X(map_stats_small, b_map20, EINVAL_, map_stats_small(f))                                   \
    X(map_stats_big_dirty, b_map20, EINVAL_, map_stats_big_dirty(f))                           \
    X(map_stats_big_clean, b_map20, GOCONC_OK, map_stats_big_clean(f))                         \
    X(slice_new_null_out, b_none, EINVAL_, goconc_slice_new(NULL, 4, 0, 1))                    \
    X(slice_new_elem_size_0, b_none, EINVAL_, slice_new_es0(f))                                \
    X(slice_new_len_gt_cap, b_none, GOCONC_ERANGE, slice_new_len_gt_cap(f))                    \
    X(slice_new_cap_max, b_none, GOCONC_EOVERFLOW, slice_new_cap_max(f))                       \
    X(slice_new_elem_size_max, b_none, GOCONC_EOVERFLOW, slice_new_es_max(f))                  \
    X(slice_new_product_overflow, b_none, GOCONC_EOVERFLOW, slice_new_product(f))              \
    X(slice_new_huge, b_none, GOCONC_ENOMEM, slice_new_huge(f))                                \
    X(slice_new_zero, b_none, GOCONC_OK, slice_new_zero(f))                                    \
    X(slice_get_null, b_none, EINVAL_, goconc_slice_get(NULL, 0, &objs[0]))                    \
    X(slice_get_null_out, b_slice, EINVAL_, goconc_slice_get(f->s[0].h, 0, NULL))              \
    X(slice_get_len, b_slice, GOCONC_ERANGE, slice_get_len(f))                                 \
    X(slice_get_max, b_slice, GOCONC_ERANGE, slice_get_max(f))                                 \
    X(slice_set_null, b_none, EINVAL_, goconc_slice_set(NULL, 0, &objs[0]))                    \
    X(slice_set_null_elem, b_slice, EINVAL_, goconc_slice_set(f->s[0].h, 0, NULL))             \
    X(slice_set_len, b_slice, GOCONC_ERANGE, slice_set_len(f))                                 \
    X(slice_set_max, b_slice_view, GOCONC_ERANGE, slice_set_max(f))                            \
    X(slice_append_null, b_none, EINVAL_, goconc_slice_append(NULL, &objs[0], 1, NULL))        \
    X(slice_append_null_elems, b_slice, EINVAL_, goconc_slice_append(f->s[0].h, NULL, 1, NULL)) \
    X(slice_append_zero_null, b_slice, GOCONC_OK, slice_append_zero_null(f))                   \
    X(slice_append_bytes_overflow, b_slice, GOCONC_EOVERFLOW, slice_append_es_overflow(f))     \
    X(slice_append_len_overflow, b_slice, GOCONC_EOVERFLOW, slice_append_len_overflow(f))      \
    X(slice_append_huge, b_slice_full, GOCONC_ENOMEM, slice_append_huge(f))                    \
    X(slice_reslice_null, b_none, EINVAL_, goconc_slice_reslice(NULL, 0, 0, 0, NULL))          \
    X(slice_reslice_null_out, b_slice, EINVAL_, goconc_slice_reslice(f->s[0].h, 0, 1, 2, NULL)) \
    X(slice_reslice_low_gt_high, b_slice, GOCONC_ERANGE, reslice_lo_gt_hi(f))                  \
    X(slice_reslice_high_gt_max, b_slice, GOCONC_ERANGE, reslice_hi_gt_max(f))                 \
    X(slice_reslice_max_gt_cap, b_slice, GOCONC_ERANGE, reslice_max_gt_cap(f))                 \
    X(slice_reslice_all_max, b_slice, GOCONC_ERANGE, reslice_all_max(f))                       \
    X(slice_copy_null_dst, b_slice, EINVAL_, goconc_slice_copy(NULL, f->s[0].h, NULL))         \
    X(slice_copy_null_src, b_slice, EINVAL_, goconc_slice_copy(f->s[0].h, NULL, NULL))         \
    X(slice_copy_elem_size, b_slice, EINVAL_, slice_copy_es(f))                                \
    X(slice_clone_null, b_none, EINVAL_, goconc_slice_clone(NULL, NULL))                       \
    X(slice_clone_null_out, b_slice, EINVAL_, goconc_slice_clone(f->s[0].h, NULL))             \
    X(slice_snapshot_null, b_none, EINVAL_, goconc_slice_snapshot(NULL, &f->view))             \
    X(slice_snapshot_null_view, b_slice, EINVAL_, slice_snapshot_null_view(f))                 \
    X(slice_snapshot_empty, b_slice_empty, GOCONC_OK, slice_snapshot_empty(f))                 \
    X(view_release_twice, b_slice, GOCONC_OK, slice_view_twice(f))                             \
    X(slice_range_null_fn, b_slice, EINVAL_, goconc_slice_range(f->s[0].h, NULL, NULL))        \
    X(slice_range_null, b_none, EINVAL_, goconc_slice_range(NULL, slice_visit, NULL))          \
    X(slice_range_stopped, b_slice, GOCONC_STOPPED,                                            \
      goconc_slice_range(f->s[0].h, stop_slice_visit, NULL))                                   \
    X(slice_null_accessors, b_none, GOCONC_OK, slice_null_accessors(f))                        \
    X(value_new_null_out, b_none, EINVAL_, goconc_value_new(NULL, value_destroy, NULL))        \
    X(value_store_null_obj, b_value1, EINVAL_, goconc_value_store(f->v, NULL))                 \
    X(value_store_null_value, b_none, EINVAL_, goconc_value_store(NULL, &objs[2]))             \
    X(value_swap_null_old, b_value1, EINVAL_, value_swap_null_old(f))                          \
    X(value_swap_null_obj, b_value1, EINVAL_, value_swap_null_obj(f))                          \
    X(value_swap_null_value, b_none, EINVAL_, value_swap_null_v(f))                            \
    X(value_cas_null_obj, b_value1, EINVAL_, goconc_value_compare_and_swap(f->v, &objs[1], NULL)) \
    X(value_cas_null_value, b_none, EINVAL_,                                                   \
      goconc_value_compare_and_swap(NULL, NULL, &objs[2]))                                     \
    X(value_cas_changed, b_value1, GOCONC_CHANGED,                                             \
      goconc_value_compare_and_swap(f->v, &objs[5], &objs[2]))                                 \
    X(value_cas_not_empty, b_value1, GOCONC_CHANGED,                                           \
      goconc_value_compare_and_swap(f->v, NULL, &objs[2]))                                     \
    X(value_null_reads, b_none, GOCONC_OK, value_null_reads(f))                                \
    X(value_acquire_empty, b_value, GOCONC_OK, value_acquire_empty(f))                         \
    X(value_new_null_destroy, b_none, GOCONC_OK, value_new_no_destroy(f))                      \
    X(pool_new_null_out, b_none, EINVAL_, goconc_pool_new(NULL, NULL))                         \
    X(pool_new_size0, b_none, EINVAL_, pool_new_size0(f))                                      \
    X(pool_new_small, b_none, EINVAL_, pool_new_small(f))                                      \
    X(pool_new_big_dirty, b_none, EINVAL_, pool_new_big_dirty(f))                              \
    X(pool_new_big_clean, b_none, GOCONC_OK, pool_new_big_clean(f))                            \
    X(pool_stats_null_out, b_pool_cached, EINVAL_, pool_stats_null(f))                         \
    X(pool_stats_null_pool, b_none, EINVAL_, pool_stats_null_pool(f))                          \
    X(pool_stats_small, b_pool_cached, EINVAL_, pool_stats_small(f))                           \
    X(pool_stats_big_dirty, b_pool_cached, EINVAL_, pool_stats_big_dirty(f))                   \
    X(pool_stats_big_clean, b_pool_cached, GOCONC_OK, pool_stats_big_clean(f))                 \
    X(pool_null_handle, b_none, GOCONC_OK, pool_null_handle(f))                                \
    X(pool_put_null, b_pool_cached, GOCONC_OK, pool_put_null(f))                               \
    X(pool_get_without_new, b_none, GOCONC_OK, pool_get_no_new(f))                             \
    X(once_do_null, b_none, EINVAL_, goconc_once_do(NULL, nop_fn, NULL))                       \
    X(once_do_null_fn, b_none, EINVAL_, goconc_once_do(&f->once, NULL, NULL))                  \
    X(once_try_null, b_none, EINVAL_, goconc_once_try(NULL, nop_try, NULL))                    \
    X(once_try_null_fn, b_none, EINVAL_, goconc_once_try(&f->once, NULL, NULL))                \
    X(once_do_reentered, b_none, GOCONC_EDEADLK, once_reenter(f))                              \
    X(once_try_fails, b_none, -7, once_try_fails(f))                                           \
    X(once_try_positive, b_none, 5, goconc_once_try(&f->once, try_positive_fn, NULL))          \
    X(once_done_null, b_none, GOCONC_OK, once_null_done(f))

/* capacity_hint = SIZE_MAX with one shard: the per-shard share used to
 * wrap and the map was made small. */
static int map_new_cap_max_1shard(struct fx *f)
{
    return map_new_opts_with(f, sizeof(goconc_map_options), 1, SIZE_MAX, 0);
}
#define KNOWN_BUG_6_ROW(X) \
    X(map_new_capacity_max_1shard, b_none, GOCONC_EOVERFLOW, map_new_cap_max_1shard(f))

/* A key length no object can have (SIZE_MAX): a write rejects it without
 * reading the key (it used to hash klen bytes first and fault). */
static int map_store_klen_max(struct fx *f)
{
    return goconc_map_store(f->m, "k", SIZE_MAX, "v", 1);
}
static int upd_keep(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                    size_t *nl)
{
    (void)ctx, (void)old, (void)oldlen, (void)found, (void)nv, (void)nl;
    return GOCONC_UPDATE_KEEP;
}
static int map_update_klen_max(struct fx *f)
{
    return goconc_map_update(f->m, "k", SIZE_MAX, upd_keep, NULL);
}
static int map_delete_klen_max(struct fx *f)
{
    return goconc_map_delete(f->m, "k", SIZE_MAX);
}
static int map_load_klen_max(struct fx *f)
{
    char v[8];
    size_t n = 1;
    int rc = goconc_map_load(f->m, "k", SIZE_MAX, v, sizeof v, &n);
    return rc == GOCONC_NOTFOUND && n == 1 ? rc : -100;
}
#define KNOWN_BUG_KLEN_ROW(X) \
    X(map_load_klen_max, b_map20, GOCONC_NOTFOUND, map_load_klen_max(f)) \
    X(map_store_klen_max, b_map20, GOCONC_EOVERFLOW, map_store_klen_max(f)) \
    X(map_update_klen_max, b_map20, GOCONC_EOVERFLOW, map_update_klen_max(f)) \
    X(map_delete_klen_max, b_map20, GOCONC_NOTFOUND, map_delete_klen_max(f))

#define BAD_FN(name, build, want, expr)                                                    \
    static int bad_##name(struct fx *f) { (void)f; return (expr); }
BAD_ROWS(BAD_FN)
#define BAD_ROW(name, build, want, expr) { #name, build, bad_##name, want, 0 },
static const struct row bad_rows[] = { BAD_ROWS(BAD_ROW) };
#define N_BAD_ROWS (int)(sizeof bad_rows / sizeof bad_rows[0])

static void bad_row(const struct row *r)
{
    long base = warm_baseline(), left;
    struct fx f;
    int rc;

    fx_init(&f);
    r->build(&f);
    fx_check(&f);
    rc = r->call(&f);
    ck_assert_msg(rc == r->want, "%s: status %d (%s), want %d (%s)", r->name, rc,
                  goconc_strerror(rc), r->want, goconc_strerror(r->want));
    fx_check(&f); /* unchanged (or changed as the row's model says) */
    fx_use(&f);
    fx_check(&f);
    fx_free(&f);
    left = tu_settle() - base;
    ck_assert_msg(left == 0, "%s: %ld blocks leaked", r->name, left);
    fx_check_reclaimed(&f);
}

/* The bad rows run one module to a test (a process each, as above); a
 * failure names its row, and FAULTS_ROW=<name> runs that row alone. */
static const char *const groups[] = { "map_", "slice_", "value_", "pool_", "once_", "" };
#define N_GROUPS (int)(sizeof groups / sizeof groups[0])

static int group_of(const char *name)
{
    int g;
    if (strncmp(name, "view_", 5) == 0)
        return 1;
    for (g = 0; g < N_GROUPS - 1; g++)
        if (strncmp(name, groups[g], strlen(groups[g])) == 0)
            return g;
    return N_GROUPS - 1; /* the common functions */
}

static const char *only_row;

static int selected(const char *name)
{
    return only_row == NULL || strcmp(only_row, name) == 0;
}

START_TEST(bad_arguments)
{
    int i, ran = 0;
    for (i = 0; i < N_BAD_ROWS; i++)
        if (group_of(bad_rows[i].name) == _i && selected(bad_rows[i].name)) {
            bad_row(&bad_rows[i]);
            ran++;
        }
    ck_assert_int_gt(ran, 0);
    if (getenv("FAULTS_VERBOSE"))
        fprintf(stderr, "bad arguments, %s group: %d rows\n",
                groups[_i][0] ? groups[_i] : "common", ran);
}
END_TEST

/* ---------------------------------------------------------------- main */

/*
 * The loop ranges over fault_rows and groups that FAULTS_ROW leaves: all
 * of them, or the one fault row of that name and the one group holding
 * the bad-argument row of that name (each range empty where there is no
 * such row).  Returns 0 when neither table has the row.
 */
static int only_row_ranges(int *fault_lo, int *fault_hi, int *group_lo, int *group_hi)
{
    int i, found = 0;
    if (only_row == NULL)
        return 1;
    *fault_lo = *fault_hi = *group_lo = *group_hi = 0;
    for (i = 0; i < N_FAULT_ROWS; i++)
        if (selected(fault_rows[i].name)) {
            *fault_lo = i;
            *fault_hi = i + 1;
            found = 1;
        }
    for (i = 0; i < N_BAD_ROWS; i++)
        if (selected(bad_rows[i].name)) {
            *group_lo = group_of(bad_rows[i].name);
            *group_hi = *group_lo + 1;
            found = 1;
        }
    return found;
}

int main(void)
{
    int fault_lo = 0, fault_hi = N_FAULT_ROWS, group_lo = 0, group_hi = N_GROUPS;

    only_row = getenv("FAULTS_ROW"); /* one row alone (debugging) */
    if (!only_row_ranges(&fault_lo, &fault_hi, &group_lo, &group_hi)) {
        fprintf(stderr, "FAULTS_ROW=%s: no such row\n", only_row);
        return EXIT_FAILURE;
    }
    tu_alloc_install();
    tu_alloc_limit(ALLOC_LIMIT);
    {
        const struct tu_case cases[] = {
            TU_LOOP(fault_sweep, fault_lo, fault_hi),
            TU_LOOP(bad_arguments, group_lo, group_hi),
        };
        return TU_RUN(cases, .name = "faults", .timeout = 120);
    }
}
