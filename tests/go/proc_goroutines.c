/* Goroutine identity and creation (proc_test.go / testprog misc.go, and
 * what gort_go promises in gort.h):
 *   - NumGoroutine is 1 in a fresh program: runtime helpers do not count
 *     (testprog NumGoroutine, run by TestNumGoroutine);
 *   - goroutine ids: main is 1, gort_go returns the id the goroutine sees
 *     from gort_goid, ids of live goroutines are distinct, and ids are
 *     never reused, even when dead goroutines' structures are;
 *   - gort_go copies argsize bytes at the call: the new goroutine sees them
 *     as they were even though the caller overwrites its copy at once;
 *     argsize == 0 passes the pointer itself;
 *   - gort_go_opts' stack_size: a goroutine with a 4 MiB stack uses 3 MiB
 *     of locals, one with the default uses 200 KiB, and a tiny request is
 *     rounded up to a usable stack;
 *   - errno belongs to the goroutine across every way of blocking (yield,
 *     sleep, channel, select, mutex, condition variable, WaitGroup) while
 *     other goroutines on other threads set their own. */
#include <errno.h>
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *test, const char *why, long a, long b)
{
    fprintf(stderr, "FAIL: %s: %s (%ld, %ld)\n", test, why, a, b);
    exit(1);
}

/* ---- goroutine ids ------------------------------------------------------- */

enum { NIDS = 1000 };

static int64_t returned[2][NIDS], seen[2][NIDS];
static gort_waitgroup ids_wg;
static gort_chan *ids_release;

struct id_arg {
    int round, i;
};

static void record_id(void *arg)
{
    struct id_arg *a = arg;
    seen[a->round][a->i] = gort_goid();
    gort_waitgroup_done(&ids_wg);
    gort_chan_recv(ids_release, NULL); /* stay alive until all have recorded */
}

