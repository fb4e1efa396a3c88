/* Channel misuse and channel deadlocks: one program, the case chosen by
 * argv[1]; chan_misuse.want holds what each must print and how it dies.
 * Panics are Go's plainErrors ("panic: send on closed channel", status 2);
 * every goroutine asleep on channels is Go's deadlock report, with the wait
 * reason of what goroutine 1 blocks in. */
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static gort_chan *shared;

static void closer(void *arg)
{
    (void)arg;
    /* With GOMAXPROCS=1 (the want file sets it) this runs only once main
     * has parked in its send, so the panic comes from the wake-up path. */
    gort_chan_close(shared);
}

static int real_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: chan_misuse CASE\n");
        return 1;
    }
    const char *c = argv[1];
    long v = 1;
    if (strcmp(c, "close_nil") == 0) {
        gort_chan_close(NULL);
    } else if (strcmp(c, "close_closed") == 0) {
        gort_chan *ch = gort_chan_make(sizeof v, 0);
        gort_chan_close(ch);
        gort_chan_close(ch);
    } else if (strcmp(c, "send_closed") == 0) {
        gort_chan *ch = gort_chan_make(sizeof v, 1);
        gort_chan_close(ch);
        gort_chan_send(ch, &v);
    } else if (strcmp(c, "send_closed_blocked") == 0) {
        shared = gort_chan_make(sizeof v, 0);
        gort_go(closer, NULL, 0);
        gort_chan_send(shared, &v);
    } else if (strcmp(c, "select_send_closed") == 0) {
        gort_chan *ch = gort_chan_make(sizeof v, 0), *other = gort_chan_make(sizeof v, 0);
        gort_chan_close(ch);
        gort_case cs[2] = {{.chan = other, .dir = GORT_RECV}, {.chan = ch, .dir = GORT_SEND, .elem = &v}};
        gort_select(cs, 2, false);
    } else if (strcmp(c, "select_send_closed_blocked") == 0) {
        shared = gort_chan_make(sizeof v, 0);
        gort_chan *other = gort_chan_make(sizeof v, 0);
        gort_go(closer, NULL, 0);
        gort_case cs[2] = {{.chan = other, .dir = GORT_RECV},
                           {.chan = shared, .dir = GORT_SEND, .elem = &v}};
        gort_select(cs, 2, true);
    } else if (strcmp(c, "makechan_size") == 0) {
        gort_chan_make(8, SIZE_MAX / 4);
    } else if (strcmp(c, "makechan_negative") == 0) {
        /* Go's make(chan T, -1), as C callers would spell it. */
        gort_chan_make(0, (size_t)-1);
    } else if (strcmp(c, "makechan_elem") == 0) {
        gort_chan_make(65536, 1);
    } else if (strcmp(c, "deadlock_recv") == 0) {
        gort_chan_recv(gort_chan_make(sizeof v, 0), &v);
    } else if (strcmp(c, "deadlock_send") == 0) {
        gort_chan *ch = gort_chan_make(sizeof v, 1);
        gort_chan_send(ch, &v);
        gort_chan_send(ch, &v);
    } else if (strcmp(c, "deadlock_recv_nil") == 0) {
        gort_chan_recv(NULL, &v);
    } else if (strcmp(c, "deadlock_send_nil") == 0) {
        gort_chan_send(NULL, &v);
    } else if (strcmp(c, "deadlock_select") == 0) {
        gort_chan *a = gort_chan_make(sizeof v, 0), *b = gort_chan_make(sizeof v, 0);
        gort_case cs[2] = {{.chan = a, .dir = GORT_RECV}, {.chan = b, .dir = GORT_SEND, .elem = &v}};
        gort_select(cs, 2, true);
    } else if (strcmp(c, "deadlock_select_nil") == 0) {
        gort_case cs[2] = {{.chan = NULL, .dir = GORT_RECV}, {.chan = NULL, .dir = GORT_SEND}};
        gort_select(cs, 2, true);
    } else if (strcmp(c, "deadlock_select_one_nil") == 0) {
        gort_case cs[1] = {{.chan = NULL, .dir = GORT_RECV}};
        gort_select(cs, 1, true);
    } else if (strcmp(c, "deadlock_select_no_cases") == 0) {
        gort_select(NULL, 0, true);
    } else {
        fprintf(stderr, "unknown case %s\n", c);
        return 1;
    }
    fprintf(stderr, "case %s returned\n", c);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
