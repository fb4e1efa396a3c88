/*
 * sync.c — Go's sync package: Mutex, RWMutex, WaitGroup, Once, Cond.
 *
 * Every type is a few words of user memory whose zero value is ready to use
 * (their layouts are in gort.h), so none of them can own a queue: they keep
 * their state in atomic words and sleep on semaphores in those words, whose
 * queues live in sema.c's address-keyed table.  The algorithms are Go's
 * (src/sync/mutex.go and its neighbours), so programs see the same fairness and the same misuse
 * reports.  The fields are plain C types because gort.h must also be C++;
 * every access that can race goes through the __atomic builtins, sequentially
 * consistent as DESIGN.md asks (on x86 a read-modify-write costs the same in
 * any order), and those atomics are what give each primitive its
 * happens-before edges.
 *
 * Mutex.  state packs four things:
 *
 *      bit 0  MUTEX_LOCKED    someone holds the lock
 *      bit 1  MUTEX_WOKEN     a goroutine is awake and trying to lock, so
 *                             Unlock need not wake another
 *      bit 2  MUTEX_STARVING  starvation mode (below)
 *      3..31                  number of goroutines parked on `sema`
 *
 * Lock is one CAS 0 -> LOCKED when free; Unlock one atomic add of -LOCKED,
 * which leaves zero when nobody waits.  Everything else is lock_slow and
 * unlock_slow, out of line.
 *
 * Normal mode: waiters queue FIFO, but a woken waiter does not own the
 * lock: it competes with goroutines that are arriving just now and are
 * already on a CPU, and usually loses.  That is what makes the mutex fast
 * (no switch per handover), but it can starve a waiter; a waiter that lost
 * goes back to the head of the queue (LIFO requeue).  Before parking, a
 * goroutine spins briefly (can_spin: Go's sync_runtime_canSpin) when the
 * holder is likely running on another P and will let go soon.
 *
 * Starvation mode: once a waiter has waited more than 1 ms it sets
 * STARVING; from then on Unlock hands the lock directly to the first waiter
 * (semrelease with handoff), newcomers neither spin nor barge but queue at
 * the tail.  The waiter that receives the lock leaves starvation mode if it
 * is the last waiter or has itself waited less than 1 ms.  In starvation
 * mode the LOCKED bit stays clear during the handoff; the woken waiter adds
 * it (and removes itself from the count) in one atomic add.
 *
 * RWMutex.  Writers exclude each other with w.  reader_count counts active
 * readers; a writer subtracts RWMUTEX_MAX_READERS from it, which both
 * announces the writer (new readers see a negative count and sleep on
 * reader_sem) and tells it how many readers were active; it waits on
 * writer_sem until those have left, counted down in reader_wait.  Unlock
 * adds MAX back and wakes the readers that queued meanwhile.
 *
 * WaitGroup.  state is counter (high 32 bits) and waiters (low 32) in one
 * word, so that Add can see "counter hit zero with waiters" atomically; the
 * last Add resets the word to zero and then releases the waiters.
 *
 * Once.  done is read with one load on the fast path; the slow path runs fn
 * under the once's mutex, so concurrent callers wait for fn to finish.
 *
 * Cond.  The waiter queue is sema.c's notify list, laid over the middle of
 * gort_cond.  checker holds the cond's own address once used, so a copied
 * cond (whose checker then points elsewhere) is detected.
 */
#include "sema.h"

enum {
    MUTEX_LOCKED = 1,
    MUTEX_WOKEN = 2,
    MUTEX_STARVING = 4,
    MUTEX_WAITER_SHIFT = 3,
};
/* A waiter that has waited longer than this switches the mutex to
 * starvation mode: a 1 ms tail is far above a normal-mode handover (~µs)
 * and far below what a user would call a hang. */
#define STARVATION_THRESHOLD_NS 1000000

/* Spinning: at most ACTIVE_SPIN rounds of ACTIVE_SPIN_CNT PAUSEs, Go's
 * sync_runtime_canSpin/doSpin.  No passive spinning (osyield) as the
 * runtime locks do: there may be other goroutines to run instead. */
enum { ACTIVE_SPIN = 4, ACTIVE_SPIN_CNT = 30 };

#define RWMUTEX_MAX_READERS (1 << 30)

static inline int32_t load32(int32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline int32_t add32(int32_t *p, int32_t delta)
{
    return __atomic_add_fetch(p, delta, __ATOMIC_SEQ_CST);
}

static inline bool cas32(int32_t *p, int32_t old, int32_t new)
{
    return __atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

/* ---- Mutex ---------------------------------------------------------- */

/* A racy snapshot is enough: this only decides whether spinning is worth it. */
static bool runq_empty(struct p *pp)
{
    for (;;) {
        uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_seq_cst);
        uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_seq_cst);
        struct g *next = atomic_load_explicit(&pp->runnext, memory_order_seq_cst);
        if (tail == atomic_load_explicit(&pp->runqtail, memory_order_seq_cst))
            return head == tail && next == NULL;
    }
}

