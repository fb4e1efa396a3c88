/*
 * init.c — program initialization: GORT_INIT registrations run on the main
 * goroutine before main_fn (Go's package init order, for C).
 *
 * GORT_INIT expands to a constructor that appends its entry to `inits`
 * before main() runs (constructors run single-threaded, so the list needs
 * no lock); registration order is the order constructors run: declaration
 * order within a file, link order across files.  run_inits, called by
 * proc.c on goroutine 1 before main_fn, walks the list in that order and
 * runs each entry after (depth first) the entries it names: dependency
 * order first, registration order among independent inits — Go's rule
 * for packages.  An entry being visited that is reached again is a cycle:
 * "fatal error: initialization cycle: a -> b -> a".  A dependency that
 * names no registered init is fatal too: a typo must not silently drop an
 * ordering constraint.
 *
 * Inits run on a goroutine: they may start goroutines, use channels,
 * defer and panic; an unrecovered panic in one is an ordinary panic.
 */
#include "runtime.h"

#include <stdio.h>

enum { INIT_TODO = 0, INIT_RUNNING = 1, INIT_DONE = 2 };

static gort_init_entry *inits, **initstail = &inits;

void gort_init_register(gort_init_entry *e)
{
    e->next = NULL;
    e->state = INIT_TODO;
    *initstail = e;
    initstail = &e->next;
}

static gort_init_entry *findinit(const char *name)
{
    for (gort_init_entry *e = inits; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

/* The visit path, for the cycle message. */
enum { MAXDEPTH = 256 };
static gort_init_entry *path[MAXDEPTH];
static int depth;

static void visit(gort_init_entry *e)
{
    if (e->state == INIT_DONE)
        return;
    if (e->state == INIT_RUNNING) {
        static char msg[1024];
        int i = depth - 1;
        while (i > 0 && path[i] != e)
            i--;
        size_t n = (size_t)snprintf(msg, sizeof msg, "initialization cycle: ");
        for (int j = i; j < depth && n < sizeof msg; j++)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s -> ", path[j]->name);
        if (n < sizeof msg)
            snprintf(msg + n, sizeof msg - n, "%s", e->name);
        fatal(msg);
    }
    if (depth == MAXDEPTH)
        throw("initialization dependencies nested too deep");
    e->state = INIT_RUNNING;
    path[depth++] = e;
    for (int i = 0; i < e->ndeps; i++) {
        gort_init_entry *d = findinit(e->deps[i]);
        if (d == NULL) {
            print("runtime: GORT_INIT %s depends on \"%s\", which is not registered\n", e->name,
                  e->deps[i]);
            fatal("initialization: unknown dependency");
        }
        visit(d);
    }
    depth--;
    if (e->fn != NULL)
        e->fn();
    e->state = INIT_DONE;
}

void run_inits(void)
{
    for (gort_init_entry *e = inits; e != NULL; e = e->next)
        visit(e);
}
