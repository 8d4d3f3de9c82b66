/* SPDX-License-Identifier: MIT */
/*
 * write.c - the steps of one write under the shard lock (write.h), and
 * the operations built from them.  Every write runs one path: lock
 * (key_lock), then the steps of w_general: begin (evacuate, locate), the
 * operation, end.  A store first tries its fast case (store_home: the
 * key settled by its home bucket of a stable shard, an EMPTY slot there,
 * nothing to retire) with the lock just taken and nothing called;
 * whatever that cannot settle goes on through the same steps, the lock
 * held and nothing changed.  doc/map.md, "A write, step by step".
 *
 * Readers never lock and never write (map_lookup, probe.h); the slot
 * writes (slot.h) name the reader load each release store pairs with.
 * Everything that can fail (an allocation, a retire reservation, a
 * migration a full table needs) happens before the first visible change.
 */
#include "map/migrate.h"
#include "map/table.h"
#include "map/write.h"

/* One write's state once it leaves the fast case. */
struct map_wctx {
    struct map_gx gx;
    struct map_key k;
    struct map_table *t;     /* authoritative table for the key */
    size_t *dead;            /* its DEAD count */
    int found;
    struct map_pos pos;      /* the key's slot when found */
    unsigned lens;           /* its meta byte */
    struct map_pos room;     /* the free slot a store fills */
    int room_ok;             /* room is set */
    size_t walked;           /* probe distance where locate stopped */
    struct map_entry *rec;   /* drop record for an inline kill (on_drop) */
    struct map_entry *ent;   /* new out-of-line entry, until put */
    int want_help;           /* wanted a migration; the cap was full */
    int bracket;             /* inside gc_lock_enter */
};

/* The steps, inlined into the few functions that run them (the fast
 * cases then run without a call). */
#define W_STEP static inline __attribute__((always_inline))

/*
 * Ask for the key's home bucket before taking the shard lock: the lock's
 * atomic read-modify-write is a full barrier that would otherwise make
 * the bucket's cache miss wait for it (and for every miss before it).
 * No read section: the table may be retired and freed meanwhile, but a
 * prefetch never faults and a stale one costs nothing (the addresses are
 * formed as integers for the same reason).  Returns the current-table
 * word it used: the fast case reuses the addresses when, under the lock,
 * the word is still the same.
 */
static inline uintptr_t prefetch_write(const struct goconc_map *m, unsigned idx, uint64_t h)
{
    uintptr_t cur = at_load(&m->cur[idx]);
    size_t b = h & (((size_t)1 << (cur & 63)) - 1);
    uintptr_t bk = map_bucket_addr(cur, b);
    __builtin_prefetch((const void *)(map_ctrl_addr(cur) + b * sizeof(atword)), 1);
    MAP_PREFETCH_BUCKET(bk, 1);
    return cur;
}

/* Hash the key into *k and lock its shard (*gx), on locals: the fast
 * case runs on them, and only a write that goes on fills a context.
 * *cur: the shard's current-table word as it was just before the lock. */
W_STEP int key_lock(struct goconc_map *m, const void *key, size_t klen, struct map_key *k,
                    struct map_gx *gx, uintptr_t *cur)
{
    uintptr_t me = gc_thread_id();
    /* Before the key is hashed: no object is that long, so the caller's
     * length is wrong and reading that far would fault.  (Asked as two
     * tests so that the first is the hash's own short-key test.) */
    if (GC_UNLIKELY(klen > 8) && GC_UNLIKELY(klen > MAP_KLEN_MAX))
        return GOCONC_EOVERFLOW;
    if (map_in_fn(m))
        return GOCONC_EDEADLK;
    map_key_init(k, m, key, klen);
    map_gx_init(gx, m, map_shard_of(m, k->h));
    *cur = prefetch_write(m, gx->idx, k->h);
    map_lock(gx->sh, me);
    return GOCONC_OK;
}

W_STEP void w_init(struct map_wctx *w, const struct map_key *k, const struct map_gx *gx)
{
    w->k = *k;
    w->gx = *gx;
    w->rec = w->ent = NULL;
    w->want_help = w->bracket = w->found = 0;
}

/* Before the first call out of the map under the lock (an allocation, a
 * retire, a migration's table): no deferred callback may run while it is
 * held (gc_lock_enter).  Each slow step that calls out enters it; a write
 * that calls nothing out (the fast case, an insert along a chain, a
 * delete of an inline entry) never does. */
W_STEP void w_bracket(struct map_wctx *w)
{
    if (!w->bracket) {
        gc_lock_enter();
        w->bracket = 1;
    }
}

/*
 * The fast cases of store and update, decided with the lock just taken:
 * a key of at most 8 bytes, a shard not MOVING, no entry to retire (an
 * absent key, or an inline one without on_drop), the key in its home
 * bucket or a few buckets on (home_near), or absent from a chain that
 * ends there, and an EMPTY slot in the key's bucket (or a DEAD one past
 * its grace period; for an absent key, the first bucket from home on
 * with one).  Then one release store of that bucket's ctrl publishes a
 * new entry and kills the old one (locate and put's work, that one
 * bucket's case, on locals); a new entry past home raises the overflow
 * counts before it first.
 */
