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
 * Caching: a dying g goes to its p's cache (p->gfree, owner only, up to
 * GFREE_MAX); the overflow moves in batches to the pool's array under
 * pool.lock, from which ps refill in batches.  Arrays of pointers, not lists
 * through the gs: every g is in a page of its own, so a list walk would miss
 * the cache and the TLB at every link.  Beyond FREE_RELEASE_AT cached gs
 * per pool, sysmon gives the oldest ones' stack pages (not the g page) back
 * with MADV_FREE, cheap to reuse (no fault) while memory is plentiful.
 *
 * Lock: each pool's lock (rank LOCKRANK_STACK) guards its regions, bump
 * pointer and free list.
 */
#include "runtime.h"
#include "mgcdirty.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
    GFREE_MAX = 64,             /* per-p cache bound: the length of p->gfree */
    FREE_RELEASE_AT = 16384,    /* global cached stacks kept warm (~64 MiB of top pages) */
    CANARY = 0x5a17c0de,
    SCAVENGE_BATCH = 512,       /* stacks released per sysmon call (~1-5 ms) */
};
#define REGION_BYTES ((size_t)64 << 30) /* address space per mapping */
#define G_RESERVE (((sizeof(struct g) + 63) / 64) * 64)

enum guardmode { GUARD_MADVISE, GUARD_MPROTECT, GUARD_CANARY };

struct region {
    uintptr_t base; /* first slot */
    uintptr_t end;  /* one past the last slot */
    _Atomic uint32_t *scangen; /* per slot: the g's gcscangen (runtime.h) */
};

