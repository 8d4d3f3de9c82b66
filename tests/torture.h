/* SPDX-License-Identifier: MIT */
/*
 * torture.h - what the torture's files share.  tests/torture.c has the
 * overview, the threads and main; torture_map.c the two maps;
 * torture_obj.c tracked objects, value, pool, deferred frees and the
 * stash; torture_seq.c once and slice.
 */
#ifndef TORTURE_H
#define TORTURE_H

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goconc.h"

#define ld(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define st(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

/* ------------------------------------------------- run (torture.c) */

extern uint64_t seed0;
extern int quiet;
/* -K: leave out the checks that hit core bugs known and being fixed
 * (doc/torture.md lists them), to look for other failures meanwhile. */
extern int skip_known;
extern int stop;
extern unsigned nslots;
extern struct slot *slots;
extern _Thread_local uint64_t tl_checks;

/* Count a failure; print the first 20 with the seed and where. */
void fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        tl_checks++;                                                        \
        if (!(cond))                                                        \
            fail_at(__FILE__, __LINE__, __VA_ARGS__);                       \
    } while (0)

static inline uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t check_word(uint64_t id)
{
    return id * 0xff51afd7ed558ccdull ^ 0x5bd1e995u;
}

/* ----------------------------------------------------------- slots */

/*
 * A slot is one worker's identity: the map keys it owns and their exact
 * model, its slice sequence and private slice.  An ephemeral slot's state
 * passes from one short-lived thread to the next through pthread_join.
 */
#define KPS 48                  /* map keys owned per slot */
#define PRIV_LEN 64             /* private slice elements */
#define MAX_HELD 8

struct slot {
    unsigned idx;
    int ephemeral;
    uint64_t rng;
    uint32_t ver[KPS];          /* newest version used per owned key */
    uint32_t model[KPS];        /* current version, 0 = absent */
    uint64_t app_seq;           /* elements appended to the shared slice */
    goconc_slice *priv;         /* private slice and its model */
    uint64_t priv_model[PRIV_LEN];
    pthread_t ctl;
    uint64_t beats;             /* ops done, for the watchdog (atomic) */
    int cur_op;                 /* the op running now (atomic) */
};

/* What a running thread holds; an exiting one hands it to the stash. */
struct held {
    struct tobj *pool_obj[MAX_HELD];
    uint64_t token[MAX_HELD];   /* what this holder wrote into each */
    unsigned npool;
    goconc_value_ref *refs[MAX_HELD];
    unsigned nrefs;
    goconc_view view;           /* a snapshot of the shared slice */
    uint64_t view_sum;
    int has_view;
};

static inline uint64_t rnd(struct slot *s) { return splitmix(&s->rng); }
static inline unsigned rndn(struct slot *s, unsigned n) { return (unsigned)(rnd(s) % n); }

/* ------------------------------------------- maps (torture_map.c) */

int map_setup(void);
void map_reader_begin(void);    /* per thread: the monotonic-version table */
void map_reader_end(void);
void map_set_phase(int drain);
int map_lends(void);            /* 0: the main map has GOCONC_MAP_NO_PEEK */
size_t map_len_now(void);
void map_owner_op(struct slot *s);
void map_read_op(struct slot *s);
void map_peek_op(struct slot *s);
void map_walk_op(struct slot *s);
void map_maintain_op(struct slot *s);
void cmap_op(struct slot *s);

/* A stalled reader's borrowed values, taken and checked in one section. */
#define NPEEKS 8
struct peeks {
    const void *p[NPEEKS];
    size_t len[NPEEKS];
    uint64_t copy[NPEEKS][3], ids[NPEEKS];
};
void map_peeks_take(struct peeks *pk, uint64_t *rng);
void map_peeks_verify(const struct peeks *pk);

void map_final_check(void);
void map_free_all(void);
void map_after_barrier(void);

/* ----------------- tracked objects, value, pool, reclaim (torture_obj.c) */

enum kind { K_VALUE, K_POOL, K_DEFER, K_SYNC, K_COUNT };
struct tobj;
int tobj_ok(const struct tobj *o, enum kind k);

int obj_setup(void);
void val_load_op(struct slot *s);
void val_store_op(void);
void val_swap_op(void);
void val_cas_op(void);
void val_ref_op(struct slot *s, struct held *h);
void pool_get_op(struct slot *s, struct held *h);
void pool_put_op(struct slot *s, struct held *h);
void pool_trim_op(void);
void defer_op(void);
void sync_op(void);
void barrier_op(struct slot *s);
int stash_pop(void);
/* Put back / release what h holds, to the stash when to_stash allows. */
void obj_held_leave(struct held *h, int to_stash);
/* Inside a read section: the synchronize object must be live. */
void check_sync_ptr(const char *where);

/* What a stalled reader holds of the value and synchronize objects. */
struct obj_peek { struct tobj *vo, *so; };
void obj_peek_take(struct obj_peek *pk);
void obj_peek_verify(const struct obj_peek *pk);

void obj_final_check(void);
void obj_free_all(void);
void obj_after_barrier(void);

/* ------------------------------------- once, slice (torture_seq.c) */

int seq_setup(void);
void once_do_op(struct slot *s);
void once_try_op(struct slot *s);
void slice_append_op(struct slot *s);
void slice_view_op(struct slot *s, struct held *h);
void slice_priv_op(struct slot *s);
void slice_held_leave(struct held *h);
void seq_final_check(void);
void seq_free_all(void);


/* A status a bystander call has no use for (goconc's statuses warn if
 * dropped): its effect, not its answer, is what the torture is after. */
static inline void torture_discard(int status) { (void)status; }

#endif
