/* SPDX-License-Identifier: MIT */
/*
 * slice.c - Go slices, thread-safe (API.md section 2; doc/slice.md).
 *
 * Locking.  Each call takes its handle's lock, then, while the handle's
 * storage group is shared by several handles, the group's spin lock.
 * Handle locks are taken before group locks, each kind in address order
 * (only copy takes two), so there is no cycle.  The handle lock is biased
 * (slice/lock.c): the thread that uses a handle alone enters it with plain
 * stores, which is what lets one-thread append cost about what a plain C
 * vector costs (one lock-prefixed instruction alone costs 10 ns here,
 * three times a vector append).
 *
 * Storage buffers are reference counted: the owning group holds one
 * reference, each view another.  A write to an element that a live view
 * may cover first copies the buffer (copy-on-write) and points the group
 * at the copy, so every handle of the group follows.  Nothing here waits
 * for a grace period or retires memory: the last reference frees.
 */
#include "slice/slice_internal.h"

/* Tag in goconc_view.internal[1] that tells a live view from garbage. */
#define SL_VIEW_TAG ((uintptr_t)0x5a1cef1e7a9c0de5ull)

/* ----------------------------------------------------- entering a call */

struct sl_held {
    goconc_slice *s;
    struct sl_group *g; /* the group whose lock we hold, or NULL */
    int fast;
};

/*
 * While nhandles == 1 this handle is the group's only one, and a second
 * one can only come from a reslice of this handle, which needs the lock
 * we hold; so the handle lock alone guards the storage.  Acquire: pairs
 * with the fetch_sub in goconc_slice_free, so the calls through a freed
 * sibling happen before ours.
 */
static inline struct sl_group *sl_group_lock(struct sl_group *g)
{
    if (at_load_acq(&g->nhandles) == 1)
        return NULL;
    sl_spin_lock(&g->lock);
    return g;
}

/* Bring the group's hwm up to this handle's end.  A group's only handle
 * does not maintain hwm when it appends (the line would bounce between
 * appending threads); whatever reads hwm calls this first (locks held). */
static inline void sl_sync_hwm(goconc_slice *s)
{
    size_t end = s->off + at_load(&s->len);
    if (end > s->group->hwm)
        s->group->hwm = end;
}

/*
 * Recompute xdata before unlocking.  While nhandles == 1 a second handle
 * needs our lock, and every view of the storage ends at or below the
 * view_end checked here, which only a snapshot through this handle can
 * raise (and only up to off + len, which only grows): so an append at
 * off + len can neither hit a view nor be seen by another handle until
 * the next locked call recomputes.  Acquire as in sl_group_lock.
 */
static void sl_refresh(goconc_slice *s)
{
    struct sl_group *g = s->group;
    size_t end = s->off + at_load(&s->len);
    unsigned char *x = NULL;

    if (at_load_acq(&g->nhandles) == 1) {
        /* Released views leave a stale extent behind (see
         * sl_prepare_write for the acquire). */
        if (g->view_end > end && at_load_acq(&g->buf->refs) == 1)
            g->view_end = 0;
        if (g->view_end <= end)
            x = sl_data(g->buf) + s->off * s->es;
    }
    s->xdata = x;
}

static inline void sl_enter(goconc_slice *s, struct sl_held *h)
{
    h->s = s;
    h->fast = sl_lock(s);
    h->g = sl_group_lock(s->group);
}

static inline void sl_leave(struct sl_held *h)
{
    sl_refresh(h->s);
    if (h->g != NULL)
        sl_spin_unlock(&h->g->lock);
    sl_unlock(h->s, h->fast);
}

/* ------------------------------------------------------------- storage */

/* Bytes for a buffer of n elements; GOCONC_EOVERFLOW past SIZE_MAX. */
static int sl_bytes(size_t es, size_t n, size_t *bytes)
{
    if (n > (SIZE_MAX - SL_HDR) / es)
        return GOCONC_EOVERFLOW;
    *bytes = SL_HDR + n * es;
    return GOCONC_OK;
}

