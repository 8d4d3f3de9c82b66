/* SPDX-License-Identifier: MIT */
/*
 * fuzz_slice.c - model-based libFuzzer target for goconc_slice.
 *
 * The input is a program: byte 0 picks the element size (1..16 bytes),
 * then each 3-byte instruction (op, slots, arg) runs one call on up to
 * FS_HANDLES slice handles and FS_VIEWS views, and the same step on an
 * exact model of Go's slices: storages (zero-filled byte arrays of `cap`
 * elements) shared by headers (storage, offset, len, cap).  Appends within
 * capacity write the shared storage, appends past it move the header to a
 * new storage whose capacity the growth rule of doc/slice.md predicts;
 * reslice, copy (memmove), clone follow Go.  Every status, element, length
 * and capacity is compared, and a view's bytes must equal what the model
 * held when it was taken, until it is released, whatever later writes the
 * copy-on-write moved.  A mismatch prints the step and aborts.
 *
 * Build and run like fuzz_map.c (tests/fuzz_run.sh in the -Dfuzz=true
 * build); CI replays tests/corpus/slice through fuzz_replay.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goconc.h"

#define FS_HANDLES 6
#define FS_VIEWS 4
#define FS_ESZ_MAX 16
#define FS_CAP_MAX 4096 /* appends growing past it are skipped */

struct fs_store {
    unsigned char *b; /* cap elements, zero where never written */
    size_t cap;
};

struct fs_handle {
    goconc_slice *s; /* NULL: empty slot */
    size_t st, off, len, cap;
};

struct fs_view {
    goconc_view v;
    unsigned char *want; /* the model's bytes when it was taken */
    size_t len;
    int live;
};

static struct fs_model {
    size_t esz;
    struct fs_store *st;
    size_t nst, stmax;
    struct fs_handle h[FS_HANDLES];
    struct fs_view vw[FS_VIEWS];
} md;

static size_t fs_step;

#define FS_CHECK(cond, ...)                                                                \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_slice: step %zu: check failed: %s: ", fs_step, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A new zeroed model storage of cap elements; its index. */
static size_t fs_store_new(size_t cap)
{
    if (md.nst == md.stmax) {
        md.stmax = md.stmax ? 2 * md.stmax : 16;
        md.st = realloc(md.st, md.stmax * sizeof *md.st);
        FS_CHECK(md.st != NULL, "model out of memory");
    }
    md.st[md.nst].cap = cap;
    md.st[md.nst].b = calloc(cap ? cap : 1, md.esz);
    FS_CHECK(md.st[md.nst].b != NULL, "model out of memory");
    return md.nst++;
}

/* Element i of handle h in the model. */
static unsigned char *fs_elem(const struct fs_handle *h, size_t i)
{
    return md.st[h->st].b + (h->off + i) * md.esz;
}

static void fs_val(unsigned arg, unsigned salt, unsigned char *v)
{
    size_t i;
    for (i = 0; i < md.esz; i++)
        v[i] = (unsigned char)(arg * 13u + salt * 7u + i + 1);
}

/* Go's runtime.nextslicecap, without size-class rounding (doc/slice.md). */
static size_t fs_grow(size_t old, size_t need)
{
    size_t c = old;
    if (need > 2 * old)
        return need;
    if (old < 256)
        return 2 * old;
    while (c < need)
        c += (c + 3 * 256) / 4;
    return c;
}

static void fs_check_handle(unsigned k)
{
    const struct fs_handle *h = &md.h[k];
    unsigned char out[FS_ESZ_MAX];
    size_t i;
    if (h->s == NULL)
        return;
    FS_CHECK(goconc_slice_len(h->s) == h->len && goconc_slice_cap(h->s) == h->cap &&
                 goconc_slice_elem_size(h->s) == md.esz,
             "handle %u: len %zu cap %zu, model %zu %zu", k, goconc_slice_len(h->s),
             goconc_slice_cap(h->s), h->len, h->cap);
    for (i = 0; i < h->len; i++) {
        FS_CHECK(goconc_slice_get(h->s, i, out) == GOCONC_OK, "get %zu", i);
        FS_CHECK(memcmp(out, fs_elem(h, i), md.esz) == 0, "handle %u element %zu", k, i);
    }
    FS_CHECK(goconc_slice_get(h->s, h->len, out) == GOCONC_ERANGE, "get past len");
}

static void fs_check_view(unsigned k)
{
    const struct fs_view *w = &md.vw[k];
    if (!w->live)
        return;
    FS_CHECK(w->v.len == w->len && w->v.elem_size == md.esz && w->v.data != NULL,
             "view %u header", k);
    FS_CHECK(w->len == 0 || memcmp(w->v.data, w->want, w->len * md.esz) == 0,
             "view %u bytes changed", k);
}

static void fs_check_all(void)
{
    unsigned k;
    for (k = 0; k < FS_HANDLES; k++)
        fs_check_handle(k);
    for (k = 0; k < FS_VIEWS; k++)
        fs_check_view(k);
}

