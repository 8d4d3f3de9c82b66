/* SPDX-License-Identifier: MIT */
/*
 * torture_map.c - the torture's maps (oracles in tests/torture.c): the
 * main map whose keys the slots own, and a small one cleared while others
 * write it.
 */
#include <limits.h>
#include <sched.h>

#include "torture.h"

#define NSTABLE 256             /* map keys stored once, never changed */
#define STABLE_BASE 0xF0000000u

/*
 * Key id: slot * KPS + i for owned keys, STABLE_BASE + i for stable ones.
 * Value of (id, ver): 8 bytes id << 32 | ver when ver % 3 != 0, else 24
 * bytes (id, ver, check), so both inline and out-of-line values churn.
 */
static goconc_map *map;
/* The main map is made with GOCONC_MAP_NO_PEEK (and no on_drop, which
 * would keep every overwrite on the slot rule) when bit 7 of the seed is
 * set: an 8-byte value overwritten by the next 8-byte version under an
 * 8-byte key is then stored in place, and the same checks hold every load
 * of it (a value of its own key, announced, never older than one seen).
 * Peeks become checks that peek is refused. */
static int map_no_peek;
static uint32_t *announced; /* newest version each owner announced */
static uint64_t map_stored, map_drops, map_drops_bad;
static int map_phase; /* 0: fill, 1: drain; main flips it */

struct key { unsigned char b[16]; size_t len; };
struct val { uint64_t w[3]; size_t len; };

static void key_of(uint64_t id, struct key *k)
{
    uint64_t x = ~id * 0x9e3779b97f4a7c15ull;
    k->len = id % 4 == 0 ? 16 : 8;
    memcpy(k->b, &id, 8);
    memcpy(k->b + 8, &x, 8);
}

static void val_of(uint64_t id, uint32_t ver, struct val *v)
{
    if (ver % 3 == 0) {
        v->len = 24;
        v->w[0] = id;
        v->w[1] = ver;
        v->w[2] = check_word(id ^ ((uint64_t)ver << 32));
    } else {
        v->len = 8;
        v->w[0] = id << 32 | ver;
    }
}

/* The version of a value seen for key id, or 0 if it is not one of its. */
static uint32_t val_decode(uint64_t id, const void *p, size_t len)
{
    uint64_t w[3];
    if (len == 8) {
        memcpy(w, p, 8);
        return (w[0] >> 32) == id && (uint32_t)w[0] % 3 != 0 ? (uint32_t)w[0] : 0;
    }
    if (len == 24) {
        memcpy(w, p, 24);
        return w[0] == id && w[1] % 3 == 0 && w[1] <= UINT32_MAX &&
                       w[2] == check_word(id ^ (w[1] << 32))
                   ? (uint32_t)w[1]
                   : 0;
    }
    return 0;
}

static uint64_t key_id(const void *key, size_t klen)
{
    uint64_t id;
    struct key k;
    if (klen != 8 && klen != 16)
        return UINT64_MAX;
    memcpy(&id, key, 8);
    key_of(id, &k);
    return k.len == klen && memcmp(k.b, key, klen) == 0 ? id : UINT64_MAX;
}

static void on_drop(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint64_t id = key_id(key, klen);
    (void)ctx;
    if (id == UINT64_MAX || val_decode(id, val, vlen) == 0)
        add(&map_drops_bad, 1);
    add(&map_drops, 1);
}

static uint64_t nkeys(void) { return (uint64_t)nslots * KPS; }

/* Newest version this thread has seen of each owned key. */
static _Thread_local uint32_t *tl_seen;

/* A foreign value must be one of id's, no newer than announced. */
static void map_check_seen(uint64_t id, const void *p, size_t len, const char *op)
{
    uint32_t v = val_decode(id, p, len);
    if (id >= STABLE_BASE) {
        CHECK(v == 3, "%s: stable key %" PRIu64 " has a wrong value (len %zu)", op, id, len);
        return;
    }
    CHECK(v != 0, "%s: key %" PRIu64 " holds a value of another key (len %zu)", op, id, len);
    CHECK(v <= ld(&announced[id]), "%s: key %" PRIu64 " version %u never stored (announced %u)",
          op, id, v, ld(&announced[id]));
    /* Versions of a key are stored in increasing order and single-key
     * calls are linearizable: one thread never sees a key go back. */
    if (tl_seen != NULL) {
        CHECK(v >= tl_seen[id], "%s: key %" PRIu64 " went back from version %u to %u", op, id,
              tl_seen[id], v);
        tl_seen[id] = v;
    }
}

