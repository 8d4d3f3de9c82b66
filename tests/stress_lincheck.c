/* SPDX-License-Identifier: MIT */
/*
 * stress_lincheck.c - threads run random map and value operations on a
 * few keys; every history is checked for linearizability (lincheck.h,
 * doc/testing.md).
 *
 *   stress_lincheck [-d seconds] [-s seed] [-t threads] [-k keys]
 *                   [-o ops-per-round] [-b budget] [-v]
 *
 * -v prints the totals every 10 seconds, and at the end how often each
 * operation had each outcome.
 *
 * Defaults: GOCONC_STRESS_SECONDS (else the build's stress_seconds),
 * GOCONC_SEED (else the clock), 4 threads, 4 keys, 32 operations per thread
 * per round.  The seed fixes what each thread does, not how the threads
 * interleave.
 *
 * The run is cut into rounds.  In a round every thread runs its operations
 * on keys and on the value (the targets) without pause, stamping each with
 * a global counter at invoke and at return; then the threads wait at a
 * barrier while the main thread loads every target once more (after every
 * operation of the round) and checks each target's history of the round,
 * starting from the state the previous round's final load saw.  Because a
 * round's operations all precede the next round's, checking round by round
 * is exact, and keeps each history short enough for the search to decide.
 * Every so many rounds the map and value are replaced by fresh ones with
 * other options (shard count, on_drop, GOCONC_MAP_NO_PEEK), so the short
 * store path, in-place rewrites and empty tables are exercised too.
 *
 * Exits 1 on a proven violation (the history is printed) or a misbehaving
 * call (an update function run other than once); a history the search
 * could not decide within its budget is counted, not failed.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lincheck.h"
#include "testutil.h"

#define MAX_THREADS 64
#define MAX_KEYS 64
#define EPOCH_ROUNDS 64     /* rounds between fresh map and value */
#define MAX_REPORTS 3       /* violations printed in full */
/* A value id no write uses (writers' ids have a thread number >= 1 in
 * bits 48..63, and counters below 2^48): what an undecodable read gives. */
#define GARBAGE UINT64_C(0xffffffffffff)

struct config {
    double seconds;
    uint64_t seed, budget;
    unsigned threads, keys, ops;
    int verbose;
};

/* One recorded operation and the target it ran on. */
struct rec {
    struct lc_op op;
    unsigned target;
};

struct worker {
    pthread_t tid;
    unsigned id;
    uint64_t rng, seq;
    uint64_t seen[MAX_KEYS + 1]; /* last value seen per target: compare operands */
    struct rec *log;
    size_t nlog;
    uint64_t bad_updates;        /* update functions run other than once */
};

static struct {
    struct config cf;
    unsigned ntargets;           /* keys, then the value */
    uint64_t salt;               /* key bytes differ from run to run */
    goconc_map *map;
    int no_peek;                 /* map has GOCONC_MAP_NO_PEEK: loads, no peeks */
    goconc_value *val;
    pthread_barrier_t start, done;
    unsigned ready;              /* workers past the start barrier this round */
    int stop;
    uint64_t clock;
} g;

static uint64_t tick(void)
{
    /* One counter for all threads: a.ret < b.call exactly when a returned
     * before b was invoked (the RMWs are totally ordered and order the
     * calls around them). */
    return __atomic_fetch_add(&g.clock, 1, __ATOMIC_SEQ_CST);
}

/* Per-thread state for widen(); seeded by each worker. */
static _Thread_local uint64_t widen_rng;

/*
 * Now and then give the CPU away between a timestamp and the call it
 * brackets: the recorded interval then spans other threads' operations,
 * which the checker must order, even on a machine with fewer cores than
 * threads.  The interval still contains the call, so this is sound.
 */
static void widen(void)
{
    if (tu_rand(&widen_rng) % 16 == 0)
        sched_yield();
}

static void op_begin(struct lc_op *op)
{
    op->call = tick();
    widen();
}

static void op_end(struct lc_op *op)
{
    widen();
    op->ret = tick();
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    return z ^ (z >> 33);
}

static uint64_t fresh_id(struct worker *w)
{
    return (uint64_t)(w->id + 1) << 48 | ++w->seq;
}

static void note_seen(struct worker *w, unsigned t, uint64_t id)
{
    if (id != LC_ABSENT && id != GARBAGE)
        w->seen[t] = id;
}

