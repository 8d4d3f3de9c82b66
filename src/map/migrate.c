/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - the per-shard migration state machine:
 *
 *   STABLE --(wants another size, a migration slot)--> ZEROING
 *   ZEROING --(new table zeroed; publish T->next)-----> MOVING
 *   MOVING --(every old bucket MOVED; publish cur)----> STABLE
 *
 * Sizing (fits), the cap on shards migrating at once (map->mig slots),
 * bucket moves, chain evacuation before a write, helping, and the
 * bounded units of work each write and maintain() do, and the public
 * calls that drive it: goconc_map_reserve and goconc_map_maintain.  All
 * but those and map_mig_help run under the shard's lock.  doc/map.md has
 * the invariants.
 */
#include "map/migrate.h"
#include "map/probe.h"
#include "map/table.h"

/*
 * Writes one migration can see before it ends, in the worst case: each
 * write does MAP_WRITE_UNITS units (MOVING writes do more), a unit zeroes
 * MAP_ZERO_CHUNK buckets or advances the move cursor by at least one
 * bucket.
 */
static size_t zero_writes(unsigned log2n)
{
    return ((size_t)1 << log2n) / (MAP_WRITE_UNITS * MAP_ZERO_CHUNK) + 1;
}

static size_t move_writes(unsigned log2t)
{
    return ((size_t)1 << log2t) / MAP_WRITE_UNITS + 1;
}

/*
 * Can a table of 2^ln buckets take `live` entries from a table of 2^lt
 * buckets plus everything written while the migration runs?  Writes in
 * ZEROING land in the old table and are moved later (one slot each);
 * writes in MOVING add at most one live and one DEAD slot each to the new
 * table.  This is what guarantees that moving a bucket always finds room.
 */
static int fits(size_t live, unsigned ln, unsigned lt)
{
    size_t cap = (size_t)MAP_SLOTS << ln;
    return live + zero_writes(ln) + 2 * move_writes(lt) + MAP_SLOTS <= cap;
}

/* Smallest log2 (at most MAP_MAX_LOG2) whose table is at most half full
 * with `live` entries: 2 * live <= 7 << l.  No loop from 0: writes that
 * wait for a migration slot ask at every write. */
static unsigned half_full_log2(size_t live)
{
    uint64_t units = ((uint64_t)live * 2 + MAP_SLOTS - 1) / MAP_SLOTS;
    unsigned l = units <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(units - 1);
    return l < MAP_MAX_LOG2 ? l : MAP_MAX_LOG2;
}

/*
 * Should a rehash for drift double the table (1) rather than keep its
 * size (0)?  Kills wait out a grace period in their buckets, and how
 * many wait per shard hardly depends on the shard's size (a token covers
 * 8 to 64 of them): in a small table they fill buckets, keys move on,
 * and a same-size rehash only starts the cycle again (10,000 keys under
 * overwrites: a rehash of every shard every ~2,000 of its writes).  Only
 * small tables, so that a big map never pays memory for it, and only one
 * over 30% full: the doubled table is over 15% full, and a shrink (below
 * 1/8) needs a sixth of the entries gone first, so that a shard whose
 * length wavers does not double and halve in turn (doc/map.md, "Small
 * tables double on drift").
 */
static unsigned drift_grows(unsigned lt, size_t live)
{
    return lt <= MAP_DRIFT_GROW_LOG2 && live * 10 > (size_t)3 * MAP_SLOTS << lt;
}

