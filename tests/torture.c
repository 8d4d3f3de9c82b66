/*
 * torture.c - every module at once, from many threads, against oracles.
 *
 *   torture [-s SEED] [-d SECONDS] [-t THREADS] [-q] [-K]
 *
 * Not a meson test: scripts/torture.sh builds it in tiny-shard, perturb
 * (src/perturb.h) builds, plain and under the sanitizers, and runs it for
 * minutes (doc/torture.md).  THREADS worker slots (default 32, far more
 * than cores) each run a random mix of operations on one shared map,
 * slice, value, pool and a set of once objects, plus read sections,
 * deferred frees, synchronize and barrier.  A quarter of the slots are
 * ephemeral: their threads run a few hundred operations, sometimes exit
 * inside a read section, and leave the pool objects and value references
 * they hold to other threads.  Two stalled readers sit in read sections
 * for up to 160 ms, checking that nothing they can see is
 * freed under them.  The oracles (one per module, see each section):
 *
 *   map    per-slot key ownership with an exact model of every owned key;
 *          values encode key and version; foreign readers accept only
 *          values of the right key no newer than the owner announced;
 *          stable keys are found by every load, range and scan; on_drop
 *          sees every stored value exactly once by the end.
 *   value  objects poisoned when destroyed: a load, reference or destroy
 *   pool   that meets a poisoned object is a use after free or a double
 *   defer  free; a pool object handed to two holders at once, or dropped
 *          while held, is caught by its holder flag; live counts per kind
 *          return to zero at the end.
 *   once   each fn runs exactly once (do) or succeeds at most once (try),
 *          its write is visible to every caller that returns, and re-entry
 *          from fn answers EDEADLK.
 *   slice  appends through one shared handle: each slot's elements appear
 *          in every snapshot as its sequence 0, 1, 2, ... in order; a held
 *          view never changes; the final length is the append count.
 *          Private slices are checked element by element against a model.
 *   reclaim a pointer read in a section is never poisoned before the
 *          section ends (synchronize), a deferred destroy has run when
 *          barrier returns, and both answer EDEADLK inside a section.
 *
 * Prints operations, checks and failures; exits 1 with the seed on any
 * failure.  Workers never abort: they count failures and print the first
 * few.
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "goconc.h"

/* ------------------------------------------------------------ basics */

#define ld(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define st(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

static uint64_t seed0;
static int quiet;
/* -K: leave out the checks that hit core bugs known and being fixed
 * (doc/torture.md lists them), to look for other failures meanwhile. */
static int skip_known;
static int stop;
static uint64_t failures;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Per-thread tallies, folded into the totals when a thread ends. */
enum op {
    OP_MAP_OWN, OP_MAP_READ, OP_MAP_PEEK, OP_MAP_WALK, OP_MAP_MAINTAIN,
    OP_VAL_LOAD, OP_VAL_STORE, OP_VAL_SWAP, OP_VAL_CAS, OP_VAL_REF,
    OP_POOL_GET, OP_POOL_PUT, OP_POOL_TRIM,
    OP_ONCE_DO, OP_ONCE_TRY,
    OP_SLICE_APPEND, OP_SLICE_VIEW, OP_SLICE_PRIV,
    OP_DEFER, OP_SYNC, OP_BARRIER, OP_STASH, OP_CMAP,
    OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "map_own", "map_read", "map_peek", "map_walk", "map_maintain",
    "val_load", "val_store", "val_swap", "val_cas", "val_ref",
    "pool_get", "pool_put", "pool_trim",
    "once_do", "once_try",
    "slice_append", "slice_view", "slice_priv",
    "defer", "sync", "barrier", "stash", "cmap",
};
static uint64_t total_ops[OP_COUNT], total_checks;
static _Thread_local uint64_t tl_ops[OP_COUNT], tl_checks;

static void tally_fold(void)
{
    int i;
    for (i = 0; i < OP_COUNT; i++) {
        add(&total_ops[i], tl_ops[i]);
        tl_ops[i] = 0;
    }
    add(&total_checks, tl_checks);
    tl_checks = 0;
}

