/* Go's sync/mutex_test.go: TestMutex (TryLock, then goroutines hammering one
 * mutex with Lock/Unlock and TryLock) and TestMutexFairness (a goroutine
 * that holds the lock almost all the time must not starve another: this is
 * what starvation mode is for).  Plus a plain exclusion check: a counter
 * incremented without atomics under the lock loses nothing.
 * Go bounds the fairness wait by 10 s; here the CTest timeout does. */
// gort-test: timeout=60
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

static gort_mutex mu;
static gort_waitgroup wg;

struct hammer {
    gort_mutex *m;
    int loops;
};

static void hammer_mutex(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->loops; i++) {
        if (i % 3 == 0) {
            if (gort_mutex_trylock(h->m))
                gort_mutex_unlock(h->m);
            continue;
        }
        gort_mutex_lock(h->m);
        gort_mutex_unlock(h->m);
    }
    gort_waitgroup_done(&wg);
}

static void test_mutex(void)
{
    gort_mutex m = {0};
    gort_mutex_lock(&m);
    CHECK(!gort_mutex_trylock(&m));
    gort_mutex_unlock(&m);
    CHECK(gort_mutex_trylock(&m));
    gort_mutex_unlock(&m);

    struct hammer h = {&m, 1000};
    gort_waitgroup_add(&wg, 10);
    for (int i = 0; i < 10; i++)
        gort_go(hammer_mutex, &h, 0);
    gort_waitgroup_wait(&wg);
    CHECK(m.state == 0 && m.sema == 0);
}

/* Exclusion: many goroutines, a plain counter, some yields inside the
 * critical section so holders are switched out while holding it. */
static long counter;

static void incr(void *arg)
{
    int n = *(int *)arg;
    for (int i = 0; i < n; i++) {
        gort_mutex_lock(&mu);
        long v = counter;
        if (i % 64 == 0)
            gort_gosched();
        counter = v + 1;
        gort_mutex_unlock(&mu);
    }
    gort_waitgroup_done(&wg);
}

static void test_exclusion(void)
{
    enum { G = 50, N = 4000 };
    int n = N;
    gort_waitgroup_add(&wg, G);
    for (int i = 0; i < G; i++)
        gort_go(incr, &n, sizeof n);
    gort_waitgroup_wait(&wg);
    gort_mutex_lock(&mu);
    CHECK(counter == (long)G * N);
    gort_mutex_unlock(&mu);
}

/* TestMutexFairness. */
static _Atomic bool stop;

static void hog(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        gort_mutex_lock(&mu);
        gort_sleep(100 * 1000);
        gort_mutex_unlock(&mu);
    }
    gort_waitgroup_done(&wg);
}

static void polite(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++) {
        gort_sleep(100 * 1000);
        gort_mutex_lock(&mu);
        gort_mutex_unlock(&mu);
    }
    atomic_store(&stop, true);
    gort_waitgroup_done(&wg);
}

static void test_fairness(void)
{
    gort_waitgroup_add(&wg, 2);
    gort_go(hog, NULL, 0);
    gort_go(polite, NULL, 0);
    gort_waitgroup_wait(&wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_mutex();
    test_exclusion();
    test_fairness();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
