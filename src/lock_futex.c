/*
 * lock_futex.c — runtime mutexes and notes on Linux futexes.
 *
 * A runtime mutex guards a short critical section (a run queue, a channel, a
 * timer heap) and is never held across a park.  lock() tries a CAS, spins a
 * little with PAUSE (the holder is running on another CPU and about to let
 * go: a futex sleep and wake-up cost ~25 µs here against ~1 µs of spinning),
 * yields the CPU a few times, then sleeps on the futex.  The key is
 *     0 unlocked, 1 locked, 2 locked and a thread may sleep on it,
 * so unlock() makes the wake syscall only when someone may be asleep.
 *
 * m->locks counts the runtime locks an m holds: a g holding one must not be
 * switched out (acquirem/releasem rely on it too).  With GORT_DEBUG >= 2 the
 * rank of every held lock is recorded and a lock taken at or below a held
 * rank throws — except the channel rank, several of which select takes in
 * address order.
 *
 * A note is a one-shot event for one sleeper and one waker (an idle m
 * waiting for work): 0 clear, 1 woken.
 */
#include "runtime.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { ACTIVE_SPIN = 4, ACTIVE_SPIN_CNT = 30, PASSIVE_SPIN = 1 };

/* Both keep errno: a runtime lock taken inside a gort call (an allocation
 * that refills, a sudog, a timer) runs on the calling goroutine's thread,
 * and the C caller's errno must not change (EAGAIN, ETIMEDOUT, EINTR are
 * the futex's to see, not the program's).  No switch happens inside, so
 * errno is this thread's throughout. */
void futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    int saved = errno;
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
    errno = saved;
}

void futexwakeup(_Atomic uint32_t *addr, uint32_t cnt)
{
    int saved = errno;
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, NULL, NULL, 0);
    errno = saved;
}

void lock_init(struct mutex *l, enum lockrank rank)
{
    atomic_store_explicit(&l->key, 0, memory_order_relaxed);
    l->rank = (uint8_t)rank;
}

static void rank_acquire(struct mutex *l)
{
    struct g *gp = getg();
    if (gp == NULL || gp->m == NULL)
        return;
    struct m *mp = gp->m;
    int n = mp->locks;
    if (GORT_DEBUG >= 2 && n > 0 && n <= (int)sizeof mp->lockranks) {
        uint8_t top = mp->lockranks[n - 1];
        if (l->rank != LOCKRANK_NONE && top != LOCKRANK_NONE &&
            (l->rank < top || (l->rank == top && l->rank != LOCKRANK_HCHAN))) {
            print("runtime: lock ordering problem: rank %d after %d\n", l->rank, top);
            throw("lock ordering problem");
        }
    }
    if (n < (int)sizeof mp->lockranks)
        mp->lockranks[n] = l->rank;
    mp->locks = n + 1;
}

static void rank_release(void)
{
    struct g *gp = getg();
    if (gp == NULL || gp->m == NULL)
        return;
    struct m *mp = gp->m;
    if (--mp->locks < 0)
        throw("runtime·unlock: lock count");
}

void lock(struct mutex *l)
{
    rank_acquire(l);
    uint32_t v = 0;
    if (likely(atomic_compare_exchange_strong_explicit(&l->key, &v, 1, memory_order_acquire,
                                                       memory_order_relaxed)))
        return;
    /* Contended.  From here on we set 2 when we take it, because we cannot
     * know whether others are sleeping. */
    uint32_t wait = atomic_exchange_explicit(&l->key, 2, memory_order_acquire);
    if (wait == 0)
        return;
    int spin = ncpu > 1 ? ACTIVE_SPIN : 0;
    for (;;) {
        for (int i = 0; i < spin; i++) {
            while (atomic_load_explicit(&l->key, memory_order_relaxed) == 0) {
                v = 0;
                if (atomic_compare_exchange_weak_explicit(&l->key, &v, 2, memory_order_acquire,
                                                          memory_order_relaxed))
                    return;
            }
            procyield(ACTIVE_SPIN_CNT);
        }
        for (int i = 0; i < PASSIVE_SPIN; i++) {
            while (atomic_load_explicit(&l->key, memory_order_relaxed) == 0) {
                v = 0;
                if (atomic_compare_exchange_weak_explicit(&l->key, &v, 2, memory_order_acquire,
                                                          memory_order_relaxed))
                    return;
            }
            osyield();
        }
        if (atomic_exchange_explicit(&l->key, 2, memory_order_acquire) == 0)
            return;
        futexsleep(&l->key, 2, -1);
    }
}

void unlock(struct mutex *l)
{
    uint32_t v = atomic_exchange_explicit(&l->key, 0, memory_order_release);
    if (unlikely(v == 0))
        throw("unlock of unlocked lock");
    if (v == 2)
        futexwakeup(&l->key, 1);
    rank_release();
}

void noteclear(struct note *n)
{
    atomic_store_explicit(&n->key, 0, memory_order_relaxed);
}

void notewakeup(struct note *n)
{
    uint32_t old = atomic_exchange_explicit(&n->key, 1, memory_order_release);
    if (old != 0) {
        print("notewakeup - double wakeup (%u)\n", old);
        throw("notewakeup - double wakeup");
    }
    futexwakeup(&n->key, 1);
}

void notesleep(struct note *n)
{
    while (atomic_load_explicit(&n->key, memory_order_acquire) == 0)
        futexsleep(&n->key, 0, -1);
}

bool notetsleep(struct note *n, int64_t ns)
{
    if (ns < 0) {
        notesleep(n);
        return true;
    }
    int64_t deadline = nanotime() + ns;
    while (atomic_load_explicit(&n->key, memory_order_acquire) == 0) {
        int64_t now = nanotime();
        if (now >= deadline)
            return false;
        futexsleep(&n->key, 0, deadline - now);
    }
    return true;
}
