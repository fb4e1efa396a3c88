/*
 * pipeline — fan-out / fan-in, the shape of most Go servers' inner loops.
 *
 * A producer emits the numbers 1..N on a channel; a pool of workers (the
 * fan-out) squares each one, pretending it is slow work by yielding; a
 * collector (the fan-in) merges the results into one channel, and main
 * totals them.  A WaitGroup tells the merger when every worker is done so it
 * can close the results channel, which ends main's range loop.
 */
#include <gort.h>
#include <stdio.h>

enum { N = 1000, WORKERS = 8 };

struct stage {
    gort_chan *jobs;
    gort_chan *results;
    gort_waitgroup *wg;
    int id;
    long *done_by;
};

static void produce(void *arg)
{
    gort_chan *jobs = *(gort_chan **)arg;
    for (long i = 1; i <= N; i++)
        gort_chan_send(jobs, &i);
    gort_chan_close(jobs);
}

static void work(void *arg)
{
    struct stage *s = arg;
    long v;
    while (gort_chan_recv(s->jobs, &v)) {
        long sq = v * v;
        gort_gosched(); /* stand-in for real work */
        gort_chan_send(s->results, &sq);
        s->done_by[s->id]++;
    }
    gort_waitgroup_done(s->wg);
}

static void closer(void *arg)
{
    struct stage *s = arg;
    gort_waitgroup_wait(s->wg);
    gort_chan_close(s->results);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_chan *jobs = gort_chan_make(sizeof(long), 16);
    gort_chan *results = gort_chan_make(sizeof(long), 16);
    static gort_waitgroup wg;
    static long done_by[WORKERS];
    gort_go(produce, &jobs, sizeof jobs);
    gort_waitgroup_add(&wg, WORKERS);
    for (int i = 0; i < WORKERS; i++) {
        struct stage s = {jobs, results, &wg, i, done_by};
        gort_go(work, &s, sizeof s);
    }
    struct stage c = {jobs, results, &wg, 0, done_by};
    gort_go(closer, &c, sizeof c);

    long total = 0, count = 0, v;
    while (gort_chan_recv(results, &v)) {
        total += v;
        count++;
    }
    printf("%ld squares summed by %d workers on %d Ps: %ld (expected %ld)\n", count, WORKERS,
           gort_gomaxprocs(0), total, (long)N * (N + 1) * (2 * N + 1) / 6);
    printf("jobs per worker:");
    for (int i = 0; i < WORKERS; i++)
        printf(" %ld", done_by[i]);
    printf("\n");
    return total == (long)N * (N + 1) * (2 * N + 1) / 6 ? 0 : 1;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
