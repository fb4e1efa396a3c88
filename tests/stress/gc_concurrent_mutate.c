/* Goroutines mutating linked structures while collections run back to back:
 * can the collector lose a reachable object?
 *
 * NW workers each own lists, trees and slots of every kind of root, and
 * keep changing them: allocate nodes and link them in, unlink others and
 * drop them, move whole subtrees from one place to another, hand them to
 * other workers through channels, and share one structure (the baton) that
 * travels from worker to worker through a channel.  Every node is in
 * exactly one place at a time.  The places:
 *   - a list (next links) and a tree (left/right, inserted by key), whose
 *     heads are fields of the worker's typed state object, which only the
 *     worker's stack references;
 *   - slots of a conservative object (gort_malloc), some holding interior
 *     pointers (into the middle of the node);
 *   - interior pointers in typed fields of the state object;
 *   - a large conservative object and a large typed array (64 KiB each),
 *     replaced now and then by fresh copies;
 *   - global slots (bss), slots of malloc'ed memory given to
 *     gort_add_roots, slots of an uncollectable object;
 *   - channel buffers: each worker's inbox, the baton's channel, and a
 *     token channel whose values are nodes;
 *   - the worker's stack only: a subtree detached and held in a local
 *     across a blocking receive (of a token: at most NTOK workers hold one,
 *     the others park) or gort_gosched, or in a register through a loop
 *     that makes no calls;
 *   - another worker's stack: a worker parks with a local "mailbox" whose
 *     address it posts; another worker writes a subtree into it and wakes
 *     it (a C program may write into a parked goroutine's stack).
 * Nodes are typed (gort_new) or conservative (gort_malloc), 64 bytes.
 *
 * Each node carries its id, a magic derived from it, and the id of the
 * node that points to it (or a tag naming the slot that holds it); every
 * traversal checks them, so a node freed and reused (by the steady stream
 * of same-size allocations) is caught, even without gccheckmark.  At the
 * end, with the workers done, main walks everything: each node seen once,
 * and nodes allocated == nodes reachable + nodes dropped.
 *
 * Finalizers: one node in 16 has one.  A node is marked dropped before the
 * test lets go of it; a finalizer that finds its node not dropped means the
 * collector thought a reachable node unreachable.  Some finalizers
 * resurrect their node (a global list, checked and dropped later by the
 * workers), so the subtrees that only finalizer objects hold must survive
 * too.  At the end everything is dropped and, after collections
 * (gort_gc + gort_gosched in a bounded loop, no timing), all but a handful
 * of the finalizers must have run (a stale word on a stack may keep a
 * dropped subtree; the stop-the-world collector leaves 0 to 4 of ~100000).
 *
 * Run with GODEBUG=gccheckmark=1 (each cycle is checked by a stop-the-world
 * re-mark) and gcstress (cycles back to back); a goroutine also calls
 * gort_gc in a loop, so that cycles run under any GODEBUG.
 * Arguments (optional): seed, steps per worker, operations to leave out
 * (see no_mailbox). */
// gort-test: timeout=300 env=GODEBUG=gccheckmark=1,gcstress=2000
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
enum { NW = 8, STEPS = 120000, LIVE_CAP = 15000 };
#elif defined(__SANITIZE_ADDRESS__)
enum { NW = 8, STEPS = 400000, LIVE_CAP = 15000 };
#else
enum { NW = 16, STEPS = 300000, LIVE_CAP = 30000 };
#endif

enum {
    NTOK = 3,      /* tokens: fewer than workers, so some park */
    NBAG = 8,      /* slots of the conservative bag ... */
    NBAGMID = 4,   /* ... and interior slots after them */
    NMID = 4,      /* interior pointers in typed fields */
    BIGN = 8192,   /* slots of each large object (64 KiB) */
    NG = 4,        /* global slots per worker */
    NREG = 8,      /* registered-root slots per worker */
    NUNC = 4,      /* uncollectable slots per worker */
    INBOX = 16,    /* inbox capacity */
    RES_CAP = 512, /* resurrected nodes kept at most */
    MID_OFF = 40,  /* where interior pointers point: the node's key */
};

#define FAIL(...)                                                                            \
    do {                                                                                     \
        fprintf(stderr, "FAIL (seed %llu): ", (unsigned long long)seed);                     \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        exit(1);                                                                             \
    } while (0)

static uint64_t seed = 20240601;
static int steps = STEPS;
/* Operations left out (the third argument, names separated by commas):
 * "mailbox" (writes into a parked worker's stack), "token" (values handed
 * straight to a parked receiver), "baton-wait" (the same for the baton). */
static bool no_mailbox, no_token, no_baton_wait;

/* ---- nodes ------------------------------------------------------------------ */

enum { LIVE = 1, DROPPED = 2, TOKEN = 3 };
enum { F_TYPED = 1, F_FIN = 2, F_FINRAN = 4 };

