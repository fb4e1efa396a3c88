/* The scheduler under churn: thousands of goroutines doing random mixes of
 * yields, short sleeps, channel operations and spawns, while the main
 * goroutine changes GOMAXPROCS between 1 and 4 four dozen times.
 *
 * Channel operations, chosen so that none can block forever:
 *   - tokens: TOKENS values circulate among NPOOL buffered channels, each
 *     big enough for all of them.  A goroutine takes one with a blocking
 *     select over the whole pool, adds one to it and puts it in a random
 *     pool channel; puts never block and a token is never held across a
 *     block, so a taker always gets one in the end.
 *   - rendezvous: a blocking send on an unbuffered channel that SERVERS
 *     goroutines drain until main closes it after everything else ended.
 *   - a counter under a gort_mutex.
 * Roots start as slots free up and spawns come from a global budget when a
 * slot is free: the workers alive stay under MAX_LIVE (TSan's limit is
 * about 8000 goroutines); a spawned child does the same with fewer steps.
 *
 * Pacing without timing: workers offer a tick (a non-blocking send) after
 * each step, and main changes GOMAXPROCS once per tick it receives, or
 * straight away once every worker has finished.
 *
 * Exact checks at the end: every spawn ran, every token is back and its
 * increments add up to the passes made, the servers received exactly the
 * values sent, the mutex counter equals the increments, and NumGoroutine is
 * back to 1. */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* TSan's vector clocks grow with the goroutines alive at once (each is a
 * fiber), and every channel or mutex operation pays for them. */
#if defined(__SANITIZE_THREAD__)
#define LIVE_LIMIT 150
#else
#define LIVE_LIMIT 7000
#endif

#define FAIL(...)                                                                   \
    do {                                                                            \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                      \
        fprintf(stderr, "\n");                                                      \
        exit(1);                                                                    \
    } while (0)

enum {
    ROOTS = 3000,
    SPAWN_BUDGET = 4000,
    MAX_LIVE = LIVE_LIMIT, /* workers alive at once */
    STEPS = 64,
    NPOOL = 8,
    TOKENS = 64,
    SERVERS = 4,
    CHANGES = 48,
};

static gort_chan *pool[NPOOL], *rendezvous, *tick, *all_done;
static gort_chan *slots; /* one element per live worker: bounds them */
static _Atomic int64_t budget = SPAWN_BUDGET;
static _Atomic int64_t spawned, started, finished, live;
static _Atomic int64_t passes, rv_sent, rv_sent_sum, rv_recv, rv_recv_sum;
static gort_mutex mu;
static int64_t mu_counter; /* under mu */
static _Atomic int64_t mu_incs;
static gort_waitgroup servers_wg;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct job {
    uint64_t seed;
    int steps;
};

static void worker(void *arg);

static void finish(void)
{
    gort_chan_recv(slots, NULL);
    atomic_fetch_add(&finished, 1);
    if (atomic_fetch_sub(&live, 1) == 1)
        gort_chan_close(all_done);
}

static void pass_token(uint64_t *rng)
{
    int64_t v;
    gort_case cs[NPOOL];
    for (int i = 0; i < NPOOL; i++)
        cs[i] = (gort_case){pool[i], GORT_RECV, &v, false};
    int k = gort_select(cs, NPOOL, true);
    if (k < 0 || k >= NPOOL || !cs[k].ok)
        FAIL("token select returned case %d ok=%d", k, k >= 0 && k < NPOOL && cs[k].ok);
    v++;
    atomic_fetch_add(&passes, 1);
    /* Never blocks: every pool channel can hold every token. */
    gort_chan_send(pool[next_rand(rng) % NPOOL], &v);
}

static void step(uint64_t *rng, int steps)
{
    switch (next_rand(rng) % 8) {
    case 0:
    case 1:
        gort_gosched();
        break;
    case 2:
        gort_sleep((int64_t)(next_rand(rng) % 50000)); /* 0 to 50 us */
        break;
    case 3:
    case 4:
        pass_token(rng);
        break;
    case 5:
    {
        int64_t v = (int64_t)(next_rand(rng) % 1000);
        gort_chan_send(rendezvous, &v);
        atomic_fetch_add(&rv_sent, 1);
        atomic_fetch_add(&rv_sent_sum, v);
        break;
    }
    case 6:
        gort_mutex_lock(&mu);
        mu_counter++;
        if (next_rand(rng) % 4 == 0)
            gort_gosched(); /* make the others queue on the mutex */
        gort_mutex_unlock(&mu);
        atomic_fetch_add(&mu_incs, 1);
        break;
    default:
        if (steps > 2 && atomic_load(&budget) > 0 &&
            gort_select(&(gort_case){slots, GORT_SEND, &(int){0}, false}, 1, false) == 0) {
            if (atomic_fetch_sub(&budget, 1) <= 0) {
                gort_chan_recv(slots, NULL);
                break;
            }
            struct job child = {next_rand(rng) | 1, steps / 2};
            atomic_fetch_add(&live, 1);
            atomic_fetch_add(&spawned, 1);
            gort_go(worker, &child, sizeof child);
        }
    }
    gort_select(&(gort_case){tick, GORT_SEND, &(int){0}, false}, 1, false);
}

