/*
 * reclaim.c - epoch-based reclamation behind goconc's read sections.
 *
 * Readers publish "active in epoch e" in their own padded record (see the
 * inline fast path in goconc/common.h).  Writers retire memory into their
 * own bag, tagged with the epoch read after the memory was unpublished;
 * an entry tagged e runs once the global epoch reaches e + 2, because the
 * epoch only moves from g to g + 1 when every active reader is in g (see
 * gc_try_advance), so readers of e - 1 and e are gone by then.
 *
 * The reader side needs no fence where membarrier(PRIVATE_EXPEDITED) works:
 * the advancer issues it before scanning, which orders every running
 * reader's counter store before its section's loads (liburcu's memb
 * flavour).  Elsewhere, and under ThreadSanitizer, readers fence.
 *
 * Threads register on first use (one initial-exec TLS pointer to a heap
 * record).  A pthread key's destructor unregisters them at exit, hands
 * their bag to the global orphan bag and frees the record through the
 * allocator that made it.  Later calls on that thread (other libraries'
 * destructors) use a temporary record or the orphan bag.  When a record
 * cannot be allocated, readers fall back to two shared counters.
 * doc/reclaim.md has the full argument.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomics.h"
#include "internal.h"
#include "reclaim.h"


#define NEST_BITS GOCONC_READER_NEST_BITS
#define NEST_MASK GOCONC_READER_NEST_MASK
#define EPOCH_ONE ((uintptr_t)1 << NEST_BITS)

/* Entries per chunk; >= GC_RESERVE_MAX so a spare covers any reserve. */
#define CHUNK_ENTRIES 64
/* Retires between attempts to advance the epoch (crossbeam: 128 pins). */
#define ADVANCE_EVERY 64

/* ------------------------------------------------------------ ABI data */

/*
 * Defined under hidden names, exported as aliases: inside the library the
 * fast paths then reach them without a GOT load.
 */
__attribute__((visibility("hidden"), tls_model("initial-exec")))
_Thread_local struct goconc_reader *gc_tls_reader;
/* Written only when the epoch advances; alone on its lines. */
__attribute__((visibility("hidden"), aligned(GC_PAD)))
struct goconc_gp_state gc_gp = { EPOCH_ONE, 1 };

extern GOCONC_API _Thread_local struct goconc_reader *goconc_tls_reader
    __attribute__((alias("gc_tls_reader")));
extern GOCONC_API struct goconc_gp_state goconc_gp __attribute__((alias("gc_gp")));

/* ------------------------------------------------------------- records */

struct gc_entry {
    void *obj;
    goconc_destroy_fn fn;
    void *ctx;
    uintptr_t epoch;
};

struct gc_chunk {
    struct gc_chunk *next;
    struct gc_allocator_ref ref;
    size_t n;
    struct gc_entry e[CHUNK_ENTRIES];
};

/*
 * A FIFO of chunks.  The owner appends to `last`; collectors (the owner's
 * poll, any thread's barrier) take whole chunks before `last` and copy
 * expired entries out of `last`, so `last` and `spare` stay with the bag
 * and gc_reserve's promise holds against concurrent collection.
 */
struct gc_bag {
    pthread_mutex_t lock;
    struct gc_chunk *first, *last, *spare;
    atword pending; /* entries not yet run, in the bag or being run */
};

struct gc_thread {
    struct goconc_reader reader; /* first: the inline fast path's view */
    char pad0[GC_PAD - sizeof(struct goconc_reader)];
    struct gc_thread *next, *prev; /* registry, under reg.lock */
    struct gc_bag bag;
    size_t since_advance;
    unsigned urgent; /* polls that advance regardless (gc_urge) */
    struct gc_allocator_ref ref;
    void *raw;
    int temp;
};

enum { TS_NEW = 0, TS_LIVE, TS_DEAD };

/*
 * Per-thread state that must work without a record (fallback readers,
 * threads past their key destructor).  Together with gc_tls_reader
 * this is all the static TLS the library takes.
 */
static _Thread_local struct {
    int state;
    unsigned lock_depth;  /* gc_lock_enter nesting */
    unsigned in_callback; /* running deferred destroys */
    unsigned fb_nest;     /* fallback read-section nesting */
    uintptr_t fb_parity;
    struct gc_thread *temp;   /* temporary record after the destructor */
    struct gc_chunk *fb_spare; /* gc_reserve for threads without a record */
    unsigned collect_depth;   /* inside collect_begin/collect_end */
    uintptr_t collect_phase;
} tls __attribute__((tls_model("initial-exec")));