struct node {
    struct node *left, *right, *next;
    uint64_t id;
    uint64_t magic;
    uint64_t key; /* MID_OFF: interior pointers point here */
    uint64_t parent; /* id of the node pointing here, or a slot's tag */
    _Atomic uint32_t state;
    _Atomic uint32_t flags;
};
_Static_assert(sizeof(struct node) == 64, "one size class");
_Static_assert(offsetof(struct node, key) == MID_OFF, "interior offset");
static const gort_type node_type =
    GORT_TYPE(struct node, GORT_PTR(struct node, left) | GORT_PTR(struct node, right) |
                               GORT_PTR(struct node, next));

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Tags of the places that hold a subtree's root (high bit set: not an id). */
enum { P_LIST, P_TREE, P_BAG, P_BAGMID, P_MID, P_BIG, P_BIGT, P_GLOBAL, P_REG, P_UNC, NPLACE };
static const char *const place_name[] = {"list", "tree", "bag", "bag-interior", "interior",
                                         "large", "large-typed", "global", "registered",
                                         "uncollectable"};
#define TAG(w, place, idx)                                                                   \
    ((1ull << 63) | ((uint64_t)(w) << 40) | ((uint64_t)(place) << 32) | (uint64_t)(idx))
#define TAG_INFLIGHT ((1ull << 63) | (0xfffull << 40) | 1)
#define TAG_BATON ((1ull << 63) | (0xfffull << 40) | 2)
#define TAG_TOKEN ((1ull << 63) | (0xfffull << 40) | 3)
#define TAG_STACK ((1ull << 63) | (0xfffull << 40) | 4)
#define TAG_MAILBOX ((1ull << 63) | (0xfffull << 40) | 5)

static _Atomic uint64_t next_id, ndropped, nlive, fin_set, fin_ran, nresurrected;

/* ---- resurrection ------------------------------------------------------------ */

struct rrec {
    struct rrec *link;
    struct node *n;
};
static const gort_type rrec_type =
    GORT_TYPE(struct rrec, GORT_PTR(struct rrec, link) | GORT_PTR(struct rrec, n));
static gort_mutex res_mu;
static _Atomic bool ending; /* no more resurrections */
static struct rrec *res_head; /* under res_mu */
static int res_len;           /* under res_mu */

static void fin(void *p)
{
    struct node *n = p;
    if (n->magic != mix(n->id))
        FAIL("finalizer: node %llu has magic %#llx (freed before its finalizer ran)",
             (unsigned long long)n->id, (unsigned long long)n->magic);
    uint32_t st = atomic_load(&n->state);
    if (st != DROPPED)
        FAIL("finalizer ran for node %llu, still reachable (state %u, parent %#llx)",
             (unsigned long long)n->id, st, (unsigned long long)n->parent);
    if (atomic_fetch_or(&n->flags, F_FINRAN) & F_FINRAN)
        FAIL("finalizer ran twice for node %llu", (unsigned long long)n->id);
    if (n->id % 4 == 0 && !atomic_load(&ending)) {
        gort_mutex_lock(&res_mu);
        if (res_len < RES_CAP) {
            struct rrec *r = gort_new(&rrec_type);
            r->n = n;
            r->link = res_head;
            res_head = r;
            res_len++;
            atomic_fetch_add(&nresurrected, 1);
        }
        gort_mutex_unlock(&res_mu);
    }
    atomic_fetch_add(&fin_ran, 1);
}

/* ---- per-worker state ---------------------------------------------------------- */

struct nodeslot {
    struct node *p;
};
static const gort_type nodeslot_type = GORT_TYPE(struct nodeslot, 1);

struct wstate {
    struct node *list;
    struct node *tree;
    void **bag;             /* conservative: NBAG slots, then NBAGMID interior ones */
    void **big;             /* large conservative */
    struct nodeslot *bigt;  /* large typed */
    char *mid[NMID];        /* interior pointers, typed fields */
    uintptr_t reg;          /* malloc'ed, registered root (not a pointer field) */
    uintptr_t unc;          /* uncollectable (not a pointer field) */
    uint64_t w;
};
static const gort_type wstate_type = GORT_TYPE(
    struct wstate, GORT_PTR(struct wstate, list) | GORT_PTR(struct wstate, tree) |
                       GORT_PTR(struct wstate, bag) | GORT_PTR(struct wstate, big) |
                       GORT_PTR(struct wstate, bigt) | GORT_PTR(struct wstate, mid[0]) |
                       GORT_PTR(struct wstate, mid[1]) | GORT_PTR(struct wstate, mid[2]) |
                       GORT_PTR(struct wstate, mid[3]));

static struct node *volatile gslot[NW][NG]; /* global slots */
static gort_chan *inbox[NW], *tokch, *batonch, *results;
static void *_Atomic sink; /* written by several goroutines */

/* Traversal scratch: malloc'ed (invisible to the collector); the nodes on
 * it are reachable from where the traversal started. */
/* The walks' stack of nodes to visit.  Its array is a GC object (the vec
 * itself lives on the walker's stack): while a walk runs, the nodes waiting
 * in it may be referenced from nowhere else — the final walk unlinks as it
 * goes, and a walk's root is held by nothing else once pushed (clang -O2
 * keeps no copy) — and a cycle ending mid-walk must still see them (with
 * malloc'ed memory it rightly freed them). */
struct vec {
    struct node **v;
    size_t n, cap;
};
static void vpush(struct vec *s, struct node *n)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct node **v = gort_malloc(cap * sizeof *v);
        if (s->n > 0)
            memcpy(v, s->v, s->n * sizeof *v);
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = n;
}

struct wctx {
    int w;
    uint64_t rng;
    struct wstate *st;
    struct vec scratch;
    uint64_t bigidx[8]; /* large-object slots in use (a few) */
};

