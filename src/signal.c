/*
 * signal.c — the signal handler: faults become panics, fatal signals dump,
 * notified signals are queued, foreign handlers are chained to.
 *
 * Every M has a sigaltstack (minit), so a fault on a goroutine stack — a
 * write into the guard page below it above all — can still be handled.
 * One handler serves every signal gort installs; it decides, in order:
 *
 *   0. A write fault on a heap page the GC's dirty tracker write-protected
 *      (GODEBUG=gcdirty=mprotect, or a kernel without userfaultfd
 *      WP_ASYNC): dirty_fault records the page and unprotects it, and the
 *      handler returns so the write is retried (mgcdirty.c).
 *   1. A guard-page hit of some goroutine slot (stack.c): Go's stack
 *      overflow report ("runtime: goroutine stack exceeds N-byte limit",
 *      "fatal error: stack overflow") from the signal stack, since the
 *      goroutine's own stack is exactly what is exhausted.
 *   2. A synchronous SIGSEGV/SIGBUS/SIGFPE (si_code > 0: the kernel's, not
 *      a kill) on a goroutine: Go's preparePanic.  The handler records the
 *      signal in the g (sig, code, address, pc) and rewrites the saved
 *      context so that sigreturn "calls" gort_sigpanic on the goroutine's
 *      own stack, as if the faulting instruction had called it: the return
 *      address pushed is the faulting pc, the stack pointer drops below the
 *      x86-64 red zone and is aligned as at a function entry.  Nothing
 *      leaves the handler by longjmp: sigreturn restores the signal mask
 *      and the alternate-stack state, and gort_sigpanic — ordinary code on
 *      the goroutine stack — raises the panic that deferred calls may
 *      recover ("runtime error: invalid memory address or nil pointer
 *      dereference", "integer divide by zero").  gort_sigpanic applies
 *      Go's canpanic: a fault while the m holds runtime locks, or at a pc
 *      inside libc, the dynamic loader or the vDSO (whose ranges are read
 *      from /proc/self/maps at start), is "fatal error: unexpected signal
 *      during runtime execution"; a fault at an address above the first
 *      page is "unexpected fault address" + "fatal error: fault".
 *      A fault on a thread that runs no goroutine goes to the handler
 *      installed before gort, if any, else is fatal at once.
 *   3. A signal some channel was notified of (os/signal; sigqueue.c):
 *      queued, async-signal-safely.
 *   4. SIGPIPE, Go's rule: a write to a broken pipe on fd 1 or 2 kills the
 *      program with SIGPIPE; on any other fd it is ignored and the write
 *      fails with EPIPE.  The fd is the interrupted write's first argument,
 *      still in rdi: the signal is delivered on the return from the
 *      `syscall` instruction that just failed with EPIPE.
 *   5. A handler that the program had installed before gort_main: called
 *      (Go's sigfwd), for the signals gort does not claim for itself.
 *   6. SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGSTKFLT: Go's dump —
 *      "SIGQUIT: quit", "PC=0x.. m=N sigcode=N", every goroutine with
 *      runtime frames, the registers — and exit status 2 (SIGABRT with
 *      GOTRACEBACK=crash).
 *   7. Otherwise the signal's default action (SIGHUP, SIGINT, SIGTERM kill
 *      the program with that signal, so the shell sees it).
 * gort installs handlers at start only for the signals of 1, 2, 4 and 6
 * (and only where the program had not installed its own, for 4 and 6 —
 * a handler of the program's is left alone, as Go leaves one in a
 * c-archive); gort_signal_notify installs one for a notified signal.
 *
 * Sanitizer builds leave SIGSEGV, SIGBUS, SIGFPE and the dump signals to
 * the sanitizer's own handlers: deliberate faults are tested in the plain
 * build only.  TSan also defers every asynchronous signal until the thread
 * that took it next passes one of its interceptors; an idle m parked in a
 * raw futex syscall passes none, so under TSan a process-directed signal
 * that the kernel gives to such an m waits until the m wakes.
 *
 * The dumps print tracebacks from the handler, as Go does, and are subject
 * to traceback.c's caveat: the symbolizer is not async-signal-safe.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "mgcdirty.h"
#include "sigqueue.h"

enum { SIGSTACK_SIZE = 64 << 10, NSIG_GO = 65 };

/* ---- the signal table (Go's sigtable names) ------------------------------ */

