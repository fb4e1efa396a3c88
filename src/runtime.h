/*
 * runtime.h — the internal umbrella: G, M, P, sched, sudog, locks, throw.
 *
 * The vocabulary is Go's (src/runtime/runtime2.go):
 *   g      a goroutine: its saved context, its stack, its state;
 *   m      an OS thread; m->g0 is the goroutine-like record of the thread's
 *          own stack, on which the scheduler runs;
 *   p      a processor: the right to run Go code, with a local run queue,
 *          a stack cache and a timer heap.  GOMAXPROCS of them exist.
 *   sched  the global scheduler state under sched.lock.
 *
 * Internal names that leave an object file carry the gort_ prefix; the code
 * uses Go's short names through the #defines below, so `gopark(...)` in the
 * source is the symbol gort_gopark in the library.
 *
 * Threads and TLS.  The running g is one initial-exec TLS word, read through
 * getg(), an asm volatile load the compiler cannot cache across a call that
 * may resume on another thread.  Never keep &tls across such a call.
 *
 * Lock ranks (lower first; debug builds check the order): see enum lockrank.
 */
#ifndef GORT_RUNTIME_H
#define GORT_RUNTIME_H

#define _GNU_SOURCE 1
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>

#include "gort.h"

#define GORT_INTERNAL __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define NOINLINE __attribute__((noinline))
#define NORETURN __attribute__((noreturn))

/* Debug levels: 1 cheap always-on checks, 2 internal invariants, 3 validators. */
#ifndef GORT_DEBUG
#define GORT_DEBUG 1
#endif

/* Sanitizer builds annotate switches (see proc.c). */
#if defined(__SANITIZE_ADDRESS__)
#define GORT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GORT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORT_TSAN 1
#endif
#endif
#ifndef GORT_ASAN
#define GORT_ASAN 0
#endif
#ifndef GORT_TSAN
#define GORT_TSAN 0
#endif

struct g;
struct m;
struct p;
struct sudog;
struct gort_chan;

/* ---- locks (lock_futex.c) ---------------------------------------------
 * A runtime mutex: spins briefly, then sleeps on a futex.  It is held only
 * for short critical sections and never across a park.  Every lock has a
 * rank; with GORT_DEBUG >= 2 taking a lock of rank <= one already held by the
 * M throws "lock ordering problem". */
enum lockrank {
    LOCKRANK_NONE = 0,
    LOCKRANK_SCHED_TRACE,
    LOCKRANK_HCHAN,    /* a channel's lock (select takes several, by address) */
    LOCKRANK_SEMAROOT, /* a semaphore table root */
    LOCKRANK_NOTIFYLIST,
    LOCKRANK_SUDOG, /* sched.sudoglock: acquire_sudog runs under the three above */
    LOCKRANK_TIMERS, /* a p's timer heap */
    LOCKRANK_ALLG,   /* allglock */
    LOCKRANK_STACK,  /* the stack pool */
    LOCKRANK_SCHED,  /* sched.lock */
    LOCKRANK_ALLM,
    /* Memory (malloc.h): sched.lock may be held when a P's mcache is made
     * or flushed (procresize), so these rank above it. */
    LOCKRANK_GCPARK,     /* a helper goroutine's parking spot (mgc.c) */
    LOCKRANK_GCACHE,     /* the mcache of code without a P; held through a GC */
    LOCKRANK_GCROOTS,    /* the collector's settings and registered roots */
    LOCKRANK_FIN,        /* finalizer table and queue */
    LOCKRANK_MCENTRAL,
    LOCKRANK_MHEAP,
    LOCKRANK_GCWORK,     /* the mark work pool (mgcmark.c) */
    LOCKRANK_PERSISTENT, /* persistentalloc */
    LOCKRANK_PRINT, /* printlock: held while writing a report */
    LOCKRANK_LEAF,
};

struct mutex {
    _Atomic uint32_t key; /* 0 unlocked, 1 locked, 2 locked with sleepers */
    uint8_t rank;         /* enum lockrank; fixed at init */
};
#define MUTEX_INIT(r) {0, (r)}

#define lock_init gort_lock_init
#define lock gort_lock
#define unlock gort_unlock
void lock_init(struct mutex *l, enum lockrank rank);
void lock(struct mutex *l);
void unlock(struct mutex *l);

