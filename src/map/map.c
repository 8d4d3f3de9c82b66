/* SPDX-License-Identifier: MIT */
/*
 * map.c - the public face of goconc_map: construction, lookups (lock-free,
 * writing nothing), single-key writes under the shard lock, update with
 * re-entry detection, clear, len and stats.  Tables and slot writes are in
 * map_table.c, the migration state machine with reserve and maintain in
 * map_migrate.c, range/scan in map_iter.c; doc/map.md has the design.
 */
#include "map/map_internal.h"

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
/* Retired tables of at least this many bytes are freed at once if they
 * can be (map_retired_tables): worth a few epoch attempts. */
#define MAP_RECLAIM_SOON_BYTES ((size_t)1 << 20)

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
        struct map_shard *sh = &m->sh[i];
        struct map_table *t = map_table_new(l0, m->on_drop, 1);
        if (t == NULL)
            return GOCONC_ENOMEM;
        sh->tbl = t;
        at_store(&m->cur[i], map_cur(t));
        at_store(&sh->bytes, t->bytes);
        sh->gen = 1;
        sh->min_log2 = l0;
        sh->slot = -1;
        map_mig_limits(sh);
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
    if (opts && (rc = gc_opts_copy(&o, sizeof o, sizeof o, opts)) != GOCONC_OK)
        return rc;
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
    size_t n = lens & 0xF;
    if (vlen)
        *vlen = n;
    if (val && cap < n)
        return GOCONC_ERANGE;
    if (val && n == 8)
        memcpy(val, &w, 8);
    else if (val && n)
        memcpy(val, &w, n);
    return GOCONC_OK;
}

/* load, every case: chains, migrations, out-of-line entries.  It takes
 * load's arguments (and hashes again), so the calls to it are jumps. */
