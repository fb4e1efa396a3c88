/*
 * proc.c — goroutine scheduler: Go's G/M/P.
 *
 * Ms (OS threads) run Gs (goroutines) while they hold a P.  There are
 * GOMAXPROCS Ps.  Each P has a local run queue — a 256-slot ring that its
 * owner appends to and anyone may take from with a CAS on the head — and a
 * `runnext` slot holding the g to run next (the one just made ready, so a
 * producer and its consumer run back to back; a g taken from runnext
 * inherits the time slice).  Overflow goes, half a ring at a time, to the
 * global queue under sched.lock, which every P checks first once every 61
 * schedules so that nothing there starves.
 *
 * An M without work spins for a while stealing half of another P's queue
 * (at most half the busy Ps' worth of Ms spin: a wake-up on these VMs costs
 * ~25 µs, a spinning M answers in ~1 µs), then puts its P on the idle list
 * and sleeps on its note.  Whoever makes work ready while a P is idle and no
 * M spins wakes one (wakep), which then spins, finds the work, and wakes the
 * next if it finds more — so wake-ups ripple only as far as work exists.
 *
 * Switching.  Go switches g → g0 → g' on every park: the scheduler runs on
 * the thread's own stack.  That costs two switches, ~12 ns each here.  When
 * the parking g's own P has a runnable g locally we switch straight to it
 * instead, and the "commit" of the park — marking the old g waiting and
 * releasing the lock it parked under (gopark's unlockf) — runs on the new
 * g's stack right after the switch.  Until the commit, the old g is still
 * "running" and nobody can find it to ready it, because the lock that
 * publishes it is still held; after the commit its stack is no longer used,
 * so another M may resume it at once.  Only when no local g is at hand does
 * the park go through g0, which commits and then looks for work, possibly
 * sleeping: sleeping on the parked g's stack would let another M resume that
 * g while this M still stands on its stack.  The same scheme carries
 * gosched (commit: put the g on the global queue) and goexit (commit: free
 * the g and its stack).  m->commitfn/commitg carry the request across the
 * switch; switch_g() runs it on the other side.
 *
 * States: a g's atomicstatus moves RUNNABLE → RUNNING (execute) →
 * WAITING (park commit) → RUNNABLE (goready) … → DEAD (goexit commit), and
 * RUNNING ⇄ SYSCALL around gort_syscall_enter/exit.  casgstatus checks every
 * transition.
 *
 * Time slices.  sysmon watches each P's schedtick; a g that has held its P
 * for 10 ms (a runnext g inherits its predecessor's slice, so a ping-pong
 * pair counts as one) is asked to yield by signal (preempt.c).  The direct
 * switch still yields to expired timers and to the global queue's turn.
 *
 * Foreign threads, attached on their first call (see below), run as gs
 * locked to their own m, in syscall state between calls.
 *
 * Deadlock.  An M that finds no work and no timer parks in stopm, which
 * calls checkdead under sched.lock: when no M is running (the timer sleeper
 * and Ms in syscalls count as running) and no goroutine is runnable, every
 * user goroutine is blocked forever and the program dies as Go's does.
 *
 * Locks: sched.lock (LOCKRANK_SCHED) guards the global queue, the idle P and
 * M lists and the counts next to them.  allglock guards appending to allgs.
 */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#if GORT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GORT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_destroy_fiber(void *fiber);
#endif

struct schedt sched __asm__("gort_sched") = {
    .lock = MUTEX_INIT(LOCKRANK_SCHED),
    .sudoglock = MUTEX_INIT(LOCKRANK_SUDOG),
};
struct p **allp;
_Atomic int32_t gomaxprocs;

/* allp[i] for i < a gomaxprocs read just before, by a thread that may run
 * while the world is stopped (an m without a p): procresize publishes a
 * grown array before it raises gomaxprocs, and the array never shrinks. */
static inline struct p *allp_racy(int32_t i)
{
    return __atomic_load_n(&__atomic_load_n(&allp, __ATOMIC_ACQUIRE)[i], __ATOMIC_ACQUIRE);
}
struct mutex allglock = MUTEX_INIT(LOCKRANK_ALLG);
struct g *_Atomic allgs;
struct g *allgs_tail;
_Atomic int32_t allgcount;
struct m *_Atomic allm;
int64_t runtime_inittime;
__thread struct g *gort_tls_g __attribute__((tls_model("initial-exec")));

enum {
    MAX_MCOUNT = 10000,      /* Go's sched.maxmcount */
    MAIN_STACK = 8 << 20,    /* goroutine 1 gets a thread-sized stack */
    STEAL_TRIES = 4,
    SYSMON_MIN_US = 20,
    SYSMON_MAX_US = 10000,
};

static struct m m0;
static struct g g0_m0;
static int (*main_fn)(int, char **);
static int main_argc;
static char **main_argv;
static _Atomic bool main_started;
static int32_t allp_cap; /* allocated length of allp; sched.lock */

static NORETURN void schedule(void);
static void goexit_commit(struct g *gp);
static void stopm(struct m *mp);
static void park_idle(struct m *mp);
static void startm(struct p *pp, bool spinning);
static void handoffp(struct p *pp);
void gort_goentry(void);

/* ---- small helpers ----------------------------------------------------- */

static inline int32_t runqsize_racy(void)
{
    return __atomic_load_n(&sched.runqsize, __ATOMIC_RELAXED);
}

uint32_t fastrand(void)
{
    struct g *gp = getg();
    uint64_t *s;
    static _Atomic uint64_t global_state = 0x9E3779B97F4A7C15ull;
    if (gp != NULL && gp->m != NULL) {
        s = &gp->m->randstate;
        *s += 0xa0761d6478bd642full;
        __uint128_t t = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbull);
        return (uint32_t)((uint64_t)(t >> 64) ^ (uint64_t)t);
    }
    uint64_t x = atomic_fetch_add(&global_state, 0xa0761d6478bd642full);
    __uint128_t t = (__uint128_t)x * (x ^ 0xe7037ed1a0b428dbull);
    return (uint32_t)((uint64_t)(t >> 64) ^ (uint64_t)t);
}

/* Status changes are made by whoever owns the g at that moment (its m, or
 * the waker that took it off a wait queue under that queue's lock), so a
 * checked store does: an atomic read-modify-write costs ~11 ns here and
 * there are four per park/ready round trip. */
void casgstatus(struct g *gp, uint32_t oldval, uint32_t newval)
{
    uint32_t v = atomic_load_explicit(&gp->atomicstatus, memory_order_relaxed);
    if (unlikely(v != oldval)) {
        print("runtime: casgstatus: oldval=%u newval=%u (goroutine %ld has %u)\n", oldval,
              newval, (long)gp->goid, v);
        throw("casgstatus: bad incoming values");
    }
    atomic_store_explicit(&gp->atomicstatus, newval, memory_order_release);
}

struct m *acquirem(void)
{
    struct m *mp = getg()->m;
    if (mp->locks < (int32_t)sizeof mp->lockranks)
        mp->lockranks[mp->locks] = LOCKRANK_NONE;
    mp->locks++;
    return mp;
}

void releasem(struct m *mp)
{
    mp->locks--;
}

int32_t mcount(void)
{
    return (int32_t)(sched.mnext - sched.nmfreed);
}

/* Like Go's, a snapshot that may be off by the goroutines being created or
 * exiting at this moment. */
int32_t gcount(void)
{
    int32_t n = atomic_load(&sched.ngoroutine);
    int32_t procs = atomic_load(&gomaxprocs);
    struct p **ps = __atomic_load_n(&allp, __ATOMIC_ACQUIRE);
    for (int32_t i = 0; i < procs; i++)
        n += __atomic_load_n(&ps[i]->ngoroutine, __ATOMIC_RELAXED);
    return n;
}

/* errno is the thread's, but a goroutine must see its own across a switch
 * (DESIGN.md): saved in the g when it switches out, restored where it
 * resumes.  Out of line: glibc declares __errno_location const, so inline
 * code may keep the old thread's errno address across the switch and
 * restore into the wrong thread.  Under TSan, goroutines are fibers and the
 * thread's errno word looks shared between them, so these accesses are not
 * instrumented. */
#if GORT_TSAN
#define ERRNO_FN __attribute__((no_sanitize("thread"), noinline))
#else
#define ERRNO_FN __attribute__((noinline))
#endif
static ERRNO_FN int errno_get(void) { return errno; }
static ERRNO_FN void errno_set(int v) { errno = v; }

/* ---- local run queue (lock-free; owner puts, anyone takes) -------------- */

static bool runqempty(struct p *pp)
{
    for (;;) {
        uint32_t head = atomic_load(&pp->runqhead);
        uint32_t tail = atomic_load(&pp->runqtail);
        struct g *next = atomic_load(&pp->runnext);
        if (tail == atomic_load(&pp->runqtail))
            return head == tail && next == NULL;
    }
}

/* Appends n gs to the global queue.  sched.lock must be held. */
static void globrunqputbatch(struct g *const *batch, int32_t n)
{
    if ((uint32_t)(sched.runqsize + n) > sched.runqcap) {
        uint32_t cap = sched.runqcap ? sched.runqcap : 1024;
        while (cap < (uint32_t)(sched.runqsize + n))
            cap *= 2;
        struct g **q = malloc(cap * sizeof *q);
        if (q == NULL)
            throw("globrunqput: out of memory");
        for (int32_t i = 0; i < sched.runqsize; i++)
            q[i] = sched.runq[(sched.runqhead + (uint32_t)i) & (sched.runqcap - 1)];
        free(sched.runq);
        sched.runq = q;
        sched.runqhead = 0;
        sched.runqcap = cap;
    }
    for (int32_t i = 0; i < n; i++)
        sched.runq[(sched.runqhead + (uint32_t)(sched.runqsize + i)) & (sched.runqcap - 1)] =
            batch[i];
    __atomic_store_n(&sched.runqsize, sched.runqsize + n, __ATOMIC_RELAXED);
}

