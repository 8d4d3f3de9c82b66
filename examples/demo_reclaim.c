/* SPDX-License-Identifier: MIT */
/*
 * demo_reclaim.c - a snapshot replaced and freed under its readers.
 *
 * The race: readers load a shared pointer to a snapshot and use it; a
 * writer publishes a new snapshot and frees the old one.  Without
 * reclamation the free can land while a reader is still reading: a
 * use-after-free (Go's garbage collector hides this one; in C it is a
 * crash or silent garbage).  With goconc the readers use the snapshot
 * inside goconc_read_lock()/goconc_read_unlock(), and the writer hands the
 * old one to goconc_defer_free(): it is freed only after every reader that
 * could have seen it has left its read section.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "demo.h"

#define READERS 2

struct snapshot {
    int version;
    char routes[48];
};

static struct snapshot *current; /* atomic pointer */

struct demo_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inside;          /* readers holding the old snapshot */
    int go_on;           /* the writer has replaced it */
    int freed;           /* the destroy ran (atomic) */
    int inside_at_free;  /* readers still inside when it ran */
    int intact[READERS]; /* each reader's last check of the old snapshot */
};
static struct demo_state ds = { PTHREAD_MUTEX_INITIALIZER,
                                PTHREAD_COND_INITIALIZER, 0, 0, 0, -1, { 0 } };

static void free_snapshot(void *ctx, void *obj)
{
    struct snapshot *s = obj;
    (void)ctx;
    pthread_mutex_lock(&ds.mu);
    ds.inside_at_free = ds.inside;
    pthread_mutex_unlock(&ds.mu);
    memset(s, 0xdd, sizeof *s); /* what a reader would see if too early */
    free(s);
    __atomic_store_n(&ds.freed, 1, __ATOMIC_SEQ_CST);
}

static void *reader(void *p)
{
    int idx = (int)(intptr_t)p;
    struct snapshot *s;
    goconc_read_lock();
    s = __atomic_load_n(&current, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&ds.mu);
    ds.inside++;
    pthread_cond_broadcast(&ds.cv);
    while (!ds.go_on)
        pthread_cond_wait(&ds.cv, &ds.mu);
    pthread_mutex_unlock(&ds.mu);
    /* The writer has replaced and "freed" s by now; it must be intact. */
    ds.intact[idx] = s->version == 1 && strcmp(s->routes, "a->b, b->c") == 0;
    pthread_mutex_lock(&ds.mu);
    ds.inside--;
    pthread_mutex_unlock(&ds.mu);
    goconc_read_unlock();
    return NULL;
}

int demo_reclaim(void)
{
    pthread_t t[READERS];
    struct snapshot *v1 = malloc(sizeof *v1), *v2 = malloc(sizeof *v2), *old;
    struct timespec ts = { 0, 50 * 1000000L };
    goconc_reclaim_stats st = GOCONC_RECLAIM_STATS_INIT;
    int i, freed_early, rc, ok, all_intact = 1;

    if (!v1 || !v2) {
        free(v1);
        free(v2);
        return 1;
    }
    DEMO_TITLE("reclaim: a snapshot replaced and freed under its readers");
    DEMO_SAY("A writer replacing a shared snapshot and freeing the old one "
             "races with readers");
    DEMO_SAY("still using it: a use-after-free.  goconc: read sections + "
             "goconc_defer_free.");
    v1->version = 1;
    strcpy(v1->routes, "a->b, b->c");
    __atomic_store_n(&current, v1, __ATOMIC_RELEASE);

    for (i = 0; i < READERS; i++)
        pthread_create(&t[i], NULL, reader, (void *)(intptr_t)i);
    pthread_mutex_lock(&ds.mu);
    while (ds.inside < READERS)
        pthread_cond_wait(&ds.cv, &ds.mu);
    pthread_mutex_unlock(&ds.mu);
    DEMO_SAY("%d readers are inside read sections, holding snapshot v1.",
             READERS);

    v2->version = 2;
    strcpy(v2->routes, "a->c");
    old = __atomic_exchange_n(&current, v2, __ATOMIC_ACQ_REL);
    rc = goconc_defer_free(old, free_snapshot, NULL);
    DEMO_SAY("The writer publishes v2 and hands v1 to goconc_defer_free "
             "(status %d).", rc);
    nanosleep(&ts, NULL); /* give an early free every chance to happen */
    freed_early = __atomic_load_n(&ds.freed, __ATOMIC_SEQ_CST);
    DEMO_MUST(goconc_reclaim_stats_get(&st));
    DEMO_SAY("50 ms later: v1 %s; %zu destroy(s) pending.",
             freed_early ? "WAS FREED under its readers" : "is not freed yet",
             st.pending);

    pthread_mutex_lock(&ds.mu);
    ds.go_on = 1;
    pthread_cond_broadcast(&ds.cv);
    pthread_mutex_unlock(&ds.mu);
    for (i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < READERS; i++)
        all_intact &= ds.intact[i];
    DEMO_SAY("The readers finish with v1 (%s) and leave their sections.",
             all_intact ? "intact" : "CORRUPTED");
    rc = goconc_barrier();
    DEMO_SAY("goconc_barrier (status %d): v1 freed now = %s, readers inside "
             "when it was freed = %d.", rc,
             __atomic_load_n(&ds.freed, __ATOMIC_SEQ_CST) ? "yes" : "no",
             ds.inside_at_free);

    ok = rc == GOCONC_OK && !freed_early && all_intact &&
         __atomic_load_n(&ds.freed, __ATOMIC_SEQ_CST) && ds.inside_at_free == 0;
    DEMO_SAY("%s", ok ? "As promised: v1 was freed only after its readers "
                        "left."
                      : "MISBEHAVED: see the lines above.");
    old = __atomic_exchange_n(&current, NULL, __ATOMIC_ACQ_REL);
    if (old && goconc_defer_free(old, free_snapshot, NULL) != GOCONC_OK)
        free(old); /* ENOMEM: still ours */
    DEMO_MUST(goconc_barrier());
    return ok ? 0 : 1;
}