/* A buffer of cap elements (size already checked), nothing initialised. */
static struct sl_buf *buf_new(size_t es, size_t cap)
{
    struct sl_buf *b = gc_alloc(SL_HDR + cap * es);
    if (b != NULL) {
        at_store(&b->refs, 1);
        b->cap = cap;
    }
    return b;
}

/*
 * The two ways a reference to storage goes: the group's (a switch to new
 * storage, or its last handle freed) and a view's.  Both decrement with
 * a full barrier: a view's reads of the data happen before whoever sees
 * refs drop (sl_prepare_write's acquire load) writes or frees it.
 *
 * Views do not count as live handles one by one (a shared counter that
 * every snapshot and release would write, range's included): storage
 * that views keep alive after its group let go of it holds one live
 * count for them (gc_refs_owner_drop), which the last view's drop gives
 * back.  A count of 1 at the group's drop means no view holds b and none
 * can be made of it any more (views are made of the group's current
 * storage, under the group's lock).
 */
static void buf_free_cb(void *ctx, void *b)
{
    (void)ctx;
    gc_free(b);
}

static void buf_drop_group(struct sl_buf *b)
{
    gc_refs_owner_drop(&b->refs, buf_free_cb, b);
}

/* The last view's drop frees b; the group's went first, with its count. */
static void buf_drop_view(struct sl_buf *b)
{
    if (at_fetch_sub(&b->refs, 1) == 1) {
        gc_free(b);
        gc_live_dec();
    }
}

/* Copy bytes into the storage; the common element sizes inline. */
static inline void sl_put(unsigned char *dst, const void *src, size_t bytes)
{
    switch (bytes) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, bytes); break;
    }
}

/* Point the group at new storage nb (no view on it yet). */
static void sl_switch(struct sl_group *g, struct sl_buf *nb, size_t hwm)
{
    struct sl_buf *b = g->buf;
    g->buf = nb;
    g->hwm = hwm;
    g->view_end = 0;
    buf_drop_group(b);
}

/* Element i of base, of a common small size, inline (constant shifts,
 * no jump table, no call); 0 for other sizes. */
static inline int sl_put_small(unsigned char *base, size_t i, const void *src, size_t es)
{
    if (GC_LIKELY(es == 8))
        memcpy(base + i * 8, src, 8);
    else if (es == 4)
        memcpy(base + i * 4, src, 4);
    else if (es == 16)
        memcpy(base + i * 16, src, 16);
    else if (es == 1)
        memcpy(base + i, src, 1);
    else if (es == 2)
        memcpy(base + i * 2, src, 2);
    else
        return 0;
    return 1;
}

/* Copy-on-write: the group moves to a copy of its buffer; views keep
 * the old one.  O(hwm) copy, cap allocated. */
static __attribute__((noinline)) int sl_cow(struct sl_group *g, size_t es)
{
    struct sl_buf *nb = buf_new(es, g->buf->cap);

    if (nb == NULL)
        return GOCONC_ENOMEM;
    memcpy(sl_data(nb), sl_data(g->buf), g->hwm * es);
    sl_switch(g, nb, g->hwm);
    return GOCONC_OK;
}

/*
 * Make elements [a, e) of s's storage writable (locks held).
 * GOCONC_OK, or GOCONC_ENOMEM with nothing changed.
 */
static int sl_prepare_write(goconc_slice *s, size_t a, size_t e)
{
    struct sl_group *g = s->group;

    if (GC_LIKELY(a >= g->view_end || a == e))
        return GOCONC_OK;
    /* Acquire: pairs with buf_drop_view's fetch_sub, so a released view's
     * last reads happen before the writes that follow. */
    if (at_load_acq(&g->buf->refs) == 1) {
        g->view_end = 0;
        return GOCONC_OK;
    }
    sl_sync_hwm(s); /* the copy covers [0, hwm) */
    return sl_cow(g, s->es);
}

