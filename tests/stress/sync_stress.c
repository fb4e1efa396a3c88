/* Randomised load on every sync primitive at once, checking exclusion with
 * plain (non-atomic) data, so both a broken algorithm and a missing
 * happens-before edge (under TSan) show up:
 *   - mutexes whose sema fields all hash to the same semaphore root, so the
 *     treap holds many addresses while goroutines come and go;
 *   - one mutex driven into starvation mode by holders that sleep, while
 *     short lockers and TryLock callers hammer it;
 *   - an RWMutex whose writers and readers check a shared array;
 *   - a Cond-based bounded queue (producers/consumers, Signal and
 *     Broadcast);
 *   - rounds joined by WaitGroups, and a Once per round.
 * GORT_STRESS_ROUNDS scales the run. */
// gort-test: timeout=300
#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- colliding mutexes ------------------------------------------------ */

/* 251 roots * 8 bytes: mutexes this far apart share a semaphore root. */
enum { NCOLL = 16, STRIDE = 251 * 8 };
struct coll {
    gort_mutex m;
    long count; /* under m */
    char pad[STRIDE - sizeof(gort_mutex) - sizeof(long)];
};
_Static_assert(sizeof(struct coll) == STRIDE, "stride");
static struct coll *coll;

/* ---- starvation ------------------------------------------------------- */

static gort_mutex starve_mu;
static long starve_count; /* under starve_mu */

/* ---- rwmutex ---------------------------------------------------------- */

enum { RWN = 64 };
static gort_rwmutex rw;
static long rwdata[RWN]; /* under rw: all equal whenever rw is readable */

/* ---- cond queue ------------------------------------------------------- */

enum { QCAP = 8 };
static gort_mutex qmu;
static gort_cond qnotfull, qnotempty;
static long qbuf[QCAP];
static int qhead, qlen; /* under qmu */

static void qput(long v)
{
    gort_mutex_lock(&qmu);
    while (qlen == QCAP)
        gort_cond_wait(&qnotfull);
    qbuf[(qhead + qlen++) % QCAP] = v;
    gort_cond_signal(&qnotempty);
    gort_mutex_unlock(&qmu);
}

static long qget(void)
{
    gort_mutex_lock(&qmu);
    while (qlen == 0)
        gort_cond_wait(&qnotempty);
    long v = qbuf[qhead];
    qhead = (qhead + 1) % QCAP;
    qlen--;
    /* Broadcast now and then: extra wake-ups must be harmless. */
    if (v % 7 == 0)
        gort_cond_broadcast(&qnotfull);
    else
        gort_cond_signal(&qnotfull);
    gort_mutex_unlock(&qmu);
    return v;
}

/* ---- workers ---------------------------------------------------------- */

static gort_waitgroup wg;
static gort_once once;
static _Atomic int once_calls;
static _Atomic long consumed_sum;
static _Atomic long coll_ops, starve_ops; /* what the counters must reach */

enum { OPS = 2000 };

static void once_fn(void *arg)
{
    (void)arg;
    atomic_fetch_add(&once_calls, 1);
}

static void mixer(void *arg)
{
    uint64_t rng = *(uint64_t *)arg;
    for (int i = 0; i < OPS; i++) {
        uint64_t r = splitmix(&rng);
        switch (r % 8) {
        case 0:
        case 1:
        case 2: {
            struct coll *c = &coll[(r >> 8) % NCOLL];
            gort_mutex_lock(&c->m);
            long v = c->count;
            if ((r >> 16) % 16 == 0)
                gort_gosched();
            c->count = v + 1;
            gort_mutex_unlock(&c->m);
            atomic_fetch_add(&coll_ops, 1);
            break;
        }
        case 3:
            atomic_fetch_add(&starve_ops, 1);
            if (gort_mutex_trylock(&starve_mu)) {
                starve_count++;
                gort_mutex_unlock(&starve_mu);
            } else {
                gort_mutex_lock(&starve_mu);
                starve_count++;
                gort_mutex_unlock(&starve_mu);
            }
            break;
        case 4:
        case 5:
            if ((r >> 8) % 8 == 0) {
                gort_rwmutex_lock(&rw);
                for (int k = 0; k < RWN; k++)
                    rwdata[k]++;
                gort_rwmutex_unlock(&rw);
            } else {
                bool got = (r >> 12) % 2 ? gort_rwmutex_tryrlock(&rw) : (gort_rwmutex_rlock(&rw), true);
                if (got) {
                    for (int k = 1; k < RWN; k++)
                        CHECK(rwdata[k] == rwdata[0]);
                    gort_rwmutex_runlock(&rw);
                }
            }
            break;
        default:
            gort_once_do(&once, once_fn, NULL);
            break;
        }
    }
    gort_waitgroup_done(&wg);
}

