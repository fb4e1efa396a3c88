/* Fatal errors of the scheduler and stacks, one per argv[1]; the exact
 * reports are in proc_crash.want.  Plain build only: under ASan a deliberate
 * stack overflow is ASan's to report. */
// gort-test: plain-only
#include <gort.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static volatile int depth;
static volatile bool forever = true;

static __attribute__((noinline)) void recurse(volatile char *prev)
{
    volatile char buf[512];
    buf[0] = prev ? prev[0] + 1 : 0;
    depth++;
    if (forever)
        recurse(buf);
}

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "stack_overflow") == 0) {
        recurse(NULL);
    } else if (strcmp(c, "go_nil") == 0) {
        gort_go(NULL, NULL, 0);
    } else if (strcmp(c, "deadlock_select") == 0) {
        gort_select(NULL, 0, true);
    } else if (strcmp(c, "deadlock_sleepers_done") == 0) {
        /* Timers pending hold off the report; once they fire it comes. */
        gort_sleep(1000000);
        gort_select(NULL, 0, true);
    } else if (strcmp(c, "goexit_main") == 0) {
        gort_goexit();
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
