/* SPDX-License-Identifier: MIT */
/*
 * sys.h - the library's few system calls, in one place: membarrier (the
 * reclamation core's and the slice lock's heavy barrier) and getrandom
 * (the map's hash seed).
 *
 * The fork question, answered once: membarrier registration belongs to
 * the process image (exec drops it).  Whether a fork child inherits it is
 * not something the library relies on: the child re-runs the setup (from
 * the fork chain, core/thread.c), which registers again or, where that
 * fails (a seccomp filter), reports membarrier unavailable so every user
 * falls back to fences.  A caller that gets an error from
 * gc_membarrier() anyway (a filter installed later) must fall back too.
 */
#ifndef GOCONC_SYS_H
#define GOCONC_SYS_H

#include <stdint.h>

/* Query and register membarrier(PRIVATE_EXPEDITED); sets what
 * gc_membarrier_ok() answers.  At load and in a fork child. */
void gc_membarrier_setup(void);

/* 1 when gc_membarrier() is registered and expected to work. */
int gc_membarrier_ok(void);

/*
 * A full barrier on every running thread of the process (the slow side
 * of an asymmetric fence).  0 on success, -1 when membarrier is not
 * available: the caller then issues its own fence and must assume the
 * other side fences too.
 */
int gc_membarrier(void);

/* 64-bit random seed from the OS (getrandom), with a fallback mix. */
uint64_t gc_random_seed(void);

#endif /* GOCONC_SYS_H */
