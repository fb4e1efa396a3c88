/* Ports of proc_test.go's TestGoroutineParallelism2 and
 * TestStopTheWorldDeadlock.
 *
 * Parallelism2: P goroutines, spawned two levels deep, take turns through
 * a shared counter; the "load" variant first makes P goroutines busy at
 * once so that worker threads are parking as the test starts.  The spin
 * loops call gort_gosched (the runtime does not preempt in every build), so
 * what is checked is that nested spawns and parking threads never lose a
 * goroutine, with any GOMAXPROCS.
 *
 * StopTheWorldDeadlock: a thousand GCs and a thousand GOMAXPROCS(3) calls
 * (fewer under sanitizers) race with a goroutine that keeps replacing itself (perpetuumMobile). */
// gort-test: timeout=180
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { P = 4, TRIES = 10 };

/* Each try has its own counter and channel, as Go's closures do: a load
 * worker still spinning on the last try's counter must not see this one. */
struct try {
    _Atomic uint32_t x;
    gort_chan *done;
};

struct worker_arg {
    struct try *t;
    uint32_t id; /* p*2 + p2 */
};

static void spin_until(struct try *t, uint32_t want)
{
    while (atomic_load(&t->x) != want)
        gort_gosched();
}

static void load_worker(void *arg)
{
    struct try *t = arg;
    if (atomic_fetch_add(&t->x, 1) + 1 == P) {
        gort_chan_send(t->done, NULL);
        return;
    }
    spin_until(t, P);
}

static void turn_worker(void *arg)
{
    struct worker_arg *a = arg;
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t expected = P * i + a->id;
        spin_until(a->t, expected);
        atomic_store(&a->t->x, expected + 1);
    }
    gort_chan_send(a->t->done, NULL);
}

static void spawner(void *arg)
{
    struct worker_arg *a = arg;
    for (uint32_t p2 = 0; p2 < 2; p2++) {
        struct worker_arg w = {a->t, a->id * 2 + p2};
        gort_go(turn_worker, &w, sizeof w);
    }
}

static void parallelism2(bool load)
{
    int old = gort_gomaxprocs(P);
    for (int try = 0; try < TRIES; try++) {
        if (load) {
            struct try *t = gort_malloc(sizeof *t);
            t->done = gort_chan_make(0, 0);
            for (int p = 0; p < P; p++)
                gort_go(load_worker, t, 0);
            gort_chan_recv(t->done, NULL);
        }
        struct try *t = gort_malloc(sizeof *t);
        t->done = gort_chan_make(0, 0);
        for (uint32_t p = 0; p < P / 2; p++) {
            struct worker_arg a = {t, p};
            gort_go(spawner, &a, sizeof a);
        }
        for (int p = 0; p < P; p++)
            gort_chan_recv(t->done, NULL);
        if (atomic_load(&t->x) != 3 * P) {
            fprintf(stderr, "FAIL: GoroutineParallelism2: counter %u, want %u\n",
                    (unsigned)atomic_load(&t->x), 3u * P);
            exit(1);
        }
    }
    gort_gomaxprocs(old);
}

/* ---- TestStopTheWorldDeadlock ----------------------------------------------- */

/* Go runs a thousand of each; a collection under TSan costs a hundred
 * times more CPU than in a plain build, so sanitizer builds run fewer. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
enum { STW_ROUNDS = 50 };
#else
enum { STW_ROUNDS = 1000 };
#endif

static gort_chan *stop;

static void perpetuum_mobile(void *arg)
{
    (void)arg;
    if (gort_select(&(gort_case){stop, GORT_RECV, NULL, false}, 1, false) < 0)
        gort_go(perpetuum_mobile, NULL, 0);
}

static gort_chan *compl;

static void gcs(void *arg)
{
    (void)arg;
    for (int i = 0; i != STW_ROUNDS; i++)
        gort_gc();
    gort_chan_send(compl, &(bool){true});
}

static void procs(void *arg)
{
    (void)arg;
    for (int i = 0; i != STW_ROUNDS; i++)
        gort_gomaxprocs(3);
    gort_chan_send(compl, &(bool){true});
}

static void stop_the_world_deadlock(void)
{
    stop = gort_chan_make(sizeof(bool), 1);
    compl = gort_chan_make(sizeof(bool), 2);
    int maxprocs = gort_gomaxprocs(3);
    gort_go(gcs, NULL, 0);
    gort_go(procs, NULL, 0);
    gort_go(perpetuum_mobile, NULL, 0);
    gort_chan_recv(compl, NULL);
    gort_chan_recv(compl, NULL);
    gort_chan_send(stop, &(bool){true});
    gort_gomaxprocs(maxprocs);
    /* The last perpetuum mobile takes the stop value and ends. */
    while (gort_num_goroutine() != 1)
        gort_gosched();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    parallelism2(true);
    parallelism2(false);
    parallelism2(true);
    stop_the_world_deadlock();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
