/* Many goroutines sleeping short, varied intervals over and over, so timers
 * fire on one M while their owners reuse them on another (run under TSan
 * too).  Every sleep must end, and not early. */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { G = 1000, K = 200 }; /* sleeps of 1 to 81 µs: timers at a high rate */

static gort_waitgroup wg;
static _Atomic long early;

static void sleeper(void *arg)
{
    int id = *(int *)arg;
    for (int i = 0; i < K; i++) {
        int64_t d = 1000 + ((id * 7 + i * 13) % 5) * 20000;
        int64_t t0 = gort_nanotime();
        gort_sleep(d);
        if (gort_nanotime() - t0 < d)
            atomic_fetch_add(&early, 1);
    }
    gort_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_waitgroup_add(&wg, G);
    for (int i = 0; i < G; i++)
        gort_go(sleeper, &i, sizeof i);
    gort_waitgroup_wait(&wg);
    if (atomic_load(&early) != 0) {
        fprintf(stderr, "FAIL: %ld sleeps ended early\n", atomic_load(&early));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
