/*
 * malloc.h — the memory subsystem's internal interface: size classes, spans,
 * the page allocator, mheap, mcentral, mcache, and what the collector
 * (mgc*.c) needs from them.
 *
 * The design is Go's (src/runtime/malloc.go, mheap.go, mcentral.go):
 *
 *   mcache    per P, no lock: one span per span class to carve objects from,
 *             and the tiny block.  The fast path is an index into the span's
 *             64-bit allocCache (ctz), no atomics.
 *   mcentral  per span class (136 = 68 size classes x scan/noscan), under a
 *             lock: the spans with free slots and the full ones, each split
 *             into swept and unswept by the parity of the sweep generation.
 *   mheap     the pages: one address-space reservation, grown in 64 MiB
 *             arenas, handed out in runs of 8 KiB pages by a bitmap page
 *             allocator (mpagealloc.c) under mheap.lock.  spans[] maps every
 *             page of an in-use span to it, which is what lets the collector
 *             turn any word that looks like a pointer (interior or not) into
 *             an object: spanof + a multiply by the span's divmagic.
 *
 * Why one reservation and not Go's sparse arena index: C programs have no
 * compiler-enforced layout to keep away from, and a single range makes
 * "is this word in the heap?" one subtraction and one compare, the hottest
 * test of conservative scanning.  The cost is a fixed ceiling on the heap
 * (HEAP_MAX_BYTES) and address space held from the start (PROT_NONE,
 * MAP_NORESERVE: no memory, no overcommit charge).
 *
 * Pointer information.  A span's class says scan or noscan.  Small objects
 * in scan spans carry one bit per word in heapbits (1 = may hold a pointer),
 * written at allocation from the object's gort_type (or all ones for the
 * conservative kind).  A large object is its own span and records its kind
 * and type in the span, so a 1 GiB array costs no bitmap writes.
 *
 * Sweep generations (Go's): with sg = mheap.sweepgen, a span with
 * sweepgen == sg-2 needs sweeping, sg-1 is being swept, sg is swept.  A
 * cycle adds 2 at mark termination, with the world stopped and every mcache
 * flushed, so every span turns "unswept" at once and no span is cached.
 */
#ifndef GORT_MALLOC_H
#define GORT_MALLOC_H

#include "runtime.h"

#define PAGE_SHIFT 13
#define PAGE_SIZE ((uintptr_t)1 << PAGE_SHIFT)
#define NUM_SIZE_CLASSES 68
#define MAX_SMALL_SIZE 32768
#define SMALL_SIZE_DIV 8
#define SMALL_SIZE_MAX 1024
#define LARGE_SIZE_DIV 128
#define NUM_SPAN_CLASSES (NUM_SIZE_CLASSES * 2)
#define TINY_SIZE 16
#define TINY_SPAN_CLASS ((2 << 1) | 1) /* size class 2 (16 bytes), noscan */
#define ARENA_SHIFT 26                 /* 64 MiB, Go's heapArenaBytes on linux/amd64 */
#define ARENA_BYTES ((uintptr_t)1 << ARENA_SHIFT)
#define PAGES_PER_ARENA (ARENA_BYTES / PAGE_SIZE)
#define HEAP_MAX_BYTES ((uintptr_t)512 << 30)
#define MAX_OBJS_PER_SPAN (PAGE_SIZE / 8)
#define CHUNK_PAGES 512 /* the page allocator's summary granule (4 MiB) */

