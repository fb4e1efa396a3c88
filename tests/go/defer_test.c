/* Port of Go's runtime/defer_test.go: TestUnconditionalPanic,
 * TestOpenAndNonOpenDefers, TestNonOpenAndOpenDefers,
 * TestConditionalDefers, TestDisappearingDefer, TestNonSSAableArgs,
 * TestDeferForFuncWithNoExit, TestDeferWithRepeatedRepanics,
 * TestIssue37688, TestIssue43921, TestIssue43920 and TestIssue43941.
 * TestAbortedPanic and TestRecoverMatching are in recover1.c.
 *
 * Go's compiler open-codes some defers (inline at the function's exits)
 * and not others (in loops, too many); gort has one kind, so the tests
 * about mixing the two check what they check in Go — every deferred call
 * runs once, in order, and recovers what it should — on the one kind.
 * Where Go's test relies on the stack moving (growStackIter, rec1), the
 * port overwrites the stack where the dead frames were and collects, so
 * that a defer record or frame left pointing into it would be run, or
 * scanned, and fail.
 *
 * Go's closures are functions given their captured variables through the
 * defer argument; `defer f(x)` with arguments is gort_defer_copy (they are
 * evaluated at the defer statement); `defer panic(n)` defers a function
 * that panics.  Go's int panic values are an "int" of gort's basic kinds.
 * Each test is a function; a failure names it and exits 1. */
#include <gort.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static const char *current; /* the running test's name */

static GORT_PRINTF(1, 2) void fatalf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "--- FAIL: %s\n\t", current);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* ---- Go values: strings and ints ---------------------------------------- */

