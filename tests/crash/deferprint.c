/* Port of Go's test/deferprint.go: deferring print and println.  The
 * deferred calls run last first, with the arguments they had at the defer
 * statement, and print as Go's print builtins do (to stderr, space
 * separated for println; a float as +1.500000e+000, a nil slice as
 * [0/0]0x0, nil chan, map and func values as 0x0).  deferprint.want holds
 * Go's deferprint.out. */
#include <gort.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One argument of print/println: a Go value of the kinds the test uses. */
struct goval {
    enum { INT, BOOL, FLOAT, STRING, POINTER, SLICE } kind;
    union {
        int64_t i;
        bool b;
        double f;
        const char *s;
        const void *p;
        struct {
            int64_t len, cap;
            const void *p;
        } slice;
    };
};
#define I(v) ((struct goval){.kind = INT, .i = (v)})
#define B(v) ((struct goval){.kind = BOOL, .b = (v)})
#define F(v) ((struct goval){.kind = FLOAT, .f = (v)})
#define S(v) ((struct goval){.kind = STRING, .s = (v)})
#define P(v) ((struct goval){.kind = POINTER, .p = (v)})
#define SL(p_, len_, cap_) ((struct goval){.kind = SLICE, .slice = {(len_), (cap_), (p_)}})

struct printargs {
    bool ln; /* println: spaces between, newline after */
    int n;
    struct goval v[20];
};

/* Go's printfloat for the values C's %e gets right: a sign always and a
 * three-digit exponent. */
static void fmtfloat(char *buf, size_t size, double f)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%+.6e", f);
    char *e = strchr(tmp, 'e');
    int exp = atoi(e + 1);
    *e = '\0';
    snprintf(buf, size, "%se%c%03d", tmp, exp < 0 ? '-' : '+', abs(exp));
}

static void goprint(void *arg)
{
    const struct printargs *a = arg;
    char line[512];
    size_t n = 0;
    for (int i = 0; i < a->n; i++) {
        const struct goval *v = &a->v[i];
        char buf[64];
        switch (v->kind) {
        case INT: snprintf(buf, sizeof buf, "%ld", (long)v->i); break;
        case BOOL: snprintf(buf, sizeof buf, "%s", v->b ? "true" : "false"); break;
        case FLOAT: fmtfloat(buf, sizeof buf, v->f); break;
        case STRING: snprintf(buf, sizeof buf, "%s", v->s); break;
        case POINTER: snprintf(buf, sizeof buf, "0x%lx", (unsigned long)(uintptr_t)v->p); break;
        case SLICE:
            snprintf(buf, sizeof buf, "[%ld/%ld]0x%lx", (long)v->slice.len, (long)v->slice.cap,
                     (unsigned long)(uintptr_t)v->slice.p);
            break;
        }
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", a->ln && i > 0 ? " " : "", buf);
    }
    if (a->ln)
        snprintf(line + n, sizeof line - n, "\n");
    fputs(line, stderr);
}

#define DEFER_PRINT(ln_, ...)                                                            \
    do {                                                                                 \
        struct printargs a_ = {(ln_), sizeof((struct goval[]){__VA_ARGS__}) /           \
                                          sizeof(struct goval),                          \
                               {__VA_ARGS__}};                                           \
        gort_defer_copy(goprint, &a_, sizeof a_);                                        \
    } while (0)

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    GORT_FRAME(1);
    unsigned char b = 255; /* byte(255) */
    DEFER_PRINT(true, I(42), B(true), B(false), B(true), F(1.5), S("world"),
                P(NULL) /* (chan int)(nil) */, SL(NULL, 0, 0) /* []int(nil) */,
                P(NULL) /* (map[string]int)(nil) */, P(NULL) /* (func())(nil) */, I(b));
    DEFER_PRINT(true, I(1), I(2), I(3), I(4), I(5), I(6), I(7), I(8), I(9), I(10), I(11), I(12),
                I(13), I(14), I(15), I(16), I(17), I(18), I(19), I(20));
    /* Disabled so the test doesn't crash but left here for reference.
     * DEFER_PANIC("dead") */
    DEFER_PRINT(false, S("printing: "));
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