/* A note is a one-shot event: one sleeper, one waker (Go's note). */
struct note {
    _Atomic uint32_t key; /* 0 clear, 1 woken */
};
#define noteclear gort_noteclear
#define notewakeup gort_notewakeup
#define notesleep gort_notesleep
#define notetsleep gort_notetsleep
void noteclear(struct note *n);
void notewakeup(struct note *n);
void notesleep(struct note *n);
/* Sleeps at most ns (ns < 0: forever); returns true when woken. */
bool notetsleep(struct note *n, int64_t ns);

#define futexsleep gort_futexsleep
#define futexwakeup gort_futexwakeup
void futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns);
void futexwakeup(_Atomic uint32_t *addr, uint32_t cnt);

/* ---- goroutine states (Go's numbering: schedtrace prints them) --------- */
enum {
    G_IDLE = 0,
    G_RUNNABLE = 1,
    G_RUNNING = 2,
    G_SYSCALL = 3,
    G_WAITING = 4,
    G_DEAD = 6,
    G_PREEMPTED = 9,
};

/* Wait reasons: the text in "goroutine 7 [chan receive]:" (traceback.c
 * holds the strings, in this order). */
enum waitreason {
    WAIT_REASON_ZERO = 0,
    WAIT_REASON_GC_ASSIST_MARKING,
    WAIT_REASON_IO_WAIT,
    WAIT_REASON_CHAN_RECEIVE_NIL_CHAN,
    WAIT_REASON_CHAN_SEND_NIL_CHAN,
    WAIT_REASON_DUMPING_HEAP,
    WAIT_REASON_GARBAGE_COLLECTION,
    WAIT_REASON_GARBAGE_COLLECTION_SCAN,
    WAIT_REASON_PANICWAIT,
    WAIT_REASON_SELECT,
    WAIT_REASON_SELECT_NO_CASES,
    WAIT_REASON_GC_ASSIST_WAIT,
    WAIT_REASON_GC_SWEEP_WAIT,
    WAIT_REASON_GC_SCAVENGE_WAIT,
    WAIT_REASON_CHAN_RECEIVE,
    WAIT_REASON_CHAN_SEND,
    WAIT_REASON_FINALIZER_WAIT,
    WAIT_REASON_FORCE_GC_IDLE,
    WAIT_REASON_SEMACQUIRE,
    WAIT_REASON_SLEEP,
    WAIT_REASON_SYNC_COND_WAIT,
    WAIT_REASON_SYNC_MUTEX_LOCK,
    WAIT_REASON_SYNC_RWMUTEX_RLOCK,
    WAIT_REASON_SYNC_RWMUTEX_LOCK,
    WAIT_REASON_SYNC_WAITGROUP_WAIT,
    WAIT_REASON_TIMER_GOROUTINE_IDLE,
    WAIT_REASON_PREEMPTED,
    WAIT_REASON_DEBUG_CALL,
    WAIT_REASON_STOPPING_THE_WORLD,
    WAIT_REASON_GC_WORKER_IDLE,
    WAIT_REASON_COUNT
};
#define waitreason_string gort_waitreason_string
const char *waitreason_string(int reason);

/* ---- sudog: a g waiting on a channel or semaphore (Go's sudog) ---------
 * Protected by the lock of the object it waits on (hchan.lock, semaroot
 * lock).  A g in a select has one sudog per case, linked by waitlink. */
struct sudog {
    struct g *g;
    struct sudog *next, *prev; /* the wait queue of the channel/semaphore */
    void *elem;                /* data element (may point into g's stack) */
    int64_t acquiretime;
    int64_t releasetime;
    uint32_t ticket;
    bool isselect;      /* g is in a select: g->selectdone decides who wins */
    bool success;       /* woken by a value (true) or by close (false) */
    struct sudog *parent;   /* semaroot binary tree */
    struct sudog *waitlink; /* g->waiting list or semaroot */
    struct sudog *waittail; /* semaroot */
    struct gort_chan *c;    /* the channel */
};
#define acquire_sudog gort_acquire_sudog
#define release_sudog gort_release_sudog
struct sudog *acquire_sudog(void);
void release_sudog(struct sudog *s);

/* ---- g ------------------------------------------------------------------ */

/* The saved context of a switched-out g: everything else is on its stack
 * (see arch/amd64/switch.S for the frame layout). */
