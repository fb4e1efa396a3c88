/* Port of Go's test/mallocfin.go: basic finalizer operation.  For each i, a
 * B and an A pointing to it both get finalizers (A's must run first: B is
 * reachable from A until A's finalizer has run and A is freed), and a third
 * object's finalizer is set and then removed (it must never run).  At least
 * 80% of the pairs must be finalized within N collections. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

#define N 250

struct B {
    long n;
};
struct A {
    struct B *b;
    long n;
};
static const gort_type a_type = GORT_TYPE(struct A, GORT_PTR(struct A, b));
static const gort_type b_type = GORT_TYPE(struct B, 0);

/* The finalizers run one at a time on the finalizer goroutine, as in Go,
 * so plain ints are enough; the main goroutine reads nfinal racily, as the
 * Go test does, through an atomic for the sanitizers. */
static int final[N];
static _Atomic int nfinal;

static void die(const char *what, long n, int v)
{
    fprintf(stderr, "%s %ld %d\nfail\n", what, n, v);
    exit(1);
}

static void finalA(void *p)
{
    struct A *a = p;
    if (final[a->n] != 0)
        die("finalA", a->n, final[a->n]);
    final[a->n] = 1;
}

static void finalB(void *p)
{
    struct B *b = p;
    if (final[b->n] != 1)
        die("finalB", b->n, final[b->n]);
    final[b->n] = 2;
    nfinal++;
}

static void nofinalB(void *p)
{
    (void)p;
    fprintf(stderr, "nofinalB run\n");
    exit(1);
}

static __attribute__((noinline)) void make(void)
{
    for (long i = 0; i < N; i++) {
        struct B *b = gort_new(&b_type);
        b->n = i;
        struct A *a = gort_new(&a_type);
        a->b = b;
        a->n = i;
        struct B *c = gort_new(&b_type);
        gort_set_finalizer(c, nofinalB);
        gort_set_finalizer(b, finalB);
        gort_set_finalizer(a, finalA);
        gort_set_finalizer(c, NULL);
    }
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_gomaxprocs(4);
    make();
    for (int i = 0; i < N; i++) {
        gort_gc();
        gort_gosched();
        gort_sleep(1000000);
        if (nfinal >= N * 8 / 10)
            break;
    }
    if (nfinal < N * 8 / 10) {
        fprintf(stderr, "not enough finalizing: %d / %d\nfail\n", (int)nfinal, N);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
