/* SPDX-License-Identifier: MIT */
/*
 * goconc.h - libgoconc umbrella header: Go's concurrency-safe containers
 * for C, with a stable C ABI (libgoconc.so.1).
 *
 * Each function's contract is in the comment above its declaration; the
 * conventions they share (statuses, NULL and zero lengths, struct_size,
 * callbacks, read sections, thread-safety, fork, allocator) are at the top
 * of goconc/common.h.  The full reference is doc/api.md and the man pages
 * goconc(3), goconc_map(3), goconc_slice(3), goconc_value(3),
 * goconc_once(3), goconc_pool(3) and goconc_reclaim(3).
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