static uint64_t rnd(struct wctx *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}
static uint64_t rn(struct wctx *c, uint64_t n) { return rnd(c) % n; }

static void check_node(const struct node *n, uint64_t parent, uint32_t state, const char *where)
{
    if (n->magic != mix(n->id) || n->id == 0 || n->id > atomic_load(&next_id))
        FAIL("%s: node %p lost: id %llu magic %#llx (freed and reused, or zeroed)", where,
             (void *)n, (unsigned long long)n->id, (unsigned long long)n->magic);
    if (n->parent != parent)
        FAIL("%s: node %llu has parent %#llx, expected %#llx (another node took its memory)",
             where, (unsigned long long)n->id, (unsigned long long)n->parent,
             (unsigned long long)parent);
    uint32_t st = atomic_load_explicit(&n->state, memory_order_relaxed);
    if (st != state)
        FAIL("%s: node %llu has state %u, expected %u", where, (unsigned long long)n->id, st,
             state);
}

/* Walks the subtree at n (whose parent tag is parent): checks every node,
 * returns how many.  drop: marks them dropped. */
static uint64_t walk(struct wctx *c, struct node *n, uint64_t parent, uint32_t state,
                     bool drop, const char *where)
{
    if (n == NULL)
        return 0;
    check_node(n, parent, state, where);
    struct vec *s = &c->scratch;
    size_t base = s->n;
    uint64_t count = 0;
    vpush(s, n);
    while (s->n > base) {
        struct node *x = s->v[--s->n];
        count++;
        struct node *kids[3] = {x->left, x->right, x->next};
        for (int i = 0; i < 3; i++)
            if (kids[i] != NULL) {
                check_node(kids[i], x->id, state, where);
                vpush(s, kids[i]);
            }
        if (drop)
            atomic_store(&x->state, DROPPED);
    }
    return count;
}

static struct node *new_node(struct wctx *c)
{
    struct node *n;
    bool typed = rn(c, 2) == 0;
    if (typed)
        n = gort_new(&node_type);
    else
        n = gort_malloc(sizeof *n);
    n->id = atomic_fetch_add(&next_id, 1) + 1;
    n->magic = mix(n->id);
    n->key = rnd(c);
    atomic_store_explicit(&n->state, LIVE, memory_order_relaxed);
    uint32_t fl = typed ? F_TYPED : 0;
    if (rn(c, 16) == 0) {
        fl |= F_FIN;
        atomic_fetch_add(&fin_set, 1);
    }
    atomic_store_explicit(&n->flags, fl, memory_order_relaxed);
    if (fl & F_FIN)
        gort_set_finalizer(n, fin);
    atomic_fetch_add(&nlive, 1);
    return n;
}

/* Marks the detached subtree at n dropped.  n is held to the end of the
 * walk: the walk lets go of each node once its children are queued, so a
 * node it has passed would otherwise be unreachable while nodes below it
 * are still LIVE, and its finalizer (which may resurrect it, subtree and
 * all, for op_resurrected to check) could run before the walk reaches
 * them. */
static void drop(struct wctx *c, struct node *n, uint64_t parent, const char *where)
{
    uint64_t k = walk(c, n, parent, LIVE, true, where);
    gort_keep_alive(n);
    atomic_fetch_add(&ndropped, k);
    atomic_fetch_sub(&nlive, k);
}

/* ---- places: slots that hold a subtree ------------------------------------------ */

static int nslots(int place)
{
    switch (place) {
    case P_LIST:
    case P_TREE:
        return 1;
    case P_BAG:
        return NBAG;
    case P_BAGMID:
        return NBAGMID;
    case P_MID:
        return NMID;
    case P_BIG:
    case P_BIGT:
        return 8; /* indexes into the large objects: bigidx */
    case P_GLOBAL:
        return NG;
    case P_REG:
        return NREG;
    default:
        return NUNC;
    }
}

static struct node *slot_get(struct wctx *c, int place, int i)
{
    struct wstate *st = c->st;
    switch (place) {
    case P_LIST:
        return st->list;
    case P_TREE:
        return st->tree;
    case P_BAG:
        return st->bag[i];
    case P_BAGMID:
        return st->bag[NBAG + i] ? (struct node *)((char *)st->bag[NBAG + i] - MID_OFF) : NULL;
    case P_MID:
        return st->mid[i] ? (struct node *)(st->mid[i] - MID_OFF) : NULL;
    case P_BIG:
        return st->big[c->bigidx[i]];
    case P_BIGT:
        return st->bigt[c->bigidx[i]].p;
    case P_GLOBAL:
        return gslot[c->w][i];
    case P_REG:
        return ((struct node **)st->reg)[i];
    default:
        return ((struct node **)st->unc)[i];
    }
}

