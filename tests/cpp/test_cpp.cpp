/* SPDX-License-Identifier: MIT */
// test_cpp.cpp - unit tests of goconc.hpp: every class, the error
// mapping, and a throw from every C++ callback the wrapper accepts,
// after which the object is used again from this thread and another.
#include "goconc.hpp"
#include "harness.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

struct boom {
    int n;
};

// Runs fn on a new thread and joins it: "used from another thread".
template <class F>
void on_other_thread(F fn)
{
    std::thread t(fn);
    t.join();
}

// True when the calling thread is outside every read section: only
// there may goconc::synchronize() wait (inside, it throws EDEADLK).
bool outside_read_sections()
{
    try {
        goconc::synchronize();
        return true;
    } catch (const goconc::error &e) {
        return e.status() != GOCONC_EDEADLK;
    }
}

std::atomic<int> live_objects{0};

struct counted {
    int v;
    explicit counted(int x = 0) : v(x) { live_objects.fetch_add(1); }
    counted(const counted &) = delete;
    counted &operator=(const counted &) = delete;
    ~counted() { live_objects.fetch_sub(1); }
};

} // namespace

// ------------------------------------------------------------ errors

TEST(error_mapping)
{
    CHECK_THROWS(goconc::slice<int>(3, 1), std::out_of_range);
    goconc::slice<int> s(2);
    CHECK_THROWS(s.get(2), std::out_of_range);
    CHECK_THROWS(s.set(5, 1), std::out_of_range);
    goconc::map<std::uint64_t, std::uint64_t>::options o;
    o.shards = 3;
    CHECK_THROWS((goconc::map<std::uint64_t, std::uint64_t>(o)), std::invalid_argument);
    goconc::value<int> v;
    CHECK_THROWS(v.store(nullptr), std::invalid_argument);
    {
        goconc::read_guard g;
        CHECK_THROWS(goconc::synchronize(), goconc::error);
        try {
            goconc::barrier();
            CHECK(false);
        } catch (const goconc::error &e) {
            CHECK(e.status() == GOCONC_EDEADLK);
            CHECK(e.code().category() == goconc::category());
            CHECK(e.code().message() == goconc_strerror(GOCONC_EDEADLK));
        }
    }
    goconc::synchronize();
    goconc::barrier();
}

TEST(read_guard_nests)
{
    {
        goconc::read_guard a;
        {
            goconc::read_guard b;
        }
        CHECK(!outside_read_sections());
    }
    CHECK(outside_read_sections());
}

// --------------------------------------------------------------- map

TEST(map_u64_basics)
{
    goconc::map<std::uint64_t, std::uint64_t> m;
    CHECK(m.empty());
    CHECK(!m.load(1));
    m.store(1, 10);
    CHECK(m.load(1) == std::optional<std::uint64_t>(10));
    CHECK(m.contains(1) && !m.contains(2));
    {
        goconc::read_guard g;
        CHECK(m.peek(g, 1) == std::optional<std::uint64_t>(10));
        CHECK(!m.peek(g, 2));
    }
    auto [v, loaded] = m.load_or_store(1, 11);
    CHECK(v == 10 && loaded);
    auto [v2, loaded2] = m.load_or_store(2, 20);
    CHECK(v2 == 20 && !loaded2);
    CHECK(m.swap(1, 12) == std::optional<std::uint64_t>(10));
    CHECK(!m.swap(3, 30));
    CHECK(m.size() == 3);
    CHECK(!m.compare_and_swap(1, 10, 13));
    CHECK(m.compare_and_swap(1, 12, 13));
    CHECK(!m.compare_and_swap(9, 0, 1));
    CHECK(m.load(1) == std::optional<std::uint64_t>(13));
    CHECK(!m.compare_and_delete(1, 12));
    CHECK(m.compare_and_delete(1, 13));
    CHECK(!m.contains(1));
    CHECK(m.load_and_delete(2) == std::optional<std::uint64_t>(20));
    CHECK(!m.load_and_delete(2));
    CHECK(m.remove(3));
    CHECK(!m.remove(3));
    CHECK(m.empty());
}

