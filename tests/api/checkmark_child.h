/* checkmark_child.h — for GC tests that run twice: first in a child with
 * GODEBUG=...,gccheckmark=1 added (GORT_TEST_CHECKMARK_CHILD=1 tells the
 * child who it is), then in the process itself without it. */
#ifndef GORT_TEST_CHECKMARK_CHILD_H
#define GORT_TEST_CHECKMARK_CHILD_H

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs the test in a child with GODEBUG=...,gccheckmark=1 first, then
 * itself without it. */
static inline void run_checkmark_child(char **argv)
{
    extern char **environ;
    const char *gd = getenv("GODEBUG");
    char buf[512];
    snprintf(buf, sizeof buf, "GODEBUG=%s%sgccheckmark=1", gd ? gd : "", gd && *gd ? "," : "");
    int n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = calloc((size_t)n + 3, sizeof *env);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (strncmp(environ[i], "GODEBUG=", 8) != 0)
            env[k++] = environ[i];
    env[k++] = buf;
    env[k++] = "GORT_TEST_CHECKMARK_CHILD=1";
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

#endif