static struct {
    pthread_mutex_t lock;
    struct gc_thread *head;
    size_t n;
    struct gc_thread *forked_away; /* other threads' records, in a fork child */
} reg = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, NULL };

static struct gc_bag orphans = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0 };

/* Fallback readers by epoch parity; padded, they are shared. */
static struct {
    atword n;
    char pad[GC_PAD - sizeof(atword)];
} fb_count[2] __attribute__((aligned(GC_PAD)));

/* Entries goconc_barrier took out of other threads' bags, not yet run. */
static atword inflight __attribute__((aligned(GC_PAD)));
static atword reclaimed;
/* Bumped by registry changes: a barrier pass visits records by position. */
static atword reg_gen;

/*
 * Collectors count themselves in collecting[phase] while they hold
 * entries taken out of a bag; goconc_barrier flips the phase and waits
 * for the old one to empty, so it waits for every collection that started
 * before, while new ones (counted in the new phase) cannot starve it.
 * Plain counters rather than a rwlock: they survive fork() (glibc's
 * rwlock knows its writer by a thread id the child does not have).
 */
static struct {
    atword n;
    char pad[GC_PAD - sizeof(atword)];
} collecting[2] __attribute__((aligned(GC_PAD)));
static atword collect_phase;
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

/* Pending work of other threads, set aside in a fork child. */
static struct gc_chunk *forked_chunks;

static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;
static int use_membarrier;

static void collect_begin(void)
{
    uintptr_t p;
    for (;;) {
        p = at_load(&collect_phase);
        /* Full-barrier increment, then re-check: a collector counted in a
         * phase a drain has already flipped away from retries. */
        at_fetch_add(&collecting[p].n, 1);
        if (at_load(&collect_phase) == p)
            break;
        at_fetch_sub(&collecting[p].n, 1);
    }
    tls.collect_phase = p;
    tls.collect_depth++;
}

static void collect_end(void)
{
    tls.collect_depth--;
    at_fetch_sub(&collecting[tls.collect_phase].n, 1);
}

static inline struct gc_thread *self(void)
{
    return (struct gc_thread *)gc_tls_reader;
}

static inline int epoch_before(uintptr_t a, uintptr_t b)
{
    return (intptr_t)(a - b) < 0;
}

/* ---------------------------------------------------------- membarrier */

static int sys_membarrier(int cmd)
{
    return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static void membarrier_setup(void)
{
#ifndef GOCONC_TSAN_
    int cmds = sys_membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0) {
        use_membarrier = 1;
        at_store(&gc_gp.need_fence, 0);
        return;
    }
#endif
    /* ThreadSanitizer cannot see the ordering an IPI gives: fence. */
    use_membarrier = 0;
    at_store(&gc_gp.need_fence, 1);
}

/* The advancer's half of the reader-side ordering. */
static void reader_barrier(void)
{
    if (use_membarrier && sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    at_fence();
}

/* ----------------------------------------------------------- the bags */

static struct gc_chunk *chunk_new(void)
{
    struct gc_allocator_ref ref;
    struct gc_chunk *c = gc_alloc_ref(sizeof *c, &ref);
    if (c) {
        c->next = NULL;
        c->ref = ref;
        c->n = 0;
    }
    return c;
}

static void chunk_free(struct gc_chunk *c)
{
    struct gc_allocator_ref ref = c->ref;
    gc_free_ref(&ref, c);
}

static void bag_init(struct gc_bag *b)
{
    pthread_mutex_init(&b->lock, NULL);
    b->first = b->last = b->spare = NULL;
    at_store(&b->pending, 0);
}

/* Room for n more entries without allocating (under b->lock). */
static int bag_has_room(const struct gc_bag *b, size_t n)
{
    return b->spare != NULL ||
           (b->last != NULL && CHUNK_ENTRIES - b->last->n >= n);
}

/* Append under b->lock; uses *extra when the bag has no room. */
static int bag_push(struct gc_bag *b, const struct gc_entry *e, struct gc_chunk **extra)
{
    struct gc_chunk *c = b->last;
    if (c == NULL || c->n == CHUNK_ENTRIES) {
        if (b->spare) {
            c = b->spare;
            b->spare = NULL;
        } else if (extra && *extra) {
            c = *extra;
            *extra = NULL;
        } else {
            return GOCONC_ENOMEM;
        }
        c->n = 0;
        c->next = NULL;
        if (b->last)
            b->last->next = c;
        else
            b->first = c;
        b->last = c;
    }
    c->e[c->n++] = *e;
    at_store(&b->pending, at_load(&b->pending) + 1);
    return GOCONC_OK;
}

static void run_entry(const struct gc_entry *e)
{
    tls.in_callback++;
    e->fn(e->ctx, e->obj);
    tls.in_callback--;
}

/* Keep entries not yet due at the front of c; returns how many ran. */
static size_t chunk_run_due(struct gc_chunk *c, uintptr_t g, int all)
{
    size_t i, kept = 0, ran = 0;
    for (i = 0; i < c->n; i++) {
        if (all || !epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE)) {
            struct gc_entry e = c->e[i];
            run_entry(&e);
            ran++;
        } else {
            c->e[kept++] = c->e[i];
        }
    }
    c->n = kept;
    return ran;
}

