/*
 * crashcheck — runs a crash-test program and matches what it printed and
 * how it died against a want file (Go's crash_test.go, as a tool).
 *
 *     crashcheck WANTFILE CASE PROGRAM
 *
 * A want file holds several cases, each introduced by a line "=== NAME".
 * Lines before the first case are a free-form header.  A case reads:
 *
 *     === name
 *     # comment lines and blank lines are allowed before the first section
 *     args: a b c        argv[1..] for PROGRAM (default: the case name alone)
 *     env: K=V           zero or more; added to the environment
 *     status: 2          the exit status (default 0), or
 *     signal: ABRT       death by that signal (name with or without SIG, or a number)
 *     stderr:
 *     panic: boom        the expected stderr, one fnmatch(3) pattern a line
 *     ...
 *     stdout:            optional, matched the same way
 *
 * A section runs until the next "stderr:"/"stdout:" line, the next "===" or
 * the end of the file.  A section that is absent is not checked.  Matching is
 * line by line: a want line matches an actual line equal to it, or one
 * that fnmatch(pattern, line, 0) accepts.  So `*` and `?` glob, and `[`
 * starts a class; a line that globs writes a literal bracket as `\[`
 * ("goroutine * \[sleep]:"), a line without globs is just the text.
 * A line that is exactly "..." matches zero or more actual lines; the
 * match is greedy and backtracks, and every actual line must be accounted
 * for, so a want that allows a tail ends with "...".  Trailing blank lines of a want section are
 * ignored (they are how cases are separated in practice).
 *
 * Why a matcher with backtracking rather than a regex over the whole text:
 * tracebacks vary in depth (inlining, library frames) but their shape does
 * not, and a want file that reads like the output it expects is the point.
 * The memo table keeps the backtracking polynomial: a (want line, actual
 * line) pair that failed once fails again.
 *
 * The environment is made deterministic before the case's env: lines are
 * applied: GOTRACEBACK and GODEBUG from the caller are removed, so a test run
 * under a developer's GOTRACEBACK=all still sees the defaults.
 *
 * The child gets 60 seconds; after that it is killed with SIGKILL and the
 * case fails.  Exit status: 0 match, 1 mismatch, 2 usage or I/O error.
 * Plain C and POSIX only: this is the tool that judges the runtime, so it
 * must not depend on it.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TIMEOUT_SECONDS
#define TIMEOUT_SECONDS 60
#endif

extern char **environ;

/* A growable array of owned strings. */
struct lines {
    char **v;
    size_t n, cap;
};

/* One case of the want file. */
struct wantcase {
    struct lines args;   /* argv[1..]; empty: argv[1] = case name */
    bool have_args;
    struct lines env;    /* K=V strings */
    int status;          /* expected exit status, when signo == 0 */
    int signo;           /* expected fatal signal, or 0 */
    bool have_stderr, have_stdout;
    struct lines stderr_want, stdout_want;
};

/* A child's captured run. */
struct result {
    char *out, *err; /* NUL-terminated */
    size_t outlen, errlen;
    int status;      /* wait status */
    bool timedout;
};

static const char *prog = "crashcheck";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void lines_push(struct lines *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

/* Splits text into lines; a final line without '\n' still counts, a final
 * '\n' does not start an empty line. */
static void split_lines(const char *text, size_t len, struct lines *out)
{
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        lines_push(out, xstrndup(text + i, end - i));
        i = end + 1;
    }
}

static char *read_file(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? 2 * cap : 8192;
            buf = xrealloc(buf, cap);
        }
        size_t r = fread(buf + len, 1, cap - len - 1, f);
        if (r == 0)
            break;
        len += r;
    }
    if (ferror(f))
        die("%s: read error", path);
    fclose(f);
    buf = xrealloc(buf, len + 1);
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

static const struct {
    const char *name;
    int signo;
} signames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"SYS", SIGSYS},
};

static int parse_signal(const char *s)
{
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++)
        if (strcmp(s, signames[i].name) == 0)
            return signames[i].signo;
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v <= 0 || v >= 65)
        die("bad signal: %s", s);
    return (int)v;
}

static const char *signal_name(int signo)
{
    for (size_t i = 0; i < sizeof signames / sizeof signames[0]; i++)
        if (signames[i].signo == signo)
            return signames[i].name;
    return "?";
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool has_key(const char *line, const char *key, const char **value)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return false;
    *value = skip_space(line + n);
    return true;
}