/* ----------------------------------------------------------------- map */

/* A compare operand: mostly the last value this thread saw there (so
 * compares succeed now and then), else one nobody stored. */
static uint64_t pick_old(struct worker *w, unsigned t, uint64_t r)
{
    return r % 4 != 0 && w->seen[t] != LC_ABSENT ? w->seen[t] : fresh_id(w);
}

struct bytes {
    uint64_t w[3];
    size_t len;
};

static size_t key_of(unsigned k, unsigned char b[16])
{
    uint64_t x = mix(g.salt + k), y = ~x;
    memcpy(b, &x, 8);
    memcpy(b + 8, &y, 8);
    return k % 2 ? 16 : 8;
}

/* Value bytes of id: 8 bytes (the map's inline form), or for a quarter of
 * the ids 24 bytes with a check, stored out of line. */
static int long_form(uint64_t id) { return mix(id) % 4 == 0; }

static void enc(uint64_t id, struct bytes *v)
{
    v->w[0] = id;
    v->w[1] = ~id;
    v->w[2] = mix(id);
    v->len = long_form(id) ? 24 : 8;
}

static uint64_t dec(const void *p, size_t len)
{
    struct bytes v;
    uint64_t id;
    if (len != 8 && len != 24)
        return GARBAGE;
    memcpy(&id, p, 8);
    enc(id, &v);
    if (id == LC_ABSENT || v.len != len || memcmp(p, v.w, len) != 0)
        return GARBAGE;
    return id;
}

struct upd_ctx {
    int mode, calls;
    struct bytes nv;
    uint64_t saw;
    uint64_t *rng;
};

static int upd_fn(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                  size_t *nlen)
{
    struct upd_ctx *u = ctx;
    int act = lc_update_action(u->mode, found);
    u->calls++;
    u->saw = found ? dec(old, oldlen) : LC_ABSENT;
    /* Sometimes hold the key's write side across a reschedule, so other
     * threads' loads and writes queue up behind it. */
    if (tu_rand(u->rng) % 16 == 0)
        sched_yield();
    if (act == GOCONC_UPDATE_STORE) {
        *nv = u->nv.w;
        *nlen = u->nv.len;
    }
    return act;
}

static void map_load(const unsigned char *kb, size_t kl, int peek, struct lc_op *op)
{
    unsigned char out[32];
    const void *p = out;
    size_t n = 0;
    op->kind = LC_LOAD;
    peek = peek && !g.no_peek;
    if (peek) {
        goconc_read_lock();
        op_begin(op);
        op->status = goconc_map_peek(g.map, kb, kl, &p, &n);
        op_end(op);
    } else {
        op_begin(op);
        op->status = goconc_map_load(g.map, kb, kl, out, sizeof out, &n);
        op_end(op);
    }
    op->out = op->status == GOCONC_OK ? dec(p, n) : LC_ABSENT;
    if (peek)
        goconc_read_unlock();
}

static void map_update(struct worker *w, const unsigned char *kb, size_t kl, uint64_t r,
                       struct lc_op *op)
{
    struct upd_ctx u;
    u.mode = (int)(r % LC_UPD_NMODES);
    u.calls = 0;
    u.saw = LC_ABSENT;
    u.rng = &w->rng;
    enc(op->arg, &u.nv);
    op->kind = LC_UPDATE;
    op->mode = (uint16_t)u.mode;
    op_begin(op);
    op->status = goconc_map_update(g.map, kb, kl, upd_fn, &u);
    op_end(op);
    op->out = u.saw;
    if (u.calls != 1)
        w->bad_updates++;
}

