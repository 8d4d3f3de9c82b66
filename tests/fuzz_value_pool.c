/* SPDX-License-Identifier: MIT */
/*
 * fuzz_value_pool.c - model-based libFuzzer target for goconc_value and
 * goconc_pool.
 *
 * The input is a program: byte 0 picks the pool's options (new_obj,
 * free_obj and reset_obj set or not, max_idle 0/1/4/16), then each 3-byte
 * instruction (op, slot, arg) runs one call and the same step on a model.
 *
 * Values: two value slots, each with its current object, and up to
 * FV_REFS counted references.  Every object has a book entry: who owns it
 * (the caller, a value, a reference count) and whether it was destroyed.
 * The destroy callback checks that nothing still owns the object (not
 * current, no reference) and that it runs once; after a barrier every
 * object that nothing owns must have been destroyed.  Loads, acquires,
 * swaps' old references and compare-and-swap outcomes are exact.
 *
 * Pool: objects carry an id and a state (held by us, cached, freed).  get
 * must return a cached object or a new one, never one we hold or one
 * freed, and a reset one when reset_obj is set; a put that was not
 * dropped is what the next get returns (warmest first); free_obj only
 * ever sees cached objects.  The statistics identities of doc/pool.md
 * hold exactly after each call (gets = hits + news + NULL gets; puts =
 * hits + idle + drops; news, drops, idle counted by the model), and
 * goconc_pool_free frees every cached object once.
 *
 * Build and run like fuzz_map.c (tests/fuzz_run.sh in the -Dfuzz=true
 * build); CI replays tests/corpus/value_pool through fuzz_replay.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goconc.h"

#define FV_VALUES 2
#define FV_REFS 8
#define FV_OBJS 1024  /* value objects per input (ops are 3 bytes) */
#define FP_OBJS 1024  /* pool objects per input */
#define FP_HELD 16
#define FV_MAGIC 0x76616c75u
#define FP_MAGIC 0x706f6f6cu

static size_t fv_step;

#define FV_CHECK(cond, ...)                                                                \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_value_pool: step %zu: check failed: %s: ", fv_step,      \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------------------- values */

struct fv_obj {
    unsigned magic, id;
};

struct fv_book {
    int exists;    /* made (malloc'd) and not freed */
    int current;   /* value slot + 1 whose current object it is, 0 none */
    int caller;    /* ours: made, never stored (or a CAS refused it) */
    unsigned refs; /* references the model holds */
    int destroyed;
};

static struct fv_state {
    goconc_value *v[FV_VALUES];
    unsigned cur[FV_VALUES];  /* id + 1 of the current object, 0 empty */
    goconc_value_ref *ref[FV_REFS];
    unsigned ref_id[FV_REFS]; /* id + 1 of what ref[i] holds */
    struct fv_book book[FV_OBJS];
    struct fv_obj *ptr[FV_OBJS]; /* valid while book[id].exists */
    unsigned next;
} fv;

static void fv_destroy(void *ctx, void *obj)
{
    struct fv_obj *o = obj;
    struct fv_book *b;
    (void)ctx;
    FV_CHECK(o->magic == FV_MAGIC && o->id < fv.next, "destroy of a foreign object");
    b = &fv.book[o->id];
    FV_CHECK(b->exists && !b->destroyed, "object %u destroyed twice", o->id);
    FV_CHECK(b->current == 0 && b->refs == 0 && !b->caller,
             "object %u destroyed while current %d / %u refs / ours %d", o->id, b->current,
             b->refs, b->caller);
    b->destroyed = 1;
    b->exists = 0;
    o->magic = 0;
    free(o);
}

/* A new object, ours; NULL when the input made too many. */
static struct fv_obj *fv_new_obj(void)
{
    struct fv_obj *o;
    if (fv.next == FV_OBJS)
        return NULL;
    o = malloc(sizeof *o);
    FV_CHECK(o != NULL, "out of memory");
    o->magic = FV_MAGIC;
    o->id = fv.next++;
    fv.ptr[o->id] = o;
    fv.book[o->id].exists = 1;
    fv.book[o->id].caller = 1;
    return o;
}