struct map_home {
    atword *ct;             /* the bucket's control word */
    struct map_bucket *bk;
    uint64_t ctrl;          /* as loaded under the lock */
    uint64_t fr;            /* its EMPTY slots */
    size_t b;
    int kill;               /* the key's slot, or -1: absent */
    unsigned lens;          /* its meta byte */
};

/*
 * No EMPTY slot at home: its DEAD slots whose grace period passed made
 * EMPTY again (map_recycle, which counts them off dead_t; the general
 * steps would too, but only after a walk) in a store of their own, and
 * the new ctrl returned.  A reader skips EMPTY and DEAD slots alike.
 * Stored here, not with the write, the word and the count agree however
 * the operation ends (an update's function may keep the value), and the
 * fast case carries nothing more in its registers.
 */
static __attribute__((noinline)) uint64_t home_recycle(struct map_gx *gx, atword *ct,
                                                       const struct map_bucket *bk, uint64_t ctrl)
{
    uint64_t was = ctrl;

    ctrl = map_recycle(gx, bk, ctrl, &gx->sh->dead_t);
    /* Release as every ctrl store (map_lookup's acquire load), though
     * this one publishes nothing: DEAD to EMPTY only. */
    if (ctrl != was)
        at_store_rel(ct, ctrl);
    return ctrl;
}

/* Would the general steps have to run for the match that
 * map_find_short found (kill)?  An out-of-line match may be the key (an
 * entry to retire), and so is an inline one with on_drop (a drop
 * record). */
static inline int home_retires(const struct map_gx *gx, int kill)
{
    return kill == -2 || (kill >= 0 && gx->m->on_drop != NULL);
}

/* Bucket b of the table of cur as *h, its control word loaded. */
static inline void home_at(struct map_home *h, uintptr_t cur, size_t b)
{
    h->b = b;
    h->ct = (atword *)map_ctrl_addr(cur) + b;
    h->bk = (struct map_bucket *)map_bucket_addr(cur, b);
    h->ctrl = at_load(h->ct);
}

/* h's EMPTY slots, its expired DEAD ones made EMPTY first when it has
 * none (home_recycle). */
static inline uint64_t home_room(struct map_gx *gx, struct map_home *h)
{
    uint64_t fr = map_empty_slots(h->ctrl);
    if (GC_UNLIKELY(fr == 0)) {
        h->ctrl = home_recycle(gx, h->ct, h->bk, h->ctrl);
        fr = map_empty_slots(h->ctrl);
    }
    return fr;
}

/*
 * The home bucket b did not decide for a key absent from it: the chain
 * goes on, or the home has no free slot.  Then the same fast case a few
 * buckets on (locate's walk, on locals): the key in one of them, written
 * in its own bucket, or absent from a chain that ends there, its new
 * entry in the first free slot from home on.  1 with *n filled for the
 * bucket to write; 0 for the general steps.  A new entry beyond the home
 * raises the overflow counts of the buckets before it here, before the
 * caller publishes it (a reader that finds the entry, by its acquire
 * load of the publishing ctrl, also sees them): only when `insert` says
 * that an absent key's entry is written whatever happens (store, swap,
 * load_or_store; not update, whose function may keep nothing).  A key
 * found with no room in its bucket goes on through the general steps: a
 * key never moves toward its home, since a lookup walking the chain could
 * pass its new slot before the publish and reach the old one after the
 * kill.
 */
static __attribute__((noinline)) int home_near(struct map_gx *gx, const struct map_key *k,
                                               uintptr_t cur, size_t b, int home_full,
                                               int insert, struct map_home *n)
{
    size_t mask = ((size_t)1 << (cur & 63)) - 1, d, i;

    /* The key along its chain (the home's ovf is in n->ctrl). */
    home_at(n, cur, b);
    for (d = 1; map_ovf(n->ctrl) != 0; d++) {
        if (d >= MAP_NEAR_WALK || d > mask)
            return 0;
        home_at(n, cur, (b + d) & mask);
        n->kill = map_find_short(n->bk, n->ctrl, k->tag, k->len, k->kw, &n->lens);
        if (home_retires(gx, n->kill))
            return 0;
        if (n->kill >= 0)
            return (n->fr = home_room(gx, n)) != 0;
    }
    /* Absent: the first free slot from home on (past the chain's end, it
     * only extends the chain). */
    n->kill = -1;
    for (d = home_full; d < MAP_NEAR_WALK && d <= mask; d++) {
        home_at(n, cur, (b + d) & mask);
        if ((n->fr = home_room(gx, n)) == 0)
            continue;
        if (d > 0 && !insert)
            return 0;
        for (i = 0; i < d; i++)
            map_bump((atword *)map_ctrl_addr(cur), (b + i) & mask, +1);
        /* Counts up, entry not yet published: what a reader may see
         * here (torture builds widen the window). */
        GOCONC_PERTURB_POINT();
        return 1;
    }
    return 0;
}

