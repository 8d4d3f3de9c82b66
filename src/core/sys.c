/* SPDX-License-Identifier: MIT */
/*
 * sys.c - membarrier, getrandom and the backoff step (sys.h, atomics.h).
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "core/sys.h"

/* MB_UNKNOWN until the first setup; written again in a fork child (one
 * thread there).  Setting up twice is harmless: registering is idempotent. */
enum { MB_UNKNOWN = 0, MB_NO, MB_YES };
static atword membarrier_state;

static long sys_membarrier(int cmd)
{
    return syscall(__NR_membarrier, cmd, 0, 0);
}

void gc_membarrier_setup(void)
{
    long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);
    int ok = cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
             sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
    at_store(&membarrier_state, ok ? MB_YES : MB_NO);
}

int gc_membarrier_ok(void)
{
    if (GC_UNLIKELY(at_load(&membarrier_state) == MB_UNKNOWN))
        gc_membarrier_setup(); /* a caller ahead of the constructors */
    return at_load(&membarrier_state) == MB_YES;
}

int gc_membarrier(void)
{
    if (gc_membarrier_ok() &&
        sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return 0;
    return -1;
}

uint64_t gc_random_seed(void)
{
    uint64_t seed = 0;
    struct timespec ts;
    ssize_t r;

    do
        r = getrandom(&seed, sizeof seed, GRND_NONBLOCK);
    while (r < 0 && errno == EINTR);
    if (r == (ssize_t)sizeof seed && seed != 0)
        return seed;
    /* No entropy yet (early boot) or seccomp: still different per map. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
    seed ^= (uint64_t)(uintptr_t)&seed;
    seed ^= seed >> 31;
    seed *= 0xbf58476d1ce4e5b9ull;
    return seed ? seed : 1;
}

#define SPIN_ROUNDS 8
#define YIELD_ROUNDS 16

void gc_backoff(unsigned *round)
{
    unsigned r = *round, i;

    if (r < SPIN_ROUNDS) {
        for (i = 0; i < (1u << r); i++)
            cpu_relax();
    } else if (r < YIELD_ROUNDS) {
        sched_yield();
    } else {
        unsigned shift = r - YIELD_ROUNDS < 10 ? r - YIELD_ROUNDS : 10;
        struct timespec ts = { 0, 1000L << shift }; /* 1 us .. ~1 ms */
        nanosleep(&ts, NULL);
    }
    if (r < YIELD_ROUNDS + 10)
        *round = r + 1;
}
