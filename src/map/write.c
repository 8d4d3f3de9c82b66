/* SPDX-License-Identifier: MIT */
/*
 * write.c - the steps of one write under the shard lock (write.h), and
 * the operations built from them.  There is one path for every write;
 * its common case (a key settled by its home bucket, a free slot there,
 * an inline entry, a stable shard) is the inline first iteration of each
 * step, so it costs no call but the lock bracket's: doc/map.md, "A write,
 * step by step".
 *
 * Readers never lock and never write (map_lookup, probe.h); the slot
 * writes (slot.h) name the reader load each release store pairs with.
 * Everything that can fail (an allocation, a retire reservation, a
 * migration a full table needs) happens before the first visible change.
 */
#include "map/migrate.h"
#include "map/table.h"
#include "map/write.h"

/*
 * Ask for the key's home bucket before taking the shard lock: the lock's
 * atomic read-modify-write is a full barrier that would otherwise make
 * the bucket's cache miss wait for it (and for every miss before it).
 * No read section: the table may be retired and freed meanwhile, but a
 * prefetch never faults and a stale one costs nothing (the addresses are
 * formed as integers for the same reason).
 */
static inline void prefetch_write(const struct goconc_map *m, unsigned idx, uint64_t h)
{
    uintptr_t cur = at_load(&m->cur[idx]);
    size_t b = h & (((size_t)1 << (cur & 63)) - 1);
    uintptr_t bk = map_bucket_addr(cur, b);
    __builtin_prefetch((const void *)((cur & ~(uintptr_t)63) + b * sizeof(atword)), 1);
    __builtin_prefetch((const void *)bk, 1);
    __builtin_prefetch((const void *)(bk + offsetof(struct map_bucket, meta)), 1);
}

int map_w_lock(struct map_wctx *w, struct goconc_map *m, const void *key, size_t klen)
{
    uintptr_t me = gc_thread_id();
    /* Before the key is hashed: no object is that long, so the caller's
     * length is wrong and reading that far would fault. */
    if (GC_UNLIKELY(klen > MAP_KLEN_MAX))
        return GOCONC_EOVERFLOW;
    if (map_in_fn(m, me))
        return GOCONC_EDEADLK;
    map_key_init(&w->k, m, key, klen);
    map_gx_init(&w->gx, m, map_shard_of(m, w->k.h));
    w->rec = w->ent = NULL;
    w->want_help = w->poll = 0;
    prefetch_write(m, w->gx.idx, w->k.h);
    map_lock(w->gx.sh, me);
    gc_lock_enter();
    return GOCONC_OK;
}

/* ---------------------------------------------------------------- locate */

static inline void pos_at(struct map_pos *pos, const struct map_probe *p, unsigned i)
{
    pos->b = p->b;
    pos->i = i;
    pos->dist = p->d;
}

/*
 * Find the key in the authoritative table (a writer's: no MOVED buckets)
 * and, in the same walk, the free slot a store would fill: the first on
 * the chain, or the found key's bucket's own (a free slot before the
 * key's will not do: map_place).  map_w_room searches on from where the
 * walk stopped when neither is there.
 */
static inline void locate(struct map_wctx *w)
{
    const struct map_table *t = w->t;
    struct map_probe p;
    uint64_t ctrl, fr;
    int i;

    w->found = 0;
    w->room_ok = 0;
    map_probe_init(&p, t->mask, w->k.h, 0);
    do {
        const struct map_bucket *bk = &t->bkt[p.b];
        ctrl = at_load(&t->ctrl[p.b]);
        if ((i = map_bucket_find(bk, ctrl, &w->k, &w->lens)) >= 0) {
            w->found = 1;
            pos_at(&w->pos, &p, (unsigned)i);
            w->room_ok = 0;
        }
        if (!w->room_ok && (fr = map_free_slots(&w->gx, bk, ctrl)) != 0) {
            pos_at(&w->room, &p, map_first(fr));
            w->room_ok = 1;
        }
    } while (!w->found && map_probe_on(&p, ctrl));
    w->walked = p.d;
}

/* MOVING: the key's old chain moves first; from here on the new table
 * alone holds the key, and the old buckets stay frozen. */
static __attribute__((noinline)) void begin_moving(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;
    map_mig_evacuate(&w->gx, w->k.h);
    w->t = sh->nxt;
    w->dead = &sh->dead_n;
}

void map_w_begin(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;
    if (GC_UNLIKELY(at_load(&sh->phase) == MAP_MOVING)) {
        begin_moving(w);
    } else {
        w->t = sh->tbl;
        w->dead = &sh->dead_t;
    }
    locate(w);
}

void map_w_view(const struct map_wctx *w, struct map_view *v)
{
    map_slot_view(&w->t->bkt[w->pos.b].s[w->pos.i], w->lens, v);
}

/* ------------------------------------------------------------ the store */

/*
 * No free slot on the key's chain (past the key's bucket when found):
 * search on, then, in a full table (only when the migration cap kept it
 * from growing, or readers hold back the reuse of DEAD slots), migrate
 * now, over the cap if need be.  GOCONC_OK or GOCONC_ENOMEM.
 */
