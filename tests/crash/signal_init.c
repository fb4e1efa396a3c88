/* Fatal signal paths and init failures: SIGPIPE on stdout kills the
 * program with SIGPIPE (Go's rule), a signal no one is notified of keeps
 * its default action, a handler the program installed before gort_main is
 * chained to, and a GORT_INIT cycle or unknown dependency is fatal. */
#include <gort.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *which;

static void init_x(void)
{
}
static void init_y(void)
{
}
static void init_z(void)
{
}
GORT_INIT(x, init_x, "y")
GORT_INIT(y, init_y, "z")
GORT_INIT(z, init_z, "cyclic")
static void init_cyc(void)
{
}
static void init_unknown(void)
{
}
/* Only the cases that want them register the failing inits: main()
 * registers them by hand. */
static const char *const cyc_deps[] = {"x"};
static gort_init_entry cyc = {"cyclic", init_cyc, cyc_deps, 1, NULL, 0};
static gort_init_entry cyc_ok = {"cyclic", init_cyc, NULL, 0, NULL, 0};
static const char *const unk_deps[] = {"nosuch"};
static gort_init_entry unk = {"unknown", init_unknown, unk_deps, 1, NULL, 0};

static void handler(int sig)
{
    static const char msg[] = "program's own handler\n";
    (void)sig;
    write(2, msg, sizeof msg - 1);
    _exit(7);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (strcmp(which, "sigpipe_stdout") == 0) {
        int p[2];
        pipe(p);
        close(p[0]);
        dup2(p[1], 1);
        write(1, "x", 1);
        return 0; /* not reached */
    }
    if (strcmp(which, "sigterm") == 0 || strcmp(which, "chained") == 0) {
        kill(getpid(), SIGTERM);
        sleep(5);
    }
    return 0;
}

int main(int argc, char **argv)
{
    which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "cycle") == 0)
        gort_init_register(&cyc);
    else
        gort_init_register(&cyc_ok);
    if (strcmp(which, "unknown") == 0)
        gort_init_register(&unk);
    if (strcmp(which, "chained") == 0)
        signal(SIGTERM, handler);
    return gort_main(real_main, argc, argv);
}
