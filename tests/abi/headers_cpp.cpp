/* SPDX-License-Identifier: MIT */
// The public headers as C++11 (-pedantic-errors -Werror), their inline fast
// paths linked against the library, and the struct sizes.
#include "goconc.h"
#include "structs.h"

int main()
{
    goconc_once once = GOCONC_ONCE_INIT;
    goconc_map_options mo = GOCONC_MAP_OPTIONS_INIT;
    int bad = abi_check_structs();

    goconc_read_lock();
    goconc_read_unlock();
    bad += goconc_once_done(&once) != 0;
    bad += goconc_value_load(nullptr) != nullptr;
    bad += mo.struct_size != sizeof mo;
    return bad != 0;
}