/* sched.lock must be held. */
static void globrunqput(struct g *gp)
{
    globrunqputbatch(&gp, 1);
}

/* Takes the oldest g of the global queue.  sched.lock must be held. */
static struct g *globrunqpop(void)
{
    if (sched.runqsize == 0)
        return NULL;
    struct g *gp = sched.runq[sched.runqhead];
    sched.runqhead = (sched.runqhead + 1) & (sched.runqcap - 1);
    __atomic_store_n(&sched.runqsize, sched.runqsize - 1, __ATOMIC_RELAXED);
    return gp;
}

/* Moves half of pp's ring plus gp to the global queue.  Owner only. */
static bool runqputslow(struct p *pp, struct g *gp, uint32_t head, uint32_t tail)
{
    struct g *batch[RUNQ_SIZE / 2 + 1];
    uint32_t n = (tail - head) / 2;
    if (n != RUNQ_SIZE / 2)
        throw("runqputslow: queue is not full");
    for (uint32_t i = 0; i < n; i++)
        batch[i] = atomic_load_explicit(&pp->runq[(head + i) % RUNQ_SIZE], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&pp->runqhead, &head, head + n,
                                                 memory_order_release, memory_order_relaxed))
        return false;
    batch[n] = gp;
    lock(&sched.lock);
    globrunqputbatch(batch, (int32_t)(n + 1));
    unlock(&sched.lock);
    return true;
}

/* Puts gp on pp's queue; next: into runnext, kicking its occupant to the
 * tail.  Owner only. */
static void runqput(struct p *pp, struct g *gp, bool next)
{
    if (next) {
        /* Stealers only ever change runnext from a g to NULL, so an empty
         * slot can be filled with a plain store; a full one needs the
         * exchange to learn whether a stealer took the old g first. */
        struct g *old = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
        if (old == NULL) {
            atomic_store_explicit(&pp->runnext, gp, memory_order_release);
            return;
        }
        old = atomic_exchange_explicit(&pp->runnext, gp, memory_order_acq_rel);
        if (old == NULL)
            return;
        gp = old;
    }
    for (;;) {
        uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
        if (tail - head < RUNQ_SIZE) {
            atomic_store_explicit(&pp->runq[tail % RUNQ_SIZE], gp, memory_order_relaxed);
            atomic_store_explicit(&pp->runqtail, tail + 1, memory_order_release);
            return;
        }
        if (runqputslow(pp, gp, head, tail))
            return;
    }
}

/* Takes the next g: runnext first (then *inherit: it keeps the time slice),
 * else the ring's head.  Owner only. */
static struct g *runqget(struct p *pp, bool *inherit)
{
    struct g *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
    if (next != NULL && atomic_compare_exchange_strong_explicit(
                            &pp->runnext, &next, NULL, memory_order_acq_rel,
                            memory_order_relaxed)) {
        *inherit = true;
        return next;
    }
    *inherit = false;
    for (;;) {
        uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
        if (tail == head)
            return NULL;
        struct g *gp = atomic_load_explicit(&pp->runq[head % RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&pp->runqhead, &head, head + 1,
                                                  memory_order_release, memory_order_relaxed))
            return gp;
    }
}

/* Grabs half of pp's queue into batch[batch_head...]; may take runnext. */
static uint32_t runqgrab(struct p *pp, struct g *_Atomic *batch, uint32_t batch_head,
                         bool steal_runnext)
{
    for (;;) {
        uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_acquire);
        uint32_t n = tail - head;
        n = n - n / 2;
        if (n == 0) {
            if (steal_runnext) {
                struct g *next = atomic_load(&pp->runnext);
                if (next != NULL) {
                    /* A running P is likely about to schedule its runnext
                     * itself; give it a moment rather than ping-pong the g
                     * between CPUs. */
                    if (atomic_load(&pp->status) == P_RUNNING)
                        usleep_rt(3);
                    if (!atomic_compare_exchange_strong(&pp->runnext, &next, NULL))
                        continue;
                    atomic_store_explicit(&batch[batch_head % RUNQ_SIZE], next,
                                          memory_order_relaxed);
                    return 1;
                }
            }
            return 0;
        }
        if (n > RUNQ_SIZE / 2)
            continue; /* read an inconsistent head/tail pair */
        for (uint32_t i = 0; i < n; i++) {
            struct g *gp = atomic_load_explicit(&pp->runq[(head + i) % RUNQ_SIZE],
                                                memory_order_relaxed);
            atomic_store_explicit(&batch[(batch_head + i) % RUNQ_SIZE], gp,
                                  memory_order_relaxed);
        }
        if (atomic_compare_exchange_strong_explicit(&pp->runqhead, &head, head + n,
                                                    memory_order_release, memory_order_relaxed))
            return n;
    }
}

/* Steals half of p2's queue into pp's; returns one g to run.  pp's owner. */
static struct g *runqsteal(struct p *pp, struct p *p2, bool steal_runnext)
{
    uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
    uint32_t n = runqgrab(p2, pp->runq, tail, steal_runnext);
    if (n == 0)
        return NULL;
    n--;
    struct g *gp = atomic_load_explicit(&pp->runq[(tail + n) % RUNQ_SIZE], memory_order_relaxed);
    if (n == 0)
        return gp;
    uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
    if (tail - head + n >= RUNQ_SIZE)
        throw("runqsteal: runq overflow");
    atomic_store_explicit(&pp->runqtail, tail + n, memory_order_release);
    return gp;
}

/* Takes a batch from the global queue: one to return, the rest into pp's
 * ring.  sched.lock must be held.  max == 0: no limit but Go's. */
static struct g *globrunqget(struct p *pp, int32_t max)
{
    int32_t size = sched.runqsize;
    if (size == 0)
        return NULL;
    int32_t n = size / atomic_load(&gomaxprocs) + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > RUNQ_SIZE / 2)
        n = RUNQ_SIZE / 2;
    struct g *gp = globrunqpop();
    while (--n > 0)
        runqput(pp, globrunqpop(), false);
    return gp;
}

/* Exposed to unit tests (tests/unit/runq.c). */
void gort_test_runqput(struct p *pp, struct g *gp, bool next) { runqput(pp, gp, next); }
struct g *gort_test_runqget(struct p *pp)
{
    bool inherit;
    return runqget(pp, &inherit);
}
struct g *gort_test_runqsteal(struct p *pp, struct p *p2, bool next)
{
    return runqsteal(pp, p2, next);
}
bool gort_test_runqempty(struct p *pp) { return runqempty(pp); }

/* ---- idle P and M lists (sched.lock held) ------------------------------- */

static void pidleput(struct p *pp)
{
    if (!runqempty(pp))
        throw("pidleput: P has non-empty run queue");
    atomic_store(&pp->status, P_IDLE);
    pp->link = sched.pidle;
    sched.pidle = pp;
    atomic_fetch_add(&sched.npidle, 1);
}

static struct p *pidleget(void)
{
    struct p *pp = sched.pidle;
    if (pp != NULL) {
        sched.pidle = pp->link;
        atomic_fetch_sub(&sched.npidle, 1);
    }
    return pp;
}

static void mput(struct m *mp)
{
    mp->schedlink = sched.midle;
    sched.midle = mp;
    sched.nmidle++;
    checkdead();
}

static struct m *mget(void)
{
    struct m *mp = sched.midle;
    if (mp != NULL) {
        sched.midle = mp->schedlink;
        sched.nmidle--;
    }
    return mp;
}

static void acquirep(struct m *mp, struct p *pp)
{
    if (mp->p != NULL || pp->m != NULL) {
        print("runtime: acquirep: m%ld p=%d p->m=%p\n", (long)mp->id, pp->id, (void *)pp->m);
        throw("acquirep: invalid p state");
    }
    mp->p = pp;
    pp->m = mp;
    atomic_store(&pp->status, P_RUNNING);
}

static struct p *releasep(struct m *mp)
{
    struct p *pp = mp->p;
    if (pp == NULL || pp->m != mp)
        throw("releasep: invalid arg");
    pp->m = NULL;
    mp->p = NULL;
    atomic_store(&pp->status, P_IDLE);
    return pp;
}

/* ---- the switch -------------------------------------------------------- */

static inline void sanitizer_switch_begin(struct g *from, struct g *to, bool dying)
{
#if GORT_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : (void **)&from->asan_fake_stack,
                                   (const void *)to->stack_lo, to->stack_hi - to->stack_lo);
#endif
#if GORT_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from;
    (void)to;
    (void)dying;
}

static inline void sanitizer_switch_end(struct g *self)
{
#if GORT_ASAN
    __sanitizer_finish_switch_fiber((void *)self->asan_fake_stack, NULL, NULL);
#endif
    (void)self;
}

static inline void run_commit(void)
{
    struct m *mp = getg()->m;
    void (*fn)(struct g *) = mp->commitfn;
    if (fn != NULL) {
        mp->commitfn = NULL;
        fn(mp->commitg);
    }
}

/* Switches from the running g `from` to `to` on this m.  Returns when some m
 * switches back to `from`; runs whatever commit the g that switched to us
 * left behind. */
