/*
 * mgcmark.c — marking: from the roots, set the mark bit of every reachable
 * object (Go's mgcmark.go and mgcwork.go, with conservative roots and no
 * write barrier).
 *
 * Work.  Grey objects (marked, not yet scanned) sit in workbufs: a marker
 * fills and drains a buffer of its own (struct gcwork, no locking), and
 * trades full buffers for empty ones through one global pool (wpool), as
 * Go's gcWork does.  Several markers run at once — the background workers,
 * allocating goroutines paying their assist debt — so a mark bit is set by
 * an atomic OR, and the first to set it queues the object.  A marker gives
 * its buffer back (gcw_dispose) before anything can switch its goroutine
 * out: runtime code is never preempted asynchronously, so no grey object is
 * ever stranded in a buffer nobody will drain, and the final pause, which
 * runs with every marker stopped, sees all remaining work in the pool.
 *
 * Roots, all scanned conservatively (every aligned word that points into an
 * allocated object, at its start or inside it, marks that object):
 *   - every goroutine's stack, from its saved SP (where the switch frame
 *     holds its callee-saved registers, or the preemption trampoline its
 *     whole register file) to stack_hi; a goroutine in a syscall (running C
 *     code with no P) over its whole stack, since its SP moves, plus the
 *     callee-saved registers gort_syscall_enter stored;
 *   - the writable PT_LOAD segments (data, bss) of the executable and of
 *     every loaded shared object (dl_iterate_phdr), less the heap's own
 *     metadata (mheap_);
 *   - each goroutine's deferred-call records (malloc'ed by panic.c);
 *   - ranges given to gort_add_roots, uncollectable objects, objects
 *     waiting on the finalizer queue, and the contents (not the object
 *     itself) of every object that has a finalizer (mfinal.c).
 * Heap objects are scanned by kind: noscan spans never; small objects in
 * scan spans by their heapbits; large objects by their span's kind and
 * type.
 *
 * Concurrent marking (mgc.c drives the phases).  C code has no write
 * barrier, so what the mutator changes behind the marker is found after the
 * fact:
 *   - heap pages: the dirty-page tracker (mgcdirty.c) reports every page
 *     written since it was armed; markdirty rescans the marked objects on
 *     those pages.  Armed before any object is scanned, so a write either
 *     precedes the scan of its page or is reported.
 *   - stacks: a goroutine's stack is scanned while the goroutine is parked
 *     or runnable, and it is then "clean" for this cycle (*g.gcscangen)
 *     until it runs again: execute stores 0 there after making the
 *     goroutine RUNNING.  The scanner stores the generation first and then
 *     reads the status (a full barrier between), so either it sees RUNNING
 *     and leaves the stack to the final pause, or the goroutine's next run
 *     erases the generation.  A parked goroutine's status turns WAITING
 *     only on the far side of its switch (proc.c), when its registers are
 *     saved and its SP final.  Other goroutines may write a parked one's
 *     stack (C hands out pointers to locals; a channel send copies into the
 *     receiver's frame), so the stack regions are write-tracked like the
 *     heap, and the final pause drops the clean mark of every slot that was
 *     written.  It rescans every stack that is not clean, so a goroutine
 *     that slept through the cycle, untouched, costs nothing there.  A
 *     running goroutine's stack is also read early, racily and whole, so
 *     that what it holds is mostly marked before the pause rescans it.
 *   - globals, registered roots and defer records are not tracked: the
 *     final pause rescans them whole (defer records only there, since a
 *     running goroutine frees them).
 * Objects allocated during marking are black (mgc.c sets their bit), and
 * live on pages the tracker reports once written, so their contents are
 * rescanned without being traced.  What a concurrent marker reads may be
 * half-written (an object being initialised); that is harmless for a
 * conservative reader, and the page is dirty, so it is read again.  Only
 * the invalid-pointer check of typed slots waits for a stopped world.
 *
 * The reads of stacks, globals and objects race with their owners by
 * design and touch memory the sanitizers consider poisoned (ASan redzones),
 * so the scanning loops are not instrumented.
 *
 * Checkmark (GODEBUG=gccheckmark=1): after the final pause's mark (or the
 * stop-the-world collector's parallel one), with the world still stopped,
 * the mark bits are set aside, everything is marked again from scratch on
 * one thread, and any object marked by that pass but not by the first is
 * a lost object: fatal.
 */
#include "malloc.h"
#include "mgc.h"
#include "mgcdirty.h"

#include <link.h>
#include <stdlib.h>
#include <sys/mman.h>

#define NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))
#define WORKBUF_N 510 /* a 4 KiB buffer */
#define ALWAYS_INLINE __attribute__((always_inline))

struct workbuf {
    struct workbuf *next; /* in a pool list; wpool.lock */
    uintptr_t n;          /* objects in obj[]; the owner's */
    uintptr_t obj[WORKBUF_N];
};

/* The global pool of grey objects.  Buffers are never freed: a cycle's
 * peak stays allocated for the next (as Go keeps its workbuf spans). */
static struct {
    struct mutex lock;     /* LOCKRANK_GCWORK: the two lists */
    struct workbuf *full;  /* buffers with work */
    struct workbuf *empty; /* spare buffers */
    _Atomic uint64_t nfull;
    int32_t nbusy;         /* markers holding work taken from full */
} wpool = {.lock = MUTEX_INIT(LOCKRANK_GCWORK)};

_Atomic uint64_t gort_heap_marked;
uint64_t gort_scan_stacks_bytes, gort_scan_globals_bytes; /* leader / stopped world */
_Atomic uint64_t gort_scanwork;                           /* bytes scanned this cycle */

