/* Ports of Go's src/runtime/chan_test.go: TestChan, TestNonblockRecvRace,
 * TestNonblockSelectRace{,2}, TestSelfSelect, TestMultiConsumer,
 * TestChanSendInterface, TestPseudoRandomSend, TestSelectDuplicateChannel.
 * (TestSelectStress is select_stress.c; TestSelectFairness is in
 * tests/api/chan_select.c.)
 *
 * Where Go sleeps a millisecond to let a goroutine block, we yield a few
 * hundred times: the checks that follow can only miss a bug that way, never
 * fail a correct runtime. */
// gort-test: timeout=120
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                                  \
        exit(1);                                                                \
    } while (0)

static void yield_some(void)
{
    for (int i = 0; i < 200; i++)
        gort_gosched();
}

/* A WaitGroup out of a channel: each goroutine sends once. */
static void wait_n(gort_chan *done, int n)
{
    for (int i = 0; i < n; i++)
        gort_chan_recv(done, NULL);
}

static void signal_done(gort_chan *done)
{
    bool t = true;
    gort_chan_send(done, &t);
}

/* ---- TestChan ---------------------------------------------------------- */

struct flagged {
    gort_chan *c;
    _Atomic int *flag;
};

static void recv_then_flag(void *arg)
{
    struct flagged *a = arg;
    long v;
    gort_chan_recv(a->c, &v);
    atomic_store(a->flag, 1);
}

static void send_then_flag(void *arg)
{
    struct flagged *a = arg;
    long zero = 0;
    gort_chan_send(a->c, &zero);
    atomic_store(a->flag, 1);
}

struct closewait {
    gort_chan *c, *done;
};

static void recv_expect_closed(void *arg)
{
    struct closewait *a = arg;
    long v = 99;
    bool ok = gort_chan_recv(a->c, &v);
    bool good = v == 0 && !ok;
    gort_chan_send(a->done, &good);
}

struct sendn {
    gort_chan *c;
    long n;
};

static void send_seq(void *arg)
{
    struct sendn *a = arg;
    for (long i = 0; i < a->n; i++)
        gort_chan_send(a->c, &i);
}

#define P 4
#define L 1000

struct counter {
    gort_chan *c, *done;
    int *counts; /* [L], this receiver's own */
};

static void recv_count(void *arg)
{
    struct counter *a = arg;
    for (int i = 0; i < L; i++) {
        long v;
        gort_chan_recv(a->c, &v);
        if (v < 0 || v >= L)
            FAIL("received out-of-range %ld", v);
        a->counts[v]++;
    }
    signal_done(a->done);
}

