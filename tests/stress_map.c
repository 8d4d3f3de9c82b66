/* SPDX-License-Identifier: MIT */
/*
 * stress_map.c - multi-threaded stress of goconc_map against exact models.
 *
 * 1. Model: each writer owns the key ids i with i % NWRITERS == w and
 *    keeps an exact model of them; every result of every call (status,
 *    copied-out value, length) is checked against it.  The writers' live
 *    populations swell and drain in phases, so shards grow and shrink
 *    (migrate) all the time; a few writes are update functions that try
 *    to write the map from inside (must be EDEADLK).  Readers load and
 *    peek any id: every value they see must have been stored for that key
 *    (it names its key, and its version is not newer than the newest the
 *    owner had announced); a peeked value must not change until the read
 *    section ends; "stable" keys that never change must always be found
 *    with their value.  A ranger walks the map with range (each stable key
 *    exactly once, no key twice per walk) and scan (each stable key at
 *    least once per full cursor cycle).  At the end the map must equal the
 *    models, and after free every value ever stored must have been handed
 *    to on_drop exactly once.  The same on maps without peek
 *    (GOCONC_MAP_NO_PEEK, whose inline values are rewritten in place):
 *    peek must fail, and readers load instead.
 * 2. Clear: writers store and delete while another thread clears; readers
 *    check value format; on_drop accounting as above.
 * 3. Growth: two threads store disjoint ranges into an empty map (issue
 *    3's W2b), readers look up keys already stored: none may be missing.
 *
 * Workers never ck_assert: they count errors (the first few printed with
 * the seed), main asserts.  Values are 8 bytes (inline) or 24 bytes (out
 * of line); keys 8 or 16 bytes.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define NWRITERS 2
#define NREADERS 2
#define KEYS_PER_WRITER 3000
#define NIDS (NWRITERS * KEYS_PER_WRITER)
#define NSTABLE 2000
#define STABLE_BASE 1000000u

static uint64_t ld64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static void add64(uint64_t *p, uint64_t v) { __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static int ldi(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static uint64_t seed0;
static unsigned map_flags; /* goconc_map_options.flags of run_model's map */
static uint64_t errors;
static uint64_t drops_seen, drops_bad;
static int stop;

#define FAIL(...)                                                                         \
    do {                                                                                  \
        if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) < 10) {                      \
            fprintf(stderr, "stress_map (seed %" PRIu64 "): ", seed0);                    \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
        }                                                                                 \
    } while (0)

/* --------------------------------------------------- keys and values */

struct key {
    unsigned char b[16];
    size_t len;
};

static void key_of(uint64_t id, struct key *k)
{
    k->len = id % 4 == 0 ? 16 : 8;
    memcpy(k->b, &id, 8);
    if (k->len == 16) {
        uint64_t x = ~id * 0x9e3779b97f4a7c15ull;
        memcpy(k->b + 8, &x, 8);
    }
}

/* Value of (id, ver): 8 bytes id << 32 | ver, or 24 bytes id, ver, check. */
struct val {
    uint64_t w[3];
    size_t len;
};

static uint64_t check_of(uint64_t id, uint64_t ver) { return (id * 0xff51afd7ed558ccdull) ^ ver; }

static void val_of(uint64_t id, uint64_t ver, struct val *v)
{
    if (ver % 3 == 0) {
        v->len = 24;
        v->w[0] = id;
        v->w[1] = ver;
        v->w[2] = check_of(id, ver);
    } else {
        v->len = 8;
        v->w[0] = id << 32 | (ver & 0xFFFFFFFFu);
    }
}

/* Decode a value seen for key id; 0 if it is not a value of that key. */
static int val_decode(uint64_t id, const void *p, size_t len, uint64_t *ver)
{
    uint64_t w[3];
    if (len == 8) {
        memcpy(w, p, 8);
        *ver = w[0] & 0xFFFFFFFFu;
        return (w[0] >> 32) == id && *ver % 3 != 0;
    }
    if (len == 24) {
        memcpy(w, p, 24);
        *ver = w[1];
        return w[0] == id && w[2] == check_of(id, w[1]) && *ver % 3 == 0;
    }
    return 0;
}

