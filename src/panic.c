/*
 * panic.c — defer, panic, recover, and the reports that end the program.
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
 *   a panic    that no deferred call recovers: "panic: v" for each active
 *              panic, oldest first, then the panicking goroutine
 *              (GOTRACEBACK=all/system/crash: every goroutine).
 * All three exit with status 2; GOTRACEBACK=crash raises SIGABRT instead,
 * with the default action, so the shell sees 134 and a core may be written.
 *
 * Defer.  C has no unwinder, so a function that defers opens a frame
 * (gort_frame, GORT_FRAME in gort.h): a local with a setjmp landing pad,
 * linked on g->frames, closed by the cleanup attribute on every exit from
 * its scope.  gort_defer pushes a struct _defer on g->defers (innermost
 * first, across frames: Go's one chain per goroutine) naming its frame.
 * Closing a frame (Go's deferreturn) pops and runs the records of that
 * frame.  Records come from malloc: there is no collector yet to give Go's
 * per-P pools a reason, and glibc's thread cache makes a defer cost about a
 * setjmp plus two cache hits.
 *
 * Panic (Go 1.19's gopanic, the non-open-coded path).  gopanic pushes a
 * struct _panic on g->panic — it lives in gopanic's own frame, alive until
 * the panic ends — and runs the chain's records LIFO, each marked started
 * and owned by the panic running it.  A record found already started was
 * running when a newer panic began: the panic that started it is marked
 * aborted and the record dropped.  When a deferred call recovered,
 * recovery() drops this panic and any aborted ones below it, sets
 * g->frames back to the record's frame and longjmps to its landing pad:
 * the deferring function returns normally (running its remaining deferred
 * calls on the way out), as Go's recovery makes deferproc return 1.  Frames
 * and records above the landing pad were all finished, so the stack that
 * longjmp discards holds nothing the chains still point to.  Nothing
 * recovered: fatalpanic prints the chain and dies.
 *
 * Recover is legal only when called directly by the deferred function.  Go
 * compares argument pointers; we compare frame addresses: calldefer records
 * its own frame address in the panic (p->argp) before calling the deferred
 * function, and gort_recover() — a macro that passes its caller's frame
 * address — checks that the caller's saved frame pointer, i.e. its
 * caller's frame, is exactly that.  A helper called by the deferred
 * function sees one more frame in between; gort_recover used as the
 * deferred function itself sees one fewer.  This needs frame pointers in
 * the deferred function (gort.h requires them) and no tail call from the
 * deferred function to a helper that recovers (pkg-config's cflags turn
 * sibling calls off for that reason).
 *
 * Goexit pushes a goexit pseudo-panic (recover ignores it, the report does
 * not print it) and runs every record.  A panic in one of its deferred
 * calls that is recovered below that call would "bypass" the Goexit; as in
 * Go, the recovery then longjmps back into Goexit's loop instead, which
 * goes on with the next record.
 *
 * Panic values are gort_any: a type and a pointer (gort.h).  The values the
 * runtime makes — runtime errors, channel misuse, panic(nil) — are static
 * where they can be; formatted ones (gort_panicf, bounds errors) live in
 * the collected heap, since a recovered value may be dropped or kept for
 * as long as the program likes: while a panic runs, its struct _panic (on
 * this goroutine's stack, which the collector scans) keeps the text alive,
 * and after a recovery whoever holds the pointer does.
 *
 * The report.  Error() and String() run before anything is locked (Go's
 * preprintpanics), under a frame of their own, so a panic inside one is
 * "panic while printing panic value".  startpanic serialises reports: the
 * first m to die takes printlock (Go's paniclk) and keeps it until it
 * exits; an m that dies while another prints waits for the lock, prints
 * after it, and the last one out exits (`panicking` counts the reports in
 * progress; an m that finishes while another is still reporting parks
 * forever instead of exiting, as Go's dopanic_m does, so no report is cut
 * short).  m->dying counts how deep this m is: a second failure while its
 * report prints — a fault inside the traceback's symbolizer, say — must not
 * re-enter the traceback (it would wait for a lock this m holds), so it
 * prints its message, "panic during panic", and exits at once.
 *
 * m->throwing (THROW_USER for fatal, THROW_RUNTIME for throw) makes
 * gotraceback() force "all" and, for throw, level 2, as Go's does.
 */
#include "runtime.h"

