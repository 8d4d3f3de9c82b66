/* SPDX-License-Identifier: MIT */
// test_unwind.cpp - C++ exceptions thrown by callbacks of the C API that
// the library unwinds through cleanly (built with -fexceptions): the
// object is usable afterwards from this thread and from another.  Every
// callback that runs during the call taking it: once fn (do, try), map
// update fn, map range and scan visitors, slice range visitor, pool
// new_obj and reset_obj (doc/api.md, "Callbacks").
// Statuses are checked where they matter; CHECK_THROWS drops them.
#define GOCONC_NO_WARN_UNUSED
#include "goconc.h"
#include "harness.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace {

struct boom {};

void throw_boom(void *)
{
    throw boom{};
}

int throw_boom_int(void *)
{
    throw boom{};
}

void count_run(void *ctx)
{
    static_cast<std::atomic<int> *>(ctx)->fetch_add(1);
}

// goconc_synchronize is EDEADLK inside a once fn: OK here means the
// thrown-through fn's lock bracket was closed.
bool lock_bracket_closed()
{
    return goconc_synchronize() == GOCONC_OK;
}

} // namespace

TEST(once_do_throw_leaves_not_done)
{
    goconc_once o = GOCONC_ONCE_INIT;
    CHECK_THROWS(goconc_once_do(&o, throw_boom, nullptr), boom);
    CHECK(!goconc_once_done(&o));
    CHECK(lock_bracket_closed());
    std::atomic<int> runs{0};
    // Same thread: not EDEADLK (the running record was popped), runs again.
    CHECK(goconc_once_do(&o, count_run, &runs) == GOCONC_OK);
    CHECK(runs.load() == 1 && goconc_once_done(&o));
    CHECK(goconc_once_do(&o, count_run, &runs) == GOCONC_OK);
    CHECK(runs.load() == 1);
}

TEST(once_try_throw_then_other_thread)
{
    goconc_once o = GOCONC_ONCE_INIT;
    CHECK_THROWS(goconc_once_try(&o, throw_boom_int, nullptr), boom);
    CHECK(!goconc_once_done(&o));
    std::atomic<int> runs{0};
    int rc = -1;
    std::thread t([&] { rc = goconc_once_do(&o, count_run, &runs); });
    t.join();
    CHECK(rc == GOCONC_OK && runs.load() == 1 && goconc_once_done(&o));
}

// A thread sleeping on the once while its fn throws is woken and runs its
// own fn (whichever order the two threads take, B's fn runs once).
TEST(once_throw_wakes_waiter)
{
    goconc_once o = GOCONC_ONCE_INIT;
    std::atomic<bool> in_fn{false};
    std::atomic<int> runs{0};
    int rc_b = -1;
    bool a_threw = false;
    std::thread a([&] {
        try {
            (void)goconc_once_do(&o, [](void *ctx) {
                static_cast<std::atomic<bool> *>(ctx)->store(true);
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                throw boom{};
            }, &in_fn);
        } catch (const boom &) {
            a_threw = true;
        }
    });
    while (!in_fn.load())
        std::this_thread::yield();
    std::thread b([&] { rc_b = goconc_once_do(&o, count_run, &runs); });
    a.join();
    b.join();
    CHECK(a_threw);
    CHECK(rc_b == GOCONC_OK && runs.load() == 1 && goconc_once_done(&o));
}

// Nested onces: the inner one throws through the outer fn; both end not
// done and the running stack is clean (no false EDEADLK afterwards).
TEST(once_nested_throw)
{
    static goconc_once outer = GOCONC_ONCE_INIT, inner = GOCONC_ONCE_INIT;
    CHECK_THROWS(goconc_once_do(&outer, [](void *) {
        (void)goconc_once_do(&inner, throw_boom, nullptr);
    }, nullptr), boom);
    CHECK(!goconc_once_done(&outer) && !goconc_once_done(&inner));
    std::atomic<int> runs{0};
    CHECK(goconc_once_do(&inner, count_run, &runs) == GOCONC_OK);
    CHECK(goconc_once_do(&outer, count_run, &runs) == GOCONC_OK);
    CHECK(runs.load() == 2 && lock_bracket_closed());
}

// ------------------------------------------------------------- map

namespace {

goconc_map *one_shard_map()
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    o.shards = 1; // every key behind the lock the throw must release
    goconc_map *m = nullptr;
    CHECK(goconc_map_new(&m, &o) == GOCONC_OK);
    return m;
}

std::uint64_t load_u64(goconc_map *m, std::uint64_t k, int *rc)
{
    std::uint64_t v = 0;
    *rc = goconc_map_load(m, &k, sizeof k, &v, sizeof v, nullptr);
    return v;
}

int store_u64(goconc_map *m, std::uint64_t k, std::uint64_t v)
{
    return goconc_map_store(m, &k, sizeof k, &v, sizeof v);
}

int update_throw(void *, const void *, size_t, int, const void **, size_t *)
{
    throw boom{};
}

int visit_throw_at(void *ctx, const void *, size_t, const void *, size_t)
{
    if (--*static_cast<int *>(ctx) == 0)
        throw boom{};
    return 0;
}

int visit_count(void *ctx, const void *, size_t, const void *, size_t)
{
    ++*static_cast<int *>(ctx);
    return 0;
}

} // namespace