struct gobuf {
    uintptr_t sp;
};

struct g {
    struct gobuf sched;   /* saved SP while not running; owned by the switcher */
    uintptr_t stack_lo;   /* lowest usable address (above the guard) */
    uintptr_t stack_hi;   /* one past the highest address */
    uintptr_t stack_base; /* the slot's base: the guard page; stack.c owns it */
    size_t stack_size;    /* the slot's size (including the guard page) */
    _Atomic uint32_t atomicstatus; /* G_*; transitions by casgstatus */
    int64_t goid;
    struct m *m;         /* the m running this g, or NULL */
    struct g *schedlink; /* run queue / free list link; owner's lock */
    struct g *alllink;   /* allgs list; under allglock, append-only */
    void (*startfn)(void *);
    void *startarg;
    uintptr_t gopc;        /* pc of the gort_go call that created this g */
    int64_t parentgoid;    /* goid of the creator */
    uint8_t waitreason;    /* valid while G_WAITING */
    bool system;           /* runtime helper: hidden from tracebacks < 2 and NumGoroutine */
    bool activestackchans; /* a channel points into this g's stack */
    _Atomic uint32_t selectdone; /* select: first winner sets 1 */
    struct sudog *waiting; /* sudogs of the select/chan op this g waits in */
    struct sudog *param_sg; /* set by the waker: which sudog completed */
    bool param_success;
    int64_t waitsince; /* nanotime when it parked (for ", N minutes") */
    struct m *lockedm; /* gort_lock_os_thread: the m this g is wired to */
    uint32_t lockedext; /* external LockOSThread nesting count */
    int saved_errno;    /* errno at the last switch out */
    /* The caller's callee-saved registers (rbx rbp r12 r13 r14 r15) and SP
     * at gort_syscall_enter: a value kept only in one of them while the g
     * runs C code without a P is still seen by the collector.  Written by
     * the owner before it leaves RUNNING; read with the world stopped. */
    uintptr_t syscallregs[7];
    struct timer *sleeptimer; /* gort_sleep's timer, reused */
    void *panic;  /* panic.c: the innermost active panic (struct _panic *) */
    void *defers; /* panic.c: the defer chain (innermost first) */
    void *frames; /* panic.c: the innermost open gort_frame */
    /* The synchronous signal being turned into a panic (signal.c, and
     * panic.c for a deferred nil func; for panic.c's "[signal ...]"
     * line): 0 when none; owner only. */
    int32_t sig;
    uintptr_t sigcode0, sigcode1, sigpc; /* si_code, fault address, pc */
    void *tsan_fiber; /* TSan fiber handle (sanitizer builds) */
    uint32_t tsan_lives; /* goroutines this g has run, for fiber renewal (TSan) */
    const void *asan_fake_stack;
    uintptr_t stackguard; /* canary address when no guard page; 0 otherwise */
    bool stackreleased;   /* cached dead g whose stack pages were given back; pool lock */
    bool preempt; /* asked to yield (sysmon, stop the world); __atomic, any thread */
    bool foreign; /* the g of a thread the runtime did not create (proc.c); fixed */
    /* Where the GC cycle whose concurrent mark scanned this stack while
     * the g was stopped is kept (0: none): set by the marker, zeroed by
     * execute when the g runs during a mark (mgcmark.c's essay has the
     * protocol).  In a side table of the stack region, not in this page:
     * the page is write-tracked while marking, and the marker's own store
     * would make every stack look written.  NULL for stacks not from
     * stack.c (g0s, foreign threads): never clean.  Fixed. */
    _Atomic uint32_t *gcscangen;
};

/* ---- m ------------------------------------------------------------------ */
/* Unless said otherwise, a field is the m's own: written only by the thread
 * itself (or by whoever hands it work before waking it through park, which
 * orders the write), and read racily by diagnostics (schedtrace, sysmon). */