static void fs_free_handle(unsigned k)
{
    goconc_slice_free(md.h[k].s);
    md.h[k].s = NULL;
}

static void fs_release_view(unsigned k)
{
    struct fs_view *w = &md.vw[k];
    if (!w->live)
        return;
    fs_check_view(k);
    goconc_view_release(&w->v);
    free(w->want);
    memset(w, 0, sizeof *w);
}

static void fs_new(unsigned k, size_t len, size_t cap)
{
    fs_free_handle(k);
    FS_CHECK(goconc_slice_new(&md.h[k].s, md.esz, len, cap) == GOCONC_OK, "new");
    md.h[k].st = fs_store_new(cap);
    md.h[k].off = 0;
    md.h[k].len = len;
    md.h[k].cap = cap;
}

static void fs_append(unsigned k, unsigned arg)
{
    struct fs_handle *h = &md.h[k];
    unsigned char elems[4 * FS_ESZ_MAX];
    size_t n = arg % 5, i, first = (size_t)-1;
    for (i = 0; i < n; i++)
        fs_val(arg + (unsigned)i, (unsigned)fs_step, elems + i * md.esz);
    if (h->len + n > h->cap) {
        size_t nc = fs_grow(h->cap, h->len + n), st;
        if (nc > FS_CAP_MAX)
            return; /* keep the model small */
        st = fs_store_new(nc);
        memcpy(md.st[st].b, fs_elem(h, 0), h->len * md.esz);
        h->st = st;
        h->off = 0;
        h->cap = nc;
    }
    FS_CHECK(goconc_slice_append(h->s, n ? elems : NULL, n, &first) == GOCONC_OK, "append %zu",
             n);
    FS_CHECK(first == h->len, "append at %zu, model %zu", first, h->len);
    memcpy(fs_elem(h, h->len), elems, n * md.esz);
    h->len += n;
    FS_CHECK(goconc_slice_cap(h->s) == h->cap, "cap %zu after append, rule gives %zu",
             goconc_slice_cap(h->s), h->cap);
}

static void fs_reslice(unsigned k, unsigned dst, unsigned arg)
{
    const struct fs_handle *h = &md.h[k];
    size_t low = arg & 3, high = low + ((arg >> 2) & 7);
    size_t max = arg & 0x20 ? h->cap : high + ((arg >> 6) & 3);
    goconc_slice *out = NULL;
    int rc = goconc_slice_reslice(h->s, low, high, max, &out);
    if (!(low <= high && high <= max && max <= h->cap)) {
        FS_CHECK(rc == GOCONC_ERANGE && out == NULL, "reslice [%zu:%zu:%zu] of cap %zu: %d", low,
                 high, max, h->cap, rc);
        return;
    }
    FS_CHECK(rc == GOCONC_OK, "reslice %d", rc);
    if (dst != k)
        fs_free_handle(dst);
    else
        goconc_slice_free(md.h[dst].s);
    md.h[dst].s = out;
    md.h[dst].st = h->st;
    md.h[dst].off = h->off + low;
    md.h[dst].len = high - low;
    md.h[dst].cap = max - low;
}

static void fs_copy(unsigned d, unsigned s)
{
    struct fs_handle *dh = &md.h[d];
    const struct fs_handle *sh = &md.h[s];
    size_t n = dh->len < sh->len ? dh->len : sh->len, copied = (size_t)-1;
    FS_CHECK(goconc_slice_copy(dh->s, sh->s, &copied) == GOCONC_OK && copied == n, "copy %zu",
             copied);
    memmove(fs_elem(dh, 0), fs_elem(sh, 0), n * md.esz);
}

static void fs_clone(unsigned k, unsigned dst)
{
    const struct fs_handle *h = &md.h[k];
    goconc_slice *out = NULL;
    size_t st;
    FS_CHECK(goconc_slice_clone(h->s, &out) == GOCONC_OK, "clone");
    st = fs_store_new(h->len);
    memcpy(md.st[st].b, fs_elem(h, 0), h->len * md.esz);
    if (dst != k)
        fs_free_handle(dst);
    else
        goconc_slice_free(md.h[dst].s);
    md.h[dst].s = out;
    md.h[dst].st = st;
    md.h[dst].off = 0;
    md.h[dst].len = md.h[dst].cap = md.st[st].cap;
}

static void fs_snapshot(unsigned k, unsigned vk)
{
    const struct fs_handle *h = &md.h[k];
    struct fs_view *w = &md.vw[vk];
    fs_release_view(vk);
    FS_CHECK(goconc_slice_snapshot(h->s, &w->v) == GOCONC_OK, "snapshot");
    w->len = h->len;
    w->want = malloc(h->len * md.esz + 1);
    FS_CHECK(w->want != NULL, "model out of memory");
    memcpy(w->want, fs_elem(h, 0), h->len * md.esz);
    w->live = 1;
    fs_check_view(vk);
}

struct fs_walk {
    const struct fs_handle *h;
    size_t next, stop_after;
};