/* Write operations whose result is a status and maybe a copied-out value. */
static void map_write(unsigned kind, const unsigned char *kb, size_t kl, struct lc_op *op)
{
    unsigned char out[32];
    struct bytes nv, ov;
    size_t n = 0;
    int copies = 0;
    enc(op->arg, &nv);
    enc(op->old, &ov);
    op->kind = (uint16_t)kind;
    op_begin(op);
    switch (kind) {
    case LC_STORE:
        op->status = goconc_map_store(g.map, kb, kl, nv.w, nv.len);
        break;
    case LC_DELETE:
        op->status = goconc_map_delete(g.map, kb, kl);
        break;
    case LC_SWAP:
        op->status = goconc_map_swap(g.map, kb, kl, nv.w, nv.len, out, sizeof out, &n);
        copies = op->status == GOCONC_OK;
        break;
    case LC_CAS:
        op->status = goconc_map_compare_and_swap(g.map, kb, kl, ov.w, ov.len, nv.w, nv.len);
        break;
    case LC_CAD:
        op->status = goconc_map_compare_and_delete(g.map, kb, kl, ov.w, ov.len);
        break;
    case LC_LOAD_OR_STORE:
        op->status = goconc_map_load_or_store(g.map, kb, kl, nv.w, nv.len, out, sizeof out, &n);
        copies = op->status == GOCONC_EXISTS;
        break;
    default: /* LC_LOAD_AND_DELETE */
        op->status = goconc_map_load_and_delete(g.map, kb, kl, out, sizeof out, &n);
        copies = op->status == GOCONC_OK;
        break;
    }
    op_end(op);
    op->out = copies ? dec(out, n) : LC_ABSENT;
}

/* The operand fields an operation does not use stay 0 (lc_dump shows only
 * the used ones; the model ignores the others). */
static void map_op(struct worker *w, unsigned k, struct lc_op *op)
{
    static const unsigned char kinds[] = {
        LC_STORE, LC_STORE, LC_LOAD, LC_LOAD, LC_LOAD, LC_DELETE, LC_SWAP, LC_CAS, LC_CAS,
        LC_CAD, LC_LOAD_OR_STORE, LC_LOAD_AND_DELETE, LC_UPDATE, LC_UPDATE,
    };
    unsigned char kb[16];
    size_t kl = key_of(k, kb);
    uint64_t r = tu_rand(&w->rng);
    unsigned kind = kinds[r % sizeof kinds];
    r /= sizeof kinds;
    if (kind == LC_LOAD) {
        map_load(kb, kl, r % 3 == 0, op);
        return;
    }
    if (kind != LC_DELETE && kind != LC_CAD && kind != LC_LOAD_AND_DELETE)
        op->arg = fresh_id(w);
    if (kind == LC_CAS || kind == LC_CAD)
        op->old = pick_old(w, k, r >> 4);
    if (kind == LC_UPDATE)
        map_update(w, kb, kl, r, op);
    else
        map_write(kind, kb, kl, op);
    if (r % 64 == 0)
        tu_discard(goconc_map_maintain(g.map, 4, NULL)); /* migration work from a bystander */
}

/* --------------------------------------------------------------- value */

struct obj {
    uint64_t id;
};

static void obj_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static struct obj *obj_new(uint64_t id)
{
    struct obj *o = malloc(sizeof *o);
    if (o == NULL) {
        fprintf(stderr, "stress_lincheck: out of memory\n");
        exit(2);
    }
    o->id = id;
    return o;
}

static uint64_t id_of(const void *p) { return p ? ((const struct obj *)p)->id : LC_ABSENT; }

static void value_load(uint64_t r, struct lc_op *op)
{
    void *p;
    op->kind = LC_LOAD;
    goconc_read_lock();
    op_begin(op);
    /* The header's inline load, or the library's. */
    p = r % 2 ? goconc_value_load(g.val) : (goconc_value_load)(g.val);
    op_end(op);
    op->status = p ? GOCONC_OK : GOCONC_NOTFOUND;
    op->out = id_of(p);
    goconc_read_unlock();
}

static void value_cas(struct lc_op *op, const void *old, uint64_t old_id, uint64_t id)
{
    struct obj *o = obj_new(id);
    op->kind = LC_VALUE_CAS;
    op->arg = id;
    op->old = old_id;
    op_begin(op);
    op->status = goconc_value_compare_and_swap(g.val, old, o);
    op_end(op);
    if (op->status != GOCONC_OK)
        free(o);
}

/*
 * An acquire, recorded as a load, then a compare-and-swap against the
 * object it got: the reference keeps that object alive, so its address
 * cannot be reused by a newer object meanwhile (no ABA).  Two records.
 */
