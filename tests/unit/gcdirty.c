// The dirty-page tracker (mgcdirty.c), in each mode this machine offers,
// each in its own forked child (dirty_init runs once per process).  A test
// region is set up as mheap sets up the heap: a PROT_NONE MAP_NORESERVE
// reservation given to dirty_init, then grown by mprotect to read-write.
// Checked, with no timing anywhere:
//   - exact reports after arm, after collect without and with rearm, for
//     pages written before and after their first fault (uffd and mprotect
//     report exactly the pages written; off reports everything);
//   - (a) memory grown after registration, and after arm, is tracked;
//   - (b) a page zapped (MADV_DONTNEED) or freed (MADV_FREE) and written
//     again is reported;
//   - (c) read(2) into an armed page: works and is reported under uffd,
//     fails with EFAULT under mprotect (the documented limit);
//   - (d) a write from another thread is reported;
//   - disarm reports everything, a later arm starts clean again;
//   - a forked child of a uffd process falls back to off;
//   - a region given to dirty_register (stack.c's) is tracked under uffd
//     and reported whole otherwise; an unregistered one is reported whole;
//   - no write is lost under races: writer threads store increasing values
//     while collectors (two at once) re-arm, and "scan" each reported page
//     into a shadow by a per-word max, as the marker marks; after the last
//     collect the shadow must equal memory word for word;
//   - mprotect only: with the VMA budget spent, faults give up tracking
//     (everything reported) instead of failing.
// Figures (not asserts) follow; `gcdirty bench` measures on 1 GiB.
#include "mgcdirty.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "FAIL [%s]: %s:%d: %s\n", modename, __FILE__, __LINE__, #c);    \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

enum {
    PG = 4096,
    RESPAGES = 16384,  /* the reservation: 64 MiB */
    GROWNPAGES = 4096, /* grown before arm: 16 MiB */
    MOREPAGES = 1024,  /* grown after arm: 4 MiB */
};

static const char *modename = "main";
static int mode;
static uintptr_t base;
static unsigned char seen[RESPAGES];
static uintptr_t lastrun; /* hi of the previous run reported, to check maximality */

static uintptr_t pa(size_t i) { return base + i * PG; }

static void record(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    CHECK(lo < hi && lo % PG == 0 && hi % PG == 0);
    CHECK(lo > lastrun || lastrun == 0); /* ascending, and runs never touch */
    lastrun = hi;
    for (uintptr_t p = lo; p < hi; p += PG)
        seen[(p - base) / PG] = 1;
}

/* Collects [0, npages) into seen[]; checks the count against it. */
static size_t collect(size_t npages, bool rearm)
{
    memset(seen, 0, sizeof seen);
    lastrun = 0;
    size_t n = dirty_collect(base, pa(npages), rearm, record, NULL);
    size_t k = 0;
    for (size_t i = 0; i < npages; i++)
        k += seen[i];
    CHECK(n == k);
    return n;
}

static bool in(const size_t *set, size_t n, size_t page)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == page)
            return true;
    return false;
}

/* Every page of set was reported; under uffd and mprotect nothing else in
 * [0, npages) was; under off everything was. */
static void expect(const size_t *set, size_t n, size_t npages, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!seen[set[i]]) {
            fprintf(stderr, "FAIL [%s]: %s: written page %zu not reported\n", modename, what,
                    set[i]);
            exit(1);
        }
    for (size_t i = 0; i < npages; i++) {
        bool want = mode == DIRTY_NONE || in(set, n, i);
        if (seen[i] != want) {
            fprintf(stderr, "FAIL [%s]: %s: page %zu %s\n", modename, what, i,
                    seen[i] ? "reported, not written" : "not reported");
            exit(1);
        }
    }
}

static void writepages(const size_t *set, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        *(volatile unsigned char *)(pa(set[i]) + 8 * i % PG) = v;
}

