/*
 * mheap.c — the heap's pages and the span structs that describe them.
 *
 * At start-up one range of HEAP_MAX_BYTES is reserved (PROT_NONE,
 * MAP_NORESERVE) together with its side tables, each a MAP_NORESERVE
 * mapping sized for the whole range so that it is indexed without checks
 * and costs memory only where the heap has grown:
 *   spans[]    one struct mspan * per page (8 bytes per 8 KiB);
 *   heapbits   one pointer bit per word (1/64 of the heap);
 *   pagealloc  the page bitmaps and chunk summaries (mpagealloc.c).
 * The heap grows in 4 MiB steps (one page-allocator chunk, mprotect to
 * read-write), as Go's mheap.grow maps its arenas in: HeapSys then moves in
 * Go's steps, and a program with a 5 MiB heap is not charged 64 MiB (Go's
 * TestGcSys allows 16 MiB of growth).  Adjacent grown ranges merge into one
 * mapping, so the steps cost no VMAs.
 *
 * Span structs come from persistentalloc and are recycled through a free
 * list; they are metadata outside the heap, never scanned, and pointers to
 * them (from mcaches, lists) are invisible to the collector by design.
 *
 * Locking: mheap.lock covers the page allocator, spans[] writes, the span
 * free list and the page statistics.  spans[] is read without the lock by
 * the marker (world stopped) and by spanof on a live object's address (its
 * entries cannot change while the object is live).
 *
 * Returning memory: mheap_scavenge takes free runs from the top of the heap
 * under the lock, releases them with madvise without it (MADV_FREE, or
 * MADV_DONTNEED with GODEBUG=madvdontneed=1) and marks them scavenged.  The
 * background scavenger (mgc.c) and gort_debug_free_os_memory call it.
 */
#include "malloc.h"
#include "mgcdirty.h"

#include <sys/mman.h>

struct mheap mheap_ __asm__("gort_mheap");
static struct mutex persistent_lock = MUTEX_INIT(LOCKRANK_PERSISTENT);
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void *reserve(size_t n)
{
    void *p = mmap(NULL, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        throw("runtime: cannot reserve heap address space");
    return p;
}

void *sysalloc(size_t n, _Atomic uint64_t *stat)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        throw("runtime: out of memory");
    if (stat != NULL)
        atomic_fetch_add_explicit(stat, n, memory_order_relaxed);
    return p;
}

void *persistentalloc(size_t n, _Atomic uint64_t *stat)
{
    static char *cur, *end;
    n = (n + 63) & ~(size_t)63; /* whole cache lines: per-P data never shares one */
    lock(&persistent_lock);
    if (cur == NULL || (size_t)(end - cur) < n) {
        size_t chunk = n > (256u << 10) ? n : (256u << 10);
        cur = sysalloc(chunk, NULL);
        end = cur + chunk;
    }
    void *p = cur;
    cur += n;
    unlock(&persistent_lock);
    if (stat != NULL)
        atomic_fetch_add_explicit(stat, n, memory_order_relaxed);
    return p;
}

static void mheap_init(void)
{
    lock_init(&mheap_.lock, LOCKRANK_MHEAP);
    uintptr_t maxpages = HEAP_MAX_BYTES / PAGE_SIZE;
    mheap_.base = (uintptr_t)reserve(HEAP_MAX_BYTES);
    dirty_init(mheap_.base, HEAP_MAX_BYTES);
    mheap_.spans = sysalloc(maxpages * sizeof(struct mspan *), NULL);
    mheap_.heapbits = sysalloc(HEAP_MAX_BYTES / 64, NULL);
    pagealloc_init(&mheap_.pages, maxpages, sysalloc(pagealloc_metasize(maxpages), NULL));
    for (int i = 0; i < NUM_SPAN_CLASSES; i++) {
        lock_init(&mheap_.central[i].lock, LOCKRANK_MCENTRAL);
        mheap_.central[i].spanclass = (uint8_t)i;
    }
    /* Go starts sweepgen at 0 too; the lists' parity follows it. */
    atomic_store(&mheap_.sweepgen, 0);
}

static void malloc_init_once(void)
{
    mheap_init();
}

void malloc_init(void)
{
    pthread_once(&init_once, malloc_init_once);
}

