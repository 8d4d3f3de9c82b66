/* SPDX-License-Identifier: MIT */
/*
 * map_table.c - a map shard's writer side: locks, tables and entries,
 * grace tracking for slot reuse, slot writes, and the steps of one write
 * under the shard lock.  The migration state machine is in
 * map_migrate.c.
 *
 * Readers never lock and never write (map_lookup in map_internal.h); every
 * function here runs with the shard's lock held unless it says otherwise.
 * doc/map.md states the invariants; the comments below name the reader
 * load each release store pairs with.
 */

#include "map/map_internal.h"

_Static_assert(sizeof(struct map_bucket) == MAP_BUCKET_BYTES, "bucket is two cache lines");
_Static_assert(sizeof(AO_t) == 8, "the map keeps 8-byte words inline");
_Static_assert(sizeof(struct map_table) == 64, "table header: the line before the control words");
_Static_assert(offsetof(struct map_bucket, s[4]) == 64, "slots 0..3 in the first line");
_Static_assert(MAP_MAX_LOG2 < 64, "log2 fits the six low bits of a current-table word");

/* -------------------------------------------------------------- locks */

void map_lock(struct map_shard *sh, uintptr_t me)
{
    unsigned round = 0;
    while (!map_trylock(sh, me))
        gc_backoff(&round); /* the owner may be descheduled (2 cores) */
}

/* ------------------------------------------------------ tables, entries */

struct map_table *map_table_new(unsigned log2, map_drop_fn drop, int zero)
{
    size_t nb = (size_t)1 << log2;
    size_t bytes = sizeof(struct map_table) + 63 + map_ctrl_bytes(log2) + nb * MAP_BUCKET_BYTES;
    unsigned how;
    void *raw = gc_alloc_big(bytes, &how);
    struct map_table *t;
    atword *ctrl;

    if (raw == NULL)
        return NULL;
    /* Control words 64-byte aligned, the header in the 64 bytes before
     * them, the buckets right after. */
    ctrl = (atword *)(((uintptr_t)raw + sizeof *t + 63) & ~(uintptr_t)63);
    t = (struct map_table *)ctrl - 1;
    at_storep(&t->next, NULL);
    t->mask = nb - 1;
    t->log2 = log2;
    t->walk = 0;
    t->ctrl = ctrl;
    t->bkt = (struct map_bucket *)((char *)ctrl + map_ctrl_bytes(log2));
    t->raw = raw;
    t->bytes = bytes;
    t->how = (unsigned char)how;
    t->drop = drop;
    /* Published later by a release store (cur[s] or T->next).  A fresh
     * mapping is zero already: writing it would fault in every page of
     * a table made big by a capacity hint before any store. */
    if (zero && !(how & GC_BIG_ZERO))
        map_table_zero(t, 0, nb);
    return t;
}

void map_table_zero(struct map_table *t, size_t from, size_t n)
{
    memset((void *)&t->ctrl[from], 0, n * sizeof(atword));
    memset(&t->bkt[from], 0, n * MAP_BUCKET_BYTES);
}

void map_table_free_now(struct map_table *t)
{
    gc_free_big(t->raw, t->bytes, t->how);
}

void map_table_drop_all(struct map_table *t, void *ctx)
{
    size_t b;
    unsigned i;

    for (b = 0; b <= t->mask; b++) {
        struct map_bucket *bk = &t->bkt[b];
        uint64_t ctrl = at_load(&t->ctrl[b]), meta, live = ctrl & MAP_HIGH7;
        /* A MOVED bucket's entries belong to the next table. */
        if ((ctrl & MAP_CTRL_MOVED) || live == 0)
            continue;
        meta = at_load(&bk->meta);
        for (; live; live &= live - 1) {
            struct map_view v;
            i = map_first(live);
            map_slot_view(&bk->s[i], map_lens(meta, i), &v);
            if (t->drop)
                t->drop(ctx, v.key, v.klen, v.val, v.vlen);
            if (map_lens(meta, i) == MAP_LENS_OOL)
                gc_free(at_loadp(&bk->s[i].k));
        }
    }
}

void map_table_destroy(void *ctx, void *obj)
{
    struct map_table *t = obj;
    if (t->walk)
        map_table_drop_all(t, ctx);
    map_table_free_now(t);
}