/* Newest version each id's owner has announced (before storing it). */
static uint64_t maxver[NIDS];
/* Values stored (each must reach on_drop once). */
static uint64_t created;

static void count_drop(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint64_t id, ver;
    (void)ctx;
    if (klen != 8 && klen != 16) {
        add64(&drops_bad, 1);
        return;
    }
    memcpy(&id, key, 8);
    if (id >= STABLE_BASE ? !val_decode(id, val, vlen, &ver) || ver != 1
                          : !val_decode(id, val, vlen, &ver))
        add64(&drops_bad, 1);
    add64(&drops_seen, 1);
}

/* with_drop 0: no on_drop, so overwrites and deletes of inline entries
 * retire nothing (the write path's fast case); with on_drop they retire
 * a drop record.  stable: sized for every key up front, so no shard
 * migrates for its size (tiny-shard builds still rehash every few
 * writes; a drifted small shard may double) and stores take the
 * write path's stable-shard case. */
static goconc_map *new_map(unsigned shards, int with_drop, int stable)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m = NULL;
    o.shards = shards;
    o.on_drop = with_drop ? count_drop : NULL;
    o.capacity_hint = stable ? 2 * (NIDS + NSTABLE) : 0;
    o.flags = map_flags;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    return m;
}

static void store_stable(goconc_map *m)
{
    uint64_t i;
    for (i = 0; i < NSTABLE; i++) {
        struct key k;
        struct val v;
        key_of(STABLE_BASE + i, &k);
        val_of(STABLE_BASE + i, 1, &v);
        ck_assert_int_eq(goconc_map_store(m, k.b, k.len, v.w, v.len), GOCONC_OK);
        add64(&created, 1);
    }
}

/* ------------------------------------------------------------- writers */

struct model {
    int present;
    uint64_t ver;
};

struct writer {
    pthread_t tid;
    goconc_map *m;
    unsigned w;
    uint64_t rng, ops, deadlk;
    struct model md[KEYS_PER_WRITER];
    uint64_t next_ver[KEYS_PER_WRITER];
};

/* Check a copied-out value against the model's current one. */
static void expect_val(const char *op, uint64_t id, const struct model *md, const void *out,
                       size_t n)
{
    struct val v;
    val_of(id, md->ver, &v);
    if (n != v.len || memcmp(out, v.w, v.len) != 0)
        FAIL("%s id %" PRIu64 ": got %zu bytes, model ver %" PRIu64, op, id, n, md->ver);
}

struct upd_ctx {
    struct writer *wr;
    goconc_map *m;
    const struct val *nv;
    int want;       /* KEEP/STORE/DELETE */
    int reenter;    /* try writes from inside */
    int found;
    unsigned char old[24];
    size_t oldlen;
};

static int upd_fn(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                  size_t *nl)
{
    struct upd_ctx *u = ctx;
    u->found = found;
    u->oldlen = oldlen;
    if (found && oldlen <= sizeof u->old)
        memcpy(u->old, old, oldlen);
    if (u->reenter) {
        uint64_t k = 12345;
        if (goconc_map_store(u->m, &k, 8, &k, 8) != GOCONC_EDEADLK ||
            goconc_map_delete(u->m, &k, 8) != GOCONC_EDEADLK)
            FAIL("write from update fn was not EDEADLK");
        u->wr->deadlk++;
    }
    *nv = u->nv->w;
    *nl = u->nv->len;
    return u->want;
}

