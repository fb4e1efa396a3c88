/*
 * mcentral.c — the spans of one span class that no mcache holds (Go's
 * mcentral.go).
 *
 * Four lists per class: spans with a free slot (partial) and without
 * (full), each swept or unswept.  Which of partial[0]/partial[1] is the
 * swept one flips with the parity of sweepgen/2, so adding 2 to sweepgen at
 * the end of a mark turns every swept span into an unswept one without
 * touching it.  Go uses lock-free span sets here; a mutex is enough for us
 * because an mcache comes here once per span (every 8 KiB or more of
 * allocation), not per object.
 *
 * cachespan prefers, in order, a swept partial span, an unswept partial
 * span (swept now: lazy sweeping), up to 100 unswept full spans (swept now,
 * hoping one frees a slot), and only then new pages from mheap — Go's order,
 * which keeps the heap from growing while garbage waits to be swept.
 *
 * Locking: c->lock covers the lists and each listed span's list links.  A
 * span taken off a list belongs to the taker (an mcache or a sweeper) until
 * it is put back.  Never call mheap or sweep with c->lock held.
 */
#include "malloc.h"

static inline int swept(uint32_t sg) { return (sg >> 1) & 1; }
static inline int unswept(uint32_t sg) { return ((sg >> 1) & 1) ^ 1; }

static void listpush(struct spanlist *l, struct mspan *s)
{
    s->prev = NULL;
    s->next = l->first;
    if (l->first != NULL)
        l->first->prev = s;
    l->first = s;
    s->list = l;
}

static struct mspan *listpop(struct spanlist *l)
{
    struct mspan *s = l->first;
    if (s == NULL)
        return NULL;
    l->first = s->next;
    if (l->first != NULL)
        l->first->prev = NULL;
    s->next = s->prev = NULL;
    s->list = NULL;
    return s;
}

void mcentral_push(struct mcentral *c, struct mspan *s)
{
    uint32_t sg = atomic_load(&mheap_.sweepgen);
    lock(&c->lock);
    listpush(s->alloccount < s->nelems ? &c->partial[swept(sg)] : &c->full[swept(sg)], s);
    unlock(&c->lock);
}

/* Claims an unswept span for sweeping: sg-2 -> sg-1. */
static void claim(struct mspan *s, uint32_t sg)
{
    uint32_t want = sg - 2;
    if (!atomic_compare_exchange_strong(&s->sweepgen, &want, sg - 1))
        throw("mcentral: unswept span in bad state");
}

struct mspan *mcentral_cachespan(struct mcentral *c)
{
    uint32_t sg = atomic_load(&mheap_.sweepgen);
    struct mspan *s;
    lock(&c->lock);
    if ((s = listpop(&c->partial[swept(sg)])) != NULL) {
        unlock(&c->lock);
        return s;
    }
    if ((s = listpop(&c->partial[unswept(sg)])) != NULL) {
        claim(s, sg);
        unlock(&c->lock);
        sweepspan(s, true);
        return s;
    }
    for (int n = 0; n < 100 && (s = listpop(&c->full[unswept(sg)])) != NULL; n++) {
        claim(s, sg);
        unlock(&c->lock);
        sweepspan(s, true);
        if (s->alloccount < s->nelems)
            return s;
        lock(&c->lock);
        listpush(&c->full[swept(sg)], s);
    }
    unlock(&c->lock);
    uint32_t sc = spanclass_size(c->spanclass);
    uintptr_t npages = class_to_allocnpages[sc];
    sweep_reclaim(npages);
    return mheap_alloc(npages, c->spanclass, NULL);
}

void mcentral_uncachespan(struct mcentral *c, struct mspan *s)
{
    mcentral_push(c, s);
}

/* Takes one unswept span of this class for the background sweeper, or NULL. */
struct mspan *gort_mcentral_take_unswept(struct mcentral *c, uint32_t sg)
{
    lock(&c->lock);
    struct mspan *s = listpop(&c->partial[unswept(sg)]);
    if (s == NULL)
        s = listpop(&c->full[unswept(sg)]);
    if (s != NULL)
        claim(s, sg);
    unlock(&c->lock);
    return s;
}
