/* SPDX-License-Identifier: MIT */
/*
 * map_internal.h - the objects behind a goconc_map and the lock-free
 * lookup every reader runs.  Shared by map.c (public calls), map_table.c
 * (tables, slot writes), map_migrate.c (migration) and map_iter.c (range,
 * scan); white-box tests include it too.  doc/map.md has the full design and the argument.
 *
 *   goconc_map --cur[s]--> buckets of T (T's header just before them)
 *                              T --next--> table N (while T migrates)
 *              --sh[s]---> shard s: writer lock, counts, migration state
 *
 * A table is 2^log2 buckets.  Each has a control word, kept in one dense
 * array so that a lookup of an absent key (and the tag match of a present
 * one) reads 8 bytes per bucket from memory that mostly stays in cache,
 * and 128 bytes (two cache lines) of entries:
 *
 *   ctrl  bytes 0..6: one tag per slot: 0x00 EMPTY, 0x01 DEAD, 0x80|7 hash
 *                     bits = LIVE;  byte 7: bit 7 MOVED, bits 0..6 the
 *                     overflow count (saturating at 127)
 *   meta  bytes 0..6: per slot (klen << 4 | vlen) for an inline entry,
 *                     0xFF for an out-of-line one; byte 7: grace stamp
 *   s[7]  two words per slot: inline key and value bytes, or (entry
 *         pointer, full hash) for an out-of-line entry
 *
 * Only the control words need to start zeroed: meta and slot bytes are
 * written before a tag makes them LIVE and are never read otherwise (the
 * stamp is read only once a kill wrote it); map_table_zero clears the
 * entries too, for the page faults.
 *
 * Buckets are open-addressed with linear probing; the overflow count of a
 * bucket says how many entries whose probe sequence passed it live
 * further on (F14's scheme), so a lookup stops at the first bucket whose
 * count is 0 and slots can go back to EMPTY without tombstones.
 *
 * The rule that makes lock-free readers simple: a slot's words and meta
 * byte are written only while its tag is EMPTY/DEAD and never change while
 * it is LIVE; a killed (DEAD) slot is reused only after a grace period.
 * So a reader that saw a tag in one ctrl load can read the slot's words at
 * leisure inside its read section, and peek can lend their address.
 */
#ifndef GOCONC_MAP_INTERNAL_H
#define GOCONC_MAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/atomics.h"
#include "map/hash.h"
#include "core/internal.h"
#include "reclaim/reclaim.h"

/* ------------------------------------------------------------ tunables */

#define MAP_SLOTS 7
#define MAP_BUCKET_BYTES 128
#define MAP_MAX_SHARD_BITS 16
/* Tags take the 7 hash bits just below the shard bits (bits 57-sb ..
 * 63-sb); bucket indexes use the low bits, at most 40 of them, which
 * stay clear of the tags for every allowed shard count. */
#define MAP_MAX_LOG2 40u

#ifdef GOCONC_TINY_SHARDS
/* Test build: few shards, one-bucket tables and the slowest migration
 * steps, so every test runs through the migration state machine. */
#define MAP_DEFAULT_SHARD_BITS 2u
#define MAP_WRITE_UNITS 1u     /* migration units per write */
#define MAP_WRITE_MOVES 1u     /* ... once the shard is MOVING */
#define MAP_ZERO_CHUNK 1u      /* buckets zeroed per unit */
#define MAP_MIG_CAP(ns) 1u     /* shards migrating at once */
#define MAP_CHURN_EVERY 8u     /* a stable shard rehashes after this many writes */
#else
#define MAP_DEFAULT_SHARD_BITS 6u
#define MAP_WRITE_UNITS 8u     /* doc/map.md: "Why 8 units per write" */
#define MAP_WRITE_MOVES 16u    /* bucket moves: "... and 16 moves" */
#define MAP_ZERO_CHUNK 8u      /* 64 bytes of control words, 1 KiB of entries */
#define MAP_MIG_CAP(ns) ((ns) >= 16u ? (ns) / 8u : 2u)
#endif
/* Already-moved buckets the cursor may skip per unit. */
#define MAP_SKIP_PER_UNIT 32u

