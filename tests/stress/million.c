/* 1,000,000 goroutines alive at once: each blocks on one shared channel
 * until main closes it (the idle benchmark's shape, as a test).  Checks
 * NumGoroutine at the peak and that all of them exit.
 * TSan keeps per-fiber state far too large for a million fibers. */
// gort-test: timeout=300 no-tsan
#include <gort.h>
#include <stdio.h>

enum { N = 1000000 };

static gort_chan *block;
static gort_waitgroup started, exited;

static void parked(void *arg)
{
    (void)arg;
    gort_waitgroup_done(&started);
    gort_chan_recv(block, NULL);
    gort_waitgroup_done(&exited);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    block = gort_chan_make(0, 0);
    gort_waitgroup_add(&started, N);
    gort_waitgroup_add(&exited, N);
    for (int i = 0; i < N; i++)
        gort_go(parked, NULL, 0);
    gort_waitgroup_wait(&started);
    int n = gort_num_goroutine();
    if (n != N + 1) {
        fprintf(stderr, "FAIL: NumGoroutine = %d, want %d\n", n, N + 1);
        return 1;
    }
    gort_chan_close(block);
    gort_waitgroup_wait(&exited);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
