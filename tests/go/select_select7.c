/* Port of Go's test/chan/select7.go: receives that discard the value (NULL
 * elem), as a plain receive, a one-case select and a two-case select,
 * against sends of the same three forms. */
#include <gort.h>
#include <stdio.h>

static void recv1(gort_chan *c)
{
    gort_chan_recv(c, NULL);
}

static void recv2(gort_chan *c)
{
    gort_case cs[1] = {{.chan = c, .dir = GORT_RECV}};
    gort_select(cs, 1, true);
}

static void recv3(gort_chan *c)
{
    gort_chan *c2 = gort_chan_make(sizeof(int), 0);
    gort_case cs[2] = {{.chan = c, .dir = GORT_RECV}, {.chan = c2, .dir = GORT_RECV}};
    gort_select(cs, 2, true);
}

typedef void (*recvfn)(gort_chan *);

struct start {
    recvfn recv;
    gort_chan *c;
};

static void run(void *arg)
{
    struct start *s = arg;
    s->recv(s->c);
}

static gort_chan *spawn(recvfn recv)
{
    struct start s = {recv, gort_chan_make(sizeof(int), 0)};
    gort_go(run, &s, sizeof s);
    gort_gosched();
    return s.c;
}

static void send1(recvfn recv)
{
    gort_chan *c = spawn(recv);
    int one = 1;
    gort_chan_send(c, &one);
}

static void send2(recvfn recv)
{
    gort_chan *c = spawn(recv);
    int one = 1;
    gort_case cs[1] = {{.chan = c, .dir = GORT_SEND, .elem = &one}};
    gort_select(cs, 1, true);
}

static void send3(recvfn recv)
{
    gort_chan *c = spawn(recv);
    gort_chan *c2 = gort_chan_make(sizeof(int), 0);
    int one = 1;
    gort_case cs[2] = {{.chan = c, .dir = GORT_SEND, .elem = &one},
                       {.chan = c2, .dir = GORT_SEND, .elem = &one}};
    if (gort_select(cs, 2, true) != 0) {
        fprintf(stderr, "FAIL: sent on a channel nobody receives from\n");
        gort_panic("select7");
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    recvfn recvs[] = {recv1, recv2, recv3};
    for (int i = 0; i < 3; i++) {
        send1(recvs[i]);
        send2(recvs[i]);
        send3(recvs[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
