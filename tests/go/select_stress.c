/* Port of Go's TestSelectStress (src/runtime/chan_test.go): four channels,
 * two unbuffered and two buffered; per channel one plain sender and one
 * plain receiver of N values, plus one goroutine sending N values on each
 * through a single select and one receiving likewise, nil-ing each case
 * once its channel is done.  Everything interacts chaotically on 10 Ps and
 * must neither deadlock nor lose a value. */
// gort-test: timeout=120
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static long N = 100000;
static gort_chan *c[4], *wg;

static void done(void)
{
    gort_chan_send(wg, &(bool){true});
}

static void plain_sender(void *arg)
{
    int k = *(int *)arg;
    long zero = 0;
    for (long i = 0; i < N; i++)
        gort_chan_send(c[k], &zero);
    done();
}

static void plain_receiver(void *arg)
{
    int k = *(int *)arg;
    for (long i = 0; i < N; i++)
        gort_chan_recv(c[k], NULL);
    done();
}

static void select_sender(void *arg)
{
    (void)arg;
    long n[4] = {0}, zero = 0;
    gort_case cs[4];
    static const int order[4] = {3, 2, 0, 1};
    for (int j = 0; j < 4; j++)
        cs[j] = (gort_case){.chan = c[order[j]], .dir = GORT_SEND, .elem = &zero};
    for (long i = 0; i < 4 * N; i++) {
        int j = gort_select(cs, 4, true);
        if (++n[j] == N)
            cs[j].chan = NULL;
    }
    done();
}

static void select_receiver(void *arg)
{
    (void)arg;
    long n[4] = {0};
    gort_case cs[4];
    for (int j = 0; j < 4; j++)
        cs[j] = (gort_case){.chan = c[j], .dir = GORT_RECV};
    for (long i = 0; i < 4 * N; i++) {
        int j = gort_select(cs, 4, true);
        if (!cs[j].ok) {
            fprintf(stderr, "FAIL: receive on a channel nobody closed\n");
            exit(1);
        }
        if (++n[j] == N)
            cs[j].chan = NULL;
    }
    done();
}

static int real_main(int argc, char **argv)
{
    if (argc > 1)
        N = atol(argv[1]);
    gort_gomaxprocs(10);
    c[0] = gort_chan_make(sizeof(long), 0);
    c[1] = gort_chan_make(sizeof(long), 0);
    c[2] = gort_chan_make(sizeof(long), 2);
    c[3] = gort_chan_make(sizeof(long), 3);
    wg = gort_chan_make(sizeof(bool), 0);
    for (int k = 0; k < 4; k++) {
        gort_go(plain_sender, &k, sizeof k);
        gort_go(plain_receiver, &k, sizeof k);
    }
    gort_go(select_sender, NULL, 0);
    gort_go(select_receiver, NULL, 0);
    for (int i = 0; i < 10; i++)
        gort_chan_recv(wg, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
