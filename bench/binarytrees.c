/*
 * binarytrees: the Benchmarks Game's allocation-heavy tree workload in the
 * shape of its Go #2 program: one goroutine per depth, each building and
 * checking 2^(max-d+4) trees of depth d bottom-up, beside a long-lived tree.
 * Nodes are typed GC objects (two pointers).  Timed: steps 1-4 of the peer.
 * Peer: shared/peers/go/cmd/binarytrees.
 */
#include "bench.h"

struct node {
	struct node *left, *right;
};
static const gort_type node_type =
	GORT_TYPE(struct node, GORT_PTR(struct node, left) | GORT_PTR(struct node, right));

static struct node *bottom_up(int d)
{
	struct node *n = gort_new(&node_type);
	if (d > 0) {
		n->left = bottom_up(d - 1);
		n->right = bottom_up(d - 1);
	}
	return n;
}

static int64_t check(const struct node *n)
{
	if (n->left == NULL)
		return 1;
	return 1 + check(n->left) + check(n->right);
}

struct job {
	int d, max;
	int64_t result;
	gort_waitgroup *wg;
};

static void depth_worker(void *arg)
{
	struct job *j = arg;
	int64_t iters = (int64_t)1 << (j->max - j->d + 4), c = 0;
	for (int64_t i = 0; i < iters; i++)
		c += check(bottom_up(j->d));
	j->result = c;
	gort_waitgroup_done(j->wg);
}

static int bench_main(int argc, char **argv)
{
	int64_t depth = 20;
	const struct flag flags[] = {
		FLAG_INT("depth", depth, "max depth"),
	};
	flags_parse(argc, argv, flags, countof(flags));
	int max = depth < 6 ? 6 : (int)depth;
	if (max > 40)
		bench_fail("-depth too large");

	int64_t t0 = gort_nanotime();
	int64_t total = check(bottom_up(max + 1));
	struct node *long_lived = bottom_up(max);
	gort_waitgroup wg = {0};
	struct job jobs[64];
	for (int d = 4; d <= max; d += 2) {
		jobs[d] = (struct job){d, max, 0, &wg};
		gort_waitgroup_add(&wg, 1);
		gort_go(depth_worker, &jobs[d], 0);
	}
	gort_waitgroup_wait(&wg);
	for (int d = 4; d <= max; d += 2)
		total += jobs[d].result;
	total += check(long_lived);
	double wall = bench_since(t0);

	int64_t want = ((int64_t)1 << (max + 2)) - 1 + ((int64_t)1 << (max + 1)) - 1;
	for (int d = 4; d <= max; d += 2)
		want += ((int64_t)1 << (max - d + 4)) * (((int64_t)1 << (d + 1)) - 1);
	if (total != want)
		bench_fail("wrong check");
	gort_mem_stats *ms = malloc(sizeof *ms);
	gort_read_mem_stats(ms);
	uint64_t maxpause = 0;
	for (int i = 0; i < 256; i++)
		if (ms->pause_ns[i] > maxpause)
			maxpause = ms->pause_ns[i];

	struct report r = {.bench = "binarytrees"};
	report_int(&r, "depth", max);
	report_int(&r, "check", total);
	report_int(&r, "gc_count", ms->num_gc);
	report_float(&r, "pause_total_us", (double)ms->pause_total_ns / 1e3);
	report_float(&r, "max_pause_us", (double)maxpause / 1e3);
	report_float(&r, "wall_s", wall);
	report_print(&r);
	return 0;
}

int main(int argc, char **argv)
{
	return gort_main(bench_main, argc, argv);
}