int map_mig_target(const struct map_shard *sh, int force)
{
    const struct map_table *t = sh->tbl;
    unsigned lt = t->log2, ln = sh->min_log2;
    size_t cap = (size_t)MAP_SLOTS << lt;
    size_t live = at_load(&sh->len), used = live + sh->dead_t;
    unsigned half = half_full_log2(live);
    int grow = live * 5 > cap * 4 || used * 16 > cap * 15 || lt < sh->min_log2;
    int shrink = lt > sh->min_log2 && live * 8 < cap;
    /* Test build: keep every shard migrating (to the same size if nothing
     * else is due), so the state machine runs under every test. */
    int churn = map_churn_due(sh->churn);
    /* Any build: a rehash that brings drifted keys home. */
    int drift = map_drift_due(sh, live);
    /* Neither size nor the caller asks: only churn or drift can. */
    int rehash = !grow && !shrink && !force;

    if (rehash && !churn && !drift)
        return -1;
    /* The smallest table at most half full (a grow at 80% doubles, a
     * shrink lands between 1/4 and 1/2), with room for the migration's
     * own writes.  A rehash for drift alone keeps the size (a table
     * shrinks only below 1/8 full: API.md), or doubles a small one. */
    if (half > ln)
        ln = half;
    if (rehash && !churn)
        ln = lt + drift_grows(lt, live);
    while (ln < MAP_MAX_LOG2 && !fits(live, ln, lt))
        ln++;
    if (rehash)
        return (int)ln;
    if (ln == lt && sh->dead_t == 0 && ln < MAP_MAX_LOG2)
        ln++; /* same size would gain nothing: nothing dead to drop */
    if (!grow && !force && ln >= lt)
        return -1; /* a shrink that cannot shrink */
    if (ln == lt && sh->dead_t == 0)
        return -1; /* at the size limit */
    return (int)ln;
}

void map_mig_limits(struct map_shard *sh)
{
    unsigned lt = sh->tbl->log2;
    size_t cap = (size_t)MAP_SLOTS << lt;

    sh->quiet = 0; /* counted against the old bounds */
    sh->drift_shift = lt >= MAP_DRIFT_EIGHTH_LOG2 && lt <= MAP_DRIFT_GROW_LOG2
                          ? MAP_DRIFT_SHIFT_SMALL
                          : MAP_DRIFT_SHIFT;
    /* map_mig_target's grow and shrink conditions, solved for len. */
    sh->grow_live = cap / 5 * 4 + cap % 5 * 4 / 5;
    sh->grow_used = cap / 16 * 15 + cap % 16 * 15 / 16;
    sh->shrink_live = 0;
    if (lt < sh->min_log2) {
        sh->shrink_live = SIZE_MAX; /* reserve asked for more: always due */
    } else if (lt > sh->min_log2) {
        /* The largest len a table one size down still takes (half full,
         * and fits()): targets grow with len, so no larger len can shrink,
         * and asking at every write would be wasted. */
        size_t down = (size_t)MAP_SLOTS << (lt - 1);
        size_t need = zero_writes(lt - 1) + 2 * move_writes(lt) + MAP_SLOTS;
        if (down >= need) {
            size_t most = down - need < down / 2 ? down - need : down / 2;
            sh->shrink_live = most + 1 < (cap + 7) / 8 ? most + 1 : (cap + 7) / 8;
        }
    }
}

static int claim_slot(struct goconc_map *m, unsigned idx)
{
    unsigned i, k;
    for (k = 0; k < m->mig_cap; k++) {
        i = (idx + k) % m->mig_cap;
        if (at_load(&m->mig[i]) == 0 && at_cas(&m->mig[i], 0, (size_t)idx + 1))
            return (int)i;
    }
    return -1;
}

static void release_slot(struct goconc_map *m, struct map_shard *sh)
{
    if (sh->slot >= 0)
        at_store_rel(&m->mig[sh->slot], 0);
    sh->slot = -1;
}

int map_mig_kick(struct goconc_map *m, unsigned idx, int force)
{
    struct map_shard *sh = &m->sh[idx];
    struct map_table *n;
    int ln, slot;

    if (at_load(&sh->phase) != MAP_STABLE)
        return GOCONC_OK;
    ln = map_mig_target(sh, force);
    if (ln < 0)
        return force ? GOCONC_ENOMEM : GOCONC_OK;
    slot = claim_slot(m, idx);
    if (slot < 0 && !force)
        return GOCONC_EBUSY;
    /* Not zeroed here: ZEROING clears it a few buckets per write, so no
     * single call pays for a large table (page faults included). */
    n = map_table_new((unsigned)ln, m->on_drop, 0);
    if (n == NULL) {
        if (slot >= 0)
            at_store_rel(&m->mig[slot], 0);
        return GOCONC_ENOMEM;
    }
    sh->slot = slot;
    sh->churn = 0;
    sh->drift = 0;
    sh->nxt = n;
    /* Born zero: MOVING starts at the first step. */
    sh->zero_pos = map_table_born_zero(n) ? n->mask + 1 : 0;
    sh->dead_n = 0;
    at_store(&sh->bytes, at_load(&sh->bytes) + n->bytes);
    sh->quiet = 0; /* every write now takes a step */
    at_store(&sh->phase, MAP_ZEROING);
    return GOCONC_OK;
}