/* ------------------------------------------------------------- layout */

#define MAP_TAG_EMPTY 0x00u
#define MAP_TAG_DEAD 0x01u
#define MAP_TAG_LIVE 0x80u
#define MAP_LENS_OOL 0xFFu

#define MAP_BYTES_LO 0x0101010101010101ull  /* 0x01 in slot bytes 0..6 */
#define MAP_SLOT_BYTES 0x00FFFFFFFFFFFFFFull
#define MAP_HIGH7 0x0080808080808080ull     /* bit 7 of slot bytes 0..6 */
#define MAP_CTRL_MOVED (0x80ull << 56)
#define MAP_CTRL_OVF_SHIFT 56
#define MAP_CTRL_OVF_MAX 0x7Full
#define MAP_META_STAMP_SHIFT 56

struct map_slot {
    atword k; /* inline key bytes, or struct map_entry * */
    atword v; /* inline value bytes, or the entry's full hash */
};

/* Slots 0..3 fill the first cache line; 4..6 and meta the second. */
struct map_bucket {
    struct map_slot s[MAP_SLOTS];
    atword meta;
    atword spare; /* pads to two cache lines */
};

typedef void (*map_drop_fn)(void *ctx, const void *key, size_t klen,
                            const void *val, size_t vlen);

/*
 * An out-of-line entry (key or value longer than 8 bytes), immutable once
 * published; also the record that carries an inline entry's bytes to a
 * deferred on_drop.  Retired with map_entry_destroy(ctx = user ctx).
 */
struct map_entry {
    map_drop_fn drop; /* the map's on_drop, or NULL */
    size_t klen, vlen;
    unsigned char data[]; /* key, then value */
};

/*
 * Table header: 64 bytes right before the 64-byte-aligned array of control
 * words, which the buckets follow, so the current-table word finds all
 * three without a load.  Readers get to a table through the shard's
 * current-table word (map_cur): the control array's address with log2 in
 * its six low bits.
 */
struct map_table {
    /* NULL, or the table T migrates into.  Stored (release) before the
     * first MOVED bit; readers load it (acquire) after seeing one. */
    atword next;
    size_t mask;            /* buckets - 1 */
    unsigned log2;
    /* For clear/free: the destroy walks the table and drops its entries
     * (set before the table is retired; read by the destroy). */
    unsigned char walk;
    unsigned char how;      /* gc_alloc_big's flags (map_table_born_zero, the free) */
    atword *ctrl;           /* == (char *)this + sizeof *this */
    struct map_bucket *bkt; /* == (char *)ctrl + map_ctrl_bytes(log2) */
    void *raw;              /* the allocation */
    size_t bytes;           /* its size, for stats.bytes */
    map_drop_fn drop;
} __attribute__((aligned(64)));

/* Bytes of the control array of 2^log2 buckets: whole cache lines, so
 * the buckets stay 64-byte aligned. */
static inline size_t map_ctrl_bytes(unsigned log2)
{
    return log2 < 3 ? 64 : (size_t)8 << log2;
}

/*
 * May t skip ZEROING?  Only on fresh huge pages: fresh 4 KiB pages are
 * zero too, but ZEROING's writes fault them in a few per write, in
 * order, where the moves would land more faults in one write (doc/map.md,
 * ZEROING); a huge page faults in whole whichever write touches it first.
 */
static inline int map_table_born_zero(const struct map_table *t)
{
    return (t->how & GC_BIG_ZERO) && GOCONC_HUGEPAGES;
}

/* The current-table word of t, and back. */
static inline uintptr_t map_cur(const struct map_table *t)
{
    return (uintptr_t)t->ctrl | t->log2;
}

static inline struct map_table *map_table_of(uintptr_t cur)
{
    return (struct map_table *)(cur & ~(uintptr_t)63) - 1;
}

