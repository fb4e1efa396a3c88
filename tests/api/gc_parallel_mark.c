// The parallel stop-the-world mark (mgcmark.c) on shapes that test how
// markers share work: one long list reached from one root (all the work
// starts in one marker's buffer and must be handed out half by half), a
// wide tree, and an array of many small objects; collected by the
// stop-the-world collector and by the concurrent one (whose final pause
// marks in parallel too), each mark verified by gccheckmark's one-thread
// re-mark.  Then everything is dropped and must be collected: the parallel
// mark must not keep what is unreachable either (finalizers count it).
// GOMAXPROCS is 4 so that the mark has helpers wherever there are CPUs.
// gort-test: timeout=300 env=GOMAXPROCS=4
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_test_util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
enum { LIST_N = 60000, TREE_DEPTH = 14, ARRAY_N = 40000, ROUNDS = 4 };
#else
enum { LIST_N = 400000, TREE_DEPTH = 17, ARRAY_N = 200000, ROUNDS = 8 };
#endif
enum { NFIN = 64 }; /* nodes of each shape with a finalizer */

struct node {
    struct node *left, *right; /* list: right is next */
    uint64_t id, magic;
};
static const gort_type node_type =
    GORT_TYPE(struct node, GORT_PTR(struct node, left) | GORT_PTR(struct node, right));
#define MAGIC(id) ((id) * 0x9e3779b97f4a7c15ull ^ 0x5eed)

static struct node *list_head;
static struct node *tree_root;
static struct node **array; /* conservative: gort_malloc */
static _Atomic int64_t finalized;
static uint64_t next_id;

#define FAIL(...)                                                                            \
    do {                                                                                     \
        fprintf(stderr, "FAIL (%s): ", getenv("GODEBUG") ? getenv("GODEBUG") : "");           \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        exit(1);                                                                             \
    } while (0)

/* Finalizers run, per shape: the list, the tree, the array. */
static _Atomic int64_t finshape[3];

static void fin(void *p)
{
    const struct node *n = p;
    int64_t tree_n = (1ll << (TREE_DEPTH + 1)) - 1;
    int shape = n->id < LIST_N ? 0 : (int64_t)n->id < LIST_N + tree_n ? 1 : 2;
    atomic_fetch_add(&finshape[shape], 1);
    atomic_fetch_add(&finalized, 1);
}

static struct node *mknode(bool withfin)
{
    struct node *n = gort_new(&node_type);
    n->id = next_id++;
    n->magic = MAGIC(n->id);
    if (withfin)
        gort_set_finalizer(n, fin);
    return n;
}

static void check(const struct node *n)
{
    if (n->magic != MAGIC(n->id))
        FAIL("node %llu lost (magic %#llx)", (unsigned long long)n->id,
             (unsigned long long)n->magic);
}

static struct node *mktree(int depth, int *fins)
{
    struct node *n = mknode((*fins)-- > 0);
    if (depth > 0) {
        n->left = mktree(depth - 1, fins);
        n->right = mktree(depth - 1, fins);
    }
    return n;
}

static int64_t walktree(const struct node *n)
{
    if (n == NULL)
        return 0;
    check(n);
    return 1 + walktree(n->left) + walktree(n->right);
}

static __attribute__((noinline)) void build(void)
{
    int fins = NFIN;
    struct node *tail = NULL;
    for (int i = 0; i < LIST_N; i++) {
        struct node *n = mknode(i % (LIST_N / NFIN) == 0);
        if (tail == NULL)
            list_head = n;
        else
            tail->right = n;
        tail = n;
    }
    tree_root = mktree(TREE_DEPTH, &fins);
    array = gort_malloc(ARRAY_N * sizeof *array);
    for (int i = 0; i < ARRAY_N; i++)
        array[i] = mknode(i % (ARRAY_N / NFIN) == 0);
}

static __attribute__((noinline)) void verify(void)
{
    int64_t n = 0;
    for (const struct node *p = list_head; p != NULL; p = p->right, n++)
        check(p);
    if (n != LIST_N)
        FAIL("list has %lld nodes, want %d", (long long)n, LIST_N);
    int64_t t = walktree(tree_root), want = (1ll << (TREE_DEPTH + 1)) - 1;
    if (t != want)
        FAIL("tree has %lld nodes, want %lld", (long long)t, (long long)want);
    for (int i = 0; i < ARRAY_N; i++)
        check(array[i]);
}

/* Garbage of the nodes' size, so that a lost node's slot is reused. */
static void *_Atomic sink;

/* Clears the stack below the caller: conservative scanning would find the
 * stale copies of the roots that build and verify left there. */
static __attribute__((noinline)) void scrub(void)
{
    char buf[16384];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) void drop(void)
{
    list_head = NULL;
    tree_root = NULL;
    array = NULL;
}

static void churn(void)
{
    for (int i = 0; i < 20000; i++)
        atomic_store_explicit(&sink, gort_malloc(32), memory_order_relaxed);
    atomic_store(&sink, NULL);
}

static int main2(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    build();
    int64_t total = next_id;
    for (int r = 0; r < ROUNDS; r++) {
        gort_gc();
        churn();
        verify();
    }
    if (atomic_load(&finalized) != 0)
        FAIL("%lld finalizers ran while everything was reachable",
             (long long)atomic_load(&finalized));
    drop();
    scrub();
    /* Every finalizer must run; a stale word may keep a few nodes for a
     * while, so collect until they have (bounded: a lost finalizer fails). */
    int64_t want = 3 * NFIN - 4;
    for (int i = 0; i < 200 && atomic_load(&finalized) < want; i++) {
        gort_gc();
        gort_gosched();
    }
    if (atomic_load(&finalized) < want)
        FAIL("only %lld of ~%d finalizers ran after the structures were dropped "
             "(list %lld, tree %lld, array %lld)",
             (long long)atomic_load(&finalized), 3 * NFIN, (long long)atomic_load(&finshape[0]),
             (long long)atomic_load(&finshape[1]), (long long)atomic_load(&finshape[2]));
    gort_mem_stats ms;
    gort_read_mem_stats(&ms);
    if (ms.heap_alloc > (uint64_t)total * 32 / 2)
        FAIL("heap_alloc %llu after dropping %lld nodes: not collected",
             (unsigned long long)ms.heap_alloc, (long long)total);
    printf("ok (%s): %lld nodes, %u collections\n", getenv("GODEBUG"), (long long)total,
           ms.num_gc);
    return 0;
}

int main(int argc, char **argv)
{
    if (getenv("GORT_TEST_CHILD") != NULL)
        return gort_main(main2, argc, argv);
    /* Under each collector, in children. */
    run_child(argv, "gcstoptheworld=1,gccheckmark=1", "GORT_TEST_CHILD");
    run_child(argv, "gccheckmark=1", "GORT_TEST_CHILD");
    run_child(argv, "gcstoptheworld=1", "GORT_TEST_CHILD");
    return 0;
}
