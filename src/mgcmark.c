/*
 * mgcmark.c — marking: from the roots, set the mark bit of every reachable
 * object (Go's mgcmark.go, with conservative roots).
 *
 * Runs with the world stopped, on the goroutine that started the cycle,
 * single-threaded: an explicit mark stack (a MAP_NORESERVE region, so no
 * recursion and no allocation), drained to empty.  Grey = on the stack;
 * black = marked and popped.
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
#include <sys/mman.h>

#define NO_SANITIZE __attribute__((no_sanitize("address", "thread", "undefined")))
#define MARKSTACK_BYTES ((size_t)4 << 30)

static uintptr_t *markstack;
static size_t markstack_n;
static size_t markstack_hiwater;
uint64_t gort_heap_marked;
uint64_t gort_scan_stacks_bytes, gort_scan_globals_bytes;

static inline void push(uintptr_t b)
{
    if (unlikely(markstack_n * sizeof(uintptr_t) >= MARKSTACK_BYTES))
        throw("runtime: mark stack overflow");
    markstack[markstack_n++] = b;
}

/* Marks the object holding p, if p points into one; queues it for scanning
 * if it may hold pointers. */
static inline void greyobject(uintptr_t p)
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
    if (*w & bit)
        return;
    *w |= bit;
    gort_heap_marked += s->divmul != 0 ? s->elemsize : s->npages * PAGE_SIZE;
    if (!spanclass_noscan(s->spanclass))
        push(s->base + idx * s->elemsize);
}

static void badpointer(uintptr_t slot, uintptr_t p)
{
    print("runtime: pointer %p to unallocated span\n", (void *)p);
    print("runtime: found in object at *(%p)\n", (void *)slot);
    throw("found bad pointer in Go heap");
}

/* A precise pointer slot (typed object). */
static inline void greyslot(uintptr_t slot)
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
    greyobject(p);
}

NO_SANITIZE static void scanblock(uintptr_t lo, uintptr_t hi)
{
    lo = (lo + 7) & ~(uintptr_t)7;
    for (uintptr_t a = lo; a + 8 <= hi; a += 8)
        greyobject(*(volatile uintptr_t *)a);
}

static void scantyped(uintptr_t b, uintptr_t size, const gort_type *t)
{
    uintptr_t tw = t->size / 8;
    for (uintptr_t e = b; e + t->size <= b + size; e += t->size) {
        uint64_t m = t->ptrmask;
        while (m != 0) {
            unsigned i = (unsigned)__builtin_ctzll(m);
            m &= m - 1;
            if (i < tw)
                greyslot(e + i * 8);
        }
        for (size_t k = 0; k < t->nptroffs; k++)
            greyslot(e + t->ptroffs[k]);
    }
}

void gort_scanobject(uintptr_t b)
{
    struct mspan *s = spanof_unchecked(b);
    if (s->divmul == 0) {
        if (s->kind == KIND_TYPED)
            scantyped(b, s->largesize, s->typ);
        else
            scanblock(b, b + s->largesize);
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
            uintptr_t p = ((uintptr_t *)b)[i + k];
            greyobject(p);
        }
        i += avail;
    }
}

void gort_markdrain(void)
{
    while (markstack_n > 0) {
        if (markstack_n > markstack_hiwater)
            markstack_hiwater = markstack_n;
        gort_scanobject(markstack[--markstack_n]);
    }
}

void gort_markobject(uintptr_t p) { greyobject(p); }
void gort_markblock(uintptr_t lo, uintptr_t hi) { scanblock(lo, hi); }

/* ---- stacks ------------------------------------------------------------- */

NO_SANITIZE static NOINLINE void scan_self(struct g *gp)
{
    /* Spill every callee-saved register into this frame, so that values
     * the callers keep only in registers are on the stack below. */
    __builtin_unwind_init();
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    scanblock(sp, gp->stack_hi);
    gort_scan_stacks_bytes += gp->stack_hi - sp;
}

void gort_scan_defers(struct g *gp, void (*scan)(uintptr_t lo, uintptr_t hi));

static void scanstacks(void)
{
    struct g *self = getg();
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        uint32_t st = readgstatus(gp);
        if (st == G_DEAD || st == G_IDLE)
            continue;
        gort_scan_defers(gp, scanblock);
        if (gp == self) {
            scan_self(gp);
        } else if (st == G_SYSCALL || st == G_RUNNING) {
            scanblock(gp->stack_lo, gp->stack_hi);
            scanblock((uintptr_t)gp->syscallregs, (uintptr_t)(gp->syscallregs + 6));
            gort_scan_stacks_bytes += gp->stack_hi - gp->stack_lo;
        } else {
            scanblock(gp->sched.sp, gp->stack_hi);
            gort_scan_stacks_bytes += gp->stack_hi - gp->sched.sp;
        }
    }
    /* Before gort_main, or on a thread the runtime does not know. */
    if (self == NULL || self->stack_hi == 0)
        throw("gc: cannot scan the calling stack");
}

/* ---- globals -------------------------------------------------------------- */

/* The heap's own metadata lives in the runtime's bss, and some of it points
 * into the heap without meaning "this object is live": mheap_.base is the
 * address of the first object.  Those words are skipped, or the first
 * object in the heap could never be collected.  Every other runtime global
 * that can point into the heap is a real reference and stays a root. */
static void scanglobals(uintptr_t lo, uintptr_t hi)
{
    uintptr_t xlo = (uintptr_t)&mheap_, xhi = xlo + sizeof mheap_;
    if (xhi <= lo || xlo >= hi) {
        scanblock(lo, hi);
        return;
    }
    if (lo < xlo)
        scanblock(lo, xlo);
    if (xhi < hi)
        scanblock(xhi, hi);
}

static int scanphdr(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        scanglobals(lo, lo + ph->p_memsz);
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
    if (markstack == NULL) {
        markstack = mmap(NULL, MARKSTACK_BYTES, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (markstack == MAP_FAILED)
            throw("runtime: cannot allocate the mark stack");
    }
    gort_heap_marked = 0;
    gort_scan_stacks_bytes = 0;
    gort_scan_globals_bytes = 0;
    markstack_n = 0;
    dl_iterate_phdr(scanphdr, NULL);
    gort_markdrain();
    scanstacks();
    gort_markdrain();
    gort_markroots_extra(); /* registered roots, uncollectables (mgc.c) */
    gort_markdrain();
    gort_markfinalizers(); /* mfinal.c: drains and queues */
    /* Give back the part of the mark stack a big mark touched. */
    size_t used = markstack_hiwater * sizeof(uintptr_t);
    if (used > ((size_t)1 << 20))
        madvise((char *)markstack + (1 << 20), used - (1 << 20), MADV_DONTNEED);
    markstack_hiwater = 0;
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
