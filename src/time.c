/*
 * time.c — per-P timers and gort_sleep.
 *
 * Each P keeps its timers in a 4-ary min-heap ordered by `when` (Go's
 * timerHeapN = 4: shallower than a binary heap, and a node's children share
 * a cache line).  p->timer0when mirrors the root's when (0: empty) so that
 * schedulers can check every P's timers with one atomic load each.  Timers
 * run on whatever M holds a P when they expire: the P's own scheduler
 * (findrunnable), any M looking for work (which runs all Ps' expired timers
 * before stealing), or the timer sleeper — the one M that sleeps without a
 * P until the earliest timer (proc.c, Go's M blocked in netpoll).
 *
 * A timer's function runs with no timer lock held, so it may add timers.
 * Locks: p->timerslock (LOCKRANK_TIMERS) guards the heap and the timers in
 * it (when, idx, pp).
 */
#include "runtime.h"

#include <stdlib.h>

static void siftup(struct timer **h, int32_t i)
{
    struct timer *t = h[i];
    while (i > 0) {
        int32_t parent = (i - 1) / 4;
        if (t->when >= h[parent]->when)
            break;
        h[i] = h[parent];
        h[i]->idx = i;
        i = parent;
    }
    h[i] = t;
    t->idx = i;
}

static void siftdown(struct timer **h, int32_t n, int32_t i)
{
    struct timer *t = h[i];
    for (;;) {
        int32_t c = i * 4 + 1;
        if (c >= n)
            break;
        int32_t best = c;
        for (int32_t k = c + 1; k < c + 4 && k < n; k++)
            if (h[k]->when < h[best]->when)
                best = k;
        if (h[best]->when >= t->when)
            break;
        h[i] = h[best];
        h[i]->idx = i;
        i = best;
    }
    h[i] = t;
    t->idx = i;
}

static void update0(struct p *pp)
{
    atomic_store(&pp->timer0when, pp->ntimers > 0 ? pp->timers[0]->when : 0);
}

/* pp->timerslock must be held. */
static void heap_add(struct p *pp, struct timer *t)
{
    if (pp->ntimers == pp->timerscap) {
        int32_t cap = pp->timerscap ? pp->timerscap * 2 : 16;
        struct timer **nt = realloc(pp->timers, (size_t)cap * sizeof *nt);
        if (nt == NULL)
            throw("addtimer: out of memory");
        pp->timers = nt;
        pp->timerscap = cap;
    }
    t->pp = pp;
    pp->timers[pp->ntimers] = t;
    siftup(pp->timers, pp->ntimers++);
    update0(pp);
}

/* pp->timerslock must be held; t is in pp's heap. */
static void heap_del(struct p *pp, struct timer *t)
{
    int32_t i = t->idx;
    if (i < 0 || i >= pp->ntimers || pp->timers[i] != t)
        throw("timer data corruption");
    int32_t last = --pp->ntimers;
    if (i != last) {
        pp->timers[i] = pp->timers[last];
        pp->timers[i]->idx = i;
        siftdown(pp->timers, pp->ntimers, i);
        siftup(pp->timers, pp->timers[i]->idx);
    }
    t->pp = NULL;
    t->idx = -1;
    update0(pp);
}

void addtimer(struct timer *t)
{
    if (t->when <= 0)
        t->when = 1;
    struct m *mp = acquirem();
    struct p *pp = mp->p;
    if (pp == NULL)
        throw("addtimer: no p");
    /* Once the lock is dropped the timer may fire on another m and its
     * owner reuse it: read when first. */
    int64_t when = t->when;
    lock(&pp->timerslock);
    heap_add(pp, t);
    unlock(&pp->timerslock);
    releasem(mp);
    wake_timersleeper(when);
}

bool deltimer(struct timer *t)
{
    for (;;) {
        struct p *pp = __atomic_load_n(&t->pp, __ATOMIC_ACQUIRE);
        if (pp == NULL)
            return false;
        lock(&pp->timerslock);
        if (t->pp != pp) {
            unlock(&pp->timerslock);
            continue;
        }
        heap_del(pp, t);
        unlock(&pp->timerslock);
        return true;
    }
}

int64_t checktimers(struct p *pp, int64_t now)
{
    int64_t w = atomic_load(&pp->timer0when);
    if (w == 0)
        return 0;
    if (now == 0)
        now = nanotime();
    if (w > now)
        return w;
    lock(&pp->timerslock);
    while (pp->ntimers > 0 && pp->timers[0]->when <= now) {
        struct timer *t = pp->timers[0];
        heap_del(pp, t);
        void (*f)(void *, uintptr_t) = t->f;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        if (t->period > 0) {
            t->when += t->period * (1 + (now - t->when) / t->period);
            heap_add(pp, t);
        }
        unlock(&pp->timerslock);
        f(arg, seq);
        lock(&pp->timerslock);
    }
    int64_t next = pp->ntimers > 0 ? pp->timers[0]->when : 0;
    unlock(&pp->timerslock);
    return next;
}

int64_t nexttimer(void)
{
    int64_t next = 0;
    int32_t n = atomic_load(&gomaxprocs);
    struct p **ps = __atomic_load_n(&allp, __ATOMIC_ACQUIRE);
    for (int32_t i = 0; i < n; i++) {
        int64_t w = atomic_load(&ps[i]->timer0when);
        if (w != 0 && (next == 0 || w < next))
            next = w;
    }
    return next;
}

/* Moves every timer of `from` (being destroyed) to `to`.  World stopped. */
void gort_timers_move(struct p *from, struct p *to)
{
    lock(&from->timerslock);
    lock(&to->timerslock);
    while (from->ntimers > 0) {
        struct timer *t = from->timers[from->ntimers - 1];
        heap_del(from, t);
        heap_add(to, t);
    }
    unlock(&to->timerslock);
    unlock(&from->timerslock);
}

/* ---- gort_sleep ---------------------------------------------------------- */

static void sleep_wake(void *arg, uintptr_t seq)
{
    (void)seq;
    goready(arg);
}

/* Runs after the sleeping g is switched out: only now may its timer fire. */
static bool sleep_commit(struct g *gp, void *arg)
{
    (void)gp;
    addtimer(arg);
    return true;
}

static void sleep_(int64_t ns);

void gort_sleep(int64_t ns)
{
    if (ns <= 0)
        return;
    FOREIGN_CALL(sleep_(ns));
}

static void sleep_(int64_t ns)
{
    struct g *gp = getg();
    struct timer *t = gp->sleeptimer;
    if (t == NULL) {
        /* On the GC heap like every runtime object; its owner, the g, is
         * not a GC object, so it is uncollectable (reused for the g's
         * life). */
        t = gort_malloc_uncollectable(sizeof *t);
        t->idx = -1;
        gp->sleeptimer = t;
    }
    int64_t now = nanotime();
    t->when = now + ns;
    if (t->when < now)
        t->when = INT64_MAX; /* overflow: sleep "forever" */
    t->period = 0;
    t->f = sleep_wake;
    t->arg = gp;
    gopark(sleep_commit, t, WAIT_REASON_SLEEP);
}
