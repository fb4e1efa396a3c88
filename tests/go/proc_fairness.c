/* Ports of proc_test.go's TestTimerFairness and TestTimerFairness2, and a
 * TestStealOrder by its observable effect.
 *
 * Timer channels do not exist yet, so a "timer" is what time.After is in
 * Go 1.19: a 1-buffered channel fed once, here by a goroutine that sleeps
 * 20 ms and then sends.  The test is that the timer case is taken at all
 * while other cases are always ready: the sleeper must wake and run even
 * though the Ps stay busy with goroutines that never block for long.
 *
 * Steal: with GOMAXPROCS=4, three hogs spin without calling the runtime
 * (each therefore holds its own P); main blocks, leaving one P idle.  Each
 * hog in turn spawns a goroutine, which lands in the hog's P (its runnext)
 * where only stealing can reach it: the idle P's thread must find it on
 * every one of the other Ps (Go's stealOrder visits each P). */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void timer_fire(void *arg)
{
    gort_chan *t = *(gort_chan **)arg;
    gort_sleep(20 * 1000 * 1000);
    gort_chan_send(t, &(bool){true});
}

/* time.After(20 * time.Millisecond) */
static gort_chan *after_20ms(void)
{
    gort_chan *t = gort_chan_make(sizeof(bool), 1);
    gort_go(timer_fire, &t, sizeof t);
    return t;
}

/* ---- TestTimerFairness ------------------------------------------------------ */

struct fair {
    gort_chan *c, *done;
};

static void fair_sender(void *arg)
{
    struct fair *f = arg;
    bool v = true;
    for (;;) {
        gort_case cs[2] = {{f->c, GORT_SEND, &v, false}, {f->done, GORT_RECV, NULL, false}};
        if (gort_select(cs, 2, true) == 1)
            return;
    }
}

static void timer_fairness(void)
{
    struct fair f = {gort_chan_make(sizeof(bool), 0), gort_chan_make(sizeof(bool), 0)};
    for (int i = 0; i < 2; i++)
        gort_go(fair_sender, &f, sizeof f);
    gort_chan *timer = after_20ms();
    for (;;) {
        bool v;
        gort_case cs[2] = {{f.c, GORT_RECV, &v, false}, {timer, GORT_RECV, &v, false}};
        if (gort_select(cs, 2, true) == 1) {
            gort_chan_close(f.done);
            return;
        }
    }
}

/* ---- TestTimerFairness2 ------------------------------------------------------- */

static void fair2_worker(void *arg)
{
    struct fair *f = arg;
    gort_chan *timer = after_20ms();
    char buf[1];
    bool v = true, r;
    for (;;) {
        gort_syscall_enter(); /* syscall.Read(0, buf[0:0]) */
        ssize_t n = read(0, buf, 0);
        (void)n;
        gort_syscall_exit();
        gort_case cs[3] = {{f->c, GORT_SEND, &v, false},
                           {f->c, GORT_RECV, &r, false},
                           {timer, GORT_RECV, &r, false}};
        if (gort_select(cs, 3, true) == 2) {
            gort_chan_send(f->done, &v);
            return;
        }
    }
}

static void timer_fairness2(void)
{
    struct fair f = {gort_chan_make(sizeof(bool), 0), gort_chan_make(sizeof(bool), 0)};
    for (int i = 0; i < 2; i++)
        gort_go(fair2_worker, &f, sizeof f);
    gort_chan_recv(f.done, NULL);
    gort_chan_recv(f.done, NULL);
}

/* ---- stealing from every P ------------------------------------------------------ */

enum { HOGS = 3 };

static _Atomic int arrived, hog_stop;
static _Atomic int spawn_turn = -1;
static gort_chan *stolen;
static gort_waitgroup hogs_wg;

static void steal_me(void *arg)
{
    int i = *(int *)arg;
    gort_chan_send(stolen, &i);
}

static void hog(void *arg)
{
    int id = *(int *)arg;
    atomic_fetch_add(&arrived, 1);
    while (!atomic_load_explicit(&hog_stop, memory_order_relaxed)) {
        if (atomic_load_explicit(&spawn_turn, memory_order_relaxed) == id) {
            atomic_store(&spawn_turn, -1);
            gort_go(steal_me, &id, sizeof id);
        }
    }
    gort_waitgroup_done(&hogs_wg);
}

static void steal_from_every_p(void)
{
    /* A collection would have to stop hogs that never yield. */
    int gcpercent = gort_debug_set_gc_percent(-1);
    int old = gort_gomaxprocs(HOGS + 1);
    stolen = gort_chan_make(sizeof(int), 0);
    gort_waitgroup_add(&hogs_wg, HOGS);
    for (int i = 0; i < HOGS; i++)
        gort_go(hog, &i, sizeof i);
    while (atomic_load(&arrived) != HOGS)
        gort_gosched(); /* the hogs are all running, so each has a P */
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < HOGS; i++) {
            atomic_store(&spawn_turn, i);
            int got;
            gort_chan_recv(stolen, &got); /* main's P goes idle here */
            if (got != i) {
                fprintf(stderr, "FAIL: steal: got %d, want %d\n", got, i);
                exit(1);
            }
        }
    }
    atomic_store(&hog_stop, 1);
    gort_waitgroup_wait(&hogs_wg);
    gort_gomaxprocs(old);
    gort_debug_set_gc_percent(gcpercent);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    timer_fairness();
    timer_fairness2();
    int old = gort_gomaxprocs(1); /* the same with one P: nothing runs in parallel */
    timer_fairness();
    timer_fairness2();
    gort_gomaxprocs(old);
    steal_from_every_p();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
