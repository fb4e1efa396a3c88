/*
 * mgcdirty.c — the dirty-page tracker: which heap pages the program wrote
 * while the collector was marking.
 *
 * gort's mark is mostly concurrent without write barriers (Boehm's "mostly
 * parallel" collection): the marker scans while the mutator runs, and a
 * write that stores a pointer into an object already scanned is found
 * afterwards by asking the kernel which pages were written.  The marker
 * arms the heap, scans, collects the written pages and rescans their
 * marked objects (re-arming them), a few rounds, then stops the world for
 * a last collect.  Correctness needs one property from this file: every
 * page written after it was armed (or last reported with rearm) is in the
 * next report.  A superset is always correct; every page reported costs a
 * rescan.  Pages never armed (the heap grew after arm) count as written.
 *
 * Two mechanisms, probed once by dirty_init (GODEBUG=gcdirty forces one):
 *
 * DIRTY_UFFD: userfaultfd write-protection in asynchronous mode
 * (UFFD_FEATURE_WP_ASYNC, Linux 6.7) read back with the PAGEMAP_SCAN ioctl
 * on /proc/self/pagemap.  The whole reservation is registered once
 * (UFFDIO_REGISTER_MODE_WP: a flag on its VMA, 11 µs whatever the size).
 * A write to a write-protected page faults into the kernel, which clears
 * the page's uffd-wp bit and retries the write: no signal, no handler
 * thread, ~1 µs.  PAGEMAP_SCAN with category PAGE_IS_WRITTEN ("not
 * write-protected") lists the written pages; PM_SCAN_WP_MATCHING protects
 * them again in the same page-table walk, atomically per page table, so a
 * racing write is either in this report or faults and is in the next.
 * Arming is that same scan with no output buffer: it protects every page
 * not protected now, which after a collect with rearm is only the pages
 * written since (cheap), after disarm all of them.  Disarm is
 * UFFDIO_WRITEPROTECT with mode 0.  The fd is opened UFFD_USER_MODE_ONLY,
 * which unprivileged processes may do with vm.unprivileged_userfaultfd=0;
 * it only means faults the kernel takes on user memory are not *delivered*
 * to the fd — asynchronous write-protection never delivers anything.
 * PM_SCAN_CHECK_WPASYNC makes a scan fail, rather than skip, a range that
 * is not registered; any failure reports the rest of the range as written.
 *
 * What the kernel does, measured on Linux 6.18 (tests/unit/gcdirty.c
 * checks each point on the machine it runs on):
 *   (a) mprotect(PROT_NONE -> RW) inside the registered reservation, as
 *       mheap grows, keeps the registration: the new VMA is tracked.
 *   (b) A page never touched (pte_none, or no page table at all) is
 *       reported as written until it is armed; arming installs a uffd-wp
 *       marker in its place: it reads back as not written, a read fault
 *       maps the zero page still protected, a write is recorded.  MADV_DONTNEED
 *       (or reclaim of a MADV_FREE page) drops the marker of an anonymous
 *       page: the page is pte_none again and reported as written, whether
 *       or not it was written.  MADV_FREE alone keeps the pte and its bit.
 *       Kernels before the fixes "fix PAGEMAP_SCAN written state for
 *       unpopulated ptes / PMD holes" (e.g. 6.8) report pte_none as not
 *       written instead.  Either way no written page is missed: a zapped
 *       page holds zeros, no pointer; and its next write faults in a fresh
 *       pte without the uffd-wp bit, which is "written".
 *   (c) A write by the kernel (read(2) into an armed page) succeeds and is
 *       reported: the asynchronous fault is resolved inside the kernel and
 *       UFFD_USER_MODE_ONLY does not turn it into EFAULT.
 *   (d) A write from another thread is reported like one from the caller.
 * A write to a write-protected transparent huge page splits it (WP_ASYNC
 * tracks at 4 KiB); arming unpopulated memory allocates its page tables.
 * The kernel turns on UFFD_FEATURE_WP_UNPOPULATED whenever WP_ASYNC is
 * asked for (6.18: the same markers appear without it), so arming puts a
 * marker in every unpopulated page of the range armed, allocating its page
 * tables: 4 KiB per 2 MiB armed, nothing for the unarmed rest of a region.
 * A forked child is not registered (no UFFD_FEATURE_EVENT_FORK) and its
 * /proc/self/pagemap fd would read the parent's tables, so the child turns
 * to DIRTY_NONE (pthread_atfork).
 *
 * DIRTY_MPROTECT, Boehm's: arm makes pages read-only; the first write to
 * one raises SIGSEGV, whose handler (signal.c, before anything else) calls
 * dirty_fault, which records the page and makes it writable, and the write
 * is retried.  Two bitmaps over the reservation, one bit per OS page,
 * MAP_NORESERVE (they cost memory only where the heap has grown):
 *   clean  1: armed, not written since, read-only;
 *   busy   1: the holder is changing the page's protection and clean bit.
 * A page's protection and clean bit change only while its busy bit is held
 * (taken with fetch_or, so it is a per-page spin lock), which gives the
 * invariant the report rests on:
 *   busy == 0  implies  (clean == 1 <=> the page is read-only).
 * Each holder orders its steps so that a write can never land on a page
 * whose clean bit is set: clean is cleared before an mprotect(RW) (fault,
 * disarm, giveup) and set after an mprotect(RO) has succeeded (arm,
 * rearm); a failed mprotect may have changed part of its range, so its
 * pages keep clean 0 and a write fault there is repaired as below.  A
 * collect reports the pages whose clean bit is 0, and with rearm takes the
 * busy bits it can (a page busy in a fault is reported and left dirty: it
 * is reported again next time), protects them, sets clean, and only then
 * calls fn.  So a write that lands after the page was re-protected faults
 * and clears clean before it lands: the next collect sees it.
 * dirty_fault treats any write fault below armhi as ours: all pages there
 * are grown heap, read-write unless armed, so a write can fault there only
 * because of the tracker (the caller filters out instruction fetches).  It
 * takes the page's busy bit (if another holder has it, it returns at once:
 * the write is retried and faults again until the holder is done), clears
 * clean and makes the page writable — even if it already is, which covers
 * a fault that raced with a disarm or with another thread's fault.
 * Nobody holding busy bits writes to the heap, so no holder faults.  A
 * fault never waits for a busy bit (its write is retried), a collect takes
 * only the free ones, and the waiters — arm and disarm, a segment of 512
 * pages at a time, and giveup, all pages at once — take them in ascending
 * order, all the bits wanted in a word or none, holding nothing in the
 * word they wait for: no cycle of waiting can form.
 *
 * Each page made writable splits the read-only VMA around it, and the
 * process has vm.max_map_count VMAs (65530 by default).  When the
 * handler's mprotect fails with ENOMEM, giveup marks every armed page
 * written and makes the whole armed range writable in one call, which
 * merges those VMAs back into one; the collector then rescans everything
 * this round — slow, still correct — and rearm protects the heap again.
 *
 * Other regions: dirty_register adds one (stack.c's stack regions: C code
 * hands pointers to its locals to other goroutines).  Under DIRTY_UFFD it
 * is registered and tracked like the heap.  Under DIRTY_MPROTECT it is not
 * tracked — a read-only stack would turn every read(2) into a local buffer
 * into EFAULT, and arm and disarm would override stack.c's mprotect guard
 * pages — so a collect reports all of it as written, and arm and disarm
 * leave it alone.
 *
 * The limit of DIRTY_MPROTECT: a system call that writes into an armed
 * page (read(2) into a heap buffer) does not fault in user mode; the
 * kernel gives the call EFAULT.  Boehm wraps read() for this; gort does
 * not, so this mode is only taken when asked for (GODEBUG=gcdirty=
 * mprotect), by programs that do not pass heap buffers to the kernel, on
 * kernels without WP_ASYNC.  Unasked, such kernels get DIRTY_NONE and the
 * collector stops the world for the mark.
 * Under ASan and TSan the sanitizer owns SIGSEGV: no DIRTY_MPROTECT.
 *
 * Costs per GiB of populated heap on this machine (KVM, 2 vCPUs; ranges
 * over runs of `tests/unit/gcdirty bench`, which prints them):
 *                                              uffd         mprotect
 *   arm, every page written (first, or after   3.3-4.4 ms   17-50 ms
 *     a disarm)
 *   arm, nothing written since the last rearm  0.5-0.7 ms   0.5-0.9 ms
 *   collect, nothing written                   0.3-0.7 ms   0.01 ms
 *   collect+rearm, 1 page in 1000 written      0.5-0.8 ms   0.7-1.4 ms
 *   collect+rearm, every page written          4-5 ms       18-45 ms
 *   disarm                                     21-32 ms     18-40 ms
 *   first write to an armed page               1-2 us       5-10 us
 * So under uffd a disarm costs the collector ~0.1 us a page and the next
 * arm the full price, while leaving the heap armed between cycles costs
 * the program ~1 us for each page it writes first between them: disarm
 * pays only if more than about a tenth of the heap is written there.
 */