size_t map_entry_size(size_t klen, size_t vlen)
{
    size_t n = sizeof(struct map_entry);
    if (klen > SIZE_MAX - n || vlen > SIZE_MAX - n - klen)
        return SIZE_MAX;
    return n + klen + vlen;
}

struct map_entry *map_entry_new(map_drop_fn drop, const void *key, size_t klen,
                                const void *val, size_t vlen)
{
    struct map_entry *e = gc_alloc(map_entry_size(klen, vlen));
    if (e == NULL)
        return NULL;
    e->drop = drop;
    e->klen = klen;
    e->vlen = vlen;
    if (klen)
        memcpy(e->data, key, klen);
    if (vlen)
        memcpy(e->data + klen, val, vlen);
    return e;
}

void map_entry_destroy(void *ctx, void *obj)
{
    struct map_entry *e = obj;
    if (e->drop)
        e->drop(ctx, e->data, e->klen, map_entry_val(e), e->vlen);
    gc_free(e);
}

/* ------------------------------------------------------- grace tracking */

/*
 * A DEAD slot may have been read (or lent by peek) by a reader that is
 * still in its section, so it is reused only after a grace period.  Kills
 * stamp their bucket with the shard's generation `gen` (low 8 bits in
 * meta); at the end of a write that killed, a token for `gen` is retired
 * and `gen` moves on.  When the token runs, every reader that could have
 * seen those slots has left, and expired[s] records that generation.
 * Generations (E, G] are still pending; a stamp s is pending iff
 * (uint8)(G - s) < G - E, exact while fewer than 256 are pending and
 * conservative (never reuse) beyond.
 */
void map_grace_put(struct map_grace *g)
{
    if (at_fetch_sub(&g->refs, 1) == 1)
        gc_free(g);
}

static void grace_done(void *ctx, void *obj)
{
    struct map_grace *g = obj;
    uintptr_t c = (uintptr_t)ctx;
    atword *e = &g->expired[c >> 32];
    uint32_t gen = (uint32_t)c, cur;

    /* Tokens may run out of order: keep the newest (a later token's grace
     * period covers every earlier kill).  The CAS is a full barrier and
     * pairs with the writer's acquire load in stamp_pending(). */
    do {
        cur = (uint32_t)at_load(e);
        if ((int32_t)(gen - cur) <= 0)
            break;
    } while (!at_cas(e, cur, gen));
    map_grace_put(g);
}

void map_gx_init(struct map_gx *gx, struct goconc_map *m, unsigned idx)
{
    gx->m = m;
    gx->sh = &m->sh[idx];
    gx->idx = idx;
    gx->known = 0;
}

static inline int stamp_pending(struct map_gx *gx, unsigned stamp)
{
    if (!gx->known) {
        uint32_t e = (uint32_t)at_load_acq(&gx->m->grace->expired[gx->idx]);
        gx->window = gx->sh->gen - e;
        gx->known = 1;
    }
    return gx->window >= 256 || (uint8_t)(gx->sh->gen - stamp) < gx->window;
}

/* Issue a grace token for the kills of the current generation: when none
 * is in flight, or when many kills wait behind a slow one. */
static void grace_token(struct map_gx *gx)
{
    struct map_shard *sh = gx->sh;
    struct map_grace *g = gx->m->grace;
    uint32_t e;

    if (sh->kills == 0)
        return;
    e = (uint32_t)at_load_acq(&g->expired[gx->idx]);
    if ((int32_t)(sh->issued - e) > 0 && sh->kills < 64)
        return;
    if (gc_reserve(1) != GOCONC_OK)
        return; /* no harm: the slots wait for a later token */
    at_fetch_add(&g->refs, 1);
    if (gc_retire(g, grace_done, (void *)(((uintptr_t)gx->idx << 32) | sh->gen)) != GOCONC_OK) {
        at_fetch_sub(&g->refs, 1);
        return;
    }
    sh->issued = sh->gen++;
    sh->kills = 0;
    gx->known = 0;
}

/* ------------------------------------------------------ slot primitives */

/* Are bk's DEAD slots still in their grace period?  (Only asked when it
 * has some: a kill wrote the stamp.) */
static inline int bucket_pending(struct map_gx *gx, const struct map_bucket *bk)
{
    return stamp_pending(gx, (unsigned)(at_load(&bk->meta) >> MAP_META_STAMP_SHIFT));
}

/* Free slots of bucket bk (control word ctrl): EMPTY, and DEAD once their
 * grace period passed. */
