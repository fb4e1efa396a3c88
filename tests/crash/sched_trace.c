/* GODEBUG=schedtrace=N[,scheddetail=1]: sysmon prints Go's scheduler trace
 * (formats in sched_trace.want).  So that the test never depends on how
 * fast the machine is, the program reads its own stderr through a pipe
 * until sysmon has printed two traces, copies what it read to the real
 * stderr, and exits; goroutines sleep meanwhile so the traces show them. */
#include <gort.h>
#include <string.h>
#include <unistd.h>

static void sleeper(void *arg)
{
    (void)arg;
    for (;;)
        gort_sleep(5 * 1000 * 1000);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    int real_stderr = dup(2);
    dup2(fds[1], 2);
    for (int i = 0; i < 3; i++)
        gort_go(sleeper, NULL, 0);
    static char buf[1 << 16];
    size_t n = 0;
    int traces = 0;
    while (traces < 2 && n < sizeof buf - 1) {
        gort_syscall_enter();
        ssize_t r = read(fds[0], buf + n, sizeof buf - 1 - n);
        gort_syscall_exit();
        if (r <= 0)
            return 1;
        n += (size_t)r;
        buf[n] = '\0';
        /* Count the traces whose first line is complete. */
        char *end = strrchr(buf, '\n');
        traces = 0;
        for (char *s = buf; end != NULL && (s = strstr(s, "SCHED ")) != NULL && s < end; s++)
            traces++;
    }
    /* Cut at the end of the last complete line. */
    while (n > 0 && buf[n - 1] != '\n')
        n--;
    if (write(real_stderr, buf, n) != (ssize_t)n)
        return 1;
    _exit(0);
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
