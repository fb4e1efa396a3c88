/*
 * signal.c — per-M signal stacks and the stack-overflow report.
 *
 * Every M gets a sigaltstack so that a fault on a goroutine stack — above
 * all, a write into the guard page below it — can still be handled: the
 * handler runs on the alternate stack, recognises a guard page of some
 * goroutine slot (stack.c), and prints Go's report ("runtime: goroutine
 * stack exceeds N-byte limit", "fatal error: stack overflow") with the
 * traceback of the goroutine that overflowed, then exits with status 2.
 * Faults that are not ours get the default action (the nil-dereference
 * panics of the defer/panic work replace that).
 */
#include "runtime.h"

#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

enum { SIGSTACK_SIZE = 64 << 10 };

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

static void sigsegv(int sig, siginfo_t *info, void *uctx)
{
    ucontext_t *uc = uctx;
    uintptr_t addr = (uintptr_t)info->si_addr;
    struct g *gp = stack_guard_hit(addr);
    if (gp != NULL) {
        struct g *cur = getg();
        if (cur != NULL && cur->m != NULL) {
            cur->m->sigpc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
            cur->m->sigsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
            cur->m->sigfp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
        }
        printlock();
        print("runtime: goroutine stack exceeds %lu-byte limit\n",
              (unsigned long)gp->stack_size);
        print("runtime: sp=%p stack=[%p, %p]\n", (void *)uc->uc_mcontext.gregs[REG_RSP],
              (void *)gp->stack_lo, (void *)gp->stack_hi);
        throw("stack overflow");
    }
    /* Not a goroutine stack guard: the default action. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(sig, &sa, NULL);
}

void signal_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigsegv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
#if !GORT_ASAN && !GORT_TSAN
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
#else
    (void)sa;
#endif
}
