/*
 * sigqueue.c — os/signal: relaying signals to channels (Go's sigqueue.go
 * and os/signal/signal.go).
 *
 * The handler must be async-signal-safe, so it only sets the signal's bit
 * in `pending` and bumps the futex word `sigwake`.  A runtime goroutine,
 * started by the first gort_signal_notify, sleeps on that word in a
 * blocking call (gort_syscall_enter, as Go's signal_recv sleeps in
 * notetsleepg: its m is lost to the scheduler meanwhile, and, as in Go, the
 * deadlock detector sees a running m and stays quiet from then on), takes
 * the pending bits, and sends each signal to every channel notified of it
 * with a non-blocking send: a full channel drops the signal (Go's
 * documented rule, so the handler and the relay never wait on a reader).
 *
 * Handlers (channel + signal mask) are a small array under `hlock`, a
 * gort_mutex: the relay holds it while it sends, so once gort_signal_stop
 * has taken and released it, no more values reach the stopped channel.
 * `wanted` is the union of the masks, read by the handler; a signal that
 * becomes wanted gets gort's handler installed, one that stops being
 * wanted goes back to its previous disposition (signal.c).
 *
 * Signals 32 and 33 are glibc's own (thread cancellation, setxid) and are
 * never touched; SIGKILL and SIGSTOP cannot be.
 */
#include "runtime.h"

#include <signal.h>
#include <stdlib.h>

#include "sigqueue.h"

enum { NSIGS = 65 };

static _Atomic uint64_t pending; /* bit sig: arrived, not yet relayed */
static _Atomic uint64_t wanted;  /* bit sig: some channel is notified */
static _Atomic uint32_t sigwake; /* bumped by the handler; the relay sleeps on it */

struct handler {
    gort_chan *c;
    uint64_t mask;
};
static gort_mutex hlock;
static struct handler *handlers; /* hlock */
static int nhandlers, caphandlers;
static bool relaying;            /* hlock: the relay goroutine exists */

bool sigqueue_wanted(int sig)
{
    return sig > 0 && sig < 64 && (atomic_load_explicit(&wanted, memory_order_acquire) >> sig) & 1;
}

void sigqueue_send(int sig)
{
    atomic_fetch_or(&pending, (uint64_t)1 << sig);
    atomic_fetch_add(&sigwake, 1);
    futexwakeup(&sigwake, 1);
}

static bool catchable(int sig)
{
    return sig > 0 && sig < 64 && sig != SIGKILL && sig != SIGSTOP && sig != 32 && sig != 33;
}

/* The relay: a system goroutine; never exits. */
static void relay(void *arg)
{
    (void)arg;
    struct g *gp = getg();
    /* gort_go made a user goroutine: make it a runtime one (hidden from
     * tracebacks below level 2 and from gort_num_goroutine). */
    gp->system = true;
    atomic_fetch_sub_explicit(&sched.ngoroutine, 1, memory_order_relaxed);
    for (;;) {
        uint32_t seq = atomic_load(&sigwake);
        uint64_t bits = atomic_exchange(&pending, 0);
        if (bits == 0) {
            gort_syscall_enter();
            futexsleep(&sigwake, seq, -1);
            gort_syscall_exit();
            continue;
        }
        gort_mutex_lock(&hlock);
        for (int sig = 1; sig < 64; sig++) {
            if (!((bits >> sig) & 1))
                continue;
            for (int i = 0; i < nhandlers; i++) {
                if (!((handlers[i].mask >> sig) & 1))
                    continue;
                int v = sig;
                gort_case cs = {.chan = handlers[i].c, .dir = GORT_SEND, .elem = &v};
                gort_select(&cs, 1, false); /* full: dropped */
            }
        }
        gort_mutex_unlock(&hlock);
    }
}

/* hlock held: recompute `wanted` and fix the dispositions that changed. */
static void update(void)
{
    uint64_t now = 0;
    for (int i = 0; i < nhandlers; i++)
        now |= handlers[i].mask;
    uint64_t before = atomic_load(&wanted);
    for (int sig = 1; sig < 64; sig++) {
        uint64_t bit = (uint64_t)1 << sig;
        if ((now & bit) && !(before & bit))
            signal_enable(sig);
    }
    atomic_store_explicit(&wanted, now, memory_order_release);
    for (int sig = 1; sig < 64; sig++) {
        uint64_t bit = (uint64_t)1 << sig;
        if (!(now & bit) && (before & bit))
            signal_disable(sig);
    }
}

static uint64_t maskof(const int *sigs, int nsig)
{
    uint64_t m = 0;
    if (nsig <= 0 || sigs == NULL) {
        for (int sig = 1; sig < 64; sig++)
            if (catchable(sig))
                m |= (uint64_t)1 << sig;
        return m;
    }
    for (int i = 0; i < nsig; i++)
        if (catchable(sigs[i]))
            m |= (uint64_t)1 << sigs[i];
    return m;
}

void gort_signal_notify(gort_chan *c, const int *sigs, int nsig)
{
    if (c == NULL)
        gort_panic("os/signal: Notify using nil channel");
    uint64_t m = maskof(sigs, nsig);
    gort_mutex_lock(&hlock);
    int i;
    for (i = 0; i < nhandlers && handlers[i].c != c; i++)
        ;
    if (i == nhandlers) {
        if (nhandlers == caphandlers) {
            int ncap = caphandlers ? caphandlers * 2 : 8;
            struct handler *nh = realloc(handlers, (size_t)ncap * sizeof *nh);
            if (nh == NULL)
                throw("signal: out of memory");
            handlers = nh;
            caphandlers = ncap;
        }
        handlers[nhandlers++] = (struct handler){c, 0};
    }
    handlers[i].mask |= m;
    bool start = !relaying;
    relaying = true;
    update();
    gort_mutex_unlock(&hlock);
    if (start)
        gort_go(relay, NULL, 0);
}

void gort_signal_stop(gort_chan *c)
{
    gort_mutex_lock(&hlock);
    for (int i = 0; i < nhandlers; i++) {
        if (handlers[i].c == c) {
            handlers[i] = handlers[--nhandlers];
            break;
        }
    }
    update();
    gort_mutex_unlock(&hlock);
}

/* Ignore and Reset both cancel notifications of their signals. */
static void cancel(uint64_t m)
{
    for (int i = 0; i < nhandlers; i++)
        handlers[i].mask &= ~m;
    for (int i = 0; i < nhandlers;) {
        if (handlers[i].mask == 0)
            handlers[i] = handlers[--nhandlers];
        else
            i++;
    }
    update();
}

void gort_signal_ignore(const int *sigs, int nsig)
{
    uint64_t m = maskof(sigs, nsig);
    gort_mutex_lock(&hlock);
    cancel(m);
    for (int sig = 1; sig < 64; sig++)
        if ((m >> sig) & 1)
            signal_ignore(sig);
    gort_mutex_unlock(&hlock);
}

void gort_signal_reset(const int *sigs, int nsig)
{
    uint64_t m = maskof(sigs, nsig);
    gort_mutex_lock(&hlock);
    cancel(m);
    for (int sig = 1; sig < 64; sig++)
        if ((m >> sig) & 1)
            signal_reset(sig);
    gort_mutex_unlock(&hlock);
}

bool gort_signal_ignored(int sig)
{
    return signal_is_ignored(sig);
}
