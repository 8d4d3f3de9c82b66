/* SPDX-License-Identifier: MIT */
/*
 * status.c - status strings and version of the loaded library.
 */
#include "core/internal.h"

#define GC_STR2(x) #x
#define GC_STR(x) GC_STR2(x)

GOCONC_API const char *goconc_strerror(int status)
{
    switch (status) {
    case GOCONC_OK: return "success";
    case GOCONC_NOTFOUND: return "not found";
    case GOCONC_EXISTS: return "a value already exists";
    case GOCONC_CHANGED: return "the current value differs from the expected one";
    case GOCONC_STOPPED: return "iteration stopped by its callback";
    case GOCONC_ENOMEM: return "out of memory (the object is unchanged)";
    case GOCONC_EBUSY: return "busy: not allowed while objects are alive";
    case GOCONC_EINVAL: return "invalid argument";
    case GOCONC_ERANGE: return "index or bounds out of range, or buffer too small";
    case GOCONC_EDEADLK: return "the call would deadlock";
    case GOCONC_EOVERFLOW: return "size computation overflows";
    default: return "unknown status";
    }
}

GOCONC_API unsigned goconc_version_number(void)
{
    return GOCONC_VERSION_NUMBER;
}

GOCONC_API const char *goconc_version_string(void)
{
    return GC_STR(GOCONC_VERSION_MAJOR) "." GC_STR(GOCONC_VERSION_MINOR) "."
        GC_STR(GOCONC_VERSION_PATCH);
}
