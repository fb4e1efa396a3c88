/*
 * mgc.c — the collector's driver and pacer (Go's mgc.go and mgcpacer.go).
 *
 * A cycle is Go's, less the write barrier (DESIGN.md "Collector", step 2):
 *   STW1  sweep termination, world stopped: finish the previous cycle's
 *         sweep; flush every mcache (cached spans go back to their
 *         mcentral, tiny blocks are dropped), so heap_live is exact; turn
 *         the phase to mark.  Short: no root is scanned here.
 *   mark  concurrent, on the leader (a system goroutine, "GC worker"):
 *         arm the dirty-page tracker over the heap, turn on allocate-black,
 *         scan globals, registered roots and the stacks of stopped
 *         goroutines, drain; then rounds of "rescan the marked objects on
 *         pages written since the last round" (the tracker re-arms what it
 *         reports) until a round finds and marks little (or DIRTY_ROUNDS
 *         have run).
 *         Allocating goroutines assist (below).
 *   STW2  mark termination, world stopped: the last dirty pages, globals,
 *         registered roots, defer records and every stack that ran since
 *         it was scanned; finalizers; the checkmark pass with
 *         GODEBUG=gccheckmark=1; flush the mcaches; add 2 to sweepgen
 *         (every span becomes unswept); heap_live = marked bytes; next
 *         goal; gctrace.
 * Then the background sweeper and the finalizer goroutine are woken.
 * mgcmark.c's essay says why this finds every reachable object.  Threads
 * without a P are held off by gcache_lock, which both pauses hold.
 *
 * The stop-the-world collector (step 1) remains: the whole mark in one
 * pause, started by the calling goroutine.  It runs with
 * GODEBUG=gcstoptheworld=1 (=2 also sweeps in the pause), when the kernel
 * offers no dirty tracking, for cycles started before the helper
 * goroutines exist, and when the last mark found under SMALL_MARK_BYTES of
 * heap (then a concurrent cycle's fixed costs exceed the whole mark;
 * gcstress and gccheckmark keep the concurrent collector at any size).
 * Its mark and STW2's run on the stopped Ps' threads too (mgcmark.c, "in
 * parallel"), unless the heap is small (parallel_mark).
 *
 * Pacing is Go's goal: marked + (marked + stacks + globals) * GOGC/100, at
 * least 4 MiB * GOGC/100, and under GOMEMLIMIT at most the limit less the
 * memory that is not heap.  A concurrent cycle starts at the trigger, some
 * runway before the goal (trigger_for).  While marking, an allocating
 * goroutine pays for each span it takes with scan work in proportion (the
 * assist ratio: scan work expected and not yet done over heap left before
 * the goal; past the goal, the whole heap's worth by the hard goal, goal +
 * 10%), first from the credit the background workers banked, then by
 * scanning; one that finds no work left while the heap is past the goal
 * parks until the workers' scanning pays its debt (Go's assist queue).
 * Markers share half their buffer whenever the pool runs dry, so an
 * assist finds work to do instead of waiting (a leader holding the whole
 * frontier of a tree would leave the program's Ps idle).  The leader
 * takes the 25% of GOMAXPROCS Go gives its dedicated and fractional
 * workers, resting when it is ahead of that share and no P is idle.
 * GOGC=off leaves only the memory limit.  sysmon forces a cycle when none
 * ran for 2 minutes, through a parked system goroutine (forcegc), as Go
 * does.
 *
 * The background sweeper (bgsweep) also scavenges: once the sweep is done
 * it returns free pages to the OS beyond what the next goal needs plus 10%
 * (Go's retainExtraPercent), or beyond 95% of the memory limit.
 *
 * GODEBUG: gctrace=1 prints Go's line (clock and CPU time of the two
 * pauses and the mark); gcstoptheworld as above; gccheckmark verifies
 * each mark; invalidptr is checked on typed pointer slots while
 * the world is stopped; gcstress=N (gort's) starts a cycle every N
 * allocations, for tests.
 */
#include "mgc.h"
#include "mgcdirty.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define HEAP_MINIMUM ((uint64_t)4 << 20)
#define FORCEGC_PERIOD (2ll * 60 * 1000 * 1000 * 1000)

_Atomic uint64_t gc_trigger = HEAP_MINIMUM;
extern struct mutex gort_gcache_lock;
extern struct mcache *gort_gcache;

struct gcstate {
    struct mutex lock;      /* settings below; LOCKRANK_GCROOTS */
    int32_t gcpercent;      /* GOGC; < 0 off */
    int64_t memlimit;       /* GOMEMLIMIT */
    uint64_t goal;          /* heap goal of the next cycle */
    uint64_t lastmarked;
    _Atomic uint32_t running;
    _Atomic uint32_t numgc, numforced;
    uint64_t pause_ns[256], pause_end[256];
    uint64_t pause_total;
    uint64_t last_gc_unix;
    _Atomic int64_t last_gc_mono;
    int64_t gc_cpu_ns;      /* GC CPU time: pauses x Ps, assists, workers */
    uint64_t lastscanwork;  /* bytes the last cycle scanned */
    uint64_t lastrunway;    /* bytes allocated during the last concurrent mark */
    uint64_t lasttraced;    /* bytes the last mark reached (allocated black excluded);
                               written with the world stopped, read by the leader */
};
static struct gcstate work = {
    .lock = MUTEX_INIT(LOCKRANK_GCROOTS),
    .gcpercent = 100,
    .memlimit = INT64_MAX,
    .goal = HEAP_MINIMUM,
};
_Atomic bool gort_gcblack;            /* allocate black: malloc.c marks new objects */
bool gcmarking;                       /* runtime.h; written with the world stopped */
static _Atomic uint32_t gcphase;      /* GC_OFF, GC_MARK */
enum { GC_OFF, GC_MARK };
static struct gcpark leaderpark = {MUTEX_INIT(LOCKRANK_GCPARK), NULL, false};