/* Go's growth rule (runtime/slice.go nextslicecap) without size classes.
 * need > old.  Saturates to need where Go's int would overflow. */
static size_t sl_next_cap(size_t old, size_t need)
{
    size_t c = old;

    if (old > SIZE_MAX / 2 || need > 2 * old)
        return need;
    if (old < 256)
        return 2 * old;
    while (c < need) {
        size_t step = (c + 3 * 256) / 4;
        if (c > SIZE_MAX - 3 * 256 || step > SIZE_MAX - c)
            return need;
        c += step;
    }
    return c;
}

/* A fresh group holding b, initialised up to hwm. */
static struct sl_group *group_new(struct sl_buf *b, size_t hwm)
{
    struct sl_group *g = gc_alloc(sizeof *g);
    if (g != NULL) {
        at_store(&g->lock, 0);
        at_store(&g->nhandles, 1);
        g->buf = b;
        g->hwm = hwm;
        g->view_end = 0;
    }
    return g;
}

/*
 * Append needs room for need elements: move s to storage of Go's next
 * capacity (locks held).  GOCONC_OK, EOVERFLOW or ENOMEM (nothing
 * changed).
 */
static int sl_grow(goconc_slice *s, size_t need)
{
    struct sl_group *g = s->group, *ng = NULL;
    struct sl_buf *b = g->buf, *nb;
    size_t es = s->es, len = at_load(&s->len);
    size_t nc = sl_next_cap(at_load(&s->cap), need), bytes;

    if (sl_bytes(es, nc, &bytes) != GOCONC_OK)
        return GOCONC_EOVERFLOW;
    if (at_load(&g->nhandles) == 1 && s->off == 0 && at_load_acq(&b->refs) == 1) {
        /* Nobody else can see this storage, so growing it in place is the
         * same as moving to new storage; realloc can remap the pages of a
         * large block instead of copying them.  Elements from len on are
         * declared unwritten, as fresh storage would be. */
        if (nc > b->cap) {
            nb = gc_realloc(b, SL_HDR + len * es, bytes);
            if (nb == NULL)
                return GOCONC_ENOMEM;
            nb->cap = nc;
            g->buf = nb;
        }
        g->hwm = len;
        g->view_end = 0;
    } else {
        nb = buf_new(es, nc);
        /* Other handles keep the old storage (Go): this one leaves the
         * group.  nhandles is stable here: we hold the group lock. */
        if (nb != NULL && at_load(&g->nhandles) > 1 && (ng = group_new(nb, len)) == NULL) {
            gc_free(nb);
            nb = NULL;
        }
        if (nb == NULL)
            return GOCONC_ENOMEM;
        memcpy(sl_data(nb), sl_data(b) + s->off * es, len * es);
        GOCONC_PERTURB_POINT();
        if (ng != NULL) {
            at_fetch_sub(&g->nhandles, 1); /* >= 2 before: g lives on */
            s->group = ng;
        } else {
            sl_switch(g, nb, len);
        }
        s->off = 0;
    }
    at_store(&s->cap, nc);
    return GOCONC_OK;
}

/* ---------------------------------------------------- construction */

/* A new handle over new storage: len elements from src (or zeroes),
 * capacity cap.  Sizes already checked. */
static int sl_make(goconc_slice **out, size_t es, size_t len, size_t cap,
                   const void *src)
{
    goconc_slice *s;
    struct sl_buf *b;
    struct sl_group *g;

    gc_live_begin();
    s = gc_alloc(sizeof *s);
    b = buf_new(es, cap);
    g = b != NULL ? group_new(b, len) : NULL;
    if (s == NULL || g == NULL) {
        gc_free(g);
        gc_free(b);
        gc_free(s);
        gc_live_dec();
        return GOCONC_ENOMEM;
    }
    if (src != NULL)
        memcpy(sl_data(b), src, len * es);
    else
        memset(sl_data(b), 0, len * es);
    sl_lock_init(s);
    s->group = g;
    s->off = 0;
    at_store(&s->len, len);
    at_store(&s->cap, cap);
    s->es = es;
    sl_refresh(s);
    *out = s;
    return GOCONC_OK;
}

