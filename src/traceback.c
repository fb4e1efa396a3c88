/*
 * traceback.c — goroutine stack walks and Go's traceback text.
 *
 * What is printed (Go 1.21 text, GO-FACTS 1.3, 1.8, 1.9):
 *
 *     goroutine 7 [chan receive, 3 minutes, locked to thread]:
 *     worker(...)
 *             /src/app.c:41 +0x2f              (level 2: " fp=0x.. sp=0x.. pc=0x..")
 *     created by main_loop in goroutine 1
 *             /src/app.c:88 +0x5e
 *
 * Walking.  The library and its users are built with frame pointers, so a
 * stack is a chain of frame records: [rbp] is the caller's rbp and [rbp+8]
 * the return address into the caller.  A walk starts in one of three ways:
 *   - the calling goroutine (or thread): from this function's own rbp; the
 *     report's own frames (traceback.c, print.c, panic.c helpers) are then
 *     skipped, so a report starts at gort_throw / gort_panic (shown only at
 *     level 2) and a runtime.Stack at its caller, as in Go;
 *   - a goroutine that is switched out: from its saved context, the frame
 *     gogo_switch left at g->sched.sp (switch.S): sp+48 holds the rbp of the
 *     function that switched, sp+56 the return pc into it;
 *   - a goroutine that never ran: its saved return pc is the entry
 *     trampoline (rbp 0), and Go prints its start function at its entry with
 *     no offset, so we print g->startfn.
 * A goroutine's walk ends at rbp == 0 (gostart_trampoline clears it, so the
 * last frame shown is gort_goentry's) or when the next rbp is not above the
 * current one, is misaligned, or leaves [stack_lo, stack_hi): reads never
 * leave the goroutine's own stack slot, so a walk of a goroutine that
 * changes under us (Go's tracebacks race the same way) prints garbage at
 * worst, never faults.  A thread stack (g0) has no recorded bounds unless
 * the m set them, so it is bounded by what pthread says about the calling
 * thread, and the depth is capped.
 *
 * Goroutines we cannot walk: one running on another m (its stack changes
 * under us) and one in a syscall on another m (gort_syscall_enter does not
 * switch stacks, so it is running too).  Both print Go's
 * "goroutine running on other thread; stack unavailable".
 *
 * Frames.  Each physical frame (a pc) becomes one or more logical frames:
 * the functions inlined at that pc, innermost first, then the function that
 * contains it.  Inlined frames print no offset (Go prints them as "(...)"
 * with no +0x).  Arguments are not known in C, so every frame prints "(...)".
 * A return address is looked up at pc-1 for its file:line and function (a
 * call that ends a function returns into the next one) while the offset is
 * printed from pc, as Go does.
 *
 * Hidden frames.  Below level 2 runtime frames are hidden: functions named
 * gort_* (the API entry points and every internal symbol) and any function
 * whose source lies in the runtime's source directory (the static helpers),
 * plus frames with no symbol at all.  If that leaves nothing, everything is
 * shown.  Go 1.21's depth limit: the 50 innermost and the 50 outermost shown
 * frames, with "...N frames elided..." between; the stack is walked once to
 * print the inner frames, once to count, once for the outer ones.
 *
 * Symbolization uses elfutils' libdwfl over the process's own mappings,
 * created on first use.  libdw is not thread-safe for one Dwfl and it
 * allocates, so every lookup runs under symlock (a leaf runtime lock: it
 * also keeps the g from being preempted while holding it), on a stack of
 * its own (libdw wants ~150 KiB of stack; see run_on_symstack), and the
 * results are cached by pc.  Consequently tracebacks are not
 * async-signal-safe: a report that starts while this thread is inside
 * malloc can hang in libdw's allocations, and a fault inside libdw is
 * reported as "panic during panic" by panic.c, which then never re-enters
 * this file.  Mappings are reported once: code dlopen'ed after the first
 * traceback is shown as unknown.
 *
 * Output goes through bprint(): dst == NULL is fd 2 (panics, throws), a
 * printbuf is gort_stack's buffer.  Reports to fd 2 are serialised by the
 * caller's printlock.
 */
#include "runtime.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
    TRACEBACK_INNER_FRAMES = 50, /* Go 1.21 tracebackInnerFrames */
    TRACEBACK_OUTER_FRAMES = 50, /* Go 1.21 tracebackOuterFrames */
    MAX_INLINE = 8,              /* logical frames kept per physical frame */
    SYMCACHE_SIZE = 256,         /* symbolized pcs remembered (a power of 2) */
    MAX_THREAD_FRAMES = 1024,    /* depth cap for walks without exact bounds */
};

/* ---- wait reasons ---------------------------------------------------- */

