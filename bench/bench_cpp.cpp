/* SPDX-License-Identifier: MIT */
// bench_cpp.cpp - what goconc.hpp costs over the C API, and where the map
// stands among C++ concurrent hash maps.  Four flavours of one uint64_t ->
// uint64_t map, each behind the same three calls (load, store, del):
//   C       goconc_map_* called directly
//   C++     goconc::map<uint64_t, uint64_t>
//   tbb     oneTBB's tbb::concurrent_hash_map (when libtbb-dev is installed)
//   cuckoo  libcuckoo's cuckoohash_map (when libcuckoo-dev is installed)
// The two peers hash with fmix64 (their defaults are the identity for
// integers); goconc uses its own keyed hash.  Workloads:
//   W1:      90% load, 9% store, 1% delete over 1M pre-filled keys, T threads
//   insert:  1M fresh keys into an empty map, one thread
// Each rep runs every flavour once per workload, C and C++ back to back
// (which goes first alternates) and the peers before or after them
// (alternating too), each on a fresh map.  Each run is timed twice: wall
// clock, and the process's CPU time (every thread's, so work a library
// hands to a thread of its own counts).  On a machine shared with other
// work the CPU time leaves out the time other programs held the cores,
// so the ratios use it.  Printed per workload: the median Mops/s (wall)
// and CPU ns per op of each flavour, and medians of the per-rep CPU time
// ratios: C++/C (1.000 = the wrapper costs nothing; with its quartiles)
// and the wrapper's speed over each peer (2.0 = half the peer's CPU time
// per op).
//   bench_cpp [reps] [threads...]    (default: 11 reps, threads 1 2;
//                                     GOCONC_BENCH_OPS: W1 ops a thread, 2M;
//                                     GOCONC_BENCH_VERBOSE: each rep's times)
// Instruction counts, which a loaded machine cannot blur:
//   valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=F
//       bench_cpp --count load|store|insert C|C++ [ops]
// collects only the op loop (pre-fill excluded); F's "summary:" / ops is
// the count per op, the loop's own key generation included (the same for
// both flavours).
#include "goconc.hpp"

#ifdef HAVE_TBB
#include <tbb/concurrent_hash_map.h>
#endif
#ifdef HAVE_LIBCUCKOO
#include <libcuckoo/cuckoohash_map.hh>
#endif
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
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

// ------------------------------------------------------------ flavours

