/* Ports of Go's test/defer.go (LIFO order, arguments evaluated at the
 * defer statement) and test/defernil.go (a nil deferred function fails
 * when it is called, not when deferred), plus early returns through the
 * cleanup attribute and frames in blocks.  test/deferprint.go, whose
 * output is compared, is tests/crash/deferprint; defernil unrecovered is
 * tests/crash/defernil. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static char result[256];

static void fail(const char *what)
{
    fprintf(stderr, "FAIL: %s (result %s)\n", what, result);
    exit(1);
}

static void addint(void *arg)
{
    size_t n = strlen(result);
    snprintf(result + n, sizeof result - n, "%d", *(int *)arg);
}

static NOINLINE void test1helper(void)
{
    GORT_FRAME();
    for (int i = 0; i < 10; i++)
        gort_defer_copy(addint, &i, sizeof i);
}

static int early_count;
static void count(void *arg)
{
    (void)arg;
    early_count++;
}

/* Every return runs the deferred calls. */
static NOINLINE int early(int x)
{
    GORT_FRAME(-1);
    gort_defer(count, NULL);
    if (x == 0)
        return 0;
    for (int i = 0; i < 3; i++) {
        if (i == x)
            return i;
    }
    return 99;
}

/* A frame in a block: its deferred calls run when the block is left, the
 * function's own run when it returns. */
static NOINLINE void blocks(void)
{
    GORT_FRAME();
    int one = 1, two = 2;
    gort_defer(addint, &one);
    {
        GORT_FRAME();
        gort_defer(addint, &two);
    }
    if (strcmp(result, "2") != 0)
        fail("block frame did not run at the end of the block");
}

static void recover_nil(void *arg)
{
    const gort_any *r = gort_recover();
    if (r == NULL || !gort_is_runtime_error(r))
        fail("deferred nil func did not panic with a runtime error");
    char buf[128];
    gort_any_format(r, buf, sizeof buf);
    if (strcmp(buf, "runtime error: invalid memory address or nil pointer dereference") != 0)
        fail(buf);
    *(volatile int *)arg = 1;
}

static NOINLINE void defernil(volatile int *reached, volatile int *recovered)
{
    GORT_FRAME();
    gort_defer(recover_nil, (void *)recovered);
    gort_defer(NULL, NULL);
    *reached = 1; /* the defer statement itself did not panic */
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test1helper();
    if (strcmp(result, "9876543210") != 0)
        fail("test1: bad defer result (should be 9876543210)");
    if (early(0) != 0 || early(1) != 1 || early(7) != 99 || early_count != 3)
        fail("early returns");
    result[0] = '\0';
    blocks();
    if (strcmp(result, "21") != 0)
        fail("blocks");
    volatile int reached = 0, recovered = 0;
    defernil(&reached, &recovered);
    if (!reached || !recovered)
        fail("defernil");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
