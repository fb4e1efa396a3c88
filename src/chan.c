/*
 * chan.c — channels: make, send, receive, close, len, cap.
 *
 * A channel is Go's hchan (chan.h): a lock, a ring buffer of dataqsiz slots,
 * and two FIFO queues of parked goroutines, recvq and sendq, each g
 * represented by a sudog that says where its value lives (sudog.elem,
 * usually a variable on the g's own stack).
 *
 * Invariants, all under c->lock:
 *   - recvq non-empty ⇒ the buffer is empty (a receiver parks only when it
 *     finds nothing, and every sender serves a parked receiver first);
 *   - sendq non-empty ⇒ the buffer is full (dataqsiz == 0: always "full");
 *   - closed ⇒ sendq and recvq are empty (close wakes everyone, and nobody
 *     parks on a closed channel); qcount can then only fall.
 *
 * Operations.  A send that finds a parked receiver copies its value straight
 * into the receiver's variable and readies it — one copy, and the receiver
 * wakes with the value in hand, never re-taking the lock.  Otherwise it
 * fills a free buffer slot, or parks with its sudog on sendq.  A receive is
 * the mirror image, with one twist for a full buffer with parked senders: it
 * takes the head of the ring and moves the first sender's value into the
 * freed slot, so FIFO order holds across buffer and queue.  A g that parks
 * is completed entirely by its partner; when it runs again it only reads
 * sudog.success (false: woken by close) and cleans up.  Stacks never move in
 * gort, so partners may write into each other's stacks freely; Go's
 * activeStackChans dance is kept only as a flag for the future.
 *
 * Parking and the lock.  A g must not be found in a queue before it is
 * really parked, or a partner could goready a running g.  So the lock taken
 * to enqueue is released by gopark's unlockf (chanparkcommit), which runs on
 * the next stack after the switch, when the g is already marked waiting.
 *
 * Fast paths without the lock.  A non-blocking operation that would not
 * proceed (select with a default on an empty or full channel) answers from
 * racy reads of `closed`, `qcount` and `first` of a wait queue: Go's
 * reasoning, kept here, is that each answer is true of some single instant
 * between the reads, because a closed channel never reopens and a closed
 * empty channel never refills.  Those fields are atomics stored with relaxed
 * order under the lock (plain moves on x86; they keep TSan and the C memory
 * model satisfied without a single locked instruction), and `closed` is
 * stored with release and loaded with acquire so that a reader that sees a
 * channel closed also sees how full it was when it closed.
 *
 * Memory.  makechan is the one place channels are allocated: one object on
 * the GC heap holding the header and the buffer, aligned to a cache line so
 * that the hot header is a single line.  A channel lives as long as anything
 * reaches it — a goroutine parked on it has it on its stack, so it cannot be
 * collected from under a waiter.  The element type is not known (the API
 * takes only a size), so the whole block is scanned conservatively: values
 * in the buffer keep what they point to alive, as in Go.  The sudogs on the
 * wait queues are not heap objects and point only at gs and at the
 * waiters' own element slots, which their stacks keep alive.  (c->buf
 * points into the channel itself, so a finalizer set on a channel never
 * runs: an object's contents are roots while it has one, as in Go.)
 *
 * Misuse panics with Go's messages: "send on closed channel" (also for a
 * sender parked when the channel is closed), "close of closed channel",
 * "close of nil channel", "makechan: size out of range".  Locks are always
 * released before panicking, so a recovered panic leaves the channel usable.
 */
#include "chan.h"
#include "malloc.h"

/* Go's maxAlloc on linux/amd64: the heap's address space, 2^48. */
#define MAX_ALLOC ((size_t)1 << 48)
/* The header's hot part must fit one line for the alignment to pay. */
_Static_assert(offsetof(struct gort_chan, buf) <= 64, "hchan hot fields exceed a cache line");

static struct gort_chan *makechan(size_t elem_size, size_t size)
{
    if (elem_size >= (1u << 16))
        throw("makechan: invalid channel element type");
    size_t mem;
    if (size > (size_t)PTRDIFF_MAX || __builtin_mul_overflow(elem_size, size, &mem) ||
        mem > MAX_ALLOC - HCHAN_SIZE)
        panic_plain("makechan: size out of range");

