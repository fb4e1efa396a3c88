/*
 * panic.c — panics, fatal errors and the report that ends the program.
 *
 * Three ways to die (Go's src/runtime/panic.go):
 *   throw(s)   the runtime is corrupt: "fatal error: s", then every
 *              goroutine with runtime frames and fp/sp/pc (level 2 whatever
 *              GOTRACEBACK says), preceded by "runtime stack:" when it
 *              happened on a thread's own stack (g0);
 *   fatal(s)   user code broke a rule it cannot recover from (deadlock,
 *              concurrent map writes, unlock of an unlocked mutex):
 *              "fatal error: s" and every user goroutine at the GOTRACEBACK
 *              level (none: the message alone);
 *   a panic    gort_panic / gort_panicf / panic_plain: "panic: msg" for each
 *              active panic, oldest first, then the panicking goroutine
 *              (GOTRACEBACK=all/system/crash: every goroutine).
 * All three exit with status 2; GOTRACEBACK=crash raises SIGABRT instead,
 * with the default action, so the shell sees 134 and a core may be written.
 *
 * Panics are a chain: g->panic points at the innermost active struct
 * _panic, each linking to the one that was running when it started (a
 * deferred call that panics while a panic unwinds).  This slice has no
 * defers, so a panic goes straight to fatalpanic; the defer/recover work
 * runs the deferred calls between pushing the panic and fatalpanic, marks
 * recovered/aborted entries, and printpanics already prints the whole chain
 * ("panic: first [recovered]" / "\tpanic: second").  A panic's message is
 * borrowed from the panicking frame, which is alive until the report ends;
 * recover will have to copy it.
 *
 * The report.  startpanic serialises reports: the first m to die takes
 * printlock (Go's paniclk) and keeps it until it exits; an m that dies while
 * another prints waits for the lock, prints after it, and the last one out
 * exits (`panicking` counts the reports in progress; an m that finishes
 * while another is still reporting parks forever instead of exiting, as
 * Go's dopanic_m does, so no report is cut short).  m->dying counts how deep
 * this m is: a second failure while its report prints — a fault inside the
 * traceback's symbolizer, say — must not re-enter the traceback (it would
 * wait for a lock this m holds), so it prints its message, "panic during
 * panic", and exits at once.
 *
 * m->throwing (THROW_USER for fatal, THROW_RUNTIME for throw) makes
 * gotraceback() force "all" and, for throw, level 2, as Go's does.
 *
 * None of this allocates, except the symbolizer in traceback.c on its first
 * use (see there).
 */
#include "runtime.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* m->throwing values: why this m is dying (Go's throwType). */
enum {
    THROW_NONE = 0,
    THROW_USER = 1,    /* fatal(): user code's fault; GOTRACEBACK still applies */
    THROW_RUNTIME = 2, /* throw(): runtime corruption; level 2 */
};

/* One active panic (Go's _panic).  Lives in the frame of the function that
 * panicked; linked from g->panic, innermost first. */
struct _panic {
    struct _panic *link; /* the panic that was running when this one began */
    const char *msg;     /* the value; NULL is panic(nil) */
    bool recovered;      /* a deferred call recovered it (then panicked anew) */
    bool aborted;        /* a later panic started before this one finished */
    bool goexit;         /* Goexit's pseudo-panic: runs defers, never printed */
};

_Atomic uint32_t panicking; /* reports in progress */

/* The dying depth of threads with no m (threads the runtime never saw). */
static _Atomic int32_t nom_dying;

static struct m *thism(void)
{
    struct g *gp = getg();
    return gp != NULL ? gp->m : NULL;
}

/* Go's gotraceback(): what this m's report shows. */
static void gotraceback(int *level, bool *all, bool *crash)
{
    struct m *mp = thism();
    int32_t throwing = mp != NULL ? mp->throwing : THROW_NONE;
    *crash = traceback_crash;
    *all = throwing >= THROW_USER || traceback_all;
    *level = throwing >= THROW_RUNTIME ? 2 : traceback_level;
}

/* Go's printpanicval for a string (1.23+): continuation lines of a
 * multi-line message are indented by a TAB. */
static void printpanicval(const char *msg)
{
    if (msg == NULL) {
        print("%s", debug.panicnil ? "nil" : "panic called with nil argument");
        return;
    }
    for (const char *s = msg; *s != '\0';) {
        const char *nl = strchr(s, '\n');
        if (nl == NULL) {
            print("%s", s);
            break;
        }
        print("%.*s\t", (int)(nl - s + 1), s);
        s = nl + 1;
    }
}

