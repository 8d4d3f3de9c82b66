/* SPDX-License-Identifier: MIT */
// harness.hpp - a minimal test harness for the C++ tests: TEST(name)
// registers a function, CHECK(cond) records a failure without stopping
// the test (so one run reports every broken check), and main() ends with
// "N passed, N failed" and a non-zero exit when anything failed or when
// fewer tests ran than were registered.  CHECK is for the main thread
// only: worker threads collect what they saw, the test checks it after
// join (the rule of tests/*.c).
#ifndef GOCONC_TEST_HARNESS_HPP
#define GOCONC_TEST_HARNESS_HPP

#include <cstdio>
#include <exception>
#include <vector>

namespace harness {

struct test_case {
    const char *name;
    void (*fn)();
};

inline std::vector<test_case> &registry()
{
    static std::vector<test_case> tests;
    return tests;
}

inline int &failures()
{
    static int n = 0;
    return n;
}

struct registrar {
    registrar(const char *name, void (*fn)()) { registry().push_back({name, fn}); }
};

inline void fail(const char *file, int line, const char *what)
{
    std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
    ++failures();
}

// Runs every test; a test fails if a CHECK failed or it threw.
inline int run_all()
{
    int passed = 0, failed = 0;
    for (const test_case &t : registry()) {
        int before = failures();
        try {
            t.fn();
        } catch (const std::exception &e) {
            std::fprintf(stderr, "%s: unexpected exception: %s\n", t.name, e.what());
            ++failures();
        } catch (...) {
            std::fprintf(stderr, "%s: unexpected exception\n", t.name);
            ++failures();
        }
        if (failures() == before) {
            ++passed;
        } else {
            ++failed;
            std::fprintf(stderr, "FAIL %s\n", t.name);
        }
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 && passed == static_cast<int>(registry().size()) ? 0 : 1;
}

} // namespace harness

#define TEST(name)                                                    \
    static void name();                                               \
    static const harness::registrar name##_registrar(#name, &name);   \
    static void name()

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond))                                                  \
            harness::fail(__FILE__, __LINE__, #cond);                 \
    } while (0)

// CHECK_THROWS(expr, Exception): expr must throw exactly that type (or a
// type derived from it).
#define CHECK_THROWS(expr, Exc)                                       \
    do {                                                              \
        bool caught_ = false;                                         \
        try {                                                         \
            (void)(expr);                                             \
        } catch (const Exc &) {                                       \
            caught_ = true;                                           \
        } catch (...) {                                               \
        }                                                             \
        if (!caught_)                                                 \
            harness::fail(__FILE__, __LINE__, #expr " throws " #Exc); \
    } while (0)

#endif