static uint64_t any_id(struct slot *s)
{
    return rndn(s, 8) == 0 ? STABLE_BASE + rndn(s, NSTABLE) : rnd(s) % nkeys();
}

/* Owner: a fresh version of key i, announced before it can be seen. */
static uint32_t next_ver(struct slot *s, unsigned i)
{
    uint64_t id = (uint64_t)s->idx * KPS + i;
    uint32_t v = ++s->ver[i];
    st(&announced[id], v);
    return v;
}

struct upd {
    struct slot *s;
    unsigned i;
    struct val nv;
    int want;         /* KEEP / STORE / DELETE */
    int found_ok, deadlk_ok;
};

static int upd_fn(void *ctx, const void *old, size_t oldlen, int found, const void **newval,
                  size_t *newlen)
{
    struct upd *u = ctx;
    uint64_t id = (uint64_t)u->s->idx * KPS + u->i;
    struct key k;
    uint32_t m = u->s->model[u->i];
    u->found_ok = found ? m != 0 && val_decode(id, old, oldlen) == m : m == 0;
    key_of(id, &k);
    /* A write to the same map from inside fn must refuse, not deadlock. */
    u->deadlk_ok = goconc_map_delete(map, k.b, k.len) == GOCONC_EDEADLK;
    *newval = u->nv.w;
    *newlen = u->nv.len;
    return u->want;
}

