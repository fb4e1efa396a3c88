/*
 * select.c — Go's select over gort_case arrays (selectgo).
 *
 * gort_select first does what Go's compiler does: no cases is `select {}`,
 * one case is the plain channel operation (blocking, or non-blocking for a
 * select with a default) — so those pay nothing for select's machinery and
 * show the plain operation's wait reason.  Everything else goes to selectgo,
 * which runs in three passes:
 *
 *   order   Cases with a nil channel are dropped.  The rest get a random
 *           poll order (an inside-out Fisher–Yates shuffle, which is what
 *           makes the choice among ready cases uniform) and a lock order
 *           sorted by channel address.  A channel named in several cases
 *           appears several times in the lock order, side by side; it is
 *           locked and unlocked once.  Address order is what lets two
 *           selects over the same channels lock them without deadlock.
 *   pass 1  With every channel locked, take the first ready case in poll
 *           order, exactly as chan.c would (a parked partner first, then
 *           the buffer, then close), unlock all, done.  No case ready and
 *           not blocking: unlock, return -1.
 *   pass 2  Enqueue one sudog per case, in lock order, on the send or
 *           receive queue of its channel, chained on g->waiting in lock
 *           order, and park.  The unlockf (selparkcommit) unlocks the
 *           channels after the switch, walking g->waiting — never the case
 *           array, which is on the g's stack and dead as soon as the last
 *           lock is released and the g runs again elsewhere.
 *   pass 3  Woken: one partner won g->selectdone (0 → 1) with a CAS in
 *           waitq_dequeue, completed that sudog (copied the value, or found
 *           the channel closed) and put it in g->param_sg.  Lock everything
 *           again, reset selectdone, take every other sudog off its queue
 *           (a waker that lost the CAS may already have dropped it) and
 *           release them all.
 *
 * The order arrays are 2*ncases uint16 (Go caps a select at 65536 cases):
 * on the stack for small selects, malloc'd for big ones.
 *
 * Locks: the channel locks, all rank LOCKRANK_HCHAN, in address order;
 * acquire_sudog may take sched.sudoglock under them.
 */
#include "chan.h"

#include <stdlib.h>

#define SELECT_MAX_CASES 65536
#define SELECT_STACK_CASES 64

static void sellock(gort_case *cases, const uint16_t *lockorder, int n)
{
    struct gort_chan *c = NULL;
    for (int i = 0; i < n; i++) {
        struct gort_chan *c0 = cases[lockorder[i]].chan;
        if (c0 != c) {
            c = c0;
            lock(&c->lock);
        }
    }
}

/* Unlocks in reverse lock order, each channel once.  Used only by the g
 * that owns `cases`, so reading them between unlocks is safe. */
static void selunlock(gort_case *cases, const uint16_t *lockorder, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        struct gort_chan *c = cases[lockorder[i]].chan;
        if (i > 0 && c == cases[lockorder[i - 1]].chan)
            continue;
        unlock(&c->lock);
    }
}

/* gopark's unlockf for select: g->waiting lists the sudogs in lock order,
 * so a channel's sudogs are side by side.  Each channel is unlocked only
 * after its last sudog has been read: once it is unlocked a partner may take
 * those sudogs, and after the last unlock the g may already be running. */
static bool selparkcommit(struct g *gp, void *unused)
{
    (void)unused;
    gp->activestackchans = true;
    struct gort_chan *lastc = NULL;
    for (struct sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink) {
        if (sg->c != lastc && lastc != NULL)
            unlock(&lastc->lock);
        lastc = sg->c;
    }
    if (lastc != NULL)
        unlock(&lastc->lock);
    return true;
}

static inline uintptr_t sortkey(gort_case *cases, uint16_t i)
{
    return (uintptr_t)cases[i].chan;
}

/* Sorts lockorder[0..n) by channel address, starting from the poll order so
 * that cases on the same channel are also permuted.  Insertion sort for the
 * usual handful of cases; heap sort beyond, for n log n time in constant
 * space. */
