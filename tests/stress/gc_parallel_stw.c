/* The stop-the-world collector's parallel mark under mutation: the
 * workload of gc_concurrent_mutate.c (its essay says what is checked) with
 * every cycle stop-the-world (gcstoptheworld=1), marked on all Ps, and each
 * mark re-marked on one thread by gccheckmark=1, which throws if the
 * parallel mark missed anything. */
// gort-test: timeout=300 env=GODEBUG=gcstoptheworld=1,gccheckmark=1,gcstress=2000
#include "gc_concurrent_mutate.c"