TEST(map_u64_update)
{
    using map_t = goconc::map<std::uint64_t, std::uint64_t>;
    map_t m;
    auto incr = [](std::optional<std::uint64_t> old) -> map_t::result {
        return old ? *old + 1 : 1;
    };
    for (int i = 0; i < 5; i++)
        m.update(7, incr);
    CHECK(m.load(7) == std::optional<std::uint64_t>(5));
    m.update(7, [](const std::optional<std::uint64_t> &) { return goconc::keep; });
    CHECK(m.load(7) == std::optional<std::uint64_t>(5));
    m.update(7, [](const std::optional<std::uint64_t> &) { return goconc::erase; });
    CHECK(!m.contains(7));
    m.update(8, [](const std::optional<std::uint64_t> &) { return goconc::erase; });
    CHECK(m.empty());
}

TEST(map_range_reserve_stats_clear_move)
{
    goconc::map<std::uint32_t, std::uint64_t> m;
    m.reserve(1000);
    for (std::uint32_t i = 0; i < 1000; i++)
        m.store(i, std::uint64_t(i) * 3);
    std::vector<int> seen(1000, 0);
    bool bad = false;
    CHECK(m.range([&](std::uint32_t k, std::uint64_t v) {
        if (k >= 1000 || v != std::uint64_t(k) * 3)
            bad = true;
        else
            seen[k]++;
    }));
    CHECK(!bad);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
    int visits = 0;
    CHECK(!m.range([&](std::uint32_t, std::uint64_t) { return ++visits < 10; }));
    CHECK(visits == 10);
    goconc_map_stats st = m.stats();
    CHECK(st.len == 1000 && st.shards > 0);
    (void)m.maintain(1u << 20);
    goconc::map<std::uint32_t, std::uint64_t> m2(std::move(m));
    CHECK(m2.size() == 1000);
    CHECK(m.native_handle() == nullptr);
    CHECK_THROWS(m.store(1, 1), std::invalid_argument);
    m = std::move(m2);
    CHECK(m.size() == 1000);
    m.clear();
    CHECK(m.empty());
}

TEST(map_strings)
{
    goconc::map<std::string, std::string> m;
    const std::string big(1000, 'x');
    m.store("a", "alpha");
    m.store(std::string("b"), big);
    m.store("", "");
    CHECK(m.load("a") == std::optional<std::string>("alpha"));
    CHECK(m.load("b") == std::optional<std::string>(big));
    CHECK(m.load("") == std::optional<std::string>(""));
    CHECK(m.contains("") && !m.contains("zz"));
    {
        goconc::read_guard g;
        std::optional<std::string_view> p = m.peek(g, "a");
        CHECK(p && *p == "alpha");
        // The borrowed bytes outlive an overwrite while the guard lasts.
        m.store("a", "replaced");
        CHECK(p && *p == "alpha");
    }
    // Values longer than the small buffer take the resize path.
    auto r = m.load_or_store("b", "other");
    CHECK(r.first == big && r.second);
    auto r2 = m.load_or_store("c", "gamma");
    CHECK(r2.first == "gamma" && !r2.second);
    CHECK(m.swap("b", "short") == std::optional<std::string>(big));
    CHECK(m.swap("d", big) == std::nullopt);
    CHECK(m.load_and_delete("d") == std::optional<std::string>(big));
    CHECK(m.compare_and_swap("c", "gamma", big));
    CHECK(!m.compare_and_swap("c", "gamma", "x"));
    CHECK(m.compare_and_delete("c", big));
    m.update("n", [](std::optional<std::string_view> old) -> goconc::update_result<std::string> {
        return std::string(old ? *old : "") + "+";
    });
    m.update("n", [](std::optional<std::string_view> old) -> goconc::update_result<std::string> {
        return std::string(old ? *old : "") + "+";
    });
    CHECK(m.load("n") == std::optional<std::string>("++"));
    std::set<std::string> keys;
    (void)m.range([&](std::string_view k, std::string_view) { keys.insert(std::string(k)); });
    CHECK((keys == std::set<std::string>{"", "a", "b", "n"}));
}

