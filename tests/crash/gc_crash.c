/* The collector's fatal errors and trace output, in Go's words (GO-FACTS
 * 1.1, 2, 3.4): gort_set_finalizer's argument checks, a malformed
 * GOMEMLIMIT (read before main runs), and the gctrace line.  argv[1] names
 * the case; gc_crash.want holds the output. */
#include <gort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void fin(void *p) { (void)p; }

static int real_main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "fin_nil") == 0) {
        gort_set_finalizer(NULL, fin);
    } else if (strcmp(c, "fin_not_heap") == 0) {
        void *m = malloc(64); /* C's heap: not a gort object */
        gort_set_finalizer(m, fin);
    } else if (strcmp(c, "fin_interior") == 0) {
        char *p = gort_malloc(64);
        gort_set_finalizer(p + 8, fin);
    } else if (strcmp(c, "fin_twice") == 0) {
        void *p = gort_malloc(64);
        gort_set_finalizer(p, fin);
        gort_set_finalizer(p, fin);
    } else if (strcmp(c, "fin_ignored") == 0) {
        /* Go ignores globals and zero-size objects, and allows interior
         * pointers into tiny blocks; a nil finalizer removes. */
        static int global;
        gort_set_finalizer(&global, fin);
        gort_set_finalizer(gort_malloc(0), fin);
        char *t = gort_malloc_noscan(8);
        gort_set_finalizer(t + 4, fin);
        void *p = gort_malloc(64);
        gort_set_finalizer(p, fin);
        gort_set_finalizer(p, NULL);
        gort_set_finalizer(p, fin);
    } else if (strcmp(c, "gctrace") == 0) {
        gort_gc();
        for (int i = 0; i < 100000; i++)
            gort_keep_alive(gort_malloc(64));
        gort_gc();
    }
    return 0;
}

int main(int argc, char **argv) { return gort_main(real_main, argc, argv); }