/* home_near for home_find: *h stays unless it returns 1. */
W_STEP int home_on(struct map_gx *gx, const struct map_key *k, uintptr_t cur, int home_full,
                   int insert, struct map_home *h)
{
    struct map_home n;

    if (h->kill >= 0 || !home_near(gx, k, cur, h->b, home_full, insert, &n))
        return 0;
    *h = n;
    return 1;
}

/* 1 with *h filled when the home bucket of a shard not MOVING, or one a
 * few buckets on, decides (and vlen, the new value's length if known, is at
 * most 8); 0 otherwise, nothing changed (expired DEAD slots made EMPTY
 * leave room, so 1).  insert: as home_near's. */
W_STEP int home_find(struct map_gx *gx, const struct map_key *k, uintptr_t cur, size_t vlen,
                     int insert, struct map_home *h)
{
    /* The table is still the one key_lock prefetched from (only writers
     * holding the lock change cur[idx]): its addresses are at hand. */
    if (k->len > 8 || vlen > 8 || at_load(&gx->sh->phase) == MAP_MOVING ||
        at_load(&gx->m->cur[gx->idx]) != cur)
        return 0;
    home_at(h, cur, k->h & (((size_t)1 << (cur & 63)) - 1));
    h->kill = map_find_short(h->bk, h->ctrl, k->tag, k->len, k->kw, &h->lens);
    if (home_retires(gx, h->kill))
        return 0;
    /* Not at home, the key may be further along a chain that goes on. */
    if (h->kill == -1 && GC_UNLIKELY(map_ovf(h->ctrl) != 0))
        return home_on(gx, k, cur, 0, insert, h);
    h->fr = home_room(gx, h);
    if (GC_UNLIKELY(h->fr == 0))
        return home_on(gx, k, cur, 1, insert, h);
    return 1;
}

/* Put the key's new inline value (vlen <= 8 bytes, read as the word
 * vword: before anything is copied out, which may overwrite them) in the
 * home bucket's first free slot, killing its old slot in the same store.
 * in_place, a constant (the map's GOCONC_MAP_NO_PEEK, "Maps without peek"
 * in doc/map.md): over the old value when the length is the same.  A
 * test of the flag here cost every write to a map with peek 6 to 11
 * instructions (its registers spilled), so the public calls branch once,
 * at their start, into a copy of their body made for such maps.  1 when
 * rewritten in place (for fast_end), else 0. */
W_STEP int home_put(struct map_gx *gx, const struct map_key *k, const struct map_home *h,
                    uint64_t vword, size_t vlen, int in_place)
{
    struct map_shard *sh = gx->sh;

    if (in_place && h->kill >= 0 && map_lens_vlen(h->lens) == vlen) {
        /* No reader keeps the address (GOCONC_MAP_NO_PEEK): one store,
         * no kill.  Release pairs with the readers' acquire load of the
         * value word, as a publish's ctrl store does with theirs. */
        at_store_rel(&h->bk->s[h->kill].v, vword);
        return 1;
    }
    map_bucket_write(h->ct, h->bk, h->ctrl, map_first(h->fr), h->kill,
                     sh->gen, k->tag, map_lens_of(k->len, vlen), k->kw, vword);
    if (h->kill >= 0)
        map_count_kill(gx, &sh->dead_t);
    else
        at_store(&sh->len, at_load(&sh->len) + 1);
    return 0;
}

/* The store's fast case: 1 when done (2: in place); 0, nothing changed,
 * when the general steps must run. */
W_STEP int store_home(struct map_gx *gx, const struct map_key *k, uintptr_t cur, const void *val,
                      size_t vlen, int in_place)
{
    struct map_home h;

    if (!home_find(gx, k, cur, vlen, 1, &h))
        return 0;
    return 1 + home_put(gx, k, &h, gc_key_word(val, vlen), vlen, in_place);
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
 * key's will not do: map_place).  room_slow searches on from where the
 * walk stopped when neither is there.
 */
W_STEP void locate(struct map_wctx *w)
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

W_STEP void w_begin(struct map_wctx *w)
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

static void w_view(const struct map_wctx *w, struct map_view *v)
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

    /* Past the chain's end: calls nothing out, so no bracket yet. */
    if (map_find_free(&w->gx, w->t, w->k.h, w->walked + 1, &w->room))
        return GOCONC_OK;
    w_bracket(w);
    for (;;) {
        switch (at_load(&sh->phase)) {
        case MAP_STABLE:
            if (map_mig_kick(w->gx.m, w->gx.idx, 1) != GOCONC_OK)
                return GOCONC_ENOMEM;
            break;
        case MAP_ZEROING:
            /* Rare (see above): finish preparing the new table at once. */
            map_mig_rush(sh);
            w_begin(w);
            break;
        default:
            return GOCONC_ENOMEM; /* cannot happen: see fits() */
        }
        if (w->room_ok || map_find_free(&w->gx, w->t, w->k.h, w->walked + 1, &w->room))
            return GOCONC_OK;
    }
}

