/* SPDX-License-Identifier: MIT */
/*
 * lincheck.c - Wing & Gong's linearizability search with Lowe's
 * memoisation (lincheck.h, doc/testing.md).
 *
 * The history becomes a list of call and return entries in time order.
 * The search walks it: at a call entry it tries to linearize that
 * operation next (the model must accept its recorded result, and the
 * resulting (linearized set, state) pair must be new, else an equivalent
 * configuration was already explored); a linearized operation's call and
 * return entries leave the list, and the walk restarts at the front.
 * Reaching a return entry means that operation had to take effect before
 * anything later, and did not: undo the last choice and try the next
 * candidate.  The history is linearizable when the list empties, and is
 * not when there is no choice left to undo.
 */
#include "lincheck.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "goconc/common.h"
#include "goconc/map.h"

#define LC_DEFAULT_BUDGET (UINT64_C(1) << 22)

/* ---------------------------------------------------------- the model */

int lc_update_action(int mode, int found)
{
    switch (mode) {
    case LC_UPD_SET:
        return GOCONC_UPDATE_STORE;
    case LC_UPD_REPLACE:
        return found ? GOCONC_UPDATE_STORE : GOCONC_UPDATE_KEEP;
    case LC_UPD_TOGGLE:
        return found ? GOCONC_UPDATE_DELETE : GOCONC_UPDATE_STORE;
    case LC_UPD_KEEP:
        return GOCONC_UPDATE_KEEP;
    default:
        return LC_UPD_ABORT_STATUS;
    }
}

static uint64_t spec_update(uint64_t s, struct lc_op *op)
{
    int act = lc_update_action(op->mode, s != LC_ABSENT);
    op->out = s;
    op->status = GOCONC_OK;
    switch (act) {
    case GOCONC_UPDATE_STORE:
        return op->arg;
    case GOCONC_UPDATE_DELETE:
        return LC_ABSENT;
    case GOCONC_UPDATE_KEEP:
        return s;
    default:
        op->status = act;
        return s;
    }
}

/* The compare of map CAS and compare_and_delete: an absent key is
 * NOTFOUND whatever old was. */
static int map_compare(uint64_t s, uint64_t old)
{
    if (s == LC_ABSENT)
        return GOCONC_NOTFOUND;
    return s == old ? GOCONC_OK : GOCONC_CHANGED;
}

uint64_t lc_spec(uint64_t s, struct lc_op *op)
{
    int found = s != LC_ABSENT;
    op->status = GOCONC_OK;
    op->out = LC_ABSENT;
    switch (op->kind) {
    case LC_STORE:
        return op->arg;
    case LC_LOAD:
        op->status = found ? GOCONC_OK : GOCONC_NOTFOUND;
        op->out = s;
        return s;
    case LC_DELETE:
        op->status = found ? GOCONC_OK : GOCONC_NOTFOUND;
        return LC_ABSENT;
    case LC_SWAP:
        op->status = found ? GOCONC_OK : GOCONC_NOTFOUND;
        op->out = s;
        return op->arg;
    case LC_CAS:
        op->status = map_compare(s, op->old);
        return op->status == GOCONC_OK ? op->arg : s;
    case LC_CAD:
        op->status = map_compare(s, op->old);
        return op->status == GOCONC_OK ? LC_ABSENT : s;
    case LC_LOAD_OR_STORE:
        if (!found)
            return op->arg;
        op->status = GOCONC_EXISTS;
        op->out = s;
        return s;
    case LC_LOAD_AND_DELETE:
        op->status = found ? GOCONC_OK : GOCONC_NOTFOUND;
        op->out = s;
        return LC_ABSENT;
    case LC_UPDATE:
        return spec_update(s, op);
    case LC_VALUE_CAS:
        op->status = s == op->old ? GOCONC_OK : GOCONC_CHANGED;
        return op->status == GOCONC_OK ? op->arg : s;
    default:
        /* An unknown kind matches no recorded result. */
        op->status = GOCONC_EINVAL;
        op->out = ~(uint64_t)0;
        return s;
    }
}

int lc_apply(uint64_t s, const struct lc_op *op, uint64_t *next)
{
    struct lc_op want = *op;
    uint64_t n = lc_spec(s, &want);
    if (op->kind >= LC_NKINDS || want.status != op->status || want.out != op->out)
        return 0;
    *next = n;
    return 1;
}