TEST(map_mixed_types)
{
    goconc::map<std::string, std::uint64_t> byname;
    byname.store("x", 1);
    CHECK(byname.load("x") == std::optional<std::uint64_t>(1));
    goconc::map<std::uint64_t, std::string> byid;
    byid.store(1, "one");
    CHECK(byid.load(1) == std::optional<std::string>("one"));
    // A value of the wrong size (stored through C) is refused, not torn.
    goconc::map<std::uint64_t, std::uint32_t> narrow;
    std::uint64_t k = 5;
    std::uint8_t odd = 1;
    CHECK(goconc_map_store(narrow.native_handle(), &k, sizeof k, &odd, 1) == GOCONC_OK);
    CHECK_THROWS(narrow.load(5), std::out_of_range);
    std::uint64_t wide = 7; // longer than V: GOCONC_ERANGE
    CHECK(goconc_map_store(narrow.native_handle(), &k, sizeof k, &wide, sizeof wide) == GOCONC_OK);
    CHECK_THROWS(narrow.load(5), std::out_of_range);
    CHECK_THROWS(narrow.load_and_delete(5), std::out_of_range);
    CHECK(narrow.contains(5) && !narrow.load(6));
}

// options::no_peek: the default for a trivially copyable V (the C map
// refuses goconc_map_peek, overwrites happen in place, every read still
// sees its value), false on request; for std::string values, load copies
// and peek throws on such a map.  Moves and swaps keep each map's kind.
TEST(map_no_peek)
{
    using map_t = goconc::map<std::uint64_t, std::uint64_t>;
    map_t m;
    const void *p;
    std::size_t n;
    std::uint64_t k = 1;
    m.store(1, 10);
    CHECK(goconc_map_peek(m.native_handle(), &k, sizeof k, &p, &n) == GOCONC_EINVAL);
    for (std::uint64_t i = 0; i < 100; i++)
        m.store(1, i);
    CHECK(m.load(1) == std::optional<std::uint64_t>(99));
    {
        goconc::read_guard g;
        CHECK(m.peek(g, 1) == std::optional<std::uint64_t>(99) && !m.peek(g, 2));
    }
    m.update(1, [](std::optional<std::uint64_t> v) -> map_t::result { return *v + 1; });
    CHECK(m.swap(1, 7) == std::optional<std::uint64_t>(100) && m.size() == 1);

    map_t::options lending;
    lending.no_peek = false;
    map_t l(lending);
    l.store(1, 10);
    {
        goconc::read_guard g;
        CHECK(goconc_map_peek(l.native_handle(), &k, sizeof k, &p, &n) == GOCONC_OK &&
              n == sizeof k);
    }
    l.swap(m); // m lends now, l does not
    CHECK(goconc_map_peek(l.native_handle(), &k, sizeof k, &p, &n) == GOCONC_EINVAL);

    using smap_t = goconc::map<std::uint64_t, std::string>;
    smap_t::options so;
    CHECK(!so.no_peek);
    so.no_peek = true;
    smap_t s(so);
    const std::string big(1000, 'y');
    s.store(1, "short");
    s.store(2, big);
    CHECK(s.load(1) == std::optional<std::string>("short"));
    CHECK(s.load(2) == std::optional<std::string>(big) && !s.load(3));
    {
        goconc::read_guard g;
        CHECK_THROWS((void)s.peek(g, 1), std::invalid_argument);
    }
    smap_t moved(std::move(s));
    CHECK(moved.load(2) == std::optional<std::string>(big));
    smap_t lent;
    lent = std::move(moved);
    CHECK(lent.load(1) == std::optional<std::string>("short"));
    CHECK_THROWS((void)moved.load(1), std::invalid_argument);
}

// A write to the map from its own update function is EDEADLK in C: the
// wrapper's store throws goconc::error inside fn, the trampoline catches
// it, the update aborts, and the error comes out of update.
TEST(map_update_reentry_is_error)
{
    using map_t = goconc::map<std::uint64_t, std::uint64_t>;
    map_t m;
    m.store(1, 1);
    try {
        m.update(1, [&](std::optional<std::uint64_t>) -> map_t::result {
            m.store(2, 2);
            return 5;
        });
        CHECK(false);
    } catch (const goconc::error &e) {
        CHECK(e.status() == GOCONC_EDEADLK);
    }
    CHECK(m.load(1) == std::optional<std::uint64_t>(1));
    CHECK(!m.contains(2));
}

// -------------------------------------------------------------- value

