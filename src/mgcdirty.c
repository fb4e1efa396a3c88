/*
 * mgcdirty.c — which heap pages the program wrote: the collector's
 * substitute for a write barrier (DESIGN.md "Collector", step 2).
 *
 * The concurrent mark needs, after the fact, every heap page written since
 * it last looked at that page.  Linux 6.7+ answers that without a fault
 * handler: userfaultfd's asynchronous write-protect (UFFD_FEATURE_WP_ASYNC)
 * lets the kernel itself resolve the fault on a protected page by dropping
 * the protection, and the PAGEMAP_SCAN ioctl on /proc/self/pagemap lists
 * the pages whose protection is gone (PAGE_IS_WRITTEN), re-protecting them
 * in the same walk when asked (PM_SCAN_WP_MATCHING).  No thread reads the
 * userfaultfd; it exists to hold the registration.  Unprivileged programs
 * may create one with UFFD_USER_MODE_ONLY; the kernel's own writes into
 * protected pages (read(2) into a heap buffer) are resolved the same way,
 * since asynchronous write-protect never reaches the userfaultfd.
 *
 * Measured here (OS-FACTS.md 4b): arming 1 GiB ~15 ms, scanning it
 * 0.4 ms, re-protecting what a scan reports a few ms, and the program pays
 * about 1 us for its first write to each protected page per cycle.
 *
 * The heap's whole reservation is registered once, at start-up, while it is
 * still PROT_NONE: the registration is a flag of the mapping, kept as
 * mheap's grow splits it by mprotect.  Each stack region is registered when
 * stack.c maps it: goroutines write into each other's stacks (C passes
 * pointers to locals), and a stopped goroutine's stack is only trusted as
 * scanned if nobody wrote it since.  A page the program touches that was
 * never armed (grown during a cycle) is present without the protection bit,
 * which PAGEMAP_SCAN reports as written; a page never touched reports
 * nothing and holds nothing.  So what a collection misses can only be a
 * page that holds no data.
 *
 * Soft-dirty bits would serve too, but distribution kernels ship without
 * them (OS-FACTS.md 4a).  Without userfaultfd (older kernels, seccomp
 * filters, GODEBUG=gcdirty=off) the mode is DIRTY_NONE and the collector
 * stops the world for the whole mark.
 *
 * Concurrency: dirty_init runs once under mheap's init; the others are
 * called by the collector's leader only, one at a time, while the program
 * runs.  The kernel orders a write against the re-protection: a write
 * either lands before the walk reaches its page (reported now) or faults
 * after (reported next time).
 */
#include "mgcdirty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* From the Linux 6.7 uapi headers; the installed ones are older. */
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef PAGEMAP_SCAN
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

#define OS_PAGE 4096
#define NREGIONS 512

int dirty_mode = DIRTY_NONE;
static int uffd = -1;      /* holds the registration; fixed after init */
static int pagemap = -1;   /* /proc/self/pagemap; fixed after init */
/* The leader's buffer for PAGEMAP_SCAN results (one caller at a time). */
static struct page_region regions[NREGIONS];

static bool uffd_init(uintptr_t base, uintptr_t size)
{
    uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (uffd < 0)
        return false;
    /* Not WP_UNPOPULATED: arming would then fill the page tables of every
     * untouched page with markers (the stack regions are 64 GiB each).
     * Without it an untouched page stays unprotected, and once touched it
     * is present and unprotected: reported as written, as it must be. */
    struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC};
    if (ioctl(uffd, UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_WP_ASYNC))
        return false;
    struct uffdio_register reg = {.range = {.start = base, .len = size},
                                  .mode = UFFDIO_REGISTER_MODE_WP};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        return false;
    pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pagemap < 0)
        return false;
    /* PAGEMAP_SCAN exists (6.7+) and accepts the registered range. */
    struct pm_scan_arg a = {.size = sizeof a,
                            .start = base,
                            .end = base + OS_PAGE,
                            .vec = (uint64_t)(uintptr_t)regions,
                            .vec_len = NREGIONS,
                            .category_mask = PAGE_IS_WRITTEN,
                            .return_mask = PAGE_IS_WRITTEN};
    return ioctl(pagemap, PAGEMAP_SCAN, &a) >= 0;
}

void dirty_init(uintptr_t base, uintptr_t size)
{
    /* GODEBUG is parsed before the heap is made, unless a constructor
     * allocated before gort_main. */
    if (debug.gcdirty == 0)
        return;
    if (uffd_init(base, size)) {
        dirty_mode = DIRTY_UFFD;
        return;
    }
    if (pagemap >= 0)
        close(pagemap);
    if (uffd >= 0)
        close(uffd);
    pagemap = uffd = -1;
}

void dirty_register(uintptr_t lo, uintptr_t hi)
{
    if (dirty_mode != DIRTY_UFFD)
        return;
    struct uffdio_register reg = {.range = {.start = lo, .len = hi - lo},
                                  .mode = UFFDIO_REGISTER_MODE_WP};
    if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
        throw("runtime: cannot register stacks for write tracking (userfaultfd)");
}

void dirty_arm(uintptr_t lo, uintptr_t hi)
{
    if (dirty_mode != DIRTY_UFFD || hi <= lo)
        return;
    struct uffdio_writeprotect wp = {.range = {.start = lo, .len = hi - lo},
                                     .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    while (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) {
        if (errno != EAGAIN && errno != EINTR)
            throw("runtime: cannot write-protect the heap (userfaultfd)");
    }
}

size_t dirty_collect(uintptr_t lo, uintptr_t hi, bool rearm,
                     void (*fn)(uintptr_t plo, uintptr_t phi, void *arg), void *arg)
{
    if (dirty_mode != DIRTY_UFFD) {
        /* No tracking: everything may have changed. */
        if (hi > lo)
            fn(lo, hi, arg);
        return (hi - lo) / OS_PAGE;
    }
    size_t pages = 0;
    uintptr_t start = lo;
    while (start < hi) {
        struct pm_scan_arg a = {.size = sizeof a,
                                .flags = rearm ? PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC : 0,
                                .start = start,
                                .end = hi,
                                .vec = (uint64_t)(uintptr_t)regions,
                                .vec_len = NREGIONS,
                                .category_mask = PAGE_IS_WRITTEN,
                                .return_mask = PAGE_IS_WRITTEN};
        long n = ioctl(pagemap, PAGEMAP_SCAN, &a);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            throw("runtime: PAGEMAP_SCAN failed");
        }
        for (long i = 0; i < n; i++) {
            pages += (regions[i].end - regions[i].start) / OS_PAGE;
            fn(regions[i].start, regions[i].end, arg);
        }
        if (a.walk_end <= start)
            throw("runtime: PAGEMAP_SCAN made no progress");
        start = a.walk_end;
    }
    return pages;
}

void dirty_disarm(uintptr_t lo, uintptr_t hi)
{
    if (dirty_mode != DIRTY_UFFD || hi <= lo)
        return;
    struct uffdio_writeprotect wp = {.range = {.start = lo, .len = hi - lo}, .mode = 0};
    while (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) {
        if (errno != EAGAIN && errno != EINTR)
            throw("runtime: cannot unprotect the heap (userfaultfd)");
    }
}

bool dirty_fault(uintptr_t addr)
{
    (void)addr;
    return false;
}
