/* The text of unrecovered panics: messages, GOTRACEBACK levels, goroutine
 * headers, frames with file:line, "created by", and exit status.  argv[1]
 * names the case (see panic_format.want); the line numbers in the want
 * file refer to this file, so keep the functions below where they are.
 *
 * Every helper is noinline and does something after its call, so that the
 * compiler neither inlines it nor turns the call into a tail jump: the
 * frames asserted here must exist. */
#include <gort.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static NOINLINE void inner(const char *msg)
{
    gort_panic(msg);
}

static NOINLINE void outer(const char *msg)
{
    inner(msg);
    KEEP();
}

static NOINLINE void formatted(int n)
{
    gort_panicf("bad value %d: %s", n, "too big");
}

static inline __attribute__((always_inline)) void inlined_helper(const char *msg)
{
    gort_panic(msg);
}

static volatile int inlined_calls;

static NOINLINE void calls_inlined(const char *msg)
{
    inlined_calls++; /* unlike inner(), so the two are not folded into one */
    inlined_helper(msg);
    KEEP();
}

static void worker_panics(void *arg)
{
    outer(arg);
    KEEP();
}

static void never_runs(void *arg)
{
    (void)arg;
    KEEP();
}

static void sleeper(void *arg)
{
    (void)arg;
    gort_sleep(3600 * 1000000000LL);
    KEEP();
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "goroutine") == 0) {
        gort_go(worker_panics, "boom in a goroutine", 0);
        gort_sleep(3600 * 1000000000LL);
    } else if (strcmp(c, "multiline") == 0) {
        outer("first line\nsecond line\nthird line");
    } else if (strcmp(c, "panicf") == 0) {
        formatted(42);
    } else if (strcmp(c, "inlined") == 0) {
        calls_inlined("from an inlined function");
    } else if (strcmp(c, "others") == 0) {
        /* One goroutine parked in a sleep, one that never ran (GOMAXPROCS=1
         * keeps it in the run queue). */
        gort_go(sleeper, NULL, 0);
        gort_sleep(10 * 1000000);
        gort_go(never_runs, NULL, 0);
        outer("boom");
    } else {
        outer("boom");
    }
    KEEP();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