static void fv_caller_free(struct fv_obj *o)
{
    fv.book[o->id].caller = 0;
    fv.book[o->id].exists = 0;
    o->magic = 0;
    free(o);
}

static goconc_value *fv_handle(unsigned s)
{
    if (fv.v[s] == NULL) {
        FV_CHECK(goconc_value_new(&fv.v[s], fv_destroy, NULL) == GOCONC_OK, "value new");
        fv.cur[s] = 0;
    }
    return fv.v[s];
}

/* The model's side of "obj is now slot s's current object". */
static void fv_set_current(unsigned s, struct fv_obj *o)
{
    if (fv.cur[s])
        fv.book[fv.cur[s] - 1].current = 0;
    fv.book[o->id].caller = 0;
    fv.book[o->id].current = (int)s + 1;
    fv.cur[s] = o->id + 1;
}

/* Keep reference r to object id+1 (0: NULL) in a free slot, or drop it. */
static void fv_keep_ref(goconc_value_ref *r, unsigned idp1)
{
    unsigned i;
    if (r == NULL)
        return;
    fv.book[idp1 - 1].refs++;
    for (i = 0; i < FV_REFS; i++) {
        if (fv.ref[i] == NULL) {
            fv.ref[i] = r;
            fv.ref_id[i] = idp1;
            return;
        }
    }
    fv.book[idp1 - 1].refs--;
    goconc_value_release(r);
}

static void fv_release(unsigned i)
{
    goconc_value_ref *r = fv.ref[i];
    if (r == NULL)
        return;
    fv.book[fv.ref_id[i] - 1].refs--;
    fv.ref[i] = NULL;
    fv.ref_id[i] = 0;
    goconc_value_release(r);
}

static void fv_check_refs(void)
{
    unsigned i;
    for (i = 0; i < FV_REFS; i++) {
        const struct fv_obj *o;
        if (fv.ref[i] == NULL)
            continue;
        o = goconc_value_ref_get(fv.ref[i]);
        FV_CHECK(o != NULL && o->magic == FV_MAGIC && o->id + 1 == fv.ref_id[i],
                 "reference %u lost its object", i);
    }
}

/* After a barrier: whatever nothing owns was destroyed, the rest lives. */
static void fv_check_reclaimed(void)
{
    unsigned id;
    FV_CHECK(goconc_barrier() == GOCONC_OK, "barrier");
    for (id = 0; id < fv.next; id++) {
        const struct fv_book *b = &fv.book[id];
        int owned = b->current || b->refs || b->caller;
        FV_CHECK(owned ? b->exists : !b->exists,
                 "object %u: owned %d, exists %d (destroyed %d) after a barrier", id, owned,
                 b->exists, b->destroyed);
    }
    fv_check_refs();
}

