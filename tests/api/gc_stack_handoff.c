// A pointer written into the stack of a parked goroutine by another
// goroutine keeps its object alive, while collections run back to back.
// The stack may have been scanned (and counted clean) before the write,
// and the goroutine may not run again before the cycle ends, so a
// collector that rescans only the stacks that ran can miss the object.
// Each round, main is the parked goroutine and a new goroutine writes:
//   write   the C idiom: main passes &slot to a goroutine (gort_go with
//           argsize 0) and waits on a waitgroup; the goroutine stores its
//           result in main's slot, runs on for a few cycles, and ends;
//   send    an unbuffered send to main, parked in gort_chan_recv (the
//           value goes straight into main's variable); main is then made
//           runnable, but the sender keeps its P busy;
//   select  the same, main parked in gort_select;
//   bufsend the same through a buffered channel that is empty.
// (Go's own runtime faces the last three: its sendDirect has a write
// barrier for them.)  Parked padding goroutines, scanned between main and
// the writer (allgs order), widen the gap between the two stacks' scans.
//
// The object is allocated long before the write (at least one whole cycle
// earlier, so it is not "allocated black" in the cycle of the write) and
// held until then only by the writer's stack; the writer drops its copy
// right after the write.  It is then reachable only from main's stack for
// a few cycles.  A lost object shows as: its finalizer running while it is
// still referenced (odd rounds set one), its magic overwritten by the
// same-size allocations that follow (its slot is reused), or, under
// GODEBUG=gccheckmark=1, "fatal error: checkmark found unmarked object".
// The test runs itself once more with gccheckmark=1 (see main).
// Arguments (optional): a case name (only that case), a jitter.
// gort-test: timeout=300 env=GODEBUG=gcstress=50
#include <gort.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test_util.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ROUNDS 20
#else
#define ROUNDS 60
#endif
#define MAGIC 0x5afe57ac4b0b0b0bull

enum { LIVE = 1, DEAD = 2 };

struct obj {
    struct obj *next;
    uint64_t magic;
    uint64_t round;
    _Atomic uint64_t state;
    uint64_t pad[4];
};
static const gort_type obj_type = GORT_TYPE(struct obj, GORT_PTR(struct obj, next));

static const char *mode = "plain";
static const char *curcase = "";

#define FAIL(...)                                                                            \
    do {                                                                                     \
        fprintf(stderr, "FAIL (%s, case %s): ", mode, curcase);                              \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        exit(1);                                                                             \
    } while (0)

/* ---- cycles ---------------------------------------------------------------- */

/* the cycler: gc_test_util.h */

static void *_Atomic sink; /* written by several goroutines */

/* Keeps the caller running (allocating objects of the same size class,
 * which reuse the slots of freed ones) until n more collections finished:
 * at least n-1 whole cycles in between. */
static __attribute__((noinline)) void run_cycles(uint64_t n)
{
    uint64_t target = atomic_load(&ncycles) + n;
    while (atomic_load(&ncycles) < target)
        for (int i = 0; i < 64; i++) {
            struct obj *o = gort_new(&obj_type);
            o->magic = 1;
            atomic_store_explicit(&sink, o, memory_order_relaxed);
        }
    atomic_store_explicit(&sink, NULL, memory_order_relaxed);
}

/* Then a little more, a different amount each round: the cycles run back
 * to back and the write should land at any point of one. */
static unsigned jitter = 8192;
static __attribute__((noinline)) void run_some(uint64_t round)
{
    for (uint64_t i = 0, n = round * 7919 % jitter; i < n; i++) {
        struct obj *o = gort_new(&obj_type);
        o->magic = 1;
        atomic_store_explicit(&sink, o, memory_order_relaxed);
    }
    atomic_store_explicit(&sink, NULL, memory_order_relaxed);
}

/* ---- the object ------------------------------------------------------------ */

static void fin(void *p)
{
    struct obj *o = p;
    if (atomic_load(&o->state) == LIVE)
        FAIL("finalizer ran for the object of round %llu, still referenced",
             (unsigned long long)o->round);
}

/* Makes the object; the only reference is the word *keep (a volatile
 * local of the writer, on its stack). */
static __attribute__((noinline)) void make(volatile uintptr_t *keep, uint64_t round)
{
    struct obj *o = gort_new(&obj_type);
    o->magic = MAGIC ^ round;
    o->round = round;
    atomic_store(&o->state, LIVE);
    if (round % 2)
        gort_set_finalizer(o, fin);
    *keep = (uintptr_t)o;
}

