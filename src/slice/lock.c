/* SPDX-License-Identifier: MIT */
/*
 * lock.c - the slice handle's biased lock (doc/slice.md, "The
 * biased handle lock").
 *
 * A handle's lock is a test-and-test-and-set spin lock (word) plus a bias:
 * the thread named in bias enters with plain stores (sl_lock in
 * slice_internal.h).  Any other thread takes word, clears bias, issues
 * membarrier(PRIVATE_EXPEDITED) and waits for the owner's busy flag: an
 * asymmetric Dekker handshake in which membarrier is the owner's
 * store-load fence.  A thread that takes word rebias_at times in a row
 * earns the bias (a new epoch with its own busy slot); rebias_at doubles
 * at each revocation.
 */
#include <pthread.h>

#include "slice/slice_internal.h"

/* Slow-path runs that earn a thread the bias, at first; doubles at each
 * revocation so handles that ping-pong stop paying for membarrier(). */
#define SL_REBIAS_FIRST 64
#define SL_REBIAS_MAX ((size_t)1 << 40)
/*
 * Exponential backoff (gc_backoff).  Appends hold the lock for a few
 * nanoseconds; a waiter that polled the line at once would pull it away
 * from the holder on every call (a line transfer costs more than the
 * append).  Backing off lets the holder run a batch of calls with the
 * line in its cache, which is also what makes a futex mutex fast here,
 * without the futex wake-ups.
 */
void sl_spin_lock_slow(atword *w)
{
    unsigned round = 0;

    do
        gc_backoff(&round);
    while (at_load(w) != 0 || !at_cas(w, 0, 1));
}

/*
 * Biasing needs membarrier(PRIVATE_EXPEDITED): it makes every running
 * thread of the process execute a full barrier, which is the owner's half
 * of the handshake.  core/sys.h says what a fork child gets.  Without it no handle is ever biased and every lock is the spin
 * lock.
 */
static atword sl_bias_on;
static pthread_once_t sl_bias_once = PTHREAD_ONCE_INIT;

static void sl_bias_setup(void)
{
    at_store(&sl_bias_on, gc_membarrier_ok());
}

/* A thread pointer usable in a bias word (its low bits carry the epoch). */
static int sl_biasable(uintptr_t me)
{
    return (me & SL_EPOCH_MASK) == 0 && at_load(&sl_bias_on);
}

/* A new handle starts biased to its creator, who usually fills it. */
void sl_lock_init(goconc_slice *s)
{
    uintptr_t me = sl_self();
    int e;

    pthread_once(&sl_bias_once, sl_bias_setup);
    at_store(&s->word, 0);
    for (e = 0; e < SL_EPOCHS; e++)
        at_store(&s->busy[e], 0);
    at_store(&s->bias, sl_biasable(me) ? me : 0); /* epoch 0 */
    s->last = 0;
    s->run = 0;
    s->rebias_at = SL_REBIAS_FIRST;
    s->next_epoch = 1;
}

/* The revoker's half: after it, an owner's busy store that preceded its
 * reload of bias is visible here, and any later reload sees our 0. */
static void sl_heavy_barrier(void)
{
    if (gc_membarrier() == 0)
        return;
    /* Only a seccomp filter installed after registration gets here: stop
     * granting biases; the fence orders this side of the handshake. */
    at_store(&sl_bias_on, 0);
    at_fence();
}

void sl_lock_slow(goconc_slice *s, uintptr_t me)
{
    unsigned round = 0;
    uintptr_t w;

    sl_spin_lock(&s->word);
    w = at_load(&s->bias);
    if (w != 0) {
        /* Holding word, so nobody can grant a bias behind our back. */
        at_store(&s->bias, 0);
        sl_heavy_barrier();
        /* Acquire: pairs with the owner's release store of busy = 0 in
         * sl_unlock, so its section happens before ours.  A preempted
         * thread that read this epoch's bias may still set the flag
         * later; it clears it at once when its reload of bias fails. */
        while (at_load_acq(&s->busy[w & SL_EPOCH_MASK]) != 0)
            gc_backoff(&round); /* the owner may be preempted */
        if (s->rebias_at < SL_REBIAS_MAX)
            s->rebias_at *= 2;
    }
    sl_note_holder(s, me);
}

void sl_unlock_slow(goconc_slice *s)
{
    if (s->next_epoch < SL_EPOCHS && sl_biasable(s->last)) {
        /* Only the holder of word grants, and only to itself (last). */
        at_store(&s->bias, s->last | s->next_epoch);
        s->next_epoch++;
    }
    s->run = 0;
    sl_spin_unlock(&s->word);
}