/* Abandon a migration still in ZEROING (reserve's rollback). */
static void mig_abort(struct goconc_map *m, unsigned idx)
{
    struct map_shard *sh = &m->sh[idx];
    if (at_load(&sh->phase) != MAP_ZEROING)
        return;
    at_store(&sh->bytes, at_load(&sh->bytes) - sh->nxt->bytes);
    map_table_free_now(sh->nxt); /* never published */
    sh->nxt = NULL;
    release_slot(m, sh);
    at_store(&sh->phase, MAP_STABLE);
}

void map_mig_init(struct goconc_map *m, unsigned idx, struct map_table *t)
{
    struct map_shard *sh = &m->sh[idx];

    sh->tbl = t;
    sh->min_log2 = t->log2;
    sh->slot = -1;
    map_mig_limits(sh);
    at_store(&sh->bytes, t->bytes);
    /* Before the map is published: no reader yet. */
    at_store(&m->cur[idx], map_cur(t));
}

void map_mig_reset(struct goconc_map *m, unsigned idx, struct map_table *t)
{
    struct map_shard *sh = &m->sh[idx];

    release_slot(m, sh);
    sh->tbl = t;
    sh->nxt = NULL;
    map_mig_limits(sh);
    sh->dead_t = sh->dead_n = 0;
    sh->churn = 0;
    sh->drift = 0;
    at_store(&sh->phase, MAP_STABLE);
    at_store(&sh->len, 0);
    at_store(&sh->bytes, t->bytes);
    /* Release: the zeroed table before readers (load's acquire of cur). */
    at_store_rel(&m->cur[idx], map_cur(t));
}

/*
 * Copy bucket i of the old table into the new one, then mark it MOVED.
 * Its entries are not in the new table yet (writes to a key evacuate its
 * chain first), so they are inserted without a lookup.
 */
static void move_bucket(struct map_gx *gx, size_t i)
{
    struct goconc_map *m = gx->m;
    struct map_shard *sh = gx->sh;
    struct map_table *t = sh->tbl, *n = sh->nxt;
    struct map_bucket *bk = &t->bkt[i];
    uint64_t ctrl = at_load(&t->ctrl[i]), meta, live, hs[MAP_SLOTS];
    unsigned js[MAP_SLOTS], k, nlive = 0;

    if (ctrl & MAP_CTRL_MOVED)
        return;
    meta = ctrl & MAP_HIGH7 ? at_load(&bk->meta) : 0;
    /* Hash every entry first and ask for its new home bucket, so the
     * cache misses on the new table overlap instead of queueing. */
    for (live = ctrl & MAP_HIGH7; live; live &= live - 1) {
        unsigned j = map_first(live);
        size_t hb;
        hs[nlive] = map_slot_hash(m, &bk->s[j], map_lens(meta, j));
        hb = hs[nlive] & n->mask;
        __builtin_prefetch((const void *)&n->ctrl[hb], 1);
        MAP_PREFETCH_BUCKET(&n->bkt[hb], 1);
        js[nlive++] = j;
    }
    for (k = 0; k < nlive; k++) {
        unsigned j = js[k];
        /* Cannot fail: fits() sized the new table for every entry. */
        map_insert_new(gx, n, &sh->dead_n, hs[k], map_tag(m, hs[k]), map_lens(meta, j),
                       at_load(&bk->s[j].k), at_load(&bk->s[j].v));
    }
    GOCONC_PERTURB_POINT();
    /* Release: the copies are published before MOVED; a reader that sees
     * MOVED (acquire) and follows next finds them. */
    at_store_rel(&t->ctrl[i], ctrl | MAP_CTRL_MOVED);
    sh->nmoved++;
    at_store(&sh->moved, at_load(&sh->moved) + 1);
}

void map_mig_evacuate(struct map_gx *gx, uint64_t h)
{
    struct map_table *t = gx->sh->tbl;
    struct map_probe p;
    uint64_t ctrl;

    map_probe_init(&p, t->mask, h, 0);
    do {
        ctrl = at_load(&t->ctrl[p.b]);
        if (!(ctrl & MAP_CTRL_MOVED))
            move_bucket(gx, p.b);
    } while (map_probe_on(&p, ctrl));
}

