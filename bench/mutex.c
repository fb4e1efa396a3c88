/*
 * mutex: a hundred goroutines hammering one mutex.  What matters is how the
 * mutex behaves under heavy contention on few Ps: spinning, handing the lock
 * off, parking on its semaphore and avoiding a convoy.  Timed: from before
 * the first goroutine starts to the return of the wait.
 * Peer: shared/peers/go/cmd/mutex.
 */
#include "bench.h"

struct shared {
	gort_mutex mu;
	gort_waitgroup wg;
	int64_t counter; /* protected by mu */
	int64_t k;
};

static void worker(void *arg)
{
	struct shared *s = arg;
	for (int64_t j = 0; j < s->k; j++) {
		gort_mutex_lock(&s->mu);
		s->counter++;
		gort_mutex_unlock(&s->mu);
	}
	gort_waitgroup_done(&s->wg);
}

static int bench_main(int argc, char **argv)
{
	int64_t g = 100, k = 100000;
	const struct flag flags[] = {
		FLAG_INT("g", g, "goroutines"),
		FLAG_INT("k", k, "increments per goroutine"),
	};
	flags_parse(argc, argv, flags, countof(flags));

	struct shared s = {.k = k};
	int64_t t0 = gort_nanotime();
	for (int64_t i = 0; i < g; i++) {
		gort_waitgroup_add(&s.wg, 1);
		gort_go(worker, &s, 0);
	}
	gort_waitgroup_wait(&s.wg);
	double wall = bench_since(t0);

	int64_t total = g * k;
	if (s.counter != total)
		bench_fail("lost increments");

	struct report r = {.bench = "mutex"};
	report_int(&r, "n", total);
	report_int(&r, "g", g);
	report_float(&r, "ns_per_op", bench_per_op(wall, total));
	report_float(&r, "wall_s", wall);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
