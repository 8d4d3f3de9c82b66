/* SPDX-License-Identifier: MIT */
// map_peer_absl.cpp - Abseil's absl::flat_hash_map (Debian libabsl-dev,
// SwissTable: open addressing with SIMD-probed control bytes, entries
// inline) as two bench_map peers, hashed with fmix64 like every other:
//
//   absl-1t  one flat_hash_map and no lock: the fastest single-threaded
//            table here, the bar for goconc's 1-thread figures (runs with
//            one thread only)
//   absl64   64 shards, each a flat_hash_map under its own absl::Mutex:
//            loads take the reader side, stores and erases the writer side;
//            the top 6 hash bits pick the shard (the table indexes with
//            the others), shards are cache-line aligned
//
// presize goes to reserve() (split over the shards).  Built only when a
// C++ compiler and libabsl-dev are present.
#include "map_peer.h"

#include <absl/container/flat_hash_map.h>
#include <absl/synchronization/mutex.h>

#include <new>

namespace {

struct FmixHash {
    uint64_t seed = 0;
    size_t operator()(uint64_t k) const { return static_cast<size_t>(mp_hash(seed, k)); }
};

using Table = absl::flat_hash_map<uint64_t, uint64_t, FmixHash>;

Table *table_new(uint64_t seed, size_t presize)
{
    try {
        Table *t = new Table(0, FmixHash{seed});
        if (presize)
            t->reserve(presize);
        return t;
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}

int table_load(const Table &t, uint64_t k, uint64_t *v)
{
    auto it = t.find(k);
    if (it == t.end())
        return 0;
    *v = it->second;
    return 1;
}

int table_store(Table &t, uint64_t k, uint64_t v)
{
    try {
        t.insert_or_assign(k, v);
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}

// ---- absl-1t: no lock ----------------------------------------------------

Table &plain(void *m) { return *static_cast<Table *>(m); }

void *plain_create(uint64_t seed, size_t presize) { return table_new(seed, presize); }
void plain_destroy(void *m) { delete static_cast<Table *>(m); }
int plain_load(void *m, uint64_t k, uint64_t *v) { return table_load(plain(m), k, v); }
int plain_store(void *m, uint64_t k, uint64_t v) { return table_store(plain(m), k, v); }
void plain_erase(void *m, uint64_t k) { plain(m).erase(k); }
size_t plain_len(void *m) { return plain(m).size(); }

// ---- absl64: 64 shards under absl::Mutex -----------------------------------

constexpr unsigned kShards = 64;

struct alignas(64) Shard {
    absl::Mutex mu;
    Table t;
    explicit Shard(uint64_t seed) : t(0, FmixHash{seed}) {}
};

struct Sharded {
    uint64_t seed;
    Shard *s[kShards];
};

Shard &shard_of(void *m, uint64_t k)
{
    Sharded *p = static_cast<Sharded *>(m);
    return *p->s[mp_hash(p->seed, k) >> 58];
}

void sharded_destroy(void *m)
{
    Sharded *p = static_cast<Sharded *>(m);
    for (Shard *s : p->s)
        delete s;
    delete p;
}

void *sharded_create(uint64_t seed, size_t presize)
{
    Sharded *p = new (std::nothrow) Sharded{seed, {}};
    if (!p)
        return nullptr;
    try {
        for (Shard *&s : p->s) {
            s = new Shard(seed);
            if (presize)
                s->t.reserve(presize / kShards + 1);
        }
    } catch (const std::bad_alloc &) {
        sharded_destroy(p); // delete of the shards not made yet is of nullptr
        return nullptr;
    }
    return p;
}

int sharded_load(void *m, uint64_t k, uint64_t *v)
{
    Shard &s = shard_of(m, k);
    absl::ReaderMutexLock l(&s.mu);
    return table_load(s.t, k, v);
}

int sharded_store(void *m, uint64_t k, uint64_t v)
{
    Shard &s = shard_of(m, k);
    absl::MutexLock l(&s.mu);
    return table_store(s.t, k, v);
}

void sharded_erase(void *m, uint64_t k)
{
    Shard &s = shard_of(m, k);
    absl::MutexLock l(&s.mu);
    s.t.erase(k);
}

size_t sharded_len(void *m)
{
    size_t n = 0;
    for (Shard *s : static_cast<Sharded *>(m)->s) {
        absl::ReaderMutexLock l(&s->mu);
        n += s->t.size();
    }
    return n;
}

} // namespace

extern "C" const struct map_peer mp_absl1_peer = {
    "absl-1t", "absl::flat_hash_map, no lock (single-thread baseline)", MP_ONE_THREAD,
    plain_create, plain_destroy, plain_load, plain_store, plain_erase, plain_len,
    nullptr, nullptr, nullptr, nullptr,
};

extern "C" const struct map_peer mp_absl64_peer = {
    "absl64", "64 absl::flat_hash_map x absl::Mutex (reader/writer)", 0,
    sharded_create, sharded_destroy, sharded_load, sharded_store, sharded_erase, sharded_len,
    nullptr, nullptr, nullptr, nullptr,
};
