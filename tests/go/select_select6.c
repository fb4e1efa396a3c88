/* Port of Go's test/chan/select6.go (issue 2075): a select that lost on one
 * channel must leave that channel's wait queue intact when several gs wait
 * on it.  Here: one g blocks receiving on c1, a second selects on c1 and
 * c2 and is woken through c2, and two sends on c1 must reach the first g and
 * then the second g's later plain receive. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static gort_chan *c1, *c2, *c3;

static void recv_c1(void *arg)
{
    (void)arg;
    gort_chan_recv(c1, NULL);
}

static void selector(void *arg)
{
    (void)arg;
    bool b;
    gort_case cs[2] = {
        {.chan = c1, .dir = GORT_RECV, .elem = &b},
        {.chan = c2, .dir = GORT_RECV, .elem = &b},
    };
    if (gort_select(cs, 2, true) == 0) {
        fprintf(stderr, "FAIL: dummy: received on c1\n");
        exit(1);
    }
    bool t = true;
    gort_chan_send(c3, &t);
    gort_chan_recv(c1, NULL);
}

static void send_c2(void *arg)
{
    (void)arg;
    bool t = true;
    gort_chan_send(c2, &t);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    c1 = gort_chan_make(sizeof(bool), 0);
    c2 = gort_chan_make(sizeof(bool), 0);
    c3 = gort_chan_make(sizeof(bool), 0);
    gort_go(recv_c1, NULL, 0);
    gort_go(selector, NULL, 0);
    gort_go(send_c2, NULL, 0);
    gort_chan_recv(c3, NULL);
    bool t = true;
    gort_chan_send(c1, &t);
    gort_chan_send(c1, &t);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
