/* Port of Go's test/chan/sieve1.go: the concurrent prime sieve, a chain of
 * filter goroutines over unbuffered channels; the first 25 primes. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static void generate(void *arg)
{
    gort_chan *ch = *(gort_chan **)arg;
    for (long i = 2;; i++)
        gort_chan_send(ch, &i);
}

struct filter_args {
    gort_chan *in, *out;
    long prime;
};

static void filter(void *arg)
{
    struct filter_args *a = arg;
    long i;
    while (gort_chan_recv(a->in, &i))
        if (i % a->prime != 0)
            gort_chan_send(a->out, &i);
}

static void sieve(void *arg)
{
    gort_chan *primes = *(gort_chan **)arg;
    gort_chan *ch = gort_chan_make(sizeof(long), 0);
    gort_go(generate, &ch, sizeof ch);
    for (;;) {
        long prime;
        gort_chan_recv(ch, &prime);
        gort_chan_send(primes, &prime);
        gort_chan *ch1 = gort_chan_make(sizeof(long), 0);
        struct filter_args a = {ch, ch1, prime};
        gort_go(filter, &a, sizeof a);
        ch = ch1;
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    static const long a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                             43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
    gort_chan *primes = gort_chan_make(sizeof(long), 0);
    gort_go(sieve, &primes, sizeof primes);
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        long x;
        gort_chan_recv(primes, &x);
        if (x != a[i]) {
            fprintf(stderr, "FAIL: %ld != %ld\n", x, a[i]);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