void map_owner_op(struct slot *s)
{
    unsigned i = rndn(s, KPS), op = rndn(s, 9);
    /* The map swells and drains in phases (main flips map_phase) so
     * shards shrink as well as grow. */
    if (rndn(s, 3))
        op = ld(&map_phase) ? 4 : 1;
    uint64_t id = (uint64_t)s->idx * KPS + i;
    uint32_t m = s->model[i], nv = 0;
    struct key k;
    struct val cur, nw;
    uint64_t out[3];
    size_t olen = 0;
    int rc;

    key_of(id, &k);
    if (m)
        val_of(id, m, &cur);
    switch (op) {
    case 0: /* load */
        rc = goconc_map_load(map, k.b, k.len, out, sizeof out, &olen);
        CHECK(m ? rc == GOCONC_OK && val_decode(id, out, olen) == m : rc == GOCONC_NOTFOUND,
              "load key %" PRIu64 ": rc %d, model version %u", id, rc, m);
        break;
    case 1: /* store */
        val_of(id, nv = next_ver(s, i), &nw);
        rc = goconc_map_store(map, k.b, k.len, nw.w, nw.len);
        CHECK(rc == GOCONC_OK, "store key %" PRIu64 ": rc %d", id, rc);
        break;
    case 2: /* delete */
        rc = goconc_map_delete(map, k.b, k.len);
        CHECK(rc == (m ? GOCONC_OK : GOCONC_NOTFOUND), "delete key %" PRIu64 ": rc %d, model %u",
              id, rc, m);
        m = 0;
        break;
    case 3: /* load_or_store */
        val_of(id, nv = next_ver(s, i), &nw);
        rc = goconc_map_load_or_store(map, k.b, k.len, nw.w, nw.len, out, sizeof out, &olen);
        CHECK(m ? rc == GOCONC_EXISTS && val_decode(id, out, olen) == m : rc == GOCONC_OK,
              "load_or_store key %" PRIu64 ": rc %d, model %u", id, rc, m);
        if (m)
            nv = 0;
        break;
    case 4: /* load_and_delete */
        rc = goconc_map_load_and_delete(map, k.b, k.len, out, sizeof out, &olen);
        CHECK(m ? rc == GOCONC_OK && val_decode(id, out, olen) == m : rc == GOCONC_NOTFOUND,
              "load_and_delete key %" PRIu64 ": rc %d, model %u", id, rc, m);
        m = 0;
        break;
    case 5: /* swap */
        val_of(id, nv = next_ver(s, i), &nw);
        rc = goconc_map_swap(map, k.b, k.len, nw.w, nw.len, out, sizeof out, &olen);
        CHECK(m ? rc == GOCONC_OK && val_decode(id, out, olen) == m : rc == GOCONC_NOTFOUND,
              "swap key %" PRIu64 ": rc %d, model %u", id, rc, m);
        break;
    case 6: { /* compare_and_swap, right or wrong old value */
        int wrong = rndn(s, 4) == 0;
        struct val old;
        val_of(id, m ? (wrong ? m + 1 : m) : 1, &old);
        val_of(id, nv = next_ver(s, i), &nw);
        rc = goconc_map_compare_and_swap(map, k.b, k.len, old.w, old.len, nw.w, nw.len);
        CHECK(rc == (!m ? GOCONC_NOTFOUND : wrong ? GOCONC_CHANGED : GOCONC_OK),
              "compare_and_swap key %" PRIu64 ": rc %d, model %u, wrong %d", id, rc, m, wrong);
        if (rc != GOCONC_OK)
            nv = 0;
        break;
    }
    case 7: { /* compare_and_delete */
        int wrong = rndn(s, 4) == 0;
        struct val old;
        val_of(id, m ? (wrong ? m + 1 : m) : 1, &old);
        rc = goconc_map_compare_and_delete(map, k.b, k.len, old.w, old.len);
        CHECK(rc == (!m ? GOCONC_NOTFOUND : wrong ? GOCONC_CHANGED : GOCONC_OK),
              "compare_and_delete key %" PRIu64 ": rc %d, model %u, wrong %d", id, rc, m, wrong);
        if (rc == GOCONC_OK)
            m = 0;
        break;
    }
    default: { /* update */
        struct upd u = { s, i, { { 0 }, 0 }, 0, 0, 0 };
        static const int wants[3] = { GOCONC_UPDATE_KEEP, GOCONC_UPDATE_STORE,
                                      GOCONC_UPDATE_DELETE };
        u.want = wants[rndn(s, 3)];
        if (u.want == GOCONC_UPDATE_STORE)
            val_of(id, nv = next_ver(s, i), &u.nv);
        rc = goconc_map_update(map, k.b, k.len, upd_fn, &u);
        CHECK(rc == GOCONC_OK && u.found_ok && u.deadlk_ok,
              "update key %" PRIu64 ": rc %d, found_ok %d, inner write EDEADLK %d, model %u", id,
              rc, u.found_ok, u.deadlk_ok, m);
        if (u.want == GOCONC_UPDATE_DELETE)
            m = 0;
        break;
    }
    }
    if (nv) {
        m = nv;
        add(&map_stored, 1);
    }
    s->model[i] = m;
}

void map_read_op(struct slot *s)
{
    uint64_t id = any_id(s), out[3];
    size_t olen = 0;
    struct key k;
    int rc;
    key_of(id, &k);
    rc = goconc_map_load(map, k.b, k.len, out, sizeof out, &olen);
    if (id >= STABLE_BASE)
        CHECK(rc == GOCONC_OK, "load of stable key %" PRIu64 ": rc %d", id, rc);
    if (rc == GOCONC_OK)
        map_check_seen(id, out, olen, "load");
    else
        CHECK(rc == GOCONC_NOTFOUND, "load key %" PRIu64 ": rc %d", id, rc);
}

/* A map without peek: peek refused, and a value loaded inside a section
 * is one of its key's, like any other load. */
static void map_peek_refused(struct slot *s)
{
    const void *p = NULL;
    uint64_t id = any_id(s), out[3];
    size_t len = 0;
    struct key k;
    int rc;

    key_of(id, &k);
    goconc_read_lock();
    rc = goconc_map_peek(map, k.b, k.len, &p, &len);
    CHECK(rc == GOCONC_EINVAL && p == NULL, "peek on a map without peek: rc %d", rc);
    rc = goconc_map_load(map, k.b, k.len, out, sizeof out, &len);
    if (rc == GOCONC_OK)
        map_check_seen(id, out, len, "load in section");
    else
        CHECK(rc == GOCONC_NOTFOUND, "load in section, key %" PRIu64 ": rc %d", id, rc);
    goconc_read_unlock();
}

