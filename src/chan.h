/*
 * chan.h — the channel record and the pieces of the channel protocol that
 * chan.c (single operations) and select.c (selectgo) share.
 *
 * See chan.c for the design; this header holds only what both files touch:
 * the hchan layout, the wait queues, and the hand-off steps that move a value
 * to or from a parked g.  The hand-off steps are inline because they sit on
 * the ping-pong path, where a call and its spills are a visible share of the
 * ~40 ns a hand-off costs.
 */
#ifndef GORT_CHAN_H
#define GORT_CHAN_H

#include "runtime.h"

/* A FIFO of sudogs, doubly linked through sudog.next/prev.  A sudog that has
 * been taken off (by dequeue or waitq_remove) has next == prev == NULL and is
 * not q->first, which is how waitq_remove recognises one that a waker already
 * took.  Protected by the channel's lock; `first` is also read without it
 * (the non-blocking fast paths ask only "is anyone waiting?"), so it is
 * atomic, stored with relaxed order under the lock. */
struct waitq {
    struct sudog *_Atomic first;
    struct sudog *last;
};

/* A channel (Go's hchan).  The first 64 bytes hold everything an unbuffered
 * hand-off touches; the ring indices, used only by buffered channels, follow.
 * The buffer itself comes right after the header (HCHAN_SIZE), in the same
 * allocation, so a buffered operation touches one more line at most. */
struct gort_chan {
    struct mutex lock; /* rank LOCKRANK_HCHAN; guards every mutable field */
    /* 0 open, 1 closed; set once under lock (release order), read without it
     * by the fast paths (acquire), so that whoever sees 1 also sees the
     * qcount the channel had when it was closed. */
    _Atomic uint32_t closed;
    uint32_t elemsize; /* < 65536; immutable */
    /* Values in the buffer.  Written under lock (relaxed stores: never a
     * read-modify-write, there is only one writer at a time); read without
     * it by the fast paths and by gort_chan_len. */
    _Atomic size_t qcount;
    size_t dataqsiz;    /* buffer capacity in elements; immutable */
    struct waitq recvq; /* gs blocked receiving; a non-empty recvq means qcount == 0 */
    struct waitq sendq; /* gs blocked sending; non-empty means the buffer is full */
    char *buf;          /* dataqsiz slots of elemsize bytes; immutable */
    size_t sendx;       /* next slot to fill; lock */
    size_t recvx;       /* next slot to drain; lock */
};

/* Header size: a multiple of 16, so that the buffer after it is aligned for
 * any C object (malloc's guarantee, which users will assume). */
#define HCHAN_SIZE ((sizeof(struct gort_chan) + 15) & ~(size_t)15)

#define chansend gort_chansend
#define chanrecv gort_chanrecv
/* Sends *ep on c.  block == false: returns false instead of blocking (and
 * never parks).  c == NULL blocks forever.  Panics on a closed channel. */
bool chansend(struct gort_chan *c, const void *ep, bool block);
/* Receives from c into ep (which may be NULL).  Returns whether the
 * operation completed (only block == false can return false); *received
 * says whether a value was received (false: c is closed and drained, *ep
 * was zeroed). */
bool chanrecv(struct gort_chan *c, void *ep, bool block, bool *received);

static inline char *chanbuf(struct gort_chan *c, size_t i)
{
    return c->buf + i * c->elemsize;
}

static inline size_t chan_qcount(struct gort_chan *c)
{
    return atomic_load_explicit(&c->qcount, memory_order_relaxed);
}

static inline void chan_set_qcount(struct gort_chan *c, size_t n)
{
    atomic_store_explicit(&c->qcount, n, memory_order_relaxed);
}

static inline bool chan_closed_locked(struct gort_chan *c)
{
    return atomic_load_explicit(&c->closed, memory_order_relaxed) != 0;
}

/* Is there no room for a send?  Racy: see chan.c's essay. */
static inline bool chan_full(struct gort_chan *c)
{
    if (c->dataqsiz == 0)
        return atomic_load_explicit(&c->recvq.first, memory_order_acquire) == NULL;
    return atomic_load_explicit(&c->qcount, memory_order_acquire) == c->dataqsiz;
}

/* Is there nothing to receive?  Racy: see chan.c's essay. */
static inline bool chan_empty(struct gort_chan *c)
{
    if (c->dataqsiz == 0)
        return atomic_load_explicit(&c->sendq.first, memory_order_acquire) == NULL;
    return atomic_load_explicit(&c->qcount, memory_order_acquire) == 0;
}

/* True when a non-blocking send on c (not nil) surely cannot proceed: open
 * and full.  If it was closed between the two reads, it was still open and
 * full at the first, and closing does not make a channel ready for a send
 * in between, so the answer held at one instant. */
static inline bool chan_nbsend_wouldblock(struct gort_chan *c)
{
    return atomic_load_explicit(&c->closed, memory_order_relaxed) == 0 && chan_full(c);
}

