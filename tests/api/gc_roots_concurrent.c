// Survival through each kind of root while collections run back to back
// (a goroutine calls gort_gc in a loop; GODEBUG=gcstress adds more): the
// main goroutine moves the only reference to a few long-lived objects from
// one kind of root to the next, again and again, each move at a different
// point of a cycle, and each hold lasting at least one whole cycle.  The
// kinds:
//   global        a word in the program's bss;
//   shlib         a word in a shared object's data: libc's stdin FILE,
//                 whose buffer pointer setvbuf sets;
//   stack         a volatile local of the running main goroutine;
//   parked        a local of another goroutine while it is parked (it
//                 takes the pointer itself, from a global, before parking);
//   register      a local held in a register by a loop without calls
//                 (plain build: preempted by signal; the sanitizer builds,
//                 which do not preempt that way, call gort_gosched in it);
//   typed         a pointer field of a typed object;
//   cons          a word of a conservative object (gort_malloc);
//   interior      a pointer into the middle of the object, in a
//                 conservative object and in a global;
//   large         a word of a large (64 KiB) conservative object, and a
//                 slot of a large typed array;
//   registered    a word of malloc'ed memory given to gort_add_roots;
//   uncollectable a word of a gort_malloc_uncollectable object;
//   chanbuf       the buffer of a channel (main sends, later receives);
//   kernel        a word of a conservative object that read(2) wrote: the
//                 pointer's bytes went through a pipe (the dirty-page
//                 tracker must see the kernel's write; skipped under
//                 GODEBUG=gcdirty=mprotect, where such a read fails with
//                 EFAULT by design);
//   defer         the argument record of a deferred call.
// The containers themselves (the typed, conservative and large objects,
// the channel) are reachable from globals; the large ones are replaced now
// and then by fresh ones (allocated during a cycle).
//
// The objects rest in a global array; the one being moved leaves it and
// travels xor-masked (not a pointer to the collector) into and out of its
// hold, which is then its only reference.  On the way, a global (transit)
// keeps it: a cycle ending there would rightly free an object that nothing
// references.  The hold clears transit once the object is in place, when
// its cycles begin (run_cycles), and sets it again when they are over.  The moved objects are of each
// kind (typed, with a child only it references; conservative; noscan;
// large), each with and without a finalizer, all allocated long before,
// so not "allocated black".  A lost object shows as: its finalizer running
// while it is referenced, its magic (or its child's) overwritten by the
// same-size allocations that run during every hold (they reuse freed
// slots), or, under GODEBUG=gccheckmark=1, "fatal error: checkmark found
// unmarked object".  The test runs itself once more with gccheckmark=1
// (see main).  Arguments (optional): a kind (only that kind), rounds.
// gort-test: timeout=300 env=GODEBUG=gcstress=200
#include <gort.h>
#include <errno.h>
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
#define SANITIZER 1
#define ROUNDS 8
#else
#define SANITIZER 0
#define ROUNDS 40
#endif

#define MAGIC 0x0b1ec7a11e5ca9e5ull
#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define LARGE_WORDS 8192 /* 64 KiB */

static const char *mode = "plain";
static const char *curkind = "";

#define FAIL(...)                                                                            \
    do {                                                                                     \
        fprintf(stderr, "FAIL (%s, kind %s): ", mode, curkind);                              \
        fprintf(stderr, __VA_ARGS__);                                                        \
        fputc('\n', stderr);                                                                 \
        exit(1);                                                                             \
    } while (0)

/* ---- the moved objects ----------------------------------------------------- */

/* Each kind of object twice: without a finalizer (a lost one is freed at
 * once and its slot reused) and with one (which must not run). */
enum { O_TYPED, O_CONS, O_NOSCAN, O_LARGE, NKIND, NOBJ = 2 * NKIND };
static const char *const objname[NOBJ] = {"typed", "conservative", "noscan", "large",
    "typed+finalizer", "conservative+finalizer", "noscan+finalizer", "large+finalizer"};
static const size_t objsize[NKIND] = {64, 64, 64, 40000};