GOCONC_API int goconc_slice_new(goconc_slice **out, size_t elem_size,
                                size_t len, size_t cap)
{
    size_t bytes;

    if (out == NULL || elem_size == 0)
        return GOCONC_EINVAL;
    if (len > cap)
        return GOCONC_ERANGE;
    if (sl_bytes(elem_size, cap, &bytes) != GOCONC_OK)
        return GOCONC_EOVERFLOW;
    return sl_make(out, elem_size, len, cap, NULL);
}

GOCONC_API void goconc_slice_free(goconc_slice *s)
{
    struct sl_group *g;
    int last;

    if (s == NULL)
        return;
    g = s->group;
    /* Acquire: the calls through every sibling freed before happen before
     * we free the group.  At 1 we are its only handle. */
    if (at_load_acq(&g->nhandles) == 1) {
        last = 1;
    } else {
        /* Under the group lock so sl_grow sees nhandles stable. */
        sl_spin_lock(&g->lock);
        last = at_fetch_sub(&g->nhandles, 1) == 1;
        sl_spin_unlock(&g->lock);
    }
    if (last) {
        buf_drop_group(g->buf);
        gc_free(g);
    }
    gc_free(s);
    gc_live_dec();
}

/* ------------------------------------------------------------- reading */

/* Acquire: pairs with the release store of len in append, so elements
 * below the length read here were written before it. */
GOCONC_API size_t goconc_slice_len(const goconc_slice *s)
{
    return s != NULL ? at_load_acq(&s->len) : 0;
}

GOCONC_API size_t goconc_slice_cap(const goconc_slice *s)
{
    return s != NULL ? at_load_acq(&s->cap) : 0;
}

GOCONC_API size_t goconc_slice_elem_size(const goconc_slice *s)
{
    return s != NULL ? s->es : 0;
}

GOCONC_API int goconc_slice_get(const goconc_slice *s, size_t i, void *out)
{
    struct sl_held h;
    int rc = GOCONC_OK;

    if (s == NULL || out == NULL)
        return GOCONC_EINVAL;
    sl_enter((goconc_slice *)s, &h);
    if (i >= at_load(&s->len))
        rc = GOCONC_ERANGE;
    else
        sl_put(out, sl_data(s->group->buf) + (s->off + i) * s->es, s->es);
    sl_leave(&h);
    return rc;
}

/* ------------------------------------------------------------- writing */

GOCONC_API int goconc_slice_set(goconc_slice *s, size_t i, const void *elem)
{
    struct sl_held h;
    size_t p;
    int rc = GOCONC_ERANGE;

    if (s == NULL || elem == NULL)
        return GOCONC_EINVAL;
    sl_enter(s, &h);
    if (i < at_load(&s->len)) {
        p = s->off + i;
        rc = sl_prepare_write(s, p, p + 1);
        if (rc == GOCONC_OK)
            sl_put(sl_data(s->group->buf) + p * s->es, elem, s->es);
    }
    sl_leave(&h);
    return rc;
}

/* Append's slow path (locks held): a view covers the spare capacity, or
 * there is none.  Writes the elements; the caller publishes the length. */