/* One random op on key slot j of writer wr, checked against the model. */
static void writer_op(struct writer *wr, unsigned j, unsigned kind)
{
    uint64_t id = (uint64_t)j * NWRITERS + wr->w;
    struct model *md = &wr->md[j];
    struct key k;
    struct val nv;
    unsigned char out[32];
    size_t n = 0;
    int rc;

    key_of(id, &k);
    /* A new version, announced before it can be seen. */
    val_of(id, wr->next_ver[j], &nv);
    st64(&maxver[id], wr->next_ver[j]);
    switch (kind) {
    case 0: /* store */
        rc = goconc_map_store(wr->m, k.b, k.len, nv.w, nv.len);
        if (rc != GOCONC_OK)
            FAIL("store id %" PRIu64 ": %d", id, rc);
        md->present = 1;
        md->ver = wr->next_ver[j]++;
        add64(&created, 1);
        break;
    case 1: /* delete */
        rc = goconc_map_delete(wr->m, k.b, k.len);
        if (rc != (md->present ? GOCONC_OK : GOCONC_NOTFOUND))
            FAIL("delete id %" PRIu64 ": %d, model %d", id, rc, md->present);
        md->present = 0;
        break;
    case 2: /* swap */
        rc = goconc_map_swap(wr->m, k.b, k.len, nv.w, nv.len, out, sizeof out, &n);
        if (rc != (md->present ? GOCONC_OK : GOCONC_NOTFOUND))
            FAIL("swap id %" PRIu64 ": %d, model %d", id, rc, md->present);
        else if (rc == GOCONC_OK)
            expect_val("swap", id, md, out, n);
        md->present = 1;
        md->ver = wr->next_ver[j]++;
        add64(&created, 1);
        break;
    case 3: /* load_or_store */
        rc = goconc_map_load_or_store(wr->m, k.b, k.len, nv.w, nv.len, out, sizeof out, &n);
        if (rc != (md->present ? GOCONC_EXISTS : GOCONC_OK)) {
            FAIL("load_or_store id %" PRIu64 ": %d, model %d", id, rc, md->present);
        } else if (rc == GOCONC_EXISTS) {
            expect_val("load_or_store", id, md, out, n);
        } else {
            md->present = 1;
            md->ver = wr->next_ver[j]++;
            add64(&created, 1);
        }
        break;
    case 4: /* load_and_delete */
        rc = goconc_map_load_and_delete(wr->m, k.b, k.len, out, sizeof out, &n);
        if (rc != (md->present ? GOCONC_OK : GOCONC_NOTFOUND))
            FAIL("load_and_delete id %" PRIu64 ": %d, model %d", id, rc, md->present);
        else if (rc == GOCONC_OK)
            expect_val("load_and_delete", id, md, out, n);
        md->present = 0;
        break;
    case 5: { /* compare_and_swap, right or wrong expectation */
        struct val old;
        int right = tu_rand(&wr->rng) & 1;
        val_of(id, right ? md->ver : md->ver + 1, &old);
        rc = goconc_map_compare_and_swap(wr->m, k.b, k.len, old.w, old.len, nv.w, nv.len);
        if (rc != (!md->present ? GOCONC_NOTFOUND : right ? GOCONC_OK : GOCONC_CHANGED))
            FAIL("cas id %" PRIu64 ": %d, model %d right %d", id, rc, md->present, right);
        if (rc == GOCONC_OK) {
            md->ver = wr->next_ver[j]++;
            add64(&created, 1);
        }
        break;
    }
    case 6: { /* compare_and_delete */
        struct val old;
        int right = tu_rand(&wr->rng) % 4 != 0;
        val_of(id, right ? md->ver : md->ver + 2, &old);
        rc = goconc_map_compare_and_delete(wr->m, k.b, k.len, old.w, old.len);
        if (rc != (!md->present ? GOCONC_NOTFOUND : right ? GOCONC_OK : GOCONC_CHANGED))
            FAIL("cad id %" PRIu64 ": %d, model %d right %d", id, rc, md->present, right);
        if (rc == GOCONC_OK)
            md->present = 0;
        break;
    }
    default: { /* update */
        struct upd_ctx u;
        memset(&u, 0, sizeof u);
        u.wr = wr;
        u.m = wr->m;
        u.nv = &nv;
        u.want = GOCONC_UPDATE_KEEP + (int)(tu_rand(&wr->rng) % 3);
        u.reenter = tu_rand(&wr->rng) % 16 == 0;
        rc = goconc_map_update(wr->m, k.b, k.len, upd_fn, &u);
        if (rc != GOCONC_OK || u.found != md->present)
            FAIL("update id %" PRIu64 ": %d found %d model %d", id, rc, u.found, md->present);
        else if (u.found)
            expect_val("update", id, md, u.old, u.oldlen);
        if (u.want == GOCONC_UPDATE_STORE) {
            md->present = 1;
            md->ver = wr->next_ver[j]++;
            add64(&created, 1);
        } else if (u.want == GOCONC_UPDATE_DELETE) {
            md->present = 0;
        }
        break;
    }
    }
    /* Versions 1.. are in use; keep next_ver > every stored one. */
    if (wr->next_ver[j] <= md->ver)
        wr->next_ver[j] = md->ver + 1;
}