static __attribute__((noinline)) int room_slow(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;

    for (;;) {
        if (w->room_ok || map_find_free(&w->gx, w->t, w->k.h, w->walked + 1, &w->room))
            return GOCONC_OK;
        switch (at_load(&sh->phase)) {
        case MAP_STABLE:
            if (map_mig_kick(w->gx.m, w->gx.idx, 1) != GOCONC_OK)
                return GOCONC_ENOMEM;
            break;
        case MAP_ZEROING:
            /* Rare (see above): finish preparing the new table at once. */
            map_mig_rush(sh);
            map_w_begin(w);
            break;
        default:
            return GOCONC_ENOMEM; /* cannot happen: see fits() */
        }
    }
}

static inline int room(struct map_wctx *w)
{
    return GC_LIKELY(w->room_ok) ? GOCONC_OK : room_slow(w);
}

/* The found entry as a record to retire when it dies: out-of-line
 * entries are one already; an inline one needs a drop record only for
 * on_drop.  Reserves the retire. */
static __attribute__((noinline)) int prepare_kill_slow(struct map_wctx *w)
{
    if (w->lens != MAP_LENS_OOL && w->rec == NULL) {
        struct map_view v;
        map_w_view(w, &v);
        w->rec = map_entry_new(w->gx.m->on_drop, v.key, v.klen, v.val, v.vlen);
        if (w->rec == NULL)
            return GOCONC_ENOMEM;
    }
    return gc_reserve(1);
}

static inline int prepare_kill(struct map_wctx *w)
{
    if (w->lens != MAP_LENS_OOL && w->gx.m->on_drop == NULL)
        return GOCONC_OK; /* an inline entry without on_drop: nothing to retire */
    return prepare_kill_slow(w);
}

/* Retire the entry that was just killed or replaced (reserved by
 * prepare_kill). */
static __attribute__((noinline)) void retire_old_slow(struct map_wctx *w, uint64_t kword)
{
    struct goconc_map *m = w->gx.m;
    struct map_shard *sh = w->gx.sh;

    if (w->lens == MAP_LENS_OOL) {
        struct map_entry *e = (struct map_entry *)(uintptr_t)kword;
        at_store(&sh->bytes, at_load(&sh->bytes) - map_entry_size(e->klen, e->vlen));
        (void)gc_retire(e, map_entry_destroy, m->ctx);
    } else {
        (void)gc_retire(w->rec, map_entry_destroy, m->ctx);
        w->rec = NULL;
    }
    w->poll = 1;
}

static inline void retire_old(struct map_wctx *w, uint64_t kword)
{
    if (w->lens != MAP_LENS_OOL && w->gx.m->on_drop == NULL)
        return;
    retire_old_slow(w, kword);
}

/* The out-of-line entry a store of val needs (key or value > 8 bytes). */
static __attribute__((noinline)) int new_entry(struct map_wctx *w, const void *val, size_t vlen)
{
    if (map_entry_size(w->k.len, vlen) == SIZE_MAX)
        return GOCONC_EOVERFLOW;
    w->ent = map_entry_new(w->gx.m->on_drop, w->k.p, w->k.len, val, vlen);
    return w->ent ? GOCONC_OK : GOCONC_ENOMEM;
}

static void out_copy(const struct map_op *op, const struct map_view *v)
{
    if (op->out && v->vlen)
        memcpy(op->out, v->val, v->vlen);
}

/* Write (lens, kword, vword) at the room, replacing the found entry. */
static inline void put(struct map_wctx *w, unsigned lens, uint64_t kword, uint64_t vword)
{
    struct map_shard *sh = w->gx.sh;
    uint64_t oldk = w->found ? at_load(&w->t->bkt[w->pos.b].s[w->pos.i].k) : 0;

    map_place(&w->gx, w->t, w->dead, w->k.h, w->k.tag, lens, kword, vword, &w->room,
              w->found ? &w->pos : NULL);
    if (GC_UNLIKELY(lens == MAP_LENS_OOL)) {
        at_store(&sh->bytes, at_load(&sh->bytes) + map_entry_size(w->k.len, w->ent->vlen));
        w->ent = NULL; /* now the map's */
    }
    if (w->found)
        retire_old(w, oldk);
    else
        at_store(&sh->len, at_load(&sh->len) + 1);
}

int map_w_store(struct map_wctx *w, const void *val, size_t vlen, const struct map_op *out)
{
    unsigned lens;
    uint64_t kword, vword;
    int rc;

    if (GC_LIKELY(w->k.len <= 8 && vlen <= 8)) {
        lens = (unsigned)(w->k.len << 4 | vlen);
        kword = w->k.kw;
        vword = gc_key_word(val, vlen);
    } else {
        if ((rc = new_entry(w, val, vlen)) != GOCONC_OK)
            return rc;
        lens = MAP_LENS_OOL;
        kword = (uint64_t)(uintptr_t)w->ent;
        vword = w->k.h;
    }
    if ((rc = room(w)) != GOCONC_OK)
        return rc;
    if (w->found && (rc = prepare_kill(w)) != GOCONC_OK)
        return rc;
    if (out && w->found) {
        struct map_view v;
        map_w_view(w, &v);
        out_copy(out, &v);
    }
    put(w, lens, kword, vword);
    return GOCONC_OK;
}