static const char *const waitreasons[WAIT_REASON_COUNT] = {
    [WAIT_REASON_ZERO] = "",
    [WAIT_REASON_GC_ASSIST_MARKING] = "GC assist marking",
    [WAIT_REASON_IO_WAIT] = "IO wait",
    [WAIT_REASON_CHAN_RECEIVE_NIL_CHAN] = "chan receive (nil chan)",
    [WAIT_REASON_CHAN_SEND_NIL_CHAN] = "chan send (nil chan)",
    [WAIT_REASON_DUMPING_HEAP] = "dumping heap",
    [WAIT_REASON_GARBAGE_COLLECTION] = "garbage collection",
    [WAIT_REASON_GARBAGE_COLLECTION_SCAN] = "garbage collection scan",
    [WAIT_REASON_PANICWAIT] = "panicwait",
    [WAIT_REASON_SELECT] = "select",
    [WAIT_REASON_SELECT_NO_CASES] = "select (no cases)",
    [WAIT_REASON_GC_ASSIST_WAIT] = "GC assist wait",
    [WAIT_REASON_GC_SWEEP_WAIT] = "GC sweep wait",
    [WAIT_REASON_GC_SCAVENGE_WAIT] = "GC scavenge wait",
    [WAIT_REASON_CHAN_RECEIVE] = "chan receive",
    [WAIT_REASON_CHAN_SEND] = "chan send",
    [WAIT_REASON_FINALIZER_WAIT] = "finalizer wait",
    [WAIT_REASON_FORCE_GC_IDLE] = "force gc (idle)",
    [WAIT_REASON_GC_WORKER_IDLE] = "GC worker (idle)",
    [WAIT_REASON_SEMACQUIRE] = "semacquire",
    [WAIT_REASON_SLEEP] = "sleep",
    [WAIT_REASON_SYNC_COND_WAIT] = "sync.Cond.Wait",
    [WAIT_REASON_SYNC_MUTEX_LOCK] = "sync.Mutex.Lock",
    [WAIT_REASON_SYNC_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
    [WAIT_REASON_SYNC_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
    [WAIT_REASON_SYNC_WAITGROUP_WAIT] = "sync.WaitGroup.Wait",
    [WAIT_REASON_TIMER_GOROUTINE_IDLE] = "timer goroutine (idle)",
    [WAIT_REASON_PREEMPTED] = "preempted",
    [WAIT_REASON_DEBUG_CALL] = "debug call",
    [WAIT_REASON_STOPPING_THE_WORLD] = "stopping the world",
};

const char *waitreason_string(int reason)
{
    if (reason < 0 || reason >= WAIT_REASON_COUNT || waitreasons[reason] == NULL)
        return "unknown wait reason";
    return waitreasons[reason];
}

/* ---- symbolization ----------------------------------------------------- */

/* One logical frame.  The strings belong to the Dwfl and live as long as
 * the process. */
struct symframe {
    const char *name; /* function name; NULL if unknown */
    const char *file; /* source file; NULL if unknown */
    int line;
    bool inlined; /* an inlined call: printed without offset or fp/sp/pc */
};

/* Everything known about one pc. */
struct symbolized {
    int n;              /* logical frames, innermost first; >= 1 */
    struct symframe f[MAX_INLINE];
    uintptr_t entry;    /* entry of the containing function; 0 if unknown */
    bool clone;         /* the physical frame's name is clonename */
    char clonename[64]; /* a clone's origin name (copied: the symbol has a suffix) */
};

static struct mutex symlock = MUTEX_INIT(LOCKRANK_LEAF);
static Dwfl *dwfl;       /* symlock; created on first use */
static bool dwfl_failed; /* symlock; creation failed, do not retry */

/* Recently symbolized lookup addresses, direct-mapped; under symlock.  A
 * runaway recursion is hundreds of thousands of frames of one pc, and the
 * elision count walks them all: the cache makes that a memory walk.  Code
 * does not move, so an entry never goes stale (dlclose aside). */
static struct {
    uintptr_t addr; /* 0: empty */
    struct symbolized sym;
} symcache[SYMCACHE_SIZE];

/* The runtime's source directory ("/path/src/"), from where this file was
 * compiled: functions defined below it are runtime frames. */
static const char rtfile[] = __FILE__;

static Dwfl *getdwfl(void)
{
    static char *debuginfo_path;
    static const Dwfl_Callbacks callbacks = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    if (dwfl != NULL || dwfl_failed)
        return dwfl;
    Dwfl *d = dwfl_begin(&callbacks);
    if (d == NULL || dwfl_linux_proc_report(d, getpid()) != 0 ||
        dwfl_report_end(d, NULL, NULL) != 0) {
        if (d != NULL)
            dwfl_end(d);
        dwfl_failed = true;
        return NULL;
    }
    dwfl = d;
    return dwfl;
}

/* The name of a subprogram or inlined-subroutine DIE, following
 * DW_AT_abstract_origin / DW_AT_specification. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    if (dwarf_attr_integrate(die, DW_AT_name, &attr) == NULL)
        return NULL;
    return dwarf_formstring(&attr);
}

/* Where an inlined call was made: its DW_AT_call_file / DW_AT_call_line. */
static void call_site(Dwarf_Die *cu, Dwarf_Die *inl, const char **file, int *line)
{
    Dwarf_Attribute attr;
    Dwarf_Word idx, ln;
    Dwarf_Files *files;
    size_t nfiles;
    *file = NULL;
    *line = 0;
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &idx) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && idx < nfiles)
        *file = dwarf_filesrc(files, idx, NULL, NULL);
    if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &ln) == 0)
        *line = (int)ln;
}

