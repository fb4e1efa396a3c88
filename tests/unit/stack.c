/* Stack slots: layout, guard pages, caching, lookup of a fault address. */
#include "runtime.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

void gort_test_stack_guardmode(int mode, long budget);

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static void check_layout(struct g *gp, size_t size)
{
    CHECK(gp->stack_size == size);
    CHECK((gp->stack_base & (size - 1)) == 0);
    CHECK(gp->stack_lo == gp->stack_base + 4096);
    CHECK(gp->stack_hi == (uintptr_t)gp);
    CHECK((uintptr_t)gp + sizeof *gp <= gp->stack_base + size);
    CHECK(stack_guard_hit(gp->stack_base) == gp);
    CHECK(stack_guard_hit(gp->stack_base + 4095) == gp);
    CHECK(stack_guard_hit(gp->stack_lo) == NULL);
    /* The usable stack is writable at both ends. */
    uintptr_t lo = gp->stack_lo + (gp->stackguard != 0 ? 8 : 0); /* spare the canary */
    memset((void *)lo, 0xab, 4096 - (lo - gp->stack_lo));
    memset((void *)(gp->stack_hi - 4096), 0xab, 4096);
}

/* Touching the guard page kills the process with SIGSEGV (or, on a kernel
 * with no guard support, the canary is in place). */
static void check_guard(struct g *gp)
{
    if (gp->stackguard != 0) {
        fprintf(stderr, "no guard page support: canary mode\n");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        *(volatile char *)(gp->stack_lo - 1) = 1;
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

int main(void)
{
    stack_init();
    struct g *gp = stackalloc_g(0);
    check_layout(gp, DEFAULT_STACK_SIZE);
    check_guard(gp);
    size_t sizes[] = {16 << 10, 64 << 10, 1 << 20, 8 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct g *x = stackalloc_g(sizes[i]);
        check_layout(x, sizes[i]);
        check_guard(x);
        stackfree_g(x);
        /* The freed slot comes back first, guard and all. */
        struct g *y = stackalloc_g(sizes[i]);
        CHECK(y == x);
        stackfree_g(y);
    }
    /* Odd sizes round up to a power of two, at least 16 KiB. */
    struct g *odd = stackalloc_g(100000);
    CHECK(odd->stack_size == 128 << 10);
    struct g *tiny = stackalloc_g(1);
    CHECK(tiny->stack_size == 16 << 10);
    /* Many slots: distinct, aligned, and past the warm-cache bound the freed
     * ones are still reusable. */
    enum { N = 5000 };
    struct g **gs = malloc(N * sizeof *gs);
    for (int i = 0; i < N; i++) {
        gs[i] = stackalloc_g(0);
        check_layout(gs[i], DEFAULT_STACK_SIZE);
        CHECK(i == 0 || gs[i] != gs[i - 1]);
    }
    for (int i = 0; i < N; i++)
        stackfree_g(gs[i]);
    for (int i = 0; i < N; i++) {
        gs[i] = stackalloc_g(0);
        check_layout(gs[i], DEFAULT_STACK_SIZE);
    }
    CHECK(stack_guard_hit((uintptr_t)&gs) == NULL);

    /* The fallbacks: mprotect guards while the budget lasts, then canaries
     * (checked at every switch-out: a clobbered one is "stack overflow"). */
    gort_test_stack_guardmode(1, 2);
    for (int i = 0; i < 3; i++) {
        struct g *x = stackalloc_g(32 << 10);
        check_layout(x, 32 << 10);
        if (i < 2) {
            CHECK(x->stackguard == 0);
            check_guard(x);
        } else {
            CHECK(x->stackguard == x->stack_lo); /* budget spent: canary */
            stack_check_canary(x);               /* intact: no complaint */
            pid_t pid = fork();
            if (pid == 0) {
                int devnull = open("/dev/null", O_WRONLY);
                dup2(devnull, 2);
                *(volatile uint64_t *)x->stackguard = 0; /* an overflow's footprint */
                stack_check_canary(x);
                _exit(0);
            }
            int st;
            waitpid(pid, &st, 0);
            CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        }
    }
    return 0;
}
