/* SPDX-License-Identifier: MIT */
/*
 * torture_obj.c - tracked objects and the torture's value, pool, deferred
 * frees, synchronize, barrier and stash (oracles in tests/torture.c).
 */
#include <sched.h>

#include "torture.h"

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

static struct tobj *tobj_new(enum kind k)
{
    struct tobj *o = calloc(1, sizeof *o);
    if (o == NULL) {
        fail_at(__FILE__, __LINE__, "out of memory");
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

int tobj_ok(const struct tobj *o, enum kind k)
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


/* -------------------------------------------------------------- value */

static goconc_value *value;
static struct tobj *sync_ptr; /* swapped, then synchronize, then poisoned */

static void value_destroy(void *ctx, void *obj)
{
    (void)ctx;
    tobj_kill(obj, K_VALUE, "value destroy");
}

void check_sync_ptr(const char *where)
{
    struct tobj *o = ld(&sync_ptr);
    CHECK(tobj_ok(o, K_SYNC), "%s: object read in a read section was freed under it", where);
}

void val_load_op(struct slot *s)
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

void val_store_op(void)
{
    struct tobj *o = tobj_new(K_VALUE);
    int rc = goconc_value_store(value, o);
    CHECK(rc == GOCONC_OK, "value store: rc %d", rc);
}

void val_swap_op(void)
{
    goconc_value_ref *r = NULL;
    struct tobj *o = tobj_new(K_VALUE), *old;
    int rc = goconc_value_swap(value, o, &r);
    CHECK(rc == GOCONC_OK, "value swap: rc %d", rc);
    old = goconc_value_ref_get(r);
    CHECK(r == NULL || tobj_ok(old, K_VALUE), "value swap: replaced object already destroyed");
    goconc_value_release(r);
}

void val_cas_op(void)
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

void val_ref_op(struct slot *s, struct held *h)
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

void pool_get_op(struct slot *s, struct held *h)
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

void pool_put_op(struct slot *s, struct held *h)
{
    unsigned j;
    if (h->npool == 0)
        return;
    j = rndn(s, h->npool);
    pool_put_obj(h->pool_obj[j], h->token[j], "pool put");
    h->pool_obj[j] = h->pool_obj[--h->npool];
    h->token[j] = h->token[h->npool];
}


/* ------------------------------------------------------------ reclaim */

static void defer_destroy(void *ctx, void *obj)
{
    (void)ctx;
    tobj_kill(obj, K_DEFER, "deferred destroy");
}

void defer_op(void)
{
    struct tobj *o = tobj_new(K_DEFER);
    int rc = goconc_defer_free(o, defer_destroy, NULL);
    CHECK(rc == GOCONC_OK, "defer_free: rc %d", rc);
}

void sync_op(void)
{
    struct tobj *n = tobj_new(K_SYNC);
    struct tobj *old = __atomic_exchange_n(&sync_ptr, n, __ATOMIC_ACQ_REL);
    int rc = goconc_synchronize();
    CHECK(rc == GOCONC_OK, "synchronize: rc %d", rc);
    if (rc != GOCONC_OK)
        torture_discard(goconc_synchronize()); /* don't poison it early: just report */
    tobj_kill(old, K_SYNC, "synchronize");
}

struct ticket { int done; };

static void ticket_done(void *ctx, void *obj)
{
    (void)ctx;
    st(&((struct ticket *)obj)->done, 1);
}

void barrier_op(struct slot *s)
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

int stash_pop(void)
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

void obj_held_leave(struct held *h, int to_stash)
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
}

void pool_trim_op(void) { goconc_pool_trim(pool); }

void obj_peek_take(struct obj_peek *pk)
{
    pk->vo = goconc_value_load(value);
    pk->so = ld(&sync_ptr);
}

void obj_peek_verify(const struct obj_peek *pk)
{
    CHECK(pk->vo == NULL || tobj_ok(pk->vo, K_VALUE),
          "stalled reader: value object freed under it");
    CHECK(tobj_ok(pk->so, K_SYNC), "stalled reader: synchronize did not wait for it");
}

/* ------------------------------------------------------ the run's ends */

int obj_setup(void)
{
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    int rc = goconc_value_new(&value, value_destroy, NULL);
    po.new_obj = pool_new_obj;
    po.free_obj = pool_free_obj;
    po.reset_obj = pool_reset_obj;
    po.max_idle = 64;
    rc |= goconc_pool_new(&pool, &po);
    sync_ptr = tobj_new(K_SYNC);
    return rc;
}

/* Everything stopped: the stash goes back, the pool's stats count
 * exactly the calls made (exited threads' included). */
void obj_final_check(void)
{
    goconc_pool_stats ps = GOCONC_POOL_STATS_INIT;
    while (stash_pop())
        ;
    CHECK(goconc_pool_stats_get(pool, &ps) == GOCONC_OK && ps.gets == pool_gets &&
              ps.puts == pool_puts && ps.news == made[K_POOL],
          "final pool stats: gets %" PRIu64 "/%" PRIu64 ", puts %" PRIu64 "/%" PRIu64
          ", news %" PRIu64 "/%" PRIu64 " (stats/made)", ps.gets, pool_gets, ps.puts, pool_puts,
          ps.news, made[K_POOL]);
}

void obj_free_all(void)
{
    goconc_value_free(value);
    goconc_pool_free(pool);
    tobj_kill(sync_ptr, K_SYNC, "final");
}

/* After the frees and a barrier: every tracked object was destroyed. */
void obj_after_barrier(void)
{
    int k;
    for (k = 0; k < K_COUNT; k++)
        CHECK(ld(&live[k]) == 0, "final: %" PRId64 " %s objects never destroyed (of %" PRIu64 ")",
              ld(&live[k]), kind_names[k], made[k]);
    quarantine_drain();
}