/* The gcwork used by the entry points that name none (mfinal.c, mgc.c's
 * registered roots, defer records): the calling thread's marker's, set by
 * whoever calls those.  Per thread: the parallel mark runs them on any
 * marker. */
static __thread struct gcwork *curw __attribute__((tls_model("initial-exec")));

static void par_notify(void);

static struct workbuf *getempty(void)
{
    lock(&wpool.lock);
    struct workbuf *b = wpool.empty;
    if (b != NULL)
        wpool.empty = b->next;
    unlock(&wpool.lock);
    if (b == NULL)
        b = persistentalloc(sizeof *b, &mheap_.gc_sys);
    b->n = 0;
    b->next = NULL;
    return b;
}

static void putfull(struct workbuf *b)
{
    lock(&wpool.lock);
    b->next = wpool.full;
    wpool.full = b;
    atomic_fetch_add(&wpool.nfull, 1);
    unlock(&wpool.lock);
    par_notify();
}

static void putempty(struct workbuf *b)
{
    lock(&wpool.lock);
    b->next = wpool.empty;
    wpool.empty = b;
    unlock(&wpool.lock);
}

/* A marker that takes work from the pool is busy until it gives its
 * buffer back (gcw_dispose): work it holds is work the pool does not show,
 * and gort_markwork_done must see both. */
static struct workbuf *getfull(struct gcwork *w)
{
    if (atomic_load_explicit(&wpool.nfull, memory_order_relaxed) == 0)
        return NULL;
    lock(&wpool.lock);
    struct workbuf *b = wpool.full;
    if (b != NULL) {
        wpool.full = b->next;
        atomic_fetch_sub_explicit(&wpool.nfull, 1, memory_order_relaxed);
        if (!w->busy) {
            w->busy = true;
            wpool.nbusy++;
        }
    }
    unlock(&wpool.lock);
    return b;
}

/* Whether no grey object is left anywhere but in the caller's (empty,
 * disposed) buffer: the pool is empty and no other marker holds work. */
bool gort_markwork_done(void)
{
    lock(&wpool.lock);
    bool done = wpool.full == NULL && wpool.nbusy == 0;
    unlock(&wpool.lock);
    return done;
}

static inline void push(struct gcwork *w, uintptr_t b)
{
    struct workbuf *wb = w->buf;
    if (unlikely(wb == NULL || wb->n == WORKBUF_N)) {
        if (wb != NULL)
            putfull(wb);
        wb = w->buf = getempty();
    }
    wb->obj[wb->n++] = b;
}

static inline bool pop(struct gcwork *w, uintptr_t *b)
{
    struct workbuf *wb = w->buf;
    if (unlikely(wb == NULL || wb->n == 0)) {
        struct workbuf *f = getfull(w);
        if (f == NULL)
            return false;
        if (wb != NULL)
            putempty(wb);
        wb = w->buf = f;
    }
    *b = wb->obj[--wb->n];
    return true;
}

void gcw_dispose(struct gcwork *w)
{
    struct workbuf *b = w->buf;
    w->buf = NULL;
    if (b != NULL || w->busy) {
        bool shared = b != NULL && b->n > 0; /* b is the pool's once unlocked */
        lock(&wpool.lock);
        if (shared) {
            b->next = wpool.full;
            wpool.full = b;
            atomic_fetch_add(&wpool.nfull, 1);
        } else if (b != NULL) {
            b->next = wpool.empty;
            wpool.empty = b;
        }
        if (w->busy) {
            w->busy = false;
            wpool.nbusy--;
        }
        unlock(&wpool.lock);
        if (shared)
            par_notify();
    }
    if (w->bytes_marked != 0)
        atomic_fetch_add(&gort_heap_marked, w->bytes_marked);
    if (w->scanwork != 0)
        atomic_fetch_add(&gort_scanwork, w->scanwork);
    w->bytes_marked = 0;
    w->scanwork = 0;
}

/* ---- greying -------------------------------------------------------------- */

/* The in-use span holding p, read as a concurrent marker must: spans are
 * published by mheap_alloc with release stores. */
NO_SANITIZE static inline ALWAYS_INLINE struct mspan *spanof_marker(uintptr_t p)
{
    if (p - mheap_.base >= __atomic_load_n(&mheap_.used, __ATOMIC_ACQUIRE))
        return NULL;
    struct mspan *s = __atomic_load_n(&mheap_.spans[(p - mheap_.base) >> PAGE_SHIFT],
                                      __ATOMIC_ACQUIRE);
    if (s == NULL || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SPAN_INUSE ||
        p >= s->limit)
        return NULL;
    return s;
}

/* Sets the mark bit of object idx of s; true if this call set it.  A
 * marker alone in a stopped world (no allocation either) uses a plain
 * store: the locked instruction is a tenth of its time otherwise. */
static inline ALWAYS_INLINE bool setmark(struct mspan *s, uintptr_t idx, bool alone)
{
    uint64_t bit = 1ull << (idx % 64), *w = &s->gcmarkbits[idx / 64];
    uint64_t old = __atomic_load_n(w, __ATOMIC_RELAXED);
    if (old & bit)
        return false;
    if (alone) {
        __atomic_store_n(w, old | bit, __ATOMIC_RELAXED);
        return true;
    }
    return !(__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit);
}

/* Marks the object holding p, if p points into one; queues it for scanning
 * if it may hold pointers. */