/* Per-cycle state of a concurrent cycle: written by the goroutine that
 * starts it (STW1), then the leader's until mark termination. */
static struct {
    uint32_t gen;          /* stack generation (never 0) */
    bool forced;
    int32_t procs;
    int64_t tstart, tmark; /* STW1 began, concurrent mark began */
    uint64_t heap0, goal, hardgoal;
    uint64_t scan_expected; /* scan work this cycle is expected to do */
    _Atomic int64_t assist_ratio; /* scan bytes per allocated byte, 16.16 */
    _Atomic int64_t assist_ns, bg_ns;
} cyc;

static struct gcpark sweeppark = {MUTEX_INIT(LOCKRANK_GCPARK), NULL, false};
static struct gcpark forcegcpark = {MUTEX_INIT(LOCKRANK_GCPARK), NULL, false};
static _Atomic bool helpers_started; /* set once by gcenable; read by sysmon */

int64_t gort_go_system(void (*fn)(void *), void *arg);

/* ---- parking spots -------------------------------------------------------- */

static bool gcpark_unlock(struct g *gp, void *arg)
{
    (void)gp;
    unlock(&((struct gcpark *)arg)->lock);
    return true;
}

void gort_gcpark_wait(struct gcpark *pk, uint8_t reason)
{
    lock(&pk->lock);
    if (pk->pending) {
        pk->pending = false;
        unlock(&pk->lock);
        return;
    }
    pk->waiter = getg();
    gopark(gcpark_unlock, pk, reason);
}

void gort_gcpark_wake(struct gcpark *pk)
{
    lock(&pk->lock);
    struct g *gp = pk->waiter;
    pk->waiter = NULL;
    if (gp == NULL)
        pk->pending = true;
    unlock(&pk->lock);
    if (gp != NULL)
        goready(gp);
}

/* ---- environment ---------------------------------------------------------- */

static bool atoi64(const char *s, int64_t *out)
{
    bool neg = *s == '-';
    if (neg)
        s++;
    if (*s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (uint64_t)INT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
            return false;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* Go's parseByteCount: digits, optionally followed by B, KiB, MiB, GiB, TiB. */
static bool parse_byte_count(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0)
        return false;
    char last = s[n - 1];
    if (last >= '0' && last <= '9') {
        int64_t v;
        if (!atoi64(s, &v) || v < 0)
            return false;
        *out = v;
        return true;
    }
    if (last != 'B')
        return false;
    n--;
    unsigned shift = 0;
    if (n > 0 && s[n - 1] == 'i') {
        if (n < 2)
            return false;
        switch (s[n - 2]) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: return false;
        }
        n -= 2;
    }
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (uint64_t)INT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX)
            return false;
    }
    if (v > ((uint64_t)INT64_MAX >> shift))
        return false;
    *out = (int64_t)(v << shift);
    return true;
}

static uint64_t heapminimum(void)
{
    return work.gcpercent < 0 ? 0 : HEAP_MINIMUM * (uint64_t)work.gcpercent / 100;
}

/* Go's trigger: early enough that the concurrent mark, which allocation
 * continues through, ends near the goal.  The runway is what the last
 * concurrent mark allocated, bounded to 70%..95% of the way from the
 * marked heap to the goal (Go's trigger bounds).  The stop-the-world
 * collector needs no runway. */
static uint64_t trigger_for(uint64_t goal)
{
    if (goal == UINT64_MAX || debug.gcstoptheworld > 0 || dirty_mode == DIRTY_NONE)
        return goal;
    uint64_t marked = work.lastmarked;
    if (goal <= marked)
        return goal;
    uint64_t span = goal - marked;
    uint64_t lo = marked + span * 7 / 10, hi = marked + span * 95 / 100;
    uint64_t runway = work.lastrunway + work.lastrunway / 10;
    uint64_t t = runway < goal ? goal - runway : 0;
    return t < lo ? lo : t > hi ? hi : t;
}

/* Sets the goal and trigger from the last mark.  work.lock held or world
 * stopped. */
static void commit_goal(void)
{
    uint64_t marked = work.lastmarked;
    uint64_t goal = UINT64_MAX;
    if (work.gcpercent >= 0) {
        goal = marked + (marked + gort_scan_stacks_bytes + gort_scan_globals_bytes) *
                            (uint64_t)work.gcpercent / 100;
        if (goal < heapminimum())
            goal = heapminimum();
    }
    if (work.memlimit != INT64_MAX) {
        /* What is mapped but is not heap counts against the limit. */
        uint64_t nonheap = atomic_load(&mheap_.gc_sys) + atomic_load(&mheap_.other_sys) +
                           atomic_load(&mheap_.mcache_sys) + (1u << 20);
        uint64_t lim = (uint64_t)work.memlimit > nonheap ? (uint64_t)work.memlimit - nonheap : 0;
        /* Go's CPU limiter keeps a limit below the live heap from turning
         * into back-to-back cycles; here a floor above the marked heap
         * does. */
        uint64_t floor = marked + marked / 16 + (1u << 20);
        if (lim < floor)
            lim = floor;
        if (lim < goal)
            goal = lim;
    }
    work.goal = goal;
    atomic_store(&gc_trigger, trigger_for(goal));
}

void gort_gcinit(void)
{
    malloc_init();
    const char *p = getenv("GOGC");
    if (p != NULL) {
        int32_t v;
        if (strcmp(p, "off") == 0)
            work.gcpercent = -1;
        else if (gort_atoi32(p, &v))
            work.gcpercent = v < 0 ? -1 : v;
    }
    p = getenv("GOMEMLIMIT");
    if (p != NULL && *p != '\0' && strcmp(p, "off") != 0) {
        int64_t v;
        if (!parse_byte_count(p, &v)) {
            print("GOMEMLIMIT=%s\n", p);
            throw("malformed GOMEMLIMIT; see `go doc runtime/debug.SetMemoryLimit`");
        }
        work.memlimit = v;
    }
    commit_goal();
}