    /* Zeroed, as every heap object: a buffer slot never written reads as
     * the zero value and holds no stale pointer for the scan to follow. */
    struct gort_chan *c = mallocgc_lined(HCHAN_SIZE + mem);
    lock_init(&c->lock, LOCKRANK_HCHAN);
    c->elemsize = (uint32_t)elem_size;
    c->dataqsiz = size;
    c->buf = (char *)c + HCHAN_SIZE;
    return c;
}

gort_chan *gort_chan_make(size_t elem_size, size_t cap)
{
    return makechan(elem_size, cap);
}

/* gopark's unlockf for a single channel operation: the g is now switched
 * out and marked waiting, so partners may find it. */
static bool chanparkcommit(struct g *gp, void *chanlock)
{
    gp->activestackchans = true;
    unlock(chanlock);
    return true;
}

static NORETURN void block_forever(uint8_t reason)
{
    gopark(NULL, NULL, reason);
    throw("unreachable");
}

/* The blocking half of a send or receive: queues a sudog for the calling g
 * on q (c->lock held; gopark's commit releases it), parks, and returns
 * whether a partner completed the operation (false: close woke us). */
static bool chanwait(struct gort_chan *c, void *ep, struct waitq *q, uint8_t reason)
{
    struct g *gp = getg();
    struct sudog *mysg = acquire_sudog();
    mysg->releasetime = 0;
    mysg->elem = ep;
    mysg->waitlink = NULL;
    mysg->g = gp;
    mysg->isselect = false;
    mysg->c = c;
    gp->waiting = mysg;
    gp->param_sg = NULL;
    waitq_enqueue(q, mysg);
    gopark(chanparkcommit, &c->lock, reason);

    if (mysg != gp->waiting)
        throw("G waiting list is corrupted");
    gp->waiting = NULL;
    gp->activestackchans = false;
    gp->param_sg = NULL;
    bool success = mysg->success;
    mysg->c = NULL;
    release_sudog(mysg);
    return success;
}

bool chansend(struct gort_chan *c, const void *ep, bool block)
{
    if (c == NULL) {
        if (!block)
            return false;
        block_forever(WAIT_REASON_CHAN_SEND_NIL_CHAN);
    }

    /* Open and full: a select with a default would not send (racy reads,
     * see chan_nbsend_wouldblock). */
    if (!block && chan_nbsend_wouldblock(c))
        return false;

    lock(&c->lock);
    if (chan_closed_locked(c)) {
        unlock(&c->lock);
        panic_plain("send on closed channel");
    }

    struct sudog *sg = waitq_dequeue(&c->recvq);
    if (sg != NULL) {
        send_direct(c, sg, ep);
        unlock(&c->lock);
        chan_wake(sg, true);
        return true;
    }

    size_t q = chan_qcount(c);
    if (q < c->dataqsiz) {
        elemmove(chanbuf(c, c->sendx), ep, c->elemsize);
        if (++c->sendx == c->dataqsiz)
            c->sendx = 0;
        chan_set_qcount(c, q + 1);
        unlock(&c->lock);
        return true;
    }

    if (!block) {
        unlock(&c->lock);
        return false;
    }

    /* A receiver took the value, or close woke us (success == false). */
    bool closed = !chanwait(c, (void *)ep, &c->sendq, WAIT_REASON_CHAN_SEND);
    if (closed) {
        if (!atomic_load_explicit(&c->closed, memory_order_relaxed))
            throw("chansend: spurious wakeup");
        panic_plain("send on closed channel");
    }
    return true;
}

