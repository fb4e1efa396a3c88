/* Go's sync/cond_test.go: TestCondSignal, TestCondSignalGenerations (Signal
 * wakes waiters in the order they waited), TestCondBroadcast, TestRace and
 * TestCondSignalStealing (a Broadcast racing with a new Wait still wakes the
 * old waiter).  TestCondCopy is a crash case in tests/crash/sync_misuse.c.
 *
 * Go's buffered channels here become counters read with atomics; "receive"
 * is a loop of gort_gosched until the count moves, which waits for an event
 * rather than for time.  Go's 2-second bound in TestCondSignalStealing is
 * the CTest timeout. */
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

static void await_count(_Atomic int *v, int want)
{
    while (atomic_load(v) < want)
        gort_gosched();
}

/* ---- TestCondSignal ------------------------------------------------- */

static gort_mutex m;
static gort_cond c;
static _Atomic int running, awake;
static gort_waitgroup wg;

static void signal_waiter(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    atomic_fetch_add(&running, 1);
    gort_cond_wait(&c);
    atomic_fetch_add(&awake, 1);
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void test_cond_signal(void)
{
    int n = 2;
    gort_cond_init(&c, &m);
    atomic_store(&running, 0);
    atomic_store(&awake, 0);
    gort_waitgroup_add(&wg, n);
    for (int i = 0; i < n; i++)
        gort_go(signal_waiter, NULL, 0);
    await_count(&running, n);
    for (int woken = 0; woken < n; woken++) {
        if (atomic_load(&awake) != woken) {
            fprintf(stderr, "FAIL: goroutine not asleep\n");
            exit(1);
        }
        gort_mutex_lock(&m);
        gort_cond_signal(&c);
        gort_mutex_unlock(&m);
        await_count(&awake, woken + 1); /* hangs if nobody wakes */
        if (atomic_load(&awake) != woken + 1) {
            fprintf(stderr, "FAIL: too many goroutines awake\n");
            exit(1);
        }
    }
    gort_cond_signal(&c);
    gort_waitgroup_wait(&wg);
}

/* ---- TestCondSignalGenerations ---------------------------------------- */

static _Atomic int awake_id = -1;

static void generation_waiter(void *arg)
{
    int i = *(int *)arg;
    gort_mutex_lock(&m);
    atomic_fetch_add(&running, 1);
    gort_cond_wait(&c);
    /* Main consumes one id before the next Signal: the slot is free. */
    atomic_store(&awake_id, i);
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void test_cond_signal_generations(void)
{
    enum { N = 100 };
    gort_cond_init(&c, &m);
    atomic_store(&running, 0);
    gort_waitgroup_add(&wg, N);
    for (int i = 0; i < N; i++) {
        gort_go(generation_waiter, &i, sizeof i);
        if (i > 0) {
            int a;
            while ((a = atomic_exchange(&awake_id, -1)) == -1)
                gort_gosched();
            if (a != i - 1) {
                fprintf(stderr, "FAIL: wrong goroutine woke up: want %d, got %d\n", i - 1, a);
                exit(1);
            }
        }
        await_count(&running, i + 1);
        gort_mutex_lock(&m);
        gort_cond_signal(&c);
        gort_mutex_unlock(&m);
    }
    gort_waitgroup_wait(&wg);
    CHECK(atomic_exchange(&awake_id, -1) == N - 1);
}

/* ---- TestCondBroadcast ------------------------------------------------ */

enum { BN = 200 };
static bool exit_flag; /* under m */
static _Atomic int wakes[BN];

static void broadcast_waiter(void *arg)
{
    int g = *(int *)arg;
    gort_mutex_lock(&m);
    while (!exit_flag) {
        atomic_fetch_add(&running, 1);
        gort_cond_wait(&c);
        atomic_fetch_add(&wakes[g], 1);
        atomic_fetch_add(&awake, 1);
    }
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void test_cond_broadcast(void)
{
    gort_cond_init(&c, &m);
    atomic_store(&running, 0);
    atomic_store(&awake, 0);
    gort_waitgroup_add(&wg, BN);
    for (int g = 0; g < BN; g++)
        gort_go(broadcast_waiter, &g, sizeof g);
    for (int i = 0; i < BN; i++) {
        await_count(&running, (i + 1) * BN); /* hangs unless BN are running */
        if (i == BN - 1) {
            gort_mutex_lock(&m);
            exit_flag = true;
            gort_mutex_unlock(&m);
        }
        if (atomic_load(&awake) != i * BN) {
            fprintf(stderr, "FAIL: goroutine not asleep\n");
            exit(1);
        }
        gort_mutex_lock(&m);
        gort_cond_broadcast(&c);
        gort_mutex_unlock(&m);
        await_count(&awake, (i + 1) * BN);
        for (int g = 0; g < BN; g++) {
            if (atomic_load(&wakes[g]) != i + 1) {
                fprintf(stderr, "FAIL: goroutine woke up twice (or not at all)\n");
                exit(1);
            }
        }
    }
    gort_waitgroup_wait(&wg);
    if (atomic_load(&running) != BN * BN) {
        fprintf(stderr, "FAIL: goroutine did not exit\n");
        exit(1);
    }
    gort_cond_broadcast(&c);
}

/* ---- TestRace --------------------------------------------------------- */

static int x; /* under m */

static void race1(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    x = 1;
    gort_cond_wait(&c);
    if (x != 2) {
        fprintf(stderr, "FAIL: want 2\n");
        exit(1);
    }
    x = 3;
    gort_cond_signal(&c);
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void race2(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    for (;;) {
        if (x == 1) {
            x = 2;
            gort_cond_signal(&c);
            break;
        }
        gort_mutex_unlock(&m);
        gort_gosched();
        gort_mutex_lock(&m);
    }
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void race3(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    for (;;) {
        if (x == 2) {
            gort_cond_wait(&c);
            if (x != 3) {
                fprintf(stderr, "FAIL: want 3\n");
                exit(1);
            }
            break;
        }
        if (x == 3)
            break;
        gort_mutex_unlock(&m);
        gort_gosched();
        gort_mutex_lock(&m);
    }
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void test_race(void)
{
    for (int i = 0; i < 100; i++) {
        gort_cond_init(&c, &m);
        x = 0;
        gort_waitgroup_add(&wg, 3);
        gort_go(race1, NULL, 0);
        gort_go(race2, NULL, 0);
        gort_go(race3, NULL, 0);
        gort_waitgroup_wait(&wg);
    }
}

/* ---- TestCondSignalStealing ------------------------------------------- */

static _Atomic int first_in, first_out;
static bool done_flag; /* under m */

static void first_waiter(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    atomic_store(&first_in, 1);
    gort_cond_wait(&c);
    gort_mutex_unlock(&m);
    atomic_store(&first_out, 1);
    gort_waitgroup_done(&wg);
}

static void broadcaster(void *arg)
{
    (void)arg;
    gort_cond_broadcast(&c);
    gort_waitgroup_done(&wg);
}

static void second_waiter(void *arg)
{
    (void)arg;
    gort_mutex_lock(&m);
    while (!done_flag)
        gort_cond_wait(&c);
    gort_mutex_unlock(&m);
    gort_waitgroup_done(&wg);
}

static void test_cond_signal_stealing(void)
{
    for (int iters = 0; iters < 1000; iters++) {
        gort_cond_init(&c, &m);
        done_flag = false;
        atomic_store(&first_in, 0);
        atomic_store(&first_out, 0);
        gort_waitgroup_add(&wg, 3);
        gort_go(first_waiter, NULL, 0);
        await_count(&first_in, 1);
        /* The waiter held m when it said so: once we get m it is in Wait. */
        gort_mutex_lock(&m);
        gort_mutex_unlock(&m);
        /* Race a Broadcast against a new Wait: the new waiter may or may
         * not be woken, the first must be. */
        gort_go(broadcaster, NULL, 0);
        gort_go(second_waiter, NULL, 0);
        await_count(&first_out, 1);
        gort_mutex_lock(&m);
        done_flag = true;
        gort_mutex_unlock(&m);
        gort_cond_broadcast(&c);
        gort_waitgroup_wait(&wg);
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_cond_signal();
    test_cond_signal_generations();
    test_cond_broadcast();
    test_race();
    test_cond_signal_stealing();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
