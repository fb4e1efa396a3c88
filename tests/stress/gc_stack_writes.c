/* A goroutine's stack written by another goroutine while the first is
 * parked, during concurrent marking.
 *
 * C passes pointers to locals between goroutines.  Here a parked goroutine
 * (its stack already scanned and "clean" for the cycle) is handed, through a
 * pointer to one of its locals, an old object that another goroutine then
 * unlinks from the only structure that held it.  If the collector trusted
 * the parked stack without noticing the write, the object would be freed
 * and its memory reused: the magic check below, or GODEBUG=gccheckmark=1,
 * would catch it.  Cycles run back to back (gcstress). */
// gort-test: timeout=300 env=GODEBUG=gccheckmark=1,gcstress=64
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PAIRS = 4, ROUNDS = 1000, POOL = 64, MAGIC = 0x5eed };

struct node {
    struct node *next;
    int64_t magic, id;
    int64_t pad[5];
};
static const gort_type node_type = GORT_TYPE(struct node, GORT_PTR(struct node, next));

struct pair {
    gort_chan *req;  /* struct node ** : where the parked side wants its node */
    gort_chan *done; /* the parked side may look now */
    gort_waitgroup *wg;
    int64_t seq;
};

static void fail(const char *what, int64_t a, int64_t b)
{
    fprintf(stderr, "FAIL: %s (%lld, %lld)\n", what, (long long)a, (long long)b);
    exit(1);
}

static struct node *newnode(int64_t id)
{
    struct node *n = gort_new(&node_type);
    n->magic = MAGIC;
    n->id = id;
    return n;
}

/* Parks with a pointer to its local handed out; checks what it got. */
static void parked_side(void *arg)
{
    struct pair *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        struct node *volatile slot = NULL;
        struct node *volatile *where = &slot;
        gort_chan_send(p->req, &where);
        gort_chan_recv(p->done, NULL); /* parked while the other side writes slot */
        struct node *n = slot;
        if (n == NULL || n->magic != MAGIC)
            fail("a node handed through a parked stack was freed", n ? n->magic : -1, i);
        if (n->id < 0 || n->id >= p->seq)
            fail("node id out of range", n->id, p->seq);
    }
    gort_waitgroup_done(p->wg);
}

/* Keeps a heap list of old nodes; hands one over through the parked side's
 * local, drops every other reference to it, allocates (cycles run), then
 * lets the parked side look. */
static void writer_side(void *arg)
{
    struct pair *p = arg;
    struct node **head = gort_malloc(sizeof *head); /* the only holder of the list */
    for (int k = 0; k < POOL; k++) {
        struct node *n = newnode(p->seq++);
        n->next = *head;
        *head = n;
    }
    for (int i = 0; i < ROUNDS; i++) {
        struct node *volatile *where;
        gort_chan_recv(p->req, &where);
        /* Churn first: new nodes and garbage, so that a cycle is under
         * way (gcstress) and has likely scanned the parked stack already
         * when the write below lands. */
        for (int k = 0; k < 100 + (i % 7) * 50; k++) {
            struct node *g = newnode(-1);
            g->magic = 0;
            gort_keep_alive(g);
        }
        struct node *x = *head;
        *head = x->next;
        x->next = NULL;
        *where = x;
        x = NULL;
        gort_keep_alive(x);
        /* The cycle the write landed in finishes (and another runs) while
         * the node's only reference is the parked goroutine's local. */
        gort_gc();
        struct node *n = newnode(p->seq++);
        n->next = *head;
        *head = n;
        gort_chan_send(p->done, NULL);
    }
    gort_waitgroup_done(p->wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gort_waitgroup wg = {0};
    struct pair *pairs = gort_malloc(PAIRS * sizeof *pairs);
    for (int i = 0; i < PAIRS; i++) {
        pairs[i].req = gort_chan_make(sizeof(struct node **), 0);
        pairs[i].done = gort_chan_make(0, 0);
        pairs[i].wg = &wg;
        gort_waitgroup_add(&wg, 2);
        gort_go(parked_side, &pairs[i], 0);
        gort_go(writer_side, &pairs[i], 0);
    }
    gort_waitgroup_wait(&wg);
    gort_keep_alive(pairs);
    gort_mem_stats ms;
    gort_read_mem_stats(&ms);
    if (ms.num_gc < 10)
        fail("too few collections ran", ms.num_gc, 10);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