static void check(struct obj *o, uint64_t round)
{
    if (o == NULL)
        FAIL("round %llu: no object", (unsigned long long)round);
    if (o->magic != (MAGIC ^ round) || o->round != round)
        FAIL("round %llu: object lost: magic %#llx round %llu (freed and reused)",
             (unsigned long long)round, (unsigned long long)o->magic,
             (unsigned long long)o->round);
    atomic_store(&o->state, DEAD);
}

/* ---- write: a result slot on the waiting parent's stack -------------------- */

static gort_waitgroup wg;
static uint64_t cur_round;

static __attribute__((noinline)) void put(struct obj *volatile *slot, volatile uintptr_t *keep)
{
    *slot = (struct obj *)*keep;
    *keep = 0;
}

static void writer(void *arg)
{
    struct obj *volatile *slot = arg; /* in main's stack */
    volatile uintptr_t keep;
    make(&keep, cur_round);
    run_cycles(2);
    run_some(cur_round);
    put(slot, &keep);
    run_cycles(3);
    gort_waitgroup_done(&wg);
}

static __attribute__((noinline)) void case_write(uint64_t round)
{
    struct obj *volatile slot = NULL;
    cur_round = round;
    gort_waitgroup_add(&wg, 1);
    gort_go(writer, (void *)&slot, 0);
    gort_waitgroup_wait(&wg); /* parked: the stack is scanned, then written */
    check(slot, round);
    slot = NULL;
}

/* ---- send, select, bufsend: a value handed to a parked receiver ------------ */

static gort_chan *ch, *done;
enum { C_SEND, C_SELECT, C_BUFSEND };

static __attribute__((noinline)) void sendit(volatile uintptr_t *keep)
{
    gort_chan_send(ch, (const void *)keep);
    *keep = 0;
}

static void sender(void *arg)
{
    (void)arg;
    volatile uintptr_t keep;
    make(&keep, cur_round);
    run_cycles(2); /* main is parked in its receive by now */
    run_some(cur_round);
    sendit(&keep); /* straight into main's variable; main is made runnable */
    run_cycles(3); /* this P stays busy: main may wait in its run queue */
    gort_chan_send(done, NULL);
}

static __attribute__((noinline)) void case_chan(int how, uint64_t round)
{
    ch = gort_chan_make(sizeof(void *), how == C_BUFSEND ? 4 : 0);
    cur_round = round;
    struct obj *volatile slot = NULL;
    gort_go(sender, NULL, 0);
    if (how == C_SELECT) {
        gort_case cs[2] = {{ch, GORT_RECV, (void *)&slot, false}, {NULL, GORT_RECV, NULL, false}};
        if (gort_select(cs, 2, true) != 0)
            FAIL("select chose the nil channel");
    } else {
        gort_chan_recv(ch, (void *)&slot);
    }
    gort_chan_recv(done, NULL); /* parked again through the sender's cycles */
    check(slot, round);
    slot = NULL;
}

/* ---- padding: parked goroutines whose stacks take a while to scan --------- */

/* They come in allgs between main and the goroutines each round starts,
 * widening the gap between the scans of the two stacks. */
enum { NPAD = 256 };
static gort_chan *never;

static __attribute__((noinline)) void pad_park(volatile char *buf)
{
    buf[0] = 1;
    gort_chan_recv(never, NULL);
}

static void padder(void *arg)
{
    (void)arg;
    volatile char buf[8192];
    for (size_t i = 0; i < sizeof buf; i += 64)
        buf[i] = (char)i;
    pad_park(buf);
}

static int main2(int argc, char **argv)
{
    /* Optional: a case name (only that case), a jitter. */
    const char *only = argc > 1 ? argv[1] : NULL;
    if (argc > 2)
        jitter = (unsigned)atoi(argv[2]);
    done = gort_chan_make(0, 0);
    never = gort_chan_make(0, 0);
    for (int i = 0; i < NPAD; i++)
        gort_go(padder, NULL, 0);
    gort_waitgroup_add(&cycler_wg, 1);
    gort_go(cycler, NULL, 0);
    static const char *const names[] = {"write", "send", "select", "bufsend"};
    for (int c = 0; c < 4; c++) {
        curcase = names[c];
        if (only != NULL && strcmp(only, names[c]) != 0)
            continue;
        for (uint64_t r = 1; r <= ROUNDS; r++) {
            if (c == 0)
                case_write(r);
            else
                case_chan(c - 1, r);
        }
    }
    atomic_store(&stop, true);
    gort_waitgroup_wait(&cycler_wg);
    printf("ok (%s)\n", mode);
    return 0;
}

int main(int argc, char **argv)
{
    if (getenv("GORT_TEST_CHECKMARK_CHILD") != NULL)
        mode = "gccheckmark=1";
    else
        run_checkmark_child(argv);
    return gort_main(main2, argc, argv);
}
