/* Ports of the panic, recover and Goexit programs of Go's
 * src/runtime/testdata/testprog (deadlock.go, crash.go) that crash_test.go
 * runs: TestRecursivePanic..5, TestDoublePanic, TestPanicLoop,
 * TestPanicWhilePanicking, TestPanicTraceback, TestGoexitDeadlock,
 * TestGoexitCrash, TestRecoverBeforePanicAfterGoexit{,2},
 * TestPanicDeadlockGosched, TestPanicDeadlockSyscall, TestMainGoroutineID
 * and TestGoNil.  argv[1] is the testprog's name for the scenario; each
 * function keeps the Go function's name (closures: NAME_funcN, as Go
 * names them).  What Go prints with fmt.Println goes to stderr here, so
 * that one stream holds the whole output in order, as crash_test.go's
 * CombinedOutput does.
 */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void println_recover(const gort_any *r)
{
    char buf[256];
    gort_any_format(r, buf, sizeof buf);
    fprintf(stderr, "%s\n", r != NULL ? buf : "<nil>");
}

/* ---- RecursivePanic: a recovered panic re-wrapped, recovered again ---- */

static void RecursivePanic_func1(void *arg)
{
    (void)arg;
    println_recover(gort_recover());
}

static void RecursivePanic_func2_1(void *arg)
{
    (void)arg;
    static char wrapped[64];
    const gort_any *err = gort_recover();
    if (err != NULL) {
        snprintf(wrapped, sizeof wrapped, "wrap: %s", (const char *)err->value);
        gort_panic(wrapped);
    }
}

/* Go passes an 8 KiB array by value here (to move the stack); so do we. */
struct big {
    char x[8192];
};

static NOINLINE void RecursivePanic_func2(struct big x)
{
    GORT_FRAME();
    gort_defer(RecursivePanic_func2_1, x.x);
    gort_panic("bad");
}

static NOINLINE void RecursivePanic_inner(void)
{
    GORT_FRAME();
    gort_defer(RecursivePanic_func1, NULL);
    struct big x = {{0}};
    RecursivePanic_func2(x);
}

static NOINLINE void RecursivePanic(void)
{
    RecursivePanic_inner();
    gort_panic("again");
}

/* ---- RecursivePanic2: recover and re-panic in separate defers ---------- */

static void panic_arg(void *arg)
{
    gort_panic(arg);
}

static NOINLINE void RecursivePanic2_func2(struct big x)
{
    (void)x;
    GORT_FRAME();
    gort_defer(panic_arg, "second panic");
    gort_defer(RecursivePanic_func1, NULL);
    gort_panic("first panic");
}

static NOINLINE void RecursivePanic2_inner(void)
{
    GORT_FRAME();
    gort_defer(RecursivePanic_func1, NULL);
    struct big x = {{0}};
    RecursivePanic2_func2(x);
}

static NOINLINE void RecursivePanic2(void)
{
    RecursivePanic2_inner();
    gort_panic("third panic");
}

/* ---- RecursivePanic3: the first panic finishes as a panic even though
 * the second, raised in its deferred call, was recovered ---------------- */

static void recover_quietly(void *arg)
{
    (void)arg;
    gort_recover();
}

static void RecursivePanic3_func1(void *arg)
{
    (void)arg;
    GORT_FRAME();
    gort_defer(recover_quietly, NULL);
    gort_panic("second panic");
}

static NOINLINE void RecursivePanic3(void)
{
    GORT_FRAME();
    gort_defer(RecursivePanic3_func1, NULL);
    gort_panic("first panic");
}

/* ---- RecursivePanic4: one defer recovers one panic and starts another -- */

static void RecursivePanic4_func1(void *arg)
{
    (void)arg;
    gort_recover();
    gort_panic("second panic");
}

static NOINLINE void RecursivePanic4(void)
{
    GORT_FRAME();
    gort_defer(RecursivePanic4_func1, NULL);
    gort_panic("first panic");
}

/* ---- RecursivePanic5: a recovery while another defer of the frame and
 * one of a caller's frame are still pending ------------------------------ */

static void nothing(void *arg)
{
    (void)arg;
}

static void three_func3(void *arg)
{
    (void)arg;
    println_recover(gort_recover());
    gort_panic("second panic");
}

static NOINLINE void three(void)
{
    GORT_FRAME();
    gort_defer(nothing, NULL);
    gort_defer(RecursivePanic_func1, NULL);
    gort_defer(three_func3, NULL);
    gort_panic("first panic");
}

static NOINLINE void two(void)
{
    GORT_FRAME();
    gort_defer(nothing, NULL);
    three();
}

