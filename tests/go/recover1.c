/* Port of Go's test/recover1.go: recover during recursive panics ("here be
 * dragons"), plus runtime/defer_test.go's TestAbortedPanic and
 * TestRecoverMatching. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static void die(const char *what, long x)
{
    fprintf(stderr, "FAIL: %s %ld\n", what, x);
    exit(1);
}

static const gort_type int_type = {.name = "int"};
#define PANIC_INT(n) gort_panic_value(&int_type, (const void *)(intptr_t)(n))

static NOINLINE void mustnotrecover(void *arg)
{
    (void)arg;
    if (gort_recover() != NULL)
        die("spurious recover", 0);
    KEEP();
}

static NOINLINE void mustrecover(void *arg)
{
    long x = (long)(intptr_t)arg;
    mustnotrecover(NULL); /* not a deferred call */
    const gort_any *v = gort_recover();
    if (v == NULL)
        die("missing recover", x);
    if (v->type != &int_type || (intptr_t)v->value != x)
        die("wrong value", x);
    if (gort_recover() != NULL)
        die("recover didn't recover", x);
    KEEP();
}

/* test1: easy nested recursive panic. */
static NOINLINE void t1inner(void *arg)
{
    (void)arg;
    GORT_FRAME();
    gort_defer(mustrecover, (void *)2);
    PANIC_INT(2);
}
static NOINLINE void test1(void)
{
    GORT_FRAME();
    gort_defer(mustrecover, (void *)1);
    gort_defer(t1inner, NULL);
    PANIC_INT(1);
}

/* test2: sequential panic. */
static NOINLINE void t2inner(void *arg)
{
    (void)arg;
    GORT_FRAME();
    const gort_any *v = gort_recover();
    if (v == NULL || (intptr_t)v->value != 2)
        die("wrong value", 2);
    gort_defer(mustrecover, (void *)3);
    PANIC_INT(3);
}
static NOINLINE void test2(void)
{
    GORT_FRAME();
    gort_defer(mustnotrecover, NULL);
    gort_defer(t2inner, NULL);
    PANIC_INT(2);
}

/* test5: a panic inside a deferred call that recovers the first. */
static NOINLINE void t5inner(void *arg)
{
    (void)arg;
    GORT_FRAME();
    gort_defer(mustrecover, (void *)6);
    PANIC_INT(6);
}
static NOINLINE void test5(void)
{
    GORT_FRAME();
    gort_defer(mustrecover, (void *)5);
    gort_defer(t5inner, NULL);
    PANIC_INT(5);
}

/* TestAbortedPanic: recovering the newer panic ends the aborted one too,
 * and the recovering frame returns normally. */
static NOINLINE void abort_recover(void *arg)
{
    const gort_any *r = gort_recover();
    if (r == NULL || r->type != &gort_string_type)
        die("aborted panic: nothing recovered", 0);
    *(volatile int *)arg = 1;
}
static NOINLINE void abort_second(void *arg)
{
    (void)arg;
    gort_panic("second");
}
static NOINLINE void abortedpanic(volatile int *got)
{
    GORT_FRAME();
    gort_defer(abort_recover, (void *)got);
    gort_defer(abort_second, NULL);
    gort_panic("first");
}

/* TestRecoverMatching: a frame's deferred recover stops only a panic that
 * reaches it; a deferred call of an inner frame that returns normally
 * does not see the outer panic. */
static NOINLINE void innerdefer(void *arg)
{
    (void)arg;
    if (gort_recover() != NULL)
        die("recover matched a panic of another frame", 0);
}
static NOINLINE void innerframe(void *arg)
{
    (void)arg;
    GORT_FRAME();
    gort_defer(innerdefer, NULL);
}
static NOINLINE void recovermatching(void)
{
    GORT_FRAME();
    gort_defer(mustrecover, (void *)9);
    gort_defer(innerframe, NULL);
    PANIC_INT(9);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test1();
    test2();
    test5();
    volatile int got = 0;
    abortedpanic(&got);
    if (!got)
        die("aborted panic", 0);
    recovermatching();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
