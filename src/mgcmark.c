/*
 * mgcmark.c — marking: from the roots, set the mark bit of every reachable
 * object (Go's mgcmark.go, with conservative roots).
 *
 * Runs with the world stopped, in parallel on as many threads as there are
 * Ps (Go's gcBgMarkWorker on every P during a STW cycle): the goroutine
 * that started the cycle (worker 0) and GOMAXPROCS-1 mark helper threads,
 * plain pthreads created on first use that sleep on a futex between cycles.
 * The world is stopped, so the Ps' CPUs are free for them; they need no P,
 * no g and no runtime lock.
 *
 * Work.  Each worker has its own mark stack (a MAP_NORESERVE region, so no
 * recursion and no allocation); grey = on some stack, black = marked and
 * popped.  Balancing is Go's: a worker whose stack holds more than a few
 * objects while another worker is idle and the global list is empty moves
 * half of its stack (at most a workbuf's worth) into a workbuf on the global
 * list (Go's gcWork.balance / putfull); an idle worker takes a workbuf from
 * there.  Goroutine stacks are root jobs: workers claim gs from a shared
 * cursor over allgs.  Termination: every worker idle, the list empty and
 * the cursor at the end (only a busy worker can add work, so once all are
 * idle none can appear).
 *
 * Mark bits are set with an atomic OR when more than one worker runs (the
 * winner of the bit greys the object), with a plain store otherwise, and
 * the marked-bytes count is per worker, summed at the end.  The finalizer
 * pass and the registered roots run on worker 0 alone after the parallel
 * drain, with the same functions.
 *
 * Roots, all scanned conservatively (every aligned word that points into an
 * allocated object, at its start or inside it, marks that object):
 *   - every goroutine's stack: from its saved SP (where the switch frame
 *     holds its callee-saved registers, or the preemption trampoline its
 *     whole register file) to stack_hi; the running goroutine's from the
 *     current SP after spilling its own registers; a goroutine in a
 *     syscall (running C code with no P) over its whole stack, since its
 *     SP moves, and the callee-saved registers gort_syscall_enter stored;
 *   - the writable PT_LOAD segments (data, bss) of the executable and of
 *     every loaded shared object, found with dl_iterate_phdr, less the
 *     heap's own metadata (mheap_);
 *   - each goroutine's deferred-call records (malloc'ed by panic.c; their
 *     arguments may be the only reference to an object);
 *   - ranges given to gort_add_roots, uncollectable objects, objects
 *     waiting on the finalizer queue, and the contents (not the object
 *     itself) of every object that has a finalizer (mfinal.c).
 * Heap objects are scanned by kind: noscan spans never; small objects in
 * scan spans by their heapbits; large objects by their span's kind and
 * type.  Typed pointer slots that point into the heap's range but not into
 * an in-use span are reported as Go does when GODEBUG=invalidptr=1 (the
 * default); conservative words cannot be held to that.
 *
 * The reads of stacks and globals touch memory the sanitizers consider
 * poisoned (ASan redzones) or racy (TSan), so the scanning loops are not
 * instrumented.
 */
#include "malloc.h"
#include "mgc.h"

#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

#define NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))
#define MARKSTACK_BYTES ((size_t)4 << 30)
#define WORKBUF_N 256     /* objects a workbuf carries between workers */
#define MAX_MARK_WORKERS 256
#define BALANCE_EVERY 64  /* objects scanned between balance checks */

/* One worker's state (Go's gcWork).  Owner only, except `marked`, summed
 * by worker 0 after every worker is idle. */
struct gcw {
    uintptr_t *stack;
    size_t n;
    size_t hiwater;
    uint64_t marked;
};

struct workbuf {
    struct workbuf *next;
    size_t n;
    uintptr_t obj[WORKBUF_N];
};

