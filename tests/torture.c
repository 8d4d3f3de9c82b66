/* SPDX-License-Identifier: MIT */
/*
 * torture.c - every module at once, from many threads, against oracles.
 *
 *   torture [-s SEED] [-d SECONDS] [-t THREADS] [-q] [-K]
 *
 * This file has the threads, the watchdog and main; torture_map.c,
 * torture_obj.c and torture_seq.c the operations and their oracles.
 *
 * Not a meson test: scripts/torture.sh builds it in tiny-shard, perturb
 * (src/core/perturb.h) builds, plain and under the sanitizers, and runs it for
 * minutes (doc/torture.md).  THREADS worker slots (default 32, far more
 * than cores) each run a random mix of operations on one shared map,
 * slice, value, pool and a set of once objects, plus read sections,
 * deferred frees, synchronize and barrier.  A quarter of the slots are
 * ephemeral: their threads run a few hundred operations, sometimes exit
 * inside a read section, and leave the pool objects and value references
 * they hold to other threads.  Two stalled readers sit in read sections
 * for up to 160 ms, checking that nothing they can see is freed under
 * them.  A watchdog fails a slot that stops making progress.  The oracles
 * (doc/torture.md has the details):
 *
 *   map    per-slot key ownership with an exact model of every owned key;
 *          values encode key and version; foreign readers accept only
 *          values of the right key no newer than the owner announced and
 *          no older than they saw before; stable keys are found by every
 *          load, range and scan; on_drop sees every stored value exactly
 *          once by the end, also in a second map cleared while written.
 *   value  objects poisoned when destroyed: a load, reference or destroy
 *   pool   that meets a poisoned object is a use after free or a double
 *   defer  free; a pool object handed to two holders at once, or dropped
 *          while held, is caught by its holder flag; live counts per kind
 *          return to zero at the end, and the pool's stats are exact.
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
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "torture.h"

/* ------------------------------------------------------------ basics */

uint64_t seed0;
int quiet, skip_known, stop;
unsigned nslots;
struct slot *slots;
static uint64_t failures;

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
static _Thread_local uint64_t tl_ops[OP_COUNT];
_Thread_local uint64_t tl_checks;

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

void fail_at(const char *file, int line, const char *fmt, ...)
{
    const char *base = strrchr(file, '/');
    va_list ap;
    if (add(&failures, 1) >= 20)
        return;
    va_start(ap, fmt);
    flockfile(stderr);
    fprintf(stderr, "torture: FAIL (seed %" PRIu64 ", %s:%d): ", seed0, base ? base + 1 : file,
            line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
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
    case OP_POOL_TRIM: pool_trim_op(); break;
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

static void held_leave(struct held *h, int to_stash)
{
    obj_held_leave(h, to_stash);
    slice_held_leave(h);
}

/* A long-lived worker: random ops until stop. */
static void *worker(void *arg)
{
    struct slot *s = arg;
    struct held h;
    memset(&h, 0, sizeof h);
    map_reader_begin();
    while (!ld(&stop))
        run_op(s, &h, pick_op(s));
    held_leave(&h, 0);
    tally_fold();
    map_reader_end();
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
    map_reader_begin();
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
    map_reader_end();
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
        struct obj_peek op;
        struct peeks pk;

        goconc_read_lock();
        obj_peek_take(&op);
        map_peeks_take(&pk, &rng);
        sleep_us(10000 + (long)(splitmix(&rng) % 150000));
        obj_peek_verify(&op);
        map_peeks_verify(&pk);
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
                fail_at(__FILE__, __LINE__, "threads still running %d s after stop",
                        STUCK_SECONDS);
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
                int op = __atomic_load_n(&slots[i].cur_op, __ATOMIC_RELAXED);
                fail_at(__FILE__, __LINE__, "slot %u made no progress for %d s, in %s", i,
                        STUCK_SECONDS, op_names[op]);
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
    unsigned i;
    int rc;

    if (!(slots = calloc(nslots, sizeof *slots))) {
        fprintf(stderr, "torture: setup failed\n");
        exit(2);
    }
    for (i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        s->idx = i;
        s->ephemeral = i % 4 == 3;
        s->rng = seed0 ^ (0x9e3779b97f4a7c15ull * (i + 1));
    }
    for (i = 0; i < sizeof mix / sizeof mix[0]; i++)
        mix_total += mix[i].w;
    rc = map_setup();
    rc |= obj_setup();
    rc |= seq_setup();
    if (rc != GOCONC_OK) {
        fprintf(stderr, "torture: setup failed\n");
        exit(2);
    }
}

/* Everything stopped: each module checks its end state, then after all
 * is freed and a barrier, that every destroy ran exactly once. */
static void final_checks(void)
{
    goconc_reclaim_stats rs = GOCONC_RECLAIM_STATS_INIT;

    obj_final_check(); /* first: it puts the stash back */
    map_final_check();
    seq_final_check();
    map_free_all();
    obj_free_all();
    seq_free_all();
    CHECK(goconc_barrier() == GOCONC_OK, "final barrier failed");
    map_after_barrier();
    obj_after_barrier();
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
    setup();
    printf("torture: seed %" PRIu64 ", %.0f s, %u slots (%u ephemeral), library %s, main map %s%s\n",
           seed0, secs, nslots, nslots / 4, goconc_version_string(),
           map_lends() ? "lends" : "without peek", skip_known ? ", known-bug checks skipped" : "");
    fflush(stdout);

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
        map_set_phase((int)((now_s() - t0) / 1.5) % 2);
        if (!quiet && now_s() - last >= 10) {
            last = now_s();
            printf("torture: %.0f s, %" PRIu64 " thread exits, %" PRIu64 " stalls, map len %zu\n",
                   last - t0, ld(&exits), ld(&stalls), map_len_now());
            fflush(stdout);
        }
    }
    st(&stop, 1);
    for (i = 0; i < nslots; i++)
        pthread_join(slots[i].ctl, NULL);
    for (i = 0; i < 2; i++)
        pthread_join(stallers[i], NULL);
    final_checks();
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

