/* Port of Go's test/chan/goroutines.go: 10000 goroutines chained through
 * unbuffered channels, each passing one value from its right to its left;
 * the value must come out of the leftmost channel and everything unwind.
 * Not under TSan: each goroutine is a TSan fiber, which counts against its
 * limit of 8128 threads. */
// gort-test: no-tsan
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

struct pair {
    gort_chan *left, *right;
};

static void f(void *arg)
{
    struct pair *p = arg;
    long v;
    gort_chan_recv(p->right, &v);
    gort_chan_send(p->left, &v);
}

static void first(void *arg)
{
    long one = 1;
    gort_chan_send(*(gort_chan **)arg, &one);
}

static int real_main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000;
    gort_chan *leftmost = gort_chan_make(sizeof(long), 0);
    gort_chan *left = leftmost, *right = leftmost;
    for (long i = 0; i < n; i++) {
        right = gort_chan_make(sizeof(long), 0);
        struct pair p = {left, right};
        gort_go(f, &p, sizeof p);
        left = right;
    }
    gort_go(first, &right, sizeof right);
    long v = 0;
    gort_chan_recv(leftmost, &v);
    if (v != 1) {
        fprintf(stderr, "FAIL: got %ld from the chain\n", v);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
