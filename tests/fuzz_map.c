/* SPDX-License-Identifier: MIT */
/*
 * fuzz_map.c - model-based libFuzzer target for goconc_map.
 *
 * The input is a program: byte 0 picks the options (shard count, whether
 * on_drop is set, GOCONC_MAP_NO_PEEK), then each 3-byte instruction (op,
 * key, arg) runs one call on the map and the same step on a trivially
 * correct model (an array of key slots), and every result is compared:
 * statuses, copied-out values and lengths, peeked bytes, range (each
 * present key exactly once, nothing else), scan (each present key at
 * least once), len, stats.  At the end every value stored must have
 * reached on_drop exactly once.
 *
 * Keys come from 48 ids with lengths 0..20 (inline and out of line);
 * values have 0..40 bytes.  On a map without peek a quarter of the values
 * have 8 bytes, so that overwrites of an inline value by one of the same
 * length, which such a map stores in place, are common.  A mismatch
 * prints the step and aborts, which libFuzzer reports as a crash.
 *
 * Build (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *     tests/fuzz_map.c -Lbuild/src -lgoconc -Wl,-rpath,build/src -o fuzz_map
 *   ./fuzz_map tests/corpus/map
 * CI runs the checked-in corpus through tests/fuzz_replay.c (as
 * fuzz_map_replay) and, in the clang build (-Dfuzz=true), fuzzes 30 s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goconc.h"

#define FZ_IDS 48
#define FZ_VMAX 40

struct fz_model {
    int present[FZ_IDS];
    unsigned char val[FZ_IDS][FZ_VMAX];
    size_t vlen[FZ_IDS];
    size_t n;
};

static long fz_stored, fz_dropped;
static size_t fz_step;
static int fz_no_peek; /* the map has GOCONC_MAP_NO_PEEK */

#define FZ_CHECK(cond, ...)                                                                \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_map: step %zu: check failed: %s: ", fz_step, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static size_t fz_key(unsigned id, unsigned char *k)
{
    size_t len = id == 0 ? 0 : 1 + (id * 7u) % 20u, i; /* 0..20 bytes */
    for (i = 0; i < len; i++)
        k[i] = (unsigned char)(id * 31u + i * 5u);
    if (len)
        k[0] = (unsigned char)id; /* distinct ids, distinct keys */
    return len;
}

/* The id of key bytes k (fz_key's inverse), or FZ_IDS. */
static unsigned fz_id_of(const void *k, size_t len)
{
    unsigned char buf[32];
    unsigned id;
    for (id = 0; id < FZ_IDS; id++)
        if (fz_key(id, buf) == len && (len == 0 || memcmp(buf, k, len) == 0))
            return id;
    return FZ_IDS;
}

static size_t fz_val(unsigned arg, unsigned salt, unsigned char *v)
{
    size_t len = fz_no_peek && (arg & 0x30) == 0x30 ? 8 : arg % (FZ_VMAX + 1), i;
    for (i = 0; i < len; i++)
        v[i] = (unsigned char)(arg * 13u + salt * 7u + i);
    return len;
}

static void fz_drop(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx;
    (void)v;
    FZ_CHECK(fz_id_of(k, kl) < FZ_IDS && vl <= FZ_VMAX, "drop of a foreign entry");
    fz_dropped++;
}

static void fz_expect_val(const struct fz_model *md, unsigned id, const void *v, size_t n)
{
    FZ_CHECK(n == md->vlen[id] && (n == 0 || memcmp(v, md->val[id], n) == 0),
             "id %u: value of %zu bytes, model has %zu", id, n, md->vlen[id]);
}

static void fz_set(struct fz_model *md, unsigned id, const unsigned char *v, size_t n)
{
    if (!md->present[id])
        md->n++;
    md->present[id] = 1;
    memcpy(md->val[id], v, n);
    md->vlen[id] = n;
    fz_stored++;
}

static void fz_del(struct fz_model *md, unsigned id)
{
    if (md->present[id])
        md->n--;
    md->present[id] = 0;
}

struct fz_walk {
    unsigned count[FZ_IDS];
    size_t visits, stop_after;
    const struct fz_model *md;
};