static struct {
    /* The global list of full workbufs and the free ones, under a spin
     * lock (the holders are threads without an m; critical sections are a
     * few loads and stores). */
    atomic_flag lock;
    struct workbuf *full, *free;
    _Atomic size_t nfull;
    _Atomic int32_t nidle;     /* workers with no work */
    int32_t nworkers;          /* in this cycle, worker 0 included */
    struct g *_Atomic rootg;   /* next g whose stack is unclaimed */
    struct g *self;            /* the g running the cycle: worker 0 scans it */
    _Atomic uint32_t gen;      /* bumped to start the helpers (futex word) */
    _Atomic int32_t ndone;     /* helpers finished with this cycle */
    int32_t nhelpers;          /* helper threads created */
    struct gcw w[MAX_MARK_WORKERS];
} mw;

static bool parallel; /* more than one worker in this cycle: atomic mark bits */
uint64_t gort_heap_marked;
uint64_t gort_scan_stacks_bytes, gort_scan_globals_bytes;
static _Atomic uint64_t scan_stacks_bytes;

static inline void push(struct gcw *w, uintptr_t b)
{
    if (unlikely(w->n * sizeof(uintptr_t) >= MARKSTACK_BYTES))
        throw("runtime: mark stack overflow");
    w->stack[w->n++] = b;
}

/* Marks the object holding p, if p points into one; queues it for scanning
 * if it may hold pointers. */
static inline void greyobject(struct gcw *gw, uintptr_t p)
{
    if (p - mheap_.base >= mheap_.used)
        return;
    struct mspan *s = spanof_unchecked(p);
    if (s == NULL || s->state != SPAN_INUSE || p >= s->limit)
        return;
    uintptr_t idx = s->divmul != 0 ? span_objindex(s, p) : 0;
    if (!span_isallocated(s, idx))
        return;
    uint64_t bit = 1ull << (idx % 64), *w = &s->gcmarkbits[idx / 64];
    if (__atomic_load_n(w, __ATOMIC_RELAXED) & bit)
        return;
    if (parallel) {
        if (__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit)
            return;
    } else {
        __atomic_store_n(w, *w | bit, __ATOMIC_RELAXED);
    }
    gw->marked += s->divmul != 0 ? s->elemsize : s->npages * PAGE_SIZE;
    if (!spanclass_noscan(s->spanclass))
        push(gw, s->base + idx * s->elemsize);
}

static void badpointer(uintptr_t slot, uintptr_t p)
{
    print("runtime: pointer %p to unallocated span\n", (void *)p);
    print("runtime: found in object at *(%p)\n", (void *)slot);
    throw("found bad pointer in Go heap");
}

/* A precise pointer slot (typed object). */
static inline void greyslot(struct gcw *gw, uintptr_t slot)
{
    uintptr_t p = *(uintptr_t *)slot;
    if (p - mheap_.base >= mheap_.used)
        return;
    struct mspan *s = spanof_unchecked(p);
    if ((s == NULL || s->state != SPAN_INUSE) && debug.invalidptr > 0) {
        /* One past the end of an object at the end of a span is a legal C
         * pointer; only a pointer into the middle of free pages is bad. */
        if (p % PAGE_SIZE != 0)
            badpointer(slot, p);
        return;
    }
    greyobject(gw, p);
}

NO_SANITIZE static void scanblock(struct gcw *gw, uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8)
        greyobject(gw, *(volatile uintptr_t *)a);
}

NO_SANITIZE static void scantyped(struct gcw *gw, uintptr_t b, uintptr_t size,
                                  const gort_type *t)
{
    uintptr_t tw = t->size / 8;
    for (uintptr_t e = b; e + t->size <= b + size; e += t->size) {
        uint64_t m = t->ptrmask;
        while (m != 0) {
            unsigned i = (unsigned)__builtin_ctzll(m);
            m &= m - 1;
            if (i < tw)
                greyslot(gw, e + i * 8);
        }
        for (size_t k = 0; k < t->nptroffs; k++)
            greyslot(gw, e + t->ptroffs[k]);
    }
}

/* Heap contents are read while other workers read them too and (for
 * gs in syscalls) C code may write them: not instrumented. */
