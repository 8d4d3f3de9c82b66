/* SPDX-License-Identifier: MIT */
/*
 * test_lifecycle.c - threads, processes and signals around the library's
 * objects: threads that exit inside read sections or holding pool caches
 * and value references, fork() while other threads migrate a map, many
 * short-lived threads with flat memory, and goconc_map_load from signal
 * handlers.  (dlopen/dlclose runs in lifecycle_dlopen.c: it needs a
 * program that is not linked with the library.)
 *
 * Each test runs in its own process (Check's fork mode).  Worker threads
 * never ck_assert: they count what went wrong and main checks the counts.
 * Values encode their key and a version, so every value read is checked
 * against the model of the thread that owns the key.
 *
 * GOCONC_LIFECYCLE_THREADS sets how many short-lived threads
 * many_short_lived_threads runs (default LC_THREADS_DEFAULT, a few
 * seconds); the long mode is
 *   GOCONC_LIFECYCLE_THREADS=100000 CK_RUN_CASE=many_short_lived_threads \
 *     build/tests/test_lifecycle
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* A few seconds' worth: thread creation is ~10x slower under TSan. */
#ifdef TEST_TSAN
#define LC_THREADS_DEFAULT 2000
#else
#define LC_THREADS_DEFAULT 20000
#endif

/* ------------------------------------------------------------- helpers */