/* ---- gctrace -------------------------------------------------------------- */

/* Go's fmtNSAsMS: whole ms from 10 ms, else 2 significant digits of us
 * with at most 3 decimals. */
static void fmt_ns_as_ms(char *buf, size_t n, uint64_t ns)
{
    if (ns >= 10000000) {
        snprintf(buf, n, "%llu", (unsigned long long)(ns / 1000000));
        return;
    }
    uint64_t x = ns / 1000;
    if (x == 0) {
        snprintf(buf, n, "0");
        return;
    }
    int dec = 3;
    while (x >= 100) {
        x /= 10;
        dec--;
    }
    uint64_t pow = 1;
    for (int i = 0; i < dec; i++)
        pow *= 10;
    if (dec == 0)
        snprintf(buf, n, "%llu", (unsigned long long)x);
    else
        snprintf(buf, n, "%llu.%0*llu", (unsigned long long)(x / pow), dec,
                 (unsigned long long)(x % pow));
}

/* Go's line: the clock and CPU times of STW1 (sweep termination), the
 * concurrent mark (assist/background/idle CPU) and STW2 (mark
 * termination); the heap at the start, at mark termination and marked. */
static void gctrace(uint32_t n, int64_t tmarkend, int64_t tend, uint64_t heap1)
{
    char a[32], b[32], c[32], ca[32], cas[32], cbg[32], cc[32];
    int32_t procs = cyc.procs;
    fmt_ns_as_ms(a, sizeof a, (uint64_t)(cyc.tmark - cyc.tstart));
    fmt_ns_as_ms(b, sizeof b, (uint64_t)(tmarkend - cyc.tmark));
    fmt_ns_as_ms(c, sizeof c, (uint64_t)(tend - tmarkend));
    fmt_ns_as_ms(ca, sizeof ca, (uint64_t)(cyc.tmark - cyc.tstart) * (uint64_t)procs);
    fmt_ns_as_ms(cas, sizeof cas, (uint64_t)atomic_load(&cyc.assist_ns));
    fmt_ns_as_ms(cbg, sizeof cbg, (uint64_t)atomic_load(&cyc.bg_ns));
    fmt_ns_as_ms(cc, sizeof cc, (uint64_t)(tend - tmarkend) * (uint64_t)procs);
    int64_t since = cyc.tstart - runtime_inittime;
    int64_t elapsed = (tend - runtime_inittime) * procs;
    int pct = elapsed > 0 ? (int)(work.gc_cpu_ns * 100 / elapsed) : 0;
    char line[512];
    snprintf(line, sizeof line,
             "gc %u @%lld.%03llds %d%%: %s+%s+%s ms clock, %s+%s/%s/0+%s ms cpu, "
             "%llu->%llu->%llu MB, %llu MB goal, %llu MB stacks, %llu MB globals, %d P%s\n",
             n, (long long)(since / 1000000000), (long long)(since / 1000000 % 1000), pct, a, b,
             c, ca, cas, cbg, cc, (unsigned long long)(cyc.heap0 >> 20),
             (unsigned long long)(heap1 >> 20),
             (unsigned long long)(atomic_load(&gort_heap_marked) >> 20),
             (unsigned long long)(cyc.goal >> 20),
             (unsigned long long)(gort_scan_stacks_bytes >> 20),
             (unsigned long long)(gort_scan_globals_bytes >> 20), procs,
             cyc.forced ? " (forced)" : "");
    print("%s", line);
}

/* ---- the cycle ------------------------------------------------------------ */

/* Goroutines waiting for a cycle to end (gort_gc), linked through
 * schedlink (they are on no run queue). */
static struct {
    struct mutex lock; /* LOCKRANK_GCPARK */
    struct g *head;
} cyclewait = {.lock = MUTEX_INIT(LOCKRANK_GCPARK)};

/* Assists that could not pay their debt (no grey object left to take)
 * while the heap is past its goal: parked until background scan work pays
 * for them or the cycle ends (Go's assist queue, gcParkAssist and
 * gcFlushBgCredit).  Background work that no parked assist claims is
 * banked as credit, which the next assists take before they scan.  So a
 * goroutine past the goal resumes as soon as the workers have done its
 * share, instead of sleeping through the rest of the cycle while its P
 * idles. */
struct assistwait {
    struct g *gp;
    int64_t debt;              /* scan bytes still owed */
    struct assistwait *next;
};
static struct {
    struct mutex lock;         /* LOCKRANK_GCPARK: the list */
    struct assistwait *head, *tail;
    _Atomic int64_t credit;    /* banked background scan work; reset by gcstart */
} assistq = {.lock = MUTEX_INIT(LOCKRANK_GCPARK)};

static void flush_mcaches(void)
{
    int32_t n = atomic_load(&nallmcache);
    for (int32_t i = 0; i < n; i++)
        mcache_flush(allmcache[i]);
}

/* World stopped: the bytes allocated black since the last call. */
static uint64_t take_blackbytes(void)
{
    uint64_t sum = 0;
    int32_t n = atomic_load(&nallmcache);
    for (int32_t i = 0; i < n; i++) {
        sum += allmcache[i]->blackbytes;
        allmcache[i]->blackbytes = 0;
    }
    return sum;
}

void gort_world_stop_heap(void)
{
    stop_the_world("GC");
    lock(&gort_gcache_lock);
}

void gort_world_start_heap(void)
{
    unlock(&gort_gcache_lock);
    start_the_world();
}

static bool cyclewait_unlock(struct g *gp, void *arg)
{
    (void)gp;
    (void)arg;
    unlock(&cyclewait.lock);
    return true;
}

/* Parks until the running cycle ends; returns at once if none runs.
 * work.running is cleared under cyclewait.lock, so a waiter that saw it
 * set is always woken. */
