/*
 * goconc.h - libgoconc umbrella header: Go's concurrency-safe containers
 * for C, with a stable C ABI (libgoconc.so.1).
 */
#ifndef GOCONC_H
#define GOCONC_H

#include "goconc/common.h"
#include "goconc/slice.h"
#include "goconc/map.h"
#include "goconc/value.h"
#include "goconc/once.h"
#include "goconc/pool.h"

#endif /* GOCONC_H */