static int fz_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct fz_walk *w = ctx;
    unsigned id = fz_id_of(k, kl);
    FZ_CHECK(id < FZ_IDS && w->md->present[id], "walk saw a key not in the model");
    fz_expect_val(w->md, id, v, vl);
    w->count[id]++;
    w->visits++;
    return w->stop_after && w->visits == w->stop_after;
}

struct fz_upd {
    int ret;
    const unsigned char *nv;
    size_t nl;
    int found;
    unsigned char old[FZ_VMAX];
    size_t oldlen;
};

static int fz_update_fn(void *ctx, const void *old, size_t oldlen, int found,
                        const void **nv, size_t *nl)
{
    struct fz_upd *u = ctx;
    u->found = found;
    u->oldlen = oldlen;
    if (found && oldlen <= FZ_VMAX)
        memcpy(u->old, old, oldlen);
    *nv = u->nv;
    *nl = u->nl;
    return u->ret;
}

static void fz_check_all(goconc_map *m, const struct fz_model *md)
{
    unsigned char k[32], out[FZ_VMAX];
    unsigned id;
    size_t n;
    for (id = 0; id < FZ_IDS; id++) {
        size_t kl = fz_key(id, k);
        int rc = goconc_map_load(m, k, kl, out, sizeof out, &n);
        FZ_CHECK(rc == (md->present[id] ? GOCONC_OK : GOCONC_NOTFOUND), "id %u load %d", id,
                 rc);
        if (rc == GOCONC_OK)
            fz_expect_val(md, id, out, n);
    }
    FZ_CHECK(goconc_map_len(m) == md->n, "len %zu model %zu", goconc_map_len(m), md->n);
}

/*
 * The peek step of a map without peek: peek is refused whatever the key,
 * and a value overwritten inside a read section (in place when inline
 * and of the same length) reads back new at once, the old copy intact.
 */
static void fz_no_peek_step(goconc_map *m, struct fz_model *md, unsigned id,
                            const unsigned char *k, size_t kl, const unsigned char *v, size_t vl,
                            unsigned arg)
{
    unsigned char before[FZ_VMAX], after[FZ_VMAX];
    const void *pv = NULL;
    size_t n = 0;
    int p = md->present[id], rc;

    goconc_read_lock();
    rc = goconc_map_peek(m, k, kl, &pv, &n);
    FZ_CHECK(rc == GOCONC_EINVAL && pv == NULL, "peek on a map without peek %d", rc);
    rc = goconc_map_load(m, k, kl, before, sizeof before, &n);
    FZ_CHECK(rc == (p ? GOCONC_OK : GOCONC_NOTFOUND), "load in section %d", rc);
    if (p)
        fz_expect_val(md, id, before, n);
    FZ_CHECK(goconc_map_store(m, k, kl, v, vl) == GOCONC_OK, "store in section");
    fz_set(md, id, v, vl);
    rc = goconc_map_load(m, k, kl, after, sizeof after, &n);
    FZ_CHECK(rc == GOCONC_OK, "load after store in section %d", rc);
    fz_expect_val(md, id, after, n);
    if (arg & 1) {
        FZ_CHECK(goconc_map_delete(m, k, kl) == GOCONC_OK, "delete in section");
        fz_del(md, id);
    }
    goconc_read_unlock();
}

