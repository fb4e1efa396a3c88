/*
 * primes — the concurrent prime sieve from Go's test/chan/sieve1.go.
 *
 * A generator sends 2, 3, 4, ... down a channel.  Each prime found starts a
 * filter goroutine that passes on only the numbers its prime does not
 * divide, so the channel chain grows one goroutine per prime: a classic
 * picture of goroutines as cheap, composable processes.
 */
#include <gort.h>
#include <stdio.h>

static void generate(void *arg)
{
    gort_chan *out = *(gort_chan **)arg;
    for (int i = 2;; i++)
        gort_chan_send(out, &i);
}

struct filter_args {
    gort_chan *in, *out;
    int prime;
};

static void filter(void *arg)
{
    struct filter_args *a = arg;
    int v;
    while (gort_chan_recv(a->in, &v))
        if (v % a->prime != 0)
            gort_chan_send(a->out, &v);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_chan *ch = gort_chan_make(sizeof(int), 0);
    gort_go(generate, &ch, sizeof ch);
    printf("The first 25 primes, each found by a chain of filter goroutines:\n");
    for (int i = 0; i < 25; i++) {
        int prime;
        gort_chan_recv(ch, &prime);
        printf("%d%s", prime, i < 24 ? " " : "\n");
        gort_chan *next = gort_chan_make(sizeof(int), 0);
        struct filter_args a = {ch, next, prime};
        gort_go(filter, &a, sizeof a);
        ch = next;
    }
    printf("%d goroutines are still alive; returning from main ends them, as in Go.\n",
           gort_num_goroutine());
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
