/* SPDX-License-Identifier: MIT */
// stress_cpp.cpp - several threads through goconc.hpp at once, against
// exact oracles:
//  - map<uint64_t, uint64_t>: each thread owns a key range and keeps an
//    exact model of it (every answer checked); all threads also
//    increment shared counters with update (the final counts must equal
//    the increments made), and some updates throw mid-way (the map must
//    not change);
//  - value<config>: a chain of compare_and_swap version bumps (the final
//    version equals the successes), readers check each config is whole
//    and versions never go back on one thread;
//  - pool<buffer>: no buffer is ever held by two threads at once;
//  - slice<uint64_t>: concurrent appends through one handle, none lost or
//    duplicated, each thread's in its own order.
// Threads collect what they saw; main() checks it.  Prints its seed; set
// GOCONC_SEED to replay one, GOCONC_STRESS_SECONDS for the duration.
#include "goconc.hpp"
#include "harness.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr unsigned kThreads = 4;
constexpr std::uint64_t kKeysPerThread = 512;
constexpr std::uint64_t kCounters = 8;
constexpr std::uint64_t kCounterBase = std::uint64_t(1) << 40;

struct thrown_on_purpose {};

std::uint64_t env_u64(const char *name, std::uint64_t dflt)
{
    const char *s = std::getenv(name);
    return s != nullptr && *s != '\0' ? std::strtoull(s, nullptr, 0) : dflt;
}

// A value encodes its key in the low 32 bits, so any reader can tell a
// value from the wrong key.
std::uint64_t enc(std::uint64_t key, std::uint64_t version)
{
    return (version << 32) | (key & 0xffffffffu);
}

struct config {
    std::uint64_t version;
    std::uint64_t check; // a function of version: a torn config shows
    std::string name;
    explicit config(std::uint64_t v) : version(v), check(v * 0x9e3779b97f4a7c15u), name(std::to_string(v)) {}
    bool whole() const { return check == version * 0x9e3779b97f4a7c15u && name == std::to_string(version); }
};

struct buffer {
    std::atomic<unsigned> owner{0};
    unsigned char data[256];
};

struct shared_state {
    goconc::map<std::uint64_t, std::uint64_t> map;
    goconc::value<config> cfg{std::make_unique<config>(0)};
    goconc::pool<buffer> pool{{}, [](buffer &b) { b.owner.store(0); }};
    goconc::slice<std::uint64_t> log;
    std::atomic<bool> stop{false};
};

struct result {
    std::uint64_t ops = 0, model_mismatches = 0, range_bad = 0;
    std::uint64_t increments[kCounters] = {};
    std::uint64_t throws_made = 0, throws_caught = 0;
    std::uint64_t cas_wins = 0, cfg_torn = 0, cfg_backwards = 0;
    std::uint64_t pool_double = 0, pool_corrupt = 0;
    std::uint64_t appended = 0;
};

using map_t = goconc::map<std::uint64_t, std::uint64_t>;

