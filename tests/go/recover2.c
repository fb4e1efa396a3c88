/* Port of Go's test/recover2.go: recover of run-time errors, checking the
 * text of the error.  Go's test looks for a word of the message; this port
 * compares the whole text with what Go 1.19 prints for the same operation.
 *
 * Go's test slices a slice (`make([]byte, 10)`): its bound is the
 * capacity, gort_slice_cap_check's ("[:15] with capacity 10"); the same
 * bound on an array or string reads "with length" (gort_slice_check).  Go's
 * TODO, null pointer accesses, is here (test8).
 *
 * Left out, because C has no such operation: test4 (a failed type
 * assertion, "interface conversion: ..."), test5 (comparing uncomparable
 * interface values) and test6 (an unhashable map key) — C has no
 * interfaces and gort's API no map.
 *
 * Faults on purpose (integer divide by zero, nil dereference).
 */
// gort-test: plain-only
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static char x[10];

static void fail(const char *test, const char *what, const char *want)
{
    fprintf(stderr, "FAIL: %s: %s; want: %s\n", test, what, want);
    exit(1);
}

struct want {
    const char *test;
    const char *msg; /* the whole Error() text */
    int recovered;
};

/* Go's mustRecover, deferred by each test. */
static NOINLINE void mustrecover(void *arg)
{
    struct want *w = arg;
    const gort_any *v = gort_recover();
    if (v == NULL)
        fail(w->test, "expected panic", w->msg);
    if (v->type == NULL || v->type->error == NULL)
        fail(w->test, "the value is not an error", w->msg);
    char e[256];
    gort_any_format(v, e, sizeof e);
    if (strcmp(e, w->msg) != 0)
        fail(w->test, e, w->msg);
    w->recovered++;
}

static NOINLINE long index_x(int64_t i)
{
    gort_index_check(i, sizeof x);
    return x[i];
}

static NOINLINE long slice_x(int64_t lo, int64_t hi)
{
    gort_slice_cap_check(lo, hi, sizeof x);
    return (long)(hi - lo);
}

static volatile int vlo = 11, vhi = 9, vzero;
static int *volatile nilp;

static NOINLINE void test1(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    printf("%ld\n", index_x(123)); /* x[123] */
}

static NOINLINE void test2(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    printf("%ld\n", slice_x(5, 15)); /* x[5:15] */
}

/* Not in Go's test: the same bound on a string, s[5:15] with len(s) 10. */
static NOINLINE void test2s(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    gort_slice_check(5, 15, 10);
    printf("unreachable\n");
}

static NOINLINE void test3(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    int lo = vlo, hi = vhi;
    printf("%ld\n", slice_x(lo, hi)); /* x[lo:hi] */
}

static NOINLINE void test7(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    int a = vzero, b = vzero;
    printf("%d\n", a / b);
}

static NOINLINE void test8(struct want *w)
{
    GORT_FRAME();
    gort_defer(mustrecover, w);
    printf("%d\n", *nilp);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const struct {
        void (*fn)(struct want *);
        struct want w;
    } tests[] = {
        {test1, {"test1", "runtime error: index out of range [123] with length 10", 0}},
        {test2, {"test2", "runtime error: slice bounds out of range [:15] with capacity 10", 0}},
        {test2s, {"test2s", "runtime error: slice bounds out of range [:15] with length 10", 0}},
        {test3, {"test3", "runtime error: slice bounds out of range [11:9]", 0}},
        {test7, {"test7", "runtime error: integer divide by zero", 0}},
        {test8, {"test8", "runtime error: invalid memory address or nil pointer dereference", 0}},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        struct want w = tests[i].w;
        tests[i].fn(&w);
        if (w.recovered != 1)
            fail(w.test, "the deferred call did not recover", w.msg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