/* The libdw part of symbolize(): fills *out (zeroed) for addr.  Runs on
 * symstack with symlock held. */
static NOINLINE void lookup(uintptr_t addr, struct symbolized *out)
{
    Dwfl *d = getdwfl();
    Dwfl_Module *mod = d != NULL ? dwfl_addrmodule(d, addr) : NULL;
    const char *symname = NULL;
    if (mod != NULL) {
        GElf_Off off;
        GElf_Sym sym;
        symname = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
        if (symname != NULL)
            out->entry = addr - off;

        const char *file = NULL;
        int line = 0;
        Dwfl_Line *ln = dwfl_module_getsrc(mod, addr);
        if (ln != NULL)
            file = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
        /* Clang marks some call sequences "line 0" (no source line); the
         * nearest earlier row of the same function is the best answer. */
        for (uintptr_t back = 1; ln != NULL && line == 0 && back <= 256 &&
                                 (out->entry == 0 || addr - back >= out->entry);
             back++) {
            Dwfl_Line *prev = dwfl_module_getsrc(mod, addr - back);
            int pl = 0;
            const char *pf = prev != NULL ? dwfl_lineinfo(prev, NULL, &pl, NULL, NULL, NULL) : NULL;
            if (pl != 0) {
                file = pf;
                line = pl;
            }
        }

        /* The DWARF scopes at addr, innermost first: each inlined
         * subroutine is a logical frame whose caller sits at its call
         * site; the subprogram ends the chain. */
        Dwarf_Addr bias;
        Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
        Dwarf_Die *scopes = NULL;
        int ns = cu != NULL ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
        for (int i = 0; i < ns && out->n < MAX_INLINE; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
                continue;
            struct symframe *f = &out->f[out->n++];
            f->name = die_name(&scopes[i]);
            f->file = file;
            f->line = line;
            f->inlined = tag == DW_TAG_inlined_subroutine;
            if (!f->inlined)
                break;
            call_site(cu, &scopes[i], &file, &line);
        }
        free(scopes);
        if (out->n > 0) {
            /* The physical frame: no DWARF subprogram was found above the
             * inlined ones, or it has no name; then the ELF symbol names
             * it.  (DWARF is preferred: it names a clone such as
             * f.constprop.0 by its origin, f.) */
            struct symframe *last = &out->f[out->n - 1];
            if (last->inlined) {
                if (out->n < MAX_INLINE)
                    out->n++;
                last = &out->f[out->n - 1];
                last->name = NULL;
                last->file = file;
                last->line = line;
                last->inlined = false;
            }
            if (last->name == NULL)
                last->name = symname;
        } else {
            out->n = 1;
            out->f[0] = (struct symframe){symname, file, line, false};
        }
        struct symframe *phys = &out->f[out->n - 1];
        if (phys->name == symname && symname != NULL && strchr(symname, '.') != NULL) {
            /* A GCC clone (f.constprop.0, f.isra.0, f.part.0, f.cold): C
             * names have no dots, so the origin is what precedes the first. */
            size_t n = (size_t)(strchr(symname, '.') - symname);
            if (n >= sizeof out->clonename)
                n = sizeof out->clonename - 1;
            memcpy(out->clonename, symname, n);
            out->clonename[n] = '\0';
            out->clone = true;
        }
    }
    if (out->n == 0)
        out->n = 1; /* unknown pc: one frame with no name */
}

/* libdw needs a lot of stack — reading a line table puts arrays of some
 * 150 KiB on it — more than a small goroutine stack or the 64 KiB signal
 * stack a fatal fault is reported on can give.  So lookups run on a stack
 * of their own, allocated on first use with a guard page below it; symlock
 * makes one stack enough.  The switch is the scheduler's own gogo_switch
 * into a frame laid out as switch.S expects (rbp 0, return pc = the entry
 * of symstack_main), which switches back when done: no ucontext, whose
 * sanitizer interceptors print warnings into the very reports we write. */
