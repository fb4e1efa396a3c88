/* Threads the runtime did not create call into gort: they block on
 * channels, mutexes, wait groups and sleeps where a goroutine would park,
 * start goroutines, and hold no P while they run their own code.  One of
 * them starts before gort_main and waits for the runtime to come up. */
#include <gort.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { THREADS = 4, ROUNDS = 2000 };

static gort_chan *requests, *replies[THREADS + 1];
static gort_mutex mu;
static long shared_counter;
static gort_waitgroup threads_done, goroutines_done;
static _Atomic long from_goroutines;

struct req {
    int thread;
    long value;
};

static void fail(const char *why)
{
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}

static void helper_goroutine(void *arg)
{
    atomic_fetch_add(&from_goroutines, *(long *)arg);
    gort_waitgroup_done(&goroutines_done);
}

static _Atomic bool ready;
static _Atomic int attached;

static void *thread_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    /* Known to the runtime from here on (the early thread waits inside for
     * gort_main): until then a goroutine waiting for this thread would look
     * deadlocked. */
    gort_attach_thread();
    gort_attach_thread();
    atomic_fetch_add(&attached, 1);
    while (!atomic_load(&ready))
        gort_sleep(1000000); /* the early thread's first call waits for gort_main */
    for (long i = 0; i < ROUNDS; i++) {
        struct req r = {id, i};
        gort_chan_send(requests, &r);
        long reply;
        if (!gort_chan_recv(replies[id], &reply) || reply != 2 * i)
            fail("wrong reply");
        gort_mutex_lock(&mu);
        shared_counter++;
        gort_mutex_unlock(&mu);
        if (i % 500 == 0) {
            gort_sleep(100000);
            long v = i + 1;
            gort_waitgroup_add(&goroutines_done, 1);
            gort_go(helper_goroutine, &v, sizeof v);
        }
    }
    gort_waitgroup_done(&threads_done);
    return NULL;
}

static void server(void *arg)
{
    (void)arg;
    struct req r;
    while (gort_chan_recv(requests, &r)) {
        long reply = 2 * r.value;
        gort_chan_send(replies[r.thread], &reply);
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    requests = gort_chan_make(sizeof(struct req), 0);
    for (int i = 0; i <= THREADS; i++)
        replies[i] = gort_chan_make(sizeof(long), 1);
    gort_go(server, NULL, 0);
    atomic_store(&ready, true);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i) != 0)
            fail("pthread_create");
    while (atomic_load(&attached) < THREADS + 1)
        gort_gosched();
    gort_waitgroup_wait(&threads_done);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    gort_waitgroup_wait(&goroutines_done);
    if (shared_counter != (long)(THREADS + 1) * ROUNDS)
        fail("mutex counter");
    long want = 0;
    for (long i = 0; i < ROUNDS; i += 500)
        want += i + 1;
    if (atomic_load(&from_goroutines) != want * (THREADS + 1))
        fail("goroutines started by threads");
    return 0;
}

int main(int argc, char **argv)
{
    gort_waitgroup_add(&threads_done, THREADS + 1);
    pthread_t early;
    if (pthread_create(&early, NULL, thread_main, (void *)(intptr_t)THREADS) != 0)
        fail("pthread_create");
    pthread_detach(early);
    return gort_main(real_main, argc, argv);
}