static int cmp_id(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static void goroutine_ids(void)
{
    if (gort_goid() != 1)
        fail("goid", "main goroutine's id is not 1", (long)gort_goid(), 1);
    for (int round = 0; round < 2; round++) {
        ids_release = gort_chan_make(0, 0);
        gort_waitgroup_add(&ids_wg, NIDS);
        for (int i = 0; i < NIDS; i++) {
            struct id_arg a = {round, i};
            returned[round][i] = gort_go(record_id, &a, sizeof a);
        }
        gort_waitgroup_wait(&ids_wg);
        for (int i = 0; i < NIDS; i++)
            if (returned[round][i] != seen[round][i])
                fail("goid", "gort_go's result differs from the goroutine's gort_goid",
                     (long)returned[round][i], (long)seen[round][i]);
        gort_chan_close(ids_release);
        /* The second round reuses the first round's dead goroutines. */
        while (gort_num_goroutine() != 1)
            gort_gosched();
    }
    static int64_t all[2 * NIDS];
    memcpy(all, seen, sizeof all);
    qsort(all, 2 * NIDS, sizeof all[0], cmp_id);
    if (all[0] <= 1)
        fail("goid", "a goroutine got an id <= main's", (long)all[0], 1);
    for (int i = 1; i < 2 * NIDS; i++)
        if (all[i] == all[i - 1])
            fail("goid", "two goroutines share an id", (long)all[i], i);
}

/* ---- argument copying ------------------------------------------------------ */

enum { NCOPY = 64, BLOB = 4096 };

struct blob {
    int i;
    unsigned char bytes[BLOB];
};
static gort_waitgroup copy_wg;

static void check_blob(void *arg)
{
    struct blob *b = arg;
    for (int k = 0; k < BLOB; k++)
        if (b->bytes[k] != (unsigned char)(b->i * 31 + k))
            fail("gort_go copy", "the goroutine saw the caller's later bytes", b->i, k);
    gort_gosched();
    for (int k = 0; k < BLOB; k++)
        if (b->bytes[k] != (unsigned char)(b->i * 31 + k))
            fail("gort_go copy", "the copy changed while its goroutine yielded", b->i, k);
    gort_waitgroup_done(&copy_wg);
}

static void check_pointer(void *arg)
{
    int *p = arg;
    *p = 42; /* argsize == 0: this is the caller's object itself */
    gort_waitgroup_done(&copy_wg);
}

static void arg_copy(void)
{
    static struct blob b; /* one buffer, reused for every goroutine */
    gort_waitgroup_add(&copy_wg, NCOPY);
    for (int i = 0; i < NCOPY; i++) {
        b.i = i;
        for (int k = 0; k < BLOB; k++)
            b.bytes[k] = (unsigned char)(i * 31 + k);
        gort_go(check_blob, &b, sizeof b);
        memset(b.bytes, 0xA5, sizeof b.bytes);
        b.i = -1;
    }
    gort_waitgroup_wait(&copy_wg);

    static int target;
    gort_waitgroup_add(&copy_wg, 1);
    gort_go(check_pointer, &target, 0);
    gort_waitgroup_wait(&copy_wg);
    if (target != 42)
        fail("gort_go", "argsize 0 did not pass the pointer itself", target, 42);
}

/* ---- stack sizes ------------------------------------------------------------- */

struct stack_arg {
    size_t use;
    gort_chan *done;
};

static __attribute__((noinline)) long use_stack(size_t use)
{
    volatile unsigned char *buf = __builtin_alloca(use);
    for (size_t k = 0; k < use; k += 512)
        buf[k] = (unsigned char)(k >> 9);
    buf[use - 1] = 7;
    gort_gosched(); /* the big frame survives a switch (and a move, if any) */
    long sum = 0;
    for (size_t k = 0; k < use; k += 512)
        sum += buf[k];
    return sum + buf[use - 1];
}

static void stack_user(void *arg)
{
    struct stack_arg *a = arg;
    long want = 7;
    for (size_t k = 0; k < a->use; k += 512)
        want += (unsigned char)(k >> 9);
    long got = use_stack(a->use);
    if (got != want)
        fail("stack_size", "locals changed", got, want);
    gort_chan_send(a->done, NULL);
}

static void stack_sizes(void)
{
    static const struct {
        size_t stack, use;
    } cases[] = {
        {4 << 20, 3 << 20},  /* 4 MiB stack, 3 MiB of locals */
        {0, 200 << 10},      /* the default, 256 KiB */
        {1, 6 << 10},        /* rounded up to at least 16 KiB */
        {(3 << 20) + 1, 3 << 20}, /* rounded up to 4 MiB */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct stack_arg a = {cases[c].use, gort_chan_make(0, 0)};
        gort_go_options o = {.stack_size = cases[c].stack};
        for (int k = 0; k < 3; k++) /* a fresh stack and reused ones */
            gort_go_opts(stack_user, &a, sizeof a, &o);
        for (int k = 0; k < 3; k++)
            gort_chan_recv(a.done, NULL);
    }
}

/* ---- errno per goroutine ------------------------------------------------------- */

/* Out of line: glibc's __errno_location is const, so inlined code may keep
 * an old thread's errno address across a switch (gort.h). */
static __attribute__((noinline)) int errno_read(void) { return errno; }
static __attribute__((noinline)) void errno_write(int v) { errno = v; }

enum { NERRNO = 16, ERRNO_ITERS = 300 };

static gort_mutex errno_mu;
static gort_chan *errno_ping, *errno_stop;
static gort_waitgroup errno_wg;

/* The partner of the workers' select sends. */
static void pinger(void *arg)
{
    (void)arg;
    for (;;) {
        int v;
        gort_case cs[2] = {{errno_ping, GORT_RECV, &v, false},
                           {errno_stop, GORT_RECV, NULL, false}};
        if (gort_select(cs, 2, true) == 1)
            return;
    }
}

struct signal_arg {
    gort_mutex mu;
    gort_cond cond;
    bool flag;
    gort_waitgroup wg;
};

static void signaler(void *arg)
{
    struct signal_arg *s = arg;
    errno_write(-1);
    gort_mutex_lock(&s->mu);
    s->flag = true;
    gort_cond_signal(&s->cond);
    gort_mutex_unlock(&s->mu);
}

static void wg_done(void *arg)
{
    errno_write(-2);
    gort_waitgroup_done(arg);
}

static void errno_worker(void *arg)
{
    int id = *(int *)arg;
    if (id % 4 == 3)
        gort_lock_os_thread();
    gort_chan *own = gort_chan_make(sizeof(int), 1);
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    for (int i = 0; i < ERRNO_ITERS; i++) {
        int mine = 1000 * (id + 1) + i;
        errno_write(mine);
        switch ((i + id) % 7) {
        case 0:
            gort_gosched();
            break;
        case 1:
            gort_sleep(20000);
            break;
        case 2: /* blocks until the pinger takes the value */
        {
            gort_case cs[2] = {{errno_ping, GORT_SEND, &i, false},
                               {never, GORT_RECV, NULL, false}};
            gort_select(cs, 2, true);
            break;
        }
        case 3:
            gort_chan_send(own, &i);
            gort_chan_recv(own, NULL);
            break;
        case 4:
            gort_mutex_lock(&errno_mu);
            gort_gosched(); /* others pile up on the mutex */
            gort_mutex_unlock(&errno_mu);
            break;
        case 5:
        {
            struct signal_arg s = {0};
            gort_cond_init(&s.cond, &s.mu);
            gort_mutex_lock(&s.mu);
            gort_go(signaler, &s, 0);
            while (!s.flag)
                gort_cond_wait(&s.cond);
            gort_mutex_unlock(&s.mu);
            break;
        }
        default:
        {
            gort_waitgroup w = {0};
            gort_waitgroup_add(&w, 1);
            gort_go(wg_done, &w, 0);
            gort_waitgroup_wait(&w);
        }
        }
        if (errno_read() != mine)
            fail("errno", "a goroutine's errno changed while it was switched out",
                 errno_read(), mine);
    }
    if (id % 4 == 3)
        gort_unlock_os_thread();
    gort_waitgroup_done(&errno_wg);
}

static void errno_per_goroutine(void)
{
    int old = gort_gomaxprocs(4);
    errno_ping = gort_chan_make(sizeof(int), 0);
    errno_stop = gort_chan_make(0, 0);
    gort_go(pinger, NULL, 0);
    gort_waitgroup_add(&errno_wg, NERRNO);
    for (int id = 0; id < NERRNO; id++)
        gort_go(errno_worker, &id, sizeof id);
    errno_write(7);
    gort_waitgroup_wait(&errno_wg);
    if (errno_read() != 7)
        fail("errno", "main's errno changed while it waited", errno_read(), 7);
    gort_chan_close(errno_stop);
    gort_gomaxprocs(old);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* testprog NumGoroutine: the runtime's own goroutines are not counted. */
    if (gort_num_goroutine() != 1)
        fail("NumGoroutine", "a fresh program has more than one goroutine",
             gort_num_goroutine(), 1);
    goroutine_ids();
    arg_copy();
    stack_sizes();
    errno_per_goroutine();
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
