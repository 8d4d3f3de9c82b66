/* SPDX-License-Identifier: MIT */
/*
 * probe.h - the walk along a key's probe chain, and the lock-free lookup
 * built on it.
 *
 * A key's chain starts at its home bucket (the low hash bits) and goes on
 * bucket by bucket while the bucket just visited has a non-zero overflow
 * count (layout.h).  Every walk of a table is this one iterator: the
 * lookup below, the writer's locate and free-slot search (write.c,
 * slot.c), chain evacuation (migrate.c) and iteration (iter.c):
 *
 *     struct map_probe p;
 *     map_probe_init(&p, t->mask, h, 0);
 *     do {
 *         uint64_t ctrl = at_load(&t->ctrl[p.b]);
 *         ... bucket p.b, probe distance p.d ...
 *     } while (map_probe_on(&p, ctrl));
 *
 * map_probe_step goes on past the chain's end (a free-slot search).
 * Either visits each bucket of the table at most once.
 */
#ifndef GOCONC_MAP_PROBE_H
#define GOCONC_MAP_PROBE_H

#include "map/layout.h"

struct map_probe {
    size_t b;    /* the bucket */
    size_t d;    /* its probe distance from home */
    size_t mask; /* the table's buckets - 1 */
};

/* Start at probe distance `from` of the chain of hash h. */
static inline void map_probe_init(struct map_probe *p, size_t mask, uint64_t h, size_t from)
{
    p->mask = mask;
    p->d = from;
    p->b = (h + from) & mask;
}

/* Next bucket, whatever the chain: 0 after the table's last one. */
static inline int map_probe_step(struct map_probe *p)
{
    if (p->d == p->mask)
        return 0;
    p->d++;
    p->b = (p->b + 1) & p->mask;
    return 1;
}

/* Does the chain go on past the bucket whose control word is ctrl?  If
 * so, step to the next bucket. */
static inline int map_probe_on(struct map_probe *p, uint64_t ctrl)
{
    return map_ovf(ctrl) != 0 && map_probe_step(p);
}

/* A key as lookups and writes carry it. */
struct map_key {
    const void *p;
    size_t len;
    uint64_t kw;  /* its bytes as one word (gc_key_word) when len <= 8 */
    uint64_t h;   /* full hash */
    unsigned tag; /* map_tag(h) */
};

static inline void map_key_init(struct map_key *k, const struct goconc_map *m, const void *p,
                                size_t len)
{
    k->p = p;
    k->len = len;
    k->kw = len <= 8 ? gc_key_word(p, len) : 0;
    k->h = len <= 8 ? gc_hash_word(&m->hk, k->kw, len) : gc_hash_bytes(&m->hk, p, len);
    k->tag = map_tag(m, k->h);
}

/* The slot of bucket bk (control word ctrl) holding key k, with *lensp
 * its meta byte; -1 when none does. */
static inline int map_bucket_find(const struct map_bucket *bk, uint64_t ctrl,
                                  const struct map_key *k, unsigned *lensp)
{
    uint64_t mt;
    for (mt = map_match(ctrl, k->tag); mt; mt &= mt - 1) {
        unsigned i = map_first(mt), lens = map_lens(at_load(&bk->meta), i);
        if (map_slot_is(&bk->s[i], lens, k->h, k->p, k->len, k->kw)) {
            *lensp = lens;
            return (int)i;
        }
    }
    return -1;
}

/*
 * map_bucket_find for a key of at most 8 bytes, inline slots only (the
 * load's short path: with the out-of-line branch, a memcmp call, shared,
 * a hit cost 20 instructions more).  -2 when a tag match is an
 * out-of-line entry: it may hold the key, and the caller goes on in a
 * general path that compares it.
 */
static inline int map_find_short(const struct map_bucket *bk, uint64_t ctrl, unsigned tag,
                                 size_t klen, uint64_t kw, unsigned *lensp)
{
    uint64_t mt;
    for (mt = map_match(ctrl, tag); mt; mt &= mt - 1) {
        unsigned i = map_first(mt), lens = map_lens(at_load(&bk->meta), i);
        if (lens == MAP_LENS_OOL)
            return -2;
        if (map_lens_klen(lens) == klen && at_load(&bk->s[i].k) == kw) {
            *lensp = lens;
            return (int)i;
        }
    }
    return -1;
}

/*
 * The lock-free lookup (load, peek): walk k's probe chain in the table of
 * cur; a MOVED bucket means its entries now live in the table's next, so
 * after the chain (the key may also sit in an unmoved bucket further on)
 * continue there.  Returns the slot, or NULL; *lensp gets its meta byte.
 * Caller is inside a read section.  Writes nothing.
 */
static inline const struct map_slot *map_lookup(uintptr_t cur, const struct map_key *k,
                                                unsigned *lensp)
{
    for (;;) {
        const atword *ct = (const atword *)map_ctrl_addr(cur);
        struct map_probe p;
        /* Acquire pairs with the release store of next in the ZEROING ->
         * MOVING transition (which precedes every MOVED bit). */
        const struct map_table *t = at_loadp_acq(&map_table_of(cur)->next);
        uint64_t ctrl;
        int moved = 0, i;

        map_probe_init(&p, ((size_t)1 << (cur & 63)) - 1, k->h, 0);
        if (t != NULL) {
            /* Migrating: the key may be in the next table; ask for its
             * control word now so the two misses overlap.  The next table
             * lives at least as long as this one. */
            __builtin_prefetch((const void *)&t->ctrl[k->h & t->mask]);
        }
        /* The home bucket's entries too, before the control word says
         * whether they are needed: a present key then costs one memory
         * latency, not two in a row, and an absent one (whose control
         * word is mostly cached) does not wait for them. */
        MAP_PREFETCH_BUCKET(map_bucket_addr(cur, p.b), 0);
        do {
            /* Acquire pairs with the writer's release store of ctrl after
             * it wrote the slot words and meta: a LIVE tag seen here means
             * those are visible. */
            const struct map_bucket *bk = (const struct map_bucket *)map_bucket_addr(cur, p.b);
            ctrl = at_load_acq(&ct[p.b]);
            if (ctrl & MAP_CTRL_MOVED)
                moved = 1;
            else if ((i = map_bucket_find(bk, ctrl, k, lensp)) >= 0)
                return &bk->s[i];
        } while (map_probe_on(&p, ctrl));
        if (!moved)
            return NULL;
        /* A MOVED bit was stored after next: t was loaded before it, and
         * may be stale only if it was loaded as NULL. */
        if (t == NULL)
            t = at_loadp_acq(&map_table_of(cur)->next);
        cur = map_cur(t);
    }
}

#endif /* GOCONC_MAP_PROBE_H */