static void fv_op(unsigned op, unsigned slot, unsigned arg)
{
    unsigned s = slot % FV_VALUES;
    goconc_value *v = fv_handle(s);
    struct fv_obj *o, *got;
    goconc_value_ref *r = NULL;

    switch (op) {
    case 0: /* store */
        if ((o = fv_new_obj()) == NULL)
            break;
        FV_CHECK(goconc_value_store(v, o) == GOCONC_OK, "store");
        fv_set_current(s, o);
        break;
    case 1: { /* swap */
        unsigned was = fv.cur[s];
        if ((o = fv_new_obj()) == NULL)
            break;
        FV_CHECK(goconc_value_swap(v, o, &r) == GOCONC_OK, "swap");
        FV_CHECK(was ? r != NULL && ((struct fv_obj *)goconc_value_ref_get(r))->id + 1 == was
                     : r == NULL,
                 "swap's old reference (model %u)", was);
        fv_set_current(s, o);
        fv_keep_ref(r, was);
        break;
    }
    case 2: { /* compare-and-swap with the current object or another */
        /* The id + 1 to compare with (0: NULL): the current one, or what
         * a reference holds (alive: referenced), or NULL. */
        unsigned want = arg & 1 ? fv.cur[s] : fv.ref_id[(arg >> 1) % FV_REFS];
        int rc;
        if ((o = fv_new_obj()) == NULL)
            break;
        rc = goconc_value_compare_and_swap(v, want ? fv.ptr[want - 1] : NULL, o);
        FV_CHECK(rc == (want == fv.cur[s] ? GOCONC_OK : GOCONC_CHANGED), "cas %d, model %u vs %u",
                 rc, want, fv.cur[s]);
        if (rc == GOCONC_OK)
            fv_set_current(s, o);
        else
            fv_caller_free(o); /* still ours */
        break;
    }
    case 3: /* acquire */
        r = goconc_value_acquire(v);
        got = goconc_value_ref_get(r);
        FV_CHECK(fv.cur[s] ? got != NULL && got->id + 1 == fv.cur[s] : r == NULL, "acquire");
        fv_keep_ref(r, fv.cur[s]);
        break;
    case 4:
        fv_release(arg % FV_REFS);
        break;
    case 5: /* load in a section */
        goconc_read_lock();
        got = goconc_value_load(v);
        FV_CHECK(fv.cur[s] ? got != NULL && got->magic == FV_MAGIC && got->id + 1 == fv.cur[s]
                           : got == NULL,
                 "load");
        goconc_read_unlock();
        break;
    case 6: /* free the handle; references stay valid */
        if (fv.cur[s])
            fv.book[fv.cur[s] - 1].current = 0;
        goconc_value_free(v);
        fv.v[s] = NULL;
        fv.cur[s] = 0;
        fv_check_refs();
        break;
    case 7:
        fv_check_reclaimed();
        break;
    default: /* misuse */
        FV_CHECK(goconc_value_store(v, NULL) == GOCONC_EINVAL, "store NULL");
        FV_CHECK(goconc_value_swap(v, NULL, &r) == GOCONC_EINVAL, "swap NULL");
        FV_CHECK(goconc_value_new(NULL, NULL, NULL) == GOCONC_EINVAL, "new NULL");
        FV_CHECK(goconc_value_acquire(NULL) == NULL && goconc_value_load(NULL) == NULL,
                 "NULL value");
        goconc_value_release(NULL);
        break;
    }
}

static void fv_end(void)
{
    unsigned i;
    for (i = 0; i < FV_REFS; i++)
        fv_release(i);
    for (i = 0; i < FV_VALUES; i++)
        if (fv.v[i])
            fv_op(6, i, 0);
    fv_check_reclaimed();
    for (i = 0; i < fv.next; i++)
        FV_CHECK(!fv.book[i].exists, "object %u never destroyed", i);
}

/* --------------------------------------------------------------- pool */

enum { FP_NONE, FP_HELD_BY_US, FP_CACHED, FP_FREED };

struct fp_obj {
    unsigned magic, id;
    int reset; /* reset_obj ran since our last get */
};

static struct fp_state {
    goconc_pool *p;
    goconc_pool_options o;
    struct fp_obj *held[FP_HELD];
    struct fp_obj *all[FP_OBJS]; /* to free what free_obj NULL forgets */
    int state[FP_OBJS];
    unsigned next;
    uint64_t gets, puts, hits, news, drops, nulls;
    size_t idle;
    size_t max_idle, allowance;
} fp;

/* A new object, ours; NULL when the input made too many. */
static struct fp_obj *fp_make(void)
{
    struct fp_obj *o;
    if (fp.next == FP_OBJS)
        return NULL;
    o = malloc(sizeof *o);
    FV_CHECK(o != NULL, "out of memory");
    o->magic = FP_MAGIC;
    o->id = fp.next++;
    o->reset = 0;
    fp.all[o->id] = o;
    fp.state[o->id] = FP_HELD_BY_US;
    return o;
}

