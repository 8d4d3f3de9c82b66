/* SPDX-License-Identifier: MIT */
/*
 * goconc/slice.h - Go slices, thread-safe.
 *
 * A handle is (storage, offset, len, cap), like a Go slice header.  Every
 * call is atomic with respect to every other call on handles sharing the
 * same storage.  See doc/slice.md.
 *
 * Thread-safety: any call may run on one handle, or on handles sharing
 * storage, from any number of threads at once, except goconc_slice_free()
 * of that handle, which must be its last call.  Calls take short spin
 * locks (they may wait for another thread's call, never for long) and
 * never wait for a grace period.  Elements are elem_size bytes, copied in
 * and out; the library never keeps the caller's pointers.  Handles, views
 * and storage are the library's; storage lives while any handle or view
 * of it does.  Slices call no user callback except goconc_slice_range()'s.
 */
#ifndef GOCONC_SLICE_H
#define GOCONC_SLICE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goconc_slice goconc_slice;

/** A stable, read-only snapshot (goconc_slice_snapshot); layout frozen
 *  (ABI).  Caller-allocated (on the stack is fine); release it with
 *  goconc_view_release().  A view is not thread-bound: data may be read
 *  from any thread while the view is live. */
typedef struct goconc_view {
    const void *data;   /**< len * elem_size contiguous bytes, non-NULL */
    size_t len;
    size_t elem_size;
    void *internal[4];  /**< the library's; do not touch */
} goconc_view;

/**
 * Make a new slice (Go's make([]T, len, cap)): new storage of @p cap
 * elements of @p elem_size bytes, the first @p len zeroed and visible.
 *
 * @param out  receives the new handle (free it with goconc_slice_free()).
 * @return GOCONC_OK; GOCONC_EINVAL (NULL out, elem_size 0); GOCONC_ERANGE
 *         (len > cap); GOCONC_EOVERFLOW (elem_size * cap overflows);
 *         GOCONC_ENOMEM.
 */
GOCONC_API int goconc_slice_new(goconc_slice **out, size_t elem_size,
                                size_t len, size_t cap) GOCONC_WARN_UNUSED;

/**
 * Drop this handle; the storage is freed with its last handle or view
 * (other handles and views of it stay valid).  No other call may be
 * running on this handle, nor follow.  NULL is ignored.
 */
GOCONC_API void goconc_slice_free(goconc_slice *s);

/**
 * The handle's length (0 for NULL).  Elements below it were written before
 * it was read (acquire), and a handle's length never decreases (reslice
 * makes a new handle), so goconc_slice_get() of them succeeds.  Lock-free.
 */
GOCONC_API size_t goconc_slice_len(const goconc_slice *s);
/** The handle's capacity (0 for NULL).  Lock-free. */
GOCONC_API size_t goconc_slice_cap(const goconc_slice *s);
/** The element size fixed at goconc_slice_new() (0 for NULL). */
GOCONC_API size_t goconc_slice_elem_size(const goconc_slice *s);

/**
 * Copy element @p i (elem_size bytes) to @p out; an element is read whole,
 * never torn by a concurrent set.
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s or out); GOCONC_ERANGE
 *         (i >= len: Go's index out of range).
 */
GOCONC_API int goconc_slice_get(const goconc_slice *s, size_t i, void *out) GOCONC_WARN_UNUSED;

/**
 * Overwrite element @p i with elem_size bytes from @p elem; every handle
 * sharing the storage sees it, live views do not (copy-on-write).
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s or elem); GOCONC_ERANGE
 *         (i >= len); GOCONC_ENOMEM (the storage is covered by a live view
 *         and could not be copied: nothing written).
 */
GOCONC_API int goconc_slice_set(goconc_slice *s, size_t i, const void *elem) GOCONC_WARN_UNUSED;

