/*
 * gort.h — the Go runtime, for C programs.  The whole public API.
 *
 * Goroutines run on Go's G/M/P scheduler: gort_main turns the calling
 * thread into the first scheduler thread and runs main_fn as goroutine 1.
 * Every other function here may be called from any goroutine.  The names
 * are Go's, in snake_case under gort_; the semantics are Go's; errors follow
 * C conventions (I/O returns -1 and sets errno) and misuse panics as Go
 * would ("panic: send on closed channel", exit status 2).
 *
 * Build user code with -fno-omit-frame-pointer (pkg-config --cflags gort
 * says so): tracebacks walk frame pointers.
 *
 * Threads and TLS: a goroutine may resume on another OS thread after any
 * call that can block or yield.  __thread variables belong to the thread,
 * not the goroutine (as with cgo); errno is preserved per goroutine.
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORT_API __attribute__((visibility("default")))
#define GORT_NORETURN __attribute__((noreturn))
#define GORT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GORT_API
#define GORT_NORETURN
#define GORT_PRINTF(f, a)
#endif

/* ---- program and goroutines ------------------------------------------ */

/* Runs main_fn as goroutine 1 after the inits and returns its status.  As in
 * Go, the program ends when main_fn returns, whatever other goroutines are
 * doing: gort_main calls exit() with main_fn's result.  The calling thread
 * becomes M0, the first scheduler thread. */
GORT_API int gort_main(int (*main_fn)(int, char **), int argc, char **argv);

/* Starts fn in a new goroutine and returns its id.  argsize > 0: argsize
 * bytes at arg are copied onto the new goroutine's stack before gort_go
 * returns and fn receives a pointer to the copy; argsize == 0: fn receives
 * arg itself.  fn == NULL is "fatal error: go of nil func value". */
GORT_API int64_t gort_go(void (*fn)(void *), const void *arg, size_t argsize);

typedef struct gort_go_options {
    size_t stack_size; /* bytes of stack address space; 0: the default (256 KiB).
                          Rounded up to a power of two, at least 16 KiB. */
} gort_go_options;
GORT_API int64_t gort_go_opts(void (*fn)(void *), const void *arg, size_t argsize,
                              const gort_go_options *opts);

GORT_API void gort_gosched(void);
/* Runs the goroutine's deferred calls and ends it; never returns. */
GORT_API GORT_NORETURN void gort_goexit(void);
/* Number of user goroutines that exist (runtime helpers are not counted). */
GORT_API int gort_num_goroutine(void);
/* n < 1 only queries.  Otherwise sets GOMAXPROCS, stopping the world to do
 * it, and returns the previous setting. */
GORT_API int gort_gomaxprocs(int n);
/* CPUs in this process's affinity mask. */
GORT_API int gort_num_cpu(void);
/* The current goroutine's id (1 for main); 0 on a thread that runs none. */
GORT_API int64_t gort_goid(void);
/* Wires the calling goroutine to its current OS thread; calls nest. */
GORT_API void gort_lock_os_thread(void);
GORT_API void gort_unlock_os_thread(void);
/* Pauses the goroutine for at least ns nanoseconds; ns <= 0 returns at once. */
GORT_API void gort_sleep(int64_t ns);
/* Monotonic clock, nanoseconds. */
GORT_API int64_t gort_nanotime(void);

/* Marks a call that may block in the kernel (Go's entersyscall/exitsyscall):
 * between the two, the goroutine's P may be handed to another thread. */
GORT_API void gort_syscall_enter(void);
GORT_API void gort_syscall_exit(void);

/* ---- channels and select ---------------------------------------------- */

typedef struct gort_chan gort_chan;
/* Panics "makechan: size out of range" when cap (or cap * elem_size) is too big.
 * elem_size must be below 64 KiB. */
GORT_API gort_chan *gort_chan_make(size_t elem_size, size_t cap);
/* c == NULL blocks forever. */
GORT_API void gort_chan_send(gort_chan *c, const void *elem);
/* Returns false when c is closed and drained; elem then gets the zero value.
 * elem may be NULL (the value is discarded). */
GORT_API bool gort_chan_recv(gort_chan *c, void *elem);
GORT_API void gort_chan_close(gort_chan *c);
GORT_API size_t gort_chan_len(gort_chan *c);
GORT_API size_t gort_chan_cap(gort_chan *c);

