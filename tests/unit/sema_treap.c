/* The semaphore table's treap, driven directly on a private root: Go's
 * BenchmarkSemTable scenarios (two addresses colliding, many addresses
 * colliding) as correctness checks, with the treap's invariants validated
 * after every operation, per-address FIFO order, and LIFO requeue at the
 * head.  The sudogs are fakes: nothing parks. */
#include "sema.h"

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static struct semaroot root;

static void enqueue(uint32_t *addr, struct sudog *s, bool lifo)
{
    lock(&root.lock);
    semaroot_queue(&root, addr, s, lifo);
    semaroot_check(&root);
    unlock(&root.lock);
}

static struct sudog *dequeue(uint32_t *addr)
{
    lock(&root.lock);
    struct sudog *s = semaroot_dequeue(&root, addr);
    semaroot_check(&root);
    unlock(&root.lock);
    if (s != NULL)
        CHECK(s->elem == NULL && s->parent == NULL && s->prev == NULL && s->next == NULL &&
              s->waitlink == NULL && s->waittail == NULL && s->ticket == 0);
    return s;
}

static uint32_t count(void)
{
    lock(&root.lock);
    uint32_t n = semaroot_check(&root);
    unlock(&root.lock);
    return n;
}

/* OneAddrCollision: two addresses, n waiters; each address's waiters come
 * back in arrival order. */
static void test_two_addresses(int n)
{
    uint32_t u[2];
    struct sudog *s = calloc((size_t)n, sizeof *s);
    for (int i = 0; i < n; i++)
        enqueue(&u[i < n / 2 ? 0 : 1], &s[i], false);
    CHECK(count() == (uint32_t)n);
    for (int i = 0; i < n; i++)
        CHECK(dequeue(&u[i < n / 2 ? 0 : 1]) == &s[i]);
    CHECK(dequeue(&u[0]) == NULL && dequeue(&u[1]) == NULL);
    CHECK(root.treap == NULL);
    free(s);
}

/* ManyAddrCollision: n addresses in one root, inserted in increasing order
 * (a plain BST would degenerate into a list), removed in an interleaved
 * order.  The depth must stay logarithmic. */
static int depth(struct sudog *t)
{
    if (t == NULL)
        return 0;
    int l = depth(t->prev), r = depth(t->next);
    return 1 + (l > r ? l : r);
}

static void test_many_addresses(int n)
{
    uint32_t *u = calloc((size_t)n, sizeof *u);
    struct sudog *s = calloc((size_t)n, sizeof *s);
    for (int i = 0; i < n; i++)
        enqueue(&u[i], &s[i], false);
    CHECK(count() == (uint32_t)n);
    int d = depth(root.treap);
    if (d > 60) {
        fprintf(stderr, "FAIL: treap of %d addresses has depth %d\n", n, d);
        exit(1);
    }
    for (int i = 0; i < n; i += 2)
        CHECK(dequeue(&u[i]) == &s[i]);
    for (int i = n - 1 - (n % 2 == 0 ? 0 : 1); i >= 0; i -= 2)
        CHECK(dequeue(&u[i]) == &s[i]);
    CHECK(root.treap == NULL);
    free(u);
    free(s);
}

/* A waiter that requeues with lifo goes to the head of its address's list,
 * taking over the tree node. */
static void test_lifo(void)
{
    uint32_t a, b, c;
    struct sudog s[6] = {0};
    enqueue(&b, &s[0], false);
    enqueue(&a, &s[1], false);
    enqueue(&c, &s[2], false);
    enqueue(&b, &s[3], false);
    enqueue(&b, &s[4], true); /* b: 4 0 3 */
    enqueue(&b, &s[5], true); /* b: 5 4 0 3 */
    CHECK(count() == 6);
    CHECK(dequeue(&b) == &s[5]);
    CHECK(dequeue(&b) == &s[4]);
    CHECK(dequeue(&a) == &s[1]);
    CHECK(dequeue(&b) == &s[0]);
    CHECK(dequeue(&b) == &s[3]);
    CHECK(dequeue(&b) == NULL);
    CHECK(dequeue(&c) == &s[2]);
    CHECK(root.treap == NULL);
}

/* Random interleavings against a model: per address a deque of expected
 * waiters. */
static void test_random(void)
{
    enum { NADDR = 37, NS = 2000, QCAP = NS };
    uint32_t addrs[NADDR];
    struct sudog *s = calloc(NS, sizeof *s);
    struct sudog **q[NADDR];
    int head[NADDR], tail[NADDR]; /* q[a][head..tail) with room on both sides */
    for (int a = 0; a < NADDR; a++) {
        q[a] = calloc(2 * QCAP, sizeof(struct sudog *));
        head[a] = tail[a] = QCAP;
    }
    int next = 0, queued = 0;
    uint64_t rng = 88172645463325252ull;
    for (int step = 0; step < 20000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int a = (int)(rng % NADDR);
        bool put = next < NS && (queued == 0 || (rng >> 20) % 3 != 0);
        if (put) {
            bool lifo = (rng >> 30) % 4 == 0;
            struct sudog *x = &s[next++];
            enqueue(&addrs[a], x, lifo);
            if (lifo)
                q[a][--head[a]] = x;
            else
                q[a][tail[a]++] = x;
            queued++;
        } else {
            struct sudog *want = head[a] < tail[a] ? q[a][head[a]++] : NULL;
            CHECK(dequeue(&addrs[a]) == want);
            if (want != NULL)
                queued--;
        }
        if (step % 512 == 0)
            CHECK(count() == (uint32_t)queued);
    }
    for (int a = 0; a < NADDR; a++) {
        while (head[a] < tail[a])
            CHECK(dequeue(&addrs[a]) == q[a][head[a]++]);
        CHECK(dequeue(&addrs[a]) == NULL);
        free(q[a]);
    }
    CHECK(root.treap == NULL);
    free(s);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    lock_init(&root.lock, LOCKRANK_SEMAROOT);
    for (int n = 2; n <= 4000; n *= 3)
        test_two_addresses(n);
    test_many_addresses(1);
    test_many_addresses(100);
    test_many_addresses(8001);
    test_lifo();
    test_random();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