/* ---- size classes (sizeclasses.c: Go's table, numbers transcribed) ----- */
#define class_to_size gort_class_to_size
#define class_to_allocnpages gort_class_to_allocnpages
#define class_to_divmagic gort_class_to_divmagic
#define size_to_class8 gort_size_to_class8
#define size_to_class128 gort_size_to_class128
extern const uint16_t class_to_size[NUM_SIZE_CLASSES];
extern const uint8_t class_to_allocnpages[NUM_SIZE_CLASSES];
extern const uint32_t class_to_divmagic[NUM_SIZE_CLASSES];
extern const uint8_t size_to_class8[SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
extern const uint8_t size_to_class128[(MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];

/* The size class of a small size (1 <= size <= MAX_SMALL_SIZE). */
static inline uint32_t size_to_class(uintptr_t size)
{
    if (size <= SMALL_SIZE_MAX - 8)
        return size_to_class8[(size + SMALL_SIZE_DIV - 1) / SMALL_SIZE_DIV];
    return size_to_class128[(size - SMALL_SIZE_MAX + LARGE_SIZE_DIV - 1) / LARGE_SIZE_DIV];
}

static inline uint8_t make_spanclass(uint32_t sizeclass, bool noscan)
{
    return (uint8_t)(sizeclass << 1 | (noscan ? 1 : 0));
}
static inline uint32_t spanclass_size(uint8_t spc) { return spc >> 1; }
static inline bool spanclass_noscan(uint8_t spc) { return spc & 1; }

/* ---- page allocator (mpagealloc.c) --------------------------------------
 * A bitmap over page indices [0, maxpages) with per-chunk summaries; see
 * the essay in mpagealloc.c.  Not locked itself: mheap.lock protects it. */
struct pasum {
    uint16_t start, max, end; /* free-run lengths at the start, anywhere, at the end */
};
struct pagealloc {
    uint64_t *inuse;       /* 1: allocated, or beyond npages */
    uint64_t *scav;        /* 1: free and returned to the OS */
    uint64_t *dirty;       /* 1: may hold nonzero bytes */
    struct pasum *sums;    /* per chunk of CHUNK_PAGES */
    uintptr_t npages;      /* pages grown, a multiple of CHUNK_PAGES */
    uintptr_t maxpages;    /* capacity */
    uintptr_t searchpage;  /* every page below it is in use */
    uintptr_t nfree;       /* free pages */
    uintptr_t nscav;       /* free pages returned to the OS */
};
#define PA_FAIL UINTPTR_MAX
#define pagealloc_metasize gort_pagealloc_metasize
#define pagealloc_init gort_pagealloc_init
#define pagealloc_grow gort_pagealloc_grow
#define pagealloc_alloc gort_pagealloc_alloc
#define pagealloc_free gort_pagealloc_free
#define pagealloc_scav_take gort_pagealloc_scav_take
#define pagealloc_scav_done gort_pagealloc_scav_done
/* The bitmaps come from `mem` (zeroed, sized by pagealloc_metasize). */
size_t pagealloc_metasize(uintptr_t maxpages);
void pagealloc_init(struct pagealloc *pa, uintptr_t maxpages, void *mem);
/* Makes pages [npages, npages+n) usable (n a multiple of CHUNK_PAGES). */
void pagealloc_grow(struct pagealloc *pa, uintptr_t n);
/* First fit: the lowest run of n free pages, or PA_FAIL.  *scav gets how
 * many of them had been returned to the OS, *needzero whether any may be
 * dirty. */
uintptr_t pagealloc_alloc(struct pagealloc *pa, uintptr_t n, uintptr_t *scav, bool *needzero);
void pagealloc_free(struct pagealloc *pa, uintptr_t i, uintptr_t n);
/* Scavenging: takes (marks in use) the highest run of at most max free,
 * unscavenged pages and returns its first index (PA_FAIL if none) and its
 * length in *n; the caller releases the memory without the lock, then gives
 * the run back with pagealloc_scav_done. */
uintptr_t pagealloc_scav_take(struct pagealloc *pa, uintptr_t max, uintptr_t *n);
void pagealloc_scav_done(struct pagealloc *pa, uintptr_t i, uintptr_t n);

/* ---- spans ---------------------------------------------------------------- */
enum { SPAN_DEAD = 0, SPAN_INUSE = 1 };
enum { KIND_NOSCAN = 0, KIND_CONSERVATIVE = 1, KIND_TYPED = 2 };

struct spanlist {
    struct mspan *first;
};

struct mspan {
    struct mspan *next, *prev; /* in an mcentral list or the free-struct list */
    struct spanlist *list;     /* the list it is on, or NULL (cached, or being swept) */
    uintptr_t base;            /* first byte */
    uintptr_t npages;
    uintptr_t limit;           /* end of the last object */
    uintptr_t elemsize;
    uint32_t divmul;           /* (off * divmul) >> 32 == off / elemsize */
    uint32_t nelems;
    /* Allocation state, owned by the mcache holding the span (or by the
     * sweeper/mcentral under its lock when not cached): slots below
     * freeindex are allocated; at or above, allocbits says.  alloccache
     * is ~allocbits[freeindex/64 ...] shifted so bit 0 is freeindex. */
    uint32_t freeindex;
    uint32_t alloccount;
    uint64_t alloccache;
    uint64_t *allocbits;  /* points into bits[] */
    uint64_t *gcmarkbits; /* points into bits[]; written by the marker */
    _Atomic uint32_t sweepgen;
    uint8_t spanclass;
    uint8_t state;        /* SPAN_* */
    uint8_t kind;         /* large objects: KIND_*; small: unused */
    bool needzero;        /* freed slots may hold old bytes */
    const gort_type *typ; /* large KIND_TYPED objects */
    uintptr_t largesize;  /* large objects: the size asked for */
    uint64_t bits[2][MAX_OBJS_PER_SPAN / 64];
};

/* ---- mcentral (mcentral.c) ------------------------------------------------ */
struct mcentral {
    struct mutex lock;
    uint8_t spanclass;
    /* [sweepgen/2 % 2] swept, the other unswept. */
    struct spanlist partial[2];
    struct spanlist full[2];
};
#define mcentral_cachespan gort_mcentral_cachespan
#define mcentral_uncachespan gort_mcentral_uncachespan
#define mcentral_push gort_mcentral_push
struct mspan *mcentral_cachespan(struct mcentral *c);
void mcentral_uncachespan(struct mcentral *c, struct mspan *s);
/* Puts a swept span on the right swept list (sweep, large alloc). */
void mcentral_push(struct mcentral *c, struct mspan *s);

/* ---- mcache (mcache.c) --------------------------------------------------- */
struct mcache {
    uintptr_t tiny;        /* the current tiny block, or 0 */
    uintptr_t tinyoffset;  /* its first free byte */
    uint64_t tinyallocs;   /* objects packed into tiny blocks */
    struct mspan *alloc[NUM_SPAN_CLASSES]; /* never NULL: &emptymspan when none */
    /* Statistics, owner only; summed with the world stopped. */
    uint64_t nsmallalloc[NUM_SIZE_CLASSES]; /* objects handed out (net of flushes) */
    uint64_t nlargealloc;
    uint64_t largealloc_bytes;
    uint64_t blackbytes; /* allocated black this cycle; taken at mark termination */
};
#define emptymspan gort_emptymspan
#define mcache_alloc gort_mcache_alloc
#define mcache_refill gort_mcache_refill
#define mcache_flush gort_mcache_flush
extern struct mspan emptymspan;
struct mcache *mcache_alloc(void);
/* Replaces c->alloc[spc] by a span with a free slot. */
void mcache_refill(struct mcache *c, uint8_t spc);
/* Gives every cached span back and drops the tiny block (GC, P destroyed). */
void mcache_flush(struct mcache *c);

/* ---- mheap (mheap.c) ------------------------------------------------------ */
struct mheap {
    struct mutex lock;
    uintptr_t base;         /* the reservation; never changes after init */
    uintptr_t used;         /* bytes grown (arenas mapped read-write) */
    struct pagealloc pages;
    struct mspan **spans;   /* [HEAP_MAX_BYTES / PAGE_SIZE] */
    uint64_t *heapbits;     /* one bit per heap word */
    struct mspan *spanfree; /* free span structs */
    _Atomic uint32_t sweepgen;
    struct mcentral central[NUM_SPAN_CLASSES];
    /* Statistics (lock): */
    uintptr_t pages_inuse;
    uintptr_t nspans_inuse, nspans_sys;
    _Atomic uint64_t gc_sys, other_sys, mcache_sys, mcache_inuse;
};
extern struct mheap mheap_ __asm__("gort_mheap");
#define mheap_alloc gort_mheap_alloc
#define mheap_free gort_mheap_free
#define mheap_scavenge gort_mheap_scavenge
#define malloc_init gort_malloc_init
#define sysalloc gort_sysalloc
#define persistentalloc gort_persistentalloc
void malloc_init(void);
/* Maps n bytes of zeroed metadata memory from the OS; stat is credited. */
void *sysalloc(size_t n, _Atomic uint64_t *stat);
/* Small metadata that is never freed. */
void *persistentalloc(size_t n, _Atomic uint64_t *stat);
/* A span of npages pages for span class spc, initialised (bits, divmagic,
 * sweepgen), or throws out of memory. */
/* A large object's span: the object is in place (allocated) before the
 * span is published to concurrent markers. */
struct largespec {
    uint8_t kind;
    const gort_type *typ;
    uintptr_t size;
};
struct mspan *mheap_alloc(uintptr_t npages, uint8_t spc, const struct largespec *large);
void mheap_free(struct mspan *s);
/* Returns up to nbytes of free memory to the OS (all of it if nbytes is
 * UINTPTR_MAX); returns what it released. */
uintptr_t mheap_scavenge(uintptr_t nbytes);

static inline struct mspan *spanof_unchecked(uintptr_t p)
{
    return mheap_.spans[(p - mheap_.base) >> PAGE_SHIFT];
}
/* The in-use span holding p, or NULL: any word can be asked. */
static inline struct mspan *spanof(uintptr_t p)
{
    uintptr_t off = p - mheap_.base;
    if (off >= mheap_.used)
        return NULL;
    struct mspan *s = mheap_.spans[off >> PAGE_SHIFT];
    if (s == NULL || s->state != SPAN_INUSE || p >= s->limit)
        return NULL;
    return s;
}
static inline uintptr_t span_objindex(struct mspan *s, uintptr_t p)
{
    return (uintptr_t)(((uint64_t)(p - s->base) * s->divmul) >> 32);
}
static inline bool span_isallocated(struct mspan *s, uintptr_t idx)
{
    return idx < s->freeindex || (s->allocbits[idx / 64] >> (idx % 64) & 1);
}
/* Refills s->alloccache from allocbits at s->freeindex (a multiple of 64
 * or 0). */
static inline void span_refill_alloccache(struct mspan *s)
{
    uint32_t w = s->freeindex / 64;
    s->alloccache = w < MAX_OBJS_PER_SPAN / 64 ? ~s->allocbits[w] : 0;
}

/* ---- malloc.c / gc entry points ----------------------------------------- */
#define mallocgc_lined gort_mallocgc_lined
/* A zeroed, conservatively scanned object of at least size (> 0) bytes at
 * a 64-byte-aligned address (channels: the hot header is one line). */
void *mallocgc_lined(size_t size);
#define zerobase gort_zerobase
extern uint64_t zerobase;
#define heap_live gort_heap_live
extern _Atomic uint64_t heap_live; /* bytes in spans handed to mcaches + large objects */

/* Statistics kept by sweeping (mgcsweep.c), atomics. */
struct sweepstats {
    _Atomic uint64_t nfreed[NUM_SIZE_CLASSES]; /* small objects freed, by class */
    _Atomic uint64_t nlargefree;
    _Atomic uint64_t largefree_bytes;
};
extern struct sweepstats sweepstats __asm__("gort_sweepstats");

/* mgcsweep.c */
#define sweepspan gort_sweepspan
#define sweepone gort_sweepone
#define sweep_reclaim gort_sweep_reclaim
/* Sweeps s (the caller owns it: sweepgen is sg-1).  Returns false if the
 * span was freed to the heap.  With keep, a small span is not freed even
 * if empty (the caller wants its slots). */
bool sweepspan(struct mspan *s, bool keep);
/* Sweeps one span; returns its pages, or (uintptr_t)-1 if nothing is left. */
uintptr_t sweepone(void);
#define span_ensure_swept gort_span_ensure_swept
/* Returns when s is swept in this generation. */
void span_ensure_swept(struct mspan *s);
/* Sweeps until npages pages were swept or nothing is left. */
void sweep_reclaim(uintptr_t npages);

/* mgc.c: while marking, new objects are born marked (allocate black). */
#define gcblack gort_gcblack
extern _Atomic bool gcblack;
/* mgc.c: an allocating goroutine's share of the marking for bytes taken. */
void gort_gcassist(uintptr_t bytes);
/* mgc.c: GODEBUG=gcstress=N counts an allocation. */
void gort_gcstress_tick(void);

/* mgc.c: called where a span was handed out; may start a cycle. */
#define gc_trigger_check gort_gc_trigger_check
#define gc_trigger gort_gc_trigger
extern _Atomic uint64_t gc_trigger; /* start a cycle when heap_live reaches it */
void gc_trigger_check(void);

#endif /* GORT_MALLOC_H */
