/* Go's sync/rwmutex_test.go: TestParallelReaders (n readers hold the read
 * lock at the same time), TestRWMutex (TryLock/TryRLock, then writers and
 * readers hammering one RWMutex at several GOMAXPROCS, with an activity
 * counter that catches a writer overlapping anyone) and TestRLocker's
 * writer-waits-for-readers order.  Go's channels become WaitGroups here. */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

/* ---- TestParallelReaders -------------------------------------------- */

struct parallel {
    gort_rwmutex m;
    gort_waitgroup locked; /* every reader holds the read lock */
    gort_waitgroup release; /* main lets them go */
    gort_waitgroup done;
};

static void parallel_reader(void *arg)
{
    struct parallel *p = arg;
    gort_rwmutex_rlock(&p->m);
    gort_waitgroup_done(&p->locked);
    gort_waitgroup_wait(&p->release);
    gort_rwmutex_runlock(&p->m);
    gort_waitgroup_done(&p->done);
}

static void do_parallel_readers(int n, int procs)
{
    int old = gort_gomaxprocs(procs);
    struct parallel p = {0};
    gort_waitgroup_add(&p.locked, n);
    gort_waitgroup_add(&p.release, 1);
    gort_waitgroup_add(&p.done, n);
    for (int i = 0; i < n; i++)
        gort_go(parallel_reader, &p, 0);
    /* Deadlocks unless all n hold the read lock at once. */
    gort_waitgroup_wait(&p.locked);
    gort_waitgroup_done(&p.release);
    gort_waitgroup_wait(&p.done);
    gort_gomaxprocs(old);
}

static void test_parallel_readers(void)
{
    do_parallel_readers(1, 4);
    do_parallel_readers(3, 4);
    do_parallel_readers(4, 2);
}

/* ---- TestRWMutex ---------------------------------------------------- */

struct hammer {
    gort_rwmutex rwm;
    _Atomic int32_t activity;
    int iterations;
    gort_waitgroup done;
};

static void spin(void)
{
    for (volatile int i = 0; i < 100; i++) {
    }
}

static void reader(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->iterations; i++) {
        gort_rwmutex_rlock(&h->rwm);
        int32_t n = atomic_fetch_add(&h->activity, 1) + 1;
        if (n < 1 || n >= 10000) {
            fprintf(stderr, "FAIL: rlock(%d)\n", n);
            exit(1);
        }
        spin();
        atomic_fetch_add(&h->activity, -1);
        gort_rwmutex_runlock(&h->rwm);
    }
    gort_waitgroup_done(&h->done);
}

static void writer(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->iterations; i++) {
        gort_rwmutex_lock(&h->rwm);
        int32_t n = atomic_fetch_add(&h->activity, 10000) + 10000;
        if (n != 10000) {
            fprintf(stderr, "FAIL: wlock(%d)\n", n);
            exit(1);
        }
        spin();
        atomic_fetch_add(&h->activity, -10000);
        gort_rwmutex_unlock(&h->rwm);
    }
    gort_waitgroup_done(&h->done);
}

static void hammer_rwmutex(int procs, int nreaders, int iterations)
{
    int old = gort_gomaxprocs(procs);
    struct hammer h = {.iterations = iterations};
    gort_waitgroup_add(&h.done, 2 + nreaders);
    gort_go(writer, &h, 0);
    int i;
    for (i = 0; i < nreaders / 2; i++)
        gort_go(reader, &h, 0);
    gort_go(writer, &h, 0);
    for (; i < nreaders; i++)
        gort_go(reader, &h, 0);
    gort_waitgroup_wait(&h.done);
    CHECK(atomic_load(&h.activity) == 0);
    gort_gomaxprocs(old);
}

static void test_rwmutex(void)
{
    gort_rwmutex m = {0};
    gort_rwmutex_lock(&m);
    CHECK(!gort_rwmutex_trylock(&m));
    CHECK(!gort_rwmutex_tryrlock(&m));
    gort_rwmutex_unlock(&m);
    CHECK(gort_rwmutex_trylock(&m));
    gort_rwmutex_unlock(&m);
    CHECK(gort_rwmutex_tryrlock(&m));
    CHECK(gort_rwmutex_tryrlock(&m));
    CHECK(!gort_rwmutex_trylock(&m));
    gort_rwmutex_runlock(&m);
    gort_rwmutex_runlock(&m);

    int n = 1000;
    static const int cases[][2] = {{1, 1}, {1, 3}, {1, 10}, {4, 1}, {4, 3},
                                   {4, 10}, {10, 1}, {10, 3}, {10, 10}, {10, 5}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        hammer_rwmutex(cases[c][0], cases[c][1], n);
}

/* ---- writer waits for readers; readers wait for a pending writer ----- */

struct order {
    gort_rwmutex m;
    _Atomic int state; /* 0: readers in; 1: writer got it */
    gort_waitgroup wdone;
};

static void order_writer(void *arg)
{
    struct order *o = arg;
    gort_rwmutex_lock(&o->m);
    atomic_store(&o->state, 1);
    gort_rwmutex_unlock(&o->m);
    gort_waitgroup_done(&o->wdone);
}

static void test_writer_waits(void)
{
    struct order o = {0};
    gort_rwmutex_rlock(&o.m);
    gort_rwmutex_rlock(&o.m);
    gort_waitgroup_add(&o.wdone, 1);
    gort_go(order_writer, &o, 0);
    /* Once the writer has announced itself, new readers are refused. */
    while (gort_rwmutex_tryrlock(&o.m)) {
        gort_rwmutex_runlock(&o.m);
        gort_gosched();
    }
    CHECK(atomic_load(&o.state) == 0);
    gort_rwmutex_runlock(&o.m);
    CHECK(atomic_load(&o.state) == 0);
    gort_rwmutex_runlock(&o.m);
    gort_waitgroup_wait(&o.wdone);
    CHECK(atomic_load(&o.state) == 1);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_parallel_readers();
    test_rwmutex();
    test_writer_waits();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