static void fz_step_run(goconc_map *m, struct fz_model *md, unsigned op, unsigned id,
                        unsigned arg)
{
    unsigned char k[32], v[FZ_VMAX], out[FZ_VMAX];
    size_t kl = fz_key(id, k), vl = fz_val(arg, (unsigned)fz_step, v), n = 0;
    size_t cap = arg & 0x80 ? (arg & 0x3F) : sizeof out; /* sometimes short */
    int p = md->present[id], rc;

    switch (op % 18) {
    case 0:
    case 1:
        FZ_CHECK(goconc_map_store(m, k, kl, v, vl) == GOCONC_OK, "store");
        fz_set(md, id, v, vl);
        break;
    case 2:
        rc = goconc_map_load(m, k, kl, out, cap, &n);
        if (!p)
            FZ_CHECK(rc == GOCONC_NOTFOUND, "load %d", rc);
        else if (cap < md->vlen[id])
            FZ_CHECK(rc == GOCONC_ERANGE && n == md->vlen[id], "load short %d", rc);
        else {
            FZ_CHECK(rc == GOCONC_OK, "load %d", rc);
            fz_expect_val(md, id, out, n);
        }
        break;
    case 3: {
        const void *pv;
        if (fz_no_peek) {
            fz_no_peek_step(m, md, id, k, kl, v, vl, arg);
            break;
        }
        goconc_read_lock();
        rc = goconc_map_peek(m, k, kl, &pv, &n);
        FZ_CHECK(rc == (p ? GOCONC_OK : GOCONC_NOTFOUND), "peek %d", rc);
        if (p) {
            unsigned char copy[FZ_VMAX];
            memcpy(copy, pv, n);
            /* Overwrite and delete it while lent: bytes stay. */
            FZ_CHECK(goconc_map_store(m, k, kl, v, vl) == GOCONC_OK, "store under peek");
            fz_set(md, id, v, vl);
            if (arg & 1) {
                FZ_CHECK(goconc_map_delete(m, k, kl) == GOCONC_OK, "delete under peek");
                fz_del(md, id);
            }
            FZ_CHECK(memcmp(copy, pv, n) == 0, "peeked bytes changed");
        }
        goconc_read_unlock();
        break;
    }
    case 4:
        rc = goconc_map_load_or_store(m, k, kl, v, vl, out, cap, &n);
        if (!p) {
            FZ_CHECK(rc == GOCONC_OK, "los %d", rc);
            fz_set(md, id, v, vl);
        } else if (cap < md->vlen[id]) {
            FZ_CHECK(rc == GOCONC_ERANGE && n == md->vlen[id], "los short %d", rc);
        } else {
            FZ_CHECK(rc == GOCONC_EXISTS, "los %d", rc);
            fz_expect_val(md, id, out, n);
        }
        break;
    case 5:
        rc = goconc_map_load_and_delete(m, k, kl, out, cap, &n);
        if (!p) {
            FZ_CHECK(rc == GOCONC_NOTFOUND, "lad %d", rc);
        } else if (cap < md->vlen[id]) {
            FZ_CHECK(rc == GOCONC_ERANGE && n == md->vlen[id], "lad short %d", rc);
        } else {
            FZ_CHECK(rc == GOCONC_OK, "lad %d", rc);
            fz_expect_val(md, id, out, n);
            fz_del(md, id);
        }
        break;
    case 6:
    case 7:
        rc = goconc_map_delete(m, k, kl);
        FZ_CHECK(rc == (p ? GOCONC_OK : GOCONC_NOTFOUND), "delete %d", rc);
        fz_del(md, id);
        break;
    case 8:
        rc = goconc_map_swap(m, k, kl, v, vl, out, cap, &n);
        if (!p) {
            FZ_CHECK(rc == GOCONC_NOTFOUND, "swap %d", rc);
            fz_set(md, id, v, vl);
        } else if (cap < md->vlen[id]) {
            FZ_CHECK(rc == GOCONC_ERANGE && n == md->vlen[id], "swap short %d", rc);
        } else {
            FZ_CHECK(rc == GOCONC_OK, "swap %d", rc);
            fz_expect_val(md, id, out, n);
            fz_set(md, id, v, vl);
        }
        break;
    case 9: {
        int right = p && (arg & 2);
        const unsigned char *old = right ? md->val[id] : v;
        size_t oldlen = right ? md->vlen[id] : vl;
        unsigned char nv[FZ_VMAX];
        size_t nl = fz_val(arg + 1, (unsigned)fz_step, nv);
        int same = p && oldlen == md->vlen[id] && memcmp(old, md->val[id], oldlen) == 0;
        rc = goconc_map_compare_and_swap(m, k, kl, old, oldlen, nv, nl);
        FZ_CHECK(rc == (!p ? GOCONC_NOTFOUND : same ? GOCONC_OK : GOCONC_CHANGED), "cas %d", rc);
        if (rc == GOCONC_OK)
            fz_set(md, id, nv, nl);
        break;
    }
    case 10: {
        int right = p && (arg & 2);
        const unsigned char *old = right ? md->val[id] : v;
        size_t oldlen = right ? md->vlen[id] : vl;
        int same = p && oldlen == md->vlen[id] && memcmp(old, md->val[id], oldlen) == 0;
        rc = goconc_map_compare_and_delete(m, k, kl, old, oldlen);
        FZ_CHECK(rc == (!p ? GOCONC_NOTFOUND : same ? GOCONC_OK : GOCONC_CHANGED), "cad %d", rc);
        if (rc == GOCONC_OK)
            fz_del(md, id);
        break;
    }
    case 11: {
        struct fz_upd u;
        memset(&u, 0, sizeof u);
        u.ret = GOCONC_UPDATE_KEEP + (int)(arg % 3);
        u.nv = v;
        u.nl = vl;
        rc = goconc_map_update(m, k, kl, fz_update_fn, &u);
        FZ_CHECK(rc == GOCONC_OK && u.found == p, "update %d found %d", rc, u.found);
        if (p) {
            FZ_CHECK(u.oldlen == md->vlen[id] && memcmp(u.old, md->val[id], u.oldlen) == 0,
                     "update old value");
        }
        if (u.ret == GOCONC_UPDATE_STORE)
            fz_set(md, id, v, vl);
        else if (u.ret == GOCONC_UPDATE_DELETE)
            fz_del(md, id);
        break;
    }
    case 12: {
        struct fz_walk w;
        unsigned i;
        memset(&w, 0, sizeof w);
        w.md = md;
        w.stop_after = arg & 0x40 ? (arg & 7) + 1 : 0;
        rc = goconc_map_range(m, fz_visit, &w);
        if (w.stop_after && w.stop_after <= md->n) {
            FZ_CHECK(rc == GOCONC_STOPPED && w.visits == w.stop_after, "range stop %d", rc);
        } else {
            FZ_CHECK(rc == GOCONC_OK, "range %d", rc);
            for (i = 0; i < FZ_IDS; i++)
                FZ_CHECK(w.count[i] == (unsigned)md->present[i], "range id %u x%u", i,
                         w.count[i]);
        }
        break;
    }
    case 13: {
        struct fz_walk w;
        uint64_t cursor = 0;
        unsigned i, calls = 0;
        memset(&w, 0, sizeof w);
        w.md = md;
        do {
            rc = goconc_map_scan(m, &cursor, (arg % 5) + 1, fz_visit, &w);
            FZ_CHECK(rc == GOCONC_OK, "scan %d", rc);
            FZ_CHECK(++calls < 100000, "scan does not end");
        } while (cursor != 0);
        for (i = 0; i < FZ_IDS; i++)
            FZ_CHECK(w.count[i] == (unsigned)md->present[i], "scan id %u x%u", i, w.count[i]);
        break;
    }
    case 14:
        FZ_CHECK(goconc_map_reserve(m, (size_t)arg * 40) == GOCONC_OK, "reserve");
        break;
    case 15:
        FZ_CHECK(goconc_map_maintain(m, arg, &n) == GOCONC_OK && n <= arg, "maintain");
        break;
    case 16:
        if (arg % 4 == 0) {
            FZ_CHECK(goconc_map_clear(m) == GOCONC_OK, "clear");
            for (id = 0; id < FZ_IDS; id++)
                fz_del(md, id);
        }
        break;
    default: {
        goconc_map_stats st = GOCONC_MAP_STATS_INIT;
        FZ_CHECK(goconc_map_stats_get(m, &st) == GOCONC_OK && st.len == md->n, "stats");
        fz_check_all(m, md);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_model md;
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m = NULL;
    size_t i;

    if (size < 1)
        return 0;
    memset(&md, 0, sizeof md);
    fz_stored = fz_dropped = 0;
    fz_step = 0;
    o.shards = 1u << (data[0] & 3);
    o.seed = data[0] & 4 ? 0 : 0x5eed;
    o.on_drop = data[0] & 8 ? fz_drop : NULL;
    o.capacity_hint = data[0] & 16 ? 100 : 0;
    fz_no_peek = (data[0] & 32) != 0;
    o.flags = fz_no_peek ? GOCONC_MAP_NO_PEEK : 0;
    FZ_CHECK(goconc_map_new(&m, &o) == GOCONC_OK, "new");
    for (i = 1; i + 3 <= size; i += 3) {
        fz_step++;
        fz_step_run(m, &md, data[i], data[i + 1] % FZ_IDS, data[i + 2]);
    }
    fz_check_all(m, &md);
    goconc_map_free(m);
    FZ_CHECK(goconc_barrier() == GOCONC_OK, "barrier");
    if (o.on_drop)
        FZ_CHECK(fz_dropped == fz_stored, "%ld values stored, %ld dropped", fz_stored,
                 fz_dropped);
    return 0;
}