static const char *const sigdesc[NSIG_GO] = {
    [SIGHUP] = "SIGHUP: terminal line hangup",
    [SIGINT] = "SIGINT: interrupt",
    [SIGQUIT] = "SIGQUIT: quit",
    [SIGILL] = "SIGILL: illegal instruction",
    [SIGTRAP] = "SIGTRAP: trace trap",
    [SIGABRT] = "SIGABRT: abort",
    [SIGBUS] = "SIGBUS: bus error",
    [SIGFPE] = "SIGFPE: floating-point exception",
    [SIGKILL] = "SIGKILL: kill",
    [SIGUSR1] = "SIGUSR1: user-defined signal 1",
    [SIGSEGV] = "SIGSEGV: segmentation violation",
    [SIGUSR2] = "SIGUSR2: user-defined signal 2",
    [SIGPIPE] = "SIGPIPE: write to broken pipe",
    [SIGALRM] = "SIGALRM: alarm clock",
    [SIGTERM] = "SIGTERM: termination",
    [SIGSTKFLT] = "SIGSTKFLT: stack fault",
    [SIGCHLD] = "SIGCHLD: child status has changed",
    [SIGCONT] = "SIGCONT: continue",
    [SIGSTOP] = "SIGSTOP: stop, unblockable",
    [SIGTSTP] = "SIGTSTP: keyboard stop",
    [SIGTTIN] = "SIGTTIN: background read from tty",
    [SIGTTOU] = "SIGTTOU: background write to tty",
    [SIGURG] = "SIGURG: urgent condition on socket",
    [SIGXCPU] = "SIGXCPU: cpu limit exceeded",
    [SIGXFSZ] = "SIGXFSZ: file size limit exceeded",
    [SIGVTALRM] = "SIGVTALRM: virtual alarm clock",
    [SIGPROF] = "SIGPROF: profiling alarm clock",
    [SIGWINCH] = "SIGWINCH: window size change",
    [SIGIO] = "SIGIO: i/o now possible",
    [SIGPWR] = "SIGPWR: power failure restart",
    [SIGSYS] = "SIGSYS: bad system call",
};

const char *signame_desc(int sig)
{
    static char other[NSIG_GO][24]; /* "signal 40: signal 40", filled at init */
    if (sig > 0 && sig < NSIG_GO && sigdesc[sig] != NULL)
        return sigdesc[sig];
    if (sig > 0 && sig < NSIG_GO) {
        if (other[sig][0] == '\0')
            snprintf(other[sig], sizeof other[sig], "signal %d: signal %d", sig, sig);
        return other[sig];
    }
    return "signal ?: unknown signal";
}

static bool isdumpsig(int sig)
{
    return sig == SIGQUIT || sig == SIGILL || sig == SIGTRAP || sig == SIGABRT || sig == SIGSYS ||
           sig == SIGSTKFLT;
}

static bool issyncsig(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE;
}

/* ---- foreign code --------------------------------------------------------- */

/* Text ranges of libc, the dynamic loader and the vDSO: a fault there is
 * not the program's (Go's "not Go code"); filled once at start. */
enum { MAX_FOREIGN = 16 };
static struct {
    uintptr_t lo, hi;
} foreign[MAX_FOREIGN];
static int nforeign;

static bool pcforeign(uintptr_t pc)
{
    for (int i = 0; i < nforeign; i++)
        if (pc >= foreign[i].lo && pc < foreign[i].hi)
            return true;
    return false;
}

/* Records the executable mappings of the files holding libc (found through
 * the address of a libc function), the loader (AT_BASE) and the vDSO. */
static void findforeign(void)
{
    uintptr_t probes[3] = {(uintptr_t)&strlen, (uintptr_t)getauxval(AT_BASE),
                           (uintptr_t)getauxval(AT_SYSINFO_EHDR)};
    uintptr_t exe = (uintptr_t)getauxval(AT_ENTRY);
    char paths[3][256] = {{0}};
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL)
        return;
    char line[512];
    /* Pass 1: which file holds each probe. */
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) < 3)
            continue;
        char *path = line + off;
        path[strcspn(path, "\n")] = '\0';
        for (int i = 0; i < 3; i++)
            if (probes[i] >= lo && probes[i] < hi && !(exe >= lo && exe < hi) && path[0] != '\0')
                snprintf(paths[i], sizeof paths[i], "%s", path);
    }
    rewind(f);
    /* Pass 2: their executable ranges. */
    while (fgets(line, sizeof line, f) != NULL && nforeign < MAX_FOREIGN) {
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perms, &off) < 3 ||
            perms[2] != 'x')
            continue;
        char *path = line + off;
        path[strcspn(path, "\n")] = '\0';
        for (int i = 0; i < 3; i++) {
            if (paths[i][0] != '\0' && strcmp(paths[i], path) == 0) {
                foreign[nforeign].lo = lo;
                foreign[nforeign].hi = hi;
                nforeign++;
                break;
            }
        }
    }
    fclose(f);
}

