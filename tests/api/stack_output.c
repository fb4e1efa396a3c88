/* gort_stack (runtime.Stack): the calling goroutine's traceback starts with
 * its header and the function that called gort_stack; all == true appends
 * every other goroutine after a blank line; the text is truncated to the
 * buffer and the count returned is what was written. */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static char buf[1 << 16];
static _Atomic int parked;

static void fail(const char *what, const char *text)
{
    fprintf(stderr, "FAIL: %s\n--- stack:\n%s\n---\n", what, text);
    exit(1);
}

static NOINLINE int take_stack(bool all)
{
    int n = gort_stack(buf, sizeof buf - 1, all);
    KEEP();
    if (n < 0 || n >= (int)sizeof buf)
        fail("byte count out of range", "");
    buf[n] = '\0';
    return n;
}

static void sleeper(void *arg)
{
    (void)arg;
    atomic_store(&parked, 1);
    gort_sleep(3600 * 1000000000LL);
    KEEP();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    int n = take_stack(false);
    if (strncmp(buf, "goroutine 1 [running]:\ntake_stack(...)\n\t", 40) != 0)
        fail("does not begin with the header and the caller of gort_stack", buf);
    if (strstr(buf, "stack_output.c:") == NULL || strstr(buf, "\nreal_main(...)\n") == NULL)
        fail("no file:line or no real_main frame", buf);
    if (strstr(buf, "gort_") != NULL)
        fail("runtime frames at level 1", buf);
    if (strstr(buf, "\n\n") != NULL || buf[n - 1] != '\n')
        fail("one goroutine, ending in a newline", buf);

    gort_go(sleeper, NULL, 0);
    while (!atomic_load(&parked))
        gort_sleep(1000000);
    gort_sleep(1000000); /* let it reach its sleep */
    take_stack(true);
    if (strncmp(buf, "goroutine 1 [running]:\n", 23) != 0)
        fail("all: the caller's goroutine does not come first", buf);
    char *other = strstr(buf, "\n\ngoroutine ");
    if (other == NULL || strstr(other, " [sleep]:\nsleeper(...)\n") == NULL)
        fail("all: the sleeping goroutine is missing", buf);
    if (strstr(other, "created by real_main in goroutine 1\n") == NULL)
        fail("all: no created by line", buf);

    /* Truncation: the first bytes only, and their count. */
    char small[10];
    int k = gort_stack(small, sizeof small, false);
    if (k != (int)sizeof small || memcmp(small, "goroutine ", 10) != 0)
        fail("truncation", "");
    if (gort_stack(small, 0, false) != 0)
        fail("zero-length buffer", "");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