/* The whole chain, oldest first. */
static void printpanics(struct _panic *p)
{
    if (p->link != NULL) {
        printpanics(p->link);
        if (!p->link->goexit)
            print("\t");
    }
    if (p->goexit)
        return;
    print("panic: ");
    printpanicval(p->msg);
    if (p->recovered)
        print(" [recovered]");
    print("\n");
}

/* Begins this m's report.  Returns true when it may go on to print
 * tracebacks; false on a second failure during the report, which has then
 * printed "panic during panic" — the caller prints its own message and
 * exits. */
static bool startpanic(void)
{
    struct m *mp = thism();
    int32_t dying;
    if (mp != NULL)
        dying = mp->dying++;
    else
        dying = atomic_fetch_add(&nom_dying, 1);
    switch (dying) {
    case 0: {
        /* schedtrace takes sched.lock: not if this m may hold it already
         * (a throw under a runtime lock would wait for itself). */
        bool traceok = mp != NULL && mp->locks == 0;
        if (mp != NULL)
            mp->locks++; /* no preemption, no switch until we exit */
        atomic_fetch_add(&panicking, 1);
        printlock();
        if (traceok && (debug.schedtrace > 0 || debug.scheddetail > 0))
            schedtrace(true); /* Go prints the detailed form here, whatever scheddetail */
        return true;
    }
    case 1:
        return false;
    case 2:
        print("stack trace unavailable\n");
        _exit(4);
    default:
        _exit(5);
    }
}

static NORETURN void panic_during_panic(void)
{
    print("panic during panic\n");
    _exit(2);
}

/* Go's crash(): die by SIGABRT with its default action. */
static NORETURN void crash(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGABRT, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGABRT);
    _exit(2); /* the signal did not kill us (it cannot, but never return) */
}

/* Go's dopanic_m: the tracebacks, then release the report.  Returns
 * whether to crash.  Called by the entry points below, so that the
 * traceback's walk of this goroutine starts at them. */
static bool dopanic(struct g *gp)
{
    int level;
    bool all, docrash;
    gotraceback(&level, &all, &docrash);
    if (level > 0)
        traceback_goroutines(gp, all, level);
    printunlock();
    if (atomic_fetch_sub(&panicking, 1) != 1) {
        /* Another m is reporting too; it exits when it is done. */
        for (;;)
            pause();
    }
    return docrash;
}

static NORETURN void fatalthrow(int32_t type)
{
    struct g *gp = getg();
    struct m *mp = thism();
    if (mp != NULL && mp->throwing == THROW_NONE)
        mp->throwing = type;
    if (!startpanic())
        panic_during_panic();
    if (dopanic(gp))
        crash();
    _exit(2);
}

/* The message goes out before the report starts (and before any lock), as
 * Go's throw prints it, so it appears even if the report then hangs. */
NOINLINE void throw(const char *msg)
{
    print("fatal error: %s\n", msg);
    fatalthrow(THROW_RUNTIME);
}

NOINLINE void fatal(const char *msg)
{
    print("fatal error: %s\n", msg);
    fatalthrow(THROW_USER);
}

/* An unrecovered panic: the chain, then the tracebacks. */
static NORETURN void fatalpanic(struct _panic *msgs)
{
    struct g *gp = getg();
    if (!startpanic()) {
        printpanics(msgs);
        panic_during_panic();
    }
    printpanics(msgs);
    if (dopanic(gp))
        crash();
    _exit(2);
}

NOINLINE void panic_plain(const char *msg)
{
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;
    if (mp == NULL || gp != mp->curg || mp->locks > 0) {
        /* Only a goroutine may panic, and not inside the runtime: Go's
         * gopanic checks.  Say what the panic was, then throw. */
        print("panic: ");
        printpanicval(msg);
        print("\n");
        throw(mp == NULL || gp != mp->curg ? "panic on system stack" : "panic holding locks");
    }
    struct _panic p = {.link = gp->panic, .msg = msg};
    gp->panic = &p;
    /* The deferred calls run here once defer/recover exist. */
    fatalpanic(gp->panic);
}

NOINLINE void gort_panic(const char *msg)
{
    panic_plain(msg);
}

NOINLINE void gort_panicf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    panic_plain(buf);
}
