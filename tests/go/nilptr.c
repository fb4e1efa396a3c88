/* Ports of Go's test/nilptr.go and test/zerodivide.go (the parts C has):
 * a nil dereference, a read through a nil struct pointer at a small
 * offset, and integer division and remainder by zero panic with Go's
 * runtime errors and are recovered; float division by zero does not
 * panic.  An offset past the first page is not nil (Go's "unexpected
 * fault address"), see tests/crash/panic_recover.
 */
// gort-test: plain-only
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

struct big {
    int a;
    char pad[1000];
    int b;
};

static int *volatile nilp;
static struct big *volatile nilbig;
static volatile int zero;
static volatile long lzero;

static NOIPA int readint(int *p)
{
    return *p;
}
static NOIPA int readfield(struct big *b)
{
    return b->b;
}
static NOIPA void writeint(int *p)
{
    *p = 1;
}
static NOIPA int idiv(int a, int b)
{
    return a / b;
}
static NOIPA int imod(int a, int b)
{
    return a % b;
}
static NOIPA long ldiv_(long a, long b)
{
    return a / b;
}

struct want {
    const char *msg;
    volatile int got;
};

static void expect(void *arg)
{
    struct want *w = arg;
    const gort_any *r = gort_recover();
    if (r == NULL) {
        fprintf(stderr, "FAIL: no panic, want %s\n", w->msg);
        exit(1);
    }
    char buf[256];
    gort_any_format(r, buf, sizeof buf);
    if (strcmp(buf, w->msg) != 0 || !gort_is_runtime_error(r)) {
        fprintf(stderr, "FAIL: got %s, want %s\n", buf, w->msg);
        exit(1);
    }
    w->got = 1;
}

static const char nilmsg[] = "runtime error: invalid memory address or nil pointer dereference";
static const char divmsg[] = "runtime error: integer divide by zero";

#define SHOULD_PANIC(name, msg, expr)                                                    \
    static NOIPA void name(struct want *w)                                               \
    {                                                                                    \
        GORT_FRAME();                                                                    \
        gort_defer(expect, w);                                                           \
        printf("%ld\n", (long)(expr));                                                   \
    }

SHOULD_PANIC(p1, nilmsg, readint(nilp))
SHOULD_PANIC(p2, nilmsg, readfield(nilbig))
SHOULD_PANIC(p4, divmsg, idiv(zero + 5, zero))
SHOULD_PANIC(p5, divmsg, imod(zero + 5, zero))
SHOULD_PANIC(p6, divmsg, ldiv_(lzero + 5, lzero))

static NOIPA void p3(struct want *w)
{
    GORT_FRAME();
    gort_defer(expect, w);
    writeint(nilp);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct {
        void (*f)(struct want *);
        const char *msg;
    } cases[] = {{p1, nilmsg}, {p2, nilmsg}, {p3, nilmsg}, {p4, divmsg}, {p5, divmsg}, {p6, divmsg}};
    for (int round = 0; round < 100; round++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct want w = {cases[i].msg, 0};
            cases[i].f(&w);
            if (!w.got) {
                fprintf(stderr, "FAIL: case %zu did not recover\n", i);
                return 1;
            }
        }
    }
    volatile double fz = 0.0;
    double x = 1.0 / fz; /* no panic for floats */
    if (x != x + 1)
        return fprintf(stderr, "FAIL: float division\n"), 1;
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
