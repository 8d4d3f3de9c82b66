/* SPDX-License-Identifier: MIT */
/*
 * slot.h - slot writes under the shard lock, and the grace tracking that
 * says when a DEAD slot may be written again (slot.c).  Shared by the
 * write steps (write.c) and bucket moves (migrate.c).
 *
 * A DEAD slot may have been read (or lent by peek) by a reader that is
 * still in its section, so it is reused only after a grace period.  A
 * kill stamps its slot with the shard's generation `gen` (a byte of the
 * bucket's stamps word); at the end of a write that killed, a token for
 * `gen` is retired and `gen` moves on.  When the token runs, every reader
 * that could have seen those slots has left, and expired[s] records that
 * generation.  Generations (E, G] are still pending; a stamp s is pending
 * iff (G - s) mod 128 < G - E, exact while fewer than 128 are pending and
 * conservative (never reuse) beyond.  A stamp per slot, not per bucket: a
 * bucket's recent kill does not hold back its older DEAD slots (doc/map.md,
 * "A stamp per slot").
 */
#ifndef GOCONC_MAP_SLOT_H
#define GOCONC_MAP_SLOT_H

#include "map/layout.h"

/* Grace state of one shard as one write (or migration step) sees it. */
struct map_gx {
    struct goconc_map *m;
    struct map_shard *sh;
    unsigned idx;
    uint32_t window; /* generations still pending: G - E */
    int known;       /* window loaded */
};

/* A slot position and its probe distance from the key's home bucket. */
struct map_pos {
    size_t b;
    unsigned i;
    size_t dist;
};

static inline void map_gx_init(struct map_gx *gx, struct goconc_map *m, unsigned idx)
{
    gx->m = m;
    gx->sh = &m->sh[idx];
    gx->idx = idx;
    gx->known = 0;
}

/* The slots of dd (DEAD ones of bk, bit 7 of their bytes) whose grace
 * period passed: age = G - stamp >= the window G - E, per byte without
 * a loop, on the stamps' low 7 bits (then no borrow crosses a byte).
 * Exact while fewer than 128 generations are pending; an expired stamp
 * may read as pending (never the reverse) when its age modulo 128 is
 * below the window. */
static inline uint64_t map_dead_expired(struct map_gx *gx, const struct map_bucket *bk,
                                        uint64_t dd)
{
    const uint64_t hi = MAP_BYTES_LO << 7;
    uint64_t g, age;

    if (!gx->known) {
        /* Acquire pairs with the CAS of expired[s] in the token's
         * destroy (slot.c grace_done): the readers it waited for are
         * done with the slots before they are written again. */
        uint32_t e = (uint32_t)at_load_acq(&gx->m->grace->expired[gx->idx]);
        gx->window = gx->sh->gen - e;
        gx->known = 1;
    }
    if (gx->window >= 128)
        return 0;
    g = (uint64_t)(gx->sh->gen & 0x7F) * MAP_BYTES_LO;
    /* Plain load: stamps are written (map_slot_stamp) and read only by
     * the shard's lock holder; readers never look at them. */
    age = ((g | hi) - (at_load(&bk->stamps) & ~hi)) & ~hi;
    /* Bit 7 of each byte set where age >= window. */
    return dd & ((age | hi) - gx->window * MAP_BYTES_LO);
}

/*
 * Free slots of bucket bk (control word ctrl): its EMPTY ones, or when it
 * has none, its DEAD ones whose grace period passed (so a bucket with an
 * EMPTY slot does not load the grace state to find room).
 */
static inline uint64_t map_free_slots(struct map_gx *gx, const struct map_bucket *bk,
                                      uint64_t ctrl)
{
    uint64_t fr = map_empty_slots(ctrl), dd;
    if (GC_LIKELY(fr != 0))
        return fr;
    dd = map_dead_slots(ctrl);
    return dd != 0 ? map_dead_expired(gx, bk, dd) : 0;
}

/* ctrl with bk's expired DEAD slots turned back into EMPTY (for the next
 * ctrl store of that bucket); *dead counts them off, so that a shard
 * whose writes keep killing does not rehash for DEAD slots it could
 * reuse. */
static inline uint64_t map_recycle(struct map_gx *gx, const struct map_bucket *bk,
                                   uint64_t ctrl, size_t *dead)
{
    uint64_t dd = map_dead_slots(ctrl);
    if (GC_UNLIKELY(dd != 0) && (dd = map_dead_expired(gx, bk, dd)) != 0) {
        ctrl &= ~((dd >> 7) * 0xFF);
        /* popcount of the 0x80 marks, without a libgcc call */
        *dead -= (size_t)(((dd >> 7) * MAP_BYTES_LO) >> 56);
    }
    return ctrl;
}

