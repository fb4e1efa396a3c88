/* Port of Go's test/chan/zerosize.go, extended: channels of zero-sized
 * elements can be made, buffered or not, and carry "values" (NULL pointers
 * are fine: nothing is copied) with the usual counts and close semantics. */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

static void sender(void *arg)
{
    gort_chan *c = *(gort_chan **)arg;
    for (int i = 0; i < 1000; i++)
        gort_chan_send(c, NULL);
    gort_chan_close(c);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    gort_chan *u = gort_chan_make(0, 0);
    gort_chan *b = gort_chan_make(0, 1);
    CHECK(u != NULL && b != NULL);
    CHECK(gort_chan_cap(u) == 0 && gort_chan_cap(b) == 1);

    /* Buffered: counts only. */
    gort_chan_send(b, NULL);
    CHECK(gort_chan_len(b) == 1);
    gort_case nb = {.chan = b, .dir = GORT_SEND};
    CHECK(gort_select(&nb, 1, false) == -1); /* full */
    CHECK(gort_chan_recv(b, NULL));
    CHECK(gort_chan_len(b) == 0);

    /* Unbuffered: hand-offs with nothing to copy. */
    gort_go(sender, &u, sizeof u);
    int n = 0;
    char dummy;
    while (gort_chan_recv(u, &dummy))
        n++;
    CHECK(n == 1000);

    /* A capacity that would be absurd for real elements costs nothing here. */
    gort_chan *huge = gort_chan_make(0, (size_t)1 << 40);
    CHECK(gort_chan_cap(huge) == (size_t)1 << 40);
    for (int i = 0; i < 100; i++)
        gort_chan_send(huge, NULL);
    CHECK(gort_chan_len(huge) == 100);
    gort_chan_close(huge);
    for (int i = 0; i < 100; i++)
        CHECK(gort_chan_recv(huge, NULL));
    CHECK(!gort_chan_recv(huge, NULL));
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
