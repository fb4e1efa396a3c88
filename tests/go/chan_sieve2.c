/* Port of Go's test/chan/sieve2.go: Eratosthenes with a heap-merged set of
 * channels of multiples, a feedback loop of primes, and a proxy goroutine
 * that buffers without bound through a select whose send case is nil-ed
 * while its buffer is empty.  The first 25 primes. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                                  \
        exit(1);                                                                \
    } while (0)

static long recv_long(gort_chan *c)
{
    long v;
    gort_chan_recv(c, &v);
    return v;
}

static void send_long(gort_chan *c, long v)
{
    gort_chan_send(c, &v);
}

static void odds_loop(void *arg)
{
    gort_chan *out = *(gort_chan **)arg;
    for (long n = 5;; n += 2)
        send_long(out, n);
}

static gort_chan *odds(void)
{
    gort_chan *out = gort_chan_make(sizeof(long), 50);
    gort_go(odds_loop, &out, sizeof out);
    return out;
}

struct mult {
    gort_chan *out;
    long p;
};

static void multiples_loop(void *arg)
{
    struct mult *m = arg;
    for (long n = m->p * m->p;; n += 2 * m->p)
        send_long(m->out, n);
}

static gort_chan *multiples(long p)
{
    struct mult m = {gort_chan_make(sizeof(long), 10), p};
    gort_go(multiples_loop, &m, sizeof m);
    return m.out;
}

/* A min-heap of channels keyed by the value peeked from each. */
struct peekch {
    long head;
    gort_chan *ch;
};
struct heap {
    struct peekch *a;
    int n, cap;
};

static void heap_push(struct heap *h, struct peekch x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->a = realloc(h->a, (size_t)h->cap * sizeof *h->a);
    }
    int i = h->n++;
    while (i > 0 && h->a[(i - 1) / 2].head > x.head) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = x;
}

static struct peekch heap_pop(struct heap *h)
{
    if (h->n == 0)
        FAIL("pop from an empty heap");
    struct peekch top = h->a[0], x = h->a[--h->n];
    int i = 0;
    for (;;) {
        int k = 2 * i + 1;
        if (k >= h->n)
            break;
        if (k + 1 < h->n && h->a[k + 1].head < h->a[k].head)
            k++;
        if (x.head <= h->a[k].head)
            break;
        h->a[i] = h->a[k];
        i = k;
    }
    h->a[i] = x;
    return top;
}

struct proxy {
    gort_chan *proxy, *out;
};

/* Forwards proxy to out through an unbounded FIFO. */
static void proxy_loop(void *arg)
{
    struct proxy *p = arg;
    size_t cap = 16, first = 0, n = 0;
    long *q = malloc(cap * sizeof *q);
    for (;;) {
        long in, e = 0;
        gort_chan *c = p->out;
        if (n == 0)
            c = NULL; /* buffer empty: disable output */
        else
            e = q[first];
        gort_case cs[2] = {{.chan = p->proxy, .dir = GORT_RECV, .elem = &in},
                           {.chan = c, .dir = GORT_SEND, .elem = &e}};
        if (gort_select(cs, 2, true) == 0) {
            if (n == cap) {
                long *nq = malloc(2 * cap * sizeof *nq);
                for (size_t i = 0; i < n; i++)
                    nq[i] = q[(first + i) % cap];
                free(q);
                q = nq;
                first = 0;
                cap *= 2;
            }
            q[(first + n) % cap] = in;
            n++;
        } else {
            first = (first + 1) % cap;
            n--;
        }
    }
}

static gort_chan *sendproxy(gort_chan *out)
{
    struct proxy p = {gort_chan_make(sizeof(long), 10), out};
    gort_go(proxy_loop, &p, sizeof p);
    return p.proxy;
}

struct sieve {
    gort_chan *out, *composites, *primes;
};

static void merge(void *arg)
{
    struct sieve *s = arg;
    struct heap h = {0};
    long min = 15;
    for (;;) {
        gort_chan *m = multiples(recv_long(s->primes));
        long head = recv_long(m);
        while (min < head) {
            send_long(s->composites, min);
            struct peekch mc = heap_pop(&h);
            min = mc.head;
            mc.head = recv_long(mc.ch);
            heap_push(&h, mc);
        }
        while (min == head) {
            struct peekch mc = heap_pop(&h);
            min = mc.head;
            mc.head = recv_long(mc.ch);
            heap_push(&h, mc);
        }
        send_long(s->composites, head);
        heap_push(&h, (struct peekch){recv_long(m), m});
    }
}

static void sift(void *arg)
{
    struct sieve *s = arg;
    gort_chan *primes = sendproxy(s->primes);
    gort_chan *candidates = odds();
    long p = recv_long(candidates);
    for (;;) {
        long c = recv_long(s->composites);
        while (p < c) {
            send_long(primes, p);
            send_long(s->out, p);
            p = recv_long(candidates);
        }
        if (p == c)
            p = recv_long(candidates);
    }
}

static gort_chan *sieve(void)
{
    struct sieve s = {gort_chan_make(sizeof(long), 10), gort_chan_make(sizeof(long), 50),
                      gort_chan_make(sizeof(long), 10)};
    send_long(s.out, 2);
    send_long(s.out, 3);
    send_long(s.primes, 3);
    gort_go(merge, &s, sizeof s);
    gort_go(sift, &s, sizeof s);
    return s.out;
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    static const long a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                             43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
    gort_chan *primes = sieve();
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        long x = recv_long(primes);
        if (x != a[i])
            FAIL("%ld != %ld", x, a[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
