/* SPDX-License-Identifier: MIT */
/*
 * valgrind_consumer.c - a small multi-threaded consumer of every module,
 * run under helgrind and DRD with src/goconc.supp (tests/meson.build):
 * the suppressions must leave no report from inside libgoconc, and the
 * program checks its own results.  Built twice: with the inline read
 * section fast path (named in the stack thanks to -g) and with
 * GOCONC_NO_INLINE.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "goconc.h"

#define THREADS 3
#define ROUNDS 300

static goconc_map *m;
static goconc_value *v;
static goconc_slice *s;
static goconc_pool *p;
static goconc_once once = GOCONC_ONCE_INIT;
static int inits;
static int bad[THREADS];

static void init(void *ctx) { (void)ctx; inits++; }
static void *new_obj(void *ctx) { (void)ctx; return calloc(1, 32); }
static void free_obj(void *ctx, void *o) { (void)ctx; free(o); }
static void value_free(void *ctx, void *o) { (void)ctx; free(o); }

static void *work(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t i;
    for (i = 0; i < ROUNDS; i++) {
        uint64_t k = i % 50 + id * 1000, val = i, got = 0;
        size_t n = 0, at;
        int64_t e = (int64_t)i;
        int *x = malloc(sizeof *x);
        const int *y;
        void *o;

        if (goconc_map_store(m, &k, 8, &val, 8) != GOCONC_OK ||
            goconc_map_load(m, &k, 8, &got, 8, &n) != GOCONC_OK || got != i || n != 8)
            bad[id]++;
        if (i % 7 == 0 && goconc_map_delete(m, &k, 8) != GOCONC_OK)
            bad[id]++;
        *x = (int)i;
        if (goconc_value_store(v, x) != GOCONC_OK)
            bad[id]++;
        goconc_read_lock();
        y = goconc_value_load(v);
        if (y == NULL || *y < 0 || *y >= ROUNDS)
            bad[id]++;
        goconc_read_unlock();
        if (goconc_slice_append(s, &e, 1, &at) != GOCONC_OK)
            bad[id]++;
        if ((o = goconc_pool_get(p)) == NULL)
            bad[id]++;
        else
            goconc_pool_put(p, o);
        if (goconc_once_do(&once, init, NULL) != GOCONC_OK)
            bad[id]++;
    }
    return NULL;
}

int main(void)
{
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    pthread_t t[THREADS];
    uintptr_t i;
    int fails = 0;

    po.new_obj = new_obj;
    po.free_obj = free_obj;
    if (goconc_map_new(&m, NULL) != GOCONC_OK || goconc_value_new(&v, value_free, NULL) != GOCONC_OK ||
        goconc_slice_new(&s, sizeof(int64_t), 0, 0) != GOCONC_OK || goconc_pool_new(&p, &po) != GOCONC_OK)
        return 2;
    for (i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, (void *)i) != 0)
            return 2;
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        fails += bad[i];
    }
    if (goconc_slice_len(s) != (size_t)THREADS * ROUNDS || inits != 1)
        fails++;
    goconc_map_free(m);
    goconc_value_free(v);
    goconc_slice_free(s);
    goconc_pool_free(p);
    if (goconc_barrier() != GOCONC_OK)
        fails++;
    printf("%d failed checks\n", fails);
    return fails != 0;
}