static void fail_at(int line, const char *fmt, ...)
{
    va_list ap;
    if (add(&failures, 1) >= 20)
        return;
    va_start(ap, fmt);
    flockfile(stderr);
    fprintf(stderr, "torture: FAIL (seed %" PRIu64 ", line %d): ", seed0, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        tl_checks++;                                                        \
        if (!(cond))                                                        \
            fail_at(__LINE__, __VA_ARGS__);                                 \
    } while (0)

/* --------------------------------------------------- tracked objects */

/*
 * Objects handed to the library with a destroy callback (value objects,
 * pool objects, deferred frees).  Destroying one poisons it (magic DEAD)
 * and parks it in a quarantine ring, so a later access still reads the
 * poison instead of reused memory: a use after free or second destroy is
 * then a failed check, not luck.  Under AddressSanitizer the ring only
 * delays the free; ASan's own quarantine takes over from there.
 */
#define MAGIC_LIVE 0x4c495645u
#define MAGIC_DEAD 0xdeadbeefu
enum kind { K_VALUE, K_POOL, K_DEFER, K_SYNC, K_COUNT };
static const char *const kind_names[K_COUNT] = { "value", "pool", "defer", "sync" };

struct tobj {
    uint32_t magic;  /* atomic: LIVE until destroyed */
    uint32_t kind;
    uint64_t id, check;
    int held;        /* pool: 1 while a user holds it (atomic) */
    uint64_t owner;  /* pool: the holder's token, written while held */
};

static int64_t live[K_COUNT];
static uint64_t made[K_COUNT];
static uint64_t next_id;

static uint64_t check_word(uint64_t id) { return id * 0xff51afd7ed558ccdull ^ 0x5bd1e995u; }

static struct tobj *tobj_new(enum kind k)
{
    struct tobj *o = calloc(1, sizeof *o);
    if (o == NULL) {
        fail_at(__LINE__, "out of memory");
        abort();
    }
    o->kind = k;
    o->id = add(&next_id, 1);
    o->check = check_word(o->id);
    st(&o->magic, MAGIC_LIVE);
    add(&live[k], 1);
    add(&made[k], 1);
    return o;
}

static int tobj_ok(const struct tobj *o, enum kind k)
{
    return o != NULL && ld(&o->magic) == MAGIC_LIVE && o->kind == (uint32_t)k &&
           o->check == check_word(o->id);
}

#define QUARANTINE 16384
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tobj *q_ring[QUARANTINE];
static size_t q_head;

static void quarantine(struct tobj *o)
{
    struct tobj *old;
    pthread_mutex_lock(&q_lock);
    old = q_ring[q_head];
    q_ring[q_head] = o;
    q_head = (q_head + 1) % QUARANTINE;
    pthread_mutex_unlock(&q_lock);
    free(old);
}

static void quarantine_drain(void)
{
    size_t i;
    for (i = 0; i < QUARANTINE; i++) {
        free(q_ring[i]);
        q_ring[i] = NULL;
    }
}

/* Destroy o (who names the caller): it must be live, of kind k. */
static void tobj_kill(struct tobj *o, enum kind k, const char *who)
{
    uint32_t m = __atomic_exchange_n(&o->magic, MAGIC_DEAD, __ATOMIC_ACQ_REL);
    CHECK(m == MAGIC_LIVE, "%s: %s object %" PRIu64 " destroyed twice", who, kind_names[k],
          o->id);
    if (m != MAGIC_LIVE)
        return;
    CHECK(o->kind == (uint32_t)k, "%s: object of kind %u, expected %s", who, o->kind,
          kind_names[k]);
    add(&live[o->kind], -1);
    quarantine(o);
}

/* ------------------------------------------------------------- slots */

/*
 * A slot is one worker's identity: the map keys it owns and their exact
 * model, its slice sequence and private slice.  An ephemeral slot's state
 * passes from one short-lived thread to the next through pthread_join.
 */
#define KPS 48                  /* map keys owned per slot */
#define NSTABLE 256             /* map keys stored once, never changed */
#define STABLE_BASE 0xF0000000u
#define PRIV_LEN 64             /* private slice elements */
#define MAX_HELD 8

struct slot {
    unsigned idx;
    int ephemeral;
    uint64_t rng;
    uint32_t ver[KPS];          /* newest version used per owned key */
    uint32_t model[KPS];        /* current version, 0 = absent */
    uint64_t app_seq;           /* elements appended to the shared slice */
    goconc_slice *priv;         /* private slice and its model */
    uint64_t priv_model[PRIV_LEN];
    pthread_t ctl;
    uint64_t beats;             /* ops done, for the watchdog (atomic) */
    int cur_op;                 /* the op running now (atomic) */
};

static unsigned nslots;
static struct slot *slots;

/* What a running thread holds; an exiting one hands it to the stash. */
struct held {
    struct tobj *pool_obj[MAX_HELD];
    uint64_t token[MAX_HELD];   /* what this holder wrote into each */
    unsigned npool;
    goconc_value_ref *refs[MAX_HELD];
    unsigned nrefs;
    goconc_view view;           /* a snapshot of the shared slice */
    uint64_t view_sum;
    int has_view;
};

static uint64_t rnd(struct slot *s) { return splitmix(&s->rng); }
static unsigned rndn(struct slot *s, unsigned n) { return (unsigned)(rnd(s) % n); }

/* ---------------------------------------------------------------- map */

/*
 * Key id: slot * KPS + i for owned keys, STABLE_BASE + i for stable ones.
 * Value of (id, ver): 8 bytes id << 32 | ver when ver % 3 != 0, else 24
 * bytes (id, ver, check), so both inline and out-of-line values churn.
 */
static goconc_map *map;
static uint32_t *announced; /* newest version each owner announced */
static uint64_t map_stored, map_drops, map_drops_bad;
static int map_phase; /* 0: fill, 1: drain */

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

static void map_owner_op(struct slot *s)
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

static void map_read_op(struct slot *s)
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

/* Borrowed values must stay put until the section ends. */
static void map_peek_op(struct slot *s)
{
    const void *p[4];
    uint64_t copy[4][3], ids[4];
    size_t len[4];
    unsigned n = 1 + rndn(s, 4), j;

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

static void map_walk_op(struct slot *s)
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
    CHECK(w.bad == 0, "%s: %" PRIu64 " entries with a foreign key or value", scan ? "scan" : "range",
          w.bad);
    for (i = 0; i < NSTABLE; i++)
        missing += w.seen[nkeys() + i] == 0;
    CHECK(missing == 0, "%s: %" PRIu64 " stable keys not visited (stop every %d)",
          scan ? "scan" : "range", missing, w.stop_every);
    free(w.seen);
}

/* Reserves stay small: a shard never shrinks below what was reserved. */
static void map_maintain_op(struct slot *s)
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

static void cmap_op(struct slot *s)
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

/* -------------------------------------------------------------- value */

static goconc_value *value;
static struct tobj *sync_ptr; /* swapped, then synchronize, then poisoned */

static void value_destroy(void *ctx, void *obj)
{
    (void)ctx;
    tobj_kill(obj, K_VALUE, "value destroy");
}

static void check_sync_ptr(const char *where)
{
    struct tobj *o = ld(&sync_ptr);
    CHECK(tobj_ok(o, K_SYNC), "%s: object read in a read section was freed under it", where);
}

static void val_load_op(struct slot *s)
{
    struct tobj *o;
    unsigned depth = 1 + rndn(s, 3), d;
    for (d = 0; d < depth; d++)
        goconc_read_lock();
    o = goconc_value_load(value);
    CHECK(o == NULL || tobj_ok(o, K_VALUE), "value load: poisoned object in a read section");
    check_sync_ptr("value load");
    if (rndn(s, 8) == 0)
        sched_yield();
    CHECK(o == NULL || tobj_ok(o, K_VALUE), "value load: object destroyed inside the section");
    for (d = 0; d < depth; d++)
        goconc_read_unlock();
}

static void val_store_op(void)
{
    struct tobj *o = tobj_new(K_VALUE);
    int rc = goconc_value_store(value, o);
    CHECK(rc == GOCONC_OK, "value store: rc %d", rc);
}

static void val_swap_op(void)
{
    goconc_value_ref *r = NULL;
    struct tobj *o = tobj_new(K_VALUE), *old;
    int rc = goconc_value_swap(value, o, &r);
    CHECK(rc == GOCONC_OK, "value swap: rc %d", rc);
    old = goconc_value_ref_get(r);
    CHECK(r == NULL || tobj_ok(old, K_VALUE), "value swap: replaced object already destroyed");
    goconc_value_release(r);
}

static void val_cas_op(void)
{
    struct tobj *o = tobj_new(K_VALUE), *cur;
    int rc;
    goconc_read_lock();
    cur = goconc_value_load(value);
    goconc_read_unlock();
    /* Only compared, never read: cur may be gone by now.  The quarantine
     * keeps its address from coming back as a new object meanwhile. */
    rc = goconc_value_compare_and_swap(value, cur, o);
    CHECK(rc == GOCONC_OK || rc == GOCONC_CHANGED, "value compare_and_swap: rc %d", rc);
    if (rc == GOCONC_CHANGED)
        tobj_kill(o, K_VALUE, "value cas loser");
}

static void release_ref(goconc_value_ref *r, const char *who)
{
    CHECK(tobj_ok(goconc_value_ref_get(r), K_VALUE), "%s: referenced object destroyed", who);
    goconc_value_release(r);
}

static void val_ref_op(struct slot *s, struct held *h)
{
    if (h->nrefs == MAX_HELD || (h->nrefs && rndn(s, 2))) {
        unsigned j = rndn(s, h->nrefs);
        release_ref(h->refs[j], "value release");
        h->refs[j] = h->refs[--h->nrefs];
        return;
    }
    goconc_value_ref *r = goconc_value_acquire(value);
    if (r != NULL) {
        CHECK(tobj_ok(goconc_value_ref_get(r), K_VALUE), "value acquire: destroyed object");
        h->refs[h->nrefs++] = r;
    }
}

/* --------------------------------------------------------------- pool */

static goconc_pool *pool;
static uint64_t pool_gets, pool_puts; /* calls made, for the final stats */

static void *pool_new_obj(void *ctx)
{
    (void)ctx;
    return tobj_new(K_POOL);
}

static void pool_free_obj(void *ctx, void *obj)
{
    struct tobj *o = obj;
    (void)ctx;
    CHECK(ld(&o->magic) != MAGIC_LIVE || ld(&o->held) == 0,
          "pool free_obj: object %" PRIu64 " dropped while a user holds it", o->id);
    tobj_kill(o, K_POOL, "pool free_obj");
}

static void pool_reset_obj(void *ctx, void *obj)
{
    (void)ctx;
    CHECK(tobj_ok(obj, K_POOL), "pool reset_obj: poisoned object put back");
}

static void pool_get_op(struct slot *s, struct held *h)
{
    struct tobj *o;
    if (h->npool == MAX_HELD)
        return;
    o = goconc_pool_get(pool);
    add(&pool_gets, 1);
    CHECK(o != NULL, "pool get: NULL with new_obj set");
    if (o == NULL)
        return;
    CHECK(tobj_ok(o, K_POOL), "pool get: poisoned object handed out");
    CHECK(__atomic_exchange_n(&o->held, 1, __ATOMIC_ACQ_REL) == 0,
          "pool get: object %" PRIu64 " handed to two holders", o->id);
    h->token[h->npool] = o->owner = rnd(s);
    h->pool_obj[h->npool++] = o;
}

static void pool_put_obj(struct tobj *o, uint64_t token, const char *who)
{
    CHECK(tobj_ok(o, K_POOL), "%s: held object destroyed", who);
    CHECK(o->owner == token, "%s: held object %" PRIu64 " written by someone else", who, o->id);
    st(&o->held, 0);
    add(&pool_puts, 1);
    goconc_pool_put(pool, o);
}

static void pool_put_op(struct slot *s, struct held *h)
{
    unsigned j;
    if (h->npool == 0)
        return;
    j = rndn(s, h->npool);
    pool_put_obj(h->pool_obj[j], h->token[j], "pool put");
    h->pool_obj[j] = h->pool_obj[--h->npool];
    h->token[j] = h->token[h->npool];
}

/* --------------------------------------------------------------- once */

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

static void once_do_op(struct slot *s)
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

static void once_try_op(struct slot *s)
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

static void slice_append_op(struct slot *s)
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

static void slice_view_op(struct slot *s, struct held *h)
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
static void slice_priv_op(struct slot *s)
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
        (void)goconc_slice_set(c, i, &e);
        (void)goconc_slice_set(c, i, &s->priv_model[i]);
        rc = goconc_slice_copy(s->priv, c, &n);
        CHECK(rc == GOCONC_OK && n == PRIV_LEN, "private copy: rc %d, %zu copied", rc, n);
        for (i = 0; i < PRIV_LEN; i++) {
            (void)goconc_slice_get(s->priv, i, &got);
            CHECK(got == s->priv_model[i], "private clone/copy: element %zu changed", i);
        }
        goconc_slice_free(c);
        break;
    }
}

