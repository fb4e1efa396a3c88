/*
 * mstats.c — runtime.ReadMemStats (Go's mstats.go).
 *
 * Every figure is derived, with the world stopped, from counters the
 * allocator keeps anyway: per-mcache allocation counts (no atomics on the
 * allocation path), sweep's free counts, mheap's page counts and the
 * metadata mappings.  The mcaches are flushed first so that "allocated"
 * means handed to the program, not merely cached.  The derivations are
 * Go's: HeapAlloc = allocated - freed; HeapSys = the grown arenas =
 * HeapIdle + HeapInuse; Sys = the sum of the *Sys fields; tiny objects
 * count as mallocs and as frees (they are not tracked one by one).
 *
 * Stacks are stack.c's business: gort_stack_stats derives StackInuse and
 * StackSys from the gs' depths (their pages are committed by touch).
 */
#include "mgc.h"

void gort_world_stop_heap(void);
void gort_world_start_heap(void);
void gort_gcstats_fill(gort_mem_stats *m);
void gort_stack_stats(uint64_t *inuse, uint64_t *sys);

void gort_read_mem_stats(gort_mem_stats *m)
{
    memset(m, 0, sizeof *m);
    gort_world_stop_heap();
    uint64_t nsmall[NUM_SIZE_CLASSES] = {0}, nlarge = 0, largebytes = 0, tiny = 0;
    int32_t n = atomic_load(&nallmcache);
    for (int32_t i = 0; i < n; i++) {
        struct mcache *c = allmcache[i];
        mcache_flush(c);
        for (int k = 0; k < NUM_SIZE_CLASSES; k++)
            nsmall[k] += c->nsmallalloc[k];
        nlarge += c->nlargealloc;
        largebytes += c->largealloc_bytes;
        tiny += c->tinyallocs;
    }
    uint64_t mallocs = nlarge + tiny, frees = atomic_load(&sweepstats.nlargefree) + tiny;
    uint64_t total = largebytes, freed = atomic_load(&sweepstats.largefree_bytes);
    for (int k = 1; k < NUM_SIZE_CLASSES; k++) {
        uint64_t nf = atomic_load(&sweepstats.nfreed[k]);
        mallocs += nsmall[k];
        frees += nf;
        total += nsmall[k] * class_to_size[k];
        freed += nf * class_to_size[k];
        if (k < 61) {
            m->by_size[k].size = class_to_size[k];
            m->by_size[k].mallocs = nsmall[k];
            m->by_size[k].frees = nf;
        }
    }
    m->mallocs = mallocs;
    m->frees = frees;
    m->total_alloc = total;
    m->heap_alloc = m->alloc = total - freed;
    m->heap_objects = mallocs - frees;
    lock(&mheap_.lock);
    m->heap_sys = mheap_.used;
    m->heap_inuse = mheap_.pages_inuse * PAGE_SIZE;
    m->heap_released = mheap_.pages.nscav * PAGE_SIZE;
    m->mspan_inuse = mheap_.nspans_inuse * sizeof(struct mspan);
    m->mspan_sys = mheap_.nspans_sys * sizeof(struct mspan);
    unlock(&mheap_.lock);
    m->heap_idle = m->heap_sys - m->heap_inuse;
    m->mcache_inuse = atomic_load(&mheap_.mcache_inuse);
    m->mcache_sys = atomic_load(&mheap_.mcache_sys);
    /* The side tables are touched in proportion to the grown heap:
     * heapbits 1/64, spans[] 8 bytes and the page bitmaps 3 bits a page. */
    m->gc_sys = m->heap_sys / 64 + m->heap_sys / PAGE_SIZE * 8 + m->heap_sys / PAGE_SIZE / 8 * 3 +
                atomic_load(&mheap_.gc_sys);
    m->other_sys = atomic_load(&mheap_.other_sys);
    gort_stack_stats(&m->stack_inuse, &m->stack_sys);
    gort_gcstats_fill(m);
    m->sys = m->heap_sys + m->stack_sys + m->mspan_sys + m->mcache_sys + m->buck_hash_sys +
             m->gc_sys + m->other_sys;
    gort_world_start_heap();
}
