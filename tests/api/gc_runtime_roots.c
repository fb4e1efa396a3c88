// Objects reachable only through runtime objects survive collections:
//   - a pointer sitting in a channel's buffer (channels are heap objects,
//     scanned conservatively), the channel itself reachable only from a
//     heap object;
//   - a pointer that only a deferred call's record holds (gort_defer).
// (That unreachable channels are collected is tests/go/gc2.c.)
//
// Pointers are made by goroutines that then exit and are passed xor-masked
// through globals, so no stale copy on a live stack keeps them alive.  Being
// freed shows as a run finalizer and as lost contents: the collections are
// followed by allocations of the same size class, which reuse and zero a
// freed slot.
// gort-test: timeout=60
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJ_SIZE 3000
#define MAGIC 0x5eed5eed5eed5eedull
#define MASK ((uintptr_t)0x0123456789abcdefull)

enum { F_CHANVAL, F_DEFERVAL, NF };
static _Atomic int finalized[NF];
static volatile uintptr_t masked[NF];
static void *volatile holder_root; /* bss: a heap object holding the channel */

static void fail(const char *why)
{
    fprintf(stderr, "FAIL: %s\n", why);
    exit(1);
}

static void fin_chanval(void *p) { (void)p; atomic_store(&finalized[F_CHANVAL], 1); }
static void fin_deferval(void *p) { (void)p; atomic_store(&finalized[F_DEFERVAL], 1); }

static void check(uint64_t *o, int which, const char *what)
{
    if (atomic_load(&finalized[which]))
        fprintf(stderr, "FAIL: %s: finalizer ran\n", what), exit(1);
    if (o[0] != MAGIC)
        fprintf(stderr, "FAIL: %s: object freed and reused\n", what), exit(1);
}

static __attribute__((noinline)) uint64_t *newobj(void (*fin)(void *))
{
    uint64_t *o = gort_malloc(OBJ_SIZE);
    o[0] = MAGIC;
    gort_set_finalizer(o, fin);
    return o;
}

static gort_chan *step;

/* Sends a fresh object into a buffered channel held only by a heap object,
 */
static void producer(void *arg)
{
    (void)arg;
    void **h = gort_malloc(sizeof(void *));
    gort_chan *c = gort_chan_make(sizeof(void *), 4);
    h[0] = c;
    uint64_t *o = newobj(fin_chanval);
    gort_chan_send(c, &o);
    o = NULL;
    holder_root = h;
    gort_chan_send(step, NULL);
}

static __attribute__((noinline)) void make_deferval(void *arg)
{
    (void)arg;
    masked[F_DEFERVAL] = (uintptr_t)newobj(fin_deferval) ^ MASK;
    gort_chan_send(step, NULL);
}

static void deferred_check(void *o) { check(o, F_DEFERVAL, "deferred argument"); }

static __attribute__((noinline)) void deferrer_body(void)
{
    GORT_FRAME();
    gort_defer(deferred_check, (void *)(masked[F_DEFERVAL] ^ MASK));
    gort_chan_send(step, NULL); /* deferred; now wait for the collections */
    gort_chan_recv(step, NULL);
}

static void deferrer(void *arg)
{
    (void)arg;
    deferrer_body();
    gort_chan_send(step, NULL);
}

static void collect(void)
{
    for (int i = 0; i < 3; i++) {
        gort_gc();
        gort_sleep(1000000);
    }
    for (int i = 0; i < 300; i++)
        memset(gort_malloc(OBJ_SIZE), 0x77, OBJ_SIZE);
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    step = gort_chan_make(0, 0);
    gort_go(producer, NULL, 0);
    gort_chan_recv(step, NULL);
    gort_go(make_deferval, NULL, 0);
    gort_chan_recv(step, NULL);
    gort_go(deferrer, NULL, 0);
    gort_chan_recv(step, NULL);

    collect();

    gort_chan *c = ((void **)holder_root)[0];
    uint64_t *o = NULL;
    if (!gort_chan_recv(c, &o) || o == NULL)
        fail("channel lost its value");
    check(o, F_CHANVAL, "value in a channel buffer");
    gort_chan_send(step, NULL); /* the deferrer returns: its check runs */
    gort_chan_recv(step, NULL);
    return 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