static inline uint64_t free_slots(struct map_gx *gx, const struct map_bucket *bk, uint64_t ctrl)
{
    uint64_t fr = map_match(ctrl, MAP_TAG_EMPTY);
    uint64_t dd = map_match(ctrl, MAP_TAG_DEAD);
    if (dd && !bucket_pending(gx, bk))
        fr |= dd;
    return fr;
}

/* Turn a bucket's expired DEAD slots back into EMPTY (part of the next
 * ctrl store of that bucket). */
static inline uint64_t recycle(struct map_gx *gx, const struct map_bucket *bk, uint64_t ctrl,
                               size_t *dead)
{
    uint64_t dd = map_match(ctrl, MAP_TAG_DEAD);
    if (dd && !bucket_pending(gx, bk)) {
        ctrl &= ~((dd >> 7) * 0xFF);
        /* popcount of the 0x80 marks, without a libgcc call */
        *dead -= (size_t)(((dd >> 7) * MAP_BYTES_LO) >> 56);
    }
    return ctrl;
}

int map_find_free(struct map_gx *gx, const struct map_table *t, uint64_t h, size_t from,
                  struct map_pos *p)
{
    size_t d;
    for (d = from; d <= t->mask; d++) {
        size_t b = (h + d) & t->mask;
        uint64_t fr = free_slots(gx, &t->bkt[b], at_load(&t->ctrl[b]));
        if (fr) {
            p->b = b;
            p->i = map_first(fr);
            p->dist = d;
            return 1;
        }
    }
    return 0;
}

/*
 * Publish a LIVE entry in free slot i of bucket b, whose control word the
 * caller loaded as ctrl; kill slot `kill` of the same bucket in the same
 * store (-1: none).  Expired DEAD slots of the bucket go back to EMPTY.
 */
static inline void bucket_publish(struct map_gx *gx, struct map_table *t, size_t *dead,
                                  size_t b, uint64_t ctrl, unsigned i, int kill, unsigned tag,
                                  unsigned lens, uint64_t kword, uint64_t vword)
{
    struct map_bucket *bk = &t->bkt[b];
    map_bucket_write(&t->ctrl[b], bk, recycle(gx, bk, ctrl, dead), i, kill, gx->sh->gen, tag,
                     lens, kword, vword);
}

/*
 * Write a new LIVE entry at free position p of t and publish it; when
 * `old` (same table, probe distance <= p->dist) is given, the entry
 * replaces it: the old slot is killed in the same ctrl store when it
 * shares the bucket, right after the publish otherwise.  Overflow counts
 * of the buckets between the old position (or home) and p go up first.
 */
void map_place(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
               unsigned tag, unsigned lens, uint64_t kword, uint64_t vword,
               const struct map_pos *p, const struct map_pos *old)
{
    size_t d;

    for (d = old ? old->dist : 0; d < p->dist; d++)
        map_bump(t->ctrl, (h + d) & t->mask, +1);
    bucket_publish(gx, t, dead, p->b, at_load(&t->ctrl[p->b]), p->i,
                   old && old->b == p->b ? (int)old->i : -1, tag, lens, kword, vword);
    GOCONC_PERTURB_POINT();
    if (old && old->b != p->b) {
        struct map_bucket *ob = &t->bkt[old->b];
        uint64_t oc = recycle(gx, ob, at_load(&t->ctrl[old->b]), dead);
        map_meta_stamp(ob, gx->sh->gen);
        /* After the new entry is visible further along the chain, so a
         * reader passing the old bucket finds one or the other. */
        at_store_rel(&t->ctrl[old->b], map_ctrl_set(oc, old->i, MAP_TAG_DEAD));
    }
    if (old) {
        ++*dead;
        gx->sh->kills++;
    }
}

/*
 * Insert an entry that t does not hold (a bucket move): most often its
 * home bucket has an EMPTY slot, and then nothing else needs a look.
 */
void map_insert_new(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                    unsigned tag, unsigned lens, uint64_t kword, uint64_t vword)
{
    size_t b = h & t->mask;
    uint64_t ctrl = at_load(&t->ctrl[b]), fr = map_match(ctrl, MAP_TAG_EMPTY);
    struct map_pos p;

    if (fr)
        bucket_publish(gx, t, dead, b, ctrl, map_first(fr), -1, tag, lens, kword, vword);
    else if (map_find_free(gx, t, h, 0, &p))
        map_place(gx, t, dead, h, tag, lens, kword, vword, &p, NULL);
}

