/* SPDX-License-Identifier: MIT */
/*
 * perturb.h - schedule perturbation for torture builds (-Dperturb=true).
 *
 * GOCONC_PERTURB_POINT() marks a race window: a point where another
 * thread acting between this thread's two steps (reserve and publish,
 * copy and mark moved, unpublish and retire, ...) is legal but rare on an
 * idle machine.  In a perturb build each point yields the CPU now and
 * then and, more rarely, sleeps a few microseconds, so the windows the
 * design says are safe are held open long enough for the torture
 * (tests/torture.c) to drive other threads through them.  In every other
 * build the macro is empty and costs nothing.
 *
 * The decision comes from a per-thread xorshift generator (one per
 * translation unit that uses the macro, which is fine: only the mix
 * matters), seeded from the thread's stack address so threads differ.
 * Rates: 1 in 16 points yields, 1 in 256 sleeps 1..64 us.
 */
#ifndef GOCONC_PERTURB_H
#define GOCONC_PERTURB_H

#if defined(GOCONC_PERTURB) && GOCONC_PERTURB

#include <sched.h>
#include <stdint.h>
#include <time.h>

static _Thread_local uint64_t gc_perturb_state;

static inline void gc_perturb_point(void)
{
    uint64_t x = gc_perturb_state;
    if (x == 0) {
        /* A stack address differs between live threads; the constant
         * keeps the state non-zero. */
        x = (uint64_t)(uintptr_t)&x * 0x9e3779b97f4a7c15ull | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    gc_perturb_state = x;
    if ((x & 0xFF) == 0) {
        struct timespec ts = { 0, (long)(1 + (x >> 8) % 64) * 1000L };
        nanosleep(&ts, NULL);
    } else if ((x & 0x0F) == 0) {
        sched_yield();
    }
}

#define GOCONC_PERTURB_POINT() gc_perturb_point()

#else

#define GOCONC_PERTURB_POINT() ((void)0)

#endif

#endif /* GOCONC_PERTURB_H */
