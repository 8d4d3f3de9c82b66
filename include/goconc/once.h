/*
 * goconc/once.h - Go's sync.Once, with a retrying variant.
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
 * Run fn(ctx) exactly once per @p o.  Concurrent callers sleep until it
 * has returned and then see its effects.  GOCONC_OK; GOCONC_EINVAL for a
 * NULL o or fn; GOCONC_EDEADLK if fn (directly or not) re-enters the same
 * once on the same thread.
 */
GOCONC_API int goconc_once_do(goconc_once *o, void (*fn)(void *ctx), void *ctx);

/**
 * Like goconc_once_do(), but fn may fail: a non-zero return leaves @p o not
 * done and is returned; waiting callers wake and one of them runs its own
 * fn next.  GOCONC_OK once done (by this or an earlier call).
 */
GOCONC_API int goconc_once_try(goconc_once *o, int (*fn)(void *ctx), void *ctx);

/** 1 when @p o is done (one acquire load), else 0 (also for NULL). */
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
