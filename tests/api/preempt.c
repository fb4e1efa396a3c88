/* Asynchronous preemption: with one P, a goroutine spinning without calls
 * into the runtime must still let another goroutine run (Go's
 * TestPreemption / TestAsyncPreempt), the world must still stop for a
 * GOMAXPROCS change, and the spinner's registers — integer, SSE and flags —
 * must come back intact (its result is checked against a rerun).
 * Sanitizer builds do not preempt asynchronously. */
// gort-test: plain-only timeout=60
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static _Atomic int stop;
static _Atomic int spinner_done;

struct result {
    double x;
    uint64_t h;
    long n;
};
static struct result got;

static __attribute__((noinline)) struct result spin_until(long limit, _Atomic int *flag)
{
    double x = 1.0, y = 0.5;
    uint64_t h = 1469598103934665603ull;
    long n = 0;
    for (;;) {
        if (flag != NULL ? atomic_load_explicit(flag, memory_order_relaxed) : n == limit)
            break;
        x = x * 1.0000001 + y * 1e-9;
        y = y * 0.9999999 + 1e-12;
        h = (h ^ (uint64_t)n) * 1099511628211ull;
        n++;
    }
    return (struct result){x + y, h, n};
}

static void spinner(void *arg)
{
    (void)arg;
    got = spin_until(0, &stop);
    atomic_store(&spinner_done, 1);
}

static void stopper(void *arg)
{
    (void)arg;
    atomic_store(&stop, 1);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_gomaxprocs(1);
    gort_go(spinner, NULL, 0);
    gort_gosched(); /* the spinner now has the only P */
    /* We run again only if the spinner was preempted. */
    int old = gort_gomaxprocs(2); /* stops the world around a spinner */
    gort_gomaxprocs(old);
    gort_go(stopper, NULL, 0);
    while (!atomic_load(&spinner_done))
        gort_gosched();
    struct result want = spin_until(got.n, NULL);
    if (want.x != got.x || want.h != got.h) {
        fprintf(stderr, "FAIL: preempted computation differs: %.17g/%llx vs %.17g/%llx\n", got.x,
                (unsigned long long)got.h, want.x, (unsigned long long)want.h);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