/*
 * Kill the entry at p (probe distance p->dist from home): DEAD with the
 * bucket stamped, then the overflow counts it held drop.
 */
static void kill_at(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                    const struct map_pos *p)
{
    struct map_bucket *bk = &t->bkt[p->b];
    uint64_t ctrl = recycle(gx, bk, at_load(&t->ctrl[p->b]), dead);
    size_t d;

    map_meta_stamp(bk, gx->sh->gen);
    at_store_rel(&t->ctrl[p->b], map_ctrl_set(ctrl, p->i, MAP_TAG_DEAD));
    GOCONC_PERTURB_POINT();
    for (d = 0; d < p->dist; d++)
        map_bump(t->ctrl, (h + d) & t->mask, -1);
    ++*dead;
    gx->sh->kills++;
}

/* ------------------------------------------------------ one write's steps */

void map_w_init(struct map_wctx *w, struct goconc_map *m, const void *key, size_t klen)
{
    w->kw = klen <= 8 ? gc_key_word(key, klen) : 0;
    w->h = klen <= 8 ? gc_hash_word(&m->hk, w->kw, klen) : gc_hash_bytes(&m->hk, key, klen);
    w->tag = map_tag(m, w->h);
    w->key = key;
    w->klen = klen;
    map_gx_init(&w->gx, m, map_shard_of(m, w->h));
    w->rec = NULL;
    w->ent = NULL;
    w->want_help = 0;
}

static void room_at(struct map_wctx *w, size_t b, unsigned i, size_t d)
{
    w->room.b = b;
    w->room.i = i;
    w->room.dist = d;
    w->room_ok = 1;
}

/*
 * Find the key in the authoritative table (writer: no MOVED buckets), and
 * on the way the free slot map_w_room would pick: the first one at or
 * past the key's probe distance (found), or on its chain (not found).
 */
static void locate(struct map_wctx *w)
{
    const struct map_table *t = w->t;
    size_t b = w->h & t->mask, d;
    uint64_t fr;

    w->room_ok = 0;
    for (d = 0; d <= t->mask; d++) {
        const struct map_bucket *bk = &t->bkt[b];
        uint64_t ctrl = at_load(&t->ctrl[b]);
        uint64_t mt = map_match(ctrl, w->tag);
        for (; mt; mt &= mt - 1) {
            unsigned i = map_first(mt), lens = map_lens(at_load(&bk->meta), i);
            if (map_slot_is(&bk->s[i], lens, w->h, w->key, w->klen, w->kw)) {
                w->found = 1;
                w->pos.b = b;
                w->pos.i = i;
                w->pos.dist = d;
                w->lens = lens;
                /* A free slot before the key's will not do (map_place). */
                w->room_ok = 0;
                if ((fr = free_slots(&w->gx, bk, ctrl)) != 0)
                    room_at(w, b, map_first(fr), d);
                return;
            }
        }
        if (!w->room_ok && (fr = free_slots(&w->gx, bk, ctrl)) != 0)
            room_at(w, b, map_first(fr), d);
        if (map_ovf(ctrl) == 0)
            break;
        b = (b + 1) & t->mask;
    }
    w->found = 0;
}

void map_w_begin(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;
    if (at_load(&sh->phase) == MAP_MOVING) {
        /* The key's old chain moves first: from here on the new table
         * alone holds the key, and the old buckets stay frozen. */
        map_mig_evacuate(&w->gx, w->h);
        w->t = sh->nxt;
        w->dead = &sh->dead_n;
    } else {
        w->t = sh->tbl;
        w->dead = &sh->dead_t;
    }
    locate(w);
}

int map_w_store_inline(struct map_wctx *w, unsigned lens, uint64_t vword)
{
    struct map_shard *sh = w->gx.sh;
    struct map_table *t = sh->tbl;
    size_t b = w->h & t->mask;
    const struct map_bucket *bk = &t->bkt[b];
    uint64_t ctrl = at_load(&t->ctrl[b]), fr;
    unsigned l;
    int kill;

    if (at_load(&sh->phase) == MAP_MOVING)
        return 0; /* the key's chain must be evacuated first */
    /* An out-of-line match may be the key, an entry to retire. */
    if ((kill = map_find_short(bk, ctrl, w->tag, w->klen, w->kw, &l)) == -2)
        return 0;
    /* Absent from the home bucket and the chain goes on: it may be
     * further along. */
    if (kill < 0 && map_ovf(ctrl) != 0)
        return 0;
    if ((fr = free_slots(&w->gx, bk, ctrl)) == 0)
        return 0;
    bucket_publish(&w->gx, t, &sh->dead_t, b, ctrl, map_first(fr), kill, w->tag, lens, w->kw,
                   vword);
    if (kill >= 0) {
        sh->dead_t++;
        sh->kills++;
    } else {
        at_store(&sh->len, at_load(&sh->len) + 1);
    }
    return 1;
}