/* Address (as an integer: the table may be gone, see map.c's
 * prefetch_write) of bucket b's entries in the table of cur. */
static inline uintptr_t map_bucket_addr(uintptr_t cur, size_t b)
{
    return (cur & ~(uintptr_t)63) + map_ctrl_bytes((unsigned)(cur & 63)) +
           b * MAP_BUCKET_BYTES;
}

enum { MAP_STABLE = 0, MAP_ZEROING = 1, MAP_MOVING = 2 };

/*
 * Writer side of one shard.  Every field is written only under `lock`;
 * the atwords are also read without it (len, stats).
 */
struct map_shard {
    atword lock;        /* 0 free, else the owner's gc_thread_id() */
    atword len;         /* live entries */
    atword bytes;       /* tables + out-of-line entries */
    atword phase;       /* MAP_STABLE / MAP_ZEROING / MAP_MOVING */
    atword grows, shrinks, moved;
    struct map_table *tbl; /* == cur[s]: the table readers start in */
    struct map_table *nxt; /* the table being prepared or filled */
    size_t zero_pos;    /* ZEROING: buckets of nxt zeroed so far */
    size_t move_pos;    /* MOVING: cursor over tbl */
    size_t nmoved;      /* MOVING: buckets of tbl marked MOVED */
    size_t dead_t, dead_n; /* DEAD slots in tbl / nxt */
    uint32_t gen;       /* grace generation new kills are stamped with */
    uint32_t issued;    /* last generation a grace token was issued for */
    uint32_t kills;     /* kills stamped with gen so far */
    unsigned min_log2;  /* from capacity_hint / reserve: never shrink below */
    /* STABLE: the len / len + dead_t bounds outside which a migration may
     * be due (map_mig_limits), so a write need not size a target. */
    size_t grow_live, grow_used, shrink_live;
    int slot;           /* index in map->mig while migrating, else -1 */
    unsigned churn;     /* GOCONC_TINY_SHARDS: writes since the last migration */
} __attribute__((aligned(GC_PAD)));

/*
 * Grace tracking for slot reuse, shared with the tokens in flight (so it
 * outlives the map): expired[s] is the newest generation of shard s whose
 * token ran, i.e. whose kills no reader can still see.
 */
struct map_grace {
    atword refs;
    atword expired[];
};

struct map_batch;

struct goconc_map {
    /* Read-mostly: what every lookup reads. */
    struct gc_hash_key hk;
    unsigned sb;            /* shard bits */
    unsigned nshards;
    unsigned tag_shift;     /* tag = (h >> tag_shift) & 0x7F */
    unsigned mig_cap;
    struct map_shard *sh;
    atword *mig;            /* mig_cap slots: shard + 1 of a migrating shard, or 0 */
    struct map_grace *grace;
    map_drop_fn on_drop;
    void *ctx;
    size_t fixed_bytes;     /* this struct (with cur), shards, mig, grace, fin */
    struct map_batch *fin;  /* preallocated for goconc_map_free */
    void *raw;              /* allocation of this struct */
    void *raw_sh;           /* allocation of sh */
    /* Written by every update call; read by every write. */
    atword fn_active __attribute__((aligned(GC_PAD)));
    char pad[GC_PAD - sizeof(atword)];
    /* Read-mostly again: per shard, the current-table word (map_cur) of
     * the table readers start in. */
    atword cur[];
};

/* -------------------------------------------------------- small helpers */

static inline unsigned map_shard_of(const struct goconc_map *m, uint64_t h)
{
    /* The top sb bits; two shifts, so sb == 0 needs no branch. */
    return (unsigned)((h >> 1) >> (63 - m->sb));
}

static inline unsigned map_tag(const struct goconc_map *m, uint64_t h)
{
    return MAP_TAG_LIVE | (unsigned)((h >> m->tag_shift) & 0x7F);
}