/* ------------------------------------------------------------ reclaim */

static void defer_destroy(void *ctx, void *obj)
{
    (void)ctx;
    tobj_kill(obj, K_DEFER, "deferred destroy");
}

static void defer_op(void)
{
    struct tobj *o = tobj_new(K_DEFER);
    int rc = goconc_defer_free(o, defer_destroy, NULL);
    CHECK(rc == GOCONC_OK, "defer_free: rc %d", rc);
}

static void sync_op(void)
{
    struct tobj *n = tobj_new(K_SYNC);
    struct tobj *old = __atomic_exchange_n(&sync_ptr, n, __ATOMIC_ACQ_REL);
    int rc = goconc_synchronize();
    CHECK(rc == GOCONC_OK, "synchronize: rc %d", rc);
    if (rc != GOCONC_OK)
        goconc_synchronize(); /* don't poison it early: just report */
    tobj_kill(old, K_SYNC, "synchronize");
}

struct ticket { int done; };

static void ticket_done(void *ctx, void *obj)
{
    (void)ctx;
    st(&((struct ticket *)obj)->done, 1);
}

static void barrier_op(struct slot *s)
{
    struct ticket *t = calloc(1, sizeof *t);
    int rc;
    if (t == NULL)
        return;
    if (rndn(s, 4) == 0) {
        goconc_read_lock();
        CHECK(goconc_barrier() == GOCONC_EDEADLK, "barrier inside a read section: not EDEADLK");
        CHECK(goconc_synchronize() == GOCONC_EDEADLK,
              "synchronize inside a read section: not EDEADLK");
        goconc_read_unlock();
    }
    rc = goconc_defer_free(t, ticket_done, NULL);
    CHECK(rc == GOCONC_OK, "defer_free: rc %d", rc);
    rc = goconc_barrier();
    CHECK(rc == GOCONC_OK, "barrier: rc %d", rc);
    CHECK(ld(&t->done), "barrier returned before a destroy deferred before it ran");
    if (ld(&t->done))
        free(t); /* else it may still run: leak it rather than race */
}

