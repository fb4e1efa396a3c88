/*
 * sema.c — semaphores keyed by address, and notify lists: where the sync
 * package's goroutines sleep.  Go's runtime/sema.go, in C.
 *
 * Why a table.  A sync.Mutex is eight bytes of user memory with no room for
 * a queue and no constructor, yet any number of goroutines may wait on it.
 * So the queues live here, in a fixed table of SEMTAB_SIZE (251, a prime)
 * roots; a semaphore address picks its root by (addr >> 3) % 251.  Addresses
 * that share a root share its lock, which is the price of zero-size setup;
 * the prime spreads the usual strides of struct arrays over all roots.
 *
 * A root's structure.  Within a root the distinct addresses that have
 * waiters form a treap: a binary search tree by address that is also a
 * min-heap by a random `ticket`, so it stays balanced in expectation
 * whatever order addresses arrive in (many mutexes colliding on one root
 * cost O(log n), not O(n)).  A treap node is the sudog of the first waiter
 * on its address; later waiters on the same address form a list behind it
 * through waitlink, and the node's waittail points at the list's end so a
 * FIFO append is O(1).
 *
 *      root->treap ─▶ [addr B]──waitlink──▶ w ──▶ w ──▶ w   (waittail ─▶ last)
 *                     /prev  \next
 *                [addr A]   [addr C]
 *
 * sudog fields used here: elem (the address), ticket (treap priority while a
 * node; afterwards 1 means "the semaphore was handed to you"), parent/prev/
 * next (tree links), waitlink/waittail (same-address list).  All of them are
 * protected by the root's lock while the sudog is queued.
 *
 * Lost wake-ups.  semacquire counts itself in root->nwait and then re-tries
 * the semaphore, both under the lock; semrelease increments the semaphore and
 * then reads nwait without the lock.  Both pairs are sequentially consistent,
 * so either the releaser sees the waiter (and takes the lock to wake it) or
 * the waiter sees the unit.  Most releases of an uncontended semaphore cost
 * one atomic add and one load.
 *
 * Handoff.  A plain release lets any goroutine take the unit, even one that
 * never waited.  With handoff (a mutex in starvation mode) the releaser takes
 * the unit on the waiter's behalf (ticket = 1), readies it into its own P's
 * runnext and yields, so the waiter runs next, here, with the unit in hand.
 *
 * Notify lists (sync.Cond).  A waiter draws a ticket from `wait` while it
 * still holds the user's lock, so tickets follow the order of Wait calls; a
 * Signal wakes the ticket `notify` and advances it, a Broadcast advances
 * `notify` to `wait`.  A waiter parks only if its ticket is not yet
 * notified; since Signal can run between drawing a ticket and parking, the
 * signaller searches the list for the exact ticket instead of taking the head.
 *
 * Locks: a semaroot lock and a notify-list lock are leaves of the sync layer
 * (ranks LOCKRANK_SEMAROOT, LOCKRANK_NOTIFYLIST); neither is held across
 * goready, which may take scheduler locks.  Parking passes the lock to
 * gopark, which releases it once the g is off its stack.
 */
#include "sema.h"

enum { SEMTAB_SIZE = 251 };

/* One root per cache line, so goroutines sleeping on unrelated mutexes do
 * not bounce each other's lines. */
struct semtab_entry {
    _Alignas(64) struct semaroot root;
};

static struct semtab_entry semtable[SEMTAB_SIZE] = {
    [0 ... SEMTAB_SIZE - 1] = {.root = {.lock = MUTEX_INIT(LOCKRANK_SEMAROOT)}},
};

static struct semaroot *root_for(uint32_t *addr)
{
    return &semtable[((uintptr_t)addr >> 3) % SEMTAB_SIZE].root;
}

