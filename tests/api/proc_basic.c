/* Goroutines start, run, see their copied arguments, yield, sleep and exit;
 * NumGoroutine counts them; GOMAXPROCS changes at run time. */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static _Atomic int done;
static _Atomic long sum;

struct args {
    int i;
    char pad[100];
};

static void worker(void *p)
{
    struct args *a = p;
    for (int k = 0; k < 3; k++)
        gort_gosched();
    atomic_fetch_add(&sum, a->i);
    atomic_fetch_add(&done, 1);
}

static void sleeper(void *p)
{
    (void)p;
    int64_t t0 = gort_nanotime();
    gort_sleep(1000000);
    if (gort_nanotime() - t0 < 1000000) {
        fprintf(stderr, "FAIL: woke early\n");
        exit(1);
    }
    atomic_fetch_add(&done, 1);
}

static void wait_done(int n)
{
    while (atomic_load(&done) < n)
        gort_gosched();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (gort_goid() != 1) {
        fprintf(stderr, "FAIL: main goid %ld\n", (long)gort_goid());
        return 1;
    }
    enum { N = 10000 };
    long want = 0;
    for (int i = 0; i < N; i++) {
        struct args a = {.i = i};
        gort_go(worker, &a, sizeof a);
        want += i;
    }
    wait_done(N);
    if (atomic_load(&sum) != want) {
        fprintf(stderr, "FAIL: sum %ld want %ld\n", atomic_load(&sum), want);
        return 1;
    }
    atomic_store(&done, 0);
    for (int i = 0; i < 100; i++)
        gort_go(sleeper, NULL, 0);
    wait_done(100);
    int old = gort_gomaxprocs(1);
    if (gort_gomaxprocs(0) != 1) {
        fprintf(stderr, "FAIL: gomaxprocs not 1\n");
        return 1;
    }
    atomic_store(&done, 0);
    for (int i = 0; i < 1000; i++) {
        struct args a = {.i = i};
        gort_go(worker, &a, sizeof a);
    }
    gort_gomaxprocs(4);
    wait_done(1000);
    gort_gomaxprocs(old);
    gort_sleep(0);
    while (gort_num_goroutine() != 1)
        gort_gosched();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
