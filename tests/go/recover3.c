/* Port of Go's test/recover3.go: recovering from run-time errors.  Each
 * recovered value must be a runtime.Error (gort_is_runtime_error) and, where
 * Go's test looks for a part of the message, this port compares the whole
 * text with what Go 1.19 prints.  Beyond Go's list, the other run-time
 * errors C code can meet in gort: a negative index, channel misuse and
 * allocation sizes (runtime.plainError or errorString, as in Go), and a
 * panic that is not a runtime.Error (WaitGroup misuse panics with a
 * string), which check must tell apart.
 *
 * Left out:
 *   nil-deref-big (q[5000] through a nil *[10000]int): Go's compiler puts
 *     a nil check before an access that far from the pointer; a C compiler
 *     does not, so the fault lands past the first page, which Go's rule
 *     makes "unexpected fault address" and a fatal error (see
 *     tests/crash/panic_recover);
 *   type-concrete, type-interface: type assertions; C has no interfaces.
 *
 * Faults on purpose (integer divide by zero, nil dereference).
 */
// gort-test: plain-only
#include <gort.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static bool didbug;

static void bug(void)
{
    if (didbug)
        return;
    fprintf(stderr, "BUG\n");
    didbug = true;
}

struct check {
    const char *name;
    const char *err; /* the whole Error() text */
    bool runtime_error;
};

static NOINLINE void checkrecover(void *arg)
{
    const struct check *c = arg;
    const gort_any *v = gort_recover();
    if (v == NULL) {
        bug();
        fprintf(stderr, "%s did not panic\n", c->name);
        return;
    }
    if (gort_is_runtime_error(v) != c->runtime_error) {
        bug();
        fprintf(stderr, "%s panicked %s runtime.Error\n", c->name,
                c->runtime_error ? "but not with" : "with");
        return;
    }
    char s[256];
    gort_any_format(v, s, sizeof s);
    if (strcmp(s, c->err) != 0) {
        bug();
        fprintf(stderr, "%s panicked with %s not %s\n", c->name, s, c->err);
    }
}

static NOINLINE void check_(const char *name, void (*f)(void), const char *err, bool rterr)
{
    GORT_FRAME();
    struct check c = {name, err, rterr};
    gort_defer(checkrecover, &c);
    f();
}

static void check(const char *name, void (*f)(void), const char *err)
{
    check_(name, f, err, true);
}

/* Go's 1 / x: gcc turns a division of the constant 1 into a comparison
 * (dividing by zero is undefined in C), so the numerator is read too. */
static volatile int x, one = 1;
static volatile int64_t x64, one64 = 1;
static int64_t (*volatile p)[10];
static int64_t p1[10];
static volatile int64_t i;
static int64_t *volatile sl; /* a nil slice: length 0 */
static const int64_t sllen = 0;

static NOINLINE void int_div_zero(void)
{
    printf("%d\n", one / x);
}
static NOINLINE void int64_div_zero(void)
{
    printf("%ld\n", (long)(one64 / x64));
}
static NOINLINE void nil_deref(void)
{
    printf("%ld\n", (long)(*p)[0]);
}
static NOINLINE void nil_deref_1(void)
{
    printf("%ld\n", (long)(*p)[1]);
}
static NOINLINE void array_bounds(void)
{
    int64_t j = i;
    gort_index_check(j, 10);
    printf("%ld\n", (long)p1[j]);
}
static NOINLINE void slice_bounds(void)
{
    int64_t j = i;
    gort_index_check(j, sllen);
    printf("%ld\n", (long)sl[j]);
}
static NOINLINE void index_negative(void)
{
    int64_t j = -i;
    gort_index_check(j, 10);
    printf("%ld\n", (long)p1[j]);
}
static NOINLINE void close_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_chan_close(c);
    gort_chan_close(c);
}
static NOINLINE void close_nil(void)
{
    gort_chan_close(NULL);
}
static NOINLINE void send_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int v = 1;
    gort_chan_close(c);
    gort_chan_send(c, &v);
}
static NOINLINE void select_send_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int v = 1;
    gort_chan_close(c);
    gort_case cs[] = {{.chan = c, .dir = GORT_SEND, .elem = &v}};
    gort_select(cs, 1, false);
}
static NOINLINE void makechan_size(void)
{
    gort_chan_make(sizeof(int64_t), SIZE_MAX / 2);
}
static NOINLINE void calloc_overflow(void)
{
    gort_calloc(SIZE_MAX / 4, 8);
}
static const gort_type int64_type = GORT_TYPE(int64_t, 0);
static NOINLINE void new_array_overflow(void)
{
    gort_new_array(&int64_type, SIZE_MAX / 4);
}
static NOINLINE void waitgroup_negative(void)
{
    gort_waitgroup wg = {0};
    gort_waitgroup_add(&wg, -1);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static const char divmsg[] = "runtime error: integer divide by zero";
    static const char nilmsg[] = "runtime error: invalid memory address or nil pointer dereference";

    check("int-div-zero", int_div_zero, divmsg);
    check("int64-div-zero", int64_div_zero, divmsg);

    check("nil-deref", nil_deref, nilmsg);
    check("nil-deref-1", nil_deref_1, nilmsg);

    i = 99999;
    check("array-bounds", array_bounds, "runtime error: index out of range [99999] with length 10");
    check("slice-bounds", slice_bounds, "runtime error: index out of range [99999] with length 0");

    /* The other run-time errors of gort's API. */
    check("index-negative", index_negative, "runtime error: index out of range [-99999]");
    check("close-closed", close_closed, "close of closed channel");
    check("close-nil", close_nil, "close of nil channel");
    check("send-closed", send_closed, "send on closed channel");
    check("select-send-closed", select_send_closed, "send on closed channel");
    check("makechan-size", makechan_size, "makechan: size out of range");
    check("calloc-overflow", calloc_overflow, "runtime error: makeslice: len out of range");
    check("new-array-overflow", new_array_overflow, "runtime error: makeslice: len out of range");
    check_("waitgroup-negative", waitgroup_negative, "sync: negative WaitGroup counter", false);

    if (didbug)
        gort_panic("recover3");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