TEST(value_store_load_acquire)
{
    int base = live_objects.load();
    {
        goconc::value<counted> v;
        {
            goconc::read_guard g;
            CHECK(v.load(g) == nullptr);
        }
        CHECK(!v.acquire());
        v.emplace(1);
        goconc::value<counted>::ref r = v.acquire();
        CHECK(r && r->v == 1 && (*r).v == 1);
        v.store(std::make_unique<counted>(2));
        {
            goconc::read_guard g;
            CHECK(v.load(g) != nullptr && v.load(g)->v == 2);
        }
        // The replaced object lives while the reference does.
        CHECK(r->v == 1);
        goconc::value<counted>::ref old = v.swap(std::make_unique<counted>(3));
        CHECK(old && old->v == 2);
        std::unique_ptr<counted> mine = std::make_unique<counted>(4);
        CHECK(!v.compare_and_swap(old.get(), mine));
        CHECK(mine != nullptr);
        const counted *cur;
        {
            goconc::read_guard g;
            cur = v.load(g);
        }
        CHECK(v.compare_and_swap(cur, mine));
        CHECK(mine == nullptr);
        std::shared_ptr<const counted> s1 = std::move(r).share();
        std::shared_ptr<const counted> s2 = s1;
        CHECK(!r && s1->v == 1 && s2.get() == s1.get());
        goconc::value<counted> moved(std::move(v));
        CHECK(v.native_handle() == nullptr && moved.acquire()->v == 4);
    }
    goconc::barrier();
    CHECK(live_objects.load() == base);
}

TEST(value_ref_copies)
{
    using ref = goconc::value<counted>::ref;
    static_assert(std::is_nothrow_copy_constructible_v<ref>);
    static_assert(std::is_nothrow_copy_assignable_v<ref>);
    static_assert(std::is_nothrow_move_constructible_v<ref>);
    static_assert(std::is_nothrow_move_assignable_v<ref>);
    int base = live_objects.load();
    ref empty, empty_copy(empty);
    CHECK(!empty_copy);
    {
        auto v = std::make_unique<goconc::value<counted>>(std::make_unique<counted>(1));
        ref a = v->acquire();
        ref b(a);
        ref c;
        c = b;
        ref &same = c;
        c = same; // self-assignment keeps the count
        CHECK(a && b && c && a.get() == b.get() && c.get() == a.get());
        ref moved(std::move(b));
        CHECK(!b && moved.get() == a.get());
        v->emplace(2);
        v.reset(); // the value goes; object 1 lives while a copy does
        ref from_thread;
        on_other_thread([&] { from_thread = c; });
        a.reset();
        c = empty; // drops c's count, takes nothing
        moved.reset();
        CHECK(!a && !c);
        goconc::barrier();
        CHECK(live_objects.load() == base + 1 && from_thread->v == 1);
        from_thread = ref();
        goconc::barrier();
        CHECK(live_objects.load() == base);
    }
}

// --------------------------------------------------------------- once

TEST(once_runs_once_with_args)
{
    goconc::once o;
    int runs = 0;
    auto add = [&](int a, int b) { runs += a + b; };
    CHECK(!o.done());
    o.call(add, 1, 2);
    o.call(add, 10, 20);
    CHECK(runs == 3 && o.done());
    static goconc::once static_once; // constant-initialised
    static_once.call([] {});
    CHECK(static_once.done());
}

TEST(once_reentry_is_error)
{
    goconc::once o;
    try {
        o.call([&] { o.call([] {}); });
        CHECK(false);
    } catch (const goconc::error &e) {
        CHECK(e.status() == GOCONC_EDEADLK);
    }
    // The inner error left the outer call by exception: not done, usable.
    CHECK(!o.done());
    int runs = 0;
    o.call([&] { runs++; });
    CHECK(runs == 1 && o.done());
}

TEST(once_concurrent_callers)
{
    goconc::once o;
    std::atomic<int> runs{0};
    std::vector<std::thread> ts;
    std::atomic<int> saw_done{0};
    for (int i = 0; i < 8; i++)
        ts.emplace_back([&] {
            o.call([&] { runs.fetch_add(1); });
            saw_done.fetch_add(o.done() ? 1 : 0);
        });
    for (auto &t : ts)
        t.join();
    CHECK(runs.load() == 1 && saw_done.load() == 8);
}

TEST(once_value_lazy)
{
    goconc::once_value<std::string> ov;
    CHECK(ov.get_if() == nullptr);
    const std::string &s = ov.get([](int n) { return std::string(std::size_t(n), 'q'); }, 3);
    CHECK(s == "qqq");
    CHECK(&ov.get([] { return std::string("no"); }) == &s);
    CHECK(ov.get_if() == &s);
}