static __attribute__((noinline)) int sl_append_slow(goconc_slice *s, const void *elems,
                                                    size_t n, size_t len)
{
    size_t es = s->es, p;
    struct sl_group *g;
    int rc;

    if (n <= at_load(&s->cap) - len) {
        p = s->off + len;
        rc = sl_prepare_write(s, p, p + n);
    } else if (n > SIZE_MAX - len) {
        rc = GOCONC_EOVERFLOW;
    } else {
        rc = sl_grow(s, len + n);
    }
    if (rc != GOCONC_OK)
        return rc;
    g = s->group;
    p = s->off + len;
    memcpy(sl_data(g->buf) + p * es, elems, n * es);
    if (p + n > g->hwm)
        g->hwm = p + n;
    return GOCONC_OK;
}

static __attribute__((noinline)) int sl_append_general(goconc_slice *s, const void *elems,
                                                       size_t n, size_t *first_index)
{
    struct sl_held h;
    struct sl_group *g;
    size_t len, p;
    int rc = GOCONC_OK;

    if (s == NULL || (elems == NULL && n != 0))
        return GOCONC_EINVAL;
    if (n > SIZE_MAX / s->es)
        return GOCONC_EOVERFLOW;
    if (n == 0) {
        /* Go's append(s): nothing written, s unchanged. */
        if (first_index != NULL)
            *first_index = at_load_acq(&s->len);
        return GOCONC_OK;
    }
    sl_enter(s, &h);
    len = at_load(&s->len);
    g = s->group;
    p = s->off + len;
    /* Room, and no live view can cover [p, p + n). */
    if (GC_LIKELY(n <= at_load(&s->cap) - len && p >= g->view_end)) {
        sl_put(sl_data(g->buf) + p * s->es, elems, n * s->es);
        if (h.g != NULL && p + n > g->hwm) /* a lone handle's: sl_sync_hwm */
            g->hwm = p + n;
    } else {
        rc = sl_append_slow(s, elems, n, len);
    }
    if (rc == GOCONC_OK) {
        GOCONC_PERTURB_POINT();
        /* Release: the elements are written before the length that shows
         * them (pairs with the acquire load in goconc_slice_len). */
        at_store_rel(&s->len, len + n);
        if (first_index != NULL)
            *first_index = len;
    }
    sl_leave(&h);
    return rc;
}

/*
 * The common append's work, under the handle lock: one element of a
 * common size into spare capacity of storage this handle alone can see
 * (xdata, see sl_refresh), so only the handle is touched.  0 when that
 * does not apply, with nothing changed.
 */
static inline __attribute__((always_inline)) int
sl_append_one(goconc_slice *s, const void *elem, size_t *first_index)
{
    unsigned char *x = s->xdata;
    size_t len = at_load(&s->len);

    if (GC_LIKELY(x != NULL && len < at_load(&s->cap) &&
                  sl_put_small(x, len, elem, s->es))) {
        if (first_index != NULL)
            *first_index = len;
        /* Release: the element before the length that shows it (pairs
         * with the acquire load in goconc_slice_len). */
        at_store_rel(&s->len, len + 1);
        return 1;
    }
    return 0;
}

/*
 * The common append, inline, under the lock's no-wait entry (sl_trylock:
 * the bias, or one CAS on word).  The work is written out once per way
 * in so that the compiler keeps each way's exit apart: the bias's is a
 * single release store, with no test of which way we came.  Anything
 * else, with nothing changed, takes sl_append_general as a tail call.
 */
GOCONC_API int goconc_slice_append(goconc_slice *s, const void *elems, size_t n,
                                   size_t *first_index)
{
    int fast, done;

    if (GC_UNLIKELY(n != 1) || s == NULL || elems == NULL)
        return sl_append_general(s, elems, n, first_index);
    if (GC_LIKELY(sl_trylock(s, sl_self(), &fast))) {
        if (GC_LIKELY(fast != 0)) {
            done = sl_append_one(s, elems, first_index);
            sl_unlock(s, fast);
        } else {
            done = sl_append_one(s, elems, first_index);
            sl_unlock(s, 0);
        }
        if (GC_LIKELY(done))
            return GOCONC_OK;
    }
    return sl_append_general(s, elems, n, first_index);
}