static void test_chan(void)
{
    int old = gort_gomaxprocs(4);
    for (size_t cap = 0; cap < 200; cap++) {
        {
            /* Receive from an empty chan blocks; non-blocking receive
             * does not. */
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            _Atomic int recv1 = 0, recv2 = 0;
            struct flagged a1 = {c, &recv1}, a2 = {c, &recv2};
            gort_go(recv_then_flag, &a1, sizeof a1);
            gort_go(recv_then_flag, &a2, sizeof a2);
            yield_some();
            if (atomic_load(&recv1) || atomic_load(&recv2))
                FAIL("chan[%zu]: receive from empty chan", cap);
            long v;
            gort_case rc = {.chan = c, .dir = GORT_RECV, .elem = &v};
            if (gort_select(&rc, 1, false) != -1)
                FAIL("chan[%zu]: non-blocking receive from empty chan", cap);
            rc.elem = NULL;
            if (gort_select(&rc, 1, false) != -1)
                FAIL("chan[%zu]: non-blocking receive from empty chan", cap);
            long zero = 0;
            gort_chan_send(c, &zero);
            gort_chan_send(c, &zero);
            /* The receivers are on our stack's flags: wait for both. */
            while (!atomic_load(&recv1) || !atomic_load(&recv2))
                gort_gosched();
        }
        {
            /* Send to a full chan blocks; non-blocking send does not. */
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            for (long i = 0; i < (long)cap; i++)
                gort_chan_send(c, &i);
            _Atomic int sent = 0;
            struct flagged a = {c, &sent};
            gort_go(send_then_flag, &a, sizeof a);
            yield_some();
            if (atomic_load(&sent))
                FAIL("chan[%zu]: send to full chan", cap);
            long zero = 0;
            gort_case sc = {.chan = c, .dir = GORT_SEND, .elem = &zero};
            if (gort_select(&sc, 1, false) != -1)
                FAIL("chan[%zu]: non-blocking send to full chan", cap);
            gort_chan_recv(c, NULL);
            while (!atomic_load(&sent))
                gort_gosched();
        }
        {
            /* A closed chan yields its values, then zeros. */
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            for (long i = 0; i < (long)cap; i++)
                gort_chan_send(c, &i);
            gort_chan_close(c);
            for (long i = 0; i < (long)cap; i++) {
                long v = -1;
                if (!gort_chan_recv(c, &v) || v != i)
                    FAIL("chan[%zu]: received %ld, expected %ld", cap, v, i);
            }
            long v = -1;
            if (gort_chan_recv(c, &v) || v != 0)
                FAIL("chan[%zu]: received %ld, expected 0/false", cap, v);
        }
        {
            /* Close unblocks a receiver. */
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            gort_chan *done = gort_chan_make(sizeof(bool), 0);
            struct closewait a = {c, done};
            gort_go(recv_expect_closed, &a, sizeof a);
            yield_some();
            gort_chan_close(c);
            bool good;
            gort_chan_recv(done, &good);
            if (!good)
                FAIL("chan[%zu]: received non zero from closed chan", cap);
        }
        {
            /* 100 integers in FIFO order, twice; then 4 senders and 4
             * receivers of 1000 each: every value arrives 4 times. */
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            struct sendn s = {c, 100};
            for (int round = 0; round < 2; round++) {
                gort_go(send_seq, &s, sizeof s);
                for (long i = 0; i < 100; i++) {
                    long v = -1;
                    if (!gort_chan_recv(c, &v) || v != i)
                        FAIL("chan[%zu]: received %ld, expected %ld", cap, v, i);
                }
            }
            struct sendn sl = {c, L};
            for (int p = 0; p < P; p++)
                gort_go(send_seq, &sl, sizeof sl);
            gort_chan *done = gort_chan_make(sizeof(bool), 0);
            static int counts[P][L];
            memset(counts, 0, sizeof counts);
            for (int p = 0; p < P; p++) {
                struct counter a = {c, done, counts[p]};
                gort_go(recv_count, &a, sizeof a);
            }
            wait_n(done, P);
            for (int i = 0; i < L; i++) {
                int n = 0;
                for (int p = 0; p < P; p++)
                    n += counts[p][i];
                if (n != P)
                    FAIL("chan[%zu]: value %d received %d times, expected %d", cap, i, n, P);
            }
        }
        {
            gort_chan *c = gort_chan_make(sizeof(long), cap);
            if (gort_chan_len(c) != 0 || gort_chan_cap(c) != cap)
                FAIL("chan[%zu]: bad len/cap %zu/%zu", cap, gort_chan_len(c), gort_chan_cap(c));
            for (long i = 0; i < (long)cap; i++)
                gort_chan_send(c, &i);
            if (gort_chan_len(c) != cap || gort_chan_cap(c) != cap)
                FAIL("chan[%zu]: bad len/cap %zu/%zu", cap, gort_chan_len(c), gort_chan_cap(c));
        }
    }
    gort_gomaxprocs(old);
}

/* ---- TestNonblockRecvRace ---------------------------------------------- */

struct nbrecv {
    gort_chan *c, *done;
};

static void nb_recv_must_succeed(void *arg)
{
    struct nbrecv *a = arg;
    gort_case rc = {.chan = a->c, .dir = GORT_RECV};
    bool good = gort_select(&rc, 1, false) == 0;
    gort_chan_send(a->done, &good);
}

static void test_nonblock_recv_race(void)
{
    gort_chan *done = gort_chan_make(sizeof(bool), 1);
    for (int i = 0; i < 10000; i++) {
        gort_chan *c = gort_chan_make(sizeof(long), 1);
        long one = 1;
        gort_chan_send(c, &one);
        struct nbrecv a = {c, done};
        gort_go(nb_recv_must_succeed, &a, sizeof a);
        gort_chan_close(c);
        gort_chan_recv(c, NULL);
        bool good;
        gort_chan_recv(done, &good);
        if (!good)
            FAIL("NonblockRecvRace: chan is not ready");
    }
}

/* ---- TestNonblockSelectRace, TestNonblockSelectRace2 -------------------- */

struct nbsel {
    gort_chan *c1, *c2, *done;
};

static void nb_select_two(void *arg)
{
    struct nbsel *a = arg;
    gort_case cs[2] = {{.chan = a->c1, .dir = GORT_RECV}, {.chan = a->c2, .dir = GORT_RECV}};
    bool good = gort_select(cs, 2, false) != -1;
    gort_chan_send(a->done, &good);
}