static int ld_i(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void st_i(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static long ld_l(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void add_l(long *p, long v) { __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }

static void count_destroy(void *ctx, void *obj)
{
    (void)obj;
    add_l((long *)ctx, 1);
}

/* on_drop of the maps here: ctx counts the values dropped. */
static void count_drop(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    add_l((long *)ctx, 1);
}

static size_t stats_threads(void)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    ck_assert_int_eq(goconc_reclaim_stats_get(&st), GOCONC_OK);
    return st.threads;
}

/* Run fn on a thread and wait at most secs for it: 1 if it finished. */
struct bounded {
    void *(*fn)(void *);
    int done;
};

static void *bounded_tramp(void *p)
{
    struct bounded *b = p;
    b->fn(NULL);
    st_i(&b->done, 1);
    return NULL;
}

static int run_bounded(void *(*fn)(void *), double secs)
{
    struct bounded *b = malloc(sizeof *b); /* leaked if the thread hangs */
    double end = tu_now() + secs;
    pthread_t t;
    b->fn = fn;
    b->done = 0;
    if (pthread_create(&t, NULL, bounded_tramp, b) != 0)
        return 0;
    while (!ld_i(&b->done)) {
        if (tu_now() > end) {
            pthread_detach(t);
            return 0;
        }
        tu_sleep_ms(1);
    }
    pthread_join(t, NULL);
    free(b);
    return 1;
}

static int sync_rc, barrier_rc;
static void *do_synchronize(void *p) { (void)p; sync_rc = goconc_synchronize(); return NULL; }
static void *do_barrier(void *p) { (void)p; barrier_rc = goconc_barrier(); return NULL; }

/* Both grace-period waits finish, bounded, with GOCONC_OK. */
static void expect_grace_periods_end(const char *who)
{
    ck_assert_msg(run_bounded(do_synchronize, 20), "synchronize stalled by %s", who);
    ck_assert_int_eq(sync_rc, GOCONC_OK);
    ck_assert_msg(run_bounded(do_barrier, 20), "barrier stalled by %s", who);
    ck_assert_int_eq(barrier_rc, GOCONC_OK);
}

/* Keys are 8 bytes (id), values 16 bytes (id, version): self-checking. */
static void lc_val(uint64_t id, uint64_t ver, unsigned char v[16])
{
    memcpy(v, &id, 8);
    memcpy(v + 8, &ver, 8);
}

static int lc_store(goconc_map *m, uint64_t id, uint64_t ver)
{
    unsigned char v[16];
    lc_val(id, ver, v);
    return goconc_map_store(m, &id, sizeof id, v, sizeof v);
}

/* 1 if key id holds exactly version ver. */
static int lc_holds(const goconc_map *m, uint64_t id, uint64_t ver)
{
    unsigned char v[16], want[16];
    size_t n = 0;
    lc_val(id, ver, want);
    return goconc_map_load(m, &id, sizeof id, v, sizeof v, &n) == GOCONC_OK && n == 16 &&
           memcmp(v, want, 16) == 0;
}

/* Loaded value of key id is (id, some version): 0 if not present. */
static int lc_load_valid(const goconc_map *m, uint64_t id, int *bad)
{
    unsigned char v[16];
    uint64_t got;
    size_t n = 0;
    int rc = goconc_map_load(m, &id, sizeof id, v, sizeof v, &n);
    if (rc == GOCONC_NOTFOUND)
        return 0;
    memcpy(&got, v, 8);
    if (rc != GOCONC_OK || n != 16 || got != id)
        ++*bad;
    return 1;
}

/* ------------------------------------------- thread exit in a read section */

struct exit_ctx {
    goconc_map *m;
    goconc_value *v;
    uint64_t id;
    long destroyed; /* defer_free destroys of this thread's object */
    int bad;
};

/*
 * Peek a value, replace it, load the atomic value, defer a free, and exit
 * two sections deep: the replaced value, the deferred object and the
 * value's replaced object all wait for this reader, which never unlocks.
 */
static void *exit_inside_with_borrows(void *p)
{
    struct exit_ctx *e = p;
    static int obj;
    unsigned char copy[16];
    const void *pv;
    size_t n = 0;
    int *cur;

    goconc_read_lock();
    goconc_read_lock();
    if (goconc_map_peek(e->m, &e->id, sizeof e->id, &pv, &n) != GOCONC_OK || n != 16) {
        e->bad++;
        return NULL;
    }
    memcpy(copy, pv, n);
    cur = goconc_value_load(e->v);
    if (lc_store(e->m, e->id, 2) != GOCONC_OK || cur == NULL)
        e->bad++;
    if (goconc_value_store(e->v, malloc(sizeof(int))) != GOCONC_OK)
        e->bad++;
    if (memcmp(copy, pv, n) != 0 || *cur != 7) /* still ours: we are inside */
        e->bad++;
    if (goconc_defer_free(&obj, count_destroy, &e->destroyed) != GOCONC_OK)
        e->bad++;
    return NULL; /* still two sections deep */
}

static void free_int(void *ctx, void *obj)
{
    add_l((long *)ctx, 1);
    free(obj);
}

START_TEST(exit_inside_read_section_with_borrows)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    long drops = 0, vfreed = 0, live0;
    struct exit_ctx e;
    size_t threads0;
    int i, rounds = 3;

    goconc_read_lock(); /* register main before the baseline */
    goconc_read_unlock();
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    threads0 = stats_threads();
    live0 = tu_alloc_live();

    memset(&e, 0, sizeof e);
    o.on_drop = count_drop;
    o.ctx = &drops;
    ck_assert_int_eq(goconc_map_new(&e.m, &o), GOCONC_OK);
    ck_assert_int_eq(goconc_value_new(&e.v, free_int, &vfreed), GOCONC_OK);
    for (i = 0; i < rounds; i++) {
        int *seven = malloc(sizeof *seven);
        pthread_t t;
        *seven = 7;
        ck_assert_int_eq(goconc_value_store(e.v, seven), GOCONC_OK);
        e.id = (uint64_t)i;
        ck_assert_int_eq(lc_store(e.m, e.id, 1), GOCONC_OK);
        ck_assert_int_eq(pthread_create(&t, NULL, exit_inside_with_borrows, &e), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(e.bad, 0);
        expect_grace_periods_end("a thread that exited inside a read section");
        /* Everything that waited for the dead reader has been destroyed:
         * value version 1 of this key, the deferred object, and every
         * value object replaced so far (seven, and the thread's store
         * replaced by the next round's seven). */
        ck_assert_int_eq(ld_l(&e.destroyed), i + 1);
        ck_assert_int_eq(ld_l(&drops), i + 1);
        ck_assert_int_eq(ld_l(&vfreed), 2 * i + 1);
        ck_assert(lc_holds(e.m, e.id, 2));
    }
    ck_assert_uint_eq(goconc_map_len(e.m), (size_t)rounds);
    goconc_map_free(e.m);
    goconc_value_free(e.v);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(ld_l(&drops), 2 * rounds);
    ck_assert_int_eq(ld_l(&vfreed), 2 * rounds);
    /* The dead readers' records are unregistered and freed. */
    ck_assert_uint_eq(stats_threads(), threads0);
    ck_assert_int_eq(tu_alloc_live(), live0);
}
END_TEST

/* ----------------------------------- exit holding pool caches and value refs */

#define LC_POOL_IDS 4096
#define LC_MAX_IDLE 8

/* Objects of the pool under test: an id into a table that counts how
 * often each was made and freed, so a double free or a leak names the
 * object. */
struct pool_obj {
    unsigned id;
    unsigned owner; /* thread holding it, 0 in the pool */
};

struct pool_book {
    unsigned next;
    unsigned char made[LC_POOL_IDS], freed[LC_POOL_IDS];
    int overflow;
};

static void *pb_new(void *ctx)
{
    struct pool_book *b = ctx;
    unsigned id = __atomic_fetch_add(&b->next, 1, __ATOMIC_SEQ_CST);
    struct pool_obj *o;
    if (id >= LC_POOL_IDS) {
        st_i(&b->overflow, 1);
        return NULL;
    }
    o = malloc(sizeof *o);
    o->id = id;
    o->owner = 0;
    __atomic_store_n(&b->made[id], 1, __ATOMIC_SEQ_CST);
    return o;
}

static void pb_free(void *ctx, void *obj)
{
    struct pool_book *b = ctx;
    struct pool_obj *o = obj;
    __atomic_fetch_add(&b->freed[o->id], 1, __ATOMIC_SEQ_CST);
    free(o);
}

struct holder_ctx {
    goconc_pool *pool;
    goconc_value *val;
    unsigned self;
    goconc_value_ref *ref; /* handed to main, still held when we exit */
    void *ref_obj;
    int bad;
};

/* Fill this thread's pool cache, take a value reference, replace the
 * value so the reference is the only thing keeping its object, and exit
 * with all of it (and an open read section). */
static void *exit_holding(void *p)
{
    struct holder_ctx *h = p;
    struct pool_obj *got[2 * LC_MAX_IDLE];
    int i, *mine = malloc(sizeof *mine);

    for (i = 0; i < 2 * LC_MAX_IDLE; i++) {
        got[i] = goconc_pool_get(h->pool);
        if (got[i] == NULL || got[i]->owner != 0)
            h->bad++;
        else
            got[i]->owner = h->self;
    }
    for (i = 0; i < 2 * LC_MAX_IDLE; i++) {
        if (got[i] == NULL)
            continue;
        got[i]->owner = 0;
        goconc_pool_put(h->pool, got[i]);
    }
    h->ref = goconc_value_acquire(h->val);
    h->ref_obj = goconc_value_ref_get(h->ref);
    *mine = (int)h->self;
    if (h->ref == NULL || goconc_value_store(h->val, mine) != GOCONC_OK)
        h->bad++;
    goconc_read_lock();
    (void)goconc_value_load(h->val);
    return NULL;
}

START_TEST(exit_holding_pool_cache_and_value_refs)
{
    enum { T = 4 };
    static struct pool_book book;
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    struct holder_ctx h[T];
    goconc_pool *pool;
    goconc_value *val;
    long vfreed = 0;
    unsigned i, made = 0, freed = 0;
    int *first = malloc(sizeof *first);

    po.new_obj = pb_new;
    po.free_obj = pb_free;
    po.ctx = &book;
    po.max_idle = LC_MAX_IDLE;
    ck_assert_int_eq(goconc_pool_new(&pool, &po), GOCONC_OK);
    ck_assert_int_eq(goconc_value_new(&val, free_int, &vfreed), GOCONC_OK);
    *first = -1;
    ck_assert_int_eq(goconc_value_store(val, first), GOCONC_OK);
    for (i = 0; i < T; i++) {
        pthread_t t;
        memset(&h[i], 0, sizeof h[i]);
        h[i].pool = pool;
        h[i].val = val;
        h[i].self = i + 1;
        /* One at a time: each takes the object the previous one stored. */
        ck_assert_int_eq(pthread_create(&t, NULL, exit_holding, &h[i]), 0);
        pthread_join(t, NULL);
        ck_assert_int_eq(h[i].bad, 0);
    }
    expect_grace_periods_end("threads that exited holding references");
    /* Replaced objects stay while a dead thread's reference holds them;
     * the references still reach them. */
    ck_assert_int_eq(ld_l(&vfreed), 0);
    ck_assert_ptr_eq(h[0].ref_obj, first);
    for (i = 0; i < T; i++) {
        ck_assert_ptr_eq(goconc_value_ref_get(h[i].ref), h[i].ref_obj);
        /* Thread i took the object thread i-1 stored (self = i). */
        ck_assert_int_eq(*(int *)h[i].ref_obj, i == 0 ? -1 : (int)i);
    }
    /* The exited threads' caches were handed back, within max_idle. */
    ck_assert_int_eq(goconc_pool_stats_get(pool, &st), GOCONC_OK);
    ck_assert_uint_le(st.idle, LC_MAX_IDLE);
    ck_assert_int_eq(ld_i(&book.overflow), 0);
    for (i = 0; i < LC_POOL_IDS; i++) {
        made += book.made[i];
        freed += book.freed[i];
        ck_assert_uint_le(book.freed[i], book.made[i]);
    }
    /* Every object made is cached or was dropped, once (none is out). */
    ck_assert_uint_eq(made, st.idle + freed);
    ck_assert_uint_eq(freed, st.drops);

    for (i = 0; i < T; i++)
        goconc_value_release(h[i].ref);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(ld_l(&vfreed), T); /* first and the T-1 replaced ones */
    goconc_value_free(val);
    goconc_pool_free(pool);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(ld_l(&vfreed), T + 1);
    for (i = 0; i < LC_POOL_IDS; i++)
        ck_assert_msg(book.freed[i] == book.made[i], "pool object %u made %u freed %u", i,
                      book.made[i], book.freed[i]);
}
END_TEST

/* ------------------------------------------------- fork during migration */

#define FK_WORKERS 3
#define FK_KEYS 3000u
#define FK_FROZEN 500u

/* Child exit-status bits. */
enum {
    C_FROZEN = 1, C_MAP = 2, C_VALUE = 4, C_POOL = 8, C_BARRIER = 16, C_SECTION = 32,
    C_OWN_POOL = 64
};

struct fk_worker {
    goconc_map *m;
    unsigned idx;
    uint64_t rounds; /* completed; the map holds round `rounds` of our keys */
    int bad;
};

static int fk_stop, fk_park, fk_parked;

/*
 * Under AddressSanitizer and ThreadSanitizer the workers park (between
 * calls) around each fork: neither runtime's allocator is fork-safe, and
 * a child can block for ever on an allocator lock a worker held
 * (test_reclaim.c says more; under TSan, seen in about one full run in
 * four on a loaded machine: the child spinning in malloc on the spin lock
 * of TSan's MetaMap::AllocBlock).  A map can still be in mid-migration
 * then: migration moves buckets in steps, each writer a step.
 */
#if defined(TEST_ASAN) || defined(TEST_TSAN)
#define FK_PARK 1
#else
#define FK_PARK 0
#endif

static void fk_maybe_park(void)
{
    if (!FK_PARK || !ld_i(&fk_park))
        return;
    __atomic_fetch_add(&fk_parked, 1, __ATOMIC_SEQ_CST);
    while (ld_i(&fk_park))
        tu_sleep_ms(1);
    __atomic_fetch_sub(&fk_parked, 1, __ATOMIC_SEQ_CST);
}

/* Rounds of: store our FK_KEYS keys at version r, check them all, delete
 * them all; the shards grow and shrink (below 1/8 full) by migrations
 * that every worker's writes move along. */
static void *fk_work(void *p)
{
    struct fk_worker *w = p;
    uint64_t base = (uint64_t)(w->idx + 1) << 32, r;
    unsigned i;

    /* Ends after a round's stores, so the map holds all of round `rounds`. */
    for (r = 1;; r++) {
        for (i = 0; i < FK_KEYS; i++) {
            fk_maybe_park();
            if (lc_store(w->m, base + i, r) != GOCONC_OK)
                w->bad++;
        }
        for (i = 0; i < FK_KEYS; i++)
            if (!lc_holds(w->m, base + i, r))
                w->bad++;
        __atomic_store_n(&w->rounds, r, __ATOMIC_SEQ_CST);
        if (ld_i(&fk_stop))
            break;
        for (i = 0; i < FK_KEYS; i++) {
            fk_maybe_park();
            if (goconc_map_delete(w->m, &(uint64_t){ base + i }, 8) != GOCONC_OK)
                w->bad++;
        }
        if (w->idx == 0)
            tu_discard(goconc_map_maintain(w->m, 64, &(size_t){ 0 }));
    }
    return NULL;
}

static long child_destroyed;

static int child_pool_value(void)
{
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool *p;
    goconc_value *v;
    goconc_value_ref *ref = NULL;
    static int a, b;
    int bad = 0;
    void *o;

    if (goconc_value_new(&v, count_destroy, &child_destroyed) != GOCONC_OK)
        return C_VALUE;
    if (goconc_value_store(v, &a) != GOCONC_OK || (ref = goconc_value_acquire(v)) == NULL ||
        goconc_value_store(v, &b) != GOCONC_OK || goconc_value_ref_get(ref) != &a)
        bad |= C_VALUE;
    goconc_value_release(ref);
    goconc_value_free(v);
    if (goconc_barrier() != GOCONC_OK || ld_l(&child_destroyed) != 2)
        bad |= C_VALUE;
    if (goconc_pool_new(&p, &po) != GOCONC_OK)
        return bad | C_POOL;
    goconc_pool_put(p, &a);
    o = goconc_pool_get(p);
    if (o != &a || goconc_pool_get(p) != NULL)
        bad |= C_POOL;
    goconc_pool_free(p);
    return bad;
}

/* What the child checks at once after the fork; returns the bits failed. */
/*
 * A pool only the forking thread uses (its cache holds `cached`): usable
 * in the child, where the cached object comes back first and
 * goconc_pool_free drops what the child's copy holds.
 */
static long fk_pool_freed;
static void fk_pool_free_obj(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
    add_l(&fk_pool_freed, 1);
}

static int fk_child_own_pool(goconc_pool *p, void *cached)
{
    void *o = goconc_pool_get(p);
    int bad = o != cached;
    goconc_pool_put(p, o);
    fk_pool_freed = 0;
    goconc_pool_free(p);
    return bad || fk_pool_freed != 1 ? C_OWN_POOL : 0;
}

static int fk_child(const goconc_map *frozen)
{
    goconc_map *m;
    long drops = 0;
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    uint64_t i;
    int bad = 0;

    /* A hang kills the child only (Check's SIGALRM handler would kill
     * the test's whole process group). */
    signal(SIGALRM, SIG_DFL);
    alarm(20);
    /* A map nobody changed at the fork is usable (API.md section 1). */
    for (i = 0; i < FK_FROZEN; i++)
        if (!lc_holds(frozen, i, i + 1))
            bad |= C_FROZEN;
    if (goconc_map_len(frozen) != FK_FROZEN)
        bad |= C_FROZEN;
    goconc_read_lock();
    if (goconc_synchronize() != GOCONC_EDEADLK)
        bad |= C_SECTION;
    goconc_read_unlock();
    o.on_drop = count_drop;
    o.ctx = &drops;
    if (goconc_map_new(&m, &o) != GOCONC_OK)
        return bad | C_MAP;
    for (i = 0; i < 2000; i++)
        if (lc_store(m, i, 1) != GOCONC_OK || lc_store(m, i, 2) != GOCONC_OK)
            bad |= C_MAP;
    for (i = 0; i < 2000; i += 2)
        if (goconc_map_delete(m, &i, 8) != GOCONC_OK)
            bad |= C_MAP;
    for (i = 0; i < 2000; i++)
        if (lc_holds(m, i, 2) != (int)(i & 1))
            bad |= C_MAP;
    if (goconc_map_len(m) != 1000)
        bad |= C_MAP;
    goconc_map_free(m);
    if (goconc_barrier() != GOCONC_OK)
        bad |= C_BARRIER;
    if (ld_l(&drops) != 4000) /* 2000 replaced + 1000 deleted + 1000 at free */
        bad |= C_MAP;
    return bad | child_pool_value();
}

/* Coverage builds (-Db_coverage=true defines TEST_COVERAGE): gcov writes
 * each module's counts at exit(), which a fork child ending with _exit()
 * skips, and the fork-child halves of the library run nowhere else; there
 * the child exits with exit().  Elsewhere _exit(): nothing of the
 * parent's (atexit handlers, stdio buffers) runs twice. */
static void child_exit(int status)
{
#ifdef TEST_COVERAGE
    exit(status);
#else
    _exit(status);
#endif
}

static void expect_child_ok(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(!WIFSIGNALED(status), "fork child killed by signal %d%s", WTERMSIG(status),
                  WTERMSIG(status) == SIGALRM ? " (hung)" : "");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "fork child failed checks, bits 0x%x", WEXITSTATUS(status));
}

static void fk_park_all(int park)
{
    if (!FK_PARK)
        return;
    st_i(&fk_park, park);
    while (park && ld_i(&fk_parked) != FK_WORKERS && !ld_i(&fk_stop))
        tu_sleep_ms(1);
}

START_TEST(fork_while_threads_migrate_a_map)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map_stats st = GOCONC_MAP_STATS_INIT;
    struct fk_worker w[FK_WORKERS];
    pthread_t t[FK_WORKERS];
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    goconc_map *m, *frozen;
    goconc_pool *own;
    static int cached;
    long drops = 0;
    uint64_t i, stored = 0;
    int f, forks = 12, migrating = 0;
    unsigned k;

    po.free_obj = fk_pool_free_obj;
    ck_assert_int_eq(goconc_pool_new(&own, &po), GOCONC_OK);
    goconc_pool_put(own, &cached);
    ck_assert_int_eq(goconc_map_new(&frozen, NULL), GOCONC_OK);
    for (i = 0; i < FK_FROZEN; i++)
        ck_assert_int_eq(lc_store(frozen, i, i + 1), GOCONC_OK);
    o.shards = 2; /* few shards: migrations are big and frequent */
    o.on_drop = count_drop;
    o.ctx = &drops;
    ck_assert_int_eq(goconc_map_new(&m, &o), GOCONC_OK);
    for (k = 0; k < FK_WORKERS; k++) {
        memset(&w[k], 0, sizeof w[k]);
        w[k].m = m;
        w[k].idx = k;
        ck_assert_int_eq(pthread_create(&t[k], NULL, fk_work, &w[k]), 0);
    }
    for (f = 0; f < forks; f++) {
        pid_t pid;
        /* Aim the fork at a migration in progress (best effort: the
         * count is printed, not asserted). */
        double end = tu_now() + 0.2;
        do
            ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
        while (st.shards_migrating == 0 && tu_now() < end);
        fk_park_all(1);
        migrating += st.shards_migrating > 0;
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            child_exit(fk_child(frozen) | fk_child_own_pool(own, &cached));
        fk_park_all(0);
        expect_child_ok(pid);
    }
    st_i(&fk_stop, 1);
    for (k = 0; k < FK_WORKERS; k++)
        pthread_join(t[k], NULL);
    fprintf(stderr, "fork_while_threads_migrate_a_map: %d forks, %d while a shard migrated\n",
            forks, migrating);
    /* The parent went on unharmed: each worker's last round is intact. */
    for (k = 0; k < FK_WORKERS; k++) {
        uint64_t base = (uint64_t)(k + 1) << 32;
        ck_assert_int_eq(w[k].bad, 0);
        ck_assert_uint_gt(w[k].rounds, 0);
        for (i = 0; i < FK_KEYS; i++)
            ck_assert_msg(lc_holds(m, base + i, w[k].rounds), "worker %u key %" PRIu64, k, i);
        stored += w[k].rounds * FK_KEYS;
    }
    ck_assert_uint_eq(goconc_map_len(m), (size_t)FK_WORKERS * FK_KEYS);
    ck_assert_int_eq(goconc_map_stats_get(m, &st), GOCONC_OK);
    ck_assert_uint_gt(st.grows, 0);
    goconc_map_free(m);
    goconc_map_free(frozen);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(ld_l(&drops), (long)stored); /* each value stored, dropped once */
    /* The children's pool frees touched their copies only. */
    ck_assert_int_eq(ld_l(&fk_pool_freed), 0);
    ck_assert_ptr_eq(goconc_pool_get(own), &cached);
    goconc_pool_put(own, &cached);
    goconc_pool_free(own);
    ck_assert_int_eq(ld_l(&fk_pool_freed), 1);
}
END_TEST