static bool cansemacquire(uint32_t *addr)
{
    uint32_t v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
    while (v != 0) {
        if (__atomic_compare_exchange_n(addr, &v, v - 1, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
    }
    return false;
}

/* gopark's unlockf: the lock a waiter queued itself under may be dropped
 * only once the waiter is off its stack, or a waker could goready a g that
 * is still running. */
static bool parkunlock(struct g *gp, void *lk)
{
    (void)gp;
    unlock(lk);
    return true;
}

static void semacquire1_(uint32_t *addr, bool lifo, uint8_t reason)
{
    struct g *gp = getg();
    if (gp == NULL || gp->m == NULL || gp != gp->m->curg)
        throw("semacquire not on the G stack");
    if (cansemacquire(addr))
        return;

    struct sudog *s = acquire_sudog();
    struct semaroot *root = root_for(addr);
    s->releasetime = 0;
    s->acquiretime = 0;
    s->ticket = 0;
    for (;;) {
        lock(&root->lock);
        /* Count ourselves before the last try: see "Lost wake-ups". */
        atomic_fetch_add_explicit(&root->nwait, 1, memory_order_seq_cst);
        if (cansemacquire(addr)) {
            atomic_fetch_sub_explicit(&root->nwait, 1, memory_order_seq_cst);
            unlock(&root->lock);
            break;
        }
        semaroot_queue(root, addr, s, lifo);
        gopark(parkunlock, &root->lock, reason);
        /* Woken: either the releaser handed us the unit (ticket 1), or we
         * must race for it like everyone else and queue again if we lose.
         * A lost race requeues at the tail (or head, with lifo). */
        if (s->ticket != 0 || cansemacquire(addr))
            break;
    }
    s->ticket = 0;
    release_sudog(s);
}

/* FOREIGN_CALL: a thread the runtime did not create may block here. */
void semacquire1(uint32_t *addr, bool lifo, uint8_t reason)
{
    FOREIGN_CALL(semacquire1_(addr, lifo, reason));
}


void semacquire(uint32_t *addr)
{
    semacquire1(addr, false, WAIT_REASON_SEMACQUIRE);
}

/* Gives up the P to the goroutine just readied into runnext, which runs
 * next; the releaser goes to the tail of the local run queue (Go's
 * goyield). */
static void handoff_yield(void)
{
    goyield();
}

static void semrelease1_(uint32_t *addr, bool handoff)
{
    struct semaroot *root = root_for(addr);
    __atomic_fetch_add(addr, 1, __ATOMIC_SEQ_CST);
    if (atomic_load_explicit(&root->nwait, memory_order_seq_cst) == 0)
        return;

    lock(&root->lock);
    if (atomic_load_explicit(&root->nwait, memory_order_seq_cst) == 0) {
        /* Someone else's release took the waiter. */
        unlock(&root->lock);
        return;
    }
    struct sudog *s = semaroot_dequeue(root, addr);
    if (s != NULL)
        atomic_fetch_sub_explicit(&root->nwait, 1, memory_order_seq_cst);
    unlock(&root->lock);
    if (s == NULL)
        return;

    if (s->ticket != 0)
        throw("corrupted semaphore ticket");
    /* Decide before goready: once readied, s belongs to its g again and may
     * be recycled before we look at it. */
    bool handed = handoff && cansemacquire(addr);
    if (handed)
        s->ticket = 1;
    goready(s->g);
    /* Yield only as a user g holding no runtime lock: a g holding one must
     * not be switched out, and g0 or a foreign thread has no slice to give. */
    struct g *gp = getg();
    if (handed && gp != NULL && gp->m != NULL && gp == gp->m->curg && gp->m->locks == 0)
        handoff_yield();
}

void semrelease1(uint32_t *addr, bool handoff)
{
    FOREIGN_CALL(semrelease1_(addr, handoff));
}


void semrelease(uint32_t *addr)
{
    semrelease1(addr, false);
}

uint32_t sema_nwait(uint32_t *addr)
{
    return atomic_load_explicit(&root_for(addr)->nwait, memory_order_seq_cst);
}

/* ---- the treap --------------------------------------------------------- */

/* Replaces child `old` of `parent` (or the root when parent is NULL) by `new`. */
static void replace_child(struct semaroot *root, struct sudog *parent, struct sudog *old,
                          struct sudog *new)
{
    if (parent == NULL)
        root->treap = new;
    else if (parent->prev == old)
        parent->prev = new;
    else if (parent->next == old)
        parent->next = new;
    else
        throw("semaRoot rotate");
}

/* Rotates x down to the left: its right child y takes its place.
 *        x               y
 *       / \             / \
 *      a   y    ==>    x   c
 *         / \         / \
 *        b   c       a   b          */
static void rotate_left(struct semaroot *root, struct sudog *x)
{
    struct sudog *p = x->parent, *y = x->next, *b = y->prev;
    y->prev = x;
    x->parent = y;
    x->next = b;
    if (b != NULL)
        b->parent = x;
    y->parent = p;
    replace_child(root, p, x, y);
}

/* The mirror image: y's left child x takes its place. */
static void rotate_right(struct semaroot *root, struct sudog *y)
{
    struct sudog *p = y->parent, *x = y->prev, *b = x->next;
    x->next = y;
    y->parent = x;
    y->prev = b;
    if (b != NULL)
        b->parent = y;
    x->parent = p;
    replace_child(root, p, y, x);
}

void semaroot_queue(struct semaroot *root, uint32_t *addr, struct sudog *s, bool lifo)
{
    s->g = getg();
    s->elem = addr;
    s->next = NULL;
    s->prev = NULL;
    s->waitlink = NULL;
    s->waittail = NULL;

    struct sudog *last = NULL;
    struct sudog **pt = &root->treap;
    for (struct sudog *t = *pt; t != NULL; t = *pt) {
        if (t->elem == addr) {
            if (lifo) {
                /* s takes t's place in the tree (and its priority, so the
                 * heap order holds); t becomes the first of s's list. */
                *pt = s;
                s->ticket = t->ticket;
                s->acquiretime = t->acquiretime;
                s->parent = t->parent;
                s->prev = t->prev;
                s->next = t->next;
                if (s->prev != NULL)
                    s->prev->parent = s;
                if (s->next != NULL)
                    s->next->parent = s;
                s->waitlink = t;
                s->waittail = t->waittail != NULL ? t->waittail : t;
                t->parent = NULL;
                t->prev = NULL;
                t->next = NULL;
                t->waittail = NULL;
                t->ticket = 0;
            } else {
                if (t->waittail == NULL)
                    t->waitlink = s;
                else
                    t->waittail->waitlink = s;
                t->waittail = s;
            }
            return;
        }
        last = t;
        pt = (uintptr_t)addr < (uintptr_t)t->elem ? &t->prev : &t->next;
    }

    /* A new address: insert as a leaf, then rotate up until the heap order
     * holds.  The low bit keeps tickets nonzero ("is a node"). */
    s->ticket = fastrand() | 1;
    s->parent = last;
    *pt = s;
    while (s->parent != NULL && s->parent->ticket > s->ticket) {
        if (s->parent->prev == s)
            rotate_right(root, s->parent);
        else if (s->parent->next == s)
            rotate_left(root, s->parent);
        else
            throw("semaRoot queue");
    }
}

struct sudog *semaroot_dequeue(struct semaroot *root, uint32_t *addr)
{
    struct sudog **ps = &root->treap;
    struct sudog *s;
    for (s = *ps; s != NULL; s = *ps) {
        if (s->elem == addr)
            break;
        ps = (uintptr_t)addr < (uintptr_t)s->elem ? &s->prev : &s->next;
    }
    if (s == NULL)
        return NULL;

    struct sudog *t = s->waitlink;
    if (t != NULL) {
        /* The next waiter on addr inherits s's node. */
        *ps = t;
        t->ticket = s->ticket;
        t->parent = s->parent;
        t->prev = s->prev;
        if (t->prev != NULL)
            t->prev->parent = t;
        t->next = s->next;
        if (t->next != NULL)
            t->next->parent = t;
        t->waittail = t->waitlink != NULL ? s->waittail : NULL;
        /* The mutex profile measures contention from when a waiter reaches
         * the head; nothing reads it until mprof exists. */
        t->acquiretime = s->acquiretime != 0 ? nanotime() : 0;
        s->waitlink = NULL;
        s->waittail = NULL;
    } else {
        /* Last waiter on addr: rotate the node down, always lifting the
         * child with the smaller ticket, until it is a leaf; cut it off. */
        while (s->next != NULL || s->prev != NULL) {
            if (s->next == NULL || (s->prev != NULL && s->prev->ticket < s->next->ticket))
                rotate_right(root, s);
            else
                rotate_left(root, s);
        }
        replace_child(root, s->parent, s, NULL);
    }
    s->parent = NULL;
    s->elem = NULL;
    s->next = NULL;
    s->prev = NULL;
    s->ticket = 0;
    return s;
}

/* Checks the subtree at s, whose addresses must lie in [lo, hi); returns the
 * number of waiters in it.  Recursion depth is the treap's depth. */
static uint32_t check_subtree(struct sudog *s, struct sudog *parent, uintptr_t lo, uintptr_t hi)
{
    if (s == NULL)
        return 0;
    uintptr_t a = (uintptr_t)s->elem;
    if (s->parent != parent)
        throw("semaRoot check: parent link");
    if (a < lo || a >= hi)
        throw("semaRoot check: address order");
    if (s->ticket == 0 || (parent != NULL && parent->ticket > s->ticket))
        throw("semaRoot check: heap order");
    uint32_t n = 1;
    struct sudog *w = s, *last = NULL;
    for (w = s->waitlink; w != NULL; w = w->waitlink) {
        if (w->elem != s->elem || w->parent != NULL || w->prev != NULL || w->next != NULL)
            throw("semaRoot check: wait list");
        last = w;
        n++;
    }
    if (s->waittail != last)
        throw("semaRoot check: wait tail");
    return n + check_subtree(s->prev, s, lo, a) + check_subtree(s->next, s, a + 1, hi);
}

uint32_t semaroot_check(struct semaroot *root)
{
    return check_subtree(root->treap, NULL, 0, UINTPTR_MAX);
}

/* ---- notify lists ------------------------------------------------------ */

/* Ticket order with wrap-around: a precedes b. */
static bool ticket_less(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

uint32_t notifylist_add(struct notifylist *l)
{
    return __atomic_fetch_add(&l->wait, 1, __ATOMIC_SEQ_CST);
}

static void notifylist_wait_(struct notifylist *l, uint32_t t)
{
    lock(&l->lock);
    if (ticket_less(t, __atomic_load_n(&l->notify, __ATOMIC_SEQ_CST))) {
        /* Notified between drawing the ticket and getting here. */
        unlock(&l->lock);
        return;
    }
    struct sudog *s = acquire_sudog();
    s->g = getg();
    s->ticket = t;
    s->releasetime = 0;
    s->next = NULL;
    if (l->tail == NULL)
        l->head = s;
    else
        l->tail->next = s;
    l->tail = s;
    gopark(parkunlock, &l->lock, WAIT_REASON_SYNC_COND_WAIT);
    s->ticket = 0;
    release_sudog(s);
}

void notifylist_wait(struct notifylist *l, uint32_t t)
{
    FOREIGN_CALL(notifylist_wait_(l, t));
}


static void notifylist_notify_all_(struct notifylist *l)
{
    /* No new waiter since the last notification: nothing to do, no lock. */
    if (__atomic_load_n(&l->wait, __ATOMIC_SEQ_CST) ==
        __atomic_load_n(&l->notify, __ATOMIC_SEQ_CST))
        return;

    lock(&l->lock);
    struct sudog *s = l->head;
    l->head = NULL;
    l->tail = NULL;
    __atomic_store_n(&l->notify, __atomic_load_n(&l->wait, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
    unlock(&l->lock);

    while (s != NULL) {
        struct sudog *next = s->next; /* read before s goes back to its g */
        s->next = NULL;
        goready(s->g);
        s = next;
    }
}

void notifylist_notify_all(struct notifylist *l)
{
    FOREIGN_CALL(notifylist_notify_all_(l));
}


static void notifylist_notify_one_(struct notifylist *l)
{
    if (__atomic_load_n(&l->wait, __ATOMIC_SEQ_CST) ==
        __atomic_load_n(&l->notify, __ATOMIC_SEQ_CST))
        return;

    lock(&l->lock);
    uint32_t t = l->notify;
    if (t == __atomic_load_n(&l->wait, __ATOMIC_SEQ_CST)) {
        unlock(&l->lock);
        return;
    }
    /* Ticket t is notified from now on, parked or not: a waiter that has
     * drawn t but not yet parked will see it and not park. */
    __atomic_store_n(&l->notify, t + 1, __ATOMIC_SEQ_CST);

    for (struct sudog *p = NULL, *s = l->head; s != NULL; p = s, s = s->next) {
        if (s->ticket != t)
            continue;
        struct sudog *n = s->next;
        if (p != NULL)
            p->next = n;
        else
            l->head = n;
        if (n == NULL)
            l->tail = p;
        unlock(&l->lock);
        s->next = NULL;
        goready(s->g);
        return;
    }
    unlock(&l->lock);
}

void notifylist_notify_one(struct notifylist *l)
{
    FOREIGN_CALL(notifylist_notify_one_(l));
}

