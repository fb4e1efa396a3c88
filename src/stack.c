/*
 * stack.c — goroutine stacks: fixed slots in big reservations.
 *
 * C code keeps raw pointers into its stack, so a goroutine's stack can
 * neither move nor grow (Go copies stacks; we cannot).  Each goroutine gets
 * a slot of address space — 256 KiB by default, any power of two from
 * 16 KiB per goroutine through gort_go_opts — carved from large
 * MAP_NORESERVE mappings (one VMA each, MADV_NOHUGEPAGE: with THP an idle
 * stack would cost 68 KiB).  Pages are committed only when touched, so an
 * idle goroutine costs the one page holding its g record and first frames,
 * plus its share of page tables.
 *
 * Slot layout (addresses grow up):
 *     base            guard page (MADV_GUARD_INSTALL / PROT_NONE / canary)
 *     base+4K         stack_lo: lowest usable byte
 *       ...           the stack, growing down
 *     stack_hi        struct g (the goroutine record lives in its own slot)
 *     base+size
 * Keeping the g inside the slot makes allocating a goroutine one operation
 * and puts the g and the hottest stack frames on the same page.  A g and its
 * slot are never separated: dead gs are cached with their stacks.
 *
 * Guards: MADV_GUARD_INSTALL (Linux 6.13+) marks the page without a VMA, so
 * a million guarded stacks stay under vm.max_map_count.  Where it is
 * missing, mprotect guards are used while under a budget of a third of
 * max_map_count (each splits a VMA in two), then a canary word at stack_lo
 * checked at every switch-out.  A slot keeps its guard for life.
 *
 * Caching: a dying g goes to its p's free list (p->gfree, owner only, up to
 * GFREE_MAX); the overflow moves in batches to the pool's global list under
 * pool.lock, from which ps refill in batches.  Gs beyond FREE_RELEASE_AT on
 * a global list have their stack pages (not the g page) given back with
 * MADV_FREE, cheap to reuse (no fault) while memory is plentiful.
 *
 * Lock: each pool's lock (rank LOCKRANK_STACK) guards its regions, bump
 * pointer and free list.
 */
#include "runtime.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

enum {
    PAGE = 4096,
    MIN_SHIFT = 14,             /* 16 KiB */
    MAX_SHIFT = 30,             /* 1 GiB */
    NPOOLS = MAX_SHIFT - MIN_SHIFT + 1,
    MAX_REGIONS = 256,
    GFREE_MAX = 64,             /* per-p cache bound */
    FREE_RELEASE_AT = 16384,    /* global cached stacks kept warm (~64 MiB of top pages) */
    CANARY = 0x5a17c0de,
};
#define REGION_BYTES ((size_t)64 << 30) /* address space per mapping */
#define G_RESERVE (((sizeof(struct g) + 63) / 64) * 64)

enum guardmode { GUARD_MADVISE, GUARD_MPROTECT, GUARD_CANARY };

struct region {
    uintptr_t base; /* first slot */
    uintptr_t end;  /* one past the last slot */
};

struct stackpool {
    struct mutex lock;
    size_t size;                       /* slot size; immutable */
    struct region regions[MAX_REGIONS]; /* lock; read racily by stack_guard_hit */
    _Atomic int nregions;
    uintptr_t next;   /* bump pointer in the last region; lock */
    struct g *free;   /* cached dead gs; lock */
    int32_t nfree;
    int32_t nfree_warm; /* of those, how many still have their pages */
};

static struct stackpool pools[NPOOLS];
static enum guardmode guardmode = GUARD_MADVISE;
static _Atomic long mprotect_budget;

void stack_init(void)
{
    for (int i = 0; i < NPOOLS; i++) {
        lock_init(&pools[i].lock, LOCKRANK_STACK);
        pools[i].size = (size_t)1 << (MIN_SHIFT + i);
    }
    long maxmap = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &maxmap) != 1)
            maxmap = 65530;
        fclose(f);
    }
    atomic_store(&mprotect_budget, maxmap / 3);
}

