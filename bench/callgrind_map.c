/* SPDX-License-Identifier: MIT */
/*
 * callgrind_map - instruction counts of the map's hot paths, per
 * operation.  Not a timing benchmark: run it under callgrind, which
 * counts only inside the function named by --toggle-collect, and divide
 * the count by the operations it did (scripts/callgrind_map.sh does
 * both, for every case):
 *
 *   valgrind --tool=callgrind --toggle-collect=run_ops \
 *       bench/callgrind_map overwrite
 *
 * Each case builds its map outside run_ops (setup is not counted), then
 * run_ops does OPS operations of one kind (case loop: none, its cost
 * is the loop's own).  Keys are 8-byte counters
 * (16 bytes for the *_long cases), values 8 bytes; the map has a fixed
 * seed, so counts repeat run to run.  Uses only the public API, so the
 * same file measures any version of the library.  A case name with the
 * suffix _np runs the case on a map created with GOCONC_MAP_NO_PEEK
 * (1.2 on; doc/map.md, "Maps without peek").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goconc.h>

#define OPS 20000u  /* operations counted */
#define KEYS 4096u  /* keys present in the map for hits and overwrites */
#define WIDE 100000u /* ... in the *_wide cases (the Rust benchmark's map), */
#define WIDE_OPS 200000u /* which do this many, to reach DEAD slots' reuse */
/* The *_aged cases: random writes over the WIDE keys, counted after
 * AGED_WARM uncounted ones, when many keys have drifted past their home
 * bucket (doc/map.md, "Keys past home"). */
#define AGED_WARM 2000000u
#define AGED_OPS 500000u

enum kind { LOOP, LOAD_HIT, LOAD_MISS, OVERWRITE, INSERT, OVERWRITE_LONG, OVERWRITE_DROP, DELETE_INSERT,
            INSERT_GROW, OVERWRITE_GROWN, LOAD_HIT_GROWN, UPDATE, SWAP, OVERWRITE_WIDE,
            OVERWRITE_AGED, UPDATE_AGED };

static const char *const names[] = { "loop", "load_hit", "load_miss", "overwrite", "insert",
                                     "overwrite_long", "overwrite_drop", "delete_insert",
                                     "insert_grow", "overwrite_grown", "load_hit_grown", "update",
                                     "swap", "overwrite_wide", "overwrite_aged", "update_aged" };

static unsigned drops;

static void on_drop(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)ctx, (void)k, (void)kl, (void)v, (void)vl;
    drops++;
}

/* update's function: the value plus one (a read-modify-write). */
static int add_one(void *ctx, const void *old, size_t oldlen, int found, const void **nv,
                   size_t *nl)
{
    uint64_t *out = ctx, v = 0;
    if (found && oldlen == sizeof v)
        memcpy(&v, old, sizeof v);
    *out = v + 1;
    *nv = out;
    *nl = sizeof *out;
    return GOCONC_UPDATE_STORE;
}

/* Key i: its counter in the first 8 bytes, zero padding after. */
static void key_of(uint64_t i, unsigned char *key)
{
    memset(key, 0, 16);
    memcpy(key, &i, 8);
}

static int check(int rc, const char *what)
{
    if (rc != GOCONC_OK && rc != GOCONC_NOTFOUND) {
        fprintf(stderr, "callgrind_map: %s: %s\n", what, goconc_strerror(rc));
        exit(1);
    }
    return rc;
}

static int aged(enum kind k) { return k == OVERWRITE_AGED || k == UPDATE_AGED; }

static unsigned ops_of(enum kind k)
{
    return k == OVERWRITE_WIDE ? WIDE_OPS : aged(k) ? AGED_OPS : OPS;
}

/* n random writes of an *_aged case (xorshift64, its state in *rs). */
static void write_aged(goconc_map *m, enum kind k, unsigned n, uint64_t *rs)
{
    unsigned char key[16];
    unsigned i;
    uint64_t v;

    for (i = 0; i < n; i++) {
        *rs ^= *rs << 13;
        *rs ^= *rs >> 7;
        *rs ^= *rs << 17;
        key_of(*rs % WIDE, key);
        v = i;
        if (k == UPDATE_AGED)
            check(goconc_map_update(m, key, 8, add_one, &v), "update");
        else
            check(goconc_map_store(m, key, 8, &v, sizeof v), "store");
    }
}

