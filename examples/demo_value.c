/* SPDX-License-Identifier: MIT */
/*
 * demo_value.c - the seed article's atomic.Value scenarios, done safely.
 *
 * 1. Config reload: a reader holds the current configuration while a
 *    writer replaces it.  With a plain pointer and free() the reader
 *    would be reading freed memory; Go's garbage collector hides this,
 *    C has none.  goconc_value frees the old snapshot only after every
 *    read section that could see it has ended and every reference to it
 *    is released.
 * 2. ABA on a reused pointer (article 4.1): a compare-and-swap that
 *    compares addresses succeeds wrongly when the expected object was
 *    freed and a new object got the same address.  goconc's CAS compares
 *    against an object the caller still protects (a read section or a
 *    reference), and a protected object is never freed, so its address
 *    cannot come back while the caller holds it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"

struct config {
    int version;
    char motd[32];
    int destroyed; /* set by destroy instead of freeing: we inspect it */
};

static int destroys;

/* The demo keeps the objects on the stack to inspect them afterwards:
 * "destroy" marks and counts instead of freeing. */
static void config_destroy(void *ctx, void *obj)
{
    struct config *c = obj;
    (void)ctx;
    __atomic_store_n(&c->destroyed, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&destroys, 1, __ATOMIC_RELAXED);
}

static void nap_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------ config reload */

struct reload {
    goconc_value *cfg;
    int stage; /* atomic: 1 reader holds v1, 2 writer stored v2, 3 reader done */
    int ok;
};

static void *reader(void *arg)
{
    struct reload *r = arg;
    const struct config *c;

    goconc_read_lock();
    c = goconc_value_load(r->cfg);
    __atomic_store_n(&r->stage, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&r->stage, __ATOMIC_ACQUIRE) < 2)
        nap_ms(1);
    /* The writer has replaced the config meanwhile: ours is still intact. */
    r->ok = c->version == 1 && strcmp(c->motd, "hello v1") == 0 &&
            !__atomic_load_n(&c->destroyed, __ATOMIC_RELAXED);
    goconc_read_unlock();
    __atomic_store_n(&r->stage, 3, __ATOMIC_RELEASE);
    return NULL;
}