static void wait_cycle(void)
{
    struct g *gp = getg();
    lock(&cyclewait.lock);
    if (!atomic_load(&work.running)) {
        unlock(&cyclewait.lock);
        return;
    }
    gp->schedlink = cyclewait.head;
    cyclewait.head = gp;
    gopark(cyclewait_unlock, NULL, WAIT_REASON_GARBAGE_COLLECTION);
}

/* Ends the cycle: clears work.running and wakes the waiters. */
static void end_cycle(void)
{
    lock(&cyclewait.lock);
    atomic_store(&work.running, 0);
    struct g *list = cyclewait.head;
    cyclewait.head = NULL;
    unlock(&cyclewait.lock);
    while (list != NULL) {
        struct g *gp = list;
        list = gp->schedlink;
        gp->schedlink = NULL;
        goready(gp);
    }
    /* The mark is over (gcphase is GC_OFF): no assist parks any more. */
    lock(&assistq.lock);
    struct assistwait *a = assistq.head;
    assistq.head = assistq.tail = NULL;
    unlock(&assistq.lock);
    while (a != NULL) {
        struct assistwait *next = a->next; /* a lives on its g's stack */
        goready(a->gp);
        a = next;
    }
}

/* Mark termination's bookkeeping, world stopped, work.lock held: the
 * sweep generation turns, the heap's new size and goal, the statistics
 * and the trace line.  pause is the cycle's stop-the-world time. */
static void finish_cycle(int64_t tmarkend, int64_t tend, uint64_t heap1, uint64_t pause,
                         int64_t gccpu)
{
    atomic_fetch_add(&mheap_.sweepgen, 2);
    gort_sweep_reset();
    uint64_t marked = atomic_load(&gort_heap_marked);
    if (heap1 > cyc.heap0 && cyc.tmark != tmarkend)
        work.lastrunway = heap1 - cyc.heap0; /* allocated while marking */
    atomic_store(&heap_live, marked);
    work.lastmarked = marked;
    work.lastscanwork = atomic_load(&gort_scanwork);
    commit_goal();
    uint32_t n = atomic_load(&work.numgc);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t unixnow = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    work.pause_ns[n % 256] = pause;
    work.pause_end[n % 256] = unixnow;
    work.pause_total += pause;
    work.last_gc_unix = unixnow;
    work.gc_cpu_ns += gccpu;
    atomic_store(&work.last_gc_mono, tend);
    if (cyc.forced)
        atomic_fetch_add(&work.numforced, 1);
    if (debug.gctrace > 0)
        gctrace(n + 1, tmarkend, tend, heap1);
    atomic_store(&work.numgc, n + 1);
}

/* After the world restarts: the sweeper, finalizers, and whoever waits. */
static void after_cycle(void)
{
    end_cycle();
    if (helpers_started) {
        gort_gcpark_wake(&sweeppark);
        gort_finalizers_wake();
    }
}

/* Sweep termination (world stopped): finish the previous cycle's sweep and
 * empty every mcache, so that no span is cached and heap_live is exact. */
static void sweep_termination(void)
{
    while (sweepone() != (uintptr_t)-1)
        ;
    flush_mcaches();
}

/* Whether a pause's mark should run on the stopped Ps' threads too
 * (mgcmark.c): not for a small heap, where waking them costs more than
 * they save; always in the test modes. */
#define PARALLEL_MARK_BYTES ((uint64_t)4 << 20)
#define PARALLEL_HEAP_BYTES ((uint64_t)64 << 20)

static bool parallel_mark(void)
{
    return debug.gcstress > 0 || debug.gccheckmark > 0 ||
           work.lastmarked >= PARALLEL_MARK_BYTES ||
           __atomic_load_n(&mheap_.used, __ATOMIC_RELAXED) >= PARALLEL_HEAP_BYTES;
}

/* Stops the world for a pause that marks, wakes the mark's helpers when
 * they are wanted (the stopped Ps' threads spin a while before they sleep,
 * so they answer at once), and returns when the stop began: the pause's
 * start.  world_start_mark restarts it. */
static int64_t world_stop_mark(void)
{
    int64_t t = nanotime();
    gort_world_stop_heap();
    if (parallel_mark())
        gort_markhelpers_start();
    return t;
}

static void world_start_mark(void)
{
    gort_markhelpers_stop();
    gort_world_start_heap();
}

/* The stop-the-world collector: the whole cycle in one pause, on the
 * calling goroutine (see concurrent_ok). */
static void gcstart_stw(bool forced)
{
    cyc.forced = forced;
    atomic_store(&cyc.assist_ns, 0);
    atomic_store(&cyc.bg_ns, 0);
    cyc.tstart = world_stop_mark();
    cyc.procs = atomic_load(&gomaxprocs);
    sweep_termination();
    cyc.heap0 = atomic_load(&heap_live);
    cyc.goal = work.goal;
    lock(&work.lock);
    cyc.tmark = nanotime();
    gort_gcmark(debug.gccheckmark > 0);
    int64_t tmarkend = nanotime();
    work.lasttraced = atomic_load(&gort_heap_marked);
    take_blackbytes();
    finish_cycle(tmarkend, tmarkend, cyc.heap0, (uint64_t)(tmarkend - cyc.tstart),
                 (tmarkend - cyc.tstart) * cyc.procs);
    if (debug.gcstoptheworld >= 2) /* Go's mode 2: the sweep too */
        while (sweepone() != (uintptr_t)-1)
            ;
    unlock(&work.lock);
    world_start_mark();
    after_cycle();
}

static void update_assist_ratio(void);

/* A cycle whose last mark found less heap than this is cheaper, and its
 * pause no longer, with the world stopped: the concurrent cycle's fixed
 * costs (arming, page-table walks, waking the leader, two pauses) exceed
 * marking this much.  Programs with tiny live heaps that allocate fast
 * (thousands of cycles a second) gain most. */
#define SMALL_MARK_BYTES ((uint64_t)256 << 10)