static void switch_g(struct g *from, struct g *to)
{
    if (from->stackguard != 0)
        stack_check_canary(from);
    struct m *mp = from->m;
    sanitizer_switch_begin(from, to, mp->commitfn == goexit_commit && mp->commitg == from);
    setg(to);
    gogo_switch(&from->sched.sp, to->sched.sp, NULL);
    sanitizer_switch_end(from);
    run_commit();
}

/* A new time slice: sysmon watches schedtick to find a g that has run for
 * more than FORCE_PREEMPT_NS.  Owner only; sysmon reads it racily. */
static inline void schedtick_inc(struct p *pp)
{
    __atomic_store_n(&pp->schedtick, pp->schedtick + 1, __ATOMIC_RELAXED);
}

/* Runs gp on the current m (on g0).  Returns when the m is back on g0. */
static void execute(struct m *mp, struct g *gp, bool inherit)
{
    mp->curg = gp;
    gp->m = mp;
    casgstatus(gp, G_RUNNABLE, G_RUNNING);
    if (unlikely(gcmarking) && gp->gcscangen != NULL) /* after RUNNING */
        atomic_store_explicit(gp->gcscangen, 0, memory_order_release);
    __atomic_store_n(&gp->preempt, false, __ATOMIC_RELAXED);
    if (!inherit)
        schedtick_inc(mp->p);
    switch_g(mp->g0, gp);
}

/* Switches the running g out, leaving `commit` to run on the next stack:
 * straight to a local runnable g when one is at hand, else to g0. */
static void mcall_switch(struct g *gp, void (*commit)(struct g *))
{
    struct m *mp = gp->m;
    struct p *pp = mp->p;
    mp->commitfn = commit;
    mp->commitg = gp;
    /* The fast path skips what schedule() does first: the global queue's
     * turn every 61 ticks, stopping for the world, and expired timers. */
    int64_t t0 = pp != NULL ? atomic_load_explicit(&pp->timer0when, memory_order_relaxed) : 0;
    if (gp->lockedm == NULL && pp != NULL &&
        !atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) &&
        (pp->schedtick % 61 != 0 || runqsize_racy() == 0) && (t0 == 0 || t0 > nanotime())) {
        bool inherit;
        struct g *next = runqget(pp, &inherit);
        if (next != NULL) {
            if (next->lockedm == NULL) {
                mp->curg = next;
                next->m = mp;
                casgstatus(next, G_RUNNABLE, G_RUNNING);
                if (unlikely(gcmarking) && next->gcscangen != NULL)
                    atomic_store_explicit(next->gcscangen, 0, memory_order_release);
                __atomic_store_n(&next->preempt, false, __ATOMIC_RELAXED);
                if (!inherit)
                    schedtick_inc(pp);
                switch_g(gp, next);
                return;
            }
            runqput(pp, next, true);
        }
    }
    mp->curg = NULL;
    switch_g(gp, mp->g0);
}

/* ---- park / ready ------------------------------------------------------ */

static void park_commit(struct g *gp)
{
    struct m *mp = getg()->m;
    bool (*unlockf)(struct g *, void *) = mp->waitunlockf;
    void *arg = mp->waitlock;
    mp->waitunlockf = NULL;
    mp->waitlock = NULL;
    gp->m = NULL;
    casgstatus(gp, G_RUNNING, G_WAITING);
    if (unlockf != NULL && !unlockf(gp, arg)) {
        casgstatus(gp, G_WAITING, G_RUNNABLE);
        runqput(mp->p, gp, true);
    }
}

void gopark(bool (*unlockf)(struct g *, void *), void *arg, uint8_t reason)
{
    struct g *gp = getg();
    struct m *mp = gp->m;
    if (gp == mp->g0)
        throw("gopark on g0");
    mp->waitunlockf = unlockf;
    mp->waitlock = arg;
    gp->waitreason = reason;
    gp->saved_errno = errno_get();
    mcall_switch(gp, park_commit);
    errno_set(gp->saved_errno);
}

void goready(struct g *gp)
{
    struct g *cur = getg();
    casgstatus(gp, G_WAITING, G_RUNNABLE);
    struct m *mp = cur != NULL ? cur->m : NULL;
    if (mp != NULL && mp->p != NULL) {
        runqput(mp->p, gp, true);
    } else {
        lock(&sched.lock);
        globrunqput(gp);
        unlock(&sched.lock);
    }
    if (atomic_load_explicit(&main_started, memory_order_relaxed))
        wakep();
}

static void gosched_commit(struct g *gp)
{
    gp->m = NULL;
    casgstatus(gp, G_RUNNING, G_RUNNABLE);
    lock(&sched.lock);
    globrunqput(gp);
    unlock(&sched.lock);
}

static void goyield_commit(struct g *gp)
{
    gp->m = NULL;
    casgstatus(gp, G_RUNNING, G_RUNNABLE);
    runqput(getg()->m->p, gp, false);
}

/* Like gosched, but the g goes to the tail of its own P's queue, not the
 * global one: cheaper, and it comes back after what is queued here (Go's
 * goyield, used by a semaphore handoff). */
void goyield(void)
{
    struct g *gp = getg();
    gp->saved_errno = errno_get();
    mcall_switch(gp, goyield_commit);
    errno_set(gp->saved_errno);
}

static void gosched_(void);

void gort_gosched(void)
{
    FOREIGN_CALL(gosched_());
}

static void gosched_(void)
{
    struct g *gp = getg();
    gp->saved_errno = errno_get();
    mcall_switch(gp, gosched_commit);
    errno_set(gp->saved_errno);
}

/* ---- goroutine creation and exit --------------------------------------- */

/* Lays out a never-run g's first switch frame below top (see switch.S):
 * default MXCSR and x87 control word, zero callee-saved registers (rbp = 0
 * ends tracebacks) and the trampoline as the return address. */
static void gostart_frame(struct g *gp, uintptr_t top)
{
    uintptr_t sp = (top & ~(uintptr_t)15) - 64;
    uint64_t *frame = (uint64_t *)sp;
    frame[0] = 0x1f80ull | (0x37full << 32);
    for (int i = 1; i < 7; i++)
        frame[i] = 0;
    frame[7] = (uint64_t)(uintptr_t)gostart_trampoline;
    gp->sched.sp = sp;
}

static void allgadd(struct g *gp)
{
    lock(&allglock);
    gp->alllink = NULL;
    if (allgs_tail != NULL)
        allgs_tail->alllink = gp;
    else
        atomic_store(&allgs, gp);
    allgs_tail = gp;
    atomic_fetch_add(&allgcount, 1);
    unlock(&allglock);
}

static int64_t newproc(void (*fn)(void *), const void *arg, size_t argsize, size_t stacksize,
                       uintptr_t callerpc, bool system)
{
    if (fn == NULL)
        fatal("go of nil func value");
    struct g *cur = getg();
    if (cur == NULL)
        throw("gort_go called on a thread the runtime does not know");
    struct m *mp = acquirem();
    struct p *pp = mp->p;
    struct g *newg = stackalloc_g(stacksize);
    bool fresh = readgstatus(newg) == G_IDLE;
    if (!fresh && readgstatus(newg) != G_DEAD)
        throw("newproc: reused g is not dead");
#if GORT_ASAN
    if (!fresh)
        __asan_unpoison_memory_region((void *)newg->stack_lo, newg->stack_hi - newg->stack_lo);
#endif
    uintptr_t sp = newg->stack_hi;
    if (argsize > 0) {
        if (argsize > (newg->stack_hi - newg->stack_lo) / 4) {
            releasem(mp);
            fatal("newproc: function arguments too large for new goroutine");
        }
        sp -= (argsize + 15) & ~(size_t)15;
        memcpy((void *)sp, arg, argsize);
        newg->startarg = (void *)sp;
    } else {
        newg->startarg = (void *)arg;
    }
    gostart_frame(newg, sp);
    newg->startfn = fn;
    newg->gopc = callerpc;
    struct g *parent = cur == mp->g0 ? mp->curg : cur;
    newg->parentgoid = parent != NULL ? parent->goid : 0;
    newg->waitreason = 0;
    newg->lockedm = NULL;
    newg->lockedext = 0;
    newg->system = system;
    newg->panic = NULL;
    newg->defers = NULL;
    newg->waiting = NULL;
    newg->saved_errno = 0;
    atomic_store_explicit(&newg->selectdone, 0, memory_order_relaxed);
    if (pp->goidcache == pp->goidcacheend) {
        pp->goidcache = atomic_fetch_add(&sched.goidgen, 16) + 1;
        pp->goidcacheend = pp->goidcache + 16;
    }
    newg->goid = (int64_t)pp->goidcache++;
#if GORT_TSAN
    if (newg->tsan_fiber == NULL)
        newg->tsan_fiber = __tsan_create_fiber(0);
#endif
    if (!system)
        __atomic_store_n(&pp->ngoroutine, pp->ngoroutine + 1, __ATOMIC_RELAXED);
    if (fresh)
        allgadd(newg);
    atomic_store(&newg->atomicstatus, G_RUNNABLE);
    int64_t goid = newg->goid;
    runqput(pp, newg, true);
    if (atomic_load_explicit(&main_started, memory_order_relaxed))
        wakep();
    releasem(mp);
    return goid;
}

int64_t gort_go(void (*fn)(void *), const void *arg, size_t argsize)
{
    int64_t id;
    FOREIGN_CALL(id = newproc(fn, arg, argsize, 0, (uintptr_t)__builtin_return_address(0),
                              false));
    return id;
}

int64_t gort_go_system(void (*fn)(void *), void *arg)
{
    return newproc(fn, arg, 0, 0, (uintptr_t)__builtin_return_address(0), true);
}