struct m {
    struct g *g0;   /* the thread's own stack, where schedule() runs; fixed */
    struct g *curg; /* the user g running, or NULL; sysmon reads it racily */
    struct p *p;    /* attached p, or NULL */
    struct p *nextp; /* the p handed over by startm/startlockedm before waking park */
    struct p *oldp; /* the p before a syscall (its status says who owns it now) */
    int64_t id;       /* fixed at creation */
    int32_t locks;    /* runtime locks held (lock_futex.c), plus acquirem */
    int32_t throwing; /* > 0 while printing a fatal error (panic.c) */
    int32_t dying;    /* depth of fatal reports on this m (panic.c) */
    bool spinning;    /* looking for work; counted in sched.nmspinning */
    bool blocked;     /* parked on park */
    bool incgo;       /* in gort_syscall_enter ... exit: never a preemption point */
    struct note park; /* the m sleeps here when idle */
    struct m *schedlink; /* idle m list; sched.lock */
    struct m *alllink;   /* allm list; append-only */
    struct g *lockedg;   /* the g wired to this m (gort_lock_os_thread, foreign threads) */
    uint64_t randstate;  /* fastrand's wyrand state */
    uintptr_t procid;    /* kernel thread id: where sysmon sends SIGURG */
    void *sigaltstack_mem; /* this thread's signal stack (signal.c) */
    /* Switch commit: what the g that just switched out asked for (park,
     * yield, exit), run on the next stack after the switch (see proc.c).
     * Written by the outgoing g, consumed by whatever runs next on this m. */
    void (*commitfn)(struct g *);
    struct g *commitg;
    bool (*waitunlockf)(struct g *, void *); /* gopark's unlockf, for the commit */
    void *waitlock;                          /* its argument */
    uint8_t lockranks[16]; /* ranks of held locks, GORT_DEBUG >= 2 */
    bool exiting; /* the thread is gone (a foreign thread ended): send it nothing */
    /* Work for an idle m while the world is stopped (gort_helpgc): set by
     * the waker, with the m taken off sched.midle, before its park note is
     * woken; cleared by the m itself. */
    void (*helpfn)(void *);
    void *helparg;
    pthread_t thread; /* set by pthread_create; diagnostics only */
    /* The context interrupted by a fatal signal (signal.c), for tracebacks:
     * nonzero only while a signal report is printed. */
    uintptr_t sigpc, sigsp, sigfp;
};

/* ---- p ------------------------------------------------------------------ */
enum {
    P_IDLE = 0,
    P_RUNNING = 1,
    P_SYSCALL = 2,
    P_GCSTOP = 3,
    P_DEAD = 4,
};

#define RUNQ_SIZE 256

struct timer;
struct mcache;

struct p {
    int32_t id;
    _Atomic uint32_t status; /* P_* */
    struct p *link;          /* idle p list; sched.lock */
    uint32_t schedtick;      /* incremented on every schedule */
    _Atomic uint32_t syscalltick;
    struct m *m;             /* back-link to the m, or NULL if idle */
    /* Local run queue: lock-free for one producer (the owner) and many
     * consumers (stealers); runqhead is advanced by CAS. */
    _Atomic uint32_t runqhead;
    _Atomic uint32_t runqtail;
    struct g *_Atomic runq[RUNQ_SIZE];
    /* runnext: the g to run next, ahead of runq; set by the owner, taken by
     * CAS (owner or stealer).  It inherits the current time slice. */
    struct g *_Atomic runnext;
    /* Cached dead gs with their stacks (stack.c); owner only.  An array,
     * not a list through the gs: each g sits in its own page, and walking
     * a list of them costs a cache and TLB miss per link. */
    struct g *gfree[64];
    int32_t gfreecnt;
    /* Timer heap (time.c): a 4-ary min-heap under timerslock. */
    struct mutex timerslock;
    struct timer **timers;
    int32_t ntimers;
    int32_t timerscap;
    _Atomic int64_t timer0when; /* when of timers[0], 0 if none */
    /* sudog cache; owner only */
    struct sudog *sudogcache[128];
    int32_t nsudog;
    uint64_t goidcache, goidcacheend; /* goid batch; owner only */
    int32_t ngoroutine; /* user gs created minus exited here; owner writes, gcount reads racily */
    /* The allocation cache (mcache.c); owner only, flushed by a GC with
     * the world stopped and when the P is destroyed. */
    struct mcache *mcache;
    uint32_t sysmontick;  /* sysmon's last view of syscalltick; sysmon only */
    int64_t sysmonwhen;   /* when sysmon saw that tick; sysmon only */
    uint32_t sysmonschedtick; /* sysmon's last view of schedtick; sysmon only */
    int64_t sysmonschedwhen;  /* when sysmon saw that tick; sysmon only */
};

