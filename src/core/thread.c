/* SPDX-License-Identifier: MIT */
/*
 * thread.c - the per-thread record, the exit key and the fork chain
 * (thread.h).
 */
#include <pthread.h>
#include <stddef.h>

#include "core/internal.h"
#include "core/thread.h"

const uint64_t gc_thread_zero[GC_THREAD_ZERO_BYTES / 8];

__attribute__((tls_model("initial-exec"))) _Thread_local struct gc_thread gc_thread_tls = {
    .pool_hot = (void *)(uintptr_t)gc_thread_zero,
};

/* Written by constructors at load (one thread), read afterwards. */
static void (*exit_hooks[GC_EXIT_NHOOKS])(struct gc_thread *t);
static const struct gc_fork_hooks *fork_chain[GC_FORK_NRANKS];

static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

void gc_thread_on_exit(enum gc_exit_hook at, void (*hook)(struct gc_thread *t))
{
    exit_hooks[at] = hook;
}

void gc_thread_on_fork(enum gc_fork_rank at, const struct gc_fork_hooks *h)
{
    fork_chain[at] = h;
}

/* glibc has cleared the key before calling: a hook that re-arms it gets
 * another round (up to PTHREAD_DESTRUCTOR_ITERATIONS). */
static void thread_exit(void *arg)
{
    struct gc_thread *t = arg;
    int i;

    t->armed = 0;
    for (i = 0; i < GC_EXIT_NHOOKS; i++)
        if (exit_hooks[i] != NULL)
            exit_hooks[i](t);
}

static void key_create(void)
{
    key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
}

int gc_thread_arm(void)
{
    struct gc_thread *t = &gc_thread_tls;

    if (GC_LIKELY(t->armed))
        return 1;
    pthread_once(&key_once, key_create);
    /* The first keys need no allocation in glibc: this cannot fail for
     * want of memory. */
    if (!key_ok || pthread_setspecific(exit_key, t) != 0)
        return 0;
    t->armed = 1;
    return 1;
}

static void fork_prepare(void)
{
    int i;
    for (i = 0; i < GC_FORK_NRANKS; i++)
        if (fork_chain[i] != NULL)
            fork_chain[i]->prepare();
}

static void fork_parent(void)
{
    int i;
    for (i = GC_FORK_NRANKS - 1; i >= 0; i--)
        if (fork_chain[i] != NULL)
            fork_chain[i]->parent();
}

static void fork_child(void)
{
    int i;
    gc_membarrier_setup();
    for (i = GC_FORK_NRANKS - 1; i >= 0; i--)
        if (fork_chain[i] != NULL)
            fork_chain[i]->child();
}

/* The core's own locks in the chain. */
static const struct gc_fork_hooks alloc_fork = {
    gc_alloc_fork_lock, gc_alloc_fork_unlock, gc_alloc_fork_unlock
};
static const struct gc_fork_hooks pages_fork = {
    gc_pages_fork_lock, gc_pages_fork_unlock, gc_pages_fork_unlock
};

/* Runs before the other layers' constructors register (priority), so
 * the chain exists before anything can fork. */
__attribute__((constructor(101))) static void thread_init(void)
{
    gc_membarrier_setup();
    pthread_once(&key_once, key_create);
    gc_thread_on_fork(GC_FORK_ALLOC, &alloc_fork);
    gc_thread_on_fork(GC_FORK_PAGES, &pages_fork);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}