NO_SANITIZE static inline ALWAYS_INLINE void greyobject(struct gcwork *w, uintptr_t p)
{
    struct mspan *s = spanof_marker(p);
    if (s == NULL)
        return;
    uintptr_t idx = s->divmul != 0 ? span_objindex(s, p) : 0;
    /* span_isallocated, racy against the span's owner allocating: a slot
     * it takes meanwhile is allocated black, so missing it loses nothing.
     * Spelled out here: an inlined copy would be instrumented. */
    if (!(idx < *(volatile uint32_t *)&s->freeindex || (s->allocbits[idx / 64] >> (idx % 64) & 1)) ||
        !setmark(s, idx, w->alone))
        return;
    w->bytes_marked += s->divmul != 0 ? s->elemsize : s->npages * PAGE_SIZE;
    if (!spanclass_noscan(s->spanclass))
        push(w, s->base + idx * s->elemsize);
}

static void badpointer(uintptr_t slot, uintptr_t p)
{
    print("runtime: pointer %p to unallocated span\n", (void *)p);
    print("runtime: found in object at *(%p)\n", (void *)slot);
    throw("found bad pointer in Go heap");
}

/* A precise pointer slot (typed object).  The invalid-pointer check needs
 * a stopped world: a concurrent marker can read a slot being written. */
NO_SANITIZE static inline void greyslot(struct gcwork *w, uintptr_t slot)
{
    uintptr_t p = *(volatile uintptr_t *)slot;
    if (p - mheap_.base >= __atomic_load_n(&mheap_.used, __ATOMIC_RELAXED))
        return;
    if (w->stw && debug.invalidptr > 0) {
        struct mspan *s = spanof_unchecked(p);
        /* One past the end of an object at the end of a span is a legal C
         * pointer; only a pointer into the middle of free pages is bad. */
        if ((s == NULL || s->state != SPAN_INUSE) && p % PAGE_SIZE != 0)
            badpointer(slot, p);
    }
    greyobject(w, p);
}

NO_SANITIZE static void scanblock(struct gcwork *w, uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8)
        greyobject(w, *(volatile uintptr_t *)a);
    if (hi > lo)
        w->scanwork += hi - lo;
}

/* The elements of a typed array at b (size bytes) that overlap [lo, hi). */
NO_SANITIZE static void scantyped(struct gcwork *w, uintptr_t b, uintptr_t size, const gort_type *t,
                      uintptr_t lo, uintptr_t hi)
{
    uintptr_t tw = t->size / 8;
    uintptr_t first = lo > b ? (lo - b) / t->size : 0;
    for (uintptr_t e = b + first * t->size; e + t->size <= b + size && e < hi; e += t->size) {
        uint64_t m = t->ptrmask;
        while (m != 0) {
            unsigned i = (unsigned)__builtin_ctzll(m);
            m &= m - 1;
            if (i < tw)
                greyslot(w, e + i * 8);
        }
        for (size_t k = 0; k < t->nptroffs; k++)
            greyslot(w, e + t->ptroffs[k]);
        w->scanwork += t->size;
    }
}

/* Scans the part of the scan object at b (in span s) that overlaps
 * [lo, hi): the whole of a small object, the overlap of a large one. */
NO_SANITIZE static void scanobject_range(struct gcwork *w, struct mspan *s, uintptr_t b,
                                         uintptr_t lo, uintptr_t hi)
{
    if (s->divmul == 0) {
        uintptr_t end = b + s->largesize;
        if (lo < b)
            lo = b;
        if (hi > end)
            hi = end;
        if (lo >= hi)
            return;
        if (s->kind == KIND_TYPED)
            scantyped(w, b, s->largesize, s->typ, lo, hi);
        else
            scanblock(w, lo, hi);
        return;
    }
    const uint64_t *hb = mheap_.heapbits;
    uintptr_t wi = (b - mheap_.base) / 8, nw = s->elemsize / 8;
    for (uintptr_t i = 0; i < nw;) {
        uintptr_t bit = wi + i;
        uint64_t bits = __atomic_load_n(&hb[bit / 64], __ATOMIC_RELAXED) >> (bit % 64);
        unsigned avail = 64 - (unsigned)(bit % 64);
        if (avail > nw - i)
            avail = (unsigned)(nw - i);
        if (avail < 64)
            bits &= (1ull << avail) - 1;
        while (bits != 0) {
            unsigned k = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            greyobject(w, ((volatile uintptr_t *)b)[i + k]);
        }
        i += avail;
    }
    w->scanwork += s->elemsize;
}

NO_SANITIZE static void scanobject(struct gcwork *w, uintptr_t b)
{
    /* spanof_unchecked, spelled out: published by a release store. */
    struct mspan *s = __atomic_load_n(&mheap_.spans[(b - mheap_.base) >> PAGE_SHIFT],
                                      __ATOMIC_ACQUIRE);
    scanobject_range(w, s, b, 0, UINTPTR_MAX);
}

/* Objects are scanned a few pops after they are popped, through a small
 * FIFO whose entries are prefetched on the way in: marking is a walk of
 * cache misses, and this overlaps several (Boehm's prefetch-on-grey). */
#define PREFETCH_N 8

static bool par_hungry(void);
static void balance(struct gcwork *w);

NO_SANITIZE bool gcdrain(struct gcwork *w, int64_t budget, bool preemptible)
{
    int64_t start = (int64_t)w->scanwork;
    uintptr_t ring[PREFETCH_N], b;
    unsigned head = 0, n = 0;
    bool stopped = false;
    for (unsigned k = 1;; k++) {
        if (n < PREFETCH_N && !stopped && pop(w, &b)) {
            __builtin_prefetch((const void *)b);
            ring[(head + n++) % PREFETCH_N] = b;
            if (n < PREFETCH_N)
                continue;
        }
        if (n == 0)
            return stopped;
        b = ring[head];
        head = (head + 1) % PREFETCH_N;
        n--;
        scanobject(w, b);
        if (k % 64 == 0 && !stopped) {
            /* Share: with the world stopped when a marker waits; else
             * whenever the pool is empty, for the assists (Go's balance). */
            if (w->stw ? !w->alone && par_hungry()
                       : atomic_load_explicit(&wpool.nfull, memory_order_relaxed) == 0)
                balance(w);
            if (budget >= 0 && (int64_t)w->scanwork - start >= budget)
                stopped = true;
            else if (preemptible &&
                     (atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) ||
                      __atomic_load_n(&getg()->preempt, __ATOMIC_RELAXED)))
                stopped = true;
        }
    }
}

