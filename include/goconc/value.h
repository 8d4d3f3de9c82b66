/* SPDX-License-Identifier: MIT */
/*
 * goconc/value.h - Go's atomic.Value with safe memory reclamation.
 *
 * A value holds one object pointer (or nothing).  Every call but
 * goconc_value_free() may run on the same value from any number of threads
 * at once and is linearizable; loads are wait-free, writers lock-free, no
 * call blocks or waits for a grace period.  Stored objects belong to the
 * value; each is destroyed exactly once, by the value's destroy callback,
 * after no read section can see it and no reference holds it.  The
 * destroy is a deferred callback (conventions in goconc/common.h): it runs
 * on any thread holding no goconc lock, possibly after goconc_value_free()
 * returned, and must not call into the value that scheduled it.  Storing
 * the object that is already current changes nothing; storing an object
 * the value owned before, or into two values, destroys it twice (a caller
 * error the library cannot see).
 */
#ifndef GOCONC_VALUE_H
#define GOCONC_VALUE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goconc_value goconc_value;
/** A counted reference to one stored object. */
typedef struct goconc_value_ref goconc_value_ref;

/**
 * Create an empty value whose objects are released with destroy(ctx, obj)
 * (destroy may be NULL: objects are then only forgotten).
 *
 * @param out  receives the value (NULL on failure).
 * @param ctx  passed to destroy; must stay valid until a goconc_barrier()
 *             after goconc_value_free() and the release of every reference.
 * @return GOCONC_OK; GOCONC_EINVAL (NULL out); GOCONC_ENOMEM.
 */
GOCONC_API int goconc_value_new(goconc_value **out, goconc_destroy_fn destroy,
                                void *ctx) GOCONC_WARN_UNUSED;

/**
 * Drop the handle; the current object is destroyed once no read section
 * sees it and no reference holds it (references and read sections may
 * outlive the handle).  No other call may be running on @p v, nor follow.
 * Cannot fail.  NULL is ignored.
 */
GOCONC_API void goconc_value_free(goconc_value *v);

/**
 * The current object, or NULL if empty (or v is NULL).  Call inside a read
 * section (not checked): the object stays valid until this thread's
 * outermost goconc_read_unlock(); to keep it longer, use
 * goconc_value_acquire().  Wait-free, writes nothing; everything the
 * storing thread wrote to the object before storing it is visible.
 * Linearizable with every other value operation.  An inline version
 * replaces the call unless GOCONC_NO_INLINE is defined.
 */
GOCONC_API void *goconc_value_load(const goconc_value *v);

/**
 * Replace the current object with @p obj, which the value owns from a
 * successful return on.  The replaced one is destroyed after a grace
 * period, once no reference to it is held; never inside this call.
 * Storing the current object again is a no-op.  Lock-free.
 *
 * @return GOCONC_OK; GOCONC_EINVAL for a NULL v or obj (Go panics on
 *         storing nil); GOCONC_ENOMEM (nothing changed, obj stays the
 *         caller's).
 */
GOCONC_API int goconc_value_store(goconc_value *v, void *obj) GOCONC_WARN_UNUSED;

/**
 * Store @p obj and hand back in *old a counted reference to the object it
 * replaced (NULL if the value was empty; a reference to obj itself if obj
 * was already current); the caller owns that reference and drops it with
 * goconc_value_release().  *old is NULL after every failure.
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL v, obj or old); GOCONC_ENOMEM
 *         (nothing changed, obj stays the caller's).
 */
GOCONC_API int goconc_value_swap(goconc_value *v, void *obj,
                                 goconc_value_ref **old) GOCONC_WARN_UNUSED;

/**
 * Store @p obj only if the current object is @p old (NULL: only if empty),
 * comparing pointers.  @p old is only compared, never dereferenced.  On
 * success the replaced object is destroyed as for goconc_value_store();
 * with old == obj == current nothing changes.
 *
 * @return GOCONC_OK; GOCONC_CHANGED (another object is current: nothing
 *         stored, obj stays the caller's); GOCONC_EINVAL (NULL v or obj);
 *         GOCONC_ENOMEM (nothing changed, obj stays the caller's).
 */
GOCONC_API int goconc_value_compare_and_swap(goconc_value *v, const void *old,
                                             void *obj) GOCONC_WARN_UNUSED;

/**
 * A counted reference to the current object, valid outside read sections,
 * across blocking calls and after goconc_value_free(), until
 * goconc_value_release(); NULL if the value is empty or v is NULL.  It
 * never allocates (one atomic add), so it cannot fail for lack of memory.
 * Each reference keeps goconc_set_allocator() busy until released.
 */
GOCONC_API goconc_value_ref *goconc_value_acquire(goconc_value *v);

/**
 * The object a reference holds (NULL for a NULL reference); valid until
 * the reference is released.  Any thread; no read section needed.
 */
GOCONC_API void *goconc_value_ref_get(const goconc_value_ref *r);

/**
 * Another counted reference to the object @p r holds, in *out (NULL when
 * r is NULL), released on its own with goconc_value_release().  Like
 * goconc_value_acquire() it never allocates (one atomic add) and takes no
 * read section; any thread may call it while r is held, concurrently with
 * any call on the value and with the release of other references.
 * Since 1.2 (version node GOCONC_1.2).
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL out).
 */
GOCONC_API int goconc_value_ref_dup(goconc_value_ref **out,
                                    goconc_value_ref *r) GOCONC_WARN_UNUSED;

/**
 * Drop a reference from goconc_value_acquire(), goconc_value_swap() or
 * goconc_value_ref_dup(); valid even after goconc_value_free().  Releasing
 * the last reference to a replaced object schedules its destroy as a
 * deferred callback; only when the library is out of memory does the
 * destroy run inside this call (so a caller holding its own locks should
 * expect that).  Each reference is released once, by any thread.  NULL is
 * ignored.
 */
GOCONC_API void goconc_value_release(goconc_value_ref *r);

/*
 * Inline load (doc/abi.md, "Value layout"): the first word of a
 * goconc_value is an atomic pointer to the current node, or NULL when
 * empty; the first word of a node is the stored object, immutable for the
 * node's life.  Nodes are reclaimed only after a grace period.
 */
#if defined(__GNUC__) && (!defined(GOCONC_NO_INLINE) || defined(GOCONC_BUILDING))
static inline void *goconc_value_load_inline_(const goconc_value *v)
{
    void *const *node;
    if (v == NULL)
        return NULL;
    /* Acquire pairs with the release store that published the node. */
    node = (void *const *)__atomic_load_n((void *const *)v, __ATOMIC_ACQUIRE);
    return node != NULL ? *node : NULL;
}
#if !defined(GOCONC_NO_INLINE) && !defined(GOCONC_BUILDING)
#define goconc_value_load(v) goconc_value_load_inline_(v)
#endif
#endif

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_VALUE_H */