/* Borrowed values must stay put until the section ends. */
void map_peek_op(struct slot *s)
{
    const void *p[4];
    uint64_t copy[4][3], ids[4];
    size_t len[4];
    unsigned n = 1 + rndn(s, 4), j;

    if (map_no_peek) {
        map_peek_refused(s);
        return;
    }
    goconc_read_lock();
    for (j = 0; j < n; j++) {
        struct key k;
        ids[j] = any_id(s);
        key_of(ids[j], &k);
        if (goconc_map_peek(map, k.b, k.len, &p[j], &len[j]) != GOCONC_OK) {
            p[j] = NULL;
            continue;
        }
        map_check_seen(ids[j], p[j], len[j], "peek");
        memcpy(copy[j], p[j], len[j] <= 24 ? len[j] : 24);
    }
    if (rndn(s, 16) == 0)
        sched_yield();
    for (j = 0; j < n; j++)
        if (p[j] != NULL)
            CHECK(len[j] <= 24 && memcmp(copy[j], p[j], len[j]) == 0,
                  "peek key %" PRIu64 ": borrowed value changed inside the section", ids[j]);
    goconc_read_unlock();
}

/* range: every stable key exactly once, no key twice.  scan: every
 * stable key at least once per cursor cycle, stopped or not. */
struct walk {
    unsigned char *seen;   /* visits (saturating) per owned id, then per stable id */
    uint64_t twice, bad, stops_left;
    int stop_every;
    struct slot *writer;   /* range: fn writes this slot's keys now and then */
    unsigned entries;
};

static int walk_fn(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct walk *w = ctx;
    uint64_t id = key_id(key, klen), slot;
    if (id == UINT64_MAX) {
        w->bad++;
        return 0;
    }
    slot = id >= STABLE_BASE ? nkeys() + (id - STABLE_BASE) : id;
    if (slot >= nkeys() + NSTABLE || val_decode(id, val, vlen) == 0) {
        w->bad++;
        return 0;
    }
    if (w->seen[slot])
        w->twice++;
    if (w->seen[slot] < UCHAR_MAX)
        w->seen[slot]++;
    /* fn runs with no lock held and may write the map (map.h). */
    if (w->writer != NULL && ++w->entries % 16 == 0)
        map_owner_op(w->writer);
    if (w->stop_every && --w->stops_left == 0) {
        w->stops_left = (uint64_t)w->stop_every;
        return 1;
    }
    return 0;
}

void map_walk_op(struct slot *s)
{
    struct walk w = { calloc(nkeys() + NSTABLE, 1), 0, 0, 0, 0, NULL, 0 };
    uint64_t i, missing = 0, cursor = 0, calls = 0;
    int rc, scan = rndn(s, 2);

    if (w.seen == NULL)
        return;
    if (!scan) {
        w.writer = rndn(s, 2) ? s : NULL;
        rc = goconc_map_range(map, walk_fn, &w);
        CHECK(rc == GOCONC_OK, "range: rc %d", rc);
        CHECK(w.twice == 0, "range: %" PRIu64 " keys visited twice", w.twice);
    } else {
        size_t max = 1 + rndn(s, 16);
        /* Known bug: a stopping callback returns cursor 0 (issue 14). */
        w.stop_every = rndn(s, 2) && !skip_known ? (int)(1 + rndn(s, 8)) : 0;
        w.stops_left = (uint64_t)w.stop_every;
        do {
            rc = goconc_map_scan(map, &cursor, max, walk_fn, &w);
            CHECK(rc == GOCONC_OK || (rc == GOCONC_STOPPED && w.stop_every),
                  "scan: rc %d (stop every %d)", rc, w.stop_every);
        } while (cursor != 0 && ++calls < 100000 && !(rc < 0));
        CHECK(calls < 100000, "scan: cursor cycle of over 100000 calls (max %zu, stop %d)",
              max, w.stop_every);
    }
    CHECK(w.bad == 0, "%s: %" PRIu64 " entries with a foreign key or value",
          scan ? "scan" : "range", w.bad);
    for (i = 0; i < NSTABLE; i++)
        missing += w.seen[nkeys() + i] == 0;
    CHECK(missing == 0, "%s: %" PRIu64 " stable keys not visited (stop every %d)",
          scan ? "scan" : "range", missing, w.stop_every);
    free(w.seen);
}

