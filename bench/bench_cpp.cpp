/* SPDX-License-Identifier: MIT */
// bench_cpp.cpp - the cost of goconc.hpp over the C API: the same map
// workloads through goconc_map_* and through goconc::map<uint64_t,
// uint64_t>, in alternating reps of one run, and TBB's
// concurrent_hash_map beside them when it is installed (map_peer_tbb.cpp).
//   W1:      90% load, 9% store, 1% delete over 1M pre-filled keys, T threads
//   insert:  1M fresh keys into an empty map, one thread
// Prints each rep's seconds and the median ratio C++/C (1.00 = no cost).
//   bench_cpp [threads] [reps]      (GOCONC_BENCH_OPS: ops per thread, 2M)
#include "goconc.hpp"
#ifdef HAVE_TBB
#include "map_peer.h"
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr std::uint64_t kKeys = 1u << 20;
std::atomic<std::uint64_t> sink{0}; // keeps the loads from being optimised out

std::uint64_t splitmix(std::uint64_t &s)
{
    std::uint64_t z = (s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

// The three flavours, one shape: load (true = found), store, del.
struct c_api {
    goconc_map *m = nullptr;
    c_api()
    {
        if (goconc_map_new(&m, nullptr) != GOCONC_OK)
            std::abort();
    }
    ~c_api() { goconc_map_free(m); }
    bool load(std::uint64_t k, std::uint64_t &v) const
    {
        return goconc_map_load(m, &k, sizeof k, &v, sizeof v, nullptr) == GOCONC_OK;
    }
    void store(std::uint64_t k, std::uint64_t v)
    {
        if (goconc_map_store(m, &k, sizeof k, &v, sizeof v) != GOCONC_OK)
            std::abort();
    }
    void del(std::uint64_t k)
    {
        if (goconc_map_delete(m, &k, sizeof k) < 0)
            std::abort();
    }
};

struct cpp_api {
    goconc::map<std::uint64_t, std::uint64_t> m;
    bool load(std::uint64_t k, std::uint64_t &v) const
    {
        std::optional<std::uint64_t> got = m.load(k);
        if (got)
            v = *got;
        return got.has_value();
    }
    void store(std::uint64_t k, std::uint64_t v) { m.store(k, v); }
    void del(std::uint64_t k) { (void)m.remove(k); }
};

#ifdef HAVE_TBB
struct tbb_peer {
    mp_tbb *m = mp_tbb_new(0x5eed, 0);
    bool load(std::uint64_t k, std::uint64_t &v) const { return mp_tbb_load(m, k, &v) != 0; }
    void store(std::uint64_t k, std::uint64_t v) { mp_tbb_store(m, k, v); }
    void del(std::uint64_t k) { mp_tbb_del(m, k); }
};
#endif

template <class Map>
double w1(unsigned threads, std::uint64_t ops)
{
    Map map;
    for (std::uint64_t k = 0; k < kKeys; k++)
        map.store(k, k);
    std::vector<std::thread> ts;
    auto t0 = std::chrono::steady_clock::now();
    for (unsigned t = 0; t < threads; t++)
        ts.emplace_back([&, t] {
            std::uint64_t s = t + 1, found = 0, v = 0;
            for (std::uint64_t i = 0; i < ops; i++) {
                std::uint64_t r = splitmix(s), k = r % kKeys, pick = (r >> 40) % 100;
                if (pick < 90)
                    found += map.load(k, v);
                else if (pick < 99)
                    map.store(k, r);
                else
                    map.del(k);
            }
            sink.fetch_add(found + v, std::memory_order_relaxed);
        });
    for (auto &th : ts)
        th.join();
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    return d.count();
}

template <class Map>
double inserts()
{
    Map map;
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t s = 42;
    for (std::uint64_t i = 0; i < kKeys; i++)
        map.store(splitmix(s), i);
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    return d.count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class F>
void compare(const char *name, unsigned reps, F run)
{
    std::vector<double> c, cpp, ratio, tbb;
    for (unsigned r = 0; r < reps; r++) {
        // Alternate which goes first, so drift hits both alike.
        double a, b;
        if (r % 2 == 0) {
            a = run(0);
            b = run(1);
        } else {
            b = run(1);
            a = run(0);
        }
        c.push_back(a);
        cpp.push_back(b);
        ratio.push_back(b / a);
#ifdef HAVE_TBB
        tbb.push_back(run(2));
#endif
        std::printf("  %-7s rep %u: C %.3f s  C++ %.3f s  C++/C %.3f", name, r, a, b, b / a);
        if (!tbb.empty())
            std::printf("  tbb %.3f s", tbb.back());
        std::printf("\n");
    }
    std::printf("%-7s median: C %.3f s  C++ %.3f s  C++/C %.3f", name, median(c), median(cpp),
                median(ratio));
    if (!tbb.empty())
        std::printf("  tbb %.3f s  tbb/C %.3f", median(tbb), median(tbb) / median(c));
    std::printf("\n");
}

} // namespace

int main(int argc, char **argv)
{
    unsigned threads = argc > 1 ? unsigned(std::atoi(argv[1])) : std::thread::hardware_concurrency();
    unsigned reps = argc > 2 ? unsigned(std::atoi(argv[2])) : 5;
    const char *e = std::getenv("GOCONC_BENCH_OPS");
    std::uint64_t ops = e != nullptr ? std::strtoull(e, nullptr, 0) : 2000000;
    std::printf("bench_cpp: W1 %u threads x %llu ops, %llu keys; %u reps\n", threads,
                static_cast<unsigned long long>(ops), static_cast<unsigned long long>(kKeys), reps);
    compare("W1", reps, [&](int which) {
        if (which == 0)
            return w1<c_api>(threads, ops);
        if (which == 1)
            return w1<cpp_api>(threads, ops);
#ifdef HAVE_TBB
        return w1<tbb_peer>(threads, ops);
#else
        return 0.0;
#endif
    });
    compare("insert", reps, [&](int which) {
        if (which == 0)
            return inserts<c_api>();
        if (which == 1)
            return inserts<cpp_api>();
#ifdef HAVE_TBB
        return inserts<tbb_peer>();
#else
        return 0.0;
#endif
    });
    return 0;
}
