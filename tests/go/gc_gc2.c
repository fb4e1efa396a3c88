/* Port of Go's test/gc2.go: buffered channels are collected.  After 10000
 * make(chan int, 10) with collections every 100, fewer than N/5 more heap
 * objects may be live than at the start.
 * Not under TSan: its runtime's 47 MB of writable globals are roots, so
 * each of the 800 collections takes ~0.2 s there. */
// gort-test: no-tsan
#include <gort.h>
#include <stdio.h>

#define N 10000

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static gort_mem_stats st, ms;
    gort_read_mem_stats(&st);
    for (int i = 0; i < N; i++) {
        gort_chan *c = gort_chan_make(sizeof(long), 10);
        gort_keep_alive(c);
        if (i % 100 == 0) {
            for (int j = 0; j < 4; j++) {
                gort_gc();
                gort_gosched();
                gort_gc();
                gort_gosched();
            }
        }
    }
    gort_read_mem_stats(&ms);
    long long obj = (long long)ms.heap_objects - (long long)st.heap_objects;
    if (obj > N / 5) {
        printf("too many objects left: %lld\n", obj);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