/* ------------------------------------------------------ the entry list */

struct entry {
    struct entry *prev, *next;
    struct entry *match;    /* call <-> return of the same operation */
    uint64_t time;
    uint32_t op;
    int is_call;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    /* A call before a return at the same time: such operations count as
     * overlapping, so a tie never makes a history fail. */
    return y->is_call - x->is_call;
}

/* Take a call entry and its return out of the list. */
static void lift(struct entry *e)
{
    struct entry *m = e->match;
    e->prev->next = e->next;
    e->next->prev = e->prev;    /* a call always has its return after it */
    m->prev->next = m->next;
    if (m->next != NULL)
        m->next->prev = m->prev;
}

/* Undo lift(e): the neighbours they had are unchanged since. */
static void unlift(struct entry *e)
{
    struct entry *m = e->match;
    m->prev->next = m;
    if (m->next != NULL)
        m->next->prev = m;
    e->prev->next = e;
    e->next->prev = e;
}

/* ------------------------------------------- memo: (bitset, state) set */

/*
 * Records are (state, bitset words...) in one array; the table holds
 * record numbers + 1, open addressing.  The bitset's hash is kept
 * incrementally (Zobrist: xor of one random word per linearized
 * operation), so a probe hashes one word, not the whole set.
 */
struct memo {
    uint64_t *rec;
    size_t nrec;
    size_t rec_words;       /* capacity of rec, in words */
    uint64_t *hash;         /* each record's full hash, for regrowth */
    size_t hash_cap;
    uint32_t *slot;
    size_t mask;            /* slots - 1 */
    size_t words;           /* bitset words per record */
};

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t zobrist(uint32_t op) { return mix64((uint64_t)op + 0x9e3779b97f4a7c15ull); }

#define MEMO_MIN_SLOTS 1024u
#define MEMO_KEEP_SLOTS (1u << 16)

static int memo_reset(struct memo *m, size_t words)
{
    m->words = words;
    m->nrec = 0;
    /* After one huge search, don't clear its table for every small one. */
    if (m->slot != NULL && m->mask + 1 > MEMO_KEEP_SLOTS) {
        free(m->slot);
        m->slot = NULL;
    }
    if (m->slot == NULL) {
        m->mask = MEMO_MIN_SLOTS - 1;
        m->slot = calloc(m->mask + 1, sizeof *m->slot);
        if (m->slot == NULL)
            return -1;
    } else {
        memset(m->slot, 0, (m->mask + 1) * sizeof *m->slot);
    }
    return 0;
}

static uint64_t *memo_rec(const struct memo *m, size_t i) { return m->rec + i * (1 + m->words); }

static int memo_grow_table(struct memo *m)
{
    size_t cap = (m->mask + 1) * 2, i;
    uint32_t *s;
    if (cap > UINT32_MAX || (s = calloc(cap, sizeof *s)) == NULL)
        return -1;
    free(m->slot);
    m->slot = s;
    m->mask = cap - 1;
    for (i = 0; i < m->nrec; i++) {
        size_t j = m->hash[i] & m->mask;
        while (s[j] != 0)
            j = (j + 1) & m->mask;
        s[j] = (uint32_t)(i + 1);
    }
    return 0;
}

/* ------------------------------------------------------------ checker */

struct frame {
    struct entry *call;
    uint64_t state;
};

struct lc_checker {
    uint64_t budget;
    struct entry *ent;
    struct frame *stack;
    uint64_t *bits;         /* the linearized set */
    size_t cap;             /* operations the arrays above hold */
    struct memo memo;
};

struct lc_checker *lc_checker_new(uint64_t budget)
{
    struct lc_checker *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->budget = budget ? budget : LC_DEFAULT_BUDGET;
    return c;
}

void lc_checker_free(struct lc_checker *c)
{
    if (c == NULL)
        return;
    free(c->ent);
    free(c->stack);
    free(c->bits);
    free(c->memo.hash);
    free(c->memo.rec);
    free(c->memo.slot);
    free(c);
}