static void sort_lockorder(gort_case *cases, const uint16_t *pollorder, uint16_t *lockorder,
                           int n)
{
    if (n <= 16) {
        for (int i = 0; i < n; i++) {
            uint16_t o = pollorder[i];
            uintptr_t k = sortkey(cases, o);
            int j = i;
            while (j > 0 && sortkey(cases, lockorder[j - 1]) > k) {
                lockorder[j] = lockorder[j - 1];
                j--;
            }
            lockorder[j] = o;
        }
        return;
    }
    for (int i = 0; i < n; i++) {
        int j = i;
        uint16_t o = pollorder[i];
        uintptr_t k = sortkey(cases, o);
        while (j > 0 && sortkey(cases, lockorder[(j - 1) / 2]) < k) {
            int p = (j - 1) / 2;
            lockorder[j] = lockorder[p];
            j = p;
        }
        lockorder[j] = o;
    }
    for (int i = n - 1; i >= 0; i--) {
        uint16_t o = lockorder[i];
        uintptr_t k = sortkey(cases, o);
        lockorder[i] = lockorder[0];
        int j = 0;
        for (;;) {
            int m = j * 2 + 1;
            if (m >= i)
                break;
            if (m + 1 < i && sortkey(cases, lockorder[m]) < sortkey(cases, lockorder[m + 1]))
                m++;
            if (k < sortkey(cases, lockorder[m])) {
                lockorder[j] = lockorder[m];
                j = m;
                continue;
            }
            break;
        }
        lockorder[j] = o;
    }
    if (GORT_DEBUG >= 2)
        for (int i = 0; i + 1 < n; i++)
            if (sortkey(cases, lockorder[i]) > sortkey(cases, lockorder[i + 1]))
                throw("select: broken sort");
}

/* The case index chosen, or -1 (only when !block).  On a send to a closed
 * channel it panics, after unlocking everything and freeing `order`. */
static int selectgo(gort_case *cases, uint16_t *order, int ncases, bool block, bool order_heap)
{
    uint16_t *pollorder = order;
    uint16_t *lockorder = order + ncases;
    int casi = -1;
    struct gort_chan *c;
    struct sudog *sg;

    int norder = 0;
    for (int i = 0; i < ncases; i++) {
        if (cases[i].chan == NULL)
            continue;
        if (unlikely(cases[i].dir != GORT_RECV && cases[i].dir != GORT_SEND))
            throw("select: invalid case direction");
        uint32_t j = fastrandn((uint32_t)norder + 1);
        pollorder[norder] = pollorder[j];
        pollorder[j] = (uint16_t)i;
        norder++;
    }
    if (norder == 0) {
        if (!block)
            return -1;
        /* Every channel is nil: Go parks with "select", forever. */
        gopark(NULL, NULL, WAIT_REASON_SELECT);
        throw("unreachable");
    }
    sort_lockorder(cases, pollorder, lockorder, norder);

    sellock(cases, lockorder, norder);

    /* pass 1: look for something ready */
    for (int i = 0; i < norder; i++) {
        casi = pollorder[i];
        gort_case *cas = &cases[casi];
        c = cas->chan;
        if (cas->dir == GORT_RECV) {
            sg = waitq_dequeue(&c->sendq);
            if (sg != NULL) {
                recv_direct(c, sg, cas->elem);
                selunlock(cases, lockorder, norder);
                chan_wake(sg, true);
                cas->ok = true;
                return casi;
            }
            size_t q = chan_qcount(c);
            if (q > 0) {
                char *qp = chanbuf(c, c->recvx);
                if (cas->elem != NULL)
                    elemmove(cas->elem, qp, c->elemsize);
                elemclr(qp, c->elemsize);
                if (++c->recvx == c->dataqsiz)
                    c->recvx = 0;
                chan_set_qcount(c, q - 1);
                selunlock(cases, lockorder, norder);
                cas->ok = true;
                return casi;
            }
            if (chan_closed_locked(c)) {
                selunlock(cases, lockorder, norder);
                if (cas->elem != NULL)
                    elemclr(cas->elem, c->elemsize);
                cas->ok = false;
                return casi;
            }
        } else {
            if (chan_closed_locked(c))
                goto sclose;
            sg = waitq_dequeue(&c->recvq);
            if (sg != NULL) {
                send_direct(c, sg, cas->elem);
                selunlock(cases, lockorder, norder);
                chan_wake(sg, true);
                return casi;
            }
            size_t q = chan_qcount(c);
            if (q < c->dataqsiz) {
                elemmove(chanbuf(c, c->sendx), cas->elem, c->elemsize);
                if (++c->sendx == c->dataqsiz)
                    c->sendx = 0;
                chan_set_qcount(c, q + 1);
                selunlock(cases, lockorder, norder);
                return casi;
            }
        }
    }

    if (!block) {
        selunlock(cases, lockorder, norder);
        return -1;
    }

    /* pass 2: enqueue on every channel, in lock order, and park */
    struct g *gp = getg();
    if (gp->waiting != NULL)
        throw("gp.waiting != nil");
    struct sudog **nextp = &gp->waiting;
    for (int i = 0; i < norder; i++) {
        gort_case *cas = &cases[lockorder[i]];
        sg = acquire_sudog();
        sg->g = gp;
        sg->isselect = true;
        sg->elem = cas->elem;
        sg->releasetime = 0;
        sg->c = cas->chan;
        *nextp = sg;
        nextp = &sg->waitlink;
        if (cas->dir == GORT_SEND)
            waitq_enqueue(&cas->chan->sendq, sg);
        else
            waitq_enqueue(&cas->chan->recvq, sg);
    }
    gp->param_sg = NULL;
    gopark(selparkcommit, NULL, WAIT_REASON_SELECT);
    gp->activestackchans = false;

    sellock(cases, lockorder, norder);
    atomic_store_explicit(&gp->selectdone, 0, memory_order_relaxed);
    struct sudog *won = gp->param_sg;
    gp->param_sg = NULL;

    /* pass 3: leave the queues of the cases that did not fire */
    for (struct sudog *s = gp->waiting; s != NULL; s = s->waitlink) {
        s->isselect = false;
        s->elem = NULL;
        s->c = NULL;
    }
    struct sudog *sglist = gp->waiting;
    gp->waiting = NULL;
    gort_case *cas = NULL;
    bool success = false;
    casi = -1;
    for (int i = 0; i < norder; i++) {
        gort_case *k = &cases[lockorder[i]];
        if (sglist == won) {
            casi = lockorder[i];
            cas = k;
            success = sglist->success;
        } else if (k->dir == GORT_SEND) {
            waitq_remove(&k->chan->sendq, sglist);
        } else {
            waitq_remove(&k->chan->recvq, sglist);
        }
        struct sudog *next = sglist->waitlink;
        sglist->waitlink = NULL;
        release_sudog(sglist);
        sglist = next;
    }
    if (cas == NULL)
        throw("selectgo: bad wakeup");

    if (cas->dir == GORT_SEND) {
        if (!success)
            goto sclose;
    } else {
        cas->ok = success;
    }
    selunlock(cases, lockorder, norder);
    return casi;

sclose:
    selunlock(cases, lockorder, norder);
    if (order_heap)
        free(order);
    panic_plain("send on closed channel");
}