/* ---- per-M setup ------------------------------------------------------------ */

void minit(struct m *mp)
{
    mp->procid = (uintptr_t)os_gettid();
    if (mp->sigaltstack_mem == NULL) {
        mp->sigaltstack_mem = malloc(SIGSTACK_SIZE);
        if (mp->sigaltstack_mem == NULL)
            throw("minit: out of memory");
    }
    stack_t ss = {.ss_sp = mp->sigaltstack_mem, .ss_size = SIGSTACK_SIZE, .ss_flags = 0};
    sigaltstack(&ss, NULL);
}

/* ---- dispositions ----------------------------------------------------------- */

/* What each signal had before gort touched it (fwd), and whether gort's
 * handler is installed now.  Changed only under sigqueue's lock or at
 * start; read by the handler. */
static struct sigaction fwd[NSIG_GO];
static _Atomic bool installed[NSIG_GO];
static bool saved[NSIG_GO];
static bool claimed[NSIG_GO]; /* gort owns it: faults, dumps, SIGPIPE */

static void sighandler(int sig, siginfo_t *info, void *uctx);

static void save(int sig)
{
    if (!saved[sig]) {
        sigaction(sig, NULL, &fwd[sig]);
        saved[sig] = true;
    }
}

static bool fwdisuser(int sig)
{
    return saved[sig] && (fwd[sig].sa_flags & SA_SIGINFO ? fwd[sig].sa_sigaction != NULL
                                                         : (fwd[sig].sa_handler != SIG_DFL &&
                                                            fwd[sig].sa_handler != SIG_IGN));
}

static void install(int sig)
{
    save(sig);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sighandler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV); /* a fault inside the handler must still be seen */
    sigdelset(&sa.sa_mask, SIGBUS);
    sigdelset(&sa.sa_mask, SIGFPE);
    sigaction(sig, &sa, NULL);
    atomic_store(&installed[sig], true);
}

void signal_enable(int sig)
{
    if (sig > 0 && sig < NSIG_GO && !atomic_load(&installed[sig]))
        install(sig);
}

/* Back to what the signal did before Notify: gort's own handling if gort
 * claims it, else the program's original disposition. */
void signal_disable(int sig)
{
    if (sig <= 0 || sig >= NSIG_GO || claimed[sig] || !saved[sig])
        return;
    atomic_store(&installed[sig], false);
    sigaction(sig, &fwd[sig], NULL);
}

void signal_ignore(int sig)
{
    if (sig <= 0 || sig >= NSIG_GO || sig == SIGKILL || sig == SIGSTOP)
        return;
    save(sig);
    if (claimed[sig] && issyncsig(sig))
        return; /* faults stay panics */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    atomic_store(&installed[sig], false);
    sigaction(sig, &sa, NULL);
}

void signal_reset(int sig)
{
    if (sig <= 0 || sig >= NSIG_GO || !saved[sig])
        return;
    if (claimed[sig]) {
        install(sig);
        return;
    }
    atomic_store(&installed[sig], false);
    sigaction(sig, &fwd[sig], NULL);
}

bool signal_is_ignored(int sig)
{
    struct sigaction sa;
    if (sig <= 0 || sig >= NSIG_GO || sigaction(sig, NULL, &sa) != 0)
        return false;
    return !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN;
}

static void claim(int sig)
{
    save(sig);
    claimed[sig] = true;
    install(sig);
}