static void *writer_main(void *arg)
{
    struct writer *wr = arg;
    uint64_t phase_ops = 0;
    int filling = 1;
    unsigned live = 0, j;

    while (!ldi(&stop)) {
        uint64_t r = tu_rand(&wr->rng);
        unsigned kind = (unsigned)(r % 8);
        /* Phases: fill up (mostly inserting stores), then drain (mostly
         * deletes), so shards grow and shrink through migrations. */
        j = (unsigned)((r >> 8) % KEYS_PER_WRITER);
        if (filling && (r >> 40) % 4 != 0)
            kind = (r >> 44) % 2 ? 0 : 3;
        else if (!filling && (r >> 40) % 4 != 0)
            kind = (r >> 44) % 2 ? 1 : 4;
        writer_op(wr, j, kind);
        wr->ops++;
        if (++phase_ops % 512 == 0) {
            for (live = 0, j = 0; j < KEYS_PER_WRITER; j++)
                live += wr->md[j].present;
            if (filling && live > KEYS_PER_WRITER * 9 / 10)
                filling = 0;
            else if (!filling && live < KEYS_PER_WRITER / 20)
                filling = 1;
        }
        if (wr->ops % 4096 == 0 && goconc_map_maintain(wr->m, 16, NULL) != GOCONC_OK)
            FAIL("maintain failed");
    }
    return NULL;
}

/* ------------------------------------------------------------- readers */

struct reader {
    pthread_t tid;
    goconc_map *m;
    uint64_t rng, loads, hits, peeks;
};

static void check_seen(uint64_t id, const void *p, size_t n, const char *how)
{
    uint64_t ver;
    if (id >= STABLE_BASE) {
        if (!val_decode(id, p, n, &ver) || ver != 1)
            FAIL("%s: stable id %" PRIu64 " has a wrong value", how, id);
        return;
    }
    if (!val_decode(id, p, n, &ver))
        FAIL("%s: id %" PRIu64 ": a value that was never stored for it (%zu bytes)", how, id,
             n);
    else if (ver > ld64(&maxver[id]))
        FAIL("%s: id %" PRIu64 ": version %" PRIu64 " not yet announced", how, id, ver);
}

static void *reader_main(void *arg)
{
    struct reader *rd = arg;
    unsigned char out[32];

    while (!ldi(&stop)) {
        uint64_t r = tu_rand(&rd->rng), id;
        struct key k;
        size_t n;
        int rc;

        id = r % 8 == 0 ? STABLE_BASE + (r >> 8) % NSTABLE : (r >> 8) % NIDS;
        key_of(id, &k);
        if ((r >> 4) % 2 || map_flags & GOCONC_MAP_NO_PEEK) {
            if (map_flags & GOCONC_MAP_NO_PEEK) {
                const void *p;
                goconc_read_lock();
                if (goconc_map_peek(rd->m, k.b, k.len, &p, &n) != GOCONC_EINVAL)
                    FAIL("peek of a map without peek did not fail");
                goconc_read_unlock();
            }
            rc = goconc_map_load(rd->m, k.b, k.len, out, sizeof out, &n);
            rd->loads++;
            if (rc == GOCONC_OK) {
                rd->hits++;
                check_seen(id, out, n, "load");
            } else if (rc != GOCONC_NOTFOUND || id >= STABLE_BASE) {
                FAIL("load id %" PRIu64 ": %d", id, rc);
            }
        } else {
            const void *p, *p2;
            unsigned char copy[32];
            size_t n2;
            int i;
            goconc_read_lock();
            rc = goconc_map_peek(rd->m, k.b, k.len, &p, &n);
            rd->peeks++;
            if (rc == GOCONC_OK) {
                check_seen(id, p, n, "peek");
                memcpy(copy, p, n);
                /* Keep it a while: more lookups, nested sections. */
                for (i = 0; i < 8; i++) {
                    struct key k2;
                    key_of((r >> 20) % NIDS + (uint64_t)i, &k2);
                    goconc_read_lock();
                    if (goconc_map_peek(rd->m, k2.b, k2.len, &p2, &n2) == GOCONC_OK)
                        check_seen((r >> 20) % NIDS + (uint64_t)i, p2, n2, "peek2");
                    goconc_read_unlock();
                }
                if (memcmp(copy, p, n) != 0)
                    FAIL("peek id %" PRIu64 ": lent bytes changed inside the section", id);
            } else if (rc != GOCONC_NOTFOUND || id >= STABLE_BASE) {
                FAIL("peek id %" PRIu64 ": %d", id, rc);
            }
            goconc_read_unlock();
        }
    }
    return NULL;
}

