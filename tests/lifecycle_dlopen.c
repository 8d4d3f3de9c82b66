/* SPDX-License-Identifier: MIT */
/*
 * lifecycle_dlopen.c - dlopen/dlclose of libgoconc.so.1 (argv[1]) by a
 * program that is not linked with it, while threads that used it live on.
 *
 * The contract (doc/reclaim.md, "dlclose"): the library is linked
 * `-z nodelete`, because a thread that used it runs the library's pthread
 * key destructor at its exit, reaching the library's code and TLS.  So
 * dlclose must leave the library mapped: threads that used it exit
 * cleanly afterwards, and a later dlopen finds the same instance, with
 * its objects and its registry intact.
 *
 * Check, fork mode: each test loads the library afresh in its own process.
 */
#define _GNU_SOURCE
#define GOCONC_NO_INLINE /* everything through dlsym'd pointers */
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goconc.h"
#include "testutil.h" /* its Check runner alone: testrun.c */

static const char *lib_path;

/* The library's functions, as dlsym gives them. */
struct api {
    void *h;
    __typeof__(goconc_map_new) *map_new;
    __typeof__(goconc_map_free) *map_free;
    __typeof__(goconc_map_store) *map_store;
    __typeof__(goconc_map_load) *map_load;
    __typeof__(goconc_map_len) *map_len;
    __typeof__(goconc_read_lock) *read_lock;
    __typeof__(goconc_read_unlock) *read_unlock;
    __typeof__(goconc_defer_free) *defer_free;
    __typeof__(goconc_barrier) *barrier;
    __typeof__(goconc_reclaim_stats_get) *reclaim_stats_get;
};

static void *sym(void *h, const char *name)
{
    void *p = dlsym(h, name);
    ck_assert_msg(p != NULL, "dlsym %s: %s", name, dlerror());
    return p;
}

static void api_open(struct api *a)
{
    a->h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(a->h != NULL, "dlopen %s: %s", lib_path, dlerror());
    a->map_new = sym(a->h, "goconc_map_new");
    a->map_free = sym(a->h, "goconc_map_free");
    a->map_store = sym(a->h, "goconc_map_store");
    a->map_load = sym(a->h, "goconc_map_load");
    a->map_len = sym(a->h, "goconc_map_len");
    a->read_lock = sym(a->h, "goconc_read_lock");
    a->read_unlock = sym(a->h, "goconc_read_unlock");
    a->defer_free = sym(a->h, "goconc_defer_free");
    a->barrier = sym(a->h, "goconc_barrier");
    a->reclaim_stats_get = sym(a->h, "goconc_reclaim_stats_get");
}

static size_t threads_registered(const struct api *a)
{
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    ck_assert_int_eq(a->reclaim_stats_get(&st), GOCONC_OK);
    return st.threads;
}

static long destroyed;
static void count_destroy(void *ctx, void *obj)
{
    (void)ctx;
    (void)obj;
    __atomic_fetch_add(&destroyed, 1, __ATOMIC_SEQ_CST);
}

/* A thread that uses the library, then waits (inside a read section when
 * `inside`) until main has closed the library, and exits. */