void signal_init(void)
{
    findforeign();
    /* Dumps and SIGPIPE: only where the program has no handler of its own
     * (nor ignores the signal). */
    static const int dumps[] = {SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGSYS, SIGSTKFLT, SIGPIPE};
    for (size_t i = 0; i < sizeof dumps / sizeof dumps[0]; i++) {
        int sig = dumps[i];
        if ((GORT_ASAN || GORT_TSAN) && sig != SIGQUIT && sig != SIGPIPE)
            continue;
        save(sig);
        if (fwdisuser(sig) || (!(fwd[sig].sa_flags & SA_SIGINFO) && fwd[sig].sa_handler == SIG_IGN))
            continue;
        claim(sig);
    }
#if !GORT_ASAN && !GORT_TSAN
    /* Faults: always ours; a program's handler gets the faults that are
     * not on a goroutine. */
    claim(SIGSEGV);
    claim(SIGBUS);
    claim(SIGFPE);
#endif
}

/* ---- the handler ------------------------------------------------------------ */

static void forward(int sig, siginfo_t *info, void *uctx)
{
    if (fwd[sig].sa_flags & SA_SIGINFO)
        fwd[sig].sa_sigaction(sig, info, uctx);
    else
        fwd[sig].sa_handler(sig);
}

/* Kills the program with sig's default action (Go's dieFromSignal). */
NORETURN void diefromsignal(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(2);
}

static void setsigctx(struct m *mp, const ucontext_t *uc)
{
    if (mp == NULL)
        return;
    mp->sigpc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    mp->sigsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    mp->sigfp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
}

static void dumpregs(const ucontext_t *uc)
{
    static const struct {
        const char *name;
        int reg;
    } regs[] = {
        {"rax", REG_RAX}, {"rbx", REG_RBX}, {"rcx", REG_RCX}, {"rdx", REG_RDX},
        {"rdi", REG_RDI}, {"rsi", REG_RSI}, {"rbp", REG_RBP}, {"rsp", REG_RSP},
        {"r8", REG_R8},   {"r9", REG_R9},   {"r10", REG_R10}, {"r11", REG_R11},
        {"r12", REG_R12}, {"r13", REG_R13}, {"r14", REG_R14}, {"r15", REG_R15},
        {"rip", REG_RIP}, {"rflags", REG_EFL},
    };
    static const char pad[] = "       ";
    const greg_t *gr = uc->uc_mcontext.gregs;
    /* Go's dumpregs: the name padded to seven columns. */
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        print("%s%s0x%lx\n", regs[i].name, pad + strlen(regs[i].name),
              (unsigned long)gr[regs[i].reg]);
    unsigned long csgsfs = (unsigned long)gr[REG_CSGSFS];
    print("cs     0x%lx\n", csgsfs & 0xffff);
    print("fs     0x%lx\n", (csgsfs >> 32) & 0xffff);
    print("gs     0x%lx\n", (csgsfs >> 16) & 0xffff);
}

/* GOTRACEBACK=crash signal dumps go round every m (Go's `crashing`): the
 * m the signal reached dumps every goroutine, then each other m in turn
 * dumps what it was running, from its own signal context, so that
 * goroutines "running on other thread" are seen too.  Nonzero once the
 * first m has dumped; a SIGQUIT then is a relay, whatever else wants it. */
static _Atomic int32_t crashing;

/* The next m to relay the dump to: one that has not dumped (or died) yet. */
static struct m *nextcrashm(void)
{
    for (struct m *mp = atomic_load(&allm); mp != NULL; mp = mp->alllink)
        if (mp->dying == 0 && !mp->exiting && mp->procid != 0)
            return mp;
    return NULL;
}

/* Hands the dump to the next m and waits for it (and the ms after it) to
 * end the process; crashes itself if the relay stalls — an m that blocks
 * SIGQUIT, say — as Go's does after 5 seconds. */
static NORETURN void relaycrash(void)
{
    struct m *next;
    while ((next = nextcrashm()) != NULL) {
        print("\n-----\n\n");
        printunlock();
        /* To that thread.  Go sends the relay to the process and lets the
         * signal masks of the ms that have dumped steer it; a thread that is
         * no m (a library's) could take it then.  The cost: the relayed
         * dumps say sigcode=-6 (SI_TKILL), not Go's 0 (SI_USER), which only
         * the main thread could fake (rt_tgsigqueueinfo insists on it). */
        if (syscall(SYS_tgkill, getpid(), (pid_t)next->procid, SIGQUIT) == 0) {
            struct timespec ts = {5, 0};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
            break;
        }
        next->dying = 1; /* gone since it was listed */
        printlock();
    }
    crash();
}

