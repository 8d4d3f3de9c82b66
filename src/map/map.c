/* SPDX-License-Identifier: MIT */
/*
 * map.c - the public face of goconc_map: construction and free, lookups
 * (lock-free, writing nothing) with the load's short path, the write
 * calls (each one operation of write.c's map_write; goconc_map_store is there),
 * update with re-entry detection, clear, len and stats.
 *
 * Where the rest is: layout.h (the objects and their bits), probe.h (the
 * probe-chain walk and the lookup), write.c (a write's steps), slot.c
 * (slot writes, grace tracking), migrate.c (the migration state machine,
 * reserve, maintain), table.c (tables, entries), iter.c (range, scan),
 * hash.c, tuning.h (every tunable).  doc/map.md has the design.
 */
#include "map/migrate.h"
#include "map/probe.h"
#include "map/table.h"
#include "map/write.h"

/* ------------------------------------------------------------ helpers */

static void *alloc_aligned(size_t size, void **raw)
{
    void *p;
    if (size > SIZE_MAX - GC_PAD)
        return NULL;
    p = gc_alloc(size + GC_PAD - 1);
    *raw = p;
    if (p == NULL)
        return NULL;
    p = (void *)(((uintptr_t)p + GC_PAD - 1) & ~(uintptr_t)(GC_PAD - 1));
    memset(p, 0, size);
    return p;
}

/* The tables a clear or free hands to one deferred destroy. */
struct map_batch {
    struct gc_token tok;    /* goconc_map_free's retire: reserved at new */
    void *ctx;              /* the map's ctx, for on_drop */
    size_t n;
    struct map_table *t[];
};

static void batch_destroy(void *ctx, void *obj)
{
    struct map_batch *b = obj;
    size_t i;
    for (i = 0; i < b->n; i++)
        map_table_destroy(ctx, b->t[i]);
    gc_free(b);
}

static struct map_batch *batch_new(unsigned nshards)
{
    struct map_batch *b = gc_alloc(sizeof *b + 2 * (size_t)nshards * sizeof b->t[0]);
    if (b)
        b->n = 0;
    return b;
}

/* Add shard s's tables to b so the destroy drops their entries. */
static void batch_take(struct map_batch *b, struct map_shard *sh)
{
    sh->tbl->walk = 1;
    b->t[b->n++] = sh->tbl;
    if (sh->nxt) {
        /* A table still being zeroed holds nothing (and garbage). */
        sh->nxt->walk = at_load(&sh->phase) == MAP_MOVING;
        b->t[b->n++] = sh->nxt;
    }
}

/* Bytes of the tables in b (before it is retired: then it is not ours). */
static size_t batch_bytes(const struct map_batch *b)
{
    size_t i, n = 0;
    for (i = 0; i < b->n; i++)
        n += b->t[i]->bytes;
    return n;
}

/*
 * After a clear or free retired whole tables: when they are big, free
 * them now if no reader holds them, instead of after the next 64 retires
 * of this thread, which a program that goes on only reading never makes
 * (a cleared 4M-entry map kept its 142 MB).
 */
static void map_retired_tables(size_t bytes)
{
    if (bytes >= MAP_RECLAIM_SOON_BYTES)
        gc_reclaim_soon();
    else
        gc_poll();
}

/* ------------------------------------------------------- new and free */

static void map_dispose(struct goconc_map *m, void *raw)
{
    gc_free((void *)m->mig);
    if (m->grace)
        map_grace_put(m->grace);
    gc_free(m->raw_sh);
    gc_free(m->fin);
    gc_free(raw);
}

static int map_init_shards(struct goconc_map *m, unsigned l0)
{
    unsigned i;
    for (i = 0; i < m->nshards; i++) {
        struct map_table *t = map_table_new(l0, m->on_drop, 1);
        if (t == NULL)
            return GOCONC_ENOMEM;
        map_mig_init(m, i, t);
        m->sh[i].gen = 1; /* the first grace generation (slot.h) */
    }
    return GOCONC_OK;
}