#include "mgcdirty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The installed uapi headers are Linux 6.1's; these are 6.7's values. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef PAGEMAP_SCAN
#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)
struct page_region {
    uint64_t start, end, categories;
};
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif

enum {
    SEG_WORDS = 8,   /* arm, disarm, rearm work 512 pages (2 MiB) at a time */
    SCAN_VEC = 128,  /* page_region entries per PAGEMAP_SCAN call (3 KiB) */
};

int dirty_mode = DIRTY_NONE;

/* Set once by dirty_init unless a field says otherwise. */
static struct {
    uintptr_t base, end;  /* the tracked reservation */
    unsigned pgshift;     /* log2 of the OS page size */
    int uffd;             /* DIRTY_UFFD: the userfaultfd, else (and in a fork child) -1 */
    int pagemap;          /* DIRTY_UFFD: /proc/self/pagemap, else -1 */
    /* DIRTY_MPROTECT: one bit per page of the reservation (essay). */
    _Atomic uint64_t *clean; /* changed only by the holder of the page's busy bit */
    _Atomic uint64_t *busy;  /* fetch_or to take, fetch_and to drop */
    /* DIRTY_MPROTECT: every page below it is grown heap that arm may have
     * protected, so a write fault there is the tracker's.  Only rises, before
     * the pages are protected (arm, rearm). */
    _Atomic uintptr_t armhi;
    _Atomic bool givingup; /* a giveup is running: one at a time */
} trk = {.pgshift = 12, .uffd = -1, .pagemap = -1};

