/* Ports of the cases of Go's src/runtime/gc_test.go, malloc_test.go and
 * mfinal_test.go that apply to C (GO-FACTS 5.2): TestGcSys,
 * TestGcDeepNesting, TestGcArraySlice, TestGcLastTime, TestUserForcedGC,
 * TestMemStats (the invariants of GO-FACTS 3.5), TestFinalizerType (here:
 * one finalizer per kind of object, each called with its object),
 * TestFinalizerZeroSizedStruct and TestFinalizerOnGlobal. */
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s: ", __func__);                                             \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static gort_mem_stats ms, ms2;

static int64_t unixnano(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* testprog's GCSys: 100 MB of 1029-byte garbage must not grow Sys by more
 * than 16 MB. */
static __attribute__((noinline)) void *workthegc(void) { return gort_malloc_noscan(1029); }

static void test_gc_sys(void)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    /* The sanitizer runtimes bring megabytes of writable globals (TSan's:
     * 47 MB), which are roots and, as in Go, count toward the heap goal:
     * the heap may grow that far. */
    return;
#endif
    int old = gort_gomaxprocs(1);
    gort_gc();
    gort_read_mem_stats(&ms);
    uint64_t sys = ms.sys;
    for (int i = 0; i < 100000; i++)
        gort_keep_alive(workthegc());
    gort_read_mem_stats(&ms);
    sys = sys > ms.sys ? 0 : ms.sys - sys;
    CHECK(sys <= (16u << 20), "using too much memory: %llu bytes", (unsigned long long)sys);
    gort_gomaxprocs(old);
}

/* [2]^10 array of pointers, the last element set. */
typedef int *T10[2][2][2][2][2][2][2][2][2][2];

static void test_gc_deep_nesting(void)
{
    T10 *a = gort_malloc(sizeof *a);
    int *v = gort_malloc_noscan(sizeof *v);
    *v = 13;
    (*a)[0][0][0][0][0][0][0][0][0][0] = v;
    v = NULL;
    gort_gc();
    CHECK(*(*a)[0][0][0][0][0][0][0][0][0][0] == 13, "lost the nested value");
}

/* Interior pointers: each X points into the previous X's buf. */
struct X {
    char buf[1];
    char *nextbuf;
    struct X *next;
};
static const gort_type x_type =
    GORT_TYPE(struct X, GORT_PTR(struct X, nextbuf) | GORT_PTR(struct X, next));

static void test_gc_array_slice(void)
{
    struct X *head = NULL;
    for (int i = 0; i < 10; i++) {
        struct X *p = gort_new(&x_type);
        p->buf[0] = 42;
        p->next = head;
        if (head != NULL)
            p->nextbuf = head->buf;
        head = p;
        gort_gc();
    }
    for (struct X *p = head; p != NULL; p = p->next)
        CHECK(p->buf[0] == 42, "corrupted heap");
}

static void test_gc_last_time(void)
{
    int64_t start = unixnano();
    gort_gc();
    int64_t stop = unixnano();
    gort_read_mem_stats(&ms);
    int64_t last = (int64_t)ms.last_gc;
    CHECK(start <= last && last <= stop, "bad last GC time: got %lld, want [%lld, %lld]",
          (long long)last, (long long)start, (long long)stop);
    uint64_t pause = ms.pause_ns[(ms.num_gc + 255) % 256];
    CHECK(pause > 0 && pause <= 10000000000ull, "bad last GC pause: %llu",
          (unsigned long long)pause);
}

static void test_user_forced_gc(void)
{
    gort_read_mem_stats(&ms);
    gort_gc();
    gort_read_mem_stats(&ms2);
    CHECK(ms.num_gc != ms2.num_gc, "NumGC did not increase");
    CHECK(ms.num_forced_gc != ms2.num_forced_gc, "NumForcedGC did not increase");
}

static void *volatile live[1000];

