/*
 * preempt.c — asynchronous preemption by signal (Go's asyncPreempt).
 *
 * A goroutine that runs for more than 10 ms without calling into the
 * runtime would keep its P forever: C code has no compiler-inserted
 * preemption checks.  As Go does since 1.14, sysmon (and stop_the_world)
 * marks such a goroutine (g->preempt) and sends its thread SIGURG.  The
 * handler, running on the thread's sigaltstack, decides whether the
 * interrupted instruction is a safe point:
 *   - the thread runs a user g (not g0), holds a P, holds no runtime lock
 *     and is not inside gort_syscall_enter/exit;
 *   - the pc lies in the main executable's .text section: the program's
 *     own code.  Not the runtime's (every runtime object is moved to
 *     section gort_text at build time, see tools/rt-section.sh), not the
 *     PLT stubs through which the runtime calls libc (a pc there is still
 *     inside a runtime call), and not libc, the dynamic loader, the vDSO or
 *     other libraries: foreign code may hold locks of its own, as cgo calls
 *     do in Go.  The .text bounds are read from the executable's section
 *     headers at start-up;
 *   - the goroutine's stack has room for the register save area.
 * If so, it makes the goroutine call gort_asyncpreempt (arch/amd64/
 * preempt.S) from the interrupted pc: the red zone is skipped, every
 * register and the XSAVE state are saved on the goroutine's stack, and the
 * goroutine yields as if it had called gort_gosched.  Otherwise the signal
 * is ignored and sysmon tries again at the next tick.
 *
 * Sanitizer builds leave asynchronous preemption off: ASan and TSan cannot
 * follow a context switch made from inside a signal.  So does
 * GODEBUG=asyncpreemptoff=1 and a CPU without XSAVE.
 */
#include "runtime.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <link.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

uint32_t gort_xsave_size; /* bytes the trampoline reserves for XSAVE */
static bool async_enabled;
static uintptr_t exec_lo, exec_hi; /* the main executable's .text: program code */
static pid_t pid;

extern char __start_gort_text[] __attribute__((weak, visibility("hidden")));
extern char __stop_gort_text[] __attribute__((weak, visibility("hidden")));
void gort_asyncpreempt(void);

enum {
    RED_ZONE = 128,
    STACK_ROOM = 8192, /* frames of the yield path below the save area */
};

static int exec_bias(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    *(uintptr_t *)data = info->dlpi_addr;
    return 1; /* the first object is the executable */
}

/* Finds the executable's .text section: [exec_lo, exec_hi). */
static void find_text(void)
{
    uintptr_t bias = 0;
    dl_iterate_phdr(exec_bias, &bias);
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ElfW(Ehdr) eh;
    ElfW(Shdr) *sh = NULL;
    char *names = NULL;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || eh.e_shentsize != sizeof *sh ||
        eh.e_shstrndx >= eh.e_shnum)
        goto out;
    size_t shbytes = (size_t)eh.e_shnum * sizeof *sh;
    sh = malloc(shbytes);
    if (sh == NULL || pread(fd, sh, shbytes, (off_t)eh.e_shoff) != (ssize_t)shbytes)
        goto out;
    ElfW(Shdr) *strs = &sh[eh.e_shstrndx];
    names = malloc(strs->sh_size + 1);
    if (names == NULL ||
        pread(fd, names, strs->sh_size, (off_t)strs->sh_offset) != (ssize_t)strs->sh_size)
        goto out;
    names[strs->sh_size] = '\0';
    for (int i = 0; i < eh.e_shnum; i++) {
        if (sh[i].sh_name < strs->sh_size && strcmp(names + sh[i].sh_name, ".text") == 0) {
            exec_lo = bias + sh[i].sh_addr;
            exec_hi = exec_lo + sh[i].sh_size;
            break;
        }
    }
out:
    free(names);
    free(sh);
    close(fd);
}

static bool in_runtime(uintptr_t pc)
{
    return pc >= (uintptr_t)__start_gort_text && pc < (uintptr_t)__stop_gort_text;
}

void gort_asyncpreempt2(void)
{
    struct g *gp = getg();
    __atomic_store_n(&gp->preempt, false, __ATOMIC_RELAXED);
    gort_gosched();
}

static void sigurg(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)info;
    int saved = errno;
    ucontext_t *uc = uctx;
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    if (mp != NULL && gp != mp->g0 && gp == mp->curg && mp->locks == 0 && mp->p != NULL &&
        !mp->incgo && __atomic_load_n(&gp->preempt, __ATOMIC_RELAXED) &&
        pc >= exec_lo && pc < exec_hi && !in_runtime(pc) &&
        sp - RED_ZONE - gort_xsave_size - STACK_ROOM > gp->stack_lo && sp <= gp->stack_hi) {
        uintptr_t nsp = sp - RED_ZONE - 8;
        *(uintptr_t *)nsp = pc;
        uc->uc_mcontext.gregs[REG_RSP] = (greg_t)nsp;
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)gort_asyncpreempt;
    }
    errno = saved;
}

void gort_preempt_init(void)
{
    if (GORT_ASAN || GORT_TSAN || debug.asyncpreemptoff || __start_gort_text == NULL)
        return;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return;
    __cpuid_count(0xd, 0, a, b, c, d);
    if (b < 576)
        return;
    gort_xsave_size = b + 64;
    find_text();
    if (exec_hi == 0)
        return;
    pid = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigurg;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGURG, &sa, NULL) == 0)
        async_enabled = true;
}

/* Asks the goroutine running on pp to yield.  Any thread; racy by design:
 * if it already switched, the mark lands on a g that will clear it when it
 * next starts, and sysmon asks again later. */
void gort_preemptone(struct p *pp)
{
    /* The mark is only read by the signal handler: without asynchronous
     * preemption there is nothing to ask. */
    if (!async_enabled)
        return;
    struct m *mp = __atomic_load_n(&pp->m, __ATOMIC_RELAXED);
    if (mp == NULL)
        return;
    struct g *gp = __atomic_load_n(&mp->curg, __ATOMIC_RELAXED);
    if (gp == NULL || gp == mp->g0)
        return;
    __atomic_store_n(&gp->preempt, true, __ATOMIC_RELAXED);
    if (mp->procid != 0)
        syscall(SYS_tgkill, pid, (pid_t)mp->procid, SIGURG);
}

/* Asks every running goroutine to yield (stop the world). */
void gort_preemptall(void)
{
    int32_t n = atomic_load(&gomaxprocs);
    struct p **ps = __atomic_load_n(&allp, __ATOMIC_ACQUIRE);
    for (int32_t i = 0; i < n; i++)
        if (atomic_load(&ps[i]->status) == P_RUNNING)
            gort_preemptone(ps[i]);
}
