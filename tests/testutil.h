/* SPDX-License-Identifier: MIT */
/*
 * testutil.h - what the test programs share: a counting allocator that can
 * fail the Nth allocation, seeds, stress durations, a PRNG, and a Check
 * runner that asserts how many tests ran.
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

/*
 * Whether GOCONC_TEST_SKIP (comma-separated test names) leaves this test
 * out: for an environment that cannot run it (scripts/cross-aarch64.sh:
 * qemu-user crashes in threads started by a fork child).  Counted, said,
 * and subtracted from tu_run's expected count.
 */
int tu_skipped(const char *name);

/* One test case per test, so CK_RUN_CASE=<test name> runs just that one
 * (tu_run then reports the smaller count).  Uses a `timeout` in scope. */
#define ADD_TEST(s, fn)                                                     \
    do {                                                                    \
        if (!tu_skipped(#fn)) {                                             \
            TCase *tc_ = tcase_create(#fn);                                 \
            tcase_set_timeout(tc_, timeout);                                \
            tcase_add_test(tc_, fn);                                        \
            suite_add_tcase(s, tc_);                                        \
        }                                                                   \
    } while (0)

/* Run @p s (CK_NORMAL), fail unless exactly @p expected tests ran and all
 * passed.  Returns the process exit status. */
int tu_run(Suite *s, int expected);

#endif
