/* Port of Go's test/chan/select.go: a select with a default over send cases
 * on 1-buffered channels, nil-ing each case once it has fired: every case
 * fires exactly once, then the default; nil cases are never chosen.  The
 * operands are evaluated once per select (counter). */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned counter, shift;

static unsigned get_value(void)
{
    counter++;
    return 1u << shift;
}

static int send(gort_chan *a, gort_chan *b)
{
    int i = 0;
    for (;;) {
        unsigned va = get_value(), vb = get_value();
        gort_case cs[2] = {
            {.chan = a, .dir = GORT_SEND, .elem = &va},
            {.chan = b, .dir = GORT_SEND, .elem = &vb},
        };
        int k = gort_select(cs, 2, false);
        if (k == -1)
            break;
        i++;
        if (k == 0)
            a = NULL;
        else
            b = NULL;
        shift++;
    }
    return i;
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    gort_chan *a = gort_chan_make(sizeof(unsigned), 1);
    gort_chan *b = gort_chan_make(sizeof(unsigned), 1);
    int v = send(a, b);
    if (v != 2) {
        fprintf(stderr, "FAIL: send returned %d != 2\n", v);
        return 1;
    }
    unsigned av, bv;
    gort_chan_recv(a, &av);
    gort_chan_recv(b, &bv);
    if ((av | bv) != 3) {
        fprintf(stderr, "FAIL: bad values %u %u\n", av, bv);
        return 1;
    }
    v = send(a, NULL);
    if (v != 1) {
        fprintf(stderr, "FAIL: send returned %d != 1\n", v);
        return 1;
    }
    if (counter != 10) {
        fprintf(stderr, "FAIL: counter is %u != 10\n", counter);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
