/*
 * select: the cost of Go's select statement, two ways.
 *   -mode recv      four senders on four unbuffered channels and one
 *                   receiver in a four-case blocking select: locking every
 *                   case's channel, enqueueing on all four when none is
 *                   ready, and being woken by one of them.  Timed: from
 *                   before the first sender starts to the last receive.
 *   -mode nonblock  one goroutine polling an empty channel with a default
 *                   case: the fast path that must not take a lock.
 *                   Timed: the loop.
 * Peer: shared/peers/go/cmd/select.
 */
#include "bench.h"

struct sender_args {
	gort_chan *c;
	int64_t per;
};

static void sender(void *arg)
{
	struct sender_args *a = arg;
	const int64_t one = 1;
	for (int64_t j = 0; j < a->per; j++)
		gort_chan_send(a->c, &one);
}

static void run_nonblock(int64_t n)
{
	if (n == 0)
		n = 10000000;
	gort_chan *c = gort_chan_make(sizeof(int64_t), 0);
	int64_t v, hits = 0;
	gort_case cases[1] = {{.chan = c, .dir = GORT_RECV, .elem = &v}};

	int64_t t0 = gort_nanotime();
	for (int64_t i = 0; i < n; i++)
		if (gort_select(cases, 1, false) == 0)
			hits++;
	double wall = bench_since(t0);
	if (hits != 0)
		bench_fail("received from an empty channel");

	struct report r = {.bench = "select"};
	report_string(&r, "mode", "nonblock");
	report_int(&r, "n", n);
	report_float(&r, "ns_per_op", bench_per_op(wall, n));
	report_float(&r, "wall_s", wall);
	report_print(&r);
}

static void run_recv(int64_t n)
{
	if (n == 0)
		n = 4000000;
	int64_t per = n / 4;
	gort_chan *cs[4];
	for (int k = 0; k < 4; k++)
		cs[k] = gort_chan_make(sizeof(int64_t), 0);
	int64_t v;
	gort_case cases[4];
	for (int k = 0; k < 4; k++)
		cases[k] = (gort_case){.chan = cs[k], .dir = GORT_RECV, .elem = &v};

	int64_t t0 = gort_nanotime();
	for (int k = 0; k < 4; k++) {
		struct sender_args a = {cs[k], per};
		gort_go(sender, &a, sizeof a);
	}
	int64_t got = 0;
	while (got < 4 * per) {
		gort_select(cases, 4, true);
		got += v;
	}
	double wall = bench_since(t0);

	struct report r = {.bench = "select"};
	report_string(&r, "mode", "recv");
	report_int(&r, "n", 4 * per);
	report_float(&r, "ns_per_op", bench_per_op(wall, 4 * per));
	report_float(&r, "wall_s", wall);
	report_print(&r);
}

static int bench_main(int argc, char **argv)
{
	const char *mode = "recv";
	int64_t n = 0;
	const struct flag flags[] = {
		FLAG_STRING("mode", mode, "recv or nonblock"),
		FLAG_INT("n", n, "operations (0: 4000000 for recv, 10000000 for nonblock)"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	if (strcmp(mode, "nonblock") == 0)
		run_nonblock(n);
	else if (strcmp(mode, "recv") == 0)
		run_recv(n);
	else
		bench_fail("-mode must be recv or nonblock");
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
