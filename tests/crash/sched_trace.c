/* GODEBUG=schedtrace=N[,scheddetail=1]: sysmon prints Go's scheduler trace
 * (formats in sched_trace.want).  So that the test never depends on how
 * fast the machine is, the program reads its own stderr through a pipe
 * until sysmon has printed the traces it waits for, copies what it read to
 * the real stderr, and exits.  argv[1] picks what the traces should show:
 *   (none)   three goroutines asleep; two traces are enough;
 *   sleep    main asleep and nothing else to do: a trace with every P idle
 *            and the run queues empty;
 *   locked   main wired to its thread (M0) and asleep: a detailed trace
 *            with nmidlelocked=1, M0's lockedg=1 and G1's lockedm=0.
 * In the last two the reading is done by another goroutine, blocked in a
 * read (a system call) between traces, and a trace that never comes is a
 * mismatch after 200 traces, not a hang. */
#include <gort.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static const char *mode = "";
static int fds[2], real_stderr;

static void sleeper(void *arg)
{
    (void)arg;
    for (;;)
        gort_sleep(5 * 1000 * 1000);
}

/* Whether the complete trace [s, end) is what this mode waits for. */
static bool wanted(const char *s, const char *end)
{
    char t[1 << 14];
    size_t n = (size_t)(end - s) < sizeof t - 1 ? (size_t)(end - s) : sizeof t - 1;
    memcpy(t, s, n);
    t[n] = '\0';
    if (strcmp(mode, "sleep") == 0)
        return strstr(t, " idleprocs=2 ") != NULL && strstr(t, " runqueue=0 [0 0]\n") != NULL &&
               strstr(t, " spinningthreads=0 ") != NULL;
    if (strcmp(mode, "locked") == 0)
        return strstr(t, " idleprocs=1 ") != NULL && strstr(t, " nmidlelocked=1 ") != NULL &&
               strstr(t, " spinningthreads=0 ") != NULL && strstr(t, " runqueue=0 ") != NULL &&
               strstr(t, "\n  P0: status=0 ") != NULL && strstr(t, " m=-1 runqsize=0 ") != NULL &&
               strstr(t, " blocked=true lockedg=1\n") != NULL &&
               strstr(t, "\n  G1: status=4(sleep) m=-1 lockedm=0\n") != NULL;
    return false;
}

static void capture(void *arg)
{
    (void)arg;
    static char buf[1 << 20];
    size_t n = 0;
    int traces = 0;
    bool done = false;
    while (!done && n < sizeof buf - 1) {
        gort_syscall_enter();
        ssize_t r = read(fds[0], buf + n, sizeof buf - 1 - n);
        gort_syscall_exit();
        if (r <= 0)
            _exit(1);
        n += (size_t)r;
        buf[n] = '\0';
        /* Traces whose first line is complete; a trace is complete when
         * the next one has started. */
        char *end = strrchr(buf, '\n');
        char *prev = NULL;
        traces = 0;
        for (char *s = buf; end != NULL && (s = strstr(s, "SCHED ")) != NULL && s < end; s++) {
            if (prev != NULL && wanted(prev, s))
                done = true;
            prev = s;
            traces++;
        }
        if (*mode == '\0' ? traces >= 2 : traces >= 200)
            done = true;
    }
    /* Cut at the end of the last complete line. */
    while (n > 0 && buf[n - 1] != '\n')
        n--;
    if (write(real_stderr, buf, n) != (ssize_t)n)
        _exit(1);
    _exit(0);
}

static int real_main(int argc, char **argv)
{
    /* The driver passes the case name by default: any other name than the
     * two special modes is the plain one. */
    mode = argc > 1 && (strcmp(argv[1], "sleep") == 0 || strcmp(argv[1], "locked") == 0) ? argv[1]
                                                                                         : "";
    if (pipe(fds) != 0)
        return 1;
    real_stderr = dup(2);
    dup2(fds[1], 2);
    if (*mode == '\0') {
        for (int i = 0; i < 3; i++)
            gort_go(sleeper, NULL, 0);
        capture(NULL);
    }
    if (strcmp(mode, "locked") == 0)
        gort_lock_os_thread();
    gort_go(capture, NULL, 0);
    for (;;)
        gort_sleep(1000 * 1000 * 1000);
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