enum { SYMSTACK_SIZE = 1 << 20 };
static char *symstack;         /* symlock; mmap'ed on first use */
static uintptr_t symstack_sp;  /* symlock; symstack_main's sp when it switches back */
static uintptr_t symcaller_sp; /* symlock; the caller's saved sp */
static struct {
    uintptr_t addr;
    struct symbolized *out;
} symreq; /* symlock: the lookup that symstack_main runs */

/* Entered by gogo_switch's ret with no return address of its own: it never
 * returns, it switches back (the next lookup builds a fresh frame).  So it
 * is not instrumented: TSan's shadow call stack would keep its entry and
 * ASan the poisoned redzones of its frame; lookup, not inlined, returns
 * normally and cleans up after itself. */
__attribute__((no_sanitize("address", "thread"))) static NORETURN void symstack_main(void)
{
    lookup(symreq.addr, symreq.out);
    gogo_switch(&symstack_sp, symcaller_sp, NULL);
    __builtin_unreachable();
}

static void run_on_symstack(void)
{
    if (symstack == NULL) {
        void *m = mmap(NULL, SYMSTACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (m == MAP_FAILED)
            return;
        mprotect(m, (size_t)getpagesize(), PROT_NONE);
        symstack = m;
    }
    /* The switch frame (switch.S): MXCSR and x87 control word at their
     * defaults, callee-saved registers 0 (rbp 0 ends walks of this stack),
     * then the "return" pc.  symstack_main is entered as if called: with
     * sp+8 16-byte aligned. */
    uintptr_t sp = (uintptr_t)symstack + SYMSTACK_SIZE - 64 - 8;
    uint64_t *frame = (uint64_t *)sp;
    frame[0] = 0x1f80ull | (0x37full << 32);
    for (int i = 1; i < 7; i++)
        frame[i] = 0;
    frame[7] = (uint64_t)(uintptr_t)symstack_main;
    gogo_switch(&symcaller_sp, sp, NULL);
}

/* Symbolizes pc.  retaddr: pc is a return address (look up pc-1). */
static void symbolize(uintptr_t pc, bool retaddr, struct symbolized *out)
{
    uintptr_t addr = retaddr && pc > 0 ? pc - 1 : pc;
    size_t slot = (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 56) & (SYMCACHE_SIZE - 1);
    memset(out, 0, sizeof *out);
    lock(&symlock);
    if (addr != 0 && symcache[slot].addr == addr) {
        *out = symcache[slot].sym;
        unlock(&symlock);
        if (out->clone)
            out->f[out->n - 1].name = out->clonename;
        return;
    }
    symreq.addr = addr;
    symreq.out = out;
    run_on_symstack();
    if (out->n == 0)
        out->n = 1; /* no stack for libdw, or no symbol: a frame with no name */
    symcache[slot].addr = addr;
    symcache[slot].sym = *out;
    unlock(&symlock);
    if (out->clone)
        out->f[out->n - 1].name = out->clonename; /* points into *out itself */
}

static bool prefixed(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* file is the runtime source file `base` ("" matches any runtime file). */
static bool rtsource(const char *file, const char *base)
{
    /* rtdirlen == 0: the compiler gave a bare file name; then only gort_*
     * names mark runtime frames. */
    const char *slash = strrchr(rtfile, '/');
    size_t rtdirlen = slash != NULL ? (size_t)(slash - rtfile) + 1 : 0;
    if (file == NULL || rtdirlen == 0 || strncmp(file, rtfile, rtdirlen) != 0)
        return false;
    return base[0] == '\0' || strcmp(file + rtdirlen, base) == 0;
}

/* A runtime frame: hidden below level 2. */
static bool isruntime(const struct symframe *f)
{
    return prefixed(f->name, "gort_") || rtsource(f->file, "");
}

/* A frame of the report itself, skipped at the top of the calling
 * goroutine's own walk.  panic.c's entry points (all gort_*) stay: Go shows
 * runtime.throw / panic at level 2. */
static bool isreporting(const struct symframe *f)
{
    return rtsource(f->file, "traceback.c") || rtsource(f->file, "print.c") ||
           (rtsource(f->file, "panic.c") && !prefixed(f->name, "gort_"));
}

/* ---- the unwinder -------------------------------------------------------- */

/* A position in a walk: one physical frame.  Copied by value to walk the
 * same stack again (see printframes). */
struct unwinder {
    uintptr_t pc;     /* the frame's pc; 0 when the walk is over */
    uintptr_t fp;     /* the frame's rbp: where its frame record is */
    uintptr_t sp;     /* the frame's sp at the call it is suspended in */
    uintptr_t lo, hi; /* frame records must lie in [lo, hi) */
    bool entry;       /* pc is a function entry (a g that never ran): the last frame */
    bool exact;       /* pc is not a return address (entry, or a signal's pc) */
    bool skipreport;  /* skip the report's own leading frames */
    int depth;        /* physical frames so far */
    int maxdepth;
};

/* Reads the frame record at fp: next frame's rbp and pc. */
static void unwind_next(struct unwinder *u)
{
    uintptr_t fp = u->fp;
    u->depth++;
    if (u->entry || fp == 0 || fp % 8 != 0 || fp < u->lo || fp > u->hi - 16 ||
        u->depth >= u->maxdepth) {
        u->pc = 0;
        return;
    }
    uintptr_t nfp = ((uintptr_t *)fp)[0];
    uintptr_t npc = ((uintptr_t *)fp)[1];
    /* nfp == 0: fp was the outermost frame (its caller is the entry
     * trampoline, which is not a frame of its own). */
    if (nfp == 0 || npc == 0) {
        u->pc = 0;
        return;
    }
    u->sp = fp + 16;
    u->pc = npc;
    u->exact = false;
    /* A next rbp that does not climb the stack ends the walk after this
     * frame: its pc is good (read from a valid record), its rbp is not. */
    u->fp = nfp > fp ? nfp : 0;
}

/* Starts a walk at the caller of the function whose frame is fp. */
static void unwind_from_fp(struct unwinder *u, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                           int maxdepth)
{
    memset(u, 0, sizeof *u);
    u->lo = lo;
    u->hi = hi;
    u->maxdepth = maxdepth;
    u->fp = fp;
    u->depth = -1;
    unwind_next(u);
}

/* The bounds of the calling thread's stack when no g records them. */
static void thread_stack_bounds(uintptr_t here, uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    *lo = here;
    *hi = here + (8u << 20);
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && here >= (uintptr_t)addr &&
        here < (uintptr_t)addr + size)
        *hi = (uintptr_t)addr + size;
    pthread_attr_destroy(&attr);
}

/* A walk of the calling stack, from the caller of the function whose frame
 * is `fp` (that function must stay active while the walk is used). */
static void unwind_self(struct unwinder *u, struct g *gp, uintptr_t fp)
{
    struct m *mp = gp != NULL ? gp->m : NULL;
    if (mp != NULL && mp->sigpc != 0 && gp->stack_base <= mp->sigsp && mp->sigsp < gp->stack_hi) {
        /* A fatal signal interrupted gp: this report runs on the signal
         * stack, and gp's frames start where the signal struck. */
        memset(u, 0, sizeof *u);
        u->pc = mp->sigpc;
        u->fp = mp->sigfp;
        u->sp = mp->sigsp;
        u->lo = gp->stack_lo; /* sigsp may lie in the guard page (an overflow) */
        u->hi = gp->stack_hi;
        u->maxdepth = INT_MAX;
        u->exact = true;
        return;
    }
    uintptr_t lo = fp, hi;
    int maxdepth = INT_MAX;
    if (gp != NULL && gp->stack_hi > fp && gp->stack_lo <= fp) {
        hi = gp->stack_hi;
    } else {
        thread_stack_bounds(fp, &lo, &hi);
        lo = fp;
        maxdepth = MAX_THREAD_FRAMES;
    }
    unwind_from_fp(u, fp, lo, hi, maxdepth);
    u->skipreport = true;
}

/* A walk of a switched-out g from its saved context.  Returns false if the
 * saved sp is not inside the g's stack. */
static bool unwind_saved(struct unwinder *u, struct g *gp)
{
    uintptr_t sp = gp->sched.sp;
    memset(u, 0, sizeof *u);
    if (sp < gp->stack_lo || sp + 64 > gp->stack_hi || sp % 8 != 0)
        return false;
    u->lo = sp;
    u->hi = gp->stack_hi;
    u->maxdepth = INT_MAX;
    u->fp = ((uintptr_t *)sp)[6];
    u->pc = ((uintptr_t *)sp)[7];
    u->sp = sp + 64;
    if (u->pc == (uintptr_t)gostart_trampoline) {
        /* Never ran: show where it will start, at the entry.  Go's frame
         * at an entry is its return address alone: sp is the slot that
         * holds it (the trampoline's, here) and fp is sp+8. */
        u->pc = (uintptr_t)gp->startfn;
        u->entry = true;
        u->exact = true;
        u->fp = 0;
        u->sp = sp + 56;
    }
    return u->pc != 0;
}

/* ---- printing frames ----------------------------------------------------- */

/* gort_gopanic prints as Go's runtime.gopanic does: "panic". */
static bool ispanicframe(const struct symframe *f)
{
    return f->name != NULL && strcmp(f->name, "gort_gopanic") == 0;
}

static void printframe(struct printbuf *out, const struct symframe *f, const struct unwinder *u,
                       uintptr_t entry, int level)
{
    bprint(out, "%s(...)\n", ispanicframe(f) ? "panic" : f->name != NULL ? f->name : "?");
    bprint(out, "\t%s:%d", f->file != NULL ? f->file : "?", f->line);
    if (!f->inlined) {
        if (entry != 0 && u->pc > entry)
            bprint(out, " +0x%lx", (unsigned long)(u->pc - entry));
        else if (entry == 0 && !u->entry && level < 2)
            bprint(out, " pc=0x%lx", (unsigned long)u->pc); /* no symbol: say where */
        if (level >= 2) {
            uintptr_t fp = u->entry ? u->sp + 8 : u->fp ? u->fp + 16 : 0;
            bprint(out, " fp=0x%lx sp=0x%lx pc=0x%lx", (unsigned long)fp, (unsigned long)u->sp,
                   (unsigned long)u->pc);
        }
    }
    bprint(out, "\n");
}

/* Walks from u (a copy: the caller's walk is untouched) and prints the
 * shown logical frames numbered [skip, skip + max) (max < 0: none, only
 * count).  Returns the number of shown frames walked: all of them when
 * max < 0, otherwise it stops after the last one printed.  *more is set when
 * the walk stopped at the depth cap rather than at the stack's end. */
static int printframes(struct printbuf *out, struct unwinder u, bool showrt, int skip, int max,
                       int level, bool *more)
{
    int n = 0;
    bool skipping = u.skipreport;
    bool nextexact = false;
    struct symbolized sym;
    for (; u.pc != 0; unwind_next(&u), u.exact = u.exact || nextexact) {
        symbolize(u.pc, !u.exact, &sym);
        /* gort_sigpanic was "called" by a faulting instruction: the pc
         * above it is that instruction, not a return address. */
        nextexact = sym.entry != 0 && sym.entry == (uintptr_t)gort_sigpanic;
        if (skipping && isreporting(&sym.f[sym.n - 1]))
            continue;
        for (int i = 0; i < sym.n; i++) {
            const struct symframe *f = &sym.f[i];
            if (skipping && isreporting(f))
                continue;
            skipping = false;
            /* Go shows runtime.gopanic at every level, unless no frame
             * has been shown yet (Go's firstFrame is nprint == 0): it marks
             * where a deferred call that panicked was called. */
            bool show = showrt || (f->name != NULL && !isruntime(f)) || (ispanicframe(f) && n > 0);
            if (!show)
                continue;
            if (max >= 0 && n >= skip + max)
                return n;
            if (max >= 0 && n >= skip)
                printframe(out, f, &u, sym.entry, level);
            n++;
        }
    }
    if (more != NULL)
        *more = u.depth >= u.maxdepth;
    return n;
}

/* Go's traceback1: inner frames, the elision mark, outer frames; runtime
 * frames shown only at level 2 or when nothing else would be. */
static void printstack(struct printbuf *out, const struct unwinder *u, int level)
{
    bool showrt = level >= 2;
    bool more = false;
    int n = printframes(out, *u, showrt, 0, TRACEBACK_INNER_FRAMES, level, &more);
    if (n == 0 && !showrt) {
        /* Hiding left nothing (printing nothing): show everything. */
        showrt = true;
        n = printframes(out, *u, showrt, 0, TRACEBACK_INNER_FRAMES, level, &more);
    }
    if (n == TRACEBACK_INNER_FRAMES) {
        int total = printframes(out, *u, showrt, 0, -1, level, &more);
        int elide = total - TRACEBACK_INNER_FRAMES - TRACEBACK_OUTER_FRAMES;
        if (elide > 0) {
            bprint(out, "...%d frames elided...\n", elide);
            printframes(out, *u, showrt, total - TRACEBACK_OUTER_FRAMES, TRACEBACK_OUTER_FRAMES,
                        level, NULL);
        } else {
            printframes(out, *u, showrt, TRACEBACK_INNER_FRAMES, TRACEBACK_OUTER_FRAMES, level,
                        NULL);
        }
    }
    if (more)
        bprint(out, "...additional frames elided...\n");
}

/* "created by f in goroutine N": every goroutine but the main one, unless
 * the creator is a runtime frame below level 2 (Go's showframe rule). */
static void printcreatedby(struct printbuf *out, struct g *gp, int level)
{
    if (gp->goid == 1 || gp->gopc == 0)
        return;
    struct symbolized sym;
    symbolize(gp->gopc, true, &sym);
    const struct symframe *f = &sym.f[0]; /* Go names the innermost inlined function */
    if (level < 2 && (f->name == NULL || isruntime(f)))
        return;
    bprint(out, "created by %s", f->name != NULL ? f->name : "?");
    if (gp->parentgoid != 0)
        bprint(out, " in goroutine %ld", (long)gp->parentgoid);
    bprint(out, "\n\t%s:%d", f->file != NULL ? f->file : "?", f->line);
    if (sym.entry != 0 && gp->gopc > sym.entry)
        bprint(out, " +0x%lx", (unsigned long)(gp->gopc - sym.entry));
    bprint(out, "\n");
}

static void printheader(struct printbuf *out, struct g *gp)
{
    static const char *const names[] = {
        [G_IDLE] = "idle",       [G_RUNNABLE] = "runnable", [G_RUNNING] = "running",
        [G_SYSCALL] = "syscall", [G_WAITING] = "waiting",   [G_DEAD] = "dead",
        [G_PREEMPTED] = "preempted",
    };
    uint32_t st = readgstatus(gp);
    const char *s = st < sizeof names / sizeof names[0] ? names[st] : NULL;
    if (s == NULL)
        s = "???";
    if (st == G_WAITING && gp->waitreason != WAIT_REASON_ZERO)
        s = waitreason_string(gp->waitreason);
    int64_t waitfor = 0;
    if ((st == G_WAITING || st == G_SYSCALL) && gp->waitsince != 0)
        waitfor = (nanotime() - gp->waitsince) / 60000000000LL;
    bprint(out, "goroutine %ld [%s", (long)gp->goid, s);
    if (waitfor >= 1)
        bprint(out, ", %ld minutes", (long)waitfor);
    if (gp->lockedm != NULL)
        bprint(out, ", locked to thread");
    bprint(out, "]:\n");
}

/* Header, frames and creator of gp.  self: a walk of the calling stack when
 * gp is the calling goroutine, else NULL. */
static void printgoroutine(struct printbuf *out, struct g *gp, const struct unwinder *self,
                           int level)
{
    struct g *me = getg();
    struct m *mymp = me != NULL ? me->m : NULL;
    uint32_t st = readgstatus(gp);
    struct unwinder u;
    printheader(out, gp);
    if (self != NULL) {
        printstack(out, self, level);
    } else if ((st == G_RUNNING || st == G_SYSCALL) &&
               (gp->m != mymp || mymp == NULL || gp != mymp->curg)) {
        bprint(out, "\tgoroutine running on other thread; stack unavailable\n");
    } else if (unwind_saved(&u, gp)) {
        printstack(out, &u, level);
    }
    printcreatedby(out, gp, level);
}

/* The goroutines after the first: curg of this m (when the report started
 * on g0), then allgs order; dead ones never, system ones at level 2. */
static void printothers(struct printbuf *out, struct g *first, int level)
{
    struct g *me = getg();
    struct g *curg = me != NULL && me->m != NULL ? me->m->curg : NULL;
    if (curg != NULL && curg != first) {
        bprint(out, "\n");
        printgoroutine(out, curg, NULL, level);
    }
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        if (gp == first || gp == curg || readgstatus(gp) == G_DEAD)
            continue;
        if ((gp->system && level < 2) || (gp->m != NULL && gp == gp->m->g0))
            continue;
        bprint(out, "\n");
        printgoroutine(out, gp, NULL, level);
    }
}