int64_t gort_go_opts(void (*fn)(void *), const void *arg, size_t argsize,
                     const gort_go_options *opts)
{
    int64_t id;
    FOREIGN_CALL(id = newproc(fn, arg, argsize, opts != NULL ? opts->stack_size : 0,
                              (uintptr_t)__builtin_return_address(0), false));
    return id;
}

static void goexit_commit(struct g *gp)
{
    gp->m = NULL;
    casgstatus(gp, G_RUNNING, G_DEAD);
    if (gp->lockedm != NULL) {
        /* Go terminates a thread whose goroutine exits while wired to it;
         * here the wiring is dropped and the thread goes on serving. */
        gp->lockedm->lockedg = NULL;
        gp->lockedm = NULL;
        gp->lockedext = 0;
    }
    if (!gp->system) {
        struct p *pp = getg()->m->p;
        __atomic_store_n(&pp->ngoroutine, pp->ngoroutine - 1, __ATOMIC_RELAXED);
    }
    gp->startfn = NULL;
#if GORT_TSAN
    /* Under TSan the g keeps its fiber for its next lives — creating one
     * costs TSan a large allocation, and goroutines come and go by the
     * million — but not forever: a goroutine's end never returns, so each
     * life leaves a few frames on the fiber's shadow stack, which TSan caps
     * at 64K frames. */
    if (++gp->tsan_lives % 1024 == 0) {
        __tsan_destroy_fiber(gp->tsan_fiber);
        gp->tsan_fiber = NULL;
    }
#endif
    stackfree_g(gp);
}

/* The end of every goroutine: its defers have run. */
static NORETURN void goexit1(void)
{
    struct g *gp = getg();
    gp->startfn = NULL;
    mcall_switch(gp, goexit_commit);
    throw("goexit: dead goroutine resumed");
}

/* Hook for panic.c: run the goroutine's defers for Goexit, then exit. */
void (*gort_goexit_hook)(void);

void gort_goexit(void)
{
    if (gort_goexit_hook != NULL)
        gort_goexit_hook();
    goexit1();
}

/* Called by gostart_trampoline on a new g's stack. */
void gort_goentry(void)
{
    struct g *gp = getg();
    sanitizer_switch_end(gp);
    run_commit();
    errno_set(0);
    gp = getg();
    gp->startfn(gp->startarg);
    goexit1();
}

int gort_num_goroutine(void)
{
    return gcount();
}

int64_t gort_goid(void)
{
    struct g *gp = getg();
    if (gp == NULL || gp->m == NULL)
        return 0;
    if (gp == gp->m->g0)
        return gp->m->curg != NULL ? gp->m->curg->goid : 0;
    return gp->goid;
}

/* ---- Ms ---------------------------------------------------------------- */

/* The next m's id (Go's mReserveID), sched.lock held.  An m counts as
 * running for checkdead from here: whoever decides under sched.lock that
 * a new m will run something reserves its id in the same critical
 * section, or checkdead could run between the two, find nobody running
 * and call the work that m is being made for a deadlock. */
static int64_t mreserveid(void)
{
    if (mcount() >= MAX_MCOUNT) {
        print("runtime: program exceeds %d-thread limit\n", MAX_MCOUNT);
        throw("thread exhaustion");
    }
    return sched.mnext++;
}

/* id: reserved by the caller, or -1. */
static void mcommoninit(struct m *mp, int64_t id)
{
    if (id < 0) {
        lock(&sched.lock);
        id = mreserveid();
        unlock(&sched.lock);
    }
    mp->id = id;
    mp->randstate = (uint64_t)nanotime() ^ ((uint64_t)mp->id << 32) ^ (uint64_t)(uintptr_t)mp;
    struct m *head = atomic_load(&allm);
    do
        mp->alllink = head;
    while (!atomic_compare_exchange_weak(&allm, &head, mp));
}

static void set_g0_stack(struct g *g0)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
        g0->stack_lo = (uintptr_t)addr;
        g0->stack_hi = (uintptr_t)addr + size;
    }
}

/* First steps of a thread the runtime created: it runs on its g0. */
static void thread_init(struct m *mp)
{
    set_g0_stack(mp->g0);
    setg(mp->g0);
#if GORT_TSAN
    mp->g0->tsan_fiber = __tsan_get_current_fiber();
#endif
    minit(mp);
}

static void *mstart(void *arg)
{
    struct m *mp = arg;
    thread_init(mp);
    if (mp->nextp != NULL) {
        struct p *pp = mp->nextp;
        mp->nextp = NULL;
        acquirep(mp, pp);
    }
    schedule();
}

static struct m *allocm(int64_t id)
{
    struct m *mp = calloc(1, sizeof *mp);
    struct g *g0 = calloc(1, sizeof *g0);
    if (mp == NULL || g0 == NULL)
        throw("allocm: out of memory");
    mp->g0 = g0;
    g0->m = mp;
    g0->goid = 0;
    atomic_store(&g0->atomicstatus, G_RUNNING);
    g0->system = true;
    mcommoninit(mp, id);
    return mp;
}

static void newm_thread(struct m *mp, void *(*start)(void *))
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);
    int err = pthread_create(&mp->thread, &attr, start, mp);
    pthread_attr_destroy(&attr);
    if (err != 0) {
        print("runtime: failed to create new OS thread (have %d already; errno=%d)\n",
              mcount(), err);
        throw("newosproc");
    }
}

static void newm(struct p *pp, bool spinning, int64_t id)
{
    struct m *mp = allocm(id);
    mp->nextp = pp;
    mp->spinning = spinning;
    newm_thread(mp, mstart);
}

/* Starts an m to run pp (or an idle p if pp is NULL).  spinning: the caller
 * incremented nmspinning for the new m. */
static void startm(struct p *pp, bool spinning)
{
    lock(&sched.lock);
    if (pp == NULL) {
        pp = pidleget();
        if (pp == NULL) {
            unlock(&sched.lock);
            if (spinning)
                atomic_fetch_sub(&sched.nmspinning, 1);
            return;
        }
    }
    struct m *mp = mget();
    int64_t id = mp == NULL ? mreserveid() : -1;
    unlock(&sched.lock);
    if (mp == NULL) {
        newm(pp, spinning, id);
        return;
    }
    if (mp->spinning || mp->nextp != NULL)
        throw("startm: m is spinning or has a p");
    mp->spinning = spinning;
    mp->nextp = pp;
    notewakeup(&mp->park);
}

/* Wakes an m to look for work, if a p is idle and nobody is looking. */
void wakep(void)
{
    if (atomic_load_explicit(&sched.npidle, memory_order_relaxed) == 0)
        return;
    int32_t zero = 0;
    if (atomic_load_explicit(&sched.nmspinning, memory_order_relaxed) != 0 ||
        !atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1))
        return;
    startm(NULL, true);
}

/* Parks the m until startm hands it a p.  An idle m may also be woken to
 * help the collector (gort_helpgc): it runs the work on its g0 and goes
 * back on the idle list (Go 1.4's gchelper). */
static void stopm(struct m *mp)
{
    if (mp->p != NULL)
        throw("stopm holding p");
    if (mp->spinning)
        throw("stopm spinning");
    lock(&sched.lock);
    mput(mp);
    unlock(&sched.lock);
    park_idle(mp);
}

/* The m sleeps on its note until a waker hands it a p in nextp, and takes
 * it; an m on sched.midle may instead be handed work to do while the world
 * is stopped (gort_helpgc), and goes back on the list after it.  While the
 * world is stopped the m spins a little before sleeping: the collector
 * wakes idle Ms to mark and the world restarts soon, and waking a sleeping
 * thread on another CPU costs 20-100 us here (OS-FACTS.md), a spinning
 * one 1 us. */
#define IDLE_SPIN_NS 200000
static void park_idle(struct m *mp)
{
    for (;;) {
        mp->blocked = true;
        int64_t until = 0;
        while (atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) &&
               atomic_load_explicit(&mp->park.key, memory_order_relaxed) == 0) {
            int64_t now = nanotime();
            if (until == 0)
                until = now + IDLE_SPIN_NS;
            else if (now >= until)
                break;
            procyield(50);
        }
        notesleep(&mp->park);
        noteclear(&mp->park);
        mp->blocked = false;
        void (*fn)(void *) = mp->helpfn;
        if (fn == NULL)
            break;
        mp->helpfn = NULL;
        fn(mp->helparg);
        lock(&sched.lock);
        mput(mp);
        unlock(&sched.lock);
    }
    struct p *pp = mp->nextp;
    mp->nextp = NULL;
    acquirep(mp, pp);
}

/* Helpers for the collector: takes n idle Ms (making new ones if too few
 * are idle) and has each run fn(arg) on its own thread stack.  They go
 * back on the idle list when fn returns; fn must not need a p or a g of
 * its own. */
static void *mstart_help(void *arg)
{
    struct m *mp = arg;
    thread_init(mp);
    notewakeup(&mp->park); /* as gort_helpgc wakes an idle m */
    park_idle(mp);
    schedule();
}

void gort_helpgc(int32_t n, void (*fn)(void *), void *arg)
{
    for (int32_t k = 0; k < n; k++) {
        lock(&sched.lock);
        struct m *mp = mget();
        int64_t id = mp == NULL ? mreserveid() : -1;
        unlock(&sched.lock);
        bool fresh = mp == NULL;
        if (fresh)
            mp = allocm(id);
        else if (mp->nextp != NULL || mp->helpfn != NULL)
            throw("gort_helpgc: idle m has work");
        mp->helpfn = fn;
        mp->helparg = arg;
        if (fresh)
            newm_thread(mp, mstart_help);
        else
            notewakeup(&mp->park);
    }
}

