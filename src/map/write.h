/* SPDX-License-Identifier: MIT */
/*
 * write.h - one write to one key, under its shard's lock (write.c).
 *
 * Every write runs the same steps (write.c): lock (hash the key, lock its
 * shard); begin (evacuate the key's chain if the shard is MOVING, then
 * locate the key and, in the same walk, the free slot a store would
 * fill); the operation (everything that can fail first, then the visible
 * change); end (migration work, grace token, unlock).  map_write runs
 * them for one operation (map_op); goconc_map_store and goconc_map_update
 * are defined in write.c too, around their fast cases.
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

/* One operation on key: validates, locks, applies, unlocks. */
int map_write(struct goconc_map *m, const void *key, size_t klen, const struct map_op *op);

#endif /* GOCONC_MAP_WRITE_H */