NO_SANITIZE static void scanobject(struct gcw *gw, uintptr_t b)
{
    struct mspan *s = spanof_unchecked(b);
    if (s->divmul == 0) {
        if (s->kind == KIND_TYPED)
            scantyped(gw, b, s->largesize, s->typ);
        else
            scanblock(gw, b, b + s->largesize);
        return;
    }
    const uint64_t *hb = mheap_.heapbits;
    uintptr_t w = (b - mheap_.base) / 8, nw = s->elemsize / 8;
    for (uintptr_t i = 0; i < nw;) {
        uintptr_t bit = w + i;
        uint64_t bits = hb[bit / 64] >> (bit % 64);
        unsigned avail = 64 - (unsigned)(bit % 64);
        if (avail > nw - i)
            avail = (unsigned)(nw - i);
        if (avail < 64)
            bits &= (1ull << avail) - 1;
        while (bits != 0) {
            unsigned k = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            uintptr_t p = ((volatile uintptr_t *)b)[i + k];
            greyobject(gw, p);
        }
        i += avail;
    }
}

/* ---- the global work list ------------------------------------------------ */

static void wlock(void)
{
    while (atomic_flag_test_and_set_explicit(&mw.lock, memory_order_acquire))
        __builtin_ia32_pause();
}

static void wunlock(void) { atomic_flag_clear_explicit(&mw.lock, memory_order_release); }

/* Moves half of w's stack (at most WORKBUF_N objects, from the bottom: the
 * oldest, likely the biggest subtrees) to the global list. */
static void balance(struct gcw *w)
{
    size_t k = w->n / 2;
    if (k > WORKBUF_N)
        k = WORKBUF_N;
    wlock();
    struct workbuf *b = mw.free;
    if (b != NULL)
        mw.free = b->next;
    wunlock();
    if (b == NULL) {
        b = sysalloc(sizeof *b, &mheap_.gc_sys);
    }
    memcpy(b->obj, w->stack, k * sizeof(uintptr_t));
    memmove(w->stack, w->stack + k, (w->n - k) * sizeof(uintptr_t));
    w->n -= k;
    b->n = k;
    wlock();
    b->next = mw.full;
    mw.full = b;
    atomic_fetch_add_explicit(&mw.nfull, 1, memory_order_release);
    wunlock();
}

/* Takes a workbuf from the global list into w's (empty) stack. */
static bool getfull(struct gcw *w)
{
    if (atomic_load_explicit(&mw.nfull, memory_order_acquire) == 0)
        return false;
    wlock();
    struct workbuf *b = mw.full;
    if (b != NULL) {
        mw.full = b->next;
        atomic_fetch_sub_explicit(&mw.nfull, 1, memory_order_relaxed);
    }
    wunlock();
    if (b == NULL)
        return false;
    memcpy(w->stack + w->n, b->obj, b->n * sizeof(uintptr_t));
    w->n += b->n;
    wlock();
    b->next = mw.free;
    mw.free = b;
    wunlock();
    return true;
}

/* Scans w's stack to empty, sharing when others are idle. */
static void drainlocal(struct gcw *w)
{
    unsigned tick = 0;
    while (w->n > 0) {
        if (w->n > w->hiwater)
            w->hiwater = w->n;
        if (parallel && ++tick % BALANCE_EVERY == 0 && w->n > 4 &&
            atomic_load_explicit(&mw.nidle, memory_order_relaxed) > 0 &&
            atomic_load_explicit(&mw.nfull, memory_order_relaxed) == 0)
            balance(w);
        scanobject(w, w->stack[--w->n]);
    }
}

/* ---- stacks ------------------------------------------------------------- */

void gort_scan_defers(struct g *gp, void (*scan)(uintptr_t lo, uintptr_t hi));

NO_SANITIZE static NOINLINE void scan_self(struct gcw *w, struct g *gp)
{
    /* Spill every callee-saved register into this frame, so that values
     * the callers keep only in registers are on the stack below. */
    __builtin_unwind_init();
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    scanblock(w, sp, gp->stack_hi);
    atomic_fetch_add_explicit(&scan_stacks_bytes, gp->stack_hi - sp, memory_order_relaxed);
}

static __thread struct gcw *tls_gcw;
static void scan_defer_range(uintptr_t lo, uintptr_t hi) { scanblock(tls_gcw, lo, hi); }