/* Hands off pp (owned by nobody) to an m if there is work for it. */
static void handoffp(struct p *pp)
{
    if (!runqempty(pp) || runqsize_racy() != 0) {
        startm(pp, false);
        return;
    }
    int32_t zero = 0;
    if (atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) == 0 &&
        atomic_compare_exchange_strong(&sched.nmspinning, &zero, 1)) {
        startm(pp, true);
        return;
    }
    lock(&sched.lock);
    if (atomic_load(&sched.gcwaiting)) {
        atomic_store(&pp->status, P_GCSTOP);
        if (--sched.stopwait == 0)
            notewakeup(&sched.stopnote);
        unlock(&sched.lock);
        return;
    }
    if (sched.runqsize != 0) {
        unlock(&sched.lock);
        startm(pp, false);
        return;
    }
    pidleput(pp);
    unlock(&sched.lock);
    if (atomic_load(&pp->timer0when) != 0)
        wake_timersleeper(atomic_load(&pp->timer0when));
}

/* The m drops its p to a stopping world and parks. */
static void gcstopm(struct m *mp)
{
    if (mp->spinning) {
        mp->spinning = false;
        atomic_fetch_sub(&sched.nmspinning, 1);
    }
    struct p *pp = releasep(mp);
    /* Idle before the world counts as stopped, so that the collector's
     * gort_helpgc finds this m. */
    lock(&sched.lock);
    atomic_store(&pp->status, P_GCSTOP);
    mput(mp);
    if (--sched.stopwait == 0)
        notewakeup(&sched.stopnote);
    unlock(&sched.lock);
    park_idle(mp);
}

/* Wires this m to its locked g: gives the p away and waits to be handed
 * one with the g runnable. */
static void stoplockedm(struct m *mp)
{
    if (mp->p != NULL)
        handoffp(releasep(mp));
    lock(&sched.lock);
    sched.nmidlelocked++;
    checkdead();
    unlock(&sched.lock);
    park_idle(mp); /* the waker (startlockedm) takes us off nmidlelocked */
}

/* gp is locked to another m: hand it our p and stop. */
static void startlockedm(struct m *mp, struct g *gp)
{
    struct m *lm = gp->lockedm;
    struct p *pp = releasep(mp);
    /* lm counts as running from here, before it wakes: otherwise our own
     * stopm could see nobody running and call gp's state a deadlock. */
    lock(&sched.lock);
    sched.nmidlelocked--;
    unlock(&sched.lock);
    lm->nextp = pp;
    notewakeup(&lm->park);
    stopm(mp);
}

/* ---- timers' sleeper --------------------------------------------------- */

void wake_timersleeper(int64_t when)
{
    int64_t until = atomic_load(&sched.pollUntil);
    if (until != 0) {
        if (when < until) {
            atomic_fetch_add(&sched.tseq, 1);
            futexwakeup(&sched.tseq, 1);
        }
        return;
    }
    if (atomic_load_explicit(&main_started, memory_order_relaxed))
        wakep();
}

/* Sleeps without a p until the earliest timer (or an earlier one is
 * added), then tries to get a p.  The caller took the sleeper role. */
static struct p *timersleep(void)
{
    for (;;) {
        uint32_t seq = atomic_load(&sched.tseq);
        atomic_store(&sched.pollUntil, INT64_MAX);
        int64_t next = nexttimer();
        if (next == 0)
            break;
        atomic_store(&sched.pollUntil, next);
        int64_t now = nanotime();
        if (next <= now)
            break;
        futexsleep(&sched.tseq, seq, next - now);
        if (nanotime() >= atomic_load(&sched.pollUntil))
            break;
    }
    atomic_store(&sched.pollUntil, 0);
    lock(&sched.lock);
    sched.timersleeper = false;
    struct p *pp = pidleget();
    unlock(&sched.lock);
    return pp;
}

/* ---- finding work ------------------------------------------------------ */

/* Runs expired timers on every p; returns true if any ran. */
static bool runalltimers(struct p *self, int64_t now)
{
    bool ran = false;
    int32_t n = atomic_load(&gomaxprocs);
    struct p **ps = allp;
    for (int32_t i = 0; i < n; i++) {
        struct p *p2 = ps[i];
        int64_t w = atomic_load_explicit(&p2->timer0when, memory_order_relaxed);
        if (w != 0 && w <= now) {
            checktimers(p2, now);
            ran = true;
        }
    }
    (void)self;
    return ran;
}

static struct g *stealwork(struct p *pp)
{
    int32_t n = atomic_load(&gomaxprocs);
    struct p **ps = allp;
    for (int i = 0; i < STEAL_TRIES; i++) {
        bool last = i == STEAL_TRIES - 1;
        /* A random start and a stride coprime with n visit every p once. */
        uint32_t start = fastrandn((uint32_t)n);
        uint32_t inc = 1;
        if (n > 1) {
            inc = 1 + fastrandn((uint32_t)n - 1);
            while (true) {
                uint32_t a = inc, b = (uint32_t)n;
                while (b != 0) {
                    uint32_t t = a % b;
                    a = b;
                    b = t;
                }
                if (a == 1)
                    break;
                inc = inc % (uint32_t)n + 1;
            }
        }
        uint32_t pos = start;
        for (int32_t k = 0; k < n; k++, pos = (pos + inc) % (uint32_t)n) {
            struct p *p2 = ps[pos];
            if (p2 == pp)
                continue;
            if (atomic_load(&sched.gcwaiting))
                return NULL;
            struct g *gp = runqsteal(pp, p2, last);
            if (gp != NULL)
                return gp;
        }
    }
    return NULL;
}

static void resetspinning(struct m *mp)
{
    mp->spinning = false;
    if (atomic_fetch_sub(&sched.nmspinning, 1) == 1)
        wakep(); /* we were the last spinner and found work: maybe there is more */
}

static struct g *findrunnable(struct m *mp, bool *inherit)
{
top:;
    struct p *pp = mp->p;
    *inherit = false;
    if (atomic_load(&sched.gcwaiting)) {
        gcstopm(mp);
        goto top;
    }
    int64_t now = nanotime();
    if (atomic_load_explicit(&pp->timer0when, memory_order_relaxed) != 0)
        checktimers(pp, now);
    struct g *gp;
    if (pp->schedtick % 61 == 0 && runqsize_racy() > 0) {
        lock(&sched.lock);
        gp = globrunqget(pp, 1);
        unlock(&sched.lock);
        if (gp != NULL)
            return gp;
    }
    gp = runqget(pp, inherit);
    if (gp != NULL)
        return gp;
    if (runqsize_racy() > 0) {
        lock(&sched.lock);
        gp = globrunqget(pp, 0);
        unlock(&sched.lock);
        if (gp != NULL)
            return gp;
    }
    if (runalltimers(pp, now)) {
        gp = runqget(pp, inherit);
        if (gp != NULL)
            return gp;
    }
    int32_t procs = atomic_load(&gomaxprocs);
    if (mp->spinning ||
        2 * atomic_load(&sched.nmspinning) < procs - atomic_load(&sched.npidle)) {
        if (!mp->spinning) {
            mp->spinning = true;
            atomic_fetch_add(&sched.nmspinning, 1);
        }
        gp = stealwork(pp);
        if (gp != NULL)
            return gp;
    }

    /* Nothing: give up the p. */
    lock(&sched.lock);
    if (atomic_load(&sched.gcwaiting)) {
        unlock(&sched.lock);
        goto top;
    }
    if (sched.runqsize != 0) {
        gp = globrunqget(pp, 0);
        unlock(&sched.lock);
        return gp;
    }
    releasep(mp);
    pidleput(pp);
    unlock(&sched.lock);

    if (mp->spinning) {
        mp->spinning = false;
        atomic_fetch_sub(&sched.nmspinning, 1);
        /* Work made ready after our scan but before we dropped the p would
         * find nmspinning > 0 and not wake anyone: look once more. */
        int32_t n = atomic_load(&gomaxprocs);
        for (int32_t i = 0; i < n; i++) {
            if (!runqempty(allp_racy(i))) {
                lock(&sched.lock);
                pp = pidleget();
                unlock(&sched.lock);
                if (pp != NULL) {
                    acquirep(mp, pp);
                    mp->spinning = true;
                    atomic_fetch_add(&sched.nmspinning, 1);
                    goto top;
                }
                break;
            }
        }
    }

    if (nexttimer() != 0) {
        lock(&sched.lock);
        bool sleeper = !sched.timersleeper;
        if (sleeper)
            sched.timersleeper = true;
        unlock(&sched.lock);
        if (sleeper) {
            pp = timersleep();
            if (pp != NULL) {
                acquirep(mp, pp);
                mp->spinning = true;
                atomic_fetch_add(&sched.nmspinning, 1);
                goto top;
            }
        }
    }
    stopm(mp);
    goto top;
}

/* The scheduler loop on g0.  Never returns. */
static NORETURN void schedule(void)
{
    struct m *mp = getg()->m;
    for (;;) {
        if (mp->p == NULL && mp->lockedg == NULL)
            stopm(mp);
        if (mp->lockedg != NULL) {
            stoplockedm(mp);
            execute(mp, mp->lockedg, false);
            continue;
        }
        bool inherit;
        struct g *gp = findrunnable(mp, &inherit);
        if (mp->spinning)
            resetspinning(mp);
        if (gp->lockedm != NULL && gp->lockedm != mp) {
            startlockedm(mp, gp);
            continue;
        }
        execute(mp, gp, inherit);
    }
}