static void *fp_new(void *ctx)
{
    struct fp_obj *o = fp_make();
    (void)ctx;
    if (o != NULL)
        fp.news++;
    return o;
}

static void fp_free_obj(struct fp_obj *o)
{
    fp.state[o->id] = FP_FREED;
    fp.all[o->id] = NULL;
    o->magic = 0;
    free(o);
}

static void fp_free(void *ctx, void *obj)
{
    struct fp_obj *o = obj;
    (void)ctx;
    FV_CHECK(o->magic == FP_MAGIC && o->id < fp.next, "free_obj of a foreign object");
    FV_CHECK(fp.state[o->id] == FP_CACHED, "free_obj of object %u in state %d", o->id,
             fp.state[o->id]);
    fp.idle--;
    fp.drops++;
    fp_free_obj(o);
}

static void fp_reset(void *ctx, void *obj)
{
    struct fp_obj *o = obj;
    (void)ctx;
    FV_CHECK(o->magic == FP_MAGIC && fp.state[o->id] == FP_CACHED && !o->reset,
             "reset_obj of an object not being put");
    o->reset = 1;
}

/* Without free_obj the pool forgets what it drops, unseen: the model
 * takes idle from the statistics (checked against puts = hits + idle +
 * drops instead). */
static void fp_sync_forgotten(void)
{
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    if (fp.o.free_obj != NULL)
        return;
    FV_CHECK(goconc_pool_stats_get(fp.p, &st) == GOCONC_OK, "stats");
    fp.idle = st.idle;
}

static void fp_check_stats(void)
{
    goconc_pool_stats st = GOCONC_POOL_STATS_INIT;
    FV_CHECK(goconc_pool_stats_get(fp.p, &st) == GOCONC_OK, "stats");
    FV_CHECK(st.gets == fp.gets && st.puts == fp.puts && st.news == fp.news,
             "gets %llu puts %llu news %llu, model %llu %llu %llu", (unsigned long long)st.gets,
             (unsigned long long)st.puts, (unsigned long long)st.news,
             (unsigned long long)fp.gets, (unsigned long long)fp.puts,
             (unsigned long long)fp.news);
    FV_CHECK(st.hits == fp.hits && st.gets == st.hits + st.news + fp.nulls,
             "hits %llu model %llu", (unsigned long long)st.hits, (unsigned long long)fp.hits);
    FV_CHECK(st.idle == fp.idle && st.puts == st.hits + st.idle + st.drops,
             "idle %zu drops %llu, model %zu", st.idle, (unsigned long long)st.drops, fp.idle);
    FV_CHECK(fp.o.free_obj == NULL || st.drops == fp.drops, "drops %llu model %llu",
             (unsigned long long)st.drops, (unsigned long long)fp.drops);
    FV_CHECK(st.idle <= fp.max_idle + fp.allowance, "idle %zu over the limit", st.idle);
}

static struct fp_obj *fp_get(void)
{
    uint64_t news = fp.news;
    struct fp_obj *o = goconc_pool_get(fp.p);
    fp.gets++;
    if (o == NULL) {
        fp.nulls++;
        return NULL;
    }
    FV_CHECK(o->magic == FP_MAGIC && o->id < fp.next, "get returned a foreign object");
    if (fp.news == news) {
        FV_CHECK(fp.state[o->id] == FP_CACHED, "get returned object %u in state %d", o->id,
                 fp.state[o->id]);
        FV_CHECK(fp.o.reset_obj == NULL || o->reset, "cached object %u not reset", o->id);
        fp.hits++;
        fp.idle--;
        fp.state[o->id] = FP_HELD_BY_US;
    }
    o->reset = 0;
    return o;
}

static void fp_hold(struct fp_obj *o, unsigned slot)
{
    unsigned i;
    if (o == NULL)
        return;
    for (i = 0; i < FP_HELD; i++) {
        unsigned k = (slot + i) % FP_HELD;
        if (fp.held[k] == NULL) {
            fp.held[k] = o;
            return;
        }
    }
    fp_free_obj(o); /* no room: ours for good */
}

