/*
 * gcpause: GC pauses and a latency probe under a large, changing live heap
 * (1 GiB by default: 1024 linked lists of 16,384 64-byte nodes), while
 * GOMAXPROCS mutators allocate nodes that mostly die young and now and then
 * replace a live node.  Reported: the cycles' stop-the-world pauses
 * (MemStats.PauseNs) and how late a 1 ms ticker's receiver wakes.
 * Peer: shared/peers/go/cmd/gcpause (README.md has the definition).
 *
 * The ticker.  gort has no time.Ticker yet, so a goroutine emulates Go's:
 * it sleeps until the next tick time (start + k ms), then sends on a
 * channel of capacity 1 without blocking (a tick that finds it full is
 * dropped), and the next tick is the first multiple of 1 ms after now (a
 * late tick does not make up the missed ones) — what runtime timers do for
 * a Ticker.  The probe measures lateness from its own receives, exactly as
 * the peer does, so the emulator's own wake-up delay is part of the figure
 * as the timer's is in Go.
 */
#include "bench.h"

#include <stdatomic.h>

struct node {
	struct node *next;
	int64_t pay[7];
};
static const gort_type node_type = GORT_TYPE(struct node, GORT_PTR(struct node, next));

static struct node **heads, **cursor; /* GC objects, reachable from here (bss) */
static int64_t nlists;
static _Atomic int32_t stop;
static _Atomic int64_t allocs;

static void build(int64_t nodes, int64_t lists)
{
	heads = gort_malloc((size_t)lists * sizeof *heads);
	cursor = gort_malloc((size_t)lists * sizeof *cursor);
	nlists = lists;
	int64_t per = nodes / lists, id = 0;
	for (int64_t l = 0; l < lists; l++) {
		struct node *h = gort_new(&node_type);
		h->pay[0] = id++;
		struct node *t = h;
		for (int64_t i = 1; i < per; i++) {
			t->next = gort_new(&node_type);
			t->next->pay[0] = id++;
			t = t->next;
		}
		heads[l] = cursor[l] = h;
	}
}

struct mutator {
	int64_t p, m;
	gort_waitgroup *wg;
};

static void mutate(void *arg)
{
	struct mutator *mu = arg;
	int64_t p = mu->p, m = mu->m;
	struct splitmix64 r = {(uint64_t)p + 1};
	uint64_t own = (uint64_t)((nlists - p + m - 1) / m);
	struct node *ring[16] = {0};
	int64_t k = 0;
	while (atomic_load_explicit(&stop, memory_order_relaxed) == 0) {
		for (int j = 0; j < 1000; j++) {
			struct node *x = gort_new(&node_type);
			x->pay[0] = k;
			ring[k & 15] = x;
			if (k % 100 == 0) {
				int64_t l = p + m * (int64_t)(splitmix64_next(&r) % own);
				uint64_t s = splitmix64_next(&r) % 64;
				struct node *c = cursor[l];
				for (; s > 0; s--)
					if ((c = c->next) == NULL)
						c = heads[l];
				if (c->next == NULL)
					c = heads[l];
				x->next = c->next->next;
				c->next = x;
				cursor[l] = x;
			}
			k++;
		}
	}
	gort_keep_alive(ring);
	atomic_fetch_add(&allocs, k);
	gort_waitgroup_done(mu->wg);
}

#define MS 1000000ll

struct ticker {
	gort_chan *c;
	int64_t start;
	_Atomic int32_t stopped;
};

static void tick(void *arg)
{
	struct ticker *t = arg;
	int64_t next = t->start + MS;
	while (!atomic_load(&t->stopped)) {
		int64_t now = gort_nanotime();
		if (now < next) {
			gort_sleep(next - now);
			continue;
		}
		gort_case c = {.chan = t->c, .dir = GORT_SEND, .elem = &now};
		gort_select(&c, 1, false); /* full: the tick is dropped */
		next = t->start + ((now - t->start) / MS + 1) * MS;
	}
}

struct probe {
	double *late;
	size_t n, cap;
	gort_chan *done;
};

