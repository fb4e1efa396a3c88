/* Ports of runtime/proc_test.go: TestYieldProgress, TestYieldLockedProgress,
 * TestGoroutineParallelism, TestBlockLocked, TestNumGoroutine,
 * TestPreemption, TestPreemptionGC-like (a spinning goroutine does not stop
 * the world from stopping), TestStopTheWorldDeadlock, plus gort_go's
 * argument copying and errno kept per goroutine. */
// gort-test: timeout=120
#include <errno.h>
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif
#ifndef SANITIZER_BUILD
#define SANITIZER_BUILD 0
#endif

static void fail(const char *test, const char *why)
{
    fprintf(stderr, "FAIL: %s: %s\n", test, why);
    exit(1);
}

/* ---- TestYieldProgress / TestYieldLockedProgress ------------------------ */

static void yielder(void *arg)
{
    struct {
        gort_chan *c;
        bool locked;
    } *a = arg;
    if (a->locked)
        gort_lock_os_thread();
    for (;;) {
        if (gort_select(&(gort_case){a->c, GORT_RECV, NULL, false}, 1, false) == 0) {
            gort_chan_send(a->c, NULL);
            return;
        }
        gort_gosched();
    }
}

static void yield_progress(bool locked)
{
    gort_chan *c = gort_chan_make(0, 0);
    struct {
        gort_chan *c;
        bool locked;
    } a = {c, locked};
    gort_go(yielder, &a, sizeof a);
    gort_chan_send(c, NULL);
    gort_chan_recv(c, NULL);
}

/* ---- TestGoroutineParallelism: P goroutines each wait for their turn in a
 * shared counter; only truly parallel goroutines get through. ------------ */

static _Atomic uint32_t turn;

struct par {
    uint32_t p, n, id;
    gort_waitgroup *wg;
};

static void par_worker(void *arg)
{
    struct par *a = arg;
    for (uint32_t i = 0; i < 3; i++) {
        uint32_t expected = a->p * i + a->id;
        while (atomic_load(&turn) != expected)
            ; /* no runtime call: only preemption or parallelism helps */
        atomic_store(&turn, expected + 1);
    }
    gort_waitgroup_done(a->wg);
}

static __attribute__((unused)) void goroutine_parallelism(void)
{
    uint32_t p = (uint32_t)gort_num_cpu();
    if (p > 4)
        p = 4;
    int old = gort_gomaxprocs((int)p);
    for (int try = 0; try < 10; try++) {
        gort_waitgroup wg = {0};
        atomic_store(&turn, 0);
        gort_waitgroup_add(&wg, (int)p);
        for (uint32_t id = 0; id < p; id++) {
            struct par a = {p, 3, id, &wg};
            gort_go(par_worker, &a, sizeof a);
        }
        gort_waitgroup_wait(&wg);
    }
    gort_gomaxprocs(old);
}

/* ---- TestBlockLocked ----------------------------------------------------- */

static void block_locked_worker(void *arg)
{
    gort_chan *c = *(gort_chan **)arg;
    gort_lock_os_thread();
    for (int i = 0; i < 100; i++)
        gort_chan_send(c, NULL);
    gort_unlock_os_thread();
}

static void block_locked(void)
{
    gort_chan *c = gort_chan_make(0, 0);
    gort_go(block_locked_worker, &c, sizeof c);
    for (int i = 0; i < 100; i++)
        gort_chan_recv(c, NULL);
}

/* ---- TestNumGoroutine: the count matches runtime.Stack(all) ------------ */

static gort_chan *numg_block;

static void numg_worker(void *arg)
{
    (void)arg;
    gort_chan_recv(numg_block, NULL);
}

static int count_headers(const char *buf)
{
    int n = 0;
    for (const char *s = buf; (s = strstr(s, "goroutine ")) != NULL; s++)
        if (s == buf || s[-1] == '\n')
            n++;
    return n;
}