static void starver(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        gort_mutex_lock(&starve_mu);
        starve_count++;
        /* Long holds, switched out meanwhile, push waiters past 1 ms. */
        int64_t t0 = gort_nanotime();
        while (gort_nanotime() - t0 < 50 * 1000)
            gort_gosched();
        gort_mutex_unlock(&starve_mu);
        atomic_fetch_add(&starve_ops, 1);
    }
    gort_waitgroup_done(&wg);
}

static void producer(void *arg)
{
    long base = *(long *)arg;
    for (long i = 1; i <= 500; i++)
        qput(base + i);
    gort_waitgroup_done(&wg);
}

static void consumer(void *arg)
{
    int n = *(int *)arg;
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += qget();
    atomic_fetch_add(&consumed_sum, sum);
    gort_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rounds = 40;
    const char *e = getenv("GORT_STRESS_ROUNDS");
    if (e != NULL && atoi(e) > 0)
        rounds = atoi(e);
    coll = calloc(NCOLL, sizeof *coll);
    gort_cond_init(&qnotfull, &qmu);
    gort_cond_init(&qnotempty, &qmu);
    uint64_t seed = 12345;
    for (int round = 0; round < rounds; round++) {
        enum { MIXERS = 40, PRODUCERS = 6, CONSUMERS = 4 };
        once = (gort_once){0};
        atomic_store(&once_calls, 0);
        atomic_store(&consumed_sum, 0);
        gort_waitgroup_add(&wg, MIXERS + 2 + PRODUCERS + CONSUMERS);
        for (int i = 0; i < MIXERS; i++) {
            uint64_t s = splitmix(&seed);
            gort_go(mixer, &s, sizeof s);
        }
        gort_go(starver, NULL, 0);
        gort_go(starver, NULL, 0);
        long want_sum = 0;
        for (int i = 0; i < PRODUCERS; i++) {
            long base = (long)i * 1000000;
            for (long k = 1; k <= 500; k++)
                want_sum += base + k;
            gort_go(producer, &base, sizeof base);
        }
        int per = PRODUCERS * 500 / CONSUMERS;
        for (int i = 0; i < CONSUMERS; i++)
            gort_go(consumer, &per, sizeof per);
        if (round % 2 == 1)
            gort_gomaxprocs(round % 4 == 1 ? 1 : 4);
        gort_waitgroup_wait(&wg);
        gort_gomaxprocs(gort_num_cpu());

        CHECK(atomic_load(&once_calls) <= 1);
        CHECK(atomic_load(&consumed_sum) == want_sum);
        CHECK(qlen == 0);
    }

    /* Totals: every increment happened exactly once. */
    long total = 0;
    for (int i = 0; i < NCOLL; i++) {
        CHECK(coll[i].m.state == 0);
        total += coll[i].count;
    }
    for (int k = 1; k < RWN; k++)
        CHECK(rwdata[k] == rwdata[0]);
    CHECK(starve_mu.state == 0);
    CHECK(starve_count == atomic_load(&starve_ops));
    CHECK(total == atomic_load(&coll_ops));
    free(coll);
    return 0;
}

int main(int argc, char **argv)
{
    return gort_main(real_main, argc, argv);
}
