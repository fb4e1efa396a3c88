// Survival through each kind of root and collection of what no root
// reaches, observed through finalizers.
// gort-test: timeout=60
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *left, *right;
    long v;
};
static const gort_type node_type =
    GORT_TYPE(struct node, GORT_PTR(struct node, left) | GORT_PTR(struct node, right));

static _Atomic int finalized[16];
static void fin(void *p)
{
    struct node *n = p;
    atomic_fetch_add(&finalized[n->v], 1);
}

static struct node *volatile global_root; /* bss */
static void *volatile registered[1]; /* a global array (bss) */
static volatile uintptr_t hidden_global;    /* a bss word holding a pointer ^ mask: not a root */

static struct node *mk(long v)
{
    struct node *n = gort_new(&node_type);
    n->v = v;
    gort_set_finalizer(n, fin);
    return n;
}

static void fail(const char *why)
{
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}

/* Runs several cycles, giving the finalizer goroutine time to run. */
static void cycles(void)
{
    for (int i = 0; i < 4; i++) {
        gort_gc();
        gort_sleep(2000000);
    }
}

static __attribute__((noinline)) void make_garbage(void)
{
    /* Unreachable: a lone node, a cycle, and a conservatively held chain
     * hidden by xor. */
    mk(1);
    struct node *a = mk(2), *b = gort_new(&node_type);
    a->left = b;
    b->left = a;
    hidden_global = (uintptr_t)mk(3) ^ 0x5555;
    /* Reached only through a typed heap object, which is garbage too. */
    struct node *c = gort_new(&node_type);
    c->right = mk(4);
    /* A conservative object and a noscan one. */
    void **cons = gort_malloc(64);
    cons[3] = mk(5);
    (void)c;
    (void)cons;
    char scrub[4096];
    memset(scrub, 0, sizeof scrub);
    gort_keep_alive(scrub);
}

static volatile uintptr_t unc_hidden;
static void **volatile gcons;

static void mkunc(void *arg)
{
    void **unc = gort_malloc_uncollectable(32); /* uncollectable object */
    unc[1] = mk(12);
    unc_hidden = (uintptr_t)unc ^ 0x5555;
    gcons = gort_malloc(8 * 10);
    gcons[7] = mk(14);
    gort_waitgroup_done(arg);
}

static int main2(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    global_root = mk(6);                         /* global */
    void **cons = gort_malloc(8 * 10);           /* conservative heap object */
    cons[7] = mk(7);
    struct node *typed = gort_new(&node_type);   /* typed heap object */
    typed->right = mk(8);
    struct node *interior = mk(9);               /* held by an interior pointer */
    char *mid = (char *)interior + 8;
    interior = NULL;
    registered[0] = mk(10);
    static void *reg_area[4];
    gort_add_roots(reg_area, sizeof reg_area);
    reg_area[2] = mk(11);
    /* The uncollectable object is made by a goroutine that exits, so no
     * stale copy of its address lingers on this stack. */
    gort_waitgroup wg = {0};
    gort_waitgroup_add(&wg, 1);
    gort_go(mkunc, &wg, 0);
    gort_waitgroup_wait(&wg);
    uintptr_t hidden = (uintptr_t)mk(13) ^ 0xaaaa; /* stack word that is not a pointer */
    (void)hidden;
    make_garbage();
    cycles();
    for (int v = 1; v <= 5; v++)
        if (atomic_load(&finalized[v]) != (v == 2 ? 0 : 1)) {
            fprintf(stderr, "object %d finalized %d times\n", v, atomic_load(&finalized[v]));
            if (v != 2)
                fail("garbage not collected");
        }
    if (atomic_load(&finalized[2]) != 0)
        fail("a cycle through a finalizer object was collected");
    for (int v = 6; v <= 12; v++)
        if (atomic_load(&finalized[v]) != 0) {
            fprintf(stderr, "object %d finalized\n", v);
            fail("reachable object collected");
        }
    gort_keep_alive(cons);
    gort_keep_alive(typed);
    gort_keep_alive(mid);
    if (atomic_load(&finalized[14]) != 0)
        fail("object reachable from a global collected");
    /* Drop the uncollectable object and the global's reference. */
    gort_free_uncollectable((void *)(unc_hidden ^ 0x5555));
    gcons[7] = NULL;
    cycles();
    if (atomic_load(&finalized[12]) != 1 || atomic_load(&finalized[14]) != 1)
        fail("unrooted objects survived");
    gort_keep_alive(cons);
    (void)hidden_global;
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv) { return gort_main(main2, argc, argv); }
