/* The deadlock report with more than one goroutine blocked (Go's
 * "all goroutines are asleep"): main waits on a channel nobody sends on,
 * and a second goroutine sends on a channel nobody receives from.  Both
 * appear in the report, main first; with GODEBUG=scheddetail=1 the report
 * starts with the scheduler's detailed trace, as Go's startpanic does.
 * argv[1]: "two" (the two blocked goroutines), "locked" (the same with the
 * sender wired to its thread). */
#include <gort.h>
#include <string.h>

static gort_chan *never_sent, *never_received;

static void sender(void *arg)
{
    if (arg != NULL)
        gort_lock_os_thread();
    int v = 1;
    gort_chan_send(never_received, &v);
}

static int real_main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    never_sent = gort_chan_make(sizeof(int), 0);
    never_received = gort_chan_make(sizeof(int), 0);
    gort_go(sender, strcmp(mode, "locked") == 0 ? (void *)1 : NULL, 0);
    int v;
    gort_chan_recv(never_sent, &v);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
