/* SPDX-License-Identifier: MIT */
/*
 * table.c - tables and out-of-line entries: allocation, zeroing, the
 * walk that drops a table's entries, and the destroys that retire them.
 * Slot writes are in slot.c, the migration that fills a new table in
 * migrate.c.
 */
#include "map/table.h"

_Static_assert(sizeof(struct map_bucket) == MAP_BUCKET_BYTES, "bucket is two cache lines");
_Static_assert(sizeof(AO_t) == 8, "the map keeps 8-byte words inline");
_Static_assert(sizeof(struct map_table) == 64, "table header: the line before the buckets");
_Static_assert(offsetof(struct map_bucket, s[3]) == 64,
               "meta, stamps and slots 0..2 in the first line");
_Static_assert(MAP_MAX_LOG2 < 64, "log2 fits the six low bits of a current-table word");

/* ------------------------------------------------------ tables, entries */

struct map_table *map_table_new(unsigned log2, map_drop_fn drop, int zero)
{
    size_t nb = (size_t)1 << log2;
    size_t bytes = sizeof(struct map_table) + 63 + nb * MAP_BUCKET_BYTES + map_ctrl_bytes(log2);
    unsigned how;
    void *raw = gc_alloc_big(bytes, &how);
    struct map_table *t;
    struct map_bucket *bkt;

    if (raw == NULL)
        return NULL;
    /* Buckets 64-byte aligned, the header in the 64 bytes before them,
     * the control words right after them. */
    bkt = (struct map_bucket *)(((uintptr_t)raw + sizeof *t + 63) & ~(uintptr_t)63);
    t = (struct map_table *)bkt - 1;
    at_storep(&t->next, NULL);
    t->mask = nb - 1;
    t->log2 = log2;
    t->walk = 0;
    t->bkt = bkt;
    /* Where readers find it from the current-table word: one formula. */
    t->ctrl = (atword *)map_ctrl_addr(map_cur(t));
    t->raw = raw;
    t->bytes = bytes;
    t->how = (unsigned char)how;
    t->drop = drop;
    /* Published later by a release store (cur[s] or T->next).  A fresh
     * mapping is zero already: writing it would fault in every page of
     * a table made big by a capacity hint before any store. */
    if (zero && !(how & GC_BIG_ZERO))
        map_table_zero(t, 0, nb);
    return t;
}

void map_table_zero(struct map_table *t, size_t from, size_t n)
{
    memset((void *)&t->ctrl[from], 0, n * sizeof(atword));
    memset(&t->bkt[from], 0, n * MAP_BUCKET_BYTES);
}

void map_table_free_now(struct map_table *t)
{
    gc_free_big(t->raw, t->bytes, t->how);
}

void map_table_drop_all(struct map_table *t, void *ctx)
{
    size_t b;
    unsigned i;

    for (b = 0; b <= t->mask; b++) {
        struct map_bucket *bk = &t->bkt[b];
        uint64_t ctrl = at_load(&t->ctrl[b]), meta, live = ctrl & MAP_HIGH7;
        /* A MOVED bucket's entries belong to the next table. */
        if ((ctrl & MAP_CTRL_MOVED) || live == 0)
            continue;
        meta = at_load(&bk->meta);
        for (; live; live &= live - 1) {
            struct map_view v;
            i = map_first(live);
            map_slot_view(&bk->s[i], map_lens(meta, i), &v);
            if (t->drop)
                t->drop(ctx, v.key, v.klen, v.val, v.vlen);
            if (map_lens(meta, i) == MAP_LENS_OOL)
                gc_block_free(at_loadp(&bk->s[i].k), map_entry_size(v.klen, v.vlen));
        }
    }
}

void map_table_destroy(void *ctx, void *obj)
{
    struct map_table *t = obj;
    if (t->walk)
        map_table_drop_all(t, ctx);
    map_table_free_now(t);
}

struct map_entry *map_entry_new(map_drop_fn drop, const void *key, size_t klen,
                                const void *val, size_t vlen)
{
    struct map_entry *e = gc_block_alloc(map_entry_size(klen, vlen));
    if (e == NULL)
        return NULL;
    e->drop = drop;
    e->klen = klen;
    e->vlen = vlen;
    if (klen)
        memcpy(e->data, key, klen);
    if (vlen)
        memcpy(e->data + klen, val, vlen);
    return e;
}

void map_entry_destroy(void *ctx, void *obj)
{
    struct map_entry *e = obj;
    if (e->drop)
        e->drop(ctx, e->data, e->klen, map_entry_val(e), e->vlen);
    gc_block_free(e, map_entry_size(e->klen, e->vlen));
}
