/* Thread locking (proc_test.go): TestYieldLocked (a locked goroutine
 * yields and sleeps, then exits still locked), TestBlockLocked with more
 * than one locked goroutine blocking on each other, and
 * TestLockOSThreadNesting by its observable effect (Go checks its internal
 * counts; here: after lock, lock, unlock the goroutine is still wired to
 * its thread, while busy goroutines compete for the Ps). */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(const char *test, const char *why)
{
    fprintf(stderr, "FAIL: %s: %s\n", test, why);
    exit(1);
}

static long tid(void)
{
    return (long)syscall(SYS_gettid);
}

/* ---- TestYieldLocked -------------------------------------------------- */

static void yield_locked_worker(void *arg)
{
    gort_chan *c = *(gort_chan **)arg;
    gort_lock_os_thread();
    long t = tid();
    for (int i = 0; i < 10; i++) {
        gort_gosched();
        gort_sleep(1000000);
        if (tid() != t)
            fail("YieldLocked", "a locked goroutine moved to another thread");
    }
    gort_chan_send(c, NULL);
    /* gort_unlock_os_thread() is deliberately omitted */
}

static void yield_locked(void)
{
    gort_chan *c = gort_chan_make(0, 0);
    gort_go(yield_locked_worker, &c, sizeof c);
    gort_chan_recv(c, NULL);
}

/* ---- TestBlockLocked, both ends locked, with one P -------------------- */

struct pingpong {
    gort_chan *ping, *pong;
    bool lock;
};

static void pong_worker(void *arg)
{
    struct pingpong *a = arg;
    if (a->lock)
        gort_lock_os_thread();
    long t = tid();
    int v;
    while (gort_chan_recv(a->ping, &v)) {
        v++;
        gort_chan_send(a->pong, &v);
        if (a->lock && tid() != t)
            fail("BlockLocked", "a locked goroutine moved to another thread");
    }
    if (a->lock)
        gort_unlock_os_thread();
    gort_chan_send(a->pong, &v);
}

static void block_locked(bool main_locked, bool worker_locked)
{
    struct pingpong a = {gort_chan_make(sizeof(int), 0), gort_chan_make(sizeof(int), 0),
                         worker_locked};
    if (main_locked)
        gort_lock_os_thread();
    long t = tid();
    gort_go(pong_worker, &a, sizeof a);
    for (int i = 0; i < 200; i++) {
        int v = i;
        gort_chan_send(a.ping, &v);
        gort_chan_recv(a.pong, &v);
        if (v != i + 1)
            fail("BlockLocked", "wrong value back");
        if (main_locked && tid() != t)
            fail("BlockLocked", "locked main moved to another thread");
    }
    gort_chan_close(a.ping);
    gort_chan_recv(a.pong, NULL);
    if (main_locked)
        gort_unlock_os_thread();
}

/* ---- TestLockOSThreadNesting ---------------------------------------------- */

static _Atomic int busy_stop;

static void busy(void *arg)
{
    (void)arg;
    while (!atomic_load(&busy_stop))
        gort_gosched();
}

static void nesting_worker(void *arg)
{
    gort_chan *done = *(gort_chan **)arg;
    gort_lock_os_thread();
    gort_lock_os_thread();
    gort_unlock_os_thread();
    long t = tid();
    /* Still locked once: every switch comes back to the same thread. */
    for (int i = 0; i < 200; i++) {
        if (i % 2)
            gort_gosched();
        else
            gort_sleep(10000);
        if (tid() != t)
            fail("LockOSThreadNesting", "lock, lock, unlock left the goroutine unlocked");
    }
    gort_unlock_os_thread();
    /* An extra unlock is a no-op, as in Go. */
    gort_unlock_os_thread();
    for (int i = 0; i < 10; i++)
        gort_gosched();
    gort_chan_send(done, NULL);
}

static void lock_nesting(void)
{
    int old = gort_gomaxprocs(2);
    atomic_store(&busy_stop, 0);
    for (int i = 0; i < 4; i++)
        gort_go(busy, NULL, 0);
    gort_chan *done = gort_chan_make(0, 0);
    for (int i = 0; i < 4; i++)
        gort_go(nesting_worker, &done, sizeof done);
    for (int i = 0; i < 4; i++)
        gort_chan_recv(done, NULL);
    atomic_store(&busy_stop, 1);
    while (gort_num_goroutine() != 1)
        gort_gosched();
    gort_gomaxprocs(old);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    yield_locked();
    int old = gort_gomaxprocs(1);
    block_locked(false, true);
    block_locked(true, false);
    block_locked(true, true);
    gort_gomaxprocs(old);
    block_locked(true, true);
    lock_nesting();
    /* The goroutine of yield_locked ended while locked; the program goes on. */
    yield_locked();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