/* ------------------------------------------------ many short-lived threads */

struct churn_ctx {
    goconc_map *m;
    goconc_value *v;
    goconc_pool *p;
    long destroyed;
    long bad;
};

static void *churn_one(void *p)
{
    struct churn_ctx *c = p;
    uint64_t id = (uint64_t)pthread_self();
    goconc_value_ref *ref;
    static int obj;
    void *o;

    if (lc_store(c->m, id, 1) != GOCONC_OK || !lc_holds(c->m, id, 1) ||
        goconc_map_delete(c->m, &id, 8) != GOCONC_OK)
        add_l(&c->bad, 1);
    ref = goconc_value_acquire(c->v);
    if (ref == NULL || goconc_value_ref_get(ref) == NULL)
        add_l(&c->bad, 1);
    goconc_value_release(ref);
    if ((o = goconc_pool_get(c->p)) == NULL)
        add_l(&c->bad, 1);
    goconc_pool_put(c->p, o);
    if (goconc_defer_free(&obj, count_destroy, &c->destroyed) != GOCONC_OK)
        add_l(&c->bad, 1);
    goconc_read_lock(); /* and leave inside a section */
    return NULL;
}

/* n threads, at most 8 alive at once. */
static void churn(struct churn_ctx *c, long n)
{
    pthread_t t[8];
    long i;
    int k;
    for (i = 0; i < n; i += 8) {
        int m = n - i < 8 ? (int)(n - i) : 8;
        for (k = 0; k < m; k++)
            ck_assert_int_eq(pthread_create(&t[k], NULL, churn_one, c), 0);
        for (k = 0; k < m; k++)
            pthread_join(t[k], NULL);
    }
}