static void value_acquire_cas(struct worker *w, struct lc_op *ops)
{
    goconc_value_ref *ref;
    ops[0].kind = LC_LOAD;
    op_begin(&ops[0]);
    ref = goconc_value_acquire(g.val);
    op_end(&ops[0]);
    ops[0].out = id_of(goconc_value_ref_get(ref));
    ops[0].status = ref ? GOCONC_OK : GOCONC_NOTFOUND;
    value_cas(&ops[1], goconc_value_ref_get(ref), ops[0].out, fresh_id(w));
    goconc_value_release(ref);
}

/* Returns the number of records written (1 or 2). */
static int value_op(struct worker *w, struct lc_op *ops)
{
    uint64_t r = tu_rand(&w->rng);
    struct obj *o;
    goconc_value_ref *prev = NULL;
    switch (r % 6) {
    case 0:
    case 1:
        value_load(r >> 8, ops);
        return 1;
    case 2:
        value_acquire_cas(w, ops);
        return 2;
    case 3: {
        /* Only if empty; or against an object never stored: CHANGED. */
        struct obj never = { fresh_id(w) };
        if ((r >> 8) % 2)
            value_cas(ops, NULL, LC_ABSENT, fresh_id(w));
        else
            value_cas(ops, &never, never.id, fresh_id(w));
        return 1;
    }
    case 4:
        o = obj_new(ops->arg = fresh_id(w));
        ops->kind = LC_STORE;
        op_begin(ops);
        ops->status = goconc_value_store(g.val, o);
        op_end(ops);
        if (ops->status != GOCONC_OK)
            free(o);
        return 1;
    default:
        o = obj_new(ops->arg = fresh_id(w));
        ops->kind = LC_SWAP;
        op_begin(ops);
        ops->status = goconc_value_swap(g.val, o, &prev);
        op_end(ops);
        if (ops->status != GOCONC_OK)
            free(o);
        else if (prev == NULL)
            ops->status = GOCONC_NOTFOUND; /* the map's word for "was empty" */
        ops->out = id_of(goconc_value_ref_get(prev));
        goconc_value_release(prev);
        return 1;
    }
}

/* ------------------------------------------------------------- workers */

static struct rec *log_next(struct worker *w, unsigned target)
{
    struct rec *r = &w->log[w->nlog++];
    memset(r, 0, sizeof *r);
    r->target = target;
    r->op.thread = w->id;
    return r;
}

static void run_round(struct worker *w)
{
    unsigned i;
    w->nlog = 0;
    for (i = 0; i < g.cf.ops; i++) {
        unsigned t = (unsigned)(tu_rand(&w->rng) % g.ntargets);
        struct rec *r = log_next(w, t);
        if (t < g.cf.keys) {
            map_op(w, t, &r->op);
        } else {
            struct lc_op pair[2] = { r->op, r->op };
            int n = value_op(w, pair);
            r->op = pair[0];
            if (n == 2) {
                note_seen(w, t, pair[0].out);
                log_next(w, t)->op = pair[1];
            }
        }
        note_seen(w, t, w->log[w->nlog - 1].op.out);
        if (tu_rand(&w->rng) % 32 == 0)
            sched_yield();
    }
}

/* The barrier wakes its waiters one by one; a thread woken first could
 * finish its round before the last one wakes.  Wait until all are awake. */
static void gate(void)
{
    __atomic_add_fetch(&g.ready, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&g.ready, __ATOMIC_ACQUIRE) < g.cf.threads)
        sched_yield();
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    widen_rng = w->rng ^ 0x6a09e667f3bcc909ull;
    for (;;) {
        pthread_barrier_wait(&g.start);
        if (__atomic_load_n(&g.stop, __ATOMIC_ACQUIRE))
            break;
        gate();
        run_round(w);
        pthread_barrier_wait(&g.done);
    }
    return NULL;
}

/* -------------------------------------------------------- main: checks */

struct totals {
    uint64_t rounds, ops, histories, linearizable, violations, undecided;
    uint64_t overlapping;    /* operations concurrent with another on their target */
    uint64_t outcomes[LC_NKINDS][5]; /* OK, NOTFOUND, EXISTS, CHANGED, other */
    uint64_t max_steps, grows, shrinks, moved;
    size_t max_len;
};

struct checker_state {
    struct lc_checker *chk;
    struct lc_op **part;     /* per target: this round's operations */
    size_t *npart;
    uint64_t *init;          /* per target: state the round starts from */
    struct totals tot;
};