/* True when a non-blocking receive on c (not nil) surely cannot proceed:
 * empty, then open.  The order matters (TestNonblockRecvRace): seeing it
 * open after seeing it empty means it was open and empty at the first read,
 * as a channel never reopens.  The reverse order could see "open" just
 * before a close and "empty" just after the last value was drained. */
static inline bool chan_nbrecv_wouldblock(struct gort_chan *c)
{
    return chan_empty(c) && atomic_load_explicit(&c->closed, memory_order_acquire) == 0;
}

/* Element copies.  Sizes are known only at run time; the common word-sized
 * cases are spelled out so they compile to a single move. */
static inline void elemmove(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 0:
        return;
    case 4:
        memcpy(dst, src, 4);
        return;
    case 8:
        memcpy(dst, src, 8);
        return;
    case 16:
        memcpy(dst, src, 16);
        return;
    default:
        memmove(dst, src, n);
    }
}

static inline void elemclr(void *dst, size_t n)
{
    switch (n) {
    case 0:
        return;
    case 8:
        memset(dst, 0, 8);
        return;
    default:
        memset(dst, 0, n);
    }
}

static inline void waitq_enqueue(struct waitq *q, struct sudog *sg)
{
    sg->next = NULL;
    struct sudog *x = q->last;
    sg->prev = x;
    q->last = sg;
    if (x == NULL)
        atomic_store_explicit(&q->first, sg, memory_order_relaxed);
    else
        x->next = sg;
}

/* Takes the first sudog that may still be completed.  A sudog of a g in a
 * select is completed only by whoever flips that g's selectdone from 0 to 1;
 * the losers' sudogs are dropped here and removed from their other queues
 * by the select itself (pass 3 of selectgo). */
static inline struct sudog *waitq_dequeue(struct waitq *q)
{
    for (;;) {
        struct sudog *sg = atomic_load_explicit(&q->first, memory_order_relaxed);
        if (sg == NULL)
            return NULL;
        struct sudog *y = sg->next;
        if (y == NULL) {
            atomic_store_explicit(&q->first, NULL, memory_order_relaxed);
            q->last = NULL;
        } else {
            y->prev = NULL;
            atomic_store_explicit(&q->first, y, memory_order_relaxed);
            sg->next = NULL;
        }
        if (sg->isselect) {
            uint32_t zero = 0;
            if (!atomic_compare_exchange_strong_explicit(&sg->g->selectdone, &zero, 1,
                                                         memory_order_relaxed,
                                                         memory_order_relaxed))
                continue;
        }
        return sg;
    }
}

/* Unlinks sg from q if it is still there (Go's dequeueSudoG). */
static inline void waitq_remove(struct waitq *q, struct sudog *sg)
{
    struct sudog *x = sg->prev, *y = sg->next;
    if (x != NULL) {
        if (y != NULL) {
            x->next = y;
            y->prev = x;
            sg->next = NULL;
            sg->prev = NULL;
            return;
        }
        x->next = NULL;
        q->last = x;
        sg->prev = NULL;
        return;
    }
    if (y != NULL) {
        y->prev = NULL;
        atomic_store_explicit(&q->first, y, memory_order_relaxed);
        sg->next = NULL;
        return;
    }
    /* Neither neighbour: the only element, or already taken by a waker. */
    if (atomic_load_explicit(&q->first, memory_order_relaxed) == sg) {
        atomic_store_explicit(&q->first, NULL, memory_order_relaxed);
        q->last = NULL;
    }
}

/* A sender found receiver sg parked on c (so the buffer is empty): the value
 * goes straight into the receiver's variable, which may be on its stack —
 * stacks never move here, so no barrier or pinning is needed.
 * c->lock must be held; the caller unlocks, then calls chan_wake. */
static inline void send_direct(struct gort_chan *c, struct sudog *sg, const void *ep)
{
    if (sg->elem != NULL) {
        elemmove(sg->elem, ep, c->elemsize);
        sg->elem = NULL;
    }
}

/* A receiver found sender sg parked on c.  Unbuffered: take the sender's
 * value directly.  Buffered (then the buffer is full): take the head of the
 * buffer and put the sender's value at the tail — which is the same slot,
 * so the ring only rotates.  c->lock must be held; the caller unlocks, then
 * calls chan_wake. */
static inline void recv_direct(struct gort_chan *c, struct sudog *sg, void *ep)
{
    size_t n = c->elemsize;
    if (c->dataqsiz == 0) {
        if (ep != NULL)
            elemmove(ep, sg->elem, n);
    } else {
        char *qp = chanbuf(c, c->recvx);
        if (ep != NULL)
            elemmove(ep, qp, n);
        elemmove(qp, sg->elem, n);
        if (++c->recvx == c->dataqsiz)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    sg->elem = NULL;
}

/* Readies the g of a sudog taken off a queue.  Runs after the channel lock
 * is released (the g cannot run before goready, and it owns sg, so touching
 * both without the lock is safe) so the woken g does not find the lock held
 * when it runs at once on another P. */
static inline void chan_wake(struct sudog *sg, bool success)
{
    struct g *gp = sg->g;
    sg->success = success;
    gp->param_sg = sg;
    goready(gp);
}

#endif /* GORT_CHAN_H */
