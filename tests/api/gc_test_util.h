/* gc_test_util.h — what the concurrent-GC tests share: a goroutine that
 * runs collections back to back until told to stop, and running a test
 * twice, first in a child with GODEBUG=...,gccheckmark=1 added
 * (GORT_TEST_CHECKMARK_CHILD=1 tells the child who it is), then in the
 * process itself without it. */
#ifndef GORT_TEST_GC_TEST_UTIL_H
#define GORT_TEST_GC_TEST_UTIL_H

#include <gort.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static _Atomic uint64_t ncycles; /* collections the cycler completed */
static _Atomic bool stop;
static gort_waitgroup cycler_wg;

static inline void cycler(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        gort_gc();
        atomic_fetch_add(&ncycles, 1);
    }
    gort_waitgroup_done(&cycler_wg);
}

/* Runs this program again in a child with GODEBUG=godebug (replacing the
 * variable) and marker=1 in its environment (telling the child who it is);
 * exits with a message if the child fails. */
static inline void run_child(char **argv, const char *godebug, const char *marker)
{
    extern char **environ;
    char buf[512], mark[128];
    snprintf(buf, sizeof buf, "GODEBUG=%s", godebug);
    snprintf(mark, sizeof mark, "%s=1", marker);
    int n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc((size_t)n + 3, sizeof *env);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(environ[i], "GODEBUG=", 8) != 0)
            env[k++] = environ[i];
    env[k++] = buf;
    env[k++] = mark;
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, env) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) {
        perror("waitpid");
        exit(1);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "FAIL: the run with %s ended with %s %d\n", buf,
                WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        exit(1);
    }
    free(env);
}

/* The test's GODEBUG with gccheckmark=1 added, in a child. */
static inline void run_checkmark_child(char **argv)
{
    const char *gd = getenv("GODEBUG");
    char buf[480];
    snprintf(buf, sizeof buf, "%s%sgccheckmark=1", gd ? gd : "", gd && *gd ? "," : "");
    run_child(argv, buf, "GORT_TEST_CHECKMARK_CHILD");
}

#endif
