/* SPDX-License-Identifier: MIT */
/*
 * opts.c - the struct_size conventions of options and stats structs
 * (API.md, "Conventions").
 */
#include <string.h>

#include "core/internal.h"

/*
 * The struct_size rules of API.md: at least the 1.0 size, and any bytes
 * beyond the library's own struct zero.  Returns the caller's size, or 0
 * for a struct to reject.
 */
static size_t struct_size_ok(const void *user, size_t local_size, size_t min_size)
{
    const unsigned char *p = user;
    size_t n, i;

    if (user == NULL)
        return 0;
    memcpy(&n, user, sizeof n);
    if (n < min_size)
        return 0;
    for (i = local_size; i < n; i++)
        if (p[i] != 0)
            return 0;
    return n;
}

int gc_opts_copy(void *local, size_t local_size, size_t min_size, const void *user)
{
    size_t n = struct_size_ok(user, local_size, min_size);
    if (n == 0)
        return GOCONC_EINVAL;
    memset(local, 0, local_size);
    memcpy(local, user, n < local_size ? n : local_size);
    memcpy(local, &local_size, sizeof local_size);
    return GOCONC_OK;
}

int gc_stats_out(void *user, const void *local, size_t local_size, size_t min_size)
{
    size_t n = struct_size_ok(user, local_size, min_size);
    if (n == 0)
        return GOCONC_EINVAL;
    /* The caller's struct keeps its own struct_size; fields we do not know
     * of (a newer header) are left alone rather than zeroed. */
    memcpy((char *)user + sizeof n, (const char *)local + sizeof n,
           (n < local_size ? n : local_size) - sizeof n);
    return GOCONC_OK;
}
