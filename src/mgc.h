/*
 * mgc.h — what the collector's files (mgc.c, mgcmark.c, mgcsweep.c,
 * mfinal.c, mstats.c) share.  Everything here runs with the world stopped
 * unless it says otherwise.
 */
#ifndef GORT_MGC_H
#define GORT_MGC_H

#include "malloc.h"

/* mgcmark.c */
/* A marker's own grey objects and counts; see mgcmark.c. */
struct gcwork {
    struct workbuf *buf;   /* a buffer of grey objects, or NULL */
    uint64_t bytes_marked; /* added to gort_heap_marked by gcw_dispose */
    uint64_t scanwork;     /* bytes scanned; added to gort_scanwork */
    bool stw;              /* the world is stopped: typed slots checked, no yielding */
    bool alone;            /* the only marker (stw): mark bits set by plain stores */
    bool busy;             /* holds work taken from the pool (counted in it) */
};
#define gcw_dispose gort_gcw_dispose
#define gcdrain gort_gcdrain
extern _Atomic uint64_t gort_heap_marked; /* bytes marked this cycle */
extern _Atomic uint64_t gort_scanwork;    /* bytes scanned this cycle */
extern uint64_t gort_scan_stacks_bytes;   /* stack bytes scanned this cycle */
extern uint64_t gort_scan_globals_bytes;  /* data/bss bytes scanned this cycle */
/* Gives w's buffer to the pool and its counts to the totals. */
void gcw_dispose(struct gcwork *w);
/* Scans grey objects until there are none (false), or until budget bytes
 * were scanned (budget >= 0) or, if preemptible, the world is stopping or
 * the g was asked to yield (true). */
bool gcdrain(struct gcwork *w, int64_t budget, bool preemptible);
bool gort_markwork_done(void);
void gort_markyield(struct gcwork *w);
/* Concurrent phase (leader): globals and registered roots (work.lock
 * held); stacks (no lock held: it yields); dirty pages (rearm: again). */
void gort_markglobals_concurrent(struct gcwork *w);
void gort_markstacks_concurrent(struct gcwork *w, uint32_t gen);
size_t gort_markdirty(struct gcwork *w, bool rearm);
/* World stopped: finish a concurrent mark; verify it (gccheckmark). */
void gort_markterm(struct g *skip, uint32_t gen, bool checkmark);
void gort_checkmark(struct g *self, struct g *skip);
/* Around a pause that marks: the parallel mark's helpers (mgcmark.c). */
void gort_markhelpers_start(void); /* world stopped, before the mark */
void gort_markhelpers_stop(void);  /* world stopped, marking done */
/* World stopped: the whole mark (gcstoptheworld, no dirty tracking). */
void gort_gcmark(bool checkmark);
void gort_markdrain(void);
void gort_markobject(uintptr_t p);         /* p may be any word */
void gort_markblock(uintptr_t lo, uintptr_t hi);
void gort_scanobject(uintptr_t base);      /* base of a scan object */
bool gort_ismarked(uintptr_t p);
bool gort_in_globals(uintptr_t p);

/* mgc.c */
void gort_markroots_extra(void);
/* A one-waiter parking spot for the runtime's helper goroutines. */
struct gcpark {
    struct mutex lock;
    struct g *waiter;
    bool pending;
};
void gort_gcpark_wait(struct gcpark *pk, uint8_t reason);
void gort_gcpark_wake(struct gcpark *pk);

/* mfinal.c: an open-addressing table from address to value (fintab,
 * uncollectable objects).  keys: 0 empty, 1 deleted.  Callers lock. */
struct addrmap {
    uintptr_t *keys;
    void **vals;
    size_t cap, n, used;
};
void **gort_addrmap_find(struct addrmap *m, uintptr_t k);
void gort_addrmap_put(struct addrmap *m, uintptr_t k, void *v);
bool gort_addrmap_del(struct addrmap *m, uintptr_t k);

/* World stopped: marks what finalizers keep alive; with queue, queues the
 * finalizers of unreachable objects. */
void gort_markfinalizers(bool queue);
void gort_finalizers_wake(void);
void gort_finalizer_start(void);

/* mgcsweep.c */
void gort_sweep_reset(void);
bool gort_sweep_done(void);

/* mcache.c: every mcache ever made, for statistics and flushing. */
#define allmcache gort_allmcache
#define nallmcache gort_nallmcache
extern struct mcache *allmcache[];
extern _Atomic int32_t nallmcache;
#define MAX_MCACHES 4096

#endif /* GORT_MGC_H */
