/* SPDX-License-Identifier: MIT */
/*
 * torture_seq.c - the torture's once objects and slices (oracles in
 * tests/torture.c).
 */
#include <sched.h>

#include "torture.h"

#define NONCE 65536 /* the cursor moves every ~64 once ops: enough for long runs */
static goconc_once once_do_o[NONCE], once_try_o[NONCE];
static uint64_t once_do_runs[NONCE], once_do_data[NONCE];
static uint64_t once_try_ok[NONCE], once_try_data[NONCE];
static unsigned once_cursor; /* which ones are in play now */

struct once_ctx {
    unsigned i;
    int reentry;   /* 1: fn re-enters its once; result in deadlk */
    int ran, deadlk;
    int fail;      /* once_try: fail this attempt */
};

static void once_noop(void *ctx) { (void)ctx; }

static void once_do_fn(void *ctx)
{
    struct once_ctx *c = ctx;
    add(&once_do_runs[c->i], 1);
    c->ran = 1;
    if (c->reentry)
        c->deadlk = goconc_once_do(&once_do_o[c->i], once_noop, NULL) == GOCONC_EDEADLK;
    /* Plain store: once_do's return must order it before every caller. */
    once_do_data[c->i] = 0x1000 + c->i;
}

static int once_try_fn(void *ctx)
{
    struct once_ctx *c = ctx;
    if (c->fail)
        return 77;
    once_try_data[c->i] = 0x2000 + c->i;
    add(&once_try_ok[c->i], 1);
    return 0;
}

static unsigned once_pick(struct slot *s)
{
    unsigned cur = ld(&once_cursor);
    if (rndn(s, 64) == 0 && cur + 1 < NONCE)
        __atomic_compare_exchange_n(&once_cursor, &cur, cur + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE);
    return cur > 0 && rndn(s, 2) ? cur - 1 : cur;
}

void once_do_op(struct slot *s)
{
    struct once_ctx c = { once_pick(s), rndn(s, 8) == 0, 0, 0, 0 };
    int rc = goconc_once_do(&once_do_o[c.i], once_do_fn, &c);
    CHECK(rc == GOCONC_OK, "once_do %u: rc %d", c.i, rc);
    CHECK(goconc_once_done(&once_do_o[c.i]), "once_do %u: not done after it returned", c.i);
    CHECK(once_do_data[c.i] == 0x1000 + c.i, "once_do %u: fn's write not visible", c.i);
    CHECK(ld(&once_do_runs[c.i]) == 1, "once_do %u: fn ran %" PRIu64 " times", c.i,
          ld(&once_do_runs[c.i]));
    CHECK(!c.ran || !c.reentry || c.deadlk, "once_do %u: re-entry from fn did not answer EDEADLK",
          c.i);
}

void once_try_op(struct slot *s)
{
    struct once_ctx c = { once_pick(s), 0, 0, 0, (int)rndn(s, 2) };
    int rc = goconc_once_try(&once_try_o[c.i], once_try_fn, &c);
    CHECK(rc == GOCONC_OK || (rc == 77 && c.fail), "once_try %u: rc %d (fail %d)", c.i, rc,
          c.fail);
    if (rc == GOCONC_OK) {
        CHECK(goconc_once_done(&once_try_o[c.i]), "once_try %u: not done after OK", c.i);
        CHECK(once_try_data[c.i] == 0x2000 + c.i, "once_try %u: fn's write not visible", c.i);
        CHECK(ld(&once_try_ok[c.i]) == 1, "once_try %u: succeeded %" PRIu64 " times", c.i,
              ld(&once_try_ok[c.i]));
    }
}

/* -------------------------------------------------------------- slice */

/*
 * Shared slice: elements (slot + 1) << 40 | seq.  A slot appends its
 * sequence in order, so every snapshot shows each slot's 0, 1, 2, ...
 * with no gap, duplicate or reordering.  Appends stop at SLICE_LIMIT to
 * bound memory; snapshots go on.
 */
#define SLICE_LIMIT (1u << 16)
static goconc_slice *shared_slice;

static uint64_t elem_of(unsigned slot, uint64_t seq) { return (uint64_t)(slot + 1) << 40 | seq; }

void slice_append_op(struct slot *s)
{
    uint64_t e[4];
    size_t first = 0, j, n = rndn(s, 4) == 0 ? 1 + rndn(s, 4) : 1;
    int rc;
    if (goconc_slice_len(shared_slice) >= SLICE_LIMIT)
        return;
    for (j = 0; j < n; j++)
        e[j] = elem_of(s->idx, s->app_seq + j);
    rc = goconc_slice_append(shared_slice, e, n, &first);
    CHECK(rc == GOCONC_OK, "slice append: rc %d", rc);
    if (rc != GOCONC_OK)
        return;
    s->app_seq += n;
    for (j = 0; j < n; j++) {
        uint64_t got = 0;
        rc = goconc_slice_get(shared_slice, first + j, &got);
        CHECK(rc == GOCONC_OK && got == e[j], "slice append: index %zu holds %" PRIx64
              " not %" PRIx64 " (rc %d)", first + j, got, e[j], rc);
    }
}

/* Check a snapshot's per-slot sequences; returns a checksum of it and,
 * with counts, each slot's number of elements. */
static uint64_t view_check(const goconc_view *v, const char *who, uint64_t *counts)
{
    uint64_t *next = counts ? counts : calloc(nslots, sizeof *next), sum = 0, bad = 0;
    const uint64_t *d = v->data;
    size_t i;
    if (next == NULL)
        return 0;
    for (i = 0; i < v->len; i++) {
        uint64_t slot = (d[i] >> 40) - 1, seq = d[i] & ((1ull << 40) - 1);
        if (slot >= nslots || seq != next[slot]) {
            bad++;
            continue;
        }
        next[slot]++;
        sum = sum * 31 + d[i];
    }
    CHECK(bad == 0, "%s: %" PRIu64 " of %zu elements out of sequence", who, bad, v->len);
    if (next != counts)
        free(next);
    return sum;
}