/* Go's dopanic_m traceback part plus tracebackothers.  Runs with printlock
 * held by the caller (panic.c).  Not async-signal-safe (see the top). */
void traceback_goroutines(struct g *cur, bool all, int level)
{
    struct unwinder self;
    struct g *me = getg();
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    if (cur != NULL && cur->m != NULL && cur == cur->m->g0) {
        /* On a thread's own stack: show it at level 2, then its user g. */
        if (level >= 2 && cur == me) {
            bprint(NULL, "\nruntime stack:\n");
            unwind_self(&self, me, fp);
            printstack(NULL, &self, 2);
        }
        all = true;
        cur = NULL;
    } else if (cur != NULL) {
        bprint(NULL, "\n");
        if (cur == me)
            unwind_self(&self, me, fp);
        printgoroutine(NULL, cur, cur == me ? &self : NULL, level);
    }
    if (all)
        printothers(NULL, cur, level);
}

/* One m's part of a GOTRACEBACK=crash signal dump, after the first m's
 * (Go's sighandler when crashing > 0): the goroutine the signal
 * interrupted on this m, or "goroutine 0 [idle]:" and the thread's own
 * frames, walked from the context in m->sigpc/sigsp/sigfp.  Runs on the
 * signal stack with printlock held. */
void traceback_signalled_m(struct m *mp)
{
    struct g *cur = mp->curg;
    struct unwinder u;
    memset(&u, 0, sizeof u);
    u.pc = mp->sigpc;
    u.fp = mp->sigfp;
    u.sp = mp->sigsp;
    u.exact = true;
    bprint(NULL, "\n");
    if (cur != NULL && cur->stack_lo <= mp->sigsp && mp->sigsp < cur->stack_hi) {
        u.lo = cur->stack_lo;
        u.hi = cur->stack_hi;
        u.maxdepth = INT_MAX;
        printheader(NULL, cur);
        printstack(NULL, &u, 2);
        printcreatedby(NULL, cur, 2);
        return;
    }
    thread_stack_bounds(mp->sigsp, &u.lo, &u.hi);
    u.lo = mp->sigsp;
    u.maxdepth = MAX_THREAD_FRAMES;
    bprint(NULL, "goroutine 0 [idle]:\n");
    printstack(NULL, &u, 2);
}