int map_w_delete(struct map_wctx *w, const struct map_op *out)
{
    struct map_shard *sh = w->gx.sh;
    uint64_t oldk;
    int rc = prepare_kill(w);

    if (rc != GOCONC_OK)
        return rc;
    if (out) {
        struct map_view v;
        map_w_view(w, &v);
        out_copy(out, &v);
    }
    oldk = at_load(&w->t->bkt[w->pos.b].s[w->pos.i].k);
    map_kill_at(&w->gx, w->t, w->dead, w->k.h, &w->pos);
    retire_old(w, oldk);
    at_store(&sh->len, at_load(&sh->len) - 1);
    return GOCONC_OK;
}

/* ------------------------------------------------------------- the end */

/* The shard has more to do than unlock: migration steps, a migration to
 * start, a grace token for a kill. */
static __attribute__((noinline)) void end_slow(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;

    if (at_load(&sh->phase) != MAP_STABLE) {
        map_mig_step(&w->gx, map_write_units(sh));
        w->poll = 1; /* a finished migration retired its old table */
    } else if (map_mig_due(sh) && map_mig_kick(w->gx.m, w->gx.idx, 0) == GOCONC_EBUSY) {
        w->want_help = 1;
    }
    w->poll |= map_grace_token(&w->gx);
}

static __attribute__((noinline)) void done_slow(struct map_wctx *w)
{
    gc_free(w->rec);
    gc_free(w->ent);
}

void map_w_unlock(struct map_wctx *w, int rc)
{
    struct map_shard *sh = w->gx.sh;

    if (rc < 0)
        w->poll = 1;
    else if (++sh->churn, GC_UNLIKELY(at_load(&sh->phase) != MAP_STABLE || sh->kills != 0 ||
                                      map_mig_due(sh)))
        end_slow(w);
    gc_lock_exit();
    map_unlock(sh);
    if (GC_UNLIKELY(w->rec || w->ent))
        done_slow(w);
    if (GC_UNLIKELY(w->want_help))
        map_mig_help(w->gx.m, w->gx.idx);
    if (w->poll)
        gc_poll();
}

/* ----------------------------------------------------------- operations */

/* The current value fits the caller's buffer?  Sets *outlen either way. */
static int out_fits(const struct map_op *op, const struct map_view *v)
{
    if (op->outlen)
        *op->outlen = v->vlen;
    return op->out == NULL || op->cap >= v->vlen;
}

static int same_value(const struct map_view *v, const void *old, size_t oldlen)
{
    return v->vlen == oldlen && (oldlen == 0 || memcmp(v->val, old, oldlen) == 0);
}

/* Every operation but store, the key located. */
static __attribute__((noinline)) int apply_other(struct map_wctx *w, const struct map_op *op)
{
    struct map_view v;
    int rc;

    if (w->found)
        map_w_view(w, &v);
    switch (op->k) {
    case OP_LOS:
        if (!w->found)
            return map_w_store(w, op->val, op->vlen, NULL);
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        out_copy(op, &v);
        return GOCONC_EXISTS;
    case OP_SWAP:
        if (w->found && !out_fits(op, &v))
            return GOCONC_ERANGE;
        if (!w->found && op->outlen)
            *op->outlen = 0;
        rc = map_w_store(w, op->val, op->vlen, op);
        return rc == GOCONC_OK && !w->found ? GOCONC_NOTFOUND : rc;
    case OP_LAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        return map_w_delete(w, op);
    case OP_DEL:
        return w->found ? map_w_delete(w, NULL) : GOCONC_NOTFOUND;
    case OP_CAS:
    case OP_CAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!same_value(&v, op->old, op->oldlen))
            return GOCONC_CHANGED;
        return op->k == OP_CAS ? map_w_store(w, op->val, op->vlen, NULL) : map_w_delete(w, NULL);
    default:
        return GOCONC_EINVAL;
    }
}

int map_write(struct goconc_map *m, const void *key, size_t klen, const struct map_op *op)
{
    struct map_wctx w;
    int rc;

    if (m == NULL || (key == NULL && klen) || (op->val == NULL && op->vlen) ||
        (op->old == NULL && op->oldlen) || (op->out == NULL && op->cap))
        return GOCONC_EINVAL;
    /* No such key can be in the map: the deletes answer so (map_w_lock
     * gives the writes that would store it GOCONC_EOVERFLOW). */
    if (GC_UNLIKELY(klen > MAP_KLEN_MAX) && (op->k == OP_LAD || op->k == OP_DEL || op->k == OP_CAD))
        return GOCONC_NOTFOUND;
    if ((rc = map_w_lock(&w, m, key, klen)) != GOCONC_OK)
        return rc;
    map_w_begin(&w);
    rc = op->k == OP_STORE ? map_w_store(&w, op->val, op->vlen, NULL) : apply_other(&w, op);
    map_w_unlock(&w, rc);
    return rc;
}