static int pool_index(size_t size)
{
    if (size == 0)
        size = DEFAULT_STACK_SIZE;
    int shift = MIN_SHIFT;
    while (shift < MAX_SHIFT && ((size_t)1 << shift) < size)
        shift++;
    return shift - MIN_SHIFT;
}

/* Installs the guard of a fresh slot and reports which kind it got. */
static bool install_guard(uintptr_t base)
{
    if (guardmode == GUARD_MADVISE) {
        if (madvise((void *)base, PAGE, MADV_GUARD_INSTALL) == 0)
            return true;
        if (errno != EINVAL)
            throw("stack guard: madvise failed");
        guardmode = GUARD_MPROTECT;
    }
    if (guardmode == GUARD_MPROTECT) {
        if (atomic_fetch_sub(&mprotect_budget, 1) > 0 &&
            mprotect((void *)base, PAGE, PROT_NONE) == 0)
            return true;
        guardmode = GUARD_CANARY;
    }
    return false;
}

static struct g *newslot(struct stackpool *sp)
{
    lock(&sp->lock);
    int n = atomic_load_explicit(&sp->nregions, memory_order_relaxed);
    if (n == 0 || sp->next + sp->size > sp->regions[n - 1].end) {
        if (n == MAX_REGIONS)
            throw("out of stack address space");
        size_t bytes = REGION_BYTES;
        if (bytes < sp->size * 16)
            bytes = sp->size * 16;
        void *mem = mmap(NULL, bytes + sp->size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mem == MAP_FAILED) {
            print("runtime: cannot reserve %lu bytes of stack address space\n",
                  (unsigned long)bytes);
            throw("out of memory");
        }
        /* Align the first slot to the slot size so slot math is a mask. */
        uintptr_t base = ((uintptr_t)mem + sp->size - 1) & ~(uintptr_t)(sp->size - 1);
        madvise((void *)base, bytes, MADV_NOHUGEPAGE);
        sp->regions[n].base = base;
        sp->regions[n].end = base + bytes;
        atomic_store_explicit(&sp->nregions, n + 1, memory_order_release);
        sp->next = base;
    }
    uintptr_t base = sp->next;
    sp->next += sp->size;
    unlock(&sp->lock);

    bool guarded = install_guard(base);
    struct g *gp = (struct g *)(base + sp->size - G_RESERVE);
    memset(gp, 0, sizeof *gp);
    gp->stack_base = base;
    gp->stack_size = sp->size;
    gp->stack_lo = base + PAGE;
    gp->stack_hi = (uintptr_t)gp;
    if (!guarded) {
        gp->stackguard = gp->stack_lo;
        *(uint64_t *)gp->stackguard = CANARY;
    }
    return gp;
}

/* Takes up to half a batch of cached gs from the pool into the p's cache. */
static struct g *pool_get(struct stackpool *sp, struct p *pp)
{
    /* A racy peek saves the lock when the pool is empty. */
    if (__atomic_load_n(&sp->free, __ATOMIC_RELAXED) == NULL)
        return NULL;
    lock(&sp->lock);
    struct g *gp = sp->free;
    if (gp != NULL) {
        __atomic_store_n(&sp->free, gp->schedlink, __ATOMIC_RELAXED);
        sp->nfree--;
        if (sp->nfree_warm > sp->nfree)
            sp->nfree_warm = sp->nfree;
        /* Refill the p's cache while we hold the lock. */
        while (pp != NULL && sp->free != NULL && pp->gfreecnt < GFREE_MAX / 2) {
            struct g *x = sp->free;
            __atomic_store_n(&sp->free, x->schedlink, __ATOMIC_RELAXED);
            sp->nfree--;
            x->schedlink = pp->gfree;
            pp->gfree = x;
            pp->gfreecnt++;
        }
        if (sp->nfree_warm > sp->nfree)
            sp->nfree_warm = sp->nfree;
    }
    unlock(&sp->lock);
    return gp;
}