#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* m->throwing values: why this m is dying (Go's throwType). */
enum {
    THROW_NONE = 0,
    THROW_USER = 1,    /* fatal(): user code's fault; GOTRACEBACK still applies */
    THROW_RUNTIME = 2, /* throw(): runtime corruption; level 2 */
};

/* One deferred call (Go's _defer).  malloc'ed; on g->defers, innermost
 * first; only the owning goroutine touches it. */
struct _defer {
    struct _defer *link;
    gort_frame *frame; /* the frame whose closing runs it */
    void (*fn)(void *);
    void *arg;             /* what fn gets: the caller's arg, or data */
    struct _panic *panic;  /* the panic (or Goexit) running it, or NULL */
    bool started;          /* a panic or Goexit has called it */
    size_t size;           /* bytes in data (gort_defer_copy) */
    max_align_t data[];
};

/* One active panic (Go's _panic).  Lives in gopanic's (or Goexit's) frame;
 * linked from g->panic, innermost first. */
struct _panic {
    struct _panic *link; /* the panic that was running when this one began */
    gort_any arg;        /* the value */
    uintptr_t argp;      /* frame address of the calldefer running its deferred call */
    char *text;          /* the value as printed, made by preprintpanics */
    bool recovered;      /* a deferred call recovered it */
    bool aborted;        /* a later panic started before this one finished */
    bool goexit;         /* Goexit's pseudo-panic: runs defers, never printed */
    bool repanicked;     /* recovered, then the same value panicked again (1.25) */
    bool reraised;       /* this is that re-panic: printed on the older line */
    jmp_buf *goexitpad;  /* goexit: where a recovery that bypasses it resumes */
};

_Atomic uint32_t panicking; /* reports in progress */

/* The dying depth of threads with no m (threads the runtime never saw). */
static _Atomic int32_t nom_dying;

static struct m *thism(void)
{
    struct g *gp = getg();
    return gp != NULL ? gp->m : NULL;
}

/* ---- panic values ------------------------------------------------------ */

const gort_type gort_string_type = {.name = "string", .kind = GORT_KIND_STRING};

/* Go's predeclared name of each basic kind.  A type whose name is its
 * kind's is that predeclared type (a Go type named like one, declared in a
 * package, would be "main.int"), and Go prints its values bare. */
static const char *const kindnames[] = {
    [GORT_KIND_BOOL] = "bool",         [GORT_KIND_INT] = "int",
    [GORT_KIND_INT8] = "int8",         [GORT_KIND_INT16] = "int16",
    [GORT_KIND_INT32] = "int32",       [GORT_KIND_INT64] = "int64",
    [GORT_KIND_UINT] = "uint",         [GORT_KIND_UINT8] = "uint8",
    [GORT_KIND_UINT16] = "uint16",     [GORT_KIND_UINT32] = "uint32",
    [GORT_KIND_UINT64] = "uint64",     [GORT_KIND_UINTPTR] = "uintptr",
    [GORT_KIND_FLOAT32] = "float32",   [GORT_KIND_FLOAT64] = "float64",
    [GORT_KIND_COMPLEX64] = "complex64", [GORT_KIND_COMPLEX128] = "complex128",
    [GORT_KIND_STRING] = "string",
};

static bool basickind(const gort_type *t)
{
    return t != NULL && t->kind > 0 && t->kind < sizeof kindnames / sizeof kindnames[0];
}

static bool predeclared(const gort_type *t)
{
    return basickind(t) && t->name != NULL && strcmp(t->name, kindnames[t->kind]) == 0;
}

/* Go's string type: the value is its text. */
static bool isstring(const gort_type *t)
{
    return t == &gort_string_type || (predeclared(t) && t->kind == GORT_KIND_STRING);
}

/* Go's printfloat (src/runtime/print.go), digit for digit: seven
 * significant digits, a signed three-digit exponent: +1.500000e+000. */