static void *pool_new_int(void *ctx)
{
    add_l((long *)ctx, 1);
    return malloc(sizeof(int));
}

static long pool_freed;
static void pool_free_int(void *ctx, void *o)
{
    (void)ctx;
    add_l(&pool_freed, 1);
    free(o);
}

START_TEST(many_short_lived_threads)
{
    const char *e = getenv("GOCONC_LIFECYCLE_THREADS");
    long n = e ? atol(e) : LC_THREADS_DEFAULT, warm = 256, live_warm, pool_made = 0;
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    goconc_pool_stats ps = GOCONC_POOL_STATS_INIT;
    goconc_map_options mo = GOCONC_MAP_OPTIONS_INIT;
    struct churn_ctx c;
    size_t threads0;
    double t0;
    static int obj;

    memset(&c, 0, sizeof c);
    /* Sized so that neither the map's tables nor the pool's shared level
     * grow with the schedule: at most 8 keys in one shard that holds 64,
     * at most 8 idle objects.  What is left to grow is per thread. */
    mo.shards = 1;
    mo.capacity_hint = 64;
    ck_assert_int_eq(goconc_map_new(&c.m, &mo), GOCONC_OK);
    ck_assert_int_eq(goconc_value_new(&c.v, NULL, NULL), GOCONC_OK);
    ck_assert_int_eq(goconc_value_store(c.v, &obj), GOCONC_OK);
    po.new_obj = pool_new_int;
    po.free_obj = pool_free_int;
    po.ctx = &pool_made;
    po.max_idle = 8;
    ck_assert_int_eq(goconc_pool_new(&c.p, &po), GOCONC_OK);
    threads0 = stats_threads();
    /* Warm up: the map's tables, the orphan bag, the allocator's pools. */
    churn(&c, warm);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    live_warm = tu_alloc_live();
    t0 = tu_now();
    churn(&c, n);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    fprintf(stderr, "many_short_lived_threads: %ld threads in %.2f s, live allocations %ld -> %ld, "
            "pool objects made %ld\n", n, tu_now() - t0, live_warm, tu_alloc_live(), pool_made);
    ck_assert_int_eq(ld_l(&c.bad), 0);
    ck_assert_int_eq(ld_l(&c.destroyed), warm + n);
    ck_assert_uint_eq(stats_threads(), threads0);
    ck_assert_uint_eq(goconc_map_len(c.m), 0);
    /* Flat: n more threads left no library allocation behind. */
    ck_assert_int_eq(tu_alloc_live(), live_warm);
    /* Nor pool objects: every thread put its object back before exiting,
     * so each one made is cached or was dropped. */
    ck_assert_int_eq(goconc_pool_stats_get(c.p, &ps), GOCONC_OK);
    ck_assert_int_eq(pool_made - ld_l(&pool_freed), (long)ps.idle);
    ck_assert_uint_le(ps.idle, 1024);
    goconc_map_free(c.m);
    goconc_value_free(c.v);
    goconc_pool_free(c.p);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    ck_assert_int_eq(pool_made, ld_l(&pool_freed));
}
END_TEST

