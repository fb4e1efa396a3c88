/* Port of Go's test/gcgort.go: goroutines modifying many kinds of
 * variables under an aggressive collector (GOGC=1), yielding between
 * modifications.  Go's has eight element types times eight shapes (value,
 * pointer, array, slice, map, map with pointer keys, channel, interface);
 * C has no maps, so a linked list of heap nodes stands for the map with
 * pointer keys, and a boxed value (a heap object behind a conservative
 * pointer) for the interface.  Unlike Go's, each shape checks its data at
 * the end: a collection that freed a live object shows as a wrong value. */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { GOROUTINES = 8, ALLOCS = 8, MODS = 8, LENGTH = 9 };

static gort_waitgroup wg;

static void fail(const char *shape, int kind)
{
    fprintf(stderr, "FAIL: %s of kind %d lost its data\n", shape, kind);
    exit(1);
}

struct node {
    struct node *next;
    int64_t *key; /* a heap object: Go's map key *T */
    int64_t val;
};
static const gort_type node_type =
    GORT_TYPE(struct node, GORT_PTR(struct node, next) | GORT_PTR(struct node, key));

/* Element kinds: the value stored is (v * mul) for step v, so a freed and
 * reused slot (zeroed or overwritten) is caught. */
static const int64_t mul[] = {1, 3, 255, 65535, -7, 1000003, 1 << 20, -1};
enum { NKINDS = sizeof mul / sizeof mul[0] };

static void shape_value(int k)
{
    volatile int64_t a = 0;
    for (int i = 0; i < MODS; i++) {
        a += mul[k];
        gort_gosched();
    }
    if (a != MODS * mul[k])
        fail("value", k);
}

static void shape_pointer(int k)
{
    int64_t *a = gort_malloc_noscan(sizeof *a);
    for (int i = 0; i < MODS; i++) {
        *a += mul[k];
        gort_gosched();
    }
    if (*a != MODS * mul[k])
        fail("pointer", k);
}

static void shape_array(int k)
{
    int64_t a[LENGTH] = {0};
    for (int i = 0; i < MODS; i++)
        for (int j = 0; j < LENGTH; j++) {
            a[j] += mul[k];
            gort_gosched();
        }
    for (int j = 0; j < LENGTH; j++)
        if (a[j] != MODS * mul[k])
            fail("array", k);
}

static void shape_slice(int k)
{
    int64_t *a = gort_calloc(LENGTH, sizeof *a);
    for (int i = 0; i < MODS; i++)
        for (int j = 0; j < LENGTH; j++) {
            a[j] += mul[k];
            gort_gosched();
        }
    for (int j = 0; j < LENGTH; j++)
        if (a[j] != MODS * mul[k])
            fail("slice", k);
}

static void shape_list(int k)
{
    struct node *head = NULL;
    for (int i = 0; i < LENGTH; i++) {
        struct node *n = gort_new(&node_type);
        n->key = gort_malloc_noscan(sizeof *n->key);
        *n->key = i * mul[k];
        n->next = head;
        head = n;
        gort_gosched();
    }
    for (int i = 0; i < MODS; i++)
        for (struct node *n = head; n != NULL; n = n->next) {
            n->val += mul[k];
            gort_gosched();
        }
    int i = LENGTH - 1;
    for (struct node *n = head; n != NULL; n = n->next, i--)
        if (n->val != MODS * mul[k] || *n->key != i * mul[k])
            fail("list", k);
    if (i != -1)
        fail("list length", k);
}

struct chanarg {
    gort_chan *c;
    int64_t v;
};

static void chan_sender(void *arg)
{
    struct chanarg *a = arg;
    int64_t *box = gort_malloc_noscan(sizeof *box);
    *box = a->v;
    gort_chan_send(a->c, &box);
}

static void shape_chan(int k)
{
    gort_chan *c = gort_chan_make(sizeof(int64_t *), 0);
    for (int i = 0; i < MODS; i++) {
        struct chanarg a = {c, i * mul[k]};
        gort_go(chan_sender, &a, sizeof a);
        int64_t *box;
        gort_chan_recv(c, &box);
        gort_gosched();
        if (*box != i * mul[k])
            fail("chan", k);
    }
}

static void shape_box(int k)
{
    void **a = gort_malloc(sizeof *a);
    for (int i = 0; i < MODS; i++) {
        int64_t *v = gort_malloc_noscan(sizeof *v);
        *v = (i + 1) * mul[k];
        *a = v;
        gort_gosched();
        if (*(int64_t *)*a != (i + 1) * mul[k])
            fail("box", k);
    }
}

static void (*const shapes[])(int) = {shape_value, shape_pointer, shape_array, shape_slice,
                                       shape_list,  shape_chan,    shape_box};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

struct job {
    gort_waitgroup *wg;
    int kind, shape;
};

static void run_shape(void *arg)
{
    struct job *j = arg;
    shapes[j->shape](j->kind);
    gort_waitgroup_done(j->wg);
}

static void modifier(void *arg)
{
    int kind = *(int *)arg;
    gort_waitgroup wg2 = {0};
    for (int j = 0; j < ALLOCS; j++)
        for (int s = 0; s < NSHAPES; s++) {
            gort_waitgroup_add(&wg2, 1);
            struct job jb = {&wg2, kind, s};
            gort_go(run_shape, &jb, sizeof jb);
        }
    gort_waitgroup_wait(&wg2);
    gort_waitgroup_done(&wg);
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_debug_set_gc_percent(1);
    for (int i = 0; i < GOROUTINES; i++)
        for (int k = 0; k < NKINDS; k++) {
            gort_waitgroup_add(&wg, 1);
            gort_go(modifier, &k, sizeof k);
        }
    gort_waitgroup_wait(&wg);
    return 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
