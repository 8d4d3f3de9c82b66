/* SPDX-License-Identifier: MIT */
/*
 * lincheck.h - a linearizability checker for single-key histories of the
 * map and of goconc_value (doc/testing.md).
 *
 * Each checked object is a register that holds one value id or nothing:
 * one map key, or one goconc_value.  Threads record every operation with
 * an invoke and a response timestamp taken from one global counter, so
 * that a precedes b in real time exactly when a.ret < b.call.  lc_check()
 * then searches for a sequential order that respects real time and in
 * which every operation returns what it returned in the run (Wing & Gong
 * with Lowe's memoisation of (linearized set, model state), as in
 * Porcupine).  Map keys are independent objects, so a map history is
 * checked one key at a time (P-compositionality).
 *
 * Value ids are nonzero 64-bit numbers, unique per write so that a read
 * names the one write it saw; LC_ABSENT (0) stands for "no value".
 */
#ifndef GOCONC_LINCHECK_H
#define GOCONC_LINCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LC_ABSENT 0u

/*
 * The operations, in the map's vocabulary; statuses are goconc's.  arg is
 * the value an operation writes, old the one it compares with, out what it
 * returned (LC_ABSENT when it returns no value).
 */
enum lc_kind {
    LC_STORE,           /* store arg; OK */
    LC_LOAD,            /* OK out | NOTFOUND (also peek, value load/acquire) */
    LC_DELETE,          /* OK | NOTFOUND */
    LC_SWAP,            /* store arg; OK out=previous | NOTFOUND (was absent) */
    LC_CAS,             /* map: OK (stored arg) | CHANGED | NOTFOUND */
    LC_CAD,             /* compare_and_delete: OK | CHANGED | NOTFOUND */
    LC_LOAD_OR_STORE,   /* OK (stored arg) | EXISTS out */
    LC_LOAD_AND_DELETE, /* OK out | NOTFOUND */
    LC_UPDATE,          /* fn of `mode` saw out; OK | LC_UPD_ABORT_STATUS */
    LC_VALUE_CAS,       /* value: OK (old matched, LC_ABSENT = empty) | CHANGED */
    LC_NKINDS
};

/*
 * What an update function does, chosen before the call; the function then
 * decides from what it finds (lc_update_action), so the model can replay
 * it.
 */
enum lc_update_mode {
    LC_UPD_SET,     /* STORE arg */
    LC_UPD_REPLACE, /* found: STORE arg, else KEEP */
    LC_UPD_TOGGLE,  /* found: DELETE, else STORE arg */
    LC_UPD_KEEP,    /* KEEP: a read under the key's write side */
    LC_UPD_ABORT,   /* return LC_UPD_ABORT_STATUS: nothing may change */
    LC_UPD_NMODES
};
#define LC_UPD_ABORT_STATUS (-1000)

struct lc_op {
    uint64_t call, ret; /* invoke and response timestamps */
    uint64_t arg, old, out;
    int status;
    uint16_t kind, mode;
    uint32_t thread;    /* for lc_dump only */
};

/* GOCONC_UPDATE_KEEP/STORE/DELETE or LC_UPD_ABORT_STATUS: what an update
 * function of @p mode returns when it finds (or not) the key. */
int lc_update_action(int mode, int found);

/* The sequential specification: fill op->status and op->out with what @p
 * op returns on a register holding @p state, return the state after it. */
uint64_t lc_spec(uint64_t state, struct lc_op *op);

/* 1 and *next set if @p op's recorded result is the one lc_spec gives. */
int lc_apply(uint64_t state, const struct lc_op *op, uint64_t *next);

enum lc_verdict {
    LC_LINEARIZABLE,
    LC_VIOLATION,
    LC_UNDECIDED,   /* out of budget or memory: neither proven */
    LC_MALFORMED    /* an operation returned before it was invoked */
};

struct lc_stats {
    uint64_t steps;   /* search steps taken */
    uint64_t states;  /* distinct (linearized set, state) pairs memoised */
    size_t deepest;   /* most operations linearized at once */
};

/* A checker owns its scratch memory, reused from one check to the next.
 * @p budget caps the search steps of one lc_check (0: 1 << 22). */
struct lc_checker *lc_checker_new(uint64_t budget);
void lc_checker_free(struct lc_checker *c);

/*
 * Is the history ops[0..n) of one object, starting from state @p init,
 * linearizable?  LC_UNDECIDED when the search ran out of budget (or of
 * memory) before finding an order or exhausting the candidates.  @p st may
 * be NULL.  Order of ops in the array does not matter; each needs
 * call <= ret (else LC_MALFORMED), and operations whose timestamps tie
 * count as overlapping.
 */
enum lc_verdict lc_check(struct lc_checker *c, const struct lc_op *ops, size_t n,
                         uint64_t init, struct lc_stats *st);

const char *lc_kind_name(int kind);
/* Print the history sorted by invoke time, one operation per line. */
void lc_dump(FILE *f, const struct lc_op *ops, size_t n, uint64_t init);

#endif
