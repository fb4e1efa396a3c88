/* A sleeping goroutine wakes even while a ping-pong pair keeps the only P
 * busy switching directly between its two goroutines (the scheduler's fast
 * path must still run expired timers).  Termination is the check. */
// gort-test: timeout=60
#include <gort.h>
#include <stdatomic.h>

static gort_chan *ping, *pong;
static _Atomic int stop;

static void partner(void *arg)
{
    (void)arg;
    long v;
    while (gort_chan_recv(ping, &v)) {
        v++;
        gort_chan_send(pong, &v);
    }
}

static void sleeper(void *arg)
{
    (void)arg;
    gort_sleep(2000000);
    atomic_store(&stop, 1);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_gomaxprocs(1);
    ping = gort_chan_make(sizeof(long), 0);
    pong = gort_chan_make(sizeof(long), 0);
    gort_go(partner, NULL, 0);
    gort_go(sleeper, NULL, 0);
    gort_gosched();
    long x = 0;
    while (!atomic_load(&stop)) {
        gort_chan_send(ping, &x);
        gort_chan_recv(pong, &x);
    }
    gort_chan_close(ping);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
