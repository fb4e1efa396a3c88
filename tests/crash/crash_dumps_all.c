/* Go's TestCrashDumpsAllThreads (testprog/crashdump.go): with
 * GOTRACEBACK=crash a SIGQUIT dumps every goroutine from the m it reached,
 * then every other m in turn dumps what it runs — here four goroutines
 * spinning on their own threads, which the first dump can only call
 * "running on other thread" — and the process dies by SIGABRT.
 * asyncpreemptoff keeps each spinner where the signal finds it and
 * GOGC=off keeps a collection from waiting for them, as in Go's test.
 * gort-test: plain-only (the sanitizers own the dump signals' handling)
 */
// gort-test: plain-only
#include <gort.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

enum { COUNT = 4 };

static NOINLINE void crashDumpsAllThreadsLoop(void *arg)
{
    gort_chan_close(*(gort_chan **)arg);
    for (;;)
        for (volatile int j = 0; j < 0x7fffffff; j++) {
        }
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_gomaxprocs(COUNT + 1);
    gort_chan *chans[COUNT];
    for (int i = 0; i < COUNT; i++) {
        chans[i] = gort_chan_make(1, 0);
        gort_go(crashDumpsAllThreadsLoop, &chans[i], sizeof chans[i]);
    }
    for (int i = 0; i < COUNT; i++)
        gort_chan_recv(chans[i], NULL);
    kill(getpid(), SIGQUIT);
    gort_select(NULL, 0, true);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