struct user {
    const struct api *a;
    goconc_map *m;
    unsigned id;
    int inside, used, go, bad;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void *user_thread(void *p)
{
    struct user *u = p;
    static int objs[8];
    unsigned v = u->id * 3, got = 0;
    size_t n = 0;

    if (u->a->map_store(u->m, &u->id, sizeof u->id, &v, sizeof v) != GOCONC_OK ||
        u->a->map_load(u->m, &u->id, sizeof u->id, &got, sizeof got, &n) != GOCONC_OK ||
        got != v || u->a->defer_free(&objs[u->id % 8], count_destroy, NULL) != GOCONC_OK)
        u->bad = 1;
    if (u->inside)
        u->a->read_lock();
    pthread_mutex_lock(&u->mu);
    u->used = 1;
    pthread_cond_broadcast(&u->cv);
    while (!u->go)
        pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
    return NULL; /* the library's key destructor runs now */
}

static void user_wait(struct user *u, int field_go)
{
    pthread_mutex_lock(&u->mu);
    if (field_go) {
        u->go = 1;
        pthread_cond_broadcast(&u->cv);
    } else {
        while (!u->used)
            pthread_cond_wait(&u->cv, &u->mu);
    }
    pthread_mutex_unlock(&u->mu);
}

START_TEST(dlclose_while_users_live)
{
    enum { T = 4 };
    struct api a, b;
    struct user u[T];
    pthread_t t[T];
    goconc_map *m;
    size_t threads0;
    unsigned i;

    api_open(&a);
    ck_assert_int_eq(a.map_new(&m, NULL), GOCONC_OK);
    a.read_lock(); /* registers main */
    a.read_unlock();
    threads0 = threads_registered(&a);
    for (i = 0; i < T; i++) {
        memset(&u[i], 0, sizeof u[i]);
        u[i].a = &a;
        u[i].m = m;
        u[i].id = i;
        u[i].inside = i & 1;
        pthread_mutex_init(&u[i].mu, NULL);
        pthread_cond_init(&u[i].cv, NULL);
        ck_assert_int_eq(pthread_create(&t[i], NULL, user_thread, &u[i]), 0);
        user_wait(&u[i], 0);
        ck_assert_int_eq(u[i].bad, 0);
    }
    ck_assert_uint_eq(threads_registered(&a), threads0 + T);

    /* The last reference goes, with T threads registered: nodelete keeps
     * the library mapped (RTLD_NOLOAD finds it). */
    ck_assert_int_eq(dlclose(a.h), 0);
    b.h = dlopen(lib_path, RTLD_NOW | RTLD_NOLOAD);
    ck_assert_msg(b.h != NULL, "library unloaded by dlclose (not -z nodelete?)");
    ck_assert_int_eq(dlclose(b.h), 0);

    /* The threads exit now, through the library's key destructor. */
    for (i = 0; i < T; i++) {
        user_wait(&u[i], 1);
        pthread_join(t[i], NULL);
    }

    /* Opened again: the same instance, its map and registry intact. */
    api_open(&b);
    ck_assert_ptr_eq((void *)b.map_load, (void *)a.map_load);
    ck_assert_uint_eq(threads_registered(&b), threads0);
    ck_assert_uint_eq(b.map_len(m), T);
    for (i = 0; i < T; i++) {
        unsigned got = 0;
        size_t n = 0;
        ck_assert_int_eq(b.map_load(m, &i, sizeof i, &got, sizeof got, &n), GOCONC_OK);
        ck_assert_uint_eq(got, i * 3);
    }
    ck_assert_int_eq(b.barrier(), GOCONC_OK);
    ck_assert_int_eq(__atomic_load_n(&destroyed, __ATOMIC_SEQ_CST), T);
    b.map_free(m);
    ck_assert_int_eq(b.barrier(), GOCONC_OK);
    ck_assert_int_eq(dlclose(b.h), 0);
}
END_TEST

/* Open and close repeatedly, each time with a thread that uses the
 * library and exits after the close: nothing is loaded twice. */
START_TEST(dlopen_dlclose_cycles)
{
    struct api a;
    void *first = NULL;
    int round;

    for (round = 0; round < 20; round++) {
        struct user u;
        goconc_map *m;
        pthread_t t;

        api_open(&a);
        if (first == NULL)
            first = (void *)a.map_new;
        ck_assert_ptr_eq((void *)a.map_new, first);
        ck_assert_int_eq(a.map_new(&m, NULL), GOCONC_OK);
        memset(&u, 0, sizeof u);
        u.a = &a;
        u.m = m;
        u.id = (unsigned)round;
        u.inside = round & 1;
        pthread_mutex_init(&u.mu, NULL);
        pthread_cond_init(&u.cv, NULL);
        ck_assert_int_eq(pthread_create(&t, NULL, user_thread, &u), 0);
        user_wait(&u, 0);
        ck_assert_int_eq(u.bad, 0);
        ck_assert_int_eq(dlclose(a.h), 0);
        user_wait(&u, 1);
        pthread_join(t, NULL);
        api_open(&a);
        ck_assert_uint_eq(a.map_len(m), 1);
        a.map_free(m);
        ck_assert_int_eq(a.barrier(), GOCONC_OK);
        ck_assert_int_eq(__atomic_load_n(&destroyed, __ATOMIC_SEQ_CST), round + 1);
        ck_assert_int_eq(dlclose(a.h), 0);
    }
}
END_TEST

int main(int argc, char **argv)
{
    const struct tu_case cases[] = {
        TU_CASE(dlclose_while_users_live),
        TU_CASE(dlopen_dlclose_cycles),
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH-TO-libgoconc.so.1\n", argv[0]);
        return 2;
    }
    lib_path = argv[1];
    return TU_RUN(cases, .name = "lifecycle_dlopen", .timeout = 60);
}