static void num_goroutine(void)
{
    static char buf[1 << 20];
    numg_block = gort_chan_make(0, 0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++)
            gort_go(numg_worker, NULL, 0);
        /* Goroutines still starting or exiting make a snapshot differ;
         * Go's test tries five times. */
        for (int attempt = 0;; attempt++) {
            for (int i = 0; i < 20; i++)
                gort_gosched();
            int n = gort_num_goroutine();
            int len = gort_stack(buf, sizeof buf - 1, true);
            buf[len] = '\0';
            int m = count_headers(buf);
            if (n == m)
                break;
            if (attempt == 4) {
                fprintf(stderr, "NumGoroutine=%d, but Stack(all) shows %d:\n%s\n", n, m, buf);
                fail("NumGoroutine", "count differs from the goroutines in Stack(all)");
            }
        }
    }
    gort_chan_close(numg_block);
    while (gort_num_goroutine() != 1)
        gort_gosched();
}

/* ---- TestPreemption: with one P, a goroutine spinning without calls does
 * not starve the others. --------------------------------------------------- */

static _Atomic int spin_stop;

static void spinner(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
        ;
}

static __attribute__((unused)) void preemption(void)
{
    int old = gort_gomaxprocs(1);
    atomic_store(&spin_stop, 0);
    gort_go(spinner, NULL, 0);
    gort_gosched(); /* the spinner takes the P */
    /* A GOMAXPROCS change stops the world around the spinner... */
    gort_gomaxprocs(2);
    gort_gomaxprocs(1);
    /* ...and sleeping needs the P back to wake up. */
    gort_sleep(1000000);
    atomic_store(&spin_stop, 1);
    gort_gomaxprocs(old);
}

/* ---- TestStopTheWorldDeadlock --------------------------------------------- */

static _Atomic int stw_stop;

static void stw_yielder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stw_stop))
        gort_gosched();
}

static void stop_the_world_deadlock(void)
{
    int old = gort_gomaxprocs(4);
    for (int i = 0; i < 4; i++)
        gort_go(stw_yielder, NULL, 0);
    for (int i = 0; i < 100; i++) {
        gort_gomaxprocs(1 + i % 4);
        gort_gosched();
    }
    atomic_store(&stw_stop, 1);
    gort_gomaxprocs(old);
}

/* ---- gort_go copies its argument bytes at the call ------------------------ */

struct blob {
    char bytes[200];
    gort_chan *done;
};

static void check_blob(void *arg)
{
    struct blob *b = arg;
    for (int i = 0; i < 200; i++)
        if (b->bytes[i] != (char)i)
            fail("gort_go", "argument bytes changed after the call");
    gort_chan_send(b->done, NULL);
}

static void arg_copy(void)
{
    struct blob b;
    b.done = gort_chan_make(0, 0);
    for (int i = 0; i < 200; i++)
        b.bytes[i] = (char)i;
    gort_go(check_blob, &b, sizeof b);
    memset(b.bytes, 0x55, sizeof b.bytes); /* the goroutine has its own copy */
    gort_chan_recv(b.done, NULL);
}

/* ---- errno belongs to the goroutine ------------------------------------ */

/* errno through out-of-line accessors: glibc declares __errno_location
 * const, so the compiler may keep one thread's errno address across a call
 * that resumes on another thread (see gort.h); the runtime keeps errno per
 * goroutine, and a fresh read sees it. */
static __attribute__((noinline)) int errno_read(void) { return errno; }
static __attribute__((noinline)) void errno_write(int v) { errno = v; }

static void errno_worker(void *arg)
{
    int mine = *(int *)arg;
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    for (int i = 0; i < 1000; i++) {
        errno_write(mine);
        switch (i % 3) {
        case 0:
            gort_gosched();
            break;
        case 1:
            gort_sleep(1000);
            break;
        default:
            gort_chan_send(c, &i);
            gort_chan_recv(c, NULL);
        }
        if (errno_read() != mine)
            fail("errno", "a goroutine's errno changed across a switch");
    }
}

static void errno_per_goroutine(void)
{
    gort_waitgroup wg = {0};
    (void)wg;
    int ids[8];
    for (int i = 0; i < 8; i++) {
        ids[i] = 1000 + i;
        gort_go(errno_worker, &ids[i], sizeof ids[i]);
    }
    while (gort_num_goroutine() > 1)
        gort_gosched();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    yield_progress(false);
    yield_progress(true);
    block_locked();
    num_goroutine();
#if !SANITIZER_BUILD
    /* These spin without runtime calls: they need asynchronous preemption,
     * which sanitizer builds leave off. */
    goroutine_parallelism();
    preemption();
#endif
    stop_the_world_deadlock();
    arg_copy();
    errno_per_goroutine();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