/* ---- deadlock ---------------------------------------------------------- */

/* sched.lock must be held. */
void checkdead(void)
{
    if (!atomic_load(&main_started) || atomic_load(&panicking))
        return;
    int32_t run = mcount() - sched.nmidle - sched.nmidlelocked - sched.nmsys;
    if (run > 0)
        return;
    if (run < 0) {
        print("runtime: checkdead: nmidle=%d nmidlelocked=%d mcount=%d nmsys=%d\n", sched.nmidle,
              sched.nmidlelocked, mcount(), sched.nmsys);
        throw("checkdead: inconsistent counts");
    }
    int32_t grunning = 0;
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        if (gp->system)
            continue;
        switch (readgstatus(gp)) {
        case G_WAITING:
        case G_PREEMPTED:
            grunning++;
            break;
        case G_RUNNABLE:
        case G_RUNNING:
        case G_SYSCALL:
            print("runtime: checkdead: find g %ld in status %u\n", (long)gp->goid,
                  readgstatus(gp));
            throw("checkdead: runnable g");
        }
    }
    if (grunning == 0) {
        unlock(&sched.lock);
        fatal("no goroutines (main called runtime.Goexit) - deadlock!");
    }
    int32_t n = atomic_load(&gomaxprocs);
    for (int32_t i = 0; i < n; i++)
        if (allp[i]->ntimers > 0)
            return;
    unlock(&sched.lock);
    fatal("all goroutines are asleep - deadlock!");
}

/* ---- syscalls ---------------------------------------------------------- */

/* gort_syscall_enter is a stub that stores the caller's callee-saved
 * registers before any C code can move them (a C body's prologue would
 * push some and reuse them), then calls the body with the array.  The
 * collector scans the array with the stack of a g in SYSCALL: the C code
 * that runs next may keep a heap pointer in a register it never spills. */
__asm__(".text\n"
        ".globl gort_syscall_enter\n"
        ".type gort_syscall_enter, @function\n"
        "gort_syscall_enter:\n"
        "    sub $72, %rsp\n" /* 7 words, and rsp 16-aligned for the call */
        "    mov %rbx, 0(%rsp)\n"
        "    mov %rbp, 8(%rsp)\n"
        "    mov %r12, 16(%rsp)\n"
        "    mov %r13, 24(%rsp)\n"
        "    mov %r14, 32(%rsp)\n"
        "    mov %r15, 40(%rsp)\n"
        "    lea 80(%rsp), %rax\n" /* the caller's SP after the return */
        "    mov %rax, 48(%rsp)\n"
        "    mov %rsp, %rdi\n"
        "    call gort_syscall_enter_regs\n"
        "    add $72, %rsp\n"
        "    ret\n"
        ".size gort_syscall_enter, .-gort_syscall_enter\n");

NOINLINE __attribute__((used)) void gort_syscall_enter_regs(const uintptr_t *regs);

NOINLINE __attribute__((used)) void gort_syscall_enter_regs(const uintptr_t *regs)
{
    struct g *gp = getg();
    struct m *mp = gp->m;
    struct p *pp = mp->p;
    memcpy(gp->syscallregs, regs, sizeof gp->syscallregs);
    gp->saved_errno = errno_get();
    casgstatus(gp, G_RUNNING, G_SYSCALL);
    mp->oldp = pp;
    pp->m = NULL;
    mp->p = NULL;
    mp->incgo = true;
    atomic_store(&pp->status, P_SYSCALL);
    if (atomic_load(&sched.sysmonwait)) {
        lock(&sched.lock);
        if (atomic_load(&sched.sysmonwait)) {
            atomic_store(&sched.sysmonwait, 0);
            notewakeup(&sched.sysmonnote);
        }
        unlock(&sched.lock);
    }
    if (atomic_load(&sched.gcwaiting)) {
        uint32_t s = P_SYSCALL;
        lock(&sched.lock);
        if (atomic_compare_exchange_strong(&pp->status, &s, P_GCSTOP)) {
            mp->oldp = NULL;
            if (--sched.stopwait == 0)
                notewakeup(&sched.stopnote);
        }
        unlock(&sched.lock);
    }
    errno_set(gp->saved_errno);
}

static void exitsyscall_commit(struct g *gp)
{
    gp->m = NULL;
    casgstatus(gp, G_SYSCALL, G_RUNNABLE);
    lock(&sched.lock);
    /* An idle p is ours to run gp on, locked or not: this is gp's m. */
    struct p *pp = pidleget();
    if (pp == NULL)
        globrunqput(gp);
    unlock(&sched.lock);
    struct m *mp = getg()->m;
    if (pp != NULL) {
        acquirep(mp, pp);
        execute(mp, gp, false);
    }
    /* On g0 with no p: schedule() parks this m (or waits for the locked g). */
}

void gort_syscall_exit(void)
{
    struct g *gp = getg();
    struct m *mp = gp->m;
    int saved = errno_get();
    mp->incgo = false;
    struct p *pp = mp->oldp;
    mp->oldp = NULL;
    uint32_t s = P_SYSCALL;
    if (pp != NULL && atomic_compare_exchange_strong(&pp->status, &s, P_RUNNING)) {
        mp->p = pp;
        pp->m = mp;
        atomic_fetch_add(&pp->syscalltick, 1);
        casgstatus(gp, G_SYSCALL, G_RUNNING);
        errno_set(saved);
        return;
    }
    if (!atomic_load(&sched.gcwaiting)) {
        lock(&sched.lock);
        pp = pidleget();
        unlock(&sched.lock);
        if (pp != NULL) {
            acquirep(mp, pp);
            casgstatus(gp, G_SYSCALL, G_RUNNING);
            errno_set(saved);
            return;
        }
    }
    /* No p: queue the g and park this m (via g0). */
    mp->commitfn = exitsyscall_commit;
    mp->commitg = gp;
    mp->curg = NULL;
    switch_g(gp, mp->g0);
    errno_set(saved);
}

/* ---- foreign threads ---------------------------------------------------
 *
 * A thread the runtime did not create may call gort functions (Go's cgo
 * callbacks, needm/dropm).  On its first call it is attached: it gets an m,
 * a g0 (a fresh stack on which that m's scheduler runs) and a g whose stack
 * is the thread's own, locked to the m.  Between calls the g sits in
 * G_SYSCALL without a p, so the thread's own code holds no p and counts as
 * running for the deadlock detector, exactly like a goroutine in a system
 * call.  Each public function that may park or needs a p brackets its work
 * with FOREIGN_CALL: the g takes a p as gort_syscall_exit does (waiting for
 * one if need be), parks like any locked g, and gives the p back as
 * gort_syscall_enter does.  The thread's exit (a pthread key destructor)
 * ends the g and retires the m. */

static pthread_key_t foreign_key;
static pthread_once_t foreign_once = PTHREAD_ONCE_INIT;

static void foreign_exit(void *arg)
{
    struct g *gp = arg;
    struct m *mp = gp->m;
    struct p *pp = mp->oldp;
    mp->oldp = NULL;
    uint32_t s = P_SYSCALL;
    if (pp != NULL && atomic_compare_exchange_strong(&pp->status, &s, P_IDLE)) {
        atomic_fetch_add(&pp->syscalltick, 1);
        handoffp(pp);
    }
    casgstatus(gp, G_SYSCALL, G_DEAD);
    lock(&sched.lock);
    mp->exiting = true;
    sched.nmfreed++;
    unlock(&sched.lock);
    setg(NULL);
}

static void foreign_key_init(void)
{
    pthread_key_create(&foreign_key, foreign_exit);
}

static void foreign_g0_main(void *arg)
{
    (void)arg;
    schedule();
}

static struct g *foreign_attach(void)
{
    while (!atomic_load(&main_started))
        usleep_rt(1000); /* the runtime is still starting: wait for gort_main */
    pthread_once(&foreign_once, foreign_key_init);
    struct m *mp = allocm(-1);
    /* g0: a runtime stack with an initial frame that enters schedule(). */
    struct g *g0 = stackalloc_g(64 << 10);
    free(mp->g0);
    mp->g0 = g0;
    g0->m = mp;
    g0->system = true;
    g0->startfn = foreign_g0_main;
    gostart_frame(g0, g0->stack_hi);
    atomic_store(&g0->atomicstatus, G_RUNNING);
#if GORT_TSAN
    g0->tsan_fiber = __tsan_create_fiber(0);
#endif
    struct g *gp = calloc(1, sizeof *gp);
    if (gp == NULL)
        throw("foreign_attach: out of memory");
    set_g0_stack(gp); /* the thread's own stack */
    gp->foreign = true;
    gp->m = mp;
    gp->lockedm = mp;
    gp->lockedext = 1;
    mp->lockedg = gp;
    mp->curg = gp;
    mp->incgo = true;
    gp->goid = (int64_t)atomic_fetch_add(&sched.goidgen, 1) + 1;
    atomic_store(&gp->atomicstatus, G_SYSCALL);
#if GORT_TSAN
    gp->tsan_fiber = __tsan_get_current_fiber();
#endif
    allgadd(gp);
    setg(gp);
    /* The thread's own signal stack, if it has one, stays (the sanitizers'
     * thread teardown unmaps the one they installed). */
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE))
        mp->procid = (uintptr_t)os_gettid();
    else
        minit(mp);
    pthread_setspecific(foreign_key, gp);
    return gp;
}

struct g *gort_foreign_enter(void)
{
    struct g *gp = getg();
    if (gp == NULL)
        gp = foreign_attach();
    if (readgstatus(gp) != G_SYSCALL)
        return NULL; /* a nested call: the outer one holds the p */
    gort_syscall_exit();
    return gp;
}

