/* SPDX-License-Identifier: MIT */
// map_peer_tbb.cpp - oneTBB's tbb::concurrent_hash_map as a bench_map peer,
// hashed with fmix64 like every other peer.  Loads take a const_accessor
// (a per-entry reader lock), stores an accessor (insert-or-find, then
// assign), deletes erase(key).  presize is passed to rehash().
//
// Built only when a C++ compiler and libtbb-dev are present.  Maps are
// never freed: each measurement runs in its own child process.
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

} // namespace

struct mp_tbb {
    Table t;
    explicit mp_tbb(uint64_t seed) : t(FmixCompare(seed)) {}
};

extern "C" {

mp_tbb *mp_tbb_new(uint64_t seed, size_t presize)
{
    mp_tbb *m = new (std::nothrow) mp_tbb(seed);
    if (m && presize)
        m->t.rehash(presize);
    return m;
}

int mp_tbb_load(mp_tbb *m, uint64_t k, uint64_t *v)
{
    Table::const_accessor a;
    if (!m->t.find(a, k))
        return 0;
    *v = a->second;
    return 1;
}

void mp_tbb_store(mp_tbb *m, uint64_t k, uint64_t v)
{
    Table::accessor a;
    m->t.insert(a, k);
    a->second = v;
}

void mp_tbb_del(mp_tbb *m, uint64_t k)
{
    m->t.erase(k);
}

size_t mp_tbb_len(mp_tbb *m)
{
    return m->t.size();
}

} // extern "C"