/* 0x80 in each slot byte (0..6) of x that is zero. */
static inline uint64_t map_zero_bytes(uint64_t x)
{
    uint64_t y = (x & 0x7F7F7F7F7F7F7F7Full) + 0x7F7F7F7F7F7F7F7Full;
    return ~(y | x | 0x7F7F7F7F7F7F7F7Full) & MAP_HIGH7;
}

/* Slots of ctrl whose tag byte is v. */
static inline uint64_t map_match(uint64_t ctrl, unsigned v)
{
    return map_zero_bytes(ctrl ^ (MAP_BYTES_LO * v));
}

/* Index of the first marked slot. */
static inline unsigned map_first(uint64_t mask)
{
    return (unsigned)__builtin_ctzll(mask) >> 3;
}

static inline unsigned map_lens(uint64_t meta, unsigned i)
{
    return (unsigned)(meta >> (8 * i)) & 0xFF;
}

static inline uint64_t map_ovf(uint64_t ctrl)
{
    return (ctrl >> MAP_CTRL_OVF_SHIFT) & MAP_CTRL_OVF_MAX;
}

static inline uint64_t map_ctrl_set(uint64_t ctrl, unsigned i, unsigned tag)
{
    return (ctrl & ~(0xFFull << (8 * i))) | ((uint64_t)tag << (8 * i));
}

/*
 * The meta bytes are stored one at a time, never read-modify-written:
 * an insert then loads nothing from its bucket's entry lines, only its
 * control word.  With the word read and written back, 10M stores into
 * an empty map took 1.04-1.11x the time (doc/map.md, Layout).  Only the
 * shard's lock holder stores them; readers load the whole word.
 */
static inline void map_meta_put(struct map_bucket *bk, unsigned i, unsigned lens)
{
    at_store_byte(&bk->meta, i, (unsigned char)lens);
}

/* Stamp bk with grace generation gen (its low 8 bits). */
static inline void map_meta_stamp(struct map_bucket *bk, uint32_t gen)
{
    at_store_byte(&bk->meta, MAP_META_STAMP_SHIFT / 8, (unsigned char)gen);
}

/*
 * The slot of bucket bk (control word ctrl) that holds a key of at most 8
 * bytes inline: its index, with *lensp its meta byte; -1 when no slot
 * does; -2 when a tag match is an out-of-line entry (it may hold the key:
 * the short paths leave comparing it to the general ones).
 */
static inline int map_find_short(const struct map_bucket *bk, uint64_t ctrl, unsigned tag,
                                 size_t klen, uint64_t kw, unsigned *lensp)
{
    uint64_t mt;
    for (mt = map_match(ctrl, tag); mt; mt &= mt - 1) {
        unsigned i = map_first(mt), lens = map_lens(at_load(&bk->meta), i);
        if (lens == MAP_LENS_OOL)
            return -2;
        if ((lens >> 4) == klen && at_load(&bk->s[i].k) == kw) {
            *lensp = lens;
            return (int)i;
        }
    }
    return -1;
}

/*
 * Write a LIVE entry into free slot i of bucket bk, whose control word is
 * *ct, and publish it: ctrl is that word as the caller loaded (and maybe
 * recycled) it.  Slot `kill` (-1: none) of the same bucket dies in the
 * same store, the bucket stamped with grace generation gen.
 */
static inline void map_bucket_write(atword *ct, struct map_bucket *bk, uint64_t ctrl, unsigned i,
                                    int kill, uint32_t gen, unsigned tag, unsigned lens,
                                    uint64_t kword, uint64_t vword)
{
    at_store(&bk->s[i].k, kword);
    at_store(&bk->s[i].v, vword);
    map_meta_put(bk, i, lens);
    ctrl = map_ctrl_set(ctrl, i, tag);
    if (kill >= 0) {
        ctrl = map_ctrl_set(ctrl, (unsigned)kill, MAP_TAG_DEAD);
        map_meta_stamp(bk, gen);
    }
    /* Release: slot words and meta before the tag (map_lookup's acquire
     * load of ctrl).  A reused (DEAD) slot was idle a grace period. */
    at_store_rel(ct, ctrl);
}

