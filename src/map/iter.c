/* SPDX-License-Identifier: MIT */
/*
 * iter.c - goconc_map_range and goconc_map_scan.
 *
 * Both walk each shard in windows of "r-space": r(h) = the bit-reversed
 * 64-bit hash.  A home bucket of a table of 2^k buckets (the low k hash
 * bits) is exactly one aligned window of r-space of size 2^(64-k), at
 * every size k: growing splits a window, shrinking merges two.  So a
 * position p in r-space means the same thing to every table a shard ever
 * has (Redis SCAN's reverse-binary cursor, made exact):
 *
 *  - one step takes the window [p, e) of the home bucket that contains p
 *    in the shard's current table, and reports every entry whose r(h) lies
 *    in it, found by the same walk a lookup does (the home's probe chain,
 *    then the next table's chains for the window when a bucket on the way
 *    is MOVED);
 *  - an entry is reported only in the step whose window holds its r(h),
 *    and windows never overlap, so nothing is reported twice even when
 *    entries move between tables; inside one step a key met twice (in an
 *    unmoved bucket and, copied, in the next table; or replaced further
 *    along its chain) is reported once;
 *  - a key present throughout the step is found by that walk (the lookup
 *    argument, doc/map.md), so each key present for the whole range is
 *    reported exactly once, and by scan at least once.
 *
 * fn runs inside the step's read section with no lock held: the keys and
 * out-of-line entries it sees stay valid however the map changes
 * meanwhile; inline values are passed as copies taken in the walk.
 */
#include <stdlib.h>

#include "map/probe.h"

#define ITER_BUF 64
/* Windows are split (when one holds more than ITER_BUF entries), and a
 * stopped scan resumes, only at this alignment: it keeps a scan cursor's
 * low shard bits free, and one bit more for CURSOR_LIVE. */
#define ITER_MIN_WINDOW ((uint64_t)1 << (MAP_MAX_SHARD_BITS + 1))
/* Set in every cursor but the final 0, so a scan stopped at its very
 * start does not read as done. */
#define CURSOR_LIVE ((uint64_t)1)

struct iter_item {
    uint64_t h;
    struct map_view v; /* v.val NULL: an inline value, copied into vw */
    uint64_t vw;
};

struct iter_buf {
    struct iter_item *it;
    size_t n, cap;
};

/* r in [p, e), e == 0 standing for 2^64. */
static inline int in_window(uint64_t r, uint64_t p, uint64_t e)
{
    return r >= p && (e == 0 || r < e);
}

static int seen(const struct iter_buf *b, uint64_t h, const struct map_view *v)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        if (b->it[i].h == h && b->it[i].v.klen == v->klen &&
            (v->klen == 0 || memcmp(b->it[i].v.key, v->key, v->klen) == 0))
            return 1;
    return 0;
}

/* Entries of home bucket `home` of t with r(h) in [p, e); -1 when b is
 * full, else whether a MOVED bucket was passed. */
static int collect_home(const struct goconc_map *m, const struct map_table *t, size_t home,
                        uint64_t p, uint64_t e, struct iter_buf *b)
{
    struct map_probe pr;
    uint64_t ctrl;
    int moved = 0;

    map_probe_init(&pr, t->mask, home, 0);
    do {
        const struct map_bucket *bk = &t->bkt[pr.b];
        uint64_t live;
        /* Acquire: as in map_lookup, the slots behind a LIVE tag. */
        ctrl = at_load_acq(&t->ctrl[pr.b]);
        if (ctrl & MAP_CTRL_MOVED) {
            moved = 1;
        } else if (ctrl & MAP_HIGH7) {
            uint64_t meta = at_load(&bk->meta);
            for (live = ctrl & MAP_HIGH7; live; live &= live - 1) {
                unsigned i = map_first(live), lens = map_lens(meta, i);
                uint64_t h = map_slot_hash(m, &bk->s[i], lens);
                struct map_view v;
                if ((h & t->mask) != home || !in_window(map_rev64(h), p, e))
                    continue;
                map_slot_view(&bk->s[i], lens, &v);
                if (seen(b, h, &v))
                    continue;
                if (b->n == b->cap)
                    return -1;
                b->it[b->n].h = h;
                b->it[b->n].v = v;
                if (lens != MAP_LENS_OOL) {
                    /* A copy: a map without peek rewrites inline values
                     * in place (home_put; acquire pairs with its release
                     * store), and fn must see one value, not a mix. */
                    b->it[b->n].v.val = NULL;
                    b->it[b->n].vw = at_load_acq(&bk->s[i].v);
                }
                b->n++;
            }
        }
    } while (map_probe_on(&pr, ctrl));
    return moved;
}