static __attribute__((noinline)) int load_general(const goconc_map *m, const void *key,
                                                  size_t klen, void *val, size_t cap,
                                                  size_t *vlen)
{
    const struct map_slot *s;
    uint64_t kw, h;
    unsigned lens;
    int rc = GOCONC_OK;

    if (klen > MAP_KLEN_MAX) /* not in the map; reading the key would fault */
        return GOCONC_NOTFOUND;
    kw = klen <= 8 ? gc_key_word(key, klen) : 0;
    h = gc_hash(&m->hk, key, klen);
    goconc_read_lock_inline_();
    /* Acquire pairs with the release store of cur when a migration
     * finished (map_table.c finish) or a clear swapped the table. */
    s = map_lookup(at_load_acq(&m->cur[map_shard_of(m, h)]), h, map_tag(m, h), key, klen, kw,
                   &lens);
    if (s == NULL) {
        rc = GOCONC_NOTFOUND;
    } else if (lens != MAP_LENS_OOL) {
        rc = load_copy_inline(lens, at_load(&s->v), val, cap, vlen);
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
    __builtin_prefetch((const void *)bk);
    __builtin_prefetch((const char *)bk + 64);
    /* Acquire pairs with the writer's release store of ctrl (map_lookup). */
    ctrl = at_load_acq(&((const atword *)(cur & ~(uintptr_t)63))[b]);
    /* Not MOVED: no write to the key has gone to a next table (a write
     * moves the key's whole chain first), so this table decides. */
    if (GC_LIKELY(!(ctrl & MAP_CTRL_MOVED))) {
        /* map_lookup's bucket scan, for inline slots only: with its
         * out-of-line branch (a memcmp call) shared, a hit costs 20
         * instructions more (171 -> 191 in the probe). */
        i = map_find_short(bk, ctrl, tag, klen, kw, &lens);
        if (i >= 0) {
            uint64_t w = at_load(&bk->s[i].v);
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
    unsigned lens;
    uint64_t kw, h;

    if (m == NULL || (key == NULL && klen) || val == NULL || !gc_in_read_section())
        return GOCONC_EINVAL;
    if (klen > MAP_KLEN_MAX) {
        *val = NULL;
        if (vlen)
            *vlen = 0;
        return GOCONC_NOTFOUND;
    }
    kw = klen <= 8 ? gc_key_word(key, klen) : 0;
    h = klen <= 8 ? gc_hash_word(&m->hk, kw, klen) : gc_hash_bytes(&m->hk, key, klen);
    s = map_lookup(at_load_acq(&m->cur[map_shard_of(m, h)]), h, map_tag(m, h), key, klen, kw,
                   &lens);
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

enum map_opk { OP_STORE, OP_LOS, OP_LAD, OP_DEL, OP_SWAP, OP_CAS, OP_CAD };

struct map_op {
    enum map_opk k;
    const void *val;   /* new value */
    size_t vlen;
    const void *old;   /* CAS/CAD: expected value */
    size_t oldlen;
    void *out;         /* LOS/LAD/SWAP: where the current value goes */
    size_t cap;
    size_t *outlen;
};

/* The current value fits the caller's buffer?  Sets *outlen either way. */
static int out_fits(const struct map_op *op, const struct map_view *v)
{
    if (op->outlen)
        *op->outlen = v->vlen;
    return op->out == NULL || op->cap >= v->vlen;
}

static void out_copy(const struct map_op *op, const struct map_view *v)
{
    if (op->out && v->vlen)
        memcpy(op->out, v->val, v->vlen);
}

static int same_value(const struct map_view *v, const void *old, size_t oldlen)
{
    return v->vlen == oldlen && (oldlen == 0 || memcmp(v->val, old, oldlen) == 0);
}

/*
 * Store val for the write's key (insert or replace); with `out`, copy the
 * replaced value there first.  Everything that can fail happens before
 * the first visible change.
 */
static int w_store(struct map_wctx *w, const void *val, size_t vlen, const struct map_op *out)
{
    struct goconc_map *m = w->gx.m;
    unsigned lens;
    uint64_t kword, vword;
    int rc;

    if (w->klen <= 8 && vlen <= 8) {
        lens = (unsigned)(w->klen << 4 | vlen);
        kword = w->kw;
        vword = gc_key_word(val, vlen);
    } else {
        if (map_entry_size(w->klen, vlen) == SIZE_MAX)
            return GOCONC_EOVERFLOW;
        w->ent = map_entry_new(m->on_drop, w->key, w->klen, val, vlen);
        if (w->ent == NULL)
            return GOCONC_ENOMEM;
        lens = MAP_LENS_OOL;
        kword = (uint64_t)(uintptr_t)w->ent;
        vword = w->h;
    }
    if ((rc = map_w_room(w)) != GOCONC_OK)
        return rc;
    if (w->found && (rc = map_w_prepare_kill(w)) != GOCONC_OK)
        return rc;
    if (out && w->found) {
        struct map_view v;
        map_w_view(w, &v);
        out_copy(out, &v);
    }
    map_w_put(w, lens, kword, vword);
    return GOCONC_OK;
}

static int w_delete(struct map_wctx *w, const struct map_op *out)
{
    int rc = map_w_prepare_kill(w);
    if (rc != GOCONC_OK)
        return rc;
    if (out) {
        struct map_view v;
        map_w_view(w, &v);
        out_copy(out, &v);
    }
    map_w_kill(w);
    return GOCONC_OK;
}

/* The op itself, under the shard lock, the key located. */
static int w_apply(struct map_wctx *w, const struct map_op *op)
{
    struct map_view v;

    if (w->found && op->k != OP_STORE)
        map_w_view(w, &v);
    switch (op->k) {
    case OP_STORE:
        return w_store(w, op->val, op->vlen, NULL);
    case OP_LOS:
        if (!w->found)
            return w_store(w, op->val, op->vlen, NULL);
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        out_copy(op, &v);
        return GOCONC_EXISTS;
    case OP_SWAP: {
        int rc;
        if (w->found && !out_fits(op, &v))
            return GOCONC_ERANGE;
        if (!w->found && op->outlen)
            *op->outlen = 0;
        rc = w_store(w, op->val, op->vlen, op);
        return rc == GOCONC_OK && !w->found ? GOCONC_NOTFOUND : rc;
    }
    case OP_LAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        return w_delete(w, op);
    case OP_DEL:
        return w->found ? w_delete(w, NULL) : GOCONC_NOTFOUND;
    case OP_CAS:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!same_value(&v, op->old, op->oldlen))
            return GOCONC_CHANGED;
        return w_store(w, op->val, op->vlen, NULL);
    case OP_CAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!same_value(&v, op->old, op->oldlen))
            return GOCONC_CHANGED;
        return w_delete(w, NULL);
    }
    return GOCONC_EINVAL;
}

/*
 * Ask for the key's home bucket before taking the shard lock: the lock's
 * atomic read-modify-write is a full barrier that would otherwise make
 * the bucket's cache miss wait for it (and for every miss before it).
 * No read section: the table may be retired and freed meanwhile, but a
 * prefetch never faults and a stale one costs nothing (the addresses are
 * formed as integers for the same reason).
 */
static inline void prefetch_write(const goconc_map *m, unsigned idx, uint64_t h)
{
    uintptr_t cur = at_load(&m->cur[idx]);
    size_t b = h & (((size_t)1 << (cur & 63)) - 1);
    uintptr_t bk = map_bucket_addr(cur, b);
    __builtin_prefetch((const void *)((cur & ~(uintptr_t)63) + b * sizeof(atword)), 1);
    __builtin_prefetch((const void *)bk, 1);
    __builtin_prefetch((const void *)(bk + offsetof(struct map_bucket, meta)), 1);
}

static void w_prefetch(const struct map_wctx *w)
{
    prefetch_write(w->gx.m, w->gx.idx, w->h);
}

/* Start a write to key: EDEADLK from inside an update function of m,
 * else the key's shard locked (bracketed by gc_lock_enter: no barrier
 * or callbacks under it) and OK. */
static inline int w_lock(struct map_wctx *w, goconc_map *m, const void *key, size_t klen)
{
    uintptr_t me = gc_thread_id();
    /* Before the key is hashed: no object is that long, so the caller's
     * length is wrong and reading that far would fault. */
    if (GC_UNLIKELY(klen > MAP_KLEN_MAX))
        return GOCONC_EOVERFLOW;
    if (map_in_fn(m, me))
        return GOCONC_EDEADLK;
    map_w_init(w, m, key, klen);
    w_prefetch(w);
    map_lock(w->gx.sh, me);
    gc_lock_enter();
    return GOCONC_OK;
}

static void w_unlock(struct map_wctx *w, int rc)
{
    if (rc >= 0)
        map_w_end(w);
    gc_lock_exit();
    map_unlock(w->gx.sh);
    map_w_done(w);
    if (w->want_help)
        map_mig_help(w->gx.m, w->gx.idx);
    gc_poll();
}

/* The op, the key's shard locked (w_lock). */
static int w_locked(struct map_wctx *w, const struct map_op *op)
{
    if (op->k == OP_STORE && w->klen <= 8 && op->vlen <= 8 && w->gx.m->on_drop == NULL &&
        map_w_store_inline(w, (unsigned)(w->klen << 4 | op->vlen),
                           gc_key_word(op->val, op->vlen)))
        return GOCONC_OK;
    map_w_begin(w);
    return w_apply(w, op);
}

static int map_write(goconc_map *m, const void *key, size_t klen, const struct map_op *op)
{
    struct map_wctx w;
    int rc;

    if (m == NULL || (key == NULL && klen) || (op->val == NULL && op->vlen) ||
        (op->old == NULL && op->oldlen) || (op->out == NULL && op->cap))
        return GOCONC_EINVAL;
    /* No such key can be in the map: the deletes answer so (w_lock gives
     * the writes that would store it GOCONC_EOVERFLOW). */
    if (GC_UNLIKELY(klen > MAP_KLEN_MAX) && (op->k == OP_LAD || op->k == OP_DEL || op->k == OP_CAD))
        return GOCONC_NOTFOUND;
    if ((rc = w_lock(&w, m, key, klen)) != GOCONC_OK)
        return rc;
    rc = w_locked(&w, op);
    w_unlock(&w, rc);
    return rc;
}

/* store, every case.  It takes store's arguments, so calls to it are
 * jumps. */
static __attribute__((noinline)) int store_general(goconc_map *m, const void *key, size_t klen,
                                                   const void *val, size_t vlen)
{
    struct map_op op = { OP_STORE, val, vlen, NULL, 0, NULL, 0, NULL };
    return map_write(m, key, klen, &op);
}

/* The short store path locked the key's shard and changed nothing: go on
 * as map_write does after w_lock. */
static __attribute__((noinline)) int store_locked(goconc_map *m, const void *key, size_t klen,
                                                  const void *val, size_t vlen)
{
    struct map_op op = { OP_STORE, val, vlen, NULL, 0, NULL, 0, NULL };
    struct map_wctx w;
    int rc;

    map_w_init(&w, m, key, klen);
    gc_lock_enter();
    rc = w_locked(&w, &op);
    w_unlock(&w, rc);
    return rc;
}

/* The short store path wrote, and shard idx has more to do than unlock:
 * migration steps, a migration to start, a grace token for a kill.  Of
 * the write's context, map_w_end and w_unlock read only gx and the three
 * fields set here. */
static __attribute__((noinline)) int store_end(goconc_map *m, unsigned idx)
{
    struct map_wctx w;

    map_gx_init(&w.gx, m, idx);
    w.rec = w.ent = NULL;
    w.want_help = 0;
    gc_lock_enter();
    w_unlock(&w, GOCONC_OK);
    return GOCONC_OK;
}

/* The end of a short store: map_w_end's work when there is any (it
 * counts the write), else the unlock. */
static inline int store_done(goconc_map *m, struct map_shard *sh, unsigned idx, unsigned phase)
{
    if (GC_UNLIKELY(phase != MAP_STABLE || sh->kills != 0 || map_mig_due_next(sh)))
        return store_end(m, idx);
    sh->churn++;
    map_unlock(sh);
    return GOCONC_OK;
}

/*
 * The short store path's next step when the key is not in its home
 * bucket and that bucket has no EMPTY slot or a chain going on (a
 * fifth of W2's inserts, as a table nears its grow threshold): walk the
 * chain to make sure the key is absent, then insert at the first EMPTY
 * slot from home, raising the overflow counts of the buckets passed
 * (map_place's order).  Lock held, shard not MOVING; a found key or an
 * out-of-line tag match goes on in store_locked.
 */
static __attribute__((noinline)) int store_chain(goconc_map *m, const void *key, size_t klen,
                                                 const void *val, size_t vlen)
{
    uint64_t kw = gc_key_word(key, klen), h = gc_hash_word(&m->hk, kw, klen), c, fr = 0;
    unsigned idx = map_shard_of(m, h), tag = map_tag(m, h), lens;
    struct map_shard *sh = &m->sh[idx];
    struct map_table *t = sh->tbl;
    size_t d, at = SIZE_MAX, b;

    for (d = 0; d <= t->mask; d++) {
        b = (h + d) & t->mask;
        c = at_load(&t->ctrl[b]);
        if (map_find_short(&t->bkt[b], c, tag, klen, kw, &lens) != -1)
            return store_locked(m, key, klen, val, vlen);
        if (at == SIZE_MAX && (fr = map_match(c, MAP_TAG_EMPTY)) != 0)
            at = d;
        if (map_ovf(c) == 0)
            break;
    }
    /* Absent.  No EMPTY slot on the chain: the first one past it. */
    for (d++; at == SIZE_MAX && d <= t->mask; d++)
        if ((fr = map_match(at_load(&t->ctrl[(h + d) & t->mask]), MAP_TAG_EMPTY)) != 0)
            at = d;
    if (at == SIZE_MAX)
        return store_locked(m, key, klen, val, vlen); /* DEAD slots only */
    for (d = 0; d < at; d++)
        map_bump(t->ctrl, (h + d) & t->mask, +1);
    b = (h + at) & t->mask;
    map_bucket_write(&t->ctrl[b], &t->bkt[b], at_load(&t->ctrl[b]), map_first(fr), -1, 0, tag,
                     (unsigned)(klen << 4 | vlen), kw, gc_key_word(val, vlen));
    at_store(&sh->len, at_load(&sh->len) + 1);
    return store_done(m, sh, idx, (unsigned)at_load(&sh->phase));
}

/*
 * The common store (a key and value of at most 8 bytes each, a map
 * without on_drop, no update function running, the shard's lock free and
 * not MOVING, the key in its home bucket or absent from a chain that ends
 * there, an EMPTY slot in that bucket) in few instructions and no call
 * but tail calls, as load does: a store waits on its bucket's cache
 * misses, and how many stores overlap them depends on how many fit in
 * the processor's reorder window.  It is map_w_store_inline's one-pass
 * store minus what needs the grace tracker (reusing DEAD slots).
 * Anything else goes on in store_locked (lock held, nothing changed) or
 * store_general; when the shard has migration work or a kill to account
 * for, store_end finishes the write.  No gc_poll: this path retires
 * nothing, and store_end, like every general write, polls.
 */
GOCONC_API int goconc_map_store(goconc_map *m, const void *key, size_t klen,
                                const void *val, size_t vlen)
{
    struct map_shard *sh;
    struct map_table *t;
    struct map_bucket *bk;
    uint64_t kw, h, ctrl, fr;
    size_t b;
    unsigned idx, tag, lens, phase;
    int kill;

    if (m == NULL || (key == NULL && klen) || (val == NULL && vlen))
        return GOCONC_EINVAL;
    if (klen > 8 || vlen > 8 || m->on_drop != NULL || at_load(&m->fn_active) != 0)
        return store_general(m, key, klen, val, vlen);
    kw = gc_key_word(key, klen);
    h = gc_hash_word(&m->hk, kw, klen);
    idx = map_shard_of(m, h);
    sh = &m->sh[idx];
    prefetch_write(m, idx, h);
    if (!map_trylock(sh, gc_thread_id()))
        return store_general(m, key, klen, val, vlen); /* it waits */
    if ((phase = (unsigned)at_load(&sh->phase)) == MAP_MOVING)
        return store_locked(m, key, klen, val, vlen);
    /* Under the lock, sh->tbl is cur[idx]'s table: only writers holding
     * the lock change either. */
    t = sh->tbl;
    b = h & t->mask;
    bk = &t->bkt[b];
    ctrl = at_load(&t->ctrl[b]);
    tag = map_tag(m, h);
    kill = map_find_short(bk, ctrl, tag, klen, kw, &lens);
    fr = map_match(ctrl, MAP_TAG_EMPTY);
    if (GC_UNLIKELY(kill == -2 || (kill >= 0 && fr == 0)))
        return store_locked(m, key, klen, val, vlen);
    /* Not at home, and the chain goes on (the key may be further) or
     * there is no room at home. */
    if (GC_UNLIKELY(kill == -1 && (map_ovf(ctrl) != 0 || fr == 0)))
        return store_chain(m, key, klen, val, vlen);
    map_bucket_write(&t->ctrl[b], bk, ctrl, map_first(fr), kill, sh->gen, tag,
                     (unsigned)(klen << 4 | vlen), kw, gc_key_word(val, vlen));
    if (kill >= 0) {
        sh->dead_t++;
        sh->kills++;
    } else {
        at_store(&sh->len, at_load(&sh->len) + 1);
    }
    return store_done(m, sh, idx, phase);
}

GOCONC_API int goconc_map_load_or_store(goconc_map *m, const void *key, size_t klen,
                                        const void *val, size_t vlen, void *out,
                                        size_t cap, size_t *outlen)
{
    struct map_op op = { OP_LOS, val, vlen, NULL, 0, out, cap, outlen };
    return map_write(m, key, klen, &op);
}

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

GOCONC_API int goconc_map_swap(goconc_map *m, const void *key, size_t klen,
                               const void *val, size_t vlen, void *prev, size_t cap,
                               size_t *prevlen)
{
    struct map_op op = { OP_SWAP, val, vlen, NULL, 0, prev, cap, prevlen };
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

/*
 * If an update fn unwinds (a C++ exception, a cancellation) instead of
 * returning, this runs as goconc_map_update's frame goes (the cleanup
 * attribute; the library is built with -fexceptions) and ends the update
 * as a negative return of fn would: nothing changed, the lock released.
 */
struct update_unwind {
    struct map_wctx *w;
    int in_fn;
};

static void update_unwound(struct update_unwind *u)
{
    if (!u->in_fn)
        return;
    at_fetch_sub(&u->w->gx.m->fn_active, 1);
    w_unlock(u->w, GOCONC_EINVAL); /* any negative status: no map_w_end */
}

GOCONC_API int goconc_map_update(goconc_map *m, const void *key, size_t klen,
                                 goconc_map_update_fn fn, void *ctx)
{
    struct map_wctx w;
    struct update_unwind unwind __attribute__((cleanup(update_unwound))) = { &w, 0 };
    struct map_view v = { NULL, NULL, 0, 0 };
    const void *nv = NULL;
    size_t nl = 0;
    int rc, r;

    if (m == NULL || (key == NULL && klen) || fn == NULL)
        return GOCONC_EINVAL;
    /* fn runs under the lock: no barrier, no callbacks from it. */
    if ((rc = w_lock(&w, m, key, klen)) != GOCONC_OK)
        return rc;
    map_w_begin(&w);
    if (w.found)
        map_w_view(&w, &v);
    /* Any write to m from fn now returns EDEADLK (in_fn). */
    at_fetch_add(&m->fn_active, 1);
    unwind.in_fn = 1;
    r = fn(ctx, v.val, v.vlen, w.found, &nv, &nl);
    unwind.in_fn = 0;
    at_fetch_sub(&m->fn_active, 1);
    if (r < 0)
        rc = r;
    else if (r == GOCONC_UPDATE_KEEP)
        rc = GOCONC_OK;
    else if (r == GOCONC_UPDATE_DELETE)
        rc = w.found ? w_delete(&w, NULL) : GOCONC_OK;
    else if (r == GOCONC_UPDATE_STORE)
        rc = nv == NULL && nl ? GOCONC_EINVAL : w_store(&w, nv, nl, NULL);
    else
        rc = GOCONC_EINVAL;
    w_unlock(&w, rc);
    return rc;
}

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
    if (map_in_fn(m, me))
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
        if (sh->slot >= 0)
            at_store_rel(&m->mig[sh->slot], 0);
        sh->slot = -1;
        sh->tbl = fresh[i];
        sh->nxt = NULL;
        map_mig_limits(sh);
        sh->dead_t = sh->dead_n = 0;
        at_store(&sh->phase, MAP_STABLE);
        at_store(&sh->len, 0);
        at_store(&sh->bytes, fresh[i]->bytes);
        /* Release: the zeroed table before readers (load's acquire). */
        at_store_rel(&m->cur[i], map_cur(fresh[i]));
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
