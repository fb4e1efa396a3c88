/* GORT_INIT: dependency order first, then registration order; inits run
 * on goroutine 1 before main_fn and may use the runtime. */
#include <gort.h>
#include <stdio.h>
#include <string.h>

static char order[64];
static int64_t init_goid;

static void add(const char *s)
{
    strncat(order, s, sizeof order - strlen(order) - 1);
}

static void init_c(void)
{
    add("c");
}
static void init_b(void)
{
    add("b");
    init_goid = gort_goid();
    gort_chan *ch = gort_chan_make(sizeof(int), 1); /* the runtime is up */
    gort_chan_send(ch, &(int){1});
}
static void init_a(void)
{
    add("a");
}
static void init_d(void)
{
    add("d");
}

GORT_INIT(a, init_a, "b", "c") /* needs b and c first */
GORT_INIT(b, init_b)
GORT_INIT(d, init_d, "c")
GORT_INIT(c, init_c, "b")

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* a visits b, then c (after b); then d. */
    if (strcmp(order, "bcad") != 0) {
        fprintf(stderr, "FAIL: init order %s, want bcad\n", order);
        return 1;
    }
    if (init_goid != 1) {
        fprintf(stderr, "FAIL: inits ran on goroutine %ld\n", (long)init_goid);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