/* -------------------------------------------------------------- ranger */

struct ranger {
    pthread_t tid;
    goconc_map *m;
    uint32_t *mark;     /* per id slot: pass number that saw it */
    uint32_t pass;
    uint64_t ranges, scans, visits;
    unsigned stable_seen[NSTABLE];
    int scanning;
};

static int range_visit(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct ranger *rg = ctx;
    uint64_t id, slot;
    if (klen != 8 && klen != 16) {
        FAIL("range: key of %zu bytes", klen);
        return 0;
    }
    memcpy(&id, key, 8);
    check_seen(id, val, vlen, rg->scanning ? "scan" : "range");
    slot = id >= STABLE_BASE ? NIDS + (id - STABLE_BASE) : id;
    if (slot >= NIDS + NSTABLE) {
        FAIL("range: unknown id %" PRIu64, id);
        return 0;
    }
    if (!rg->scanning && rg->mark[slot] == rg->pass)
        FAIL("range: id %" PRIu64 " visited twice in one walk", id);
    rg->mark[slot] = rg->pass;
    if (id >= STABLE_BASE)
        rg->stable_seen[id - STABLE_BASE]++;
    rg->visits++;
    return 0;
}

static void *ranger_main(void *arg)
{
    struct ranger *rg = arg;
    unsigned i;
    while (!ldi(&stop)) {
        int rc;
        uint64_t cursor = 0;
        /* range: every stable key exactly once. */
        rg->scanning = 0;
        rg->pass++;
        memset(rg->stable_seen, 0, sizeof rg->stable_seen);
        rc = goconc_map_range(rg->m, range_visit, rg);
        if (rc != GOCONC_OK)
            FAIL("range: %d", rc);
        for (i = 0; i < NSTABLE; i++)
            if (rg->stable_seen[i] != 1)
                FAIL("range: stable key %u seen %u times", i, rg->stable_seen[i]);
        rg->ranges++;
        /* scan: every stable key at least once per cursor cycle. */
        rg->scanning = 1;
        rg->pass++;
        memset(rg->stable_seen, 0, sizeof rg->stable_seen);
        do
            rc = goconc_map_scan(rg->m, &cursor, 1 + (rg->scans % 97), range_visit, rg);
        while (rc == GOCONC_OK && cursor != 0);
        if (rc != GOCONC_OK)
            FAIL("scan: %d", rc);
        for (i = 0; i < NSTABLE; i++)
            if (rg->stable_seen[i] == 0)
                FAIL("scan: stable key %u missed", i);
        rg->scans++;
    }
    return NULL;
}

/* ---------------------------------------------------------------- runs */

static void reset_globals(void)
{
    errors = 0;
    drops_seen = drops_bad = 0;
    created = 0;
    stop = 0;
    memset(maxver, 0, sizeof maxver);
}