static void test_nonblock_select_race(bool second)
{
    gort_chan *done = gort_chan_make(sizeof(bool), 1);
    for (int i = 0; i < 100000; i++) {
        gort_chan *c1 = gort_chan_make(sizeof(long), 1);
        gort_chan *c2 = gort_chan_make(sizeof(long), second ? 0 : 1);
        long one = 1;
        gort_chan_send(c1, &one);
        struct nbsel a = {c1, c2, done};
        gort_go(nb_select_two, &a, sizeof a);
        if (second)
            gort_chan_close(c2);
        else
            gort_chan_send(c2, &one);
        gort_case rc = {.chan = c1, .dir = GORT_RECV};
        gort_select(&rc, 1, false);
        bool good;
        gort_chan_recv(done, &good);
        if (!good)
            FAIL("NonblockSelectRace%s: no chan is ready", second ? "2" : "");
    }
}

/* ---- TestSelfSelect ---------------------------------------------------- */

struct selfsel {
    gort_chan *c, *done;
    long p;
    size_t cap;
};

static void self_select(void *arg)
{
    struct selfsel *a = arg;
    for (int i = 0; i < 1000; i++) {
        long out = a->p, in = -1;
        gort_case cs[2];
        int recv_case;
        if (a->p == 0 || i % 2 == 0) {
            cs[0] = (gort_case){.chan = a->c, .dir = GORT_SEND, .elem = &out};
            cs[1] = (gort_case){.chan = a->c, .dir = GORT_RECV, .elem = &in};
            recv_case = 1;
        } else {
            cs[0] = (gort_case){.chan = a->c, .dir = GORT_RECV, .elem = &in};
            cs[1] = (gort_case){.chan = a->c, .dir = GORT_SEND, .elem = &out};
            recv_case = 0;
        }
        if (gort_select(cs, 2, true) == recv_case && a->cap == 0 && in == a->p)
            FAIL("SelfSelect: self receive");
    }
    signal_done(a->done);
}

static void test_self_select(void)
{
    int old = gort_gomaxprocs(2);
    static const size_t caps[] = {0, 10};
    for (int k = 0; k < 2; k++) {
        gort_chan *c = gort_chan_make(sizeof(long), caps[k]);
        gort_chan *done = gort_chan_make(sizeof(bool), 0);
        for (long p = 0; p < 2; p++) {
            struct selfsel a = {c, done, p, caps[k]};
            gort_go(self_select, &a, sizeof a);
        }
        wait_n(done, 2);
    }
    gort_gomaxprocs(old);
}

/* ---- TestMultiConsumer ------------------------------------------------- */

#define NWORK 23
#define NITER 271828
static const long pn[] = {2, 3, 7, 11, 13, 17, 19, 23, 27, 31};
#define NPN ((int)(sizeof pn / sizeof pn[0]))

struct mc {
    gort_chan *q, *r, *wg;
    int w;
    long *expect;
};

static void mc_worker(void *arg)
{
    struct mc *a = arg;
    long v;
    while (gort_chan_recv(a->q, &v)) {
        if (pn[a->w % NPN] == v)
            gort_gosched();
        gort_chan_send(a->r, &v);
    }
    signal_done(a->wg);
}

static void mc_feeder(void *arg)
{
    struct mc *a = arg;
    for (int i = 0; i < NITER; i++) {
        long v = pn[i % NPN];
        *a->expect += v;
        gort_chan_send(a->q, &v);
    }
    gort_chan_close(a->q);
    wait_n(a->wg, NWORK);
    gort_chan_close(a->r);
}

static void test_multi_consumer(void)
{
    gort_chan *q = gort_chan_make(sizeof(long), NWORK * 3);
    gort_chan *r = gort_chan_make(sizeof(long), NWORK * 3);
    gort_chan *wg = gort_chan_make(sizeof(bool), 0);
    long expect = 0;
    for (int i = 0; i < NWORK; i++) {
        struct mc a = {q, r, wg, i, &expect};
        gort_go(mc_worker, &a, sizeof a);
    }
    struct mc f = {q, r, wg, 0, &expect};
    gort_go(mc_feeder, &f, sizeof f);
    long n = 0, s = 0, v;
    while (gort_chan_recv(r, &v)) {
        n++;
        s += v;
    }
    /* r is closed after the feeder's last write to expect. */
    if (n != NITER || s != expect)
        FAIL("MultiConsumer: expected sum %ld (got %ld) from %d iter (saw %ld)", expect, s, NITER,
             n);
}