static void worker(void *arg)
{
    struct job *j = arg;
    uint64_t rng = j->seed;
    atomic_fetch_add(&started, 1);
    for (int i = 0; i < j->steps; i++)
        step(&rng, j->steps);
    finish();
}

/* Starts the roots, each when a slot is free, while main changes GOMAXPROCS. */
static void root_spawner(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROOTS; i++) {
        gort_chan_send(slots, &(int){0});
        struct job j = {0x9E3779B97F4A7C15ull * (uint64_t)(i + 1), STEPS};
        gort_go(worker, &j, sizeof j);
    }
    if (atomic_fetch_sub(&live, 1) == 1)
        gort_chan_close(all_done);
}

static void server(void *arg)
{
    (void)arg;
    int64_t v;
    while (gort_chan_recv(rendezvous, &v)) {
        atomic_fetch_add(&rv_recv, 1);
        atomic_fetch_add(&rv_recv_sum, v);
    }
    gort_waitgroup_done(&servers_wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int orig = gort_gomaxprocs(0);
    for (int i = 0; i < NPOOL; i++)
        pool[i] = gort_chan_make(sizeof(int64_t), TOKENS);
    for (int64_t t = 0; t < TOKENS; t++)
        gort_chan_send(pool[t % NPOOL], &(int64_t){t * 1000000});
    rendezvous = gort_chan_make(sizeof(int64_t), 0);
    tick = gort_chan_make(sizeof(int), 1);
    all_done = gort_chan_make(0, 0);
    gort_waitgroup_add(&servers_wg, SERVERS);
    for (int i = 0; i < SERVERS; i++)
        gort_go(server, NULL, 0);

    slots = gort_chan_make(sizeof(int), MAX_LIVE);
    atomic_store(&live, ROOTS + 1); /* the spawner's own reference, dropped at its end */
    gort_go(root_spawner, NULL, 0);

    uint64_t rng = 12345;
    bool done = false;
    for (int c = 0; c < CHANGES; c++) {
        if (!done) {
            gort_case cs[2] = {{tick, GORT_RECV, NULL, false}, {all_done, GORT_RECV, NULL, false}};
            if (gort_select(cs, 2, true) == 1)
                done = true;
        }
        int n = 1 + (int)(next_rand(&rng) % 4);
        int prev = gort_gomaxprocs(n);
        if (prev < 1 || prev > 4)
            FAIL("GOMAXPROCS returned %d", prev);
        if (gort_gomaxprocs(0) != n)
            FAIL("GOMAXPROCS(0) = %d after setting %d", gort_gomaxprocs(0), n);
    }
    gort_chan_recv(all_done, NULL);

    gort_chan_close(rendezvous);
    gort_waitgroup_wait(&servers_wg);

    int64_t roots_and_children = ROOTS + atomic_load(&spawned);
    if (atomic_load(&started) != roots_and_children || atomic_load(&finished) != roots_and_children)
        FAIL("started %ld, finished %ld, want %ld", (long)atomic_load(&started),
             (long)atomic_load(&finished), (long)roots_and_children);
    if (SPAWN_BUDGET - atomic_load(&spawned) != (atomic_load(&budget) > 0 ? atomic_load(&budget) : 0))
        FAIL("spawned %ld of a budget of %d, %ld left", (long)atomic_load(&spawned), SPAWN_BUDGET,
             (long)atomic_load(&budget));

    int64_t ntok = 0, sum = 0, v;
    for (int i = 0; i < NPOOL; i++)
        while (gort_select(&(gort_case){pool[i], GORT_RECV, &v, false}, 1, false) == 0) {
            ntok++;
            sum += v % 1000000;
        }
    if (ntok != TOKENS || sum != atomic_load(&passes))
        FAIL("tokens: %ld back (want %d), increments %ld (want %ld)", (long)ntok, TOKENS,
             (long)sum, (long)atomic_load(&passes));
    if (atomic_load(&rv_sent) != atomic_load(&rv_recv) ||
        atomic_load(&rv_sent_sum) != atomic_load(&rv_recv_sum))
        FAIL("rendezvous: sent %ld (sum %ld), received %ld (sum %ld)", (long)atomic_load(&rv_sent),
             (long)atomic_load(&rv_sent_sum), (long)atomic_load(&rv_recv),
             (long)atomic_load(&rv_recv_sum));
    gort_mutex_lock(&mu);
    int64_t m = mu_counter;
    gort_mutex_unlock(&mu);
    if (m != atomic_load(&mu_incs))
        FAIL("mutex counter %ld, increments %ld", (long)m, (long)atomic_load(&mu_incs));
    while (gort_num_goroutine() != 1)
        gort_gosched(); /* exiting goroutines may still be counted for a moment */
    gort_gomaxprocs(orig);
    printf("sched_stress: %ld goroutines, %ld token passes, %ld rendezvous, %d GOMAXPROCS changes\n",
           (long)roots_and_children, (long)atomic_load(&passes), (long)atomic_load(&rv_recv),
           CHANGES);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
