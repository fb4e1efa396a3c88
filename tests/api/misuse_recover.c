/* Every channel and sync misuse that Go makes a panic is recoverable here,
 * with Go's message (GO-FACTS 1.4, 1.6); channel misuse is a
 * runtime.Error (Go's plainError), sync and os/signal misuse are plain
 * string panics (Go's panic("sync: ...")), not runtime.Errors; and recover inside gort_goexit's
 * deferred calls returns NULL while the goroutine's defers still run. */
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static void fail(const char *what, const char *got)
{
    fprintf(stderr, "FAIL: %s: got %s\n", what, got);
    exit(1);
}

struct want {
    const char *msg;
    bool rterror;
    volatile bool got;
};

static void expect(void *arg)
{
    struct want *w = arg;
    const gort_any *r = gort_recover();
    if (r == NULL)
        fail(w->msg, "no panic");
    char buf[256];
    gort_any_format(r, buf, sizeof buf);
    if (strcmp(buf, w->msg) != 0)
        fail(w->msg, buf);
    if (gort_is_runtime_error(r) != w->rterror)
        fail(w->msg, "wrong runtime.Error-ness");
    w->got = true;
}

static NOINLINE void run(void (*f)(void), const char *msg, bool rterror)
{
    struct want w = {msg, rterror, false};
    {
        GORT_FRAME();
        gort_defer(expect, &w);
        f();
    }
    if (!w.got)
        fail(msg, "not recovered");
}

static void close_nil(void)
{
    gort_chan_close(NULL);
}
static void close_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    gort_chan_close(c);
    gort_chan_close(c);
}
static void send_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int v = 1;
    gort_chan_close(c);
    gort_chan_send(c, &v);
}
static void select_send_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v = 1;
    gort_chan_close(c);
    gort_case cs = {.chan = c, .dir = GORT_SEND, .elem = &v};
    gort_select(&cs, 1, true);
}
static void makechan_big(void)
{
    gort_chan_make(8, (size_t)1 << 62);
}
static void wg_negative(void)
{
    gort_waitgroup wg = {0};
    gort_waitgroup_add(&wg, -1);
}
static void wg_reuse_negative(void)
{
    gort_waitgroup wg = {0};
    gort_waitgroup_add(&wg, 1);
    gort_waitgroup_done(&wg);
    gort_waitgroup_done(&wg);
}
static void cond_copied(void)
{
    gort_mutex mu = {0};
    gort_cond c = {0};
    gort_cond_init(&c, &mu);
    gort_cond_signal(&c);
    gort_cond copy = c;
    gort_cond_signal(&copy);
}
static void notify_nil(void)
{
    int sig = 10;
    gort_signal_notify(NULL, &sig, 1);
}
static void index_out(void)
{
    gort_index_check(-1, 3);
}

/* A sender blocked when the channel is closed panics too. */
static gort_chan *blocked_c;
static void closer(void *arg)
{
    (void)arg;
    gort_sleep(1000000);
    gort_chan_close(blocked_c);
}
static void blocked_sender(void)
{
    blocked_c = gort_chan_make(sizeof(int), 0);
    int v = 1;
    gort_go(closer, NULL, 0);
    gort_chan_send(blocked_c, &v);
}

/* Goexit: deferred calls run; recover returns NULL in them. */
static void goexit_defer(void *arg)
{
    if (gort_recover() != NULL)
        fail("goexit", "recover returned non-NULL during Goexit");
    gort_chan_send(arg, &(int){1});
}
static void goexiter(void *arg)
{
    GORT_FRAME();
    gort_defer(goexit_defer, arg);
    gort_goexit();
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    run(close_nil, "close of nil channel", true);
    run(close_closed, "close of closed channel", true);
    run(send_closed, "send on closed channel", true);
    run(select_send_closed, "send on closed channel", true);
    run(blocked_sender, "send on closed channel", true);
    run(makechan_big, "makechan: size out of range", true);
    run(wg_negative, "sync: negative WaitGroup counter", false);
    run(wg_reuse_negative, "sync: negative WaitGroup counter", false);
    run(cond_copied, "sync.Cond is copied", false);
    run(notify_nil, "os/signal: Notify using nil channel", false);
    run(index_out, "runtime error: index out of range [-1]", true);
    gort_chan *done = gort_chan_make(sizeof(int), 1);
    gort_go(goexiter, done, 0);
    int v = 0;
    gort_chan_recv(done, &v);
    if (v != 1)
        fail("goexit", "deferred call did not run");
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