void slice_view_op(struct slot *s, struct held *h)
{
    if (h->has_view) {
        CHECK(view_check(&h->view, "held view", NULL) == h->view_sum,
              "held view: contents changed while held");
        goconc_view_release(&h->view);
        h->has_view = 0;
        return;
    }
    int rc = goconc_slice_snapshot(shared_slice, &h->view);
    CHECK(rc == GOCONC_OK, "slice snapshot: rc %d", rc);
    if (rc != GOCONC_OK)
        return;
    h->view_sum = view_check(&h->view, "snapshot", NULL);
    h->has_view = 1;
    (void)s;
}

/* Private slice: exact model, through set/get, reslice, clone and copy. */
void slice_priv_op(struct slot *s)
{
    size_t i = rndn(s, PRIV_LEN), n = 0;
    uint64_t e = rnd(s), got = 0;
    goconc_slice *r = NULL, *c = NULL;
    int rc;

    switch (rndn(s, 4)) {
    case 0:
        rc = goconc_slice_set(s->priv, i, &e);
        CHECK(rc == GOCONC_OK, "private set: rc %d", rc);
        if (rc == GOCONC_OK)
            s->priv_model[i] = e;
        break;
    case 1:
        rc = goconc_slice_get(s->priv, i, &got);
        CHECK(rc == GOCONC_OK && got == s->priv_model[i], "private get %zu: rc %d", i, rc);
        break;
    case 2: /* a reslice shares storage: a set through it shows in priv */
        rc = goconc_slice_reslice(s->priv, i, PRIV_LEN, PRIV_LEN, &r);
        CHECK(rc == GOCONC_OK, "private reslice: rc %d", rc);
        if (rc != GOCONC_OK)
            break;
        rc = goconc_slice_set(r, 0, &e);
        if (rc == GOCONC_OK)
            s->priv_model[i] = e;
        rc = goconc_slice_get(s->priv, i, &got);
        CHECK(rc == GOCONC_OK && got == s->priv_model[i], "private reslice: set not shared");
        goconc_slice_free(r);
        break;
    default: /* clone, scribble on it, copy back: unchanged */
        rc = goconc_slice_clone(s->priv, &c);
        CHECK(rc == GOCONC_OK, "private clone: rc %d", rc);
        if (rc != GOCONC_OK)
            break;
        torture_discard(goconc_slice_set(c, i, &e));
        torture_discard(goconc_slice_set(c, i, &s->priv_model[i]));
        rc = goconc_slice_copy(s->priv, c, &n);
        CHECK(rc == GOCONC_OK && n == PRIV_LEN, "private copy: rc %d, %zu copied", rc, n);
        for (i = 0; i < PRIV_LEN; i++) {
            torture_discard(goconc_slice_get(s->priv, i, &got));
            CHECK(got == s->priv_model[i], "private clone/copy: element %zu changed", i);
        }
        goconc_slice_free(c);
        break;
    }
}

void slice_held_leave(struct held *h)
{
    if (!h->has_view)
        return;
    CHECK(view_check(&h->view, "held view", NULL) == h->view_sum,
          "held view: contents changed while held");
    goconc_view_release(&h->view);
    h->has_view = 0;
}

/* ------------------------------------------------------ the run's ends */

int seq_setup(void)
{
    unsigned i;
    int rc = goconc_slice_new(&shared_slice, sizeof(uint64_t), 0, 0);
    for (i = 0; i < nslots; i++)
        rc |= goconc_slice_new(&slots[i].priv, sizeof(uint64_t), PRIV_LEN, PRIV_LEN);
    return rc;
}

/* Everything stopped: the slice holds every append, in order per slot;
 * each once object ran (or succeeded) once iff it is done. */
void seq_final_check(void)
{
    uint64_t i, appended = 0, *cnt = calloc(nslots, sizeof *cnt);
    goconc_view v;

    for (i = 0; i < nslots; i++)
        appended += slots[i].app_seq;
    CHECK(goconc_slice_len(shared_slice) == appended, "final: slice len %zu, appended %" PRIu64,
          goconc_slice_len(shared_slice), appended);
    if (cnt != NULL && goconc_slice_snapshot(shared_slice, &v) == GOCONC_OK) {
        (void)view_check(&v, "final slice", cnt);
        for (i = 0; i < nslots; i++)
            CHECK(cnt[i] == slots[i].app_seq, "final: slot %" PRIu64 " has %" PRIu64
                  " elements, appended %" PRIu64, i, cnt[i], slots[i].app_seq);
        goconc_view_release(&v);
    }
    free(cnt);
    for (i = 0; i < NONCE; i++) {
        CHECK(ld(&once_do_runs[i]) == (goconc_once_done(&once_do_o[i]) ? 1u : 0u),
              "final: once_do %" PRIu64 " ran %" PRIu64 " times", i, once_do_runs[i]);
        CHECK(ld(&once_try_ok[i]) == (goconc_once_done(&once_try_o[i]) ? 1u : 0u),
              "final: once_try %" PRIu64 " succeeded %" PRIu64 " times", i, once_try_ok[i]);
    }
}

void seq_free_all(void)
{
    unsigned i;
    goconc_slice_free(shared_slice);
    for (i = 0; i < nslots; i++)
        goconc_slice_free(slots[i].priv);
}