void gort_attach_thread(void)
{
    if (getg() == NULL)
        foreign_attach();
}

void gort_foreign_leave(struct g *gp)
{
    if (gp != NULL)
        gort_syscall_enter();
}

/* ---- thread locking ---------------------------------------------------- */

void gort_lock_os_thread(void)
{
    struct g *gp = getg();
    if (gp == NULL || gp->foreign)
        return; /* a foreign thread is its own thread already */
    struct m *mp = gp->m;
    if (gp->lockedext++ == 0) {
        gp->lockedm = mp;
        mp->lockedg = gp;
    }
}

void gort_unlock_os_thread(void)
{
    struct g *gp = getg();
    if (gp == NULL || gp->foreign)
        return;
    if (gp->lockedext == 0)
        return;
    if (--gp->lockedext == 0) {
        gp->m->lockedg = NULL;
        gp->lockedm = NULL;
    }
}

/* ---- Ps: creation, resizing, stopping the world ------------------------ */

static struct p *newp(int32_t id)
{
    struct p *pp = calloc(1, sizeof *pp);
    if (pp == NULL)
        throw("newp: out of memory");
    pp->id = id;
    pp->mcache = gort_mcache_alloc();
    /* Its sudog cache holds GC objects and this struct is not one: a root
     * (Ps are never freed). */
    gort_add_roots(pp->sudogcache, sizeof pp->sudogcache);
    lock_init(&pp->timerslock, LOCKRANK_TIMERS);
    atomic_store(&pp->status, P_GCSTOP);
    return pp;
}

void gort_timers_move(struct p *from, struct p *to);
void gort_sudog_flush_p(struct p *pp);

/* Changes the number of Ps to nprocs.  sched.lock must be held and the
 * world stopped (or not started).  Returns the Ps with work to do, linked
 * through ->link, each with an m to run it in ->m or none. */
static struct p *procresize(int32_t nprocs)
{
    int32_t old = atomic_load(&gomaxprocs);
    if (nprocs > allp_cap) {
        struct p **nallp = calloc((size_t)nprocs, sizeof *nallp);
        if (nallp == NULL)
            throw("procresize: out of memory");
        for (int32_t i = 0; i < old; i++)
            nallp[i] = allp[i];
        /* The old array is not freed: sysmon may be reading it. */
        __atomic_store_n(&allp, nallp, __ATOMIC_RELEASE);
        allp_cap = nprocs;
    }
    for (int32_t i = old; i < nprocs; i++)
        if (allp[i] == NULL)
            __atomic_store_n(&allp[i], newp(i), __ATOMIC_RELEASE); /* allp_racy */
    struct m *mp = getg()->m;
    for (int32_t i = nprocs; i < old; i++) {
        struct p *pp = allp[i];
        bool inherit;
        struct g *gp;
        while ((gp = runqget(pp, &inherit)) != NULL)
            globrunqput(gp);
        gort_timers_move(pp, allp[0]);
        gort_stack_flush_p(pp);
        gort_sudog_flush_p(pp);
        atomic_fetch_add(&sched.ngoroutine, pp->ngoroutine);
        __atomic_store_n(&pp->ngoroutine, 0, __ATOMIC_RELAXED);
        gort_mcache_flush(pp->mcache);
        if (mp->p == pp) {
            pp->m = NULL;
            mp->p = NULL;
        }
        atomic_store(&pp->status, P_DEAD);
    }
    if (nprocs < old) {
        /* Dead Ps may be on the idle list. */
        struct p **link = &sched.pidle;
        while (*link != NULL) {
            if ((*link)->id >= nprocs) {
                *link = (*link)->link;
                atomic_fetch_sub(&sched.npidle, 1);
            } else {
                link = &(*link)->link;
            }
        }
    }
    atomic_store(&gomaxprocs, nprocs);
    if (mp->p != NULL) {
        atomic_store(&mp->p->status, P_RUNNING);
    } else {
        allp[0]->m = NULL;
        acquirep(mp, allp[0]);
    }
    struct p *runnable = NULL;
    for (int32_t i = nprocs - 1; i >= 0; i--) {
        struct p *pp = allp[i];
        if (mp->p == pp)
            continue;
        uint32_t st = atomic_load(&pp->status);
        if (st == P_IDLE)
            continue; /* already on the idle list */
        atomic_store(&pp->status, P_IDLE);
        if (runqempty(pp)) {
            pidleput(pp);
        } else {
            pp->m = mget();
            pp->link = runnable;
            runnable = pp;
        }
    }
    return runnable;
}

void stop_the_world(const char *reason)
{
    (void)reason;
    uint32_t zero = 0;
    while (!atomic_compare_exchange_strong(&sched.worldsema, &zero, 1)) {
        zero = 0;
        gort_gosched();
    }
    struct m *mp = acquirem();
    lock(&sched.lock);
    sched.stopwait = atomic_load(&gomaxprocs);
    atomic_store(&sched.gcwaiting, 1);
    atomic_store(&mp->p->status, P_GCSTOP);
    sched.stopwait--;
    int32_t n = atomic_load(&gomaxprocs);
    for (int32_t i = 0; i < n; i++) {
        uint32_t s = P_SYSCALL;
        if (atomic_compare_exchange_strong(&allp[i]->status, &s, P_GCSTOP))
            sched.stopwait--;
    }
    struct p *pp;
    while ((pp = pidleget()) != NULL) {
        atomic_store(&pp->status, P_GCSTOP);
        sched.stopwait--;
    }
    bool wait = sched.stopwait > 0;
    unlock(&sched.lock);
    if (wait) {
        /* Running Ms stop at their next schedule; ask their gs to yield
         * now, and again every 100 us in case a request was lost to a
         * race (Go's stopTheWorldWithSema).  Waiting first would leave a
         * g in a loop of program code running for the whole 100 us. */
        gort_preemptall();
        while (!notetsleep(&sched.stopnote, 100000))
            gort_preemptall();
        noteclear(&sched.stopnote);
    }
    if (sched.stopwait != 0)
        throw("stopTheWorld: not stopped");
    releasem(mp);
}

void start_the_world(void)
{
    struct m *mp = acquirem();
    lock(&sched.lock);
    int32_t procs = sched.newprocs != 0 ? sched.newprocs : atomic_load(&gomaxprocs);
    sched.newprocs = 0;
    struct p *runnable = procresize(procs);
    atomic_store(&sched.gcwaiting, 0);
    if (atomic_load(&sched.sysmonwait)) {
        atomic_store(&sched.sysmonwait, 0);
        notewakeup(&sched.sysmonnote);
    }
    unlock(&sched.lock);
    while (runnable != NULL) {
        struct p *pp = runnable;
        runnable = pp->link;
        struct m *m2 = pp->m;
        if (m2 != NULL) {
            pp->m = NULL;
            m2->nextp = pp;
            notewakeup(&m2->park);
        } else {
            startm(pp, false);
        }
    }
    releasem(mp);
    atomic_store(&sched.worldsema, 0);
    wakep();
}

int gort_gomaxprocs(int n)
{
    int ret = atomic_load(&gomaxprocs);
    if (n <= 0 || n == ret)
        return ret;
    FOREIGN_CALL({
        stop_the_world("GOMAXPROCS");
        lock(&sched.lock);
        sched.newprocs = n;
        unlock(&sched.lock);
        start_the_world();
    });
    return ret;
}

/* ---- sudogs ------------------------------------------------------------ */

struct sudog *acquire_sudog(void)
{
    struct m *mp = acquirem();
    struct p *pp = mp->p;
    if (pp->nsudog == 0) {
        lock(&sched.sudoglock);
        while (pp->nsudog < (int32_t)(sizeof pp->sudogcache / sizeof pp->sudogcache[0]) / 2 &&
               sched.sudogcache != NULL) {
            struct sudog *s = sched.sudogcache;
            sched.sudogcache = s->next;
            s->next = NULL;
            pp->sudogcache[pp->nsudog++] = s;
        }
        unlock(&sched.sudoglock);
        /* A GC object, as Go's: in use it is held by a channel's or a
         * semaphore's wait queue (or the waiting g's frame), cached by this
         * P's cache (a root) or sched's list (a global). */
        if (pp->nsudog == 0)
            pp->sudogcache[pp->nsudog++] = gort_malloc(sizeof(struct sudog));
    }
    struct sudog *s = pp->sudogcache[--pp->nsudog];
    releasem(mp);
    if (s == NULL)
        throw("acquire_sudog: out of memory");
    return s;
}

void release_sudog(struct sudog *s)
{
    if (s->elem != NULL || s->isselect || s->next != NULL || s->prev != NULL ||
        s->waitlink != NULL || s->c != NULL)
        throw("runtime: sudog with non-nil field");
    s->g = NULL;
    s->success = false;
    s->parent = NULL;
    s->waittail = NULL;
    s->ticket = 0;
    s->acquiretime = 0;
    s->releasetime = 0;
    struct m *mp = acquirem();
    struct p *pp = mp->p;
    int32_t cap = (int32_t)(sizeof pp->sudogcache / sizeof pp->sudogcache[0]);
    if (pp->nsudog == cap) {
        /* Move half to the global list. */
        lock(&sched.sudoglock);
        while (pp->nsudog > cap / 2) {
            struct sudog *x = pp->sudogcache[--pp->nsudog];
            x->next = sched.sudogcache;
            sched.sudogcache = x;
        }
        unlock(&sched.sudoglock);
        for (int32_t i = 0; i < pp->nsudog; i++)
            pp->sudogcache[i]->next = NULL;
    }
    pp->sudogcache[pp->nsudog++] = s;
    releasem(mp);
}