/*
 * Publish a LIVE entry in free slot i of bucket b of t, whose control
 * word the caller loaded as ctrl; kill slot `kill` of the same bucket in
 * the same store (-1: none).  Expired DEAD slots of the bucket go back to
 * EMPTY.
 */
static inline void map_bucket_publish(struct map_gx *gx, struct map_table *t, size_t *dead,
                                      size_t b, uint64_t ctrl, unsigned i, int kill,
                                      unsigned tag, unsigned lens, uint64_t kword,
                                      uint64_t vword)
{
    struct map_bucket *bk = &t->bkt[b];
    map_bucket_write(&t->ctrl[b], bk, map_recycle(gx, bk, ctrl, dead), i, kill, gx->sh->gen,
                     tag, lens, kword, vword);
}

/* Account for one kill of the shard (DEAD slots of the table, and the
 * kills the next grace token covers). */
static inline void map_count_kill(struct map_gx *gx, size_t *dead)
{
    ++*dead;
    gx->sh->kills++;
}

/* First free slot (EMPTY, or DEAD past its grace period) at probe
 * distance >= from of h's chain in t.  1 when found. */
int map_find_free(struct map_gx *gx, const struct map_table *t, uint64_t h, size_t from,
                  struct map_pos *p);
/* map_place when p is not in old's bucket (or, with no old, not home). */
void map_place_far(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                   unsigned tag, unsigned lens, uint64_t kword, uint64_t vword,
                   const struct map_pos *p, const struct map_pos *old);

/*
 * Write a new LIVE entry at free position p of t and publish it; when
 * `old` (same table, probe distance <= p->dist) is given, the entry
 * replaces it: the old slot is killed in the same ctrl store when it
 * shares the bucket, right after the publish otherwise.  Overflow counts
 * of the buckets between the old position (or home) and p go up first.
 */
static inline void map_place(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                             unsigned tag, unsigned lens, uint64_t kword, uint64_t vword,
                             const struct map_pos *p, const struct map_pos *old)
{
    if (p->dist != (old ? old->dist : 0)) {
        map_place_far(gx, t, dead, h, tag, lens, kword, vword, p, old);
        return;
    }
    map_bucket_publish(gx, t, dead, p->b, at_load(&t->ctrl[p->b]), p->i, old ? (int)old->i : -1,
                       tag, lens, kword, vword);
    if (old)
        map_count_kill(gx, dead);
}

/* map_insert_new when the home bucket has no EMPTY slot. */
void map_insert_far(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                    unsigned tag, unsigned lens, uint64_t kword, uint64_t vword);

/* Insert an entry t does not hold (a bucket move); no-op when t has no
 * free slot on its chain (migration sizes tables so that it always has).
 * Inline: most often the home bucket has an EMPTY slot, and then nothing
 * else needs a look (a bucket move inserts every entry of its bucket). */
static inline void map_insert_new(struct map_gx *gx, struct map_table *t, size_t *dead,
                                  uint64_t h, unsigned tag, unsigned lens, uint64_t kword,
                                  uint64_t vword)
{
    size_t b = h & t->mask;
    uint64_t ctrl = at_load(&t->ctrl[b]), fr = map_empty_slots(ctrl);

    if (GC_LIKELY(fr != 0))
        map_bucket_publish(gx, t, dead, b, ctrl, map_first(fr), -1, tag, lens, kword, vword);
    else
        map_insert_far(gx, t, dead, h, tag, lens, kword, vword);
}
/* Kill the entry at p of h's chain: DEAD with the bucket stamped, then
 * the overflow counts it held drop. */
void map_kill_at(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                 const struct map_pos *p);

/* Has every grace token of the shard run (none in flight)? */
static inline int map_grace_idle(const struct map_gx *gx)
{
    /* Acquire pairs with the CAS in grace_done, as in
     * map_dead_expired. */
    uint32_t e = (uint32_t)at_load_acq(&gx->m->grace->expired[gx->idx]);
    return (int32_t)(gx->sh->issued - e) <= 0;
}

/* Would map_grace_token issue a token now?  (Inline: every write's end
 * asks.)  Kills wait for a few more before a token covers them, and
 * behind a token in flight until there are many. */
static inline int map_grace_due(const struct map_gx *gx)
{
    const struct map_shard *sh = gx->sh;

    if (sh->kills < MAP_GRACE_MIN)
        return 0;
    return sh->kills >= MAP_GRACE_BATCH || map_grace_idle(gx);
}

/* End of a write that killed: issue a grace token for the kills of the
 * current generation when map_grace_due says so. */
void map_grace_token(struct map_gx *gx);
/* Drop one reference to the grace tracker (the map's, at free). */
void map_grace_put(struct map_grace *g);

#endif /* GOCONC_MAP_SLOT_H */