static bool concurrent_ok(void)
{
    if (!helpers_started || debug.gcstoptheworld != 0 || dirty_mode == DIRTY_NONE)
        return false;
    /* The test modes exercise the concurrent machinery whatever the size. */
    if (debug.gcstress > 0 || debug.gccheckmark > 0)
        return true;
    return work.lastmarked >= SMALL_MARK_BYTES || atomic_load(&work.numgc) == 0;
}

static void gcstart(bool forced)
{
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong(&work.running, &zero, 1))
        return;
    if (!concurrent_ok()) {
        gcstart_stw(forced);
        return;
    }
    /* Finish the sweep before stopping the world, as Go's gcStart does:
     * what is left otherwise lengthens the pause. */
    while (sweepone() != (uintptr_t)-1)
        ;
    /* STW1, sweep termination. */
    int64_t tstart = nanotime();
    gort_world_stop_heap();
    sweep_termination();
    cyc.forced = forced;
    cyc.tstart = tstart;
    cyc.procs = atomic_load(&gomaxprocs);
    cyc.heap0 = atomic_load(&heap_live);
    lock(&work.lock);
    cyc.goal = work.goal;
    cyc.hardgoal = cyc.goal == UINT64_MAX ? UINT64_MAX : cyc.goal + cyc.goal / 10;
    /* The first cycle has no history: all of the heap may need scanning. */
    cyc.scan_expected = work.lastscanwork != 0 ? work.lastscanwork : cyc.heap0;
    unlock(&work.lock);
    if (++cyc.gen == 0)
        cyc.gen = 1;
    atomic_store(&cyc.assist_ns, 0);
    atomic_store(&cyc.bg_ns, 0);
    atomic_store(&assistq.credit, 0);
    update_assist_ratio();
    atomic_store(&gcphase, GC_MARK);
    gcmarking = true;
    cyc.tmark = nanotime();
    gort_world_start_heap();
    gort_gcpark_wake(&leaderpark);
}

/* Go's assist ratio: the scan work left over the allocation left before
 * the (hard) goal.  Revised by every assist, as heap_live moves (Go revises
 * it on every span allocated), and by the leader as scan work is done. */
static void update_assist_ratio(void)
{
    uint64_t done = atomic_load(&gort_scanwork);
    uint64_t live = atomic_load(&heap_live);
    /* Past the goal the estimate has failed: plan for the most the mark
     * can still scan, the whole heap (Go's maxScanWork), by the hard goal. */
    uint64_t expected = live < cyc.goal ? cyc.scan_expected : live;
    uint64_t left = expected > done ? expected - done : expected / 10;
    uint64_t goal = live < cyc.goal ? cyc.goal : cyc.hardgoal;
    uint64_t dist = goal > live ? goal - live : 0;
    if (dist < (64u << 10))
        dist = 64u << 10;
    /* Plus one: without a write barrier, what is allocated while marking
     * lands on written pages and is scanned again. */
    uint64_t r = (left << 16) / dist + (1u << 16);
    if (r > ((uint64_t)64 << 16))
        r = (uint64_t)64 << 16;
    atomic_store(&cyc.assist_ratio, (int64_t)r);
}

/* Background scan work done: pays the parked assists' debts in order,
 * readies those paid, and banks the rest (Go's gcFlushBgCredit).  Called
 * once per MiB scanned: the lock is cheap at that rate. */
static void flush_credit(int64_t work_done)
{
    if (work_done <= 0)
        return;
    struct assistwait *paid = NULL, **ptail = &paid;
    lock(&assistq.lock);
    while (assistq.head != NULL && work_done > 0) {
        struct assistwait *a = assistq.head;
        if (a->debt > work_done) {
            a->debt -= work_done;
            work_done = 0;
            break;
        }
        work_done -= a->debt;
        assistq.head = a->next;
        if (assistq.head == NULL)
            assistq.tail = NULL;
        a->next = NULL;
        *ptail = a;
        ptail = &a->next;
    }
    unlock(&assistq.lock);
    if (work_done > 0)
        atomic_fetch_add(&assistq.credit, work_done);
    while (paid != NULL) {
        struct assistwait *next = paid->next;
        goready(paid->gp);
        paid = next;
    }
}

/* Background marking that began at t0, when w had scanned s0 bytes: its
 * time is the workers' CPU time, its scan work pays the parked assists. */
static void bg_work_done(struct gcwork *w, int64_t t0, uint64_t s0)
{
    atomic_fetch_add(&cyc.bg_ns, nanotime() - t0);
    flush_credit((int64_t)(w->scanwork - s0));
}

/* Takes up to want bytes of banked credit; returns how much it took. */
static int64_t steal_credit(int64_t want)
{
    int64_t c = atomic_load_explicit(&assistq.credit, memory_order_relaxed);
    while (c > 0) {
        int64_t take = c < want ? c : want;
        if (atomic_compare_exchange_weak(&assistq.credit, &c, c - take))
            return take;
    }
    return 0;
}

static bool assistq_unlock(struct g *gp, void *arg)
{
    (void)gp;
    (void)arg;
    unlock(&assistq.lock);
    return true;
}

/* Parks the calling assist until debt bytes of background work pay for
 * it or the cycle ends. */
static void park_assist(int64_t debt)
{
    struct assistwait a = {getg(), debt, NULL};
    lock(&assistq.lock);
    if (atomic_load(&gcphase) != GC_MARK) {
        unlock(&assistq.lock);
        return;
    }
    if (assistq.tail != NULL)
        assistq.tail->next = &a;
    else
        assistq.head = &a;
    assistq.tail = &a;
    gopark(assistq_unlock, NULL, WAIT_REASON_GC_ASSIST_WAIT);
}

/* An allocating goroutine pays for bytes it took during marking with scan
 * work (Go's gcAssistAlloc): banked background credit first, then its own
 * scanning.  One that finds no work left while the heap is past the goal
 * parks on the assist queue until the background workers have paid the
 * rest (rescanning written pages is the leader's alone). */