// -------------------------------------------------------------- slice

TEST(slice_basics)
{
    goconc::slice<std::uint64_t> s(0, 4);
    CHECK(s.empty() && s.capacity() == 4);
    for (std::uint64_t i = 0; i < 10; i++)
        CHECK(s.append(i * i) == i);
    CHECK(s.size() == 10 && s.get(3) == 9);
    s.set(3, 42);
    CHECK(s.get(3) == 42);
    std::uint64_t more[3] = {100, 101, 102};
    CHECK(s.append(more, 3) == 10);
    goconc::slice<std::uint64_t> sub = s.reslice(2, 5);
    CHECK(sub.size() == 3 && sub.get(1) == 42);
    sub.set(0, 7); // shares storage, as in Go
    CHECK(s.get(2) == 7);
    CHECK_THROWS(s.reslice(5, 2), std::out_of_range);
    CHECK_THROWS(s.reslice(0, 1, s.capacity() + 1), std::out_of_range);
    goconc::slice<std::uint64_t> c = s.clone();
    c.set(0, 999);
    CHECK(s.get(0) == 0 && c.get(0) == 999);
    goconc::slice<std::uint64_t> dst(2);
    CHECK(dst.copy_from(s) == 2 && dst.get(1) == 1);
    goconc::slice<std::uint64_t> moved(std::move(s));
    CHECK(moved.size() == 13 && s.native_handle() == nullptr);
}

TEST(slice_snapshot_is_stable)
{
    goconc::slice<int> s;
    for (int i = 0; i < 5; i++)
        (void)s.append(i);
    goconc::slice<int>::view v = s.snapshot();
    (void)s.append(5);
    s.set(0, 100);
    CHECK(v.size() == 5);
    int want = 0;
    for (int x : v)
        CHECK(x == want++);
    CHECK(v[0] == 0 && v.at(4) == 4);
    CHECK_THROWS(v.at(5), std::out_of_range);
#if defined(__cpp_lib_span)
    std::span<const int> sp = v.span();
    CHECK(sp.size() == 5 && sp[4] == 4);
#endif
    goconc::slice<int>::view v2 = std::move(v);
    CHECK(v2.size() == 5 && v.size() == 0 && v.empty());
    std::vector<int> got;
    CHECK(s.range([&](std::size_t i, int x) { got.push_back(x + int(i) * 0); }));
    CHECK((got == std::vector<int>{100, 1, 2, 3, 4, 5}));
    int visits = 0;
    CHECK(!s.range([&](std::size_t, int) { return ++visits < 2; }));
    CHECK(visits == 2);
}

// --------------------------------------------------------------- pool

TEST(pool_reuses_and_resets)
{
    int base = live_objects.load();
    {
        int resets = 0;
        goconc::pool<counted> p([] { return std::make_unique<counted>(7); },
                                [&](counted &c) { c.v = 0; resets++; });
        counted *first;
        {
            auto h = p.get();
            CHECK(h && h->v == 7);
            h->v = 5;
            first = h.get();
        }
        CHECK(resets == 1);
        auto h2 = p.get();
        CHECK(h2.get() == first && h2->v == 0);
        auto h3 = std::move(h2);
        CHECK(!h2 && h3);
        p.put(std::move(h3));
        CHECK(resets == 2 && !h3);
        std::unique_ptr<counted> kept = p.get().release();
        CHECK(kept && resets == 2);
        goconc_pool_stats st = p.stats();
        CHECK(st.gets == 3 && st.puts == 2); // release() put nothing back
        p.trim();
        p.trim();
        CHECK(p.stats().idle == 0);
    }
    CHECK(live_objects.load() == base);
    goconc::pool<int> plain;
    auto h = plain.get();
    CHECK(h && *h == 0);
}

// ------------------------------------------- callbacks that throw

TEST(throw_from_once)
{
    goconc::once o;
    CHECK_THROWS(o.call([] { throw boom{1}; }), boom);
    CHECK(!o.done());
    int runs = 0;
    o.call([&] { runs++; });
    CHECK(runs == 1 && o.done());

    goconc::once o2;
    CHECK_THROWS(o2.call([] { throw boom{2}; }), boom);
    on_other_thread([&] { o2.call([&] { runs++; }); });
    CHECK(runs == 2 && o2.done());
}