static const gort_type int_type = GORT_BASIC_TYPE("int", INT);
static const int64_t ints[] = {-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

static NOINLINE void panic_int(int64_t n)
{
    if (n < -1 || n > 9)
        fatalf("panic_int(%ld): no such value", (long)n);
    gort_panic_value(&int_type, &ints[n + 1]);
}

/* `defer panic(n)`. */
static NOINLINE void deferred_panic(void *arg)
{
    panic_int(*(int64_t *)arg);
}
#define DEFER_PANIC(n) gort_defer_copy(deferred_panic, &(int64_t){n}, sizeof(int64_t))

/* gort_panic, called where the compiler must not know that it does not
 * return (a function that always panics or recurses is "infinite
 * recursion" to gcc). */
static void (*volatile panic_string)(const char *) = gort_panic;

static bool isstr(const gort_any *v, const char *s)
{
    return v != NULL && v->type == &gort_string_type && strcmp(v->value, s) == 0;
}

static const char *show(const gort_any *v, char *buf, size_t size)
{
    if (v == NULL)
        return "<nil>";
    gort_any_format(v, buf, size);
    return buf;
}

/* Go's expect: the recovered value is the int n. */
static void expect(int64_t n, const gort_any *err)
{
    if (err == NULL || err->type != &int_type || *(const int64_t *)err->value != n) {
        char buf[128];
        fatalf("have %s, want %ld", show(err, buf, sizeof buf), (long)n);
    }
}

/* Go's step: the steps happen in the order of their numbers. */
struct step {
    int *steps;
    int want;
};
static void step(void *arg)
{
    struct step *s = arg;
    ++*s->steps;
    if (*s->steps != s->want)
        fatalf("have %d, want %d", *s->steps, s->want);
}
#define DEFER_STEP(steps, n) gort_defer_copy(step, &(struct step){steps, n}, sizeof(struct step))
#define STEP(steps, n) step(&(struct step){steps, n})

static void nothing(void *arg)
{
    (void)arg;
}

/* ---- TestUnconditionalPanic ---------------------------------------------- */

/* The deferred calls that recover set *ran: each test checks that they ran
 * once, so that a defer that is lost fails, not only one that misbehaves. */
struct want {
    const char *value;
    int ran;
};

static NOINLINE void recover_string(void *arg)
{
    struct want *w = arg;
    const gort_any *r = gort_recover();
    char buf[128];
    if (!isstr(r, w->value))
        fatalf("recovered %s, want %s", show(r, buf, sizeof buf), w->value);
    w->ran++;
}

static NOINLINE void unconditional_panic(struct want *w)
{
    GORT_FRAME();
    gort_defer(recover_string, w);
    gort_panic("testUnconditional");
}

static void TestUnconditionalPanic(void)
{
    struct want w = {"testUnconditional", 0};
    unconditional_panic(&w);
    if (w.ran != 1)
        fatalf("expected unconditional panic (recovering call ran %d times)", w.ran);
}

/* ---- TestOpenAndNonOpenDefers, TestNonOpenAndOpenDefers ----------------- */

static volatile int glob = 3;

static NOINLINE void test_open(struct want *w, int arg)
{
    GORT_FRAME();
    gort_defer(recover_string, w);
    if (arg > 2)
        gort_panic("testOpenDefer");
}

static NOINLINE void open_and_non_open(struct want *nonopen, struct want *open)
{
    GORT_FRAME();
    for (;;) {
        gort_defer(recover_string, nonopen); /* in a loop: not open-coded in Go */
        if (glob > 2)
            break;
    }
    test_open(open, 47);
    gort_panic("testNonOpenDefer");
}

static void TestOpenAndNonOpenDefers(void)
{
    struct want nonopen = {"testNonOpenDefer", 0}, open = {"testOpenDefer", 0};
    open_and_non_open(&nonopen, &open);
    if (nonopen.ran != 1 || open.ran != 1)
        fatalf("deferred calls ran %d and %d times, want 1 and 1", nonopen.ran, open.ran);
}

static NOINLINE void non_open_and_open(struct want *nonopen, struct want *open)
{
    GORT_FRAME();
    test_open(open, 47);
    for (;;) {
        gort_defer(recover_string, nonopen);
        if (glob > 2)
            break;
    }
    gort_panic("testNonOpenDefer");
}

static void TestNonOpenAndOpenDefers(void)
{
    struct want nonopen = {"testNonOpenDefer", 0}, open = {"testOpenDefer", 0};
    non_open_and_open(&nonopen, &open);
    if (nonopen.ran != 1 || open.ran != 1)
        fatalf("deferred calls ran %d and %d times, want 1 and 1", nonopen.ran, open.ran);
}

/* ---- TestConditionalDefers ---------------------------------------------- */

static int list[10];
static int nlist;

static void doappend(void *arg)
{
    if (nlist == 10)
        fatalf("list overflow");
    list[nlist++] = *(int *)arg;
}
#define DEFER_APPEND(i) gort_defer_copy(doappend, &(int){i}, sizeof(int))

static NOINLINE void test_conditional_defers(int n)
{
    GORT_FRAME();
    DEFER_APPEND(1);
    if (n > 5) {
        DEFER_APPEND(2);
        if (n > 8)
            DEFER_APPEND(3);
        else
            DEFER_APPEND(4);
    }
    gort_panic("testConditional");
}

static NOINLINE void check_conditional(void *arg)
{
    struct want *w = arg;
    const gort_any *r = gort_recover();
    char buf[128];
    if (!isstr(r, w->value))
        fatalf("expected panic, recovered %s", show(r, buf, sizeof buf));
    w->ran++;
    static const int want[] = {4, 2, 1};
    if (nlist != 3 || memcmp(list, want, sizeof want) != 0) {
        char got[64] = "";
        for (int i = 0; i < nlist; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? " " : "", list[i]);
        fatalf("wanted [4 2 1], got [%s]", got);
    }
}

static NOINLINE void conditional_defers(struct want *w)
{
    GORT_FRAME();
    nlist = 0;
    gort_defer(check_conditional, w);
    test_conditional_defers(8);
}

static void TestConditionalDefers(void)
{
    struct want w = {"testConditional", 0};
    conditional_defers(&w);
    if (w.ran != 1)
        fatalf("expected panic (recovering call ran %d times)", w.ran);
}

/* ---- TestDisappearingDefer ----------------------------------------------- */

static void must_not_run(void *arg)
{
    (void)arg;
    fatalf("Defer shouldn't run");
}

static NOINLINE void disappearing_defer(const char *goos)
{
    GORT_FRAME();
    if (strcmp(goos, "invalidOS") == 0) /* dead code once folded, as in Go */
        gort_defer(must_not_run, NULL);
}

static void TestDisappearingDefer(void)
{
    disappearing_defer("linux");
}

/* ---- TestNonSSAableArgs -------------------------------------------------- */

/* Big arguments are copied at the defer statement and their expressions
 * evaluated once. */
typedef struct {
    unsigned char b[128];
} nonssaable;
typedef struct {
    int64_t x, y, z, w, p, q;
} bigstruct;
typedef struct {
    bigstruct element;
} containsbigstruct;

static int globint1, globint2, globint3;

static NOINLINE nonssaable mknonssaable(void)
{
    globint1++;
    return (nonssaable){{0, 0, 0, 0, 5}};
}
static NOINLINE int64_t sideeffect(int64_t n)
{
    globint2++;
    return n;
}
static NOINLINE containsbigstruct sideeffect2(containsbigstruct in)
{
    globint3++;
    return in;
}

struct saves {
    unsigned char save1;
    int64_t save2, save3, save4;
};

struct save1args {
    struct saves *s;
    nonssaable n;
};
static void save1(void *arg)
{
    struct save1args *a = arg;
    a->s->save1 = a->n.b[4];
}

struct bigargs {
    struct saves *s;
    bigstruct b;
};
static void save2(void *arg)
{
    struct bigargs *a = arg;
    a->s->save2 = a->b.y;
}
static void save3(void *arg)
{
    struct bigargs *a = arg;
    a->s->save3 = a->b.z;
}
static void save4(void *arg)
{
    struct bigargs *a = arg;
    a->s->save4 = a->b.z;
}

static void check_saves(void *arg)
{
    struct saves *s = arg;
    if (globint1 != 1)
        fatalf("globint1:  wanted: 1, got %d", globint1);
    if (s->save1 != 5)
        fatalf("save1:  wanted: 5, got %d", s->save1);
    if (globint2 != 1)
        fatalf("globint2:  wanted: 1, got %d", globint2);
    if (s->save2 != 2)
        fatalf("save2:  wanted: 2, got %ld", (long)s->save2);
    if (s->save3 != 4)
        fatalf("save3:  wanted: 4, got %ld", (long)s->save3);
    if (globint3 != 1)
        fatalf("globint3:  wanted: 1, got %d", globint3);
    if (s->save4 != 4)
        fatalf("save1:  wanted: 4, got %ld", (long)s->save4);
    s->save1 = 99; /* ran */
}

static NOINLINE void nonssaable_args(struct saves *s)
{
    GORT_FRAME();
    globint1 = globint2 = globint3 = 0;
    gort_defer(check_saves, s);
    struct save1args a1 = {s, mknonssaable()};
    gort_defer_copy(save1, &a1, sizeof a1);
    struct bigargs a2 = {s, {1, 2, 3, 4, 5, sideeffect(6)}};
    gort_defer_copy(save2, &a2, sizeof a2);
    containsbigstruct foo = {0};
    foo.element.z = 4;
    struct bigargs a3 = {s, foo.element};
    gort_defer_copy(save3, &a3, sizeof a3);
    struct bigargs a4 = {s, sideeffect2(foo).element};
    gort_defer_copy(save4, &a4, sizeof a4);
    /* Changing the originals now must not reach the deferred calls. */
    a1.n.b[4] = 0;
    a2.b.y = 0;
    a3.b.z = 0;
    a4.b.z = 0;
    KEEP();
}

static void TestNonSSAableArgs(void)
{
    struct saves s = {0};
    nonssaable_args(&s);
    if (s.save1 != 99)
        fatalf("the checking deferred call did not run");
}

/* ---- TestDeferForFuncWithNoExit ----------------------------------------- */

static NOINLINE void do_panic(void)
{
    gort_panic("Test panic");
}

/* stack_test.go's growStackIter: deep frames, each checked on the way
 * back, with a collection at the bottom. */
static NOINLINE void grow_stack_iter(int *p, int n)
{
    if (n == 0) {
        *p = n + 1;
        gort_gc();
        return;
    }
    *p = n + 1;
    int x = 0;
    grow_stack_iter(&x, n - 1);
    if (x != n)
        fatalf("stack is corrupted");
}

struct noexit {
    int *cond;
    int *ran;
};

static NOINLINE void check_noexit(void *arg)
{
    struct noexit *s = arg;
    if (*s->cond != 2)
        fatalf("cond: wanted 2, got %d", *s->cond);
    if (!isstr(gort_recover(), "Test panic"))
        fatalf("Didn't find expected panic");
    ++*s->ran;
}

/* No return statement and no way out but the panic: the recovery is what
 * runs the deferred call and leaves the function. */
static NOINLINE void no_exit(int *ran, int *returned)
{
    GORT_FRAME();
    int cond = 1;
    struct noexit s = {&cond, ran};
    gort_defer(check_noexit, &s);
    int x = 0;
    grow_stack_iter(&x, 1000);
    cond = 2;
    do_panic();
    *returned = 1; /* do_panic is not known not to return: this and the loop stay */
    for (;;)
        KEEP();
}

/* The same with Goexit: a goroutine whose function ends in an infinite
 * loop that Goexits; its deferred call runs and finds no panic. */
struct goexit_noexit {
    gort_chan *done;
    int iterations;
};

static NOINLINE void goexit_deferred(void *arg)
{
    struct goexit_noexit *s = arg;
    if (gort_recover() != NULL)
        fatalf("recover returned a value during Goexit");
    gort_chan_send(s->done, &s->iterations);
}

static NOINLINE void goexit_no_exit(void *arg)
{
    GORT_FRAME();
    struct goexit_noexit *s = arg;
    gort_defer(goexit_deferred, s);
    for (;;) {
        if (++s->iterations == 3)
            gort_goexit();
        KEEP();
    }
}

static void TestDeferForFuncWithNoExit(void)
{
    int ran = 0, returned = 0;
    no_exit(&ran, &returned);
    if (returned)
        fatalf("the panic returned");
    if (ran != 1)
        fatalf("the deferred call ran %d times, want 1", ran);
    struct goexit_noexit s = {gort_chan_make(sizeof(int), 0), 0};
    gort_go(goexit_no_exit, &s, 0);
    int iterations = 0;
    if (!gort_chan_recv(s.done, &iterations) || iterations != 3)
        fatalf("Goexit's deferred call: %d iterations, want 3", iterations);
}

/* ---- TestDeferWithRepeatedRepanics -------------------------------------- */

static int64_t recovered_at; /* the level whose deferred call recovered */

static NOINLINE void interpreter_deferred(void *arg)
{
    int64_t level = *(int64_t *)arg;
    const gort_any *e = gort_recover();
    if (e == NULL)
        return;
    if (e->type != &int_type)
        fatalf("recovered a value that is not an int");
    if (level != *(const int64_t *)e->value)
        gort_panic_any(*e); /* re-panicking, level */
    recovered_at = level;
}

static NOINLINE void interpreter(int64_t level, int64_t maxlevel, int64_t rec)
{
    GORT_FRAME();
    gort_defer_copy(interpreter_deferred, &level, sizeof level);
    if (level + 1 < maxlevel)
        interpreter(level + 1, maxlevel, rec);
    else
        panic_int(rec); /* initiating panic */
}

static volatile uint32_t saveint;

/* Fills its frame with 0xffffffff: a stale frame or defer record left in
 * the chains by interpreter() would be run, or followed, by the panic
 * below. */
static NOINLINE void recurse_fn(int level, int maxlevel)
{
    volatile uint32_t a[40];
    for (int i = 0; i < 40; i++)
        a[i] = 0xffffffff;
    if (level + 1 < maxlevel) {
        saveint = a[4];
        recurse_fn(level + 1, maxlevel);
    } else {
        panic_string("recurseFn panic");
    }
}

static NOINLINE void recover_any(void *arg)
{
    int *ran = arg;
    if (!isstr(gort_recover(), "recurseFn panic"))
        fatalf("recurseFnPanicRec recovered something else");
    ++*ran;
}

static NOINLINE void recurse_fn_panic_rec(int level, int maxlevel, int *ran)
{
    GORT_FRAME();
    gort_defer(recover_any, ran);
    recurse_fn(level, maxlevel);
}

static void TestDeferWithRepeatedRepanics(void)
{
    static const int64_t runs[][3] = {{0, 6, 2}, {0, 5, 1}, {0, 6, 3}};
    int ran = 0;
    for (int i = 0; i < 3; i++) {
        recovered_at = -1;
        interpreter(runs[i][0], runs[i][1], runs[i][2]);
        if (recovered_at != runs[i][2])
            fatalf("interpreter(0, %ld, %ld) recovered at level %ld", (long)runs[i][1],
                   (long)runs[i][2], (long)recovered_at);
        recurse_fn_panic_rec(0, 10, &ran);
    }
    if (ran != 3)
        fatalf("recurseFnPanicRec recovered %d times, want 3", ran);
}

/* ---- TestIssue37688 ------------------------------------------------------ */

/* Go's bug: a pointer to a stack-allocated defer record kept after the
 * stack moved, found by the collector.  gort's records are never on the
 * stack, but its frames are: after each round the stack where they were
 * is overwritten and the collector scans the defer chain. */
struct foo {
    int calls1, calls2;
};

static NOINLINE void method1(void *ap)
{
    ((struct foo *)ap)->calls1++;
}
static NOINLINE void method2(void *ap)
{
    ((struct foo *)ap)->calls2++;
}

static struct {
    int64_t a, b, c, d, e, f, g, h, i;
} globstruct;

struct ff1args {
    struct foo *ap;
    int64_t a, b, c, d, e, f, g, h, i;
};

static NOINLINE void ff1_deferred(void *arg)
{
    struct ff1args *x = arg;
    if (!isstr(gort_recover(), "ff1 panic"))
        fatalf("ff1's deferred call did not recover ff1's panic");
    globstruct.a = x->a;
    globstruct.b = x->b;
    globstruct.c = x->c;
    globstruct.d = x->d;
    globstruct.e = x->e;
    globstruct.f = x->f;
    globstruct.g = x->g;
    globstruct.h = x->h;
}

static NOINLINE void ff1(struct foo *ap, int64_t a, int64_t b, int64_t c, int64_t d, int64_t e,
                         int64_t f, int64_t g, int64_t h, int64_t i)
{
    GORT_FRAME();
    gort_defer(method1, ap);
    /* A defer with many arguments: a big record. */
    struct ff1args args = {ap, a, b, c, d, e, f, g, h, i};
    gort_defer_copy(ff1_deferred, &args, sizeof args);
    gort_panic("ff1 panic");
}

/* Overwrites the stack below the caller. */
static NOINLINE void rec1(int max)
{
    volatile char scribble[32];
    memset((char *)scribble, 0xa5, sizeof scribble);
    if (max > 0)
        rec1(max - 1);
    KEEP();
}

static int g2_rounds;

static NOINLINE void g2(struct foo *ap)
{
    GORT_FRAME();
    for (int i = 0; i < 1; i++)
        gort_defer(method1, ap);
    gort_defer(method2, ap);
    gort_defer(method1, ap);
    ff1(ap, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    rec1(2000);
    if (g2_rounds++ % 4 == 0)
        gort_gc(); /* scans the chain with this frame's three records on it */
}

static NOINLINE void g3(struct foo *ap)
{
    g2(ap); /* an extra frame to change the stack layout */
    KEEP();
}

static void TestIssue37688(void)
{
    struct foo a = {0, 0};
    for (int j = 0; j < 10; j++) {
        g2(&a);
        g3(&a);
    }
    if (a.calls1 != 60 || a.calls2 != 20)
        fatalf("method1 ran %d times, method2 %d; want 60 and 20", a.calls1, a.calls2);
    if (globstruct.a != 1 || globstruct.b != 2 || globstruct.c != 3 || globstruct.d != 4 ||
        globstruct.e != 5 || globstruct.f != 6 || globstruct.g != 7 || globstruct.h != 8 ||
        globstruct.i != 0)
        fatalf("globstruct not set by ff1's deferred call");
}

/* ---- TestIssue43921 ------------------------------------------------------ */

static NOINLINE void expect_recover(void *arg)
{
    int64_t *n = arg;
    expect(n[0], gort_recover());
    n[1]++; /* ran */
}
/* `defer func() { expect(t, n, recover()) }()`; ran counts its calls. */
#define DEFER_EXPECT(slot, n) ((slot)[0] = (n), gort_defer(expect_recover, (slot)))

static NOINLINE void i43921_deferred(void *arg)
{
    int64_t *slot = arg;
    GORT_FRAME();
    DEFER_EXPECT(slot, 4);
    panic_int(4);
}

static NOINLINE void i43921_inner(int64_t *slot)
{
    GORT_FRAME();
    for (;;) { /* prevents open-coded defers in Go */
        gort_defer(nothing, NULL);
        break;
    }
    gort_defer(i43921_deferred, slot);
    panic_int(1);
}

static NOINLINE void i43921(int64_t *outer, int64_t *inner)
{
    GORT_FRAME();
    DEFER_EXPECT(outer, 1);
    i43921_inner(inner);
}

static void TestIssue43921(void)
{
    int64_t outer[2] = {0}, inner[2] = {0};
    i43921(outer, inner);
    if (outer[1] != 1 || inner[1] != 1)
        fatalf("recovering calls ran %ld and %ld times, want 1 and 1", (long)outer[1],
               (long)inner[1]);
}

/* ---- TestIssue43920 ------------------------------------------------------ */

struct i43920 {
    int steps;
    int64_t e1[2], e3[2], e5[2];
};

static NOINLINE void i43920_panic4(void)
{
    panic_int(4);
}

static NOINLINE void i43920_b1(void *arg)
{
    struct i43920 *s = arg;
    GORT_FRAME();
    DEFER_EXPECT(s->e5, 5);
    DEFER_PANIC(5);
    i43920_panic4();
}

static NOINLINE void i43920_b(void *arg)
{
    struct i43920 *s = arg;
    GORT_FRAME();
    gort_defer(i43920_b1, s);
    DEFER_EXPECT(s->e3, 3);
    DEFER_PANIC(3);
}

static NOINLINE void i43920_c(struct i43920 *s)
{
    GORT_FRAME();
    DEFER_STEP(&s->steps, 1);
    panic_int(1);
}

static NOINLINE void i43920(struct i43920 *s)
{
    GORT_FRAME();
    DEFER_EXPECT(s->e1, 1);
    gort_defer(i43920_b, s);
    i43920_c(s);
}

static void TestIssue43920(void)
{
    struct i43920 s = {0};
    i43920(&s);
    if (s.steps != 1 || s.e1[1] != 1 || s.e3[1] != 1 || s.e5[1] != 1)
        fatalf("steps %d, recovering calls ran %ld, %ld, %ld times; want 1, 1, 1, 1", s.steps,
               (long)s.e1[1], (long)s.e3[1], (long)s.e5[1]);
}

/* ---- TestIssue43941 ------------------------------------------------------ */

struct i43941 {
    int steps;
    int64_t e1[2], e3[2], e4[2];
};

static NOINLINE void i43941_d1(void *arg)
{
    struct i43941 *s = arg;
    GORT_FRAME();
    DEFER_EXPECT(s->e3, 3);
    DEFER_PANIC(3);
    panic_int(2);
}

static NOINLINE void i43941_f2(struct i43941 *s)
{
    GORT_FRAME();
    gort_defer(i43941_d1, s);
    DEFER_EXPECT(s->e1, 1);
    DEFER_PANIC(1);
}

static NOINLINE void i43941_f1(struct i43941 *s)
{
    GORT_FRAME();
    i43941_f2(s);
    gort_defer(nothing, NULL);
    gort_defer(nothing, NULL);
    DEFER_STEP(&s->steps, 10);
    DEFER_STEP(&s->steps, 9);
    STEP(&s->steps, 8);
}

static NOINLINE void i43941_f4(struct i43941 *s)
{
    GORT_FRAME();
    DEFER_STEP(&s->steps, 11);
    panic_int(4);
}

static volatile int always = 1;

static NOINLINE void i43941_f3(struct i43941 *s)
{
    GORT_FRAME();
    DEFER_STEP(&s->steps, 13);
    DEFER_STEP(&s->steps, 12);
    i43941_f4(s);
    if (!always)
        return;
    /* Not executed: removing it broke Go's test case. */
    gort_defer(nothing, NULL);
    DEFER_PANIC(-1);
    DEFER_STEP(&s->steps, -1);
    DEFER_STEP(&s->steps, -1);
    gort_defer(nothing, NULL);
}

static NOINLINE void i43941_outer(void *arg)
{
    struct i43941 *s = arg;
    STEP(&s->steps, 14);
    expect(4, gort_recover());
    s->e4[1]++;
}

static NOINLINE void i43941(struct i43941 *s)
{
    GORT_FRAME();
    gort_defer(i43941_outer, s);
    i43941_f1(s);
    i43941_f3(s);
}

static void TestIssue43941(void)
{
    struct i43941 s = {.steps = 7};
    i43941(&s);
    if (s.steps != 14 || s.e1[1] != 1 || s.e3[1] != 1 || s.e4[1] != 1)
        fatalf("steps %d, recovering calls ran %ld, %ld, %ld times; want 14, 1, 1, 1", s.steps,
               (long)s.e1[1], (long)s.e3[1], (long)s.e4[1]);
}

/* ---- main ---------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define T(name) {#name, name}
    T(TestUnconditionalPanic),
    T(TestOpenAndNonOpenDefers),
    T(TestNonOpenAndOpenDefers),
    T(TestConditionalDefers),
    T(TestDisappearingDefer),
    T(TestNonSSAableArgs),
    T(TestDeferForFuncWithNoExit),
    T(TestDeferWithRepeatedRepanics),
    T(TestIssue37688),
    T(TestIssue43921),
    T(TestIssue43920),
    T(TestIssue43941),
#undef T
};

static int real_main(int argc, char **argv)
{
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        current = tests[i].name;
        tests[i].fn();
        printf("--- PASS: %s\n", current);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
