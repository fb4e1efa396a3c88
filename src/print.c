/*
 * print.c — the runtime's own printer: unbuffered writes to fd 2.
 *
 * Reports of fatal errors and panics must not allocate, must not take user
 * locks and must work from a signal handler, so this is not stdio: print()
 * formats into a small stack buffer and write(2)s it.  The format language is
 * the subset the runtime uses: %s %d %i %u %x %p %c %% with the l/ll/z length
 * modifiers, a width with '0' padding for %x/%d, and a precision for %s.
 *
 * The same formatter writes into a bounded buffer (struct printbuf) for
 * runtime.Stack: Go points g.writebuf at the user's slice and lets print()
 * append there; we pass the destination explicitly instead, so no g or m
 * field changes meaning behind a caller's back.  Text past the buffer's end
 * is dropped, as Go truncates to len(buf).
 *
 * printlock() serialises whole reports between threads.  It nests on one m
 * (a report printing a traceback takes it again), which a plain mutex cannot,
 * so it records its owner.
 */
#include "runtime.h"

#include <stdarg.h>
#include <unistd.h>

static _Atomic(struct m *) printowner; /* the m holding printlock, or NULL */
static int printdepth;                 /* nesting on the owner; owner only */

static struct m *self_m(void)
{
    struct g *gp = getg();
    return gp ? gp->m : NULL;
}

void printlock(void)
{
    struct m *mp = self_m();
    if (mp != NULL && atomic_load_explicit(&printowner, memory_order_relaxed) == mp) {
        printdepth++;
        return;
    }
    for (;;) {
        struct m *expect = NULL;
        if (atomic_compare_exchange_weak(&printowner, &expect, mp ? mp : (struct m *)1))
            break;
        osyield();
    }
    printdepth = 1;
}

void printunlock(void)
{
    if (--printdepth == 0)
        atomic_store(&printowner, NULL);
}

static void writeall(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(2, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Formatting stage: a chunk on the stack, flushed to fd 2 (dst == NULL)
 * or appended to dst. */
struct pbuf {
    char b[256];
    size_t n;
    struct printbuf *dst;
};

static void pflush(struct pbuf *pb)
{
    struct printbuf *d = pb->dst;
    if (d == NULL) {
        writeall(pb->b, pb->n);
    } else if (d->n < d->cap) {
        size_t k = d->cap - d->n < pb->n ? d->cap - d->n : pb->n;
        memcpy(d->buf + d->n, pb->b, k);
        d->n += k;
    }
    pb->n = 0;
}

static void pput(struct pbuf *pb, char c)
{
    if (pb->n == sizeof pb->b)
        pflush(pb);
    pb->b[pb->n++] = c;
}

static void pnum(struct pbuf *pb, uint64_t v, bool neg, unsigned base, int width, bool zero)
{
    char tmp[24];
    int i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (neg)
        width--;
    if (neg && zero)
        pput(pb, '-');
    for (int w = i; w < width; w++)
        pput(pb, zero ? '0' : ' ');
    if (neg && !zero)
        pput(pb, '-');
    while (i > 0)
        pput(pb, tmp[--i]);
}

void gort_vbprint(struct printbuf *dst, const char *fmt, va_list ap)
{
    struct pbuf pb;
    pb.n = 0;
    pb.dst = dst;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            pput(&pb, *f);
            continue;
        }
        f++;
        bool zero = false;
        int width = 0;
        if (*f == '0') {
            zero = true;
            f++;
        }
        while (*f >= '0' && *f <= '9')
            width = width * 10 + (*f++ - '0');
        int prec = -1; /* %.Ns / %.*s: at most N bytes of the string */
        if (*f == '.') {
            f++;
            prec = 0;
            if (*f == '*') {
                prec = va_arg(ap, int);
                f++;
            }
            while (*f >= '0' && *f <= '9')
                prec = prec * 10 + (*f++ - '0');
        }
        int lng = 0;
        while (*f == 'l' || *f == 'z') {
            lng++;
            f++;
        }
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "<nil>";
            for (int i = 0; *s && (prec < 0 || i < prec); i++)
                pput(&pb, *s++);
            break;
        }
        case 'd':
        case 'i': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            pnum(&pb, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, width, zero);
            break;
        }
        case 'u': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            pnum(&pb, v, false, 10, width, zero);
            break;
        }
        case 'x': {
            uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            pnum(&pb, v, false, 16, width, zero);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            pput(&pb, '0');
            pput(&pb, 'x');
            pnum(&pb, v, false, 16, 0, false);
            break;
        }
        case 'c':
            pput(&pb, (char)va_arg(ap, int));
            break;
        case '%':
            pput(&pb, '%');
            break;
        default:
            pput(&pb, '%');
            if (*f)
                pput(&pb, *f);
            else
                f--;
        }
    }
    pflush(&pb);
}

void gort_vprint(const char *fmt, va_list ap)
{
    gort_vbprint(NULL, fmt, ap);
}

void print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gort_vbprint(NULL, fmt, ap);
    va_end(ap);
}

void bprint(struct printbuf *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gort_vbprint(dst, fmt, ap);
    va_end(ap);
}
