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
 * not the goroutine (as with cgo).  errno is preserved per goroutine: the
 * runtime saves it when a goroutine switches out and restores it on the
 * thread where it resumes.  One caution: glibc declares __errno_location
 * `const`, so the compiler may reuse errno's address (the old thread's)
 * after a gort call that switched threads; read errno right after the call
 * that set it (`if (read(...) < 0 && errno == EAGAIN)` is fine), and never
 * keep &errno or a __thread address across a gort call.
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

/* Threads the runtime did not create may call any gort function: on its
 * first call such a thread is attached (it gets an M and a goroutine of its
 * own, wired to it) and it blocks where a goroutine would park.  Between
 * calls it holds no P and counts as running, so it keeps the deadlock
 * detector quiet — but a thread that has not made its first call is
 * invisible to it: a goroutine that waits for such a thread may be reported
 * as "all goroutines are asleep".  A thread can attach early with
 * gort_attach_thread(), which waits for gort_main to have started the
 * runtime and is a no-op on a thread that is already known. */
GORT_API void gort_attach_thread(void);

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
    const char *name;       /* for messages; a panic value that is neither an
                               error nor a Stringer prints as "(name) 0xADDR" */
    /* Methods, for panic values (gort_panic_value, gort_any_format): when
     * set, write the text snprintf-style into buf (at most size bytes,
     * NUL-terminated) and return its full length.  error set: the type is
     * an error (Go's Error()); only string set: a Stringer (String()). */
    int (*error)(const void *value, char *buf, size_t size);
    int (*string)(const void *value, char *buf, size_t size);
    bool runtime_error; /* its values implement runtime.Error */
    /* Go's basic kinds, for panic values (GORT_KIND_*; 0: none).  A value
     * of such a type points at a C value of the kind's width (INT and UINT
     * are 64-bit, as on Go's 64-bit targets; a STRING's value is its
     * NUL-terminated text, as gort_string_type's).  A panic prints it as
     * Go does: bare when name is the kind's predeclared name ("int",
     * "float64", "string", ...), otherwise as a named type:
     * main.MyInt(93), main.MyString("Panic"), main.MyFloat64(-9.370000e+001). */
    uint8_t kind;
} gort_type;
enum {
    GORT_KIND_BOOL = 1, /* bool */
    GORT_KIND_INT,      /* int64_t (Go's int) */
    GORT_KIND_INT8,
    GORT_KIND_INT16,
    GORT_KIND_INT32,
    GORT_KIND_INT64,
    GORT_KIND_UINT,     /* uint64_t (Go's uint) */
    GORT_KIND_UINT8,
    GORT_KIND_UINT16,
    GORT_KIND_UINT32,
    GORT_KIND_UINT64,
    GORT_KIND_UINTPTR,
    GORT_KIND_FLOAT32,
    GORT_KIND_FLOAT64,
    GORT_KIND_COMPLEX64,  /* float _Complex */
    GORT_KIND_COMPLEX128, /* double _Complex */
    GORT_KIND_STRING,     /* value: const char *, the text itself */
};
/* A panic-value descriptor of a basic kind: GORT_BASIC_TYPE("main.MyInt", INT). */
#define GORT_BASIC_TYPE(name_, kind_) {.name = (name_), .kind = GORT_KIND_##kind_}
#define GORT_PTR(T, field) ((uint64_t)1 << (offsetof(T, field) / sizeof(void *)))
#define GORT_TYPE(T, mask) {.size = sizeof(T), .ptrmask = (mask), .name = #T}

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

