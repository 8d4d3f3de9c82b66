/* SPDX-License-Identifier: MIT */
/* demo.h - the scenarios of goconc-demo, one function per Go panic/race. */
#ifndef GOCONC_DEMO_H
#define GOCONC_DEMO_H

#include <stdio.h>
#include <stdlib.h>

#include "goconc.h"

/* Each returns 0 when the safe version behaved as promised, else 1. */
int demo_once(void);
int demo_reclaim(void);
int demo_map(void);
int demo_slice(void);
int demo_value(void);
int demo_pool(void);

/* Print a section header / a line of narration. */
#define DEMO_TITLE(...) (printf("\n== "), printf(__VA_ARGS__), printf("\n"))
#define DEMO_SAY(...) (printf("   "), printf(__VA_ARGS__), printf("\n"))

/* A call the scenario needs to succeed (or to give one of the answers
 * it allows): anything else is a failure of the demo, said and exited. */
#define DEMO_MUST(expr) demo_must_((expr), GOCONC_OK, #expr, __FILE__, __LINE__)
#define DEMO_MUST_OR(expr, also) demo_must_((expr), (also), #expr, __FILE__, __LINE__)
static inline void demo_must_(int rc, int also, const char *what, const char *file, int line)
{
    if (rc != GOCONC_OK && rc != also) {
        fprintf(stderr, "%s:%d: %s: %s\n", file, line, what, goconc_strerror(rc));
        exit(1);
    }
}

#endif
