/* gort_select through the public API: uniform choice (Go's
 * TestSelectFairness bound), the same channel in several cases, blocking
 * selects woken by a send or by close, big selects (the heap-sorted and
 * malloc'd order paths), and non-blocking selects of several cases. */
#include <gort.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* ---- fairness: TestSelectFairness ---------------------------------------- */

#define TRIALS 10000

struct fair {
    gort_chan *c1, *c2, *c3, *c4, *out, *done, *finished;
};

static void fair_selector(void *arg)
{
    struct fair *f = arg;
    for (;;) {
        unsigned char b = 0;
        gort_case cs[4] = {{.chan = f->c3, .dir = GORT_RECV, .elem = &b},
                           {.chan = f->c4, .dir = GORT_RECV, .elem = &b},
                           {.chan = f->c1, .dir = GORT_RECV, .elem = &b},
                           {.chan = f->c2, .dir = GORT_RECV, .elem = &b}};
        gort_select(cs, 4, true);
        gort_case out[2] = {{.chan = f->out, .dir = GORT_SEND, .elem = &b},
                            {.chan = f->done, .dir = GORT_RECV}};
        if (gort_select(out, 2, true) == 1)
            break;
    }
    gort_chan_send(f->finished, &(bool){true});
}

static void test_fairness(void)
{
    struct fair f = {
        gort_chan_make(1, TRIALS + 1), gort_chan_make(1, TRIALS + 1), gort_chan_make(1, 0),
        gort_chan_make(1, 0),          gort_chan_make(1, 0),          gort_chan_make(1, 0),
        gort_chan_make(1, 0),
    };
    for (int i = 0; i < TRIALS + 1; i++) {
        gort_chan_send(f.c1, &(unsigned char){1});
        gort_chan_send(f.c2, &(unsigned char){2});
    }
    gort_go(fair_selector, &f, sizeof f);
    int cnt1 = 0, cnt2 = 0;
    for (int i = 0; i < TRIALS; i++) {
        unsigned char b;
        gort_chan_recv(f.out, &b);
        if (b == 1)
            cnt1++;
        else if (b == 2)
            cnt2++;
        else
            CHECK(!"unexpected value on channel");
    }
    /* Go's bound since 1.20: a failure probability of one in a million. */
    double r = (double)cnt1 / TRIALS;
    double bound = 4.891676 / (2 * sqrt(TRIALS));
    if (fabs(r - 0.5) > bound) {
        fprintf(stderr, "FAIL: unfair select: in %d trials, results were %d, %d\n", TRIALS, cnt1,
                cnt2);
        exit(1);
    }
    gort_chan_close(f.done);
    gort_chan_recv(f.finished, NULL);
}

/* ---- the same channel in several cases ----------------------------------- */

static void test_duplicates(void)
{
    /* Two receive cases on one buffered channel: both get chosen over
     * many trials, and values are taken once. */
    gort_chan *c = gort_chan_make(sizeof(long), 1000);
    for (long i = 0; i < 1000; i++)
        gort_chan_send(c, &i);
    long v0 = -1, v1 = -1;
    int hits[2] = {0, 0};
    for (long i = 0; i < 1000; i++) {
        gort_case cs[2] = {{.chan = c, .dir = GORT_RECV, .elem = &v0},
                           {.chan = c, .dir = GORT_RECV, .elem = &v1}};
        int k = gort_select(cs, 2, true);
        CHECK(k == 0 || k == 1);
        CHECK((k == 0 ? v0 : v1) == i);
        CHECK(cs[k].ok);
        hits[k]++;
    }
    CHECK(hits[0] > 100 && hits[1] > 100);

    /* A send and a receive case on one buffered channel with room: the
     * send is the only ready case while it is empty. */
    gort_chan *b = gort_chan_make(sizeof(long), 1);
    long out = 5, in = 0;
    gort_case sr[2] = {{.chan = b, .dir = GORT_SEND, .elem = &out},
                       {.chan = b, .dir = GORT_RECV, .elem = &in}};
    CHECK(gort_select(sr, 2, true) == 0);
    /* Now it is full: only the receive is ready. */
    CHECK(gort_select(sr, 2, true) == 1 && in == 5);
}