GOCONC_API int goconc_map_new(goconc_map **out, const goconc_map_options *opts)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    struct goconc_map *m;
    void *raw;
    unsigned sb = MAP_DEFAULT_SHARD_BITS, ns, l0 = 0, i;
    int rc;

    if (out == NULL)
        return GOCONC_EINVAL;
    *out = NULL;
    /* The 1.0 struct ends before flags. */
    if (opts && (rc = gc_opts_copy(&o, sizeof o, offsetof(goconc_map_options, flags), opts)) !=
                    GOCONC_OK)
        return rc;
    if (o.flags & ~GOCONC_MAP_NO_PEEK)
        return GOCONC_EINVAL;
    if (o.shards) {
        if ((o.shards & (o.shards - 1)) || o.shards > (1u << MAP_MAX_SHARD_BITS))
            return GOCONC_EINVAL;
        sb = (unsigned)__builtin_ctz(o.shards);
    }
    ns = 1u << sb;
    if (o.capacity_hint && (l0 = map_log2_for(map_per_shard(o.capacity_hint, ns))) > MAP_MAX_LOG2)
        return GOCONC_EOVERFLOW;

    gc_live_begin();
    if ((m = alloc_aligned(sizeof *m + ns * sizeof(atword), &raw)) == NULL) {
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    gc_hash_init(&m->hk, o.seed ? o.seed : gc_random_seed());
    m->sb = sb;
    m->nshards = ns;
    m->tag_shift = 57 - sb;
    m->mig_cap = MAP_MIG_CAP(ns);
    m->on_drop = o.on_drop;
    m->in_place = (o.flags & GOCONC_MAP_NO_PEEK) != 0;
    m->ctx = o.ctx;
    m->sh = alloc_aligned(ns * sizeof(struct map_shard), &m->raw_sh);
    m->mig = gc_calloc(m->mig_cap, sizeof(atword));
    m->grace = gc_calloc(1, sizeof(struct map_grace) + ns * sizeof(atword));
    m->fin = batch_new(ns);
    if (m->grace)
        at_store(&m->grace->refs, 1); /* the map's own reference */
    if (m->sh == NULL || m->mig == NULL || m->grace == NULL ||
        m->fin == NULL || map_init_shards(m, l0) != GOCONC_OK) {
        for (i = 0; m->sh && i < ns; i++)
            if (m->sh[i].tbl)
                map_table_free_now(m->sh[i].tbl);
        map_dispose(m, raw);
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    m->raw = raw;
    m->fixed_bytes = sizeof *m + ns * sizeof(atword) + (GC_PAD - 1) +
                     ns * sizeof(struct map_shard) + (GC_PAD - 1) + m->mig_cap * sizeof(atword) +
                     sizeof(struct map_grace) + ns * sizeof(atword) +
                     sizeof(struct map_batch) + 2 * (size_t)ns * sizeof(struct map_table *);
    *out = m;
    return GOCONC_OK;
}

GOCONC_API void goconc_map_free(goconc_map *m)
{
    struct map_batch *b;
    unsigned i;
    size_t bytes;

    if (m == NULL)
        return;
    b = m->fin;
    m->fin = NULL;
    b->ctx = m->ctx;
    for (i = 0; i < m->nshards; i++)
        batch_take(b, &m->sh[i]);
    map_dispose(m, m->raw);
    /* on_drop for what is left runs after a grace period, like every
     * other drop; the batch's token makes the retire infallible. */
    bytes = batch_bytes(b);
    gc_retire_token(&b->tok, b, batch_destroy, b->ctx);
    gc_live_dec(); /* after the retire: pending now covers the batch */
    map_retired_tables(bytes);
}

/* ------------------------------------------------------------ lookups */

/* A found inline value into the caller's buffer (load's statuses). */
static inline int load_copy_inline(unsigned lens, uint64_t w, void *val, size_t cap,
                                   size_t *vlen)
{
    size_t n = map_lens_vlen(lens);
    if (vlen)
        *vlen = n;
    if (val && cap < n)
        return GOCONC_ERANGE;
    if (val)
        gc_word_bytes(val, w, n);
    return GOCONC_OK;
}

/* load, every case: chains, migrations, out-of-line entries.  It takes
 * load's arguments (and hashes again), so the calls to it are jumps. */
static __attribute__((noinline)) int load_general(const goconc_map *m, const void *key,
                                                  size_t klen, void *val, size_t cap,
                                                  size_t *vlen)
{
    const struct map_slot *s;
    struct map_key k;
    unsigned lens;
    int rc = GOCONC_OK;

    if (klen > MAP_KLEN_MAX) /* not in the map; reading the key would fault */
        return GOCONC_NOTFOUND;
    map_key_init(&k, m, key, klen);
    goconc_read_lock_inline_();
    /* Acquire pairs with the release store of cur when a migration
     * finished (migrate.c finish) or a clear swapped the table
     * (map_mig_reset). */
    s = map_lookup(at_load_acq(&m->cur[map_shard_of(m, k.h)]), &k, &lens);
    if (s == NULL) {
        rc = GOCONC_NOTFOUND;
    } else if (lens != MAP_LENS_OOL) {
        rc = load_copy_inline(lens, at_load_acq(&s->v), val, cap, vlen); /* as in load */
    } else {
        const struct map_entry *e = at_loadp(&s->k);
        if (vlen)
            *vlen = e->vlen;
        if (val && cap < e->vlen)
            rc = GOCONC_ERANGE;
        else if (val && e->vlen)
            memcpy(val, map_entry_val(e), e->vlen);
    }
    goconc_read_unlock_inline_();
    return rc;
}

/*
 * The common load (a key of at most 8 bytes, an inline value, settled by
 * its home bucket of a table not moving it) in as few instructions as
 * possible, with no call but tail calls: lookups are memory-bound, and
 * how many of them overlap their cache misses depends on how many fit in
 * the processor's reorder window (100 no-op instructions added here cut
 * W1b at 1 thread by 36%).  It is the first step of map_lookup; anything
 * else starts over in load_general.
 */
GOCONC_API int goconc_map_load(const goconc_map *m, const void *key, size_t klen,
                               void *val, size_t cap, size_t *vlen)
{
    const struct map_bucket *bk;
    struct goconc_reader *r;
    uint64_t kw, h, ctrl;
    uintptr_t cur, c;
    size_t b;
    unsigned tag, lens;
    int i;

    if (m == NULL || (key == NULL && klen) || (val == NULL && cap))
        return GOCONC_EINVAL;
    if (klen > 8)
        return load_general(m, key, klen, val, cap, vlen);
    kw = gc_key_word(key, klen);
    h = gc_hash_word(&m->hk, kw, klen);
    if ((r = gc_read_enter_outer(&c)) == NULL) /* nested, or a new thread */
        return load_general(m, key, klen, val, cap, vlen);
    tag = map_tag(m, h);
    /* Acquire: as in load_general. */
    cur = at_load_acq(&m->cur[map_shard_of(m, h)]);
    b = h & (((size_t)1 << (cur & 63)) - 1);
    bk = (const struct map_bucket *)map_bucket_addr(cur, b);
    MAP_PREFETCH_BUCKET(bk, 0);
    /* Acquire pairs with the writer's release store of ctrl (map_lookup). */
    ctrl = at_load_acq(&((const atword *)map_ctrl_addr(cur))[b]);
    /* Not MOVED: no write to the key has gone to a next table (a write
     * moves the key's whole chain first), so this table decides. */
    if (GC_LIKELY(!(ctrl & MAP_CTRL_MOVED))) {
        /* map_lookup's bucket scan, for inline slots only: with its
         * out-of-line branch (a memcmp call) shared, a hit costs 20
         * instructions more (171 -> 191 in the probe). */
        i = map_find_short(bk, ctrl, tag, klen, kw, &lens);
        if (i >= 0) {
            /* Acquire pairs with an in-place rewrite's release store
             * (home_put), as the ctrl load does with a publish. */
            uint64_t w = at_load_acq(&bk->s[i].v);
            gc_read_leave_outer(r, c);
            return load_copy_inline(lens, w, val, cap, vlen);
        }
        if (i == -1 && map_ovf(ctrl) == 0) { /* no chain passes: absent */
            gc_read_leave_outer(r, c);
            return GOCONC_NOTFOUND;
        }
    }
    gc_read_leave_outer(r, c);
    return load_general(m, key, klen, val, cap, vlen);
}

GOCONC_API int goconc_map_peek(const goconc_map *m, const void *key, size_t klen,
                               const void **val, size_t *vlen)
{
    const struct map_slot *s;
    struct map_view v;
    struct map_key k;
    unsigned lens;

    if (m == NULL || (key == NULL && klen) || val == NULL || m->in_place ||
        !gc_in_read_section())
        return GOCONC_EINVAL;
    if (klen > MAP_KLEN_MAX) {
        *val = NULL;
        if (vlen)
            *vlen = 0;
        return GOCONC_NOTFOUND;
    }
    map_key_init(&k, m, key, klen);
    s = map_lookup(at_load_acq(&m->cur[map_shard_of(m, k.h)]), &k, &lens);
    if (s == NULL) {
        *val = NULL;
        if (vlen)
            *vlen = 0;
        return GOCONC_NOTFOUND;
    }
    /* The slot (or entry) is neither rewritten nor reused until a grace
     * period after it dies, which this thread's section holds back. */
    map_slot_view(s, lens, &v);
    *val = v.val;
    if (vlen)
        *vlen = v.vlen;
    return GOCONC_OK;
}

/* ------------------------------------------------------------- writes */

/*
 * Every write is one operation of map_write (write.c): one path for all
 * of them, whose steps a store enters through its fast case (a key and
 * value of at most 8 bytes settled by the home bucket of a stable shard),
 * not a separate copy.  goconc_map_store itself is defined in write.c,
 * beside the steps it inlines: a wrapper here would cost every store a
 * jump.
 */

GOCONC_API int goconc_map_load_and_delete(goconc_map *m, const void *key, size_t klen,
                                          void *out, size_t cap, size_t *outlen)
{
    struct map_op op = { OP_LAD, NULL, 0, NULL, 0, out, cap, outlen };
    return map_write(m, key, klen, &op);
}

GOCONC_API int goconc_map_delete(goconc_map *m, const void *key, size_t klen)
{
    struct map_op op = { OP_DEL, NULL, 0, NULL, 0, NULL, 0, NULL };
    return map_write(m, key, klen, &op);
}

GOCONC_API int goconc_map_compare_and_swap(goconc_map *m, const void *key, size_t klen,
                                           const void *old, size_t oldlen,
                                           const void *val, size_t vlen)
{
    struct map_op op = { OP_CAS, val, vlen, old, oldlen, NULL, 0, NULL };
    return map_write(m, key, klen, &op);
}

GOCONC_API int goconc_map_compare_and_delete(goconc_map *m, const void *key, size_t klen,
                                             const void *old, size_t oldlen)
{
    struct map_op op = { OP_CAD, NULL, 0, old, oldlen, NULL, 0, NULL };
    return map_write(m, key, klen, &op);
}

/* goconc_map_swap, goconc_map_load_or_store and goconc_map_update are
 * defined in write.c, around their fast cases. */

/* ----------------------------------------------- len, clear and stats */

GOCONC_API size_t goconc_map_len(const goconc_map *m)
{
    size_t n = 0;
    unsigned i;
    if (m == NULL)
        return 0;
    for (i = 0; i < m->nshards; i++)
        n += at_load(&m->sh[i].len);
    return n;
}

GOCONC_API int goconc_map_clear(goconc_map *m)
{
    struct map_table **fresh;
    struct map_batch *b;
    uintptr_t me;
    unsigned i;
    size_t bytes;

    if (m == NULL)
        return GOCONC_EINVAL;
    me = gc_thread_id();
    if (map_in_fn(m))
        return GOCONC_EDEADLK;
    /* Allocate everything first: a failed clear changes nothing. */
    b = batch_new(m->nshards);
    fresh = gc_calloc(m->nshards, sizeof *fresh);
    for (i = 0; b && fresh && i < m->nshards; i++)
        if ((fresh[i] = map_table_new(0, m->on_drop, 1)) == NULL)
            break;
    if (b == NULL || fresh == NULL || i < m->nshards || gc_reserve(1) != GOCONC_OK) {
        for (i = 0; fresh && i < m->nshards && fresh[i]; i++)
            map_table_free_now(fresh[i]);
        gc_free(fresh);
        gc_free(b);
        return GOCONC_ENOMEM;
    }
    for (i = 0; i < m->nshards; i++) {
        struct map_shard *sh = &m->sh[i];
        map_lock(sh, me);
        gc_lock_enter();
        batch_take(b, sh);
        map_mig_reset(m, i, fresh[i]);
        gc_lock_exit();
        map_unlock(sh);
    }
    gc_free(fresh);
    b->ctx = m->ctx;
    bytes = batch_bytes(b);
    (void)gc_retire(b, batch_destroy, m->ctx); /* reserved above */
    map_retired_tables(bytes);
    return GOCONC_OK;
}

GOCONC_API int goconc_map_stats_get(const goconc_map *m, goconc_map_stats *st)
{
    goconc_map_stats s = GOCONC_MAP_STATS_INIT;
    unsigned i;

    if (m == NULL)
        return GOCONC_EINVAL;
    s.shards = m->nshards;
    s.bytes = m->fixed_bytes;
    goconc_read_lock_inline_(); /* the tables we look at stay alive */
    for (i = 0; i < m->nshards; i++) {
        const struct map_shard *sh = &m->sh[i];
        const struct map_table *t = map_table_of(at_load_acq(&m->cur[i]));
        s.len += at_load(&sh->len);
        s.buckets += t->mask + 1;
        s.shards_migrating += at_load(&sh->phase) != MAP_STABLE;
        s.bytes += at_load(&sh->bytes);
        s.grows += at_load(&sh->grows);
        s.shrinks += at_load(&sh->shrinks);
        s.buckets_moved += at_load(&sh->moved);
    }
    goconc_read_unlock_inline_();
    return gc_stats_out(st, &s, sizeof s, sizeof s);
}