// The C flavour's map is the kind goconc::map<uint64_t, uint64_t> makes
// (no peek: options::no_peek's default), so C against C++ measures the
// wrapper alone.
struct c_api {
    goconc_map *m = nullptr;
    c_api()
    {
        goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
        o.flags = GOCONC_MAP_NO_PEEK;
        if (goconc_map_new(&m, &o) != GOCONC_OK)
            std::abort();
    }
    ~c_api() { goconc_map_free(m); }
    c_api(const c_api &) = delete;
    c_api &operator=(const c_api &) = delete;
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

// MurmurHash3's finaliser: the peers' default integer hashes are the
// identity, which would favour them on these keys or starve their buckets.
inline std::size_t fmix64(std::uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdu;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53u;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
}

#ifdef HAVE_TBB
// Loads take a const_accessor (the entry's reader lock), stores an
// accessor (insert-or-find, then assign), deletes erase(key).
struct tbb_peer {
    struct hash_compare {
        static std::size_t hash(std::uint64_t k) { return fmix64(k); }
        static bool equal(std::uint64_t a, std::uint64_t b) { return a == b; }
    };
    using table = tbb::concurrent_hash_map<std::uint64_t, std::uint64_t, hash_compare>;
    table t;
    bool load(std::uint64_t k, std::uint64_t &v) const
    {
        table::const_accessor a;
        if (!t.find(a, k))
            return false;
        v = a->second;
        return true;
    }
    void store(std::uint64_t k, std::uint64_t v)
    {
        table::accessor a;
        t.insert(a, k);
        a->second = v;
    }
    void del(std::uint64_t k) { (void)t.erase(k); }
};
#endif

#ifdef HAVE_LIBCUCKOO
struct cuckoo_peer {
    struct hasher {
        std::size_t operator()(std::uint64_t k) const { return fmix64(k); }
    };
    // mutable: find() is const, but the table's locks are not.
    mutable libcuckoo::cuckoohash_map<std::uint64_t, std::uint64_t, hasher> t;
    bool load(std::uint64_t k, std::uint64_t &v) const { return t.find(k, v); }
    void store(std::uint64_t k, std::uint64_t v) { (void)t.insert_or_assign(k, v); }
    void del(std::uint64_t k) { (void)t.erase(k); }
};
#endif

// ----------------------------------------------------------- workloads

template <class Map>
void prefill(Map &map)
{
    for (std::uint64_t k = 0; k < kKeys; k++)
        map.store(k, k);
}

template <class Map>
void w1_thread(Map &map, unsigned t, std::uint64_t ops)
{
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
}

// Wall and process CPU seconds of one run.
struct sample {
    double wall, cpu;
};

double cpu_now()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

class stopwatch {
public:
    sample elapsed() const
    {
        std::chrono::duration<double> d = std::chrono::steady_clock::now() - wall0_;
        return {d.count(), cpu_now() - cpu0_};
    }

private:
    std::chrono::steady_clock::time_point wall0_ = std::chrono::steady_clock::now();
    double cpu0_ = cpu_now();
};

template <class Map>
sample w1(unsigned threads, std::uint64_t ops)
{
    Map map;
    prefill(map);
    std::vector<std::thread> ts;
    stopwatch sw;
    for (unsigned t = 0; t < threads; t++)
        ts.emplace_back([&, t] { w1_thread(map, t, ops); });
    for (auto &th : ts)
        th.join();
    return sw.elapsed(); // before the map is freed
}

template <class Map>
void insert_loop(Map &map, std::uint64_t n)
{
    std::uint64_t s = 42;
    for (std::uint64_t i = 0; i < n; i++)
        map.store(splitmix(s), i);
}

template <class Map>
sample inserts(unsigned, std::uint64_t)
{
    Map map;
    stopwatch sw;
    insert_loop(map, kKeys);
    return sw.elapsed();
}

using run_fn = sample (*)(unsigned threads, std::uint64_t ops);

struct flavour {
    const char *name;
    run_fn w1, insert;
};

template <class Map>
constexpr flavour make(const char *name)
{
    return {name, &w1<Map>, &inserts<Map>};
}

// C and C++ first: the order below relies on it.
const flavour flavours[] = {
    make<c_api>("C"),
    make<cpp_api>("C++"),
#ifdef HAVE_TBB
    make<tbb_peer>("tbb"),
#endif
#ifdef HAVE_LIBCUCKOO
    make<cuckoo_peer>("cuckoo"),
#endif
};
constexpr std::size_t kFlavours = sizeof flavours / sizeof flavours[0];

// ------------------------------------------------------------- reports

double quantile(std::vector<double> v, double q)
{
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * double(v.size() - 1) + 0.5)];
}

// Rep r's order: the C/C++ pair (C first on even reps) before the peers
// on reps 0 and 1 mod 4, after them otherwise; the peers' order flips
// with the pair's.
std::vector<std::size_t> order(unsigned r)
{
    std::vector<std::size_t> pair{0, 1}, peers;
    for (std::size_t f = 2; f < kFlavours; f++)
        peers.push_back(f);
    if (r % 2 == 1) {
        std::reverse(pair.begin(), pair.end());
        std::reverse(peers.begin(), peers.end());
    }
    std::vector<std::size_t> o = r % 4 < 2 ? pair : peers;
    const std::vector<std::size_t> &rest = r % 4 < 2 ? peers : pair;
    o.insert(o.end(), rest.begin(), rest.end());
    return o;
}

bool verbose = std::getenv("GOCONC_BENCH_VERBOSE") != nullptr; // per-rep times

