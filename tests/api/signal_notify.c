/* os/signal: Notify relays to a channel, a full channel drops (never
 * blocks), Stop ends relaying, Ignore and Reset; Go's SIGPIPE rule for
 * descriptors other than 1 and 2 (the write fails with EPIPE).
 *
 * Every signal here reaches the thread that sends it, so each check is
 * deterministic, with no sleeps: raise() signals the calling thread, and
 * the one kill(getpid()) comes from the main thread, which the kernel
 * prefers for a process-directed signal it does not block — goroutine 1
 * is locked to it for that.  This matters under TSan, which runs a
 * handler only when the thread that took the signal next passes one of
 * its interceptors: a signal the kernel hands to an idle m, parked in a
 * raw futex syscall TSan does not intercept, waits until that m wakes for
 * some other reason (the previous version of this test, which waited
 * 50 ms for kill()ed signals, lost them under TSan in one run of three).  That is TSan's limitation, not a fault of the relay: the
 * plain build's handler runs at once on whichever thread. */
#include <gort.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fails;
#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "FAIL: line %d: %s\n", __LINE__, #c);                        \
            fails++;                                                                     \
        }                                                                                \
    } while (0)

static int recv(gort_chan *c)
{
    int v = -1;
    gort_chan_recv(c, &v);
    return v;
}

/* Waits until the relay has handled every signal raised before: raise()
 * runs the handler before it returns (a signal to the calling thread),
 * and the relay sends a batch in signal order, SIGUSR1 before SIGUSR2. */
static gort_chan *marker;
static void flush(void)
{
    raise(SIGUSR2);
    CHECK(recv(marker) == SIGUSR2);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_lock_os_thread(); /* goroutine 1 stays on the main thread */
    marker = gort_chan_make(sizeof(int), 1);
    gort_signal_notify(marker, (int[]){SIGUSR2}, 1);
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int sigs[] = {SIGUSR1, SIGHUP};
    gort_signal_notify(c, sigs, 2);
    /* From outside the thread: to the process, as kill(1) sends it. */
    kill(getpid(), SIGUSR1);
    CHECK(recv(c) == SIGUSR1);
    raise(SIGHUP); /* notified: does not kill */
    CHECK(recv(c) == SIGHUP);

    /* A full channel drops: two signals, one slot. */
    raise(SIGUSR1);
    flush();
    raise(SIGUSR1);
    flush();
    CHECK(gort_chan_len(c) == 1);
    CHECK(recv(c) == SIGUSR1);

    /* Two channels both get it. */
    gort_chan *c2 = gort_chan_make(sizeof(int), 4);
    gort_signal_notify(c2, (int[]){SIGUSR1}, 1);
    raise(SIGUSR1);
    CHECK(recv(c) == SIGUSR1);
    CHECK(recv(c2) == SIGUSR1);

    /* Stop: nothing more on c; c2 still notified (one relay pass sends to
     * both, so once c2 has it, c would have too). */
    gort_signal_stop(c);
    raise(SIGUSR1);
    CHECK(recv(c2) == SIGUSR1);
    CHECK(gort_chan_len(c) == 0);

    /* Ignore cancels the notification; the kernel discards the signal. */
    gort_signal_ignore((int[]){SIGUSR1}, 1);
    CHECK(gort_signal_ignored(SIGUSR1));
    raise(SIGUSR1);
    flush();
    CHECK(gort_chan_len(c2) == 0);
    gort_signal_reset((int[]){SIGUSR1}, 1);
    CHECK(!gort_signal_ignored(SIGUSR1));

    /* SIGPIPE on a descriptor other than 1 and 2: EPIPE, no death. */
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    errno = 0;
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    close(p[1]);
    return fails != 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
