/*
 * prodcons: channel throughput under contention — p producers and p
 * consumers on one channel.  With -cap 100 it measures the buffered path
 * (the channel lock, and how rarely anyone has to park); with -cap 0 every
 * item is a rendezvous between two goroutines.  Every item really crosses
 * the channel as its own int64.  Timed: from before the first consumer
 * starts to the return of the consumers' wait.
 * Peer: shared/peers/go/cmd/prodcons.
 */
#include <stdatomic.h>

#include "bench.h"

struct consumer_args {
	gort_chan *c;
	gort_waitgroup *cons;
	_Atomic int64_t *sum;
};

static void consumer(void *arg)
{
	struct consumer_args *a = arg;
	int64_t s = 0, v;
	while (gort_chan_recv(a->c, &v))
		s += v;
	atomic_fetch_add_explicit(a->sum, s, memory_order_relaxed);
	gort_waitgroup_done(a->cons);
}

struct producer_args {
	gort_chan *c;
	gort_waitgroup *prod;
	int64_t per;
};

static void producer(void *arg)
{
	struct producer_args *a = arg;
	for (int64_t j = 1; j <= a->per; j++)
		gort_chan_send(a->c, &j);
	gort_waitgroup_done(a->prod);
}

static int bench_main(int argc, char **argv)
{
	int64_t n = 10000000, cap = 100, p = 4;
	const struct flag flags[] = {
		FLAG_INT("n", n, "items in total"),
		FLAG_INT("cap", cap, "channel capacity"),
		FLAG_INT("p", p, "producers (and as many consumers)"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	if (p < 1 || cap < 0)
		bench_fail("-p must be positive and -cap not negative");

	gort_chan *c = gort_chan_make(sizeof(int64_t), (size_t)cap);
	gort_waitgroup prod = {0}, cons = {0};
	_Atomic int64_t sum = 0;
	int64_t per = n / p;

	int64_t t0 = gort_nanotime();
	struct consumer_args ca = {c, &cons, &sum};
	for (int64_t i = 0; i < p; i++) {
		gort_waitgroup_add(&cons, 1);
		gort_go(consumer, &ca, sizeof ca);
	}
	struct producer_args pa = {c, &prod, per};
	for (int64_t i = 0; i < p; i++) {
		gort_waitgroup_add(&prod, 1);
		gort_go(producer, &pa, sizeof pa);
	}
	gort_waitgroup_wait(&prod);
	gort_chan_close(c);
	gort_waitgroup_wait(&cons);
	double wall = bench_since(t0);

	int64_t total = p * per;
	if (atomic_load(&sum) != p * per * (per + 1) / 2)
		bench_fail("wrong sum");

	struct report r = {.bench = "prodcons"};
	report_int(&r, "n", total);
	report_int(&r, "cap", cap);
	report_int(&r, "p", p);
	report_float(&r, "ns_per_op", bench_per_op(wall, total));
	report_float(&r, "wall_s", wall);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