/* ------------------------------------------------- signal handlers load */

/*
 * goconc_map_load from a signal handler, on threads already registered
 * with the library (their first call allocates a record: not
 * async-signal-safe).  map.h promises that load never blocks and writes
 * nothing shared; the read section it opens nests in whatever section
 * (or read-lock sequence) the handler interrupted.  The interrupted
 * threads store, delete and peek on the same map while it migrates.
 */
#define SG_THREADS 3
#define SG_STABLE 256u

static goconc_map *sg_map;
static long sg_handled, sg_bad, sg_found;
static int sg_stop;

static void sg_handler(int sig)
{
    static __thread uint64_t next;
    int bad = 0, i;
    (void)sig;
    for (i = 0; i < 8; i++) {
        uint64_t id = next++ % SG_STABLE;
        /* Stable keys are overwritten, never deleted: always present. */
        if (!lc_load_valid(sg_map, id, &bad))
            bad++;
    }
    if (lc_load_valid(sg_map, ((uint64_t)1 << 40) + next % 4096, &bad))
        add_l(&sg_found, 1);
    add_l(&sg_bad, bad);
    add_l(&sg_handled, 1);
}

struct sg_worker {
    unsigned idx;
    int ready;
    long bad;
};

static void *sg_work(void *p)
{
    struct sg_worker *w = p;
    uint64_t r, i, churn_base = ((uint64_t)1 << 40) + (uint64_t)w->idx * 4096 / SG_THREADS;
    int bad = 0;

    goconc_read_lock(); /* registered before any signal comes */
    goconc_read_unlock();
    st_i(&w->ready, 1);
    for (r = 1; !ld_i(&sg_stop); r++) {
        for (i = w->idx; i < SG_STABLE; i += SG_THREADS)
            if (lc_store(sg_map, i, r) != GOCONC_OK)
                bad++;
        for (i = 0; i < 4096 / SG_THREADS; i++)
            if (lc_store(sg_map, churn_base + i, r) != GOCONC_OK)
                bad++;
        goconc_read_lock();
        for (i = 0; i < SG_STABLE; i++) {
            const void *pv;
            size_t n;
            if (goconc_map_peek(sg_map, &i, 8, &pv, &n) != GOCONC_OK || n != 16 ||
                memcmp(pv, &i, 8) != 0)
                bad++;
        }
        goconc_read_unlock();
        for (i = 0; i < 4096 / SG_THREADS; i++)
            if (goconc_map_delete(sg_map, &(uint64_t){ churn_base + i }, 8) != GOCONC_OK)
                bad++;
    }
    w->bad = bad;
    return NULL;
}

