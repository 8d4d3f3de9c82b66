/* SPDX-License-Identifier: MIT */
/*
 * bench_value.c - goconc_value loads against the peers of issue 4.
 *
 * T = 1 and 2 reader threads (or the counts listed in
 * GOCONC_BENCH_THREADS, e.g. "1,2,4,8,16") each loop { enter read side;
 * load the current 64-byte config; read one field; leave } while one
 * writer thread replaces the config every millisecond.  Reported: loads per second per
 * reader.  Implementations:
 *
 *   goconc      goconc_read_lock + goconc_value_load (the header's inline
 *               fast paths, the default for C callers)
 *   goconc-ffi  the same through the exported functions (what FFI and
 *               -DGOCONC_NO_INLINE callers get)
 *   goconc-ref  a counted reference per load: goconc_value_acquire, read,
 *               goconc_value_release (what Rust's Value::load_full and
 *               C++'s value<T>::acquire do; the peer is mutex-rc)
 *   urcu-memb   liburcu memb flavour: urcu_memb_read_lock +
 *               rcu_dereference, writer rcu_xchg_pointer +
 *               synchronize_rcu + free (when liburcu-dev is installed;
 *               _LGPL_SOURCE, so its fast paths are inline too)
 *   rwlock      a pthread_rwlock-protected pointer
 *   mutex-rc    a mutex-guarded reference count: lock, take a count,
 *               unlock, read, lock, drop the count (free at zero), unlock
 *
 * Reps interleave the implementations (round robin, rotated each rep);
 * figures are medians over GOCONC_BENCH_REPS (5) reps of
 * GOCONC_BENCH_SECONDS (0.5) each, and every ratio is goconc over the
 * peer measured in the same rep, median over reps.  On a 2-core machine
 * the writer mostly sleeps; with 2 readers it shares a core with them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "benchutil.h"

#include <goconc.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBURCU_MEMB
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#endif

struct config {
    uint64_t version;
    uint64_t field[7];
};

/* rwlock/mutex-rc/urcu share one published pointer. */
struct rc_config {
    long refs;
    struct config c;
};

enum impl { GOCONC, GOCONC_FFI, GOCONC_REF, URCU, RWLOCK, MUTEX_RC, NIMPL };
static const char *const impl_name[NIMPL] = { "goconc", "goconc-ffi", "goconc-ref",
                                             "urcu-memb", "rwlock", "mutex-rc" };

static struct {
    enum impl impl;
    int stop; /* atomic */
    goconc_value *v;
    struct rc_config *cur; /* rwlock, mutex-rc, urcu */
    pthread_rwlock_t rw;
    pthread_mutex_t mu;
    uint64_t version;
} B;

struct reader_slot {
    uint64_t loads;
    double secs;
} __attribute__((aligned(64))); /* one line per reader */
static struct reader_slot slots[64]; /* bu_run_threads' limit */

static int impl_available(enum impl i)
{
#ifndef HAVE_LIBURCU_MEMB
    if (i == URCU)
        return 0;
#endif
    (void)i;
    return 1;
}

static void *new_config(size_t size)
{
    struct config *c;
    char *p = malloc(size);
    if (p == NULL) {
        fprintf(stderr, "bench_value: out of memory\n");
        exit(1);
    }
    memset(p, 0, size);
    c = (struct config *)(p + size - sizeof *c);
    c->version = ++B.version;
    c->field[3] = c->version * 3;
    return p;
}

