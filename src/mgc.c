/*
 * mgc.c — the collector's driver and pacer (Go's mgc.go and mgcpacer.go),
 * step 1 of DESIGN.md's plan: a stop-the-world mark with lazy, concurrent
 * sweeping.
 *
 * A cycle (gcstart), all with the world stopped:
 *   sweep termination  finish the previous cycle's sweep; flush every
 *                      mcache (cached spans go back to their mcentral,
 *                      tiny blocks are dropped), so no span is cached and
 *                      heap_live is exactly the allocated heap;
 *   mark               mgcmark.c, from the conservative roots;
 *   mark termination   queue finalizers, add 2 to sweepgen (every span
 *                      becomes unswept), reset heap_live to the marked
 *                      bytes, compute the next goal, print gctrace.
 * Then the world restarts, and the background sweeper and the finalizer
 * goroutine are woken.  Threads without a P are held off by gcache_lock,
 * which the cycle holds while the world is stopped.
 *
 * Pacing is Go's goal: marked + (marked + stacks + globals) * GOGC/100, at
 * least 4 MiB * GOGC/100, and under GOMEMLIMIT at most the limit less the
 * memory that is not heap.  A cycle starts when heap_live reaches the goal
 * itself (the trigger): with the world stopped for the whole mark there is
 * no concurrent phase that needs runway.  GOGC=off leaves only the memory
 * limit.  sysmon forces a cycle when none ran for 2 minutes, through a
 * parked system goroutine (forcegc), as Go does.
 *
 * The background sweeper (bgsweep) also scavenges: once the sweep is done
 * it returns free pages to the OS beyond what the next goal needs plus 10%
 * (Go's retainExtraPercent), or beyond 95% of the memory limit.
 *
 * GODEBUG: gctrace=1 prints Go's line; gcstoptheworld is what this
 * collector always does; invalidptr is checked on typed pointer slots
 * (mgcmark.c); gccheckmark has nothing to check until marking is
 * concurrent.
 */
#include "mgc.h"

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
    int64_t gc_cpu_ns;      /* GC CPU time: pauses x Ps */
};
static struct gcstate work = {
    .lock = MUTEX_INIT(LOCKRANK_GCROOTS),
    .gcpercent = 100,
    .memlimit = INT64_MAX,
    .goal = HEAP_MINIMUM,
};
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
    atomic_store(&gc_trigger, goal);
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

static void gctrace(uint32_t n, int64_t tstart, int64_t tmark, int64_t tmarkend, int64_t tend,
                    uint64_t heap0, uint64_t goal, int32_t procs, bool forced)
{
    char a[32], b[32], c[32], ca[32], cb[32], cc[32];
    fmt_ns_as_ms(a, sizeof a, (uint64_t)(tmark - tstart));
    fmt_ns_as_ms(b, sizeof b, (uint64_t)(tmarkend - tmark));
    fmt_ns_as_ms(c, sizeof c, (uint64_t)(tend - tmarkend));
    fmt_ns_as_ms(ca, sizeof ca, (uint64_t)(tmark - tstart) * (uint64_t)procs);
    fmt_ns_as_ms(cb, sizeof cb, (uint64_t)(tmarkend - tmark));
    fmt_ns_as_ms(cc, sizeof cc, (uint64_t)(tend - tmarkend) * (uint64_t)procs);
    int64_t since = tstart - runtime_inittime;
    int64_t elapsed = (tend - runtime_inittime) * procs;
    int pct = elapsed > 0 ? (int)(work.gc_cpu_ns * 100 / elapsed) : 0;
    char line[512];
    snprintf(line, sizeof line,
             "gc %u @%lld.%03llds %d%%: %s+%s+%s ms clock, %s+0/%s/0+%s ms cpu, "
             "%llu->%llu->%llu MB, %llu MB goal, %llu MB stacks, %llu MB globals, %d P%s\n",
             n, (long long)(since / 1000000000), (long long)(since / 1000000 % 1000), pct, a, b,
             c, ca, cb, cc, (unsigned long long)(heap0 >> 20), (unsigned long long)(heap0 >> 20),
             (unsigned long long)(gort_heap_marked >> 20), (unsigned long long)(goal >> 20),
             (unsigned long long)(gort_scan_stacks_bytes >> 20),
             (unsigned long long)(gort_scan_globals_bytes >> 20), procs,
             forced ? " (forced)" : "");
    print("%s", line);
}

/* ---- the cycle ------------------------------------------------------------ */

static void flush_mcaches(void)
{
    int32_t n = atomic_load(&nallmcache);
    for (int32_t i = 0; i < n; i++)
        mcache_flush(allmcache[i]);
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

static void gcstart(bool forced)
{
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong(&work.running, &zero, 1))
        return;
    int64_t tstart = nanotime();
    gort_world_stop_heap();
    int32_t procs = atomic_load(&gomaxprocs);
    while (sweepone() != (uintptr_t)-1)
        ;
    flush_mcaches();
    uint64_t heap0 = atomic_load(&heap_live);
    uint64_t goal = work.goal;
    int64_t tmark = nanotime();
    lock(&work.lock);
    gort_gcmark();
    int64_t tmarkend = nanotime();
    atomic_fetch_add(&mheap_.sweepgen, 2);
    gort_sweep_reset();
    atomic_store(&heap_live, gort_heap_marked);
    work.lastmarked = gort_heap_marked;
    commit_goal();
    unlock(&work.lock);
    int64_t tend = nanotime();
    uint32_t n = atomic_load(&work.numgc);
    uint64_t pause = (uint64_t)(tend - tstart);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t unixnow = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    work.pause_ns[n % 256] = pause;
    work.pause_end[n % 256] = unixnow;
    work.pause_total += pause;
    work.last_gc_unix = unixnow;
    work.gc_cpu_ns += (int64_t)pause * procs;
    atomic_store(&work.last_gc_mono, tend);
    if (forced)
        atomic_fetch_add(&work.numforced, 1);
    atomic_store(&work.numgc, n + 1);
    if (debug.gctrace > 0)
        gctrace(n + 1, tstart, tmark, tmarkend, tend, heap0, goal, procs, forced);
    gort_world_start_heap();
    atomic_store(&work.running, 0);
    if (helpers_started) {
        gort_gcpark_wake(&sweeppark);
        gort_finalizers_wake();
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

void gort_gc(void)
{
    uint32_t n = atomic_load(&work.numgc);
    /* Go's runtime.GC: a complete cycle that started after this call. */
    while (atomic_load(&work.numgc) < n + 1 + (atomic_load(&work.running) ? 1 : 0)) {
        if (atomic_load(&work.running))
            gort_gosched();
        else
            gcstart(true);
    }
    while (sweepone() != (uintptr_t)-1)
        ;
}

/* ---- helper goroutines ---------------------------------------------------- */

static void bgscavenge_step(void)
{
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
