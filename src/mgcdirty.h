/*
 * mgcdirty.h — the dirty-page tracker of the mostly-concurrent mark
 * (mgcdirty.c has the design): which heap pages were written while the
 * marker was not looking.
 *
 * The heap's reservation is given once to dirty_init; other regions (the
 * goroutine stacks) to dirty_register.  Ranges passed to the other calls
 * are OS-page aligned and lie inside the part of one region that is mapped
 * read-write (for the heap: grown); "page" below means an OS page (4 KiB on
 * x86-64), not the heap's 8 KiB page.
 */
#ifndef GORT_MGCDIRTY_H
#define GORT_MGCDIRTY_H

#include "runtime.h"

/* The tracking mechanism, chosen once by dirty_init:
 *   DIRTY_UFFD      userfaultfd asynchronous write-protection + the
 *                   PAGEMAP_SCAN ioctl (Linux >= 6.7): no signal, no VMA.
 *   DIRTY_MPROTECT  mprotect(PROT_READ) + SIGSEGV (Boehm's), on request
 *                   only: a system call that writes into an armed page
 *                   fails with EFAULT instead of faulting (mgcdirty.c).
 *   DIRTY_NONE      nothing: dirty_collect reports every page; the
 *                   collector should stop the world instead.
 * GODEBUG=gcdirty=uffd|mprotect|off forces a mode (one that is unavailable
 * gives DIRTY_NONE); unset: uffd if the kernel has it, else none. */
enum { DIRTY_NONE, DIRTY_UFFD, DIRTY_MPROTECT };
/* debug.gcdirty's values (env.c maps the words to them). */
enum { GCDIRTY_OFF = 0, GCDIRTY_BEST = 1, GCDIRTY_UFFD = 2, GCDIRTY_MPROTECT = 3 };

#define dirty_mode gort_dirty_mode
#define dirty_init gort_dirty_init
#define dirty_register gort_dirty_register
#define dirty_arm gort_dirty_arm
#define dirty_collect gort_dirty_collect
#define dirty_disarm gort_dirty_disarm
#define dirty_fault gort_dirty_fault

/* Set by dirty_init (before any other thread runs); a forked child that was
 * in DIRTY_UFFD turns to DIRTY_NONE (the kernel does not carry the
 * registration into the child). */
extern int dirty_mode;

/* Probes the mechanisms and starts tracking [base, base+size), the whole
 * reservation, which must be PROT_NONE or read-write anonymous memory and
 * OS-page aligned.  Once, before the tracker's other calls; reads
 * debug.gcdirty, so after env_init if the knob is to count. */
void dirty_init(uintptr_t base, uintptr_t size);

/* Adds [lo, hi), anonymous memory outside the heap, to what the other
 * calls accept.  Tracked like the heap under DIRTY_UFFD; under the other
 * modes collects report all of it as written and arm does nothing. */
void dirty_register(uintptr_t lo, uintptr_t hi);

/* Starts a new epoch on [lo, hi): write-protects every page of it, written
 * or not, so what was written before is forgotten and from now on a write
 * to any of its pages is recorded.  Safe while mutators run: a write that
 * lands while arm runs is either recorded or visible to whatever reads the
 * page after arm returns (the collector scans after arming). */
void dirty_arm(uintptr_t lo, uintptr_t hi);

/* Calls fn on the maximal runs [plo, phi) of pages in [lo, hi) that may
 * have been written since they were last armed or collected with rearm (a
 * superset: never a written page left out; pages never armed count as
 * written).  With rearm, each reported page is write-protected again
 * before fn sees it, so a later write is reported by a later collect.  fn
 * runs with no tracker state held: it may block or yield.  Returns the
 * number of pages reported.  Concurrent collects of the same pages are
 * safe (a page is reported by one of them, or by both). */
size_t dirty_collect(uintptr_t lo, uintptr_t hi, bool rearm,
                     void (*fn)(uintptr_t plo, uintptr_t phi, void *arg), void *arg);

/* Removes the write-protection from [lo, hi), so the mutator stops paying
 * for first writes.  Until the pages are armed again, collects report
 * them as written (all of them under Linux 6.18, under older kernels
 * every populated one: a page never populated holds no pointer). */
void dirty_disarm(uintptr_t lo, uintptr_t hi);

/* DIRTY_MPROTECT only, from the SIGSEGV handler (async-signal-safe): addr
 * is the address of a faulting *write* (SEGV_ACCERR; the caller must have
 * checked that it is a write, not an instruction fetch).  True if it is in
 * the tracked part of the heap: the page is recorded and made writable (or
 * is being changed by another thread), and the handler should return so
 * the write is retried. */
bool dirty_fault(uintptr_t addr);

/* The tracker's own state, [*lo, *hi): it holds heap addresses that are
 * not references, so the collector does not scan it as a root. */
#define dirty_selfrange gort_dirty_selfrange
void dirty_selfrange(uintptr_t *lo, uintptr_t *hi);

#endif