void compare(const char *name, unsigned reps, run_fn flavour::*which, unsigned threads,
             std::uint64_t ops, std::uint64_t total_ops)
{
    std::vector<std::vector<double>> wall(kFlavours), t(kFlavours); // t: CPU
    for (unsigned r = 0; r < reps; r++) {
        for (std::size_t f : order(r)) {
            sample x = (flavours[f].*which)(threads, ops);
            wall[f].push_back(x.wall);
            t[f].push_back(x.cpu);
        }
        if (verbose) {
            std::printf("  rep %2u CPU s:", r);
            for (std::size_t f = 0; f < kFlavours; f++)
                std::printf("  %s %.3f", flavours[f].name, t[f].back());
            std::printf("\n");
        }
    }
    std::printf("%-6s T=%u  Mops/s (wall):", name, threads);
    for (std::size_t f = 0; f < kFlavours; f++)
        std::printf("  %s %.2f", flavours[f].name, double(total_ops) / quantile(wall[f], 0.5) / 1e6);
    std::printf("\n%-6s T=%u  CPU ns/op:    ", name, threads);
    for (std::size_t f = 0; f < kFlavours; f++)
        std::printf("  %s %.1f", flavours[f].name, quantile(t[f], 0.5) / double(total_ops) * 1e9);
    std::vector<double> cpp_c;
    for (unsigned r = 0; r < reps; r++)
        cpp_c.push_back(t[1][r] / t[0][r]);
    std::printf("\n%-6s T=%u  C++/C CPU %.3f (quartiles %.3f..%.3f)", name, threads,
                quantile(cpp_c, 0.5), quantile(cpp_c, 0.25), quantile(cpp_c, 0.75));
    for (std::size_t f = 2; f < kFlavours; f++) {
        std::vector<double> speed;
        for (unsigned r = 0; r < reps; r++)
            speed.push_back(t[f][r] / t[1][r]);
        std::printf("  C++ vs %s %.2fx", flavours[f].name, quantile(speed, 0.5));
    }
    std::printf("\n");
    std::fflush(stdout);
}

// ------------------------------------------------- instruction counts

template <class Map>
void count_load(Map &map, std::uint64_t ops)
{
    std::uint64_t s = 1, found = 0, v = 0;
    CALLGRIND_TOGGLE_COLLECT;
    for (std::uint64_t i = 0; i < ops; i++)
        found += map.load(splitmix(s) % kKeys, v);
    CALLGRIND_TOGGLE_COLLECT;
    sink.fetch_add(found + v, std::memory_order_relaxed);
}

template <class Map>
void count_store(Map &map, std::uint64_t ops)
{
    std::uint64_t s = 1;
    CALLGRIND_TOGGLE_COLLECT;
    for (std::uint64_t i = 0; i < ops; i++) {
        std::uint64_t r = splitmix(s);
        map.store(r % kKeys, r);
    }
    CALLGRIND_TOGGLE_COLLECT;
}

template <class Map>
int count(const std::string &what, std::uint64_t ops)
{
    Map map;
    if (what == "insert") {
        CALLGRIND_TOGGLE_COLLECT;
        insert_loop(map, ops);
        CALLGRIND_TOGGLE_COLLECT;
        return 0;
    }
    prefill(map);
    if (what == "load")
        count_load(map, ops);
    else if (what == "store")
        count_store(map, ops);
    else
        return 2;
    return 0;
}

int count_main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    std::string what = argv[2], who = argv[3];
    std::uint64_t ops = argc > 4 ? std::strtoull(argv[4], nullptr, 0) : 200000;
    int rc = who == "C" ? count<c_api>(what, ops) : who == "C++" ? count<cpp_api>(what, ops) : 2;
    if (rc == 0)
        std::printf("%s %s: %llu ops\n", what.c_str(), who.c_str(),
                    static_cast<unsigned long long>(ops));
    return rc;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--count") == 0) {
        int rc = count_main(argc, argv);
        if (rc == 2)
            std::fprintf(stderr, "usage: bench_cpp --count load|store|insert C|C++ [ops]\n");
        return rc;
    }
    unsigned reps = argc > 1 ? unsigned(std::atoi(argv[1])) : 11;
    std::vector<unsigned> threads;
    for (int i = 2; i < argc; i++)
        threads.push_back(unsigned(std::atoi(argv[i])));
    if (threads.empty())
        threads = {1, 2};
    if (reps == 0 || std::find(threads.begin(), threads.end(), 0u) != threads.end()) {
        std::fprintf(stderr, "usage: bench_cpp [reps] [threads...]\n");
        return 2;
    }
    const char *e = std::getenv("GOCONC_BENCH_OPS");
    std::uint64_t ops = e != nullptr ? std::strtoull(e, nullptr, 0) : 2000000;
    std::printf("bench_cpp: %u reps; W1 %llu ops a thread over %llu keys; insert %llu keys;"
                " flavours:", reps, static_cast<unsigned long long>(ops),
                static_cast<unsigned long long>(kKeys), static_cast<unsigned long long>(kKeys));
    for (const flavour &f : flavours)
        std::printf(" %s", f.name);
    std::printf("\n");
    for (unsigned th : threads)
        compare("W1", reps, &flavour::w1, th, ops, ops * th);
    compare("insert", reps, &flavour::insert, 1, 0, kKeys);
    return 0;
}