/* Every moved object starts with this header (the typed one's first word
 * is its child). */
struct hdr {
    struct hdr *child; /* O_TYPED: a noscan object only it references */
    uint64_t magic;
    uint64_t which;
    _Atomic uint64_t inuse; /* 1 while the test holds it: its finalizer must not run */
};
static const gort_type obj_type = {.size = 64, .ptrmask = 1, .name = "obj"};

static void fin(void *p)
{
    struct hdr *h = p;
    if (atomic_load(&h->inuse))
        FAIL("the %s object was finalized while referenced", objname[h->which]);
}

/* The objects not being moved rest here (a global); the moved one leaves
 * it for its hold. */
static struct hdr *volatile resting[NOBJ];

static __attribute__((noinline)) void make_objects(void)
{
    for (int i = 0; i < NOBJ; i++) {
        struct hdr *h;
        switch (i % NKIND) {
        case O_TYPED:
            h = gort_new(&obj_type);
            h->child = gort_malloc_noscan(64);
            h->child->magic = MAGIC ^ 0xc41d;
            break;
        case O_CONS:
            h = gort_malloc(objsize[O_CONS]);
            break;
        case O_NOSCAN:
            h = gort_malloc_noscan(objsize[O_NOSCAN]);
            break;
        default:
            h = gort_malloc(objsize[O_LARGE]);
            break;
        }
        h->magic = MAGIC ^ (uint64_t)i;
        h->which = (uint64_t)i;
        atomic_store(&h->inuse, 1);
        if (i >= NKIND)
            gort_set_finalizer(h, fin);
        resting[i] = h;
    }
}

static void check(struct hdr *h, int which)
{
    if (h->magic != (MAGIC ^ (uint64_t)which) || h->which != (uint64_t)which)
        FAIL("the %s object was lost (magic %#llx: freed and reused)", objname[which],
             (unsigned long long)h->magic);
    if (which % NKIND == O_TYPED && h->child->magic != (MAGIC ^ 0xc41d))
        FAIL("the typed object's child was lost (magic %#llx)",
             (unsigned long long)h->child->magic);
}

/* ---- cycles ---------------------------------------------------------------- */

/* the cycler: gc_test_util.h */

static void *_Atomic sink;

/* The moved object, while it is on its way into or out of its hold; and
 * the same, masked, for run_cycles to set it again from. */
static void *volatile transit;
static uintptr_t transit_masked;

static inline void transit_off(void) { transit = NULL; }
static inline void transit_on(void)
{
    if (transit_masked != 0)
        transit = (void *)(transit_masked ^ MASK);
}

/* Garbage of the moved objects' small size class, scan and noscan:
 * reuses freed slots. */
static inline void churn1(void)
{
    uint64_t *o = gort_malloc(64);
    o[1] = 1;
    uint64_t *q = gort_malloc_noscan(64);
    q[1] = 1;
    o[2] = (uint64_t)q;
    atomic_store_explicit(&sink, o, memory_order_relaxed);
}

/* Allocates until n more collections finished (n-1 whole cycles at least),
 * then a little more, a different amount each time, so that the next move
 * lands anywhere in a cycle. */
static uint64_t jseed = 88172645463325252ull;
static __attribute__((noinline)) void run_cycles(uint64_t n)
{
    transit_off();
    uint64_t target = atomic_load(&ncycles) + n;
    while (atomic_load(&ncycles) < target) {
        for (int i = 0; i < 32; i++)
            churn1();
        uint64_t *big = gort_malloc(40000); /* reuses a freed large object's pages */
        big[1] = 1;
        atomic_store_explicit(&sink, big, memory_order_relaxed);
    }
    jseed ^= jseed << 13;
    jseed ^= jseed >> 7;
    jseed ^= jseed << 17;
    for (uint64_t i = 0, k = jseed % 6000; i < k; i++)
        churn1();
    atomic_store_explicit(&sink, NULL, memory_order_relaxed);
    transit_on();
}

/* ---- the containers ---------------------------------------------------------- */

