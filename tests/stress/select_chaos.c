/* Thousands of goroutines doing random selects — blocking and not, sends
 * and receives, nil cases, the same channel twice — over a shared set of
 * unbuffered and buffered channels, while a closer goroutine closes
 * "signal" channels one at a time.
 *
 * Termination without timing: every blocking select also receives from at
 * least one signal channel, and the closer closes them all in the end, so
 * once it is done every select can complete.  Data channels are never
 * closed (so no send can panic) and signal channels never carry values.
 *
 * Checks: no value is lost or duplicated (the sum of everything sent equals
 * the sum received plus what is left in the buffers); receives from data
 * channels are always ok, from signal channels never; the case chosen is
 * one that was offered. */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                                  \
        exit(1);                                                                \
    } while (0)

#define NDATA 32
#define NSIGNAL 64
#define MAXCASES 6

static int workers = 2000, iterations = 200;
static gort_chan *data[NDATA], *signal_[NSIGNAL], *finished;
static _Atomic uint64_t sent_sum, recv_sum, nsent, nrecv;
static _Atomic int closed_count, early;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void worker(void *arg)
{
    int id = *(int *)arg;
    uint64_t rs = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    uint64_t my_sent = 0, my_recv = 0, my_nsent = 0, my_nrecv = 0;
    for (int it = 0; it < iterations; it++) {
        gort_case cs[MAXCASES];
        uint64_t out[MAXCASES], in[MAXCASES];
        bool is_signal[MAXCASES];
        int n = 1 + (int)(next_rand(&rs) % (MAXCASES - 1));
        bool block = next_rand(&rs) % 4 != 0;
        for (int k = 0; k < n; k++) {
            uint64_t r = next_rand(&rs);
            is_signal[k] = false;
            in[k] = 0;
            if (r % 10 == 0) {
                cs[k] = (gort_case){.chan = NULL, .dir = (r / 10) % 2 ? GORT_SEND : GORT_RECV,
                                    .elem = &out[k]};
            } else if (r % 10 < 3) {
                is_signal[k] = true;
                cs[k] = (gort_case){.chan = signal_[(r >> 8) % NSIGNAL], .dir = GORT_RECV,
                                    .elem = &in[k]};
            } else if (r % 10 < 6) {
                out[k] = ((uint64_t)id << 32) | (uint64_t)it << 4 | (uint64_t)k;
                cs[k] = (gort_case){.chan = data[(r >> 8) % NDATA], .dir = GORT_SEND,
                                    .elem = &out[k]};
            } else {
                /* Now and then, discard the value: it still counts. */
                cs[k] = (gort_case){.chan = data[(r >> 8) % NDATA], .dir = GORT_RECV,
                                    .elem = &in[k]};
            }
        }
        if (block) {
            /* The way out once the closer is done. */
            int k = n < MAXCASES ? n++ : (int)(next_rand(&rs) % MAXCASES);
            is_signal[k] = true;
            in[k] = 0;
            cs[k] = (gort_case){.chan = signal_[next_rand(&rs) % NSIGNAL], .dir = GORT_RECV,
                                .elem = &in[k]};
        }
        int k = gort_select(cs, n, block);
        if (k == -1) {
            if (block)
                FAIL("blocking select returned -1");
            continue;
        }
        if (k < 0 || k >= n || cs[k].chan == NULL)
            FAIL("select chose case %d of %d", k, n);
        if (cs[k].dir == GORT_SEND) {
            my_sent += out[k];
            my_nsent++;
        } else if (is_signal[k]) {
            if (cs[k].ok || in[k] != 0)
                FAIL("received a value from a signal channel");
        } else {
            if (!cs[k].ok)
                FAIL("data channel reported closed");
            my_recv += in[k];
            my_nrecv++;
        }
    }
    if (atomic_load(&closed_count) < NSIGNAL)
        atomic_fetch_add(&early, 1);
    atomic_fetch_add(&sent_sum, my_sent);
    atomic_fetch_add(&recv_sum, my_recv);
    atomic_fetch_add(&nsent, my_nsent);
    atomic_fetch_add(&nrecv, my_nrecv);
    gort_chan_send(finished, &(bool){true});
}

static void closer(void *arg)
{
    (void)arg;
    uint64_t rs = 12345;
    int order[NSIGNAL];
    for (int i = 0; i < NSIGNAL; i++)
        order[i] = i;
    for (int i = NSIGNAL - 1; i > 0; i--) {
        int j = (int)(next_rand(&rs) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < NSIGNAL; i++) {
        /* Let the workers pile up between closes. */
        for (int y = 0; y < 200; y++)
            gort_gosched();
        gort_chan_close(signal_[order[i]]);
        atomic_fetch_add(&closed_count, 1);
    }
}

static int real_main(int argc, char **argv)
{
    if (argc > 1)
        workers = atoi(argv[1]);
    if (argc > 2)
        iterations = atoi(argv[2]);
    for (int i = 0; i < NDATA; i++)
        data[i] = gort_chan_make(sizeof(uint64_t), (size_t)(i % 4 == 0 ? 0 : i % 4 == 1 ? 1 : 8));
    for (int i = 0; i < NSIGNAL; i++)
        signal_[i] = gort_chan_make(sizeof(uint64_t), (size_t)(i % 2));
    finished = gort_chan_make(sizeof(bool), 0);

    gort_go(closer, NULL, 0);
    for (int i = 0; i < workers; i++)
        gort_go(worker, &i, sizeof i);
    for (int i = 0; i < workers; i++)
        gort_chan_recv(finished, NULL);

    uint64_t left_sum = 0, left_n = 0, v;
    for (int i = 0; i < NDATA; i++) {
        gort_case r = {.chan = data[i], .dir = GORT_RECV, .elem = &v};
        while (gort_select(&r, 1, false) == 0) {
            left_sum += v;
            left_n++;
        }
    }
    if (getenv("CHAOS_VERBOSE"))
        fprintf(stderr, "sent %llu recv %llu left %llu finished early %d\n",
                (unsigned long long)nsent, (unsigned long long)nrecv, (unsigned long long)left_n,
                atomic_load(&early));
    if (atomic_load(&nsent) != atomic_load(&nrecv) + left_n ||
        atomic_load(&sent_sum) != atomic_load(&recv_sum) + left_sum)
        FAIL("values lost or duplicated: sent %llu, received %llu + %llu left",
             (unsigned long long)atomic_load(&nsent), (unsigned long long)atomic_load(&nrecv),
             (unsigned long long)left_n);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