struct stackpool {
    struct mutex lock;
    size_t size;                       /* slot size; immutable */
    struct region regions[MAX_REGIONS]; /* lock; read racily by stack_guard_hit */
    _Atomic int nregions;
    uintptr_t next;   /* bump pointer in the last region; lock */
    struct g **free;  /* cached dead gs, a stack (LIFO keeps them warm); lock */
    int32_t nfree;    /* lock; read racily to skip an empty pool */
    int32_t cap;      /* allocated length of free; lock */
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

/* Tests force the fallbacks a kernel without MADV_GUARD_INSTALL (or with a
 * spent map budget) would select: 0 madvise, 1 mprotect, 2 canary. */
void gort_test_stack_guardmode(int mode, long budget)
{
    guardmode = (enum guardmode)mode;
    atomic_store(&mprotect_budget, budget);
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
        void *gens = mmap(NULL, bytes / sp->size * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (gens == MAP_FAILED)
            throw("out of memory");
        dirty_register(base, base + bytes);
        sp->regions[n].base = base;
        sp->regions[n].end = base + bytes;
        sp->regions[n].scangen = gens;
        atomic_store_explicit(&sp->nregions, n + 1, memory_order_release);
        sp->next = base;
    }
    uintptr_t base = sp->next;
    sp->next += sp->size;
    struct region *rg = &sp->regions[atomic_load_explicit(&sp->nregions, memory_order_relaxed) - 1];
    _Atomic uint32_t *gen = &rg->scangen[(base - rg->base) / sp->size];
    unlock(&sp->lock);

    bool guarded = install_guard(base);
    struct g *gp = (struct g *)(base + sp->size - G_RESERVE);
    memset(gp, 0, sizeof *gp);
    gp->stack_base = base;
    gp->stack_size = sp->size;
    gp->stack_lo = base + PAGE;
    gp->stack_hi = (uintptr_t)gp;
    gp->gcscangen = gen;
    if (!guarded) {
        gp->stackguard = gp->stack_lo;
        *(uint64_t *)gp->stackguard = CANARY;
    }
    return gp;
}

/* Takes a g from the pool, refilling the p's cache up to half while the
 * lock is held.  pp may be NULL (not the default size). */
static struct g *pool_get(struct stackpool *sp, struct p *pp)
{
    /* A racy peek saves the lock when the pool is empty. */
    if (__atomic_load_n(&sp->nfree, __ATOMIC_RELAXED) == 0)
        return NULL;
    lock(&sp->lock);
    struct g *gp = NULL;
    int32_t n = sp->nfree;
    if (n > 0) {
        gp = sp->free[--n];
        while (pp != NULL && n > 0 && pp->gfreecnt < GFREE_MAX / 2)
            pp->gfree[pp->gfreecnt++] = sp->free[--n];
        __atomic_store_n(&sp->nfree, n, __ATOMIC_RELAXED);
    }
    unlock(&sp->lock);
    return gp;
}

static void pool_put(struct stackpool *sp, struct g *const *gs, int32_t n)
{
    lock(&sp->lock);
    if (sp->nfree + n > sp->cap) {
        int32_t cap = sp->cap ? sp->cap * 2 : 256;
        while (cap < sp->nfree + n)
            cap *= 2;
        struct g **nf = realloc(sp->free, (size_t)cap * sizeof *nf);
        if (nf == NULL)
            throw("stack pool: out of memory");
        sp->free = nf;
        sp->cap = cap;
    }
    int32_t nfree = sp->nfree;
    for (int32_t i = 0; i < n; i++)
        sp->free[nfree++] = gs[i];
    __atomic_store_n(&sp->nfree, nfree, __ATOMIC_RELAXED);
    unlock(&sp->lock);
}

struct g *stackalloc_g(size_t size)
{
    int idx = pool_index(size);
    struct stackpool *sp = &pools[idx];
    struct g *cur = getg();
    struct p *pp = cur != NULL && cur->m != NULL ? cur->m->p : NULL;
    bool deflt = idx == pool_index(0);
    struct g *gp;
    if (deflt && pp != NULL && pp->gfreecnt > 0)
        gp = pp->gfree[--pp->gfreecnt];
    else if ((gp = pool_get(sp, deflt ? pp : NULL)) == NULL)
        return newslot(sp);
    gp->stackreleased = false;
    return gp;
}

void stackfree_g(struct g *gp)
{
    struct stackpool *sp = &pools[pool_index(gp->stack_size)];
    struct g *cur = getg();
    struct p *pp = cur != NULL && cur->m != NULL ? cur->m->p : NULL;
    if (gp->stack_size == DEFAULT_STACK_SIZE && pp != NULL) {
        if (pp->gfreecnt == GFREE_MAX) {
            /* Move the older half to the pool. */
            pool_put(sp, pp->gfree, GFREE_MAX / 2);
            memmove(pp->gfree, pp->gfree + GFREE_MAX / 2,
                    (GFREE_MAX / 2) * sizeof pp->gfree[0]);
            pp->gfreecnt = GFREE_MAX / 2;
        }
        pp->gfree[pp->gfreecnt++] = gp;
        return;
    }
    pool_put(sp, &gp, 1);
}

/* Gives back the stack pages of cached gs beyond the warm bound: the
 * oldest ones, at the bottom of each pool's LIFO array.  The top page,
 * holding the g, stays.  MADV_FREE, not DONTNEED: reuse needs no fault
 * while memory is plentiful, and each call in a threaded process costs an
 * IPI, so this runs in batches from sysmon, never on the free path.
 * Returns the number of stacks released. */
int gort_stack_scavenge(void)
{
    int released = 0;
    for (int i = 0; i < NPOOLS; i++) {
        struct stackpool *sp = &pools[i];
        if (__atomic_load_n(&sp->nfree, __ATOMIC_RELAXED) <= FREE_RELEASE_AT)
            continue;
        lock(&sp->lock);
        /* The pool lock is held across the madvise calls (a stack being
         * reused while MADV_FREE clears its dirty bits could lose writes),
         * so each call does a bounded batch. */
        int32_t excess = sp->nfree - FREE_RELEASE_AT;
        for (int32_t k = 0; k < excess && released < SCAVENGE_BATCH; k++) {
            struct g *gp = sp->free[k];
            if (gp->stackreleased)
                continue;
            madvise((void *)gp->stack_lo, gp->stack_hi - gp->stack_lo - PAGE,
                    debug.madvdontneed ? MADV_DONTNEED : MADV_FREE);
            gp->stackreleased = true;
            released++;
        }
        unlock(&sp->lock);
    }
    return released;
}

/* MemStats' StackInuse and StackSys, with the world stopped (stack pages
 * are committed by touch, so the figures are what the gs' depths imply,
 * not a count of pages handed out).  In use: for every live g, its slot
 * from its stack pointer to the top (the g record included) in whole
 * pages.  Sys adds the cached dead gs: their top page, and one more
 * stack page unless the scavenger gave the stack back.  Foreign threads'
 * stacks are the OS's, as Go's cgo threads' are not in StackSys. */
void gort_stack_stats(uint64_t *inuse, uint64_t *sys)
{
    uint64_t in = 0, cached = 0;
    struct g *self = getg();
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        if (gp->foreign || gp->stack_size == 0)
            continue;
        uint32_t st = readgstatus(gp);
        if (st == G_DEAD || st == G_IDLE) {
            cached += gp->stackreleased ? PAGE : 2 * PAGE;
            continue;
        }
        uintptr_t sp = gp->sched.sp;
        if (gp == self)
            sp = (uintptr_t)__builtin_frame_address(0);
        else if (st == G_SYSCALL || st == G_RUNNING)
            sp = gp->syscallregs[6] != 0 ? gp->syscallregs[6] : gp->stack_lo;
        if (sp < gp->stack_lo || sp > gp->stack_hi)
            sp = gp->stack_lo;
        uintptr_t top = gp->stack_base + gp->stack_size;
        in += (top - (sp & ~(uintptr_t)(PAGE - 1)));
    }
    *inuse = in;
    *sys = in + cached;
}

