/* SPDX-License-Identifier: MIT */
/*
 * table.h - allocation, zeroing and destruction of tables and of
 * out-of-line entries (table.c).  Nothing here takes a lock or knows of
 * migrations: callers hold the shard's lock, or own the object alone.
 */
#ifndef GOCONC_MAP_TABLE_H
#define GOCONC_MAP_TABLE_H

#include "map/layout.h"

/* Table of 2^log2 buckets; zeroed now only if `zero`.  NULL on ENOMEM. */
struct map_table *map_table_new(unsigned log2, map_drop_fn drop, int zero);
/* Zero buckets [from, from + n) of t: control words and entries.  The
 * entries need it only for their page faults: zeroing them in order
 * (ZEROING) spreads the faults evenly over writes instead of leaving
 * them to the moves, which land in random pages, several per write. */
void map_table_zero(struct map_table *t, size_t from, size_t n);
void map_table_free_now(struct map_table *t);
/* Retire destroy for tables: frees, after dropping entries if t->walk. */
void map_table_destroy(void *ctx, void *obj);
/* Drop t's live entries (unmoved buckets) now: on_drop + free OOL. */
void map_table_drop_all(struct map_table *t, void *ctx);

/* The longest key a write accepts (GOCONC_EOVERFLOW beyond): no object
 * in memory is longer than PTRDIFF_MAX. */
#define MAP_KLEN_MAX ((size_t)PTRDIFF_MAX)
struct map_entry *map_entry_new(map_drop_fn drop, const void *key, size_t klen,
                                const void *val, size_t vlen);
/* Bytes of an entry, SIZE_MAX when that does not fit a size_t. */
static inline size_t map_entry_size(size_t klen, size_t vlen)
{
    size_t n = sizeof(struct map_entry);
    if (klen > SIZE_MAX - n || vlen > SIZE_MAX - n - klen)
        return SIZE_MAX;
    return n + klen + vlen;
}
/* Retire destroy for entries (ctx = the map's ctx): on_drop, free. */
void map_entry_destroy(void *ctx, void *obj);

#endif /* GOCONC_MAP_TABLE_H */
