/* The local run queue's invariants: Go's TestSchedLocalQueue,
 * TestSchedLocalQueueSteal and TestSchedLocalQueueEmpty, on our runq. */
#include "runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

void gort_test_runqput(struct p *pp, struct g *gp, bool next);
struct g *gort_test_runqget(struct p *pp);
struct g *gort_test_runqsteal(struct p *pp, struct p *p2, bool next);
bool gort_test_runqempty(struct p *pp);

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static struct p *mkp(void)
{
    struct p *pp = calloc(1, sizeof *pp);
    lock_init(&pp->timerslock, LOCKRANK_TIMERS);
    return pp;
}

/* TestSchedLocalQueue: put/get of 1..RUNQ_SIZE/2 gs keeps FIFO order. */
static void test_local_queue(void)
{
    struct p *pp = mkp();
    struct g *gs = calloc(RUNQ_SIZE, sizeof *gs);
    CHECK(gort_test_runqget(pp) == NULL);
    for (int i = 0; i < 1000; i++) {
        int n = i % (RUNQ_SIZE / 2) + 1;
        for (int j = 0; j < n; j++)
            gort_test_runqput(pp, &gs[j], false);
        for (int j = 0; j < n; j++) {
            struct g *gp = gort_test_runqget(pp);
            CHECK(gp == &gs[j]);
        }
        CHECK(gort_test_runqget(pp) == NULL);
        CHECK(gort_test_runqempty(pp));
    }
    /* runnext goes first and kicks its occupant to the tail. */
    gort_test_runqput(pp, &gs[0], false);
    gort_test_runqput(pp, &gs[1], true);
    gort_test_runqput(pp, &gs[2], true);
    CHECK(gort_test_runqget(pp) == &gs[2]);
    CHECK(gort_test_runqget(pp) == &gs[0]);
    CHECK(gort_test_runqget(pp) == &gs[1]);
    CHECK(gort_test_runqempty(pp));
    free(gs);
    free(pp);
}

/* Overflow moves half the ring to the global queue, none lost. */
static void test_overflow(void)
{
    struct p *pp = mkp();
    enum { N = RUNQ_SIZE * 3 };
    struct g *gs = calloc(N, sizeof *gs);
    for (int i = 0; i < N; i++)
        gort_test_runqput(pp, &gs[i], false);
    int local = 0;
    while (gort_test_runqget(pp) != NULL)
        local++;
    CHECK(local + sched.runqsize == N);
    CHECK(local <= RUNQ_SIZE);
    int global = 0;
    for (struct g *gp = sched.runqhead; gp != NULL; gp = gp->schedlink)
        global++;
    CHECK(global == sched.runqsize);
    sched.runqhead = sched.runqtail = NULL;
    sched.runqsize = 0;
    free(gs);
    free(pp);
}

/* TestSchedLocalQueueSteal: a stealer and the owner never both get a g,
 * and every g is got by someone. */
struct stealargs {
    struct p *p1, *p2;
    _Atomic int *seen;
    struct g *gs;
    _Atomic bool stop;
    long stolen;
};

static void *stealer(void *arg)
{
    struct stealargs *a = arg;
    while (!atomic_load(&a->stop)) {
        struct g *gp = gort_test_runqsteal(a->p2, a->p1, true);
        while (gp != NULL) {
            atomic_fetch_add(&a->seen[gp - a->gs], 1);
            a->stolen++;
            gp = gort_test_runqget(a->p2);
        }
    }
    return NULL;
}

static void test_steal(void)
{
    enum { N = 200, ROUNDS = 2000 };
    struct stealargs a = {.p1 = mkp(), .p2 = mkp()};
    a.gs = calloc(N, sizeof *a.gs);
    a.seen = calloc(N, sizeof *a.seen);
    pthread_t th;
    pthread_create(&th, NULL, stealer, &a);
    long owned = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int n = r % N + 1;
        for (int i = 0; i < n; i++)
            gort_test_runqput(a.p1, &a.gs[i], i == 0);
        struct g *gp;
        while ((gp = gort_test_runqget(a.p1)) != NULL) {
            atomic_fetch_add(&a.seen[gp - a.gs], 1);
            owned++;
        }
        /* Wait for the stealer to drain what it took before reusing gs. */
        while (!gort_test_runqempty(a.p2))
            ;
        for (int i = 0; i < n; i++) {
            int s;
            for (;;) {
                s = atomic_load(&a.seen[i]);
                if (s != 0)
                    break;
            }
            CHECK(s == 1);
            atomic_store(&a.seen[i], 0);
        }
    }
    atomic_store(&a.stop, true);
    pthread_join(th, NULL);
    fprintf(stderr, "owner got %ld, stealer got %ld\n", owned, a.stolen);
}

int main(void)
{
    test_local_queue();
    test_overflow();
    test_steal();
    return 0;
}