GOCONC_API int goconc_slice_reslice(const goconc_slice *cs, size_t low, size_t high,
                                    size_t max, goconc_slice **out)
{
    goconc_slice *s = (goconc_slice *)cs, *ns = NULL;
    struct sl_held h;
    struct sl_group *g;
    size_t end, es;
    int rc = GOCONC_OK;

    if (s == NULL || out == NULL)
        return GOCONC_EINVAL;
    es = s->es;
    sl_enter(s, &h);
    if (!(low <= high && high <= max && max <= at_load(&s->cap)))
        rc = GOCONC_ERANGE;
    else if ((ns = gc_alloc(sizeof *ns)) == NULL)
        rc = GOCONC_ENOMEM;
    if (rc == GOCONC_OK) {
        g = s->group;
        sl_sync_hwm(s); /* what s appended is written, not to be zeroed */
        end = s->off + high;
        if (end > g->hwm) {
            /* Never written: make it the zeroes Go would show.  Views lie
             * below hwm, so no copy-on-write is due. */
            memset(sl_data(g->buf) + g->hwm * es, 0, (end - g->hwm) * es);
            g->hwm = end;
        }
        sl_lock_init(ns);
        ns->group = s->group;
        ns->off = s->off + low;
        ns->xdata = NULL; /* shared from birth */
        at_store(&ns->len, high - low);
        at_store(&ns->cap, max - low);
        ns->es = es;
        /* Under the group lock, or as the group's only handle. */
        at_fetch_add(&s->group->nhandles, 1);
    }
    sl_leave(&h);
    if (rc == GOCONC_OK) {
        gc_live_inc();
        *out = ns;
    }
    return rc;
}

/* Lock two handles and their groups in address order. */
static void sl_enter2(goconc_slice *a, goconc_slice *b, struct sl_held *ha,
                      struct sl_held *hb)
{
    struct sl_group *ga, *gb, *t;

    if (a == b) {
        sl_enter(a, ha);
        hb->s = NULL;
        return;
    }
    if ((uintptr_t)a > (uintptr_t)b) {
        goconc_slice *x = a;
        struct sl_held *y = ha;
        a = b, b = x, ha = hb, hb = y;
    }
    ha->s = a;
    hb->s = b;
    ha->fast = sl_lock(a);
    hb->fast = sl_lock(b);
    ga = a->group;
    gb = b->group;
    if (ga == gb)
        gb = NULL;
    else if ((uintptr_t)ga > (uintptr_t)gb)
        t = ga, ga = gb, gb = t;
    ha->g = sl_group_lock(ga);
    hb->g = gb != NULL ? sl_group_lock(gb) : NULL;
}

static void sl_leave2(struct sl_held *ha, struct sl_held *hb)
{
    if (hb->s == NULL) {
        sl_leave(ha);
        return;
    }
    sl_refresh(ha->s);
    sl_refresh(hb->s);
    if (hb->g != NULL)
        sl_spin_unlock(&hb->g->lock);
    if (ha->g != NULL)
        sl_spin_unlock(&ha->g->lock);
    sl_unlock(hb->s, hb->fast);
    sl_unlock(ha->s, ha->fast);
}

GOCONC_API int goconc_slice_copy(goconc_slice *dst, const goconc_slice *csrc,
                                 size_t *copied)
{
    goconc_slice *src = (goconc_slice *)csrc;
    struct sl_held hd, hs;
    size_t n, es;
    int rc = GOCONC_OK;

    if (dst == NULL || src == NULL)
        return GOCONC_EINVAL;
    if (dst->es != src->es)
        return GOCONC_EINVAL;
    es = dst->es;
    sl_enter2(dst, src, &hd, &hs);
    n = at_load(&dst->len);
    if (at_load(&src->len) < n)
        n = at_load(&src->len);
    /* Same elements onto themselves: nothing to write, nothing to copy. */
    if (n != 0 && !(dst->group == src->group && dst->off == src->off)) {
        rc = sl_prepare_write(dst, dst->off, dst->off + n);
        /* After a copy-on-write src may have moved too (same group). */
        if (rc == GOCONC_OK)
            memmove(sl_data(dst->group->buf) + dst->off * es,
                    sl_data(src->group->buf) + src->off * es, n * es);
    }
    sl_leave2(&hd, &hs);
    if (rc == GOCONC_OK && copied != NULL)
        *copied = n;
    return rc;
}

