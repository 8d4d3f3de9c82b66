/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - what the test programs share: a counting allocator that can
 * fail the Nth allocation, seeds, stress durations, a PRNG, the build's
 * configuration, and a Check runner that runs a suite from one table of
 * its tests and asserts that each of them ran.
 */
#ifndef GOCONC_TESTUTIL_H
#define GOCONC_TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "goconc.h"

/* Install the counting allocator (call first thing in main). */
void tu_alloc_install(void);
/* goconc_set_allocator with the counting allocator again (it stays
 * installed): GOCONC_OK when nothing pins the allocator (no handle,
 * reference or view alive, no destroy pending), GOCONC_EBUSY otherwise. */
int tu_alloc_reinstall(void);
/* Fail the allocation that comes n allocations from now (0 = the next
 * one) and every later one until re-armed; n < 0 = never fail. */
void tu_alloc_fail_after(long n);
/* Fail only the allocation that comes n allocations from now; the ones
 * after it succeed again (a transient failure).  n < 0 = never fail. */
void tu_alloc_fail_once(long n);
/* Refuse every request above max bytes, as a real allocator refuses an
 * impossible size (0 = no limit, the default).  Keeps tests of huge
 * lengths from exhausting the machine or tripping a sanitizer's
 * allocation-size check. */
void tu_alloc_limit(size_t max);
/* Allocations made through the test allocator and not yet freed. */
long tu_alloc_live(void);
/* Allocations attempted so far (failed ones included). */
long tu_alloc_calls(void);
/*
 * Run every pending deferred destroy and bring this thread's reclamation
 * bag to one state whatever came before (a chunk fills at 64 retires;
 * barriers free the rest), so that tu_alloc_live() compared across two
 * settles counts only the objects themselves.  Returns tu_alloc_live().
 */
long tu_settle(void);

/* Seed from GOCONC_SEED or the clock; printed once to stderr. */
uint64_t tu_seed(void);
/* Stress duration in seconds: GOCONC_STRESS_SECONDS, else the build's default. */
double tu_stress_seconds(void);
/* Monotonic clock in seconds. */
double tu_now(void);
/* splitmix64 */
uint64_t tu_rand(uint64_t *state);

/* A status its caller has no use for: a bystander's call whose effect,
 * not its answer, the test is after (goconc's statuses warn if dropped). */
static inline void tu_discard(int status) { (void)status; }

/* Sleep ms milliseconds (restarted on EINTR). */
void tu_sleep_ms(int ms);

/*
 * A thread that sits in a read section, nested `depth` deep (0: registered
 * but outside any section), until released.  Start returns once it is in.
 */
struct tu_holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int depth, inside, leave;
};
void tu_holder_start(struct tu_holder *h, pthread_t *t, int depth);
void tu_holder_release(struct tu_holder *h, pthread_t t);

/* Built with ThreadSanitizer (fork children may not start threads). */
#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif

/* Built with AddressSanitizer (its allocator is not fork-safe). */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/*
 * A suite is one table of its tests (doc/testing.md, "Adding a test"):
 *
 *     int main(void)
 *     {
 *         const struct tu_case cases[] = {
 *             TU_CASE(test_new_free),
 *             TU_LOOP(test_alloc_failure_sweep, OP_NEW, OP_COUNT),
 *         };
 *         tu_alloc_install();
 *         return TU_RUN(cases, .name = "slice", .timeout = 60, .setup = setup);
 *     }
 *
 * Each row becomes a Check test case named after its function, so
 * CK_RUN_CASE=<name> runs that one alone; a TU_LOOP row runs its function
 * once for each _i in [start, end), each in its own process.  TU_RUN
 * counts the tests the table holds and fails unless exactly that many ran
 * and passed, so there is no count to keep by hand, and Check's "100%"
 * for zero tests run cannot pass.  A START_TEST left out of the table is
 * an unused variable (-Wunused-variable; an error with -Dwerror=true).
 *
 * The table is a local array: START_TEST names are pointer variables, not
 * constants, so they cannot initialize a static one.
 */
struct tu_case {
    const char *name;
    const TTest *test;
    int start, end; /* _i runs over [start, end); a plain test is [0, 1) */
};

#define TU_CASE(fn) { #fn, fn, 0, 1 }
#define TU_LOOP(fn, start, end) { #fn, fn, (start), (end) }

/* How a suite's tests run: every field but the fixture is required. */
struct tu_suite {
    const char *name;
    double timeout;       /* seconds, for each test */
    SFun setup, teardown; /* checked fixture, run in each test's process; may be NULL */
};

/* Run @p n rows of @p cases as suite @p suite (CK_NORMAL output), less
 * the rows GOCONC_TEST_SKIP leaves out and, when CK_RUN_CASE names one,
 * every other row.  Fails on a row listed twice, or unless exactly the
 * tests of the rows kept ran and all passed.  Returns the exit status. */
int tu_run_cases(const struct tu_suite *suite, const struct tu_case *cases, size_t n);

/* The number of rows of table @p a; refuses to compile for a pointer. */
#define TU_COUNT(a)                                                         \
    (sizeof(a) / sizeof((a)[0]) +                                           \
     0 * sizeof(struct {                                                    \
         int not_an_array_ : 1 - 2 * __builtin_types_compatible_p(         \
                                     __typeof__(a), __typeof__(&(a)[0]));   \
     }))

/* TU_RUN(cases, .name = ..., .timeout = ...[, .setup = ..., .teardown = ...]) */
#define TU_RUN(cases, ...)                                                  \
    tu_run_cases(&(const struct tu_suite){ __VA_ARGS__ }, (cases), TU_COUNT(cases))

/*
 * Whether GOCONC_TEST_SKIP (comma-separated test names) leaves this test
 * out: for an environment that cannot run it (scripts/cross-aarch64.sh:
 * qemu-user crashes in threads started by a fork child).  Counted, said,
 * and left out of TU_RUN's expected count.
 */
int tu_skipped(const char *name);

/*
 * The build's configuration, the one place tests learn it (doc/testing.md):
 * nonzero in a -Dtiny_shards=true build, whose maps have few shards and
 * one-bucket tables that migrate every few writes.  Test code asks this
 * rather than testing the library's macros itself.
 */
int tu_tiny_shards(void);

#endif
