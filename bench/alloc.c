/*
 * alloc: the allocator's throughput with the collector in the loop.  P
 * goroutines each allocate n/P pointer-free zeroed objects of -size bytes,
 * write byte 0 and keep the last 64 in a ring, so every allocation is real
 * and almost everything dies young.  ns_per_op = wall x P / n: one
 * processor's cost per allocation, GC included.  Timed: from before the
 * first goroutine starts to the return of the wait.
 * The same loop then runs on glibc's malloc/free (each goroutine frees the
 * object that leaves its ring): glibc_ns_per_op, for reference.
 * Peer: shared/peers/go/cmd/alloc.
 */
#include "bench.h"

struct worker {
	int64_t per, size;
	void ***sink;
	gort_waitgroup *wg;
};

static void work(void *arg)
{
	struct worker *w = arg;
	void **ring = gort_malloc(64 * sizeof(void *));
	for (int64_t i = 0; i < w->per; i++) {
		unsigned char *b = gort_malloc_noscan((size_t)w->size);
		b[0] = (unsigned char)i;
		ring[i & 63] = b;
	}
	*w->sink = ring;
	gort_waitgroup_done(w->wg);
}

static void work_glibc(void *arg)
{
	struct worker *w = arg;
	void *ring[64] = {0};
	for (int64_t i = 0; i < w->per; i++) {
		unsigned char *b = malloc((size_t)w->size);
		if (b == NULL)
			bench_fail("malloc failed");
		b[0] = (unsigned char)i;
		free(ring[i & 63]);
		ring[i & 63] = b;
	}
	for (int k = 0; k < 64; k++)
		free(ring[k]);
	gort_waitgroup_done(w->wg);
}

/* The glibc run: wall seconds for the same work. */
static double run_glibc(struct worker *ws, int procs, int64_t per, int64_t size)
{
	gort_waitgroup wg = {0};
	int64_t t0 = gort_nanotime();
	for (int p = 0; p < procs; p++) {
		ws[p] = (struct worker){per, size, NULL, &wg};
		gort_waitgroup_add(&wg, 1);
		gort_go(work_glibc, &ws[p], 0);
	}
	gort_waitgroup_wait(&wg);
	return bench_since(t0);
}

static int bench_main(int argc, char **argv)
{
	int64_t n = 50000000, size = 64;
	const struct flag flags[] = {
		FLAG_INT("n", n, "allocations in total"),
		FLAG_INT("size", size, "object size in bytes"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	if (size < 1)
		bench_fail("-size must be at least 1");
	int procs = gort_gomaxprocs(0);
	int64_t per = n / procs;
	/* The sink is a GC root: a registered range, as Go's global slice. */
	void ***sink = gort_malloc_uncollectable((size_t)procs * sizeof(void **));
	struct worker *ws = gort_malloc((size_t)procs * sizeof *ws);
	gort_waitgroup wg = {0};
	gort_mem_stats *ms = malloc(sizeof *ms);
	gort_read_mem_stats(ms);
	uint32_t gc0 = ms->num_gc;
	int64_t t0 = gort_nanotime();
	for (int p = 0; p < procs; p++) {
		ws[p] = (struct worker){per, size, &sink[p], &wg};
		gort_waitgroup_add(&wg, 1);
		gort_go(work, &ws[p], 0);
	}
	gort_waitgroup_wait(&wg);
	double wall = bench_since(t0);
	gort_read_mem_stats(ms);
	int64_t total = per * procs;
	double glibc = run_glibc(ws, procs, per, size);

	struct report r = {.bench = "alloc"};
	report_int(&r, "n", total);
	report_int(&r, "size", size);
	report_int(&r, "gc_count", ms->num_gc - gc0);
	report_float(&r, "ns_per_op", bench_per_op(wall * procs, total));
	report_float(&r, "wall_s", wall);
	report_float(&r, "glibc_ns_per_op", bench_per_op(glibc * procs, total));
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