/* The main thread's load of target t after the round: its last operation. */
static void final_load(unsigned t, struct lc_op *op)
{
    memset(op, 0, sizeof *op);
    op->thread = g.cf.threads; /* "t<threads>" in dumps: the checker */
    if (t < g.cf.keys) {
        unsigned char kb[16];
        map_load(kb, key_of(t, kb), 0, op);
        return;
    }
    value_load(0, op);
}

static void report(const struct checker_state *cs, unsigned t, const struct lc_stats *st)
{
    if (cs->tot.violations > MAX_REPORTS)
        return;
    fprintf(stderr,
            "stress_lincheck (seed %" PRIu64 "): round %" PRIu64 ", %s %u: NOT linearizable"
            " (at most %zu of %zu operations could be ordered)\n",
            g.cf.seed, cs->tot.rounds, t < g.cf.keys ? "key" : "value", t, st->deepest,
            cs->npart[t]);
    lc_dump(stderr, cs->part[t], cs->npart[t], cs->init[t]);
}

static int call_cmp(const void *a, const void *b)
{
    const struct lc_op *x = a, *y = b;
    return x->call < y->call ? -1 : x->call > y->call;
}

/* Count the operations of h (sorted by call here) whose interval overlaps
 * another's: the runs where the checker has orders to choose from. */
static uint64_t count_overlapping(struct lc_op *h, size_t n)
{
    uint64_t count = 0, max_ret = 0;
    size_t i;
    qsort(h, n, sizeof *h, call_cmp);
    for (i = 0; i < n; i++) {
        int before = i > 0 && h[i].call < max_ret;
        int after = i + 1 < n && h[i + 1].call < h[i].ret;
        count += before || after;
        if (h[i].ret > max_ret)
            max_ret = h[i].ret;
    }
    return count;
}

static void count_outcomes(struct totals *tt, const struct lc_op *h, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int s = h[i].status;
        tt->outcomes[h[i].kind][s >= GOCONC_OK && s <= GOCONC_CHANGED ? s : 4]++;
    }
}

static void check_round(struct checker_state *cs, struct worker *ws)
{
    unsigned t, i;
    size_t j;
    for (t = 0; t < g.ntargets; t++)
        cs->npart[t] = 0;
    for (i = 0; i < g.cf.threads; i++) {
        for (j = 0; j < ws[i].nlog; j++) {
            const struct rec *r = &ws[i].log[j];
            cs->part[r->target][cs->npart[r->target]++] = r->op;
        }
        cs->tot.ops += ws[i].nlog;
    }
    for (t = 0; t < g.ntargets; t++)
        final_load(t, &cs->part[t][cs->npart[t]++]);
    for (t = 0; t < g.ntargets; t++) {
        struct lc_stats st;
        enum lc_verdict v = lc_check(cs->chk, cs->part[t], cs->npart[t], cs->init[t], &st);
        cs->tot.histories++;
        cs->tot.linearizable += v == LC_LINEARIZABLE;
        cs->tot.undecided += v == LC_UNDECIDED || v == LC_MALFORMED;
        if (v == LC_VIOLATION) {
            cs->tot.violations++;
            report(cs, t, &st);
        }
        if (st.steps > cs->tot.max_steps)
            cs->tot.max_steps = st.steps;
        if (cs->npart[t] > cs->tot.max_len)
            cs->tot.max_len = cs->npart[t];
        /* The next round starts from what the final load saw (checked
         * above as part of this round). */
        cs->init[t] = cs->part[t][cs->npart[t] - 1].out;
        cs->tot.overlapping += count_overlapping(cs->part[t], cs->npart[t]);
        count_outcomes(&cs->tot, cs->part[t], cs->npart[t]);
    }
    cs->tot.rounds++;
}

/* ----------------------------------------------- main: objects, setup */

static void count_drop(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)key, (void)klen, (void)val, (void)vlen;
    __atomic_fetch_add((uint64_t *)ctx, 1, __ATOMIC_RELAXED);
}
static uint64_t drops;

/* Free map and value (between rounds: no worker runs), keeping the map's
 * migration counts. */
