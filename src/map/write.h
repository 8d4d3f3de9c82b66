/* SPDX-License-Identifier: MIT */
/*
 * write.h - one write to one key, under its shard's lock (write.c).
 *
 *   map_w_lock     hash the key, lock its shard
 *   map_w_begin    evacuate the key's chain if the shard is MOVING, then
 *                  locate the key and, in the same walk, the free slot a
 *                  store would fill
 *   map_w_store / map_w_delete   everything that can fail first, then
 *                  the visible change
 *   map_w_unlock   migration work, grace token, unlock
 *
 * map_write runs the whole sequence for one operation (map_op); update
 * (map.c) runs the steps itself around the user's function.
 */
#ifndef GOCONC_MAP_WRITE_H
#define GOCONC_MAP_WRITE_H

#include "map/probe.h"
#include "map/slot.h"

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

/* EOVERFLOW (klen), EDEADLK (inside an update function of m), or OK with
 * the key's shard locked (bracketed by gc_lock_enter: update's function
 * runs under it). */
int map_w_lock(struct map_wctx *w, struct goconc_map *m, const void *key, size_t klen);
void map_w_begin(struct map_wctx *w);
/* The found entry's key and value. */
void map_w_view(const struct map_wctx *w, struct map_view *v);
/* Store val for the key (insert or replace); with `out`, copy the
 * replaced value there first. */
int map_w_store(struct map_wctx *w, const void *val, size_t vlen, const struct map_op *out);
/* Delete the found entry; with `out`, copy its value there first. */
int map_w_delete(struct map_wctx *w, const struct map_op *out);
/* rc >= 0: the op succeeded, do the shard's follow-up work.  Unlocks,
 * frees what the op did not use, helps, polls. */
void map_w_unlock(struct map_wctx *w, int rc);

/* One operation on key: validates, locks, applies, unlocks. */
int map_write(struct goconc_map *m, const void *key, size_t klen, const struct map_op *op);
/* goconc_map_store (goconc/map.h) is defined in write.c, around the
 * store's fast case. */

#endif /* GOCONC_MAP_WRITE_H */
