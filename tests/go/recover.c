/* Port of Go's test/recover.go: the core recover rules.  Direct versus
 * indirect recover, recover in nested defers, the value recover returns,
 * remaining defers after a recovery, results set by deferred calls, big
 * frames.  Left out: reflect-based calls (no reflect), and `defer
 * recover()` (C cannot defer gort_recover itself: its type is not a
 * deferred function's).
 *
 * Go's closures become functions taking their captured variables through
 * the defer argument; Go's int panic values become gort_panic_value with an
 * "int" type whose value is the number cast to a pointer. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static void die(const char *what, long v)
{
    fprintf(stderr, "FAIL: %s %ld\n", what, v);
    exit(1);
}

static const gort_type int_type = {.name = "int"};
#define PANIC_INT(n) gort_panic_value(&int_type, (const void *)(intptr_t)(n))
static bool isint(const gort_any *v, long n)
{
    return v != NULL && v->type == &int_type && (intptr_t)v->value == n;
}

/* ---- helpers of test1 ---------------------------------------------------- */

static NOINLINE const gort_any *doublerecover(void)
{
    const gort_any *r = gort_recover();
    KEEP();
    return r;
}

/* mustRecover(x): recover by a helper fails, recover here succeeds with x,
 * a second recover fails. */
static NOINLINE void mustrecover(void *arg)
{
    long x = (long)(intptr_t)arg;
    const gort_any *v1 = doublerecover();
    const gort_any *v2 = gort_recover();
    const gort_any *v3 = gort_recover();
    if (v1 != NULL)
        die("spurious recover", x);
    if (v2 == NULL)
        die("missing recover", x);
    if (!isint(v2, x))
        die("wrong value", x);
    if (v3 != NULL)
        die("recover didn't recover", x);
    KEEP();
}

static NOINLINE void mustnotrecover(void *arg)
{
    (void)arg;
    if (gort_recover() != NULL)
        die("spurious recover", 0);
    KEEP();
}

static NOINLINE void withoutrecover(void *arg)
{
    mustnotrecover(arg); /* a sub-call: must not recover */
    KEEP();
}

static NOINLINE void withoutrecoverrecursive(void *arg)
{
    long n = (long)(intptr_t)arg;
    if (n == 0) {
        withoutrecoverrecursive((void *)1);
    } else if (gort_recover() != NULL) {
        die("spurious recover (recursive)", n);
    }
    KEEP();
}

static NOINLINE void test1(void)
{
    GORT_FRAME();
    gort_defer(mustnotrecover, NULL);     /* because mustrecover squelches it */
    gort_defer(mustrecover, (void *)1);   /* because of the panic below */
    gort_defer(withoutrecover, NULL);     /* no-op, leaving it for mustrecover */
    gort_defer(withoutrecoverrecursive, (void *)0);
    PANIC_INT(1);
}

/* test1WithClosures: the deferred functions take a copied argument. */
struct closure1 {
    long x;
};
static NOINLINE void closure_recovers(void *arg)
{
    struct closure1 *c = arg;
    mustnotrecover(NULL);
    const gort_any *v = gort_recover();
    if (v == NULL)
        die("missing recover", c->x);
    if (!isint(v, c->x))
        die("wrong value", c->x);
    KEEP();
}

static NOINLINE void test1withclosures(void)
{
    GORT_FRAME();
    struct closure1 c = {1};
    gort_defer(mustnotrecover, NULL);
    gort_defer_copy(closure_recovers, &c, sizeof c);
    c.x = 99; /* the deferred call saw 1: arguments are evaluated at defer */
    gort_defer(withoutrecover, NULL);
    PANIC_INT(1);
}

static NOINLINE void test2(void)
{
    GORT_FRAME();
    gort_defer(mustrecover, (void *)2);
    PANIC_INT(2);
}

static NOINLINE void squelch(void *arg)
{
    (void)arg;
    gort_recover(); /* the last call of a void function: still direct */
}

static NOINLINE void test3(void)
{
    GORT_FRAME();
    gort_defer(mustnotrecover, NULL);
    gort_defer(squelch, NULL);
    PANIC_INT(3);
}

/* ---- test5: deferred calls set the results ----------------------------- */

struct tryres {
    gort_any x;
};
static NOINLINE void tryrecover(void *arg)
{
    struct tryres *r = arg;
    const gort_any *v = gort_recover();
    if (v != NULL)
        r->x = *v;
}

static NOINLINE void callg(void *arg)
{
    ((void (*)(void))arg)();
}

/* Go's try: x is the named result; a recovered panic returns it. */
static NOINLINE gort_any try(void (*g)(void), gort_any deflt)
{
    volatile struct tryres res = {{NULL, NULL}};
    GORT_FRAME(res.x);
    gort_defer(tryrecover, (void *)&res);
    gort_defer(callg, (void *)g);
    return deflt;
}

/* Go's try1: `x = deflt; return` — deferred calls run after the result is
 * set and may change it. */
/* deflt is volatile only for gcc's -Wclobbered, which warns about
 * parameters live across the setjmp even when they never change. */