/* Put held[k]; 1 if the pool is known to have kept it. */
static int fp_put(unsigned k)
{
    struct fp_obj *o = fp.held[k];
    unsigned id = o->id; /* o may be freed by the put */
    fp.held[k] = NULL;
    fp.puts++;
    o->reset = 0;
    /* Cached from before the call: reset_obj runs on it inside, and a
     * drop (free_obj) inside may take it at once. */
    fp.state[id] = FP_CACHED;
    fp.idle++;
    goconc_pool_put(fp.p, o);
    if (fp.state[id] == FP_CACHED)
        FV_CHECK(fp.o.reset_obj == NULL || o->reset, "put did not reset object %u", id);
    if (fp.o.free_obj == NULL) {
        fp_sync_forgotten();
        return 0;
    }
    return fp.state[id] == FP_CACHED;
}

static void fp_op(unsigned op, unsigned slot)
{
    unsigned k = slot % FP_HELD;
    struct fp_obj *o;

    switch (op) {
    case 0:
    case 1:
        fp_hold(fp_get(), k);
        break;
    case 2:
        if (fp.held[k] != NULL)
            fp_put(k);
        break;
    case 3: /* put then get: the warmest object comes back */
        if (fp.held[k] != NULL) {
            struct fp_obj *put = fp.held[k];
            unsigned id = put->id;
            int kept = fp_put(k);
            o = fp_get();
            FV_CHECK(!kept || o == put, "get after put returned %d, not %u",
                     o ? (int)o->id : -1, id);
            fp_hold(o, k);
        }
        break;
    case 4:
        goconc_pool_trim(fp.p);
        fp_sync_forgotten();
        break;
    case 5:
        goconc_pool_put(fp.p, NULL); /* ignored, not counted */
        goconc_pool_put(NULL, fp.held[k]);
        goconc_pool_trim(NULL);
        FV_CHECK(goconc_pool_get(NULL) == NULL, "get from a NULL pool");
        break;
    default:
        fp_check_stats();
        break;
    }
}

static void fp_begin(unsigned opts)
{
    static const size_t max_idle[4] = { 0, 1, 4, 16 };
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    unsigned i;

    memset(&fp, 0, sizeof fp);
    o.new_obj = opts & 1 ? fp_new : NULL;
    o.free_obj = opts & 2 ? fp_free : NULL;
    o.reset_obj = opts & 4 ? fp_reset : NULL;
    o.max_idle = max_idle[(opts >> 3) & 3];
    fp.o = o;
    fp.max_idle = o.max_idle ? o.max_idle : 1024;
    fp.allowance = fp.max_idle < 64 ? fp.max_idle : 64;
    FV_CHECK(goconc_pool_new(&fp.p, &o) == GOCONC_OK, "pool new");
    if (o.new_obj == NULL) /* objects of ours to put */
        for (i = 0; i < 4; i++)
            fp_hold(fp_make(), i);
}

static void fp_end(void)
{
    unsigned i;
    fp_check_stats();
    goconc_pool_free(fp.p);
    for (i = 0; i < FP_HELD; i++)
        if (fp.held[i] != NULL)
            fp_free_obj(fp.held[i]);
    for (i = 0; i < fp.next; i++) {
        FV_CHECK(fp.o.free_obj == NULL || fp.state[i] == FP_FREED,
                 "pool object %u in state %d after free", i, fp.state[i]);
        if (fp.all[i] != NULL) /* forgotten by a pool without free_obj */
            fp_free_obj(fp.all[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i;

    if (size < 1)
        return 0;
    memset(&fv, 0, sizeof fv);
    fv_step = 0;
    fp_begin(data[0]);
    for (i = 1; i + 3 <= size; i += 3) {
        unsigned op = data[i] % 16;
        fv_step++;
        if (op < 9)
            fv_op(op, data[i + 1], data[i + 2]);
        else
            fp_op(op - 9, data[i + 1]);
    }
    fv_end();
    fp_end();
    return 0;
}
