/* GOMAXPROCS, as Go 1.19 has it (GO-FACTS 2):
 *   - the environment variable: a valid int32 > 0 is taken exactly (no
 *     upper cap: TestBigGOMAXPROCS starts with 1024); 0, negatives,
 *     garbage ("3x", "+3", " 3", "", overflow) silently give NumCPU;
 *   - NumCPU counts the CPUs of the affinity mask;
 *   - runtime.GOMAXPROCS(n) returns the previous setting, n < 1 only
 *     queries, and goroutines keep running across changes.
 * Each environment case runs this program again ("child EXPECT", EXPECT a
 * number or "ncpu") with GOMAXPROCS set for it. */
#define _GNU_SOURCE 1
#include <gort.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void fail(const char *what, long got, long want)
{
    fprintf(stderr, "FAIL: %s: got %ld, want %ld\n", what, got, want);
    exit(1);
}

static gort_waitgroup wg;

static void work(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++)
        gort_gosched();
    gort_waitgroup_done(&wg);
}

static void run_some(int n)
{
    gort_waitgroup_add(&wg, n);
    for (int i = 0; i < n; i++)
        gort_go(work, NULL, 0);
    gort_waitgroup_wait(&wg);
}

static int child(const char *expect)
{
    long want = strcmp(expect, "ncpu") == 0 ? gort_num_cpu() : atol(expect);
    if (gort_gomaxprocs(0) != want)
        fail(getenv("GOMAXPROCS") ? getenv("GOMAXPROCS") : "GOMAXPROCS unset",
             gort_gomaxprocs(0), want);
    run_some(2 * (int)want + 2); /* every P may get work */
    if (gort_gomaxprocs(-1) != want)
        fail("GOMAXPROCS after running goroutines", gort_gomaxprocs(-1), want);
    return 0;
}

/* Runs this program with GOMAXPROCS=value (unset when value is NULL). */
static void spawn_case(const char *self, const char *value, const char *expect,
                       const char *mode)
{
    static char *envp[4096];
    int n = 0;
    for (char **e = environ; *e != NULL && n < 4094; e++)
        if (strncmp(*e, "GOMAXPROCS=", 11) != 0)
            envp[n++] = *e;
    char buf[128];
    if (value != NULL) {
        snprintf(buf, sizeof buf, "GOMAXPROCS=%s", value);
        envp[n++] = buf;
    }
    envp[n] = NULL;
    char *argv[] = {(char *)self, (char *)mode, (char *)expect, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, envp) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    int status;
    gort_syscall_enter();
    pid_t w = waitpid(pid, &status, 0);
    gort_syscall_exit();
    if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "FAIL: GOMAXPROCS=%s (want %s): child status %#x\n",
                value ? value : "(unset)", expect, status);
        exit(1);
    }
}

static void env_cases(const char *self)
{
    static const struct {
        const char *value, *expect;
    } cases[] = {
        {"3", "3"},         {"1", "1"},          {"0003", "3"},       {"64", "64"},
        {"1024", "1024"},   {"0", "ncpu"},       {"-1", "ncpu"},      {"abc", "ncpu"},
        {"3x", "ncpu"},     {"+3", "ncpu"},      {" 3", "ncpu"},      {"", "ncpu"},
        {"0x4", "ncpu"},    {"2147483648", "ncpu"}, {"99999999999", "ncpu"},
        {NULL, "ncpu"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        spawn_case(self, cases[i].value, cases[i].expect, "child");
    /* NumCPU is the affinity mask's count, and the default GOMAXPROCS. */
    spawn_case(self, NULL, "1", "child1cpu");
    spawn_case(self, "2", "2", "child1cpu");
}

static void runtime_calls(void)
{
    int orig = gort_gomaxprocs(0);
    if (orig < 1)
        fail("GOMAXPROCS(0)", orig, 1);
    /* n < 1 only queries. */
    if (gort_gomaxprocs(-1) != orig || gort_gomaxprocs(INT_MIN) != orig ||
        gort_gomaxprocs(0) != orig)
        fail("GOMAXPROCS(n<1) changed the setting", gort_gomaxprocs(0), orig);
    static const int seq[] = {1, 4, 4, 2, 3, 1, 1, 8, 2, 100, 1, 5};
    int prev = orig;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        int got = gort_gomaxprocs(seq[i]);
        if (got != prev)
            fail("GOMAXPROCS(n) returned", got, prev);
        if (gort_gomaxprocs(0) != seq[i])
            fail("GOMAXPROCS(0) after a change", gort_gomaxprocs(0), seq[i]);
        run_some(seq[i] + 3);
        prev = seq[i];
    }
    if (gort_gomaxprocs(orig) != prev)
        fail("GOMAXPROCS restore", gort_gomaxprocs(0), prev);
}

static int real_main(int argc, char **argv)
{
    if (argc == 3 && strncmp(argv[1], "child", 5) == 0) {
        if (strcmp(argv[1], "child1cpu") == 0 && gort_num_cpu() != 1)
            fail("NumCPU with a one-CPU affinity mask", gort_num_cpu(), 1);
        return child(argv[2]);
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && gort_num_cpu() != CPU_COUNT(&set))
        fail("NumCPU vs the affinity mask", gort_num_cpu(), CPU_COUNT(&set));
    runtime_calls();
    env_cases(argv[0]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child1cpu") == 0) {
        /* Before the runtime starts: it reads the mask once. */
        cpu_set_t set;
        CPU_ZERO(&set);
        if (sched_getaffinity(0, sizeof set, &set) != 0)
            return 1;
        int first = 0;
        while (!CPU_ISSET(first, &set))
            first++;
        CPU_ZERO(&set);
        CPU_SET(first, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            perror("sched_setaffinity");
            return 1;
        }
    }
    return gort_main(real_main, argc, argv);
}