static void retire_objects(struct totals *tt)
{
    goconc_map_stats ms = GOCONC_MAP_STATS_INIT;
    if (g.map != NULL && goconc_map_stats_get(g.map, &ms) == GOCONC_OK) {
        tt->grows += ms.grows;
        tt->shrinks += ms.shrinks;
        tt->moved += ms.buckets_moved;
    }
    goconc_map_free(g.map);
    g.map = NULL;
    goconc_value_free(g.val);
    g.val = NULL;
}

/* Replace map and value with fresh, empty ones; the map's options vary
 * from one epoch to the next. */
static void renew_objects(struct checker_state *cs, uint64_t epoch)
{
    unsigned t;
    retire_objects(&cs->tot);
    static const unsigned shard_choices[] = { 0, 1, 2, 8 };
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    uint64_t r = mix(g.cf.seed + epoch);
    o.shards = shard_choices[r % 4];
    /* Without on_drop, short keys and values take the map's short paths. */
    o.on_drop = (r >> 8) % 2 ? count_drop : NULL;
    o.ctx = &drops;
    /* Without on_drop, half the maps rewrite inline values in place. */
    g.no_peek = o.on_drop == NULL && (r >> 9) % 2;
    o.flags = g.no_peek ? GOCONC_MAP_NO_PEEK : 0;
    if (goconc_map_new(&g.map, &o) != GOCONC_OK) {
        fprintf(stderr, "stress_lincheck: goconc_map_new failed\n");
        exit(2);
    }
    if (goconc_value_new(&g.val, obj_free, NULL) != GOCONC_OK) {
        fprintf(stderr, "stress_lincheck: goconc_value_new failed\n");
        exit(2);
    }
    for (t = 0; t < g.ntargets; t++)
        cs->init[t] = LC_ABSENT;
}

static void usage(void)
{
    fprintf(stderr, "usage: stress_lincheck [-d seconds] [-s seed] [-t threads 1..%d] "
                    "[-k keys 1..%d] [-o ops-per-round] [-b search-budget] [-v]\n",
            MAX_THREADS, MAX_KEYS);
    exit(2);
}

static void parse_args(int argc, char **argv, struct config *cf)
{
    int c, seeded = 0;
    cf->seconds = tu_stress_seconds();
    cf->threads = 4;
    cf->keys = 4;
    cf->ops = 32;
    cf->budget = 0;
    cf->verbose = 0;
    while ((c = getopt(argc, argv, "d:s:t:k:o:b:v")) != -1) {
        switch (c) {
        case 'd': cf->seconds = atof(optarg); break;
        case 's': cf->seed = strtoull(optarg, NULL, 0); seeded = 1; break;
        case 't': cf->threads = (unsigned)atoi(optarg); break;
        case 'k': cf->keys = (unsigned)atoi(optarg); break;
        case 'o': cf->ops = (unsigned)atoi(optarg); break;
        case 'b': cf->budget = strtoull(optarg, NULL, 0); break;
        case 'v': cf->verbose = 1; break;
        default: usage();
        }
    }
    if (optind != argc || cf->threads < 1 || cf->threads > MAX_THREADS || cf->keys < 1 ||
        cf->keys > MAX_KEYS || cf->ops < 1)
        usage();
    if (seeded)
        fprintf(stderr, "seed %" PRIu64 " (rerun with -s %" PRIu64 ")\n", cf->seed, cf->seed);
    else
        cf->seed = tu_seed();
}

static void setup_checker(struct checker_state *cs)
{
    /* Value operations may write two records per step. */
    size_t cap = (size_t)g.cf.threads * g.cf.ops * 2 + 1;
    unsigned t;
    cs->chk = lc_checker_new(g.cf.budget);
    cs->part = calloc(g.ntargets, sizeof *cs->part);
    cs->npart = calloc(g.ntargets, sizeof *cs->npart);
    cs->init = calloc(g.ntargets, sizeof *cs->init);
    if (cs->chk == NULL || cs->part == NULL || cs->npart == NULL || cs->init == NULL)
        exit(2);
    for (t = 0; t < g.ntargets; t++)
        if ((cs->part[t] = malloc(cap * sizeof *cs->part[t])) == NULL)
            exit(2);
}