/* Grows the heap by at least npages pages.  mheap.lock held. */
static void grow(uintptr_t npages)
{
    uintptr_t n = (npages + CHUNK_PAGES - 1) / CHUNK_PAGES * CHUNK_PAGES;
    uintptr_t bytes = n * PAGE_SIZE;
    if (mheap_.used + bytes > HEAP_MAX_BYTES)
        throw("out of memory");
    if (mprotect((void *)(mheap_.base + mheap_.used), bytes, PROT_READ | PROT_WRITE) != 0)
        throw("out of memory");
    pagealloc_grow(&mheap_.pages, n);
    /* Published after the pages are usable: spanof compares against it. */
    __atomic_store_n(&mheap_.used, mheap_.used + bytes, __ATOMIC_RELEASE);
}

static struct mspan *spanstruct_alloc(void)
{
    struct mspan *s = mheap_.spanfree;
    if (s != NULL) {
        mheap_.spanfree = s->next;
        return s;
    }
    mheap_.nspans_sys++;
    return persistentalloc(sizeof *s, NULL);
}

struct mspan *mheap_alloc(uintptr_t npages, uint8_t spc, const struct largespec *large)
{
    uintptr_t scav;
    bool needzero;
    lock(&mheap_.lock);
    uintptr_t i = pagealloc_alloc(&mheap_.pages, npages, &scav, &needzero);
    if (i == PA_FAIL) {
        grow(npages);
        i = pagealloc_alloc(&mheap_.pages, npages, &scav, &needzero);
        if (i == PA_FAIL)
            throw("mheap_alloc: grown heap has no room");
    }
    struct mspan *s = spanstruct_alloc();
    memset(s, 0, offsetof(struct mspan, bits));
    s->base = mheap_.base + i * PAGE_SIZE;
    s->npages = npages;
    s->spanclass = spc;
    s->needzero = needzero;
    uint32_t sc = spanclass_size(spc);
    if (sc == 0) {
        s->elemsize = npages * PAGE_SIZE;
        s->nelems = 1;
    } else {
        s->elemsize = class_to_size[sc];
        s->nelems = (uint32_t)(npages * PAGE_SIZE / s->elemsize);
        s->divmul = class_to_divmagic[sc];
    }
    s->limit = s->base + s->nelems * s->elemsize;
    size_t nw = (s->nelems + 63) / 64;
    memset(s->bits[0], 0, nw * 8);
    memset(s->bits[1], 0, nw * 8);
    s->allocbits = s->bits[0];
    s->gcmarkbits = s->bits[1];
    span_refill_alloccache(s);
    if (large != NULL) {
        s->kind = large->kind;
        s->typ = large->typ;
        s->largesize = large->size;
        s->limit = s->base + large->size;
        s->freeindex = 1;
        s->alloccount = 1;
        s->alloccache = 0;
    }
    atomic_store_explicit(&s->sweepgen, atomic_load(&mheap_.sweepgen), memory_order_relaxed);
    /* Published with release stores: a concurrent marker may find the span
     * through any word that points into it. */
    __atomic_store_n(&s->state, SPAN_INUSE, __ATOMIC_RELEASE);
    for (uintptr_t k = 0; k < npages; k++)
        __atomic_store_n(&mheap_.spans[i + k], s, __ATOMIC_RELEASE);
    mheap_.pages_inuse += npages;
    mheap_.nspans_inuse++;
    unlock(&mheap_.lock);
    return s;
}

void mheap_free(struct mspan *s)
{
    lock(&mheap_.lock);
    uintptr_t i = (s->base - mheap_.base) / PAGE_SIZE;
    for (uintptr_t k = 0; k < s->npages; k++)
        mheap_.spans[i + k] = NULL;
    pagealloc_free(&mheap_.pages, i, s->npages);
    mheap_.pages_inuse -= s->npages;
    mheap_.nspans_inuse--;
    s->state = SPAN_DEAD;
    s->next = mheap_.spanfree;
    mheap_.spanfree = s;
    unlock(&mheap_.lock);
}

uintptr_t mheap_scavenge(uintptr_t nbytes)
{
    uintptr_t released = 0;
    /* 64 pages (512 KiB) at a time keeps the lock hold short. */
    while (released < nbytes) {
        uintptr_t n, want = (nbytes - released + PAGE_SIZE - 1) / PAGE_SIZE;
        if (want > 64)
            want = 64;
        lock(&mheap_.lock);
        uintptr_t i = pagealloc_scav_take(&mheap_.pages, want, &n);
        unlock(&mheap_.lock);
        if (i == PA_FAIL)
            break;
        madvise((void *)(mheap_.base + i * PAGE_SIZE), n * PAGE_SIZE,
                debug.madvdontneed > 0 ? MADV_DONTNEED : MADV_FREE);
        lock(&mheap_.lock);
        pagealloc_scav_done(&mheap_.pages, i, n);
        unlock(&mheap_.lock);
        released += n * PAGE_SIZE;
    }
    return released;
}
