/* gort_lock_os_thread wires a goroutine to its thread across yields and
 * sleeps, nests like Go's LockOSThread, and other goroutines keep running
 * meanwhile (TestLockOSThreadNesting, and the wiring itself). */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int done;
static _Atomic long spins;

static long tid(void)
{
    return (long)syscall(SYS_gettid);
}

static void fail(const char *why)
{
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}

static void locked(void *arg)
{
    (void)arg;
    gort_lock_os_thread();
    gort_lock_os_thread(); /* nests */
    long t = tid();
    for (int i = 0; i < 200; i++) {
        if (i % 2)
            gort_gosched();
        else
            gort_sleep(10000);
        if (tid() != t)
            fail("locked goroutine moved to another thread");
    }
    gort_unlock_os_thread();
    for (int i = 0; i < 50; i++) {
        gort_gosched();
        if (tid() != t)
            fail("still locked after one unlock: moved");
    }
    gort_unlock_os_thread();
    gort_unlock_os_thread(); /* extra unlock is a no-op, as in Go */
    atomic_fetch_add(&done, 1);
}

static void busy(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        atomic_fetch_add(&spins, 1);
        gort_gosched();
    }
    atomic_fetch_add(&done, 1);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    enum { L = 4, B = 4 };
    for (int i = 0; i < L; i++)
        gort_go(locked, NULL, 0);
    for (int i = 0; i < B; i++)
        gort_go(busy, NULL, 0);
    /* The main goroutine can be locked too. */
    gort_lock_os_thread();
    long t = tid();
    while (atomic_load(&done) < L + B) {
        gort_sleep(100000);
        if (tid() != t)
            fail("locked main goroutine moved");
    }
    gort_unlock_os_thread();
    if (atomic_load(&spins) != B * 20000)
        fail("busy goroutines lost iterations");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