START_TEST(signal_handlers_call_map_load)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    struct sg_worker w[SG_THREADS];
    pthread_t t[SG_THREADS];
    struct sigaction sa;
    double end;
    uint64_t i;
    long sent = 0;
    unsigned k;

    o.shards = 1;
    ck_assert_int_eq(goconc_map_new(&sg_map, &o), GOCONC_OK);
    for (i = 0; i < SG_STABLE; i++)
        ck_assert_int_eq(lc_store(sg_map, i, 0), GOCONC_OK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sg_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    for (k = 0; k < SG_THREADS; k++) {
        memset(&w[k], 0, sizeof w[k]);
        w[k].idx = k;
        ck_assert_int_eq(pthread_create(&t[k], NULL, sg_work, &w[k]), 0);
        while (!ld_i(&w[k].ready))
            tu_sleep_ms(1);
    }
    /* Main interrupts itself too, inside its own read sections. */
    end = tu_now() + 1.0;
    while (tu_now() < end) {
        for (k = 0; k < SG_THREADS; k++)
            if (pthread_kill(t[k], SIGUSR1) == 0)
                sent++;
        goconc_read_lock();
        raise(SIGUSR1);
        goconc_read_unlock();
        sent++;
        usleep(100);
    }
    st_i(&sg_stop, 1);
    for (k = 0; k < SG_THREADS; k++)
        pthread_join(t[k], NULL);
    fprintf(stderr, "signal_handlers_call_map_load: %ld signals sent, %ld handled, %ld churn "
            "keys seen\n", sent, ld_l(&sg_handled), ld_l(&sg_found));
    for (k = 0; k < SG_THREADS; k++)
        ck_assert_int_eq(w[k].bad, 0);
    ck_assert_int_eq(ld_l(&sg_bad), 0);
    ck_assert_int_gt(ld_l(&sg_handled), 0);
    ck_assert_uint_eq(goconc_map_len(sg_map), SG_STABLE);
    goconc_map_free(sg_map);
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
}
END_TEST

int main(void)
{
    const struct tu_case cases[] = {
        TU_CASE(exit_inside_read_section_with_borrows),
        TU_CASE(exit_holding_pool_cache_and_value_refs),
        TU_CASE(fork_while_threads_migrate_a_map),
        TU_CASE(many_short_lived_threads),
        TU_CASE(signal_handlers_call_map_load),
    };

    tu_alloc_install();
    return TU_RUN(cases, .name = "lifecycle", .timeout = 110);
}
