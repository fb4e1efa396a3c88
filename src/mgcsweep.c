/*
 * mgcsweep.c — sweeping: turning mark bits into free slots (Go's
 * mgcsweep.go).
 *
 * After a mark, every span's gcmarkbits say which objects live.  Sweeping a
 * span makes those bits its allocBits (the free slots are the unmarked
 * ones), gives it fresh zero mark bits (the two arrays in the span swap
 * roles: no allocation), and frees the span's pages if nothing in it lives.
 *
 * Spans are swept lazily, by whoever needs them: mcentral_cachespan sweeps
 * the unswept span it is about to hand out, an allocation of new pages first
 * sweeps as many pages (sweep_reclaim), and the background sweeper (a system
 * goroutine, mgc.c) sweeps the rest one span at a time, yielding between
 * spans.  Each span is swept by exactly one party: it is taken off its
 * mcentral list and its sweepgen CASed from sg-2 to sg-1 under the list's
 * lock.  A new cycle first finishes any sweeping left (with the world
 * stopped) so that marking sees only swept spans.
 *
 * Finalizers were queued at mark termination, so sweeping frees without
 * looking at them: an object with a pending finalizer was marked.
 */
#include "malloc.h"

struct sweepstats sweepstats __asm__("gort_sweepstats");
/* The next span class sweepone looks at; NUM_SPAN_CLASSES when done. */
static _Atomic uint32_t sweep_cursor = NUM_SPAN_CLASSES;

struct mspan *gort_mcentral_take_unswept(struct mcentral *c, uint32_t sg);

void gort_sweep_reset(void) { atomic_store(&sweep_cursor, 0); }
bool gort_sweep_done(void) { return atomic_load(&sweep_cursor) >= NUM_SPAN_CLASSES; }

bool sweepspan(struct mspan *s, bool keep)
{
    uint32_t sg = atomic_load(&mheap_.sweepgen);
    if (atomic_load(&s->sweepgen) != sg - 1)
        throw("sweepspan: span not claimed");
    uint32_t nw = (s->nelems + 63) / 64, nalloc = 0;
    for (uint32_t i = 0; i < nw; i++)
        nalloc += (uint32_t)popcount64(s->gcmarkbits[i]);
    uint32_t nfreed = s->alloccount - nalloc;
    if (s->alloccount < nalloc)
        throw("sweepspan: more marked than allocated");
    uint64_t *t = s->allocbits;
    s->allocbits = s->gcmarkbits;
    s->gcmarkbits = t;
    memset(t, 0, nw * 8);
    s->alloccount = nalloc;
    s->freeindex = 0;
    span_refill_alloccache(s);
    uint32_t sc = spanclass_size(s->spanclass);
    if (nfreed > 0) {
        s->needzero = true;
        if (sc != 0)
            atomic_fetch_add_explicit(&sweepstats.nfreed[sc], nfreed, memory_order_relaxed);
    }
    if (sc == 0 && nalloc == 0) {
        atomic_fetch_add_explicit(&sweepstats.nlargefree, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&sweepstats.largefree_bytes, s->npages * PAGE_SIZE,
                                  memory_order_relaxed);
        atomic_store(&s->sweepgen, sg);
        mheap_free(s);
        return false;
    }
    if (sc != 0 && nalloc == 0 && !keep) {
        atomic_store(&s->sweepgen, sg);
        mheap_free(s);
        return false;
    }
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    return true;
}

uintptr_t sweepone(void)
{
    uint32_t sg = atomic_load(&mheap_.sweepgen);
    for (;;) {
        uint32_t i = atomic_load(&sweep_cursor);
        if (i >= NUM_SPAN_CLASSES)
            return (uintptr_t)-1;
        struct mcentral *c = &mheap_.central[i];
        struct mspan *s = gort_mcentral_take_unswept(c, sg);
        if (s == NULL) {
            atomic_compare_exchange_strong(&sweep_cursor, &i, i + 1);
            continue;
        }
        uintptr_t npages = s->npages;
        if (sweepspan(s, false))
            mcentral_push(c, s);
        return npages;
    }
}

/* Go's mspan.ensureSwept: returns when s is swept in this generation, so
 * that its allocation bits can be read (sweeping swaps them). */
void span_ensure_swept(struct mspan *s)
{
    uint32_t sg = atomic_load(&mheap_.sweepgen);
    while (atomic_load_explicit(&s->sweepgen, memory_order_acquire) != sg) {
        if (sweepone() == (uintptr_t)-1)
            osyield(); /* another thread is sweeping it */
    }
}

void sweep_reclaim(uintptr_t npages)
{
    uintptr_t done = 0;
    while (done < npages && !gort_sweep_done()) {
        uintptr_t n = sweepone();
        if (n == (uintptr_t)-1)
            break;
        done += n;
    }
}
