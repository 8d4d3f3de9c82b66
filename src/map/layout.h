/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the objects behind a goconc_map: map, shards, tables,
 * buckets, slots and out-of-line entries, the inline helpers that read
 * and write their bits, and the shard locks.  Every file of src/map
 * includes it (white-box tests too); doc/map.md, "Layout", has the design
 * and the argument.
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
 *   ctrl    bytes 0..6: one tag per slot: 0x00 EMPTY, 0x01 DEAD, 0x80|7
 *                       hash bits = LIVE;  byte 7: bit 7 MOVED, bits 0..6
 *                       the overflow count (saturating at 127)
 *   meta    bytes 0..6: per slot (klen << 4 | vlen) for an inline entry,
 *                       0xFF for an out-of-line one
 *   stamps  bytes 0..6: per DEAD slot, the grace generation of its kill
 *   s[7]    two words per slot: inline key and value bytes, or (entry
 *           pointer, full hash) for an out-of-line entry
 *
 * Only the control words need to start zeroed: meta and slot bytes are
 * written before a tag makes them LIVE and are never read otherwise (a
 * slot's stamp is read only once its kill wrote it); map_table_zero
 * clears the entries too, for the page faults.
 *
 * Buckets are open-addressed with linear probing (probe.h); the overflow
 * count of a bucket says how many entries whose probe sequence passed it
 * live further on (F14's scheme), so a walk stops at the first bucket
 * whose count is 0 and slots can go back to EMPTY without tombstones.
 *
 * The rule that makes lock-free readers simple: a slot's words and meta
 * byte are written only while its tag is EMPTY/DEAD and never change while
 * it is LIVE; a killed (DEAD) slot is reused only after a grace period
 * (slot.c).  So a reader that saw a tag in one ctrl load can read the
 * slot's words at leisure inside its read section, and peek can lend
 * their address.
 */
#ifndef GOCONC_MAP_LAYOUT_H
#define GOCONC_MAP_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "map/hash.h"
#include "map/tuning.h"
#include "reclaim/reclaim.h"

/* ------------------------------------------------------------- layout */

#define MAP_TAG_EMPTY 0x00u
#define MAP_TAG_DEAD 0x01u
#define MAP_TAG_LIVE 0x80u
#define MAP_LENS_OOL 0xFFu

/* An inline slot's meta byte: klen << 4 | vlen (each at most 8). */
static inline unsigned map_lens_klen(unsigned lens) { return lens >> 4; }
static inline unsigned map_lens_vlen(unsigned lens) { return lens & 0xF; }
static inline unsigned map_lens_of(size_t klen, size_t vlen) { return (unsigned)(klen << 4 | vlen); }

#define MAP_BYTES_LO 0x0101010101010101ull  /* 0x01 in slot bytes 0..6 */
#define MAP_SLOT_BYTES 0x00FFFFFFFFFFFFFFull
#define MAP_HIGH7 0x0080808080808080ull     /* bit 7 of slot bytes 0..6 */
#define MAP_CTRL_MOVED (0x80ull << 56)
#define MAP_CTRL_OVF_SHIFT 56
#define MAP_CTRL_OVF_MAX 0x7Full

struct map_slot {
    atword k; /* inline key bytes, or struct map_entry * */
    atword v; /* inline value bytes, or the entry's full hash */
};

/*
 * meta, stamps and slots 0..2 fill the first cache line; 3..6 the second.
 * Every hit reads meta, and a new entry takes the lowest free slot, so
 * most keys are found in the first line alone (doc/map.md, "Layout").
 */
struct map_bucket {
    atword meta;
    atword stamps; /* per DEAD slot, its kill's grace generation (slot.h) */
    struct map_slot s[MAP_SLOTS];
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
 * Table header: 64 bytes right before the 64-byte-aligned buckets, which
 * the array of control words follows, so the current-table word finds all
 * three without a load.  Readers get to a table through the shard's
 * current-table word (map_cur): the buckets' address with log2 in its six
 * low bits.  Buckets first, so that no size-dependent offset lies between
 * that base and bucket b (base + b * 128); the control array's offset is
 * one shift (doc/map.md, "Tables").
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
    struct map_bucket *bkt; /* == (char *)this + sizeof *this */
    atword *ctrl;           /* == (char *)bkt + (MAP_BUCKET_BYTES << log2) */
    void *raw;              /* the allocation */
    size_t bytes;           /* its size, for stats.bytes */
    map_drop_fn drop;
} __attribute__((aligned(64)));

/* Bytes of the control array of 2^log2 buckets: whole cache lines, so
 * that no other allocation shares the table's last line. */
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
    return (uintptr_t)t->bkt | t->log2;
}

static inline struct map_table *map_table_of(uintptr_t cur)
{
    return (struct map_table *)(cur & ~(uintptr_t)63) - 1;
}

/* Address (as an integer: the table may be gone, see write.c's
 * prefetch_write) of bucket b's entries in the table of cur. */
static inline uintptr_t map_bucket_addr(uintptr_t cur, size_t b)
{
    return (cur & ~(uintptr_t)63) + b * MAP_BUCKET_BYTES;
}

/*
 * Ask for both cache lines of the bucket at address a (a pointer or an
 * integer, evaluated twice: a prefetch never faults, so the table may be
 * gone), for a read (rw 0) or a write (rw 1; a constant, as
 * __builtin_prefetch needs; hence a macro).  Both: a key in slots 3..6
 * needs the second line (doc/map.md, "Layout").
 */
#define MAP_PREFETCH_BUCKET(a, rw)                                          \
    do {                                                                    \
        __builtin_prefetch((const char *)(a), (rw));                        \
        __builtin_prefetch((const char *)(a) + MAP_BUCKET_BYTES / 2, (rw)); \
    } while (0)

/* ... and of the table's control array (bucket b's word: + b * 8). */
static inline uintptr_t map_ctrl_addr(uintptr_t cur)
{
    return (cur & ~(uintptr_t)63) + ((uintptr_t)MAP_BUCKET_BYTES << (cur & 63));
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
    /* Writes that may still end with a bare unlock, end_due unasked
     * (write.c, end_quiet); 0 after anything that moves the bounds. */
    size_t quiet;
    int slot;           /* index in map->mig while migrating, else -1 */
    unsigned churn;     /* writes since the last migration (map_churn_due) */
    /* Keys written further from home than they were (a full bucket) since
     * the last migration began; a rehash is due once they pass
     * live >> drift_shift (map_drift_due).  The shift follows from
     * tbl->log2 but is set with the bounds: derived at each check, through
     * tbl, it cost the general steps' writes 6 instructions, cached 1. */
    size_t drift;
    unsigned drift_shift;
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

struct map_batch; /* map.c: the tables a clear or free retires */

struct goconc_map {
    /* Read-mostly: what every lookup reads. */
    struct gc_hash_key hk;
    unsigned sb;            /* shard bits */
    unsigned nshards;
    unsigned tag_shift;     /* tag = (h >> tag_shift) & 0x7F */
    unsigned mig_cap;
    /* GOCONC_MAP_NO_PEEK: no reader holds a value's address past one
     * atomic load, so an inline value may be rewritten in place (the
     * writes' in_place copies, write.c home_put). */
    int in_place;
    struct map_shard *sh;
    atword *mig;            /* mig_cap slots: shard + 1 of a migrating shard, or 0 */
    struct map_grace *grace;
    map_drop_fn on_drop;
    void *ctx;
    size_t fixed_bytes;     /* this struct (with cur), shards, mig, grace, fin */
    struct map_batch *fin;  /* preallocated for goconc_map_free */
    void *raw;              /* allocation of this struct */
    void *raw_sh;           /* allocation of sh */
    /* Per shard, the current-table word (map_cur) of the table readers
     * start in. */
    atword cur[];
};

/* ------------------------------------------------------- bit helpers */

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

/*
 * 0x80 in each slot byte of ctrl that is EMPTY (0x00) / DEAD (0x01).
 * Cheaper than map_match: a tag byte is 0x00, 0x01 or has bit 7 set, so
 * bits 7 and 0 tell the three apart ((ctrl << 7) brings each byte's bit
 * 0 to its bit 7).
 */
static inline uint64_t map_empty_slots(uint64_t ctrl)
{
    return ~(ctrl | ctrl << 7) & MAP_HIGH7;
}

static inline uint64_t map_dead_slots(uint64_t ctrl)
{
    return (ctrl << 7) & ~ctrl & MAP_HIGH7;
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

/* Stamp slot i of bk, killed now, with grace generation gen (its low
 * 8 bits); stored the way meta's bytes are. */
static inline void map_slot_stamp(struct map_bucket *bk, unsigned i, uint32_t gen)
{
    at_store_byte(&bk->stamps, i, (unsigned char)gen);
}

/*
 * Write a LIVE entry into free slot i of bucket bk, whose control word is
 * *ct, and publish it: ctrl is that word as the caller loaded (and maybe
 * recycled) it, with slot i EMPTY in it.  Slot `kill` (-1: none) of the
 * same bucket, the same key's old entry (so LIVE with the same tag), dies
 * in the same store, stamped with grace generation gen.  Both bytes are
 * known, so each changes by one OR or XOR (map_ctrl_set's mask cost an
 * overwrite 7 instructions more).
 */
static inline void map_bucket_write(atword *ct, struct map_bucket *bk, uint64_t ctrl, unsigned i,
                                    int kill, uint32_t gen, unsigned tag, unsigned lens,
                                    uint64_t kword, uint64_t vword)
{
    at_store(&bk->s[i].k, kword);
    at_store(&bk->s[i].v, vword);
    map_meta_put(bk, i, lens);
    ctrl |= (uint64_t)tag << (8 * i);
    if (kill >= 0) {
        ctrl ^= (uint64_t)(tag ^ MAP_TAG_DEAD) << (8 * (unsigned)kill);
        map_slot_stamp(bk, (unsigned)kill, gen);
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
    return gc_hash_word(&m->hk, at_load(&s->k), map_lens_klen(lens));
}

/* Does slot s (with meta byte lens) hold key? */
static inline int map_slot_is(const struct map_slot *s, unsigned lens, uint64_t h,
                              const void *key, size_t klen, uint64_t kw)
{
    const struct map_entry *e;
    if (lens != MAP_LENS_OOL)
        return map_lens_klen(lens) == klen && at_load(&s->k) == kw;
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
        v->klen = map_lens_klen(lens);
        v->val = (const void *)&s->v;
        v->vlen = map_lens_vlen(lens);
    }
}

/* ---------------------------------------------------------- shard locks */

/* Owner = gc_thread_id().  Callers bracket the critical section with
 * gc_lock_enter/exit: no deferred callback runs under a shard lock. */
static inline int map_trylock(struct map_shard *sh, uintptr_t me)
{
    /* The CAS is a full barrier: acquire for the critical section,
     * pairing with map_unlock's release store. */
    return at_load(&sh->lock) == 0 && at_cas(&sh->lock, 0, me);
}

/* Wait for the lock (slot.c).  Out of line: the backoff's round counter
 * then never lives in the frame of a write that got the lock at once. */
void map_lock_wait(struct map_shard *sh, uintptr_t me);

static inline void map_lock(struct map_shard *sh, uintptr_t me)
{
    if (GC_UNLIKELY(!map_trylock(sh, me)))
        map_lock_wait(sh, me);
}

static inline void map_unlock(struct map_shard *sh)
{
    at_store_rel(&sh->lock, 0);
}

/* An update function running on this thread (write.c): a link of the
 * chain that the thread record's map_fn heads, innermost first. */
struct map_fn_frame {
    const struct goconc_map *m;
    const struct map_fn_frame *up;
};

/*
 * Is the calling thread inside an update function of this map (which
 * holds its key's shard lock)?  Asked of the thread's own record, so the
 * common case (no update function runs on this thread) is one load of a
 * line no other thread writes, and an update costs no shared write.
 */
static inline int map_in_fn(const struct goconc_map *m)
{
    const struct map_fn_frame *f = gc_thread_self()->map_fn;
    for (; GC_UNLIKELY(f != NULL); f = f->up)
        if (f->m == m)
            return 1;
    return 0;
}

#endif /* GOCONC_MAP_LAYOUT_H */
