/*
 * spawn: the cost of a goroutine's whole life — creation, first run, exit —
 * when a million of them are started back to back.  Each one only calls
 * wg.Done(), so the figure is the scheduler's and the stack allocator's
 * overhead per goroutine, nothing else.  Timed: from just before
 * wg.Add(n) to the return of wg.Wait().  Peer: shared/peers/go/cmd/spawn.
 */
#include "bench.h"

static void done(void *wg)
{
	gort_waitgroup_done(wg);
}

static int bench_main(int argc, char **argv)
{
	int64_t n = 1000000;
	const struct flag flags[] = {
		FLAG_INT("n", n, "goroutines"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	if (n < 0 || n > INT32_MAX)
		bench_fail("-n out of range");

	gort_waitgroup wg = {0};
	int64_t t0 = gort_nanotime();
	gort_waitgroup_add(&wg, (int)n);
	for (int64_t i = 0; i < n; i++)
		gort_go(done, &wg, 0);
	gort_waitgroup_wait(&wg);
	double wall = bench_since(t0);

	struct report r = {.bench = "spawn"};
	report_int(&r, "n", n);
	report_float(&r, "ns_per_op", bench_per_op(wall, n));
	report_float(&r, "wall_s", wall);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
