/* SPDX-License-Identifier: MIT */
/*
 * tuning.h - every tunable constant of the map, and the one place where
 * the test build changes them.
 *
 * meson -Dtiny_shards=true compiles the library with GOCONC_TINY_SHARDS:
 * few shards, one-bucket tables, the slowest migration steps, and stable
 * shards that rehash every few writes, so every test runs through the
 * migration state machine.  No other file of src/map tests that macro:
 * the code reads the constants below, and the production values of the
 * test-only ones (MAP_CHURN_EVERY 0) make their branches constant-false.
 */
#ifndef GOCONC_MAP_TUNING_H
#define GOCONC_MAP_TUNING_H

/* Layout (layout.h): slots per bucket, bytes per bucket's entries. */
#define MAP_SLOTS 7
#define MAP_BUCKET_BYTES 128
#define MAP_MAX_SHARD_BITS 16
/* Tags take the 7 hash bits just below the shard bits (bits 57-sb ..
 * 63-sb); bucket indexes use the low bits, at most 40 of them, which
 * stay clear of the tags for every allowed shard count. */
#define MAP_MAX_LOG2 40u

/* The write's fast case (write.c, home_near): buckets it looks at, the
 * home included; a key further along its chain, or room further on, is
 * left to the general steps. */
#define MAP_NEAR_WALK 4u

/* Migration (migrate.c): already-moved buckets the cursor may skip per
 * unit of work. */
#define MAP_SKIP_PER_UNIT 32u
/* ... and the largest table (2^this buckets: 256, 35 KiB) that a rehash
 * for drift doubles when it is over 30% full (drift_grows). */
#define MAP_DRIFT_GROW_LOG2 8u
/* Keys moved past home since the last migration began, over this share
 * of the live entries (live >> shift), make a shard rehash
 * (map_drift_due): an eighth for a table of 2^MAP_DRIFT_EIGHTH_LOG2 to
 * 2^MAP_DRIFT_GROW_LOG2 buckets (32 to 256), half for others.  Below,
 * an eighth is a handful of moves and each rehash's fixed costs (a new
 * table, retired after a grace period) outweigh them; above, an eighth
 * measured no different (doc/map.md, "A drifted small table rehashes
 * sooner"). */
#define MAP_DRIFT_EIGHTH_LOG2 5u
#define MAP_DRIFT_SHIFT_SMALL 3u
#define MAP_DRIFT_SHIFT 1u

/* Grace tracking (slot.c): kills that may wait behind a token in flight
 * before another token is issued. */
#define MAP_GRACE_BATCH 64u
/* ... and kills that wait for a token even when none is in flight: one
 * token (a retire, and a callback later) covers this many. */
#define MAP_GRACE_MIN 8u
/* ... and kills that count as one retire toward the epoch's next advance
 * (gc_weigh): the DEAD slots of a grown map's full buckets come back
 * after a few thousand overwrites, not tens of thousands. */
#define MAP_GRACE_WEIGHT 8u

/* Retired tables of at least this many bytes are freed at once if they
 * can be (map.c, clear and free): worth a few epoch attempts. */
#define MAP_RECLAIM_SOON_BYTES ((size_t)1 << 20)

#ifdef GOCONC_TINY_SHARDS
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
/* Shards migrating at once: a 32nd of them, at least 2, so that the new
 * tables being zeroed and filled stay in the cache between the two
 * (doc/map.md, "Cap"). */
#define MAP_MIG_CAP(ns) ((ns) >= 64u ? (ns) / 32u : 2u)
#define MAP_CHURN_EVERY 0u     /* never: a shard migrates when its size asks */
#endif

/* Is a stable shard that has seen `writes` writes since its last
 * migration due for a churn migration (test builds only)? */
static inline int map_churn_due(unsigned writes)
{
    return MAP_CHURN_EVERY != 0 && writes + 1 > MAP_CHURN_EVERY;
}

#endif /* GOCONC_MAP_TUNING_H */