static int reserve_ops(struct lc_checker *c, size_t n)
{
    size_t words = n / 64 + 1;
    void *e, *s, *b;
    if (n <= c->cap)
        return 0;
    e = realloc(c->ent, (2 * n + 1) * sizeof *c->ent);
    if (e != NULL)
        c->ent = e;
    s = realloc(c->stack, n * sizeof *c->stack);
    if (s != NULL)
        c->stack = s;
    b = realloc(c->bits, words * sizeof *c->bits);
    if (b != NULL)
        c->bits = b;
    if (e == NULL || s == NULL || b == NULL)
        return -1;
    c->cap = n;
    return 0;
}

/* Make room for one more record; -1 out of memory. */
static int memo_reserve(struct memo *m)
{
    if ((m->nrec + 1) * (1 + m->words) > m->rec_words) {
        size_t cap = m->rec_words ? m->rec_words * 2 : 4096;
        void *p = realloc(m->rec, cap * sizeof(uint64_t));
        if (p == NULL)
            return -1;
        m->rec = p;
        m->rec_words = cap;
    }
    if (m->nrec == m->hash_cap) {
        size_t cap = m->hash_cap ? m->hash_cap * 2 : 1024;
        void *p = realloc(m->hash, cap * sizeof *m->hash);
        if (p == NULL)
            return -1;
        m->hash = p;
        m->hash_cap = cap;
    }
    return 0;
}

/* Insert (bits, state), zh being the Zobrist hash of bits: 1 if new, 0 if
 * already there, -1 out of memory. */
static int memo_insert(struct memo *m, const uint64_t *bits, uint64_t zh, uint64_t state)
{
    uint64_t h = zh ^ mix64(state ^ 0x5851f42d4c957f2dull);
    size_t j = h & m->mask, bytes = m->words * sizeof(uint64_t);
    uint64_t *r;
    for (; m->slot[j] != 0; j = (j + 1) & m->mask) {
        size_t i = m->slot[j] - 1;
        r = memo_rec(m, i);
        if (m->hash[i] == h && r[0] == state && memcmp(r + 1, bits, bytes) == 0)
            return 0;
    }
    if (memo_reserve(m) != 0)
        return -1;
    r = memo_rec(m, m->nrec);
    r[0] = state;
    memcpy(r + 1, bits, bytes);
    m->hash[m->nrec] = h;
    m->slot[j] = (uint32_t)(++m->nrec);
    if (m->nrec * 2 > m->mask && memo_grow_table(m) != 0)
        return -1;
    return 1;
}

/* Build the time-ordered entry list; returns its head sentinel. */
static struct entry *build_list(struct lc_checker *c, const struct lc_op *ops, size_t n)
{
    struct entry *e = c->ent + 1, *head = c->ent;
    size_t i;
    for (i = 0; i < n; i++) {
        e[2 * i] = (struct entry){ NULL, NULL, NULL, ops[i].call, (uint32_t)i, 1 };
        e[2 * i + 1] = (struct entry){ NULL, NULL, NULL, ops[i].ret, (uint32_t)i, 0 };
    }
    qsort(e, 2 * n, sizeof *e, entry_cmp);
    /* Pair each call with its return now that sorting has moved them; the
     * search stack, unused yet, holds each operation's call meanwhile.  A
     * call sorts before its return: call <= ret, and ties put calls first. */
    for (i = 0; i < 2 * n; i++) {
        if (e[i].is_call) {
            c->stack[e[i].op].call = &e[i];
        } else {
            e[i].match = c->stack[e[i].op].call;
            e[i].match->match = &e[i];
        }
        e[i].prev = i ? &e[i - 1] : head;
        e[i].next = i + 1 < 2 * n ? &e[i + 1] : NULL;
    }
    *head = (struct entry){ NULL, n ? &e[0] : NULL, NULL, 0, 0, 0 };
    return head;
}

static void bit_flip(uint64_t *bits, uint32_t i) { bits[i / 64] ^= UINT64_C(1) << (i % 64); }

enum lc_verdict lc_check(struct lc_checker *c, const struct lc_op *ops, size_t n, uint64_t init,
                         struct lc_stats *st)
{
    struct lc_stats local = { 0, 0, 0 };
    enum lc_verdict v = LC_UNDECIDED;
    struct entry *head, *e;
    size_t depth = 0, words = n / 64 + 1;
    uint64_t state = init, zh = 0;