/* Spinning pays only when the holder runs on another P and will unlock
 * within a few hundred cycles; it is wasted (and delays the holder) when
 * this is the only P, when every other P is idle or itself spinning for
 * work (so nobody is running the holder), or when this P has goroutines
 * waiting to run. */
static bool can_spin(int iter)
{
    if (iter >= ACTIVE_SPIN || ncpu <= 1)
        return false;
    int32_t busy = atomic_load_explicit(&sched.npidle, memory_order_relaxed) +
                   atomic_load_explicit(&sched.nmspinning, memory_order_relaxed) + 1;
    if (atomic_load_explicit(&gomaxprocs, memory_order_relaxed) <= busy)
        return false;
    struct g *gp = getg();
    struct p *pp = gp != NULL && gp->m != NULL ? gp->m->p : NULL;
    return pp != NULL && runq_empty(pp);
}

static NOINLINE void mutex_lock_slow(gort_mutex *m)
{
    int64_t wait_start = 0;
    bool starving = false;
    bool awoke = false; /* we own the WOKEN bit */
    int iter = 0;
    int32_t old = load32(&m->state);
    for (;;) {
        /* Spin while the lock is held in normal mode.  Setting WOKEN tells
         * Unlock that a waker is unnecessary: we are awake and will take it. */
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED && can_spin(iter)) {
            if (!awoke && (old & MUTEX_WOKEN) == 0 && (old >> MUTEX_WAITER_SHIFT) != 0 &&
                cas32(&m->state, old, old | MUTEX_WOKEN))
                awoke = true;
            procyield(ACTIVE_SPIN_CNT);
            iter++;
            old = load32(&m->state);
            continue;
        }
        int32_t new = old;
        /* In starvation mode the lock belongs to the queue: do not grab it. */
        if ((old & MUTEX_STARVING) == 0)
            new |= MUTEX_LOCKED;
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
            new += 1 << MUTEX_WAITER_SHIFT;
        /* Switch to starvation mode only while the lock is held: if it is
         * free, the Unlock that would expect waiters may never come. */
        if (starving && (old & MUTEX_LOCKED) != 0)
            new |= MUTEX_STARVING;
        if (awoke) {
            /* Whatever happens next we are no longer the awake waiter. */
            if ((new & MUTEX_WOKEN) == 0)
                throw("sync: inconsistent mutex state");
            new &= ~MUTEX_WOKEN;
        }
        if (!cas32(&m->state, old, new)) {
            old = load32(&m->state);
            continue;
        }
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == 0)
            return; /* took it with the CAS */

        /* Queued: a goroutine that has waited before goes back to the head. */
        bool lifo = wait_start != 0;
        if (wait_start == 0)
            wait_start = nanotime();
        semacquire1(&m->sema, lifo, WAIT_REASON_SYNC_MUTEX_LOCK);
        starving = starving || nanotime() - wait_start > STARVATION_THRESHOLD_NS;
        old = load32(&m->state);
        if ((old & MUTEX_STARVING) != 0) {
            /* Handed to us: the lock is ours although LOCKED is clear, and we
             * are still counted as a waiter. */
            if ((old & (MUTEX_LOCKED | MUTEX_WOKEN)) != 0 || (old >> MUTEX_WAITER_SHIFT) == 0)
                throw("sync: inconsistent mutex state");
            int32_t delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
            /* Leave starvation mode while it is cheap to: a long queue in
             * starvation mode serialises every handover through a switch. */
            if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
                delta -= MUTEX_STARVING;
            add32(&m->state, delta);
            return;
        }
        awoke = true;
        iter = 0;
    }
}

void gort_mutex_lock(gort_mutex *m)
{
    int32_t old = 0;
    if (likely(__atomic_compare_exchange_n(&m->state, &old, MUTEX_LOCKED, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)))
        return;
    mutex_lock_slow(m);
}

bool gort_mutex_trylock(gort_mutex *m)
{
    int32_t old = load32(&m->state);
    if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
        return false;
    return cas32(&m->state, old, old | MUTEX_LOCKED);
}

