/* Port of Go's test/tinyfin.go: finalizers on tiny (combined) allocations.
 * 4-byte pointer-free objects share 16-byte blocks; each gets a finalizer
 * that sends its value, which checks that the finalizer gets the right
 * sub-object.  At least 90% must be finalized (some blocks may share with
 * something that stays alive) within 5 seconds, none twice. */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 100

static gort_chan *finalized;

static void fin(void *p)
{
    int32_t v = *(int32_t *)p;
    gort_chan_send(finalized, &v);
}

static __attribute__((noinline)) void make(void)
{
    for (int32_t i = 0; i < N; i++) {
        int32_t *x = gort_malloc_noscan(sizeof *x); /* subject to tiny alloc */
        *x = i;
        gort_set_finalizer(x, fin);
    }
}

static void timeout_fn(void *arg)
{
    gort_sleep(5000000000ll);
    int32_t v = -1;
    gort_chan_send(arg, &v);
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    finalized = gort_chan_make(sizeof(int32_t), N);
    gort_chan *timeout = gort_chan_make(sizeof(int32_t), 1);
    make();
    gort_gc();
    gort_go(timeout_fn, timeout, 0);
    bool done[N] = {0};
    int count = 0;
    for (;;) {
        int32_t x = 0, t = 0;
        gort_case cases[2] = {
            {.chan = timeout, .dir = GORT_RECV, .elem = &t},
            {.chan = finalized, .dir = GORT_RECV, .elem = &x},
        };
        if (gort_select(cases, 2, true) == 0) {
            fprintf(stderr, "timeout, %d finalized so far\nnot all finalizers are called\n",
                    count);
            return 1;
        }
        if (x < 0 || x >= N) {
            fprintf(stderr, "got %d\ncorrupted\n", x);
            return 1;
        }
        if (done[x]) {
            fprintf(stderr, "got %d\nalready finalized\n", x);
            return 1;
        }
        done[x] = true;
        if (++count > N / 10 * 9)
            return 0;
    }
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