void dirty_selfrange(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)&trk;
    *hi = *lo + sizeof trk;
}

static inline uintptr_t pgidx(uintptr_t a) { return (a - trk.base) >> trk.pgshift; }
static inline uintptr_t pgaddr(uintptr_t i) { return trk.base + (i << trk.pgshift); }

/* ---- reporting: maximal runs --------------------------------------------- */

/* The run being grown: reported ranges that touch are joined before fn
 * sees them, across scan batches and bitmap segments. */
struct runs {
    uintptr_t lo, hi;
    size_t npages;
    void (*fn)(uintptr_t, uintptr_t, void *);
    void *arg;
};

static void run_flush(struct runs *r)
{
    if (r->hi > r->lo)
        r->fn(r->lo, r->hi, r->arg);
    r->lo = r->hi = 0;
}

static void run_add(struct runs *r, uintptr_t lo, uintptr_t hi)
{
    r->npages += (hi - lo) >> trk.pgshift;
    if (r->hi == lo && r->hi > r->lo) {
        r->hi = hi;
        return;
    }
    run_flush(r);
    r->lo = lo;
    r->hi = hi;
}

/* ---- DIRTY_UFFD ------------------------------------------------------------ */

static void uffd_close(void)
{
    if (trk.uffd >= 0)
        close(trk.uffd); /* unregisters every range */
    if (trk.pagemap >= 0)
        close(trk.pagemap);
    trk.uffd = trk.pagemap = -1;
}

/* No retry on EINTR (a fatal signal is pending): a failed call may have
 * protected pages it did not report, and the callers' fallbacks cover it. */
static long pmscan(struct pm_scan_arg *a)
{
    return ioctl(trk.pagemap, PAGEMAP_SCAN, a);
}