/* new is the state just after our -LOCKED. */
static NOINLINE void mutex_unlock_slow(gort_mutex *m, int32_t new)
{
    if (((new + MUTEX_LOCKED) & MUTEX_LOCKED) == 0)
        fatal("sync: unlock of unlocked mutex");
    if ((new & MUTEX_STARVING) != 0) {
        /* Hand the lock to the first waiter and give it our time slice, so it
         * runs now rather than behind everything in the run queue. */
        semrelease1(&m->sema, true);
        return;
    }
    int32_t old = new;
    for (;;) {
        /* Nobody to wake, or someone is already awake (WOKEN), or the lock
         * was taken again (LOCKED; that holder's Unlock will wake), or a
         * waiter switched to starvation mode (its handoff comes later). */
        if ((old >> MUTEX_WAITER_SHIFT) == 0 ||
            (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)) != 0)
            return;
        new = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
        if (cas32(&m->state, old, new)) {
            semrelease1(&m->sema, false);
            return;
        }
        old = load32(&m->state);
    }
}

void gort_mutex_unlock(gort_mutex *m)
{
    int32_t new = add32(&m->state, -MUTEX_LOCKED);
    if (unlikely(new != 0))
        mutex_unlock_slow(m, new);
}

/* ---- RWMutex -------------------------------------------------------- */

void gort_rwmutex_rlock(gort_rwmutex *rw)
{
    if (add32(&rw->reader_count, 1) < 0)
        semacquire1(&rw->reader_sem, false, WAIT_REASON_SYNC_RWMUTEX_RLOCK);
}

bool gort_rwmutex_tryrlock(gort_rwmutex *rw)
{
    for (;;) {
        int32_t c = load32(&rw->reader_count);
        if (c < 0)
            return false;
        if (cas32(&rw->reader_count, c, c + 1))
            return true;
    }
}

static NOINLINE void rwmutex_runlock_slow(gort_rwmutex *rw, int32_t r)
{
    if (r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS)
        fatal("sync: RUnlock of unlocked RWMutex");
    /* A writer is waiting for the readers that were active when it came. */
    if (add32(&rw->reader_wait, -1) == 0)
        semrelease1(&rw->writer_sem, false);
}

void gort_rwmutex_runlock(gort_rwmutex *rw)
{
    int32_t r = add32(&rw->reader_count, -1);
    if (unlikely(r < 0))
        rwmutex_runlock_slow(rw, r);
}

void gort_rwmutex_lock(gort_rwmutex *rw)
{
    gort_mutex_lock(&rw->w);
    int32_t r = add32(&rw->reader_count, -RWMUTEX_MAX_READERS) + RWMUTEX_MAX_READERS;
    /* Readers that leave between the two adds have already counted
     * reader_wait below zero; the sum tells whether any are left. */
    if (r != 0 && add32(&rw->reader_wait, r) != 0)
        semacquire1(&rw->writer_sem, false, WAIT_REASON_SYNC_RWMUTEX_LOCK);
}

bool gort_rwmutex_trylock(gort_rwmutex *rw)
{
    if (!gort_mutex_trylock(&rw->w))
        return false;
    if (!cas32(&rw->reader_count, 0, -RWMUTEX_MAX_READERS)) {
        gort_mutex_unlock(&rw->w);
        return false;
    }
    return true;
}

void gort_rwmutex_unlock(gort_rwmutex *rw)
{
    int32_t r = add32(&rw->reader_count, RWMUTEX_MAX_READERS);
    if (r >= RWMUTEX_MAX_READERS)
        fatal("sync: Unlock of unlocked RWMutex");
    /* r readers arrived while we held it and are parked, or about to be. */
    for (int32_t i = 0; i < r; i++)
        semrelease1(&rw->reader_sem, false);
    gort_mutex_unlock(&rw->w);
}

/* ---- WaitGroup ------------------------------------------------------ */

void gort_waitgroup_add(gort_waitgroup *wg, int delta)
{
    uint64_t state = __atomic_add_fetch(&wg->state, (uint64_t)(int64_t)delta << 32,
                                        __ATOMIC_SEQ_CST);
    int32_t v = (int32_t)(state >> 32);
    uint32_t w = (uint32_t)state;
    if (v < 0)
        gort_panic("sync: negative WaitGroup counter");
    /* The counter went from 0 up while someone waits: an Add raced with a
     * Wait that had already seen zero, or the group is being reused. */
    if (w != 0 && delta > 0 && v == delta)
        gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    if (v > 0 || w == 0)
        return;
    /* Counter zero with waiters: nobody may change the state any more (Adds
     * and Waits must not run now), so the plain checks below are sound and a
     * change means misuse. */
    if (__atomic_load_n(&wg->state, __ATOMIC_SEQ_CST) != state)
        gort_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    __atomic_store_n(&wg->state, 0, __ATOMIC_SEQ_CST);
    for (; w != 0; w--)
        semrelease1(&wg->sema, false);
}

void gort_waitgroup_done(gort_waitgroup *wg)
{
    gort_waitgroup_add(wg, -1);
}