static int fmtfloat(char *buf, size_t size, double v)
{
    if (v != v)
        return snprintf(buf, size, "NaN");
    if (v + v == v && v > 0)
        return snprintf(buf, size, "+Inf");
    if (v + v == v && v < 0)
        return snprintf(buf, size, "-Inf");
    enum { N = 7 };
    char b[N + 7];
    b[0] = '+';
    int e = 0;
    if (v == 0) {
        if (1 / v < 0)
            b[0] = '-';
    } else {
        if (v < 0) {
            v = -v;
            b[0] = '-';
        }
        while (v >= 10) {
            e++;
            v /= 10;
        }
        while (v < 1) {
            e--;
            v *= 10;
        }
        double h = 5.0;
        for (int i = 0; i < N; i++)
            h /= 10;
        v += h;
        if (v >= 10) {
            e++;
            v /= 10;
        }
    }
    for (int i = 0; i < N; i++) {
        int d = (int)v;
        b[i + 2] = (char)(d + '0');
        v -= d;
        v *= 10;
    }
    b[1] = b[2];
    b[2] = '.';
    b[N + 2] = 'e';
    b[N + 3] = '+';
    if (e < 0) {
        e = -e;
        b[N + 3] = '-';
    }
    b[N + 4] = (char)(e / 100 + '0');
    b[N + 5] = (char)(e / 10 % 10 + '0');
    b[N + 6] = (char)(e % 10 + '0');
    return snprintf(buf, size, "%.*s", (int)sizeof b, b);
}

static int fmtcomplex(char *buf, size_t size, double re, double im)
{
    char r[32], i[32];
    fmtfloat(r, sizeof r, re);
    fmtfloat(i, sizeof i, im);
    return snprintf(buf, size, "(%si)", strcat(r, i));
}

/* A value of a basic kind other than string, as Go's print prints it. */
static int fmtbasic(const gort_type *t, const void *v, char *buf, size_t size)
{
    switch (t->kind) {
    case GORT_KIND_BOOL: return snprintf(buf, size, "%s", *(const bool *)v ? "true" : "false");
    case GORT_KIND_INT:
    case GORT_KIND_INT64: return snprintf(buf, size, "%" PRId64, *(const int64_t *)v);
    case GORT_KIND_INT8: return snprintf(buf, size, "%d", *(const int8_t *)v);
    case GORT_KIND_INT16: return snprintf(buf, size, "%d", *(const int16_t *)v);
    case GORT_KIND_INT32: return snprintf(buf, size, "%" PRId32, *(const int32_t *)v);
    case GORT_KIND_UINT:
    case GORT_KIND_UINT64: return snprintf(buf, size, "%" PRIu64, *(const uint64_t *)v);
    case GORT_KIND_UINT8: return snprintf(buf, size, "%u", *(const uint8_t *)v);
    case GORT_KIND_UINT16: return snprintf(buf, size, "%u", *(const uint16_t *)v);
    case GORT_KIND_UINT32: return snprintf(buf, size, "%" PRIu32, *(const uint32_t *)v);
    case GORT_KIND_UINTPTR: return snprintf(buf, size, "%" PRIuPTR, *(const uintptr_t *)v);
    case GORT_KIND_FLOAT32: return fmtfloat(buf, size, *(const float *)v);
    case GORT_KIND_FLOAT64: return fmtfloat(buf, size, *(const double *)v);
    case GORT_KIND_COMPLEX64: {
        const float *c = v; /* float _Complex: real, imaginary */
        return fmtcomplex(buf, size, c[0], c[1]);
    }
    case GORT_KIND_COMPLEX128: {
        const double *c = v;
        return fmtcomplex(buf, size, c[0], c[1]);
    }
    }
    return snprintf(buf, size, "?");
}

/* A panic value that needs no user code: nil, a basic kind, or "(T) addr"
 * (Go's printpanicval and printanycustomtype). */
static int fmtplain(const gort_any *v, char *buf, size_t size)
{
    const gort_type *t = v->type;
    if (t == NULL && v->value == NULL)
        return snprintf(buf, size, "nil");
    if (isstring(t))
        return snprintf(buf, size, "%s", (const char *)v->value);
    if (basickind(t) && t->kind == GORT_KIND_STRING)
        return snprintf(buf, size, "%s(\"%s\")", t->name, (const char *)v->value);
    if (predeclared(t))
        return fmtbasic(t, v->value, buf, size);
    if (basickind(t) && t->name != NULL) {
        char val[96];
        fmtbasic(t, v->value, val, sizeof val);
        if (t->kind == GORT_KIND_COMPLEX64 || t->kind == GORT_KIND_COMPLEX128)
            return snprintf(buf, size, "%s%s", t->name, val); /* has its parentheses */
        return snprintf(buf, size, "%s(%s)", t->name, val);
    }
    return snprintf(buf, size, "(%s) %p", t != NULL && t->name != NULL ? t->name : "unknown", v->value);
}

