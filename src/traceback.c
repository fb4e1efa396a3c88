/*
 * traceback.c — goroutine headers and stack walks (first slice: headers).
 */
#include "runtime.h"

static const char *const waitreasons[WAIT_REASON_COUNT] = {
    [WAIT_REASON_ZERO] = "",
    [WAIT_REASON_GC_ASSIST_MARKING] = "GC assist marking",
    [WAIT_REASON_IO_WAIT] = "IO wait",
    [WAIT_REASON_CHAN_RECEIVE_NIL_CHAN] = "chan receive (nil chan)",
    [WAIT_REASON_CHAN_SEND_NIL_CHAN] = "chan send (nil chan)",
    [WAIT_REASON_DUMPING_HEAP] = "dumping heap",
    [WAIT_REASON_GARBAGE_COLLECTION] = "garbage collection",
    [WAIT_REASON_GARBAGE_COLLECTION_SCAN] = "garbage collection scan",
    [WAIT_REASON_PANICWAIT] = "panicwait",
    [WAIT_REASON_SELECT] = "select",
    [WAIT_REASON_SELECT_NO_CASES] = "select (no cases)",
    [WAIT_REASON_GC_ASSIST_WAIT] = "GC assist wait",
    [WAIT_REASON_GC_SWEEP_WAIT] = "GC sweep wait",
    [WAIT_REASON_GC_SCAVENGE_WAIT] = "GC scavenge wait",
    [WAIT_REASON_CHAN_RECEIVE] = "chan receive",
    [WAIT_REASON_CHAN_SEND] = "chan send",
    [WAIT_REASON_FINALIZER_WAIT] = "finalizer wait",
    [WAIT_REASON_FORCE_GC_IDLE] = "force gc (idle)",
    [WAIT_REASON_SEMACQUIRE] = "semacquire",
    [WAIT_REASON_SLEEP] = "sleep",
    [WAIT_REASON_SYNC_COND_WAIT] = "sync.Cond.Wait",
    [WAIT_REASON_SYNC_MUTEX_LOCK] = "sync.Mutex.Lock",
    [WAIT_REASON_SYNC_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
    [WAIT_REASON_SYNC_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
    [WAIT_REASON_SYNC_WAITGROUP_WAIT] = "sync.WaitGroup.Wait",
    [WAIT_REASON_TIMER_GOROUTINE_IDLE] = "timer goroutine (idle)",
    [WAIT_REASON_PREEMPTED] = "preempted",
    [WAIT_REASON_DEBUG_CALL] = "debug call",
    [WAIT_REASON_STOPPING_THE_WORLD] = "stopping the world",
};

const char *waitreason_string(int reason)
{
    if (reason < 0 || reason >= WAIT_REASON_COUNT || waitreasons[reason] == NULL)
        return "unknown wait reason";
    return waitreasons[reason];
}

static void header(struct g *gp)
{
    static const char *const names[] = {"idle", "runnable", "running", "syscall", "waiting",
                                        "", "dead", "", "", "preempted"};
    uint32_t st = readgstatus(gp);
    const char *s = st < 10 ? names[st] : "???";
    if (st == G_WAITING && gp->waitreason != WAIT_REASON_ZERO)
        s = waitreason_string(gp->waitreason);
    print("goroutine %ld [%s]:\n", (long)gp->goid, s);
}

void traceback_goroutines(struct g *cur, bool all, int level)
{
    if (cur != NULL && cur->m != NULL && cur == cur->m->g0)
        cur = cur->m->curg;
    if (cur != NULL) {
        print("\n");
        header(cur);
    }
    if (!all)
        return;
    for (struct g *gp = atomic_load(&allgs); gp != NULL; gp = gp->alllink) {
        if (gp == cur || readgstatus(gp) == G_DEAD || (gp->system && level < 2))
            continue;
        print("\n");
        header(gp);
    }
}

int gort_stack(char *buf, int len, bool all)
{
    (void)buf;
    (void)len;
    (void)all;
    return 0;
}
