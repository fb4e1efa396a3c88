/*
 * mfinal.c — finalizers (Go's mfinal.go and the finalizer specials of
 * mheap.go), and the address table they share with uncollectable objects.
 *
 * fintab maps an object's address to its finalizer.  A cycle treats each
 * entry as Go does:
 *   1. the object's contents are scanned as roots (the object itself is not
 *      marked), so everything it reaches survives this cycle even if the
 *      object does not;
 *   2. after the mark, an entry whose object is unmarked is moved to the
 *      finalizer queue and its object marked (it lives one more cycle, so
 *      that the finalizer sees it whole); the queue is a root until the
 *      finalizer has run.
 * A cycle through an object with a finalizer therefore keeps it marked
 * forever, as in Go.  Finalizers run one after another on one system
 * goroutine (runfinq), which is shown in tracebacks only at level 2.
 *
 * Locking: finlock covers fintab and the queue.  The marker reads both with
 * the world stopped; set_finalizer may run on any goroutine.
 */
#include "mgc.h"

#include <stdlib.h>

static void addrmap_grow(struct addrmap *m);

static size_t hashaddr(uintptr_t k, size_t cap)
{
    return (size_t)((k >> 3) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

void **gort_addrmap_find(struct addrmap *m, uintptr_t k)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = hashaddr(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k)
            return &m->vals[i];
        if (m->keys[i] == 0)
            return NULL;
    }
}

void gort_addrmap_put(struct addrmap *m, uintptr_t k, void *v)
{
    if ((m->used + 1) * 4 >= m->cap * 3)
        addrmap_grow(m);
    size_t i = hashaddr(k, m->cap);
    while (m->keys[i] > 1)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == 0)
        m->used++;
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
}

bool gort_addrmap_del(struct addrmap *m, uintptr_t k)
{
    void **v = gort_addrmap_find(m, k);
    if (v == NULL)
        return false;
    m->keys[v - m->vals] = 1;
    m->n--;
    return true;
}

static void addrmap_grow(struct addrmap *m)
{
    struct addrmap old = *m;
    m->cap = old.cap < 64 ? 64 : (old.n * 4 >= old.cap ? old.cap * 2 : old.cap);
    m->keys = calloc(m->cap, sizeof *m->keys);
    m->vals = calloc(m->cap, sizeof *m->vals);
    if (m->keys == NULL || m->vals == NULL)
        throw("runtime: out of memory");
    m->n = m->used = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i] > 1)
            gort_addrmap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
}

/* ---- finalizers ----------------------------------------------------------- */

typedef void (*finfn)(void *);
struct finitem {
    finfn fn;
    void *obj;
};

static struct mutex finlock = MUTEX_INIT(LOCKRANK_FIN);
static struct addrmap fintab;
static struct finitem *finq; /* calloc'd; the marker scans it */
static size_t finq_n, finq_cap;
static struct gcpark finpark = {MUTEX_INIT(LOCKRANK_GCPARK), NULL, false};
static bool finrunning_started;

/* Marks what each finalizer-bearing object reaches, then (with queue)
 * queues the ones that were not reached.  World stopped. */
void gort_markfinalizers(bool queue)
{
    for (size_t i = 0; i < finq_n; i++)
        gort_markobject((uintptr_t)finq[i].obj);
    gort_markdrain();
    for (size_t i = 0; i < fintab.cap; i++) {
        uintptr_t k = fintab.keys[i];
        if (k <= 1)
            continue;
        struct mspan *s = spanof(k);
        if (s == NULL)
            continue;
        if (!spanclass_noscan(s->spanclass)) {
            uintptr_t idx = s->divmul != 0 ? span_objindex(s, k) : 0;
            gort_scanobject(s->base + idx * s->elemsize);
        }
    }
    gort_markdrain();
    if (!queue)
        return;
    /* Decide every entry before marking any queued object: entries in one
     * tiny block share the block's mark bit, and marking the block for the
     * first would hide the others (Go's sweep makes the same two passes). */
    size_t first = finq_n;
    for (size_t i = 0; i < fintab.cap; i++) {
        uintptr_t k = fintab.keys[i];
        if (k <= 1 || gort_ismarked(k))
            continue;
        if (finq_n == finq_cap) {
            size_t ncap = finq_cap == 0 ? 64 : finq_cap * 2;
            struct finitem *nq = realloc(finq, ncap * sizeof *nq);
            if (nq == NULL)
                throw("runtime: out of memory");
            finq = nq;
            finq_cap = ncap;
        }
        finq[finq_n++] = (struct finitem){(finfn)fintab.vals[i], (void *)k};
        fintab.keys[i] = 1;
        fintab.n--;
    }
    for (size_t i = first; i < finq_n; i++)
        gort_markobject((uintptr_t)finq[i].obj);
    gort_markdrain();
}

