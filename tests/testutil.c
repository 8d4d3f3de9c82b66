/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifndef GOCONC_STRESS_DEFAULT
#define GOCONC_STRESS_DEFAULT 2
#endif

static long fail_at = -1;   /* in allocation-call units; -1 never */
static int fail_once;       /* fail only call fail_at, not the later ones */
static size_t size_limit;   /* 0: none */
static long calls;
static long live;

static void *tu_alloc(void *ctx, size_t size)
{
    long c = __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    long f = __atomic_load_n(&fail_at, __ATOMIC_RELAXED);
    void *p;
    (void)ctx;
    if (f >= 0 && (__atomic_load_n(&fail_once, __ATOMIC_RELAXED) ? c == f : c >= f))
        return NULL;
    if (size > __atomic_load_n(&size_limit, __ATOMIC_RELAXED) &&
        __atomic_load_n(&size_limit, __ATOMIC_RELAXED) != 0)
        return NULL;
    p = malloc(size ? size : 1);
    if (p)
        __atomic_fetch_add(&live, 1, __ATOMIC_RELAXED);
    return p;
}

static void tu_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr) {
        __atomic_fetch_sub(&live, 1, __ATOMIC_RELAXED);
        free(ptr);
    }
}

int tu_alloc_reinstall(void)
{
    goconc_allocator a = { sizeof a, tu_alloc, tu_free, NULL };
    return goconc_set_allocator(&a);
}

void tu_alloc_install(void)
{
    if (tu_alloc_reinstall() != GOCONC_OK) {
        fprintf(stderr, "tu_alloc_install: allocator busy\n");
        exit(2);
    }
}

static void arm(long n, int once)
{
    long c = __atomic_load_n(&calls, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_at, -1, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_once, once, __ATOMIC_RELAXED);
    __atomic_store_n(&fail_at, n < 0 ? -1 : c + n, __ATOMIC_RELAXED);
}

void tu_alloc_fail_after(long n) { arm(n, 0); }
void tu_alloc_fail_once(long n) { arm(n, 1); }
void tu_alloc_limit(size_t max) { __atomic_store_n(&size_limit, max, __ATOMIC_RELAXED); }

static void settle_nop(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
}

long tu_settle(void)
{
    static int dummy;
    int round, i;
    for (round = 0; round < 3; round++) {
        ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
        for (i = 0; i < 65; i++)
            ck_assert_int_eq(goconc_defer_free(&dummy, settle_nop, NULL), GOCONC_OK);
    }
    ck_assert_int_eq(goconc_barrier(), GOCONC_OK);
    return tu_alloc_live();
}

long tu_alloc_live(void) { return __atomic_load_n(&live, __ATOMIC_RELAXED); }
long tu_alloc_calls(void) { return __atomic_load_n(&calls, __ATOMIC_RELAXED); }

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t tu_seed(void)
{
    static uint64_t seed;
    static int done;
    if (!done) {
        const char *e = getenv("GOCONC_SEED");
        seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
        done = 1;
        fprintf(stderr, "seed %" PRIu64 " (rerun with GOCONC_SEED=%" PRIu64 ")\n", seed, seed);
    }
    return seed;
}

double tu_stress_seconds(void)
{
    const char *e = getenv("GOCONC_STRESS_SECONDS");
    return e ? atof(e) : (double)GOCONC_STRESS_DEFAULT;
}

uint64_t tu_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int tu_tiny_shards(void)
{
#ifdef GOCONC_TINY_SHARDS
    return 1;
#else
    return 0;
#endif
}

void tu_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void *hold_section(void *p)
{
    struct tu_holder *h = p;
    int i;
    if (h->depth == 0) { /* registered, but idle outside any section */
        goconc_read_lock();
        goconc_read_unlock();
    }
    for (i = 0; i < h->depth; i++)
        goconc_read_lock();
    pthread_mutex_lock(&h->mu);
    h->inside = 1;
    pthread_cond_broadcast(&h->cv);
    while (!h->leave)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    for (i = 0; i < h->depth; i++)
        goconc_read_unlock();
    return NULL;
}

void tu_holder_start(struct tu_holder *h, pthread_t *t, int depth)
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->depth = depth;
    h->inside = h->leave = 0;
    ck_assert_int_eq(pthread_create(t, NULL, hold_section, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->inside)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void tu_holder_release(struct tu_holder *h, pthread_t t)
{
    pthread_mutex_lock(&h->mu);
    h->leave = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(t, NULL);
}