    if (st == NULL)
        st = &local;
    *st = local;
    for (size_t i = 0; i < n; i++)
        if (ops[i].ret < ops[i].call)
            return LC_MALFORMED;
    if (n > UINT32_MAX / 2 || reserve_ops(c, n) != 0)
        return LC_UNDECIDED;
    if (memo_reset(&c->memo, words) != 0)
        return LC_UNDECIDED;
    memset(c->bits, 0, words * sizeof *c->bits);
    head = build_list(c, ops, n);
    e = head->next;

    while (head->next != NULL) {
        if (++st->steps > c->budget)
            goto out;
        if (e->is_call) {
            uint64_t next;
            int fresh = 0;
            if (lc_apply(state, &ops[e->op], &next)) {
                bit_flip(c->bits, e->op);
                zh ^= zobrist(e->op);
                fresh = memo_insert(&c->memo, c->bits, zh, next);
                if (fresh < 0)
                    goto out;
                if (!fresh) {
                    bit_flip(c->bits, e->op);
                    zh ^= zobrist(e->op);
                }
            }
            if (fresh) {
                c->stack[depth++] = (struct frame){ e, state };
                if (depth > st->deepest)
                    st->deepest = depth;
                state = next;
                lift(e);
                e = head->next;
            } else {
                e = e->next;
            }
        } else {
            struct frame f;
            if (depth == 0) {
                v = LC_VIOLATION;
                goto out;
            }
            f = c->stack[--depth];
            state = f.state;
            bit_flip(c->bits, f.call->op);
            zh ^= zobrist(f.call->op);
            unlift(f.call);
            e = f.call->next;
        }
    }
    v = LC_LINEARIZABLE;
out:
    st->states = c->memo.nrec;
    return v;
}

/* ------------------------------------------------------------- output */

const char *lc_kind_name(int kind)
{
    static const char *const names[LC_NKINDS] = {
        "store", "load", "delete", "swap", "compare_and_swap", "compare_and_delete",
        "load_or_store", "load_and_delete", "update", "value_compare_and_swap",
    };
    return kind >= 0 && kind < LC_NKINDS ? names[kind] : "?";
}

static int op_call_cmp(const void *a, const void *b)
{
    const struct lc_op *const *x = a, *const *y = b;
    return (*x)->call < (*y)->call ? -1 : (*x)->call > (*y)->call;
}

static const char *status_name(int status)
{
    switch (status) {
    case GOCONC_OK: return "OK";
    case GOCONC_NOTFOUND: return "NOTFOUND";
    case GOCONC_EXISTS: return "EXISTS";
    case GOCONC_CHANGED: return "CHANGED";
    case LC_UPD_ABORT_STATUS: return "aborted";
    default: return goconc_strerror(status);
    }
}

static void dump_op(FILE *f, const struct lc_op *op)
{
    static const char *const modes[LC_UPD_NMODES] = { "set", "replace", "toggle", "keep",
                                                      "abort" };
    fprintf(f, "  [%8" PRIu64 ", %8" PRIu64 "] t%-2u %-22s", op->call, op->ret, op->thread,
            lc_kind_name(op->kind));
    if (op->kind == LC_UPDATE)
        fprintf(f, " %s", op->mode < LC_UPD_NMODES ? modes[op->mode] : "?");
    if (op->kind == LC_CAS || op->kind == LC_CAD || op->kind == LC_VALUE_CAS)
        fprintf(f, " old %#" PRIx64, op->old);
    if (op->kind == LC_STORE || op->kind == LC_SWAP || op->kind == LC_CAS ||
        op->kind == LC_LOAD_OR_STORE || op->kind == LC_UPDATE || op->kind == LC_VALUE_CAS)
        fprintf(f, " arg %#" PRIx64, op->arg);
    fprintf(f, " -> %s", status_name(op->status));
    if (op->out != LC_ABSENT)
        fprintf(f, " out %#" PRIx64, op->out);
    fputc('\n', f);
}

void lc_dump(FILE *f, const struct lc_op *ops, size_t n, uint64_t init)
{
    const struct lc_op **v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    fprintf(f, "  initial %#" PRIx64 ", %zu operations:\n", init, n);
    if (v == NULL) {
        for (i = 0; i < n; i++)
            dump_op(f, &ops[i]);
        return;
    }
    for (i = 0; i < n; i++)
        v[i] = &ops[i];
    qsort(v, n, sizeof *v, op_call_cmp);
    for (i = 0; i < n; i++)
        dump_op(f, v[i]);
    free(v);
}