/* Every entry with r(h) in [p, e) reachable from t.  0, or -1 when b
 * overflowed. */
static int collect(const struct goconc_map *m, const struct map_table *t, uint64_t p,
                   uint64_t e, struct iter_buf *b)
{
    b->n = 0;
    for (;;) {
        unsigned lg = t->log2;
        uint64_t step = lg ? (uint64_t)1 << (64 - lg) : 0;
        uint64_t q = lg ? p & ~(step - 1) : 0;
        int moved = 0, r;

        /* The homes of t that cover the window, in r order. */
        for (;;) {
            r = collect_home(m, t, (size_t)(map_rev64(q) & t->mask), p, e, b);
            if (r < 0)
                return -1;
            moved |= r;
            if (lg == 0 || (q += step) == 0 || (e != 0 && q >= e))
                break;
        }
        if (!moved)
            return 0;
        /* Acquire pairs with the release store of next before the first
         * MOVED bit (migrate.c start_moving). */
        t = at_loadp_acq(&t->next);
    }
}

static int by_position(const void *a, const void *b)
{
    uint64_t ra = map_rev64(((const struct iter_item *)a)->h);
    uint64_t rb = map_rev64(((const struct iter_item *)b)->h);
    return ra < rb ? -1 : ra > rb;
}

/*
 * Where a step whose fn stopped at item i resumes: the aligned block of
 * r-space that holds the next item (items of that block before it are
 * visited again), or the window's end e after the last one.  Only keys
 * whose hashes agree in their top bits down to ITER_MIN_WINDOW leave it
 * at p.
 */
static uint64_t resume_at(const struct iter_buf *b, size_t i, uint64_t p, uint64_t e)
{
    uint64_t q;
    if (i + 1 == b->n)
        return e;
    q = map_rev64(b->it[i + 1].h) & ~(ITER_MIN_WINDOW - 1);
    return q > p ? q : p;
}

/*
 * If fn unwinds (a C++ exception, a cancellation) instead of returning,
 * this runs as iter_step's frame goes (the cleanup attribute; the library
 * is built with -fexceptions): the read section is left and the buffer
 * freed, as a stop would.
 */
struct iter_unwind {
    struct iter_buf *b;
    const struct iter_item *local;
    int in_fn;
};

static void iter_unwound(struct iter_unwind *u)
{
    if (!u->in_fn)
        return;
    goconc_read_unlock_inline_();
    if (u->b->it != u->local)
        gc_free(u->b->it);
}

/*
 * One window of shard s from *pp: report its entries to fn, in r order
 * when `resumable` (a scan; range never resumes, so it skips the sort).
 * GOCONC_OK with *pp moved to the window's end, or GOCONC_STOPPED with
 * *pp where a resumed scan goes on (resume_at); *done says whether that
 * is the shard's end.  GOCONC_ENOMEM (see below) leaves *pp unchanged.
 */