static int errstring(const void *v, char *buf, size_t size)
{
    return snprintf(buf, size, "runtime error: %s", (const char *)v);
}
static int plainstring(const void *v, char *buf, size_t size)
{
    return snprintf(buf, size, "%s", (const char *)v);
}
static int panicnilstring(const void *v, char *buf, size_t size)
{
    (void)v;
    return snprintf(buf, size, "panic called with nil argument");
}

/* runtime.errorString: "runtime error: " + the value (a const char *). */
static const gort_type errorstring_type = {
    .name = "runtime.errorString", .error = errstring, .runtime_error = true};
/* runtime.plainError: channel misuse; a runtime.Error without the prefix. */
static const gort_type plainerror_type = {
    .name = "runtime.plainError", .error = plainstring, .runtime_error = true};
static const gort_type panicnil_type = {
    .name = "*runtime.PanicNilError", .error = panicnilstring, .runtime_error = true};
static const char panicnil_value[] = "";

int gort_any_format(const gort_any *v, char *buf, size_t size)
{
    if (v == NULL)
        return snprintf(buf, size, "nil");
    if (v->type != NULL && v->type->error != NULL)
        return v->type->error(v->value, buf, size);
    if (v->type != NULL && v->type->string != NULL)
        return v->type->string(v->value, buf, size);
    return fmtplain(v, buf, size);
}

bool gort_is_runtime_error(const gort_any *v)
{
    return v != NULL && v->type != NULL && v->type->runtime_error;
}

static bool anyeq(gort_any a, gort_any b)
{
    return a.type == b.type && a.value == b.value;
}

/* ---- defer --------------------------------------------------------------- */

void gort_frame_open(gort_frame *f, void *fp)
{
    struct g *gp = getg();
    if (gp == NULL || gp->m == NULL || gp != gp->m->curg)
        throw("GORT_FRAME outside a goroutine");
    f->link = gp->frames;
    f->fp = fp;
    f->g = gp;
    f->closed = false;
    gp->frames = f;
}

/* The collector's view of the defer chain (mgcmark.c): records are
 * malloc'ed, so the pointer arguments they hold — often the only reference
 * to what the deferred call will use — are scanned as roots, each record
 * whole and conservatively.  The world is stopped. */
void gort_scan_defers(struct g *gp, void (*scan)(uintptr_t lo, uintptr_t hi))
{
    for (struct _defer *d = gp->defers; d != NULL; d = d->link)
        scan((uintptr_t)d, (uintptr_t)d->data + d->size);
}

static struct _defer *newdefer(void (*fn)(void *), size_t size, uintptr_t callerfp)
{
    struct g *gp = getg();
    gort_frame *f = gp != NULL ? gp->frames : NULL;
    if (f == NULL || (uintptr_t)f->fp != callerfp || f->g != gp)
        fatal("gort_defer outside a GORT_FRAME");
    struct _defer *d = malloc(sizeof *d + size);
    if (d == NULL)
        throw("defer: out of memory");
    d->frame = f;
    d->fn = fn;
    d->panic = NULL;
    d->started = false;
    d->size = size;
    d->link = gp->defers;
    gp->defers = d;
    return d;
}

/* The frame address of the function that called the caller of this
 * inline function's user: the saved rbp in our caller's frame record. */
#define CALLERFP() (((uintptr_t *)__builtin_frame_address(0))[0])

NOINLINE void gort_defer(void (*fn)(void *), void *arg)
{
    struct _defer *d = newdefer(fn, 0, CALLERFP());
    d->arg = arg;
}

NOINLINE void gort_defer_copy(void (*fn)(void *), const void *arg, size_t size)
{
    struct _defer *d = newdefer(fn, size, CALLERFP());
    if (size > 0)
        memcpy(d->data, arg, size);
    d->arg = size > 0 ? (void *)d->data : (void *)arg;
}

static NORETURN void panicmem(void);

/* Go's deferred nil func fails when it is called: loading the function
 * from the nil func value faults, so the report has the fault's line,
 * "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=...]".
 * gort checks rather than faults (a fault in the runtime is fatal) and
 * records the fault Go would have had, at its caller's pc. */
static NOINLINE NORETURN void panicnilfunc(void)
{
    struct g *gp = getg();
    gp->sig = SIGSEGV;
    gp->sigcode0 = SEGV_MAPERR;
    gp->sigcode1 = 0;
    gp->sigpc = (uintptr_t)__builtin_return_address(0);
    panicmem();
}