static NOINLINE void one(void)
{
    two();
}

static NOINLINE void RecursivePanic5(void)
{
    one();
    gort_panic("third panic");
}

/* ---- DoublePanic: the first value's text survives collections run by the
 * second one's String() (issue 30150) ------------------------------------ */

static int P_String(const void *v, char *buf, size_t size)
{
    gort_gc();
    gort_gc();
    gort_gc();
    return snprintf(buf, size, "%s", (const char *)v);
}
static const gort_type P_type = {.name = "main.P", .string = P_String};

static char *gcstring(const char *s)
{
    char *p = gort_malloc_noscan(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static void DoublePanic_func1(void *arg)
{
    (void)arg;
    gort_panic_value(&P_type, gcstring("YYY"));
}

static NOINLINE void DoublePanic(void)
{
    GORT_FRAME();
    gort_defer(DoublePanic_func1, NULL);
    gort_panic_value(&P_type, gcstring("XXX"));
}

/* ---- PanicLoop and TestPanicWhilePanicking: Error()/String() panic ------ */

static int panicError_Error(const void *v, char *buf, size_t size)
{
    (void)v, (void)buf, (void)size;
    gort_panic("double error");
}
static const gort_type panicError_type = {.name = "*main.panicError", .error = panicError_Error};

static int exampleError_Error(const void *v, char *buf, size_t size)
{
    (void)v, (void)buf, (void)size;
    gort_panic("important error message");
}
static const gort_type exampleError_type = {.name = "main.exampleError", .error = exampleError_Error};

static int examplePanicError_Error(const void *v, char *buf, size_t size)
{
    (void)buf, (void)size;
    gort_panic_value(&exampleError_type, v);
}
static const gort_type examplePanicError_type = {.name = "main.examplePanicError",
                                                 .error = examplePanicError_Error};

static int exampleStringer_String(const void *v, char *buf, size_t size)
{
    (void)v, (void)buf, (void)size;
    gort_panic("important stringer message");
}
static const gort_type exampleStringer_type = {.name = "main.exampleStringer",
                                               .string = exampleStringer_String};

static int examplePanicStringer_String(const void *v, char *buf, size_t size)
{
    (void)buf, (void)size;
    gort_panic_value(&exampleStringer_type, v);
}
static const gort_type examplePanicStringer_type = {.name = "main.examplePanicStringer",
                                                    .string = examplePanicStringer_String};

static const gort_type exampleCircleEndError_type;
static int exampleCircleStartError_Error(const void *v, char *buf, size_t size)
{
    (void)buf, (void)size;
    gort_panic_value(&exampleCircleEndError_type, v);
}
static const gort_type exampleCircleStartError_type = {.name = "main.exampleCircleStartError",
                                                       .error = exampleCircleStartError_Error};
static int exampleCircleEndError_Error(const void *v, char *buf, size_t size)
{
    (void)buf, (void)size;
    gort_panic_value(&exampleCircleStartError_type, v);
}
static const gort_type exampleCircleEndError_type = {.name = "main.exampleCircleEndError",
                                                     .error = exampleCircleEndError_Error};

static const char empty_struct[1];

/* ---- PanicTraceback: the frames show `panic` between deferred calls ----- */

static void pt1_func1(void *arg)
{
    (void)arg;
    gort_panic("panic pt1");
}

static void pt2_func1(void *arg)
{
    (void)arg;
    gort_panic("panic pt2");
}

static NOINLINE void pt2(void)
{
    GORT_FRAME();
    gort_defer(pt2_func1, NULL);
    gort_panic("hello");
}

static NOINLINE void pt1(void)
{
    GORT_FRAME();
    gort_defer(pt1_func1, NULL);
    pt2();
}

static NOINLINE void PanicTraceback(void)
{
    pt1();
}

/* ---- Goexit in main ------------------------------------------------------ */

static void GoexitDeadlock_F(void *arg)
{
    (void)arg;
    for (volatile int i = 0; i < 10; i++) {
    }
}

static NOINLINE void GoexitDeadlock(void)
{
    gort_go(GoexitDeadlock_F, NULL, 0);
    gort_go(GoexitDeadlock_F, NULL, 0);
    gort_goexit();
}

static void GoexitExit_func1(void *arg)
{
    (void)arg;
    gort_sleep(1000000);
}

static void no_finalizer(void *obj)
{
    (void)obj;
}

static NOINLINE void GoexitExit(void)
{
    fprintf(stderr, "t1\n");
    gort_go(GoexitExit_func1, NULL, 0);
    fprintf(stderr, "t2\n");
    gort_set_finalizer(gort_malloc_noscan(sizeof(int)), no_finalizer);
    fprintf(stderr, "t3\n");
    gort_gc();
    fprintf(stderr, "t4\n");
    gort_goexit();
}

static void recover_or_bad(void *arg)
{
    (void)arg;
    if (gort_recover() == NULL)
        gort_panic("bad recover");
}

static void panic_hello(void *arg)
{
    (void)arg;
    gort_panic("hello");
}

/* Goexit runs the deferred panic; the deferred recover catches it; the
 * recovery resumes Goexit's loop, not the caller (which would make the
 * Goexit disappear). */
static NOINLINE void RecoverBeforePanicAfterGoexit(void)
{
    GORT_FRAME();
    gort_defer(recover_or_bad, NULL);
    gort_defer(panic_hello, NULL);
    gort_goexit();
}

static NOINLINE void RecoverBeforePanicAfterGoexit2(void)
{
    GORT_FRAME();
    for (int i = 0; i < 2; i++)
        gort_defer(nothing, NULL);
    gort_defer(recover_or_bad, NULL);
    gort_defer(panic_hello, NULL);
    gort_goexit();
}

/* ---- Error() methods that switch or make system calls (issue 14432) ---- */

static int errorThatGosched_Error(const void *v, char *buf, size_t size)
{
    (void)v;
    gort_gosched();
    return snprintf(buf, size, "errorThatGosched");
}
static const gort_type errorThatGosched_type = {.name = "main.errorThatGosched",
                                                .error = errorThatGosched_Error};

static int errorThatPrint_Error(const void *v, char *buf, size_t size)
{
    (void)v;
    fprintf(stderr, "1\n");
    fprintf(stderr, "2\n");
    return snprintf(buf, size, "3");
}
static const gort_type errorThatPrint_type = {.name = "main.errorThatPrint",
                                              .error = errorThatPrint_Error};

/* ---- GoNil: fatal, not a panic: the deferred recover cannot stop it ---- */

static NOINLINE void GoNil(void)
{
    GORT_FRAME();
    gort_defer(recover_quietly, NULL);
    gort_go(NULL, NULL, 0);
    gort_select(NULL, 0, true);
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "RecursivePanic") == 0)
        RecursivePanic();
    else if (strcmp(c, "RecursivePanic2") == 0)
        RecursivePanic2();
    else if (strcmp(c, "RecursivePanic3") == 0)
        RecursivePanic3();
    else if (strcmp(c, "RecursivePanic4") == 0)
        RecursivePanic4();
    else if (strcmp(c, "RecursivePanic5") == 0)
        RecursivePanic5();
    else if (strcmp(c, "DoublePanic") == 0)
        DoublePanic();
    else if (strcmp(c, "PanicLoop") == 0)
        gort_panic_value(&panicError_type, empty_struct);
    else if (strcmp(c, "ErrorPanic") == 0)
        gort_panic_value(&exampleError_type, empty_struct);
    else if (strcmp(c, "DoubleErrorPanic") == 0)
        gort_panic_value(&examplePanicError_type, empty_struct);
    else if (strcmp(c, "StringerPanic") == 0)
        gort_panic_value(&exampleStringer_type, empty_struct);
    else if (strcmp(c, "DoubleStringerPanic") == 0)
        gort_panic_value(&examplePanicStringer_type, empty_struct);
    else if (strcmp(c, "CircularPanic") == 0)
        gort_panic_value(&exampleCircleStartError_type, empty_struct);
    else if (strcmp(c, "StringPanic") == 0)
        gort_panic("important string message");
    else if (strcmp(c, "PanicTraceback") == 0)
        PanicTraceback();
    else if (strcmp(c, "GoexitDeadlock") == 0)
        GoexitDeadlock();
    else if (strcmp(c, "GoexitExit") == 0)
        GoexitExit();
    else if (strcmp(c, "RecoverBeforePanicAfterGoexit") == 0)
        RecoverBeforePanicAfterGoexit();
    else if (strcmp(c, "RecoverBeforePanicAfterGoexit2") == 0)
        RecoverBeforePanicAfterGoexit2();
    else if (strcmp(c, "GoschedInPanic") == 0)
        gort_panic_value(&errorThatGosched_type, empty_struct);
    else if (strcmp(c, "SyscallInPanic") == 0)
        gort_panic_value(&errorThatPrint_type, empty_struct);
    else if (strcmp(c, "MainGoroutineID") == 0)
        gort_panic("test");
    else if (strcmp(c, "GoNil") == 0)
        GoNil();
    else
        fprintf(stderr, "unknown case %s\n", c);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