TEST(throw_from_once_value)
{
    goconc::once_value<int> ov;
    CHECK_THROWS(ov.get([]() -> int { throw boom{3}; }), boom);
    CHECK(ov.get_if() == nullptr);
    int got = 0;
    on_other_thread([&] { got = ov.get([] { return 41; }); });
    CHECK(got == 41 && ov.get([] { return 0; }) == 41);
}

TEST(throw_from_map_update)
{
    using map_t = goconc::map<std::uint64_t, std::uint64_t>;
    map_t::options o;
    o.shards = 1; // every key behind the one lock the throw must release
    map_t m(o);
    m.store(1, 10);
    CHECK_THROWS(m.update(1, [](std::optional<std::uint64_t>) -> map_t::result { throw boom{4}; }),
                 boom);
    CHECK_THROWS(m.update(2, [](std::optional<std::uint64_t>) -> map_t::result { throw boom{5}; }),
                 boom);
    CHECK(m.load(1) == std::optional<std::uint64_t>(10) && !m.contains(2) && m.size() == 1);
    CHECK(outside_read_sections());
    m.update(1, [](std::optional<std::uint64_t> v) -> map_t::result { return *v + 1; });
    m.store(3, 30);
    on_other_thread([&] {
        m.update(1, [](std::optional<std::uint64_t> v) -> map_t::result { return *v + 1; });
        m.store(4, 40);
    });
    CHECK(m.load(1) == std::optional<std::uint64_t>(12) && m.size() == 3);
}

TEST(throw_from_map_range)
{
    goconc::map<std::string, std::string> m;
    for (int i = 0; i < 100; i++)
        m.store(std::to_string(i), std::string(std::size_t(i), 'v'));
    int visits = 0;
    CHECK_THROWS(m.range([&](std::string_view, std::string_view) {
                     if (++visits == 10)
                         throw boom{6};
                 }),
                 boom);
    CHECK(visits == 10);
    // The walk's read section was left: synchronize may wait again.
    CHECK(outside_read_sections());
    m.store("new", "x");
    std::size_t n = 0;
    CHECK(m.range([&](std::string_view, std::string_view) { n++; }));
    CHECK(n == 101);
    std::size_t n2 = 0;
    on_other_thread([&] {
        (void)m.range([&](std::string_view, std::string_view) { n2++; });
        m.store("other", "y");
    });
    CHECK(n2 == 101 && m.size() == 102);
}

TEST(throw_from_slice_range)
{
    goconc::slice<int> s;
    for (int i = 0; i < 50; i++)
        (void)s.append(i);
    CHECK_THROWS(s.range([](std::size_t i, int) {
                     if (i == 20)
                         throw boom{7};
                 }),
                 boom);
    // The snapshot range took was released: a set copies nothing, and
    // the slice is usable here and on another thread.
    s.set(0, -1);
    CHECK(s.get(0) == -1);
    std::size_t seen = 0;
    on_other_thread([&] {
        (void)s.range([&](std::size_t, int) { seen++; });
        (void)s.append(50);
    });
    CHECK(seen == 50 && s.size() == 51);
}

TEST(throw_from_pool_callbacks)
{
    int base = live_objects.load();
    {
        bool fail_make = true, fail_reset = false;
        goconc::pool<counted> p(
            [&] {
                if (fail_make)
                    throw boom{8};
                return std::make_unique<counted>(1);
            },
            [&](counted &) {
                if (fail_reset)
                    throw boom{9};
            });
        CHECK_THROWS(p.get(), boom);
        fail_make = false;
        auto h = p.get();
        CHECK(h && h->v == 1);
        fail_reset = true;
        CHECK_THROWS(p.put(std::move(h)), boom);
        CHECK(!h);
        // The object whose reset threw was deleted, not pooled.
        CHECK(live_objects.load() == base);
        {
            auto h2 = p.get(); // the destructor drops reset's throw
        }
        CHECK(live_objects.load() == base);
        fail_reset = false;
        on_other_thread([&] {
            auto h3 = p.get();
            h3->v = 2;
        });
        goconc_pool_stats st = p.stats();
        CHECK(st.gets == 4 && st.puts == 1); // a failed reset puts nothing
    }
    CHECK(live_objects.load() == base);
}

int main()
{
    return harness::run_all();
}