static void *writer_thread(void *arg)
{
    size_t *set = arg;
    writepages(set + 1, set[0], 7);
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the sequence of exact checks ------------------------------------------ */

static void basics(void)
{
    /* Some pages populated before arm, the rest never touched. */
    for (size_t i = 0; i < 1024; i += 3)
        *(volatile char *)pa(i) = 1;
    dirty_arm(base, pa(GROWNPAGES));
    collect(GROWNPAGES, false);
    expect(NULL, 0, GROWNPAGES, "nothing written since arm");

    size_t w1[110] = {0, 1, 5, 63, 64, 65, 127, 128, 1000, GROWNPAGES - 1};
    for (size_t i = 0; i < 100; i++)
        w1[10 + i] = 2000 + i;
    writepages(w1, N(w1), 2);
    writepages(w1, N(w1), 3); /* second writes: no fault, same report */
    collect(GROWNPAGES, false);
    expect(w1, N(w1), GROWNPAGES, "first writes");
    collect(GROWNPAGES, false);
    expect(w1, N(w1), GROWNPAGES, "collect without rearm keeps them");
    collect(GROWNPAGES, true);
    expect(w1, N(w1), GROWNPAGES, "collect with rearm reports them");
    collect(GROWNPAGES, false);
    expect(NULL, 0, GROWNPAGES, "after rearm, nothing");

    size_t w2[] = {1, 3, 2050, 3000};
    writepages(w2, N(w2), 4);
    collect(GROWNPAGES, true);
    expect(w2, N(w2), GROWNPAGES, "second round: only the pages written since");
    collect(GROWNPAGES, true);
    expect(NULL, 0, GROWNPAGES, "third round: nothing");

    /* (d) another thread. */
    size_t w3[] = {3, 7, 77, 777};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer_thread, w3) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    collect(GROWNPAGES, true);
    expect(w3 + 1, 3, GROWNPAGES, "another thread's writes");
}

/* (c) the kernel writes into armed pages: read(2) from a pipe. */
static void kernelwrites(void)
{
    int fd[2];
    CHECK(pipe(fd) == 0);
    /* page 10 populated and armed; 20-21 across a boundary; 3500 never touched */
    struct {
        uintptr_t at;
        size_t len;
    } rd[] = {{pa(10) + 100, 5}, {pa(21) - 4, 8}, {pa(3500) + 16, 5}};
    *(volatile char *)pa(10) = 1;
    *(volatile char *)pa(20) = 1;
    *(volatile char *)pa(21) = 1;
    collect(GROWNPAGES, true);
    for (size_t i = 0; i < N(rd); i++) {
        CHECK(write(fd[1], "abcdefgh", rd[i].len) == (ssize_t)rd[i].len);
        ssize_t n = read(fd[0], (void *)rd[i].at, rd[i].len);
        if (mode == DIRTY_MPROTECT) {
            CHECK(n == -1 && errno == EFAULT);
            char drain[8];
            CHECK(read(fd[0], drain, rd[i].len) == (ssize_t)rd[i].len);
        } else {
            CHECK(n == (ssize_t)rd[i].len && memcmp((void *)rd[i].at, "abcdefgh", rd[i].len) == 0);
        }
    }
    close(fd[0]);
    close(fd[1]);
    collect(GROWNPAGES, true);
    if (mode != DIRTY_MPROTECT) {
        size_t w[] = {10, 20, 21, 3500};
        expect(w, N(w), GROWNPAGES, "read(2) into armed pages");
    }
    printf("[%s] (c) read(2) into an armed page: %s\n", modename,
           mode == DIRTY_MPROTECT ? "EFAULT (documented limit)" : "works, reported");
}

/* (b) zapped and freed pages: what the kernel reports, and that a write
 * after the zap is never lost. */
static void zaps(void)
{
    size_t p = 30, q = 31, r = 32, s = 33, u = 34;
    size_t all[] = {p, q, r, s, u};
    writepages(all, N(all), 1);
    collect(GROWNPAGES, true);
    *(volatile char *)pa(p) = 5;                    /* written ... */
    CHECK(madvise((void *)pa(p), PG, MADV_DONTNEED) == 0); /* ... then zapped */
    CHECK(madvise((void *)pa(q), PG, MADV_DONTNEED) == 0); /* clean, zapped */
    CHECK(madvise((void *)pa(s), PG, MADV_FREE) == 0);     /* clean, freed */
    collect(GROWNPAGES, false);
    printf("[%s] (b) reported as written: zapped after a write %s, zapped clean %s, "
           "MADV_FREE clean %s\n",
           modename, seen[p] ? "yes" : "no", seen[q] ? "yes" : "no", seen[s] ? "yes" : "no");
    CHECK(*(volatile char *)pa(p) == 0);
    *(volatile char *)pa(p) = 6; /* re-faulted by a write */
    *(volatile char *)pa(q) = 6;
    CHECK(madvise((void *)pa(r), PG, MADV_FREE) == 0);
    *(volatile char *)pa(r) = 6; /* freed, then written */
    CHECK(madvise((void *)pa(u), PG, MADV_DONTNEED) == 0);
    (void)*(volatile char *)pa(u); /* zapped, read back in: not written */
    collect(GROWNPAGES, true);
    for (size_t i = 0; i < 3; i++)
        CHECK(seen[all[i]]);
    CHECK(*(volatile char *)pa(p) == 6 && *(volatile char *)pa(q) == 6 &&
          *(volatile char *)pa(r) == 6);
    collect(GROWNPAGES, true);
    expect(NULL, 0, GROWNPAGES, "after the zaps, rearmed");
}