static void run_model(unsigned shards, double secs, int with_drop, int stable)
{
    static struct writer wr[NWRITERS];
    struct reader rd[NREADERS];
    struct ranger rg;
    goconc_map *m;
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    uint64_t wops = 0, rops = 0, expect_len = NSTABLE;
    size_t buckets0;
    unsigned w, j;

    seed0 = tu_seed();
    reset_globals();
    m = new_map(shards, with_drop, stable);
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
    buckets0 = st.buckets;
    store_stable(m);
    memset(&rg, 0, sizeof rg);
    rg.m = m;
    rg.mark = calloc(NIDS + NSTABLE, sizeof *rg.mark);
    ck_assert_ptr_nonnull(rg.mark);
    for (w = 0; w < NWRITERS; w++) {
        memset(&wr[w], 0, sizeof wr[w]);
        wr[w].m = m;
        wr[w].w = w;
        wr[w].rng = seed0 * 31 + w + 1;
        for (j = 0; j < KEYS_PER_WRITER; j++)
            wr[w].next_ver[j] = 1;
        ck_assert_int_eq(pthread_create(&wr[w].tid, NULL, writer_main, &wr[w]), 0);
    }
    for (w = 0; w < NREADERS; w++) {
        memset(&rd[w], 0, sizeof rd[w]);
        rd[w].m = m;
        rd[w].rng = seed0 * 57 + w + 100;
        ck_assert_int_eq(pthread_create(&rd[w].tid, NULL, reader_main, &rd[w]), 0);
    }
    ck_assert_int_eq(pthread_create(&rg.tid, NULL, ranger_main, &rg), 0);

    {
        double end = tu_now() + secs;
        while (tu_now() < end && __atomic_load_n(&errors, __ATOMIC_RELAXED) == 0) {
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            /* Watch the migration bound (soft: a full table may go over). */
            ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (w = 0; w < NWRITERS; w++)
        pthread_join(wr[w].tid, NULL);
    for (w = 0; w < NREADERS; w++)
        pthread_join(rd[w].tid, NULL);
    pthread_join(rg.tid, NULL);

    /* The map equals the models. */
    for (w = 0; w < NWRITERS; w++) {
        wops += wr[w].ops;
        for (j = 0; j < KEYS_PER_WRITER; j++) {
            uint64_t id = (uint64_t)j * NWRITERS + w;
            struct key k;
            unsigned char out[32];
            size_t n = 0;
            int rc;
            key_of(id, &k);
            rc = goconc_map_load(m, k.b, k.len, out, sizeof out, &n);
            if (rc != (wr[w].md[j].present ? GOCONC_OK : GOCONC_NOTFOUND))
                FAIL("final id %" PRIu64 ": %d model %d", id, rc, wr[w].md[j].present);
            else if (rc == GOCONC_OK)
                expect_val("final", id, &wr[w].md[j], out, n);
            expect_len += (uint64_t)wr[w].md[j].present;
        }
    }
    for (w = 0; w < NREADERS; w++)
        rops += rd[w].loads + rd[w].peeks;
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
    fprintf(stderr,
            "stress_map model (shards %u): %" PRIu64 " writes, %" PRIu64 " reads, %" PRIu64
            " ranges, %" PRIu64 " scans, %" PRIu64 " grows, %" PRIu64 " shrinks, %" PRIu64
            " buckets moved\n",
            (unsigned)st.shards, wops, rops, rg.ranges, rg.scans, (uint64_t)st.grows,
            (uint64_t)st.shrinks, (uint64_t)st.buckets_moved);
    ck_assert_uint_eq(goconc_map_len(m), expect_len);
    ck_assert_uint_eq(st.len, expect_len);
    goconc_map_free(m);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    free(rg.mark);
    ck_assert_msg(ld64(&errors) == 0, "%" PRIu64 " errors (seed %" PRIu64 ")", ld64(&errors),
                  seed0);
    ck_assert_uint_eq(ld64(&drops_bad), 0);
    ck_assert_uint_eq(ld64(&drops_seen), with_drop ? ld64(&created) : 0);
    ck_assert_uint_gt(wops, 1000);
    ck_assert_uint_gt(rops, 1000);
    ck_assert_uint_gt(rg.ranges, 0);
    if (stable) {
        /* No migration for size: a small table over 30% full may double
         * when its keys drift (migrate.c, drift_grows), and only such a
         * doubling can be undone by a shrink (never below the reserve). */
        ck_assert_uint_le(st.shrinks, st.grows);
        ck_assert_uint_le(st.buckets, 2 * buckets0);
    } else
        ck_assert_uint_gt(st.grows + st.shrinks, 0);
}

START_TEST(test_model_default)
{
    run_model(0, tu_stress_seconds() * 0.5, 1, 0);
}
END_TEST

START_TEST(test_model_no_drop)
{
    run_model(0, tu_stress_seconds() * 0.5, 0, 0);
}
END_TEST

/* Every store path on stable shards: inline and out-of-line keys and
 * values, with and without on_drop (the two tests above cover the same
 * on migrating shards). */
START_TEST(test_model_stable)
{
    run_model(0, tu_stress_seconds() * 0.25, 1, 1);
}
END_TEST

START_TEST(test_model_stable_no_drop)
{
    run_model(0, tu_stress_seconds() * 0.25, 0, 1);
}
END_TEST

/* Maps without peek: inline values of unchanged length are rewritten in
 * place under readers, rangers and migrations; with on_drop they take the
 * usual path, and every value still reaches it once. */
START_TEST(test_model_no_peek)
{
    map_flags = GOCONC_MAP_NO_PEEK;
    run_model(0, tu_stress_seconds() * 0.25, 0, 0);
    run_model(2, tu_stress_seconds() * 0.25, 0, 1);
    run_model(0, tu_stress_seconds() * 0.25, 1, 0);
    map_flags = 0;
}
END_TEST

START_TEST(test_model_two_shards)
{
    /* Two shards: the writers contend on locks, and each shard's table
     * is big enough that migrations take many writes. */
    run_model(2, tu_stress_seconds() * 0.5, 1, 0);
}
END_TEST

START_TEST(test_model_two_shards_no_drop)
{
    /* Writes without on_drop against contended locks. */
    run_model(2, tu_stress_seconds() * 0.5, 0, 0);
}
END_TEST

/* ------------------------------------------------------------- clear */

struct churner {
    pthread_t tid;
    goconc_map *m;
    uint64_t rng, ops, clears;
    int clearer;
};

static void *churn_main(void *arg)
{
    struct churner *c = arg;
    unsigned char out[32];
    while (!ldi(&stop)) {
        uint64_t r = tu_rand(&c->rng), id = (r >> 8) % NIDS;
        struct key k;
        struct val v;
        size_t n;
        int rc;
        key_of(id, &k);
        if (c->clearer) {
            if (r % 64 == 0) {
                if (goconc_map_clear(c->m) != GOCONC_OK)
                    FAIL("clear failed");
                c->clears++;
            } else if ((rc = goconc_map_load(c->m, k.b, k.len, out, sizeof out, &n)) ==
                       GOCONC_OK) {
                check_seen(id, out, n, "load/clear");
            } else if (rc != GOCONC_NOTFOUND) {
                FAIL("load: %d", rc);
            }
        } else if (r % 3) {
            /* Writers of the clear test use version 1..2 only and
             * announce the maximum once. */
            val_of(id, 1 + (r >> 40) % 2, &v);
            if (goconc_map_store(c->m, k.b, k.len, v.w, v.len) != GOCONC_OK)
                FAIL("store failed");
            add64(&created, 1);
        } else if ((rc = goconc_map_delete(c->m, k.b, k.len)) != GOCONC_OK &&
                   rc != GOCONC_NOTFOUND) {
            FAIL("delete: %d", rc);
        }
        c->ops++;
    }
    return NULL;
}

START_TEST(test_clear_churn)
{
    struct churner c[3];
    goconc_map *m;
    unsigned i;
    uint64_t id;
    double end;

    seed0 = tu_seed();
    reset_globals();
    for (id = 0; id < NIDS; id++)
        maxver[id] = 2;
    m = new_map(8, 1, 0);
    for (i = 0; i < 3; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].m = m;
        c[i].rng = seed0 * 7 + i;
        c[i].clearer = i == 2;
        ck_assert_int_eq(pthread_create(&c[i].tid, NULL, churn_main, &c[i]), 0);
    }
    end = tu_now() + tu_stress_seconds() * 0.25;
    while (tu_now() < end && ld64(&errors) == 0) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 3; i++)
        pthread_join(c[i].tid, NULL);
    ck_assert_uint_gt(c[2].clears, 0);
    goconc_map_free(m);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_msg(ld64(&errors) == 0, "%" PRIu64 " errors (seed %" PRIu64 ")", ld64(&errors),
                  seed0);
    ck_assert_uint_eq(ld64(&drops_bad), 0);
    ck_assert_uint_eq(ld64(&drops_seen), ld64(&created));
}
END_TEST

