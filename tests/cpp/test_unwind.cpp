// test_unwind.cpp - C++ exceptions thrown by callbacks of the C API that
// the library unwinds through cleanly (built with -fexceptions): the
// object is usable afterwards from this thread and from another.  Today:
// goconc_once_do and goconc_once_try (doc/once.md).
// Statuses are checked where they matter; CHECK_THROWS drops them.
#define GOCONC_NO_WARN_UNUSED
#include "goconc.h"
#include "harness.hpp"

#include <atomic>
#include <chrono>
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

int main()
{
    return harness::run_all();
}
