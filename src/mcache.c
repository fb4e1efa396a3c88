/*
 * mcache.c — per-P allocation caches (Go's mcache.go).
 *
 * Each P owns one mcache (p->mcache) and allocates from it with no lock and
 * no atomic instruction: the P is the lock, since a g cannot lose its P in
 * the middle of runtime code (no switch happens there, and asynchronous
 * preemption never interrupts the runtime).  alloc[spc] is the span being
 * carved for span class spc; a slot that is &emptymspan (no free slots, no
 * bits) sends the first allocation to refill without an extra NULL test on
 * the fast path.
 *
 * Statistics are plain per-mcache counters, summed by readers that stop
 * the world: an atomic add per object would cost more than the allocation.
 *
 * Code without a P (a thread the runtime does not know, or before
 * gort_main) uses one shared mcache under gcache_lock (malloc.c).
 */
#include "mgc.h"

struct mspan emptymspan;
struct mcache *allmcache[MAX_MCACHES];
_Atomic int32_t nallmcache;

struct mcache *mcache_alloc(void)
{
    malloc_init();
    struct mcache *c = persistentalloc(sizeof *c, &mheap_.mcache_sys);
    memset(c, 0, sizeof *c);
    for (int i = 0; i < NUM_SPAN_CLASSES; i++)
        c->alloc[i] = &emptymspan;
    atomic_fetch_add(&mheap_.mcache_inuse, (sizeof *c + 63) & ~(size_t)63);
    /* Registered for the collector and for statistics; mcaches of Ps
     * that GOMAXPROCS removed stay here (flushed) with their counts. */
    int32_t i = atomic_fetch_add(&nallmcache, 1);
    if (i >= MAX_MCACHES)
        throw("mcache_alloc: too many Ps");
    allmcache[i] = c;
    return c;
}

void mcache_refill(struct mcache *c, uint8_t spc)
{
    struct mspan *s = c->alloc[spc];
    uint32_t sc = spanclass_size(spc);
    if (s != &emptymspan) {
        c->nsmallalloc[sc] -= s->nelems - s->alloccount;
        atomic_fetch_sub(&heap_live, (uint64_t)(s->nelems - s->alloccount) * s->elemsize);
        mcentral_uncachespan(&mheap_.central[spc], s);
    }
    s = mcentral_cachespan(&mheap_.central[spc]);
    if (s->alloccount >= s->nelems)
        throw("mcache_refill: span has no free space");
    c->nsmallalloc[sc] += s->nelems - s->alloccount;
    atomic_fetch_add(&heap_live, (uint64_t)(s->nelems - s->alloccount) * s->elemsize);
    c->alloc[spc] = s;
}

void mcache_flush(struct mcache *c)
{
    for (int i = 0; i < NUM_SPAN_CLASSES; i++) {
        struct mspan *s = c->alloc[i];
        if (s == &emptymspan)
            continue;
        c->nsmallalloc[spanclass_size((uint8_t)i)] -= s->nelems - s->alloccount;
        atomic_fetch_sub(&heap_live, (uint64_t)(s->nelems - s->alloccount) * s->elemsize);
        mcentral_uncachespan(&mheap_.central[i], s);
        c->alloc[i] = &emptymspan;
    }
    c->tiny = 0;
    c->tinyoffset = 0;
}