static void pool_put(struct stackpool *sp, struct g *list, int32_t n)
{
    lock(&sp->lock);
    while (list != NULL) {
        struct g *gp = list;
        list = gp->schedlink;
        if (sp->nfree >= FREE_RELEASE_AT) {
            /* Past the warm bound: give the stack pages back lazily. */
            madvise((void *)gp->stack_lo, gp->stack_hi - gp->stack_lo - PAGE, MADV_FREE);
        }
        gp->schedlink = sp->free;
        __atomic_store_n(&sp->free, gp, __ATOMIC_RELAXED);
        sp->nfree++;
    }
    (void)n;
    unlock(&sp->lock);
}

struct g *stackalloc_g(size_t size)
{
    int idx = pool_index(size);
    struct stackpool *sp = &pools[idx];
    struct g *cur = getg();
    struct p *pp = cur != NULL && cur->m != NULL ? cur->m->p : NULL;
    struct g *gp = NULL;
    if (idx == pool_index(0) && pp != NULL) {
        gp = pp->gfree;
        if (gp != NULL) {
            pp->gfree = gp->schedlink;
            pp->gfreecnt--;
        }
    }
    if (gp == NULL)
        gp = pool_get(sp, idx == pool_index(0) ? pp : NULL);
    if (gp == NULL)
        return newslot(sp);
    gp->schedlink = NULL;
    return gp;
}

void stackfree_g(struct g *gp)
{
    struct stackpool *sp = &pools[pool_index(gp->stack_size)];
    struct g *cur = getg();
    struct p *pp = cur != NULL && cur->m != NULL ? cur->m->p : NULL;
    if (gp->stack_size == DEFAULT_STACK_SIZE && pp != NULL) {
        gp->schedlink = pp->gfree;
        pp->gfree = gp;
        if (++pp->gfreecnt < GFREE_MAX)
            return;
        /* Move half to the pool. */
        struct g *list = NULL;
        int32_t n = 0;
        while (pp->gfreecnt > GFREE_MAX / 2) {
            struct g *x = pp->gfree;
            pp->gfree = x->schedlink;
            pp->gfreecnt--;
            x->schedlink = list;
            list = x;
            n++;
        }
        pool_put(sp, list, n);
        return;
    }
    gp->schedlink = NULL;
    pool_put(sp, gp, 1);
}

/* Moves a p's cached gs to the pool (the p is being destroyed). */
void gort_stack_flush_p(struct p *pp)
{
    struct stackpool *sp = &pools[pool_index(0)];
    if (pp->gfree != NULL)
        pool_put(sp, pp->gfree, pp->gfreecnt);
    pp->gfree = NULL;
    pp->gfreecnt = 0;
}

struct g *stack_guard_hit(uintptr_t addr)
{
    for (int i = 0; i < NPOOLS; i++) {
        struct stackpool *sp = &pools[i];
        int n = atomic_load_explicit(&sp->nregions, memory_order_acquire);
        for (int r = 0; r < n; r++) {
            if (addr < sp->regions[r].base || addr >= sp->regions[r].end)
                continue;
            uintptr_t base = addr & ~(uintptr_t)(sp->size - 1);
            if (addr - base >= PAGE)
                return NULL;
            return (struct g *)(base + sp->size - G_RESERVE);
        }
    }
    return NULL;
}

void stack_check_canary(struct g *gp)
{
    if (unlikely(gp->stackguard != 0) && *(uint64_t *)gp->stackguard != CANARY) {
        print("runtime: goroutine stack exceeds %lu-byte limit\n",
              (unsigned long)gp->stack_size);
        print("runtime: stack=[%p, %p]\n", (void *)gp->stack_lo, (void *)gp->stack_hi);
        throw("stack overflow");
    }
}