void gort_gcassist(uintptr_t bytes)
{
    if (atomic_load_explicit(&gcphase, memory_order_relaxed) != GC_MARK)
        return;
    struct g *gp = getg();
    if (gp->m->locks > 0 || gp->system)
        return;
    update_assist_ratio();
    int64_t debt = (int64_t)(((__uint128_t)bytes * (uint64_t)atomic_load(&cyc.assist_ratio)) >> 16);
    if (debt <= 0)
        return;
    for (;;) {
        debt -= steal_credit(debt);
        if (debt <= 0)
            return;
        int64_t t0 = nanotime();
        struct gcwork w = {0};
        bool stopped = gcdrain(&w, debt, true);
        debt -= (int64_t)w.scanwork;
        gcw_dispose(&w);
        atomic_fetch_add(&cyc.assist_ns, nanotime() - t0);
        if (debt <= 0)
            return;
        if (!stopped) {
            /* Out of work with debt left. */
            if (atomic_load(&heap_live) >= cyc.goal)
                park_assist(debt);
            return;
        }
        /* Asked to yield (preemption, a stopping world) with debt left:
         * yield, then pay the rest, as Go's assist does. */
        gort_gosched();
        if (atomic_load_explicit(&gcphase, memory_order_relaxed) != GC_MARK)
            return;
    }
}

/* How long the leader should rest so that marking uses its 25% of the
 * Ps while none is idle (Go's dedicated + fractional workers). */
static int64_t worker_rest(void)
{
    /* No rest with a P idle, or once the heap is half way from the
     * trigger to the goal: the mark is late. */
    if (atomic_load(&sched.npidle) > 0 ||
        atomic_load(&heap_live) >= cyc.heap0 + (cyc.goal - cyc.heap0) / 2)
        return 0;
    int64_t now = nanotime(), used = atomic_load(&cyc.bg_ns);
    int64_t allowed = (now - cyc.tmark) * cyc.procs / 4;
    if (used <= allowed)
        return 0;
    int64_t rest = (used - allowed) * 4 / cyc.procs;
    return rest < 100000 ? 100000 : rest > 10000000 ? 10000000 : rest;
}

/* The other background workers, when GOMAXPROCS calls for more than one:
 * they drain while there is work, and park when there is none; the leader
 * wakes them whenever it has work to share. */
#define MAX_MARK_WORKERS 64
static struct gcpark workerpark[MAX_MARK_WORKERS];
static int32_t nworkers = 1; /* started, the leader included; the leader's */

static void bgmark_worker(void *arg)
{
    struct gcpark *pk = arg;
    for (;;) {
        gort_gcpark_wait(pk, WAIT_REASON_GC_WORKER_IDLE);
        struct gcwork w = {0};
        while (atomic_load(&gcphase) == GC_MARK) {
            int64_t t0 = nanotime();
            uint64_t s0 = w.scanwork;
            bool more = gcdrain(&w, 1 << 20, true);
            bg_work_done(&w, t0, s0);
            if (!more)
                break;
            gort_markyield(&w);
            int64_t rest = worker_rest();
            if (rest > 0) {
                gcw_dispose(&w);
                gort_sleep(rest);
            }
        }
        gcw_dispose(&w);
    }
}

/* 25% of GOMAXPROCS, rounded, at least one (the leader). */
static void wake_workers(void)
{
    int32_t want = (cyc.procs + 2) / 4;
    if (want > MAX_MARK_WORKERS)
        want = MAX_MARK_WORKERS;
    for (; nworkers < want; nworkers++) {
        workerpark[nworkers] = (struct gcpark){MUTEX_INIT(LOCKRANK_GCPARK), NULL, false};
        gort_go_system(bgmark_worker, &workerpark[nworkers]);
    }
    for (int32_t i = 1; i < want; i++)
        gort_gcpark_wake(&workerpark[i]);
}

/* Drains until no grey object is left anywhere — the pool is empty and
 * no assist or worker holds work (Go's gcMarkDone condition) — yielding as
 * the scheduler asks and resting to keep to the background share. */
static void leader_drain(struct gcwork *w)
{
    gcw_dispose(w); /* share what the leader holds */
    wake_workers();
    for (;;) {
        int64_t t0 = nanotime();
        uint64_t s0 = w->scanwork;
        bool more = gcdrain(w, 1 << 20, true);
        bg_work_done(w, t0, s0);
        gcw_dispose(w); /* publishes its scan work for the assist ratio */
        update_assist_ratio();
        if (!more) {
            if (gort_markwork_done())
                return;
            gort_gosched(); /* an assist is still scanning what it took */
            continue;
        }
        gort_markyield(w);
        int64_t rest = worker_rest();
        if (rest > 0) {
            gcw_dispose(w);
            gort_sleep(rest);
        }
    }
}

#define DIRTY_ROUNDS 16
#define DIRTY_SMALL 256               /* OS pages (1 MiB) left for the final pause */
#define DIRTY_FRESH_SMALL ((uint64_t)1 << 20) /* bytes a last round's drain may mark */