/* Calls d's function, recording this frame's address in *argp first: the
 * frame a direct recover's caller was called from.  Not inlined, not a
 * tail call (the build turns sibling calls off), so that frame exists. */
static NOINLINE void calldefer(void (*fn)(void *), void *arg, uintptr_t *argp)
{
    if (argp != NULL)
        *argp = (uintptr_t)__builtin_frame_address(0);
    if (fn == NULL)
        panicnilfunc();
    fn(arg);
    __asm__ volatile("" ::: "memory");
}

/* Runs a record popped by gort_frame_close: its copied argument moves to
 * this frame so that the record can be freed before the call (a panic in
 * the call must not find it, and a recovery must not leak it). */
static NOINLINE void runpopped(struct _defer *d)
{
    void (*fn)(void *) = d->fn;
    void *arg = d->arg;
    if (d->size > 0) {
        void *copy = __builtin_alloca(d->size);
        memcpy(copy, d->data, d->size);
        arg = copy;
    }
    free(d);
    calldefer(fn, arg, NULL);
}

/* Go's deferreturn, plus popping the frame.  Runs at every exit from the
 * frame's scope (and from GORT_RETURN; then again, as a no-op).  After a
 * recovery the landing pad returns, and this runs what is left. */
void gort_frame_close(gort_frame *f)
{
    if (f->closed)
        return;
    struct g *gp = getg();
    if (gp != f->g)
        throw("gort_frame_close: frame of another goroutine");
    for (;;) {
        struct _defer *d = gp->defers;
        if (d == NULL || d->frame != f)
            break;
        gp->defers = d->link;
        runpopped(d);
        gp = getg();
    }
    if (gp->frames == f)
        gp->frames = f->link;
    f->closed = true;
}

/* ---- panic and recover -------------------------------------------------- */

static NORETURN void fatalpanic(struct _panic *p);

/* Resumes the frame that deferred the call that recovered: it returns
 * normally from its landing pad. */
static NORETURN void recovery(struct g *gp, gort_frame *f)
{
    gp->frames = f;
    longjmp(f->landing, 1);
}

NOINLINE void gort_gopanic(gort_any v)
{
    struct g *gp = getg();
    struct m *mp = gp != NULL ? gp->m : NULL;
    if (v.type == NULL && v.value == NULL && !debug.panicnil)
        v = (gort_any){&panicnil_type, panicnil_value};
    if (mp == NULL || gp != mp->curg || mp->locks > 0) {
        /* Only a goroutine may panic, and not inside the runtime: Go's
         * gopanic checks.  Say what the panic was, then throw. */
        char buf[256];
        gort_any_format(&v, buf, sizeof buf);
        print("panic: %s\n", buf);
        throw(mp == NULL || gp != mp->curg ? "panic on system stack" : "panic holding locks");
    }
    struct _panic p = {.link = gp->panic, .arg = v};
    if (p.link != NULL && p.link->recovered && !p.link->goexit && anyeq(p.link->arg, v)) {
        p.link->repanicked = true;
        p.reraised = true;
    }
    gp->panic = &p;
    for (;;) {
        struct _defer *d = gp->defers;
        if (d == NULL)
            break;
        if (d->started) {
            /* Running when this panic began (it panicked): the panic or
             * Goexit that called it will not finish. */
            if (d->panic != NULL)
                d->panic->aborted = true;
            gp->defers = d->link;
            free(d);
            continue;
        }
        d->started = true;
        d->panic = &p;
        calldefer(d->fn, d->arg, &p.argp);
        gp = getg();
        if (gp->defers != d)
            throw("bad defer entry in panic");
        gort_frame *f = d->frame;
        gp->defers = d->link;
        free(d);
        if (p.recovered) {
            gp->panic = p.link;
            struct _panic *gx = gp->panic;
            if (gx != NULL && gx->goexit && gx->aborted) {
                /* A normal recovery would bypass the Goexit: go back to
                 * its loop instead. */
                longjmp(*gx->goexitpad, 1);
            }
            while (gp->panic != NULL && ((struct _panic *)gp->panic)->aborted)
                gp->panic = ((struct _panic *)gp->panic)->link;
            if (gp->panic == NULL)
                gp->sig = 0;
            recovery(gp, f);
        }
    }
    fatalpanic(gp->panic);
}

