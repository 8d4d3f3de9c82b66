/*
 * goconc/value.h - Go's atomic.Value with safe memory reclamation.
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
 * GOCONC_OK, GOCONC_EINVAL (NULL out), GOCONC_ENOMEM.
 */
GOCONC_API int goconc_value_new(goconc_value **out, goconc_destroy_fn destroy,
                                void *ctx);

/** Drop the handle; the current object is destroyed once unreferenced. NULL ok. */
GOCONC_API void goconc_value_free(goconc_value *v);

/**
 * The current object, or NULL if empty (or v is NULL).  Call inside a read
 * section: the object stays valid until this thread's outermost
 * goconc_read_unlock().  Linearizable with every other value operation.
 */
GOCONC_API void *goconc_value_load(const goconc_value *v);

/**
 * Replace the current object with @p obj, which the value owns from now
 * on.  The replaced one is destroyed after a grace period, once no
 * reference to it is held.  GOCONC_OK; GOCONC_EINVAL for a NULL v or obj
 * (Go panics on storing nil); GOCONC_ENOMEM (obj stays the caller's).
 */
GOCONC_API int goconc_value_store(goconc_value *v, void *obj);

/**
 * Store @p obj and hand back in *old a reference to the object it replaced
 * (NULL if the value was empty); release it with goconc_value_release().
 * GOCONC_OK, GOCONC_EINVAL, GOCONC_ENOMEM (nothing changed).
 */
GOCONC_API int goconc_value_swap(goconc_value *v, void *obj,
                                 goconc_value_ref **old);

/**
 * Store @p obj only if the current object is @p old (NULL: only if empty).
 * GOCONC_OK, GOCONC_CHANGED (obj stays the caller's), GOCONC_EINVAL,
 * GOCONC_ENOMEM.
 */
GOCONC_API int goconc_value_compare_and_swap(goconc_value *v, const void *old,
                                             void *obj);

/**
 * A counted reference to the current object, valid outside read sections,
 * across blocking calls and after goconc_value_free(); NULL if empty, if v
 * is NULL, or out of memory.
 */
GOCONC_API goconc_value_ref *goconc_value_acquire(goconc_value *v);

/** The object a reference holds (NULL for a NULL reference). */
GOCONC_API void *goconc_value_ref_get(const goconc_value_ref *r);

/** Drop a reference; NULL ok; valid even after goconc_value_free(). */
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