/* One g's roots (not the running cycle's own g). */
static void scanstack(struct gcw *w, struct g *gp)
{
    uint32_t st = readgstatus(gp);
    if (st == G_DEAD || st == G_IDLE)
        return;
    tls_gcw = w;
    gort_scan_defers(gp, scan_defer_range);
    uintptr_t lo = gp->sched.sp;
    if (st == G_SYSCALL || st == G_RUNNING) {
        lo = gp->stack_lo;
        scanblock(w, (uintptr_t)gp->syscallregs, (uintptr_t)(gp->syscallregs + 6));
    }
    scanblock(w, lo, gp->stack_hi);
    atomic_fetch_add_explicit(&scan_stacks_bytes, gp->stack_hi - lo, memory_order_relaxed);
}

/* Claims the next g from the shared cursor, or NULL when none is left. */
static struct g *claimg(void)
{
    struct g *gp = atomic_load_explicit(&mw.rootg, memory_order_acquire);
    while (gp != NULL &&
           !atomic_compare_exchange_weak_explicit(&mw.rootg, &gp, gp->alllink,
                                                  memory_order_acq_rel, memory_order_acquire))
        ;
    return gp;
}

/* A worker's whole part of the parallel mark: stacks, then draining and
 * stealing until every worker is idle. */
static void markworker(struct gcw *w)
{
    for (;;) {
        struct g *gp;
        while ((gp = claimg()) != NULL) {
            if (gp != mw.self)
                scanstack(w, gp);
            drainlocal(w);
        }
        drainlocal(w);
        if (getfull(w))
            continue;
        atomic_fetch_add(&mw.nidle, 1);
        for (unsigned spins = 0;;) {
            if (atomic_load(&mw.nfull) > 0) {
                atomic_fetch_sub(&mw.nidle, 1);
                if (getfull(w))
                    break;
                atomic_fetch_add(&mw.nidle, 1);
            }
            if (atomic_load(&mw.nidle) == mw.nworkers && atomic_load(&mw.nfull) == 0)
                return;
            /* A worker the OS has not run yet holds the others here. */
            if (++spins % 256 == 0)
                sched_yield();
            else
                __builtin_ia32_pause();
        }
    }
}

static void *markhelper(void *arg)
{
    int32_t id = (int32_t)(intptr_t)arg;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        while ((g = atomic_load_explicit(&mw.gen, memory_order_acquire)) == seen)
            futexsleep(&mw.gen, seen, -1);
        seen = g;
        if (id < mw.nworkers)
            markworker(&mw.w[id]);
        atomic_fetch_add_explicit(&mw.ndone, 1, memory_order_release);
    }
    return NULL;
}

static uintptr_t *newmarkstack(void)
{
    void *m = mmap(NULL, MARKSTACK_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        throw("runtime: cannot allocate the mark stack");
    return m;
}

/* Makes sure n-1 helper threads exist (n <= MAX_MARK_WORKERS). */
static void starthelpers(int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (mw.w[i].stack == NULL)
            mw.w[i].stack = newmarkstack();
    while (mw.nhelpers < n - 1) {
        int32_t id = ++mw.nhelpers;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 << 10);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_t t;
        int err = pthread_create(&t, &a, markhelper, (void *)(intptr_t)id);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&a);
        if (err != 0) {
            mw.nhelpers--;
            break;
        }
    }
}

void gort_markdrain(void) { drainlocal(&mw.w[0]); }
void gort_markobject(uintptr_t p) { greyobject(&mw.w[0], p); }
void gort_markblock(uintptr_t lo, uintptr_t hi) { scanblock(&mw.w[0], lo, hi); }
void gort_scanobject(uintptr_t b) { scanobject(&mw.w[0], b); }

/* ---- globals -------------------------------------------------------------- */

/* The heap's own metadata lives in the runtime's bss, and some of it points
 * into the heap without meaning "this object is live": mheap_.base is the
 * address of the first object.  Those words are skipped, or the first
 * object in the heap could never be collected.  Every other runtime global
 * that can point into the heap is a real reference and stays a root. */
