/*
 * pingpong: the latency of one goroutine handing off to another through
 * unbuffered channels — two blocking sends, two wake-ups and two context
 * switches per round trip.  With -procs 1 both goroutines share one P, so
 * it is the pure direct hand-off; with -procs 2 the partner may sit on the
 * other P and the wake-up crosses threads.  The partner starts before the
 * clock; timed: the n round trips.  Peer: shared/peers/go/cmd/pingpong.
 */
#include "bench.h"

struct partner_args {
	gort_chan *ping, *pong;
};

static void partner(void *arg)
{
	struct partner_args *a = arg;
	int64_t v;
	while (gort_chan_recv(a->ping, &v)) {
		v++;
		gort_chan_send(a->pong, &v);
	}
}

static int bench_main(int argc, char **argv)
{
	int64_t n = 1000000;
	int64_t procs = gort_gomaxprocs(0);
	const struct flag flags[] = {
		FLAG_INT("n", n, "round trips"),
		FLAG_INT("procs", procs, "GOMAXPROCS (default: the CPU count)"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	gort_gomaxprocs((int)procs);

	struct partner_args a = {
		.ping = gort_chan_make(sizeof(int64_t), 0),
		.pong = gort_chan_make(sizeof(int64_t), 0),
	};
	gort_go(partner, &a, sizeof a);

	int64_t t0 = gort_nanotime();
	int64_t v = 0;
	for (int64_t i = 0; i < n; i++) {
		gort_chan_send(a.ping, &v);
		gort_chan_recv(a.pong, &v);
	}
	double wall = bench_since(t0);
	gort_chan_close(a.ping);
	if (v != n)
		bench_fail("wrong count");

	struct report r = {.bench = "pingpong"};
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