bool chanrecv(struct gort_chan *c, void *ep, bool block, bool *received)
{
    if (c == NULL) {
        if (!block) {
            *received = false;
            return false;
        }
        block_forever(WAIT_REASON_CHAN_RECEIVE_NIL_CHAN);
    }

    /* Nothing to receive, without the lock: see chan_nbrecv_wouldblock.
     * Seeing it closed and then empty means it was closed and drained at
     * the second read: ready, with the zero value. */
    if (!block && chan_empty(c)) {
        if (atomic_load_explicit(&c->closed, memory_order_acquire) == 0) {
            *received = false;
            return false;
        }
        if (chan_empty(c)) {
            if (ep != NULL)
                elemclr(ep, c->elemsize);
            *received = false;
            return true;
        }
    }

    lock(&c->lock);

    if (chan_closed_locked(c)) {
        if (chan_qcount(c) == 0) {
            unlock(&c->lock);
            if (ep != NULL)
                elemclr(ep, c->elemsize);
            *received = false;
            return true;
        }
        /* Closed but not drained: values still come out, below. */
    } else {
        struct sudog *sg = waitq_dequeue(&c->sendq);
        if (sg != NULL) {
            recv_direct(c, sg, ep);
            unlock(&c->lock);
            chan_wake(sg, true);
            *received = true;
            return true;
        }
    }

    size_t q = chan_qcount(c);
    if (q > 0) {
        char *qp = chanbuf(c, c->recvx);
        if (ep != NULL)
            elemmove(ep, qp, c->elemsize);
        /* Drop the slot's copy: the GC (conservative over buffers) must
         * not keep alive what the program has taken. */
        elemclr(qp, c->elemsize);
        if (++c->recvx == c->dataqsiz)
            c->recvx = 0;
        chan_set_qcount(c, q - 1);
        unlock(&c->lock);
        *received = true;
        return true;
    }

    if (!block) {
        unlock(&c->lock);
        *received = false;
        return false;
    }

    /* A sender gave us its value, or close zeroed *ep (success == false). */
    *received = chanwait(c, ep, &c->recvq, WAIT_REASON_CHAN_RECEIVE);
    return true;
}

void gort_chan_send(gort_chan *c, const void *elem)
{
    FOREIGN_CALL(chansend(c, elem, true));
}

bool gort_chan_recv(gort_chan *c, void *elem)
{
    bool received;
    FOREIGN_CALL(chanrecv(c, elem, true, &received));
    return received;
}

static void chan_close(gort_chan *c);

void gort_chan_close(gort_chan *c)
{
    FOREIGN_CALL(chan_close(c));
}

static void chan_close(gort_chan *c)
{
    if (c == NULL)
        panic_plain("close of nil channel");

    lock(&c->lock);
    if (chan_closed_locked(c)) {
        unlock(&c->lock);
        panic_plain("close of closed channel");
    }
    atomic_store_explicit(&c->closed, 1, memory_order_release);

    /* Collect every waiter, linked through g.schedlink (free while a g is
     * parked), and ready them after the unlock: goready may take the
     * scheduler's locks and wake Ms, which should not happen under ours. */
    struct g *glist = NULL, **tail = &glist;
    struct sudog *sg;
    while ((sg = waitq_dequeue(&c->recvq)) != NULL) {
        if (sg->elem != NULL) {
            elemclr(sg->elem, c->elemsize);
            sg->elem = NULL;
        }
        struct g *gp = sg->g;
        gp->param_sg = sg;
        sg->success = false;
        gp->schedlink = NULL;
        *tail = gp;
        tail = &gp->schedlink;
    }
    while ((sg = waitq_dequeue(&c->sendq)) != NULL) {
        sg->elem = NULL;
        struct g *gp = sg->g;
        gp->param_sg = sg;
        sg->success = false;
        gp->schedlink = NULL;
        *tail = gp;
        tail = &gp->schedlink;
    }
    unlock(&c->lock);

    while (glist != NULL) {
        struct g *gp = glist;
        glist = gp->schedlink;
        gp->schedlink = NULL;
        goready(gp);
    }
}

size_t gort_chan_len(gort_chan *c)
{
    if (c == NULL)
        return 0;
    return chan_qcount(c);
}

size_t gort_chan_cap(gort_chan *c)
{
    if (c == NULL)
        return 0;
    return c->dataqsiz;
}
