/* Misuse of the sync primitives dies with Go's messages (GO-FACTS 1.4,
 * 1.5): fatal errors for unlocking what is not locked, a throw for a mutex
 * whose state no correct program can produce, plain panics from WaitGroup
 * and Cond.  argv[1] names the case; sync_misuse.want holds the output.
 *
 * Two of Go's misuses are races by nature (an Add concurrent with a Wait,
 * a WaitGroup reused while a Wait is still returning).  wg_add_during_wait
 * fakes the instant of that race by writing the state word a racing Wait
 * would leave; wg_reused stages the real interleaving with one P, so the
 * woken waiter cannot run until main has started the next round. */
#include <gort.h>
#include <stdio.h>
#include <string.h>

static gort_waitgroup wg;

static void waiter(void *arg)
{
    (void)arg;
    gort_waitgroup_wait(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "unlock_unlocked") == 0) {
        gort_mutex m = {0};
        gort_mutex_unlock(&m);
    } else if (strcmp(c, "unlock_twice") == 0) {
        gort_mutex m = {0};
        gort_mutex_lock(&m);
        gort_mutex_unlock(&m);
        gort_mutex_unlock(&m);
    } else if (strcmp(c, "runlock_unlocked") == 0) {
        gort_rwmutex rw = {0};
        gort_rwmutex_runlock(&rw);
    } else if (strcmp(c, "runlock_write_locked") == 0) {
        gort_rwmutex rw = {0};
        gort_rwmutex_lock(&rw);
        gort_rwmutex_runlock(&rw);
    } else if (strcmp(c, "rwunlock_unlocked") == 0) {
        gort_rwmutex rw = {0};
        gort_rwmutex_unlock(&rw);
    } else if (strcmp(c, "rwunlock_read_locked") == 0) {
        gort_rwmutex rw = {0};
        gort_rwmutex_rlock(&rw);
        gort_rwmutex_unlock(&rw);
    } else if (strcmp(c, "inconsistent_state") == 0) {
        /* Starving with the lock held but nobody queued, and a semaphore
         * unit to wake us: the woken waiter finds LOCKED set. */
        gort_mutex m = {.state = 1 | 4, .sema = 1};
        gort_mutex_lock(&m);
    } else if (strcmp(c, "wg_negative") == 0) {
        gort_waitgroup_add(&wg, 1);
        gort_waitgroup_done(&wg);
        gort_waitgroup_done(&wg);
    } else if (strcmp(c, "wg_add_during_wait") == 0) {
        wg.state = 1; /* counter 0, one waiter: a Wait that raced past zero */
        gort_waitgroup_add(&wg, 1);
    } else if (strcmp(c, "wg_reused") == 0) {
        gort_waitgroup_add(&wg, 1);
        gort_go(waiter, NULL, 0);
        while ((uint32_t)__atomic_load_n(&wg.state, __ATOMIC_SEQ_CST) == 0)
            gort_gosched();      /* until the waiter is counted */
        gort_waitgroup_done(&wg); /* readies it, on this P */
        gort_waitgroup_add(&wg, 1);
        for (;;)
            gort_gosched(); /* let it run */
    } else if (strcmp(c, "cond_copied") == 0) {
        gort_mutex m = {0};
        gort_cond c1, c2;
        memset(&c1, 0, sizeof c1);
        gort_cond_init(&c1, &m);
        gort_cond_signal(&c1);
        memcpy(&c2, &c1, sizeof c2);
        gort_cond_signal(&c2);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 1;
    }
    printf("no crash\n");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