/* -------------------------------------------------------------- stash */

/*
 * Pool objects and value references left by exiting threads: another
 * thread puts or releases them, so they cross threads as Go code does.
 */
#define STASH 1024
static pthread_mutex_t stash_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { struct tobj *obj; uint64_t token; goconc_value_ref *ref; } stash[STASH];
static unsigned stash_n;

static int stash_push(struct tobj *o, uint64_t token, goconc_value_ref *r)
{
    int ok;
    pthread_mutex_lock(&stash_lock);
    ok = stash_n < STASH;
    if (ok) {
        stash[stash_n].obj = o;
        stash[stash_n].token = token;
        stash[stash_n++].ref = r;
    }
    pthread_mutex_unlock(&stash_lock);
    return ok;
}

static int stash_pop(void)
{
    struct tobj *o = NULL;
    goconc_value_ref *r = NULL;
    uint64_t token = 0;
    pthread_mutex_lock(&stash_lock);
    if (stash_n) {
        o = stash[--stash_n].obj;
        token = stash[stash_n].token;
        r = stash[stash_n].ref;
    }
    pthread_mutex_unlock(&stash_lock);
    if (o != NULL)
        pool_put_obj(o, token, "stash put");
    if (r != NULL)
        release_ref(r, "stash release");
    return o != NULL || r != NULL;
}

