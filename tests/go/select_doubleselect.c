/* Port of Go's test/chan/doubleselect.go: two cases of one select must never
 * both fire.  A sender selects over four unbuffered channels; four muxers
 * forward into one channel; the receiver checks that no value comes twice
 * and that every value comes once. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static long iterations = 100000;
static gort_chan *c[4], *cmux, *done;

static void sender(void *arg)
{
    (void)arg;
    for (long i = 0; i < iterations; i++) {
        gort_case cs[4];
        for (int k = 0; k < 4; k++)
            cs[k] = (gort_case){.chan = c[k], .dir = GORT_SEND, .elem = &i};
        gort_select(cs, 4, true);
    }
    for (int k = 3; k >= 0; k--)
        gort_chan_close(c[k]);
}

static void mux(void *arg)
{
    gort_chan *in = *(gort_chan **)arg;
    long v;
    while (gort_chan_recv(in, &v))
        gort_chan_send(cmux, &v);
    bool t = true;
    gort_chan_send(done, &t);
}

static void closer(void *arg)
{
    (void)arg;
    for (int k = 0; k < 4; k++)
        gort_chan_recv(done, NULL);
    gort_chan_close(cmux);
}

static int real_main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atol(argv[1]);
    gort_gomaxprocs(2);
    for (int k = 0; k < 4; k++)
        c[k] = gort_chan_make(sizeof(long), 0);
    cmux = gort_chan_make(sizeof(long), 0);
    done = gort_chan_make(sizeof(bool), 0);
    gort_go(sender, NULL, 0);
    for (int k = 0; k < 4; k++)
        gort_go(mux, &c[k], sizeof c[k]);
    gort_go(closer, NULL, 0);

    unsigned char *seen = calloc((size_t)iterations, 1);
    long v, n = 0;
    while (gort_chan_recv(cmux, &v)) {
        if (v < 0 || v >= iterations || seen[v]) {
            fprintf(stderr, "FAIL: got duplicate value: %ld\n", v);
            return 1;
        }
        seen[v] = 1;
        n++;
    }
    if (n != iterations) {
        fprintf(stderr, "FAIL: got %ld values, want %ld\n", n, iterations);
        return 1;
    }
    free(seen);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