/* Finds case `name` in the want file and parses it. */
static void parse_want(const char *path, const char *name, struct wantcase *wc)
{
    size_t len;
    char *text = read_file(path, &len);
    struct lines all = {0};
    split_lines(text, len, &all);
    free(text);

    size_t i = 0;
    for (; i < all.n; i++) {
        const char *v;
        if (has_key(all.v[i], "===", &v) && strcmp(v, name) == 0)
            break;
    }
    if (i == all.n)
        die("%s: no case \"%s\"", path, name);

    memset(wc, 0, sizeof *wc);
    struct lines *section = NULL; /* NULL: in the header lines */
    for (i++; i < all.n; i++) {
        const char *line = all.v[i], *v;
        if (strncmp(line, "===", 3) == 0)
            break;
        if (strcmp(line, "stderr:") == 0) {
            section = &wc->stderr_want;
            wc->have_stderr = true;
        } else if (strcmp(line, "stdout:") == 0) {
            section = &wc->stdout_want;
            wc->have_stdout = true;
        } else if (section != NULL) {
            lines_push(section, xstrndup(line, strlen(line)));
        } else if (line[0] == '\0' || line[0] == '#') {
            continue;
        } else if (has_key(line, "args:", &v)) {
            wc->have_args = true;
            char *copy = xstrndup(v, strlen(v)), *save = NULL;
            for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                lines_push(&wc->args, xstrndup(w, strlen(w)));
            free(copy);
        } else if (has_key(line, "env:", &v)) {
            if (strchr(v, '=') == NULL)
                die("%s: case %s: env needs K=V: %s", path, name, line);
            lines_push(&wc->env, xstrndup(v, strlen(v)));
        } else if (has_key(line, "status:", &v)) {
            char *end;
            wc->status = (int)strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0')
                die("%s: case %s: bad status: %s", path, name, line);
        } else if (has_key(line, "signal:", &v)) {
            wc->signo = parse_signal(v);
        } else {
            die("%s: case %s: unknown line: %s", path, name, line);
        }
    }
    for (struct lines *l = &wc->stderr_want; l != NULL;
         l = l == &wc->stderr_want ? &wc->stdout_want : NULL)
        while (l->n > 0 && skip_space(l->v[l->n - 1])[0] == '\0')
            free(l->v[--l->n]);
    for (size_t k = 0; k < all.n; k++)
        free(all.v[k]);
    free(all.v);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sink {
    int fd;
    char *buf;
    size_t len, cap;
};

static void drain(struct sink *s)
{
    if (s->cap - s->len < 4096) {
        s->cap = s->cap ? 2 * s->cap : 16384;
        s->buf = xrealloc(s->buf, s->cap);
    }
    ssize_t r = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
    if (r > 0) {
        s->len += (size_t)r;
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(s->fd);
        s->fd = -1;
    }
}

static void run(const char *program, const char *casename, const struct wantcase *wc,
                struct result *res)
{
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));

    size_t argc = wc->have_args ? wc->args.n + 1 : 2;
    char **argv = xrealloc(NULL, (argc + 1) * sizeof *argv);
    argv[0] = (char *)program;
    if (wc->have_args)
        memcpy(argv + 1, wc->args.v, wc->args.n * sizeof *argv);
    else
        argv[1] = (char *)casename;
    argv[argc] = NULL;

    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        unsetenv("GOTRACEBACK");
        unsetenv("GODEBUG");
        for (size_t i = 0; i < wc->env.n; i++)
            putenv(wc->env.v[i]);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        /* The crash programs must see default signal dispositions. */
        signal(SIGPIPE, SIG_DFL);
        execv(program, argv);
        fprintf(stderr, "exec %s: %s\n", program, strerror(errno));
        _exit(127);
    }
    free(argv);
    close(outp[1]);
    close(errp[1]);

    struct sink out = {.fd = outp[0]}, err = {.fd = errp[0]};
    double deadline = now() + TIMEOUT_SECONDS;
    res->timedout = false;
    while (out.fd >= 0 || err.fd >= 0) {
        struct pollfd pf[2] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
        double left = deadline - now();
        if (left <= 0) {
            res->timedout = true;
            kill(pid, SIGKILL);
            break;
        }
        int n = poll(pf, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (n <= 0)
            continue;
        if (pf[0].revents)
            drain(&out);
        if (pf[1].revents)
            drain(&err);
    }
    if (out.fd >= 0)
        close(out.fd);
    if (err.fd >= 0)
        close(err.fd);
    /* Output is closed; the child may still run (it closed fds, or timed
     * out).  Wait with the same deadline. */
    for (;;) {
        pid_t w = waitpid(pid, &res->status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            die("waitpid: %s", strerror(errno));
        if (now() > deadline && !res->timedout) {
            res->timedout = true;
            kill(pid, SIGKILL);
        }
        usleep(1000);
    }
    res->out = out.buf ? out.buf : xstrndup("", 0);
    res->outlen = out.len;
    res->out[res->outlen] = '\0';
    res->err = err.buf ? err.buf : xstrndup("", 0);
    res->errlen = err.len;
    res->err[res->errlen] = '\0';
}

/* The matcher: want lines against actual lines.  memo[w * (na+1) + a] is
 * set once (w, a) is known not to match; far_w/far_a record the furthest
 * literal line that failed, for the report. */
struct matcher {
    const struct lines *want, *got;
    unsigned char *memo;
    size_t far_w, far_a;
    bool far_set;
};

/* A want line matches an actual line that equals it, or that fnmatch(3)
 * accepts: the first rule lets "goroutine 1 [running]:" be written as is. */
static bool line_matches(const char *pattern, const char *line)
{
    return strcmp(pattern, line) == 0 || fnmatch(pattern, line, 0) == 0;
}

static bool match_from(struct matcher *mt, size_t w, size_t a)
{
    size_t nw = mt->want->n, na = mt->got->n;
    unsigned char *memo = &mt->memo[w * (na + 1) + a];
    if (*memo)
        return false;
    bool ok;
    if (w == nw) {
        ok = a == na;
    } else if (strcmp(mt->want->v[w], "...") == 0) {
        ok = false;
        for (size_t k = na + 1; k-- > a;)
            if (match_from(mt, w + 1, k)) {
                ok = true;
                break;
            }
    } else {
        ok = a < na && line_matches(mt->want->v[w], mt->got->v[a]) &&
             match_from(mt, w + 1, a + 1);
    }
    if (!ok) {
        *memo = 1;
        if (!mt->far_set || w > mt->far_w || (w == mt->far_w && a > mt->far_a)) {
            mt->far_set = true;
            mt->far_w = w;
            mt->far_a = a;
        }
    }
    return ok;
}

static void print_numbered(const char *title, const struct lines *l)
{
    fprintf(stderr, "--- %s (%zu lines)\n", title, l->n);
    for (size_t i = 0; i < l->n; i++)
        fprintf(stderr, "%4zu| %s\n", i + 1, l->v[i]);
}

/* Returns true on a match; otherwise reports and returns false. */
static bool check_text(const char *what, const struct lines *want, const char *text, size_t len)
{
    struct lines got = {0};
    split_lines(text, len, &got);
    struct matcher mt = {.want = want, .got = &got};
    mt.memo = calloc((want->n + 1) * (got.n + 1), 1);
    if (mt.memo == NULL)
        die("out of memory");
    bool ok = match_from(&mt, 0, 0);
    if (!ok) {
        fprintf(stderr, "%s: %s does not match\n", prog, what);
        print_numbered("want", want);
        print_numbered("got", &got);
        if (mt.far_w < want->n)
            fprintf(stderr, "first failing want line %zu: %s\n", mt.far_w + 1,
                    want->v[mt.far_w]);
        else
            fprintf(stderr, "want ended; output continues\n");
        if (mt.far_a < got.n)
            fprintf(stderr, "   against output line %zu: %s\n", mt.far_a + 1, got.v[mt.far_a]);
        else
            fprintf(stderr, "   against the end of the output\n");
    }
    free(mt.memo);
    for (size_t i = 0; i < got.n; i++)
        free(got.v[i]);
    free(got.v);
    return ok;
}

static void describe_status(int st, char *buf, size_t n)
{
    if (WIFEXITED(st))
        snprintf(buf, n, "status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, n, "signal %s (%d)", signal_name(WTERMSIG(st)), WTERMSIG(st));
    else
        snprintf(buf, n, "wait status 0x%x", st);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s WANTFILE CASE PROGRAM\n", prog);
        return 2;
    }
    struct wantcase wc;
    parse_want(argv[1], argv[2], &wc);
    struct result res;
    run(argv[3], argv[2], &wc, &res);

    bool ok = true, shown = false; /* shown: stderr was printed by a mismatch */
    char got[64], want[64];
    describe_status(res.status, got, sizeof got);
    if (wc.signo != 0)
        snprintf(want, sizeof want, "signal %s (%d)", signal_name(wc.signo), wc.signo);
    else
        snprintf(want, sizeof want, "status %d", wc.status);
    if (res.timedout) {
        fprintf(stderr, "%s: %s: killed after %d seconds\n", prog, argv[2], TIMEOUT_SECONDS);
        ok = false;
    } else if (strcmp(got, want) != 0) {
        fprintf(stderr, "%s: %s: want %s, got %s\n", prog, argv[2], want, got);
        ok = false;
    }
    if (wc.have_stderr && !check_text("stderr", &wc.stderr_want, res.err, res.errlen))
        ok = false, shown = true;
    if (wc.have_stdout && !check_text("stdout", &wc.stdout_want, res.out, res.outlen))
        ok = false;
    if (!ok && !shown) {
        fprintf(stderr, "--- stderr of %s\n%s", argv[3], res.err);
        if (res.errlen > 0 && res.err[res.errlen - 1] != '\n')
            fputc('\n', stderr);
    }
    if (ok)
        fprintf(stderr, "%s: %s: ok (%s)\n", prog, argv[2], got);
    return ok ? 0 : 1;
}
