/* SPDX-License-Identifier: MIT */
// map_peer_cuckoo.cpp - libcuckoo's libcuckoo::cuckoohash_map (Debian
// libcuckoo-dev, header-only) as a bench_map peer: a concurrent cuckoo
// hash table with 4-slot buckets and lock striping (spinlocks), hashed
// with fmix64 like every other peer.  Loads are find(), stores
// insert_or_assign(), erases erase(); presize is passed to the
// constructor, otherwise it starts at libcuckoo's default size.
//
// Built only when a C++ compiler and libcuckoo-dev are present.
#include "map_peer.h"

#include <libcuckoo/cuckoohash_map.hh>

#include <new>

namespace {

struct FmixHash {
    uint64_t seed = 0;
    size_t operator()(uint64_t k) const { return static_cast<size_t>(mp_hash(seed, k)); }
};

using Table = libcuckoo::cuckoohash_map<uint64_t, uint64_t, FmixHash>;

Table &table(void *m) { return *static_cast<Table *>(m); }

void *cuckoo_create(uint64_t seed, size_t presize)
{
    try {
        return new Table(presize ? presize : libcuckoo::DEFAULT_SIZE, FmixHash{seed});
    } catch (const std::bad_alloc &) {
        return nullptr;
    }
}

void cuckoo_destroy(void *m) { delete static_cast<Table *>(m); }

int cuckoo_load(void *m, uint64_t k, uint64_t *v) { return table(m).find(k, *v) ? 1 : 0; }

// Growth can throw (bad_alloc, or libcuckoo's load_factor_too_low with a
// pathological hash): report it as a failed store.
int cuckoo_store(void *m, uint64_t k, uint64_t v)
{
    try {
        table(m).insert_or_assign(k, v);
        return 0;
    } catch (const std::exception &) {
        return -1;
    }
}

void cuckoo_erase(void *m, uint64_t k) { table(m).erase(k); }

size_t cuckoo_len(void *m) { return table(m).size(); }

} // namespace

extern "C" const struct map_peer mp_cuckoo_peer = {
    "cuckoo", "libcuckoo cuckoohash_map (lock striping)", 0,
    cuckoo_create, cuckoo_destroy, cuckoo_load, cuckoo_store, cuckoo_erase, cuckoo_len,
    nullptr, nullptr, nullptr, nullptr,
};