static struct pm_scan_arg scanarg(uintptr_t lo, uintptr_t hi, uint64_t flags)
{
    return (struct pm_scan_arg){
        .size = sizeof(struct pm_scan_arg),
        .flags = flags | PM_SCAN_CHECK_WPASYNC,
        .start = lo,
        .end = hi,
        .category_mask = PAGE_IS_WRITTEN,
        .return_mask = PAGE_IS_WRITTEN,
    };
}

static bool uffd_register(uintptr_t lo, uintptr_t hi)
{
    struct uffdio_register reg = {
        .range = {.start = lo, .len = hi - lo},
        .mode = UFFDIO_REGISTER_MODE_WP,
    };
    return ioctl(trk.uffd, UFFDIO_REGISTER, &reg) == 0 &&
           (reg.ioctls & ((uint64_t)1 << _UFFDIO_WRITEPROTECT)) != 0;
}

static bool uffd_init(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        return false;
    trk.uffd = fd;
    /* The kernel adds WP_UNPOPULATED to WP_ASYNC whether asked or not. */
    struct uffdio_api api = {
        .api = UFFD_API,
        .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
    };
    if (ioctl(fd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_WP_ASYNC) ||
        !uffd_register(trk.base, trk.end)) {
        uffd_close();
        return false;
    }
    trk.pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    /* PAGEMAP_SCAN exists and sees the registration. */
    struct page_region r;
    struct pm_scan_arg a = scanarg(trk.base, trk.base + ((uintptr_t)1 << trk.pgshift), 0);
    a.vec = (uintptr_t)&r;
    a.vec_len = 1;
    if (trk.pagemap < 0 || pmscan(&a) < 0) {
        uffd_close();
        return false;
    }
    return true;
}

static void uffd_writeprotect(uintptr_t lo, uintptr_t hi, bool wp)
{
    struct uffdio_writeprotect w = {
        .range = {.start = lo, .len = hi - lo},
        .mode = wp ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
    };
    while (ioctl(trk.uffd, UFFDIO_WRITEPROTECT, &w) != 0 && (errno == EAGAIN || errno == EINTR))
        ;
}

static void uffd_arm(uintptr_t lo, uintptr_t hi)
{
    /* Protect what is not protected: no output buffer, one walk. */
    struct pm_scan_arg a = scanarg(lo, hi, PM_SCAN_WP_MATCHING);
    if (pmscan(&a) < 0)
        uffd_writeprotect(lo, hi, true);
}

static void uffd_collect(uintptr_t lo, uintptr_t hi, bool rearm, struct runs *r)
{
    struct page_region vec[SCAN_VEC];
    uintptr_t start = lo;
    while (start < hi) {
        struct pm_scan_arg a = scanarg(start, hi, rearm ? PM_SCAN_WP_MATCHING : 0);
        a.vec = (uintptr_t)vec;
        a.vec_len = SCAN_VEC;
        long n = pmscan(&a);
        if (n < 0 || (n == 0 && a.walk_end <= start)) {
            /* A failed scan may have protected pages it could not report,
             * anywhere in [start, hi): report all of it. */
            run_add(r, start, hi);
            break;
        }
        for (long i = 0; i < n; i++)
            run_add(r, (uintptr_t)vec[i].start, (uintptr_t)vec[i].end);
        /* The scan stops early when vec is full; walk_end says where. */
        start = a.walk_end > start ? (uintptr_t)a.walk_end : hi;
    }
}

/* The child has no registration, and its pagemap fd reads the parent. */
static void atfork_child(void)
{
    uffd_close();
    dirty_mode = DIRTY_NONE;
}

/* ---- DIRTY_MPROTECT: the bitmaps ------------------------------------------ */

/* The bits of word w that stand for pages [p0, p1). */
static uint64_t wordmask(uintptr_t w, uintptr_t p0, uintptr_t p1)
{
    uintptr_t first = w * 64;
    unsigned lo = p0 > first ? (unsigned)(p0 - first) : 0;
    unsigned hi = p1 >= first + 64 ? 64 : (unsigned)(p1 - first);
    uint64_t m = hi == 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1;
    return m & ~(((uint64_t)1 << lo) - 1);
}