static void probe(void *arg)
{
	struct probe *pr = arg;
	struct ticker *t = gort_malloc(sizeof *t);
	t->c = gort_chan_make(sizeof(int64_t), 1);
	t->start = gort_nanotime();
	gort_go(tick, t, 0);
	int64_t prev = 0, when;
	while (gort_chan_recv(t->c, &when)) {
		int64_t now = gort_nanotime() - t->start;
		int64_t expect = (prev / MS + 1) * MS;
		int64_t l = now - expect;
		if (pr->n < pr->cap)
			pr->late[pr->n++] = l < 0 ? 0 : (double)l / 1e3;
		prev = now;
		if (atomic_load(&stop)) {
			atomic_store(&t->stopped, 1);
			break;
		}
	}
	gort_chan_close(pr->done);
}

static int bench_main(int argc, char **argv)
{
	int64_t mib = 1024, lists = 1024, mutators = 0;
	const char *secs_s = "5";
	const struct flag flags[] = {
		FLAG_INT("live-mib", mib, "live heap in MiB"),
		FLAG_INT("lists", lists, "linked lists holding the live heap"),
		FLAG_STRING("seconds", secs_s, "run time"),
		FLAG_INT("mutators", mutators, "mutator goroutines (0: GOMAXPROCS)"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	double secs = strtod(secs_s, NULL);
	int64_t nodes = (mib << 20) / 64, m = mutators;
	if (m <= 0)
		m = gort_gomaxprocs(0);
	if (lists < m || nodes / lists < 2)
		bench_fail("need at least as many lists as mutators, and 2 nodes a list");
	int64_t tb = gort_nanotime();
	build(nodes, lists);
	double build_s = bench_since(tb);
	gort_gc();
	gort_mem_stats *m0 = malloc(sizeof *m0), *m1 = malloc(sizeof *m1);
	gort_read_mem_stats(m0);

	gort_waitgroup wg = {0};
	int64_t t0 = gort_nanotime();
	struct mutator *mus = calloc((size_t)m, sizeof *mus);
	for (int64_t p = 0; p < m; p++) {
		mus[p] = (struct mutator){p, m, &wg};
		gort_waitgroup_add(&wg, 1);
		gort_go(mutate, &mus[p], 0);
	}
	struct probe pr = {.cap = (size_t)(secs * 1000) + 1000};
	pr.late = malloc(pr.cap * sizeof *pr.late);
	pr.done = gort_chan_make(0, 0);
	gort_go(probe, &pr, 0);
	gort_sleep((int64_t)(secs * 1e9));
	atomic_store(&stop, 1);
	double run = bench_since(t0);
	gort_waitgroup_wait(&wg);
	gort_chan_recv(pr.done, NULL);

	gort_read_mem_stats(m1);
	int cycles = (int)(m1->num_gc - m0->num_gc);
	double pauses[256];
	int np = 0;
	for (int i = 0; i < cycles && i < 256; i++)
		pauses[np++] = (double)m1->pause_ns[(m1->num_gc - 1 - (uint32_t)i) % 256] / 1e3;
	stats_sort(pauses, (size_t)np);
	stats_sort(pr.late, pr.n);
	struct report r = {.bench = "gcpause"};
	report_int(&r, "live_mib", mib);
	report_int(&r, "lists", lists);
	report_int(&r, "mutators", m);
	report_int(&r, "n", atomic_load(&allocs));
	report_int(&r, "gc_count", cycles);
	report_float(&r, "max_pause_us", np > 0 ? pauses[np - 1] : 0);
	report_float(&r, "p99_pause_us", stats_at(pauses, (size_t)np, 0.99));
	report_float(&r, "probe_p99_us", stats_at(pr.late, pr.n, 0.99));
	report_float(&r, "probe_max_us", pr.n > 0 ? pr.late[pr.n - 1] : 0);
	report_int(&r, "probe_wakes", (int64_t)pr.n);
	report_float(&r, "alloc_mb_s", (double)atomic_load(&allocs) * 64 / 1e6 / run);
	report_float(&r, "build_s", build_s);
	report_float(&r, "wall_s", run);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
