/*
 * skynet: a million short-lived goroutines arranged as a 10-ary tree, each
 * inner node making a channel, starting ten children and summing their
 * answers.  Unlike spawn, creation is spread over the whole tree and mixed
 * with channel hand-offs, so it shows how the scheduler copes with a burst
 * of 1,111,111 goroutines that all block and wake once — and, through
 * max_rss_kib, how much memory that burst costs.  Timed: from before the
 * root starts to the receive of its sum.  Peer: shared/peers/go/cmd/skynet.
 */
#include "bench.h"

struct skynet_args {
	gort_chan *c;
	int64_t num, size, div;
};

static void skynet(void *arg)
{
	struct skynet_args *a = arg;
	if (a->size == 1) {
		gort_chan_send(a->c, &a->num);
		return;
	}
	gort_chan *rc = gort_chan_make(sizeof(int64_t), 0);
	int64_t child = a->size / a->div;
	for (int64_t i = 0; i < a->div; i++) {
		struct skynet_args ca = {rc, a->num + i * child, child, a->div};
		gort_go(skynet, &ca, sizeof ca);
	}
	int64_t sum = 0, v;
	for (int64_t i = 0; i < a->div; i++) {
		gort_chan_recv(rc, &v);
		sum += v;
	}
	gort_chan_send(a->c, &sum);
}

static int bench_main(int argc, char **argv)
{
	int64_t size = 1000000;
	const struct flag flags[] = {
		FLAG_INT("n", size, "leaves (a power of 10)"),
	};
	flags_parse(argc, argv, flags, countof(flags));

	gort_chan *c = gort_chan_make(sizeof(int64_t), 0);
	int64_t t0 = gort_nanotime();
	struct skynet_args root = {c, 0, size, 10};
	gort_go(skynet, &root, sizeof root);
	int64_t sum;
	gort_chan_recv(c, &sum);
	double wall = bench_since(t0);
	if (sum != size * (size - 1) / 2)
		bench_fail("wrong sum");

	struct report r = {.bench = "skynet"};
	report_int(&r, "n", size);
	report_int(&r, "sum", sum);
	report_float(&r, "wall_ms", wall * 1e3);
	report_float(&r, "wall_s", wall);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
