/*
 * malloc.c — allocation (Go's mallocgc) and the allocation half of the API.
 *
 * Three paths, by size and kind:
 *   tiny   noscan requests under 16 bytes share a 16-byte block from the
 *          tiny span class, packed at their natural alignment (Go's tiny
 *          allocator: strings and small numbers cost a fraction of a slot;
 *          the block lives until every object in it is dead);
 *   small  up to 32 KiB: the size class's span in the P's mcache, whose
 *          next free slot is one ctz of allocCache away;
 *   large  above 32 KiB: a span of whole pages from mheap, its own object.
 *
 * Zeroing: every allocation is zeroed (Go's new/make).  Slots in spans that
 * never held data (fresh OS memory) are skipped, the needzero flag says.
 *
 * Pointer bits: for a small object in a scan span the words that may hold
 * pointers are recorded in heapbits at allocation, from the gort_type (or
 * all words, for the conservative kind).  The span's region of heapbits is
 * written only by the span's owner, so plain stores suffice.
 *
 * A collection may start at the end of an allocation that took a new span
 * (Go's shouldhelpgc): only then can heap_live have crossed the trigger,
 * and the new object is already in place and held in a local, which the
 * conservative scan of the current stack sees.
 *
 * Without a P (foreign threads, before gort_main) the shared gcache is used
 * under gcache_lock; the collector holds that lock while the world is
 * stopped, which is what stops those threads.
 */
#include "malloc.h"

#include <stdlib.h>

uint64_t zerobase;
_Atomic uint64_t heap_live;
#define gcache_lock gort_gcache_lock
struct mutex gcache_lock = MUTEX_INIT(LOCKRANK_GCACHE);
struct mcache *gort_gcache;

/* Writes nbits (1..64) of v at bit position bit of b. */
static inline void bits_write(uint64_t *b, uintptr_t bit, uint64_t v, unsigned nbits)
{
    uint64_t mask = nbits == 64 ? ~0ull : (1ull << nbits) - 1;
    v &= mask;
    uint64_t *w = &b[bit / 64];
    unsigned sh = bit % 64;
    w[0] = (w[0] & ~(mask << sh)) | (v << sh);
    if (sh != 0 && sh + nbits > 64)
        w[1] = (w[1] & ~(mask >> (64 - sh))) | (v >> (64 - sh));
}

static void heapbits_set(uintptr_t x, uintptr_t elemsize, uint8_t kind, const gort_type *typ,
                         size_t n)
{
    uint64_t *hb = mheap_.heapbits;
    uintptr_t w = (x - mheap_.base) / 8, nw = elemsize / 8;
    if (kind == KIND_CONSERVATIVE) {
        for (uintptr_t i = 0; i < nw; i += 64)
            bits_write(hb, w + i, ~0ull, nw - i < 64 ? (unsigned)(nw - i) : 64);
        return;
    }
    uintptr_t tw = typ->size / 8;
    if (n == 1 && tw <= 64 && typ->nptroffs == 0 && nw <= 64) {
        bits_write(hb, w, typ->ptrmask, (unsigned)nw);
        return;
    }
    for (uintptr_t i = 0; i < nw; i += 64)
        bits_write(hb, w + i, 0, nw - i < 64 ? (unsigned)(nw - i) : 64);
    for (size_t e = 0; e < n; e++) {
        uintptr_t ew = w + e * tw;
        bits_write(hb, ew, typ->ptrmask, tw < 64 ? (unsigned)tw : 64);
        for (size_t k = 0; k < typ->nptroffs; k++) {
            uintptr_t b = ew + typ->ptroffs[k] / 8;
            hb[b / 64] |= 1ull << (b % 64);
        }
    }
}

/* The slow half of nextfreefast: walks allocBits past exhausted cache
 * words.  Returns the slot index, or s->nelems when the span is full. */
static uint32_t span_nextfree(struct mspan *s)
{
    for (;;) {
        uint64_t cache = s->alloccache;
        if (cache != 0) {
            unsigned bit = (unsigned)__builtin_ctzll(cache);
            uint32_t idx = s->freeindex + bit;
            if (idx >= s->nelems) {
                s->freeindex = s->nelems;
                return s->nelems;
            }
            s->freeindex = idx + 1;
            if (s->freeindex % 64 == 0)
                span_refill_alloccache(s);
            else
                s->alloccache = (cache >> bit) >> 1;
            s->alloccount++;
            return idx;
        }
        s->freeindex = (s->freeindex & ~63u) + 64;
        if (s->freeindex >= s->nelems) {
            s->freeindex = s->nelems;
            return s->nelems;
        }
        span_refill_alloccache(s);
    }
}

