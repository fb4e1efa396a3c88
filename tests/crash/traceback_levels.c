/* Every kind of death at every GOTRACEBACK level (GO-FACTS 1.5, 1.8): a
 * panic (a string, a runtime error from a fault, a channel misuse), a
 * fatal error caused by user code (deadlock, sync misuse, go of nil) and a
 * runtime throw (stack overflow, a fault inside libc).  argv[1] names the
 * kind; traceback_levels.want runs each under none, single, all, system
 * and crash.  A helper goroutine blocked on a channel tells "all" from
 * "single"; "norun" as argv[2] adds one that never runs.
 * gort-test: plain-only (faults on purpose; the sanitizers own SIGSEGV)
 */
// gort-test: plain-only
#include <gort.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif
#define KEEP() __asm__ volatile("" ::: "memory")

static int *volatile nilptr;
static volatile int zero;
static gort_chan *never;

static NOINLINE void helper(void *arg)
{
    (void)arg;
    gort_chan_recv(never, NULL);
}

/* Started just before the panic of the *_norun cases: with GOMAXPROCS=1 it
 * never runs, and its frame is its start function at its entry. */
static NOINLINE void never_runs(void *arg)
{
    (void)arg;
    gort_chan_recv(never, NULL);
}

static NOINLINE void consume(int v)
{
    (void)v;
    KEEP();
}

static NOIPA int trigger_nilderef(int *p)
{
    int v = *p;
    consume(v);
    return v;
}

static NOIPA int trigger_divide(int a, int b)
{
    int v = a / b;
    consume(v);
    return v;
}

static NOINLINE void trigger_chan(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_chan_close(c);
    gort_chan_close(c);
    KEEP();
}

static NOINLINE void trigger_panic(void)
{
    gort_panic("boom");
}

static NOINLINE void trigger_unlock(void)
{
    static gort_mutex mu;
    gort_mutex_unlock(&mu);
    KEEP();
}

static NOINLINE void trigger_gonil(void)
{
    gort_go(NULL, NULL, 0);
    KEEP();
}

static NOINLINE void trigger_deadlock(void)
{
    gort_chan_recv(never, NULL);
    KEEP();
}

static volatile int forever = 1; /* hides the unbounded recursion from gcc */

static NOINLINE int trigger_overflow(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    if (!forever)
        return 0;
    return trigger_overflow(n + 1) + pad[0];
}

static NOINLINE size_t trigger_libc(void)
{
    size_t n = strlen((const char *)nilptr);
    KEEP();
    return n;
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    never = gort_chan_make(1, 0);
    gort_go(helper, NULL, 0);
    gort_gosched(); /* with GOMAXPROCS=1 (the want says so) the helper blocks first */
    if (argc > 2 && strcmp(argv[2], "norun") == 0)
        gort_go(never_runs, NULL, 0);
    if (strncmp(c, "panic", 5) == 0)
        trigger_panic();
    else if (strncmp(c, "nilderef", 8) == 0)
        printf("%d\n", trigger_nilderef(nilptr));
    else if (strncmp(c, "divide", 6) == 0)
        printf("%d\n", trigger_divide(7, zero));
    else if (strncmp(c, "chan", 4) == 0)
        trigger_chan();
    else if (strncmp(c, "unlock", 6) == 0)
        trigger_unlock();
    else if (strncmp(c, "gonil", 5) == 0)
        trigger_gonil();
    else if (strncmp(c, "deadlock", 8) == 0)
        trigger_deadlock();
    else if (strncmp(c, "overflow", 8) == 0)
        printf("%d\n", trigger_overflow(0));
    else if (strncmp(c, "libc", 4) == 0)
        printf("%zu\n", trigger_libc());
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