/* The next run [*s, *e) of set bits at or after bit i of the n-word bitmap m. */
static bool nextrun(const uint64_t *m, unsigned n, unsigned i, unsigned *s, unsigned *e)
{
    unsigned nb = n * 64;
    for (; i < nb; i = (i / 64 + 1) * 64) {
        uint64_t w = m[i / 64] >> (i % 64);
        if (w != 0) {
            i += (unsigned)__builtin_ctzll(w);
            break;
        }
    }
    if (i >= nb)
        return false;
    *s = i;
    for (; i < nb; i = (i / 64 + 1) * 64) {
        uint64_t w = ~m[i / 64] >> (i % 64); /* zeros shifted in: never a false stop */
        if (w != 0) {
            i += (unsigned)__builtin_ctzll(w);
            break;
        }
    }
    *e = i < nb ? i : nb;
    return true;
}

static void backoff(unsigned spin)
{
    if (spin < 64)
        procyield(30);
    else
        osyield();
}

/* Takes the busy bits want[k] of words w0+k into got[k].  Without wait,
 * the ones free now.  With wait, all of them: word after word, ascending,
 * and all of a word's bits in one fetch_or or none (what was taken is
 * dropped before waiting), so two waiters never hold what the other wants. */
static void seg_lock(uintptr_t w0, unsigned n, const uint64_t *want, uint64_t *got, bool wait)
{
    for (unsigned k = 0; k < n; k++) {
        for (unsigned spin = 0;; spin++) {
            uint64_t old = atomic_fetch_or(&trk.busy[w0 + k], want[k]);
            got[k] = want[k] & ~old;
            if (!wait || (old & want[k]) == 0)
                break;
            atomic_fetch_and(&trk.busy[w0 + k], ~got[k]);
            backoff(spin);
        }
    }
}

static void seg_unlock(uintptr_t w0, unsigned n, const uint64_t *held)
{
    for (unsigned k = 0; k < n; k++)
        if (held[k] != 0)
            atomic_fetch_and(&trk.busy[w0 + k], ~held[k]);
}

/* mprotects each run of pages in m (words w0..w0+n) to prot; ok gets the
 * pages whose call succeeded.  A failed call may have changed part of its
 * run: those pages are left out of ok, so their clean bit stays 0 and a
 * write fault there is repaired by dirty_fault. */
static void seg_protect(uintptr_t w0, unsigned n, const uint64_t *m, uint64_t *ok, int prot)
{
    unsigned s, e;
    for (unsigned k = 0; k < n; k++)
        ok[k] = 0;
    for (unsigned i = 0; nextrun(m, n, i, &s, &e); i = e) {
        uintptr_t p = w0 * 64 + s;
        if (mprotect((void *)pgaddr(p), (uintptr_t)(e - s) << trk.pgshift, prot) != 0)
            continue;
        for (unsigned b = s; b < e; b++)
            ok[b / 64] |= (uint64_t)1 << (b % 64);
    }
}

static void raise_armhi(uintptr_t hi)
{
    uintptr_t old = atomic_load(&trk.armhi);
    while (old < hi && !atomic_compare_exchange_weak(&trk.armhi, &old, hi))
        ;
}