/* The concurrent mark and mark termination, on the leader goroutine. */
static void gcmark_concurrent(void)
{
    struct gcwork w = {0};
    uint32_t gen = cyc.gen;
    int64_t t0 = nanotime();
    /* Arm before any object is scanned; only then may new objects be
     * black (mgcmark.c's essay). */
    dirty_arm(mheap_.base, mheap_.base + __atomic_load_n(&mheap_.used, __ATOMIC_ACQUIRE));
    stack_dirty_arm();
    atomic_store(&gort_gcblack, true);
    lock(&work.lock);
    gort_markglobals_concurrent(&w);
    unlock(&work.lock);
    atomic_fetch_add(&cyc.bg_ns, nanotime() - t0);
    gort_markstacks_concurrent(&w, gen);
    leader_drain(&w);
    size_t prev = SIZE_MAX;
    for (int round = 0;; round++) {
        int64_t t1 = nanotime();
        uint64_t s1 = w.scanwork;
        size_t n = gort_markdirty(&w, true);
        bg_work_done(&w, t1, s1);
        uint64_t marked = atomic_load(&gort_heap_marked);
        leader_drain(&w);
        /* The final pause rescans what was written during the last drain
         * and traces what that reaches.  A drain that marked much (a black
         * object written into a list the mark had not reached cuts off
         * the rest, found only now) ran long, so the program wrote much
         * meanwhile, and more of the same may wait: another round.  Done
         * when a round rescanned and marked little, when the rescans stop
         * shrinking (the program writes as fast as they rescan) and the
         * drain marked little, or after DIRTY_ROUNDS.  But not while the
         * mark has reached less than 7/8 of what the last one did: in a
         * program whose live heap holds steady, the rest is still hidden
         * behind black objects (linked lists cut ahead of the marker, a
         * round at a time), and the final pause would trace it all
         * (gcpause: 1 cycle in 20 traced 200-400 MB in a 50-180 ms pause).
         * A heap that shrank costs rounds up to DIRTY_ROUNDS, concurrent. */
        uint64_t traced = atomic_load(&gort_heap_marked);
        bool quiet = traced - marked <= DIRTY_FRESH_SMALL;
        bool behind = traced < work.lasttraced - work.lasttraced / 8;
        if (round + 1 >= DIRTY_ROUNDS ||
            (quiet && !behind && (n <= DIRTY_SMALL || n > prev / 2)))
            break;
        prev = n;
    }
    gcw_dispose(&w);

    /* STW2, mark termination. */
    int64_t tmarkend = world_stop_mark();
    atomic_store(&gort_gcblack, false);
    gcmarking = false;
    lock(&work.lock);
    gort_markterm(getg(), gen, debug.gccheckmark > 0);
    uint64_t heap1 = atomic_load(&heap_live);
    work.lasttraced = atomic_load(&gort_heap_marked);
    flush_mcaches();
    atomic_fetch_add(&gort_heap_marked, take_blackbytes());
    atomic_store(&gcphase, GC_OFF);
    int64_t tend = nanotime();
    uint64_t pause = (uint64_t)(cyc.tmark - cyc.tstart) + (uint64_t)(tend - tmarkend);
    finish_cycle(tmarkend, tend, heap1, pause,
                 (int64_t)pause * cyc.procs + atomic_load(&cyc.assist_ns) +
                     atomic_load(&cyc.bg_ns));
    unlock(&work.lock);
    world_start_mark();
    after_cycle();
}

static void bgmark_leader(void *arg)
{
    (void)arg;
    for (;;) {
        gort_gcpark_wait(&leaderpark, WAIT_REASON_GC_WORKER_IDLE);
        gcmark_concurrent();
        /* The protection the cycle leaves would cost the program a fault
         * (1-2 us) on its first write to each page until the next cycle,
         * and with GOGC=100 it writes as much as is live: every page
         * freed by the sweep and reused faults (a tenth of binarytrees'
         * time).  Taking it off costs the leader ~25 ms per GiB, here,
         * while the program runs. */
        dirty_disarm(mheap_.base, mheap_.base + __atomic_load_n(&mheap_.used, __ATOMIC_ACQUIRE));
    }
}

void gc_trigger_check(void)
{
    if (atomic_load(&heap_live) < atomic_load(&gc_trigger))
        return;
    struct g *gp = getg();
    struct m *mp = gp->m;
    if (mp->locks > 0 || gp == mp->g0 || mp->p == NULL || atomic_load(&work.running))
        return;
    gcstart(false);
}

/* GODEBUG=gcstress=N: a cycle every N allocations (test mode). */
void gort_gcstress_tick(void)
{
    static _Atomic uint64_t count;
    if (atomic_fetch_add_explicit(&count, 1, memory_order_relaxed) % (uint64_t)debug.gcstress != 0)
        return;
    struct g *gp = getg();
    struct m *mp = gp->m;
    if (mp->locks > 0 || gp == mp->g0 || mp->p == NULL || gp->system ||
        atomic_load(&work.running))
        return;
    gcstart(false);
}

void gort_gc(void)
{
    /* Go's runtime.GC: a complete cycle that started after this call. */
    uint32_t n = atomic_load(&work.numgc);
    uint32_t want = n + 1 + (atomic_load(&work.running) ? 1 : 0);
    while (atomic_load(&work.numgc) < want) {
        if (!atomic_load(&work.running))
            gcstart(true);
        else
            wait_cycle();
    }
    while (sweepone() != (uintptr_t)-1)
        ;
}

/* ---- helper goroutines ---------------------------------------------------- */

static void bgscavenge_step(void)
{
    if (atomic_load(&gcphase) != GC_OFF)
        return; /* not while marking: it would only compete for the CPU */
    lock(&mheap_.lock); /* used and nscav change as the heap grows and scavenges */
    uint64_t retained = mheap_.used - mheap_.pages.nscav * PAGE_SIZE;
    unlock(&mheap_.lock);
    lock(&work.lock); /* set_gc_percent and set_memory_limit write these */
    uint64_t goal = work.goal;
    int64_t memlimit = work.memlimit;
    unlock(&work.lock);
    uint64_t target = goal == UINT64_MAX ? UINT64_MAX : goal + goal / 10;
    if (memlimit != INT64_MAX) {
        uint64_t lim = (uint64_t)memlimit / 100 * 95;
        if (lim < target)
            target = lim;
    }
    while (retained > target) {
        uintptr_t r = mheap_scavenge(retained - target < (512u << 10) ? retained - target
                                                                       : (512u << 10));
        if (r == 0)
            break;
        retained -= r;
        gort_gosched();
    }
}

static void bgsweep(void *arg)
{
    (void)arg;
    for (;;) {
        int n = 0;
        while (sweepone() != (uintptr_t)-1)
            if (++n % 16 == 0)
                gort_gosched();
        bgscavenge_step();
        gort_gcpark_wait(&sweeppark, WAIT_REASON_GC_SWEEP_WAIT);
    }
}