/* Everything but the one-case non-blocking select that finds nothing: kept
 * out of line so that the fast answer below runs without a stack frame. */
static NOINLINE int select_slow(gort_case *cases, int ncases, bool block)
{
    if (ncases <= 1) {
        if (ncases <= 0) {
            if (!block)
                return -1;
            gopark(NULL, NULL, WAIT_REASON_SELECT_NO_CASES);
            throw("unreachable");
        }
        /* One case: the plain operation, as Go's compiler lowers it. */
        gort_case *cas = &cases[0];
        if (cas->dir == GORT_RECV) {
            bool received;
            if (!chanrecv(cas->chan, cas->elem, block, &received))
                return -1;
            cas->ok = received;
            return 0;
        }
        if (unlikely(cas->dir != GORT_SEND))
            throw("select: invalid case direction");
        return chansend(cas->chan, cas->elem, block) ? 0 : -1;
    }
    if (ncases > SELECT_MAX_CASES)
        throw("select: too many cases");

    if (ncases <= SELECT_STACK_CASES) {
        uint16_t order[2 * SELECT_STACK_CASES];
        return selectgo(cases, order, ncases, block, false);
    }
    uint16_t *order = malloc(2 * (size_t)ncases * sizeof(uint16_t));
    if (order == NULL)
        throw("out of memory");
    int r = selectgo(cases, order, ncases, block, true);
    free(order);
    return r;
}

int gort_select(gort_case *cases, int ncases, bool block)
{
    /* select { case ...: default: } polling a channel that is not ready is
     * the common non-blocking form; answer it without a lock or a call. */
    if (ncases == 1 && !block) {
        struct gort_chan *c = cases[0].chan;
        if (c == NULL)
            return -1;
        if (cases[0].dir == GORT_RECV ? chan_nbrecv_wouldblock(c) : chan_nbsend_wouldblock(c))
            return -1;
    }
    int r;
    FOREIGN_CALL(r = select_slow(cases, ncases, block));
    return r;
}