/* Overflow count of bucket b (control words ct) += d; saturated counts
 * stay. */
static inline void map_bump(atword *ct, size_t b, int d)
{
    uint64_t ctrl = at_load(&ct[b]);
    uint64_t o = map_ovf(ctrl);
    if (o == MAP_CTRL_OVF_MAX || (d < 0 && o == 0))
        return;
    o = d > 0 ? o + 1 : o - 1;
    ctrl = (ctrl & ~(MAP_CTRL_OVF_MAX << MAP_CTRL_OVF_SHIFT)) | (o << MAP_CTRL_OVF_SHIFT);
    /* Increments precede the release store that publishes the entry
     * beyond (a reader that finds it also sees them); decrements follow
     * the kill.  Pairs with map_lookup's acquire load of ctrl. */
    at_store_rel(&ct[b], ctrl);
}

static inline uint64_t map_rev64(uint64_t x)
{
    x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
    x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
    x = ((x >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((x & 0x0F0F0F0F0F0F0F0Full) << 4);
    return __builtin_bswap64(x);
}

static inline const unsigned char *map_entry_val(const struct map_entry *e)
{
    return e->data + e->klen;
}

/* Full hash of the entry in slot s (writers, and range/scan). */
static inline uint64_t map_slot_hash(const struct goconc_map *m, const struct map_slot *s,
                                     unsigned lens)
{
    if (lens == MAP_LENS_OOL)
        return at_load(&s->v);
    return gc_hash_word(&m->hk, at_load(&s->k), lens >> 4);
}

/* Does slot s (with meta byte lens) hold key? */
static inline int map_slot_is(const struct map_slot *s, unsigned lens, uint64_t h,
                              const void *key, size_t klen, uint64_t kw)
{
    const struct map_entry *e;
    if (lens != MAP_LENS_OOL)
        return (lens >> 4) == klen && at_load(&s->k) == kw;
    if (at_load(&s->v) != h)
        return 0;
    e = at_loadp(&s->k);
    return e->klen == klen && (klen == 0 || memcmp(e->data, key, klen) == 0);
}

/* Key and value of a slot as the caller sees them. */
struct map_view {
    const void *key, *val;
    size_t klen, vlen;
};

static inline void map_slot_view(const struct map_slot *s, unsigned lens, struct map_view *v)
{
    if (lens == MAP_LENS_OOL) {
        const struct map_entry *e = at_loadp(&s->k);
        v->key = e->data;
        v->klen = e->klen;
        v->val = map_entry_val(e);
        v->vlen = e->vlen;
    } else {
        /* The words hold the bytes in memory order (hash.h). */
        v->key = (const void *)&s->k;
        v->klen = lens >> 4;
        v->val = (const void *)&s->v;
        v->vlen = lens & 0xF;
    }
}

/*
 * The lock-free lookup (load, peek, and writers' reads): walk key's probe
 * chain in t; a MOVED bucket means its entries now live in t->next, so
 * after the chain (the key may also sit in an unmoved bucket further on)
 * continue there.  Returns the slot, or NULL; *lensp gets its meta byte.
 * Caller is inside a read section (or holds the shard's lock).  Writes
 * nothing.
 */
static inline const struct map_slot *map_lookup(uintptr_t cur, uint64_t h, unsigned tag,
                                                const void *key, size_t klen, uint64_t kw,
                                                unsigned *lensp)
{
    for (;;) {
        const atword *ct = (const atword *)(cur & ~(uintptr_t)63);
        size_t mask = ((size_t)1 << (cur & 63)) - 1, b = h & mask, n;
        /* Acquire pairs with the release store of next in the ZEROING ->
         * MOVING transition (which precedes every MOVED bit). */
        const struct map_table *t = at_loadp_acq(&map_table_of(cur)->next);
        int moved = 0;
        if (t != NULL) {
            /* Migrating: the key may be in the next table; ask for its
             * control word now so the two misses overlap.  The next table
             * lives at least as long as this one. */
            __builtin_prefetch((const void *)&t->ctrl[h & t->mask]);
        }
        /* The home bucket's entries too, before the control word says
         * whether they are needed: a present key then costs one memory
         * latency, not two in a row, and an absent one (whose control
         * word is mostly cached) does not wait for them. */
        __builtin_prefetch((const void *)map_bucket_addr(cur, b));
        __builtin_prefetch((const void *)(map_bucket_addr(cur, b) + 64));
        for (n = 0; n <= mask; n++) {
            /* Acquire pairs with the writer's release store of ctrl after
             * it wrote the slot words and meta: a LIVE tag seen here means
             * those are visible. */
            uint64_t ctrl = at_load_acq(&ct[b]);
            if (ctrl & MAP_CTRL_MOVED) {
                moved = 1;
            } else {
                uint64_t mt = map_match(ctrl, tag);
                if (mt) {
                    const struct map_bucket *bk =
                        (const struct map_bucket *)map_bucket_addr(cur, b);
                    do {
                        unsigned i = map_first(mt);
                        unsigned lens = map_lens(at_load(&bk->meta), i);
                        if (map_slot_is(&bk->s[i], lens, h, key, klen, kw)) {
                            *lensp = lens;
                            return &bk->s[i];
                        }
                        mt &= mt - 1;
                    } while (mt);
                }
            }
            if (map_ovf(ctrl) == 0)
                break;
            b = (b + 1) & mask;
        }
        if (!moved)
            return NULL;
        /* A MOVED bit was stored after next: t was loaded before it, and
         * may be stale only if it was loaded as NULL. */
        if (t == NULL)
            t = at_loadp_acq(&map_table_of(cur)->next);
        cur = map_cur(t);
    }
}

/*
 * Smallest log2 bucket count whose table holds `per` entries below the
 * grow threshold (80%), or MAP_MAX_LOG2 + 1 when none does.
 */
static inline unsigned map_log2_for(size_t per)
{
    unsigned l = 0;
    while (l <= MAP_MAX_LOG2 && per > ((size_t)MAP_SLOTS << l) / 5 * 4)
        l++;
    return l;
}

/* Entries one shard should hold when the map holds `entries` (hash
 * imbalance slack: +25% and a few).  Saturates at SIZE_MAX, which no
 * table holds, so a huge count reads as too big rather than wrapping. */
static inline size_t map_per_shard(size_t entries, unsigned nshards)
{
    size_t per = entries / nshards;
    if (per > (SIZE_MAX - 16) / 5 * 4)
        return SIZE_MAX;
    per++;
    return per + per / 4 + 8;
}

/*
 * Is the calling thread inside an update function of this map?  Then it
 * holds that key's shard lock; fn_active says whether any update function
 * runs at all, so the common case costs one load of a read-mostly line.
 */
static inline int map_in_fn(const struct goconc_map *m, uintptr_t me)
{
    unsigned i;
    if (at_load(&m->fn_active) == 0)
        return 0;
    for (i = 0; i < m->nshards; i++)
        if (at_load(&m->sh[i].lock) == me)
            return 1;
    return 0;
}

/* ------------------------------------------------- map_table.c exports */

/* Table of 2^log2 buckets; zeroed now only if `zero`.  NULL on ENOMEM. */
struct map_table *map_table_new(unsigned log2, map_drop_fn drop, int zero);
/* Zero buckets [from, from + n) of t: control words and entries.  The
 * entries need it only for their page faults: zeroing them in order
 * (ZEROING) spreads the faults evenly over writes instead of leaving
 * them to the moves, which land in random pages, several per write. */
void map_table_zero(struct map_table *t, size_t from, size_t n);
void map_table_free_now(struct map_table *t);
/* Retire destroy for tables: frees, after dropping entries if t->walk. */
void map_table_destroy(void *ctx, void *obj);
/* Drop t's live entries (unmoved buckets) now: on_drop + free OOL. */
void map_table_drop_all(struct map_table *t, void *ctx);
void map_entry_destroy(void *ctx, void *obj);
struct map_entry *map_entry_new(map_drop_fn drop, const void *key, size_t klen,
                                const void *val, size_t vlen);
size_t map_entry_size(size_t klen, size_t vlen);
/* The longest key a write accepts (GOCONC_EOVERFLOW beyond): no object
 * in memory is longer than PTRDIFF_MAX. */
#define MAP_KLEN_MAX ((size_t)PTRDIFF_MAX)

/* Grace state of one shard as one write sees it (see map_table.c). */
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

/* One write, from map_w_init to map_w_done; the steps between run under
 * the shard lock. */
struct map_wctx {
    struct map_gx gx;
    uint64_t h;
    unsigned tag;
    const void *key;
    size_t klen;
    uint64_t kw;             /* key word when klen <= 8 */
    struct map_table *t;     /* authoritative table for the key */
    size_t *dead;            /* its DEAD count */
    int found;
    struct map_pos pos;      /* the key's slot when found */
    unsigned lens;           /* its meta byte */
    struct map_pos room;     /* free slot from map_w_room */
    int room_ok;             /* locate already found it */
    struct map_entry *rec;   /* drop record for an inline kill (on_drop) */
    struct map_entry *ent;   /* new out-of-line entry, until put */
    int want_help;           /* wanted a migration; the cap was full */
};

/* Slot primitives (map_table.c), shared with map_migrate.c. */
void map_gx_init(struct map_gx *gx, struct goconc_map *m, unsigned idx);
/* First free slot (EMPTY, or DEAD past its grace period) at probe
 * distance >= from of h's chain in t.  1 when found. */
int map_find_free(struct map_gx *gx, const struct map_table *t, uint64_t h, size_t from,
                  struct map_pos *p);
/* Write and publish a LIVE entry at free position p; with `old`, replace
 * that entry (see map_table.c). */
void map_place(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h, unsigned tag,
               unsigned lens, uint64_t kword, uint64_t vword, const struct map_pos *p,
               const struct map_pos *old);
/* Insert an entry t does not hold; no-op when t has no free slot on its
 * chain (migration sizes tables so that it always has). */
void map_insert_new(struct map_gx *gx, struct map_table *t, size_t *dead, uint64_t h,
                    unsigned tag, unsigned lens, uint64_t kword, uint64_t vword);

void map_w_init(struct map_wctx *w, struct goconc_map *m, const void *key, size_t klen);
/* Migration work that must precede the op (evacuate the key's chain),
 * then locate the key in the authoritative table. */
void map_w_begin(struct map_wctx *w);
/*
 * The common store in one pass, instead of map_w_begin + w_store: an
 * inline key and value (lens), a map without on_drop, a shard not
 * MOVING, and the key either in its home bucket or absent from a chain
 * that ends there, with a free slot in that bucket.  1 when done (then
 * map_w_end as usual); 0 when any of that fails, with nothing changed.
 */
int map_w_store_inline(struct map_wctx *w, unsigned lens, uint64_t vword);
/* The found entry's key and value. */
void map_w_view(const struct map_wctx *w, struct map_view *v);
/* Find a free slot for the key (may start or rush a migration and locate
 * again).  GOCONC_OK or GOCONC_ENOMEM. */
int map_w_room(struct map_wctx *w);
/* Before replacing or killing the found entry: reserve its retire and,
 * for an inline entry with on_drop, allocate its drop record.  OK/ENOMEM.
 * An inline entry without on_drop leaves nothing to retire. */
int map_w_prepare_kill_slow(struct map_wctx *w);
static inline int map_w_prepare_kill(struct map_wctx *w)
{
    if (w->lens != MAP_LENS_OOL && w->gx.m->on_drop == NULL)
        return GOCONC_OK;
    return map_w_prepare_kill_slow(w);
}
/* Store (lens, kword, vword) for the key at w->room, replacing the found
 * entry if any (needs map_w_room, and map_w_prepare_kill when found). */
void map_w_put(struct map_wctx *w, unsigned lens, uint64_t kword, uint64_t vword);
/* Delete the found entry (needs map_w_prepare_kill). */
void map_w_kill(struct map_wctx *w);
/* After a successful op: migration steps, growth/shrink, grace token. */
void map_w_end(struct map_wctx *w);
/* Free what the op allocated and did not use (any lock state). */
void map_w_done_slow(struct map_wctx *w);
static inline void map_w_done(struct map_wctx *w)
{
    if (w->rec || w->ent)
        map_w_done_slow(w);
}

/* Units of migration work a write (or a helper) does for shard sh. */
static inline size_t map_write_units(const struct map_shard *sh)
{
    return at_load(&sh->phase) == MAP_MOVING ? MAP_WRITE_MOVES : MAP_WRITE_UNITS;
}

/* Up to `units` units of shard idx's migration (lock held); returns the
 * units done, 0 when none is pending. */
size_t map_mig_work(struct goconc_map *m, unsigned idx, size_t units);
size_t map_mig_step(struct map_gx *gx, size_t units);
/* MOVING: move every unmoved bucket of h's probe chain in the old table
 * (before a write to that key touches the new one). */
void map_mig_evacuate(struct map_gx *gx, uint64_t h);
/* ZEROING: zero the rest of the new table now and start MOVING. */
void map_mig_rush(struct map_shard *sh);
/* Start the migration shard idx wants, if any (lock held): GOCONC_OK
 * (started, or nothing wanted), GOCONC_EBUSY (cap full), GOCONC_ENOMEM.
 * `force` ignores the cap and always picks a target. */
int map_mig_kick(struct goconc_map *m, unsigned idx, int force);
/* Abandon a migration still in ZEROING (reserve's rollback). */
void map_mig_abort(struct goconc_map *m, unsigned idx);
/* log2 size a stable shard wants to migrate to, or -1. */
int map_mig_target(const struct goconc_map *m, const struct map_shard *sh, int force);
/* Recompute the bounds map_mig_due checks: after tbl or min_log2 changed. */
void map_mig_limits(struct map_shard *sh);

/* May a stable shard want to migrate?  Never false when
 * map_mig_target(.., 0) would pick a size; the bounds are cached because
 * every write asks. */
static inline int map_mig_due_at(const struct map_shard *sh, unsigned churn)
{
    size_t live = at_load(&sh->len);
#ifdef MAP_CHURN_EVERY
    if (churn >= MAP_CHURN_EVERY)
        return 1;
#else
    (void)churn;
#endif
    return live > sh->grow_live || live + sh->dead_t > sh->grow_used || live < sh->shrink_live;
}

static inline int map_mig_due(const struct map_shard *sh)
{
    return map_mig_due_at(sh, sh->churn);
}

/* Would map_w_end, counting this write, find a migration due? */
static inline int map_mig_due_next(const struct map_shard *sh)
{
    return map_mig_due_at(sh, sh->churn + 1);
}
/* Help some migrating shard other than `self` (no lock held). */
void map_mig_help(struct goconc_map *m, unsigned self);

/* Shard locks: owner = gc_thread_id(); bracket with gc_lock_enter/exit
 * (the short store path, which calls nothing under the lock, need not). */
void map_lock(struct map_shard *sh, uintptr_t me);

static inline int map_trylock(struct map_shard *sh, uintptr_t me)
{
    /* The CAS is a full barrier: acquire for the critical section,
     * pairing with map_unlock's release store. */
    return at_load(&sh->lock) == 0 && at_cas(&sh->lock, 0, me);
}

static inline void map_unlock(struct map_shard *sh)
{
    at_store_rel(&sh->lock, 0);
}

/* Release every grace token reference the map holds (map free). */
void map_grace_put(struct map_grace *g);

#endif /* GOCONC_MAP_INTERNAL_H */
