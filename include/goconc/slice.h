/*
 * goconc/slice.h - Go slices, thread-safe.
 *
 * A handle is (storage, offset, len, cap), like a Go slice header.  Every
 * call is atomic with respect to every other call on handles sharing the
 * same storage.  See doc/slice.md.
 */
#ifndef GOCONC_SLICE_H
#define GOCONC_SLICE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goconc_slice goconc_slice;

/** A stable, read-only snapshot; layout frozen (ABI). */
typedef struct goconc_view {
    const void *data;   /**< len * elem_size contiguous bytes, non-NULL */
    size_t len;
    size_t elem_size;
    void *internal[4];  /**< the library's; do not touch */
} goconc_view;

/**
 * New slice of @p len elements and capacity @p cap, all zeroed.
 * GOCONC_OK, GOCONC_EINVAL (NULL out, zero elem_size), GOCONC_ERANGE
 * (len > cap), GOCONC_EOVERFLOW (elem_size * cap), GOCONC_ENOMEM.
 */
GOCONC_API int goconc_slice_new(goconc_slice **out, size_t elem_size,
                                size_t len, size_t cap);

/** Drop this handle; storage goes with its last handle or view.  NULL ok. */
GOCONC_API void goconc_slice_free(goconc_slice *s);

/** Length, capacity, element size (0 for NULL). */
GOCONC_API size_t goconc_slice_len(const goconc_slice *s);
GOCONC_API size_t goconc_slice_cap(const goconc_slice *s);
GOCONC_API size_t goconc_slice_elem_size(const goconc_slice *s);

/** Copy element @p i to @p out.  GOCONC_OK, GOCONC_EINVAL, GOCONC_ERANGE (i >= len). */
GOCONC_API int goconc_slice_get(const goconc_slice *s, size_t i, void *out);

/** Overwrite element @p i.  GOCONC_OK, EINVAL, ERANGE, ENOMEM (copy-on-write of a viewed storage). */
GOCONC_API int goconc_slice_set(goconc_slice *s, size_t i, const void *elem);

/**
 * Append @p n elements (Go's append, growth rule in doc/slice.md); the
 * index of the first one goes to *first_index (may be NULL).  Concurrent
 * appends through one handle never lose or overwrite each other.
 * GOCONC_OK, EINVAL, EOVERFLOW, ENOMEM (nothing appended).
 */
GOCONC_API int goconc_slice_append(goconc_slice *s, const void *elems, size_t n,
                                   size_t *first_index);

/**
 * s[low:high:max] as a new handle sharing storage.  GOCONC_ERANGE unless
 * 0 <= low <= high <= max <= cap.  GOCONC_OK, EINVAL, ERANGE, ENOMEM.
 */
GOCONC_API int goconc_slice_reslice(const goconc_slice *s, size_t low,
                                    size_t high, size_t max, goconc_slice **out);

/**
 * Go's copy(dst, src): min(len) elements, overlap-safe; the count goes to
 * *copied (may be NULL).  GOCONC_EINVAL for different element sizes.
 */
GOCONC_API int goconc_slice_copy(goconc_slice *dst, const goconc_slice *src,
                                 size_t *copied);

/** New storage with the same elements, cap == len.  OK, EINVAL, ENOMEM. */
GOCONC_API int goconc_slice_clone(const goconc_slice *s, goconc_slice **out);

/**
 * O(1) snapshot: view->data stays valid and unchanged until
 * goconc_view_release(), whatever others append or set, even after the
 * last handle is freed.  GOCONC_OK, EINVAL, ENOMEM.
 */
GOCONC_API int goconc_slice_snapshot(const goconc_slice *s, goconc_view *view);

/** Release a view (idempotent on a zeroed view); NULL ok. */
GOCONC_API void goconc_view_release(goconc_view *view);

/**
 * Call fn(ctx, i, elem) for each element of a snapshot; a non-zero return
 * stops: GOCONC_STOPPED.  GOCONC_OK, EINVAL, ENOMEM.
 */
GOCONC_API int goconc_slice_range(const goconc_slice *s, goconc_slice_visit_fn fn,
                                  void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GOCONC_SLICE_H */
