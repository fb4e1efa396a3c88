/* Port of Go's test/chan/select4.go: a select proceeds with the case whose
 * value is ready, and the receive target of the case not chosen is never
 * written. */
#include <gort.h>
#include <stdio.h>

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    gort_chan *c = gort_chan_make(sizeof(long), 1);
    gort_chan *c1 = gort_chan_make(sizeof(long), 0);
    long v = 42, x = 0, untouched = -7;
    gort_chan_send(c, &v);
    gort_case cs[2] = {
        {.chan = c1, .dir = GORT_RECV, .elem = &untouched},
        {.chan = c, .dir = GORT_RECV, .elem = &x},
    };
    int k = gort_select(cs, 2, true);
    if (k != 1 || x != 42 || !cs[1].ok || untouched != -7) {
        fprintf(stderr, "FAIL: k=%d x=%ld ok=%d untouched=%ld\n", k, x, cs[1].ok, untouched);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
