/* A tight loop of formatted panics that are recovered does not grow memory:
 * the texts of gort_panicf and of the bounds errors are collected objects,
 * dropped with the recovered value.  A recovered text that is kept stays
 * valid across collections.
 * gort-test: timeout=300 (a million panics; slower under the sanitizers)
 * ASan's quarantine would keep every freed defer record (malloc'ed) and
 * grow RSS for its own reasons: it is turned off here (the option is
 * ignored by the other builds).
 */
// gort-test: timeout=300 env=ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=0
#include <gort.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

enum { ROUNDS = 1000000, WARMUP = 100000 };

/* Under TSan, RSS follows the shadow memory (four bytes per byte of heap
 * ever touched, kept for the process's life), not the heap: the live heap
 * and the collections are checked there, RSS is not. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORT_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GORT_TEST_TSAN 1
#endif
#ifdef GORT_TEST_TSAN
static const bool check_rss = false;
#else
static const bool check_rss = true;
#endif

static void fail(const char *what)
{
    fprintf(stderr, "FAIL: %s\n", what);
    exit(1);
}

/* Resident set, bytes (/proc/self/statm's second field, in pages). */
static long rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &res) != 2)
        fail("reading /proc/self/statm");
    fclose(f);
    return res * sysconf(_SC_PAGESIZE);
}

static void catch(void *arg)
{
    const gort_any *r = gort_recover();
    if (r == NULL)
        fail("no panic to recover");
    *(const char *volatile *)arg = r->type == &gort_string_type ? r->value : "error";
}

static NOINLINE const char *one(int i)
{
    const char *volatile got = NULL;
    GORT_FRAME(got);
    gort_defer(catch, (void *)&got);
    if (i % 2 == 0)
        gort_panicf("round %d of a loop that must not leak its panic texts", i);
    gort_index_check(i, 1); /* a formatted runtime error */
    return NULL;
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < WARMUP; i++)
        one(i);
    long before = rss();
    for (int i = WARMUP; i < ROUNDS; i++)
        one(i);
    long after = rss();
    gort_mem_stats ms;
    gort_read_mem_stats(&ms);
    /* 900k texts of ~60 bytes leaked would be 54+ MiB. */
    if (check_rss && after - before > 16L << 20) {
        fprintf(stderr, "RSS grew from %ld to %ld bytes\n", before, after);
        fail("recovered panic texts are not freed");
    }
    if (ms.heap_alloc > 32 << 20) {
        fprintf(stderr, "heap_alloc %llu\n", (unsigned long long)ms.heap_alloc);
        fail("live heap grew with recovered panics");
    }
    if (ms.num_gc == 0)
        fail("no collection ran: the texts were not from the collected heap");

    /* A kept text survives collections while a pointer to it is visible. */
    const char *volatile kept = one(42);
    for (int i = 0; i < 3; i++) {
        gort_gc();
        for (int j = 0; j < 1000; j++)
            one(j);
    }
    if (strcmp((const char *)kept, "round 42 of a loop that must not leak its panic texts") != 0)
        fail("a kept recovered text was freed");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