void gort_sudog_flush_p(struct p *pp)
{
    lock(&sched.sudoglock);
    while (pp->nsudog > 0) {
        struct sudog *x = pp->sudogcache[--pp->nsudog];
        x->next = sched.sudogcache;
        sched.sudogcache = x;
    }
    unlock(&sched.sudoglock);
}

/* ---- sysmon ------------------------------------------------------------ */

static uint32_t retake(int64_t now)
{
    uint32_t n = 0;
    int32_t procs = atomic_load(&gomaxprocs);
    struct p **ps = __atomic_load_n(&allp, __ATOMIC_ACQUIRE);
    for (int32_t i = 0; i < procs; i++) {
        struct p *pp = ps[i];
        uint32_t status = atomic_load(&pp->status);
        if (status == P_RUNNING) {
            /* Preempt a g that has had the P for a whole time slice. */
            uint32_t st = __atomic_load_n(&pp->schedtick, __ATOMIC_RELAXED);
            if (pp->sysmonschedtick != st) {
                pp->sysmonschedtick = st;
                pp->sysmonschedwhen = now;
            } else if (pp->sysmonschedwhen + FORCE_PREEMPT_NS <= now) {
                gort_preemptone(pp);
                /* The g that runs next starts now, as this one yields: its
                 * slice counts from here.  Counting from the next tick
                 * that sees it (10 ms on) would give every g 20 ms. */
                pp->sysmonschedtick = st + 1;
                pp->sysmonschedwhen = now;
            }
            continue;
        }
        if (status != P_SYSCALL)
            continue;
        uint32_t t = atomic_load(&pp->syscalltick);
        if (pp->sysmontick != t) {
            pp->sysmontick = t;
            pp->sysmonwhen = now;
            continue;
        }
        /* Leave a short syscall alone when there is nothing else to run
         * and capacity to spare. */
        if (runqempty(pp) &&
            atomic_load(&sched.nmspinning) + atomic_load(&sched.npidle) > 0 &&
            pp->sysmonwhen + 10 * 1000 * 1000 > now)
            continue;
        uint32_t s = P_SYSCALL;
        if (atomic_compare_exchange_strong(&pp->status, &s, P_IDLE)) {
            n++;
            atomic_fetch_add(&pp->syscalltick, 1);
            handoffp(pp);
        }
    }
    return n;
}

static void *sysmon(void *arg)
{
    struct m *mp = arg;
    thread_init(mp);
    uint32_t idle = 0, delay = 0;
    int64_t lasttrace = 0, lastscavenge = nanotime();
    for (;;) {
        if (idle == 0)
            delay = SYSMON_MIN_US;
        else if (idle > 50)
            delay *= 2;
        if (delay > SYSMON_MAX_US)
            delay = SYSMON_MAX_US;
        usleep_rt(delay);
        int64_t now = nanotime();
        if (debug.schedtrace <= 0 &&
            (atomic_load(&sched.gcwaiting) ||
             atomic_load(&sched.npidle) == atomic_load(&gomaxprocs))) {
            lock(&sched.lock);
            if (atomic_load(&sched.gcwaiting) ||
                atomic_load(&sched.npidle) == atomic_load(&gomaxprocs)) {
                atomic_store(&sched.sysmonwait, 1);
                unlock(&sched.lock);
                while (gort_stack_scavenge() > 0)
                    ;
                notetsleep(&sched.sysmonnote, 60ll * 1000 * 1000 * 1000);
                lock(&sched.lock);
                atomic_store(&sched.sysmonwait, 0);
                noteclear(&sched.sysmonnote);
                idle = 0;
                delay = SYSMON_MIN_US;
            }
            unlock(&sched.lock);
            now = nanotime();
        }
        if (retake(now) != 0)
            idle = 0;
        else
            idle++;
        /* A GC every 2 minutes at least (Go's forcegc): the helper g is
         * parked; sysmon has no P, so it goes on the global queue. */
        struct g *fg = gort_forcegc_poll(now);
        if (fg != NULL) {
            casgstatus(fg, G_WAITING, G_RUNNABLE);
            lock(&sched.lock);
            globrunqput(fg);
            unlock(&sched.lock);
            wakep();
        }
        if (now - lastscavenge >= 1000 * 1000 * 1000) {
            lastscavenge = now;
            gort_stack_scavenge();
        }
        if (debug.schedtrace > 0 && lasttrace + (int64_t)debug.schedtrace * 1000000 <= now) {
            lasttrace = now;
            schedtrace(debug.scheddetail > 0);
        }
    }
    return NULL;
}

/* ---- schedtrace -------------------------------------------------------- */

/* A diagnostic snapshot: it reads other Ms' and Gs' fields without their
 * owners' cooperation, racily by design (as Go's does), so TSan is told. */
#if GORT_TSAN
__attribute__((no_sanitize("thread")))
#endif
void schedtrace(bool detailed)
{
    int64_t now = nanotime();
    if (sched.starttime == 0)
        sched.starttime = now;
    lock(&sched.lock);
    int32_t procs = atomic_load(&gomaxprocs);
    print("SCHED %ldms: gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d idlethreads=%d "
          "runqueue=%d",
          (long)((now - sched.starttime) / 1000000), procs, atomic_load(&sched.npidle), mcount(),
          atomic_load(&sched.nmspinning), sched.nmidle, sched.runqsize);
    if (detailed)
        print(" gcwaiting=%u nmidlelocked=%d stopwait=%d sysmonwait=%u\n",
              atomic_load(&sched.gcwaiting), sched.nmidlelocked, sched.stopwait,
              atomic_load(&sched.sysmonwait));
    for (int32_t i = 0; i < procs; i++) {
        struct p *pp = allp[i];
        uint32_t h = atomic_load(&pp->runqhead), t = atomic_load(&pp->runqtail);
        int32_t qsize = (int32_t)(t - h);
        if (qsize < 0)
            qsize = 0;
        if (detailed) {
            struct m *pm = pp->m;
            print("  P%d: status=%u schedtick=%u syscalltick=%u m=%ld runqsize=%d gfreecnt=%d "
                  "timerslen=%d\n",
                  i, atomic_load(&pp->status), pp->schedtick, atomic_load(&pp->syscalltick),
                  pm != NULL ? (long)pm->id : -1L, qsize, pp->gfreecnt, pp->ntimers);
        } else {
            print("%s%d", i == 0 ? " [" : " ", qsize);
            if (i == procs - 1)
                print("]\n");
        }
    }
    if (!detailed) {
        unlock(&sched.lock);
        return;
    }
    for (struct m *mp = atomic_load(&allm); mp != NULL; mp = mp->alllink) {
        struct p *pp = mp->p;
        struct g *cg = mp->curg;
        struct g *lg = mp->lockedg;
        /* Go's startpanic_m counts a dying m as mallocing (it must not
         * allocate); gort's allocator keeps no per-m flag, so that case is
         * the one shown. */
        print("  M%ld: p=%d curg=%ld mallocing=%d throwing=%d preemptoff= locks=%d dying=%d "
              "spinning=%s blocked=%s lockedg=%ld\n",
              (long)mp->id, pp != NULL ? pp->id : -1, cg != NULL ? (long)cg->goid : -1L,
              mp->dying > 0 ? 1 : 0, mp->throwing, mp->locks, mp->dying, mp->spinning ? "true" : "false",
              mp->blocked ? "true" : "false", lg != NULL ? (long)lg->goid : -1L);
    }
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        struct m *gm = gp->m;
        struct m *lm = gp->lockedm;
        uint32_t st = readgstatus(gp);
        print("  G%ld: status=%u(%s) m=%ld lockedm=%ld\n", (long)gp->goid, st,
              st == G_WAITING ? waitreason_string(gp->waitreason) : "",
              gm != NULL ? (long)gm->id : -1L, lm != NULL ? (long)lm->id : -1L);
    }
    unlock(&sched.lock);
}

/* ---- start-up ---------------------------------------------------------- */

static void runmain(void *arg)
{
    (void)arg;
    gort_gcenable();
    run_inits();
    int status = main_fn(main_argc, main_argv);
    exit(status);
}

int gort_main(int (*fn)(int, char **), int argc, char **argv)
{
    if (atomic_load(&main_started))
        throw("gort_main called twice");
    runtime_inittime = nanotime();
    main_fn = fn;
    main_argc = argc;
    main_argv = argv;
    os_init();
    env_init();
    gort_gcinit();
    stack_init();

    struct m *mp = &m0;
    mp->g0 = &g0_m0;
    g0_m0.m = mp;
    g0_m0.system = true;
    atomic_store(&g0_m0.atomicstatus, G_RUNNING);
    set_g0_stack(&g0_m0);
    setg(&g0_m0);
#if GORT_TSAN
    g0_m0.tsan_fiber = __tsan_get_current_fiber();
#endif
    mcommoninit(mp, -1);
    minit(mp);
    signal_init();
    gort_preempt_init();

    int32_t procs = ncpu;
    if (env_gomaxprocs > 0)
        procs = env_gomaxprocs;
    lock(&sched.lock);
    struct p *runnable = procresize(procs);
    unlock(&sched.lock);
    (void)runnable; /* fresh Ps have no work */

    newproc(runmain, NULL, 0, MAIN_STACK, (uintptr_t)__builtin_return_address(0), false);

    struct m *smp = allocm(-1);
    lock(&sched.lock);
    sched.nmsys++;
    unlock(&sched.lock);
    newm_thread(smp, sysmon);

    atomic_store(&main_started, true);
    schedule();
}