static int iter_step(struct goconc_map *m, unsigned s, uint64_t *pp, int *done, int resumable,
                     goconc_visit_fn fn, void *ctx, size_t *visited)
{
    struct iter_item local[ITER_BUF];
    struct iter_buf b = { local, 0, ITER_BUF };
    struct iter_unwind unwind __attribute__((cleanup(iter_unwound))) = { &b, local, 0 };
    const struct map_table *t;
    uint64_t p = *pp, e;
    size_t i;
    int rc = GOCONC_OK;

    goconc_read_lock_inline_();
    t = map_table_of(at_load_acq(&m->cur[s]));
    e = t->log2 ? (p & ~(((uint64_t)1 << (64 - t->log2)) - 1)) + ((uint64_t)1 << (64 - t->log2))
                : 0;
    while (collect(m, t, p, e, &b) < 0) {
        uint64_t half = (e - p) ? (e - p) / 2 : (uint64_t)1 << 63;
        half &= ~(ITER_MIN_WINDOW - 1);
        if (half != 0) {
            e = p + half;
            continue;
        }
        /* More than ITER_BUF keys whose hashes agree in 47 bits (not
         * seen with a keyed hash): a bigger buffer. */
        if (b.it != local)
            gc_free(b.it);
        b.cap *= 2;
        if ((b.it = gc_alloc(b.cap * sizeof *b.it)) == NULL) {
            rc = GOCONC_ENOMEM;
            break;
        }
    }
    if (rc == GOCONC_OK) {
        /* In r order, so a stop inside the window can resume inside it. */
        if (resumable)
            qsort(b.it, b.n, sizeof *b.it, by_position);
        *pp = e;
    }
    unwind.in_fn = 1;
    for (i = 0; rc == GOCONC_OK && i < b.n; i++) {
        const struct map_view *v = &b.it[i].v;
        const void *val = v->val != NULL ? v->val : (const void *)&b.it[i].vw;
        if (fn(ctx, v->key, v->klen, val, v->vlen) != 0) {
            rc = GOCONC_STOPPED;
            if (resumable)
                *pp = resume_at(&b, i, p, e);
        }
    }
    unwind.in_fn = 0;
    goconc_read_unlock_inline_();
    if (b.it != local)
        gc_free(b.it);
    *visited += i;
    *done = rc != GOCONC_ENOMEM && *pp == e && e == 0;
    return rc;
}

GOCONC_API int goconc_map_range(goconc_map *m, goconc_visit_fn fn, void *ctx)
{
    unsigned s;
    size_t visited = 0;
    int rc = GOCONC_OK;

    if (m == NULL || fn == NULL)
        return GOCONC_EINVAL;
    for (s = 0; s < m->nshards && rc == GOCONC_OK; s++) {
        uint64_t p = 0;
        int done;
        do
            rc = iter_step(m, s, &p, &done, 0, fn, ctx, &visited);
        while (rc == GOCONC_OK && !done);
    }
    gc_poll();
    return rc;
}

/* Cursor: shard in the top sb bits, the r-space position shifted right by
 * sb below (positions keep their low sb + 1 bits zero), CURSOR_LIVE. */
static uint64_t cursor_of(const struct goconc_map *m, unsigned s, uint64_t p)
{
    return (m->sb ? ((uint64_t)s << (64 - m->sb)) | (p >> m->sb) : p) | CURSOR_LIVE;
}

GOCONC_API int goconc_map_scan(goconc_map *m, uint64_t *cursor, size_t max_entries,
                               goconc_visit_fn fn, void *ctx)
{
    unsigned s;
    uint64_t c, p;
    size_t visited = 0;
    int rc, done;

    if (m == NULL || cursor == NULL || fn == NULL || max_entries == 0)
        return GOCONC_EINVAL;
    c = *cursor & ~CURSOR_LIVE;
    s = m->sb ? (unsigned)(c >> (64 - m->sb)) : 0;
    p = m->sb ? c << m->sb : c;
    for (;;) {
        rc = iter_step(m, s, &p, &done, 1, fn, ctx, &visited);
        if (done && ++s == m->nshards) {
            *cursor = 0;
            break;
        }
        if (rc != GOCONC_OK || visited >= max_entries) {
            *cursor = cursor_of(m, s, p);
            break;
        }
    }
    gc_poll();
    return rc;
}