/* (a) the reservation grows after arm; then disarm, then arm again. */
static void growth_and_disarm(void)
{
    CHECK(mprotect((void *)pa(GROWNPAGES), MOREPAGES * PG, PROT_READ | PROT_WRITE) == 0);
    size_t total = GROWNPAGES + MOREPAGES;
    size_t g[] = {5, GROWNPAGES + 5};
    writepages(g, N(g), 9);
    collect(total, true);
    CHECK(seen[5] && seen[GROWNPAGES + 5]);
    for (size_t i = 0; i < GROWNPAGES; i++)
        CHECK(seen[i] == (i == 5 || mode == DIRTY_NONE)); /* armed part: exact */
    collect(total, false);
    expect(NULL, 0, total, "grown part armed by rearm");
    writepages(g, N(g), 10);
    collect(total, false);
    expect(g, N(g), total, "grown part tracked");

    dirty_disarm(base, pa(total));
    size_t d[] = {6, 600};
    writepages(d, N(d), 11);
    size_t n = collect(total, false); /* disarmed: every page may be written */
    CHECK(seen[6] && seen[600]);
    printf("[%s] after disarm: %zu of %zu pages reported\n", modename, n, total);

    dirty_arm(base, pa(total));
    collect(total, false);
    expect(NULL, 0, total, "armed again");
    writepages(d, N(d), 12);
    collect(total, true);
    expect(d, N(d), total, "armed again, written");
}

/* dirty_register: a region outside the heap, as stack.c's stack regions.
 * Under uffd it is tracked like the heap; under mprotect and off every
 * page of it is reported.  A range never registered is reported whole in
 * every mode (uffd's scan fails its PM_SCAN_CHECK_WPASYNC). */
static uintptr_t obase;
static unsigned char oseen[64];

static void orecord(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    for (uintptr_t p = lo; p < hi; p += PG)
        oseen[(p - obase) / PG] = 1;
}

static size_t ocollect(bool rearm)
{
    memset(oseen, 0, sizeof oseen);
    return dirty_collect(obase, obase + sizeof oseen * PG, rearm, orecord, NULL);
}