static void print_outcomes(const struct totals *tt)
{
    static const char *const names[5] = { "OK", "NOTFOUND", "EXISTS", "CHANGED", "other" };
    int k, s;
    for (k = 0; k < LC_NKINDS; k++) {
        uint64_t any = 0;
        for (s = 0; s < 5; s++)
            any += tt->outcomes[k][s];
        if (any == 0)
            continue;
        fprintf(stderr, "  %-22s", lc_kind_name(k));
        for (s = 0; s < 5; s++)
            if (tt->outcomes[k][s])
                fprintf(stderr, " %s %" PRIu64, names[s], tt->outcomes[k][s]);
        fputc('\n', stderr);
    }
}

static void print_totals(const struct totals *tt, double secs, int outcomes)
{
    fprintf(stderr,
            "stress_lincheck: seed %" PRIu64 ", %u threads, %u keys + value, %u ops/thread/round,"
            " %.1f s: %" PRIu64 " rounds, %" PRIu64 " operations\n"
            "  %" PRIu64 " histories checked (up to %zu operations, %" PRIu64
            " search steps): %" PRIu64 " linearizable, %" PRIu64 " violations, %" PRIu64
            " undecided\n"
            "  %" PRIu64 " operations overlapped another on their target\n",
            g.cf.seed, g.cf.threads, g.cf.keys, g.cf.ops, secs, tt->rounds, tt->ops, tt->histories, tt->max_len, tt->max_steps,
            tt->linearizable, tt->violations, tt->undecided, tt->overlapping);
    if (outcomes)
        print_outcomes(tt);
    fprintf(stderr, "  map migrations: %" PRIu64 " grows, %" PRIu64 " shrinks, %" PRIu64
                    " buckets moved\n", tt->grows, tt->shrinks, tt->moved);
}

int main(int argc, char **argv)
{
    static struct worker ws[MAX_THREADS];
    struct checker_state cs;
    uint64_t bad_updates = 0;
    double t0, end, next_report;
    unsigned i;

    memset(&cs, 0, sizeof cs);
    parse_args(argc, argv, &g.cf);
    g.ntargets = g.cf.keys + 1; /* the keys, then the value */
    g.salt = mix(g.cf.seed ^ 0x243f6a8885a308d3ull);
    setup_checker(&cs);
    renew_objects(&cs, 0);
    pthread_barrier_init(&g.start, NULL, g.cf.threads + 1);
    pthread_barrier_init(&g.done, NULL, g.cf.threads + 1);
    for (i = 0; i < g.cf.threads; i++) {
        ws[i].id = i;
        ws[i].rng = g.cf.seed * 0x9e3779b97f4a7c15ull + i + 1;
        ws[i].log = malloc((size_t)g.cf.ops * 2 * sizeof *ws[i].log);
        if (ws[i].log == NULL || pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]) != 0)
            exit(2);
    }

    t0 = tu_now();
    end = t0 + g.cf.seconds;
    next_report = t0 + 10;
    do {
        if (cs.tot.rounds > 0 && cs.tot.rounds % EPOCH_ROUNDS == 0)
            renew_objects(&cs, cs.tot.rounds / EPOCH_ROUNDS);
        __atomic_store_n(&g.ready, 0, __ATOMIC_RELAXED); /* workers wait at start */
        pthread_barrier_wait(&g.start);
        pthread_barrier_wait(&g.done);
        check_round(&cs, ws);
        if (g.cf.verbose && tu_now() >= next_report) {
            print_totals(&cs.tot, tu_now() - t0, 0);
            next_report += 10;
        }
    } while (tu_now() < end);
    __atomic_store_n(&g.stop, 1, __ATOMIC_RELEASE);
    pthread_barrier_wait(&g.start);
    for (i = 0; i < g.cf.threads; i++) {
        pthread_join(ws[i].tid, NULL);
        bad_updates += ws[i].bad_updates;
        free(ws[i].log);
    }
    retire_objects(&cs.tot);
    print_totals(&cs.tot, tu_now() - t0, g.cf.verbose);
    if (bad_updates)
        fprintf(stderr, "stress_lincheck: %" PRIu64 " update functions not run exactly once\n",
                bad_updates);
    for (i = 0; i < g.ntargets; i++)
        free(cs.part[i]);
    free(cs.part);
    free(cs.npart);
    free(cs.init);
    lc_checker_free(cs.chk);
    pthread_barrier_destroy(&g.start);
    pthread_barrier_destroy(&g.done);
    return cs.tot.violations == 0 && bad_updates == 0 && cs.tot.rounds > 0 ? 0 : 1;
}