static void free_config(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

/* ------------------------------------------------------------ readers */

#define INNER 256

static uint64_t read_goconc(void)
{
    const goconc_value *v = B.v; /* the handle a program holds */
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            const struct config *c;
            goconc_read_lock();
            c = goconc_value_load(v);
            sum += c->field[3];
            goconc_read_unlock();
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}

static uint64_t read_goconc_ffi(void)
{
    const goconc_value *v = B.v; /* the handle a program holds */
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            const struct config *c;
            (goconc_read_lock)();
            c = (goconc_value_load)(v);
            sum += c->field[3];
            (goconc_read_unlock)();
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}

static uint64_t read_goconc_ref(void)
{
    goconc_value *v = B.v;
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            goconc_value_ref *r = goconc_value_acquire(v);
            const struct config *c = goconc_value_ref_get(r);
            sum += c->field[3];
            goconc_value_release(r);
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}

#ifdef HAVE_LIBURCU_MEMB
static uint64_t read_urcu(void)
{
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            const struct rc_config *c;
            urcu_memb_read_lock();
            c = rcu_dereference(B.cur);
            sum += c->c.field[3];
            urcu_memb_read_unlock();
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}
#endif

static uint64_t read_rwlock(void)
{
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            pthread_rwlock_rdlock(&B.rw);
            sum += B.cur->c.field[3];
            pthread_rwlock_unlock(&B.rw);
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}

static uint64_t read_mutex_rc(void)
{
    uint64_t sum = 0, n = 0;
    int i;
    while (!__atomic_load_n(&B.stop, __ATOMIC_RELAXED)) {
        for (i = 0; i < INNER; i++) {
            struct rc_config *c;
            pthread_mutex_lock(&B.mu);
            c = B.cur;
            c->refs++;
            pthread_mutex_unlock(&B.mu);
            sum += c->c.field[3];
            pthread_mutex_lock(&B.mu);
            if (--c->refs == 0)
                free(c);
            pthread_mutex_unlock(&B.mu);
        }
        n += INNER;
    }
    BU_KEEP(sum);
    return n;
}

static void *reader_main(void *arg, int idx)
{
    double t0;
    uint64_t n = 0;
    (void)arg;
#ifdef HAVE_LIBURCU_MEMB
    if (B.impl == URCU)
        urcu_memb_register_thread();
#endif
    t0 = bu_now();
    switch (B.impl) {
    case GOCONC: n = read_goconc(); break;
    case GOCONC_FFI: n = read_goconc_ffi(); break;
    case GOCONC_REF: n = read_goconc_ref(); break;
#ifdef HAVE_LIBURCU_MEMB
    case URCU: n = read_urcu(); break;
#endif
    case RWLOCK: n = read_rwlock(); break;
    case MUTEX_RC: n = read_mutex_rc(); break;
    default: break;
    }
    slots[idx].secs = bu_now() - t0;
    slots[idx].loads = n;
#ifdef HAVE_LIBURCU_MEMB
    if (B.impl == URCU)
        urcu_memb_unregister_thread();
#endif
    return NULL;
}

/* ------------------------------------------------------------- writer */

static void replace(void)
{
    struct rc_config *c, *old;
    switch (B.impl) {
    case GOCONC:
    case GOCONC_FFI:
    case GOCONC_REF:
        if (goconc_value_store(B.v, new_config(sizeof(struct config))) != GOCONC_OK) {
            fprintf(stderr, "bench_value: store failed\n");
            exit(1);
        }
        break;
#ifdef HAVE_LIBURCU_MEMB
    case URCU:
        c = new_config(sizeof *c);
        old = rcu_xchg_pointer(&B.cur, c);
        urcu_memb_synchronize_rcu();
        free(old);
        break;
#endif
    case RWLOCK:
        c = new_config(sizeof *c);
        pthread_rwlock_wrlock(&B.rw);
        old = B.cur;
        B.cur = c;
        pthread_rwlock_unlock(&B.rw);
        free(old);
        break;
    case MUTEX_RC:
        c = new_config(sizeof *c);
        c->refs = 1; /* the published pointer's count */
        pthread_mutex_lock(&B.mu);
        old = B.cur;
        B.cur = c;
        if (--old->refs == 0)
            free(old);
        pthread_mutex_unlock(&B.mu);
        break;
    default:
        break;
    }
}

static void *writer_main(void *arg)
{
    struct timespec ms = { 0, 1000 * 1000 };
    (void)arg;
#ifdef HAVE_LIBURCU_MEMB
    if (B.impl == URCU)
        urcu_memb_register_thread();
#endif
    while (!__atomic_load_n(&B.stop, __ATOMIC_ACQUIRE)) {
        nanosleep(&ms, NULL);
        replace();
    }
#ifdef HAVE_LIBURCU_MEMB
    if (B.impl == URCU)
        urcu_memb_unregister_thread();
#endif
    return NULL;
}

struct timer_arg {
    double secs;
};

static void *timer_main(void *arg)
{
    struct timer_arg *t = arg;
    struct timespec ts;
    ts.tv_sec = (time_t)t->secs;
    ts.tv_nsec = (long)((t->secs - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
    __atomic_store_n(&B.stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *bench_threads(void *arg, int idx)
{
    return reader_main(arg, idx);
}

/* One run: loads per second per reader (mean of the readers). */
static double run(enum impl impl, int readers, double secs)
{
    pthread_t writer, timer;
    struct timer_arg ta = { secs };
    struct rc_config *c;
    double per = 0;
    int i;

    B.impl = impl;
    __atomic_store_n(&B.stop, 0, __ATOMIC_RELAXED);
    if (impl == GOCONC || impl == GOCONC_FFI || impl == GOCONC_REF) {
        if (goconc_value_new(&B.v, free_config, NULL) != GOCONC_OK ||
            goconc_value_store(B.v, new_config(sizeof(struct config))) != GOCONC_OK) {
            fprintf(stderr, "bench_value: goconc setup failed\n");
            exit(1);
        }
    } else {
        c = new_config(sizeof *c);
        c->refs = 1;
        B.cur = c;
    }
    pthread_create(&writer, NULL, writer_main, NULL);
    pthread_create(&timer, NULL, timer_main, &ta);
    bu_run_threads(readers, bench_threads, NULL);
    pthread_join(timer, NULL);
    pthread_join(writer, NULL);
    for (i = 0; i < readers; i++)
        per += (double)slots[i].loads / slots[i].secs;
    per /= readers;
    if (impl == GOCONC || impl == GOCONC_FFI || impl == GOCONC_REF) {
        goconc_value_free(B.v);
        bu_discard(goconc_barrier());
    } else {
        free(B.cur);
    }
    return per;
}

#define MAX_REPS 64
#define MAXT 16 /* thread counts */

int main(void)
{
    static const int dflt[2] = { 1, 2 };
    int tcount[MAXT], nt, i1, i2, reps = bu_reps(5), r, ti, k, n;
    double secs = bu_seconds(0.5);
    static double rate[MAXT][NIMPL][MAX_REPS], ratio[MAXT][NIMPL][MAX_REPS];
    double med[MAXT][NIMPL], rmed[MAXT][NIMPL];
    char lab[24];

    if (reps < 1)
        reps = 1;
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    nt = bu_thread_list(tcount, MAXT, dflt, 2);
    i1 = bu_thread_index(tcount, nt, 1);
    i2 = bu_thread_index(tcount, nt, 2);
    pthread_rwlock_init(&B.rw, NULL);
    pthread_mutex_init(&B.mu, NULL);
    fprintf(stderr, "bench_value: %d reps x %.2f s per run, writer every 1 ms\n", reps, secs);
    for (r = 0; r < reps; r++) {
        for (ti = 0; ti < nt; ti++) {
            for (k = 0; k < NIMPL; k++) {
                enum impl i = (enum impl)((k + r) % NIMPL); /* rotate */
                if (impl_available(i))
                    rate[ti][i][r] = run(i, tcount[ti], secs);
            }
            for (k = 0; k < NIMPL; k++)
                ratio[ti][k][r] = impl_available((enum impl)k)
                                      ? rate[ti][GOCONC][r] / rate[ti][k][r]
                                      : 0;
        }
        fprintf(stderr, ".");
    }
    fprintf(stderr, "\n");
    for (ti = 0; ti < nt; ti++)
        for (k = 0; k < NIMPL; k++) {
            double tmp[MAX_REPS];
            memcpy(tmp, rate[ti][k], sizeof tmp);
            med[ti][k] = bu_median(tmp, (size_t)reps);
            memcpy(tmp, ratio[ti][k], sizeof tmp);
            rmed[ti][k] = bu_median(tmp, (size_t)reps);
        }
    printf("value loads per reader (M/s), median of %d interleaved reps;\n"
           "ratio = goconc / peer in the same rep, median\n", reps);
    printf("  %-11s", "impl");
    for (ti = 0; ti < nt; ti++) {
        snprintf(lab, sizeof lab, "T=%d M/s", tcount[ti]);
        printf(" %10s %10s", lab, "goconc/x");
    }
    printf("\n");
    for (k = 0; k < NIMPL; k++) {
        if (!impl_available((enum impl)k)) {
            printf("  %-11s (not built: install liburcu-dev)\n", impl_name[k]);
            continue;
        }
        printf("  %-11s", impl_name[k]);
        for (ti = 0; ti < nt; ti++) {
            printf(" %10.1f %9.2fx", med[ti][k] / 1e6, rmed[ti][k]);
            bu_json("value", "load", impl_name[k], tcount[ti], "mops_per_reader",
                    med[ti][k] / 1e6, "M/s");
            if (k != GOCONC)
                bu_json("value", "load", impl_name[k], tcount[ti], "goconc_over_peer",
                        rmed[ti][k], "x");
        }
        printf("\n");
    }
    n = 0;
    /* The targets are set at 1 and 2 readers. */
    if (impl_available(URCU) && i1 >= 0 && i2 >= 0) {
        printf("target goconc >= 0.8x urcu-memb per reader: T=1 %.2fx %s, T=2 %.2fx %s\n",
               rmed[i1][URCU], rmed[i1][URCU] >= 0.8 ? "met" : "MISSED", rmed[i2][URCU],
               rmed[i2][URCU] >= 0.8 ? "met" : "MISSED");
        n += rmed[i1][URCU] < 0.8 || rmed[i2][URCU] < 0.8;
    }
    if (i2 >= 0) {
        printf("target goconc >= 20x rwlock with 2 readers: %.1fx %s\n", rmed[i2][RWLOCK],
               rmed[i2][RWLOCK] >= 20 ? "met" : "MISSED");
        n += rmed[i2][RWLOCK] < 20;
    }
    if (n)
        printf("%d target(s) missed\n", n);
    return 0;
}
