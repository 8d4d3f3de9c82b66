/* SPDX-License-Identifier: MIT */
/* consumer.c - a program built against an installed libgoconc (by
 * pkg-config, statically and dynamically) or as a Meson subproject. */
#include <stdio.h>

#include <goconc.h>

#if !GOCONC_CHECK_VERSION(1, 0, 0) || GOCONC_CHECK_VERSION(GOCONC_VERSION_MAJOR + 1, 0, 0)
#error "GOCONC_CHECK_VERSION disagrees with the header's version"
#endif

int main(void)
{
    goconc_map *m;
    char v[4];
    size_t n = 0;

    if (goconc_map_new(&m, NULL) != GOCONC_OK || goconc_map_store(m, "k", 1, "v", 1) != GOCONC_OK ||
        goconc_map_load(m, "k", 1, v, sizeof v, &n) != GOCONC_OK || n != 1 || v[0] != 'v')
        return 1;
    goconc_map_free(m);
    if (goconc_version_number() != GOCONC_VERSION_NUMBER)
        return 1;
    printf("consumer: ok (%s)\n", goconc_version_string());
    return 0;
}