void gort_waitgroup_wait(gort_waitgroup *wg)
{
    uint64_t state = __atomic_load_n(&wg->state, __ATOMIC_SEQ_CST);
    for (;;) {
        if ((int32_t)(state >> 32) == 0)
            return;
        if (__atomic_compare_exchange_n(&wg->state, &state, state + 1, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            semacquire1(&wg->sema, false, WAIT_REASON_SYNC_WAITGROUP_WAIT);
            /* The releasing Add zeroed the state before waking us; anything
             * else means a new round of Adds began before we returned. */
            if (__atomic_load_n(&wg->state, __ATOMIC_SEQ_CST) != 0)
                gort_panic("sync: WaitGroup is reused before previous Wait has returned");
            return;
        }
    }
}

/* ---- Once ----------------------------------------------------------- */

/* Go's doSlow defers both the unlock and the store of done, so that when fn
 * panics and the panic is recovered further up, done is 1 (fn counts as
 * called and is never called again) and the mutex is free.  Until recover
 * exists a panic in fn ends the program, so straight-line code is
 * equivalent; these two must become deferred calls when it does. */
static NOINLINE void once_do_slow(gort_once *once, void (*fn)(void *), void *arg)
{
    gort_mutex_lock(&once->m);
    /* done changes only under m, so a plain read is enough here. */
    if (once->done == 0) {
        fn(arg);
        __atomic_store_n(&once->done, 1, __ATOMIC_SEQ_CST);
    }
    gort_mutex_unlock(&once->m);
}

void gort_once_do(gort_once *once, void (*fn)(void *), void *arg)
{
    /* done must not be set before fn returns (not by a CAS up front, say):
     * a caller that sees done == 1 must see everything fn did. */
    if (likely(__atomic_load_n(&once->done, __ATOMIC_SEQ_CST) != 0))
        return;
    once_do_slow(once, fn, arg);
}

/* ---- Cond ----------------------------------------------------------- */

#define CONDNL_OFF(f) (offsetof(gort_cond, f) - offsetof(gort_cond, wait))
_Static_assert(CONDNL_OFF(wait) == offsetof(struct notifylist, wait), "notifylist.wait");
_Static_assert(CONDNL_OFF(notify) == offsetof(struct notifylist, notify), "notifylist.notify");
_Static_assert(CONDNL_OFF(head) == offsetof(struct notifylist, head), "notifylist.head");
_Static_assert(CONDNL_OFF(tail) == offsetof(struct notifylist, tail), "notifylist.tail");
/* gort_cond's `lock` cannot be named here (runtime.h maps lock to
 * gort_lock), so check it as the uintptr_t just before head. */
_Static_assert(CONDNL_OFF(head) - sizeof(uintptr_t) == offsetof(struct notifylist, lock),
               "notifylist.lock");
_Static_assert(sizeof(struct mutex) <= sizeof(uintptr_t), "notifylist.lock size");
_Static_assert(offsetof(gort_cond, wait) % _Alignof(struct notifylist) == 0, "notifylist align");
_Static_assert(offsetof(gort_cond, checker) >= offsetof(gort_cond, wait) + sizeof(struct notifylist),
               "notifylist overlaps checker");

static struct notifylist *cond_list(gort_cond *c)
{
    return (struct notifylist *)(void *)&c->wait;
}

/* The first use records the cond's own address; a copy then carries an
 * address that is not its own.  Three steps, as Go, so the common case is
 * one load and a fresh cond costs one CAS. */
static void cond_check(gort_cond *c)
{
    uintptr_t self = (uintptr_t)&c->checker;
    uintptr_t seen = __atomic_load_n(&c->checker, __ATOMIC_SEQ_CST);
    if (seen == self)
        return;
    seen = 0;
    if (__atomic_compare_exchange_n(&c->checker, &seen, self, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        return;
    if (seen != self) /* seen now holds the value that beat our CAS */
        gort_panic("sync.Cond is copied");
}

void gort_cond_init(gort_cond *c, gort_mutex *l)
{
    c->l = l;
    lock_init(&cond_list(c)->lock, LOCKRANK_NOTIFYLIST);
}

void gort_cond_wait(gort_cond *c)
{
    cond_check(c);
    /* Ticket first, then unlock: a Signal after our Unlock must find us. */
    uint32_t t = notifylist_add(cond_list(c));
    gort_mutex_unlock(c->l);
    notifylist_wait(cond_list(c), t);
    gort_mutex_lock(c->l);
}

void gort_cond_signal(gort_cond *c)
{
    cond_check(c);
    notifylist_notify_one(cond_list(c));
}

void gort_cond_broadcast(gort_cond *c)
{
    cond_check(c);
    notifylist_notify_all(cond_list(c));
}