W_STEP int room(struct map_wctx *w)
{
    return GC_LIKELY(w->room_ok) ? GOCONC_OK : room_slow(w);
}

/* The found entry as a record to retire when it dies: out-of-line
 * entries are one already; an inline one needs a drop record only for
 * on_drop.  Reserves the retire. */
static __attribute__((noinline)) int prepare_kill_slow(struct map_wctx *w)
{
    w_bracket(w);
    if (w->lens != MAP_LENS_OOL && w->rec == NULL) {
        struct map_view v;
        w_view(w, &v);
        w->rec = map_entry_new(w->gx.m->on_drop, v.key, v.klen, v.val, v.vlen);
        if (w->rec == NULL)
            return GOCONC_ENOMEM;
    }
    return gc_reserve(1);
}

W_STEP int prepare_kill(struct map_wctx *w)
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
}

W_STEP void retire_old(struct map_wctx *w, uint64_t kword)
{
    if (w->lens != MAP_LENS_OOL && w->gx.m->on_drop == NULL)
        return;
    retire_old_slow(w, kword);
}

/* The out-of-line entry a store of val needs (key or value > 8 bytes). */
static __attribute__((noinline)) int new_entry(struct map_wctx *w, const void *val, size_t vlen)
{
    w_bracket(w);
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

/* The found entry's value to op's buffer (swap, load_and_delete). */
static void w_out(const struct map_wctx *w, const struct map_op *op)
{
    struct map_view v;
    w_view(w, &v);
    out_copy(op, &v);
}

/* Write (lens, kword, vword) at the room, replacing the found entry. */
W_STEP void put(struct map_wctx *w, unsigned lens, uint64_t kword, uint64_t vword)
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

/*
 * May the general steps rewrite the found entry's value in place (a map
 * without peek: home_put's rule, and its reason)?  An inline entry with
 * no drop to run, and a new value of its length.  Without this, every
 * overwrite the fast case does not settle (a key past home_near's reach,
 * any write while the shard is MOVING) took a new slot and killed the old
 * one, a key in a full bucket moving on: W1's store mix filling a map to
 * 70% left 19% of its keys past home where inserts alone leave 6%.
 */
W_STEP int w_in_place(const struct map_wctx *w, size_t vlen)
{
    const struct goconc_map *m = w->gx.m;
    return m->in_place && w->found && w->lens != MAP_LENS_OOL && m->on_drop == NULL &&
           map_lens_vlen(w->lens) == vlen;
}

W_STEP int w_store(struct map_wctx *w, const void *val, size_t vlen, const struct map_op *out)
{
    unsigned lens;
    uint64_t kword, vword;
    int rc;

    if (GC_LIKELY(w->k.len <= 8 && vlen <= 8)) {
        lens = map_lens_of(w->k.len, vlen);
        kword = w->k.kw;
        vword = gc_key_word(val, vlen); /* before out_copy: out may be val */
        if (w_in_place(w, vlen)) {
            if (out)
                w_out(w, out);
            /* Release pairs with the readers' acquire load of the value
             * word (load, load_general, iter), as in home_put.  On the
             * table the write works on: N while MOVING (stress_map and
             * stress_lincheck fail with T's slot written instead). */
            at_store_rel(&w->t->bkt[w->pos.b].s[w->pos.i].v, vword);
            return GOCONC_OK;
        }
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
    if (out && w->found)
        w_out(w, out);
    put(w, lens, kword, vword);
    return GOCONC_OK;
}

W_STEP int w_delete(struct map_wctx *w, const struct map_op *out)
{
    struct map_shard *sh = w->gx.sh;
    uint64_t oldk;
    int rc = prepare_kill(w);

    if (rc != GOCONC_OK)
        return rc;
    if (out)
        w_out(w, out);
    oldk = at_load(&w->t->bkt[w->pos.b].s[w->pos.i].k);
    map_kill_at(&w->gx, w->t, w->dead, w->k.h, &w->pos);
    retire_old(w, oldk);
    at_store(&sh->len, at_load(&sh->len) - 1);
    return GOCONC_OK;
}

/* ------------------------------------------------------------- the end */

/* Has the shard more to do than unlock (end_slow)? */
W_STEP int end_due(const struct map_gx *gx)
{
    return GC_UNLIKELY(map_mig_write(gx->sh) || map_grace_due(gx));
}

static inline size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/*
 * How many more writes may end with a bare unlock without asking
 * end_due, which the caller found false.  A write adds at most one to
 * len and one to len + dead_t (an insert, or a kill), so that many stay
 * within the growth bounds; a write that takes an entry away (towards
 * shrink_live) runs the general steps, whose end asks end_due itself.
 * Kills may wait behind a token in flight until there are
 * MAP_GRACE_BATCH of them, and with none in flight until there are
 * MAP_GRACE_MIN (map_grace_due), so no more writes than that: a token
 * that ran meanwhile, or the first kill after the count, is noticed at
 * the latest after MAP_GRACE_BATCH - 1 writes of the shard (the kills'
 * slots wait that much longer for reuse).
 */
static size_t end_quiet(const struct map_gx *gx)
{
    const struct map_shard *sh = gx->sh;
    size_t live = at_load(&sh->len), q;

    q = min_size(sh->grow_live - live, sh->grow_used - live - sh->dead_t);
    q = min_size(q, MAP_GRACE_BATCH - 1 - sh->kills);
    if (sh->kills != 0 && map_grace_idle(gx))
        q = min_size(q, MAP_GRACE_MIN - 1 - sh->kills);
    if (MAP_CHURN_EVERY != 0)
        q = min_size(q, MAP_CHURN_EVERY - 1 - sh->churn);
    return q;
}

/* The shard has more to do than unlock: migration steps, a migration to
 * start, a grace token for kills. */
static __attribute__((noinline)) void end_slow(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;

    w_bracket(w);

    if (at_load(&sh->phase) != MAP_STABLE) {
        map_mig_step(&w->gx, map_write_units(sh));
    } else if (map_mig_due(sh) && map_mig_kick(w->gx.m, w->gx.idx, 0) == GOCONC_EBUSY) {
        w->want_help = 1;
    }
    map_grace_token(&w->gx);
}

static __attribute__((noinline)) void done_slow(struct map_wctx *w)
{
    gc_free(w->rec);
    gc_free(w->ent);
}

/* Unlock, then what the write left: frees, help, and a poll when it
 * called out (retired, allocated, migrated) or found the key (killed or
 * replaced it): a write that only added an entry has nothing for one. */
W_STEP void w_finish(struct map_wctx *w)
{
    if (w->bracket)
        gc_lock_exit();
    map_unlock(w->gx.sh);
    if (GC_UNLIKELY(w->rec || w->ent))
        done_slow(w);
    if (GC_UNLIKELY(w->want_help))
        map_mig_help(w->gx.m, w->gx.idx);
    if (w->bracket || w->found)
        gc_poll();
}

/* The general steps' end: every write asks end_due, and spends one of
 * the fast case's quiet writes (it may have added an entry or a kill). */
W_STEP void w_unlock(struct map_wctx *w, int rc)
{
    struct map_shard *sh = w->gx.sh;

    if (rc >= 0 && end_due(&w->gx))
        end_slow(w);
    else if (sh->quiet != 0)
        sh->quiet--;
    w_finish(w);
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

/* Every operation but store (w_general calls w_store itself), the key
 * located. */
static __attribute__((noinline)) int apply_other(struct map_wctx *w, const struct map_op *op)
{
    struct map_view v = { NULL, NULL, 0, 0 };
    int rc;

    if (w->found)
        w_view(w, &v);
    switch (op->k) {
    case OP_LOS:
        if (!w->found)
            return w_store(w, op->val, op->vlen, NULL);
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        out_copy(op, &v);
        return GOCONC_EXISTS;
    case OP_SWAP:
        if (w->found && !out_fits(op, &v))
            return GOCONC_ERANGE;
        if (!w->found && op->outlen)
            *op->outlen = 0;
        rc = w_store(w, op->val, op->vlen, op);
        return rc == GOCONC_OK && !w->found ? GOCONC_NOTFOUND : rc;
    case OP_LAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!out_fits(op, &v))
            return GOCONC_ERANGE;
        return w_delete(w, op);
    case OP_DEL:
        return w->found ? w_delete(w, NULL) : GOCONC_NOTFOUND;
    case OP_CAS:
    case OP_CAD:
        if (!w->found)
            return GOCONC_NOTFOUND;
        if (!same_value(&v, op->old, op->oldlen))
            return GOCONC_CHANGED;
        return op->k == OP_CAS ? w_store(w, op->val, op->vlen, NULL) : w_delete(w, NULL);
    default:
        return GOCONC_EINVAL;
    }
}

/* The general steps of op (or, op NULL, a store of val), the key's
 * shard locked by key_lock. */
W_STEP int w_general(const struct map_key *k, const struct map_gx *gx, const void *val,
                     size_t vlen, const struct map_op *op)
{
    struct map_wctx w;
    int rc;

    w_init(&w, k, gx);
    w_begin(&w);
    rc = op == NULL ? w_store(&w, val, vlen, NULL) : apply_other(&w, op);
    w_unlock(&w, rc);
    return rc;
}

/* The fast case stored, and its quiet writes are spent: ask end_due,
 * do what it finds, count them again. */
static __attribute__((noinline)) int store_end(const struct map_key *k, const struct map_gx *gx)
{
    struct map_wctx w;

    w_init(&w, k, gx);
    if (!end_due(&w.gx)) {
        w.gx.sh->quiet = end_quiet(&w.gx);
    } else {
        end_slow(&w);
        /* (A migration started or under way left quiet 0.) */
        if (!map_mig_pending(w.gx.sh) && !map_grace_due(&w.gx))
            w.gx.sh->quiet = end_quiet(&w.gx);
    }
    w_finish(&w);
    return GOCONC_OK;
}

/* The end of a fast case (nothing to free, nothing to poll for): a bare
 * unlock while the shard's quiet writes last.  in_place: the write
 * rewrote a value in place (home_put's answer, a constant 0 in the
 * copies for maps that lend): len and dead_t are unchanged, so it spends
 * none of the quiet count (nor the test builds' churn count; at 10,000
 * keys the count ran out every 6 updates, 14 instructions an update).
 * Work already pending (quiet 0: a migration to step, a token due) is
 * done either way. */
W_STEP int fast_end(const struct map_key *k, const struct map_gx *gx, int in_place)
{
    if (GC_UNLIKELY(gx->sh->quiet == 0))
        return store_end(k, gx);
    if (!in_place) {
        gx->sh->quiet--;
        map_mig_count(gx->sh);
    }
    map_unlock(gx->sh);
    return GOCONC_OK;
}

/* A store the fast case did not settle.  Out of line: the store then
 * keeps its few values in registers. */
static __attribute__((noinline)) int store_general(const struct map_key *k,
                                                   const struct map_gx *gx, const void *val,
                                                   size_t vlen)
{
    return w_general(k, gx, val, vlen, NULL);
}

/* The store, in_place a constant (home_put). */
W_STEP int store_body(goconc_map *m, const void *key, size_t klen, const void *val, size_t vlen,
                      int in_place)
{
    struct map_key k;
    struct map_gx gx;
    uintptr_t cur;
    int rc;

    if (m == NULL || (key == NULL && klen) || (val == NULL && vlen))
        return GOCONC_EINVAL;
    if ((rc = key_lock(m, key, klen, &k, &gx, &cur)) != GOCONC_OK)
        return rc;
    if ((rc = store_home(&gx, &k, cur, val, vlen, in_place)) != 0)
        return fast_end(&k, &gx, rc == 2);
    return store_general(&k, &gx, val, vlen);
}

static __attribute__((noinline)) int store_in_place(goconc_map *m, const void *key, size_t klen,
                                                    const void *val, size_t vlen)
{
    return store_body(m, key, klen, val, vlen, 1);
}

/* The public store (map.c has the other public writes): defined here so
 * that the fast case is inlined into it.  A map without peek jumps to its
 * own copy after this body's prologue (about 8 instructions it does not
 * need); with both copies reached by a jump, every store to a map with
 * peek paid 3 more instead (callgrind_map: overwrite 220.4 -> 223.4). */
GOCONC_API int goconc_map_store(goconc_map *m, const void *key, size_t klen, const void *val,
                                size_t vlen)
{
    /* store_in_place answers a NULL m too: one test on this path. */
    if (m == NULL || m->in_place)
        return store_in_place(m, key, klen, val, vlen);
    return store_body(m, key, klen, val, vlen, 0);
}

/* Swap and load_or_store in the fast case (home_find found the key or
 * its absence, and room): apply_other's answers, on locals.  in_place: as
 * home_put's. */
W_STEP int home_op(const struct map_key *k, struct map_gx *gx, const struct map_home *h,
                   const struct map_op *op, int in_place)
{
    uint64_t vword = gc_key_word(op->val, op->vlen); /* out may be val */
    int rc = GOCONC_OK;

    if (h->kill >= 0) {
        /* Only the length matters to out_fits; the value is copied out of
         * its word by fixed-size moves (out_copy's memcpy, of a length
         * known to be at most 8, became `rep movsb`, slow to start). */
        struct map_view v = { NULL, NULL, 0, map_lens_vlen(h->lens) };
        if (!out_fits(op, &v)) {
            map_unlock(gx->sh);
            return GOCONC_ERANGE;
        }
        if (op->out != NULL)
            gc_word_bytes(op->out, at_load(&h->bk->s[h->kill].v), v.vlen);
        if (op->k == OP_LOS) {
            map_unlock(gx->sh); /* nothing written */
            return GOCONC_EXISTS;
        }
    } else if (op->k == OP_SWAP) {
        if (op->outlen)
            *op->outlen = 0;
        rc = GOCONC_NOTFOUND;
    }
    (void)fast_end(k, gx, home_put(gx, k, h, vword, op->vlen, in_place));
    return rc;
}

/* Are the arguments of op on key malformed? */
W_STEP int op_invalid(const struct goconc_map *m, const void *key, size_t klen,
                      const struct map_op *op)
{
    return m == NULL || (key == NULL && klen) || (op->val == NULL && op->vlen) ||
           (op->old == NULL && op->oldlen) || (op->out == NULL && op->cap);
}

/* The general steps of op.  Out of line, as store_general: the fast
 * case then keeps its values in registers. */
static __attribute__((noinline)) int op_general(const struct map_key *k, const struct map_gx *gx,
                                                const struct map_op *op)
{
    return w_general(k, gx, NULL, 0, op);
}

/* One operation on key; `home`, a constant: try the fast case first
 * (swap, load_or_store); in_place, a constant: as home_put's. */
W_STEP int write_op(struct goconc_map *m, const void *key, size_t klen, const struct map_op *op,
                    int home, int in_place)
{
    struct map_home h;
    struct map_key k;
    struct map_gx gx;
    uintptr_t cur;
    int rc;

    if (op_invalid(m, key, klen, op))
        return GOCONC_EINVAL;
    /* No such key can be in the map: the deletes answer so (key_lock
     * gives the writes that would store it GOCONC_EOVERFLOW). */
    if (GC_UNLIKELY(klen > MAP_KLEN_MAX) && (op->k == OP_LAD || op->k == OP_DEL || op->k == OP_CAD))
        return GOCONC_NOTFOUND;
    if (op->k == OP_STORE)
        return goconc_map_store(m, key, klen, op->val, op->vlen);
    if ((rc = key_lock(m, key, klen, &k, &gx, &cur)) != GOCONC_OK)
        return rc;
    if (home && home_find(&gx, &k, cur, op->vlen, 1, &h))
        return home_op(&k, &gx, &h, op, in_place);
    /* Without a fast case the general steps are the body, inline. */
    return home ? op_general(&k, &gx, op) : w_general(&k, &gx, NULL, 0, op);
}

int map_write(struct goconc_map *m, const void *key, size_t klen, const struct map_op *op)
{
    return write_op(m, key, klen, op, 0, 0);
}

/* Swap and load_or_store are defined here, as goconc_map_store is: each
 * inlines write_op with its op a constant (its kind's checks fold away,
 * its fields stay in registers). */
static __attribute__((noinline)) int swap_in_place(goconc_map *m, const void *key, size_t klen,
                                                   const struct map_op *op)
{
    return write_op(m, key, klen, op, 1, 1);
}

GOCONC_API int goconc_map_swap(goconc_map *m, const void *key, size_t klen, const void *val,
                               size_t vlen, void *prev, size_t cap, size_t *prevlen)
{
    struct map_op op = { OP_SWAP, val, vlen, NULL, 0, prev, cap, prevlen };
    if (m == NULL || m->in_place) /* as goconc_map_store */
        return swap_in_place(m, key, klen, &op);
    return write_op(m, key, klen, &op, 1, 0);
}

GOCONC_API int goconc_map_load_or_store(goconc_map *m, const void *key, size_t klen,
                                        const void *val, size_t vlen, void *out, size_t cap,
                                        size_t *outlen)
{
    struct map_op op = { OP_LOS, val, vlen, NULL, 0, out, cap, outlen };
    return write_op(m, key, klen, &op, 1, 0); /* it never replaces a value */
}

/* ---------------------------------------------------------------- update */

/*
 * update runs the user's function under the key's shard lock, bracketed
 * by gc_lock_enter (no deferred callback runs under a shard lock; fn may
 * read the map).  fn runs once, so every way on is decided before it
 * runs: the fast case (home_find, fn given the inline value in place,
 * an inline result written by home_put) or the general steps; a result
 * the fast case cannot write (an out-of-line value, a delete) goes on
 * through the general steps from the position home_find found.
 *
 * If fn unwinds (a C++ exception, a cancellation) instead of returning,
 * update_unwound runs as goconc_map_update's frame goes (the cleanup
 * attribute; the library is built with -fexceptions) and ends the
 * update as a negative return of fn would: nothing changed, the bracket
 * left, the lock released.
 */
struct update_frame {
    struct map_fn_frame fr; /* this update in the thread's chain (map_in_fn) */
    struct map_shard *sh;
    int in_fn;
};

static void update_unwound(struct update_frame *u)
{
    if (!u->in_fn)
        return;
    gc_thread_self()->map_fn = u->fr.up;
    gc_lock_exit();
    map_unlock(u->sh);
}

/* fn's answer (its new value in *nv, *nl); while it runs, a write to the map
 * from this thread returns EDEADLK (map_in_fn). */
W_STEP int update_call(struct update_frame *u, goconc_map_update_fn fn, void *ctx,
                       const void *val, size_t vlen, int found, const void **nv, size_t *nl)
{
    struct gc_thread *t = gc_thread_self();
    int r;

    u->fr.up = t->map_fn;
    t->map_fn = &u->fr;
    u->in_fn = 1;
    r = fn(ctx, val, vlen, found, nv, nl);
    u->in_fn = 0;
    t->map_fn = u->fr.up;
    if (r == GOCONC_UPDATE_STORE && *nv == NULL && *nl)
        return GOCONC_EINVAL;
    if (r >= 0 && r != GOCONC_UPDATE_KEEP && r != GOCONC_UPDATE_DELETE &&
        r != GOCONC_UPDATE_STORE)
        return GOCONC_EINVAL;
    return r;
}

/* fn's answer r applied through the general steps (the key located). */
static int update_apply(struct map_wctx *w, int r, const void *nv, size_t nl)
{
    if (r < 0)
        return r;
    if (r == GOCONC_UPDATE_STORE)
        return w_store(w, nv, nl, NULL);
    if (r == GOCONC_UPDATE_DELETE && w->found)
        return w_delete(w, NULL);
    return GOCONC_OK; /* KEEP, or DELETE of an absent key */
}

/* The general steps around fn, when the home bucket did not decide. */
static __attribute__((noinline)) int update_general(const struct map_key *k,
                                                    const struct map_gx *gx,
                                                    struct update_frame *u,
                                                    goconc_map_update_fn fn, void *ctx)
{
    struct map_view v = { NULL, NULL, 0, 0 };
    struct map_wctx w;
    const void *nv = NULL;
    size_t nl = 0;
    int rc;

    w_init(&w, k, gx);
    w.bracket = 1;
    w_begin(&w);
    if (w.found)
        w_view(&w, &v);
    rc = update_call(u, fn, ctx, v.val, v.vlen, w.found, &nv, &nl);
    rc = update_apply(&w, rc, nv, nl);
    w_unlock(&w, rc);
    return rc;
}

/* The general steps from what home_find found, for a result the fast
 * case cannot write: locate's answer for a chain that ends at home or one
 * bucket on (the key in its bucket or absent, the room that bucket's
 * first EMPTY slot; walked, which room_ok leaves unread, set to the
 * room's distance). */
static __attribute__((noinline)) int update_rest(const struct map_key *k,
                                                 const struct map_gx *gx,
                                                 const struct map_home *h, int r,
                                                 const void *nv, size_t nl)
{
    struct map_wctx w;
    int rc;

    w_init(&w, k, gx);
    w.bracket = 1;
    w.t = gx->sh->tbl;
    w.dead = &gx->sh->dead_t;
    w.found = h->kill >= 0;
    w.pos.b = w.room.b = h->b;
    w.pos.i = w.found ? (unsigned)h->kill : 0;
    w.pos.dist = w.room.dist = w.walked = (h->b - k->h) & w.t->mask;
    w.lens = h->lens;
    w.room.i = map_first(h->fr);
    w.room_ok = 1;
    rc = update_apply(&w, r, nv, nl);
    w_unlock(&w, rc);
    return rc;
}

/* The update, in_place a constant (home_put). */
W_STEP int update_body(goconc_map *m, const void *key, size_t klen, goconc_map_update_fn fn,
                       void *ctx, int in_place)
{
    struct update_frame u __attribute__((cleanup(update_unwound)));
    struct map_home h;
    struct map_key k;
    struct map_gx gx;
    const void *nv = NULL;
    size_t nl = 0;
    uintptr_t cur;
    int r, placed = 0;

    u.in_fn = 0;
    if (m == NULL || (key == NULL && klen) || fn == NULL)
        return GOCONC_EINVAL;
    if ((r = key_lock(m, key, klen, &k, &gx, &cur)) != GOCONC_OK)
        return r;
    u.fr.m = m;
    u.sh = gx.sh;
    gc_lock_enter();
    if (!home_find(&gx, &k, cur, 0, 0, &h))
        return update_general(&k, &gx, &u, fn, ctx);
    /* The inline value in place (map_slot_view's, without the key). */
    r = update_call(&u, fn, ctx, h.kill >= 0 ? (const void *)&h.bk->s[h.kill].v : NULL,
                    h.kill >= 0 ? map_lens_vlen(h.lens) : 0, h.kill >= 0, &nv, &nl);
    if (r == GOCONC_UPDATE_STORE && nl <= 8) {
        placed = home_put(&gx, &k, &h, gc_key_word(nv, nl), nl, in_place);
    } else if (r == GOCONC_UPDATE_STORE || (r == GOCONC_UPDATE_DELETE && h.kill >= 0)) {
        return update_rest(&k, &gx, &h, r, nv, nl);
    } else if (r < 0) {
        gc_lock_exit();
        map_unlock(gx.sh);
        return r;
    }
    gc_lock_exit();
    return fast_end(&k, &gx, placed);
}

static __attribute__((noinline)) int update_in_place(goconc_map *m, const void *key, size_t klen,
                                                     goconc_map_update_fn fn, void *ctx)
{
    return update_body(m, key, klen, fn, ctx, 1);
}

static __attribute__((noinline)) int update_slots(goconc_map *m, const void *key, size_t klen,
                                                  goconc_map_update_fn fn, void *ctx)
{
    return update_body(m, key, klen, fn, ctx, 0);
}

/* Defined here, beside the steps it inlines, as goconc_map_store is.
 * Both copies are reached by a jump: with one inlined here, the other
 * paid its prologue (23 instructions an update), and a map with peek
 * gained nothing by the inlining (callgrind_map: update 300.3, 299.3
 * jumping). */
GOCONC_API int goconc_map_update(goconc_map *m, const void *key, size_t klen,
                                 goconc_map_update_fn fn, void *ctx)
{
    if (m == NULL || m->in_place) /* as goconc_map_store */
        return update_in_place(m, key, klen, fn, ctx);
    return update_slots(m, key, klen, fn, ctx);
}
