/* SPDX-License-Identifier: MIT */
/*
 * value.c - goconc_value: Go's atomic.Value with safe reclamation.
 *
 * A value is one atomic word pointing at an immutable node that holds the
 * stored object (doc/value.md).  Readers load the word and the node's first
 * word inside a read section and never write anything.  Writers build a
 * node, publish it with a CAS on the word and retire the node they
 * replaced.  A node carries a reference count: the stored state owns one
 * count, dropped only after a grace period that starts once the node is
 * unpublished; each goconc_value_ref owns one more.  The object is
 * destroyed when the count reaches zero, so it is destroyed exactly once,
 * after no read section can see it and no reference is held.  Each node
 * carries its retire token (reclaim.h), reserved with the node: the
 * retire that drops the stored count, and the one that runs the destroy
 * after the last reference, need no memory, so free and release cannot
 * fail and no write needs a reservation.
 *
 * Layout (ABI, read by the inline load in goconc/value.h and documented in
 * doc/value.md): the first word of struct goconc_value is the node pointer,
 * the first word of a node is the object.
 */
#include <stdint.h>

#include "core/atomics.h"
#include "core/internal.h"
#include "reclaim/reclaim.h"

struct goconc_value {
    /* struct value_node *, NULL when empty.  ABI: first word.  Readers load
     * it (acquire), writers CAS it; it sits alone on its line. */
    _Alignas(GC_CACHELINE) atword node;
    goconc_destroy_fn destroy;
    void *ctx;
    void *raw; /* the allocation to free (node is line-aligned within) */
};

struct value_node {
    /* First line: what readers load; immutable from creation to free. */
    void *obj; /* ABI: first word */
    goconc_destroy_fn destroy;
    void *ctx;
    void *raw;
    /* Second line: written by acquire, release and the unstore callback,
     * never touched by readers, so references do not slow loads down. */
    _Alignas(GC_CACHELINE) atword refs;
    /* Retires the node: for node_unstored, then (if a reference outlived
     * it) for node_destroy_cb; never both at once. */
    struct gc_token tok;
};

_Static_assert(offsetof(struct goconc_value, node) == 0,
               "value.h inline load reads the node pointer at offset 0");
_Static_assert(offsetof(struct value_node, obj) == 0,
               "value.h inline load reads the object at offset 0");
_Static_assert(sizeof(atword) == sizeof(void *),
               "the node pointer is one pointer-sized word");

/* ------------------------------------------------------------- memory */

/* gc_alloc aligns like malloc; place @p size bytes on a fresh cache line. */
static void *line_alloc(size_t size, void **raw)
{
    void *p = gc_alloc(size + GC_CACHELINE - 1);
    uintptr_t a;
    if (p == NULL)
        return NULL;
    *raw = p;
    a = ((uintptr_t)p + GC_CACHELINE - 1) & ~(uintptr_t)(GC_CACHELINE - 1);
    return (void *)a;
}

/* Run the user's destroy and free the node: the count reached zero, which
 * happens only after the unstore grace period (node_unstored). */
static void node_destroy(struct value_node *n)
{
    goconc_destroy_fn destroy = n->destroy;
    void *ctx = n->ctx, *obj = n->obj;
    gc_free(n->raw);
    if (destroy != NULL)
        destroy(ctx, obj);
}

static void node_destroy_cb(void *ctx, void *node)
{
    (void)ctx;
    node_destroy(node);
}

/*
 * Deferred callback, a grace period after the node was unpublished: drop
 * the stored state's count.  No read section can see the node any more,
 * so if no reference is held either, destroy now (we already run where
 * deferred callbacks run).  The full-barrier decrement orders every
 * reference holder's use of the object before the destroy of whoever
 * drops the last count.
 *
 * References do not count as live handles one by one (a shared counter
 * written by every acquire and release made them contend across
 * threads): a node they keep alive holds one live count for them from
 * here on (gc_refs_owner_drop), taken while this pending callback still
 * pins the allocator.  A count of 1 here means no reference is held and
 * none can be made (no section sees the node, and only a held one can
 * be duplicated).
 */