/* Reserves stay small: a shard never shrinks below what was reserved. */
void map_maintain_op(struct slot *s)
{
    int rc = rndn(s, 4) ? goconc_map_maintain(map, 1 + rndn(s, 8), NULL)
                        : goconc_map_reserve(map, rndn(s, 64));
    CHECK(rc == GOCONC_OK, "maintain/reserve: rc %d", rc);
}

/*
 * A second, small map that threads store into, delete from and clear all
 * at once: values must belong to their key (versions from one global
 * counter), and on_drop must see every stored value exactly once.
 */
#define CMAP_KEYS 64
static goconc_map *cmap;
static uint64_t cmap_ver, cmap_stored, cmap_drops, cmap_drops_bad;

static void cmap_on_drop(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint64_t id = key_id(key, klen);
    (void)ctx;
    if (id >= CMAP_KEYS || val_decode(id, val, vlen) == 0)
        add(&cmap_drops_bad, 1);
    add(&cmap_drops, 1);
}

void cmap_op(struct slot *s)
{
    uint64_t id = rndn(s, CMAP_KEYS), out[3];
    unsigned op = rndn(s, 32);
    size_t olen = 0;
    struct key k;
    struct val v;
    int rc;

    key_of(id, &k);
    if (op == 0) {
        rc = goconc_map_clear(cmap);
        CHECK(rc == GOCONC_OK, "clear: rc %d", rc);
    } else if (op < 12) {
        val_of(id, (uint32_t)(add(&cmap_ver, 1) % UINT32_MAX + 1), &v);
        rc = goconc_map_store(cmap, k.b, k.len, v.w, v.len);
        CHECK(rc == GOCONC_OK, "store under clear: rc %d", rc);
        if (rc == GOCONC_OK)
            add(&cmap_stored, 1);
    } else if (op < 18) {
        rc = goconc_map_delete(cmap, k.b, k.len);
        CHECK(rc == GOCONC_OK || rc == GOCONC_NOTFOUND, "delete under clear: rc %d", rc);
    } else {
        rc = goconc_map_load(cmap, k.b, k.len, out, sizeof out, &olen);
        CHECK(rc == GOCONC_NOTFOUND || (rc == GOCONC_OK && val_decode(id, out, olen) != 0),
              "load under clear: key %" PRIu64 " rc %d, len %zu", id, rc, olen);
    }
}


/* ------------------------------------------------------ the run's ends */

int map_setup(void)
{
    goconc_map_options mo = GOCONC_MAP_OPTIONS_INIT;
    unsigned i;
    int rc;

    map_no_peek = (int)(seed0 >> 7 & 1);
    mo.on_drop = map_no_peek ? NULL : on_drop;
    mo.flags = map_no_peek ? GOCONC_MAP_NO_PEEK : 0;
    mo.seed = seed0 | 1;
    rc = goconc_map_new(&map, &mo);
    mo.on_drop = cmap_on_drop;
    mo.flags = 0;
    rc |= goconc_map_new(&cmap, &mo);
    if (rc != GOCONC_OK || !(announced = calloc(nkeys(), sizeof *announced)))
        return GOCONC_ENOMEM;
    for (i = 0; i < NSTABLE; i++) {
        struct key k;
        struct val v;
        key_of(STABLE_BASE + i, &k);
        val_of(STABLE_BASE + i, 3, &v);
        rc |= goconc_map_store(map, k.b, k.len, v.w, v.len);
        map_stored++;
    }
    return rc;
}

void map_reader_begin(void) { tl_seen = calloc(nkeys(), sizeof *tl_seen); }