static bool mp_init(void)
{
    uintptr_t npages = (trk.end - trk.base) >> trk.pgshift;
    size_t bytes = (npages + 63) / 64 * sizeof(uint64_t);
    void *p = mmap(NULL, 2 * bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    trk.clean = p;
    trk.busy = (_Atomic uint64_t *)((char *)p + bytes);
    return true;
}

/* Arm (prot PROT_READ) or disarm (read-write) [p0, p1), a segment at a
 * time, every busy bit of the segment held across its mprotect. */
static void mp_setprot(uintptr_t p0, uintptr_t p1, bool arm)
{
    for (uintptr_t w0 = p0 / 64; w0 * 64 < p1; w0 += SEG_WORDS) {
        uintptr_t wend = (p1 + 63) / 64;
        unsigned n = wend - w0 < SEG_WORDS ? (unsigned)(wend - w0) : SEG_WORDS;
        uint64_t want[SEG_WORDS], got[SEG_WORDS], ok[SEG_WORDS];
        for (unsigned k = 0; k < n; k++)
            want[k] = wordmask(w0 + k, p0, p1);
        seg_lock(w0, n, want, got, true);
        for (unsigned k = 0; k < n; k++)
            atomic_fetch_and(&trk.clean[w0 + k], ~want[k]);
        seg_protect(w0, n, want, ok, arm ? PROT_READ : PROT_READ | PROT_WRITE);
        for (unsigned k = 0; k < n && arm; k++)
            if (ok[k] != 0)
                atomic_fetch_or(&trk.clean[w0 + k], ok[k]);
        seg_unlock(w0, n, want);
    }
}

static void mp_collect(uintptr_t p0, uintptr_t p1, bool rearm, struct runs *r)
{
    for (uintptr_t w0 = p0 / 64; w0 * 64 < p1; w0 += SEG_WORDS) {
        uintptr_t wend = (p1 + 63) / 64;
        unsigned n = wend - w0 < SEG_WORDS ? (unsigned)(wend - w0) : SEG_WORDS;
        uint64_t dirty[SEG_WORDS], held[SEG_WORDS], again[SEG_WORDS], ok[SEG_WORDS];
        bool any = false;
        for (unsigned k = 0; k < n; k++) {
            dirty[k] = ~atomic_load(&trk.clean[w0 + k]) & wordmask(w0 + k, p0, p1);
            any |= dirty[k] != 0;
        }
        if (!any)
            continue;
        if (rearm) {
            /* Pages busy in a fault stay dirty: reported now and next time. */
            seg_lock(w0, n, dirty, held, false);
            for (unsigned k = 0; k < n; k++)
                again[k] = held[k] & ~atomic_load(&trk.clean[w0 + k]);
            seg_protect(w0, n, again, ok, PROT_READ);
            for (unsigned k = 0; k < n; k++)
                if (ok[k] != 0)
                    atomic_fetch_or(&trk.clean[w0 + k], ok[k]);
            seg_unlock(w0, n, held);
        }
        unsigned s, e;
        for (unsigned i = 0; nextrun(dirty, n, i, &s, &e); i = e)
            run_add(r, pgaddr(w0 * 64 + s), pgaddr(w0 * 64 + e));
    }
}

/* The VMA budget is spent: every armed page becomes written and writable,
 * in one mprotect that merges the VMAs the faults split.  Holds no busy bit
 * while it waits for one, so it cannot deadlock with arm or disarm. */
static void giveup(void)
{
    if (atomic_exchange(&trk.givingup, true))
        return; /* another thread is at it; the caller's write is retried */
    uintptr_t hi = atomic_load(&trk.armhi);
    uintptr_t np = pgidx(hi), nw = (np + 63) / 64;
    for (unsigned spin = 0;; spin++) {
        uintptr_t w = 0;
        for (; w < nw; w++) {
            uint64_t want = wordmask(w, 0, np);
            uint64_t old = atomic_fetch_or(&trk.busy[w], want);
            if ((old & want) != 0) {
                atomic_fetch_and(&trk.busy[w], ~(want & ~old));
                break;
            }
        }
        if (w == nw)
            break;
        while (w-- > 0)
            atomic_fetch_and(&trk.busy[w], ~wordmask(w, 0, np));
        backoff(spin);
    }
    for (uintptr_t w = 0; w < nw; w++)
        atomic_store(&trk.clean[w], 0);
    mprotect((void *)trk.base, hi - trk.base, PROT_READ | PROT_WRITE);
    for (uintptr_t w = 0; w < nw; w++)
        atomic_fetch_and(&trk.busy[w], ~wordmask(w, 0, np));
    atomic_store(&trk.givingup, false);
}

bool dirty_fault(uintptr_t addr)
{
    if (addr < trk.base || addr >= atomic_load(&trk.armhi))
        return false;
    if (atomic_load(&trk.givingup))
        return true; /* retried until giveup has made every page writable */
    int saved_errno = errno;
    uintptr_t p = pgidx(addr);
    uint64_t bit = (uint64_t)1 << (p % 64);
    if (!(atomic_fetch_or(&trk.busy[p / 64], bit) & bit)) {
        atomic_fetch_and(&trk.clean[p / 64], ~bit);
        bool ok = mprotect((void *)pgaddr(p), (uintptr_t)1 << trk.pgshift,
                           PROT_READ | PROT_WRITE) == 0;
        atomic_fetch_and(&trk.busy[p / 64], ~bit);
        if (!ok)
            giveup();
    }
    errno = saved_errno;
    return true;
}

/* ---- the interface ---------------------------------------------------------- */

void dirty_init(uintptr_t base, uintptr_t size)
{
    long ps = sysconf(_SC_PAGESIZE);
    if (trk.base != 0)
        throw("dirty_init: called twice");
    if (ps <= 0 || (ps & (ps - 1)) != 0 || ((base | size) & ((uintptr_t)ps - 1)) != 0)
        throw("dirty_init: bad page size or range");
    trk.pgshift = (unsigned)__builtin_ctzl((unsigned long)ps);
    trk.base = base;
    trk.end = base + size;
    int want = debug.gcdirty;
    int mode = DIRTY_NONE;
    /* mprotect only when asked for: unasked, it would fail a program's
     * read(2) into a heap buffer during a cycle (see above); without
     * userfaultfd the collector stops the world instead, which is always
     * correct. */
    if ((want == GCDIRTY_BEST || want == GCDIRTY_UFFD) && uffd_init())
        mode = DIRTY_UFFD;
    else if (want == GCDIRTY_MPROTECT && !GORT_ASAN && !GORT_TSAN && mp_init())
        mode = DIRTY_MPROTECT;
    dirty_mode = mode;
    if (mode == DIRTY_UFFD)
        pthread_atfork(NULL, NULL, atfork_child);
}

/* Ranges are the caller's word: cheap checks, always on.  True if [lo, hi)
 * is in the heap, false if it lies outside it (in a dirty_register region). */
static bool inheap(uintptr_t lo, uintptr_t hi)
{
    uintptr_t mask = ((uintptr_t)1 << trk.pgshift) - 1;
    if (lo > hi || ((lo | hi) & mask) != 0)
        throw("dirty: range not page-aligned");
    if (lo >= trk.base && hi <= trk.end)
        return true;
    if (hi <= trk.base || lo >= trk.end)
        return false;
    throw("dirty: range straddles the heap's edge");
}

void dirty_register(uintptr_t lo, uintptr_t hi)
{
    if (dirty_mode != DIRTY_UFFD || lo == hi)
        return;
    if (inheap(lo, hi))
        throw("dirty_register: the heap is dirty_init's");
    /* On failure the region stays unregistered: its scans fail their
     * PM_SCAN_CHECK_WPASYNC and report it all as written. */
    uffd_register(lo, hi);
}

void dirty_arm(uintptr_t lo, uintptr_t hi)
{
    if (lo == hi)
        return;
    switch (dirty_mode) {
    case DIRTY_UFFD:
        inheap(lo, hi);
        uffd_arm(lo, hi);
        break;
    case DIRTY_MPROTECT:
        if (inheap(lo, hi)) {
            raise_armhi(hi); /* before any page is protected */
            mp_setprot(pgidx(lo), pgidx(hi), true);
        }
        break;
    }
}

void dirty_disarm(uintptr_t lo, uintptr_t hi)
{
    if (lo == hi)
        return;
    switch (dirty_mode) {
    case DIRTY_UFFD:
        inheap(lo, hi);
        uffd_writeprotect(lo, hi, false);
        break;
    case DIRTY_MPROTECT:
        if (inheap(lo, hi))
            mp_setprot(pgidx(lo), pgidx(hi), false);
        break;
    }
}

size_t dirty_collect(uintptr_t lo, uintptr_t hi, bool rearm,
                     void (*fn)(uintptr_t plo, uintptr_t phi, void *arg), void *arg)
{
    struct runs r = {.fn = fn, .arg = arg};
    if (dirty_mode == DIRTY_UFFD) {
        inheap(lo, hi);
        uffd_collect(lo, hi, rearm, &r);
    } else if (dirty_mode == DIRTY_MPROTECT && inheap(lo, hi)) {
        if (rearm)
            raise_armhi(hi);
        mp_collect(pgidx(lo), pgidx(hi), rearm, &r);
    } else if (hi > lo) {
        run_add(&r, lo, hi); /* untracked: everything may be written */
    }
    run_flush(&r);
    return r.npages;
}
