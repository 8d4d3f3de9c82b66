/* SPDX-License-Identifier: MIT */
/*
 * demo_pool.c - the seed article's sync.Pool scenario: a pool of buffers
 * reused across goroutines, done in C.
 *
 * Four threads format messages into 4 KiB scratch buffers taken from one
 * pool.  Most gets are served from the thread's own cache (no lock, no
 * malloc); a buffer one thread hands to another is put back there and
 * reused.  When the workers exit, their cached buffers go back to the
 * pool.  Two trims (Go's GC steps) drop the buffers nobody used in
 * between, through free_obj; goconc_pool_free frees the rest, so every
 * buffer allocated is freed exactly once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define BUF_SIZE 4096
#define WORKERS 4
#define ROUNDS 20000

struct buf {
    size_t len;
    char data[BUF_SIZE];
};

static long allocated, freed, resets;

static void *buf_new(void *ctx)
{
    struct buf *b = malloc(sizeof *b);
    (void)ctx;
    if (b != NULL) {
        b->len = 0;
        __atomic_fetch_add(&allocated, 1, __ATOMIC_RELAXED);
    }
    return b;
}

static void buf_free(void *ctx, void *obj)
{
    (void)ctx;
    __atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
    free(obj);
}

/* Like bytes.Buffer.Reset before Put: the next user starts empty. */
static void buf_reset(void *ctx, void *obj)
{
    struct buf *b = obj;
    (void)ctx;
    b->len = 0;
    __atomic_fetch_add(&resets, 1, __ATOMIC_RELAXED);
}

/* A one-slot mailbox per worker: a buffer handed to the next worker. */
struct worker {
    goconc_pool *pool;
    int id;
    struct buf *mailbox; /* atomic */
    struct worker *next;
    int dirty;           /* got a buffer that was not reset */
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct buf *b, *in;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        b = goconc_pool_get(w->pool);
        if (b == NULL)
            continue;
        if (b->len != 0)
            w->dirty++;
        b->len = (size_t)snprintf(b->data, BUF_SIZE,
                                  "worker %d, message %d", w->id, i);
        if (i % 64 == 0) {
            /* Hand this one to the next worker; take any that came in. */
            in = __atomic_exchange_n(&w->next->mailbox, b, __ATOMIC_ACQ_REL);
            if (in != NULL)
                goconc_pool_put(w->pool, in);
            in = __atomic_exchange_n(&w->mailbox, NULL, __ATOMIC_ACQ_REL);
            if (in != NULL)
                goconc_pool_put(w->pool, in); /* put on another thread */
        } else {
            goconc_pool_put(w->pool, b);
        }
    }
    return NULL;
}

static goconc_pool_stats pool_stats(goconc_pool *p)
{
    goconc_pool_stats s = GOCONC_POOL_STATS_INIT;
    DEMO_MUST(goconc_pool_stats_get(p, &s));
    return s;
}

int demo_pool(void)
{
    goconc_pool_options o = GOCONC_POOL_OPTIONS_INIT;
    struct worker w[WORKERS];
    pthread_t th[WORKERS];
    goconc_pool_stats s;
    goconc_pool *pool;
    struct buf *left;
    long before_trim, dirty = 0;
    int i, failed = 0;

    DEMO_TITLE("sync.Pool: scratch buffers reused across threads");
    o.new_obj = buf_new;
    o.free_obj = buf_free;
    o.reset_obj = buf_reset;
    if (goconc_pool_new(&pool, &o) != GOCONC_OK) {
        DEMO_SAY("goconc_pool_new failed");
        return 1;
    }
    for (i = 0; i < WORKERS; i++) {
        w[i].pool = pool;
        w[i].id = i;
        w[i].mailbox = NULL;
        w[i].next = &w[(i + 1) % WORKERS];
        w[i].dirty = 0;
    }
    for (i = 0; i < WORKERS; i++)
        if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
            DEMO_SAY("pthread_create failed");
            return 1;
        }
    for (i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        dirty += w[i].dirty;
    }
    for (i = 0; i < WORKERS; i++) { /* buffers still in transit */
        left = w[i].mailbox;
        if (left != NULL)
            goconc_pool_put(pool, left);
    }

    s = pool_stats(pool);
    DEMO_SAY("%d threads made %llu gets: %llu served from the pool, "
             "%llu buffers allocated",
             WORKERS, (unsigned long long)s.gets, (unsigned long long)s.hits,
             (unsigned long long)s.news);
    DEMO_SAY("every put reset its buffer (%ld resets); no thread got a "
             "dirty one (%ld)", resets, dirty);
    DEMO_SAY("the workers exited: their cached buffers went back to the "
             "pool, %zu idle now", s.idle);
    failed |= s.hits == 0 || s.news > s.gets / 10 || dirty != 0;
    failed |= (long)s.news != allocated || s.idle == 0;

    before_trim = freed;
    goconc_pool_trim(pool);
    DEMO_SAY("trim 1 (a GC cycle): idle buffers become victims, none "
             "freed yet (%ld freed)", freed - before_trim);
    failed |= freed != before_trim;
    left = goconc_pool_get(pool); /* a victim is still served */
    DEMO_SAY("a get after it is still served from the victims: %s",
             pool_stats(pool).news == s.news ? "reused" : "NEW (wrong)");
    failed |= pool_stats(pool).news != s.news;
    goconc_pool_put(pool, left);
    goconc_pool_trim(pool);
    s = pool_stats(pool);
    DEMO_SAY("trim 2: buffers idle across both trims dropped through "
             "free_obj (%ld freed), %zu left", freed - before_trim, s.idle);
    failed |= freed - before_trim == 0 || s.idle != 1;

    goconc_pool_free(pool);
    DEMO_SAY("goconc_pool_free: %ld buffers allocated, %ld freed: %s",
             allocated, freed, allocated == freed ? "nothing leaked" : "LEAK");
    failed |= allocated != freed;
    return failed;
}