/* ---- TestChanSendInterface: pointer-and-type pairs, as Go's any ---------- */

struct iface {
    const void *type;
    void *data;
};

static void test_chan_send_interface(void)
{
    static int mt_type, other;
    struct iface m = {&mt_type, &other};
    gort_chan *c = gort_chan_make(sizeof(struct iface), 1);
    gort_chan_send(c, &m);
    gort_case one = {.chan = c, .dir = GORT_SEND, .elem = &m};
    if (gort_select(&one, 1, false) != -1)
        FAIL("ChanSendInterface: sent to a full channel");
    struct iface m2 = {&mt_type, NULL};
    gort_case two[2] = {{.chan = c, .dir = GORT_SEND, .elem = &m},
                        {.chan = c, .dir = GORT_SEND, .elem = &m2}};
    if (gort_select(two, 2, false) != -1)
        FAIL("ChanSendInterface: sent to a full channel");
    struct iface got;
    if (!gort_chan_recv(c, &got) || got.type != m.type || got.data != m.data)
        FAIL("ChanSendInterface: value corrupted");
}

/* ---- TestPseudoRandomSend ---------------------------------------------- */

struct prs {
    gort_chan *c, *done;
    long *l;
    int n;
};

static void prs_recv(void *arg)
{
    struct prs *a = arg;
    for (int i = 0; i < a->n; i++) {
        gort_gosched();
        gort_chan_recv(a->c, &a->l[i]);
    }
    signal_done(a->done);
}

static void test_pseudo_random_send(void)
{
    enum { N = 100 };
    static const size_t caps[] = {0, N};
    for (int k = 0; k < 2; k++) {
        gort_chan *c = gort_chan_make(sizeof(long), caps[k]);
        gort_chan *done = gort_chan_make(sizeof(bool), 0);
        long l[N];
        struct prs a = {c, done, l, N};
        gort_go(prs_recv, &a, sizeof a);
        for (int i = 0; i < N; i++) {
            long one = 1, zero = 0;
            gort_case cs[2] = {{.chan = c, .dir = GORT_SEND, .elem = &one},
                               {.chan = c, .dir = GORT_SEND, .elem = &zero}};
            gort_select(cs, 2, true);
        }
        wait_n(done, 1);
        int n0 = 0, n1 = 0;
        for (int i = 0; i < N; i++) {
            n0 += (int)((l[i] + 1) % 2);
            n1 += (int)l[i];
        }
        if (n0 <= N / 10 || n1 <= N / 10)
            FAIL("PseudoRandomSend: want pseudorandom, got %d zeros and %d ones (chan cap %zu)",
                 n0, n1, caps[k]);
    }
}

/* ---- TestSelectDuplicateChannel ---------------------------------------- */

struct dup {
    gort_chan *c, *d, *e;
};

static void dup_a(void *arg)
{
    struct dup *a = arg;
    gort_case cs[3] = {{.chan = a->c, .dir = GORT_RECV},
                       {.chan = a->c, .dir = GORT_RECV},
                       {.chan = a->d, .dir = GORT_RECV}};
    gort_select(cs, 3, true);
    long nine = 9;
    gort_chan_send(a->e, &nine);
}

static void dup_b(void *arg)
{
    struct dup *a = arg;
    gort_chan_recv(a->c, NULL);
}

static void test_select_duplicate_channel(void)
{
    /* Go orders A's and B's queueing on c by sleeping; we yield, which
     * orders them whenever the scheduler runs the new goroutine first (and
     * is merely a weaker test when it does not). */
    for (int round = 0; round < 100; round++) {
        struct dup a = {gort_chan_make(sizeof(long), 0), gort_chan_make(sizeof(long), 0),
                        gort_chan_make(sizeof(long), 0)};
        gort_go(dup_a, &a, sizeof a);
        yield_some();
        gort_go(dup_b, &a, sizeof a);
        yield_some();
        long v = 7;
        gort_chan_send(a.d, &v); /* wakes A, which leaves c's queue twice */
        gort_chan_recv(a.e, &v);
        v = 8;
        gort_chan_send(a.c, &v); /* must wake B, not the departed A */
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_chan();
    test_nonblock_recv_race();
    test_nonblock_select_race(false);
    test_nonblock_select_race(true);
    test_self_select();
    test_multi_consumer();
    test_chan_send_interface();
    test_pseudo_random_send();
    test_select_duplicate_channel();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