GOCONC_API int goconc_slice_clone(const goconc_slice *cs, goconc_slice **out)
{
    goconc_slice *s = (goconc_slice *)cs;
    struct sl_held h;
    size_t len;
    int rc;

    if (s == NULL || out == NULL)
        return GOCONC_EINVAL;
    /* Under the lock, so the clone is one consistent state and no view
     * (hence no copy-on-write for the writers) is involved. */
    sl_enter(s, &h);
    len = at_load(&s->len);
    rc = sl_make(out, s->es, len, len, sl_data(s->group->buf) + s->off * s->es);
    sl_leave(&h);
    return rc;
}

/* --------------------------------------------------------------- views */

GOCONC_API int goconc_slice_snapshot(const goconc_slice *cs, goconc_view *view)
{
    goconc_slice *s = (goconc_slice *)cs;
    struct sl_held h;
    struct sl_group *g;
    struct sl_buf *b;
    size_t len, off, end;

    if (s == NULL || view == NULL)
        return GOCONC_EINVAL;
    sl_enter(s, &h);
    g = s->group;
    b = g->buf;
    len = at_load(&s->len);
    off = s->off;
    end = off + len;
    /* refs == 1: no view is live (they are only made under our locks),
     * so the old extent is stale. */
    if (at_load(&b->refs) == 1 || end > g->view_end)
        g->view_end = end;
    at_fetch_add(&b->refs, 1);
    sl_leave(&h);
    view->data = sl_data(b) + off * s->es;
    view->len = len;
    view->elem_size = s->es;
    view->internal[0] = b;
    view->internal[1] = (void *)((uintptr_t)b ^ SL_VIEW_TAG);
    view->internal[2] = NULL;
    view->internal[3] = NULL;
    return GOCONC_OK;
}

GOCONC_API void goconc_view_release(goconc_view *view)
{
    struct sl_buf *b;

    if (view == NULL)
        return;
    b = view->internal[0];
    /* A zeroed or already released view carries no tag: nothing to do. */
    if (b == NULL || (uintptr_t)view->internal[1] != ((uintptr_t)b ^ SL_VIEW_TAG))
        return;
    memset(view, 0, sizeof *view);
    buf_drop_view(b);
}

/* Releases range's snapshot however the call ends: returning, or fn
 * unwinding (a C++ exception, a cancellation; the cleanup attribute, with
 * the library built with -fexceptions).  A zeroed view is ignored. */
static void range_view_unwound(goconc_view *v)
{
    goconc_view_release(v);
}

GOCONC_API int goconc_slice_range(const goconc_slice *s, goconc_slice_visit_fn fn,
                                  void *ctx)
{
    goconc_view v __attribute__((cleanup(range_view_unwound))) = { NULL, 0, 0, { NULL } };
    const unsigned char *p;
    size_t i;
    int rc;

    if (s == NULL || fn == NULL)
        return GOCONC_EINVAL;
    rc = goconc_slice_snapshot(s, &v);
    if (rc != GOCONC_OK)
        return rc;
    p = v.data;
    for (i = 0; i < v.len; i++) {
        if (fn(ctx, i, p + i * v.elem_size) != 0) {
            rc = GOCONC_STOPPED;
            break;
        }
    }
    return rc; /* v released by range_view_unwound */
}