/* ---- defer, panic, recover -------------------------------------------
 *
 * Go's defer/panic/recover for C.  A function that defers opens a frame with
 * GORT_FRAME at the top of its body; the frame is a local variable with a
 * setjmp landing pad, closed automatically (the cleanup attribute of gcc and
 * clang) on every exit from its scope, early returns included.  Closing it
 * runs the function's deferred calls, last deferred first.
 *
 *     static void unlock(void *mu) { gort_mutex_unlock(mu); }
 *
 *     int withdraw(struct account *a, int amount)
 *     {
 *         GORT_FRAME(-1);                 // a recovered panic returns -1
 *         gort_mutex_lock(&a->mu);
 *         gort_defer(unlock, &a->mu);
 *         if (a->balance < amount)
 *             return 0;                   // unlock runs here
 *         a->balance -= amount;
 *         return 1;                       // and here
 *     }
 *
 * Recovering.  A deferred call that calls gort_recover() during a panic
 * stops it: when that deferred call returns, the remaining deferred calls
 * of its frame run and the function that deferred it returns to its caller
 * with the value given to GORT_FRAME (nothing for a void function:
 * GORT_FRAME()).  Go's named results are a variable that the deferred call
 * may change, returned with GORT_RETURN so that the deferred calls run
 * before the value is read:
 *
 *     static void catch(void *res)
 *     {
 *         if (gort_recover() != NULL)
 *             *(int *)res = -1;
 *     }
 *     int parse(const char *s)
 *     {
 *         volatile int res = 0;           // volatile: read after a recovery
 *         GORT_FRAME(res);
 *         gort_defer(catch, (void *)&res);
 *         GORT_RETURN(res, parse_or_panic(s));
 *     }
 *
 * THE VOLATILE RULE.  A recovery resumes the deferring function by longjmp.
 * A local of that function that is changed after GORT_FRAME and read after
 * a recovery (in GORT_FRAME's value, or by a deferred call through a
 * pointer) must be volatile, or its value is indeterminate (C11 7.13.2.1;
 * gcc's -Wclobbered warns about many such locals).  Locals read only
 * through pointers the deferred calls were given, and locals of other
 * functions, need nothing.
 *
 * The rules are Go's (GO-FACTS 3.3):
 *   - gort_recover() returns non-NULL only while the goroutine panics, the
 *     panic is not yet recovered, it is not a gort_goexit, and the caller of
 *     gort_recover is the deferred function itself (not a function it
 *     calls).  It is a macro: the check uses the caller's frame address.
 *     Deferred functions must keep their frame pointer (build with
 *     -fno-omit-frame-pointer, as pkg-config's cflags say).
 *   - A panic inside a deferred call during a panic chains: the report
 *     prints both ("panic: first [recovered]" / TAB "panic: second"); a
 *     recovery of the newer one ends the older, aborted one too.
 *   - gort_goexit runs every deferred call of the goroutine, then ends it.
 *   - A GORT_FRAME may also open a block: its deferred calls then run when
 *     the block is left.  gort_defer attaches to the innermost frame, which
 *     must belong to the calling function ("fatal error: gort_defer outside
 *     a GORT_FRAME" otherwise).
 *   - Do not leave a frame by longjmp of your own, and do not return from
 *     a deferred call by longjmp: the runtime's chains would be corrupted.
 * In C++, a recovery skips destructors of the frames it unwinds.
 *
 * Panic values are Go's `any`: a pointer with its gort_type (the heap's
 * type descriptor, whose name and method fields matter here).
 * gort_panic(msg) is a string; gort_panicf formats one; gort_panic_value
 * takes any pointer with a type that names it and, optionally, makes it an
 * error (Error()) or a Stringer (String()).  Runtime errors (nil dereference, divide by zero,
 * index out of range, channel misuse) are errors with runtime_error set.
 * panic(NULL) is Go 1.21's "panic called with nil argument" runtime error;
 * GODEBUG=panicnil=1 restores the old panic(nil), whose recover returns
 * NULL. */

#include <setjmp.h>


/* A panic value.  A string's value is its const char *. */
typedef struct gort_any {
    const gort_type *type;
    const void *value;
} gort_any;

GORT_API extern const gort_type gort_string_type; /* "string" */