void map_op(shared_state &s, std::unordered_map<std::uint64_t, std::uint64_t> &model, std::uint64_t base,
            std::mt19937_64 &rng, result &r)
{
    std::uint64_t k = base + rng() % kKeysPerThread;
    std::uint64_t v = enc(k, rng() & 0xffff);
    auto it = model.find(k);
    std::optional<std::uint64_t> want;
    if (it != model.end())
        want = it->second;
    bool ok = true;
    switch (rng() % 9) {
    case 0:
        s.map.store(k, v);
        model[k] = v;
        break;
    case 1:
        ok = s.map.remove(k) == bool(want);
        model.erase(k);
        break;
    case 2:
        ok = s.map.load(k) == want;
        break;
    case 3: {
        auto [got, loaded] = s.map.load_or_store(k, v);
        ok = loaded == bool(want) && got == (want ? *want : v);
        if (!want)
            model[k] = v;
        break;
    }
    case 4:
        ok = s.map.swap(k, v) == want;
        model[k] = v;
        break;
    case 5: {
        // Half the time the expected value is right.
        std::uint64_t old = want && (rng() & 1) ? *want : enc(k, 0x10000);
        bool swapped = s.map.compare_and_swap(k, old, v);
        ok = swapped == (want && *want == old);
        if (swapped)
            model[k] = v;
        break;
    }
    case 6: {
        std::uint64_t old = want && (rng() & 1) ? *want : enc(k, 0x10000);
        bool deleted = s.map.compare_and_delete(k, old);
        ok = deleted == (want && *want == old);
        if (deleted)
            model.erase(k);
        break;
    }
    case 7: {
        // A read-modify-write that sometimes throws half-way.
        bool will_throw = rng() % 16 == 0;
        try {
            s.map.update(k, [&](std::optional<std::uint64_t> cur) -> map_t::result {
                if (cur != want)
                    ok = false;
                if (will_throw)
                    throw thrown_on_purpose{};
                if (cur && (*cur >> 32) % 3 == 0)
                    return goconc::erase;
                return v;
            });
        } catch (const thrown_on_purpose &) {
            r.throws_caught++;
        }
        if (will_throw) {
            r.throws_made++;
        } else if (want && (*want >> 32) % 3 == 0) {
            model.erase(k);
        } else {
            model[k] = v;
        }
        break;
    }
    default: {
        goconc::read_guard g;
        ok = s.map.peek(g, k) == want;
        break;
    }
    }
    if (!ok)
        r.model_mismatches++;
}

void counter_op(shared_state &s, std::mt19937_64 &rng, result &r)
{
    std::uint64_t j = rng() % kCounters;
    s.map.update(kCounterBase + j, [](std::optional<std::uint64_t> cur) -> map_t::result {
        return cur ? *cur + 1 : 1;
    });
    r.increments[j]++;
}

void range_op(shared_state &s, result &r)
{
    (void)s.map.range([&](std::uint64_t k, std::uint64_t v) {
        if (k < kCounterBase && (v & 0xffffffffu) != (k & 0xffffffffu))
            r.range_bad++;
        return true;
    });
}

void value_op(shared_state &s, std::mt19937_64 &rng, result &r, std::uint64_t &last_version)
{
    if (rng() % 8 == 0) {
        goconc::value<config>::ref cur = s.cfg.acquire();
        std::unique_ptr<config> next = std::make_unique<config>(cur->version + 1);
        if (s.cfg.compare_and_swap(cur.get(), next))
            r.cas_wins++;
        return;
    }
    goconc::read_guard g;
    const config *c = s.cfg.load(g);
    if (!c->whole())
        r.cfg_torn++;
    if (c->version < last_version)
        r.cfg_backwards++;
    last_version = c->version;
}

void pool_op(shared_state &s, unsigned tid, std::mt19937_64 &rng, result &r)
{
    auto h = s.pool.get();
    unsigned expect = 0;
    if (!h->owner.compare_exchange_strong(expect, tid + 1))
        r.pool_double++;
    unsigned char fill = static_cast<unsigned char>(rng());
    for (unsigned char &b : h->data)
        b = fill;
    std::this_thread::yield();
    for (unsigned char b : h->data)
        if (b != fill) {
            r.pool_corrupt++;
            break;
        }
    // The reset callback clears owner as the handle goes back.
}