static void forcegchelper(void *arg)
{
    (void)arg;
    for (;;) {
        gort_gcpark_wait(&forcegcpark, WAIT_REASON_FORCE_GC_IDLE);
        if (debug.gctrace > 0)
            print("GC forced\n");
        gcstart(false);
    }
}

/* sysmon: the forcegc goroutine if a cycle is due, taken off its parking
 * spot for sysmon to make runnable; else NULL. */
struct g *gort_forcegc_poll(int64_t now)
{
    /* gcpercent is written under work.lock; sysmon holds no lock here. */
    if (!helpers_started || __atomic_load_n(&work.gcpercent, __ATOMIC_RELAXED) < 0)
        return NULL;
    int64_t last = atomic_load(&work.last_gc_mono);
    if (last == 0)
        last = runtime_inittime;
    if (now - last < FORCEGC_PERIOD)
        return NULL;
    lock(&forcegcpark.lock);
    struct g *gp = forcegcpark.waiter;
    forcegcpark.waiter = NULL;
    unlock(&forcegcpark.lock);
    if (gp != NULL)
        atomic_store(&work.last_gc_mono, now); /* one force per period */
    return gp;
}

/* Go's gcenable: runs on the main goroutine before main_fn. */
void gort_gcenable(void)
{
    helpers_started = true;
    gort_go_system(bgsweep, NULL);
    gort_go_system(bgmark_leader, NULL);
    gort_go_system(forcegchelper, NULL);
    gort_finalizer_start();
}

/* ---- registered roots and uncollectable objects ------------------------- */

struct rootrange {
    uintptr_t lo, hi;
};
static struct rootrange *roots;
static size_t nroots, caproots;
static struct addrmap uncollectable;

void gort_add_roots(void *start, size_t size)
{
    lock(&work.lock);
    if (nroots == caproots) {
        size_t ncap = caproots == 0 ? 16 : caproots * 2;
        struct rootrange *nr = realloc(roots, ncap * sizeof *nr);
        if (nr == NULL)
            throw("runtime: out of memory");
        roots = nr;
        caproots = ncap;
    }
    roots[nroots++] = (struct rootrange){(uintptr_t)start, (uintptr_t)start + size};
    unlock(&work.lock);
}

void gort_remove_roots(void *start, size_t size)
{
    lock(&work.lock);
    for (size_t i = 0; i < nroots; i++) {
        if (roots[i].lo == (uintptr_t)start && roots[i].hi == (uintptr_t)start + size) {
            roots[i] = roots[--nroots];
            break;
        }
    }
    unlock(&work.lock);
}

void *gort_malloc_uncollectable(size_t size)
{
    void *p = gort_malloc(size == 0 ? 1 : size);
    lock(&work.lock);
    gort_addrmap_put(&uncollectable, (uintptr_t)p, NULL);
    unlock(&work.lock);
    return p;
}

void gort_free_uncollectable(void *p)
{
    if (p == NULL)
        return;
    lock(&work.lock);
    bool ok = gort_addrmap_del(&uncollectable, (uintptr_t)p);
    unlock(&work.lock);
    if (!ok)
        fatal("gort_free_uncollectable: pointer not from gort_malloc_uncollectable");
}

/* work.lock held, world stopped. */
void gort_markroots_extra(void)
{
    for (size_t i = 0; i < nroots; i++)
        gort_markblock(roots[i].lo, roots[i].hi);
    for (size_t i = 0; i < uncollectable.cap; i++)
        if (uncollectable.keys[i] > 1)
            gort_markobject(uncollectable.keys[i]);
}

/* ---- knobs ---------------------------------------------------------------- */

int gort_debug_set_gc_percent(int percent)
{
    lock(&work.lock);
    int old = work.gcpercent;
    __atomic_store_n(&work.gcpercent, percent < 0 ? -1 : percent, __ATOMIC_RELAXED);
    commit_goal();
    unlock(&work.lock);
    return old;
}

int64_t gort_debug_set_memory_limit(int64_t limit)
{
    lock(&work.lock);
    int64_t old = work.memlimit;
    if (limit >= 0) {
        work.memlimit = limit;
        commit_goal();
    }
    unlock(&work.lock);
    return old;
}

void gort_debug_free_os_memory(void)
{
    gort_gc();
    mheap_scavenge(UINTPTR_MAX);
}

/* ---- statistics read by mstats.c (world stopped) ----------------------- */

void gort_gcstats_fill(gort_mem_stats *m)
{
    m->next_gc = work.goal == UINT64_MAX ? 0 : work.goal;
    m->last_gc = work.last_gc_unix;
    m->pause_total_ns = work.pause_total;
    memcpy(m->pause_ns, work.pause_ns, sizeof m->pause_ns);
    memcpy(m->pause_end, work.pause_end, sizeof m->pause_end);
    m->num_gc = atomic_load(&work.numgc);
    m->num_forced_gc = atomic_load(&work.numforced);
    int64_t elapsed = (nanotime() - runtime_inittime) * atomic_load(&gomaxprocs);
    m->gc_cpu_fraction = elapsed > 0 ? (double)work.gc_cpu_ns / (double)elapsed : 0;
    m->enable_gc = true;
    m->debug_gc = false;
}

void gort_debug_read_gc_stats(gort_gc_stats *s)
{
    gort_world_stop_heap();
    uint32_t n = atomic_load(&work.numgc);
    s->num_gc = n;
    s->last_gc = (int64_t)work.last_gc_unix;
    s->pause_total = (int64_t)work.pause_total;
    s->npause = n < 256 ? (int)n : 256;
    for (int i = 0; i < s->npause; i++) {
        uint32_t k = (n - 1 - (uint32_t)i) % 256;
        s->pause[i] = (int64_t)work.pause_ns[k];
        s->pause_end[i] = (int64_t)work.pause_end[k];
    }
    gort_world_start_heap();
}