/* ---- sched ------------------------------------------------------------- */
struct schedt {
    _Atomic uint64_t goidgen;
    struct mutex lock;
    struct m *midle; /* idle ms waiting for work */
    int32_t nmidle;
    int32_t nmidlelocked;
    int64_t mnext; /* next m id; also the number of ms created */
    int32_t nmsys; /* system ms not counted for deadlock (sysmon) */
    struct p *pidle;
    _Atomic int32_t npidle;
    _Atomic int32_t nmspinning;
    /* Global run queue: a growable ring of g pointers (not a list through
     * the gs, for the same reason as p->gfree). */
    struct g **runq;
    uint32_t runqhead; /* index of the oldest */
    uint32_t runqcap;  /* a power of two, or 0 */
    int32_t runqsize;  /* written under lock; read racily with __atomic loads */
    /* Stop the world. */
    _Atomic uint32_t gcwaiting;
    int32_t stopwait;
    struct note stopnote;
    _Atomic uint32_t sysmonwait;
    struct note sysmonnote;
    /* Sudog free list backing the per-p caches. */
    struct mutex sudoglock;
    struct sudog *sudogcache;
    int64_t starttime; /* schedtrace's time origin */
    _Atomic int64_t pollUntil; /* see timersleeper below */
    /* The m sleeping until the earliest timer, without a p (Go's m blocked
     * in netpoll): timersleeper under lock; pollUntil is its deadline
     * (INT64_MAX while it computes it, 0 when there is none); tseq is the
     * futex word that addtimer bumps to wake it early. */
    bool timersleeper;
    _Atomic uint32_t tseq;
    /* User goroutines alive (NumGoroutine) = this + the sum of every p's
     * ngoroutine.  Per-p counts keep the create/exit path free of a shared
     * atomic (the cache line would bounce between the creating and the
     * exiting P); this one takes adjustments made off a p. */
    _Atomic int32_t ngoroutine;
    int64_t nmfreed;            /* ms that exited; lock */
    int32_t newprocs;           /* GOMAXPROCS to apply at start_the_world; lock */
    _Atomic uint32_t worldsema; /* one stop-the-world at a time */
    int64_t totaltime;
};
/* An asm label, not a macro: g->sched must keep its name. */
extern struct schedt sched __asm__("gort_sched");

#define allp gort_allp
#define gomaxprocs gort_gomaxprocs_n
#define ncpu gort_ncpu
#define allglock gort_allglock
#define allgs gort_allgs
#define allgs_tail gort_allgs_tail
#define allgcount gort_allgcount
#define allm gort_allm
#define runtime_inittime gort_runtime_inittime
#define panicking gort_panicking
extern struct p **allp;          /* [gomaxprocs]; changed only with the world stopped */
extern _Atomic int32_t gomaxprocs;
extern int32_t ncpu;
extern struct mutex allglock;
extern struct g *_Atomic allgs; /* every g ever created, creation order */
extern struct g *allgs_tail;
extern _Atomic int32_t allgcount;
extern struct m *_Atomic allm;
extern int64_t runtime_inittime;
extern _Atomic uint32_t panicking; /* a fatal report is being printed */

/* ---- current g ---------------------------------------------------------- */
extern __thread struct g *gort_tls_g __attribute__((tls_model("initial-exec")));

/* The running g (or the m's g0 on the scheduler stack; NULL on a thread the
 * runtime does not know).  An asm load the compiler cannot cache: a g may
 * resume on another thread after a call. */
static inline struct g *getg(void)
{
    struct g *gp;
    __asm__ volatile("movq gort_tls_g@gottpoff(%%rip), %0\n\t"
                     "movq %%fs:(%0), %0"
                     : "=r"(gp));
    return gp;
}
static inline void setg(struct g *gp)
{
    uintptr_t off;
    __asm__ volatile("movq gort_tls_g@gottpoff(%%rip), %0\n\t"
                     "movq %1, %%fs:(%0)"
                     : "=&r"(off)
                     : "r"(gp)
                     : "memory");
}