static void slot_set(struct wctx *c, int place, int i, struct node *n)
{
    struct wstate *st = c->st;
    if (n != NULL)
        n->parent = TAG(c->w, place, i);
    switch (place) {
    case P_LIST:
        st->list = n;
        break;
    case P_TREE:
        st->tree = n;
        break;
    case P_BAG:
        st->bag[i] = n;
        break;
    case P_BAGMID:
        st->bag[NBAG + i] = n ? (char *)n + MID_OFF : NULL;
        break;
    case P_MID:
        st->mid[i] = n ? (char *)n + MID_OFF : NULL;
        break;
    case P_BIG:
        st->big[c->bigidx[i]] = n;
        break;
    case P_BIGT:
        st->bigt[c->bigidx[i]].p = n;
        break;
    case P_GLOBAL:
        gslot[c->w][i] = n;
        break;
    case P_REG:
        ((struct node **)st->reg)[i] = n;
        break;
    default:
        ((struct node **)st->unc)[i] = n;
        break;
    }
}

static struct node **edge(struct node *n, uint64_t e)
{
    return e == 0 ? &n->left : e == 1 ? &n->right : &n->next;
}

/* Hangs subtree b at a null edge found by a random descent from cur. */
static void hang(struct wctx *c, struct node *cur, struct node *b)
{
    for (;;) {
        struct node **e = edge(cur, rn(c, 3));
        if (*e == NULL) {
            b->parent = cur->id;
            *e = b;
            return;
        }
        cur = *e;
    }
}

/* Attaches subtree b under the slot's root (hang), or in the slot if it is
 * empty. */
static void attach(struct wctx *c, int place, int i, struct node *b)
{
    struct node *cur = slot_get(c, place, i);
    if (cur == NULL)
        slot_set(c, place, i, b);
    else
        hang(c, cur, b);
}

/* Detaches a random subtree of the slot's contents (maybe all of it);
 * NULL if the slot is empty.  The subtree's parent tag becomes TAG_STACK. */
static struct node *detach(struct wctx *c, int place, int i)
{
    struct node *cur = slot_get(c, place, i);
    if (cur == NULL)
        return NULL;
    if (rn(c, 3) == 0) {
        slot_set(c, place, i, NULL);
        cur->parent = TAG_STACK;
        return cur;
    }
    for (int depth = 0; depth < 64; depth++) {
        struct node **e = edge(cur, rn(c, 3));
        if (*e == NULL)
            break;
        if (rn(c, 3) == 0) {
            struct node *b = *e;
            *e = NULL;
            b->parent = TAG_STACK;
            return b;
        }
        cur = *e;
    }
    return NULL;
}

static void random_slot(struct wctx *c, int *place, int *i)
{
    *place = (int)rn(c, NPLACE);
    *i = (int)rn(c, (uint64_t)nslots(*place));
}

/* Puts a held subtree (parent TAG_STACK) somewhere of this worker's. */
static void put_somewhere(struct wctx *c, struct node *b)
{
    int place, i;
    random_slot(c, &place, &i);
    attach(c, place, i, b);
}

/* ---- operations ------------------------------------------------------------------ */

static void op_list_push(struct wctx *c)
{
    struct node *n = new_node(c);
    struct node *h = c->st->list;
    n->next = h;
    if (h != NULL)
        h->parent = n->id;
    slot_set(c, P_LIST, 0, n);
}

/* Unlinks the k-th node of the list (with its left/right subtrees). */
static struct node *list_unlink(struct wctx *c, uint64_t k)
{
    struct node *h = c->st->list;
    if (h == NULL)
        return NULL;
    if (k == 0) {
        struct node *nx = h->next;
        h->next = NULL;
        slot_set(c, P_LIST, 0, nx);
        h->parent = TAG_STACK;
        return h;
    }
    struct node *prev = h;
    for (uint64_t j = 1; j < k && prev->next != NULL && prev->next->next != NULL; j++)
        prev = prev->next;
    struct node *x = prev->next;
    if (x == NULL)
        return NULL;
    check_node(x, prev->id, LIVE, "list");
    prev->next = x->next;
    if (x->next != NULL)
        x->next->parent = prev->id;
    x->next = NULL;
    x->parent = TAG_STACK;
    return x;
}

static void op_tree_insert(struct wctx *c)
{
    struct node *n = new_node(c);
    struct node *cur = c->st->tree;
    if (cur == NULL) {
        slot_set(c, P_TREE, 0, n);
        return;
    }
    for (;;) {
        struct node **e = n->key < cur->key ? &cur->left : &cur->right;
        if (*e == NULL) {
            n->parent = cur->id;
            *e = n;
            return;
        }
        cur = *e;
    }
}

static void verify_slot(struct wctx *c, int place, int i)
{
    struct node *n = slot_get(c, place, i);
    if (n != NULL)
        walk(c, n, TAG(c->w, place, i), LIVE, false, place_name[place]);
}

/* Gives a held subtree to another worker's inbox, or drops it. */
static void give_away(struct wctx *c, struct node *b)
{
    int to = (int)rn(c, NW);
    b->parent = TAG_INFLIGHT;
    gort_case cs = {inbox[to], GORT_SEND, &b, false};
    if (gort_select(&cs, 1, false) != 0) {
        b->parent = TAG_STACK;
        drop(c, b, TAG_STACK, "give_away");
    }
}

static void op_inbox(struct wctx *c)
{
    for (int k = 0; k < 4; k++) {
        struct node *b = NULL;
        gort_case cs = {inbox[c->w], GORT_RECV, &b, false};
        if (gort_select(&cs, 1, false) != 0)
            return;
        walk(c, b, TAG_INFLIGHT, LIVE, false, "inbox");
        b->parent = TAG_STACK;
        put_somewhere(c, b);
    }
}

