/* SPDX-License-Identifier: MIT */
/*
 * callgrind_mods - instruction counts of the hot paths of every module
 * but the map (callgrind_map has those), per operation.  Not a timing
 * benchmark: bench/callgrind_map.sh runs each case under callgrind,
 * counting only inside run_ops:
 *
 *   valgrind --tool=callgrind --toggle-collect=run_ops \
 *       bench/callgrind_mods pool_getput
 *
 * Built with GOCONC_NO_INLINE, so that every call is one of the library's
 * exported functions and its whole cost shows in the lib/op column (the
 * header's inline read lock and once check would count as the driver's).
 * The wall-clock benchmarks of these modules measure a few nanoseconds
 * per operation, where code layout alone moves a figure by 5-15% on a
 * shared machine (doc/bench.md, "What this machine can resolve"); these
 * counts are what tells two builds apart there.  Uses only the public
 * API, so the same file measures any version of the library.
 */
#define GOCONC_NO_INLINE 1

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goconc.h>

#define OPS 20000u

enum kind { LOOP, ONCE_DONE, SECTION, VALUE_LOAD, VALUE_STORE, POOL_GETPUT, SLICE_APPEND, NKIND };

static const char *const names[NKIND] = { "loop", "once_done", "section", "value_load",
                                          "value_store", "pool_getput", "slice_append" };

static goconc_once once = GOCONC_ONCE_INIT;
static char objs[OPS + 1][32]; /* value_store's objects: no malloc in the count */

static void nothing(void *ctx)
{
    (void)ctx;
}

static void no_destroy(void *ctx, void *obj)
{
    (void)ctx, (void)obj;
}

static void *pool_new_obj(void *ctx)
{
    (void)ctx;
    return malloc(64);
}

static void pool_free_obj(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

static int check(int rc, const char *what)
{
    if (rc != GOCONC_OK) {
        fprintf(stderr, "callgrind_mods: %s: %s\n", what, goconc_strerror(rc));
        exit(1);
    }
    return rc;
}

struct objects {
    goconc_value *v;
    goconc_pool *p;
    goconc_slice *s;
};

/* The counted part.  noinline: --toggle-collect finds it by name. */
static __attribute__((noinline)) unsigned run_ops(const struct objects *o, enum kind k)
{
    unsigned i, seen = 0;
    uint64_t x;

    for (i = 0; i < OPS; i++) {
        switch (k) {
        case LOOP:
            seen += objs[i][0];
            break;
        case ONCE_DONE:
            check(goconc_once_do(&once, nothing, NULL), "once_do");
            break;
        case SECTION:
            goconc_read_lock();
            goconc_read_unlock();
            break;
        case VALUE_LOAD:
            goconc_read_lock();
            seen += goconc_value_load(o->v) != NULL;
            goconc_read_unlock();
            break;
        case VALUE_STORE:
            check(goconc_value_store(o->v, objs[i + 1]), "value_store");
            break;
        case POOL_GETPUT:
            goconc_pool_put(o->p, goconc_pool_get(o->p));
            break;
        case SLICE_APPEND:
            x = i;
            check(goconc_slice_append(o->s, &x, 1, NULL), "slice_append");
            break;
        case NKIND:
            break;
        }
    }
    return seen;
}

int main(int argc, char **argv)
{
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    struct objects o;
    unsigned k, seen;

    for (k = 0; argc == 2 && k < NKIND; k++)
        if (strcmp(argv[1], names[k]) == 0)
            break;
    if (argc != 2 || k == NKIND) {
        fprintf(stderr, "usage: callgrind_mods loop|once_done|section|value_load|value_store|"
                        "pool_getput|slice_append\n");
        return 2;
    }
    po.new_obj = pool_new_obj;
    po.free_obj = pool_free_obj;
    check(goconc_value_new(&o.v, no_destroy, NULL), "value_new");
    check(goconc_pool_new(&o.p, &po), "pool_new");
    /* Room for every append: growth is not what this counts. */
    check(goconc_slice_new(&o.s, sizeof(uint64_t), 0, OPS), "slice_new");
    /* Warm: the once done, a value stored, the pool's cache holding one
     * object, the thread registered (its first section). */
    check(goconc_once_do(&once, nothing, NULL), "once_do");
    check(goconc_value_store(o.v, objs[0]), "value_store");
    goconc_pool_put(o.p, goconc_pool_get(o.p));
    goconc_read_lock();
    goconc_read_unlock();
    seen = run_ops(&o, (enum kind)k);
    printf("%s: %u ops, %u seen\n", names[k], OPS, seen);
    goconc_slice_free(o.s);
    goconc_pool_free(o.p);
    goconc_value_free(o.v);
    return 0;
}