static void held_leave(struct held *h, int to_stash)
{
    while (h->npool) {
        struct tobj *o = h->pool_obj[--h->npool];
        uint64_t token = h->token[h->npool];
        if (!to_stash || !stash_push(o, token, NULL))
            pool_put_obj(o, token, "pool put at exit");
    }
    while (h->nrefs) {
        goconc_value_ref *r = h->refs[--h->nrefs];
        if (!to_stash || !stash_push(NULL, 0, r))
            release_ref(r, "value release at exit");
    }
    if (h->has_view) {
        CHECK(view_check(&h->view, "held view", NULL) == h->view_sum,
              "held view: contents changed while held");
        goconc_view_release(&h->view);
        h->has_view = 0;
    }
}

/* ------------------------------------------------------------ workers */

struct weight { enum op op; unsigned w; };
static const struct weight mix[] = {
    { OP_MAP_OWN, 300 },   { OP_MAP_READ, 150 },  { OP_MAP_PEEK, 60 },
    { OP_MAP_WALK, 1 },    { OP_MAP_MAINTAIN, 8 }, { OP_VAL_LOAD, 80 },
    { OP_VAL_STORE, 20 },  { OP_VAL_SWAP, 10 },   { OP_VAL_CAS, 10 },
    { OP_VAL_REF, 20 },    { OP_POOL_GET, 40 },   { OP_POOL_PUT, 40 },
    { OP_POOL_TRIM, 2 },   { OP_ONCE_DO, 20 },    { OP_ONCE_TRY, 10 },
    { OP_SLICE_APPEND, 40 }, { OP_SLICE_VIEW, 1 }, { OP_SLICE_PRIV, 20 },
    { OP_DEFER, 20 },      { OP_SYNC, 1 },        { OP_BARRIER, 1 },
    { OP_STASH, 10 },      { OP_CMAP, 20 },
};

static unsigned mix_total; /* set before the workers start */

static enum op pick_op(struct slot *s)
{
    unsigned r = rndn(s, mix_total), i;
    for (i = 0; r >= mix[i].w; i++)
        r -= mix[i].w;
    return mix[i].op;
}

static void run_op(struct slot *s, struct held *h, enum op op)
{
    tl_ops[op]++;
    __atomic_store_n(&s->cur_op, (int)op, __ATOMIC_RELAXED);
    __atomic_store_n(&s->beats, s->beats + 1, __ATOMIC_RELAXED); /* only we write it */
    switch (op) {
    case OP_MAP_OWN: map_owner_op(s); break;
    case OP_MAP_READ: map_read_op(s); break;
    case OP_MAP_PEEK: map_peek_op(s); break;
    case OP_MAP_WALK: map_walk_op(s); break;
    case OP_MAP_MAINTAIN: map_maintain_op(s); break;
    case OP_VAL_LOAD: val_load_op(s); break;
    case OP_VAL_STORE: val_store_op(); break;
    case OP_VAL_SWAP: val_swap_op(); break;
    case OP_VAL_CAS: val_cas_op(); break;
    case OP_VAL_REF: val_ref_op(s, h); break;
    case OP_POOL_GET: pool_get_op(s, h); break;
    case OP_POOL_PUT: pool_put_op(s, h); break;
    case OP_POOL_TRIM: goconc_pool_trim(pool); break;
    case OP_ONCE_DO: once_do_op(s); break;
    case OP_ONCE_TRY: once_try_op(s); break;
    case OP_SLICE_APPEND: slice_append_op(s); break;
    case OP_SLICE_VIEW: slice_view_op(s, h); break;
    case OP_SLICE_PRIV: slice_priv_op(s); break;
    case OP_DEFER: defer_op(); break;
    case OP_SYNC: sync_op(); break;
    case OP_BARRIER: barrier_op(s); break;
    case OP_STASH: (void)stash_pop(); break;
    case OP_CMAP: cmap_op(s); break;
    case OP_COUNT: break;
    }
}

/* A long-lived worker: random ops until stop. */
static void *worker(void *arg)
{
    struct slot *s = arg;
    struct held h;
    memset(&h, 0, sizeof h);
    tl_seen = calloc(nkeys(), sizeof *tl_seen);
    while (!ld(&stop))
        run_op(s, &h, pick_op(s));
    held_leave(&h, 0);
    tally_fold();
    free(tl_seen);
    return NULL;
}