void worker(shared_state &s, unsigned tid, std::uint64_t seed, result &r)
{
    std::mt19937_64 rng(seed + tid * 0x100000001b3u);
    std::unordered_map<std::uint64_t, std::uint64_t> model;
    std::uint64_t base = std::uint64_t(tid) * kKeysPerThread, last_version = 0, seq = 0;
    while (!s.stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 64; i++) {
            unsigned pick = rng() % 100;
            if (pick < 60)
                map_op(s, model, base, rng, r);
            else if (pick < 70)
                counter_op(s, rng, r);
            else if (pick < 85)
                value_op(s, rng, r, last_version);
            else if (pick < 95)
                pool_op(s, tid, rng, r);
            else {
                (void)s.log.append((std::uint64_t(tid) << 32) | seq++);
                r.appended++;
            }
            r.ops++;
        }
        if (rng() % 32 == 0)
            range_op(s, r);
    }
    // The final model must be exactly what the map holds for our keys.
    for (std::uint64_t k = base; k < base + kKeysPerThread; k++) {
        auto it = model.find(k);
        std::optional<std::uint64_t> want;
        if (it != model.end())
            want = it->second;
        if (s.map.load(k) != want)
            r.model_mismatches++;
    }
}

} // namespace

TEST(stress_through_cpp_layer)
{
    std::uint64_t seed = env_u64("GOCONC_SEED", std::random_device{}());
    std::uint64_t seconds = env_u64("GOCONC_STRESS_SECONDS", 2);
    std::printf("stress_cpp: seed %llu, %llu s, %u threads\n", static_cast<unsigned long long>(seed),
                static_cast<unsigned long long>(seconds), kThreads);
    shared_state s;
    std::vector<result> res(kThreads);
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < kThreads; t++)
        ts.emplace_back(worker, std::ref(s), t, seed, std::ref(res[t]));
    std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 1000 + 100));
    s.stop.store(true);
    for (auto &t : ts)
        t.join();

    result total;
    for (const result &r : res) {
        total.ops += r.ops;
        total.model_mismatches += r.model_mismatches;
        total.range_bad += r.range_bad;
        total.throws_made += r.throws_made;
        total.throws_caught += r.throws_caught;
        total.cas_wins += r.cas_wins;
        total.cfg_torn += r.cfg_torn;
        total.cfg_backwards += r.cfg_backwards;
        total.pool_double += r.pool_double;
        total.pool_corrupt += r.pool_corrupt;
        total.appended += r.appended;
        for (std::uint64_t j = 0; j < kCounters; j++)
            total.increments[j] += r.increments[j];
    }
    std::printf("stress_cpp: %llu ops, %llu throws, %llu config bumps, %llu appends\n",
                static_cast<unsigned long long>(total.ops), static_cast<unsigned long long>(total.throws_made),
                static_cast<unsigned long long>(total.cas_wins), static_cast<unsigned long long>(total.appended));
    CHECK(total.ops > 0);
    CHECK(total.model_mismatches == 0);
    CHECK(total.range_bad == 0);
    CHECK(total.throws_made == total.throws_caught);
    for (std::uint64_t j = 0; j < kCounters; j++) {
        std::optional<std::uint64_t> got = s.map.load(kCounterBase + j);
        CHECK(got.value_or(0) == total.increments[j]);
    }
    CHECK(total.cfg_torn == 0 && total.cfg_backwards == 0);
    CHECK(s.cfg.acquire()->version == total.cas_wins);
    CHECK(total.pool_double == 0 && total.pool_corrupt == 0);

    // Every append landed exactly once, each thread's in its own order.
    goconc::slice<std::uint64_t>::view v = s.log.snapshot();
    CHECK(v.size() == total.appended);
    std::vector<std::uint64_t> next(kThreads, 0);
    bool order_ok = true;
    for (std::uint64_t x : v) {
        unsigned tid = static_cast<unsigned>(x >> 32);
        if (tid >= kThreads || (x & 0xffffffffu) != next[tid]++)
            order_ok = false;
    }
    CHECK(order_ok);
    for (unsigned t = 0; t < kThreads; t++)
        CHECK(next[t] == res[t].appended);
    if (harness::failures() != 0)
        std::printf("stress_cpp: FAILED with seed %llu\n", static_cast<unsigned long long>(seed));
}

int main()
{
    return harness::run_all();
}
