/* Go's sync/once_test.go TestOnce: ten goroutines call Do on one Once; fn
 * runs exactly once and every caller, on return, sees its effect.  fn
 * yields a few times so the other callers really pile up behind it.
 * (TestOncePanic waits for recover.) */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static gort_once once;
static int one;          /* written only by fn, without atomics */
static _Atomic int calls;
static gort_waitgroup wg;

static void increment(void *arg)
{
    int *o = arg;
    atomic_fetch_add(&calls, 1);
    for (int i = 0; i < 5; i++)
        gort_gosched();
    (*o)++;
}

static void run(void *arg)
{
    (void)arg;
    gort_once_do(&once, increment, &one);
    if (one != 1) {
        fprintf(stderr, "FAIL: once failed inside run: %d is not 1\n", one);
        exit(1);
    }
    gort_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    enum { N = 10 };
    gort_waitgroup_add(&wg, N);
    for (int i = 0; i < N; i++)
        gort_go(run, NULL, 0);
    gort_waitgroup_wait(&wg);
    if (one != 1 || atomic_load(&calls) != 1) {
        fprintf(stderr, "FAIL: once failed outside run: %d is not 1 (%d calls)\n", one,
                atomic_load(&calls));
        return 1;
    }
    gort_once_do(&once, increment, &one);
    if (one != 1) {
        fprintf(stderr, "FAIL: second Do called fn\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
