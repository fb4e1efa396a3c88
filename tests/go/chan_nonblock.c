/* Port of Go's test/chan/nonblock.go: non-blocking sends and receives
 * (one-case selects with a default) on unbuffered and 1-buffered channels,
 * for elements of several sizes.  Where Go retries on a 10 µs ticker we
 * retry after a Gosched: the partner goroutine gets to park (or fill the
 * buffer) eventually, and the test's timeout catches a retry that never
 * succeeds. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXSIZE 1024

static void fail(const char *what, size_t size, int buffer)
{
    fprintf(stderr, "FAIL: %s (elem size %zu, buffer %d)\n", what, size, buffer);
    exit(1);
}

struct partner {
    gort_chan *c, *strobe;
    size_t size;
    int buffer;
};

static void fill(unsigned char *p, size_t n, unsigned char seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static void receiver(void *arg)
{
    struct partner *a = arg;
    unsigned char got[MAXSIZE], want[MAXSIZE];
    fill(want, a->size, 123);
    gort_chan_recv(a->c, got);
    if (memcmp(got, want, a->size) != 0)
        fail("receiver value", a->size, a->buffer);
    bool t = true;
    gort_chan_send(a->strobe, &t);
}

static void sender(void *arg)
{
    struct partner *a = arg;
    unsigned char v[MAXSIZE];
    fill(v, a->size, 234);
    gort_chan_send(a->c, v);
    bool t = true;
    gort_chan_send(a->strobe, &t);
}

static void one(size_t size, int buffer, gort_chan *strobe)
{
    gort_chan *c = gort_chan_make(size, (size_t)buffer);
    unsigned char v[MAXSIZE], want[MAXSIZE];
    gort_case rc = {.chan = c, .dir = GORT_RECV, .elem = v};
    gort_case sc = {.chan = c, .dir = GORT_SEND, .elem = v};

    if (gort_select(&rc, 1, false) != -1)
        fail("received from an empty channel", size, buffer);

    struct partner a = {c, strobe, size, buffer};
    gort_go(receiver, &a, sizeof a);
    fill(v, size, 123);
    while (gort_select(&sc, 1, false) != 0)
        gort_gosched();
    gort_chan_recv(strobe, NULL);

    gort_go(sender, &a, sizeof a);
    if (buffer > 0)
        gort_chan_recv(strobe, NULL);
    memset(v, 0, sizeof v);
    while (gort_select(&rc, 1, false) != 0)
        gort_gosched();
    if (!rc.ok)
        fail("ok false on an open channel", size, buffer);
    fill(want, size, 234);
    if (memcmp(v, want, size) != 0)
        fail("sender value", size, buffer);
    if (buffer == 0)
        gort_chan_recv(strobe, NULL);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    static const size_t sizes[] = {1, 4, 8, 16, 24, 100, MAXSIZE};
    gort_chan *strobe = gort_chan_make(sizeof(bool), 0);
    for (int buffer = 0; buffer < 2; buffer++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            one(sizes[i], buffer, strobe);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
