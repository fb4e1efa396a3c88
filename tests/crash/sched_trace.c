/* GODEBUG=schedtrace=N[,scheddetail=1]: sysmon prints Go's scheduler trace
 * lines while the program runs (formats in sched_trace.want, GO-FACTS 1.2).
 * argv[1] picks what the program does meanwhile:
 *   (none)   three goroutines sleep 60 ms while main waits on a WaitGroup;
 *   sleep    main alone sleeps 100 ms (every P idle: the quiet trace line);
 *   locked   main wires itself to M0 and sleeps 100 ms (lockedg / lockedm
 *            and nmidlelocked in the detail lines). */
#include <gort.h>
#include <string.h>

static gort_waitgroup wg;

static void sleeper(void *arg)
{
    (void)arg;
    gort_sleep(60 * 1000 * 1000);
    gort_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "sleep") == 0) {
        gort_sleep(100 * 1000 * 1000);
        return 0;
    }
    if (strcmp(mode, "locked") == 0) {
        gort_lock_os_thread();
        gort_sleep(100 * 1000 * 1000);
        gort_unlock_os_thread();
        return 0;
    }
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