/* Holds a subtree only in a local across a blocking receive of a token. */
static __attribute__((noinline)) void op_token(struct wctx *c)
{
    int place, i;
    random_slot(c, &place, &i);
    struct node *volatile held = detach(c, place, i);
    struct node *tok = NULL;
    gort_chan_recv(tokch, &tok); /* parks when NTOK others hold one */
    check_node(tok, TAG_TOKEN, TOKEN, "token");
    if (held != NULL)
        walk(c, held, TAG_STACK, LIVE, false, "held across a channel receive");
    if (rn(c, 2))
        gort_gosched(); /* holding the token: the others queue */
    gort_chan_send(tokch, &tok); /* never blocks: room for every token */
    tok = NULL;
    if (held != NULL)
        put_somewhere(c, held);
}

static __attribute__((noinline)) void op_gosched(struct wctx *c)
{
    int place, i;
    random_slot(c, &place, &i);
    struct node *volatile held = detach(c, place, i);
    gort_gosched();
    if (held != NULL) {
        walk(c, held, TAG_STACK, LIVE, false, "held across gort_gosched");
        put_somewhere(c, held);
    }
}

/* Holds a subtree in a register through a loop without calls. */
static __attribute__((noinline)) void op_register(struct wctx *c)
{
    int place, i;
    random_slot(c, &place, &i);
    struct node *p = detach(c, place, i);
    if (p == NULL)
        return;
    uint64_t h = 0;
    for (int k = 0; k < 20000; k++) {
        __asm__ volatile("" : "+r"(p));
        h = h * 31 + p->key;
    }
    atomic_store_explicit(&sink, (void *)(uintptr_t)(h & 1), memory_order_relaxed);
    walk(c, p, TAG_STACK, LIVE, false, "held in a register");
    put_somewhere(c, p);
}

/* The shared structure: take it (mostly without blocking), change it,
 * pass it on. */
static void op_baton(struct wctx *c)
{
    struct node *b = NULL;
    if (rn(c, 8) == 0 && !no_baton_wait) {
        gort_chan_recv(batonch, &b);
    } else {
        gort_case cs = {batonch, GORT_RECV, &b, false};
        if (gort_select(&cs, 1, false) != 0)
            return;
    }
    check_node(b, TAG_BATON, LIVE, "baton");
    switch (rn(c, 4)) {
    case 0: { /* graft a subtree of ours */
        int place, i;
        random_slot(c, &place, &i);
        struct node *s = detach(c, place, i);
        if (s != NULL)
            hang(c, b, s);
        break;
    }
    case 1: { /* take a subtree of it */
        struct node *cur = b;
        for (int d = 0; d < 32; d++) {
            struct node **e = edge(cur, rn(c, 3));
            if (*e == NULL)
                break;
            if (rn(c, 2) == 0) {
                struct node *s = *e;
                *e = NULL;
                s->parent = TAG_STACK;
                if (atomic_load_explicit(&nlive, memory_order_relaxed) > LIVE_CAP)
                    drop(c, s, TAG_STACK, "baton");
                else
                    put_somewhere(c, s);
                break;
            }
            cur = *e;
        }
        break;
    }
    case 2: { /* grow it */
        if (atomic_load_explicit(&nlive, memory_order_relaxed) > LIVE_CAP)
            break;
        struct node *n = new_node(c);
        n->next = b->next;
        if (n->next != NULL)
            n->next->parent = n->id;
        n->parent = b->id;
        b->next = n;
        break;
    }
    default:
        walk(c, b, TAG_BATON, LIVE, false, "baton");
        break;
    }
    gort_chan_send(batonch, &b); /* never blocks: capacity 1, one baton */
}

/* Replaces the large objects by fresh copies (allocated during a cycle,
 * filled before the old ones go). */
static void op_renew_big(struct wctx *c)
{
    struct wstate *st = c->st;
    void **nb = gort_malloc(BIGN * sizeof(void *));
    memcpy(nb, st->big, BIGN * sizeof(void *));
    st->big = nb;
    struct nodeslot *nt = gort_new_array(&nodeslot_type, BIGN);
    memcpy(nt, st->bigt, BIGN * sizeof *nt);
    st->bigt = nt;
}

/* Moves the contents of large-object slot i (in both objects) to a new
 * index. */
static void op_big_move(struct wctx *c)
{
    int i = (int)rn(c, 8);
    struct node *n = slot_get(c, P_BIG, i), *nt = slot_get(c, P_BIGT, i);
    slot_set(c, P_BIG, i, NULL);
    slot_set(c, P_BIGT, i, NULL);
    uint64_t ni;
    bool taken;
    do {
        ni = rn(c, BIGN);
        taken = c->st->big[ni] != NULL || c->st->bigt[ni].p != NULL;
        for (int k = 0; k < 8; k++)
            taken |= c->bigidx[k] == ni;
    } while (taken);
    c->bigidx[i] = ni;
    if (n != NULL)
        slot_set(c, P_BIG, i, n);
    if (nt != NULL)
        slot_set(c, P_BIGT, i, nt);
}

/* Checks and lets go of one resurrected node. */
static void op_resurrected(struct wctx *c)
{
    gort_mutex_lock(&res_mu);
    struct rrec *r = res_head;
    if (r != NULL) {
        res_head = r->link;
        res_len--;
    }
    gort_mutex_unlock(&res_mu);
    if (r == NULL)
        return;
    walk(c, r->n, r->n->parent, DROPPED, false, "resurrected by its finalizer");
}

