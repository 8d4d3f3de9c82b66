/* SPDX-License-Identifier: MIT */
/*
 * goconc-demo: for each Go runtime panic or data race of the seed article
 * that libgoconc covers, run the scenario safely and say what happened.
 */
#include <stdlib.h>

#include "demo.h"

int main(void)
{
    static const struct {
        const char *name;
        int (*run)(void);
    } scenarios[] = {
        { "once", demo_once },
        { "reclaim", demo_reclaim },
        { "map", demo_map },
        { "slice", demo_slice },
        { "value", demo_value },
        { "pool", demo_pool },
    };
    size_t i, n = sizeof scenarios / sizeof scenarios[0];
    int failed = 0;

    printf("libgoconc %s: Go's concurrency panics, done safely\n",
           goconc_version_string());
    for (i = 0; i < n; i++)
        failed += scenarios[i].run() != 0;
    printf("\n%zu scenario groups, %d misbehaved\n", n, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