/*
 * Run every entry of b that is due (every entry if `all`).  Callbacks run
 * with no lock held.  Only b's owner, or anyone for the orphans, calls
 * this, so b outlives the call.  Returns how many ran.
 */
static size_t bag_collect(struct gc_bag *b, int all)
{
    struct gc_entry due[CHUNK_ENTRIES];
    struct gc_chunk *list, *c, *next, *keep = NULL, **tail = &keep;
    size_t ndue = 0, ran, i, kept;
    uintptr_t g;

    if (at_load(&b->pending) == 0)
        return 0;
    collect_begin();
    pthread_mutex_lock(&b->lock);
    /* Read after counting in: a barrier that waited for the epoch and then
     * drained the phase knows every later collector runs at least what it
     * would. */
    g = at_load_acq(&gc_gp.ctr);
    list = b->first;
    if (list == b->last) {
        list = NULL;
    } else {
        /* Detach every chunk before `last`. */
        for (c = list; c->next != b->last; c = c->next)
            ;
        c->next = NULL;
        b->first = b->last;
    }
    if (b->last) {
        c = b->last;
        for (i = 0, kept = 0; i < c->n; i++) {
            if (all || !epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE))
                due[ndue++] = c->e[i];
            else
                c->e[kept++] = c->e[i];
        }
        c->n = kept;
    }
    pthread_mutex_unlock(&b->lock);

    for (i = 0; i < ndue; i++)
        run_entry(&due[i]);
    ran = ndue;
    for (c = list; c; c = next) {
        next = c->next;
        ran += chunk_run_due(c, g, all);
        if (c->n == 0) {
            chunk_free(c);
        } else {
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
    }

    pthread_mutex_lock(&b->lock);
    if (keep) {
        /* Older than anything in the bag: back at the front. */
        *tail = b->first;
        b->first = keep;
        if (b->last == NULL) {
            for (c = keep; c->next; c = c->next)
                ;
            b->last = c;
        }
    }
    at_store(&b->pending, at_load(&b->pending) - ran);
    pthread_mutex_unlock(&b->lock);
    collect_end();
    at_fetch_add(&reclaimed, ran);
    return ran;
}

/* Free b's chunks if it holds nothing (under no lock; takes b->lock). */
static void bag_trim(struct gc_bag *b)
{
    struct gc_chunk *c, *next, *spare;

    pthread_mutex_lock(&b->lock);
    if (at_load(&b->pending) != 0) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    c = b->first;
    spare = b->spare;
    b->first = b->last = b->spare = NULL;
    pthread_mutex_unlock(&b->lock);
    for (; c; c = next) {
        next = c->next;
        chunk_free(c);
    }
    if (spare)
        chunk_free(spare);
}