static void start_moving(struct map_shard *sh)
{
    /* Release: the zeroed table is complete before readers can reach it
     * (map_lookup's acquire load of next, after a MOVED bit). */
    at_storep_rel(&sh->tbl->next, sh->nxt);
    GOCONC_PERTURB_POINT();
    sh->move_pos = 0;
    sh->nmoved = 0;
    at_store(&sh->phase, MAP_MOVING);
}

void map_mig_rush(struct map_shard *sh)
{
    map_table_zero(sh->nxt, sh->zero_pos, sh->nxt->mask + 1 - sh->zero_pos);
    sh->zero_pos = sh->nxt->mask + 1;
    start_moving(sh);
}

static void finish(struct map_gx *gx)
{
    struct goconc_map *m = gx->m;
    struct map_shard *sh = gx->sh;
    struct map_table *t = sh->tbl, *n = sh->nxt;

    /* Release: every entry written into n before this store is visible
     * to a reader that loads cur (acquire) and never visits t. */
    at_store_rel(&m->cur[gx->idx], map_cur(n));
    GOCONC_PERTURB_POINT();
    sh->tbl = n;
    sh->nxt = NULL;
    map_mig_limits(sh);
    sh->dead_t = sh->dead_n;
    sh->dead_n = 0;
    if (n->log2 > t->log2)
        at_store(&sh->grows, at_load(&sh->grows) + 1);
    else if (n->log2 < t->log2)
        at_store(&sh->shrinks, at_load(&sh->shrinks) + 1);
    at_store(&sh->bytes, at_load(&sh->bytes) - t->bytes);
    /* Only the bucket array goes: its entries live on in n (t->walk = 0).
     * Reserved by the caller. */
    (void)gc_retire(t, map_table_destroy, NULL);
    gc_urge(); /* a whole table: free it within a few writes */
    release_slot(m, sh);
    at_store(&sh->phase, MAP_STABLE);
}

/*
 * Up to `units` units of the shard's migration.  The last step (publish
 * the new table, retire the old) needs one retire reserved; without it
 * the migration waits at its end for a later call.
 */
size_t map_mig_step(struct map_gx *gx, size_t units)
{
    struct map_shard *sh = gx->sh;
    size_t done = 0;

    while (done < units) {
        unsigned phase = (unsigned)at_load(&sh->phase);
        if (phase == MAP_ZEROING) {
            size_t nb = sh->nxt->mask + 1, k = nb - sh->zero_pos;
            if (k > MAP_ZERO_CHUNK)
                k = MAP_ZERO_CHUNK;
            map_table_zero(sh->nxt, sh->zero_pos, k);
            sh->zero_pos += k;
            if (sh->zero_pos == nb)
                start_moving(sh);
        } else if (phase == MAP_MOVING) {
            struct map_table *t = sh->tbl;
            size_t skip = 0;
            while (sh->move_pos <= t->mask && skip < MAP_SKIP_PER_UNIT &&
                   (at_load(&t->ctrl[sh->move_pos]) & MAP_CTRL_MOVED)) {
                sh->move_pos++;
                skip++;
            }
            if (sh->move_pos <= t->mask && skip < MAP_SKIP_PER_UNIT)
                move_bucket(gx, sh->move_pos++);
            if (sh->move_pos > t->mask) {
                if (gc_reserve(1) != GOCONC_OK)
                    return done + 1;
                finish(gx);
            }
        } else {
            break;
        }
        done++;
    }
    return done;
}

/* Up to `units` units of shard idx's migration (lock held). */
static size_t mig_work(struct goconc_map *m, unsigned idx, size_t units)
{
    struct map_gx gx;
    map_gx_init(&gx, m, idx);
    return map_mig_step(&gx, units);
}

void map_mig_help(struct goconc_map *m, unsigned self)
{
    uintptr_t me = gc_thread_id();
    unsigned k;

    for (k = 0; k < m->mig_cap; k++) {
        size_t v = at_load(&m->mig[(self + k) % m->mig_cap]);
        struct map_shard *sh;
        if (v == 0 || v - 1 == self)
            continue;
        sh = &m->sh[v - 1];
        if (!map_trylock(sh, me))
            continue;
        gc_lock_enter();
        mig_work(m, (unsigned)(v - 1), map_write_units(sh));
        gc_lock_exit();
        map_unlock(sh);
        return;
    }
}

/* ----------------------------------------------- reserve and maintain */

