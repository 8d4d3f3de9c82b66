/* SPDX-License-Identifier: MIT */
/* structs.h - the ABI sizes of the public structs (LP64), shared by the C
 * and C++ header tests.  Returns the number of mismatches. */
#include <stdio.h>

#include "goconc.h"

#ifdef __cplusplus
#define ABI_ALIGNOF(t) alignof(t)
#else
#define ABI_ALIGNOF(t) _Alignof(t)
#endif

#define ABI_EXPECT(type, size64)                                              \
    do {                                                                      \
        if (sizeof(void *) == 8 && sizeof(type) != (size64)) {                \
            printf("sizeof(" #type ") = %u, ABI says %u\n",                   \
                   (unsigned)sizeof(type), (unsigned)(size64));               \
            bad++;                                                            \
        }                                                                     \
    } while (0)

static int abi_check_structs(void)
{
    int bad = 0;
    ABI_EXPECT(goconc_once, 16);
    ABI_EXPECT(goconc_allocator, 32);
    ABI_EXPECT(goconc_view, 56);
    ABI_EXPECT(goconc_map_options, 56);
    ABI_EXPECT(goconc_map_stats, 72);
    ABI_EXPECT(goconc_pool_options, 48);
    ABI_EXPECT(goconc_pool_stats, 56);
    ABI_EXPECT(goconc_reclaim_stats, 40);
    ABI_EXPECT(struct goconc_reader, 8);
    ABI_EXPECT(struct goconc_gp_state, 16);
    if (ABI_ALIGNOF(goconc_once) < 8) {
        printf("goconc_once is not 8-aligned\n");
        bad++;
    }
    return bad;
}