/* An ephemeral worker: a few hundred ops, then exit mid-work, leaving
 * what it holds to others, sometimes from inside a read section. */
static uint64_t exits, exits_in_section;

static void *ephemeral(void *arg)
{
    struct slot *s = arg;
    struct held h;
    unsigned n = 20 + rndn(s, 600), k;
    memset(&h, 0, sizeof h);
    tl_seen = calloc(nkeys(), sizeof *tl_seen);
    for (k = 0; k < n && !ld(&stop); k++)
        run_op(s, &h, pick_op(s));
    held_leave(&h, 1);
    add(&exits, 1);
    if (rndn(s, 8) == 0) {
        add(&exits_in_section, 1);
        goconc_read_lock(); /* never unlocked: thread exit must cope */
        check_sync_ptr("exit in section");
    }
    tally_fold();
    free(tl_seen);
    return NULL;
}

static void *ephemeral_ctl(void *arg)
{
    struct slot *s = arg;
    while (!ld(&stop)) {
        pthread_t t;
        if (pthread_create(&t, NULL, ephemeral, s) != 0) {
            sleep_us(1000);
            continue;
        }
        pthread_join(t, NULL);
    }
    return NULL;
}

/* Stalled reader: sits in a read section, holding pointers, for a long
 * time; none of them may be freed or change before it leaves. */
static uint64_t stalls;

static void *stalled_reader(void *arg)
{
    uint64_t rng = *(uint64_t *)arg;
    while (!ld(&stop)) {
        const void *p[8];
        size_t len[8];
        uint64_t copy[8][3], ids[8];
        struct tobj *vo, *so;
        unsigned j;

        goconc_read_lock();
        vo = goconc_value_load(value);
        so = ld(&sync_ptr);
        for (j = 0; j < 8; j++) {
            struct key k;
            ids[j] = splitmix(&rng) % nkeys();
            key_of(ids[j], &k);
            if (goconc_map_peek(map, k.b, k.len, &p[j], &len[j]) != GOCONC_OK)
                p[j] = NULL;
            else
                memcpy(copy[j], p[j], len[j] <= 24 ? len[j] : 24);
        }
        sleep_us(10000 + (long)(splitmix(&rng) % 150000));
        CHECK(vo == NULL || tobj_ok(vo, K_VALUE), "stalled reader: value object freed under it");
        CHECK(tobj_ok(so, K_SYNC), "stalled reader: synchronize did not wait for it");
        for (j = 0; j < 8; j++)
            if (p[j] != NULL)
                CHECK(len[j] <= 24 && memcmp(copy[j], p[j], len[j]) == 0 &&
                          val_decode(ids[j], p[j], len[j]) != 0,
                      "stalled reader: peeked value of key %" PRIu64 " changed", ids[j]);
        goconc_read_unlock();
        add(&stalls, 1);
        sleep_us(20000);
    }
    tally_fold();
    return NULL;
}

/*
 * Hangs are failures too: a slot whose threads finish no operation for
 * STUCK_SECONDS (a lost wake-up, a deadlock), or a run that has not
 * finished STUCK_SECONDS after it was told to stop.  Reported, then the
 * process exits: the stuck threads cannot be joined.
 */
#define STUCK_SECONDS 60
static int finished;

static void die_hung(void)
{
    printf("torture: seed %" PRIu64 ": hung, %" PRIu64 " failures\n", seed0, ld(&failures));
    fflush(stdout);
    fflush(stderr);
    _exit(1);
}

static void *watchdog(void *arg)
{
    uint64_t *last = calloc(nslots, sizeof *last);
    double *since = calloc(nslots, sizeof *since), t, stop_at = 0;
    unsigned i;
    (void)arg;
    if (last == NULL || since == NULL)
        return NULL;
    for (i = 0; i < nslots; i++)
        since[i] = now_s();
    while (!ld(&finished)) {
        sleep_us(500000);
        t = now_s();
        if (ld(&stop)) {
            if (stop_at == 0)
                stop_at = t;
            if (t - stop_at > STUCK_SECONDS) {
                fail_at(__LINE__, "threads still running %d s after stop", STUCK_SECONDS);
                die_hung();
            }
            continue;
        }
        for (i = 0; i < nslots; i++) {
            uint64_t b = __atomic_load_n(&slots[i].beats, __ATOMIC_RELAXED);
            if (b != last[i]) {
                last[i] = b;
                since[i] = t;
            } else if (t - since[i] > STUCK_SECONDS) {
                fail_at(__LINE__, "slot %u made no progress for %d s, in %s", i, STUCK_SECONDS,
                        op_names[__atomic_load_n(&slots[i].cur_op, __ATOMIC_RELAXED)]);
                die_hung();
            }
        }
    }
    free(last);
    free(since);
    return NULL;
}

/* --------------------------------------------------------- setup, end */