static int fs_visit(void *ctx, size_t i, const void *elem)
{
    struct fs_walk *w = ctx;
    FS_CHECK(i == w->next && i < w->h->len, "range visited %zu, expected %zu", i, w->next);
    FS_CHECK(memcmp(elem, fs_elem(w->h, i), md.esz) == 0, "range element %zu", i);
    w->next++;
    return w->stop_after && w->next == w->stop_after;
}

static void fs_range(unsigned k, unsigned arg)
{
    struct fs_walk w = { &md.h[k], 0, arg & 0x80 ? (arg & 7) + 1 : 0 };
    int rc = goconc_slice_range(md.h[k].s, fs_visit, &w);
    if (w.stop_after && w.stop_after <= md.h[k].len)
        FS_CHECK(rc == GOCONC_STOPPED && w.next == w.stop_after, "range stop %d", rc);
    else
        FS_CHECK(rc == GOCONC_OK && w.next == md.h[k].len, "range %d visited %zu", rc, w.next);
}

/* The calls Go would panic on: statuses, nothing created or changed. */
static void fs_misuse(unsigned k, unsigned arg)
{
    const struct fs_handle *h = &md.h[k];
    goconc_slice *other = NULL;
    unsigned char e[FS_ESZ_MAX] = { 0 };
    FS_CHECK(goconc_slice_new(&other, 0, 0, 0) == GOCONC_EINVAL && other == NULL, "new esz 0");
    FS_CHECK(goconc_slice_new(&other, md.esz, 2, 1) == GOCONC_ERANGE && other == NULL,
             "new len > cap");
    FS_CHECK(goconc_slice_new(&other, md.esz, 0, SIZE_MAX) == GOCONC_EOVERFLOW,
             "new huge cap");
    FS_CHECK(goconc_slice_set(h->s, h->len + (arg & 3), e) == GOCONC_ERANGE, "set past len");
    FS_CHECK(goconc_slice_append(h->s, NULL, 1, NULL) == GOCONC_EINVAL, "append NULL");
    /* copy between element sizes */
    FS_CHECK(goconc_slice_new(&other, md.esz + 1, 1, 1) == GOCONC_OK, "new other");
    FS_CHECK(goconc_slice_copy(other, h->s, NULL) == GOCONC_EINVAL, "copy esz");
    goconc_slice_free(other);
}

static void fs_step_run(unsigned op, unsigned slots, unsigned arg)
{
    unsigned k = slots % FS_HANDLES, d = (slots / FS_HANDLES) % FS_HANDLES;
    unsigned char e[FS_ESZ_MAX], out[FS_ESZ_MAX];
    struct fs_handle *h = &md.h[k];
    size_t i;

    if (h->s == NULL) /* every op needs a handle: make one first */
        fs_new(k, arg % 8, arg % 8 + (arg >> 3) % 8);
    switch (op % 14) {
    case 0:
    case 1:
        fs_append(k, arg);
        break;
    case 2:
        i = arg % (h->len + 2);
        if (i < h->len) {
            FS_CHECK(goconc_slice_get(h->s, i, out) == GOCONC_OK, "get");
            FS_CHECK(memcmp(out, fs_elem(h, i), md.esz) == 0, "get %zu", i);
        } else {
            FS_CHECK(goconc_slice_get(h->s, i, out) == GOCONC_ERANGE, "get past len");
        }
        break;
    case 3:
        if (h->len == 0)
            break;
        i = arg % h->len;
        fs_val(arg, (unsigned)fs_step, e);
        FS_CHECK(goconc_slice_set(h->s, i, e) == GOCONC_OK, "set");
        memcpy(fs_elem(h, i), e, md.esz);
        break;
    case 4:
        fs_new(k, arg % 8, arg % 8 + (arg >> 3) % 8);
        break;
    case 5:
        fs_free_handle(k);
        break;
    case 6:
        fs_reslice(k, d, arg);
        break;
    case 7:
        if (md.h[d].s == NULL)
            fs_new(d, arg % 8, arg % 8);
        fs_copy(d, k);
        break;
    case 8:
        fs_clone(k, d);
        break;
    case 9:
        fs_snapshot(k, arg % FS_VIEWS);
        break;
    case 10:
        fs_release_view(arg % FS_VIEWS);
        break;
    case 11:
        fs_range(k, arg);
        break;
    case 12:
        fs_misuse(k, arg);
        break;
    default:
        fs_check_all();
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i;
    unsigned k;

    if (size < 1)
        return 0;
    memset(&md, 0, sizeof md);
    md.esz = 1 + data[0] % FS_ESZ_MAX;
    fs_step = 0;
    for (i = 1; i + 3 <= size; i += 3) {
        fs_step++;
        fs_step_run(data[i], data[i + 1], data[i + 2]);
    }
    fs_check_all();
    for (k = 0; k < FS_VIEWS; k++)
        fs_release_view(k);
    for (k = 0; k < FS_HANDLES; k++)
        fs_free_handle(k);
    FS_CHECK(goconc_barrier() == GOCONC_OK, "barrier");
    for (i = 0; i < md.nst; i++)
        free(md.st[i].b);
    free(md.st);
    return 0;
}
