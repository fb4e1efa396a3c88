/*
 * idle: what a parked goroutine costs in memory — the figure that decides
 * whether a server can afford a goroutine per connection.  n goroutines
 * block receiving on one channel nobody sends on; bytes_per_goroutine is
 * the growth of the resident set across their start, so it counts the
 * touched part of each stack plus the g and its wait record.  spawn_s and
 * exit_s time the start and the mass wake-up by close.
 * Peer: shared/peers/go/cmd/idle.
 */
#include "bench.h"

struct shared {
	gort_waitgroup started, exited;
	gort_chan *block; /* of empty elements; only ever closed */
};

static void idler(void *arg)
{
	struct shared *s = arg;
	gort_waitgroup_done(&s->started);
	gort_chan_recv(s->block, NULL);
	gort_waitgroup_done(&s->exited);
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

	struct shared s = {.block = gort_chan_make(0, 0)};
	int64_t before = bench_rss();
	int64_t t0 = gort_nanotime();
	gort_waitgroup_add(&s.started, (int)n);
	gort_waitgroup_add(&s.exited, (int)n);
	for (int64_t i = 0; i < n; i++)
		gort_go(idler, &s, 0);
	gort_waitgroup_wait(&s.started);
	double spawn = bench_since(t0);
	int64_t after = bench_rss();

	int64_t t1 = gort_nanotime();
	gort_chan_close(s.block);
	gort_waitgroup_wait(&s.exited);
	double exit_s = bench_since(t1);

	struct report r = {.bench = "idle"};
	report_int(&r, "n", n);
	report_float(&r, "bytes_per_goroutine", (double)(after - before) / (double)n);
	report_int(&r, "rss_before_kib", before >> 10);
	report_int(&r, "rss_after_kib", after >> 10);
	report_float(&r, "spawn_s", spawn);
	report_float(&r, "exit_s", exit_s);
	report_float(&r, "wall_s", spawn + exit_s);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
