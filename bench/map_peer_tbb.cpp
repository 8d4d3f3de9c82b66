/* SPDX-License-Identifier: MIT */
// map_peer_tbb.cpp - oneTBB's tbb::concurrent_hash_map as a bench_map peer,
// hashed with fmix64 like every other peer.  Loads take a const_accessor
// (a per-entry reader lock), stores an accessor (insert-or-find, then
// assign), erases erase(key).  presize is passed to rehash().
//
// Built only when a C++ compiler and libtbb-dev are present.
#include "map_peer.h"

#include <tbb/concurrent_hash_map.h>

#include <new>

namespace {

struct FmixCompare {
    uint64_t seed = 0;
    FmixCompare() = default;
    explicit FmixCompare(uint64_t s) : seed(s) {}
    size_t hash(uint64_t k) const { return static_cast<size_t>(mp_hash(seed, k)); }
    bool equal(uint64_t a, uint64_t b) const { return a == b; }
};

using Table = tbb::concurrent_hash_map<uint64_t, uint64_t, FmixCompare>;

Table &table(void *m) { return *static_cast<Table *>(m); }

void *tbb_create(uint64_t seed, size_t presize)
{
    Table *t = new (std::nothrow) Table(FmixCompare(seed));
    if (t && presize)
        t->rehash(presize);
    return t;
}

void tbb_destroy(void *m) { delete static_cast<Table *>(m); }

int tbb_load(void *m, uint64_t k, uint64_t *v)
{
    Table::const_accessor a;
    if (!table(m).find(a, k))
        return 0;
    *v = a->second;
    return 1;
}

int tbb_store(void *m, uint64_t k, uint64_t v)
{
    try {
        Table::accessor a;
        table(m).insert(a, k);
        a->second = v;
        return 0;
    } catch (const std::bad_alloc &) {
        return -1;
    }
}

void tbb_erase(void *m, uint64_t k) { table(m).erase(k); }

size_t tbb_len(void *m) { return table(m).size(); }

} // namespace

extern "C" const struct map_peer mp_tbb_peer = {
    "tbb", "oneTBB concurrent_hash_map", 0,
    tbb_create, tbb_destroy, tbb_load, tbb_store, tbb_erase, tbb_len,
    nullptr, nullptr, nullptr, nullptr,
};

extern "C" {

mp_tbb *mp_tbb_new(uint64_t seed, size_t presize)
{
    return static_cast<mp_tbb *>(tbb_create(seed, presize));
}

int mp_tbb_load(mp_tbb *m, uint64_t k, uint64_t *v) { return tbb_load(m, k, v); }

void mp_tbb_store(mp_tbb *m, uint64_t k, uint64_t v) { (void)tbb_store(m, k, v); }

void mp_tbb_del(mp_tbb *m, uint64_t k) { tbb_erase(m, k); }

} // extern "C"