static int config_reload(void)
{
    struct config v1 = { 1, "hello v1", 0 }, v2 = { 2, "hello v2", 0 };
    struct reload r = { NULL, 0, 0 };
    goconc_value_ref *held;
    pthread_t t;
    int held_ok, failed = 0;

    DEMO_TITLE("atomic.Value: a config snapshot replaced under a reader");
    DEMO_SAY("Go: readers Load() a *Config while a reloader Store()s a new one;");
    DEMO_SAY("the garbage collector keeps the old one alive. In C the reloader");
    DEMO_SAY("would free() it while a reader is still using it.");
    if (goconc_value_new(&r.cfg, config_destroy, NULL) != GOCONC_OK ||
        goconc_value_store(r.cfg, &v1) != GOCONC_OK)
        return 1;
    if (pthread_create(&t, NULL, reader, &r) != 0) {
        goconc_value_free(r.cfg);
        return 1;
    }
    while (__atomic_load_n(&r.stage, __ATOMIC_ACQUIRE) < 1)
        nap_ms(1);
    DEMO_SAY("reader: inside a read section, holding config v%d", v1.version);

    /* A second user wants v1 for long work: a counted reference. */
    held = goconc_value_acquire(r.cfg);
    DEMO_MUST(goconc_value_store(r.cfg, &v2));
    DEMO_SAY("writer: stored config v2; v1 destroyed yet? %s",
             __atomic_load_n(&v1.destroyed, __ATOMIC_RELAXED) ? "yes (BUG)" : "no");
    failed |= __atomic_load_n(&v1.destroyed, __ATOMIC_RELAXED);
    __atomic_store_n(&r.stage, 2, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    DEMO_SAY("reader: v1 was still intact when read after the store: %s",
             r.ok ? "yes" : "NO (BUG)");
    failed |= !r.ok;

    DEMO_MUST(goconc_barrier()); /* every pending destroy that may run has run */
    held_ok = !__atomic_load_n(&v1.destroyed, __ATOMIC_RELAXED);
    DEMO_SAY("after the reader left: v1 still alive for the reference holder: %s",
             held_ok ? "yes" : "NO (BUG)");
    failed |= !held_ok;
    goconc_value_free(r.cfg); /* the reference outlives the value handle */
    goconc_value_release(held);
    DEMO_MUST(goconc_barrier());
    DEMO_SAY("reference released, value freed: v1 destroyed %s, v2 destroyed %s,"
             " %d destroys in all",
             v1.destroyed ? "once" : "never", v2.destroyed ? "once" : "never", destroys);
    failed |= !v1.destroyed || !v2.destroyed || destroys != 2;
    return failed;
}

/* ------------------------------------------------------------------ ABA */

struct account {
    long balance;
};

static void account_destroy(void *ctx, void *obj)
{
    (void)ctx;
    free(obj);
}

static struct account *account_new(long balance)
{
    struct account *a = malloc(sizeof *a);
    if (a)
        a->balance = balance;
    return a;
}

static int aba(void)
{
    goconc_value *acct;
    goconc_value_ref *seen;
    struct account *x, *y, *z, *mine;
    const struct account *cur;
    int st, failed = 0;
    uintptr_t x_addr;

    DEMO_TITLE("ABA: a compare-and-swap on a reused pointer");
    DEMO_SAY("A naive scheme: thread A reads the account pointer X (balance 100)");
    DEMO_SAY("and is preempted. B replaces X by Y and frees X, then stores Z,");
    DEMO_SAY("which malloc may place at X's old address. A's CAS(X -> X+10)");
    DEMO_SAY("compares addresses, succeeds, and wipes out B's changes.");
    x = account_new(100);
    if (x == NULL)
        return 1;
    x_addr = (uintptr_t)x;
    free(x);
    z = account_new(0);
    DEMO_SAY("  (here: free(X) then malloc gave back %s)",
             (uintptr_t)z == x_addr ? "the very same address" : "another address this time");
    free(z);

    DEMO_SAY("goconc: A holds what it compares against, so X cannot be freed.");
    if (goconc_value_new(&acct, account_destroy, NULL) != GOCONC_OK)
        return 1;
    if ((x = account_new(100)) == NULL || goconc_value_store(acct, x) != GOCONC_OK) {
        free(x);
        goconc_value_free(acct);
        return 1;
    }
    /* A: a reference to X (a read section would do for short work). */
    seen = goconc_value_acquire(acct);
    cur = goconc_value_ref_get(seen);
    DEMO_SAY("A: read balance %ld at %p and is preempted", cur->balance, (void *)cur);

    /* B: two updates; X stays allocated because A's reference holds it. */
    y = account_new(50);
    if (y == NULL || goconc_value_store(acct, y) != GOCONC_OK)
        failed = 1, free(y);
    DEMO_MUST(goconc_barrier());
    z = account_new(70);
    if (z == NULL || goconc_value_store(acct, z) != GOCONC_OK)
        failed = 1, free(z);
    DEMO_SAY("B: stored balance 50, then 70 at %p (X's address reused: %s)",
             (void *)z, (const void *)z == (const void *)cur ? "YES (BUG)" : "no, X is held");
    failed |= (const void *)z == (const void *)cur;

    /* A resumes: CAS against the object it holds. */
    mine = account_new(cur->balance + 10);
    st = mine ? goconc_value_compare_and_swap(acct, cur, mine) : GOCONC_ENOMEM;
    DEMO_SAY("A: compare_and_swap(X -> balance %ld): %s", cur->balance + 10,
             st == GOCONC_CHANGED ? "GOCONC_CHANGED, B's update is kept" : "succeeded (BUG)");
    failed |= st != GOCONC_CHANGED;
    if (st != GOCONC_OK)
        free(mine); /* on CHANGED the new object is still ours */
    goconc_value_release(seen);

    /* The right way to retry: re-read under protection and CAS again. */
    goconc_read_lock();
    cur = goconc_value_load(acct);
    mine = account_new(cur->balance + 10);
    st = mine ? goconc_value_compare_and_swap(acct, cur, mine) : GOCONC_ENOMEM;
    goconc_read_unlock();
    if (st != GOCONC_OK)
        free(mine);
    goconc_read_lock();
    cur = goconc_value_load(acct);
    DEMO_SAY("A: retried against the current object: balance now %ld", cur->balance);
    failed |= st != GOCONC_OK || cur->balance != 80;
    goconc_read_unlock();
    goconc_value_free(acct);
    DEMO_MUST(goconc_barrier());
    return failed;
}

int demo_value(void)
{
    int failed = config_reload();
    failed |= aba();
    return failed != 0;
}