int gort_stack(char *buf, int len, bool all)
{
    struct unwinder self;
    struct g *gp = getg();
    uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
    if (gp == NULL || gp->m == NULL || gp == gp->m->g0)
        return 0; /* not a goroutine: there is no traceback to give */
    if (all)
        stop_the_world("stack trace");
    struct printbuf pb = {buf, len > 0 ? (size_t)len : 0, 0};
    if (pb.cap > 0) {
        unwind_self(&self, gp, fp);
        self.skipreport = false; /* self already starts at our caller */
        printgoroutine(&pb, gp, &self, 1);
        if (all)
            printothers(&pb, gp, 1);
    }
    if (all)
        start_the_world();
    return (int)pb.n;
}

/* ---- caller information (runtime.Caller, Callers, FuncForPC) ------------- */

/* A walk of the calling stack from the caller of the function whose frame
 * is fp (a goroutine's stack or, on a thread, its pthread bounds). */
static void unwind_caller(struct unwinder *u, uintptr_t fp)
{
    struct g *gp = getg();
    uintptr_t lo, hi;
    int maxdepth = INT_MAX;
    if (gp != NULL && gp->stack_hi > fp && gp->stack_lo <= fp) {
        lo = gp->stack_lo;
        hi = gp->stack_hi;
    } else {
        thread_stack_bounds(fp, &lo, &hi);
        lo = fp;
        maxdepth = MAX_THREAD_FRAMES;
    }
    unwind_from_fp(u, fp, lo, hi, maxdepth);
}