enum { GORT_RECV = 1, GORT_SEND = 2 };
typedef struct gort_case {
    gort_chan *chan; /* NULL: this case is never ready (Go's nil-channel case) */
    int dir;         /* GORT_RECV or GORT_SEND */
    void *elem;      /* value to send, or where the received value goes (may be NULL) */
    bool ok;         /* out: for the chosen receive, false when the channel was closed */
} gort_case;
/* Go's select: uniform random choice among ready cases.  block == false is a
 * select with a default case: returns -1 when no case is ready.  ncases == 0
 * with block blocks forever (Go's `select {}`). */
GORT_API int gort_select(gort_case *cases, int ncases, bool block);

/* ---- sync: the zero value of each type is ready to use ---------------- */

typedef struct gort_mutex {
    int32_t state;
    uint32_t sema;
} gort_mutex;
GORT_API void gort_mutex_lock(gort_mutex *m);
GORT_API void gort_mutex_unlock(gort_mutex *m);
GORT_API bool gort_mutex_trylock(gort_mutex *m);

typedef struct gort_rwmutex {
    gort_mutex w;
    uint32_t writer_sem;
    uint32_t reader_sem;
    int32_t reader_count;
    int32_t reader_wait;
} gort_rwmutex;
GORT_API void gort_rwmutex_lock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_unlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_rlock(gort_rwmutex *rw);
GORT_API void gort_rwmutex_runlock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_trylock(gort_rwmutex *rw);
GORT_API bool gort_rwmutex_tryrlock(gort_rwmutex *rw);

typedef struct gort_waitgroup {
    uint64_t state; /* high 32 bits: counter; low 32 bits: waiters */
    uint32_t sema;
} gort_waitgroup;
GORT_API void gort_waitgroup_add(gort_waitgroup *wg, int delta);
GORT_API void gort_waitgroup_done(gort_waitgroup *wg);
GORT_API void gort_waitgroup_wait(gort_waitgroup *wg);

typedef struct gort_once {
    uint32_t done;
    gort_mutex m;
} gort_once;
GORT_API void gort_once_do(gort_once *once, void (*fn)(void *), void *arg);

typedef struct gort_cond {
    gort_mutex *l;
    /* notifyList: ticket-based FIFO of waiters (Go's runtime notifyList) */
    uint32_t wait;
    uint32_t notify;
    uintptr_t lock;
    void *head;
    void *tail;
    uintptr_t checker; /* copy detection: "sync.Cond is copied" */
} gort_cond;
GORT_API void gort_cond_init(gort_cond *c, gort_mutex *l);
GORT_API void gort_cond_wait(gort_cond *c);
GORT_API void gort_cond_signal(gort_cond *c);
GORT_API void gort_cond_broadcast(gort_cond *c);

/* ---- memory and garbage collection ------------------------------------
 * Memory from these functions is garbage collected: it stays valid while
 * the collector can see a pointer to it (anywhere inside it) in a
 * goroutine's stack or registers, in the data/bss of the program or any
 * loaded shared object, in a root registered with gort_add_roots, in an
 * uncollectable allocation, or in another live object that may hold
 * pointers.  Memory from libc malloc is invisible: a pointer kept only
 * there does not keep an object alive.  Allocations are zeroed and never
 * return NULL (out of memory is fatal, as in Go).  Before gort_main and on
 * threads the runtime does not know, allocation works (through a locked
 * cache) but no collection starts there.
 *
 * Kinds of object, by what the collector scans in them:
 *   typed         gort_new/gort_new_array: only the words the type says;
 *   conservative  gort_malloc/gort_calloc: every word;
 *   noscan        gort_malloc_noscan: nothing (strings, numbers, buffers).
 * A gort_type names the pointer words of a type by a bitmap over its first
 * 64 words; GORT_TYPE builds one from offsetof:
 *     struct node { struct node *left, *right; int v; };
 *     static const gort_type node_type = GORT_TYPE(struct node,
 *         GORT_PTR(struct node, left) | GORT_PTR(struct node, right));
 * Types larger than 64 words list the rest in ptroffs (byte offsets). */
