/* A goroutine that recurses without limit dies with Go's stack overflow
 * report: the limit, "fatal error: stack overflow", and its traceback from
 * the faulting frame with the middle elided (Go 1.21: 50 + 50 frames), at
 * level 2 because it is a throw.  The guard page is caught by signal.c,
 * which sanitizer builds do not install. */
// gort-test: plain-only
#include <gort.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static volatile int forever = 1; /* hides the unbounded recursion from gcc */

static NOINLINE int recurse(int n)
{
    volatile char pad[32];
    pad[0] = (char)n;
    if (!forever)
        return 0;
    return recurse(n + 1) + pad[0];
}

static void deep(void *arg)
{
    (void)arg;
    recurse(0);
    __asm__ volatile("" ::: "memory");
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_go_options opts = {.stack_size = 64 << 10};
    gort_go_opts(deep, NULL, 0, &opts);
    gort_sleep(3600 * 1000000000LL);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
