/*
 * sema.h — the runtime's semaphores and notify lists (sema.c), the parking
 * layer under sync.c.
 *
 * A semaphore is any uint32_t in memory, usually a field of a user-visible
 * sync object: its value counts the wake-ups available.  semacquire takes
 * one, parking the goroutine until semrelease provides one; the table of
 * parked goroutines lives in sema.c, keyed by the semaphore's address, so
 * the object itself stays four bytes and needs no initialisation.
 *
 * A notify list is the ticket queue under sync.Cond: a waiter takes a
 * ticket with notifylist_add before it unlocks the user's mutex, then parks
 * with notifylist_wait unless its ticket was notified meanwhile; notify_one
 * wakes tickets in order, notify_all every ticket issued so far.
 */
#ifndef GORT_SEMA_H
#define GORT_SEMA_H

#include "runtime.h"

#define semacquire gort_semacquire
#define semacquire1 gort_semacquire1
#define semrelease gort_semrelease
#define semrelease1 gort_semrelease1
#define sema_nwait gort_sema_nwait

/* Takes one unit from *addr, parking with wait reason `reason` until one is
 * available.  lifo: queue at the head of addr's waiters (a mutex waiter that
 * was woken and lost the race goes back to the front).  Runs on a user g. */
void semacquire1(uint32_t *addr, bool lifo, uint8_t reason);
/* semacquire1(addr, false, WAIT_REASON_SEMACQUIRE). */
void semacquire(uint32_t *addr);
/* Adds one unit to *addr and wakes the first waiter, if any.  handoff: the
 * unit goes straight to that waiter, which then runs on this P in place of
 * the caller (the caller yields), so no third goroutine can barge in. */
void semrelease1(uint32_t *addr, bool handoff);
void semrelease(uint32_t *addr);
/* The number of goroutines parked on the root that addr hashes to (an upper
 * bound for addr itself).  For tests, as Go's SemNwait. */
uint32_t sema_nwait(uint32_t *addr);

/* One bucket of the semaphore table: a treap of the distinct addresses that
 * have waiters, ordered by address and heap-ordered by random priority.
 * Each treap node is the first sudog waiting on its address; the others hang
 * off it on a list (waitlink, with waittail in the head).  Exposed here only
 * so tests/unit can drive a private root. */
struct semaroot {
    struct mutex lock;       /* rank LOCKRANK_SEMAROOT; guards treap */
    struct sudog *treap;     /* root node; lock */
    _Atomic uint32_t nwait;  /* waiters in this root; changed under lock,
                                read without it by semrelease's fast path */
};
#define semaroot_queue gort_semaroot_queue
#define semaroot_dequeue gort_semaroot_dequeue
#define semaroot_check gort_semaroot_check
/* root->lock must be held.  Adds s, for the current g, to addr's waiters. */
void semaroot_queue(struct semaroot *root, uint32_t *addr, struct sudog *s, bool lifo);
/* root->lock must be held.  Removes and returns addr's first waiter, or NULL. */
struct sudog *semaroot_dequeue(struct semaroot *root, uint32_t *addr);
/* root->lock must be held.  Checks the treap's order, heap and link
 * invariants, throwing on the first broken one; returns the waiter count. */
uint32_t semaroot_check(struct semaroot *root);

/* A notify list: Go's notifyList, laid over the middle of gort_cond (sync.c
 * checks the offsets), so it may alias that struct's plain fields. */
struct notifylist {
    uint32_t wait;      /* next ticket to hand out; atomic */
    uint32_t notify;    /* next ticket to wake; written under lock, read atomically */
    struct mutex lock;  /* guards head, tail and writes of notify */
    struct sudog *head; /* parked waiters, ticket order except for races */
    struct sudog *tail; /* lock */
} __attribute__((may_alias));

#define notifylist_add gort_notifylist_add
#define notifylist_wait gort_notifylist_wait
#define notifylist_notify_all gort_notifylist_notify_all
#define notifylist_notify_one gort_notifylist_notify_one
/* Takes a ticket; call before releasing the lock the condition is under. */
uint32_t notifylist_add(struct notifylist *l);
/* Parks until ticket t is notified (returns at once if it already was). */
void notifylist_wait(struct notifylist *l, uint32_t t);
void notifylist_notify_all(struct notifylist *l);
void notifylist_notify_one(struct notifylist *l);

#endif /* GORT_SEMA_H */