/* A concurrent marker's safe point: if the world is stopping or the
 * scheduler wants the P back, give the buffer back and yield. */
void gort_markyield(struct gcwork *w)
{
    if (atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) ||
        __atomic_load_n(&getg()->preempt, __ATOMIC_RELAXED)) {
        gcw_dispose(w);
        gort_gosched();
    }
}

/* ---- the legacy single-marker entry points (curw) ------------------------ */

NO_SANITIZE void gort_markobject(uintptr_t p) { greyobject(curw, p); }
NO_SANITIZE void gort_markblock(uintptr_t lo, uintptr_t hi) { scanblock(curw, lo, hi); }
NO_SANITIZE void gort_scanobject(uintptr_t b) { scanobject(curw, b); }
NO_SANITIZE void gort_markdrain(void) { gcdrain(curw, -1, false); }

/* ---- stacks ------------------------------------------------------------- */

/* The root byte counts, added to by every marker of a parallel mark. */
static inline void count_bytes(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* The goroutine running the mark (the stop-the-world collector's), from
 * sp, where it entered the mark with its callee-saved registers spilled
 * (gort_gcmark): the mark's own frames below hold only stale words, which
 * a pass scanning from deeper down (the checkmark's) would take for roots. */
NO_SANITIZE static void scan_self(struct gcwork *w, struct g *gp, uintptr_t sp)
{
    scanblock(w, sp, gp->stack_hi);
    scanblock(w, (uintptr_t)gp, (uintptr_t)(gp + 1));
    count_bytes(&gort_scan_stacks_bytes, gp->stack_hi - sp);
}

void gort_scan_defers(struct g *gp, void (*scan)(uintptr_t lo, uintptr_t hi));

/* The stack of gp, stopped or running C code without a P; the world is
 * stopped, or gp is parked (the caller made sure). */
NO_SANITIZE static void scanstack(struct gcwork *w, struct g *gp, uint32_t st)
{
    if (st == G_SYSCALL || st == G_RUNNING) {
        scanblock(w, gp->stack_lo, gp->stack_hi);
        scanblock(w, (uintptr_t)gp->syscallregs, (uintptr_t)(gp->syscallregs + 6));
        count_bytes(&gort_scan_stacks_bytes, gp->stack_hi - gp->stack_lo);
    } else {
        /* Read racily by a concurrent scan (the g may have run, exited
         * and been reused since its status was read; then its scan
         * generation is gone and the final pause scans it again), so the
         * range is checked before it is read. */
        uintptr_t sp = *(volatile uintptr_t *)&gp->sched.sp;
        if (sp < gp->stack_lo || sp > gp->stack_hi)
            return;
        scanblock(w, sp, gp->stack_hi);
        count_bytes(&gort_scan_stacks_bytes, gp->stack_hi - sp);
    }
    /* The g record too: what the runtime parks there (the sudogs of a
     * select in g.waiting, a waker's g.param_sg, the start argument) may
     * be held nowhere else.  It sits in the stack slot's top page, so
     * writes to it are tracked with the stack. */
    scanblock(w, (uintptr_t)gp, (uintptr_t)(gp + 1));
}

static void scandefer_cb(uintptr_t lo, uintptr_t hi) { scanblock(curw, lo, hi); }

/* World stopped: gp's defer records, and its stack unless it is clean in
 * generation gen (gen 0: none is).  self, the goroutine running the mark,
 * is scanned from where it entered the mark (scan_self), and skip (the
 * mark leader, which holds no program pointers) not at all. */
NO_SANITIZE static void scang_stw(struct gcwork *w, struct g *gp, uint32_t gen, struct g *self,
                                  struct g *skip)
{
    uint32_t st = readgstatus(gp);
    if (st == G_DEAD || st == G_IDLE)
        return;
    curw = w;
    gort_scan_defers(gp, scandefer_cb);
    if (gp == skip || gp == self)
        return;
    if (gen == 0 || gp->gcscangen == NULL ||
        atomic_load_explicit(gp->gcscangen, memory_order_relaxed) != gen)
        scanstack(w, gp, st);
}

/* The early, racy read of a running goroutine's stack (or one in a
 * syscall): from the SP it had when it last switched in (or entered the
 * syscall) up.  Deeper frames are the final pause's; below them lie dead
 * frames, whose stale pointers would keep garbage (whole trees, in a deep
 * recursion) alive for a cycle. */
NO_SANITIZE static void prescan_running(struct gcwork *w, struct g *gp, uint32_t st)
{
    uintptr_t sp = st == G_SYSCALL ? *(volatile uintptr_t *)&gp->syscallregs[6]
                                   : *(volatile uintptr_t *)&gp->sched.sp;
    if (sp < gp->stack_lo || sp > gp->stack_hi)
        return;
    scanblock(w, sp, gp->stack_hi);
    scanblock(w, (uintptr_t)gp, (uintptr_t)(gp + 1));
}

/* Concurrently: the stacks of parked and runnable goroutines, each made
 * clean for gen (see the essay).  A running goroutine's stack (or one in a
 * syscall) cannot be made clean, but it is read anyway (prescan_running):
 * what it marks is marked early (at worst floating garbage), so the final
 * pause, which scans that stack again, finds little left to trace — a
 * goroutine building a big structure without ever parking would otherwise
 * leave the whole structure to the pause. */
NO_SANITIZE static void scanstacks_concurrent(struct gcwork *w, uint32_t gen)
{
    struct g *self = getg();
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        if (gp == self)
            continue;
        _Atomic uint32_t *sg = gp->gcscangen;
        /* A full barrier between the store and the load (xchg). */
        if (sg != NULL)
            atomic_exchange_explicit(sg, gen, memory_order_seq_cst);
        uint32_t st = atomic_load_explicit(&gp->atomicstatus, memory_order_seq_cst);
        if (sg != NULL && (st == G_WAITING || st == G_RUNNABLE)) {
            scanstack(w, gp, st);
        } else {
            if (sg != NULL)
                atomic_store_explicit(sg, 0, memory_order_relaxed);
            if ((st == G_RUNNING || st == G_SYSCALL) && gp->stack_hi != 0)
                prescan_running(w, gp, st);
        }
        gort_markyield(w);
    }
}

/* ---- globals -------------------------------------------------------------- */

/* The heap's own metadata and the dirty-page tracker's state live in the
 * runtime's bss, and some of it points into the heap without meaning "this
 * object is live": mheap_.base and the tracker's base are the address of
 * the first object.  Those words are skipped, or the first object in the
 * heap could never be collected.  Every other runtime global that can
 * point into the heap is a real reference and stays a root (and the
 * collector's own state keeps offsets, not addresses). */
static void scanglobals(struct gcwork *w, uintptr_t lo, uintptr_t hi)
{
    uintptr_t x[2][2] = {{(uintptr_t)&mheap_, (uintptr_t)&mheap_ + sizeof mheap_}};
    dirty_selfrange(&x[1][0], &x[1][1]);
    if (x[1][0] < x[0][0]) {
        uintptr_t t0 = x[0][0], t1 = x[0][1];
        x[0][0] = x[1][0], x[0][1] = x[1][1], x[1][0] = t0, x[1][1] = t1;
    }
    for (int i = 0; i < 2 && lo < hi; i++) {
        if (x[i][1] <= lo || x[i][0] >= hi)
            continue;
        if (lo < x[i][0])
            scanblock(w, lo, x[i][0]);
        lo = x[i][1];
    }
    if (lo < hi)
        scanblock(w, lo, hi);
}

/* The sanitizer runtimes (shared objects with gcc) keep tens of MiB of
 * their own state in bss and never a program's pointer: not roots, and
 * not counted in the globals the pacer charges. */
static bool sanitizer_object(const char *name)
{
    return name != NULL && (strstr(name, "/libasan.so") != NULL ||
                            strstr(name, "/libtsan.so") != NULL ||
                            strstr(name, "/libubsan.so") != NULL);
}

static int scanphdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct gcwork *w = arg;
    if (sanitizer_object(info->dlpi_name))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        scanglobals(w, lo, lo + ph->p_memsz);
        count_bytes(&gort_scan_globals_bytes, ph->p_memsz);
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

/* ---- dirty pages ---------------------------------------------------------- */

/* Rescans the marked scan objects overlapping the written pages [lo, hi).
 * While the program runs, the marker yields every 64 heap pages: one
 * region can be a whole written array. */
NO_SANITIZE static void rescan_pages(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct gcwork *w = arg;
    uintptr_t p = lo & ~(PAGE_SIZE - 1);
    for (unsigned n = 1; p < hi; n++) {
        if (n % 64 == 0 && !w->stw)
            gort_markyield(w);
        struct mspan *s = spanof_marker(p);
        if (s == NULL) {
            p += PAGE_SIZE;
            continue;
        }
        uintptr_t send = s->base + s->npages * PAGE_SIZE;
        uintptr_t plo = p > lo ? p : lo;
        uintptr_t phi = p + PAGE_SIZE < hi ? p + PAGE_SIZE : hi;
        if (!spanclass_noscan(s->spanclass) && plo < s->limit) {
            if (s->divmul == 0) {
                /* A large object: only the written page. */
                if (__atomic_load_n(&s->gcmarkbits[0], __ATOMIC_RELAXED) & 1)
                    scanobject_range(w, s, s->base, plo, phi);
                p += PAGE_SIZE;
                continue;
            }
            uintptr_t rhi = hi < send ? hi : send;
            uintptr_t i0 = span_objindex(s, plo);
            uintptr_t i1 = rhi >= s->limit ? s->nelems - 1 : span_objindex(s, rhi - 1);
            for (uintptr_t i = i0; i <= i1; i++)
                if (__atomic_load_n(&s->gcmarkbits[i / 64], __ATOMIC_RELAXED) >> (i % 64) & 1)
                    scanobject_range(w, s, s->base + i * s->elemsize, 0, UINTPTR_MAX);
        }
        p = send;
    }
}

size_t gort_markdirty(struct gcwork *w, bool rearm)
{
    uintptr_t used = __atomic_load_n(&mheap_.used, __ATOMIC_ACQUIRE);
    return dirty_collect(mheap_.base, mheap_.base + used, rearm, rescan_pages, w);
}

/* ---- the phases ----------------------------------------------------------- */

static void reset_stats(void)
{
    atomic_store(&gort_heap_marked, 0);
    atomic_store(&gort_scanwork, 0);
    gort_scan_stacks_bytes = 0;
    gort_scan_globals_bytes = 0;
}

/* Concurrent root marking, on the leader after the heap is armed: the
 * globals and registered roots (work.lock held), then the stacks. */
void gort_markglobals_concurrent(struct gcwork *w)
{
    reset_stats();
    dl_iterate_phdr(scanphdr, w);
    curw = w;
    gort_markroots_extra();
}

void gort_markstacks_concurrent(struct gcwork *w, uint32_t gen)
{
    scanstacks_concurrent(w, gen);
}

/* ---- the stop-the-world mark, in parallel ------------------------------ */

/*
 * With the world stopped the Ps' own threads are idle, parked on their
 * notes; the mark borrows them (gort_helpgc wakes idle Ms on their g0
 * stacks, Go 1.4's gchelper), one fewer than there are Ps and CPUs, and
 * every marker — the caller's thread and the helpers — takes root jobs
 * from one list (chunks of the heap's written pages, the globals, the
 * registered roots, one job per goroutine), then drains the shared pool.
 * Waking a sleeping thread takes 20-100 us here, as long as a whole small
 * mark, but the threads that just stopped for the pause spin for a while
 * before they sleep (proc.c, park_idle), so the helpers woken once the
 * world is stopped (gort_markhelpers_start) answer at once; they stand by,
 * spinning, then sleeping, until the mark opens its phase, and the caller
 * does not wait for them to arrive (one the OS runs late joins late, or
 * not at all: gort_markhelpers_stop ends the standby).
 *
 * Termination (Go 1.4's getfull, with sleeping instead of polling): a
 * marker out of work counts itself waiting; one that sees work in the pool
 * stops waiting first and then takes it.  Only markers that are not
 * waiting put work in the pool, and each puts it there before it counts
 * itself waiting, so "every marker that joined is waiting and the pool is
 * empty" is final: whoever sees it closes the phase.  A waiting marker
 * spins briefly, then sleeps on a futex that sharing work or closing bumps.
 * A marker whose buffer holds work while others wait hands half of it to
 * the pool (Go's gcw.balance): a list or a tree reached from one root would
 * otherwise stay with the marker that found it.
 *
 * A marker that may not be alone sets mark bits with atomic ORs; one that
 * is (GOMAXPROCS=1, one CPU, no idle M) keeps the plain stores.
 */
#define PAR_CLOSED (1ull << 63)
#define PAR_ONE_JOINED (1ull << 32)
static inline uint32_t par_joined(uint64_t s) { return (uint32_t)(s >> 32) & 0x7fffffff; }
static inline uint32_t par_waiting(uint64_t s) { return (uint32_t)s; }

static struct {
    /* PAR_CLOSED | joined << 32 | waiting; CLOSED between phases.  Atomic. */
    _Atomic uint64_t state;
    _Atomic bool standby;      /* helpers are to wait for a phase (start..stop) */
    int32_t nhelpers;          /* helpers woken by start; the pausing goroutine's */
    _Atomic uint32_t seq;      /* futex word: bumped when work is shared, a phase
                                  opens or closes, or standby ends */
    _Atomic int32_t sleepers;  /* markers and helpers asleep on seq */
    _Atomic uint32_t exited;   /* helpers that joined and are done */
    /* The phase's jobs: written by the caller before it opens the phase. */
    uint32_t gen;
    struct g *self, *skip;
    uintptr_t selfsp;           /* where self entered the mark (scan_self) */
    uintptr_t dused, dchunk;    /* written-page chunks of the heap's first dused bytes
                                   (offsets: this is a root, see scanglobals) */
    uint32_t ndirty;
    _Atomic uint32_t nextjob;   /* next of: ndirty chunks, globals, registered roots */
    struct g *_Atomic nextg;    /* next goroutine whose stack is unclaimed */
} par = {.state = PAR_CLOSED};

/* Someone may be asleep waiting for work or a phase: wake them. */
static void par_notify(void)
{
    if (atomic_load(&par.sleepers) > 0) {
        atomic_fetch_add(&par.seq, 1);
        futexwakeup(&par.seq, INT32_MAX);
    }
}

/* Sleeps on par.seq unless done() is true once the caller counts as a
 * sleeper (the waker changes what done reads, then calls par_notify). */
static void par_sleep(bool (*done)(void))
{
    uint32_t q = atomic_load(&par.seq);
    atomic_fetch_add(&par.sleepers, 1);
    if (!done())
        futexsleep(&par.seq, q, -1);
    atomic_fetch_sub(&par.sleepers, 1);
}

static bool par_hungry(void)
{
    return par_waiting(atomic_load_explicit(&par.state, memory_order_relaxed)) != 0 &&
           atomic_load_explicit(&wpool.nfull, memory_order_relaxed) == 0;
}

/* Gives half of w's buffer to the pool, for a waiting marker. */
static void balance(struct gcwork *w)
{
    struct workbuf *wb = w->buf;
    if (wb == NULL || wb->n < 2)
        return;
    struct workbuf *b = getempty();
    uintptr_t half = wb->n / 2;
    memcpy(b->obj, wb->obj + wb->n - half, half * sizeof b->obj[0]);
    b->n = half;
    wb->n -= half;
    putfull(b);
}

/* Whether a waiting marker has something to do: take work, or close. */
static bool par_wait_over(void)
{
    uint64_t s = atomic_load(&par.state);
    return (s & PAR_CLOSED) || par_waiting(s) == par_joined(s) || atomic_load(&wpool.nfull) > 0;
}

/* Counts the caller waiting and waits for work (true: go and take it) or
 * for the phase to close (false).  The caller's buffer is empty. */
static bool par_wait(void)
{
    uint64_t s = atomic_fetch_add(&par.state, 1) + 1;
    for (unsigned spin = 0;; spin++) {
        if (s & PAR_CLOSED)
            return false;
        if (par_waiting(s) == par_joined(s) && atomic_load(&wpool.nfull) == 0) {
            if (atomic_compare_exchange_strong(&par.state, &s, s | PAR_CLOSED)) {
                atomic_fetch_add(&par.seq, 1);
                futexwakeup(&par.seq, INT32_MAX);
                return false;
            }
            continue;
        }
        if (atomic_load(&wpool.nfull) > 0) {
            if (atomic_compare_exchange_strong(&par.state, &s, s - 1))
                return true;
            continue;
        }
        if (spin < 50)
            procyield(30);
        else
            par_sleep(par_wait_over);
        s = atomic_load(&par.state);
    }
}

/* The phase's root jobs, taken one at a time until none is left. */
NO_SANITIZE static void par_roots(struct gcwork *w)
{
    curw = w;
    for (;;) {
        uint32_t j = atomic_fetch_add(&par.nextjob, 1);
        if (j < par.ndirty) {
            uintptr_t lo = j * par.dchunk;
            uintptr_t hi = par.dused - lo > par.dchunk ? lo + par.dchunk : par.dused;
            dirty_collect(mheap_.base + lo, mheap_.base + hi, false, rescan_pages, w);
        } else if (j == par.ndirty) {
            dl_iterate_phdr(scanphdr, w);
        } else if (j == par.ndirty + 1) {
            curw = w;
            gort_markroots_extra(); /* registered roots, uncollectables (mgc.c) */
        } else {
            break;
        }
    }
    struct g *gp = atomic_load(&par.nextg);
    while (gp != NULL) {
        if (!atomic_compare_exchange_weak(&par.nextg, &gp, gp->alllink))
            continue;
        scang_stw(w, gp, par.gen, par.self, par.skip);
        gp = atomic_load(&par.nextg);
    }
}

/* Roots, then the pool, until the phase closes. */
static void par_mark(struct gcwork *w)
{
    par_roots(w);
    do
        gcdrain(w, -1, false);
    while (par_wait());
}

static bool standby_over(void)
{
    return !(atomic_load(&par.state) & PAR_CLOSED) || !atomic_load(&par.standby);
}

/* A helper M's part (gort_helpgc): join the phase when it opens, mark,
 * and go back to sleep; or go back at once if standby ends first.  It
 * spins for a while before it sleeps: the phase opens as soon as the
 * pausing goroutine has set up its root jobs. */
static void par_helper(void *arg)
{
    (void)arg;
    int64_t until = nanotime() + 200000;
    for (;;) {
        uint64_t s = atomic_load(&par.state);
        if (!(s & PAR_CLOSED)) {
            if (!atomic_compare_exchange_weak(&par.state, &s, s + PAR_ONE_JOINED))
                continue;
            struct gcwork w = {.stw = true};
            par_mark(&w);
            gcw_dispose(&w);
            curw = NULL;
            atomic_fetch_add(&par.exited, 1);
            return;
        }
        if (!atomic_load(&par.standby))
            return;
        if (nanotime() < until)
            procyield(30);
        else
            par_sleep(standby_over);
    }
}

void gort_helpgc(int32_t n, void (*fn)(void *), void *arg);

/* World stopped, before a mark: wakes the helpers (one fewer than
 * min(GOMAXPROCS, CPUs)), which stand by for the mark's phase. */
void gort_markhelpers_start(void)
{
    int32_t nproc = atomic_load(&gomaxprocs);
    if (nproc > ncpu)
        nproc = ncpu;
    par.nhelpers = nproc - 1;
    if (par.nhelpers <= 0)
        return;
    atomic_store(&par.standby, true);
    gort_helpgc(par.nhelpers, par_helper, NULL);
}

/* World stopped, the marking done: a helper that did not join goes back
 * to sleep.  Those that joined are already on their way; the world need
 * not wait for them (start_the_world makes an M if it finds none idle). */
void gort_markhelpers_stop(void)
{
    if (par.nhelpers <= 0)
        return;
    atomic_store(&par.standby, false);
    par_notify();
    par.nhelpers = 0;
}

/* World stopped: marks from the roots and, with dirty, from the heap pages
 * written since they were last collected.  parallel: on idle Ms too (the checkmark pass is not).  gen, self
 * and skip as for scang_stw.  fresh: the cycle's first root scan, which
 * resets the statistics (else the globals are not counted again). */
static void markroots_stw(uint32_t gen, struct g *self, struct g *skip, bool dirty, bool fresh,
                            bool parallel)
{
    if (fresh)
        reset_stats();
    uint64_t globals = gort_scan_globals_bytes;
    int32_t nproc = parallel ? par.nhelpers + 1 : 1;
    par.gen = gen;
    par.self = self;
    par.skip = skip;
    par.ndirty = 0;
    if (dirty) {
        /* Chunks of at least 32 MiB, PMD-aligned, 16 per marker: the
         * last chunks taken end the walk unevenly (a 2.5 GB heap in 8
         * chunks kept one marker walking ~150 us alone). */
        uintptr_t used = __atomic_load_n(&mheap_.used, __ATOMIC_ACQUIRE);
        uintptr_t chunk = used / ((uintptr_t)nproc * 16);
        if (chunk < ((uintptr_t)32 << 20))
            chunk = (uintptr_t)32 << 20;
        chunk = (chunk + ((uintptr_t)2 << 20) - 1) & ~(((uintptr_t)2 << 20) - 1);
        par.dused = used;
        par.dchunk = chunk;
        par.ndirty = (uint32_t)((used + chunk - 1) / chunk);
    }
    atomic_store(&par.nextjob, 0);
    atomic_store(&par.nextg, atomic_load(&allgs));
    atomic_store(&par.exited, 0);
    if (nproc > 1) {
        atomic_store(&par.state, PAR_ONE_JOINED); /* open, the caller joined */
        par_notify();
    }
    struct gcwork w = {.stw = true, .alone = nproc == 1};
    if (self != NULL)
        scan_self(&w, self, par.selfsp);
    if (nproc == 1) {
        par_roots(&w);
        gcdrain(&w, -1, false);
    } else {
        par_mark(&w);
        /* Closed: the helpers that joined are leaving; wait for them. */
        uint32_t joined = par_joined(atomic_load(&par.state)) - 1;
        for (unsigned spin = 0; atomic_load(&par.exited) < joined; spin++)
            if (spin < 100)
                procyield(30);
            else
                osyield();
    }
    gcw_dispose(&w);
    curw = NULL;
    if (!fresh)
        gort_scan_globals_bytes = globals; /* counted once per cycle */
}

/* World stopped, one marker: what finalizers keep alive (queue: and the
 * finalizers of the unreachable, queued). */
static void markfinalizers_stw(bool queue)
{
    struct gcwork w = {.stw = true, .alone = true};
    curw = &w;
    gort_markfinalizers(queue);
    gcw_dispose(&w);
    curw = NULL;
}

/* The final pause of a concurrent cycle: the last written pages and the
 * untracked roots, then what finalizer-bearing objects reach.  With
 * checkmark, the verification comes next, before any finalizer is queued:
 * queueing marks the unreachable finalizer objects, which would hide a
 * lost one from the check.  Then the queueing. */
void gort_markterm(struct g *skip, uint32_t gen, bool checkmark)
{
    /* Stacks written by others are not clean; without stack tracking none
     * is (gen 0: every stack). */
    if (!stack_dirty_collect())
        gen = 0;
    markroots_stw(gen, NULL, skip, true, false, true);
    markfinalizers_stw(false);
    if (checkmark)
        gort_checkmark(NULL, skip);
    markfinalizers_stw(true);
}

/* The stop-the-world collector (gcstoptheworld, or no dirty tracking);
 * checkmark as for gort_markterm. */
NOINLINE void gort_gcmark(bool checkmark)
{
    /* The callee-saved registers, where values the callers keep only in
     * registers are, stored into this frame, and the SP below it: both in
     * one asm, so that whatever the prologue saved (shrink-wrapped or not)
     * and the copies lie above the SP the marks scan from.  The array is
     * kept alive to the end: its slot must not be reused meanwhile. */
    uintptr_t regs[6];
    __asm__ volatile("mov %%rbx, 0(%1)\n\t"
                     "mov %%rbp, 8(%1)\n\t"
                     "mov %%r12, 16(%1)\n\t"
                     "mov %%r13, 24(%1)\n\t"
                     "mov %%r14, 32(%1)\n\t"
                     "mov %%r15, 40(%1)\n\t"
                     "mov %%rsp, %0"
                     : "=r"(par.selfsp)
                     : "r"(regs)
                     : "memory");
    markroots_stw(0, getg(), NULL, false, true, true);
    if (checkmark) {
        markfinalizers_stw(false);
        gort_checkmark(getg(), NULL);
    }
    markfinalizers_stw(true);
    __asm__ volatile("" : : "r"(regs) : "memory");
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

/* ---- checkmark ------------------------------------------------------------ */

struct savedbits {
    struct mspan *s;
    uint64_t *bits;
};

/* World stopped, after a mark (gort_markterm, gort_gcmark): marks
 * everything again from the roots, on one thread, and throws if that
 * finds an object the mark did not.  self and skip as for scang_stw. */
void gort_checkmark(struct g *self, struct g *skip)
{
    uintptr_t npages = mheap_.used / PAGE_SIZE;
    size_t n = 0, cap = 256;
    struct savedbits *sv = malloc(cap * sizeof *sv);
    if (sv == NULL)
        throw("runtime: out of memory");
    for (uintptr_t i = 0; i < npages;) {
        struct mspan *s = mheap_.spans[i];
        if (s == NULL || s->state != SPAN_INUSE) {
            i++;
            continue;
        }
        size_t nw = (s->nelems + 63) / 64;
        if (n == cap) {
            cap *= 2;
            struct savedbits *nsv = realloc(sv, cap * sizeof *sv);
            if (nsv == NULL)
                throw("runtime: out of memory");
            sv = nsv;
        }
        sv[n].s = s;
        sv[n].bits = malloc(nw * 8);
        if (sv[n].bits == NULL)
            throw("runtime: out of memory");
        memcpy(sv[n].bits, s->gcmarkbits, nw * 8);
        memset(s->gcmarkbits, 0, nw * 8);
        n++;
        i += s->npages;
    }
    uint64_t marked = atomic_load(&gort_heap_marked), scanwork = atomic_load(&gort_scanwork);
    uint64_t stacks = gort_scan_stacks_bytes, globals = gort_scan_globals_bytes;
    markroots_stw(0, self, skip, false, true, false);
    markfinalizers_stw(false);
    for (size_t k = 0; k < n; k++) {
        struct mspan *s = sv[k].s;
        size_t nw = (s->nelems + 63) / 64;
        for (size_t j = 0; j < nw; j++) {
            uint64_t lost = s->gcmarkbits[j] & ~sv[k].bits[j];
            if (lost != 0) {
                uintptr_t idx = j * 64 + (uintptr_t)__builtin_ctzll(lost);
                print("runtime: checkmarks found unexpected unmarked object obj=%p\n",
                      (void *)(s->base + idx * s->elemsize));
                throw("checkmark found unmarked object");
            }
        }
        memcpy(s->gcmarkbits, sv[k].bits, nw * 8);
        free(sv[k].bits);
    }
    free(sv);
    atomic_store(&gort_heap_marked, marked);
    atomic_store(&gort_scanwork, scanwork);
    gort_scan_stacks_bytes = stacks;
    gort_scan_globals_bytes = globals;
}
