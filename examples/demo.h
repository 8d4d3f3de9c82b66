/* demo.h - the scenarios of goconc-demo, one function per Go panic/race. */
#ifndef GOCONC_DEMO_H
#define GOCONC_DEMO_H

#include <stdio.h>

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

#endif
