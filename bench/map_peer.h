/* SPDX-License-Identifier: MIT */
/*
 * map_peer.h - the peer maps bench_map.c measures goconc's map against.
 *
 * Every peer maps a uint64_t key to a uint64_t value and hashes with the
 * same function (fmix64 of key ^ seed, mp_hash), so the implementations
 * differ only in their structure and synchronisation.  Each peer is built
 * only when its Debian package is installed (HAVE_* defines from
 * bench/meson.build).  Calls are direct (no function pointers) so no peer
 * pays an indirect call the others do not.
 *
 * Common shape: *_new(seed, presize) (presize 0 = start small and grow),
 * *_load (1 = found, value in *v), *_store (insert or replace), *_del,
 * *_len (exact when quiescent).  Threads that touch a liburcu map call
 * mp_lfht_thread_enter/exit around their work.
 */
#ifndef GOCONC_BENCH_MAP_PEER_H
#define GOCONC_BENCH_MAP_PEER_H

#include <stddef.h>
#include <stdint.h>

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

/* GLib GHashTable under one GRWLock; lock = 0 gives a plain unlocked
 * GHashTable (single-threaded baseline). */
typedef struct mp_glib mp_glib;
mp_glib *mp_glib_new(uint64_t seed, size_t presize, int lock);
int mp_glib_load(mp_glib *m, uint64_t k, uint64_t *v);
void mp_glib_store(mp_glib *m, uint64_t k, uint64_t v);
void mp_glib_del(mp_glib *m, uint64_t k);
size_t mp_glib_len(mp_glib *m);

/* The seed article's design: 64 shards, each a GHashTable under its own
 * pthread_rwlock_t (cache-line aligned). */
typedef struct mp_shard64 mp_shard64;
mp_shard64 *mp_shard64_new(uint64_t seed, size_t presize);
int mp_shard64_load(mp_shard64 *m, uint64_t k, uint64_t *v);
void mp_shard64_store(mp_shard64 *m, uint64_t k, uint64_t v);
void mp_shard64_del(mp_shard64 *m, uint64_t k);
size_t mp_shard64_len(mp_shard64 *m);

/* liburcu's cds_lfht (urcu-memb flavour, auto-resize + accounting). */
typedef struct mp_lfht mp_lfht;
mp_lfht *mp_lfht_new(uint64_t seed, size_t presize);
int mp_lfht_load(mp_lfht *m, uint64_t k, uint64_t *v);
void mp_lfht_store(mp_lfht *m, uint64_t k, uint64_t v);
void mp_lfht_del(mp_lfht *m, uint64_t k);
size_t mp_lfht_len(mp_lfht *m);
void mp_lfht_thread_enter(void);
void mp_lfht_thread_exit(void);

/* oneTBB's tbb::concurrent_hash_map<uint64_t, uint64_t> (C++). */
typedef struct mp_tbb mp_tbb;
mp_tbb *mp_tbb_new(uint64_t seed, size_t presize);
int mp_tbb_load(mp_tbb *m, uint64_t k, uint64_t *v);
void mp_tbb_store(mp_tbb *m, uint64_t k, uint64_t v);
void mp_tbb_del(mp_tbb *m, uint64_t k);
size_t mp_tbb_len(mp_tbb *m);

#ifdef __cplusplus
}
#endif

#endif