static void test_mem_stats(void)
{
    for (int i = 0; i < 1000; i++)
        live[i] = gort_malloc(i * 16 + 8);
    gort_read_mem_stats(&ms);
    gort_mem_stats *s = &ms;
    CHECK(s->sys == s->heap_sys + s->stack_sys + s->mspan_sys + s->mcache_sys +
                        s->buck_hash_sys + s->gc_sys + s->other_sys,
          "bad sys value");
    CHECK(s->heap_idle + s->heap_inuse == s->heap_sys, "HeapIdle + HeapInuse != HeapSys");
    CHECK(s->alloc == s->heap_alloc, "Alloc != HeapAlloc");
    CHECK(s->heap_objects == s->mallocs - s->frees, "HeapObjects != Mallocs - Frees");
    CHECK(s->heap_alloc > 0 && s->heap_alloc <= s->heap_inuse, "HeapAlloc %llu, HeapInuse %llu",
          (unsigned long long)s->heap_alloc, (unsigned long long)s->heap_inuse);
    CHECK(s->heap_released <= s->heap_idle, "HeapReleased > HeapIdle");
    CHECK(s->stack_inuse > 0 && s->stack_inuse <= s->stack_sys, "StackInuse %llu StackSys %llu",
          (unsigned long long)s->stack_inuse, (unsigned long long)s->stack_sys);
    CHECK(s->mspan_inuse <= s->mspan_sys && s->mcache_inuse <= s->mcache_sys,
          "Inuse > Sys for mspan/mcache");
    CHECK(s->total_alloc >= s->alloc, "TotalAlloc < Alloc");
    CHECK(s->last_gc == s->pause_end[(s->num_gc + 255) % 256], "LastGC != latest PauseEnd");
    uint64_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum += s->pause_ns[i];
    CHECK(s->num_gc > 256 ? s->pause_total_ns >= sum : s->pause_total_ns == sum,
          "PauseTotalNs %llu, sum of PauseNs %llu", (unsigned long long)s->pause_total_ns,
          (unsigned long long)sum);
    for (uint32_t i = s->num_gc; i < 256; i++)
        CHECK(s->pause_ns[i] == 0 && s->pause_end[i] == 0, "unused pause slot %u set", i);
    CHECK(s->num_forced_gc <= s->num_gc, "NumForcedGC > NumGC");
    CHECK(s->lookups == 0, "Lookups != 0");
    CHECK(s->enable_gc && !s->debug_gc, "EnableGC/DebugGC");
    CHECK(s->gc_cpu_fraction >= 0 && s->gc_cpu_fraction <= 0.99, "GCCPUFraction %f",
          s->gc_cpu_fraction);
    CHECK(s->next_gc > 0, "NextGC is 0");
    for (int i = 1; i < 61; i++)
        CHECK(s->by_size[i].size > 0 && s->by_size[i].frees <= s->by_size[i].mallocs,
              "BySize[%d]", i);
}

/* One finalizer per kind of object; each must get its own object. */
struct big {
    void *p;
    char pad[40000];
};
enum { K_TYPED, K_CONS, K_NOSCAN, K_ARRAY, K_LARGE, K_TINY, NK };
#define MASK ((uintptr_t)0x5555000000000000ull)
static void *volatile expect[NK];
static _Atomic int finran[NK];
static gort_chan *findone;
#define FIN(k)                                                                             \
    static void fin##k(void *p)                                                            \
    {                                                                                      \
        atomic_store(&finran[k], ((uintptr_t)p ^ MASK) == (uintptr_t)expect[k] ? 1 : -1);                                  \
        gort_chan_send(findone, NULL);                                                     \
    }
FIN(K_TYPED)
FIN(K_CONS)
FIN(K_NOSCAN)
FIN(K_ARRAY)
FIN(K_LARGE)
FIN(K_TINY)
static void (*const fins[NK])(void *) = {finK_TYPED, finK_CONS,  finK_NOSCAN,
                                         finK_ARRAY, finK_LARGE, finK_TINY};

static __attribute__((noinline)) void make_finalized(void)
{
    void *o[NK];
    o[K_TYPED] = gort_new(&x_type);
    o[K_CONS] = gort_malloc(48);
    o[K_NOSCAN] = gort_malloc_noscan(100);
    o[K_ARRAY] = gort_new_array(&x_type, 7);
    o[K_LARGE] = gort_malloc(sizeof(struct big));
    o[K_TINY] = (char *)gort_malloc_noscan(4);
    for (int k = 0; k < NK; k++) {
        expect[k] = (void *)((uintptr_t)o[k] ^ MASK); /* masked: not a root */
        gort_set_finalizer(o[k], fins[k]);
    }
}

static void test_finalizer_type(void)
{
    findone = gort_chan_make(0, NK);
    make_finalized();
    /* gort_gc until every finalizer has run (a tiny block can share with a
     * live object for a while; give it a bounded number of cycles). */
    int n = 0;
    for (int i = 0; i < 200 && n < NK; i++) {
        gort_gc();
        gort_case c = {.chan = findone, .dir = GORT_RECV};
        while (gort_select(&c, 1, false) == 0)
            n++;
        if (n < NK)
            gort_sleep(1000000);
    }
    for (int k = 0; k < NK; k++)
        CHECK(finran[k] == 1, "finalizer of kind %d: %s", k,
              finran[k] == 0 ? "did not run" : "got the wrong pointer");
}

static int global_obj;

static void test_finalizer_zero_sized_and_global(void)
{
    gort_set_finalizer(gort_malloc(0), fins[0]);
    gort_set_finalizer(&global_obj, fins[0]);
    gort_gc();
}

static int main_fn(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_gc_sys();
    test_gc_deep_nesting();
    test_gc_array_slice();
    test_gc_last_time();
    test_user_forced_gc();
    test_mem_stats();
    test_finalizer_type();
    test_finalizer_zero_sized_and_global();
    return failures != 0;
}

int main(int argc, char **argv) { return gort_main(main_fn, argc, argv); }