typedef struct gort_type {
    size_t size;            /* sizeof the type: the stride of an array */
    uint64_t ptrmask;       /* bit i: word i (byte offset 8*i) holds a pointer */
    size_t nptroffs;        /* pointer words at byte offsets >= 512 ... */
    const size_t *ptroffs;  /* ... listed here */
    const char *name;       /* for messages */
} gort_type;
#define GORT_PTR(T, field) ((uint64_t)1 << (offsetof(T, field) / sizeof(void *)))
#define GORT_TYPE(T, mask) {sizeof(T), (mask), 0, NULL, #T}

GORT_API void *gort_new(const gort_type *t);
GORT_API void *gort_new_array(const gort_type *t, size_t n);
GORT_API void *gort_malloc(size_t size);
GORT_API void *gort_calloc(size_t n, size_t size);
GORT_API void *gort_malloc_noscan(size_t size);
/* Scanned like gort_malloc but never collected: it is a root until
 * gort_free_uncollectable.  For pointers kept by foreign code. */
GORT_API void *gort_malloc_uncollectable(size_t size);
GORT_API void gort_free_uncollectable(void *p);
/* [start, start+size) is scanned (every word) at each collection until
 * removed with the same range. */
GORT_API void gort_add_roots(void *start, size_t size);
GORT_API void gort_remove_roots(void *start, size_t size);
/* runtime.KeepAlive: p is reachable at least until this call. */
GORT_API void gort_keep_alive(const void *p);
/* runtime.SetFinalizer: when obj (the start of a GC object) becomes
 * unreachable, fn(obj) runs on the finalizer goroutine and obj is freed by
 * a later cycle if still unreachable.  fn == NULL removes the finalizer.
 * Go's checks and fatal messages apply; an address in globals is ignored. */
GORT_API void gort_set_finalizer(void *obj, void (*fn)(void *obj));
/* runtime.GC: a full collection (and sweep) before returning. */
GORT_API void gort_gc(void);

typedef struct gort_mem_stats {
    uint64_t alloc, total_alloc, sys, lookups, mallocs, frees;
    uint64_t heap_alloc, heap_sys, heap_idle, heap_inuse, heap_released, heap_objects;
    uint64_t stack_inuse, stack_sys;
    uint64_t mspan_inuse, mspan_sys, mcache_inuse, mcache_sys;
    uint64_t buck_hash_sys, gc_sys, other_sys;
    uint64_t next_gc, last_gc, pause_total_ns;
    uint64_t pause_ns[256], pause_end[256];
    uint32_t num_gc, num_forced_gc;
    double gc_cpu_fraction;
    bool enable_gc, debug_gc;
    struct {
        uint32_t size;
        uint64_t mallocs, frees;
    } by_size[61];
} gort_mem_stats;
/* runtime.ReadMemStats (stops the world briefly). */
GORT_API void gort_read_mem_stats(gort_mem_stats *m);

typedef struct gort_gc_stats {
    int64_t last_gc;      /* ns since the Unix epoch; 0: never */
    int64_t num_gc;
    int64_t pause_total;  /* ns */
    int64_t pause[256];   /* most recent first; npause of them */
    int64_t pause_end[256];
    int npause;
} gort_gc_stats;
/* debug.ReadGCStats (without quantiles). */
GORT_API void gort_debug_read_gc_stats(gort_gc_stats *s);
/* debug.SetGCPercent: returns the old value; negative turns the GC off. */
GORT_API int gort_debug_set_gc_percent(int percent);
/* debug.SetMemoryLimit: bytes; negative only queries; returns the old one. */
GORT_API int64_t gort_debug_set_memory_limit(int64_t limit);
/* debug.FreeOSMemory: a collection, then every free page back to the OS. */
GORT_API void gort_debug_free_os_memory(void);

/* ---- panics and tracebacks -------------------------------------------- */

/* Panics with a message, as Go's panic("msg").  Until recovery exists for a
 * frame, an unrecovered panic prints Go's report and exits with status 2. */
GORT_API GORT_NORETURN void gort_panic(const char *msg);
GORT_API GORT_NORETURN GORT_PRINTF(1, 2) void gort_panicf(const char *fmt, ...);

/* runtime.Stack: writes the calling goroutine's traceback (all == true: every
 * goroutine's, with the world stopped) into buf, truncated to len; returns the
 * number of bytes written. */
GORT_API int gort_stack(char *buf, int len, bool all);

#ifdef __cplusplus
}
#endif
#endif /* GORT_H */