/* A function's defer frame (GORT_FRAME).  Its fields belong to the runtime. */
typedef struct gort_frame {
    struct gort_frame *link; /* the enclosing frame of the goroutine */
    void *fp;                /* frame address of the function that opened it */
    void *g;                 /* the goroutine */
    bool closed;
    jmp_buf landing;         /* where a recovery resumes the function */
} gort_frame;

GORT_API void gort_frame_open(gort_frame *f, void *fp);
GORT_API void gort_frame_close(gort_frame *f);

#define GORT_FRAME(...)                                                                  \
    gort_frame gort_frame_ __attribute__((cleanup(gort_frame_close)));                   \
    gort_frame_open(&gort_frame_, __builtin_frame_address(0));                           \
    if (setjmp(gort_frame_.landing))                                                     \
    return __VA_ARGS__

/* Go's `return` with a named result: res = value, run the deferred calls
 * (which may change res), return res. */
#define GORT_RETURN(res, ...)                                                            \
    do {                                                                                 \
        (res) = (__VA_ARGS__);                                                           \
        gort_frame_close(&gort_frame_);                                                  \
        return (res);                                                                    \
    } while (0)

/* Defers fn(arg) to the return of the function whose GORT_FRAME is
 * innermost.  fn == NULL panics with the nil-dereference error when the
 * call would run, as Go's deferred nil func does. */
GORT_API void gort_defer(void (*fn)(void *), void *arg);
/* The same, with size bytes at arg copied now (Go evaluates a deferred
 * call's arguments at the defer statement): fn gets a pointer to the copy. */
GORT_API void gort_defer_copy(void (*fn)(void *), const void *arg, size_t size);

/* Go's recover().  The gort_any is valid until the deferred call returns
 * (copy the two words to keep it); its value pointer lives as long as the
 * panicker made it.  The text of gort_panicf and of the runtime's
 * formatted errors (bounds) is a collected object (gort_malloc_noscan): it
 * stays valid while the collector can see a pointer to it, so keep it
 * where the collector looks (not only in malloc'ed memory), or copy it. */
#define gort_recover() gort_recover_frame(__builtin_frame_address(0))
GORT_API const gort_any *gort_recover_frame(void *callerfp);

/* Panics with a message, as Go's panic("msg"); NULL is panic(nil). */
GORT_API GORT_NORETURN void gort_panic(const char *msg);
GORT_API GORT_NORETURN GORT_PRINTF(1, 2) void gort_panicf(const char *fmt, ...);
/* panic(v): value with its type (type NULL and value NULL: panic(nil)). */
GORT_API GORT_NORETURN void gort_panic_value(const gort_type *type, const void *value);
/* Re-panics with a recovered value (Go's panic(r)). */
GORT_API GORT_NORETURN void gort_panic_any(gort_any v);

/* The text an unrecovered panic prints for v: the string, Error(),
 * String(), a basic kind's value (main.MyInt(93), see gort_type.kind), or
 * "(name) 0xADDR".  snprintf-style. */
GORT_API int gort_any_format(const gort_any *v, char *buf, size_t size);
/* The value implements runtime.Error (Go's `_, ok := r.(runtime.Error)`). */
GORT_API bool gort_is_runtime_error(const gort_any *v);

/* Bounds checks with Go's messages ("runtime error: index out of range [5]
 * with length 3", "slice bounds out of range [2:1]", ...). */
GORT_API void gort_panic_index(int64_t i, int64_t len);
#define gort_index_check(i, len)                                                         \
    ((uint64_t)(i) < (uint64_t)(len) ? (void)0 : gort_panic_index((int64_t)(i), (int64_t)(len)))
/* s[lo:hi] on an array or string of length len (Go's slice bounds errors:
 * "... with length N"); gort_slice_cap_check on a slice of capacity cap
 * ("... with capacity N"). */
