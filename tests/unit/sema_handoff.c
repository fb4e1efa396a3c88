/* Go's TestSemaHandoff, TestSemaHandoff1 and TestSemaHandoff2
 * (runtime/sema_test.go): semrelease with handoff gives the releaser's P to
 * the first waiter, so the waiter's next action comes before the releaser's.
 * The scheduler is free to differ now and then; as in Go, two thirds of
 * direct handoffs pass (the real ratio is far higher).  Go ends the busy
 * goroutines with a channel; here an atomic flag, and a WaitGroup. */
#include "sema.h"

#include <stdio.h>
#include <stdlib.h>

static uint32_t sema;
static _Atomic uint32_t res;
static _Atomic bool done;
static gort_waitgroup wg;

static void busy(void *arg)
{
    (void)arg;
    /* Keep the other Ps occupied so the releaser cannot migrate to one and
     * win the race from there. */
    while (!atomic_load(&done))
        gort_gosched();
    gort_waitgroup_done(&wg);
}

static void waiter(void *arg)
{
    (void)arg;
    semacquire(&sema);
    uint32_t zero = 0;
    atomic_compare_exchange_strong(&res, &zero, 1);
    semrelease1(&sema, true);
    atomic_store(&done, true);
    gort_waitgroup_done(&wg);
}

static bool handoff_once(void)
{
    atomic_store(&res, 0);
    atomic_store(&done, false);
    int procs = gort_gomaxprocs(0);
    for (int i = 0; i < procs; i++) {
        gort_waitgroup_add(&wg, 1);
        gort_go(busy, NULL, 0);
    }
    gort_waitgroup_add(&wg, 1);
    gort_go(waiter, NULL, 0);
    while (sema_nwait(&sema) == 0)
        gort_gosched(); /* until the waiter blocks in semacquire */

    /* The crux: release with handoff, then race the waiter to the CAS. */
    semrelease1(&sema, true);
    uint32_t zero = 0;
    atomic_compare_exchange_strong(&res, &zero, 2);

    gort_waitgroup_wait(&wg);
    semacquire(&sema); /* the waiter's release: leave the semaphore at 0 */
    return atomic_load(&res) == 1;
}

static void test_handoff(const char *name)
{
    enum { ITER = GORT_TSAN ? 2000 : 10000 }; /* TSan runs ~100x slower */
    int ok = 0;
    for (int i = 0; i < ITER; i++)
        ok += handoff_once();
    if (getenv("SEMA_VERBOSE"))
        fprintf(stderr, "%s: %d of %d\n", name, ok, ITER);
    if (ok < ITER * 2 / 3) {
        fprintf(stderr, "FAIL: %s: direct handoff < 2/3: %d of %d\n", name, ok, ITER);
        exit(1);
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int procs = gort_gomaxprocs(0);
    test_handoff("TestSemaHandoff");
    if (procs > 1) {
        gort_gomaxprocs(1);
        test_handoff("TestSemaHandoff1");
        gort_gomaxprocs(procs);
    }
    if (procs > 2) {
        gort_gomaxprocs(2);
        test_handoff("TestSemaHandoff2");
        gort_gomaxprocs(procs);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
