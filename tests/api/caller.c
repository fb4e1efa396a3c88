/* runtime.Caller, Callers and FuncForPC: gort_caller, gort_callers,
 * gort_func_name, gort_func_line. */
#include <gort.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static int fails;
#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                \
            fails++;                                                                     \
        }                                                                                \
    } while (0)

static NOINLINE void leaf(int expectline)
{
    uintptr_t pc;
    const char *file;
    int line;
    CHECK(gort_caller(0, &pc, &file, &line));
    CHECK(file != NULL && strstr(file, "caller.c") != NULL);
    CHECK(line == __LINE__ - 2);
    CHECK(gort_func_name(pc, NULL) != NULL && strcmp(gort_func_name(pc, NULL), "leaf") == 0);
    CHECK(gort_caller(1, &pc, &file, &line));
    CHECK(line == expectline);
    CHECK(strcmp(gort_func_name(pc, NULL), "middle") == 0);

    uintptr_t pcs[8];
    int n = gort_callers(1, pcs, 8);
    CHECK(n >= 3);
    CHECK(strcmp(gort_func_name(pcs[0] - 1, NULL), "leaf") == 0);
    CHECK(strcmp(gort_func_name(pcs[1] - 1, NULL), "middle") == 0);
    CHECK(strcmp(gort_func_name(pcs[2] - 1, NULL), "real_main") == 0);
    n = gort_callers(0, pcs, 8);
    CHECK(n >= 2 && strcmp(gort_func_name(pcs[0], NULL), "gort_callers") == 0);
    const char *f2;
    int l2;
    CHECK(gort_func_line(pcs[1] - 1, &f2, &l2) && l2 == __LINE__ - 4);
    uintptr_t entry;
    CHECK(gort_func_name((uintptr_t)leaf + 1, &entry) != NULL && entry == (uintptr_t)leaf);
    KEEP();
}

static NOINLINE void middle(void)
{
    leaf(__LINE__);
    KEEP();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    middle();
    KEEP();
    return fails != 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