/**
 * Append @p n elements read from @p elems (Go's append, growth rule in
 * doc/slice.md); the index of the first one goes to *first_index (may be
 * NULL).  Concurrent appends through one handle never lose or overwrite
 * each other, and the n elements land contiguously.  Without spare
 * capacity this handle moves to new storage and leaves the other handles
 * of the old one behind, as in Go.  n == 0 changes nothing (*first_index
 * = len).
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s, or NULL elems with n > 0);
 *         GOCONC_EOVERFLOW (the new length or its byte size overflows);
 *         GOCONC_ENOMEM (nothing appended).
 */
GOCONC_API int goconc_slice_append(goconc_slice *s, const void *elems, size_t n,
                                   size_t *first_index) GOCONC_WARN_UNUSED;

/**
 * Go's s[low:high:max] as a new handle sharing s's storage: len high - low,
 * cap max - low.  Elements up to high that were never written read as
 * zero.
 *
 * @param out  receives the new handle; free it with goconc_slice_free().
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s or out); GOCONC_ERANGE unless
 *         low <= high <= max <= cap (Go's slice bounds out of range);
 *         GOCONC_ENOMEM.
 */
GOCONC_API int goconc_slice_reslice(const goconc_slice *s, size_t low,
                                    size_t high, size_t max, goconc_slice **out) GOCONC_WARN_UNUSED;

/**
 * Go's copy(dst, src): the first min(len(dst), len(src)) elements of src
 * over those of dst, atomically with respect to both, overlap-safe (dst
 * and src may share storage or be the same handle).
 *
 * @param copied  receives the count on GOCONC_OK; may be NULL.
 * @return GOCONC_OK; GOCONC_EINVAL (NULL dst or src, different element
 *         sizes); GOCONC_ENOMEM (dst's storage is covered by a live view
 *         and could not be copied: nothing written).
 */
GOCONC_API int goconc_slice_copy(goconc_slice *dst, const goconc_slice *src,
                                 size_t *copied) GOCONC_WARN_UNUSED;

/**
 * A new handle over new storage holding a consistent copy of s's
 * elements, cap == len (Go's slices.Clone).
 *
 * @param out  receives the new handle; free it with goconc_slice_free().
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s or out); GOCONC_ENOMEM.
 */
GOCONC_API int goconc_slice_clone(const goconc_slice *s, goconc_slice **out) GOCONC_WARN_UNUSED;

/**
 * O(1) snapshot of s's elements into the caller's @p view: view->data
 * (len * elem_size bytes, non-NULL even when len is 0) stays valid and
 * unchanged until goconc_view_release(), whatever others append or set,
 * even after the last handle is freed.  A write that would change viewed
 * elements copies the storage first.  Allocates nothing.
 *
 * @return GOCONC_OK; GOCONC_EINVAL (NULL s or view).
 */
GOCONC_API int goconc_slice_snapshot(const goconc_slice *s, goconc_view *view) GOCONC_WARN_UNUSED;

/**
 * Release a view made by goconc_slice_snapshot() and zero it; the storage
 * goes with its last handle or view.  A zeroed or already released view
 * and NULL are ignored.  Do not release one view from two threads at
 * once.
 */
GOCONC_API void goconc_view_release(goconc_view *view);

/**
 * Call fn(ctx, i, elem) for each element of a snapshot of s, in index
 * order; a non-zero return stops.  elem is valid only during the call.
 * fn runs holding no lock, so it may call anything on this slice (appends
 * and sets go to the slice, not the snapshot) but must not free the
 * handle, and must not longjmp out (an exception is fine: the snapshot is
 * released and the exception goes on; a longjmp leaks the snapshot, which
 * keeps goconc_set_allocator() busy).
 *
 * @return GOCONC_OK; GOCONC_STOPPED (fn returned non-zero); GOCONC_EINVAL
 *         (NULL s or fn).
 */
GOCONC_API int goconc_slice_range(const goconc_slice *s, goconc_slice_visit_fn fn,
                                  void *ctx) GOCONC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_SLICE_H */