GORT_API void gort_slice_check(int64_t lo, int64_t hi, int64_t len);
GORT_API void gort_slice_cap_check(int64_t lo, int64_t hi, int64_t cap);

/* runtime.Stack: writes the calling goroutine's traceback (all == true: every
 * goroutine's, with the world stopped) into buf, truncated to len; returns the
 * number of bytes written. */
GORT_API int gort_stack(char *buf, int len, bool all);

/* ---- caller information (runtime.Caller, Callers, FuncForPC) ----------- */

/* The pc, file and line of the caller `skip` frames up (0: the caller of
 * gort_caller).  file may be NULL; returns false past the top of the
 * stack.  File names live as long as the program. */
GORT_API bool gort_caller(int skip, uintptr_t *pc, const char **file, int *line);
/* Return pcs of the calling stack, skip frames skipped (0: gort_callers
 * itself, 1 its caller, as Go counts).  Returns how many were written. */
GORT_API int gort_callers(int skip, uintptr_t *pcs, int n);
/* The function containing pc (a return pc is looked up at pc-1 as Go's
 * FuncForPC(pc).Name() of a Callers entry does); NULL when unknown.  *entry
 * gets its entry address when entry is not NULL. */
GORT_API const char *gort_func_name(uintptr_t pc, uintptr_t *entry);
/* file:line of pc (FuncForPC(pc).FileLine(pc)): returns false when unknown. */
GORT_API bool gort_func_line(uintptr_t pc, const char **file, int *line);

/* ---- signals (os/signal) ----------------------------------------------- */

/* Relays the given signals (nsig of them; nsig == 0: every signal a program
 * may catch) to c, whose elements are ints (the signal number).  Delivery
 * never blocks: a signal that finds c full is dropped, as Go's Notify does,
 * so c should be buffered.  Several channels may be notified of the same
 * signal. */
GORT_API void gort_signal_notify(gort_chan *c, const int *sigs, int nsig);
/* Stops relaying any signal to c; when this returns, no more are sent. */
GORT_API void gort_signal_stop(gort_chan *c);
/* Ignores the signals (all when nsig == 0). */
GORT_API void gort_signal_ignore(const int *sigs, int nsig);
/* Undoes Notify and Ignore for the signals (all when nsig == 0). */
GORT_API void gort_signal_reset(const int *sigs, int nsig);
GORT_API bool gort_signal_ignored(int sig);

/* ---- program initialization -------------------------------------------
 * GORT_INIT(name, fn, deps...) registers void fn(void) as the init named
 * `name` (an identifier), to run on the main goroutine before main_fn,
 * after the inits named in deps (string literals).  Inits run in dependency
 * order, then in registration order (the link order of constructors);
 * a dependency cycle is "fatal error: initialization cycle: a -> b -> a";
 * an unknown name is fatal too.
 *
 *     static void open_db(void) { ... }
 *     GORT_INIT(db, open_db, "config", "log");
 */
typedef struct gort_init_entry {
    const char *name;
    void (*fn)(void);
    const char *const *deps; /* ndeps names */
    int ndeps;
    struct gort_init_entry *next;
    int state; /* the runtime's */
} gort_init_entry;
GORT_API void gort_init_register(gort_init_entry *e);
#define GORT_INIT(name, fn, ...)                                                         \
    static const char *const gort_init_deps_##name[] = {"", __VA_ARGS__};                \
    static gort_init_entry gort_init_entry_##name = {                                    \
        #name, fn, gort_init_deps_##name + 1,                                            \
        (int)(sizeof gort_init_deps_##name / sizeof gort_init_deps_##name[0]) - 1, NULL, 0}; \
    __attribute__((constructor)) static void gort_init_ctor_##name(void)                  \
    {                                                                                    \
        gort_init_register(&gort_init_entry_##name);                                     \
    }

#ifdef __cplusplus
}
#endif
#endif /* GORT_H */
