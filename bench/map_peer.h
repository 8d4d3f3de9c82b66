/* SPDX-License-Identifier: MIT */
/*
 * map_peer.h - the maps bench_map.c measures: goconc's and its peers.
 *
 * Every map takes uint64_t keys to uint64_t values, and every peer hashes
 * with the same function (fmix64 of key ^ seed, mp_hash), so the
 * implementations differ only in their structure and synchronisation.
 * Each one lives in its own adapter file (map_peer_<name>.c or .cpp) that
 * exposes one or more `struct map_peer` ops tables; map_peers.c lists them
 * in the order the tables print.  An adapter is compiled in only when
 * meson finds its package (bench/meson.build, HAVE_PEER_* defines).
 *
 * Every call goes through the table, goconc's included, so each map pays
 * the same indirect call per operation (about 1 ns, far below any map
 * operation measured here).
 */
#ifndef GOCONC_BENCH_MAP_PEER_H
#define GOCONC_BENCH_MAP_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Murmur3's 64-bit finalizer: the hash every peer uses (DashMap too). */
static inline uint64_t mp_fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t mp_hash(uint64_t seed, uint64_t key)
{
    return mp_fmix64(key ^ seed);
}

/* map_peer.flags */
enum {
    MP_ONE_THREAD = 1u << 0, /* not thread-safe: only runs with one thread */
    MP_PRESIZED = 1u << 1,   /* created with room for the W1 key range */
    MP_EXTERNAL = 1u << 2    /* a separate program (DashMap): no ops below */
};

/*
 * One map implementation.  The fields are not called new/delete: the
 * header is shared with the C++ adapters.
 *
 *   create   a map hashing with `seed`, with room for `presize` entries
 *            (0: start small and grow, as every workload but the
 *            MP_PRESIZED variants does); NULL on failure
 *   destroy  free it and everything in it (the check workload calls it;
 *            the other children exit with the map alive)
 *   load     1 and *v when k is present, else 0
 *   store    insert or replace; 0, or -1 if the map refused or failed
 *   erase    remove k if present
 *   len      entries; exact when no thread is storing
 *
 * Optional (NULL: nothing to do):
 *   thread_enter / thread_exit
 *            around a thread's work on the map (liburcu registration)
 *   settle   finish deferred work at a quiescent point, after an untimed
 *            prefill: goconc completes its incremental migrations and frees
 *            retired tables, as the synchronously resizing peers have;
 *            ck_ht frees the tables its growth retired (a real program
 *            would after a grace period).  No other thread runs meanwhile.
 *   stats    append " key=value" figures of the map's own accounting to
 *            out, each key ending in `suffix` (goconc: bytes, shards...)
 */
struct map_peer {
    const char *name; /* as in --impls= and the report */
    const char *desc;
    unsigned flags;
    void *(*create)(uint64_t seed, size_t presize);
    void (*destroy)(void *m);
    int (*load)(void *m, uint64_t k, uint64_t *v);
    int (*store)(void *m, uint64_t k, uint64_t v);
    void (*erase)(void *m, uint64_t k);
    size_t (*len)(void *m);
    void (*thread_enter)(void);
    void (*thread_exit)(void);
    void (*settle)(void *m);
    void (*stats)(void *m, const char *suffix, FILE *out);
};

/* The registry (map_peers.c): goconc first, then the peers built in. */
extern const struct map_peer *const map_peers[];
extern const size_t map_peer_count;
/* The peers left out, as "name (Debian package)"; NULL-terminated. */
extern const char *const map_peers_absent[];

/* The adapters' tables (each defined only when its package was found). */
extern const struct map_peer mp_goconc_peer, mp_goconc_np_peer;           /* goconc */
extern const struct map_peer mp_glib_peer, mp_glib1_peer, mp_seed64_peer; /* GLib */
extern const struct map_peer mp_lfht_peer, mp_lfht_pre_peer;              /* liburcu */
extern const struct map_peer mp_tbb_peer;                                 /* oneTBB */
extern const struct map_peer mp_cuckoo_peer;                              /* libcuckoo */
extern const struct map_peer mp_absl1_peer, mp_absl64_peer;               /* Abseil */
extern const struct map_peer mp_ck_peer;                                  /* ck_ht */

/*
 * oneTBB's map by direct calls, for bench_cpp.cpp, which times it beside
 * goconc.hpp without the table (the same functions the table holds).
 */
typedef struct mp_tbb mp_tbb;
mp_tbb *mp_tbb_new(uint64_t seed, size_t presize);
int mp_tbb_load(mp_tbb *m, uint64_t k, uint64_t *v);
void mp_tbb_store(mp_tbb *m, uint64_t k, uint64_t v);
void mp_tbb_del(mp_tbb *m, uint64_t k);

#ifdef __cplusplus
}
#endif

#endif
