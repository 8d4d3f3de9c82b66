/* SPDX-License-Identifier: MIT */
/*
 * goconc/once.h - Go's sync.Once, with a retrying variant.
 *
 * A goconc_once is caller-owned storage (static, stack, heap, or shared
 * memory of one process) needing no initialisation beyond zero bytes and
 * no destructor.  Every call may run on the same once from any number of
 * threads at once.  The function a once runs may use the library (other
 * onces included), but: re-entering the same once on the same thread is
 * GOCONC_EDEADLK; goconc_synchronize() and goconc_barrier() return
 * GOCONC_EDEADLK inside it; and no deferred callback runs on its thread
 * while it runs.  It may end by an exception (C++, or a Rust panic
 * through "C-unwind") or a thread cancellation: the once is then left
 * not done, a waiting or later caller runs its own fn, and the exception
 * goes on to the caller (std::call_once's rule).  A longjmp out of it is
 * never allowed: it leaves the once running forever, and every caller
 * then sleeps forever.  After fork(), a once another thread was running
 * is unusable in the child.
 */
#ifndef GOCONC_ONCE_H
#define GOCONC_ONCE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * 16 bytes, 8-aligned; all-zero bytes = not done.  Layout (ABI, used by the
 * inline done-check): opaque[0] is the state word and equals
 * GOCONC_ONCE_DONE_ once fn has returned (published with a release store);
 * opaque[1] is reserved and stays zero.
 */
typedef struct goconc_once { uint64_t opaque[2]; } goconc_once;
#define GOCONC_ONCE_INIT {{0, 0}}
#define GOCONC_ONCE_DONE_ 1u

/**
 * Run fn(ctx) exactly once per @p o: the first caller runs it; concurrent
 * callers sleep (no spinning) until it has returned; every caller returns
 * after fn returned and sees its effects (release/acquire).  Once done, a
 * call is one acquire load.
 *
 * @return GOCONC_OK (fn has run, by this or another call); GOCONC_EINVAL
 *         for a NULL o or fn; GOCONC_EDEADLK if fn (directly or through
 *         other onces) re-enters the same once on the same thread.
 */
GOCONC_API int goconc_once_do(goconc_once *o, void (*fn)(void *ctx), void *ctx) GOCONC_WARN_UNUSED;

/**
 * Like goconc_once_do(), but fn may fail: a non-zero return leaves @p o not
 * done and is returned unchanged; waiting callers wake and one of them
 * runs its own fn next.  Choose failure values other than GOCONC_EINVAL
 * and GOCONC_EDEADLK to tell them apart from the library's.
 *
 * @return GOCONC_OK once done (by this or an earlier call); fn's non-zero
 *         return (not done, retry later); GOCONC_EINVAL for a NULL o or
 *         fn; GOCONC_EDEADLK if fn re-enters the same once on the same
 *         thread.
 */
GOCONC_API int goconc_once_try(goconc_once *o, int (*fn)(void *ctx), void *ctx) GOCONC_WARN_UNUSED;

/**
 * 1 when @p o is done (fn has returned, and its effects are visible to the
 * caller: one acquire load), else 0 (also for NULL and while fn runs).
 * Never blocks.  An inline version replaces the call unless
 * GOCONC_NO_INLINE is defined.
 */
GOCONC_API int goconc_once_done(const goconc_once *o);

#if defined(__GNUC__) && (!defined(GOCONC_NO_INLINE) || defined(GOCONC_BUILDING))
static inline int goconc_once_done_inline_(const goconc_once *o)
{
    /* Acquire pairs with the release store of DONE after fn returned. */
    return o != NULL &&
           __atomic_load_n(&o->opaque[0], __ATOMIC_ACQUIRE) == GOCONC_ONCE_DONE_;
}
#if !defined(GOCONC_NO_INLINE) && !defined(GOCONC_BUILDING)
#define goconc_once_done(o) goconc_once_done_inline_(o)
#endif
#endif

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_ONCE_H */
