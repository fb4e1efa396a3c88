/* GODEBUG=schedtrace=N[,scheddetail=1]: sysmon prints Go's scheduler trace
 * lines while the program runs (formats in sched_trace.want).  The program
 * sleeps 60 ms in a few goroutines so that several traces come out. */
#include <gort.h>

static gort_waitgroup wg;

static void sleeper(void *arg)
{
    (void)arg;
    gort_sleep(60 * 1000 * 1000);
    gort_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_waitgroup_add(&wg, 3);
    for (int i = 0; i < 3; i++)
        gort_go(sleeper, NULL, 0);
    gort_waitgroup_wait(&wg);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