GOCONC_API int goconc_map_reserve(goconc_map *m, size_t entries)
{
    unsigned l, i, *old;
    uintptr_t me;
    int rc = GOCONC_OK;

    if (m == NULL)
        return GOCONC_EINVAL;
    me = gc_thread_id();
    if (map_in_fn(m))
        return GOCONC_EDEADLK;
    if (entries > SIZE_MAX / 2 ||
        (l = map_log2_for(map_per_shard(entries, m->nshards))) > MAP_MAX_LOG2)
        return GOCONC_EOVERFLOW;
    /* Old targets, +1 << 16 where this call started a migration: what a
     * failure rolls back. */
    if ((old = gc_alloc(m->nshards * sizeof *old)) == NULL)
        return GOCONC_ENOMEM;
    for (i = 0; i < m->nshards && rc == GOCONC_OK; i++) {
        struct map_shard *sh = &m->sh[i];
        map_lock(sh, me);
        gc_lock_enter();
        old[i] = sh->min_log2;
        if (l > sh->min_log2) {
            sh->min_log2 = l;
            map_mig_limits(sh);
        }
        if (at_load(&sh->phase) == MAP_STABLE && sh->tbl->log2 < l) {
            /* EBUSY (cap full): the shard grows later, on its writes or
             * in maintain, towards min_log2. */
            rc = map_mig_kick(m, i, 0);
            if (rc == GOCONC_EBUSY)
                rc = GOCONC_OK;
            else if (rc == GOCONC_OK && at_load(&sh->phase) == MAP_ZEROING)
                old[i] |= 1u << 16;
        }
        if (rc != GOCONC_OK) {
            sh->min_log2 = old[i];
            map_mig_limits(sh);
        }
        gc_lock_exit();
        map_unlock(sh);
    }
    if (rc != GOCONC_OK) {
        unsigned failed = i - 1, j; /* shard `failed` restored itself */
        for (j = 0; j < failed; j++) {
            struct map_shard *sh = &m->sh[j];
            map_lock(sh, me);
            gc_lock_enter();
            if (old[j] >> 16)
                mig_abort(m, j);
            sh->min_log2 = old[j] & 0xFFFF;
            map_mig_limits(sh);
            gc_lock_exit();
            map_unlock(sh);
        }
    }
    gc_free(old);
    gc_poll();
    return rc;
}

/*
 * Migrations of shard i, one after another (a shrink may take a few
 * steps), until none is wanted or `budget` units are spent.
 */
static size_t maintain_shard(struct goconc_map *m, unsigned i, size_t budget, int *rc, int *busy)
{
    struct map_shard *sh = &m->sh[i];
    size_t done = 0, k;
    int r;

    map_lock(sh, gc_thread_id());
    gc_lock_enter();
    while (done < budget) {
        if (at_load(&sh->phase) == MAP_STABLE) {
            r = map_mig_kick(m, i, 0);
            if (r == GOCONC_EBUSY)
                *busy = 1;
            else if (r != GOCONC_OK)
                *rc = r;
            if (at_load(&sh->phase) == MAP_STABLE)
                break;
        }
        k = mig_work(m, i, budget - done < 64 ? budget - done : 64);
        done += k;
        /* The last step waits for a retire reservation (ENOMEM). */
        if (k == 0 || (at_load(&sh->phase) == MAP_MOVING && sh->move_pos > sh->tbl->mask)) {
            *rc = GOCONC_ENOMEM;
            break;
        }
    }
    gc_lock_exit();
    map_unlock(sh);
    gc_poll();
    return done;
}

GOCONC_API int goconc_map_maintain(goconc_map *m, size_t max_buckets, size_t *moved)
{
    size_t done = 0, pass_done;
    unsigned i;
    int rc = GOCONC_OK, busy;

    if (moved)
        *moved = 0;
    if (m == NULL)
        return GOCONC_EINVAL;
    if (map_in_fn(m))
        return GOCONC_EDEADLK;
    /* Shards wait for a migration slot: a pass frees the slots it
     * finishes, so repeat while a shard waited and work got done. */
    do {
        busy = 0;
        pass_done = 0;
        for (i = 0; i < m->nshards && done < max_buckets; i++)
            pass_done += maintain_shard(m, i, max_buckets - done - pass_done, &rc, &busy);
        done += pass_done;
    } while (busy && pass_done && done < max_buckets);
    if (moved)
        *moved = done;
    return rc;
}