/* skip counts logical frames, inlined ones included, as Go's does. */
NOINLINE bool gort_caller(int skip, uintptr_t *pc, const char **file, int *line)
{
    struct unwinder u;
    struct symbolized sym;
    unwind_caller(&u, (uintptr_t)__builtin_frame_address(0));
    for (; u.pc != 0; unwind_next(&u)) {
        symbolize(u.pc, true, &sym);
        if (skip >= sym.n) {
            skip -= sym.n;
            continue;
        }
        const struct symframe *f = &sym.f[skip];
        if (pc != NULL)
            *pc = u.pc - 1;
        if (file != NULL)
            *file = f->file;
        if (line != NULL)
            *line = f->line;
        return true;
    }
    return false;
}

NOINLINE int gort_callers(int skip, uintptr_t *pcs, int n)
{
    struct unwinder u;
    int i = 0;
    if (skip == 0 && i < n)
        pcs[i++] = (uintptr_t)gort_callers; /* Go's Callers(0) starts with Callers itself */
    skip = skip > 0 ? skip - 1 : 0;
    unwind_caller(&u, (uintptr_t)__builtin_frame_address(0));
    for (; u.pc != 0 && i < n; unwind_next(&u)) {
        if (skip > 0) {
            skip--;
            continue;
        }
        pcs[i++] = u.pc;
    }
    return i;
}