/* Moves a p's cached gs to the pool (the p is being destroyed). */
void gort_stack_flush_p(struct p *pp)
{
    pool_put(&pools[pool_index(0)], pp->gfree, pp->gfreecnt);
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

/* ---- dirty tracking (the concurrent mark) ------------------------------- */

/* Write-protects every stack slot made so far (mgcdirty.c): a write into a
 * stopped goroutine's stack by another goroutine — C passes pointers to
 * locals around — is then seen at mark termination. */
void stack_dirty_arm(void)
{
    if (dirty_mode != DIRTY_UFFD)
        return;
    for (int i = 0; i < NPOOLS; i++) {
        struct stackpool *sp = &pools[i];
        int n = atomic_load_explicit(&sp->nregions, memory_order_acquire);
        for (int r = 0; r < n; r++) {
            lock(&sp->lock);
            uintptr_t lo = sp->regions[r].base;
            uintptr_t hi = r == n - 1 ? sp->next : sp->regions[r].end;
            unlock(&sp->lock);
            dirty_arm(lo, hi);
        }
    }
}

struct unclean_arg {
    struct stackpool *sp;
    struct region *rg;
};

static void unclean_pages(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct unclean_arg *a = arg;
    size_t size = a->sp->size;
    for (uintptr_t p = lo; p < hi;) {
        uintptr_t base = p & ~(uintptr_t)(size - 1);
        /* The guard page may read as written (a guard marker is no
         * write-protect marker); the rest of the slot is stack or g. */
        if (p - base >= PAGE || hi - base > PAGE)
            atomic_store_explicit(&a->rg->scangen[(base - a->rg->base) / size], 0,
                                  memory_order_relaxed);
        p = base + size;
    }
}

/* World stopped: every goroutine whose stack was written since
 * stack_dirty_arm is no longer clean.  False if stacks are not tracked
 * (only userfaultfd can: mprotect would fail the kernel's own writes into
 * stack buffers), and then no stack is clean. */
bool stack_dirty_collect(void)
{
    if (dirty_mode != DIRTY_UFFD)
        return false;
    for (int i = 0; i < NPOOLS; i++) {
        struct stackpool *sp = &pools[i];
        int n = atomic_load_explicit(&sp->nregions, memory_order_acquire);
        for (int r = 0; r < n; r++) {
            uintptr_t lo = sp->regions[r].base;
            uintptr_t hi = r == n - 1 ? sp->next : sp->regions[r].end;
            struct unclean_arg a = {sp, &sp->regions[r]};
            dirty_collect(lo, hi, false, unclean_pages, &a);
        }
    }
    return true;
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