static void setup(void)
{
    goconc_map_options mo = GOCONC_MAP_OPTIONS_INIT;
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    unsigned i;
    int rc;

    mo.on_drop = on_drop;
    mo.seed = seed0 | 1;
    rc = goconc_map_new(&map, &mo);
    mo.on_drop = cmap_on_drop;
    rc |= goconc_map_new(&cmap, &mo);
    rc |= goconc_value_new(&value, value_destroy, NULL);
    po.new_obj = pool_new_obj;
    po.free_obj = pool_free_obj;
    po.reset_obj = pool_reset_obj;
    po.max_idle = 64;
    rc |= goconc_pool_new(&pool, &po);
    rc |= goconc_slice_new(&shared_slice, sizeof(uint64_t), 0, 0);
    if (rc != GOCONC_OK || !(announced = calloc(nkeys(), sizeof *announced)) ||
        !(slots = calloc(nslots, sizeof *slots))) {
        fprintf(stderr, "torture: setup failed\n");
        exit(2);
    }
    for (i = 0; i < NSTABLE; i++) {
        struct key k;
        struct val v;
        key_of(STABLE_BASE + i, &k);
        val_of(STABLE_BASE + i, 3, &v);
        rc |= goconc_map_store(map, k.b, k.len, v.w, v.len);
        map_stored++;
    }
    sync_ptr = tobj_new(K_SYNC);
    for (i = 0; i < sizeof mix / sizeof mix[0]; i++)
        mix_total += mix[i].w;
    for (i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        s->idx = i;
        s->ephemeral = i % 4 == 3;
        s->rng = seed0 ^ (0x9e3779b97f4a7c15ull * (i + 1));
        rc |= goconc_slice_new(&s->priv, sizeof(uint64_t), PRIV_LEN, PRIV_LEN);
    }
    if (rc != GOCONC_OK) {
        fprintf(stderr, "torture: setup failed\n");
        exit(2);
    }
}

/* Everything stopped: the map equals the models, the slice holds every
 * append in order, and after freeing all, every counter is back at 0. */
