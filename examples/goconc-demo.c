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
#ifdef DEMO_ONCE
        { "once", demo_once },
#endif
#ifdef DEMO_RECLAIM
        { "reclaim", demo_reclaim },
#endif
#ifdef DEMO_MAP
        { "map", demo_map },
#endif
#ifdef DEMO_SLICE
        { "slice", demo_slice },
#endif
#ifdef DEMO_VALUE
        { "value", demo_value },
#endif
#ifdef DEMO_POOL
        { "pool", demo_pool },
#endif
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