void gort_finalizers_wake(void)
{
    lock(&finlock); /* runfinq pops concurrently once the world runs */
    bool any = finq_n > 0;
    unlock(&finlock);
    if (any && finrunning_started)
        gort_gcpark_wake(&finpark);
}

/* The finalizer goroutine must not keep the objects it finalized: its
 * stack is scanned conservatively, and a finalized object still referenced
 * from there (a stale slot of the finalizer's frame under the next park's
 * frames, a callee-saved register saved by the switch) would keep what it
 * points to — a whole tree, whose other finalizers would then never run.
 * So each finalizer runs in a frame of its own (runfin), whose area is
 * zeroed afterwards (scrub_below), its queue entry is a volatile local
 * cleared after the call, and the callee-saved registers are cleared in
 * runfinq's own frame (clear_callee_saved: an asm that clobbers them, so
 * nothing live is kept there across it). */
#define FIN_SCRUB_WORDS 512 /* 4 KiB below runfinq's frame */

static NOINLINE void runfin(finfn fn, void *obj)
{
    fn(obj);
}

static NOINLINE void scrub_below(void)
{
    uintptr_t buf[FIN_SCRUB_WORDS];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory"); /* the stores are not dead */
}

#define clear_callee_saved()                                                                 \
    __asm__ volatile("xor %%ebx, %%ebx\n\txor %%r12d, %%r12d\n\txor %%r13d, %%r13d\n\t"     \
                     "xor %%r14d, %%r14d\n\txor %%r15d, %%r15d"                                \
                     ::: "rbx", "r12", "r13", "r14", "r15", "memory")

static void runfinq(void *arg)
{
    (void)arg;
    for (;;) {
        lock(&finlock);
        if (finq_n == 0) {
            unlock(&finlock);
            gort_gcpark_wait(&finpark, WAIT_REASON_FINALIZER_WAIT);
            continue;
        }
        /* In memory (volatile), so that no register keeps the object
         * across unlock, and the slot is really cleared afterwards. */
        volatile struct finitem it;
        it.fn = finq[--finq_n].fn;
        it.obj = finq[finq_n].obj;
        finq[finq_n] = (struct finitem){NULL, NULL};
        unlock(&finlock);
        runfin(it.fn, it.obj);
        it.obj = NULL;
        scrub_below();
        clear_callee_saved();
    }
}

int64_t gort_go_system(void (*fn)(void *), void *arg);

void gort_finalizer_start(void)
{
    finrunning_started = true;
    gort_go_system(runfinq, NULL);
}

/* span_isallocated for an object the caller holds, in a span another P
 * may be allocating from: freeindex moves under us, but only upward, and a
 * slot the caller got is below it already.  Not instrumented: the race
 * with the owner's store is by design. */
__attribute__((no_sanitize("thread"), noinline)) static bool held_isallocated(struct mspan *s,
                                                                              uintptr_t idx)
{
    return idx < *(volatile uint32_t *)&s->freeindex || (s->allocbits[idx / 64] >> (idx % 64) & 1);
}

void gort_set_finalizer(void *obj, void (*fn)(void *))
{
    if (obj == NULL)
        fatal("runtime.SetFinalizer: first argument is nil");
    uintptr_t p = (uintptr_t)obj;
    if (obj == &zerobase)
        return;
    struct mspan *s = spanof(p);
    if (s == NULL) {
        if (gort_in_globals(p))
            return;
        fatal("runtime.SetFinalizer: pointer not in allocated block");
    }
    uintptr_t idx = s->divmul != 0 ? span_objindex(s, p) : 0;
    span_ensure_swept(s); /* the sweeper swaps the bits read below */
    if (!held_isallocated(s, idx))
        fatal("runtime.SetFinalizer: pointer not in allocated block");
    if (p != s->base + idx * s->elemsize && s->spanclass != TINY_SPAN_CLASS)
        fatal("runtime.SetFinalizer: pointer not at beginning of allocated block");
    lock(&finlock);
    if (fn == NULL) {
        gort_addrmap_del(&fintab, p);
        unlock(&finlock);
        return;
    }
    if (gort_addrmap_find(&fintab, p) != NULL) {
        unlock(&finlock);
        throw("runtime.SetFinalizer: finalizer already set");
    }
    gort_addrmap_put(&fintab, p, (void *)fn);
    unlock(&finlock);
}
