/* SPDX-License-Identifier: MIT */
/*
 * atomics.h - the library's only window onto libatomic_ops.
 *
 * Every access that can race with a writer goes through these wrappers, so
 * ThreadSanitizer sees each one as atomic (on GCC/Clang libatomic_ops
 * lowers them to __atomic builtins).  Words are AO_t (pointer-sized);
 * pointers travel as AO_t.  The suffix names the ordering; callers name the
 * access each acquire/release pairs with.
 */
#ifndef GOCONC_ATOMICS_H
#define GOCONC_ATOMICS_H

#include <atomic_ops.h>
#include <stddef.h>

#include "goconc/common.h"

typedef volatile AO_t atword;

static inline size_t at_load(const atword *p) { return AO_load(p); }
static inline size_t at_load_acq(const atword *p) { return AO_load_acquire(p); }
static inline void at_store(atword *p, size_t v) { AO_store(p, v); }
static inline void at_store_rel(atword *p, size_t v) { AO_store_release(p, v); }

/*
 * Byte i (bits 8i..8i+7) of *p := v, the other bytes untouched and not
 * read: a store that needs no load of the word, so it cannot wait on a
 * cache miss.  Loads of the whole word see each byte old or new.
 */
static inline void at_store_byte(atword *p, unsigned i, unsigned char v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    i = (unsigned)sizeof(AO_t) - 1 - i;
#endif
    AO_char_store((volatile unsigned char *)p + i, v);
}

/* Full-barrier read-modify-writes. */
static inline size_t at_fetch_add(atword *p, size_t v) { return AO_fetch_and_add_full(p, v); }
static inline size_t at_fetch_sub(atword *p, size_t v) { return AO_fetch_and_add_full(p, (AO_t)0 - v); }
static inline int at_cas(atword *p, size_t old, size_t nv)
{
    return AO_compare_and_swap_full(p, old, nv);
}
/* Returns the value seen; equal to old on success. */
static inline size_t at_cas_val(atword *p, size_t old, size_t nv)
{
    return AO_fetch_compare_and_swap_full(p, old, nv);
}
static inline size_t at_xchg(atword *p, size_t nv)
{
    size_t old = at_load(p);
    size_t seen;
    while ((seen = at_cas_val(p, old, nv)) != old)
        old = seen;
    return old;
}
#ifdef GOCONC_TSAN_
/* ThreadSanitizer models no fences (and warns on them): a seq_cst
 * read-modify-write orders the same accesses in a way it understands. */
static atword at_fence_word;
static inline void at_fence(void) { (void)AO_fetch_and_add_full(&at_fence_word, 0); }
#else
static inline void at_fence(void) { AO_nop_full(); }
#endif

/* Pointer views of the same operations. */
static inline void *at_loadp(const atword *p) { return (void *)AO_load(p); }
static inline void *at_loadp_acq(const atword *p) { return (void *)AO_load_acquire(p); }
static inline void at_storep(atword *p, const void *v) { AO_store(p, (AO_t)v); }
static inline void at_storep_rel(atword *p, const void *v) { AO_store_release(p, (AO_t)v); }
static inline int at_casp(atword *p, const void *old, const void *nv)
{
    return AO_compare_and_swap_full(p, (AO_t)old, (AO_t)nv);
}

/*
 * One step of a spin-wait: tells the core (and an SMT sibling) that this
 * thread only polls, so the holder of the line runs undisturbed.
 */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#else
    __asm__ volatile("" ::: "memory");
#endif
}

/*
 * The library's one way to wait for another thread (a lock holder, a
 * reader, a collector).  Call gc_backoff(&round) after each failed poll,
 * round starting at 0.  Rounds 0..7 spin 1, 2, .. 128 pauses: a holder that
 * runs for nanoseconds keeps its cache line instead of losing it to every
 * poll.  Rounds 8..15 yield the CPU (the holder may be preempted: two
 * cores here).  Later rounds sleep 1 us doubling to ~1 ms (a grace period
 * that waits on a stalled reader).  core/sys.c.
 */
void gc_backoff(unsigned *round);

#define GC_CACHELINE 64
/* Padding to two lines: the adjacent-line prefetcher pairs lines. */
#define GC_PAD 128

#endif /* GOCONC_ATOMICS_H */
