/* Go's test/defernil.go, unrecovered: a deferred nil function fails when
 * it would be called — at the function's exit, or during a panic — with
 * the nil-dereference error and the fault's "[signal SIGSEGV ...]" line,
 * as Go reports it (the statements after the defer have run).  And once
 * such a panic is recovered, a later panic has no signal line.  The
 * recovered form of defernil.go is in tests/go/defer.c.
 * argv[1] names the case (see defernil.want).
 */
#include <gort.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE void f(bool panics)
{
    GORT_FRAME();
    gort_defer(NULL, NULL); /* var nilf func(); defer nilf() */
    fprintf(stderr, "after defer\n");
    if (panics)
        gort_panic("x");
}

static NOINLINE void recover_it(void *arg)
{
    (void)arg;
    fprintf(stderr, "recovered: %s\n", gort_recover() != NULL ? "true" : "false");
}

static NOINLINE void g(void)
{
    GORT_FRAME();
    gort_defer(recover_it, NULL);
    f(false);
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "exit") == 0)
        f(false);
    else if (strcmp(c, "panic") == 0)
        f(true);
    else if (strcmp(c, "recovered") == 0) {
        g();
        gort_panic("later");
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