static void node_unstored(void *ctx, void *node)
{
    struct value_node *n = node;
    (void)ctx;
    gc_refs_owner_drop(&n->refs, node_destroy_cb, n);
}

/* Retire n's stored count (n is unpublished). */
static void node_retire(struct value_node *n)
{
    gc_retire_token(&n->tok, n, node_unstored, NULL);
}

/* A reference on a node whose count is known to be >= 1. */
static goconc_value_ref *node_ref(struct value_node *n)
{
    at_fetch_add(&n->refs, 1);
    return (goconc_value_ref *)n;
}

/* ------------------------------------------------------------ handle */

int goconc_value_new(goconc_value **out, goconc_destroy_fn destroy, void *ctx)
{
    goconc_value *v;
    void *raw;
    if (out == NULL)
        return GOCONC_EINVAL;
    *out = NULL;
    gc_live_begin();
    v = line_alloc(sizeof *v, &raw);
    if (v == NULL) {
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    at_storep(&v->node, NULL);
    v->destroy = destroy;
    v->ctx = ctx;
    v->raw = raw;
    *out = v;
    return GOCONC_OK;
}

void goconc_value_free(goconc_value *v)
{
    struct value_node *n;
    if (v == NULL)
        return;
    /* No writer may run concurrently with free (caller's contract); read
     * sections may still hold n, hence the retire. */
    n = at_loadp_acq(&v->node);
    gc_free(v->raw);
    if (n != NULL)
        node_retire(n);
    gc_live_dec(); /* after the retire: pending now covers the node */
    gc_poll();
}

/* -------------------------------------------------------------- reads */

void *goconc_value_load(const goconc_value *v)
{
    struct value_node *n;
    if (v == NULL)
        return NULL;
    /* Acquire pairs with the publishing CAS in value_replace(): the node's
     * fields and everything written to the object before the store are
     * visible.  The caller's read section keeps the node alive. */
    n = at_loadp_acq(&v->node);
    return n != NULL ? n->obj : NULL;
}

goconc_value_ref *goconc_value_acquire(goconc_value *v)
{
    struct value_node *n;
    goconc_value_ref *r = NULL;
    if (v == NULL)
        return NULL;
    goconc_read_lock();
    /* Acquire pairs with the publishing CAS in value_replace(). */
    n = at_loadp_acq(&v->node);
    /*
     * n was published when this section loaded it, so the stored state's
     * count is dropped only by node_unstored(), after a grace period that
     * starts after n is unpublished and therefore waits for this section:
     * the count is >= 1 here and a plain increment cannot revive a node
     * on its way to destruction.
     */
    if (n != NULL)
        r = node_ref(n);
    goconc_read_unlock();
    return r;
}

void *goconc_value_ref_get(const goconc_value_ref *r)
{
    return r != NULL ? ((const struct value_node *)r)->obj : NULL;
}

int goconc_value_ref_dup(goconc_value_ref **out, goconc_value_ref *r)
{
    if (out == NULL)
        return GOCONC_EINVAL;
    /* r owns a count, so the node's count is >= 1 for as long as the
     * caller holds r: as in acquire, a plain increment is safe. */
    *out = r != NULL ? node_ref((struct value_node *)r) : NULL;
    return GOCONC_OK;
}

void goconc_value_release(goconc_value_ref *r)
{
    struct value_node *n = (struct value_node *)r;
    if (n == NULL)
        return;
    if (at_fetch_sub(&n->refs, 1) == 1) {
        /*
         * Last count: the stored count is already gone, so a grace period
         * has passed since n was unpublished and no read section sees it,
         * and the token is free again (its run unlinked it before calling
         * node_unstored).  Run the destroy where deferred callbacks run,
         * not inside the caller's locks.
         */
        gc_retire_token(&n->tok, n, node_destroy_cb, NULL);
        /* The live count the node held for its references
         * (gc_refs_owner_drop); after the retire, so that the pending
         * destroy keeps goconc_set_allocator busy from here. */
        gc_live_dec();
    }
    gc_poll();
}

/* ------------------------------------------------------------- writes */

enum replace_mode { REPLACE_ALWAYS, REPLACE_IF };

/* A node for obj, its token reserved with it; nothing changes when the
 * allocation fails. */
static int node_prepare(const goconc_value *v, void *obj,
                        struct value_node **out)
{
    void *raw;
    struct value_node *n = line_alloc(sizeof *n, &raw);
    if (n == NULL)
        return GOCONC_ENOMEM;
    n->obj = obj;
    n->destroy = v->destroy;
    n->ctx = v->ctx;
    n->raw = raw;
    at_store(&n->refs, 1); /* the stored state's count */
    *out = n;
    return GOCONC_OK;
}

/*
 * The one write path.  Publishes a node for obj unless (REPLACE_IF) the
 * current object differs from expect.  Storing the object that is already
 * current changes nothing (a second node would destroy it twice).  With
 * @p ref, hands back a reference to the replaced object (NULL if empty).
 * Lock-free: a CAS fails only because another writer's CAS succeeded.
 */
static int value_replace(goconc_value *v, void *obj, enum replace_mode mode,
                         const void *expect, goconc_value_ref **ref)
{
    struct value_node *n = NULL, *cur, *old = NULL;
    int st = GOCONC_OK;

    /* The section keeps cur alive while we read cur->obj and CAS. */
    goconc_read_lock();
    for (;;) {
        /* Acquire pairs with the publishing CAS below (other writers). */
        cur = at_loadp_acq(&v->node);
        void *cur_obj = cur != NULL ? cur->obj : NULL;
        if (mode == REPLACE_IF && cur_obj != expect) {
            st = GOCONC_CHANGED;
            break;
        }
        if (cur_obj == obj) {
            if (ref != NULL)
                *ref = node_ref(cur); /* count >= 1: see acquire */
            break;
        }
        if (n == NULL) {
            /* Allocate outside the section; cur may be gone afterwards. */
            goconc_read_unlock();
            st = node_prepare(v, obj, &n);
            if (st != GOCONC_OK)
                return st;
            goconc_read_lock();
            continue;
        }
        GOCONC_PERTURB_POINT();
        /* Full-barrier CAS: its release half publishes n's fields and the
         * caller's writes to obj to the acquire loads in load/acquire. */
        if (at_casp(&v->node, cur, n)) {
            old = cur;
            n = NULL;
            break;
        }
    }
    goconc_read_unlock();
    if (old != NULL) {
        /* We still own old's stored count, so the reference is safe
         * outside the section; the count goes a grace period from now. */
        if (ref != NULL)
            *ref = node_ref(old);
        GOCONC_PERTURB_POINT();
        node_retire(old);
    }
    if (n != NULL)
        gc_free(n->raw); /* never published */
    gc_poll();
    return st;
}

int goconc_value_store(goconc_value *v, void *obj)
{
    if (v == NULL || obj == NULL)
        return GOCONC_EINVAL;
    return value_replace(v, obj, REPLACE_ALWAYS, NULL, NULL);
}

int goconc_value_swap(goconc_value *v, void *obj, goconc_value_ref **old)
{
    if (old != NULL)
        *old = NULL;
    if (v == NULL || obj == NULL || old == NULL)
        return GOCONC_EINVAL;
    return value_replace(v, obj, REPLACE_ALWAYS, NULL, old);
}

int goconc_value_compare_and_swap(goconc_value *v, const void *old, void *obj)
{
    if (v == NULL || obj == NULL)
        return GOCONC_EINVAL;
    return value_replace(v, obj, REPLACE_IF, old, NULL);
}