const gort_any *gort_recover_frame(void *callerfp)
{
    struct g *gp = getg();
    struct _panic *p = gp != NULL ? gp->panic : NULL;
    if (p == NULL || p->goexit || p->recovered || callerfp == NULL)
        return NULL;
    /* callerfp's frame record holds the frame pointer of whoever called
     * the caller: it must be calldefer's frame. */
    if (((uintptr_t *)callerfp)[0] != p->argp)
        return NULL;
    p->recovered = true;
    if (p->arg.type == NULL && p->arg.value == NULL)
        return NULL; /* GODEBUG=panicnil=1: panic(nil) recovers as nil */
    return &p->arg;
}

/* Go's Goexit: every deferred call, then the end of the goroutine (proc.c
 * calls this through gort_goexit_hook). */
static void goexit_defers(void)
{
    struct g *gp = getg();
    jmp_buf pad;
    struct _panic p = {.link = gp->panic, .goexit = true, .goexitpad = &pad};
    gp->panic = &p;
    if (setjmp(pad)) {
        /* A panic in the call we started was recovered below it: that
         * record is gone; go on with the next. */
        p.aborted = false;
        getg()->panic = &p;
    }
    for (;;) {
        struct g *gp = getg();
        struct _defer *d = gp->defers;
        if (d == NULL)
            break;
        if (d->started) {
            if (d->panic != NULL)
                d->panic->aborted = true;
            gp->defers = d->link;
            free(d);
            continue;
        }
        d->started = true;
        d->panic = &p;
        calldefer(d->fn, d->arg, &p.argp);
        gp = getg();
        if (gp->defers != d)
            throw("bad defer entry in Goexit");
        gp->defers = d->link;
        free(d);
    }
    gp = getg();
    gp->frames = NULL;
    gp->panic = NULL;
    gp->sig = 0;
}

extern void (*gort_goexit_hook)(void);
__attribute__((constructor)) static void panic_init(void)
{
    gort_goexit_hook = goexit_defers;
}

NOINLINE void gort_panic_value(const gort_type *type, const void *value)
{
    gort_gopanic((gort_any){type, value});
    __builtin_unreachable();
}

NOINLINE void gort_panic_any(gort_any v)
{
    gort_gopanic(v);
    __builtin_unreachable();
}

NOINLINE void gort_panic(const char *msg)
{
    gort_gopanic(msg != NULL ? (gort_any){&gort_string_type, msg} : (gort_any){NULL, NULL});
    __builtin_unreachable();
}

/* The text of a formatted panic value, in the collected heap: a recovered
 * value may be dropped at once or kept for ever, and only a collector can
 * tell which (a loop of gort_panicf and recover must not grow memory).
 * Pointer-free, so the collector never scans it. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    char *s = gort_malloc_noscan((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

NOINLINE void gort_panicf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    gort_gopanic((gort_any){&gort_string_type, s});
    __builtin_unreachable();
}

NOINLINE void panic_plain(const char *msg)
{
    gort_gopanic((gort_any){&plainerror_type, msg});
    __builtin_unreachable();
}

/* A runtime error with a fixed text: "runtime error: " + msg. */
NOINLINE void panic_error(const char *msg)
{
    gort_gopanic((gort_any){&errorstring_type, msg});
    __builtin_unreachable();
}

NOINLINE void panic_errorf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(fmt, ap);
    va_end(ap);
    gort_gopanic((gort_any){&errorstring_type, s});
    __builtin_unreachable();
}

static NOINLINE NORETURN void panicmem(void)
{
    panic_error("invalid memory address or nil pointer dereference");
}

void gort_panic_index(int64_t i, int64_t len)
{
    if (i < 0)
        panic_errorf("index out of range [%" PRId64 "]", i);
    panic_errorf("index out of range [%" PRId64 "] with length %" PRId64, i, len);
}

/* Go's goPanicSliceAlen and goPanicSliceAcap: the bound is a string's or
 * array's length, or a slice's capacity. */
static void slice_check(int64_t lo, int64_t hi, int64_t bound, const char *what)
{
    if (hi < 0 || hi > bound) {
        if (hi < 0)
            panic_errorf("slice bounds out of range [:%" PRId64 "]", hi);
        panic_errorf("slice bounds out of range [:%" PRId64 "] with %s %" PRId64, hi, what, bound);
    }
    if (lo < 0)
        panic_errorf("slice bounds out of range [%" PRId64 ":]", lo);
    if (lo > hi)
        panic_errorf("slice bounds out of range [%" PRId64 ":%" PRId64 "]", lo, hi);
}