/* ---- proc.c ------------------------------------------------------------- */
#define gopark gort_gopark
#define goready gort_goready
#define readgstatus gort_readgstatus
#define casgstatus gort_casgstatus
#define fastrand gort_fastrand
#define fastrandn gort_fastrandn
#define stop_the_world gort_stop_the_world
#define start_the_world gort_start_the_world
#define wakep gort_wakep
#define checkdead gort_checkdead
#define gcount gort_gcount
#define mcount gort_mcount
#define acquirem gort_acquirem
#define releasem gort_releasem

/* Parks the calling g with wait reason `reason`.  After the g is switched
 * out, unlockf(gp, arg) runs (on another stack); if it returns false the g
 * is made runnable again at once.  unlockf may be NULL.  The g must be made
 * runnable by goready. */
void gopark(bool (*unlockf)(struct g *, void *), void *arg, uint8_t reason);
/* Makes a parked g runnable: put in the current p's runnext. */
void goready(struct g *gp);
/* Yields to the local run queue's head; the caller goes to its tail. */
#define goyield gort_goyield
void goyield(void);
static inline uint32_t readgstatus(struct g *gp)
{
    return atomic_load_explicit(&gp->atomicstatus, memory_order_acquire);
}
void casgstatus(struct g *gp, uint32_t oldval, uint32_t newval);
uint32_t fastrand(void);
static inline uint32_t fastrandn(uint32_t n)
{
    return (uint32_t)(((uint64_t)fastrand() * n) >> 32);
}
/* Stops every p; the caller keeps running alone.  reason for schedtrace. */
void stop_the_world(const char *reason);
void start_the_world(void);
void wakep(void);
void checkdead(void);
int32_t gcount(void);
int32_t mcount(void);
/* Keeps the g on its m (no switch, no preemption) between the two calls. */
struct m *acquirem(void);
void releasem(struct m *mp);
#define wake_timersleeper gort_wake_timersleeper
/* addtimer calls this after adding a timer that fires at `when`. */
void wake_timersleeper(int64_t when);
#define schedtrace gort_schedtrace
void schedtrace(bool detailed);

/* ---- foreign threads (proc.c) ------------------------------------------- */
struct g *gort_foreign_enter(void);
void gort_foreign_leave(struct g *gp);
/* Brackets the body of a public function that may park or needs a p, so a
 * thread the runtime did not create can call it.  For a goroutine it costs
 * one TLS load and a test. */
#define FOREIGN_CALL(stmt)                                                                  \
    do {                                                                                    \
        struct g *fcall_gp_ = getg();                                                       \
        struct g *fcall_fg_ = NULL;                                                         \
        if (unlikely(fcall_gp_ == NULL || fcall_gp_->foreign))                              \
            fcall_fg_ = gort_foreign_enter();                                               \
        stmt;                                                                               \
        if (unlikely(fcall_fg_ != NULL))                                                    \
            gort_foreign_leave(fcall_fg_);                                                  \
    } while (0)

/* ---- preempt.c ---------------------------------------------------------- */
#define FORCE_PREEMPT_NS (10 * 1000 * 1000) /* Go's forcePreemptNS */
void gort_preempt_init(void);
void gort_preemptone(struct p *pp);
void gort_preemptall(void);

/* ---- stack.c ------------------------------------------------------------ */
#define stackalloc_g gort_stackalloc_g
#define stackfree_g gort_stackfree_g
#define stack_init gort_stack_init
#define stack_guard_hit gort_stack_guard_hit
#define stack_check_canary gort_stack_check_canary
#define DEFAULT_STACK_SIZE (256u << 10)
void stack_init(void);
/* Allocates a stack slot of `size` bytes (0: default) with the g record at
 * its top.  Returns the g, zeroed apart from the stack fields.  Any p. */
struct g *stackalloc_g(size_t size);
/* Returns a dead g (and its stack) to the pools. */
void stackfree_g(struct g *gp);
/* If addr lies in a guard page of some stack slot, returns that slot's g. */
struct g *stack_guard_hit(uintptr_t addr);
/* Canary check at a switch, for stacks without a guard page. */
void stack_check_canary(struct g *gp);
/* Releases the pages of cold cached stacks (sysmon); returns how many. */
int gort_stack_scavenge(void);
/* Moves a p's cached dead gs to the global pool. */
void gort_stack_flush_p(struct p *pp);

