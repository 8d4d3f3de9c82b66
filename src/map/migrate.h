/* SPDX-License-Identifier: MIT */
/*
 * migrate.h - the per-shard migration state machine (migrate.c), which
 * owns every migration field of a shard (phase, nxt, cursors, the
 * map->mig slot, churn) and the sizing rules.  Every call but
 * map_mig_help runs under the shard's lock.
 */
#ifndef GOCONC_MAP_MIGRATE_H
#define GOCONC_MAP_MIGRATE_H

#include "map/slot.h"

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

/* Set up shard idx of a new map around its first table t (MAP_STABLE,
 * limits computed; min_log2 = t's size). */
void map_mig_init(struct goconc_map *m, unsigned idx, struct map_table *t);
/* Clear: shard idx (its tables already handed to a batch) starts over
 * with the empty table t: any migration ends where it is, its slot is
 * released, counts go to 0, and cur[idx] is published. */
void map_mig_reset(struct goconc_map *m, unsigned idx, struct map_table *t);

/* Units of migration work a write (or a helper) does for shard sh. */
static inline size_t map_write_units(const struct map_shard *sh)
{
    return at_load(&sh->phase) == MAP_MOVING ? MAP_WRITE_MOVES : MAP_WRITE_UNITS;
}

/* Up to `units` units of the migration of gx's shard; returns the units
 * done, 0 when none is pending. */
size_t map_mig_step(struct map_gx *gx, size_t units);
/* MOVING: move every unmoved bucket of h's probe chain in the old table
 * (before a write to that key touches the new one). */
void map_mig_evacuate(struct map_gx *gx, uint64_t h);
/* ZEROING: zero the rest of the new table now and start MOVING. */
void map_mig_rush(struct map_shard *sh);
/* Start the migration shard idx wants, if any: GOCONC_OK (started, or
 * nothing wanted), GOCONC_EBUSY (cap full), GOCONC_ENOMEM.  `force`
 * ignores the cap and always picks a target. */
int map_mig_kick(struct goconc_map *m, unsigned idx, int force);
/* log2 size a stable shard wants to migrate to, or -1. */
int map_mig_target(const struct map_shard *sh, int force);
/* Recompute the bounds map_mig_due checks: after tbl or min_log2 changed. */
void map_mig_limits(struct map_shard *sh);
/* Help some migrating shard other than `self` (no lock held). */
void map_mig_help(struct goconc_map *m, unsigned self);

/*
 * Have keys drifted from home enough that rehashing the shard pays?  A
 * key whose bucket is full when it is written (DEAD slots still in their
 * grace period, or other keys) moves further along its chain and stays
 * there until a migration: without one, a small shard under steady
 * overwrites ends with most of its keys several buckets from home, past
 * the write's fast case.  A key moved on costs every later write to it
 * a longer walk (a load too), a rehash the copy of every entry once: it
 * comes once the keys moved since the last migration began outnumber
 * half the entries, an eighth in a small table (32 to 256 buckets,
 * tuning.h), whose few keys are each written and read so often that a
 * moved one costs more before the count gets there (doc/map.md, "Keys
 * past home" and "A drifted small table rehashes sooner", has the
 * measurements).  Only the general steps move keys (map_place_far), and
 * their end asks.
 */
static inline int map_drift_due(const struct map_shard *sh, size_t live)
{
    return sh->drift > live >> sh->drift_shift;
}

/* May a stable shard want to migrate?  Never false when
 * map_mig_target(.., 0) would pick a size; the bounds are cached because
 * every write asks. */
static inline int map_mig_due(const struct map_shard *sh)
{
    size_t live = at_load(&sh->len);
    return map_churn_due(sh->churn) || live > sh->grow_live ||
           live + sh->dead_t > sh->grow_used || live < sh->shrink_live ||
           map_drift_due(sh, live);
}

/* Count a write that succeeded on the churn clock (test builds). */
static inline void map_mig_count(struct map_shard *sh)
{
    if (MAP_CHURN_EVERY != 0) /* a constant: production writes skip the count */
        sh->churn++;
}

/* Has a write's end migration work: the shard migrates, or a migration
 * may be due? */
static inline int map_mig_pending(const struct map_shard *sh)
{
    return at_load(&sh->phase) != MAP_STABLE || map_mig_due(sh);
}

/* Count a write that succeeded; 1 when its end has migration work. */
static inline int map_mig_write(struct map_shard *sh)
{
    map_mig_count(sh);
    return map_mig_pending(sh);
}

#endif /* GOCONC_MAP_MIGRATE_H */