/* The counted part.  noinline: --toggle-collect finds it by name. */
static __attribute__((noinline)) unsigned run_ops(goconc_map *m, enum kind k, size_t klen,
                                                  uint64_t *rs)
{
    unsigned char key[16], val[8];
    unsigned i, found = 0;
    uint64_t v;
    size_t vl;

    if (aged(k)) {
        write_aged(m, k, AGED_OPS, rs);
        return 0;
    }
    for (i = 0; i < ops_of(k); i++) {
        /* _wide: a multiplicative stride, so keys come scattered over the
         * shards and buckets without an RNG in the count. */
        uint64_t n = k == LOAD_MISS || k == INSERT || k == INSERT_GROW ? KEYS + i
                     : k == OVERWRITE_WIDE ? (uint64_t)i * 40503u % WIDE
                                           : i % KEYS;
        key_of(n, key);
        v = n + i;
        switch (k) {
        case LOOP: /* the loop's own cost, to subtract */
            found += key[0] == (unsigned char)v;
            break;
        case LOAD_HIT:
        case LOAD_HIT_GROWN:
        case LOAD_MISS:
            found += check(goconc_map_load(m, key, klen, val, sizeof val, NULL), "load") ==
                     GOCONC_OK;
            break;
        case UPDATE:
            check(goconc_map_update(m, key, klen, add_one, &v), "update");
            break;
        case SWAP:
            found += check(goconc_map_swap(m, key, klen, &v, sizeof v, val, sizeof val, &vl),
                           "swap") == GOCONC_OK;
            break;
        case DELETE_INSERT:
            check(goconc_map_delete(m, key, klen), "delete");
            /* fall through */
        default:
            check(goconc_map_store(m, key, klen, &v, sizeof v), "store");
            break;
        }
    }
    return found;
}

int main(int argc, char **argv)
{
    goconc_map_options o = GOCONC_MAP_OPTIONS_INIT;
    goconc_map *m;
    unsigned char key[16];
    size_t klen = 8;
    uint64_t i, rs = 88172645463325252ull;
    unsigned k, found;
    const char *name = argc == 2 ? argv[1] : "";
    size_t len = strlen(name);
    int np = len > 3 && strcmp(name + len - 3, "_np") == 0;

    if (np)
        len -= 3;
    for (k = 0; argc == 2 && k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == len && strncmp(name, names[k], len) == 0)
            break;
    if (argc != 2 || k == sizeof names / sizeof names[0]) {
        fprintf(stderr, "usage: callgrind_map loop|load_hit|load_miss|overwrite|insert|"
                        "overwrite_long|overwrite_drop|delete_insert|insert_grow|overwrite_grown|"
                        "load_hit_grown|update|swap|overwrite_wide|overwrite_aged|update_aged"
                        "[_np]\n");
        return 2;
    }
    o.seed = 42;
    /* Room for every key of every case: no migration in run_ops, but
     * for insert_grow, which grows the map as W2 does (bench_map).  The
     * *_grown cases find their keys in a map grown by the prefill, as
     * full as growth leaves it (W1's state), not in a sparse one. */
    o.capacity_hint = k == INSERT_GROW || k == OVERWRITE_GROWN || k == LOAD_HIT_GROWN ||
                              k == OVERWRITE_WIDE || aged((enum kind)k)
                          ? 0
                          : 4 * (KEYS + OPS);
    if (k == OVERWRITE_DROP)
        o.on_drop = on_drop;
    if (k == OVERWRITE_LONG)
        klen = 16;
    if (np)
        o.flags = GOCONC_MAP_NO_PEEK;
    check(goconc_map_new(&m, &o), "new");
    for (i = 0; i < (k == OVERWRITE_WIDE || aged((enum kind)k) ? WIDE : KEYS); i++) {
        key_of(i, key);
        check(goconc_map_store(m, key, klen, &i, sizeof i), "prefill");
    }
    if (aged((enum kind)k))
        write_aged(m, (enum kind)k, AGED_WARM, &rs);
    found = run_ops(m, (enum kind)k, klen, &rs);
    printf("%s: %u ops, %u found\n", name, ops_of((enum kind)k), found);
    goconc_map_free(m);
    return 0;
}
