/* SPDX-License-Identifier: MIT */
/*
 * static_clash.c - a program that defines names libgoconc uses inside
 * (map_lock, gc_alloc, pool_drop) and links libgoconc.a: the archive
 * must export only goconc_*, so these are this program's own.
 */
#include <stdio.h>
#include <string.h>

#include "goconc.h"

int map_lock;
int gc_alloc(void) { return 42; }
void pool_drop(int *x) { ++*x; }

int main(void)
{
    goconc_map *m;
    char v[8];
    size_t n = 0;
    int d = 0;

    if (goconc_map_new(&m, NULL) != GOCONC_OK || goconc_map_store(m, "k", 1, "v", 1) != GOCONC_OK ||
        goconc_map_load(m, "k", 1, v, sizeof v, &n) != GOCONC_OK || n != 1 || v[0] != 'v')
        return 1;
    goconc_map_free(m);
    pool_drop(&d);
    map_lock = gc_alloc() + d;
    if (goconc_barrier() != GOCONC_OK || map_lock != 43)
        return 1;
    printf("static: ok (%s)\n", goconc_version_string());
    return 0;
}