static inline uintptr_t nextfreefast(struct mspan *s)
{
    uint64_t cache = s->alloccache;
    if (likely(cache != 0)) {
        unsigned bit = (unsigned)__builtin_ctzll(cache);
        uint32_t idx = s->freeindex + bit;
        if (likely(idx < s->nelems)) {
            s->freeindex = idx + 1;
            if (unlikely(s->freeindex % 64 == 0))
                span_refill_alloccache(s);
            else
                s->alloccache = (cache >> bit) >> 1;
            s->alloccount++;
            return s->base + idx * s->elemsize;
        }
    }
    return 0;
}

/* A free slot of span class spc; *refilled is set if a new span was taken. */
static uintptr_t nextfree(struct mcache *c, uint8_t spc, bool *refilled)
{
    struct mspan *s = c->alloc[spc];
    uint32_t idx = s == &emptymspan ? 0 : span_nextfree(s);
    if (s == &emptymspan || idx == s->nelems) {
        mcache_refill(c, spc);
        *refilled = true;
        s = c->alloc[spc];
        idx = span_nextfree(s);
        if (idx == s->nelems)
            throw("nextfree: fresh span is full");
    }
    return s->base + idx * s->elemsize;
}

/* Allocate black: an object made while marking is marked at birth, so the
 * marker never has to trace it (mgcmark.c's essay). */
static NOINLINE void gcmarknewobject(struct mcache *c, uintptr_t x)
{
    struct mspan *s = spanof_unchecked(x);
    uintptr_t idx = s->divmul != 0 ? span_objindex(s, x) : 0;
    __atomic_fetch_or(&s->gcmarkbits[idx / 64], 1ull << (idx % 64), __ATOMIC_RELAXED);
    c->blackbytes += s->divmul != 0 ? s->elemsize : s->npages * PAGE_SIZE;
}

static NOINLINE void *malloc_large(struct mcache *c, size_t size, uint8_t kind,
                                   const gort_type *typ)
{
    if (size > HEAP_MAX_BYTES)
        fatal("runtime: out of memory: cannot allocate that much");
    uintptr_t npages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    sweep_reclaim(npages);
    struct largespec ls = {kind, typ, size};
    struct mspan *s = mheap_alloc(npages, make_spanclass(0, kind == KIND_NOSCAN), &ls);
    if (s->needzero)
        memset((void *)s->base, 0, size);
    if (atomic_load_explicit(&gcblack, memory_order_relaxed))
        gcmarknewobject(c, s->base);
    c->nlargealloc++;
    c->largealloc_bytes += npages * PAGE_SIZE;
    atomic_fetch_add(&heap_live, npages * PAGE_SIZE);
    mcentral_push(&mheap_.central[s->spanclass], s);
    return (void *)s->base;
}

/* Zeroes a small object: the smallest classes with plain stores, which
 * cost less than the call to memset (a tenth of allocating 16 bytes). */
static inline void zero_small(uintptr_t x, uintptr_t size)
{
    if (size <= 32) { /* classes 8, 16, 24, 32 */
        uint64_t *w = (uint64_t *)x;
        w[0] = 0;
        if (size >= 16)
            w[1] = 0;
        if (size >= 24)
            w[2] = 0;
        if (size >= 32)
            w[3] = 0;
        return;
    }
    memset((void *)x, 0, size);
}

static inline void *mallocgc_c(struct mcache *c, size_t size, uint8_t kind,
                               const gort_type *typ, size_t n, bool *refilled)
{
    if (kind == KIND_NOSCAN && size < TINY_SIZE) {
        uintptr_t off = c->tinyoffset;
        if ((size & 7) == 0)
            off = (off + 7) & ~(uintptr_t)7;
        else if ((size & 3) == 0)
            off = (off + 3) & ~(uintptr_t)3;
        else if ((size & 1) == 0)
            off = (off + 1) & ~(uintptr_t)1;
        if (off + size <= TINY_SIZE && c->tiny != 0) {
            c->tinyoffset = off + size;
            c->tinyallocs++;
            return (void *)(c->tiny + off);
        }
        struct mspan *s = c->alloc[TINY_SPAN_CLASS];
        uintptr_t x = nextfreefast(s);
        if (x == 0) {
            x = nextfree(c, TINY_SPAN_CLASS, refilled);
            s = c->alloc[TINY_SPAN_CLASS];
        }
        if (s->needzero) {
            ((uint64_t *)x)[0] = 0;
            ((uint64_t *)x)[1] = 0;
        }
        if (unlikely(atomic_load_explicit(&gcblack, memory_order_relaxed)))
            gcmarknewobject(c, x);
        if (size < c->tinyoffset || c->tiny == 0) {
            c->tiny = x;
            c->tinyoffset = size;
        }
        return (void *)x;
    }
    if (size <= MAX_SMALL_SIZE) {
        uint8_t spc = make_spanclass(size_to_class(size), kind == KIND_NOSCAN);
        struct mspan *s = c->alloc[spc];
        uintptr_t x = nextfreefast(s);
        if (x == 0) {
            x = nextfree(c, spc, refilled);
            s = c->alloc[spc];
        }
        if (s->needzero)
            zero_small(x, s->elemsize);
        if (kind != KIND_NOSCAN)
            heapbits_set(x, s->elemsize, kind, typ, n);
        if (unlikely(atomic_load_explicit(&gcblack, memory_order_relaxed)))
            gcmarknewobject(c, x);
        return (void *)x;
    }
    *refilled = true;
    return malloc_large(c, size, kind, typ);
}