/* ---- blocking selects woken by a partner or by close --------------------- */

struct wake {
    gort_chan *c;
    long v;
};

static void send_one(void *arg)
{
    struct wake *w = arg;
    gort_chan_send(w->c, &w->v);
}

static void close_it(void *arg)
{
    gort_chan_close(*(gort_chan **)arg);
}

static void test_blocking_wakeups(void)
{
    for (int round = 0; round < 200; round++) {
        gort_chan *cs[3];
        for (int k = 0; k < 3; k++)
            cs[k] = gort_chan_make(sizeof(long), round % 2);
        int which = round % 3;
        long got[3] = {0, 0, 0};
        gort_case cases[3];
        for (int k = 0; k < 3; k++)
            cases[k] = (gort_case){.chan = cs[k], .dir = GORT_RECV, .elem = &got[k]};
        struct wake w = {cs[which], 1000 + round};
        gort_go(send_one, &w, sizeof w);
        int k = gort_select(cases, 3, true);
        CHECK(k == which && got[k] == 1000 + round && cases[k].ok);
        for (int j = 0; j < 3; j++)
            if (j != k)
                CHECK(got[j] == 0);

        /* Woken by close: the receive case reports !ok and a zero value. */
        got[which] = 9;
        gort_go(close_it, &cs[which], sizeof cs[which]);
        k = gort_select(cases, 3, true);
        CHECK(k == which && got[k] == 0 && !cases[k].ok);
    }
}

/* ---- big selects ----------------------------------------------------------- */

struct pick {
    gort_chan **cs;
    int n;
    long seed;
};

static void send_random(void *arg)
{
    struct pick *p = arg;
    for (int i = 0; i < 100; i++) {
        long k = (p->seed + i * 7919) % p->n;
        gort_chan_send(p->cs[k], &k);
    }
}

static void test_big_select(int n)
{
    gort_chan **cs = malloc((size_t)n * sizeof *cs);
    gort_case *cases = malloc((size_t)n * sizeof *cases);
    long *vals = malloc((size_t)n * sizeof *vals);
    for (int i = 0; i < n; i++) {
        /* Some nil cases, some duplicates, the rest distinct. */
        cs[i] = i % 5 == 4 ? cs[i - 1] : gort_chan_make(sizeof(long), (size_t)(i % 2));
        cases[i] = (gort_case){.chan = i % 7 == 6 ? NULL : cs[i], .dir = GORT_RECV,
                               .elem = &vals[i]};
    }
    CHECK(gort_select(cases, n, false) == -1);
    struct pick p = {cs, n, n};
    /* Sends only to channels that some non-nil case covers. */
    for (int i = 0; i < n; i++)
        if (cases[i].chan == NULL)
            cs[i] = cs[i - 1 >= 0 ? i - 1 : 0];
    gort_go(send_random, &p, sizeof p);
    for (int i = 0; i < 100; i++) {
        int k = gort_select(cases, n, true);
        CHECK(k >= 0 && k < n && cases[k].chan != NULL && cases[k].ok);
        CHECK(cases[k].chan == cs[vals[k]]);
    }
    free(cs);
    free(cases);
    free(vals);
}

/* ---- non-blocking selects of several cases ---------------------------------- */

static void test_nonblocking_multi(void)
{
    gort_chan *a = gort_chan_make(sizeof(long), 0), *b = gort_chan_make(sizeof(long), 1);
    long x = 1, y = 0;
    gort_case cs[3] = {{.chan = a, .dir = GORT_RECV, .elem = &y},
                       {.chan = a, .dir = GORT_SEND, .elem = &x},
                       {.chan = b, .dir = GORT_RECV, .elem = &y}};
    CHECK(gort_select(cs, 3, false) == -1);
    gort_chan_send(b, &x);
    CHECK(gort_select(cs, 3, false) == 2 && y == 1 && cs[2].ok);
    CHECK(gort_select(cs, 3, false) == -1);
    gort_chan_close(b);
    cs[2].ok = true;
    CHECK(gort_select(cs, 3, false) == 2 && !cs[2].ok);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_fairness();
    test_duplicates();
    test_blocking_wakeups();
    test_big_select(10);
    test_big_select(40);
    test_big_select(1000);
    test_nonblocking_multi();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
