/* os/signal: Notify relays to a channel, a full channel drops (never
 * blocks), Stop ends relaying, Ignore and Reset; Go's SIGPIPE rule for
 * descriptors other than 1 and 2 (the write fails with EPIPE).
 * Not under TSan: it defers asynchronous signals to its own interception
 * points, and the relay sleeps in a raw futex syscall it never sees. */
// gort-test: no-tsan
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

/* Receives one int from c within ~2 s; -1 if none came. */
static int recv_timeout(gort_chan *c)
{
    for (int i = 0; i < 2000; i++) {
        int v;
        gort_case cs = {.chan = c, .dir = GORT_RECV, .elem = &v};
        if (gort_select(&cs, 1, false) == 0)
            return v;
        gort_sleep(1000000);
    }
    return -1;
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int sigs[] = {SIGUSR1, SIGHUP};
    gort_signal_notify(c, sigs, 2);
    kill(getpid(), SIGUSR1);
    CHECK(recv_timeout(c) == SIGUSR1);
    kill(getpid(), SIGHUP); /* notified: does not kill */
    CHECK(recv_timeout(c) == SIGHUP);

    /* A full channel drops: two signals, one slot. */
    kill(getpid(), SIGUSR1);
    gort_sleep(50000000);
    kill(getpid(), SIGUSR1);
    gort_sleep(50000000);
    CHECK(gort_chan_len(c) == 1);
    CHECK(recv_timeout(c) == SIGUSR1);

    /* Two channels both get it. */
    gort_chan *c2 = gort_chan_make(sizeof(int), 4);
    gort_signal_notify(c2, (int[]){SIGUSR1}, 1);
    kill(getpid(), SIGUSR1);
    CHECK(recv_timeout(c) == SIGUSR1);
    CHECK(recv_timeout(c2) == SIGUSR1);

    /* Stop: nothing more on c; c2 still notified. */
    gort_signal_stop(c);
    kill(getpid(), SIGUSR1);
    CHECK(recv_timeout(c2) == SIGUSR1);
    CHECK(gort_chan_len(c) == 0);

    /* Ignore cancels the notification; the signal is ignored. */
    gort_signal_ignore((int[]){SIGUSR1}, 1);
    CHECK(gort_signal_ignored(SIGUSR1));
    kill(getpid(), SIGUSR1);
    gort_sleep(50000000);
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