void gort_slice_check(int64_t lo, int64_t hi, int64_t len) { slice_check(lo, hi, len, "length"); }

void gort_slice_cap_check(int64_t lo, int64_t hi, int64_t cap)
{
    slice_check(lo, hi, cap, "capacity");
}

/* ---- the report ----------------------------------------------------------- */

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
static void printindented(const char *msg)
{
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

static void printpanicval(const struct _panic *p)
{
    if (p->text != NULL) {
        printindented(p->text);
        return;
    }
    const gort_type *t = p->arg.type;
    if (isstring(t)) {
        printindented(p->arg.value);
        return;
    }
    if (basickind(t) && t->kind == GORT_KIND_STRING && t->name != NULL) {
        print("%s(\"", t->name);
        printindented(p->arg.value);
        print("\")");
        return;
    }
    /* Everything else without calling user code: a value whose methods
     * were not run (the report started on an odd path) is "(T) addr". */
    char buf[256];
    fmtplain(&p->arg, buf, sizeof buf);
    print("%s", buf);
}

/* The whole chain, oldest first. */
static void printpanics(struct _panic *p)
{
    if (p->link != NULL) {
        printpanics(p->link);
        if (p->reraised)
            return; /* printed as the older panic's "[recovered, repanicked]" */
        if (!p->link->goexit)
            print("\t");
    }
    if (p->goexit)
        return;
    print("panic: ");
    printpanicval(p);
    if (p->repanicked)
        print(" [recovered, repanicked]");
    else if (p->recovered)
        print(" [recovered]");
    print("\n");
}

/* "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]"
 * after the messages, when a signal started this. */
static void printsignal(struct g *gp)
{
    if (gp == NULL || gp->sig == 0)
        return;
    print("[signal %s code=0x%lx addr=0x%lx pc=0x%lx]\n", signame_desc(gp->sig),
          (unsigned long)gp->sigcode0, (unsigned long)gp->sigcode1, (unsigned long)gp->sigpc);
}

/* Go's preprintpanics deferred function: a panic inside Error() or String()
 * is a throw, whose report (level 2, every goroutine) shows where. */
static void catchprint(void *arg)
{
    (void)arg;
    const gort_any *r = gort_recover();
    if (r == NULL)
        return;
    char msg[512];
    if (isstring(r->type))
        snprintf(msg, sizeof msg, "panic while printing panic value: %s", (const char *)r->value);
    else
        snprintf(msg, sizeof msg, "panic while printing panic value: type %s",
                 r->type != NULL && r->type->name != NULL ? r->type->name : "unknown");
    throw(msg);
}

static NOINLINE void preprintloop(struct _panic *p)
{
    for (; p != NULL; p = p->link) {
        const gort_type *t = p->arg.type;
        if (p->goexit || p->text != NULL || t == NULL || isstring(t))
            continue;
        if (t->error == NULL && t->string == NULL)
            continue;
        char small[256];
        int n = gort_any_format(&p->arg, small, sizeof small);
        if (n < 0)
            n = 0;
        char *text = malloc((size_t)n + 1);
        if (text == NULL)
            continue;
        if ((size_t)n < sizeof small)
            memcpy(text, small, (size_t)n + 1);
        else
            gort_any_format(&p->arg, text, (size_t)n + 1);
        p->text = text;
    }
}

/* Go's preprintpanics: Error()/String() of every value, while nothing is
 * locked yet, under a frame that catches a panic inside them. */
static NOINLINE void preprintpanics(struct _panic *p)
{
    GORT_FRAME();
    gort_defer(catchprint, NULL);
    preprintloop(p);
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
NORETURN void crash(void)
{
    diefromsignal(SIGABRT);
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
 * Go's throw prints it, so it appears even if the report then hangs.  The
 * signal line follows when a signal is why (Go's dopanic_m prints it). */
NOINLINE void throw(const char *msg)
{
    print("fatal error: %s\n", msg);
    printsignal(getg());
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
    struct m *mp = thism();
    if (mp == NULL || mp->dying == 0)
        preprintpanics(msgs);
    if (!startpanic()) {
        printpanics(msgs);
        panic_during_panic();
    }
    printpanics(msgs);
    printsignal(gp);
    if (dopanic(gp))
        crash();
    _exit(2);
}
