/* Go's sync/waitgroup_test.go: TestWaitGroup (two groups used as barriers,
 * eight rounds on the same pair, so a group must be reusable once its Wait
 * returned) and TestWaitGroupRace (no spurious wake-up from Wait).  The
 * misuse panics are in tests/crash/sync_misuse.c.  Go's `exited` channel
 * is an atomic count and a third group. */
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

static gort_waitgroup wg1, wg2, wgexit;
static _Atomic int exited;

static void member(void *arg)
{
    (void)arg;
    gort_waitgroup_done(&wg1);
    gort_waitgroup_wait(&wg2);
    atomic_fetch_add(&exited, 1);
    gort_waitgroup_done(&wgexit);
}

static void test_waitgroup_round(void)
{
    enum { N = 16 };
    atomic_store(&exited, 0);
    gort_waitgroup_add(&wg1, N);
    gort_waitgroup_add(&wg2, N);
    gort_waitgroup_add(&wgexit, N);
    for (int i = 0; i < N; i++)
        gort_go(member, NULL, 0);
    gort_waitgroup_wait(&wg1);
    for (int i = 0; i < N; i++) {
        if (atomic_load(&exited) != 0) {
            fprintf(stderr, "FAIL: WaitGroup released group too soon\n");
            exit(1);
        }
        gort_waitgroup_done(&wg2);
    }
    gort_waitgroup_wait(&wgexit); /* blocks if the barrier fails to free one */
    CHECK(atomic_load(&exited) == N);
}

struct race {
    gort_waitgroup wg;
    _Atomic int n;
};

static void racer(void *arg)
{
    struct race *r = arg;
    atomic_fetch_add(&r->n, 1);
    gort_waitgroup_done(&r->wg);
}

static void test_waitgroup_race(void)
{
    for (int i = 0; i < 1000; i++) {
        struct race r = {0};
        gort_waitgroup_add(&r.wg, 1);
        gort_go(racer, &r, 0);
        gort_waitgroup_add(&r.wg, 1);
        gort_go(racer, &r, 0);
        gort_waitgroup_wait(&r.wg);
        if (atomic_load(&r.n) != 2) {
            fprintf(stderr, "FAIL: Spurious wakeup from Wait\n");
            exit(1);
        }
    }
}

/* Many waiters on one group, released by the last Done, then the group is
 * reused; a Wait on a zero group returns at once. */
static gort_waitgroup gate, waiters_done;

static void gate_waiter(void *arg)
{
    (void)arg;
    gort_waitgroup_wait(&gate);
    gort_waitgroup_done(&waiters_done);
}

static void test_many_waiters(void)
{
    gort_waitgroup zero = {0};
    gort_waitgroup_wait(&zero);
    for (int round = 0; round < 20; round++) {
        enum { W = 50 };
        gort_waitgroup_add(&gate, 1);
        gort_waitgroup_add(&waiters_done, W);
        for (int i = 0; i < W; i++)
            gort_go(gate_waiter, NULL, 0);
        for (int i = 0; i < round % 4; i++)
            gort_gosched();
        gort_waitgroup_done(&gate);
        gort_waitgroup_wait(&waiters_done);
    }
    CHECK(gate.state == 0);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < 8; i++)
        test_waitgroup_round();
    test_waitgroup_race();
    test_many_waiters();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
