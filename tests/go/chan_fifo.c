/* Port of Go's test/chan/fifo.go: a buffered channel is FIFO, and so is an
 * unbuffered one whose receivers queue up in a known order (each receiver
 * of the chain starts receiving only after its predecessor got its value). */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

#define N 10

static void fail(const char *msg, long v)
{
    fprintf(stderr, "FAIL: %s (%ld)\n", msg, v);
    exit(1);
}

static void asynch_fifo(void)
{
    gort_chan *ch = gort_chan_make(sizeof(long), N);
    for (long i = 0; i < N; i++)
        gort_chan_send(ch, &i);
    for (long i = 0; i < N; i++) {
        long v;
        gort_chan_recv(ch, &v);
        if (v != i)
            fail("bad receive", v);
    }
}

struct link {
    gort_chan *ch, *in, *out;
    long val;
};

static void chain(void *arg)
{
    struct link *l = arg;
    long v, one = 1;
    gort_chan_recv(l->in, NULL);
    gort_chan_recv(l->ch, &v);
    if (v != l->val)
        fail("chain got the wrong value", v);
    gort_chan_send(l->out, &one);
}

static void synch_fifo(void)
{
    gort_chan *ch = gort_chan_make(sizeof(long), 0);
    gort_chan *in = gort_chan_make(sizeof(long), 0);
    gort_chan *start = in;
    for (long i = 0; i < N; i++) {
        gort_chan *out = gort_chan_make(sizeof(long), 0);
        struct link l = {ch, in, out, i};
        gort_go(chain, &l, sizeof l);
        in = out;
    }
    long zero = 0;
    gort_chan_send(start, &zero);
    for (long i = 0; i < N; i++)
        gort_chan_send(ch, &i);
    gort_chan_recv(in, NULL);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    asynch_fifo();
    synch_fifo();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
