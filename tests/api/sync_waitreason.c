/* A goroutine blocked in a sync primitive shows Go's wait reason in its
 * traceback header (GO-FACTS 1.7, the 1.20+ and 1.25 strings): main makes
 * one goroutine block in each, reads gort_stack(all) until every header is
 * there, then releases them all.  Also: the zero value of every type works. */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gort_mutex mu, condmu;
static gort_rwmutex rw_w, rw_r;
static gort_waitgroup gate, finished;
static gort_cond cond;
static bool go_on; /* under condmu */

static void lock_mutex(void *arg)
{
    (void)arg;
    gort_mutex_lock(&mu);
    gort_mutex_unlock(&mu);
    gort_waitgroup_done(&finished);
}

static void rlock_rw(void *arg)
{
    (void)arg;
    gort_rwmutex_rlock(&rw_w);
    gort_rwmutex_runlock(&rw_w);
    gort_waitgroup_done(&finished);
}

static void lock_rw(void *arg)
{
    (void)arg;
    gort_rwmutex_lock(&rw_r);
    gort_rwmutex_unlock(&rw_r);
    gort_waitgroup_done(&finished);
}

static void wait_wg(void *arg)
{
    (void)arg;
    gort_waitgroup_wait(&gate);
    gort_waitgroup_done(&finished);
}

static void wait_cond(void *arg)
{
    (void)arg;
    gort_mutex_lock(&condmu);
    while (!go_on)
        gort_cond_wait(&cond);
    gort_mutex_unlock(&condmu);
    gort_waitgroup_done(&finished);
}

static void yield_once(void *arg)
{
    (void)arg;
    gort_gosched();
}

static const char *const reasons[] = {
    "[sync.Mutex.Lock]:", "[sync.RWMutex.RLock]:", "[sync.RWMutex.Lock]:",
    "[sync.WaitGroup.Wait]:", "[sync.Cond.Wait]:",
};
enum { NREASONS = sizeof reasons / sizeof reasons[0] };

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_cond_init(&cond, &condmu);
    gort_mutex_lock(&mu);
    gort_rwmutex_lock(&rw_w);
    gort_rwmutex_rlock(&rw_r);
    gort_waitgroup_add(&gate, 1);
    gort_waitgroup_add(&finished, NREASONS);
    gort_go(lock_mutex, NULL, 0);
    gort_go(rlock_rw, NULL, 0);
    gort_go(lock_rw, NULL, 0);
    gort_go(wait_wg, NULL, 0);
    gort_go(wait_cond, NULL, 0);

    static char buf[1 << 16];
    for (;;) {
        int n = gort_stack(buf, sizeof buf - 1, true);
        buf[n] = 0;
        int found = 0;
        for (int i = 0; i < NREASONS; i++)
            found += strstr(buf, reasons[i]) != NULL;
        if (found == NREASONS)
            break;
        gort_gosched();
    }

    gort_mutex_unlock(&mu);
    gort_rwmutex_unlock(&rw_w);
    gort_rwmutex_runlock(&rw_r);
    gort_waitgroup_done(&gate);
    gort_mutex_lock(&condmu);
    go_on = true;
    gort_cond_broadcast(&cond);
    gort_mutex_unlock(&condmu);
    gort_waitgroup_wait(&finished);

    /* Zero values, reused after all that. */
    gort_mutex m = {0};
    gort_rwmutex rw = {0};
    gort_waitgroup wg = {0};
    gort_once once = {0};
    gort_mutex_lock(&m);
    gort_mutex_unlock(&m);
    gort_rwmutex_rlock(&rw);
    gort_rwmutex_runlock(&rw);
    gort_rwmutex_lock(&rw);
    gort_rwmutex_unlock(&rw);
    gort_waitgroup_wait(&wg);
    gort_once_do(&once, yield_once, NULL);
    if (m.state != 0 || rw.reader_count != 0 || rw.w.state != 0 || once.done != 1) {
        fprintf(stderr, "FAIL: state left behind\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