/* Move everything of `from` into `to` (thread exit, fork). */
static void bag_hand_over(struct gc_bag *from, struct gc_bag *to)
{
    struct gc_chunk *c, *spare;
    size_t n;

    pthread_mutex_lock(&from->lock);
    c = from->first;
    spare = from->spare;
    n = at_load(&from->pending);
    from->first = from->last = from->spare = NULL;
    at_store(&from->pending, 0);
    pthread_mutex_unlock(&from->lock);
    if (spare)
        chunk_free(spare);
    while (c && c->n == 0) {
        struct gc_chunk *next = c->next;
        chunk_free(c);
        c = next;
    }
    if (c == NULL)
        return;
    pthread_mutex_lock(&to->lock);
    /* Orphans are collected whole, in no particular order. */
    if (to->last)
        to->last->next = c;
    else
        to->first = c;
    while (c->next)
        c = c->next;
    to->last = c;
    at_store(&to->pending, at_load(&to->pending) + n);
    pthread_mutex_unlock(&to->lock);
}

/* ------------------------------------------------------------ registry */

static void thread_exit(void *arg);

static void key_create(void)
{
    key_ok = pthread_key_create(&thread_key, thread_exit) == 0;
}

static void reg_link(struct gc_thread *r)
{
    pthread_mutex_lock(&reg.lock);
    r->prev = NULL;
    r->next = reg.head;
    if (reg.head)
        reg.head->prev = r;
    reg.head = r;
    reg.n++;
    at_fetch_add(&reg_gen, 1);
    pthread_mutex_unlock(&reg.lock);
}