static void scanglobals(struct gcw *w, uintptr_t lo, uintptr_t hi)
{
    uintptr_t xlo = (uintptr_t)&mheap_, xhi = xlo + sizeof mheap_;
    if (xhi <= lo || xlo >= hi) {
        scanblock(w, lo, hi);
        return;
    }
    if (lo < xlo)
        scanblock(w, lo, xlo);
    if (xhi < hi)
        scanblock(w, xhi, hi);
}

static int scanphdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        scanglobals(arg, lo, lo + ph->p_memsz);
        gort_scan_globals_bytes += ph->p_memsz;
    }
    return 0;
}

struct globals_find {
    uintptr_t p;
    bool found;
};

static int findphdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct globals_find *f = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && f->p - lo < ph->p_memsz) {
            f->found = true;
            return 1;
        }
    }
    return 0;
}

bool gort_in_globals(uintptr_t p)
{
    struct globals_find f = {p, false};
    dl_iterate_phdr(findphdr, &f);
    return f.found;
}

/* ---- the mark phase ------------------------------------------------------- */

void gort_gcmark(void)
{
    struct g *self = getg();
    /* Before gort_main, or on a thread the runtime does not know. */
    if (self == NULL || self->stack_hi == 0)
        throw("gc: cannot scan the calling stack");
    int32_t n = atomic_load(&gomaxprocs);
    if (n > MAX_MARK_WORKERS)
        n = MAX_MARK_WORKERS;
    if (n < 1)
        n = 1;
    starthelpers(n);
    if (n > mw.nhelpers + 1)
        n = mw.nhelpers + 1;
    struct gcw *w0 = &mw.w[0];
    for (int32_t i = 0; i < n; i++)
        mw.w[i].marked = 0;
    gort_scan_stacks_bytes = 0;
    gort_scan_globals_bytes = 0;
    atomic_store(&scan_stacks_bytes, 0);
    mw.nworkers = n;
    parallel = n > 1;
    mw.self = self;
    atomic_store(&mw.nidle, 0);
    atomic_store(&mw.ndone, 0);
    atomic_store(&mw.rootg, atomic_load(&allgs));
    /* Worker 0 takes its own stack (only it may: the stack changes below
     * it) and the roots that are not per-g before starting the helpers. */
    scan_self(w0, self);
    dl_iterate_phdr(scanphdr, w0);
    gort_markroots_extra(); /* registered roots, uncollectables (mgc.c) */
    /* Every helper is woken, those beyond n only to report done: then
     * "all done" is one count whatever GOMAXPROCS did since they started. */
    int32_t nh = mw.nhelpers;
    if (nh > 0) {
        atomic_fetch_add_explicit(&mw.gen, 1, memory_order_release);
        futexwakeup(&mw.gen, (uint32_t)nh);
    }
    markworker(w0);
    while (atomic_load_explicit(&mw.ndone, memory_order_acquire) < nh)
        sched_yield();
    parallel = false;
    gort_scan_stacks_bytes = atomic_load(&scan_stacks_bytes);
    gort_heap_marked = 0;
    for (int32_t i = 1; i < n; i++)
        gort_heap_marked += mw.w[i].marked;
    gort_markfinalizers(); /* mfinal.c: on worker 0 alone */
    gort_heap_marked += w0->marked;
    /* Give back the part of the mark stacks a big mark touched. */
    for (int32_t i = 0; i < n; i++) {
        size_t used = mw.w[i].hiwater * sizeof(uintptr_t);
        if (used > ((size_t)1 << 20))
            madvise((char *)mw.w[i].stack + (1 << 20), used - (1 << 20), MADV_DONTNEED);
        mw.w[i].hiwater = 0;
    }
}

/* Whether the object holding p was marked in this cycle (p a heap object). */
bool gort_ismarked(uintptr_t p)
{
    struct mspan *s = spanof(p);
    if (s == NULL)
        return true;
    uintptr_t idx = s->divmul != 0 ? span_objindex(s, p) : 0;
    return s->gcmarkbits[idx / 64] >> (idx % 64) & 1;
}