/* Go's sighandler for a fatal signal: the signal, every goroutine, the
 * registers; exit 2 (or SIGABRT with GOTRACEBACK=crash, after the relay
 * to every m). */
static NORETURN void sigdump(int sig, siginfo_t *info, ucontext_t *uc)
{
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;
    bool relayed = atomic_load(&crashing) > 0;
    if (mp != NULL) {
        mp->throwing = 2; /* THROW_RUNTIME: level 2, all goroutines */
        if (mp->dying++ > 0)
            _exit(2);
        mp->locks++;
    }
    if (!relayed)
        atomic_fetch_add(&panicking, 1);
    printlock();
    print("%s\n", signame_desc(sig));
    print("PC=0x%lx m=%ld sigcode=%d\n", (unsigned long)uc->uc_mcontext.gregs[REG_RIP],
          mp != NULL ? (long)mp->id : -1L, info->si_code);
    if (sig == SIGILL || sig == SIGFPE) {
        const uint8_t *pc = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
        print("instruction bytes:");
        for (int i = 0; i < 16; i++)
            print(" 0x%x", pc[i]);
        print("\n");
    }
    setsigctx(mp, uc);
    if (relayed && mp != NULL) {
        traceback_signalled_m(mp);
    } else {
        traceback_goroutines(gp, true, 2);
        print("\n");
    }
    dumpregs(uc);
    if (traceback_crash) {
        atomic_store(&crashing, 1);
        relaycrash();
    }
    printunlock();
    _exit(2);
}

/* A fault we cannot turn into a panic: say so from the signal stack. */
static NORETURN void sigfatal(int sig, siginfo_t *info, ucontext_t *uc)
{
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;
    if (gp != NULL) {
        gp->sig = sig;
        gp->sigcode0 = (uintptr_t)info->si_code;
        gp->sigcode1 = (uintptr_t)info->si_addr;
        gp->sigpc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    } else {
        print("fatal error: unexpected signal during runtime execution\n");
        print("[signal %s code=0x%x addr=0x%lx pc=0x%lx]\n", signame_desc(sig), info->si_code,
              (unsigned long)info->si_addr, (unsigned long)uc->uc_mcontext.gregs[REG_RIP]);
        _exit(2);
    }
    setsigctx(mp, uc);
    throw("unexpected signal during runtime execution");
}

/* Go's preparePanic: make sigreturn "call" gort_sigpanic from the faulting
 * instruction, on the goroutine's stack. */
static void preparepanic(struct g *gp, int sig, siginfo_t *info, ucontext_t *uc)
{
    greg_t *gr = uc->uc_mcontext.gregs;
    gp->sig = sig;
    gp->sigcode0 = (uintptr_t)info->si_code;
    gp->sigcode1 = (uintptr_t)info->si_addr;
    gp->sigpc = (uintptr_t)gr[REG_RIP];
    uintptr_t rsp = (uintptr_t)gr[REG_RSP];
    /* Faulted between a prologue's push of rbp and its mov of rsp into
     * rbp (compilers schedule loads into that gap): the frame record is at
     * rsp, not yet at rbp.  Point rbp at it so that the walk from
     * gort_sigpanic finds the faulting function's caller; the faulting
     * function never resumes, so its rbp is ours to change. */
    if (rsp >= gp->stack_lo && rsp + 16 <= gp->stack_hi && ((uintptr_t *)rsp)[0] == (uintptr_t)gr[REG_RBP])
        gr[REG_RBP] = (greg_t)rsp;
    uintptr_t sp = (rsp - 128) & ~(uintptr_t)15; /* below the red zone */
    sp -= 8;
    *(uintptr_t *)sp = (uintptr_t)gr[REG_RIP]; /* the "return address": the fault */
    gr[REG_RSP] = (greg_t)sp;
    gr[REG_RIP] = (greg_t)(uintptr_t)gort_sigpanic;
}

static bool writetobrokenstdpipe(const ucontext_t *uc)
{
    const greg_t *gr = uc->uc_mcontext.gregs;
    const uint8_t *pc = (const uint8_t *)gr[REG_RIP];
    return pc[-2] == 0x0f && pc[-1] == 0x05 && gr[REG_RAX] == -EPIPE &&
           (gr[REG_RDI] == 1 || gr[REG_RDI] == 2);
}