struct holder {
    uint64_t pad0;
    void *p; /* the one pointer field */
    uint64_t pad1;
};
static const gort_type holder_type = GORT_TYPE(struct holder, GORT_PTR(struct holder, p));
struct ptrslot {
    void *p;
};
static const gort_type ptrslot_type = GORT_TYPE(struct ptrslot, 1);

static void *volatile g_slot;           /* global */
static char *volatile g_mid;            /* global, interior */
static struct holder *volatile g_typed; /* typed container */
static void **volatile g_cons;          /* conservative container (16 words) */
static void **volatile g_large;         /* large conservative (LARGE_WORDS) */
static struct ptrslot *volatile g_ltyped; /* large typed array (LARGE_WORDS) */
static void **g_reg;                    /* malloc'ed, registered root */
static uintptr_t g_unc;                 /* uncollectable object, xor MASK */
static gort_chan *volatile g_chan;      /* buffered, elements void * */
static void *volatile g_handoff;        /* main <-> the parked goroutine */
static gort_chan *park_go, *park_back;  /* zero-size elements */

#define INTERIOR_OFF 24
static uint64_t large_slot = 1234;

/* Replaces a large container by a fresh copy. */
static __attribute__((noinline)) void renew_large(void)
{
    void **nl = gort_malloc(LARGE_WORDS * sizeof(void *));
    memcpy(nl, (void *)g_large, LARGE_WORDS * sizeof(void *));
    g_large = nl;
    struct ptrslot *nt = gort_new_array(&ptrslot_type, LARGE_WORDS);
    memcpy(nt, (void *)g_ltyped, LARGE_WORDS * sizeof *nt);
    g_ltyped = nt;
}

/* ---- holds: each puts the object in one kind of root, runs a cycle or two,
 * takes it back, and returns it masked. ---------------------------------------- */

typedef uintptr_t (*holdfn)(uintptr_t m);