/* ---- time.c ------------------------------------------------------------- */
struct timer {
    int64_t when;   /* nanotime at which to fire; 0: not in a heap */
    int64_t period; /* > 0: fire again period ns later */
    void (*f)(void *arg, uintptr_t seq);
    void *arg;
    uintptr_t seq;
    struct p *pp; /* the heap it is in, or NULL */
    int32_t idx;  /* index in pp->timers */
};
#define nanotime gort_nanotime_internal
#define addtimer gort_addtimer
#define deltimer gort_deltimer
#define checktimers gort_checktimers
#define nexttimer gort_nexttimer
int64_t nanotime(void);
/* mgc.c: a concurrent mark is in progress (set and cleared with the
 * world stopped). */
#define gcmarking gort_gcmarking
extern bool gcmarking;
/* stack.c: write-protect every stack slot for the mark (leader); at mark
 * termination, un-clean every goroutine whose slot was written (false:
 * stacks are not tracked, none is clean). */
#define stack_dirty_arm gort_stack_dirty_arm
#define stack_dirty_collect gort_stack_dirty_collect
void stack_dirty_arm(void);
bool stack_dirty_collect(void);
void addtimer(struct timer *t);
bool deltimer(struct timer *t);
/* Runs pp's expired timers; returns the when of its earliest remaining one
 * (0 if none).  now == 0: read the clock. */
int64_t checktimers(struct p *pp, int64_t now);
/* The earliest timer over all ps (0 if none). */
int64_t nexttimer(void);

/* ---- memory and GC hooks for proc.c (malloc.h has the rest) ----------- */
struct mcache *gort_mcache_alloc(void);
void gort_mcache_flush(struct mcache *c);
/* GOGC and GOMEMLIMIT (fatal if malformed); before any P exists. */
void gort_gcinit(void);
/* Starts the collector's helper goroutines; on the main goroutine. */
void gort_gcenable(void);
/* sysmon: the forcegc goroutine, parked and due to run, or NULL. */
struct g *gort_forcegc_poll(int64_t now);
/* Starts a runtime helper goroutine: g->system, not counted by
 * NumGoroutine or checkdead (Go's bgsweep, runfinq, forcegchelper). */
int64_t gort_go_system(void (*fn)(void *), void *arg);

/* ---- env.c -------------------------------------------------------------- */
struct debugvars {
    int32_t schedtrace;
    int32_t scheddetail;
    int32_t asyncpreemptoff;
    int32_t gctrace;
    int32_t gccheckmark;
    int32_t gcstoptheworld;
    int32_t gcstress; /* gort: start a cycle every N allocations */
    int32_t gcdirty;  /* gort: dirty-page tracking (and the concurrent mark): 0 off,
                       * 1 the best available, 2 uffd, 3 mprotect (mgcdirty.h) */
    int32_t madvdontneed;
    int32_t invalidptr;
    int32_t panicnil;
    int32_t allocfreetrace;
    int32_t tracebackancestors;
    int32_t tracefpunwindoff;
};
#define debug gort_debug_vars
#define env_init gort_env_init
#define traceback_level gort_traceback_level
#define traceback_all gort_traceback_all
#define traceback_crash gort_traceback_crash
#define env_gomaxprocs gort_env_gomaxprocs
extern struct debugvars debug;
extern int32_t traceback_level; /* GOTRACEBACK: 0 none, 1 single/all, 2 system/crash */
extern bool traceback_all;
extern bool traceback_crash;
extern int32_t env_gomaxprocs; /* > 0 if GOMAXPROCS was set validly */
void env_init(void);
/* Go's atoi32: optional '-', then decimal digits only; false if invalid. */
bool gort_atoi32(const char *s, int32_t *out);

/* ---- print / throw / panic (panic.c, traceback.c) ------------------------ */
#define throw gort_throw
#define fatal gort_fatal
#define printlock gort_printlock
#define printunlock gort_printunlock
#define print gort_print
#define panic_plain gort_panic_plain
#define traceback_goroutines gort_traceback_goroutines
#define dump_goroutine gort_dump_goroutine
/* Runtime corruption: "fatal error: msg", level-2 tracebacks, exit 2. */
NORETURN void throw(const char *msg);
/* A fatal error caused by user code: "fatal error: msg", user goroutines at
 * the GOTRACEBACK level, exit 2. */
NORETURN void fatal(const char *msg);
/* Go's plainError panics (channel misuse, makechan): a runtime.Error whose
 * text has no "runtime error: " prefix.  Not for the sync package's or
 * os/signal's misuse panics: those are Go's panic("string"), values that are
 * not runtime.Errors, so they call gort_panic. */