void map_w_view(const struct map_wctx *w, struct map_view *v)
{
    map_slot_view(&w->t->bkt[w->pos.b].s[w->pos.i], w->lens, v);
}

int map_w_room(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;
    int rc;

    for (;;) {
        if (w->room_ok ||
            map_find_free(&w->gx, w->t, w->h, w->found ? w->pos.dist : 0, &w->room))
            return GOCONC_OK;
        /* No free slot on the key's chain: a full table (only when the
         * migration cap kept it from growing, or readers hold back the
         * reuse of DEAD slots).  Migrate now, over the cap if need be. */
        switch (at_load(&sh->phase)) {
        case MAP_STABLE:
            rc = map_mig_kick(w->gx.m, w->gx.idx, 1);
            if (rc != GOCONC_OK)
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

int map_w_prepare_kill_slow(struct map_wctx *w)
{
    struct goconc_map *m = w->gx.m;

    if (w->lens != MAP_LENS_OOL && w->rec == NULL) {
        struct map_view v;
        map_w_view(w, &v);
        w->rec = map_entry_new(m->on_drop, v.key, v.klen, v.val, v.vlen);
        if (w->rec == NULL)
            return GOCONC_ENOMEM;
    }
    return gc_reserve(1);
}

/* Retire the entry that was just killed or replaced (reserved). */
static void retire_old(struct map_wctx *w, uint64_t kword)
{
    struct goconc_map *m = w->gx.m;
    struct map_shard *sh = w->gx.sh;

    if (w->lens == MAP_LENS_OOL) {
        struct map_entry *e = (struct map_entry *)(uintptr_t)kword;
        at_store(&sh->bytes, at_load(&sh->bytes) - map_entry_size(e->klen, e->vlen));
        (void)gc_retire(e, map_entry_destroy, m->ctx);
    } else if (m->on_drop) {
        (void)gc_retire(w->rec, map_entry_destroy, m->ctx);
        w->rec = NULL;
    }
}

void map_w_put(struct map_wctx *w, unsigned lens, uint64_t kword, uint64_t vword)
{
    struct map_shard *sh = w->gx.sh;
    uint64_t oldk = w->found ? at_load(&w->t->bkt[w->pos.b].s[w->pos.i].k) : 0;

    map_place(&w->gx, w->t, w->dead, w->h, w->tag, lens, kword, vword, &w->room,
          w->found ? &w->pos : NULL);
    if (lens == MAP_LENS_OOL) {
        at_store(&sh->bytes, at_load(&sh->bytes) + map_entry_size(w->klen, w->ent->vlen));
        w->ent = NULL; /* now the map's */
    }
    if (w->found)
        retire_old(w, oldk);
    else
        at_store(&sh->len, at_load(&sh->len) + 1);
}

void map_w_kill(struct map_wctx *w)
{
    struct map_shard *sh = w->gx.sh;
    uint64_t oldk = at_load(&w->t->bkt[w->pos.b].s[w->pos.i].k);

    kill_at(&w->gx, w->t, w->dead, w->h, &w->pos);
    retire_old(w, oldk);
    at_store(&sh->len, at_load(&sh->len) - 1);
}

void map_w_end(struct map_wctx *w)
{
    struct goconc_map *m = w->gx.m;
    struct map_shard *sh = w->gx.sh;

    sh->churn++;
    if (at_load(&sh->phase) != MAP_STABLE)
        map_mig_step(&w->gx, map_write_units(sh));
    else if (map_mig_due(sh) && map_mig_kick(m, w->gx.idx, 0) == GOCONC_EBUSY)
        w->want_help = 1;
    grace_token(&w->gx);
}

void map_w_done_slow(struct map_wctx *w)
{
    if (w->rec)
        gc_free(w->rec);
    if (w->ent)
        gc_free(w->ent);
    w->rec = w->ent = NULL;
}