/* ------------------------------------------------------------ growth */

#define GROW_PER_THREAD 150000

struct grower {
    pthread_t tid;
    goconc_map *m;
    uint64_t base, done; /* done: atomic, keys [base, base + done) stored */
};

static void *grow_main(void *arg)
{
    struct grower *g = arg;
    uint64_t i;
    for (i = 0; i < GROW_PER_THREAD && !ldi(&stop); i++) {
        uint64_t k = g->base + i, v = ~k;
        if (goconc_map_store(g->m, &k, 8, &v, 8) != GOCONC_OK)
            FAIL("store failed");
        st64(&g->done, i + 1);
    }
    return NULL;
}

struct checker {
    pthread_t tid;
    struct grower *g;
    uint64_t rng, checks;
};

static void *check_main(void *arg)
{
    struct checker *c = arg;
    while (!ldi(&stop)) {
        uint64_t r = tu_rand(&c->rng);
        struct grower *g = &c->g[r % 2];
        uint64_t done = ld64(&g->done), k, v = 0;
        size_t n;
        if (done == 0)
            continue;
        /* Any key stored before we looked must be there, mid-migration
         * or not. */
        k = g->base + (r >> 8) % done;
        if (goconc_map_load(g->m, &k, 8, &v, sizeof v, &n) != GOCONC_OK || v != ~k)
            FAIL("growth: key %" PRIu64 " missing or wrong", k);
        c->checks++;
    }
    return NULL;
}