NORETURN void panic_plain(const char *msg);
/* Runtime errors: "runtime error: " + msg (msg must outlive the panic:
 * a literal), or formatted. */
#define panic_error gort_panic_error
#define panic_errorf gort_panic_errorf
#define crash gort_crash
#define diefromsignal gort_diefromsignal
/* Kills the program with sig's default action (signal.c; Go's dieFromSignal). */
NORETURN void diefromsignal(int sig);
NORETURN void panic_error(const char *msg);
NORETURN void panic_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The core of every panic (traceback.c prints its frames as "panic"). */
NORETURN void gort_gopanic(gort_any v);
/* Dies by SIGABRT (GOTRACEBACK=crash). */
NORETURN void crash(void);
/* Unbuffered write to fd 2 (async-signal-safe); printf-style subset:
 * %s %.*s %d %ld %lld %u %lu %llu %x %lx %llx %p %c %%. */
void print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void printlock(void);
#include <stdarg.h>
void gort_vprint(const char *fmt, va_list ap);
void printunlock(void);
/* A print destination other than fd 2: a bounded buffer (runtime.Stack).
 * Text beyond cap is dropped; n counts the bytes kept.  Owned by the caller;
 * no locking. */
struct printbuf {
    char *buf;
    size_t cap;
    size_t n;
};
#define bprint gort_bprint
/* print() into dst; dst == NULL means fd 2. */
void bprint(struct printbuf *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gort_vbprint(struct printbuf *dst, const char *fmt, va_list ap);
/* Prints goroutine tracebacks as GOTRACEBACK asks: `cur` first (it is the
 * calling g, or NULL), then every other g if `all`.  level 2 adds runtime
 * frames and fp/sp/pc.  Used by panics, fatal errors, deadlock. */
void traceback_goroutines(struct g *cur, bool all, int level);
#define traceback_signalled_m gort_traceback_signalled_m
/* One m's part of a GOTRACEBACK=crash signal dump (signal.c): what its
 * signal context (m->sigpc/sigsp/sigfp) interrupted.  printlock held. */
void traceback_signalled_m(struct m *mp);

/* ---- os_linux.c / signal.c ----------------------------------------------- */
#define os_init gort_os_init
#define os_gettid gort_os_gettid
#define minit gort_minit
#define signal_init gort_signal_init
#define osyield gort_osyield
#define usleep_rt gort_usleep
void os_init(void);
int32_t os_gettid(void);
void minit(struct m *mp); /* per-thread setup: sigaltstack, tid */
void signal_init(void);
#define signame_desc gort_signame_desc
/* "SIGSEGV: segmentation violation" (Go's sigtable text). */
const char *signame_desc(int sig);
/* Where a synchronous signal's context resumes, on the goroutine's stack:
 * raises the runtime-error panic (signal.c). */
NORETURN void gort_sigpanic(void);

/* ---- init.c ------------------------------------------------------------- */
#define run_inits gort_run_inits
/* Runs the GORT_INIT registrations; goroutine 1, before main_fn. */
void run_inits(void);
void osyield(void);
void usleep_rt(uint32_t us);

/* ---- arch/amd64/switch.S ------------------------------------------------ */
/* Saves the callee-saved registers, MXCSR and the x87 control word on the
 * current stack, stores the stack pointer in *save_sp, loads new_sp and
 * restores from it.  Returns (on the new stack) the value `arg`. */
#define gogo_switch gort_gogo_switch
void *gogo_switch(uintptr_t *save_sp, uintptr_t new_sp, void *arg);
/* Entry trampoline of a new g: its first switch-in "returns" here. */
#define gostart_trampoline gort_gostart_trampoline
void gostart_trampoline(void);

/* ---- helpers ------------------------------------------------------------- */

/* Population count without a libgcc call: the runtime must not call helper
 * functions that the linker places in the program's own .text, where the
 * preemption handler would take them for program code (preempt.c). */
static inline unsigned popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}
#define procyield gort_procyield
static inline void procyield(uint32_t cycles)
{
    for (uint32_t i = 0; i < cycles; i++)
        __asm__ volatile("pause" ::: "memory");
}

#endif /* GORT_RUNTIME_H */
