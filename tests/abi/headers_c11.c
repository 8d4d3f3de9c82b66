/* SPDX-License-Identifier: MIT */
/* The public headers as strict C11 (-pedantic-errors -Werror), their inline
 * fast paths linked against the library, and the struct sizes. */
#include "goconc.h"
#include "structs.h"

int main(void)
{
    goconc_once once = GOCONC_ONCE_INIT;
    goconc_map_options mo = GOCONC_MAP_OPTIONS_INIT;
    goconc_pool_options po = GOCONC_POOL_OPTIONS_INIT;
    int bad = abi_check_structs();

    goconc_read_lock();
    goconc_read_lock();
    goconc_read_unlock();
    goconc_read_unlock();
    bad += goconc_once_done(&once) != 0;
    bad += goconc_value_load(NULL) != NULL;
    bad += mo.struct_size != sizeof mo || po.struct_size != sizeof po;
    bad += goconc_version_number() != GOCONC_VERSION_NUMBER;
    return bad != 0;
}