static void sighandler(int sig, siginfo_t *info, void *uctx)
{
    int saved_errno = errno;
    ucontext_t *uc = uctx;
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;

    /* 0. A write to a page the GC's dirty tracker protected: recorded, made
     * writable, retried (mgcdirty.c).  Bit 1 of the page-fault error code
     * says write: an instruction fetch from the heap stays a fault. */
    if (dirty_mode == DIRTY_MPROTECT && sig == SIGSEGV && info->si_code == SEGV_ACCERR &&
        (uc->uc_mcontext.gregs[REG_ERR] & 2) && dirty_fault((uintptr_t)info->si_addr)) {
        errno = saved_errno;
        return;
    }
    if (sig == SIGQUIT && atomic_load(&crashing) > 0)
        sigdump(sig, info, uc); /* this m's turn in a GOTRACEBACK=crash dump */
    if (issyncsig(sig) && info->si_code > 0) {
        struct g *ovf = sig != SIGFPE ? stack_guard_hit((uintptr_t)info->si_addr) : NULL;
        if (ovf != NULL) {
            setsigctx(mp, uc);
            printlock();
            print("runtime: goroutine stack exceeds %lu-byte limit\n",
                  (unsigned long)ovf->stack_size);
            print("runtime: sp=%p stack=[%p, %p]\n", (void *)uc->uc_mcontext.gregs[REG_RSP],
                  (void *)ovf->stack_lo, (void *)ovf->stack_hi);
            throw("stack overflow");
        }
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        if (mp != NULL && gp == mp->curg && sp > gp->stack_lo + 1024 && sp <= gp->stack_hi) {
            preparepanic(gp, sig, info, uc);
            errno = saved_errno;
            return;
        }
        if (mp == NULL && fwdisuser(sig)) {
            forward(sig, info, uctx);
            errno = saved_errno;
            return;
        }
        sigfatal(sig, info, uc);
    }

    if (sig == SIGURG && fwdisuser(sig)) {
        /* preempt.c's handler was there first: preemption must go on
         * working when a program is also notified of SIGURG (Go sends it
         * to Notify too). */
        forward(sig, info, uctx);
        if (sigqueue_wanted(sig))
            sigqueue_send(sig);
        errno = saved_errno;
        return;
    }
    if (sig == SIGPIPE && !sigqueue_wanted(sig)) {
        if (writetobrokenstdpipe(uc))
            diefromsignal(SIGPIPE);
        errno = saved_errno;
        return;
    }
    if (sigqueue_wanted(sig)) {
        sigqueue_send(sig);
        errno = saved_errno;
        return;
    }
    if (fwdisuser(sig)) {
        forward(sig, info, uctx);
        errno = saved_errno;
        return;
    }
    if (isdumpsig(sig) || issyncsig(sig))
        sigdump(sig, info, uc);
    diefromsignal(sig);
}

/* ---- gort_sigpanic: the goroutine side ------------------------------------- */

/* Entered from the handler's rewritten context, on the goroutine's stack,
 * as if the faulting instruction had called it (Go's sigpanic). */
NOINLINE void gort_sigpanic(void)
{
    struct g *gp = getg();
    struct m *mp = gp->m;
    bool canpanic = mp != NULL && gp == mp->curg && mp->locks == 0 && mp->throwing == 0 &&
                    mp->dying == 0 && readgstatus(gp) == G_RUNNING && !pcforeign(gp->sigpc);
    if (!canpanic)
        throw("unexpected signal during runtime execution");
    switch (gp->sig) {
    case SIGBUS:
        if (gp->sigcode0 == BUS_ADRERR && gp->sigcode1 < 0x1000)
            panic_error("invalid memory address or nil pointer dereference");
        print("unexpected fault address 0x%lx\n", (unsigned long)gp->sigcode1);
        throw("fault");
    case SIGSEGV:
        if ((gp->sigcode0 == 0 || gp->sigcode0 == SEGV_MAPERR || gp->sigcode0 == SEGV_ACCERR) &&
            gp->sigcode1 < 0x1000)
            panic_error("invalid memory address or nil pointer dereference");
        print("unexpected fault address 0x%lx\n", (unsigned long)gp->sigcode1);
        throw("fault");
    case SIGFPE:
        if (gp->sigcode0 == FPE_INTDIV)
            panic_error("integer divide by zero");
        if (gp->sigcode0 == FPE_INTOVF)
            panic_error("integer overflow");
        panic_error("floating point error");
    }
    throw("unexpected signal value");
}