/* Two writers grow a map while a checker reads back what they stored;
 * with and without on_drop, every store migrating shards as they grow. */
static void run_growth(int with_drop)
{
    struct grower g[2];
    struct checker c;
    goconc_map *m;
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    uint64_t k, v;
    unsigned i;

    seed0 = tu_seed();
    reset_globals();
    m = new_map(0, with_drop, 0);
    for (i = 0; i < 2; i++) {
        g[i].m = m;
        g[i].base = (uint64_t)i << 40;
        g[i].done = 0;
    }
    c.g = g;
    c.rng = seed0;
    c.checks = 0;
    ck_assert_int_eq(pthread_create(&c.tid, NULL, check_main, &c), 0);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&g[i].tid, NULL, grow_main, &g[i]), 0);
    {
        /* Bounded by time too (slow sanitizer builds). */
        double end = tu_now() + tu_stress_seconds() * 2;
        while ((ld64(&g[0].done) < GROW_PER_THREAD || ld64(&g[1].done) < GROW_PER_THREAD) &&
               tu_now() < end) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        pthread_join(g[i].tid, NULL);
    pthread_join(c.tid, NULL);
    for (i = 0; i < 2; i++)
        for (k = g[i].base; k < g[i].base + g[i].done; k++)
            if (goconc_map_load(m, &k, 8, &v, 8, NULL) != GOCONC_OK || v != ~k)
                FAIL("growth: key %" PRIu64 " missing at the end", k);
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
    ck_assert_uint_eq(st.len, g[0].done + g[1].done);
    ck_assert_uint_gt(st.grows, 0);
    goconc_map_free(m);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_msg(ld64(&errors) == 0, "%" PRIu64 " errors (seed %" PRIu64 ")", ld64(&errors),
                  seed0);
    ck_assert_uint_gt(c.checks, 100);
}

START_TEST(test_growth)
{
    run_growth(1);
}
END_TEST

START_TEST(test_growth_no_drop)
{
    run_growth(0);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(test_model_default),
        TU_CASE(test_model_two_shards),
        TU_CASE(test_model_no_drop),
        TU_CASE(test_model_two_shards_no_drop),
        TU_CASE(test_model_stable),
        TU_CASE(test_model_stable_no_drop),
        TU_CASE(test_model_no_peek),
        TU_CASE(test_clear_churn),
        TU_CASE(test_growth),
        TU_CASE(test_growth_no_drop),
    };

    return TU_RUN(cases, .name = "map-stress", .timeout = 300);
}
