/* SPDX-License-Identifier: MIT */
/*
 * slot.c - slot writes under the shard lock that need more than one
 * bucket (a chain's overflow counts, a kill beyond the new entry), the
 * free-slot search, the grace tokens (slot.h has the scheme), and the
 * shard lock's wait (layout.h).
 *
 * Readers never lock and never write (map_lookup, probe.h); every function
 * here runs with the shard's lock held unless it says otherwise.  The
 * comments name the reader load each release store pairs with.
 */
#include "map/probe.h"
#include "map/slot.h"

/* ------------------------------------------------------- grace tracking */

void map_grace_put(struct map_grace *g)
{
    if (at_fetch_sub(&g->refs, 1) == 1)
        gc_free(g);
}

/* The token's destroy (no lock held): generation (uint32_t)ctx of shard
 * ctx >> 32 has expired. */
static void grace_done(void *ctx, void *obj)
{
    struct map_grace *g = obj;
    uintptr_t c = (uintptr_t)ctx;
    atword *e = &g->expired[c >> 32];
    uint32_t gen = (uint32_t)c, cur;

    /* Tokens may run out of order: keep the newest (a later token's grace
     * period covers every earlier kill).  The CAS is a full barrier and
     * pairs with the writer's acquire load in map_dead_expired(). */
    do {
        cur = (uint32_t)at_load(e);
        if ((int32_t)(gen - cur) <= 0)
            break;
    } while (!at_cas(e, cur, gen));
    map_grace_put(g);
}

void map_grace_token(struct map_gx *gx)
{
    struct map_shard *sh = gx->sh;
    struct map_grace *g = gx->m->grace;

    if (!map_grace_due(gx))
        return;
    at_fetch_add(&g->refs, 1);
    if (gc_retire(g, grace_done, (void *)(((uintptr_t)gx->idx << 32) | sh->gen)) != GOCONC_OK) {
        at_fetch_sub(&g->refs, 1);
        return; /* no harm: the slots wait for a later token */
    }
    /* The retire counted as one: the rest of the kills it covers. */
    if (sh->kills / MAP_GRACE_WEIGHT > 1)
        gc_weigh(sh->kills / MAP_GRACE_WEIGHT - 1);
    sh->issued = sh->gen++;
    sh->kills = 0;
    gx->known = 0;
}

/* ------------------------------------------------------------ the lock */

/* Not held on entry: the one function here that runs without the lock. */
void map_lock_wait(struct map_shard *sh, uintptr_t me)
{
    unsigned round = 0;
    do
        gc_backoff(&round); /* the owner may be descheduled (2 cores) */
    while (!map_trylock(sh, me));
}

/* ------------------------------------------------------------ slot writes */

int map_find_free(struct map_gx *gx, const struct map_table *t, uint64_t h, size_t from,
                  struct map_pos *p)
{
    struct map_probe pr;

    if (from > t->mask)
        return 0;
    map_probe_init(&pr, t->mask, h, from);
    do {
        uint64_t fr = map_free_slots(gx, &t->bkt[pr.b], at_load(&t->ctrl[pr.b]));
        if (fr) {
            p->b = pr.b;
            p->i = map_first(fr);
            p->dist = pr.d;
            return 1;
        }
    } while (map_probe_step(&pr));
    return 0;
}

/* Overflow counts of h's chain at distances [from, to) += d. */
static void bump_chain(const struct map_table *t, uint64_t h, size_t from, size_t to, int d)
{
    for (; from < to; from++)
        map_bump(t->ctrl, (h + from) & t->mask, d);
}

/* Kill slot p->i of bucket p->b: stamped, then DEAD in one release
 * store of its ctrl (map_lookup's acquire load). */
static void kill_slot(struct map_gx *gx, struct map_table *t, size_t *dead,
                      const struct map_pos *p)
{
    struct map_bucket *bk = &t->bkt[p->b];
    uint64_t ctrl = map_recycle(gx, bk, at_load(&t->ctrl[p->b]), dead);

    map_slot_stamp(bk, p->i, gx->sh->gen);
    at_store_rel(&t->ctrl[p->b], map_ctrl_set(ctrl, p->i, MAP_TAG_DEAD));
    map_count_kill(gx, dead);
}

void map_place_far(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                   unsigned tag, unsigned lens, uint64_t kword, uint64_t vword,
                   const struct map_pos *p, const struct map_pos *old)
{
    /* The counts first: a reader that finds the entry beyond them (its
     * acquire load of the publishing ctrl) also sees them. */
    bump_chain(t, h, old ? old->dist : 0, p->dist, +1);
    map_bucket_publish(gx, t, dead, p->b, at_load(&t->ctrl[p->b]), p->i, -1, tag, lens, kword,
                       vword);
    GOCONC_PERTURB_POINT();
    /* After the new entry is visible further along the chain, so a
     * reader passing the old bucket finds one or the other. */
    if (old) {
        kill_slot(gx, t, dead, old);
        gx->sh->drift++;
    }
}

void map_insert_far(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                    unsigned tag, unsigned lens, uint64_t kword, uint64_t vword)
{
    struct map_pos p;

    if (map_find_free(gx, t, h, 0, &p))
        map_place(gx, t, dead, h, tag, lens, kword, vword, &p, NULL);
}

void map_kill_at(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                 const struct map_pos *p)
{
    kill_slot(gx, t, dead, p);
    GOCONC_PERTURB_POINT();
    /* Decrements follow the kill: a reader still walking past them to
     * the entry finds it LIVE or DEAD, never beyond a chain's end. */
    bump_chain(t, h, 0, p->dist, -1);
}
