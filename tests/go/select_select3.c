/* Port of Go's test/chan/select3.go: which channel operations and selects
 * block and which do not.  "Never blocks" cases run inline: if one blocked,
 * the test would hang and hit its timeout.  "Always blocks" cases run in
 * goroutines that flag it if they ever get past the operation; main yields
 * for a while and checks that none did, then returns, which ends the
 * program with them still parked.  The cases that panic (send on a closed
 * channel, plainly or in a select) need recover and are covered by
 * tests/crash/chan_misuse instead. */
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...)                                                               \
    do {                                                                        \
        fprintf(stderr, "FAIL: " __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                                  \
        exit(1);                                                                \
    } while (0)

static gort_chan *nilch, *closedch;
static _Atomic int unblocked;
static long seven = 7;

static void unreachable(void)
{
    FAIL("control flow shouldn't reach here");
}

typedef void (*fn)(void);

static void run_blocking(void *arg)
{
    fn f = *(fn *)arg;
    f();
    atomic_fetch_add(&unblocked, 1);
}

static void always_blocks(fn f)
{
    gort_go(run_blocking, &f, sizeof f);
}

/* ---- always block ---- */
static void send_nil(void) { gort_chan_send(nilch, &seven); }
static void recv_nil(void) { gort_chan_recv(nilch, NULL); }
static void recv_not_ready(void)
{
    gort_chan *ch = gort_chan_make(sizeof(long), 0);
    gort_chan_recv(ch, NULL);
}
static void empty_select(void) { gort_select(NULL, 0, true); }
static void select_recv_nil(void)
{
    gort_case cs[1] = {{.chan = nilch, .dir = GORT_RECV}};
    gort_select(cs, 1, true);
    unreachable();
}
static void select_send_nil(void)
{
    gort_case cs[1] = {{.chan = nilch, .dir = GORT_SEND, .elem = &seven}};
    gort_select(cs, 1, true);
    unreachable();
}
static void select_both_nil(void)
{
    gort_case cs[2] = {{.chan = nilch, .dir = GORT_RECV},
                       {.chan = nilch, .dir = GORT_SEND, .elem = &seven}};
    gort_select(cs, 2, true);
    unreachable();
}
static void select_not_ready(void)
{
    gort_chan *ch = gort_chan_make(sizeof(long), 0);
    gort_case cs[1] = {{.chan = ch, .dir = GORT_RECV}};
    gort_select(cs, 1, true);
    unreachable();
}
static void select_self(void)
{
    gort_chan *c = gort_chan_make(sizeof(long), 0);
    long one = 1;
    gort_case cs[2] = {{.chan = c, .dir = GORT_SEND, .elem = &one},
                       {.chan = c, .dir = GORT_RECV}};
    gort_select(cs, 2, true);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    closedch = gort_chan_make(sizeof(long), 0);
    gort_chan_close(closedch);

    /* Sending/receiving on a nil channel blocks; so do a receive from a
     * non-ready channel, select {}, selects of nil channels only, selects
     * of non-ready channels, and a select that would need itself. */
    fn blockers[] = {send_nil,        recv_nil,        recv_not_ready,   empty_select,
                     select_recv_nil, select_send_nil, select_both_nil, select_not_ready,
                     select_self};
    for (size_t i = 0; i < sizeof blockers / sizeof blockers[0]; i++)
        always_blocks(blockers[i]);

    /* A nil channel in a select with a default is never selected. */
    {
        gort_case s = {.chan = nilch, .dir = GORT_SEND, .elem = &seven};
        gort_case r = {.chan = nilch, .dir = GORT_RECV};
        if (gort_select(&s, 1, false) != -1 || gort_select(&r, 1, false) != -1)
            unreachable();
    }
    /* Sending to an async channel with free buffer space never blocks. */
    {
        gort_chan *ch = gort_chan_make(sizeof(long), 1);
        gort_chan_send(ch, &seven);
    }
    /* Receiving from a closed channel never blocks. */
    for (int i = 0; i < 10; i++) {
        long x = 5;
        gort_chan_recv(closedch, &x);
        if (x != 0)
            FAIL("expected zero value when reading from closed channel");
        x = 5;
        bool ok = gort_chan_recv(closedch, &x);
        if (x != 0 || ok)
            FAIL("expected 0, false from closed channel");
    }
    /* Selects with default cases don't block. */
    if (gort_select(NULL, 0, false) != -1)
        unreachable();
    /* Selects with ready channels don't block. */
    {
        gort_chan *ch = gort_chan_make(sizeof(long), 1);
        gort_case s = {.chan = ch, .dir = GORT_SEND, .elem = &seven};
        if (gort_select(&s, 1, false) != 0)
            unreachable();
        long x = 0;
        gort_case r = {.chan = ch, .dir = GORT_RECV, .elem = &x};
        if (gort_select(&r, 1, false) != 0 || x != 7 || !r.ok)
            unreachable();
    }
    /* Selects with closed channels behave like ordinary operations. */
    {
        long x = 3;
        gort_case r = {.chan = closedch, .dir = GORT_RECV, .elem = &x, .ok = true};
        if (gort_select(&r, 1, true) != 0 || x != 0 || r.ok)
            unreachable();
        gort_case r0 = {.chan = closedch, .dir = GORT_RECV};
        if (gort_select(&r0, 1, true) != 0)
            unreachable();
        gort_chan *never = gort_chan_make(sizeof(long), 0);
        gort_case r2[2] = {{.chan = never, .dir = GORT_RECV},
                           {.chan = closedch, .dir = GORT_RECV, .elem = &x, .ok = true}};
        if (gort_select(r2, 2, true) != 1 || r2[1].ok)
            unreachable();
    }

    for (int i = 0; i < 1000; i++)
        gort_gosched();
    if (atomic_load(&unblocked) != 0)
        FAIL("%d blocking operations did not block", atomic_load(&unblocked));
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