void map_reader_end(void)
{
    free(tl_seen);
    tl_seen = NULL;
}

void map_set_phase(int drain) { st(&map_phase, drain); }

int map_lends(void) { return !map_no_peek; }

size_t map_len_now(void) { return goconc_map_len(map); }

void map_peeks_take(struct peeks *pk, uint64_t *rng)
{
    unsigned j;
    for (j = 0; j < NPEEKS; j++) {
        struct key k;
        pk->ids[j] = splitmix(rng) % nkeys();
        key_of(pk->ids[j], &k);
        /* A map without peek refuses (map_peek_refused checks how). */
        if (map_no_peek || goconc_map_peek(map, k.b, k.len, &pk->p[j], &pk->len[j]) != GOCONC_OK)
            pk->p[j] = NULL;
        else
            memcpy(pk->copy[j], pk->p[j], pk->len[j] <= 24 ? pk->len[j] : 24);
    }
}

void map_peeks_verify(const struct peeks *pk)
{
    unsigned j;
    for (j = 0; j < NPEEKS; j++)
        if (pk->p[j] != NULL)
            CHECK(pk->len[j] <= 24 && memcmp(pk->copy[j], pk->p[j], pk->len[j]) == 0 &&
                      val_decode(pk->ids[j], pk->p[j], pk->len[j]) != 0,
                  "stalled reader: peeked value of key %" PRIu64 " changed", pk->ids[j]);
}

/* Everything stopped: the map equals the models (load, len, range). */
void map_final_check(void)
{
    uint64_t present = 0, i, seen = 0;
    struct walk w = { calloc(nkeys() + NSTABLE, 1), 0, 0, 0, 0, NULL, 0 };
    goconc_map_stats ms = GOCONC_MAP_STATS_INIT;

    for (i = 0; i < nkeys(); i++) {
        uint32_t m = slots[i / KPS].model[i % KPS];
        uint64_t out[3];
        size_t olen = 0;
        struct key key;
        int rc;
        key_of(i, &key);
        rc = goconc_map_load(map, key.b, key.len, out, sizeof out, &olen);
        CHECK(m ? rc == GOCONC_OK && val_decode(i, out, olen) == m : rc == GOCONC_NOTFOUND,
              "final: key %" PRIu64 " rc %d, model version %u", i, rc, m);
        present += m != 0;
    }
    CHECK(goconc_map_len(map) == present + NSTABLE, "final: map_len %zu, model %" PRIu64,
          goconc_map_len(map), present + NSTABLE);
    if (w.seen != NULL) {
        torture_discard(goconc_map_range(map, walk_fn, &w));
        for (i = 0; i < nkeys() + NSTABLE; i++)
            seen += w.seen[i] != 0;
        CHECK(w.twice == 0 && w.bad == 0 && seen == present + NSTABLE,
              "final range: %" PRIu64 " keys, %" PRIu64 " twice, %" PRIu64 " bad", seen, w.twice,
              w.bad);
        free(w.seen);
    }
    if (goconc_map_stats_get(map, &ms) == GOCONC_OK && !quiet)
        printf("  map: %zu shards, %" PRIu64 " grows, %" PRIu64 " shrinks, %" PRIu64
               " buckets moved\n", ms.shards, ms.grows, ms.shrinks, ms.buckets_moved);
}

void map_free_all(void)
{
    goconc_map_free(map);
    goconc_map_free(cmap);
    free(announced);
}

/* After map_free and a barrier: on_drop saw every stored value once. */
void map_after_barrier(void)
{
    CHECK((map_no_peek ? map_drops == 0 : map_drops == map_stored) && map_drops_bad == 0,
          "final: on_drop saw %" PRIu64 " values (%" PRIu64 " malformed), %" PRIu64 " stored",
          map_drops, map_drops_bad, map_stored);
    CHECK(cmap_drops == cmap_stored && cmap_drops_bad == 0,
          "final: cleared map's on_drop saw %" PRIu64 " values (%" PRIu64 " malformed), %" PRIu64
          " stored", cmap_drops, cmap_drops_bad, cmap_stored);
}