static void final_checks(void)
{
    uint64_t present = 0, i, appended = 0;
    goconc_view v;
    goconc_reclaim_stats rs = GOCONC_RECLAIM_STATS_INIT;
    goconc_map_stats ms = GOCONC_MAP_STATS_INIT;
    int k;

    while (stash_pop())
        ;
    for (i = 0; i < nkeys(); i++) {
        struct slot *s = &slots[i / KPS];
        uint32_t m = s->model[i % KPS];
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
    {
        struct walk w = { calloc(nkeys() + NSTABLE, 1), 0, 0, 0, 0, NULL, 0 };
        uint64_t seen = 0;
        if (w.seen != NULL) {
            (void)goconc_map_range(map, walk_fn, &w);
            for (i = 0; i < nkeys() + NSTABLE; i++)
                seen += w.seen[i] != 0;
            CHECK(w.twice == 0 && w.bad == 0 && seen == present + NSTABLE,
                  "final range: %" PRIu64 " keys, %" PRIu64 " twice, %" PRIu64 " bad", seen,
                  w.twice, w.bad);
            free(w.seen);
        }
    }

    for (i = 0; i < nslots; i++)
        appended += slots[i].app_seq;
    CHECK(goconc_slice_len(shared_slice) == appended, "final: slice len %zu, appended %" PRIu64,
          goconc_slice_len(shared_slice), appended);
    if (goconc_slice_snapshot(shared_slice, &v) == GOCONC_OK) {
        uint64_t *cnt = calloc(nslots, sizeof *cnt);
        if (cnt != NULL) {
            (void)view_check(&v, "final slice", cnt);
            for (i = 0; i < nslots; i++)
                CHECK(cnt[i] == slots[i].app_seq, "final: slot %" PRIu64 " has %" PRIu64
                      " elements, appended %" PRIu64, i, cnt[i], slots[i].app_seq);
            free(cnt);
        }
        goconc_view_release(&v);
    }
    for (i = 0; i < NONCE; i++) {
        CHECK(ld(&once_do_runs[i]) == (goconc_once_done(&once_do_o[i]) ? 1u : 0u),
              "final: once_do %" PRIu64 " ran %" PRIu64 " times", i, once_do_runs[i]);
        CHECK(ld(&once_try_ok[i]) == (goconc_once_done(&once_try_o[i]) ? 1u : 0u),
              "final: once_try %" PRIu64 " succeeded %" PRIu64 " times", i, once_try_ok[i]);
    }

    if (goconc_map_stats_get(map, &ms) == GOCONC_OK && !quiet)
        printf("  map: %zu shards, %" PRIu64 " grows, %" PRIu64 " shrinks, %" PRIu64
               " buckets moved\n", ms.shards, ms.grows, ms.shrinks, ms.buckets_moved);
    {
        goconc_pool_stats ps = GOCONC_POOL_STATS_INIT;
        CHECK(goconc_pool_stats_get(pool, &ps) == GOCONC_OK && ps.gets == pool_gets &&
                  ps.puts == pool_puts && ps.news == made[K_POOL],
              "final pool stats: gets %" PRIu64 "/%" PRIu64 ", puts %" PRIu64 "/%" PRIu64
              ", news %" PRIu64 "/%" PRIu64 " (stats/made)", ps.gets, pool_gets, ps.puts,
              pool_puts, ps.news, made[K_POOL]);
    }
    goconc_map_free(map);
    goconc_map_free(cmap);
    goconc_value_free(value);
    goconc_pool_free(pool);
    goconc_slice_free(shared_slice);
    for (i = 0; i < nslots; i++)
        goconc_slice_free(slots[i].priv);
    tobj_kill(sync_ptr, K_SYNC, "final");
    CHECK(goconc_barrier() == GOCONC_OK, "final barrier failed");
    CHECK(map_drops == map_stored && map_drops_bad == 0,
          "final: on_drop saw %" PRIu64 " values (%" PRIu64 " malformed), %" PRIu64 " stored",
          map_drops, map_drops_bad, map_stored);
    CHECK(cmap_drops == cmap_stored && cmap_drops_bad == 0,
          "final: cleared map's on_drop saw %" PRIu64 " values (%" PRIu64 " malformed), %" PRIu64
          " stored", cmap_drops, cmap_drops_bad, cmap_stored);
    for (k = 0; k < K_COUNT; k++)
        CHECK(ld(&live[k]) == 0, "final: %" PRId64 " %s objects never destroyed (of %" PRIu64 ")",
              ld(&live[k]), kind_names[k], made[k]);
    CHECK(goconc_reclaim_stats_get(&rs) == GOCONC_OK && rs.pending == 0,
          "final: %zu deferred destroys still pending after barrier", rs.pending);
    tally_fold();
}

static void usage(void)
{
    fprintf(stderr, "usage: torture [-s SEED] [-d SECONDS] [-t THREADS] [-q] [-K]\n"
                    "  -s SEED     PRNG seed (default: from the clock)\n"
                    "  -d SECONDS  how long to run (default 10)\n"
                    "  -t THREADS  worker slots (default 32; a quarter respawn)\n"
                    "  -q          only the summary line\n"
                    "  -K          skip checks that hit known core bugs (doc/torture.md)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    double secs = 10, t0, last;
    uint64_t stall_seed[2], ops = 0;
    pthread_t stallers[2], dog;
    unsigned i;
    int c;

    seed0 = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    nslots = 32;
    while ((c = getopt(argc, argv, "s:d:t:qK")) != -1) {
        switch (c) {
        case 's': seed0 = strtoull(optarg, NULL, 0); break;
        case 'd': secs = strtod(optarg, NULL); break;
        case 't': nslots = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'q': quiet = 1; break;
        case 'K': skip_known = 1; break;
        default: usage();
        }
    }
    if (nslots < 1 || nslots > 4096 || !(secs >= 0))
        usage();
    printf("torture: seed %" PRIu64 ", %.0f s, %u slots (%u ephemeral), library %s%s\n", seed0,
           secs, nslots, nslots / 4, goconc_version_string(),
           skip_known ? ", known-bug checks skipped" : "");
    fflush(stdout);
    setup();

    for (i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        if (pthread_create(&s->ctl, NULL, s->ephemeral ? ephemeral_ctl : worker, s) != 0) {
            fprintf(stderr, "torture: pthread_create failed\n");
            return 2;
        }
    }
    for (i = 0; i < 2; i++) {
        stall_seed[i] = seed0 + 0x1234567 * (i + 1);
        pthread_create(&stallers[i], NULL, stalled_reader, &stall_seed[i]);
    }
    pthread_create(&dog, NULL, watchdog, NULL);
    t0 = last = now_s();
    while (now_s() - t0 < secs && ld(&failures) == 0) {
        sleep_us(100000);
        if ((int)((now_s() - t0) / 1.5) % 2 != ld(&map_phase))
            st(&map_phase, !ld(&map_phase));
        if (!quiet && now_s() - last >= 10) {
            last = now_s();
            printf("torture: %.0f s, %" PRIu64 " thread exits, %" PRIu64 " stalls, map len %zu\n",
                   last - t0, ld(&exits), ld(&stalls), goconc_map_len(map));
            fflush(stdout);
        }
    }
    st(&stop, 1);
    for (i = 0; i < nslots; i++)
        pthread_join(slots[i].ctl, NULL);
    for (i = 0; i < 2; i++)
        pthread_join(stallers[i], NULL);
    final_checks();
    quarantine_drain();
    st(&finished, 1);
    pthread_join(dog, NULL);

    for (i = 0; i < OP_COUNT; i++)
        ops += total_ops[i];
    if (!quiet) {
        for (i = 0; i < OP_COUNT; i++)
            printf("  %-13s %12" PRIu64 "\n", op_names[i], total_ops[i]);
        printf("  thread exits %" PRIu64 " (%" PRIu64 " inside a read section), stalls %" PRIu64
               "\n", exits, exits_in_section, stalls);
    }
    printf("torture: seed %" PRIu64 ": %" PRIu64 " ops, %" PRIu64 " checks, %" PRIu64
           " failures in %.1f s\n", seed0, ops, total_checks, failures, now_s() - t0);
    return failures ? 1 : 0;
}