/* Mailboxes: a worker parks with a local variable whose address it posts;
 * another worker writes a subtree into that variable (into the parked
 * worker's stack, which the collector may have scanned already) and wakes
 * it.  A worker posts only while some other worker has not posted and not
 * ended (it delivers, or ends), and each worker wakes the posted ones when
 * it ends, so no one waits forever. */
struct mailbox {
    struct node *volatile *slot;
    int w;
};
static gort_mutex mb_mu;
static struct mailbox posted[NW]; /* under mb_mu */
static int nposted, active = NW;  /* under mb_mu */
static gort_chan *mbwake[NW];     /* capacity 1, zero-size elements */

static __attribute__((noinline)) void op_mailbox_wait(struct wctx *c)
{
    struct node *volatile slot = NULL;
    gort_mutex_lock(&mb_mu);
    if (nposted + 1 >= active) { /* someone must stay free to deliver */
        gort_mutex_unlock(&mb_mu);
        return;
    }
    posted[nposted++] = (struct mailbox){&slot, c->w};
    gort_mutex_unlock(&mb_mu);
    gort_chan_recv(mbwake[c->w], NULL);
    struct node *b = slot;
    slot = NULL;
    if (b != NULL) {
        walk(c, b, TAG_MAILBOX, LIVE, false, "written into a parked worker's stack");
        b->parent = TAG_STACK;
        put_somewhere(c, b);
    }
}

static __attribute__((noinline)) void op_deliver(struct wctx *c)
{
    gort_mutex_lock(&mb_mu);
    if (nposted == 0) {
        gort_mutex_unlock(&mb_mu);
        return;
    }
    int k = (int)rn(c, (uint64_t)nposted);
    struct mailbox mb = posted[k];
    posted[k] = posted[--nposted];
    gort_mutex_unlock(&mb_mu);
    int place, i;
    random_slot(c, &place, &i);
    struct node *b = detach(c, place, i);
    if (b != NULL) {
        b->parent = TAG_MAILBOX;
        *mb.slot = b;
        b = NULL;
    }
    gort_chan_send(mbwake[mb.w], NULL); /* capacity 1: never blocks */
}

static void mailbox_exit(void)
{
    gort_mutex_lock(&mb_mu);
    active--;
    int n = nposted, ws[NW];
    for (int k = 0; k < n; k++)
        ws[k] = posted[k].w;
    nposted = 0;
    gort_mutex_unlock(&mb_mu);
    for (int k = 0; k < n; k++)
        gort_chan_send(mbwake[ws[k]], NULL);
}

static void step(struct wctx *c)
{
    bool full = atomic_load_explicit(&nlive, memory_order_relaxed) > LIVE_CAP;
    int place, i;
    uint64_t r = rn(c, 100);
    if (r < 12) {
        if (!full)
            op_list_push(c);
        else {
            struct node *x = list_unlink(c, rn(c, 4));
            if (x != NULL)
                drop(c, x, TAG_STACK, "list");
        }
    } else if (r < 24) {
        if (!full)
            op_tree_insert(c);
        else {
            struct node *x = detach(c, P_TREE, 0);
            if (x != NULL)
                drop(c, x, TAG_STACK, "tree");
        }
    } else if (r < 30) {
        if (!full) {
            random_slot(c, &place, &i);
            attach(c, place, i, new_node(c));
        }
    } else if (r < 40) { /* unlink from the list: move or drop */
        struct node *x = list_unlink(c, rn(c, 50));
        if (x != NULL) {
            if (full || rn(c, 3) == 0)
                drop(c, x, TAG_STACK, "list");
            else
                put_somewhere(c, x);
        }
    } else if (r < 55) { /* detach a subtree: drop, move, or give away */
        random_slot(c, &place, &i);
        struct node *x = detach(c, place, i);
        if (x != NULL) {
            uint64_t what = rn(c, 4);
            if (full || what == 0)
                drop(c, x, TAG_STACK, place_name[place]);
            else if (what == 1)
                give_away(c, x);
            else
                put_somewhere(c, x);
        }
    } else if (r < 61) {
        random_slot(c, &place, &i);
        verify_slot(c, place, i);
    } else if (r < 67) {
        if (!no_token)
            op_token(c);
    } else if (r < 71) {
        op_gosched(c);
    } else if (r < 72) {
        op_register(c);
    } else if (r < 80) {
        op_baton(c);
    } else if (r < 88) {
        op_inbox(c);
    } else if (r < 89) {
        if (rn(c, 4) == 0)
            op_renew_big(c);
        else
            op_big_move(c);
    } else if (r < 91) {
        op_resurrected(c);
    } else if (r < 93) {
        if (!no_mailbox)
            op_mailbox_wait(c);
    } else if (r < 96) {
        op_deliver(c);
    } else { /* garbage of the same size class: reuses freed slots */
        for (int k = 0; k < 16; k++) {
            uint64_t *g = gort_malloc(64);
            g[4] = 0xdead;
            atomic_store_explicit(&sink, g, memory_order_relaxed);
        }
    }
}

/* ---- workers and main ---------------------------------------------------------- */