static void otherregions(void)
{
    size_t np = sizeof oseen;
    char *r = mmap(NULL, np * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(r != MAP_FAILED);
    obase = (uintptr_t)r;
    r[0] = 1; /* one page populated before it is registered */
    dirty_register(obase, obase + np * PG);
    dirty_arm(obase, obase + np * PG);
    CHECK(ocollect(false) == (mode == DIRTY_UFFD ? 0 : np));
    r[3 * PG] = 1;
    r[40 * PG] = 1;
    size_t n = ocollect(true);
    CHECK(oseen[3] && oseen[40]);
    CHECK(n == (mode == DIRTY_UFFD ? 2 : np));
    CHECK(ocollect(false) == (mode == DIRTY_UFFD ? 0 : np));
    dirty_disarm(obase, obase + np * PG);
    CHECK(munmap(r, np * PG) == 0);

    char *u = mmap(NULL, np * PG, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(u != MAP_FAILED);
    obase = (uintptr_t)u;
    u[PG] = 1;
    CHECK(ocollect(true) == np);
    CHECK(munmap(u, np * PG) == 0);
}

/* fork(): the child of a uffd process is not registered and turns to off
 * (everything reported); an mprotect child goes on as its parent. */
static void forked(void)
{
    collect(GROWNPAGES, true);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        modename = "fork child";
        CHECK(dirty_mode == (mode == DIRTY_UFFD ? DIRTY_NONE : mode));
        *(volatile char *)pa(40) = 1;
        collect(GROWNPAGES, true);
        CHECK(seen[40]);
        if (dirty_mode == DIRTY_NONE)
            CHECK(collect(GROWNPAGES, false) == GROWNPAGES);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK(dirty_mode == mode);
    collect(GROWNPAGES, false);
    expect(NULL, 0, GROWNPAGES, "parent after its child wrote");
}

/* ---- races: no write is ever lost --------------------------------------------- */

enum { RACEPAGES = 1024, WRITERS = 3, WRITES = 60000, ROUNDS = 60, CYCLES = 3 };
static uint64_t *shadow; /* per word of [0, RACEPAGES): the max value scanned */
static _Atomic int collecting;

static void scan(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    for (uintptr_t p = lo; p < hi; p += 8) {
        uint64_t v = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
        uint64_t *s = &shadow[(p - base) / 8];
        uint64_t old = __atomic_load_n(s, __ATOMIC_RELAXED);
        while (old < v && !__atomic_compare_exchange_n(s, &old, v, true, __ATOMIC_RELAXED,
                                                       __ATOMIC_RELAXED))
            ;
    }
}

/* Writer t owns the words w with w % WRITERS == t and stores increasing
 * values into them, in a pseudo-random page order. */
static void *race_writer(void *arg)
{
    uint64_t t = (uintptr_t)arg, x = 88172645463325252ull + t;
    for (uint64_t i = 1; i <= WRITES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t page = x % RACEPAGES, word = (x >> 20) % (PG / 8 / WRITERS) * WRITERS + t;
        __atomic_store_n((uint64_t *)pa(page) + word, i, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *race_collector(void *arg)
{
    (void)arg;
    while (atomic_load(&collecting))
        dirty_collect(base, pa(RACEPAGES), true, scan, NULL);
    return NULL;
}

static void *race_armer(void *arg)
{
    (void)arg;
    dirty_arm(pa(37), pa(RACEPAGES)); /* overlaps the main arm, other segment bounds */
    return NULL;
}

static void races(void)
{
    shadow = calloc(RACEPAGES * PG / 8, 8);
    memset((void *)base, 0, RACEPAGES * PG);
    dirty_disarm(base, pa(RACEPAGES));
    pthread_t w[WRITERS], c;
    for (uintptr_t t = 0; t < WRITERS; t++)
        CHECK(pthread_create(&w[t], NULL, race_writer, (void *)t) == 0);
    for (int cyc = 0; cyc < CYCLES; cyc++) {
        /* A cycle as the collector runs one: arm while the program writes,
         * scan everything, rescan what is reported, with a second collector
         * racing the first. */
        CHECK(pthread_create(&c, NULL, race_armer, NULL) == 0);
        dirty_arm(base, pa(RACEPAGES));
        CHECK(pthread_join(c, NULL) == 0);
        scan(base, pa(RACEPAGES), NULL);
        atomic_store(&collecting, 1);
        CHECK(pthread_create(&c, NULL, race_collector, NULL) == 0);
        for (int r = 0; r < ROUNDS; r++)
            dirty_collect(base, pa(RACEPAGES), true, scan, NULL);
        atomic_store(&collecting, 0);
        CHECK(pthread_join(c, NULL) == 0);
        if (cyc + 1 < CYCLES)
            dirty_disarm(base, pa(RACEPAGES / 2)); /* half: the rest stays armed */
    }
    for (int t = 0; t < WRITERS; t++)
        CHECK(pthread_join(w[t], NULL) == 0);
    /* The final pause: no writer runs. */
    dirty_collect(base, pa(RACEPAGES), false, scan, NULL);
    CHECK(memcmp((void *)base, shadow, RACEPAGES * PG) == 0);
    free(shadow);
}

/* ---- mprotect: the VMA budget spent -------------------------------------------- */

static long mapcount(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void vmalimit(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long max = 0;
    CHECK(f != NULL && fscanf(f, "%ld", &max) == 1);
    fclose(f);
    size_t total = GROWNPAGES + MOREPAGES;
    dirty_arm(base, pa(total));
    collect(total, true);
    /* Split a filler mapping until a handful of VMAs are left. */
    long left = max - mapcount() - 4;
    CHECK(left > 0);
    size_t fpages = (size_t)left + 2;
    char *filler = mmap(NULL, fpages * PG, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(filler != MAP_FAILED);
    for (long i = 1; i < left; i += 2)
        CHECK(mprotect(filler + i * PG, PG, PROT_READ) == 0);
    size_t w[64];
    for (size_t i = 0; i < N(w); i++)
        w[i] = 100 + 4 * i;
    writepages(w, N(w), 13); /* each first write splits: the budget runs out */
    collect(total, false);
    for (size_t i = 0; i < N(w); i++)
        CHECK(seen[w[i]]);
    size_t n = 0;
    for (size_t i = 0; i < total; i++)
        n += seen[i];
    printf("[%s] VMA budget spent: %zu of %zu pages reported (tracking given up)\n", modename,
           n, total);
    CHECK(munmap(filler, fpages * PG) == 0);
    collect(total, true);
    writepages(w, 3, 14);
    collect(total, false);
    expect(w, 3, total, "tracking again after the budget was spent");
}

/* ---- figures --------------------------------------------------------------------- */

static void nop(uintptr_t lo, uintptr_t hi, void *arg) { (void)lo, (void)hi, (void)arg; }

static void figures(size_t npages)
{
    double gib = (double)npages * PG / (1 << 30), t;
    memset((void *)base, 1, npages * PG);
#define TIME(what, stmt)                                                                     \
    do {                                                                                     \
        t = now();                                                                           \
        stmt;                                                                                \
        t = now() - t;                                                                       \
        printf("[%s] %-44s %9.2f ms/GiB\n", modename, what, t * 1e3 / gib);                 \
    } while (0)
    TIME("arm, all pages written", dirty_arm(base, pa(npages)));
    TIME("arm again, nothing written", dirty_arm(base, pa(npages)));
    TIME("collect, nothing written", dirty_collect(base, pa(npages), false, nop, NULL));
    size_t sparse = 0;
    t = now();
    for (size_t i = 0; i < npages; i += 1000, sparse++)
        *(volatile char *)pa(i) = 2;
    t = now() - t;
    printf("[%s] %-44s %9.2f us/page\n", modename, "first write, 1 page in 1000", t * 1e6 / sparse);
    TIME("collect+rearm, 1 page in 1000 written", dirty_collect(base, pa(npages), true, nop, NULL));
    t = now();
    for (size_t i = 0; i < npages; i++)
        *(volatile char *)pa(i) = 3;
    t = now() - t;
    printf("[%s] %-44s %9.2f us/page\n", modename, "first write, every page", t * 1e6 / npages);
    TIME("collect+rearm, every page written", dirty_collect(base, pa(npages), true, nop, NULL));
    TIME("disarm", dirty_disarm(base, pa(npages)));
    TIME("arm after disarm", dirty_arm(base, pa(npages)));
    dirty_disarm(base, pa(npages));
#undef TIME
}

/* ---- one mode per child ------------------------------------------------------------- */

static int child(int want, bool bench)
{
    static const char *names[] = {"off", "uffd", "mprotect"};
    modename = names[want];
    mode = want;
    static const int32_t knob[] = {GCDIRTY_OFF, GCDIRTY_UFFD, GCDIRTY_MPROTECT};
    debug.gcdirty = knob[want]; /* as GODEBUG=gcdirty=off|uffd|mprotect sets it */
    size_t respages = bench ? (size_t)1 << 18 : RESPAGES; /* 1 GiB for the figures */
    void *p = mmap(NULL, respages * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    CHECK(p != MAP_FAILED);
    base = (uintptr_t)p;
    dirty_init(base, respages * PG);
    if (dirty_mode != want) {
        printf("[%s] not available here (mode %d): skipped\n", modename, dirty_mode);
        return 0;
    }
    signal_init(); /* the SIGSEGV handler and its hook, as gort_main installs them */
    if (bench) {
        CHECK(mprotect(p, respages * PG, PROT_READ | PROT_WRITE) == 0);
        if (want != DIRTY_NONE)
            figures(respages);
        return 0;
    }
    CHECK(mprotect(p, GROWNPAGES * PG, PROT_READ | PROT_WRITE) == 0);
    basics();
    kernelwrites();
    zaps();
    forked();
    otherregions();
    growth_and_disarm();
    races();
    if (want == DIRTY_MPROTECT)
        vmalimit();
    if (want != DIRTY_NONE)
        figures(GROWNPAGES);
    printf("[%s] ok\n", modename);
    return 0;
}

int main(int argc, char **argv)
{
    bool bench = argc > 1 && strcmp(argv[1], "bench") == 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    int modes[] = {DIRTY_UFFD, DIRTY_MPROTECT, DIRTY_NONE};
    for (size_t i = 0; i < N(modes); i++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            _exit(child(modes[i], bench));
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "FAIL: mode %d: child status 0x%x\n", modes[i], st);
            return 1;
        }
    }
    return 0;
}
