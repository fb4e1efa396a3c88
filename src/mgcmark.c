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
 * Checkmark (GODEBUG=gccheckmark=1): after the final pause's mark, with the
 * world still stopped, the mark bits are set aside, everything is marked
 * again from scratch and single-threaded, and any object marked by that
 * pass but not by the concurrent one is a lost object: fatal.
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
 * registered roots): the leader's, set by whoever runs those. */
static struct gcwork *curw;

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
    atomic_fetch_add_explicit(&wpool.nfull, 1, memory_order_relaxed);
    unlock(&wpool.lock);
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
        lock(&wpool.lock);
        if (b != NULL && b->n > 0) {
            b->next = wpool.full;
            wpool.full = b;
            atomic_fetch_add_explicit(&wpool.nfull, 1, memory_order_relaxed);
        } else if (b != NULL) {
            b->next = wpool.empty;
            wpool.empty = b;
        }
        if (w->busy) {
            w->busy = false;
            wpool.nbusy--;
        }
        unlock(&wpool.lock);
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

/* Sets the mark bit of object idx of s; true if this call set it. */
/* Sets the mark bit of object idx of s; true if this call set it.  With
 * the world stopped there is one marker and no allocation: a plain store
 * (the locked instruction is a tenth of the marker's time otherwise). */
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
        !setmark(s, idx, w->stw))
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

NO_SANITIZE static NOINLINE void scan_self(struct gcwork *w, struct g *gp)
{
    /* Spill every callee-saved register into this frame, so that values
     * the callers keep only in registers are on the stack below. */
    __builtin_unwind_init();
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    scanblock(w, sp, gp->stack_hi);
    scanblock(w, (uintptr_t)gp, (uintptr_t)(gp + 1));
    gort_scan_stacks_bytes += gp->stack_hi - sp;
}

void gort_scan_defers(struct g *gp, void (*scan)(uintptr_t lo, uintptr_t hi));

/* The stack of gp, stopped or running C code without a P; the world is
 * stopped, or gp is parked (the caller made sure). */
NO_SANITIZE static void scanstack(struct gcwork *w, struct g *gp, uint32_t st)
{
    if (st == G_SYSCALL || st == G_RUNNING) {
        scanblock(w, gp->stack_lo, gp->stack_hi);
        scanblock(w, (uintptr_t)gp->syscallregs, (uintptr_t)(gp->syscallregs + 6));
        gort_scan_stacks_bytes += gp->stack_hi - gp->stack_lo;
    } else {
        /* Read racily by a concurrent scan (the g may have run, exited
         * and been reused since its status was read; then its scan
         * generation is gone and the final pause scans it again), so the
         * range is checked before it is read. */
        uintptr_t sp = *(volatile uintptr_t *)&gp->sched.sp;
        if (sp < gp->stack_lo || sp > gp->stack_hi)
            return;
        scanblock(w, sp, gp->stack_hi);
        gort_scan_stacks_bytes += gp->stack_hi - sp;
    }
    /* The g record too: what the runtime parks there (the sudogs of a
     * select in g.waiting, a waker's g.param_sg, the start argument) may
     * be held nowhere else.  It sits in the stack slot's top page, so
     * writes to it are tracked with the stack. */
    scanblock(w, (uintptr_t)gp, (uintptr_t)(gp + 1));
}

static void scandefer_cb(uintptr_t lo, uintptr_t hi) { scanblock(curw, lo, hi); }

/* World stopped: every stack not clean in generation gen (gen 0: all),
 * and every goroutine's defer records.  self (if not NULL) is the calling
 * goroutine, scanned from here; skip is a goroutine not to scan at all
 * (the mark worker, which holds no program pointers). */
NO_SANITIZE static void scanstacks_stw(struct gcwork *w, uint32_t gen, struct g *self, struct g *skip)
{
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        uint32_t st = readgstatus(gp);
        if (st == G_DEAD || st == G_IDLE)
            continue;
        curw = w;
        gort_scan_defers(gp, scandefer_cb);
        if (gp == skip)
            continue;
        if (gp == self)
            scan_self(w, gp);
        else if (gen == 0 || gp->gcscangen == NULL ||
                 atomic_load_explicit(gp->gcscangen, memory_order_relaxed) != gen)
            scanstack(w, gp, st);
    }
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

/* The heap's own metadata lives in the runtime's bss, and some of it points
 * into the heap without meaning "this object is live": mheap_.base is the
 * address of the first object.  Those words are skipped, or the first
 * object in the heap could never be collected.  Every other runtime global
 * that can point into the heap is a real reference and stays a root. */
static void scanglobals(struct gcwork *w, uintptr_t lo, uintptr_t hi)
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

/* World stopped: the rest of the roots and the final drain.  With gen 0
 * every stack is scanned (the stop-the-world collector). */
static void markroots_stw(struct gcwork *w, uint32_t gen, struct g *self, struct g *skip,
                          bool fresh)
{
    if (fresh)
        reset_stats();
    uintptr_t globals = gort_scan_globals_bytes;
    dl_iterate_phdr(scanphdr, w);
    if (!fresh)
        gort_scan_globals_bytes = globals; /* counted once per cycle */
    gcdrain(w, -1, false);
    scanstacks_stw(w, gen, self, skip);
    gcdrain(w, -1, false);
    curw = w;
    gort_markroots_extra(); /* registered roots, uncollectables (mgc.c) */
    gcdrain(w, -1, false);
}

/* The final pause of a concurrent cycle: the last dirty pages, then the
 * untracked roots, then what finalizer-bearing objects reach.  With
 * checkmark, the verification comes next, before any finalizer is queued:
 * queueing marks the unreachable finalizer objects, which would hide a
 * lost one from the check.  Then the queueing. */
void gort_markterm(struct g *skip, uint32_t gen, bool checkmark)
{
    struct gcwork w = {.stw = true};
    /* Stacks written by others are not clean; without stack tracking none
     * is (gen 0: every stack). */
    if (!stack_dirty_collect())
        gen = 0;
    gort_markdirty(&w, false);
    markroots_stw(&w, gen, NULL, skip, false);
    curw = &w;
    gort_markfinalizers(false);
    if (checkmark)
        gort_checkmark(skip);
    curw = &w;
    gort_markfinalizers(true);
    gcw_dispose(&w);
}

/* The stop-the-world collector (gcstoptheworld, or no dirty tracking). */
void gort_gcmark(void)
{
    struct gcwork w = {.stw = true};
    markroots_stw(&w, 0, getg(), NULL, true);
    curw = &w;
    gort_markfinalizers(true);
    gcw_dispose(&w);
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

/* World stopped, in gort_markterm: marks everything again from the roots
 * and throws if that finds an object the concurrent mark did not. */
void gort_checkmark(struct g *skip)
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
    struct gcwork w = {.stw = true};
    markroots_stw(&w, 0, NULL, skip, true);
    curw = &w;
    gort_markfinalizers(false);
    gcw_dispose(&w);
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