TEST(map_update_throw_releases_lock)
{
    goconc_map *m = one_shard_map();
    std::uint64_t k = 1, k2 = 2;
    CHECK(store_u64(m, k, 10) == GOCONC_OK);
    CHECK_THROWS(goconc_map_update(m, &k, sizeof k, update_throw, nullptr), boom);
    CHECK_THROWS(goconc_map_update(m, &k2, sizeof k2, update_throw, nullptr), boom);
    // The general steps around fn (an out-of-line entry is no fast case).
    std::uint64_t k3 = 3;
    char big[16] = "sixteen bytes..";
    CHECK(goconc_map_store(m, &k3, sizeof k3, big, sizeof big) == GOCONC_OK);
    CHECK_THROWS(goconc_map_update(m, &k3, sizeof k3, update_throw, nullptr), boom);
    CHECK(lock_bracket_closed() && goconc_map_delete(m, &k3, sizeof k3) == GOCONC_OK);
    int rc;
    CHECK(load_u64(m, 1, &rc) == 10 && rc == GOCONC_OK);
    CHECK((load_u64(m, 2, &rc), rc == GOCONC_NOTFOUND) && goconc_map_len(m) == 1);
    CHECK(lock_bracket_closed());
    // Not EDEADLK (the in-update count was undone), not stuck (unlocked).
    CHECK(store_u64(m, 1, 11) == GOCONC_OK);
    int rc_other = -1;
    std::thread t([&] { rc_other = store_u64(m, 1, 12); });
    t.join();
    CHECK(rc_other == GOCONC_OK && load_u64(m, 1, &rc) == 12);
    goconc_map_free(m);
}

TEST(map_range_and_scan_throw_leave_section)
{
    goconc_map *m = one_shard_map();
    for (std::uint64_t k = 0; k < 100; k++)
        CHECK(store_u64(m, k, k) == GOCONC_OK);
    int left = 10;
    CHECK_THROWS(goconc_map_range(m, visit_throw_at, &left), boom);
    CHECK(left == 0 && lock_bracket_closed()); // the read section was left
    std::uint64_t cursor = 0;
    left = 5;
    CHECK_THROWS(goconc_map_scan(m, &cursor, 1000, visit_throw_at, &left), boom);
    CHECK(left == 0 && cursor == 0 && lock_bracket_closed());
    int n = 0;
    CHECK(goconc_map_range(m, visit_count, &n) == GOCONC_OK && n == 100);
    int n_other = 0;
    std::thread t([&] {
        (void)goconc_map_range(m, visit_count, &n_other);
        (void)store_u64(m, 100, 100);
    });
    t.join();
    CHECK(n_other == 100 && goconc_map_len(m) == 101);
    goconc_map_free(m);
}

// ----------------------------------------------------------- slice

TEST(slice_range_throw_releases_snapshot)
{
    goconc_slice *s = nullptr;
    CHECK(goconc_slice_new(&s, sizeof(int), 0, 64) == GOCONC_OK);
    for (int i = 0; i < 32; i++)
        CHECK(goconc_slice_append(s, &i, 1, nullptr) == GOCONC_OK);
    CHECK_THROWS(goconc_slice_range(s, [](void *, size_t i, const void *) -> int {
        if (i == 10)
            throw boom{};
        return 0;
    }, nullptr), boom);
    // Released: nothing holds the storage but the handle, so the
    // allocator may be swapped (a live view would make it GOCONC_EBUSY).
    goconc_slice_free(s);
    CHECK(goconc_barrier() == GOCONC_OK);
    CHECK(goconc_set_allocator(nullptr) == GOCONC_OK);
    CHECK(goconc_slice_new(&s, sizeof(int), 1, 1) == GOCONC_OK);
    int seen = 0, rc = -1;
    std::thread t([&] { rc = goconc_slice_range(s, [](void *ctx, size_t, const void *) -> int {
        ++*static_cast<int *>(ctx);
        return 0;
    }, &seen); });
    t.join();
    CHECK(rc == GOCONC_OK && seen == 1);
    goconc_slice_free(s);
}

// ------------------------------------------------------------ pool

namespace {

struct pool_ctx {
    bool fail_new = false, fail_reset = false;
    std::atomic<int> live{0};
};

void *pool_new(void *ctx)
{
    auto *c = static_cast<pool_ctx *>(ctx);
    if (c->fail_new)
        throw boom{};
    c->live.fetch_add(1);
    return new int(7);
}

void pool_reset(void *ctx, void *)
{
    if (static_cast<pool_ctx *>(ctx)->fail_reset)
        throw boom{};
}

void pool_free(void *ctx, void *obj) noexcept
{
    static_cast<pool_ctx *>(ctx)->live.fetch_sub(1);
    delete static_cast<int *>(obj);
}

} // namespace

TEST(pool_callbacks_throw)
{
    pool_ctx c;
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    o.new_obj = pool_new;
    o.reset_obj = pool_reset;
    o.free_obj = pool_free;
    o.ctx = &c;
    goconc_pool *p = nullptr;
    CHECK(goconc_pool_new(&p, &o) == GOCONC_OK);
    c.fail_new = true;
    CHECK_THROWS(goconc_pool_get(p), boom);
    c.fail_new = false;
    void *obj = goconc_pool_get(p);
    CHECK(obj != nullptr);
    c.fail_reset = true;
    CHECK_THROWS(goconc_pool_put(p, obj), boom);
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    CHECK(goconc_pool_stats_get(p, &st) == GOCONC_OK);
    CHECK(st.idle == 0 && st.puts == 0 && st.news == 1);
    c.fail_reset = false;
    goconc_pool_put(p, obj); // still the caller's: give it back for real
    void *again = nullptr;
    std::thread t([&] {
        again = goconc_pool_get(p);
        goconc_pool_put(p, again);
    });
    t.join();
    CHECK(again != nullptr);
    CHECK(goconc_pool_stats_get(p, &st) == GOCONC_OK && st.puts == 2);
    goconc_pool_free(p);
    CHECK(c.live.load() == 0);
}

int main()
{
    return harness::run_all();
}