static __attribute__((noinline)) uintptr_t hold_global(uintptr_t m)
{
    g_slot = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_slot ^ MASK;
    g_slot = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_global_interior(uintptr_t m)
{
    g_mid = (char *)(m ^ MASK) + INTERIOR_OFF;
    run_cycles(1);
    m = (uintptr_t)(g_mid - INTERIOR_OFF) ^ MASK;
    g_mid = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_shlib(uintptr_t m)
{
    /* setvbuf stores the buffer's address in stdin's FILE, in libc's data. */
    if (setvbuf(stdin, (char *)(m ^ MASK), _IOFBF, 16) != 0)
        FAIL("setvbuf");
    m = 0;
    run_cycles(1);
    /* The test never reads stdin: the buffer is only remembered. */
    FILE *f = stdin;
    m = (uintptr_t)f->_IO_buf_base ^ MASK;
    setvbuf(stdin, NULL, _IONBF, 0);
    return m;
}

static __attribute__((noinline)) uintptr_t hold_stack(uintptr_t m)
{
    void *volatile local = (void *)(m ^ MASK);
    m = 0;
    run_cycles(1);
    m = (uintptr_t)local ^ MASK;
    local = NULL;
    return m;
}

/* The parked goroutine: takes the pointer from g_handoff into a local
 * itself (so no one writes into its stack), parks, and puts it back. */
static void parker(void *arg)
{
    (void)arg;
    while (gort_chan_recv(park_go, NULL)) {
        void *volatile local = g_handoff;
        g_handoff = NULL;
        gort_chan_send(park_back, NULL);
        gort_chan_recv(park_go, NULL); /* parked while main runs cycles */
        g_handoff = local;
        local = NULL;
        gort_chan_send(park_back, NULL);
    }
}

static __attribute__((noinline)) uintptr_t hold_parked(uintptr_t m)
{
    g_handoff = (void *)(m ^ MASK);
    m = 0;
    gort_chan_send(park_go, NULL);
    gort_chan_recv(park_back, NULL);
    if (g_handoff != NULL)
        FAIL("the parked goroutine did not take the pointer");
    run_cycles(2); /* the first may have started before it parked */
    gort_chan_send(park_go, NULL);
    gort_chan_recv(park_back, NULL);
    m = (uintptr_t)g_handoff ^ MASK;
    g_handoff = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_register(uintptr_t m)
{
    uintptr_t p = m ^ MASK;
    m = 0;
    transit_off();
    uint64_t target = atomic_load(&ncycles) + 1;
    while (atomic_load(&ncycles) < target) {
        __asm__ volatile("" : "+r"(p));
        if (SANITIZER)
            gort_gosched(); /* p stays in a callee-saved register, or is spilled */
    }
    transit_on();
    return p ^ MASK;
}

static __attribute__((noinline)) uintptr_t hold_typed(uintptr_t m)
{
    g_typed->p = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_typed->p ^ MASK;
    g_typed->p = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_cons(uintptr_t m)
{
    g_cons[5] = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_cons[5] ^ MASK;
    g_cons[5] = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_cons_interior(uintptr_t m)
{
    g_cons[11] = (char *)(m ^ MASK) + INTERIOR_OFF;
    run_cycles(1);
    m = (uintptr_t)((char *)g_cons[11] - INTERIOR_OFF) ^ MASK;
    g_cons[11] = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_large(uintptr_t m)
{
    large_slot = (large_slot * 7 + 3) % LARGE_WORDS;
    g_large[large_slot] = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_large[large_slot] ^ MASK;
    g_large[large_slot] = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_large_renewed(uintptr_t m)
{
    /* Put, then move the container itself: the pointer is then only in a
     * large object allocated (and filled) during the cycle. */
    large_slot = (large_slot * 7 + 3) % LARGE_WORDS;
    g_large[large_slot] = (void *)(m ^ MASK);
    run_cycles(0);
    renew_large();
    run_cycles(1);
    m = (uintptr_t)g_large[large_slot] ^ MASK;
    g_large[large_slot] = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_large_typed(uintptr_t m)
{
    large_slot = (large_slot * 7 + 3) % LARGE_WORDS;
    g_ltyped[large_slot].p = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_ltyped[large_slot].p ^ MASK;
    g_ltyped[large_slot].p = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_registered(uintptr_t m)
{
    g_reg[3] = (void *)(m ^ MASK);
    run_cycles(1);
    m = (uintptr_t)g_reg[3] ^ MASK;
    g_reg[3] = NULL;
    return m;
}

static __attribute__((noinline)) uintptr_t hold_uncollectable(uintptr_t m)
{
    void **u = (void **)(g_unc ^ MASK);
    u[2] = (void *)(m ^ MASK);
    u = NULL;
    run_cycles(1);
    u = (void **)(g_unc ^ MASK);
    m = (uintptr_t)u[2] ^ MASK;
    u[2] = NULL;
    return m;
}

static __attribute__((noinline)) void chan_put(uintptr_t m)
{
    void *p = (void *)(m ^ MASK);
    gort_chan_send(g_chan, &p); /* buffered, no receiver: into the buffer */
    p = NULL;
    gort_keep_alive(&p);
}

static __attribute__((noinline)) uintptr_t hold_chanbuf(uintptr_t m)
{
    chan_put(m);
    m = 0;
    run_cycles(1);
    void *p = NULL;
    gort_chan_recv(g_chan, &p);
    m = (uintptr_t)p ^ MASK;
    p = NULL;
    gort_keep_alive(&p);
    return m;
}

static int kpipe[2];
static bool no_kernel_writes;

static __attribute__((noinline)) uintptr_t hold_kernel(uintptr_t m)
{
    if (no_kernel_writes)
        return m;
    void *volatile local = (void *)(m ^ MASK); /* keeps it while in the pipe */
    m = 0;
    if (write(kpipe[1], (const void *)&local, sizeof local) != sizeof local)
        FAIL("write to a pipe: %s", strerror(errno));
    run_cycles(0); /* the read lands anywhere in a cycle */
    ssize_t n = read(kpipe[0], (void *)&g_cons[9], sizeof(void *));
    if (n != sizeof(void *))
        FAIL("read(2) into a heap object returned %zd: %s", n, strerror(errno));
    if (g_cons[9] != local)
        FAIL("read(2) delivered %p, not %p", g_cons[9], (void *)local);
    local = NULL;
    run_cycles(1);
    m = (uintptr_t)g_cons[9] ^ MASK;
    g_cons[9] = NULL;
    return m;
}

static uintptr_t defer_out;
static void deferred(void *p) { defer_out = (uintptr_t)p ^ MASK; }

static __attribute__((noinline)) void defer_body(uintptr_t m)
{
    GORT_FRAME();
    gort_defer(deferred, (void *)(m ^ MASK));
    run_cycles(1);
}

static __attribute__((noinline)) uintptr_t hold_defer(uintptr_t m)
{
    defer_body(m);
    m = defer_out;
    defer_out = 0;
    return m;
}

static const struct {
    const char *name;
    holdfn fn;
} kinds[] = {
    {"global", hold_global},
    {"typed", hold_typed},
    {"stack", hold_stack},
    {"cons", hold_cons},
    {"shlib", hold_shlib},
    {"large", hold_large},
    {"register", hold_register},
    {"registered", hold_registered},
    {"global-interior", hold_global_interior},
    {"large-typed", hold_large_typed},
    {"parked", hold_parked},
    {"cons-interior", hold_cons_interior},
    {"uncollectable", hold_uncollectable},
    {"large-renewed", hold_large_renewed},
    {"chanbuf", hold_chanbuf},
    {"defer", hold_defer},
    {"kernel", hold_kernel},
};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };

/* Clears the stack below the caller: conservative scanning would find the
 * stale copies that earlier, deeper calls left there. */
static __attribute__((noinline)) void scrub(void)
{
    char buf[16384];
    memset(buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) void setup(void)
{
    g_typed = gort_new(&holder_type);
    g_cons = gort_malloc(16 * sizeof(void *));
    g_large = gort_malloc(LARGE_WORDS * sizeof(void *));
    g_ltyped = gort_new_array(&ptrslot_type, LARGE_WORDS);
    g_reg = calloc(8, sizeof(void *));
    gort_add_roots(g_reg, 8 * sizeof(void *));
    g_unc = (uintptr_t)gort_malloc_uncollectable(8 * sizeof(void *)) ^ MASK;
    g_chan = gort_chan_make(sizeof(void *), 4);
    if (pipe(kpipe) != 0)
        FAIL("pipe: %s", strerror(errno));
    const char *gd = getenv("GODEBUG");
    no_kernel_writes = gd != NULL && strstr(gd, "gcdirty=mprotect") != NULL;
    park_go = gort_chan_make(0, 0);
    park_back = gort_chan_make(0, 0);
    gort_go(parker, NULL, 0);
    make_objects();
}

static int main2(int argc, char **argv)
{
    /* Optional: a kind name (only that kind), a round count. */
    const char *only = argc > 1 ? argv[1] : NULL;
    int rounds = argc > 2 ? atoi(argv[2]) : ROUNDS;
    setup();
    scrub();
    gort_waitgroup_add(&cycler_wg, 1);
    gort_go(cycler, NULL, 0);
    run_cycles(2); /* the objects are old now */
    int holds = 0;
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NKINDS; k++) {
            if (only != NULL && strcmp(only, kinds[k].name) != 0)
                continue;
            curkind = kinds[k].name;
            /* Each object takes the kinds in a different order. */
            int o = (k + r) % NOBJ;
            uintptr_t m = (uintptr_t)resting[o] ^ MASK;
            transit = resting[o];
            transit_masked = m;
            resting[o] = NULL;
            scrub();
            m = kinds[k].fn(m);
            resting[o] = (struct hdr *)(m ^ MASK);
            transit = NULL;
            transit_masked = 0;
            check(resting[o], o);
            holds++;
            if (holds % 7 == 0)
                renew_large();
        }
    }
    curkind = "end";
    for (int o = 0; o < NOBJ; o++)
        check(resting[o], o);
    atomic_store(&stop, true);
    gort_waitgroup_wait(&cycler_wg);
    printf("ok (%s): %d holds, %llu collections\n", mode, holds,
           (unsigned long long)atomic_load(&ncycles));
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