static NOINLINE void *malloc_nop(size_t size, uint8_t kind, const gort_type *typ, size_t n)
{
    bool refilled = false;
    malloc_init();
    lock(&gcache_lock);
    if (gort_gcache == NULL)
        gort_gcache = mcache_alloc();
    void *x = mallocgc_c(gort_gcache, size, kind, typ, n, &refilled);
    unlock(&gcache_lock);
    return x;
}

/* After a refill: pay the assist for the new span while marking, start a
 * cycle if the heap reached its trigger (or, with gcstress, every N
 * allocations), and yield here if another goroutine is stopping the world
 * or sysmon asked this one to (its slice is over).  Allocation never
 * switches otherwise, and a preemption signal that lands in the runtime is
 * ignored: an allocating loop, which spends much of its time in malloc,
 * would hold its P for several of sysmon's 10 ms ticks, stretching every
 * pause, growing the heap, and keeping runnable goroutines waiting (Go
 * preempts it at its next call).  x is the new object, live across all of
 * it.  errno is safe: the runtime's futex calls keep it. */
static NOINLINE void malloc_slow_checks(void *x, bool refilled)
{
    if (refilled) {
        gort_gcassist(spanof_unchecked((uintptr_t)x)->npages * PAGE_SIZE);
        gc_trigger_check();
    }
    if (debug.gcstress > 0)
        gort_gcstress_tick();
    struct g *gp = getg();
    if ((atomic_load_explicit(&sched.gcwaiting, memory_order_relaxed) ||
         __atomic_load_n(&gp->preempt, __ATOMIC_RELAXED)) &&
        gp->m->locks == 0 && gp != gp->m->g0)
        gort_gosched();
    gort_keep_alive(x);
}

static inline void *mallocgc(size_t size, uint8_t kind, const gort_type *typ, size_t n)
{
    if (unlikely(size == 0))
        return &zerobase;
    struct g *gp = getg();
    struct p *pp;
    if (unlikely(gp == NULL || (pp = gp->m->p) == NULL))
        return malloc_nop(size, kind, typ, n);
    bool refilled = false;
    void *x = mallocgc_c(pp->mcache, size, kind, typ, n, &refilled);
    if (unlikely(refilled | (debug.gcstress > 0)))
        malloc_slow_checks(x, refilled);
    return x;
}

void *gort_malloc(size_t size) { return mallocgc(size, KIND_CONSERVATIVE, NULL, 1); }

void *gort_malloc_noscan(size_t size) { return mallocgc(size, KIND_NOSCAN, NULL, 1); }

void *gort_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        panic_error("makeslice: len out of range");
    return mallocgc(n * size, KIND_CONSERVATIVE, NULL, 1);
}

void *mallocgc_lined(size_t size)
{
    /* Spans start on a page, so every object of a class whose size is a
     * multiple of 64 is line-aligned; large objects start on a page. */
    if (size <= MAX_SMALL_SIZE) {
        size = (size + 63) & ~(size_t)63;
        while (class_to_size[size_to_class(size)] % 64 != 0)
            size += 64;
    }
    return mallocgc(size, KIND_CONSERVATIVE, NULL, 1);
}

static inline uint8_t type_kind(const gort_type *t)
{
    return t->ptrmask == 0 && t->nptroffs == 0 ? KIND_NOSCAN : KIND_TYPED;
}

void *gort_new(const gort_type *t) { return mallocgc(t->size, type_kind(t), t, 1); }

void *gort_new_array(const gort_type *t, size_t n)
{
    if (t->size != 0 && n > SIZE_MAX / t->size)
        panic_error("makeslice: len out of range");
    return mallocgc(n * t->size, type_kind(t), t, n);
}

void gort_keep_alive(const void *p)
{
    /* An opaque use: p must be live (in a register or slot) up to here. */
    __asm__ volatile("" : : "r"(p) : "memory");
}