const char *gort_func_name(uintptr_t pc, uintptr_t *entry)
{
    struct symbolized sym;
    symbolize(pc, false, &sym);
    if (entry != NULL)
        *entry = sym.entry;
    const struct symframe *f = &sym.f[sym.n - 1];
    if (!sym.clone)
        return f->name;
    /* A clone's origin name lives in sym: intern it, once per name. */
    static struct interned {
        struct interned *next;
        char name[sizeof sym.clonename];
    } *names;
    const char *res = NULL;
    lock(&symlock);
    for (struct interned *in = names; in != NULL && res == NULL; in = in->next)
        if (strcmp(in->name, sym.clonename) == 0)
            res = in->name;
    if (res == NULL) {
        struct interned *in = malloc(sizeof *in);
        if (in != NULL) {
            memcpy(in->name, sym.clonename, sizeof in->name);
            in->next = names;
            names = in;
            res = in->name;
        }
    }
    unlock(&symlock);
    return res;
}

bool gort_func_line(uintptr_t pc, const char **file, int *line)
{
    struct symbolized sym;
    symbolize(pc, false, &sym);
    const struct symframe *f = &sym.f[0];
    if (file != NULL)
        *file = f->file;
    if (line != NULL)
        *line = f->line;
    return f->file != NULL;
}