static __attribute__((noinline)) struct wstate *new_wstate(int w)
{
    struct wstate *st = gort_new(&wstate_type);
    st->w = (uint64_t)w;
    st->bag = gort_malloc((NBAG + NBAGMID) * sizeof(void *));
    st->big = gort_malloc(BIGN * sizeof(void *));
    st->bigt = gort_new_array(&nodeslot_type, BIGN);
    void **reg = calloc(NREG, sizeof(void *));
    if (reg == NULL)
        FAIL("out of memory");
    gort_add_roots(reg, NREG * sizeof(void *));
    st->reg = (uintptr_t)reg;
    st->unc = (uintptr_t)gort_malloc_uncollectable(NUNC * sizeof(void *));
    return st;
}

static gort_waitgroup workers_wg;

static void worker(void *arg)
{
    int w = *(int *)arg;
    struct wctx c = {.w = w, .rng = mix(seed ^ (uint64_t)(w + 1)) | 1};
    c.st = new_wstate(w);
    for (int i = 0; i < 8; i++)
        c.bigidx[i] = (uint64_t)i * (BIGN / 8) + rn(&c, BIGN / 8);
    for (int s = 0; s < steps; s++)
        step(&c);
    mailbox_exit();
    gort_chan_send(results, &c.st); /* capacity NW: never blocks */
    gort_waitgroup_done(&workers_wg);
}

static _Atomic bool stop;
static gort_waitgroup cycler_wg;
static _Atomic uint64_t ncycles;

static void cycler(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        gort_gc();
        atomic_fetch_add(&ncycles, 1);
        for (int i = 0; i < 20 && !atomic_load(&stop); i++)
            gort_gosched();
    }
    gort_waitgroup_done(&cycler_wg);
}

/* The final walk: every node once, checked, marked dropped, and unlinked
 * (so that a stale reference somewhere keeps one node, not a structure). */
static uint8_t *seen;
static uint64_t seen_n;

static uint64_t final_walk(struct vec *s, struct node *n, uint64_t parent, uint32_t state,
                           const char *where)
{
    if (n == NULL)
        return 0;
    check_node(n, parent, state, where);
    uint64_t count = 0;
    vpush(s, n);
    while (s->n > 0) {
        struct node *x = s->v[--s->n];
        if (x->id > seen_n)
            FAIL("%s: node id %llu out of range", where, (unsigned long long)x->id);
        if (seen[x->id / 8] & (1u << (x->id % 8)))
            FAIL("%s: node %llu reached twice", where, (unsigned long long)x->id);
        seen[x->id / 8] |= (uint8_t)(1u << (x->id % 8));
        count++;
        struct node *kids[3] = {x->left, x->right, x->next};
        for (int i = 0; i < 3; i++)
            if (kids[i] != NULL) {
                check_node(kids[i], x->id, state, where);
                vpush(s, kids[i]);
            }
        x->left = x->right = x->next = NULL;
        atomic_store(&x->state, DROPPED);
    }
    return count;
}

static __attribute__((noinline)) void finish(void)
{
    struct vec s = {0};
    seen_n = atomic_load(&next_id);
    seen = calloc(seen_n / 8 + 1, 1);
    uint64_t live = 0;
    /* The baton and the tokens. */
    struct node *b = NULL;
    if (!gort_chan_recv(batonch, &b))
        FAIL("no baton");
    live += final_walk(&s, b, TAG_BATON, LIVE, "baton");
    b = NULL;
    for (int t = 0; t < NTOK; t++) {
        struct node *tok = NULL;
        gort_case cs = {tokch, GORT_RECV, &tok, false};
        if (gort_select(&cs, 1, false) != 0)
            FAIL("token %d missing", t);
        check_node(tok, TAG_TOKEN, TOKEN, "token");
    }
    /* What is still in the inboxes. */
    for (int w = 0; w < NW; w++)
        for (;;) {
            gort_case cs = {inbox[w], GORT_RECV, &b, false};
            if (gort_select(&cs, 1, false) != 0)
                break;
            live += final_walk(&s, b, TAG_INFLIGHT, LIVE, "inbox");
            b = NULL;
        }
    /* Every worker's places. */
    for (int k = 0; k < NW; k++) {
        struct wstate *st = NULL;
        gort_chan_recv(results, &st);
        int w = (int)st->w;
        struct wctx c = {.w = w, .st = st};
        for (int place = 0; place < NPLACE; place++) {
            if (place == P_BIG || place == P_BIGT)
                continue;
            for (int i = 0; i < nslots(place); i++) {
                live += final_walk(&s, slot_get(&c, place, i), TAG(w, place, i), LIVE,
                                   place_name[place]);
                slot_set(&c, place, i, NULL);
            }
        }
        /* The large objects: every slot (bigidx is gone with the worker). */
        for (uint64_t j = 0; j < BIGN; j++) {
            for (int place = P_BIG; place <= P_BIGT; place++) {
                struct node *n = place == P_BIG ? st->big[j] : st->bigt[j].p;
                if (n == NULL)
                    continue;
                uint64_t tag = n->parent;
                if ((tag >> 63) == 0 || ((tag >> 40) & 0xfff) != (uint64_t)w ||
                    ((tag >> 32) & 0xff) != (uint64_t)place || (tag & 0xffffffff) >= 8)
                    FAIL("large object slot %llu: node %llu has tag %#llx",
                         (unsigned long long)j, (unsigned long long)n->id,
                         (unsigned long long)tag);
                live += final_walk(&s, n, tag, LIVE, place_name[place]);
            }
            st->big[j] = NULL;
            st->bigt[j].p = NULL;
        }
        gort_remove_roots((void *)st->reg, NREG * sizeof(void *));
        free((void *)st->reg);
        gort_free_uncollectable((void *)st->unc);
        memset(st, 0, sizeof *st);
    }
    uint64_t alloc = atomic_load(&next_id), dropped = atomic_load(&ndropped);
    if (alloc != live + dropped)
        FAIL("nodes allocated %llu != reachable %llu + dropped %llu",
             (unsigned long long)alloc, (unsigned long long)live, (unsigned long long)dropped);
    /* The resurrected nodes: checked, then let go (their finalizers ran). */
    atomic_store(&ending, true);
    gort_mutex_lock(&res_mu);
    struct rrec *r = res_head;
    res_head = NULL;
    res_len = 0;
    gort_mutex_unlock(&res_mu);
    uint64_t nres = 0;
    for (; r != NULL; r = r->link) {
        struct vec tmp = {0};
        struct wctx c = {.scratch = tmp};
        walk(&c, r->n, r->n->parent, DROPPED, false, "resurrected");
        nres++;
    }
    free(seen);
    printf("nodes: %llu allocated, %llu reachable at the end, %llu dropped; "
           "%llu resurrected (%llu still held)\n",
           (unsigned long long)alloc, (unsigned long long)live, (unsigned long long)dropped,
           (unsigned long long)atomic_load(&nresurrected), (unsigned long long)nres);
}