static void reg_unlink(struct gc_thread *r)
{
    pthread_mutex_lock(&reg.lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        reg.head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    reg.n--;
    at_fetch_add(&reg_gen, 1);
    pthread_mutex_unlock(&reg.lock);
}

static struct gc_thread *record_new(int temp)
{
    struct gc_allocator_ref ref;
    void *raw = gc_alloc_ref(sizeof(struct gc_thread) + GC_PAD, &ref);
    struct gc_thread *r;

    if (raw == NULL)
        return NULL;
    /* Own lines: the counter is written by its owner alone. */
    r = (struct gc_thread *)(((uintptr_t)raw + GC_PAD - 1) & ~(uintptr_t)(GC_PAD - 1));
    memset(r, 0, sizeof *r);
    r->raw = raw;
    r->ref = ref;
    r->temp = temp;
    bag_init(&r->bag);
    reg_link(r);
    return r;
}

/* Unlink, hand the bag to the orphans, free through its own allocator. */
static void record_retire(struct gc_thread *r)
{
    struct gc_allocator_ref ref = r->ref;
    reg_unlink(r);
    bag_hand_over(&r->bag, &orphans);
    pthread_mutex_destroy(&r->bag.lock);
    gc_free_ref(&ref, r->raw);
}

static struct gc_thread *thread_register(void)
{
    struct gc_thread *r;

    /* Not while a fallback section is open: its unlock must find it. */
    if (tls.state != TS_NEW || tls.fb_nest > 0)
        return NULL;
    pthread_once(&key_once, key_create);
    if (!key_ok)
        return NULL;
    r = record_new(0);
    if (r == NULL)
        return NULL;
    if (pthread_setspecific(thread_key, r) != 0) {
        record_retire(r);
        return NULL;
    }
    tls.state = TS_LIVE;
    gc_tls_reader = &r->reader;
    return r;
}

/* Key value of a thread inside a fallback read section (no record). */
static char fb_sentinel;

static void thread_exit(void *arg)
{
    struct gc_thread *r = arg;

    if (arg == &fb_sentinel) {
        /* Exited inside a fallback section: stop counting it. */
        if (tls.fb_nest) {
            tls.fb_nest = 0;
            at_fetch_sub(&fb_count[tls.fb_parity].n, 1);
        }
        return;
    }
    if (r->temp) {
        /* A late destructor left a section open on a temporary record. */
        if (tls.temp == r)
            tls.temp = NULL;
        record_retire(r);
        return;
    }
    /* Unlinking first means a thread that exits inside a read section
     * stalls nobody. */
    gc_tls_reader = NULL;
    tls.state = TS_DEAD;
    record_retire(r);
    if (tls.fb_spare) {
        chunk_free(tls.fb_spare);
        tls.fb_spare = NULL;
    }
}

/* A record to retire into, registering the thread if needed. */
static struct gc_thread *self_or_register(void)
{
    struct gc_thread *r = self();
    return r ? r : thread_register();
}

/* ------------------------------------------------------- read sections */

static void fallback_lock(void)
{
    uintptr_t g, p;
    if (tls.fb_nest++ > 0)
        return;
    for (;;) {
        g = at_load(&gc_gp.ctr);
        p = (g >> NEST_BITS) & 1;
        /* Full-barrier increment, then re-check: a reader counted under a
         * parity the advancer has already checked retries (SRCU-style). */
        at_fetch_add(&fb_count[p].n, 1);
        if (at_load(&gc_gp.ctr) == g)
            break;
        at_fetch_sub(&fb_count[p].n, 1);
    }
    tls.fb_parity = p;
    /* Without a record, the key is how an exit inside the section is
     * noticed; the first keys need no allocation in glibc. */
    if (key_ok)
        pthread_setspecific(thread_key, &fb_sentinel);
}

/* Temporary records take the fenced path: they are rare. */
static void record_lock(struct gc_thread *r)
{
    uintptr_t c = at_load(&r->reader.ctr);
    if (c & NEST_MASK) {
        at_store_rel(&r->reader.ctr, c + 1);
        return;
    }
    at_xchg(&r->reader.ctr, at_load(&gc_gp.ctr) + 1);
}

/* 1 when the outermost section of r closed. */
static int record_unlock(struct gc_thread *r)
{
    uintptr_t c = at_load(&r->reader.ctr);
    if ((c & NEST_MASK) == 0)
        return 0;
    /* Release pairs with the advancer's acquire load of the counter. */
    at_store_rel(&r->reader.ctr, c - 1);
    return (c & NEST_MASK) == 1;
}

/* Kept out of line so the exported fast path needs no stack frame. */
__attribute__((noinline)) static void read_lock_slow(void)
{
    if (tls.fb_nest > 0) {
        fallback_lock();
        return;
    }
    if (tls.temp) {
        record_lock(tls.temp);
        return;
    }
    if (tls.state == TS_NEW && thread_register() != NULL) {
        goconc_read_lock_inline_();
        return;
    }
    if (tls.state == TS_DEAD && (tls.temp = record_new(1)) != NULL) {
        /* Another destructor round retires it if the thread ends inside. */
        if (key_ok)
            pthread_setspecific(thread_key, tls.temp);
        record_lock(tls.temp);
        return;
    }
    fallback_lock();
}

GOCONC_API void goconc_read_lock(void)
{
    if (GC_LIKELY(self() != NULL))
        goconc_read_lock_inline_();
    else
        read_lock_slow();
}

__attribute__((noinline)) static void read_unlock_slow(void)
{
    struct gc_thread *t;

    if (tls.fb_nest > 0) {
        if (--tls.fb_nest == 0) {
            at_fetch_sub(&fb_count[tls.fb_parity].n, 1);
            if (key_ok)
                pthread_setspecific(thread_key, NULL);
        }
        return;
    }
    t = tls.temp;
    if (t && record_unlock(t)) {
        /* Temporary records live for one outermost section only. */
        tls.temp = NULL;
        if (key_ok)
            pthread_setspecific(thread_key, NULL);
        record_retire(t);
    }
}

GOCONC_API void goconc_read_unlock(void)
{
    if (GC_LIKELY(self() != NULL))
        goconc_read_unlock_inline_();
    else
        read_unlock_slow();
}

int gc_in_read_section(void)
{
    struct gc_thread *r = self();
    if (r)
        return (at_load(&r->reader.ctr) & NEST_MASK) != 0;
    return tls.fb_nest > 0 || tls.temp != NULL;
}

/* ---------------------------------------------------- epoch advancing */

/*
 * Move the epoch from g to g + 1 if every active reader is in g.  With
 * `wait`, block on the registry lock instead of giving up.
 */
static int try_advance(int wait)
{
    struct gc_thread *r;
    uintptr_t g, c;
    int ok = 1;

    if (wait)
        pthread_mutex_lock(&reg.lock);
    else if (pthread_mutex_trylock(&reg.lock) != 0)
        return 0;
    g = at_load(&gc_gp.ctr);
    reader_barrier();
    for (r = reg.head; r && ok; r = r->next) {
        /* Acquire pairs with the reader's release stores of its counter:
         * whatever its earlier sections read happens before the free. */
        c = at_load_acq(&r->reader.ctr);
        if ((c & NEST_MASK) && (c & ~NEST_MASK) != g)
            ok = 0;
    }
    if (ok && at_load(&fb_count[((g >> NEST_BITS) + 1) & 1].n) != 0)
        ok = 0;
    if (ok)
        at_store_rel(&gc_gp.ctr, g + EPOCH_ONE);
    pthread_mutex_unlock(&reg.lock);
    return ok;
}

static void backoff(unsigned *round)
{
    struct timespec ts;
    if (*round < 8) {
        sched_yield();
    } else {
        unsigned shift = *round - 8 < 10 ? *round - 8 : 10;
        ts.tv_sec = 0;
        ts.tv_nsec = 1000L << shift; /* 1 us .. ~1 ms */
        nanosleep(&ts, NULL);
    }
    (*round)++;
}

static int must_not_wait(void)
{
    return gc_in_read_section() || tls.lock_depth || tls.in_callback;
}

/* Wait until the epoch has moved two steps past the current one. */
static void wait_grace_period(void)
{
    uintptr_t target;
    unsigned round = 0;

    at_fence(); /* the caller's unpublishing stores come first */
    target = at_load(&gc_gp.ctr) + 2 * EPOCH_ONE;
    while (epoch_before(at_load_acq(&gc_gp.ctr), target))
        if (!try_advance(1))
            backoff(&round);
}

GOCONC_API int goconc_synchronize(void)
{
    if (must_not_wait())
        return GOCONC_EDEADLK;
    wait_grace_period();
    return GOCONC_OK;
}

/* ----------------------------------------------------------- retiring */

int gc_reserve(size_t n)
{
    struct gc_thread *r = self_or_register();
    struct gc_bag *b = r ? &r->bag : &orphans;
    struct gc_chunk *c;
    int room;

    if (n > GC_RESERVE_MAX)
        return GOCONC_EINVAL;
    if (r) {
        pthread_mutex_lock(&b->lock);
        room = bag_has_room(b, n);
        pthread_mutex_unlock(&b->lock);
        if (room)
            return GOCONC_OK;
    } else if (tls.fb_spare) {
        return GOCONC_OK;
    }
    if ((c = chunk_new()) == NULL)
        return GOCONC_ENOMEM;
    if (r == NULL) {
        /* Shared bag: keep the spare private until used. */
        tls.fb_spare = c;
        return GOCONC_OK;
    }
    pthread_mutex_lock(&b->lock);
    if (b->spare == NULL) {
        b->spare = c;
        c = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    if (c)
        chunk_free(c);
    return GOCONC_OK;
}

int gc_retire(void *obj, goconc_destroy_fn destroy, void *ctx)
{
    struct gc_thread *r = self_or_register();
    struct gc_bag *b = r ? &r->bag : &orphans;
    struct gc_chunk *fresh = NULL;
    struct gc_entry e;
    int rc;

    e.obj = obj;
    e.fn = destroy;
    e.ctx = ctx;
    /* Tag with an epoch read after the caller unpublished obj: the fence
     * keeps that store from passing this load. */
    at_fence();
    e.epoch = at_load(&gc_gp.ctr);

    pthread_mutex_lock(&b->lock);
    rc = bag_push(b, &e, r ? NULL : &tls.fb_spare);
    pthread_mutex_unlock(&b->lock);
    if (rc == GOCONC_OK)
        goto done;
    if ((fresh = chunk_new()) == NULL)
        return GOCONC_ENOMEM;
    pthread_mutex_lock(&b->lock);
    rc = bag_push(b, &e, &fresh);
    pthread_mutex_unlock(&b->lock);
    if (fresh)
        chunk_free(fresh);
done:
    if (r)
        r->since_advance++;
    return rc;
}

void gc_poll(void)
{
    struct gc_thread *r = self();

    if (tls.lock_depth || tls.in_callback)
        return;
    if (r == NULL) {
        if (tls.state == TS_DEAD && tls.fb_spare) {
            chunk_free(tls.fb_spare);
            tls.fb_spare = NULL;
        }
        if (at_load(&orphans.pending) != 0 && try_advance(0))
            bag_collect(&orphans, 0);
        return;
    }
    if (r->since_advance < ADVANCE_EVERY && r->urgent == 0)
        return;
    r->since_advance = 0;
    if (r->urgent)
        r->urgent--;
    try_advance(0);
    bag_collect(&r->bag, 0);
    bag_collect(&orphans, 0);
}

void gc_urge(void)
{
    struct gc_thread *r = self();
    /* An entry is due two advances after its retire; a third poll covers
     * an advance lost to a busy registry lock. */
    if (r)
        r->urgent = 3;
}

GOCONC_API int goconc_defer_free(void *obj, goconc_destroy_fn destroy, void *ctx)
{
    int rc;
    if (destroy == NULL)
        return GOCONC_EINVAL;
    rc = gc_retire(obj, destroy, ctx);
    if (rc == GOCONC_OK)
        gc_poll();
    return rc;
}

/*
 * Copy up to max entries of b due at g into due[] (under b->lock),
 * compacting what stays.  They leave b's count for `inflight` until run,
 * because b's record may be gone by then.
 */
static size_t bag_take_due(struct gc_bag *b, uintptr_t g, struct gc_entry *due, size_t max)
{
    struct gc_chunk *c;
    size_t n = 0, i, kept;

    for (c = b->first; c && n < max; c = c->next) {
        for (i = 0, kept = 0; i < c->n; i++) {
            if (n < max && !epoch_before(g, c->e[i].epoch + 2 * EPOCH_ONE))
                due[n++] = c->e[i];
            else
                c->e[kept++] = c->e[i];
        }
        c->n = kept;
    }
    at_store(&b->pending, at_load(&b->pending) - n);
    at_fetch_add(&inflight, n);
    return n;
}

/*
 * One pass over every record and the orphans, running what is due at g.
 * Records are visited by position because the registry lock is dropped
 * around the callbacks; a registry change during the pass (which could
 * shift a record past the cursor) makes the caller repeat it.
 * Returns 1 if anything ran or the registry changed.
 */
static int collect_pass(uintptr_t g)
{
    struct gc_entry due[CHUNK_ENTRIES];
    struct gc_thread *r;
    size_t i, k, n, j;
    size_t gen = at_load(&reg_gen);
    int found = 0;

    for (i = 0;; i++) {
        collect_begin();
        pthread_mutex_lock(&reg.lock);
        for (r = reg.head, k = 0; r && k < i; r = r->next, k++)
            ;
        n = 0;
        if (r && at_load(&r->bag.pending) != 0) {
            pthread_mutex_lock(&r->bag.lock);
            n = bag_take_due(&r->bag, g, due, CHUNK_ENTRIES);
            pthread_mutex_unlock(&r->bag.lock);
        }
        pthread_mutex_unlock(&reg.lock);
        for (j = 0; j < n; j++)
            run_entry(&due[j]);
        at_fetch_sub(&inflight, n);
        at_fetch_add(&reclaimed, n);
        collect_end();
        if (r == NULL)
            break;
        if (n > 0)
            found = 1;
        if (n == CHUNK_ENTRIES)
            i--; /* the same record may have more */
    }
    if (bag_collect(&orphans, 0) > 0)
        found = 1;
    return found || at_load(&reg_gen) != gen;
}

/* Wait for every collector that holds entries now. */
static void collectors_drain(void)
{
    uintptr_t p;
    unsigned round = 0;

    pthread_mutex_lock(&drain_lock);
    p = at_load(&collect_phase);
    at_store(&collect_phase, p ^ 1);
    at_fence(); /* the flip before the count: pairs with collect_begin */
    while (at_load_acq(&collecting[p].n) != 0)
        backoff(&round);
    pthread_mutex_unlock(&drain_lock);
}

GOCONC_API int goconc_barrier(void)
{
    struct gc_thread *r;
    uintptr_t g;

    if (must_not_wait())
        return GOCONC_EDEADLK;
    wait_grace_period();
    /* Every entry retired before the call is due at g. */
    g = at_load_acq(&gc_gp.ctr);
    /* A collector that read an older epoch may put due entries back:
     * wait for those; later ones read >= g and run all they take. */
    collectors_drain();
    while (collect_pass(g))
        ;
    /* Due entries taken meanwhile by other collectors are being run. */
    collectors_drain();
    r = self();
    if (r)
        bag_trim(&r->bag);
    bag_trim(&orphans);
    return GOCONC_OK;
}

/* ------------------------------------------------------ bookkeeping */

void gc_lock_enter(void) { tls.lock_depth++; }
void gc_lock_exit(void) { tls.lock_depth--; }

uintptr_t gc_thread_id(void)
{
    return (uintptr_t)&tls;
}

size_t gc_pending_count(void)
{
    struct gc_thread *r;
    size_t n = at_load(&orphans.pending);
    pthread_mutex_lock(&reg.lock);
    for (r = reg.head; r; r = r->next)
        n += at_load(&r->bag.pending);
    pthread_mutex_unlock(&reg.lock);
    return n + at_load(&inflight);
}

GOCONC_API int goconc_reclaim_stats_get(goconc_reclaim_stats *st)
{
    goconc_reclaim_stats s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    s.pending = gc_pending_count();
    pthread_mutex_lock(&reg.lock);
    s.threads = reg.n;
    pthread_mutex_unlock(&reg.lock);
    s.epoch = (uint64_t)((at_load(&gc_gp.ctr) >> NEST_BITS) - 1);
    s.reclaimed = at_load(&reclaimed);
    return gc_stats_out(st, &s, sizeof s, sizeof s);
}

/* --------------------------------------------------- process events */


/*
 * Hold every lock another thread could hold across the fork, in the
 * library's lock order (collectors, allocator switch, registry, orphans),
 * so the child starts with consistent state and can unlock them.
 */
static void fork_prepare(void)
{
    pthread_mutex_lock(&drain_lock);
    gc_alloc_fork_lock();
    pthread_mutex_lock(&reg.lock);
    pthread_mutex_lock(&orphans.lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&orphans.lock);
    pthread_mutex_unlock(&reg.lock);
    gc_alloc_fork_unlock();
    pthread_mutex_unlock(&drain_lock);
}

/*
 * Only the forking thread lives on in the child.  Other threads' records
 * are set aside (their destroys are not run: API.md), and every shared
 * counter is rebuilt from this thread's own state.
 */
static void fork_child(void)
{
    struct gc_thread *me = self(), *r, *next;

    for (r = reg.head; r; r = next) {
        next = r->next;
        if (r == me || r == tls.temp)
            continue;
        r->next = reg.forked_away;
        reg.forked_away = r;
    }
    reg.head = NULL;
    reg.n = 0;
    /* This thread's bag lock is free: a barrier takes it only under the
     * registry lock, which fork_prepare held. */
    if (me) {
        me->next = me->prev = NULL;
        reg.head = me;
        reg.n = 1;
    }
    if (tls.temp) {
        tls.temp->prev = NULL;
        tls.temp->next = reg.head;
        if (reg.head)
            reg.head->prev = tls.temp;
        reg.head = tls.temp;
        reg.n++;
    }
    /* Orphans are other threads' destroys: not run in the child. */
    if (orphans.first) {
        orphans.last->next = forked_chunks;
        forked_chunks = orphans.first;
    }
    if (orphans.spare) {
        orphans.spare->next = forked_chunks;
        forked_chunks = orphans.spare;
    }
    orphans.first = orphans.last = orphans.spare = NULL;
    at_store(&orphans.pending, 0);
    at_store(&fb_count[0].n, 0);
    at_store(&fb_count[1].n, 0);
    if (tls.fb_nest)
        at_store(&fb_count[tls.fb_parity].n, 1);
    at_store(&inflight, 0);
    /* Registration is per process image; fall back to fences if the
     * child cannot have it (only this thread runs, so the switch is
     * safe). */
    membarrier_setup();
    pthread_mutex_unlock(&orphans.lock);
    pthread_mutex_unlock(&reg.lock);
    gc_alloc_fork_unlock();
    at_store(&collecting[0].n, 0);
    at_store(&collecting[1].n, 0);
    if (tls.collect_depth)
        at_store(&collecting[tls.collect_phase].n, tls.collect_depth);
    pthread_mutex_unlock(&drain_lock);
}

__attribute__((constructor)) static void gc_reclaim_init(void)
{
    membarrier_setup();
    pthread_once(&key_once, key_create);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/*
 * The key destructor does not run for a thread that returns from main:
 * clean up the exiting thread's record here.  Destroys it still owes are
 * handed to the orphans and stay reachable; they are not run at exit.
 */
__attribute__((destructor)) static void gc_reclaim_fini(void)
{
    struct gc_thread *r = self();
    if (r) {
        if (key_ok)
            pthread_setspecific(thread_key, NULL);
        thread_exit(r);
    }
}