static NOINLINE gort_any try1(void (*g)(void), volatile gort_any deflt)
{
    volatile struct tryres res = {{NULL, NULL}};
    GORT_FRAME(res.x);
    gort_defer(tryrecover, (void *)&res);
    gort_defer(callg, (void *)g);
    GORT_RETURN(res.x, deflt);
}

static void panic5(void)
{
    PANIC_INT(5);
}
static void nothing(void)
{
}

static void test5(void)
{
    gort_any v = try(panic5, (gort_any){&int_type, (void *)55});
    if (!isint(&v, 5))
        die("wrong value", (long)(intptr_t)v.value);
    v = try(nothing, (gort_any){&gort_string_type, "hi"});
    if (v.type != &gort_string_type || strcmp(v.value, "hi") != 0)
        die("wrong value (string)", 0);
    v = try1(panic5, (gort_any){&int_type, (void *)55});
    if (!isint(&v, 5))
        die("try1 wrong value", (long)(intptr_t)v.value);
    v = try1(nothing, (gort_any){&gort_string_type, "hi"});
    if (v.type != &gort_string_type || strcmp(v.value, "hi") != 0)
        die("try1 wrong value (string)", 0);
}

/* ---- test6: big frames in deferred calls ------------------------------- */

static NOINLINE void big(void *arg)
{
    bool must = arg != NULL;
    volatile long x[20000];
    x[0] = 1;
    x[19999] = 1;
    if (x[0] + x[19999] != 2)
        die("big frame", 0);
    const gort_any *v = gort_recover();
    if (must && v == NULL)
        die("missing big recover", 0);
    if (!must && v != NULL)
        die("spurious big recover", 0);
    KEEP();
}

static NOINLINE void test6(void)
{
    GORT_FRAME();
    gort_defer(big, NULL);
    gort_defer(big, (void *)1);
    PANIC_INT(6);
}

/* ---- test7: after a recovery the frame's earlier defers still run ------ */

static NOINLINE void setok(void *arg)
{
    *(volatile bool *)arg = true;
}

static NOINLINE void test7inner(volatile bool *ok)
{
    GORT_FRAME();
    gort_defer(setok, (void *)ok);
    gort_defer(mustrecover, (void *)7);
    PANIC_INT(7);
}

static void test7(void)
{
    volatile bool ok = false;
    test7inner(&ok);
    if (!ok)
        die("did not run ok func", 7);
}

/* ---- test8: a deferred call with arguments sets a result ---------------- */

struct varargs {
    volatile int *s;
    int a[3];
};
static NOINLINE void varargs(void *arg)
{
    struct varargs *v = arg;
    *v->s = 0;
    for (int i = 0; i < 3; i++)
        *v->s += v->a[i];
    if (gort_recover() != NULL)
        *v->s += 100;
}

static NOINLINE int test8a(void)
{
    volatile int r = 0;
    GORT_FRAME(r);
    struct varargs va = {&r, {1, 2, 3}};
    gort_defer_copy(varargs, &va, sizeof va);
    PANIC_INT(0);
}

static NOINLINE int test8b(void)
{
    volatile int r = 0;
    GORT_FRAME(r);
    struct varargs va = {&r, {4, 5, 6}};
    gort_defer_copy(varargs, &va, sizeof va);
    GORT_RETURN(r, 0);
}

static void test8(void)
{
    if (test8a() != 106 || test8b() != 15)
        die("wrong value", 8);
}

/* ---- nested: a deferred call that itself defers and recovers ------------ */

static NOINLINE void inner_recover(void *arg)
{
    if (gort_recover() == NULL)
        die("missing nested recover", 0);
    *(volatile int *)arg += 1;
}

/* A deferred function that panics and recovers its own panic while the
 * outer panic runs: the outer one is still there afterwards. */
static NOINLINE void nested_panicker(void *arg)
{
    GORT_FRAME();
    gort_defer(inner_recover, arg);
    gort_panic("inner");
}

static NOINLINE void outer_recover(void *arg)
{
    const gort_any *v = gort_recover();
    if (v == NULL || v->type != &gort_string_type || strcmp(v->value, "outer") != 0)
        die("outer panic lost", 0);
    *(volatile int *)arg += 10;
}

static NOINLINE void testnested(volatile int *count)
{
    GORT_FRAME();
    gort_defer(outer_recover, (void *)count);
    gort_defer(nested_panicker, (void *)count);
    gort_panic("outer");
}

/* recover outside a panic, and during a deferred call run by a normal
 * return. */
static NOINLINE void notpanicking(void *arg)
{
    (void)arg;
    if (gort_recover() != NULL)
        die("recover outside a panic", 0);
}

static NOINLINE void testnopanic(void)
{
    GORT_FRAME();
    gort_defer(notpanicking, NULL);
    if (gort_recover() != NULL)
        die("recover in a function", 0);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test1();
    test1withclosures();
    test2();
    test3();
    test5();
    test6();
    test7();
    test8();
    volatile int count = 0;
    testnested(&count);
    if (count != 11)
        die("nested count", count);
    testnopanic();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