/* Clears the stack below the caller: conservative scanning would find the
 * stale copies that earlier, deeper calls left there. */
static __attribute__((noinline)) void scrub(void)
{
    char buf[32768];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) void setup(void)
{
    tokch = gort_chan_make(sizeof(void *), NTOK);
    batonch = gort_chan_make(sizeof(void *), 1);
    results = gort_chan_make(sizeof(void *), NW);
    for (int w = 0; w < NW; w++) {
        inbox[w] = gort_chan_make(sizeof(void *), INBOX);
        mbwake[w] = gort_chan_make(0, 1);
    }
    for (int t = 0; t < NTOK; t++) {
        struct node *tok = gort_new(&node_type);
        tok->id = atomic_fetch_add(&next_id, 1) + 1;
        tok->magic = mix(tok->id);
        tok->parent = TAG_TOKEN;
        atomic_store(&tok->state, TOKEN);
        gort_chan_send(tokch, &tok);
    }
    /* Tokens count as dropped: they are checked apart. */
    atomic_fetch_add(&ndropped, NTOK);
    struct node *b = gort_new(&node_type);
    b->id = atomic_fetch_add(&next_id, 1) + 1;
    b->magic = mix(b->id);
    b->parent = TAG_BATON;
    atomic_store(&b->state, LIVE);
    gort_chan_send(batonch, &b);
}

static int main2(int argc, char **argv)
{
    if (argc > 1)
        seed = strtoull(argv[1], NULL, 0);
    if (argc > 2)
        steps = atoi(argv[2]);
    if (argc > 3) {
        no_mailbox = strstr(argv[3], "mailbox") != NULL;
        no_token = strstr(argv[3], "token") != NULL;
        no_baton_wait = strstr(argv[3], "baton-wait") != NULL;
    }
    setup();
    gort_waitgroup_add(&cycler_wg, 1);
    gort_go(cycler, NULL, 0);
    gort_waitgroup_add(&workers_wg, NW);
    for (int w = 0; w < NW; w++)
        gort_go(worker, &w, sizeof w);
    /* Wait for the workers without taking their results: results holds
     * them (values in flight) until finish. */
    gort_waitgroup_wait(&workers_wg);
    atomic_store(&stop, true);
    gort_waitgroup_wait(&cycler_wg);
    finish();
    scrub();
    /* Everything is dropped now: the finalizers must run, all but a
     * handful (a stale word on a stack may keep a node). */
    uint64_t want = atomic_load(&fin_set), slack = 64;
    int rounds = 0, idle = 0;
    /* Until all ran, or 20 collections in a row ran none (a chain of
     * finalizer objects in a dropped subtree takes a cycle a link). */
    while (atomic_load(&fin_ran) < want && idle < 20 && rounds < 1000) {
        uint64_t before = atomic_load(&fin_ran);
        gort_gc();
        for (int i = 0; i < 10; i++)
            gort_gosched();
        rounds++;
        idle = atomic_load(&fin_ran) == before ? idle + 1 : 0;
    }
    uint64_t ran = atomic_load(&fin_ran);
    if (ran + slack < want || ran > want)
        FAIL("%llu of %llu finalizers ran after %d collections", (unsigned long long)ran,
             (unsigned long long)want, rounds);
    printf("ok: %d workers x %d steps, %llu collections; finalizers %llu of %llu "
           "(%d collections at the end)\n",
           NW, steps, (unsigned long long)atomic_load(&ncycles), (unsigned long long)ran,
           (unsigned long long)want, rounds);
    return 0;
}

int main(int argc, char **argv) { return gort_main(main2, argc, argv); }
