/* Unrecovered panics after defers and recovers, runtime errors from faults,
 * Goexit, and the fatal signal dumps (GO-FACTS 1.3-1.6, 1.8, 3.3).
 * argv[1] names the case (see panic_recover.want, whose line numbers refer
 * to this file: keep the functions below where they are).
 * gort-test: plain-only (faults on purpose; the sanitizers own SIGSEGV)
 */
// gort-test: plain-only
#include <gort.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
/* The faulting helpers must fault in their own frame: gcc's IPA-SRA would
 * move a pointer parameter's load into the caller. */
#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif
#define KEEP() __asm__ volatile("" ::: "memory")

static volatile int zero;
static int *volatile nilptr;

static NOINLINE void consume(int v)
{
    (void)v;
    KEEP();
}

/* Not leaves, so that they keep a frame pointer whatever the flags. */
static NOIPA int deref(int *p)
{
    int v = *p;
    consume(v);
    return v + 1;
}

static NOIPA int divide(int a, int b)
{
    int v = a / b;
    consume(v);
    return v + 1;
}

static NOINLINE void panic_second(void *arg)
{
    gort_panic(arg);
}

static NOINLINE void recover_and_panic(void *arg)
{
    if (gort_recover() == NULL)
        exit(3);
    gort_panic(arg);
}

static NOINLINE void recover_and_repanic(void *arg)
{
    (void)arg;
    const gort_any *r = gort_recover();
    if (r == NULL)
        exit(3);
    gort_panic_any(*r);
}

static int myerror(const void *v, char *buf, size_t n)
{
    return snprintf(buf, n, "my error %d", *(const int *)v);
}
static const gort_type myerror_type = {.name = "*main.MyError", .error = myerror};
static int mystring(const void *v, char *buf, size_t n)
{
    (void)v;
    return snprintf(buf, n, "i am stringer");
}
static const gort_type stringer_type = {.name = "main.S", .string = mystring};
static const gort_type ptr_type = {.name = "*main.T"};
static int badstring(const void *v, char *buf, size_t n)
{
    (void)v;
    (void)buf;
    (void)n;
    gort_panic("inner trouble");
}
static const gort_type bad_type = {.name = "main.Bad", .error = badstring};
static const int errcode = 7;

static NOINLINE void chain(const char *kind)
{
    GORT_FRAME();
    if (strcmp(kind, "chain") == 0) {
        gort_defer(panic_second, "second");
        gort_panic("first 1");
    }
    if (strcmp(kind, "recovered") == 0) {
        gort_defer(recover_and_panic, "again");
        gort_panic("first");
    }
    gort_defer(recover_and_repanic, NULL);
    gort_panic_value(&myerror_type, &errcode);
}

static void say(void *arg)
{
    fprintf(stderr, "%s\n", (const char *)arg);
}

static void panic_hello(void *arg)
{
    (void)arg;
    gort_panic("hello");
}

static void recover_it(void *arg)
{
    (void)arg;
    gort_recover();
}

static void panic_recovered(void *arg)
{
    GORT_FRAME();
    gort_defer(recover_it, arg);
    gort_panic("hello");
}

static void goexit_deferred(void *arg)
{
    (void)arg;
    gort_goexit();
}

static void goexit_in_panic(void *arg)
{
    GORT_FRAME();
    gort_defer(goexit_deferred, arg);
    gort_panic("hello");
}

static NOINLINE void goexit_cases(const char *kind)
{
    GORT_FRAME();
    if (strcmp(kind, "goexit_main") == 0) {
        gort_defer(say, "main's defers ran");
    } else if (strcmp(kind, "panic_after_goexit") == 0) {
        gort_defer(panic_hello, NULL);
    } else if (strcmp(kind, "recovered_panic_after_goexit") == 0) {
        gort_defer(panic_recovered, NULL);
    } else if (strcmp(kind, "goexit_in_panic") == 0) {
        gort_go(goexit_in_panic, NULL, 0);
    }
    gort_goexit();
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "chain") == 0 || strcmp(c, "recovered") == 0 || strcmp(c, "repanicked") == 0)
        chain(c);
    if (strcmp(c, "nil") == 0 || strcmp(c, "panicnil") == 0)
        gort_panic(NULL);
    if (strcmp(c, "error") == 0)
        gort_panic_value(&myerror_type, &errcode);
    if (strcmp(c, "stringer") == 0)
        gort_panic_value(&stringer_type, &errcode);
    if (strcmp(c, "pointer") == 0)
        gort_panic_value(&ptr_type, &errcode);
    if (strcmp(c, "badprint") == 0)
        gort_panic_value(&bad_type, &errcode);
    if (strncmp(c, "nilderef", 8) == 0)
        printf("%d\n", deref(nilptr));
    if (strcmp(c, "divide") == 0)
        printf("%d\n", divide(zero + 7, zero));
    if (strcmp(c, "index") == 0)
        gort_index_check(5, 3);
    if (strcmp(c, "slice") == 0)
        gort_slice_check(2, 1, 3);
    if (strcmp(c, "wild") == 0)
        printf("%d\n", deref((int *)0xdeadbeef000));
    if (strcmp(c, "libc") == 0)
        printf("%zu\n", strlen((const char *)nilptr));
    if (strcmp(c, "close_closed") == 0) {
        gort_chan *ch = gort_chan_make(sizeof(int), 0);
        gort_chan_close(ch);
        gort_chan_close(ch);
    }
    if (strncmp(c, "goexit", 6) == 0 || strstr(c, "after_goexit") != NULL)
        goexit_cases(c);
    if (strcmp(c, "sigquit") == 0) {
        raise(SIGQUIT);
        sleep(5);
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
